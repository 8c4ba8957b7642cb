#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run.sh BIN SEEDS WORK SECONDS: runs the helper's fuzzer BIN for SECONDS on
# the seed corpus SEEDS (read only) and the corpus it grew before, in
# WORK/corpus; prints one TAP result:
#
#   ok 1 helper-fuzz: X execs, Y s, no crash
#   not ok 1 helper-fuzz: ... failing input saved as WORK/failed/crash-...
#
# libFuzzer's output goes to WORK/fuzz.log (the reason of a failure is
# also shown, as TAP comments). Extra libFuzzer options: $FUZZ_ARGS.
# Exit status: 0 only for "ok".
set -uo pipefail

bin=$1 seeds=$2 work=$3 secs=$4
log=$work/fuzz.log

tap() {
	echo "TAP version 13"
	echo "1..1"
	echo "$1 1 helper-fuzz: $2"
}

if [ ! -x "$bin" ]; then
	tap "not ok" "no fuzzer binary $bin (needs clang with libFuzzer: apt-get install clang libclang-rt-14-dev)"
	exit 1
fi
mkdir -p "$work/corpus" "$work/failed"
# Only this run's failing input counts (older ones stay for inspection).
marker=$work/.run-start
: >"$marker"
start=$(date +%s)
# shellcheck disable=SC2086
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
	-print_final_stats=1 -artifact_prefix="$work/failed/" ${FUZZ_ARGS:-} \
	"$work/corpus" "$seeds" >"$log" 2>&1
st=$?
took=$(($(date +%s) - start))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
[ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
[ -n "$execs" ] || execs=0
failed=$(find "$work/failed" -type f -newer "$marker" | head -n 1)
rm -f "$marker"

if [ "$st" = 0 ] && [ -z "$failed" ] && grep -q '^Done [0-9]* runs' "$log"; then
	tap "ok" "$execs execs, $took s, no crash"
	exit 0
fi
if [ -n "$failed" ]; then
	tap "not ok" "failed after $execs execs, $took s; failing input saved as $failed (log: $log)"
else
	tap "not ok" "fuzzer exited with status $st after $execs execs, $took s, saving no input (log: $log)"
fi
# Why, and where in the helper (stack frames outside libFuzzer and libc).
grep -E '^helper-fuzz:|ERROR: |SUMMARY: |runtime error|^    #[0-9]+ .* /[^ ]*helper/' "$log" |
	grep -v 'fz_fail' | head -n 30 | sed 's/^/# /'
echo "# reproduce: HELPER_FUZZ_TRACE=1 $bin ${failed:-INPUT}"
exit 1
