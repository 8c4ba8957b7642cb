// SPDX-License-Identifier: GPL-2.0
/*
 * Delta reduction of a failing program, and its C form.
 *
 * Chunks of ops are dropped, halving the chunk size down to single ops,
 * and a candidate is kept when it still fails the same way (same failure
 * class, same kind of failing op). The executor skips ops whose slots were
 * never set up, so any subset of a program is a valid program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail_kind(const struct fz_prog *p, const struct fz_result *r)
{
	return r->op >= 0 && r->op < p->nops ? p->ops[r->op].kind : -1;
}

/* Does @cand fail like the original (class @what, op kind @kind)? */
static bool same_failure(const struct fz_prog *cand, const struct fz_opts *o,
			 const char *what, int kind)
{
	struct fz_result r;
	int ret = fz_run(cand, o, 30, &r);

	if (ret == 2)
		return false;	/* a hang is another failure; do not chase it */
	return ret == 1 && !strcmp(r.what, what) &&
	       (kind < 0 || fail_kind(cand, &r) == kind);
}

int fz_reduce(struct fz_prog *p, const struct fz_opts *o, const char *what, int budget_s)
{
	struct fz_prog *cand = malloc(sizeof(*cand));
	double deadline = now() + budget_s;
	struct fz_result r;
	int chunk, start, runs = 0, kind;

	if (!cand)
		return 0;
	/* The failing op's kind, from one more run of the original. */
	if (fz_run(p, o, 30, &r) != 1) {
		free(cand);
		return 1;
	}
	kind = fail_kind(p, &r);
	runs++;
	/* Ops after the failing one cannot matter (solo programs stop there). */
	if (r.op >= 0 && r.op + 1 < p->nops && strcmp(what, "crash"))
		p->nops = r.op + 1;
	for (chunk = p->nops / 2; chunk >= 1; chunk /= 2) {
		for (start = 0; start < p->nops && now() < deadline;) {
			int n = start + chunk > p->nops ? p->nops - start : chunk;

			*cand = *p;
			memmove(&cand->ops[start], &cand->ops[start + n],
				(p->nops - start - n) * sizeof(cand->ops[0]));
			cand->nops -= n;
			runs++;
			if (cand->nops && same_failure(cand, o, what, kind))
				*p = *cand;
			else
				start += n;
		}
	}
	free(cand);
	return runs;
}

static void field(char *buf, size_t len, size_t *n, const char *name, long long v, bool hex)
{
	if (!v)
		return;
	*n += snprintf(buf + *n, len - *n, hex ? ", .%s = %#llx" : ", .%s = %lld", name, v);
}

void fz_print_prog(const struct fz_prog *p, const char *prefix)
{
	static const char *const kinds[K_NKINDS] = {
		"K_NOP", "K_OPEN", "K_CLOSE", "K_DUP", "K_SET_OWNER", "K_SET_CONFIG",
		"K_GET_CONFIG", "K_REGION_INFO", "K_GET_STATS", "K_MMAP", "K_MUNMAP",
		"K_MPROTECT", "K_MADVISE", "K_MREMAP", "K_CLOBBER", "K_READ", "K_WRITE",
		"K_MAP", "K_UNMAP", "K_RESET", "K_BATCH", "K_BOP_MAP", "K_BOP_UNMAP",
		"K_BOP_BAD", "K_FILE_NEW", "K_FILE_CLOSE", "K_PWRITE", "K_SEAL", "K_FORK",
		"K_FORK_END", "K_CHILD_READ", "K_NL_DUMP", "K_UNLOAD", "K_EXIT", "K_KILL",
		"K_SLEEP", "K_MSEAL", "K_UFFD", "K_MAXMAP", "K_VIEW", "K_VIEW_DROP", "K_VIEW_TIGHT",
	};
	int i;

	printf("%sFZ_REGRESSION(seed_%llx, %s, %d, %d,\n", prefix,
	       (unsigned long long)p->seed, p->mode == FZ_SOLO ? "FZ_SOLO" : "FZ_CHAOS",
	       p->nprocs, p->nthreads);
	for (i = 0; i < p->nops; i++) {
		const struct fz_op *op = &p->ops[i];
		char buf[512];
		size_t n = 0;

		n += snprintf(buf, sizeof(buf), "{ .kind = %s", kinds[op->kind]);
		field(buf, sizeof(buf), &n, "proc", op->proc, false);
		field(buf, sizeof(buf), &n, "thread", op->thread, false);
		field(buf, sizeof(buf), &n, "fd", op->fd, false);
		field(buf, sizeof(buf), &n, "file", op->file, false);
		field(buf, sizeof(buf), &n, "reg", op->reg, false);
		field(buf, sizeof(buf), &n, "var", op->var, false);
		field(buf, sizeof(buf), &n, "shmid", op->shmid, false);
		field(buf, sizeof(buf), &n, "a", op->a, true);
		field(buf, sizeof(buf), &n, "b", op->b, true);
		field(buf, sizeof(buf), &n, "c", op->c, true);
		field(buf, sizeof(buf), &n, "d", (long long)op->d, true);
		printf("%s\t%s },\n", prefix, buf);
	}
	printf("%s)\n", prefix);
}
