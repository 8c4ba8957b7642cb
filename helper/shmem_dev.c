// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "shmem_dev.h"

static int ret_errno(int r)
{
	return r < 0 ? -errno : 0;
}

static int ioctl_get_config(void *ctx, int devfd, struct vhost_shmem_config *cfg)
{
	(void)ctx;
	return ret_errno(ioctl(devfd, VHOST_SHMEM_GET_CONFIG, cfg));
}

static int ioctl_map(void *ctx, int devfd, const struct vhost_shmem_map *map)
{
	(void)ctx;
	return ret_errno(ioctl(devfd, VHOST_SHMEM_MAP, map));
}

static int ioctl_unmap(void *ctx, int devfd, const struct vhost_shmem_unmap *unmap)
{
	(void)ctx;
	return ret_errno(ioctl(devfd, VHOST_SHMEM_UNMAP, unmap));
}

static int ioctl_reset(void *ctx, int devfd)
{
	(void)ctx;
	return ret_errno(ioctl(devfd, VHOST_SHMEM_RESET));
}

static int ioctl_batch(void *ctx, int devfd, struct vhost_shmem_op *ops, unsigned int n)
{
	struct vhost_shmem_batch b = { .ops = (uintptr_t)ops, .nops = n };

	(void)ctx;
	return ret_errno(ioctl(devfd, VHOST_SHMEM_BATCH, &b));
}

static int ioctl_get_view(void *ctx, int devfd, uint32_t shmid, uint32_t flags)
{
	struct vhost_shmem_view_req req = { .shmid = shmid, .flags = flags };
	int fd = ioctl(devfd, VHOST_SHMEM_GET_VIEW, &req);

	(void)ctx;
	return fd < 0 ? -errno : fd;
}

/* GET_STATS needs no owner and changes nothing: a harmless question. */
static int ioctl_probe(void *ctx, int devfd)
{
	struct vhost_shmem_stats st;

	(void)ctx;
	return ret_errno(ioctl(devfd, VHOST_SHMEM_GET_STATS, &st));
}

const struct shmem_dev_ops shmem_ioctl_ops = {
	.get_config = ioctl_get_config,
	.map = ioctl_map,
	.unmap = ioctl_unmap,
	.reset = ioctl_reset,
	.batch = ioctl_batch,
	.get_view = ioctl_get_view,
	.probe = ioctl_probe,
};
