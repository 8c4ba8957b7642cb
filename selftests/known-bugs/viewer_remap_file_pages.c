// SPDX-License-Identifier: GPL-2.0
/*
 * Reproducer (attack3): a read-write viewer of a region view reaches the
 * whole backend file, not only the window [fd_offset, fd_offset + len)
 * that the owner MAPped into the region: it moves the installed vma out
 * of its view (the viewer is detached; the reap evicts only inside the
 * view's range) and remap_file_pages() it to any page of the file. The
 * known gap in vhost-shmem.rst names this for the owner only, and "What a
 * view holder can do" says a view holder reads only the region's mappings.
 * Read-only views are not affected (their vmas are not VM_SHARED).
 *
 * The first of the threat model's "Known gaps" (now naming read-write
 * viewers too). Not built by make check. To run it:
 *   cp selftests/known-bugs/viewer_remap_file_pages.c selftests/remapview_test.c
 *   make check KVERS=6.12.117+deb12-amd64 VM_FILTER=remapview
 * (and remove the copy again). Fails (EXPECT) where the viewer reads file
 * page 40, which no MAP ever put into any region; confirmed on 6.12's
 * debug kernel at 13c05b6.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"
#include "viewer_lib.h"

#define NPAGES	64
#define SZ	(NPAGES * PG)

FIXTURE(a3) {
	struct vs_dev d;
	int mfd;
};

FIXTURE_SETUP(a3)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = NPAGES * PG } };

	VS_REQUIRE_DEV_IN_SETUP();
	ASSERT_EQ(0, vs_dev_setup(&self->d, l, 1, true));
	self->mfd = vs_memfd("a3", NPAGES * PG, 1);
	ASSERT_LE(0, self->mfd);
}

FIXTURE_TEARDOWN(a3)
{
	close(self->mfd);
	vs_dev_close(&self->d);
}

static uint8_t *own_view(FIXTURE_DATA(a3) *self, uint32_t flags, int prot)
{
	int vfd = vs_get_view(self->d.fd, 0, flags);
	uint8_t *p;

	if (vfd < 0)
		return NULL;
	p = mmap(NULL, SZ, prot, MAP_SHARED, vfd, 0);
	close(vfd);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * A read-write viewer reaches the whole backend file, not only the
 * mapping's window: move the backend vma out of the view (the reap leaves
 * it alone there), then remap_file_pages() it to any file offset.
 */
TEST_F(a3, rw_viewer_reaches_whole_file)
{
	uint8_t *rw = own_view(self, VHOST_SHMEM_VIEW_F_RW, PROT_READ | PROT_WRITE);
	uint8_t *dst, *q;
	long r;

	ASSERT_NE(NULL, rw);
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->mfd, 0, 4 * PG, 4 * PG,
			    VHOST_SHMEM_MAP_F_RW));
	dst = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	q = mremap(rw + 4 * PG, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, q);
	r = syscall(SYS_remap_file_pages, dst, PG, 0, 40, 0);
	TH_LOG("remap_file_pages to file page 40: %ld (%s)", r, r ? strerror(errno) : "ok");
	usleep(200000);	/* the reap of the detached viewer has run */
	TH_LOG("file page 40 (never mapped) read through the view's vma: %s",
	       vs_check_pat(dst, PG, 1, 40 * PG, NULL) == -1 ? "yes" : "no");
	EXPECT_NE(-1, vs_check_pat(dst, PG, 1, 40 * PG, NULL));
	r = vs_probe_write(dst + 5, 0);
	TH_LOG("write there: %ld; file page 40 changed: %s", r,
	       vs_check_file_pat(self->mfd, 40 * PG, PG, 1, 40 * PG, NULL) == -1 ? "no" : "yes");
	TH_LOG("unmap: %d", vs_unmap(self->d.fd, 0, 4 * PG, 4 * PG));
	munmap(dst, 4 * PG);
}

TEST_HARNESS_MAIN
