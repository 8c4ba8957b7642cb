// SPDX-License-Identifier: GPL-2.0
/*
 * KVM end to end: a tiny VMM puts ONE memslot over a vhost-shmem region and
 * guest code reads and writes it. After each MAP / UNMAP / re-MAP the guest
 * sees exactly the new bytes (or zeros in a hole), with no memslot change
 * after setup; through a region view, another process sees the guest's
 * writes and the guest the viewer's. The "vmm_*" tests check the VMM itself on plain memory and
 * need no module.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"
#include "kvm_vmm.h"
#include "viewer_lib.h"

#define REQUIRE_KVM() do { \
	if (!vmm_available()) \
		SKIP(return, "no /dev/kvm (load kvm and kvm-amd/kvm-intel)"); \
} while (0)

static uint32_t file32(int fd, uint64_t off)
{
	uint32_t v = 0;

	if (pread(fd, &v, 4, (off_t)off) != 4)
		return 0xbad0bad0;
	return v;
}

/* ---- the VMM on plain memory (no module needed) ---- */

TEST(vmm_plain_memory)
{
	struct kvm_vmm v;
	uint8_t *mem;
	uint64_t size = 4 * PG, off;
	struct vmm_result r;

	REQUIRE_KVM();
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	for (off = 0; off < size; off++)
		mem[off] = vs_pat(7, off);
	ASSERT_EQ(0, vmm_init(&v, mem, size));
	for (off = 0; off < size; off += PG / 2)
		ASSERT_GUEST_READS(&v, off, vs_pat32(7, off));
	ASSERT_GUEST_READS(&v, size - 4, vs_pat32(7, size - 4));

	ASSERT_EQ(0, vmm_write32(&v, PG + 8, 0xdeadbeef, &r));
	ASSERT_EQ(VMM_HLT, r.outcome);
	ASSERT_EQ(0xdeadbeef, *(uint32_t *)(mem + PG + 8));
	ASSERT_GUEST_READS(&v, PG + 8, 0xdeadbeef);
	ASSERT_EQ(2, v.memslot_calls);
	vmm_destroy(&v);
	munmap(mem, size);
}

/*
 * What the module does, done by hand: the memslot stays, the memory under
 * it is replaced by mmap(MAP_FIXED) of other files; KVM must follow via its
 * mmu notifier. Also a read-only mapping: guest writes must not land.
 */
TEST(vmm_follows_map_fixed)
{
	struct kvm_vmm v;
	uint8_t *mem;
	uint64_t size = 8 * PG;
	struct vmm_result r;
	int a, b;

	REQUIRE_KVM();
	a = vs_memfd("a", 4 * PG, 1);
	b = vs_memfd("b", 4 * PG, 2);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0, size);
	ASSERT_EQ(0, vmm_init(&v, mem, size));
	ASSERT_GUEST_READS(&v, 2 * PG, 0);

	ASSERT_NE(MAP_FAILED, mmap(mem + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_FIXED, a, PG));
	ASSERT_GUEST_READS(&v, 2 * PG, vs_pat32(1, PG));
	ASSERT_GUEST_READS(&v, 3 * PG + 12, vs_pat32(1, 2 * PG + 12));

	ASSERT_NE(MAP_FAILED, mmap(mem + 2 * PG, 2 * PG, PROT_READ,
				   MAP_SHARED | MAP_FIXED, b, 0));
	ASSERT_GUEST_READS(&v, 2 * PG, vs_pat32(2, 0));
	ASSERT_EQ(0, vmm_write32(&v, 2 * PG + 16, 0x12345678, &r));
	TH_LOG("guest write to a read-only mapping: %s", vmm_outcome_str(&r));
	ASSERT_NE(VMM_HLT, r.outcome);
	ASSERT_EQ(vs_pat32(2, 16), file32(b, 16));
	/* The VMM survives and keeps working. */
	ASSERT_GUEST_READS(&v, 2 * PG + 16, vs_pat32(2, 16));
	ASSERT_GUEST_READS(&v, 0, 0);
	ASSERT_EQ(2, v.memslot_calls);
	vmm_destroy(&v);
	munmap(mem, size);
	close(a);
	close(b);
}

/* ---- KVM over a vhost-shmem region ---- */

#define RSIZE	(2UL << 20)
#define FSIZE	(64 * PG)

FIXTURE(kvm) {
	struct vs_dev d;
	struct kvm_vmm v;
	bool vmm_up;
	int a, b;
};

FIXTURE_SETUP(kvm)
{
	const struct vs_layout l[] = {
		{ .shmid = 0, .size = RSIZE },
		{ .shmid = 1, .size = 16 * PG, .flags = VHOST_SHMEM_REGION_F_FAULT_HOLES },
	};
	int ret;

	self->a = self->b = -1;
	self->d.fd = -1;
	VS_REQUIRE_DEV_IN_SETUP();
	if (!vmm_available())
		VS_SETUP_SKIP("no /dev/kvm (load kvm and kvm-amd/kvm-intel)");
	ret = vs_dev_setup(&self->d, l, 2, true);
	if (ret)
		TH_LOG("device setup: %s", self->d.err);
	ASSERT_EQ(0, ret);
	ret = vmm_init(&self->v, self->d.r[0].addr, RSIZE);
	ASSERT_EQ(0, ret);
	self->vmm_up = true;
	self->a = vs_memfd("kvm-a", FSIZE, 11);
	self->b = vs_memfd("kvm-b", FSIZE, 22);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
}

FIXTURE_TEARDOWN(kvm)
{
	if (self->vmm_up)
		vmm_destroy(&self->v);
	vs_dev_close(&self->d);
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
}

/* Guest sees the file after MAP, zeros after UNMAP, the other file after re-MAP. */
TEST_F(kvm, map_unmap_remap)
{
	struct kvm_vmm *v = &self->v;
	int fd = self->d.fd;
	uint64_t off;

	/* Hole first, so KVM has the zero page cached in its page tables. */
	ASSERT_GUEST_READS(v, 8 * PG, 0);
	ASSERT_GUEST_READS(v, 9 * PG + 100, 0);

	ASSERT_EQ(0, vs_map(fd, 0, self->a, 4 * PG, 8 * PG, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	for (off = 8 * PG; off < 12 * PG; off += PG / 4)
		ASSERT_GUEST_READS(v, off, vs_pat32(11, off - 4 * PG));
	ASSERT_GUEST_READS(v, 12 * PG - 4, vs_pat32(11, 8 * PG - 4));
	/* Neighbours stay holes. */
	ASSERT_GUEST_READS(v, 8 * PG - 4, 0);
	ASSERT_GUEST_READS(v, 12 * PG, 0);

	ASSERT_EQ(0, vs_unmap(fd, 0, 8 * PG, 4 * PG));
	for (off = 8 * PG; off < 12 * PG; off += PG / 4)
		ASSERT_GUEST_READS(v, off, 0);

	ASSERT_EQ(0, vs_map(fd, 0, self->b, 0, 8 * PG, 2 * PG, 0));
	ASSERT_GUEST_READS(v, 8 * PG, vs_pat32(22, 0));
	ASSERT_GUEST_READS(v, 10 * PG - 4, vs_pat32(22, 2 * PG - 4));
	ASSERT_GUEST_READS(v, 10 * PG, 0);

	/* Replace with the first file again, at another file offset. */
	ASSERT_EQ(0, vs_unmap(fd, 0, 8 * PG, 2 * PG));
	ASSERT_EQ(0, vs_map(fd, 0, self->a, 0, 8 * PG, 2 * PG, 0));
	ASSERT_GUEST_READS(v, 8 * PG + 8, vs_pat32(11, 8));

	/* Last page of the region. */
	ASSERT_EQ(0, vs_map(fd, 0, self->b, 5 * PG, RSIZE - PG, PG, 0));
	ASSERT_GUEST_READS(v, RSIZE - 4, vs_pat32(22, 6 * PG - 4));

	ASSERT_EQ(0, vs_reset(fd));
	ASSERT_GUEST_READS(v, 8 * PG + 8, 0);
	ASSERT_GUEST_READS(v, RSIZE - 4, 0);
	ASSERT_EQ(2, v->memslot_calls);
}

/* Hole pages the guest reads and that no MAP or UNMAP below touches. */
static const uint64_t witness[] = { 0, 1, 5, 8, 9, 14, 15, 30, 40, 63, 99, 104, 200, 299, 301 };

/*
 * The guest reads every witness page again: KVM must still hold all their
 * translations, so none of these reads makes it map anything new.
 */
#define ASSERT_WITNESSES_KEPT(v) do { \
	int64_t __n0 = vmm_mapped_pages(v), __n1; \
	for (unsigned int __i = 0; __i < sizeof(witness) / sizeof(witness[0]); __i++) \
		ASSERT_GUEST_READS(v, witness[__i] * PG + 16, 0); \
	__n1 = vmm_mapped_pages(v); \
	if (__n1 != __n0) \
		TH_LOG("re-reading the holes made KVM map %lld pages again: the " \
		       "change reached beyond its range", (long long)(__n1 - __n0)); \
	ASSERT_LE(0, __n0); \
	ASSERT_EQ(__n0, __n1); \
} while (0)

/*
 * No memslot change, and nothing wider than the changed range: after each
 * MAP and UNMAP KVM still holds its translations of every hole page the
 * guest read around the range (KVM's own count of the translations it
 * holds, not the VMM's count of its memslot calls). A memslot change, or
 * a device that replaced more of the region than asked (e.g. merging the
 * holes around an UNMAP right away), would drop them.
 */
TEST_F(kvm, map_unmap_keep_other_translations)
{
	struct kvm_vmm *v = &self->v;
	int fd = self->d.fd;
	struct vs_remote rem;
	int64_t n;
	unsigned int i;

	ASSERT_LE(0, vmm_vm_stat(v, "pages_4k"));
	/*
	 * The other process first: fork() write-protects the VMM's private
	 * memory (the guest code page), which takes that translation away.
	 */
	ASSERT_EQ(0, vs_remote_start(&rem, fd));
	/*
	 * A mapping that stays: the region never becomes empty, which would
	 * merge all its holes into one vma (and drop their translations).
	 */
	ASSERT_EQ(0, vs_map(fd, 0, self->b, 0, 300 * PG, PG, 0));
	for (i = 0; i < sizeof(witness) / sizeof(witness[0]); i++)
		ASSERT_GUEST_READS(v, witness[i] * PG + 16, 0);
	ASSERT_GUEST_READS(v, 10 * PG, 0);
	ASSERT_GUEST_READS(v, 11 * PG, 0);
	n = vmm_mapped_pages(v);
	TH_LOG("KVM holds %lld guest translations", (long long)n);
	ASSERT_LE((int64_t)(sizeof(witness) / sizeof(witness[0])), n);
	ASSERT_WITNESSES_KEPT(v);

	/* MAP where the guest never went, read it, UNMAP it. */
	ASSERT_EQ(0, vs_map(fd, 0, self->a, 0, 100 * PG, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_WITNESSES_KEPT(v);
	for (i = 100; i < 104; i++)
		ASSERT_GUEST_READS(v, i * PG + 8, vs_pat32(11, (i - 100) * PG + 8));
	ASSERT_EQ(0, vs_unmap(fd, 0, 100 * PG, 4 * PG));
	ASSERT_WITNESSES_KEPT(v);
	ASSERT_GUEST_READS(v, 101 * PG, 0);

	/* MAP and UNMAP over hole pages the guest read. */
	ASSERT_EQ(0, vs_map(fd, 0, self->b, 0, 10 * PG, 2 * PG, 0));
	ASSERT_WITNESSES_KEPT(v);
	ASSERT_GUEST_READS(v, 10 * PG, vs_pat32(22, 0));
	ASSERT_GUEST_READS(v, 11 * PG + 4, vs_pat32(22, PG + 4));
	ASSERT_EQ(0, vs_unmap(fd, 0, 10 * PG, 2 * PG));
	ASSERT_WITNESSES_KEPT(v);
	ASSERT_GUEST_READS(v, 10 * PG, 0);

	/* Through the other process's path (the worker) too. */
	ASSERT_EQ(0, vs_remote_map(&rem, 0, self->a, 0, 20 * PG, PG, 0));
	ASSERT_EQ(0, vs_remote_map(&rem, 0, self->a, 2 * PG, 22 * PG, PG, 0));
	ASSERT_WITNESSES_KEPT(v);
	ASSERT_GUEST_READS(v, 22 * PG, vs_pat32(11, 2 * PG));
	ASSERT_EQ(0, vs_remote_unmap(&rem, 0, 20 * PG, PG));
	ASSERT_EQ(0, vs_remote_unmap(&rem, 0, 22 * PG, PG));
	ASSERT_WITNESSES_KEPT(v);
	EXPECT_EQ(0, vs_remote_stop(&rem));
	ASSERT_GUEST_READS(v, 300 * PG, vs_pat32(22, 0));
	ASSERT_EQ(2, v->memslot_calls);
}

/* A guest write through a RW mapping reaches the memfd and the owner. */
TEST_F(kvm, guest_write_rw)
{
	struct kvm_vmm *v = &self->v;
	struct vmm_result r;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 0, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vmm_write32(v, PG + 64, 0xcafef00d, &r));
	ASSERT_EQ(VMM_HLT, r.outcome);
	ASSERT_EQ(0xcafef00d, file32(self->a, PG + 64));
	ASSERT_EQ(0xcafef00d, *(volatile uint32_t *)(self->d.r[0].addr + PG + 64));
	ASSERT_GUEST_READS(v, PG + 64, 0xcafef00d);
	/* A write to the file is seen by the guest (same pages). */
	ASSERT_EQ(4, pwrite(self->a, "\x11\x22\x33\x44", 4, 2 * PG));
	ASSERT_GUEST_READS(v, 2 * PG, 0x44332211);
	/* After UNMAP the guest no longer reaches the file. */
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 0, 4 * PG));
	ASSERT_GUEST_READS(v, PG + 64, 0);
	ASSERT_EQ(0, vmm_write32(v, PG + 64, 0x0badf00d, &r));
	ASSERT_EQ(0xcafef00d, file32(self->a, PG + 64));
	ASSERT_EQ(2, v->memslot_calls);
}

/*
 * Through a view: another process with a read-write view of the region
 * sees the guest's writes, and the guest sees the viewer's; a read-only
 * viewer sees them too and cannot write; after UNMAP neither reaches
 * the file.
 */
TEST_F(kvm, view_guest_and_viewer)
{
	struct vs_viewer vw[2] = { { .pid = -1 }, { .pid = -1 } };
	struct kvm_vmm *v = &self->v;
	struct vmm_result r;
	uint32_t want;
	int vfd, i;

	for (i = 0; i < 2; i++) {
		vfd = vs_get_view(self->d.fd, 0, i ? 0 : VHOST_SHMEM_VIEW_F_RW);
		ASSERT_LE(0, vfd);
		ASSERT_EQ(0, vs_viewer_start(&vw[i], vfd, 0, RSIZE,
					     PROT_READ | (i ? 0 : PROT_WRITE)));
		close(vfd);
	}
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 0, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	/* The guest writes, both viewers read it. */
	ASSERT_EQ(0, vmm_write32(v, PG + 64, 0xcafef00d, &r));
	ASSERT_EQ(VMM_HLT, r.outcome);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0xcafef00d, vs_vcall(&vw[i], V_READ32, PG + 64, 0, 0, 0));
	/* The read-write viewer writes, the guest and the file see it. */
	want = (vs_pat32(11, 2 * PG) & ~0xffU) | 0x5a;
	ASSERT_EQ(0, vs_vcall(&vw[0], V_WRITE, 2 * PG, 0, 0x5a, 0));
	ASSERT_GUEST_READS(v, 2 * PG, want);
	EXPECT_EQ(want, file32(self->a, 2 * PG));
	EXPECT_EQ(want, vs_vcall(&vw[1], V_READ32, 2 * PG, 0, 0, 0));
	/* The read-only viewer cannot write; nothing changed. */
	EXPECT_EQ(SIGSEGV, vs_vcall(&vw[1], V_WRITE, 2 * PG, 0, 0x77, 0));
	ASSERT_GUEST_READS(v, 2 * PG, want);
	/* After UNMAP: zeros for the guest and both viewers. */
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 0, 4 * PG));
	ASSERT_GUEST_READS(v, PG + 64, 0);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, vs_vcall(&vw[i], V_READ32, PG + 64, 0, 0, 0));
	EXPECT_EQ(SIGBUS, vs_vcall(&vw[0], V_WRITE, 2 * PG, 0, 0x66, 0));
	EXPECT_EQ(want, file32(self->a, 2 * PG));
	EXPECT_EQ(0xcafef00d, file32(self->a, PG + 64));
	ASSERT_EQ(2, v->memslot_calls);
	vs_viewer_stop(&vw[0]);
	vs_viewer_stop(&vw[1]);
}

/* RO mapping: the guest write does not reach the file; the VMM survives. */
TEST_F(kvm, guest_write_ro)
{
	struct kvm_vmm *v = &self->v;
	struct vmm_result r;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 16 * PG, 4 * PG, 0));
	ASSERT_GUEST_READS(v, 16 * PG + 32, vs_pat32(11, 32));
	ASSERT_EQ(0, vmm_write32(v, 16 * PG + 32, 0x55aa55aa, &r));
	TH_LOG("guest write to a RO mapping: %s", vmm_outcome_str(&r));
	ASSERT_TRUE(r.outcome == VMM_MMIO || r.outcome == VMM_EFAULT);
	ASSERT_EQ(vs_pat32(11, 32), file32(self->a, 32));
	ASSERT_GUEST_READS(v, 16 * PG + 32, vs_pat32(11, 32));
	/* The owner's mprotect cannot make it writable for the guest either. */
	ASSERT_NE(0, mprotect(self->d.r[0].addr + 16 * PG, 4 * PG, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vmm_write32(v, 16 * PG + 32, 0x55aa55aa, &r));
	ASSERT_NE(VMM_HLT, r.outcome);
	ASSERT_EQ(vs_pat32(11, 32), file32(self->a, 32));
	ASSERT_EQ(2, v->memslot_calls);
}

/* A guest write to a zero hole changes nothing and does not kill the VMM. */
TEST_F(kvm, guest_write_hole)
{
	struct kvm_vmm *v = &self->v;
	struct vmm_result r;
	volatile uint8_t *anon;

	ASSERT_GUEST_READS(v, 32 * PG, 0);
	ASSERT_EQ(0, vmm_write32(v, 32 * PG, 0x77777777, &r));
	TH_LOG("guest write to a hole: %s", vmm_outcome_str(&r));
	ASSERT_TRUE(r.outcome == VMM_MMIO || r.outcome == VMM_EFAULT);
	ASSERT_GUEST_READS(v, 32 * PG, 0);
	ASSERT_EQ(-1, vs_check_zero(self->d.r[0].addr + 32 * PG, PG, NULL));
	/* The global zero page was not written (trap 7 of the design). */
	anon = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	ASSERT_EQ(0, anon[0]);
	munmap((void *)anon, PG);
	/* And mapping there afterwards works and is seen. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 0, 32 * PG, PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_GUEST_READS(v, 32 * PG, vs_pat32(22, 0));
	ASSERT_EQ(2, v->memslot_calls);
}

/* FAULT_HOLES region: guest hole access fails, mapped pages are seen. */
TEST_F(kvm, fault_holes_region)
{
	struct kvm_vmm v2;
	struct vmm_result r;

	ASSERT_EQ(0, vmm_init(&v2, self->d.r[1].addr, self->d.r[1].size));
	ASSERT_EQ(0, vmm_read32(&v2, 0, &r));
	TH_LOG("guest read of a faulting hole: %s", vmm_outcome_str(&r));
	ASSERT_NE(VMM_HLT, r.outcome);
	ASSERT_EQ(0, vs_map(self->d.fd, 1, self->a, 0, 0, 2 * PG, 0));
	ASSERT_GUEST_READS(&v2, 4, vs_pat32(11, 4));
	ASSERT_GUEST_READS(&v2, 2 * PG - 4, vs_pat32(11, 2 * PG - 4));
	ASSERT_EQ(0, vs_unmap(self->d.fd, 1, 0, 2 * PG));
	ASSERT_EQ(0, vmm_read32(&v2, 4, &r));
	ASSERT_NE(VMM_HLT, r.outcome);
	ASSERT_EQ(2, v2.memslot_calls);
	vmm_destroy(&v2);
}

/* MAP/UNMAP by a second process (SCM_RIGHTS) while the VMM runs. */
TEST_F(kvm, remote_map)
{
	struct kvm_vmm *v = &self->v;
	struct vs_remote rem;

	ASSERT_GUEST_READS(v, 40 * PG, 0);
	ASSERT_EQ(0, vs_remote_start(&rem, self->d.fd));
	ASSERT_EQ(0, vs_remote_map(&rem, 0, self->b, 8 * PG, 40 * PG, 8 * PG, 0));
	ASSERT_GUEST_READS(v, 40 * PG, vs_pat32(22, 8 * PG));
	ASSERT_GUEST_READS(v, 47 * PG + 4, vs_pat32(22, 15 * PG + 4));
	ASSERT_EQ(0, vs_remote_unmap(&rem, 0, 40 * PG, 8 * PG));
	ASSERT_GUEST_READS(v, 40 * PG, 0);
	ASSERT_EQ(0, vs_remote_map(&rem, 0, self->a, 0, 40 * PG, 8 * PG, 0));
	ASSERT_GUEST_READS(v, 40 * PG, vs_pat32(11, 0));
	ASSERT_EQ(0, vs_remote_stop(&rem));
	ASSERT_EQ(2, v->memslot_calls);
}

/* Many small mappings alternating two files: every page right, then RESET. */
TEST_F(kvm, many_mappings)
{
	struct kvm_vmm *v = &self->v;
	uint64_t i, n = RSIZE / PG / 2;

	for (i = 0; i < n; i++)
		ASSERT_EQ(0, vs_map(self->d.fd, 0, i & 1 ? self->b : self->a,
				    (i % 64) * PG, 2 * i * PG, PG, i & 2 ? VHOST_SHMEM_MAP_F_RW : 0));
	for (i = 0; i < n; i++) {
		ASSERT_GUEST_READS(v, 2 * i * PG + 4 * (i % 1000),
				   vs_pat32(i & 1 ? 22 : 11, (i % 64) * PG + 4 * (i % 1000)));
		ASSERT_GUEST_READS(v, (2 * i + 1) * PG, 0);
	}
	ASSERT_EQ(0, vs_reset(self->d.fd));
	for (i = 0; i < n; i += 7)
		ASSERT_GUEST_READS(v, 2 * i * PG, 0);
	ASSERT_EQ(2, v->memslot_calls);
}

TEST_HARNESS_MAIN
