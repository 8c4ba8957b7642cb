/* SPDX-License-Identifier: GPL-2.0 */
/* vhost-shmem-helper: options and the program's top level. */
#ifndef HELPER_H
#define HELPER_H

#include <stdbool.h>

#include "proxy.h"
#include "shmem_dev.h"

struct helper_opts {
	const char *listen_path;	/* --listen */
	int frontend_fd;		/* --frontend-fd, -1 if unset */
	const char *backend_path;	/* --backend */
	int backend_fd;			/* --backend-fd */
	const char *device_socket;	/* --device-socket */
	int device_fd;			/* --device-fd */
	unsigned int shmem_bit;		/* --shmem-feature-bit */
	struct proxy_share_opt share[PROXY_SHARES_MAX];	/* --share-region */
	unsigned int nshares;
	bool verbose;
};

/* Exit statuses. */
enum {
	HELPER_EXIT_OK = 0,		/* peer disconnected, SIGTERM, --help */
	HELPER_EXIT_FAILURE = 1,	/* setup, refusing to serve, stuck peer */
	HELPER_EXIT_PROTOCOL = 2,	/* a peer sent a malformed message */
	HELPER_EXIT_USAGE = 2,		/* bad command line: the input was malformed too */
};

/* What helper_parse_opts() found. */
enum {
	HELPER_OPTS_RUN = 0,		/* serve a session with *o */
	HELPER_OPTS_DONE = 1,		/* --help or --version printed: exit 0 */
	HELPER_OPTS_USAGE = -1,		/* why and the usage are on stderr */
};

/* Returns HELPER_OPTS_RUN, HELPER_OPTS_DONE or HELPER_OPTS_USAGE. */
int helper_parse_opts(int argc, char **argv, struct helper_opts *o);

/*
 * The whole program: parse, set up, serve one session, clean up. @ops and
 * @ctx are the device operations (shmem_ioctl_ops in production; a fake in
 * host tests). Returns the exit status.
 */
int helper_main(int argc, char **argv, const struct shmem_dev_ops *ops, void *ctx);

#endif
