// SPDX-License-Identifier: GPL-2.0
/*
 * The per-device worker: a kthread that adopts the owner's mm so callers
 * other than the owner (the vhost-user helper) can change the owner's
 * address space, as drivers/vhost does for its virtqueues.
 *
 * Each request runs with the requester's credentials, so LSM and capability
 * checks in vm_mmap() judge the requester and not the kthread, and with the
 * owner's memcg active, so page tables built here are charged to the VMM.
 * A wake-up runs every queued request under one mm switch.
 */
#include <linux/cred.h>
#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "vhost_shmem.h"

/* States of a request; see vhost_shmem_run_in_owner(). */
enum {
	VHOST_SHMEM_WORK_QUEUED,
	VHOST_SHMEM_WORK_RUNNING,
	VHOST_SHMEM_WORK_CANCELLED,
};

/**
 * struct vhost_shmem_work - one request for the worker
 * @node: entry in worker.queue
 * @fn: the operation, run in the owner's mm
 * @arg: its argument, on the requester's stack
 * @cred: the requester's credentials, valid while the requester waits
 * @ret: @fn's result, or -ESRCH when the owner's mm is gone
 * @state: QUEUED until the worker takes it (RUNNING) or the requester,
 *	killed while it waited, gives it up (CANCELLED); one cmpxchg decides.
 * @done: completed once @ret is set, for a RUNNING request only
 *
 * Lifetime: allocated by the requester. A RUNNING request is freed by the
 * requester after @done; a CANCELLED one by the worker, which then touches
 * neither @arg nor @cred.
 */
struct vhost_shmem_work {
	struct llist_node node;
	vhost_shmem_fn fn;
	void *arg;
	const struct cred *cred;
	int ret;
	atomic_t state;
	struct completion done;
};

/* Runs in the owner's mm when @have_mm; the requester waits on @done. */
static void vhost_shmem_run_work(struct vhost_shmem_dev *dev,
				 struct vhost_shmem_work *work, bool have_mm)
{
	const struct cred *old_cred;

	if (atomic_cmpxchg(&work->state, VHOST_SHMEM_WORK_QUEUED,
			   VHOST_SHMEM_WORK_RUNNING) != VHOST_SHMEM_WORK_QUEUED) {
		kfree(work);	/* the requester was killed and left */
		return;
	}
	if (have_mm) {
		old_cred = override_creds(work->cred);
		work->ret = work->fn(dev, work->arg);
		revert_creds(old_cred);
	} else {
		work->ret = -ESRCH;
	}
	/* The requester frees @work as soon as this completes. */
	complete(&work->done);
}

static void vhost_shmem_run_batch(struct vhost_shmem_dev *dev,
				  struct llist_node *node)
{
	struct vhost_shmem_work *work, *next;
	struct mem_cgroup *old_memcg;
	bool have_mm = mmget_not_zero(dev->mm);

	if (have_mm) {
		kthread_use_mm(dev->mm);
		old_memcg = set_active_memcg(dev->memcg);
	}
	/* @work may be gone once run: @next is read before. */
	llist_for_each_entry_safe(work, next, node, node)
		vhost_shmem_run_work(dev, work, have_mm);
	if (have_mm) {
		set_active_memcg(old_memcg);
		kthread_unuse_mm(dev->mm);
		/* The last reference may be ours: never tear an mm down here. */
		mmput_async(dev->mm);
	}
}

static int vhost_shmem_worker_fn(void *data)
{
	struct vhost_shmem_dev *dev = data;
	struct llist_node *node;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		node = llist_del_all(&dev->worker.queue);
		if (!node) {
			if (kthread_should_stop()) {
				__set_current_state(TASK_RUNNING);
				return 0;
			}
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		vhost_shmem_run_batch(dev, llist_reverse_order(node));
		cond_resched();
	}
}

/**
 * vhost_shmem_worker_start() - create the worker of a device at SET_OWNER
 * @dev: the device, before dev->mm is published: the worker sleeps until
 *	the first request, which can only come once it is
 *
 * Return: 0 or a negative errno.
 */
int vhost_shmem_worker_start(struct vhost_shmem_dev *dev)
{
	struct task_struct *task;

	init_llist_head(&dev->worker.queue);
	task = kthread_create(vhost_shmem_worker_fn, dev, "vhost-shmem-%d",
			      current->pid);
	if (IS_ERR(task))
		return PTR_ERR(task);
	dev->worker.task = task;
	wake_up_process(task);
	return 0;
}

/**
 * vhost_shmem_worker_stop() - stop the worker at device release
 * @dev: the device. No request can be queued any more: every requester
 *	holds a reference to the device file.
 */
void vhost_shmem_worker_stop(struct vhost_shmem_dev *dev)
{
	if (dev->worker.task)
		kthread_stop(dev->worker.task);
	dev->worker.task = NULL;
}

/**
 * vhost_shmem_run_in_owner() - run @fn with current->mm == the owner's mm
 * @dev: the device
 * @fn: the operation
 * @arg: its argument
 * @killable: a fatal signal may cancel a still queued request. Not at
 *	release: it runs in exiting tasks too and must remove the mappings.
 *
 * The owner calls @fn directly (unless @fn returns VHOST_SHMEM_REQUEUE:
 * the region has viewers); anyone else queues it to the worker and
 * waits, holding no lock, until it ran. The wait is killable while the
 * request is still queued (behind another one); once the worker runs it,
 * the requester waits for that one run, whose waits are bounded (see
 * "Sleeps" in vhost_shmem.h).
 *
 * Return: @fn's result, -EBADFD before SET_OWNER, -ESRCH if the owner's
 * mm is gone, -ENOMEM, or -EINTR if killed before the worker took it.
 */
int vhost_shmem_run_in_owner(struct vhost_shmem_dev *dev, vhost_shmem_fn fn,
			     void *arg, bool killable)
{
	struct mm_struct *mm = vhost_shmem_owner_mm(dev);
	struct vhost_shmem_work *work;
	int ret;

	if (!mm)
		return -EBADFD;
	/* With viewers, @fn hands itself to the worker: it adopts their mms. */
	if (current->mm == mm && !(current->flags & PF_KTHREAD)) {
		ret = fn(dev, arg);
		if (ret != VHOST_SHMEM_REQUEUE)
			return ret;
	}

	work = kmalloc(sizeof(*work), GFP_KERNEL);
	if (!work)
		return -ENOMEM;
	*work = (struct vhost_shmem_work) {
		.fn = fn,
		.arg = arg,
		.cred = current_cred(),
		.state = ATOMIC_INIT(VHOST_SHMEM_WORK_QUEUED),
	};
	init_completion(&work->done);
	if (llist_add(&work->node, &dev->worker.queue))
		wake_up_process(dev->worker.task);
	if (!killable) {
		wait_for_completion(&work->done);
	} else if (wait_for_completion_killable(&work->done)) {
		if (atomic_cmpxchg(&work->state, VHOST_SHMEM_WORK_QUEUED,
				   VHOST_SHMEM_WORK_CANCELLED) ==
		    VHOST_SHMEM_WORK_QUEUED)
			return -EINTR;	/* the worker frees it */
		/* Taken by the worker before we were killed: let it finish. */
		wait_for_completion(&work->done);
	}
	ret = work->ret;
	kfree(work);
	return ret;
}
