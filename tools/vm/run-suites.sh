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

KO=/payload/vhost_shmem.ko
export VHOST_SHMEM_KO=$KO
TIMEOUT=${VM_SUITE_TIMEOUT:-600}
CG=/sys/fs/cgroup/vmsuite
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

# Runs "$1" in its own cgroup (when cgroup2 is there) so a timeout, or a
# suite that leaves children behind, can kill all of it; prints the exit
# status, or "timeout".
run_limited() {
	local suite=$1 pid wd st
	rm -f /tmp/suite.timedout
	if mkdir -p "$CG" 2>/dev/null && [ -f "$CG/cgroup.procs" ]; then
		sh -c 'echo $$ >"$1/cgroup.procs"; cd /payload/tests && exec "$2"' \
			sh "$CG" "$suite" </dev/null &
	else
		(cd /payload/tests && exec "$suite") </dev/null &
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

# Kills the suite's cgroup (or just its pid) and waits until it is empty.
kill_all() {
	local i
	if [ -f "$CG/cgroup.kill" ]; then
		echo 1 >"$CG/cgroup.kill" 2>/dev/null
		i=0
		while [ -s "$CG/cgroup.procs" ] && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
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
