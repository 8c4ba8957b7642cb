#!/bin/bash
# kselftest-headers.sh DIR: extracts kselftest.h and kselftest_harness.h from
# Debian's linux-source-6.1 tarball into DIR (once).
set -euo pipefail
dir=$1
[ -f "$dir/kselftest_harness.h" ] && exit 0
tarball=$(ls /usr/src/linux-source-6.1.tar.xz)
mkdir -p "$dir"
tar -xJf "$tarball" -C "$dir" --strip-components=4 --wildcards \
	'linux-source-6.1/tools/testing/selftests/kselftest.h' \
	'linux-source-6.1/tools/testing/selftests/kselftest_harness.h'
