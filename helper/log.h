/* SPDX-License-Identifier: GPL-2.0 */
/* Logging: one line per event on the helper's log stream (stderr). */
#ifndef HELPER_LOG_H
#define HELPER_LOG_H

#include <stdbool.h>
#include <stdio.h>

struct hlog {
	FILE *out;
	bool verbose;
};

enum hlog_level { HLOG_ERR, HLOG_WARN, HLOG_INFO, HLOG_TRACE };

void hlog(const struct hlog *l, enum hlog_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "EEXIST" for EEXIST, or "errno N" for an unknown value. */
const char *errno_name(int err, char *buf, size_t len);

#define log_err(l, ...)   hlog((l), HLOG_ERR, __VA_ARGS__)
#define log_warn(l, ...)  hlog((l), HLOG_WARN, __VA_ARGS__)
#define log_info(l, ...)  hlog((l), HLOG_INFO, __VA_ARGS__)
#define log_trace(l, ...) hlog((l), HLOG_TRACE, __VA_ARGS__)

#endif
