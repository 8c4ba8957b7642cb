# SPDX-License-Identifier: GPL-2.0
#
# vhost-shmem: out-of-tree module, userspace, tests and the VM runner.
#
#   make                 module for $(KDIR) + helper + selftests
#   make module KDIR=..  module for any kernel tree
#   make check           every test, host side and in a VM per kernel
#   make check-debug     the same on the debug kernel only (KASAN, lockdep, ...)
#   make debug-kernel    build (once per machine) and print the debug kernel's dir
#   make check-sid       the same on Debian sid's current kernel only
#   make sid-kernel      set up (once per machine) and print Debian sid's kernel
#   make check-next      the same on Debian experimental's kernel only (7.3-rc);
#                        not part of make check
#   make next-kernel     set up (once per machine) and print that kernel
#   make demo            the narrated end-to-end demo in a VM
#   make lint            checkpatch --strict and sparse on kmod/ and uapi/
#   make htmldocs        Documentation/ as HTML in build/htmldocs (Sphinx,
#                        kernel-doc; fails on any warning)
#   make bench           benchmarks (not tests)
#   make fuzz            the state-machine fuzzer alone, long (DURATION=s SEED=n
#                        AVOID=list, per kernel; KVERS=debug, KVERS=sid too)
#   make fuzz-helper     the helper's fuzzer for FUZZ_TIME s (helper/fuzz/)
#   make install         helper, CLI, man pages, header, udev rule, unit (install.mk)
#   make deb             Debian packages vhost-shmem-{dkms,tools,dev} in build/deb/
#
# Build products live in build/ (build/<kernel release>/ per kernel).

TOP      := $(abspath .)
BUILD    := $(TOP)/build
# Kernels the project supports and tests: Debian's 6.1 and 6.12 flavours.
KVERS    ?= $(shell tools/kernels.sh)
# Default KDIR: the running kernel's build tree, else the newest Debian headers.
KDIR     ?= $(shell tools/kernels.sh --kdir)

KSRC     := $(wildcard kmod/*.c kmod/*.h) uapi/linux/vhost_shmem.h Kbuild

# Only "make check" and "make demo" install Debian packages (deps); every
# other target checks for what it needs and says what is missing.
DEPS_USER   := build-essential pkg-config libnl-3-dev libnl-genl-3-dev
DEPS_MODULE := build-essential bc bison flex libelf-dev kmod
CHECK_DEPS   = @tools/install-deps.sh --check $(1)

# The project's own builds (check, lint) turn warnings into errors; a plain
# "make" or a packager's build does not (WERROR=0 in the sub-Makefiles).
check check-debug check-sid check-next lint fuzz: export WERROR := 1

.PHONY: all deps module modules helper selftests kselftest-headers check check-debug \
	debug-kernel check-sid sid-kernel check-next next-kernel demo lint htmldocs bench fuzz \
	deb clean

all: module helper selftests

deps:
	@tools/install-deps.sh

# Each kernel gets its own copy of the sources so builds do not clobber
# each other's objects; cp -u keeps rebuilds incremental.
module:
	$(call CHECK_DEPS,$(DEPS_MODULE))
	@tools/build-module.sh "$(KDIR)" "$(BUILD)"

modules:
	$(call CHECK_DEPS,$(DEPS_MODULE))
	@for k in $(KVERS); do \
		tools/build-module.sh /lib/modules/$$k/build "$(BUILD)" || exit 1; \
	done

kselftest-headers:
	$(call CHECK_DEPS,linux-source-6.1 xz-utils)
	@tools/kselftest-headers.sh "$(BUILD)/kselftest"

helper:
	$(call CHECK_DEPS,$(DEPS_USER))
	@$(MAKE) -s -C helper BUILD=$(BUILD)/helper

selftests: kselftest-headers
	$(call CHECK_DEPS,$(DEPS_USER))
	@$(MAKE) -s -C selftests BUILD=$(BUILD)/selftests \
		KSFT_INC=$(BUILD)/kselftest

check: deps
	@tools/check.sh

check-debug:
	$(call CHECK_DEPS)
	@KVERS=debug tools/check.sh

debug-kernel:
	$(call CHECK_DEPS)
	@tools/debug-kernel.sh

# check-sid, check-next: KVERS=sid, KVERS=next (tools/check.sh).
check-sid check-next:
	$(call CHECK_DEPS)
	@KVERS=$(@:check-%=%) tools/check.sh

# tools/sid-kernel.sh, tools/next-kernel.sh.
sid-kernel next-kernel:
	$(call CHECK_DEPS)
	@tools/$@.sh

demo: deps
	@tools/demo.sh

bench:
	$(call CHECK_DEPS)
	@tools/bench.sh

fuzz:
	$(call CHECK_DEPS)
	@DURATION="$(DURATION)" SEED="$(SEED)" AVOID="$(AVOID)" tools/fuzz.sh

lint:
	$(call CHECK_DEPS)
	@tools/lint.sh

htmldocs:
	@tools/htmldocs.sh

fuzz-helper: deps ; @$(MAKE) -s -C helper fuzz BUILD=$(BUILD)/helper

# dpkg-buildpackage -b in a copy of the tree (build/deb/src/): the
# packages, .changes and .buildinfo land in build/deb/, nothing in the tree.
DEPS_DEB := dpkg-dev debhelper dh-dkms python3-docutils $(DEPS_USER)
deb:
	$(call CHECK_DEPS,$(DEPS_DEB))
	@tools/make-deb.sh "$(BUILD)/deb"

clean:
	rm -rf $(BUILD)

# make install / make uninstall (PREFIX, DESTDIR): install.mk
include install.mk
