// SPDX-License-Identifier: GPL-2.0
/*
 * The executor: runs one program in a fresh process (the runner) and checks
 * every step against the model (solo) or against what holds under any
 * interleaving (chaos). The runner's state that the model needs across
 * fork() lives in one MAP_SHARED block; fd numbers and the arena address
 * are per process, as the kernel sees them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/udmabuf.h>
#include <linux/userfaultfd.h>

#include "fuzz.h"
#include "model.h"
#include "vhost_shmem_lib.h"

#define CLOSED_FD	999	/* never open in a runner */
#ifndef __NR_mseal
#define __NR_mseal	462
#endif

struct shared {
	struct fz_result res;
	struct model m;
	atomic_int ready;	/* chaos: processes done with their setup */
	atomic_int go;
};

/* Per process: what the kernel calls the model's slots. */
struct ctx {
	const struct fz_prog *p;
	const struct fz_opts *o;
	struct shared *sh;
	struct model *m;
	int fdnum[FZ_MAX_FDS];
	int filefd[FZ_MAX_FILES];
	uint8_t *arena;
	uint8_t *scratch;
	struct vhost_shmem_op *bops;	/* BATCH buffer, mapped before any region */
	int cur;		/* op being run */
	pid_t pids[FZ_MAX_PROCS];
	uint64_t ops;
	int proc;		/* chaos: this process */
	int uffd;		/* solo: the runner's userfaultfd, or -1 */
	/* solo: viewer processes (views.c) and what they copied */
	struct fz_vproc vp[FZ_MAX_VIEWERS];
	struct fz_vsnap *vsnap;
	bool views_used;	/* some K_VIEW ran: the program's end waits */
	int dying;		/* viewer told to die during this op, or -1 */
};

static const char *const kind_names[K_NKINDS] = {
	"NOP", "OPEN", "CLOSE", "DUP", "SET_OWNER", "SET_CONFIG", "GET_CONFIG",
	"REGION_INFO", "GET_STATS", "MMAP", "MUNMAP", "MPROTECT", "MADVISE",
	"MREMAP", "CLOBBER", "READ", "WRITE", "MAP", "UNMAP", "RESET", "BATCH",
	"BOP_MAP", "BOP_UNMAP", "BOP_BAD", "FILE_NEW", "FILE_CLOSE", "PWRITE",
	"SEAL", "FORK", "FORK_END", "CHILD_READ", "NL_DUMP", "UNLOAD", "EXIT",
	"KILL", "SLEEP", "MSEAL", "UFFD", "MAXMAP", "VIEW", "VIEW_DROP", "VIEW_TIGHT",
};

const char *fz_kind_name(int kind)
{
	return kind >= 0 && kind < K_NKINDS ? kind_names[kind] : "?";
}

static void __attribute__((format(printf, 3, 4)))
fail(struct ctx *c, const char *what, const char *fmt, ...)
{
	struct fz_result *r = &c->sh->res;
	int zero = 0;
	va_list ap;

	if (!atomic_compare_exchange_strong((atomic_int *)&r->failed, &zero, 1))
		return;
	r->op = c->cur;
	snprintf(r->what, sizeof(r->what), "%s", what);
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

static bool failed(struct ctx *c)
{
	return atomic_load((atomic_int *)&c->sh->res.failed);
}

static const char *oname(int v, char *buf, size_t len)
{
	if (v == 0)
		snprintf(buf, len, "0");
	else if (v >= 100)
		snprintf(buf, len, "%s", strsignal(v - 100));
	else
		snprintf(buf, len, "%s", strerrorname_np(v) ? strerrorname_np(v) : "?");
	return buf;
}

static void exp_str(const struct fz_exp *e, char *buf, size_t len)
{
	size_t n = 0;
	char o[32];
	int v;

	buf[0] = 0;
	for (v = 0; v < 192 && n + 24 < len; v++)
		if (exp_has(e, v))
			n += snprintf(buf + n, len - n, "%s%s", n ? "|" : "",
				      oname(v, o, sizeof(o)));
}

/* Compares an outcome with the prediction; false (and a failure) if not in it. */
static bool check(struct ctx *c, const char *what, const struct fz_exp *e, int got)
{
	char want[256], g[32];

	if (exp_has(e, got))
		return true;
	exp_str(e, want, sizeof(want));
	fail(c, "errno", "%s: got %s, expected %s", what, oname(got, g, sizeof(g)), want);
	return false;
}

static void count_outcome(struct ctx *c, int which, int v)
{
	__atomic_add_fetch(&c->sh->res.outc[which][v >= 0 && v < 127 ? v : 127], 1,
			   __ATOMIC_RELAXED);
}

static void count_vev(struct ctx *c, int which)
{
	__atomic_add_fetch(&c->sh->res.vev[which], 1, __ATOMIC_RELAXED);
}

/* ---- addresses ---- */

static uint8_t *slot_addr(struct ctx *c, int dev, int reg)
{
	return c->arena + ((size_t)(dev * FZ_MAX_REG + reg) * FZ_SLOT_PG) * PG;
}

static size_t arena_size(void)
{
	return (size_t)FZ_MAX_DEVS * FZ_MAX_REG * FZ_SLOT_PG * PG;
}

/* ---- files ---- */

static int fill_file(int fd, uint32_t fid, int npages)
{
	uint8_t buf[4096];
	int i;

	if (ftruncate(fd, (off_t)npages * PG))
		return -errno;
	for (i = 0; i < npages; i++) {
		fz_page_fill(buf, fid, i, 1);
		if (pwrite(fd, buf, PG, (off_t)i * PG) != (ssize_t)PG)
			return -EIO;
	}
	return 0;
}

/* A tmpfs (or ext4) file, unlinked at once; reopened with @reopen if >= 0. */
static int temp_file(struct ctx *c, const char *dir, uint32_t fid, int npages, int reopen)
{
	char path[256];
	int fd, fd2;

	snprintf(path, sizeof(path), "%s/vs-fuzz-%d-%x", dir, getpid(), fid);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fill_file(fd, fid, npages)) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	if (reopen >= 0) {
		fd2 = open(path, reopen | O_CLOEXEC);
		close(fd);
		fd = fd2;
	}
	unlink(path);
	return fd;
}

static void file_close(struct ctx *c, int slot)
{
	if (c->filefd[slot] >= 0 && c->filefd[slot] != CLOSED_FD)
		close(c->filefd[slot]);
	c->filefd[slot] = -1;
	mdl_file_close(c->m, slot);
}

/* A udmabuf of a filled memfd (which it keeps alive), or -1. */
static int udmabuf_file(uint32_t fid, int npages)
{
	struct udmabuf_create uc = { .flags = UDMABUF_FLAGS_CLOEXEC };
	int dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC), memfd, fd = -1;

	if (dev < 0)
		return -1;
	memfd = memfd_create("vs-fuzz-udmabuf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd >= 0 && !fill_file(memfd, fid, npages) &&
	    !fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		uc.memfd = memfd;
		uc.size = (uint64_t)npages * PG;
		fd = ioctl(dev, UDMABUF_CREATE, &uc);
	}
	if (memfd >= 0)
		close(memfd);
	close(dev);
	return fd;
}

static void op_file_new(struct ctx *c, const struct fz_op *op)
{
	struct model *m = c->m;
	int slot = op->file, kind = op->var, npages = op->a, objn, fd = -1, pfd[2];
	uint32_t fid;
	char name[64];

	if (slot >= FZ_MAX_FILES || kind <= FK_NONE || kind >= FK_ANON)
		return;
	if (npages < 1 || npages > FZ_FILE_MAXPG)
		npages = 16;
	file_close(c, slot);
	/* Kinds this kernel lacks are their nearest kind that it has. */
	if (kind == FK_HUGE && !c->o->kb.hugetlb)
		kind = FK_TMPFS;
	if (kind == FK_UDMABUF && !c->o->kb.udmabuf)
		kind = FK_MEMFD;
	objn = mdl_file_new(m, slot, kind, npages);
	fid = objn >= 0 ? m->obj[objn].fid : 0;
	switch (kind) {
	case FK_MEMFD:
		fd = memfd_create("vs-fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd >= 0 && fill_file(fd, fid, npages)) {
			close(fd);
			fd = -1;
		}
		break;
	case FK_SHM:
		snprintf(name, sizeof(name), "/vs-fuzz-%d-%x", getpid(), fid);
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			shm_unlink(name);
			if (fill_file(fd, fid, npages)) {
				close(fd);
				fd = -1;
			}
		}
		break;
	case FK_TMPFS:
		fd = temp_file(c, "/tmp", fid, npages, -1);
		break;
	case FK_EXT4:
		fd = temp_file(c, c->o->ext4_dir ? c->o->ext4_dir : "/tmp", fid, npages, -1);
		break;
	case FK_RDONLY:
		fd = temp_file(c, "/tmp", fid, npages, O_RDONLY);
		break;
	case FK_WRONLY:
		fd = temp_file(c, "/tmp", fid, npages, O_WRONLY);
		break;
	case FK_ZERO:
		fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
		break;
	case FK_PIPE:
		if (!pipe2(pfd, O_CLOEXEC)) {
			close(pfd[1]);
			fd = pfd[0];
		}
		break;
	case FK_DEVICE:
		m->file_devfd[slot] = op->a % FZ_MAX_FDS;
		return;
	case FK_CLOSED:
		c->filefd[slot] = CLOSED_FD;
		return;
	case FK_OPATH:
		fd = open("/dev/shm", O_PATH | O_CLOEXEC);
		break;
	case FK_HUGE:
		/* Sized, never filled: no huge page is taken (MAP refuses it). */
		snprintf(name, sizeof(name), "/dev/hugepages/vs-fuzz-%d-%x", getpid(), fid);
		fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			unlink(name);
			if (ftruncate(fd, (off_t)FZ_HUGE_PG * PG)) {
				close(fd);
				fd = -1;
			}
		}
		break;
	case FK_UDMABUF:
		fd = udmabuf_file(fid, npages);
		break;
	}
	if (fd < 0) {
		fail(c, "setup", "creating a file of kind %d failed: %s", kind, strerror(errno));
		return;
	}
	c->filefd[slot] = fd;
}

/* The fd a MAP passes for file slot @slot. */
static int backend_fd(struct ctx *c, int slot)
{
	if (slot >= FZ_MAX_FILES)
		return -1;
	if (c->m->file_kind[slot] == FK_DEVICE) {
		int s = c->m->file_devfd[slot];

		return c->fdnum[s];
	}
	return c->filefd[slot];
}

/* ---- netlink ids ---- */

static void learn_nl_id(struct ctx *c, int dev)
{
	struct fz_nl_dev devs[64];
	uint32_t best = 0;
	int n, i, k;

	n = fz_nl_devs(devs, 64);
	for (i = 0; i < n; i++) {
		bool known = false;

		for (k = 0; k < c->m->ndevs; k++)
			known |= k != dev && c->m->dev[k].alive && c->m->dev[k].nl_id == devs[i].id;
		if (!known && devs[i].id > best)
			best = devs[i].id;
	}
	c->m->dev[dev].nl_id = best;
}

/* ---- reads and writes of region pages ---- */

static int probe(void *dst, const void *src)
{
	int sig = vs_probe_copy(dst, src, PG);

	return sig ? FZ_SIG(sig) : 0;
}

static void append_vmas(struct ctx *c, int dev, uint32_t shmid);

static void check_read(struct ctx *c, int dev, int reg, int p, const char *what)
{
	uint8_t buf[4096];
	uint32_t fid, page, gen;
	bool unknown;
	struct fz_exp e;
	char why[256];
	int want, got;

	/* A missing page of a userfaultfd range would wait for a reader: none. */
	if (mdl_any_flag(c->m, dev, reg, p, 1, PGF_UFFD))
		return;
	want = mdl_read(c->m, dev, reg, p, &fid, &page, &gen, &unknown);
	got = probe(buf, slot_addr(c, dev, reg) + (size_t)p * PG);
	if (want < 0)
		return;
	exp_only(&e, want);
	if (!check(c, what, &e, got)) {
		if (c->m->dev[dev].reg[reg].size)
			append_vmas(c, dev, c->m->dev[dev].reg[reg].shmid);
		return;
	}
	if (got || unknown)
		return;
	if (fz_page_cmp(buf, fid, page, gen, why, sizeof(why)))
		fail(c, "content", "%s: page %d of region %d of device %d: %s", what,
		     p - FZ_GUARD, reg, dev, why);
}

/* ---- ioctls ---- */

static void build_config(struct ctx *c, const struct fz_op *op, struct vhost_shmem_config *cfg)
{
	int i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < FZ_MAX_REG; i++) {
		uint32_t s = (op->shmid + i) % VHOST_SHMEM_MAX_REGIONS;

		cfg->regions[s].size = (uint64_t)(op->a >> (8 * i) & 0xff) * PG;
		cfg->regions[s].flags = op->b >> (8 * i) & 0xff;
		if (!cfg->regions[s].size)
			cfg->regions[s].flags = 0;
	}
	switch (op->var) {
	case CFG_UNALIGNED:
		cfg->regions[op->shmid % 256].size += 1;
		break;
	case CFG_BAD_FLAGS:
		cfg->regions[op->shmid % 256].flags = 2;
		break;
	case CFG_FLAGS_NO_SIZE:
		cfg->regions[(op->shmid + 3) % 256].size = 0;
		cfg->regions[(op->shmid + 3) % 256].flags = 1;
		break;
	case CFG_PADDING:
		cfg->padding = 1;
		break;
	case CFG_REG_PADDING:
		cfg->regions[op->shmid % 256].padding = 1;
		break;
	case CFG_EMPTY:
		memset(cfg, 0, sizeof(*cfg));
		break;
	case CFG_TOO_BIG:
		cfg->regions[op->shmid % 256].size = c->m->max_region_size + PG;
		break;
	}
	cfg->nregions = 7;	/* ignored on SET */
}

static void op_get_config(struct ctx *c, int dev, int fd)
{
	static __thread struct vhost_shmem_config cfg;
	struct m_dev *d = &c->m->dev[dev];
	struct fz_exp e;
	uint32_t n = 0;
	int i, got;

	memset(&cfg, 0xa5, sizeof(cfg));
	got = ioctl(fd, VHOST_SHMEM_GET_CONFIG, &cfg) ? errno : 0;
	exp_only(&e, d->configured ? 0 : EBADFD);
	if (!check(c, "GET_CONFIG", &e, got) || got)
		return;
	for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++) {
		struct m_reg *r = mdl_reg_by_shmid(d, i, NULL);
		uint64_t size = r ? r->size : 0;
		uint32_t flags = r ? r->flags : 0;

		n += !!size;
		if (cfg.regions[i].size != size || cfg.regions[i].flags != flags ||
		    cfg.regions[i].padding) {
			fail(c, "model", "GET_CONFIG: shmid %d size %llu flags %#x padding %u, expected %llu %#x 0",
			     i, (unsigned long long)cfg.regions[i].size, cfg.regions[i].flags,
			     cfg.regions[i].padding, (unsigned long long)size, flags);
			return;
		}
	}
	if (cfg.nregions != n || cfg.padding)
		fail(c, "model", "GET_CONFIG: nregions %u padding %u, expected %u 0",
		     cfg.nregions, cfg.padding, n);
}

static void op_region_info(struct ctx *c, int dev, int fd, uint32_t shmid)
{
	struct m_dev *d = &c->m->dev[dev];
	struct vhost_shmem_region_info info;
	struct m_reg *r;
	struct fz_exp e;
	int got;

	got = -vs_region_info(fd, shmid, &info);
	exp_only(&e, !d->configured ? EBADFD : shmid >= VHOST_SHMEM_MAX_REGIONS ? EBADSLT : 0);
	if (!check(c, "GET_REGION_INFO", &e, got) || got)
		return;
	r = mdl_reg_by_shmid(d, shmid, NULL);
	if (info.size != (r ? r->size : 0) || info.flags != (r ? r->flags : 0) ||
	    info.offset != (uint64_t)shmid << 40 ||
	    info.addr != (r && r->mmapped ? r->addr : 0))
		fail(c, "model", "GET_REGION_INFO %u: size %llu flags %#x offset %#llx addr %#llx, expected %llu %#x %#llx %#llx",
		     shmid, (unsigned long long)info.size, info.flags,
		     (unsigned long long)info.offset, (unsigned long long)info.addr,
		     (unsigned long long)(r ? r->size : 0), r ? r->flags : 0,
		     (unsigned long long)shmid << 40,
		     (unsigned long long)(r && r->mmapped ? r->addr : 0));
}

static void op_stats(struct ctx *c, int dev, int fd)
{
	struct m_dev *d = &c->m->dev[dev];
	struct vhost_shmem_stats st;
	struct fz_exp e;
	int got;

	got = -vs_stats(fd, &st);
	exp_only(&e, 0);
	if (!check(c, "GET_STATS", &e, got))
		return;
	if (st.mappings != d->mappings || st.mapped_bytes != d->bytes || st.maps != d->maps ||
	    st.unmaps != d->unmaps || st.failures != d->failures ||
	    st.max_mappings != c->m->max_mappings)
		fail(c, "stats", "GET_STATS: mappings %llu bytes %llu maps %llu unmaps %llu failures %llu max %llu; model %llu %llu %llu %llu %llu %llu",
		     (unsigned long long)st.mappings, (unsigned long long)st.mapped_bytes,
		     (unsigned long long)st.maps, (unsigned long long)st.unmaps,
		     (unsigned long long)st.failures, (unsigned long long)st.max_mappings,
		     (unsigned long long)d->mappings, (unsigned long long)d->bytes,
		     (unsigned long long)d->maps, (unsigned long long)d->unmaps,
		     (unsigned long long)d->failures, (unsigned long long)c->m->max_mappings);
}

static void map_args(const struct fz_op *op, struct fz_map_args *a)
{
	*a = (struct fz_map_args){
		.shmid = op->shmid, .file = op->file, .fd_off = op->a,
		.shm_off = op->b, .len = op->c, .flags = op->d, .padding = op->d,
	};
}

/*
 * Appends the owner's vmas over the region of @shmid (page numbers from the
 * region's start) to the failure message: what the kernel really had.
 */
static void append_vmas(struct ctx *c, int dev, uint32_t shmid)
{
	struct fz_result *r = &c->sh->res;
	unsigned long s, e, lo, hi;
	char line[512], name[256];
	size_t n = strlen(r->msg);
	FILE *f;
	int ri;

	if (c->m->in_child || !mdl_reg_by_shmid(&c->m->dev[dev], shmid, &ri))
		return;
	lo = (unsigned long)slot_addr(c, dev, ri);
	hi = lo + FZ_SLOT_PG * PG;
	f = fopen("/proc/self/maps", "re");
	n += snprintf(r->msg + n, sizeof(r->msg) - n, "; vmas (region pages):");
	while (f && fgets(line, sizeof(line), f) && n < sizeof(r->msg) - 64) {
		char prot[8];

		name[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &s, &e, prot, name) < 3 ||
		    e <= lo || s >= hi)
			continue;
		n += snprintf(r->msg + n, sizeof(r->msg) - n, " [%ld,%ld) %s %s",
			      (long)(s - lo) / (long)PG - FZ_GUARD,
			      (long)(e - lo) / (long)PG - FZ_GUARD, prot,
			      strrchr(name, '/') ? strrchr(name, '/') + 1 : name[0] ? name : "anon");
	}
	if (f)
		fclose(f);
}

static const char *const fk_names[FK_NKINDS] = {
	"none", "memfd", "POSIX shm", "tmpfs", "ext4", "/dev/zero", "pipe", "device",
	"closed fd", "O_PATH", "O_RDONLY tmpfs", "O_WRONLY tmpfs", "hugetlbfs", "udmabuf",
	"anon",
};

/* "MAP" with the arguments and the backend, for messages. */
static const char *map_what(struct ctx *c, const char *name, const struct fz_op *op,
			    char *buf, size_t len)
{
	int slot = op->file % FZ_MAX_FILES, objn = c->m->file_obj[slot];

	snprintf(buf, len, "%s shmid %u fd_offset %#llx shm_offset %#llx len %#llx flags %#llx of file slot %d (%s%s)",
		 name, op->shmid, (unsigned long long)op->a, (unsigned long long)op->b,
		 (unsigned long long)op->c, (unsigned long long)op->d, slot,
		 fk_names[c->m->file_kind[slot]],
		 objn >= 0 && c->m->obj[objn].seals ? ", sealed" : "");
	return buf;
}

/* After a MAP or UNMAP succeeded: the first page shows the new state. */
static void check_first_page(struct ctx *c, int dev, const struct fz_map_args *a,
			     const char *what)
{
	int ri;

	if (c->m->in_child || c->m->dev[dev].owner != OWN_RUNNER ||
	    !mdl_reg_by_shmid(&c->m->dev[dev], a->shmid, &ri))
		return;
	check_read(c, dev, ri, FZ_GUARD + a->shm_off / PG, what);
}

/*
 * Does a MAP of (@dev, @shmid) go through a viewer: an attached one, or the
 * one dying during this op? Such MAPs are counted apart (OUTC_VMAP).
 */
static bool map_has_viewers(const struct ctx *c, int dev, uint32_t shmid)
{
	const struct m_view *w;
	int v;

	for (v = 0; v < FZ_MAX_VIEWERS; v++) {
		w = &c->m->view[v];
		if ((w->st == VW_LIVE || (w->st == VW_GONE && c->dying == v)) &&
		    w->dev == dev && c->m->dev[dev].reg[w->reg].shmid == shmid)
			return true;
	}
	return false;
}

/* The model's MAP and UNMAP, with what the device's viewers change. */
static void predict_map(struct model *m, int dev, const struct fz_map_args *a,
			struct fz_exp *e)
{
	mdl_map(m, dev, a, e);
	mdl_view_map(m, dev, a, e);
}

static void predict_unmap(struct model *m, int dev, const struct fz_map_args *a,
			  struct fz_exp *e)
{
	mdl_unmap(m, dev, a, e);
	mdl_view_unmap(m, dev, a, e);
}

static void op_map(struct ctx *c, int dev, int fd, const struct fz_op *op)
{
	char what[192];
	struct fz_map_args a;
	struct fz_exp e;
	int got;

	map_args(op, &a);
	predict_map(c->m, dev, &a, &e);
	got = -vs_map(fd, a.shmid, backend_fd(c, a.file), a.fd_off, a.shm_off, a.len, a.flags);
	if (!check(c, map_what(c, "MAP", op, what, sizeof(what)), &e, got)) {
		append_vmas(c, dev, a.shmid);
		return;
	}
	count_outcome(c, OUTC_MAP, got);
	if (map_has_viewers(c, dev, a.shmid))
		count_outcome(c, OUTC_VMAP, got);
	mdl_map_done(c->m, dev, &a, got);
	mdl_view_map_done(c->m, dev, got);
	/* At vm.max_map_count nothing is lost: the hole is still there. */
	if (!got || got == ENOMEM)
		check_first_page(c, dev, &a, got ? "read after MAP's ENOMEM" : "read after MAP");
}

static void op_unmap(struct ctx *c, int dev, int fd, const struct fz_op *op)
{
	struct vhost_shmem_unmap u;
	struct fz_map_args a;
	struct fz_exp e;
	int got;

	map_args(op, &a);
	a.flags = 0;
	predict_unmap(c->m, dev, &a, &e);
	u = (struct vhost_shmem_unmap){ .shmid = a.shmid, .padding = (uint32_t)a.padding,
					.shm_offset = a.shm_off, .len = a.len };
	got = ioctl(fd, VHOST_SHMEM_UNMAP, &u) ? errno : 0;
	if (!check(c, "UNMAP", &e, got)) {
		append_vmas(c, dev, a.shmid);
		return;
	}
	count_outcome(c, OUTC_UNMAP, got);
	mdl_unmap_done(c->m, dev, &a, got);
	if (!got || got == ENOMEM)
		check_first_page(c, dev, &a, got ? "read after UNMAP's ENOMEM" : "read after UNMAP");
}

/*
 * Is every operation of the batch at @i predicted with one outcome? Runs
 * the prediction on a copy of the model.
 */
static bool batch_unambiguous(struct ctx *c, int dev, int i, int n)
{
	static struct model copy;
	struct model *real = c->m;
	bool ok = true;
	int k, r, outcomes;

	copy = *real;
	c->m = &copy;
	for (k = 0; k < n && ok; k++) {
		const struct fz_op *bo = &c->p->ops[i + 1 + k];
		struct fz_map_args a;
		struct fz_exp e;

		map_args(bo, &a);
		if (bo->kind == K_BOP_MAP)
			predict_map(c->m, dev, &a, &e);
		else if (bo->kind == K_BOP_UNMAP)
			predict_unmap(c->m, dev, &a, &e);
		else
			continue;
		for (r = 0, outcomes = 0; r < 192; r++)
			outcomes += exp_has(&e, r);
		for (r = 0; r < 192 && !exp_has(&e, r); r++)
			;
		ok = outcomes == 1;
		if (bo->kind == K_BOP_MAP)
			mdl_map_done(c->m, dev, &a, r);
		else
			mdl_unmap_done(c->m, dev, &a, r);
	}
	c->m = real;
	return ok;
}

/* The batch: the K_BOP_* ops right after op @i. Returns how many there were. */
static int op_batch(struct ctx *c, int dev, int fd, int i)
{
	const struct fz_op *op = &c->p->ops[i];
	struct vhost_shmem_op *ops;
	struct vhost_shmem_batch b;
	struct fz_exp e;
	size_t bytes = 65 * sizeof(*ops);
	int n = 0, k, got, want = 0, var = op->var;

	while (i + 1 + n < c->p->nops && n < VHOST_SHMEM_BATCH_MAX &&
	       c->p->ops[i + 1 + n].kind >= K_BOP_MAP && c->p->ops[i + 1 + n].kind <= K_BOP_BAD)
		n++;
	if (!n && op->var != BV_ZERO && op->var != BV_TOO_MANY)
		return 0;
	/*
	 * Never mmap(NULL) here: the kernel would happily put it in a gap the
	 * program made in a region.
	 */
	ops = c->bops;
	mprotect(ops, bytes, PROT_READ | PROT_WRITE);
	memset(ops, 0, bytes);
	if (op->var == BV_RESULT_RO && (c->m->maxmap_low || !batch_unambiguous(c, dev, i, n)))
		var = BV_OK;	/* results must be read back to follow the model */
	for (k = 0; k < n; k++) {
		const struct fz_op *bo = &c->p->ops[i + 1 + k];

		if (bo->kind == K_BOP_MAP)
			ops[k] = vs_op_map(bo->shmid, backend_fd(c, bo->file), bo->a, bo->b,
					   bo->c, bo->d);
		else if (bo->kind == K_BOP_UNMAP)
			ops[k] = vs_op_unmap(bo->shmid, bo->b, bo->c);
		else
			ops[k] = (struct vhost_shmem_op){ .op = (uint32_t)bo->a, .result = 1 };
		if (bo->kind == K_BOP_UNMAP)
			ops[k].unmap.padding = (uint32_t)bo->d;
	}
	b = (struct vhost_shmem_batch){ .ops = (uintptr_t)ops, .nops = n };
	switch (var) {
	case BV_ZERO:
		b.nops = 0;
		want = EINVAL;
		break;
	case BV_TOO_MANY:
		b.nops = VHOST_SHMEM_BATCH_MAX + 1;
		want = E2BIG;
		break;
	case BV_PADDING:
		b.padding = 1;
		want = EINVAL;
		break;
	case BV_FAULT:
		b.ops = 8;
		want = EFAULT;
		break;
	case BV_RESULT_RO:
		mprotect(ops, bytes, PROT_READ);
		want = EFAULT;
		break;
	}
	got = ioctl(fd, VHOST_SHMEM_BATCH, &b) ? errno : 0;
	exp_only(&e, want);
	if (!check(c, "BATCH", &e, got) || (want && var != BV_RESULT_RO))
		goto out;
	/* Each operation as if issued alone, in order. */
	for (k = 0; k < n && !failed(c); k++) {
		const struct fz_op *bo = &c->p->ops[i + 1 + k];
		struct fz_map_args a;
		char what[256], name[32];
		int r = -ops[k].result;

		c->cur = i + 1 + k;
		map_args(bo, &a);
		snprintf(name, sizeof(name), "BATCH op %d (%s)", k, fz_kind_name(bo->kind));
		snprintf(what, sizeof(what), "%s", name);
		if (bo->kind == K_BOP_MAP)
			map_what(c, name, bo, what, sizeof(what));
		if (bo->kind == K_BOP_MAP)
			predict_map(c->m, dev, &a, &e);
		else if (bo->kind == K_BOP_UNMAP)
			predict_unmap(c->m, dev, &a, &e);
		else
			exp_only(&e, EOPNOTSUPP);
		if (var == BV_RESULT_RO) {
			/* The results could not be written back: take the prediction. */
			for (r = 0; r < 192 && !exp_has(&e, r); r++)
				;
		} else if (!check(c, what, &e, r)) {
			append_vmas(c, dev, a.shmid);
			break;
		}
		if (bo->kind == K_BOP_MAP) {
			count_outcome(c, OUTC_MAP, r);
			if (map_has_viewers(c, dev, a.shmid))
				count_outcome(c, OUTC_VMAP, r);
			mdl_map_done(c->m, dev, &a, r);
			mdl_view_map_done(c->m, dev, r);
		} else if (bo->kind == K_BOP_UNMAP) {
			count_outcome(c, OUTC_UNMAP, r);
			mdl_unmap_done(c->m, dev, &a, r);
		}
	}
out:
	mprotect(ops, bytes, PROT_READ | PROT_WRITE);
	return n;
}

/* ---- the owner's address space ---- */

static void op_mmap(struct ctx *c, int dev, int fd, const struct fz_op *op)
{
	struct m_dev *d = &c->m->dev[dev];
	uint64_t len = op->a, off = (uint64_t)op->shmid << 40;
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED, ri = 0, got;
	void *want_at = NULL, *p;
	struct fz_exp e, e2;

	switch (op->var) {
	case MM_RO:
		prot = PROT_READ;
		break;
	case MM_PRIVATE:
		flags = MAP_PRIVATE;
		break;
	case MM_BIGGER:
		len += PG;
		break;
	case MM_SMALLER:
		len -= PG;
		break;
	case MM_OFFSET:
		off += PG;
		break;
	}
	mdl_mmap(c->m, dev, op->shmid, len, op->var, &e);
	/* Only where it must succeed: a failed MAP_FIXED leaves a gap. */
	if (exp_has(&e, 0) && mdl_reg_by_shmid(d, op->shmid, &ri)) {
		want_at = slot_addr(c, dev, ri) + FZ_GUARD * PG;
		flags |= MAP_FIXED;
	}
	p = mmap(want_at, len, prot, flags, fd, (off_t)off);
	got = p == MAP_FAILED ? errno : 0;
	if (got && want_at) {
		/* A failed MAP_FIXED may have unmapped the range: reserve it again. */
		mmap(want_at, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
		     MAP_NORESERVE, -1, 0);
		mdl_clobber(c->m, dev, ri, FZ_GUARD, len / PG);
		mdl_mprotect(c->m, dev, ri, FZ_GUARD, len / PG, PROT_NONE, &e2);
	}
	if (!check(c, "mmap region", &e, got)) {
		if (!got)
			munmap(p, len);
		return;
	}
	mdl_mmap_done(c->m, dev, op->shmid, op->var, (uintptr_t)p, got);
	if (!got)
		check_read(c, dev, ri, FZ_GUARD, "read after mmap");
}

static const int madv_codes[MA_NVARS] = {
	MADV_DONTNEED, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK,
};

static const int prots[3] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE };

/* Bit i: no vma maps page i of the @n pages at @at (msync says ENOMEM). */
static uint64_t gone_pages(uint8_t *at, int n)
{
	uint64_t gone = 0;
	int i;

	for (i = 0; i < n && i < 64; i++)
		if (msync(at + (size_t)i * PG, PG, MS_ASYNC) && errno == ENOMEM)
			gone |= 1ULL << i;
	return gone;
}

/* Are all pages of the range in state @st (@is) or none of them (!@is)? */
static bool range_is(const struct model *m, int dev, int reg, int first, int n, int st,
		     bool is)
{
	int p;

	for (p = first; p < first + n; p++)
		if ((m->dev[dev].reg[reg].pg[p].st == st) != is)
			return false;
	return true;
}

/* Registers the range with the runner's userfaultfd (var 0) or closes it (1). */
static void op_uffd(struct ctx *c, int dev, int reg, int first, int n, int var)
{
	struct uffdio_register ur = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_api api = { .api = UFFD_API };
	struct fz_exp e;
	int got;

	if (!c->o->kb.uffd)
		return;
	if (var % 2) {
		if (c->uffd >= 0)
			close(c->uffd);
		c->uffd = -1;
		mdl_uffd_closed(c->m);
		return;
	}
	if (c->uffd < 0) {
		/* No UFFD_FEATURE_EVENT_UNMAP: the runner's own munmap never waits. */
		c->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		if (c->uffd < 0 || ioctl(c->uffd, UFFDIO_API, &api)) {
			fail(c, "setup", "userfaultfd: %s", strerror(errno));
			return;
		}
	}
	ur.range.start = (uintptr_t)(slot_addr(c, dev, reg) + (size_t)first * PG);
	ur.range.len = (uint64_t)n * PG;
	mdl_uffd(c->m, dev, reg, first, n, &e);
	got = ioctl(c->uffd, UFFDIO_REGISTER, &ur) ? errno : 0;
	if (check(c, "UFFDIO_REGISTER", &e, got) && !got)
		mdl_flag_done(c->m, dev, reg, first, n, PGF_UFFD);
}

/* munmap, mprotect, madvise, mremap, clobber, mseal, userfaultfd: pages of a region slot. */
static void op_vm(struct ctx *c, int dev, const struct fz_op *op)
{
	int first = FZ_GUARD + (int)op->a, n = (int)op->b, got, moved = 0;
	uint8_t *base = slot_addr(c, dev, op->reg % FZ_MAX_REG);
	int reg = op->reg % FZ_MAX_REG;
	struct fz_exp e;
	void *at, *r;
	size_t len;

	fz_clamp(&first, &n);
	if (n <= 0)
		return;
	at = base + (size_t)first * PG;
	len = (size_t)n * PG;
	switch (op->kind) {
	case K_MUNMAP:
		if (op->var == 1) {
			got = munmap((uint8_t *)at + 1, len) ? errno : 0;
			exp_only(&e, EINVAL);
			check(c, "munmap (misaligned)", &e, got);
			return;
		}
		got = munmap(at, len) ? errno : 0;
		/* A sealed vma in the range: nothing is unmapped. */
		exp_only(&e, mdl_any_flag(c->m, dev, reg, first, n, PGF_SEALED) ? EPERM : 0);
		if (check(c, "munmap", &e, got) && !got)
			mdl_munmap(c->m, dev, reg, first, n);
		return;
	case K_CLOBBER:
		r = mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0);
		got = r == MAP_FAILED ? errno : 0;
		exp_only(&e, mdl_any_flag(c->m, dev, reg, first, n, PGF_SEALED) ? EPERM : 0);
		if (check(c, "anonymous mmap over the region", &e, got) && !got)
			mdl_clobber(c->m, dev, reg, first, n);
		return;
	case K_MSEAL:
		/* Only vmas of the device: sealed anonymous memory is not its business. */
		if (!c->o->kb.mseal || mdl_any_flag(c->m, dev, reg, first, n, 0xff) ||
		    !range_is(c->m, dev, reg, first, n, PG_FOREIGN, false))
			return;
		mdl_mseal(c->m, dev, reg, first, n, &e);
		got = syscall(__NR_mseal, at, len, 0) ? errno : 0;
		if (check(c, "mseal", &e, got) && !got)
			mdl_flag_done(c->m, dev, reg, first, n, PGF_SEALED);
		return;
	case K_UFFD:
		op_uffd(c, dev, reg, first, n, op->var);
		return;
	case K_MPROTECT:
		mdl_mprotect(c->m, dev, reg, first, n, prots[op->var % 3], &e);
		got = mprotect(at, len, prots[op->var % 3]) ? errno : 0;
		check(c, "mprotect", &e, got);
		return;
	case K_MADVISE:
		mdl_madvise(c->m, dev, reg, first, n, op->var % MA_NVARS, &e);
		got = madvise(at, len, madv_codes[op->var % MA_NVARS]) ? errno : 0;
		check(c, "madvise", &e, got);
		return;
	case K_MREMAP: {
		int var = op->var % MR_NVARS, extra = (int)(op->c % 4) + 1;

		if (var == MR_SHRINK) {
			if (n < 2)
				return;
			extra = extra % n;
			if (!extra)
				extra = 1;
		}
		mdl_mremap(c->m, dev, reg, first, n, var, &e);
		if (var == MR_MOVE)
			r = mremap(at, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, c->scratch);
		else if (var == MR_GROW)
			r = mremap(at, len, len + (size_t)extra * PG, MREMAP_MAYMOVE);
		else
			r = mremap(at, len, len - (size_t)extra * PG, 0);
		got = r == MAP_FAILED ? errno : 0;
		/*
		 * Give the scratch area back its reservation, whatever moved
		 * there (6.17+ may move some vmas of a range, then refuse).
		 */
		if (var == MR_MOVE)
			mmap(c->scratch, FZ_SLOT_PG * PG, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
		else if (!got && var == MR_GROW)
			munmap(r, len + (size_t)extra * PG);
		if (!check(c, "mremap", &e, got))
			return;
		if (!got && var == MR_GROW && r == at)
			moved = extra;	/* grown in place: the executor unmapped it */
		mdl_mremap_done(c->m, dev, reg, first, n + moved, var,
				gone_pages(at, n + moved), got);
		return;
	}
	}
}

static void op_write(struct ctx *c, int dev, const struct fz_op *op)
{
	int p = FZ_GUARD + (int)op->a, n = 1, objn, page, want, got;
	int reg = op->reg % FZ_MAX_REG;
	uint8_t buf[4096];
	uint32_t gen;
	struct fz_exp e;

	fz_clamp(&p, &n);
	if (n != 1 || mdl_any_flag(c->m, dev, reg, p, 1, PGF_UFFD))
		return;
	want = mdl_write(c->m, dev, reg, p, &objn, &page);
	if (want < 0)
		return;
	gen = ++c->m->gen_ctr;
	if (objn >= 0)
		fz_page_fill(buf, c->m->obj[objn].fid, page, gen);
	else
		memset(buf, 0x5a, sizeof(buf));
	got = probe(slot_addr(c, dev, reg) + (size_t)p * PG, buf);
	exp_only(&e, want);
	if (check(c, "write to the region", &e, got) && !got && objn >= 0)
		c->m->obj[objn].gen[page] = gen;
}

/* ---- files ---- */

static void op_pwrite(struct ctx *c, const struct fz_op *op)
{
	int slot = op->file % FZ_MAX_FILES, page = (int)op->a, want, got, objn;
	uint8_t buf[4096];
	struct fz_exp e;
	uint32_t gen;

	want = mdl_pwrite(c->m, slot, page);
	if (want < 0 || c->filefd[slot] < 0)
		return;
	objn = c->m->file_obj[slot];
	gen = ++c->m->gen_ctr;
	fz_page_fill(buf, c->m->obj[objn].fid, page, gen);
	got = pwrite(c->filefd[slot], buf, PG, (off_t)page * PG) == (ssize_t)PG ? 0 : errno;
	exp_only(&e, want);
	if (check(c, "pwrite to the backend", &e, got) && !got)
		c->m->obj[objn].gen[page] = gen;
}

static void op_seal(struct ctx *c, const struct fz_op *op)
{
	int slot = op->file % FZ_MAX_FILES, which, got;
	struct fz_exp e;

	if (c->m->file_kind[slot] != FK_MEMFD || c->filefd[slot] < 0)
		return;
	which = op->var ? F_SEAL_FUTURE_WRITE : F_SEAL_WRITE;
	mdl_seal(c->m, slot, which, &e);
	mdl_view_seal(c->m, slot, which, &e);
	got = fcntl(c->filefd[slot], F_ADD_SEALS, which) ? errno : 0;
	if (check(c, which == F_SEAL_WRITE ? "F_SEAL_WRITE" : "F_SEAL_FUTURE_WRITE", &e, got))
		mdl_seal_done(c->m, slot, which, got);
}

/* ---- netlink ---- */

static int cmp_map(const void *a, const void *b)
{
	const struct fz_nl_map *x = a, *y = b;

	if (x->shmid != y->shmid)
		return x->shmid < y->shmid ? -1 : 1;
	return x->shm_offset < y->shm_offset ? -1 : x->shm_offset > y->shm_offset;
}

/*
 * Errors a dump may give while other processes run: the device went away
 * (ENODEV), or its mutex stayed busy for ~100 ms (EBUSY), or we were
 * killed (EINTR).
 */
static bool nl_busy_ok(struct ctx *c, int n)
{
	return c->m->chaos && (n == -ENODEV || n == -EBUSY || n == -EINTR);
}

static void op_nl(struct ctx *c, int dev, const struct fz_op *op)
{
	struct m_dev *d = dev >= 0 ? &c->m->dev[dev] : NULL;
	struct fz_nl_map got[64], want[64];
	struct fz_nl_dev devs[64];
	int n, i, nw = 0;

	switch (op->var % 3) {
	case 0:
		n = fz_nl_devs(devs, 64);
		if (n < 0 && !nl_busy_ok(c, n)) {
			fail(c, "netlink", "dev-get dump: %s", strerror(-n));
			return;
		}
		if (n < 0 || c->m->chaos)
			return;
		/*
		 * A device whose last fd went may stay listed a little: a
		 * viewer's view file holds it until the viewer's put, which
		 * runs after the reap and an SRCU grace period (view.c), and a
		 * kthread's fput() is delayed. Up to 5 s for that, not more.
		 */
		for (i = 0; c->views_used && n > mdl_alive(c->m) && i < 500; i++) {
			usleep(10000);
			n = fz_nl_devs(devs, 64);
			if (n < 0 && !nl_busy_ok(c, n)) {
				fail(c, "netlink", "dev-get dump: %s", strerror(-n));
				return;
			}
			if (n < 0)
				return;
		}
		if (n != mdl_alive(c->m)) {
			fail(c, "netlink", "dev-get dump lists %d devices, the program has %d", n,
			     mdl_alive(c->m));
			return;
		}
		for (i = 0; d && i < n; i++) {
			if (devs[i].id != d->nl_id)
				continue;
			if (devs[i].mappings != d->mappings || devs[i].maps != d->maps ||
			    devs[i].unmaps != d->unmaps || devs[i].failures != d->failures ||
			    (d->owner == OWN_RUNNER && devs[i].owner_pid != (uint32_t)getpid() &&
			     !c->m->in_child))
				fail(c, "netlink", "dev-get of device %u: mappings %llu maps %llu unmaps %llu failures %llu owner %u; model %llu %llu %llu %llu",
				     devs[i].id, (unsigned long long)devs[i].mappings,
				     (unsigned long long)devs[i].maps,
				     (unsigned long long)devs[i].unmaps,
				     (unsigned long long)devs[i].failures, devs[i].owner_pid,
				     (unsigned long long)d->mappings, (unsigned long long)d->maps,
				     (unsigned long long)d->unmaps, (unsigned long long)d->failures);
		}
		return;
	case 1:
		n = fz_nl_regions(d ? d->nl_id : 0);
		if (n < 0 && !nl_busy_ok(c, n))
			fail(c, "netlink", "region-get dump: %s", strerror(-n));
		return;
	case 2:
		if (!d && !c->m->chaos)
			return;
		n = fz_nl_maps(d && !c->m->chaos ? d->nl_id : 0, got, 64);
		if (n < 0) {
			if (!nl_busy_ok(c, n))
				fail(c, "netlink", "map-get dump: %s", strerror(-n));
			return;
		}
		if (c->m->chaos || n > 63)
			return;
		for (i = 0; i < c->m->nmaps && nw < 64; i++) {
			const struct m_map *mp = &c->m->map[i];

			if (!mp->live || mp->dev != dev)
				continue;
			want[nw++] = (struct fz_nl_map){
				.dev_id = d->nl_id, .shmid = d->reg[mp->reg].shmid,
				.shm_offset = mp->off, .len = mp->len, .fd_offset = mp->fd_off,
				.flags = mp->rw ? VHOST_SHMEM_MAP_F_RW : 0,
			};
		}
		qsort(want, nw, sizeof(want[0]), cmp_map);
		if (n != nw) {
			fail(c, "netlink", "map-get of device %u lists %d mappings, model %d",
			     d->nl_id, n, nw);
			return;
		}
		for (i = 0; i < n; i++) {
			if (memcmp(&got[i], &want[i], sizeof(got[i])))
				fail(c, "netlink", "map-get of device %u, entry %d: shmid %u offset %#llx len %#llx fd_offset %#llx flags %llu; model %u %#llx %#llx %#llx %llu",
				     d->nl_id, i, got[i].shmid,
				     (unsigned long long)got[i].shm_offset,
				     (unsigned long long)got[i].len,
				     (unsigned long long)got[i].fd_offset,
				     (unsigned long long)got[i].flags, want[i].shmid,
				     (unsigned long long)want[i].shm_offset,
				     (unsigned long long)want[i].len,
				     (unsigned long long)want[i].fd_offset,
				     (unsigned long long)want[i].flags);
		}
		return;
	}
}

/* delete_module must fail while a device exists; if not, load it back. */
static void op_unload(struct ctx *c)
{
	int ret, err;

	if (!c->m->chaos && !mdl_alive(c->m))
		return;
	ret = syscall(SYS_delete_module, "vhost_shmem", O_NONBLOCK);
	err = errno;
	if (ret == 0) {
		fail(c, "unload", "delete_module succeeded while a device existed");
		if (c->o->ko) {
			int fd = open(c->o->ko, O_RDONLY | O_CLOEXEC);

			syscall(SYS_finit_module, fd, "", 0);
			close(fd);
		}
		return;
	}
	if (err != EBUSY && err != EAGAIN)
		fail(c, "unload", "delete_module with a device open: %s, expected EBUSY or EAGAIN",
		     strerror(err));
}

/* ---- solo: one op ---- */

static void run_ops(struct ctx *c, int from, int to);

/* A dead owner leaves its table to a work item: wait for it, then it is exact. */
static void wait_drained(struct ctx *c, int dev)
{
	struct vhost_shmem_stats st;
	int fd = -1, i;

	for (i = 0; i < FZ_MAX_FDS; i++)
		if (c->m->fd_dev[0][i] == dev)
			fd = c->fdnum[i];
	for (i = 0; fd >= 0 && i < 200; i++) {
		if (vs_stats(fd, &st) || !st.mappings)
			break;
		usleep(10000);
	}
	if (fd >= 0 && i == 200)
		fail(c, "drain", "device %d: %llu mappings still listed 2 s after its owner died",
		     dev, (unsigned long long)st.mappings);
	mdl_drained(c->m, dev);
}

static int op_fork(struct ctx *c, int i)
{
	int j, status, d, owned[FZ_MAX_DEVS] = {};
	pid_t pid;

	for (j = i + 1; j < c->p->nops && c->p->ops[j].kind != K_FORK_END; j++)
		;
	for (d = 0; d < c->m->ndevs; d++)
		owned[d] = c->m->dev[d].owner;
	mdl_fork(c->m);
	pid = fork();
	if (pid < 0) {
		c->m->in_child = false;
		fail(c, "setup", "fork: %s", strerror(errno));
		return j;
	}
	if (pid == 0) {
		run_ops(c, i + 1, j);
		__atomic_add_fetch(&c->sh->res.ops, c->ops, __ATOMIC_RELAXED);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) && !failed(c))
		fail(c, "crash", "fork child died of signal %d", WTERMSIG(status));
	mdl_child_exit(c->m);
	for (d = 0; d < c->m->ndevs; d++)
		if (owned[d] == OWN_NONE && c->m->dev[d].owner == OWN_DEAD)
			wait_drained(c, d);
	return j;
}

static void op_open(struct ctx *c, const struct fz_op *op)
{
	int slot = op->fd % FZ_MAX_FDS, fd, got;
	struct fz_exp e;

	if (c->m->ndevs == FZ_MAX_DEVS)
		return;
	if (c->fdnum[slot] >= 0) {
		close(c->fdnum[slot]);
		c->fdnum[slot] = -1;
		mdl_close(c->m, slot);
	}
	fd = open(VS_DEV_PATH, (op->var ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	got = fd < 0 ? errno : 0;
	exp_only(&e, 0);
	if (!check(c, "open " VS_DEV_PATH, &e, got))
		return;
	c->fdnum[slot] = fd;
	mdl_open(c->m, slot, op->var, 0);
	if (!c->m->in_child)
		learn_nl_id(c, mdl_dev(c->m, slot));
}

/*
 * vm.max_map_count near the runner's vma count, from 2 below it to 5 above
 * (var 0), or back (var 1).
 * Needs root; the supervisor puts it back after every program.
 */
static void op_maxmap(struct ctx *c, const struct fz_op *op)
{
	long v = c->o->kb.max_map_count;
	int n;

	if (v <= 0)
		return;
	if (op->var % 2 == 0) {
		n = vs_maps_total();
		if (n <= 0)
			return;
		v = n - 2 + op->a % 8;	/* from below the count (/proc lists [vsyscall]) */
		c->sh->res.maxmap = 1;	/* before: the supervisor puts it back */
	}
	if (vs_write_long("/proc/sys/vm/max_map_count", v))
		return;
	c->m->maxmap_low = op->var % 2 == 0;
}

/*
 * While vm.max_map_count is low, only the device's MAP and UNMAP may hit it
 * (predicted: ENOMEM, nothing changed); what else would split a vma of the
 * runner, or release a device, waits for the limit to come back.
 */
static bool maxmap_unsafe(int kind)
{
	switch (kind) {
	case K_OPEN: case K_CLOSE: case K_DUP: case K_MMAP: case K_MUNMAP: case K_MPROTECT:
	case K_MADVISE: case K_MREMAP: case K_CLOBBER: case K_RESET: case K_FORK:
	case K_MSEAL: case K_UFFD: case K_FILE_NEW: case K_FILE_CLOSE:
		return true;
	}
	return false;
}

/* ---- views (solo): viewer processes, see views.c ---- */

static bool any_view(const struct model *m)
{
	int v;

	for (v = 0; v < FZ_MAX_VIEWERS; v++)
		if (m->view[v].st == VW_LIVE || m->view[v].st == VW_ZEROS)
			return true;
	return false;
}

/* Appends viewer @v's vmas over its view (page numbers) to the failure. */
static void append_view_vmas(struct ctx *c, int v)
{
	const struct fz_vsnap *sn = &c->vsnap[v];
	unsigned long s, e, lo = sn->addr, hi = lo + (unsigned long)sn->npages * PG;
	struct fz_result *r = &c->sh->res;
	char path[64], line[512], name[256], prot[8];
	size_t n = strlen(r->msg);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", c->vp[v].pid);
	f = fopen(path, "re");
	n += snprintf(r->msg + n, sizeof(r->msg) - n, "; viewer's vmas (view pages):");
	while (f && fgets(line, sizeof(line), f) && n < sizeof(r->msg) - 64) {
		name[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &s, &e, prot, name) < 3 ||
		    e <= lo || s >= hi)
			continue;
		n += snprintf(r->msg + n, sizeof(r->msg) - n, " [%ld,%ld) %s %s",
			      (long)(s - lo) / (long)PG, (long)(e - lo) / (long)PG, prot,
			      strrchr(name, '/') ? strrchr(name, '/') + 1 : name[0] ? name : "anon");
	}
	if (f)
		fclose(f);
}

static void view_detach(struct ctx *c, int v)
{
	long ret = fz_view_cmd(&c->vp[v], VC_DETACH, 0, 0, -1);

	if (ret)
		fail(c, "view", "viewer %d: munmap of its view: %ld", v, ret);
	c->m->view[v].st = VW_NONE;
}

/*
 * Viewer @v's view does not match its model after a failed rollback
 * (m_view.rb_gaps) may have happened. As documented, such a viewer is
 * detached: if netlink no longer lists it, it is done with (it munmaps
 * its view) and true is returned. Otherwise the reason goes to m->why.
 */
static bool view_rolled_back(struct ctx *c, int v)
{
	struct m_view *w = &c->m->view[v];
	const struct m_dev *d = &c->m->dev[w->dev];
	int attached;

	if (!w->rb_gaps || w->st != VW_LIVE)
		return false;
	attached = fz_nl_viewer(d->nl_id, d->reg[w->reg].shmid, (uint32_t)c->vp[v].pid);
	if (attached) {
		snprintf(c->m->why, sizeof(c->m->why),
			 "; after a failed rollback, and netlink lists it (%d): an attached viewer with a gap",
			 attached);
		return false;
	}
	count_vev(c, VEV_GAP_DETACHED);
	view_detach(c, v);
	return true;
}

/*
 * Compares viewer @v's view with the model. Quietly (@what NULL): only
 * says whether it matches.
 */
static bool view_matches(struct ctx *c, int v, const char *what)
{
	const struct m_view *w = &c->m->view[v];
	const struct fz_vsnap *sn = &c->vsnap[v];
	int p, want, npages = c->m->dev[w->dev].reg[w->reg].size / PG;
	uint32_t fid, page, gen;
	bool unknown;
	char why[256], g[32], x[32];
	long ret;

	ret = fz_view_cmd(&c->vp[v], VC_SNAP, 0, 0, -1);
	if (ret || sn->npages != npages) {
		if (what)
			fail(c, "view", "%s: viewer %d: snapshot: %ld, %d pages (region: %d)",
			     what, v, ret, sn->npages, npages);
		return false;
	}
	if (what)
		count_vev(c, VEV_SNAP);
	for (p = 0; p < npages; p++) {
		want = mdl_view_read(c->m, v, p, &fid, &page, &gen, &unknown);
		if (sn->outcome[p] == want && !want && !unknown &&
		    !fz_page_cmp(sn->page[p], fid, page, gen, why, sizeof(why)))
			continue;
		if (sn->outcome[p] == want && (want || unknown))
			continue;
		/* A gap where the model has a hole: after UNMAPs at a low limit. */
		if (sn->outcome[p] == FZ_SIG(SIGSEGV) && w->map[p] < 0 && w->gaps)
			continue;
		if (!what)
			return false;
		c->m->why[0] = 0;
		if (view_rolled_back(c, v))
			return true;
		if (sn->outcome[p] != want)
			fail(c, "view", "%s: viewer %d (%s view, %s) page %d: got %s, expected %s%s",
			     what, v, w->rw ? "read-write" : "read-only",
			     w->st == VW_LIVE ? "attached" : "dropped", p,
			     oname(sn->outcome[p], g, sizeof(g)), oname(want, x, sizeof(x)),
			     c->m->why);
		else
			fail(c, "view", "%s: viewer %d (%s view, %s) page %d: %s%s", what, v,
			     w->rw ? "read-write" : "read-only",
			     w->st == VW_LIVE ? "attached" : "dropped", p, why, c->m->why);
		append_view_vmas(c, v);
		return false;
	}
	return true;
}

/* The viewer told to die during the last op is gone: reaped. */
static void end_dying(struct ctx *c)
{
	if (c->dying < 0)
		return;
	fz_view_reap(&c->vp[c->dying]);
	c->m->view[c->dying].tight = 0;
	c->m->view[c->dying].dying = false;
	c->dying = -1;
}

/*
 * Ops that change nothing a viewer sees (they read, or only ask): the
 * views are checked after the next op that may (copying every view after
 * every op halves the ops per second).
 */
static bool views_unchanged(int kind)
{
	switch (kind) {
	case K_NOP: case K_READ: case K_GET_CONFIG: case K_REGION_INFO:
	case K_GET_STATS: case K_NL_DUMP: case K_CHILD_READ: case K_SLEEP:
		return true;
	}
	return false;
}

/* After each op of the runner: every view is what the model says. */
static void views_after(struct ctx *c, const struct fz_op *op)
{
	char what[64];
	int v;

	/* Not after the op that told it to die: after the next one. */
	if (op->kind != K_VIEW_DROP)
		end_dying(c);
	mdl_view_sync(c->m);
	if (views_unchanged(op->kind))
		return;
	snprintf(what, sizeof(what), "after %s", fz_kind_name(op->kind));
	for (v = 0; v < FZ_MAX_VIEWERS && !failed(c); v++)
		if (c->m->view[v].st == VW_LIVE || c->m->view[v].st == VW_ZEROS)
			view_matches(c, v, what);
}

/* K_VIEW: GET_VIEW through the device fd, then the viewer mmaps it. */
static void op_view(struct ctx *c, int dev, int fd, const struct fz_op *op)
{
	int v = op->a % FZ_MAX_VIEWERS, want, got, vfd, ri, prot;
	struct vhost_shmem_view_req r = { .shmid = op->shmid, .flags = op->var & 1 };
	bool rw = op->var & 1;
	struct m_view *w = &c->m->view[v];
	struct m_reg *reg;
	struct fz_exp e;
	long ret;

	if (c->dying == v)
		end_dying(c);
	if (!c->vp[v].pid)
		return;
	if (w->st == VW_LIVE || w->st == VW_ZEROS)
		view_detach(c, v);
	want = mdl_get_view(c->m, dev, op->shmid, rw);
	vfd = ioctl(fd, VHOST_SHMEM_GET_VIEW, &r);
	got = vfd < 0 ? errno : 0;
	exp_only(&e, want);
	if (!check(c, "GET_VIEW", &e, got))
		return;
	count_outcome(c, OUTC_GET_VIEW, got);
	if (got)
		return;
	c->views_used = true;
	reg = mdl_reg_by_shmid(&c->m->dev[dev], op->shmid, &ri);
	prot = PROT_READ | (rw ? PROT_WRITE : 0);
	ret = fz_view_cmd(&c->vp[v], VC_ATTACH, prot, reg->size / PG, vfd);
	close(vfd);
	exp_only(&e, c->m->dev[dev].owner == OWN_DEAD ? ESRCH : 0);
	/*
	 * vm.max_map_count is global: lowered to the runner's vmas
	 * (K_MAXMAP), a viewer with as many vmas has no room for its view.
	 */
	if (c->m->maxmap_low)
		exp_add(&e, ENOMEM);
	got = ret < 0 ? (int)-ret : (int)ret;
	if (!check(c, "mmap of a view", &e, got))
		return;
	count_outcome(c, OUTC_VIEW_MMAP, got);
	if (got)
		return;
	mdl_view_sync(c->m);
	mdl_view_attach(c->m, v, dev, ri, rw);
	if (mdl_view_drops(c->m, dev, ri, rw)) {
		w->st = VW_ZEROS;
	} else if (w->tight || c->m->maxmap_low) {
		/*
		 * Population may hit its vm.max_map_count (its own, or the
		 * runner's lowered one): then it is dropped (netlink does not
		 * list it) and its view reads zeros (documented: no gap).
		 */
		ret = fz_nl_viewer(c->m->dev[dev].nl_id, op->shmid, (uint32_t)c->vp[v].pid);
		if (ret < 0)
			fail(c, "setup", "viewer %d: netlink region dump: %ld", v, ret);
		if (!ret) {
			w->st = VW_ZEROS;
			w->rb_gaps = true;
		}
	}
	count_vev(c, w->st == VW_ZEROS ? VEV_DROPPED : VEV_ATTACHED);
}

static void op_view_drop(struct ctx *c, const struct fz_op *op)
{
	int v = op->a % FZ_MAX_VIEWERS;
	struct m_view *w = &c->m->view[v];

	if (c->dying == v)
		end_dying(c);
	if (!c->vp[v].pid)
		return;
	switch (op->var % 3) {
	case 0:
		if (w->st == VW_LIVE || w->st == VW_ZEROS) {
			view_detach(c, v);
			count_vev(c, VEV_MUNMAP);
		}
		return;
	case 1:
		fz_view_kill(&c->vp[v]);
		w->st = VW_GONE;
		w->tight = 0;
		count_vev(c, VEV_KILL);
		return;
	default:
		/* Its death races with the next op (a MAP, mostly). */
		end_dying(c);
		fz_view_cmd(&c->vp[v], VC_DIE, 0, (long)(op->b % 2000), -1);
		w->st = VW_GONE;
		w->dying = true;
		c->dying = v;
		count_vev(c, VEV_KILL_MID);
		return;
	}
}

static bool any_tight(const struct model *m)
{
	int v;

	for (v = 0; v < FZ_MAX_VIEWERS; v++)
		if (m->view[v].tight)
			return true;
	return false;
}

/*
 * vm.max_map_count is back: no viewer is near it any more. A viewer put
 * near it deflates (it would be over the next lowered limit otherwise).
 */
static void clear_tight(struct ctx *c)
{
	long ret;
	int v;

	for (v = 0; v < FZ_MAX_VIEWERS; v++) {
		if (c->m->view[v].tight && c->vp[v].pid && c->dying != v) {
			ret = fz_view_cmd(&c->vp[v], VC_LOOSE, 0, 0, -1);
			if (ret)
				fail(c, "setup", "viewer %d: loose: %ld", v, ret);
		}
		c->m->view[v].tight = 0;
	}
}

/*
 * Viewer @a near its vm.max_map_count (var 0): the limit goes down to the
 * runner's vmas + 64 (the owner keeps room for a few MAPs; while it is
 * low, the rules of K_MAXMAP hold) and the viewer inflates its own vmas to
 * b below it. Var 1: back (the limit, and the viewer's vmas).
 */
static void op_view_tight(struct ctx *c, const struct fz_op *op)
{
	int v = op->a % FZ_MAX_VIEWERS, n;
	long ret;

	if (c->dying == v)
		end_dying(c);
	if (!c->vp[v].pid || c->o->kb.max_map_count <= 0)
		return;
	if (op->var % 2) {
		if (!c->m->view[v].tight)
			return;
		ret = 0;
		if (!vs_write_long("/proc/sys/vm/max_map_count", c->o->kb.max_map_count))
			c->m->maxmap_low = false;
		clear_tight(c);
	} else {
		if (c->m->maxmap_low || (n = vs_maps_total()) <= 0)
			return;
		c->sh->res.maxmap = 1;	/* before: the supervisor puts it back */
		if (vs_write_long("/proc/sys/vm/max_map_count", n + 64))
			return;
		c->m->maxmap_low = true;
		ret = fz_view_cmd(&c->vp[v], VC_TIGHT, 0, n + 64 - op->b % 4, -1);
		c->m->view[v].tight = ret > 0;
		if (ret > 0)
			count_vev(c, VEV_TIGHT);
		ret = ret > 0 ? 0 : ret;
	}
	if (ret)
		fail(c, "setup", "viewer %d: %s: %ld", v, op->var % 2 ? "loose" : "tight", ret);
}

/*
 * While a view holds a device, closing its fds does not release it (the
 * view file references the device file, and the device drops a detached
 * viewer asynchronously): ops that could drop a device's last fd wait for
 * a program without views.
 */
static bool views_unsafe(int kind)
{
	switch (kind) {
	case K_OPEN: case K_CLOSE: case K_DUP: case K_FILE_CLOSE: case K_FILE_NEW:
	case K_UNLOAD:
		return true;
	}
	return false;
}


static void run_op(struct ctx *c, int *ip)
{
	const struct fz_op *op = &c->p->ops[*ip];
	int slot = op->fd % FZ_MAX_FDS, dev = mdl_dev(c->m, slot), fd = c->fdnum[slot], got;
	struct vhost_shmem_config cfg;
	struct fz_exp e;

	c->cur = *ip;
	c->sh->res.cur = *ip;
	/* Ops of a child whose K_FORK was dropped (reduction) are not run. */
	if (op->proc && !c->m->in_child)
		return;
	/* Not run, not counted as run. */
	if (!c->m->in_child && any_view(c->m) && views_unsafe(op->kind)) {
		count_vev(c, VEV_SKIPPED);
		return;
	}
	c->ops++;
	if (c->m->maxmap_low && maxmap_unsafe(op->kind))
		return;
	switch (op->kind) {
	case K_MAXMAP:
		/* A viewer near the limit would be over a lowered one. */
		if (c->m->in_child || (op->var % 2 == 0 && any_tight(c->m)))
			return;
		op_maxmap(c, op);
		if (op->var % 2)
			clear_tight(c);
		return;
	case K_VIEW_DROP:
		if (!c->m->in_child && !c->m->chaos)
			op_view_drop(c, op);
		return;
	case K_VIEW_TIGHT:
		if (!c->m->in_child && !c->m->chaos)
			op_view_tight(c, op);
		return;
	case K_OPEN:
		op_open(c, op);
		return;
	case K_FILE_NEW:
		if (!c->m->in_child)
			op_file_new(c, op);
		return;
	case K_FILE_CLOSE:
		if (!c->m->in_child)
			file_close(c, op->file % FZ_MAX_FILES);
		return;
	case K_PWRITE:
		op_pwrite(c, op);
		return;
	case K_SEAL:
		op_seal(c, op);
		return;
	case K_FORK:
		if (!c->m->in_child)
			*ip = op_fork(c, *ip);
		return;
	case K_UNLOAD:
		op_unload(c);
		return;
	case K_NL_DUMP:
		if (!c->m->in_child)
			op_nl(c, dev, op);
		return;
	case K_EXIT:
		if (c->m->in_child) {
			__atomic_add_fetch(&c->sh->res.ops, c->ops, __ATOMIC_RELAXED);
			_exit(0);
		}
		*ip = c->p->nops;
		return;
	}
	if (dev < 0)
		return;		/* the op needs a device fd */
	switch (op->kind) {
	case K_CLOSE:
		got = close(fd) ? errno : 0;
		c->fdnum[slot] = -1;
		exp_only(&e, 0);
		if (check(c, "close", &e, got))
			mdl_close(c->m, slot);
		return;
	case K_DUP: {
		int to = op->a % FZ_MAX_FDS, nfd;

		if (to == slot)
			return;
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (nfd < 0) {
			fail(c, "setup", "dup: %s", strerror(errno));
			return;
		}
		if (c->fdnum[to] >= 0)
			close(c->fdnum[to]);
		c->fdnum[to] = nfd;
		mdl_dup(c->m, slot, to);
		return;
	}
	case K_SET_OWNER:
		mdl_set_owner(c->m, slot, &e);
		got = ioctl(fd, VHOST_SHMEM_SET_OWNER) ? errno : 0;
		if (check(c, "SET_OWNER", &e, got))
			mdl_set_owner_done(c->m, slot, got);
		return;
	case K_SET_CONFIG:
		build_config(c, op, &cfg);
		mdl_set_config(c->m, slot, &cfg, &e);
		got = ioctl(fd, VHOST_SHMEM_SET_CONFIG, &cfg) ? errno : 0;
		if (check(c, "SET_CONFIG", &e, got))
			mdl_set_config_done(c->m, slot, op->shmid % VHOST_SHMEM_MAX_REGIONS, &cfg, got);
		return;
	case K_GET_CONFIG:
		op_get_config(c, dev, fd);
		return;
	case K_REGION_INFO:
		op_region_info(c, dev, fd, op->shmid);
		return;
	case K_GET_STATS:
		op_stats(c, dev, fd);
		return;
	case K_MAP:
		op_map(c, dev, fd, op);
		return;
	case K_UNMAP:
		op_unmap(c, dev, fd, op);
		return;
	case K_RESET:
		mdl_reset(c->m, dev, &e);
		got = ioctl(fd, VHOST_SHMEM_RESET) ? errno : 0;
		/* Every view of the device is emptied, also when it is EBUSY. */
		if (!got || got == EBUSY)
			c->m->views_reset = dev + 1;
		if (check(c, "RESET", &e, got)) {
			count_outcome(c, OUTC_RESET, got);
			mdl_reset_done(c->m, dev, got);
		}
		return;
	case K_BATCH:
		*ip += op_batch(c, dev, fd, *ip);
		return;
	case K_VIEW:
		if (!c->m->in_child && !c->m->chaos)
			op_view(c, dev, fd, op);
		return;
	case K_CHILD_READ: {
		int p = FZ_GUARD + (int)op->a, n = 1, reg = op->reg % FZ_MAX_REG, want, gotr;
		uint32_t fid, page, gen;
		uint8_t buf[4096];
		bool unknown;
		char why[256];

		fz_clamp(&p, &n);
		if (!c->m->in_child || n != 1)
			return;
		want = mdl_child_read(c->m, dev, reg, p, &fid, &page, &gen, &unknown);
		gotr = probe(buf, slot_addr(c, dev, reg) + (size_t)p * PG);
		exp_only(&e, want);
		if (check(c, "child read of the parent's region", &e, gotr) && !gotr &&
		    !unknown && fz_page_cmp(buf, fid, page, gen, why, sizeof(why)))
			fail(c, "content", "child read of page %d of region %d: %s",
			     p - FZ_GUARD, reg, why);
		return;
	}
	}
	/* The rest acts on the owner's address space: the runner, as owner. */
	if (c->m->in_child)
		return;
	switch (op->kind) {
	case K_MMAP:
		op_mmap(c, dev, fd, op);
		return;
	case K_MUNMAP: case K_MPROTECT: case K_MADVISE: case K_MREMAP: case K_CLOBBER:
	case K_MSEAL: case K_UFFD:
		op_vm(c, dev, op);
		return;
	case K_READ: {
		int p = FZ_GUARD + (int)op->a, n = 1;

		fz_clamp(&p, &n);
		if (n == 1)
			check_read(c, dev, op->reg % FZ_MAX_REG, p, "read of the region");
		return;
	}
	case K_WRITE:
		op_write(c, dev, op);
		return;
	}
}

static void run_ops(struct ctx *c, int from, int to)
{
	int i;

	for (i = from; i < to && !failed(c); i++) {
		const struct fz_op *op = &c->p->ops[i];

		run_op(c, &i);
		if (!c->vsnap || failed(c))
			continue;
		/* A fork child's ops change the views too; the runner checks. */
		if (c->m->in_child)
			mdl_view_sync(c->m);
		else
			views_after(c, op);
	}
}

/*
 * End of a solo program: close everything; with no mapping left anywhere,
 * every memfd must take F_SEAL_WRITE (nothing kept it writably mapped).
 */
static void solo_cleanup(struct ctx *c)
{
	int i, got;

	for (i = 0; i < FZ_MAX_FDS; i++) {
		if (c->fdnum[i] >= 0)
			close(c->fdnum[i]);
		c->fdnum[i] = -1;
	}
	if (c->uffd >= 0)
		close(c->uffd);
	/* Sealed vmas stay until the runner exits, and what they map. */
	munmap(c->arena, arena_size());
	for (i = 0; i < FZ_MAX_FILES && !failed(c) && !c->m->sealed; i++) {
		if (c->m->file_kind[i] != FK_MEMFD || c->filefd[i] < 0)
			continue;
		got = fcntl(c->filefd[i], F_ADD_SEALS, F_SEAL_WRITE) ? errno : 0;
		/*
		 * A device its views held is released by the reaper, soon:
		 * 10 s is only for a leak (the count never given back).
		 */
		for (int k = 0; got == EBUSY && c->views_used && k < 1000; k++) {
			usleep(10000);
			got = fcntl(c->filefd[i], F_ADD_SEALS, F_SEAL_WRITE) ? errno : 0;
		}
		if (got)
			fail(c, "leak", "after closing every device, F_SEAL_WRITE on memfd slot %d: %s (a writable mapping count was not given back)",
			     i, strerror(got));
	}
	for (i = 0; i < FZ_MAX_FILES; i++)
		file_close(c, i);
}

static int ctx_init(struct ctx *c, const struct fz_prog *p, const struct fz_opts *o,
		    struct shared *sh)
{
	long v;

	memset(c, 0, sizeof(*c));
	c->p = p;
	c->o = o;
	c->sh = sh;
	c->m = &sh->m;
	memset(c->fdnum, 0xff, sizeof(c->fdnum));
	memset(c->filefd, 0xff, sizeof(c->filefd));
	mdl_init(c->m, (uint32_t)(p->seed & 0xffffff));
	c->m->chaos = p->mode == FZ_CHAOS;
	c->m->ext4_punch = true;
	c->m->kb = o->kb;
	c->uffd = -1;
	c->dying = -1;
	c->m->avoid = o->avoid;
	if (!vs_read_long(VS_PARAM_DIR "/max_mappings", &v))
		c->m->max_mappings = v;
	if (!vs_read_long(VS_PARAM_DIR "/max_region_size", &v))
		c->m->max_region_size = v;
	c->arena = mmap(NULL, arena_size(), PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	c->scratch = mmap(NULL, FZ_SLOT_PG * PG, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	c->bops = mmap(NULL, 65 * sizeof(*c->bops), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c->arena == MAP_FAILED || c->scratch == MAP_FAILED || c->bops == MAP_FAILED)
		return -ENOMEM;
	return 0;
}

/* Does the program view a region at all? Then it gets viewer processes. */
static bool has_views(const struct fz_prog *p)
{
	int i;

	for (i = 0; i < p->nops; i++)
		if (p->ops[i].kind == K_VIEW)
			return true;
	return false;
}

static void run_solo(struct ctx *c)
{
	if (has_views(c->p)) {
		c->vsnap = mmap(NULL, FZ_MAX_VIEWERS * sizeof(*c->vsnap), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (c->vsnap == MAP_FAILED || fz_views_start(c->vp, c->vsnap)) {
			fail(c, "setup", "viewer processes: %s", strerror(errno));
			return;
		}
	}
	run_ops(c, 0, c->p->nops);
	__atomic_add_fetch(&c->sh->res.ops, c->ops, __ATOMIC_RELAXED);
	/* Views hold their devices: they go first. */
	fz_views_stop(c->vp);
	if (c->cur >= 0 && c->p->nops && c->p->ops[c->p->nops - 1].kind == K_EXIT && !failed(c))
		_exit(0);	/* the kernel cleans up */
	if (!failed(c))
		solo_cleanup(c);
}

/* ---- chaos ---- */

/*
 * What each call may return under any interleaving (the errno tables of
 * the documentation; EINTR wherever a request waits for the device; EBADF
 * and ENOTTY when another thread closed and reused the fd slot).
 */
static const int e_map[] = { 0, EINVAL, EOPNOTSUPP, EBADSLT, ERANGE, EOVERFLOW, EBADF,
	ELOOP, ENODEV, EACCES, EEXIST, ENXIO, EXDEV, ENOSPC, ENOMEM, EBUSY, ESRCH, EBADFD,
	EPERM, EAGAIN, EINTR, ENOTTY, -1 };
static const int e_unmap[] = { 0, EINVAL, EBADSLT, ERANGE, ESRCH, ENXIO, ENOENT, EXDEV,
	EPERM, EBUSY, ENOMEM, EAGAIN, EBADFD, EINTR, EBADF, ENOTTY, -1 };
static const int e_reset[] = { 0, EBADFD, EBUSY, EINTR, EBADF, ENOTTY, -1 };
static const int e_batch[] = { 0, EINVAL, E2BIG, EFAULT, ENOMEM, EBADF, ENOTTY, -1 };
static const int e_owner[] = { 0, EBUSY, EINTR, ENOMEM, EBADF, ENOTTY, -1 };
static const int e_config[] = { 0, EINVAL, E2BIG, EBADFD, EPERM, EBUSY, EINTR, EBADF,
	ENOTTY, -1 };
static const int e_get[] = { 0, EBADFD, EBADSLT, ENOMEM, EINTR, EBADF, ENOTTY, -1 };
static const int e_mmap[] = { 0, EPERM, EBADFD, EINVAL, EBUSY, EACCES, EBADF, ENODEV,
	ENOMEM, -1 };
static const int e_vm[] = { 0, EINVAL, ENOMEM, EACCES, EFAULT, ENODEV, EPERM, EAGAIN,
	EOPNOTSUPP, EBUSY, -1 };

static void exp_list(struct fz_exp *e, const int *l)
{
	exp_clear(e);
	for (; *l >= 0; l++)
		exp_add(e, *l);
}

/* One chaos op in process c->proc: only what holds under any interleaving. */
static void chaos_op(struct ctx *c, const struct fz_op *op, const struct fz_op *next, int nnext)
{
	int slot = op->fd % FZ_MAX_FDS, fd = c->fdnum[slot], got, k;
	struct vhost_shmem_config cfg;
	struct vhost_shmem_op bops[8];
	struct vhost_shmem_batch b;
	struct vhost_shmem_stats st;
	struct vhost_shmem_region_info info;
	uint8_t buf[4096];
	char why[256];
	struct fz_exp e;
	void *p, *at;
	int first, n, reg = op->reg % FZ_MAX_REG;

	__atomic_add_fetch(&c->sh->res.ops, 1, __ATOMIC_RELAXED);
	switch (op->kind) {
	case K_SET_OWNER:
		exp_list(&e, e_owner);
		check(c, "SET_OWNER", &e, ioctl(fd, VHOST_SHMEM_SET_OWNER) ? errno : 0);
		return;
	case K_SET_CONFIG:
		build_config(c, op, &cfg);
		exp_list(&e, e_config);
		check(c, "SET_CONFIG", &e, ioctl(fd, VHOST_SHMEM_SET_CONFIG, &cfg) ? errno : 0);
		return;
	case K_GET_CONFIG:
		exp_list(&e, e_get);
		check(c, "GET_CONFIG", &e, ioctl(fd, VHOST_SHMEM_GET_CONFIG, &cfg) ? errno : 0);
		return;
	case K_REGION_INFO:
		exp_list(&e, e_get);
		check(c, "GET_REGION_INFO", &e, -vs_region_info(fd, op->shmid, &info));
		return;
	case K_GET_STATS:
		exp_list(&e, e_get);
		got = -vs_stats(fd, &st);
		if (check(c, "GET_STATS", &e, got) && !got &&
		    (st.mappings > st.max_mappings || st.mapped_bytes < st.mappings * PG))
			fail(c, "stats", "GET_STATS: %llu mappings, %llu bytes, limit %llu",
			     (unsigned long long)st.mappings, (unsigned long long)st.mapped_bytes,
			     (unsigned long long)st.max_mappings);
		return;
	case K_MAP:
		exp_list(&e, e_map);
		check(c, "MAP", &e, -vs_map(fd, op->shmid, backend_fd(c, op->file), op->a, op->b,
					     op->c, op->d));
		return;
	case K_UNMAP:
		exp_list(&e, e_unmap);
		check(c, "UNMAP", &e, -vs_unmap(fd, op->shmid, op->b, op->c));
		return;
	case K_RESET:
		exp_list(&e, e_reset);
		check(c, "RESET", &e, ioctl(fd, VHOST_SHMEM_RESET) ? errno : 0);
		return;
	case K_BATCH:
		for (k = 0; k < nnext && k < 8 && next[k].kind >= K_BOP_MAP &&
		     next[k].kind <= K_BOP_BAD; k++) {
			const struct fz_op *bo = &next[k];

			if (bo->kind == K_BOP_MAP)
				bops[k] = vs_op_map(bo->shmid, backend_fd(c, bo->file), bo->a,
						    bo->b, bo->c, bo->d);
			else if (bo->kind == K_BOP_UNMAP)
				bops[k] = vs_op_unmap(bo->shmid, bo->b, bo->c);
			else
				bops[k] = (struct vhost_shmem_op){ .op = (uint32_t)bo->a };
		}
		if (!k)
			return;
		b = (struct vhost_shmem_batch){ .ops = (uintptr_t)bops, .nops = k };
		exp_list(&e, e_batch);
		got = ioctl(fd, VHOST_SHMEM_BATCH, &b) ? errno : 0;
		if (!check(c, "BATCH", &e, got) || got)
			return;
		for (n = 0; n < k; n++) {
			if (bops[n].op == VHOST_SHMEM_OP_MAP)
				exp_list(&e, e_map);
			else if (bops[n].op == VHOST_SHMEM_OP_UNMAP)
				exp_list(&e, e_unmap);
			else
				exp_only(&e, EOPNOTSUPP);
			if (!check(c, "BATCH op", &e, -bops[n].result))
				return;
		}
		return;
	case K_OPEN:
		got = open(VS_DEV_PATH, O_RDWR | O_CLOEXEC);
		if (got < 0) {
			fail(c, "errno", "open: %s", strerror(errno));
			return;
		}
		/* Threads share the table: swap atomically, close the old one. */
		got = __atomic_exchange_n(&c->fdnum[slot], got, __ATOMIC_SEQ_CST);
		if (got >= 0)
			close(got);
		return;
	case K_CLOSE:
		got = __atomic_exchange_n(&c->fdnum[slot], -1, __ATOMIC_SEQ_CST);
		if (got >= 0)
			close(got);
		return;
	case K_NL_DUMP:
		op_nl(c, -1, op);
		return;
	case K_SLEEP:
		usleep(op->a % 20000);
		return;
	case K_EXIT:
		_exit(0);
	case K_FORK: {
		pid_t pid = fork();

		if (pid == 0) {
			/* The child: a few more ops of this list, then it exits. */
			for (k = 0; k < nnext && k < 8 && !failed(c); k++)
				if (next[k].kind != K_FORK && next[k].kind != K_EXIT)
					chaos_op(c, &next[k], next + k + 1, nnext - k - 1);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return;
	}
	}
	/* Memory ops on this process's view of the region slots. */
	first = FZ_GUARD + (int)op->a;
	n = op->kind == K_READ ? 1 : (int)op->b;
	fz_clamp(&first, &n);
	if (n <= 0)
		return;
	at = slot_addr(c, slot % 2, reg) + (size_t)first * PG;
	exp_list(&e, e_vm);
	switch (op->kind) {
	case K_MMAP:
		at = slot_addr(c, slot % 2, reg) + FZ_GUARD * PG;
		p = mmap(at, op->a, op->var == MM_RO ? PROT_READ : PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, (off_t)((uint64_t)op->shmid << 40));
		exp_list(&e, e_mmap);
		check(c, "mmap region", &e, p == MAP_FAILED ? errno : 0);
		return;
	case K_MUNMAP:
		check(c, "munmap", &e, munmap(at, (size_t)n * PG) ? errno : 0);
		return;
	case K_MPROTECT:
		check(c, "mprotect", &e, mprotect(at, (size_t)n * PG, prots[op->var % 3]) ? errno : 0);
		return;
	case K_MADVISE:
		check(c, "madvise", &e, madvise(at, (size_t)n * PG,
						madv_codes[op->var % MA_NVARS]) ? errno : 0);
		return;
	case K_MREMAP:
		p = mremap(at, (size_t)n * PG, (size_t)(n + 1) * PG, MREMAP_MAYMOVE);
		if (p != MAP_FAILED)
			munmap(p, (size_t)(n + 1) * PG);
		return;
	case K_CLOBBER:
		mmap(at, (size_t)n * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		return;
	case K_READ:
		got = probe(buf, at);
		if (got && got != FZ_SIG(SIGBUS) && got != FZ_SIG(SIGSEGV))
			fail(c, "content", "read of the region: signal %d", got - 100);
		else if (!got && !fz_page_valid(buf, why, sizeof(why)))
			fail(c, "content", "read of page %d of region %d: %s", first - FZ_GUARD,
			     reg, why);
		return;
	}
}

struct thr {
	struct ctx *c;
	int t;
	pthread_t tid;
};

static void *chaos_thread(void *arg)
{
	struct thr *th = arg;
	struct ctx *c = th->c;
	int i;

	for (i = 0; i < c->p->nops && !failed(c); i++) {
		const struct fz_op *op = &c->p->ops[i];

		if (op->proc != c->proc || op->thread != th->t ||
		    (op->kind >= K_BOP_MAP && op->kind <= K_BOP_BAD))
			continue;
		c->cur = i;
		chaos_op(c, op, op + 1, c->p->nops - i - 1);
	}
	return NULL;
}

/* Process @proc of a chaos program: its setup, then its threads. */
static void chaos_proc(struct ctx *c, int proc)
{
	struct thr th[FZ_MAX_THREADS];
	int t, i;

	c->proc = proc;
	/* Ops of thread 0 marked setup (var 0xff00) run first, alone. */
	for (i = 0; i < c->p->nops; i++) {
		const struct fz_op *op = &c->p->ops[i];

		if (op->proc == proc && op->thread == 0xff)
			chaos_op(c, op, op + 1, c->p->nops - i - 1);
	}
	atomic_fetch_add(&c->sh->ready, 1);
	while (!atomic_load(&c->sh->go))
		sched_yield();
	for (t = 0; t < c->p->nthreads; t++) {
		th[t] = (struct thr){ .c = c, .t = t };
		if (t && pthread_create(&th[t].tid, NULL, chaos_thread, &th[t]))
			th[t].tid = 0;
	}
	chaos_thread(&th[0]);
	for (t = 1; t < c->p->nthreads; t++)
		if (th[t].tid)
			pthread_join(th[t].tid, NULL);
	_exit(0);
}

static atomic_int dumper_stop;

static void *dumper(void *arg)
{
	struct fz_nl_dev devs[64];
	struct fz_nl_map maps[64];
	struct ctx *c = arg;
	int n;

	while (!atomic_load(&dumper_stop)) {
		n = fz_nl_devs(devs, 64);
		if (n < 0 && n != -EBUSY) {
			fail(c, "netlink", "parallel dev-get dump: %s", strerror(-n));
			break;
		}
		n = fz_nl_maps(0, maps, 64);
		if (n < 0 && n != -ENODEV && n != -EBUSY) {
			fail(c, "netlink", "parallel map-get dump: %s", strerror(-n));
			break;
		}
		__atomic_add_fetch(&c->sh->res.ops, 2, __ATOMIC_RELAXED);
		usleep(2000);
	}
	return NULL;
}

static void run_chaos(struct ctx *c)
{
	struct vhost_shmem_stats st;
	pthread_t dtid;
	bool dumping;
	int i, k, got;
	struct fz_exp e;

	/* The runner's own setup: devices and files everyone inherits. */
	for (i = 0; i < c->p->nops; i++) {
		const struct fz_op *op = &c->p->ops[i];

		if (op->proc != 0xff)
			continue;
		c->cur = i;
		if (op->kind == K_OPEN) {
			c->fdnum[op->fd % FZ_MAX_FDS] = open(VS_DEV_PATH, O_RDWR | O_CLOEXEC);
			mdl_open(c->m, op->fd % FZ_MAX_FDS, false,
				 c->fdnum[op->fd % FZ_MAX_FDS] < 0 ? errno : 0);
		} else if (op->kind == K_FILE_NEW) {
			op_file_new(c, op);
		}
	}
	for (k = 0; k < c->p->nprocs; k++) {
		c->pids[k] = fork();
		if (c->pids[k] == 0)
			chaos_proc(c, k);
	}
	while (atomic_load(&c->sh->ready) < c->p->nprocs && !failed(c))
		usleep(1000);
	atomic_store(&c->sh->go, 1);
	atomic_store(&dumper_stop, 0);
	dumping = !pthread_create(&dtid, NULL, dumper, c);
	/* The runner's ops: kills, unload attempts, pauses. */
	for (i = 0; i < c->p->nops && !failed(c); i++) {
		const struct fz_op *op = &c->p->ops[i];

		if (op->proc != 0xfe)
			continue;
		c->cur = i;
		__atomic_add_fetch(&c->sh->res.ops, 1, __ATOMIC_RELAXED);
		if (op->kind == K_KILL && c->pids[op->a % c->p->nprocs] > 0)
			kill(c->pids[op->a % c->p->nprocs], SIGKILL);
		else if (op->kind == K_UNLOAD)
			op_unload(c);
		else if (op->kind == K_SLEEP)
			usleep(op->a % 50000);
		else if (op->kind == K_NL_DUMP)
			op_nl(c, -1, op);
	}
	for (k = 0; k < c->p->nprocs; k++)
		while (c->pids[k] > 0 && waitpid(c->pids[k], NULL, 0) < 0 && errno == EINTR)
			;
	atomic_store(&dumper_stop, 1);
	if (dumping)
		pthread_join(dtid, NULL);
	/* Everyone is gone, owners too: RESET empties every device. */
	for (k = 0; k < FZ_MAX_FDS && !failed(c); k++) {
		if (c->fdnum[k] < 0)
			continue;
		c->cur = -1;
		exp_list(&e, e_reset);
		got = ioctl(c->fdnum[k], VHOST_SHMEM_RESET) ? errno : 0;
		if (!check(c, "RESET after the program", &e, got) || got)
			continue;
		if (!vs_stats(c->fdnum[k], &st) && (st.mappings || st.mapped_bytes))
			fail(c, "stats", "after RESET with every process gone: %llu mappings, %llu bytes",
			     (unsigned long long)st.mappings, (unsigned long long)st.mapped_bytes);
	}
	for (k = 0; k < FZ_MAX_FDS; k++)
		if (c->fdnum[k] >= 0)
			close(c->fdnum[k]);
	for (k = 0; k < FZ_MAX_FILES; k++)
		file_close(c, k);
}

/* ---- the runner and its supervision ---- */

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	alarmed = 1;
}

int fz_run(const struct fz_prog *p, const struct fz_opts *o, int timeout_s,
	   struct fz_result *r)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct shared *sh;
	struct ctx c;
	int status = 0, ret;
	pid_t pid;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -ENOMEM;
	memset(&sh->res, 0, sizeof(sh->res));
	sh->res.op = -1;
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		if (ctx_init(&c, p, o, sh)) {
			fail(&c, "setup", "runner setup: out of memory");
			_exit(1);
		}
		if (p->mode == FZ_SOLO)
			run_solo(&c);
		else
			run_chaos(&c);
		_exit(failed(&c) ? 1 : 0);
	}
	if (pid < 0) {
		munmap(sh, sizeof(*sh));
		return -errno;
	}
	sh->res.pid = pid;
	sigaction(SIGALRM, &sa, NULL);
	alarmed = 0;
	alarm(timeout_s);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR || alarmed)
			break;
	}
	alarm(0);
	/* K_MAXMAP lowers a global limit: whatever the runner did, undo it. */
	if (sh->res.maxmap && o->kb.max_map_count > 0)
		vs_write_long("/proc/sys/vm/max_map_count", o->kb.max_map_count);
	*r = sh->res;
	if (alarmed) {
		if (!r->failed) {
			r->failed = 1;
			snprintf(r->what, sizeof(r->what), "hang");
			snprintf(r->msg, sizeof(r->msg), "program did not finish in %d s", timeout_s);
		}
		ret = 2;
		goto out;
	}
	if (WIFSIGNALED(status) && !r->failed) {
		r->failed = 1;
		r->ksig = WTERMSIG(status);
		snprintf(r->what, sizeof(r->what), "crash");
		r->op = p->mode == FZ_SOLO ? sh->res.cur : -1;
		snprintf(r->msg, sizeof(r->msg), "runner died of signal %d (%s) during op %d",
			 WTERMSIG(status), strsignal(WTERMSIG(status)), r->op);
	}
	ret = r->failed ? 1 : 0;
out:
	if (ret != 2)
		munmap(sh, sizeof(*sh));
	return ret;
}
