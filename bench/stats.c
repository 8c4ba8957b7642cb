// SPDX-License-Identifier: GPL-2.0
/* Timings: a growing array of samples, median and p99. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int time_steps(int iters, uint64_t *ns, int (*step)(void *ctx), void *ctx)
{
	for (int i = 0; i < iters; i++) {
		uint64_t t0 = now_ns();
		int ret = step(ctx);

		if (ret)
			return ret;
		ns[i] = now_ns() - t0;
	}
	return 0;
}

int series_add(struct series *s, const uint64_t *ns, size_t n)
{
	if (s->n + n > s->cap) {
		size_t cap = (s->n + n) * 2;
		uint64_t *p = realloc(s->ns, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->ns = p;
		s->cap = cap;
	}
	memcpy(s->ns + s->n, ns, n * sizeof(*ns));
	s->n += n;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static double rank(const struct series *s, double pct)
{
	size_t i = (size_t)(pct / 100.0 * (double)s->n + 0.999999);

	if (i < 1)
		i = 1;
	if (i > s->n)
		i = s->n;
	return (double)s->ns[i - 1];
}

struct summary series_summary(struct series *s)
{
	struct summary r = { .n = s->n };

	if (!s->n)
		return r;
	qsort(s->ns, s->n, sizeof(*s->ns), cmp_u64);
	r.median = s->n % 2 ? (double)s->ns[s->n / 2] :
		   ((double)s->ns[s->n / 2 - 1] + (double)s->ns[s->n / 2]) / 2;
	r.p99 = rank(s, 99.0);
	r.min = (double)s->ns[0];
	return r;
}

void series_free(struct series *s)
{
	free(s->ns);
	memset(s, 0, sizeof(*s));
}
