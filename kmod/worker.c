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

#include "vhost_shmem.h"

/**
 * struct vhost_shmem_work - one request for the worker
 * @node: entry in worker.queue
 * @fn: the operation, run in the owner's mm
 * @arg: its argument
 * @cred: the requester's credentials, valid while the requester waits
 * @ret: @fn's result, or -ESRCH when the owner's mm is gone
 * @done: completed when @ret is set. The requester owns this struct (on
 *	its stack) and frees it as soon as @done completes.
 */
struct vhost_shmem_work {
	struct llist_node node;
	vhost_shmem_fn fn;
	void *arg;
	const struct cred *cred;
	int ret;
	struct completion done;
};

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
	llist_for_each_entry_safe(work, next, node, node) {
		if (have_mm) {
			const struct cred *old_cred = override_creds(work->cred);

			work->ret = work->fn(dev, work->arg);
			revert_creds(old_cred);
		} else {
			work->ret = -ESRCH;
		}
		/* @work may be gone once completed: @next was read before. */
		complete(&work->done);
	}
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
 * @dev: the device; dev->mm and dev->memcg are set
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
 * @dev: the device, owned
 * @fn: the operation
 * @arg: its argument
 *
 * The owner calls @fn directly; anyone else queues it to the worker and
 * waits, holding no lock, until it ran. The wait is uninterruptible: @fn
 * takes bounded time and the work item lives on this stack.
 *
 * Return: @fn's result, or -ESRCH if the owner's mm is gone.
 */
int vhost_shmem_run_in_owner(struct vhost_shmem_dev *dev, vhost_shmem_fn fn,
			     void *arg)
{
	struct vhost_shmem_work work = {
		.fn = fn,
		.arg = arg,
		.cred = current_cred(),
	};

	if (current->mm == dev->mm)
		return fn(dev, arg);

	init_completion(&work.done);
	if (llist_add(&work.node, &dev->worker.queue))
		wake_up_process(dev->worker.task);
	wait_for_completion(&work.done);
	return work.ret;
}
