// SPDX-License-Identifier: GPL-2.0
/*
 * Content: every kind of backend file shows exactly its bytes through the
 * region, RW writes reach the file, RO writes fault (also after the owner
 * tries mprotect), UNMAP gives the hole back. Backends: memfd, POSIX shm,
 * tmpfs file, hugetlbfs file, ext4 (or ext2) file on a loop device, dma-buf
 * (udmabuf). Unavailable backends are skipped with the reason. Then the
 * dma-buf of a DRM exporter (a vgem GEM buffer: the one dma-buf Debian's
 * 6.1 has), which maps differently enough to get tests of its own.
 *
 * The ext4 and hugetlbfs mounts are the VM runner's when it made them
 * (tools/vm/run-suites.sh: the suite runs unprivileged); as root, the
 * suite makes its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <linux/udmabuf.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"
#include "viewer_lib.h"

#define HPAGE (2UL << 20)
#define FS_DIR "/tmp/vs-content-fs"
#define FS_IMG "/tmp/vs-content-fs.img"	/* the disk behind FS_DIR */
#define HUGE_DIR "/tmp/vs-content-huge"

enum backend { B_MEMFD, B_SHM, B_TMPFS, B_HUGETLB, B_EXT4, B_UDMABUF };

FIXTURE(content) {
	struct vs_dev d;
	int fd;			/* backend fd */
	int extra;		/* memfd behind a udmabuf */
	uint64_t unit;		/* alignment unit: page or huge page */
	uint64_t fsize;
	char path[256];		/* file to unlink, if any */
	bool mounted_fs, mounted_huge;
	int loopfd;
	long orig_huge;
};

FIXTURE_VARIANT(content) {
	enum backend kind;
	bool size_checked;	/* EOVERFLOW applies (regular/shmem files) */
};

FIXTURE_VARIANT_ADD(content, memfd) { .kind = B_MEMFD, .size_checked = true };
FIXTURE_VARIANT_ADD(content, posix_shm) { .kind = B_SHM, .size_checked = true };
FIXTURE_VARIANT_ADD(content, tmpfs) { .kind = B_TMPFS, .size_checked = true };
FIXTURE_VARIANT_ADD(content, hugetlbfs) { .kind = B_HUGETLB, .size_checked = true };
FIXTURE_VARIANT_ADD(content, ext4) { .kind = B_EXT4, .size_checked = true };
FIXTURE_VARIANT_ADD(content, udmabuf) { .kind = B_UDMABUF, .size_checked = false };

/* Fills a file through a shared mapping (hugetlbfs has no write()). */
static int fill_mapped(int fd, uint64_t size, unsigned int seed)
{
	uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	uint64_t i;

	if (p == MAP_FAILED)
		return -errno;
	for (i = 0; i < size; i++)
		p[i] = vs_pat(seed, i);
	munmap(p, size);
	return 0;
}

/* Byte of the file at @off through a fresh shared mapping (works for all kinds). */
static int file_byte(int fd, uint64_t unit, uint64_t off)
{
	uint64_t base = off / unit * unit;
	uint8_t *p = mmap(NULL, unit, PROT_READ, MAP_SHARED, fd, (off_t)base);
	int v;

	if (p == MAP_FAILED)
		return -1;
	v = p[off - base];
	munmap(p, unit);
	return v;
}

/* true if @dir is the root of a mount of type @magic. */
static bool mounted_at(const char *dir, long magic)
{
	struct stat st, up;
	struct statfs sf;
	char parent[256];

	snprintf(parent, sizeof(parent), "%s/..", dir);
	return !statfs(dir, &sf) && sf.f_type == magic && !stat(dir, &st) &&
	       !stat(parent, &up) && st.st_dev != up.st_dev;
}

static int setup_loop_fs(FIXTURE_DATA(content) *self, char *why, size_t whylen)
{
	const char *img = FS_IMG;
	struct loop_info64 li;
	char cmd[512], dev[64];
	int ctl, n, imgfd;

	mkdir(FS_DIR, 0755);
	imgfd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (imgfd < 0 || ftruncate(imgfd, 64 << 20)) {
		snprintf(why, whylen, "cannot create %s", img);
		return -1;
	}
	snprintf(cmd, sizeof(cmd),
		 "(mkfs.ext4 -q -F %s || mke2fs -q -F %s || mke2fs -F %s) >/dev/null 2>&1",
		 img, img, img);
	if (system(cmd)) {
		snprintf(why, whylen, "no working mkfs.ext4/mke2fs");
		close(imgfd);
		return -1;
	}
	ctl = open("/dev/loop-control", O_RDWR);
	n = ctl >= 0 ? ioctl(ctl, LOOP_CTL_GET_FREE) : -1;
	if (ctl >= 0)
		close(ctl);
	if (n < 0) {
		snprintf(why, whylen, "no /dev/loop-control (loop module)");
		close(imgfd);
		return -1;
	}
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	self->loopfd = open(dev, O_RDWR);
	if (self->loopfd < 0) {
		mknod(dev, S_IFBLK | 0600, makedev(7, n));
		self->loopfd = open(dev, O_RDWR);
	}
	if (self->loopfd < 0 || ioctl(self->loopfd, LOOP_SET_FD, imgfd)) {
		snprintf(why, whylen, "cannot set up %s", dev);
		close(imgfd);
		return -1;
	}
	close(imgfd);
	memset(&li, 0, sizeof(li));
	li.lo_flags = LO_FLAGS_AUTOCLEAR;
	ioctl(self->loopfd, LOOP_SET_STATUS64, &li);
	if (mount(dev, FS_DIR, "ext4", 0, NULL) && mount(dev, FS_DIR, "ext2", 0, NULL)) {
		snprintf(why, whylen, "mount %s (ext4/ext2): %s", dev, strerror(errno));
		return -1;
	}
	self->mounted_fs = true;
	return 0;
}

/*
 * The device offset of byte @off of @fd (FIEMAP, the extent syncing
 * first), or -errno: where the file system put it on the disk.
 */
static long long disk_offset(int fd, uint64_t off)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent fe[1];
	} m = { .fm = { .fm_start = off, .fm_length = 1, .fm_flags = FIEMAP_FLAG_SYNC,
			.fm_extent_count = 1 } };
	struct fiemap_extent *e = &m.fm.fm_extents[0];

	if (ioctl(fd, FS_IOC_FIEMAP, &m.fm))
		return -errno;
	if (m.fm.fm_mapped_extents != 1 || off < e->fe_logical ||
	    off >= e->fe_logical + e->fe_length ||
	    (e->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |
			    FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_DATA_INLINE)))
		return -ENODATA;
	return (long long)(e->fe_physical + (off - e->fe_logical));
}

/* The byte at file offset @off of @fd as it is on the disk image @disk. */
static int disk_byte(int fd, int disk, uint64_t off)
{
	long long at = disk_offset(fd, off);
	uint8_t b;

	if (at < 0 || pread(disk, &b, 1, at) != 1)
		return -1;
	return b;
}

/*
 * Undoes whatever the setup got to: the device, the backend file (path set
 * only for files that outlive their fd), mounts and the huge page pool.
 */
static void content_cleanup(FIXTURE_DATA(content) *self)
{
	vs_dev_close(&self->d);
	if (self->fd >= 0)
		close(self->fd);
	if (self->extra >= 0)
		close(self->extra);
	if (self->path[0])
		unlink(self->path);
	if (self->mounted_fs) {
		umount(FS_DIR);
		unlink(FS_IMG);
	}
	if (self->loopfd >= 0)
		close(self->loopfd);
	if (self->mounted_huge)
		umount(HUGE_DIR);
	if (self->orig_huge >= 0)
		vs_write_long("/proc/sys/vm/nr_hugepages", self->orig_huge);
}

FIXTURE_SETUP(content)
{
	char why[512] = "";
	struct vs_layout l[1] = { { .shmid = 0 } };
	int ret;

	self->fd = self->extra = self->loopfd = -1;
	self->orig_huge = -1;
	self->d.fd = -1;
	self->unit = PG;
	VS_REQUIRE_DEV_IN_SETUP();

	switch (variant->kind) {
	case B_MEMFD:
		self->fsize = 64 * PG;
		self->fd = vs_memfd("content", self->fsize, 61);
		break;
	case B_SHM:
		self->fsize = 64 * PG;
		snprintf(self->path, sizeof(self->path), "/vs-content-%d", getpid());
		self->fd = shm_open(self->path, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (self->fd < 0 && errno == ENOENT) {
			mkdir("/dev/shm", 01777);
			mount("tmpfs", "/dev/shm", "tmpfs", 0, "mode=1777");
			self->fd = shm_open(self->path, O_RDWR | O_CREAT | O_EXCL, 0600);
		}
		if (self->fd < 0) {
			snprintf(why, sizeof(why), "shm_open: %s", strerror(errno));
			break;
		}
		shm_unlink(self->path);
		self->path[0] = 0;
		if (ftruncate(self->fd, self->fsize) || vs_fill_fd(self->fd, self->fsize, 61))
			snprintf(why, sizeof(why), "cannot fill the shm object");
		break;
	case B_TMPFS:
	case B_EXT4:
		self->fsize = 64 * PG;
		if (variant->kind == B_EXT4) {
			if (!mounted_at(FS_DIR, EXT4_SUPER_MAGIC) &&
			    setup_loop_fs(self, why, sizeof(why)))
				break;
			snprintf(self->path, sizeof(self->path), FS_DIR "/backend");
		} else {
			snprintf(self->path, sizeof(self->path), "/tmp/vs-content-%d", getpid());
		}
		self->fd = open(self->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (self->fd < 0 || ftruncate(self->fd, self->fsize) ||
		    vs_fill_fd(self->fd, self->fsize, 61) || fsync(self->fd))
			snprintf(why, sizeof(why), "cannot create %s", self->path);
		break;
	case B_HUGETLB: {
		long nr = 0;

		self->unit = HPAGE;
		self->fsize = 4 * HPAGE;
		if (mounted_at(HUGE_DIR, HUGETLBFS_MAGIC)) {
			/* The runner's, with its pages reserved. */
			nr = vs_meminfo_kb("HugePages_Free");
			if (nr < 4) {
				snprintf(why, sizeof(why), "only %ld free huge pages of 4", nr);
				break;
			}
		} else {
			if (vs_read_long("/proc/sys/vm/nr_hugepages", &nr)) {
				snprintf(why, sizeof(why), "no /proc/sys/vm/nr_hugepages");
				break;
			}
			self->orig_huge = nr;
			vs_write_long("/proc/sys/vm/nr_hugepages", nr + 4);
			vs_read_long("/proc/sys/vm/nr_hugepages", &nr);
			if (nr < self->orig_huge + 4) {
				snprintf(why, sizeof(why), "could reserve only %ld of %ld huge pages",
					 nr - self->orig_huge, 4L);
				break;
			}
			mkdir(HUGE_DIR, 0755);
			if (mount("none", HUGE_DIR, "hugetlbfs", 0, "pagesize=2M")) {
				snprintf(why, sizeof(why), "mount hugetlbfs: %s", strerror(errno));
				break;
			}
			self->mounted_huge = true;
		}
		snprintf(self->path, sizeof(self->path), HUGE_DIR "/backend");
		self->fd = open(self->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (self->fd < 0 || ftruncate(self->fd, self->fsize) ||
		    fill_mapped(self->fd, self->fsize, 61))
			snprintf(why, sizeof(why), "cannot create a hugetlbfs file");
		break;
	}
	case B_UDMABUF: {
		struct udmabuf_create c = { 0 };
		int dev = open("/dev/udmabuf", O_RDWR);

		if (dev < 0) {
			snprintf(why, sizeof(why), "no /dev/udmabuf (CONFIG_UDMABUF) on this kernel");
			break;
		}
		self->fsize = 64 * PG;
		self->extra = vs_memfd("udmabuf", self->fsize, 61);
		if (self->extra < 0 || fcntl(self->extra, F_ADD_SEALS, F_SEAL_SHRINK)) {
			close(dev);
			snprintf(why, sizeof(why), "memfd for udmabuf");
			break;
		}
		c.memfd = self->extra;
		c.flags = UDMABUF_FLAGS_CLOEXEC;
		c.offset = 0;
		c.size = self->fsize;
		self->fd = ioctl(dev, UDMABUF_CREATE, &c);
		if (self->fd < 0)
			snprintf(why, sizeof(why), "UDMABUF_CREATE: %s", strerror(errno));
		close(dev);
		break;
	}
	}
	if (self->fd < 0 || why[0]) {
		/* The teardown does not run after a setup skip: clean up here. */
		content_cleanup(self);
		VS_SETUP_SKIP("%s", why[0] ? why : "backend unavailable");
	}
	l[0].size = 8 * self->unit;
	ret = vs_dev_setup(&self->d, l, 1, false);
	if (ret)
		TH_LOG("device setup: %s", self->d.err);
	ASSERT_EQ(0, ret);
	if (self->unit > PG) {
		/* hugetlbfs needs a huge-page aligned region: mmap at an aligned hint. */
		uint64_t sz = self->d.r[0].size;
		uint8_t *res = mmap(NULL, sz + self->unit, PROT_NONE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint8_t *hint, *p;

		ASSERT_NE(MAP_FAILED, res);
		hint = (uint8_t *)(((uintptr_t)res + self->unit - 1) & ~(self->unit - 1));
		munmap(res, sz + self->unit);
		p = mmap(hint, sz, PROT_READ | PROT_WRITE, MAP_SHARED, self->d.fd,
			 self->d.r[0].offset);
		ASSERT_NE(MAP_FAILED, p);
		self->d.r[0].addr = p;
		if ((uintptr_t)p % self->unit) {
			vs_dev_close(&self->d);
			VS_SETUP_SKIP("region not 2 MiB aligned (%p): hugetlbfs cannot be mapped", p);
		}
	} else {
		ASSERT_EQ(0, vs_region_mmap(&self->d, 0));
	}
}

FIXTURE_TEARDOWN(content)
{
	content_cleanup(self);
}

/* RW: exact bytes, owner writes reach the file, file writes reach the owner. */
TEST_F(content, rw)
{
	uint64_t u = self->unit;
	uint8_t *r = self->d.r[0].addr;
	uint8_t *other;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->fd, u, 2 * u, 2 * u, VHOST_SHMEM_MAP_F_RW));
	ASSERT_PAT(r + 2 * u, 2 * u, 61, u);
	ASSERT_ZERO(r, 2 * u);
	ASSERT_ZERO(r + 4 * u, 4 * u);
	r[2 * u + 3] = 0xe1;
	r[4 * u - 1] = 0xe2;
	EXPECT_EQ(0xe1, file_byte(self->fd, u, u + 3));
	EXPECT_EQ(0xe2, file_byte(self->fd, u, 3 * u - 1));
	/* Another shared mapping of the file writes: the region sees it. */
	other = mmap(NULL, u, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, (off_t)(2 * u));
	ASSERT_NE(MAP_FAILED, other);
	other[17] = 0xe3;
	EXPECT_EQ(0xe3, r[3 * u + 17]);
	munmap(other, u);
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 2 * u, 2 * u));
	ASSERT_ZERO(r, 8 * u);
	EXPECT_EQ(SIGBUS, vs_probe_write(r + 2 * u, 1));
	EXPECT_EQ(0xe1, file_byte(self->fd, u, u + 3));
	if (variant->size_checked)
		EXPECT_EQ(-EOVERFLOW, vs_map(self->d.fd, 0, self->fd, self->fsize - u, 0, 2 * u, 0));
}

/* RO: exact bytes, writes fault, mprotect(RW) refused, still faults after. */
TEST_F(content, ro)
{
	uint64_t u = self->unit;
	uint8_t *r = self->d.r[0].addr;
	int sig;

	/*
	 * A dma-buf fd is open for writing and cannot be reopened read-only:
	 * read-only would need a vm_flags edit on the linked vma. Refused.
	 */
	if (variant->kind == B_UDMABUF) {
		EXPECT_EQ(-EACCES, vs_map(self->d.fd, 0, self->fd, 0, 5 * u, 3 * u, 0));
		ASSERT_ZERO(r, 8 * u);
		return;
	}
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->fd, 0, 5 * u, 3 * u, 0));
	ASSERT_PAT(r + 5 * u, 3 * u, 61, 0);
	sig = vs_probe_write(r + 6 * u + 9, 0x7e);
	EXPECT_TRUE(sig == SIGSEGV || sig == SIGBUS);
	EXPECT_EQ(-1, mprotect(r + 5 * u, 3 * u, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(r + 6 * u, u, PROT_WRITE));
	sig = vs_probe_write(r + 6 * u + 9, 0x7e);
	EXPECT_TRUE(sig == SIGSEGV || sig == SIGBUS);
	EXPECT_EQ(vs_pat(61, u + 9), file_byte(self->fd, u, u + 9));
	ASSERT_PAT(r + 5 * u, 3 * u, 61, 0);
	/* Re-map RW of another part next to it works. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->fd, 3 * u, 4 * u, u, VHOST_SHMEM_MAP_F_RW));
	ASSERT_PAT(r + 4 * u, u, 61, 3 * u);
	ASSERT_EQ(0, vs_reset(self->d.fd));
	ASSERT_ZERO(r, 8 * u);
}

/*
 * Views (VHOST_SHMEM_GET_VIEW) of every kind: a read-write and a read-only
 * viewer see the mapping's bytes, the read-write viewer's writes reach the
 * file and the owner, the read-only one cannot write; after UNMAP both
 * read zeros. A dma-buf cannot be reopened read-only: with a read-only
 * viewer attached a read-write MAP is refused (EACCES) and changes
 * nothing. hugetlbfs needs each view huge-page aligned too; a viewer whose
 * view is not (6.1 does not align them) refuses the MAP (EINVAL).
 */
TEST_F(content, views)
{
	struct vs_viewer v[2] = { { .pid = -1 }, { .pid = -1 } };
	uint64_t u = self->unit, sz = self->d.r[0].size;
	uint8_t *r = self->d.r[0].addr;
	bool aligned = true;
	int i, n = 2, ret;

	for (i = 0; i < 2; i++) {
		int vfd = vs_get_view(self->d.fd, 0, i ? 0 : VHOST_SHMEM_VIEW_F_RW);

		ASSERT_LE(0, vfd);
		ASSERT_EQ(0, vs_viewer_start(&v[i], vfd, 0, sz,
					     i ? PROT_READ : PROT_READ | PROT_WRITE));
		close(vfd);
		aligned &= vs_vcall(&v[i], V_ADDR, 0, 0, 0, 0) % u == 0;
	}
	ret = vs_map(self->d.fd, 0, self->fd, u, 2 * u, 2 * u, VHOST_SHMEM_MAP_F_RW);
	if (variant->kind == B_UDMABUF || !aligned) {
		EXPECT_EQ(aligned ? -EACCES : -EINVAL, ret);
		ASSERT_ZERO(r, 8 * u);
		for (i = 0; i < 2; i++)
			EXPECT_EQ(0, vs_vcall(&v[i], V_CHECK_ZERO, 0, 8 * u, 0, 0));
		if (!aligned) {
			TH_LOG("a view is not 2 MiB aligned: MAP refused, as it must be");
			goto out;
		}
		/* Without the read-only viewer the dma-buf maps. */
		vs_viewer_stop(&v[1]);
		n = 1;
		ret = vs_map(self->d.fd, 0, self->fd, u, 2 * u, 2 * u, VHOST_SHMEM_MAP_F_RW);
	}
	ASSERT_EQ(0, ret);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, vs_vcall(&v[i], V_CHECK_PAT, 2 * u, 2 * u, 61, u));
		EXPECT_EQ(0, vs_vcall(&v[i], V_CHECK_ZERO, 0, 2 * u, 0, 0));
		EXPECT_EQ(0, vs_vcall(&v[i], V_CHECK_ZERO, 4 * u, 4 * u, 0, 0));
	}
	EXPECT_EQ(0, vs_vcall(&v[0], V_WRITE, 2 * u + 5, 0, 0xd1, 0));
	EXPECT_EQ(0xd1, file_byte(self->fd, u, u + 5));
	EXPECT_EQ(0xd1, r[2 * u + 5]);
	if (n == 2) {
		ret = vs_vcall(&v[1], V_WRITE, 2 * u + 6, 0, 0xd2, 0);
		EXPECT_TRUE(ret == SIGSEGV || ret == SIGBUS);
		EXPECT_EQ(vs_pat(61, u + 6), file_byte(self->fd, u, u + 6));
		EXPECT_EQ(0xd1, vs_vcall(&v[1], V_READ32, 2 * u + 5, 0, 0, 0) & 0xff);
	}
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 2 * u, 2 * u));
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, vs_vcall(&v[i], V_CHECK_ZERO, 0, 8 * u, 0, 0));
out:
	vs_viewer_stop(&v[0]);
	vs_viewer_stop(&v[1]);
}

/*
 * Writes through the region reach the file on disk: UNMAP and fsync, then
 * the file's blocks are read from the disk image itself (FIEMAP says where
 * they are), the page cache bypassed. ext4 only.
 */
TEST_F(content, writeback)
{
	uint64_t u = self->unit, off;
	uint8_t *r = self->d.r[0].addr;
	int disk, got;

	if (variant->kind != B_EXT4)
		SKIP(return, "writeback is checked on the ext4 backend");
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->fd, 4 * u, 0, 4 * u, VHOST_SHMEM_MAP_F_RW));
	memcpy(r + u + 100, "\xde\xad\xbe\xef", 4);
	r[3 * u] = 0x42;
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 0, 4 * u));
	ASSERT_EQ(0, fsync(self->fd));
	disk = open(FS_IMG, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, disk);
	ASSERT_LE(0, disk_offset(self->fd, 5 * u + 100));
	/* The mapped part, [4u, 8u) of the file, byte by byte as on the disk. */
	for (off = 4 * u; off < 8 * u; off++) {
		int want = vs_pat(61, off);

		if (off >= 5 * u + 100 && off < 5 * u + 104)
			want = (uint8_t)"\xde\xad\xbe\xef"[off - (5 * u + 100)];
		else if (off == 7 * u)
			want = 0x42;
		got = disk_byte(self->fd, disk, off);
		if (got != want)
			TH_LOG("file byte %#llx on the disk: %d, want %d",
			       (unsigned long long)off, got, want);
		ASSERT_EQ(want, got);
	}
	/* Around it, unchanged on the disk too. */
	EXPECT_EQ(vs_pat(61, 4 * u - 1), disk_byte(self->fd, disk, 4 * u - 1));
	EXPECT_EQ(vs_pat(61, 8 * u), disk_byte(self->fd, disk, 8 * u));
	close(disk);
	EXPECT_EQ(-1, vs_check_file_pat(self->fd, 0, 5 * u, 61, 0, NULL));
	EXPECT_EQ(-1, vs_check_file_pat(self->fd, 5 * u + 104, u - 104, 61, 5 * u + 104, NULL));
}

/* The device keeps the file alive after the backend closes its fd. */
TEST_F(content, backend_fd_closed)
{
	uint64_t u = self->unit;
	uint8_t *r = self->d.r[0].addr;

	/* Read-only for files the device reopens; a dma-buf only maps RW. */
	uint64_t flags = variant->kind == B_UDMABUF ? VHOST_SHMEM_MAP_F_RW : 0;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->fd, 2 * u, 0, 2 * u, flags));
	if (variant->kind == B_TMPFS || variant->kind == B_EXT4 || variant->kind == B_HUGETLB)
		ASSERT_EQ(0, unlink(self->path));
	close(self->fd);
	self->fd = -1;
	ASSERT_PAT(r, 2 * u, 61, 2 * u);
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 0, 2 * u));
	ASSERT_ZERO(r, 2 * u);
}

/* ---- a DRM exporter's dma-buf: vgem ---- */

#define VG_PAGES	16

FIXTURE(vgem) {
	struct vs_dev d;
	int card;
};

FIXTURE_SETUP(vgem)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = VG_PAGES * PG } };
	int ret;

	self->d.fd = -1;
	VS_REQUIRE_DEV_IN_SETUP();
	self->card = vs_vgem_open();
	if (self->card < 0)
		VS_SETUP_SKIP("no vgem DRM device in /dev/dri (load the vgem module)");
	ret = vs_dev_setup(&self->d, l, 1, true);
	if (ret)
		TH_LOG("device setup: %s", self->d.err);
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(vgem)
{
	vs_dev_close(&self->d);
	if (self->card >= 0)
		close(self->card);
}

/*
 * A GEM buffer's dma-buf mapped read-write: exactly its bytes, coherent
 * both ways with another mmap of it, a hole again after UNMAP; a range
 * beyond the buffer is the exporter's EINVAL and changes nothing.
 */
TEST_F(vgem, rw)
{
	uint8_t *r = self->d.r[0].addr, *other;
	struct vs_snap snap;
	int buf = vs_vgem_dmabuf(self->card, 8 * PG, 71, true);

	ASSERT_LE(0, buf);
	ASSERT_EQ(0, vs_map(self->d.fd, 0, buf, 0, 2 * PG, 8 * PG, VHOST_SHMEM_MAP_F_RW));
	TH_LOG("installed: %s", vs_maps_line(r + 2 * PG));
	ASSERT_PAT(r + 2 * PG, 8 * PG, 71, 0);
	ASSERT_ZERO(r, 2 * PG);
	ASSERT_ZERO(r + 10 * PG, 6 * PG);
	other = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, other);
	r[3 * PG + 7] = 0xa1;
	EXPECT_EQ(0xa1, other[PG + 7]);
	other[5 * PG + 1] = 0xa2;
	EXPECT_EQ(0xa2, r[7 * PG + 1]);

	ASSERT_EQ(0, vs_snap_take(&self->d, 0, 0, VG_PAGES * PG, &snap));
	/* Pages 4-9 of an 8-page buffer: dma-buf's mmap refuses, after the hole went. */
	EXPECT_EQ(-EINVAL, vs_map(self->d.fd, 0, buf, 4 * PG, 10 * PG, 6 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_SNAP_SAME(&self->d, 0, &snap, 1);
	vs_snap_free(&snap);

	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 2 * PG, 8 * PG));
	ASSERT_ZERO(r, VG_PAGES * PG);
	EXPECT_EQ(SIGBUS, vs_probe_write(r + 3 * PG, 1));
	/* The buffer kept what was written through the region. */
	EXPECT_EQ(0xa1, other[PG + 7]);
	munmap(other, 8 * PG);
	close(buf);
}

/*
 * At an offset into the buffer the region shows exactly what an mmap of
 * the dma-buf at that offset shows (whatever page the exporter puts
 * there), and a second mapping of the same buffer works next to it.
 */
TEST_F(vgem, offset_like_mmap)
{
	uint8_t *r = self->d.r[0].addr, *ref;
	int buf = vs_vgem_dmabuf(self->card, 8 * PG, 72, true);

	ASSERT_LE(0, buf);
	ASSERT_EQ(0, vs_map(self->d.fd, 0, buf, 3 * PG, 4 * PG, 2 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, buf, 0, 8 * PG, 2 * PG, VHOST_SHMEM_MAP_F_RW));
	ref = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, buf, 3 * PG);
	ASSERT_NE(MAP_FAILED, ref);
	EXPECT_EQ(0, memcmp(ref, r + 4 * PG, 2 * PG));
	TH_LOG("mmap at buffer offset 3 pages shows buffer page %s",
	       vs_check_pat(ref, PG, 72, 3 * PG, NULL) == -1 ? "3" :
	       vs_check_pat(ref, PG, 72, 0, NULL) == -1 ? "0 (the exporter ignores the offset)" :
	       "?");
	ASSERT_PAT(r + 8 * PG, 2 * PG, 72, 0);
	munmap(ref, 2 * PG);
	ASSERT_EQ(0, vs_reset(self->d.fd));
	ASSERT_ZERO(r, VG_PAGES * PG);
	close(buf);
}

/*
 * A dma-buf exported read-only maps read-only, for the owner too; a
 * read-write one cannot be mapped read-only (it cannot be reopened) nor a
 * read-only one read-write.
 */
TEST_F(vgem, ro)
{
	uint8_t *r = self->d.r[0].addr;
	int rw = vs_vgem_dmabuf(self->card, 4 * PG, 73, true);
	int ro = vs_vgem_dmabuf(self->card, 4 * PG, 74, false);
	int sig;

	ASSERT_LE(0, rw);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EACCES, vs_map(self->d.fd, 0, rw, 0, 0, 4 * PG, 0));
	EXPECT_EQ(-EACCES, vs_map(self->d.fd, 0, ro, 0, 0, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_ZERO(r, VG_PAGES * PG);
	ASSERT_EQ(0, vs_map(self->d.fd, 0, ro, 0, 4 * PG, 4 * PG, 0));
	ASSERT_PAT(r + 4 * PG, 4 * PG, 74, 0);
	sig = vs_probe_write(r + 5 * PG + 9, 0x7e);
	EXPECT_TRUE(sig == SIGSEGV || sig == SIGBUS);
	EXPECT_EQ(-1, mprotect(r + 4 * PG, 4 * PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	sig = vs_probe_write(r + 5 * PG + 9, 0x7e);
	EXPECT_TRUE(sig == SIGSEGV || sig == SIGBUS);
	ASSERT_PAT(r + 4 * PG, 4 * PG, 74, 0);
	/* A read-write one next to it. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, rw, 0, 8 * PG, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	EXPECT_EQ(0, vs_probe_write(r + 9 * PG, 0x7f));
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 4 * PG, 4 * PG));
	ASSERT_EQ(0, vs_reset(self->d.fd));
	ASSERT_ZERO(r, VG_PAGES * PG);
	close(rw);
	close(ro);
}

/*
 * The device holds its own reference to the dma-buf: the buffer lives
 * while mapped after every fd of it is closed, and goes (its shmem pages
 * freed) once UNMAP dropped that reference.
 */
TEST_F(vgem, references)
{
	const uint64_t sz = 8UL << 20;
	const struct vs_layout l[] = { { .shmid = 0, .size = sz } };
	long base, mid, after;
	struct vs_dev d;
	int card, buf, nfds;

	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	nfds = vs_count_fds();
	base = vs_meminfo_kb("Shmem");
	card = vs_vgem_open();
	ASSERT_LE(0, card);
	buf = vs_vgem_dmabuf(card, sz, 75, true);
	ASSERT_LE(0, buf);
	close(card);	/* the dma-buf alone keeps the buffer */
	ASSERT_EQ(0, vs_map(d.fd, 0, buf, 0, 0, sz, VHOST_SHMEM_MAP_F_RW));
	close(buf);
	EXPECT_EQ(nfds, vs_count_fds());
	mid = vs_meminfo_kb("Shmem");
	ASSERT_EQ(-1, vs_check_pat(d.r[0].addr + sz - PG, PG, 75, sz - PG, NULL));
	ASSERT_EQ(0, vs_unmap(d.fd, 0, 0, sz));
	after = vs_wait_shmem_below(base + 1024, 5000);
	TH_LOG("Shmem: %ld kB before, %ld with the buffer mapped, %ld after UNMAP", base, mid, after);
	EXPECT_LE(base + 7 * 1024, mid);
	EXPECT_GE(base + 1024, after);
	vs_dev_close(&d);
}

TEST_HARNESS_MAIN
