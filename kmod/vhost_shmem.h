/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-shmem internals: the device context, its regions and mappings.
 *
 * Locking, outermost first:
 *   vhost_shmem_dev.mutex  ->  owner mm's mmap_lock
 * The vma callbacks (->mmap, ->get_unmapped_area, ->fault, ->pfn_mkwrite,
 * ->mremap) and the mmu notifier run under mmap_lock or reclaim locks, so
 * they never take dev->mutex: they only read fields that are immutable
 * once published (region size and flags after @configured, @mm after
 * SET_OWNER), atomic ones (space->addr, space->detached, @installer,
 * @mm_dead), or, in the installer's own context, what it set under
 * dev->mutex (@inst_space, @inst_expect).
 *
 * Sleeps, and what each can wait for. Every wait of a requester (an
 * ioctl, a close()) is killable; the worker's are bounded or interrupted
 * by the requester it works for (worker.c):
 *   dev->mutex          another MAP/UNMAP/RESET of this device; taken
 *                       killable by every ioctl; netlink dumps only try it
 *                       (bounded, see netlink.c).
 *   the worker          requests queued before ours and ours: killable. A
 *                       killed requester abandons its request, which then
 *                       either never runs or runs in full in the worker.
 *   mmap_lock           the owner's (or a viewer's) own threads holding it
 *                       (page faults, mmap calls, a /proc/pid/mem access
 *                       stuck on a FUSE server): killable wherever a task
 *                       takes it (vm_mmap(), vm_munmap(), region.c). The
 *                       worker takes the owner's once killable before it
 *                       changes anything for a request (vhost_shmem_commit());
 *                       the abandoning requester's SIGKILL ends that wait.
 *                       Past that point, and for the release and the reap
 *                       which no one can be killed for, the worker waits
 *                       as long as the owner (or the viewer) holds it; its
 *                       requester does not.
 *   release             a close() waits, killable, for the worker to take
 *                       the mappings out (vhost_shmem_worker_release()).
 *   the drain           a RESET after the owner's death waits, killable,
 *                       for @drained; the drain (a kworker) holds
 *                       dev->mutex as long as a viewer holds its own
 *                       mmap_lock. No requester flushes drain_work or
 *                       calls vhost_shmem_drop_all() (kthreads only).
 *   vm_mmap/vm_munmap   the backend's ->mmap and page table teardown.
 *                       Not the owner's userfaultfd reader: a range
 *                       registered with userfaultfd is refused (EBUSY)
 *                       before anything in it is replaced, except what a
 *                       thread of the owner maps there between that check
 *                       and vm_mmap() (uapi doc, Known gaps).
 *   dentry_open         a read-only viewer's copy of a read-write MAP's
 *                       file, opened by the worker: the file system's
 *                       ->open (a FUSE server's answer; Known gaps).
 */
#ifndef _VHOST_SHMEM_H
#define _VHOST_SHMEM_H

#include <linux/completion.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/maple_tree.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
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

struct vhost_shmem_space;

/**
 * struct vhost_shmem_frag - a hole put back by UNMAP, not merged yet
 * @start: its first address
 * @end: its end
 * @space: the space (region in one mm) it is in
 */
struct vhost_shmem_frag {
	unsigned long start;
	unsigned long end;
	struct vhost_shmem_space *space;
};

/* vhost_shmem_mapping.vm_refs of a file whose references cannot be counted. */
#define VHOST_SHMEM_REFS_SHARED		(-1L)

/**
 * struct vhost_shmem_mapping - one backend file installed in a region
 * @file: the file the MAP installed (the caller's, or the module's own
 *	reopening of it, see @private); referenced while listed
 * @vm_file: the file its vmas map: @file, unless the backend's ->mmap
 *	swapped in another (overlayfs, GEM); referenced while listed
 * @private: @file was opened by the module for this mapping alone, so any
 *	reference to it beyond the table's is a vma of the owner or a viewer
 * @ro_file: for read-only viewers of a read-write mapping of a regular
 *	file: a read-only reopening of @file, opened on first need
 * @ro_vm_file: the file the read-only viewers' vmas map (see @vm_file)
 * @vm_refs: the references @vm_file has when no vma maps it (the table's
 *	and those of whatever swapped it in), so that more are copies the
 *	owner or a viewer still maps; 0 when that count could not be
 *	established at MAP (every UNMAP and RESET of it then reports copies);
 *	VHOST_SHMEM_REFS_SHARED for a file others hold too (a dma-buf). Set
 *	by the MAP, immutable
 * @ro_vm_refs: the same for @ro_vm_file, set with it
 * @vm_pgoff: vm_pgoff of the mapping's first vma, where @vm_file's pages
 *	start (a GEM exporter's ->mmap moves it), from the first space that
 *	took it; immutable
 * @ro_vm_pgoff: the same for @ro_vm_file, set with it
 * @shm_offset: offset in the region
 * @len: length in bytes
 * @fd_offset: offset in @file
 * @flags: VHOST_SHMEM_MAP_F_*
 * @kept: a failed MAP could not take it back out of a viewer it reached
 *	first (the viewer mseal()ed it or registered it with userfaultfd):
 *	it is in no space but that detached viewer's, and stays listed so
 *	that UNMAP, RESET and the reap of that viewer try again and the
 *	caller treats the buffer as shared. Never installed anywhere else.
 *	Set by that MAP under dev->mutex, immutable
 * @seq: numbers the MAPs let into the table (dev->map_seq), so that a
 *	viewer knows what it can have been given (its @got_seq). Immutable
 */
struct vhost_shmem_mapping {
	struct file *file;
	struct file *vm_file;
	bool private;
	struct file *ro_file;
	struct file *ro_vm_file;
	long vm_refs;
	long ro_vm_refs;
	unsigned long vm_pgoff;
	unsigned long ro_vm_pgoff;
	u64 shm_offset;
	u64 len;
	u64 fd_offset;
	u64 flags;
	bool kept;
	u64 seq;
};

struct vhost_shmem_region;

/**
 * struct vhost_shmem_space - a region as one mm maps it
 * @region: the region; set when the space is created, immutable
 * @file: the file its placeholders map (the device file for the owner).
 *	Not a reference: the placeholders hold it. Immutable.
 * @pgoff: page offset in @file of the page at @addr. Immutable.
 * @off: the region offset the space starts at: 0 for the owner, the view
 *	file offset for a viewer of part of the region. Immutable.
 * @len: bytes of the region from @off the space maps. Set with @addr.
 * @addr: the address of region offset @off in the mm; 0 until mmapped
 *	there. Set once, in ->mmap (under mmap_lock, not dev->mutex).
 * @prot: PROT_* of that mmap, used to re-install placeholders.
 *	Written before @addr is published, read after, as @len.
 * @detached: the mm's own threads unmapped, moved or replaced part of
 *	the range (the mmu notifier saw it): the space is left alone from
 *	then on. Set once, by the notifier (or space_confirmed()), or for a
 *	viewer by the device when its mm is gone, it keeps vmas the device
 *	took out, or a failed MAP or attach could not put its hole back
 *	(region.c); read under mmap_lock.
 * @confirmed: the owner's space only: a placeholder of it was seen in the
 *	mm after ->mmap published @addr (see space_confirmed() in
 *	region.c). Set once, under dev->mutex.
 *
 * Everything that changes the mm's vmas for the region goes through one
 * space, in that mm (region.c). The owner's space is embedded in its
 * region; its mm is the device's @mm.
 */
struct vhost_shmem_space {
	struct vhost_shmem_region *region;
	struct file *file;
	unsigned long pgoff;
	u64 off;
	u64 len;
	unsigned long addr;
	unsigned long prot;
	bool detached;
	bool confirmed;
};

/**
 * struct vhost_shmem_region - one shmid of a device
 * @size: bytes; 0 = unused shmid. Immutable once the device is configured.
 * @flags: VHOST_SHMEM_REGION_F_*. Immutable once configured.
 * @owner: the region in the owner's mm
 * @mappings: live mappings indexed by page offset in the region, one
 *	entry spanning each mapping's pages. Protected by dev->mutex.
 * @viewers: attached struct vhost_shmem_viewer. Protected by dev->mutex.
 */
struct vhost_shmem_region {
	u64 size;
	u32 flags;
	struct vhost_shmem_space owner;
	struct maple_tree mappings;
	struct list_head viewers;
};

/**
 * struct vhost_shmem_viewer - one mmap of a view fd (see view.c)
 * @space: the region in the viewer's mm; its placeholders map @view_file
 * @node: entry in region->viewers once attached. Protected by dev->mutex.
 * @mn: the viewer's mmu notifier: detaches @space (set on any munmap,
 *	mremap or mmap(MAP_FIXED) of the viewer's own, and at its mm's end)
 * @registered: @mn is registered; it is then freed by mmu_notifier_put()
 * @mm: the viewer's mm, mmgrab()ed
 * @memcg: the viewer's memcg, charged for what the worker builds there
 * @dev: the device
 * @view_file: the view file, referenced while the viewer exists
 * @rw: the view is read-write
 * @twork: attaches the viewer in the mmapping task, before mmap() returns
 * @pid: thread group id of the mmapping task (initial pid namespace), for
 *	netlink. Immutable.
 * @comm: its comm at the mmap, for netlink. Immutable.
 * @got_seq: the newest mapping (vhost_shmem_mapping.seq) the device tried
 *	to install here: a newer one never was (it came once the viewer was
 *	detached). Protected by dev->mutex.
 */
struct vhost_shmem_viewer {
	struct vhost_shmem_space space;
	struct list_head node;
	struct mmu_notifier mn;
	bool registered;
	struct mm_struct *mm;
	struct mem_cgroup *memcg;
	struct vhost_shmem_dev *dev;
	struct file *view_file;
	bool rw;
	struct callback_head twork;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	u64 got_seq;
};

struct vhost_shmem_work;

/**
 * struct vhost_shmem_worker - runs requests in the owner's mm (vhost-style)
 * @task: the kthread; exists from SET_OWNER until it finished the release
 *	(it then exits by itself)
 * @queue: pending struct vhost_shmem_work, lockless
 * @lock: the state of every request (worker.c); taken by the worker and
 *	by a requester giving its request up, which may signal @task under it
 * @final: the release, preallocated: queued once, last
 */
struct vhost_shmem_worker {
	struct task_struct *task;
	struct llist_head queue;
	spinlock_t lock;	/* see struct vhost_shmem_work in worker.c */
	struct vhost_shmem_work *final;
};

/**
 * struct vhost_shmem_dev - one open of /dev/vhost-shmem (one virtio device)
 * @mutex: serialises configuration, MAP, UNMAP, RESET and the tables
 * @released: the worker finished the release (vhost_shmem_dev_released());
 *	a task waiting for it in release holds a reference (obs.refs)
 * @file: the device file placeholders map. Not a reference: the device
 *	outlives this file only while its worker finishes the release (or a
 *	dump holds it); no one uses the file then.
 * @mm: the owner's mm, pinned with mmgrab() (never mmget(): the region vmas
 *	hold @file, so holding mm_users would keep the mm alive forever).
 *	Written once under @mutex by SET_OWNER; read locklessly after.
 * @mm_dead: the owner's mm is dead for the device: set by the mmu notifier
 *	when the mm is torn down, or by a RESET the worker answered ESRCH
 *	(no user left, teardown maybe not reached yet). Never cleared; each
 *	setter then schedules @drain_work. Read locklessly; MAP and attach
 *	test it under @mutex, so the drain (which takes @mutex after it is
 *	set) sees every mapping there will ever be.
 * @mn: the notifier that reports the owner's mm going away
 * @memcg: the owner's memcg; the worker charges page tables to it
 * @owner_uid: the owner's real uid at SET_OWNER; its live mappings count
 *	against max_user_mappings (main.c). Set with @memcg.
 * @worker: executes requests of non-owner callers in @mm
 * @drain_work: drops the mapping table once @mm is dead, after taking
 *	every mapping out of every viewer (vhost_shmem_drop_all()); it
 *	holds @mutex while it waits for a viewer's mmap_lock
 * @drained: completed (for good) at the end of every run of @drain_work,
 *	each of which started after @mm_dead was set: the table is then empty
 *	and stays so. A RESET after the owner's death waits for it, killable,
 *	instead of flushing @drain_work or taking @mutex uninterruptibly.
 *	No one waits for it once the file is released.
 * @installer: the task currently changing the owner's mm for the device
 *	(vm_mmap/vm_munmap); ->mmap and ->get_unmapped_area trust only that
 *	task, the notifier ignores it. Written under @mutex.
 * @inst_space: the space @installer puts a placeholder in
 * @inst_expect: the backend file whose vmas that placeholder may replace
 * @inst_table: that placeholder may replace the vma of every listed
 *	mapping at its place (RESET of a whole region)
 * @configured: regions are set; published with release semantics
 * @regions: the shmids; the array is allocated with the device
 * @nr_mappings: live mappings, all regions. Protected by @mutex.
 * @mapped_bytes: bytes covered by live mappings. Protected by @mutex.
 * @maps: successful MAPs. Protected by @mutex.
 * @unmaps: mappings removed by UNMAP or RESET. Protected by @mutex.
 * @failures: failed MAP and UNMAP requests. Atomic: counted after the
 *	request, also by a killed requester, which must not wait for @mutex.
 * @frags: holes UNMAP put back and did not merge yet. Protected by @mutex.
 * @nr_frags: entries in @frags. Protected by @mutex.
 * @obs: registry id, owner and failures by errno (netlink.h)
 * @nr_viewers: viewers that exist (attached or on the way), all regions;
 *	bounded by max_viewers. Atomic: counted in the view's ->mmap.
 * @nr_attached: viewers in the regions' lists. Protected by @mutex.
 * @map_seq: the last vhost_shmem_mapping.seq given out. Protected by
 *	@mutex.
 * @had_viewers: a viewer was ever created: release waits for their
 *	notifiers (mmu_notifier_synchronize())
 * @reap_work: drops detached viewers soon after their notifier saw it
 */
struct vhost_shmem_dev {
	struct mutex mutex;	/* see "Locking" at the top of this file */
	struct completion released;
	struct file *file;
	struct mm_struct *mm;
	bool mm_dead;
	struct mmu_notifier mn;
	struct mem_cgroup *memcg;
	kuid_t owner_uid;
	struct vhost_shmem_worker worker;
	struct work_struct drain_work;
	struct completion drained;
	struct task_struct *installer;
	struct vhost_shmem_space *inst_space;
	struct file *inst_expect;
	bool inst_table;
	bool configured;
	struct vhost_shmem_region regions[VHOST_SHMEM_MAX_REGIONS];
	u64 nr_mappings;
	u64 mapped_bytes;
	u64 maps;
	u64 unmaps;
	atomic64_t failures;
	struct vhost_shmem_frag frags[VHOST_SHMEM_MAX_FRAGS];
	unsigned int nr_frags;
	struct vhost_shmem_obs obs;
	atomic_t nr_viewers;
	unsigned int nr_attached;
	u64 map_seq;
	bool had_viewers;
	struct work_struct reap_work;
};

/*
 * Returned by a request run in the owner's own thread that must run in the
 * worker instead (the region has viewers, whose mms only a kthread can
 * adopt): vhost_shmem_run_in_owner() queues it. Never seen by callers.
 */
#define VHOST_SHMEM_REQUEUE	1

/* main.c: module parameters and the device's file operations. */
extern unsigned int vhost_shmem_max_mappings;
extern const struct file_operations vhost_shmem_fops;
int vhost_shmem_user_charge(struct vhost_shmem_dev *dev);
void vhost_shmem_user_uncharge(struct vhost_shmem_dev *dev);

/* region.c: the region vmas and the install/remove mechanics. */
void vhost_shmem_region_init(struct vhost_shmem_dev *dev, u32 shmid);
int vhost_shmem_mmap(struct file *file, struct vm_area_struct *vma);
unsigned long vhost_shmem_get_unmapped_area(struct file *file,
					    unsigned long addr,
					    unsigned long len,
					    unsigned long pgoff,
					    unsigned long flags);
void vhost_shmem_region_touched(struct vhost_shmem_dev *dev,
				unsigned long start, unsigned long end);
int vhost_shmem_do_map(struct vhost_shmem_dev *dev, void *arg);
int vhost_shmem_do_unmap(struct vhost_shmem_dev *dev, void *arg);
int vhost_shmem_do_reset(struct vhost_shmem_dev *dev, void *arg);
int vhost_shmem_do_teardown(struct vhost_shmem_dev *dev, void *arg);
void vhost_shmem_drop_all(struct vhost_shmem_dev *dev);
void vhost_shmem_make_hole(struct vm_area_struct *vma,
			   struct vhost_shmem_region *region);
unsigned long vhost_shmem_area(struct vhost_shmem_dev *dev, struct file *file,
			       unsigned long addr, unsigned long len,
			       unsigned long pgoff, unsigned long flags);
int vhost_shmem_viewer_attach(struct vhost_shmem_dev *dev,
			      struct vhost_shmem_viewer *v);
int vhost_shmem_do_reap(struct vhost_shmem_dev *dev, void *arg);

/* view.c: VHOST_SHMEM_GET_VIEW, view files and their viewers. */
long vhost_shmem_get_view(struct vhost_shmem_dev *dev, struct file *file,
			  void __user *argp);
void vhost_shmem_viewer_put(struct vhost_shmem_viewer *v);
void vhost_shmem_viewer_detach(struct vhost_shmem_viewer *v);
void vhost_shmem_viewers_release(struct vhost_shmem_dev *dev);
void vhost_shmem_reap_work(struct work_struct *work);
bool vhost_shmem_is_view(const struct file *file);
void vhost_shmem_views_exit(void);

/**
 * struct vhost_shmem_map_req - a validated MAP request
 * @args: the caller's arguments
 * @file: the file to install, referenced by the request
 * @private: @file is the module's own reopening of the caller's file
 * @mapping: preallocated table entry; consumed on success
 * @refused_by: set by a failed MAP when a viewer's mm could not take it,
 *	or kept it (EBUSY, see vhost_shmem_mapping.kept): that viewer's pid
 *	(initial namespace), for the map event; else 0
 */
struct vhost_shmem_map_req {
	struct vhost_shmem_map args;
	struct file *file;
	bool private;
	struct vhost_shmem_mapping *mapping;
	pid_t refused_by;
};

/*
 * request.c: the checks of MAP and UNMAP and their counting and reporting,
 * shared by the single ioctls (main.c) and the batch (batch.c). No lock
 * held on entry; none is taken but netlink's bounded one (request.c).
 */
int vhost_shmem_map_prepare(struct vhost_shmem_dev *dev,
			    struct vhost_shmem_map_req *req);
void vhost_shmem_map_finish(struct vhost_shmem_dev *dev,
			    struct vhost_shmem_map_req *req, int ret);
extern const struct vhost_shmem_call vhost_shmem_map_call;
extern const struct vhost_shmem_call vhost_shmem_unmap_call;
int vhost_shmem_unmap_prepare(struct vhost_shmem_dev *dev,
			      const struct vhost_shmem_unmap *a);
void vhost_shmem_unmap_finish(struct vhost_shmem_dev *dev,
			      const struct vhost_shmem_unmap *a, int ret);

/* batch.c: VHOST_SHMEM_BATCH. */
long vhost_shmem_batch(struct vhost_shmem_dev *dev, void __user *argp);

/**
 * vhost_shmem_owner_mm() - the owner's mm, or NULL before SET_OWNER
 * @dev: the device
 *
 * Pairs with the release in SET_OWNER: once this returns the mm, the
 * worker, the notifier and the memcg are set up too.
 *
 * Return: the owner's mm (pinned with mmgrab() until release), or NULL.
 */
static inline struct mm_struct *vhost_shmem_owner_mm(struct vhost_shmem_dev *dev)
{
	/* Pairs with smp_store_release() in vhost_shmem_set_owner(). */
	return smp_load_acquire(&dev->mm);
}

/* worker.c: run an operation in the owner's mm. */
typedef int (*vhost_shmem_fn)(struct vhost_shmem_dev *dev, void *arg);

/**
 * struct vhost_shmem_call - one kind of request for vhost_shmem_run_in_owner()
 * @fn: the operation, run in the owner's mm
 * @finish: drops what the argument owns, counts and reports the result;
 *	run exactly once, with @gone when the requester was killed and left
 *	(then in the worker, on its copy of the argument). May be NULL.
 * @size: bytes of the argument, copied for the worker
 */
struct vhost_shmem_call {
	vhost_shmem_fn fn;
	void (*finish)(struct vhost_shmem_dev *dev, void *arg, int ret,
		       bool gone);
	size_t size;
};

int vhost_shmem_worker_start(struct vhost_shmem_dev *dev);
void vhost_shmem_worker_stop(struct vhost_shmem_dev *dev);
void vhost_shmem_worker_release(struct vhost_shmem_dev *dev);
int vhost_shmem_run_in_owner(struct vhost_shmem_dev *dev,
			     const struct vhost_shmem_call *call, void *arg);
void vhost_shmem_run_nowait(struct vhost_shmem_dev *dev,
			    const struct vhost_shmem_call *call);

/* main.c: the device's end, also from the worker (see worker.c). */
extern const struct vhost_shmem_call vhost_shmem_release_call;
void vhost_shmem_dev_released(struct vhost_shmem_dev *dev);
void vhost_shmem_dev_put(struct vhost_shmem_dev *dev);

#endif /* _VHOST_SHMEM_H */
