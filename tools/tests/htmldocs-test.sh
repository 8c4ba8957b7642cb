#!/bin/bash
# htmldocs-test.sh: "make htmldocs" builds Documentation/ warning-free; the
# uapi structs and enums the pages pull in with ".. kernel-doc::" really
# are in the HTML (anchor and the header's own member text) and in the man
# page tools/rst2man.py makes; and the build fails, naming the cause, on a
# broken kernel-doc comment, a kernel-doc directive naming an undocumented
# identifier and a broken RST reference (mutations of a copy of the tree,
# so every run proves the build would catch them). Host-side, no root
# needed once tools/htmldocs.sh has its kernel-doc cache (make check
# installs linux-source-6.12). Prints TAP; tools/check.sh runs it.
# The checks are functions run through check(): not unreachable.
# shellcheck disable=SC2317
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
rst=Documentation/userspace-api/vhost-shmem.rst
hdr=uapi/linux/vhost_shmem.h
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tools/tests/tap.sh
. "$(dirname "$0")/tap.sh"

# The identifiers the page pulls in: every word of its :identifiers:.
idents() {
	awk '/^\.\. kernel-doc::/ { on = 1; next }
	     on && /^   :identifiers:/ { sub(/^   :identifiers:/, ""); print; next }
	     on && /^             *[a-z_]/ { print; next }
	     { on = 0 }' "$top/$rst" | tr -s ' \t' '\n' | sed '/^$/d'
}

# The first description in @ident's kernel-doc comment that is plain
# words (no markup kernel-doc or Sphinx would change), 20 characters of it.
member_text() {
	awk -v id="$1" '
	$0 ~ "^ \\* (struct|union|enum) " id " - " { on = 1; next }
	on && /^ \*\// { exit }
	on && /^ \* @[A-Za-z_]+: / {
		sub(/^ \* @[A-Za-z_]+: /, "")
		if (match($0, /^[A-Za-z0-9 ,;.:()-]+/) && RLENGTH >= 20) {
			print substr($0, 1, 20)
			exit
		}
	}' "$top/$hdr"
}

echo "TAP version 13"
echo "1..7"

ids=$(idents)
log=$tmp/build.log
html=$tmp/html
build_ok() {
	"$top/tools/htmldocs.sh" --out "$html" >"$log" 2>&1 || { cat "$log"; return 1; }
	! grep -E 'WARNING|ERROR|warning:' "$log" || return 1
}
check "htmldocs: Documentation/ builds without a warning" build_ok

# Sphinx's C domain gives each struct, union and enum an anchor c.NAME.
structs_ok() {
	local page=$html/userspace-api/vhost-shmem.html text id t
	[ -n "$ids" ] || { echo "no kernel-doc directive in $rst"; return 1; }
	[ -f "$page" ] || { echo "no $page"; return 1; }
	text=$(sed -e 's/<[^>]*>//g' "$page" | tr -s ' \n\t' ' ')
	for id in $ids; do
		grep -q "id=\"c\.$id\"" "$page" || { echo "no anchor c.$id"; return 1; }
		t=$(member_text "$id")
		[ -n "$t" ] || { echo "$id: no plain member description in $hdr"; return 1; }
		grep -qF "$t" <<<"$text" || { echo "$id: \"$t\" (from $hdr) not in the HTML"; return 1; }
	done
}
check "htmldocs: every struct and enum of the kernel-doc directives is in the HTML, with the header's text" structs_ok

man_ok() {
	local id
	"$top/tools/rst2man.py" --halt=warning "$top/$rst" "$tmp/vhost-shmem.4" || return 1
	for id in $ids; do
		grep -Eq "^(struct|union|enum) $id \\\\?\\{" "$tmp/vhost-shmem.4" ||
			{ echo "man page: no definition of $id"; return 1; }
	done
}
check "man: vhost-shmem(4) has the definition of every struct and enum the page pulls in" man_ok

# mutant NAME SED-SCRIPT FILE PATTERN: a copy of the tree with FILE edited
# by SED-SCRIPT must fail to build, with PATTERN in the build's output.
mutant() {
	local name=$1 script=$2 file=$3 pattern=$4 src=$tmp/src-$n
	mkdir -p "$src"
	cp -r "$top/Documentation" "$top/uapi" "$top/VERSION" "$src/"
	sed -i "$script" "$src/$file"
	if cmp -s "$top/$file" "$src/$file"; then
		not_ok "$name" "the mutation did not change $file"
		return
	fi
	if "$top/tools/htmldocs.sh" --src "$src" --out "$src/html" >"$src/log" 2>&1; then
		not_ok "$name" "the build passed: $(tail -3 "$src/log")"
	elif ! grep -q -- "$pattern" "$src/log"; then
		not_ok "$name" "failed without \"$pattern\": $(tail -5 "$src/log")"
	else
		ok "$name"
	fi
}
mutant "mutation: a struct member without kernel-doc fails the build" \
	'/^ \* @len: in: length in bytes, page aligned/d' "$hdr" \
	"struct member 'len' not described in 'vhost_shmem_map'"
mutant "mutation: an enum value without kernel-doc fails the build" \
	'/^ \* @VHOST_SHMEM_CMD_MAP_NTF:/d' "$hdr" \
	"Enum value 'VHOST_SHMEM_CMD_MAP_NTF' not described"
mutant "mutation: a kernel-doc directive naming an undocumented identifier fails the build" \
	's/:identifiers: vhost_shmem_region_info$/:identifiers: vhost_shmem_region_inf/' "$rst" \
	"'vhost_shmem_region_inf' not found"
# shellcheck disable=SC2016 # RST backquotes, not shell
mutant "mutation: a broken RST reference fails the build" \
	's/(see `Holes`_)/(see `Holez`_)/' "$rst" \
	'Unknown target name: "holez"'
exit "$rc"
