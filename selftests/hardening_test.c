// SPDX-License-Identifier: GPL-2.0
/*
 * Hardening: what a buggy or hostile party can do to the device, each a
 * regression test of a defect found by review (issue "Hardening the
 * module"). Ioctls on a device without owner; SET_OWNER killed mid-call;
 * read-only mappings that must neither block F_SEAL_WRITE afterwards nor
 * become writable by the owner, its forks or madvise; copies of a mapping
 * the owner keeps (MADV_DOFORK + fork where the kernel allows it, mremap,
 * also of several vmas at once) must make UNMAP fail, never report
 * success, also for files whose mmap swaps in another (overlayfs,
 * /dev/zero) and for a dma-buf moved out of the region (RESET); a mapping
 * registered with userfaultfd must not stall UNMAP. A
 * hang shows as the harness timeout, an oops in the runner's dmesg check.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/udmabuf.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"

#define R0_PAGES	64

FIXTURE(hard) {
	struct vs_dev d;
	struct vs_remote rem;
	int a;			/* memfd, 32 pages, pattern 1 */
};

FIXTURE_SETUP(hard)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = R0_PAGES * PG } };
	int ret;

	self->a = -1;
	self->d.fd = -1;
	self->rem.pid = -1;
	VS_REQUIRE_DEV_IN_SETUP();
	ret = vs_dev_setup(&self->d, l, 1, true);
	if (ret)
		TH_LOG("device setup: %s", self->d.err);
	ASSERT_EQ(0, ret);
	self->a = vs_memfd("hard-a", 32 * PG, 1);
	ASSERT_LE(0, self->a);
	ASSERT_EQ(0, vs_remote_start(&self->rem, self->d.fd));
}

FIXTURE_TEARDOWN(hard)
{
	if (self->rem.pid > 0)
		vs_remote_stop(&self->rem);
	vs_dev_close(&self->d);
	if (self->a >= 0)
		close(self->a);
}

#define R(self) ((self)->d.r[0].addr)

/* Is any vma of this process a mapping of the memfd named @name? */
static bool memfd_mapped(const char *name)
{
	char line[512], pat[64];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return true;
	snprintf(pat, sizeof(pat), "/memfd:%s ", name);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, pat))
			found = true;
	fclose(f);
	return found;
}

/*
 * MADV_DOFORK on an installed mapping (the device made it VM_DONTCOPY and
 * VM_DONTEXPAND): 1 if the kernel accepted it, so that the next fork()
 * copies the mapping (6.1, 6.12), 0 if it refused it with EINVAL (7.2
 * refuses MADV_DOFORK on VM_DONTEXPAND vmas, as on [vdso]), -1 otherwise.
 */
static int dofork_accepted(void *p, size_t len)
{
	if (madvise(p, len, MADV_DOFORK) == 0)
		return 1;
	return errno == EINVAL ? 0 : -1;
}

/*
 * In a fork child: 1 if nothing of [p, p + len) nor memfd @name (unless
 * NULL) is mapped.
 */
static bool child_has_no_copy(const uint8_t *p, size_t len, const char *name)
{
	for (size_t off = 0; off < len; off += PG)
		if (vs_probe_read(p + off, NULL) != SIGSEGV)
			return false;
	return !name || !memfd_mapped(name);
}

/*
 * Every ioctl of a device nobody owns: a clear errno, no oops, no hang
 * (before the fix BATCH and RESET woke a worker that did not exist).
 */
TEST(no_owner_ioctls)
{
	struct vhost_shmem_op ops[2];
	struct vhost_shmem_stats st;
	struct vhost_shmem_map m = { .fd = -1, .len = 4096 };
	struct vhost_shmem_unmap u = { .len = 4096 };
	int fd, memfd, i;

	if (!vs_have_dev())
		SKIP(return, "no " VS_DEV_PATH);
	memfd = vs_memfd("hard-noowner", 4096, 5);
	ASSERT_LE(0, memfd);
	for (i = 0; i < 3; i++) {
		fd = open(VS_DEV_PATH, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ops[0] = vs_op_map(0, memfd, 0, 0, 4096, 0);
		ops[1] = vs_op_unmap(0, 0, 4096);
		ASSERT_EQ(0, vs_batch(fd, ops, 2));
		EXPECT_EQ(-EBADFD, ops[0].result);
		EXPECT_EQ(-EBADFD, ops[1].result);
		EXPECT_EQ(-EBADFD, vs_reset(fd));
		m.fd = memfd;
		EXPECT_EQ(-1, ioctl(fd, VHOST_SHMEM_MAP, &m));
		EXPECT_EQ(EBADFD, errno);
		EXPECT_EQ(-1, ioctl(fd, VHOST_SHMEM_UNMAP, &u));
		EXPECT_EQ(EBADFD, errno);
		EXPECT_EQ(0, vs_stats(fd, &st));
		EXPECT_EQ(0, st.mappings);
		close(fd);
	}
	close(memfd);
}

/*
 * A device opened read-only: its regions mmap PROT_READ (MAP_SHARED of a
 * file not open for writing has no VM_SHARED), MAPs land and UNMAP puts
 * the read-only hole back (found by the fuzzer: mmap failed with EINVAL).
 */
TEST(rdonly_device_read_only_region)
{
	struct vhost_shmem_config cfg = { .regions[0].size = 8 * 4096 };
	struct vhost_shmem_region_info info = { .shmid = 0 };
	uint8_t *r;
	int fd, memfd;

	if (!vs_have_dev())
		SKIP(return, "no " VS_DEV_PATH);
	fd = open(VS_DEV_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_SHMEM_SET_OWNER));
	ASSERT_EQ(0, ioctl(fd, VHOST_SHMEM_SET_CONFIG, &cfg));
	ASSERT_EQ(0, ioctl(fd, VHOST_SHMEM_GET_REGION_INFO, &info));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				   fd, info.offset));
	r = mmap(NULL, 8 * PG, PROT_READ, MAP_SHARED, fd, info.offset);
	ASSERT_NE(MAP_FAILED, r);
	memfd = vs_memfd("hard-rdonly", 8 * PG, 9);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, vs_map(fd, 0, memfd, 0, 2 * PG, 2 * PG, 0));
	EXPECT_EQ(-1, vs_check_pat(r + 2 * PG, 2 * PG, 9, 0, NULL));
	ASSERT_EQ(0, vs_unmap(fd, 0, 2 * PG, 2 * PG));
	EXPECT_EQ(-1, vs_check_zero(r, 8 * PG, NULL));
	EXPECT_TRUE(vs_maps_covered(r, 8 * PG));
	EXPECT_EQ(1, vs_maps_count(r, 8 * PG));
	munmap(r, 8 * PG);
	close(memfd);
	close(fd);
}

/*
 * SET_OWNER in one thread while the process is killed: the kill must end
 * the process every time (before the fix, the error path could deadlock
 * on the device mutex against the notifier's drain work).
 */
static void *set_owner_thread(void *arg)
{
	int fd = *(int *)arg;

	for (;;) {
		int d = open(VS_DEV_PATH, O_RDWR | O_CLOEXEC);

		if (d < 0)
			continue;
		ioctl(d, VHOST_SHMEM_SET_OWNER);
		ioctl(d, VHOST_SHMEM_RESET);
		close(d);
		(void)fd;
	}
	return NULL;
}

TEST(set_owner_killed)
{
	struct timespec t0, t1;
	int i, status, fd = -1;

	if (!vs_have_dev())
		SKIP(return, "no " VS_DEV_PATH);
	for (i = 0; i < 100; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			pthread_t t[2];

			pthread_create(&t[0], NULL, set_owner_thread, &fd);
			pthread_create(&t[1], NULL, set_owner_thread, &fd);
			pause();
			_exit(0);
		}
		usleep(200 + (i * 577) % 3000);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ASSERT_TRUE(WIFSIGNALED(status));
		/* A killed process exits promptly, even under TCG. */
		EXPECT_GT(10, t1.tv_sec - t0.tv_sec);
	}
}

/*
 * A read-only MAP of a memfd (opened read-write, as every memfd is) must
 * leave no writable-mapping count behind: F_SEAL_WRITE works after UNMAP
 * (before the fix EBUSY forever). Also from the other process's path.
 */
TEST_F(hard, ro_map_then_write_seal)
{
	uint8_t *r = R(self);

	for (int i = 0; i < 8; i++) {
		ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 0, 4 * PG, 0));
		ASSERT_EQ(0, vs_remote_map(&self->rem, 0, self->a, 4 * PG, 8 * PG, 2 * PG, 0));
		ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 0, 4 * PG));
		ASSERT_EQ(0, vs_remote_unmap(&self->rem, 0, 8 * PG, 2 * PG));
	}
	ASSERT_EQ(0, fcntl(self->a, F_ADD_SEALS, F_SEAL_WRITE));
	/* Sealed: read-only still maps, read-write is refused by the seal. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 0, 4 * PG, 0));
	EXPECT_EQ(-EPERM, vs_map(self->d.fd, 0, self->a, 0, 8 * PG, PG, VHOST_SHMEM_MAP_F_RW));
	EXPECT_EQ(0, vs_probe_read(r, NULL));
	EXPECT_EQ(vs_pat(1, 0), r[0]);
}

/*
 * Read-only holds against the owner from the first instant: mprotect to
 * write and MADV_REMOVE fail on the mapping, and a fork child cannot
 * make its copy writable. Where the kernel refuses MADV_DOFORK on the
 * mapping (7.2), the child gets no copy at all.
 */
TEST_F(hard, ro_holds_against_owner)
{
	uint8_t *r = R(self);
	int status, copies;
	pid_t pid;

	ASSERT_EQ(0, vs_remote_map(&self->rem, 0, self->a, 0, 0, 4 * PG, 0));
	EXPECT_EQ(-1, mprotect(r, 4 * PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, madvise(r, 4 * PG, MADV_REMOVE));
	EXPECT_EQ(SIGSEGV, vs_probe_write(r, 7));
	copies = dofork_accepted(r, 4 * PG);
	ASSERT_LE(0, copies);
	if (!copies)
		TH_LOG("this kernel refuses MADV_DOFORK on the mapping: a fork copies nothing");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0 && !copies)
		_exit(child_has_no_copy(r, 4 * PG, "hard-a") ? 0 : 1);
	if (pid == 0)
		_exit(mprotect(r, 4 * PG, PROT_READ | PROT_WRITE) == 0 ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(0, vs_check_file_pat(self->a, 0, 4 * PG, 1, 0, NULL) == -1 ? 0 : 1);
}

/* Owner threads hammering fork and MADV_REMOVE while read-only MAPs run. */
struct hammer {
	uint8_t *r;
	volatile int stop;
	int removed;		/* MADV_REMOVE that succeeded */
	int writable;		/* fork children that got a writable copy */
};

static void *madvise_hammer(void *arg)
{
	struct hammer *h = arg;

	while (!h->stop)
		if (madvise(h->r, 4 * 4096, MADV_REMOVE) == 0)
			__atomic_add_fetch(&h->removed, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *fork_hammer(void *arg)
{
	struct hammer *h = arg;
	int status;

	while (!h->stop) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(mprotect(h->r, 4 * 4096, PROT_READ | PROT_WRITE) == 0 &&
			      madvise(h->r, 4096, MADV_REMOVE) == 0 ? 1 : 0);
		if (pid < 0)
			continue;
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
			__atomic_add_fetch(&h->writable, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST_F(hard, ro_race_fork_madvise)
{
	struct hammer h = { .r = R(self) };
	struct timespec ts0, ts;
	pthread_t t[2];
	int i, ret, busy = 0;

	ASSERT_EQ(4096, PG);
	ASSERT_EQ(0, pthread_create(&t[0], NULL, madvise_hammer, &h));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, fork_hammer, &h));
	clock_gettime(CLOCK_MONOTONIC, &ts0);
	/* 300 rounds, or 15 s on a slow (debug, KASAN) kernel. */
	for (i = 0; i < 300; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec - ts0.tv_sec > 15)
			break;
		ASSERT_EQ(0, vs_remote_map(&self->rem, 0, self->a, 0, 0, 4 * PG, 0));
		ret = vs_remote_unmap(&self->rem, 0, 0, 4 * PG);
		/* EBUSY: a fork won the race with VM_DONTCOPY; still a hole. */
		ASSERT_TRUE(ret == 0 || ret == -EBUSY);
		busy += ret == -EBUSY;
	}
	h.stop = 1;
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	TH_LOG("%d of %d UNMAPs saw a copy left by a racing fork", busy, i);
	EXPECT_LT(20, i);
	EXPECT_EQ(0, h.removed);
	EXPECT_EQ(0, h.writable);
	/* The backend's file is untouched and can be write-sealed. */
	EXPECT_EQ(-1, vs_check_file_pat(self->a, 0, 4 * PG, 1, 0, NULL));
	EXPECT_EQ(0, fcntl(self->a, F_ADD_SEALS, F_SEAL_WRITE));
}

/*
 * A copy the owner keeps through MADV_DOFORK + fork of @fd, mapped at the
 * region's start (4 pages, @flags): UNMAP must not report success while
 * the child still maps the pages. Where the kernel refuses MADV_DOFORK on
 * the mapping (7.2), the child must get no copy (VM_DONTCOPY stayed) and
 * UNMAP's 0 is then true. @name: the memfd the child must not map then,
 * or NULL.
 */
static void dofork_copy(struct __test_metadata *_metadata,
			FIXTURE_DATA(hard) *self, int fd, uint32_t flags,
			const char *name)
{
	uint8_t *r = R(self), first;
	struct vhost_shmem_stats st;
	int sv[2], status, copies;
	char c;
	pid_t pid;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, fd, 0, 0, 4 * PG, flags));
	if (flags & VHOST_SHMEM_MAP_F_RW)
		r[0] = 0x5a;
	first = r[0];
	copies = dofork_accepted(r, 4 * PG);
	ASSERT_LE(0, copies);
	if (!copies)
		TH_LOG("this kernel refuses MADV_DOFORK on the mapping: a fork copies nothing");
	ASSERT_EQ(0, pipe(sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[1]);
		read(sv[0], &c, 1);	/* until the parent closes */
		if (!copies)
			_exit(child_has_no_copy(r, 4 * PG, name) ? 0 : 1);
		_exit(r[0] == first ? 0 : 1);
	}
	close(sv[0]);
	EXPECT_EQ(copies ? -EBUSY : 0, vs_remote_unmap(&self->rem, 0, 0, 4 * PG));
	/* The owner's range is a hole again, the mapping gone. */
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(0, vs_check_zero(r, 4 * PG, NULL) == -1 ? 0 : 1);
	close(sv[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Without a copy, the next one is a plain success. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, fd, 0, 0, 4 * PG, flags));
	EXPECT_EQ(0, vs_remote_unmap(&self->rem, 0, 0, 4 * PG));
}

TEST_F(hard, dofork_copy_makes_unmap_fail)
{
	dofork_copy(_metadata, self, self->a, VHOST_SHMEM_MAP_F_RW, "hard-a");
}

/*
 * /dev/zero: its mmap swaps in a shmem file of its own, which only the
 * mapping's vmas hold, so copies of it are counted too.
 */
TEST_F(hard, zero_dofork_copy_makes_unmap_fail)
{
	int fd = open("/dev/zero", O_RDWR);

	ASSERT_LE(0, fd);
	dofork_copy(_metadata, self, fd, VHOST_SHMEM_MAP_F_RW, NULL);
	close(fd);
}

/*
 * @fd mapped (4 pages at 8 pages, @flags), moved out of the region by the
 * owner: UNMAP is ENXIO (the region is detached), and RESET must not say
 * 0 while the moved vma still maps the pages; it forgets the mapping and
 * says EBUSY. Once the owner unmapped it, nothing is left to report.
 */
static void moved_out_reset(struct __test_metadata *_metadata,
			    FIXTURE_DATA(hard) *self, int fd, uint32_t flags)
{
	struct vhost_shmem_stats st;
	uint8_t *r = R(self), first;
	void *dst, *p;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, fd, 0, 8 * PG, 4 * PG, flags));
	if (flags & VHOST_SHMEM_MAP_F_RW)
		r[8 * PG] = 0x5a;
	first = r[8 * PG];
	dst = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	p = mremap(r + 8 * PG, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, p);
	EXPECT_EQ(first, *(uint8_t *)dst);
	EXPECT_EQ(-ENXIO, vs_remote_unmap(&self->rem, 0, 8 * PG, 4 * PG));
	EXPECT_EQ(-EBUSY, vs_reset(self->d.fd));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(first, *(uint8_t *)dst);
	munmap(dst, 4 * PG);
	EXPECT_EQ(0, vs_reset(self->d.fd));
}

/* A udmabuf of a 4-page memfd (closed: the udmabuf keeps it), or -1. */
static int udmabuf_4(void)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = 4 * PG };
	int dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC), memfd, fd = -1;

	if (dev < 0)
		return -1;
	memfd = vs_memfd("hard-udmabuf", 4 * PG, 7);
	if (memfd >= 0 && !fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		c.memfd = memfd;
		fd = ioctl(dev, UDMABUF_CREATE, &c);
	}
	if (memfd >= 0)
		close(memfd);
	close(dev);
	return fd;
}

/*
 * A dma-buf is the backend's own file: its references cannot be counted,
 * so the device looks for the moved vma in the owner's mm.
 */
TEST_F(hard, dmabuf_moved_out_reset)
{
	int fd = udmabuf_4();

	if (fd < 0 && errno == ENOENT)
		SKIP(return, "no /dev/udmabuf (CONFIG_UDMABUF) on this kernel");
	ASSERT_LE(0, fd);
	moved_out_reset(_metadata, self, fd, VHOST_SHMEM_MAP_F_RW);
	close(fd);
}

/* /dev/zero's shmem file is counted: the moved vma holds it. */
TEST_F(hard, zero_moved_out_reset)
{
	int fd = open("/dev/zero", O_RDWR);

	ASSERT_LE(0, fd);
	moved_out_reset(_metadata, self, fd, VHOST_SHMEM_MAP_F_RW);
	close(fd);
}

/* A mapping moved out of the region by the owner: UNMAP fails, never 0. */
TEST_F(hard, mremap_out_makes_unmap_fail)
{
	uint8_t *r = R(self);
	void *dst, *p;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 8 * PG, 2 * PG, 0));
	dst = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	p = mremap(r + 8 * PG, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, p);
	EXPECT_EQ(-ENXIO, vs_remote_unmap(&self->rem, 0, 8 * PG, 2 * PG));
	/* RESET cannot reach the moved copy either: EBUSY. */
	EXPECT_EQ(-EBUSY, vs_reset(self->d.fd));
	munmap(dst, 2 * PG);
}

/*
 * mremap(MREMAP_FIXED) of @len bytes at the region's start, over two
 * mappings back to back and then a hole. 6.1 and 6.12 refuse a range of
 * several vmas (EFAULT) before anything moves; 7.2 moves the vmas one by
 * one: installed mappings move, the hole (whose file has its own
 * get_unmapped_area) stops the move with EFAULT and the ones before it
 * stay moved. Whatever moved, the region is detached: MAP and UNMAP are
 * ENXIO, and RESET, which cannot reach the moved mappings, drops them and
 * reports EBUSY (the owner still maps them). If nothing moved, the region
 * works as before.
 */
static void mremap_several_vmas(struct __test_metadata *_metadata,
				FIXTURE_DATA(hard) *self, size_t len)
{
	struct vhost_shmem_stats st;
	uint8_t *r = R(self), *dst;
	bool moved;
	void *p;
	int err;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 0, 2 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 4 * PG, 2 * PG, 2 * PG, 0));
	dst = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	p = mremap(r, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	err = p == MAP_FAILED ? errno : 0;
	/* The mappings, at dst if they moved. */
	moved = vs_check_pat(dst, 2 * PG, 1, 0, NULL) == -1 &&
		vs_check_pat(dst + 2 * PG, 2 * PG, 1, 4 * PG, NULL) == -1;
	TH_LOG("mremap of 3 vmas (%zu pages): %s, %s", len / PG,
	       err ? strerror(err) : "done", moved ? "the mappings moved" : "nothing moved");
	if (err)
		EXPECT_EQ(EFAULT, err);
	if (!moved) {
		/* Refused as a whole: nothing moved, nothing detached. */
		ASSERT_NE(0, err);
		EXPECT_EQ(SIGSEGV, vs_probe_read(dst, NULL));
		EXPECT_EQ(-1, vs_check_pat(r, 2 * PG, 1, 0, NULL));
		EXPECT_EQ(-1, vs_check_pat(r + 2 * PG, 2 * PG, 1, 4 * PG, NULL));
		EXPECT_TRUE(vs_maps_covered(r, R0_PAGES * PG));
		EXPECT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 16 * PG, PG, 0));
		EXPECT_EQ(0, vs_remote_unmap(&self->rem, 0, 0, 2 * PG));
		EXPECT_EQ(0, vs_reset(self->d.fd));
		munmap(dst, len);
		return;
	}
	/* Moved: out of the region, which is detached. */
	EXPECT_EQ(SIGSEGV, vs_probe_read(r, NULL));
	EXPECT_EQ(SIGSEGV, vs_probe_read(r + 2 * PG, NULL));
	EXPECT_EQ(-ENXIO, vs_map(self->d.fd, 0, self->a, 0, 16 * PG, PG, 0));
	EXPECT_EQ(-ENXIO, vs_remote_unmap(&self->rem, 0, 0, 2 * PG));
	EXPECT_EQ(-ENXIO, vs_unmap(self->d.fd, 0, 2 * PG, 2 * PG));
	/* RESET forgets them but says the owner still maps them: EBUSY. */
	EXPECT_EQ(-EBUSY, vs_reset(self->d.fd));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(-1, vs_check_pat(dst, 2 * PG, 1, 0, NULL));
	/* Once the owner unmapped them, nothing is left to report. */
	munmap(dst, len);
	EXPECT_FALSE(memfd_mapped("hard-a"));
	EXPECT_EQ(0, vs_reset(self->d.fd));
}

/* The two mappings alone: 7.2 moves both, mremap succeeds. */
TEST_F(hard, mremap_several_mappings)
{
	mremap_several_vmas(_metadata, self, 4 * PG);
}

/* The two mappings and a hole: 7.2 moves the mappings, then EFAULT. */
TEST_F(hard, mremap_mappings_and_hole)
{
	mremap_several_vmas(_metadata, self, 8 * PG);
}

/*
 * mremap(old_len 0) duplicates a shared vma without unmapping anything
 * (no notifier event): refused on installed mappings, so UNMAP's 0 is true.
 */
TEST_F(hard, mremap_dup_refused)
{
	uint8_t *r = R(self);
	void *p;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 8 * PG, 2 * PG, VHOST_SHMEM_MAP_F_RW));
	p = mremap(r + 8 * PG, 0, 2 * PG, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, 2 * PG);
	ASSERT_EQ(0, vs_remote_unmap(&self->rem, 0, 8 * PG, 2 * PG));
	EXPECT_FALSE(memfd_mapped("hard-a"));
}

/*
 * The owner registers a mapping with userfaultfd (UNMAP events) and never
 * reads it: UNMAP must fail at once, not wait for the reader forever.
 */
TEST_F(hard, uffd_unmap_event_does_not_stall)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_EVENT_UNMAP };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	uint8_t *r = R(self);
	struct timespec t0, t1;
	int uffd, ret;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 0, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	/* User-mode only: what an unprivileged owner gets (vm.unprivileged_userfaultfd=0). */
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	ASSERT_LE(0, uffd);
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	reg.range.start = (uintptr_t)r;
	reg.range.len = 4 * PG;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		/* 6.12+: no userfaultfd on VM_SPECIAL vmas (VM_DONTEXPAND). */
		ASSERT_EQ(EINVAL, errno);
		TH_LOG("this kernel refuses userfaultfd on the mapping itself");
		close(uffd);
		EXPECT_EQ(0, vs_remote_unmap(&self->rem, 0, 0, 4 * PG));
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = vs_remote_unmap(&self->rem, 0, 0, 4 * PG);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	EXPECT_EQ(-EBUSY, ret);
	EXPECT_GT(5, t1.tv_sec - t0.tv_sec);
	EXPECT_EQ(-EBUSY, vs_reset(self->d.fd));
	/* Once the owner lets go of its uffd, UNMAP works. */
	close(uffd);
	EXPECT_EQ(0, vs_remote_unmap(&self->rem, 0, 0, 4 * PG));
	EXPECT_FALSE(memfd_mapped("hard-a"));
}

/* The owner's thread: munmap the region and put its own memory there. */
struct reuse {
	uint8_t *r;
	size_t len;
	void *got;
};

static void *munmap_and_reuse(void *arg)
{
	struct reuse *u = arg;

	usleep(300);
	munmap(u->r, u->len);
	/*
	 * No write into it: a MAP racing in that window may take this memory
	 * away again (the documented fail-closed window), which would SIGSEGV.
	 */
	u->got = mmap(u->r, u->len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	return NULL;
}

/*
 * The owner munmaps its region and reuses the range (a malloc) while the
 * other process MAPs into it: the backend's file must never be left
 * mapped in the owner's memory, and the device must not count a mapping
 * it cannot reach.
 */
TEST(munmap_reuse_races_map)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 16 * 4096 } };
	struct vhost_shmem_stats st;
	struct vs_remote_req req = { .op = VS_R_MAP_LOOP, .count = 100000 };
	struct vs_remote_rep rep;
	int i, memfd;

	if (!vs_have_dev())
		SKIP(return, "no " VS_DEV_PATH);
	memfd = vs_memfd("hard-race", 16 * PG, 7);
	ASSERT_LE(0, memfd);
	for (i = 0; i < 20; i++) {
		struct vs_remote rem;
		struct vs_dev d;
		struct reuse u;
		pthread_t t;

		ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
		ASSERT_EQ(0, vs_remote_start(&rem, d.fd));
		u = (struct reuse){ .r = d.r[0].addr, .len = 16 * PG };
		req.map = (struct vhost_shmem_map){ .len = 4 * PG, .shm_offset = 4 * PG };
		ASSERT_EQ(0, pthread_create(&t, NULL, munmap_and_reuse, &u));
		ASSERT_EQ(0, vs_remote_call(&rem, &req, memfd, &rep));
		pthread_join(t, NULL);
		/* The loop ends when the region is detached. */
		EXPECT_EQ(-ENXIO, rep.ret);
		EXPECT_FALSE(memfd_mapped("hard-race"));
		/* A mapping the owner's munmap took away is gone for RESET too. */
		EXPECT_EQ(0, vs_reset(d.fd));
		ASSERT_EQ(0, vs_stats(d.fd, &st));
		EXPECT_EQ(0, st.mappings);
		if (u.got != MAP_FAILED)
			munmap(u.got, u.len);
		d.r[0].addr = NULL;
		vs_remote_stop(&rem);
		vs_dev_close(&d);
	}
	close(memfd);
}

#define OVL "/tmp/vs-ovl"

/* true if OVL/merged is an overlayfs (the VM runner mounts one). */
static bool ovl_prepared(void)
{
	struct statfs sf;

	return !statfs(OVL "/merged", &sf) && sf.f_type == OVERLAYFS_SUPER_MAGIC;
}

static void ovl_cleanup(void)
{
	umount2(OVL "/merged", MNT_DETACH);
	umount2(OVL, MNT_DETACH);
}

/* As root: a tmpfs at OVL with an overlayfs on it at OVL/merged. */
static int ovl_mount(void)
{
	const char *opts = "lowerdir=" OVL "/lower,upperdir=" OVL "/upper,workdir=" OVL "/work";
	int fd;

	mkdir(OVL, 0755);
	if (mount("tmpfs", OVL, "tmpfs", 0, "size=16m") ||
	    mkdir(OVL "/lower", 0755) || mkdir(OVL "/upper", 0755) ||
	    mkdir(OVL "/work", 0755) || mkdir(OVL "/merged", 0755))
		return -errno;
	fd = open(OVL "/lower/f", O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	if (mount("overlay", OVL "/merged", "overlay", 0, opts))
		return -errno;
	return 0;
}

/*
 * OVL/merged/f opened O_RDWR (so copied up), 16 pages of pattern 11; the
 * overlayfs is mounted here (*@mine) when the VM runner did not. Return:
 * the fd, or -1 (logged).
 */
static int ovl_file(struct __test_metadata *_metadata, bool *mine)
{
	int fd, ret;

	*mine = !ovl_prepared();
	if (*mine) {
		ret = ovl_mount();
		if (ret) {
			TH_LOG("mount overlay: %s (CONFIG_OVERLAY_FS, the overlay module)",
			       strerror(-ret));
			ovl_cleanup();
			return -1;
		}
	}
	fd = open(OVL "/merged/f", O_RDWR);
	if (fd < 0 || ftruncate(fd, 0) || vs_fill_fd(fd, 16 * PG, 11)) {
		TH_LOG("%s: %s", OVL "/merged/f", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * A file of an overlayfs (any container rootfs): its mmap swaps in the
 * real file. Read-only and read-write MAPs work, the guest-visible bytes
 * are the file's, writes reach it, UNMAP leaves nothing mapped (before:
 * EBUSY after briefly replacing the hole). The file is the lower layer's,
 * copied up when opened for writing; the overlayfs is the VM runner's
 * when the suite runs unprivileged.
 */
TEST_F(hard, overlayfs_file)
{
	uint8_t *r = R(self), b = 0;
	bool mine;
	int fd;

	fd = ovl_file(_metadata, &mine);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vs_map(self->d.fd, 0, fd, 0, 0, 4 * PG, 0));
	ASSERT_EQ(0, vs_remote_map(&self->rem, 0, fd, 4 * PG, 8 * PG, 2 * PG,
				   VHOST_SHMEM_MAP_F_RW));
	EXPECT_EQ(-1, vs_check_pat(r, 4 * PG, 11, 0, NULL));
	EXPECT_EQ(-1, vs_check_pat(r + 8 * PG, 2 * PG, 11, 4 * PG, NULL));
	EXPECT_EQ(SIGSEGV, vs_probe_write(r, 1));
	r[8 * PG + 5] = 0xa5;
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 0, 4 * PG));
	ASSERT_EQ(0, vs_remote_unmap(&self->rem, 0, 8 * PG, 2 * PG));
	EXPECT_EQ(1, pread(fd, &b, 1, 4 * PG + 5));
	EXPECT_EQ(0xa5, b);
	EXPECT_EQ(-1, vs_check_zero(r, R0_PAGES * PG, NULL));
	EXPECT_EQ(1, vs_maps_count(r, R0_PAGES * PG));
	close(fd);
	if (mine)
		ovl_cleanup();
}

/*
 * The real file an overlayfs file swaps in is counted like the module's
 * own file: the overlayfs file holds one reference of it. A fork() copy
 * (read-only and read-write) makes UNMAP fail...
 */
TEST_F(hard, overlayfs_dofork_copy_makes_unmap_fail)
{
	bool mine;
	int fd;

	fd = ovl_file(_metadata, &mine);
	ASSERT_LE(0, fd);
	dofork_copy(_metadata, self, fd, 0, NULL);
	dofork_copy(_metadata, self, fd, VHOST_SHMEM_MAP_F_RW, NULL);
	close(fd);
	if (mine)
		ovl_cleanup();
}

/* ... and so does a move out of the region, for RESET. */
TEST_F(hard, overlayfs_moved_out_reset)
{
	bool mine;
	int fd;

	fd = ovl_file(_metadata, &mine);
	ASSERT_LE(0, fd);
	moved_out_reset(_metadata, self, fd, 0);
	close(fd);
	if (mine)
		ovl_cleanup();
}

TEST_HARNESS_MAIN
