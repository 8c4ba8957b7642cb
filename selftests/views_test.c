// SPDX-License-Identifier: GPL-2.0
/*
 * Region views (VHOST_SHMEM_GET_VIEW): a second process mmaps a view of a
 * region and sees every MAP, UNMAP and RESET of the owner as bytes and
 * zeros; read-write views write the backend file, read-only ones cannot;
 * a MAP one viewer cannot take changes nothing anywhere; a viewer's
 * munmap, remap and fork, and the owner's death. Runs unprivileged: what
 * needs root (a viewer at vm.max_map_count, the max_viewers parameter) is
 * in root_test.
 *
 * The test process is the owner. Each viewer is a forked child that mmaps
 * the view it inherited and executes commands sent over a socket
 * (viewer_lib.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"
#include "viewer_lib.h"

#define NPAGES	64

/* max_viewers' default: one device's viewers, all regions. */
#define NVIEWERS	8

FIXTURE(views) {
	struct vs_dev d;
	struct vs_viewer v[NVIEWERS];
	int mfd;		/* NPAGES of pattern 1 */
};

FIXTURE_SETUP(views)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = NPAGES * PG } };
	int i;

	VS_REQUIRE_DEV_IN_SETUP();
	for (i = 0; i < NVIEWERS; i++)
		self->v[i].pid = -1;
	ASSERT_EQ(0, vs_dev_setup(&self->d, l, 1, true));
	self->mfd = vs_memfd("views", NPAGES * PG, 1);
	ASSERT_LE(0, self->mfd);
}

FIXTURE_TEARDOWN(views)
{
	int i;

	for (i = 0; i < NVIEWERS; i++)
		vs_viewer_stop(&self->v[i]);
	close(self->mfd);
	vs_dev_close(&self->d);
}

#define R(self)	((self)->d.r[0].addr)
#define SZ	(NPAGES * PG)

/* A viewer of [@off, @off + @len) of a view with @flags, mmapped with @prot. */
static int start_part(FIXTURE_DATA(views) *self, int i, uint32_t flags,
		      int prot, uint64_t off, uint64_t len)
{
	int vfd = vs_get_view(self->d.fd, 0, flags), ret;

	if (vfd < 0)
		return vfd;
	ret = vs_viewer_start(&self->v[i], vfd, off, len, prot);
	close(vfd);
	return ret;
}

/* A viewer of the whole region. */
static int start_view(FIXTURE_DATA(views) *self, int i, uint32_t flags, int prot)
{
	return start_part(self, i, flags, prot, 0, SZ);
}

/* Every MAP, UNMAP and RESET as bytes and zeros, in two viewers. */
TEST_F(views, map_unmap_reset_seen)
{
	int i;

	ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, start_view(self, 1, 0, PROT_READ));
	/* A mapping made before a viewer attaches is there too. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 4 * PG, 4 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 10 * PG, 20 * PG, 2 * PG, 0));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_PAT, 4 * PG, 4 * PG, 1, 0));
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_PAT, 20 * PG, 2 * PG, 1, 10 * PG));
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, 0, 4 * PG, 0, 0));
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, 8 * PG, 12 * PG, 0, 0));
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, 22 * PG, SZ - 22 * PG, 0, 0));
	}
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 4 * PG, 4 * PG));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, 0, 20 * PG, 0, 0));
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_PAT, 20 * PG, 2 * PG, 1, 10 * PG));
	}
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 40 * PG, PG, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, 40 * PG, PG, 1, 0));
	ASSERT_EQ(0, vs_reset(self->d.fd));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, 0, SZ, 0, 0));
		/* RESET merged the holes: one vma again. */
		EXPECT_EQ(1, vs_vcall(&self->v[i], V_VMAS, 0, 0, 0, 0));
	}
	EXPECT_EQ(0, vs_check_zero(R(self), SZ, NULL) + 1);
}

/* A read-write view writes the file; the owner sees it. */
TEST_F(views, rw_view_writes_reach_file)
{
	uint8_t b = 0;

	ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 4 * PG, 4 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_vcall(&self->v[0], V_WRITE, 5 * PG + 7, 0, 0xa5, 0));
	ASSERT_EQ(1, pread(self->mfd, &b, 1, PG + 7));
	EXPECT_EQ(0xa5, b);
	EXPECT_EQ(0xa5, R(self)[5 * PG + 7]);
	/* A hole of the view cannot be written. */
	EXPECT_EQ(SIGBUS, vs_vcall(&self->v[0], V_WRITE, 30 * PG, 0, 1, 0));
}

/*
 * A read-write view mmapped without PROT_WRITE gets its read-write
 * mappings read-only: a write faults and leaves the file alone, until the
 * viewer itself mprotect()s one writable (a read-write view may write).
 */
TEST_F(views, rw_view_mapped_read_only_stays_read_only)
{
	uint8_t b = 0;

	ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW, PROT_READ));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 4 * PG, 4 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_PAT, 4 * PG, 4 * PG, 1, 0));
	EXPECT_EQ(SIGSEGV, vs_vcall(&self->v[0], V_WRITE, 5 * PG, 0, 0x5a, 0));
	ASSERT_EQ(0, vs_check_file_pat(self->mfd, 0, NPAGES * PG, 1, 0, NULL) + 1);
	ASSERT_EQ(0, vs_vcall(&self->v[0], V_MPROTECT, 5 * PG, PG, 0,
			      PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vs_vcall(&self->v[0], V_WRITE, 5 * PG, 0, 0x5a, 0));
	ASSERT_EQ(1, pread(self->mfd, &b, 1, PG));
	EXPECT_EQ(0x5a, b);
	/* UNMAP takes it out all the same. */
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 4 * PG, 4 * PG));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 0, SZ, 0, 0));
}

/*
 * /dev/zero makes a new shmem file at each mmap(): every space must map
 * the one the first space got, so writes are shared both ways, also with
 * a viewer that attaches later.
 */
TEST_F(views, dev_zero_shared)
{
	int zfd = open("/dev/zero", O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, zfd);
	ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, zfd, 0, 4 * PG, 2 * PG, VHOST_SHMEM_MAP_F_RW));
	close(zfd);
	R(self)[4 * PG + 3] = 0x3c;
	/* Not zero any more: the owner's write, seen by the viewer. */
	EXPECT_NE(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 4 * PG, PG, 0, 0));
	ASSERT_EQ(0, vs_vcall(&self->v[0], V_WRITE, 5 * PG + 1, 0, 0xa5, 0));
	EXPECT_EQ(0xa5, R(self)[5 * PG + 1]);
	ASSERT_EQ(0, start_view(self, 1, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	EXPECT_NE(0, vs_vcall(&self->v[1], V_CHECK_ZERO, 4 * PG, PG, 0, 0));
	EXPECT_NE(0, vs_vcall(&self->v[1], V_CHECK_ZERO, 5 * PG, PG, 0, 0));
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 4 * PG, 2 * PG));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 0, SZ, 0, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_ZERO, 0, SZ, 0, 0));
}

/* Nothing writes through a read-only view or a read-only mapping. */
TEST_F(views, ro_cannot_be_written)
{
	ASSERT_EQ(0, start_view(self, 0, 0, PROT_READ));
	ASSERT_EQ(0, start_view(self, 1, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 4 * PG, 4 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 8 * PG, 16 * PG, PG, 0));
	/* Read-only view of a read-write mapping: readable, never writable. */
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_PAT, 4 * PG, 4 * PG, 1, 0));
	EXPECT_EQ(SIGSEGV, vs_vcall(&self->v[0], V_WRITE, 4 * PG, 0, 0x5a, 0));
	EXPECT_EQ(-EACCES, vs_vcall(&self->v[0], V_MPROTECT, 4 * PG, PG, 0,
				 PROT_READ | PROT_WRITE));
	/* Read-only mapping in a read-write view. */
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, 16 * PG, PG, 1, 8 * PG));
	EXPECT_EQ(SIGSEGV, vs_vcall(&self->v[1], V_WRITE, 16 * PG, 0, 0x5a, 0));
	EXPECT_EQ(-EACCES, vs_vcall(&self->v[1], V_MPROTECT, 16 * PG, PG, 0,
				 PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, vs_check_file_pat(self->mfd, 0, NPAGES * PG, 1, 0, NULL) + 1);
}

/* A hole the viewer mprotect'ed refuses the MAP everywhere. */
TEST_F(views, viewer_foreign_vma_refuses_map)
{
	struct vhost_shmem_stats st0, st;

	ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, start_view(self, 1, 0, PROT_READ));
	ASSERT_EQ(0, vs_vcall(&self->v[1], V_MPROTECT, 21 * PG, PG, 0, PROT_NONE));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st0));
	EXPECT_EQ(-EXDEV, vs_map(self->d.fd, 0, self->mfd, 0, 20 * PG, 4 * PG,
				 VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(st0.mappings, st.mappings);
	EXPECT_EQ(0, vs_check_zero(R(self) + 20 * PG, 4 * PG, NULL) + 1);
	EXPECT_EQ(1, vs_maps_count(R(self), SZ));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 20 * PG, 4 * PG, 0, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_ZERO, 20 * PG, PG, 0, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_ZERO, 22 * PG, 2 * PG, 0, 0));
	/* Elsewhere MAP works, in both. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 40 * PG, PG, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_PAT, 40 * PG, PG, 1, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, 40 * PG, PG, 1, 0));
}

/*
 * A read-only viewer refuses a read-write /dev/zero MAP (EACCES) while a
 * read-write viewer the MAP reached first keeps it: its own thread
 * registered the new vma with userfaultfd (6.1, which registers the
 * device's mappings) or mseal()ed it (6.10+, which do not) before the
 * rollback came. MAP stays all or nothing the only honest way: EBUSY, and
 * the mapping stays listed (the same range is refused with EEXIST), gone
 * from the owner and the other viewers, until the viewer lets go (closes
 * its userfaultfd: the reap takes it out; or exits) and UNMAP takes it
 * out (0). The install order is the owner, then the viewers last attached
 * first: six read-write viewers attached between the two widen the
 * window, and the one installed next keeps its own mmap_lock busy, so the
 * device waits there with the mapping in the first. A race the viewer
 * loses anyway is a plain EACCES (the range is a hole again, nothing
 * grabbed), and the test tries the next range.
 */
TEST_F(views, map_kept_by_viewer_stays_listed)
{
	const int ro = 0, rw = NVIEWERS - 1;
	long mode = vs_grab_mode();
	int zfd = open("/dev/zero", O_RDWR | O_CLOEXEC), i, ret = 0;
	uint64_t off, len = 2 * PG;
	struct vhost_shmem_stats st;
	long grabbed = 0;

	ASSERT_LE(0, zfd);
	ASSERT_EQ(0, start_view(self, ro, 0, PROT_READ));
	for (i = ro + 1; i <= rw; i++)
		ASSERT_EQ(0, start_view(self, i, VHOST_SHMEM_VIEW_F_RW,
					PROT_READ | PROT_WRITE));
	for (off = 0; off < SZ; off += 8 * PG) {
		ASSERT_EQ(0, vs_vcall(&self->v[rw - 1], V_BUSY, 0, 0, 0, 64 << 20));
		ASSERT_EQ(0, vs_vcall(&self->v[rw], V_GRAB, off, len, 0, mode));
		ret = vs_map(self->d.fd, 0, zfd, 0, off, len, VHOST_SHMEM_MAP_F_RW);
		grabbed = vs_vcall(&self->v[rw], V_GRABBED, 0, 0, 0, 0);
		ASSERT_EQ(1, vs_vcall(&self->v[rw - 1], V_VMAS, 0, 0, 0, 0));
		ASSERT_LE(0, grabbed);
		if (grabbed)
			break;
		ASSERT_EQ(-EACCES, ret);
	}
	close(zfd);
	ASSERT_TRUE(grabbed);
	TH_LOG("%s won the race at page %lu", mode == VGRAB_SEAL ? "mseal" :
	       "userfaultfd", (unsigned long)(off / PG));
	EXPECT_EQ(-EBUSY, ret);
	/* Still listed: counted, and the same range is taken. */
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(1, st.mappings);
	EXPECT_EQ(-EEXIST, vs_map(self->d.fd, 0, self->mfd, 0, off, len, 0));
	/* Gone from the owner and every other viewer: one hole each. */
	EXPECT_EQ(0, vs_check_zero(R(self), SZ, NULL) + 1);
	EXPECT_EQ(1, vs_maps_count(R(self), SZ));
	for (i = ro; i < rw; i++) {
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, 0, SZ, 0, 0));
		EXPECT_EQ(1, vs_vcall(&self->v[i], V_VMAS, 0, 0, 0, 0));
	}
	/* The viewer that kept it still has it. */
	EXPECT_LT(1, vs_vcall(&self->v[rw], V_VMAS, 0, 0, 0, 0));
	/* A new viewer never gets it. */
	vs_viewer_stop(&self->v[ro]);
	ASSERT_EQ(0, start_view(self, ro, VHOST_SHMEM_VIEW_F_RW,
				PROT_READ | PROT_WRITE));
	EXPECT_EQ(1, vs_vcall(&self->v[ro], V_VMAS, 0, 0, 0, 0));
	/* Other mappings come and go as before: that viewer never had them. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, off + 4 * PG, PG, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, off + 4 * PG, PG, 1, 0));
	EXPECT_EQ(0, vs_unmap(self->d.fd, 0, off + 4 * PG, PG));
	/* Let go: no userfaultfd any more, or no viewer. Then UNMAP takes it. */
	if (mode == VGRAB_UFFD) {
		ASSERT_EQ(0, vs_vcall(&self->v[rw], V_UNGRAB, 0, 0, 0, 0));
	} else {
		vs_viewer_stop(&self->v[rw]);
	}
	EXPECT_EQ(0, vs_unmap(self->d.fd, 0, off, len));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	/* The range takes a MAP again, everywhere. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, off, len, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[ro], V_CHECK_PAT, off, len, 1, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, off, len, 1, 0));
}

/*
 * The same in the middle of a BATCH (three MAPs, the second of
 * /dev/zero read-write, which the read-only viewer refuses while the
 * read-write one keeps it): the batch goes on, results 0, EBUSY, 0. Then
 * RESET: EBUSY (that viewer still maps it) and every mapping gone from
 * the table; the owner and the other viewers are one hole again. Once
 * that viewer let go, the range takes a MAP again.
 */
TEST_F(views, batch_map_kept_then_reset)
{
	const int ro = 0, rw = NVIEWERS - 1;
	int zfd = open("/dev/zero", O_RDWR | O_CLOEXEC), i, made = 0;
	long mode = vs_grab_mode(), grabbed = 0;
	struct vhost_shmem_stats st;
	struct vhost_shmem_op ops[3];
	uint64_t base, off = 0;

	ASSERT_LE(0, zfd);
	ASSERT_EQ(0, start_view(self, ro, 0, PROT_READ));
	for (i = ro + 1; i <= rw; i++)
		ASSERT_EQ(0, start_view(self, i, VHOST_SHMEM_VIEW_F_RW,
					PROT_READ | PROT_WRITE));
	for (base = 0; base < SZ; base += 16 * PG) {
		off = base + 4 * PG;
		ops[0] = vs_op_map(0, self->mfd, 0, base, 2 * PG, 0);
		ops[1] = vs_op_map(0, zfd, 0, off, 2 * PG, VHOST_SHMEM_MAP_F_RW);
		ops[2] = vs_op_map(0, self->mfd, 0, base + 8 * PG, 2 * PG, 0);
		ASSERT_EQ(0, vs_vcall(&self->v[rw - 1], V_BUSY, 0, 0, 0, 64 << 20));
		ASSERT_EQ(0, vs_vcall(&self->v[rw], V_GRAB, off, 2 * PG, 0, mode));
		ASSERT_EQ(0, vs_batch(self->d.fd, ops, 3));
		grabbed = vs_vcall(&self->v[rw], V_GRABBED, 0, 0, 0, 0);
		ASSERT_LT(0, vs_vcall(&self->v[rw - 1], V_VMAS, 0, 0, 0, 0));
		ASSERT_LE(0, grabbed);
		EXPECT_EQ(0, ops[0].result);
		EXPECT_EQ(0, ops[2].result);
		made += 2;
		if (grabbed)
			break;
		ASSERT_EQ(-EACCES, ops[1].result);
	}
	close(zfd);
	ASSERT_TRUE(grabbed);
	EXPECT_EQ(-EBUSY, ops[1].result);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(made + 1, st.mappings);
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, base + 8 * PG, 2 * PG, 1, 0));
	EXPECT_EQ(-EBUSY, vs_reset(self->d.fd));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(0, vs_check_zero(R(self), SZ, NULL) + 1);
	EXPECT_EQ(1, vs_maps_count(R(self), SZ));
	for (i = ro; i < rw; i++) {
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, 0, SZ, 0, 0));
		EXPECT_EQ(1, vs_vcall(&self->v[i], V_VMAS, 0, 0, 0, 0));
	}
	if (mode == VGRAB_UFFD) {
		ASSERT_EQ(0, vs_vcall(&self->v[rw], V_UNGRAB, 0, 0, 0, 0));
	} else {
		vs_viewer_stop(&self->v[rw]);
	}
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, off, 2 * PG, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, off, 2 * PG, 1, 0));
}

/*
 * A view of part of the region, [16, 32) pages: it shows what the owner
 * has there, also the parts of mappings that straddle its edges, made
 * before and after it attached, and nothing of the rest.
 */
TEST_F(views, part_view_shows_its_part)
{
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 12 * PG, 8 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 40 * PG, 4 * PG, 4 * PG, 0));
	ASSERT_EQ(0, start_part(self, 0, VHOST_SHMEM_VIEW_F_RW,
				PROT_READ | PROT_WRITE, 16 * PG, 16 * PG));
	ASSERT_EQ(0, start_part(self, 1, 0, PROT_READ, 16 * PG, 16 * PG));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 20 * PG, 24 * PG, 2 * PG, 0));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 8 * PG, 30 * PG, 6 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	for (int i = 0; i < 2; i++) {
		/* [12, 20) from file page 0: pages 4..7 of the file at 16. */
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_PAT, 16 * PG, 4 * PG, 1, 4 * PG));
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, 20 * PG, 4 * PG, 0, 0));
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_PAT, 24 * PG, 2 * PG, 1, 20 * PG));
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, 26 * PG, 4 * PG, 0, 0));
		/* [30, 36) from file page 8: its first two pages. */
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_PAT, 30 * PG, 2 * PG, 1, 8 * PG));
		/* [16,20), hole, [24,26), hole, [30,32). */
		EXPECT_EQ(5, vs_vcall(&self->v[i], V_VMAS, 0, 0, 0, 0));
	}
	/* A write through the read-write part view reaches the file. */
	ASSERT_EQ(0, vs_vcall(&self->v[0], V_WRITE, 17 * PG + 3, 0, 0x3c, 0));
	EXPECT_EQ(0x3c, R(self)[17 * PG + 3]);
	EXPECT_EQ(SIGSEGV, vs_vcall(&self->v[1], V_WRITE, 17 * PG, 0, 0x3c, 0));
	/* UNMAP of a straddling mapping takes its part out of the view. */
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 12 * PG, 8 * PG));
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 30 * PG, 6 * PG));
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, 16 * PG, 8 * PG, 0, 0));
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_PAT, 24 * PG, 2 * PG, 1, 20 * PG));
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, 26 * PG, 6 * PG, 0, 0));
	}
	/* A foreign vma in the part view refuses MAPs there only. */
	ASSERT_EQ(0, vs_vcall(&self->v[1], V_MPROTECT, 28 * PG, PG, 0, PROT_NONE));
	EXPECT_EQ(-EXDEV, vs_map(self->d.fd, 0, self->mfd, 0, 26 * PG, 4 * PG, 0));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 50 * PG, 4 * PG, 0));
	EXPECT_EQ(0, vs_check_pat(R(self) + 50 * PG, 4 * PG, 1, 0, NULL) + 1);
	ASSERT_EQ(0, vs_reset(self->d.fd));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 16 * PG, 16 * PG, 0, 0));
	EXPECT_EQ(1, vs_vcall(&self->v[0], V_VMAS, 0, 0, 0, 0));
}

/* Parts a view refuses: beyond the region, at an unaligned offset. */
TEST_F(views, part_view_errors)
{
	int vfd = vs_get_view(self->d.fd, 0, 0);
	void *p;

	ASSERT_LE(0, vfd);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, PROT_READ, MAP_SHARED, vfd, SZ));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, vfd, SZ - PG));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, PROT_READ, MAP_SHARED, vfd, 1ULL << 52));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, PROT_READ, MAP_SHARED, vfd, PG / 2));
	EXPECT_EQ(EINVAL, errno);
	/* The last page alone is a part. */
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, vfd, SZ - PG);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, PG);
	close(vfd);
}

/* A viewer that unmapped its view is left alone by later MAPs. */
TEST_F(views, viewer_munmap_detaches)
{
	ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 4 * PG, PG, 0));
	ASSERT_EQ(0, vs_vcall(&self->v[0], V_MUNMAP, 0, 0, 0, 0));
	/* What the device installed went with the viewer's own munmap. */
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_VMAS, 0, 0, 0, 0));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 8 * PG, PG, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_VMAS, 0, 0, 0, 0));
	EXPECT_EQ(0, vs_unmap(self->d.fd, 0, 4 * PG, PG));
	EXPECT_EQ(0, vs_unmap(self->d.fd, 0, 8 * PG, PG));
}

/*
 * A viewer mmaps its view fd again over its own view (MAP_FIXED): the old
 * viewer is detached, the new one at the same place gets every mapping,
 * and reaping the old one must not take them out of the new one (same
 * file, same range).
 */
TEST_F(views, remap_over_own_view_keeps_mappings)
{
	int i;

	ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 4 * PG, 4 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, vs_vcall(&self->v[0], V_REMAP, 0, 0, 0, 0));
		/* A request reaps detached viewers first. */
		ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 40 * PG, PG, 0));
		ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 40 * PG, PG)) TH_LOG("round %d", i);
		ASSERT_EQ(0, vs_vcall(&self->v[0], V_CHECK_PAT, 4 * PG, 4 * PG, 1, 0))
			TH_LOG("round %d: the new view lost the mapping", i);
		ASSERT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 8 * PG, SZ - 8 * PG, 0, 0));
	}
	/* And the new viewer is the one the device keeps in step. */
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 4 * PG, 4 * PG));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 0, SZ, 0, 0));
	EXPECT_EQ(1, vs_vcall(&self->v[0], V_VMAS, 0, 0, 0, 0));
}

/*
 * A viewer kept listed (it keeps a mapping it sealed, or registered with
 * userfaultfd) is reaped again on every request; its process may have
 * mmapped a new view over the rest of its old range meanwhile, where the
 * new viewer gets the same mappings (the same files at the same places).
 * The retries must evict only what the old viewer keeps, never the new
 * view's mappings. Before, the first request after the new view attached
 * unmapped its mapping (a gap: SIGSEGV in the process's own new view).
 */
TEST_F(views, kept_viewer_retries_spare_new_view)
{
	long mode = vs_grab_mode();
	struct vhost_shmem_stats st;

	ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 4 * PG, 4 * PG, 2 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	/* Read-write: userfaultfd registers only vmas that may be written. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 40 * PG, 40 * PG, 2 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	/* The viewer keeps the second mapping, where the device cannot take it. */
	ASSERT_EQ(1, vs_vcall(&self->v[0], V_GRAB_NOW, 40 * PG, 2 * PG, 0, mode));
	/*
	 * A view of [0, 16) over the old one's first pages: that detaches the
	 * old viewer, which its reap keeps listed (it keeps the mapping at
	 * 40); the new one gets the first mapping at 4.
	 */
	ASSERT_EQ(0, vs_vcall(&self->v[0], V_REMAP_PART, 0, 16 * PG, 0, 0));
	ASSERT_EQ(0, vs_vcall(&self->v[0], V_CHECK_PAT, 4 * PG, 2 * PG, 1, 4 * PG));
	/* Each request reaps the kept viewer again first. */
	EXPECT_EQ(-ENOENT, vs_unmap(self->d.fd, 0, 50 * PG, PG));
	EXPECT_EQ(-ENOENT, vs_unmap(self->d.fd, 0, 50 * PG, PG));
	/* The new view still has its mapping: no gap, the file's bytes. */
	ASSERT_LE(0, vs_vcall(&self->v[0], V_READ32, 4 * PG, 0, 0, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_PAT, 4 * PG, 2 * PG, 1, 4 * PG));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 0, 4 * PG, 0, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 6 * PG, 10 * PG, 0, 0));
	/* The kept one is still kept: UNMAP says EBUSY and forgets it. */
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(2, st.mappings);
	EXPECT_EQ(-EBUSY, vs_unmap(self->d.fd, 0, 40 * PG, 2 * PG));
	/* The new viewer is the one the device keeps in step. */
	EXPECT_EQ(0, vs_unmap(self->d.fd, 0, 4 * PG, 2 * PG));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 0, 16 * PG, 0, 0));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 8 * PG, PG, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_PAT, 8 * PG, PG, 1, 0));
}

/* A viewer's fork child gets neither the view nor its mappings. */
TEST_F(views, fork_does_not_inherit)
{
	ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 4 * PG, PG,
			    VHOST_SHMEM_MAP_F_RW));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_FORK_VMAS, 0, 0, 0, 0));
	EXPECT_EQ(3, vs_vcall(&self->v[0], V_VMAS, 0, 0, 0, 0));
	EXPECT_EQ(0, vs_unmap(self->d.fd, 0, 4 * PG, PG));
}

/* What GET_VIEW and a view fd refuse. */
TEST_F(views, get_view_errors)
{
	struct vhost_shmem_view_req r = { .shmid = 0 };
	int ro, vfd;
	void *p;

	EXPECT_EQ(-EOPNOTSUPP, vs_get_view(self->d.fd, 0, 2));
	EXPECT_EQ(-EBADSLT, vs_get_view(self->d.fd, 1, 0));
	EXPECT_EQ(-EBADSLT, vs_get_view(self->d.fd, VHOST_SHMEM_MAX_REGIONS, 0));
	/* Not configured yet. */
	ro = open(VS_DEV_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADFD, vs_get_view(ro, 0, 0));
	close(ro);
	vfd = vs_get_view(self->d.fd, 0, 0);
	ASSERT_LE(0, vfd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(vfd, F_GETFD) & FD_CLOEXEC);
	/* Nothing but mmap: no ioctl of the device through a view. */
	EXPECT_EQ(-1, ioctl(vfd, VHOST_SHMEM_RESET));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(vfd, VHOST_SHMEM_GET_VIEW, &r));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, vfd, 0));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ, PROT_READ, MAP_PRIVATE, vfd, 0));
	EXPECT_EQ(EINVAL, errno);
	/* A view is no backend file. */
	EXPECT_EQ(-ELOOP, vs_map(self->d.fd, 0, vfd, 0, 0, PG, 0));
	p = mmap(NULL, SZ, PROT_READ, MAP_SHARED, vfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(p, SZ);
	close(vfd);
}

/* A read-write view needs a device fd open for writing. */
TEST(rw_view_needs_writable_fd)
{
	static struct vhost_shmem_config cfg;
	int fd, vfd;

	if (!vs_have_dev())
		SKIP(return, "no " VS_DEV_PATH ": module not loaded");
	fd = open(VS_DEV_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_SHMEM_SET_OWNER));
	cfg.regions[0].size = 4 * PG;
	ASSERT_EQ(0, ioctl(fd, VHOST_SHMEM_SET_CONFIG, &cfg));
	EXPECT_EQ(-EACCES, vs_get_view(fd, 0, VHOST_SHMEM_VIEW_F_RW));
	vfd = vs_get_view(fd, 0, 0);
	EXPECT_LE(0, vfd);
	if (vfd >= 0)
		close(vfd);
	close(fd);
}

/* The owner's death empties every view. */
TEST(owner_death_ends_views)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = NPAGES * PG } };
	int sv[2], vfd = -1, i;
	long z = 0;
	uint8_t *p, b;
	pid_t owner;

	if (!vs_have_dev())
		SKIP(return, "no " VS_DEV_PATH ": module not loaded");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	owner = fork();
	ASSERT_LE(0, owner);
	if (owner == 0) {
		struct vs_dev d;
		int m, v;

		close(sv[0]);
		if (vs_dev_setup(&d, l, 1, true))
			_exit(1);
		m = vs_memfd("views-owner", NPAGES * PG, 3);
		v = vs_get_view(d.fd, 0, 0);
		if (m < 0 || v < 0 ||
		    vs_map(d.fd, 0, m, 0, 0, NPAGES * PG, VHOST_SHMEM_MAP_F_RW))
			_exit(2);
		b = 1;
		if (vs_send_fd(sv[1], v, &b, 1))
			_exit(3);
		for (;;)
			pause();
	}
	close(sv[1]);
	ASSERT_EQ(1, vs_recv_fd(sv[0], &vfd, &b, 1));
	ASSERT_LE(0, vfd);
	p = mmap(NULL, NPAGES * PG, PROT_READ, MAP_SHARED, vfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, vs_check_pat(p, NPAGES * PG, 3, 0, NULL));
	kill(owner, SIGKILL);
	waitpid(owner, NULL, 0);
	for (i = 0; i < 200; i++) {
		z = vs_check_zero(p, NPAGES * PG, NULL);
		if (z == -1)
			break;
		usleep(10000);
	}
	EXPECT_EQ(-1, z);
	/* No new viewer of a dead owner. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, NPAGES * PG, PROT_READ, MAP_SHARED, vfd, 0));
	EXPECT_EQ(ESRCH, errno);
	munmap(p, NPAGES * PG);
	close(vfd);
	close(sv[0]);
}

/* ---- 10,000 live mappings with two viewers ---- */

/* 10,000 in full; the debug lane runs fewer (vs_count()), 100 at least. */
#define MANY_FULL	10000
#define MANY_MIN	100

FIXTURE(many) {
	struct vs_dev d;
	struct vs_viewer v[2];
	int n;			/* pages, each its own mapping: MANY_FULL scaled */
	int mfd;		/* n pages of pattern 5 */
};

FIXTURE_SETUP(many)
{
	struct vs_layout l[] = { { .shmid = 0 } };

	VS_REQUIRE_DEV_IN_SETUP();
	self->v[0].pid = self->v[1].pid = -1;
	/* A multiple of 10: every tenth page is unmapped and mapped again. */
	self->n = vs_count(MANY_FULL, MANY_MIN) / 10 * 10;
	l[0].size = self->n * PG;
	ASSERT_EQ(0, vs_dev_setup(&self->d, l, 1, true));
	self->mfd = vs_memfd("views-many", self->n * PG, 5);
	ASSERT_LE(0, self->mfd);
}

FIXTURE_TEARDOWN(many)
{
	vs_viewer_stop(&self->v[0]);
	vs_viewer_stop(&self->v[1]);
	close(self->mfd);
	vs_dev_close(&self->d);
}

/* MAP (@map) or UNMAP pages first, first + step, ... below @n, batched. */
static int many_ops(int fd, int mfd, int n_all, bool map, int first, int step)
{
	struct vhost_shmem_op ops[VHOST_SHMEM_BATCH_MAX];
	int i = first, n, k, ret;

	while (i < n_all) {
		for (n = 0; n < VHOST_SHMEM_BATCH_MAX && i < n_all; n++, i += step)
			ops[n] = map ? vs_op_map(0, mfd, i * PG, i * PG, PG,
						 i & 1 ? 0 : VHOST_SHMEM_MAP_F_RW) :
				       vs_op_unmap(0, i * PG, PG);
		ret = vs_batch(fd, ops, n);
		for (k = 0; !ret && k < n; k++)
			ret = ops[k].result;
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Every page of the region is its own mapping (every other one read-only),
 * 10,000 of them (fewer with VS_COUNT_DIV, logged):
 * two viewers, attached with all of them live, see every byte; UNMAP of
 * every tenth shows zeros there in both and nothing else changes; MAP
 * them back with the viewers attached; RESET leaves each one vma of zeros.
 */
TEST_F_TIMEOUT(many, ten_thousand_mappings_two_viewers, 600)
{
	struct vhost_shmem_stats st;
	struct timespec t0, t1;
	const int n = self->n;
	int i, k, vfd;

	if (n != MANY_FULL)
		TH_LOG("%d mappings, not %d: %s=%d", n, MANY_FULL,
		       VS_COUNT_DIV_ENV, vs_count_div());
	ASSERT_EQ(0, many_ops(self->d.fd, self->mfd, n, true, 0, 1));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	ASSERT_EQ(n, st.mappings);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 2; i++) {
		vfd = vs_get_view(self->d.fd, 0, i ? 0 : VHOST_SHMEM_VIEW_F_RW);
		ASSERT_LE(0, vfd);
		ASSERT_EQ(0, vs_viewer_start(&self->v[i], vfd, 0, n * PG,
					     PROT_READ | (i ? 0 : PROT_WRITE)));
		close(vfd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("two viewers attached with %d live mappings in %.2f s", n,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_PAT, 0, n * PG, 5, 0));
		EXPECT_EQ(n, vs_vcall(&self->v[i], V_VMAS, 0, 0, 0, 0));
	}
	ASSERT_EQ(0, many_ops(self->d.fd, self->mfd, n, false, 0, 10));
	for (i = 0; i < 2; i++) {
		for (k = 0; k < n; k += 10) {
			ASSERT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, k * PG, PG, 0, 0))
				TH_LOG("viewer %d page %d", i, k);
			ASSERT_EQ(0, vs_vcall(&self->v[i], V_CHECK_PAT, (k + 1) * PG,
					      9 * PG, 5, (k + 1) * PG))
				TH_LOG("viewer %d pages %d..%d", i, k + 1, k + 9);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, many_ops(self->d.fd, self->mfd, n, true, 0, 10));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%d MAPs with two viewers and %d live mappings: %.2f ms each",
	       n / 10, n - n / 10,
	       ((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6) /
	       (n / 10));
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_PAT, 0, n * PG, 5, 0));
	EXPECT_EQ(0, vs_check_pat(R(self), n * PG, 5, 0, NULL) + 1);
	ASSERT_EQ(0, vs_reset(self->d.fd));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, vs_vcall(&self->v[i], V_CHECK_ZERO, 0, n * PG, 0, 0));
		EXPECT_EQ(1, vs_vcall(&self->v[i], V_VMAS, 0, 0, 0, 0));
	}
}

/* MAP+UNMAP by the owner, without and with one viewer (logged). */
TEST_F(views, cost_with_one_viewer)
{
	struct timespec t0, t1;
	double ns[2];
	int k, i, n = 200;

	for (k = 0; k < 2; k++) {
		if (k)
			ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW,
						PROT_READ | PROT_WRITE));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < n; i++) {
			ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 8 * PG, PG, 0));
			ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 8 * PG, PG));
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns[k] = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
	}
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 8 * PG, PG, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_PAT, 8 * PG, PG, 1, 0));
	TH_LOG("MAP+UNMAP by the owner: %.0f ns with 0 viewers, %.0f ns with 1 (x%.2f)",
	       ns[0], ns[1], ns[1] / ns[0]);
}

TEST_HARNESS_MAIN
