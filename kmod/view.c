// SPDX-License-Identifier: GPL-2.0
/*
 * Region views: VHOST_SHMEM_GET_VIEW gives an fd that can only be mmapped;
 * each mmap of it is a viewer, a space (vhost_shmem.h) in the viewer's mm
 * that the device keeps in step with the owner's (region.c). See "Region
 * views" in Documentation/userspace-api/vhost-shmem.rst.
 *
 * Lifetime: a view file references the device file. A viewer is made by
 * the view file's ->mmap, under the viewer's mmap_lock, and attached by
 * task work of the mmapping thread before mmap() returns (no lock held
 * then: it registers the viewer's mmu notifier and takes dev->mutex). It
 * references the view file and the viewer's mm (mmgrab) until it is put:
 * by the device once detached (reaped, see region.c), or at release. Its
 * notifier is freed by mmu_notifier_put() after an SRCU grace period; the
 * notifier only reads the viewer and dev->installer, so release and
 * module exit wait for those with mmu_notifier_synchronize().
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>

#include "vhost_shmem.h"

static unsigned int max_viewers = 8;
module_param(max_viewers, uint, 0644);
MODULE_PARM_DESC(max_viewers, "Viewers per device, all regions (ENOSPC beyond)");

/**
 * struct vhost_shmem_view - a view file (VHOST_SHMEM_GET_VIEW)
 * @dev: the device
 * @dev_file: the device file, referenced while the view file exists
 * @shmid: the region
 * @rw: read-write view (the file is open O_RDWR)
 */
struct vhost_shmem_view {
	struct vhost_shmem_dev *dev;
	struct file *dev_file;
	u32 shmid;
	bool rw;
};

static void viewer_free(struct vhost_shmem_viewer *v)
{
	mem_cgroup_put(v->memcg);
	mmdrop(v->mm);
	kfree(v);
}

/**
 * vhost_shmem_viewer_put() - drop a viewer no list holds any more
 * @v: the viewer
 *
 * Not under the viewer's mmap_lock. Its notifier may still run for an
 * SRCU grace period; it is freed after that.
 */
void vhost_shmem_viewer_put(struct vhost_shmem_viewer *v)
{
	struct file *file = v->view_file;

	atomic_dec(&v->dev->nr_viewers);
	if (v->registered)
		mmu_notifier_put(&v->mn);	/* viewer_free_notifier() */
	else
		viewer_free(v);
	/* The device may go with this: its release waits for the notifier. */
	fput(file);
}

/**
 * vhost_shmem_viewer_detach() - detach @v; the worker reaps it soon
 * @v: the viewer
 *
 * For the viewer's notifier (under its mmap_lock, or in its mm's
 * teardown) and for the device when it cannot put a viewer's hole back
 * after a failed MAP or attach (region.c: dev->mutex held, no mmap_lock).
 * Locking rule: this only flags the space and queues dev->reap_work,
 * which never sleeps and takes no lock of the module, so it is safe under
 * any of them. The reap itself runs in the worker and takes dev->mutex
 * once the caller dropped it; nothing waits for it (see
 * vhost_shmem_reap_work()).
 */
void vhost_shmem_viewer_detach(struct vhost_shmem_viewer *v)
{
	WRITE_ONCE(v->space.detached, true);
	schedule_work(&v->dev->reap_work);
}

/* The viewer's own munmap, mremap or mmap(MAP_FIXED) over its range. */
static int viewer_invalidate(struct mmu_notifier *mn,
			     const struct mmu_notifier_range *range)
{
	struct vhost_shmem_viewer *v =
		container_of(mn, struct vhost_shmem_viewer, mn);
	unsigned long addr = v->space.addr;

	if (range->event != MMU_NOTIFY_UNMAP ||
	    READ_ONCE(v->dev->installer) == current ||
	    range->start >= addr + v->space.len || range->end <= addr ||
	    READ_ONCE(v->space.detached))
		return 0;
	vhost_shmem_viewer_detach(v);
	return 0;
}

/* The viewer's mm is torn down (exit, execve). */
static void viewer_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct vhost_shmem_viewer *v =
		container_of(mn, struct vhost_shmem_viewer, mn);

	vhost_shmem_viewer_detach(v);
}

static void viewer_free_notifier(struct mmu_notifier *mn)
{
	viewer_free(container_of(mn, struct vhost_shmem_viewer, mn));
}

static const struct mmu_notifier_ops viewer_mn_ops = {
	.release = viewer_release,
	.invalidate_range_start = viewer_invalidate,
	.free_notifier = viewer_free_notifier,
};

/*
 * Task work of the thread that mmapped the view, before mmap() returns to
 * user space: register the notifier (it takes the viewer's mmap_lock),
 * then install every live mapping (region.c). A viewer that cannot attach
 * is put: its placeholder stays and reads zeros. One whose attach could
 * not take out again what it installed (killed, in an mm another process
 * shares) stays listed, detached: the worker's reap evicts that and puts
 * it.
 */
static void viewer_attach_work(struct callback_head *cb)
{
	struct vhost_shmem_viewer *v =
		container_of(cb, struct vhost_shmem_viewer, twork);
	int ret = -ESRCH;

	/*
	 * Killable, as mmap() itself: another thread of the viewer may hold
	 * its mmap_lock as long as it likes (a fault stalled on a FUSE
	 * server); mmu_notifier_register() would wait uninterruptibly.
	 */
	if (current->mm == v->mm && !(current->flags & PF_EXITING)) {
		ret = -EINTR;
		if (!mmap_write_lock_killable(v->mm)) {
			ret = __mmu_notifier_register(&v->mn, v->mm);
			mmap_write_unlock(v->mm);
		}
	}
	if (!ret) {
		v->registered = true;
		/* Sends the attach event (once listed, v may go any time). */
		ret = vhost_shmem_viewer_attach(v->dev, v);
	} else {
		vhost_shmem_nl_view_attach(v, ret);
	}
	if (ret)
		vhost_shmem_viewer_put(v);
}

static int view_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vhost_shmem_view *view = file->private_data;
	struct vhost_shmem_dev *dev = view->dev;
	struct vhost_shmem_region *region = &dev->regions[view->shmid];
	unsigned long len = vma->vm_end - vma->vm_start;
	struct vhost_shmem_viewer *v;

	/* The device re-installing a viewer's placeholder (region.c). */
	if (READ_ONCE(dev->installer) == current) {
		vhost_shmem_make_hole(vma, dev->inst_space->region);
		return 0;
	}
	/* The region or a part of it, at its offset in the region. */
	if (!(vma->vm_flags & VM_MAYSHARE) ||
	    vma->vm_pgoff >= region->size >> PAGE_SHIFT ||
	    len > region->size - ((u64)vma->vm_pgoff << PAGE_SHIFT))
		return -EINVAL;
	if (READ_ONCE(dev->mm_dead))
		return -ESRCH;
	if (atomic_inc_return(&dev->nr_viewers) > READ_ONCE(max_viewers)) {
		atomic_dec(&dev->nr_viewers);
		return -ENOSPC;
	}
	v = kzalloc(sizeof(*v), GFP_KERNEL_ACCOUNT);
	if (!v) {
		atomic_dec(&dev->nr_viewers);
		return -ENOMEM;
	}
	v->space = (struct vhost_shmem_space) {
		.region = region,
		.file = file,
		.pgoff = vma->vm_pgoff,
		.off = (u64)vma->vm_pgoff << PAGE_SHIFT,
		.len = len,
		.addr = vma->vm_start,
		.prot = (vma->vm_flags & VM_READ ? PROT_READ : 0) |
			(vma->vm_flags & VM_WRITE ? PROT_WRITE : 0),
	};
	v->dev = dev;
	v->rw = view->rw;
	v->mm = current->mm;
	mmgrab(v->mm);
	v->memcg = get_mem_cgroup_from_mm(v->mm);
	v->mn.ops = &viewer_mn_ops;
	v->view_file = get_file(file);
	v->pid = task_tgid_nr(current);
	get_task_comm(v->comm, current);
	init_task_work(&v->twork, viewer_attach_work);
	if (task_work_add(current, &v->twork, TWA_RESUME)) {
		v->registered = false;
		vhost_shmem_viewer_put(v);
		return -ESRCH;
	}
	WRITE_ONCE(dev->had_viewers, true);
	vhost_shmem_make_hole(vma, region);
	return 0;
}

static unsigned long view_get_unmapped_area(struct file *file,
					    unsigned long addr,
					    unsigned long len,
					    unsigned long pgoff,
					    unsigned long flags)
{
	struct vhost_shmem_view *view = file->private_data;

	return vhost_shmem_area(view->dev, file, addr, len, pgoff, flags);
}

static int view_release(struct inode *inode, struct file *file)
{
	struct vhost_shmem_view *view = file->private_data;

	fput(view->dev_file);
	kfree(view);
	return 0;
}

/* No ioctl, read or write: a view can only be mmapped. */
static const struct file_operations vhost_shmem_view_fops = {
	.owner = THIS_MODULE,
	.mmap = view_mmap,
	.get_unmapped_area = view_get_unmapped_area,
	.release = view_release,
	.llseek = noop_llseek,
};

/**
 * vhost_shmem_is_view() - is @file a view file?
 * @file: a file
 *
 * MAP refuses view files as backends (ELOOP, as device files): their
 * ->mmap would take the device's own install for a placeholder.
 *
 * Return: true for a view file.
 */
bool vhost_shmem_is_view(const struct file *file)
{
	return file->f_op == &vhost_shmem_view_fops;
}

/**
 * vhost_shmem_get_view() - the VHOST_SHMEM_GET_VIEW ioctl
 * @dev: the device
 * @file: the device file the ioctl came through
 * @argp: struct vhost_shmem_view_req
 *
 * Return: the new fd, or EFAULT, EOPNOTSUPP (unknown flags), EBADFD (not
 * configured), EBADSLT (unused shmid), EACCES (read-write view through a
 * device fd not open for writing), EMFILE, ENFILE, ENOMEM.
 */
long vhost_shmem_get_view(struct vhost_shmem_dev *dev, struct file *file,
			  void __user *argp)
{
	struct vhost_shmem_view_req req;
	struct vhost_shmem_view *view;
	struct file *vf;
	int fd;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.flags & ~VHOST_SHMEM_VIEW_F_ALL)
		return -EOPNOTSUPP;
	/* Pairs with SET_CONFIG's release: the regions are complete. */
	if (!smp_load_acquire(&dev->configured))
		return -EBADFD;
	if (req.shmid >= VHOST_SHMEM_MAX_REGIONS || !dev->regions[req.shmid].size)
		return -EBADSLT;
	if ((req.flags & VHOST_SHMEM_VIEW_F_RW) && !(file->f_mode & FMODE_WRITE))
		return -EACCES;

	view = kzalloc(sizeof(*view), GFP_KERNEL_ACCOUNT);
	if (!view)
		return -ENOMEM;
	view->dev = dev;
	view->shmid = req.shmid;
	view->rw = req.flags & VHOST_SHMEM_VIEW_F_RW;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		kfree(view);
		return fd;
	}
	view->dev_file = get_file(file);
	vf = anon_inode_getfile("[vhost-shmem-view]", &vhost_shmem_view_fops,
				view, view->rw ? O_RDWR : O_RDONLY);
	if (IS_ERR(vf)) {
		fput(view->dev_file);
		kfree(view);
		put_unused_fd(fd);
		return PTR_ERR(vf);
	}
	fd_install(fd, vf);
	return fd;
}

static const struct vhost_shmem_call reap_call = {
	.fn = vhost_shmem_do_reap,
};

/**
 * vhost_shmem_reap_work() - drop detached viewers soon after they detached
 * @work: dev->reap_work, scheduled by a viewer's notifier
 *
 * Queues the reap to the worker, which can adopt the viewers' mms, and
 * does not wait for it: the device's release cancels this work before it
 * hands itself to the worker. Once the owner is gone, the drain empties
 * and drops every viewer instead.
 */
void vhost_shmem_reap_work(struct work_struct *work)
{
	struct vhost_shmem_dev *dev =
		container_of(work, struct vhost_shmem_dev, reap_work);

	vhost_shmem_run_nowait(dev, &reap_call);
}

/**
 * vhost_shmem_viewers_release() - first step of the device's release
 * @dev: the device. No viewer exists any more (each references a view
 *	file, which references the device file), but the notifiers of
 *	viewers put last may still run for a grace period, and read @dev.
 */
void vhost_shmem_viewers_release(struct vhost_shmem_dev *dev)
{
	if (!READ_ONCE(dev->had_viewers))
		return;
	mmu_notifier_synchronize();
	/* No notifier can schedule it again now. */
	cancel_work_sync(&dev->reap_work);
}

/**
 * vhost_shmem_views_exit() - at module exit: every viewer notifier freed
 */
void vhost_shmem_views_exit(void)
{
	mmu_notifier_synchronize();
}
