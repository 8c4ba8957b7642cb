// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side unit tests of the vhost-shmem CLI's output: text lines, compact
 * and pretty JSON, escaping, and the monitor's event lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "format.h"

struct buf {
	char *data;
	size_t len;
	FILE *f;
};

static void buf_open(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->f = open_memstream(&b->data, &b->len);
}

/* Closes the stream; b->data holds everything printed. */
static const char *buf_done(struct buf *b)
{
	fclose(b->f);
	return b->data;
}

static struct vs_map_rec sample_map(void)
{
	struct vs_map_rec m = {
		.dev_id = 3, .shmid = 1, .shm_offset = 0x4000, .len = 0x2000,
		.has_fd_offset = true, .fd_offset = 0x1000, .flags = 1,
		.has_file = true, .file_major = 0, .file_minor = 1, .ino = 42,
		.has_path = true,
	};

	strcpy(m.path, "/memfd:a \"b\" (deleted)");
	return m;
}

static struct vs_dev_rec sample_dev(void)
{
	struct vs_dev_rec d = {
		.id = 7, .has_owner = true, .owner_pid = 100, .nregions = 2,
		.mappings = 3, .mapped_bytes = 12288, .maps = 5, .unmaps = 2,
		.failures = 4, .nerrors = 2,
		.errors = { { EEXIST, 3 }, { 0, 1 } },
	};

	strcpy(d.owner_comm, "qemu");
	return d;
}

TEST(map_text)
{
	struct vs_map_rec m = sample_map();
	struct vs_out o;
	struct buf b;

	buf_open(&b);
	vs_out_init(&o, b.f, false, false, false);
	vs_out_begin(&o);
	vs_print_map(&o, &m);
	m.flags = 0;
	m.has_path = false;
	vs_print_map(&o, &m);
	vs_out_end(&o);
	EXPECT_STREQ("dev 3 shmid 1 offset 0x4000 len 0x2000 fd_offset 0x1000 rw "
		     "file 0:1 ino 42 path /memfd:a \"b\" (deleted)\n"
		     "dev 3 shmid 1 offset 0x4000 len 0x2000 fd_offset 0x1000 ro "
		     "file 0:1 ino 42\n", buf_done(&b));
	EXPECT_EQ(2, o.nrec);
	free(b.data);
}

TEST(map_json)
{
	struct vs_map_rec m = sample_map();
	struct vs_out o;
	struct buf b;

	buf_open(&b);
	vs_out_init(&o, b.f, true, false, false);
	vs_out_begin(&o);
	vs_print_map(&o, &m);
	vs_print_map(&o, &m);
	vs_out_end(&o);
	EXPECT_STREQ("[{\"dev\":3,\"shmid\":1,\"shm_offset\":16384,\"len\":8192,"
		     "\"fd_offset\":4096,\"flags\":1,\"rw\":true,\"file_major\":0,"
		     "\"file_minor\":1,\"ino\":42,\"path\":\"/memfd:a \\\"b\\\" (deleted)\"},"
		     "{\"dev\":3,\"shmid\":1,\"shm_offset\":16384,\"len\":8192,"
		     "\"fd_offset\":4096,\"flags\":1,\"rw\":true,\"file_major\":0,"
		     "\"file_minor\":1,\"ino\":42,\"path\":\"/memfd:a \\\"b\\\" (deleted)\"}]\n",
		     buf_done(&b));
	free(b.data);
}

TEST(empty_json)
{
	struct vs_out o;
	struct buf b;

	buf_open(&b);
	vs_out_init(&o, b.f, true, false, false);
	vs_out_begin(&o);
	vs_out_end(&o);
	EXPECT_STREQ("[]\n", buf_done(&b));
	free(b.data);

	buf_open(&b);
	vs_out_init(&o, b.f, false, true, false);	/* -p implies -j */
	vs_out_begin(&o);
	vs_out_end(&o);
	EXPECT_STREQ("[]\n", buf_done(&b));
	free(b.data);
}

TEST(dev_text)
{
	struct vs_dev_rec d = sample_dev();
	struct vs_out o;
	struct buf b;

	buf_open(&b);
	vs_out_init(&o, b.f, false, false, false);
	vs_print_dev(&o, &d);
	d.has_owner = false;
	d.nerrors = 0;
	vs_print_dev(&o, &d);
	EXPECT_STREQ("dev 7 owner 100 comm qemu regions 2 mappings 3 bytes 12288 "
		     "maps 5 unmaps 2 failures 4\n    errors EEXIST 3 other 1\n"
		     "dev 7 owner none regions 2 mappings 3 bytes 12288 maps 5 "
		     "unmaps 2 failures 4\n", buf_done(&b));
	free(b.data);
}

TEST(dev_pretty)
{
	struct vs_dev_rec d = sample_dev();
	struct vs_out o;
	struct buf b;

	d.nerrors = 1;
	buf_open(&b);
	vs_out_init(&o, b.f, true, true, false);
	vs_out_begin(&o);
	vs_print_dev(&o, &d);
	vs_out_end(&o);
	EXPECT_STREQ("[\n"
		     "    {\n"
		     "        \"dev\": 7,\n"
		     "        \"owner_pid\": 100,\n"
		     "        \"owner_comm\": \"qemu\",\n"
		     "        \"nregions\": 2,\n"
		     "        \"mappings\": 3,\n"
		     "        \"mapped_bytes\": 12288,\n"
		     "        \"maps\": 5,\n"
		     "        \"unmaps\": 2,\n"
		     "        \"failures\": 4,\n"
		     "        \"errors\": [\n"
		     "            {\n"
		     "                \"errno\": 17,\n"
		     "                \"name\": \"EEXIST\",\n"
		     "                \"count\": 3\n"
		     "            }\n"
		     "        ]\n"
		     "    }\n"
		     "]\n", buf_done(&b));
	free(b.data);
}

TEST(dev_json_no_errors)
{
	struct vs_dev_rec d = sample_dev();
	struct vs_out o;
	struct buf b;

	d.nerrors = 0;
	d.has_owner = false;
	buf_open(&b);
	vs_out_init(&o, b.f, true, false, false);
	vs_out_begin(&o);
	vs_print_dev(&o, &d);
	vs_out_end(&o);
	EXPECT_STREQ("[{\"dev\":7,\"nregions\":2,\"mappings\":3,\"mapped_bytes\":12288,"
		     "\"maps\":5,\"unmaps\":2,\"failures\":4,\"errors\":[]}]\n",
		     buf_done(&b));
	free(b.data);
}

TEST(region)
{
	struct vs_region_rec r = { .dev_id = 1, .shmid = 2, .size = 0x100000,
				   .flags = 1, .addr = 0x7f0000000000 };
	struct vs_out o;
	struct buf b;

	buf_open(&b);
	vs_out_init(&o, b.f, false, false, false);
	vs_print_region(&o, &r);
	r.addr = 0;
	r.flags = 0;
	vs_print_region(&o, &r);
	EXPECT_STREQ("dev 1 shmid 2 size 0x100000 addr 0x7f0000000000 holes fault\n"
		     "dev 1 shmid 2 size 0x100000 unmapped holes zero\n",
		     buf_done(&b));
	free(b.data);

	buf_open(&b);
	vs_out_init(&o, b.f, true, false, false);
	vs_out_begin(&o);
	vs_print_region(&o, &r);
	vs_out_end(&o);
	EXPECT_STREQ("[{\"dev\":1,\"shmid\":2,\"size\":1048576,\"flags\":0,"
		     "\"fault_holes\":false,\"addr\":0}]\n", buf_done(&b));
	free(b.data);
}

/* A region with three viewers attached, two of them listed. */
static struct vs_region_rec sample_viewed(void)
{
	struct vs_region_rec r = {
		.dev_id = 1, .shmid = 0, .size = 0x40000, .addr = 0x7f0000000000,
		.has_viewers = true, .nviewers = 3, .nlisted = 2,
		.viewers = {
			{ .pid = 901, .offset = 0, .len = 0x40000, .prot = 1 },
			{ .pid = 902, .offset = 0x4000, .len = 0x8000, .prot = 3 },
		},
	};

	strcpy(r.viewers[0].comm, "vu-backend");
	strcpy(r.viewers[1].comm, "a\tb");
	return r;
}

TEST(region_viewers_text)
{
	struct vs_region_rec r = sample_viewed();
	struct vs_out o;
	struct buf b;

	buf_open(&b);
	vs_out_init(&o, b.f, false, false, false);
	vs_print_region(&o, &r);
	r.nviewers = r.nlisted = 0;
	vs_print_region(&o, &r);
	EXPECT_STREQ("dev 1 shmid 0 size 0x40000 addr 0x7f0000000000 holes zero viewers 3\n"
		     "    viewer pid 901 comm vu-backend offset 0x0 len 0x40000 ro\n"
		     "    viewer pid 902 comm a\\x09b offset 0x4000 len 0x8000 rw\n"
		     "    viewers not listed 1\n"
		     "dev 1 shmid 0 size 0x40000 addr 0x7f0000000000 holes zero viewers 0\n",
		     buf_done(&b));
	EXPECT_EQ(2, o.nrec);
	free(b.data);
}

TEST(region_viewers_json)
{
	struct vs_region_rec r = sample_viewed();
	struct vs_out o;
	struct buf b;

	buf_open(&b);
	vs_out_init(&o, b.f, true, false, false);
	vs_out_begin(&o);
	vs_print_region(&o, &r);
	r.nviewers = r.nlisted = 0;
	vs_print_region(&o, &r);
	vs_out_end(&o);
	EXPECT_STREQ("[{\"dev\":1,\"shmid\":0,\"size\":262144,\"flags\":0,"
		     "\"fault_holes\":false,\"addr\":139637976727552,\"nviewers\":3,"
		     "\"viewers\":[{\"pid\":901,\"comm\":\"vu-backend\",\"offset\":0,"
		     "\"len\":262144,\"prot\":1,\"rw\":false},"
		     "{\"pid\":902,\"comm\":\"a\\tb\",\"offset\":16384,"
		     "\"len\":32768,\"prot\":3,\"rw\":true}]},"
		     "{\"dev\":1,\"shmid\":0,\"size\":262144,\"flags\":0,"
		     "\"fault_holes\":false,\"addr\":139637976727552,\"nviewers\":0,"
		     "\"viewers\":[]}]\n", buf_done(&b));
	free(b.data);
}

TEST(view_events)
{
	struct vs_event e = { .kind = VS_EV_VIEW_ATTACH };
	struct vs_out o;
	struct buf b;

	e.region = sample_viewed();
	e.region.nviewers = 0;
	e.region.has_viewers = false;
	e.region.nlisted = 1;
	e.region.viewers[0].has_result = true;
	e.region.viewers[0].result = -ENOSPC;
	buf_open(&b);
	vs_out_init(&o, b.f, false, false, true);
	vs_print_event(&o, &e);
	e.kind = VS_EV_VIEW_DETACH;
	e.region.viewers[0].has_result = false;
	vs_print_event(&o, &e);
	vs_out_init(&o, b.f, true, false, true);
	e.kind = VS_EV_VIEW_ATTACH;
	e.region.viewers[0].has_result = true;
	e.region.viewers[0].result = 0;
	vs_print_event(&o, &e);
	EXPECT_STREQ("view-attach dev 1 shmid 0 pid 901 comm vu-backend offset 0x0 "
		     "len 0x40000 ro result -28 (ENOSPC)\n"
		     "view-detach dev 1 shmid 0 pid 901 comm vu-backend offset 0x0 "
		     "len 0x40000 ro\n"
		     "{\"event\":\"view-attach\",\"dev\":1,\"shmid\":0,\"pid\":901,"
		     "\"comm\":\"vu-backend\",\"offset\":0,\"len\":262144,\"prot\":1,"
		     "\"rw\":false,\"result\":0}\n", buf_done(&b));
	free(b.data);
}

TEST(events_text)
{
	struct vs_event e = { .kind = VS_EV_MAP, .map = sample_map() };
	struct vs_out o;
	struct buf b;

	e.map.has_path = false;
	e.map.has_result = true;
	buf_open(&b);
	vs_out_init(&o, b.f, false, false, true);
	vs_print_event(&o, &e);
	e.map.has_file = false;
	e.map.result = -EEXIST;
	vs_print_event(&o, &e);
	e.map.result = -EXDEV;
	e.map.has_viewer_pid = true;
	e.map.viewer_pid = 254;
	vs_print_event(&o, &e);
	vs_out_init(&o, b.f, true, false, true);
	vs_print_event(&o, &e);
	vs_out_init(&o, b.f, false, false, true);
	e.map.has_viewer_pid = false;
	e.kind = VS_EV_UNMAP;
	e.map.has_fd_offset = false;
	e.map.result = 0;
	vs_print_event(&o, &e);
	e.kind = VS_EV_RESET;
	e.map.has_removed = true;
	e.map.removed = 4;
	vs_print_event(&o, &e);
	e.kind = VS_EV_DEV_CREATE;
	e.dev = sample_dev();
	vs_print_event(&o, &e);
	EXPECT_STREQ("map dev 3 shmid 1 offset 0x4000 len 0x2000 fd_offset 0x1000 rw "
		     "file 0:1 ino 42 result 0\n"
		     "map dev 3 shmid 1 offset 0x4000 len 0x2000 fd_offset 0x1000 rw "
		     "result -17 (EEXIST)\n"
		     "map dev 3 shmid 1 offset 0x4000 len 0x2000 fd_offset 0x1000 rw "
		     "result -18 (EXDEV) viewer 254\n"
		     "{\"event\":\"map\",\"dev\":3,\"shmid\":1,\"shm_offset\":16384,"
		     "\"len\":8192,\"fd_offset\":4096,\"flags\":1,\"rw\":true,"
		     "\"result\":-18,\"error\":\"EXDEV\",\"viewer_pid\":254}\n"
		     "unmap dev 3 shmid 1 offset 0x4000 len 0x2000 result 0\n"
		     "reset dev 3 removed 4\n"
		     "dev-create dev 7\n", buf_done(&b));
	free(b.data);
}

TEST(events_json_lines)
{
	struct vs_event e = { .kind = VS_EV_UNMAP };
	struct vs_out o;
	struct buf b;

	e.map.dev_id = 1;
	e.map.len = 4096;
	e.map.has_result = true;
	e.map.result = -ENOENT;
	buf_open(&b);
	vs_out_init(&o, b.f, true, false, true);
	vs_print_event(&o, &e);
	e.kind = VS_EV_DEV_DESTROY;
	e.dev.id = 1;
	vs_print_event(&o, &e);
	EXPECT_STREQ("{\"event\":\"unmap\",\"dev\":1,\"shmid\":0,\"shm_offset\":0,"
		     "\"len\":4096,\"result\":-2,\"error\":\"ENOENT\"}\n"
		     "{\"event\":\"dev-destroy\",\"dev\":1,\"nregions\":0,\"mappings\":0,"
		     "\"mapped_bytes\":0,\"maps\":0,\"unmaps\":0,\"failures\":0,"
		     "\"errors\":[]}\n", buf_done(&b));
	free(b.data);
}

TEST(escaping)
{
	struct vs_map_rec m = { .dev_id = 1, .has_path = true };
	struct vs_out o;
	struct buf b;

	strcpy(m.path, "a\nb\\c\x01");
	buf_open(&b);
	vs_out_init(&o, b.f, false, false, false);
	vs_print_map(&o, &m);
	vs_out_init(&o, b.f, true, false, true);
	vs_print_map(&o, &m);
	EXPECT_STREQ("dev 1 shmid 0 offset 0x0 len 0x0 path a\\x0ab\\x5cc\\x01\n"
		     "{\"dev\":1,\"shmid\":0,\"shm_offset\":0,\"len\":0,"
		     "\"path\":\"a\\nb\\\\c\\u0001\"}\n", buf_done(&b));
	free(b.data);
}

TEST(errno_names)
{
	char buf[32];

	EXPECT_STREQ("EEXIST", vs_errno_name(EEXIST, buf, sizeof(buf)));
	EXPECT_STREQ("EBADSLT", vs_errno_name(EBADSLT, buf, sizeof(buf)));
	EXPECT_STREQ("other", vs_errno_name(0, buf, sizeof(buf)));
	EXPECT_STREQ("errno 9999", vs_errno_name(9999, buf, sizeof(buf)));
}

TEST_HARNESS_MAIN
