// SPDX-License-Identifier: GPL-2.0
/*
 * Views in the fuzzer: viewer processes and what each must see.
 *
 * A solo runner forks FZ_MAX_VIEWERS viewers before it maps anything (so
 * they inherit no region, mapping or device fd). On K_VIEW the runner asks
 * for a view (VHOST_SHMEM_GET_VIEW) and passes the fd; the viewer mmaps
 * the whole region with it. After every op the runner has each viewer copy
 * its view into shared memory and compares it with the model: each
 * viewer's own page table (struct m_view), which follows the device's
 * table as "Region views" in Documentation/userspace-api/vhost-shmem.rst
 * says.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"
#include "model.h"
#include "vhost_shmem_lib.h"

/* ---- the viewer processes ---- */

struct vstate {
	uint8_t *view;
	long pages;
	uint8_t *inflate;	/* VC_TIGHT: single pages of alternating prot */
	size_t inflate_len;
};

static long v_attach(struct vstate *s, const struct fz_vcmd *c, int fd)
{
	void *p;

	if (fd < 0)
		return -EBADF;
	if (s->view)
		munmap(s->view, s->pages * PG);
	s->view = NULL;
	p = mmap(NULL, c->n * PG, c->prot, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	s->view = p;
	s->pages = c->n;
	return 0;
}

static long v_snap(struct vstate *s, struct fz_vsnap *snap)
{
	long i;

	snap->addr = (uintptr_t)s->view;
	snap->npages = s->view ? (int)s->pages : 0;
	for (i = 0; i < snap->npages; i++) {
		int sig = vs_probe_copy(snap->page[i], s->view + i * PG, PG);

		snap->outcome[i] = sig ? FZ_SIG(sig) : 0;
	}
	return 0;
}

/* Own vmas up to @total: single pages of alternating protection. */
static long v_tight(struct vstate *s, long total)
{
	long have, n, i;

	/* An earlier inflation (the limit went back since): start again. */
	if (s->inflate)
		munmap(s->inflate, s->inflate_len);
	s->inflate = NULL;
	have = vs_maps_total();
	if (have < 0)
		return -EIO;
	n = total - have;
	if (n <= 0)
		return have;
	s->inflate_len = (size_t)(2 * n + 1) * PG;
	s->inflate = mmap(NULL, s->inflate_len, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->inflate == MAP_FAILED) {
		s->inflate = NULL;
		return -errno;
	}
	for (i = 0; i < n; i++)
		if (mprotect(s->inflate + (2 * i + 1) * PG, PG, PROT_READ))
			break;
	return vs_maps_total();
}

static void viewer_main(int sock, struct fz_vsnap *snap)
{
	struct vstate s = { 0 };
	struct fz_vcmd c;
	long ret;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		if (vs_recv_fd(sock, &fd, &c, sizeof(c)) != sizeof(c))
			_exit(0);
		switch (c.op) {
		case VC_ATTACH:
			ret = v_attach(&s, &c, fd);
			fd = -1;
			break;
		case VC_DETACH:
			ret = s.view ? munmap(s.view, s.pages * PG) : 0;
			s.view = NULL;
			break;
		case VC_SNAP:
			ret = v_snap(&s, snap);
			break;
		case VC_TIGHT:
			ret = v_tight(&s, c.n);
			break;
		case VC_LOOSE:
			ret = s.inflate ? munmap(s.inflate, s.inflate_len) : 0;
			s.inflate = NULL;
			break;
		case VC_DIE:
			/* No answer: the runner goes on with its next op. */
			usleep(c.n);
			kill(getpid(), SIGKILL);
			_exit(1);
		default:
			ret = -EINVAL;
		}
		if (fd >= 0)
			close(fd);
		if (send(sock, &ret, sizeof(ret), MSG_NOSIGNAL) != sizeof(ret))
			_exit(0);
	}
}

int fz_views_start(struct fz_vproc *vp, struct fz_vsnap *snap)
{
	int i, sv[2];

	for (i = 0; i < FZ_MAX_VIEWERS; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
			return -errno;
		vp[i].pid = fork();
		if (vp[i].pid < 0) {
			vp[i].pid = 0;
			close(sv[0]);
			close(sv[1]);
			return -errno;
		}
		if (vp[i].pid == 0) {
			close(sv[0]);
			viewer_main(sv[1], &snap[i]);
		}
		close(sv[1]);
		vp[i].sock = sv[0];
	}
	return 0;
}

long fz_view_cmd(struct fz_vproc *v, int op, int prot, long n, int fd)
{
	struct fz_vcmd c = { .op = op, .prot = prot, .n = n };
	long ret;
	int err;

	if (!v->pid)
		return -ESRCH;
	err = vs_send_fd(v->sock, fd, &c, sizeof(c));
	if (err)
		return err;
	if (op == VC_DIE)
		return 0;
	if (recv(v->sock, &ret, sizeof(ret), 0) != sizeof(ret))
		return -EPIPE;
	return ret;
}

void fz_view_reap(struct fz_vproc *v)
{
	if (!v->pid)
		return;
	while (waitpid(v->pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(v->sock);
	v->pid = 0;
}

void fz_view_kill(struct fz_vproc *v)
{
	if (v->pid)
		kill(v->pid, SIGKILL);
	fz_view_reap(v);
}

void fz_views_stop(struct fz_vproc *vp)
{
	int i;

	for (i = 0; i < FZ_MAX_VIEWERS; i++)
		fz_view_kill(&vp[i]);
}

/* ---- the model ---- */

int mdl_get_view(const struct model *m, int dev, uint32_t shmid, bool rw)
{
	const struct m_dev *d = &m->dev[dev];
	int ri;

	if (!d->configured)
		return EBADFD;
	if (shmid >= VHOST_SHMEM_MAX_REGIONS ||
	    !mdl_reg_by_shmid((struct m_dev *)d, shmid, &ri))
		return EBADSLT;
	if (rw && d->rdonly)
		return EACCES;
	return 0;
}

static int map_kind(const struct model *m, const struct m_map *mp)
{
	return mp->obj >= 0 ? m->obj[mp->obj].kind : FK_NONE;
}

/*
 * A mapping a viewer cannot take: a read-write one of a file the module
 * cannot reopen read-only (a dma-buf, /dev/zero's shmem object) in a
 * read-only view (EACCES).
 */
static int view_refuses(int kind, bool map_rw, bool view_rw)
{
	if ((kind == FK_UDMABUF || kind == FK_ZERO || kind == FK_ANON) && map_rw && !view_rw)
		return EACCES;
	return 0;
}

/*
 * A read-write mapping of a memfd sealed against writes since: a
 * read-write viewer would need a new writable mapping of it, which the
 * seal refuses (EPERM), so its population fails.
 */
static bool write_sealed(const struct model *m, const struct m_map *mp, bool view_rw)
{
	return view_rw && mp->rw && map_kind(m, mp) == FK_MEMFD &&
	       (m->obj[mp->obj].seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
}

bool mdl_view_drops(const struct model *m, int dev, int reg, bool rw)
{
	int i;

	for (i = 0; i < m->nmaps; i++) {
		const struct m_map *mp = &m->map[i];

		if (mp->live && mp->dev == dev && mp->reg == reg &&
		    (view_refuses(map_kind(m, mp), mp->rw, rw) || write_sealed(m, mp, rw)))
			return true;
	}
	return false;
}

void mdl_view_attach(struct model *m, int v, int dev, int reg, bool rw)
{
	struct m_view *w = &m->view[v];
	int i, p;

	*w = (struct m_view){ .st = VW_LIVE, .dev = dev, .reg = reg, .rw = rw,
			      .tight = w->tight };
	memset(w->map, 0xff, sizeof(w->map));
	for (i = 0; i < m->nmaps; i++) {
		const struct m_map *mp = &m->map[i];

		if (!mp->live || mp->dev != dev || mp->reg != reg)
			continue;
		for (p = mp->off / PG; p < (int)((mp->off + mp->len) / PG); p++)
			w->map[p] = i;
	}
}

void mdl_view_seal(const struct model *m, int slot, int which, struct fz_exp *e)
{
	int v, p, rec, objn = m->file_obj[slot];

	if (objn < 0 || which != F_SEAL_WRITE || (m->obj[objn].seals & F_SEAL_WRITE))
		return;
	for (v = 0; v < FZ_MAX_VIEWERS; v++) {
		const struct m_view *w = &m->view[v];

		if (!w->rw || (w->st != VW_LIVE && !(w->st == VW_GONE && w->dying)))
			continue;
		for (p = 0; p < FZ_REG_MAXPG; p++) {
			rec = w->map[p];
			if (rec < 0 || m->map[rec].obj != objn || !m->map[rec].rw)
				continue;
			if (w->st == VW_LIVE)
				exp_only(e, EBUSY);
			else
				exp_add(e, EBUSY);
			break;
		}
	}
}

void mdl_view_map(const struct model *m, int dev, const struct fz_map_args *a,
		  struct fz_exp *e)
{
	const struct m_dev *d = &m->dev[dev];
	int v, ri, kind = m->file_kind[a->file % FZ_MAX_FILES], refuse = 0, dying_refuse = 0;
	bool tight = false, any = false;

	if (!exp_has(e, 0) || !mdl_reg_by_shmid((struct m_dev *)d, a->shmid, &ri))
		return;
	for (v = 0; v < FZ_MAX_VIEWERS; v++) {
		const struct m_view *w = &m->view[v];
		int r;

		/* A viewer near its limit, also one dying during this MAP. */
		if ((w->st == VW_LIVE || w->st == VW_GONE) && w->dev == dev &&
		    w->reg == ri && w->tight)
			tight = true;
		/* One dying during this MAP may still be there, or not. */
		if (w->st == VW_GONE && w->dying && w->dev == dev && w->reg == ri) {
			r = view_refuses(kind, a->flags & VHOST_SHMEM_MAP_F_RW, w->rw);
			if (r)
				dying_refuse = r;
		}

		if (w->st != VW_LIVE || w->dev != dev || w->reg != ri)
			continue;
		any = true;
		r = view_refuses(kind, a->flags & VHOST_SHMEM_MAP_F_RW, w->rw);
		if (r)
			refuse = r;
	}
	if (tight)
		exp_add(e, ENOMEM);
	if (dying_refuse)
		exp_add(e, dying_refuse);
	if (!any)
		return;
	if (refuse) {
		e->m[0] &= ~1ULL;	/* not 0 */
		exp_add(e, refuse);
	}
	/* A viewer's vm.max_map_count: nothing changed anywhere. */
	if (m->maxmap_low)
		exp_add(e, ENOMEM);
}

void mdl_view_map_done(struct model *m, int dev, int outcome)
{
	int v;

	/*
	 * A failed MAP is rolled back in the viewers that took it before the
	 * failure (the owner, last, fails EPERM, EACCES, ...; a viewer at
	 * its limit ENOMEM). At a viewer's limit that rollback may fail: as
	 * documented, the viewer is then detached and its backend vmas
	 * evicted (exec.c asks netlink when its view differs). A rollback
	 * that can neither put the hole back nor evict them (the viewer
	 * sealed them or registered them with userfaultfd: the MAP is then
	 * EBUSY and stays listed) cannot happen here: these viewers do
	 * neither (views_test's map_kept_by_viewer_stays_listed does).
	 */
	for (v = 0; outcome && v < FZ_MAX_VIEWERS; v++)
		if (m->view[v].st == VW_LIVE && m->view[v].dev == dev && m->maxmap_low)
			m->view[v].rb_gaps = true;
}

void mdl_view_unmap(struct model *m, int dev, const struct fz_map_args *a,
		    struct fz_exp *e)
{
	int v, ri;

	if (!m->maxmap_low || !mdl_reg_by_shmid(&m->dev[dev], a->shmid, &ri))
		return;
	for (v = 0; v < FZ_MAX_VIEWERS; v++) {
		struct m_view *w = &m->view[v];

		if (w->st != VW_LIVE || w->dev != dev || w->reg != ri)
			continue;
		/*
		 * A viewer over the lowered limit cannot take the hole back:
		 * the range is only unmapped there (a gap), or, if even that
		 * fails, the viewer is detached (EBUSY, the mapping gone).
		 */
		w->gaps = true;
		if (exp_has(e, 0))
			exp_add(e, EBUSY);
	}
}

void mdl_view_sync(struct model *m)
{
	int v, i, p, reset_dev = m->views_reset - 1;

	for (v = 0; v < FZ_MAX_VIEWERS; v++) {
		struct m_view *w = &m->view[v];

		if (w->st != VW_LIVE && w->st != VW_ZEROS)
			continue;
		/* The drain after the owner's death drops every viewer. */
		if (w->st == VW_LIVE && m->dev[w->dev].owner == OWN_DEAD)
			w->st = VW_ZEROS;
		if (w->st == VW_ZEROS || w->dev == reset_dev) {
			memset(w->map, 0xff, sizeof(w->map));
			continue;
		}
		for (p = 0; p < FZ_REG_MAXPG; p++)
			if (w->map[p] >= 0 && !m->map[w->map[p]].live)
				w->map[p] = -1;
		for (i = m->views_nmaps; i < m->nmaps; i++) {
			const struct m_map *mp = &m->map[i];

			if (!mp->live || mp->dev != w->dev || mp->reg != w->reg)
				continue;
			for (p = mp->off / PG; p < (int)((mp->off + mp->len) / PG); p++)
				w->map[p] = i;
		}
	}
	m->views_nmaps = m->nmaps;
	m->views_reset = 0;
}

int mdl_view_read(const struct model *m, int v, int p, uint32_t *fid,
		  uint32_t *page, uint32_t *gen, bool *unknown)
{
	const struct m_view *w = &m->view[v];
	const struct m_reg *r = &m->dev[w->dev].reg[w->reg];
	const struct m_map *mp;
	const struct m_obj *o;
	uint32_t fp;

	*fid = *page = *gen = 0;
	*unknown = false;
	if (w->map[p] < 0)
		return r->flags & VHOST_SHMEM_REGION_F_FAULT_HOLES ? FZ_SIG(SIGBUS) : 0;
	mp = &m->map[w->map[p]];
	o = mp->obj >= 0 ? &m->obj[mp->obj] : NULL;
	fp = mp->fd_off / PG + p - mp->off / PG;
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
