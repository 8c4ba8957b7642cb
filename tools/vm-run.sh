#!/bin/bash
# vm-run.sh --kernel KVER --payload DIR [--mode check|demo|bench|shell]
#           [--timeout SEC] [--log FILE] [--image FILE [--modules-dir DIR]]
#
# Boots Debian's kernel KVER in a QEMU TCG VM with a busybox initramfs that
# carries DIR as /payload (plus the shared libraries its binaries need), the
# kvm/loop/ext4 modules and tools/vm/init, and streams the console to stdout
# (and to FILE). With --image, boots FILE instead of /boot/vmlinuz-KVER
# and loads no modules: a kernel we build has them built in (KVER only
# names it); with --modules-dir too, it loads them from DIR, the module
# tree of release KVER (tools/sid-kernel.sh: SID_IMAGE, SID_MODULES).
# Exit status: 0 when the VM printed its end marker with
# rc=0, 1 when it finished with a failure, 2 when it never finished (timeout,
# panic, QEMU error).
#
# Environment: VM_SUITE_TIMEOUT (s per suite), VM_FILTER (grep -E on suite
# names), VM_BENCH_ARGS (vhost-shmem-bench options in bench mode),
# VM_FUZZ_DURATION (s the fuzzer runs, default 120), VM_FUZZ_SEED (its
# seed; default: from the clock, printed), VM_FUZZ_PROGRAM (run only that
# program seed, as the fuzzer's replay line says), VM_FUZZ_AVOID (its
# --avoid-known list; default: the module bugs still open), VM_SMP
# (2), VM_MEM (2G), VM_APPEND (extra kernel command line), VM_MODULES
# (modules to load, default "kvm_amd loop ext4 overlay vgem fuse"), VM_BIOS (default
# qboot.rom when installed, else QEMU's SeaBIOS), VM_DEBUG (1 on a debug
# kernel: tools/vm/run-suites.sh also judges the boot log and kmemleak),
# VM_COUNT_DIV (divides the scale tests' counts, the suites' VS_COUNT_DIV:
# the debug lane's; default 1, the full counts).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
vmsrc=$top/tools/vm

kver=
image=
moddir=
payload=
mode=check
timeout=1800
log=

usage() {
	sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

parse_args() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--kernel) kver=$2; shift 2 ;;
		--payload) payload=$2; shift 2 ;;
		--mode) mode=$2; shift 2 ;;
		--timeout) timeout=$2; shift 2 ;;
		--log) log=$2; shift 2 ;;
		--image) image=$2; shift 2 ;;
		--modules-dir) moddir=$2; shift 2 ;;
		-h | --help) usage ;;
		*) echo "vm-run: unknown argument $1" >&2; usage ;;
		esac
	done
	if [ -z "$kver" ] || [ -z "$payload" ]; then usage; fi
	if [ -z "$image" ]; then
		image=/boot/vmlinuz-$kver
		moddir=/lib/modules/$kver
	fi
	[ -f "$image" ] || die "no kernel image $image"
	if [ -n "$moddir" ]; then
		[ -f "$moddir/modules.dep" ] || die "no module tree $moddir (no modules.dep)"
		moddir=$(realpath "$moddir")
	fi
	[ -d "$payload" ] || die "payload $payload is not a directory"
	payload=$(cd "$payload" && pwd)
}

die() {
	echo "vm-run: $*" >&2
	exit 2
}

# Prints the module files (host paths, dependency order) that modprobe
# would insmod for the given module names; built-in modules print nothing.
module_files() {
	local m root=/
	# modprobe -d ROOT reads ROOT/lib/modules/KVER: a link makes one.
	if [ "$moddir" != "/lib/modules/$kver" ]; then
		root=$top/build/vm/$kver/modroot
		mkdir -p "$root/lib/modules"
		ln -sfn "$moddir" "$root/lib/modules/$kver"
	fi
	for m in "$@"; do
		modprobe -d "$root" -S "$kver" --show-depends "$m" 2>/dev/null |
			awk '$1 == "insmod" { print $2 }' ||
			echo "vm-run: module $m not found for $kver" >&2
	done | awk '!seen[$0]++'
}

# Dependencies of the module under test, by name (e.g. "kvm,foo").
payload_module_deps() {
	[ -f "$payload/vhost_shmem.ko" ] || return 0
	modinfo -F depends "$payload/vhost_shmem.ko" 2>/dev/null | tr ',' ' '
}

# Copies the shared libraries (and the loader) that the ELF files given
# need into the tree $1, at their host paths.
copy_libs() {
	local root=$1 f lib
	shift
	for f in "$@"; do
		[ "$(head -c4 "$f" | tr -d '\0')" = $'\x7fELF' ] || continue
		ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }'
	done | sort -u | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -uL "$lib" "$root$lib"
	done
}

# Fingerprint of a set of files (names, sizes, mtimes) for the caches.
fingerprint() {
	find "$@" -type f -printf '%p %s %T@ %m\n' 2>/dev/null | sort | sha256sum | cut -d' ' -f1
}

# The kernel-dependent part of the initramfs: busybox, modules, init,
# host tools. Rebuilt only when one of its inputs changed.
build_base() {
	local out=$1 stage=$1.d mods=() f dst stamp
	if [ -n "$moddir" ]; then
		# shellcheck disable=SC2046,SC2086 # both are lists of names
		mapfile -t mods < <(module_files ${VM_MODULES:-kvm_amd loop ext4 overlay vgem fuse} $(payload_module_deps))
	fi
	stamp=$( {
		printf '%s\n' "$kver" "${mods[@]}"
		fingerprint /bin/busybox "$vmsrc" "$0" /sbin/mke2fs /usr/bin/setpriv "${mods[@]}"
	} | sha256sum | cut -d' ' -f1)
	if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
		return 0
	fi
	echo "vm-run: building initramfs base for $kver" >&2
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc/vm,proc,sys,dev,tmp,run,root,payload}
	cp /bin/busybox "$stage/bin/busybox"
	# Applet symlinks; "--install -s" would need to run on the target.
	/bin/busybox --list-full | while read -r f; do
		[ -e "$stage/$f" ] || ln -s /bin/busybox "$stage/$f"
	done
	install -m 755 "$vmsrc/init" "$stage/init"
	install -m 755 "$vmsrc/run-suites.sh" "$stage/etc/vm/run-suites.sh"
	# e2fsprogs' mke2fs makes real ext4 (busybox mke2fs only makes ext2).
	if [ -x /sbin/mke2fs ]; then
		cp /sbin/mke2fs "$stage/sbin/mkfs.ext4"
		[ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$stage/etc/"
		copy_libs "$stage" /sbin/mke2fs
	fi
	# util-linux setpriv: the suites run as an unprivileged user
	# (run-suites.sh); busybox's setpriv cannot change uid or groups.
	if [ -x /usr/bin/setpriv ]; then
		rm -f "$stage/usr/bin/setpriv"
		cp /usr/bin/setpriv "$stage/usr/bin/setpriv"
		copy_libs "$stage" /usr/bin/setpriv
	fi
	: >"$stage/etc/vm/modules"
	for f in "${mods[@]}"; do
		dst=/lib/modules/$kver/${f##*/}
		dst=${dst%.xz}
		dst=${dst%.zst}
		mkdir -p "$stage/lib/modules/$kver"
		case "$f" in
		*.xz) xz -dc "$f" >"$stage$dst" ;;
		*.zst) zstd -qdc "$f" >"$stage$dst" ;;
		*) cp "$f" "$stage$dst" ;;
		esac
		echo "$dst" >>"$stage/etc/vm/modules"
	done
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp"
	mv "$out.tmp" "$out"
	echo "$stamp" >"$out.stamp"
	rm -rf "$stage"
}

# The payload part: DIR as /payload, its libraries, and the run config.
build_payload() {
	local out=$1 stage=$1.d elfs
	rm -rf "$stage"
	mkdir -p "$stage/etc/vm"
	cp -a "$payload" "$stage/payload"
	mapfile -t elfs < <(find "$stage/payload" -type f -perm -u+x)
	[ ${#elfs[@]} -eq 0 ] || copy_libs "$stage" "${elfs[@]}"
	# Config read by /init; values are quoted for sh.
	{
		printf 'VM_MODE=%q\n' "$mode"
		printf 'VM_SUITE_TIMEOUT=%q\n' "${VM_SUITE_TIMEOUT:-600}"
		printf 'VM_FILTER=%q\n' "${VM_FILTER:-}"
		printf 'VM_BENCH_ARGS=%q\n' "${VM_BENCH_ARGS:-}"
		printf 'VM_DEBUG=%q\n' "${VM_DEBUG:-}"
		printf 'VM_COUNT_DIV=%q\n' "${VM_COUNT_DIV:-1}"
		printf 'VM_FUZZ_DURATION=%q\n' "${VM_FUZZ_DURATION:-120}"
		printf 'VM_FUZZ_SEED=%q\n' "${VM_FUZZ_SEED:-}"
		printf 'VM_FUZZ_AVOID=%q\n' "${VM_FUZZ_AVOID:-}"
		printf 'VM_FUZZ_RELOAD_EVERY=%q\n' "${VM_FUZZ_RELOAD_EVERY:-}"
		printf 'VM_FUZZ_PROGRAM=%q\n' "${VM_FUZZ_PROGRAM:-}"
	} >"$stage/etc/vm/config"
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out"
	rm -rf "$stage"
}

# Boots the VM; console to stdout and $log, \r stripped. Returns QEMU's or
# timeout's status.
boot() {
	local initrd=$1
	local append="console=ttyS0 quiet panic=-1 log_buf_len=4M ${VM_APPEND:-}"
	local bios=()
	# qboot reaches the kernel ~1.3 s sooner than SeaBIOS under TCG.
	[ -f "${VM_BIOS:=/usr/share/qemu/qboot.rom}" ] && bios=(-bios "$VM_BIOS")
	# Single-threaded TCG: with thread=multi, kernel text patching (int3
	# based static keys/calls, toggled when KVM creates a VM) raced and
	# oopsed 6.12 guests. stdin from /dev/null: QEMU must not take over the
	# terminal.
	timeout -k 5 "$timeout" qemu-system-x86_64 "${bios[@]}" \
		-accel "tcg,thread=${VM_TCG_THREAD:-single}" -cpu max -m "${VM_MEM:-2G}" -smp "${VM_SMP:-2}" \
		-display none -monitor none -serial stdio -no-reboot \
		-kernel "$image" -initrd "$initrd" -append "$append" \
		</dev/null 2>&1 | sed -u 's/\r$//' | tee "$log"
	return "${PIPESTATUS[0]}"
}

main() {
	local dir base pl initrd st t0 marker
	parse_args "$@"
	dir=$top/build/vm/$kver
	mkdir -p "$dir"
	[ -n "$log" ] || log=$dir/console.log
	mkdir -p "$(dirname "$log")"
	# An old log must not outlive a failure before boot (cpio, xz, disk).
	rm -f "$log"
	base=$dir/base.cpio
	pl=$dir/payload.cpio
	initrd=$dir/initrd.cpio
	build_base "$base"
	build_payload "$pl"
	cat "$base" "$pl" >"$initrd"
	echo "vm-run: booting $kver ($mode, timeout ${timeout}s)" >&2
	t0=$(date +%s%N)
	st=0
	boot "$initrd" || st=$?
	t0=$((($(date +%s%N) - t0) / 1000000))
	printf 'vm-run: %s: VM ran %d.%03ds\n' "$kver" $((t0 / 1000)) $((t0 % 1000)) >&2
	marker=$(grep -a -m1 -o '^VM-DONE rc=[0-9]*' "$log" || true)
	if [ -z "$marker" ]; then
		[ "$st" = 124 ] && echo "vm-run: $kver: VM timed out after ${timeout}s" >&2
		echo "vm-run: $kver: VM did not reach its end marker (status $st)" >&2
		return 2
	fi
	[ "${marker#VM-DONE rc=}" = 0 ] || return 1
}

main "$@"
