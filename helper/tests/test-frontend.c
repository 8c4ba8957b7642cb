// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-user-test-frontend: plays the VMM side of a vhost-shmem setup.
 *
 *   vhost-user-test-frontend (--connect PATH | --fd N)
 *       [--device PATH] [--pass-device SOCKPATH] [--no-backend-req]
 *
 * --device opens /dev/vhost-shmem (or PATH) and calls SET_OWNER; the device
 * fd is then sent to the helper's --device-socket SOCKPATH. After the
 * vhost-user negotiation (GET/SET_FEATURES, GET/SET_PROTOCOL_FEATURES,
 * SET_OWNER, SET_BACKEND_REQ_FD, GET_SHMEM_CONFIG) the device is configured
 * with the back-end's region sizes and every region is mmapped. Then
 * commands are read from stdin, one per line, one result line each:
 *   read SHMID OFFSET LEN        -> "read TEXT" (non-printable bytes as '.')
 *   expect SHMID OFFSET TEXT     -> "expect ok" | "expect mismatch ..."
 *   wait SHMID OFFSET TEXT SECS  -> polls until the bytes match: "wait ok"/"wait timeout"
 *   reset                        RESET_DEVICE  -> "reset sent"
 *   status0                      SET_STATUS 0  -> "status0 sent"
 *   quit
 * Backend-channel requests relayed by the helper are answered (0) and
 * reported as "backend-request NAME".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/vhost_shmem.h>

#include "sock.h"
#include "vu_client.h"

#define BIT(n) (1ull << (n))

struct frontend {
	int sock, chan_mine, dev;
	bool backend_req;
	struct vu_shmem_config shm;
	struct vhost_shmem_config devcfg;
	uint8_t *region[VU_SHMEM_MAX_REGIONS];
	struct vu_msg msg;
};

static int die(const char *what)
{
	fprintf(stderr, "test-frontend: %s\n", what);
	return 1;
}

static int negotiate(struct frontend *f)
{
	const uint64_t want = BIT(VU_PROTOCOL_F_REPLY_ACK) |
			      (f->backend_req ? BIT(VU_PROTOCOL_F_BACKEND_REQ) : 0);
	uint64_t feat, proto;
	const char *why;
	int sp[2];

	if (vuc_get_u64(f->sock, VU_GET_FEATURES, &feat))
		return -1;
	if (vuc_send_u64(f->sock, VU_SET_FEATURES, 0, feat) ||
	    vuc_get_u64(f->sock, VU_GET_PROTOCOL_FEATURES, &proto) ||
	    vuc_send_u64(f->sock, VU_SET_PROTOCOL_FEATURES, 0, proto & want) ||
	    vuc_send(f->sock, VU_SET_OWNER, 0, NULL, 0, NULL, 0))
		return -1;
	printf("protocol features offered 0x%llx\n", (unsigned long long)proto);
	if (f->backend_req && (proto & BIT(VU_PROTOCOL_F_BACKEND_REQ))) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
			return -1;
		vuc_send(f->sock, VU_SET_BACKEND_REQ_FD, VU_FLAG_NEED_REPLY, NULL, 0, &sp[1], 1);
		close(sp[1]);
		f->chan_mine = sp[0];
		if (vuc_recv(f->sock, &f->msg, 5000, &why) || f->msg.payload.u64)
			return -1;
	}
	if (vuc_send(f->sock, VU_GET_SHMEM_CONFIG, 0, NULL, 0, NULL, 0) ||
	    vuc_recv(f->sock, &f->msg, 5000, &why) ||
	    f->msg.hdr.request != VU_GET_SHMEM_CONFIG ||
	    f->msg.hdr.size != VU_SHMEM_CONFIG_SIZE)
		return -1;
	f->shm = f->msg.payload.shmem;
	printf("shmem regions %u\n", f->shm.nregions);
	return 0;
}

static int setup_device(struct frontend *f)
{
	for (int i = 0; i < VU_SHMEM_MAX_REGIONS; i++)
		f->devcfg.regions[i].size = f->shm.memory_sizes[i];
	if (ioctl(f->dev, VHOST_SHMEM_SET_CONFIG, &f->devcfg)) {
		perror("test-frontend: VHOST_SHMEM_SET_CONFIG");
		return -1;
	}
	for (unsigned int i = 0; i < VU_SHMEM_MAX_REGIONS; i++) {
		struct vhost_shmem_region_info ri = { .shmid = i };
		void *p;

		if (!f->shm.memory_sizes[i])
			continue;
		if (ioctl(f->dev, VHOST_SHMEM_GET_REGION_INFO, &ri)) {
			perror("test-frontend: VHOST_SHMEM_GET_REGION_INFO");
			return -1;
		}
		p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, f->dev,
			 (off_t)ri.offset);
		if (p == MAP_FAILED) {
			perror("test-frontend: mmap region");
			return -1;
		}
		f->region[i] = p;
		printf("region %u mapped: %llu bytes\n", i, (unsigned long long)ri.size);
	}
	return 0;
}

static bool in_region(struct frontend *f, unsigned int id, unsigned long long off,
		      size_t len)
{
	return id < VU_SHMEM_MAX_REGIONS && f->region[id] &&
	       off <= f->shm.memory_sizes[id] && len <= f->shm.memory_sizes[id] - off;
}

static void serve_channel(struct frontend *f)
{
	const char *why;

	if (vuc_recv(f->chan_mine, &f->msg, 1000, &why)) {
		close(f->chan_mine);
		f->chan_mine = -1;
		return;
	}
	vu_msg_close_fds(&f->msg);
	printf("backend-request %s\n", vu_request_name(VU_DIR_BE_REQUEST, f->msg.hdr.request));
	fflush(stdout);
	if (f->msg.hdr.flags & VU_FLAG_NEED_REPLY)
		vuc_send_u64(f->chan_mine, f->msg.hdr.request, VU_FLAG_REPLY, 0);
}

static int command(struct frontend *f, char *line)
{
	unsigned int id, secs;
	unsigned long long off, len;
	char text[256];

	if (sscanf(line, "read %u %lli %lli", &id, &off, &len) == 3 && len < sizeof(text)) {
		if (!in_region(f, id, off, len)) {
			printf("read out of range\n");
		} else {
			for (size_t i = 0; i < len; i++) {
				uint8_t c = f->region[id][off + i];

				text[i] = c >= 32 && c < 127 ? (char)c : '.';
			}
			text[len] = 0;
			printf("read %s\n", text);
		}
	} else if (sscanf(line, "expect %u %lli %255s", &id, &off, text) == 3) {
		if (!in_region(f, id, off, strlen(text)))
			printf("expect out of range\n");
		else if (memcmp(f->region[id] + off, text, strlen(text)))
			printf("expect mismatch\n");
		else
			printf("expect ok\n");
	} else if (sscanf(line, "wait %u %lli %255s %u", &id, &off, text, &secs) == 4) {
		const struct timespec ms10 = { 0, 10 * 1000 * 1000 };
		bool ok = false;

		for (unsigned int t = 0; in_region(f, id, off, strlen(text)) && t < secs * 100; t++) {
			ok = !memcmp(f->region[id] + off, text, strlen(text));
			if (ok)
				break;
			nanosleep(&ms10, NULL);
		}
		printf("wait %s\n", ok ? "ok" : "timeout");
	} else if (!strncmp(line, "reset", 5)) {
		vuc_send(f->sock, VU_RESET_DEVICE, 0, NULL, 0, NULL, 0);
		printf("reset sent\n");
	} else if (!strncmp(line, "status0", 7)) {
		vuc_send_u64(f->sock, VU_SET_STATUS, 0, 0);
		printf("status0 sent\n");
	} else if (!strncmp(line, "quit", 4)) {
		return 1;
	} else if (line[0] != '\n' && line[0] != '#') {
		printf("unknown command\n");
	}
	fflush(stdout);
	return 0;
}

static int run(struct frontend *f, int argc, char **argv)
{
	const char *connect_path = NULL, *device = NULL, *pass = NULL;
	int rc = 1;

	f->sock = f->chan_mine = f->dev = -1;
	f->backend_req = true;
	setvbuf(stdin, NULL, _IONBF, 0);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--connect") && v) {
			connect_path = v; i++;
		} else if (!strcmp(a, "--fd") && v) {
			f->sock = atoi(v); i++;
		} else if (!strcmp(a, "--device") && v) {
			device = v; i++;
		} else if (!strcmp(a, "--pass-device") && v) {
			pass = v; i++;
		} else if (!strcmp(a, "--no-backend-req")) {
			f->backend_req = false;
		} else {
			return die("usage: vhost-user-test-frontend (--connect PATH | --fd N) "
				   "[--device PATH] [--pass-device SOCKPATH] [--no-backend-req]");
		}
	}
	if (device) {
		f->dev = open(device, O_RDWR | O_CLOEXEC);
		if (f->dev < 0 || ioctl(f->dev, VHOST_SHMEM_SET_OWNER))
			return die("cannot open the device or SET_OWNER");
	}
	if (pass) {
		int s = unix_connect_retry(pass, 10000);

		if (s < 0 || f->dev < 0 || send_one_fd(s, f->dev))
			return die("cannot pass the device fd");
		close(s);
	}
	if (connect_path)
		f->sock = unix_connect_retry(connect_path, 10000);
	if (f->sock < 0)
		return die("no connection to the helper");
	if (negotiate(f))
		return die("negotiation failed");
	if (f->dev >= 0 && setup_device(f))
		return die("device setup failed");
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd pf[3] = { { 0, POLLIN, 0 }, { f->sock, POLLIN, 0 },
					{ f->chan_mine, POLLIN, 0 } };
		char line[512];

		if (poll(pf, 3, -1) < 0)
			break;
		if (pf[2].revents)
			serve_channel(f);
		if (pf[1].revents) {
			printf("helper closed the connection\n");
			break;
		}
		if (pf[0].revents) {
			if (!fgets(line, sizeof(line), stdin)) {
				rc = 0;
				break;
			}
			if (command(f, line)) {
				rc = 0;
				break;
			}
		}
	}
	fflush(stdout);
	return rc;
}

int main(int argc, char **argv)
{
	struct frontend *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return 1;
	rc = run(f, argc, argv);
	free(f);
	return rc;
}
