#!/bin/bash
# build-module.sh KDIR BUILD: builds vhost_shmem.ko for the kernel tree KDIR
# in BUILD/<kernel release>/, warning-free with W=1 (warnings are errors).
set -euo pipefail
kdir=$(realpath "$1")
build=$(realpath -m "$2")
top=$(cd "$(dirname "$0")/.." && pwd)
# Debian headers dirs are named after the release: linux-headers-<release>.
krel=$(basename "$kdir")
krel=${krel#linux-headers-}
out="$build/$krel"

mkdir -p "$out/kmod" "$out/uapi/linux"
cp -u "$top/Kbuild" "$out/"
cp -u "$top/VERSION" "$out/"
cp -u "$top"/kmod/*.[ch] "$out/kmod/"
cp -u "$top/uapi/linux/vhost_shmem.h" "$out/uapi/linux/"
# Drop copies of files that were removed from kmod/.
for f in "$out"/kmod/*.[ch]; do
	[ -e "$top/kmod/${f##*/}" ] || rm -f "$f"
done

make -s -C "$kdir" M="$out" W=1 KCFLAGS=-Werror ${C:+C=$C} modules
echo "module: $out/vhost_shmem.ko"
