#!/bin/bash
# install-test.sh: "make install DESTDIR=tmp" installs exactly the expected
# files; vhost-shmem.pc gives the header's directory and a program builds
# with it; each man page renders with a NAME section and its section
# number; the version agrees everywhere; "make uninstall" leaves no file
# behind. Host-side, no root needed (tools/check.sh runs it). Prints TAP.
# The checks are functions run through check(): not unreachable.
# shellcheck disable=SC2317
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
# shellcheck source=tools/tests/tap.sh
. "$(dirname "$0")/tap.sh"

# Files under the staging root, builds excluded.
files() {
	(cd "$root" && find . ! -type d | sed 's|^\./|/|' | sort)
}

expected='/usr/local/include/vhost-shmem/linux/vhost_shmem.h
/usr/local/lib/systemd/system/vhost-shmem-helper@.service
/usr/local/lib/udev/rules.d/60-vhost-shmem.rules
/usr/local/sbin/vhost-shmem
/usr/local/sbin/vhost-shmem-helper
/usr/local/share/doc/vhost-shmem/examples/modules-load.d/vhost-shmem.conf
/usr/local/share/man/man4/vhost-shmem.4
/usr/local/share/man/man8/vhost-shmem-helper.8
/usr/local/share/man/man8/vhost-shmem.8
/usr/local/share/pkgconfig/vhost-shmem.pc'

echo "TAP version 13"
echo "1..10"
mk() {
	make -s -C "$top" "$@" DESTDIR="$root" BUILD="$tmp/build"
}
check "install: make install DESTDIR=..." mk install
got=$(files)
if [ "$got" = "$expected" ]; then
	ok "install: exactly the expected files"
else
	not_ok "install: exactly the expected files" "$(diff <(echo "$expected") <(echo "$got") || true)"
fi

pcdir=$root/usr/local/share/pkgconfig
cflags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags vhost-shmem 2>&1 || true)
if [ "${cflags% }" = "-I/usr/local/include/vhost-shmem" ]; then
	ok "pkg-config: --cflags names the header's own directory"
else
	not_ok "pkg-config: --cflags names the header's own directory" "got: $cflags"
fi
printf '#include <linux/vhost_shmem.h>\nint main(void) { return VHOST_SHMEM_MAX_REGIONS != 256; }\n' >"$tmp/t.c"
# The inner shell expands pkg-config's output into separate flags.
# shellcheck disable=SC2016
check "pkg-config: a program using the installed header builds and runs" \
	sh -c 'cc -std=c11 -Wall -Werror $(PKG_CONFIG_SYSROOT_DIR="$1" \
		PKG_CONFIG_PATH="$2" pkg-config --cflags vhost-shmem) -o "$3" "$4" && "$3"' \
	sh "$root" "$pcdir" "$tmp/t" "$tmp/t.c"

# man -l renders each page; NAME comes first and the header has the section.
man_ok() {
	local page=$1 sect=$2 name=$3 out
	out=$(MANWIDTH=80 man -l "$page" 2>"$tmp/man.err") || { cat "$tmp/man.err"; return 1; }
	grep -q '^NAME' <<<"$out" || { echo "no NAME section"; echo "$out" | head; return 1; }
	grep -A1 '^NAME' <<<"$out" | grep -Eq "^ +$name +- " || { echo "NAME is not '$name - ...'"; return 1; }
	head -1 <<<"$out" | grep -q "${name^^}($sect)" || { echo "header: $(head -1 <<<"$out")"; return 1; }
}
m=$root/usr/local/share/man
check "man: vhost-shmem(4) renders with NAME" man_ok "$m/man4/vhost-shmem.4" 4 vhost-shmem
check "man: vhost-shmem(8) renders with NAME" man_ok "$m/man8/vhost-shmem.8" 8 vhost-shmem
check "man: vhost-shmem-helper(8) renders with NAME" man_ok \
	"$m/man8/vhost-shmem-helper.8" 8 vhost-shmem-helper

# One version: VERSION, dkms.conf, the module's MODULE_VERSION source and
# both programs' --version.
version_ok() {
	local v
	v=$(cat "$top/VERSION")
	grep -qx "PACKAGE_VERSION=\"$v\"" "$top/dkms.conf" || { echo "dkms.conf is not $v"; return 1; }
	grep -q '^MODULE_VERSION(VHOST_SHMEM_VERSION);' "$top/kmod/main.c" || { echo "no MODULE_VERSION"; return 1; }
	[ "$("$root/usr/local/sbin/vhost-shmem-helper" --version)" = "vhost-shmem-helper $v" ] ||
		{ echo "helper: $("$root/usr/local/sbin/vhost-shmem-helper" --version)"; return 1; }
	[ "$("$root/usr/local/sbin/vhost-shmem" --version)" = "vhost-shmem $v" ] ||
		{ echo "cli: $("$root/usr/local/sbin/vhost-shmem" --version)"; return 1; }
}
check "version: VERSION, dkms.conf, MODULE_VERSION, helper and CLI agree" version_ok

unit=$root/usr/local/lib/systemd/system/vhost-shmem-helper@.service
unit_ok() {
	local k
	grep -q '^ExecStart=/usr/local/sbin/vhost-shmem-helper ' "$unit" || { echo "ExecStart"; return 1; }
	for k in NoNewPrivileges=yes CapabilityBoundingSet= PrivateTmp=yes ProtectSystem=strict; do
		grep -qx "$k" "$unit" || { echo "missing $k"; return 1; }
	done
}
check "systemd: the unit runs the installed helper, hardened" unit_ok

mk uninstall >/dev/null 2>&1 || true
got=$(files)
if [ -z "$got" ]; then
	ok "uninstall: no file left"
else
	not_ok "uninstall: no file left" "$got"
fi
exit "$rc"
