// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink dumps of the "vhost-shmem" family with plain sockets:
 * resolve the family, send one dump request, parse the attributes the
 * fuzzer compares with its model. One socket per call, so any thread or
 * process may dump at any time (also across module reloads, which change
 * the family id).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "fuzz.h"

#define NLBUF	(32 * 1024)

struct nlsock {
	int fd;
	uint32_t seq;
	uint16_t family;
	char *buf;
};

#define for_each_attr(a, start, len) \
	for (a = (struct nlattr *)(start); \
	     (char *)a + sizeof(*a) <= (char *)(start) + (len) && a->nla_len >= sizeof(*a) && \
	     (char *)a + a->nla_len <= (char *)(start) + (len); \
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))

static uint64_t attr_u64(const struct nlattr *a)
{
	uint64_t v = 0;

	memcpy(&v, a + 1, a->nla_len - sizeof(*a) >= 8 ? 8 : 4);
	return v;
}

static int send_req(struct nlsock *s, uint16_t type, uint16_t flags, uint8_t cmd,
		    uint16_t attr, const void *data, uint16_t dlen)
{
	char msg[128] = {};
	struct nlmsghdr *nh = (struct nlmsghdr *)msg;
	struct genlmsghdr *gh = NLMSG_DATA(nh);
	struct nlattr *a = (struct nlattr *)((char *)gh + GENL_HDRLEN);

	nh->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = ++s->seq;
	gh->cmd = cmd;
	gh->version = 1;
	if (attr) {
		a->nla_type = attr;
		a->nla_len = sizeof(*a) + dlen;
		memcpy(a + 1, data, dlen);
		nh->nlmsg_len += NLA_ALIGN(a->nla_len);
	}
	return send(s->fd, msg, nh->nlmsg_len, 0) < 0 ? -errno : 0;
}

typedef void (*msg_fn)(struct nlattr *attrs, int len, void *arg);

/* Every message of the answer to the last request, until DONE or an error. */
static int recv_all(struct nlsock *s, bool dump, msg_fn fn, void *arg)
{
	for (;;) {
		ssize_t len = recv(s->fd, s->buf, NLBUF, 0);
		struct nlmsghdr *nh;

		if (len < 0)
			return errno == EINTR ? -EINTR : -errno;
		for (nh = (struct nlmsghdr *)s->buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != s->seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return nh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) ?
				       *(int *)NLMSG_DATA(nh) : 0;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
			fn((struct nlattr *)((char *)NLMSG_DATA(nh) + GENL_HDRLEN),
			   nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), arg);
			if (!dump)
				return 0;
		}
	}
}

static void on_family(struct nlattr *attrs, int len, void *arg)
{
	struct nlsock *s = arg;
	struct nlattr *a;

	for_each_attr(a, attrs, len)
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			s->family = *(uint16_t *)(a + 1);
}

static int nl_open(struct nlsock *s)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int ret;

	memset(s, 0, sizeof(*s));
	s->buf = malloc(NLBUF);
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (!s->buf || s->fd < 0)
		return -errno;
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	ret = send_req(s, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME,
		       VHOST_SHMEM_FAMILY_NAME, sizeof(VHOST_SHMEM_FAMILY_NAME));
	if (!ret)
		ret = recv_all(s, false, on_family, s);
	if (!ret && !s->family)
		ret = -ENOENT;
	return ret;
}

static void nl_close(struct nlsock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
}

struct devs_acc {
	struct fz_nl_dev *out;
	int n, max;
};

static void on_dev(struct nlattr *attrs, int len, void *arg)
{
	struct devs_acc *acc = arg;
	struct fz_nl_dev d = {};
	struct nlattr *a;

	for_each_attr(a, attrs, len) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case VHOST_SHMEM_A_DEV_ID: d.id = attr_u64(a); break;
		case VHOST_SHMEM_A_DEV_OWNER_PID: d.owner_pid = attr_u64(a); break;
		case VHOST_SHMEM_A_DEV_MAPPINGS: d.mappings = attr_u64(a); break;
		case VHOST_SHMEM_A_DEV_MAPS: d.maps = attr_u64(a); break;
		case VHOST_SHMEM_A_DEV_UNMAPS: d.unmaps = attr_u64(a); break;
		case VHOST_SHMEM_A_DEV_FAILURES: d.failures = attr_u64(a); break;
		}
	}
	if (acc->n < acc->max)
		acc->out[acc->n] = d;
	acc->n++;
}

int fz_nl_devs(struct fz_nl_dev *out, int max)
{
	struct devs_acc acc = { out, 0, max };
	struct nlsock s;
	int ret;

	ret = nl_open(&s);
	if (!ret)
		ret = send_req(&s, s.family, NLM_F_DUMP, VHOST_SHMEM_CMD_DEV_GET, 0, NULL, 0);
	if (!ret)
		ret = recv_all(&s, true, on_dev, &acc);
	nl_close(&s);
	return ret ? ret : acc.n;
}

struct maps_acc {
	struct fz_nl_map *out;
	int n, max;
};

static void on_map(struct nlattr *attrs, int len, void *arg)
{
	struct maps_acc *acc = arg;
	struct fz_nl_map m = {};
	struct nlattr *a;

	for_each_attr(a, attrs, len) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case VHOST_SHMEM_A_MAP_DEV_ID: m.dev_id = attr_u64(a); break;
		case VHOST_SHMEM_A_MAP_SHMID: m.shmid = attr_u64(a); break;
		case VHOST_SHMEM_A_MAP_SHM_OFFSET: m.shm_offset = attr_u64(a); break;
		case VHOST_SHMEM_A_MAP_LEN: m.len = attr_u64(a); break;
		case VHOST_SHMEM_A_MAP_FD_OFFSET: m.fd_offset = attr_u64(a); break;
		case VHOST_SHMEM_A_MAP_FLAGS: m.flags = attr_u64(a); break;
		}
	}
	if (acc->n < acc->max)
		acc->out[acc->n] = m;
	acc->n++;
}

static void on_nothing(struct nlattr *attrs, int len, void *arg)
{
	(*(int *)arg)++;
}

static int dump(uint8_t cmd, uint32_t id, msg_fn fn, void *arg)
{
	struct nlsock s;
	int ret;

	ret = nl_open(&s);
	if (!ret)
		ret = send_req(&s, s.family, NLM_F_DUMP, cmd, id ? VHOST_SHMEM_A_DEV_ID : 0,
			       &id, sizeof(id));
	if (!ret)
		ret = recv_all(&s, true, fn, arg);
	nl_close(&s);
	return ret;
}

int fz_nl_maps(uint32_t id, struct fz_nl_map *out, int max)
{
	struct maps_acc acc = { out, 0, max };
	int ret = dump(VHOST_SHMEM_CMD_MAP_GET, id, on_map, &acc);

	return ret ? ret : acc.n;
}

int fz_nl_regions(uint32_t id)
{
	int n = 0, ret = dump(VHOST_SHMEM_CMD_REGION_GET, id, on_nothing, &n);

	return ret ? ret : n;
}

struct viewer_acc {
	uint32_t shmid, pid;
	int found;
};

static void on_region_viewers(struct nlattr *attrs, int len, void *arg)
{
	struct viewer_acc *acc = arg;
	struct nlattr *a, *v, *x;
	bool ours = false;

	for_each_attr(a, attrs, len)
		if ((a->nla_type & NLA_TYPE_MASK) == VHOST_SHMEM_A_REGION_SHMID)
			ours = attr_u64(a) == acc->shmid;
	if (!ours)
		return;
	for_each_attr(a, attrs, len) {
		if ((a->nla_type & NLA_TYPE_MASK) != VHOST_SHMEM_A_REGION_VIEWERS)
			continue;
		v = a + 1;
		for_each_attr(x, v, a->nla_len - sizeof(*a))
			if ((x->nla_type & NLA_TYPE_MASK) == VHOST_SHMEM_A_VIEWER_PID &&
			    attr_u64(x) == acc->pid)
				acc->found = 1;
	}
}

int fz_nl_viewer(uint32_t id, uint32_t shmid, uint32_t pid)
{
	struct viewer_acc acc = { shmid, pid, 0 };
	int ret = dump(VHOST_SHMEM_CMD_REGION_GET, id, on_region_viewers, &acc);

	return ret ? ret : acc.found;
}
