// SPDX-License-Identifier: GPL-2.0
/*
 * Viewers of region 0 (VHOST_SHMEM_GET_VIEW): child processes forked at
 * setup, each of which, when told, asks for a read-write view through the
 * device fd it inherited and mmaps the whole region, or munmaps it again.
 * While they are attached, every MAP and UNMAP of region 0 is installed in
 * each of them too; the views measurement (main.c) times that.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

struct viewer_state {
	struct bench *b;
	int vfd;
	uint8_t *view;
};

/* In the viewer: attach, detach, or check one page against the owner's. */
static int viewer_op(void *ctx, const struct runner_cmd *c, uint64_t *ns)
{
	struct viewer_state *s = ctx;
	struct vhost_shmem_view_req r = { .shmid = 0, .flags = VHOST_SHMEM_VIEW_F_RW };
	int got;

	(void)ns;
	switch (c->op) {
	case RUNNER_VIEW_ATTACH:
		if (s->view)
			return -EALREADY;
		s->vfd = ioctl(s->b->dev.fd, VHOST_SHMEM_GET_VIEW, &r);
		if (s->vfd < 0)
			return -errno;
		/* Populated (every live mapping installed) when mmap() returns. */
		s->view = mmap(NULL, BENCH_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			       s->vfd, 0);
		if (s->view == MAP_FAILED) {
			int ret = -errno;

			s->view = NULL;
			close(s->vfd);
			return ret;
		}
		return 0;
	case RUNNER_VIEW_DETACH:
		if (!s->view)
			return 0;
		munmap(s->view, BENCH_REGION_SIZE);
		close(s->vfd);
		s->view = NULL;
		return 0;
	case RUNNER_VIEW_CHECK:
		/* The live mapping at c->spot shows the memfd at c->len; c->len
		 * == ~0: zeros there. */
		if (!s->view)
			return -ENXIO;
		if (c->len == ~0ULL)
			return vs_check_zero(s->view + c->spot, BENCH_MAP_LEN, &got) < 0 ?
			       0 : -EIO;
		return vs_check_pat(s->view + c->spot, BENCH_MAP_LEN, BENCH_SEED, c->len,
				    &got) < 0 ? 0 : -EIO;
	default:
		return -EINVAL;
	}
}

static void viewer_loop(void *ctx, int sock)
{
	struct viewer_state s = { .b = ctx, .vfd = -1 };

	while (!runner_serve(sock, viewer_op, &s, NULL))
		;
}

int viewers_start(struct bench *b)
{
	for (int i = 0; i < BENCH_MAX_VIEWERS; i++) {
		int ret = runner_start(&b->viewer[i], viewer_loop, b);

		if (ret)
			return ret;
	}
	return 0;
}

static int viewer_cmd(struct bench *b, int i, int op, uint64_t spot, uint64_t arg)
{
	const struct runner_cmd c = { .op = op, .spot = spot, .len = arg };

	return runner_call(&b->viewer[i], &c);
}

/* Viewers 0 .. @n - 1 attached, the others detached. */
int viewers_set(struct bench *b, int n)
{
	for (int i = 0; i < BENCH_MAX_VIEWERS; i++) {
		int ret = viewer_cmd(b, i, i < n ? RUNNER_VIEW_ATTACH : RUNNER_VIEW_DETACH, 0, 0);

		if (ret && ret != -EALREADY)
			return ret;
	}
	b->viewers = n;
	return 0;
}

/*
 * Every attached viewer sees the first live mapping (the memfd from offset
 * 0 at region offset 0) and zeros at the bench spot, as the owner does.
 * Return: 0, -EIO if one does not.
 */
int viewers_verify(struct bench *b)
{
	for (int i = 0; i < b->viewers; i++) {
		int ret = viewer_cmd(b, i, RUNNER_VIEW_CHECK, 0, 0);

		if (!ret)
			ret = viewer_cmd(b, i, RUNNER_VIEW_CHECK, BENCH_SPOT, ~0ULL);

		if (ret)
			return ret;
	}
	return 0;
}

void viewers_stop(struct bench *b)
{
	for (int i = 0; i < BENCH_MAX_VIEWERS; i++)
		runner_stop(&b->viewer[i]);
}
