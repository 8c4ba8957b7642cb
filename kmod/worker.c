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
 *
 * A requester waits killable, always. Killed, it abandons its request and
 * returns at once: the request is a heap object holding a copy of its
 * argument and the requester's credentials, which the worker finishes and
 * frees. If the worker is still waiting for the owner's mmap_lock for it
 * (the owner's own threads may hold it as long as they like), the
 * requester also sends the worker a SIGKILL (allow_kernel_signal(): only
 * the kernel's own signals reach it), which ends that wait before anything
 * changed; see vhost_shmem_commit(). The worker also does the device's
 * final release (vhost_shmem_worker_release()), so that close() never
 * waits uninterruptibly for the owner either.
 */
#include <linux/cred.h>
#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vhost_shmem.h"

/* States of a request, changed under worker.lock; see struct vhost_shmem_work. */
enum {
	VHOST_SHMEM_WORK_QUEUED,
	VHOST_SHMEM_WORK_RUNNING,
	VHOST_SHMEM_WORK_COMMITTED,
	VHOST_SHMEM_WORK_DONE,
};

/**
 * struct vhost_shmem_work - one request for the worker
 * @node: entry in worker.queue
 * @call: what to run and how to finish it
 * @arg: the worker's copy of the argument (@call->size bytes, after this
 *	struct), or NULL
 * @cred: the requester's credentials, get_cred()ed; put with the request
 * @refs: the requester's (while it waits) and the worker's
 * @state: QUEUED, RUNNING (taken by the worker: it may still give it up),
 *	COMMITTED (it will run to the end), DONE (@ret and @arg are final).
 *	Under worker.lock.
 * @gone: the requester was killed and left: the worker finishes @arg
 *	(@call->finish) and no one reads @ret. Under worker.lock.
 * @waited: a requester waits for it (not the reap, not the release)
 * @ret: @call->fn's result, -ESRCH when the owner's mm is gone, or
 *	-EINTR when given up
 * @done: completed once DONE, for the requester
 *
 * Lifetime: allocated by the requester, freed by whoever drops the last
 * of @refs. The requester touches @arg only after DONE; the worker only
 * between QUEUED and DONE, and after DONE when @gone.
 */
struct vhost_shmem_work {
	struct llist_node node;
	const struct vhost_shmem_call *call;
	void *arg;
	const struct cred *cred;
	refcount_t refs;
	int state;
	bool gone;
	bool waited;
	int ret;
	struct completion done;
};

static struct vhost_shmem_work *work_alloc(const struct vhost_shmem_call *call,
					   void *arg, bool waited)
{
	struct vhost_shmem_work *work;

	work = kmalloc(sizeof(*work) + call->size, GFP_KERNEL);
	if (!work)
		return NULL;
	*work = (struct vhost_shmem_work) {
		.call = call,
		.arg = call->size ? memcpy(work + 1, arg, call->size) : NULL,
		.cred = get_current_cred(),
		.refs = REFCOUNT_INIT(waited ? 2 : 1),
		.state = VHOST_SHMEM_WORK_QUEUED,
		.waited = waited,
	};
	init_completion(&work->done);
	return work;
}

static void work_put(struct vhost_shmem_work *work)
{
	if (!refcount_dec_and_test(&work->refs))
		return;
	put_cred(work->cred);
	kfree(work);
}

static void work_queue(struct vhost_shmem_dev *dev, struct vhost_shmem_work *work)
{
	if (llist_add(&work->node, &dev->worker.queue))
		wake_up_process(dev->worker.task);
}

/**
 * vhost_shmem_commit() - the last point where the worker gives a request up
 * @dev: the device
 * @work: the request, RUNNING
 *
 * Waits for the owner's mmap_lock, killable: an abandoning requester's
 * SIGKILL ends the wait. Once the lock was had (it is dropped again at
 * once: vm_mmap() and vm_munmap() take it themselves), the request is
 * COMMITTED and no signal comes for it any more, so everything it then
 * does, its undo included, runs as if uninterruptible. A requester killed
 * after that only leaves; the request still happens in full.
 *
 * Return: true if committed, false if given up (nothing was changed).
 */
static bool vhost_shmem_commit(struct vhost_shmem_dev *dev,
			       struct vhost_shmem_work *work)
{
	bool ok;

	if (mmap_write_lock_killable(current->mm))
		return false;
	mmap_write_unlock(current->mm);
	spin_lock(&dev->worker.lock);
	ok = !work->gone;
	if (ok)
		work->state = VHOST_SHMEM_WORK_COMMITTED;
	spin_unlock(&dev->worker.lock);
	return ok;
}

/* Runs in the owner's mm when @have_mm. */
static void vhost_shmem_run_work(struct vhost_shmem_dev *dev,
				 struct vhost_shmem_work *work, bool have_mm)
{
	const struct cred *old_cred;
	bool gone;
	int ret;

	spin_lock(&dev->worker.lock);
	gone = work->gone;
	if (!gone)
		work->state = VHOST_SHMEM_WORK_RUNNING;
	spin_unlock(&dev->worker.lock);

	if (gone) {
		ret = -EINTR;	/* killed while queued: never started */
	} else if (!have_mm) {
		ret = -ESRCH;
	} else if (work->waited && !vhost_shmem_commit(dev, work)) {
		ret = -EINTR;
	} else {
		old_cred = override_creds(work->cred);
		ret = work->call->fn(dev, work->arg);
		revert_creds(old_cred);
	}

	work->ret = ret;
	spin_lock(&dev->worker.lock);
	work->state = VHOST_SHMEM_WORK_DONE;
	gone = work->gone;
	spin_unlock(&dev->worker.lock);
	if (gone) {
		/* Any SIGKILL for it was sent before @gone was set: all here. */
		flush_signals(current);
		if (work->call->finish)
			work->call->finish(dev, work->arg, ret, true);
	} else {
		complete(&work->done);
	}
	work_put(work);
}

/* Return: true if the device's final release was among them. */
static bool vhost_shmem_run_batch(struct vhost_shmem_dev *dev,
				  struct llist_node *node)
{
	struct vhost_shmem_work *work, *next;
	struct mem_cgroup *old_memcg;
	bool have_mm = mmget_not_zero(dev->mm);
	bool released = false;

	if (have_mm) {
		kthread_use_mm(dev->mm);
		old_memcg = set_active_memcg(dev->memcg);
	}
	/* @work may be gone once run: @next is read before. */
	llist_for_each_entry_safe(work, next, node, node) {
		/* Nothing can be queued after the release (see release). */
		WARN_ON_ONCE(released);
		released = work->call == &vhost_shmem_release_call;
		vhost_shmem_run_work(dev, work, have_mm);
	}
	if (have_mm) {
		set_active_memcg(old_memcg);
		kthread_unuse_mm(dev->mm);
		/* The last reference may be ours: never tear an mm down here. */
		mmput_async(dev->mm);
	}
	return released;
}

static int vhost_shmem_worker_fn(void *data)
{
	struct vhost_shmem_dev *dev = data;
	struct llist_node *node;

	/* Only send_sig(..., 1) from vhost_shmem_run_in_owner() gets here. */
	allow_kernel_signal(SIGKILL);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		node = llist_del_all(&dev->worker.queue);
		if (!node) {
			if (kthread_should_stop()) {
				__set_current_state(TASK_RUNNING);
				break;
			}
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		if (vhost_shmem_run_batch(dev, llist_reverse_order(node))) {
			/* The device may be freed by this: touch it no more. */
			vhost_shmem_dev_released(dev);
			break;
		}
		cond_resched();
	}
	module_put_and_kthread_exit(0);
}

/**
 * vhost_shmem_worker_start() - create the worker of a device at SET_OWNER
 * @dev: the device, before dev->mm is published: the worker sleeps until
 *	the first request, which can only come once it is
 *
 * The worker holds a reference to the module: it may outlive the device
 * file (it finishes the release).
 *
 * Return: 0 or a negative errno.
 */
int vhost_shmem_worker_start(struct vhost_shmem_dev *dev)
{
	struct vhost_shmem_work *final;
	struct task_struct *task;

	init_llist_head(&dev->worker.queue);
	spin_lock_init(&dev->worker.lock);
	final = work_alloc(&vhost_shmem_release_call, NULL, false);
	if (!final)
		return -ENOMEM;
	__module_get(THIS_MODULE);
	task = kthread_create(vhost_shmem_worker_fn, dev, "vhost-shmem-%d",
			      current->pid);
	if (IS_ERR(task)) {
		module_put(THIS_MODULE);
		work_put(final);
		return PTR_ERR(task);
	}
	dev->worker.task = task;
	dev->worker.final = final;
	wake_up_process(task);
	return 0;
}

/**
 * vhost_shmem_worker_stop() - stop a worker that never ran a request
 * @dev: the device, in SET_OWNER's error path (dev->mm never published)
 */
void vhost_shmem_worker_stop(struct vhost_shmem_dev *dev)
{
	/* -EINTR: stopped before vhost_shmem_worker_fn() ran, which puts it. */
	if (kthread_stop(dev->worker.task) == -EINTR)
		module_put(THIS_MODULE);
	dev->worker.task = NULL;
	work_put(dev->worker.final);
	dev->worker.final = NULL;
}

/**
 * vhost_shmem_worker_release() - hand the device's release to the worker
 * @dev: the device, whose file is being released; it has an owner
 *
 * Queued last: no request can come after it (every requester holds the
 * device file; the reap is cancelled before, see vhost_shmem_release()).
 * The worker removes the mappings from a live owner, then calls
 * vhost_shmem_dev_released(). A task waits for that, killable, so that a
 * close() returns with the owner's regions empty as before; a killed task
 * (and a kthread, the last fput of a delayed fput) leaves it to the worker.
 */
void vhost_shmem_worker_release(struct vhost_shmem_dev *dev)
{
	struct vhost_shmem_work *final = dev->worker.final;

	refcount_inc(&dev->obs.refs);
	/* Teardown unmaps with the releaser's credentials, as it always did. */
	put_cred(final->cred);
	final->cred = get_current_cred();
	work_queue(dev, final);
	if (!(current->flags & PF_KTHREAD) &&
	    wait_for_completion_killable(&dev->released))
		pr_debug("vhost-shmem: release left to the worker\n");
	vhost_shmem_dev_put(dev);
}

/*
 * The requester was killed: give @work up. Return: false if it is DONE
 * already (its result is there to take), true if the worker finishes it.
 */
static bool vhost_shmem_abandon(struct vhost_shmem_dev *dev,
				struct vhost_shmem_work *work)
{
	bool gone;

	spin_lock(&dev->worker.lock);
	gone = work->state != VHOST_SHMEM_WORK_DONE;
	work->gone = gone;
	/* Waiting in vhost_shmem_commit(): end that wait. */
	if (work->state == VHOST_SHMEM_WORK_RUNNING)
		send_sig(SIGKILL, dev->worker.task, 1);
	spin_unlock(&dev->worker.lock);
	return gone;
}

/**
 * vhost_shmem_run_in_owner() - run a request with current->mm == the owner's
 * @dev: the device
 * @call: the operation and how to finish its argument
 * @arg: its argument (@call->size bytes); @call->finish(@arg) is called
 *	exactly once, before this returns, or by the worker when killed
 *
 * The owner calls @call->fn directly (unless it returns VHOST_SHMEM_REQUEUE:
 * the region has viewers); anyone else queues a copy of @arg to the worker
 * and waits, killable and holding no lock, for it to run; the copy is
 * copied back.
 *
 * Return: @call->fn's result, -EBADFD before SET_OWNER, -ESRCH if the
 * owner's mm is gone, -ENOMEM, or -EINTR if killed. Then the request either
 * never ran or runs in full; the worker finishes @arg's copy, and the
 * caller must not touch anything @arg owns.
 */
int vhost_shmem_run_in_owner(struct vhost_shmem_dev *dev,
			     const struct vhost_shmem_call *call, void *arg)
{
	struct mm_struct *mm = vhost_shmem_owner_mm(dev);
	struct vhost_shmem_work *work;
	int ret = -EBADFD;

	if (!mm)
		goto finish;
	/* With viewers, @fn hands itself to the worker: it adopts their mms. */
	if (current->mm == mm && !(current->flags & PF_KTHREAD)) {
		ret = call->fn(dev, arg);
		if (ret != VHOST_SHMEM_REQUEUE)
			goto finish;
	}

	ret = -ENOMEM;
	work = work_alloc(call, arg, true);
	if (!work)
		goto finish;
	work_queue(dev, work);
	if (wait_for_completion_killable(&work->done) &&
	    vhost_shmem_abandon(dev, work)) {
		work_put(work);
		return -EINTR;
	}
	/* DONE: written before the state, under worker.lock or complete(). */
	ret = work->ret;
	if (call->size)
		memcpy(arg, work->arg, call->size);
	work_put(work);
finish:
	if (call->finish)
		call->finish(dev, arg, ret, false);
	return ret;
}

/**
 * vhost_shmem_run_nowait() - queue @call to the worker without waiting
 * @dev: the device, with an owner
 * @call: an operation without argument
 *
 * For the reap (view.c), which no one waits for. Not killable, no commit
 * point. Out of memory, nothing is queued: the next MAP or UNMAP reaps.
 */
void vhost_shmem_run_nowait(struct vhost_shmem_dev *dev,
			    const struct vhost_shmem_call *call)
{
	struct vhost_shmem_work *work = work_alloc(call, NULL, false);

	if (work)
		work_queue(dev, work);
}
