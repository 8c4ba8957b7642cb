// SPDX-License-Identifier: GPL-2.0
/*
 * What only root may do to the module, in the one suite the VM's runner
 * runs as root besides the admin-only netlink_test and the fuzzer (every
 * other suite runs as an unprivileged user in group kvm, as a VMM does;
 * tools/vm/run-suites.sh): the max_mappings and max_user_mappings
 * parameters (the latter needs devices of two owner uids), vm.max_map_count
 * lowered to make a MAP fail (also in a viewer of a region view), the
 * max_viewers parameter, and the module unloaded (refused while a
 * device is open) and loaded again from $VHOST_SHMEM_KO or
 * /payload/vhost_shmem.ko; and a FUSE mount, with which the owner holds
 * its own mmap_lock as long as it likes (or a viewer its own): a requester,
 * a viewer attaching and the last close() of the device must stay killable
 * meanwhile.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/aio_abi.h>
#include <linux/fuse.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"
#include "stall_lib.h"
#include "viewer_lib.h"

#define R0_PAGES	64

FIXTURE(root) {
	struct vs_dev d;
	int a, c;		/* memfds: 32 and 128 pages */
	long orig_mmc;		/* vm.max_map_count to restore, or -1 */
	long orig_maxmap;	/* max_mappings parameter to restore, or -1 */
	long orig_maxuser;	/* max_user_mappings parameter to restore, or -1 */
};

FIXTURE_SETUP(root)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = R0_PAGES * PG } };
	int ret;

	self->a = self->c = -1;
	self->orig_mmc = self->orig_maxmap = self->orig_maxuser = -1;
	self->d.fd = -1;
	VS_REQUIRE_DEV_IN_SETUP();
	ret = vs_dev_setup(&self->d, l, 1, true);
	if (ret)
		TH_LOG("device setup: %s", self->d.err);
	ASSERT_EQ(0, ret);
	self->a = vs_memfd("root-a", 32 * PG, 1);
	self->c = vs_memfd("root-c", 128 * PG, 3);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->c);
}

FIXTURE_TEARDOWN(root)
{
	if (self->orig_mmc > 0)
		vs_write_long("/proc/sys/vm/max_map_count", self->orig_mmc);
	if (self->orig_maxmap >= 0)
		vs_write_long(VS_PARAM_DIR "/max_mappings", self->orig_maxmap);
	if (self->orig_maxuser >= 0)
		vs_write_long(VS_PARAM_DIR "/max_user_mappings", self->orig_maxuser);
	vs_dev_close(&self->d);
	if (self->a >= 0)
		close(self->a);
	if (self->c >= 0)
		close(self->c);
}

/* ENOSPC at the max_mappings module parameter; clean and recoverable. */
TEST_F(root, max_mappings_enospc)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 32 * PG } };
	struct vhost_shmem_stats st;
	struct vs_snap snap;
	struct vs_dev d;
	long v;
	int i;

	ASSERT_EQ(0, vs_read_long(VS_PARAM_DIR "/max_mappings", &v));
	self->orig_maxmap = v;
	ASSERT_EQ(0, vs_write_long(VS_PARAM_DIR "/max_mappings", 3));
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	ASSERT_EQ(0, vs_stats(d.fd, &st));
	EXPECT_EQ(3, st.max_mappings);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vs_map(d.fd, 0, self->a, i * PG, 2 * i * PG, PG, 0));
	ASSERT_EQ(0, vs_snap_take(&d, 0, 0, 32 * PG, &snap));
	EXPECT_EQ(-ENOSPC, vs_map(d.fd, 0, self->a, 0, 20 * PG, PG, 0));
	ASSERT_SNAP_SAME(&d, 0, &snap, 1);
	vs_snap_free(&snap);
	ASSERT_EQ(0, vs_unmap(d.fd, 0, 2 * PG, PG));
	ASSERT_EQ(0, vs_map(d.fd, 0, self->a, 0, 20 * PG, PG, 0));
	ASSERT_PAT(d.r[0].addr + 20 * PG, PG, 1, 0);
	vs_dev_close(&d);
}

/*
 * Region views (views_test) where only root can set the scene: a viewer
 * at vm.max_map_count, the max_viewers parameter. Viewers are forked
 * children (viewer_lib.h).
 */
#define MMC	"/proc/sys/vm/max_map_count"
#define MAXV	VS_PARAM_DIR "/max_viewers"
#define SZ	(R0_PAGES * PG)
#define R(self)	((self)->d.r[0].addr)

FIXTURE(root_views) {
	struct vs_dev d;
	struct vs_viewer v[2];
	int mfd;		/* R0_PAGES of pattern 1 */
	long orig_mmc, orig_maxv;
};

FIXTURE_SETUP(root_views)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = SZ } };

	VS_REQUIRE_DEV_IN_SETUP();
	self->v[0].pid = self->v[1].pid = -1;
	self->orig_mmc = self->orig_maxv = -1;
	ASSERT_EQ(0, vs_dev_setup(&self->d, l, 1, true));
	self->mfd = vs_memfd("root-views", SZ, 1);
	ASSERT_LE(0, self->mfd);
}

FIXTURE_TEARDOWN(root_views)
{
	vs_viewer_stop(&self->v[0]);
	vs_viewer_stop(&self->v[1]);
	if (self->orig_mmc > 0)
		vs_write_long(MMC, self->orig_mmc);
	if (self->orig_maxv >= 0)
		vs_write_long(MAXV, self->orig_maxv);
	close(self->mfd);
	vs_dev_close(&self->d);
}

/* A viewer of a view with @flags, mmapped with @prot. */
static int start_view(FIXTURE_DATA(root_views) *self, int i, uint32_t flags,
		      int prot)
{
	int vfd = vs_get_view(self->d.fd, 0, flags), ret;

	if (vfd < 0)
		return vfd;
	ret = vs_viewer_start(&self->v[i], vfd, 0, SZ, prot);
	close(vfd);
	return ret;
}

/*
 * The second viewer is out of vmas (vm.max_map_count): the MAP, installed
 * in the owner and the first viewer already, is rolled back in both.
 */
TEST_F(root_views, viewer_max_map_count_rolls_back)
{
	struct vhost_shmem_stats st0, st;
	long mmc, lim, own;

	ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, start_view(self, 1, 0, PROT_READ));
	ASSERT_EQ(0, vs_read_long(MMC, &mmc));
	own = vs_maps_total();
	ASSERT_LT(0, own);
	lim = own + 64;
	self->orig_mmc = mmc;
	ASSERT_EQ(0, vs_write_long(MMC, lim));
	/*
	 * Past the limit, as far as mmap() lets it go: no mmap() and no split
	 * of its placeholder works there any more (ENOMEM). How far "at the
	 * limit" reaches differs between kernels (and [vsyscall] is listed
	 * but not counted), so aim beyond it.
	 */
	ASSERT_LE(lim, vs_vcall(&self->v[1], V_INFLATE, 0, 0, 0, lim + 16));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st0));
	EXPECT_EQ(-ENOMEM, vs_map(self->d.fd, 0, self->mfd, 0, 30 * PG, 2 * PG,
				  VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(st0.mappings, st.mappings);
	EXPECT_EQ(0, vs_check_zero(R(self) + 30 * PG, 2 * PG, NULL) + 1);
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 30 * PG, 2 * PG, 0, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_ZERO, 30 * PG, 2 * PG, 0, 0));
	/* The region in the owner and in the first viewer is a hole again. */
	EXPECT_GE(3, vs_maps_count(R(self), SZ));
	EXPECT_GE(3, vs_vcall(&self->v[0], V_VMAS, 0, 0, 0, 0));
	ASSERT_EQ(0, vs_write_long(MMC, mmc));
	self->orig_mmc = -1;
	/* With room again, the same MAP works everywhere. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 30 * PG, 2 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, 30 * PG, 2 * PG, 1, 0));
}

/*
 * A viewer that took the MAP is rolled back where the next viewer ran out
 * of vmas. The MAP's two splits took the first one's mm one vma past
 * vm.max_map_count (the kernel lets munmap()'s second split go there),
 * where do_mmap() refuses even the hole that replaces three vmas: the
 * device unmaps the backend's vma first, then puts the hole back over the
 * gap. Before, the gap stayed (that part of the view faulted with
 * SIGSEGV). Needs its mm exactly one vma under the limit: v[1] goes as far
 * as mmap() lets it (limit + 1, [vsyscall] is listed but not counted),
 * then the limit goes up by two, and v[0] past it.
 */
TEST_F(root_views, viewer_rollback_past_max_map_count_puts_hole_back)
{
	struct vhost_shmem_stats st0, st;
	long mmc, lim, n1, n0;

	ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, start_view(self, 1, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 0, 2 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_read_long(MMC, &mmc));
	lim = vs_maps_total() + 64;
	ASSERT_LT(64, lim);
	self->orig_mmc = mmc;
	ASSERT_EQ(0, vs_write_long(MMC, lim));
	n1 = vs_vcall(&self->v[1], V_INFLATE, 0, 0, 0, lim + 16);
	ASSERT_LE(lim, n1);
	ASSERT_GE(lim + 2, n1);
	ASSERT_EQ(0, vs_write_long(MMC, lim + 2));
	n0 = vs_vcall(&self->v[0], V_INFLATE, 0, 0, 0, lim + 16);
	/* Both went one vma past their limit: v[1] is one under the new one. */
	ASSERT_EQ(n1 + 2, n0);
	ASSERT_EQ(2, vs_vcall(&self->v[1], V_VMAS, 0, 0, 0, 0));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st0));
	/* Viewers install last attached first: v[1] takes it, v[0] cannot. */
	EXPECT_EQ(-ENOMEM, vs_map(self->d.fd, 0, self->mfd, 30 * PG, 30 * PG,
				  2 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(st0.mappings, st.mappings);
	/* Nothing changed anywhere: the first mapping, zeros where the MAP was. */
	ASSERT_PAT(R(self), 2 * PG, 1, 0);
	ASSERT_ZERO(R(self) + 2 * PG, SZ - 2 * PG);
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_PAT, 0, 2 * PG, 1, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 2 * PG, SZ - 2 * PG, 0, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, 0, 2 * PG, 1, 0));
	/* The hole is back in v[1], one vma again: zeros, not SIGSEGV. */
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_READ32, 30 * PG, 0, 0, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_ZERO, 2 * PG, SZ - 2 * PG, 0, 0));
	EXPECT_EQ(2, vs_vcall(&self->v[1], V_VMAS, 0, 0, 0, 0));
	ASSERT_EQ(0, vs_write_long(MMC, mmc));
	self->orig_mmc = -1;
	/* Both still attached: with room again, the same MAP reaches them. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 30 * PG, 30 * PG, 2 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_PAT, 30 * PG, 2 * PG, 1, 30 * PG));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, 30 * PG, 2 * PG, 1, 30 * PG));
}

/*
 * The same in a viewer that attaches: its first mapping takes its mm one
 * vma past vm.max_map_count, so the second cannot go in (ENOMEM) and the
 * first is taken out again. The failed viewer's view reads zeros, as
 * documented for a viewer that could not attach, not SIGSEGV where that
 * first mapping was. v[0] goes as far as mmap() lets it (limit + 1), then
 * unmaps its view (5 vmas) and maps the view again (one placeholder: the
 * limit minus 3), with the limit lowered to one vma above that.
 */
TEST_F(root_views, failed_attach_past_max_map_count_reads_zeros)
{
	long mmc, lim, n, vmas;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 10 * PG, 10 * PG, 2 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 20 * PG, 20 * PG, 2 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, start_view(self, 0, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, start_view(self, 1, 0, PROT_READ));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_PAT, 10 * PG, 2 * PG, 1, 10 * PG));
	vmas = vs_vcall(&self->v[0], V_VMAS, 0, 0, 0, 0);
	ASSERT_EQ(5, vmas);
	ASSERT_EQ(0, vs_read_long(MMC, &mmc));
	lim = vs_maps_total() + 64;
	ASSERT_LT(64, lim);
	self->orig_mmc = mmc;
	ASSERT_EQ(0, vs_write_long(MMC, lim));
	n = vs_vcall(&self->v[0], V_INFLATE, 0, 0, 0, lim + 16);
	ASSERT_LE(lim, n);
	ASSERT_EQ(0, vs_vcall(&self->v[0], V_MUNMAP, 0, 0, 0, 0));
	/*
	 * Any request reaps the viewer that munmap() detached, and waits for
	 * a reap in flight: one that ran on while the view is mapped again
	 * there could unmap the old mappings' ranges from the new placeholder
	 * (see "Known gaps").
	 */
	EXPECT_EQ(-ENOENT, vs_unmap(self->d.fd, 0, 50 * PG, PG));
	/* The view again will make it limit + 1 - 5 + 1: one under this. */
	ASSERT_EQ(0, vs_write_long(MMC, lim + 3 - vmas));
	ASSERT_EQ(0, vs_vcall(&self->v[0], V_REMAP, 0, 0, 0, 0));
	/* It did not attach: one placeholder, zeros everywhere. */
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_READ32, 10 * PG, 0, 0, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 0, SZ, 0, 0));
	EXPECT_EQ(1, vs_vcall(&self->v[0], V_VMAS, 0, 0, 0, 0));
	/* The owner and the other viewer still see both mappings. */
	ASSERT_PAT(R(self) + 10 * PG, 2 * PG, 1, 10 * PG);
	ASSERT_PAT(R(self) + 20 * PG, 2 * PG, 1, 20 * PG);
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, 10 * PG, 2 * PG, 1, 10 * PG));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, 20 * PG, 2 * PG, 1, 20 * PG));
	ASSERT_EQ(0, vs_write_long(MMC, mmc));
	self->orig_mmc = -1;
	/* Never attached: a new MAP does not reach it, but reaches v[1]. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 40 * PG, 40 * PG, 2 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 0, SZ, 0, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, 40 * PG, 2 * PG, 1, 40 * PG));
}

/* A viewer that exited frees its slot (max_viewers) by itself. */
TEST_F(root_views, viewer_exit_frees_slot)
{
	int vfd, i, ret = -1;

	ASSERT_EQ(0, vs_read_long(MAXV, &self->orig_maxv));
	ASSERT_EQ(0, vs_write_long(MAXV, 1));
	ASSERT_EQ(0, start_view(self, 0, 0, PROT_READ));
	vfd = vs_get_view(self->d.fd, 0, 0);
	ASSERT_LE(0, vfd);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ, PROT_READ, MAP_SHARED, vfd, 0));
	EXPECT_EQ(ENOSPC, errno);
	vs_viewer_stop(&self->v[0]);
	/* Reaped soon after its exit, without any request. */
	for (i = 0; i < 200 && ret; i++) {
		ret = vs_viewer_start(&self->v[1], vfd, 0, SZ, PROT_READ);
		if (ret) {
			vs_viewer_stop(&self->v[1]);
			usleep(10000);
		}
	}
	close(vfd);
	ASSERT_EQ(0, ret);
	TH_LOG("slot free after %d tries", i);
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 4 * PG, PG, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, 4 * PG, PG, 1, 0));
	EXPECT_EQ(0, vs_unmap(self->d.fd, 0, 4 * PG, PG));
}

/*
 * A device of another owner: a child with real uid 65534 (euid 0, so it
 * can open the device) sets it up and MAPs @n pages. Its exit status: 0,
 * or 1 + the index of the first MAP that failed.
 */
static int other_owner_maps(int memfd, int n)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 32 * PG } };
	int status, i;
	pid_t pid = fork();

	if (!pid) {
		struct vs_dev d;

		if (setresuid(65534, 0, 0) || vs_dev_setup(&d, l, 1, true))
			_exit(100);
		for (i = 0; i < n; i++)
			if (vs_map(d.fd, 0, memfd, 0, i * PG, PG, 0))
				_exit(1 + i);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * EMFILE at the max_user_mappings module parameter: the live mappings of
 * all devices of one owner uid count together, another uid's do not, and
 * UNMAP and close() give them back. A refused MAP leaves the region as it
 * was.
 */
TEST_F(root, max_user_mappings_emfile)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 32 * PG } };
	struct vhost_shmem_stats st;
	struct vs_snap snap;
	struct vs_dev d2;
	long v;
	int i;

	ASSERT_EQ(0, vs_read_long(VS_PARAM_DIR "/max_user_mappings", &v));
	self->orig_maxuser = v;
	ASSERT_EQ(0, vs_write_long(VS_PARAM_DIR "/max_user_mappings", 4));
	ASSERT_EQ(0, vs_dev_setup(&d2, l, 1, true));
	/* Four of root's: three in the fixture's device, one in d2. */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, i * PG, 2 * i * PG, PG, 0));
	ASSERT_EQ(0, vs_map(d2.fd, 0, self->a, 0, 0, PG, 0));
	ASSERT_EQ(0, vs_snap_take(&d2, 0, 0, 32 * PG, &snap));
	EXPECT_EQ(-EMFILE, vs_map(d2.fd, 0, self->a, 0, 4 * PG, PG, 0));
	ASSERT_SNAP_SAME(&d2, 0, &snap, 1);
	vs_snap_free(&snap);
	EXPECT_EQ(-EMFILE, vs_map(self->d.fd, 0, self->a, 0, 10 * PG, PG, 0));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(3, st.mappings);
	/* Another owner uid has its own four. */
	EXPECT_EQ(0, other_owner_maps(self->a, 4));
	EXPECT_EQ(1 + 4, other_owner_maps(self->a, 5));
	/* UNMAP gives one back... */
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 2 * PG, PG));
	ASSERT_EQ(0, vs_map(d2.fd, 0, self->a, 1 * PG, 4 * PG, PG, 0));
	ASSERT_PAT(d2.r[0].addr + 4 * PG, PG, 1, PG);
	EXPECT_EQ(-EMFILE, vs_map(d2.fd, 0, self->a, 0, 6 * PG, PG, 0));
	/* ...and so does the release of a device, all of its. */
	vs_dev_close(&d2);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, (20 + i) * PG, PG, 0));
	EXPECT_EQ(-EMFILE, vs_map(self->d.fd, 0, self->a, 0, 22 * PG, PG, 0));
	ASSERT_EQ(0, vs_reset(self->d.fd));
}

/* ENOMEM at vm.max_map_count; the failing range stays a hole. */
TEST_F(root, max_map_count_enomem)
{
	uint8_t *r = self->d.r[0].addr;
	struct vhost_shmem_stats st0, st;
	long v;
	int i, ok = 0, ret = 0, n;

	ASSERT_EQ(0, vs_read_long("/proc/sys/vm/max_map_count", &v));
	self->orig_mmc = v;
	ASSERT_EQ(0, vs_stats(self->d.fd, &st0));
	n = vs_maps_total();
	ASSERT_LT(0, n);
	ASSERT_EQ(0, vs_write_long("/proc/sys/vm/max_map_count", n + 4));
	for (i = 0; i < 20; i++) {
		ret = vs_map(self->d.fd, 0, self->c, (2 * i + 1) * PG, (2 * i + 1) * PG, PG, 0);
		if (ret)
			break;
		ok++;
	}
	ASSERT_EQ(0, vs_write_long("/proc/sys/vm/max_map_count", v));
	self->orig_mmc = -1;
	TH_LOG("%d isolated mappings fit in max_map_count = vmas + 4", ok);
	EXPECT_EQ(-ENOMEM, ret);
	EXPECT_LE(1, ok);
	EXPECT_TRUE(vs_maps_covered(r, R0_PAGES * PG));
	for (i = 0; i < ok; i++)
		ASSERT_PAT(r + (2 * i + 1) * PG, PG, 3, (2 * i + 1) * PG);
	ASSERT_ZERO(r + (2 * ok + 1) * PG, PG);
	EXPECT_EQ(SIGBUS, vs_probe_write(r + (2 * ok + 1) * PG, 1));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(ok, st.mappings);
	EXPECT_EQ(st0.failures + 1, st.failures);
	/* With the limit back, the same MAP works. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->c, (2 * ok + 1) * PG, (2 * ok + 1) * PG, PG, 0));
	ASSERT_PAT(r + (2 * ok + 1) * PG, PG, 3, (2 * ok + 1) * PG);
}

static const char *ko_path(void)
{
	const char *p = getenv("VHOST_SHMEM_KO");

	return p && *p ? p : "/payload/vhost_shmem.ko";
}

/* rmmod refused while a device is open, clean after; loaded again. */
TEST_F(root, module_unload)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 16 * PG } };
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	struct vs_dev d;
	int kofd, m, i, ret = -1, err = 0;

	if (access(ko_path(), R_OK))
		SKIP(return, "%s not found: cannot load the module again after unloading it",
		     ko_path());
	kofd = open(ko_path(), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, kofd);
	vs_dev_close(&self->d);	/* only this test's devices are open */

	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	m = vs_memfd("unload", 16 * PG, 46);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, vs_map(d.fd, 0, m, 0, 0, 8 * PG, 0));
	close(m);
	ret = syscall(SYS_delete_module, "vhost_shmem", O_NONBLOCK);
	err = errno;
	if (ret == 0) {
		/* Must not happen; load it back for the other suites. */
		syscall(SYS_finit_module, kofd, "", 0);
	}
	ASSERT_EQ(-1, ret);
	TH_LOG("delete_module with a device open: %s", strerror(err));
	EXPECT_TRUE(err == EBUSY || err == EWOULDBLOCK);
	/* The device still works. */
	ASSERT_EQ(-1, vs_check_pat(d.r[0].addr, 8 * PG, 46, 0, NULL));
	/* The same with only the region mapped (fd closed). */
	close(d.fd);
	d.fd = -1;
	ret = syscall(SYS_delete_module, "vhost_shmem", O_NONBLOCK);
	if (ret == 0)
		syscall(SYS_finit_module, kofd, "", 0);
	ASSERT_EQ(-1, ret);
	vs_dev_close(&d);

	for (i = 0; i < 250; i++) {
		ret = syscall(SYS_delete_module, "vhost_shmem", O_NONBLOCK);
		if (ret == 0 || (errno != EBUSY && errno != EWOULDBLOCK))
			break;
		nanosleep(&ts, NULL);
	}
	if (ret)
		TH_LOG("delete_module after close: %s", strerror(errno));
	ASSERT_EQ(0, ret);
	EXPECT_NE(0, access("/sys/module/vhost_shmem", F_OK));

	ret = syscall(SYS_finit_module, kofd, "", 0);
	if (ret)
		TH_LOG("finit_module %s: %s", ko_path(), strerror(errno));
	ASSERT_EQ(0, ret);
	close(kofd);
	for (i = 0; i < 150 && !vs_have_dev(); i++)
		nanosleep(&ts, NULL);
	ASSERT_TRUE(vs_have_dev());
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	m = vs_memfd("reloaded", 16 * PG, 47);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, vs_map(d.fd, 0, m, 0, 0, 8 * PG, 0));
	ASSERT_EQ(-1, vs_check_pat(d.r[0].addr, 8 * PG, 47, 0, NULL));
	close(m);
	vs_dev_close(&d);
}


/*
 * The kill tests: an owner (or viewer) thread holds that process's
 * mmap_lock through a stalled FUSE READ (stall_lib.h) while a requester
 * or closer is killed.
 */
#define STALL_MNT	"/tmp/vs-stall-fuse"

/* /proc/<pid>/@what (wchan, stack) into @buf, "" if unreadable. */
static void proc_read(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	int fd, n = -1;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
}

/* Where @pid sleeps, for the logs. */
static void wchan(pid_t pid, char *buf, size_t len)
{
	proc_read(pid, "wchan", buf, len);
}

/* Reap @pid within @ms. Return: true if it exited (or died) in time. */
static bool reaped_within(pid_t pid, int ms, int *status)
{
	int i;

	for (i = 0; i < ms / 10; i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * While stalled, the owner (or viewer) process must not take its own
 * mmap_lock: a waiting writer (the device's worker) queues every new
 * reader behind the stalled one, and any page fault can need it. So the
 * process that kills and watches is another one, the monitor: it forks
 * the actor (a helper's MAP), and, told to go, lets it act,
 * waits for the worker to sleep, kills the actor and reports. The stalled
 * process only writes and polls pipes meanwhile, on a touched stack.
 */
struct verdict {
	bool in_worker;		/* the worker slept (in D) before the kill */
	char state;		/* the actor's state before the kill */
	bool gone;		/* the actor was reaped within 3 s of SIGKILL */
	int sig;		/* the signal it died of, or -1 */
	int stats_ret;		/* GET_STATS through @statfd after that */
	struct vhost_shmem_stats st;
	char wwait[64], await[64];	/* where the worker and actor slept */
};

struct monitor {
	pid_t pid;
	int go;			/* write a byte: act */
	int report;		/* struct verdict comes here */
};

/*
 * Fork the monitor and its actor @act(@arg) (the actor's exit status is
 * its return). The monitor closes @close_fd (-1: none) once the actor has
 * it, so that the actor holds it alone. Once the actor is gone, the
 * monitor reads GET_STATS through @statfd (-1: not) until the failure
 * count moved, at most 3 s. Return: 0 or -1.
 */
static int monitor_start(struct monitor *m, pid_t worker, int close_fd,
			 int statfd, int (*act)(void *), void *arg)
{
	int go[2], rep[2], start[2], status = 0, i;
	struct verdict v = { .sig = -1, .stats_ret = -1 };
	struct vhost_shmem_stats base = {};
	pid_t actor;
	char c = 'a';

	if (pipe(go) || pipe(rep))
		return -1;
	m->pid = fork();
	if (m->pid < 0)
		return -1;
	if (m->pid) {
		close(go[0]);
		close(rep[1]);
		m->go = go[1];
		m->report = rep[0];
		/*
		 * Map the code monitor_verdict() runs while stalled: on 6.1
		 * even a fault on a text page needs mmap_lock.
		 */
		poll(NULL, 0, 0);
		if (read(m->report, &c, 0) || write(m->go, &c, 0))
			return -1;
		return 0;
	}
	close(go[1]);
	close(rep[0]);
	if (pipe(start))
		_exit(2);
	actor = fork();
	if (actor < 0)
		_exit(2);
	if (!actor) {
		if (read(start[0], &c, 1) != 1)
			_exit(2);
		_exit(act(arg));
	}
	if (close_fd >= 0)
		close(close_fd);
	if (read(go[0], &c, 1) != 1 ||
	    (statfd >= 0 && vs_stats(statfd, &base)) ||
	    write(start[1], &c, 1) != 1)
		_exit(2);
	v.in_worker = vs_wait_state(worker, 'D', 5000);
	v.state = vs_proc_state(actor);
	wchan(worker, v.wwait, sizeof(v.wwait));
	wchan(actor, v.await, sizeof(v.await));
	kill(actor, SIGKILL);
	v.gone = reaped_within(actor, 3000, &status);
	if (v.gone && WIFSIGNALED(status))
		v.sig = WTERMSIG(status);
	/* Up to 3 s for the worker to finish the abandoned request. */
	for (i = 0; statfd >= 0 && i < 300; i++) {
		v.stats_ret = vs_stats(statfd, &v.st);
		if (v.stats_ret || v.st.failures != base.failures)
			break;
		usleep(10000);
	}
	if (write(rep[1], &v, sizeof(v)) != sizeof(v))
		_exit(2);
	if (!v.gone)
		waitpid(actor, &status, 0);	/* once the owner lets go */
	_exit(0);
}

/*
 * Tell the monitor to go and wait for its verdict, at most 12 s (a monitor
 * stuck on the device counts as "not gone"). Only syscalls on @v.
 */
static void monitor_verdict(struct monitor *m, struct verdict *v)
{
	struct pollfd pfd = { .fd = m->report, .events = POLLIN };
	char c = 'g';

	v->gone = false;
	v->state = '?';
	if (write(m->go, &c, 1) != 1 || poll(&pfd, 1, 12000) != 1 ||
	    read(m->report, v, sizeof(*v)) != sizeof(*v))
		v->gone = false;
}

static void monitor_end(struct monitor *m)
{
	close(m->go);
	close(m->report);
	waitpid(m->pid, NULL, 0);
}

/*
 * Stall the owner's (or viewer's) mmap_lock with @st, let the monitor's
 * actor act and be killed, let go: the actor (@who) must have been gone
 * within 3 s of SIGKILL while the worker slept. @v: the verdict.
 */
static void stall_and_kill(struct __test_metadata *_metadata, struct vs_stall *st,
			   struct monitor *m, struct verdict *v, const char *who)
{
	EXPECT_EQ(0, vs_stall_begin(st));
	monitor_verdict(m, v);
	vs_stall_end(st);
	monitor_end(m);
	TH_LOG("%s before SIGKILL: state %c (in %s); worker %s (in %s); gone within 3 s of it: %s",
	       who, v->state, v->await, v->in_worker ? "in D" : "not in D",
	       v->wwait, v->gone ? "yes" : "no");
	EXPECT_TRUE(v->in_worker);
	EXPECT_TRUE(v->gone);
	EXPECT_EQ(SIGKILL, v->sig);
}

struct map_act {
	int devfd, mfd;
};

static int act_map(void *arg)
{
	struct map_act *a = arg;

	return vs_map(a->devfd, 0, a->mfd, 0, 0, PG, 0) ? 1 : 0;
}

static int act_close(void *arg)
{
	close(*(int *)arg);	/* the last reference: the release */
	return 0;
}

/*
 * The worker has started a MAP of another process (the helper) and waits
 * for the owner's mmap_lock, which an owner thread holds: SIGKILL must
 * still end the helper at once, the worker must give the MAP up at once
 * (counted as failed while the lock is still held), and the abandoned MAP
 * must not happen (nothing in the table, the file not mapped), the device
 * still usable.
 */
TEST(killed_requester_while_owner_holds_mmap_lock)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 16 * PG } };
	struct vhost_shmem_stats s1 = {}, s2 = {};
	struct verdict v = {};
	struct monitor m;
	struct map_act a;
	struct vs_stall *st;
	struct vs_dev d;
	pid_t worker;

	vs_prefault_stack(256 * 1024);
	if (access("/dev/fuse", F_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS)");
	ASSERT_EQ(0, vs_stall_setup(&st, STALL_MNT));
	a.mfd = vs_memfd("stall-map", PG, 61);
	ASSERT_LE(0, a.mfd);
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	a.devfd = d.fd;
	ASSERT_EQ(0, vs_stats(d.fd, &s1));
	worker = vs_find_worker(getpid());
	ASSERT_LT(0, worker);
	/* Before the stall: fork takes mmap_lock. */
	ASSERT_EQ(0, monitor_start(&m, worker, -1, d.fd, act_map, &a));
	stall_and_kill(_metadata, st, &m, &v, "helper");
	/* Still held then: the worker had given the MAP up (and counted it). */
	EXPECT_EQ(0, v.stats_ret);
	EXPECT_EQ(s1.failures + 1, v.st.failures);
	/* It changed nothing. */
	ASSERT_EQ(0, vs_stats(d.fd, &s2));
	EXPECT_EQ(s1.mappings, s2.mappings);
	EXPECT_EQ(s1.maps, s2.maps);
	EXPECT_EQ(s1.failures + 1, s2.failures);
	EXPECT_EQ(-1, vs_check_zero(d.r[0].addr, PG, NULL));
	/* And the device works on. */
	ASSERT_EQ(0, vs_map(d.fd, 0, a.mfd, 0, 0, PG, 0));
	EXPECT_EQ(-1, vs_check_pat(d.r[0].addr, PG, 61, 0, NULL));
	close(a.mfd);
	vs_dev_close(&d);
}

/*
 * The last close() of the device is another process's, while an owner
 * thread holds the owner's mmap_lock: the release must take the mapping
 * (the whole region, so that no placeholder holds the device) out of the
 * owner's mm, which waits for that lock. SIGKILL must end the
 * closer at once; the release finishes once the owner lets go, the module
 * references of the device and of its worker are dropped.
 */
TEST(killed_closer_while_owner_holds_mmap_lock)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 16 * PG } };
	long ref0 = -1, ref = -1;
	struct verdict v = {};
	uint8_t *region;
	struct monitor m;
	struct vs_stall *st;
	struct vs_dev d;
	pid_t worker;
	int mfd, i;

	vs_prefault_stack(256 * 1024);
	if (vs_read_long("/sys/module/vhost_shmem/refcnt", &ref0))
		SKIP(return, "no /sys/module/vhost_shmem/refcnt");
	if (access("/dev/fuse", F_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS)");
	ASSERT_EQ(0, vs_stall_setup(&st, STALL_MNT));
	mfd = vs_memfd("stall-close", 16 * PG, 62);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	/* The whole region: no placeholder left, only fds hold the device. */
	ASSERT_EQ(0, vs_map(d.fd, 0, mfd, 0, 0, 16 * PG, 0));
	region = d.r[0].addr;
	d.r[0].addr = NULL;
	ASSERT_EQ(1, vs_maps_count(region, 16 * PG));
	worker = vs_find_worker(getpid());
	ASSERT_LT(0, worker);
	/* The closer (the monitor's child) ends with the only one. */
	ASSERT_EQ(0, monitor_start(&m, worker, d.fd, -1, act_close, &d.fd));
	close(d.fd);
	d.fd = -1;
	stall_and_kill(_metadata, st, &m, &v, "closer");
	/* The worker finished the release: the device's references are gone. */
	for (i = 0; i < 300; i++) {
		if (vs_read_long("/sys/module/vhost_shmem/refcnt", &ref) ||
		    ref == ref0)
			break;
		usleep(10000);
	}
	TH_LOG("module refcnt before %ld, after the release %ld", ref0, ref);
	EXPECT_EQ(ref0, ref);
	/* And took the mapping out of the owner's mm. */
	EXPECT_EQ(0, vs_maps_count(region, 16 * PG));
	close(mfd);
}

/*
 * The same with a viewer holding its own mmap_lock (the test process is
 * the viewer; the owner and the helper are other processes): the worker
 * waits for it past the point where the MAP could still be given up (it
 * is in the owner already). The killed helper must still leave at once,
 * and the MAP then happens in full, in the owner and in the viewer, once
 * the viewer lets go.
 */
TEST(killed_requester_while_viewer_holds_mmap_lock)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 16 * PG } };
	struct vhost_shmem_view_req vr = { .shmid = 0 };
	struct vhost_shmem_stats s = {};
	struct verdict v = {};
	int sv[2], vfd = -1, status = 0;
	struct monitor m;
	struct map_act a = { .devfd = -1 };
	struct vs_stall *st;
	pid_t owner, worker;
	uint8_t *view;
	char c = 'v';

	vs_prefault_stack(256 * 1024);
	if (access("/dev/fuse", F_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS)");
	ASSERT_EQ(0, vs_stall_setup(&st, STALL_MNT));
	a.mfd = vs_memfd("stall-view", PG, 63);
	ASSERT_LE(0, a.mfd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	owner = fork();
	ASSERT_LE(0, owner);
	if (!owner) {
		struct vs_dev d;
		int fd;

		close(sv[0]);
		if (vs_dev_setup(&d, l, 1, true))
			_exit(2);
		fd = ioctl(d.fd, VHOST_SHMEM_GET_VIEW, &vr);
		if (fd < 0 || vs_send_fd(sv[1], d.fd, "d", 1) < 0 ||
		    vs_send_fd(sv[1], fd, "v", 1) < 0)
			_exit(3);
		close(fd);
		/* Until the viewer is done: it tells by closing its end. */
		while (read(sv[1], &c, 1) > 0)
			;
		vs_dev_close(&d);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(1, vs_recv_fd(sv[0], &a.devfd, &c, 1));
	ASSERT_EQ(1, vs_recv_fd(sv[0], &vfd, &c, 1));
	ASSERT_LE(0, a.devfd);
	ASSERT_LE(0, vfd);
	worker = vs_find_worker(owner);
	ASSERT_LT(0, worker);
	view = mmap(NULL, 16 * PG, PROT_READ, MAP_SHARED, vfd, 0);
	ASSERT_NE(MAP_FAILED, view);
	EXPECT_EQ(-1, vs_check_zero(view, PG, NULL));
	/* No stats while held: the MAP holds the device mutex then. */
	ASSERT_EQ(0, monitor_start(&m, worker, -1, -1, act_map, &a));
	stall_and_kill(_metadata, st, &m, &v, "helper");
	/* Committed before the kill: it happened, everywhere. */
	ASSERT_EQ(0, vs_stats(a.devfd, &s));
	EXPECT_EQ(1, s.mappings);
	EXPECT_EQ(1, s.maps);
	EXPECT_EQ(-1, vs_check_pat(view, PG, 63, 0, NULL));
	munmap(view, 16 * PG);
	close(vfd);
	close(a.devfd);
	close(sv[0]);
	waitpid(owner, &status, 0);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(a.mfd);
}

/*
 * A viewer's mmap() of a view attaches it in task work of the mmapping
 * task before mmap() returns (view.c): that registers the viewer's mmu
 * notifier, which takes the viewer's mmap_lock for writing, and must wait
 * for it killably, as mmap() itself does, while another thread of the
 * viewer holds it (here a read of /proc/self/mem stalled on a FUSE
 * server). The mmapping task is a CLONE_VM child, in the test process's
 * mm. The order is the rwsem's, not a race: reader 1 stalls, the child's
 * mmap() queues behind it (a writer), reader 2 queues behind the child;
 * reader 1 lets go, so the child maps and reader 2 has the lock next,
 * and the attach waits for reader 2. SIGKILL must end the child at once;
 * the view then reads zeros.
 */
#define ATTACH_LEN	(16 * PG)

struct attach_act {
	int vfd;
	uint8_t *at;
};

static int attach_mmap(void *arg)
{
	struct attach_act *a = arg;

	syscall(SYS_mmap, a->at, ATTACH_LEN, PROT_READ, MAP_SHARED | MAP_FIXED,
		a->vfd, 0);
	return 0;
}

/*
 * Wait up to @ms for @pid in D with @what in its wchan ("": anywhere).
 * The wchan is the first function that is no lock's or scheduler's: the
 * caller of mmap_write_lock_killable() (vm_mmap_pgoff) for a writer.
 */
static bool wait_blocked_in(pid_t pid, const char *what, int ms)
{
	char w[64];
	int i;

	for (i = 0; i < ms / 10; i++) {
		wchan(pid, w, sizeof(w));
		if (vs_proc_state(pid) == 'D' && strstr(w, what))
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * Waits up to @ms for @pid's kernel stack to name @a and not @not (NULL:
 * anything); the last one read is left in @buf. The sleeping functions
 * themselves (rwsem, completion waits: __sched) are not shown. Return:
 * true if it did.
 */
static bool stack_shows(pid_t pid, const char *a, const char *not, int ms,
			char *buf, size_t len)
{
	int i;

	for (i = 0; i < ms / 10; i++) {
		proc_read(pid, "stack", buf, len);
		if (strstr(buf, a) && (!not || !strstr(buf, not)))
			return true;
		usleep(10000);
	}
	return false;
}

TEST(killed_viewer_attaching_while_its_mmap_lock_is_held)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = ATTACH_LEN } };
	static char stack[64 * 1024], kst[4096];
	struct vs_stall *st1 = NULL, *st2 = NULL;
	struct attach_act a = { .vfd = -1 };
	bool stalled, queued = false, hit = false, gone = false;
	int status = 0, mfd, i;
	struct vs_dev d;
	pid_t child = -1;

	vs_prefault_stack(256 * 1024);
	/* Touched now: a fault while stalled waits behind the child. */
	memset(stack, 1, sizeof(stack));
	memset(kst, 1, sizeof(kst));
	if (access("/dev/fuse", F_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS)");
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	mfd = vs_memfd("stall-attach", PG, 64);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, vs_map(d.fd, 0, mfd, 0, 0, PG, 0));
	a.vfd = vs_get_view(d.fd, 0, 0);
	ASSERT_LE(0, a.vfd);
	a.at = mmap(NULL, ATTACH_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, a.at);
	ASSERT_EQ(0, vs_stall_setup(&st1, STALL_MNT));
	ASSERT_EQ(0, vs_stall_setup(&st2, STALL_MNT "-2"));
	ASSERT_EQ(0, vs_stall_arm(st2));
	/* Everything used while stalled, run once before (6.1 faults text in). */
	wait_blocked_in(getpid(), "none", 10);
	stack_shows(getpid(), "none", NULL, 10, kst, sizeof(kst));
	reaped_within(getpid(), 10, &status);
	syscall(SYS_getpid);
	status = 0;
	kill(getpid(), 0);
	stalled = !vs_stall_begin(st1);
	/* From here until reader 2 lets go: no fault, no allocation. */
	if (stalled)
		child = clone(attach_mmap, stack + sizeof(stack),
			      CLONE_VM | SIGCHLD, &a);
	if (child > 0) {
		/* Its mmap() waits for reader 1; reader 2 queues behind. */
		queued = wait_blocked_in(child, "vm_mmap", 5000) &&
			 !vs_stall_fire(st2) &&
			 wait_blocked_in(vs_stall_reader(st2), "", 5000);
		if (queued) {
			vs_stall_let_go(st1);
			for (i = 0; i < 500 && !vs_stall_seen(st2); i++)
				usleep(10000);
			/* Reader 2 has the lock: the attach waits for it. */
			hit = vs_stall_seen(st2) &&
			      vs_wait_state(child, 'D', 5000) &&
			      stack_shows(child, "viewer_attach_work", NULL,
					  5000, kst, sizeof(kst));
		}
		kill(child, SIGKILL);
		gone = reaped_within(child, 3000, &status);
	}
	/* Reader 2 first: ending stall 1 unmaps its file (mmap_lock). */
	vs_stall_let_go(st2);
	vs_stall_end(st1);
	vs_stall_end(st2);
	if (child > 0 && !gone)
		waitpid(child, &status, 0);
	TH_LOG("reader 1 stalled: %s; child's mmap() and reader 2 queued: %s; child in the attach: %s; gone within 3 s of SIGKILL: %s",
	       stalled ? "yes" : "no", queued ? "yes" : "no",
	       hit ? "yes" : "no", gone ? "yes" : "no");
	if (queued && !hit)
		TH_LOG("child's stack: %s", kst);
	ASSERT_TRUE(stalled);
	ASSERT_LT(0, child);
	ASSERT_TRUE(queued);
	ASSERT_TRUE(hit);
	EXPECT_TRUE(gone);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* Never attached: its placeholder reads zeros, the device works. */
	EXPECT_EQ(-1, vs_check_zero(a.at, PG, NULL));
	munmap(a.at, ATTACH_LEN);
	close(a.vfd);
	EXPECT_EQ(0, vs_unmap(d.fd, 0, 0, PG));
	EXPECT_EQ(0, vs_map(d.fd, 0, mfd, 0, PG, PG, 0));
	EXPECT_EQ(-1, vs_check_pat(d.r[0].addr + PG, PG, 64, 0, NULL));
	close(mfd);
	vs_dev_close(&d);
}

/*
 * SET_OWNER registers the owner's mmu notifier, under the owner's
 * mmap_lock: it must wait for it killably while another thread of the
 * owner holds it (the stalled read). The caller is a CLONE_VM child, in
 * the stalled mm; killed, it leaves the device without an owner.
 */
static int set_owner_fn(void *arg)
{
	return ioctl(*(int *)arg, VHOST_SHMEM_SET_OWNER) ? 1 : 0;
}

TEST(killed_set_owner_while_owner_holds_mmap_lock)
{
	static char stack[64 * 1024], kst[4096];
	bool stalled, hit = false, gone = false;
	int fd, status = 0;
	struct vs_stall *st;
	pid_t child;

	vs_prefault_stack(256 * 1024);
	/* Touched now: a fault while stalled waits behind the child. */
	memset(stack, 1, sizeof(stack));
	memset(kst, 1, sizeof(kst));
	if (access("/dev/fuse", F_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS)");
	ASSERT_EQ(0, vs_stall_setup(&st, STALL_MNT));
	fd = open(VS_DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	stalled = !vs_stall_begin(st);
	/* From here until vs_stall_end(): no fault, no allocation. */
	child = clone(set_owner_fn, stack + sizeof(stack), CLONE_VM | SIGCHLD, &fd);
	if (stalled && child > 0) {
		/*
		 * In the ioctl (set_owner may be inlined there), past
		 * creating the worker: waiting for mmap_lock.
		 */
		hit = vs_wait_state(child, 'D', 3000) &&
		      stack_shows(child, "vhost_shmem_ioctl", "kthread", 3000,
				  kst, sizeof(kst));
		kill(child, SIGKILL);
		gone = reaped_within(child, 3000, &status);
	} else if (child > 0) {
		kill(child, SIGKILL);
	}
	vs_stall_end(st);
	if (child > 0 && !gone)
		waitpid(child, &status, 0);
	TH_LOG("reader stalled: %s; child waiting for mmap_lock in SET_OWNER: %s; gone within 3 s of SIGKILL: %s",
	       stalled ? "yes" : "no", hit ? "yes" : "no", gone ? "yes" : "no");
	if (!hit)
		TH_LOG("child's stack: %s", kst);
	ASSERT_TRUE(stalled);
	ASSERT_LT(0, child);
	ASSERT_TRUE(hit);
	EXPECT_TRUE(gone);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The killed SET_OWNER did not happen: the device takes an owner. */
	EXPECT_EQ(0, ioctl(fd, VHOST_SHMEM_SET_OWNER));
	close(fd);
}

/*
 * The module's reference count once it is @want, waiting up to 3 s
 * (devices on their way out), else the last one read; -1 if unreadable.
 */
static long module_refs(long want)
{
	long ref = -1;
	int i;

	for (i = 0; i < 300; i++) {
		if (vs_read_long("/sys/module/vhost_shmem/refcnt", &ref))
			return -1;
		if (ref == want)
			break;
		usleep(10000);
	}
	return ref;
}

/*
 * A viewer killed in its own attach, in an mm another process shares
 * (clone(CLONE_VM) without CLONE_THREAD): the mm outlives the killed
 * task, and what the attach had installed there must not stay mapped
 * where the device does not know it. The viewer, a CLONE_VM child of
 * this process, mmaps the view while the device is busy (vs_busy, in the
 * owner), so its attach waits for the device with no lock held; then this
 * process stalls the shared mm's mmap_lock (reader 1), the device lets go,
 * and the attach waits for that lock to install the owner's mapping (a
 * writer queued). Reader 2 queues behind it; reader 1 lets go: the
 * rwsem grants the writer, which maps the mapping's memfd, then reader 2,
 * so the attach waits again, to seal the new vma. Killed there, it can
 * neither seal nor take the vma out (killable waits on a held lock): the
 * viewer must stay listed, detached, so that the worker's reap evicts the
 * vma once reader 2 lets go. The parent then has no vma of the memfd in
 * the view, the rest of it reads zeros, and the device, the viewer put,
 * is released when its files are closed (module refcount back).
 */
struct cv_child {
	int vfd;
	void *at;		/* where it mmaps the view, MAP_FIXED */
	uint64_t size;
	volatile long addr;	/* mmap()'s result, if it ever returned */
};

/* The CLONE_VM child: raw system calls only (it shares our TLS). */
static int cv_child_fn(void *arg)
{
	struct cv_child *c = arg;

	c->addr = syscall(SYS_mmap, c->at, c->size, PROT_READ,
			  MAP_SHARED | MAP_FIXED, c->vfd, 0);
	for (;;)
		syscall(SYS_pause);
	return 0;
}

/*
 * "tid:state:wchan" of each of our threads into @out, without allocating
 * (safe while stalled): for the log of a test that went wrong.
 */
static void snap_threads(char *out, size_t len)
{
	char buf[4096], w[64];
	size_t used = 0;
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n, off;

	out[0] = 0;
	if (fd < 0)
		return;
	while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n;) {
			struct dirent64 *d = (void *)(buf + off);
			pid_t tid = atoi(d->d_name);

			off += d->d_reclen;
			if (tid <= 0 || used + 100 > len)
				continue;
			wchan(tid, w, sizeof(w));
			used += snprintf(out + used, len - used, "%d:%c:%s ", tid,
					 vs_proc_state(tid), w);
		}
	}
	close(fd);
}

/* The owner: maps page 0, holds the device busy and lets go as told. */
static void __attribute__((noreturn)) cv_owner(int sock)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 16 * PG } };
	struct vhost_shmem_view_req vr = { .shmid = 0 };
	struct vs_busy b;
	struct vs_dev d;
	int mfd, vfd;
	char c;

	mfd = vs_memfd("cv-m1", PG, 71);
	if (mfd < 0 || vs_dev_setup(&d, l, 1, true) ||
	    vs_map(d.fd, 0, mfd, 0, 0, PG, 0))
		_exit(2);
	vfd = ioctl(d.fd, VHOST_SHMEM_GET_VIEW, &vr);
	if (vfd < 0 || vs_busy_start(&b, d.fd, 0, 16 * PG, 15 * PG) ||
	    vs_send_fd(sock, vfd, "v", 1) < 0)
		_exit(3);
	close(vfd);
	while (read(sock, &c, 1) == 1) {
		if (c == 'h')
			c = vs_busy_hold(&b) ? 'E' : 'H';
		else if (c == 'g')
			c = vs_busy_release(&b) ? 'E' : 'G';
		else
			break;
		if (write(sock, &c, 1) != 1)
			break;
	}
	vs_busy_stop(&b);
	vs_dev_close(&d);
	close(mfd);
	_exit(0);
}

TEST(clone_vm_viewer_killed_in_attach_leaves_nothing)
{
	struct vs_stall *st1 = NULL, *st2 = NULL;
	struct cv_child cv = { .size = 16 * PG };
	bool waited = false, asked = false, queued = false, sealing = false;
	bool undone = false;
	long ref0 = -1;
	char cw[64] = "", rw[64] = "", threads[1024] = "", c, cs = '?', *stack;
	int sv[2], status = 0, i, seen_ms = -1;
	const char *line;
	pid_t owner, child = -1;

	vs_prefault_stack(256 * 1024);
	/* The devices of earlier tests may still be on their way out. */
	ref0 = module_refs(0);
	if (ref0 < 0)
		SKIP(return, "no /sys/module/vhost_shmem/refcnt");
	if (access("/dev/fuse", F_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS)");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	owner = fork();
	ASSERT_LE(0, owner);
	if (!owner) {
		close(sv[0]);
		cv_owner(sv[1]);
	}
	close(sv[1]);
	/*
	 * The stalls after the fork: a FUSE server's first write to a page
	 * fork() left copy-on-write would fault, and wait for our mmap_lock
	 * behind the writer it must not wait for.
	 */
	ASSERT_EQ(0, vs_stall_setup(&st1, "/tmp/vs-cv-fuse-1"));
	ASSERT_EQ(0, vs_stall_setup(&st2, "/tmp/vs-cv-fuse-2"));
	ASSERT_EQ(0, vs_stall_arm(st2));
	ASSERT_EQ(1, vs_recv_fd(sv[0], &cv.vfd, &c, 1));
	ASSERT_LE(0, cv.vfd);
	cv.at = mmap(NULL, cv.size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cv.at);
	stack = mmap(NULL, 256 * 1024, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stack);
	for (i = 0; i < 256 * 1024; i += 256)
		stack[i] = 0;
	/* Everything used while stalled, run once before (6.1 faults text in). */
	wait_blocked_in(getpid(), "none", 10);
	snap_threads(threads, sizeof(threads));
	threads[0] = 0;
	vs_stall_let_go(st1);
	kill(getpid(), 0);
	ASSERT_FALSE(vs_stall_seen(st2));
	ASSERT_LT(0, vs_stall_reader(st2));

	ASSERT_EQ(1, write(sv[0], "h", 1));
	ASSERT_EQ(1, read(sv[0], &c, 1));
	ASSERT_EQ('H', c);
	child = clone(cv_child_fn, stack + 256 * 1024, CLONE_VM | SIGCHLD, &cv);
	ASSERT_LT(0, child);
	/* Its attach waits for the device (no lock held: nothing else). */
	waited = wait_blocked_in(child, "", 5000);
	if (waited && !vs_stall_begin(st1)) {
		/* From here on no fault in this mm until reader 2 lets go. */
		asked = write(sv[0], "g", 1) == 1;
		if (asked)
			queued = wait_blocked_in(child, "vm_mmap", 5000);
		/* Reader 2 in D: queued behind that writer, as reader 1 holds. */
		if (queued && !vs_stall_fire(st2))
			queued = wait_blocked_in(vs_stall_reader(st2), "", 5000);
		if (queued) {
			vs_stall_let_go(st1);
			for (i = 0; i < 500 && !vs_stall_seen(st2); i++)
				usleep(10000);
			seen_ms = i * 10;
			/*
			 * Reader 2 has the lock, so the writer is done: the
			 * memfd's vma is there, and the attach waits to seal it.
			 */
			sealing = vs_stall_seen(st2) &&
				  wait_blocked_in(child, "", 5000);
		}
		cs = vs_proc_state(child);
		if (!sealing)
			snap_threads(threads, sizeof(threads));
		wchan(child, cw, sizeof(cw));
		wchan(vs_stall_reader(st2), rw, sizeof(rw));
		kill(child, SIGKILL);
		/* Its undo cannot wait: done once it exits (or waits to). */
		for (i = 0; i < 300 && !undone; i++) {
			char st = vs_proc_state(child);

			undone = st == 'Z' || st == 'D';
			usleep(10000);
		}
	} else {
		kill(child, SIGKILL);
	}
	vs_stall_let_go(st1);
	vs_stall_let_go(st2);
	EXPECT_TRUE(reaped_within(child, 5000, &status));
	TH_LOG("attach waited for the device: %s; for the lock: %s; to seal: %s",
	       waited ? "yes" : "no", queued ? "yes" : "no", sealing ? "yes" : "no");
	TH_LOG("attach %c in %s; reader 2 had the lock after %d ms, in %s",
	       cs, cw, seen_ms, rw);
	if (threads[0])
		TH_LOG("our threads then: %s", threads);
	ASSERT_TRUE(waited);
	ASSERT_TRUE(queued);
	ASSERT_TRUE(sealing);
	EXPECT_TRUE(undone);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_EQ(0, cv.addr);
	/* Up to 3 s for the reap: no vma of the memfd left in the view. */
	for (i = 0; i < 300; i++) {
		line = vs_maps_line(cv.at);
		if (!strstr(line, "cv-m1"))
			break;
		usleep(10000);
	}
	TH_LOG("view page 0 after the kill: %s", *line ? line : "(no vma)");
	EXPECT_EQ(NULL, strstr(line, "cv-m1"));
	EXPECT_EQ(-1, vs_check_zero((uint8_t *)cv.at + PG, 15 * PG, NULL));
	/* The owner's release of the device, asked for in the stall. */
	if (asked) {
		EXPECT_EQ(1, read(sv[0], &c, 1));
		EXPECT_EQ('G', c);
	}
	/* No view file left here: the owner's close releases the device. */
	munmap(cv.at, cv.size);
	close(cv.vfd);
	close(sv[0]);
	waitpid(owner, &status, 0);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(ref0, module_refs(ref0));
	vs_stall_end(st1);
	vs_stall_end(st2);
	munmap(stack, 256 * 1024);
}

/*
 * The owner's own waits for its mmap_lock in the device's code, in a
 * CLONE_VM child of a process whose other thread holds that lock (reader
 * 1, stalled), with a writer queued behind it (another CLONE_VM child's
 * mmap()), so that every new reader queues too. Both children are made
 * before the stall and wait on pipes: once a writer is queued, no thread
 * of this mm may fault. Killed, the child must leave the module at once;
 * it then waits to exit (exit_mm() takes mmap_lock for reading,
 * uninterruptibly), which ends once the writer had the lock.
 */
struct ow_child {
	int go;			/* read end: a byte means act */
	int devfd;
	struct vhost_shmem_map map;	/* MAP's argument (act 'm') */
	char act;		/* 'm' MAP, 'r' RESET, 'w' mmap() (the writer) */
	volatile long ret;	/* the system call's result, if it returned */
};

/* A CLONE_VM child: raw system calls only (it shares our TLS). */
static int ow_child_fn(void *arg)
{
	struct ow_child *c = arg;
	char b;

	if (syscall(SYS_read, c->go, &b, 1) != 1)
		return 2;
	if (c->act == 'm')
		c->ret = syscall(SYS_ioctl, c->devfd, VHOST_SHMEM_MAP, &c->map);
	else if (c->act == 'r')
		c->ret = syscall(SYS_ioctl, c->devfd, VHOST_SHMEM_RESET);
	else
		c->ret = syscall(SYS_mmap, NULL, 4096, PROT_READ,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return 0;
}

/* Clone @c (its stack at @stack, touched) waiting on a new pipe. */
static pid_t ow_start(struct ow_child *c, char *stack, size_t size, int *go)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	c->go = p[0];
	*go = p[1];
	pid = clone(ow_child_fn, stack + size, CLONE_VM | SIGCHLD, c);
	/* Asleep on the pipe before anything stalls. */
	if (pid > 0 && !vs_wait_state(pid, 'S', 5000))
		return -1;
	return pid;
}

/*
 * Up to @ms for @pid to leave the module after SIGKILL: a zombie, or in
 * do_exit() with no frame of the module (module frames end in
 * "[vhost_shmem]"). The last stack read is left in @buf.
 */
static bool left_module(pid_t pid, int ms, char *buf, size_t len)
{
	int i;

	for (i = 0; i < ms / 10; i++) {
		buf[0] = 0;
		if (vs_proc_state(pid) == 'Z')
			return true;
		proc_read(pid, "stack", buf, len);
		if (strstr(buf, "do_exit") && !strstr(buf, "vhost_shmem"))
			return true;
		usleep(10000);
	}
	return false;
}

/* A test's child (its act set by the test) and writer. */
struct ow_pair {
	struct ow_child c, w;
	pid_t child, writer;
	int cgo, wgo;
	bool told_w;		/* the writer was let go */
	char cstack[64 * 1024], wstack[64 * 1024];
};

/*
 * Start both, and run once what is used while stalled (6.1 faults text
 * in). @kst: the buffer for stacks. Return: 0 or -1.
 */
static int ow_pair_start(struct ow_pair *p, char *kst, size_t len)
{
	memset(p->cstack, 1, sizeof(p->cstack));
	memset(p->wstack, 1, sizeof(p->wstack));
	p->w.act = 'w';
	p->cgo = p->wgo = -1;
	p->child = ow_start(&p->c, p->cstack, sizeof(p->cstack), &p->cgo);
	p->writer = ow_start(&p->w, p->wstack, sizeof(p->wstack), &p->wgo);
	wait_blocked_in(getpid(), "none", 10);
	left_module(getpid(), 10, kst, len);
	kill(getpid(), 0);
	return p->child > 0 && p->writer > 0 ? 0 : -1;
}

/* Let the writer queue for mmap_lock. Return: true once it is in D there. */
static bool ow_writer_queues(struct ow_pair *p)
{
	p->told_w = write(p->wgo, "w", 1) == 1;
	return p->told_w && wait_blocked_in(p->writer, "vm_mmap", 5000);
}

/* Once the stalls let go: the child, killed, and the writer reaped. */
static void ow_pair_end(struct __test_metadata *_metadata, struct ow_pair *p)
{
	int status = 0;

	if (!p->told_w && write(p->wgo, "w", 1) != 1)
		kill(p->writer, SIGKILL);
	EXPECT_TRUE(reaped_within(p->child, 5000, &status));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_TRUE(reaped_within(p->writer, 5000, &status));
	close(p->cgo);
	close(p->wgo);
	close(p->c.go);
	close(p->w.go);
}

/*
 * The owner's first request confirms its region's placeholder under its
 * own mmap_lock (space_confirmed()): a MAP in the CLONE_VM child waits
 * there, behind the writer, while reader 1 holds the lock. SIGKILL must
 * end that wait (EINTR, the MAP counted as failed), and change nothing:
 * the region is not taken for unconfirmed (detached), the owner's next
 * MAP confirms it and maps.
 */
TEST(clone_vm_owner_killed_confirming_its_region)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 16 * PG } };
	bool stalled, queued = false, waiting = false, left = false;
	static struct ow_pair p = { .c.act = 'm' };
	struct vhost_shmem_stats s1 = {}, s2 = {};
	char cw[64] = "", ww[64] = "";
	static char kst[4096];
	struct vs_stall *st;
	struct vs_dev d;
	int mfd;

	vs_prefault_stack(256 * 1024);
	memset(kst, 1, sizeof(kst));
	if (access("/dev/fuse", F_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS)");
	ASSERT_EQ(0, vs_stall_setup(&st, STALL_MNT));
	/* The region is mmapped; no request confirmed it yet. */
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	mfd = vs_memfd("ow-confirm", PG, 81);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, vs_stats(d.fd, &s1));
	p.c.devfd = d.fd;
	p.c.map = (struct vhost_shmem_map) { .shmid = 0, .fd = mfd, .len = PG };
	ASSERT_EQ(0, ow_pair_start(&p, kst, sizeof(kst)));
	vs_stall_let_go(st);

	stalled = !vs_stall_begin(st);
	/* From here until reader 1 lets go: no fault in this mm. */
	queued = stalled && ow_writer_queues(&p);
	if (queued)
		waiting = write(p.cgo, "c", 1) == 1 &&
			  wait_blocked_in(p.child, "space_confirmed", 5000);
	wchan(p.child, cw, sizeof(cw));
	wchan(p.writer, ww, sizeof(ww));
	kill(p.child, SIGKILL);
	if (waiting)
		left = left_module(p.child, 3000, kst, sizeof(kst));
	vs_stall_let_go(st);
	ow_pair_end(_metadata, &p);
	TH_LOG("reader 1 stalled: %s; writer queued: %s (in %s); MAP waiting to confirm: %s (in %s); out of the module within 3 s of SIGKILL: %s",
	       stalled ? "yes" : "no", queued ? "yes" : "no", ww,
	       waiting ? "yes" : "no", cw, left ? "yes" : "no");
	if (!left)
		TH_LOG("child's stack: %s", kst);
	ASSERT_TRUE(stalled);
	ASSERT_TRUE(queued);
	ASSERT_TRUE(waiting);
	EXPECT_TRUE(left);
	/* The MAP failed (EINTR, counted) and changed nothing. */
	ASSERT_EQ(0, vs_stats(d.fd, &s2));
	EXPECT_EQ(s1.failures + 1, s2.failures);
	EXPECT_EQ(0, s2.mappings);
	EXPECT_EQ(s1.maps, s2.maps);
	EXPECT_EQ(-1, vs_check_zero(d.r[0].addr, 16 * PG, NULL));
	/* Not taken for detached: the owner's MAP confirms it now. */
	ASSERT_EQ(0, vs_map(d.fd, 0, mfd, 0, 0, PG, 0));
	EXPECT_EQ(-1, vs_check_pat(d.r[0].addr, PG, 81, 0, NULL));
	EXPECT_EQ(0, vs_unmap(d.fd, 0, 0, PG));
	close(mfd);
	vs_dev_close(&d);
	vs_stall_end(st);
}

/*
 * RESET of a detached region with a dma-buf mapping (its references
 * cannot be counted) evicts the mapping and then searches the owner's
 * whole mm for a vma of it moved out (mm_maps_file()), under the owner's
 * own mmap_lock. A RESET in the CLONE_VM child takes the lock once to
 * check (reader 1 holds it, no writer yet: granted), then for writing to
 * munmap the buffer (queued behind reader 1); reader 2 queues behind it,
 * the writer behind reader 2; reader 1 lets go: the munmap runs, reader 2
 * has the lock, and the search waits behind the writer. SIGKILL must end
 * that wait (the mapping counted as copied: EBUSY, dropped from the
 * table), and the device works on: its other region maps, RESET says 0,
 * and its release drops every module reference.
 */
TEST(clone_vm_owner_killed_searching_for_a_moved_dmabuf)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 16 * PG },
				       { .shmid = 1, .size = 16 * PG } };
	bool unmapping = false, queued = false, searching = false, left = false;
	char cw[64] = "", rw[64] = "", ww[64] = "";
	struct vs_stall *st1 = NULL, *st2 = NULL;
	static struct ow_pair p = { .c.act = 'r' };
	int card, buf, mfd, i, seen_ms = -1;
	struct vhost_shmem_stats s = {};
	long ref0 = -1;
	static char kst[4096];
	struct vs_dev d;

	vs_prefault_stack(256 * 1024);
	memset(kst, 1, sizeof(kst));
	/* The devices of earlier tests may still be on their way out. */
	ref0 = module_refs(0);
	if (ref0 < 0)
		SKIP(return, "no /sys/module/vhost_shmem/refcnt");
	if (access("/dev/fuse", F_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS)");
	card = vs_vgem_open();
	ASSERT_LE(0, card) TH_LOG("no vgem DRM device in /dev/dri (load the vgem module)");
	buf = vs_vgem_dmabuf(card, PG, 82, true);
	ASSERT_LE(0, buf);
	mfd = vs_memfd("ow-search", PG, 83);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, vs_stall_setup(&st1, "/tmp/vs-ow-fuse-1"));
	ASSERT_EQ(0, vs_stall_setup(&st2, "/tmp/vs-ow-fuse-2"));
	ASSERT_EQ(0, vs_stall_arm(st2));
	ASSERT_EQ(0, vs_dev_setup(&d, l, 2, true));
	ASSERT_EQ(0, vs_map(d.fd, 0, buf, 0, 0, PG, VHOST_SHMEM_MAP_F_RW));
	EXPECT_EQ(-1, vs_check_pat(d.r[0].addr, PG, 82, 0, NULL));
	/* Region 1 confirmed: the RESET takes no lock for it before. */
	ASSERT_EQ(0, vs_map(d.fd, 1, mfd, 0, 0, PG, 0));
	ASSERT_EQ(0, vs_unmap(d.fd, 1, 0, PG));
	/* The owner unmaps a hole of region 0: detached. */
	ASSERT_EQ(0, munmap(d.r[0].addr + 8 * PG, PG));
	EXPECT_EQ(-ENXIO, vs_unmap(d.fd, 0, 0, PG));
	p.c.devfd = d.fd;
	ASSERT_EQ(0, ow_pair_start(&p, kst, sizeof(kst)));
	vs_stall_let_go(st1);
	ASSERT_FALSE(vs_stall_seen(st2));
	ASSERT_LT(0, vs_stall_reader(st2));

	ASSERT_EQ(0, vs_stall_begin(st1));
	/* Its check had the lock beside reader 1; its munmap waits. */
	unmapping = write(p.cgo, "c", 1) == 1 &&
		    wait_blocked_in(p.child, "vm_munmap", 5000);
	/* From here until reader 2 lets go: no fault in this mm. */
	if (unmapping && !vs_stall_fire(st2))
		queued = wait_blocked_in(vs_stall_reader(st2), "", 5000) &&
			 ow_writer_queues(&p);
	if (queued) {
		vs_stall_let_go(st1);
		for (i = 0; i < 500 && !vs_stall_seen(st2); i++)
			usleep(10000);
		seen_ms = i * 10;
		/* Reader 2 has the lock: the munmap is done, the search waits. */
		searching = vs_stall_seen(st2) &&
			    wait_blocked_in(p.child, "mm_maps_file", 5000);
	}
	wchan(p.child, cw, sizeof(cw));
	wchan(vs_stall_reader(st2), rw, sizeof(rw));
	wchan(p.writer, ww, sizeof(ww));
	kill(p.child, SIGKILL);
	if (searching)
		left = left_module(p.child, 3000, kst, sizeof(kst));
	vs_stall_let_go(st1);
	vs_stall_let_go(st2);
	ow_pair_end(_metadata, &p);
	TH_LOG("RESET waited to munmap: %s; reader 2 and the writer queued: %s (in %s, %s); reader 2 had the lock after %d ms",
	       unmapping ? "yes" : "no", queued ? "yes" : "no", rw, ww, seen_ms);
	TH_LOG("RESET waiting to search: %s (in %s); out of the module within 3 s of SIGKILL: %s",
	       searching ? "yes" : "no", cw, left ? "yes" : "no");
	if (!left)
		TH_LOG("child's stack: %s", kst);
	ASSERT_TRUE(unmapping);
	ASSERT_TRUE(queued);
	ASSERT_TRUE(searching);
	EXPECT_TRUE(left);
	/* Taken out of the owner and dropped (counted as copied). */
	EXPECT_EQ(0, vs_maps_count(d.r[0].addr, PG));
	ASSERT_EQ(0, vs_stats(d.fd, &s));
	EXPECT_EQ(0, s.mappings);
	/* The device works on. */
	EXPECT_EQ(0, vs_reset(d.fd));
	ASSERT_EQ(0, vs_map(d.fd, 1, mfd, 0, 0, PG, 0));
	EXPECT_EQ(-1, vs_check_pat(d.r[1].addr, PG, 83, 0, NULL));
	EXPECT_EQ(0, vs_unmap(d.fd, 1, 0, PG));
	close(mfd);
	close(buf);
	close(card);
	vs_dev_close(&d);
	EXPECT_EQ(ref0, module_refs(ref0));
	vs_stall_end(st1);
	vs_stall_end(st2);
}

/*
 * A MAP's rollback must not trust the range of a viewer whose own thread
 * changed the new vma between its install there and the rollback: moved
 * it out of the view (mremap(): VM_DONTEXPAND allows a move of the same
 * size), or mapped a page of its own over part of it. That viewer still
 * maps the buffer, so the MAP is kept: EBUSY, the mapping listed, as for a
 * sealed one (views_test's map_kept_by_viewer_stays_listed). Before, the
 * rollback found nothing there (or the viewer's page first), and the MAP
 * returned ENOMEM with the mapping gone from the table.
 *
 * Viewers install last attached first: v[1] (A) takes the MAP, then the
 * busy viewer (vs_busy, B), whose mmap_lock a stalled reader holds: its
 * check passed (readers share the lock), its install waits for the write
 * lock, in vm_mmap_pgoff(), the only place the worker can wait there
 * (A's lock is free). Meanwhile A moves or covers the new vma; then B
 * lets go and v[0] (C), past vm.max_map_count, refuses the MAP (ENOMEM).
 */
struct kept_map {
	int devfd, mfd;
	int ret;
};

static void *kept_map_fn(void *arg)
{
	struct kept_map *k = arg;

	k->ret = vs_map(k->devfd, 0, k->mfd, 20 * PG, 20 * PG, 2 * PG, 0);
	return NULL;
}

static void rollback_after_viewer_changed_it(struct __test_metadata *_metadata,
					     FIXTURE_DATA(root_views) *self,
					     bool cover)
{
	struct kept_map k = { .devfd = self->d.fd, .mfd = self->mfd };
	struct vhost_shmem_stats st;
	bool blocked = false;
	long mmc, lim, a_vmas = -1, changed = -1;
	struct vs_busy b;
	pthread_t mapper;

	if (access("/dev/fuse", F_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS)");
	ASSERT_EQ(0, start_view(self, 0, 0, PROT_READ));
	ASSERT_EQ(0, vs_busy_start(&b, self->d.fd, 0, SZ, 63 * PG));
	ASSERT_EQ(0, start_view(self, 1, VHOST_SHMEM_VIEW_F_RW,
				PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vs_read_long(MMC, &mmc));
	lim = vs_maps_total() + 64;
	self->orig_mmc = mmc;
	ASSERT_EQ(0, vs_write_long(MMC, lim));
	ASSERT_LE(lim, vs_vcall(&self->v[0], V_INFLATE, 0, 0, 0, lim + 16));
	ASSERT_EQ(0, vs_busy_stall(&b));
	if (pthread_create(&mapper, NULL, kept_map_fn, &k)) {
		vs_busy_stop(&b);
		ASSERT_TRUE(false);
	}
	/* Nothing below may return before B lets go and the MAP is joined. */
	blocked = wait_blocked_in(b.worker, "vm_mmap_pgoff", 10000);
	if (blocked) {
		a_vmas = vs_vcall(&self->v[1], V_VMAS, 0, 0, 0, 0);
		changed = cover ? vs_vcall(&self->v[1], V_COVER, 20 * PG, PG, 0, 0) :
				  vs_vcall(&self->v[1], V_MOVE, 20 * PG, 2 * PG, 0, 0);
	}
	EXPECT_EQ(0, vs_busy_unstall(&b));
	pthread_join(mapper, NULL);
	vs_busy_stop(&b);
	ASSERT_EQ(0, vs_write_long(MMC, mmc));
	self->orig_mmc = -1;
	ASSERT_TRUE(blocked);
	/* A had the MAP when the worker waited for B: hole, mapping, hole. */
	ASSERT_EQ(3, a_vmas);
	ASSERT_EQ(0, changed);
	EXPECT_EQ(-EBUSY, k.ret);
	/* Listed: counted, and the same range is taken. */
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(1, st.mappings);
	EXPECT_EQ(-EEXIST, vs_map(self->d.fd, 0, self->mfd, 0, 20 * PG, PG, 0));
	/* Gone from the owner and from C; A still maps it. */
	EXPECT_EQ(0, vs_check_zero(R(self), SZ, NULL) + 1);
	EXPECT_EQ(1, vs_maps_count(R(self), SZ));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_ZERO, 0, SZ, 0, 0));
	if (cover) {
		EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_PAT, 21 * PG, PG, 1, 21 * PG));
	} else {
		EXPECT_EQ(0, vs_vcall(&self->v[1], V_CHECK_MOVED, 0, 0, 1, 20 * PG));
	}
	/* UNMAP: a copy still mapped (EBUSY), and the mapping forgotten. */
	EXPECT_EQ(-EBUSY, vs_unmap(self->d.fd, 0, 20 * PG, 2 * PG));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	/* Without A, the range takes a MAP again. */
	vs_viewer_stop(&self->v[1]);
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 20 * PG, 20 * PG, 2 * PG, 0));
	EXPECT_EQ(0, vs_vcall(&self->v[0], V_CHECK_PAT, 20 * PG, 2 * PG, 1, 20 * PG));
}

TEST_F(root_views, rollback_finds_new_vma_moved_out_of_view)
{
	rollback_after_viewer_changed_it(_metadata, self, false);
}

TEST_F(root_views, rollback_finds_own_page_over_new_vma)
{
	rollback_after_viewer_changed_it(_metadata, self, true);
}

/*
 * The owner dies while a viewer holds its own mmap_lock: the drain (a
 * kworker) holds dev->mutex and waits for that lock as long as the viewer
 * holds it. A RESET by another fd holder (the worker answers ESRCH) waits
 * for the drain, killable: SIGKILL ends it at once.
 */
#define OD_PAGES	64

/* One byte to a child, one byte back. */
static int od_cmd(int sock, char c)
{
	char r;

	if (write(sock, &c, 1) != 1 || read(sock, &r, 1) != 1)
		return -1;
	return r;
}

/* The owner: sets up, MAPs one page (seed 7), sends the fd, exits when told. */
static void __attribute__((noreturn)) od_owner(int sock)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = OD_PAGES * PG } };
	struct vs_dev d;
	int mfd;
	char c;

	if (vs_dev_setup(&d, l, 1, true))
		_exit(1);
	mfd = vs_memfd("od", PG, 7);
	if (mfd < 0 || vs_map(d.fd, 0, mfd, 0, 0, PG, 0))
		_exit(2);
	if (vs_send_fd(sock, d.fd, "d", 1))
		_exit(3);
	(void)!read(sock, &c, 1);
	_exit(0);
}

/*
 * The viewer: mmaps the view; 'h' holds its mmap_lock (stall), 'g' lets
 * go, 'z' answers 'Z' if its first page reads zeros ('N' if not).
 */
static void __attribute__((noreturn)) od_viewer(int sock, int vfd)
{
	struct vs_stall *st = NULL;
	const volatile uint8_t *view;
	char mnt[64], c;
	void *p;
	long i;

	vs_prefault_stack(256 * 1024);
	snprintf(mnt, sizeof(mnt), "/tmp/od-fuse-%d", (int)getpid());
	p = mmap(NULL, OD_PAGES * PG, PROT_READ, MAP_SHARED, vfd, 0);
	c = p == MAP_FAILED ? 'E' : 'R';
	if (write(sock, &c, 1) != 1 || c == 'E')
		_exit(1);
	view = p;
	while (read(sock, &c, 1) == 1) {
		if (c == 'h') {
			c = vs_stall_setup(&st, mnt) || vs_stall_begin(st) ?
			    'E' : 'H';
		} else if (c == 'g') {
			vs_stall_end(st);
			st = NULL;
			c = 'F';
		} else {
			for (i = 0; i < PG && !view[i]; i++)
				;
			c = i == PG ? 'Z' : 'N';
		}
		if (write(sock, &c, 1) != 1)
			break;
	}
	vs_stall_end(st);
	rmdir(mnt);
	_exit(0);
}

/* The resetter: RESET when told (its result is not awaited: it is killed). */
static void __attribute__((noreturn)) od_resetter(int sock, int devfd)
{
	char c;

	vs_prefault_stack(64 * 1024);
	if (read(sock, &c, 1) != 1)
		_exit(1);
	c = (char)-vs_reset(devfd);
	(void)!write(sock, &c, 1);
	_exit(0);
}

TEST(killed_reset_while_the_drain_waits_for_a_viewer)
{
	static char kst[4096];
	int os[2], vs[2], rs[2], devfd = -1, vfd, status;
	pid_t owner, viewer, resetter;
	bool waits, gone;
	char c;

	if (!vs_have_dev() || geteuid())
		SKIP(return, "needs root and the device");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, os));
	owner = fork();
	ASSERT_LE(0, owner);
	if (!owner) {
		close(os[0]);
		od_owner(os[1]);
	}
	close(os[1]);
	ASSERT_EQ(1, vs_recv_fd(os[0], &devfd, &c, 1));
	ASSERT_LE(0, devfd);
	vfd = vs_get_view(devfd, 0, 0);
	ASSERT_LE(0, vfd);

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, vs));
	viewer = fork();
	ASSERT_LE(0, viewer);
	if (!viewer) {
		close(vs[0]);
		od_viewer(vs[1], vfd);
	}
	close(vs[1]);
	close(vfd);
	ASSERT_EQ(1, read(vs[0], &c, 1));
	ASSERT_EQ('R', c);

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rs));
	resetter = fork();
	ASSERT_LE(0, resetter);
	if (!resetter) {
		close(rs[0]);
		od_resetter(rs[1], devfd);
	}
	close(rs[1]);

	/*
	 * The viewer holds its mmap_lock, then the owner exits: its mm's
	 * teardown schedules the drain, which cannot finish before the viewer
	 * lets go (it puts a hole back in the viewer's mm), whenever it runs.
	 */
	ASSERT_EQ('H', od_cmd(vs[0], 'h'));
	/* Not close(): the other children hold os[0] too. */
	ASSERT_EQ(1, write(os[0], "x", 1));
	ASSERT_EQ(owner, waitpid(owner, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/*
	 * RESET: the worker answers ESRCH; then it waits for the drain, in
	 * the module but no longer for the worker (run_in_owner's frame).
	 */
	ASSERT_EQ(1, write(rs[0], "r", 1));
	waits = stack_shows(resetter, "vhost_shmem", "run_in_owner", 10000,
			    kst, sizeof(kst)) &&
		vs_wait_state(resetter, 'D', 10000);
	if (!waits)
		TH_LOG("resetter %d (state %c) stack:\n%s", resetter,
		       vs_proc_state(resetter), kst);
	kill(resetter, SIGKILL);
	gone = left_module(resetter, 3000, kst, sizeof(kst));
	if (!gone)
		TH_LOG("3 s after SIGKILL the resetter is still in the module:\n%s",
		       kst);
	/* Let go: the drain finishes, and the resetter with it if it was stuck. */
	EXPECT_EQ('F', od_cmd(vs[0], 'g'));
	EXPECT_EQ(resetter, waitpid(resetter, &status, 0));
	/* A RESET now waits for the drain, which took the buffer out of the view. */
	EXPECT_EQ(0, vs_reset(devfd));
	EXPECT_EQ('Z', od_cmd(vs[0], 'z'));
	close(vs[0]);
	EXPECT_EQ(viewer, waitpid(viewer, NULL, 0));
	close(rs[0]);
	close(os[0]);
	close(devfd);
	EXPECT_TRUE(waits);
	EXPECT_TRUE(gone);
}

/*
 * A FUSE file system of one file, "f", whose FSYNC it holds (the first
 * one, until the test answers it): an aio fsync of it keeps the process
 * that queued it in exit_aio(), its mm without users but not torn down.
 */
struct hfs {
	int fuse_fd;
	pthread_t srv;
	volatile uint64_t fsync_pending;	/* the FSYNC held */
	char buf[1 << 17];
	char data[4096];
};

static void hfs_reply(struct hfs *o, uint64_t unique, int err, const void *p,
		      size_t n)
{
	struct fuse_out_header h = { sizeof(h) + (err ? 0 : n), err, unique };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, err ? 0 : n } };

	(void)!writev(o->fuse_fd, iov, 2);
}

static void hfs_attr(struct fuse_attr *a, uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = ino == 1 ? S_IFDIR | 0755 : S_IFREG | 0666;
	a->nlink = 1;
	a->size = ino == 1 ? 0 : 4096;
	a->blocks = a->size / 512;
	a->blksize = 4096;
}

static void *hfs_server(void *arg)
{
	struct hfs *o = arg;
	ssize_t n;

	while ((n = read(o->fuse_fd, o->buf, sizeof(o->buf))) > 0) {
		struct fuse_in_header *in = (void *)o->buf;
		void *body = in + 1;

		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_in *ii = body;
			struct fuse_init_out io = {
				.major = FUSE_KERNEL_VERSION,
				.minor = FUSE_KERNEL_MINOR_VERSION,
				.max_readahead = ii->max_readahead,
				.max_write = 4096,
			};

			hfs_reply(o, in->unique, 0, &io, sizeof(io));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out e = {
				.nodeid = 2, .generation = 1,
				.entry_valid = 100, .attr_valid = 100,
			};

			if (strcmp(body, "f")) {
				hfs_reply(o, in->unique, -ENOENT, NULL, 0);
				break;
			}
			hfs_attr(&e.attr, 2);
			hfs_reply(o, in->unique, 0, &e, sizeof(e));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out a = { .attr_valid = 100 };

			hfs_attr(&a.attr, in->nodeid);
			hfs_reply(o, in->unique, 0, &a, sizeof(a));
			break;
		}
		case FUSE_OPEN: {
			struct fuse_open_out oo = { .fh = 1 };

			hfs_reply(o, in->unique, 0, &oo, sizeof(oo));
			break;
		}
		case FUSE_READ: {
			struct fuse_read_in *r = body;

			hfs_reply(o, in->unique, 0, o->data,
				  r->size < sizeof(o->data) ? r->size : sizeof(o->data));
			break;
		}
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;
		case FUSE_FSYNC:
			if (!o->fsync_pending) {
				o->fsync_pending = in->unique;
				break;
			}
			hfs_reply(o, in->unique, 0, NULL, 0);
			break;
		case FUSE_FLUSH:
		case FUSE_RELEASE:
			hfs_reply(o, in->unique, 0, NULL, 0);
			break;
		default:
			hfs_reply(o, in->unique, -ENOSYS, NULL, 0);
		}
	}
	return NULL;
}

/* The owner: MAPs one page (seed 7), queues an aio fsync of @path, exits. */
static void __attribute__((noreturn)) aio_owner(int sock, const char *path)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = OD_PAGES * PG } };
	struct iocb cb = { 0 }, *cbp = &cb;
	aio_context_t ctx = 0;
	struct vs_dev d;
	int mfd, ffd;
	char c;

	if (vs_dev_setup(&d, l, 1, true))
		_exit(1);
	mfd = vs_memfd("od-aio", PG, 7);
	if (mfd < 0 || vs_map(d.fd, 0, mfd, 0, 0, PG, 0))
		_exit(2);
	if (vs_send_fd(sock, d.fd, "d", 1))
		_exit(3);
	if (read(sock, &c, 1) != 1)
		_exit(4);
	ffd = open(path, O_RDONLY | O_CLOEXEC);
	if (ffd < 0 || syscall(SYS_io_setup, 1, &ctx))
		_exit(5);
	cb.aio_lio_opcode = IOCB_CMD_FSYNC;
	cb.aio_fildes = ffd;
	c = syscall(SYS_io_submit, ctx, 1, &cbp) == 1 ? 'A' : 'E';
	(void)!write(sock, &c, 1);
	(void)!read(sock, &c, 1);
	_exit(0);	/* exit_aio() waits for the fsync, before exit_mmap() */
}

/*
 * The owner's mm has no user left but its teardown has not reached
 * exit_mmap() (exit_aio() waits for an aio fsync the FUSE server holds):
 * the notifier has not run, no drain is scheduled. A RESET then gets
 * ESRCH from the worker; it must not return 0 while a viewer still maps
 * the owner's buffer: it has the drain run and waits for it, and the view
 * reads zeros.
 */
TEST(reset_while_the_owners_mm_dies_drains_the_viewers)
{
	struct vs_viewer v = { .pid = -1 };
	static struct hfs o;
	static char kst[4096];
	char mnt[64], opts[128], path[96], c;
	struct fuse_out_header h;
	struct iovec iov[1] = { { &h, sizeof(h) } };
	int os[2], devfd = -1, vfd, i, ret;
	long pat_after_reset, zero_after_reset;
	pid_t owner;

	if (!vs_have_dev() || geteuid())
		SKIP(return, "needs root and the device");
	o.fsync_pending = 0;
	o.fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, o.fuse_fd);
	snprintf(mnt, sizeof(mnt), "/tmp/od-aio-%d", (int)getpid());
	mkdir(mnt, 0755);
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0",
		 o.fuse_fd);
	ASSERT_EQ(0, mount("od-aio", mnt, "fuse", MS_NOSUID | MS_NODEV, opts));
	ASSERT_EQ(0, pthread_create(&o.srv, NULL, hfs_server, &o));
	snprintf(path, sizeof(path), "%s/f", mnt);

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, os));
	owner = fork();
	ASSERT_LE(0, owner);
	if (!owner) {
		close(os[0]);
		aio_owner(os[1], path);
	}
	close(os[1]);
	ASSERT_EQ(1, vs_recv_fd(os[0], &devfd, &c, 1));
	ASSERT_LE(0, devfd);
	vfd = vs_get_view(devfd, 0, 0);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vs_viewer_start(&v, vfd, 0, OD_PAGES * PG, PROT_READ));
	close(vfd);
	ASSERT_EQ(0, vs_vcall(&v, V_CHECK_PAT, 0, PG, 7, 0));

	/* The owner queues an aio fsync the server holds, then exits. */
	ASSERT_EQ(1, write(os[0], "a", 1));
	ASSERT_EQ(1, read(os[0], &c, 1));
	ASSERT_EQ('A', c);
	for (i = 0; i < 1000 && !o.fsync_pending; i++)
		usleep(10000);
	ASSERT_NE(0, o.fsync_pending);
	ASSERT_EQ(1, write(os[0], "x", 1));
	ASSERT_TRUE(vs_wait_state(owner, 'D', 10000));
	ASSERT_TRUE(stack_shows(owner, "exit_aio", NULL, 10000, kst,
				sizeof(kst)));

	ret = vs_reset(devfd);
	pat_after_reset = vs_vcall(&v, V_CHECK_PAT, 0, PG, 7, 0);
	zero_after_reset = vs_vcall(&v, V_CHECK_ZERO, 0, PG, 0, 0);
	TH_LOG("RESET with the owner in exit_aio(): %d; the view then %s", ret,
	       !pat_after_reset ? "still shows the buffer" :
	       !zero_after_reset ? "reads zeros" : "reads neither");

	/* Let the owner's teardown go on: exit_mmap(), the notifier, the drain. */
	h = (struct fuse_out_header){ sizeof(h), 0, o.fsync_pending };
	ASSERT_LT(0, writev(o.fuse_fd, iov, 1));
	ASSERT_EQ(owner, waitpid(owner, NULL, 0));
	EXPECT_EQ(0, vs_reset(devfd));
	EXPECT_EQ(0, vs_vcall(&v, V_CHECK_ZERO, 0, PG, 0, 0));
	EXPECT_EQ(0, ret);
	EXPECT_NE(0, pat_after_reset);
	EXPECT_EQ(0, zero_after_reset);
	vs_viewer_stop(&v);
	close(os[0]);
	close(devfd);
	/* The unmount aborts the connection: the server's read() ends. */
	umount2(mnt, MNT_DETACH);
	pthread_join(o.srv, NULL);
	close(o.fuse_fd);
	rmdir(mnt);
}

TEST_HARNESS_MAIN
