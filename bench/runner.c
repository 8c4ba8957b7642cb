// SPDX-License-Identifier: GPL-2.0
/*
 * Child processes that time loops for the paths that cross a process
 * boundary. The parent sends a struct runner_cmd over a socketpair; the
 * child runs it, leaves one sample per iteration in the shared buffer it
 * inherited and answers with an int (0 or -errno).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

int runner_start(struct runner *r, void (*loop)(void *ctx, int cmd), void *ctx)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	r->pid = fork();
	if (r->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (r->pid == 0) {
		close(sv[0]);
		loop(ctx, sv[1]);
		_exit(0);
	}
	close(sv[1]);
	r->cmd = sv[0];
	return 0;
}

int runner_serve(int sock, runner_fn fn, void *ctx, uint64_t *ns)
{
	struct runner_cmd c;
	int ret;

	if (recv(sock, &c, sizeof(c), 0) != sizeof(c))
		return -EPIPE;
	ret = fn(ctx, &c, ns);
	return send(sock, &ret, sizeof(ret), MSG_NOSIGNAL) == sizeof(ret) ? 0 : -EPIPE;
}

int runner_call(struct runner *r, const struct runner_cmd *c)
{
	int ret;

	if (send(r->cmd, c, sizeof(*c), MSG_NOSIGNAL) != sizeof(*c) ||
	    recv(r->cmd, &ret, sizeof(ret), 0) != sizeof(ret))
		return -EPIPE;
	return ret;
}

int runner_timed(struct bench *b, struct runner *r, int op, int iters, uint64_t *ns)
{
	const struct runner_cmd c = { op, iters, BENCH_SPOT, BENCH_MAP_LEN };
	int ret;

	if ((size_t)iters > b->shared_cap)
		return -E2BIG;
	ret = runner_call(r, &c);
	if (!ret)
		memcpy(ns, b->shared, iters * sizeof(*ns));
	return ret;
}

void runner_stop(struct runner *r)
{
	int st;

	if (r->pid <= 0)
		return;
	close(r->cmd);
	kill(r->pid, SIGKILL);
	waitpid(r->pid, &st, 0);
	r->pid = 0;
}
