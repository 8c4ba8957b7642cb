// SPDX-License-Identifier: GPL-2.0
/*
 * What a QEMU-style front-end pays per mapping: the same two mmap()s as the
 * floor plus a KVM memslot created for the mapping and deleted before the
 * placeholder comes back. Slots live on the same VM as the region's slot;
 * the live ones point at GPAs above 4 GiB that the guest never touches.
 *
 * Also the first guest access to a page: freshly MAPped into the region
 * (KVM learns of it through its mmu notifier and faults it in) against a
 * page of a plain memslot over the same memfd whose mapping was zapped.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "bench.h"

#define SLOT_SPOT	(32ULL << 20)
#define SLOT_AREA	(64ULL << 20)

int memslot_setup(struct bench *b)
{
	int ret;

	ret = vmm_init(&b->vmm, b->region, BENCH_REGION_SIZE);
	if (ret)
		return ret;
	b->have_kvm = true;
	b->max_slots = ioctl(b->vmm.kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	if (b->max_slots <= BENCH_FIRST_SLOT + 1)
		return -ENOSPC;
	b->slot_area = mmap(NULL, SLOT_AREA, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (b->slot_area == MAP_FAILED) {
		b->slot_area = NULL;
		return -errno;
	}
	b->plain = mmap(NULL, BENCH_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			b->memfd, 0);
	if (b->plain == MAP_FAILED) {
		b->plain = NULL;
		return -errno;
	}
	ret = vmm_set_memslot(&b->vmm, BENCH_FLOOR_SLOT, BENCH_FLOOR_GPA,
			      b->floor_region, BENCH_FLOOR_REGION_SIZE);
	if (ret)
		return ret;
	return vmm_set_memslot(&b->vmm, BENCH_PLAIN_SLOT, BENCH_PLAIN_GPA, b->plain,
			       BENCH_FILE_SIZE);
}

/* Slots a memslot-per-mapping front-end can have live beside the timed one. */
uint64_t memslot_capacity(const struct bench *b)
{
	return b->max_slots - BENCH_FIRST_SLOT - 1;
}

/* One live slot per live mapping, as far as KVM allows. */
int memslot_grow(struct bench *b, uint64_t n)
{
	if (n > memslot_capacity(b))
		n = memslot_capacity(b);
	for (; (uint64_t)b->live_slots < n; b->live_slots++) {
		int i = b->live_slots, ret;

		ret = vmm_set_memslot(&b->vmm, BENCH_FIRST_SLOT + 1 + i,
				      BENCH_SLOT_GPA + (uint64_t)(i + 1) * BENCH_MAP_LEN,
				      b->slot_area, BENCH_MAP_LEN);
		if (ret)
			return ret;
	}
	return 0;
}

static int memslot_step(void *ctx)
{
	struct bench *b = ctx;
	uint8_t *spot = b->slot_area + SLOT_SPOT;
	int ret;

	ret = place_file(b, spot);
	if (!ret)
		ret = vmm_set_memslot(&b->vmm, BENCH_FIRST_SLOT, BENCH_SLOT_GPA, spot,
				      BENCH_MAP_LEN);
	if (!ret)
		ret = vmm_set_memslot(&b->vmm, BENCH_FIRST_SLOT, BENCH_SLOT_GPA, spot, 0);
	return ret ? ret : place_hole(spot);
}

int memslot_run(struct bench *b, int iters, uint64_t *ns)
{
	return time_steps(iters, ns, memslot_step, b);
}

/* Times one guest read at @gpa; it must see the memfd's bytes at @fd_off. */
static int timed_read(struct bench *b, uint64_t gpa, uint64_t fd_off, uint64_t *ns)
{
	struct vmm_result res;
	uint64_t t0 = now_ns();
	int ret = vmm_read32_gpa(&b->vmm, gpa, &res);

	*ns = now_ns() - t0;
	if (ret)
		return ret;
	if (res.outcome != VMM_HLT || res.value != vs_pat32(BENCH_SEED, fd_off))
		return -EIO;
	return 0;
}

int first_access_map(struct bench *b, int iters, uint64_t *ns)
{
	int ret;

	for (int i = 0; i < iters; i++) {
		uint64_t fd_off = (uint64_t)i * BENCH_MAP_LEN % BENCH_FILE_SIZE;

		ret = vs_map(b->dev.fd, 0, b->memfd, fd_off, BENCH_SPOT,
			     BENCH_MAP_LEN, VHOST_SHMEM_MAP_F_RW);
		if (ret)
			return ret;
		ret = timed_read(b, VMM_REGION_GPA + BENCH_SPOT, fd_off, &ns[i]);
		if (ret)
			return ret;
		ret = vs_unmap(b->dev.fd, 0, BENCH_SPOT, BENCH_MAP_LEN);
		if (ret)
			return ret;
	}
	return 0;
}

int first_access_plain(struct bench *b, int iters, uint64_t *ns)
{
	int ret;

	for (int i = 0; i < iters; i++) {
		uint64_t fd_off = (uint64_t)i * BENCH_MAP_LEN % BENCH_FILE_SIZE;

		/* Zaps the host PTE and, through the notifier, KVM's. */
		if (madvise(b->plain + fd_off, BENCH_MAP_LEN, MADV_DONTNEED))
			return -errno;
		ret = timed_read(b, BENCH_PLAIN_GPA + fd_off, fd_off, &ns[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* A read KVM already has mapped: the cost of the exit round trip alone. */
int warm_access(struct bench *b, int iters, uint64_t *ns)
{
	int ret = timed_read(b, BENCH_PLAIN_GPA, 0, &ns[0]);

	for (int i = 0; !ret && i < iters; i++)
		ret = timed_read(b, BENCH_PLAIN_GPA, 0, &ns[i]);
	return ret;
}
