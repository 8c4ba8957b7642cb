#!/bin/bash
# make lint: checkpatch.pl --strict and kernel-doc -Wall on kmod/ and uapi/,
# and the module built with sparse (C=2) and W=1 against every supported
# kernel, and against Debian sid's and experimental's when
# tools/sid-kernel.sh and tools/next-kernel.sh have set them up.
# Fails on findings.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cp_dir="$top/build/checkpatch"

# checkpatch.pl and its data files come from Debian's linux-source-6.1.
if [ ! -x "$cp_dir/scripts/checkpatch.pl" ]; then
	mkdir -p "$cp_dir"
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$cp_dir" --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi

rc=0
echo "lint: checkpatch --strict"
cp() {
	"$cp_dir/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG "$@" |
		grep -v ' total: 0 errors, 0 warnings, 0 checks' || true
}
# compat.h is the one place allowed to test kernel versions.
out=$(cp -f $(find "$top/kmod" -name "*.[ch]" ! -name compat.h) "$top"/uapi/linux/*.h
	cp --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f "$top"/kmod/compat.h)
if [ -n "$out" ]; then
	echo "$out"
	rc=1
fi

# The kernel-doc of Debian's linux-source-6.12 (cached by tools/htmldocs.sh).
echo "lint: kernel-doc -none -Wall"
if kd=$("$top/tools/htmldocs.sh" --kernel-doc); then
	out=$("$kd/kernel-doc" -none -Wall "$top"/kmod/*.[ch] "$top"/uapi/linux/*.h 2>&1 |
		sed "s|^$top/||" || true)
else
	out="lint: no kernel-doc (tools/htmldocs.sh --kernel-doc)"
fi
if [ -n "$out" ]; then
	echo "$out"
	rc=1
fi

for k in $("$top/tools/kernels.sh"); do
	echo "lint: W=1 + sparse against $k"
	out=$(C=2 "$top/tools/build-module.sh" "/lib/modules/$k/build" \
		"$top/build/lint" 2>&1 | grep -v -e '^module:' -e 'Skipping BTF' || true)
	if [ -n "$out" ]; then
		echo "$out"
		rc=1
	fi
done

# Debian sid's kernel and experimental's next one, each built in its chroot
# with its compiler, when tools/sid-kernel.sh or tools/next-kernel.sh has
# set it up (make check-sid, make check-next do).
# chroot_lint LANE DESCRIPTION
chroot_lint() {
	local lane=$1 what=$2 env
	if ! env=$("$top/tools/$lane-kernel.sh" --cached); then
		echo "lint: no $what set up, not built against it (tools/$lane-kernel.sh)"
		return 0
	fi
	# SID_ROOT, NEXT_ROOT, ...: LANE_ROOT
	eval "$(printf '%s\n' "$env" | sed 's/^[A-Z]*_/LANE_/')"
	echo "lint: W=1 + sparse against $LANE_RELEASE ($what, $LANE_CC)"
	out=$(C=2 "$top/tools/build-module.sh" --root "$LANE_ROOT" "$LANE_KDIR" \
		"$top/build/lint" 2>&1 | grep -v -e '^module:' -e 'Skipping BTF' || true)
	if [ -n "$out" ]; then
		echo "$out"
		rc=1
	fi
}
chroot_lint sid "Debian sid's kernel"
chroot_lint next "Debian experimental's kernel"
[ $rc = 0 ] && echo "lint: clean"
exit $rc
