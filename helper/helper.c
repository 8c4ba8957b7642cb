// SPDX-License-Identifier: GPL-2.0
/* Top level: sockets, device fd, signals, one proxied session. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "helper.h"
#include "proxy.h"
#include "sock.h"

#define BACKEND_CONNECT_TIMEOUT_MS 5000

struct helper {
	struct helper_opts opts;
	struct hlog log;
	struct shmem_dev dev;
	int sigfd;
	int fe_listen, dev_listen;	/* -1 when not used */
	int fe_fd, be_fd;
	struct proxy proxy;
};

/* Waits for @fd to become readable; -1 if a signal asked us to stop. */
static int wait_readable(struct helper *h, int fd, const char *what)
{
	struct pollfd pf[2] = { { fd, POLLIN, 0 }, { h->sigfd, POLLIN, 0 } };

	log_info(&h->log, "waiting for %s", what);
	for (;;) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pf[1].revents) {
			log_info(&h->log, "signal received while waiting for %s: "
				 "shutting down", what);
			return -1;
		}
		if (pf[0].revents)
			return 0;
	}
}

static const char *file_kind(mode_t m)
{
	return S_ISREG(m) ? "a regular file" : S_ISDIR(m) ? "a directory" :
	       S_ISSOCK(m) ? "a socket" : S_ISFIFO(m) ? "a pipe" :
	       S_ISBLK(m) ? "a block device" : "not a character device";
}

/*
 * --device-fd must be /dev/vhost-shmem now, not at the first reset: a
 * character device that answers VHOST_SHMEM_GET_STATS.
 */
static int check_device_fd(struct helper *h, int fd)
{
	struct stat st;
	char eb[32];
	int r;

	if (fstat(fd, &st)) {
		log_err(&h->log, "--device-fd %d is not open", fd);
		return -1;
	}
	if (!S_ISCHR(st.st_mode)) {
		log_err(&h->log, "--device-fd %d is not /dev/vhost-shmem: it is %s",
			fd, file_kind(st.st_mode));
		return -1;
	}
	r = h->dev.ops->probe ? h->dev.ops->probe(h->dev.ctx, fd) : 0;
	if (r) {
		log_err(&h->log, "--device-fd %d is not /dev/vhost-shmem: character "
			"device %u:%u refuses VHOST_SHMEM_GET_STATS (%s)", fd,
			major(st.st_rdev), minor(st.st_rdev), errno_name(-r, eb, sizeof(eb)));
		return -1;
	}
	return 0;
}

static int get_device(struct helper *h)
{
	char eb[32];
	int c;

	if (h->opts.device_fd >= 0) {
		h->dev.fd = h->opts.device_fd;
		fcntl(h->dev.fd, F_SETFD, FD_CLOEXEC);
		return 0;
	}
	if (wait_readable(h, h->dev_listen, "the device fd on --device-socket"))
		return -1;
	c = unix_accept(h->dev_listen);
	if (c < 0) {
		log_err(&h->log, "accept on %s: %s", h->opts.device_socket,
			errno_name(-c, eb, sizeof(eb)));
		return -1;
	}
	if (wait_readable(h, c, "the device fd message")) {
		close(c);
		return -1;
	}
	h->dev.fd = recv_one_fd(c);
	close(c);
	close(h->dev_listen);
	h->dev_listen = -1;
	unlink(h->opts.device_socket);
	if (h->dev.fd < 0) {
		log_err(&h->log, "no device fd received on %s: %s (expected one "
			"byte with exactly one fd)", h->opts.device_socket,
			errno_name(-h->dev.fd, eb, sizeof(eb)));
		return -1;
	}
	log_info(&h->log, "received the device fd on %s", h->opts.device_socket);
	return 0;
}

static int get_peers(struct helper *h)
{
	char eb[32];

	if (h->opts.backend_fd >= 0) {
		h->be_fd = h->opts.backend_fd;
	} else {
		h->be_fd = unix_connect_retry(h->opts.backend_path,
					      BACKEND_CONNECT_TIMEOUT_MS);
		if (h->be_fd < 0) {
			log_err(&h->log, "cannot connect to the back-end at %s: %s",
				h->opts.backend_path, errno_name(-h->be_fd, eb, sizeof(eb)));
			return -1;
		}
	}
	if (h->opts.frontend_fd >= 0) {
		h->fe_fd = h->opts.frontend_fd;
	} else {
		if (wait_readable(h, h->fe_listen, "the front-end on --listen"))
			return -1;
		h->fe_fd = unix_accept(h->fe_listen);
		close(h->fe_listen);
		h->fe_listen = -1;
		unlink(h->opts.listen_path);
		if (h->fe_fd < 0) {
			log_err(&h->log, "accept on %s: %s", h->opts.listen_path,
				errno_name(-h->fe_fd, eb, sizeof(eb)));
			return -1;
		}
	}
	fcntl(h->fe_fd, F_SETFD, FD_CLOEXEC);
	fcntl(h->be_fd, F_SETFD, FD_CLOEXEC);
	log_info(&h->log, "front-end and back-end connected");
	return 0;
}

static int setup(struct helper *h)
{
	char eb[32];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    (h->sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		log_err(&h->log, "signalfd: %s", strerror(errno));
		return -1;
	}
	/* A wrong --device-fd is a usage mistake: say so before anything else. */
	if (h->opts.device_fd >= 0 && check_device_fd(h, h->opts.device_fd))
		return -1;
	/* Listen early so that peers can connect in any order. */
	if (h->opts.listen_path) {
		h->fe_listen = unix_listen(h->opts.listen_path);
		if (h->fe_listen < 0) {
			log_err(&h->log, "cannot listen on %s: %s", h->opts.listen_path,
				errno_name(-h->fe_listen, eb, sizeof(eb)));
			return -1;
		}
	}
	if (h->opts.device_socket) {
		h->dev_listen = unix_listen(h->opts.device_socket);
		if (h->dev_listen < 0) {
			log_err(&h->log, "cannot listen on %s: %s", h->opts.device_socket,
				errno_name(-h->dev_listen, eb, sizeof(eb)));
			return -1;
		}
	}
	if (get_device(h))
		return -1;
	return get_peers(h);
}

static void cleanup(struct helper *h)
{
	if (h->fe_listen >= 0) {
		close(h->fe_listen);
		unlink(h->opts.listen_path);
	}
	if (h->dev_listen >= 0) {
		close(h->dev_listen);
		unlink(h->opts.device_socket);
	}
	/* fe_fd and be_fd belong to the proxy once it ran. */
	if (h->fe_fd >= 0)
		close(h->fe_fd);
	if (h->be_fd >= 0)
		close(h->be_fd);
	if (h->dev.fd >= 0)
		close(h->dev.fd);
	if (h->sigfd >= 0)
		close(h->sigfd);
}

int helper_main(int argc, char **argv, const struct shmem_dev_ops *ops, void *ctx)
{
	struct helper *h = calloc(1, sizeof(*h));	/* once; ~20 kB of buffers */
	int status = HELPER_EXIT_FAILURE;

	if (!h)
		return HELPER_EXIT_FAILURE;
	h->sigfd = h->fe_listen = h->dev_listen = h->fe_fd = h->be_fd = -1;
	h->dev = (struct shmem_dev){ .ops = ops, .ctx = ctx, .fd = -1 };
	/* A log reader that went away must not kill us: writes get EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	hlog_init(&h->log, STDERR_FILENO, false);
	switch (helper_parse_opts(argc, argv, &h->opts)) {
	case HELPER_OPTS_RUN:
		break;
	case HELPER_OPTS_DONE:
		status = HELPER_EXIT_OK;
		goto out;
	default:
		status = HELPER_EXIT_USAGE;
		goto out;
	}
	h->log.verbose = h->opts.verbose;
	if (setup(h))
		goto out;
	if (proxy_init(&h->proxy, &h->log, &h->dev, h->opts.shmem_bit,
		       h->fe_fd, h->be_fd, h->sigfd)) {
		log_err(&h->log, "epoll: %s", strerror(errno));
		/* proxy_run still resets and closes what proxy_init took. */
		h->proxy.end = PROXY_FATAL;
	}
	h->fe_fd = h->be_fd = -1;	/* owned by the proxy now */
	for (unsigned int i = 0; i < h->opts.nshares; i++)
		proxy_add_share(&h->proxy, &h->opts.share[i]);	/* bounded by the parser */
	switch (proxy_run(&h->proxy)) {
	case PROXY_PEER_GONE:
	case PROXY_TERMINATED:
		status = HELPER_EXIT_OK;
		break;
	case PROXY_PROTOCOL_ERROR:
		status = HELPER_EXIT_PROTOCOL;
		break;
	default:
		status = HELPER_EXIT_FAILURE;
		break;
	}
	log_info(&h->log, "exiting with status %d", status);
out:
	cleanup(h);
	hlog_fini(&h->log);
	free(h);
	return status;
}
