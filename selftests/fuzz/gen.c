// SPDX-License-Identifier: GPL-2.0
/*
 * Program generator: a program is a pure function of its seed. The
 * generator keeps a rough shadow of what it set up (region sizes per fd
 * slot, file sizes, earlier MAPs) so most arguments are valid or "near
 * valid" (off by a page, overlapping, unaligned, overflowing), which is
 * where the checks of the module are.
 */
#include <string.h>

#include "fuzz.h"
#include "vhost_shmem_lib.h"

uint64_t fz_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t fz_rand(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ULL;
	return fz_mix(*s);
}

struct gshadow {
	uint32_t base[FZ_MAX_FDS];		/* first shmid configured via the slot */
	int size[FZ_MAX_FDS][FZ_MAX_REG];	/* pages, 0: none */
	int fpages[FZ_MAX_FILES];
	int fkind[FZ_MAX_FILES];
	struct { int fd; uint32_t shmid; uint64_t off, len; } maps[64];
	int nmaps;
};

struct gen {
	uint64_t s;
	struct fz_prog *p;
	struct gshadow g;
	const struct fz_opts *o;
	int proc, thread;
};

static uint64_t rnd(struct gen *g, uint64_t n)
{
	return n ? fz_rand(&g->s) % n : 0;
}

static bool chance(struct gen *g, int pct)
{
	return (int)rnd(g, 100) < pct;
}

static struct fz_op *emit(struct gen *g, int kind)
{
	struct fz_op *op;

	if (g->p->nops >= FZ_MAX_OPS - 1)
		return NULL;
	op = &g->p->ops[g->p->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->proc = g->proc;
	op->thread = g->thread;
	return op;
}

static int pick_weighted(struct gen *g, const int *w, int n)
{
	int i, sum = 0, r;

	for (i = 0; i < n; i++)
		sum += w[i];
	r = rnd(g, sum);
	for (i = 0; i < n; i++) {
		if (r < w[i])
			return i;
		r -= w[i];
	}
	return 0;
}

static int file_kind(struct gen *g)
{
	static const int w[FK_ANON] = {
		[FK_MEMFD] = 36, [FK_SHM] = 10, [FK_TMPFS] = 10, [FK_EXT4] = 10,
		[FK_ZERO] = 4, [FK_PIPE] = 3, [FK_DEVICE] = 3, [FK_CLOSED] = 3,
		[FK_OPATH] = 3, [FK_RDONLY] = 8, [FK_WRONLY] = 3, [FK_HUGE] = 4,
		[FK_UDMABUF] = 6,
	};

	return pick_weighted(g, w, FK_ANON);
}

static void gen_file_new(struct gen *g, int slot)
{
	struct fz_op *op = emit(g, K_FILE_NEW);
	int kind = file_kind(g);

	if (!op)
		return;
	op->file = slot;
	op->var = kind;
	op->a = kind == FK_DEVICE ? (int64_t)rnd(g, 2) : (int64_t)(4 + rnd(g, FZ_FILE_MAXPG - 3));
	g->g.fkind[slot] = kind;
	g->g.fpages[slot] = kind == FK_DEVICE ? 0 : kind == FK_HUGE ? FZ_HUGE_PG : (int)op->a;
}

/* A region size table for SET_CONFIG; remembered for @fd when valid. */
static void gen_config(struct gen *g, int fd)
{
	static const uint32_t bases[] = { 0, 1, 2, 7, 100, 253, 254, 255 };
	struct fz_op *op = emit(g, K_SET_CONFIG);
	int i, nreg = 1 + rnd(g, FZ_MAX_REG);

	if (!op)
		return;
	op->fd = fd;
	op->shmid = bases[rnd(g, sizeof(bases) / sizeof(bases[0]))];
	for (i = 0; i < nreg; i++) {
		uint64_t pages = 1 + rnd(g, FZ_REG_MAXPG);

		op->a |= pages << (8 * i);
		if (chance(g, 20))
			op->b |= (uint64_t)VHOST_SHMEM_REGION_F_FAULT_HOLES << (8 * i);
	}
	op->var = chance(g, 80) ? CFG_OK : 1 + rnd(g, CFG_NDEFECTS - 1);
	if (op->var == CFG_OK && !g->g.size[fd][0]) {
		g->g.base[fd] = op->shmid;
		for (i = 0; i < FZ_MAX_REG; i++)
			g->g.size[fd][i] = op->a >> (8 * i) & 0xff;
	}
}

/* The shmid of region @reg as the generator believes it, or a wrong one. */
static uint32_t gen_shmid(struct gen *g, int fd, int reg)
{
	static const uint32_t bad[] = { 256, 300, 0xffffffffu, 3, 128 };

	if (chance(g, 90))
		return (g->g.base[fd] + reg) % VHOST_SHMEM_MAX_REGIONS;
	return bad[rnd(g, sizeof(bad) / sizeof(bad[0]))];
}

static int region_pages(struct gen *g, int fd, int reg)
{
	int s = g->g.size[fd][reg];

	return s ? s : 8;
}

static int pick_reg(struct gen *g, int fd)
{
	int r, n = 0;

	for (r = 0; r < FZ_MAX_REG; r++)
		n += !!g->g.size[fd][r];
	return n ? (int)rnd(g, n) : 0;
}

/* An offset/length pair in a space of @n pages, sometimes slightly wrong. */
static void near_range(struct gen *g, int n, uint64_t *off, uint64_t *len)
{
	uint64_t o = rnd(g, n), l = 1 + rnd(g, n - o > 8 ? 8 : n - o);

	if (chance(g, 30))
		l = 1;
	*off = o * PG;
	*len = l * PG;
	if (!chance(g, 12))
		return;
	switch (rnd(g, 9)) {
	case 0: *len += PG; break;			/* one page past the end */
	case 1: *off = (uint64_t)n * PG; break;		/* starts at the end */
	case 2: *off += 1 + rnd(g, PG - 1); break;	/* unaligned */
	case 3: *len -= 1; break;
	case 4: *len = 0; break;
	case 5: *len = 1ULL << 63; break;		/* overflows */
	case 6: *off = ~0ULL - PG + 1; break;
	case 7: *len = (uint64_t)(n + 1) * PG; *off = 0; break;
	case 8: *len = ~0ULL & ~(uint64_t)(PG - 1); break;
	}
}

/* A backend file slot: mostly one that holds a file. */
static int pick_file(struct gen *g)
{
	int slot, tries;

	for (tries = 0; tries < 8 && chance(g, 85); tries++) {
		slot = rnd(g, FZ_MAX_FILES);
		if (g->g.fkind[slot] != FK_NONE)
			return slot;
	}
	return rnd(g, FZ_MAX_FILES);
}

static void gen_map_args(struct gen *g, struct fz_op *op, int fd)
{
	int reg = pick_reg(g, fd), file = pick_file(g), fp;
	uint64_t foff, flen;

	op->fd = fd;
	op->reg = reg;
	op->shmid = gen_shmid(g, fd, reg);
	op->file = file;
	near_range(g, region_pages(g, fd, reg), (uint64_t *)&op->b, (uint64_t *)&op->c);
	fp = g->g.fpages[file] ? g->g.fpages[file] : 16;
	foff = rnd(g, fp) * PG;
	if (foff + op->c > (uint64_t)fp * PG && op->c <= (uint64_t)fp * PG)
		foff = (uint64_t)fp * PG - op->c;
	if (chance(g, 8)) {
		near_range(g, fp, &foff, &flen);
		if (chance(g, 30))
			foff = (uint64_t)fp * PG - op->c + PG;	/* past EOF by a page */
	}
	if (g->g.fkind[file] == FK_ZERO && chance(g, 80))
		foff = 0;
	op->a = foff;
	op->d = chance(g, 60) ? VHOST_SHMEM_MAP_F_RW : 0;
	if (chance(g, 3))
		op->d = chance(g, 50) ? 2 : 1ULL << 63;
}

static void remember_map(struct gen *g, const struct fz_op *op)
{
	int i = g->g.nmaps < 64 ? g->g.nmaps++ : (int)rnd(g, 64);

	g->g.maps[i].fd = op->fd;
	g->g.maps[i].shmid = op->shmid;
	g->g.maps[i].off = op->b;
	g->g.maps[i].len = op->c;
}

static void gen_unmap_args(struct gen *g, struct fz_op *op, int fd)
{
	if (g->g.nmaps && chance(g, 75)) {
		int i = rnd(g, g->g.nmaps);

		op->fd = g->g.maps[i].fd;
		op->shmid = g->g.maps[i].shmid;
		op->b = g->g.maps[i].off;
		op->c = g->g.maps[i].len;
		if (chance(g, 10)) {
			switch (rnd(g, 4)) {
			case 0: op->c += PG; break;
			case 1: op->b += PG; break;
			case 2: op->c -= PG; break;
			case 3: op->d = 1; break;	/* padding */
			}
		}
		return;
	}
	op->fd = fd;
	op->reg = pick_reg(g, fd);
	op->shmid = gen_shmid(g, fd, op->reg);
	near_range(g, region_pages(g, fd, op->reg), (uint64_t *)&op->b, (uint64_t *)&op->c);
}

static void gen_batch(struct gen *g, int fd)
{
	struct fz_op *op = emit(g, K_BATCH);
	int i, n = 1 + rnd(g, 8);

	if (!op)
		return;
	op->fd = fd;
	op->var = chance(g, 85) ? BV_OK : 1 + rnd(g, BV_NVARS - 1);
	for (i = 0; i < n; i++) {
		int r = rnd(g, 10);
		struct fz_op *bo = emit(g, r < 5 ? K_BOP_MAP : r < 9 ? K_BOP_UNMAP : K_BOP_BAD);

		if (!bo)
			return;
		if (bo->kind == K_BOP_MAP) {
			gen_map_args(g, bo, fd);
			remember_map(g, bo);
		} else if (bo->kind == K_BOP_UNMAP) {
			gen_unmap_args(g, bo, fd);
		} else {
			static const uint32_t codes[] = { 0, 3, 0xffffffffu, 0x100 };

			bo->a = codes[rnd(g, 4)];
		}
	}
}

/* munmap/mprotect/madvise/mremap/clobber/read/write: a page range of a slot. */
static void gen_vm(struct gen *g, int kind, int fd)
{
	struct fz_op *op = emit(g, kind);
	int reg, n;

	if (!op)
		return;
	op->fd = fd;
	op->reg = reg = pick_reg(g, fd);
	n = region_pages(g, fd, reg);
	op->a = (int64_t)rnd(g, n + 2) - 1;
	if (chance(g, 5))
		op->a = chance(g, 50) ? -FZ_GUARD : n + FZ_GUARD - 1;
	op->b = 1 + rnd(g, chance(g, 70) ? 2 : 6);
	switch (kind) {
	case K_MUNMAP:
		op->var = chance(g, 8);
		break;
	case K_MPROTECT:
		op->var = rnd(g, 10) < 7 ? 2 : rnd(g, 2);
		break;
	case K_MADVISE:
		op->var = rnd(g, MA_NVARS);
		break;
	case K_MREMAP:
		op->var = rnd(g, MR_NVARS);
		op->c = rnd(g, 4);
		break;
	case K_UFFD:
		op->var = chance(g, 80) ? 0 : 1;
		break;
	}
}

/* vm.max_map_count lowered around a few MAPs and UNMAPs, then back. */
static void gen_maxmap(struct gen *g, int fd)
{
	struct fz_op *op = emit(g, K_MAXMAP);
	int i, n = 3 + rnd(g, 8);

	if (!op)
		return;
	op->a = rnd(g, 8);
	for (i = 0; i < n; i++) {
		switch (rnd(g, 5)) {
		case 0: case 1:
			op = emit(g, K_MAP);
			if (op) {
				gen_map_args(g, op, fd);
				remember_map(g, op);
			}
			break;
		case 2:
			op = emit(g, K_UNMAP);
			if (op)
				gen_unmap_args(g, op, fd);
			break;
		case 3:
			gen_batch(g, fd);
			break;
		case 4:
			gen_vm(g, K_READ, fd);
			break;
		}
	}
	if (chance(g, 90) && (op = emit(g, K_MAXMAP)))
		op->var = 1;
}

/*
 * Views: a viewer attaches (read-only or read-write), detaches, is killed
 * (now, or during the MAP that follows), or gets near vm.max_map_count
 * around a few MAPs and UNMAPs.
 */
static void gen_view_op(struct gen *g, int fd)
{
	struct fz_op *op;
	int i, n, v = rnd(g, FZ_MAX_VIEWERS);

	switch (rnd(g, 8)) {
	case 0: case 1: case 2:
		op = emit(g, K_VIEW);
		if (op) {
			op->fd = fd;
			op->a = v;
			op->shmid = chance(g, 5) ? 256 + rnd(g, 10) :
				    gen_shmid(g, fd, pick_reg(g, fd));
			op->var = rnd(g, 2);
		}
		break;
	case 3:
		op = emit(g, K_VIEW_DROP);
		if (op) {
			op->a = v;
			op->var = rnd(g, 2);
		}
		break;
	case 4: case 5:
		op = emit(g, K_VIEW_DROP);
		if (op) {
			op->a = v;
			op->var = 2;
			op->b = rnd(g, 2000);
		}
		op = emit(g, K_MAP);
		if (op) {
			gen_map_args(g, op, fd);
			remember_map(g, op);
		}
		break;
	default:
		op = emit(g, K_VIEW_TIGHT);
		if (!op)
			break;
		op->a = v;
		op->b = rnd(g, 4);
		n = 2 + rnd(g, 5);
		for (i = 0; i < n; i++) {
			op = emit(g, chance(g, 65) ? K_MAP : K_UNMAP);
			if (op && op->kind == K_MAP) {
				gen_map_args(g, op, fd);
				remember_map(g, op);
			} else if (op) {
				gen_unmap_args(g, op, fd);
			}
		}
		if (chance(g, 80) && (op = emit(g, K_VIEW_TIGHT))) {
			op->a = v;
			op->var = 1;
		}
		break;
	}
}

/* A fork child: a few ops of another process holding the device fds. */
static void gen_fork(struct gen *g)
{
	static const int w[] = { 20, 12, 3, 6, 6, 4, 10, 2, 2, 3, 2 };
	int i, n = 2 + rnd(g, 10);
	struct fz_op *op;

	if (!emit(g, K_FORK))
		return;
	g->proc = 1;
	for (i = 0; i < n; i++) {
		int fd = rnd(g, 10) < 8 ? 0 : rnd(g, FZ_MAX_FDS);

		switch (pick_weighted(g, w, sizeof(w) / sizeof(w[0]))) {
		case 0:
			op = emit(g, K_MAP);
			if (op)
				gen_map_args(g, op, fd);
			break;
		case 1:
			op = emit(g, K_UNMAP);
			if (op)
				gen_unmap_args(g, op, fd);
			break;
		case 2:
			op = emit(g, K_RESET);
			if (op)
				op->fd = fd;
			break;
		case 3:
			gen_batch(g, fd);
			break;
		case 4:
			op = emit(g, K_GET_STATS);
			if (op)
				op->fd = fd;
			break;
		case 5:
			op = emit(g, K_REGION_INFO);
			if (op) {
				op->fd = fd;
				op->shmid = gen_shmid(g, fd, pick_reg(g, fd));
			}
			break;
		case 6:
			op = emit(g, K_CHILD_READ);
			if (op) {
				op->fd = fd;
				op->reg = pick_reg(g, fd);
				op->a = rnd(g, region_pages(g, fd, op->reg));
			}
			break;
		case 7:
			op = emit(g, K_SET_OWNER);
			if (op)
				op->fd = fd;
			break;
		case 8:
			op = emit(g, K_CLOSE);
			if (op)
				op->fd = fd;
			break;
		case 9:
			/* A device of the child's own: owned by an mm that dies. */
			op = emit(g, K_OPEN);
			if (op)
				op->fd = 3 + rnd(g, 3);
			op = emit(g, K_SET_OWNER);
			if (op)
				op->fd = g->p->ops[g->p->nops - 2].fd;
			if (chance(g, 50))
				gen_config(g, g->p->ops[g->p->nops - 1].fd);
			break;
		case 10:
			op = emit(g, K_DUP);
			if (op) {
				op->fd = fd;
				op->a = rnd(g, FZ_MAX_FDS);
			}
			break;
		}
	}
	g->proc = 0;
	emit(g, K_FORK_END);
}

/* Open, own, configure and mmap a device in @fd (every step may be dropped). */
static void gen_device(struct gen *g, int fd)
{
	struct fz_op *op;
	int r;

	memset(g->g.size[fd], 0, sizeof(g->g.size[fd]));
	op = emit(g, K_OPEN);
	if (!op)
		return;
	op->fd = fd;
	op->var = chance(g, 5);
	if (chance(g, 92)) {
		op = emit(g, K_SET_OWNER);
		if (op)
			op->fd = fd;
	}
	gen_config(g, fd);
	/* A refused configuration, mostly followed by a good one. */
	op = &g->p->ops[g->p->nops - 1];
	if (op->kind == K_SET_CONFIG && op->var != CFG_OK && chance(g, 85)) {
		gen_config(g, fd);
		op = &g->p->ops[g->p->nops - 1];
		if (op->kind == K_SET_CONFIG && op->var != CFG_OK) {
			op->var = CFG_OK;
			g->g.base[fd] = op->shmid;
			for (r = 0; r < FZ_MAX_REG; r++)
				g->g.size[fd][r] = op->a >> (8 * r) & 0xff;
		}
	}
	for (r = 0; r < FZ_MAX_REG; r++) {
		if (!g->g.size[fd][r] || !chance(g, 92))
			continue;
		op = emit(g, K_MMAP);
		if (!op)
			return;
		op->fd = fd;
		op->reg = r;
		op->shmid = (g->g.base[fd] + r) % VHOST_SHMEM_MAX_REGIONS;
		op->a = (uint64_t)g->g.size[fd][r] * PG;
		op->var = chance(g, 90) ? MM_RW : rnd(g, MM_NVARS);
		if (op->var == MM_UNUSED)
			op->shmid = (op->shmid + 5) % 300;
	}
}

static void gen_solo(struct gen *g, int nops)
{
	static const int w[] = {
		/* MAP UNMAP READ WRITE STATS RINFO GCFG BATCH RESET MUNMAP */
		14, 10, 14, 5, 5, 3, 2, 6, 2, 2,
		/* MPROT MADV MREMAP CLOB PWRITE SEAL FORK OPEN CLOSE DUP */
		3, 4, 2, 1, 3, 2, 2, 1, 1, 1,
		/* OWNER CONFIG MMAP NL UNLOAD FNEW FCLOSE DEVICE MSEAL UFFD MAXMAP */
		1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1,
		/* VIEW */
		3,
	};
	int i, nfiles = 3 + rnd(g, FZ_MAX_FILES - 2);
	struct fz_op *op;

	for (i = 0; i < nfiles; i++)
		gen_file_new(g, i);
	gen_device(g, 0);
	if (chance(g, 30))
		gen_device(g, 1);
	/* A third of the programs have viewers from the start. */
	for (i = 0; i < FZ_MAX_VIEWERS && chance(g, 35); i++) {
		op = emit(g, K_VIEW);
		if (op) {
			op->a = i;
			op->shmid = gen_shmid(g, 0, pick_reg(g, 0));
			op->var = rnd(g, 2);
		}
	}
	while (g->p->nops < nops) {
		int fd = rnd(g, 10) < 7 ? 0 : rnd(g, 3);
		int k = pick_weighted(g, w, sizeof(w) / sizeof(w[0]));

		/*
		 * munmap, mremap and MAP_FIXED detach a region for good (MAP
		 * and UNMAP then fail with ENXIO), mseal pins it: mostly in the
		 * last third.
		 */
		if ((k == 9 || k == 12 || k == 13 || k == 28) && g->p->nops < nops * 2 / 3 &&
		    chance(g, 80))
			continue;
		switch (k) {
		case 0:
			op = emit(g, K_MAP);
			if (op) {
				gen_map_args(g, op, fd);
				remember_map(g, op);
			}
			break;
		case 1:
			op = emit(g, K_UNMAP);
			if (op)
				gen_unmap_args(g, op, fd);
			break;
		case 2: gen_vm(g, K_READ, fd); break;
		case 3: gen_vm(g, K_WRITE, fd); break;
		case 4:
			op = emit(g, K_GET_STATS);
			if (op)
				op->fd = fd;
			break;
		case 5:
			op = emit(g, K_REGION_INFO);
			if (op) {
				op->fd = fd;
				op->shmid = chance(g, 10) ? 256 + rnd(g, 100) :
					    gen_shmid(g, fd, pick_reg(g, fd));
			}
			break;
		case 6:
			op = emit(g, K_GET_CONFIG);
			if (op)
				op->fd = fd;
			break;
		case 7: gen_batch(g, fd); break;
		case 8:
			op = emit(g, K_RESET);
			if (op)
				op->fd = fd;
			break;
		case 9: gen_vm(g, K_MUNMAP, fd); break;
		case 10: gen_vm(g, K_MPROTECT, fd); break;
		case 11: gen_vm(g, K_MADVISE, fd); break;
		case 12: gen_vm(g, K_MREMAP, fd); break;
		case 13: gen_vm(g, K_CLOBBER, fd); break;
		case 14:
			op = emit(g, K_PWRITE);
			if (op) {
				op->file = rnd(g, FZ_MAX_FILES);
				op->a = rnd(g, g->g.fpages[op->file] ? g->g.fpages[op->file] : 4);
			}
			break;
		case 15:
			op = emit(g, K_SEAL);
			if (op) {
				op->file = rnd(g, FZ_MAX_FILES);
				op->var = chance(g, 60) ? 0 : 1;
			}
			break;
		case 16: gen_fork(g); break;
		/* Mostly not slot 0: the device most ops go to stays set up. */
		case 17:
			op = emit(g, K_OPEN);
			if (op)
				op->fd = chance(g, 90) ? 1 + rnd(g, FZ_MAX_FDS - 1) : 0;
			break;
		case 18:
			op = emit(g, K_CLOSE);
			if (op)
				op->fd = chance(g, 90) ? 1 + rnd(g, FZ_MAX_FDS - 1) : 0;
			break;
		case 19:
			op = emit(g, K_DUP);
			if (op) {
				op->fd = fd;
				op->a = rnd(g, FZ_MAX_FDS);
				if (op->a != fd)
					memcpy(g->g.size[op->a], g->g.size[fd], sizeof(g->g.size[fd])),
					g->g.base[op->a] = g->g.base[fd];
			}
			break;
		case 20:
			op = emit(g, K_SET_OWNER);
			if (op)
				op->fd = fd;
			break;
		case 21: gen_config(g, fd); break;
		case 22:
			op = emit(g, K_MMAP);
			if (op) {
				op->fd = fd;
				op->reg = pick_reg(g, fd);
				op->shmid = gen_shmid(g, fd, op->reg);
				op->a = (uint64_t)region_pages(g, fd, op->reg) * PG;
				op->var = rnd(g, MM_NVARS);
			}
			break;
		case 23:
			op = emit(g, K_NL_DUMP);
			if (op) {
				op->fd = fd;
				op->var = rnd(g, 3);
			}
			break;
		case 24: emit(g, K_UNLOAD); break;
		case 25: gen_file_new(g, rnd(g, FZ_MAX_FILES)); break;
		case 26:
			op = emit(g, K_FILE_CLOSE);
			if (op)
				op->file = rnd(g, FZ_MAX_FILES);
			break;
		case 27: gen_device(g, 1 + rnd(g, FZ_MAX_FDS - 1)); break;
		case 28: gen_vm(g, K_MSEAL, fd); break;
		case 29: gen_vm(g, K_UFFD, fd); break;
		case 30: gen_maxmap(g, fd); break;
		case 31: gen_view_op(g, fd); break;
		}
	}
	if (chance(g, 10))
		emit(g, K_EXIT);
}

/* One thread's list in a chaos program. */
static void gen_chaos_thread(struct gen *g, int n, bool may_own)
{
	static const int w[] = {
		/* MAP UNMAP BATCH READ STATS RESET MADV MUNMAP MPROT MREMAP CLOB */
		20, 14, 6, 14, 4, 2, 3, 1, 2, 1, 1,
		/* OWNER-STORM NL FORK EXIT RINFO MMAP */
		2, 2, 1, 0, 2, 1,
	};
	struct fz_op *op;
	int i;

	for (i = 0; i < n; i++) {
		int fd = rnd(g, 10) < 8 ? 0 : 1;

		switch (pick_weighted(g, w, sizeof(w) / sizeof(w[0]))) {
		case 0:
			op = emit(g, K_MAP);
			if (op) {
				gen_map_args(g, op, fd);
				remember_map(g, op);
			}
			break;
		case 1:
			op = emit(g, K_UNMAP);
			if (op)
				gen_unmap_args(g, op, fd);
			break;
		case 2: gen_batch(g, fd); break;
		case 3: gen_vm(g, K_READ, fd); break;
		case 4:
			op = emit(g, K_GET_STATS);
			if (op)
				op->fd = fd;
			break;
		case 5:
			op = emit(g, K_RESET);
			if (op)
				op->fd = fd;
			break;
		case 6: gen_vm(g, K_MADVISE, fd); break;
		case 7: gen_vm(g, K_MUNMAP, fd); break;
		case 8: gen_vm(g, K_MPROTECT, fd); break;
		case 9: gen_vm(g, K_MREMAP, fd); break;
		case 10: gen_vm(g, K_CLOBBER, fd); break;
		case 11:
			if (!may_own)
				break;
			/* New devices owned (and maybe killed) mid-call. */
			op = emit(g, K_OPEN);
			if (op)
				op->fd = 2 + g->thread;
			op = emit(g, K_SET_OWNER);
			if (op)
				op->fd = 2 + g->thread;
			if (chance(g, 50)) {
				op = emit(g, K_SET_OWNER);
				if (op)
					op->fd = 1;
			}
			op = emit(g, K_CLOSE);
			if (op)
				op->fd = 2 + g->thread;
			break;
		case 12:
			op = emit(g, K_NL_DUMP);
			if (op)
				op->var = rnd(g, 3);
			break;
		case 13:
			emit(g, K_FORK);
			break;
		case 14:
			emit(g, K_EXIT);
			break;
		case 15:
			op = emit(g, K_REGION_INFO);
			if (op) {
				op->fd = fd;
				op->shmid = gen_shmid(g, fd, pick_reg(g, fd));
			}
			break;
		case 16:
			op = emit(g, K_MMAP);
			if (op) {
				op->fd = fd;
				op->reg = pick_reg(g, fd);
				op->shmid = gen_shmid(g, fd, op->reg);
				op->a = (uint64_t)region_pages(g, fd, op->reg) * PG;
			}
			break;
		}
	}
}

static void gen_chaos(struct gen *g, int nops)
{
	int i, k, t, r, per, nfiles = 3 + rnd(g, 4);
	bool kills = chance(g, 70);
	struct fz_op *op;

	g->p->nprocs = 2 + rnd(g, FZ_MAX_PROCS - 1);
	g->p->nthreads = 1 + rnd(g, FZ_MAX_THREADS);
	/* The runner: two devices and the files, inherited by everyone. */
	g->proc = 0xff;
	for (k = 0; k < 2; k++) {
		op = emit(g, K_OPEN);
		op->fd = k;
	}
	for (i = 0; i < nfiles; i++)
		gen_file_new(g, i);
	/* Process 0 owns device 0 and maps its regions before the others start. */
	g->proc = 0;
	g->thread = 0xff;
	op = emit(g, K_SET_OWNER);
	op->fd = 0;
	gen_config(g, 0);
	g->p->ops[g->p->nops - 1].var = CFG_OK;
	if (!g->g.size[0][0]) {
		g->g.base[0] = g->p->ops[g->p->nops - 1].shmid;
		for (r = 0; r < FZ_MAX_REG; r++)
			g->g.size[0][r] = g->p->ops[g->p->nops - 1].a >> (8 * r) & 0xff;
	}
	for (r = 0; r < FZ_MAX_REG; r++) {
		if (!g->g.size[0][r])
			continue;
		op = emit(g, K_MMAP);
		op->fd = 0;
		op->reg = r;
		op->shmid = (g->g.base[0] + r) % VHOST_SHMEM_MAX_REGIONS;
		op->a = (uint64_t)g->g.size[0][r] * PG;
	}
	memcpy(g->g.size[1], g->g.size[0], sizeof(g->g.size[0]));
	g->g.base[1] = g->g.base[0];
	per = nops / (g->p->nprocs * g->p->nthreads + 1);
	for (k = 0; k < g->p->nprocs; k++) {
		for (t = 0; t < g->p->nthreads; t++) {
			g->proc = k;
			g->thread = t;
			gen_chaos_thread(g, per, true);
		}
	}
	/* The runner's timeline: pauses, kills, unload attempts, dumps. */
	g->proc = 0xfe;
	g->thread = 0;
	for (i = 0; i < 12; i++) {
		op = emit(g, K_SLEEP);
		if (op)
			op->a = rnd(g, 40000);
		r = rnd(g, 10);
		if (r < 2 && kills)
			op = emit(g, K_KILL), op ? op->a = rnd(g, g->p->nprocs) : 0;
		else if (r < 4)
			emit(g, K_UNLOAD);
		else if (r < 6 && (op = emit(g, K_NL_DUMP)))
			op->var = rnd(g, 3);
	}
}

void fz_generate(struct fz_prog *p, uint64_t seed, const struct fz_opts *o)
{
	struct gen g = { .s = seed, .p = p, .o = o };
	int nops;

	memset(p, 0, offsetof(struct fz_prog, ops));
	p->seed = seed;
	p->mode = (int)rnd(&g, 100) < o->chaos_pct ? FZ_CHAOS : FZ_SOLO;
	nops = 60 + rnd(&g, o->max_ops > 60 ? o->max_ops - 60 : 1);
	if (p->mode == FZ_CHAOS)
		gen_chaos(&g, nops * 2);
	else
		gen_solo(&g, nops);
}
