// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency smoke and scale: other processes (and an owner thread)
 * MAP/UNMAP disjoint ranges while another thread reads the whole region,
 * which must only ever show the file's bytes or zeros; the final table and
 * counters are consistent and the kernel log stays clean. Then 20,000 live
 * mappings with vm.max_map_count raised (fewer with VS_COUNT_DIV, logged:
 * the debug lane; see vs_count()).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"

#define NTHREADS	4
#define SLICE_PAGES	64
#define ROUNDS		300
#define MANY_FULL	20000	/* twenty_thousand; vs_count() at least MANY_MIN */
#define MANY_MIN	200

FIXTURE(stress) {
	struct vs_dev d;
	int n;			/* twenty_thousand's mappings, MANY_FULL scaled */
	int m;
	long orig_mmc;
	int dmesg_seq;
};

FIXTURE_SETUP(stress)
{
	struct vs_layout l[] = {
		{ .shmid = 0, .size = (NTHREADS + 1) * SLICE_PAGES * PG },
		{ .shmid = 1 },
	};
	int ret;

	/* Even: every other one is unmapped. */
	self->n = vs_count(MANY_FULL, MANY_MIN) / 2 * 2;
	l[1].size = (uint64_t)self->n * 2 * PG;
	self->m = -1;
	self->orig_mmc = -1;
	self->d.fd = -1;
	VS_REQUIRE_DEV_IN_SETUP();
	self->dmesg_seq = vs_dmesg_lines();
	ret = vs_dev_setup(&self->d, l, 2, true);
	if (ret)
		TH_LOG("device setup: %s", self->d.err);
	ASSERT_EQ(0, ret);
	self->m = vs_memfd("stress", SLICE_PAGES * PG, 51);
	ASSERT_LE(0, self->m);
}

FIXTURE_TEARDOWN(stress)
{
	char first[256];
	int bad;

	if (self->orig_mmc > 0)
		vs_write_long("/proc/sys/vm/max_map_count", self->orig_mmc);
	vs_dev_close(&self->d);
	if (self->m >= 0)
		close(self->m);
	bad = vs_dmesg_bad_since(self->dmesg_seq, first, sizeof(first));
	if (bad > 0)
		TH_LOG("kernel log: %d bad lines, first: %s", bad, first);
	EXPECT_GE(0, bad);
}

struct worker {
	struct vs_dev *d;
	int m, idx;
	struct vs_remote *rem;	/* non-NULL: go through the second process */
	int err;		/* first unexpected error */
	uint8_t live[SLICE_PAGES];
	unsigned long ops;
};

static atomic_int stop;

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	unsigned int seed = 1000 + w->idx;
	uint64_t base = (uint64_t)w->idx * SLICE_PAGES * PG;
	int i, ret;

	for (i = 0; i < ROUNDS && !w->err; i++) {
		int p, len;

		seed = seed * 1103515245 + 12345;
		p = (seed >> 8) % (SLICE_PAGES - 4);
		len = 1 + (seed >> 20) % 4;
		if (w->live[p] == 1) {
			/* unmap the mapping starting at p (stored length) */
			int l = 1;

			while (p + l < SLICE_PAGES && w->live[p + l] == 2)
				l++;
			ret = w->rem ? vs_remote_unmap(w->rem, 0, base + p * PG, l * PG)
				     : vs_unmap(w->d->fd, 0, base + p * PG, l * PG);
			if (ret) {
				w->err = ret;
				break;
			}
			memset(w->live + p, 0, l);
		} else {
			bool free_range = true;
			int k;

			for (k = 0; k < len; k++)
				free_range &= !w->live[p + k];
			ret = w->rem ? vs_remote_map(w->rem, 0, w->m, p * PG, base + p * PG,
						     len * PG, i & 1)
				     : vs_map(w->d->fd, 0, w->m, p * PG, base + p * PG,
					      len * PG, i & 1);
			if (free_range && ret) {
				w->err = ret;
				break;
			}
			if (!free_range && ret != -EEXIST) {
				w->err = ret ? ret : -EPROTO;
				break;
			}
			if (!ret) {
				w->live[p] = 1;
				memset(w->live + p + 1, 2, len - 1);
			}
		}
		w->ops++;
	}
	return NULL;
}

struct reader {
	uint8_t *addr;
	uint64_t len;
	unsigned int seed;
	long bad;		/* offset of a byte neither zero nor the pattern */
	int bad_got, bad_sig;	/* its value, or the signal the copy got */
	unsigned long passes;
	unsigned long mapped, holes, mixed;	/* pages seen as such */
};

/*
 * Reads every page of the region again and again while the workers churn:
 * each byte must be the file's byte at that offset (the workers map page
 * p of a slice from file offset p) or zero (a hole). A page that is half
 * one and half the other was replaced during the copy; anything else, or
 * a fault, is a bug (holes read zeros, mappings the file).
 */
static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	uint8_t *buf = malloc(PG);

	r->bad = -1;
	while (buf && !atomic_load(&stop)) {
		uint64_t off;

		for (off = 0; off < r->len; off += PG) {
			uint64_t foff = off % (SLICE_PAGES * PG);
			size_t k, zero = 0, pat = 0;
			int sig = vs_probe_copy(buf, r->addr + off, PG);

			if (sig) {
				r->bad = (long)off;
				r->bad_sig = sig;
				goto out;
			}
			for (k = 0; k < PG; k++) {
				if (buf[k] == vs_pat(r->seed, foff + k)) {
					pat++;
				} else if (buf[k] == 0) {
					zero++;
				} else {
					r->bad = (long)(off + k);
					r->bad_got = buf[k];
					goto out;
				}
			}
			if (pat == PG)
				r->mapped++;
			else if (zero == PG)
				r->holes++;
			else
				r->mixed++;
		}
		r->passes++;
	}
out:
	free(buf);
	return NULL;
}

/*
 * Five workers churn MAP/UNMAP in disjoint slices of region 0, four of
 * them from other processes (each its own helper-like process, through
 * the worker kthread) and one owner thread, while an owner thread reads
 * the whole region. Afterwards the table, the counters and every page
 * match what the workers believe.
 */
TEST_F_TIMEOUT(stress, concurrent_map_unmap, 300)
{
	struct worker w[NTHREADS + 1];
	pthread_t th[NTHREADS + 1], rt;
	struct reader rd = {
		.addr = self->d.r[0].addr,
		.len = self->d.r[0].size,
		.seed = 51,
	};
	struct vs_remote rem[NTHREADS + 1];
	struct vhost_shmem_stats st;
	uint64_t live = 0, bytes = 0, maps = 0;
	int i, p;

	for (i = 1; i <= NTHREADS; i++)
		ASSERT_EQ(0, vs_remote_start(&rem[i], self->d.fd));
	atomic_store(&stop, 0);
	ASSERT_EQ(0, pthread_create(&rt, NULL, reader_fn, &rd));
	for (i = 0; i <= NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].d = &self->d;
		w[i].m = self->m;
		w[i].idx = i;
		/* Worker 0 is the owner; all others are other processes. */
		w[i].rem = i ? &rem[i] : NULL;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, worker_fn, &w[i]));
	}
	for (i = 0; i <= NTHREADS; i++)
		pthread_join(th[i], NULL);
	atomic_store(&stop, 1);
	pthread_join(rt, NULL);

	for (i = 0; i <= NTHREADS; i++) {
		if (w[i].err)
			TH_LOG("worker %d: %s after %lu ops", i, strerror(-w[i].err), w[i].ops);
		EXPECT_EQ(0, w[i].err);
		EXPECT_EQ(ROUNDS, w[i].ops);
	}
	TH_LOG("reader: %lu passes, pages seen mapped %lu, holes %lu, replaced mid-copy %lu",
	       rd.passes, rd.mapped, rd.holes, rd.mixed);
	if (rd.bad >= 0)
		TH_LOG("reader: region offset %#lx: %s%d", rd.bad,
		       rd.bad_sig ? "signal " : "byte ", rd.bad_sig ? rd.bad_sig : rd.bad_got);
	EXPECT_EQ(-1, rd.bad);
	/* It read while the workers ran, and saw both mappings and holes. */
	EXPECT_LE(1, rd.passes);
	EXPECT_LT(0, rd.mapped);
	EXPECT_LT(0, rd.holes);

	/* The table matches what the workers believe. */
	for (i = 0; i <= NTHREADS; i++) {
		uint8_t *base = self->d.r[0].addr + (uint64_t)i * SLICE_PAGES * PG;

		for (p = 0; p < SLICE_PAGES; p++) {
			if (w[i].live[p]) {
				bytes += PG;
				live += w[i].live[p] == 1;
				ASSERT_EQ(-1, vs_check_pat(base + p * PG, PG, 51, p * PG, NULL));
			} else {
				ASSERT_EQ(-1, vs_check_zero(base + p * PG, PG, NULL));
			}
		}
	}
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(live, st.mappings);
	EXPECT_EQ(bytes, st.mapped_bytes);
	EXPECT_EQ(st.maps - st.unmaps, st.mappings);
	maps = st.maps;
	EXPECT_LE(live, maps);
	ASSERT_EQ(0, vs_reset(self->d.fd));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	ASSERT_EQ(-1, vs_check_zero(self->d.r[0].addr, self->d.r[0].size, NULL));
	for (i = 1; i <= NTHREADS; i++)
		EXPECT_EQ(0, vs_remote_stop(&rem[i]));
}

struct prot_racer {
	uint8_t *at;		/* the range the other process maps and unmaps */
	uint64_t len;
	unsigned long ok, eacces, other, landed;
};

/*
 * The owner asks for write access to the range again and again: on a hole
 * (the region's own protection) that is a no-op, on the read-only mapping
 * it must fail with EACCES. Either way a write must fault right after.
 */
static void *prot_racer_fn(void *arg)
{
	struct prot_racer *pr = arg;

	while (!atomic_load(&stop)) {
		if (!mprotect(pr->at, pr->len, PROT_READ | PROT_WRITE))
			pr->ok++;
		else if (errno == EACCES)
			pr->eacces++;
		else
			pr->other++;
		if (!vs_probe_write(pr->at + (pr->ok % pr->len), 0xee))
			pr->landed++;
	}
	return NULL;
}

/*
 * The owner's mprotect(PROT_WRITE) races a read-only MAP from another
 * process (through the worker): it never makes the mapping writable, no
 * write through the region ever lands (the file is unchanged), and every
 * MAP and UNMAP succeeds (the owner's no-op mprotect of a hole changes
 * nothing the device checks).
 */
TEST_F_TIMEOUT(stress, mprotect_races_remote_map, 300)
{
	struct prot_racer pr = { .at = self->d.r[0].addr + 4 * PG, .len = 4 * PG };
	struct vs_remote_req req = { .op = VS_R_MAP_LOOP, .count = 1000 };
	struct vhost_shmem_stats st;
	struct vs_remote_rep rep;
	struct vs_remote rem;
	pthread_t th;
	int ret;

	ASSERT_EQ(0, vs_remote_start(&rem, self->d.fd));
	req.map = (struct vhost_shmem_map){ .shmid = 0, .fd = -1, .fd_offset = 8 * PG,
					    .shm_offset = 4 * PG, .len = 4 * PG, .flags = 0 };
	atomic_store(&stop, 0);
	ASSERT_EQ(0, pthread_create(&th, NULL, prot_racer_fn, &pr));
	ret = vs_remote_call(&rem, &req, self->m, &rep);
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	TH_LOG("mprotect: %lu no-op on a hole, %lu EACCES on the mapping, %lu other",
	       pr.ok, pr.eacces, pr.other);
	ASSERT_EQ(0, ret);
	if (rep.ret)
		TH_LOG("MAP/UNMAP loop: %s", strerror(-rep.ret));
	EXPECT_EQ(0, rep.ret);
	EXPECT_EQ(0, pr.other);
	EXPECT_EQ(0, pr.landed);
	/* Both sides of the race were hit. */
	EXPECT_LT(0, pr.eacces);
	EXPECT_LT(0, pr.ok);
	EXPECT_EQ(-1, vs_check_file_pat(self->m, 0, SLICE_PAGES * PG, 51, 0, NULL));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(-1, vs_check_zero(self->d.r[0].addr, 16 * PG, NULL));
	EXPECT_TRUE(vs_maps_covered(self->d.r[0].addr, self->d.r[0].size));
	EXPECT_EQ(0, vs_remote_stop(&rem));
}

/*
 * 20,000 isolated live mappings (40,000+ vmas) with vm.max_map_count
 * raised; fewer with VS_COUNT_DIV (logged).
 */
TEST_F_TIMEOUT(stress, twenty_thousand, 600)
{
	const int n = self->n, k = n * 12345LL / MANY_FULL;
	uint8_t *r = self->d.r[1].addr;
	struct vhost_shmem_stats st;
	struct timespec t0, t1, t2;
	int i;

	/* Raised by the VM's runner; a suite run as root raises it itself. */
	ASSERT_EQ(0, vs_raise_max_map_count(200000, &self->orig_mmc));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	if (st.max_mappings < (uint64_t)n)
		SKIP(return, "max_mappings is %llu", (unsigned long long)st.max_mappings);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		int ret = vs_map(self->d.fd, 1, self->m, (i % SLICE_PAGES) * PG,
				 (uint64_t)2 * i * PG, PG, 0);

		if (ret)
			TH_LOG("MAP %d: %s", i, strerror(-ret));
		ASSERT_EQ(0, ret);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(n, st.mappings);
	EXPECT_EQ((uint64_t)n * PG, st.mapped_bytes);
	for (i = 0; i < n; i += 97) {
		ASSERT_EQ(vs_pat(51, (i % SLICE_PAGES) * PG + 5), r[2 * i * PG + 5]);
		ASSERT_EQ(0, r[(2 * i + 1) * PG]);
	}
	/* Lookups at 20,000: exact UNMAP and overlap checks still right. */
	EXPECT_EQ(-EEXIST, vs_map(self->d.fd, 1, self->m, 0, 2 * k * PG, PG, 0));
	EXPECT_EQ(-ENOENT, vs_unmap(self->d.fd, 1, (2 * k + 1) * PG, PG));
	for (i = 0; i < n; i += 2)
		ASSERT_EQ(0, vs_unmap(self->d.fd, 1, (uint64_t)2 * i * PG, PG));
	clock_gettime(CLOCK_MONOTONIC, &t2);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(n / 2, st.mappings);
	ASSERT_EQ(0, vs_reset(self->d.fd));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(1, vs_maps_count(r, self->d.r[1].size));
	if (n != MANY_FULL)
		TH_LOG("%d mappings, not %d: %s=%d", n, MANY_FULL, VS_COUNT_DIV_ENV,
		       vs_count_div());
	TH_LOG("%d MAPs: %.2f s, %d UNMAPs: %.2f s", n,
	       t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       n / 2, t2.tv_sec - t1.tv_sec + (t2.tv_nsec - t1.tv_nsec) / 1e9);
}

TEST_HARNESS_MAIN
