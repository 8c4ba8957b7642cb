// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-shmem CLI: talks to the kernel's "vhost-shmem" generic netlink
 * family with libnl-genl-3 and turns its messages into records (format.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <linux/vhost_shmem.h>

#include "nl.h"

struct vs_dump_ctx {
	struct vs_nl *nl;
	struct vs_out *out;
	enum vs_dump_kind kind;
	union {			/* the record being parsed: holds a path */
		struct vs_dev_rec dev;
		struct vs_region_rec region;
		struct vs_map_rec map;
		struct vs_event ev;
	} rec;
};

static void set_msg(struct vs_nl *ctx, const char *what, int err)
{
	ctx->err = err;
	snprintf(ctx->msg, sizeof(ctx->msg), "%s: %s", what, strerror(err));
}

int vs_nl_open(struct vs_nl *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->sk = nl_socket_alloc();
	if (!ctx->sk) {
		set_msg(ctx, "netlink socket", ENOMEM);
		return -1;
	}
	if (genl_connect(ctx->sk)) {
		set_msg(ctx, "netlink connect", errno ? errno : EIO);
		return -1;
	}
	ctx->family = genl_ctrl_resolve(ctx->sk, VHOST_SHMEM_FAMILY_NAME);
	if (ctx->family < 0) {
		ctx->err = ENOENT;
		snprintf(ctx->msg, sizeof(ctx->msg),
			 "no \"%s\" netlink family: is the vhost_shmem module loaded?",
			 VHOST_SHMEM_FAMILY_NAME);
		return -1;
	}
	return 0;
}

void vs_nl_close(struct vs_nl *ctx)
{
	nl_socket_free(ctx->sk);
	ctx->sk = NULL;
}

static uint64_t get_u64(struct nlattr *a)
{
	return a ? nla_get_u64(a) : 0;
}

static uint32_t get_u32(struct nlattr *a)
{
	return a ? nla_get_u32(a) : 0;
}

static void copy_str(char *dst, size_t len, struct nlattr *a)
{
	dst[0] = 0;
	if (a)
		snprintf(dst, len, "%.*s", (int)strnlen(nla_data(a), nla_len(a)),
			 (const char *)nla_data(a));
}

static void parse_dev(struct nlmsghdr *nlh, struct vs_dev_rec *d)
{
	struct nlattr *tb[VHOST_SHMEM_A_DEV_MAX + 1];
	struct nlattr *a;
	int rem;

	memset(d, 0, sizeof(*d));
	genlmsg_parse(nlh, 0, tb, VHOST_SHMEM_A_DEV_MAX, NULL);
	d->id = get_u32(tb[VHOST_SHMEM_A_DEV_ID]);
	d->has_owner = tb[VHOST_SHMEM_A_DEV_OWNER_PID];
	d->owner_pid = get_u32(tb[VHOST_SHMEM_A_DEV_OWNER_PID]);
	copy_str(d->owner_comm, sizeof(d->owner_comm),
		 tb[VHOST_SHMEM_A_DEV_OWNER_COMM]);
	d->nregions = get_u32(tb[VHOST_SHMEM_A_DEV_NREGIONS]);
	d->mappings = get_u64(tb[VHOST_SHMEM_A_DEV_MAPPINGS]);
	d->mapped_bytes = get_u64(tb[VHOST_SHMEM_A_DEV_MAPPED_BYTES]);
	d->maps = get_u64(tb[VHOST_SHMEM_A_DEV_MAPS]);
	d->unmaps = get_u64(tb[VHOST_SHMEM_A_DEV_UNMAPS]);
	d->failures = get_u64(tb[VHOST_SHMEM_A_DEV_FAILURES]);
	/* ERRORS is a multi-attr: walk them all. */
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		struct nlattr *e[VHOST_SHMEM_A_ERROR_MAX + 1];

		if (nla_type(a) != VHOST_SHMEM_A_DEV_ERRORS ||
		    d->nerrors >= VS_MAX_ERRORS)
			continue;
		if (nla_parse_nested(e, VHOST_SHMEM_A_ERROR_MAX, a, NULL))
			continue;
		d->errors[d->nerrors].err = get_u32(e[VHOST_SHMEM_A_ERROR_CODE]);
		d->errors[d->nerrors].count = get_u64(e[VHOST_SHMEM_A_ERROR_COUNT]);
		d->nerrors++;
	}
}

/* One VIEWERS nest into the next free slot of @r; the rest are counted. */
static void parse_viewer(struct nlattr *a, struct vs_region_rec *r)
{
	struct nlattr *tb[VHOST_SHMEM_A_VIEWER_MAX + 1];
	struct vs_viewer_rec *v;

	if (r->nlisted >= VS_MAX_VIEWERS ||
	    nla_parse_nested(tb, VHOST_SHMEM_A_VIEWER_MAX, a, NULL))
		return;
	v = &r->viewers[r->nlisted++];
	v->pid = get_u32(tb[VHOST_SHMEM_A_VIEWER_PID]);
	copy_str(v->comm, sizeof(v->comm), tb[VHOST_SHMEM_A_VIEWER_COMM]);
	v->offset = get_u64(tb[VHOST_SHMEM_A_VIEWER_OFFSET]);
	v->len = get_u64(tb[VHOST_SHMEM_A_VIEWER_LEN]);
	v->prot = get_u32(tb[VHOST_SHMEM_A_VIEWER_PROT]);
	v->has_result = tb[VHOST_SHMEM_A_VIEWER_RESULT];
	v->result = (int32_t)get_u32(tb[VHOST_SHMEM_A_VIEWER_RESULT]);
}

/* Region dumps and view events (which carry one viewer, no NVIEWERS). */
static void parse_region(struct nlmsghdr *nlh, struct vs_region_rec *r)
{
	struct nlattr *tb[VHOST_SHMEM_A_REGION_MAX + 1];
	struct nlattr *a;
	int rem;

	memset(r, 0, sizeof(*r));
	genlmsg_parse(nlh, 0, tb, VHOST_SHMEM_A_REGION_MAX, NULL);
	r->dev_id = get_u32(tb[VHOST_SHMEM_A_REGION_DEV_ID]);
	r->shmid = get_u32(tb[VHOST_SHMEM_A_REGION_SHMID]);
	r->size = get_u64(tb[VHOST_SHMEM_A_REGION_SIZE]);
	r->flags = get_u32(tb[VHOST_SHMEM_A_REGION_FLAGS]);
	r->addr = get_u64(tb[VHOST_SHMEM_A_REGION_ADDR]);
	r->has_viewers = tb[VHOST_SHMEM_A_REGION_NVIEWERS];
	r->nviewers = get_u32(tb[VHOST_SHMEM_A_REGION_NVIEWERS]);
	/* VIEWERS is a multi-attr: walk them all. */
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem)
		if (nla_type(a) == VHOST_SHMEM_A_REGION_VIEWERS)
			parse_viewer(a, r);
}

static void parse_map(struct nlmsghdr *nlh, struct vs_map_rec *m)
{
	struct nlattr *tb[VHOST_SHMEM_A_MAP_MAX + 1];

	memset(m, 0, sizeof(*m));
	genlmsg_parse(nlh, 0, tb, VHOST_SHMEM_A_MAP_MAX, NULL);
	m->dev_id = get_u32(tb[VHOST_SHMEM_A_MAP_DEV_ID]);
	m->shmid = get_u32(tb[VHOST_SHMEM_A_MAP_SHMID]);
	m->shm_offset = get_u64(tb[VHOST_SHMEM_A_MAP_SHM_OFFSET]);
	m->len = get_u64(tb[VHOST_SHMEM_A_MAP_LEN]);
	m->has_fd_offset = tb[VHOST_SHMEM_A_MAP_FD_OFFSET];
	m->fd_offset = get_u64(tb[VHOST_SHMEM_A_MAP_FD_OFFSET]);
	m->flags = get_u64(tb[VHOST_SHMEM_A_MAP_FLAGS]);
	m->has_file = tb[VHOST_SHMEM_A_MAP_FILE_INO];
	m->file_major = get_u32(tb[VHOST_SHMEM_A_MAP_FILE_DEV_MAJOR]);
	m->file_minor = get_u32(tb[VHOST_SHMEM_A_MAP_FILE_DEV_MINOR]);
	m->ino = get_u64(tb[VHOST_SHMEM_A_MAP_FILE_INO]);
	m->has_path = tb[VHOST_SHMEM_A_MAP_FILE_PATH];
	copy_str(m->path, sizeof(m->path), tb[VHOST_SHMEM_A_MAP_FILE_PATH]);
	m->has_result = tb[VHOST_SHMEM_A_MAP_RESULT];
	m->result = (int32_t)get_u32(tb[VHOST_SHMEM_A_MAP_RESULT]);
	m->has_removed = tb[VHOST_SHMEM_A_MAP_REMOVED];
	m->removed = get_u64(tb[VHOST_SHMEM_A_MAP_REMOVED]);
	m->has_viewer_pid = tb[VHOST_SHMEM_A_MAP_VIEWER_PID];
	m->viewer_pid = get_u32(tb[VHOST_SHMEM_A_MAP_VIEWER_PID]);
}

static int on_dump(struct nl_msg *msg, void *arg)
{
	struct vs_dump_ctx *c = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	switch (c->kind) {
	case VS_DUMP_DEV:
		parse_dev(nlh, &c->rec.dev);
		vs_print_dev(c->out, &c->rec.dev);
		break;
	case VS_DUMP_REGION:
		parse_region(nlh, &c->rec.region);
		vs_print_region(c->out, &c->rec.region);
		break;
	case VS_DUMP_MAP:
		parse_map(nlh, &c->rec.map);
		vs_print_map(c->out, &c->rec.map);
		break;
	}
	return NL_OK;
}

/* The kernel's error answer: keep its errno for the message. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct vs_nl *ctx = arg;

	(void)nla;
	ctx->err = err->error < 0 ? -err->error : err->error;
	return NL_STOP;
}

/* A dump's error comes in NLMSG_DONE's payload. */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct vs_nl *ctx = arg;
	int err;

	if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(err))) {
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
		if (err < 0)
			ctx->err = -err;
	}
	return NL_STOP;
}

static int recv_all(struct vs_nl *ctx, nl_recvmsg_msg_cb_t fn, void *arg,
		    const char *what)
{
	/* A copy of the socket's callbacks: keeps its sequence check setting. */
	struct nl_cb *scb = nl_socket_get_cb(ctx->sk);
	struct nl_cb *cb = scb ? nl_cb_clone(scb) : NULL;
	int ret;

	nl_cb_put(scb);
	if (!cb) {
		set_msg(ctx, what, ENOMEM);
		return -1;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, fn, arg);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, ctx);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, ctx);
	ctx->err = 0;
	ret = nl_recvmsgs(ctx->sk, cb);
	nl_cb_put(cb);
	if (ctx->err) {
		set_msg(ctx, what, ctx->err);
		return -1;
	}
	if (ret < 0) {
		ctx->err = EIO;
		snprintf(ctx->msg, sizeof(ctx->msg), "%s: %s", what,
			 nl_geterror(ret));
		return -1;
	}
	return 0;
}

int vs_nl_dump(struct vs_nl *ctx, enum vs_dump_kind kind, uint32_t dev_id,
	       struct vs_out *out)
{
	static const struct {
		uint8_t cmd;
		const char *what;
	} cmds[] = {
		[VS_DUMP_DEV] = { VHOST_SHMEM_CMD_DEV_GET, "dev-get" },
		[VS_DUMP_REGION] = { VHOST_SHMEM_CMD_REGION_GET, "region-get" },
		[VS_DUMP_MAP] = { VHOST_SHMEM_CMD_MAP_GET, "map-get" },
	};
	struct vs_dump_ctx *c = calloc(1, sizeof(*c));
	struct nl_msg *msg = nlmsg_alloc();
	int ret;

	if (!msg || !c) {
		free(c);
		nlmsg_free(msg);
		set_msg(ctx, cmds[kind].what, ENOMEM);
		return -1;
	}
	c->nl = ctx;
	c->out = out;
	c->kind = kind;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, ctx->family, 0,
			 NLM_F_DUMP, cmds[kind].cmd, VHOST_SHMEM_FAMILY_VERSION) ||
	    (dev_id && nla_put_u32(msg, VHOST_SHMEM_A_DEV_ID, dev_id))) {
		nlmsg_free(msg);
		free(c);
		set_msg(ctx, cmds[kind].what, ENOMEM);
		return -1;
	}
	ret = nl_send_auto(ctx->sk, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		free(c);
		ctx->err = EIO;
		snprintf(ctx->msg, sizeof(ctx->msg), "%s: %s", cmds[kind].what,
			 nl_geterror(ret));
		return -1;
	}
	vs_out_begin(out);
	ret = recv_all(ctx, on_dump, c, cmds[kind].what);
	vs_out_end(out);
	free(c);
	return ret;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct vs_dump_ctx *c = arg;
	struct vs_event *ev = &c->rec.ev;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gh = nlmsg_data(nlh);

	memset(ev, 0, sizeof(*ev));
	switch (gh->cmd) {
	case VHOST_SHMEM_CMD_MAP_NTF:
		ev->kind = VS_EV_MAP;
		break;
	case VHOST_SHMEM_CMD_UNMAP_NTF:
		ev->kind = VS_EV_UNMAP;
		break;
	case VHOST_SHMEM_CMD_RESET_NTF:
		ev->kind = VS_EV_RESET;
		break;
	case VHOST_SHMEM_CMD_DEV_CREATE_NTF:
		ev->kind = VS_EV_DEV_CREATE;
		break;
	case VHOST_SHMEM_CMD_DEV_DESTROY_NTF:
		ev->kind = VS_EV_DEV_DESTROY;
		break;
	case VHOST_SHMEM_CMD_VIEW_ATTACH_NTF:
		ev->kind = VS_EV_VIEW_ATTACH;
		break;
	case VHOST_SHMEM_CMD_VIEW_DETACH_NTF:
		ev->kind = VS_EV_VIEW_DETACH;
		break;
	default:
		return NL_OK;	/* newer kernel: skip what we do not know */
	}
	if (ev->kind == VS_EV_DEV_CREATE || ev->kind == VS_EV_DEV_DESTROY)
		parse_dev(nlh, &ev->dev);
	else if (ev->kind == VS_EV_VIEW_ATTACH || ev->kind == VS_EV_VIEW_DETACH)
		parse_region(nlh, &ev->region);
	else
		parse_map(nlh, &ev->map);
	vs_print_event(c->out, ev);
	return NL_OK;
}

int vs_nl_monitor(struct vs_nl *ctx, struct vs_out *out)
{
	struct vs_dump_ctx *c;
	int grp, ret;

	grp = genl_ctrl_resolve_grp(ctx->sk, VHOST_SHMEM_FAMILY_NAME,
				    VHOST_SHMEM_MCGRP_EVENTS);
	if (grp < 0) {
		ctx->err = ENOENT;
		snprintf(ctx->msg, sizeof(ctx->msg), "no \"%s\" multicast group",
			 VHOST_SHMEM_MCGRP_EVENTS);
		return -1;
	}
	ret = nl_socket_add_membership(ctx->sk, grp);
	if (ret < 0) {
		/* libnl maps the setsockopt errno; keep the real one. */
		set_msg(ctx, "joining the events group",
			ret == -NLE_PERM ? EPERM : EIO);
		return -1;
	}
	nl_socket_disable_seq_check(ctx->sk);
	c = calloc(1, sizeof(*c));
	if (!c) {
		set_msg(ctx, "monitor", ENOMEM);
		return -1;
	}
	c->nl = ctx;
	c->out = out;
	do
		ret = recv_all(ctx, on_event, c, "monitor");
	while (!ret);
	free(c);
	return -1;
}
