// SPDX-License-Identifier: GPL-2.0
/*
 * Reproducers (attack4, session 8). Still a "Known gaps" entry of
 * Documentation/userspace-api/vhost-shmem.rst:
 *
 * ro_copy_open_stalls_worker: a read-write MAP of a FUSE file into a
 * region with a read-only viewer; the worker opens the viewer's read-only
 * copy (dentry_open()) after the commit point and waits for a FUSE_OPEN
 * the server never answers, holding dev->mutex.
 *
 * Fixed by 0fb03f6, kept for the record (their regression tests are
 * root_test's killed_reset_while_the_drain_waits_for_a_viewer and
 * reset_while_the_owners_mm_dies_drains_the_viewers):
 *
 * reset_after_owner_death_unkillable: the owner dies while a viewer holds
 * its own mmap_lock; the drain (a kworker) holds dev->mutex and waits for
 * that lock; a RESET by another fd holder got ESRCH from the worker and
 * then waited in vhost_shmem_drop_all()'s flush_work() (uninterruptible).
 *
 * reset_while_owner_mm_dies_leaves_viewer_mapped: a RESET between the
 * owner mm's last user and its exit_mmap() (held open by an aio fsync a
 * FUSE server never answers) got ESRCH, forgot the table and returned 0;
 * the drain then could not take the viewer's vma out.
 *
 * (ro_dev_zero_with_viewer, disabled: the WARN it looked for does not
 * fire; a read-only /dev/zero MAP gets an anonymous vma.)
 *
 * Not built by make check; needs root and FUSE. To run them:
 *   cp selftests/known-bugs/attack4.c selftests/attack4_test.c
 *   make check KVERS=6.12.117+deb12-amd64 VM_FILTER=attack4
 * (and remove the copy again). Each fails (EXPECT) where the gap shows;
 * confirmed on 6.12 and its debug kernel at 4905fde (the fixed two pass
 * since 0fb03f6).
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
#include <sys/uio.h>
#include <pthread.h>
#include <linux/fuse.h>
#include <linux/aio_abi.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"
#include "viewer_lib.h"
#include "stall_lib.h"

#define NPAGES	64
#define SZ	(NPAGES * PG)

static int dmesg_has(const char *what)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "dmesg | grep -q '%s'", what);
	return system(cmd) == 0;
}

static void __attribute__((unused)) ro_dev_zero_with_viewer_unused(struct __test_metadata *_metadata)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = NPAGES * PG } };
	struct vs_viewer v = { .pid = -1 };
	struct vs_dev d;
	int zfd, vfd, ret, warned0;

	if (!vs_have_dev())
		SKIP(return, "no device");
	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	warned0 = dmesg_has("seal_mapping");
	zfd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, zfd);
	/* Without a viewer: fine. */
	ASSERT_EQ(0, vs_map(d.fd, 0, zfd, 0, 0, 2 * PG, 0));
	ASSERT_EQ(0, vs_unmap(d.fd, 0, 0, 2 * PG));
	vfd = vs_get_view(d.fd, 0, VHOST_SHMEM_VIEW_F_RW);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vs_viewer_start(&v, vfd, 0, SZ, PROT_READ | PROT_WRITE));
	close(vfd);
	ret = vs_map(d.fd, 0, zfd, 0, 4 * PG, 2 * PG, 0);
	TH_LOG("RO /dev/zero MAP with a RW viewer: %d (%s)", ret,
	       ret ? strerror(-ret) : "ok");
	TH_LOG("seal_mapping WARN in dmesg: before %d, after %d", warned0,
	       dmesg_has("seal_mapping"));
	EXPECT_EQ(0, ret);
	if (!ret)
		EXPECT_EQ(-EACCES, vs_vcall(&v, V_MPROTECT, 4 * PG, PG, 0,
					    PROT_READ | PROT_WRITE));
	vs_viewer_stop(&v);
	close(zfd);
	vs_dev_close(&d);
}

/* Commands to the children, one byte each. */
static int cmd(int sock, char c)
{
	char r;

	if (write(sock, &c, 1) != 1 || read(sock, &r, 1) != 1)
		return -1;
	return r;
}

/* The owner: sets up, MAPs one page, sends the device fd, exits when told. */
static void __attribute__((noreturn)) owner_child(int sock)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = NPAGES * PG } };
	struct vs_dev d;
	int mfd;
	char c;

	if (vs_dev_setup(&d, l, 1, true))
		_exit(1);
	mfd = vs_memfd("a4", PG, 7);
	if (mfd < 0 || vs_map(d.fd, 0, mfd, 0, 0, PG, 0))
		_exit(2);
	if (vs_send_fd(sock, d.fd, "d", 1))
		_exit(3);
	(void)!read(sock, &c, 1);
	_exit(0);
}

/* The viewer: mmaps the view, stalls its mmap_lock when told. */
static void __attribute__((noreturn)) viewer_child(int sock, int vfd)
{
	struct vs_stall *st = NULL;
	char mnt[64], c;
	void *view;

	vs_prefault_stack(256 * 1024);
	snprintf(mnt, sizeof(mnt), "/tmp/a4-fuse-%d", (int)getpid());
	view = mmap(NULL, SZ, PROT_READ, MAP_SHARED, vfd, 0);
	c = view == MAP_FAILED ? 'E' : 'R';
	if (write(sock, &c, 1) != 1 || c == 'E')
		_exit(1);
	while (read(sock, &c, 1) == 1) {
		if (c == 'h')
			c = vs_stall_setup(&st, mnt) || vs_stall_begin(st) ?
			    'E' : 'H';
		else {
			vs_stall_end(st);
			st = NULL;
			c = 'F';
		}
		if (write(sock, &c, 1) != 1)
			break;
	}
	vs_stall_end(st);
	rmdir(mnt);
	_exit(0);
}

/* The resetter: RESET when told, then reports its result. */
static void __attribute__((noreturn)) reset_child(int sock, int devfd)
{
	char c;
	int ret;

	vs_prefault_stack(64 * 1024);
	if (read(sock, &c, 1) != 1)
		_exit(1);
	ret = vs_reset(devfd);
	c = (char)-ret;
	(void)!write(sock, &c, 1);
	_exit(0);
}

TEST(reset_after_owner_death_unkillable)
{
	int os[2], vs[2], rs[2], devfd = -1, vfd, status, i;
	pid_t owner, viewer, resetter;
	char c, st;
	bool gone = false;

	if (!vs_have_dev() || geteuid())
		SKIP(return, "needs root and the device");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, os));
	owner = fork();
	ASSERT_LE(0, owner);
	if (!owner) {
		close(os[0]);
		owner_child(os[1]);
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
		viewer_child(vs[1], vfd);
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
		reset_child(rs[1], devfd);
	}
	close(rs[1]);

	/* The viewer holds its mmap_lock; the owner dies. */
	ASSERT_EQ('H', cmd(vs[0], 'h'));
	TH_LOG("viewer %d holds its mmap_lock; owner %d exits", viewer, owner);
	/* Not close(): the other children hold os[0] too. */
	ASSERT_EQ(1, write(os[0], "x", 1));
	ASSERT_EQ(owner, waitpid(owner, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* Give the drain time to reach the viewer's mmap_lock. */
	usleep(500 * 1000);

	/* RESET: the worker says ESRCH, then drop_all() waits for the drain. */
	c = 'r';
	ASSERT_EQ(1, write(rs[0], &c, 1));
	ASSERT_TRUE(vs_wait_state(resetter, 'D', 5000));
	TH_LOG("resetter %d in D; SIGKILL", resetter);
	kill(resetter, SIGKILL);
	for (i = 0; i < 300 && !gone; i++) {
		gone = waitpid(resetter, &status, WNOHANG) == resetter;
		if (!gone)
			usleep(10000);
	}
	st = gone ? '-' : vs_proc_state(resetter);
	TH_LOG("3 s after SIGKILL: %s (state %c)", gone ? "gone" : "still there", st);
	if (!gone) {
		char path[64], buf[4096];
		int fd;
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/stack", resetter);
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			if (n > 0) {
				buf[n] = 0;
				TH_LOG("stack:\n%s", buf);
			}
			close(fd);
		}
	}
	/* Let go: everything finishes. */
	EXPECT_EQ('F', cmd(vs[0], 'g'));
	if (!gone)
		ASSERT_EQ(resetter, waitpid(resetter, &status, 0));
	close(vs[0]);
	waitpid(viewer, NULL, 0);
	close(rs[0]);
	close(os[0]);
	close(devfd);
	EXPECT_TRUE(gone);
}

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
	volatile int stall_fsync;	/* FSYNCs go unanswered */
	volatile uint64_t fsync_pending;
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
			if (o->stall_fsync && !o->fsync_pending) {
				o->fsync_pending = in->unique;
				break;
			}
			ofs_reply(o, in->unique, 0, NULL, 0);
			break;
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

/*
 * reset_while_owner_mm_dies_leaves_viewer_mapped: the owner's mm has no
 * users any more, but its teardown has not reached exit_mmap() (here:
 * exit_aio() waits for an aio fsync a FUSE server holds; in general the
 * worker's mmput_async() or any delay before the notifier's ->release). A
 * RESET then gets ESRCH from the worker and vhost_shmem_drop_all() in the
 * caller's thread: no drain to flush yet, and a non-kthread skips the
 * viewers, so the table is dropped with the viewers still mapping it.
 * RESET returns 0; the later drain finds no mapping to take out of them.
 */
static void __attribute__((noreturn)) aio_owner_child(int sock, const char *path)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = NPAGES * PG } };
	struct iocb cb = { 0 }, *cbp = &cb;
	aio_context_t ctx = 0;
	struct vs_dev d;
	int mfd, ffd;
	char c;

	if (vs_dev_setup(&d, l, 1, true))
		_exit(1);
	mfd = vs_memfd("a4aio", PG, 7);
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

TEST(reset_while_owner_mm_dies_leaves_viewer_mapped)
{
	struct vs_viewer v = { .pid = -1 };
	static struct ofs o;
	char mnt[64], opts[128], path[96], c;
	struct fuse_out_header h;
	struct iovec iov[1] = { { &h, sizeof(h) } };
	int os[2], devfd = -1, vfd, i, ret;
	long seen_after_reset, seen_after_drain;
	pid_t owner;

	if (!vs_have_dev() || geteuid())
		SKIP(return, "needs root and the device");
	o.stall_from = 1 << 30;
	o.stall_fsync = 1;
	o.fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, o.fuse_fd);
	snprintf(mnt, sizeof(mnt), "/tmp/a4-aio-%d", (int)getpid());
	mkdir(mnt, 0755);
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0",
		 o.fuse_fd);
	ASSERT_EQ(0, mount("a4-aio", mnt, "fuse", MS_NOSUID | MS_NODEV, opts));
	ASSERT_EQ(0, pthread_create(&o.srv, NULL, ofs_server, &o));
	snprintf(path, sizeof(path), "%s/f", mnt);

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, os));
	owner = fork();
	ASSERT_LE(0, owner);
	if (!owner) {
		close(os[0]);
		aio_owner_child(os[1], path);
	}
	close(os[1]);
	ASSERT_EQ(1, vs_recv_fd(os[0], &devfd, &c, 1));
	ASSERT_LE(0, devfd);
	vfd = vs_get_view(devfd, 0, 0);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vs_viewer_start(&v, vfd, 0, SZ, PROT_READ));
	close(vfd);
	ASSERT_EQ(0, vs_vcall(&v, V_CHECK_PAT, 0, PG, 7, 0));

	/* The owner queues an aio fsync the server holds, then exits. */
	ASSERT_EQ(1, write(os[0], "a", 1));
	ASSERT_EQ(1, read(os[0], &c, 1));
	ASSERT_EQ('A', c);
	for (i = 0; i < 500 && !o.fsync_pending; i++)
		usleep(10000);
	ASSERT_NE(0, o.fsync_pending);
	ASSERT_EQ(1, write(os[0], "x", 1));
	ASSERT_TRUE(vs_wait_state(owner, 'D', 5000));
	usleep(300 * 1000);
	log_stack(_metadata, owner);

	ret = vs_reset(devfd);
	seen_after_reset = vs_vcall(&v, V_CHECK_PAT, 0, PG, 7, 0);
	TH_LOG("RESET while the owner's mm is between its last user and exit_mmap(): %d;"
	       " viewer still sees the buffer: %s", ret,
	       seen_after_reset == 0 ? "YES" : "no");

	/* Let the owner's teardown go on: exit_mmap(), the notifier, the drain. */
	h = (struct fuse_out_header){ sizeof(h), 0, o.fsync_pending };
	ASSERT_LT(0, writev(o.fuse_fd, iov, 1));
	ASSERT_EQ(owner, waitpid(owner, NULL, 0));
	usleep(1000 * 1000);
	seen_after_drain = vs_vcall(&v, V_CHECK_PAT, 0, PG, 7, 0);
	TH_LOG("after the owner's death and the drain: viewer sees the buffer: %s"
	       " (zero: %ld)", seen_after_drain == 0 ? "YES" : "no",
	       vs_vcall(&v, V_CHECK_ZERO, 0, PG, 0, 0));
	EXPECT_EQ(0, ret);
	EXPECT_NE(0, seen_after_reset);
	EXPECT_NE(0, seen_after_drain);
	vs_viewer_stop(&v);
	close(os[0]);
	close(devfd);
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
}

TEST_HARNESS_MAIN
