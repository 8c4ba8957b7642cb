// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-shmem: VIRTIO Shared Memory Regions owned by the kernel.
 *
 * /dev/vhost-shmem: each open is one device context. The owner (the VMM)
 * binds its mm, configures and mmaps the regions; any holder of the fd
 * installs backend files into them (see region.c) through the owner's mm.
 * This file holds the file operations and the ioctls; MAP and UNMAP are
 * checked in request.c, shared with VHOST_SHMEM_BATCH (batch.c).
 *
 * Lifetime: the device lives as long as its file, and, once it has an
 * owner, until its worker finished the release (see obs.refs). The file is
 * referenced by every fd and by every region vma (placeholders map it), so
 * it outlives both the VMM's fds and the regions. The owner's mm is pinned
 * with mmgrab() only; when it dies, the mmu notifier marks the device dead
 * and the table of mappings is dropped (the mm teardown already unmapped
 * the files).
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/memcontrol.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vhost_shmem.h"

/* Region offsets (shmid << 40) and the tables assume 64-bit longs. */
static_assert(IS_ENABLED(CONFIG_64BIT), "vhost-shmem needs a 64-bit kernel");

unsigned int vhost_shmem_max_mappings = 65536;
module_param_named(max_mappings, vhost_shmem_max_mappings, uint, 0644);
MODULE_PARM_DESC(max_mappings, "Live mappings per device (ENOSPC beyond)");

static unsigned long long max_region_size = 1ULL << VHOST_SHMEM_REGION_SHIFT;
module_param(max_region_size, ullong, 0644);
MODULE_PARM_DESC(max_region_size, "Largest region in bytes, at most 1 TiB (E2BIG beyond)");

static unsigned int max_devices = 1024;
module_param(max_devices, uint, 0644);
MODULE_PARM_DESC(max_devices, "Open devices system-wide (ENOSPC beyond)");

static atomic_t nr_devices = ATOMIC_INIT(0);

/*
 * Each mapping keeps a struct file of its own (the backend file opened
 * again, request.c) that no fd table holds, so RLIMIT_NOFILE does not see
 * it. Live mappings are counted per owner (the real uid at SET_OWNER),
 * across all of that user's devices, as inotify counts watches per user:
 * beyond max_user_mappings MAP fails with EMFILE. A kernel module cannot
 * add a ucounts type, so the count is a value entry per uid here.
 */
static unsigned int max_user_mappings = 262144;
module_param(max_user_mappings, uint, 0644);
MODULE_PARM_DESC(max_user_mappings,
		 "Live mappings of all devices of one owner uid (EMFILE beyond)");

/* Live mappings per owner uid: xa_mk_value(count), no entry for 0. */
static DEFINE_XARRAY(user_mappings);

/**
 * vhost_shmem_user_charge() - count one more mapping for @dev's owner
 * @dev: the device, its owner set
 *
 * Return: 0, -EMFILE at max_user_mappings, or -ENOMEM.
 */
int vhost_shmem_user_charge(struct vhost_shmem_dev *dev)
{
	unsigned long uid = __kuid_val(dev->owner_uid), n;
	int ret = -EMFILE;

	xa_lock(&user_mappings);
	n = xa_to_value(xa_load(&user_mappings, uid));
	if (n < READ_ONCE(max_user_mappings))
		ret = xa_err(__xa_store(&user_mappings, uid, xa_mk_value(n + 1),
					GFP_ATOMIC));
	xa_unlock(&user_mappings);
	return ret;
}

/**
 * vhost_shmem_user_uncharge() - a mapping of @dev's owner is gone
 * @dev: the device
 */
void vhost_shmem_user_uncharge(struct vhost_shmem_dev *dev)
{
	unsigned long uid = __kuid_val(dev->owner_uid), n;

	xa_lock(&user_mappings);
	n = xa_to_value(xa_load(&user_mappings, uid));
	if (n == 1)
		__xa_erase(&user_mappings, uid);
	else if (!WARN_ON_ONCE(!n))
		/* Replaces a present entry: allocates nothing, cannot fail. */
		__xa_store(&user_mappings, uid, xa_mk_value(n - 1), GFP_ATOMIC);
	xa_unlock(&user_mappings);
}

static void vhost_shmem_drain(struct work_struct *work)
{
	struct vhost_shmem_dev *dev =
		container_of(work, struct vhost_shmem_dev, drain_work);

	vhost_shmem_drop_all(dev);
	/* Wakes every RESET waiting for a drain (vhost_shmem_reset()). */
	complete_all(&dev->drained);
}

/*
 * The owner's mm is being torn down (exit_mmap, or unregister at release).
 * Runs under reclaim-safe conditions: no dev->mutex here.
 */
static void vhost_shmem_mm_release(struct mmu_notifier *mn,
				   struct mm_struct *mm)
{
	struct vhost_shmem_dev *dev = container_of(mn, struct vhost_shmem_dev, mn);

	WRITE_ONCE(dev->mm_dead, true);
	schedule_work(&dev->drain_work);
}

/* Only unmaps matter: munmap, mremap and mmap(MAP_FIXED) over a range. */
static int vhost_shmem_mm_invalidate(struct mmu_notifier *mn,
				     const struct mmu_notifier_range *range)
{
	struct vhost_shmem_dev *dev = container_of(mn, struct vhost_shmem_dev, mn);

	if (range->event == MMU_NOTIFY_UNMAP)
		vhost_shmem_region_touched(dev, range->start, range->end);
	return 0;
}

static const struct mmu_notifier_ops vhost_shmem_mn_ops = {
	.release = vhost_shmem_mm_release,
	.invalidate_range_start = vhost_shmem_mm_invalidate,
};

static int vhost_shmem_open(struct inode *inode, struct file *file)
{
	struct vhost_shmem_dev *dev;
	unsigned int i;
	int ret;

	if (atomic_inc_return(&nr_devices) > READ_ONCE(max_devices)) {
		atomic_dec(&nr_devices);
		return -ENOSPC;
	}
	dev = kvzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev) {
		atomic_dec(&nr_devices);
		return -ENOMEM;
	}
	mutex_init(&dev->mutex);
	init_completion(&dev->released);
	init_completion(&dev->drained);
	INIT_WORK(&dev->drain_work, vhost_shmem_drain);
	INIT_WORK(&dev->reap_work, vhost_shmem_reap_work);
	dev->file = file;
	for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++)
		vhost_shmem_region_init(dev, i);
	ret = vhost_shmem_nl_dev_add(dev);
	if (ret) {
		kvfree(dev);
		atomic_dec(&nr_devices);
		return ret;
	}
	file->private_data = dev;
	return 0;
}

/**
 * vhost_shmem_dev_free() - free a released device
 * @dev: the device, unlisted, its last reference gone
 *
 * Called by the last user (vhost_shmem_dev_put()): the release, its worker,
 * a waiting releaser or a netlink dump that found the device before the
 * release unlisted it. Its slot in max_devices is given back here.
 */
void vhost_shmem_dev_free(struct vhost_shmem_dev *dev)
{
	unsigned int i;

	for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++)
		mtree_destroy(&dev->regions[i].mappings);
	mutex_destroy(&dev->mutex);
	kvfree(dev);
	atomic_dec(&nr_devices);
}

/**
 * vhost_shmem_dev_put() - drop a reference to the device (obs.refs)
 * @dev: the device; freed with the last reference
 */
void vhost_shmem_dev_put(struct vhost_shmem_dev *dev)
{
	if (refcount_dec_and_test(&dev->obs.refs))
		vhost_shmem_dev_free(dev);
}

/**
 * vhost_shmem_dev_released() - the end of the release of a device with owner
 * @dev: the device. Called by its worker, in no mm, once it ran the
 *	teardown (vhost_shmem_release_call) in a live owner's mm; no request
 *	can come any more. Drops the registry's reference: @dev may be freed.
 */
void vhost_shmem_dev_released(struct vhost_shmem_dev *dev)
{
	/* Calls ->release if the mm still lives; then no more calls. */
	mmu_notifier_unregister(&dev->mn, dev->mm);
	flush_work(&dev->drain_work);
	vhost_shmem_drop_all(dev);
	mem_cgroup_put(dev->memcg);
	mmdrop(dev->mm);
	/*
	 * Unlisted before the releaser wakes: no dump after close() finds it.
	 * The reference held over the completion is this worker's; the last
	 * one frees the device: this one, a releaser's or a dump's.
	 */
	refcount_inc(&dev->obs.refs);
	vhost_shmem_nl_dev_del(dev);
	complete_all(&dev->released);
	vhost_shmem_dev_put(dev);
}

/* The worker's last request: unmap the files from a live owner. */
const struct vhost_shmem_call vhost_shmem_release_call = {
	.fn = vhost_shmem_do_teardown,
};

/*
 * Without an owner nothing can wait: the device goes here. With one, the
 * worker takes the mappings out of the owner's mm, which may mean waiting
 * for the owner's mmap_lock as long as the owner holds it, and ends the
 * device (vhost_shmem_worker_release()); a close() waits for that killable.
 */
static int vhost_shmem_release(struct inode *inode, struct file *file)
{
	struct vhost_shmem_dev *dev = file->private_data;

	/* No reap after this: it could queue behind the release. */
	vhost_shmem_viewers_release(dev);
	if (dev->mm) {
		vhost_shmem_worker_release(dev);
		return 0;
	}
	/* The last reference frees it: this one, or a dump's (netlink.c). */
	vhost_shmem_nl_dev_del(dev);
	return 0;
}

/*
 * Everything the owner brings is set up before dev->mm is published: the
 * worker (sleeping until a request comes), the notifier and the memcg.
 * Lock-free readers test dev->mm with vhost_shmem_owner_mm() and then find
 * all of it ready. Nothing after the notifier can fail, so no error path
 * has to unregister it (which would call ->release and wait for
 * drain_work, which takes dev->mutex).
 */
static long vhost_shmem_set_owner(struct vhost_shmem_dev *dev)
{
	struct mm_struct *mm = current->mm;
	int ret;

	if (!mm)
		return -EINVAL;
	if (mutex_lock_killable(&dev->mutex))
		return -EINTR;
	ret = -EBUSY;
	if (dev->mm)
		goto out;
	ret = vhost_shmem_worker_start(dev);
	if (ret)
		goto out;
	dev->mn.ops = &vhost_shmem_mn_ops;
	/*
	 * Killable: another thread of the owner may hold its mmap_lock as
	 * long as it likes; mmu_notifier_register() waits uninterruptibly.
	 */
	ret = -EINTR;
	if (!mmap_write_lock_killable(mm)) {
		ret = __mmu_notifier_register(&dev->mn, mm);
		mmap_write_unlock(mm);
	}
	if (ret) {
		vhost_shmem_worker_stop(dev);
		goto out;
	}
	mmgrab(mm);
	dev->memcg = get_mem_cgroup_from_mm(mm);
	dev->owner_uid = current_uid();
	/* Pairs with vhost_shmem_owner_mm(): worker, memcg and notifier first. */
	smp_store_release(&dev->mm, mm);
	vhost_shmem_nl_set_owner(dev);
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

static int check_config(const struct vhost_shmem_config *cfg)
{
	unsigned int i, n = 0;

	if (cfg->padding)
		return -EINVAL;
	for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++) {
		const struct vhost_shmem_region_config *r = &cfg->regions[i];

		if (r->padding || (r->flags & ~VHOST_SHMEM_REGION_F_ALL) ||
		    !PAGE_ALIGNED(r->size) || (!r->size && r->flags))
			return -EINVAL;
		if (r->size > min_t(u64, READ_ONCE(max_region_size),
				    1ULL << VHOST_SHMEM_REGION_SHIFT))
			return -E2BIG;
		n += !!r->size;
	}
	return n ? 0 : -EINVAL;
}

static long vhost_shmem_set_config(struct vhost_shmem_dev *dev,
				   void __user *argp)
{
	struct vhost_shmem_config *cfg;
	unsigned int i;
	long ret;

	cfg = memdup_user(argp, sizeof(*cfg));
	if (IS_ERR(cfg))
		return PTR_ERR(cfg);
	ret = check_config(cfg);
	if (ret)
		goto out_free;

	ret = -EINTR;
	if (mutex_lock_killable(&dev->mutex))
		goto out_free;
	ret = -EBADFD;
	if (!dev->mm)
		goto out;
	ret = -EPERM;
	if (current->mm != dev->mm)
		goto out;
	ret = -EBUSY;
	if (dev->configured)
		goto out;
	for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++) {
		dev->regions[i].size = cfg->regions[i].size;
		dev->regions[i].flags = cfg->regions[i].flags;
	}
	/* Pairs with the acquire in ->mmap and the ioctls: regions first. */
	smp_store_release(&dev->configured, true);
	ret = 0;
out:
	mutex_unlock(&dev->mutex);
out_free:
	kfree(cfg);
	return ret;
}

static long vhost_shmem_get_config(struct vhost_shmem_dev *dev,
				   void __user *argp)
{
	struct vhost_shmem_config *cfg;
	unsigned int i;
	long ret = 0;

	/* Pairs with SET_CONFIG's release: the regions are complete. */
	if (!smp_load_acquire(&dev->configured))
		return -EBADFD;
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return -ENOMEM;
	for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++) {
		cfg->regions[i].size = dev->regions[i].size;
		cfg->regions[i].flags = dev->regions[i].flags;
		cfg->nregions += !!dev->regions[i].size;
	}
	if (copy_to_user(argp, cfg, sizeof(*cfg)))
		ret = -EFAULT;
	kfree(cfg);
	return ret;
}

static long vhost_shmem_region_info(struct vhost_shmem_dev *dev,
				    void __user *argp)
{
	struct vhost_shmem_region_info info;
	struct vhost_shmem_region *region;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	/* Pairs with SET_CONFIG's release: the regions are complete. */
	if (!smp_load_acquire(&dev->configured))
		return -EBADFD;
	if (info.shmid >= VHOST_SHMEM_MAX_REGIONS)
		return -EBADSLT;
	region = &dev->regions[info.shmid];
	info.flags = region->flags;
	info.size = region->size;
	info.offset = (u64)info.shmid << VHOST_SHMEM_REGION_SHIFT;
	/* Pairs with the release in the region's ->mmap. */
	info.addr = smp_load_acquire(&region->owner.addr);
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

/* MAP and UNMAP: checked (request.c), then run in the owner's mm. */
static long vhost_shmem_map(struct vhost_shmem_dev *dev, void __user *argp)
{
	struct vhost_shmem_map_req req = {};
	int ret;

	if (copy_from_user(&req.args, argp, sizeof(req.args)))
		return -EFAULT;
	ret = vhost_shmem_map_prepare(dev, &req);
	if (ret) {
		vhost_shmem_map_finish(dev, &req, ret);
		return ret;
	}
	return vhost_shmem_run_in_owner(dev, &vhost_shmem_map_call, &req);
}

static long vhost_shmem_unmap(struct vhost_shmem_dev *dev, void __user *argp)
{
	struct vhost_shmem_unmap a;
	int ret;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	ret = vhost_shmem_unmap_prepare(dev, &a);
	if (ret) {
		vhost_shmem_unmap_finish(dev, &a, ret);
		return ret;
	}
	return vhost_shmem_run_in_owner(dev, &vhost_shmem_unmap_call, &a);
}

static const struct vhost_shmem_call reset_call = {
	.fn = vhost_shmem_do_reset,
};

static long vhost_shmem_reset(struct vhost_shmem_dev *dev)
{
	int ret;

	if (!vhost_shmem_owner_mm(dev))
		return -EBADFD;
	ret = vhost_shmem_run_in_owner(dev, &reset_call, NULL);
	if (ret != -ESRCH)
		return ret;
	/*
	 * The owner's mm has no user left: nothing maps anything into it any
	 * more, whether or not its teardown reached the notifier yet. Only the
	 * drain (a kthread) may drop the table while viewers are listed, and it
	 * may wait for a viewer's mmap_lock as long as the viewer holds it:
	 * have it run, and wait for it killable.
	 */
	WRITE_ONCE(dev->mm_dead, true);
	schedule_work(&dev->drain_work);
	if (wait_for_completion_killable(&dev->drained))
		return -EINTR;
	return 0;
}

static long vhost_shmem_get_stats(struct vhost_shmem_dev *dev,
				  void __user *argp)
{
	struct vhost_shmem_stats st = {};

	if (mutex_lock_killable(&dev->mutex))
		return -EINTR;
	st.mappings = dev->nr_mappings;
	st.max_mappings = READ_ONCE(vhost_shmem_max_mappings);
	st.mapped_bytes = dev->mapped_bytes;
	st.maps = dev->maps;
	st.unmaps = dev->unmaps;
	st.failures = atomic64_read(&dev->failures);
	mutex_unlock(&dev->mutex);
	return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
}

static long vhost_shmem_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct vhost_shmem_dev *dev = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case VHOST_SHMEM_SET_OWNER:
		return vhost_shmem_set_owner(dev);
	case VHOST_SHMEM_SET_CONFIG:
		return vhost_shmem_set_config(dev, argp);
	case VHOST_SHMEM_GET_CONFIG:
		return vhost_shmem_get_config(dev, argp);
	case VHOST_SHMEM_GET_REGION_INFO:
		return vhost_shmem_region_info(dev, argp);
	case VHOST_SHMEM_MAP:
		return vhost_shmem_map(dev, argp);
	case VHOST_SHMEM_UNMAP:
		return vhost_shmem_unmap(dev, argp);
	case VHOST_SHMEM_RESET:
		return vhost_shmem_reset(dev);
	case VHOST_SHMEM_GET_STATS:
		return vhost_shmem_get_stats(dev, argp);
	case VHOST_SHMEM_BATCH:
		return vhost_shmem_batch(dev, argp);
	case VHOST_SHMEM_GET_VIEW:
		return vhost_shmem_get_view(dev, file, argp);
	default:
		return -ENOTTY;
	}
}

/* Also how request.c tells a device file passed as a backend (ELOOP). */
const struct file_operations vhost_shmem_fops = {
	.owner = THIS_MODULE,
	.open = vhost_shmem_open,
	.release = vhost_shmem_release,
	.unlocked_ioctl = vhost_shmem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = vhost_shmem_mmap,
	/* Region offsets are 1 TiB aligned: on 6.12 regions land 2 MiB
	 * aligned, so hugetlbfs files can be mapped into them. 6.1 aligns
	 * only DAX files here; a VMM needing huge pages aligns the region.
	 * It is also where placeholder re-installs are checked (region.c).
	 */
	.get_unmapped_area = vhost_shmem_get_unmapped_area,
	.llseek = noop_llseek,
};

static struct miscdevice vhost_shmem_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vhost-shmem",
	.fops = &vhost_shmem_fops,
	.mode = 0660,
};

static int __init vhost_shmem_init(void)
{
	int ret;

	ret = vhost_shmem_nl_init();
	if (ret)
		return ret;
	ret = misc_register(&vhost_shmem_misc);
	if (ret)
		vhost_shmem_nl_exit();
	return ret;
}
module_init(vhost_shmem_init);

static void __exit vhost_shmem_exit(void)
{
	misc_deregister(&vhost_shmem_misc);
	vhost_shmem_nl_exit();
	vhost_shmem_views_exit();
	WARN_ON(!xa_empty(&user_mappings));
}
module_exit(vhost_shmem_exit);

MODULE_DESCRIPTION("VIRTIO Shared Memory Regions for vhost-user devices");
MODULE_AUTHOR("vhost-shmem developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(VHOST_SHMEM_VERSION);
