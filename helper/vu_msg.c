// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "sock.h"
#include "vu_msg.h"

/* Room for more fds than allowed, so that excess is seen, not truncated. */
#define RX_FDS_ROOM	(2 * VU_MAX_FDS)

void vu_conn_init(struct vu_conn *c, int fd, const char *name)
{
	c->fd = fd;
	c->name = name;
	c->have = 0;
	c->msg.nfds = 0;
}

void vu_msg_close_fds(struct vu_msg *m)
{
	for (unsigned int i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	m->nfds = 0;
}

void vu_conn_close(struct vu_conn *c)
{
	vu_msg_close_fds(&c->msg);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->have = 0;
}

void vu_conn_next(struct vu_conn *c)
{
	vu_msg_close_fds(&c->msg);
	c->have = 0;
}

/* Takes the fds of every SCM_RIGHTS message; closes what cannot be kept. */
static const char *take_fds(struct vu_msg *m, struct msghdr *mh)
{
	const char *why = NULL;
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;
		int fds[RX_FDS_ROOM];

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > RX_FDS_ROOM)
			n = RX_FDS_ROOM;
		memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
		for (size_t i = 0; i < n; i++) {
			if (m->nfds < VU_MAX_FDS) {
				m->fds[m->nfds++] = fds[i];
			} else {
				close(fds[i]);
				why = "more than 8 file descriptors";
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		why = "control data truncated (too many file descriptors)";
	return why;
}

enum vu_rx vu_conn_recv(struct vu_conn *c, const char **why)
{
	for (;;) {
		union {
			char buf[CMSG_SPACE(RX_FDS_ROOM * sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct vu_msg *m = &c->msg;
		size_t want, total;
		struct iovec iov;
		struct msghdr mh;
		ssize_t n;

		if (c->have < VU_HDR_SIZE) {
			iov.iov_base = (char *)&m->hdr + c->have;
			want = VU_HDR_SIZE - c->have;
		} else {
			total = VU_HDR_SIZE + m->hdr.size;
			if (c->have == total)
				return VU_RX_MSG;
			iov.iov_base = m->payload.bytes + (c->have - VU_HDR_SIZE);
			want = total - c->have;
		}
		iov.iov_len = want;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return VU_RX_AGAIN;
			if (errno == EINTR)
				continue;
			*why = errno == ECONNRESET ? "connection reset" : "receive error";
			return VU_RX_ERR;
		}
		if (mh.msg_controllen) {
			*why = take_fds(m, &mh);
			if (*why)
				return VU_RX_ERR;
		}
		if (n == 0) {
			if (c->have == 0 && m->nfds == 0)
				return VU_RX_EOF;
			*why = "peer closed in the middle of a message (truncated)";
			return VU_RX_ERR;
		}
		c->have += (size_t)n;
		if (c->have == VU_HDR_SIZE && m->hdr.size > VU_MAX_PAYLOAD) {
			*why = "payload too large";
			return VU_RX_ERR;
		}
	}
}

/* Waits until @fd takes more data, within @lim; 0 or -errno. */
static int wait_writable(int fd, struct vu_send_limit *lim)
{
	struct pollfd pf[2] = {
		{ .fd = fd, .events = POLLOUT },
		{ .fd = lim ? lim->stop_fd : -1, .events = POLLIN },
	};

	for (;;) {
		int ms = -1, n;

		if (lim) {
			int64_t now = mono_ms();

			if (!lim->deadline_ms)
				lim->deadline_ms = now + lim->timeout_ms;
			if (now >= lim->deadline_ms)
				return -ETIMEDOUT;
			ms = (int)(lim->deadline_ms - now);
		}
		n = poll(pf, 2, ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && pf[1].revents)
			return -ECANCELED;
		if (n > 0 && pf[0].revents)
			return 0;	/* room, or an error sendmsg will report */
	}
}

int vu_send_limited(int fd, const struct vu_hdr *hdr, const void *payload,
		    const int *fds, unsigned int nfds, struct vu_send_limit *lim)
{
	union {
		char buf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = {
		{ (void *)hdr, VU_HDR_SIZE },
		{ (void *)payload, hdr->size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = hdr->size ? 2 : 1 };
	size_t left = VU_HDR_SIZE + hdr->size;

	if (nfds > VU_MAX_FDS)
		return -EINVAL;
	if (nfds)
		sock_put_fds(&mh, ctl.buf, fds, nfds);
	while (left) {
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			int r = errno == EINTR ? 0 : -errno;

			if (r == -EAGAIN || r == -EWOULDBLOCK)
				r = wait_writable(fd, lim);
			if (r)
				return r;
			continue;
		}
		left -= (size_t)n;
		/* Partial write: fds went with the first chunk. */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		while (n > 0 && mh.msg_iovlen) {
			size_t k = (size_t)n < mh.msg_iov->iov_len ?
				   (size_t)n : mh.msg_iov->iov_len;

			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + k;
			mh.msg_iov->iov_len -= k;
			n -= (ssize_t)k;
			if (!mh.msg_iov->iov_len) {
				mh.msg_iov++;
				mh.msg_iovlen--;
			}
		}
	}
	return 0;
}

int vu_send(int fd, const struct vu_hdr *hdr, const void *payload,
	    const int *fds, unsigned int nfds)
{
	return vu_send_limited(fd, hdr, payload, fds, nfds, NULL);
}

int vu_send_msg(int fd, const struct vu_msg *m)
{
	return vu_send(fd, &m->hdr, m->payload.bytes, m->fds, m->nfds);
}

enum vu_rx vu_recv_wait(struct vu_conn *c, int timeout_ms, const char **why)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		enum vu_rx r = vu_conn_recv(c, why);
		int n;

		if (r != VU_RX_AGAIN)
			return r;
		n = poll(&p, 1, timeout_ms);
		if (n == 0) {
			*why = "timeout";
			return VU_RX_ERR;
		}
		if (n < 0 && errno != EINTR) {
			*why = "poll error";
			return VU_RX_ERR;
		}
	}
}
