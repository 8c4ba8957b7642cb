/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny VMM for the vhost-shmem selftests: one vCPU in 32-bit protected
 * mode (flat segments, no paging), one memslot for the guest code and ONE
 * memslot over a region (or any host memory). Guest accesses are driven by
 * setting registers per KVM_RUN: "mov eax,[esi]; hlt" and "mov [esi],eax; hlt".
 */
#ifndef KVM_VMM_H
#define KVM_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_CODE_GPA	0x1000ULL
#define VMM_REGION_GPA	0x10000000ULL	/* 256 MiB, 2 MiB aligned */

struct kvm_vmm {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	void *code;
	uint8_t *region;
	uint64_t region_size;
	int memslot_calls;	/* KVM_SET_USER_MEMORY_REGION calls this VMM made */
};

enum vmm_outcome {
	VMM_HLT,	/* the access completed, guest halted */
	VMM_MMIO,	/* KVM_EXIT_MMIO: KVM could not map the page */
	VMM_EFAULT,	/* KVM_RUN failed with EFAULT */
	VMM_OTHER,	/* anything else (see vmm_result) */
};

struct vmm_result {
	enum vmm_outcome outcome;
	int err;		/* errno of KVM_RUN, if it failed */
	uint32_t exit_reason;	/* kvm_run exit_reason */
	uint64_t mmio_addr;
	bool mmio_write;
	uint32_t value;		/* EAX after a read that halted */
};

/* true if /dev/kvm can be opened. */
bool vmm_available(void);
/*
 * Creates the VM with a memslot over [region, region + size) at
 * VMM_REGION_GPA. 0 or -errno.
 */
int vmm_init(struct kvm_vmm *v, void *region, uint64_t size);
/* 32-bit guest access at region offset @off. 0 or -errno (ioctl setup failure). */
int vmm_read32(struct kvm_vmm *v, uint64_t off, struct vmm_result *res);
int vmm_write32(struct kvm_vmm *v, uint64_t off, uint32_t val, struct vmm_result *res);
/* Guest read at any guest physical address below 4 GiB (another memslot). */
int vmm_read32_gpa(struct kvm_vmm *v, uint64_t gpa, struct vmm_result *res);
/*
 * KVM_SET_USER_MEMORY_REGION on the VM (size 0 deletes slot @slot); slots 0
 * and 1 are the code and the region. Counted in memslot_calls. 0 or -errno.
 */
int vmm_set_memslot(struct kvm_vmm *v, uint32_t slot, uint64_t gpa, void *hva,
		    uint64_t size);
const char *vmm_outcome_str(const struct vmm_result *res);
/*
 * KVM's own statistic @name of the VM (binary stats, KVM_GET_STATS_FD),
 * e.g. "pages_4k": the guest pages KVM has mapped in its page tables
 * right now. Value, or -errno (-ENOENT: no such statistic).
 */
int64_t vmm_vm_stat(struct kvm_vmm *v, const char *name);
/*
 * Guest translations KVM holds now (leaf entries of its page tables:
 * pages_4k + pages_2m + pages_1g). The mmu notifier takes away those of a
 * range the owner's mm changes; a memslot change takes away all of the
 * slot's at once. -errno on error.
 */
int64_t vmm_mapped_pages(struct kvm_vmm *v);
void vmm_destroy(struct kvm_vmm *v);

/*
 * For kselftest_harness tests: a guest read of region offset @off on @v
 * must halt with @want in eax.
 */
#define ASSERT_GUEST_READS(v, off, want) do { \
	struct vmm_result __r; \
	ASSERT_EQ(0, vmm_read32(v, off, &__r)); \
	if (__r.outcome != VMM_HLT || __r.value != (uint32_t)(want)) \
		TH_LOG("guest read at %#llx: %s, want %#x", \
		       (unsigned long long)(off), vmm_outcome_str(&__r), \
		       (uint32_t)(want)); \
	ASSERT_EQ(VMM_HLT, __r.outcome); \
	ASSERT_EQ((uint32_t)(want), __r.value); \
} while (0)

#endif /* KVM_VMM_H */
