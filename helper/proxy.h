/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interposition engine: one vhost-user session between a front-end
 * and a back-end, with the helper's own backend channel toward the back-end
 * and the front-end's backend channel kept for relaying.
 */
#ifndef PROXY_H
#define PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "shmem_dev.h"
#include "vu_msg.h"

#define PROXY_PENDING_MAX 16
/*
 * The longest the helper waits, in all, for peers to take what one round
 * of the event loop sends; a peer that has not taken it by then ends the
 * session (PROXY_PEER_STUCK).
 */
#define PROXY_SEND_TIMEOUT_MS 5000

/* Requests whose replies the helper must see, oldest first. */
struct proxy_fifo {
	uint32_t req[PROXY_PENDING_MAX];
	uint8_t owner[PROXY_PENDING_MAX];
	unsigned int head, count;
};

/*
 * A SHMEM_MAP/UNMAP that passed the checks, waiting to run with the ones
 * that arrived right behind it as one VHOST_SHMEM_BATCH.
 */
struct proxy_staged {
	uint32_t request, flags;	/* of the vhost-user header */
	struct vu_mmap mm;
	int fd;				/* owned; -1 for UNMAP */
};

/* --share-region: at most this many regions shared with the back-end. */
#define PROXY_SHARES_MAX 8
/*
 * The userspace_addr of a shared region in the back-end's memory table is
 * this bit ORed with its GPA: a key only (see share_region_desc()).
 */
#define PROXY_SHARE_UADDR_BIT (1ull << 63)

/* What --share-region SHMID@GPA[,ro] asks for. */
struct proxy_share_opt {
	uint32_t shmid;
	uint64_t gpa;
	bool ro;		/* a read-only view */
};

/*
 * One region of the device shared with the back-end: a view of it in the
 * back-end's memory table at @gpa, one slot whatever the mappings.
 */
struct proxy_share {
	struct proxy_share_opt opt;
	uint64_t size;		/* the region's, once prepared */
	int view_fd;		/* owned; -1 until prepared */
	bool in_table;		/* ADD_MEM_REG sent and not removed since */
};

enum proxy_end {
	PROXY_RUNNING,
	PROXY_PEER_GONE,	/* a peer disconnected: exit 0 */
	PROXY_PEER_STUCK,	/* a peer stopped reading (send timed out): exit 1 */
	PROXY_TERMINATED,	/* SIGTERM/SIGINT: exit 0 */
	PROXY_PROTOCOL_ERROR,	/* malformed message: exit 2 */
	PROXY_FATAL,		/* refusing to serve (config mismatch...): exit 1 */
};

struct proxy {
	struct hlog *log;
	struct shmem_dev *dev;
	unsigned int shmem_bit;
	int epfd;
	int sigfd;		/* not owned */
	enum proxy_end end;
	/* Bounds the sends of one round; its stop_fd is sigfd. */
	struct vu_send_limit send_lim;

	struct vu_conn fe;	/* front-end, main channel */
	struct vu_conn be;	/* back-end, main channel */
	struct vu_conn fe_chan;	/* front-end's backend channel (we are its "back-end") */
	struct vu_conn be_chan;	/* our backend channel toward the back-end */

	uint64_t be_offered;	/* back-end's GET_PROTOCOL_FEATURES */
	uint64_t fe_acked;	/* what the front-end set */
	uint64_t be_acked;	/* what we set on the back-end */
	bool be_offered_known;

	struct proxy_fifo pend_main;	/* GET_PROTOCOL_FEATURES, GET_SHMEM_CONFIG */
	struct proxy_fifo pend_chan;	/* relayed backend requests awaiting replies */

	bool be_cfg_known, cfg_checked;
	uint64_t be_sizes[VU_SHMEM_MAX_REGIONS];
	struct vhost_shmem_config dev_cfg;	/* scratch for GET_CONFIG */

	/* --share-region, in the order given; prepared once for the session. */
	struct proxy_share shares[PROXY_SHARES_MAX];
	unsigned int nshares;
	bool shares_ready;
	uint64_t be_max_slots;		/* GET_MAX_MEM_SLOTS reply; 0: unknown */
	/*
	 * Without CONFIGURE_MEM_SLOTS, the front-end's last SET_MEM_TABLE as
	 * sent to it, with dups of its fds (owned, fe_table.nregions of them):
	 * a reset sends it again without the shares. Dropped once sent.
	 */
	struct vu_memory fe_table;
	int fe_table_fds[VU_MEM_REGIONS_MAX];
	bool fe_table_kept;

	/* Back-to-back SHMEM requests of the backend channel, in order. */
	struct proxy_staged staged[VHOST_SHMEM_BATCH_MAX];
	unsigned int nstaged;
};

/*
 * Takes ownership of fe_fd and be_fd (connected stream sockets). sigfd is a
 * signalfd (or -1) watched for shutdown. Returns 0 or -errno.
 */
int proxy_init(struct proxy *p, struct hlog *log, struct shmem_dev *dev,
	       unsigned int shmem_bit, int fe_fd, int be_fd, int sigfd);
/*
 * Adds a --share-region before the session starts (after proxy_init).
 * Returns 0, or -ENOSPC past PROXY_SHARES_MAX.
 */
int proxy_add_share(struct proxy *p, const struct proxy_share_opt *opt);
/* Runs until the session ends; resets the device and closes everything. */
enum proxy_end proxy_run(struct proxy *p);

/*
 * proxy_run() in pieces, for a caller that drives the loop itself (the
 * fuzzer): proxy_step() is one round, waiting up to @timeout_ms (-1: no
 * limit) for events and handling them; it returns how many came (0: none
 * in time), or -1 if the session had already ended. proxy_finish() then resets the device and
 * closes everything; proxy_run() is while (proxy_step(p, -1) >= 0) ; then
 * proxy_finish().
 */
int proxy_step(struct proxy *p, int timeout_ms);
enum proxy_end proxy_finish(struct proxy *p);

#endif
