# SPDX-License-Identifier: GPL-2.0
#
# vhost-shmem: out-of-tree module, userspace, tests and the VM runner.
#
#   make                 module for $(KDIR) + helper + selftests
#   make module KDIR=..  module for any kernel tree
#   make check           every test, host side and in a VM per kernel
#   make demo            the narrated end-to-end demo in a VM
#   make lint            checkpatch --strict and sparse on kmod/ and uapi/
#   make bench           benchmarks (not tests)
#   make fuzz-helper     the helper's fuzzer for FUZZ_TIME s (helper/fuzz/)
#
# Build products live in build/ (build/<kernel release>/ per kernel).

TOP      := $(abspath .)
BUILD    := $(TOP)/build
# Kernels the project supports and tests: Debian's 6.1 and 6.12 flavours.
KVERS    ?= $(shell tools/kernels.sh)
# Default KDIR: the running kernel's build tree, else the newest Debian headers.
KDIR     ?= $(shell tools/kernels.sh --kdir)

KSRC     := $(wildcard kmod/*.c kmod/*.h) uapi/linux/vhost_shmem.h Kbuild

.PHONY: all deps module modules helper selftests kselftest-headers check demo \
	lint bench clean

all: module helper selftests

deps:
	@tools/install-deps.sh

# Each kernel gets its own copy of the sources so builds do not clobber
# each other's objects; cp -u keeps rebuilds incremental.
module: deps
	@tools/build-module.sh "$(KDIR)" "$(BUILD)"

modules: deps
	@for k in $(KVERS); do \
		tools/build-module.sh /lib/modules/$$k/build "$(BUILD)" || exit 1; \
	done

kselftest-headers: deps
	@tools/kselftest-headers.sh "$(BUILD)/kselftest"

helper: deps
	@$(MAKE) -s -C helper BUILD=$(BUILD)/helper

selftests: deps kselftest-headers
	@$(MAKE) -s -C selftests BUILD=$(BUILD)/selftests \
		KSFT_INC=$(BUILD)/kselftest

check: deps
	@tools/check.sh

demo: deps
	@tools/demo.sh

bench: deps
	@tools/bench.sh

lint: deps
	@tools/lint.sh

fuzz-helper: deps ; @$(MAKE) -s -C helper fuzz BUILD=$(BUILD)/helper

clean:
	rm -rf $(BUILD)
