/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reproducers of the "Known gaps" of the threat model
 * (Documentation/userspace-api/vhost-shmem.rst): each test asserts the
 * guarantee and FAILS on today's module (all five confirmed on 6.12 at
 * e5f4047). Not built by make check. To run them:
 *   cp selftests/known-bugs/attack.c selftests/attack_test.c
 *   make check KVERS=6.12.117+deb12-amd64 VM_FILTER=attack
 * (and remove the copy again). When a gap is fixed, move its test into
 * the suite it belongs to as the fix's regression test.
 */
// SPDX-License-Identifier: GPL-2.0
/*
 * attack_test: reproducers of defects found by review (attacker session).
 * Each TEST asserts the documented guarantee; a failure is the defect.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/udmabuf.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"

#define NP 4

static int make_udmabuf(int *memfd, uint64_t size)
{
	struct udmabuf_create c = { 0 };
	int dev = open("/dev/udmabuf", O_RDWR), fd;

	if (dev < 0)
		return -1;
	*memfd = vs_memfd("atk-udmabuf", size, 7);
	if (*memfd < 0 || fcntl(*memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		return -1;
	c.memfd = *memfd;
	c.flags = UDMABUF_FLAGS_CLOEXEC;
	c.size = size;
	fd = ioctl(dev, UDMABUF_CREATE, &c);
	close(dev);
	return fd;
}

static void *moved_out(void *src, size_t len)
{
	void *dst = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (dst == MAP_FAILED)
		return NULL;
	dst = mremap(src, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	return dst == MAP_FAILED ? NULL : dst;
}

/*
 * A dma-buf mapping moved out of its region by the owner: RESET must not
 * report success while the owner still maps the backend's pages.
 */
TEST(dmabuf_moved_out_reset)
{
	struct vs_layout l[1] = { { 0, 16 * 4096, 0 } };
	struct vs_dev d;
	int memfd = -1, buf, ret;
	uint8_t *moved, v = 0x5a, got = 0;

	buf = make_udmabuf(&memfd, NP * PG);
	if (buf < 0)
		SKIP(return, "no udmabuf");
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	ASSERT_EQ(0, vs_map(d.fd, 0, buf, 0, 0, NP * PG, VHOST_SHMEM_MAP_F_RW));
	moved = moved_out(d.r[0].addr, NP * PG);
	ASSERT_NE(NULL, moved);
	ret = vs_reset(d.fd);
	TH_LOG("RESET after the owner moved the dma-buf mapping out: %d", ret);
	/* The owner still writes the backend's memfd through it: */
	moved[0] = v;
	ASSERT_EQ(1, pread(memfd, &got, 1, 0));
	TH_LOG("owner wrote %#x after RESET, memfd reads %#x", v, got);
	EXPECT_EQ(-EBUSY, ret);
	munmap(moved, NP * PG);
	vs_dev_close(&d);
	close(buf);
	close(memfd);
}

#define OVL "/tmp/atk-ovl"

static int ovl_setup(void)
{
	int fd;

	mkdir(OVL, 0755);
	mkdir(OVL "/lower", 0755);
	mkdir(OVL "/lower2", 0755);
	mkdir(OVL "/merged", 0755);
	fd = open(OVL "/lower/f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || vs_fill_fd(fd, NP * 4096, 3))
		return -1;
	close(fd);
	umount2(OVL "/merged", MNT_DETACH);
	if (mount("overlay", OVL "/merged", "overlay", 0,
		  "lowerdir=" OVL "/lower:" OVL "/lower2"))
		return -1;
	return open(OVL "/merged/f", O_RDONLY);
}

/*
 * A regular file on overlayfs (a container rootfs): a fork() copy kept with
 * MADV_DOFORK must make UNMAP report EBUSY, as for any regular file.
 */
TEST(overlay_fork_copy_unmap)
{
	struct vs_layout l[1] = { { 0, 16 * 4096, 0 } };
	struct vs_dev d;
	int fd, ret, p[2], status;
	pid_t pid;
	char c;

	fd = ovl_setup();
	if (fd < 0)
		SKIP(return, "no overlayfs mount: %s", strerror(errno));
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	ASSERT_EQ(0, vs_map(d.fd, 0, fd, 0, 0, NP * PG, 0));
	ASSERT_EQ(0, madvise(d.r[0].addr, NP * PG, MADV_DOFORK));
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		read(p[0], &c, 1);
		/* The child's copy: still the backend's bytes? */
		_exit(vs_check_pat(d.r[0].addr, NP * PG, 3, 0, NULL) < 0 ? 0 : 3);
	}
	ret = vs_unmap(d.fd, 0, 0, NP * PG);
	TH_LOG("UNMAP with a fork copy of an overlayfs mapping alive: %d", ret);
	write(p[1], "x", 1);
	waitpid(pid, &status, 0);
	TH_LOG("child still read the backend's bytes after UNMAP: %s",
	       WEXITSTATUS(status) == 0 ? "yes" : "no");
	EXPECT_EQ(-EBUSY, ret);
	vs_dev_close(&d);
	close(fd);
	umount2(OVL "/merged", MNT_DETACH);
}

/* Same file, moved out of the region by the owner: RESET must not say 0. */
TEST(overlay_moved_out_reset)
{
	struct vs_layout l[1] = { { 0, 16 * 4096, 0 } };
	struct vs_dev d;
	int fd, ret;
	uint8_t *moved;

	fd = ovl_setup();
	if (fd < 0)
		SKIP(return, "no overlayfs mount: %s", strerror(errno));
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	ASSERT_EQ(0, vs_map(d.fd, 0, fd, 0, 0, NP * PG, 0));
	moved = moved_out(d.r[0].addr, NP * PG);
	ASSERT_NE(NULL, moved);
	ret = vs_reset(d.fd);
	TH_LOG("RESET after the owner moved the overlayfs mapping out: %d; still maps backend bytes: %s",
	       ret, vs_check_pat(moved, NP * PG, 3, 0, NULL) < 0 ? "yes" : "no");
	EXPECT_EQ(-EBUSY, ret);
	munmap(moved, NP * PG);
	vs_dev_close(&d);
	close(fd);
	umount2(OVL "/merged", MNT_DETACH);
}

/*
 * A read-write MAP grants [fd_offset, fd_offset + len) of the backend's
 * file. remap_file_pages() on the installed vma (VM_SHARED) lets the owner
 * map any other page of that file: the window is not enforced.
 */
TEST(remap_file_pages_escapes_window)
{
	struct vs_layout l[1] = { { 0, 16 * 4096, 0 } };
	struct vs_dev d;
	int mfd, ret;
	long bad;

	mfd = vs_memfd("atk-window", 8 * PG, 11);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	/* The backend grants page 0 only. */
	ASSERT_EQ(0, vs_map(d.fd, 0, mfd, 0, 0, PG, VHOST_SHMEM_MAP_F_RW));
	ret = remap_file_pages(d.r[0].addr, PG, 0, 5, 0);
	TH_LOG("remap_file_pages(pgoff 5) on the installed mapping: %d (%s)",
	       ret, ret ? strerror(errno) : "ok");
	if (!ret) {
		bad = vs_check_pat(d.r[0].addr, PG, 11, 5 * PG, NULL);
		TH_LOG("owner now reads page 5 of the backend file: %s",
		       bad < 0 ? "yes" : "no");
		d.r[0].addr[0] ^= 0xff;	/* and writes it */
	}
	EXPECT_NE(0, ret);
	vs_dev_close(&d);
	close(mfd);
}

/*
 * The owner holds its own mmap_lock for as long as it likes: a read of
 * /proc/self/mem faults in a page of a FUSE file with the lock held, and
 * the FUSE server (the owner too) does not answer. A MAP from another
 * process (the helper) then waits in the worker for mmap_write_lock; the
 * helper, killed with SIGKILL, cannot leave (uninterruptible wait for the
 * RUNNING request): "its waits are killable while queued" only.
 */
#define FMNT "/tmp/atk-fuse"
static int fuse_fd = -1;
static volatile int fuse_block, fuse_read_seen;
static volatile uint64_t fuse_pending;
static char fuse_buf[1 << 17];

static void fuse_reply(uint64_t unique, int err, const void *p, size_t n)
{
	struct fuse_out_header h = { sizeof(h) + (err ? 0 : n), err, unique };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, err ? 0 : n } };

	writev(fuse_fd, iov, 2);
}

static void fuse_attr(struct fuse_attr *a, uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = ino == 1 ? S_IFDIR | 0755 : S_IFREG | 0644;
	a->nlink = 1;
	a->size = ino == 1 ? 0 : 16384;
	a->blocks = a->size / 512;
	a->blksize = 4096;
}

static void *fuse_server(void *arg)
{
	static char data[1 << 17];
	ssize_t n;

	memset(data, 0x42, sizeof(data));
	while ((n = read(fuse_fd, fuse_buf, sizeof(fuse_buf))) > 0) {
		struct fuse_in_header *in = (void *)fuse_buf;
		void *body = in + 1;

		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_in *ii = body;
			struct fuse_init_out o = { 0 };

			o.major = FUSE_KERNEL_VERSION;
			o.minor = FUSE_KERNEL_MINOR_VERSION;
			o.max_readahead = ii->max_readahead;
			o.max_write = 4096;
			fuse_reply(in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out e = { 0 };

			if (strcmp(body, "f")) {
				fuse_reply(in->unique, -ENOENT, NULL, 0);
				break;
			}
			e.nodeid = 2;
			e.generation = 1;
			e.entry_valid = 100;
			e.attr_valid = 100;
			fuse_attr(&e.attr, 2);
			fuse_reply(in->unique, 0, &e, sizeof(e));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out a = { 0 };

			a.attr_valid = 100;
			fuse_attr(&a.attr, in->nodeid);
			fuse_reply(in->unique, 0, &a, sizeof(a));
			break;
		}
		case FUSE_OPEN: {
			struct fuse_open_out o = { 0 };

			o.fh = 1;
			fuse_reply(in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_READ: {
			struct fuse_read_in *r = body;

			if (fuse_block) {
				fuse_pending = in->unique;
				fuse_read_seen = 1;
				break;	/* no answer: the faulting thread waits */
			}
			fuse_reply(in->unique, 0, data,
				   r->size < sizeof(data) ? r->size : sizeof(data));
			break;
		}
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;
		case FUSE_FLUSH:
		case FUSE_RELEASE:
			fuse_reply(in->unique, 0, NULL, 0);
			break;
		default:
			fuse_reply(in->unique, -ENOSYS, NULL, 0);
		}
	}
	return NULL;
}

static void *mem_reader(void *addr)
{
	char c;
	int fd = open("/proc/self/mem", O_RDONLY);

	pread(fd, &c, 1, (off_t)(uintptr_t)addr);
	close(fd);
	return NULL;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : '?';
}

TEST(owner_mmap_lock_makes_helper_unkillable)
{
	struct vs_layout l[1] = { { 0, 16 * 4096, 0 } };
	struct vs_dev d;
	pthread_t srv, rd;
	char opts[128], st1 = '?', st2 = '?';
	int mfd, ffd, p[2], status = 0, i;
	pid_t pid, gone = 0;
	void *fm;
	volatile char stack[65536];
	static char reply[4096];

	/* Nothing below may fault through mmap_lock once it is held. */
	memset((char *)stack, 1, sizeof(stack));
	memset(reply, 0, sizeof(reply));
	fuse_fd = open("/dev/fuse", O_RDWR);
	if (fuse_fd < 0)
		SKIP(return, "no /dev/fuse");
	mkdir(FMNT, 0755);
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", fuse_fd);
	if (mount("atkfuse", FMNT, "fuse", MS_NOSUID | MS_NODEV, opts))
		SKIP(return, "fuse mount: %s", strerror(errno));
	ASSERT_EQ(0, pthread_create(&srv, NULL, fuse_server, NULL));
	ffd = open(FMNT "/f", O_RDONLY);
	ASSERT_LE(0, ffd);
	fm = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ffd, 0);
	ASSERT_NE(MAP_FAILED, fm);
	mfd = vs_memfd("atk-stall", PG, 1);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	ASSERT_EQ(0, pipe(p));
	/* fork() needs mmap_write_lock: the helper is forked first. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char c;

		read(p[0], &c, 1);
		_exit(vs_map(d.fd, 0, mfd, 0, 0, PG, 0) ? 1 : 0);
	}
	fuse_block = 1;
	ASSERT_EQ(0, pthread_create(&rd, NULL, mem_reader, fm));
	for (i = 0; i < 500 && !fuse_read_seen; i++)
		usleep(10000);
	ASSERT_TRUE(fuse_read_seen);
	/* The owner's mmap_lock is now held for reading by the reader. */
	write(p[1], "g", 1);
	usleep(500000);
	kill(pid, SIGKILL);
	usleep(3000000);
	gone = waitpid(pid, &status, WNOHANG);
	st1 = proc_state(pid);
	/* Let the owner go: answer the READ. */
	fuse_block = 0;
	fuse_reply(fuse_pending, 0, reply, sizeof(reply));
	pthread_join(rd, NULL);
	if (!gone)
		gone = waitpid(pid, &status, 0);
	st2 = 'x';
	TH_LOG("helper 3 s after SIGKILL: %s (state %c); reaped once the owner let go: %s",
	       gone == pid && st1 == '?' ? "gone" : "still there", st1,
	       gone == pid ? "yes" : "no");
	(void)st2;
	munmap(fm, 4096);
	close(ffd);
	vs_dev_close(&d);
	umount2(FMNT, MNT_DETACH);
	EXPECT_NE('D', st1);
}

TEST_HARNESS_MAIN
