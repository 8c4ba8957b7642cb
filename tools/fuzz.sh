#!/bin/bash
# fuzz.sh: what "make fuzz" runs. For each supported kernel (tools/kernels.sh,
# or $KVERS): the module, the selftests and one VM boot running only the
# state-machine fuzzer (selftests/fuzz/) for $DURATION seconds with $SEED
# (default: a new seed from the clock, printed by the fuzzer). Logs go to
# build/logs/fuzz-<kernel>.log; the last line is "N passed, N failed".
#
# Environment: DURATION (s per kernel, default 600), SEED, AVOID (the
# fuzzer's --avoid-known list: default the module bugs still open, see
# selftests/fuzz/fuzz.h; "none" runs into them too), KVERS (releases, and
# "debug" for the debug kernel, "sid" for Debian sid's, as in make check).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
LOGS=$BUILD/logs
CHECK_LOG=$LOGS/fuzz.log
# shellcheck source=tools/vm/payload.sh
. "$TOP/tools/vm/payload.sh"

# fuzz_vm NAME LOG VM-RUN-ARGS...: one boot running fuzz_test alone.
fuzz_vm() {
	local k=$1 log=$2 dur=${DURATION:-600}
	shift 2
	make_payload "$k" "$BUILD/payload/$k"
	# Reductions of new failures run inside the budget; leave room.
	VM_FILTER='^fuzz_test$' VM_FUZZ_DURATION=$dur VM_FUZZ_SEED=${SEED:-} \
		VM_FUZZ_AVOID=${AVOID:-} VM_SUITE_TIMEOUT=$((dur + 600)) \
		"$TOP/tools/vm-run.sh" --kernel "$k" --payload "$BUILD/payload/$k" \
		--mode check --timeout $((dur + 900)) --log "$log" "$@" || true
	sources+=(--vm "$log")
}

# KVERS=debug: the debug kernel (tools/debug-kernel.sh), as in make check.
fuzz_debug() {
	local dir k
	k=$("$TOP/tools/debug-kernel.sh" --release || echo debug-kernel)
	echo "fuzz: kernel $k (debug), ${DURATION:-600}s"
	if ! dir=$("$TOP/tools/debug-kernel.sh"); then
		note_fail "$k: the debug kernel could not be built (tools/debug-kernel.sh)"
		return 0
	fi
	"$TOP/tools/build-module.sh" "$dir/$k" "$BUILD" ||
		note_fail "$k: module build failed (tools/build-module.sh)"
	VM_DEBUG=1 VM_APPEND="kasan_multi_shot ${VM_APPEND:-}" \
		fuzz_vm "$k" "$LOGS/fuzz-$k.log" --image "$dir/bzImage"
}

# KVERS=sid: Debian sid's kernel (tools/sid-kernel.sh), as in make check-sid.
fuzz_sid() {
	local env
	if ! env=$("$TOP/tools/sid-kernel.sh"); then
		note_fail "sid: Debian sid's kernel could not be set up (tools/sid-kernel.sh)"
		return 0
	fi
	eval "$env"
	echo "fuzz: kernel $SID_RELEASE ($SID_NAME), ${DURATION:-600}s"
	"$TOP/tools/build-module.sh" --root "$SID_ROOT" "$SID_KDIR" "$BUILD" ||
		note_fail "$SID_NAME: module build failed (tools/build-module.sh)"
	fuzz_vm "$SID_RELEASE" "$LOGS/fuzz-$SID_NAME.log" --image "$SID_IMAGE" \
		--modules-dir "$SID_MODULES"
}

main() {
	local k kvers
	sources=()
	mkdir -p "$LOGS"
	: >"$CHECK_LOG"
	kvers=${KVERS:-$("$TOP/tools/kernels.sh")}
	build_userspace
	for k in $kvers; do
		case "$k" in
		debug) fuzz_debug ;;
		sid) fuzz_sid ;;
		*)
			echo "fuzz: kernel $k, ${DURATION:-600}s"
			build_module "$k"
			fuzz_vm "$k" "$LOGS/fuzz-$k.log"
			;;
		esac
	done
	echo
	# The VMs ran fuzz_test alone: no other suite is expected.
	"$TOP/tools/tap-summary.sh" --suites fuzz_test "$CHECK_LOG" "${sources[@]}"
}

main "$@"
