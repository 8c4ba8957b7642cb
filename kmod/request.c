// SPDX-License-Identifier: GPL-2.0
/*
 * The checks of a MAP or UNMAP request, shared by the single ioctls
 * (main.c) and VHOST_SHMEM_BATCH (batch.c), and what every request does
 * once it returned: count a failure and report it (netlink.c).
 *
 * A request is prepared, run in the owner's mm (region.c, through
 * worker.c), then finished. Preparing takes no lock: it reads only what
 * is immutable once published (dev->mm after SET_OWNER, the region layout
 * after dev->configured, both with acquire loads) and the caller's own
 * files, so a request that fails a check never waits for the device.
 * What prepare takes (the backend file, a table entry) is the request's
 * until finish drops it, or until region.c moved it into the table; it is
 * charged to the owner's memory cgroup (dev->memcg), whoever asks.
 * Finishing holds no lock either; the netlink event of a successful MAP
 * takes dev->mutex bounded (see lock_dev_bounded() in netlink.c), every
 * other event none.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "compat.h"
#include "vhost_shmem.h"

/*
 * Every failed MAP and UNMAP counts, whatever step refused it. Atomic: a
 * killed requester counts too and must not wait for dev->mutex.
 */
static void count_failure(struct vhost_shmem_dev *dev, long ret)
{
	if (ret)
		atomic64_inc(&dev->failures);
}

/*
 * The range of a MAP or UNMAP. Needs no lock: the region layout is
 * immutable once set. Return: 0 or the errno of the first failed check.
 */
static int check_range_args(struct vhost_shmem_dev *dev, u32 shmid,
			    u64 shm_offset, u64 len)
{
	u64 end;

	/* Pairs with SET_CONFIG's release: the regions are complete. */
	if (!vhost_shmem_owner_mm(dev) || !smp_load_acquire(&dev->configured))
		return -EBADFD;
	if (!len || !PAGE_ALIGNED(shm_offset) || !PAGE_ALIGNED(len))
		return -EINVAL;
	if (shmid >= VHOST_SHMEM_MAX_REGIONS || !dev->regions[shmid].size)
		return -EBADSLT;
	if (check_add_overflow(shm_offset, len, &end) ||
	    end > dev->regions[shmid].size)
		return -ERANGE;
	return 0;
}

/*
 * Is @file something the owner could mmap as asked? Only @file's own
 * immutable state (f_op, f_mode) and its size are read.
 */
static int check_backend(struct file *file, const struct vhost_shmem_map *a)
{
	struct inode *inode = file_inode(file);
	u64 end;

	if (file->f_op == &vhost_shmem_fops || vhost_shmem_is_view(file))
		return -ELOOP;
	if (!vhost_shmem_can_mmap(file))
		return -ENODEV;
	if (!(file->f_mode & FMODE_READ) ||
	    ((a->flags & VHOST_SHMEM_MAP_F_RW) && !(file->f_mode & FMODE_WRITE)))
		return -EACCES;
	/* Read-only needs a file not open for writing, see backend_file(). */
	if (!(a->flags & VHOST_SHMEM_MAP_F_RW) && (file->f_mode & FMODE_WRITE) &&
	    !S_ISREG(inode->i_mode))
		return -EACCES;
	if (check_add_overflow(a->fd_offset, a->len, &end) ||
	    end > (u64)MAX_LFS_FILESIZE)
		return -EOVERFLOW;
	/* vm_mmap() accepts pages past EOF, which then SIGBUS: refuse. */
	if (S_ISREG(inode->i_mode) && end > (u64)i_size_read(inode))
		return -EOVERFLOW;
	return 0;
}

/*
 * The file a MAP installs. A regular file (memfd, shm, tmpfs, hugetlbfs,
 * ext4...) is opened again, by path, for this mapping alone and with only
 * the access the MAP asks for, with the credentials of its first opener
 * (the LSM's file_open hook judges that subject). Read-only then comes
 * from the file itself: do_mmap() never gives a vma of a file not open
 * for writing VM_MAYWRITE (or, on memfds, a writable-mapping count that
 * would block F_SEAL_WRITE), so no vm_flags are edited once the vma is
 * linked; and the module can tell whether anyone else still maps it
 * (mapping_copied() in region.c). Other files (dma-buf) are used as given.
 */
static struct file *backend_file(struct file *file,
				 const struct vhost_shmem_map *a, bool *private)
{
	int flags = (a->flags & VHOST_SHMEM_MAP_F_RW ? O_RDWR : O_RDONLY) |
		    (file->f_flags & O_LARGEFILE);

	struct file *reopened;

	*private = S_ISREG(file_inode(file)->i_mode);
	if (!*private)
		return get_file(file);
	reopened = dentry_open(&file->f_path, flags, file->f_cred);
	/* A file that cannot be opened again (memfd_secret) cannot be mapped. */
	if (IS_ERR(reopened) && PTR_ERR(reopened) == -ENXIO)
		return ERR_PTR(-ENODEV);
	return reopened;
}

/**
 * vhost_shmem_map_prepare() - check a MAP and take what it needs
 * @dev: the device
 * @req: @req->args filled in; gets the file to install and a table entry
 *
 * Takes no lock (see the top of this file). The checks run in the order
 * of MAP's errno table in Documentation/userspace-api/vhost-shmem.rst.
 *
 * Return: 0, or the errno of the first check that failed (nothing held).
 */
int vhost_shmem_map_prepare(struct vhost_shmem_dev *dev,
			    struct vhost_shmem_map_req *req)
{
	struct vhost_shmem_map *a = &req->args;
	struct mem_cgroup *old_memcg;
	struct file *file;
	int ret;

	ret = check_range_args(dev, a->shmid, a->shm_offset, a->len);
	if (ret)
		return ret;
	if (a->flags & ~VHOST_SHMEM_MAP_F_ALL)
		return -EOPNOTSUPP;
	if (!PAGE_ALIGNED(a->fd_offset))
		return -EINVAL;
	file = fget(a->fd);
	if (!file)
		return -EBADF;
	ret = check_backend(file, a);
	if (ret)
		goto out;
	/*
	 * What the mapping keeps (the reopened file, its table entry) is the
	 * owner's, like the vmas the worker builds: charge the owner's memcg,
	 * not the requester's. dev->memcg is set before dev->mm is published
	 * (check_range_args() saw it) and lives until release.
	 */
	old_memcg = set_active_memcg(dev->memcg);
	req->file = backend_file(file, a, &req->private);
	if (IS_ERR(req->file)) {
		ret = PTR_ERR(req->file);
		req->file = NULL;
	} else {
		req->mapping = kzalloc(sizeof(*req->mapping), GFP_KERNEL_ACCOUNT);
		if (!req->mapping) {
			fput(req->file);
			req->file = NULL;
			ret = -ENOMEM;
		}
	}
	set_active_memcg(old_memcg);
out:
	fput(file);
	return ret;
}

/**
 * vhost_shmem_map_finish() - drop what prepare took; count and report
 * @dev: the device
 * @req: the request
 * @ret: its result
 *
 * No lock held; vhost_shmem_nl_map() looks a mapping that was made up
 * bounded, and sends a failed MAP's event without the device.
 */
void vhost_shmem_map_finish(struct vhost_shmem_dev *dev,
			    struct vhost_shmem_map_req *req, int ret)
{
	kfree(req->mapping);	/* NULL once the table took it */
	if (req->file)
		fput(req->file);
	count_failure(dev, ret);
	vhost_shmem_nl_map(dev, &req->args, ret, req->refused_by);
}

/**
 * vhost_shmem_unmap_prepare() - check an UNMAP
 * @dev: the device
 * @a: the caller's arguments
 *
 * Lock-free, like vhost_shmem_map_prepare(); an UNMAP takes nothing.
 *
 * Return: 0, or the errno of the first check that failed.
 */
int vhost_shmem_unmap_prepare(struct vhost_shmem_dev *dev,
			      const struct vhost_shmem_unmap *a)
{
	int ret = check_range_args(dev, a->shmid, a->shm_offset, a->len);

	if (!ret && a->padding)
		ret = -EINVAL;
	return ret;
}

/**
 * vhost_shmem_unmap_finish() - count and report the result of an UNMAP
 * @dev: the device
 * @a: the caller's arguments
 * @ret: its result
 */
void vhost_shmem_unmap_finish(struct vhost_shmem_dev *dev,
			      const struct vhost_shmem_unmap *a, int ret)
{
	count_failure(dev, ret);
	vhost_shmem_nl_unmap(dev, a, ret);
}

static void map_finish(struct vhost_shmem_dev *dev, void *arg, int ret,
		       bool gone)
{
	vhost_shmem_map_finish(dev, arg, ret);
}

static void unmap_finish(struct vhost_shmem_dev *dev, void *arg, int ret,
			 bool gone)
{
	vhost_shmem_unmap_finish(dev, arg, ret);
}

/* MAP and UNMAP as the worker runs them: finished whether or not we wait. */
const struct vhost_shmem_call vhost_shmem_map_call = {
	.fn = vhost_shmem_do_map,
	.finish = map_finish,
	.size = sizeof(struct vhost_shmem_map_req),
};

const struct vhost_shmem_call vhost_shmem_unmap_call = {
	.fn = vhost_shmem_do_unmap,
	.finish = unmap_finish,
	.size = sizeof(struct vhost_shmem_unmap),
};
