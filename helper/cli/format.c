// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-shmem CLI output: text in iproute2's manner (one line per record,
 * "key value" pairs) or JSON (-j, compact; -p, indented by four spaces).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

void vs_out_init(struct vs_out *o, FILE *f, bool json, bool pretty, bool stream)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->json = json || pretty;
	o->pretty = pretty;
	o->stream = stream;
	o->first[0] = true;
}

const char *vs_errno_name(uint32_t err, char *buf, size_t len)
{
	const char *name;

	if (!err)
		return "other";
	name = strerrorname_np((int)err);
	if (name)
		return name;
	snprintf(buf, len, "errno %" PRIu32, err);
	return buf;
}

void vs_json_string(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Text output: control characters of paths and comms as \xNN. */
static void text_string(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

/* ---- a small JSON writer ---- */

static void newline(struct vs_out *o)
{
	unsigned int i;

	if (!o->pretty)
		return;
	fputc('\n', o->f);
	for (i = 0; i < o->depth; i++)
		fputs("    ", o->f);
}

/* Before a member of the current container. */
static void sep(struct vs_out *o)
{
	if (!o->first[o->depth])
		fputc(',', o->f);
	o->first[o->depth] = false;
	newline(o);
}

static void open_c(struct vs_out *o, char c)
{
	fputc(c, o->f);
	if (o->depth + 1 < VS_JSON_DEPTH)
		o->depth++;
	o->first[o->depth] = true;
}

static void close_c(struct vs_out *o, char c)
{
	bool empty = o->first[o->depth];

	if (o->depth)
		o->depth--;
	if (!empty)
		newline(o);
	fputc(c, o->f);
}

static void key(struct vs_out *o, const char *name)
{
	sep(o);
	vs_json_string(o->f, name);
	fputs(o->pretty ? ": " : ":", o->f);
}

static void j_u64(struct vs_out *o, const char *name, uint64_t v)
{
	key(o, name);
	fprintf(o->f, "%" PRIu64, v);
}

static void j_s64(struct vs_out *o, const char *name, int64_t v)
{
	key(o, name);
	fprintf(o->f, "%" PRId64, v);
}

static void j_str(struct vs_out *o, const char *name, const char *v)
{
	key(o, name);
	vs_json_string(o->f, v);
}

static void j_bool(struct vs_out *o, const char *name, bool v)
{
	key(o, name);
	fputs(v ? "true" : "false", o->f);
}

/* A record: an element of the top array, or a line of its own (stream). */
static void rec_begin(struct vs_out *o)
{
	if (o->stream) {
		o->depth = 0;
		o->first[0] = true;
	} else {
		sep(o);
	}
	open_c(o, '{');
}

static void rec_end(struct vs_out *o)
{
	close_c(o, '}');
	if (o->stream)
		fputc('\n', o->f);
	o->nrec++;
}

void vs_out_begin(struct vs_out *o)
{
	if (o->json && !o->stream)
		open_c(o, '[');
}

void vs_out_end(struct vs_out *o)
{
	if (o->json && !o->stream) {
		close_c(o, ']');
		fputc('\n', o->f);
	}
	fflush(o->f);
}

/* ---- records ---- */

/* An event's result: 0 or a negative errno, named. */
static void j_result(struct vs_out *o, int32_t result)
{
	char buf[32];

	j_s64(o, "result", result);
	if (result)
		j_str(o, "error", vs_errno_name((uint32_t)-result, buf, sizeof(buf)));
}

static void text_result(struct vs_out *o, int32_t result)
{
	char buf[32];

	fprintf(o->f, " result %" PRId32, result);
	if (result)
		fprintf(o->f, " (%s)", vs_errno_name((uint32_t)-result, buf,
						     sizeof(buf)));
}

static void json_dev_body(struct vs_out *o, const struct vs_dev_rec *d)
{
	char buf[32];
	unsigned int i;

	j_u64(o, "dev", d->id);
	if (d->has_owner) {
		j_u64(o, "owner_pid", d->owner_pid);
		j_str(o, "owner_comm", d->owner_comm);
	}
	j_u64(o, "nregions", d->nregions);
	j_u64(o, "mappings", d->mappings);
	j_u64(o, "mapped_bytes", d->mapped_bytes);
	j_u64(o, "maps", d->maps);
	j_u64(o, "unmaps", d->unmaps);
	j_u64(o, "failures", d->failures);
	key(o, "errors");
	open_c(o, '[');
	for (i = 0; i < d->nerrors; i++) {
		sep(o);
		open_c(o, '{');
		j_u64(o, "errno", d->errors[i].err);
		j_str(o, "name", vs_errno_name(d->errors[i].err, buf, sizeof(buf)));
		j_u64(o, "count", d->errors[i].count);
		close_c(o, '}');
	}
	close_c(o, ']');
}

static void text_dev_body(struct vs_out *o, const struct vs_dev_rec *d)
{
	char buf[32];
	unsigned int i;

	fprintf(o->f, "dev %" PRIu32, d->id);
	if (d->has_owner) {
		fprintf(o->f, " owner %" PRIu32 " comm ", d->owner_pid);
		text_string(o->f, d->owner_comm);
	} else {
		fputs(" owner none", o->f);
	}
	fprintf(o->f, " regions %" PRIu32 " mappings %" PRIu64 " bytes %" PRIu64
		" maps %" PRIu64 " unmaps %" PRIu64 " failures %" PRIu64,
		d->nregions, d->mappings, d->mapped_bytes, d->maps, d->unmaps,
		d->failures);
	if (d->nerrors) {
		fputs("\n    errors", o->f);
		for (i = 0; i < d->nerrors; i++)
			fprintf(o->f, " %s %" PRIu64,
				vs_errno_name(d->errors[i].err, buf, sizeof(buf)),
				d->errors[i].count);
	}
}

void vs_print_dev(struct vs_out *o, const struct vs_dev_rec *d)
{
	if (o->json) {
		rec_begin(o);
		json_dev_body(o, d);
		rec_end(o);
		return;
	}
	text_dev_body(o, d);
	fputc('\n', o->f);
	o->nrec++;
}

static void json_viewer_body(struct vs_out *o, const struct vs_viewer_rec *v)
{
	j_u64(o, "pid", v->pid);
	j_str(o, "comm", v->comm);
	j_u64(o, "offset", v->offset);
	j_u64(o, "len", v->len);
	j_u64(o, "prot", v->prot);
	j_bool(o, "rw", v->prot & 2);
	if (v->has_result)
		j_result(o, v->result);
}

static void text_viewer_body(struct vs_out *o, const struct vs_viewer_rec *v)
{
	fprintf(o->f, "pid %" PRIu32 " comm ", v->pid);
	text_string(o->f, v->comm);
	fprintf(o->f, " offset 0x%" PRIx64 " len 0x%" PRIx64 " %s", v->offset,
		v->len, v->prot & 2 ? "rw" : "ro");
	if (v->has_result)
		text_result(o, v->result);
}

void vs_print_region(struct vs_out *o, const struct vs_region_rec *r)
{
	unsigned int i;

	if (o->json) {
		rec_begin(o);
		j_u64(o, "dev", r->dev_id);
		j_u64(o, "shmid", r->shmid);
		j_u64(o, "size", r->size);
		j_u64(o, "flags", r->flags);
		j_bool(o, "fault_holes", r->flags & 1);
		j_u64(o, "addr", r->addr);
		if (r->has_viewers) {
			j_u64(o, "nviewers", r->nviewers);
			key(o, "viewers");
			open_c(o, '[');
			for (i = 0; i < r->nlisted; i++) {
				sep(o);
				open_c(o, '{');
				json_viewer_body(o, &r->viewers[i]);
				close_c(o, '}');
			}
			close_c(o, ']');
		}
		rec_end(o);
		return;
	}
	fprintf(o->f, "dev %" PRIu32 " shmid %" PRIu32 " size 0x%" PRIx64,
		r->dev_id, r->shmid, r->size);
	if (r->addr)
		fprintf(o->f, " addr 0x%" PRIx64, r->addr);
	else
		fputs(" unmapped", o->f);
	fputs(r->flags & 1 ? " holes fault" : " holes zero", o->f);
	if (r->has_viewers)
		fprintf(o->f, " viewers %" PRIu32, r->nviewers);
	for (i = 0; i < r->nlisted; i++) {
		fputs("\n    viewer ", o->f);
		text_viewer_body(o, &r->viewers[i]);
	}
	if (r->nviewers > r->nlisted)
		fprintf(o->f, "\n    viewers not listed %" PRIu32,
			r->nviewers - r->nlisted);
	fputc('\n', o->f);
	o->nrec++;
}

static void json_map_body(struct vs_out *o, const struct vs_map_rec *m)
{
	j_u64(o, "dev", m->dev_id);
	if (m->has_removed) {
		j_u64(o, "removed", m->removed);
		return;
	}
	j_u64(o, "shmid", m->shmid);
	j_u64(o, "shm_offset", m->shm_offset);
	j_u64(o, "len", m->len);
	if (m->has_fd_offset) {
		j_u64(o, "fd_offset", m->fd_offset);
		j_u64(o, "flags", m->flags);
		j_bool(o, "rw", m->flags & 1);
	}
	if (m->has_file) {
		j_u64(o, "file_major", m->file_major);
		j_u64(o, "file_minor", m->file_minor);
		j_u64(o, "ino", m->ino);
	}
	if (m->has_path)
		j_str(o, "path", m->path);
	if (m->has_result)
		j_result(o, m->result);
	if (m->has_viewer_pid)
		j_u64(o, "viewer_pid", m->viewer_pid);
}

static void text_map_body(struct vs_out *o, const struct vs_map_rec *m)
{
	fprintf(o->f, "dev %" PRIu32, m->dev_id);
	if (m->has_removed) {
		fprintf(o->f, " removed %" PRIu64, m->removed);
		return;
	}
	fprintf(o->f, " shmid %" PRIu32 " offset 0x%" PRIx64 " len 0x%" PRIx64,
		m->shmid, m->shm_offset, m->len);
	if (m->has_fd_offset)
		fprintf(o->f, " fd_offset 0x%" PRIx64 " %s", m->fd_offset,
			m->flags & 1 ? "rw" : "ro");
	if (m->has_file)
		fprintf(o->f, " file %" PRIu32 ":%" PRIu32 " ino %" PRIu64,
			m->file_major, m->file_minor, m->ino);
	if (m->has_path) {
		fputs(" path ", o->f);
		text_string(o->f, m->path);
	}
	if (m->has_result)
		text_result(o, m->result);
	if (m->has_viewer_pid)
		fprintf(o->f, " viewer %" PRIu32, m->viewer_pid);
}

void vs_print_map(struct vs_out *o, const struct vs_map_rec *m)
{
	if (o->json) {
		rec_begin(o);
		json_map_body(o, m);
		rec_end(o);
		return;
	}
	text_map_body(o, m);
	fputc('\n', o->f);
	o->nrec++;
}

static const char *const vs_event_names[] = {
	[VS_EV_MAP] = "map",
	[VS_EV_UNMAP] = "unmap",
	[VS_EV_RESET] = "reset",
	[VS_EV_DEV_CREATE] = "dev-create",
	[VS_EV_DEV_DESTROY] = "dev-destroy",
	[VS_EV_VIEW_ATTACH] = "view-attach",
	[VS_EV_VIEW_DETACH] = "view-detach",
};

/* A view event's body: the region and its one viewer. */
static void view_event_body(struct vs_out *o, const struct vs_region_rec *r)
{
	if (o->json) {
		j_u64(o, "dev", r->dev_id);
		j_u64(o, "shmid", r->shmid);
		if (r->nlisted)
			json_viewer_body(o, &r->viewers[0]);
		return;
	}
	fprintf(o->f, "dev %" PRIu32 " shmid %" PRIu32, r->dev_id, r->shmid);
	if (r->nlisted) {
		fputc(' ', o->f);
		text_viewer_body(o, &r->viewers[0]);
	}
}

void vs_print_event(struct vs_out *o, const struct vs_event *e)
{
	bool is_dev = e->kind == VS_EV_DEV_CREATE || e->kind == VS_EV_DEV_DESTROY;
	bool is_view = e->kind == VS_EV_VIEW_ATTACH || e->kind == VS_EV_VIEW_DETACH;
	const char *name = (unsigned int)e->kind <
		sizeof(vs_event_names) / sizeof(vs_event_names[0]) ?
		vs_event_names[e->kind] : "unknown";

	if (o->json) {
		rec_begin(o);
		j_str(o, "event", name);
		if (is_dev)
			json_dev_body(o, &e->dev);
		else if (is_view)
			view_event_body(o, &e->region);
		else
			json_map_body(o, &e->map);
		rec_end(o);
	} else {
		fprintf(o->f, "%s ", name);
		if (e->kind == VS_EV_DEV_CREATE)
			fprintf(o->f, "dev %" PRIu32, e->dev.id);
		else if (is_dev)
			text_dev_body(o, &e->dev);
		else if (is_view)
			view_event_body(o, &e->region);
		else
			text_map_body(o, &e->map);
		fputc('\n', o->f);
		o->nrec++;
	}
	fflush(o->f);
}
