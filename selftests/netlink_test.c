// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-shmem observability: the "vhost-shmem" generic netlink family
 * (dumps of devices, regions and mappings, resumed across messages; the
 * "events" multicast group), its admin-only rule, the vhost-shmem CLI's
 * JSON, the vhost_shmem:* tracepoints, and dumps while a device is busy
 * (bounded, EBUSY, never holding up other families). Raw netlink sockets:
 * no libnl needed here. Every test fails when the feature is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"
#include "stall_lib.h"
#include "viewer_lib.h"

#define CLI_PATH	"/payload/bin/vhost-shmem"
#define TRACEFS		"/sys/kernel/tracing"
#define NL_BUF		(64 * 1024)
#define MAX_ATTR	32
#define REGION_PAGES	512
#define MMC		"/proc/sys/vm/max_map_count"

/* One parsed message: its command and top-level attributes (last wins). */
struct nl_rec {
	int cmd;
	struct nlattr *tb[MAX_ATTR];
	int nerrors;		/* DEV_ERRORS nests seen */
	uint32_t err_errno[32];
	uint64_t err_count[32];
	int nviewers;		/* REGION_VIEWERS nests seen */
	struct {
		uint32_t pid, prot;
		char comm[16];
		uint64_t off, len;
		int32_t result;	/* -1000 if absent */
	} viewer[8];
};

struct nl {
	int fd;
	uint16_t family;
	uint32_t events_grp;
	uint32_t seq;
	char *buf;
	int recvs;		/* recv() calls (one per kernel skb) */
	int64_t call_max_us;	/* longest send() or recv() so far */
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Each dump send() and recv() runs one dump callback of the kernel. */
static void call_took(struct nl *n, int64_t t0)
{
	int64_t us = now_us() - t0;

	if (us > n->call_max_us)
		n->call_max_us = us;
}

static uint32_t a_u32(const struct nlattr *a)
{
	return a ? *(const uint32_t *)(a + 1) : 0;
}

static uint64_t a_u64(const struct nlattr *a)
{
	uint64_t v = 0;

	if (a)
		memcpy(&v, a + 1, sizeof(v));
	return v;
}

static const char *a_str(const struct nlattr *a)
{
	return a ? (const char *)(a + 1) : "";
}

#define NLA_FOREACH(a, start, len) \
	for (a = (struct nlattr *)(start); \
	     (char *)a + sizeof(*a) <= (char *)(start) + (len) && \
	     a->nla_len >= sizeof(*a) && \
	     (char *)a + a->nla_len <= (char *)(start) + (len); \
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))

/* One REGION_VIEWERS nest (region dumps, view events). */
static void parse_viewer(const struct nlattr *a, struct nl_rec *r)
{
	const struct nlattr *e;
	int i = r->nviewers++;

	r->viewer[i].result = -1000;
	NLA_FOREACH(e, a + 1, a->nla_len - sizeof(*a)) {
		switch (e->nla_type) {
		case VHOST_SHMEM_A_VIEWER_PID:
			r->viewer[i].pid = a_u32(e);
			break;
		case VHOST_SHMEM_A_VIEWER_COMM:
			snprintf(r->viewer[i].comm, sizeof(r->viewer[i].comm), "%s",
				 a_str(e));
			break;
		case VHOST_SHMEM_A_VIEWER_OFFSET:
			r->viewer[i].off = a_u64(e);
			break;
		case VHOST_SHMEM_A_VIEWER_LEN:
			r->viewer[i].len = a_u64(e);
			break;
		case VHOST_SHMEM_A_VIEWER_PROT:
			r->viewer[i].prot = a_u32(e);
			break;
		case VHOST_SHMEM_A_VIEWER_RESULT:
			r->viewer[i].result = (int32_t)a_u32(e);
			break;
		}
	}
}

static void parse_rec(struct nlmsghdr *nh, struct nl_rec *r)
{
	struct genlmsghdr *gh = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	struct nlattr *a, *e;

	memset(r, 0, sizeof(*r));
	r->cmd = gh->cmd;
	NLA_FOREACH(a, (char *)gh + GENL_HDRLEN, len) {
		int t = a->nla_type & NLA_TYPE_MASK;

		if (t < MAX_ATTR)
			r->tb[t] = a;
		if (t == VHOST_SHMEM_A_DEV_ERRORS && r->nerrors < 32) {
			NLA_FOREACH(e, a + 1, a->nla_len - sizeof(*a)) {
				if (e->nla_type == VHOST_SHMEM_A_ERROR_CODE)
					r->err_errno[r->nerrors] = a_u32(e);
				if (e->nla_type == VHOST_SHMEM_A_ERROR_COUNT)
					r->err_count[r->nerrors] = a_u64(e);
			}
			r->nerrors++;
		}
		if (t == VHOST_SHMEM_A_REGION_VIEWERS && r->nviewers < 8 &&
		    (r->cmd == VHOST_SHMEM_CMD_REGION_GET ||
		     r->cmd == VHOST_SHMEM_CMD_VIEW_ATTACH_NTF ||
		     r->cmd == VHOST_SHMEM_CMD_VIEW_DETACH_NTF))
			parse_viewer(a, r);
	}
}

static int nl_socket(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int nl_send(struct nl *n, uint16_t type, uint16_t flags, uint8_t cmd,
		   uint16_t attr, const void *data, uint16_t dlen)
{
	char msg[256] = {};
	struct nlmsghdr *nh = (struct nlmsghdr *)msg;
	struct genlmsghdr *gh = NLMSG_DATA(nh);
	struct nlattr *a = (struct nlattr *)((char *)gh + GENL_HDRLEN);
	int64_t t0;
	ssize_t ret;

	nh->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = ++n->seq;
	gh->cmd = cmd;
	gh->version = 1;
	if (attr) {
		a->nla_type = attr;
		a->nla_len = sizeof(*a) + dlen;
		memcpy(a + 1, data, dlen);
		nh->nlmsg_len += NLA_ALIGN(a->nla_len);
	}
	t0 = now_us();
	ret = send(n->fd, msg, nh->nlmsg_len, 0);
	call_took(n, t0);
	return ret < 0 ? -errno : 0;
}

/*
 * Receives the answer to the last request: calls @fn for every message
 * until NLMSG_DONE (dumps) or the first message (plain requests).
 * Returns 0 or the negative errno the kernel answered.
 */
static int nl_recv(struct nl *n, bool dump,
		   void (*fn)(struct nlmsghdr *nh, void *arg), void *arg)
{
	for (;;) {
		int64_t t0 = now_us();
		ssize_t len = recv(n->fd, n->buf, NL_BUF, 0);
		struct nlmsghdr *nh;

		call_took(n, t0);
		if (len < 0)
			return -errno;
		n->recvs++;
		for (nh = (struct nlmsghdr *)n->buf; NLMSG_OK(nh, len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != n->seq)
				continue;
			/* A dump's error comes in NLMSG_DONE's payload. */
			if (nh->nlmsg_type == NLMSG_DONE)
				return nh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) ?
				       *(int *)NLMSG_DATA(nh) : 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error;
			}
			fn(nh, arg);
			if (!dump)
				return 0;
		}
	}
}

static void on_family(struct nlmsghdr *nh, void *arg)
{
	struct nl *n = arg;
	struct genlmsghdr *gh = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	struct nlattr *a, *g, *f;

	NLA_FOREACH(a, (char *)gh + GENL_HDRLEN, len) {
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			n->family = *(uint16_t *)(a + 1);
		if ((a->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		NLA_FOREACH(g, a + 1, a->nla_len - sizeof(*a)) {
			uint32_t id = 0;
			bool events = false;

			NLA_FOREACH(f, g + 1, g->nla_len - sizeof(*g)) {
				if (f->nla_type == CTRL_ATTR_MCAST_GRP_ID)
					id = a_u32(f);
				if (f->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
					events = !strcmp(a_str(f), VHOST_SHMEM_MCGRP_EVENTS);
			}
			if (events)
				n->events_grp = id;
		}
	}
}

/* Opens a socket and resolves the family. 0 or -errno. */
static int nl_open(struct nl *n)
{
	int ret;

	memset(n, 0, sizeof(*n));
	n->buf = malloc(NL_BUF);
	n->fd = nl_socket();
	if (n->fd < 0)
		return n->fd;
	ret = nl_send(n, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY,
		      CTRL_ATTR_FAMILY_NAME, VHOST_SHMEM_FAMILY_NAME,
		      sizeof(VHOST_SHMEM_FAMILY_NAME));
	if (!ret)
		ret = nl_recv(n, false, on_family, n);
	if (!ret && (!n->family || !n->events_grp))
		ret = -ENOENT;
	return ret;
}

static void nl_close(struct nl *n)
{
	if (n->fd >= 0)
		close(n->fd);
	free(n->buf);
}

struct recs {
	int n, cap;
	struct nl_rec *r;
	int msgs_per_recv_max;
};

static void on_rec(struct nlmsghdr *nh, void *arg)
{
	struct recs *rs = arg;
	struct nl_rec *r;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 64;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
	}
	r = &rs->r[rs->n++];
	parse_rec(nh, r);
	/* The attributes point into the receive buffer: keep a copy. */
	for (int i = 0; i < MAX_ATTR; i++) {
		if (r->tb[i]) {
			struct nlattr *c = malloc(r->tb[i]->nla_len);

			memcpy(c, r->tb[i], r->tb[i]->nla_len);
			r->tb[i] = c;
		}
	}
}

static void recs_free(struct recs *rs)
{
	for (int i = 0; i < rs->n; i++)
		for (int j = 0; j < MAX_ATTR; j++)
			free(rs->r[i].tb[j]);
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

/* A dump, of device @dev only unless 0. 0 or -errno. */
static int nl_dump(struct nl *n, uint8_t cmd, uint32_t dev, struct recs *rs)
{
	int ret;

	memset(rs, 0, sizeof(*rs));
	ret = nl_send(n, n->family, NLM_F_DUMP, cmd,
		      dev ? VHOST_SHMEM_A_DEV_ID : 0, &dev, sizeof(dev));
	return ret ? ret : nl_recv(n, true, on_rec, rs);
}

/* Our device's id: the one whose owner is this process. 0 if none. */
static uint32_t my_dev_id(struct nl *n)
{
	struct recs rs;
	uint32_t id = 0;

	if (nl_dump(n, VHOST_SHMEM_CMD_DEV_GET, 0, &rs))
		return 0;
	for (int i = 0; i < rs.n; i++)
		if (a_u32(rs.r[i].tb[VHOST_SHMEM_A_DEV_OWNER_PID]) == (uint32_t)getpid())
			id = a_u32(rs.r[i].tb[VHOST_SHMEM_A_DEV_ID]);
	recs_free(&rs);
	return id;
}

/* Next event within @ms, of device @dev (others are skipped). */
static int next_event(struct nl *n, uint32_t dev, int ms, struct nl_rec *r)
{
	struct pollfd p = { .fd = n->fd, .events = POLLIN };
	static char buf[NL_BUF];
	static int left, off;

	for (;;) {
		while (left > 0) {
			struct nlmsghdr *nh = (struct nlmsghdr *)(buf + off);
			int id_attr;

			if (!NLMSG_OK(nh, left)) {
				left = 0;
				break;
			}
			off += NLMSG_ALIGN(nh->nlmsg_len);
			left -= NLMSG_ALIGN(nh->nlmsg_len);
			if (nh->nlmsg_type != n->family)
				continue;
			parse_rec(nh, r);
			id_attr = (r->cmd == VHOST_SHMEM_CMD_DEV_CREATE_NTF ||
				   r->cmd == VHOST_SHMEM_CMD_DEV_DESTROY_NTF) ?
				VHOST_SHMEM_A_DEV_ID : VHOST_SHMEM_A_MAP_DEV_ID;
			if (!dev || a_u32(r->tb[id_attr]) == dev)
				return 0;
		}
		if (poll(&p, 1, ms) <= 0)
			return -ETIMEDOUT;
		left = recv(n->fd, buf, sizeof(buf), 0);
		off = 0;
		if (left < 0)
			return -errno;
	}
}

struct want_map {
	uint32_t shmid;
	int fd;
	uint64_t fd_off, shm_off, len, flags;
};

FIXTURE(nl) {
	struct vs_dev d;
	struct nl n;
	uint32_t id;
	int a, b, c;
	char tmpfile[64];
	long orig_mmc;		/* vm.max_map_count to restore, or -1 */
};

FIXTURE_SETUP(nl)
{
	const struct vs_layout l[] = {
		{ .shmid = 0, .size = REGION_PAGES * PG },
		{ .shmid = 2, .size = 16 * PG, .flags = VHOST_SHMEM_REGION_F_FAULT_HOLES },
	};
	int ret;

	self->a = self->b = self->c = -1;
	self->n.fd = -1;
	self->d.fd = -1;
	self->tmpfile[0] = 0;
	self->orig_mmc = -1;
	VS_REQUIRE_DEV_IN_SETUP();
	ret = vs_dev_setup(&self->d, l, 2, true);
	if (ret)
		TH_LOG("device setup: %s", self->d.err);
	ASSERT_EQ(0, ret);
	ret = nl_open(&self->n);
	if (ret)
		TH_LOG("resolving the \"%s\" family: %s", VHOST_SHMEM_FAMILY_NAME,
		       strerror(-ret));
	ASSERT_EQ(0, ret);
	self->id = my_dev_id(&self->n);
	ASSERT_NE(0, self->id);
	self->a = vs_memfd("nl-a", 16 * PG, 1);
	self->b = vs_memfd("nl-b", 16 * PG, 2);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	strcpy(self->tmpfile, "/tmp/nl-test-XXXXXX");
	self->c = mkstemp(self->tmpfile);
	ASSERT_LE(0, self->c);
	ASSERT_EQ(0, vs_fill_fd(self->c, 8 * PG, 3));
}

FIXTURE_TEARDOWN(nl)
{
	if (self->orig_mmc > 0)
		vs_write_long(MMC, self->orig_mmc);
	if (self->tmpfile[0])
		unlink(self->tmpfile);
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
	if (self->c >= 0)
		close(self->c);
	nl_close(&self->n);
	vs_dev_close(&self->d);
}

/* The known set of mappings the dump tests install. */
static void want_set(FIXTURE_DATA(nl) *self, struct want_map w[3])
{
	w[0] = (struct want_map){ 0, self->a, 0, 0, 4 * PG, VHOST_SHMEM_MAP_F_RW };
	w[1] = (struct want_map){ 0, self->b, 2 * PG, 8 * PG, 2 * PG, 0 };
	w[2] = (struct want_map){ 2, self->c, 4 * PG, 3 * PG, PG, 0 };
}

static bool rec_is(const struct nl_rec *r, uint32_t id, const struct want_map *w)
{
	return a_u32(r->tb[VHOST_SHMEM_A_MAP_DEV_ID]) == id &&
	       a_u32(r->tb[VHOST_SHMEM_A_MAP_SHMID]) == w->shmid &&
	       a_u64(r->tb[VHOST_SHMEM_A_MAP_SHM_OFFSET]) == w->shm_off &&
	       a_u64(r->tb[VHOST_SHMEM_A_MAP_LEN]) == w->len &&
	       a_u64(r->tb[VHOST_SHMEM_A_MAP_FD_OFFSET]) == w->fd_off &&
	       a_u64(r->tb[VHOST_SHMEM_A_MAP_FLAGS]) == w->flags;
}

static bool file_is(const struct nl_rec *r, int fd)
{
	struct stat st;

	return !fstat(fd, &st) &&
	       a_u64(r->tb[VHOST_SHMEM_A_MAP_FILE_INO]) == st.st_ino &&
	       a_u32(r->tb[VHOST_SHMEM_A_MAP_FILE_DEV_MAJOR]) == major(st.st_dev) &&
	       a_u32(r->tb[VHOST_SHMEM_A_MAP_FILE_DEV_MINOR]) == minor(st.st_dev);
}

TEST_F(nl, dumps)
{
	struct want_map w[3];
	struct recs rs;
	bool seen;
	int i, j;

	want_set(self, w);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vs_map(self->d.fd, w[i].shmid, w[i].fd, w[i].fd_off,
				    w[i].shm_off, w[i].len, w[i].flags));
	EXPECT_EQ(-EEXIST, vs_map(self->d.fd, 0, self->a, 0, 2 * PG, PG, 0));
	EXPECT_EQ(-ENOENT, vs_unmap(self->d.fd, 0, 0, PG));
	EXPECT_EQ(-ENOENT, vs_unmap(self->d.fd, 0, 0, 2 * PG));

	/* Mappings of our device: exactly the three, in order, with inodes. */
	ASSERT_EQ(0, nl_dump(&self->n, VHOST_SHMEM_CMD_MAP_GET, self->id, &rs));
	ASSERT_EQ(3, rs.n);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(VHOST_SHMEM_CMD_MAP_GET, rs.r[i].cmd);
		EXPECT_TRUE(rec_is(&rs.r[i], self->id, &w[i]));
		EXPECT_TRUE(file_is(&rs.r[i], w[i].fd));
	}
	EXPECT_STREQ(self->tmpfile, a_str(rs.r[2].tb[VHOST_SHMEM_A_MAP_FILE_PATH]));
	EXPECT_EQ(0, strncmp("/memfd:nl-a", a_str(rs.r[0].tb[VHOST_SHMEM_A_MAP_FILE_PATH]), 11));
	recs_free(&rs);

	/* Unfiltered: ours are among them. */
	ASSERT_EQ(0, nl_dump(&self->n, VHOST_SHMEM_CMD_MAP_GET, 0, &rs));
	for (i = 0, seen = false; i < rs.n; i++)
		seen |= rec_is(&rs.r[i], self->id, &w[1]);
	EXPECT_TRUE(seen);
	recs_free(&rs);

	/* Regions. */
	ASSERT_EQ(0, nl_dump(&self->n, VHOST_SHMEM_CMD_REGION_GET, self->id, &rs));
	ASSERT_EQ(2, rs.n);
	EXPECT_EQ(0, a_u32(rs.r[0].tb[VHOST_SHMEM_A_REGION_SHMID]));
	EXPECT_EQ(REGION_PAGES * PG, a_u64(rs.r[0].tb[VHOST_SHMEM_A_REGION_SIZE]));
	EXPECT_EQ((uintptr_t)self->d.r[0].addr, a_u64(rs.r[0].tb[VHOST_SHMEM_A_REGION_ADDR]));
	EXPECT_EQ(2, a_u32(rs.r[1].tb[VHOST_SHMEM_A_REGION_SHMID]));
	EXPECT_EQ(VHOST_SHMEM_REGION_F_FAULT_HOLES,
		  a_u32(rs.r[1].tb[VHOST_SHMEM_A_REGION_FLAGS]));
	recs_free(&rs);

	/* The device: owner, counters, failures by errno. */
	ASSERT_EQ(0, nl_dump(&self->n, VHOST_SHMEM_CMD_DEV_GET, self->id, &rs));
	ASSERT_EQ(1, rs.n);
	EXPECT_EQ(getpid(), a_u32(rs.r[0].tb[VHOST_SHMEM_A_DEV_OWNER_PID]));
	EXPECT_STREQ("netlink_test", a_str(rs.r[0].tb[VHOST_SHMEM_A_DEV_OWNER_COMM]));
	EXPECT_EQ(2, a_u32(rs.r[0].tb[VHOST_SHMEM_A_DEV_NREGIONS]));
	EXPECT_EQ(3, a_u64(rs.r[0].tb[VHOST_SHMEM_A_DEV_MAPPINGS]));
	EXPECT_EQ(7 * PG, a_u64(rs.r[0].tb[VHOST_SHMEM_A_DEV_MAPPED_BYTES]));
	EXPECT_EQ(3, a_u64(rs.r[0].tb[VHOST_SHMEM_A_DEV_MAPS]));
	ASSERT_EQ(2, rs.r[0].nerrors);
	for (j = 0; j < 2; j++) {
		uint64_t want = rs.r[0].err_errno[j] == EEXIST ? 1 :
				rs.r[0].err_errno[j] == ENOENT ? 2 : 0;

		EXPECT_NE(0, want) TH_LOG("unexpected errno %u", rs.r[0].err_errno[j]);
		EXPECT_EQ(want, rs.r[0].err_count[j]);
	}
	recs_free(&rs);

	/* A device that does not exist. */
	EXPECT_EQ(-ENODEV, nl_dump(&self->n, VHOST_SHMEM_CMD_MAP_GET, 0x7fffffff, &rs));
	recs_free(&rs);
}

/*
 * Mapping k of region @shmid of test device @dev in dump_resumes: every
 * page of the fixture's region 0 (more than one message buffer of
 * records by itself), every other page elsewhere.
 */
static uint64_t resume_off(int dev, uint32_t shmid, int k)
{
	if (dev == 0 && shmid == 0)
		return (uint64_t)k * PG;
	return (uint64_t)(2 * k + (dev + shmid) % 2) * PG;
}

static uint64_t resume_fd_off(int dev, uint32_t shmid, int k)
{
	return (uint64_t)((k + dev + shmid) % 16) * PG;
}

/*
 * Many mappings in several regions of several devices: every dump spans
 * many messages, and each resumes in the middle of a region, of a device
 * or between them. Each mapping must come exactly once, in order (device
 * id, shmid, offset), whether the dump is filtered by device or not.
 */
TEST_F(nl, dump_resumes)
{
	/* Per device, mappings per region: shmid 0 of each fills > 1 skb. */
	const uint32_t shmids[3][2] = { { 0, 2 }, { 1, 3 }, { 0, 3 } };
	const int counts[3][2] = { { REGION_PAGES, 8 }, { 120, 200 }, { 30, 150 } };
	const struct vs_layout l2[] = {
		{ .shmid = 1, .size = REGION_PAGES * PG },
		{ .shmid = 3, .size = REGION_PAGES * PG },
	};
	const struct vs_layout l3[] = {
		{ .shmid = 0, .size = REGION_PAGES * PG },
		{ .shmid = 3, .size = REGION_PAGES * PG },
	};
	struct vs_dev devs[3];
	uint32_t ids[3];
	struct recs rs;
	int d, ri, k, i, total = 0;

	devs[0] = self->d;
	ids[0] = self->id;
	ASSERT_EQ(0, vs_dev_setup(&devs[1], l2, 2, true));
	ASSERT_EQ(0, vs_dev_setup(&devs[2], l3, 2, true));
	for (d = 0; d < 3; d++) {
		for (ri = 0; ri < 2; ri++) {
			for (k = 0; k < counts[d][ri]; k++)
				ASSERT_EQ(0, vs_map(devs[d].fd, shmids[d][ri], self->a,
						    resume_fd_off(d, shmids[d][ri], k),
						    resume_off(d, shmids[d][ri], k), PG, 0));
			total += counts[d][ri];
		}
	}
	/* Our devices' ids: the newest devices whose owner is this process. */
	ASSERT_EQ(0, nl_dump(&self->n, VHOST_SHMEM_CMD_DEV_GET, 0, &rs));
	for (i = 0, d = 1; i < rs.n; i++) {
		uint32_t id = a_u32(rs.r[i].tb[VHOST_SHMEM_A_DEV_ID]);

		if (a_u32(rs.r[i].tb[VHOST_SHMEM_A_DEV_OWNER_PID]) != (uint32_t)getpid() ||
		    id == ids[0])
			continue;
		if (d < 3)
			ids[d] = id;
		d++;
	}
	recs_free(&rs);
	ASSERT_EQ(3, d);
	/* Devices are dumped in id order; ours were opened in this order. */
	ASSERT_LT(ids[0], ids[1]);
	ASSERT_LT(ids[1], ids[2]);

	for (int pass = 0; pass < 4; pass++) {
		uint32_t filter = pass < 3 ? ids[pass] : 0;
		int got = 0, recvs;

		self->n.recvs = 0;
		ASSERT_EQ(0, nl_dump(&self->n, VHOST_SHMEM_CMD_MAP_GET, filter, &rs));
		recvs = self->n.recvs;
		/* Walk the records of our devices in order; skip other devices'. */
		i = 0;
		for (d = 0; d < 3; d++) {
			if (filter && filter != ids[d])
				continue;
			for (ri = 0; ri < 2; ri++) {
				uint32_t shmid = shmids[d][ri];

				for (k = 0; k < counts[d][ri]; k++, i++) {
					struct nl_rec *r;

					while (i < rs.n && !filter &&
					       a_u32(rs.r[i].tb[VHOST_SHMEM_A_MAP_DEV_ID]) != ids[0] &&
					       a_u32(rs.r[i].tb[VHOST_SHMEM_A_MAP_DEV_ID]) != ids[1] &&
					       a_u32(rs.r[i].tb[VHOST_SHMEM_A_MAP_DEV_ID]) != ids[2])
						i++;
					if (i >= rs.n) {
						TH_LOG("dump %u: ends before device %d shmid %u mapping %d",
						       filter, d, shmid, k);
						ASSERT_LT(i, rs.n);
					}
					r = &rs.r[i];
					if (a_u32(r->tb[VHOST_SHMEM_A_MAP_DEV_ID]) != ids[d] ||
					    a_u32(r->tb[VHOST_SHMEM_A_MAP_SHMID]) != shmid ||
					    a_u64(r->tb[VHOST_SHMEM_A_MAP_SHM_OFFSET]) !=
						    resume_off(d, shmid, k) ||
					    a_u64(r->tb[VHOST_SHMEM_A_MAP_FD_OFFSET]) !=
						    resume_fd_off(d, shmid, k)) {
						TH_LOG("dump %u record %d: dev %u shmid %u offset %#llx, want dev %u shmid %u offset %#llx",
						       filter, i, a_u32(r->tb[VHOST_SHMEM_A_MAP_DEV_ID]),
						       a_u32(r->tb[VHOST_SHMEM_A_MAP_SHMID]),
						       (unsigned long long)a_u64(r->tb[VHOST_SHMEM_A_MAP_SHM_OFFSET]),
						       ids[d], shmid,
						       (unsigned long long)resume_off(d, shmid, k));
						ASSERT_TRUE(false);
					}
					got++;
				}
			}
		}
		/* Nothing of ours after the last one (no repeats). */
		for (; i < rs.n; i++) {
			uint32_t id = a_u32(rs.r[i].tb[VHOST_SHMEM_A_MAP_DEV_ID]);

			EXPECT_TRUE(id != ids[0] && id != ids[1] && id != ids[2]);
		}
		TH_LOG("dump %u: %d records in %d messages, %d of them ours", filter, rs.n,
		       recvs, got);
		EXPECT_EQ(filter ? got : total, got);
		/* It did resume: device 0 alone fills more than one message. */
		if (!filter || filter == ids[0])
			EXPECT_LE(3, recvs);
		recs_free(&rs);
	}
	vs_dev_close(&devs[1]);
	vs_dev_close(&devs[2]);
}

/* Finds in the CLI's compact JSON the object of mapping @w; -1 if none. */
static bool json_has_map(const char *json, uint32_t id, const struct want_map *w,
			 int *count)
{
	char want[256];
	struct stat st;

	if (fstat(w->fd, &st))
		return false;
	snprintf(want, sizeof(want),
		 "{\"dev\":%u,\"shmid\":%u,\"shm_offset\":%llu,\"len\":%llu,"
		 "\"fd_offset\":%llu,\"flags\":%llu,\"rw\":%s,\"file_major\":%u,"
		 "\"file_minor\":%u,\"ino\":%llu,\"path\":",
		 id, w->shmid, (unsigned long long)w->shm_off,
		 (unsigned long long)w->len, (unsigned long long)w->fd_off,
		 (unsigned long long)w->flags, w->flags ? "true" : "false",
		 major(st.st_dev), minor(st.st_dev), (unsigned long long)st.st_ino);
	for (const char *p = json; (p = strstr(p, "{\"dev\":")); p++)
		(*count)++;
	return strstr(json, want);
}

/* This process's comm (the viewers it forks have the same). 0 or -1. */
static int my_comm(char comm[16])
{
	FILE *f = fopen("/proc/self/comm", "r");
	int ret = -1;

	comm[0] = 0;
	if (!f)
		return -1;
	if (fgets(comm, 16, f)) {
		comm[strcspn(comm, "\n")] = 0;
		ret = 0;
	}
	fclose(f);
	return ret;
}

/*
 * The viewers of the viewer tests, of region 0: a read-write view of
 * pages [4, 12) and a read-only one of all of it. 0 or -errno.
 */
static int start_two_viewers(int devfd, struct vs_viewer v[2])
{
	int vfd, ret;

	vfd = vs_get_view(devfd, 0, VHOST_SHMEM_VIEW_F_RW);
	if (vfd < 0)
		return vfd;
	ret = vs_viewer_start(&v[0], vfd, 4 * PG, 8 * PG, PROT_READ | PROT_WRITE);
	close(vfd);
	if (ret)
		return ret;
	vfd = vs_get_view(devfd, 0, 0);
	if (vfd < 0)
		return vfd;
	ret = vs_viewer_start(&v[1], vfd, 0, REGION_PAGES * PG, PROT_READ);
	close(vfd);
	return ret;
}

static char *run_cli(const char *args, int *status)
{
	char cmd[256], *out = NULL;
	size_t len = 0;
	FILE *p, *o;
	int c;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", CLI_PATH, args);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	o = open_memstream(&out, &len);
	while ((c = fgetc(p)) != EOF)
		fputc(c, o);
	fclose(o);
	*status = pclose(p);
	return out;
}

TEST_F(nl, cli_json)
{
	struct vs_viewer v[2] = { { .pid = -1 }, { .pid = -1 } };
	char args[64], want[512], comm[16], *out;
	struct want_map w[3];
	int i, st, count = 0;

	if (access(CLI_PATH, X_OK))
		SKIP(return, "no %s in the payload", CLI_PATH);
	want_set(self, w);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vs_map(self->d.fd, w[i].shmid, w[i].fd, w[i].fd_off,
				    w[i].shm_off, w[i].len, w[i].flags));
	snprintf(args, sizeof(args), "-j map show dev %u", self->id);
	out = run_cli(args, &st);
	ASSERT_NE(NULL, out);
	TH_LOG("vhost-shmem %s: %s", args, out);
	EXPECT_EQ(0, st);
	for (i = 0; i < 3; i++)
		EXPECT_TRUE(json_has_map(out, self->id, &w[i], &count));
	/* Exactly these three: every call above counted the same objects. */
	EXPECT_EQ(9, count);
	free(out);

	snprintf(args, sizeof(args), "-j dev show dev %u", self->id);
	out = run_cli(args, &st);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, st);
	EXPECT_NE(NULL, strstr(out, "\"mappings\":3,\"mapped_bytes\":"));
	free(out);

	/* Region viewers: pid, comm, range and prot, in JSON and text. */
	ASSERT_EQ(0, start_two_viewers(self->d.fd, v));
	ASSERT_EQ(0, my_comm(comm));
	snprintf(args, sizeof(args), "-j region show dev %u", self->id);
	out = run_cli(args, &st);
	ASSERT_NE(NULL, out);
	TH_LOG("vhost-shmem %s: %s", args, out);
	EXPECT_EQ(0, st);
	snprintf(want, sizeof(want),
		 "\"nviewers\":2,\"viewers\":[{\"pid\":%d,\"comm\":\"%s\","
		 "\"offset\":%zu,\"len\":%zu,\"prot\":3,\"rw\":true},"
		 "{\"pid\":%d,\"comm\":\"%s\",\"offset\":0,\"len\":%zu,"
		 "\"prot\":1,\"rw\":false}]}",
		 v[0].pid, comm, 4 * PG, 8 * PG, v[1].pid, comm, REGION_PAGES * PG);
	EXPECT_NE(NULL, strstr(out, want));
	EXPECT_NE(NULL, strstr(out, "\"shmid\":2,\"size\":65536,\"flags\":1,"
			       "\"fault_holes\":true,\"addr\":"));
	EXPECT_NE(NULL, strstr(out, "\"nviewers\":0,\"viewers\":[]}]"));
	free(out);
	snprintf(args, sizeof(args), "region show dev %u", self->id);
	out = run_cli(args, &st);
	ASSERT_NE(NULL, out);
	TH_LOG("vhost-shmem %s: %s", args, out);
	EXPECT_EQ(0, st);
	snprintf(want, sizeof(want),
		 " holes zero viewers 2\n"
		 "    viewer pid %d comm %s offset 0x%zx len 0x%zx rw\n"
		 "    viewer pid %d comm %s offset 0x0 len 0x%zx ro\n",
		 v[0].pid, comm, 4 * PG, 8 * PG, v[1].pid, comm, REGION_PAGES * PG);
	EXPECT_NE(NULL, strstr(out, want));
	free(out);
	vs_viewer_stop(&v[0]);
	vs_viewer_stop(&v[1]);

	/* Usage and kernel errors: exit status 1 and 2, "Error:" on stderr. */
	out = run_cli("map frobnicate", &st);
	EXPECT_EQ(1, WEXITSTATUS(st));
	EXPECT_EQ(0, strncmp(out, "Error: ", 7));
	free(out);
	out = run_cli("map show dev 2147483647", &st);
	EXPECT_EQ(2, WEXITSTATUS(st));
	EXPECT_EQ(0, strncmp(out, "Error: ", 7));
	free(out);
}

static void expect_map_event(struct __test_metadata *_metadata, struct nl *n,
			     uint32_t id, int cmd, const struct want_map *w,
			     int result)
{
	struct nl_rec r;

	ASSERT_EQ(0, next_event(n, id, 5000, &r));
	EXPECT_EQ(cmd, r.cmd);
	EXPECT_EQ(w->shmid, a_u32(r.tb[VHOST_SHMEM_A_MAP_SHMID]));
	EXPECT_EQ(w->shm_off, a_u64(r.tb[VHOST_SHMEM_A_MAP_SHM_OFFSET]));
	EXPECT_EQ(w->len, a_u64(r.tb[VHOST_SHMEM_A_MAP_LEN]));
	ASSERT_NE(NULL, r.tb[VHOST_SHMEM_A_MAP_RESULT]);
	EXPECT_EQ(result, (int)a_u32(r.tb[VHOST_SHMEM_A_MAP_RESULT]));
	if (cmd == VHOST_SHMEM_CMD_MAP_NTF) {
		EXPECT_EQ(w->fd_off, a_u64(r.tb[VHOST_SHMEM_A_MAP_FD_OFFSET]));
		EXPECT_EQ(w->flags, a_u64(r.tb[VHOST_SHMEM_A_MAP_FLAGS]));
		if (!result)
			EXPECT_TRUE(file_is(&r, w->fd));
	}
}

TEST_F(nl, events)
{
	struct want_map w[3];
	struct nl ev;
	struct nl_rec r;
	uint32_t id2;
	int fd2, i;

	want_set(self, w);
	ASSERT_EQ(0, nl_open(&ev));
	ASSERT_EQ(0, setsockopt(ev.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&ev.events_grp, sizeof(ev.events_grp)));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vs_map(self->d.fd, w[i].shmid, w[i].fd, w[i].fd_off,
				    w[i].shm_off, w[i].len, w[i].flags));
	EXPECT_EQ(-EEXIST, vs_map(self->d.fd, w[0].shmid, w[0].fd, w[0].fd_off,
				  w[0].shm_off, w[0].len, w[0].flags));
	ASSERT_EQ(0, vs_unmap(self->d.fd, w[1].shmid, w[1].shm_off, w[1].len));
	EXPECT_EQ(-ENOENT, vs_unmap(self->d.fd, w[1].shmid, w[1].shm_off, w[1].len));
	ASSERT_EQ(0, vs_reset(self->d.fd));

	for (i = 0; i < 3; i++)
		expect_map_event(_metadata, &ev, self->id, VHOST_SHMEM_CMD_MAP_NTF, &w[i], 0);
	expect_map_event(_metadata, &ev, self->id, VHOST_SHMEM_CMD_MAP_NTF, &w[0], -EEXIST);
	expect_map_event(_metadata, &ev, self->id, VHOST_SHMEM_CMD_UNMAP_NTF, &w[1], 0);
	expect_map_event(_metadata, &ev, self->id, VHOST_SHMEM_CMD_UNMAP_NTF, &w[1], -ENOENT);
	ASSERT_EQ(0, next_event(&ev, self->id, 5000, &r));
	EXPECT_EQ(VHOST_SHMEM_CMD_RESET_NTF, r.cmd);
	EXPECT_EQ(2, a_u64(r.tb[VHOST_SHMEM_A_MAP_REMOVED]));

	/* A device comes and goes. */
	fd2 = open(VS_DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, next_event(&ev, 0, 5000, &r));
	EXPECT_EQ(VHOST_SHMEM_CMD_DEV_CREATE_NTF, r.cmd);
	id2 = a_u32(r.tb[VHOST_SHMEM_A_DEV_ID]);
	EXPECT_NE(0, id2);
	EXPECT_NE(self->id, id2);
	close(fd2);
	ASSERT_EQ(0, next_event(&ev, id2, 5000, &r));
	EXPECT_EQ(VHOST_SHMEM_CMD_DEV_DESTROY_NTF, r.cmd);
	EXPECT_EQ(-ETIMEDOUT, next_event(&ev, 0, 200, &r));
	nl_close(&ev);
}

/* A view event of @id: the viewer's attributes. */
static void expect_view_event(struct __test_metadata *_metadata, struct nl *n,
			      uint32_t id, int cmd, pid_t pid, uint64_t off,
			      uint64_t len, uint32_t prot, int result)
{
	struct nl_rec r;

	ASSERT_EQ(0, next_event(n, id, 5000, &r));
	EXPECT_EQ(cmd, r.cmd);
	EXPECT_EQ(0, a_u32(r.tb[VHOST_SHMEM_A_REGION_SHMID]));
	ASSERT_EQ(1, r.nviewers);
	EXPECT_EQ((uint32_t)pid, r.viewer[0].pid);
	EXPECT_EQ(off, r.viewer[0].off);
	EXPECT_EQ(len, r.viewer[0].len);
	EXPECT_EQ(prot, r.viewer[0].prot);
	EXPECT_EQ(result, r.viewer[0].result);
}

/*
 * Viewers of a region in its dump (pid, comm, range, prot) and their
 * attach and detach events: a read-write view of part of region 0, a
 * read-only one of all of it; one unmaps its view, the other is killed.
 */
TEST_F(nl, viewers)
{
	struct vs_viewer v[2] = { { .pid = -1 }, { .pid = -1 } };
	char comm[16] = "";
	struct recs rs;
	struct nl ev;
	int i;

	ASSERT_EQ(0, my_comm(comm));
	ASSERT_EQ(0, nl_open(&ev));
	ASSERT_EQ(0, setsockopt(ev.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&ev.events_grp, sizeof(ev.events_grp)));
	ASSERT_EQ(0, start_two_viewers(self->d.fd, v));
	expect_view_event(_metadata, &ev, self->id, VHOST_SHMEM_CMD_VIEW_ATTACH_NTF,
			  v[0].pid, 4 * PG, 8 * PG, PROT_READ | PROT_WRITE, 0);
	expect_view_event(_metadata, &ev, self->id, VHOST_SHMEM_CMD_VIEW_ATTACH_NTF,
			  v[1].pid, 0, REGION_PAGES * PG, PROT_READ, 0);

	ASSERT_EQ(0, nl_dump(&self->n, VHOST_SHMEM_CMD_REGION_GET, self->id, &rs));
	ASSERT_EQ(2, rs.n);
	EXPECT_EQ(2, a_u32(rs.r[0].tb[VHOST_SHMEM_A_REGION_NVIEWERS]));
	ASSERT_EQ(2, rs.r[0].nviewers);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ((uint32_t)v[i].pid, rs.r[0].viewer[i].pid);
		EXPECT_STREQ(comm, rs.r[0].viewer[i].comm);
		EXPECT_EQ(-1000, rs.r[0].viewer[i].result);
	}
	EXPECT_EQ(4 * PG, rs.r[0].viewer[0].off);
	EXPECT_EQ(8 * PG, rs.r[0].viewer[0].len);
	EXPECT_EQ(PROT_READ | PROT_WRITE, rs.r[0].viewer[0].prot);
	EXPECT_EQ(0, rs.r[0].viewer[1].off);
	EXPECT_EQ(REGION_PAGES * PG, rs.r[0].viewer[1].len);
	EXPECT_EQ(PROT_READ, rs.r[0].viewer[1].prot);
	EXPECT_EQ(0, a_u32(rs.r[1].tb[VHOST_SHMEM_A_REGION_NVIEWERS]));
	EXPECT_EQ(0, rs.r[1].nviewers);
	recs_free(&rs);

	/* Its own munmap detaches the first, its exit the second. */
	ASSERT_EQ(0, vs_vcall(&v[0], V_MUNMAP, 0, 0, 0, 0));
	expect_view_event(_metadata, &ev, self->id, VHOST_SHMEM_CMD_VIEW_DETACH_NTF,
			  v[0].pid, 4 * PG, 8 * PG, PROT_READ | PROT_WRITE, -1000);
	ASSERT_EQ(0, nl_dump(&self->n, VHOST_SHMEM_CMD_REGION_GET, self->id, &rs));
	ASSERT_EQ(2, rs.n);
	EXPECT_EQ(1, a_u32(rs.r[0].tb[VHOST_SHMEM_A_REGION_NVIEWERS]));
	ASSERT_EQ(1, rs.r[0].nviewers);
	EXPECT_EQ((uint32_t)v[1].pid, rs.r[0].viewer[0].pid);
	recs_free(&rs);
	i = v[1].pid;
	vs_viewer_stop(&v[1]);
	expect_view_event(_metadata, &ev, self->id, VHOST_SHMEM_CMD_VIEW_DETACH_NTF,
			  i, 0, REGION_PAGES * PG, PROT_READ, -1000);
	EXPECT_EQ(-ETIMEDOUT, next_event(&ev, self->id, 200, &(struct nl_rec){ 0 }));
	vs_viewer_stop(&v[0]);
	nl_close(&ev);
}

/*
 * The map event of @id's next MAP (view events skipped): its result and
 * the refusing viewer's pid, 0 if the event names none.
 */
static void expect_refused(struct __test_metadata *_metadata, struct nl *n,
			   uint32_t id, uint64_t shm_off, int result, pid_t pid)
{
	struct nl_rec r;

	do {
		ASSERT_EQ(0, next_event(n, id, 5000, &r));
	} while (r.cmd == VHOST_SHMEM_CMD_VIEW_ATTACH_NTF ||
	       r.cmd == VHOST_SHMEM_CMD_VIEW_DETACH_NTF);
	EXPECT_EQ(VHOST_SHMEM_CMD_MAP_NTF, r.cmd);
	EXPECT_EQ(shm_off, a_u64(r.tb[VHOST_SHMEM_A_MAP_SHM_OFFSET]));
	EXPECT_EQ(result, (int)a_u32(r.tb[VHOST_SHMEM_A_MAP_RESULT]));
	if (pid) {
		ASSERT_NE(NULL, r.tb[VHOST_SHMEM_A_MAP_VIEWER_PID]);
	} else {
		EXPECT_EQ(NULL, r.tb[VHOST_SHMEM_A_MAP_VIEWER_PID]);
	}
	EXPECT_EQ((uint32_t)pid, a_u32(r.tb[VHOST_SHMEM_A_MAP_VIEWER_PID]));
}

/*
 * A MAP that one viewer's mm cannot take: its map event names that viewer
 * (viewer-pid), whether the viewer refused it when checked (a vma of its
 * own in the range: EXDEV) or when the MAP was installed in it (out of
 * vmas at vm.max_map_count: ENOMEM, after the other viewer took it).
 * Successful MAPs and failures of the owner's own name none.
 */
TEST_F(nl, map_refused_by_viewer)
{
	struct vs_viewer v[2] = { { .pid = -1 }, { .pid = -1 } };
	struct nl ev;
	long mmc, lim;
	int vfd, i;

	ASSERT_EQ(0, nl_open(&ev));
	ASSERT_EQ(0, setsockopt(ev.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&ev.events_grp, sizeof(ev.events_grp)));
	for (i = 0; i < 2; i++) {
		vfd = vs_get_view(self->d.fd, 0, 0);
		ASSERT_LE(0, vfd);
		ASSERT_EQ(0, vs_viewer_start(&v[i], vfd, 0, REGION_PAGES * PG, PROT_READ));
		close(vfd);
	}
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 0, PG, 0));
	expect_refused(_metadata, &ev, self->id, 0, 0, 0);
	EXPECT_EQ(-EEXIST, vs_map(self->d.fd, 0, self->a, 0, 0, PG, 0));
	expect_refused(_metadata, &ev, self->id, 0, -EEXIST, 0);
	/* A vma of the owner's own: no viewer to blame. */
	ASSERT_EQ(0, mprotect(self->d.r[0].addr + 10 * PG, PG, PROT_NONE));
	EXPECT_EQ(-EXDEV, vs_map(self->d.fd, 0, self->a, 0, 10 * PG, PG, 0));
	expect_refused(_metadata, &ev, self->id, 10 * PG, -EXDEV, 0);

	/* Refused when checked: by the second viewer, then by the first. */
	ASSERT_EQ(0, vs_vcall(&v[1], V_MPROTECT, 21 * PG, PG, 0, PROT_NONE));
	EXPECT_EQ(-EXDEV, vs_map(self->d.fd, 0, self->a, 0, 20 * PG, 4 * PG, 0));
	expect_refused(_metadata, &ev, self->id, 20 * PG, -EXDEV, v[1].pid);
	ASSERT_EQ(0, vs_vcall(&v[0], V_MPROTECT, 41 * PG, PG, 0, PROT_NONE));
	EXPECT_EQ(-EXDEV, vs_map(self->d.fd, 0, self->a, 0, 40 * PG, 4 * PG, 0));
	expect_refused(_metadata, &ev, self->id, 40 * PG, -EXDEV, v[0].pid);

	/*
	 * Refused when installed: the first viewer is out of vmas; the second
	 * (installed first, last attached) took it and gave it back.
	 */
	ASSERT_EQ(0, vs_read_long(MMC, &mmc));
	lim = vs_maps_total() + 64;
	self->orig_mmc = mmc;
	ASSERT_EQ(0, vs_write_long(MMC, lim));
	ASSERT_LE(lim, vs_vcall(&v[0], V_INFLATE, 0, 0, 0, lim + 16));
	EXPECT_EQ(-ENOMEM, vs_map(self->d.fd, 0, self->a, 0, 60 * PG, 2 * PG, 0));
	ASSERT_EQ(0, vs_write_long(MMC, mmc));
	self->orig_mmc = -1;
	expect_refused(_metadata, &ev, self->id, 60 * PG, -ENOMEM, v[0].pid);
	EXPECT_EQ(0, vs_vcall(&v[1], V_CHECK_ZERO, 60 * PG, 2 * PG, 0, 0));
	vs_viewer_stop(&v[0]);
	vs_viewer_stop(&v[1]);
	nl_close(&ev);
}

/*
 * A MAP a viewer reached first keeps (it sealed the new vma, or registered
 * it with userfaultfd, while a read-only viewer refused a read-write
 * /dev/zero MAP): its map event says EBUSY and names that viewer, not the
 * one that refused, and the region's mapping dump still lists it until an
 * UNMAP takes it out, once that viewer is gone. As in views_test's
 * map_kept_by_viewer_stays_listed, a viewer that keeps its mmap_lock busy
 * in between makes the device wait after the install; a race lost anyway
 * is EACCES from the read-only viewer, and the next range is tried.
 */
TEST_F(nl, map_kept_by_viewer_names_it)
{
	struct vs_viewer v[3] = { { .pid = -1 }, { .pid = -1 }, { .pid = -1 } };
	int zfd = open("/dev/zero", O_RDWR | O_CLOEXEC), vfd, i, ret = 0;
	uint64_t off, len = 2 * PG;
	long grabbed = 0;
	struct recs rs;
	struct nl ev;

	ASSERT_LE(0, zfd);
	ASSERT_EQ(0, nl_open(&ev));
	ASSERT_EQ(0, setsockopt(ev.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&ev.events_grp, sizeof(ev.events_grp)));
	/* v[0] read-only, attached first: installed last, and refuses. */
	for (i = 0; i < 3; i++) {
		vfd = vs_get_view(self->d.fd, 0, i ? VHOST_SHMEM_VIEW_F_RW : 0);
		ASSERT_LE(0, vfd);
		ASSERT_EQ(0, vs_viewer_start(&v[i], vfd, 0, REGION_PAGES * PG,
					     i ? PROT_READ | PROT_WRITE : PROT_READ));
		close(vfd);
	}
	for (off = 0; off < 64 * PG; off += 8 * PG) {
		ASSERT_EQ(0, vs_vcall(&v[1], V_BUSY, 0, 0, 0, 64 << 20));
		ASSERT_EQ(0, vs_vcall(&v[2], V_GRAB, off, len, 0, vs_grab_mode()));
		ret = vs_map(self->d.fd, 0, zfd, 0, off, len, VHOST_SHMEM_MAP_F_RW);
		grabbed = vs_vcall(&v[2], V_GRABBED, 0, 0, 0, 0);
		ASSERT_EQ(1, vs_vcall(&v[1], V_VMAS, 0, 0, 0, 0));
		ASSERT_LE(0, grabbed);
		if (grabbed)
			break;
		ASSERT_EQ(-EACCES, ret);
		expect_refused(_metadata, &ev, self->id, off, -EACCES, v[0].pid);
	}
	close(zfd);
	ASSERT_TRUE(grabbed);
	EXPECT_EQ(-EBUSY, ret);
	expect_refused(_metadata, &ev, self->id, off, -EBUSY, v[2].pid);
	ASSERT_EQ(0, nl_dump(&self->n, VHOST_SHMEM_CMD_MAP_GET, self->id, &rs));
	ASSERT_EQ(1, rs.n);
	EXPECT_EQ(off, a_u64(rs.r[0].tb[VHOST_SHMEM_A_MAP_SHM_OFFSET]));
	EXPECT_EQ(len, a_u64(rs.r[0].tb[VHOST_SHMEM_A_MAP_LEN]));
	recs_free(&rs);
	/* Gone with that viewer: UNMAP takes it out of the table. */
	vs_viewer_stop(&v[2]);
	EXPECT_EQ(0, vs_unmap(self->d.fd, 0, off, len));
	ASSERT_EQ(0, nl_dump(&self->n, VHOST_SHMEM_CMD_MAP_GET, self->id, &rs));
	EXPECT_EQ(0, rs.n);
	recs_free(&rs);
	vs_viewer_stop(&v[0]);
	vs_viewer_stop(&v[1]);
	nl_close(&ev);
}

/*
 * Failed MAPs finished while another request holds the device: their
 * events need nothing of it and must all arrive meanwhile, the refusing
 * viewer's pid included. A helper's batch of 64 MAPs (63 refused by
 * their checks, before the device was asked: EBADSLT; the last by a
 * viewer, a vma of its own in the range: EXDEV) is queued to the worker
 * behind a MAP that waits for a stalled viewer's mmap_lock (stall_lib.h),
 * and another helper's MAP that waits for a second stalled viewer is
 * queued behind it: once the batch ran, that MAP holds the device until
 * the test lets it go, before the batch's requester (woken, not running
 * yet) finishes its 64 operations.
 */
#define FB_OPS		VHOST_SHMEM_BATCH_MAX

struct fb_remote_map {
	struct vs_remote *r;
	int memfd;
	uint64_t off;
	int ret;
	atomic_bool done;
};

static void *fb_remote_map_fn(void *arg)
{
	struct fb_remote_map *m = arg;

	m->ret = vs_remote_map(m->r, 0, m->memfd, 0, m->off, PG, 0);
	atomic_store(&m->done, true);
	return NULL;
}

static void *fb_release_fn(void *arg)
{
	return (void *)(intptr_t)vs_busy_release(arg);
}

TEST_F_TIMEOUT(nl, failed_map_events_while_busy, 120)
{
	const uint64_t size = REGION_PAGES * PG, f_off = 40 * PG;
	struct vs_viewer v = { .pid = -1 };
	struct vs_busy b1, b2;
	struct vs_remote r = { .pid = -1 };
	struct fb_remote_map rm = { .r = &r, .memfd = self->b,
				    .off = (REGION_PAGES - 2) * PG };
	struct vhost_shmem_op ops[FB_OPS];
	int go[2], res[2], i, vfd, got = 0, bad = 0, status;
	bool f_seen = false, busy_after;
	pthread_t mapper, releaser;
	int64_t t0, f_us = -1;
	void *rel_ret;
	struct nl ev;
	pid_t batcher;

	if (access("/dev/fuse", F_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS)");
	ASSERT_EQ(0, nl_open(&ev));
	ASSERT_EQ(0, setsockopt(ev.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&ev.events_grp, sizeof(ev.events_grp)));
	/* The refusing viewer first: viewers are checked in attach order. */
	vfd = vs_get_view(self->d.fd, 0, 0);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vs_viewer_start(&v, vfd, 0, size, PROT_READ));
	close(vfd);
	ASSERT_EQ(0, vs_vcall(&v, V_MPROTECT, f_off + PG, PG, 0, PROT_NONE));
	ASSERT_EQ(0, vs_busy_start(&b1, self->d.fd, 0, size, (REGION_PAGES - 1) * PG));
	ASSERT_EQ(0, vs_busy_start(&b2, self->d.fd, 0, size, rm.off));
	ASSERT_EQ(0, vs_remote_start(&r, self->d.fd));
	for (i = 0; i < FB_OPS - 1; i++)
		ops[i] = vs_op_map(1, self->a, 0, i * PG, PG, 0);
	ops[i] = vs_op_map(0, self->a, 0, f_off, 4 * PG, 0);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(res));
	batcher = fork();
	ASSERT_LE(0, batcher);
	if (!batcher) {
		char c;

		if (read(go[0], &c, 1) != 1 || vs_batch(self->d.fd, ops, FB_OPS) ||
		    write(res[1], ops, sizeof(ops)) != sizeof(ops))
			_exit(1);
		_exit(0);
	}

	ASSERT_EQ(0, vs_busy_hold(&b1));
	ASSERT_EQ(1, write(go[1], "g", 1));
	/* The batch waits for the worker, then the second MAP behind it. */
	ASSERT_TRUE(vs_wait_state(batcher, 'D', 5000));
	ASSERT_EQ(0, vs_busy_stall(&b2));
	ASSERT_EQ(0, pthread_create(&mapper, NULL, fb_remote_map_fn, &rm));
	EXPECT_TRUE(vs_wait_state(r.pid, 'D', 5000));
	ASSERT_EQ(0, pthread_create(&releaser, NULL, fb_release_fn, &b1));
	/*
	 * All 64 events while the second MAP holds the device: it does until
	 * the test lets it go, so the bound is only for when they never come
	 * (they came after 35 ms on 6.12, 346 ms on the debug kernel).
	 */
	t0 = now_us();
	while (!f_seen && now_us() - t0 < 20000000) {
		struct nl_rec e;

		if (next_event(&ev, self->id, 100, &e) ||
		    e.cmd != VHOST_SHMEM_CMD_MAP_NTF)
			continue;
		if (a_u32(e.tb[VHOST_SHMEM_A_MAP_SHMID]) == 1) {
			got++;
			bad += (int)a_u32(e.tb[VHOST_SHMEM_A_MAP_RESULT]) != -EBADSLT;
		} else if (a_u64(e.tb[VHOST_SHMEM_A_MAP_SHM_OFFSET]) == f_off) {
			f_seen = true;
			f_us = now_us() - t0;
			EXPECT_EQ(-EXDEV, (int)a_u32(e.tb[VHOST_SHMEM_A_MAP_RESULT]));
			ASSERT_NE(NULL, e.tb[VHOST_SHMEM_A_MAP_VIEWER_PID]);
			EXPECT_EQ((uint32_t)v.pid, a_u32(e.tb[VHOST_SHMEM_A_MAP_VIEWER_PID]));
		}
	}
	/*
	 * And the second MAP holds the device: it has not returned, and the
	 * worker sleeps in it (it may still be on its way there).
	 */
	busy_after = vs_wait_state(b2.worker, 'D', 2000) &&
		     !atomic_load(&rm.done);
	EXPECT_EQ(0, vs_busy_unstall(&b2));
	pthread_join(mapper, NULL);
	pthread_join(releaser, &rel_ret);
	TH_LOG("while busy: %d of %d refused-by-checks events, the viewer's %s (%.0f ms)",
	       got, FB_OPS - 1, f_seen ? "too" : "not", f_us / 1e3);
	EXPECT_TRUE(f_seen);
	EXPECT_EQ(FB_OPS - 1, got);
	EXPECT_EQ(0, bad);
	EXPECT_TRUE(busy_after);
	EXPECT_EQ(0, rm.ret);
	EXPECT_EQ(0, (int)(intptr_t)rel_ret);
	EXPECT_EQ(0, vs_remote_unmap(&r, 0, rm.off, PG));
	ASSERT_EQ(sizeof(ops), read(res[0], ops, sizeof(ops)));
	for (i = 0; i < FB_OPS - 1; i++)
		EXPECT_EQ(-EBADSLT, ops[i].result);
	EXPECT_EQ(-EXDEV, ops[FB_OPS - 1].result);
	waitpid(batcher, &status, 0);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(go[0]);
	close(go[1]);
	close(res[0]);
	close(res[1]);
	vs_remote_stop(&r);
	vs_busy_stop(&b2);
	vs_busy_stop(&b1);
	vs_viewer_stop(&v);
	nl_close(&ev);
}

/* Not root: every dump and the events group are refused with EPERM. */
TEST_F(nl, unprivileged)
{
	pid_t pid = fork();
	int st;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct nl n;
		struct recs rs;
		int grp, ret;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		/* setresuid() away from root cleared every capability. */
		if (nl_open(&n))
			_exit(11);	/* the controller itself is open to all */
		ret = nl_dump(&n, VHOST_SHMEM_CMD_DEV_GET, 0, &rs);
		if (ret != -EPERM)
			_exit(12);
		if (nl_dump(&n, VHOST_SHMEM_CMD_MAP_GET, 0, &rs) != -EPERM)
			_exit(13);
		if (nl_dump(&n, VHOST_SHMEM_CMD_REGION_GET, self->id, &rs) != -EPERM)
			_exit(15);
		grp = n.events_grp;
		if (!setsockopt(n.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp,
				sizeof(grp)) || errno != EPERM)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	if (WEXITSTATUS(st))
		TH_LOG("child failed at step %d (10 setresuid, 11 family, 12 dev-get "
		       "not EPERM, 13 map-get not EPERM, 14 join not EPERM, "
		       "15 region-get not EPERM)",
		       WEXITSTATUS(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static char *read_all(const char *path)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r"), *o;
	int c;

	if (!f)
		return NULL;
	o = open_memstream(&out, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, o);
	fclose(o);
	fclose(f);
	return out;
}

TEST_F(nl, tracepoints)
{
	char want[256], *trace;

	if (access(TRACEFS "/trace", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (access(TRACEFS "/trace", F_OK))
		SKIP(return, "no tracefs at %s", TRACEFS);
	ASSERT_EQ(0, access(TRACEFS "/events/vhost_shmem/vhost_shmem_map", F_OK));
	ASSERT_EQ(0, write_str(TRACEFS "/trace", ""));
	ASSERT_EQ(0, write_str(TRACEFS "/events/vhost_shmem/enable", "1"));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 2 * PG, 5 * PG, 3 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	EXPECT_EQ(-ENOENT, vs_unmap(self->d.fd, 0, 5 * PG, PG));
	ASSERT_EQ(0, vs_reset(self->d.fd));
	ASSERT_EQ(0, write_str(TRACEFS "/events/vhost_shmem/enable", "0"));
	trace = read_all(TRACEFS "/trace");
	ASSERT_NE(NULL, trace);
	snprintf(want, sizeof(want),
		 "vhost_shmem_map: dev=%u shmid=0 shm_offset=0x%lx len=0x%lx "
		 "fd_offset=0x%lx flags=0x1 result=0", self->id, 5 * PG, 3 * PG, 2 * PG);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no \"%s\" in:\n%s", want, trace);
	snprintf(want, sizeof(want),
		 "vhost_shmem_unmap: dev=%u shmid=0 shm_offset=0x%lx len=0x%lx "
		 "fd_offset=0x0 flags=0x0 result=-2", self->id, 5 * PG, PG);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no \"%s\" in:\n%s", want, trace);
	snprintf(want, sizeof(want), "vhost_shmem_reset: dev=%u removed=1", self->id);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no \"%s\" in:\n%s", want, trace);
	free(trace);
}

/*
 * Dumps while a device is busy (issue 9: netlink dumps never block on a
 * busy device, nor hold up other generic netlink families, nor open() and
 * close() of the device). The device is held busy as long as the test
 * wants (stall_lib.h): its worker holds the device's mutex while it waits
 * for the mmap_lock of a viewer, which a stalled FUSE READ holds. One
 * thread dumps our family over and over (the device list, then the busy
 * device's mappings); a probe thread, each time it sees one of those
 * dumps asleep in its send() (the first dump callback, which waits up to
 * 100 ms for the busy device, then gives up with EBUSY), runs a probe (an
 * nlctrl request, or open() + close() of the device) and tells whether the
 * probe was over before that send() returned.
 *
 * Nothing here depends on how long things take, only on what happened
 * before what: a hold lasts until BUSY_IN_HOLD dumps of each kind began
 * and ended EBUSY in it and BUSY_PROBES probes ran in it (BUSY_WAIT_MS at
 * most: then the hold failed), the gap after it until a dump of each kind
 * began and completed in it. A probe that waits on our dump (nlctrl behind
 * genl_mutex, open() behind the registry lock) cannot be over before our
 * send() returns; one that does not is over in a few ms, while our send()
 * sleeps for about 100 ms: at least half of them must be.
 */
#define BUSY_WAIT_MS	20000	/* a hold's or gap's bound; ~1 s is needed */
#define BUSY_CALL_MS	5000	/* a dump call: ~100 ms; ~20 s if it waits out a hold */
#define BUSY_HOLDS	3
#define BUSY_IN_HOLD	3	/* dumps of each kind that end EBUSY in one hold */
#define BUSY_PROBES	8	/* probes begun in one hold */
#define BUSY_GAP_MS	100	/* at least, the device free between holds */
#define BUSY_PAGES	16	/* the busy device's region */

/* The holds: whether one is on, how many began. */
struct busy_window {
	atomic_bool on;
	atomic_int n;
};

/* What the dumping thread saw, per kind of dump. */
struct busy_kind {
	int dumps, done, ebusy;
	int inside, inside_done;	/* dumps all in one hold; complete ones */
	atomic_int in_ebusy;	/* dumps all in one hold that ended EBUSY */
	atomic_int out_done;	/* dumps all between holds that completed */
	int64_t dump_max_us;	/* a whole dump, all its callbacks */
	int64_t ebusy_min_us;	/* a dump that ended in EBUSY */
};

struct busy_dumper {
	uint32_t dev;		/* the busy device */
	atomic_bool *stop;
	struct busy_window *w;
	atomic_bool started;	/* its first dump is done */
	atomic_int tid;		/* its thread, for the probe */
	atomic_uint seq;	/* odd while in a send() */
	int err;		/* first result neither 0 nor EBUSY */
	int64_t call_max_us;	/* longest send() or recv(): one callback */
	struct busy_kind k[2];	/* [0] DEV_GET, [1] MAP_GET */
};

static void on_count(struct nlmsghdr *nh, void *arg)
{
	(*(int *)arg)++;
}

static void *busy_dump_fn(void *arg)
{
	struct busy_dumper *b = arg;
	struct nl n;
	int i, ret;

	atomic_store(&b->tid, gettid());
	ret = nl_open(&n);
	for (i = 0; !ret && !atomic_load(b->stop); i++) {
		struct busy_kind *k = &b->k[i % 2];
		int64_t t0 = now_us(), us;
		bool on = atomic_load(&b->w->on), in, out;
		int hold = atomic_load(&b->w->n);
		int msgs = 0;

		atomic_fetch_add(&b->seq, 1);
		if (i % 2)
			ret = nl_send(&n, n.family, NLM_F_DUMP, VHOST_SHMEM_CMD_MAP_GET,
				      VHOST_SHMEM_A_DEV_ID, &b->dev, sizeof(b->dev));
		else
			ret = nl_send(&n, n.family, NLM_F_DUMP, VHOST_SHMEM_CMD_DEV_GET,
				      0, NULL, 0);
		atomic_fetch_add(&b->seq, 1);
		if (!ret)
			ret = nl_recv(&n, true, on_count, &msgs);
		us = now_us() - t0;
		/* Begun and ended in the same hold: the device was busy throughout. */
		in = on && atomic_load(&b->w->on) && hold == atomic_load(&b->w->n);
		/* Begun and ended in the same gap: the device was free throughout. */
		out = !on && !atomic_load(&b->w->on) && hold == atomic_load(&b->w->n);
		if (in) {
			k->inside++;
			k->inside_done += !ret;
			if (ret == -EBUSY)
				atomic_fetch_add(&k->in_ebusy, 1);
		}
		if (out && !ret)
			atomic_fetch_add(&k->out_done, 1);
		k->dumps++;
		if (us > k->dump_max_us)
			k->dump_max_us = us;
		if (ret == -EBUSY) {
			k->ebusy++;
			if (!k->ebusy_min_us || us < k->ebusy_min_us)
				k->ebusy_min_us = us;
			ret = 0;
		} else if (!ret) {
			k->done++;
		}
		atomic_store(&b->started, true);
	}
	b->err = ret;
	b->call_max_us = n.call_max_us;
	atomic_store(&b->started, true);
	nl_close(&n);
	return NULL;
}

/* A probe run while our dump sleeps in its send(); 0 or -errno. */
struct busy_probe {
	struct busy_dumper *d;	/* ours */
	atomic_bool *stop;
	int (*fn)(struct busy_probe *p);
	struct nl n;		/* the nlctrl probe's socket */
	atomic_int tried;	/* probes begun in a hold while ours slept */
	int within;		/* over before that send() of ours returned */
	int err;
	int64_t max_us, within_max_us;
};

/* nlctrl's GETFAMILY of our family: short, and under genl_mutex. */
static int probe_nlctrl(struct busy_probe *p)
{
	int msgs = 0, ret;

	ret = nl_send(&p->n, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY,
		      CTRL_ATTR_FAMILY_NAME, VHOST_SHMEM_FAMILY_NAME,
		      sizeof(VHOST_SHMEM_FAMILY_NAME));
	if (!ret)
		ret = nl_recv(&p->n, false, on_count, &msgs);
	return ret ? ret : msgs == 1 ? 0 : -EPROTO;
}

static int probe_open_close(struct busy_probe *p)
{
	int fd = open("/dev/vhost-shmem", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return close(fd) ? -errno : 0;
}

static void *busy_probe_fn(void *arg)
{
	struct busy_probe *p = arg;
	struct busy_window *w = p->d->w;
	pid_t tid = atomic_load(&p->d->tid);

	while (!atomic_load(p->stop)) {
		unsigned int s = atomic_load(&p->d->seq);
		int hold = atomic_load(&w->n), ret;
		int64_t t0, us;

		/* Our dump in a send() begun in a hold, asleep there (D). */
		if (!(s & 1) || !atomic_load(&w->on) || vs_proc_state(tid) != 'D' ||
		    atomic_load(&p->d->seq) != s) {
			usleep(1000);
			continue;
		}
		t0 = now_us();
		ret = p->fn(p);
		us = now_us() - t0;
		if (ret) {
			p->err = ret;
			break;
		}
		if (atomic_load(&p->d->seq) == s && atomic_load(&w->on) &&
		    hold == atomic_load(&w->n)) {
			p->within++;
			if (us > p->within_max_us)
				p->within_max_us = us;
		}
		if (us > p->max_us)
			p->max_us = us;
		atomic_fetch_add(&p->tried, 1);
		/* One probe per send() of ours. */
		while (atomic_load(&p->d->seq) == s && !atomic_load(p->stop))
			usleep(1000);
	}
	return NULL;
}

/* Counters and how much each must grow for a hold (or gap) to be done. */
struct busy_goal {
	atomic_int *c[3];
	int need[3], base[3], n;
};

static void goal_start(struct busy_goal *g)
{
	for (int i = 0; i < g->n; i++)
		g->base[i] = atomic_load(g->c[i]);
}

static bool goal_met(const struct busy_goal *g)
{
	for (int i = 0; i < g->n; i++)
		if (atomic_load(g->c[i]) - g->base[i] < g->need[i])
			return false;
	return true;
}

/* Waits up to BUSY_WAIT_MS for @g; true if it was met. */
static bool goal_wait(struct busy_goal *g)
{
	int64_t t0 = now_us();

	while (!goal_met(g) && now_us() - t0 < BUSY_WAIT_MS * 1000LL)
		usleep(10000);
	return goal_met(g);
}

/*
 * One hold of @bs: the device busy (@w->on) until @held was met, then
 * free until @freed was met (BUSY_GAP_MS at least). *@held_us: how long
 * it was held; *@met: both goals were met. 0 or -errno.
 */
static int busy_hold(struct vs_busy *bs, struct busy_window *w, struct busy_goal *held,
		     struct busy_goal *freed, int64_t *held_us, bool *met)
{
	int64_t t0;
	int ret;

	ret = vs_busy_hold(bs);
	if (ret)
		return ret;
	t0 = now_us();
	goal_start(held);
	atomic_fetch_add(&w->n, 1);
	atomic_store(&w->on, true);
	*met = goal_wait(held);
	atomic_store(&w->on, false);
	*held_us = now_us() - t0;
	goal_start(freed);
	ret = vs_busy_release(bs);
	usleep(BUSY_GAP_MS * 1000);
	*met = goal_wait(freed) && *met;
	return ret;
}

/*
 * The busy device: @bd with one region of BUSY_PAGES, its viewer forked
 * (before any thread starts), *@dev its id. 0, or -1 with a log.
 */
static int busy_setup(struct __test_metadata *_metadata, struct nl *n,
		      struct vs_dev *bd, struct vs_busy *bs, uint32_t *dev)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = BUSY_PAGES * PG } };
	int ret;

	if (vs_dev_setup(bd, l, 1, true)) {
		TH_LOG("busy device: %s", bd->err);
		return -1;
	}
	/* The newest device this process owns. */
	*dev = my_dev_id(n);
	ret = vs_busy_start(bs, bd->fd, 0, BUSY_PAGES * PG, 0);
	if (ret)
		TH_LOG("busy viewer: %s", strerror(-ret));
	return ret || !*dev ? -1 : 0;
}

static void busy_log(struct __test_metadata *_metadata, const char *what,
		     const struct busy_kind *k)
{
	TH_LOG("%s: %d dumps, %d complete, %d EBUSY (fastest %.0f ms), longest %.0f ms; "
	       "%d all in a hold, %d of them complete, %d EBUSY; %d complete all between holds",
	       what, k->dumps, k->done, k->ebusy, k->ebusy_min_us / 1e3,
	       k->dump_max_us / 1e3, k->inside, k->inside_done,
	       atomic_load(&k->in_ebusy), atomic_load(&k->out_done));
}

/*
 * Holds the device BUSY_HOLDS times while @ours dumps and @p probes (@p
 * NULL: no probe). Asserts what holds for both tests: each hold saw
 * BUSY_IN_HOLD dumps of each kind begin and give up (EBUSY) in it, and
 * none complete; each gap a dump of each kind complete; no dump call
 * waited out a hold (BUSY_WAIT_MS) or came near it.
 */
static void busy_run(struct __test_metadata *_metadata, struct vs_busy *bs,
		     struct busy_dumper *ours, struct busy_probe *p)
{
	struct busy_goal held = { .n = 2 }, freed = { .n = 2 };
	int64_t start, held_us = 0, held_max_us = 0;
	struct busy_window w = {};
	atomic_bool stop = false;
	int i, ret = 0, met = 0;
	bool ok = true;
	pthread_t t[2];

	ours->stop = &stop;
	ours->w = &w;
	for (i = 0; i < 2; i++) {
		held.c[i] = &ours->k[i].in_ebusy;
		held.need[i] = BUSY_IN_HOLD;
		freed.c[i] = &ours->k[i].out_done;
		freed.need[i] = 1;
	}
	if (p) {
		p->stop = &stop;
		p->d = ours;
		held.c[held.n] = &p->tried;
		held.need[held.n++] = BUSY_PROBES;
	}
	ASSERT_EQ(0, pthread_create(&t[0], NULL, busy_dump_fn, ours));
	while (!atomic_load(&ours->started))
		usleep(1000);
	if (p && pthread_create(&t[1], NULL, busy_probe_fn, p)) {
		ret = -EAGAIN;
		p = NULL;
	}
	start = now_us();
	/* A hold not met (a dump waited it out): no more of them. */
	for (i = 0; !ret && ok && i < BUSY_HOLDS; i++) {
		ret = busy_hold(bs, &w, &held, &freed, &held_us, &ok);
		met += ok;
		if (held_us > held_max_us)
			held_max_us = held_us;
	}
	atomic_store(&stop, true);
	pthread_join(t[0], NULL);
	if (p)
		pthread_join(t[1], NULL);
	vs_busy_stop(bs);

	TH_LOG("%d holds in %.1f s, %d met, the longest %.0f ms", i,
	       (now_us() - start) / 1e6, met, held_max_us / 1e3);
	busy_log(_metadata, "device list", &ours->k[0]);
	busy_log(_metadata, "map list", &ours->k[1]);
	TH_LOG("longest dump callback of ours: %.0f ms", ours->call_max_us / 1e3);
	ASSERT_EQ(0, ret) TH_LOG("hold %d: %s", i, strerror(-ret));
	/*
	 * Every hold: dumps of each kind began and gave up (EBUSY) in it,
	 * the probes ran; every gap: dumps of each kind completed.
	 */
	EXPECT_EQ(BUSY_HOLDS, met);
	/* None that ran all in a hold completed. */
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, ours->k[i].inside_done);
	/* Every dump ended complete or with EBUSY. */
	EXPECT_EQ(0, ours->err) TH_LOG("our dump: %s", strerror(-ours->err));
	/* No dump callback waited out a hold. */
	EXPECT_GT(BUSY_CALL_MS * 1000LL, ours->call_max_us);
}

/* The probe's verdict: at least half of its runs were over in our send(). */
static void probe_log_check(struct __test_metadata *_metadata, const char *what,
			    struct busy_probe *p)
{
	int tried = atomic_load(&p->tried);

	TH_LOG("%s while a dump of ours slept in its send(): %d, %d over before it "
	       "returned (the longest of those %.1f ms); the longest of all %.1f ms",
	       what, tried, p->within, p->within_max_us / 1e3, p->max_us / 1e3);
	EXPECT_EQ(0, p->err) TH_LOG("%s: %s", what, strerror(-p->err));
	EXPECT_LE(BUSY_PROBES * BUSY_HOLDS, tried);
	EXPECT_LE(tried, 2 * p->within);
}

TEST_F_TIMEOUT(nl, dump_while_busy, 120)
{
	struct busy_dumper ours = {};
	struct busy_probe ctrl = { .fn = probe_nlctrl };
	struct vs_busy bs;
	struct vs_dev bd;

	if (access("/dev/fuse", F_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS)");
	ASSERT_EQ(0, busy_setup(_metadata, &self->n, &bd, &bs, &ours.dev));
	ASSERT_NE(self->id, ours.dev);
	ASSERT_EQ(0, nl_open(&ctrl.n));
	busy_run(_metadata, &bs, &ours, &ctrl);
	/*
	 * nlctrl never waits on us: its requests are answered while our
	 * dump waits for the busy device (not with parallel_ops off: our
	 * dump would hold genl_mutex, which nlctrl's requests take).
	 */
	probe_log_check(_metadata, "nlctrl GETFAMILY", &ctrl);
	nl_close(&ctrl.n);
	vs_dev_close(&bd);
}

/*
 * open() and close() of the device while a dump waits on a busy one
 * (issue 9: a dump waits for a busy device holding only a reference on
 * it, not the registry lock, which open() and close() take).
 */
TEST_F_TIMEOUT(nl, open_close_while_dump_waits, 120)
{
	struct busy_dumper ours = {};
	struct busy_probe op = { .fn = probe_open_close };
	struct vs_busy bs;
	struct vs_dev bd;

	if (access("/dev/fuse", F_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS)");
	ASSERT_EQ(0, busy_setup(_metadata, &self->n, &bd, &bs, &ours.dev));
	busy_run(_metadata, &bs, &ours, &op);
	probe_log_check(_metadata, "open()+close()", &op);
	vs_dev_close(&bd);
}

/*
 * close() of an owned device returns once the worker finished its release;
 * from then on no dump may list it (the fuzzer found dumps that still did,
 * when the releaser woke before the worker unlisted the device).
 */
TEST_F(nl, closed_device_is_unlisted)
{
	int i, listed = 0;

	for (i = 0; i < 300; i++) {
		int fd = open("/dev/vhost-shmem", O_RDWR | O_CLOEXEC);
		struct recs rs;
		int mine = 0;

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ioctl(fd, VHOST_SHMEM_SET_OWNER));
		ASSERT_EQ(0, close(fd));
		ASSERT_EQ(0, nl_dump(&self->n, VHOST_SHMEM_CMD_DEV_GET, 0, &rs));
		for (int j = 0; j < rs.n; j++)
			if (a_u32(rs.r[j].tb[VHOST_SHMEM_A_DEV_OWNER_PID]) ==
			    (uint32_t)getpid())
				mine++;
		recs_free(&rs);
		/* The fixture's device is ours too. */
		if (mine != 1)
			listed++;
	}
	if (listed)
		TH_LOG("%d of %d closed devices still listed after close()", listed, i);
	ASSERT_EQ(0, listed);
}

TEST_HARNESS_MAIN
