// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-shmem: show the devices, regions and mappings of the vhost_shmem
 * module and follow its events, over the "vhost-shmem" generic netlink
 * family. iproute2 manners: "vhost-shmem [OPTIONS] OBJECT COMMAND",
 * objects and commands may be abbreviated, -j/-p for JSON, errors on
 * stderr as "Error: ...", exit status 0 (ok), 1 (usage), 2 (netlink or
 * kernel error). See Documentation/userspace-api/vhost-shmem-cli.rst.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../version.h"
#include "format.h"
#include "nl.h"

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_NL = 2 };

struct opts {
	bool json;
	bool pretty;
};

static void usage(FILE *f)
{
	fputs("Usage: vhost-shmem [ OPTIONS ] OBJECT { COMMAND | help }\n"
	      "       vhost-shmem [ OPTIONS ] monitor\n"
	      "where  OBJECT := { dev | region | map }\n"
	      "       COMMAND := { show | list } [ dev ID ]\n"
	      "       OPTIONS := { -j[son] | -p[retty] | -V[ersion] | -h[elp] }\n"
	      "Any prefix of a word will do; device and mapping are dev and map.\n",
	      f);
}

/* iproute2's matches(): @arg is a non-empty prefix of @word. */
static bool matches(const char *arg, const char *word)
{
	size_t n = strlen(arg);

	return n && n <= strlen(word) && !strncmp(arg, word, n);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("Error: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	usage(stderr);
	return EXIT_USAGE;
}

static int parse_dev_id(const char *s, uint32_t *id)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || v == 0 || v > 0xffffffffUL || *s == '-')
		return -1;
	*id = (uint32_t)v;
	return 0;
}

static int nl_error(struct vs_nl *nl)
{
	fprintf(stderr, "Error: %s\n", nl->msg);
	return EXIT_NL;
}

static int do_show(const struct opts *o, enum vs_dump_kind kind, int argc,
		   char **argv)
{
	struct vs_nl nl;
	struct vs_out out;
	uint32_t dev_id = 0;
	int ret;

	if (argc && !strcmp(argv[0], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc && !matches(argv[0], "show") && !matches(argv[0], "list"))
		return usage_error("unknown command \"%s\"", argv[0]);
	if (argc) {
		argc--;
		argv++;
	}
	while (argc) {
		if (!strcmp(argv[0], "dev")) {
			if (argc < 2)
				return usage_error("%s needs a device id", "dev");
			if (parse_dev_id(argv[1], &dev_id))
				return usage_error("invalid device id \"%s\"",
						   argv[1]);
			argc -= 2;
			argv += 2;
		} else {
			return usage_error("unknown argument \"%s\"", argv[0]);
		}
	}
	vs_out_init(&out, stdout, o->json, o->pretty, false);
	if (vs_nl_open(&nl) || vs_nl_dump(&nl, kind, dev_id, &out))
		ret = nl_error(&nl);
	else
		ret = EXIT_OK;
	vs_nl_close(&nl);
	return ret;
}

static int do_monitor(const struct opts *o, int argc, char **argv)
{
	struct vs_nl nl;
	struct vs_out out;
	int ret;

	if (argc && !strcmp(argv[0], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc && !matches(argv[0], "all"))
		return usage_error("unknown argument \"%s\"", argv[0]);
	vs_out_init(&out, stdout, o->json, o->pretty, true);
	if (vs_nl_open(&nl) || vs_nl_monitor(&nl, &out))
		ret = nl_error(&nl);
	else
		ret = EXIT_OK;
	vs_nl_close(&nl);
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	const char *obj;

	/* stdout line-buffered: monitor output must reach pipes as it comes. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	argc--;
	argv++;
	while (argc && argv[0][0] == '-') {
		const char *opt = argv[0] + 1 + (argv[0][1] == '-');

		if (matches(opt, "json")) {
			o.json = true;
		} else if (matches(opt, "pretty")) {
			o.pretty = true;
		} else if (matches(opt, "Version") || !strcmp(opt, "version")) {
			printf("vhost-shmem %s\n", VHOST_SHMEM_VERSION);
			return EXIT_OK;
		} else if (matches(opt, "help")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			return usage_error("unknown option \"%s\"", argv[0]);
		}
		argc--;
		argv++;
	}
	if (!argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	obj = argv[0];
	argc--;
	argv++;
	if (matches(obj, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (matches(obj, "dev") || matches(obj, "device"))
		return do_show(&o, VS_DUMP_DEV, argc, argv);
	if (matches(obj, "region"))
		return do_show(&o, VS_DUMP_REGION, argc, argv);
	if (matches(obj, "map") || matches(obj, "mapping"))
		return do_show(&o, VS_DUMP_MAP, argc, argv);
	if (matches(obj, "monitor"))
		return do_monitor(&o, argc, argv);
	return usage_error("unknown object \"%s\"", obj);
}
