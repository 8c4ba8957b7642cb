#!/bin/bash
# debug-kernel.sh [--release]: the debug kernel of "make check" (KASAN,
# lockdep, kmemleak, UBSAN, DEBUG_VM; tools/debug-kernel.config), built
# from Debian's linux-source-6.12 once per machine. Prints the directory of
# the cached build:
#   bzImage, System.map, config, kernel.release, build-time (seconds)
#   <release>/   the build tree, KDIR for tools/build-module.sh
#   src/         the kernel source that tree builds against
#   build.log    the build's output
# --release prints only the kernel release (the lane's name), building
# nothing.
#
# The cache lives outside the clone, in $VHOST_SHMEM_CACHE/debug-kernel/<key>
# (default /var/cache/vhost-shmem, or ~/.cache/vhost-shmem when that is not
# writable); <key> is the linux-source-6.12 package version and a hash of the
# fragment's settings, so clones share it and only a new source package or
# a changed setting rebuilds. An interrupted build resumes; a lock keeps
# concurrent runs from building twice. DEBUG_KERNEL_JOBS: make -j (nproc).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
frag=$top/tools/debug-kernel.config
pkg=linux-source-6.12
tarball=/usr/src/$pkg.tar.xz
# Part of the key: bump it when the build steps below change their output.
recipe=1
# cache_root
# shellcheck source=tools/lib/cache.sh
. "$top/tools/lib/cache.sh"

die() {
	echo "debug-kernel: $*" >&2
	exit 1
}

pkg_version() {
	dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null ||
		die "$pkg is not installed (tools/install-deps.sh installs it)"
}

# 6.12.117 from 6.12.117-1~deb12u1, plus the fragment's LOCALVERSION.
release() {
	local v
	v=$(pkg_version)
	echo "${v%%-*}$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$frag")"
}

# Only the settings count: editing a comment does not rebuild.
key() {
	local v h
	v=$(pkg_version | tr '~:' '__')
	h=$( {
		echo "recipe $recipe"
		grep -E '^(CONFIG_|# CONFIG_[A-Za-z0-9_]+ is not set)' "$frag"
	} | sha256sum | cut -c1-16)
	echo "$v-$h"
}

# Fails loudly when a line of the fragment did not survive olddefconfig
# (an unmet dependency, a renamed symbol): the lane would test less.
verify_config() {
	awk 'FNR == NR {
		have[$0] = 1
		if (match($0, /^CONFIG_[A-Za-z0-9_]+=/))
			on[substr($0, 1, RLENGTH - 1)] = 1
		next
	}
	/^CONFIG_/ && !($0 in have) { print "debug-kernel: wanted " $0 ", not in .config"; bad = 1 }
	/^# CONFIG_[A-Za-z0-9_]+ is not set/ && ($2 in on) { print "debug-kernel: wanted " $2 " off, it is on"; bad = 1 }
	END { exit bad }' "$1" "$frag" >&2
}

# build DIR RELEASE: source, config, kernel and the files listed above.
build() {
	local dir=$1 krel=$2 src=$1/src obj=$1/$2 t0 got
	t0=$(date +%s)
	[ -f "$tarball" ] || die "no $tarball (tools/install-deps.sh installs $pkg)"
	if [ ! -f "$src/Makefile" ]; then
		rm -rf "$src" "$src.tmp"
		mkdir -p "$src.tmp"
		tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
		mv "$src.tmp" "$src"
	fi
	mkdir -p "$obj"
	# allnoconfig + kvm_guest.config + the fragment: what is not named is off.
	(cd "$src" && scripts/kconfig/merge_config.sh -n -O "$obj" \
		kernel/configs/kvm_guest.config "$frag") >"$dir/config.log" 2>&1 ||
		die "configuring failed; see $dir/config.log"
	verify_config "$obj/.config" || die "the config misses options of $frag"
	if ! make -C "$src" O="$obj" -j"${DEBUG_KERNEL_JOBS:-$(nproc)}" all >"$dir/build.log" 2>&1; then
		tail -n 30 "$dir/build.log" >&2
		die "kernel build failed; see $dir/build.log"
	fi
	got=$(make -s -C "$src" O="$obj" kernelrelease)
	[ "$got" = "$krel" ] || die "built release $got, expected $krel"
	cp "$obj/arch/x86/boot/bzImage" "$obj/System.map" "$dir/"
	cp "$obj/.config" "$dir/config"
	echo "$krel" >"$dir/kernel.release"
	echo $(($(date +%s) - t0)) >"$dir/build-time"
	# Written last: only a complete entry is used as is.
	touch "$dir/done"
}

main() {
	local root dir krel
	if [ "${1:-}" = --release ]; then
		release
		return 0
	fi
	[ $# -eq 0 ] || die "usage: $0 [--release]"
	krel=$(release)
	root=$(cache_root)/debug-kernel
	dir=$root/$(key)
	if [ ! -f "$dir/done" ]; then
		cache_lock "$root" debug-kernel
		# The other run may have built it meanwhile.
		if [ ! -f "$dir/done" ]; then
			echo "debug-kernel: building $krel in $dir (13 min on 2 idle cores; log in build.log)" >&2
			mkdir -p "$dir"
			build "$dir" "$krel"
			echo "debug-kernel: built in $(cat "$dir/build-time")s" >&2
		fi
		exec 9>&-
	fi
	echo "$dir"
}

main "$@"
