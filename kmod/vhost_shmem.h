/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-shmem internals: the device context, its regions and mappings.
 *
 * Locking, outermost first:
 *   vhost_shmem_dev.mutex  ->  owner mm's mmap_lock
 * The vma callbacks (->mmap, ->fault, ->pfn_mkwrite, ->mremap) and the mmu
 * notifier run under mmap_lock or reclaim locks, so they never take
 * dev->mutex: they only read fields that are immutable once published
 * (region size and flags after @configured, @mm after SET_OWNER) or are
 * atomic (region->addr, @installer, @mm_dead).
 */
#ifndef _VHOST_SHMEM_H
#define _VHOST_SHMEM_H

#include <linux/llist.h>
#include <linux/maple_tree.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/vhost_shmem.h>

#include "netlink.h"

/*
 * Region i is mmapped at device file offset i << VHOST_SHMEM_REGION_SHIFT,
 * which bounds a region to 1 TiB; placeholder vmas keep this pgoff so the
 * fault handler and the range checks can tell which region a vma belongs to.
 */
#define VHOST_SHMEM_REGION_SHIFT	40
#define VHOST_SHMEM_REGION_PGSHIFT	(VHOST_SHMEM_REGION_SHIFT - PAGE_SHIFT)

/*
 * UNMAP puts the placeholder back exactly over the mapping: one vma
 * replaced by one, as cheap as the mmap() a VMM would do itself, and a MAP
 * at the same place later replaces that one vma again. Merging the new hole
 * with its neighbours would cost three vmas unmapped and a split at every
 * later MAP, so it is deferred: up to this many such hole fragments wait,
 * then all are merged in one go (also when a region loses its last
 * mapping, and on RESET). A region thus has at most 2 * live mappings + 1
 * + 2 * VHOST_SHMEM_MAX_FRAGS vmas.
 */
#define VHOST_SHMEM_MAX_FRAGS		16

/**
 * struct vhost_shmem_frag - a hole put back by UNMAP, not merged yet
 * @start: its first address
 * @end: its end
 * @shmid: its region
 */
struct vhost_shmem_frag {
	unsigned long start;
	unsigned long end;
	u32 shmid;
};

/**
 * struct vhost_shmem_mapping - one backend file installed in a region
 * @file: the backend file; the mapping holds a reference while listed
 * @shm_offset: offset in the region
 * @len: length in bytes
 * @fd_offset: offset in @file
 * @flags: VHOST_SHMEM_MAP_F_*
 */
struct vhost_shmem_mapping {
	struct file *file;
	u64 shm_offset;
	u64 len;
	u64 fd_offset;
	u64 flags;
};

/**
 * struct vhost_shmem_region - one shmid of a device
 * @size: bytes; 0 = unused shmid. Immutable once the device is configured.
 * @flags: VHOST_SHMEM_REGION_F_*. Immutable once configured.
 * @addr: the owner's address of the region; 0 until the owner mmaps it.
 *	Set once, by cmpxchg in ->mmap (under mmap_lock, not dev->mutex).
 * @prot: PROT_* of the owner's mmap, used to re-install placeholders.
 *	Written before @addr is published, read after.
 * @mappings: live mappings indexed by page offset in the region, one
 *	entry spanning each mapping's pages. Protected by dev->mutex.
 */
struct vhost_shmem_region {
	u64 size;
	u32 flags;
	unsigned long addr;
	unsigned long prot;
	struct maple_tree mappings;
};

/**
 * struct vhost_shmem_worker - runs requests in the owner's mm (vhost-style)
 * @task: the kthread; exists from SET_OWNER to release
 * @queue: pending struct vhost_shmem_work, lockless
 */
struct vhost_shmem_worker {
	struct task_struct *task;
	struct llist_head queue;
};

/**
 * struct vhost_shmem_dev - one open of /dev/vhost-shmem (one virtio device)
 * @mutex: serialises configuration, MAP, UNMAP, RESET and the tables
 * @file: the device file placeholders map. Not a reference: the device
 *	lives exactly as long as this file.
 * @mm: the owner's mm, pinned with mmgrab() (never mmget(): the region vmas
 *	hold @file, so holding mm_users would keep the mm alive forever).
 *	Written once under @mutex by SET_OWNER; read locklessly after.
 * @mm_dead: set by the mmu notifier when the owner's mm is torn down
 * @mn: the notifier that reports the owner's mm going away
 * @memcg: the owner's memcg; the worker charges page tables to it
 * @worker: executes requests of non-owner callers in @mm
 * @drain_work: drops the mapping table once @mm is dead
 * @installer: the task currently re-installing placeholders with
 *	vm_mmap(@file); ->mmap trusts only that task. Written under @mutex.
 * @configured: regions are set; published with release semantics
 * @regions: the shmids; the array is allocated with the device
 * @nr_mappings: live mappings, all regions. Protected by @mutex.
 * @mapped_bytes: bytes covered by live mappings. Protected by @mutex.
 * @maps: successful MAPs. Protected by @mutex.
 * @unmaps: mappings removed by UNMAP or RESET. Protected by @mutex.
 * @failures: failed MAP and UNMAP requests. Protected by @mutex.
 * @frags: holes UNMAP put back and did not merge yet. Protected by @mutex.
 * @nr_frags: entries in @frags. Protected by @mutex.
 * @obs: registry id, owner and failures by errno (netlink.h)
 */
struct vhost_shmem_dev {
	struct mutex mutex;	/* see "Locking" at the top of this file */
	struct file *file;
	struct mm_struct *mm;
	bool mm_dead;
	struct mmu_notifier mn;
	struct mem_cgroup *memcg;
	struct vhost_shmem_worker worker;
	struct work_struct drain_work;
	struct task_struct *installer;
	bool configured;
	struct vhost_shmem_region regions[VHOST_SHMEM_MAX_REGIONS];
	u64 nr_mappings;
	u64 mapped_bytes;
	u64 maps;
	u64 unmaps;
	u64 failures;
	struct vhost_shmem_frag frags[VHOST_SHMEM_MAX_FRAGS];
	unsigned int nr_frags;
	struct vhost_shmem_obs obs;
};

/* Module parameters (main.c). */
extern unsigned int vhost_shmem_max_mappings;

/* region.c: the region vmas and the install/remove mechanics. */
int vhost_shmem_mmap(struct file *file, struct vm_area_struct *vma);
int vhost_shmem_do_map(struct vhost_shmem_dev *dev, void *arg);
int vhost_shmem_do_unmap(struct vhost_shmem_dev *dev, void *arg);
int vhost_shmem_do_reset(struct vhost_shmem_dev *dev, void *arg);
int vhost_shmem_do_teardown(struct vhost_shmem_dev *dev, void *arg);
void vhost_shmem_drop_all(struct vhost_shmem_dev *dev);

/**
 * struct vhost_shmem_map_req - a validated MAP request
 * @args: the caller's arguments
 * @file: the backend file, referenced by the caller
 * @mapping: preallocated table entry; consumed on success
 */
struct vhost_shmem_map_req {
	struct vhost_shmem_map args;
	struct file *file;
	struct vhost_shmem_mapping *mapping;
};

/* main.c: the checks of MAP and UNMAP, shared by the single and batch ioctls. */
int vhost_shmem_map_prepare(struct vhost_shmem_dev *dev,
			    struct vhost_shmem_map_req *req);
void vhost_shmem_map_finish(struct vhost_shmem_dev *dev,
			    struct vhost_shmem_map_req *req, int ret);
int vhost_shmem_unmap_prepare(struct vhost_shmem_dev *dev,
			      const struct vhost_shmem_unmap *a);
void vhost_shmem_unmap_finish(struct vhost_shmem_dev *dev,
			      const struct vhost_shmem_unmap *a, int ret);

/* batch.c: VHOST_SHMEM_BATCH. */
long vhost_shmem_batch(struct vhost_shmem_dev *dev, void __user *argp);

/* worker.c: run an operation in the owner's mm. */
typedef int (*vhost_shmem_fn)(struct vhost_shmem_dev *dev, void *arg);
int vhost_shmem_worker_start(struct vhost_shmem_dev *dev);
void vhost_shmem_worker_stop(struct vhost_shmem_dev *dev);
int vhost_shmem_run_in_owner(struct vhost_shmem_dev *dev, vhost_shmem_fn fn,
			     void *arg);

#endif /* _VHOST_SHMEM_H */
