/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reproducers of the "Known gaps" of the threat model
 * (Documentation/userspace-api/vhost-shmem.rst): each test asserts the
 * guarantee and FAILS on today's module (all five confirmed on 6.12 at
 * e5f4047; the unkillable requester is fixed, its test is in
 * selftests/root_test.c). Not built by make check. To run them:
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

TEST_HARNESS_MAIN
