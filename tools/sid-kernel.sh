#!/bin/bash
# sid-kernel.sh [--update | --cached] [--get NAME]: Debian sid's current
# kernel for the sid lane (make check-sid) and make lint. A minbase sid
# chroot (debootstrap) with linux-image-amd64, linux-headers-amd64, the
# compiler those headers name, make and sparse, cached outside the clone in
# $VHOST_SHMEM_CACHE/sid/<key> (default /var/cache/vhost-shmem, or
# ~/.cache/vhost-shmem when that is not writable). <key> hashes the inputs:
# the mirror, the suite, the package list and this recipe's version.
#
# Prints where things are, one NAME=value a line (shell-quoted, for eval):
#   SID_ROOT     the chroot
#   SID_RELEASE  the kernel release (uname -r), e.g. 7.2.3+deb14-amd64
#   SID_NAME     the lane's name, e.g. 7.2.3-sid (build/logs/<name>.log)
#   SID_IMAGE    the kernel image, SID_ROOT/boot/vmlinuz-<release>
#   SID_MODULES  its module tree, SID_ROOT/lib/modules/<release>
#   SID_KDIR     the headers' build dir, as seen inside the chroot (KDIR of
#                tools/build-module.sh --root SID_ROOT)
#   SID_CC       the compiler the headers use (in the chroot)
# --get NAME prints only that value (NAME without SID_, lower case works).
#
# Cold, it debootstraps and installs the packages (minutes; the time is kept
# in <key>/setup-time). Warm, it only reads the cache: sid is not followed
# until --update (apt-get update and dist-upgrade in the chroot, then the
# newest kernel). --cached never creates anything: exit 1 when there is no
# complete cache. A lock keeps concurrent runs from setting up twice; an
# interrupted setup starts over.
#
# Environment: VHOST_SHMEM_CACHE, SID_MIRROR (default: the Debian archive
# this machine's apt sources name).
set -euo pipefail

# cache_root, cache_lock, apt_uri, apt_settings, umount_below, in_root; lane_main
# shellcheck source=tools/lib/chroot.sh
. "$(dirname "$0")/lib/chroot.sh"
# shellcheck source=tools/lib/debian-kernel.sh
. "$(dirname "$0")/lib/debian-kernel.sh"

lane=sid
suite=sid
# Part of the key: bump it when the steps change what they produce.
recipe=1
pkgs=(linux-image-amd64 linux-headers-amd64 make sparse)
image_pkg=linux-image-amd64

lane_main "$@"
