#!/bin/bash
# tap-summary.sh [--suites "NAMES"] [--skips FILE] [LOG | --vm LOG]...:
# counts TAP results across logs and prints the failures, then, alone on the
# last line, "N passed, N failed" (", N skipped" when any were skipped).
#
#   ok ...             passed (also "# XFAIL": an expected failure)
#   ok ... # SKIP ...  skipped, if FILE allows it; else failed
#   not ok ...         failed
#
# A skip counts as a skip only when FILE (default tools/expected-skips)
# lists that test and reason for that kernel; the file says how.
# A plan of 1..0 and a LOG that does not exist are failures.
#
# A --vm LOG is a VM console log from tools/vm-run.sh, named after its
# kernel (build/logs/<kernel>.log). It is also checked for what a suite's
# own TAP cannot say: a VM that never printed its end marker; a module the
# VM could not insmod; vhost_shmem not loaded; no /dev/kvm; an expected
# suite that did not run; a suite that reported fewer results than it
# planned, or none, or exited with status 1 without a failing test. Each
# counts as a failure. The expected suites are NAMES, by default one per
# selftests/*_test.c and selftests/*/*_test.c (a suite built from a
# directory, as selftests/fuzz/), those matching VM_FILTER when it is set,
# as the VM runs only those.
# Exit status: 0 only when nothing failed and something passed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
skips=$top/tools/expected-skips
suites=

# The suites the VM runs: every built selftests/*_test.c and
# selftests/<dir>/*_test.c, as filtered.
default_suites() {
	local f s
	for f in "$top"/selftests/*_test.c "$top"/selftests/*/*_test.c; do
		[ -f "$f" ] || continue
		s=$(basename "$f" .c)
		if [ -n "${VM_FILTER:-}" ] && ! echo "$s" | grep -Eq "$VM_FILTER"; then
			continue
		fi
		echo "$s"
	done
}

# judge plain|vm LOG: the log's result lines, skips judged against the
# list, plus synthesized "not ok" lines for what the log lacks.
judge() {
	local mode=$1 log=$2 name
	name=$(basename "$log" .log)
	if [ ! -f "$log" ]; then
		echo "$name: not ok - no log $log (the run stopped before writing it)"
		return 0
	fi
	awk -v k="$name" -v vm="$([ "$mode" = vm ] && echo 1 || echo 0)" \
		-v suites="$suites" -v skips="$skips" -v skipname="${skips#"$top"/}" '
	# Shell glob (* and ?) to an anchored regex; other characters literal.
	function glob_re(g,    i, c, r) {
		r = ""
		for (i = 1; i <= length(g); i++) {
			c = substr(g, i, 1)
			if (c == "*") r = r ".*"
			else if (c == "?") r = r "."
			else if (c == "^" || c == "\\") r = r "\\" c
			else r = r "[" c "]"
		}
		return "^" r "$"
	}
	function allowed(test, reason,    i) {
		for (i = 1; i <= nallow; i++)
			if (test ~ allow_re[i] && reason == allow_why[i])
				return 1
		return 0
	}
	function close_suite(st) {
		if (st == "0" || st == "1" || st == "4") {
			if (plan == "" && results == 0)
				print k ": not ok - " suite ": printed no TAP results"
			else if (plan != "" && results < plan)
				print k ": not ok - " suite ": only " results \
				      " of " plan " planned tests reported"
			if (st == "1" && fails == 0)
				print k ": not ok - " suite \
				      ": exited with status 1 but reported no failing test"
		}
		suite = ""
	}
	BEGIN {
		# Only the lines for this kernel: "<kernel-glob> <test-glob> <reason>".
		while ((getline line < skips) > 0) {
			if (line ~ /^[ \t]*(#|$)/ || split(line, f) < 3 || k !~ glob_re(f[1]))
				continue
			why = line
			sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]+/, "", why)
			sub(/[ \t]+$/, "", why)
			nallow++
			allow_re[nallow] = glob_re(f[2])
			allow_why[nallow] = why
		}
		nwant = split(suites, want, " ")
	}
	{ sub(/\r$/, "") }
	vm && /^# VM-SUITE-BEGIN / {
		if (suite != "")
			print k ": not ok - " suite ": did not finish"
		suite = $3; ran[suite] = 1; plan = ""; results = 0; fails = 0; test = ""; next
	}
	vm && /^# VM-SUITE-END / { st = $4; sub(/^status=/, "", st); close_suite(st); next }
	# What tools/vm/init and run-suites.sh say when the setup is incomplete.
	vm && /^# (init|run-suites): .*insmod .* failed/ { print k ": not ok - " substr($0, 3) }
	vm && /^# init: vhost_shmem loaded/ { loaded = 1 }
	vm && /^# init: \/dev\/kvm present/ { kvm = 1 }
	# A suite that plans nothing tested nothing (kselftest: "1..0 # SKIP").
	/^1\.\.0([^0-9]|$)/ { print k ": not ok - " (suite != "" ? suite : k) ": planned no tests (" $0 ")" }
	suite != "" && /^1\.\.[0-9]+/ { p = $0; sub(/^1\.\./, "", p); plan = p + 0 }
	suite != "" && /^(not )?ok [0-9]+/ { results++ }
	suite != "" && /^not ok [0-9]+/ { fails++ }
	# kselftest_harness names the test on its "#  RUN" line, not on "ok N # SKIP".
	/^#  RUN / { test = $3 }
	# The same lines count() takes for skips.
	/^ok .*# *[Ss][Kk][Ii][Pp]([^A-Za-z]|$)/ {
		t = $0; sub(/^ok [0-9]* */, "", t); sub(/ *#.*/, "", t)
		if (t == "") t = test
		why = $0; sub(/^.*# *[Ss][Kk][Ii][Pp][ \t:]*/, "", why); sub(/[ \t]+$/, "", why)
		t = (suite != "" ? suite : k) "." t
		if (!allowed(t, why)) {
			print k ": not ok - " t ": skip not allowed by " skipname ": " why
			anyfail = 1
			next
		}
	}
	/^(not )?ok / { print k ": " $0 }
	/^not ok / { anyfail = 1 }
	/^VM-DONE rc=/ { done = 1; rc = $2; sub(/^rc=/, "", rc) }
	END {
		if (!vm)
			exit
		if (done && suite != "")
			print k ": not ok - " suite ": did not finish (runner died)"
		else if (done && rc != "0" && !anyfail)
			print k ": not ok - VM runner ended with rc=" rc
		if (!done)
			print k ": not ok - VM did not reach its end marker" \
			      (suite != "" ? " (died during " suite ")" : "") \
			      " - see " FILENAME
		if (!loaded)
			print k ": not ok - vhost_shmem.ko was not loaded at boot (no \"# init: vhost_shmem loaded\")"
		if (!kvm)
			print k ": not ok - no /dev/kvm in the VM (no \"# init: /dev/kvm present\")"
		for (i = 1; i <= nwant; i++)
			if (!(want[i] in ran))
				print k ": not ok - " want[i] ": did not run"
	}' "$log"
}

# Reads result lines on stdin; prints failures and the closing line.
count() {
	awk '
	/^[^ ]+: not ok / { failed++; fl[failed] = $0; next }
	/^[^ ]+: ok .*# *[Ss][Kk][Ii][Pp]([^A-Za-z]|$)/ { skipped++; next }
	/^[^ ]+: ok / { passed++ }
	END {
		for (i = 1; i <= failed; i++)
			print "# FAILED: " fl[i]
		if (passed + failed + skipped == 0)
			print "# nothing ran"
		else if (passed == 0)
			print "# nothing passed"
		line = passed + 0 " passed, " failed + 0 " failed"
		if (skipped)
			line = line ", " skipped " skipped"
		print line
		exit (failed || !passed) ? 1 : 0
	}'
}

main() {
	local logs=() suites_set=0 i
	while [ $# -gt 0 ]; do
		case "$1" in
		--suites) suites=$2; suites_set=1; shift 2 ;;
		--skips) skips=$2; shift 2 ;;
		--vm) logs+=(vm "$2"); shift 2 ;;
		*) logs+=(plain "$1"); shift ;;
		esac
	done
	[ "$suites_set" = 1 ] || suites=$(default_suites | tr '\n' ' ')
	for ((i = 0; i < ${#logs[@]}; i += 2)); do
		judge "${logs[i]}" "${logs[i + 1]}"
	done | count
}

main "$@"
