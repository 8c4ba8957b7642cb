// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_dev.h"

static void fake_record(struct fake_dev *d, const struct fake_rec *r)
{
	if (d->recfd >= 0 && write(d->recfd, r, sizeof(*r)) != sizeof(*r))
		_exit(99);
}

static int fake_get_config(void *ctx, int devfd, struct vhost_shmem_config *cfg)
{
	struct fake_dev *d = ctx;
	struct fake_rec r = { .op = 'C' };

	(void)devfd;
	if (d->cfg_err_calls && d->ncfg++ >= d->cfg_err_calls)
		d->cfg_err = 0;
	r.ret = d->cfg_err;
	fake_record(d, &r);
	if (d->cfg_err)
		return d->cfg_err;
	*cfg = d->cfg;
	return 0;
}

static int fake_map(void *ctx, int devfd, const struct vhost_shmem_map *m)
{
	struct fake_dev *d = ctx;
	struct fake_rec r = { .op = 'M', .map = *m };
	struct stat st;

	(void)devfd;
	if (fstat(m->fd, &st)) {
		r.ret = -EBADF;
		d->bad_fds++;
	} else {
		r.ino = st.st_ino;
	}
	for (unsigned int i = 0; !r.ret && i < d->n; i++)
		if (d->live[i].shmid == m->shmid && m->shm_offset < d->live[i].off + d->live[i].len &&
		    d->live[i].off < m->shm_offset + m->len)
			r.ret = -EEXIST;
	if (!r.ret && (m->shmid >= VHOST_SHMEM_MAX_REGIONS ||
		       m->shm_offset + m->len > d->cfg.regions[m->shmid].size))
		r.ret = -ERANGE;
	if (!r.ret && d->n < FAKE_DEV_LIVE_MAX) {
		d->live[d->n].shmid = m->shmid;
		d->live[d->n].off = m->shm_offset;
		d->live[d->n++].len = m->len;
	}
	fake_record(d, &r);
	return r.ret;
}

static int fake_unmap(void *ctx, int devfd, const struct vhost_shmem_unmap *u)
{
	struct fake_dev *d = ctx;
	struct fake_rec r = { .op = 'U', .unmap = *u, .ret = -ENOENT };

	(void)devfd;
	for (unsigned int i = 0; i < d->n; i++) {
		if (d->live[i].shmid == u->shmid && d->live[i].off == u->shm_offset &&
		    d->live[i].len == u->len) {
			d->live[i] = d->live[--d->n];
			r.ret = 0;
			break;
		}
	}
	fake_record(d, &r);
	return r.ret;
}

static int fake_reset(void *ctx, int devfd)
{
	struct fake_dev *d = ctx;
	struct fake_rec r = { .op = 'R' };

	(void)devfd;
	d->n = 0;
	fake_record(d, &r);
	return 0;
}

/*
 * Records 'B' with the count in ret, then runs each op as the device would,
 * or fails as a whole with batch_err (no op runs).
 */
static int fake_batch(void *ctx, int devfd, struct vhost_shmem_op *ops, unsigned int n)
{
	struct fake_rec r = { .op = 'B', .ret = (int)n };
	struct fake_dev *d = ctx;

	fake_record(d, &r);
	if (d->batch_err)
		return d->batch_err;
	for (unsigned int i = 0; i < n; i++)
		ops[i].result = ops[i].op == VHOST_SHMEM_OP_MAP ?
			fake_map(ctx, devfd, &ops[i].map) : fake_unmap(ctx, devfd, &ops[i].unmap);
	return 0;
}

static int fake_get_view(void *ctx, int devfd, uint32_t shmid, uint32_t flags)
{
	struct fake_dev *d = ctx;
	struct fake_rec r = { .op = 'V', .map = { .shmid = shmid, .flags = flags } };
	uint64_t size = shmid < VHOST_SHMEM_MAX_REGIONS ? d->cfg.regions[shmid].size : 0;
	size_t fill = size < FAKE_VIEW_FILL ? (size_t)size : FAKE_VIEW_FILL;
	void *p = MAP_FAILED;
	struct stat st;
	int fd = -1;

	(void)devfd;
	r.ret = d->view_err ? d->view_err : size ? 0 : -EBADSLT;
	if (!r.ret) {
		fd = memfd_create("fake-view", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)size) ||
		    (p = mmap(NULL, fill, PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
			r.ret = -ENOMEM;
	}
	if (p != MAP_FAILED) {
		memset(p, FAKE_VIEW_BYTE(shmid), fill);
		munmap(p, fill);
	}
	if (r.ret && fd >= 0)
		close(fd);
	if (!r.ret && !fstat(fd, &st))
		r.ino = st.st_ino;
	fake_record(d, &r);
	return r.ret ? r.ret : fd;
}

const struct shmem_dev_ops fake_ops = {
	.get_config = fake_get_config, .map = fake_map,
	.unmap = fake_unmap, .reset = fake_reset, .batch = fake_batch,
	.get_view = fake_get_view,
};

const struct shmem_dev_ops fake_ops_no_batch = {
	.get_config = fake_get_config, .map = fake_map,
	.unmap = fake_unmap, .reset = fake_reset, .get_view = fake_get_view,
};
