// SPDX-License-Identifier: GPL-2.0
/* A viewer process of a region view; see viewer_lib.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vhost_shmem_lib.h"
#include "viewer_lib.h"

struct vcmd {
	int op;
	int seed;
	uint64_t off, len;
	long n;
};

#ifndef __NR_mseal
#define __NR_mseal	462
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif

/* The viewer's state between commands: what V_GRAB got, what V_MOVE moved. */
struct vgrab {
	int uffd;	/* V_GRAB's userfaultfd, or -1 */
	int grabbed;
	uint8_t *moved;	/* where V_MOVE put its pages, or NULL */
	uint64_t moved_len;
};

long vs_grab_mode(void)
{
	return syscall(__NR_mseal, 0, 0, 0) ? VGRAB_UFFD : VGRAB_SEAL;
}

int vs_get_view(int devfd, uint32_t shmid, uint32_t flags)
{
	struct vhost_shmem_view_req r = { .shmid = shmid, .flags = flags };
	int fd = ioctl(devfd, VHOST_SHMEM_GET_VIEW, &r);

	return fd < 0 ? -errno : fd;
}

long vs_inflate_maps(long n)
{
	long have = vs_maps_total();
	int i = 0;

	while (have >= 0 && have < n) {
		int prot = i++ & 1 ? PROT_READ : PROT_READ | PROT_WRITE;

		if (mmap(NULL, PG, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
		    MAP_FAILED)
			break;
		have = vs_maps_total();
	}
	return have;
}

/* One try of V_GRAB at [@p, @p + @len): 1 if it got it. */
static int grab_once(uint8_t *p, uint64_t len, long mode, struct vgrab *g)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	/* No kernel registers a hole (VM_PFNMAP): only the mapping. */
	if (mode == VGRAB_UFFD)
		return !ioctl(g->uffd, UFFDIO_REGISTER, &reg);
	/* A hole refuses to be populated (VM_PFNMAP): seal only the mapping. */
	if (madvise(p, len, MADV_POPULATE_READ) ||
	    syscall(__NR_mseal, p, len, 0))
		return 0;
	/* The hole may have come back in between: sealed, it stays what it is. */
	return !madvise(p, len, MADV_POPULATE_READ);
}

/* Has the test sent its next command (left unread)? */
static int next_cmd(int sock)
{
	struct vcmd c;

	return recv(sock, &c, sizeof(c), MSG_PEEK | MSG_DONTWAIT) >= 0;
}

/* V_GRAB's userfaultfd, made on first need: 0 or -errno. */
static long grab_uffd(long mode, struct vgrab *g)
{
	struct uffdio_api api = { .api = UFFD_API };

	if (mode != VGRAB_UFFD || g->uffd >= 0)
		return 0;
	g->uffd = syscall(__NR_userfaultfd,
			  O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (g->uffd < 0 || ioctl(g->uffd, UFFDIO_API, &api))
		return -errno;
	return 0;
}

/* V_GRAB: replies, then tries until the test sends its next command. */
static void grab(int sock, uint8_t *p, uint64_t len, long mode, struct vgrab *g)
{
	long ret = grab_uffd(mode, g);

	g->grabbed = 0;
	if (write(sock, &ret, sizeof(ret)) != sizeof(ret) || ret)
		return;
	while (!g->grabbed && !next_cmd(sock))
		g->grabbed = grab_once(p, len, mode, g);
}

/* V_BUSY: replies, then populates @n bytes again and again until then. */
static void busy(int sock, long n)
{
	uint8_t *b = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long ret = b == MAP_FAILED ? -errno : 0;

	if (write(sock, &ret, sizeof(ret)) != sizeof(ret) || ret)
		return;
	while (!next_cmd(sock)) {
		madvise(b, n, MADV_POPULATE_READ);
		madvise(b, n, MADV_DONTNEED);
	}
	munmap(b, n);
}

/* The viewer's side: @r is where region offset 0 would be. */
static long viewer_op(const struct vcmd *c, uint8_t *p, uint8_t *r, int vfd,
		      uint64_t off, uint64_t size, int prot, struct vgrab *g)
{
	uint32_t v32;
	pid_t pid;
	int st;

	switch (c->op) {
	case V_READ32:
		st = vs_probe_copy(&v32, r + c->off, sizeof(v32));
		return st ? -st : (long)v32;
	case V_CHECK_PAT:
		return vs_check_pat(r + c->off, c->len, c->seed, c->n, NULL) + 1;
	case V_CHECK_ZERO:
		return vs_check_zero(r + c->off, c->len, NULL) + 1;
	case V_WRITE:
		return vs_probe_write(r + c->off, (uint8_t)c->seed);
	case V_MPROTECT:
		return mprotect(r + c->off, c->len, (int)c->n) ? -errno : 0;
	case V_MUNMAP:
		return munmap(p, size) ? -errno : 0;
	case V_VMAS:
		return vs_maps_count(p, size);
	case V_INFLATE:
		return vs_inflate_maps(c->n);
	case V_REMAP:
		return mmap(p, size, prot, MAP_SHARED | MAP_FIXED, vfd, off) == p ?
		       0 : -errno;
	case V_ADDR:
		return (long)(uintptr_t)p;
	case V_GRABBED:
		return g->grabbed;
	case V_GRAB_NOW:
		st = (int)grab_uffd(c->n, g);
		if (st)
			return st;
		g->grabbed = grab_once(r + c->off, c->len, c->n, g);
		return g->grabbed;
	case V_MOVE:
		/* A move of the same size needs a place: it is no move otherwise. */
		g->moved = mmap(NULL, c->len, PROT_NONE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (g->moved == MAP_FAILED ||
		    mremap(r + c->off, c->len, c->len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   g->moved) != g->moved) {
			g->moved = NULL;
			return -errno;
		}
		g->moved_len = c->len;
		return 0;
	case V_CHECK_MOVED:
		if (!g->moved)
			return -EINVAL;
		return vs_check_pat(g->moved, g->moved_len, c->seed, c->n, NULL) + 1;
	case V_COVER:
		return mmap(r + c->off, c->len, PROT_READ,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		       r + c->off ? 0 : -errno;
	case V_REMAP_PART:
		return mmap(r + c->off, c->len, prot, MAP_SHARED | MAP_FIXED, vfd,
			    c->off) == r + c->off ? 0 : -errno;
	case V_UNGRAB:
		if (g->uffd >= 0)
			close(g->uffd);
		g->uffd = -1;
		return 0;
	case V_FORK_VMAS:
		pid = fork();
		if (pid == 0)
			_exit(vs_maps_count(p, size) & 0x7f);
		return pid < 0 || waitpid(pid, &st, 0) != pid ? -1 : WEXITSTATUS(st);
	}
	return -EINVAL;
}

static void viewer_loop(int sock, int vfd, uint64_t off, uint64_t size, int prot)
{
	uint8_t *p = mmap(NULL, size, prot, MAP_SHARED, vfd, off);
	long ret = p == MAP_FAILED ? -errno : 0;
	struct vgrab g = { .uffd = -1 };
	struct vcmd c;

	if (write(sock, &ret, sizeof(ret)) != sizeof(ret) || ret)
		_exit(1);
	while (read(sock, &c, sizeof(c)) == sizeof(c)) {
		/* These reply before they start: nothing more to send. */
		if (c.op == V_GRAB) {
			grab(sock, p - off + c.off, c.len, c.n, &g);
			continue;
		}
		if (c.op == V_BUSY) {
			busy(sock, c.n);
			continue;
		}
		ret = viewer_op(&c, p, p - off, vfd, off, size, prot, &g);
		if (write(sock, &ret, sizeof(ret)) != sizeof(ret))
			break;
	}
	_exit(0);
}

int vs_viewer_start(struct vs_viewer *v, int vfd, uint64_t off, uint64_t size,
		    int prot)
{
	int sv[2];
	long ret;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	v->pid = fork();
	if (v->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (v->pid == 0) {
		close(sv[0]);
		viewer_loop(sv[1], vfd, off, size, prot);
	}
	close(sv[1]);
	v->sock = sv[0];
	if (read(v->sock, &ret, sizeof(ret)) != sizeof(ret))
		return -EPIPE;
	return (int)ret;
}

long vs_vcall(struct vs_viewer *v, int op, uint64_t off, uint64_t len, int seed,
	      long n)
{
	struct vcmd c = { .op = op, .seed = seed, .off = off, .len = len, .n = n };
	long ret;

	if (write(v->sock, &c, sizeof(c)) != sizeof(c))
		return -EPIPE;
	if (read(v->sock, &ret, sizeof(ret)) != sizeof(ret))
		return -EPIPE;
	return ret;
}

void vs_viewer_stop(struct vs_viewer *v)
{
	if (v->pid <= 0)
		return;
	close(v->sock);
	kill(v->pid, SIGKILL);
	waitpid(v->pid, NULL, 0);
	v->pid = -1;
}
