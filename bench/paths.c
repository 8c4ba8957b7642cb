// SPDX-License-Identifier: GPL-2.0
/*
 * The floor (the same two mmap(MAP_FIXED) a VMM would do itself), MAP+UNMAP
 * by the owner (direct path) and by another process (the worker path), and
 * the live mappings that surround them.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

/*
 * The floor works where a VMM doing it itself would: over a placeholder of
 * a region under a KVM memslot (so KVM's mmu notifier costs the same), in
 * the middle of region 1 (mapping over a region detaches it, so not region
 * 0). Its own placeholder is anonymous PROT_NONE, as a VMM reserves memory;
 * neighbouring holes do not merge with it, so each step replaces one vma,
 * like UNMAP does.
 */
int place_file(struct bench *b, uint8_t *spot)
{
	if (mmap(spot, BENCH_MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 b->memfd, 0) == MAP_FAILED)
		return -errno;
	return 0;
}

int place_hole(uint8_t *spot)
{
	if (mmap(spot, BENCH_MAP_LEN, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
		return -errno;
	return 0;
}

static int floor_step(void *ctx)
{
	struct bench *b = ctx;
	int ret = place_file(b, b->floor_region + BENCH_FLOOR_SPOT);

	return ret ? ret : place_hole(b->floor_region + BENCH_FLOOR_SPOT);
}

int floor_run(struct bench *b, int iters, uint64_t *ns)
{
	return time_steps(iters, ns, floor_step, b);
}

struct map_step {
	struct bench *b;
	const struct runner_cmd *c;
};

static int map_step(void *ctx)
{
	const struct map_step *m = ctx;
	int ret;

	ret = vs_map(m->b->dev.fd, 0, m->b->memfd, 0, m->c->spot, m->c->len,
		     VHOST_SHMEM_MAP_F_RW);
	return ret ? ret : vs_unmap(m->b->dev.fd, 0, m->c->spot, m->c->len);
}

/* MAP + UNMAP at the spot, in whatever process calls it. */
static int map_loop(void *ctx, const struct runner_cmd *c, uint64_t *ns)
{
	struct map_step m = { ctx, c };

	return time_steps(c->iters, ns, map_step, &m);
}

/*
 * BENCH_BATCH_PAIRS MAP+UNMAP pairs at the spot in one VHOST_SHMEM_BATCH:
 * one sample per batch, the time per pair.
 */
static int batch_loop(void *ctx, const struct runner_cmd *c, uint64_t *ns)
{
	struct vhost_shmem_op ops[2 * BENCH_BATCH_PAIRS];
	struct bench *b = ctx;
	int ret;

	for (int i = 0; i < c->iters; i++) {
		uint64_t t0;

		for (int k = 0; k < BENCH_BATCH_PAIRS; k++) {
			ops[2 * k] = vs_op_map(0, b->memfd, 0, c->spot, c->len,
					       VHOST_SHMEM_MAP_F_RW);
			ops[2 * k + 1] = vs_op_unmap(0, c->spot, c->len);
		}
		t0 = now_ns();
		ret = vs_batch(b->dev.fd, ops, 2 * BENCH_BATCH_PAIRS);
		ns[i] = (now_ns() - t0) / BENCH_BATCH_PAIRS;
		for (int k = 0; !ret && k < 2 * BENCH_BATCH_PAIRS; k++)
			ret = ops[k].result;
		if (ret)
			return ret;
	}
	return 0;
}

int owner_run(struct bench *b, int iters, uint64_t *ns)
{
	const struct runner_cmd c = { RUNNER_MAP_LOOP, iters, BENCH_SPOT,
				      BENCH_MAP_LEN };

	return map_loop(b, &c, ns);
}

static int remote_op(void *ctx, const struct runner_cmd *c, uint64_t *ns)
{
	return c->op == RUNNER_BATCH_LOOP ? batch_loop(ctx, c, ns) : map_loop(ctx, c, ns);
}

static void remote_loop(void *ctx, int sock)
{
	struct bench *b = ctx;

	while (!runner_serve(sock, remote_op, b, b->shared))
		;
}

/*
 * The other process inherits the device fd and the memfd, as the helper
 * gets them; its mm is not the owner's, so each request goes to the worker.
 */
int remote_start(struct bench *b)
{
	return runner_start(&b->remote, remote_loop, b);
}

int remote_run(struct bench *b, int iters, uint64_t *ns)
{
	return runner_timed(b, &b->remote, RUNNER_MAP_LOOP, iters, ns);
}

int remote_batch_run(struct bench *b, int iters, uint64_t *ns)
{
	return runner_timed(b, &b->remote, RUNNER_BATCH_LOOP, iters, ns);
}

/* One page mapped, one page of hole: every mapping is its own vma. */
int live_grow(struct bench *b, uint64_t n)
{
	for (; b->live < n; b->live++) {
		uint64_t off = b->live * 2 * BENCH_MAP_LEN;
		uint64_t fd_off = b->live * BENCH_MAP_LEN % BENCH_FILE_SIZE;
		int ret;

		if (off + BENCH_MAP_LEN > BENCH_SPOT - (2ULL << 20))
			return -ENOSPC;
		ret = vs_map(b->dev.fd, 0, b->memfd, fd_off, off, BENCH_MAP_LEN,
			     VHOST_SHMEM_MAP_F_RW);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The same pattern of @n mappings made with plain mmap() in the floor's
 * reservation, to compare kernel memory per mapping; then gone again.
 */
int floor_live(struct bench *b, uint64_t n, bool keep)
{
	for (uint64_t i = 0; keep && i < n; i++) {
		if (mmap(b->floor_area + i * 2 * BENCH_MAP_LEN, BENCH_MAP_LEN,
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, b->memfd,
			 i * BENCH_MAP_LEN % BENCH_FILE_SIZE) == MAP_FAILED)
			return -errno;
	}
	if (!keep && mmap(b->floor_area, n * 2 * BENCH_MAP_LEN, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
			  -1, 0) == MAP_FAILED)
		return -errno;
	return 0;
}
