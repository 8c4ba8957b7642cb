/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-shmem observability: the registry of devices, the generic netlink
 * family "vhost-shmem" (dumps and events) and the tracepoints.
 *
 * Locking, outermost first:
 *   vhost_shmem_devs_lock (netlink.c)  ->  vhost_shmem_dev.mutex  ->  mmap_lock
 * The registry lock is held only to find, add or remove a device, never
 * while waiting for one: a dump takes a reference (obs.refs) on the device
 * it found, drops the lock and then waits for the device's mutex (bounded).
 * The registry holds a reference while the device is listed; the last
 * reference frees the device (vhost_shmem_dev_free()). Nothing takes the
 * registry lock with a device mutex held. Events are built and
 * sent with GFP_KERNEL from process context, never under a spinlock and
 * never from the vma callbacks or the mmu notifier.
 */
#ifndef _VHOST_SHMEM_NETLINK_H
#define _VHOST_SHMEM_NETLINK_H

#include <linux/atomic.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/types.h>

struct vhost_shmem_dev;
struct vhost_shmem_map;
struct vhost_shmem_unmap;
struct vhost_shmem_viewer;

/* Buckets of failures by errno: the MAP/UNMAP errnos, then "other". */
#define VHOST_SHMEM_NR_ERRNOS	21

/**
 * struct vhost_shmem_obs - what the observability code keeps per device
 * @id: the device's id in the registry; immutable while it is listed
 * @owner_pid: thread group id (initial namespace) of the owner at
 *	SET_OWNER, 0 before. Written under dev->mutex.
 * @owner_comm: the owner's comm at SET_OWNER. Written under dev->mutex.
 * @errors: failed MAP/UNMAP requests per errno bucket (atomic, no lock)
 * @refs: the registry's reference while listed, plus one per dump
 *	that found the device and is using it, and one of a task waiting
 *	in release for the worker (worker.c); the last one frees it
 * @unlisted: removed from the registry (release): dumps that still hold
 *	a reference skip it. Written under the registry lock.
 */
struct vhost_shmem_obs {
	u32 id;
	refcount_t refs;
	bool unlisted;
	pid_t owner_pid;
	char owner_comm[TASK_COMM_LEN];
	atomic_long_t errors[VHOST_SHMEM_NR_ERRNOS];
};

int vhost_shmem_nl_init(void);
void vhost_shmem_nl_exit(void);

/*
 * Registry: at open (may fail) and at the end of release, which leaves the
 * free to the last reference. main.c frees the device (what open set up).
 */
int vhost_shmem_nl_dev_add(struct vhost_shmem_dev *dev);
void vhost_shmem_nl_dev_del(struct vhost_shmem_dev *dev);
void vhost_shmem_dev_free(struct vhost_shmem_dev *dev);
/* SET_OWNER succeeded: record current as the owner. dev->mutex held. */
void vhost_shmem_nl_set_owner(struct vhost_shmem_dev *dev);

/*
 * A MAP/UNMAP request returned @ret (after the arguments were copied in):
 * tracepoint, failure counters and event. No lock held. A MAP that a
 * viewer's mm refused names that viewer (@refused_by, its pid; else 0).
 */
void vhost_shmem_nl_map(struct vhost_shmem_dev *dev,
			const struct vhost_shmem_map *a, int ret,
			pid_t refused_by);
void vhost_shmem_nl_unmap(struct vhost_shmem_dev *dev,
			  const struct vhost_shmem_unmap *a, int ret);
/* Every mapping was dropped, @removed of them. dev->mutex held. */
void vhost_shmem_nl_reset(struct vhost_shmem_dev *dev, u64 removed);
/*
 * A new viewer attached (@ret 0) or could not (@ret its errno), in its own
 * thread, no lock held; an attached one is dropped, dev->mutex held.
 */
void vhost_shmem_nl_view_attach(struct vhost_shmem_viewer *v, int ret);
void vhost_shmem_nl_view_detach(struct vhost_shmem_viewer *v);

#endif /* _VHOST_SHMEM_NETLINK_H */
