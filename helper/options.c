// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"
#include "version.h"
#include "vu_proto.h"

static const char usage[] =
"usage: vhost-shmem-helper (--listen PATH | --frontend-fd N)\n"
"                          (--backend PATH | --backend-fd N)\n"
"                          (--device-fd N | --device-socket PATH)\n"
"                          [--shmem-feature-bit N] [--share-region SHMID@GPA[,ro]]...\n"
"                          [--verbose]\n"
"       vhost-shmem-helper --help | --version\n";

/* A usage error: the reason, then the usage, on stderr. */
static int bad_usage(const char *fmt, const char *arg)
{
	fputs("vhost-shmem-helper: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	fputs(usage, stderr);
	return HELPER_OPTS_USAGE;
}

/* Exactly one of a pair: @a and @b say which are set. */
static int one_of(bool a, bool b, const char *pair)
{
	if (a && b)
		return bad_usage("%s: give only one of them", pair);
	if (!a && !b)
		return bad_usage("%s: one of them is required", pair);
	return 0;
}

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

/*
 * --share-region SHMID@GPA[,ro]: a shmid of 0..255, a page-aligned GPA
 * below 2^63, each shmid once, at most PROXY_SHARES_MAX. 0 or a usage
 * error.
 */
static int parse_share(const char *arg, struct helper_opts *o)
{
	const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	char why[160], *at, *end;
	unsigned long long gpa;
	long shmid;

	errno = 0;
	shmid = strtol(arg, &at, 0);
	if (at == arg || *at != '@' || errno || shmid < 0 || shmid > 255)
		return bad_usage("--share-region takes SHMID@GPA (SHMID 0..255), not '%s'",
				 arg);
	gpa = strtoull(at + 1, &end, 0);
	if (end == at + 1 || (*end && *end != ',') || errno || at[1] == '-')
		return bad_usage("--share-region '%s': GPA is not a number", arg);
	if (*end && strcmp(end, ",ro"))
		return bad_usage("--share-region '%s': only ',ro' may follow the GPA", arg);
	if (gpa % page) {
		snprintf(why, sizeof(why), "--share-region '%s': GPA is not a multiple of "
			 "the page size (%" PRIu64 ")", arg, page);
		return bad_usage("%s", why);
	}
	if (gpa & PROXY_SHARE_UADDR_BIT)
		return bad_usage("--share-region '%s': GPA must be below 2^63", arg);
	for (unsigned int i = 0; i < o->nshares; i++)
		if (o->share[i].shmid == (uint32_t)shmid)
			return bad_usage("--share-region '%s': that shmid is shared twice", arg);
	if (o->nshares == PROXY_SHARES_MAX) {
		snprintf(why, sizeof(why), "--share-region '%s': at most %u regions can be "
			 "shared", arg, PROXY_SHARES_MAX);
		return bad_usage("%s", why);
	}
	o->share[o->nshares++] = (struct proxy_share_opt){ (uint32_t)shmid, gpa, *end != 0 };
	return 0;
}

int helper_parse_opts(int argc, char **argv, struct helper_opts *o)
{
	enum { O_LISTEN = 256, O_FEFD, O_BACKEND, O_BEFD, O_DEVFD, O_DEVSOCK, O_BIT,
	       O_VERSION, O_SHARE };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "frontend-fd", required_argument, NULL, O_FEFD },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "backend-fd", required_argument, NULL, O_BEFD },
		{ "device-fd", required_argument, NULL, O_DEVFD },
		{ "device-socket", required_argument, NULL, O_DEVSOCK },
		{ "shmem-feature-bit", required_argument, NULL, O_BIT },
		{ "share-region", required_argument, NULL, O_SHARE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	*o = (struct helper_opts){
		.frontend_fd = -1, .backend_fd = -1, .device_fd = -1,
		.shmem_bit = VU_PROTOCOL_F_SHMEM_DEFAULT,
	};
	optind = 1;
	opterr = 0;	/* bad_usage() says it, followed by the usage */
	while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		long v = 0;

		if ((c == O_FEFD || c == O_BEFD || c == O_DEVFD) &&
		    parse_num(optarg, 0, 1 << 30, &v))
			return bad_usage("bad fd number '%s'", optarg);
		switch (c) {
		case O_LISTEN: o->listen_path = optarg; break;
		case O_FEFD: o->frontend_fd = (int)v; break;
		case O_BACKEND: o->backend_path = optarg; break;
		case O_BEFD: o->backend_fd = (int)v; break;
		case O_DEVFD: o->device_fd = (int)v; break;
		case O_DEVSOCK: o->device_socket = optarg; break;
		case O_BIT:
			if (parse_num(optarg, 0, 63, &v))
				return bad_usage("--shmem-feature-bit takes 0..63, not '%s'",
						 optarg);
			o->shmem_bit = (unsigned int)v;
			break;
		case O_SHARE:
			if (parse_share(optarg, o))
				return HELPER_OPTS_USAGE;
			break;
		case 'v': o->verbose = true; break;
		case 'h': fputs(usage, stdout); return HELPER_OPTS_DONE;
		case O_VERSION:
			printf("vhost-shmem-helper %s\n", VHOST_SHMEM_VERSION);
			return HELPER_OPTS_DONE;
		case ':': return bad_usage("%s needs an argument", argv[optind - 1]);
		default:
			/* Long options leave optopt 0; short ones may sit in a cluster. */
			if (optopt > 0 && optopt < 256) {
				char opt[3] = { '-', (char)optopt, 0 };

				return bad_usage("unknown option '%s'", opt);
			}
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return bad_usage("unexpected argument '%s' (every option has a "
				 "name)", argv[optind]);
	r = one_of(o->listen_path, o->frontend_fd >= 0, "--listen or --frontend-fd");
	if (!r)
		r = one_of(o->backend_path, o->backend_fd >= 0, "--backend or --backend-fd");
	if (!r)
		r = one_of(o->device_socket, o->device_fd >= 0,
			   "--device-fd or --device-socket");
	if (r)
		return r;
	if (o->shmem_bit == VU_PROTOCOL_F_REPLY_ACK ||
	    o->shmem_bit == VU_PROTOCOL_F_BACKEND_REQ ||
	    o->shmem_bit == VU_PROTOCOL_F_PAGEFAULT)
		return bad_usage("--shmem-feature-bit cannot be %s (REPLY_ACK, "
				 "BACKEND_REQ and PAGEFAULT are 3, 5 and 8)",
				 o->shmem_bit == 3 ? "3" : o->shmem_bit == 5 ? "5" : "8");
	return HELPER_OPTS_RUN;
}
