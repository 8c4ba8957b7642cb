/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-shmem state-machine fuzzer: programs, the model, the executor.
 *
 *   gen.c     program generator (deterministic from a seed)
 *   model.c   what the device and the owner's address space must look like
 *   exec.c    runs one program in a fresh process and checks every step
 *   nl.c      raw generic netlink dumps of the "vhost-shmem" family
 *   reduce.c  delta reduction and the C form of a program
 *   probe.c   what the running kernel does where kernels differ (at start)
 *   fuzz_test.c  the time-bounded driver printing TAP
 *
 * A program is a flat array of struct fz_op. "solo" programs run in one
 * process (fork children run to completion while the parent waits), so
 * the model predicts every result exactly. "chaos" programs run several
 * processes and threads at once (kill -9, netlink, unload attempts in
 * parallel); only what holds under any interleaving is checked there.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vhost_shmem.h>

#define FZ_MAX_FDS	6	/* device fd slots */
#define FZ_MAX_DEVS	6	/* device objects (opens) per program */
#define FZ_MAX_FILES	8	/* backend file slots */
#define FZ_MAX_OBJS	24	/* file objects: slots' files + /dev/zero maps */
#define FZ_MAX_REG	3	/* regions per device */
#define FZ_REG_MAXPG	24	/* largest region, pages */
#define FZ_GUARD	2	/* arena pages kept either side of a region */
#define FZ_SLOT_PG	(FZ_REG_MAXPG + 2 * FZ_GUARD)
#define FZ_FILE_MAXPG	48	/* largest backend file, pages */
#define FZ_HUGE_PG	512	/* a hugetlbfs file: one 2 MiB page */
#define FZ_MAX_MAPS	256	/* mapping records per program */
#define FZ_MAX_OPS	4096
#define FZ_MAX_PROCS	4	/* chaos: processes (0 = owner) */
#define FZ_MAX_THREADS	3	/* chaos: threads per process */
#define FZ_MAX_VIEWERS	2	/* solo: viewer processes (views.c) */

enum fz_kind {
	K_NOP,
	K_OPEN,		/* fd; var: 0 O_RDWR, 1 O_RDONLY */
	K_CLOSE,	/* fd */
	K_DUP,		/* fd -> slot a */
	K_SET_OWNER,	/* fd */
	K_SET_CONFIG,	/* fd; shmid base; a: 3 sizes (pages, 8 bits each); b: 3 flag
			 * bytes; var: defect (enum fz_cfg_defect) */
	K_GET_CONFIG,	/* fd */
	K_REGION_INFO,	/* fd; shmid (raw) */
	K_GET_STATS,	/* fd */
	K_MMAP,		/* fd, reg; var: enum fz_mmap_var */
	K_MUNMAP,	/* fd, reg; a: first page (from the region start, may be
			 * negative), b: pages; var 1: misaligned address */
	K_MPROTECT,	/* fd, reg, a, b; var: 0 none, 1 read, 2 read-write */
	K_MADVISE,	/* fd, reg, a, b; var: enum fz_madv */
	K_MREMAP,	/* fd, reg, a, b old pages, c new pages; var: enum fz_mremap */
	K_CLOBBER,	/* fd, reg, a, b: anonymous MAP_FIXED over it */
	K_READ,		/* fd, reg, a: page; compares the whole page */
	K_WRITE,	/* fd, reg, a: page; writes a new generation of the page */
	K_MAP,		/* fd, file, shmid; a fd_offset, b shm_offset, c len, d flags */
	K_UNMAP,	/* fd, shmid; b shm_offset, c len, d padding */
	K_RESET,	/* fd */
	K_BATCH,	/* fd; var: enum fz_batch_var; operations: the K_BOP_* after it */
	K_BOP_MAP,	/* as K_MAP, inside a batch */
	K_BOP_UNMAP,	/* as K_UNMAP, inside a batch */
	K_BOP_BAD,	/* unknown op code a, inside a batch */
	K_FILE_NEW,	/* file; var: enum fz_file_kind; a: pages */
	K_FILE_CLOSE,	/* file */
	K_PWRITE,	/* file; a: page */
	K_SEAL,		/* file; var 0: F_SEAL_WRITE, 1: F_SEAL_FUTURE_WRITE */
	K_FORK,		/* the ops up to K_FORK_END run in a child, then it exits */
	K_FORK_END,
	K_CHILD_READ,	/* in a child: fd, reg, a: page of the parent's region */
	K_NL_DUMP,	/* var: 0 devices, 1 regions, 2 mappings of fd's device */
	K_UNLOAD,	/* delete_module: must fail while a device exists */
	K_EXIT,		/* the process exits here, leaving cleanup to the kernel */
	K_KILL,		/* chaos: a = target process, SIGKILL */
	K_SLEEP,	/* chaos: a = microseconds */
	K_MSEAL,	/* fd, reg, a, b: mseal(2) the pages (6.10+; skipped without) */
	K_UFFD,		/* fd, reg, a, b; var 0: register with userfaultfd (MISSING),
			 * 1: close the userfaultfd (unregisters everything) */
	K_MAXMAP,	/* var 0: vm.max_map_count = the runner's vmas - 2 + a,
			 * 1: back to its value at the start */
	K_VIEW,		/* solo: fd, shmid; a: viewer; var 0: read-only view,
			 * 1: read-write. GET_VIEW, the fd to the viewer, which
			 * mmaps the whole region (it detaches an old view first) */
	K_VIEW_DROP,	/* a: viewer; var 0: munmap, 1: SIGKILL, 2: SIGKILL
			 * b microseconds into the next op (mid-MAP) */
	K_VIEW_TIGHT,	/* a: viewer; var 0: its vmas up to vm.max_map_count - b,
			 * 1: back to what it had */
	K_NKINDS
};

enum fz_cfg_defect {
	CFG_OK, CFG_UNALIGNED, CFG_BAD_FLAGS, CFG_FLAGS_NO_SIZE, CFG_PADDING,
	CFG_REG_PADDING, CFG_EMPTY, CFG_TOO_BIG, CFG_NDEFECTS
};

enum fz_mmap_var {
	MM_RW, MM_RO, MM_PRIVATE, MM_BIGGER, MM_SMALLER, MM_OFFSET, MM_UNUSED,
	MM_NVARS
};

enum fz_madv { MA_DONTNEED, MA_REMOVE, MA_DONTFORK, MA_DOFORK, MA_NVARS };

enum fz_mremap { MR_MOVE, MR_GROW, MR_SHRINK, MR_NVARS };

enum fz_batch_var {
	BV_OK, BV_ZERO, BV_TOO_MANY, BV_PADDING, BV_FAULT, BV_RESULT_RO, BV_NVARS
};

enum fz_file_kind {
	FK_NONE, FK_MEMFD, FK_SHM, FK_TMPFS, FK_EXT4, FK_ZERO, FK_PIPE,
	FK_DEVICE,	/* a device fd (fd slot a) as backend: ELOOP */
	FK_CLOSED,	/* a closed fd number */
	FK_OPATH, FK_RDONLY, FK_WRONLY,
	FK_HUGE,	/* a hugetlbfs file of one huge page (tmpfs without hugetlbfs) */
	FK_UDMABUF,	/* a udmabuf of a filled memfd (a memfd without /dev/udmabuf) */
	FK_ANON,	/* model only: the shmem object of one /dev/zero MAP */
	FK_NKINDS
};

struct fz_op {
	uint8_t kind;
	uint8_t proc;		/* solo: 1 inside a fork child; chaos: process */
	uint8_t thread;		/* chaos: thread of the process */
	uint8_t fd;		/* device fd slot */
	uint8_t file;		/* backend file slot */
	uint8_t reg;		/* region index in the device's configuration */
	uint16_t var;
	uint32_t shmid;
	int64_t a, b, c;
	uint64_t d;
};

enum fz_mode { FZ_SOLO, FZ_CHAOS };

struct fz_prog {
	uint64_t seed;
	int mode;
	int nprocs;		/* chaos */
	int nthreads;		/* chaos: per process */
	int nops;
	struct fz_op ops[FZ_MAX_OPS];
};

/*
 * Known module bugs a run takes as they are (--avoid-known=NAME,...): the
 * model then predicts what the module does instead of what the
 * documentation says. FZ_AVOID_OPEN lists the bugs still open in kmod/
 * (see regressions.h); a run avoids those unless told otherwise ("none").
 * None is open (the last, "view-rollback", was fixed by 6c18ad1): the
 * next one gets an AVOID_* bit here, a name in fuzz_test.c's
 * avoid_names[] and its reduced programs in regressions.h (under
 * FZ_KNOWN_BUGS).
 */
#define FZ_AVOID_OPEN	0u

/*
 * What the running kernel does where kernels differ, found by probe.c at
 * start (a scratch device in a child process), never by version number.
 */
struct fz_kbehav {
	bool dofork_mapped;	/* MADV_DOFORK works on an installed mapping
				 * (7.x: EINVAL on VM_DONTEXPAND vmas) */
	bool mremap_multi;	/* mremap(MREMAP_FIXED) moves a range of several
				 * vmas (6.17+), else EFAULT */
	bool mseal;		/* mseal(2) exists (6.10+) */
	bool mseal_pervma;	/* mprotect/mremap check seals vma by vma: the
				 * vmas before a sealed one are changed */
	bool uffd;		/* userfaultfd(2) works here */
	bool uffd_mapping;	/* it registers an installed mapping (6.12+: no,
				 * VM_DONTEXPAND) */
	bool hugetlb;		/* /dev/hugepages is hugetlbfs */
	bool udmabuf;		/* /dev/udmabuf makes dma-bufs (6.12+) */
	bool dofork_udmabuf;	/* MADV_DOFORK works on its mapping (not VM_IO) */
	bool remove_maywrite;	/* MADV_REMOVE checks VM_MAYWRITE, not VM_WRITE */
	long max_map_count;	/* vm.max_map_count at the start */
};

struct fz_opts {
	uint64_t seed;
	int duration;		/* seconds */
	int batch_secs;		/* seconds per TAP line */
	unsigned int avoid;	/* AVOID_* */
	int reload_every;	/* programs between module reloads (0: never) */
	int max_ops;		/* ops per program */
	bool verbose;
	const char *ko;		/* module to reload, or NULL */
	const char *ext4_dir;	/* mounted ext4 directory, or NULL */
	uint64_t only_prog;	/* replay one program seed (0: no) */
	int chaos_pct;		/* share of chaos programs */
	struct fz_kbehav kb;	/* the running kernel */
};

/* ---- gen.c ---- */
uint64_t fz_rand(uint64_t *s);
uint64_t fz_mix(uint64_t x);
void fz_generate(struct fz_prog *p, uint64_t seed, const struct fz_opts *o);

/* ---- exec.c ---- */

/* Calls whose outcomes a run counts, to show what the programs reach. */
enum { OUTC_MAP, OUTC_UNMAP, OUTC_RESET, OUTC_VMAP, OUTC_GET_VIEW, OUTC_VIEW_MMAP,
       FZ_NOUTC };

/* What the view ops did (solo), counted as outcomes are (fz_result.vev). */
enum {
	VEV_ATTACHED,		/* a viewer mmapped its view and is attached */
	VEV_DROPPED,		/* ... and was dropped (predicted, or at its limit) */
	VEV_MUNMAP,		/* K_VIEW_DROP: munmap of the view */
	VEV_KILL,		/* K_VIEW_DROP: SIGKILL at once */
	VEV_KILL_MID,		/* K_VIEW_DROP: SIGKILL during the next op */
	VEV_TIGHT,		/* K_VIEW_TIGHT: a viewer put near its limit */
	VEV_SNAP,		/* a view copied and compared with the model */
	VEV_GAP_DETACHED,	/* a gap after a failed rollback, viewer detached */
	VEV_SKIPPED,		/* ops not run while a view holds the device */
	FZ_NVEV
};

/* What a program's run found. Lives in shared memory across its processes. */
struct fz_result {
	int failed;		/* first failure wins */
	int op;			/* index of the failing op, -1 if none */
	char what[16];		/* failure class: model, errno, content, ... */
	char msg[1024];
	uint64_t ops;		/* ops executed, all processes */
	uint64_t ksig;		/* the runner died of this signal */
	uint32_t outc[FZ_NOUTC][128];	/* solo: checked outcomes by errno (127: other) */
	uint32_t vev[FZ_NVEV];	/* solo: VEV_* */
	int pid;		/* the runner (a process group) */
	int maxmap;		/* vm.max_map_count was lowered (K_MAXMAP) */
	int cur;		/* solo: the op being run */
};

/*
 * Runs @p in a new process and waits (at most @timeout_s). Returns 0 when
 * the program passed, 1 when it failed (@r says why), 2 on a hang (the
 * runner is left behind, unkillable or killed).
 */
int fz_run(const struct fz_prog *p, const struct fz_opts *o, int timeout_s,
	   struct fz_result *r);
const char *fz_kind_name(int kind);

/* ---- views.c: viewer processes (solo programs) ---- */

/* One viewer process, forked by the runner before it maps anything. */
struct fz_vproc {
	pid_t pid;		/* 0: none (never started, or dead and reaped) */
	int sock;		/* commands and the view fd (SCM_RIGHTS) */
};

/*
 * What a viewer saw, in memory shared with the runner: each page of its
 * view copied, and the copy's outcome (0 or FZ_SIG(signal)).
 */
struct fz_vsnap {
	uint64_t addr;		/* where the view is in the viewer */
	int npages;
	int outcome[FZ_REG_MAXPG];
	uint8_t page[FZ_REG_MAXPG][4096];
};

enum { VC_ATTACH = 1, VC_DETACH, VC_SNAP, VC_TIGHT, VC_LOOSE, VC_DIE };

struct fz_vcmd {
	int op;
	int prot;		/* VC_ATTACH */
	long n;			/* VC_ATTACH: pages; VC_TIGHT: vma total; VC_DIE: us */
};

/* Forks FZ_MAX_VIEWERS idle viewers; @snap[i] is viewer i's. 0 or -errno. */
int fz_views_start(struct fz_vproc *vp, struct fz_vsnap *snap);
/* One command (@fd passed along if >= 0): the viewer's answer or -errno. */
long fz_view_cmd(struct fz_vproc *v, int op, int prot, long n, int fd);
/* SIGKILLs and reaps viewer @v. */
void fz_view_kill(struct fz_vproc *v);
/* Waits for viewer @v, told to die, to be gone. */
void fz_view_reap(struct fz_vproc *v);
void fz_views_stop(struct fz_vproc *vp);

/* ---- nl.c ---- */
struct fz_nl_dev {
	uint32_t id;
	uint32_t owner_pid;
	uint64_t mappings, maps, unmaps, failures;
};
struct fz_nl_map {
	uint32_t dev_id, shmid;
	uint64_t shm_offset, len, fd_offset, flags;
};
/* Dumps devices (at most @max). Count or -errno. */
int fz_nl_devs(struct fz_nl_dev *out, int max);
/* Dumps the regions (cmd REGION_GET) or mappings of device @id (0: all). */
int fz_nl_maps(uint32_t id, struct fz_nl_map *out, int max);
int fz_nl_regions(uint32_t id);
/* Is @pid a viewer of region @shmid of device @id? 1, 0 or -errno. */
int fz_nl_viewer(uint32_t id, uint32_t shmid, uint32_t pid);

/* ---- probe.c ---- */
/* Fills @kb from a scratch device (the module must be loaded). */
void fz_probe(struct fz_kbehav *kb);
/* A one-line summary of @kb for the log. */
void fz_kbehav_str(const struct fz_kbehav *kb, char *buf, size_t len);

/* ---- reduce.c ---- */
/*
 * Drops ops one at a time (in chunks first) while the program still fails
 * in the same class. Returns the number of runs it took.
 */
int fz_reduce(struct fz_prog *p, const struct fz_opts *o, const char *what,
	      int budget_s);
/* Prints @p as a C initializer a regression test can run (fz_run). */
void fz_print_prog(const struct fz_prog *p, const char *prefix);

#endif /* FUZZ_H */
