// SPDX-License-Identifier: GPL-2.0
/*
 * The narrated demo: a tiny VMM owns a vhost-shmem region with one KVM
 * memslot over it; a second process (playing the vhost-user side) gets the
 * device fd over SCM_RIGHTS and maps a backend memfd into the region. The
 * guest reads the backend's bytes, then a hole after UNMAP, and no memslot
 * ever changes after setup.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm_vmm.h"
#include "vhost_shmem_lib.h"

#define REGION_SIZE	(2ULL << 20)
#define MAP_OFFSET	0x10000ULL
#define MESSAGE		"Hello, guest! These bytes live in a backend memfd."

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* The guest reads @len bytes at region offset @off, 4 at a time. */
static int guest_read(struct kvm_vmm *v, uint64_t off, char *buf, size_t len)
{
	struct vmm_result res;
	size_t i;

	for (i = 0; i < len; i += 4) {
		if (vmm_read32(v, off + i, &res) || res.outcome != VMM_HLT)
			return -1;
		memcpy(buf + i, &res.value, len - i < 4 ? len - i : 4);
	}
	return 0;
}

static void show_guest_bytes(struct kvm_vmm *v, uint64_t off, size_t len)
{
	char buf[64] = "";

	if (guest_read(v, off, buf, len)) {
		say("  guest: reading GPA %#llx failed", VMM_REGION_GPA + off);
		return;
	}
	if (!memcmp(buf, (char[64]){ 0 }, len))
		say("  guest reads GPA %#llx: %zu zero bytes (a hole)",
		    VMM_REGION_GPA + off, len);
	else
		say("  guest reads GPA %#llx: \"%.*s\"", VMM_REGION_GPA + off,
		    (int)len, buf);
}

int main(void)
{
	const struct vs_layout layout = { .shmid = 0, .size = REGION_SIZE };
	size_t len = sizeof(MESSAGE) - 1;
	struct vs_remote backend;
	struct vmm_result res;
	struct kvm_vmm vmm;
	struct vs_dev dev;
	char file[9];
	int memfd, ret;

	if (!vs_have_dev() || !vmm_available()) {
		say("demo: needs /dev/vhost-shmem and /dev/kvm");
		return 1;
	}
	say("== vhost-shmem demo: a KVM guest sees backend memory, no memslot changes ==");
	ret = vs_dev_setup(&dev, &layout, 1, true);
	if (ret) {
		say("demo: device setup failed: %s (%s)", dev.err, strerror(-ret));
		return 1;
	}
	say("VMM (pid %d): opened /dev/vhost-shmem, SET_OWNER, region 0 = 2 MiB,",
	    getpid());
	say("  mmapped at %p; one KVM memslot over it at GPA %#llx",
	    (void *)dev.r[0].addr, VMM_REGION_GPA);
	ret = vmm_init(&vmm, dev.r[0].addr, REGION_SIZE);
	if (ret) {
		say("demo: KVM setup failed: %s", strerror(-ret));
		return 1;
	}
	show_guest_bytes(&vmm, MAP_OFFSET, 16);

	if (vs_remote_start(&backend, dev.fd)) {
		say("demo: could not start the backend process");
		return 1;
	}
	memfd = vs_memfd("demo-backend", 0x10000, 1);
	if (memfd < 0 || pwrite(memfd, MESSAGE, len, 0) != (ssize_t)len) {
		say("demo: memfd: %s", strerror(errno));
		return 1;
	}
	say("backend (pid %d, got the device fd by SCM_RIGHTS): MAP memfd -> region 0 +%#llx, read-only",
	    backend.pid, MAP_OFFSET);
	ret = vs_remote_map(&backend, 0, memfd, 0, MAP_OFFSET, 0x10000, 0);
	say("  MAP returned %d (%s)", ret, ret ? strerror(-ret) : "ok");
	if (ret)
		return 1;
	show_guest_bytes(&vmm, MAP_OFFSET, len);

	vmm_write32(&vmm, MAP_OFFSET, 0x21212121, &res);
	memset(file, 0, sizeof(file));
	if (pread(memfd, file, 8, 0) != 8)
		return 1;
	say("  guest writes \"!!!!\" to the read-only mapping: %s; the memfd still holds \"%s\"",
	    vmm_outcome_str(&res), file);

	say("backend: UNMAP region 0 +%#llx", MAP_OFFSET);
	ret = vs_remote_unmap(&backend, 0, MAP_OFFSET, 0x10000);
	say("  UNMAP returned %d (%s)", ret, ret ? strerror(-ret) : "ok");
	show_guest_bytes(&vmm, MAP_OFFSET, 16);

	say("VMM: KVM_SET_USER_MEMORY_REGION calls: %d (all at setup; none for MAP/UNMAP)",
	    vmm.memslot_calls);
	vs_remote_stop(&backend);
	close(memfd);
	vmm_destroy(&vmm);
	vs_dev_close(&dev);
	say("== demo done ==");
	return 0;
}
