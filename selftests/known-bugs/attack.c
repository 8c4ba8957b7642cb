/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reproducers of the "Known gaps" of the threat model
 * (Documentation/userspace-api/vhost-shmem.rst): each test asserts the
 * guarantee and FAILS on today's module (confirmed on 6.12 at e5f4047;
 * the unkillable requester is fixed, its test is in selftests/root_test.c;
 * the dma-buf and overlayfs ones are regression tests in
 * hardening_test.c now). Not built by make check. To run them:
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

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"

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
