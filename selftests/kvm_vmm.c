// SPDX-License-Identifier: GPL-2.0
/* A tiny KVM VMM for the vhost-shmem selftests. See kvm_vmm.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvm_vmm.h"

/* mov eax,[esi]; hlt */
static const uint8_t code_read[] = { 0x8b, 0x06, 0xf4 };
/* mov [esi],eax; hlt */
static const uint8_t code_write[] = { 0x89, 0x06, 0xf4 };
#define CODE_READ_OFF	0x0
#define CODE_WRITE_OFF	0x10

bool vmm_available(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int vmm_set_memslot(struct kvm_vmm *v, uint32_t slot, uint64_t gpa,
		    void *hva, uint64_t size)
{
	struct kvm_userspace_memory_region mr = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	v->memslot_calls++;
	return ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &mr) < 0 ? -errno : 0;
}

static void flat_seg(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = 0;
	s->db = 1;
	s->s = 1;
	s->l = 0;
	s->g = 1;
}

int vmm_init(struct kvm_vmm *v, void *region, uint64_t size)
{
	struct kvm_sregs sregs;
	int ret;

	memset(v, 0, sizeof(*v));
	v->kvm = v->vm = v->vcpu = -1;
	v->region = region;
	v->region_size = size;
	if (VMM_REGION_GPA + size > 0x100000000ULL)
		return -E2BIG;	/* guest addresses are 32-bit */

	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		return -errno;
	if (ioctl(v->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		ret = -EPROTO;
		goto fail;
	}
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0) {
		ret = -errno;
		goto fail;
	}
	v->code = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->code == MAP_FAILED) {
		v->code = NULL;
		ret = -errno;
		goto fail;
	}
	memset(v->code, 0xf4, 4096);	/* hlt everywhere */
	memcpy((uint8_t *)v->code + CODE_READ_OFF, code_read, sizeof(code_read));
	memcpy((uint8_t *)v->code + CODE_WRITE_OFF, code_write, sizeof(code_write));

	ret = vmm_set_memslot(v, 0, VMM_CODE_GPA, v->code, 4096);
	if (ret)
		goto fail;
	ret = vmm_set_memslot(v, 1, VMM_REGION_GPA, region, size);
	if (ret)
		goto fail;

	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0) {
		ret = -errno;
		goto fail;
	}
	ret = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < 0) {
		ret = -errno;
		goto fail;
	}
	v->run_size = (size_t)ret;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		ret = -errno;
		goto fail;
	}

	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0) {
		ret = -errno;
		goto fail;
	}
	flat_seg(&sregs.cs, 0x08, 0x0b);	/* execute/read, accessed */
	flat_seg(&sregs.ds, 0x10, 0x03);	/* read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr0 = 0x11;			/* PE | ET, no paging */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0) {
		ret = -errno;
		goto fail;
	}
	return 0;
fail:
	vmm_destroy(v);
	return ret;
}

/* Completes a pending MMIO exit so the next KVM_SET_REGS starts clean. */
static void flush_pending(struct kvm_vmm *v)
{
	v->run->immediate_exit = 1;
	ioctl(v->vcpu, KVM_RUN, 0);	/* -EINTR after completing the I/O */
	v->run->immediate_exit = 0;
}

static int guest_access(struct kvm_vmm *v, uint64_t rip, uint64_t gpa, uint32_t val,
			struct vmm_result *res)
{
	struct kvm_regs regs;
	int r;

	memset(res, 0, sizeof(*res));
	if (gpa + 4 > 0x100000000ULL)
		return -ERANGE;
	memset(&regs, 0, sizeof(regs));
	regs.rip = VMM_CODE_GPA + rip;
	regs.rsi = gpa;
	regs.rax = val;
	regs.rflags = 0x2;
	regs.rsp = VMM_CODE_GPA + 4096 - 16;
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0)
		return -errno;

	do {
		r = ioctl(v->vcpu, KVM_RUN, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		res->err = errno;
		res->outcome = errno == EFAULT ? VMM_EFAULT : VMM_OTHER;
		return 0;
	}
	res->exit_reason = v->run->exit_reason;
	switch (v->run->exit_reason) {
	case KVM_EXIT_HLT:
		if (ioctl(v->vcpu, KVM_GET_REGS, &regs) < 0)
			return -errno;
		res->outcome = VMM_HLT;
		res->value = (uint32_t)regs.rax;
		break;
	case KVM_EXIT_MMIO:
		res->outcome = VMM_MMIO;
		res->mmio_addr = v->run->mmio.phys_addr;
		res->mmio_write = v->run->mmio.is_write;
		if (!v->run->mmio.is_write)
			memset(v->run->mmio.data, 0, sizeof(v->run->mmio.data));
		flush_pending(v);
		break;
	default:
		res->outcome = VMM_OTHER;
		break;
	}
	return 0;
}

int vmm_read32(struct kvm_vmm *v, uint64_t off, struct vmm_result *res)
{
	if (off + 4 > v->region_size)
		return -ERANGE;
	return guest_access(v, CODE_READ_OFF, VMM_REGION_GPA + off, 0, res);
}

int vmm_read32_gpa(struct kvm_vmm *v, uint64_t gpa, struct vmm_result *res)
{
	return guest_access(v, CODE_READ_OFF, gpa, 0, res);
}

int vmm_write32(struct kvm_vmm *v, uint64_t off, uint32_t val, struct vmm_result *res)
{
	if (off + 4 > v->region_size)
		return -ERANGE;
	return guest_access(v, CODE_WRITE_OFF, VMM_REGION_GPA + off, val, res);
}

int64_t vmm_vm_stat(struct kvm_vmm *v, const char *name)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	int64_t ret = -ENOENT;
	size_t dsize;
	uint64_t val;
	char *descs;
	uint32_t i;
	int fd;

	fd = ioctl(v->vm, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return -errno;
	if (pread(fd, &h, sizeof(h), 0) != sizeof(h)) {
		close(fd);
		return -EIO;
	}
	dsize = sizeof(*d) + h.name_size;
	descs = calloc(h.num_desc, dsize);
	if (!descs) {
		close(fd);
		return -ENOMEM;
	}
	if (pread(fd, descs, dsize * h.num_desc, h.desc_offset) != (ssize_t)(dsize * h.num_desc)) {
		ret = -EIO;
		goto out;
	}
	for (i = 0; i < h.num_desc; i++) {
		d = (struct kvm_stats_desc *)(descs + i * dsize);
		if (strncmp(d->name, name, h.name_size))
			continue;
		if (pread(fd, &val, sizeof(val), h.data_offset + d->offset) != sizeof(val))
			ret = -EIO;
		else
			ret = (int64_t)val;
		break;
	}
out:
	free(descs);
	close(fd);
	return ret;
}

int64_t vmm_mapped_pages(struct kvm_vmm *v)
{
	int64_t p4 = vmm_vm_stat(v, "pages_4k");
	int64_t p2 = vmm_vm_stat(v, "pages_2m");
	int64_t p1 = vmm_vm_stat(v, "pages_1g");

	if (p4 < 0 || p2 < 0 || p1 < 0)
		return p4 < 0 ? p4 : p2 < 0 ? p2 : p1;
	return p4 + p2 + p1;
}

const char *vmm_outcome_str(const struct vmm_result *res)
{
	static __thread char buf[96];

	switch (res->outcome) {
	case VMM_HLT:
		snprintf(buf, sizeof(buf), "hlt (eax %#x)", res->value);
		break;
	case VMM_MMIO:
		snprintf(buf, sizeof(buf), "mmio %s at gpa %#llx",
			 res->mmio_write ? "write" : "read",
			 (unsigned long long)res->mmio_addr);
		break;
	case VMM_EFAULT:
		snprintf(buf, sizeof(buf), "KVM_RUN: EFAULT");
		break;
	default:
		snprintf(buf, sizeof(buf), "other: KVM_RUN errno %d exit_reason %u",
			 res->err, res->exit_reason);
	}
	return buf;
}

void vmm_destroy(struct kvm_vmm *v)
{
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->vcpu >= 0)
		close(v->vcpu);
	if (v->vm >= 0)
		close(v->vm);
	if (v->kvm >= 0)
		close(v->kvm);
	if (v->code)
		munmap(v->code, 4096);
	v->run = NULL;
	v->code = NULL;
	v->vcpu = v->vm = v->kvm = -1;
}
