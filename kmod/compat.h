/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only kernel API differences vhost-shmem meets between Linux 6.1 and
 * 6.12. Newer kernels use the real helpers; older ones get equivalents here.
 */
#ifndef _VHOST_SHMEM_COMPAT_H
#define _VHOST_SHMEM_COMPAT_H

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

#endif /* _VHOST_SHMEM_COMPAT_H */
