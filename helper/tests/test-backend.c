// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-user-test-backend: a minimal vhost-user back-end playing a device
 * with VIRTIO Shared Memory Regions, for tests and the demo.
 *
 *   vhost-user-test-backend (--listen PATH | --fd N) [--region SHMID:SIZE]...
 *                           [--shmem-feature-bit N] [--no-shmem] [--mem-slots]
 *                           [--max-mem-slots N] [--quiet]
 *
 * Answers the front-end (GET_FEATURES, GET_PROTOCOL_FEATURES,
 * GET_SHMEM_CONFIG, ...; REPLY_ACK when asked) and executes commands read
 * from stdin, one per line, printing one result line per command on stdout:
 *   map SHMID SHM_OFFSET LEN ro|rw TEXT  memfd of LEN bytes filled with TEXT
 *                                        -> "map reply N"
 *   unmap SHMID SHM_OFFSET LEN           -> "unmap reply N"
 *   config-change                        -> "config-change reply N"
 *   wait-channel                         -> "channel ready" (blocks until then)
 *   read GPA                             -> "read reply N": the u32 at GPA
 *                                        through the memory table, -1 if no
 *                                        region holds it
 *   regions                              -> "regions reply N": regions in the
 *                                        memory table
 *   quit                                 exit 0
 * The memory table (SET_MEM_TABLE; ADD_MEM_REG and REM_MEM_REG, offered
 * as CONFIGURE_MEM_SLOTS with --mem-slots) is mapped as libvhost-user
 * does: memory_size + mmap_offset bytes of each fd from offset 0.
 * GET_MAX_MEM_SLOTS answers --max-mem-slots (default 8).
 * Commands that need the backend channel wait for it. The process exits
 * when the front-end side disconnects, with status 0.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sock.h"
#include "vu_client.h"

#define BE_MEM_MAX 16

/* One region of the memory table, mapped. */
struct be_mem {
	struct vu_mem_region r;
	uint8_t *base;		/* the mapping: r.mmap_offset + r.memory_size bytes */
};

struct backend {
	int sock;		/* main channel */
	int chan;		/* backend channel, -1 until SET_BACKEND_REQ_FD */
	unsigned int shmem_bit;
	bool shmem;
	bool quiet;
	bool mem_slots;		/* offer CONFIGURE_MEM_SLOTS */
	uint64_t max_slots;
	struct be_mem mem[BE_MEM_MAX];
	unsigned int nmem;
	uint64_t acked;
	struct vu_shmem_config cfg;
	struct vu_msg msg;
};

static void reply(struct backend *b, const struct vu_msg *m, const void *p,
		  uint32_t size)
{
	vuc_send(b->sock, m->hdr.request, VU_FLAG_REPLY, p, size, NULL, 0);
}

static void mem_drop(struct backend *b, unsigned int i)
{
	munmap(b->mem[i].base, b->mem[i].r.memory_size + b->mem[i].r.mmap_offset);
	b->mem[i] = b->mem[--b->nmem];
}

/* Maps region @r of @fd into the table; 0 or -1. */
static int mem_add(struct backend *b, const struct vu_mem_region *r, int fd)
{
	size_t len = r->memory_size + r->mmap_offset;
	void *p;

	if (b->nmem == BE_MEM_MAX || !r->memory_size)
		return -1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		if (!b->quiet)
			fprintf(stderr, "test-backend: mmap of a region: %s\n", strerror(errno));
		return -1;
	}
	b->mem[b->nmem].r = *r;
	b->mem[b->nmem++].base = p;
	return 0;
}

/* The memory-table messages; returns the u64 of the reply. */
static uint64_t mem_message(struct backend *b, struct vu_msg *m)
{
	const struct vu_mem_region *r = &m->payload.memreg.region;
	uint64_t ret = 0;

	switch (m->hdr.request) {
	case VU_SET_MEM_TABLE:
		while (b->nmem)
			mem_drop(b, 0);
		for (unsigned int i = 0; i < m->payload.mem.nregions && i < m->nfds; i++)
			if (mem_add(b, &m->payload.mem.regions[i], m->fds[i]))
				ret = 1;
		break;
	case VU_ADD_MEM_REG:
		ret = m->nfds == 1 && !mem_add(b, r, m->fds[0]) ? 0 : 1;
		break;
	case VU_REM_MEM_REG:
		ret = 1;
		for (unsigned int i = 0; i < b->nmem; i++) {
			if (b->mem[i].r.guest_phys_addr == r->guest_phys_addr &&
			    b->mem[i].r.memory_size == r->memory_size) {
				mem_drop(b, i);
				ret = 0;
				break;
			}
		}
		break;
	}
	return ret;
}

/* The u32 at @gpa through the memory table, or -1. */
static long long mem_read(const struct backend *b, uint64_t gpa)
{
	for (unsigned int i = 0; i < b->nmem; i++) {
		const struct be_mem *e = &b->mem[i];
		uint32_t v;

		if (gpa < e->r.guest_phys_addr || gpa - e->r.guest_phys_addr + 4 >
		    e->r.memory_size)
			continue;
		memcpy(&v, e->base + e->r.mmap_offset + (gpa - e->r.guest_phys_addr), 4);
		return v;
	}
	return -1;
}

/* Handles one message on the main channel; -1 when the peer is gone. */
static int serve_one(struct backend *b, int timeout_ms)
{
	struct vu_msg *m = &b->msg;
	const char *why;
	uint64_t v;
	int r = vuc_recv(b->sock, m, timeout_ms, &why);

	if (r) {
		if (!b->quiet)
			fprintf(stderr, "test-backend: main channel: %s\n", why);
		return -1;
	}
	if (!b->quiet)
		fprintf(stderr, "test-backend: got %s size %u fds %u\n",
			vu_request_name(VU_DIR_FE_REQUEST, m->hdr.request),
			m->hdr.size, m->nfds);
	switch (m->hdr.request) {
	case VU_GET_FEATURES:
		v = (1ull << 32) | (1ull << VU_F_PROTOCOL_FEATURES);
		reply(b, m, &v, 8);
		break;
	case VU_GET_PROTOCOL_FEATURES:
		v = (1ull << VU_PROTOCOL_F_REPLY_ACK) | (1ull << VU_PROTOCOL_F_BACKEND_REQ) |
		    (1ull << 9 /* CONFIG */);
		if (b->mem_slots)
			v |= 1ull << VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS;
		if (b->shmem)
			v |= 1ull << b->shmem_bit;
		reply(b, m, &v, 8);
		break;
	case VU_SET_PROTOCOL_FEATURES:
		b->acked = m->payload.u64;
		goto ack;
	case VU_SET_BACKEND_REQ_FD:
		if (b->chan >= 0)
			close(b->chan);
		b->chan = m->fds[0];
		m->nfds = 0;
		goto ack;
	case VU_GET_SHMEM_CONFIG:
		reply(b, m, &b->cfg, sizeof(b->cfg));
		break;
	case VU_GET_QUEUE_NUM:
		v = 1;
		reply(b, m, &v, 8);
		break;
	case VU_GET_MAX_MEM_SLOTS:
		reply(b, m, &b->max_slots, 8);
		break;
	case VU_SET_MEM_TABLE:
	case VU_ADD_MEM_REG:
	case VU_REM_MEM_REG:
		v = mem_message(b, m);
		if (m->hdr.flags & VU_FLAG_NEED_REPLY)
			reply(b, m, &v, 8);
		break;
	case VU_GET_VRING_BASE:
	case VU_GET_STATUS:
		reply(b, m, m->payload.bytes, 8);
		break;
	default:
ack:
		if (m->hdr.flags & VU_FLAG_NEED_REPLY) {
			v = 0;
			reply(b, m, &v, 8);
		}
	}
	vu_msg_close_fds(m);
	return 0;
}

static int wait_channel(struct backend *b)
{
	while (b->chan < 0)
		if (serve_one(b, 10000))
			return -1;
	return 0;
}

/* Sends a backend request with NEED_REPLY, returns the u64 reply or -1. */
static long long chan_request(struct backend *b, uint32_t req, const void *p,
			      uint32_t size, const int *fds, unsigned int nfds)
{
	struct vu_msg *m = &b->msg;
	const char *why;

	if (wait_channel(b) || vuc_send(b->chan, req, VU_FLAG_NEED_REPLY, p, size, fds, nfds))
		return -1;
	/* Keep answering the front-end meanwhile: it may be waiting for us. */
	for (;;) {
		struct pollfd pf[2] = { { b->chan, POLLIN, 0 }, { b->sock, POLLIN, 0 } };

		if (poll(pf, 2, 10000) <= 0)
			return -1;
		if (pf[0].revents)
			break;
		if (serve_one(b, 5000))
			return -1;
	}
	if (vuc_recv(b->chan, m, 10000, &why)) {
		fprintf(stderr, "test-backend: backend channel: %s\n", why);
		return -1;
	}
	vu_msg_close_fds(m);
	if (m->hdr.request != req || !(m->hdr.flags & VU_FLAG_REPLY) || m->hdr.size != 8)
		return -1;
	return (long long)m->payload.u64;
}

static int command(struct backend *b, char *line)
{
	struct vu_mmap mm = { 0 };
	unsigned int shmid;
	char mode[8], text[256];
	unsigned long long off, len;
	long long r;

	if (sscanf(line, "map %u %lli %lli %7s %255s", &shmid, &off, &len, mode, text) == 5) {
		int fd = vuc_memfd_pattern(text, len);

		if (fd < 0) {
			printf("map error %s\n", strerror(-fd));
			return 0;
		}
		mm.shmid = (uint8_t)shmid;
		mm.shm_offset = off;
		mm.len = len;
		mm.flags = strcmp(mode, "rw") ? 0 : VU_MMAP_F_RW;
		r = chan_request(b, VU_BE_SHMEM_MAP, &mm, sizeof(mm), &fd, 1);
		close(fd);
		printf("map reply %lld\n", r);
	} else if (sscanf(line, "unmap %u %lli %lli", &shmid, &off, &len) == 3) {
		mm.shmid = (uint8_t)shmid;
		mm.shm_offset = off;
		mm.len = len;
		printf("unmap reply %lld\n", chan_request(b, VU_BE_SHMEM_UNMAP, &mm,
							  sizeof(mm), NULL, 0));
	} else if (!strncmp(line, "config-change", 13)) {
		printf("config-change reply %lld\n",
		       chan_request(b, VU_BE_CONFIG_CHANGE_MSG, NULL, 0, NULL, 0));
	} else if (sscanf(line, "read %lli", &off) == 1) {
		printf("read reply %lld\n", mem_read(b, off));
	} else if (!strncmp(line, "regions", 7)) {
		printf("regions reply %u\n", b->nmem);
	} else if (!strncmp(line, "wait-channel", 12)) {
		printf("channel %s\n", wait_channel(b) ? "failed" : "ready");
	} else if (!strncmp(line, "quit", 4)) {
		return 1;
	} else if (line[0] != '\n' && line[0] != '#') {
		printf("unknown command\n");
	}
	fflush(stdout);
	return 0;
}

static int add_region(struct backend *b, const char *arg)
{
	unsigned int shmid;
	unsigned long long size;

	if (sscanf(arg, "%u:%lli", &shmid, &size) != 2 || shmid >= VU_SHMEM_MAX_REGIONS)
		return -1;
	if (!b->cfg.memory_sizes[shmid] && size)
		b->cfg.nregions++;
	b->cfg.memory_sizes[shmid] = size;
	return 0;
}

int main(int argc, char **argv)
{
	struct backend *b = calloc(1, sizeof(*b));
	const char *listen_path = NULL;
	bool stdin_open = true;
	int fd = -1;

	if (!b)
		return 1;
	b->chan = -1;
	b->shmem = true;
	b->max_slots = 8;
	setvbuf(stdin, NULL, _IONBF, 0);	/* poll() must see every line */
	b->shmem_bit = VU_PROTOCOL_F_SHMEM_DEFAULT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--listen") && v) {
			listen_path = v; i++;
		} else if (!strcmp(a, "--fd") && v) {
			fd = atoi(v); i++;
		} else if (!strcmp(a, "--region") && v && !add_region(b, v)) {
			i++;
		} else if (!strcmp(a, "--shmem-feature-bit") && v) {
			b->shmem_bit = (unsigned int)atoi(v); i++;
		} else if (!strcmp(a, "--mem-slots")) {
			b->mem_slots = true;
		} else if (!strcmp(a, "--max-mem-slots") && v) {
			b->max_slots = strtoull(v, NULL, 0); i++;
		} else if (!strcmp(a, "--no-shmem")) {
			b->shmem = false;
		} else if (!strcmp(a, "--quiet")) {
			b->quiet = true;
		} else {
			fprintf(stderr, "usage: vhost-user-test-backend (--listen PATH | --fd N) "
				"[--region SHMID:SIZE]... [--shmem-feature-bit N] [--no-shmem] "
				"[--mem-slots] [--max-mem-slots N] [--quiet]\n");
			return 1;
		}
	}
	if (listen_path) {
		int l = unix_listen(listen_path);

		if (l < 0) {
			fprintf(stderr, "test-backend: listen %s: %s\n", listen_path, strerror(-l));
			return 1;
		}
		fd = unix_accept(l);
		close(l);
		unlink(listen_path);
	}
	if (fd < 0) {
		fprintf(stderr, "test-backend: no connection\n");
		return 1;
	}
	b->sock = fd;
	for (;;) {
		struct pollfd pf[2] = { { b->sock, POLLIN, 0 }, { 0, POLLIN, 0 } };

		if (poll(pf, stdin_open ? 2 : 1, -1) < 0)
			break;
		if (pf[0].revents && serve_one(b, 5000))
			break;
		if (stdin_open && pf[1].revents) {
			char line[512];

			if (!fgets(line, sizeof(line), stdin))
				stdin_open = false;
			else if (command(b, line))
				break;
		}
	}
	if (b->chan >= 0)
		close(b->chan);
	while (b->nmem)
		mem_drop(b, 0);
	close(b->sock);
	free(b);
	return 0;
}
