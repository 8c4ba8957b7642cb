// SPDX-License-Identifier: GPL-2.0
/*
 * RESET of a live region of n adjacent one-page mappings, each its own vma
 * (the device reopens the file for every mapping, so they do not merge).
 * RESET holds the device throughout (issue 9), so what it costs a mapping
 * at many mappings matters. Its own device with one region of exactly n
 * pages, so the other paths' live mappings stay; the MAPs that fill it
 * (VHOST_SHMEM_BATCH, BATCH_MAX at a time) are timed too, as a yardstick
 * of the same run that RESET does not share.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

/* Pages [0, @n) of region 0 of @fd, one mapping each, in batches. */
static int map_pages(int fd, int memfd, uint64_t n)
{
	const uint64_t file_pages = BENCH_FILE_SIZE / BENCH_MAP_LEN;
	struct vhost_shmem_op ops[VHOST_SHMEM_BATCH_MAX];
	uint64_t i, cnt;
	int ret;

	for (i = 0; i < n; i += cnt) {
		cnt = n - i < VHOST_SHMEM_BATCH_MAX ? n - i : VHOST_SHMEM_BATCH_MAX;
		for (uint64_t j = 0; j < cnt; j++)
			ops[j] = vs_op_map(0, memfd, ((i + j) % file_pages) * BENCH_MAP_LEN,
					   (i + j) * BENCH_MAP_LEN, BENCH_MAP_LEN, 0);
		ret = vs_batch(fd, ops, cnt);
		for (uint64_t j = 0; !ret && j < cnt; j++)
			ret = ops[j].result;
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * @p->mappings mappings, @tries times: MAP them all, check the region is
 * that many vmas, RESET, check it is one vma again. The best of each.
 * Return: 0, -EPROTO (the vma counts were not those), or the error of a
 * MAP or RESET.
 */
int reset_run(struct bench *b, int tries, struct reset_point *p)
{
	const struct vs_layout l[] = {
		{ .shmid = 0, .size = p->mappings * BENCH_MAP_LEN },
	};
	struct vs_dev d;
	int ret, vmas;

	ret = vs_dev_setup(&d, l, 1, true);
	if (ret) {
		fprintf(stderr, "bench: RESET device: %s: %s\n", d.err, strerror(-ret));
		return ret;
	}
	for (int k = 0; k < tries && !ret; k++) {
		uint64_t t0 = now_ns(), t1, t2, t3;

		ret = map_pages(d.fd, b->memfd, p->mappings);
		t1 = now_ns();
		vmas = ret ? 0 : vs_maps_count(d.r[0].addr, d.r[0].size);
		if (!ret && vmas != (int)p->mappings) {
			fprintf(stderr, "bench: %llu mappings are %d vmas\n",
				(unsigned long long)p->mappings, vmas);
			ret = -EPROTO;
		}
		t2 = now_ns();
		if (!ret)
			ret = vs_reset(d.fd);
		t3 = now_ns();
		if (ret)
			break;
		vmas = vs_maps_count(d.r[0].addr, d.r[0].size);
		if (vmas != 1) {
			fprintf(stderr, "bench: after RESET the region is %d vmas\n", vmas);
			ret = -EPROTO;
		}
		if (!k || t3 - t2 < p->reset_ns)
			p->reset_ns = t3 - t2;
		if (!k || t1 - t0 < p->map_ns)
			p->map_ns = t1 - t0;
	}
	if (ret)
		fprintf(stderr, "bench: RESET of %llu mappings: %s\n",
			(unsigned long long)p->mappings, strerror(-ret));
	vs_dev_close(&d);
	return ret;
}

/* How many more vmas this process may have: vm.max_map_count minus its own. */
long reset_room(void)
{
	long mmc;
	int total = vs_maps_total();

	if (vs_read_long("/proc/sys/vm/max_map_count", &mmc) || total < 0)
		return 0;
	return mmc - total;
}
