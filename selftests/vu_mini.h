/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough vhost-user for the selftests that drive vhost-shmem-helper
 * (helper_e2e_test, vmm_demo): message constants and structs, send and
 * receive with one fd, and where the helper's binaries are.
 */
#ifndef VU_MINI_H
#define VU_MINI_H

#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost_shmem_lib.h"

/* vhost-user, just what a front-end and a back-end need here. */
#define VU_VERSION		0x1
#define VU_FLAG_REPLY		0x4
#define VU_FLAG_NEED_REPLY	0x8
#define VU_GET_FEATURES		1
#define VU_SET_FEATURES		2
#define VU_SET_OWNER		3
#define VU_SET_MEM_TABLE	5
#define VU_GET_PROTOCOL_FEATURES 15
#define VU_SET_PROTOCOL_FEATURES 16
#define VU_SET_BACKEND_REQ_FD	21
#define VU_RESET_DEVICE		34
#define VU_GET_MAX_MEM_SLOTS	36
#define VU_ADD_MEM_REG		37
#define VU_REM_MEM_REG		38
#define VU_GET_SHMEM_CONFIG	44
#define VU_BE_SHMEM_MAP		9
#define VU_BE_SHMEM_UNMAP	10
#define VU_PF_REPLY_ACK		3
#define VU_PF_BACKEND_REQ	5
#define VU_PF_CONFIGURE_MEM_SLOTS 15
#define VU_PF_SHMEM		22
#define VU_F_PROTOCOL_FEATURES	30
#define VU_SHMEM_CONFIG_SIZE	2056

struct vu_hdr {
	uint32_t request, flags, size;
};

struct vu_mmap {
	uint8_t shmid;
	uint8_t padding[7];
	uint64_t fd_offset, shm_offset, len, flags;
};

/* VhostUserMemoryRegion; SET_MEM_TABLE has 8 + 32 * n bytes, ADD_MEM_REG 8 + 32. */
struct vu_mem_region {
	uint64_t guest_phys_addr, memory_size, userspace_addr, mmap_offset;
};

struct vu_shmem_config {
	uint32_t nregions, padding;
	uint64_t memory_sizes[256];
};

static inline const char *bin_dir(void)
{
	const char *d = getenv("VHOST_SHMEM_BIN");

	return d && *d ? d : "/payload/bin";
}

static inline int vu_send(int s, uint32_t req, uint32_t flags, const void *p,
		   uint32_t size, int fd)
{
	struct vu_hdr h = { req, flags | VU_VERSION, size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, size } };

	return vs_sendv_fd(s, fd, iov, size ? 2 : 1) ? -1 : 0;
}

/*
 * Receives one message (payload up to @max bytes, at most one fd kept in
 * *fd, else -1). 0, 1 on EOF, -1 on error or after @timeout_ms.
 */
static inline int vu_recv(int s, struct vu_hdr *h, void *p, size_t max, int *fd,
		   int timeout_ms)
{
	char cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct iovec iov = { h, sizeof(*h) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct pollfd pf = { s, POLLIN, 0 };
	struct cmsghdr *c;
	ssize_t n;

	if (fd)
		*fd = -1;
	if (poll(&pf, 1, timeout_ms) != 1)
		return -1;
	n = recvmsg(s, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (n == 0)
		return 1;
	/* Failed (ECONNRESET...): msg_controllen is still cbuf's, unfilled. */
	if (n < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		int nf = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

		for (int i = 0; i < nf; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd && *fd < 0)
				*fd = f;
			else
				close(f);
		}
	}
	if (n != sizeof(*h) || h->size > max)
		return -1;
	if (h->size && recv(s, p, h->size, MSG_WAITALL) != (ssize_t)h->size)
		return -1;
	return 0;
}

/* A request with a u64 reply. */
static inline int vu_get_u64(int s, uint32_t req, uint64_t *val)
{
	struct vu_hdr h;

	if (vu_send(s, req, 0, NULL, 0, -1) || vu_recv(s, &h, val, 8, NULL, 10000) ||
	    h.request != req || !(h.flags & VU_FLAG_REPLY) || h.size != 8)
		return -1;
	return 0;
}

/*
 * A VMM's negotiation through vhost-shmem-helper on front-end socket @fe:
 * features, protocol features (REPLY_ACK and those of @want that are
 * offered; the helper owns F_SHMEM), SET_OWNER and GET_SHMEM_CONFIG into
 * @cfg. *@proto gets the protocol features offered. 0, or -1 after the
 * first step that failed.
 */
static inline int vu_frontend_negotiate_with(int fe, uint64_t *proto,
					     struct vu_shmem_config *cfg, uint64_t want)
{
	uint64_t feat, acked;
	struct vu_hdr h;

	if (vu_get_u64(fe, VU_GET_FEATURES, &feat) ||
	    vu_send(fe, VU_SET_FEATURES, 0, &feat, 8, -1) ||
	    vu_get_u64(fe, VU_GET_PROTOCOL_FEATURES, proto))
		return -1;
	acked = *proto & ((1ULL << VU_PF_REPLY_ACK) | want);
	if (vu_send(fe, VU_SET_PROTOCOL_FEATURES, 0, &acked, 8, -1) ||
	    vu_send(fe, VU_SET_OWNER, 0, NULL, 0, -1) ||
	    vu_send(fe, VU_GET_SHMEM_CONFIG, 0, NULL, 0, -1) ||
	    vu_recv(fe, &h, cfg, sizeof(*cfg), NULL, 10000) ||
	    h.request != VU_GET_SHMEM_CONFIG || h.size != VU_SHMEM_CONFIG_SIZE)
		return -1;
	return 0;
}

static inline int vu_frontend_negotiate(int fe, uint64_t *proto,
					struct vu_shmem_config *cfg)
{
	return vu_frontend_negotiate_with(fe, proto, cfg, 0);
}

#endif
