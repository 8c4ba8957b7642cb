/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only kernel API differences vhost-shmem meets between Linux 6.1, 6.12
 * and Debian sid's 7.x. Newer kernels use the real helpers; older ones get
 * equivalents here. Nothing else in kmod/ tests kernel versions.
 */
#ifndef _VHOST_SHMEM_COMPAT_H
#define _VHOST_SHMEM_COMPAT_H

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
/* 6.3 made vm_flags private behind these accessors (mmap_lock held for write). */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * The pfn of the zero page that maps at @addr. 7.1 renamed my_zero_pfn()
 * to zero_pfn() (and the zero_pfn variable to zero_page_pfn).
 */
static inline unsigned long vhost_shmem_zero_pfn(unsigned long addr)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 1, 0)
	return zero_pfn(addr);
#else
	return my_zero_pfn(addr);
#endif
}

/*
 * Whether @file can be mmapped at all. 6.16 added f_op->mmap_prepare, a
 * hook a file provides instead of f_op->mmap (never both); shmem (memfd,
 * POSIX shm, tmpfs), hugetlbfs, ext4 and most other file systems moved
 * to it since. vm_mmap() calls whichever the file has.
 */
static inline bool vhost_shmem_can_mmap(const struct file *file)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
	if (file->f_op->mmap_prepare)
		return true;
#endif
	return file->f_op->mmap;
}

#endif /* _VHOST_SHMEM_COMPAT_H */
