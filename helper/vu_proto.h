/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-user wire format: request ids, payload layouts and the validation
 * table the helper applies to every message from either peer.
 */
#ifndef VU_PROTO_H
#define VU_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VU_HDR_SIZE		12u
#define VU_MAX_FDS		8u
/*
 * Largest payload accepted from a peer. The biggest fixed payload is
 * GET_SHMEM_CONFIG's reply (2056 bytes); variable ones are bounded below
 * (SET_MEM_TABLE: 8 regions = 264 bytes; GET/SET_CONFIG: 268 bytes;
 * CREATE_CRYPTO_SESSION and unknown requests: this bound).
 */
#define VU_MAX_PAYLOAD		4096u

#define VU_FLAG_VERSION_MASK	0x3u
#define VU_VERSION		0x1u
#define VU_FLAG_REPLY		(1u << 2)
#define VU_FLAG_NEED_REPLY	(1u << 3)
#define VU_FLAGS_KNOWN		(VU_FLAG_VERSION_MASK | VU_FLAG_REPLY | VU_FLAG_NEED_REPLY)

/* Front-end requests (main channel). */
enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5,
	VU_SET_LOG_BASE = 6,
	VU_SET_LOG_FD = 7,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_SEND_RARP = 19,
	VU_NET_SET_MTU = 20,
	VU_SET_BACKEND_REQ_FD = 21,
	VU_IOTLB_MSG = 22,
	VU_SET_VRING_ENDIAN = 23,
	VU_GET_CONFIG = 24,
	VU_SET_CONFIG = 25,
	VU_CREATE_CRYPTO_SESSION = 26,
	VU_CLOSE_CRYPTO_SESSION = 27,
	VU_POSTCOPY_ADVISE = 28,
	VU_POSTCOPY_LISTEN = 29,
	VU_POSTCOPY_END = 30,
	VU_GET_INFLIGHT_FD = 31,
	VU_SET_INFLIGHT_FD = 32,
	VU_GPU_SET_SOCKET = 33,
	VU_RESET_DEVICE = 34,
	VU_VRING_KICK = 35,
	VU_GET_MAX_MEM_SLOTS = 36,
	VU_ADD_MEM_REG = 37,
	VU_REM_MEM_REG = 38,
	VU_SET_STATUS = 39,
	VU_GET_STATUS = 40,
	VU_GET_SHARED_OBJECT = 41,
	VU_SET_DEVICE_STATE_FD = 42,
	VU_CHECK_DEVICE_STATE = 43,
	VU_GET_SHMEM_CONFIG = 44,
	VU_REQUEST_MAX
};

/* Back-end requests (backend channel). */
enum vu_backend_request {
	VU_BE_IOTLB_MSG = 1,
	VU_BE_CONFIG_CHANGE_MSG = 2,
	VU_BE_VRING_HOST_NOTIFIER_MSG = 3,
	VU_BE_VRING_CALL = 4,
	VU_BE_VRING_ERR = 5,
	VU_BE_SHARED_OBJECT_ADD = 6,
	VU_BE_SHARED_OBJECT_REMOVE = 7,
	VU_BE_SHARED_OBJECT_LOOKUP = 8,
	VU_BE_SHMEM_MAP = 9,
	VU_BE_SHMEM_UNMAP = 10,
	VU_BE_REQUEST_MAX
};

/* Protocol feature bits the helper cares about. */
#define VU_PROTOCOL_F_REPLY_ACK		3
#define VU_PROTOCOL_F_BACKEND_REQ	5
#define VU_PROTOCOL_F_PAGEFAULT		8
#define VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS 15
#define VU_PROTOCOL_F_SHMEM_DEFAULT	22
/* Virtio feature bit that enables GET/SET_PROTOCOL_FEATURES. */
#define VU_F_PROTOCOL_FEATURES		30

#define VU_SHMEM_MAX_REGIONS		256
#define VU_SHMEM_CONFIG_SIZE		2056u
#define VU_MMAP_SIZE			40u
#define VU_MMAP_F_RW			(1ull << 0)

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

/* VhostUserMMap (SHMEM_MAP / SHMEM_UNMAP payload). */
struct vu_mmap {
	uint8_t shmid;
	uint8_t padding[7];
	uint64_t fd_offset;
	uint64_t shm_offset;
	uint64_t len;
	uint64_t flags;
};

/*
 * Regions of a SET_MEM_TABLE without CONFIGURE_MEM_SLOTS
 * (VHOST_MEMORY_BASELINE_NREGIONS): one fd each, and a message carries at
 * most VU_MAX_FDS.
 */
#define VU_MEM_REGIONS_MAX		8u

/* VhostUserMemoryRegion: one region of the back-end's memory table. */
struct vu_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;	/* in the front-end's address space */
	uint64_t mmap_offset;		/* where the region starts in its fd */
};

/* VhostUserMemory (SET_MEM_TABLE payload): 8 + 32 * nregions bytes. */
struct vu_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vu_mem_region regions[VU_MEM_REGIONS_MAX];
};

/* VhostUserMemRegMsg (ADD_MEM_REG / REM_MEM_REG payload): 40 bytes. */
struct vu_mem_reg {
	uint64_t padding;
	struct vu_mem_region region;
};

/* VhostUserShMemConfig (GET_SHMEM_CONFIG reply). */
struct vu_shmem_config {
	uint32_t nregions;
	uint32_t padding;
	uint64_t memory_sizes[VU_SHMEM_MAX_REGIONS];
};

_Static_assert(sizeof(struct vu_hdr) == VU_HDR_SIZE, "vhost-user header");
_Static_assert(sizeof(struct vu_mmap) == VU_MMAP_SIZE, "VhostUserMMap");
_Static_assert(sizeof(struct vu_mem_region) == 32, "VhostUserMemoryRegion");
_Static_assert(sizeof(struct vu_mem_reg) == 40, "VhostUserMemRegMsg");
_Static_assert(sizeof(struct vu_shmem_config) == VU_SHMEM_CONFIG_SIZE,
	       "VhostUserShMemConfig");

/* Which channel and direction a message travels on. */
enum vu_dir {
	VU_DIR_FE_REQUEST,	/* front-end -> back-end, main channel */
	VU_DIR_BE_REPLY,	/* back-end -> front-end, main channel */
	VU_DIR_BE_REQUEST,	/* back-end -> front-end, backend channel */
	VU_DIR_FE_REPLY,	/* front-end -> back-end, backend channel */
};

/* Payload shape of one direction of one request. */
enum vu_shape {
	VU_SZ_EXACT,	/* size == min */
	VU_SZ_RANGE,	/* min <= size <= max */
	VU_SZ_MEMTABLE,	/* VhostUserMemory: 8 + 32 * nregions, nregions == nfds */
	VU_SZ_CONFIG,	/* VhostUserConfig: 12 + its own size field (<= 256) */
};

struct vu_payload_rule {
	uint8_t shape;
	uint8_t max_fds;
	uint8_t min_fds;
	uint16_t min;
	uint16_t max;
};

struct vu_rule {
	const char *name;
	struct vu_payload_rule req;
	struct vu_payload_rule reply;	/* besides the 8-byte REPLY_ACK */
};

const char *vu_request_name(enum vu_dir dir, uint32_t request);

/*
 * Checks a whole message (header + payload + number of fds) against the
 * table. Returns NULL when acceptable, otherwise a static description of
 * what is wrong. Unknown front-end request ids, and the back-end's replies
 * to them, are accepted with up to VU_MAX_PAYLOAD bytes and VU_MAX_FDS fds
 * (forwarded unchanged, for newer peers); unknown backend requests are
 * rejected.
 */
const char *vu_validate(enum vu_dir dir, const struct vu_hdr *hdr,
			const void *payload, unsigned int nfds);

#endif /* VU_PROTO_H */
