// SPDX-License-Identifier: GPL-2.0
/*
 * The model: predictions from the documented semantics, one function per
 * step, and the effect of the step's real outcome. See model.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "model.h"
#include "vhost_shmem_lib.h"

#define PAGE_MAGIC	0x465a5047u	/* "GPZF" */
#define MAX_LFS		0x7fffffffffffffffULL

void mdl_init(struct model *m, uint32_t tag)
{
	memset(m, 0, sizeof(*m));
	m->tag = tag;
	m->gen_ctr = 1;
	memset(m->file_obj, 0xff, sizeof(m->file_obj));
	memset(m->fd_dev, 0xff, sizeof(m->fd_dev));
	m->max_mappings = 65536;
	m->max_region_size = 1ULL << 40;
}

int *mdl_fdtab(struct model *m)
{
	return m->fd_dev[m->in_child];
}

int mdl_dev(const struct model *m, int fdslot)
{
	if (fdslot < 0 || fdslot >= FZ_MAX_FDS)
		return -1;
	return m->fd_dev[m->in_child][fdslot];
}

/* Is the calling process (runner or child) the device's owner? */
bool mdl_owner_is_me(const struct model *m, const struct m_dev *d)
{
	return m->in_child ? d->owner == OWN_CHILD : d->owner == OWN_RUNNER;
}

struct m_reg *mdl_reg_by_shmid(struct m_dev *d, uint32_t shmid, int *idx)
{
	int i;

	if (!d->configured)
		return NULL;
	for (i = 0; i < FZ_MAX_REG; i++) {
		if (d->reg[i].size && d->reg[i].shmid == shmid) {
			if (idx)
				*idx = i;
			return &d->reg[i];
		}
	}
	return NULL;
}

/* ---- page content ---- */

void fz_page_fill(uint8_t *buf, uint32_t fid, uint32_t page, uint32_t gen)
{
	uint64_t *w = (uint64_t *)buf;
	uint64_t h = fz_mix(((uint64_t)fid << 32 | page) ^ ((uint64_t)gen << 17));
	size_t i;

	if (!gen) {
		memset(buf, 0, PG);
		return;
	}
	w[0] = (uint64_t)PAGE_MAGIC << 32 | fid;
	w[1] = (uint64_t)page << 32 | gen;
	for (i = 2; i < PG / 8; i++)
		w[i] = fz_mix(h + i);
}

static void describe(const uint8_t *buf, char *s, size_t len)
{
	const uint64_t *w = (const uint64_t *)buf;

	if ((w[0] >> 32) == PAGE_MAGIC)
		snprintf(s, len, "file %#x page %u gen %u", (uint32_t)w[0],
			 (uint32_t)(w[1] >> 32), (uint32_t)w[1]);
	else
		snprintf(s, len, "bytes %016llx %016llx", (unsigned long long)w[0],
			 (unsigned long long)w[1]);
}

int fz_page_cmp(const uint8_t *buf, uint32_t fid, uint32_t page, uint32_t gen,
		char *why, size_t len)
{
	uint8_t want[4096];
	char got[96];
	size_t i;

	fz_page_fill(want, fid, page, gen);
	if (!memcmp(buf, want, PG))
		return 0;
	for (i = 0; i < PG && buf[i] == want[i]; i++)
		;
	describe(buf, got, sizeof(got));
	if (gen)
		snprintf(why, len, "expected file %#x page %u gen %u, got %s (first bad byte %zu)",
			 fid, page, gen, got, i);
	else
		snprintf(why, len, "expected zeros, got %s (first non-zero byte %zu)", got, i);
	return 1;
}

bool fz_page_valid(const uint8_t *buf, char *why, size_t len)
{
	const uint64_t *w = (const uint64_t *)buf;
	uint8_t want[4096];
	char got[96];
	size_t i;

	for (i = 0; i < PG / 8 && !w[i]; i++)
		;
	if (i == PG / 8)
		return true;
	if ((w[0] >> 32) == PAGE_MAGIC) {
		fz_page_fill(want, (uint32_t)w[0], (uint32_t)(w[1] >> 32), (uint32_t)w[1]);
		if (!memcmp(buf, want, PG))
			return true;
	}
	describe(buf, got, sizeof(got));
	snprintf(why, len, "page is neither zeros nor a whole file page: %s", got);
	return false;
}

/* ---- devices and fd slots ---- */

static int dev_refs(const struct model *m, int dev)
{
	int i, k, p, n = 0;

	for (k = 0; k < 2; k++) {
		if (k && !m->in_child)
			break;
		for (i = 0; i < FZ_MAX_FDS; i++)
			n += m->fd_dev[k][i] == dev;
	}
	/* Hole vmas map the device file; only a live owner has them. */
	if (m->dev[dev].owner == OWN_RUNNER)
		for (k = 0; k < FZ_MAX_REG; k++)
			for (p = 0; p < FZ_SLOT_PG; p++)
				n += m->dev[dev].reg[k].pg[p].st == PG_HOLE;
	return n;
}

/*
 * The last reference went: release unmaps every mapping from a live owner
 * (never putting a hole back); a mapping the owner mapped over, even in
 * part, is left where it still is.
 */
static void dev_release(struct model *m, int dev)
{
	struct m_dev *d = &m->dev[dev];
	int i, p;

	for (i = 0; i < m->nmaps; i++) {
		struct m_map *mp = &m->map[i];
		struct m_reg *r = &d->reg[mp->reg];
		int first = FZ_GUARD + mp->off / PG, n = mp->len / PG;
		bool foreign = false;

		if (!mp->live || mp->dev != dev)
			continue;
		mp->live = false;
		if (d->owner != OWN_RUNNER)
			continue;
		/* Sealed or userfaultfd pages cannot be taken out: they stay. */
		for (p = first; p < first + n; p++)
			foreign |= r->pg[p].st == PG_FOREIGN ||
				   (r->pg[p].st == PG_MAPPED && r->pg[p].map == i &&
				    (r->pg[p].flags & (PGF_SEALED | PGF_UFFD)));
		if (foreign)
			continue;
		for (p = first; p < first + n; p++)
			r->pg[p].st = PG_GAP;
	}
	d->alive = false;
}

static void maybe_release(struct model *m, int dev)
{
	if (dev >= 0 && m->dev[dev].alive && !dev_refs(m, dev))
		dev_release(m, dev);
}

static void release_all_unref(struct model *m)
{
	int i;

	for (i = 0; i < m->ndevs; i++)
		maybe_release(m, i);
}

int mdl_alive(const struct model *m)
{
	int i, n = 0;

	for (i = 0; i < m->ndevs; i++)
		n += m->dev[i].alive;
	return n;
}

void mdl_open(struct model *m, int fdslot, bool rdonly, int outcome)
{
	struct m_dev *d;
	int k, p;

	if (outcome || m->ndevs == FZ_MAX_DEVS)
		return;
	d = &m->dev[m->ndevs];
	memset(d, 0, sizeof(*d));
	d->used = d->alive = true;
	d->rdonly = rdonly;
	for (k = 0; k < FZ_MAX_REG; k++)
		for (p = 0; p < FZ_SLOT_PG; p++)
			d->reg[k].pg[p] = (struct m_page){ PG_FOREIGN, PROT_NONE, 1, -1, 0 };
	mdl_fdtab(m)[fdslot] = m->ndevs++;
}

void mdl_close(struct model *m, int fdslot)
{
	int dev = mdl_dev(m, fdslot);

	mdl_fdtab(m)[fdslot] = -1;
	maybe_release(m, dev);
}

void mdl_dup(struct model *m, int from, int to)
{
	int dev = mdl_dev(m, from), old = mdl_dev(m, to);

	mdl_fdtab(m)[to] = dev;
	if (old != dev)
		maybe_release(m, old);
}

void mdl_set_owner(struct model *m, int fdslot, struct fz_exp *e)
{
	exp_only(e, m->dev[mdl_dev(m, fdslot)].owner != OWN_NONE ? EBUSY : 0);
}

void mdl_set_owner_done(struct model *m, int fdslot, int outcome)
{
	if (!outcome)
		m->dev[mdl_dev(m, fdslot)].owner = m->in_child ? OWN_CHILD : OWN_RUNNER;
}

/* The rules of SET_CONFIG's argument, in the order the documentation lists. */
int mdl_check_config(const struct model *m, const struct vhost_shmem_config *c)
{
	int i, n = 0, err = 0;

	if (c->padding)
		return EINVAL;
	for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++) {
		const struct vhost_shmem_region_config *r = &c->regions[i];

		if (r->padding || (r->flags & ~VHOST_SHMEM_REGION_F_ALL) ||
		    r->size % PG || (!r->size && r->flags))
			return EINVAL;
		if (r->size > m->max_region_size)
			err = err ? err : E2BIG;
		n += !!r->size;
	}
	if (!n)
		return EINVAL;
	return err;
}

void mdl_set_config(struct model *m, int fdslot, const struct vhost_shmem_config *c,
		    struct fz_exp *e)
{
	struct m_dev *d = &m->dev[mdl_dev(m, fdslot)];
	int err = mdl_check_config(m, c);

	if (!err && d->owner == OWN_NONE)
		err = EBADFD;
	if (!err && !mdl_owner_is_me(m, d))
		err = EPERM;
	if (!err && d->configured)
		err = EBUSY;
	exp_only(e, err);
}

void mdl_set_config_done(struct model *m, int fdslot, uint32_t base,
			 const struct vhost_shmem_config *c, int outcome)
{
	struct m_dev *d = &m->dev[mdl_dev(m, fdslot)];
	int i, k = 0;

	if (outcome)
		return;
	d->configured = true;
	/* At most FZ_MAX_REG regions, indexed in the order from @base as generated. */
	for (i = base; i < (int)base + VHOST_SHMEM_MAX_REGIONS && k < FZ_MAX_REG; i++) {
		int s = i % VHOST_SHMEM_MAX_REGIONS;

		if (!c->regions[s].size)
			continue;
		d->reg[k].shmid = s;
		d->reg[k].size = c->regions[s].size;
		d->reg[k].flags = c->regions[s].flags;
		k++;
	}
}

/* ---- MAP, UNMAP, RESET ---- */

static bool obj_regular(int kind)
{
	return kind == FK_MEMFD || kind == FK_SHM || kind == FK_TMPFS ||
	       kind == FK_EXT4 || kind == FK_RDONLY || kind == FK_WRONLY ||
	       kind == FK_HUGE;
}

/*
 * Can the module count the references of the file the mapping's vmas map,
 * and so tell that the owner still maps a copy? For regular files (it
 * opens them again for the mapping alone) and /dev/zero (its mmap swaps
 * in a shmem file only the vmas hold); not for a dma-buf.
 */
static bool map_private(const struct model *m, const struct m_map *mp)
{
	return mp->obj >= 0 && (obj_regular(m->obj[mp->obj].kind) ||
				m->obj[mp->obj].kind == FK_ANON);
}

/* The argument checks MAP and UNMAP share. */
static int range_args(const struct m_dev *d, uint32_t shmid, uint64_t off, uint64_t len,
		      struct m_reg **rp)
{
	struct m_reg *r;
	uint64_t end;

	if (d->owner == OWN_NONE || !d->configured)
		return EBADFD;
	if (!len || off % PG || len % PG)
		return EINVAL;
	r = mdl_reg_by_shmid((struct m_dev *)d, shmid, NULL);
	if (!r)
		return EBADSLT;
	if (__builtin_add_overflow(off, len, &end) || end > r->size)
		return ERANGE;
	*rp = r;
	return 0;
}

static bool owner_dead(const struct m_dev *d)
{
	return d->owner == OWN_DEAD;
}

/* A region the owner's mm still has. Errno or 0. */
static int live_region(const struct m_dev *d, const struct m_reg *r)
{
	if (owner_dead(d))
		return ESRCH;
	if (!r->mmapped || r->detached)
		return ENXIO;
	return 0;
}

static int reg_index(const struct m_dev *d, const struct m_reg *r)
{
	return (int)(r - d->reg);
}

void mdl_map(struct model *m, int dev, const struct fz_map_args *a, struct fz_exp *e)
{
	struct m_dev *d = &m->dev[dev];
	int slot = a->file, kind, objn, i, p, first, n;
	bool rw = a->flags & VHOST_SHMEM_MAP_F_RW, sealed = false, at_mmap = false;
	const struct m_obj *o = NULL;
	struct m_reg *r = NULL;
	uint64_t end;
	int err;

	exp_clear(e);
	err = range_args(d, a->shmid, a->shm_off, a->len, &r);
	if (!err && (a->flags & ~VHOST_SHMEM_MAP_F_ALL))
		err = EOPNOTSUPP;
	if (!err && a->fd_off % PG)
		err = EINVAL;
	if (err)
		goto out;
	kind = slot >= 0 && slot < FZ_MAX_FILES ? m->file_kind[slot] : FK_NONE;
	objn = slot >= 0 && slot < FZ_MAX_FILES ? m->file_obj[slot] : -1;
	if (objn >= 0)
		o = &m->obj[objn];
	if (kind == FK_DEVICE && mdl_dev(m, m->file_devfd[slot]) < 0)
		kind = FK_CLOSED;
	switch (kind) {
	case FK_NONE: case FK_CLOSED: case FK_OPATH:
		err = EBADF;
		break;
	case FK_DEVICE:
		err = ELOOP;
		break;
	case FK_PIPE:
		err = ENODEV;
		break;
	case FK_ZERO:
		/* Read-only needs a file not open for writing, or a regular one. */
		err = rw ? 0 : EACCES;
		break;
	case FK_WRONLY:
		err = EACCES;
		break;
	case FK_RDONLY:
		err = rw ? EACCES : 0;
		break;
	case FK_UDMABUF:
		/* A dma-buf is open read-write: read-only needs an fd that is not. */
		err = rw ? 0 : EACCES;
		break;
	}
	if (err)
		goto out;
	if (__builtin_add_overflow(a->fd_off, a->len, &end) || end > MAX_LFS)
		err = EOVERFLOW;
	else if (obj_regular(kind) && end > (uint64_t)o->npages * PG)
		err = EOVERFLOW;
	if (!err)
		err = live_region(d, r);
	if (!err && d->mappings >= m->max_mappings)
		err = ENOSPC;
	if (err)
		goto out;
	first = a->shm_off / PG;
	n = a->len / PG;
	for (i = 0; i < m->nmaps; i++) {
		const struct m_map *mp = &m->map[i];

		if (mp->live && mp->dev == dev && mp->reg == reg_index(d, r) &&
		    mp->off / PG < (uint64_t)(first + n) && (mp->off + mp->len) / PG > (uint64_t)first) {
			err = EEXIST;
			goto out;
		}
	}
	/*
	 * The region is live (not detached), so the owner only mprotect'ed
	 * what it holds: a hole with another protection is the owner's. The
	 * first vma that is not a hole decides: registered with userfaultfd
	 * (EBUSY) or foreign (EXDEV).
	 */
	for (p = FZ_GUARD + first; p < FZ_GUARD + first + n && !err; p++) {
		const struct m_page *pg = &r->pg[p];

		if (pg->st == PG_GAP || (pg->st == PG_HOLE && pg->prot == r->prot)) {
			sealed |= pg->flags & PGF_SEALED;
			continue;
		}
		err = pg->flags & PGF_UFFD ? EBUSY : EXDEV;
	}
	if (err)
		goto out;
	at_mmap = true;
	/* A hugetlbfs file wants huge page alignment: a region is smaller. */
	if (kind == FK_HUGE)
		err = EINVAL;
	/* mmap() over a sealed hole. */
	else if (sealed)
		err = EPERM;
	/*
	 * The backend's own mmap (seals). A read-only MAP maps a read-only
	 * reopening: no VM_SHARED, so a write-sealed memfd maps.
	 */
	else if (kind == FK_MEMFD && (o->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) && rw)
		err = EPERM;
	/* A dma-buf refuses a range beyond the buffer. */
	else if (kind == FK_UDMABUF && end > (uint64_t)o->npages * PG)
		err = EINVAL;
out:
	exp_add(e, err);
	/*
	 * At vm.max_map_count (K_MAXMAP): ENOMEM, the region unchanged;
	 * do_mmap() checks the count before anything of the backend's.
	 */
	if (at_mmap && m->maxmap_low)
		exp_add(e, ENOMEM);
}

void mdl_map_done(struct model *m, int dev, const struct fz_map_args *a, int outcome)
{
	struct m_dev *d = &m->dev[dev];
	int ri, p, first, n, objn;
	struct m_reg *r;
	struct m_map *mp;

	if (outcome) {
		d->failures++;
		return;
	}
	r = mdl_reg_by_shmid(d, a->shmid, &ri);
	if (!r || m->nmaps == FZ_MAX_MAPS)
		return;
	objn = m->file_obj[a->file];
	if (m->file_kind[a->file] == FK_ZERO) {
		/* A shared /dev/zero mapping is a new shmem object of its own. */
		if (m->nobjs < FZ_MAX_OBJS) {
			struct m_obj *o = &m->obj[m->nobjs];

			/*
			 * shmem_zero_setup() makes it as large as the vma and
			 * keeps vm_pgoff: file pages fd_offset / PG on, those
			 * past len / PG are beyond its end (SIGBUS).
			 */
			memset(o, 0, sizeof(*o));
			o->used = true;
			o->kind = FK_ANON;
			o->npages = a->len / PG;
			objn = m->nobjs++;
		} else {
			objn = -1;
		}
	}
	mp = &m->map[m->nmaps];
	*mp = (struct m_map){
		.used = true, .live = true, .dev = dev, .reg = ri, .obj = objn,
		.off = a->shm_off, .len = a->len, .fd_off = a->fd_off,
		.rw = a->flags & VHOST_SHMEM_MAP_F_RW,
	};
	first = FZ_GUARD + a->shm_off / PG;
	n = a->len / PG;
	for (p = first; p < first + n; p++)
		r->pg[p] = (struct m_page){ PG_MAPPED,
			PROT_READ | (mp->rw ? PROT_WRITE : 0), 0, (int16_t)m->nmaps, 0 };
	m->nmaps++;
	d->mappings++;
	d->bytes += a->len;
	d->maps++;
}

static struct m_map *find_live(struct model *m, int dev, int reg, uint64_t off)
{
	int i;

	for (i = 0; i < m->nmaps; i++) {
		struct m_map *mp = &m->map[i];

		if (mp->live && mp->dev == dev && mp->reg == reg &&
		    off >= mp->off && off < mp->off + mp->len)
			return mp;
	}
	return NULL;
}

void mdl_unmap(struct model *m, int dev, const struct fz_map_args *a, struct fz_exp *e)
{
	struct m_dev *d = &m->dev[dev];
	struct m_reg *r = NULL;
	struct m_map *mp;
	int err, p, first;

	err = range_args(d, a->shmid, a->shm_off, a->len, &r);
	if (!err && a->padding)
		err = EINVAL;
	if (!err)
		err = live_region(d, r);
	if (err)
		goto out;
	mp = find_live(m, dev, reg_index(d, r), a->shm_off);
	if (!mp || mp->off != a->shm_off || mp->len != a->len) {
		err = ENOENT;
		goto out;
	}
	first = FZ_GUARD + a->shm_off / PG;
	for (p = first; p < first + (int)(a->len / PG) && !err; p++) {
		const struct m_page *pg = &r->pg[p];

		/* In order: userfaultfd (EBUSY), anything but this mapping's file. */
		if (pg->flags & PGF_UFFD)
			err = EBUSY;
		else if (pg->st != PG_MAPPED || m->map[pg->map].obj != mp->obj)
			err = EXDEV;
	}
	/* The hole's mmap() over a sealed vma. */
	if (!err && mdl_any_flag(m, dev, reg_index(d, r), first, a->len / PG, PGF_SEALED))
		err = EPERM;
	/*
	 * A mapping the owner mprotect()ed is removed like any other
	 * (39618e7). The hole is back, but this process still maps a copy.
	 */
	if (!err && m->in_child && mp->copied && map_private(m, mp))
		err = EBUSY;
	/*
	 * At vm.max_map_count: ENOMEM, the mapping stays listed. The hole's
	 * do_mmap() checks the count before the range (EXDEV, EBUSY).
	 */
	if (m->maxmap_low) {
		exp_only(e, err);
		exp_add(e, ENOMEM);
		return;
	}
out:
	exp_only(e, err);
}

static void hole_back(struct m_reg *r, const struct m_map *mp)
{
	int p, first = FZ_GUARD + mp->off / PG;

	for (p = first; p < first + (int)(mp->len / PG); p++)
		r->pg[p] = (struct m_page){ PG_HOLE, (uint8_t)r->prot, 0, -1, 0 };
}

static void forget(struct m_dev *d, struct m_map *mp)
{
	mp->live = false;
	d->mappings--;
	d->bytes -= mp->len;
	d->unmaps++;
}

void mdl_unmap_done(struct model *m, int dev, const struct fz_map_args *a, int outcome)
{
	struct m_dev *d = &m->dev[dev];
	struct m_map *mp;
	struct m_reg *r;
	int ri;

	if (outcome)
		d->failures++;
	/* EBUSY (copies remain): the range is a hole and the mapping gone. */
	if (outcome && outcome != EBUSY)
		return;
	r = mdl_reg_by_shmid(d, a->shmid, &ri);
	mp = r ? find_live(m, dev, ri, a->shm_off) : NULL;
	if (!mp)
		return;
	/* EBUSY of userfaultfd: refused, nothing changed. */
	if (outcome && mdl_any_flag(m, dev, ri, FZ_GUARD + mp->off / PG, mp->len / PG, PGF_UFFD))
		return;
	hole_back(r, mp);
	forget(d, mp);
}

/*
 * Does another device owned by the runner (the same mm) map pages of
 * @mp's dma-buf that @mp maps too, still in place? RESET of @mp in a
 * detached region then finds that vma and counts it as a moved copy
 * (EBUSY; "Counting copies" in the uapi doc).
 */
static bool other_dev_maps(const struct model *m, int dev, const struct m_map *mp)
{
	uint64_t lo = mp->fd_off / PG, hi = lo + mp->len / PG;
	int j, p;

	for (j = 0; j < m->nmaps; j++) {
		const struct m_map *q = &m->map[j];
		const struct m_reg *r;
		int first;

		if (!q->live || q->dev == dev || q->obj != mp->obj ||
		    m->dev[q->dev].owner != OWN_RUNNER)
			continue;
		r = &m->dev[q->dev].reg[q->reg];
		first = FZ_GUARD + q->off / PG;
		for (p = first; p < first + (int)(q->len / PG); p++) {
			uint64_t fpg = q->fd_off / PG + (p - first);

			if (r->pg[p].st == PG_MAPPED && r->pg[p].map == j &&
			    fpg >= lo && fpg < hi)
				return true;
		}
	}
	return false;
}

/*
 * RESET, mapping by mapping: in a live region the hole goes back; in a
 * detached one the backend file is only unmapped (a gap), if the range
 * still holds nothing but its vmas. A mapping that cannot be taken out
 * stays listed, unless none of its vmas is left anywhere (regular files
 * and /dev/zero: see map_private()). Copies in a live fork
 * child make it EBUSY too. Applies it all when @apply. Returns the errno.
 */
static int reset_plan(struct model *m, int dev, bool apply)
{
	struct m_dev *d = &m->dev[dev];
	int i, p, kept = 0;

	if (d->owner == OWN_NONE)
		return EBADFD;
	for (i = 0; i < m->nmaps; i++) {
		struct m_map *mp = &m->map[i];
		struct m_reg *r = &d->reg[mp->reg];
		int first = FZ_GUARD + mp->off / PG, n = mp->len / PG;
		bool foreign = false, own = false, gone = true, copies, blocked = false;
		int to = -1;	/* what the range becomes: PG_HOLE, PG_GAP or as it is */

		if (!mp->live || mp->dev != dev)
			continue;
		copies = m->in_child && mp->copied && map_private(m, mp);
		/* Issued by a child or not, it runs in the owner's mm. */
		if (d->owner == OWN_RUNNER) {
			for (p = first; p < first + n; p++) {
				const struct m_page *pg = &r->pg[p];

				if (pg->st == PG_MAPPED && pg->map == i) {
					own = true;
					blocked |= pg->flags & (PGF_SEALED | PGF_UFFD);
				} else if (pg->st != PG_GAP) {
					foreign = true;
				}
			}
			/* Sealed or registered with userfaultfd: it stays (EBUSY). */
			if (blocked) {
				gone = false;
			} else if (!foreign && !r->detached) {
				to = PG_HOLE;	/* mprotect'ed or not */
			} else if (!foreign) {
				to = PG_GAP;
				copies |= m->obj[mp->obj].kind == FK_UDMABUF &&
					  other_dev_maps(m, dev, mp);
			} else if (!map_private(m, mp) || own || copies) {
				gone = false;
			}
		} else {
			copies = false;	/* a dead owner: nothing in any mm */
		}
		kept += !gone || copies;
		if (!apply || !gone)
			continue;
		if (to == PG_HOLE)
			hole_back(r, mp);
		else if (to == PG_GAP)
			for (p = first; p < first + n; p++)
				r->pg[p].st = PG_GAP;
		forget(d, mp);
	}
	return kept ? EBUSY : 0;
}

void mdl_reset(struct model *m, int dev, struct fz_exp *e)
{
	exp_only(e, reset_plan(m, dev, false));
}

void mdl_reset_done(struct model *m, int dev, int outcome)
{
	if (outcome == 0 || outcome == EBUSY)
		reset_plan(m, dev, true);
}

/* ---- the owner's address space ---- */

void mdl_mmap(struct model *m, int dev, uint32_t shmid, uint64_t len, int var,
	      struct fz_exp *e)
{
	struct m_dev *d = &m->dev[dev];
	bool rw = var != MM_RO;
	struct m_reg *r;
	int err = 0;

	if (!len)
		err = EINVAL;
	else if (d->rdonly && rw && var != MM_PRIVATE)
		err = EACCES;
	else if (!mdl_owner_is_me(m, d))
		err = EPERM;
	else if (!d->configured)
		err = EBADFD;
	else if (!(r = mdl_reg_by_shmid(d, shmid, NULL)) || var == MM_PRIVATE ||
		 var == MM_OFFSET || len != r->size)
		err = EINVAL;
	else if (r->mmapped)
		err = EBUSY;
	exp_only(e, err);
}

void mdl_mmap_done(struct model *m, int dev, uint32_t shmid, int var, uint64_t addr,
		   int outcome)
{
	struct m_dev *d = &m->dev[dev];
	struct m_reg *r = mdl_reg_by_shmid(d, shmid, NULL);
	uint64_t p;

	if (outcome || !r)
		return;
	r->mmapped = true;
	r->addr = addr;
	r->prot = PROT_READ | (var == MM_RO ? 0 : PROT_WRITE);
	for (p = 0; p < r->size / PG; p++)
		r->pg[FZ_GUARD + p] = (struct m_page){ PG_HOLE, (uint8_t)r->prot, 0, -1, 0 };
}

static void clamp(int *first, int *n)
{
	if (*first < 0) {
		*n += *first;
		*first = 0;
	}
	if (*first + *n > FZ_SLOT_PG)
		*n = FZ_SLOT_PG - *first;
	if (*n < 0)
		*n = 0;
}

/*
 * The owner unmaps [first, first + n) of the slot (munmap, mremap, a
 * MAP_FIXED over it): the mmu notifier sees an unmap there if any vma was
 * in the range, and a region it overlaps is detached for good.
 */
static void owner_unmaps(struct m_reg *r, int first, int n)
{
	int lo = FZ_GUARD, hi = FZ_GUARD + (int)(r->size / PG), p;
	bool vma = false;

	if (!r->mmapped || first >= hi || first + n <= lo)
		return;
	for (p = first; p < first + n; p++)
		vma |= r->pg[p].st != PG_GAP;
	if (vma)
		r->detached = true;
}

void mdl_munmap(struct model *m, int dev, int reg, int first, int n)
{
	struct m_reg *r = &m->dev[dev].reg[reg];
	int p;

	owner_unmaps(r, first, n);
	for (p = first; p < first + n; p++) {
		r->pg[p].st = PG_GAP;
		r->pg[p].flags = 0;
	}
	release_all_unref(m);
}

void mdl_clobber(struct model *m, int dev, int reg, int first, int n)
{
	struct m_reg *r = &m->dev[dev].reg[reg];
	int p;

	owner_unmaps(r, first, n);
	for (p = first; p < first + n; p++)
		r->pg[p] = (struct m_page){ PG_FOREIGN, PROT_READ | PROT_WRITE, 1, -1, 0 };
	release_all_unref(m);
}

static const struct m_obj *page_obj(const struct model *m, const struct m_page *pg)
{
	int o;

	if (pg->st != PG_MAPPED || pg->map < 0)
		return NULL;
	o = m->map[pg->map].obj;
	return o >= 0 ? &m->obj[o] : NULL;
}

/* The file page a mapped page @p of a slot shows. */
static uint32_t page_index(const struct model *m, const struct m_page *pg, int p)
{
	const struct m_map *mp = &m->map[pg->map];

	return mp->fd_off / PG + (p - FZ_GUARD) - mp->off / PG;
}

/* Could the page's vma be made writable (VM_MAYWRITE)? */
static bool page_maywrite(const struct model *m, int dev, const struct m_page *pg)
{
	if (pg->st == PG_HOLE)
		return !m->dev[dev].rdonly;
	if (pg->st == PG_MAPPED)
		return m->map[pg->map].rw;
	return true;
}

/* mprotect(2) walks the vmas in order and stops at the first error. */
void mdl_mprotect(struct model *m, int dev, int reg, int first, int n, int prot,
		  struct fz_exp *e)
{
	struct m_dev *d = &m->dev[dev];
	struct m_reg *r = &d->reg[reg];
	int p, err = 0;

	/* Seals checked up front (6.10, 6.11) or vma by vma, after EACCES. */
	if (!m->kb.mseal_pervma && mdl_any_flag(m, dev, reg, first, n, PGF_SEALED)) {
		exp_only(e, EPERM);
		return;
	}
	for (p = first; p < first + n && !err; p++) {
		struct m_page *pg = &r->pg[p];

		if (pg->st == PG_GAP) {
			err = ENOMEM;
		} else if (prot & PROT_WRITE) {
			if (pg->st == PG_MAPPED && !m->map[pg->map].rw)
				err = EACCES;	/* read-only mappings lose VM_MAYWRITE */
			else if (pg->st == PG_HOLE && d->rdonly)
				err = EACCES;
		}
		if (!err && (pg->flags & PGF_SEALED))
			err = EPERM;
		if (!err)
			pg->prot = prot;
	}
	exp_only(e, err);
}

/*
 * madvise(2): vmas in order; a gap is remembered (ENOMEM at the end), an
 * error of one vma stops the walk.
 */
void mdl_madvise(struct model *m, int dev, int reg, int first, int n, int adv,
		 struct fz_exp *e)
{
	struct m_reg *r = &m->dev[dev].reg[reg];
	int p, err = 0;
	bool gap = false;

	for (p = first; p < first + n && !err; p++) {
		struct m_page *pg = &r->pg[p];
		struct m_obj *o = (struct m_obj *)page_obj(m, pg);

		if (pg->st == PG_GAP) {
			gap = true;
			continue;
		}
		switch (adv) {
		case MA_DONTNEED:
			if (pg->st == PG_HOLE || (o && o->kind == FK_UDMABUF))
				err = EINVAL;	/* VM_PFNMAP */
			break;
		case MA_REMOVE:
			if (pg->st == PG_FOREIGN)
				err = EINVAL;	/* no file */
			else if (!(pg->prot & PROT_WRITE) &&
				 (!m->kb.remove_maywrite || !page_maywrite(m, dev, pg)))
				err = EACCES;	/* VM_WRITE before 6.7, VM_MAYWRITE since */
			else if (pg->st == PG_HOLE || (o && o->kind == FK_UDMABUF))
				err = ENODEV;	/* fallocate on a char device, a dma-buf */
			else if (o && (o->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
				err = EPERM;
			else if (o && o->kind == FK_EXT4 && !m->ext4_punch)
				err = EOPNOTSUPP;
			else if (o && page_index(m, pg, p) < o->npages)
				o->gen[page_index(m, pg, p)] = 0;
			break;
		case MA_DONTFORK:
			pg->dofork = 0;
			break;
		case MA_DOFORK:
			if (pg->st == PG_HOLE)
				err = EINVAL;	/* VM_IO */
			else if (pg->st == PG_MAPPED && !m->kb.dofork_mapped)
				err = EINVAL;	/* 7.x: VM_DONTEXPAND (probed) */
			else if (o && o->kind == FK_UDMABUF && !m->kb.dofork_udmabuf)
				err = EINVAL;	/* VM_IO of remap_pfn_range (probed) */
			else
				pg->dofork = 1;
			break;
		}
	}
	exp_only(e, err ? err : gap ? ENOMEM : 0);
}

/* Can a multi-vma mremap() move this page's vma (6.17+ vma_multi_allowed())? 0 no, 1 yes, 2 either. */
static int multi_allowed(const struct model *m, const struct m_page *pg)
{
	const struct m_obj *o = page_obj(m, pg);

	if (pg->flags & PGF_UFFD)
		return 0;
	if (pg->st == PG_FOREIGN)
		return 1;		/* anonymous */
	if (pg->st == PG_HOLE)
		return 0;		/* the device's get_unmapped_area */
	if (o && o->kind == FK_EXT4)
		return 2;		/* thp_get_unmapped_area: allowed since 6.17-rc */
	return 1;			/* shmem, a dma-buf */
}

/*
 * mremap(2) depends on where vmas begin and end, which the kernel's vma
 * merging decides: predict the set; the executor then tells which pages
 * no vma maps any more.
 */
void mdl_mremap(struct model *m, int dev, int reg, int first, int n, int var,
		struct fz_exp *e)
{
	struct m_reg *r = &m->dev[dev].reg[reg];
	int p, st0 = r->pg[first].st, map0 = r->pg[first].map;
	bool same = true;

	exp_clear(e);
	for (p = first; p < first + n; p++)
		same &= r->pg[p].st == st0 && (st0 != PG_MAPPED || r->pg[p].map == map0);
	if (mdl_any_flag(m, dev, reg, first, n, PGF_SEALED)) {
		exp_add(e, EPERM);
		if (!m->kb.mseal_pervma)
			return;		/* checked up front */
	}
	if (var == MR_SHRINK) {
		exp_add(e, 0);
		if (st0 == PG_GAP)
			exp_add(e, EFAULT);
		return;
	}
	exp_add(e, EFAULT);
	if (st0 == PG_GAP)
		return;
	if (var == MR_MOVE && m->kb.mremap_multi && !same) {
		/* vma by vma; gaps after the first are kept; the first refusal stops it */
		for (p = first; p < first + n; p++) {
			const struct m_page *pg = &r->pg[p];
			int ok;

			if (pg->st == PG_GAP)
				continue;
			if (pg->flags & PGF_SEALED)
				return;
			ok = multi_allowed(m, pg);
			if (!ok)
				return;
		}
		exp_add(e, 0);
		return;
	}
	if (st0 == PG_HOLE) {
		if (var == MR_MOVE)
			exp_add(e, EINVAL);	/* holes do not move */
		return;			/* nor grow (VM_DONTEXPAND) */
	}
	if (same)
		exp_add(e, 0);
	if (var == MR_GROW)
		exp_add(e, ENOMEM);
}

void mdl_mremap_done(struct model *m, int dev, int reg, int first, int n, int var,
		     uint64_t gone, int outcome)
{
	struct m_reg *r = &m->dev[dev].reg[reg];
	int p, lo = -1, hi = -1;

	/* A hole refused after its page tables moved (EINVAL) was touched too. */
	if (outcome == EINVAL && var == MR_MOVE)
		owner_unmaps(r, first, n);
	for (p = first; p < first + n && p < FZ_SLOT_PG; p++) {
		if (!(gone >> (p - first) & 1) || r->pg[p].st == PG_GAP)
			continue;
		if (lo < 0)
			lo = p;
		hi = p + 1;
	}
	/* What moved, grew (the executor unmaps it) or was cut off was unmapped. */
	if (lo >= 0)
		owner_unmaps(r, lo, hi - lo);
	for (p = first; p < first + n && p < FZ_SLOT_PG; p++) {
		if (!(gone >> (p - first) & 1))
			continue;
		r->pg[p].st = PG_GAP;
		r->pg[p].flags = 0;
	}
	release_all_unref(m);
}

bool mdl_any_flag(const struct model *m, int dev, int reg, int first, int n, int f)
{
	const struct m_reg *r = &m->dev[dev].reg[reg];
	int p;

	for (p = first; p < first + n && p < FZ_SLOT_PG; p++)
		if (p >= 0 && (r->pg[p].flags & f))
			return true;
	return false;
}

/* mseal(2): every page must be in a vma (ENOMEM, nothing sealed). */
void mdl_mseal(const struct model *m, int dev, int reg, int first, int n, struct fz_exp *e)
{
	const struct m_reg *r = &m->dev[dev].reg[reg];
	int p;

	for (p = first; p < first + n; p++) {
		if (r->pg[p].st == PG_GAP) {
			exp_only(e, ENOMEM);
			return;
		}
	}
	exp_only(e, 0);
}

/*
 * UFFDIO_REGISTER (MISSING): vma by vma, EINVAL where userfaultfd does
 * not work (holes; files but shmem; mappings on 6.12+, VM_DONTEXPAND),
 * EPERM without VM_MAYWRITE (a read-only MAP); gaps are skipped, but
 * some vma must be there.
 */
void mdl_uffd(const struct model *m, int dev, int reg, int first, int n, struct fz_exp *e)
{
	const struct m_reg *r = &m->dev[dev].reg[reg];
	int p, err = EINVAL;

	for (p = first; p < first + n; p++) {
		const struct m_page *pg = &r->pg[p];
		const struct m_obj *o = page_obj(m, pg);

		if (pg->st == PG_GAP)
			continue;
		err = 0;
		if (pg->st == PG_FOREIGN)
			continue;	/* anonymous memory */
		if (pg->st == PG_HOLE || !m->kb.uffd_mapping || !o ||
		    (o->kind != FK_MEMFD && o->kind != FK_SHM && o->kind != FK_TMPFS &&
		     o->kind != FK_RDONLY && o->kind != FK_ANON)) {
			err = EINVAL;
			break;
		}
		if (!m->map[pg->map].rw) {
			err = EPERM;
			break;
		}
	}
	exp_only(e, err);
}

void mdl_flag_done(struct model *m, int dev, int reg, int first, int n, int f)
{
	struct m_reg *r = &m->dev[dev].reg[reg];
	int p;

	for (p = first; p < first + n; p++)
		if (r->pg[p].st != PG_GAP)
			r->pg[p].flags |= f;
	if (f & PGF_SEALED)
		m->sealed = true;
}

void mdl_uffd_closed(struct model *m)
{
	int d, k, p;

	for (d = 0; d < m->ndevs; d++)
		for (k = 0; k < FZ_MAX_REG; k++)
			for (p = 0; p < FZ_SLOT_PG; p++)
				m->dev[d].reg[k].pg[p].flags &= ~PGF_UFFD;
}

int mdl_read(const struct model *m, int dev, int reg, int p, uint32_t *fid,
	     uint32_t *page, uint32_t *gen, bool *unknown)
{
	const struct m_dev *d = &m->dev[dev];
	const struct m_reg *r = &d->reg[reg];
	const struct m_page *pg = &r->pg[p];
	const struct m_obj *o;
	const struct m_map *mp;
	uint32_t fp;

	*fid = *page = *gen = 0;
	*unknown = false;
	if (pg->st == PG_GAP || !(pg->prot & PROT_READ))
		return FZ_SIG(SIGSEGV);
	if (pg->st == PG_FOREIGN)
		return 0;
	if (pg->st == PG_HOLE)
		return r->flags & VHOST_SHMEM_REGION_F_FAULT_HOLES ? FZ_SIG(SIGBUS) : 0;
	mp = &m->map[pg->map];
	o = page_obj(m, pg);
	fp = mp->fd_off / PG + (p - FZ_GUARD) - mp->off / PG;
	if (!o || o->unknown) {
		*unknown = true;
		return 0;
	}
	if (fp >= o->npages)
		return FZ_SIG(SIGBUS);
	*fid = o->fid;
	*page = fp;
	*gen = o->gen[fp];
	return 0;
}

int mdl_write(const struct model *m, int dev, int reg, int p, int *obj, int *page)
{
	const struct m_dev *d = &m->dev[dev];
	const struct m_reg *r = &d->reg[reg];
	const struct m_page *pg = &r->pg[p];
	const struct m_map *mp;

	*obj = -1;
	if (pg->st == PG_GAP || !(pg->prot & PROT_WRITE))
		return FZ_SIG(SIGSEGV);
	if (pg->st == PG_HOLE)
		return FZ_SIG(SIGBUS);
	if (pg->st == PG_FOREIGN)
		return -1;	/* not the fuzzer's business */
	mp = &m->map[pg->map];
	if (mp->obj < 0 || m->obj[mp->obj].unknown)
		return -1;
	*obj = mp->obj;
	*page = mp->fd_off / PG + (p - FZ_GUARD) - mp->off / PG;
	if (*page >= (int)m->obj[mp->obj].npages)
		return FZ_SIG(SIGBUS);
	return 0;
}

int mdl_child_read(const struct model *m, int dev, int reg, int p, uint32_t *fid,
		   uint32_t *page, uint32_t *gen, bool *unknown)
{
	const struct m_cview *v = &m->cview[dev][reg][p];
	const struct m_map *mp;
	const struct m_obj *o;

	*fid = *page = *gen = 0;
	*unknown = false;
	if (v->vis == 0)
		return FZ_SIG(SIGSEGV);
	if (v->vis == 1)
		return 0;
	mp = &m->map[v->map];
	o = mp->obj >= 0 ? &m->obj[mp->obj] : NULL;
	if (!o || o->unknown) {
		*unknown = true;
		return 0;
	}
	*fid = o->fid;
	*page = mp->fd_off / PG + v->page - mp->off / PG;
	if (*page >= o->npages)
		return FZ_SIG(SIGBUS);
	*gen = o->gen[*page];
	return 0;
}

/* ---- files ---- */

int mdl_file_new(struct model *m, int slot, int kind, int npages)
{
	struct m_obj *o;
	int i;

	mdl_file_close(m, slot);
	m->file_kind[slot] = kind;
	if (kind == FK_NONE || kind == FK_ZERO || kind == FK_PIPE || kind == FK_DEVICE ||
	    kind == FK_CLOSED || kind == FK_OPATH || m->nobjs == FZ_MAX_OBJS)
		return -1;
	o = &m->obj[m->nobjs];
	memset(o, 0, sizeof(*o));
	o->used = true;
	o->kind = kind;
	o->fid = m->tag << 8 | m->nobjs;
	o->npages = npages;
	/* One huge page, never mapped (MAP refuses its alignment): no content. */
	if (kind == FK_HUGE) {
		o->npages = FZ_HUGE_PG;
		o->unknown = true;
		npages = 0;
	}
	for (i = 0; i < npages; i++)
		o->gen[i] = 1;
	m->file_obj[slot] = m->nobjs;
	return m->nobjs++;
}

void mdl_file_close(struct model *m, int slot)
{
	m->file_obj[slot] = -1;
	m->file_kind[slot] = FK_NONE;
}

int mdl_pwrite(const struct model *m, int slot, int page)
{
	const struct m_obj *o;

	if (m->file_obj[slot] < 0)
		return -1;
	o = &m->obj[m->file_obj[slot]];
	if (page >= (int)o->npages || o->kind == FK_HUGE || o->kind == FK_UDMABUF)
		return -1;	/* no write(2) on hugetlbfs; the udmabuf's memfd is gone */
	if (o->kind == FK_RDONLY)
		return EBADF;
	if (o->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return EPERM;
	return 0;
}

/* Is any page of @objn mapped in a region of the owner (live or left over)? */
static int obj_mapped(const struct model *m, int objn, bool *rw)
{
	int d, k, p, n = 0;

	*rw = false;
	for (d = 0; d < m->ndevs; d++) {
		if (m->dev[d].owner != OWN_RUNNER)
			continue;
		for (k = 0; k < FZ_MAX_REG; k++) {
			for (p = 0; p < FZ_SLOT_PG; p++) {
				const struct m_page *pg = &m->dev[d].reg[k].pg[p];

				if (pg->st != PG_MAPPED || m->map[pg->map].obj != objn)
					continue;
				n++;
				*rw |= m->map[pg->map].rw;
			}
		}
	}
	return n;
}

void mdl_seal(const struct model *m, int slot, int which, struct fz_exp *e)
{
	int objn = m->file_obj[slot];
	const struct m_obj *o = &m->obj[objn];
	bool rw;

	exp_only(e, 0);
	if (which == F_SEAL_FUTURE_WRITE || (o->seals & F_SEAL_WRITE))
		return;
	/*
	 * Writable shared mappings refuse it. A read-only MAP maps a
	 * read-only reopening of the memfd: no writable-mapping count.
	 */
	if (obj_mapped(m, objn, &rw) && rw)
		exp_only(e, EBUSY);
}

void mdl_seal_done(struct model *m, int slot, int which, int outcome)
{
	if (!outcome)
		m->obj[m->file_obj[slot]].seals |= which;
}

/* ---- fork ---- */

void mdl_fork(struct model *m)
{
	int d, k, p;

	memcpy(m->fd_dev[1], m->fd_dev[0], sizeof(m->fd_dev[0]));
	for (d = 0; d < m->ndevs; d++) {
		for (k = 0; k < FZ_MAX_REG; k++) {
			for (p = 0; p < FZ_SLOT_PG; p++) {
				const struct m_page *pg = &m->dev[d].reg[k].pg[p];
				struct m_cview *v = &m->cview[d][k][p];

				v->vis = 0;
				v->map = pg->map;
				v->page = p - FZ_GUARD;
				/* Only vmas without VM_DONTCOPY reach the child. */
				if (!pg->dofork || pg->st == PG_GAP || pg->st == PG_HOLE ||
				    !(pg->prot & PROT_READ))
					continue;
				v->vis = pg->st == PG_MAPPED ? 2 : 1;
			}
		}
	}
	/* Any vma the child got a copy of: a reference to the mapping's file. */
	for (d = 0; d < m->ndevs; d++)
		for (k = 0; k < FZ_MAX_REG; k++)
			for (p = 0; p < FZ_SLOT_PG; p++) {
				const struct m_page *pg = &m->dev[d].reg[k].pg[p];

				if (pg->st == PG_MAPPED && pg->dofork && m->map[pg->map].live)
					m->map[pg->map].copied = true;
			}
	m->in_child = true;
}

void mdl_child_exit(struct model *m)
{
	int d;

	memset(m->fd_dev[1], 0xff, sizeof(m->fd_dev[1]));
	m->in_child = false;
	for (d = 0; d < m->nmaps; d++)
		m->map[d].copied = false;
	for (d = 0; d < m->ndevs; d++)
		if (m->dev[d].owner == OWN_CHILD)
			m->dev[d].owner = OWN_DEAD;
	release_all_unref(m);
}

void mdl_drained(struct model *m, int dev)
{
	struct m_dev *d = &m->dev[dev];
	int i;

	for (i = 0; i < m->nmaps; i++) {
		if (m->map[i].live && m->map[i].dev == dev) {
			m->map[i].live = false;
			d->unmaps++;
		}
	}
	d->mappings = d->bytes = 0;
}

/* Clamps [*first, *first + *n) to the pages of a region slot. */
void fz_clamp(int *first, int *n)
{
	clamp(first, n);
}
