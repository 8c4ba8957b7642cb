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

# cache_root, apt_uri, umount_below, in_root
# shellcheck source=tools/lib/chroot.sh
. "$(dirname "$0")/lib/chroot.sh"

suite=sid
# Part of the key: bump it when the steps below change what they produce.
recipe=1
pkgs=(linux-image-amd64 linux-headers-amd64 make sparse)
# The modules the VM loads (tools/vm-run.sh) must be in the image's tree.
vm_modules=(kvm kvm_amd loop ext4 overlay vgem)

die() {
	echo "sid-kernel: $*" >&2
	exit 1
}

# The Debian archive this machine installs from: the first URI of a source
# for the host's own codename.
mirror() {
	local codename uri
	if [ -n "${SID_MIRROR:-}" ]; then
		echo "${SID_MIRROR%/}"
		return 0
	fi
	# shellcheck source=/dev/null
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release; set SID_MIRROR"
	uri=$(apt_uri "$codename") || die "no apt source for $codename found; set SID_MIRROR"
	echo "$uri"
}

key() {
	{
		echo "recipe $recipe"
		echo "suite $suite"
		echo "mirror $1"
		echo "packages ${pkgs[*]}"
	} | sha256sum | cut -c1-16
}

# The chroot's apt and dpkg settings, written before any package is added.
configure_root() {
	local root=$1 mirror=$2
	# A snapshot mirror's sid Release file is past its Valid-Until.
	cat >"$root/etc/apt/apt.conf.d/90vhost-shmem" <<-EOF
		Acquire::Check-Valid-Until "false";
		Acquire::Languages "none";
		APT::Install-Recommends "false";
		APT::Install-Suggests "false";
		APT::Get::Assume-Yes "true";
		Dpkg::Options { "--force-confdef"; "--force-confold"; };
	EOF
	printf 'deb %s %s main\n' "$mirror" "$suite" >"$root/etc/apt/sources.list"
	# No documentation, no service starts, no initramfs: the VM boots the
	# image with the runner's own busybox initramfs.
	cat >"$root/etc/dpkg/dpkg.cfg.d/90vhost-shmem" <<-EOF
		path-exclude=/usr/share/doc/*
		path-exclude=/usr/share/man/*
		path-exclude=/usr/share/info/*
		path-exclude=/usr/share/locale/*
	EOF
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	# linux-image wants an initramfs generator (dracut | initramfs-tools |
	# linux-initramfs-tool): an empty package provides the last one.
	mkdir -p "$root/tmp/no-initramfs/DEBIAN"
	cat >"$root/tmp/no-initramfs/DEBIAN/control" <<-EOF
		Package: vhost-shmem-no-initramfs
		Version: 1
		Architecture: all
		Provides: linux-initramfs-tool
		Maintainer: vhost-shmem <root@localhost>
		Description: no initramfs for the vhost-shmem sid chroot
	EOF
	in_root "$root" dpkg-deb -b /tmp/no-initramfs /tmp/no-initramfs.deb >/dev/null
	in_root "$root" dpkg -i /tmp/no-initramfs.deb >/dev/null
	rm -rf "$root/tmp/no-initramfs" "$root/tmp/no-initramfs.deb"
}

# Debian's linux-kbuild packages lack scripts/checker-valid.sh, which the
# kernel Makefile (6.15+) runs for C=1/C=2: without it sparse is silently
# off ("sparse is not available or not up to date"). This one does what
# the kernel's does: 1 when $CHECK parses __typeof_unqual__ without error.
fix_kbuild() {
	local root=$1 d
	for d in "$root"/usr/lib/linux-kbuild-*/scripts; do
		if [ ! -d "$d" ] || [ -e "$d/checker-valid.sh" ]; then continue; fi
		cat >"$d/checker-valid.sh" <<-'EOF'
			#!/bin/sh
			# Added by vhost-shmem's tools/sid-kernel.sh (missing from the package).
			command -v "$1" >/dev/null 2>&1 || { echo 0; exit 0; }
			t=$(mktemp --suffix=.c) || exit 1
			printf 'static inline int u(const int *q)\n{\n\t__typeof_unqual__(*q) v = *q;\n\treturn v;\n}\n' >"$t"
			"$@" "$t" 2>&1 | awk 'BEGIN { c = 1 } /error/ { c = 0 } END { print c }'
			rm -f "$t"
		EOF
		chmod 755 "$d/checker-valid.sh"
	done
}

install_packages() {
	local root=$1
	in_root "$root" apt-get -q update
	in_root "$root" apt-get -q install "${pkgs[@]}"
	in_root "$root" apt-get -q dist-upgrade
	in_root "$root" apt-get -q autoremove --purge
	in_root "$root" apt-get -q clean
}

# The release linux-image-amd64 points to: the newest kernel.
release_of() {
	# shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
	in_root "$1" dpkg-query -W -f='${Depends}' linux-image-amd64 |
		sed 's/[,|]/\n/g' | sed -n 's/^ *linux-image-\([^ ]*\).*/\1/p' | head -n1
}

# Checks what the lane needs and writes <dir>/env, the printed values.
describe() {
	local dir=$1 root=$1/root rel kdir cc m name
	rel=$(release_of "$root")
	[ -n "$rel" ] || die "linux-image-amd64 names no kernel in $root"
	[ -f "$root/boot/vmlinuz-$rel" ] || die "no $root/boot/vmlinuz-$rel"
	[ -f "$root/lib/modules/$rel/modules.dep" ] || die "no modules.dep for $rel"
	for m in "${vm_modules[@]}"; do
		modprobe -d "$root" -S "$rel" --show-depends "$m" >/dev/null 2>&1 ||
			die "module $m is missing from $root/lib/modules/$rel"
	done
	kdir=/usr/src/linux-headers-$rel
	[ -f "$root$kdir/Module.symvers" ] || die "no headers build dir $root$kdir"
	# The compiler the kernel was built with, which Debian's headers use
	# (CC in their .kernelvariables): x86_64-linux-gnu-gcc-N.
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$root$kdir/.config")
	[ -n "$cc" ] || die "no CONFIG_CC_VERSION_TEXT in $root$kdir/.config"
	in_root "$root" sh -c "command -v $cc" >/dev/null || die "$cc (the headers' compiler) is not in $root"
	in_root "$root" sh -c 'command -v sparse' >/dev/null || die "no sparse in $root"
	name=${rel%-amd64}
	name=${name%%+*}-sid
	{
		printf 'SID_ROOT=%q\n' "$root"
		printf 'SID_RELEASE=%q\n' "$rel"
		printf 'SID_NAME=%q\n' "$name"
		printf 'SID_IMAGE=%q\n' "$root/boot/vmlinuz-$rel"
		printf 'SID_MODULES=%q\n' "$root/lib/modules/$rel"
		printf 'SID_KDIR=%q\n' "$kdir"
		printf 'SID_CC=%q\n' "$cc"
	} >"$dir/env.tmp"
	mv "$dir/env.tmp" "$dir/env"
}

setup() {
	local dir=$1 mirror=$2 root=$1/root t0
	t0=$(date +%s)
	command -v debootstrap >/dev/null || die "no debootstrap (tools/install-deps.sh installs it)"
	if [ -d "$root" ]; then
		umount_below "$root" || die "something stays mounted below $root"
		rm -rf --one-file-system "$root"
	fi
	rm -f "$dir/ok" "$dir/env"
	mkdir -p "$dir"
	echo "sid-kernel: debootstrap $suite from $mirror into $root (log in $dir/setup.log)" >&2
	if ! unshare --mount --propagation private \
		debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$dir/setup.log" 2>&1; then
		umount_below "$root" || true
		tail -n 20 "$dir/setup.log" >&2
		die "debootstrap failed; see $dir/setup.log"
	fi
	umount_below "$root" || die "something stays mounted below $root"
	configure_root "$root" "$mirror"
	echo "sid-kernel: installing ${pkgs[*]}" >&2
	if ! install_packages "$root" >>"$dir/setup.log" 2>&1; then
		tail -n 20 "$dir/setup.log" >&2
		die "installing packages failed; see $dir/setup.log"
	fi
	fix_kbuild "$root"
	describe "$dir"
	echo $(($(date +%s) - t0)) >"$dir/setup-time"
	# Written last: only a complete entry is used as is.
	touch "$dir/ok"
	echo "sid-kernel: set up in $(cat "$dir/setup-time")s" >&2
}

update() {
	local dir=$1 root=$1/root old
	old=$(sed -n 's/^SID_RELEASE=//p' "$dir/env")
	echo "sid-kernel: updating $root" >&2
	if ! install_packages "$root" >>"$dir/setup.log" 2>&1; then
		tail -n 20 "$dir/setup.log" >&2
		die "updating failed; see $dir/setup.log"
	fi
	fix_kbuild "$root"
	describe "$dir"
	echo "sid-kernel: kernel $old -> $(sed -n 's/^SID_RELEASE=//p' "$dir/env")" >&2
}

main() {
	local mode=ensure get='' m dir top
	while [ $# -gt 0 ]; do
		case "$1" in
		--update) mode=update; shift ;;
		--cached) mode=cached; shift ;;
		--get) get=$2; shift 2 ;;
		*) die "usage: $0 [--update | --cached] [--get NAME]" ;;
		esac
	done
	m=$(mirror)
	top=$(cache_root)/sid
	dir=$top/$(key "$m")
	if [ "$mode" = cached ]; then
		[ -f "$dir/ok" ] || exit 1
	elif [ "$mode" = update ] || [ ! -f "$dir/ok" ]; then
		[ "$(id -u)" = 0 ] || die "setting up the sid chroot needs root"
		mkdir -p "$top"
		exec 9>"$top/.lock"
		if ! flock -n 9; then
			echo "sid-kernel: waiting for the run holding $top/.lock" >&2
			flock 9
		fi
		# The other run may have set it up meanwhile.
		if [ ! -f "$dir/ok" ]; then
			setup "$dir" "$m"
		elif [ "$mode" = update ]; then
			update "$dir"
		fi
		exec 9>&-
	else
		# Warm: wait for an --update in progress, if any.
		flock -s "$top/.lock" true 2>/dev/null || true
	fi
	if [ -n "$get" ]; then
		get=$(echo "${get#SID_}" | tr '[:lower:]' '[:upper:]')
		sed -n "s/^SID_$get=//p" "$dir/env" | grep . || die "unknown name $get"
	else
		cat "$dir/env"
	fi
}

main "$@"
