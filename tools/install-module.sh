#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install-module.sh [-k KVER] [--build-only]
#
# Installs vhost_shmem.ko with DKMS: copies the module sources (dkms.conf,
# Kbuild, kmod/, uapi/) to /usr/src/vhost-shmem-<version>, then runs
# dkms add, build and install for KVER (default: the running kernel).
# Also installs the udev rule to /etc/udev/rules.d/ and the uapi header to
# /usr/include/linux/. With --build-only it stops after "dkms build".
# Re-running replaces an earlier copy of the same version. Run as root.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kver=$(uname -r)
build_only=

usage() {
	sed -n '4,11s/^# \{0,1\}//p' "$0"
	exit "$1"
}

while [ $# -gt 0 ]; do
	case "$1" in
	-k) [ $# -ge 2 ] || usage 2; kver=$2; shift 2 ;;
	--build-only) build_only=1; shift ;;
	-h | --help) usage 0 ;;
	*) usage 2 ;;
	esac
done

pkg=$(sed -n 's/^PACKAGE_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$top/dkms.conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$top/dkms.conf")
src=/usr/src/$pkg-$ver

[ "$(id -u)" = 0 ] || { echo "install-module.sh: must run as root" >&2; exit 1; }
command -v dkms >/dev/null || { echo "install-module.sh: dkms is not installed (apt-get install dkms)" >&2; exit 1; }
[ -d "/lib/modules/$kver/build" ] ||
	{ echo "install-module.sh: no headers for $kver (/lib/modules/$kver/build)" >&2; exit 1; }

# Drop an earlier registration of this version, then copy a fresh tree.
if [ -n "$(dkms status -m "$pkg" -v "$ver" 2>/dev/null)" ]; then
	dkms remove -m "$pkg" -v "$ver" --all
fi
rm -rf "$src"
install -D -m 0644 -t "$src" "$top/dkms.conf" "$top/Kbuild"
install -D -m 0644 -t "$src/kmod" "$top"/kmod/*.[ch]
install -D -m 0644 -t "$src/uapi/linux" "$top/uapi/linux/vhost_shmem.h"

dkms add -m "$pkg" -v "$ver"
dkms build -m "$pkg" -v "$ver" -k "$kver"
[ -z "$build_only" ] || exit 0
dkms install -m "$pkg" -v "$ver" -k "$kver"

install -D -m 0644 "$top/udev/60-vhost-shmem.rules" /etc/udev/rules.d/60-vhost-shmem.rules
install -D -m 0644 "$top/uapi/linux/vhost_shmem.h" /usr/include/linux/vhost_shmem.h
if command -v udevadm >/dev/null && [ -d /run/udev ]; then
	udevadm control --reload-rules || true
	udevadm trigger --subsystem-match=misc --sysname-match=vhost-shmem || true
fi
echo "installed $pkg $ver for $kver; load it with: modprobe vhost_shmem"
