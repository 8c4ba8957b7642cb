# shellcheck shell=bash
# tap.sh: TAP output for the host-side self-tests (sourced). Sets n (tests
# so far) and rc (1 once one failed); the caller exits with $rc.
n=0
# shellcheck disable=SC2034 # the caller exits with it
rc=0

ok() {
	n=$((n + 1))
	echo "ok $n $1"
}
# not_ok NAME [OUTPUT]: a failure, OUTPUT as "# " diagnostics.
not_ok() {
	n=$((n + 1))
	# shellcheck disable=SC2034 # the caller exits with it
	rc=1
	echo "not ok $n $1"
	[ -z "${2:-}" ] || while IFS= read -r l; do echo "# $l"; done <<<"$2"
}
# check NAME CMD...: one TAP line for CMD's status; the last 40 lines of
# its output on failure.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$(tail -n 40 <<<"$out")"; fi
}
