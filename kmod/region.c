// SPDX-License-Identifier: GPL-2.0
/*
 * Regions in the owner's address space, and how mappings are installed.
 *
 * A region starts as one placeholder vma: the device file itself, mapped
 * VM_PFNMAP, whose fault handler shows holes (zero page, or SIGBUS). MAP
 * replaces part of it with vm_mmap(MAP_FIXED) of the backend file in the
 * owner's mm, so every access sees exactly what an mmap of that file would
 * show (page cache coherence, dirty tracking, seals, dma-buf rules), and
 * KVM follows the change through its mmu notifier. UNMAP maps the
 * placeholder back. Every function here except the vma callbacks runs with
 * current->mm == the owner's mm (see worker.c) and dev->mutex held.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "compat.h"
#include "vhost_shmem.h"

static inline struct vhost_shmem_dev *vma_dev(struct vm_area_struct *vma)
{
	return vma->vm_file->private_data;
}

static vm_fault_t vhost_shmem_hole_fault(struct vm_fault *vmf)
{
	struct vhost_shmem_dev *dev = vma_dev(vmf->vma);
	unsigned long shmid = vmf->pgoff >> VHOST_SHMEM_REGION_PGSHIFT;

	if (shmid >= VHOST_SHMEM_MAX_REGIONS ||
	    (dev->regions[shmid].flags & VHOST_SHMEM_REGION_F_FAULT_HOLES) ||
	    (vmf->flags & FAULT_FLAG_WRITE))
		return VM_FAULT_SIGBUS;
	/* Read-only: ->pfn_mkwrite below turns any later write into SIGBUS. */
	return vmf_insert_pfn(vmf->vma, vmf->address, my_zero_pfn(vmf->address));
}

/*
 * Without this, a shared writable PFNMAP vma maps the zero page writable
 * and a write lands in the system-wide zero page.
 */
static vm_fault_t vhost_shmem_hole_pfn_mkwrite(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

/* Regions do not move or grow. */
static int vhost_shmem_hole_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static const struct vm_operations_struct vhost_shmem_hole_ops = {
	.fault = vhost_shmem_hole_fault,
	.pfn_mkwrite = vhost_shmem_hole_pfn_mkwrite,
	.mremap = vhost_shmem_hole_mremap,
};

static void vhost_shmem_make_hole(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTCOPY | VM_DONTEXPAND |
		     VM_DONTDUMP);
	vma->vm_ops = &vhost_shmem_hole_ops;
}

/* The owner's one mmap of a region: exact size, shared, once. */
static int vhost_shmem_mmap_region(struct vhost_shmem_dev *dev,
				   struct vm_area_struct *vma)
{
	unsigned long shmid = vma->vm_pgoff >> VHOST_SHMEM_REGION_PGSHIFT;
	struct vhost_shmem_region *region;

	if (current->mm != READ_ONCE(dev->mm))
		return -EPERM;
	/* Pairs with SET_CONFIG's release: the regions are complete. */
	if (!smp_load_acquire(&dev->configured))
		return -EBADFD;
	if (shmid >= VHOST_SHMEM_MAX_REGIONS)
		return -EINVAL;
	region = &dev->regions[shmid];
	if (!region->size ||
	    vma->vm_pgoff != shmid << VHOST_SHMEM_REGION_PGSHIFT ||
	    vma->vm_end - vma->vm_start != region->size ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	/* Only one mmap at a time gets here (mmap_lock held for write). */
	if (READ_ONCE(region->addr))
		return -EBUSY;
	region->prot = (vma->vm_flags & VM_READ ? PROT_READ : 0) |
		       (vma->vm_flags & VM_WRITE ? PROT_WRITE : 0);
	/* Pairs with live_region() and REGION_INFO: @prot first. */
	smp_store_release(&region->addr, vma->vm_start);
	vhost_shmem_make_hole(vma);
	return 0;
}

/**
 * vhost_shmem_mmap() - ->mmap of the device file
 * @file: the device file
 * @vma: the new vma
 *
 * Either the owner's first mmap of a region, or the device re-installing a
 * placeholder with vm_mmap() (dev->installer is then the calling task).
 *
 * Return: 0, or EPERM (not the owner), EBADFD (not configured), EINVAL
 * (not exactly one whole region, or not MAP_SHARED), EBUSY (mapped before).
 */
int vhost_shmem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vhost_shmem_dev *dev = file->private_data;

	if (READ_ONCE(dev->installer) == current) {
		vhost_shmem_make_hole(vma);
		return 0;
	}
	return vhost_shmem_mmap_region(dev, vma);
}

static unsigned long region_pgoff(struct vhost_shmem_region *region,
				  struct vhost_shmem_dev *dev, unsigned long addr)
{
	unsigned long shmid = region - dev->regions;

	return (shmid << VHOST_SHMEM_REGION_PGSHIFT) +
	       ((addr - region->addr) >> PAGE_SHIFT);
}

/* Is @vma a placeholder of @region at the right place? */
static bool is_hole(struct vhost_shmem_dev *dev,
		    struct vhost_shmem_region *region,
		    struct vm_area_struct *vma)
{
	return vma->vm_ops == &vhost_shmem_hole_ops && vma->vm_file == dev->file &&
	       vma->vm_start >= region->addr &&
	       vma->vm_end <= region->addr + region->size &&
	       vma->vm_pgoff == region_pgoff(region, dev, vma->vm_start);
}

/*
 * The owner can munmap or replace parts of a region behind our back (do_mmap
 * is not exported, so we cannot do the check and the mmap atomically).
 * Check [start, end) holds only holes of @region, or only vmas of @file
 * when @file is set, before touching it. A foreign vma anywhere in the
 * range wins over a gap: callers may fill gaps but must never map over
 * what the owner put there.
 *
 * Return: 0, -EXDEV on a foreign vma, else -ENXIO on a gap.
 */
static int check_range(struct vhost_shmem_dev *dev,
		       struct vhost_shmem_region *region, struct file *file,
		       unsigned long start, unsigned long end)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr = start;
	int ret = 0;

	mmap_read_lock(mm);
	for (; addr < end; addr = vma->vm_end) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start >= end) {
			ret = -ENXIO;
			break;
		}
		if (vma->vm_start > addr)
			ret = -ENXIO;
		if (file ? vma->vm_file != file : !is_hole(dev, region, vma)) {
			ret = -EXDEV;
			break;
		}
	}
	mmap_read_unlock(mm);
	return ret;
}

/*
 * Extend [*start, *end) over the holes of @region next to it. mmap_lock
 * held. Return: true if there was any hole to merge with.
 */
static bool hole_run(struct vhost_shmem_dev *dev,
		     struct vhost_shmem_region *region,
		     unsigned long *start, unsigned long *end)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool more = false;

	while (*start > region->addr) {
		vma = vma_lookup(mm, *start - 1);
		if (!vma || !is_hole(dev, region, vma))
			break;
		*start = vma->vm_start;
		more = true;
	}
	while (*end < region->addr + region->size) {
		vma = vma_lookup(mm, *end);
		if (!vma || !is_hole(dev, region, vma))
			break;
		*end = vma->vm_end;
		more = true;
	}
	return more;
}

/* Map the placeholder over exactly [start, end) of @region. */
static int install_hole(struct vhost_shmem_dev *dev,
			struct vhost_shmem_region *region,
			unsigned long start, unsigned long end)
{
	unsigned long addr;

	WRITE_ONCE(dev->installer, current);
	addr = vm_mmap(dev->file, start, end - start, region->prot,
		       MAP_SHARED | MAP_FIXED,
		       region_pgoff(region, dev, start) << PAGE_SHIFT);
	WRITE_ONCE(dev->installer, NULL);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	return 0;
}

/*
 * Map the placeholder back over [start, end) and the holes around it.
 * Placeholders never merge by themselves (VM_PFNMAP vmas do not), so map
 * over the union: the region is then one vma again.
 */
static int restore_hole(struct vhost_shmem_dev *dev,
			struct vhost_shmem_region *region,
			unsigned long start, unsigned long end)
{
	mmap_read_lock(current->mm);
	hole_run(dev, region, &start, &end);
	mmap_read_unlock(current->mm);
	return install_hole(dev, region, start, end);
}

/* Merge every hole in [start, end) of @region with the holes around it. */
static void merge_holes(struct vhost_shmem_dev *dev,
			struct vhost_shmem_region *region,
			unsigned long start, unsigned long end)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr = start, s, e;
	bool merge;

	while (addr < end) {
		mmap_read_lock(mm);
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start >= end) {
			mmap_read_unlock(mm);
			return;
		}
		s = vma->vm_start;
		e = vma->vm_end;
		merge = is_hole(dev, region, vma) && hole_run(dev, region, &s, &e);
		mmap_read_unlock(mm);
		/* Out of memory: the holes stay apart, which is still correct. */
		if (merge && install_hole(dev, region, s, e))
			return;
		addr = e;
	}
}

/* Merge every waiting hole fragment. dev->mutex held, in the owner's mm. */
static void merge_frags(struct vhost_shmem_dev *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nr_frags; i++) {
		struct vhost_shmem_frag *f = &dev->frags[i];

		merge_holes(dev, &dev->regions[f->shmid], f->start, f->end);
	}
	dev->nr_frags = 0;
}

/*
 * UNMAP put a hole back over exactly [start, end): note it; merge them all
 * when the list is full or the region has no mapping left. dev->mutex held.
 */
static void add_frag(struct vhost_shmem_dev *dev,
		     struct vhost_shmem_region *region,
		     unsigned long start, unsigned long end)
{
	dev->frags[dev->nr_frags++] = (struct vhost_shmem_frag) {
		.start = start,
		.end = end,
		.shmid = region - dev->regions,
	};
	if (dev->nr_frags == VHOST_SHMEM_MAX_FRAGS ||
	    mtree_empty(&region->mappings))
		merge_frags(dev);
}

/* A MAP over exactly a waiting fragment: it is no hole any more. */
static void drop_frag(struct vhost_shmem_dev *dev,
		      struct vhost_shmem_region *region,
		      unsigned long start, unsigned long end)
{
	u32 shmid = region - dev->regions;
	unsigned int i;

	for (i = 0; i < dev->nr_frags; i++) {
		struct vhost_shmem_frag *f = &dev->frags[i];

		if (f->shmid == shmid && f->start == start && f->end == end) {
			*f = dev->frags[--dev->nr_frags];
			return;
		}
	}
}

/*
 * Give the new backend vma the region's rules: not inherited by fork, and a
 * read-only mapping stays read-only for the owner too (mprotect fails).
 * vm_mmap() dropped mmap_lock before we got here; if the owner raced with
 * us (replaced or mprotect'ed the range) we undo the MAP.
 */
static int seal_mapping(struct file *file, unsigned long start,
			unsigned long end, bool rw)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr = start;
	int ret = 0;

	mmap_write_lock(mm);
	for (; addr < end; addr = vma->vm_end) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start > addr || vma->vm_file != file ||
		    (!rw && (vma->vm_flags & VM_WRITE))) {
			ret = -EBUSY;
			break;
		}
		vm_flags_set(vma, VM_DONTCOPY);
		if (!rw)
			vm_flags_clear(vma, VM_MAYWRITE);
	}
	mmap_write_unlock(mm);
	return ret;
}

static struct vhost_shmem_region *
live_region(struct vhost_shmem_dev *dev, u32 shmid, int *err)
{
	struct vhost_shmem_region *region = &dev->regions[shmid];

	if (READ_ONCE(dev->mm_dead))
		*err = -ESRCH;
	else if (!smp_load_acquire(&region->addr))	/* pairs with ->mmap */
		*err = -ENXIO;
	else
		return region;
	return NULL;
}

/**
 * vhost_shmem_do_map() - install a validated MAP request
 * @dev: the device, in the owner's mm
 * @arg: struct vhost_shmem_map_req; its mapping is consumed on success
 *
 * Any failure leaves the region exactly as it was.
 *
 * Return: 0 or a negative errno (see VHOST_SHMEM_MAP in the uapi header).
 */
int vhost_shmem_do_map(struct vhost_shmem_dev *dev, void *arg)
{
	struct vhost_shmem_map_req *req = arg;
	struct vhost_shmem_map *a = &req->args;
	bool rw = a->flags & VHOST_SHMEM_MAP_F_RW;
	struct vhost_shmem_region *region;
	unsigned long first = a->shm_offset >> PAGE_SHIFT;
	unsigned long last = first + (a->len >> PAGE_SHIFT) - 1;
	unsigned long start, end, addr;
	int ret;

	mutex_lock(&dev->mutex);
	region = live_region(dev, a->shmid, &ret);
	if (!region)
		goto out;
	ret = -ENOSPC;
	if (dev->nr_mappings >= READ_ONCE(vhost_shmem_max_mappings))
		goto out;
	/* The maple tree refuses a range that overlaps any entry: O(log n). */
	ret = mtree_insert_range(&region->mappings, first, last, req->mapping,
				 GFP_KERNEL_ACCOUNT);
	if (ret)
		goto out;

	start = region->addr + a->shm_offset;
	end = start + a->len;
	ret = check_range(dev, region, NULL, start, end);
	if (ret)
		goto out_erase;

	addr = vm_mmap(req->file, start, a->len,
		       PROT_READ | (rw ? PROT_WRITE : 0),
		       MAP_SHARED | MAP_FIXED, a->fd_offset);
	if (IS_ERR_VALUE(addr)) {
		ret = (int)addr;
		/* The backend's ->mmap may fail after the hole was unmapped. */
		goto out_restore;
	}
	ret = seal_mapping(req->file, start, end, rw);
	if (ret)
		goto out_restore;

	*req->mapping = (struct vhost_shmem_mapping) {
		.file = get_file(req->file),
		.shm_offset = a->shm_offset,
		.len = a->len,
		.fd_offset = a->fd_offset,
		.flags = a->flags,
	};
	req->mapping = NULL;
	drop_frag(dev, region, start, end);
	dev->nr_mappings++;
	dev->mapped_bytes += a->len;
	dev->maps++;
	mutex_unlock(&dev->mutex);
	return 0;

out_restore:
	if (restore_hole(dev, region, start, end) ||
	    check_range(dev, region, NULL, start, end))
		pr_warn_ratelimited("vhost-shmem: could not restore hole at %#lx-%#lx\n",
				    start, end);
out_erase:
	mtree_erase(&region->mappings, first);
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

/* Take @m out of the table and drop its file. dev->mutex held. */
static void forget_mapping(struct vhost_shmem_dev *dev,
			   struct vhost_shmem_region *region,
			   struct vhost_shmem_mapping *m)
{
	mtree_erase(&region->mappings, m->shm_offset >> PAGE_SHIFT);
	dev->nr_mappings--;
	dev->mapped_bytes -= m->len;
	dev->unmaps++;
	fput(m->file);
	kfree(m);
}

/*
 * Put the hole back over @m, merged with its neighbours if @merge. A gap
 * (the owner munmapped it) is filled too; a foreign vma is left alone: it
 * is the owner's now.
 */
static int remove_mapping(struct vhost_shmem_dev *dev,
			  struct vhost_shmem_region *region,
			  struct vhost_shmem_mapping *m, bool merge)
{
	unsigned long start = region->addr + m->shm_offset;
	unsigned long end = start + m->len;
	int ret;

	ret = check_range(dev, region, m->file, start, end);
	if (ret && ret != -ENXIO)
		return ret;
	if (merge)
		return restore_hole(dev, region, start, end);
	return install_hole(dev, region, start, end);
}

/**
 * vhost_shmem_do_unmap() - replace one whole mapping with a hole
 * @dev: the device, in the owner's mm
 * @arg: struct vhost_shmem_unmap, validated
 *
 * Return: 0, -ENOENT (no mapping with exactly this range), -EXDEV (the
 * owner put a foreign mapping there), or an error of vm_mmap().
 */
int vhost_shmem_do_unmap(struct vhost_shmem_dev *dev, void *arg)
{
	struct vhost_shmem_unmap *a = arg;
	struct vhost_shmem_region *region;
	struct vhost_shmem_mapping *m;
	int ret;

	mutex_lock(&dev->mutex);
	region = live_region(dev, a->shmid, &ret);
	if (!region)
		goto out;
	m = mtree_load(&region->mappings, a->shm_offset >> PAGE_SHIFT);
	ret = -ENOENT;
	if (!m || m->shm_offset != a->shm_offset || m->len != a->len)
		goto out;
	ret = remove_mapping(dev, region, m, false);
	if (!ret) {
		forget_mapping(dev, region, m);
		add_frag(dev, region, region->addr + a->shm_offset,
			 region->addr + a->shm_offset + a->len);
	}
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

/*
 * Take the backend file out of the owner's mm without putting a hole back.
 * At release the device file's count is already zero: a new placeholder
 * would map a file being freed. If the hole cannot come back (out of
 * memory), this also keeps the guest away from the old pages.
 */
static void unmap_mapping(struct vhost_shmem_dev *dev,
			  struct vhost_shmem_region *region,
			  struct vhost_shmem_mapping *m)
{
	unsigned long start = region->addr + m->shm_offset;

	if (check_range(dev, region, m->file, start, start + m->len) != -EXDEV)
		vm_munmap(start, m->len);
}

/**
 * enum vhost_shmem_clear - what to do with the owner's vmas when clearing
 * @VHOST_SHMEM_CLEAR_RESTORE: put holes back (RESET, live owner)
 * @VHOST_SHMEM_CLEAR_UNMAP: munmap the backend files (release, live owner)
 * @VHOST_SHMEM_CLEAR_DROP: touch no mm (the owner's mm is gone)
 */
enum vhost_shmem_clear {
	VHOST_SHMEM_CLEAR_RESTORE,
	VHOST_SHMEM_CLEAR_UNMAP,
	VHOST_SHMEM_CLEAR_DROP,
};

/* Remove every mapping of every region. dev->mutex held. */
static void clear_mappings(struct vhost_shmem_dev *dev,
			   enum vhost_shmem_clear how)
{
	struct vhost_shmem_mapping *m;
	unsigned int i;

	for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++) {
		struct vhost_shmem_region *region = &dev->regions[i];
		unsigned long index = 0;

		mt_for_each(&region->mappings, m, index, ULONG_MAX) {
			if (how == VHOST_SHMEM_CLEAR_UNMAP ||
			    (how == VHOST_SHMEM_CLEAR_RESTORE &&
			     remove_mapping(dev, region, m, true)))
				unmap_mapping(dev, region, m);
			forget_mapping(dev, region, m);
			cond_resched();
		}
	}
	/* Only a live owner's holes are worth merging; see add_frag(). */
	if (how == VHOST_SHMEM_CLEAR_RESTORE)
		merge_frags(dev);
	dev->nr_frags = 0;
}

/**
 * vhost_shmem_do_reset() - remove every mapping of every region
 * @dev: the device, in the owner's mm
 * @arg: unused
 *
 * Return: 0.
 */
int vhost_shmem_do_reset(struct vhost_shmem_dev *dev, void *arg)
{
	u64 n;

	mutex_lock(&dev->mutex);
	n = dev->nr_mappings;
	clear_mappings(dev, READ_ONCE(dev->mm_dead) ? VHOST_SHMEM_CLEAR_DROP :
						     VHOST_SHMEM_CLEAR_RESTORE);
	vhost_shmem_nl_reset(dev, n);
	mutex_unlock(&dev->mutex);
	return 0;
}

/**
 * vhost_shmem_drop_all() - forget every mapping without touching any mm
 * @dev: the device
 *
 * For when the owner's mm is gone: its teardown already unmapped the files;
 * drop the table's file references.
 */
void vhost_shmem_drop_all(struct vhost_shmem_dev *dev)
{
	u64 n;

	mutex_lock(&dev->mutex);
	n = dev->nr_mappings;
	clear_mappings(dev, VHOST_SHMEM_CLEAR_DROP);
	if (n)
		vhost_shmem_nl_reset(dev, n);
	mutex_unlock(&dev->mutex);
}

/**
 * vhost_shmem_do_teardown() - remove every mapping at device release
 * @dev: the device, in the owner's mm, whose file is being released
 * @arg: unused
 *
 * Return: 0.
 */
int vhost_shmem_do_teardown(struct vhost_shmem_dev *dev, void *arg)
{
	u64 n;

	mutex_lock(&dev->mutex);
	n = dev->nr_mappings;
	clear_mappings(dev, VHOST_SHMEM_CLEAR_UNMAP);
	vhost_shmem_nl_reset(dev, n);
	mutex_unlock(&dev->mutex);
	return 0;
}
