#!/bin/bash
# tap-summary.sh [LOG | --vm LOG]...: counts TAP results across logs and
# prints the failures, then, alone on the last line,
# "N passed, N failed" (", N skipped" when any were skipped).
#
#   ok ...             passed (also "# XFAIL": an expected failure)
#   ok ... # SKIP ...  skipped
#   not ok ...         failed
#
# A --vm LOG is a VM console log from tools/vm-run.sh; it is also checked
# for what a suite's own TAP cannot say: a VM that never printed its end
# marker, a suite that reported fewer results than it planned, or none, or
# exited with status 1 without a failing test. Each counts as a failure.
# Exit status: 0 only when nothing failed and something passed.
set -euo pipefail

# Emits the log's result lines plus synthesized "not ok" lines for a VM log.
vm_lines() {
	local log=$1 name
	name=$(basename "$log" .log)
	awk -v k="$name" '
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
	{ sub(/\r$/, "") }
	/^# VM-SUITE-BEGIN / {
		if (suite != "")
			print k ": not ok - " suite ": did not finish"
		suite = $3; plan = ""; results = 0; fails = 0; next
	}
	/^# VM-SUITE-END / { st = $4; sub(/^status=/, "", st); close_suite(st); next }
	suite != "" && /^1\.\.[0-9]+/ { p = $0; sub(/^1\.\./, "", p); plan = p + 0 }
	suite != "" && /^(not )?ok [0-9]+/ { results++ }
	suite != "" && /^not ok [0-9]+/ { fails++ }
	/^(not )?ok / { print k ": " $0 }
	/^not ok / { anyfail = 1 }
	/^VM-DONE rc=/ { done = 1; rc = $2; sub(/^rc=/, "", rc) }
	END {
		if (done && suite != "")
			print k ": not ok - " suite ": did not finish (runner died)"
		else if (done && rc != "0" && !anyfail)
			print k ": not ok - VM runner ended with rc=" rc
		if (!done)
			print k ": not ok - VM did not reach its end marker" \
			      (suite != "" ? " (died during " suite ")" : "") \
			      " - see " FILENAME
	}' "$log"
}

plain_lines() {
	local name
	name=$(basename "$1" .log)
	awk -v k="$name" '{ sub(/\r$/, "") } /^(not )?ok / { print k ": " $0 }' "$1"
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
	while [ $# -gt 0 ]; do
		case "$1" in
		--vm) vm_lines "$2"; shift 2 ;;
		*) plain_lines "$1"; shift ;;
		esac
	done | count
}

main "$@"
