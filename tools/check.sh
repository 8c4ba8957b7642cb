#!/bin/bash
# check.sh: what "make check" runs. Host-side helper tests, then for each
# supported kernel (tools/kernels.sh, or $KVERS) the module, the selftests
# and one VM boot running every suite (tools/vm-run.sh). Logs go to
# build/logs/; the last line is "N passed, N failed[, N skipped]".
# Anything that could not be built or run counts as a failure, and so does
# a skip tools/expected-skips does not list (see tools/tap-summary.sh).
#
# Environment: KVERS (kernels), VM_TIMEOUT (s per VM, default 1500: two VMs stay inside CI's 90 minutes), and
# what tools/vm-run.sh reads (VM_SUITE_TIMEOUT, VM_FILTER, ...).
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

# make install/uninstall into a staging dir (tools/tests/install-test.sh).
install_test() {
	local log=$LOGS/install-test.log st=0
	echo "check: install self-test (tools/tests/install-test.sh)"
	"$TOP/tools/tests/install-test.sh" >"$log" 2>&1 || st=$?
	sources+=("$log")
	if [ "$st" != 0 ] && ! grep -q '^not ok' "$log"; then
		note_fail "install self-test failed (status $st) without a failing test"
	fi
}

# The summary's own test on crafted logs: its TAP is counted like the rest.
summary_selftest() {
	local log=$LOGS/summary-selftest.log st=0
	echo "check: summary self-test (tools/tests/summary-selftest.sh)"
	"$TOP/tools/tests/summary-selftest.sh" >"$log" 2>&1 || st=$?
	sources+=("$log")
	if [ "$st" != 0 ] && ! grep -q '^not ok' "$log"; then
		note_fail "summary self-test failed (status $st) without a failing test"
	fi
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

main() {
	local k kvers
	mkdir -p "$LOGS"
	: >"$CHECK_LOG"
	kvers=${KVERS:-$("$TOP/tools/kernels.sh")}
	[ -n "$kvers" ] || note_fail "no supported kernel installed (tools/kernels.sh)"
	# A step that dies before writing its log must not leave the previous
	# run's log to be summarized: a missing log counts as a failure.
	rm -f "$LOGS/host.log" "$LOGS/summary-selftest.log" "$LOGS/install-test.log"
	for k in $kvers; do
		rm -f "$LOGS/$k.log"
	done
	summary_selftest
	build_userspace
	host_tests
	install_test
	for k in $kvers; do
		vm_tests "$k"
	done
	echo
	echo "check: summary (logs in ${LOGS#"$TOP"/}/)"
	"$TOP/tools/tap-summary.sh" "$CHECK_LOG" "${sources[@]}"
}

main "$@"
