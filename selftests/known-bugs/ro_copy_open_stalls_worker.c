// SPDX-License-Identifier: GPL-2.0
/*
 * Reproducer (attack4, session 8) of a "Known gaps" entry of
 * Documentation/userspace-api/vhost-shmem.rst: a read-write MAP of a file
 * on a FUSE file system into a region with a read-only viewer. The
 * worker, past the request's commit point, opens the viewer's read-only
 * copy (dentry_open() in viewer_install()) holding dev->mutex, and waits
 * for a FUSE_OPEN the server never answers: SIGKILL of the requester does
 * not end it, and a GET_STATS waits behind it.
 *
 * (attack4's two RESET reproducers became root_test's
 * killed_reset_while_the_drain_waits_for_a_viewer and
 * reset_while_the_owners_mm_dies_drains_the_viewers with their fix,
 * 0fb03f6.)
 *
 * Not built by make check; needs root and FUSE. To run it:
 *   cp selftests/known-bugs/ro_copy_open_stalls_worker.c selftests/rocopy_test.c
 *   (add rocopy_test to ROOT_SUITES in tools/vm/run-suites.sh)
 *   make check KVERS=6.12.117+deb12-amd64 VM_FILTER=rocopy
 * (and undo both). Fails (EXPECT) while the gap is there: 3 s after the
 * kill GET_STATS still waits for dev->mutex; confirmed on 6.12 and its
 * debug kernel at 4905fde, and on 6.12 at 06b7574.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>
#include <linux/fuse.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"
#include "viewer_lib.h"
#include "stall_lib.h"

#define NPAGES	64
#define SZ	(NPAGES * PG)

/*
 * ro_copy_open_stalls_worker: a read-write MAP of a FUSE file into a region
 * with a read-only viewer. The worker, committed (no signal reaches it any
 * more), opens the read-only copy (dentry_open() in viewer_install()) under
 * dev->mutex: a FUSE_OPEN the file's server answers when it likes.
 */
struct ofs {
	int fuse_fd;
	pthread_t srv;
	volatile int opens;		/* FUSE_OPENs seen */
	volatile int stall_from;	/* this OPEN and later go unanswered */
	volatile uint64_t pending;	/* the unanswered one */
	char buf[1 << 17];
	char data[4096];
};

static void ofs_reply(struct ofs *o, uint64_t unique, int err, const void *p,
		      size_t n)
{
	struct fuse_out_header h = { sizeof(h) + (err ? 0 : n), err, unique };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, err ? 0 : n } };

	(void)!writev(o->fuse_fd, iov, 2);
}

static void ofs_attr(struct fuse_attr *a, uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = ino == 1 ? S_IFDIR | 0755 : S_IFREG | 0666;
	a->nlink = 1;
	a->size = ino == 1 ? 0 : 4096;
	a->blocks = a->size / 512;
	a->blksize = 4096;
}

static void *ofs_server(void *arg)
{
	struct ofs *o = arg;
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

			ofs_reply(o, in->unique, 0, &io, sizeof(io));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out e = {
				.nodeid = 2, .generation = 1,
				.entry_valid = 100, .attr_valid = 100,
			};

			if (strcmp(body, "f")) {
				ofs_reply(o, in->unique, -ENOENT, NULL, 0);
				break;
			}
			ofs_attr(&e.attr, 2);
			ofs_reply(o, in->unique, 0, &e, sizeof(e));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out a = { .attr_valid = 100 };

			ofs_attr(&a.attr, in->nodeid);
			ofs_reply(o, in->unique, 0, &a, sizeof(a));
			break;
		}
		case FUSE_OPEN: {
			struct fuse_open_out oo = { .fh = 1 };

			if (++o->opens >= o->stall_from && !o->pending) {
				o->pending = in->unique;
				break;
			}
			ofs_reply(o, in->unique, 0, &oo, sizeof(oo));
			break;
		}
		case FUSE_READ: {
			struct fuse_read_in *r = body;

			ofs_reply(o, in->unique, 0, o->data,
				  r->size < sizeof(o->data) ? r->size : sizeof(o->data));
			break;
		}
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;
		case FUSE_FSYNC:
		case FUSE_FLUSH:
		case FUSE_RELEASE:
			ofs_reply(o, in->unique, 0, NULL, 0);
			break;
		default:
			ofs_reply(o, in->unique, -ENOSYS, NULL, 0);
		}
	}
	return NULL;
}

static void log_stack(struct __test_metadata *_metadata, pid_t pid)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		TH_LOG("%d (state %c) stack:\n%s", pid, vs_proc_state(pid), buf);
	}
}

TEST(ro_copy_open_stalls_worker)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = NPAGES * PG } };
	struct vs_viewer v = { .pid = -1 };
	static struct ofs o;
	char mnt[64], opts[128], path[96];
	struct vs_dev d;
	pid_t worker, mapper, stats;
	int vfd, ffd, i, status;
	struct fuse_out_header h;
	struct fuse_open_out oo = { .fh = 1 };
	struct iovec iov[2] = { { &h, sizeof(h) }, { &oo, sizeof(oo) } };
	bool stuck, stats_stuck;

	if (!vs_have_dev() || geteuid())
		SKIP(return, "needs root and the device");
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	worker = vs_find_worker(getpid());
	ASSERT_LT(0, worker);
	vfd = vs_get_view(d.fd, 0, 0);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vs_viewer_start(&v, vfd, 0, SZ, PROT_READ));
	close(vfd);

	o.stall_from = 3;	/* ours, prepare's, then the worker's */
	o.fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, o.fuse_fd);
	snprintf(mnt, sizeof(mnt), "/tmp/a4-ofs-%d", (int)getpid());
	mkdir(mnt, 0755);
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0",
		 o.fuse_fd);
	ASSERT_EQ(0, mount("a4-ofs", mnt, "fuse", MS_NOSUID | MS_NODEV, opts));
	ASSERT_EQ(0, pthread_create(&o.srv, NULL, ofs_server, &o));
	snprintf(path, sizeof(path), "%s/f", mnt);
	ffd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ffd);

	mapper = fork();
	ASSERT_LE(0, mapper);
	if (!mapper)
		_exit(-vs_map(d.fd, 0, ffd, 0, 0, PG, VHOST_SHMEM_MAP_F_RW));
	for (i = 0; i < 500 && !o.pending; i++)
		usleep(10000);
	TH_LOG("opens seen %d, stalled one %s", o.opens, o.pending ? "yes" : "no");
	ASSERT_NE(0, o.pending);
	usleep(200 * 1000);
	log_stack(_metadata, worker);
	/* The requester is killable and leaves... */
	kill(mapper, SIGKILL);
	ASSERT_EQ(mapper, waitpid(mapper, &status, 0));
	/* ...but the device stays held: a GET_STATS waits (killable). */
	stats = fork();
	ASSERT_LE(0, stats);
	if (!stats) {
		struct vhost_shmem_stats st;

		_exit(vs_stats(d.fd, &st) ? 1 : 0);
	}
	sleep(3);
	stats_stuck = waitpid(stats, &status, WNOHANG) == 0;
	stuck = vs_proc_state(worker) != 'R';
	TH_LOG("3 s later: worker %c, GET_STATS %s", vs_proc_state(worker),
	       stats_stuck ? "still waiting for dev->mutex" : "returned");
	log_stack(_metadata, worker);
	kill(stats, SIGKILL);
	waitpid(stats, NULL, 0);
	/* Answer it: everything finishes. */
	h = (struct fuse_out_header){ sizeof(h) + sizeof(oo), 0, o.pending };
	ASSERT_LT(0, writev(o.fuse_fd, iov, 2));
	usleep(500 * 1000);
	TH_LOG("after the answer: worker %c", vs_proc_state(worker));
	EXPECT_FALSE(stats_stuck && stuck);
	vs_viewer_stop(&v);
	vs_dev_close(&d);
	close(ffd);
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
}

TEST_HARNESS_MAIN
