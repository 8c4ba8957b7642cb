// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-shmem observability: a registry of open devices, the generic
 * netlink family "vhost-shmem" (Documentation/netlink/specs/vhost_shmem.yaml)
 * and the vhost_shmem:* tracepoints.
 *
 * Dumps find each device in the registry under vhost_shmem_devs_lock, take
 * a reference on it (obs.refs) and drop the lock before they wait for the
 * device's mutex, so open() and close() never wait behind a dump; a device
 * is filled under its own mutex, so a MAP or UNMAP is never seen half
 * done. They resume from cb->args: [0] the device id, [1] the shmid, [2]
 * the page index in the region's maple tree where the next mapping starts.
 *
 * Events are sent to the "events" group only when someone listens. MAP and
 * UNMAP events are sent after the request returned, so for concurrent
 * requests on one device they come in completion order.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kdev_t.h>
#include <linux/maple_tree.h>
#include <linux/mman.h>
#include <linux/delay.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <net/genetlink.h>

#include "vhost_shmem.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/*
 * Protects the registry and the ids; held only to look up, add or remove a
 * device (never while waiting on one); outside every dev->mutex.
 */
static DEFINE_MUTEX(vhost_shmem_devs_lock);
static DEFINE_XARRAY_ALLOC1(vhost_shmem_devs);
static u32 vhost_shmem_next_id;

/* The errnos of MAP and UNMAP (uapi header); the last bucket is "other". */
static const int vhost_shmem_errnos[] = {
	EINVAL, EOPNOTSUPP, EBADSLT, ERANGE, EOVERFLOW, EBADF, ELOOP,
	ENODEV, EACCES, EEXIST, ENXIO, EXDEV, ENOSPC, ENOMEM,
	ESRCH, EBADFD, ENOENT, EPERM, EBUSY, EFAULT,
};

static_assert(ARRAY_SIZE(vhost_shmem_errnos) == VHOST_SHMEM_NR_ERRNOS - 1);

static const struct nla_policy vhost_shmem_nl_policy[VHOST_SHMEM_A_DEV_ID + 1] = {
	/* The same number in every attribute set: the device filter. */
	[VHOST_SHMEM_A_DEV_ID] = { .type = NLA_U32 },
};

static const struct genl_multicast_group vhost_shmem_nl_mcgrps[] = {
	{ .name = VHOST_SHMEM_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN },
};

static struct genl_family vhost_shmem_nl_family;

/* Attributes of one mapping, and of its backend file when @file is set. */
static int put_mapping(struct sk_buff *skb, u32 dev_id, u32 shmid,
		       u64 shm_offset, u64 len, u64 fd_offset, u64 flags,
		       struct file *file, char *buf)
{
	struct inode *inode;
	char *path;

	if (nla_put_u32(skb, VHOST_SHMEM_A_MAP_DEV_ID, dev_id) ||
	    nla_put_u32(skb, VHOST_SHMEM_A_MAP_SHMID, shmid) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_MAP_SHM_OFFSET, shm_offset,
			      VHOST_SHMEM_A_MAP_PAD) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_MAP_LEN, len,
			      VHOST_SHMEM_A_MAP_PAD) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_MAP_FD_OFFSET, fd_offset,
			      VHOST_SHMEM_A_MAP_PAD) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_MAP_FLAGS, flags,
			      VHOST_SHMEM_A_MAP_PAD))
		return -EMSGSIZE;
	if (!file)
		return 0;
	inode = file_inode(file);
	if (nla_put_u32(skb, VHOST_SHMEM_A_MAP_FILE_DEV_MAJOR,
			MAJOR(inode->i_sb->s_dev)) ||
	    nla_put_u32(skb, VHOST_SHMEM_A_MAP_FILE_DEV_MINOR,
			MINOR(inode->i_sb->s_dev)) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_MAP_FILE_INO, inode->i_ino,
			      VHOST_SHMEM_A_MAP_PAD))
		return -EMSGSIZE;
	if (!buf)
		return 0;
	path = file_path(file, buf, PAGE_SIZE);
	if (!IS_ERR(path) && nla_put_string(skb, VHOST_SHMEM_A_MAP_FILE_PATH, path))
		return -EMSGSIZE;
	return 0;
}

/* Attributes of a device. dev->mutex held. */
static int put_dev(struct sk_buff *skb, struct vhost_shmem_dev *dev)
{
	struct vhost_shmem_obs *obs = &dev->obs;
	unsigned int i, nregions = 0;
	struct nlattr *nest;
	long n;

	/* Pairs with SET_CONFIG's release: the regions are complete. */
	if (smp_load_acquire(&dev->configured))
		for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++)
			nregions += !!dev->regions[i].size;
	if (nla_put_u32(skb, VHOST_SHMEM_A_DEV_ID, obs->id) ||
	    (obs->owner_pid &&
	     (nla_put_u32(skb, VHOST_SHMEM_A_DEV_OWNER_PID, obs->owner_pid) ||
	      nla_put_string(skb, VHOST_SHMEM_A_DEV_OWNER_COMM, obs->owner_comm))) ||
	    nla_put_u32(skb, VHOST_SHMEM_A_DEV_NREGIONS, nregions) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_DEV_MAPPINGS, dev->nr_mappings,
			      VHOST_SHMEM_A_DEV_PAD) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_DEV_MAPPED_BYTES,
			      dev->mapped_bytes, VHOST_SHMEM_A_DEV_PAD) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_DEV_MAPS, dev->maps,
			      VHOST_SHMEM_A_DEV_PAD) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_DEV_UNMAPS, dev->unmaps,
			      VHOST_SHMEM_A_DEV_PAD) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_DEV_FAILURES, atomic64_read(&dev->failures),
			      VHOST_SHMEM_A_DEV_PAD))
		return -EMSGSIZE;
	for (i = 0; i < VHOST_SHMEM_NR_ERRNOS; i++) {
		n = atomic_long_read(&obs->errors[i]);
		if (!n)
			continue;
		nest = nla_nest_start(skb, VHOST_SHMEM_A_DEV_ERRORS);
		if (!nest)
			return -EMSGSIZE;
		if (nla_put_u32(skb, VHOST_SHMEM_A_ERROR_CODE,
				i < ARRAY_SIZE(vhost_shmem_errnos) ?
				vhost_shmem_errnos[i] : 0) ||
		    nla_put_u64_64bit(skb, VHOST_SHMEM_A_ERROR_COUNT, n,
				      VHOST_SHMEM_A_ERROR_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
		nla_nest_end(skb, nest);
	}
	return 0;
}

/*
 * One VIEWERS nest: the viewer's immutable attributes (and @result, for
 * attach events, when @with_result). No lock needed.
 */
static int put_viewer(struct sk_buff *skb, struct vhost_shmem_viewer *v,
		      bool with_result, int result)
{
	struct nlattr *nest = nla_nest_start(skb, VHOST_SHMEM_A_REGION_VIEWERS);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, VHOST_SHMEM_A_VIEWER_PID, v->pid) ||
	    nla_put_string(skb, VHOST_SHMEM_A_VIEWER_COMM, v->comm) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_VIEWER_OFFSET, v->space.off,
			      VHOST_SHMEM_A_VIEWER_PAD) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_VIEWER_LEN, v->space.len,
			      VHOST_SHMEM_A_VIEWER_PAD) ||
	    nla_put_u32(skb, VHOST_SHMEM_A_VIEWER_PROT,
			PROT_READ | (v->rw ? PROT_WRITE : 0)) ||
	    (with_result &&
	     nla_put_s32(skb, VHOST_SHMEM_A_VIEWER_RESULT, result))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * A region and its attached viewers, dev->mutex held. Viewers that do not
 * fit are left out only when @alone (the message is the skb's first: a
 * bigger skb will not come); otherwise the message must go to the next.
 */
static int put_region(struct sk_buff *skb, u32 dev_id, u32 shmid,
		      struct vhost_shmem_region *region, bool alone)
{
	/* Pairs with the release in the region's ->mmap. */
	unsigned long addr = smp_load_acquire(&region->owner.addr);
	struct vhost_shmem_viewer *v;
	u32 n = 0;

	list_for_each_entry(v, &region->viewers, node)
		n += !READ_ONCE(v->space.detached);
	if (nla_put_u32(skb, VHOST_SHMEM_A_REGION_DEV_ID, dev_id) ||
	    nla_put_u32(skb, VHOST_SHMEM_A_REGION_SHMID, shmid) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_REGION_SIZE, region->size,
			      VHOST_SHMEM_A_REGION_PAD) ||
	    nla_put_u32(skb, VHOST_SHMEM_A_REGION_FLAGS, region->flags) ||
	    nla_put_u64_64bit(skb, VHOST_SHMEM_A_REGION_ADDR, addr,
			      VHOST_SHMEM_A_REGION_PAD) ||
	    nla_put_u32(skb, VHOST_SHMEM_A_REGION_NVIEWERS, n))
		return -EMSGSIZE;
	list_for_each_entry(v, &region->viewers, node) {
		if (READ_ONCE(v->space.detached))
			continue;
		if (put_viewer(skb, v, false, 0))
			return alone ? 0 : -EMSGSIZE;
	}
	return 0;
}

/* ---- dumps ---- */

/* The device filter of a dump request, 0 for every device. */
static u32 dump_filter(struct netlink_callback *cb)
{
	const struct nlattr *attr;

	/* The request was validated against the family policy. */
	attr = nlmsg_find_attr(cb->nlh, GENL_HDRLEN, VHOST_SHMEM_A_DEV_ID);
	return attr ? nla_get_u32(attr) : 0;
}

static void *dump_start(struct sk_buff *skb, struct netlink_callback *cb,
			u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			   &vhost_shmem_nl_family, NLM_F_MULTI, cmd);
}

/* What a dump callback returns: its length, or the error of an empty skb. */
static int dump_result(struct sk_buff *skb, int err)
{
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ? err : skb->len;
}

/* How long a dump or an event waits for a busy device. */
#define VHOST_SHMEM_NL_WAIT_MS	100

/*
 * A dump never waits on a busy device without bound: a MAP holds
 * dev->mutex for microseconds, but a RESET of many mappings or a stuck
 * request (the owner's mmap_lock held for long) holds it much longer and
 * must not stall the dumper. The bound is time, not a number of tries:
 * a sleep can take several times what it asks for (4 ms for 1 ms under
 * QEMU TCG). Return: 0 with dev->mutex held, -EBUSY once the device stayed
 * busy for VHOST_SHMEM_NL_WAIT_MS, or -EINTR on a fatal signal.
 */
static int lock_dev_bounded(struct vhost_shmem_dev *dev)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(VHOST_SHMEM_NL_WAIT_MS);

	for (;;) {
		if (mutex_trylock(&dev->mutex))
			return 0;
		if (fatal_signal_pending(current))
			return -EINTR;
		if (time_after(jiffies, deadline))
			return -EBUSY;
		usleep_range(1000, 2000);
	}
}

/*
 * The listed device with the lowest id in [*@id, @last], referenced, with
 * its id in *@id; NULL if none. The registry lock is held only here.
 */
static struct vhost_shmem_dev *dev_get_next(unsigned long *id,
					    unsigned long last)
{
	struct vhost_shmem_dev *dev;

	mutex_lock(&vhost_shmem_devs_lock);
	dev = xa_find(&vhost_shmem_devs, id, last, XA_PRESENT);
	/* Listed devices hold the registry's reference: never zero here. */
	if (dev)
		refcount_inc(&dev->obs.refs);
	mutex_unlock(&vhost_shmem_devs_lock);
	return dev;
}

/*
 * Calls @fill for each registered device from cb->args[0] (or the filtered
 * one), each under its mutex, until @fill fails; cb->args[0] keeps the
 * device to resume at, @fill keeps its own cursor in cb->args[1..]. The
 * bounded wait for a busy device is done holding only a reference on it.
 */
static int dump_devs(struct sk_buff *skb, struct netlink_callback *cb,
		     int (*fill)(struct sk_buff *skb,
				 struct netlink_callback *cb,
				 struct vhost_shmem_dev *dev, char *buf),
		     bool need_buf)
{
	u32 filter = dump_filter(cb);
	unsigned long id = cb->args[0] ? cb->args[0] : 1;
	unsigned long last = filter ? filter : ULONG_MAX;
	struct vhost_shmem_dev *dev;
	char *buf = NULL;
	int err = 0;

	if (filter && id > filter)
		return 0;
	if (filter)
		id = filter;
	if (need_buf) {
		buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
	}
	while ((dev = dev_get_next(&id, last))) {
		if (id != cb->args[0]) {
			/* A new device: its own cursors start over. */
			cb->args[0] = id;
			cb->args[1] = 0;
			cb->args[2] = 0;
		}
		err = lock_dev_bounded(dev);
		if (!err) {
			/* Unlisted while we waited: closed, as if before. */
			if (!READ_ONCE(dev->obs.unlisted))
				err = fill(skb, cb, dev, buf);
			mutex_unlock(&dev->mutex);
		}
		vhost_shmem_dev_put(dev);
		if (err)
			break;
		cb->args[0] = id + 1;
		cb->args[1] = 0;
		cb->args[2] = 0;
		if (id++ == last)
			break;
	}
	kfree(buf);
	/* A filtered dump of a device that is not listed. */
	if (!err && filter && !cb->args[0])
		err = -ENODEV;
	/* A filtered dump is over once its device was done. */
	if (!err && filter)
		cb->args[0] = filter + 1UL;
	return dump_result(skb, err);
}

static int fill_dev(struct sk_buff *skb, struct netlink_callback *cb,
		    struct vhost_shmem_dev *dev, char *buf)
{
	void *hdr = dump_start(skb, cb, VHOST_SHMEM_CMD_DEV_GET);

	if (!hdr)
		return -EMSGSIZE;
	if (put_dev(skb, dev)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int fill_regions(struct sk_buff *skb, struct netlink_callback *cb,
			struct vhost_shmem_dev *dev, char *buf)
{
	unsigned long shmid;
	bool alone;
	void *hdr;

	/* Pairs with SET_CONFIG's release: the regions are complete. */
	if (!smp_load_acquire(&dev->configured))
		return 0;
	for (shmid = cb->args[1]; shmid < VHOST_SHMEM_MAX_REGIONS; shmid++) {
		if (!dev->regions[shmid].size)
			continue;
		alone = !skb->len;
		hdr = dump_start(skb, cb, VHOST_SHMEM_CMD_REGION_GET);
		if (!hdr)
			goto full;
		if (put_region(skb, dev->obs.id, shmid, &dev->regions[shmid],
			       alone)) {
			genlmsg_cancel(skb, hdr);
			goto full;
		}
		genlmsg_end(skb, hdr);
	}
	return 0;
full:
	cb->args[1] = shmid;
	return -EMSGSIZE;
}

static int fill_mappings(struct sk_buff *skb, struct netlink_callback *cb,
			 struct vhost_shmem_dev *dev, char *buf)
{
	struct vhost_shmem_mapping *m;
	unsigned long shmid, index;
	void *hdr;

	for (shmid = cb->args[1]; shmid < VHOST_SHMEM_MAX_REGIONS; shmid++) {
		index = shmid == cb->args[1] ? cb->args[2] : 0;
		/* dev->mutex keeps every entry alive; mt_find() advances @index. */
		while ((m = mt_find(&dev->regions[shmid].mappings, &index,
				    ULONG_MAX))) {
			hdr = dump_start(skb, cb, VHOST_SHMEM_CMD_MAP_GET);
			if (!hdr)
				goto full;
			if (put_mapping(skb, dev->obs.id, shmid, m->shm_offset,
					m->len, m->fd_offset, m->flags, m->file,
					buf)) {
				genlmsg_cancel(skb, hdr);
				goto full;
			}
			genlmsg_end(skb, hdr);
		}
	}
	return 0;
full:
	cb->args[1] = shmid;
	cb->args[2] = m->shm_offset >> PAGE_SHIFT;
	return -EMSGSIZE;
}

static int vhost_shmem_nl_dev_dump(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	return dump_devs(skb, cb, fill_dev, false);
}

static int vhost_shmem_nl_region_dump(struct sk_buff *skb,
				      struct netlink_callback *cb)
{
	return dump_devs(skb, cb, fill_regions, false);
}

static int vhost_shmem_nl_map_dump(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	return dump_devs(skb, cb, fill_mappings, true);
}

/* Admin only: CAP_NET_ADMIN in the initial user namespace. */
static const struct genl_small_ops vhost_shmem_nl_ops[] = {
	{
		.cmd = VHOST_SHMEM_CMD_DEV_GET,
		.flags = GENL_ADMIN_PERM,
		.dumpit = vhost_shmem_nl_dev_dump,
	},
	{
		.cmd = VHOST_SHMEM_CMD_REGION_GET,
		.flags = GENL_ADMIN_PERM,
		.dumpit = vhost_shmem_nl_region_dump,
	},
	{
		.cmd = VHOST_SHMEM_CMD_MAP_GET,
		.flags = GENL_ADMIN_PERM,
		.dumpit = vhost_shmem_nl_map_dump,
	},
};

static struct genl_family vhost_shmem_nl_family = {
	.name = VHOST_SHMEM_FAMILY_NAME,
	.version = VHOST_SHMEM_FAMILY_VERSION,
	.maxattr = VHOST_SHMEM_A_DEV_ID,
	.policy = vhost_shmem_nl_policy,
	.module = THIS_MODULE,
	/* Our own locks only: never genl_mutex while waiting on a device. */
	.parallel_ops = true,
	.small_ops = vhost_shmem_nl_ops,
	.n_small_ops = ARRAY_SIZE(vhost_shmem_nl_ops),
	.mcgrps = vhost_shmem_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(vhost_shmem_nl_mcgrps),
};

/* ---- events ---- */

static bool have_listeners(void)
{
	return genl_has_listeners(&vhost_shmem_nl_family, &init_net, 0);
}

static struct sk_buff *event_new(u8 cmd, void **hdr)
{
	struct sk_buff *skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);

	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &vhost_shmem_nl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void event_send(struct sk_buff *skb, void *hdr, int err)
{
	if (err) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast(&vhost_shmem_nl_family, skb, 0, 0, GFP_KERNEL);
}

static void dev_event(struct vhost_shmem_dev *dev, u8 cmd)
{
	struct sk_buff *skb;
	void *hdr;
	int err;

	if (!have_listeners())
		return;
	skb = event_new(cmd, &hdr);
	if (!skb)
		return;
	/* Called after requests, also by killed requesters: never stuck. */
	err = lock_dev_bounded(dev);
	if (!err) {
		err = put_dev(skb, dev);
		mutex_unlock(&dev->mutex);
	}
	event_send(skb, hdr, err);
}

static void count_error(struct vhost_shmem_dev *dev, int ret)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vhost_shmem_errnos); i++)
		if (vhost_shmem_errnos[i] == -ret)
			break;
	atomic_long_inc(&dev->obs.errors[i]);
}

/*
 * The backend file of the mapping a MAP just made (@a), put into @skb:
 * only the table knows it, so this takes dev->mutex (bounded). Return: 0,
 * also when a concurrent UNMAP or RESET removed the mapping already (no
 * file then), -EBUSY when the device stayed busy, -EINTR, or -EMSGSIZE.
 */
static int put_mapped(struct sk_buff *skb, struct vhost_shmem_dev *dev,
		      const struct vhost_shmem_map *a)
{
	struct vhost_shmem_mapping *m;
	char *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	int err;

	err = lock_dev_bounded(dev);
	if (err) {
		kfree(buf);
		return err;
	}
	m = mtree_load(&dev->regions[a->shmid].mappings,
		       a->shm_offset >> PAGE_SHIFT);
	if (m && (m->shm_offset != a->shm_offset || m->len != a->len))
		m = NULL;
	err = put_mapping(skb, dev->obs.id, a->shmid, a->shm_offset, a->len,
			  a->fd_offset, a->flags, m ? m->file : NULL, buf);
	mutex_unlock(&dev->mutex);
	kfree(buf);
	return err;
}

/**
 * vhost_shmem_nl_map() - a MAP request returned
 * @dev: the device
 * @a: the request's arguments
 * @ret: its result, 0 or a negative errno
 * @refused_by: pid of the viewer whose mm could not take the mapping, 0
 *	if none did (the owner's refused it, or the request failed before)
 *
 * Fires the tracepoint, counts a failure by errno and sends the event; on
 * success the event names the backend file the table now holds (looked
 * up under dev->mutex, bounded: not sent if the device stays busy), on
 * a failure a viewer caused it names that viewer. A failed MAP's event
 * is built from the request alone and never waits for the device: it is
 * sent however long another request holds it.
 */
void vhost_shmem_nl_map(struct vhost_shmem_dev *dev,
			const struct vhost_shmem_map *a, int ret,
			pid_t refused_by)
{
	struct sk_buff *skb;
	void *hdr;
	int err;

	trace_vhost_shmem_map(dev->obs.id, a->shmid, a->shm_offset, a->len,
			      a->fd_offset, a->flags, ret);
	if (ret)
		count_error(dev, ret);
	if (!have_listeners())
		return;
	skb = event_new(VHOST_SHMEM_CMD_MAP_NTF, &hdr);
	if (!skb)
		return;
	if (!ret)
		err = put_mapped(skb, dev, a);
	else
		err = put_mapping(skb, dev->obs.id, a->shmid, a->shm_offset,
				  a->len, a->fd_offset, a->flags, NULL, NULL);
	err = err ?: nla_put_s32(skb, VHOST_SHMEM_A_MAP_RESULT, ret);
	if (!err && ret && refused_by)
		err = nla_put_u32(skb, VHOST_SHMEM_A_MAP_VIEWER_PID, refused_by);
	event_send(skb, hdr, err);
}

/**
 * vhost_shmem_nl_unmap() - an UNMAP request returned
 * @dev: the device
 * @a: the request's arguments
 * @ret: its result, 0 or a negative errno
 */
void vhost_shmem_nl_unmap(struct vhost_shmem_dev *dev,
			  const struct vhost_shmem_unmap *a, int ret)
{
	struct sk_buff *skb;
	void *hdr;
	int err;

	trace_vhost_shmem_unmap(dev->obs.id, a->shmid, a->shm_offset, a->len,
				0, 0, ret);
	if (ret)
		count_error(dev, ret);
	if (!have_listeners())
		return;
	skb = event_new(VHOST_SHMEM_CMD_UNMAP_NTF, &hdr);
	if (!skb)
		return;
	err = nla_put_u32(skb, VHOST_SHMEM_A_MAP_DEV_ID, dev->obs.id) ||
	      nla_put_u32(skb, VHOST_SHMEM_A_MAP_SHMID, a->shmid) ||
	      nla_put_u64_64bit(skb, VHOST_SHMEM_A_MAP_SHM_OFFSET,
				a->shm_offset, VHOST_SHMEM_A_MAP_PAD) ||
	      nla_put_u64_64bit(skb, VHOST_SHMEM_A_MAP_LEN, a->len,
				VHOST_SHMEM_A_MAP_PAD) ||
	      nla_put_s32(skb, VHOST_SHMEM_A_MAP_RESULT, ret);
	event_send(skb, hdr, err);
}

/**
 * vhost_shmem_nl_reset() - every mapping of @dev was dropped
 * @dev: the device, its mutex held
 * @removed: how many mappings were removed
 */
void vhost_shmem_nl_reset(struct vhost_shmem_dev *dev, u64 removed)
{
	struct sk_buff *skb;
	void *hdr;
	int err;

	lockdep_assert_held(&dev->mutex);
	trace_vhost_shmem_reset(dev->obs.id, removed);
	if (!have_listeners())
		return;
	skb = event_new(VHOST_SHMEM_CMD_RESET_NTF, &hdr);
	if (!skb)
		return;
	err = nla_put_u32(skb, VHOST_SHMEM_A_MAP_DEV_ID, dev->obs.id) ||
	      nla_put_u64_64bit(skb, VHOST_SHMEM_A_MAP_REMOVED, removed,
				VHOST_SHMEM_A_MAP_PAD);
	event_send(skb, hdr, err);
}

/* A view event: the viewer's region and one VIEWERS nest. */
static void view_event(struct vhost_shmem_viewer *v, u8 cmd, bool with_result,
		       int result)
{
	struct vhost_shmem_dev *dev = v->dev;
	struct sk_buff *skb;
	void *hdr;
	int err;

	if (!have_listeners())
		return;
	skb = event_new(cmd, &hdr);
	if (!skb)
		return;
	err = nla_put_u32(skb, VHOST_SHMEM_A_REGION_DEV_ID, dev->obs.id) ||
	      nla_put_u32(skb, VHOST_SHMEM_A_REGION_SHMID,
			  v->space.region - dev->regions) ||
	      put_viewer(skb, v, with_result, result);
	event_send(skb, hdr, err);
}

/**
 * vhost_shmem_nl_view_attach() - a new viewer attached, or could not
 * @v: the viewer; if it attached, dev->mutex is held (it is listed and
 *	may be reaped once the mutex is dropped)
 * @ret: 0, or the errno that kept it from attaching
 */
void vhost_shmem_nl_view_attach(struct vhost_shmem_viewer *v, int ret)
{
	view_event(v, VHOST_SHMEM_CMD_VIEW_ATTACH_NTF, true, ret);
}

/**
 * vhost_shmem_nl_view_detach() - an attached viewer is being dropped
 * @v: the viewer, just taken off its region's list; dev->mutex held
 */
void vhost_shmem_nl_view_detach(struct vhost_shmem_viewer *v)
{
	lockdep_assert_held(&v->dev->mutex);
	view_event(v, VHOST_SHMEM_CMD_VIEW_DETACH_NTF, false, 0);
}

/**
 * vhost_shmem_nl_set_owner() - record current as the owner of @dev
 * @dev: the device, its mutex held, SET_OWNER done
 */
void vhost_shmem_nl_set_owner(struct vhost_shmem_dev *dev)
{
	lockdep_assert_held(&dev->mutex);
	dev->obs.owner_pid = task_tgid_nr(current);
	get_task_comm(dev->obs.owner_comm, current);
}

/**
 * vhost_shmem_nl_dev_add() - list a new device and announce it
 * @dev: the device, not yet visible to anyone else
 *
 * Return: 0, or -EBUSY when no id is left, or -ENOMEM.
 */
int vhost_shmem_nl_dev_add(struct vhost_shmem_dev *dev)
{
	u32 id;
	int ret;

	/* The registry's reference, dropped by vhost_shmem_nl_dev_del(). */
	refcount_set(&dev->obs.refs, 1);
	mutex_lock(&vhost_shmem_devs_lock);
	ret = xa_alloc_cyclic(&vhost_shmem_devs, &id, dev, XA_LIMIT(1, INT_MAX),
			      &vhost_shmem_next_id, GFP_KERNEL_ACCOUNT);
	/* Dumps see the device only once its id is set: same lock. */
	if (ret >= 0)
		dev->obs.id = id;
	mutex_unlock(&vhost_shmem_devs_lock);
	if (ret < 0)
		return ret;
	dev_event(dev, VHOST_SHMEM_CMD_DEV_CREATE_NTF);
	return 0;
}

/**
 * vhost_shmem_nl_dev_del() - unlist a device, announce it and let it go
 * @dev: the device, at release, once nothing else uses it
 *
 * Once this returns no dump can find @dev; a dump that found it before
 * skips it and frees it (vhost_shmem_dev_free()) if it is the last user.
 */
void vhost_shmem_nl_dev_del(struct vhost_shmem_dev *dev)
{
	mutex_lock(&vhost_shmem_devs_lock);
	xa_erase(&vhost_shmem_devs, dev->obs.id);
	WRITE_ONCE(dev->obs.unlisted, true);
	mutex_unlock(&vhost_shmem_devs_lock);
	dev_event(dev, VHOST_SHMEM_CMD_DEV_DESTROY_NTF);
	vhost_shmem_dev_put(dev);
}

/**
 * vhost_shmem_nl_init() - register the generic netlink family
 *
 * Return: 0 or a negative errno.
 */
int vhost_shmem_nl_init(void)
{
	return genl_register_family(&vhost_shmem_nl_family);
}

/** vhost_shmem_nl_exit() - unregister the family; no device is left */
void vhost_shmem_nl_exit(void)
{
	genl_unregister_family(&vhost_shmem_nl_family);
	WARN_ON(!xa_empty(&vhost_shmem_devs));
}
