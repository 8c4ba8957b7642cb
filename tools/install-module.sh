#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install-module.sh [-k KVER] [--build-only] | --remove
#
# Installs vhost_shmem.ko with DKMS: copies the module sources (dkms.conf,
# Kbuild, VERSION, kmod/, uapi/) to /usr/src/vhost-shmem-<version>, then
# runs dkms add, build and install for KVER (default: the running kernel),
# and installs the udev rule to /etc/udev/rules.d/. With --build-only it
# stops after "dkms build". Re-running replaces an earlier copy of the same
# version. --remove undoes all of it, for every version: DKMS registrations,
# /usr/src/vhost-shmem-*, the udev rule, and the /usr/include/linux header
# that versions before 0.2.0 installed. The header, helper and CLI come
# with "make install" (PREFIX, DESTDIR). Run as root.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kver=$(uname -r)
build_only=
remove=
rule=/etc/udev/rules.d/60-vhost-shmem.rules

usage() {
	sed -n '4,15s/^# \{0,1\}//p' "$0"
	exit "$1"
}

die() {
	echo "install-module.sh: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case "$1" in
	-k) [ $# -ge 2 ] || usage 2; kver=$2; shift 2 ;;
	--build-only) build_only=1; shift ;;
	--remove) remove=1; shift ;;
	-h | --help) usage 0 ;;
	*) usage 2 ;;
	esac
done

pkg=$(sed -n 's/^PACKAGE_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$top/dkms.conf")
ver=$(cat "$top/VERSION")
[ "$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$top/dkms.conf")" = "$ver" ] ||
	die "dkms.conf's PACKAGE_VERSION is not $ver (VERSION)"
src=/usr/src/$pkg-$ver

[ "$(id -u)" = 0 ] || die "must run as root"
command -v dkms >/dev/null || die "dkms is not installed (apt-get install dkms)"
command -v make >/dev/null || die "make is not installed (apt-get install make)"

reload_udev() {
	if command -v udevadm >/dev/null && [ -d /run/udev ]; then
		udevadm control --reload-rules || true
		udevadm trigger --subsystem-match=misc --sysname-match=vhost-shmem || true
	fi
}

if [ -n "$remove" ]; then
	# "dkms status" lines start "vhost-shmem/<version>, ..." (or ", " on old dkms).
	for v in $(dkms status -m "$pkg" 2>/dev/null | sed -n "s|^${pkg}[/,] *\([^,:]*\).*|\1|p" | sort -u); do
		dkms remove -m "$pkg" -v "$v" --all
	done
	rm -rf "/usr/src/$pkg"-*
	rm -f "$rule"
	# Only a header no Debian package owns (linux-libc-dev does not ship it).
	old=/usr/include/linux/vhost_shmem.h
	if [ -e "$old" ] && ! dpkg -S "$old" >/dev/null 2>&1; then
		rm -f "$old"
	fi
	reload_udev
	echo "removed $pkg (every version) and its udev rule"
	exit 0
fi

[ -d "/lib/modules/$kver/build" ] || die "no headers for $kver (/lib/modules/$kver/build)"

# Drop an earlier registration of this version, then copy a fresh tree.
if [ -n "$(dkms status -m "$pkg" -v "$ver" 2>/dev/null)" ]; then
	dkms remove -m "$pkg" -v "$ver" --all
fi
rm -rf "$src"
# The same file list as the Debian package's (install.mk's DKMS_SRC).
make -s -C "$top" install-dkms-src DESTDIR= DKMSSRCDIR="$src"

dkms add -m "$pkg" -v "$ver"
dkms build -m "$pkg" -v "$ver" -k "$kver"
[ -z "$build_only" ] || exit 0
dkms install -m "$pkg" -v "$ver" -k "$kver"

install -D -m 0644 "$top/udev/60-vhost-shmem.rules" "$rule"
reload_udev
echo "installed $pkg $ver for $kver; load it with: modprobe vhost_shmem"
