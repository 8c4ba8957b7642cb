// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetime: the owner dying with live mappings drops every backend file
 * reference (Shmem in /proc/meminfo returns to its baseline) and later MAPs
 * fail with ESRCH; closing the device drops everything. (Unloading the
 * module is root_test's.)
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"

#define BIG (16UL << 20)	/* 16 MiB of shmem per test */
#define SLACK_KB 2048

FIXTURE(life) {
	int sock;		/* parent end towards the owner child */
	pid_t owner;
	int devfd;
};

FIXTURE_SETUP(life)
{
	self->sock = self->devfd = -1;
	self->owner = -1;
	VS_REQUIRE_DEV_IN_SETUP();
}

FIXTURE_TEARDOWN(life)
{
	if (self->owner > 0) {
		kill(self->owner, SIGKILL);
		waitpid(self->owner, NULL, 0);
	}
	if (self->sock >= 0)
		close(self->sock);
	if (self->devfd >= 0)
		close(self->devfd);
}

/*
 * Forks an owner: device with one BIG region fully mapped RW from a memfd
 * (its own fd closed), sends the device fd to the parent and waits to be
 * killed. Returns the device fd in the parent.
 */
static int start_owner(FIXTURE_DATA(life) *self)
{
	int sv[2], fd = -1;
	uint8_t b;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	self->owner = fork();
	if (self->owner < 0)
		return -errno;
	if (self->owner == 0) {
		const struct vs_layout l[] = { { .shmid = 0, .size = BIG } };
		struct vs_dev d;
		int m;

		close(sv[0]);
		if (vs_dev_setup(&d, l, 1, true))
			_exit(1);
		m = vs_memfd("lifetime", BIG, 41);
		if (m < 0 || vs_map(d.fd, 0, m, 0, 0, BIG, VHOST_SHMEM_MAP_F_RW))
			_exit(2);
		close(m);
		if (vs_check_pat(d.r[0].addr + BIG - PG, PG, 41, BIG - PG, NULL) != -1)
			_exit(3);
		d.r[0].addr[0] = 0x11;	/* dirty a page through the region */
		b = 1;
		if (vs_send_fd(sv[1], d.fd, &b, 1))
			_exit(4);
		for (;;)
			pause();
	}
	close(sv[1]);
	self->sock = sv[0];
	if (vs_recv_fd(self->sock, &fd, &b, 1) != 1 || fd < 0)
		return -EPIPE;
	return fd;
}

static void kill_owner(FIXTURE_DATA(life) *self)
{
	kill(self->owner, SIGKILL);
	waitpid(self->owner, NULL, 0);
	self->owner = -1;
}

TEST_F(life, owner_killed)
{
	struct vhost_shmem_stats st;
	long base, mid, after;
	int m;

	base = vs_meminfo_kb("Shmem");
	self->devfd = start_owner(self);
	ASSERT_LE(0, self->devfd);
	ASSERT_EQ(0, vs_stats(self->devfd, &st));
	EXPECT_EQ(1, st.mappings);
	EXPECT_EQ(BIG, st.mapped_bytes);
	mid = vs_meminfo_kb("Shmem");
	EXPECT_LE(base + (long)(BIG >> 10) - SLACK_KB, mid);

	kill_owner(self);
	after = vs_wait_shmem_below(base + SLACK_KB, 10000);
	TH_LOG("Shmem: %ld kB before, %ld with the owner, %ld after it died (device fd still open)",
	       base, mid, after);
	EXPECT_GE(base + SLACK_KB, after);

	m = vs_memfd("after", 4 * PG, 42);
	ASSERT_LE(0, m);
	EXPECT_EQ(-ESRCH, vs_map(self->devfd, 0, m, 0, 0, PG, 0));
	EXPECT_EQ(-ESRCH, vs_map(self->devfd, 0, m, 0, 8 * PG, PG, VHOST_SHMEM_MAP_F_RW));
	EXPECT_EQ(-ESRCH, vs_unmap(self->devfd, 0, 0, BIG));
	/* RESET always succeeds and empties the table. */
	EXPECT_EQ(0, vs_reset(self->devfd));
	ASSERT_EQ(0, vs_stats(self->devfd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(0, st.mapped_bytes);
	EXPECT_EQ(-ESRCH, vs_map(self->devfd, 0, m, 0, 0, PG, 0));
	close(m);
	close(self->devfd);
	self->devfd = -1;
	EXPECT_GE(base + SLACK_KB, vs_wait_shmem_below(base + SLACK_KB, 2000));
}

/*
 * The owner is killed while another process keeps mapping: the kill comes
 * only after MAPs succeeded with the owner alive, the loop then ends with
 * ESRCH (never another error, never a hang) and nothing leaks.
 */
TEST_F(life, owner_killed_during_map_loop)
{
	const int before_kill = 20;
	struct timespec t0, t;
	struct vhost_shmem_stats st;
	volatile int *shared;	/* [0] MAPs done, [1] MAPs done at the kill */
	int m, i, ret = 0, ok = 0, status;
	long base;
	pid_t killer;

	shared = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, shared);
	shared[0] = shared[1] = 0;
	base = vs_meminfo_kb("Shmem");
	self->devfd = start_owner(self);
	ASSERT_LE(0, self->devfd);
	ASSERT_EQ(0, vs_unmap(self->devfd, 0, 0, BIG));
	m = vs_memfd("loop", 64 * PG, 43);
	ASSERT_LE(0, m);
	killer = fork();
	ASSERT_LE(0, killer);
	if (killer == 0) {
		/* Kill once @before_kill MAPs succeeded, mid-loop. */
		for (i = 0; i < 5000 && shared[0] < before_kill; i++)
			usleep(1000);
		shared[1] = shared[0];
		kill(self->owner, SIGKILL);
		_exit(shared[1] >= before_kill ? 0 : 1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0;; i++) {
		uint64_t off = (i % 64) * PG;

		ret = vs_map(self->devfd, 0, m, off, off, PG, i & 1);
		if (ret == 0) {
			shared[0] = ++ok;
			ret = vs_unmap(self->devfd, 0, off, PG);
		}
		if (ret)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 15)
			break;
	}
	ASSERT_EQ(killer, waitpid(killer, &status, 0));
	waitpid(self->owner, NULL, 0);
	self->owner = -1;
	TH_LOG("%d MAP+UNMAP in all, %d before the kill", ok, shared[1]);
	/* The killer saw MAPs succeed with the owner alive, then killed it. */
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_LE(before_kill, shared[1]);
	EXPECT_LE(shared[1], ok);
	/* The loop ended because the owner died: ESRCH, not a timeout or else. */
	if (ret != -ESRCH)
		TH_LOG("loop ended with %d (%s) after %d MAPs", ret,
		       ret ? strerror(-ret) : "timeout", ok);
	EXPECT_EQ(-ESRCH, ret);
	EXPECT_EQ(-ESRCH, vs_map(self->devfd, 0, m, 0, 0, PG, 0));
	/* At most the one MAP in flight at the kill is still listed. */
	ASSERT_EQ(0, vs_stats(self->devfd, &st));
	EXPECT_GE(1, st.mappings);
	EXPECT_EQ(0, vs_reset(self->devfd));
	ASSERT_EQ(0, vs_stats(self->devfd, &st));
	EXPECT_EQ(0, st.mappings);
	close(m);
	close(self->devfd);
	self->devfd = -1;
	EXPECT_GE(base + SLACK_KB, vs_wait_shmem_below(base + SLACK_KB, 10000));
	munmap((void *)shared, PG);
}

/* An owner that exits normally (not killed) leaks nothing either. */
TEST_F(life, owner_exits)
{
	long base = vs_meminfo_kb("Shmem");
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		const struct vs_layout l[] = { { .shmid = 0, .size = BIG } };
		struct vs_dev d;
		int m = vs_memfd("exit", BIG, 44);

		if (m < 0 || vs_dev_setup(&d, l, 1, true))
			_exit(1);
		if (vs_map(d.fd, 0, m, 0, 0, BIG / 2, 0) ||
		    vs_map(d.fd, 0, m, BIG / 2, BIG / 2, BIG / 2, VHOST_SHMEM_MAP_F_RW))
			_exit(2);
		_exit(0);	/* everything still open */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_GE(base + SLACK_KB, vs_wait_shmem_below(base + SLACK_KB, 10000));
}

/* Closing the device fd and unmapping the region drops every reference. */
TEST_F(life, close_device)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = BIG }, { .shmid = 1, .size = BIG } };
	struct vs_dev d;
	long base, mid, after;
	int m, nfds;

	nfds = vs_count_fds();
	base = vs_meminfo_kb("Shmem");
	ASSERT_EQ(0, vs_dev_setup(&d, l, 2, true));
	m = vs_memfd("close", BIG, 45);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, vs_map(d.fd, 0, m, 0, 0, BIG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(d.fd, 1, m, 0, PG, BIG - PG, 0));
	close(m);
	mid = vs_meminfo_kb("Shmem");
	vs_dev_close(&d);	/* munmap both regions, close the fd */
	after = vs_wait_shmem_below(base + SLACK_KB, 10000);
	TH_LOG("Shmem: %ld kB before, %ld mapped, %ld after close", base, mid, after);
	EXPECT_LE(base + (long)(BIG >> 10) - SLACK_KB, mid);
	EXPECT_GE(base + SLACK_KB, after);
	EXPECT_EQ(nfds, vs_count_fds());
}

/* Does /proc/self/maps show a vma of the file @st (device and inode)? */
static bool maps_file(const struct stat *st)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	bool found = false;

	if (!f)
		return true;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		unsigned long long ino;

		if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) == 3 &&
		    ino == st->st_ino && maj == major(st->st_dev) && min == minor(st->st_dev))
			found = true;
	}
	fclose(f);
	return found;
}

/*
 * Release with live mappings: the device lives while a hole of a region
 * maps it, so give the holes up and keep the mappings. Region 0 is one
 * mapping over all of it (no hole left); region 1 has two mappings and
 * the owner munmaps the holes around them (it is detached). Closing the
 * last fd then releases the device with both regions' mappings in the
 * owner's mm: release must take every backend file out of it and drop
 * every reference (no vma of the memfd left, Shmem back to its baseline).
 */
TEST_F(life, close_device_with_mappings)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = BIG }, { .shmid = 1, .size = BIG } };
	struct vs_dev d;
	long base, mid, after;
	int m, nfds;
	struct stat mst;
	uint8_t *r1;

	nfds = vs_count_fds();
	base = vs_meminfo_kb("Shmem");
	ASSERT_EQ(0, vs_dev_setup(&d, l, 2, true));
	r1 = d.r[1].addr;
	m = vs_memfd("close-live", BIG, 48);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, fstat(m, &mst));
	ASSERT_EQ(0, vs_map(d.fd, 0, m, 0, 0, BIG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(d.fd, 1, m, 0, PG, BIG / 2 - PG, 0));
	ASSERT_EQ(0, vs_map(d.fd, 1, m, BIG / 2, BIG / 2, BIG / 4, VHOST_SHMEM_MAP_F_RW));
	close(m);
	d.r[0].addr[3 * PG + 5] = 0x5a;	/* dirty a page through the region */
	/* Give up every hole of region 1: page 0 and the last quarter. */
	ASSERT_EQ(0, munmap(r1, PG));
	ASSERT_EQ(0, munmap(r1 + 3 * BIG / 4, BIG / 4));
	ASSERT_EQ(-1, vs_check_pat(r1 + PG, PG, 48, 0, NULL));
	ASSERT_EQ(-1, vs_check_pat(d.r[0].addr + BIG - PG, PG, 48, BIG - PG, NULL));
	mid = vs_meminfo_kb("Shmem");
	ASSERT_TRUE(maps_file(&mst));

	close(d.fd);		/* the last reference: release runs now */
	d.fd = -1;
	after = vs_wait_shmem_below(base + SLACK_KB, 10000);
	TH_LOG("Shmem: %ld kB before, %ld mapped, %ld after close", base, mid, after);
	EXPECT_LE(base + (long)(BIG >> 10) - SLACK_KB, mid);
	EXPECT_FALSE(maps_file(&mst));
	EXPECT_EQ(0, vs_maps_count(d.r[0].addr, BIG));
	EXPECT_EQ(0, vs_maps_count(r1, BIG));
	EXPECT_GE(base + SLACK_KB, after);
	EXPECT_EQ(nfds, vs_count_fds());
	/* Whatever is left is the owner's own business now. */
	vs_dev_close(&d);
}

/*
 * The same with the last fd in another process: the owner closes its own
 * fd, the helper-like process keeps the device, then closes it; release
 * runs there and its worker takes the mappings out of the owner's mm.
 */
TEST_F(life, remote_closes_last_fd)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = BIG } };
	struct vs_remote_req req = { .op = VS_R_CLOSE_DEV };
	struct vs_remote_rep rep;
	struct vs_remote rem;
	struct vs_dev d;
	long base, after;
	int m;
	struct stat mst;

	base = vs_meminfo_kb("Shmem");
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	m = vs_memfd("close-remote", BIG, 49);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, fstat(m, &mst));
	ASSERT_EQ(0, vs_remote_start(&rem, d.fd));
	ASSERT_EQ(0, vs_remote_map(&rem, 0, m, 0, 0, BIG, VHOST_SHMEM_MAP_F_RW));
	close(m);
	close(d.fd);
	d.fd = -1;
	/* The remote's fd keeps the device: the mapping works on. */
	ASSERT_EQ(-1, vs_check_pat(d.r[0].addr + BIG / 2, PG, 49, BIG / 2, NULL));
	ASSERT_TRUE(maps_file(&mst));
	ASSERT_EQ(0, vs_remote_call(&rem, &req, -1, &rep));
	ASSERT_EQ(0, rep.ret);
	after = vs_wait_shmem_below(base + SLACK_KB, 10000);
	EXPECT_FALSE(maps_file(&mst));
	EXPECT_EQ(0, vs_maps_count(d.r[0].addr, BIG));
	EXPECT_GE(base + SLACK_KB, after);
	EXPECT_EQ(0, vs_remote_stop(&rem));
	vs_dev_close(&d);
}

TEST_HARNESS_MAIN
