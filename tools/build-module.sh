#!/bin/bash
# build-module.sh [--root ROOT] KDIR BUILD: builds vhost_shmem.ko for the
# kernel tree KDIR in BUILD/<kernel release>/, warning-free with W=1
# (warnings are errors). With --root, KDIR is a path inside the chroot ROOT
# (tools/sid-kernel.sh) and the build runs there, with its compiler, in a
# copy of the sources under ROOT/var/tmp/vhost-shmem/; the module is then
# copied to BUILD/<kernel release>/.
set -euo pipefail
root=
if [ "${1:-}" = --root ]; then
	root=$(realpath "$2")
	shift 2
	kdir=$1
else
	kdir=$(realpath "$1")
fi
build=$(realpath -m "$2")
top=$(cd "$(dirname "$0")/.." && pwd)
# Debian headers dirs are named after the release: linux-headers-<release>.
krel=$(basename "$kdir")
krel=${krel#linux-headers-}
out="$build/$krel"
# Where make runs: the output dir, or its own copy inside the chroot.
tree=$out
[ -z "$root" ] || tree=$root/var/tmp/vhost-shmem/$(printf %s "$out" | sha256sum | cut -c1-16)

mkdir -p "$out" "$tree/kmod" "$tree/uapi/linux"
cp -u "$top/Kbuild" "$tree/"
cp -u "$top/VERSION" "$tree/"
cp -u "$top"/kmod/*.[ch] "$tree/kmod/"
cp -u "$top/uapi/linux/vhost_shmem.h" "$tree/uapi/linux/"
# Drop copies of files that were removed from kmod/.
for f in "$tree"/kmod/*.[ch]; do
	[ -e "$top/kmod/${f##*/}" ] || rm -f "$f"
done

if [ -z "$root" ]; then
	make -s -C "$kdir" M="$out" W=1 KCFLAGS=-Werror ${C:+C=$C} modules
else
	# objtool reads /proc: a private mount namespace gets its own, which
	# goes away with the build, whatever ends it.
	unshare --mount --propagation private --pid --fork --mount-proc="$root/proc" \
		chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LC_ALL=C \
		make -s -C "$kdir" M="${tree#"$root"}" W=1 KCFLAGS=-Werror \
		${C:+C=$C} modules
	cp "$tree/vhost_shmem.ko" "$out/"
fi
echo "module: $out/vhost_shmem.ko"
