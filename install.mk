# SPDX-License-Identifier: GPL-2.0
#
# make install / make uninstall, included by the top-level Makefile.
# Honours DESTDIR (staging root) and PREFIX (default /usr/local); each
# directory below can be overridden too. Installs the helper, the CLI, their
# man pages and the device's (roff from the RST pages, by tools/rst2man.py),
# the uapi header in a directory of its own (not linux-libc-dev's
# /usr/include/linux) with vhost-shmem.pc pointing there, the udev rule,
# the systemd template unit vhost-shmem-helper@.service and a
# modules-load.d example.
# The module itself is DKMS's job: tools/install-module.sh, or the
# Debian packages (make deb), whose vhost-shmem-dkms takes the module's
# source from "make install-dkms-src" (DESTDIR, DKMSSRCDIR).

PREFIX         ?= /usr/local
SBINDIR        ?= $(PREFIX)/sbin
MANDIR         ?= $(PREFIX)/share/man
INCLUDEDIR     ?= $(PREFIX)/include
PKGCONFIGDIR   ?= $(PREFIX)/share/pkgconfig
UDEVRULESDIR   ?= $(PREFIX)/lib/udev/rules.d
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR         ?= $(PREFIX)/share/doc/vhost-shmem
# docutils' rst2man plus the pages' kernel-doc directive (python3-docutils).
RST2MAN        ?= $(TOP)/tools/rst2man.py
INSTALL        ?= install

VERSION  := $(shell cat $(TOP)/VERSION)
# Where DKMS looks for the module's source (not under PREFIX).
DKMSSRCDIR     ?= /usr/src/vhost-shmem-$(VERSION)
# The module's source as DKMS builds it: Kbuild finds VERSION beside it.
DKMS_SRC := dkms.conf Kbuild VERSION $(sort $(wildcard kmod/*.[ch])) \
	uapi/linux/vhost_shmem.h
MAN      := $(BUILD)/man
MANPAGES := $(MAN)/vhost-shmem.4 $(MAN)/vhost-shmem.8 $(MAN)/vhost-shmem-helper.8
GEN      := $(BUILD)/dist

# Every installed file, relative to DESTDIR: uninstall removes exactly these.
INSTALLED := $(SBINDIR)/vhost-shmem-helper $(SBINDIR)/vhost-shmem \
	$(MANDIR)/man4/vhost-shmem.4 $(MANDIR)/man8/vhost-shmem.8 \
	$(MANDIR)/man8/vhost-shmem-helper.8 \
	$(INCLUDEDIR)/vhost-shmem/linux/vhost_shmem.h \
	$(PKGCONFIGDIR)/vhost-shmem.pc \
	$(UDEVRULESDIR)/60-vhost-shmem.rules \
	$(SYSTEMDUNITDIR)/vhost-shmem-helper@.service \
	$(DOCDIR)/examples/modules-load.d/vhost-shmem.conf
# Directories that only this project uses, removed when empty.
OWN_DIRS := $(INCLUDEDIR)/vhost-shmem/linux $(INCLUDEDIR)/vhost-shmem \
	$(DOCDIR)/examples/modules-load.d $(DOCDIR)/examples $(DOCDIR)

.PHONY: man install uninstall install-dkms-src

man: $(MANPAGES)

$(MAN)/vhost-shmem.4: Documentation/userspace-api/vhost-shmem.rst uapi/linux/vhost_shmem.h \
	tools/rst2man.py
$(MAN)/vhost-shmem.8: Documentation/userspace-api/vhost-shmem-cli.rst tools/rst2man.py
$(MAN)/vhost-shmem-helper.8: Documentation/userspace-api/vhost-shmem-helper.rst tools/rst2man.py
$(MANPAGES):
	@$(RST2MAN) --version >/dev/null 2>&1 || tools/install-deps.sh --check python3-docutils
	@mkdir -p $(@D)
	$(RST2MAN) --halt=warning $< $@

# The templates' @VAR@s: the paths as installed (without DESTDIR).
$(GEN)/%: dist/%.in VERSION
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@VERSION@|$(VERSION)|g' $< >$@

install: helper man $(GEN)/vhost-shmem.pc $(GEN)/vhost-shmem-helper@.service
	$(INSTALL) -d $(DESTDIR)$(SBINDIR)
	$(INSTALL) -m 0755 $(BUILD)/helper/vhost-shmem-helper $(BUILD)/helper/vhost-shmem \
		$(DESTDIR)$(SBINDIR)/
	$(INSTALL) -D -m 0644 $(MAN)/vhost-shmem.4 $(DESTDIR)$(MANDIR)/man4/vhost-shmem.4
	$(INSTALL) -D -m 0644 -t $(DESTDIR)$(MANDIR)/man8 $(MAN)/vhost-shmem.8 \
		$(MAN)/vhost-shmem-helper.8
	$(INSTALL) -D -m 0644 uapi/linux/vhost_shmem.h \
		$(DESTDIR)$(INCLUDEDIR)/vhost-shmem/linux/vhost_shmem.h
	$(INSTALL) -D -m 0644 $(GEN)/vhost-shmem.pc $(DESTDIR)$(PKGCONFIGDIR)/vhost-shmem.pc
	$(INSTALL) -D -m 0644 udev/60-vhost-shmem.rules \
		$(DESTDIR)$(UDEVRULESDIR)/60-vhost-shmem.rules
	$(INSTALL) -D -m 0644 $(GEN)/vhost-shmem-helper@.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/vhost-shmem-helper@.service
	$(INSTALL) -D -m 0644 dist/vhost-shmem.modules-load.conf \
		$(DESTDIR)$(DOCDIR)/examples/modules-load.d/vhost-shmem.conf

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(addprefix $(DESTDIR),$(OWN_DIRS)) 2>/dev/null

install-dkms-src:
	@for f in $(DKMS_SRC); do \
		$(INSTALL) -D -m 0644 $$f $(DESTDIR)$(DKMSSRCDIR)/$$f || exit 1; \
	done
