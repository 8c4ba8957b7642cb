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
#include <linux/userfaultfd_k.h>

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
	return vmf_insert_pfn(vmf->vma, vmf->address, vhost_shmem_zero_pfn(vmf->address));
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
	    /* MAP_SHARED: do_mmap() keeps VM_SHARED only for writable files. */
	    !(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;

	/* Only one mmap at a time gets here (mmap_lock held for write). */
	if (READ_ONCE(region->owner.addr))
		return -EBUSY;
	region->owner.prot = (vma->vm_flags & VM_READ ? PROT_READ : 0) |
			     (vma->vm_flags & VM_WRITE ? PROT_WRITE : 0);
	/* Pairs with live_region() and REGION_INFO: @prot first. */
	smp_store_release(&region->owner.addr, vma->vm_start);
	vhost_shmem_make_hole(vma);
	return 0;
}

/**
 * vhost_shmem_region_init() - set up region @shmid of a new device
 * @dev: the device, being opened; dev->file is set
 * @shmid: the region
 */
void vhost_shmem_region_init(struct vhost_shmem_dev *dev, u32 shmid)
{
	struct vhost_shmem_region *region = &dev->regions[shmid];

	mt_init(&region->mappings);
	region->owner.region = region;
	region->owner.file = dev->file;
	region->owner.pgoff = (unsigned long)shmid << VHOST_SHMEM_REGION_PGSHIFT;
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

/*
 * [start, end) of the space's mm is unmapped by the mm's own threads:
 * detach the space if that touches it. Under that mm's mmap_lock.
 */
static void space_touched(struct vhost_shmem_space *space,
			  unsigned long start, unsigned long end)
{
	unsigned long addr = READ_ONCE(space->addr);

	if (addr && start < addr + space->region->size && end > addr)
		WRITE_ONCE(space->detached, true);
}

/**
 * vhost_shmem_region_touched() - the owner's mm unmaps [start, end)
 * @dev: the device
 * @start: first address
 * @end: end of the range
 *
 * Called by the mmu notifier for every munmap, mremap and mmap(MAP_FIXED)
 * in the owner's mm, under its mmap_lock. Anything the owner itself does
 * there to a region detaches that region: from then on the device never
 * maps into it again (it could be the owner's malloc arena by now), and
 * MAP/UNMAP of it fail with ENXIO. Our own vm_mmap()s are not the owner's.
 */
void vhost_shmem_region_touched(struct vhost_shmem_dev *dev,
				unsigned long start, unsigned long end)
{
	unsigned int i;

	if (READ_ONCE(dev->installer) == current)
		return;
	for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++)
		space_touched(&dev->regions[i].owner, start, end);
}

/* The page offset in the placeholder file of @addr in @space. */
static unsigned long space_pgoff(struct vhost_shmem_space *space,
				 unsigned long addr)
{
	return space->pgoff + ((addr - space->addr) >> PAGE_SHIFT);
}

/*
 * Is @vma a placeholder of @space at the right place, with the space's
 * protection? A hole the mm's threads mprotect'ed counts as foreign:
 * putting a placeholder back over it would silently undo that mprotect.
 */
static bool is_hole(struct vhost_shmem_space *space, struct vm_area_struct *vma)
{
	unsigned long prot = (vma->vm_flags & VM_READ ? PROT_READ : 0) |
			     (vma->vm_flags & VM_WRITE ? PROT_WRITE : 0);

	return vma->vm_ops == &vhost_shmem_hole_ops &&
	       vma->vm_file == space->file &&
	       vma->vm_start >= space->addr &&
	       vma->vm_end <= space->addr + space->region->size &&
	       vma->vm_pgoff == space_pgoff(space, vma->vm_start) &&
	       prot == space->prot;
}

/*
 * May [start, end) of @space be replaced? mmap_lock held. It may when it
 * holds only holes of @space, vmas of @expect (when set) and gaps. Gaps
 * can only be our own (an UNMAP or RESET that could not put the hole back
 * at vm.max_map_count): anything the mm's threads do to the space's
 * address range detaches it (see space_touched()).
 *
 * Return: 0, -ENXIO (the space is detached), -EXDEV (a foreign vma: the
 * owner mprotect'ed part of it), -EBUSY (registered with userfaultfd:
 * replacing it would wait for the owner's uffd reader without bound).
 */
static int check_range_locked(struct vhost_shmem_space *space,
			      struct file *expect, unsigned long start,
			      unsigned long end)
{
	struct vm_area_struct *vma;
	unsigned long addr;

	if (READ_ONCE(space->detached))
		return -ENXIO;
	for (addr = start; addr < end; addr = vma->vm_end) {
		vma = find_vma(current->mm, addr);
		if (!vma || vma->vm_start >= end)
			break;
		if (userfaultfd_armed(vma))
			return -EBUSY;
		if (!is_hole(space, vma) && !(expect && vma->vm_file == expect))
			return -EXDEV;
	}
	return 0;
}

/* check_range_locked() under its own read lock, for the backend's mmap. */
static int check_range(struct vhost_shmem_space *space, struct file *expect,
		       unsigned long start, unsigned long end)
{
	int ret;

	mmap_read_lock(current->mm);
	ret = check_range_locked(space, expect, start, end);
	mmap_read_unlock(current->mm);
	return ret;
}

/**
 * vhost_shmem_get_unmapped_area() - ->get_unmapped_area of the device file
 * @file: the device file
 * @addr: the address asked for
 * @len: the length
 * @pgoff: the offset in the device file
 * @flags: mmap flags
 *
 * do_mmap() calls this under the same mmap_lock hold that then replaces
 * the range, even for MAP_FIXED. When the device re-installs a placeholder
 * this is where it checks what it replaces: nothing can change between the
 * check and the replacement.
 *
 * Return: the address, or a negative errno of check_range_locked().
 */
unsigned long vhost_shmem_get_unmapped_area(struct file *file,
					    unsigned long addr,
					    unsigned long len,
					    unsigned long pgoff,
					    unsigned long flags)
{
	struct vhost_shmem_dev *dev = file->private_data;
	int ret;

	if (READ_ONCE(dev->installer) != current)
		/* Regions are 1 TiB apart in the file: 2 MiB aligned on 6.12. */
		return thp_get_unmapped_area(file, addr, len, pgoff, flags);
	ret = check_range_locked(dev->inst_space, dev->inst_expect, addr,
				 addr + len);
	return ret ? ret : addr;
}

/*
 * Map the placeholder over exactly [start, end) of @space, replacing only
 * what check_range_locked() allows (@expect: the mapping being removed).
 */
static int install_hole(struct vhost_shmem_dev *dev,
			struct vhost_shmem_space *space, struct file *expect,
			unsigned long start, unsigned long end)
{
	unsigned long addr;

	dev->inst_space = space;
	dev->inst_expect = expect;
	WRITE_ONCE(dev->installer, current);
	addr = vm_mmap(space->file, start, end - start, space->prot,
		       MAP_SHARED | MAP_FIXED,
		       space_pgoff(space, start) << PAGE_SHIFT);
	WRITE_ONCE(dev->installer, NULL);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	return 0;
}

/*
 * Extend [*start, *end) over the holes of @space next to it. mmap_lock
 * held. Return: true if there was any hole to merge with.
 */
static bool hole_run(struct vhost_shmem_space *space, unsigned long *start,
		     unsigned long *end)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool more = false;

	while (*start > space->addr) {
		vma = vma_lookup(mm, *start - 1);
		if (!vma || !is_hole(space, vma))
			break;
		*start = vma->vm_start;
		more = true;
	}
	while (*end < space->addr + space->region->size) {
		vma = vma_lookup(mm, *end);
		if (!vma || !is_hole(space, vma))
			break;
		*end = vma->vm_end;
		more = true;
	}
	return more;
}

/*
 * Map the placeholder back over [start, end) and the holes around it.
 * Placeholders never merge by themselves (VM_PFNMAP vmas do not), so map
 * over the union: the region is then one vma again. The run is computed
 * under one lock hold and checked again under the next (install_hole()):
 * if it changed in between, the install fails and nothing is replaced.
 */
static int restore_hole(struct vhost_shmem_dev *dev,
			struct vhost_shmem_space *space, struct file *expect,
			unsigned long start, unsigned long end)
{
	mmap_read_lock(current->mm);
	hole_run(space, &start, &end);
	mmap_read_unlock(current->mm);
	return install_hole(dev, space, expect, start, end);
}

/* Merge every hole in [start, end) of @space with the holes around it. */
static void merge_holes(struct vhost_shmem_dev *dev,
			struct vhost_shmem_space *space,
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
		merge = is_hole(space, vma) && hole_run(space, &s, &e);
		mmap_read_unlock(mm);
		/* Out of memory: the holes stay apart, which is still correct. */
		if (merge && install_hole(dev, space, NULL, s, e))
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

		merge_holes(dev, f->space, f->start, f->end);
	}
	dev->nr_frags = 0;
}

/*
 * UNMAP put a hole back over exactly [start, end) of @space: note it;
 * merge them all when the list is full or the region has no mapping
 * left. dev->mutex held, in the space's mm.
 */
static void add_frag(struct vhost_shmem_dev *dev,
		     struct vhost_shmem_space *space,
		     unsigned long start, unsigned long end)
{
	dev->frags[dev->nr_frags++] = (struct vhost_shmem_frag) {
		.start = start,
		.end = end,
		.space = space,
	};
	if (dev->nr_frags == VHOST_SHMEM_MAX_FRAGS ||
	    mtree_empty(&space->region->mappings))
		merge_frags(dev);
}

/* A MAP over exactly a waiting fragment: it is no hole any more. */
static void drop_frag(struct vhost_shmem_dev *dev,
		      struct vhost_shmem_space *space,
		      unsigned long start, unsigned long end)
{
	unsigned int i;

	for (i = 0; i < dev->nr_frags; i++) {
		struct vhost_shmem_frag *f = &dev->frags[i];

		if (f->space == space && f->start == start && f->end == end) {
			*f = dev->frags[--dev->nr_frags];
			return;
		}
	}
}

/*
 * The backend vmas vm_mmap() just made over [start, end): check them and
 * keep them from fork. vm_mmap() dropped mmap_lock before we got here; the
 * owner cannot have replaced them since without detaching the region
 * (checked here, under the lock). Read-only needs no flag edit: a
 * read-only mapping comes from a file not open for writing, so its vma
 * never had VM_MAYWRITE (checked). Only VM_DONTCOPY and VM_DONTEXPAND are
 * set on the linked vma, which changes no accounting; a fork() or mremap()
 * that won mmap_lock between vm_mmap() and here is the one window left
 * (see the threat model).
 * @vm_file gets the file the vmas map: the backend's ->mmap may have
 * swapped in another one, as overlayfs and GEM exporters do.
 *
 * Return: 0, -ENXIO (the region was detached meanwhile), -EBUSY.
 */
static int seal_mapping(struct vhost_shmem_space *space, struct file *file,
			unsigned long start, unsigned long end, bool rw,
			struct file **vm_file)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr;
	int ret = 0;

	mmap_write_lock(mm);
	vma = vma_lookup(mm, start);
	*vm_file = vma && vma->vm_file != space->file ? vma->vm_file : NULL;
	if (READ_ONCE(space->detached)) {
		/*
		 * The owner may have mapped a file of its own there since:
		 * only ours is ours to take out again (a swapped-in one
		 * cannot be told apart and stays).
		 */
		if (*vm_file != file)
			*vm_file = NULL;
		ret = -ENXIO;
		goto out;
	}
	for (addr = start; addr < end; addr = vma->vm_end) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start > addr || !*vm_file ||
		    vma->vm_file != *vm_file) {
			ret = -EBUSY;
			goto out;
		}
		/* Unreachable: a read-only MAP maps a file not open for writing. */
		if (WARN_ON_ONCE(!rw && (vma->vm_flags & VM_MAYWRITE))) {
			ret = -EBUSY;
			goto out;
		}
	}
	/* No accounting depends on these: not inherited, not duplicated
	 * or grown by mremap (old_len 0 would copy a shared vma).
	 */
	for (addr = start; addr < end; addr = vma->vm_end) {
		vma = find_vma(mm, addr);
		vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND);
	}
out:
	if (*vm_file)
		get_file(*vm_file);
	mmap_write_unlock(mm);
	return ret;
}

/*
 * Take [start, end) out of the owner's mm without putting a hole back, if
 * it still holds only @expect's vmas: at release (a new placeholder would
 * map a file being freed), in a detached region (a placeholder there would
 * pin the device in address space the owner gave up), or when the hole
 * cannot come back (out of vmas). The check and the munmap are two lock
 * holds (do_munmap is not exported); the window can only remove memory
 * from the owner's own address space, in a range of a live region the
 * owner itself unmapped meanwhile.
 *
 * Return: 0, or -EXDEV/-EBUSY (see check_range_locked()) with the range
 * left alone.
 */
static int evict_range(struct vhost_shmem_dev *dev, struct file *expect,
		       unsigned long start, unsigned long end)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr;
	int ret = 0;

	mmap_read_lock(mm);
	for (addr = start; addr < end; addr = vma->vm_end) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start >= end)
			break;
		if (userfaultfd_armed(vma)) {
			ret = -EBUSY;
			break;
		}
		if (vma->vm_file != expect) {
			ret = -EXDEV;
			break;
		}
	}
	mmap_read_unlock(mm);
	if (ret)
		return ret;
	WRITE_ONCE(dev->installer, current);
	ret = vm_munmap(start, end - start);
	WRITE_ONCE(dev->installer, NULL);
	return ret;
}

static struct vhost_shmem_region *
live_region(struct vhost_shmem_dev *dev, u32 shmid, int *err)
{
	struct vhost_shmem_region *region = &dev->regions[shmid];

	if (READ_ONCE(dev->mm_dead))
		*err = -ESRCH;
	else if (!smp_load_acquire(&region->owner.addr) ||	/* pairs with ->mmap */
		 READ_ONCE(region->owner.detached))
		*err = -ENXIO;
	else
		return region;
	return NULL;
}

/*
 * After a failed install: put the hole back over [start, end), whatever
 * vm_mmap() left there (@expect's vmas, a gap if the backend's ->mmap
 * failed after the range was unmapped); in a region detached meanwhile,
 * only take @expect's vmas out.
 */
static void undo_install(struct vhost_shmem_dev *dev,
			 struct vhost_shmem_space *space, struct file *expect,
			 unsigned long start, unsigned long end)
{
	int ret = -ENXIO;

	if (!READ_ONCE(space->detached))
		ret = restore_hole(dev, space, expect, start, end);
	if (ret && expect)
		ret = evict_range(dev, expect, start, end);
	if (ret)
		pr_warn_ratelimited("vhost-shmem: could not undo a MAP at %#lx-%#lx: %d\n",
				    start, end, ret);
}

/*
 * Install the MAP @a of @file in @space, in the space's mm: the
 * backend's own vm_mmap() (its LSM checks, seals and ->mmap) over the
 * checked range. dev->mutex held. On success *@vm_file holds a
 * reference to the file the new vmas map; on failure the space is as it
 * was (holes where holes were) and *@vm_file is NULL.
 *
 * Return: 0 or a negative errno (see VHOST_SHMEM_MAP in the uapi header).
 */
static int space_install(struct vhost_shmem_dev *dev,
			 struct vhost_shmem_space *space, struct file *file,
			 const struct vhost_shmem_map *a, struct file **vm_file)
{
	bool rw = a->flags & VHOST_SHMEM_MAP_F_RW;
	unsigned long start = space->addr + a->shm_offset;
	unsigned long end = start + a->len;
	unsigned long addr;
	int ret;

	*vm_file = NULL;
	ret = check_range(space, NULL, start, end);
	if (ret)
		return ret;

	WRITE_ONCE(dev->installer, current);
	addr = vm_mmap(file, start, a->len, PROT_READ | (rw ? PROT_WRITE : 0),
		       MAP_SHARED | MAP_FIXED, a->fd_offset);
	WRITE_ONCE(dev->installer, NULL);
	if (IS_ERR_VALUE(addr)) {
		/* The backend's ->mmap may fail after the hole was unmapped. */
		undo_install(dev, space, NULL, start, end);
		return (int)addr;
	}
	ret = seal_mapping(space, file, start, end, rw, vm_file);
	if (ret) {
		undo_install(dev, space, *vm_file, start, end);
		if (*vm_file)
			fput(*vm_file);
		*vm_file = NULL;
		return ret;
	}
	drop_frag(dev, space, start, end);
	return 0;
}

/**
 * vhost_shmem_do_map() - install a validated MAP request
 * @dev: the device, in the owner's mm
 * @arg: struct vhost_shmem_map_req; its mapping is consumed on success
 *
 * Any failure leaves the region as it was (holes where holes were).
 *
 * Return: 0 or a negative errno (see VHOST_SHMEM_MAP in the uapi header).
 */
int vhost_shmem_do_map(struct vhost_shmem_dev *dev, void *arg)
{
	struct vhost_shmem_map_req *req = arg;
	struct vhost_shmem_map *a = &req->args;
	struct vhost_shmem_region *region;
	unsigned long first = a->shm_offset >> PAGE_SHIFT;
	unsigned long last = first + (a->len >> PAGE_SHIFT) - 1;
	struct file *vm_file;
	int ret;

	if (mutex_lock_killable(&dev->mutex))
		return -EINTR;
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

	ret = space_install(dev, &region->owner, req->file, a, &vm_file);
	if (ret)
		goto out_erase;

	*req->mapping = (struct vhost_shmem_mapping) {
		.file = req->file,	/* the request's reference */
		.vm_file = vm_file,	/* seal_mapping()'s reference */
		.private = req->private,
		.shm_offset = a->shm_offset,
		.len = a->len,
		.fd_offset = a->fd_offset,
		.flags = a->flags,
	};
	req->mapping = NULL;
	req->file = NULL;
	dev->nr_mappings++;
	dev->mapped_bytes += a->len;
	dev->maps++;
	mutex_unlock(&dev->mutex);
	return 0;

out_erase:
	mtree_erase(&region->mappings, first);
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

/* Take @m out of the table and drop its files. dev->mutex held. */
static void forget_mapping(struct vhost_shmem_dev *dev,
			   struct vhost_shmem_region *region,
			   struct vhost_shmem_mapping *m)
{
	mtree_erase(&region->mappings, m->shm_offset >> PAGE_SHIFT);
	dev->nr_mappings--;
	dev->mapped_bytes -= m->len;
	dev->unmaps++;
	fput(m->vm_file);
	fput(m->file);
	kfree(m);
}

/*
 * Does the owner still map @m's file although its range is a hole again?
 * Only a file the module opened itself for the mapping (m->private) can
 * tell: then the table holds its only reference besides vmas, and any
 * other reference is a copy the owner made (fork() after MADV_DOFORK, or
 * one that won the race with VM_DONTCOPY).
 */
static bool mapping_copied(struct vhost_shmem_mapping *m)
{
	/* Two references of the table: m->file and m->vm_file. */
	return m->private && m->vm_file == m->file && file_count(m->file) > 2;
}

/**
 * vhost_shmem_do_unmap() - replace one whole mapping with a hole
 * @dev: the device, in the owner's mm
 * @arg: struct vhost_shmem_unmap, validated
 *
 * Return: 0, -ENOENT (no mapping with exactly this range), -ENXIO (the
 * region is detached), -EXDEV (the owner changed the range), -EBUSY (the
 * owner registered it with userfaultfd, or still maps copies: then the
 * range is a hole again and the mapping gone), or an error of vm_mmap().
 */
int vhost_shmem_do_unmap(struct vhost_shmem_dev *dev, void *arg)
{
	struct vhost_shmem_unmap *a = arg;
	struct vhost_shmem_region *region;
	struct vhost_shmem_space *space;
	struct vhost_shmem_mapping *m;
	unsigned long start;
	int ret;

	if (mutex_lock_killable(&dev->mutex))
		return -EINTR;
	region = live_region(dev, a->shmid, &ret);
	if (!region)
		goto out;
	m = mtree_load(&region->mappings, a->shm_offset >> PAGE_SHIFT);
	ret = -ENOENT;
	if (!m || m->shm_offset != a->shm_offset || m->len != a->len)
		goto out;
	space = &region->owner;
	start = space->addr + a->shm_offset;
	ret = install_hole(dev, space, m->vm_file, start, start + a->len);
	if (!ret) {
		/* Hold the file past forget_mapping(): its vmas are gone. */
		ret = mapping_copied(m) ? -EBUSY : 0;
		forget_mapping(dev, region, m);
		add_frag(dev, space, start, start + a->len);
	}
out:
	mutex_unlock(&dev->mutex);
	return ret;
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

/*
 * Take @m out of @space, in its mm, as @how says.
 * Return: 0, 1 when the owner still maps copies of it elsewhere (see
 * mapping_copied()), or a negative errno when it is still in the region.
 */
static int clear_mapping(struct vhost_shmem_dev *dev,
			 struct vhost_shmem_space *space,
			 struct vhost_shmem_mapping *m, enum vhost_shmem_clear how)
{
	unsigned long start = space->addr + m->shm_offset;
	unsigned long end = start + m->len;
	int ret = -ENXIO;

	if (how == VHOST_SHMEM_CLEAR_DROP)
		return 0;
	if (how == VHOST_SHMEM_CLEAR_RESTORE && !READ_ONCE(space->detached))
		ret = install_hole(dev, space, m->vm_file, start, end);
	/* Release, a detached region, or no vma left for a hole. */
	if (ret == -ENXIO || ret == -ENOMEM)
		ret = evict_range(dev, m->vm_file, start, end);
	/* Not where it was, but no vma maps the module's own file: gone. */
	if (ret && m->private && m->vm_file == m->file &&
	    file_count(m->file) == 2)
		ret = 0;
	if (ret)
		return ret;
	return mapping_copied(m);
}

/*
 * Remove every mapping of every region. dev->mutex held. A mapping that
 * cannot be taken out of the owner's mm (it mseal'ed or changed it, or
 * registered it with userfaultfd) stays in the table, still true.
 *
 * Return: how many mappings the owner still maps, in the region or copied.
 */
static unsigned int clear_mappings(struct vhost_shmem_dev *dev,
				   enum vhost_shmem_clear how)
{
	struct vhost_shmem_mapping *m;
	unsigned int i, kept = 0;
	int ret;

	for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++) {
		struct vhost_shmem_region *region = &dev->regions[i];
		struct vhost_shmem_space *space = &region->owner;
		unsigned long index = 0;

		mt_for_each(&region->mappings, m, index, ULONG_MAX) {
			ret = clear_mapping(dev, space, m, how);
			kept += !!ret;
			if (ret >= 0)
				forget_mapping(dev, region, m);
			cond_resched();
		}
		/* Merge all holes (and refill our own gaps): one vma again. */
		if (how == VHOST_SHMEM_CLEAR_RESTORE && space->addr &&
		    mtree_empty(&region->mappings) && !READ_ONCE(space->detached))
			install_hole(dev, space, NULL, space->addr,
				     space->addr + region->size);
	}
	dev->nr_frags = 0;
	return kept;
}

/**
 * vhost_shmem_do_reset() - remove every mapping of every region
 * @dev: the device, in the owner's mm
 * @arg: unused
 *
 * Return: 0, or -EBUSY if the owner still maps some (see clear_mappings()
 * and the uapi).
 */
int vhost_shmem_do_reset(struct vhost_shmem_dev *dev, void *arg)
{
	unsigned int kept;
	u64 n;

	if (mutex_lock_killable(&dev->mutex))
		return -EINTR;
	n = dev->nr_mappings;
	kept = clear_mappings(dev, READ_ONCE(dev->mm_dead) ? VHOST_SHMEM_CLEAR_DROP :
							    VHOST_SHMEM_CLEAR_RESTORE);
	vhost_shmem_nl_reset(dev, n);
	mutex_unlock(&dev->mutex);
	return kept ? -EBUSY : 0;
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
 * What cannot be taken out stays mapped in the owner's mm, which then
 * holds its own file references; the table is dropped afterwards.
 *
 * Return: 0.
 */
int vhost_shmem_do_teardown(struct vhost_shmem_dev *dev, void *arg)
{
	u64 n;

	mutex_lock(&dev->mutex);
	n = dev->nr_mappings;
	if (clear_mappings(dev, VHOST_SHMEM_CLEAR_UNMAP))
		pr_warn_ratelimited("vhost-shmem: the owner still maps files of a released device\n");
	vhost_shmem_nl_reset(dev, n);
	mutex_unlock(&dev->mutex);
	return 0;
}
