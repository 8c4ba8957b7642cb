#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make-deb.sh OUT: what "make deb" runs. Copies the work tree (the files
# git knows or would add, or everything but build/ outside a git checkout)
# to OUT/src/ and runs "dpkg-buildpackage -b -us -uc" there: the packages
# (vhost-shmem-dkms, vhost-shmem-tools, vhost-shmem-dev), the .changes and
# .buildinfo land in OUT/, the build log in OUT/build.log. Nothing is
# written to the tree. Prints the .deb files made.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "$1")
src=$out/src

rm -rf "$out"
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Deleted but not yet staged files are in the index, not in the tree.
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		cpio -0 -pdm --quiet "$src")
else
	(cd "$top" && find . -path ./build -prune -o ! -type d -print0 |
		cpio -0 -pdm --quiet "$src")
fi
[ -f "$src/debian/control" ] || { echo "make-deb: no debian/ in $top" >&2; exit 1; }

echo "make-deb: dpkg-buildpackage -b -us -uc in ${src#"$top"/} (log: ${out#"$top"/}/build.log)"
if ! (cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	echo "make-deb: dpkg-buildpackage failed; see $out/build.log" >&2
	exit 1
fi
ls "$out"/*.deb
