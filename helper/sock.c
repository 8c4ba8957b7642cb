// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"

static int make_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int unix_listen(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, r = make_addr(path, &sa);

	if (r)
		return r;
	/* Replace a stale socket, never any other kind of file. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1)) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int unix_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd, r = make_addr(path, &sa);

	if (r)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int unix_connect_retry(const char *path, int timeout_ms)
{
	const struct timespec step = { 0, 20 * 1000 * 1000 };
	int fd;

	for (int waited = 0;; waited += 20) {
		fd = unix_connect(path);
		if (fd >= 0 || (fd != -ENOENT && fd != -ECONNREFUSED) ||
		    waited >= timeout_ms)
			return fd;
		nanosleep(&step, NULL);
	}
}

int unix_accept(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

void sock_put_fds(struct msghdr *mh, void *ctl, const int *fds, unsigned int nfds)
{
	struct cmsghdr *cm;

	memset(ctl, 0, CMSG_SPACE(nfds * sizeof(int)));
	mh->msg_control = ctl;
	mh->msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
}

int send_one_fd(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char byte = 'F';
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	sock_put_fds(&mh, ctl.buf, &fd, 1);
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

int recv_one_fd(int sock)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	int fd = -1, bad = 0;
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[8];

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(fds, CMSG_DATA(cm), k * sizeof(int));
		for (size_t i = 0; i < k; i++) {
			if (fd < 0) {
				fd = fds[i];
			} else {
				close(fds[i]);
				bad = 1;
			}
		}
	}
	if (fd < 0 || bad || (mh.msg_flags & MSG_CTRUNC)) {
		if (fd >= 0)
			close(fd);
		return -EPROTO;
	}
	return fd;
}

/* The UNIX_DIAG_PEER attribute of one unix_diag reply, or 0 if it has none. */
static long peer_attr(const struct nlmsghdr *nh)
{
	const struct unix_diag_msg *um = NLMSG_DATA(nh);
	const char *a = (const char *)(um + 1);
	const char *end = (const char *)nh + nh->nlmsg_len;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*um)))
		return -EPROTO;
	while (a + sizeof(struct nlattr) <= end) {
		const struct nlattr *na = (const struct nlattr *)a;
		uint32_t v;

		if (na->nla_len < sizeof(*na) || a + na->nla_len > end)
			return -EPROTO;
		if (na->nla_type == UNIX_DIAG_PEER && na->nla_len >= NLA_HDRLEN + sizeof(v)) {
			memcpy(&v, a + NLA_HDRLEN, sizeof(v));
			return v;
		}
		a += NLA_ALIGN(na->nla_len);
	}
	return 0;
}

long unix_peer_ino(int fd)
{
	const struct timeval tmo = { .tv_sec = 1 };
	struct {
		struct nlmsghdr nh;
		struct unix_diag_req req;
	} q = {
		.nh = {
			.nlmsg_len = sizeof(q),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST,
		},
		.req = {
			.sdiag_family = AF_UNIX,
			.udiag_states = ~0u,
			.udiag_show = UDIAG_SHOW_PEER,
			/* Look the socket up by inode alone. */
			.udiag_cookie = { ~0u, ~0u },
		},
	};
	union {
		char buf[1024];
		struct nlmsghdr align;
	} r;
	const struct nlmsghdr *nh = &r.align;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct stat st;
	int domain = 0, nl;
	socklen_t len = sizeof(domain);
	ssize_t n;
	long ret;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) || domain != AF_UNIX)
		return -ENOTSOCK;
	q.req.udiag_ino = (uint32_t)st.st_ino;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	if (setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) ||
	    sendto(nl, &q, sizeof(q), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		ret = -errno;
		goto out;
	}
	n = recv(nl, r.buf, sizeof(r.buf), 0);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	if (!NLMSG_OK(nh, (size_t)n)) {
		ret = -EPROTO;
	} else if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		ret = nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error ?
		      e->error : -EPROTO;
	} else if (nh->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
		ret = peer_attr(nh);
	} else {
		ret = -EPROTO;
	}
out:
	close(nl);
	return ret;
}
