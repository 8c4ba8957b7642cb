// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vu_client.h"

int vuc_send(int fd, uint32_t req, uint32_t flags, const void *payload,
	     uint32_t size, const int *fds, unsigned int nfds)
{
	struct vu_hdr h = { req, flags | VU_VERSION, size };

	return vu_send(fd, &h, payload, fds, nfds);
}

int vuc_send_u64(int fd, uint32_t req, uint32_t flags, uint64_t val)
{
	return vuc_send(fd, req, flags, &val, sizeof(val), NULL, 0);
}

int vuc_recv(int fd, struct vu_msg *out, int timeout_ms, const char **why)
{
	struct vu_conn c;
	enum vu_rx r;

	vu_conn_init(&c, fd, "peer");
	r = vu_recv_wait(&c, timeout_ms, why);
	if (r == VU_RX_MSG) {
		*out = c.msg;
		return 0;
	}
	vu_msg_close_fds(&c.msg);
	if (r == VU_RX_EOF) {
		*why = "EOF";
		return 1;
	}
	return -1;
}

int vuc_get_u64(int fd, uint32_t req, uint64_t *val)
{
	struct vu_msg m;
	const char *why;

	if (vuc_send(fd, req, 0, NULL, 0, NULL, 0) || vuc_recv(fd, &m, 5000, &why))
		return -1;
	vu_msg_close_fds(&m);
	if (m.hdr.request != req || !(m.hdr.flags & VU_FLAG_REPLY) || m.hdr.size != 8)
		return -1;
	*val = m.payload.u64;
	return 0;
}

int vuc_memfd_pattern(const char *text, uint64_t len)
{
	size_t tl = strlen(text);
	char *p;
	int fd = memfd_create("vu-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len))
		goto fail;
	if (!tl || !len)
		return fd;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	for (uint64_t i = 0; i < len; i++)
		p[i] = text[i % tl];
	munmap(p, len);
	return fd;
fail:
	len = (uint64_t)errno;
	close(fd);
	return -(int)len;
}
