#!/bin/bash
# payload.sh: functions shared by tools/check.sh and tools/demo.sh (sourced).
# The payload directory that tools/vm-run.sh puts at /payload in the VM:
#   vhost_shmem.ko   the module under test (init insmods it once)
#   tests/*_test     kselftest suites, run in name order by run-suites.sh
#   bin/             helper binaries, other selftests programs and
#                    vhost-shmem-bench, when built (in PATH)
#   data/            selftests/data/, if there is one
#   demo.sh          selftests/demo.sh, run by "make demo"
#   ynl/             the kernel's Python YNL CLI with Debian's python3
#                    (tools/ynl.sh vm) and the netlink spec; bin/ynl runs it

# Every step appends "not ok - ..." lines for failures to $CHECK_LOG.
note_fail() {
	echo "not ok - $*" | tee -a "$CHECK_LOG"
}

# make_payload KVER DIR: assembles DIR from what has been built; says what
# is missing, the VM still runs with whatever is there.
make_payload() {
	local k=$1 dir=$2 f
	rm -rf "$dir"
	mkdir -p "$dir/tests" "$dir/bin"
	if [ -f "$BUILD/$k/vhost_shmem.ko" ]; then
		cp "$BUILD/$k/vhost_shmem.ko" "$dir/"
	else
		note_fail "$k: no vhost_shmem.ko was built"
	fi
	for f in "$BUILD"/selftests/* "$BUILD"/helper/* "$BUILD"/bench/*; do
		if [ ! -f "$f" ] || [ ! -x "$f" ]; then continue; fi
		case "$f" in
		*.o | *.so | *.a) ;;
		"$BUILD"/selftests/*_test) cp "$f" "$dir/tests/" ;;
		*) cp "$f" "$dir/bin/" ;;
		esac
	done
	[ -d "$TOP/selftests/data" ] && cp -r "$TOP/selftests/data" "$dir/data"
	[ -f "$TOP/selftests/demo.sh" ] && cp "$TOP/selftests/demo.sh" "$dir/demo.sh"
	ynl_payload "$dir"
	return 0
}

# The Python YNL CLI for ynl_test (12 MB, cached by tools/ynl.sh).
ynl_payload() {
	local dir=$1 tree
	if ! tree=$("$TOP/tools/ynl.sh" vm); then
		note_fail "the Python YNL CLI for the VM could not be built (tools/ynl.sh vm)"
		return 0
	fi
	cp -a "$tree" "$dir/ynl"
	cp "$TOP/Documentation/netlink/specs/vhost_shmem.yaml" "$dir/ynl/"
	ln -s ../ynl/bin/ynl "$dir/bin/ynl"
}

# The module for kernel $1 (tools/build-module.sh, W=1 -Werror).
build_module() {
	"$TOP/tools/build-module.sh" "/lib/modules/$1/build" "$BUILD" ||
		note_fail "$1: module build failed (tools/build-module.sh)"
}

# make -C $1 into build/$1 (with the kselftest headers); a failure is noted.
build_part() {
	make -s -C "$TOP/$1" BUILD="$BUILD/$1" KSFT_INC="$BUILD/kselftest" ||
		note_fail "$1 build failed"
}

# Userspace parts; kernel independent, built once.
build_userspace() {
	"$TOP/tools/kselftest-headers.sh" "$BUILD/kselftest" ||
		note_fail "kselftest headers could not be extracted"
	build_part selftests
	build_part helper
}
