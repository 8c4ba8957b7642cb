/* SPDX-License-Identifier: GPL-2.0 */
/* vhost-shmem CLI: the generic netlink side (libnl-genl-3). */
#ifndef VS_CLI_NL_H
#define VS_CLI_NL_H

#include <stdint.h>

#include "format.h"

struct nl_sock;

struct vs_nl {
	struct nl_sock *sk;
	int family;		/* resolved id of "vhost-shmem" */
	int err;		/* errno the kernel answered, 0 if none */
	char msg[256];		/* what failed, for "Error: ..." */
};

/* Connects and resolves the family. 0, or -1 with ctx->msg set. */
int vs_nl_open(struct vs_nl *ctx);
void vs_nl_close(struct vs_nl *ctx);

enum vs_dump_kind { VS_DUMP_DEV, VS_DUMP_REGION, VS_DUMP_MAP };

/* Dumps every record (of device @dev_id unless 0) to @out. 0 or -1. */
int vs_nl_dump(struct vs_nl *ctx, enum vs_dump_kind kind, uint32_t dev_id,
	       struct vs_out *out);
/* Prints events to @out until an error (or forever). Returns -1. */
int vs_nl_monitor(struct vs_nl *ctx, struct vs_out *out);

#endif /* VS_CLI_NL_H */
