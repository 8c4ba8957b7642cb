#!/bin/bash
# check.sh: what "make check" runs. Host-side helper tests, then for each
# supported kernel (tools/kernels.sh, or $KVERS) the module, the selftests
# and one VM boot running every suite (tools/vm-run.sh), then the same on
# the debug kernel (tools/debug-kernel.sh: KASAN, lockdep, kmemleak, UBSAN;
# "debug" in KVERS) and on Debian sid's current kernel (tools/sid-kernel.sh;
# "sid" in KVERS), and, only when asked for, on Debian experimental's next
# kernel (tools/next-kernel.sh; "next" in KVERS). Logs go to build/logs/;
# the last line is
# "N passed, N failed[, N skipped]".
# Before the kernels: make install into a staging dir
# (tools/tests/install-test.sh) and the Debian packages, installed in a
# clean bookworm chroot (tools/tests/deb-test.sh, needs root).
# Anything that could not be built or run counts as a failure, and so does
# a skip tools/expected-skips does not list (see tools/tap-summary.sh).
#
# Environment: KVERS (kernels; default tools/kernels.sh, "debug" and "sid";
# "next" names that lane),
# VM_TIMEOUT (s per Debian VM, default 1500), DEBUG_VM_TIMEOUT (s for the
# debug VM, default 2400), DEBUG_SUITE_TIMEOUT (s per suite there, default
# 900: the debug kernel is ~10x slower), DEBUG_COUNT_DIV (the scale tests'
# counts there are divided by it, default 10: VM_COUNT_DIV; the other
# lanes run them in full), and
# what tools/vm-run.sh reads (VM_SUITE_TIMEOUT, VM_FILTER, VM_FUZZ_*, ...).
# The fuzzer (selftests/fuzz/, suite fuzz_test) gets one new seed per run,
# the same on every kernel, printed first; VM_FUZZ_SEED=N replays a run.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
LOGS=$BUILD/logs
CHECK_LOG=$LOGS/check.log
# shellcheck source=tools/vm/payload.sh
. "$TOP/tools/vm/payload.sh"

# Sources for tap-summary.sh: plain TAP logs and --vm console logs.
sources=()

# helper/ "make check": host-side tests with their own TAP.
host_tests() {
	local log=$LOGS/host.log st=0
	grep -q '^check:' "$TOP/helper/Makefile" 2>/dev/null || {
		echo "check: helper has no check target; no host-side tests"
		return 0
	}
	echo "check: host-side tests (make -C helper check)"
	make -s -C "$TOP/helper" check BUILD="$BUILD/helper" \
		KSFT_INC="$BUILD/kselftest" 2>&1 | tee "$log" || st=$?
	sources+=("$log")
	# A failing run must show as a failure even without "not ok" lines.
	if [ "$st" != 0 ] && ! grep -q '^not ok' "$log"; then
		note_fail "host: make -C helper check failed (status $st) without a failing test"
	fi
}

# self_test NAME SCRIPT WHAT: a host-side self-test (tools/tests/SCRIPT)
# whose TAP goes to build/logs/NAME.log and is counted like the rest; a
# failing status without a failing test is a failure too. They are:
#   install-test      make install/uninstall into a staging dir
#   htmldocs-test     make htmldocs warning-free, the kernel-doc really
#                     pulled in, and the mutations it must catch
#   ynl-test          the netlink spec through the kernel's YNL generators
#   deb-test          make deb, lintian, and install, DKMS builds and purge
#                     in a clean bookworm chroot
#   summary-selftest  tap-summary.sh on crafted logs
self_test() {
	local log=$LOGS/$1.log st=0
	echo "check: $3 (tools/tests/$2)"
	"$TOP/tools/tests/$2" >"$log" 2>&1 || st=$?
	sources+=("$log")
	if [ "$st" != 0 ] && ! grep -q '^not ok' "$log"; then
		note_fail "$3 failed (status $st) without a failing test"
	fi
}

# One seed for the fuzzer per run, printed so that a failure can be replayed.
fuzz_seed() {
	[ -n "${VM_FUZZ_SEED:-}" ] ||
		VM_FUZZ_SEED=0x$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
	export VM_FUZZ_SEED
	echo "check: fuzz seed $VM_FUZZ_SEED, ${VM_FUZZ_DURATION:-120} s per kernel" \
		"(replay: VM_FUZZ_SEED=$VM_FUZZ_SEED make check)"
}

vm_tests() {
	local k=$1 dir=$BUILD/payload/$1 log=$LOGS/$1.log
	echo "check: kernel $k"
	build_module "$k"
	make_payload "$k" "$dir"
	# vm-run's status is not needed: tap-summary reads the end marker.
	"$TOP/tools/vm-run.sh" --kernel "$k" --payload "$dir" --mode check \
		--timeout "${VM_TIMEOUT:-1500}" --log "$log" || true
	sources+=(--vm "$log")
}

# The debug kernel's name (6.12.117-debug), the name of its log.
debug_release() {
	"$TOP/tools/debug-kernel.sh" --release || echo debug-kernel
}

# The debug-kernel lane: the module built against the cached debug tree,
# every suite in one boot of that kernel. KASAN reports every bug, not
# only the first.
debug_tests() {
	local dir k log
	k=$(debug_release)
	log=$LOGS/$k.log
	sources+=(--vm "$log")
	echo "check: kernel $k (debug)"
	if ! dir=$("$TOP/tools/debug-kernel.sh"); then
		note_fail "$k: the debug kernel could not be built (tools/debug-kernel.sh)"
		return 0
	fi
	"$TOP/tools/build-module.sh" "$dir/$k" "$BUILD" ||
		note_fail "$k: module build failed (tools/build-module.sh)"
	make_payload "$k" "$BUILD/payload/$k"
	VM_DEBUG=1 VM_APPEND="kasan_multi_shot ${VM_APPEND:-}" \
		VM_SUITE_TIMEOUT=${DEBUG_SUITE_TIMEOUT:-900} \
		VM_COUNT_DIV=${DEBUG_COUNT_DIV:-10} \
		"$TOP/tools/vm-run.sh" --kernel "$k" --image "$dir/bzImage" \
		--payload "$BUILD/payload/$k" --mode check \
		--timeout "${DEBUG_VM_TIMEOUT:-2400}" --log "$log" || true
}

# The sid and next lanes: Debian sid's current kernel (tools/sid-kernel.sh)
# or experimental's next one (tools/next-kernel.sh), each a cached
# debootstrap chroot; the module built in that chroot with the kernel's
# own compiler, every suite in one boot of that kernel with its modules.
# Named after the kernel's version: build/logs/<version>-<lane>.log.
# chroot_tests LANE DESCRIPTION
chroot_tests() {
	local lane=$1 what=$2 env log
	echo "check: $what (tools/$lane-kernel.sh)"
	if ! env=$("$TOP/tools/$lane-kernel.sh"); then
		note_fail "$lane: $what could not be set up (tools/$lane-kernel.sh)"
		return 0
	fi
	# SID_ROOT, NEXT_ROOT, ...: LANE_ROOT
	eval "$(printf '%s\n' "$env" | sed 's/^[A-Z]*_/LANE_/')"
	log=$LOGS/$LANE_NAME.log
	sources+=(--vm "$log")
	echo "check: kernel $LANE_RELEASE ($LANE_NAME)"
	"$TOP/tools/build-module.sh" --root "$LANE_ROOT" "$LANE_KDIR" "$BUILD" ||
		note_fail "$LANE_NAME: module build failed (tools/build-module.sh)"
	make_payload "$LANE_RELEASE" "$BUILD/payload/$LANE_RELEASE"
	"$TOP/tools/vm-run.sh" --kernel "$LANE_RELEASE" --image "$LANE_IMAGE" \
		--modules-dir "$LANE_MODULES" --payload "$BUILD/payload/$LANE_RELEASE" \
		--mode check --timeout "${VM_TIMEOUT:-1500}" --log "$log" || true
}

main() {
	local k kvers
	mkdir -p "$LOGS"
	: >"$CHECK_LOG"
	if [ -z "${KVERS:-}" ]; then
		kvers=$("$TOP/tools/kernels.sh")
		[ -n "$kvers" ] || note_fail "no supported kernel installed (tools/kernels.sh)"
		kvers="$kvers debug sid"
	else
		kvers=$KVERS
	fi
	# A step that dies before writing its log must not leave the previous
	# run's log to be summarized: a missing log counts as a failure.
	rm -f "$LOGS/host.log" "$LOGS/summary-selftest.log" "$LOGS/install-test.log" \
		"$LOGS/htmldocs-test.log" "$LOGS/ynl-test.log" \
		"$LOGS/deb-test.log"
	for k in $kvers; do
		[ "$k" != debug ] || k=$(debug_release)
		case "$k" in sid | next) k="*-$k" ;; esac
		# shellcheck disable=SC2086 # the sid and next lanes' log names are globs
		rm -f "$LOGS"/$k.log
	done
	fuzz_seed
	self_test summary-selftest summary-selftest.sh "summary self-test"
	build_userspace
	host_tests
	self_test install-test install-test.sh "install self-test"
	self_test htmldocs-test htmldocs-test.sh "documentation self-test"
	self_test ynl-test ynl-test.sh "YNL self-test"
	self_test deb-test deb-test.sh "Debian packages"
	for k in $kvers; do
		case "$k" in
		debug) debug_tests ;;
		sid) chroot_tests sid "Debian sid's kernel" ;;
		next) chroot_tests next "Debian experimental's kernel" ;;
		*) vm_tests "$k" ;;
		esac
	done
	echo
	echo "check: summary (logs in ${LOGS#"$TOP"/}/)"
	"$TOP/tools/tap-summary.sh" "$CHECK_LOG" "${sources[@]}"
}

main "$@"
