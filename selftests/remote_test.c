// SPDX-License-Identifier: GPL-2.0
/*
 * MAP/UNMAP/RESET from a second process that received the device fd over
 * SCM_RIGHTS (as vhost-shmem-helper does): the owner sees exactly the
 * backend's bytes, errors come back to the caller, nothing leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"

#define NPAGES 64

FIXTURE(remote) {
	struct vs_dev d;
	struct vs_remote rem;
	int a, b;
};

FIXTURE_SETUP(remote)
{
	const struct vs_layout l[] = {
		{ .shmid = 0, .size = NPAGES * PG },
		{ .shmid = 7, .size = 8 * PG, .flags = VHOST_SHMEM_REGION_F_FAULT_HOLES },
	};
	int ret;

	self->a = self->b = -1;
	self->d.fd = -1;
	self->rem.pid = -1;
	self->rem.sock = -1;
	VS_REQUIRE_DEV_IN_SETUP();
	ret = vs_dev_setup(&self->d, l, 2, true);
	if (ret)
		TH_LOG("device setup: %s", self->d.err);
	ASSERT_EQ(0, ret);
	self->a = vs_memfd("remote-a", 32 * PG, 31);
	self->b = vs_memfd("remote-b", 32 * PG, 32);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	ASSERT_EQ(0, vs_remote_start(&self->rem, self->d.fd));
}

FIXTURE_TEARDOWN(remote)
{
	vs_remote_stop(&self->rem);
	vs_dev_close(&self->d);
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
}

TEST_F(remote, map_unmap_seen_by_owner)
{
	uint8_t *r = self->d.r[0].addr;
	struct vhost_shmem_stats st;
	uint8_t byte;

	ASSERT_EQ(0, vs_remote_map(&self->rem, 0, self->a, 4 * PG, 8 * PG, 8 * PG,
				   VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(-1, vs_check_pat(r + 8 * PG, 8 * PG, 31, 4 * PG, NULL));
	ASSERT_EQ(-1, vs_check_zero(r, 8 * PG, NULL));
	ASSERT_EQ(-1, vs_check_zero(r + 16 * PG, (NPAGES - 16) * PG, NULL));
	/* The owner writes through it, the file sees it. */
	r[9 * PG] = 0x3c;
	ASSERT_EQ(1, pread(self->a, &byte, 1, 5 * PG));
	EXPECT_EQ(0x3c, byte);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(1, st.mappings);
	EXPECT_EQ(8 * PG, st.mapped_bytes);

	/* RO from the remote: writes by the owner fault. */
	ASSERT_EQ(0, vs_remote_map(&self->rem, 0, self->b, 0, 20 * PG, 2 * PG, 0));
	ASSERT_EQ(-1, vs_check_pat(r + 20 * PG, 2 * PG, 32, 0, NULL));
	EXPECT_NE(0, vs_probe_write(r + 20 * PG, 1));
	EXPECT_EQ(-1, mprotect(r + 20 * PG, 2 * PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);

	ASSERT_EQ(0, vs_remote_unmap(&self->rem, 0, 8 * PG, 8 * PG));
	ASSERT_EQ(-1, vs_check_zero(r + 8 * PG, 8 * PG, NULL));
	EXPECT_EQ(SIGBUS, vs_probe_write(r + 8 * PG, 1));
	/* Re-map another file at the same place. */
	ASSERT_EQ(0, vs_remote_map(&self->rem, 0, self->b, 8 * PG, 8 * PG, 8 * PG, 0));
	ASSERT_EQ(-1, vs_check_pat(r + 8 * PG, 8 * PG, 32, 8 * PG, NULL));
	/* The FAULT_HOLES region too. */
	ASSERT_EQ(0, vs_remote_map(&self->rem, 7, self->a, 0, PG, PG, 0));
	ASSERT_EQ(-1, vs_check_pat(self->d.r[1].addr + PG, PG, 31, 0, NULL));
	EXPECT_EQ(SIGBUS, vs_probe_read(self->d.r[1].addr, NULL));
	EXPECT_TRUE(vs_maps_covered(r, NPAGES * PG));
}

/* Errors reach the remote caller and leave the owner's region as it was. */
TEST_F(remote, errors_from_remote)
{
	struct vs_snap snap;
	char path[64];
	int ro;

	ASSERT_EQ(0, vs_remote_map(&self->rem, 0, self->a, 0, 0, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_snap_take(&self->d, 0, 0, NPAGES * PG, &snap));
	EXPECT_EQ(-EEXIST, vs_remote_map(&self->rem, 0, self->b, 0, 2 * PG, 4 * PG, 0));
	ASSERT_SNAP_SAME(&self->d, 0, &snap, 1);
	EXPECT_EQ(-ERANGE, vs_remote_map(&self->rem, 0, self->b, 0, NPAGES * PG, PG, 0));
	ASSERT_SNAP_SAME(&self->d, 0, &snap, 2);
	EXPECT_EQ(-EOVERFLOW, vs_remote_map(&self->rem, 0, self->b, 31 * PG, 8 * PG, 2 * PG, 0));
	ASSERT_SNAP_SAME(&self->d, 0, &snap, 3);
	EXPECT_EQ(-EBADF, vs_remote_map(&self->rem, 0, -1, 0, 8 * PG, PG, 0));
	ASSERT_SNAP_SAME(&self->d, 0, &snap, 4);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->b);
	ro = open(path, O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EACCES, vs_remote_map(&self->rem, 0, ro, 0, 8 * PG, PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_SNAP_SAME(&self->d, 0, &snap, 5);
	EXPECT_EQ(0, vs_remote_map(&self->rem, 0, ro, 0, 8 * PG, PG, 0));
	close(ro);
	EXPECT_EQ(-ELOOP, vs_remote_map(&self->rem, 0, self->d.fd, 0, 16 * PG, PG, 0));
	EXPECT_EQ(-ENOENT, vs_remote_unmap(&self->rem, 0, 0, 2 * PG));
	EXPECT_EQ(0, vs_remote_unmap(&self->rem, 0, 0, 4 * PG));
	vs_snap_free(&snap);
}

/* RESET from the remote; the remote never accumulates fds. */
TEST_F(remote, reset_and_fds)
{
	struct vs_remote_req req = { .op = VS_R_NFDS };
	struct vs_remote_rep rep;
	uint8_t *r = self->d.r[0].addr;
	int nfds0, i, owner_fds = vs_count_fds();

	ASSERT_EQ(0, vs_remote_call(&self->rem, &req, -1, &rep));
	nfds0 = rep.nfds;
	for (i = 0; i < 50; i++)
		ASSERT_EQ(0, vs_remote_map(&self->rem, 0, i & 1 ? self->a : self->b,
					   (i % 32) * PG, i * PG, PG,
					   i & 2 ? VHOST_SHMEM_MAP_F_RW : 0));
	ASSERT_EQ(0, vs_remote_call(&self->rem, &req, -1, &rep));
	EXPECT_EQ(nfds0, rep.nfds);
	ASSERT_EQ(-1, vs_check_pat(r + 3 * PG, PG, 31, 3 * PG, NULL));
	req.op = VS_R_RESET;
	ASSERT_EQ(0, vs_remote_call(&self->rem, &req, -1, &rep));
	EXPECT_EQ(0, rep.ret);
	ASSERT_EQ(-1, vs_check_zero(r, NPAGES * PG, NULL));
	req.op = VS_R_STATS;
	ASSERT_EQ(0, vs_remote_call(&self->rem, &req, -1, &rep));
	EXPECT_EQ(0, rep.ret);
	EXPECT_EQ(0, rep.st.mappings);
	EXPECT_EQ(50, rep.st.maps);
	EXPECT_EQ(50, rep.st.unmaps);
	EXPECT_EQ(owner_fds, vs_count_fds());
}

/* The remote closes its device fd: the owner's device keeps working. */
TEST_F(remote, remote_closes_fd)
{
	struct vs_remote_req req = { .op = VS_R_CLOSE_DEV };
	struct vs_remote_rep rep;

	ASSERT_EQ(0, vs_remote_map(&self->rem, 0, self->a, 0, 0, 2 * PG, 0));
	ASSERT_EQ(0, vs_remote_call(&self->rem, &req, -1, &rep));
	EXPECT_EQ(0, rep.ret);
	ASSERT_EQ(-1, vs_check_pat(self->d.r[0].addr, 2 * PG, 31, 0, NULL));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 0, 4 * PG, PG, 0));
	ASSERT_EQ(-1, vs_check_pat(self->d.r[0].addr + 4 * PG, PG, 32, 0, NULL));
	/* The remote exiting does not disturb anything either. */
	vs_remote_stop(&self->rem);
	ASSERT_EQ(-1, vs_check_pat(self->d.r[0].addr, 2 * PG, 31, 0, NULL));
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 0, 2 * PG));
}

/* A BATCH from the other process: one worker hand-off, every result right. */
TEST_F(remote, batch)
{
	uint8_t *r = self->d.r[0].addr;
	int st;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vhost_shmem_op ops[5];

		ops[0] = vs_op_map(0, self->a, 0, 0, 4 * PG, 0);
		ops[1] = vs_op_map(0, self->b, 2 * PG, 8 * PG, 2 * PG, VHOST_SHMEM_MAP_F_RW);
		ops[2] = vs_op_unmap(0, 0, 4 * PG);
		ops[3] = vs_op_map(0, self->a, 0, 9 * PG, PG, 0);	/* overlaps 1 */
		ops[4] = vs_op_map(7, self->a, 0, 0, 16 * PG, 0);	/* beyond region 7 */
		if (vs_batch(self->d.fd, ops, 5) || ops[0].result || ops[1].result ||
		    ops[2].result || ops[3].result != -EEXIST ||
		    ops[4].result != -ERANGE)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	ASSERT_EQ(-1, vs_check_zero(r, 8 * PG, NULL));
	ASSERT_EQ(-1, vs_check_pat(r + 8 * PG, 2 * PG, 32, 2 * PG, NULL));
	ASSERT_EQ(-1, vs_check_zero(r + 10 * PG, (NPAGES - 10) * PG, NULL));
}

/* RLIMIT_MEMLOCK of kernel threads (kthreadd's, which the worker has). */
static long kthread_memlock(void)
{
	FILE *f = fopen("/proc/2/limits", "re");
	char line[256];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Max locked memory", 17))
			v = strstr(line, "unlimited") ? -2 : strtol(line + 17, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/*
 * The worker runs each request with the requester's credentials. With
 * the owner's memory locked (mlockall(MCL_FUTURE)) a MAP beyond the
 * worker's RLIMIT_MEMLOCK needs CAP_IPC_LOCK, judged on the requester: a
 * helper without capabilities (the device fd by SCM_RIGHTS; uid and gid
 * 65534 when the suite runs as root, the suite's own user when it runs
 * unprivileged, as in the VM) gets EAGAIN and changes nothing; the
 * worker's own (kthread, root) credentials would let it through. From a
 * root helper, when the suite runs as root, the same MAP works. Small
 * requests work for anyone.
 */
TEST_F(remote, unprivileged_requester_creds)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 32UL << 20 } };
	bool root = vs_capable();
	struct vs_remote nobody;
	struct vs_snap snap;
	struct vs_dev d;
	long limit = kthread_memlock();
	uint64_t len;
	int m;

	if (limit == -2)
		SKIP(return, "kernel threads have no RLIMIT_MEMLOCK");
	ASSERT_LT(0, limit);
	len = ((uint64_t)limit + (2UL << 20)) & ~(uint64_t)(PG - 1);
	TH_LOG("worker RLIMIT_MEMLOCK %ld bytes; MAP of %llu; suite %s", limit,
	       (unsigned long long)len, root ? "as root" : "without capabilities");
	ASSERT_GE(l[0].size, len);
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	m = vs_memfd("unpriv", len, 35);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, vs_remote_start_unpriv(&nobody, d.fd));
	vs_remote_stop(&self->rem);
	ASSERT_EQ(0, vs_remote_start(&self->rem, d.fd));
	ASSERT_EQ(0, mlockall(MCL_FUTURE));

	/* Small: fine for anyone. */
	EXPECT_EQ(0, vs_remote_map(&nobody, 0, m, 0, 0, PG, VHOST_SHMEM_MAP_F_RW));
	EXPECT_EQ(0, vs_remote_unmap(&nobody, 0, 0, PG));
	/* Beyond the limit without CAP_IPC_LOCK: EAGAIN, nothing changed. */
	ASSERT_EQ(0, vs_snap_take(&d, 0, 0, 4 * PG, &snap));
	EXPECT_EQ(-EAGAIN, vs_remote_map(&nobody, 0, m, 0, 0, len, VHOST_SHMEM_MAP_F_RW));
	ASSERT_SNAP_SAME(&d, 0, &snap, 1);
	vs_snap_free(&snap);
	if (root) {
		/* The same from root: CAP_IPC_LOCK, so it works (and is locked). */
		EXPECT_EQ(0, vs_remote_map(&self->rem, 0, m, 0, 0, len, VHOST_SHMEM_MAP_F_RW));
		EXPECT_EQ(-1, vs_check_pat(d.r[0].addr + len - PG, PG, 35, len - PG, NULL));
		EXPECT_EQ(0, vs_remote_unmap(&self->rem, 0, 0, len));
	}
	munlockall();
	EXPECT_EQ(0, vs_remote_stop(&nobody));
	close(m);
	vs_dev_close(&d);
}

TEST_HARNESS_MAIN
