// SPDX-License-Identifier: GPL-2.0
/*
 * Memory cgroups: what a MAP from another process costs (the vmas the
 * device's worker builds, the backend file the requester's ioctl opens
 * again, the device's table entry) is charged to the owner's memory
 * cgroup, the one it was in at SET_OWNER, and not to the requester's (nor
 * to nobody's: a kthread charges no cgroup unless told which).
 *
 * Needs a cgroup2 hierarchy with the memory controller in which the suite
 * can make two cgroups next to its own and move processes between them:
 * the VM's runner delegates one to the suite's user
 * (tools/vm/run-suites.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"

#define CGROOT		"/sys/fs/cgroup"
#define NMAPS		2000
#define CGLEN		256	/* a cgroup path here */

FIXTURE(memcg) {
	char start[CGLEN];	/* the cgroup the test started in */
	char a[CGLEN + 64];	/* the owner's */
	char b[CGLEN + 64];	/* the requester's */
	struct vs_dev d;
	struct vs_remote rem;
	int m;
};

/* Moves process @pid into cgroup directory @cg. 0 or -errno. */
static int cg_enter(const char *cg, pid_t pid)
{
	char path[CGLEN + 96];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	return vs_write_long(path, pid);
}

/* Value of @key in @cg's memory.stat, or -1. */
static long cg_stat(const char *cg, const char *key)
{
	char path[CGLEN + 96], k[64];
	long v, found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", cg);
	f = fopen(path, "re");
	while (f && fscanf(f, "%63s %ld", k, &v) == 2)
		if (!strcmp(k, key))
			found = v;
	if (f)
		fclose(f);
	return found;
}

/*
 * cg_stat() once it stopped moving: on 6.12 the vmas a MAP replaced are
 * freed after an RCU grace period (per-VMA locks), so right after a burst
 * of MAPs the count still holds some of them, and they would be taken
 * off whatever is measured next. Waits until two reads 50 ms apart agree
 * (at most 5 s), then returns the last one.
 */
static long cg_stat_settled(const char *cg, const char *key)
{
	long v = cg_stat(cg, key), prev;
	int i;

	for (i = 0; i < 100; i++) {
		usleep(50 * 1000);
		prev = v;
		v = cg_stat(cg, key);
		if (v == prev || v < 0)
			break;
	}
	return v;
}

/* The cgroup2 directory of this process into @dir. 0 or -errno. */
static int cg_self(char *dir, size_t len)
{
	char line[CGLEN - 32];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int ret = -ENOENT;

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(dir, len, CGROOT "%s", line + 3);
		ret = 0;
	}
	if (f)
		fclose(f);
	return ret;
}

FIXTURE_SETUP(memcg)
{
	char parent[CGLEN], probe[CGLEN + 96];
	char *slash;

	self->a[0] = self->b[0] = 0;
	self->d.fd = -1;
	self->rem.pid = -1;
	self->rem.sock = -1;
	self->m = -1;
	VS_REQUIRE_DEV_IN_SETUP();
	ASSERT_EQ(0, cg_self(self->start, sizeof(self->start)));
	snprintf(parent, sizeof(parent), "%s", self->start);
	slash = strrchr(parent, '/');
	ASSERT_NE(NULL, slash);
	*slash = 0;
	snprintf(self->a, sizeof(self->a), "%s/memcg-owner-%d", parent, getpid());
	snprintf(self->b, sizeof(self->b), "%s/memcg-requester-%d", parent, getpid());
	if (mkdir(self->a, 0755) || mkdir(self->b, 0755)) {
		TH_LOG("mkdir %s: %s: needs a cgroup2 subtree of its own with the memory "
		       "controller (the VM's runner delegates one)", self->a, strerror(errno));
		ASSERT_TRUE(false);
	}
	snprintf(probe, sizeof(probe), "%s/memory.current", self->a);
	ASSERT_EQ(0, access(probe, R_OK)) TH_LOG("no memory controller in %s", parent);
	/* The owner is this process, in A from before SET_OWNER on. */
	ASSERT_EQ(0, cg_enter(self->a, getpid()));
}

FIXTURE_TEARDOWN(memcg)
{
	vs_remote_stop(&self->rem);
	vs_dev_close(&self->d);
	if (self->m >= 0)
		close(self->m);
	cg_enter(self->start, getpid());
	if (self->a[0])
		rmdir(self->a);
	if (self->b[0])
		rmdir(self->b);
}

/*
 * NMAPS MAPs from a process in cgroup B, of one page each at every other
 * page of the owner's region (each its own vma, splitting the placeholder:
 * two vmas a MAP), through the worker: A, the owner's cgroup, pays for
 * all of it. What the worker builds, the vmas above all (vm_area_struct is
 * SLAB_ACCOUNT: two of at least 125 bytes a MAP), and what B's own ioctl
 * takes before the hand-off: the file opened again for the mapping and
 * the device's entry for it, both the owner's for as long as the mapping
 * lives. B pays nothing a MAP (less than B_MAX bytes: noise).
 * Measured (slab bytes a MAP): 6.1 A +321, B +335, the owner's own +656
 * when the ioctl's part was charged to B; 6.12 A +495, B +273; without
 * set_active_memcg() in the worker A +24.
 */
#define B_MAX	64
TEST_F_TIMEOUT(memcg, worker_maps_charged_to_owner, 300)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = 4UL * NMAPS * PG } };
	struct vs_remote_req req = { .op = VS_R_MAP_MANY, .count = NMAPS };
	const long worker_min = 250L * NMAPS;
	long a0, b0, a1, b1, own0, own1;
	struct vhost_shmem_stats st;
	struct vs_remote_rep rep;
	int i;

	ASSERT_EQ(0, vs_dev_setup(&self->d, l, 1, true));
	self->m = vs_memfd("memcg", PG, 81);
	ASSERT_LE(0, self->m);
	ASSERT_EQ(0, vs_remote_start(&self->rem, self->d.fd));
	ASSERT_EQ(0, cg_enter(self->b, self->rem.pid));
	/* The remote's first MAP and UNMAP: whatever it allocates once. */
	ASSERT_EQ(0, vs_remote_map(&self->rem, 0, self->m, 0, PG, PG, 0));
	ASSERT_EQ(0, vs_remote_unmap(&self->rem, 0, PG, PG));

	/* What NMAPS MAPs cost in all: the owner's own, in the upper half. */
	own0 = cg_stat_settled(self->a, "slab");
	ASSERT_LE(0, own0);
	for (i = 0; i < NMAPS; i++)
		ASSERT_EQ(0, vs_map(self->d.fd, 0, self->m, 0,
				    (2UL * NMAPS + 2 * i + 1) * PG, PG, 0));
	own1 = cg_stat_settled(self->a, "slab");

	/* The same from B through the worker, in the lower half. */
	a0 = cg_stat_settled(self->a, "slab");
	b0 = cg_stat_settled(self->b, "slab");
	ASSERT_LE(0, b0);
	req.stride = 2 * PG;
	req.map = (struct vhost_shmem_map){ .shm_offset = PG, .len = PG };
	ASSERT_EQ(0, vs_remote_call(&self->rem, &req, self->m, &rep));
	EXPECT_EQ(0, rep.ret);
	ASSERT_EQ(NMAPS, rep.done);
	a1 = cg_stat_settled(self->a, "slab");
	b1 = cg_stat_settled(self->b, "slab");
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(2 * NMAPS, st.mappings);
	ASSERT_EQ(-1, vs_check_pat(self->d.r[0].addr + (2 * NMAPS - 1) * PG, PG, 81, 0, NULL));
	TH_LOG("%d MAPs, slab bytes: from B: owner's A %+ld (%+ld a MAP), requester's B "
	       "%+ld (%+ld a MAP); by the owner itself: A %+ld (%+ld a MAP)", NMAPS,
	       a1 - a0, (a1 - a0) / NMAPS, b1 - b0, (b1 - b0) / NMAPS,
	       own1 - own0, (own1 - own0) / NMAPS);
	EXPECT_LE(worker_min, a1 - a0);
	/* The reopened file and the table entry too (prepare's part). */
	EXPECT_GT(B_MAX * NMAPS, b1 - b0);
	/*
	 * And about what the owner's own MAPs cost: runs differ by up to
	 * 7 % either way on 6.12 (vmas and maple nodes of other layouts);
	 * without the owner's memcg in the worker A gets 3 % of it.
	 */
	EXPECT_LE(own1 - own0 - (own1 - own0) / 4, a1 - a0);
	ASSERT_EQ(0, vs_reset(self->d.fd));
}

TEST_HARNESS_MAIN
