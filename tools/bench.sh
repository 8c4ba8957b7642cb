#!/bin/bash
# bench.sh: what "make bench" runs (benchmarks, not tests; not part of
# "make check"). For each supported kernel (tools/kernels.sh, or $KVERS):
# the module, vhost-shmem-bench and the helper, then ONE VM boot running
# vhost-shmem-bench (bench/). Results go to build/bench/results/:
#   <kernel>.txt    the table the bench printed
#   <kernel>.json   its JSON; results.json has every kernel's
#   <kernel>.dat    median/p99 per path and point (gnuplot input)
#   <kernel>.png    latency against live mappings, one line per path
#   results.rst     the tables for Documentation/performance/
# Environment: KVERS, VM_TIMEOUT (s per VM, default 2400), VM_BENCH_ARGS
# (vhost-shmem-bench options, e.g. "--live 1,1000 --iters 200").
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
LOGS=$BUILD/logs
OUT=$BUILD/bench/results
CHECK_LOG=$LOGS/bench-build.log
# shellcheck source=tools/vm/payload.sh
. "$TOP/tools/vm/payload.sh"

# The parts of console log $1 the bench marked, into $OUT/$2.*.
collect() {
	local log=$1 k=$2
	sed -n '/^vhost-shmem-bench, kernel/,/^BENCH-DAT/p' "$log" | sed '$d' >"$OUT/$k.txt"
	sed -n 's/^BENCH-DAT //p' "$log" >"$OUT/$k.dat"
	sed -n 's/^BENCH-JSON //p' "$log" >"$OUT/$k.json"
	[ -s "$OUT/$k.json" ]
}

# Median latency against live mappings (log-log), one line per path.
plot() {
	local k=$1
	command -v gnuplot >/dev/null || { echo "bench: no gnuplot, no plot"; return 0; }
	gnuplot <<-EOF
		set terminal pngcairo size 900,560 noenhanced
		set output "$OUT/$k.png"
		set title "MAP+UNMAP of one 4 KiB mapping: median, bars to p99 ($k, TCG VM)"
		set logscale xy
		set xlabel "live mappings"
		set ylabel "microseconds"
		set key top left
		set xrange [0.5:100000]
		set grid
		plot for [i=0:6] "$OUT/$k.dat" using 1:(column(2+2*i)):(column(2+2*i)):(column(3+2*i)) \\
			with yerrorlines title word("floor owner other-process other-process,batch-of-8 vhost-user vhost-user,pipelined-8 memslot-per-mapping", i+1)
	EOF
}

# The tables as RST literal blocks, for Documentation/performance/.
rst_tables() {
	local k
	echo ".. Written by tools/bench.sh ($(date -u +%Y-%m-%d)); copy from build/bench/results/results.rst."
	for k in "$@"; do
		[ -s "$OUT/$k.txt" ] || continue
		printf '\nKernel %s\n%s\n\n::\n\n' "$k" "$(printf '%*s' $((7 + ${#k})) '' | tr ' ' -)"
		sed 's/^/    /; s/^    $//' "$OUT/$k.txt"
	done
}

main() {
	local k kvers dir log rc=0 jsons=()
	mkdir -p "$LOGS" "$OUT"
	: >"$CHECK_LOG"
	kvers=${KVERS:-$("$TOP/tools/kernels.sh")}
	[ -n "$kvers" ] || { echo "bench: no supported kernel installed" >&2; exit 1; }
	build_userspace
	build_part bench
	for k in $kvers; do
		dir=$BUILD/payload/bench-$k
		log=$LOGS/bench-$k.log
		build_module "$k"
		make_payload "$k" "$dir"
		echo "bench: kernel $k"
		VM_MEM=${VM_MEM:-4G} "$TOP/tools/vm-run.sh" --kernel "$k" --payload "$dir" \
			--mode bench --timeout "${VM_TIMEOUT:-2400}" --log "$log" || true
		if collect "$log" "$k"; then
			plot "$k"
			jsons+=("$OUT/$k.json")
		else
			note_fail "$k: the bench printed no results (see ${log#"$TOP"/})"
			rc=1
		fi
	done
	if [ ${#jsons[@]} -gt 0 ]; then
		{ printf '{"runs":['; cat "${jsons[@]}" | paste -sd, | tr -d '\n'; printf ']}\n'; } \
			>"$OUT/results.json"
	fi
	rst_tables $kvers >"$OUT/results.rst"
	echo
	for k in $kvers; do
		[ -s "$OUT/$k.txt" ] && cat "$OUT/$k.txt"
	done
	echo "bench: results in ${OUT#"$TOP"/}/ (txt, json, dat, png)"
	[ -s "$CHECK_LOG" ] && rc=1
	return $rc
}

main "$@"
