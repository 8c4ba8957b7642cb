#!/bin/bash
# summary-selftest.sh: runs tools/tap-summary.sh on the crafted logs in
# tools/tests/data/ and checks its verdict, so a summary that stops
# catching a bad run fails make check (tools/check.sh runs this before the
# VMs). Prints TAP. The crafted VM logs have two suites, alpha_test and
# beta_test; data/expected-skips allows beta.udmabuf.* to skip on 6.1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
data=$here/data
summary=$here/../tap-summary.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
rc=0

# as KERNEL FILE: the path of a copy of data/FILE named KERNEL.log, since
# the summary takes a VM's kernel from its log's name.
as() {
	cp "$data/$2" "$tmp/$1.log"
	echo "$tmp/$1.log"
}

# t NAME STATUS TEXT ARGS...: tap-summary.sh ARGS must exit with STATUS and
# print TEXT: its whole last line when STATUS is 0, else part of a line
# (the failure it must report).
t() {
	local name=$1 want=$2 text=$3 out st=0 good
	shift 3
	n=$((n + 1))
	out=$("$summary" --suites "alpha_test beta_test" \
		--skips "$data/expected-skips" "$@" 2>&1) || st=$?
	if [ "$want" = 0 ]; then
		[ "$(tail -n1 <<<"$out")" = "$text" ] && good=1
	else
		grep -qF -- "$text" <<<"$out" && good=1
	fi
	if [ "$st" = "$want" ] && [ -n "${good:-}" ]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name (status $st, wanted $want and \"$text\")"
		awk '{ print "#   " $0 }' <<<"$out"
		rc=1
	fi
}

k61=6.1.0-0-amd64
k612=6.12.0-0+deb12-amd64
kdbg=6.12.0-debug

echo "TAP version 13"
t "good VM log passes" 0 "6 passed, 0 failed" --vm "$(as $k61 good.log)"
t "good logs of two kernels add up" 0 "12 passed, 0 failed" \
	--vm "$(as $k61 good.log)" --vm "$(as $k612 good.log)"
t "listed skip counts as a skip" 0 "5 passed, 0 failed, 1 skipped" \
	--vm "$(as $k61 skip.log)"
t "skip listed for 6.1 only fails on 6.12" 1 \
	"$k612: not ok - beta_test.beta.udmabuf.rw: skip not allowed" --vm "$(as $k612 skip.log)"
t "skip listed for 6.1 only fails on the debug kernel" 1 \
	"$kdbg: not ok - beta_test.beta.udmabuf.rw: skip not allowed" --vm "$(as $kdbg skip.log)"
t "listed test skipping for an unlisted reason fails" 1 \
	"beta.udmabuf.rw: skip not allowed by tools/tests/data/expected-skips: memfd for udmabuf" \
	--vm "$(as $k61 unlisted-skip.log)"
t "all-skip run after insmod failure fails" 1 \
	"not ok - init: insmod vhost_shmem.ko failed" --vm "$(as $k61 insmod-failed.log)"
t "all-skip run: vhost_shmem not loaded" 1 \
	"not ok - vhost_shmem.ko was not loaded at boot" --vm "$(as $k61 insmod-failed.log)"
t "all-skip run: each unlisted skip fails" 1 \
	"not ok - alpha_test.alpha.two: skip not allowed" --vm "$(as $k61 insmod-failed.log)"
t "missing /dev/kvm fails" 1 "not ok - no /dev/kvm in the VM" --vm "$(as $k61 no-kvm.log)"
t "plan 1..0 fails" 1 "not ok - beta_test: planned no tests (1..0)" --vm "$(as $k61 plan0.log)"
t "missing suite fails" 1 "not ok - beta_test: did not run" --vm "$(as $k61 missing-suite.log)"
t "suite that did not finish fails" 1 "not ok - beta_test: did not finish" \
	--vm "$(as $k61 unfinished.log)"
t "suite cut off by the next one fails" 1 "not ok - alpha_test: did not finish" \
	--vm "$(as $k61 cut-off.log)"
t "missing VM log fails" 1 "$k612: not ok - no log $tmp/gone/$k612.log" \
	--vm "$(as $k61 good.log)" --vm "$tmp/gone/$k612.log"
t "missing plain log fails" 1 "host: not ok - no log" --vm "$(as $k61 good.log)" "$tmp/host.log"
t "unlisted skip in a host log fails" 1 "host: not ok - host.h.binaries: skip not allowed" \
	--vm "$(as $k61 good.log)" "$(as host host-skip.log)"
echo "1..$n"
exit $rc
