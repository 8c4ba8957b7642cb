/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device side of the helper: the vhost-shmem ioctls it issues, behind
 * an ops table so that host tests can substitute a fake device. Every op
 * returns 0 or a negative errno; batch (optional) leaves each operation's
 * result in ops[i].result.
 */
#ifndef SHMEM_DEV_H
#define SHMEM_DEV_H

#include <linux/vhost_shmem.h>

struct shmem_dev_ops {
	int (*get_config)(void *ctx, int devfd, struct vhost_shmem_config *cfg);
	int (*map)(void *ctx, int devfd, const struct vhost_shmem_map *map);
	int (*unmap)(void *ctx, int devfd, const struct vhost_shmem_unmap *unmap);
	int (*reset)(void *ctx, int devfd);
	int (*batch)(void *ctx, int devfd, struct vhost_shmem_op *ops, unsigned int n);
	/*
	 * Optional: VHOST_SHMEM_GET_VIEW; returns the new view fd (owned by
	 * the caller) or a negative errno.
	 */
	int (*get_view)(void *ctx, int devfd, uint32_t shmid, uint32_t flags);
	/* Optional: 0 if @devfd answers like a vhost-shmem device. */
	int (*probe)(void *ctx, int devfd);
};

struct shmem_dev {
	const struct shmem_dev_ops *ops;
	void *ctx;
	int fd;		/* the device fd, owned by the helper; -1 if none */
};

/* The real thing: ioctl() on /dev/vhost-shmem; ctx unused. */
extern const struct shmem_dev_ops shmem_ioctl_ops;

#endif
