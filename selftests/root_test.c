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
 * /payload/vhost_shmem.ko.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"
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

TEST_HARNESS_MAIN
