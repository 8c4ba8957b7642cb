/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging: one line per event on the helper's log stream (stderr).
 *
 * Writing never waits for the reader: a line it has no room for is dropped
 * and counted, and the count is reported as soon as there is room again.
 * Lines of one format (one call site) are rate-limited: HLOG_BURST per
 * HLOG_WINDOW_MS; the rest are counted and summarized, with the last of
 * them, when the next window starts or at hlog_fini(). Trace lines
 * (--verbose) are not rate-limited.
 */
#ifndef HELPER_LOG_H
#define HELPER_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HLOG_LINE_MAX	512
#define HLOG_BURST	10
#define HLOG_WINDOW_MS	5000
#define HLOG_KEYS	16

/* Rate limit of one format. */
struct hlog_key {
	const char *fmt;		/* NULL: slot free */
	int64_t since_ms;		/* start of the current window */
	unsigned int lines;		/* written in this window */
	unsigned long suppressed;	/* since the last summary */
	char last[HLOG_LINE_MAX];	/* the last one suppressed */
};

struct hlog {
	int fd;			/* -1: nowhere */
	bool own_fd;		/* fd is a private non-blocking reopen */
	int restore_fl;		/* >= 0: file status flags to put back on fd */
	bool is_socket;		/* written with send(MSG_DONTWAIT) */
	bool verbose;
	unsigned long dropped;	/* lines lost since the last report */
	char pend[HLOG_LINE_MAX];	/* rest of a line the reader took in part */
	size_t npend;
	struct hlog_key keys[HLOG_KEYS];
};

enum hlog_level { HLOG_ERR, HLOG_WARN, HLOG_INFO, HLOG_TRACE };

/*
 * Logs to @fd (not owned) without ever blocking: a socket is written with
 * MSG_DONTWAIT, a pipe, FIFO or terminal through a private O_NONBLOCK open
 * of the same file (or, failing that, O_NONBLOCK on @fd until hlog_fini),
 * a regular file as it is.
 */
void hlog_init(struct hlog *l, int fd, bool verbose);
/* Summarizes what was suppressed or dropped (one attempt), releases. */
void hlog_fini(struct hlog *l);

void hlog(struct hlog *l, enum hlog_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "EEXIST" for EEXIST, or "errno N" for an unknown value. */
const char *errno_name(int err, char *buf, size_t len);

#define log_err(l, ...)   hlog((l), HLOG_ERR, __VA_ARGS__)
#define log_warn(l, ...)  hlog((l), HLOG_WARN, __VA_ARGS__)
#define log_info(l, ...)  hlog((l), HLOG_INFO, __VA_ARGS__)
#define log_trace(l, ...) hlog((l), HLOG_TRACE, __VA_ARGS__)

#endif
