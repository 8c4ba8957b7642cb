/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's input: a schedule of what the helper's four peers do.
 *
 * The harness (fuzz/harness.c) plays the front-end and the back-end, each
 * with its main socket and any number of other sockets (its backend
 * channel among them), around one proxy engine with a fake device. The
 * engine runs only when the schedule says so (FZ_RUN) or when a peer's
 * send finds the socket full, so that messages can pile up (SHMEM
 * batching) or arrive in pieces.
 *
 *   input   := config action*
 *   config  := FZ_CFG_SIZE bytes (below)
 *   action  := u8 op (kind = op & 15, arg = op >> 4), then its operands
 *
 * All integers are little-endian. Bytes missing at the end read as 0; the
 * schedule ends with the input. Then the harness lets the engine settle,
 * closes every peer socket, lets the session end and checks that every fd
 * the engine had is closed.
 *
 * A side is arg & 3: FZ_FE (front-end, main channel), FZ_BE (back-end,
 * main channel), FZ_BE_CHAN (the back-end's backend channel), FZ_FE_CHAN
 * (the front-end's backend channel). The front-end peer owns FZ_FE and
 * FZ_FE_CHAN, the back-end peer FZ_BE and FZ_BE_CHAN. Besides its main
 * socket a peer holds up to FZ_POOL_MAX other sockets: those it created
 * and sent one end of, and every socket it received (the helper's
 * SET_BACKEND_REQ_FD among them); the oldest is closed when a new one
 * does not fit. Its channel is the newest of them, or the one FZ_PICK
 * chose (counted from the newest).
 */
#ifndef FUZZ_SCHED_H
#define FUZZ_SCHED_H

enum fz_side { FZ_FE, FZ_BE, FZ_BE_CHAN, FZ_FE_CHAN };

/*
 * config:
 *   [0]      flags (FZ_CFG_*)
 *   [1]      device GET_CONFIG error: 0 none, 1 EBADFD (not configured),
 *            2 ENOTTY (not a device), 3 EIO
 *   [2]      ... for that many calls, then none (0: every call)
 *   [3]      non-zero: the BATCH ioctl fails as a whole (ENOMEM)
 *   [4..21]  the device's regions: 2 x (u8 shmid, u64 size); the rest 0
 */
#define FZ_CFG_SIZE		22
#define FZ_CFG_SMALL_BUF	0x01	/* the helper's sockets: small send buffers */
#define FZ_CFG_NO_BATCH		0x02	/* a device without VHOST_SHMEM_BATCH */
#define FZ_CFG_ALT_BIT		0x04	/* --shmem-feature-bit 20, not 22 */
#define FZ_CFG_QUIET		0x08	/* no --verbose */
#define FZ_CFG_LOG_PIPE		0x10	/* log into a 4 KiB pipe, not nowhere */
#define FZ_CFG_LOG_DEAF		0x20	/* ... that nobody reads */
/* --share-region of the first config region's shmid at FZ_SHARE_GPA */
#define FZ_CFG_SHARE		0x40
#define FZ_SHARE_GPA		0x100000000ull

enum fz_kind {
	/* side; u8 hdr[12]; payload; fdspec: one sendmsg, fds on it */
	FZ_SEND,
	/* side; u16 len, len bytes; fdspec: any bytes, one sendmsg */
	FZ_BYTES,
	/* arg 0: run the engine until no fd is readable; else arg rounds */
	FZ_RUN,
	/* side; arg & 4: shutdown(SHUT_WR) instead of close */
	FZ_CLOSE,
	/* side (a channel); u8 k: the k-th newest socket is its channel */
	FZ_PICK,
	/* arg 0: a whole signalfd_siginfo (128 bytes) on the signal fd; else arg bytes */
	FZ_SIGNAL,
	/*
	 * arg 0: u8 GET_CONFIG error (as config[1]), u8 calls (as config[2]);
	 * arg 1: u8 BATCH error (as config[3]); arg 2: u8 shmid, u64 size;
	 * arg 3: u8 non-zero: RESET fails (EIO), else succeeds again
	 */
	FZ_DEVICE,
	/*
	 * side; arg & 4: the peer stops reading that socket (a channel side:
	 * all its sockets but the main one), else reads it again
	 */
	FZ_DEAF,
	/*
	 * u8 n: the next action, operands included, n + 2 times (a flood in a
	 * few bytes); a FZ_REPEAT inside it does nothing
	 */
	FZ_REPEAT,
	FZ_KINDS
};

/*
 * payload := u8 mode, u16 len (at most FZ_PAYLOAD_MAX), then
 *   mode & 1 == 0: len bytes;
 *   mode & 1 == 1: u8 n, n x (u16 off, u8 k, k bytes): len zero bytes with
 *                  those patches (a 2056-byte GET_SHMEM_CONFIG in a few bytes)
 */
#define FZ_PAYLOAD_MAX		8192
#define FZ_PAYLOAD_SPARSE	1

/*
 * fdspec := u8: count = low nibble (15 means FZ_FDS_MANY), kind = high
 * nibble % FZ_FD_KINDS; no count: no fds.
 */
#define FZ_FDS_MANY		20	/* more than the helper has room for (16) */
enum fz_fd_kind {
	FZ_FD_EVENTFD,
	FZ_FD_MEMFD,		/* 16 KiB */
	FZ_FD_SOCKET,		/* a socketpair end; the sender keeps the other */
	FZ_FD_SOCKET_KEEP,	/* the same, and the sender keeps a dup of the one sent */
	FZ_FD_MAIN,		/* a dup of the sender's own main socket */
	FZ_FD_CHAN,		/* a dup of the sender's current channel */
	FZ_FD_KINDS
};

#define FZ_POOL_MAX		8

#endif
