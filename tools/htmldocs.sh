#!/bin/bash
# htmldocs.sh: what "make htmldocs" runs. Builds Documentation/ as HTML
# into build/htmldocs with Debian's Sphinx (python3-sphinx, the alabaster
# theme) and fails on any warning: sphinx-build -W -n (broken references
# included), and every warning of kernel-doc (KDOC_WERROR=1), which the
# ".. kernel-doc::" directives run on uapi/linux/vhost_shmem.h.
#
# The directive is the kernel's own Sphinx extension: kerneldoc.py and
# kernellog.py from Documentation/sphinx/ and scripts/kernel-doc of
# Debian's linux-source-6.12, extracted once into
# <cache>/kernel-doc/<package version>/ (tools/lib/cache.sh), outside the
# clone, so a new source package gets a new directory.
#
#   tools/htmldocs.sh [--src TOP] [--out DIR]   build (default: this tree,
#                                               DIR build/htmldocs)
#   tools/htmldocs.sh --kernel-doc              print the kernel-doc
#                                               directory (extracting it)
# The build always starts afresh (-E): warnings of unchanged pages must
# show again. SPHINXBUILD: the sphinx-build to run (/usr/bin/sphinx-build).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# cache_root
# shellcheck source=tools/lib/cache.sh
. "$top/tools/lib/cache.sh"
src=$top
out=
print_dir=
pkg=linux-source-6.12
tarball=/usr/src/$pkg.tar.xz
files=(Documentation/sphinx/kerneldoc.py Documentation/sphinx/kernellog.py
	scripts/kernel-doc)

die() {
	echo "htmldocs: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case "$1" in
	--src) src=$(cd "$2" && pwd); shift 2 ;;
	--out) out=$2; shift 2 ;;
	--kernel-doc) print_dir=1; shift ;;
	*) die "unknown argument \"$1\" (see the top of $0)" ;;
	esac
done
[ -n "$out" ] || out=$src/build/htmldocs

# The extracted files, once per source package version.
kernel_doc_dir() {
	local v dir tmp f
	v=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) ||
		die "$pkg is not installed (tools/install-deps.sh --check $pkg)"
	dir=$(cache_root)/kernel-doc/$(tr '~:' '__' <<<"$v")
	if [ ! -x "$dir/kernel-doc" ]; then
		mkdir -p "$(dirname "$dir")"
		tmp=$(mktemp -d "$dir.tmp.XXXXXX")
		# shellcheck disable=SC2064 # expand $tmp now
		trap "rm -rf '$tmp'" EXIT
		tar -xJf "$tarball" -C "$tmp" --strip-components=1 \
			"${files[@]/#/$pkg/}" || die "could not extract kernel-doc from $tarball"
		for f in "${files[@]}"; do
			mv "$tmp/$f" "$tmp/"
		done
		rm -rf "$tmp/Documentation" "$tmp/scripts"
		# Another run may have won the race: its copy is as good.
		mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
		trap - EXIT
	fi
	echo "$dir"
}

if [ -n "$print_dir" ]; then
	"$top/tools/install-deps.sh" --check "$pkg" xz-utils
	kernel_doc_dir
	exit 0
fi
"$top/tools/install-deps.sh" --check python3-sphinx "$pkg" xz-utils
kd=$(kernel_doc_dir)

# Paths as the user gave them, relative to the tree when inside it.
rel() {
	case "$1" in
	"$top") echo . ;;
	"$top"/*) echo "${1#"$top"/}" ;;
	*) echo "$1" ;;
	esac
}

echo "htmldocs: sphinx-build of $(rel "$src")/Documentation into $(rel "$out")"
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s%N)
VHOST_SHMEM_KERNELDOC=$kd KDOC_WERROR=1 "${SPHINXBUILD:-/usr/bin/sphinx-build}" \
	-b html -E -W --keep-going -n -q -d "$out/.doctrees" \
	"$src/Documentation" "$out" || die "the build has warnings (above); nothing is published"
ms=$((($(date +%s%N) - start) / 1000000))
printf 'htmldocs: warning-free in %d.%03d s: %s/index.html\n' $((ms / 1000)) $((ms % 1000)) \
	"$(rel "$out")"
