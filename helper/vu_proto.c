// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-user request table: names and payload rules per direction.
 *
 * Sizes follow QEMU's docs/interop/vhost-user.rst. Every reply may also be
 * the 8-byte u64 of REPLY_ACK, so that is accepted for any known request.
 */
#include <string.h>

#include "vu_proto.h"

#define NONE		{ VU_SZ_EXACT, 0, 0, 0, 0 }
#define FIX(n)		{ VU_SZ_EXACT, 0, 0, (n), (n) }
#define FIX_FD(n)	{ VU_SZ_EXACT, 1, 1, (n), (n) }
#define FIX_OPTFD(n)	{ VU_SZ_EXACT, 1, 0, (n), (n) }
#define U64		FIX(8)
#define RANGE(a, b)	{ VU_SZ_RANGE, 0, 0, (a), (b) }
#define RANGE_OPTFD(a, b) { VU_SZ_RANGE, 1, 0, (a), (b) }
#define MEMTABLE	{ VU_SZ_MEMTABLE, VU_MAX_FDS, 0, 8, 8 + 32 * VU_MAX_FDS }
#define MEMTABLE_REPLY	{ VU_SZ_MEMTABLE, 0, 0, 8, 8 + 32 * VU_MAX_FDS }
#define CONFIG		{ VU_SZ_CONFIG, 0, 0, 12, 12 + 256 }
#define GENERIC		{ VU_SZ_RANGE, 0, 0, 0, VU_MAX_PAYLOAD }

/* sizeof(VhostUserMemRegMsg), struct vhost_vring_addr, vhost_iotlb_msg, ... */
#define MEMREG	40
#define VRING_ADDR 40
#define IOTLB	32
#define INFLIGHT 24
#define LOG	16
#define UUID	16
#define AREA	24

static const struct vu_rule fe_rules[VU_REQUEST_MAX] = {
	[VU_GET_FEATURES]	= { "GET_FEATURES", NONE, U64 },
	[VU_SET_FEATURES]	= { "SET_FEATURES", U64, NONE },
	[VU_SET_OWNER]		= { "SET_OWNER", NONE, NONE },
	[VU_RESET_OWNER]	= { "RESET_OWNER", NONE, NONE },
	[VU_SET_MEM_TABLE]	= { "SET_MEM_TABLE", MEMTABLE, MEMTABLE_REPLY },
	[VU_SET_LOG_BASE]	= { "SET_LOG_BASE", FIX_FD(LOG), U64 },
	[VU_SET_LOG_FD]		= { "SET_LOG_FD", { VU_SZ_RANGE, 1, 1, 0, 8 }, NONE },
	[VU_SET_VRING_NUM]	= { "SET_VRING_NUM", U64, NONE },
	[VU_SET_VRING_ADDR]	= { "SET_VRING_ADDR", FIX(VRING_ADDR), NONE },
	[VU_SET_VRING_BASE]	= { "SET_VRING_BASE", U64, NONE },
	[VU_GET_VRING_BASE]	= { "GET_VRING_BASE", U64, U64 },
	[VU_SET_VRING_KICK]	= { "SET_VRING_KICK", FIX_OPTFD(8), NONE },
	[VU_SET_VRING_CALL]	= { "SET_VRING_CALL", FIX_OPTFD(8), NONE },
	[VU_SET_VRING_ERR]	= { "SET_VRING_ERR", FIX_OPTFD(8), NONE },
	[VU_GET_PROTOCOL_FEATURES] = { "GET_PROTOCOL_FEATURES", NONE, U64 },
	[VU_SET_PROTOCOL_FEATURES] = { "SET_PROTOCOL_FEATURES", U64, NONE },
	[VU_GET_QUEUE_NUM]	= { "GET_QUEUE_NUM", NONE, U64 },
	[VU_SET_VRING_ENABLE]	= { "SET_VRING_ENABLE", U64, NONE },
	[VU_SEND_RARP]		= { "SEND_RARP", U64, NONE },
	[VU_NET_SET_MTU]	= { "NET_SET_MTU", U64, NONE },
	[VU_SET_BACKEND_REQ_FD]	= { "SET_BACKEND_REQ_FD", FIX_FD(0), NONE },
	[VU_IOTLB_MSG]		= { "IOTLB_MSG", FIX(IOTLB), NONE },
	[VU_SET_VRING_ENDIAN]	= { "SET_VRING_ENDIAN", U64, NONE },
	[VU_GET_CONFIG]		= { "GET_CONFIG", CONFIG, CONFIG },
	[VU_SET_CONFIG]		= { "SET_CONFIG", CONFIG, NONE },
	[VU_CREATE_CRYPTO_SESSION] = { "CREATE_CRYPTO_SESSION", GENERIC, GENERIC },
	[VU_CLOSE_CRYPTO_SESSION] = { "CLOSE_CRYPTO_SESSION", U64, NONE },
	[VU_POSTCOPY_ADVISE]	= { "POSTCOPY_ADVISE", NONE, RANGE_OPTFD(0, 8) },
	[VU_POSTCOPY_LISTEN]	= { "POSTCOPY_LISTEN", NONE, NONE },
	[VU_POSTCOPY_END]	= { "POSTCOPY_END", NONE, NONE },
	[VU_GET_INFLIGHT_FD]	= { "GET_INFLIGHT_FD", FIX(INFLIGHT), FIX_FD(INFLIGHT) },
	[VU_SET_INFLIGHT_FD]	= { "SET_INFLIGHT_FD", FIX_FD(INFLIGHT), NONE },
	[VU_GPU_SET_SOCKET]	= { "GPU_SET_SOCKET", FIX_FD(0), NONE },
	[VU_RESET_DEVICE]	= { "RESET_DEVICE", NONE, NONE },
	[VU_VRING_KICK]		= { "VRING_KICK", U64, NONE },
	[VU_GET_MAX_MEM_SLOTS]	= { "GET_MAX_MEM_SLOTS", NONE, U64 },
	[VU_ADD_MEM_REG]	= { "ADD_MEM_REG", FIX_FD(MEMREG), FIX(MEMREG) },
	[VU_REM_MEM_REG]	= { "REM_MEM_REG", FIX_OPTFD(MEMREG), NONE },
	[VU_SET_STATUS]		= { "SET_STATUS", U64, NONE },
	[VU_GET_STATUS]		= { "GET_STATUS", NONE, U64 },
	[VU_GET_SHARED_OBJECT]	= { "GET_SHARED_OBJECT", FIX(UUID), RANGE_OPTFD(0, 8) },
	[VU_SET_DEVICE_STATE_FD] = { "SET_DEVICE_STATE_FD", FIX_FD(8), FIX_OPTFD(8) },
	[VU_CHECK_DEVICE_STATE]	= { "CHECK_DEVICE_STATE", NONE, U64 },
	[VU_GET_SHMEM_CONFIG]	= { "GET_SHMEM_CONFIG", NONE, FIX(VU_SHMEM_CONFIG_SIZE) },
};

static const struct vu_rule be_rules[VU_BE_REQUEST_MAX] = {
	[VU_BE_IOTLB_MSG]	= { "BACKEND_IOTLB_MSG", FIX(IOTLB), NONE },
	[VU_BE_CONFIG_CHANGE_MSG] = { "BACKEND_CONFIG_CHANGE_MSG", NONE, NONE },
	[VU_BE_VRING_HOST_NOTIFIER_MSG] = { "BACKEND_VRING_HOST_NOTIFIER_MSG",
					    FIX_OPTFD(AREA), NONE },
	[VU_BE_VRING_CALL]	= { "BACKEND_VRING_CALL", U64, NONE },
	[VU_BE_VRING_ERR]	= { "BACKEND_VRING_ERR", U64, NONE },
	[VU_BE_SHARED_OBJECT_ADD] = { "BACKEND_SHARED_OBJECT_ADD", FIX(UUID), NONE },
	[VU_BE_SHARED_OBJECT_REMOVE] = { "BACKEND_SHARED_OBJECT_REMOVE", FIX(UUID), NONE },
	[VU_BE_SHARED_OBJECT_LOOKUP] = { "BACKEND_SHARED_OBJECT_LOOKUP", FIX(UUID),
					 RANGE_OPTFD(8, 8) },
	[VU_BE_SHMEM_MAP]	= { "BACKEND_SHMEM_MAP", FIX_FD(VU_MMAP_SIZE), NONE },
	[VU_BE_SHMEM_UNMAP]	= { "BACKEND_SHMEM_UNMAP", FIX(VU_MMAP_SIZE), NONE },
};

static const struct vu_rule *rule_for(enum vu_dir dir, uint32_t request)
{
	const struct vu_rule *r = NULL;

	if (dir == VU_DIR_FE_REQUEST || dir == VU_DIR_BE_REPLY) {
		if (request < VU_REQUEST_MAX)
			r = &fe_rules[request];
	} else if (request < VU_BE_REQUEST_MAX) {
		r = &be_rules[request];
	}
	return r && r->name ? r : NULL;
}

const char *vu_request_name(enum vu_dir dir, uint32_t request)
{
	const struct vu_rule *r = rule_for(dir, request);

	return r ? r->name : "UNKNOWN";
}

static const char *check_payload(const struct vu_payload_rule *p, uint32_t size,
				 const void *payload, unsigned int nfds)
{
	uint32_t n;

	if (nfds > p->max_fds)
		return "too many file descriptors for this request";
	if (nfds < p->min_fds)
		return "missing file descriptor";
	switch (p->shape) {
	case VU_SZ_EXACT:
		if (size != p->min)
			return "wrong payload size";
		return NULL;
	case VU_SZ_RANGE:
		if (size < p->min || size > p->max)
			return "payload size out of bounds";
		return NULL;
	case VU_SZ_MEMTABLE:
		if (size < p->min || size > p->max || (size - 8) % 32)
			return "bad memory table size";
		memcpy(&n, payload, sizeof(n));
		if (n != (size - 8) / 32)
			return "memory table nregions does not match its size";
		if (p->max_fds && n != nfds)
			return "memory table nregions does not match the fds";
		return NULL;
	case VU_SZ_CONFIG:
		if (size < p->min || size > p->max)
			return "config payload size out of bounds";
		memcpy(&n, (const char *)payload + 4, sizeof(n));
		if (n != size - 12)
			return "config size field does not match the payload";
		return NULL;
	}
	return "bad rule";
}

const char *vu_validate(enum vu_dir dir, const struct vu_hdr *hdr,
			const void *payload, unsigned int nfds)
{
	bool is_reply = dir == VU_DIR_BE_REPLY || dir == VU_DIR_FE_REPLY;
	const struct vu_rule *r = rule_for(dir, hdr->request);

	if ((hdr->flags & VU_FLAG_VERSION_MASK) != VU_VERSION)
		return "bad protocol version";
	if (hdr->flags & ~VU_FLAGS_KNOWN)
		return "unknown header flags";
	if (!!(hdr->flags & VU_FLAG_REPLY) != is_reply)
		return is_reply ? "request where a reply was expected"
				: "unsolicited reply";
	if (hdr->size > VU_MAX_PAYLOAD)
		return "payload too large";
	if (nfds > VU_MAX_FDS)
		return "too many file descriptors";
	if (!r) {
		/* Newer main-channel request, or the reply to one: forwarded, bounded. */
		if (dir == VU_DIR_FE_REQUEST || dir == VU_DIR_BE_REPLY)
			return NULL;
		return "unknown request";
	}
	if (!is_reply)
		return check_payload(&r->req, hdr->size, payload, nfds);
	if (hdr->size == 8 && nfds == 0)
		return NULL;		/* REPLY_ACK */
	return check_payload(&r->reply, hdr->size, payload, nfds);
}
