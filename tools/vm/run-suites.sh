#!/bin/sh
# shellcheck shell=dash # busybox ash: "local" works
# run-suites.sh: runs every executable /payload/tests/*_test in the VM
# (busybox sh). Each suite's TAP goes straight to the console (a tty, so
# line-buffered and live). After each suite one more TAP line says whether
# the kernel log stayed clean, and a suite that crashed or timed out gets a
# "not ok" line of its own. A machine-readable "# VM-SUITE-END" line closes
# every suite so the host can check plans against results.
#
# Environment (from /etc/vm/config): VM_SUITE_TIMEOUT seconds per suite
# (default 600), VM_FILTER a grep -E pattern selecting suites by name,
# VM_DEBUG=1 on the debug kernel: the boot log is judged like a suite's,
# and after each suite kmemleak scans and lockdep must still be on.
# VM_COUNT_DIV (the debug lane's) becomes the suites' VS_COUNT_DIV: the
# scale tests run their counts divided by it (selftests/vhost_shmem_lib.h,
# vs_count()); said once, as a diagnostic line, when it is not 1.
#
# Who runs them: the suites run as a VMM does, as user "vmm" (uid and gid
# 1000) in groups kvm and video, with no capabilities (setpriv, no
# new privileges), /dev/kvm, /dev/vhost-shmem and /dev/udmabuf root:kvm 0660
# as udev (udev/60-vhost-shmem.rules, systemd's rules) sets them and the DRM
# card nodes root:video 0660. What only root can do, root prepares first
# (prepare_unprivileged): the ext4 file system on a loop device, the
# hugetlbfs mount and its pages, the overlayfs mount, vm.max_map_count
# raised, kernel.dmesg_restrict off, a memory cgroup subtree delegated to
# the user. Only ROOT_SUITES run as root; Documentation/dev-tools/testing.rst
# says which and why.

KO=/payload/vhost_shmem.ko
export VHOST_SHMEM_KO=$KO
export VS_COUNT_DIV=${VM_COUNT_DIV:-1}
TIMEOUT=${VM_SUITE_TIMEOUT:-600}
# The suites' cgroup subtree, delegated to the user: cgroup.kill ends all
# of a suite, which starts in $CG/suite; memcg_test makes its cgroups next
# to that one.
CG=/sys/fs/cgroup/vmsuite
VMM_UID=1000
KVM_GID=108
VIDEO_GID=44
SETPRIV=/usr/bin/setpriv
# How an unprivileged suite is started: no capabilities left anywhere.
AS_VMM="$SETPRIV --reuid=$VMM_UID --regid=$VMM_UID --groups=$KVM_GID,$VIDEO_GID"
AS_VMM="$AS_VMM --inh-caps=-all --bounding-set=-all --no-new-privs env HOME=/tmp USER=vmm"
# The suites that run as root, kept to what needs it:
#   netlink_test  the netlink family is the administrator's: every command
#                 and the events group need CAP_NET_ADMIN, the tracepoint
#                 test writes tracefs; its "unprivileged" test drops to
#                 uid 65534 and checks that all of it is refused.
#   root_test     what only root may do to the module: unload and reload
#                 it, set its max_mappings and max_viewers parameters,
#                 lower vm.max_map_count (also for a viewer of a view); and
#                 mount a FUSE file system (an owner thread holding its own
#                 mmap_lock: requesters stay killable).
#   ynl_test      the kernel's YNL CLI dumps the family: CAP_NET_ADMIN, as
#                 netlink_test.
#   fuzz_test     the fuzzer (selftests/fuzz/) unloads the module, sets up
#                 loop devices and mounts ext4 and hugetlbfs itself.
ROOT_SUITES="fuzz_test netlink_test root_test ynl_test"
# Prepared by root for the suites (paths the suites know too).
CONTENT_FS=/tmp/vs-content-fs
CONTENT_IMG=/tmp/vs-content-fs.img
CONTENT_HUGE=/tmp/vs-content-huge
OVL=/tmp/vs-ovl
# What in the kernel log means the kernel went wrong during a suite.
BAD='WARNING:|BUG:|Oops|general protection|UBSAN|KASAN|kernel BUG|Kernel panic'
BAD="$BAD|detected stall|self-detected stall|RCU stall|hung task|blocked for more than"
BAD="$BAD|refcount_t|soft lockup|hard LOCKUP|list_add corruption|list_del corruption"
BAD="$BAD|Call Trace:|stack-protector|double fault|Bad page|kmemleak"
# The debug kernel's checkers (lockdep, KASAN, UBSAN, kmemleak, DEBUG_VM).
BAD="$BAD|possible circular locking|possible recursive locking|inconsistent lock state"
BAD="$BAD|lock held when returning|lockdep|DEBUG_LOCKS_WARN|locking correctness validator"
BAD="$BAD|suspicious RCU usage|BUG: KASAN|UBSAN:|unreferenced object|page dumped because"
# What the debug kernel always prints at boot; it matches BAD, it is fine.
BOOT_OK='RCU lockdep checking is enabled|kmemleak: Kernel memory leak detector initialized'
# Taint bits a kernel bug sets: B(5) bad page, D(7) oops, W(9) warning,
# L(14) soft lockup. O/E (out-of-tree, unsigned) are expected.
TAINT_BAD=$(((1 << 5) | (1 << 7) | (1 << 9) | (1 << 14)))

# The module under test is loaded before each suite; some suites unload it.
ensure_module() {
	[ -f "$KO" ] || return 0
	[ -d /sys/module/vhost_shmem ] && return 0
	insmod "$KO" 2>/tmp/insmod.err ||
		echo "# run-suites: re-insmod vhost_shmem.ko failed: $(cat /tmp/insmod.err)"
}

# The device nodes as udev makes them on a Debian host; a reloaded module
# recreates /dev/vhost-shmem root:root, so this runs before every suite.
device_modes() {
	local n
	for n in /dev/kvm /dev/vhost-shmem /dev/udmabuf; do
		[ -c "$n" ] || continue
		chgrp "$KVM_GID" "$n" && chmod 0660 "$n"
	done
	for n in /dev/dri/card*; do
		[ -c "$n" ] || continue
		chgrp "$VIDEO_GID" "$n" && chmod 0660 "$n"
	done
}

# Says what could not be prepared; the suite that needs it then fails.
prep() {
	"$@" >/tmp/prep.err 2>&1 ||
		echo "# run-suites: prepare: $* failed: $(cat /tmp/prep.err)"
}

# What the unprivileged suites need and only root can do, done once.
prepare_unprivileged() {
	local nr loop
	printf 'root:x:0:0::/root:/bin/sh\nvmm:x:%d:%d::/tmp:/bin/sh\n' \
		"$VMM_UID" "$VMM_UID" >/etc/passwd
	printf 'root:x:0:\nvideo:x:%d:vmm\nkvm:x:%d:vmm\nvmm:x:%d:\n' \
		"$VIDEO_GID" "$KVM_GID" "$VMM_UID" >/etc/group
	# stress_test's 20,000 live mappings; /dev/kmsg for the suites' log checks.
	prep sysctl -qw vm.max_map_count=200000
	prep sysctl -qw kernel.dmesg_restrict=0
	# content_test: ext4 on a loop device (the image readable, to check
	# what reached the disk) and a hugetlbfs mount with 4 free huge pages.
	mkdir -p "$CONTENT_FS" "$CONTENT_HUGE" "$OVL"
	prep truncate -s 64M "$CONTENT_IMG"
	prep mkfs.ext4 -q -F "$CONTENT_IMG"
	if loop=$(losetup -f 2>/dev/null) && prep losetup "$loop" "$CONTENT_IMG"; then
		prep mount -t ext4 "$loop" "$CONTENT_FS"
	fi
	chown "$VMM_UID:$VMM_UID" "$CONTENT_FS" "$CONTENT_IMG"
	nr=$(cat /proc/sys/vm/nr_hugepages)
	prep sysctl -qw vm.nr_hugepages=$((nr + 4))
	prep mount -t hugetlbfs -o "pagesize=2M,uid=$VMM_UID,gid=$VMM_UID,mode=0755" \
		none "$CONTENT_HUGE"
	# hardening_test: an overlayfs with a file of the lower layer.
	prep mount -t tmpfs -o size=16m tmpfs "$OVL"
	mkdir -p "$OVL/lower" "$OVL/upper" "$OVL/work" "$OVL/merged"
	: >"$OVL/lower/f"
	chown "$VMM_UID:$VMM_UID" "$OVL/lower/f" "$OVL/upper"
	prep mount -t overlay -o "lowerdir=$OVL/lower,upperdir=$OVL/upper,workdir=$OVL/work" \
		overlay "$OVL/merged"
	# The suites' cgroup subtree with the memory controller, the user's.
	if [ -f /sys/fs/cgroup/cgroup.subtree_control ]; then
		prep sh -c "echo +memory >/sys/fs/cgroup/cgroup.subtree_control"
		mkdir -p "$CG"
		prep sh -c "echo +memory >$CG/cgroup.subtree_control"
		mkdir -p "$CG/suite"
		chown "$VMM_UID:$VMM_UID" "$CG" "$CG/cgroup.procs" "$CG/cgroup.threads" \
			"$CG/cgroup.subtree_control" "$CG/suite" "$CG/suite/cgroup.procs"
	fi
	if [ -x "$SETPRIV" ]; then
		# shellcheck disable=SC2086 # $AS_VMM is a command line
		echo "# run-suites: suites run as $($AS_VMM id)," \
			"$($AS_VMM grep CapEff /proc/self/status | tr -s '\t' ' ');" \
			"as root: $ROOT_SUITES"
	else
		echo "not ok - run-suites: no $SETPRIV in the VM: the suites cannot run unprivileged"
	fi
}

# How suite $1 is started: as root or through setpriv as the user.
run_as() {
	case " $ROOT_SUITES " in
	*" $1 "*) echo "" ;;
	*) echo "$AS_VMM" ;;
	esac
}

# Runs "$1" in its own cgroup (when cgroup2 is there) so a timeout, or a
# suite that leaves children behind, can kill all of it; prints the exit
# status, or "timeout".
run_limited() {
	local suite=$1 pid wd st as
	as=$(run_as "${suite##*/}")
	rm -f /tmp/suite.timedout
	if mkdir -p "$CG/suite" 2>/dev/null && [ -f "$CG/suite/cgroup.procs" ]; then
		# shellcheck disable=SC2086 # $as is a command line
		sh -c 'echo $$ >"$1/cgroup.procs"; cd /payload/tests && shift 2 && exec "$@"' \
			sh "$CG/suite" "$suite" $as "$suite" </dev/null &
	else
		# shellcheck disable=SC2086 # $as is a command line
		(cd /payload/tests && exec $as "$suite") </dev/null &
	fi
	pid=$!
	(
		sleep "$TIMEOUT"
		: >/tmp/suite.timedout
		kill_all "$pid"
	) >/dev/null 2>&1 &
	wd=$!
	wait "$pid"
	st=$?
	kill "$wd" 2>/dev/null
	kill_all "$pid"
	if [ -f /tmp/suite.timedout ]; then
		echo timeout >/tmp/suite.status
	else
		echo "$st" >/tmp/suite.status
	fi
}

# Kills the suite's cgroup subtree (or just its pid), waits until it is
# empty and removes the cgroups the suite made.
kill_all() {
	local i
	if [ -f "$CG/cgroup.kill" ]; then
		echo 1 >"$CG/cgroup.kill" 2>/dev/null
		i=0
		while ! grep -q '^populated 0' "$CG/cgroup.events" && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		find "$CG" -mindepth 1 -depth -type d ! -path "$CG/suite" \
			-exec rmdir {} \; 2>/dev/null
	else
		kill -9 "$1" 2>/dev/null
	fi
}

taint() { cat /proc/sys/kernel/tainted; }

uptime_s() { cut -d. -f1 /proc/uptime; }

KMEMLEAK=/sys/kernel/debug/kmemleak

# Debug kernel: what kmemleak finds after the suite is a failure of its own.
# An object is reported once two scans saw it unreferenced and unchanged,
# and only if it was 5 s old when the second began: the first scan takes
# that long on this kernel, else the wait makes up the rest.
check_kmemleak() {
	local name=$1 t0 left
	[ "$VM_DEBUG" = 1 ] || return 0
	if [ ! -w "$KMEMLEAK" ]; then
		echo "not ok - $name: no $KMEMLEAK on the debug kernel"
		return
	fi
	t0=$(uptime_s)
	echo scan >"$KMEMLEAK"
	left=$((t0 + 6 - $(uptime_s)))
	[ "$left" -le 0 ] || sleep "$left"
	echo scan >"$KMEMLEAK"
	cat "$KMEMLEAK" >/tmp/kmemleak.new
	if [ -s /tmp/kmemleak.new ]; then
		echo "not ok - $name: kmemleak reports unreferenced objects"
		sed 's/^/# kmemleak: /' /tmp/kmemleak.new | head -n 300
	else
		echo "ok - $name: kmemleak clean"
	fi
	# Reported objects are not reported again to the next suite.
	echo clear >"$KMEMLEAK"
	dmesg -c >>/tmp/dmesg.all
}

# Debug kernel: lockdep switches itself off after its first report (or
# when it runs out of entries); the suites after that are not checked.
# Said once, by the suite it happened in.
check_lockdep() {
	local name=$1
	[ "$VM_DEBUG" = 1 ] || return 0
	[ -f /tmp/lockdep.off ] && return 0
	if grep -Eq '^ *debug_locks: *1$' /proc/lockdep_stats 2>/dev/null; then
		echo "ok - $name: lockdep still on"
	else
		: >/tmp/lockdep.off
		echo "not ok - $name: lockdep went off (debug_locks 0 in /proc/lockdep_stats): later suites run without it"
	fi
}

# Reports whether the kernel log stayed clean while the suite ran.
check_dmesg() {
	local name=$1 taint0=$2 taint1 new ok='^$'
	dmesg -c >/tmp/dmesg.new
	cat /tmp/dmesg.new >>/tmp/dmesg.all
	taint1=$(taint)
	new=$(((taint1 & ~taint0) & TAINT_BAD))
	[ "$name" != boot ] || ok=$BOOT_OK
	if grep -Ev "$ok" /tmp/dmesg.new | grep -Eq "$BAD" || [ "$new" -ne 0 ]; then
		echo "not ok - $name: dmesg has WARNING/BUG/Oops/... (taint $taint0 -> $taint1)"
		# The whole new log, so a splat can be read without the VM.
		sed 's/^/# dmesg: /' /tmp/dmesg.new | tail -n 300
	else
		echo "ok - $name: dmesg clean"
	fi
}

run_suite() {
	local path=$1 name=${1##*/} taint0 st t0 secs
	ensure_module
	device_modes
	dmesg -c >>/tmp/dmesg.all
	taint0=$(taint)
	echo "# VM-SUITE-BEGIN $name"
	t0=$(uptime_s)
	run_limited "$path"
	secs=$(($(uptime_s) - t0))
	st=$(cat /tmp/suite.status)
	case "$st" in
	timeout) echo "not ok - $name: timed out after ${TIMEOUT}s" ;;
	0 | 1 | 4) ;; # pass, some test failed (its own "not ok"), all skipped
	*) echo "not ok - $name: exited with status $st" ;;
	esac
	check_dmesg "$name" "$taint0"
	check_kmemleak "$name"
	check_lockdep "$name"
	echo "# VM-SUITE-END $name status=$st secs=$secs"
	[ "$st" = 0 ] || [ "$st" = 4 ]
}

main() {
	local t rc=0 n=0
	[ -c /dev/kvm ] || echo "# run-suites: /dev/kvm is missing; KVM tests will skip"
	[ "$VS_COUNT_DIV" = 1 ] ||
		echo "# run-suites: VS_COUNT_DIV=$VS_COUNT_DIV: the scale tests run 1/$VS_COUNT_DIV of their counts"
	prepare_unprivileged
	# Debug kernel: a report at boot (module init included) is a failure,
	# and a lockdep report there would switch lockdep off for every suite.
	if [ "$VM_DEBUG" = 1 ]; then
		check_dmesg boot 0
		check_kmemleak boot
		check_lockdep boot
	fi
	for t in /payload/tests/*_test; do # glob order is sorted
		if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
		if [ -n "$VM_FILTER" ] && ! echo "${t##*/}" | grep -Eq "$VM_FILTER"; then
			continue
		fi
		n=$((n + 1))
		run_suite "$t" || rc=1
	done
	if [ $n -eq 0 ]; then
		echo "not ok - run-suites: no test suites in /payload/tests"
		rc=1
	fi
	return $rc
}

main "$@"
