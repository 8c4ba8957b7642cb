// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "helper.h"
#include "vu_proto.h"

static const char usage[] =
"usage: vhost-shmem-helper (--listen PATH | --frontend-fd N)\n"
"                          (--backend PATH | --backend-fd N)\n"
"                          (--device-fd N | --device-socket PATH)\n"
"                          [--shmem-feature-bit N] [--verbose]\n";

static int parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int helper_parse_opts(int argc, char **argv, struct helper_opts *o)
{
	enum { O_LISTEN = 256, O_FEFD, O_BACKEND, O_BEFD, O_DEVFD, O_DEVSOCK, O_BIT };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "frontend-fd", required_argument, NULL, O_FEFD },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "backend-fd", required_argument, NULL, O_BEFD },
		{ "device-fd", required_argument, NULL, O_DEVFD },
		{ "device-socket", required_argument, NULL, O_DEVSOCK },
		{ "shmem-feature-bit", required_argument, NULL, O_BIT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct helper_opts){
		.frontend_fd = -1, .backend_fd = -1, .device_fd = -1,
		.shmem_bit = VU_PROTOCOL_F_SHMEM_DEFAULT,
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		long v = 0;

		if ((c == O_FEFD || c == O_BEFD || c == O_DEVFD) &&
		    parse_num(optarg, 0, 1 << 30, &v)) {
			fprintf(stderr, "vhost-shmem-helper: bad fd number '%s'\n", optarg);
			return -1;
		}
		switch (c) {
		case O_LISTEN: o->listen_path = optarg; break;
		case O_FEFD: o->frontend_fd = (int)v; break;
		case O_BACKEND: o->backend_path = optarg; break;
		case O_BEFD: o->backend_fd = (int)v; break;
		case O_DEVFD: o->device_fd = (int)v; break;
		case O_DEVSOCK: o->device_socket = optarg; break;
		case O_BIT:
			if (parse_num(optarg, 0, 63, &v)) {
				fprintf(stderr, "vhost-shmem-helper: --shmem-feature-bit "
					"takes 0..63\n");
				return -1;
			}
			o->shmem_bit = (unsigned int)v;
			break;
		case 'v': o->verbose = true; break;
		case 'h': fputs(usage, stdout); return -1;
		default: fputs(usage, stderr); return -1;
		}
	}
	if (optind != argc || !o->listen_path == (o->frontend_fd < 0) ||
	    !o->backend_path == (o->backend_fd < 0) ||
	    !o->device_socket == (o->device_fd < 0)) {
		fputs("vhost-shmem-helper: need exactly one of each pair of options\n",
		      stderr);
		fputs(usage, stderr);
		return -1;
	}
	if (o->shmem_bit == VU_PROTOCOL_F_REPLY_ACK ||
	    o->shmem_bit == VU_PROTOCOL_F_BACKEND_REQ) {
		fputs("vhost-shmem-helper: --shmem-feature-bit cannot be 3 or 5\n", stderr);
		return -1;
	}
	return 0;
}
