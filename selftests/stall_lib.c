// SPDX-License-Identifier: GPL-2.0
/* Stalls of mmap_lock and devices held busy; see stall_lib.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fuse.h>

#include "stall_lib.h"
#include "vhost_shmem_lib.h"
#include "viewer_lib.h"

/* A stall (stall_lib.h); the mount point is its own. */
struct vs_stall {
	char mnt[64];
	int fuse_fd;
	int ffd;			/* the FUSE file */
	void *fm;			/* its page, mapped */
	pthread_t srv, rd;
	bool srv_up, rd_up;
	volatile int block;		/* READs go unanswered */
	volatile int read_seen;		/* the reader's READ arrived */
	volatile uint64_t pending[8];	/* unanswered READs (readahead too) */
	volatile int npending;
	int go[2];			/* an armed reader waits for a byte */
	int memfd;			/* its /proc/self/mem, opened before */
	volatile pid_t rd_tid;		/* the reader's thread id, once it runs */
	char buf[1 << 17];		/* the server's read buffer */
	char data[4096];		/* what a READ returns */
};

static void stall_reply(struct vs_stall *st, uint64_t unique, int err,
			const void *p, size_t n)
{
	struct fuse_out_header h = { sizeof(h) + (err ? 0 : n), err, unique };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, err ? 0 : n } };

	if (writev(st->fuse_fd, iov, 2) < 0)
		return;	/* the mount is gone: nothing to answer */
}

static void stall_attr(struct fuse_attr *a, uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = ino == 1 ? S_IFDIR | 0755 : S_IFREG | 0644;
	a->nlink = 1;
	a->size = ino == 1 ? 0 : 4096;
	a->blocks = a->size / 512;
	a->blksize = 4096;
}

/* One file "f" of one page; READs unanswered while st->block. */
static void *stall_server(void *arg)
{
	struct vs_stall *st = arg;
	ssize_t n;

	while ((n = read(st->fuse_fd, st->buf, sizeof(st->buf))) > 0) {
		struct fuse_in_header *in = (void *)st->buf;
		void *body = in + 1;

		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_in *ii = body;
			struct fuse_init_out o = {
				.major = FUSE_KERNEL_VERSION,
				.minor = FUSE_KERNEL_MINOR_VERSION,
				.max_readahead = ii->max_readahead,
				.max_write = 4096,
			};

			stall_reply(st, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out e = {
				.nodeid = 2, .generation = 1,
				.entry_valid = 100, .attr_valid = 100,
			};

			if (strcmp(body, "f")) {
				stall_reply(st, in->unique, -ENOENT, NULL, 0);
				break;
			}
			stall_attr(&e.attr, 2);
			stall_reply(st, in->unique, 0, &e, sizeof(e));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out a = { .attr_valid = 100 };

			stall_attr(&a.attr, in->nodeid);
			stall_reply(st, in->unique, 0, &a, sizeof(a));
			break;
		}
		case FUSE_OPEN: {
			struct fuse_open_out o = { .fh = 1 };

			stall_reply(st, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_READ: {
			struct fuse_read_in *r = body;

			if (st->block && st->npending < 8) {
				st->pending[st->npending++] = in->unique;
				st->read_seen = 1;
				break;	/* no answer: the faulting thread waits */
			}
			stall_reply(st, in->unique, 0, st->data,
				    r->size < sizeof(st->data) ? r->size : sizeof(st->data));
			break;
		}
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;
		case FUSE_FLUSH:
		case FUSE_RELEASE:
			stall_reply(st, in->unique, 0, NULL, 0);
			break;
		default:
			stall_reply(st, in->unique, -ENOSYS, NULL, 0);
		}
	}
	return NULL;
}

static void *stall_reader(void *arg)
{
	struct vs_stall *st = arg;
	int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	char c;

	if (fd >= 0 && pread(fd, &c, 1, (off_t)(uintptr_t)st->fm) < 0)
		c = 0;	/* the answer does not matter, only the wait */
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* Armed (vs_stall_arm()): waits for vs_stall_fire(), then reads. */
static void *stall_armed_reader(void *arg)
{
	struct vs_stall *st = arg;
	char c;

	st->rd_tid = gettid();
	if (read(st->go[0], &c, 1) == 1 &&
	    pread(st->memfd, &c, 1, (off_t)(uintptr_t)st->fm) < 0)
		c = 0;	/* the answer does not matter, only the wait */
	return NULL;
}

/*
 * Mount the server and map its file; *@out is set even on failure (for
 * vs_stall_end()). Heap, not stack: the server thread may outlive the test
 * function (see vs_stall_end()). Return: 0, or -1 with errno.
 */
int vs_stall_setup(struct vs_stall **out, const char *mnt)
{
	struct vs_stall *st = calloc(1, sizeof(*st));
	char opts[128], path[80];

	*out = st;
	if (!st)
		return -1;
	/*
	 * Every page of it present and writable, not the shared zero page:
	 * calloc() may leave them untouched (and a memset() to 0 after it
	 * may be dropped). A reply from st->data to /dev/fuse pins its pages
	 * with GUP, whose fast path refuses the zero page; the slow path
	 * takes our mmap_lock, which waits behind the worker queued on it,
	 * which waits for the stalled READ that reply ends.
	 */
	for (size_t i = 0; i < sizeof(*st); i += 256)
		((volatile char *)st)[i] = 0;
	st->ffd = -1;
	st->fm = MAP_FAILED;
	st->go[0] = st->go[1] = st->memfd = -1;
	st->fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (st->fuse_fd < 0)
		return -1;
	snprintf(st->mnt, sizeof(st->mnt), "%s", mnt);
	mkdir(st->mnt, 0755);
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0",
		 st->fuse_fd);
	if (mount("vs-stall", st->mnt, "fuse", MS_NOSUID | MS_NODEV, opts))
		return -1;
	if (pthread_create(&st->srv, NULL, stall_server, st))
		return -1;
	st->srv_up = true;
	snprintf(path, sizeof(path), "%s/f", st->mnt);
	st->ffd = open(path, O_RDONLY | O_CLOEXEC);
	if (st->ffd < 0)
		return -1;
	st->fm = mmap(NULL, 4096, PROT_READ, MAP_SHARED, st->ffd, 0);
	/*
	 * Closed now, while the server answers its FLUSH: a close at exit,
	 * after an early failure, would wait for a server already gone.
	 */
	close(st->ffd);
	st->ffd = -1;
	return st->fm == MAP_FAILED ? -1 : 0;
}

/* 0 once the server saw the READ, -1 if not within 5 s. */
static int stall_wait(struct vs_stall *st)
{
	int i;

	for (i = 0; i < 500 && !st->read_seen; i++)
		usleep(10000);
	return st->read_seen ? 0 : -1;
}

/*
 * Take the mmap_lock: from here until vs_stall_end(), the calling process
 * must not fork or fault. Return: 0, or -1 if the READ never came (5 s).
 */
int vs_stall_begin(struct vs_stall *st)
{
	st->block = 1;
	if (pthread_create(&st->rd, NULL, stall_reader, st))
		return -1;
	st->rd_up = true;
	return stall_wait(st);
}

int vs_stall_arm(struct vs_stall *st)
{
	st->memfd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	if (st->memfd < 0 || pipe2(st->go, O_CLOEXEC))
		return -1;
	st->block = 1;
	if (pthread_create(&st->rd, NULL, stall_armed_reader, st))
		return -1;
	st->rd_up = true;
	while (!st->rd_tid)
		usleep(1000);
	return 0;
}

int vs_stall_fire(struct vs_stall *st)
{
	char c = 'g';

	return write(st->go[1], &c, 1) == 1 ? 0 : -1;
}

bool vs_stall_seen(const struct vs_stall *st)
{
	return st->read_seen;
}

pid_t vs_stall_reader(const struct vs_stall *st)
{
	return st->rd_tid;
}

void vs_stall_let_go(struct vs_stall *st)
{
	int i, n;

	st->block = 0;
	n = st->npending;
	for (i = 0; i < n; i++)
		stall_reply(st, st->pending[i], 0, st->data, sizeof(st->data));
	st->npending = 0;
}

/*
 * Let go (answer the READ) and take everything down. The server's read()
 * ends with the mount; if it did not within 2 s, @st is left to it.
 */
void vs_stall_end(struct vs_stall *st)
{
	struct timespec until;

	if (!st)
		return;
	if (st->rd_up) {
		vs_stall_let_go(st);
		/* An armed reader never fired: it reads nothing now. */
		if (st->go[1] >= 0)
			close(st->go[1]);
		st->go[1] = -1;
		pthread_join(st->rd, NULL);
	}
	if (st->go[0] >= 0)
		close(st->go[0]);
	if (st->go[1] >= 0)
		close(st->go[1]);
	if (st->memfd >= 0)
		close(st->memfd);
	if (st->fm != MAP_FAILED)
		munmap(st->fm, 4096);
	if (st->ffd >= 0)
		close(st->ffd);
	umount2(st->mnt, MNT_DETACH);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	if (st->srv_up && pthread_timedjoin_np(st->srv, NULL, &until))
		return;
	if (st->fuse_fd > 0)
		close(st->fuse_fd);
	free(st);
}

/* State letter of /proc/<pid>/stat ('D', 'S', 'Z'...), '?' once reaped. */
char vs_proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : '?';
}

/*
 * The worker kthread of the device @owner set up, or -1: its name is
 * "vhost-shmem-<owner's pid>", which 6.1 cuts to 15 bytes (TASK_COMM_LEN);
 * the newest such if that is ambiguous. Not while stalled (it allocates).
 */
pid_t vs_find_worker(pid_t owner)
{
	char want[32], path[64], comm[32];
	struct dirent *e;
	pid_t pid, best = -1;
	DIR *dir;
	int fd, n;

	snprintf(want, sizeof(want), "vhost-shmem-%d", owner);
	dir = opendir("/proc");
	if (!dir)
		return -1;
	while ((e = readdir(dir))) {
		pid = atoi(e->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (n <= 0)
			continue;
		comm[n] = 0;
		comm[strcspn(comm, "\n")] = 0;
		/* Newer kernels show a kthread's whole name, older 15 bytes. */
		if ((!strcmp(comm, want) ||
		     (strlen(comm) == 15 && !strncmp(comm, want, 15))) &&
		    pid > best)
			best = pid;
	}
	closedir(dir);
	return best;
}

/* Wait up to @ms for @pid to be in state @state. Return: true if it was. */
bool vs_wait_state(pid_t pid, char state, int ms)
{
	int i;

	for (i = 0; i < ms / 10; i++) {
		if (vs_proc_state(pid) == state)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * Touch @n bytes of stack now, so that nothing faults while stalled (a
 * stack that has to grow needs mmap_lock for writing). Volatile stores:
 * a memset() of a dead array may be dropped.
 */
char __attribute__((noinline)) vs_prefault_stack(size_t n)
{
	volatile char stack[n];
	size_t i;

	for (i = 0; i < n; i += 256)
		stack[i] = 1;
	return stack[0];
}


/* ---- a device held busy ---- */

/* The viewer's commands and answers, one byte each. */
#define BUSY_HOLD	'h'	/* stall: answer BUSY_HELD, or BUSY_ERR */
#define BUSY_LET_GO	'g'	/* let go: answer BUSY_FREE */
#define BUSY_READY	'r'
#define BUSY_HELD	'H'
#define BUSY_FREE	'F'
#define BUSY_ERR	'E'

/*
 * The viewer: maps the view, then stalls and lets go as told, until the
 * socket closes. A fork of the test: everything it writes while stalled
 * (its stack, the stall) is its own, touched before (copy-on-write
 * faults need the mmap_lock too).
 */
static void __attribute__((noreturn)) busy_viewer(int sock, int vfd, uint64_t size)
{
	struct vs_stall *st = NULL;
	char mnt[64], c;
	void *view;

	vs_prefault_stack(256 * 1024);
	snprintf(mnt, sizeof(mnt), "/tmp/vs-busy-fuse-%d", (int)getpid());
	view = mmap(NULL, size, PROT_READ, MAP_SHARED, vfd, 0);
	close(vfd);
	c = view == MAP_FAILED ? BUSY_ERR : BUSY_READY;
	if (write(sock, &c, 1) != 1 || c == BUSY_ERR)
		_exit(1);
	while (read(sock, &c, 1) == 1) {
		if (c == BUSY_HOLD) {
			/* A new mount each time: the page is cached after a READ. */
			c = vs_stall_setup(&st, mnt) || vs_stall_begin(st) ?
			    BUSY_ERR : BUSY_HELD;
		} else {
			vs_stall_end(st);
			st = NULL;
			c = BUSY_FREE;
		}
		if (write(sock, &c, 1) != 1)
			break;
	}
	vs_stall_end(st);
	rmdir(mnt);
	_exit(0);
}

/* One command to the viewer, its answer (BUSY_ERR if it died). */
static char busy_call(struct vs_busy *b, char c)
{
	if (write(b->sock, &c, 1) != 1 || read(b->sock, &c, 1) != 1)
		return BUSY_ERR;
	return c;
}

int vs_busy_start(struct vs_busy *b, int devfd, uint32_t shmid, uint64_t size,
		  uint64_t off)
{
	int sv[2], vfd, err;
	char c;

	memset(b, 0, sizeof(*b));
	b->viewer = -1;
	b->sock = -1;
	b->devfd = devfd;
	b->shmid = shmid;
	b->off = off;
	b->worker = vs_find_worker(getpid());
	if (b->worker < 0)
		return -ESRCH;
	b->mfd = vs_memfd("vs-busy", PG, 91);
	if (b->mfd < 0)
		return b->mfd;
	vfd = vs_get_view(devfd, shmid, 0);
	if (vfd < 0) {
		close(b->mfd);
		return vfd;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		err = -errno;
		close(vfd);
		close(b->mfd);
		return err;
	}
	b->viewer = fork();
	if (!b->viewer) {
		close(sv[0]);
		busy_viewer(sv[1], vfd, size);
	}
	err = b->viewer < 0 ? -errno : 0;
	close(sv[1]);
	close(vfd);
	b->sock = sv[0];
	if (!err && (read(b->sock, &c, 1) != 1 || c != BUSY_READY))
		err = -EIO;
	if (err)
		vs_busy_stop(b);
	return err;
}

static void *busy_map_fn(void *arg)
{
	struct vs_busy *b = arg;

	b->map_ret = vs_map(b->devfd, b->shmid, b->mfd, 0, b->off, PG, 0);
	return NULL;
}

int vs_busy_hold(struct vs_busy *b)
{
	int i, asleep = 0;

	if (b->mapping)
		return -EALREADY;
	if (busy_call(b, BUSY_HOLD) != BUSY_HELD) {
		busy_call(b, BUSY_LET_GO);
		return -EIO;
	}
	b->map_ret = 0;
	if (pthread_create(&b->mapper, NULL, busy_map_fn, b)) {
		busy_call(b, BUSY_LET_GO);
		return -EAGAIN;
	}
	b->mapping = true;
	/* Asleep, 20 ms in a row: on the viewer's mmap_lock, nothing else. */
	for (i = 0; i < 500 && asleep < 3; i++) {
		asleep = vs_proc_state(b->worker) == 'D' ? asleep + 1 : 0;
		usleep(10000);
	}
	if (asleep < 3) {
		vs_busy_release(b);
		return -ETIMEDOUT;
	}
	return 0;
}

int vs_busy_release(struct vs_busy *b)
{
	int ret;

	if (!b->mapping)
		return 0;
	ret = busy_call(b, BUSY_LET_GO) == BUSY_FREE ? 0 : -EIO;
	pthread_join(b->mapper, NULL);
	b->mapping = false;
	if (!ret)
		ret = b->map_ret;
	if (!b->map_ret) {
		int err = vs_unmap(b->devfd, b->shmid, b->off, PG);

		if (!ret)
			ret = err;
	}
	return ret;
}

int vs_busy_stall(struct vs_busy *b)
{
	if (busy_call(b, BUSY_HOLD) == BUSY_HELD)
		return 0;
	busy_call(b, BUSY_LET_GO);
	return -EIO;
}

int vs_busy_unstall(struct vs_busy *b)
{
	return busy_call(b, BUSY_LET_GO) == BUSY_FREE ? 0 : -EIO;
}

void vs_busy_stop(struct vs_busy *b)
{
	int i;

	if (b->sock >= 0)
		vs_busy_release(b);
	if (b->sock >= 0)
		close(b->sock);
	b->sock = -1;
	/* Its last stall_end() takes at most 2 s; then it is killed. */
	for (i = 0; b->viewer > 0 && i < 300; i++) {
		if (waitpid(b->viewer, NULL, WNOHANG) == b->viewer) {
			b->viewer = -1;
			break;
		}
		usleep(10000);
	}
	if (b->viewer > 0) {
		kill(b->viewer, SIGKILL);
		waitpid(b->viewer, NULL, 0);
	}
	b->viewer = -1;
	if (b->mfd > 0)
		close(b->mfd);
	b->mfd = -1;
}
