// SPDX-License-Identifier: GPL-2.0
/*
 * The full vhost-user path: a back-end process sends
 * VHOST_USER_BACKEND_SHMEM_MAP (with the memfd) and SHMEM_UNMAP, each with
 * NEED_REPLY, on the backend channel vhost-shmem-helper gave it; the helper
 * turns them into ioctls on the device fd it inherited from us (the VMM)
 * and replies. One sample is MAP + reply + UNMAP + reply, timed by the
 * back-end as a real one would see it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "vu_mini.h"

#define HELPER_LOG	"/tmp/vhost-shmem-bench-helper.log"

struct backend {
	int be;			/* main channel, from the helper */
	int chan;		/* backend channel, -1 until the helper sends it */
	int memfd;
	uint64_t *shared;
};

/* Answers the helper's front-end traffic like a device with one region. */
static int backend_msg(struct backend *bk)
{
	union { uint64_t u64; struct vu_shmem_config cfg; } p;
	struct vu_hdr h;
	uint64_t v;
	int fd;

	if (vu_recv(bk->be, &h, &p, sizeof(p), &fd, 5000))
		return -1;
	switch (h.request) {
	case VU_GET_FEATURES:
		v = (1ULL << 32) | (1ULL << VU_F_PROTOCOL_FEATURES);
		vu_send(bk->be, h.request, VU_FLAG_REPLY, &v, 8, -1);
		break;
	case VU_GET_PROTOCOL_FEATURES:
		v = (1ULL << VU_PF_REPLY_ACK) | (1ULL << VU_PF_BACKEND_REQ) |
		    (1ULL << VU_PF_SHMEM);
		vu_send(bk->be, h.request, VU_FLAG_REPLY, &v, 8, -1);
		break;
	case VU_GET_SHMEM_CONFIG:
		memset(&p.cfg, 0, sizeof(p.cfg));
		/* The device's two regions: the helper checks they match. */
		p.cfg.nregions = 2;
		p.cfg.memory_sizes[0] = BENCH_REGION_SIZE;
		p.cfg.memory_sizes[1] = BENCH_FLOOR_REGION_SIZE;
		vu_send(bk->be, h.request, VU_FLAG_REPLY, &p.cfg, sizeof(p.cfg), -1);
		break;
	case VU_SET_BACKEND_REQ_FD:
		if (bk->chan >= 0)
			close(bk->chan);
		bk->chan = fd;
		fd = -1;
		/* fallthrough */
	default:
		if (h.flags & VU_FLAG_NEED_REPLY) {
			v = 0;
			vu_send(bk->be, h.request, VU_FLAG_REPLY, &v, 8, -1);
		}
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/* One backend request with NEED_REPLY; the helper's u64 answer. */
static int backend_req(struct backend *bk, uint32_t req, const struct vu_mmap *mm,
		       int fd)
{
	struct vu_hdr h;
	uint64_t v;

	if (vu_send(bk->chan, req, VU_FLAG_NEED_REPLY, mm, sizeof(*mm), fd) ||
	    vu_recv(bk->chan, &h, &v, sizeof(v), NULL, 10000) ||
	    h.request != req || h.size != 8)
		return -EPROTO;
	return v ? -EIO : 0;
}

struct vu_step {
	struct backend *bk;
	struct vu_mmap mm;
};

static int vu_step(void *ctx)
{
	struct vu_step *v = ctx;
	int ret = backend_req(v->bk, VU_BE_SHMEM_MAP, &v->mm, v->bk->memfd);

	return ret ? ret : backend_req(v->bk, VU_BE_SHMEM_UNMAP, &v->mm, -1);
}

static int vu_loop(void *ctx, const struct runner_cmd *c, uint64_t *ns)
{
	struct vu_step v = {
		.bk = ctx,
		.mm = { .shmid = 0, .shm_offset = c->spot, .len = c->len,
			.flags = VHOST_SHMEM_MAP_F_RW },
	};

	if (v.bk->chan < 0)
		return -ENOTCONN;
	return time_steps(c->iters, ns, vu_step, &v);
}

/*
 * BENCH_BATCH_PAIRS MAP+UNMAP pairs sent back to back, then their replies
 * read: the helper may run what it finds waiting as one batch. One sample
 * per round, the time per pair.
 */
static int vu_pipe_loop(struct backend *bk, const struct runner_cmd *c, uint64_t *ns)
{
	const struct vu_mmap mm = {
		.shmid = 0, .shm_offset = c->spot, .len = c->len,
		.flags = VHOST_SHMEM_MAP_F_RW,
	};

	for (int i = 0; i < c->iters; i++) {
		uint64_t t0 = now_ns();
		struct vu_hdr h;
		uint64_t v;

		for (int k = 0; k < 2 * BENCH_BATCH_PAIRS; k++)
			if (vu_send(bk->chan, k & 1 ? VU_BE_SHMEM_UNMAP : VU_BE_SHMEM_MAP,
				    VU_FLAG_NEED_REPLY, &mm, sizeof(mm), k & 1 ? -1 : bk->memfd))
				return -EPROTO;
		for (int k = 0; k < 2 * BENCH_BATCH_PAIRS; k++) {
			if (vu_recv(bk->chan, &h, &v, sizeof(v), NULL, 10000) || h.size != 8)
				return -EPROTO;
			if (v)
				return -EIO;
		}
		ns[i] = (now_ns() - t0) / BENCH_BATCH_PAIRS;
	}
	return 0;
}

static int vu_op(void *ctx, const struct runner_cmd *c, uint64_t *ns)
{
	struct backend *bk = ctx;

	if (bk->chan < 0)
		return -ENOTCONN;
	return c->op == RUNNER_VU_PIPE ? vu_pipe_loop(bk, c, ns) : vu_loop(ctx, c, ns);
}

static void backend_loop(void *ctx, int cmd)
{
	struct backend *bk = ctx;

	for (;;) {
		struct pollfd pf[2] = { { bk->be, POLLIN, 0 }, { cmd, POLLIN, 0 } };

		if (poll(pf, 2, -1) < 0)
			return;
		if (pf[0].revents && backend_msg(bk))
			return;
		if (pf[1].revents && runner_serve(cmd, vu_op, bk, bk->shared))
			return;
	}
}

static pid_t spawn_helper(int fe, int be, int dev)
{
	char helper[256], a_fe[16], a_be[16], a_dev[16];
	pid_t pid;
	int log;

	snprintf(helper, sizeof(helper), "%.200s/vhost-shmem-helper", bin_dir());
	if (access(helper, X_OK))
		return -ENOENT;
	snprintf(a_fe, sizeof(a_fe), "%d", fe);
	snprintf(a_be, sizeof(a_be), "%d", be);
	snprintf(a_dev, sizeof(a_dev), "%d", dev);
	pid = fork();
	if (pid == 0) {
		log = open(HELPER_LOG, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (log >= 0)
			dup2(log, 2);
		fcntl(fe, F_SETFD, 0);
		fcntl(be, F_SETFD, 0);
		fcntl(dev, F_SETFD, 0);
		execl(helper, helper, "--frontend-fd", a_fe, "--backend-fd", a_be,
		      "--device-fd", a_dev, (char *)NULL);
		_exit(127);
	}
	return pid < 0 ? -errno : pid;
}

int vu_path_start(struct bench *b)
{
	struct runner_cmd ping = { .op = RUNNER_VU_LOOP };
	struct backend bk = { .chan = -1, .memfd = b->memfd, .shared = b->shared };
	struct vu_shmem_config cfg;
	int be[2], fe[2], ret;
	uint64_t proto;

	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, be))
		return -errno;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fe)) {
		ret = -errno;
		close(be[0]);
		close(be[1]);
		return ret;
	}
	bk.be = be[1];
	ret = runner_start(&b->vu.backend, backend_loop, &bk);
	close(be[1]);
	if (!ret) {
		b->vu.helper = spawn_helper(fe[1], be[0], b->dev.fd);
		ret = b->vu.helper < 0 ? (int)b->vu.helper : 0;
	}
	close(fe[1]);
	close(be[0]);
	b->vu.fe = fe[0];
	if (ret)
		goto fail;

	ret = -EPROTO;
	if (vu_frontend_negotiate(b->vu.fe, &proto, &cfg) || cfg.nregions != 2 ||
	    cfg.memory_sizes[0] != BENCH_REGION_SIZE)
		goto fail;
	/* The helper hands the back-end its channel during negotiation. */
	for (int t = 0; t < 500; t++) {
		ret = runner_call(&b->vu.backend, &ping);
		if (ret != -ENOTCONN)
			break;
		usleep(10000);
	}
	if (ret)
		goto fail;
	return 0;
fail:
	vu_path_stop(b);
	return ret;
}

int vu_path_run(struct bench *b, int iters, uint64_t *ns)
{
	return runner_timed(b, &b->vu.backend, RUNNER_VU_LOOP, iters, ns);
}

int vu_pipe_run(struct bench *b, int iters, uint64_t *ns)
{
	return runner_timed(b, &b->vu.backend, RUNNER_VU_PIPE, iters, ns);
}

void vu_path_stop(struct bench *b)
{
	int st;

	if (b->vu.fe >= 0)
		close(b->vu.fe);
	b->vu.fe = -1;
	if (b->vu.helper > 0) {
		kill(b->vu.helper, SIGKILL);
		waitpid(b->vu.helper, &st, 0);
	}
	b->vu.helper = 0;
	runner_stop(&b->vu.backend);
}
