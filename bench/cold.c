// SPDX-License-Identifier: GPL-2.0
/*
 * The cold floor: the floor's two mmap(MAP_FIXED) calls, each timed right
 * after this process came back from another process's mm on the same CPU.
 * That is what a viewer's share of a MAP or an UNMAP meets: the worker
 * switches into the viewer's mm and calls vm_mmap() there. Under QEMU TCG
 * a switch of page tables empties the emulated TLB, so what any design
 * pays in a foreign mm is measured here, not guessed.
 */
#include <errno.h>
#include <sched.h>
#include <unistd.h>

#include "bench.h"

/* In the partner (a runner, runner.c): answer every byte, until EOF. */
static void partner_loop(void *ctx, int sock)
{
	char c;

	(void)ctx;
	while (read(sock, &c, 1) == 1)
		if (write(sock, &c, 1) != 1)
			break;
}

int cold_start(struct bench *b)
{
	return runner_start(&b->cold, partner_loop, NULL);
}

/* One round trip through the partner: this CPU ran its mm, then ours. */
static int bounce(struct bench *b)
{
	char c = 0;

	if (write(b->cold.cmd, &c, 1) != 1 || read(b->cold.cmd, &c, 1) != 1)
		return -EPIPE;
	return 0;
}

static int cold_steps(struct bench *b, int iters, uint64_t *ns)
{
	uint8_t *spot = b->floor_region + BENCH_FLOOR_SPOT;

	for (int i = 0; i < iters; i++) {
		uint64_t t0, t1;
		int ret;

		ret = bounce(b);
		t0 = now_ns();
		ret = ret ? ret : place_file(b, spot);
		t1 = now_ns();
		ret = ret ? ret : bounce(b);
		ns[i] = t1 - t0;
		t0 = now_ns();
		ret = ret ? ret : place_hole(spot);
		if (ret)
			return ret;
		ns[i] += now_ns() - t0;
	}
	return 0;
}

/*
 * Both processes on the CPU this one runs on, so that every bounce switches
 * this CPU's page tables twice; this process's own affinity is put back.
 */
int cold_floor_run(struct bench *b, int iters, uint64_t *ns)
{
	cpu_set_t old, one;
	int cpu = sched_getcpu(), ret;

	if (cpu < 0 || sched_getaffinity(0, sizeof(old), &old))
		return -errno;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) ||
	    sched_setaffinity(b->cold.pid, sizeof(one), &one))
		ret = -errno;
	else
		ret = cold_steps(b, iters, ns);
	if (sched_setaffinity(0, sizeof(old), &old) && !ret)
		ret = -errno;
	return ret;
}

void cold_stop(struct bench *b)
{
	runner_stop(&b->cold);
}
