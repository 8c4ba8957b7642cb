/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-shmem CLI: the records the kernel reports and how they are printed
 * (plain text in iproute2's style, or JSON, compact or pretty). No netlink
 * here, so the formatting is unit-tested on the host (tests/format_test.c).
 */
#ifndef VS_CLI_FORMAT_H
#define VS_CLI_FORMAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VS_MAX_ERRORS	64
#define VS_PATH_MAX	4096
#define VS_JSON_DEPTH	8
/* Viewers listed per region record; the kernel's nviewers counts all. */
#define VS_MAX_VIEWERS	64

struct vs_error_count {
	uint32_t err;		/* positive errno, 0 = other */
	uint64_t count;
};

struct vs_dev_rec {
	uint32_t id;
	bool has_owner;
	uint32_t owner_pid;
	char owner_comm[64];
	uint32_t nregions;
	uint64_t mappings, mapped_bytes, maps, unmaps, failures;
	unsigned int nerrors;
	struct vs_error_count errors[VS_MAX_ERRORS];
};

/* A viewer of a region: an mmap of one of its view fds. */
struct vs_viewer_rec {
	uint32_t pid;		/* initial pid namespace */
	char comm[16];
	uint64_t offset, len;	/* the part of the region it maps */
	uint32_t prot;		/* PROT_READ, | PROT_WRITE for a read-write view */
	bool has_result;	/* attach events */
	int32_t result;
};

struct vs_region_rec {
	uint32_t dev_id, shmid, flags;
	uint64_t size, addr;
	bool has_viewers;	/* the kernel reports viewers (nviewers) */
	uint32_t nviewers;	/* attached now, listed or not */
	unsigned int nlisted;	/* in viewers[] */
	struct vs_viewer_rec viewers[VS_MAX_VIEWERS];
};

struct vs_map_rec {
	uint32_t dev_id, shmid;
	uint64_t shm_offset, len;
	bool has_fd_offset;	/* MAP records; UNMAP events have none */
	uint64_t fd_offset, flags;
	bool has_file;
	uint32_t file_major, file_minor;
	uint64_t ino;
	bool has_path;
	char path[VS_PATH_MAX];
	bool has_result;	/* events */
	int32_t result;
	bool has_removed;	/* reset events */
	uint64_t removed;
	bool has_viewer_pid;	/* failed MAP events: the viewer that refused */
	uint32_t viewer_pid;
};

enum vs_event_kind {
	VS_EV_MAP,
	VS_EV_UNMAP,
	VS_EV_RESET,
	VS_EV_DEV_CREATE,
	VS_EV_DEV_DESTROY,
	VS_EV_VIEW_ATTACH,
	VS_EV_VIEW_DETACH,
};

struct vs_event {
	enum vs_event_kind kind;
	struct vs_dev_rec dev;	/* DEV_CREATE, DEV_DESTROY */
	struct vs_map_rec map;	/* MAP, UNMAP, RESET */
	/* VIEW_ATTACH, VIEW_DETACH: dev_id, shmid and one viewer */
	struct vs_region_rec region;
};

/*
 * Output state: one per command. In JSON, a show command prints one array
 * of objects; monitor prints one object per event (JSON lines, or one
 * pretty object after another).
 */
struct vs_out {
	FILE *f;
	bool json;
	bool pretty;
	bool stream;		/* monitor: no enclosing array */
	unsigned int nrec;	/* records printed so far */
	unsigned int depth;	/* JSON nesting */
	bool first[VS_JSON_DEPTH];	/* no member printed yet at a depth */
};

void vs_out_init(struct vs_out *o, FILE *f, bool json, bool pretty, bool stream);
/* Array brackets around a show command's records (JSON only). */
void vs_out_begin(struct vs_out *o);
void vs_out_end(struct vs_out *o);

void vs_print_dev(struct vs_out *o, const struct vs_dev_rec *d);
void vs_print_region(struct vs_out *o, const struct vs_region_rec *r);
void vs_print_map(struct vs_out *o, const struct vs_map_rec *m);
void vs_print_event(struct vs_out *o, const struct vs_event *e);

/* "EEXIST" for 17, "other" for 0, else "errno N" in @buf. */
const char *vs_errno_name(uint32_t err, char *buf, size_t len);
/* Writes @s as a JSON string (quotes included, escaped). */
void vs_json_string(FILE *f, const char *s);

#endif /* VS_CLI_FORMAT_H */
