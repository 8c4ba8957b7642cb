// SPDX-License-Identifier: GPL-2.0
/*
 * VHOST_SHMEM_BATCH: several MAP/UNMAP in one ioctl. Each operation is
 * checked and prepared exactly as the single ioctl would (request.c),
 * then the whole batch runs in the owner's mm in one go: from another
 * process that is one hand-off to the worker for all of them instead of
 * one each.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vhost_shmem.h"

/**
 * struct vhost_shmem_batch_op - one operation, kernel side
 * @op: VHOST_SHMEM_OP_*
 * @ret: its result; set by prepare when a check failed
 * @ran: it ran in the owner's mm (@ret is final)
 * @map: the prepared MAP
 * @unmap: the UNMAP arguments
 */
struct vhost_shmem_batch_op {
	u32 op;
	int ret;
	bool ran;
	union {
		struct vhost_shmem_map_req map;
		struct vhost_shmem_unmap unmap;
	};
};

/**
 * struct vhost_shmem_batch_req - the argument of the whole batch
 * @ops: the operations; owned by the request until batch_finish()
 * @uops: where their results go
 * @nops: how many
 * @fault: a result could not be written back
 */
struct vhost_shmem_batch_req {
	struct vhost_shmem_batch_op *ops;
	struct vhost_shmem_op __user *uops;
	u32 nops;
	bool fault;
};

/* Runs in the owner's mm: every operation that passed its checks, in order. */
static int vhost_shmem_do_batch(struct vhost_shmem_dev *dev, void *arg)
{
	struct vhost_shmem_batch_req *req = arg;
	u32 i;

	int ret;

	for (i = 0; i < req->nops; i++) {
		struct vhost_shmem_batch_op *k = &req->ops[i];

		if (k->ret || k->ran)
			continue;
		if (k->op == VHOST_SHMEM_OP_MAP)
			ret = vhost_shmem_do_map(dev, &k->map);
		else
			ret = vhost_shmem_do_unmap(dev, &k->unmap);
		/* The rest runs in the worker (viewers); this one did not run. */
		if (ret == VHOST_SHMEM_REQUEUE)
			return ret;
		k->ret = ret;
		k->ran = true;
	}
	return 0;
}

static void prepare_op(struct vhost_shmem_dev *dev,
		       struct vhost_shmem_batch_op *k,
		       const struct vhost_shmem_op *u)
{
	k->op = u->op;
	switch (u->op) {
	case VHOST_SHMEM_OP_MAP:
		k->map.args = u->map;
		k->ret = vhost_shmem_map_prepare(dev, &k->map);
		break;
	case VHOST_SHMEM_OP_UNMAP:
		k->unmap = u->unmap;
		k->ret = vhost_shmem_unmap_prepare(dev, &k->unmap);
		break;
	default:
		k->ret = -EOPNOTSUPP;
	}
}

static void finish_op(struct vhost_shmem_dev *dev,
		      struct vhost_shmem_batch_op *k)
{
	if (k->op == VHOST_SHMEM_OP_MAP)
		vhost_shmem_map_finish(dev, &k->map, k->ret);
	else if (k->op == VHOST_SHMEM_OP_UNMAP)
		vhost_shmem_unmap_finish(dev, &k->unmap, k->ret);
}

/*
 * Every operation finished with its result; nothing ran ones get @err
 * (the owner's mm is gone, or killed). With @gone (the requester was
 * killed, this is the worker's copy) no result is written back.
 */
static void batch_finish(struct vhost_shmem_dev *dev, void *arg, int err,
			 bool gone)
{
	struct vhost_shmem_batch_req *req = arg;
	u32 i;

	for (i = 0; i < req->nops; i++) {
		struct vhost_shmem_batch_op *k = &req->ops[i];

		if (!k->ret && !k->ran)
			k->ret = err;
		finish_op(dev, k);
		if (!gone && put_user(k->ret, &req->uops[i].result))
			req->fault = true;
	}
	kfree(req->ops);
}

static const struct vhost_shmem_call batch_call = {
	.fn = vhost_shmem_do_batch,
	.finish = batch_finish,
	.size = sizeof(struct vhost_shmem_batch_req),
};

/**
 * vhost_shmem_batch() - the VHOST_SHMEM_BATCH ioctl
 * @dev: the device
 * @argp: struct vhost_shmem_batch
 *
 * Return: 0 once every operation ran (results in ops[i].result), or
 * EFAULT, EINVAL, E2BIG, ENOMEM with no operation run (see the uapi), or
 * EINTR when killed (then the process never sees it).
 */
long vhost_shmem_batch(struct vhost_shmem_dev *dev, void __user *argp)
{
	struct vhost_shmem_batch_req req = {};
	struct vhost_shmem_batch b;
	struct vhost_shmem_op *u;
	int err;
	u32 i;

	if (copy_from_user(&b, argp, sizeof(b)))
		return -EFAULT;
	if (!b.nops || b.padding)
		return -EINVAL;
	if (b.nops > VHOST_SHMEM_BATCH_MAX)
		return -E2BIG;
	req.uops = u64_to_user_ptr(b.ops);
	u = memdup_user(req.uops, array_size(b.nops, sizeof(*u)));
	if (IS_ERR(u))
		return PTR_ERR(u);
	req.ops = kcalloc(b.nops, sizeof(*req.ops), GFP_KERNEL);
	if (!req.ops) {
		kfree(u);
		return -ENOMEM;
	}
	req.nops = b.nops;

	err = -EBADFD;
	for (i = 0; i < req.nops; i++) {
		prepare_op(dev, &req.ops[i], &u[i]);
		if (!req.ops[i].ret)
			err = 0;
	}
	kfree(u);
	/* Only a batch with something to run needs the owner (and a worker). */
	if (err) {
		batch_finish(dev, &req, err, false);
	} else {
		err = vhost_shmem_run_in_owner(dev, &batch_call, &req);
		/* Killed: the worker has the operations now, or finished them. */
		if (err == -EINTR)
			return err;
	}
	return req.fault ? -EFAULT : 0;
}
