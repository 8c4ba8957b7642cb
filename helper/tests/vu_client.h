/* SPDX-License-Identifier: GPL-2.0 */
/* Small vhost-user client helpers for the test programs and host tests. */
#ifndef VU_CLIENT_H
#define VU_CLIENT_H

#include <stdint.h>

#include "vu_msg.h"

/* Sends one message; flags get VU_VERSION added. Returns 0 or -errno. */
int vuc_send(int fd, uint32_t req, uint32_t flags, const void *payload,
	     uint32_t size, const int *fds, unsigned int nfds);
int vuc_send_u64(int fd, uint32_t req, uint32_t flags, uint64_t val);
/*
 * Receives one whole message into *out (fds owned by *out). Returns 0,
 * 1 on EOF, -1 on error/timeout (*why set).
 */
int vuc_recv(int fd, struct vu_msg *out, int timeout_ms, const char **why);
/* Sends a GET-style request with no payload and returns the u64 reply. */
int vuc_get_u64(int fd, uint32_t req, uint64_t *val);
/* A memfd of @len bytes filled with @text repeated. Returns fd or -errno. */
int vuc_memfd_pattern(const char *text, uint64_t len);

#endif
