// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-shmem-bench: sets every path up, grows the live mappings step by
 * step and, at each step, times the paths in interleaved rounds so drift in
 * the VM hits all of them alike. Prints a table for people, "BENCH-DAT"
 * rows for gnuplot and one "BENCH-JSON" line; tools/bench.sh collects them.
 * Results are ratios within this one run: under TCG absolute times mean
 * little.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

#define MAX_POINTS	8

enum { P_FLOOR, P_OWNER, P_REMOTE, P_BATCH, P_VU, P_VU_PIPE, P_MEMSLOT, NPATHS };

static const struct path {
	const char *key;	/* JSON */
	const char *label;	/* table */
	int (*run)(struct bench *b, int iters, uint64_t *ns);
} paths[NPATHS] = {
	[P_FLOOR] = { "floor", "floor", floor_run },
	[P_OWNER] = { "owner", "owner", owner_run },
	[P_REMOTE] = { "other_process", "other proc", remote_run },
	[P_BATCH] = { "other_process_batch8", "other, batch8", remote_batch_run },
	[P_VU] = { "vhost_user", "vhost-user", vu_path_run },
	[P_VU_PIPE] = { "vhost_user_pipelined8", "vu, pipelined8", vu_pipe_run },
	[P_MEMSLOT] = { "memslot", "memslot", memslot_run },
};

struct opts {
	uint64_t live[MAX_POINTS];
	int npoints;
	int iters;		/* samples per path and point */
	int rounds;		/* interleaved rounds they are split in */
	int access_iters;
	uint64_t views_live;	/* views measured at the first point >= this */
	uint64_t reset[MAX_POINTS];	/* RESET measured at these mappings */
	int nreset;
	int reset_tries;	/* the best of that many RESETs each */
	const char *json;
};

struct point {
	uint64_t live;
	struct summary s[NPATHS];
	char skip[NPATHS][160];
};

/* Paths timed with 0, 1 and 4 viewers of region 0 (views.c). */
#define NVCOUNTS	3
static const int vcounts[NVCOUNTS] = { 0, 1, BENCH_MAX_VIEWERS };
static const int vpaths[] = { P_FLOOR, P_OWNER, P_REMOTE };
#define NVPATHS		(int)(sizeof(vpaths) / sizeof(vpaths[0]))

struct view_results {
	uint64_t live;		/* 0: not measured */
	struct summary s[NVCOUNTS][NVPATHS];
	/* The cold floor (cold.c), timed in the same rounds. */
	struct summary cold[NVCOUNTS];
	/* Populating one viewer at mmap(), per live mapping. */
	double attach_ns_per_mapping;
	/* Kernel memory the viewers added, per viewer and live mapping. */
	double bytes_per_viewer_mapping;
};

struct results {
	struct point pt[MAX_POINTS];
	int npoints;
	struct summary first_map, first_plain, warm;
	char access_skip[96];
	/* Kernel memory (SUnreclaim + PageTables) per live mapping, bytes. */
	double bytes_per_mapping, floor_bytes_per_mapping;
	uint64_t mem_mappings, floor_mem_mappings;
	struct view_results views;
	struct reset_point reset[MAX_POINTS];
	int nreset;
};

static long kernel_kb(void)
{
	return vs_meminfo_kb("SUnreclaim") + vs_meminfo_kb("PageTables");
}

/* "N,N,..." ascending, each 1 to BENCH_MAX_LIVE, into @v; "0": none. */
static int parse_list(char *s, uint64_t *v, int *n)
{
	char *tok, *save = NULL;

	*n = 0;
	if (!strcmp(s, "0"))
		return 0;
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long long x = strtoull(tok, NULL, 0);

		if (*n == MAX_POINTS || x < 1 || x > BENCH_MAX_LIVE ||
		    (*n && x <= v[*n - 1]))
			return -EINVAL;
		v[(*n)++] = x;
	}
	return *n ? 0 : -EINVAL;
}

static int parse_live(struct opts *o, char *s)
{
	return parse_list(s, o->live, &o->npoints) || !o->npoints ? -EINVAL : 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "live", required_argument, NULL, 'l' },
		{ "iters", required_argument, NULL, 'i' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "access-iters", required_argument, NULL, 'a' },
		{ "views-live", required_argument, NULL, 'v' },
		{ "reset", required_argument, NULL, 'R' },
		{ "reset-tries", required_argument, NULL, 'T' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char deflive[] = "1,1000,10000,50000", defreset[] = "1000,10000,29000";
	int c;

	*o = (struct opts){ .iters = 2000, .rounds = 20, .access_iters = 200,
			    .views_live = 1000, .reset_tries = 3 };
	parse_live(o, deflive);
	parse_list(defreset, o->reset, &o->nreset);
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (parse_live(o, optarg))
				goto usage;
			break;
		case 'i': o->iters = atoi(optarg); break;
		case 'r': o->rounds = atoi(optarg); break;
		case 'a': o->access_iters = atoi(optarg); break;
		case 'v': o->views_live = strtoull(optarg, NULL, 0); break;
		case 'R':
			if (parse_list(optarg, o->reset, &o->nreset))
				goto usage;
			break;
		case 'T': o->reset_tries = atoi(optarg); break;
		case 'j': o->json = optarg; break;
		default: goto usage;
		}
	}
	if (o->rounds < 1 || o->iters < o->rounds || o->access_iters < 1 ||
	    o->reset_tries < 1)
		goto usage;
	return 0;
usage:
	fprintf(stderr,
		"usage: vhost-shmem-bench [--live N,N,...] (ascending, <= %d)\n"
		"       [--iters N] [--rounds N] [--access-iters N] [--json FILE]\n"
		"       [--views-live N] (0: no views measurement)\n"
		"       [--reset N,N,...] (mappings, ascending, <= %d; 0: none)\n"
		"       [--reset-tries N] (the best of N RESETs each)\n",
		BENCH_MAX_LIVE, BENCH_MAX_LIVE);
	return -EINVAL;
}

static int bench_setup(struct bench *b, const struct opts *o)
{
	const struct vs_layout layout[] = {
		{ .shmid = 0, .size = BENCH_REGION_SIZE },
		{ .shmid = 1, .size = BENCH_FLOOR_REGION_SIZE },
	};
	long mmc;
	int ret;

	memset(b, 0, sizeof(*b));
	b->memfd = -1;
	b->vu.fe = -1;
	/* Two vmas per live mapping, here and in the floor's reservation. */
	if (!vs_read_long("/proc/sys/vm/max_map_count", &mmc) &&
	    mmc < 4L * BENCH_MAX_LIVE + 65536 &&
	    vs_write_long("/proc/sys/vm/max_map_count", 4L * BENCH_MAX_LIVE + 65536))
		fprintf(stderr, "bench: cannot raise vm.max_map_count (%ld)\n", mmc);

	b->memfd = vs_memfd("bench-backend", BENCH_FILE_SIZE, BENCH_SEED);
	if (b->memfd < 0) {
		fprintf(stderr, "bench: memfd: %s\n", strerror(-b->memfd));
		return b->memfd;
	}
	ret = vs_dev_setup(&b->dev, layout, 2, true);
	if (ret) {
		fprintf(stderr, "bench: device setup: %s: %s\n", b->dev.err, strerror(-ret));
		return ret;
	}
	b->region = b->dev.r[0].addr;
	b->floor_region = b->dev.r[1].addr;
	b->floor_area = mmap(NULL, BENCH_FLOOR_AREA, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	b->shared_cap = (size_t)o->iters;
	b->shared = mmap(NULL, b->shared_cap * sizeof(uint64_t), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b->floor_area == MAP_FAILED || b->shared == MAP_FAILED) {
		fprintf(stderr, "bench: mmap: %s\n", strerror(errno));
		return -errno;
	}
	/* Children first: they should not inherit the KVM VM. */
	ret = remote_start(b);
	if (ret) {
		fprintf(stderr, "bench: other process: %s\n", strerror(-ret));
		return ret;
	}
	ret = viewers_start(b);
	if (ret) {
		fprintf(stderr, "bench: viewer processes: %s\n", strerror(-ret));
		return ret;
	}
	ret = cold_start(b);
	if (ret) {
		fprintf(stderr, "bench: cold floor's partner: %s\n", strerror(-ret));
		return ret;
	}
	ret = vu_path_start(b);
	b->have_vu = !ret;
	if (ret)
		snprintf(b->why_no_vu, sizeof(b->why_no_vu),
			 "helper path not available: %s (log: /tmp/vhost-shmem-bench-helper.log)",
			 ret == -ENOENT ? "no vhost-shmem-helper in $VHOST_SHMEM_BIN" :
			 strerror(-ret));
	ret = memslot_setup(b);
	if (ret) {
		fprintf(stderr, "bench: KVM: %s (memslot and first-access skipped)\n",
			strerror(-ret));
		b->have_kvm = false;
	}
	return 0;
}

/* Why path @p cannot run at @live live mappings, or NULL. */
static const char *why_skip(const struct bench *b, int p, uint64_t live, char *buf,
			    size_t len)
{
	if ((p == P_VU || p == P_VU_PIPE) && !b->have_vu)
		return b->why_no_vu;
	if (p == P_MEMSLOT && !b->have_kvm)
		return "no KVM";
	if (p == P_MEMSLOT && live > memslot_capacity(b)) {
		snprintf(buf, len, "%llu live memslots exceed KVM_CAP_NR_MEMSLOTS (%d)",
			 (unsigned long long)live, b->max_slots);
		return buf;
	}
	return NULL;
}

/* Every path at the current number of live mappings, interleaved. */
static int measure_point(struct bench *b, const struct opts *o, struct point *pt)
{
	int per = o->iters / o->rounds, ret = 0;
	struct series s[NPATHS] = { 0 };
	bool run[NPATHS];
	uint64_t *ns = calloc(per, sizeof(*ns));
	char buf[96];

	if (!ns)
		return -ENOMEM;
	for (int p = 0; p < NPATHS; p++) {
		const char *why = why_skip(b, p, pt->live, buf, sizeof(buf));

		run[p] = !why;
		snprintf(pt->skip[p], sizeof(pt->skip[p]), "%s", why ? why : "");
	}
	for (int r = 0; r < o->rounds && !ret; r++) {
		for (int p = 0; p < NPATHS && !ret; p++) {
			if (!run[p])
				continue;
			ret = paths[p].run(b, per, ns);
			if (ret)
				fprintf(stderr, "bench: %s at %llu live: %s\n", paths[p].key,
					(unsigned long long)pt->live, strerror(-ret));
			else
				ret = series_add(&s[p], ns, per);
		}
	}
	for (int p = 0; p < NPATHS; p++) {
		pt->s[p] = series_summary(&s[p]);
		series_free(&s[p]);
	}
	free(ns);
	return ret;
}

/*
 * MAP+UNMAP by the owner and by another process with 0, 1 and 4 viewers
 * of region 0 at the current live mappings, each against the floor timed
 * in the same interleaved rounds; then the viewers detach again. The
 * kernel memory 4 viewers add, per viewer and live mapping, is taken
 * right after they attached, before any of them touched a page.
 */
static int measure_views(struct bench *b, const struct opts *o, struct view_results *vr)
{
	int per = o->iters / o->rounds, ret = 0;
	uint64_t *ns = calloc(per, sizeof(*ns));
	long kb0 = 0;

	if (!ns)
		return -ENOMEM;
	vr->live = b->live;
	for (int c = 0; c < NVCOUNTS && !ret; c++) {
		struct series s[NVPATHS] = { 0 }, cold = { 0 };

		if (vcounts[c] == 1) {
			uint64_t t0 = now_ns();

			kb0 = kernel_kb();
			ret = viewers_set(b, 1);
			vr->attach_ns_per_mapping = (now_ns() - t0) / (double)b->live;
		} else if (vcounts[c]) {
			ret = viewers_set(b, vcounts[c]);
			vr->bytes_per_viewer_mapping = (kernel_kb() - kb0) * 1024.0 /
						       vcounts[c] / (double)b->live;
		}
		if (ret)
			fprintf(stderr, "bench: attaching %d viewers: %s\n", vcounts[c],
				strerror(-ret));
		for (int r = 0; r < o->rounds && !ret; r++) {
			for (int i = 0; i < NVPATHS && !ret; i++) {
				ret = paths[vpaths[i]].run(b, per, ns);
				if (ret)
					fprintf(stderr, "bench: %s with %d viewers: %s\n",
						paths[vpaths[i]].key, vcounts[c], strerror(-ret));
				else
					ret = series_add(&s[i], ns, per);
			}
			if (!ret && (ret = cold_floor_run(b, per, ns)))
				fprintf(stderr, "bench: cold floor with %d viewers: %s\n",
					vcounts[c], strerror(-ret));
			else if (!ret)
				ret = series_add(&cold, ns, per);
		}
		if (!ret && (ret = viewers_verify(b)))
			fprintf(stderr, "bench: a viewer's bytes are not the owner's: %s\n",
				strerror(-ret));
		for (int i = 0; i < NVPATHS; i++) {
			vr->s[c][i] = series_summary(&s[i]);
			series_free(&s[i]);
		}
		vr->cold[c] = series_summary(&cold);
		series_free(&cold);
	}
	free(ns);
	if (ret)
		vr->live = 0;
	if (!ret)
		return viewers_set(b, 0);
	viewers_set(b, 0);
	return ret;
}

static int measure_access(struct bench *b, const struct opts *o, struct results *res)
{
	int (*const fn[3])(struct bench *, int, uint64_t *) = {
		first_access_map, first_access_plain, warm_access
	};
	struct summary *out[3] = { &res->first_map, &res->first_plain, &res->warm };
	uint64_t *ns = calloc(o->access_iters, sizeof(*ns));
	int ret = 0;

	if (!b->have_kvm) {
		snprintf(res->access_skip, sizeof(res->access_skip), "no KVM");
		free(ns);
		return 0;
	}
	if (!ns)
		return -ENOMEM;
	for (int i = 0; i < 3 && !ret; i++) {
		struct series s = { 0 };

		ret = fn[i](b, o->access_iters, ns);
		if (ret == -EIO)
			fprintf(stderr, "bench: the guest read wrong bytes (first access %d)\n", i);
		else if (ret)
			fprintf(stderr, "bench: first access %d: %s\n", i, strerror(-ret));
		if (!ret)
			ret = series_add(&s, ns, o->access_iters);
		*out[i] = series_summary(&s);
		series_free(&s);
	}
	free(ns);
	return ret;
}

/*
 * RESET of o->reset[i] one-page mappings each (reset.c), as many as
 * vm.max_map_count leaves room for (with 1,024 vmas to spare); the rest
 * are skipped with the reason.
 */
static int measure_reset(struct bench *b, const struct opts *o, struct results *res)
{
	int ret = 0;

	for (int i = 0; i < o->nreset && !ret; i++) {
		struct reset_point *p = &res->reset[res->nreset++];
		long room = reset_room();

		p->mappings = o->reset[i];
		if ((long)p->mappings + 1024 > room) {
			snprintf(p->skip, sizeof(p->skip),
				 "%ld more vmas allowed by vm.max_map_count", room);
			continue;
		}
		printf("# RESET of %llu mappings, measuring\n",
		       (unsigned long long)p->mappings);
		ret = reset_run(b, o->reset_tries, p);
	}
	return ret;
}

/* The first measured RESET point, or NULL. */
static const struct reset_point *reset_first(const struct results *res)
{
	for (int i = 0; i < res->nreset; i++)
		if (!res->reset[i].skip[0])
			return &res->reset[i];
	return NULL;
}

static double reset_per(const struct reset_point *p)
{
	return p->reset_ns / (double)p->mappings;
}

static double map_per(const struct reset_point *p)
{
	return p->map_ns / (double)p->mappings;
}

/* Kernel memory of the region's mappings, against as many plain mmap()s. */
static int measure_memory(struct bench *b, struct results *res, uint64_t from,
			  long kb_grown)
{
	uint64_t n = b->live - from;
	long before;
	int ret;

	if (n < 1000)
		return 0;
	res->mem_mappings = n;
	res->bytes_per_mapping = kb_grown * 1024.0 / (double)n;
	before = kernel_kb();
	ret = floor_live(b, n, true);
	if (!ret) {
		res->floor_mem_mappings = n;
		res->floor_bytes_per_mapping = (kernel_kb() - before) * 1024.0 / (double)n;
	}
	return ret ? ret : floor_live(b, n, false);
}

static double ratio(const struct point *pt, int p, int base)
{
	if (!pt->s[p].n || !pt->s[base].n)
		return 0;
	return pt->s[p].median / pt->s[base].median;
}

/* The worst ratio of path @p to @base over all points, 0 if none. */
static double worst_ratio(const struct results *res, int p, int base)
{
	double w = 0;

	for (int i = 0; i < res->npoints; i++)
		if (ratio(&res->pt[i], p, base) > w)
			w = ratio(&res->pt[i], p, base);
	return w;
}

static const struct point *point_at(const struct results *res, uint64_t live)
{
	for (int i = 0; i < res->npoints; i++)
		if (res->pt[i].live == live)
			return &res->pt[i];
	return NULL;
}

/* Path @i of vpaths with vcounts[@c] viewers, against 0 viewers. */
static double views_vs_none(const struct view_results *vr, int c, int i)
{
	if (!vr->s[c][i].n || !vr->s[0][i].n)
		return 0;
	return vr->s[c][i].median / vr->s[0][i].median;
}

static double views_vs_floor(const struct view_results *vr, int c, int i)
{
	if (!vr->s[c][i].n || !vr->s[c][0].n)
		return 0;
	return vr->s[c][i].median / vr->s[c][0].median;
}

/* What each viewer adds to path @i, in floors (the same rounds' floor). */
static double views_added(const struct view_results *vr, int c, int i)
{
	if (!vcounts[c] || !vr->s[c][i].n || !vr->s[0][i].n || !vr->s[c][0].n)
		return 0;
	return (vr->s[c][i].median - vr->s[0][i].median) / vcounts[c] /
	       vr->s[c][0].median;
}

static double views_worst_added(const struct view_results *vr, int i)
{
	double w = 0;

	for (int c = 1; c < NVCOUNTS; c++)
		if (views_added(vr, c, i) > w)
			w = views_added(vr, c, i);
	return w;
}

/* The same, in cold floors: what the two vm_mmap()s in a viewer's mm meet. */
static double views_added_cold(const struct view_results *vr, int c, int i)
{
	if (!vr->cold[c].n || !vr->s[c][0].n)
		return 0;
	return views_added(vr, c, i) * vr->s[c][0].median / vr->cold[c].median;
}

#define NTARGETS	8

struct target {
	const char *key, *what;
	double value, limit;
	bool at_most;		/* value <= limit, else value >= limit */
};

static int targets(const struct results *res, struct target *t)
{
	const struct point *first = &res->pt[0], *last = &res->pt[res->npoints - 1];
	const struct point *k1 = point_at(res, 1000);
	int n = 0;

	t[n++] = (struct target){ "owner_vs_floor", "owner MAP+UNMAP / floor (worst point)",
				  worst_ratio(res, P_OWNER, P_FLOOR), 1.10, true };
	t[n++] = (struct target){ "other_process_vs_floor",
				  "other-process MAP+UNMAP / floor (worst point)",
				  worst_ratio(res, P_REMOTE, P_FLOOR), 2.0, true };
	t[n++] = (struct target){ "other_process_batch8_vs_floor",
				  "other process, 8 pairs per BATCH / floor (worst point)",
				  worst_ratio(res, P_BATCH, P_FLOOR), 2.0, true };
	t[n++] = (struct target){ "owner_growth", "owner: last point / first point",
				  first->s[P_OWNER].n && last->s[P_OWNER].n ?
				  last->s[P_OWNER].median / first->s[P_OWNER].median : 0,
				  1.3, true };
	/* The kernel's own mmap cost may grow with the vma count: not ours. */
	t[n++] = (struct target){ "owner_vs_floor_growth",
				  "owner/floor ratio: last point / first point",
				  ratio(first, P_OWNER, P_FLOOR) > 0 ?
				  ratio(last, P_OWNER, P_FLOOR) / ratio(first, P_OWNER, P_FLOOR) :
				  0, 1.3, true };
	t[n++] = (struct target){ "memslot_vs_owner_at_1000",
				  "memslot per mapping / owner at 1,000 live",
				  k1 ? ratio(k1, P_MEMSLOT, P_OWNER) : 0, 10.0, false };
	t[n++] = (struct target){ "views_owner_added_floors",
				  "owner: what each viewer adds, in floors (worst of 1, 4)",
				  views_worst_added(&res->views, 1), 1.0, true };
	t[n++] = (struct target){ "views_other_process_added_floors",
				  "other process: what each viewer adds, in floors (worst)",
				  views_worst_added(&res->views, 2), 1.0, true };
	return n;
}

static bool target_met(const struct target *t)
{
	if (t->value <= 0)
		return false;
	return t->at_most ? t->value <= t->limit : t->value >= t->limit;
}

static void print_views(const struct view_results *vr)
{
	if (!vr->live) {
		printf("\nRegion views: not measured\n");
		return;
	}
	printf("\nRegion views, %llu live mappings: MAP+UNMAP with viewers of the region.\n"
	       "Median us (p99 us); ratios to no viewers and to the floor; what each viewer\n"
	       "adds, in floors.\n\n%8s", (unsigned long long)vr->live, "viewers");
	for (int i = 0; i < NVPATHS; i++)
		printf(" %17s", paths[vpaths[i]].label);
	for (int i = 1; i < NVPATHS; i++)
		printf(" %24s", paths[vpaths[i]].label);
	printf("\n%8s %17s %17s %17s %24s %24s\n", "", "", "", "", "/none /floor +floors",
	       "/none /floor +floors");
	for (int c = 0; c < NVCOUNTS; c++) {
		printf("%8d", vcounts[c]);
		for (int i = 0; i < NVPATHS; i++) {
			char cell[40];

			snprintf(cell, sizeof(cell), "%.1f (%.1f)", vr->s[c][i].median / 1e3,
				 vr->s[c][i].p99 / 1e3);
			printf(" %17s", cell);
		}
		for (int i = 1; i < NVPATHS; i++) {
			char cell[40];

			snprintf(cell, sizeof(cell), "%.2fx %.2fx %+.2f", views_vs_none(vr, c, i),
				 views_vs_floor(vr, c, i), views_added(vr, c, i));
			printf(" %24s", cell);
		}
		printf("\n");
	}
	printf("Cold floor (the floor's two mmap()s, each right after a switch to another\n"
	       "process's mm and back, as a viewer's share meets them), median us (p99 us)\n"
	       "and what each viewer adds in cold floors (owner, other process):\n");
	for (int c = 0; c < NVCOUNTS; c++) {
		printf("%8d %17s", vcounts[c], "");
		printf("%.1f (%.1f) = %.2fx floor", vr->cold[c].median / 1e3,
		       vr->cold[c].p99 / 1e3,
		       vr->s[c][0].n ? vr->cold[c].median / vr->s[c][0].median : 0);
		if (vcounts[c])
			printf("; %+.2f, %+.2f", views_added_cold(vr, c, 1),
			       views_added_cold(vr, c, 2));
		printf("\n");
	}
	printf("Attaching a viewer: %.1f us per live mapping; kernel memory per viewer per\n"
	       "live mapping: %.0f bytes (SUnreclaim + PageTables, %d viewers)\n",
	       vr->attach_ns_per_mapping / 1e3, vr->bytes_per_viewer_mapping,
	       vcounts[NVCOUNTS - 1]);
}

static void print_reset(const struct results *res, const struct opts *o)
{
	const struct reset_point *first = reset_first(res);

	if (!res->nreset) {
		printf("\nRESET: not measured\n");
		return;
	}
	printf("\nRESET of a region of n adjacent one-page mappings (n vmas), best of %d;\n"
	       "the batched MAPs that filled it (best of as many) for comparison.\n\n"
	       "%8s %10s %11s %8s %15s %10s\n", o->reset_tries, "mappings", "RESET ms",
	       "us/mapping", "/first", "MAP us/mapping", "RESET/MAP");
	for (int i = 0; i < res->nreset; i++) {
		const struct reset_point *p = &res->reset[i];

		if (p->skip[0]) {
			printf("%8llu skipped: %s\n", (unsigned long long)p->mappings, p->skip);
			continue;
		}
		printf("%8llu %10.1f %11.1f %7.2fx %15.1f %9.2fx\n",
		       (unsigned long long)p->mappings, p->reset_ns / 1e6, reset_per(p) / 1e3,
		       reset_per(p) / reset_per(first), map_per(p) / 1e3,
		       reset_per(p) / map_per(p));
	}
}

static void print_table(const struct results *res, const struct opts *o,
			const char *kernel)
{
	struct target t[NTARGETS];
	int nt = targets(res, t);

	printf("\nvhost-shmem-bench, kernel %s, %ld cpus: MAP+UNMAP of one %llu KiB mapping,\n"
	       "%d samples per path and point in %d interleaved rounds. Median us (p99 us).\n\n",
	       kernel, sysconf(_SC_NPROCESSORS_ONLN), BENCH_MAP_LEN >> 10, o->iters,
	       o->rounds);
	printf("%8s", "live");
	for (int p = 0; p < NPATHS; p++)
		printf(" %17s", paths[p].label);
	printf("\n");
	for (int i = 0; i < res->npoints; i++) {
		const struct point *pt = &res->pt[i];

		printf("%8llu", (unsigned long long)pt->live);
		for (int p = 0; p < NPATHS; p++) {
			char cell[40];

			if (pt->s[p].n)
				snprintf(cell, sizeof(cell), "%.1f (%.1f)",
					 pt->s[p].median / 1e3, pt->s[p].p99 / 1e3);
			else
				snprintf(cell, sizeof(cell), "n/a");
			printf(" %17s", cell);
		}
		printf("\n");
	}
	printf("\nRatio of medians to the floor:\n%8s", "live");
	for (int p = 1; p < NPATHS; p++)
		printf(" %13s", paths[p].label);
	printf("\n");
	for (int i = 0; i < res->npoints; i++) {
		printf("%8llu", (unsigned long long)res->pt[i].live);
		for (int p = 1; p < NPATHS; p++) {
			double r = ratio(&res->pt[i], p, P_FLOOR);

			if (r > 0)
				printf(" %12.2fx", r);
			else
				printf(" %13s", "n/a");
		}
		printf("\n");
	}
	for (int i = 0; i < res->npoints; i++)
		for (int p = 0; p < NPATHS; p++)
			if (res->pt[i].skip[p][0])
				printf("  %s at %llu live: %s\n", paths[p].label,
				       (unsigned long long)res->pt[i].live, res->pt[i].skip[p]);
	if (res->first_map.n)
		printf("\nFirst guest read of a page: after MAP %.1f us (p99 %.1f), plain memslot "
		       "page %.1f us (p99 %.1f): %.2fx; a read KVM has mapped: %.1f us\n",
		       res->first_map.median / 1e3, res->first_map.p99 / 1e3,
		       res->first_plain.median / 1e3, res->first_plain.p99 / 1e3,
		       res->first_map.median / res->first_plain.median, res->warm.median / 1e3);
	else
		printf("\nFirst guest access: skipped (%s)\n", res->access_skip);
	if (res->mem_mappings)
		printf("Kernel memory (SUnreclaim + PageTables) per live mapping: %.0f bytes "
		       "(%llu mappings); plain mmap(): %.0f bytes\n",
		       res->bytes_per_mapping, (unsigned long long)res->mem_mappings,
		       res->floor_bytes_per_mapping);
	print_views(&res->views);
	print_reset(res, o);
	printf("\nTargets (DESIGN.md section 6):\n");
	for (int i = 0; i < nt; i++)
		printf("  [%s] %s: %.2fx (%s %.2fx)\n",
		       t[i].value <= 0 ? "n/a" : target_met(&t[i]) ? "met" : "MISSED",
		       t[i].what, t[i].value, t[i].at_most ? "<=" : ">=", t[i].limit);
	printf("\n");
}

static void json_summary(FILE *f, const struct summary *s)
{
	fprintf(f, "{\"n\":%zu,\"median_ns\":%.0f,\"p99_ns\":%.0f,\"min_ns\":%.0f}", s->n,
		s->median, s->p99, s->min);
}

static void json_views(FILE *f, const struct view_results *vr)
{
	if (!vr->live) {
		fprintf(f, "{\"skipped\":\"not measured\"}");
		return;
	}
	fprintf(f, "{\"live\":%llu,\"runs\":[", (unsigned long long)vr->live);
	for (int c = 0; c < NVCOUNTS; c++) {
		fprintf(f, "%s{\"viewers\":%d", c ? "," : "", vcounts[c]);
		for (int i = 0; i < NVPATHS; i++) {
			fprintf(f, ",\"%s\":", paths[vpaths[i]].key);
			json_summary(f, &vr->s[c][i]);
		}
		for (int i = 1; i < NVPATHS; i++)
			fprintf(f, ",\"%s_vs_no_viewers\":%.3f,\"%s_vs_floor\":%.3f,"
				"\"%s_added_floors_per_viewer\":%.3f",
				paths[vpaths[i]].key, views_vs_none(vr, c, i),
				paths[vpaths[i]].key, views_vs_floor(vr, c, i),
				paths[vpaths[i]].key, views_added(vr, c, i));
		fprintf(f, ",\"cold_floor\":");
		json_summary(f, &vr->cold[c]);
		for (int i = 1; i < NVPATHS; i++)
			fprintf(f, ",\"%s_added_cold_floors_per_viewer\":%.3f",
				paths[vpaths[i]].key, views_added_cold(vr, c, i));
		fprintf(f, "}");
	}
	fprintf(f, "],\"attach_ns_per_mapping\":%.0f,\"bytes_per_viewer_per_mapping\":%.0f}",
		vr->attach_ns_per_mapping, vr->bytes_per_viewer_mapping);
}

static void json_reset(FILE *f, const struct results *res, const struct opts *o)
{
	const struct reset_point *first = reset_first(res);

	fprintf(f, "{\"tries\":%d,\"points\":[", o->reset_tries);
	for (int i = 0; i < res->nreset; i++) {
		const struct reset_point *p = &res->reset[i];

		fprintf(f, "%s{\"mappings\":%llu", i ? "," : "",
			(unsigned long long)p->mappings);
		if (p->skip[0])
			fprintf(f, ",\"skipped\":\"%s\"}", p->skip);
		else
			fprintf(f, ",\"reset_ns\":%llu,\"reset_ns_per_mapping\":%.0f,"
				"\"per_mapping_vs_first\":%.3f,\"map_ns_per_mapping\":%.0f,"
				"\"reset_vs_map\":%.3f}", (unsigned long long)p->reset_ns,
				reset_per(p), reset_per(p) / reset_per(first), map_per(p),
				reset_per(p) / map_per(p));
	}
	fprintf(f, "]}");
}

static void print_json(FILE *f, const struct results *res, const struct opts *o,
		       const char *kernel)
{
	struct target t[NTARGETS];
	int nt = targets(res, t);

	fprintf(f, "{\"kernel\":\"%s\",\"cpus\":%ld,\"map_len\":%llu,\"samples\":%d,"
		"\"rounds\":%d,\"points\":[", kernel, sysconf(_SC_NPROCESSORS_ONLN),
		BENCH_MAP_LEN, o->iters, o->rounds);
	for (int i = 0; i < res->npoints; i++) {
		const struct point *pt = &res->pt[i];

		fprintf(f, "%s{\"live\":%llu", i ? "," : "", (unsigned long long)pt->live);
		for (int p = 0; p < NPATHS; p++) {
			fprintf(f, ",\"%s\":", paths[p].key);
			if (pt->s[p].n)
				json_summary(f, &pt->s[p]);
			else
				fprintf(f, "{\"skipped\":\"%s\"}", pt->skip[p]);
		}
		fprintf(f, ",\"ratio_to_floor\":{");
		for (int p = 1; p < NPATHS; p++)
			fprintf(f, "%s\"%s\":%.3f", p > 1 ? "," : "", paths[p].key,
				ratio(pt, p, P_FLOOR));
		fprintf(f, "}}");
	}
	fprintf(f, "],\"first_access\":{");
	if (res->first_map.n) {
		fprintf(f, "\"after_map\":");
		json_summary(f, &res->first_map);
		fprintf(f, ",\"plain_memslot\":");
		json_summary(f, &res->first_plain);
		fprintf(f, ",\"mapped\":");
		json_summary(f, &res->warm);
		fprintf(f, ",\"ratio\":%.3f", res->first_map.median / res->first_plain.median);
	} else {
		fprintf(f, "\"skipped\":\"%s\"", res->access_skip);
	}
	fprintf(f, "},\"views\":");
	json_views(f, &res->views);
	fprintf(f, ",\"reset\":");
	json_reset(f, res, o);
	fprintf(f, ",\"kernel_memory\":{\"mappings\":%llu,\"bytes_per_mapping\":%.0f,"
		"\"plain_mmap_bytes_per_mapping\":%.0f},\"targets\":[",
		(unsigned long long)res->mem_mappings, res->bytes_per_mapping,
		res->floor_bytes_per_mapping);
	for (int i = 0; i < nt; i++)
		fprintf(f, "%s{\"name\":\"%s\",\"value\":%.3f,\"limit\":%.2f,\"at_most\":%s,"
			"\"met\":%s}", i ? "," : "", t[i].key, t[i].value, t[i].limit,
			t[i].at_most ? "true" : "false", target_met(&t[i]) ? "true" : "false");
	fprintf(f, "]}\n");
}

/* Rows for gnuplot: live, then median and p99 in us per path (NaN: n/a). */
static void print_dat(const struct results *res)
{
	printf("BENCH-DAT # live");
	for (int p = 0; p < NPATHS; p++)
		printf(" %s_median_us %s_p99_us", paths[p].key, paths[p].key);
	printf("\n");
	for (int i = 0; i < res->npoints; i++) {
		printf("BENCH-DAT %llu", (unsigned long long)res->pt[i].live);
		for (int p = 0; p < NPATHS; p++) {
			const struct summary *s = &res->pt[i].s[p];

			if (s->n)
				printf(" %.2f %.2f", s->median / 1e3, s->p99 / 1e3);
			else
				printf(" NaN NaN");
		}
		printf("\n");
	}
}

static void bench_teardown(struct bench *b)
{
	runner_stop(&b->remote);
	viewers_stop(b);
	cold_stop(b);
	vu_path_stop(b);
	if (b->have_kvm || b->vmm.vm > 0)
		vmm_destroy(&b->vmm);
	if (b->dev.fd > 0)
		vs_dev_close(&b->dev);
	if (b->memfd >= 0)
		close(b->memfd);
}

int main(int argc, char **argv)
{
	static struct results res;
	long grown_kb = 0, before;
	struct utsname u;
	struct bench b;
	struct opts o;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_opts(argc, argv, &o))
		return 2;
	uname(&u);
	if (!vs_have_dev()) {
		printf("vhost-shmem-bench: skipped: no %s (module not loaded)\n", VS_DEV_PATH);
		return 4;
	}
	ret = bench_setup(&b, &o);
	if (ret)
		goto out;
	printf("vhost-shmem-bench: kernel %s; KVM %s, %d memslots; helper path %s\n",
	       u.release, b.have_kvm ? "yes" : "no", b.max_slots,
	       b.have_vu ? "yes" : b.why_no_vu);
	/* First, while this process has few vmas: RESET on its own device. */
	ret = measure_reset(&b, &o, &res);
	if (!ret)
		ret = measure_access(&b, &o, &res);
	for (int i = 0; !ret && i < o.npoints; i++) {
		struct point *pt = &res.pt[res.npoints++];
		uint64_t t0 = now_ns();

		pt->live = o.live[i];
		before = kernel_kb();
		ret = live_grow(&b, pt->live);
		if (i)	/* the first point's memory is the baseline */
			grown_kb += kernel_kb() - before;
		if (!ret && b.have_kvm)
			ret = memslot_grow(&b, pt->live);
		if (ret) {
			fprintf(stderr, "bench: growing to %llu live mappings: %s\n",
				(unsigned long long)pt->live, strerror(-ret));
			break;
		}
		printf("# %llu live mappings (grown in %.1f s), measuring\n",
		       (unsigned long long)pt->live, (now_ns() - t0) / 1e9);
		ret = measure_point(&b, &o, pt);
		if (!ret && o.views_live && !res.views.live &&
		    (pt->live >= o.views_live || i == o.npoints - 1)) {
			printf("# %llu live mappings, measuring with viewers\n",
			       (unsigned long long)pt->live);
			ret = measure_views(&b, &o, &res.views);
		}
	}
	if (!ret)
		ret = measure_memory(&b, &res, o.live[0], grown_kb);
	if (!ret) {
		print_table(&res, &o, u.release);
		print_dat(&res);
		printf("BENCH-JSON ");
		print_json(stdout, &res, &o, u.release);
		if (o.json) {
			FILE *f = fopen(o.json, "w");

			if (f) {
				print_json(f, &res, &o, u.release);
				fclose(f);
			}
		}
	}
out:
	bench_teardown(&b);
	return ret ? 1 : 0;
}
