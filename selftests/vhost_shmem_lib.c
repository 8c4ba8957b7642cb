// SPDX-License-Identifier: GPL-2.0
/* Shared helpers of the vhost-shmem selftests. See vhost_shmem_lib.h. */
#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vhost_shmem_lib.h"

size_t vs_page;

static void __attribute__((constructor)) vs_init(void)
{
	vs_page = (size_t)sysconf(_SC_PAGESIZE);
}

bool vs_have_dev(void)
{
	return access(VS_DEV_PATH, F_OK) == 0;
}

static int neg_errno(int r)
{
	return r < 0 ? -errno : r;
}

int vs_map(int devfd, uint32_t shmid, int fd, uint64_t fd_offset,
	   uint64_t shm_offset, uint64_t len, uint64_t flags)
{
	struct vhost_shmem_map m = {
		.shmid = shmid, .fd = fd, .fd_offset = fd_offset,
		.shm_offset = shm_offset, .len = len, .flags = flags,
	};

	return neg_errno(ioctl(devfd, VHOST_SHMEM_MAP, &m));
}

int vs_unmap(int devfd, uint32_t shmid, uint64_t shm_offset, uint64_t len)
{
	struct vhost_shmem_unmap u = {
		.shmid = shmid, .shm_offset = shm_offset, .len = len,
	};

	return neg_errno(ioctl(devfd, VHOST_SHMEM_UNMAP, &u));
}

int vs_batch(int devfd, struct vhost_shmem_op *ops, uint32_t n)
{
	struct vhost_shmem_batch b = { .ops = (uintptr_t)ops, .nops = n };

	return neg_errno(ioctl(devfd, VHOST_SHMEM_BATCH, &b));
}

struct vhost_shmem_op vs_op_map(uint32_t shmid, int fd, uint64_t fd_offset,
				uint64_t shm_offset, uint64_t len, uint64_t flags)
{
	struct vhost_shmem_op op = { .op = VHOST_SHMEM_OP_MAP, .result = 1 };

	op.map = (struct vhost_shmem_map){ shmid, fd, fd_offset, shm_offset, len, flags };
	return op;
}

struct vhost_shmem_op vs_op_unmap(uint32_t shmid, uint64_t shm_offset, uint64_t len)
{
	struct vhost_shmem_op op = { .op = VHOST_SHMEM_OP_UNMAP, .result = 1 };

	op.unmap = (struct vhost_shmem_unmap){ .shmid = shmid, .shm_offset = shm_offset,
					       .len = len };
	return op;
}

int vs_reset(int devfd)
{
	return neg_errno(ioctl(devfd, VHOST_SHMEM_RESET));
}

int vs_stats(int devfd, struct vhost_shmem_stats *st)
{
	memset(st, 0, sizeof(*st));
	return neg_errno(ioctl(devfd, VHOST_SHMEM_GET_STATS, st));
}

int vs_region_info(int devfd, uint32_t shmid, struct vhost_shmem_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->shmid = shmid;
	return neg_errno(ioctl(devfd, VHOST_SHMEM_GET_REGION_INFO, info));
}

int vs_region_mmap(struct vs_dev *d, int i)
{
	struct vs_region *r = &d->r[i];
	void *p;

	p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		 (off_t)r->offset);
	if (p == MAP_FAILED) {
		int e = errno;

		snprintf(d->err, sizeof(d->err), "mmap region %u (size %llu offset %#llx): %s",
			 r->shmid, (unsigned long long)r->size,
			 (unsigned long long)r->offset, strerror(e));
		return -e;
	}
	r->addr = p;
	return 0;
}

int vs_dev_setup(struct vs_dev *d, const struct vs_layout *l, int n, bool do_mmap)
{
	struct vhost_shmem_config *cfg;
	int i, ret;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (n > VS_MAX_TEST_REGIONS)
		return -EINVAL;
	d->fd = open(VS_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (d->fd < 0) {
		ret = -errno;
		snprintf(d->err, sizeof(d->err), "open %s: %s", VS_DEV_PATH, strerror(-ret));
		return ret;
	}
	if (ioctl(d->fd, VHOST_SHMEM_SET_OWNER) < 0) {
		ret = -errno;
		snprintf(d->err, sizeof(d->err), "SET_OWNER: %s", strerror(-ret));
		goto fail;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		cfg->regions[l[i].shmid].size = l[i].size;
		cfg->regions[l[i].shmid].flags = l[i].flags;
	}
	cfg->nregions = n;
	ret = neg_errno(ioctl(d->fd, VHOST_SHMEM_SET_CONFIG, cfg));
	free(cfg);
	if (ret) {
		snprintf(d->err, sizeof(d->err), "SET_CONFIG: %s", strerror(-ret));
		goto fail;
	}
	d->nregions = n;
	for (i = 0; i < n; i++) {
		struct vhost_shmem_region_info info;

		ret = vs_region_info(d->fd, l[i].shmid, &info);
		if (ret) {
			snprintf(d->err, sizeof(d->err), "GET_REGION_INFO %u: %s",
				 l[i].shmid, strerror(-ret));
			goto fail;
		}
		if (info.size != l[i].size || info.flags != l[i].flags) {
			snprintf(d->err, sizeof(d->err),
				 "GET_REGION_INFO %u: size %llu flags %#x, configured %llu %#x",
				 l[i].shmid, (unsigned long long)info.size, info.flags,
				 (unsigned long long)l[i].size, l[i].flags);
			ret = -EPROTO;
			goto fail;
		}
		d->r[i].shmid = l[i].shmid;
		d->r[i].size = info.size;
		d->r[i].flags = info.flags;
		d->r[i].offset = info.offset;
		if (do_mmap) {
			ret = vs_region_mmap(d, i);
			if (ret)
				goto fail;
		}
	}
	return 0;
fail:
	vs_dev_close(d);
	return ret;
}

void vs_dev_close(struct vs_dev *d)
{
	int i;

	for (i = 0; i < VS_MAX_TEST_REGIONS; i++) {
		if (d->r[i].addr)
			munmap(d->r[i].addr, d->r[i].size);
		d->r[i].addr = NULL;
	}
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

int vs_fill_fd(int fd, uint64_t len, unsigned int seed)
{
	uint8_t *buf = malloc(1 << 16);
	uint64_t off = 0;

	if (!buf)
		return -ENOMEM;
	while (off < len) {
		size_t n = len - off > (1 << 16) ? (1 << 16) : len - off;
		size_t i;
		ssize_t w;

		for (i = 0; i < n; i++)
			buf[i] = vs_pat(seed, off + i);
		w = pwrite(fd, buf, n, (off_t)off);
		if (w != (ssize_t)n) {
			int e = w < 0 ? errno : EIO;

			free(buf);
			return -e;
		}
		off += n;
	}
	free(buf);
	return 0;
}

int vs_memfd(const char *name, uint64_t size, unsigned int seed)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int ret;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = vs_fill_fd(fd, size, seed);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* ---- fault probes ---- */

static __thread sigjmp_buf *volatile probe_env;

static void probe_handler(int sig, siginfo_t *si __attribute__((unused)),
			  void *uc __attribute__((unused)))
{
	if (probe_env)
		siglongjmp(*probe_env, sig);
	/* Not probing: die with the signal. */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void probe_install(void)
{
	static bool done;
	struct sigaction sa;

	if (done)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = probe_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	done = true;
}

/* Volatile byte accesses: the compiler may neither drop nor merge them. */
int vs_probe_copy(volatile void *dst, const volatile void *src, size_t len)
{
	volatile uint8_t *d = dst;
	const volatile uint8_t *s = src;
	sigjmp_buf env;
	int sig;

	probe_install();
	sig = sigsetjmp(env, 1);
	if (sig) {
		probe_env = NULL;
		return sig;
	}
	probe_env = &env;
	__asm__ volatile("" ::: "memory");
	for (size_t i = 0; i < len; i++)
		d[i] = s[i];
	__asm__ volatile("" ::: "memory");
	probe_env = NULL;
	return 0;
}

int vs_probe_read(const volatile void *p, uint8_t *val)
{
	uint8_t v;
	int sig = vs_probe_copy(&v, p, 1);

	if (!sig && val)
		*val = v;
	return sig;
}

int vs_probe_write(volatile void *p, uint8_t val)
{
	return vs_probe_copy(p, &val, 1);
}

/* ---- byte checks ---- */

static long check_mem(const uint8_t *p, uint64_t len, bool zero, unsigned int seed,
		      uint64_t fd_off, int *got)
{
	uint8_t buf[4096];
	uint64_t off = 0;

	while (off < len) {
		size_t n = len - off > sizeof(buf) ? sizeof(buf) : len - off;
		size_t i;

		if (vs_probe_copy(buf, p + off, n)) {
			if (got)
				*got = -1;
			return (long)off;
		}
		for (i = 0; i < n; i++) {
			uint8_t want = zero ? 0 : vs_pat(seed, fd_off + off + i);

			if (buf[i] != want) {
				if (got)
					*got = buf[i];
				return (long)(off + i);
			}
		}
		off += n;
	}
	return -1;
}

long vs_check_pat(const uint8_t *p, uint64_t len, unsigned int seed,
		  uint64_t fd_off, int *got)
{
	return check_mem(p, len, false, seed, fd_off, got);
}

long vs_check_zero(const uint8_t *p, uint64_t len, int *got)
{
	return check_mem(p, len, true, 0, 0, got);
}

long vs_check_file_pat(int fd, uint64_t off, uint64_t len, unsigned int seed,
		       uint64_t pat_off, int *got)
{
	uint8_t buf[4096];
	uint64_t done = 0;

	while (done < len) {
		size_t n = len - done > sizeof(buf) ? sizeof(buf) : len - done;
		ssize_t r = pread(fd, buf, n, (off_t)(off + done));
		size_t i;

		if (r != (ssize_t)n) {
			if (got)
				*got = -1;
			return (long)done;
		}
		for (i = 0; i < n; i++) {
			if (buf[i] != vs_pat(seed, pat_off + done + i)) {
				if (got)
					*got = buf[i];
				return (long)(done + i);
			}
		}
		done += n;
	}
	return -1;
}

/* ---- /proc ---- */

struct vma_range {
	unsigned long start, end;
};

static int read_maps(struct vma_range **out)
{
	FILE *f = fopen("/proc/self/maps", "re");
	struct vma_range *v = NULL;
	int n = 0, cap = 0;
	char line[4096];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = realloc(v, cap * sizeof(*v));
			if (!v) {
				fclose(f);
				return -1;
			}
		}
		v[n].start = s;
		v[n].end = e;
		n++;
	}
	fclose(f);
	*out = v;
	return n;
}

bool vs_maps_covered(const void *start, size_t len)
{
	unsigned long s = (unsigned long)start, e = s + len, pos = s;
	struct vma_range *v = NULL;
	int n, i;

	n = read_maps(&v);
	if (n < 0)
		return false;
	for (i = 0; i < n && pos < e; i++) {
		if (v[i].end <= pos)
			continue;
		if (v[i].start > pos)
			break;		/* gap */
		pos = v[i].end;
	}
	free(v);
	return pos >= e;
}

int vs_maps_count(const void *start, size_t len)
{
	unsigned long s = (unsigned long)start, e = s + len;
	struct vma_range *v = NULL;
	int n, i, c = 0;

	n = read_maps(&v);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (v[i].start < e && v[i].end > s)
			c++;
	free(v);
	return c;
}

const char *vs_maps_line(const void *addr)
{
	static char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	line[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx", &s, &e) == 2 &&
		    s <= (unsigned long)addr && (unsigned long)addr < e) {
			line[strcspn(line, "\n")] = 0;
			break;
		}
		line[0] = 0;
	}
	if (f)
		fclose(f);
	return line;
}

int vs_maps_total(void)
{
	struct vma_range *v = NULL;
	int n = read_maps(&v);

	free(v);
	return n;
}

int vs_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

long vs_meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	size_t kl = strlen(key);
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

long vs_wait_shmem_below(long limit_kb, int timeout_ms)
{
	long v = vs_meminfo_kb("Shmem");
	int waited = 0;

	while (v > limit_kb && waited < timeout_ms) {
		usleep(10000);
		waited += 10;
		v = vs_meminfo_kb("Shmem");
	}
	return v;
}

int vs_read_long(const char *path, long *val)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return r < 0 ? -errno : -EIO;
	buf[r] = 0;
	*val = strtol(buf, NULL, 0);
	return 0;
}

int vs_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t w;
	int e;

	if (fd < 0)
		return -errno;
	w = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	if (w != (ssize_t)strlen(s))
		return w < 0 ? -e : -EIO;
	return 0;
}

int vs_write_long(const char *path, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld\n", val);
	return vs_write_str(path, buf);
}

bool vs_capable(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	unsigned long long eff = ~0ULL;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	if (f)
		fclose(f);
	return eff != 0;
}

int vs_count_div(void)
{
	const char *e = getenv(VS_COUNT_DIV_ENV);
	char *end;
	long div;

	if (!e || !*e)
		return 1;
	div = strtol(e, &end, 10);
	return *end || div < 1 || div > 1000 ? 1 : (int)div;
}

long vs_count(long full, long min)
{
	long n = full / vs_count_div();

	return n < min ? min : n;
}

int vs_raise_max_map_count(long want, long *restore)
{
	const char *path = "/proc/sys/vm/max_map_count";
	long v;
	int ret;

	*restore = -1;
	ret = vs_read_long(path, &v);
	if (ret || v >= want)
		return ret;
	ret = vs_write_long(path, want);
	if (!ret)
		*restore = v;
	return ret;
}

/* ---- fd passing ---- */

int vs_sendv_fd(int sock, int fd, struct iovec *iov, int iovcnt)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = iovcnt };
	struct cmsghdr *c;
	size_t len = 0;
	int i;

	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;

	if (fd >= 0) {
		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	return 0;
}

int vs_send_fd(int sock, int fd, const void *data, size_t len)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };

	return vs_sendv_fd(sock, fd, &iov, 1);
}

ssize_t vs_recv_fd(int sock, int *fd, void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t r;

	*fd = -1;
	r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (r < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return r;
}

/* ---- snapshots ---- */

int vs_snap_take(const struct vs_dev *d, int ri, uint64_t off, uint64_t len,
		 struct vs_snap *s)
{
	const struct vs_region *r = &d->r[ri];
	uint64_t p, np = len / PG;

	memset(s, 0, sizeof(*s));
	s->off = off;
	s->len = len;
	s->bytes = calloc(1, len);
	s->faulted = calloc(1, np ? np : 1);
	if (!s->bytes || !s->faulted)
		return -ENOMEM;
	for (p = 0; p < np; p++)
		s->faulted[p] = (uint8_t)vs_probe_copy(s->bytes + p * PG,
						       r->addr + off + p * PG, PG);
	return vs_stats(d->fd, &s->st);
}

bool vs_snap_same(const struct vs_dev *d, int ri, const struct vs_snap *s,
		  uint64_t more_failures, char *why, size_t whylen)
{
	const struct vs_region *r = &d->r[ri];
	uint64_t p, np = s->len / PG;
	struct vhost_shmem_stats st;
	uint8_t *buf = malloc(PG);
	bool ok = true;

	why[0] = 0;
	for (p = 0; p < np && ok; p++) {
		int f = vs_probe_copy(buf, r->addr + s->off + p * PG, PG);

		if (f != s->faulted[p]) {
			snprintf(why, whylen, "page at offset %#llx: access %s before, %s now",
				 (unsigned long long)(s->off + p * PG),
				 s->faulted[p] ? strsignal(s->faulted[p]) : "ok",
				 f ? strsignal(f) : "ok");
			ok = false;
		} else if (!f && memcmp(buf, s->bytes + p * PG, PG)) {
			size_t i = 0;

			while (buf[i] == s->bytes[p * PG + i])
				i++;
			snprintf(why, whylen, "byte at offset %#llx was %#x, now %#x",
				 (unsigned long long)(s->off + p * PG + i),
				 s->bytes[p * PG + i], buf[i]);
			ok = false;
		}
	}
	free(buf);
	if (!ok)
		return false;
	if (!vs_maps_covered(r->addr, r->size)) {
		snprintf(why, whylen, "/proc/self/maps shows a gap in the region");
		return false;
	}
	if (vs_stats(d->fd, &st)) {
		snprintf(why, whylen, "GET_STATS: %s", strerror(errno));
		return false;
	}
	if (st.mappings != s->st.mappings || st.mapped_bytes != s->st.mapped_bytes ||
	    st.maps != s->st.maps || st.unmaps != s->st.unmaps ||
	    st.failures != s->st.failures + more_failures) {
		snprintf(why, whylen,
			 "stats mappings %llu->%llu bytes %llu->%llu maps %llu->%llu unmaps %llu->%llu failures %llu->%llu (expected +%llu)",
			 (unsigned long long)s->st.mappings, (unsigned long long)st.mappings,
			 (unsigned long long)s->st.mapped_bytes, (unsigned long long)st.mapped_bytes,
			 (unsigned long long)s->st.maps, (unsigned long long)st.maps,
			 (unsigned long long)s->st.unmaps, (unsigned long long)st.unmaps,
			 (unsigned long long)s->st.failures, (unsigned long long)st.failures,
			 (unsigned long long)more_failures);
		return false;
	}
	return true;
}

void vs_snap_free(struct vs_snap *s)
{
	free(s->bytes);
	free(s->faulted);
	s->bytes = NULL;
	s->faulted = NULL;
}

/* ---- the helper-like second process ---- */

static void remote_loop(int sock)
{
	struct vs_remote_req req;
	struct vs_remote_rep rep;
	int devfd = -1, fd;
	ssize_t r;
	uint8_t b;

	/* First message: the device fd. */
	r = vs_recv_fd(sock, &devfd, &b, 1);
	if (r != 1 || devfd < 0)
		_exit(2);
	for (;;) {
		r = vs_recv_fd(sock, &fd, &req, sizeof(req));
		if (r == 0)
			_exit(0);
		if (r != sizeof(req))
			_exit(3);
		memset(&rep, 0, sizeof(rep));
		switch (req.op) {
		case VS_R_MAP:
			req.map.fd = fd;
			rep.ret = neg_errno(ioctl(devfd, VHOST_SHMEM_MAP, &req.map));
			break;
		case VS_R_MAP_LOOP: {
			int i;

			req.map.fd = fd;
			for (i = 0; i < req.count && !rep.ret; i++) {
				rep.ret = neg_errno(ioctl(devfd, VHOST_SHMEM_MAP, &req.map));
				if (!rep.ret)
					rep.ret = vs_unmap(devfd, req.map.shmid,
							   req.map.shm_offset, req.map.len);
			}
			break;
		}
		case VS_R_MAP_MANY: {
			struct vhost_shmem_map m = req.map;

			m.fd = fd;
			for (rep.done = 0; rep.done < req.count; rep.done++) {
				m.shm_offset = req.map.shm_offset + rep.done * req.stride;
				rep.ret = neg_errno(ioctl(devfd, VHOST_SHMEM_MAP, &m));
				if (rep.ret)
					break;
			}
			break;
		}
		case VS_R_UNMAP:
			rep.ret = neg_errno(ioctl(devfd, VHOST_SHMEM_UNMAP, &req.unmap));
			break;
		case VS_R_RESET:
			rep.ret = vs_reset(devfd);
			break;
		case VS_R_STATS:
			rep.ret = vs_stats(devfd, &rep.st);
			break;
		case VS_R_NFDS:
			break;
		case VS_R_CLOSE_DEV:
			rep.ret = neg_errno(close(devfd));
			devfd = -1;
			break;
		default:
			rep.ret = -EINVAL;
		}
		if (fd >= 0)
			close(fd);
		rep.nfds = vs_count_fds();
		if (vs_send_fd(sock, -1, &rep, sizeof(rep)))
			_exit(4);
	}
}

static int remote_start(struct vs_remote *r, int devfd, bool drop, uid_t uid, gid_t gid)
{
	int sv[2];
	uint8_t b = 1;
	int ret;

	r->pid = -1;
	r->sock = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	r->pid = fork();
	if (r->pid < 0) {
		ret = -errno;
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	if (r->pid == 0) {
		int fd;

		/*
		 * Only the socket stays open: the device fd must arrive by
		 * SCM_RIGHTS, not by inheritance.
		 */
		for (fd = 3; fd < 1024; fd++)
			if (fd != sv[1])
				close(fd);
		if (drop && (setgroups(1, &gid) || setgid(gid) || setuid(uid))) {
			b = 0;	/* tell the parent, which then fails */
			if (write(sv[1], &b, 1) != 1)
				_exit(5);
			_exit(5);
		}
		if (drop) {
			b = 1;
			if (write(sv[1], &b, 1) != 1)
				_exit(5);
		}
		remote_loop(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	r->sock = sv[0];
	if (drop && (read(r->sock, &b, 1) != 1 || b != 1)) {
		vs_remote_stop(r);
		return -EPERM;
	}
	b = 1;
	ret = vs_send_fd(r->sock, devfd, &b, 1);
	if (ret) {
		vs_remote_stop(r);
		return ret;
	}
	return 0;
}

int vs_remote_start(struct vs_remote *r, int devfd)
{
	return remote_start(r, devfd, false, 0, 0);
}

int vs_remote_start_as(struct vs_remote *r, int devfd, uid_t uid, gid_t gid)
{
	return remote_start(r, devfd, true, uid, gid);
}

int vs_remote_start_unpriv(struct vs_remote *r, int devfd)
{
	if (vs_capable())
		return vs_remote_start_as(r, devfd, 65534, 65534);
	return vs_remote_start(r, devfd);
}

int vs_remote_call(struct vs_remote *r, const struct vs_remote_req *req, int fd,
		   struct vs_remote_rep *rep)
{
	int ret, rfd;
	ssize_t n;

	ret = vs_send_fd(r->sock, fd, req, sizeof(*req));
	if (ret)
		return ret;
	n = vs_recv_fd(r->sock, &rfd, rep, sizeof(*rep));
	if (rfd >= 0)
		close(rfd);
	if (n != sizeof(*rep))
		return n < 0 ? (int)n : -EPIPE;
	return 0;
}

int vs_remote_map(struct vs_remote *r, uint32_t shmid, int fd, uint64_t fd_offset,
		  uint64_t shm_offset, uint64_t len, uint64_t flags)
{
	struct vs_remote_req req = { .op = VS_R_MAP };
	struct vs_remote_rep rep;
	int ret;

	req.map.shmid = shmid;
	req.map.fd = -1;
	req.map.fd_offset = fd_offset;
	req.map.shm_offset = shm_offset;
	req.map.len = len;
	req.map.flags = flags;
	ret = vs_remote_call(r, &req, fd, &rep);
	return ret ? ret : rep.ret;
}

int vs_remote_unmap(struct vs_remote *r, uint32_t shmid, uint64_t shm_offset,
		    uint64_t len)
{
	struct vs_remote_req req = { .op = VS_R_UNMAP };
	struct vs_remote_rep rep;
	int ret;

	req.unmap.shmid = shmid;
	req.unmap.shm_offset = shm_offset;
	req.unmap.len = len;
	ret = vs_remote_call(r, &req, -1, &rep);
	return ret ? ret : rep.ret;
}

int vs_remote_stop(struct vs_remote *r)
{
	int status = -1;

	if (r->sock >= 0)
		close(r->sock);
	r->sock = -1;
	if (r->pid > 0) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		int i;

		for (i = 0; i < 300; i++) {
			if (waitpid(r->pid, &status, WNOHANG) == r->pid)
				break;
			nanosleep(&ts, NULL);
		}
		if (i == 300) {
			kill(r->pid, SIGKILL);
			waitpid(r->pid, &status, 0);
		}
	}
	r->pid = -1;
	return status;
}

/* ---- kernel log ---- */

static int kmsg_scan(long since, long *last, char *first, size_t firstlen)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "BUG ", "Oops", "general protection",
		"kernel BUG", "Call Trace", "UBSAN", "KASAN", "refcount_t",
		"list_add corruption", "list_del corruption", "INFO: task",
		"rcu_sched self-detected", "soft lockup", "hard LOCKUP",
	};
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char rec[8192];
	int nbad = 0;

	*last = 0;
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r = read(fd, rec, sizeof(rec) - 1);
		long seq;
		char *msg;
		size_t i;

		if (r < 0) {
			if (errno == EPIPE)
				continue;	/* overwritten records */
			break;
		}
		rec[r] = 0;
		if (sscanf(rec, "%*d,%ld", &seq) != 1)
			continue;
		*last = seq;
		if (seq <= since)
			continue;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (strstr(msg, bad[i])) {
				if (!nbad && first)
					snprintf(first, firstlen, "%.*s",
						 (int)strcspn(msg, "\n"), msg);
				nbad++;
				break;
			}
		}
	}
	close(fd);
	return nbad;
}

int vs_dmesg_lines(void)
{
	long last;

	if (kmsg_scan(-1, &last, NULL, 0) < 0)
		return -1;
	return (int)last;
}

int vs_dmesg_bad_since(int since, char *first, size_t firstlen)
{
	long last;

	if (first && firstlen)
		first[0] = 0;
	return kmsg_scan(since, &last, first, firstlen);
}

/* The DRM uapi vgem needs (include/uapi/drm/drm.h and drm_mode.h). */
struct vs_drm_version {
	int version_major, version_minor, version_patchlevel;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};

struct vs_drm_create_dumb {
	uint32_t height, width, bpp, flags;
	uint32_t handle, pitch;	/* out */
	uint64_t size;		/* out */
};

struct vs_drm_map_dumb {
	uint32_t handle, pad;
	uint64_t offset;	/* out */
};

struct vs_drm_prime_handle {
	uint32_t handle, flags;
	int32_t fd;		/* out */
};

#define VS_DRM_IOCTL_VERSION		_IOWR('d', 0x00, struct vs_drm_version)
#define VS_DRM_IOCTL_PRIME_HANDLE_TO_FD	_IOWR('d', 0x2d, struct vs_drm_prime_handle)
#define VS_DRM_IOCTL_MODE_CREATE_DUMB	_IOWR('d', 0xB2, struct vs_drm_create_dumb)
#define VS_DRM_IOCTL_MODE_MAP_DUMB	_IOWR('d', 0xB3, struct vs_drm_map_dumb)

/* The DRM device of the vgem module (/dev/dri/cardN), or -1. */
int vs_vgem_open(void)
{
	for (int i = 0; i < 16; i++) {
		char path[32], name[16] = "";
		struct vs_drm_version v = { .name_len = sizeof(name) - 1, .name = name };
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, VS_DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * A vgem GEM buffer of @size bytes filled with pattern @seed (through the
 * DRM device's own mmap), exported as a dma-buf open read-write or
 * read-only. The dma-buf fd, or -errno.
 */
int vs_vgem_dmabuf(int card, uint64_t size, unsigned int seed, bool rw)
{
	struct vs_drm_create_dumb c = { .height = size / PG, .width = PG, .bpp = 8 };
	struct vs_drm_prime_handle h = { .flags = O_CLOEXEC | (rw ? O_RDWR : 0) };
	struct vs_drm_map_dumb m = { 0 };
	uint8_t *p;

	if (ioctl(card, VS_DRM_IOCTL_MODE_CREATE_DUMB, &c))
		return -errno;
	if (c.size != size)
		return -EPROTO;
	m.handle = c.handle;
	if (ioctl(card, VS_DRM_IOCTL_MODE_MAP_DUMB, &m))
		return -errno;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, card, (off_t)m.offset);
	if (p == MAP_FAILED)
		return -errno;
	for (uint64_t i = 0; i < size; i++)
		p[i] = vs_pat(seed, i);
	munmap(p, size);
	/* The buffer lives on in the dma-buf when the DRM fd is closed. */
	h.handle = c.handle;
	if (ioctl(card, VS_DRM_IOCTL_PRIME_HANDLE_TO_FD, &h))
		return -errno;
	return h.fd;
}
