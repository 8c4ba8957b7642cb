/* SPDX-License-Identifier: GPL-2.0 */
/* vhost-shmem-helper: options and the program's top level. */
#ifndef HELPER_H
#define HELPER_H

#include <stdbool.h>

#include "shmem_dev.h"

struct helper_opts {
	const char *listen_path;	/* --listen */
	int frontend_fd;		/* --frontend-fd, -1 if unset */
	const char *backend_path;	/* --backend */
	int backend_fd;			/* --backend-fd */
	const char *device_socket;	/* --device-socket */
	int device_fd;			/* --device-fd */
	unsigned int shmem_bit;		/* --shmem-feature-bit */
	bool verbose;
};

/* Exit statuses. */
enum {
	HELPER_EXIT_OK = 0,		/* peer disconnected or SIGTERM */
	HELPER_EXIT_FAILURE = 1,	/* usage, setup, refusing to serve, stuck peer */
	HELPER_EXIT_PROTOCOL = 2,	/* a peer sent a malformed message */
};

/* Returns 0, or -1 after printing why to stderr. */
int helper_parse_opts(int argc, char **argv, struct helper_opts *o);

/*
 * The whole program: parse, set up, serve one session, clean up. @ops and
 * @ctx are the device operations (shmem_ioctl_ops in production; a fake in
 * host tests). Returns the exit status.
 */
int helper_main(int argc, char **argv, const struct shmem_dev_ops *ops, void *ctx);

#endif
