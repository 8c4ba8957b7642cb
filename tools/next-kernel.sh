#!/bin/bash
# next-kernel.sh [--update | --cached] [--get NAME]: the next kernel, the
# one Debian experimental carries (7.3 release candidates now), for the
# next lane (make check-next) and make lint. Like tools/sid-kernel.sh, of
# which it shares the body (tools/lib/debian-kernel.sh): a minbase sid
# chroot (debootstrap) plus experimental's source, pinned so that only the
# kernel's own packages (linux-<part>-<series>*: image, binary, modules,
# base, headers, kbuild) come from it, with linux-image-<series>-amd64,
# linux-headers-<series>-amd64, the compiler those headers name (from sid),
# make and sparse, cached in
# $VHOST_SHMEM_CACHE/next/<key> (default /var/cache/vhost-shmem, or
# ~/.cache/vhost-shmem when that is not writable). <key> hashes the inputs:
# the mirror, the suites and pins, the package list and the recipe's version.
#
# Prints where things are, one NAME=value a line (shell-quoted, for eval):
#   NEXT_ROOT     the chroot
#   NEXT_RELEASE  the kernel release (uname -r), e.g. 7.3.0-rc7-amd64
#   NEXT_NAME     the lane's name, e.g. 7.3.0-rc7-next (build/logs/<name>.log)
#   NEXT_IMAGE    the kernel image, NEXT_ROOT/boot/vmlinuz-<release>
#   NEXT_MODULES  its module tree, NEXT_ROOT/lib/modules/<release>
#   NEXT_KDIR     the headers' build dir, as seen inside the chroot (KDIR of
#                 tools/build-module.sh --root NEXT_ROOT)
#   NEXT_CC       the compiler the headers use (in the chroot)
# --get NAME prints only that value (NAME without NEXT_, lower case works).
#
# Cold, it debootstraps and installs the packages (minutes; the time is kept
# in <key>/setup-time). Warm, it only reads the cache: --update runs
# apt-get update and dist-upgrade in the chroot (a newer release candidate
# of the same series). Another series is another key: NEXT_SERIES=7.4.
# --cached never creates anything: exit 1 when there is no complete cache.
# A lock keeps concurrent runs from setting up twice; an interrupted setup
# starts over.
#
# Environment: VHOST_SHMEM_CACHE, NEXT_SERIES (default 7.3), NEXT_MIRROR
# (default: the Debian archive this machine's apt sources name).
set -euo pipefail

# cache_root, cache_lock, apt_uri, apt_settings, umount_below, in_root; lane_main
# shellcheck source=tools/lib/chroot.sh
. "$(dirname "$0")/lib/chroot.sh"
# shellcheck source=tools/lib/debian-kernel.sh
. "$(dirname "$0")/lib/debian-kernel.sh"

series=${NEXT_SERIES:-7.3}
lane=next
suite=sid
# Every linux-<part>-<series>[-flavour] package: the image, its parts
# (linux-binary-, linux-modules-, linux-base-), headers and kbuild. All of
# them, so that --update can move them together to the next candidate.
extra="experimental /^linux-[a-z]+-${series//./\\.}(-.*)?\$/"
# Part of the key: bump it when the steps change what they produce.
recipe=1
pkgs=("linux-image-$series-amd64" "linux-headers-$series-amd64" make sparse)
image_pkg=linux-image-$series-amd64

lane_main "$@"
