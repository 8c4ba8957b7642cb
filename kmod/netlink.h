/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-shmem observability: the registry of devices, the generic netlink
 * family "vhost-shmem" (dumps and events) and the tracepoints.
 *
 * Locking, outermost first:
 *   vhost_shmem_devs_lock (netlink.c)  ->  vhost_shmem_dev.mutex  ->  mmap_lock
 * The registry lock keeps a listed device alive while a dump locks it: a
 * device leaves the registry (under that lock) before it is freed. Nothing
 * takes the registry lock with a device mutex held. Events are built and
 * sent with GFP_KERNEL from process context, never under a spinlock and
 * never from the vma callbacks or the mmu notifier.
 */
#ifndef _VHOST_SHMEM_NETLINK_H
#define _VHOST_SHMEM_NETLINK_H

#include <linux/atomic.h>
#include <linux/sched.h>
#include <linux/types.h>

struct vhost_shmem_dev;
struct vhost_shmem_map;
struct vhost_shmem_unmap;

/* Buckets of failures by errno: the MAP/UNMAP errnos, then "other". */
#define VHOST_SHMEM_NR_ERRNOS	21

/**
 * struct vhost_shmem_obs - what the observability code keeps per device
 * @id: the device's id in the registry; immutable while it is listed
 * @owner_pid: thread group id (initial namespace) of the owner at
 *	SET_OWNER, 0 before. Written under dev->mutex.
 * @owner_comm: the owner's comm at SET_OWNER. Written under dev->mutex.
 * @errors: failed MAP/UNMAP requests per errno bucket (atomic, no lock)
 */
struct vhost_shmem_obs {
	u32 id;
	pid_t owner_pid;
	char owner_comm[TASK_COMM_LEN];
	atomic_long_t errors[VHOST_SHMEM_NR_ERRNOS];
};

int vhost_shmem_nl_init(void);
void vhost_shmem_nl_exit(void);

/* Registry: at open (may fail) and at release (before the free). */
int vhost_shmem_nl_dev_add(struct vhost_shmem_dev *dev);
void vhost_shmem_nl_dev_del(struct vhost_shmem_dev *dev);
/* SET_OWNER succeeded: record current as the owner. dev->mutex held. */
void vhost_shmem_nl_set_owner(struct vhost_shmem_dev *dev);

/*
 * A MAP/UNMAP request returned @ret (after the arguments were copied in):
 * tracepoint, failure counters and event. No lock held.
 */
void vhost_shmem_nl_map(struct vhost_shmem_dev *dev,
			const struct vhost_shmem_map *a, int ret);
void vhost_shmem_nl_unmap(struct vhost_shmem_dev *dev,
			  const struct vhost_shmem_unmap *a, int ret);
/* Every mapping was dropped, @removed of them. dev->mutex held. */
void vhost_shmem_nl_reset(struct vhost_shmem_dev *dev, u64 removed);

#endif /* _VHOST_SHMEM_NETLINK_H */
