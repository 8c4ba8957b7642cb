/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-shmem-bench: what one MAP+UNMAP costs on each path, against the raw
 * mmap(MAP_FIXED) floor and against a memslot per mapping, at growing
 * numbers of live mappings. Runs inside the test VM (tools/bench.sh).
 *
 * Every path times the same thing: install one BENCH_MAP_LEN mapping of the
 * backend memfd at a page in the middle of a large hole, then put the hole
 * back. The process also holds one KVM VM with a memslot over the region, so
 * every path pays KVM's mmu notifier as a real VMM does.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vhost_shmem_lib.h"
#include "kvm_vmm.h"

#define BENCH_REGION_SIZE	(512ULL << 20)
/* Live mappings sit on even pages of [0, BENCH_SPOT - 2 MiB). */
#define BENCH_SPOT		(448ULL << 20)
#define BENCH_MAP_LEN		4096ULL
#define BENCH_FILE_SIZE		(2ULL << 20)
#define BENCH_SEED		7	/* the memfd's vs_pat() pattern */
#define BENCH_MAX_LIVE		50000
/* Guest physical addresses of the memslot-per-mapping slots (not run). */
#define BENCH_SLOT_GPA		0x100000000ULL
/* A plain memslot over the memfd, for the first-access comparison. */
#define BENCH_PLAIN_GPA		0x08000000ULL
#define BENCH_PLAIN_SLOT	2
/*
 * The floor's own region (shmid 1) under its own memslot: the floor mmaps
 * over it as a VMM would, which detaches that region (the device leaves a
 * region alone once its owner maps over it), never region 0.
 */
#define BENCH_FLOOR_REGION_SIZE	(64ULL << 20)
#define BENCH_FLOOR_SPOT	(BENCH_FLOOR_REGION_SIZE / 2)
#define BENCH_FLOOR_GPA		0x200000000ULL
#define BENCH_FLOOR_SLOT	3
#define BENCH_FIRST_SLOT	4

/* One series of timings, nanoseconds per operation. */
struct series {
	uint64_t *ns;
	size_t n, cap;
};

struct summary {
	size_t n;
	double median, p99, min;
};

uint64_t now_ns(void);
/* Times @step @iters times, one sample each in @ns. 0 or @step's error. */
int time_steps(int iters, uint64_t *ns, int (*step)(void *ctx), void *ctx);
int series_add(struct series *s, const uint64_t *ns, size_t n);
/* Sorts @s; median and p99 (nearest rank). */
struct summary series_summary(struct series *s);
void series_free(struct series *s);

/* A child process that times a loop and leaves its samples in @shared. */
struct runner {
	pid_t pid;
	int cmd;		/* socketpair: struct runner_cmd, int reply */
};

struct runner_cmd {
	int op;			/* RUNNER_MAP_LOOP or RUNNER_VU_LOOP */
	int iters;
	uint64_t spot, len;
};

enum {
	RUNNER_MAP_LOOP = 1, RUNNER_BATCH_LOOP, RUNNER_VU_LOOP, RUNNER_VU_PIPE,
	RUNNER_VIEW_ATTACH, RUNNER_VIEW_DETACH, RUNNER_VIEW_CHECK,
};

/* Viewer processes of region 0 (views.c), for the views measurement. */
#define BENCH_MAX_VIEWERS	4

/* MAP+UNMAP pairs per VHOST_SHMEM_BATCH in the batched path. */
#define BENCH_BATCH_PAIRS	8

/* The helper path: vhost-shmem-helper between a front-end and a back-end. */
struct vu_path {
	pid_t helper;
	struct runner backend;	/* the back-end, timing SHMEM_MAP/UNMAP */
	int fe;			/* our front-end socket to the helper */
};

struct bench {
	struct vs_dev dev;
	uint8_t *region;
	uint8_t *floor_region;	/* region 1: the floor's mmaps */
	int memfd;		/* the backend file every path maps */
	uint8_t *floor_area;	/* PROT_NONE reservation: plain mmap()s, for memory */
	uint8_t *slot_area;	/* same, for the memslot-per-mapping path */
	uint8_t *plain;		/* the memfd mapped plainly (first access) */
	uint64_t *shared;	/* samples from child processes */
	size_t shared_cap;
	struct kvm_vmm vmm;
	bool have_kvm;
	int max_slots;		/* KVM_CAP_NR_MEMSLOTS */
	int live_slots;		/* memslots standing for live mappings */
	uint64_t live;		/* live mappings in the region */
	struct runner remote;
	struct vu_path vu;
	struct runner viewer[BENCH_MAX_VIEWERS];
	int viewers;		/* attached: viewer[0 .. viewers - 1] */
	struct runner cold;	/* the cold floor's partner (cold.c) */
	bool have_vu;
	char why_no_vu[160];
};

/* paths.c: the floor, the owner and the other-process paths. */
/* What a VMM does itself: the memfd at @spot, or a PROT_NONE placeholder. */
int place_file(struct bench *b, uint8_t *spot);
int place_hole(uint8_t *spot);
int floor_run(struct bench *b, int iters, uint64_t *ns);
int owner_run(struct bench *b, int iters, uint64_t *ns);
int remote_start(struct bench *b);
int remote_run(struct bench *b, int iters, uint64_t *ns);
int remote_batch_run(struct bench *b, int iters, uint64_t *ns);
/* Grows the region's live mappings to @n (owner MAPs on even pages). */
int live_grow(struct bench *b, uint64_t n);
/* @n plain mmap()s in the floor's reservation (@keep), or gone (!@keep). */
int floor_live(struct bench *b, uint64_t n, bool keep);
#define BENCH_FLOOR_AREA	(512ULL << 20)

/* runner.c: child processes driven over a socketpair. */
typedef int (*runner_fn)(void *ctx, const struct runner_cmd *c, uint64_t *ns);
/* Forks a child running @loop(@ctx, its end of the command socket). */
int runner_start(struct runner *r, void (*loop)(void *ctx, int cmd), void *ctx);
/* In the child: one command through @fn, samples to @ns. 0 or -EPIPE. */
int runner_serve(int sock, runner_fn fn, void *ctx, uint64_t *ns);
/* In the parent: one command; the child's answer (0 or -errno). */
int runner_call(struct runner *r, const struct runner_cmd *c);
/* In the parent: run @op for @iters samples, copied from b->shared to @ns. */
int runner_timed(struct bench *b, struct runner *r, int op, int iters, uint64_t *ns);
void runner_stop(struct runner *r);

/* vu_path.c: backend -> vhost-shmem-helper -> module round trips. */
int vu_path_start(struct bench *b);
int vu_path_run(struct bench *b, int iters, uint64_t *ns);
/* BENCH_BATCH_PAIRS pairs sent back to back; time per pair. */
int vu_pipe_run(struct bench *b, int iters, uint64_t *ns);
void vu_path_stop(struct bench *b);

/* views.c: viewer processes, forked at setup, attached on demand. */
int viewers_start(struct bench *b);
/* Viewers 0 .. @n - 1 attached (mmapped a view of region 0), the rest not. */
int viewers_set(struct bench *b, int n);
/* Each attached viewer's bytes are the owner's. 0 or -EIO. */
int viewers_verify(struct bench *b);
void viewers_stop(struct bench *b);

/* cold.c: the floor, each mmap() right after a switch to another mm and back. */
int cold_start(struct bench *b);
int cold_floor_run(struct bench *b, int iters, uint64_t *ns);
void cold_stop(struct bench *b);

/* reset.c: RESET of a region of n one-page mappings, on its own device. */
struct reset_point {
	uint64_t mappings;
	uint64_t reset_ns;	/* the best RESET */
	uint64_t map_ns;	/* the best batched MAP of them all */
	char skip[96];		/* why not measured, or "" */
};

int reset_run(struct bench *b, int tries, struct reset_point *p);
/* vm.max_map_count minus this process's vmas (0 if unknown). */
long reset_room(void);

/* memslot.c: memslot per mapping on the same KVM VM, and first access. */
int memslot_setup(struct bench *b);
uint64_t memslot_capacity(const struct bench *b);
int memslot_grow(struct bench *b, uint64_t n);
int memslot_run(struct bench *b, int iters, uint64_t *ns);
/* One guest read of a freshly MAPped page, or of a plain memslot page. */
int first_access_map(struct bench *b, int iters, uint64_t *ns);
int first_access_plain(struct bench *b, int iters, uint64_t *ns);
int warm_access(struct bench *b, int iters, uint64_t *ns);

#endif /* BENCH_H */
