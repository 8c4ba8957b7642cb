#!/bin/bash
# demo.sh: what "make demo" runs. Builds the module for the newest
# supported kernel, the selftests and the helper, then boots one VM that
# runs the payload's demo.sh (selftests/demo.sh) and streams it live.
# Environment: KVERS (the last one is used), VM_TIMEOUT (default 900).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
LOGS=$BUILD/logs
CHECK_LOG=$LOGS/demo-build.log
# shellcheck source=tools/vm/payload.sh
. "$TOP/tools/vm/payload.sh"

main() {
	local k dir
	mkdir -p "$LOGS"
	: >"$CHECK_LOG"
	# shellcheck disable=SC2086 # KVERS is a list
	k=$(printf '%s\n' ${KVERS:-$("$TOP/tools/kernels.sh")} | sort -V | tail -n1)
	[ -n "$k" ] || { echo "demo: no supported kernel installed" >&2; exit 1; }
	dir=$BUILD/payload/demo-$k
	build_userspace
	build_module "$k"
	make_payload "$k" "$dir"
	[ -f "$dir/demo.sh" ] ||
		echo "demo: selftests/demo.sh does not exist yet; the VM will say so and fail"
	echo "demo: kernel $k"
	"$TOP/tools/vm-run.sh" --kernel "$k" --payload "$dir" --mode demo \
		--timeout "${VM_TIMEOUT:-900}" --log "$LOGS/demo.log"
}

main "$@"
