// SPDX-License-Identifier: GPL-2.0
/*
 * ynl_test: the kernel's own netlink tooling reads the family from the
 * spec alone. The Python YNL CLI (tools/net/ynl/cli.py of Debian's
 * linux-source-6.12 with Debian's python3, tools/ynl.sh vm: $VHOST_SHMEM_YNL,
 * default /payload/bin/ynl) with Documentation/netlink/specs/vhost_shmem.yaml
 * ($VHOST_SHMEM_SPEC, default /payload/ynl/vhost_shmem.yaml) dumps this
 * test's device and its regions; the objects must carry exactly what the
 * test set up: owner pid and comm, regions, one mapping, one failure by
 * errno (the "code" attribute), each region's shmid, size, flags, address
 * and viewers (one of part of a region).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"
#include "viewer_lib.h"

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

/*
 * Runs the CLI with @args after "--spec SPEC --output-json", stdout and
 * stderr into *@out (NUL-terminated, the caller frees it). Returns its
 * exit status, or -1 if it could not be run.
 */
static int run_ynl(const char *const args[], char **out)
{
	const char *argv[16] = { env_or("VHOST_SHMEM_YNL", "/payload/bin/ynl"),
				 "--spec",
				 env_or("VHOST_SHMEM_SPEC", "/payload/ynl/vhost_shmem.yaml"),
				 "--output-json" };
	size_t len = 0, cap = 4096;
	int p[2], st, argc = 4;
	ssize_t r;
	pid_t pid;

	while (*args && argc < 15)
		argv[argc++] = *args++;
	argv[argc] = NULL;
	*out = malloc(cap);
	if (!*out)
		return -1;
	**out = 0;
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (!pid) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], *out + len, cap - len - 1)) > 0) {
		len += r;
		if (cap - len < 2) {
			char *n = realloc(*out, cap * 2);

			if (!n)
				break;
			*out = n;
			cap *= 2;
		}
	}
	(*out)[len] = 0;
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

FIXTURE(ynl) {
	struct vs_dev d;
	int fd;
	char comm[32];
};

FIXTURE_SETUP(ynl)
{
	const struct vs_layout l[] = {
		{ .shmid = 0, .size = 8 * PG },
		{ .shmid = 2, .size = 4 * PG, .flags = VHOST_SHMEM_REGION_F_FAULT_HOLES },
	};
	FILE *f;
	int ret;

	self->fd = -1;
	self->d.fd = -1;
	VS_REQUIRE_DEV_IN_SETUP();
	ret = vs_dev_setup(&self->d, l, 2, true);
	if (ret)
		TH_LOG("device setup: %s", self->d.err);
	ASSERT_EQ(0, ret);
	self->fd = vs_memfd("ynl", 4 * PG, 1);
	ASSERT_LE(0, self->fd);
	/* One mapping, one failure (EINVAL: zero length). */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->fd, 0, PG, 2 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(-EINVAL, vs_map(self->d.fd, 0, self->fd, 0, 0, 0, 0));
	f = fopen("/proc/self/comm", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(self->comm, sizeof(self->comm), f));
	fclose(f);
	self->comm[strcspn(self->comm, "\n")] = 0;
}

FIXTURE_TEARDOWN(ynl)
{
	if (self->fd >= 0)
		close(self->fd);
	vs_dev_close(&self->d);
}

/* The id of the object whose owner-pid is @pid in a dev-get dump; 0 if none. */
static unsigned int dev_id_of(const char *json, pid_t pid)
{
	char key[48];
	const char *p, *obj = NULL;
	unsigned int id = 0;

	snprintf(key, sizeof(key), "\"owner-pid\": %d,", pid);
	p = strstr(json, key);
	if (!p)
		return 0;
	for (const char *q = json; (q = strstr(q, "{\"id\": ")) && q < p; q++)
		obj = q;
	if (!obj || sscanf(obj, "{\"id\": %u,", &id) != 1)
		return 0;
	return id;
}

/* The CLI with @args prints exactly @want (one JSON line) and exits 0. */
static void expect_dump(struct __test_metadata *_metadata,
			const char *const args[], const char *want)
{
	char *out;
	int st;

	st = run_ynl(args, &out);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, st);
	if (strcmp(out, want))
		TH_LOG("ynl %s %s %s %s:\n  got  %s  want %s", args[0], args[1],
		       args[2], args[3], out, want);
	EXPECT_STREQ(want, out);
	free(out);
}

/*
 * Three runs of the Python CLI: 24 s on the debug kernel already, past
 * the harness's default 30 s once the machine is busy.
 */
TEST_F_TIMEOUT(ynl, dumps, 120)
{
	const char *dump_all[] = { "--dump", "dev-get", NULL };
	char sel[64], want[1024], *out;
	const char *dump_one[] = { "--dump", "dev-get", "--json", sel, NULL };
	const char *regions[] = { "--dump", "region-get", "--json", sel, NULL };
	struct vs_viewer v = { .pid = -1 };
	unsigned int id;
	int st, vfd;

	st = run_ynl(dump_all, &out);
	ASSERT_NE(NULL, out);
	TH_LOG("ynl --dump dev-get: %s", out);
	ASSERT_EQ(0, st);
	id = dev_id_of(out, getpid());
	free(out);
	ASSERT_NE(0, id);

	/* The device alone, selected by its id: exactly what it holds. */
	snprintf(sel, sizeof(sel), "{\"id\": %u}", id);
	snprintf(want, sizeof(want),
		 "[{\"id\": %u, \"owner-pid\": %d, \"owner-comm\": \"%s\", "
		 "\"nregions\": 2, \"mappings\": 1, \"mapped-bytes\": %zu, "
		 "\"maps\": 1, \"unmaps\": 0, \"failures\": 1, "
		 "\"errors\": [{\"code\": %d, \"count\": 1}]}]\n",
		 id, getpid(), self->comm, 2 * PG, EINVAL);
	expect_dump(_metadata, dump_one, want);

	/*
	 * Its regions: shmid, size, flags, the owner's address, and the
	 * viewers: one read-only view of pages 1 and 2 of region 0.
	 */
	vfd = vs_get_view(self->d.fd, 0, 0);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vs_viewer_start(&v, vfd, PG, 2 * PG, PROT_READ));
	close(vfd);
	snprintf(sel, sizeof(sel), "{\"dev-id\": %u}", id);
	snprintf(want, sizeof(want),
		 "[{\"dev-id\": %u, \"shmid\": 0, \"size\": %zu, \"flags\": 0, \"addr\": %lu, "
		 "\"nviewers\": 1, \"viewers\": [{\"pid\": %d, \"comm\": \"%s\", "
		 "\"offset\": %zu, \"len\": %zu, \"prot\": 1}]}, "
		 "{\"dev-id\": %u, \"shmid\": 2, \"size\": %zu, \"flags\": %u, \"addr\": %lu, "
		 "\"nviewers\": 0}]\n",
		 id, 8 * PG, (unsigned long)self->d.r[0].addr, v.pid, self->comm,
		 PG, 2 * PG,
		 id, 4 * PG, (unsigned int)VHOST_SHMEM_REGION_F_FAULT_HOLES,
		 (unsigned long)self->d.r[1].addr);
	expect_dump(_metadata, regions, want);
	vs_viewer_stop(&v);
}

TEST_HARNESS_MAIN
