# shellcheck shell=bash
# shellcheck disable=SC2154 # lane, suite, recipe, pkgs, image_pkg: the script sets them
# debian-kernel.sh: a kernel lane from Debian's archive, the body of
# tools/sid-kernel.sh (sid's current kernel) and tools/next-kernel.sh
# (experimental's, on sid). A minbase chroot (debootstrap) with a kernel
# image, its headers, the compiler they name, make and sparse, cached in
# $(cache_root)/<lane>/<key>, described by <LANE>_* lines (see
# tools/sid-kernel.sh). Sourced after tools/lib/chroot.sh; the script
# sets, then calls lane_main "$@":
#   lane       the lane's name: messages, the cache's directory, the
#              prefix of the printed names (upper case) and of the
#              kernel's name (<version>-<lane>), <LANE>_MIRROR
#   suite      the suite debootstrap installs
#   recipe     part of the key: bumped when the steps change what they make
#   pkgs       the packages installed (array)
#   image_pkg  the package naming the kernel: a metapackage depending on
#              linux-image-<release>, or that image package itself
#   extra      optional: "SUITE PATTERN...", one more suite of the same
#              archive from which only the packages PATTERN matches come
#              (apt_preferences(5) names, globs or /regex/)
# Defines functions only, and the variables above are the script's.

# vm_modules: the modules the VM loads (tools/vm-run.sh) must be in the
# image's tree.
vm_modules=(kvm kvm_amd loop ext4 overlay vgem fuse)

die() {
	echo "$lane-kernel: $*" >&2
	exit 1
}

# The Debian archive this machine installs from: the first URI of a source
# for the host's own codename.
mirror() {
	local codename uri var
	var=$(echo "$lane" | tr '[:lower:]' '[:upper:]')_MIRROR
	if [ -n "${!var:-}" ]; then
		echo "${!var%/}"
		return 0
	fi
	# shellcheck source=/dev/null
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release; set $var"
	uri=$(apt_uri "$codename") || die "no apt source for $codename found; set $var"
	echo "$uri"
}

key() {
	{
		echo "recipe $recipe"
		echo "suite $suite"
		echo "mirror $1"
		echo "packages ${pkgs[*]}"
		[ -z "${extra:-}" ] || echo "extra $extra"
	} | sha256sum | cut -c1-16
}

# The extra suite's source and its pins: every package of it at priority
# 1 (never installed unless asked for), the named ones at 990 (over the
# base suite's 500, also when they are older there).
configure_extra() {
	local root=$1 mirror=$2 esuite names
	[ -n "${extra:-}" ] || return 0
	read -r esuite names <<<"$extra"
	printf 'deb %s %s main\n' "$mirror" "$esuite" >>"$root/etc/apt/sources.list"
	cat >"$root/etc/apt/preferences.d/90vhost-shmem" <<-EOF
		Package: *
		Pin: release a=$esuite
		Pin-Priority: 1

		Package: $names
		Pin: release a=$esuite
		Pin-Priority: 990
	EOF
}

# The chroot's apt and dpkg settings, written before any package is added.
configure_root() {
	local root=$1 mirror=$2
	# A snapshot mirror's sid Release file is past its Valid-Until.
	apt_settings "$root" 'Acquire::Check-Valid-Until "false";'
	printf 'deb %s %s main\n' "$mirror" "$suite" >"$root/etc/apt/sources.list"
	configure_extra "$root" "$mirror"
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
		Description: no initramfs for the vhost-shmem $lane chroot
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
			# Added by vhost-shmem's tools/lib/debian-kernel.sh (missing from the package).
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

# The release image_pkg stands for: the linux-image-<release> a
# metapackage depends on first (the newest kernel), else the release of
# the vmlinuz that the image package or one of the linux-* packages it
# depends on holds: /boot/vmlinuz-<release>, or since 7.3
# /usr/lib/modules/<release>/vmlinuz (in linux-binary-7.3-amd64; a hook
# links it into /boot).
release_of() {
	local root=$1 deps rel p
	# shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
	deps=$(in_root "$root" dpkg-query -W -f='${Depends}' "$image_pkg" | sed 's/[,|]/\n/g')
	rel=$(echo "$deps" | sed -n 's/^ *linux-image-\([^ ]*\).*/\1/p' | head -n1)
	[ -z "$rel" ] || { echo "$rel"; return 0; }
	for p in "$image_pkg" $(echo "$deps" | sed -n 's/^ *\(linux-[^ ]*\).*/\1/p'); do
		in_root "$root" dpkg-query -L "$p" 2>/dev/null |
			sed -n -e 's|^/boot/vmlinuz-||p' -e 's|^/usr/lib/modules/\([^/]*\)/vmlinuz$|\1|p'
	done | head -n1
}

# Checks what the lane needs and writes <dir>/env, the printed values.
describe() {
	local dir=$1 root=$1/root rel kdir cc m name p
	rel=$(release_of "$root")
	[ -n "$rel" ] || die "$image_pkg names no kernel in $root"
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
	name=${name%%+*}-$lane
	p=$(echo "$lane" | tr '[:lower:]' '[:upper:]')
	{
		printf '%s_ROOT=%q\n' "$p" "$root"
		printf '%s_RELEASE=%q\n' "$p" "$rel"
		printf '%s_NAME=%q\n' "$p" "$name"
		printf '%s_IMAGE=%q\n' "$p" "$root/boot/vmlinuz-$rel"
		printf '%s_MODULES=%q\n' "$p" "$root/lib/modules/$rel"
		printf '%s_KDIR=%q\n' "$p" "$kdir"
		printf '%s_CC=%q\n' "$p" "$cc"
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
	echo "$lane-kernel: debootstrap $suite from $mirror into $root (log in $dir/setup.log)" >&2
	if ! unshare --mount --propagation private \
		debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$dir/setup.log" 2>&1; then
		umount_below "$root" || true
		tail -n 20 "$dir/setup.log" >&2
		die "debootstrap failed; see $dir/setup.log"
	fi
	umount_below "$root" || die "something stays mounted below $root"
	configure_root "$root" "$mirror"
	echo "$lane-kernel: installing ${pkgs[*]}" >&2
	if ! install_packages "$root" >>"$dir/setup.log" 2>&1; then
		tail -n 20 "$dir/setup.log" >&2
		die "installing packages failed; see $dir/setup.log"
	fi
	fix_kbuild "$root"
	describe "$dir"
	echo $(($(date +%s) - t0)) >"$dir/setup-time"
	# Written last: only a complete entry is used as is.
	touch "$dir/ok"
	echo "$lane-kernel: set up in $(cat "$dir/setup-time")s" >&2
}

update() {
	local dir=$1 root=$1/root old p
	p=$(echo "$lane" | tr '[:lower:]' '[:upper:]')
	old=$(sed -n "s/^${p}_RELEASE=//p" "$dir/env")
	echo "$lane-kernel: updating $root" >&2
	if ! install_packages "$root" >>"$dir/setup.log" 2>&1; then
		tail -n 20 "$dir/setup.log" >&2
		die "updating failed; see $dir/setup.log"
	fi
	fix_kbuild "$root"
	describe "$dir"
	echo "$lane-kernel: kernel $old -> $(sed -n "s/^${p}_RELEASE=//p" "$dir/env")" >&2
}

lane_main() {
	local mode=ensure get='' m dir top p
	p=$(echo "$lane" | tr '[:lower:]' '[:upper:]')
	while [ $# -gt 0 ]; do
		case "$1" in
		--update) mode=update; shift ;;
		--cached) mode=cached; shift ;;
		--get) get=$2; shift 2 ;;
		*) die "usage: $0 [--update | --cached] [--get NAME]" ;;
		esac
	done
	m=$(mirror)
	top=$(cache_root)/$lane
	dir=$top/$(key "$m")
	if [ "$mode" = cached ]; then
		[ -f "$dir/ok" ] || exit 1
	elif [ "$mode" = update ] || [ ! -f "$dir/ok" ]; then
		[ "$(id -u)" = 0 ] || die "setting up the $lane chroot needs root"
		cache_lock "$top" "$lane-kernel"
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
		get=$(echo "${get#"$p"_}" | tr '[:lower:]' '[:upper:]')
		sed -n "s/^${p}_$get=//p" "$dir/env" | grep . || die "unknown name $get"
	else
		cat "$dir/env"
	fi
}
