// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "proxy.h"
#include "sock.h"

enum { OWNER_FRONTEND, OWNER_HELPER };

#define BIT(n) (1ull << (n))

/* ---- small pieces ---------------------------------------------------- */

static void end_session(struct proxy *p, enum proxy_end why)
{
	if (p->end == PROXY_RUNNING)
		p->end = why;
}

static void protocol_error(struct proxy *p, const struct vu_conn *c,
			   const char *what, const struct vu_msg *m)
{
	log_err(p->log, "malformed message from %s: %s (request %" PRIu32
		", flags 0x%" PRIx32 ", size %" PRIu32 ", %u fds); closing the session",
		c->name, what, m->hdr.request, m->hdr.flags, m->hdr.size, m->nfds);
	end_session(p, PROXY_PROTOCOL_ERROR);
}

static int fifo_push(struct proxy_fifo *f, uint32_t req, uint8_t owner)
{
	unsigned int i;

	if (f->count == PROXY_PENDING_MAX)
		return -1;
	i = (f->head + f->count++) % PROXY_PENDING_MAX;
	f->req[i] = req;
	f->owner[i] = owner;
	return 0;
}

/* Pops the oldest entry if it is for @req; returns its owner or -1. */
static int fifo_pop(struct proxy_fifo *f, uint32_t req)
{
	int owner;

	if (!f->count || f->req[f->head] != req)
		return -1;
	owner = f->owner[f->head];
	f->head = (f->head + 1) % PROXY_PENDING_MAX;
	f->count--;
	return owner;
}

static void trace_msg(struct proxy *p, const char *dirstr, enum vu_dir dir,
		      const struct vu_msg *m)
{
	log_trace(p->log, "%s: %s (%" PRIu32 ") flags 0x%" PRIx32 " size %" PRIu32
		  " fds %u", dirstr, vu_request_name(dir, m->hdr.request),
		  m->hdr.request, m->hdr.flags, m->hdr.size, m->nfds);
}

static void on_signal(struct proxy *p)
{
	struct signalfd_siginfo si;

	if (read(p->sigfd, &si, sizeof(si)) == sizeof(si))
		log_info(p->log, "signal %u received: shutting down", si.ssi_signo);
	end_session(p, PROXY_TERMINATED);
}

/*
 * Sends within this round's limit (p->send_lim). Once the session is ending
 * (a send failed or timed out, a signal came, ...) nothing more is sent.
 */
static int send_to(struct proxy *p, struct vu_conn *to, const struct vu_hdr *hdr,
		   const void *payload, const int *fds, unsigned int nfds)
{
	const char *what = hdr->flags & VU_FLAG_REPLY ? "a reply" : "a request";
	char eb[32];
	int r;

	if (p->end != PROXY_RUNNING)
		return -ESHUTDOWN;
	if (to->fd < 0)
		return -ENOTCONN;
	r = vu_send_limited(to->fd, hdr, payload, fds, nfds, &p->send_lim);
	if (r == -ECANCELED) {
		on_signal(p);
	} else if (r == -ETIMEDOUT) {
		log_err(p->log, "sending %s to %s timed out: waited %d ms for it to read; "
			"closing the session", what, to->name, PROXY_SEND_TIMEOUT_MS);
		end_session(p, PROXY_PEER_STUCK);
	} else if (r) {
		log_err(p->log, "sending %s to %s failed: %s; closing the session",
			what, to->name, errno_name(-r, eb, sizeof(eb)));
		end_session(p, PROXY_PEER_GONE);
	}
	return r;
}

/* What vu_conn_recv() said of @c when it brought no message: the end. */
static void recv_failed(struct proxy *p, struct vu_conn *c, enum vu_rx rx,
			const char *why)
{
	if (rx == VU_RX_EOF) {
		log_info(p->log, "%s disconnected", c->name);
		end_session(p, PROXY_PEER_GONE);
	} else if (c->have == 0 && c->msg.nfds == 0 && !strcmp(why, "connection reset")) {
		log_info(p->log, "%s disconnected (%s)", c->name, why);
		end_session(p, PROXY_PEER_GONE);
	} else {
		protocol_error(p, c, why, &c->msg);
	}
}

static int forward(struct proxy *p, struct vu_conn *to, const struct vu_msg *m)
{
	return send_to(p, to, &m->hdr, m->payload.bytes, m->fds, m->nfds);
}

static void send_u64_reply(struct proxy *p, struct vu_conn *to, uint32_t req,
			   uint64_t val)
{
	struct vu_hdr h = { req, VU_VERSION | VU_FLAG_REPLY, sizeof(val) };

	send_to(p, to, &h, &val, NULL, 0);
}

static int watch(struct proxy *p, struct vu_conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	return epoll_ctl(p->epfd, EPOLL_CTL_ADD, c->fd, &ev) ? -errno : 0;
}

/*
 * Stops watching @c, then closes it. epoll tracks the open file description,
 * not the fd: a peer holding a dup of it would keep the registration alive
 * after close(), its events still pointing at @c.
 */
static void unwatch_close(struct proxy *p, struct vu_conn *c)
{
	if (c->fd >= 0 && p->epfd >= 0)
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	vu_conn_close(c);
}

static void device_reset(struct proxy *p, const char *why)
{
	char eb[32];
	int r;

	if (p->dev->fd < 0)
		return;
	r = p->dev->ops->reset(p->dev->ctx, p->dev->fd);
	if (r)
		log_warn(p->log, "device reset (%s) failed: %s", why,
			 errno_name(-r, eb, sizeof(eb)));
	else
		log_info(p->log, "device reset: %s", why);
}

/* ---- shared memory configuration check -------------------------------- */

/* 0: matches; 1: device not configured yet (check later); -1: refuse. */
static int check_config(struct proxy *p)
{
	struct vhost_shmem_config *cfg = &p->dev_cfg;
	char eb[32];
	int r;

	/* Without F_SHMEM nothing is mapped: the sizes do not matter. */
	if (!p->be_cfg_known || p->cfg_checked || !(p->be_acked & BIT(p->shmem_bit)))
		return 0;
	memset(cfg, 0, sizeof(*cfg));
	r = p->dev->ops->get_config(p->dev->ctx, p->dev->fd, cfg);
	if (r == -EBADFD) {
		log_info(p->log, "device not configured yet; checking the back-end's "
			 "shared memory regions at the first SHMEM request");
		return 1;
	}
	if (r) {
		log_err(p->log, "cannot read the device configuration "
			"(VHOST_SHMEM_GET_CONFIG): %s; is it a vhost-shmem device? "
			"refusing to serve", errno_name(-r, eb, sizeof(eb)));
		return -1;
	}
	for (unsigned int i = 0; i < VU_SHMEM_MAX_REGIONS; i++) {
		if (cfg->regions[i].size != p->be_sizes[i]) {
			log_err(p->log, "GET_SHMEM_CONFIG mismatch: shmid %u: back-end "
				"wants %" PRIu64 " bytes, device region has %llu; "
				"refusing to serve", i, p->be_sizes[i],
				(unsigned long long)cfg->regions[i].size);
			return -1;
		}
	}
	p->cfg_checked = true;
	log_info(p->log, "shared memory regions of back-end and device match");
	return 0;
}

/* ---- shared regions (--share-region) ------------------------------------ */

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * The back-end's memory-table entry of a share. userspace_addr is an
 * address in the front-end's address space: back-ends translate the
 * front-end's vring and log addresses with it, and may match REM_MEM_REG on
 * it; they never dereference it. The front-end has no address for a view,
 * so the entry gets a key that no front-end address can equal: bit 63 set
 * (never a user-space address on Linux) ORed with the GPA (unique: shares
 * do not overlap). mmap_offset is the region's offset in the view file: 0,
 * the view is of the whole region.
 */
static struct vu_mem_region share_region_desc(const struct proxy_share *s)
{
	return (struct vu_mem_region){
		.guest_phys_addr = s->opt.gpa, .memory_size = s->size,
		.userspace_addr = PROXY_SHARE_UADDR_BIT | s->opt.gpa,
		.mmap_offset = 0,
	};
}

static bool slots_mode(const struct proxy *p)
{
	return p->be_acked & BIT(VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS);
}

/*
 * Once per session: checks every --share-region against the device's
 * configuration (the shmid is a region; shares do not overlap) and gets a
 * view of each, read-write unless ",ro". Returns 0, or -1 with the session ended.
 */
static int share_prepare(struct proxy *p)
{
	struct vhost_shmem_config *cfg = &p->dev_cfg;
	const struct shmem_dev_ops *d = p->dev->ops;
	char eb[32];
	int r;

	if (!p->nshares || p->shares_ready)
		return 0;
	memset(cfg, 0, sizeof(*cfg));
	r = d->get_config(p->dev->ctx, p->dev->fd, cfg);
	if (r) {
		log_err(p->log, "--share-region: cannot read the device's regions "
			"(VHOST_SHMEM_GET_CONFIG): %s%s; refusing to serve",
			errno_name(-r, eb, sizeof(eb)),
			r == -EBADFD ? ", the device is not configured yet" : "");
		goto fatal;
	}
	for (unsigned int i = 0; i < p->nshares; i++) {
		struct proxy_share *s = &p->shares[i];

		s->size = s->opt.shmid < VHOST_SHMEM_MAX_REGIONS ?
			  cfg->regions[s->opt.shmid].size : 0;
		if (!s->size) {
			log_err(p->log, "--share-region %u@0x%" PRIx64 ": shmid %u is not a "
				"region of the device (GET_SHMEM_CONFIG: size 0): EBADSLT; "
				"refusing to serve", s->opt.shmid, s->opt.gpa, s->opt.shmid);
			goto fatal;
		}
		if (s->opt.gpa + s->size > PROXY_SHARE_UADDR_BIT) {
			log_err(p->log, "--share-region %u@0x%" PRIx64 ": the region (0x%"
				PRIx64 " bytes) ends beyond 2^63: ERANGE; refusing to serve",
				s->opt.shmid, s->opt.gpa, s->size);
			goto fatal;
		}
		for (unsigned int j = 0; j < i; j++) {
			const struct proxy_share *o = &p->shares[j];

			if (!ranges_overlap(s->opt.gpa, s->size, o->opt.gpa, o->size))
				continue;
			log_err(p->log, "--share-region %u@0x%" PRIx64 " (0x%" PRIx64
				" bytes) overlaps --share-region %u@0x%" PRIx64 " (0x%" PRIx64
				" bytes): EEXIST; refusing to serve", s->opt.shmid, s->opt.gpa,
				s->size, o->opt.shmid, o->opt.gpa, o->size);
			goto fatal;
		}
	}
	for (unsigned int i = 0; i < p->nshares; i++) {
		struct proxy_share *s = &p->shares[i];

		r = d->get_view ? d->get_view(p->dev->ctx, p->dev->fd, s->opt.shmid,
					      s->opt.ro ? 0 : VHOST_SHMEM_VIEW_F_RW) :
				  -EOPNOTSUPP;
		if (r < 0) {
			log_err(p->log, "--share-region %u@0x%" PRIx64 ": VHOST_SHMEM_GET_VIEW "
				"failed: %s (%s); refusing to serve", s->opt.shmid, s->opt.gpa,
				errno_name(-r, eb, sizeof(eb)), strerror(-r));
			goto fatal;
		}
		s->view_fd = r;
		log_info(p->log, "region %u (0x%" PRIx64 " bytes) shared with the back-end "
			 "at GPA 0x%" PRIx64 "%s", s->opt.shmid, s->size, s->opt.gpa,
			 s->opt.ro ? ", read-only" : "");
	}
	p->shares_ready = true;
	return 0;
fatal:
	end_session(p, PROXY_FATAL);
	return -1;
}

/* A front-end region must not overlap a share: -1 (session ended) if it does. */
static int share_check_fe_region(struct proxy *p, const struct vu_mem_region *r,
				 const char *req)
{
	for (unsigned int i = 0; i < p->nshares; i++) {
		const struct proxy_share *s = &p->shares[i];

		if (!ranges_overlap(r->guest_phys_addr, r->memory_size, s->opt.gpa, s->size))
			continue;
		log_err(p->log, "%s from the front-end: its region at GPA 0x%" PRIx64
			" (0x%" PRIx64 " bytes) overlaps --share-region %u@0x%" PRIx64
			" (0x%" PRIx64 " bytes): EEXIST; refusing to serve", req,
			r->guest_phys_addr, r->memory_size, s->opt.shmid, s->opt.gpa, s->size);
		end_session(p, PROXY_FATAL);
		return -1;
	}
	return 0;
}

static void fe_table_drop(struct proxy *p)
{
	for (unsigned int i = 0; p->fe_table_kept && i < p->fe_table.nregions; i++)
		close(p->fe_table_fds[i]);
	p->fe_table_kept = false;
}

/* Keeps the front-end's table @mem (fds @fds) for share_remove_all(). */
static void fe_table_keep(struct proxy *p, const struct vu_memory *mem, const int *fds)
{
	unsigned int i;

	fe_table_drop(p);
	for (i = 0; i < mem->nregions; i++) {
		p->fe_table_fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
		if (p->fe_table_fds[i] < 0)
			break;
	}
	if (i < mem->nregions) {
		log_warn(p->log, "cannot keep the front-end's memory table (%s): a reset "
			 "will leave the shared regions in the back-end's", strerror(errno));
		while (i--)
			close(p->fe_table_fds[i]);
		return;
	}
	p->fe_table = *mem;
	p->fe_table_kept = true;
}

/* The front-end's table plus one region per share, each with its view fd. */
static void on_set_mem_table(struct proxy *p, struct vu_msg *m)
{
	struct vu_memory *mem = &m->payload.mem;
	unsigned int n = mem->nregions;
	int fds[VU_MAX_FDS];

	if (!p->nshares) {
		forward(p, &p->be, m);
		return;
	}
	if (share_prepare(p))
		return;
	for (unsigned int i = 0; i < n; i++)
		if (share_check_fe_region(p, &mem->regions[i], "SET_MEM_TABLE"))
			return;
	if (n + p->nshares > VU_MEM_REGIONS_MAX) {
		log_err(p->log, "SET_MEM_TABLE from the front-end has %u region(s): no room "
			"for %u shared region(s), a table holds %u: ENOSPC; refusing to serve",
			n, p->nshares, VU_MEM_REGIONS_MAX);
		end_session(p, PROXY_FATAL);
		return;
	}
	memcpy(fds, m->fds, n * sizeof(fds[0]));
	if (!slots_mode(p))
		fe_table_keep(p, mem, m->fds);
	for (unsigned int i = 0; i < p->nshares; i++) {
		mem->regions[n + i] = share_region_desc(&p->shares[i]);
		fds[n + i] = p->shares[i].view_fd;
		p->shares[i].in_table = true;
	}
	mem->nregions = n + p->nshares;
	m->hdr.size = 8 + 32 * mem->nregions;
	log_trace(p->log, "SET_MEM_TABLE: %u front-end region(s) + %u shared", n,
		  p->nshares);
	send_to(p, &p->be, &m->hdr, m->payload.bytes, fds, mem->nregions);
}

static void on_be_reply(struct proxy *p, struct vu_msg *m);

/*
 * Waits for the back-end's REPLY_ACK to @req, a request the helper sent it
 * with NEED_REPLY (pend_main's newest entry, the helper's): at most as long
 * as a round's sends may wait (send_lim.timeout_ms, PROXY_SEND_TIMEOUT_MS
 * but in the fuzzer). Replies to earlier requests
 * that come first are handled as in the event loop. Returns 0 with the
 * ack's value in *@ack (0: done, else refused), or -1 with the session
 * ending (timeout, disconnect, malformed message, signal).
 */
static int await_ack(struct proxy *p, uint32_t req, uint64_t *ack)
{
	int64_t deadline = mono_ms() + p->send_lim.timeout_ms;
	struct vu_msg *m = &p->be.msg;
	const char *why = NULL;

	while (p->end == PROXY_RUNNING) {
		struct pollfd pf[2] = { { p->be.fd, POLLIN, 0 }, { p->sigfd, POLLIN, 0 } };
		enum vu_rx rx = vu_conn_recv(&p->be, &why);
		int64_t left = deadline - mono_ms();

		if (rx == VU_RX_EOF || rx == VU_RX_ERR) {
			recv_failed(p, &p->be, rx, why);
			break;
		}
		if (rx == VU_RX_AGAIN) {
			if (left <= 0) {
				log_err(p->log, "back-end did not answer %s within %d ms "
					"(REPLY_ACK); closing the session",
					vu_request_name(VU_DIR_FE_REQUEST, req),
					p->send_lim.timeout_ms);
				end_session(p, PROXY_PEER_STUCK);
				break;
			}
			if (poll(pf, 2, (int)left) > 0 && pf[1].revents)
				on_signal(p);
			continue;
		}
		trace_msg(p, "back-end -> helper", VU_DIR_BE_REPLY, m);
		why = vu_validate(VU_DIR_BE_REPLY, &m->hdr, m->payload.bytes, m->nfds);
		if (!why && m->hdr.request == req && p->pend_main.count == 1 &&
		    m->hdr.size != sizeof(*ack))
			why = "the REPLY_ACK is not 8 bytes";
		if (why) {
			protocol_error(p, &p->be, why, m);
			break;
		}
		/* Ours is the newest entry: its reply comes when the fifo has it alone. */
		if (m->hdr.request == req && p->pend_main.count == 1) {
			fifo_pop(&p->pend_main, req);
			*ack = m->payload.u64;
			vu_conn_next(&p->be);
			return 0;
		}
		on_be_reply(p, m);
		vu_conn_next(&p->be);
	}
	return -1;
}

/*
 * Sends the helper's ADD_MEM_REG or REM_MEM_REG of share @s (the view fd
 * with ADD_MEM_REG) and, when REPLY_ACK was negotiated with the back-end,
 * waits for its answer (await_ack()). Returns 0, or -1 with the session
 * ending: the send or the wait failed, or the back-end refused (logged).
 */
static int share_send(struct proxy *p, const struct proxy_share *s, uint32_t req)
{
	bool need = p->be_acked & BIT(VU_PROTOCOL_F_REPLY_ACK);
	struct vu_hdr h = { req, VU_VERSION | (need ? VU_FLAG_NEED_REPLY : 0),
			    sizeof(struct vu_mem_reg) };
	struct vu_mem_reg reg = { .region = share_region_desc(s) };
	bool add = req == VU_ADD_MEM_REG;
	uint64_t ack = 0;

	if (need && fifo_push(&p->pend_main, req, OWNER_HELPER)) {
		log_err(p->log, "too many requests waiting for the back-end's replies: "
			"cannot send %s; closing the session",
			vu_request_name(VU_DIR_FE_REQUEST, req));
		end_session(p, PROXY_FATAL);
		return -1;
	}
	if (send_to(p, &p->be, &h, &reg, add ? &s->view_fd : NULL, add))
		return -1;
	if (!need)
		return 0;
	if (await_ack(p, req, &ack))
		return -1;
	if (!ack)
		return 0;
	if (add)
		log_err(p->log, "back-end refused ADD_MEM_REG of region %u at GPA 0x%"
			PRIx64 " (REPLY_ACK 0x%" PRIx64 "): it cannot reach the region; "
			"refusing to serve", s->opt.shmid, s->opt.gpa, ack);
	else
		log_err(p->log, "back-end refused REM_MEM_REG of region %u at GPA 0x%"
			PRIx64 " (REPLY_ACK 0x%" PRIx64 "): the region may still be in its "
			"memory table; closing the session", s->opt.shmid, s->opt.gpa, ack);
	end_session(p, PROXY_FATAL);
	return -1;
}

/*
 * ADD_MEM_REG of every share not in the back-end's table yet, each
 * acknowledged before the next request when REPLY_ACK was negotiated
 * (share_send()). Returns 0 or -1 (session ending).
 */
static int share_add_all(struct proxy *p)
{
	for (unsigned int i = 0; i < p->nshares; i++) {
		struct proxy_share *s = &p->shares[i];

		if (s->in_table)
			continue;
		if (share_send(p, s, VU_ADD_MEM_REG))
			return -1;
		s->in_table = true;
		log_info(p->log, "region %u added to the back-end's memory table at GPA 0x%"
			 PRIx64 " (ADD_MEM_REG)", s->opt.shmid, s->opt.gpa);
	}
	return 0;
}

/*
 * On reset, the shares leave the back-end's table: without
 * CONFIGURE_MEM_SLOTS the front-end's last table is sent again alone
 * (without NEED_REPLY), the next SET_MEM_TABLE brings them back.
 */
static void share_remove_table(struct proxy *p)
{
	struct vu_hdr h = { VU_SET_MEM_TABLE, VU_VERSION, 8 + 32 * p->fe_table.nregions };
	bool any = false;

	for (unsigned int i = 0; i < p->nshares; i++)
		any |= p->shares[i].in_table;
	if (!any || !p->fe_table_kept)
		return;
	if (send_to(p, &p->be, &h, &p->fe_table, p->fe_table_fds, p->fe_table.nregions))
		return;
	for (unsigned int i = 0; i < p->nshares; i++)
		p->shares[i].in_table = false;
	log_info(p->log, "%u shared region(s) removed from the back-end's memory table "
		 "(SET_MEM_TABLE of the front-end's %u region(s))", p->nshares,
		 p->fe_table.nregions);
	fe_table_drop(p);
}

/*
 * On reset: REM_MEM_REG of every share the helper added (slots mode), each
 * acknowledged when REPLY_ACK was negotiated; a refusal ends the session
 * before the reset goes on.
 */
static void share_remove_all(struct proxy *p)
{
	if (!slots_mode(p)) {
		share_remove_table(p);
		return;
	}
	for (unsigned int i = 0; i < p->nshares; i++) {
		struct proxy_share *s = &p->shares[i];

		if (!s->in_table)
			continue;
		if (share_send(p, s, VU_REM_MEM_REG))
			return;
		s->in_table = false;
		log_info(p->log, "region %u removed from the back-end's memory table "
			 "(REM_MEM_REG)", s->opt.shmid);
	}
}

/*
 * With shares, the back-end's REPLY_ACKs to ADD_MEM_REG and REM_MEM_REG
 * are told apart by order: the front-end's requests that ask for one are
 * queued in pend_main like the helper's own.
 */
static bool memreg_acked(const struct proxy *p, uint32_t req)
{
	return p->nshares && (req == VU_ADD_MEM_REG || req == VU_REM_MEM_REG) &&
	       (p->be_acked & BIT(VU_PROTOCOL_F_REPLY_ACK));
}

/* A front-end's ADD_MEM_REG or REM_MEM_REG: forwarded, its ack awaited. */
static void forward_memreg(struct proxy *p, struct vu_msg *m)
{
	if (memreg_acked(p, m->hdr.request) && (m->hdr.flags & VU_FLAG_NEED_REPLY) &&
	    fifo_push(&p->pend_main, m->hdr.request, OWNER_FRONTEND)) {
		protocol_error(p, &p->fe, "too many outstanding requests", m);
		return;
	}
	forward(p, &p->be, m);
}

static void on_add_mem_reg(struct proxy *p, struct vu_msg *m)
{
	if (p->nshares && (share_prepare(p) ||
			   share_check_fe_region(p, &m->payload.memreg.region, "ADD_MEM_REG") ||
			   share_add_all(p)))
		return;
	forward_memreg(p, m);
}

/*
 * The back-end's GET_MAX_MEM_SLOTS: the shares take their slots, the
 * front-end is told the rest; no slot left for it is a refusal.
 */
static void on_max_mem_slots_reply(struct proxy *p, struct vu_msg *m, int owner)
{
	uint64_t max = m->payload.u64;

	p->be_max_slots = max;
	if (max < p->nshares + 1ull) {
		log_err(p->log, "back-end has %" PRIu64 " memory slot(s) (GET_MAX_MEM_SLOTS): "
			"no room for %u shared region(s) and the front-end's memory: "
			"ENOSPC; refusing to serve", max, p->nshares);
		end_session(p, PROXY_FATAL);
		return;
	}
	log_info(p->log, "back-end has %" PRIu64 " memory slots: %u for shared regions, %"
		 PRIu64 " for the front-end", max, p->nshares, max - p->nshares);
	if (owner == OWNER_FRONTEND) {
		m->payload.u64 = max - p->nshares;
		forward(p, &p->fe, m);
	}
}

int proxy_add_share(struct proxy *p, const struct proxy_share_opt *opt)
{
	if (p->nshares == PROXY_SHARES_MAX)
		return -ENOSPC;
	p->shares[p->nshares++] = (struct proxy_share){ .opt = *opt, .view_fd = -1 };
	return 0;
}

/* ---- front-end -> back-end (main channel) ------------------------------ */

static int open_backend_channel(struct proxy *p, const struct vu_hdr *hdr)
{
	int sp[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		return -errno;
	r = send_to(p, &p->be, hdr, NULL, &sp[1], 1);
	close(sp[1]);
	if (r) {
		close(sp[0]);
		return r;
	}
	vu_conn_init(&p->be_chan, sp[0], "back-end (backend channel)");
	r = watch(p, &p->be_chan);
	if (!r)
		log_info(p->log, "backend channel to the back-end established");
	return r;
}

/*
 * The back-end gets the front-end's bits plus BACKEND_REQ and REPLY_ACK if
 * it offered them, and F_SHMEM only if it offered it with BACKEND_REQ (the
 * channel SHMEM requests come on). F_SHMEM is the helper's: the front-end
 * never saw it offered, so its own bit is never passed on.
 */
static void on_set_protocol_features(struct proxy *p, struct vu_msg *m)
{
	const uint64_t shmem = BIT(p->shmem_bit);
	const uint64_t need = shmem | BIT(VU_PROTOCOL_F_BACKEND_REQ);
	uint64_t add = 0;

	p->fe_acked = m->payload.u64;
	if (!p->be_offered_known)
		log_warn(p->log, "SET_PROTOCOL_FEATURES before GET_PROTOCOL_FEATURES: "
			 "cannot add F_SHMEM");
	else
		add = (need | BIT(VU_PROTOCOL_F_REPLY_ACK)) & p->be_offered;
	if (p->be_offered_known && (add & need) != need)
		log_warn(p->log, "back-end does not offer both F_SHMEM (bit %u) and "
			 "BACKEND_REQ (bit 5): SHMEM_MAP/UNMAP will not be served",
			 p->shmem_bit);
	if ((add & need) != need)
		add &= ~shmem;
	if (p->fe_acked & shmem & ~add)
		log_warn(p->log, "front-end set F_SHMEM (bit %u) itself: not passed on, "
			 "the helper does not negotiate it with this back-end",
			 p->shmem_bit);
	p->be_acked = (p->fe_acked & ~shmem) | add;
	if (p->nshares && (p->be_acked & BIT(VU_PROTOCOL_F_PAGEFAULT))) {
		log_warn(p->log, "front-end set PAGEFAULT (bit 8), never offered to it "
			 "with --share-region: not passed on");
		p->be_acked &= ~BIT(VU_PROTOCOL_F_PAGEFAULT);
	}
	m->payload.u64 = p->be_acked;
	log_info(p->log, "protocol features: front-end 0x%" PRIx64 ", back-end 0x%"
		 PRIx64, p->fe_acked, p->be_acked);
	if (forward(p, &p->be, m))
		return;

	if ((p->be_acked & BIT(VU_PROTOCOL_F_BACKEND_REQ)) &&
	    !(p->fe_acked & BIT(VU_PROTOCOL_F_BACKEND_REQ)) && p->be_chan.fd < 0) {
		struct vu_hdr h = { VU_SET_BACKEND_REQ_FD, VU_VERSION, 0 };

		log_trace(p->log, "helper -> back-end: SET_BACKEND_REQ_FD (21): the "
			  "front-end did not negotiate BACKEND_REQ");
		if (open_backend_channel(p, &h) && p->end == PROXY_RUNNING) {
			log_err(p->log, "cannot create the backend channel");
			end_session(p, PROXY_FATAL);
		}
	}
	if (p->nshares && slots_mode(p)) {
		struct vu_hdr h = { VU_GET_MAX_MEM_SLOTS, VU_VERSION, 0 };

		if (fifo_push(&p->pend_main, VU_GET_MAX_MEM_SLOTS, OWNER_HELPER)) {
			protocol_error(p, &p->fe, "too many outstanding requests", m);
			return;
		}
		log_trace(p->log, "helper -> back-end: GET_MAX_MEM_SLOTS (36), room for "
			  "the shared regions");
		if (send_to(p, &p->be, &h, NULL, NULL, 0))
			return;
	}
	if (p->be_acked & shmem) {
		struct vu_hdr h = { VU_GET_SHMEM_CONFIG, VU_VERSION, 0 };

		if (fifo_push(&p->pend_main, VU_GET_SHMEM_CONFIG, OWNER_HELPER)) {
			protocol_error(p, &p->fe, "too many outstanding requests", m);
			return;
		}
		log_trace(p->log, "helper -> back-end: GET_SHMEM_CONFIG (44), to check "
			  "the regions against the device");
		send_to(p, &p->be, &h, NULL, NULL, 0);
	}
}

/* The inode of socket @fd, 0 for none. */
static unsigned long sock_ino(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

/*
 * A backend channel from the front-end must be a unix socket whose other
 * end is not one the helper holds: handed one of our own sockets' peers
 * (the back-end's end of our backend channel, say, passed on to the
 * front-end), the helper would relay each backend request to itself, at
 * full CPU, forever. The kernel's unix_diag names the peer; a kernel
 * without it cannot be asked, and the channel is then taken on trust.
 * Returns 0 or the reason for refusing it.
 */
static const char *check_fe_channel(struct proxy *p, int fd)
{
	const struct vu_conn *own[] = { &p->fe, &p->be, &p->fe_chan, &p->be_chan };
	unsigned long me = sock_ino(fd);
	long peer = unix_peer_ino(fd);

	if (peer == -ENOTSOCK)
		return "it is not a unix socket";
	if (peer < 0) {
		log_info(p->log, "cannot check the front-end's backend channel "
			  "(unix_diag: %s); taking it on trust", strerror((int)-peer));
		return NULL;
	}
	if (peer == 0)
		return "it is not connected";
	for (unsigned int i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		unsigned long ino = sock_ino(own[i]->fd);

		if (ino && (ino == (unsigned long)peer || ino == me))
			return "its other end is the helper's own socket";
	}
	return NULL;
}

static void on_set_backend_req_fd(struct proxy *p, struct vu_msg *m)
{
	int fd = m->fds[0];
	const char *why;

	m->nfds = 0;	/* the fd is ours now */
	why = check_fe_channel(p, fd);
	if (why) {
		log_err(p->log, "front-end's backend channel refused: %s", why);
		close(fd);
		if (m->hdr.flags & VU_FLAG_NEED_REPLY)
			send_u64_reply(p, &p->fe, VU_SET_BACKEND_REQ_FD, 1);
		return;
	}
	if (p->fe_chan.fd >= 0) {
		log_warn(p->log, "front-end replaced its backend channel");
		unwatch_close(p, &p->fe_chan);
	}
	vu_conn_init(&p->fe_chan, fd, "front-end (backend channel)");
	if (watch(p, &p->fe_chan)) {
		log_err(p->log, "cannot watch the front-end's backend channel");
		end_session(p, PROXY_FATAL);
		return;
	}
	if (p->be_chan.fd < 0) {
		if (open_backend_channel(p, &m->hdr) && p->end == PROXY_RUNNING) {
			log_err(p->log, "cannot create the backend channel");
			end_session(p, PROXY_FATAL);
		}
		return;
	}
	/* Our channel to the back-end exists already: answer ourselves. */
	if (m->hdr.flags & VU_FLAG_NEED_REPLY)
		send_u64_reply(p, &p->fe, VU_SET_BACKEND_REQ_FD, 0);
}

static void on_fe_request(struct proxy *p, struct vu_msg *m)
{
	uint32_t req = m->hdr.request;

	switch (req) {
	case VU_GET_PROTOCOL_FEATURES:
	case VU_GET_SHMEM_CONFIG:
		if (fifo_push(&p->pend_main, req, OWNER_FRONTEND)) {
			protocol_error(p, &p->fe, "too many outstanding requests", m);
			return;
		}
		break;
	case VU_SET_PROTOCOL_FEATURES:
		on_set_protocol_features(p, m);
		return;
	case VU_GET_MAX_MEM_SLOTS:
		if (p->nshares && fifo_push(&p->pend_main, req, OWNER_FRONTEND)) {
			protocol_error(p, &p->fe, "too many outstanding requests", m);
			return;
		}
		break;
	case VU_SET_BACKEND_REQ_FD:
		on_set_backend_req_fd(p, m);
		return;
	case VU_SET_MEM_TABLE:
		on_set_mem_table(p, m);
		return;
	case VU_ADD_MEM_REG:
		on_add_mem_reg(p, m);
		return;
	case VU_REM_MEM_REG:
		forward_memreg(p, m);
		return;
	case VU_RESET_OWNER:
		device_reset(p, "RESET_OWNER from the front-end");
		share_remove_all(p);
		break;
	case VU_RESET_DEVICE:
		device_reset(p, "RESET_DEVICE from the front-end");
		share_remove_all(p);
		break;
	case VU_SET_STATUS:
		if (m->payload.u64 == 0) {
			device_reset(p, "SET_STATUS 0 from the front-end");
			share_remove_all(p);
		}
		break;
	}
	forward(p, &p->be, m);
}

/* ---- back-end -> front-end (main channel replies) ---------------------- */

static void on_shmem_config_reply(struct proxy *p, struct vu_msg *m, int owner)
{
	const struct vu_shmem_config *c = &m->payload.shmem;
	unsigned int n = 0;

	if (m->hdr.size != VU_SHMEM_CONFIG_SIZE) {
		protocol_error(p, &p->be, "GET_SHMEM_CONFIG reply is not 2056 bytes", m);
		return;
	}
	for (unsigned int i = 0; i < VU_SHMEM_MAX_REGIONS; i++)
		n += c->memory_sizes[i] != 0;
	if (n != c->nregions) {
		protocol_error(p, &p->be, "GET_SHMEM_CONFIG nregions does not count "
			       "the non-zero sizes", m);
		return;
	}
	if (p->be_cfg_known && memcmp(p->be_sizes, c->memory_sizes, sizeof(p->be_sizes))) {
		log_err(p->log, "back-end changed its shared memory configuration "
			"during the connection; refusing to serve");
		end_session(p, PROXY_FATAL);
		return;
	}
	memcpy(p->be_sizes, c->memory_sizes, sizeof(p->be_sizes));
	p->be_cfg_known = true;
	log_info(p->log, "back-end has %u shared memory region(s)", n);
	if (check_config(p) < 0) {
		end_session(p, PROXY_FATAL);
		return;
	}
	/* The device's regions are known: check --share-region now. */
	if (p->cfg_checked && share_prepare(p))
		return;
	if (owner == OWNER_FRONTEND)
		forward(p, &p->fe, m);
}

static void on_be_reply(struct proxy *p, struct vu_msg *m)
{
	uint32_t req = m->hdr.request;
	int owner;

	if (req != VU_GET_PROTOCOL_FEATURES && req != VU_GET_SHMEM_CONFIG &&
	    !(req == VU_GET_MAX_MEM_SLOTS && p->nshares) && !memreg_acked(p, req)) {
		forward(p, &p->fe, m);
		return;
	}
	owner = fifo_pop(&p->pend_main, req);
	if (owner < 0) {
		protocol_error(p, &p->be, "reply to a request that was not sent", m);
		return;
	}
	/* The helper's own acks are taken by await_ack(), never here. */
	if (memreg_acked(p, req)) {
		if (owner == OWNER_FRONTEND)
			forward(p, &p->fe, m);
		else
			protocol_error(p, &p->be, "reply to the helper's request out of turn", m);
		return;
	}
	if (req == VU_GET_MAX_MEM_SLOTS) {
		on_max_mem_slots_reply(p, m, owner);
		return;
	}
	if (req == VU_GET_SHMEM_CONFIG) {
		on_shmem_config_reply(p, m, owner);
		return;
	}
	p->be_offered = m->payload.u64;
	p->be_offered_known = true;
	log_info(p->log, "back-end offers protocol features 0x%" PRIx64
		 " (F_SHMEM bit %u: %s)", p->be_offered, p->shmem_bit,
		 p->be_offered & BIT(p->shmem_bit) ? "yes" : "no");
	/* The helper serves SHMEM: the front-end does not see F_SHMEM. */
	m->payload.u64 &= ~BIT(p->shmem_bit);
	/*
	 * Postcopy: the back-end would register the shared regions' views
	 * with userfaultfd and answer SET_MEM_TABLE with their addresses,
	 * which the front-end never gave. Not offered: the front-end then
	 * refuses a postcopy migration up front.
	 */
	if (p->nshares && (m->payload.u64 & BIT(VU_PROTOCOL_F_PAGEFAULT))) {
		m->payload.u64 &= ~BIT(VU_PROTOCOL_F_PAGEFAULT);
		log_info(p->log, "postcopy (PAGEFAULT, bit 8) not offered to the "
			 "front-end: not possible with --share-region");
	}
	forward(p, &p->fe, m);
}

/* ---- back-end -> front-end (backend channel requests) ------------------ */

static void log_shmem_failure(struct proxy *p, const char *what, int err,
			      const struct vu_mmap *mm)
{
	char eb[32];

	log_err(p->log, "%s failed: %s (%s): shmid=%u fd_offset=0x%" PRIx64
		" shm_offset=0x%" PRIx64 " len=0x%" PRIx64 " flags=0x%" PRIx64,
		what, errno_name(err, eb, sizeof(eb)), strerror(err), mm->shmid,
		mm->fd_offset, mm->shm_offset, mm->len, mm->flags);
}

static const char *shmem_name(uint32_t request)
{
	return request == VU_BE_SHMEM_MAP ? "SHMEM_MAP" : "SHMEM_UNMAP";
}

static void staged_close_fd(struct proxy_staged *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
}

/* Closes the fd, logs the result and answers if asked. */
static void finish_shmem(struct proxy *p, struct proxy_staged *st, int r)
{
	const struct vu_mmap *mm = &st->mm;

	staged_close_fd(st);
	if (r)
		log_shmem_failure(p, shmem_name(st->request), -r, mm);
	else
		log_trace(p->log, "%s ok: shmid=%u fd_offset=0x%" PRIx64 " shm_offset=0x%"
			  PRIx64 " len=0x%" PRIx64 " flags=0x%" PRIx64,
			  shmem_name(st->request), mm->shmid, mm->fd_offset,
			  mm->shm_offset, mm->len, mm->flags);
	if (st->flags & VU_FLAG_NEED_REPLY)
		send_u64_reply(p, &p->be_chan, st->request, r ? 1 : 0);
}

static struct vhost_shmem_op staged_op(const struct proxy_staged *st)
{
	const struct vu_mmap *mm = &st->mm;
	struct vhost_shmem_op op = { .op = VHOST_SHMEM_OP_UNMAP };

	if (st->request == VU_BE_SHMEM_MAP) {
		op.op = VHOST_SHMEM_OP_MAP;
		op.map = (struct vhost_shmem_map){
			.shmid = mm->shmid, .fd = st->fd,
			.fd_offset = mm->fd_offset, .shm_offset = mm->shm_offset,
			.len = mm->len, .flags = mm->flags,
		};
	} else {
		op.unmap = (struct vhost_shmem_unmap){
			.shmid = mm->shmid, .shm_offset = mm->shm_offset, .len = mm->len,
		};
	}
	return op;
}

/*
 * Runs the staged requests in order: one ioctl each, or one
 * VHOST_SHMEM_BATCH for several (one hand-off to the device's worker), and
 * answers each as if it had run alone. Once the session is ending (refusal,
 * malformed message, ...) none of them runs and none is answered.
 */
static void flush_shmem(struct proxy *p)
{
	struct vhost_shmem_op ops[VHOST_SHMEM_BATCH_MAX];
	const struct shmem_dev_ops *d = p->dev->ops;
	unsigned int i, n = p->nstaged;
	int r = 0;

	if (!n)
		return;
	p->nstaged = 0;
	if (p->end != PROXY_RUNNING) {
		for (i = 0; i < n; i++)
			staged_close_fd(&p->staged[i]);
		log_warn(p->log, "%u waiting SHMEM request(s) not run: the session is "
			 "ending", n);
		return;
	}
	for (i = 0; i < n; i++)
		ops[i] = staged_op(&p->staged[i]);
	if (n > 1 && d->batch) {
		log_trace(p->log, "%u SHMEM requests in one VHOST_SHMEM_BATCH", n);
		r = d->batch(p->dev->ctx, p->dev->fd, ops, n);
		for (i = 0; r && i < n; i++)
			ops[i].result = r;	/* refused as a whole */
	} else {
		for (i = 0; i < n; i++)
			ops[i].result = ops[i].op == VHOST_SHMEM_OP_MAP ?
				d->map(p->dev->ctx, p->dev->fd, &ops[i].map) :
				d->unmap(p->dev->ctx, p->dev->fd, &ops[i].unmap);
	}
	for (i = 0; i < n; i++)
		finish_shmem(p, &p->staged[i], ops[i].result);
}

/* Checks a SHMEM request and stages it; on_readable() runs the stage. */
static void on_shmem(struct proxy *p, struct vu_msg *m)
{
	struct proxy_staged st = {
		.request = m->hdr.request, .flags = m->hdr.flags,
		.mm = m->payload.mmap, .fd = -1,
	};

	if (!(p->be_acked & BIT(p->shmem_bit))) {
		log_err(p->log, "%s although F_SHMEM was not negotiated",
			shmem_name(st.request));
		vu_msg_close_fds(m);
		flush_shmem(p);
		finish_shmem(p, &st, -EPROTO);
		return;
	}
	if (check_config(p) < 0) {
		vu_msg_close_fds(m);
		end_session(p, PROXY_FATAL);
		return;
	}
	if (st.request == VU_BE_SHMEM_MAP && m->nfds) {
		st.fd = m->fds[0];	/* the stage owns it now */
		m->nfds = 0;
	}
	vu_msg_close_fds(m);
	p->staged[p->nstaged++] = st;
	if (p->nstaged == VHOST_SHMEM_BATCH_MAX)
		flush_shmem(p);
}

static void on_be_chan_request(struct proxy *p, struct vu_msg *m)
{
	uint32_t req = m->hdr.request;
	bool need = m->hdr.flags & VU_FLAG_NEED_REPLY;

	if (req == VU_BE_SHMEM_MAP || req == VU_BE_SHMEM_UNMAP) {
		on_shmem(p, m);
		return;
	}
	flush_shmem(p);		/* requests are answered in order */
	if (p->fe_chan.fd < 0 || !(p->fe_acked & BIT(VU_PROTOCOL_F_BACKEND_REQ))) {
		log_warn(p->log, "front-end has no backend channel: %s dropped",
			 vu_request_name(VU_DIR_BE_REQUEST, req));
		if (need)
			send_u64_reply(p, &p->be_chan, req, 1);
		return;
	}
	if (need && (p->fe_acked & BIT(VU_PROTOCOL_F_REPLY_ACK))) {
		if (fifo_push(&p->pend_chan, req, OWNER_FRONTEND)) {
			protocol_error(p, &p->be_chan, "too many outstanding requests", m);
			return;
		}
		forward(p, &p->fe_chan, m);
		return;
	}
	/* The front-end did not negotiate REPLY_ACK: it will not answer. */
	m->hdr.flags &= ~VU_FLAG_NEED_REPLY;
	if (forward(p, &p->fe_chan, m) == 0 && need)
		send_u64_reply(p, &p->be_chan, req, 0);
}

static void on_fe_chan_reply(struct proxy *p, struct vu_msg *m)
{
	if (fifo_pop(&p->pend_chan, m->hdr.request) < 0) {
		protocol_error(p, &p->fe_chan, "reply to a request that was not sent", m);
		return;
	}
	forward(p, &p->be_chan, m);
}

/* ---- event loop ---------------------------------------------------------- */

static void on_readable(struct proxy *p, struct vu_conn *c)
{
	static const struct {
		enum vu_dir dir;
		const char *trace;
	} kinds[] = {
		{ VU_DIR_FE_REQUEST, "front-end -> back-end" },
		{ VU_DIR_BE_REPLY, "back-end -> front-end" },
		{ VU_DIR_BE_REQUEST, "back-end -> front-end (backend channel)" },
		{ VU_DIR_FE_REPLY, "front-end -> back-end (backend channel)" },
	};
	unsigned int k = c == &p->fe ? 0 : c == &p->be ? 1 : c == &p->be_chan ? 2 : 3;
	const char *why = NULL;
	struct vu_msg *m = &c->msg;

	/*
	 * SHMEM requests of the backend channel are staged: keep reading while
	 * more are already waiting, then run them as one batch (flush_shmem).
	 */
	do {
		enum vu_rx rx;

		if (c->fd < 0)
			break;	/* closed earlier in this batch of events */
		rx = vu_conn_recv(c, &why);
		if (rx != VU_RX_MSG)
			flush_shmem(p);
		switch (rx) {
		case VU_RX_AGAIN:
			return;
		case VU_RX_EOF:
		case VU_RX_ERR:
			recv_failed(p, c, rx, why);
			return;
		case VU_RX_MSG:
			break;
		}
		trace_msg(p, kinds[k].trace, kinds[k].dir, m);
		why = vu_validate(kinds[k].dir, &m->hdr, m->payload.bytes, m->nfds);
		if (why) {
			flush_shmem(p);
			protocol_error(p, c, why, m);
		} else if (k == 0) {
			on_fe_request(p, m);
		} else if (k == 1) {
			on_be_reply(p, m);
		} else if (k == 2) {
			on_be_chan_request(p, m);
		} else {
			on_fe_chan_reply(p, m);
		}
		vu_conn_next(c);
	} while (p->nstaged && p->end == PROXY_RUNNING);
	flush_shmem(p);
}

int proxy_init(struct proxy *p, struct hlog *log, struct shmem_dev *dev,
	       unsigned int shmem_bit, int fe_fd, int be_fd, int sigfd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	memset(p, 0, sizeof(*p));
	p->log = log;
	p->dev = dev;
	p->shmem_bit = shmem_bit;
	p->sigfd = sigfd;
	p->send_lim = (struct vu_send_limit){
		.timeout_ms = PROXY_SEND_TIMEOUT_MS, .stop_fd = sigfd,
	};
	vu_conn_init(&p->fe, fe_fd, "front-end");
	vu_conn_init(&p->be, be_fd, "back-end");
	vu_conn_init(&p->fe_chan, -1, "front-end (backend channel)");
	vu_conn_init(&p->be_chan, -1, "back-end (backend channel)");
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0)
		return -errno;
	if (watch(p, &p->fe) || watch(p, &p->be) ||
	    (sigfd >= 0 && epoll_ctl(p->epfd, EPOLL_CTL_ADD, sigfd, &ev)))
		return -errno;
	return 0;
}

static const char *end_reason(enum proxy_end e)
{
	switch (e) {
	case PROXY_PEER_GONE: return "peer disconnected";
	case PROXY_PEER_STUCK: return "a peer stopped reading";
	case PROXY_TERMINATED: return "shutdown requested";
	case PROXY_PROTOCOL_ERROR: return "malformed message";
	case PROXY_FATAL: return "refusing to serve";
	default: return "session ended";
	}
}

int proxy_step(struct proxy *p, int timeout_ms)
{
	struct epoll_event evs[8];
	int n;

	if (p->end != PROXY_RUNNING)
		return -1;
	n = epoll_wait(p->epfd, evs, 8, timeout_ms);
	if (n < 0 && errno != EINTR) {
		log_err(p->log, "epoll_wait: %s", strerror(errno));
		end_session(p, PROXY_FATAL);
	}
	p->send_lim.deadline_ms = 0;	/* a new round */
	for (int i = 0; i < n && p->end == PROXY_RUNNING; i++) {
		if (evs[i].data.ptr == NULL)
			on_signal(p);
		else
			on_readable(p, evs[i].data.ptr);
	}
	return n < 0 ? 0 : n;
}

enum proxy_end proxy_finish(struct proxy *p)
{
	device_reset(p, end_reason(p->end));
	unwatch_close(p, &p->fe);
	unwatch_close(p, &p->be);
	unwatch_close(p, &p->fe_chan);
	unwatch_close(p, &p->be_chan);
	fe_table_drop(p);
	for (unsigned int i = 0; i < p->nshares; i++) {
		if (p->shares[i].view_fd >= 0)
			close(p->shares[i].view_fd);
		p->shares[i].view_fd = -1;
		p->shares[i].in_table = false;
	}
	close(p->epfd);
	p->epfd = -1;
	return p->end;
}

enum proxy_end proxy_run(struct proxy *p)
{
	while (proxy_step(p, -1) >= 0)
		;
	return proxy_finish(p);
}
