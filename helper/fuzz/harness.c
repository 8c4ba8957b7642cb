// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzz harness (harness.h): decodes a schedule (sched.h) and plays the
 * helper's peers, one action at a time, driving the engine with
 * proxy_step(). Nothing here outlives fz_run(): every fd it opens is
 * closed before it returns, or the run fails.
 *
 * Fd ownership: the engine owns its ends of the main sockets from
 * proxy_init() on, and whatever it receives; the harness owns the peers'
 * sockets (struct fz_peer), the signal pipe and the device fd stand-in,
 * and closes the copies of every fd it sends right after sending.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_dev.h"
#include "harness.h"
#include "sched.h"
#include "sock.h"

/*
 * Most engine rounds one FZ_RUN (or the final settling) may take before the
 * engine must be idle: every round handles at least one event, and no
 * schedule has this many messages in it (libFuzzer -max_len is far below
 * 12 bytes each). More means the engine spins on an fd.
 */
#define FZ_ROUNDS_MAX	20000
#define FZ_FDS_LIST_MAX	1024
#define FZ_RX_FDS	32
#define FZ_MEMFD_SIZE	16384
#define FZ_SMALL_SNDBUF	4096
#define FZ_SEND_TIMEOUT_MS 1

struct fz_reader {
	const uint8_t *p;
	size_t n, i;
};

/* A peer: the front-end or the back-end. */
struct fz_peer {
	const char *name;
	int main;			/* -1: closed */
	int pool[FZ_POOL_MAX];		/* its other sockets, oldest first */
	unsigned int npool, pick;
	bool deaf_main, deaf_pool;	/* stopped reading */
	/*
	 * Sent a socket that may be the peer of one the engine holds: a dup of
	 * its main socket, or (the back-end) of its channel, which may be the
	 * one the helper made. Handed back to the engine, it holds both ends
	 * of a connection: it never sees that peer go, and what it sends
	 * there comes back to it (forever, for a message it relays).
	 */
	bool gave_loop;
};

struct fz {
	struct fz_reader rd;
	struct proxy p;
	struct hlog log;
	struct fake_dev dev;
	struct shmem_dev sdev;
	struct shmem_dev_ops ops;	/* counting wrappers around the fake's */
	const struct shmem_dev_ops *fake;
	struct fz_peer fe, be;
	int sig[2];			/* [0]: the engine's "signalfd", not owned by it */
	int logp[2];			/* FZ_CFG_LOG_PIPE: the log, [0] read unless deaf */
	bool log_deaf;
	int reset_err;			/* the device's RESET fails so */
	bool repeating;			/* inside a FZ_REPEAT */
	bool looping;			/* busy with itself: gave_loop, not idle */
	bool trace;
	struct fz_result res;
};

static void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("helper-fuzz: FAILED: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void fz_trace(const struct fz *z, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fz_trace(const struct fz *z, const char *fmt, ...)
{
	va_list ap;

	if (!z->trace)
		return;
	fputs("fuzz: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- input ---------------------------------------------------------------- */

static bool rd_more(const struct fz_reader *r)
{
	return r->i < r->n;
}

static uint8_t rd_u8(struct fz_reader *r)
{
	return r->i < r->n ? r->p[r->i++] : 0;
}

static uint16_t rd_u16(struct fz_reader *r)
{
	uint16_t v = rd_u8(r);

	return (uint16_t)(v | rd_u8(r) << 8);
}

static uint64_t rd_u64(struct fz_reader *r)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < 8; i++)
		v |= (uint64_t)rd_u8(r) << (8 * i);
	return v;
}

/* @n bytes into @dst; what the input lacks is 0. */
static void rd_bytes(struct fz_reader *r, uint8_t *dst, size_t n)
{
	size_t k = r->n - r->i < n ? r->n - r->i : n;

	memcpy(dst, r->p + r->i, k);
	memset(dst + k, 0, n - k);
	r->i += k;
}

/* ---- fds -------------------------------------------------------------------- */

static void xclose(int fd)
{
	if (close(fd))
		fz_fail("closing harness fd %d: %s (closed by the engine?)", fd,
			strerror(errno));
}

static int list_fds(int *fds)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		fz_fail("opendir /proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(d))
			continue;
		if (n == FZ_FDS_LIST_MAX)
			fz_fail("more than %d fds open", FZ_FDS_LIST_MAX);
		fds[n++] = fd;
	}
	closedir(d);
	return n;
}

static bool in_list(const int *fds, int n, int fd)
{
	for (int i = 0; i < n; i++)
		if (fds[i] == fd)
			return true;
	return false;
}

/* Fails listing every fd open now that was not open before, and the reverse. */
static void check_fds(const int *before, int nbefore)
{
	int after[FZ_FDS_LIST_MAX], nafter = list_fds(after);
	bool bad = false;

	for (int i = 0; i < nafter; i++) {
		char path[64], target[256];
		ssize_t k;

		if (in_list(before, nbefore, after[i]))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", after[i]);
		k = readlink(path, target, sizeof(target) - 1);
		target[k > 0 ? k : 0] = 0;
		fprintf(stderr, "helper-fuzz: fd %d left open: %s\n", after[i], target);
		bad = true;
	}
	for (int i = 0; i < nbefore; i++) {
		if (!in_list(after, nafter, before[i])) {
			fprintf(stderr, "helper-fuzz: fd %d was closed by the run\n", before[i]);
			bad = true;
		}
	}
	if (bad)
		fz_fail("fd leak (%d fds open before the run, %d after)", nbefore, nafter);
}

static int fd_or_fail(int fd, const char *what)
{
	if (fd < 0)
		fz_fail("%s: %s", what, strerror(errno));
	return fd;
}

/* ---- peers ------------------------------------------------------------------ */

static void peer_init(struct fz_peer *pe, const char *name, int main_fd)
{
	memset(pe, 0, sizeof(*pe));
	pe->name = name;
	pe->main = main_fd;
}

static void pool_add(struct fz_peer *pe, int fd)
{
	if (pe->npool == FZ_POOL_MAX) {
		xclose(pe->pool[0]);
		memmove(pe->pool, pe->pool + 1, (FZ_POOL_MAX - 1) * sizeof(int));
		pe->npool--;
	}
	pe->pool[pe->npool++] = fd;
}

/* Index in the pool of the peer's channel, or -1. */
static int chan_index(const struct fz_peer *pe)
{
	return pe->npool ? (int)(pe->npool - 1 - pe->pick % pe->npool) : -1;
}

static int chan_fd(const struct fz_peer *pe)
{
	int i = chan_index(pe);

	return i < 0 ? -1 : pe->pool[i];
}

static void peer_close(struct fz_peer *pe)
{
	if (pe->main >= 0)
		xclose(pe->main);
	pe->main = -1;
	for (unsigned int i = 0; i < pe->npool; i++)
		xclose(pe->pool[i]);
	pe->npool = 0;
}

static struct fz_peer *peer_of(struct fz *z, unsigned int side)
{
	return side == FZ_FE || side == FZ_FE_CHAN ? &z->fe : &z->be;
}

static int side_fd(struct fz *z, unsigned int side)
{
	struct fz_peer *pe = peer_of(z, side);

	return side == FZ_FE || side == FZ_BE ? pe->main : chan_fd(pe);
}

/* Everything that has arrived on @fd; the sockets among the fds are kept. */
static void drain_fd(struct fz *z, struct fz_peer *pe, int fd, unsigned int side,
		     int *got, unsigned int *ngot)
{
	for (;;) {
		union {
			char buf[CMSG_SPACE(FZ_RX_FDS * sizeof(int))];
			struct cmsghdr align;
		} ctl;
		char data[16384];
		struct iovec iov = { data, sizeof(data) };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		struct cmsghdr *cm;
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n <= 0)
			return;
		z->res.rx_bytes[side] += (size_t)n;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			int fds[FZ_RX_FDS];
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			memcpy(fds, CMSG_DATA(cm), k * sizeof(int));
			for (size_t i = 0; i < k; i++) {
				struct stat st;

				z->res.rx_fds[side]++;
				if (!fstat(fds[i], &st) && S_ISSOCK(st.st_mode) &&
				    *ngot < FZ_RX_FDS) {
					got[(*ngot)++] = fds[i];
				} else {
					xclose(fds[i]);
				}
			}
		}
		fz_trace(z, "%s received %zd bytes on fd %d", pe->name, n, fd);
	}
}

static void drain_peer(struct fz *z, struct fz_peer *pe, unsigned int main_side,
		       unsigned int chan_side)
{
	int got[FZ_RX_FDS], fds[FZ_POOL_MAX];
	unsigned int ngot = 0, n = pe->npool;

	if (pe->main >= 0 && !pe->deaf_main)
		drain_fd(z, pe, pe->main, main_side, got, &ngot);
	memcpy(fds, pe->pool, n * sizeof(int));
	for (unsigned int i = 0; i < n && !pe->deaf_pool; i++)
		drain_fd(z, pe, fds[i], chan_side, got, &ngot);
	for (unsigned int i = 0; i < ngot; i++)
		pool_add(pe, got[i]);
}

static void drain(struct fz *z)
{
	char buf[4096];

	drain_peer(z, &z->fe, FZ_FE, FZ_FE_CHAN);
	drain_peer(z, &z->be, FZ_BE, FZ_BE_CHAN);
	while (z->logp[0] >= 0 && !z->log_deaf && read(z->logp[0], buf, sizeof(buf)) > 0)
		;
}

/* ---- the engine ------------------------------------------------------------- */

static bool gave_loop(const struct fz *z)
{
	return z->fe.gave_loop || z->be.gave_loop;
}

/*
 * Runs rounds until no fd of the engine is readable (or @rounds ran). An
 * engine that relays to itself is left alone from then on.
 */
static void run(struct fz *z, unsigned int rounds)
{
	for (unsigned int i = 0; !z->looping && (!rounds || i < rounds); i++) {
		drain(z);
		if (proxy_step(&z->p, 0) <= 0)
			break;
		if (i < FZ_ROUNDS_MAX)
			continue;
		if (!gave_loop(z))
			fz_fail("the engine is not idle after %d rounds (spinning?)",
				FZ_ROUNDS_MAX);
		fz_trace(z, "the engine relays to itself: no more rounds");
		z->looping = true;
	}
	drain(z);
}

static int count_wrap_config(void *ctx, int devfd, struct vhost_shmem_config *cfg)
{
	struct fz *z = ctx;

	z->res.configs++;
	return z->fake->get_config(&z->dev, devfd, cfg);
}

static void check_map_fd(struct fz *z, unsigned int bad_before)
{
	if (z->dev.bad_fds != bad_before)
		fz_fail("the engine gave the device a MAP fd that is not open");
}

static int count_wrap_map(void *ctx, int devfd, const struct vhost_shmem_map *m)
{
	struct fz *z = ctx;
	unsigned int bad = z->dev.bad_fds;
	int r = z->fake->map(&z->dev, devfd, m);

	check_map_fd(z, bad);
	z->res.maps++;
	z->res.maps_ok += !r;
	return r;
}

static int count_wrap_unmap(void *ctx, int devfd, const struct vhost_shmem_unmap *u)
{
	struct fz *z = ctx;
	int r = z->fake->unmap(&z->dev, devfd, u);

	z->res.unmaps++;
	z->res.unmaps_ok += !r;
	return r;
}

static int count_wrap_reset(void *ctx, int devfd)
{
	struct fz *z = ctx;

	z->res.resets++;
	return z->reset_err ? z->reset_err : z->fake->reset(&z->dev, devfd);
}

static int count_wrap_view(void *ctx, int devfd, uint32_t shmid, uint32_t flags)
{
	struct fz *z = ctx;
	int r = z->fake->get_view(&z->dev, devfd, shmid, flags);

	z->res.views += r >= 0;
	return r;
}

static int count_wrap_batch(void *ctx, int devfd, struct vhost_shmem_op *ops, unsigned int n)
{
	struct fz *z = ctx;
	unsigned int bad = z->dev.bad_fds;
	int r = z->fake->batch(&z->dev, devfd, ops, n);

	check_map_fd(z, bad);
	z->res.batches++;
	for (unsigned int i = 0; !r && i < n; i++) {
		if (ops[i].op == VHOST_SHMEM_OP_MAP) {
			z->res.maps++;
			z->res.maps_ok += !ops[i].result;
		} else {
			z->res.unmaps++;
			z->res.unmaps_ok += !ops[i].result;
		}
	}
	return r;
}

static int cfg_errno(uint8_t code)
{
	static const int errs[] = { 0, -EBADFD, -ENOTTY, -EIO };

	return errs[code % 4];
}

static void set_region(struct fake_dev *d, uint8_t shmid, uint64_t size)
{
	d->cfg.regions[shmid].size = size;
	d->cfg.nregions = 0;
	for (unsigned int i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++)
		d->cfg.nregions += d->cfg.regions[i].size != 0;
}

/* The config block: the device and the engine's settings. */
static void setup(struct fz *z)
{
	uint8_t flags = rd_u8(&z->rd);
	struct proxy_share_opt share = { .gpa = FZ_SHARE_GPA };
	int fe[2], be[2], r;

	z->dev.recfd = -1;
	z->dev.cfg_err = cfg_errno(rd_u8(&z->rd));
	z->dev.cfg_err_calls = rd_u8(&z->rd);
	z->dev.batch_err = rd_u8(&z->rd) ? -ENOMEM : 0;
	for (unsigned int i = 0; i < 2; i++) {
		uint8_t shmid = rd_u8(&z->rd);

		if (!i)
			share.shmid = shmid;
		set_region(&z->dev, shmid, rd_u64(&z->rd));
	}
	z->fake = flags & FZ_CFG_NO_BATCH ? &fake_ops_no_batch : &fake_ops;
	z->ops = (struct shmem_dev_ops){
		.get_config = count_wrap_config, .map = count_wrap_map,
		.unmap = count_wrap_unmap, .reset = count_wrap_reset,
		.batch = z->fake->batch ? count_wrap_batch : NULL,
		.get_view = count_wrap_view,
	};
	z->sdev = (struct shmem_dev){
		.ops = &z->ops, .ctx = z,
		.fd = fd_or_fail(open("/dev/null", O_RDWR | O_CLOEXEC), "/dev/null"),
	};
	if (pipe2(z->sig, O_CLOEXEC | O_NONBLOCK) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fe) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, be))
		fz_fail("pipe/socketpair: %s", strerror(errno));
	if (flags & FZ_CFG_SMALL_BUF) {
		int sz = FZ_SMALL_SNDBUF;

		setsockopt(fe[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(be[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	peer_init(&z->fe, "front-end", fe[0]);
	peer_init(&z->be, "back-end", be[0]);
	z->logp[0] = z->logp[1] = -1;
	if (flags & FZ_CFG_LOG_PIPE) {
		if (pipe2(z->logp, O_CLOEXEC) || fcntl(z->logp[0], F_SETFL, O_NONBLOCK))
			fz_fail("pipe: %s", strerror(errno));
		fcntl(z->logp[1], F_SETPIPE_SZ, 4096);
		z->log_deaf = flags & FZ_CFG_LOG_DEAF;
	}
	hlog_init(&z->log, z->trace ? STDERR_FILENO : z->logp[1], !(flags & FZ_CFG_QUIET));
	/* The engine owns fe[1] and be[1] from here on. */
	r = proxy_init(&z->p, &z->log, &z->sdev, flags & FZ_CFG_ALT_BIT ? 20 : 22,
		       fe[1], be[1], z->sig[0]);
	if (r)
		fz_fail("proxy_init: %s", strerror(-r));
	if (flags & FZ_CFG_SHARE)
		proxy_add_share(&z->p, &share);
	/*
	 * The harness reads only between rounds: a send that finds a peer's
	 * socket full cannot be helped by waiting, so it times out after 1 ms
	 * (the path of a peer that stopped reading, without the 5 s; a signal
	 * written before still cuts the wait short).
	 */
	z->p.send_lim.timeout_ms = FZ_SEND_TIMEOUT_MS;
}

/* ---- actions ---------------------------------------------------------------- */

static int new_fd(struct fz *z, struct fz_peer *pe, unsigned int kind)
{
	int sp[2], fd;

	switch (kind) {
	case FZ_FD_MEMFD:
		fd = fd_or_fail(memfd_create("fuzz", MFD_CLOEXEC), "memfd_create");
		if (ftruncate(fd, FZ_MEMFD_SIZE))
			fz_fail("ftruncate: %s", strerror(errno));
		return fd;
	case FZ_FD_SOCKET:
	case FZ_FD_SOCKET_KEEP:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
			fz_fail("socketpair: %s", strerror(errno));
		if (kind == FZ_FD_SOCKET_KEEP)
			pool_add(pe, fd_or_fail(fcntl(sp[1], F_DUPFD_CLOEXEC, 0), "dup"));
		pool_add(pe, sp[0]);
		return sp[1];
	case FZ_FD_MAIN:
		if (pe->main < 0)
			break;
		pe->gave_loop = true;
		return fd_or_fail(fcntl(pe->main, F_DUPFD_CLOEXEC, 0), "dup");
	case FZ_FD_CHAN:
		if (chan_fd(pe) < 0)
			break;
		pe->gave_loop |= pe == &z->be;
		return fd_or_fail(fcntl(chan_fd(pe), F_DUPFD_CLOEXEC, 0), "dup");
	}
	return fd_or_fail(eventfd(0, EFD_CLOEXEC), "eventfd");
}

static unsigned int read_fds(struct fz *z, struct fz_peer *pe, int *fds)
{
	uint8_t spec = rd_u8(&z->rd);
	unsigned int n = spec & 15, kind = (spec >> 4) % FZ_FD_KINDS;

	if (n == 15)
		n = FZ_FDS_MANY;
	for (unsigned int i = 0; i < n; i++)
		fds[i] = new_fd(z, pe, kind);
	return n;
}

/*
 * Sends @len bytes (and @nfds fds with the first of them) from @fd, without
 * waiting: while the socket is full the engine runs, a few times.
 */
static void peer_send(struct fz *z, int fd, const uint8_t *buf, size_t len,
		      const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(FZ_FDS_MANY * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned int full = 0;

	if (nfds)
		sock_put_fds(&mh, ctl.buf, fds, nfds);
	while (iov.iov_len) {
		ssize_t n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN && full++ < 4) {
			run(z, 0);
			continue;
		}
		if (n < 0) {
			fz_trace(z, "send on fd %d: %s", fd, strerror(errno));
			return;
		}
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= (size_t)n;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
}

/* payload := u8 mode, u16 len, then the bytes or the patches (sched.h). */
static size_t read_payload(struct fz_reader *r, uint8_t *buf)
{
	uint8_t mode = rd_u8(r);
	size_t len = rd_u16(r);

	if (len > FZ_PAYLOAD_MAX)
		len = FZ_PAYLOAD_MAX;
	if (!(mode & FZ_PAYLOAD_SPARSE)) {
		rd_bytes(r, buf, len);
		return len;
	}
	memset(buf, 0, len);
	for (unsigned int i = 0, n = rd_u8(r); i < n; i++) {
		size_t off = rd_u16(r), k = rd_u8(r);
		uint8_t patch[255];

		rd_bytes(r, patch, k);
		if (off < len)
			memcpy(buf + off, patch, off + k <= len ? k : len - off);
	}
	return len;
}

static void act_send(struct fz *z, unsigned int side, bool raw)
{
	static const char *const names[] = { "FE", "BE", "BE_CHAN", "FE_CHAN" };
	uint8_t buf[VU_HDR_SIZE + FZ_PAYLOAD_MAX];
	struct fz_peer *pe = peer_of(z, side);
	int fds[FZ_FDS_MANY], fd;
	unsigned int nfds;
	size_t len;

	if (raw) {
		len = rd_u16(&z->rd);
		if (len > sizeof(buf))
			len = sizeof(buf);
		rd_bytes(&z->rd, buf, len);
	} else {
		rd_bytes(&z->rd, buf, VU_HDR_SIZE);
		len = VU_HDR_SIZE + read_payload(&z->rd, buf + VU_HDR_SIZE);
	}
	nfds = read_fds(z, pe, fds);
	fd = side_fd(z, side);	/* after read_fds: a new socket may be the channel */
	if (z->trace) {
		struct vu_hdr h;

		memcpy(&h, buf, sizeof(h));
		fz_trace(z, "%s %s: request %u flags 0x%x size %u; %zu bytes, %u fds, fd %d",
			 names[side], raw ? "bytes" : "send", h.request, h.flags, h.size,
			 len, nfds, fd);
	}
	if (fd >= 0 && len)
		peer_send(z, fd, buf, len, fds, nfds);
	for (unsigned int i = 0; i < nfds; i++)
		xclose(fds[i]);
}

static void act_close(struct fz *z, unsigned int side, bool half)
{
	struct fz_peer *pe = peer_of(z, side);
	int i = chan_index(pe), fd = side_fd(z, side);

	fz_trace(z, "%s: %s side %u (fd %d)", pe->name, half ? "shutdown" : "close", side, fd);
	if (fd < 0)
		return;
	if (half) {
		shutdown(fd, SHUT_WR);
		return;
	}
	xclose(fd);
	if (side == FZ_FE || side == FZ_BE) {
		pe->main = -1;
		return;
	}
	memmove(pe->pool + i, pe->pool + i + 1, (pe->npool - (unsigned int)i - 1) * sizeof(int));
	pe->npool--;
}

static void act_device(struct fz *z, unsigned int what)
{
	switch (what % 4) {
	case 0:
		z->dev.cfg_err = cfg_errno(rd_u8(&z->rd));
		z->dev.cfg_err_calls = rd_u8(&z->rd);
		z->dev.ncfg = 0;
		break;
	case 1:
		z->dev.batch_err = rd_u8(&z->rd) ? -ENOMEM : 0;
		break;
	case 2: {
		uint8_t shmid = rd_u8(&z->rd);

		set_region(&z->dev, shmid, rd_u64(&z->rd));
		break;
	}
	case 3:
		z->reset_err = rd_u8(&z->rd) ? -EIO : 0;
		break;
	}
	fz_trace(z, "device: cfg_err %d for %u calls, batch_err %d, reset_err %d",
		 z->dev.cfg_err, z->dev.cfg_err_calls, z->dev.batch_err, z->reset_err);
}

static void act_signal(struct fz *z, unsigned int n)
{
	uint8_t si[128] = { 15 };

	if (!n)
		n = sizeof(si);
	fz_trace(z, "signal: %u bytes", n);
	if (write(z->sig[1], si, n) < 0)
		fz_trace(z, "signal write: %s", strerror(errno));
}

static void act(struct fz *z, uint8_t op);

/* The next action n + 2 times, from the same operands. */
static void act_repeat(struct fz *z)
{
	unsigned int n = rd_u8(&z->rd) + 2u;
	size_t at = z->rd.i;

	if (z->repeating || !rd_more(&z->rd))
		return;
	fz_trace(z, "repeat %u times", n);
	z->repeating = true;
	for (unsigned int i = 0; i < n; i++) {
		z->rd.i = at;
		act(z, rd_u8(&z->rd));
	}
	z->repeating = false;
}

static void act(struct fz *z, uint8_t op)
{
	unsigned int kind = op & 15, arg = op >> 4, side = arg & 3;

	switch (kind % FZ_KINDS) {
	case FZ_SEND:
	case FZ_BYTES:
		act_send(z, side, kind == FZ_BYTES);
		break;
	case FZ_RUN:
		fz_trace(z, "run %u", arg);
		run(z, arg);
		break;
	case FZ_CLOSE:
		act_close(z, side, arg & 4);
		break;
	case FZ_PICK:
		peer_of(z, side)->pick = rd_u8(&z->rd);
		break;
	case FZ_SIGNAL:
		act_signal(z, arg);
		break;
	case FZ_DEVICE:
		act_device(z, arg);
		break;
	case FZ_DEAF: {
		struct fz_peer *pe = peer_of(z, side);

		if (side == FZ_FE || side == FZ_BE)
			pe->deaf_main = arg & 4;
		else
			pe->deaf_pool = arg & 4;
		fz_trace(z, "%s: side %u %s", pe->name, side, arg & 4 ? "deaf" : "reads");
		break;
	}
	case FZ_REPEAT:
		act_repeat(z);
		break;
	}
}

/* ---- one run ---------------------------------------------------------------- */

void fz_run(const uint8_t *data, size_t len, struct fz_result *res, bool trace)
{
	int before[FZ_FDS_LIST_MAX], nbefore = list_fds(before);
	struct fz *z = calloc(1, sizeof(*z));
	unsigned int i;

	if (!z)
		fz_fail("out of memory");
	z->rd = (struct fz_reader){ data, len, 0 };
	z->trace = trace;
	setup(z);
	while (rd_more(&z->rd))
		act(z, rd_u8(&z->rd));

	/* The end: settle, every peer goes away, the session must end. */
	run(z, 0);
	peer_close(&z->fe);
	peer_close(&z->be);
	for (i = 0; !z->looping && proxy_step(&z->p, 0) > 0; i++) {
		if (i < FZ_ROUNDS_MAX)
			continue;
		if (!gave_loop(z))
			fz_fail("the engine is not idle after every peer closed (spinning?)");
		z->looping = true;
	}
	/* It cannot see a peer go whose other end it holds itself. */
	if (z->p.end == PROXY_RUNNING && !gave_loop(z))
		fz_fail("the session goes on after every peer closed its sockets");
	z->res.end = proxy_finish(&z->p);
	fz_trace(z, "session ended: %d", z->res.end);
	hlog_fini(&z->log);
	if (z->logp[0] >= 0) {
		xclose(z->logp[0]);
		xclose(z->logp[1]);
	}
	xclose(z->sdev.fd);
	xclose(z->sig[0]);
	xclose(z->sig[1]);
	if (res)
		*res = z->res;
	free(z);
	check_fds(before, nbefore);
}
