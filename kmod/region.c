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
#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/userfaultfd_k.h>

#include "compat.h"
#include "vhost_shmem.h"

/* Placeholders of the owner and of viewers: vm_private_data is the region. */
static vm_fault_t vhost_shmem_hole_fault(struct vm_fault *vmf)
{
	struct vhost_shmem_region *region = vmf->vma->vm_private_data;

	if ((region->flags & VHOST_SHMEM_REGION_F_FAULT_HOLES) ||
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

/**
 * vhost_shmem_make_hole() - make a new vma a placeholder of @region
 * @vma: the vma, in ->mmap of the device file or of a view file
 * @region: the region; the vma's file keeps it alive
 */
void vhost_shmem_make_hole(struct vm_area_struct *vma,
			   struct vhost_shmem_region *region)
{
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTCOPY | VM_DONTEXPAND |
		     VM_DONTDUMP);
	vma->vm_ops = &vhost_shmem_hole_ops;
	vma->vm_private_data = region;
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
	region->owner.len = region->size;
	/*
	 * Pairs with live_region() and REGION_INFO: @prot and @len first.
	 * Published before the kernel links the vma: the first request
	 * confirms it (space_confirmed()).
	 */
	smp_store_release(&region->owner.addr, vma->vm_start);
	vhost_shmem_make_hole(vma, region);
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
	INIT_LIST_HEAD(&region->viewers);
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
		vhost_shmem_make_hole(vma, dev->inst_space->region);
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

	if (addr && start < addr + space->len && end > addr)
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

/* The address in @space of region offset @shm_offset (within the space). */
static unsigned long space_addr(const struct vhost_shmem_space *space,
				u64 shm_offset)
{
	return space->addr + (unsigned long)(shm_offset - space->off);
}

/*
 * The part of region range [@shm_offset, @shm_offset + @len) that @space
 * maps, as region offsets [*@s, *@e). Return: false if none (a viewer of
 * another part of the region).
 */
static bool space_part(const struct vhost_shmem_space *space, u64 shm_offset,
		       u64 len, u64 *s, u64 *e)
{
	*s = max(shm_offset, space->off);
	*e = min(shm_offset + len, space->off + space->len);
	return *s < *e;
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
	       vma->vm_end <= space->addr + space->len &&
	       vma->vm_pgoff == space_pgoff(space, vma->vm_start) &&
	       prot == space->prot;
}

/*
 * Is the owner's mmap() of @space's region in its mm? ->mmap published the
 * address before the kernel linked the vma; mmap() cannot fail after a
 * successful ->mmap on the kernels we build for (6.1 and 6.12 allocate
 * everything the vma needs before calling it, since "mm: resolve faulty
 * mmap_region() error path behaviour"), but nothing in the ->mmap
 * contract promises it. So the first request that uses the region looks,
 * under mmap_lock (taken after that mmap() finished either way), for a
 * placeholder of it: any vma of the range with our ops, file and region
 * (holes the owner mprotect()ed are still that). None means the mmap()
 * failed, or the owner unmapped or replaced the whole range since (which
 * detached it already): the space is detached, so the device never maps
 * into, nor refills, address space the region does not own. dev->mutex
 * held, in the space's mm: the owner's own thread for its first request,
 * which waits killable (another of its threads may hold the lock as long
 * as it likes). Not inlined: root_test names its wait.
 *
 * Return: 0 (confirmed), -ENXIO (no placeholder: now detached), or -EINTR
 * (killed before it could look: nothing changed, it is asked again).
 */
static noinline int space_confirmed(struct vhost_shmem_space *space)
{
	unsigned long end = space->addr + space->len;
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;

	if (space->confirmed)
		return 0;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	for (vma = find_vma(mm, space->addr); vma && vma->vm_start < end;
	     vma = find_vma(mm, vma->vm_end)) {
		if (vma->vm_ops == &vhost_shmem_hole_ops &&
		    vma->vm_file == space->file &&
		    vma->vm_private_data == space->region) {
			space->confirmed = true;
			break;
		}
	}
	if (!space->confirmed)
		WRITE_ONCE(space->detached, true);
	mmap_read_unlock(mm);
	return space->confirmed ? 0 : -ENXIO;
}

/*
 * Is @vma exactly where a listed mapping of @r with its file is in the
 * owner's space (detached or not): that mapping's own vma, not moved?
 * dev->mutex held (@r's mappings), the owner's mmap_lock held.
 */
static bool in_listed_mapping(struct vhost_shmem_region *r,
			      const struct vm_area_struct *vma)
{
	unsigned long addr = READ_ONCE(r->owner.addr), start;
	struct vhost_shmem_mapping *m;

	if (!addr || vma->vm_start < addr || vma->vm_end > addr + r->owner.len)
		return false;
	m = mtree_load(&r->mappings, (vma->vm_start - addr) >> PAGE_SHIFT);
	if (!m || m->vm_file != vma->vm_file)
		return false;
	start = addr + (unsigned long)m->shm_offset;
	return vma->vm_end <= start + m->len &&
	       vma->vm_pgoff == m->vm_pgoff + ((vma->vm_start - start) >> PAGE_SHIFT);
}

/*
 * May [start, end) of @space be replaced? mmap_lock held. It may when it
 * holds only holes of @space, vmas of @expect (when set), with @table the
 * vmas of the listed mappings each at its place (RESET), and gaps. Gaps
 * can only be our own (an UNMAP or RESET that could not put the hole back
 * at vm.max_map_count): anything the mm's threads do to the space's
 * address range detaches it (see space_touched()).
 *
 * Return: 0, -ENXIO (the space is detached), -EXDEV (a foreign vma: the
 * owner mprotect'ed part of it), -EBUSY (registered with userfaultfd:
 * replacing it would wait for the owner's uffd reader without bound).
 */
static int check_range_locked(struct vhost_shmem_space *space,
			      struct file *expect, bool table,
			      unsigned long start, unsigned long end)
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
		if (!is_hole(space, vma) && !(expect && vma->vm_file == expect) &&
		    !(table && in_listed_mapping(space->region, vma)))
			return -EXDEV;
	}
	return 0;
}

/*
 * check_range_locked() under its own read lock, for the backend's mmap.
 * Return: as check_range_locked(), or -EINTR (killed, nothing checked).
 */
static int check_range(struct vhost_shmem_space *space, struct file *expect,
		       unsigned long start, unsigned long end)
{
	int ret;

	if (mmap_read_lock_killable(current->mm))
		return -EINTR;
	ret = check_range_locked(space, expect, false, start, end);
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
	return vhost_shmem_area(file->private_data, file, addr, len, pgoff,
				flags);
}

/**
 * vhost_shmem_area() - ->get_unmapped_area of the device and view files
 * @dev: the device
 * @file: the device file or a view file
 * @addr: the address asked for
 * @len: the length
 * @pgoff: the offset in @file
 * @flags: mmap flags
 *
 * See vhost_shmem_get_unmapped_area().
 *
 * Return: the address, or a negative errno of check_range_locked().
 */
unsigned long vhost_shmem_area(struct vhost_shmem_dev *dev, struct file *file,
			       unsigned long addr, unsigned long len,
			       unsigned long pgoff, unsigned long flags)
{
	int ret;

	if (READ_ONCE(dev->installer) != current)
		/* Regions are 1 TiB apart in the file: 2 MiB aligned on 6.12. */
		return thp_get_unmapped_area(file, addr, len, pgoff, flags);
	ret = check_range_locked(dev->inst_space, dev->inst_expect,
				 dev->inst_table, addr, addr + len);
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
	while (*end < space->addr + space->len) {
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
 * A hole next to it that cannot be mapped over (mseal()ed: EPERM, and
 * nothing replaced) leaves the holes apart: [start, end) alone.
 * Return: 0, a negative errno of install_hole(), or -EINTR (killed).
 */
static int restore_hole(struct vhost_shmem_dev *dev,
			struct vhost_shmem_space *space, struct file *expect,
			unsigned long start, unsigned long end)
{
	unsigned long s = start, e = end;
	int ret;

	if (mmap_read_lock_killable(current->mm))
		return -EINTR;
	hole_run(space, &s, &e);
	mmap_read_unlock(current->mm);
	ret = install_hole(dev, space, expect, s, e);
	if (ret == -EPERM && (s != start || e != end))
		ret = install_hole(dev, space, expect, start, end);
	return ret;
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
		/* Killed: the holes stay apart, which is still correct. */
		if (mmap_read_lock_killable(mm))
			return;
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
 * What seal_mapping() saw of a new mapping's vmas, under one mmap_lock
 * hold: the file they map (a reference), how many references of it were
 * not theirs, and vm_pgoff of the first.
 */
struct vhost_shmem_seen {
	struct file *vm_file;
	long others;
	unsigned long pgoff;
};

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
 * @seen->vm_file gets the file the vmas map: the backend's ->mmap may
 * have swapped in another one, as overlayfs and GEM exporters do.
 *
 * Return: 0, -ENXIO (the region was detached meanwhile), -EBUSY, -EINTR
 * (killed: *@vm_file is NULL; only a dying task is, its mm goes too).
 */
static int seal_mapping(struct vhost_shmem_space *space, struct file *file,
			unsigned long start, unsigned long end, bool rw,
			struct vhost_shmem_seen *seen)
{
	struct file **vm_file = &seen->vm_file;
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr;
	long vmas = 0;
	int ret = 0;

	*vm_file = NULL;
	if (mmap_write_lock_killable(mm))
		return -EINTR;
	vma = vma_lookup(mm, start);
	*vm_file = vma && vma->vm_file != space->file ? vma->vm_file : NULL;
	seen->pgoff = vma ? vma->vm_pgoff : 0;
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
		vmas++;
	}
	/* No accounting depends on these: not inherited, not duplicated
	 * or grown by mremap (old_len 0 would copy a shared vma).
	 */
	for (addr = start; addr < end; addr = vma->vm_end) {
		vma = find_vma(mm, addr);
		vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND);
	}
	/* Any reference taken meanwhile only makes vm_file_refs() refuse to count. */
	seen->others = file_count(*vm_file) - vmas;
out:
	if (*vm_file)
		get_file(*vm_file);
	mmap_write_unlock(mm);
	return ret;
}

/* Does @vma lie in @space, which nothing was moved into (not detached)? */
static bool space_holds(const struct vhost_shmem_space *space,
			const struct vm_area_struct *vma)
{
	unsigned long addr = READ_ONCE(space->addr);

	return addr && !READ_ONCE(space->detached) && vma->vm_start >= addr &&
	       vma->vm_end <= addr + space->len;
}

/*
 * Is @vma of @mm one of @dev's own installations: in a space of @dev in
 * @mm (the owner's regions, viewers) that is not detached (anything moved
 * into such a space would have detached it), or where a listed mapping of
 * the owner's is? dev->mutex held (the viewers' lists), @mm's mmap_lock
 * held.
 */
static bool in_live_space(struct vhost_shmem_dev *dev, struct mm_struct *mm,
			  struct vm_area_struct *vma)
{
	struct vhost_shmem_viewer *v;
	int i;

	for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++) {
		struct vhost_shmem_region *r = &dev->regions[i];

		if (!r->size)
			continue;
		if (dev->mm == mm && (space_holds(&r->owner, vma) ||
				      in_listed_mapping(r, vma)))
			return true;
		list_for_each_entry(v, &r->viewers, node)
			if (v->mm == mm && space_holds(&v->space, vma))
				return true;
	}
	return false;
}

/*
 * Take [start, end) out of the owner's mm without putting a hole back, if
 * it still holds only @expect's vmas: at release (a new placeholder would
 * map a file being freed), in a detached region (a placeholder there would
 * pin the device in address space the owner gave up), or when the hole
 * cannot come back (out of vmas). The check and the munmap are two lock
 * holds (do_munmap is not exported); the window can only remove memory
 * from the owner's own address space, in a range of a live region the
 * owner itself unmapped meanwhile. Only [first, last) of @expect's vmas
 * found is unmapped: nothing when the range holds none. @spare_live (the
 * reap of a detached viewer): a vma of @expect in a live space of @dev in
 * this mm is another's, as a vma of another file is (a view the viewer's
 * process mmapped over the old one's range since; dev->mutex held).
 *
 * Return: 0, or -EXDEV (a vma of another file, or a spared one) or -EBUSY
 * (one of @expect's registered with userfaultfd) or -EINTR (killed) with
 * the range left alone, or vm_munmap()'s error (-EPERM: mseal()ed).
 */
static int evict_range(struct vhost_shmem_dev *dev, struct file *expect,
		       unsigned long start, unsigned long end, bool spare_live)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr, lo = end, hi = start;
	int ret = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	for (addr = start; addr < end; addr = vma->vm_end) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start >= end)
			break;
		/* Another file first: anything else is not ours to judge. */
		if (vma->vm_file != expect ||
		    (spare_live && in_live_space(dev, mm, vma))) {
			ret = -EXDEV;
			break;
		}
		if (userfaultfd_armed(vma)) {
			ret = -EBUSY;
			break;
		}
		lo = min(lo, max(vma->vm_start, start));
		hi = min(vma->vm_end, end);
	}
	mmap_read_unlock(mm);
	/*
	 * Only the part @expect's vmas were in: the rest of the range may be
	 * the mm's own again by now (a viewer's new view mmapped where its
	 * old one was, while the worker reaps the old one).
	 */
	if (ret || lo >= hi)
		return ret;
	WRITE_ONCE(dev->installer, current);
	ret = vm_munmap(lo, hi - lo);
	WRITE_ONCE(dev->installer, NULL);
	return ret;
}

/*
 * Does any vma of current->mm map pages [pgoff, pgoff + npages) of @file?
 * For a file whose references cannot be counted (a dma-buf): the vmas the
 * owner moved out of a detached region are found this way. One lock hold:
 * the walk sees the whole mm at one instant, and nothing but fork() can
 * copy a mapping's vma (VM_DONTEXPAND refuses mremap()'s duplicates).
 * The device's own mappings of the same pages (another region, a viewer
 * in this mm) are not copies. dev->mutex held; in a caller's own thread
 * (a viewer's attach, the owner's RESET) the wait for the lock is
 * killable, and a killed search says "copied": the answer that promises
 * nothing (EBUSY, the mapping treated as shared). Not inlined: root_test
 * names its wait.
 */
static noinline bool mm_maps_file(struct vhost_shmem_dev *dev,
				  struct file *file, unsigned long pgoff,
				  unsigned long npages)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool found = false;

	if (mmap_read_lock_killable(mm))
		return true;
	for (vma = find_vma(mm, 0); vma && !found;
	     vma = find_vma(mm, vma->vm_end)) {
		found = vma->vm_file == file && vma->vm_pgoff < pgoff + npages &&
			pgoff < vma->vm_pgoff + vma_pages(vma) &&
			!in_live_space(dev, mm, vma);
		cond_resched();
	}
	mmap_read_unlock(mm);
	return found;
}

/*
 * Region @shmid if MAP and UNMAP may use it. Return: the region, or NULL
 * with *@err: -ESRCH, -ENXIO (not mmapped, detached), or -EINTR (killed
 * confirming it, see space_confirmed()). dev->mutex held.
 */
static struct vhost_shmem_region *
live_region(struct vhost_shmem_dev *dev, u32 shmid, int *err)
{
	struct vhost_shmem_region *region = &dev->regions[shmid];

	if (READ_ONCE(dev->mm_dead))
		*err = -ESRCH;
	else if (!smp_load_acquire(&region->owner.addr))	/* pairs with ->mmap */
		*err = -ENXIO;
	else
		*err = space_confirmed(&region->owner);
	if (!*err && READ_ONCE(region->owner.detached))
		*err = -ENXIO;
	return *err ? NULL : region;
}

/*
 * Does [start, end) of current->mm have a gap (no vma)? Return: true if
 * so, or if killed before it could look.
 */
static bool range_has_gap(unsigned long start, unsigned long end)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr;
	bool gap = false;

	if (mmap_read_lock_killable(mm))
		return true;
	for (addr = start; addr < end && !gap; addr = vma->vm_end) {
		vma = find_vma(mm, addr);
		gap = !vma || vma->vm_start > addr;
	}
	mmap_read_unlock(mm);
	return gap;
}

/*
 * Put the hole back over [start, end) of @space where @expect's vmas are
 * (or, @expect NULL, where a failed vm_mmap() may have unmapped it); in a
 * detached space only take @expect's vmas out. The hole replaces at least
 * one vma, so it needs no vm.max_map_count headroom, but do_mmap() refuses
 * any mmap() in an mm past the limit, and the splits of a MAP's own
 * vm_mmap() may take it one vma past (the kernel lets munmap()'s second
 * split go there): unmapping @expect's vmas first brings it back to the
 * limit, then the hole goes over the gap they left. dev->mutex held, no
 * mmap_lock, in the space's mm.
 *
 * Return: 0 (a hole there again, or a failed vm_mmap() changed nothing),
 * 1 (@expect's vmas are gone, but so is the hole: a gap), or a negative
 * errno of evict_range() (@expect's vmas are still there).
 */
static int put_hole_back(struct vhost_shmem_dev *dev,
			 struct vhost_shmem_space *space, struct file *expect,
			 unsigned long start, unsigned long end)
{
	int ret;

	if (!READ_ONCE(space->detached) &&
	    !restore_hole(dev, space, expect, start, end))
		return 0;
	if (!expect)
		return range_has_gap(start, end) ? 1 : 0;
	ret = evict_range(dev, expect, start, end, false);
	if (ret)
		return ret;
	if (!READ_ONCE(space->detached) &&
	    !restore_hole(dev, space, NULL, start, end))
		return 0;
	return 1;
}

/*
 * After a failed install: put the hole back over [start, end), whatever
 * vm_mmap() left there (@expect's vmas, a gap if the backend's ->mmap
 * failed after the range was unmapped); in a region detached meanwhile,
 * only take @expect's vmas out. Where that fails, the owner is left with
 * the range as it is (warned); a viewer is detached instead (its reap
 * takes out what is left of @expect), so no attached viewer has a gap; one
 * that keeps the vmas keeps the mapping listed (viewers_install()).
 * Locking: dev->mutex held, no mmap_lock (each step takes the mm's own,
 * one at a time), in the space's mm; detaching a viewer only flags it and
 * queues the reap (vhost_shmem_viewer_detach()), nothing here waits for
 * that.
 */
static int undo_install(struct vhost_shmem_dev *dev,
			struct vhost_shmem_space *space, struct file *expect,
			unsigned long start, unsigned long end)
{
	int ret = put_hole_back(dev, space, expect, start, end);

	if (!ret)
		return 0;
	if (space != &space->region->owner)
		vhost_shmem_viewer_detach(container_of(space,
						       struct vhost_shmem_viewer,
						       space));
	pr_warn_ratelimited("vhost-shmem: could not undo a MAP at %#lx-%#lx: %d\n",
			    start, end, ret);
	return ret;
}

/*
 * The references the file a new mapping's vmas map has once no vma maps
 * it (see vhost_shmem_mapping.vm_refs and mapping_copied()), from what
 * seal_mapping() saw in the first space that installed it. @file is the
 * file the MAP installed, @private true when the module opened it for this
 * mapping alone (every vma of it is then the mapping's or a copy).
 *
 * Return: the count, 0 when it cannot be established, or
 * VHOST_SHMEM_REFS_SHARED.
 */
static long vm_file_refs(struct file *file, bool private,
			 const struct vhost_shmem_seen *seen)
{
	/* The table's @file and vm_file, one file; or the backend's own. */
	if (seen->vm_file == file)
		return private ? 2 : VHOST_SHMEM_REFS_SHARED;
	/*
	 * Swapped in by ->mmap. Held by the new vmas alone (/dev/zero's
	 * shmem file): the table's reference is the only other one.
	 */
	if (!seen->others)
		return 1;
	/*
	 * Held by our own file, which swapped it in (overlayfs, FUSE
	 * passthrough and coda hold one reference of it): that one and the
	 * table's. A file with other references there cannot be counted.
	 */
	if (private)
		return seen->others == 1 ? 2 : 0;
	/* The backend's own file swapped it in (a GEM object's shmem file). */
	return VHOST_SHMEM_REFS_SHARED;
}

/*
 * Install the MAP @a of @file in @space, in the space's mm: the
 * backend's own vm_mmap() (its LSM checks, seals and ->mmap) over the
 * checked range. dev->mutex held. On success @seen->vm_file holds a
 * reference to the file the new vmas map; on failure the space is as it
 * was (holes where holes were) and @seen->vm_file is NULL.
 *
 * Return: 0 or a negative errno (see VHOST_SHMEM_MAP in the uapi header).
 */
static int space_install(struct vhost_shmem_dev *dev,
			 struct vhost_shmem_space *space, struct file *file,
			 const struct vhost_shmem_map *a,
			 struct vhost_shmem_seen *seen)
{
	struct file **vm_file = &seen->vm_file;
	bool rw = a->flags & VHOST_SHMEM_MAP_F_RW;
	unsigned long start = space_addr(space, a->shm_offset);
	unsigned long end = start + a->len;
	/*
	 * Read-write mappings are writable in the owner, and in a viewer
	 * only if it mmapped its view with PROT_WRITE (it may mprotect()
	 * them writable later: a read-write view may write).
	 */
	bool writable = rw && (space == &space->region->owner ||
			       (space->prot & PROT_WRITE));
	unsigned long addr;
	int ret;

	*vm_file = NULL;
	ret = check_range(space, NULL, start, end);
	if (ret)
		return ret;

	WRITE_ONCE(dev->installer, current);
	addr = vm_mmap(file, start, a->len, PROT_READ | (writable ? PROT_WRITE : 0),
		       MAP_SHARED | MAP_FIXED, a->fd_offset);
	WRITE_ONCE(dev->installer, NULL);
	if (IS_ERR_VALUE(addr)) {
		/* The backend's ->mmap may fail after the hole was unmapped. */
		undo_install(dev, space, NULL, start, end);
		return (int)addr;
	}
	ret = seal_mapping(space, file, start, end, rw, seen);
	if (ret) {
		/*
		 * Killed before it could look (a task of an mm that outlives
		 * it, CLONE_VM): the vmas vm_mmap() made map @file, unless
		 * its ->mmap swapped in another.
		 */
		undo_install(dev, space, ret == -EINTR ? file : *vm_file,
			     start, end);
		if (*vm_file)
			fput(*vm_file);
		*vm_file = NULL;
		return ret;
	}
	drop_frag(dev, space, start, end);
	return 0;
}

/* ---- viewers: the same mappings in other mms (see view.c) ---- */

/* What a kthread used before it adopted a viewer's mm. */
struct vhost_shmem_in_viewer {
	struct mm_struct *old_mm;
	struct mem_cgroup *old_memcg;
};

/*
 * Make @v's mm current->mm, with its memcg active: in the worker (which
 * leaves the owner's mm for it), in a kworker (no mm), or nothing to do in
 * the viewer's own thread. One mm at a time, never with an mmap_lock held.
 *
 * Return: 0, or -ESRCH when the viewer's mm is gone (it is then detached).
 */
static int enter_viewer(struct vhost_shmem_viewer *v,
			struct vhost_shmem_in_viewer *s)
{
	s->old_mm = current->mm;
	if (s->old_mm != v->mm && WARN_ON_ONCE(!(current->flags & PF_KTHREAD)))
		return -ESRCH;
	if (!mmget_not_zero(v->mm)) {
		WRITE_ONCE(v->space.detached, true);
		return -ESRCH;
	}
	if (s->old_mm != v->mm) {
		if (s->old_mm)
			kthread_unuse_mm(s->old_mm);
		kthread_use_mm(v->mm);
	}
	s->old_memcg = set_active_memcg(v->memcg);
	return 0;
}

static void leave_viewer(struct vhost_shmem_viewer *v,
			 struct vhost_shmem_in_viewer *s)
{
	set_active_memcg(s->old_memcg);
	if (s->old_mm != v->mm) {
		kthread_unuse_mm(v->mm);
		if (s->old_mm)
			kthread_use_mm(s->old_mm);
	}
	/* The last reference may be ours: never tear an mm down here. */
	mmput_async(v->mm);
}

/*
 * A read-only view maps a read-write mapping read-only, from a file not
 * open for writing, so the viewer can never mprotect() it writable.
 */
static bool viewer_ro_copy(struct vhost_shmem_viewer *v,
			   struct vhost_shmem_mapping *m)
{
	return !v->rw && (m->flags & VHOST_SHMEM_MAP_F_RW);
}

/* The file @v's vmas of @m map. */
static struct file *viewer_vm_file(struct vhost_shmem_viewer *v,
				   struct vhost_shmem_mapping *m)
{
	return viewer_ro_copy(v, m) ? m->ro_vm_file : m->vm_file;
}

/* vm_pgoff of @v's vmas of @m at the mapping's start. */
static unsigned long viewer_vm_pgoff(struct vhost_shmem_viewer *v,
				     struct vhost_shmem_mapping *m)
{
	return viewer_ro_copy(v, m) ? m->ro_vm_pgoff : m->vm_pgoff;
}

/*
 * Install @m (fields set, listed or about to be) in viewer @v, in the
 * viewer's mm, with protection min(view, mapping). A read-only view of a
 * read-write mapping gets m->ro_file, a read-only reopening of the
 * module's own file, opened on first need; a file that cannot be reopened
 * (not m->private: a dma-buf, /dev/zero) cannot be shown read-only
 * (-EACCES). Every space maps the file the first one's vmas got
 * (m->vm_file: /dev/zero's shmem file, not /dev/zero) and must end up
 * with it (-EBUSY).
 * dev->mutex held.
 *
 * Return: 0 or a negative errno; on failure the viewer is as it was.
 */
static int viewer_install(struct vhost_shmem_dev *dev,
			  struct vhost_shmem_viewer *v,
			  struct vhost_shmem_mapping *m)
{
	struct vhost_shmem_map a = { .flags = m->flags };
	struct file *file = m->file, **want = &m->vm_file;
	unsigned long *pgoff = &m->vm_pgoff;
	long *refs = &m->vm_refs;
	struct vhost_shmem_seen seen;
	unsigned long start;
	u64 s, e;
	int ret;

	/* A view of part of the region gets the part of @m it maps. */
	if (m->kept || !space_part(&v->space, m->shm_offset, m->len, &s, &e))
		return 0;
	a.shm_offset = s;
	a.len = e - s;
	a.fd_offset = m->fd_offset + (s - m->shm_offset);
	start = space_addr(&v->space, s);
	/*
	 * Once a space took it, the file its vmas map: the same but for
	 * /dev/zero, whose ->mmap makes a new shmem file each time.
	 */
	if (m->vm_file)
		file = m->vm_file;
	if (viewer_ro_copy(v, m)) {
		if (!m->private)
			return -EACCES;
		if (!m->ro_file) {
			file = dentry_open(&m->file->f_path,
					   O_RDONLY | (m->file->f_flags & O_LARGEFILE),
					   m->file->f_cred);
			if (IS_ERR(file))
				return PTR_ERR(file);
			m->ro_file = file;
		}
		file = m->ro_file;
		want = &m->ro_vm_file;
		refs = &m->ro_vm_refs;
		pgoff = &m->ro_vm_pgoff;
		a.flags &= ~VHOST_SHMEM_MAP_F_RW;
	}
	ret = space_install(dev, &v->space, file, &a, &seen);
	if (ret)
		return ret;
	if (!*want) {
		*want = seen.vm_file;	/* space_install()'s reference */
		*refs = vm_file_refs(file, true, &seen);
		*pgoff = seen.pgoff - ((s - m->shm_offset) >> PAGE_SHIFT);
		return 0;
	}
	if (seen.vm_file != *want) {
		undo_install(dev, &v->space, seen.vm_file, start,
			     start + a.len);
		ret = -EBUSY;
	}
	fput(seen.vm_file);
	return ret;
}

/**
 * enum vhost_shmem_remove - why viewer_remove() takes a mapping out
 * @VHOST_SHMEM_REMOVE_EVICT: the viewer is being reaped: only unmap it
 * @VHOST_SHMEM_REMOVE_UNMAP: UNMAP or RESET: put the hole back, or at
 *	least unmap it (a gap, as in the owner)
 * @VHOST_SHMEM_REMOVE_ROLLBACK: a MAP or an attach failed: put the hole
 *	back, or detach the viewer
 */
enum vhost_shmem_remove {
	VHOST_SHMEM_REMOVE_EVICT,
	VHOST_SHMEM_REMOVE_UNMAP,
	VHOST_SHMEM_REMOVE_ROLLBACK,
};

/*
 * Take @m out of viewer @v, in the viewer's mm, as @how says: put the hole
 * back (merged with the holes around it: viewers keep no fragment list),
 * or at least unmap it. A viewer that keeps it (it mseal'ed it or
 * registered it with userfaultfd) is detached, and so is one a rollback
 * leaves with a gap (see undo_install()). dev->mutex held, no mmap_lock.
 *
 * Return: 0; -EBUSY when the viewer still maps it in its view, where the
 * device may not replace it (sealed, userfaultfd: a reap keeps such a
 * viewer listed to try again), or, for a rollback, anywhere in its mm
 * (moved, or partly covered by a vma of its own); -EXDEV when the viewer
 * put something of its own over part of it (what is left of it there is
 * left alone); 1 when it was moved out of the detached view (see
 * clear_mapping()).
 */
static int viewer_remove(struct vhost_shmem_dev *dev,
			 struct vhost_shmem_viewer *v,
			 struct vhost_shmem_mapping *m,
			 enum vhost_shmem_remove how)
{
	struct file *expect = viewer_vm_file(v, m);
	unsigned long start, end;
	int ret;
	u64 s, e;

	/*
	 * The first read-only copy, if an attach could not take it out of
	 * its viewer again (killed): its vmas map m->ro_file.
	 */
	if (!expect && how == VHOST_SHMEM_REMOVE_EVICT && viewer_ro_copy(v, m))
		expect = m->ro_file;
	/*
	 * Never installed there (none took that file yet, or it came once
	 * the viewer was detached), or not in the part of the region it views.
	 */
	if (!expect || m->seq > v->got_seq ||
	    !space_part(&v->space, m->shm_offset, m->len, &s, &e))
		return 0;
	start = space_addr(&v->space, s);
	end = start + (e - s);
	/*
	 * A detached viewer's reap spares the live views of its mm: a viewer
	 * kept listed is reaped again on every request, and a view its
	 * process mmapped over the old range since has the same files there.
	 * Its retries evict only what it keeps.
	 */
	if (how == VHOST_SHMEM_REMOVE_EVICT)
		ret = evict_range(dev, expect, start, end,
				  READ_ONCE(v->space.detached));
	else
		ret = put_hole_back(dev, &v->space, expect, start, end);
	if (ret > 0 && how == VHOST_SHMEM_REMOVE_ROLLBACK &&
	    !READ_ONCE(v->space.detached))
		vhost_shmem_viewer_detach(v);
	if (ret > 0)
		ret = 0;
	/*
	 * A rollback in a view its own threads changed since the install
	 * (detached by that) may find nothing of the new vmas in the range
	 * (moved: VM_DONTEXPAND allows a move of the same size) or a vma of
	 * the viewer's own first (-EXDEV: the range is left alone). Whatever
	 * of them the mm still maps, outside the device's live spaces, it
	 * keeps: the copy check of UNMAP, for this mm.
	 */
	if (how == VHOST_SHMEM_REMOVE_ROLLBACK && (!ret || ret == -EXDEV) &&
	    READ_ONCE(v->space.detached) &&
	    mm_maps_file(dev, expect, viewer_vm_pgoff(v, m) +
			 ((s - m->shm_offset) >> PAGE_SHIFT), (e - s) >> PAGE_SHIFT))
		ret = -EBUSY;
	/* Moved out of a detached view: see clear_mapping(). */
	if (!ret && how != VHOST_SHMEM_REMOVE_ROLLBACK && expect == m->vm_file &&
	    m->vm_refs == VHOST_SHMEM_REFS_SHARED &&
	    READ_ONCE(v->space.detached) &&
	    mm_maps_file(dev, expect, m->vm_pgoff, m->len >> PAGE_SHIFT))
		ret = 1;
	if (!ret)
		return 0;
	WRITE_ONCE(v->space.detached, true);
	return ret == 1 || ret == -EXDEV ? ret : -EBUSY;
}

/* Any viewer in the lists (attached, maybe detached since)? dev->mutex held. */
static bool has_viewers(struct vhost_shmem_dev *dev)
{
	return dev->nr_attached;
}

/*
 * Requests that touch viewers must run in a kthread (the worker, or the
 * drain kworker once the owner is gone): only a kthread can adopt a
 * viewer's mm. Return: true if the caller must hand the request over.
 */
static bool must_requeue(struct vhost_shmem_dev *dev)
{
	return has_viewers(dev) && !(current->flags & PF_KTHREAD);
}

/*
 * Drop the detached viewers of @region (@all: every viewer; @mm: only
 * those in @mm): evict what the device installed there (only vmas still
 * of the expected file), forget them. Their placeholders stay and read
 * zeros until the viewer unmaps them. A live viewer that still maps a
 * listed mapping in its view where the device may not take it out
 * (sealed, userfaultfd) stays listed, detached, unless @all: every later
 * reap tries again, and UNMAP and RESET of that mapping see it (EBUSY).
 * dev->mutex held, in a kthread, or in the thread of @mm.
 */
static void reap_region(struct vhost_shmem_dev *dev,
			struct vhost_shmem_region *region, bool all,
			struct mm_struct *mm)
{
	struct vhost_shmem_viewer *v, *next;
	struct vhost_shmem_in_viewer s;
	struct vhost_shmem_mapping *m;

	list_for_each_entry_safe(v, next, &region->viewers, node) {
		unsigned long index = 0;
		bool keeps = false;

		if ((!all && !READ_ONCE(v->space.detached)) ||
		    (mm && v->mm != mm))
			continue;
		if (!enter_viewer(v, &s)) {
			mt_for_each(&region->mappings, m, index, ULONG_MAX)
				keeps |= viewer_remove(dev, v, m,
						       VHOST_SHMEM_REMOVE_EVICT) == -EBUSY;
			leave_viewer(v, &s);
		}
		if (keeps && !all)
			continue;
		list_del(&v->node);
		dev->nr_attached--;
		vhost_shmem_nl_view_detach(v);
		vhost_shmem_viewer_put(v);
	}
}

/**
 * vhost_shmem_do_reap() - drop every detached viewer
 * @dev: the device, in the owner's mm (the worker)
 * @arg: unused
 *
 * Return: 0.
 */
int vhost_shmem_do_reap(struct vhost_shmem_dev *dev, void *arg)
{
	unsigned int i;

	mutex_lock(&dev->mutex);
	for (i = 0; has_viewers(dev) && i < VHOST_SHMEM_MAX_REGIONS; i++)
		reap_region(dev, &dev->regions[i], false, NULL);
	mutex_unlock(&dev->mutex);
	return 0;
}

/*
 * A kthread's tour of the viewers for one request: it goes straight from
 * one viewer's mm to the next, and back to where it began (the owner's mm
 * in the worker, none in the drain kworker) once at the end, so a request
 * costs one mm switch per viewer and one more, not two per viewer visited.
 * Under TCG each switch flushes the emulated TLB and the work after it
 * pays for the refill (see Documentation/performance). Never with an
 * mmap_lock held; the mm visited is pinned (mmget) while it is current.
 */
struct vhost_shmem_tour {
	struct mm_struct *home;		/* current->mm when the tour began */
	struct vhost_shmem_viewer *at;	/* whose mm is current now, or NULL */
	struct mem_cgroup *old_memcg;	/* the active memcg at home */
};

static void tour_begin(struct vhost_shmem_tour *t)
{
	t->home = current->mm;
	t->at = NULL;
}

/*
 * Make @v's mm current->mm, with its memcg active.
 * Return: 0, or -ESRCH when the viewer's mm is gone (it is then detached).
 */
static int tour_visit(struct vhost_shmem_tour *t, struct vhost_shmem_viewer *v)
{
	struct mm_struct *prev = current->mm;

	if (t->at == v)
		return 0;
	if (WARN_ON_ONCE(!(current->flags & PF_KTHREAD)))
		return -ESRCH;
	if (!mmget_not_zero(v->mm)) {
		WRITE_ONCE(v->space.detached, true);
		return -ESRCH;
	}
	if (prev != v->mm) {
		if (prev)
			kthread_unuse_mm(prev);
		kthread_use_mm(v->mm);
	}
	if (t->at) {
		set_active_memcg(v->memcg);
		/* The last reference may be ours: never tear an mm down here. */
		mmput_async(t->at->mm);
	} else {
		t->old_memcg = set_active_memcg(v->memcg);
	}
	t->at = v;
	return 0;
}

/* Back where the tour began. */
static void tour_end(struct vhost_shmem_tour *t)
{
	struct vhost_shmem_viewer *v = t->at;

	if (!v)
		return;
	set_active_memcg(t->old_memcg);
	if (v->mm != t->home) {
		kthread_unuse_mm(v->mm);
		if (t->home)
			kthread_use_mm(t->home);
	}
	mmput_async(v->mm);
	t->at = NULL;
}

/*
 * Can every attached viewer take [shm_offset, shm_offset + len)? Each is
 * checked in its own mm, like the owner's range, in list order; the tour
 * stays at the last one. A viewer that went away meanwhile is not a
 * failure (it is reaped). dev->mutex held, in a kthread.
 *
 * Return: 0 or the first viewer's errno of check_range(); that viewer's
 * pid is then in *@refused_by.
 */
static int viewers_check(struct vhost_shmem_dev *dev,
			 struct vhost_shmem_region *region, u64 shm_offset,
			 u64 len, struct vhost_shmem_tour *t, pid_t *refused_by)
{
	struct vhost_shmem_viewer *v;
	unsigned long start;
	u64 ps, pe;
	int ret;

	list_for_each_entry(v, &region->viewers, node) {
		if (!space_part(&v->space, shm_offset, len, &ps, &pe) ||
		    tour_visit(t, v))
			continue;
		start = space_addr(&v->space, ps);
		ret = check_range(&v->space, NULL, start, start + (pe - ps));
		if (ret && ret != -ENXIO) {
			*refused_by = v->pid;
			return ret;
		}
	}
	return 0;
}

/*
 * Take @m out of every listed viewer. Return: -EBUSY if one keeps it; the
 * pid of the first that keeps it in its view, where the device may not
 * take it out (viewer_remove()'s -EBUSY), is then in *@kept_by if set.
 */
static int viewers_remove(struct vhost_shmem_dev *dev,
			  struct vhost_shmem_region *region,
			  struct vhost_shmem_mapping *m,
			  enum vhost_shmem_remove how,
			  struct vhost_shmem_tour *t, pid_t *kept_by)
{
	struct vhost_shmem_viewer *v;
	u64 ps, pe;
	int ret = 0, err;

	list_for_each_entry(v, &region->viewers, node) {
		if (!space_part(&v->space, m->shm_offset, m->len, &ps, &pe) ||
		    tour_visit(t, v))
			continue;
		err = viewer_remove(dev, v, m, how);
		if (err)
			ret = -EBUSY;
		if (err == -EBUSY && kept_by && !*kept_by)
			*kept_by = v->pid;
	}
	return ret;
}

/*
 * Install @m in every attached viewer of @region, in reverse list order
 * (the tour is at the last one after viewers_check()); on a failure, take
 * it out of those that took it. One that keeps it (its own thread mseal()ed
 * it or registered it with userfaultfd meanwhile) makes the MAP all or
 * nothing in the only honest way left: @m is kept (listed, see
 * vhost_shmem_mapping.kept) and the result is -EBUSY naming that viewer.
 * dev->mutex held, in a kthread.
 *
 * Return: 0 or the errno of the viewer that could not take it, or -EBUSY
 * with m->kept set; that viewer's pid is then in *@refused_by.
 */
static int viewers_install(struct vhost_shmem_dev *dev,
			   struct vhost_shmem_region *region,
			   struct vhost_shmem_mapping *m,
			   struct vhost_shmem_tour *t, pid_t *refused_by)
{
	struct vhost_shmem_viewer *v;
	u64 ps, pe;
	int ret = 0;

	list_for_each_entry_reverse(v, &region->viewers, node) {
		/* A detached one is only listed while it keeps another one. */
		if (READ_ONCE(v->space.detached) ||
		    !space_part(&v->space, m->shm_offset, m->len, &ps, &pe) ||
		    tour_visit(t, v))
			continue;
		v->got_seq = m->seq;
		ret = viewer_install(dev, v, m);
		/* Detached meanwhile: its own doing, reaped next time. */
		if (ret == -ENXIO)
			ret = 0;
		if (ret)
			break;
	}
	if (!ret)
		return 0;
	*refused_by = v->pid;
	list_for_each_entry_continue(v, &region->viewers, node) {
		if (!space_part(&v->space, m->shm_offset, m->len, &ps, &pe) ||
		    tour_visit(t, v))
			continue;
		if (viewer_remove(dev, v, m, VHOST_SHMEM_REMOVE_ROLLBACK) ==
		    -EBUSY && !m->kept) {
			m->kept = true;
			*refused_by = v->pid;
			ret = -EBUSY;
		}
	}
	return ret;
}

/**
 * vhost_shmem_viewer_attach() - populate a new viewer and list it
 * @dev: the device
 * @v: the viewer, in its own mm (the mmapping task, see view.c), its
 *	notifier registered
 *
 * Installs every live mapping of the region into the viewer's placeholder,
 * which must still be exactly as its ->mmap made it, and sends the attach
 * event (whatever the result). Serialised with MAP, UNMAP and RESET by
 * dev->mutex: a MAP before it is installed here, one after it by the MAP.
 * If population fails, what it installed is taken out again; where that
 * fails because the task was killed (its waits for its own mmap_lock are
 * killable; its mm, shared with another process by CLONE_VM, may outlive
 * it), the viewer is detached and still listed, so that the worker's reap
 * evicts what is left: the attach event carries the errno, the reap's
 * detach event follows.
 *
 * Return: 0 (listed, attached or detached), or a negative errno with the
 * viewer as it was made.
 */
int vhost_shmem_viewer_attach(struct vhost_shmem_dev *dev,
			      struct vhost_shmem_viewer *v)
{
	struct vhost_shmem_space *space = &v->space;
	struct vhost_shmem_region *region = space->region;
	struct vhost_shmem_mapping *m, *failed = NULL;
	struct vm_area_struct *vma;
	unsigned long index = 0;
	bool listed = false;
	int ret;

	if (mutex_lock_killable(&dev->mutex)) {
		vhost_shmem_nl_view_attach(v, -EINTR);
		return -EINTR;
	}
	ret = -ESRCH;
	if (READ_ONCE(dev->mm_dead))
		goto out;
	/*
	 * A viewer this mm's threads detached may be where this one is now
	 * (mmap(MAP_FIXED) of a view over a view): the same files at the same
	 * offsets. Reap it before this one gets them, not after.
	 */
	for (index = 0; index < VHOST_SHMEM_MAX_REGIONS; index++)
		reap_region(dev, &dev->regions[index], false, current->mm);
	index = 0;
	ret = -EINTR;
	if (mmap_read_lock_killable(current->mm))
		goto out;
	vma = vma_lookup(current->mm, space->addr);
	ret = vma && vma->vm_start == space->addr &&
	      vma->vm_end == space->addr + space->len &&
	      is_hole(space, vma) && !READ_ONCE(space->detached) ? 0 : -ENXIO;
	mmap_read_unlock(current->mm);
	if (ret)
		goto out;
	v->got_seq = dev->map_seq;
	mt_for_each(&region->mappings, m, index, ULONG_MAX) {
		ret = viewer_install(dev, v, m);
		if (ret) {
			failed = m;
			break;
		}
		cond_resched();
	}
	if (failed) {
		index = 0;
		mt_for_each(&region->mappings, m, index, ULONG_MAX) {
			if (m == failed)
				break;
			viewer_remove(dev, v, m, VHOST_SHMEM_REMOVE_ROLLBACK);
		}
		/*
		 * Nothing left unless the rollback detached it. Only a
		 * killed task's can have failed for its own mm's lock: it
		 * is left to the reap then (a viewer's own threads that
		 * mseal() or userfaultfd-register what it installed keep
		 * it, and it is put at once, as before).
		 */
		if (!READ_ONCE(space->detached) || !fatal_signal_pending(current))
			goto out;
	}
	list_add_tail(&v->node, &region->viewers);
	dev->nr_attached++;
	listed = true;
	/* Not earlier: the reap it queues must find it listed. */
	if (failed)
		vhost_shmem_viewer_detach(v);
out:
	/* Under dev->mutex: a listed viewer can be reaped once it is dropped. */
	vhost_shmem_nl_view_attach(v, ret);
	mutex_unlock(&dev->mutex);
	return listed ? 0 : ret;
}

/*
 * The owner's space installed @m first: it keeps seal_mapping()'s
 * reference of the file the vmas map, and the count of it.
 */
static void owner_took(struct vhost_shmem_mapping *m,
		       const struct vhost_shmem_map_req *req,
		       const struct vhost_shmem_seen *seen)
{
	m->vm_file = seen->vm_file;
	m->vm_refs = vm_file_refs(req->file, req->private, seen);
	m->vm_pgoff = seen->pgoff;
}

/**
 * vhost_shmem_do_map() - install a validated MAP request
 * @dev: the device, in the owner's mm
 * @arg: struct vhost_shmem_map_req; its mapping is consumed on success
 *
 * Checks the owner's range and every viewer's, then installs in every
 * viewer (last attached first) and in the owner last, visiting each
 * viewer's mm once (struct vhost_shmem_tour). Any failure leaves the
 * owner and every viewer as they were (holes where holes were). When a
 * viewer's mm refused the mapping, its pid is left in @req->refused_by.
 *
 * Return: 0 or a negative errno (see VHOST_SHMEM_MAP in the uapi header);
 * VHOST_SHMEM_REQUEUE in the owner's thread when the region has viewers.
 */
int vhost_shmem_do_map(struct vhost_shmem_dev *dev, void *arg)
{
	struct vhost_shmem_map_req *req = arg;
	struct vhost_shmem_map *a = &req->args;
	struct vhost_shmem_region *region;
	struct vhost_shmem_mapping *m = req->mapping;
	struct vhost_shmem_seen seen;
	unsigned long first = a->shm_offset >> PAGE_SHIFT;
	unsigned long last = first + (a->len >> PAGE_SHIFT) - 1;
	struct vhost_shmem_tour tour;
	unsigned long start;
	int ret;

	if (mutex_lock_killable(&dev->mutex))
		return -EINTR;
	ret = VHOST_SHMEM_REQUEUE;
	if (must_requeue(dev))
		goto out;
	region = live_region(dev, a->shmid, &ret);
	if (!region)
		goto out;
	reap_region(dev, region, false, NULL);
	ret = -ENOSPC;
	if (dev->nr_mappings >= READ_ONCE(vhost_shmem_max_mappings))
		goto out;
	ret = vhost_shmem_user_charge(dev);
	if (ret)
		goto out;
	/* The maple tree refuses a range that overlaps any entry: O(log n). */
	ret = mtree_insert_range(&region->mappings, first, last, m,
				 GFP_KERNEL_ACCOUNT);
	if (ret)
		goto out_uncharge;
	*m = (struct vhost_shmem_mapping) {
		.file = req->file,	/* the request's reference */
		.private = req->private,
		.shm_offset = a->shm_offset,
		.len = a->len,
		.fd_offset = a->fd_offset,
		.flags = a->flags,
		.seq = ++dev->map_seq,
	};

	if (list_empty(&region->viewers)) {
		ret = space_install(dev, &region->owner, req->file, a, &seen);
		if (ret)
			goto out_erase;
		owner_took(m, req, &seen);
		goto done;
	}
	/*
	 * What every space can be asked before anything is replaced: the
	 * owner here, then each viewer on the tour. Then the viewers install
	 * on the way back, the owner last, so each viewer is visited once.
	 */
	start = region->owner.addr + a->shm_offset;
	ret = check_range(&region->owner, NULL, start, start + a->len);
	if (ret)
		goto out_erase;
	tour_begin(&tour);
	ret = viewers_check(dev, region, a->shm_offset, a->len, &tour,
			    &req->refused_by);
	if (!ret && !m->private) {
		/*
		 * A file the module did not open may map another file than
		 * itself (/dev/zero: a shmem file as large as the first vma):
		 * the owner, which maps all of the range, takes it first.
		 */
		tour_end(&tour);
		ret = space_install(dev, &region->owner, req->file, a, &seen);
		if (ret)
			goto out_erase;
		owner_took(m, req, &seen);
		ret = viewers_install(dev, region, m, &tour, &req->refused_by);
		tour_end(&tour);
		if (ret) {
			undo_install(dev, &region->owner, m->vm_file, start,
				     start + a->len);
			goto out_erase;
		}
		goto done;
	}
	if (!ret)
		ret = viewers_install(dev, region, m, &tour, &req->refused_by);
	tour_end(&tour);
	if (ret)
		goto out_erase;
	ret = space_install(dev, &region->owner,
			    m->vm_file ? m->vm_file : req->file, a, &seen);
	/* Every space maps the file the first one got. */
	if (!ret && m->vm_file && seen.vm_file != m->vm_file) {
		undo_install(dev, &region->owner, seen.vm_file, start,
			     start + a->len);
		fput(seen.vm_file);
		ret = -EBUSY;
	} else if (!ret && !m->vm_file) {
		owner_took(m, req, &seen);
	} else if (!ret) {
		/* A viewer took it first and counted it (viewer_install()). */
		m->vm_pgoff = seen.pgoff;
		fput(seen.vm_file);
	}
	if (ret) {
		pid_t kept_by = 0;

		tour_begin(&tour);
		viewers_remove(dev, region, m, VHOST_SHMEM_REMOVE_ROLLBACK,
			       &tour, &kept_by);
		tour_end(&tour);
		if (kept_by) {
			m->kept = true;
			req->refused_by = kept_by;
			ret = -EBUSY;
		}
		goto out_erase;
	}

done:
	req->mapping = NULL;
	req->file = NULL;
	dev->nr_mappings++;
	dev->mapped_bytes += a->len;
	dev->maps++;
	mutex_unlock(&dev->mutex);
	return 0;

out_erase:
	if (m->kept)
		goto kept;
	mtree_erase(&region->mappings, first);
	if (m->vm_file)
		fput(m->vm_file);
	if (m->ro_vm_file)
		fput(m->ro_vm_file);
	if (m->ro_file)
		fput(m->ro_file);
	/* The request still owns req->file and req->mapping. */
	*m = (struct vhost_shmem_mapping) {};
out_uncharge:
	vhost_shmem_user_uncharge(dev);
out:
	mutex_unlock(&dev->mutex);
	return ret;

kept:
	/*
	 * Gone from the owner and every other viewer, but still in one that
	 * went its own way meanwhile: listed, so that the caller sees the
	 * buffer as shared until UNMAP or RESET, and the reap, take it out.
	 */
	req->mapping = NULL;
	req->file = NULL;
	dev->nr_mappings++;
	dev->mapped_bytes += a->len;
	mutex_unlock(&dev->mutex);
	return -EBUSY;
}

/* Take @m out of the table and drop its files. dev->mutex held. */
static void forget_mapping(struct vhost_shmem_dev *dev,
			   struct vhost_shmem_region *region,
			   struct vhost_shmem_mapping *m)
{
	mtree_erase(&region->mappings, m->shm_offset >> PAGE_SHIFT);
	dev->nr_mappings--;
	vhost_shmem_user_uncharge(dev);
	dev->mapped_bytes -= m->len;
	dev->unmaps++;
	if (m->ro_vm_file)
		fput(m->ro_vm_file);
	if (m->ro_file)
		fput(m->ro_file);
	/* Only read-only viewers took a kept one: see vhost_shmem_mapping.kept. */
	if (m->vm_file)
		fput(m->vm_file);
	fput(m->file);
	kfree(m);
}

/* More references of @file than @refs (see vhost_shmem_mapping.vm_refs)? */
static bool file_copied(struct file *file, long refs)
{
	return file && refs != VHOST_SHMEM_REFS_SHARED && file_count(file) > refs;
}

/*
 * Does anyone still map @m's file although its range is a hole again in
 * the owner and every viewer? Every reference of the file its vmas map
 * beyond m->vm_refs is a vma: a copy the owner or a viewer made (fork()
 * after MADV_DOFORK, a move out of a detached region, or a fork() that won
 * the race with VM_DONTCOPY). Only files the module opened itself for the
 * mapping (m->private), and the files their ->mmap or /dev/zero's swaps
 * in, can be counted so (see vm_file_refs()); a count that could not be
 * established always says yes. The same holds for the read-only reopening
 * of viewers.
 */
static bool mapping_copied(struct vhost_shmem_mapping *m)
{
	return file_copied(m->vm_file, m->vm_refs) ||
	       file_copied(m->ro_vm_file, m->ro_vm_refs);
}

/**
 * vhost_shmem_do_unmap() - replace one whole mapping with a hole
 * @dev: the device, in the owner's mm
 * @arg: struct vhost_shmem_unmap, validated
 *
 * Return: 0, -ENOENT (no mapping with exactly this range), -ENXIO (the
 * region is detached), -EXDEV (the owner changed the range), -EBUSY (the
 * owner registered it with userfaultfd, or it or a viewer still maps
 * copies: then the range is a hole again and the mapping gone), or an
 * error of vm_mmap(); VHOST_SHMEM_REQUEUE in the owner's thread when the
 * region has viewers. The owner goes first: if it cannot take the mapping
 * out, no viewer was touched.
 */
int vhost_shmem_do_unmap(struct vhost_shmem_dev *dev, void *arg)
{
	struct vhost_shmem_unmap *a = arg;
	struct vhost_shmem_region *region;
	struct vhost_shmem_space *space;
	struct vhost_shmem_tour tour;
	struct vhost_shmem_mapping *m;
	unsigned long start;
	int ret;

	if (mutex_lock_killable(&dev->mutex))
		return -EINTR;
	ret = VHOST_SHMEM_REQUEUE;
	if (must_requeue(dev))
		goto out;
	region = live_region(dev, a->shmid, &ret);
	if (!region)
		goto out;
	reap_region(dev, region, false, NULL);
	m = mtree_load(&region->mappings, a->shm_offset >> PAGE_SHIFT);
	ret = -ENOENT;
	if (!m || m->shm_offset != a->shm_offset || m->len != a->len)
		goto out;
	space = &region->owner;
	start = space->addr + a->shm_offset;
	ret = install_hole(dev, space, m->vm_file, start, start + a->len);
	if (!ret) {
		tour_begin(&tour);
		ret = viewers_remove(dev, region, m, VHOST_SHMEM_REMOVE_UNMAP,
				     &tour, NULL);
		tour_end(&tour);
		/* Hold the file past forget_mapping(): its vmas are gone. */
		if (!ret && mapping_copied(m))
			ret = -EBUSY;
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
		ret = evict_range(dev, m->vm_file, start, end, false);
	/* Not where it was, but no vma maps its file any more: gone. */
	if (ret && m->vm_refs > 0 && file_count(m->vm_file) == m->vm_refs)
		ret = 0;
	if (ret)
		return ret;
	/*
	 * A file that cannot be counted (a dma-buf) may have been moved out
	 * of a detached region: look for it in the whole mm. A live region
	 * is detached by any move of a part of it (space_touched()).
	 */
	if (m->vm_refs == VHOST_SHMEM_REFS_SHARED &&
	    READ_ONCE(space->detached) &&
	    mm_maps_file(dev, m->vm_file, m->vm_pgoff, m->len >> PAGE_SHIFT))
		return 1;
	return mapping_copied(m);
}

/*
 * RESET of the owner's @space in one go: one placeholder over the whole
 * region replaces every hole and the vma of every listed mapping, checked
 * under the same mmap_lock hold as always (check_range_locked() with
 * @table). n mappings cost one vm_mmap() (n vmas unmapped) instead of n
 * placeholders put back one by one and then merged. dev->mutex held.
 *
 * Return: 0, or the error of that vm_mmap() (a vma the device may not
 * replace: mprotect'ed, sealed, userfaultfd; out of memory): the caller
 * then goes mapping by mapping, which copes with whatever is left.
 */
static int reset_space(struct vhost_shmem_dev *dev,
		       struct vhost_shmem_space *space)
{
	int ret;

	dev->inst_table = true;
	ret = install_hole(dev, space, NULL, space->addr,
			   space->addr + space->len);
	dev->inst_table = false;
	return ret;
}

/*
 * Take every mapping of @region out of every viewer first (the owner's
 * clear_mapping() counts references as if only the owner mapped them),
 * putting holes back (merged: one vma again): a live viewer reads zeros
 * afterwards, also once the owner is gone. A viewer that keeps one is
 * detached and the mapping counts as kept. Viewers are dropped when the
 * device is done with the owner (release, its mm gone). dev->mutex held,
 * in a kthread.
 *
 * Return: how many mappings a viewer still maps.
 */
static unsigned int clear_viewers(struct vhost_shmem_dev *dev,
				  struct vhost_shmem_region *region,
				  enum vhost_shmem_clear how)
{
	struct vhost_shmem_in_viewer s;
	struct vhost_shmem_mapping *m;
	struct vhost_shmem_viewer *v;
	unsigned int kept = 0;

	list_for_each_entry(v, &region->viewers, node) {
		unsigned long index = 0;

		if (enter_viewer(v, &s))
			continue;
		mt_for_each(&region->mappings, m, index, ULONG_MAX) {
			kept += !!viewer_remove(dev, v, m,
						VHOST_SHMEM_REMOVE_UNMAP);
			cond_resched();
		}
		if (!READ_ONCE(v->space.detached))
			install_hole(dev, &v->space, NULL, v->space.addr,
				     v->space.addr + v->space.len);
		leave_viewer(v, &s);
	}
	if (how != VHOST_SHMEM_CLEAR_RESTORE)
		reap_region(dev, region, true, NULL);
	return kept;
}

/*
 * Remove every mapping of every region. dev->mutex held. A mapping that
 * cannot be taken out of the owner's mm (it mseal'ed or changed it, or
 * registered it with userfaultfd) stays in the table, still true. Viewers
 * are cleared only in a kthread (the worker, the drain); elsewhere the
 * caller made sure there are none (must_requeue()).
 *
 * Return: how many mappings the owner or a viewer still maps, in the
 * region or copied.
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
		bool restore = how == VHOST_SHMEM_CLEAR_RESTORE && space->addr &&
			       !READ_ONCE(space->detached) &&
			       !space_confirmed(space);
		unsigned long index = 0;
		bool whole = false;

		if (!list_empty(&region->viewers) &&
		    (current->flags & PF_KTHREAD))
			kept += clear_viewers(dev, region, how);
		if (restore && !mtree_empty(&region->mappings))
			whole = !reset_space(dev, space);
		mt_for_each(&region->mappings, m, index, ULONG_MAX) {
			/* Out of the region already: only copies can remain. */
			ret = whole ? mapping_copied(m) :
				      clear_mapping(dev, space, m, how);
			kept += !!ret;
			if (ret >= 0)
				forget_mapping(dev, region, m);
			cond_resched();
		}
		/* Merge all holes (and refill our own gaps): one vma again. */
		if (restore && !whole && mtree_empty(&region->mappings))
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
 * Return: 0, -EBUSY if the owner still maps some (see clear_mappings()
 * and the uapi), or -EINTR when killed confirming a region in the owner's
 * own thread (space_confirmed(); nothing changed).
 */
int vhost_shmem_do_reset(struct vhost_shmem_dev *dev, void *arg)
{
	unsigned int kept, i;
	bool dead;
	u64 n;

	if (mutex_lock_killable(&dev->mutex))
		return -EINTR;
	if (must_requeue(dev)) {
		mutex_unlock(&dev->mutex);
		return VHOST_SHMEM_REQUEUE;
	}
	dead = READ_ONCE(dev->mm_dead);
	/* Killed confirming a region: nothing changed yet, anywhere. */
	for (i = 0; !dead && i < VHOST_SHMEM_MAX_REGIONS; i++) {
		struct vhost_shmem_space *space = &dev->regions[i].owner;

		/* Pairs with ->mmap, as in live_region(). */
		if (smp_load_acquire(&space->addr) &&
		    !READ_ONCE(space->detached) &&
		    space_confirmed(space) == -EINTR) {
			mutex_unlock(&dev->mutex);
			return -EINTR;
		}
	}
	n = dev->nr_mappings;
	kept = clear_mappings(dev, dead ? VHOST_SHMEM_CLEAR_DROP :
					  VHOST_SHMEM_CLEAR_RESTORE);
	vhost_shmem_nl_reset(dev, n);
	mutex_unlock(&dev->mutex);
	return kept ? -EBUSY : 0;
}

/**
 * vhost_shmem_drop_all() - forget every mapping without touching the owner's mm
 * @dev: the device
 *
 * For when the owner's mm has no user left: its teardown unmaps (or already
 * unmapped) the files; drop the table's file references, after taking every
 * mapping out of every viewer. Only kthreads call it (the drain, the worker
 * ending a release): no one can be killed for it, and only a kthread can
 * adopt a viewer's mm (clear_mappings()). It waits for dev->mutex and for
 * each viewer's mmap_lock as long as they are held; a requester waits for
 * it killable (vhost_shmem_reset()).
 */
void vhost_shmem_drop_all(struct vhost_shmem_dev *dev)
{
	u64 n;

	if (WARN_ON_ONCE(!(current->flags & PF_KTHREAD)))
		return;
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
	if (must_requeue(dev)) {
		mutex_unlock(&dev->mutex);
		return VHOST_SHMEM_REQUEUE;
	}
	n = dev->nr_mappings;
	if (clear_mappings(dev, VHOST_SHMEM_CLEAR_UNMAP))
		pr_warn_ratelimited("vhost-shmem: the owner still maps files of a released device\n");
	vhost_shmem_nl_reset(dev, n);
	mutex_unlock(&dev->mutex);
	return 0;
}
