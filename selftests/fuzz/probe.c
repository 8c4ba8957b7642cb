// SPDX-License-Identifier: GPL-2.0
/*
 * What the running kernel does where kernels differ, asked once at start:
 * the model then predicts what this kernel does, whatever its version.
 * The probes that change an address space for good (mseal, a moved
 * region) run in a child process on a scratch device of their own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/udmabuf.h>
#include <linux/userfaultfd.h>

#include "fuzz.h"
#include "vhost_shmem_lib.h"

#ifndef __NR_mseal
#define __NR_mseal	462
#endif
#define HUGETLBFS_MAGIC_	0x958458f6

/* Does MADV_REMOVE want VM_WRITE (before 6.7) or only VM_MAYWRITE? */
static bool probe_remove_maywrite(void)
{
	int fd = memfd_create("vs-fuzz-probe", MFD_CLOEXEC);
	bool maywrite = false;
	void *p;

	if (fd < 0 || ftruncate(fd, PG))
		goto out;
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto out;
	maywrite = !madvise(p, PG, MADV_REMOVE);
	munmap(p, PG);
out:
	if (fd >= 0)
		close(fd);
	return maywrite;
}

/*
 * A udmabuf of a sealed memfd: does /dev/udmabuf make one, and does
 * MADV_DOFORK take its mapping (VM_IO since it uses remap_pfn_range)?
 */
static bool probe_udmabuf(struct fz_kbehav *kb)
{
	int dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC), memfd, buf = -1;
	struct udmabuf_create uc = { .flags = UDMABUF_FLAGS_CLOEXEC };

	if (dev < 0)
		return false;
	memfd = memfd_create("vs-fuzz-probe", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd >= 0 && !ftruncate(memfd, PG) && !fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		uc.memfd = memfd;
		uc.size = PG;
		buf = ioctl(dev, UDMABUF_CREATE, &uc);
	}
	if (buf >= 0) {
		void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);

		kb->dofork_udmabuf = p != MAP_FAILED && !madvise(p, PG, MADV_DOFORK);
		if (p != MAP_FAILED)
			munmap(p, PG);
		close(buf);
	}
	if (memfd >= 0)
		close(memfd);
	close(dev);
	return buf >= 0;
}

/*
 * In a child: a device with one 8-page region, memfd mappings at pages 2
 * and 3 (two vmas: each maps a file of its own).
 */
static void probe_child(struct fz_kbehav *kb)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 8 * 4096 } };
	struct vs_dev d;
	uint8_t *r, *a;
	void *p;
	int memfd, uffd;

	if (vs_dev_setup(&d, l, 1, true))
		return;
	r = d.r[0].addr;
	memfd = vs_memfd("vs-fuzz-probe", 8 * PG, 1);
	if (memfd < 0 || vs_map(d.fd, 0, memfd, 0, 2 * PG, PG, VHOST_SHMEM_MAP_F_RW) ||
	    vs_map(d.fd, 0, memfd, 4 * PG, 3 * PG, PG, VHOST_SHMEM_MAP_F_RW))
		return;
	kb->dofork_mapped = !madvise(r + 2 * PG, PG, MADV_DOFORK);
	madvise(r + 2 * PG, PG, MADV_DONTFORK);
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd >= 0) {
		struct uffdio_api api = { .api = UFFD_API };
		struct uffdio_register reg = {
			.range = { .start = (uintptr_t)(r + 2 * PG), .len = PG },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};

		kb->uffd = !ioctl(uffd, UFFDIO_API, &api);
		kb->uffd_mapping = kb->uffd && !ioctl(uffd, UFFDIO_REGISTER, &reg);
		close(uffd);
	}
	/* Two vmas, two mappings: moved together, or EFAULT. Detaches the region. */
	p = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	kb->mremap_multi = p != MAP_FAILED &&
			   mremap(r + 2 * PG, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, p) != MAP_FAILED;
	/* [a: read-write][a + PG: read-only, sealed], then mprotect of both. */
	a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED || mprotect(a + PG, PG, PROT_READ))
		return;
	kb->mseal = !syscall(__NR_mseal, a + PG, PG, 0);
	if (kb->mseal && mprotect(a, 2 * PG, PROT_NONE) && errno == EPERM)
		kb->mseal_pervma = vs_probe_write(a, 1) != 0;
}

void fz_probe(struct fz_kbehav *kb)
{
	struct fz_kbehav *sh;
	struct statfs sfs;
	long v;
	pid_t pid;

	memset(kb, 0, sizeof(*kb));
	kb->remove_maywrite = probe_remove_maywrite();
	kb->udmabuf = probe_udmabuf(kb);
	kb->hugetlb = !statfs("/dev/hugepages", &sfs) && sfs.f_type == HUGETLBFS_MAGIC_;
	kb->max_map_count = vs_read_long("/proc/sys/vm/max_map_count", &v) ? -1 : v;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return;
	*sh = *kb;
	pid = fork();
	if (pid == 0) {
		probe_child(sh);
		_exit(0);
	}
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		*kb = *sh;
	}
	munmap(sh, sizeof(*sh));
}

void fz_kbehav_str(const struct fz_kbehav *kb, char *buf, size_t len)
{
	snprintf(buf, len, "DOFORK on a mapping %s, multi-vma mremap %s, mseal %s%s, userfaultfd %s%s, hugetlbfs %s, udmabuf %s, MADV_REMOVE needs %s, max_map_count %ld",
		 kb->dofork_mapped ? "works" : "EINVAL", kb->mremap_multi ? "moves" : "EFAULT",
		 kb->mseal ? "yes" : "no",
		 kb->mseal ? (kb->mseal_pervma ? " (checked per vma)" : " (checked up front)") : "",
		 kb->uffd ? "yes" : "no",
		 kb->uffd ? (kb->uffd_mapping ? " (on mappings too)" : " (not on mappings)") : "",
		 kb->hugetlb ? "yes" : "no",
		 !kb->udmabuf ? "no" : kb->dofork_udmabuf ? "yes" : "yes (DOFORK: EINVAL)",
		 kb->remove_maywrite ? "VM_MAYWRITE" : "VM_WRITE", kb->max_map_count);
}
