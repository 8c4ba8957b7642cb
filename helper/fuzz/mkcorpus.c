// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's seed corpus: the host tests' sessions (tests/helper_test.c)
 * written as schedules (sched.h), one file per test or variant, named
 * after it. Each seed is run through the harness here, and what it must
 * reach (how the session ends, what the device did) is checked, so that a
 * seed that no longer does what its test does is caught.
 *
 *   mkcorpus DIR          writes the seeds into DIR (make -C helper fuzz-corpus)
 *   mkcorpus --check DIR  checks that DIR holds exactly these seeds (TAP)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sched.h"

#define BIT(n) (1ull << (n))
#define SHMEM_BIT 22
#define REGION_SIZE (1ull << 20)
#define PAGE 4096ull
#define SEED_MAX 16384
#define FULL_OFFER (BIT(SHMEM_BIT) | BIT(5) | BIT(3) | BIT(0))

struct enc {
	uint8_t b[SEED_MAX];
	size_t n;
};

static void put(struct enc *e, const void *p, size_t n)
{
	if (e->n + n > SEED_MAX) {
		fprintf(stderr, "mkcorpus: seed over %d bytes\n", SEED_MAX);
		exit(1);
	}
	if (n)
		memcpy(e->b + e->n, p, n);
	e->n += n;
}

static void u8(struct enc *e, uint8_t v)
{
	put(e, &v, 1);
}

static void u16(struct enc *e, uint16_t v)
{
	u8(e, (uint8_t)v);
	u8(e, (uint8_t)(v >> 8));
}

static void u32(struct enc *e, uint32_t v)
{
	u16(e, (uint16_t)v);
	u16(e, (uint16_t)(v >> 16));
}

static void u64(struct enc *e, uint64_t v)
{
	u32(e, (uint32_t)v);
	u32(e, (uint32_t)(v >> 32));
}

static uint8_t op(unsigned int kind, unsigned int arg)
{
	return (uint8_t)(kind | arg << 4);
}

static uint8_t fds(unsigned int kind, unsigned int n)
{
	return (uint8_t)(kind << 4 | n);
}

/* The config block; the device is h_init()'s: 1 MiB at shmid 0, 4 pages at 3. */
static void config(struct enc *e, uint8_t flags, uint8_t cfg_err, uint8_t calls,
		   uint8_t batch_err)
{
	u8(e, flags);
	u8(e, cfg_err);
	u8(e, calls);
	u8(e, batch_err);
	u8(e, 0);
	u64(e, REGION_SIZE);
	u8(e, 3);
	u64(e, 4 * PAGE);
}

static void hdr(struct enc *e, unsigned int side, uint32_t req, uint32_t flags,
		uint32_t size)
{
	u8(e, op(FZ_SEND, side));
	u32(e, req);
	u32(e, flags | VU_VERSION);
	u32(e, size);
}

/* A message with @len payload bytes, its header saying @len. */
static void msg(struct enc *e, unsigned int side, uint32_t req, uint32_t flags,
		const void *payload, uint16_t len, uint8_t fdspec)
{
	hdr(e, side, req, flags, len);
	u8(e, 0);
	u16(e, len);
	put(e, payload, len);
	u8(e, fdspec);
}

static void msg_u64(struct enc *e, unsigned int side, uint32_t req, uint32_t flags,
		    uint64_t v)
{
	msg(e, side, req, flags, &v, 8, 0);
}

static void msg_empty(struct enc *e, unsigned int side, uint32_t req, uint32_t flags)
{
	msg(e, side, req, flags, NULL, 0, 0);
}

static void run(struct enc *e)
{
	u8(e, op(FZ_RUN, 0));
}

/* Front-end asks, back-end answers @val. */
static void get_u64_through(struct enc *e, uint32_t req, uint64_t val)
{
	msg_empty(e, FZ_FE, req, 0);
	run(e);
	msg_u64(e, FZ_BE, req, VU_FLAG_REPLY, val);
	run(e);
}

/* GET_SHMEM_CONFIG's 2056-byte reply, sparse: @n sizes at @shmids. */
static void shmem_config_reply(struct enc *e, unsigned int n, const uint8_t *shmids,
			       const uint64_t *sizes)
{
	hdr(e, FZ_BE, VU_GET_SHMEM_CONFIG, VU_FLAG_REPLY, VU_SHMEM_CONFIG_SIZE);
	u8(e, FZ_PAYLOAD_SPARSE);
	u16(e, VU_SHMEM_CONFIG_SIZE);
	u8(e, (uint8_t)(n + 1));
	u16(e, 0);
	u8(e, 4);
	u32(e, n);
	for (unsigned int i = 0; i < n; i++) {
		u16(e, (uint16_t)(8 + 8 * shmids[i]));
		u8(e, 8);
		u64(e, sizes[i]);
	}
	u8(e, 0);
}

static const uint8_t dev_shmids[] = { 0, 3 };
static const uint64_t dev_sizes[] = { REGION_SIZE, 4 * PAGE };

/*
 * negotiate() of the host tests: protocol features through the helper,
 * then the back-end answers GET_SHMEM_CONFIG (@sizes) if it is asked.
 */
static void negotiate_with(struct enc *e, uint64_t be_offer, uint64_t fe_set,
			   unsigned int bit, const uint64_t *sizes)
{
	const uint64_t need = BIT(bit) | BIT(5);

	get_u64_through(e, VU_GET_PROTOCOL_FEATURES, be_offer);
	msg_u64(e, FZ_FE, VU_SET_PROTOCOL_FEATURES, 0, fe_set);
	run(e);
	if ((be_offer & need) == need && sizes) {
		shmem_config_reply(e, 2, dev_shmids, sizes);
		run(e);
	}
}

static void negotiate(struct enc *e, uint64_t be_offer, uint64_t fe_set)
{
	negotiate_with(e, be_offer, fe_set, SHMEM_BIT, dev_sizes);
}

/* set_backend_req_fd(): a new socket; the back-end acks the helper's. */
static void set_backend_req_fd(struct enc *e)
{
	msg(e, FZ_FE, VU_SET_BACKEND_REQ_FD, VU_FLAG_NEED_REPLY, NULL, 0,
	    fds(FZ_FD_SOCKET, 1));
	run(e);
	msg_u64(e, FZ_BE, VU_SET_BACKEND_REQ_FD, VU_FLAG_REPLY, 0);
	run(e);
}

/* session_setup(): SHMEM negotiated, both backend channels up. */
static void session(struct enc *e)
{
	negotiate(e, FULL_OFFER, BIT(5) | BIT(3));
	set_backend_req_fd(e);
}

static void map(struct enc *e, uint8_t shmid, uint64_t off, uint64_t len, uint32_t vflags)
{
	struct vu_mmap mm = { .shmid = shmid, .shm_offset = off, .len = len };

	msg(e, FZ_BE_CHAN, VU_BE_SHMEM_MAP, vflags, &mm, sizeof(mm), fds(FZ_FD_MEMFD, 1));
}

static void unmap(struct enc *e, uint8_t shmid, uint64_t off, uint64_t len)
{
	struct vu_mmap mm = { .shmid = shmid, .shm_offset = off, .len = len };

	msg(e, FZ_BE_CHAN, VU_BE_SHMEM_UNMAP, VU_FLAG_NEED_REPLY, &mm, sizeof(mm), 0);
}

/* ---- the seeds ------------------------------------------------------------- */

/* forward_full_negotiation_byte_exact */
static void s_full_negotiation(struct enc *e)
{
	uint8_t mem[8 + 2 * 32] = { 2 }, addr[40], big[300];

	config(e, 0, 0, 0, 0);
	get_u64_through(e, VU_GET_FEATURES, BIT(32) | BIT(30) | 0x1234);
	msg_u64(e, FZ_FE, VU_SET_FEATURES, 0, BIT(32) | BIT(30));
	negotiate(e, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5) | BIT(3));
	msg_empty(e, FZ_FE, VU_SET_OWNER, 0);
	set_backend_req_fd(e);
	for (unsigned int i = 8; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(i * 7);
	msg(e, FZ_FE, VU_SET_MEM_TABLE, VU_FLAG_NEED_REPLY, mem, sizeof(mem),
	    fds(FZ_FD_MEMFD, 2));
	run(e);
	msg_u64(e, FZ_BE, VU_SET_MEM_TABLE, VU_FLAG_REPLY, 0);
	msg_u64(e, FZ_FE, VU_SET_VRING_NUM, 0, 256);
	for (unsigned int i = 0; i < sizeof(addr); i++)
		addr[i] = (uint8_t)(0xa0 + i);
	msg(e, FZ_FE, VU_SET_VRING_ADDR, 0, addr, sizeof(addr), 0);
	msg_u64(e, FZ_FE, VU_SET_VRING_BASE, 0, 0);
	for (uint32_t r = VU_SET_VRING_KICK; r <= VU_SET_VRING_ERR; r++) {
		uint64_t v = 0;

		msg(e, FZ_FE, r, 0, &v, 8, fds(FZ_FD_EVENTFD, 1));
	}
	msg_u64(e, FZ_FE, VU_SET_VRING_CALL, 0, 0x100);
	msg_u64(e, FZ_FE, VU_SET_VRING_ENABLE, 0, 1ull << 32);
	run(e);
	msg_u64(e, FZ_FE, VU_GET_VRING_BASE, 0, 0x55aa);
	run(e);
	msg_u64(e, FZ_BE, VU_GET_VRING_BASE, VU_FLAG_REPLY, 0x55aa);
	for (unsigned int i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	msg(e, FZ_FE, 77, 0, big, sizeof(big), fds(FZ_FD_EVENTFD, 3));
	msg_u64(e, FZ_FE, VU_SET_STATUS, 0, 0xf);
	run(e);
}

static const char *c_full_negotiation(const struct fz_result *r)
{
	if (r->end != PROXY_PEER_GONE || r->configs != 1 || r->maps)
		return "not a clean session with one config check";
	/* 2 memfds, 3 eventfds, 3 more, the helper's channel: 9 at the back-end */
	return r->rx_fds[FZ_BE] == 9 ? NULL : "not every fd reached the back-end";
}

/* forward_unknown_request_and_its_replies */
static void s_forward_unknown(struct enc *e)
{
	uint8_t body[100];

	config(e, 0, 0, 0, 0);
	session(e);
	msg_u64(e, FZ_FE, 77, VU_FLAG_NEED_REPLY, 0);
	run(e);
	msg_u64(e, FZ_BE, 77, VU_FLAG_REPLY, 0);
	run(e);
	for (unsigned int i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i ^ 0x5a);
	msg_empty(e, FZ_FE, 200, 0);
	run(e);
	msg(e, FZ_BE, 200, VU_FLAG_REPLY, body, sizeof(body), fds(FZ_FD_EVENTFD, 1));
	run(e);
	get_u64_through(e, VU_GET_QUEUE_NUM, 42);
}

static const char *c_forward_unknown(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->rx_fds[FZ_FE] == 1 ? NULL :
	       "the reply's fd did not reach the front-end";
}

/* features_interposed_default_bit: the helper opens the channel itself */
static void s_features_default_bit(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	negotiate(e, FULL_OFFER | BIT(1), BIT(0));
}

static const char *c_features_default_bit(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->rx_fds[FZ_BE] == 1 && r->configs == 1 ? NULL :
	       "no backend channel from the helper, or no config check";
}

/* features_interposed_override_bit */
static void s_features_override_bit(struct enc *e)
{
	config(e, FZ_CFG_ALT_BIT, 0, 0, 0);
	negotiate_with(e, BIT(20) | BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5), 20, dev_sizes);
}

static const char *c_config_checked(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->configs == 1 ? NULL : "no config check";
}

/* features_backend_without_shmem */
static void s_features_no_shmem(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	negotiate(e, BIT(5) | BIT(3), BIT(5) | BIT(3));
}

static const char *c_gone_nothing_checked(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && !r->configs && !r->maps ? NULL :
	       "a config check or MAP without F_SHMEM";
}

/* features_frontend_shmem_bit_not_passed_on */
static void s_features_fe_shmem_bit(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	negotiate(e, BIT(5) | BIT(3), BIT(SHMEM_BIT) | BIT(5) | BIT(3));
	set_backend_req_fd(e);
	map(e, 0, 0, PAGE, VU_FLAG_NEED_REPLY);
	run(e);
}

/* backend_channel_relay */
static void s_chan_relay(struct enc *e)
{
	uint8_t area[24];

	config(e, 0, 0, 0, 0);
	session(e);
	msg_empty(e, FZ_BE_CHAN, VU_BE_CONFIG_CHANGE_MSG, VU_FLAG_NEED_REPLY);
	run(e);
	msg_u64(e, FZ_FE_CHAN, VU_BE_CONFIG_CHANGE_MSG, VU_FLAG_REPLY, 7);
	run(e);
	for (unsigned int i = 0; i < sizeof(area); i++)
		area[i] = (uint8_t)(3 * i);
	msg(e, FZ_BE_CHAN, VU_BE_VRING_HOST_NOTIFIER_MSG, 0, area, sizeof(area),
	    fds(FZ_FD_EVENTFD, 1));
	run(e);
	msg_u64(e, FZ_FE_CHAN, VU_BE_VRING_CALL, VU_FLAG_REPLY, 0);
	run(e);
}

static const char *c_protocol_error(const struct fz_result *r)
{
	return r->end == PROXY_PROTOCOL_ERROR && !r->maps && !r->unmaps ? NULL :
	       "not a protocol error, or a device op";
}

/* backend_channel_without_frontend_reply_ack */
static void s_chan_no_reply_ack(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	negotiate(e, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5));
	set_backend_req_fd(e);
	msg_empty(e, FZ_BE_CHAN, VU_BE_CONFIG_CHANGE_MSG, VU_FLAG_NEED_REPLY);
	run(e);
}

static const char *c_chan_acked(const struct fz_result *r)
{
	/* The helper's ack: 12 + 8 bytes on the back-end's channel. */
	return r->end == PROXY_PEER_GONE && r->rx_bytes[FZ_BE_CHAN] == 20 &&
	       r->rx_bytes[FZ_FE_CHAN] == 12 ? NULL : "not relayed and acked";
}

/* backend_channel_frontend_has_none */
static void s_chan_fe_has_none(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	negotiate(e, BIT(SHMEM_BIT) | BIT(5) | BIT(3), 0);
	msg_empty(e, FZ_BE_CHAN, VU_BE_CONFIG_CHANGE_MSG, VU_FLAG_NEED_REPLY);
	run(e);
}

static const char *c_chan_refused(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->rx_bytes[FZ_BE_CHAN] == 20 ? NULL :
	       "no failure reply on the back-end's channel";
}

/* backend_channel_replaced_old_one_unwatched */
static void s_chan_replaced(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	session(e);
	/* a[1] sent, a dup of it and a[0] kept: pool s0, a1', a0 */
	msg(e, FZ_FE, VU_SET_BACKEND_REQ_FD, VU_FLAG_NEED_REPLY, NULL, 0,
	    fds(FZ_FD_SOCKET_KEEP, 1));
	run(e);
	u8(e, op(FZ_PICK, FZ_FE_CHAN));	/* the first channel, s0 */
	u8(e, 2);
	u8(e, op(FZ_CLOSE, FZ_FE_CHAN));
	u8(e, op(FZ_PICK, FZ_FE_CHAN));
	u8(e, 0);
	msg(e, FZ_FE, VU_SET_BACKEND_REQ_FD, VU_FLAG_NEED_REPLY, NULL, 0,
	    fds(FZ_FD_SOCKET, 1));
	run(e);
	u8(e, op(FZ_PICK, FZ_FE_CHAN));	/* a0: a1' now reads EOF */
	u8(e, 1);
	u8(e, op(FZ_CLOSE, FZ_FE_CHAN));
	u8(e, op(FZ_PICK, FZ_FE_CHAN));
	u8(e, 0);
	run(e);
	msg_empty(e, FZ_BE_CHAN, VU_BE_CONFIG_CHANGE_MSG, 0);
	run(e);
	get_u64_through(e, VU_GET_QUEUE_NUM, 42);
}

static const char *c_chan_replaced(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->rx_bytes[FZ_FE_CHAN] == 12 ? NULL :
	       "not relayed on the new channel";
}

/* shmem_config_relayed_2056_bytes */
static void s_config_relayed(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	session(e);
	msg_empty(e, FZ_FE, VU_GET_SHMEM_CONFIG, 0);
	run(e);
	shmem_config_reply(e, 2, dev_shmids, dev_sizes);
	run(e);
}

static const char *c_config_relayed(const struct fz_result *r)
{
	/* 2 replies of 20 bytes and the config of 12 + 2056. */
	return r->end == PROXY_PEER_GONE && r->rx_bytes[FZ_FE] == 2 * 20 + 2068 ? NULL :
	       "the config did not reach the front-end";
}

/* shmem_config_mismatch_refused */
static void s_config_mismatch(struct enc *e)
{
	static const uint64_t sizes[] = { REGION_SIZE, 8 * PAGE };

	config(e, 0, 0, 0, 0);
	negotiate_with(e, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5) | BIT(3), SHMEM_BIT, sizes);
}

static const char *c_fatal(const struct fz_result *r)
{
	return r->end == PROXY_FATAL && !r->maps ? NULL : "not refused, or a MAP ran";
}

/* shmem_config_short_reply_is_malformed */
static void s_config_short(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	negotiate(e, BIT(5) | BIT(3), BIT(5) | BIT(3));
	msg_empty(e, FZ_FE, VU_GET_SHMEM_CONFIG, 0);
	run(e);
	msg_u64(e, FZ_BE, VU_GET_SHMEM_CONFIG, VU_FLAG_REPLY, 0);
	run(e);
}

/* shmem_config_deferred_until_device_configured */
static void s_config_deferred(struct enc *e)
{
	config(e, 0, 1, 0, 0);	/* EBADFD */
	session(e);
	map(e, 0, 0, PAGE, VU_FLAG_NEED_REPLY);
	run(e);
}

static const char *c_one_map(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->maps_ok == 1 ? NULL : "the MAP did not run";
}

/* shmem_staged_requests_dropped_when_refusing */
static void s_staged_dropped(struct enc *e)
{
	static const uint64_t sizes[] = { REGION_SIZE, 8 * PAGE };

	config(e, 0, 1, 3, 0);	/* EBADFD for 3 calls, then a mismatch */
	negotiate_with(e, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5) | BIT(3), SHMEM_BIT, sizes);
	set_backend_req_fd(e);
	for (unsigned int i = 0; i < 3; i++)
		map(e, 0, i * PAGE, PAGE, VU_FLAG_NEED_REPLY);
	run(e);
}

/* shmem_map_unmap_reach_device */
static void s_map_unmap(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	session(e);
	map(e, 0, 2 * PAGE, 4 * PAGE, VU_FLAG_NEED_REPLY);
	run(e);
	map(e, 0, 5 * PAGE, PAGE, VU_FLAG_NEED_REPLY);
	run(e);
	unmap(e, 0, 2 * PAGE, 4 * PAGE);
	run(e);
	unmap(e, 0, 2 * PAGE, 4 * PAGE);
	run(e);
	get_u64_through(e, VU_GET_QUEUE_NUM, 42);
}

static const char *c_map_unmap(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->maps == 2 && r->maps_ok == 1 &&
	       r->unmaps == 2 && r->unmaps_ok == 1 && !r->batches ? NULL :
	       "not 2 MAPs and 2 UNMAPs, one of each ok, one at a time";
}

/* The front-end's RAM: one region of 4 pages at GPA 0. */
static const struct vu_mem_region fz_ram = { 0, 4 * PAGE, 0x7f1200000000ull, 0 };

/* share_set_mem_table_adds_the_view */
static void s_share_mem_table(struct enc *e)
{
	struct vu_memory mem = { .nregions = 1, .regions = { fz_ram } };

	config(e, FZ_CFG_SHARE, 0, 0, 0);
	session(e);
	msg(e, FZ_FE, VU_SET_MEM_TABLE, VU_FLAG_NEED_REPLY, &mem, 8 + 32,
	    fds(FZ_FD_MEMFD, 1));
	run(e);
	msg_u64(e, FZ_BE, VU_SET_MEM_TABLE, VU_FLAG_REPLY, 0);
	run(e);
	msg(e, FZ_FE, VU_SET_MEM_TABLE, 0, &mem, 8 + 32, fds(FZ_FD_MEMFD, 1));
	run(e);
}

static const char *c_share_mem_table(const struct fz_result *r)
{
	/* The back-end got 2 tables of 2 regions, each with both fds. */
	return r->end == PROXY_PEER_GONE && r->views == 1 &&
	       r->rx_bytes[FZ_BE] >= 2 * (12 + 8 + 2 * 32) && r->rx_fds[FZ_BE] >= 5 ?
	       NULL : "not one view, sent with each of 2 tables";
}

/* share_add_mem_reg_then_rem_on_reset */
static void s_share_add_mem_reg(struct enc *e)
{
	struct vu_mem_reg reg = { .region = fz_ram };

	config(e, FZ_CFG_SHARE, 0, 0, 0);
	negotiate(e, BIT(15) | BIT(3), BIT(15) | BIT(3));
	msg_u64(e, FZ_BE, VU_GET_MAX_MEM_SLOTS, VU_FLAG_REPLY, 8);
	run(e);
	get_u64_through(e, VU_GET_MAX_MEM_SLOTS, 8);
	/*
	 * The helper waits for the back-end's acks to its own ADD_MEM_REG and
	 * REM_MEM_REG within the round (REPLY_ACK): they are written first.
	 */
	for (int i = 0; i < 2; i++) {
		msg(e, FZ_FE, VU_ADD_MEM_REG, VU_FLAG_NEED_REPLY, &reg, sizeof(reg),
		    fds(FZ_FD_MEMFD, 1));
		msg_u64(e, FZ_BE, VU_ADD_MEM_REG, VU_FLAG_REPLY, 0);
		run(e);
		msg_u64(e, FZ_BE, VU_ADD_MEM_REG, VU_FLAG_REPLY, 0);
		run(e);
		msg_empty(e, FZ_FE, VU_RESET_DEVICE, 0);
		msg_u64(e, FZ_BE, VU_REM_MEM_REG, VU_FLAG_REPLY, 0);
		run(e);
	}
}

static const char *c_share_add_mem_reg(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->views == 1 && r->resets >= 2 &&
	       r->rx_fds[FZ_BE] >= 4 ? NULL :
	       "not one view, added twice and removed at each reset";
}

/* shmem_back_to_back_requests_batched (and the same without BATCH) */
static void back_to_back(struct enc *e, uint8_t flags, uint8_t batch_err)
{
	config(e, flags, 0, 0, batch_err);
	session(e);
	map(e, 0, 0, 2 * PAGE, VU_FLAG_NEED_REPLY);
	map(e, 0, PAGE, PAGE, VU_FLAG_NEED_REPLY);
	unmap(e, 0, 0, 2 * PAGE);
	map(e, 0, PAGE, PAGE, VU_FLAG_NEED_REPLY);
	run(e);
	get_u64_through(e, VU_GET_QUEUE_NUM, 42);
}

static void s_batched(struct enc *e)
{
	back_to_back(e, 0, 0);
}

static const char *c_batched(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->batches == 1 && r->maps_ok == 2 &&
	       r->unmaps_ok == 1 ? NULL : "not one BATCH of 4";
}

static void s_no_batch(struct enc *e)
{
	back_to_back(e, FZ_CFG_NO_BATCH, 0);
}

static const char *c_no_batch(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && !r->batches && r->maps == 3 && r->maps_ok == 2 &&
	       r->unmaps_ok == 1 ? NULL : "not 4 requests one by one";
}

/* shmem_batch_refused_every_request_fails */
static void s_batch_refused(struct enc *e)
{
	back_to_back(e, 0, 1);
}

static const char *c_batch_refused(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->batches == 1 && !r->maps ? NULL :
	       "not one refused BATCH";
}

/* shmem_200_pipelined_requests, 70 of them: more than one full stage */
static void s_pipelined(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	session(e);
	for (unsigned int i = 0; i < 35; i++) {
		map(e, 0, i * PAGE, PAGE, VU_FLAG_NEED_REPLY);
		unmap(e, 0, i * PAGE, PAGE);
	}
	run(e);
}

static const char *c_pipelined(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->batches == 2 && r->maps_ok == 35 &&
	       r->unmaps_ok == 35 && r->rx_bytes[FZ_BE_CHAN] == 70 * 20 ? NULL :
	       "not 70 requests in 2 batches, each answered";
}

/* shmem_map_without_need_reply_sends_nothing */
static void s_map_no_reply(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	session(e);
	map(e, 3, 0, PAGE, 0);
	run(e);
}

static const char *c_map_no_reply(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->maps_ok == 1 && !r->rx_bytes[FZ_BE_CHAN] ? NULL :
	       "the MAP did not run or was answered";
}

/* shmem_map_out_of_range_reply_1 */
static void s_map_out_of_range(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	session(e);
	map(e, 3, 2 * PAGE, 4 * PAGE, VU_FLAG_NEED_REPLY);
	run(e);
}

static const char *c_map_failed(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->maps == 1 && !r->maps_ok &&
	       r->rx_bytes[FZ_BE_CHAN] == 20 ? NULL : "the MAP did not fail at the device";
}

/* shmem_map_without_feature_refused */
static void s_map_without_feature(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	negotiate(e, BIT(5) | BIT(3), BIT(5) | BIT(3));
	msg(e, FZ_FE, VU_SET_BACKEND_REQ_FD, 0, NULL, 0, fds(FZ_FD_SOCKET, 1));
	run(e);
	map(e, 0, 0, PAGE, VU_FLAG_NEED_REPLY);
	run(e);
}

static const char *c_map_refused(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && !r->maps && r->rx_bytes[FZ_BE_CHAN] == 20 ? NULL :
	       "a MAP ran without F_SHMEM, or no reply";
}

/* reset_requests_reset_device */
static void s_resets(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	session(e);
	msg_empty(e, FZ_FE, VU_RESET_DEVICE, 0);
	msg_empty(e, FZ_FE, VU_RESET_OWNER, 0);
	msg_u64(e, FZ_FE, VU_SET_STATUS, 0, 0);
	msg_u64(e, FZ_FE, VU_SET_STATUS, 0, 7);
	run(e);
}

static const char *c_resets(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->resets == 4 ? NULL : "not 3 resets and the last";
}

/* sigterm_clean_shutdown */
static void s_sigterm(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	session(e);
	u8(e, op(FZ_SIGNAL, 0));
	run(e);
}

static const char *c_sigterm(const struct fz_result *r)
{
	return r->end == PROXY_TERMINATED && r->resets == 1 ? NULL : "not terminated";
}

/* death.peer_dies: stage 0..3, who 0..3, midmsg */
static void death(struct enc *e, int stage, unsigned int who, bool midmsg)
{
	config(e, 0, 0, 0, 0);
	if (stage >= 1)
		get_u64_through(e, VU_GET_FEATURES, BIT(30));
	if (stage >= 2)
		negotiate(e, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5) | BIT(3));
	if (stage >= 3)
		set_backend_req_fd(e);
	if (midmsg) {
		u8(e, op(FZ_BYTES, who));
		u16(e, VU_HDR_SIZE);
		u32(e, who == FZ_BE_CHAN ? VU_BE_VRING_CALL : VU_SET_VRING_NUM);
		u32(e, VU_VERSION);
		u32(e, 8);
		u8(e, 0);
		run(e);
	}
	u8(e, op(FZ_CLOSE, who));
	run(e);
}

static void s_death_fe_at_start(struct enc *e) { death(e, 0, FZ_FE, false); }
static void s_death_be_at_start(struct enc *e) { death(e, 0, FZ_BE, false); }
static void s_death_fe_after_features(struct enc *e) { death(e, 1, FZ_FE, false); }
static void s_death_be_after_negotiation(struct enc *e) { death(e, 2, FZ_BE, false); }
static void s_death_be_channel_closed(struct enc *e) { death(e, 3, FZ_BE_CHAN, false); }
static void s_death_fe_channel_closed(struct enc *e) { death(e, 3, FZ_FE_CHAN, false); }
static void s_death_fe_mid_message(struct enc *e) { death(e, 3, FZ_FE, true); }
static void s_death_be_chan_mid_message(struct enc *e) { death(e, 3, FZ_BE_CHAN, true); }

static const char *c_gone(const struct fz_result *r)
{
	return r->end == PROXY_PEER_GONE && r->resets == 1 ? NULL : "not a disconnect";
}

/* bad.rejected: one malformed message into a full session */
static void bad(struct enc *e, unsigned int side, uint32_t req, uint32_t flags,
		uint32_t size, uint16_t send, uint8_t fdspec, uint32_t word0)
{
	uint8_t payload[8 + 9 * 32] = { 0 };

	memcpy(payload, &word0, 4);
	if (req == VU_SET_CONFIG) {
		uint32_t inner = 200;

		memcpy(payload + 4, &inner, 4);
	}
	config(e, 0, 0, 0, 0);
	session(e);
	u8(e, op(FZ_SEND, side));
	u32(e, req);
	u32(e, flags);
	u32(e, size);
	u8(e, 0);
	u16(e, send);
	put(e, payload, send);
	u8(e, fdspec);
	run(e);
	if (send < size && size <= VU_MAX_PAYLOAD) {
		u8(e, op(FZ_CLOSE, side));
		run(e);
	}
}

static void s_bad_oversized(struct enc *e)
{
	bad(e, FZ_FE, VU_SET_MEM_TABLE, 1, 5000, 0, 0, 0);
}

static void s_bad_too_many_fds(struct enc *e)
{
	bad(e, FZ_FE, VU_SET_MEM_TABLE, 1, 8 + 9 * 32, 8 + 9 * 32, fds(FZ_FD_EVENTFD, 9), 9);
}

static void s_bad_unexpected_fd(struct enc *e)
{
	bad(e, FZ_FE, VU_SET_FEATURES, 1, 8, 8, fds(FZ_FD_EVENTFD, 1), 0);
}

static void s_bad_memtable_fds_mismatch(struct enc *e)
{
	bad(e, FZ_FE, VU_SET_MEM_TABLE, 1, 8 + 2 * 32, 8 + 2 * 32, fds(FZ_FD_MEMFD, 1), 2);
}

static void s_bad_config_size_lie(struct enc *e)
{
	bad(e, FZ_FE, VU_SET_CONFIG, 1, 20, 20, 0, 0);
}

static void s_bad_truncated_payload(struct enc *e)
{
	bad(e, FZ_FE, VU_SET_FEATURES, 1, 8, 4, 0, 0);
}

static void s_bad_version(struct enc *e)
{
	bad(e, FZ_FE, VU_GET_FEATURES, 2, 0, 0, 0, 0);
}

static void s_bad_unsolicited_protocol_features(struct enc *e)
{
	bad(e, FZ_BE, VU_GET_PROTOCOL_FEATURES, 5, 8, 8, 0, 0);
}

static void s_bad_map_two_fds(struct enc *e)
{
	bad(e, FZ_BE_CHAN, VU_BE_SHMEM_MAP, 9, 40, 40, fds(FZ_FD_MEMFD, 2), 0);
}

static void s_bad_unmap_with_fd(struct enc *e)
{
	bad(e, FZ_BE_CHAN, VU_BE_SHMEM_UNMAP, 9, 40, 40, fds(FZ_FD_EVENTFD, 1), 0);
}

static void s_bad_chan_oversized(struct enc *e)
{
	bad(e, FZ_BE_CHAN, VU_BE_SHMEM_MAP, 1, 0xffffffff, 0, 0, 0);
}

static void s_bad_fe_chan_request(struct enc *e)
{
	bad(e, FZ_FE_CHAN, VU_BE_VRING_CALL, 1, 8, 8, 0, 0);
}

/* stuck.backend_channel: UNMAPs of nothing, their replies never read */
static void s_stuck_backend_channel(struct enc *e)
{
	config(e, 0, 0, 0, 0);
	session(e);
	u8(e, op(FZ_DEAF, FZ_BE_CHAN | 4));
	for (unsigned int i = 0; i < 8; i++) {
		u8(e, op(FZ_REPEAT, 0));	/* 50 times */
		u8(e, 48);
		hdr(e, FZ_BE_CHAN, VU_BE_SHMEM_UNMAP, VU_FLAG_NEED_REPLY, VU_MMAP_SIZE);
		u8(e, FZ_PAYLOAD_SPARSE);
		u16(e, VU_MMAP_SIZE);
		u8(e, 0);
		u8(e, 0);
		run(e);
	}
}

/* stuck.frontend: the back-end's replies pile up (small buffers) */
static void s_stuck_frontend(struct enc *e)
{
	config(e, FZ_CFG_SMALL_BUF, 0, 0, 0);
	session(e);
	u8(e, op(FZ_DEAF, FZ_FE | 4));
	u8(e, op(FZ_REPEAT, 0));	/* 100 times */
	u8(e, 98);
	msg_u64(e, FZ_BE, VU_GET_QUEUE_NUM, VU_FLAG_REPLY, 7);
	run(e);
}

static const char *c_stuck(const struct fz_result *r)
{
	return r->end == PROXY_PEER_STUCK && r->resets == 1 ? NULL : "not stuck";
}

static const struct seed {
	const char *name;
	void (*build)(struct enc *e);
	const char *(*check)(const struct fz_result *r);
} seeds[] = {
	{ "share_set_mem_table_adds_the_view", s_share_mem_table, c_share_mem_table },
	{ "share_add_mem_reg_then_rem_on_reset", s_share_add_mem_reg,
	  c_share_add_mem_reg },
	{ "forward_full_negotiation", s_full_negotiation, c_full_negotiation },
	{ "forward_unknown_request_and_its_replies", s_forward_unknown, c_forward_unknown },
	{ "features_interposed_default_bit", s_features_default_bit, c_features_default_bit },
	{ "features_interposed_override_bit", s_features_override_bit, c_config_checked },
	{ "features_backend_without_shmem", s_features_no_shmem, c_gone_nothing_checked },
	{ "features_frontend_shmem_bit_not_passed_on", s_features_fe_shmem_bit, c_map_refused },
	{ "backend_channel_relay", s_chan_relay, c_protocol_error },
	{ "backend_channel_without_frontend_reply_ack", s_chan_no_reply_ack, c_chan_acked },
	{ "backend_channel_frontend_has_none", s_chan_fe_has_none, c_chan_refused },
	{ "backend_channel_replaced_old_one_unwatched", s_chan_replaced, c_chan_replaced },
	{ "shmem_config_relayed_2056_bytes", s_config_relayed, c_config_relayed },
	{ "shmem_config_mismatch_refused", s_config_mismatch, c_fatal },
	{ "shmem_config_short_reply_is_malformed", s_config_short, c_protocol_error },
	{ "shmem_config_deferred_until_device_configured", s_config_deferred, c_one_map },
	{ "shmem_staged_requests_dropped_when_refusing", s_staged_dropped, c_fatal },
	{ "shmem_map_unmap_reach_device", s_map_unmap, c_map_unmap },
	{ "shmem_back_to_back_requests_batched", s_batched, c_batched },
	{ "shmem_back_to_back_requests_no_batch_device", s_no_batch, c_no_batch },
	{ "shmem_batch_refused_every_request_fails", s_batch_refused, c_batch_refused },
	{ "shmem_70_pipelined_requests", s_pipelined, c_pipelined },
	{ "shmem_map_without_need_reply_sends_nothing", s_map_no_reply, c_map_no_reply },
	{ "shmem_map_out_of_range_reply_1", s_map_out_of_range, c_map_failed },
	{ "shmem_map_without_feature_refused", s_map_without_feature, c_map_refused },
	{ "reset_requests_reset_device", s_resets, c_resets },
	{ "sigterm_clean_shutdown", s_sigterm, c_sigterm },
	{ "death_fe_at_start", s_death_fe_at_start, c_gone },
	{ "death_be_at_start", s_death_be_at_start, c_gone },
	{ "death_fe_after_features", s_death_fe_after_features, c_gone },
	{ "death_be_after_negotiation", s_death_be_after_negotiation, c_gone },
	{ "death_be_channel_closed", s_death_be_channel_closed, c_gone },
	{ "death_fe_channel_closed", s_death_fe_channel_closed, c_gone },
	{ "death_fe_mid_message", s_death_fe_mid_message, c_protocol_error },
	{ "death_be_chan_mid_message", s_death_be_chan_mid_message, c_protocol_error },
	{ "bad_oversized", s_bad_oversized, c_protocol_error },
	{ "bad_too_many_fds", s_bad_too_many_fds, c_protocol_error },
	{ "bad_unexpected_fd", s_bad_unexpected_fd, c_protocol_error },
	{ "bad_memtable_fds_mismatch", s_bad_memtable_fds_mismatch, c_protocol_error },
	{ "bad_config_size_lie", s_bad_config_size_lie, c_protocol_error },
	{ "bad_truncated_payload", s_bad_truncated_payload, c_protocol_error },
	{ "bad_version", s_bad_version, c_protocol_error },
	{ "bad_unsolicited_protocol_features", s_bad_unsolicited_protocol_features,
	  c_protocol_error },
	{ "bad_map_two_fds", s_bad_map_two_fds, c_protocol_error },
	{ "bad_unmap_with_fd", s_bad_unmap_with_fd, c_protocol_error },
	{ "bad_chan_oversized", s_bad_chan_oversized, c_protocol_error },
	{ "bad_fe_chan_request", s_bad_fe_chan_request, c_protocol_error },
	{ "stuck_backend_channel", s_stuck_backend_channel, c_stuck },
	{ "stuck_frontend", s_stuck_frontend, c_stuck },
};

#define NSEEDS (sizeof(seeds) / sizeof(seeds[0]))

/* Builds and runs seed @i; NULL, or what is wrong with it. */
static const char *make_seed(unsigned int i, struct enc *e)
{
	struct fz_result r;

	memset(e, 0, sizeof(*e));
	seeds[i].build(e);
	fz_run(e->b, e->n, &r, getenv("HELPER_FUZZ_TRACE") != NULL);
	return seeds[i].check(&r);
}

static int write_file(const char *path, const struct enc *e)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(e->b, 1, e->n, f) != e->n || fclose(f)) {
		fprintf(stderr, "mkcorpus: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* 1 if @path holds exactly @e, 0 if not, -1 if it cannot be read. */
static int same_file(const char *path, const struct enc *e)
{
	uint8_t buf[SEED_MAX + 1];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return n == e->n && !memcmp(buf, e->b, n);
}

static bool is_seed(const char *name)
{
	for (unsigned int i = 0; i < NSEEDS; i++)
		if (!strcmp(seeds[i].name, name))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	bool check = argc == 3 && !strcmp(argv[1], "--check");
	const char *dir = argv[argc - 1];
	unsigned int bad = 0;
	struct enc *e = malloc(sizeof(*e));
	struct dirent *de;
	DIR *d;

	if (!e || argc != 2 + check) {
		fprintf(stderr, "usage: mkcorpus [--check] DIR\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (unsigned int i = 0; i < NSEEDS; i++) {
		const char *why = make_seed(i, e);
		char path[512];
		int same;

		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		if (why) {
			printf("# seed %s: %s\n", seeds[i].name, why);
			bad++;
			continue;
		}
		if (!check) {
			bad += write_file(path, e) != 0;
			continue;
		}
		same = same_file(path, e);
		if (same != 1) {
			printf("# seed %s: %s (make -C helper fuzz-corpus)\n", seeds[i].name,
			       same < 0 ? "missing" : "differs from what mkcorpus writes");
			bad++;
		}
	}
	d = opendir(dir);
	while (check && d && (de = readdir(d))) {
		if (de->d_name[0] != '.' && !is_seed(de->d_name)) {
			printf("# %s/%s: not a seed mkcorpus writes\n", dir, de->d_name);
			bad++;
		}
	}
	if (d)
		closedir(d);
	free(e);
	if (check) {
		printf("TAP version 13\n1..1\n%s 1 helper-fuzz-corpus: %zu seeds%s\n",
		       bad ? "not ok" : "ok", NSEEDS,
		       bad ? ": see above" : ", each reaches what its host test does");
	} else if (!bad) {
		printf("mkcorpus: %zu seeds in %s\n", NSEEDS, dir);
	}
	return bad ? 1 : 0;
}
