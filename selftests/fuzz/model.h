/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's model of one program's world: devices, their regions as
 * pages of the owner's address space, backend files and their content,
 * fd slots. It predicts each step from the documented semantics
 * (Documentation/userspace-api/vhost-shmem.rst, mmap(2), madvise(2)) and
 * is then told what really happened. Where the documentation or the
 * kernel version leaves a choice, the prediction is a set of outcomes.
 */
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "fuzz.h"

/* Outcomes: 0, an errno (< 100), or FZ_SIG(signal) for a memory access. */
#define FZ_SIG(s)	(100 + (s))

struct fz_exp {
	uint64_t m[3];
};

static inline void exp_clear(struct fz_exp *e)
{
	e->m[0] = e->m[1] = e->m[2] = 0;
}

static inline void exp_add(struct fz_exp *e, int v)
{
	if (v >= 0 && v < 192)
		e->m[v / 64] |= 1ULL << (v % 64);
}

static inline void exp_only(struct fz_exp *e, int v)
{
	exp_clear(e);
	exp_add(e, v);
}

static inline bool exp_has(const struct fz_exp *e, int v)
{
	return v >= 0 && v < 192 && (e->m[v / 64] >> (v % 64) & 1);
}

/* What is at one page of a region slot in the owner's address space. */
enum { PG_FOREIGN, PG_GAP, PG_HOLE, PG_MAPPED };
enum { OWN_NONE, OWN_RUNNER, OWN_CHILD, OWN_DEAD };

/* Page flags: what the owner did to the vma there that the device must respect. */
#define PGF_SEALED	1	/* mseal(2) */
#define PGF_UFFD	2	/* registered with userfaultfd */

struct m_page {
	uint8_t st;
	uint8_t prot;		/* PROT_* */
	uint8_t dofork;		/* copied by fork() */
	int16_t map;		/* PG_MAPPED: the mapping record */
	uint8_t flags;		/* PGF_*; a new vma (a literal) has none */
};

struct m_reg {
	uint32_t shmid;
	uint64_t size;		/* 0: unused */
	uint32_t flags;
	bool mmapped;		/* the owner mmapped it (once, ever) */
	bool detached;		/* the owner munmapped, moved or mapped over it */
	uint64_t addr;
	int prot;
	struct m_page pg[FZ_SLOT_PG];	/* the region starts at FZ_GUARD */
};

struct m_dev {
	bool used, alive;
	bool rdonly;		/* opened O_RDONLY */
	int owner;		/* OWN_* */
	bool configured;
	struct m_reg reg[FZ_MAX_REG];
	uint64_t mappings, bytes, maps, unmaps, failures;
	uint32_t nl_id;
};

struct m_obj {
	bool used;
	int kind;		/* FK_* */
	uint32_t fid;		/* in every page's header */
	uint32_t npages;
	bool unknown;		/* content not predictable */
	unsigned int seals;
	uint32_t gen[FZ_FILE_MAXPG];	/* 0: zeros */
};

struct m_map {
	bool used, live;
	int dev, reg, obj;
	uint64_t off, len, fd_off;
	bool rw;
	bool copied;		/* a live fork child maps a copy of it */
};

/* What a child sees at a parent's region page (snapshot at fork). */
struct m_cview {
	uint8_t vis;		/* 0 SIGSEGV, 1 zeros, 2 mapping page */
	int16_t map;
	uint8_t page;
};

/*
 * A viewer process's view (views.c, K_VIEW): attached, what each page of
 * it shows (the mapping record, -1 a hole), dropped or gone.
 */
enum { VW_NONE, VW_LIVE, VW_ZEROS, VW_GONE };

struct m_view {
	int st;			/* VW_*; VW_ZEROS: not a viewer any more, its
				 * placeholder reads as holes */
	int dev, reg;
	bool rw;
	int tight;		/* its vmas are near vm.max_map_count */
	bool dying;		/* VW_GONE: SIGKILLed during the current op */
	bool gaps;		/* an UNMAP ran while vm.max_map_count was low:
				 * holes may be gaps (SIGSEGV), as documented */
	bool rb_gaps;		/* a MAP's ENOMEM while the limit was low, or a
				 * failed attach: a failed rollback may have
				 * left gaps: the viewer must then have
				 * been detached (netlink) */
	int16_t map[FZ_REG_MAXPG];
};

struct model {
	struct m_dev dev[FZ_MAX_DEVS];
	int ndevs;
	struct m_obj obj[FZ_MAX_OBJS];
	int nobjs;
	int file_obj[FZ_MAX_FILES];	/* slot -> obj, -1 */
	int file_kind[FZ_MAX_FILES];
	int file_devfd[FZ_MAX_FILES];	/* FK_DEVICE: the fd slot */
	struct m_map map[FZ_MAX_MAPS];
	int nmaps;
	int fd_dev[2][FZ_MAX_FDS];	/* [in_child] slot -> device, -1 */
	bool in_child;
	bool chaos;		/* only the invariants are checked */
	struct m_cview cview[FZ_MAX_DEVS][FZ_MAX_REG][FZ_SLOT_PG];
	uint64_t max_mappings, max_region_size;
	uint32_t tag;		/* program tag, in every fid */
	uint32_t gen_ctr;
	bool ext4_punch;	/* MADV_REMOVE works on the "ext4" files */
	struct fz_kbehav kb;	/* what this kernel does (probe.c) */
	bool sealed;		/* some page was mseal()ed: the arena stays */
	bool maxmap_low;	/* vm.max_map_count lowered (K_MAXMAP) */
	unsigned int avoid;	/* AVOID_*: known bugs taken as they are */
	struct m_view view[FZ_MAX_VIEWERS];
	int views_reset;	/* 1 + the device a RESET (also a fork
				 * child's) emptied the views of, or 0 */
	int views_nmaps;	/* mapping records the views have seen */
	char why[512];		/* the last mismatch explained */
};

struct vhost_shmem_config;

void mdl_init(struct model *m, uint32_t tag);
int mdl_dev(const struct model *m, int fdslot);
int *mdl_fdtab(struct model *m);
struct m_reg *mdl_reg_by_shmid(struct m_dev *d, uint32_t shmid, int *idx);
bool mdl_owner_is_me(const struct model *m, const struct m_dev *d);

/* Page content: a header naming (fid, page, gen) and a body derived from it. */
void fz_page_fill(uint8_t *buf, uint32_t fid, uint32_t page, uint32_t gen);
/* 0 if equal; else describes the difference in @why. */
int fz_page_cmp(const uint8_t *buf, uint32_t fid, uint32_t page, uint32_t gen,
		char *why, size_t len);
/* Zeros, or some consistent page of some file (chaos: no torn pages). */
bool fz_page_valid(const uint8_t *buf, char *why, size_t len);

/* Device and fd slots. */
void mdl_open(struct model *m, int fdslot, bool rdonly, int outcome);
void mdl_close(struct model *m, int fdslot);
void mdl_dup(struct model *m, int from, int to);
void mdl_set_owner(struct model *m, int fdslot, struct fz_exp *e);
void mdl_set_owner_done(struct model *m, int fdslot, int outcome);
int mdl_check_config(const struct model *m, const struct vhost_shmem_config *c);
void mdl_set_config(struct model *m, int fdslot, const struct vhost_shmem_config *c,
		    struct fz_exp *e);
void mdl_set_config_done(struct model *m, int fdslot, uint32_t base,
			 const struct vhost_shmem_config *c, int outcome);

/* MAP/UNMAP/RESET: predicted exactly; _done applies the real outcome. */
struct fz_map_args {
	uint32_t shmid;
	int file;		/* slot */
	uint64_t fd_off, shm_off, len, flags, padding;
};
void mdl_map(struct model *m, int dev, const struct fz_map_args *a, struct fz_exp *e);
void mdl_map_done(struct model *m, int dev, const struct fz_map_args *a, int outcome);
void mdl_unmap(struct model *m, int dev, const struct fz_map_args *a, struct fz_exp *e);
void mdl_unmap_done(struct model *m, int dev, const struct fz_map_args *a, int outcome);
void mdl_reset(struct model *m, int dev, struct fz_exp *e);
void mdl_reset_done(struct model *m, int dev, int outcome);

/* The owner's address space. */
void mdl_mmap(struct model *m, int dev, uint32_t shmid, uint64_t len, int var,
	      struct fz_exp *e);
void mdl_mmap_done(struct model *m, int dev, uint32_t shmid, int var, uint64_t addr,
		   int outcome);
void mdl_munmap(struct model *m, int dev, int reg, int first, int n);
void mdl_mprotect(struct model *m, int dev, int reg, int first, int n, int prot,
		  struct fz_exp *e);
void mdl_madvise(struct model *m, int dev, int reg, int first, int n, int adv,
		 struct fz_exp *e);
void mdl_mremap(struct model *m, int dev, int reg, int first, int n, int var,
		struct fz_exp *e);
/* @gone: the pages of [first, first + n) no vma maps any more (bit i: page first + i). */
void mdl_mremap_done(struct model *m, int dev, int reg, int first, int n, int var,
		     uint64_t gone, int outcome);
void mdl_clobber(struct model *m, int dev, int reg, int first, int n);
/* Does a page of [first, first + n) have flag @f (PGF_*)? */
bool mdl_any_flag(const struct model *m, int dev, int reg, int first, int n, int f);
/* mseal(2) and userfaultfd registration of [first, first + n). */
void mdl_mseal(const struct model *m, int dev, int reg, int first, int n, struct fz_exp *e);
void mdl_uffd(const struct model *m, int dev, int reg, int first, int n, struct fz_exp *e);
void mdl_flag_done(struct model *m, int dev, int reg, int first, int n, int f);
void mdl_uffd_closed(struct model *m);

/*
 * The expected outcome of reading page @p of a slot: 0 with the content
 * (*fid == 0: zeros; *unknown: any), FZ_SIG(SIGBUS/SIGSEGV), or -1 when
 * the model cannot tell (the read is made, not checked).
 */
int mdl_read(const struct model *m, int dev, int reg, int p, uint32_t *fid,
	     uint32_t *page, uint32_t *gen, bool *unknown);
/* Expected outcome of writing the page (-1: skip); on 0, @obj and @page get the target. */
int mdl_write(const struct model *m, int dev, int reg, int p, int *obj, int *page);
int mdl_child_read(const struct model *m, int dev, int reg, int p, uint32_t *fid,
		   uint32_t *page, uint32_t *gen, bool *unknown);

/* Files. */
int mdl_file_new(struct model *m, int slot, int kind, int npages);
void mdl_file_close(struct model *m, int slot);
int mdl_pwrite(const struct model *m, int slot, int page);	/* -1: skip */
void mdl_seal(const struct model *m, int slot, int which, struct fz_exp *e);
void mdl_seal_done(struct model *m, int slot, int which, int outcome);

/* fork, and what a child leaves behind when it exits. */
void mdl_fork(struct model *m);
void mdl_child_exit(struct model *m);
/* Devices a dead owner left with a live table (drained asynchronously). */
void mdl_drained(struct model *m, int dev);

void fz_clamp(int *first, int *n);

/* Views (views.c). */
/* GET_VIEW's errno for @shmid of @dev (read-write: @rw), or 0. */
int mdl_get_view(const struct model *m, int dev, uint32_t shmid, bool rw);
/* Viewer @v attached to (dev, reg): populated from the table; or dropped. */
void mdl_view_attach(struct model *m, int v, int dev, int reg, bool rw);
/* Would population of a new viewer fail (kept as holes: VW_ZEROS)? */
bool mdl_view_drops(const struct model *m, int dev, int reg, bool rw);
/*
 * F_SEAL_WRITE of file slot @slot with viewers: a read-write viewer's
 * writable mapping of it refuses the seal (EBUSY), whatever the owner
 * still maps (it may have unmapped or mapped over its own).
 */
void mdl_view_seal(const struct model *m, int slot, int which, struct fz_exp *e);
/* What MAP @a returns with the device's viewers, from @e without them. */
void mdl_view_map(const struct model *m, int dev, const struct fz_map_args *a,
		  struct fz_exp *e);
/* After a MAP of @dev with @outcome. */
void mdl_view_map_done(struct model *m, int dev, int outcome);
/* UNMAP @a with the device's viewers while vm.max_map_count is low. */
void mdl_view_unmap(struct model *m, int dev, const struct fz_map_args *a,
		    struct fz_exp *e);
/*
 * After each op (also a fork child's): viewers follow the table (records
 * made since the last sync appear if still live, records no longer live
 * go), a RESET (m->views_reset) empties every view of its device, a dead
 * owner drops them.
 */
void mdl_view_sync(struct model *m);
/* What viewer @v reads at page @p of its view, as mdl_read(). */
int mdl_view_read(const struct model *m, int v, int p, uint32_t *fid,
		  uint32_t *page, uint32_t *gen, bool *unknown);

/* Live devices of the program. */
int mdl_alive(const struct model *m);

#endif /* FUZZ_MODEL_H */
