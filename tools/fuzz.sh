#!/bin/bash
# fuzz.sh: what "make fuzz" runs. For each supported kernel (tools/kernels.sh,
# or $KVERS): the module, the selftests and one VM boot running only the
# state-machine fuzzer (selftests/fuzz/) for $DURATION seconds with $SEED
# (default: a new seed from the clock, printed by the fuzzer). Logs go to
# build/logs/fuzz-<kernel>.log; the last line is "N passed, N failed".
#
# Environment: DURATION (s per kernel, default 600), SEED, AVOID (the
# fuzzer's --avoid-known list: default the module bugs still open, see
# selftests/fuzz/fuzz.h; "none" runs into them too), KVERS.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
LOGS=$BUILD/logs
CHECK_LOG=$LOGS/fuzz.log
# shellcheck source=tools/vm/payload.sh
. "$TOP/tools/vm/payload.sh"

main() {
	local k kvers dur=${DURATION:-600} sources=()
	mkdir -p "$LOGS"
	: >"$CHECK_LOG"
	kvers=${KVERS:-$("$TOP/tools/kernels.sh")}
	build_userspace
	for k in $kvers; do
		echo "fuzz: kernel $k, ${dur}s"
		build_module "$k"
		make_payload "$k" "$BUILD/payload/$k"
		# Reductions of new failures run inside the budget; leave room.
		VM_FILTER='^fuzz_test$' VM_FUZZ_DURATION=$dur VM_FUZZ_SEED=${SEED:-} \
			VM_FUZZ_AVOID=${AVOID:-} VM_SUITE_TIMEOUT=$((dur + 600)) \
			"$TOP/tools/vm-run.sh" --kernel "$k" --payload "$BUILD/payload/$k" \
			--mode check --timeout $((dur + 900)) --log "$LOGS/fuzz-$k.log" || true
		sources+=(--vm "$LOGS/fuzz-$k.log")
	done
	echo
	# The VMs ran fuzz_test alone: no other suite is expected.
	"$TOP/tools/tap-summary.sh" --suites fuzz_test "$CHECK_LOG" "${sources[@]}"
}

main "$@"
