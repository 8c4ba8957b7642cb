/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-user message I/O: bounded recvmsg/sendmsg with SCM_RIGHTS.
 *
 * Ownership: a received message owns the fds in msg.fds[0..nfds); whoever
 * consumes it closes them with vu_msg_close_fds() (sending does not consume:
 * the kernel duplicates them for the receiver).
 */
#ifndef VU_MSG_H
#define VU_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "vu_proto.h"

struct vu_msg {
	struct vu_hdr hdr;
	union {
		uint8_t bytes[VU_MAX_PAYLOAD];
		uint64_t u64;
		struct vu_mmap mmap;
		struct vu_shmem_config shmem;
		struct vu_memory mem;
		struct vu_mem_reg memreg;
	} payload;
	int fds[VU_MAX_FDS];
	unsigned int nfds;
};

/* Receive state of one stream connection (non-blocking, incremental). */
struct vu_conn {
	int fd;			/* -1: closed */
	const char *name;	/* for logs: "front-end", ... */
	size_t have;		/* bytes of the current message received */
	struct vu_msg msg;
};

enum vu_rx {
	VU_RX_AGAIN,	/* message incomplete, wait for more */
	VU_RX_MSG,	/* conn->msg is complete; caller owns its fds */
	VU_RX_EOF,	/* orderly close by the peer between messages */
	VU_RX_ERR,	/* error or protocol violation, *why says which */
};

void vu_conn_init(struct vu_conn *c, int fd, const char *name);
/* Closes the socket and any fds of a partially received message. */
void vu_conn_close(struct vu_conn *c);
/*
 * Reads what is available of one message without blocking. Rejects a
 * payload over VU_MAX_PAYLOAD or more than VU_MAX_FDS fds (closing them),
 * truncated control data, and EOF in the middle of a message.
 */
enum vu_rx vu_conn_recv(struct vu_conn *c, const char **why);
/* After VU_RX_MSG was handled: start the next message. */
void vu_conn_next(struct vu_conn *c);

void vu_msg_close_fds(struct vu_msg *m);

/*
 * How long sends may wait for a peer that does not read: until deadline_ms
 * (mono_ms()); 0 means not started yet: the first send that has to wait
 * sets it to now + timeout_ms, so one limit can bound a series of sends.
 * A readable stop_fd (if >= 0) ends a wait at once.
 */
struct vu_send_limit {
	int64_t deadline_ms;
	int timeout_ms;
	int stop_fd;
};

/*
 * Sends header + payload (hdr->size bytes) + fds; finishes partial writes.
 * Never blocks in sendmsg: when the peer's socket is full it polls, within
 * @lim (NULL: as long as it takes). Returns 0 or -errno: -ETIMEDOUT when
 * @lim ran out, -ECANCELED when its stop_fd became readable (the message
 * may then be partly sent). Never raises SIGPIPE.
 */
int vu_send_limited(int fd, const struct vu_hdr *hdr, const void *payload,
		    const int *fds, unsigned int nfds, struct vu_send_limit *lim);
int vu_send(int fd, const struct vu_hdr *hdr, const void *payload,
	    const int *fds, unsigned int nfds);
int vu_send_msg(int fd, const struct vu_msg *m);

/* Blocking receive of one whole message with a timeout (for clients). */
enum vu_rx vu_recv_wait(struct vu_conn *c, int timeout_ms, const char **why);

#endif
