// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define PREFIX "vhost-shmem-helper: "

static const char *const level_names[] = {
	[HLOG_ERR] = "error", [HLOG_WARN] = "warning",
	[HLOG_INFO] = "info", [HLOG_TRACE] = "trace",
};

void hlog_init(struct hlog *l, int fd, bool verbose)
{
	struct stat st;
	char path[32];
	int fl;

	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->restore_fl = -1;
	l->verbose = verbose;
	if (fstat(fd, &st)) {
		l->fd = -1;
		return;
	}
	if (S_ISSOCK(st.st_mode)) {
		l->is_socket = true;
		return;
	}
	if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
		return;		/* a file: writing it does not wait for a reader */
	/* Others may share @fd's open file description: leave its flags alone. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	l->fd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (l->fd >= 0) {
		l->own_fd = true;
		return;
	}
	l->fd = fd;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK) && !fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		l->restore_fl = fl;
}

/* One attempt that does not wait; bytes written or -1. */
static ssize_t out_write(const struct hlog *l, const char *buf, size_t len)
{
	ssize_t n;

	do
		n = l->is_socket ? send(l->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) :
				   write(l->fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Writes a whole line, or nothing: false if the reader had no room. */
static bool put_line(struct hlog *l, const char *line, size_t len)
{
	ssize_t n;

	if (l->fd < 0)
		return false;
	if (l->npend) {		/* finish the line the reader took in part */
		n = out_write(l, l->pend, l->npend);
		if (n <= 0)
			return false;
		l->npend -= (size_t)n;
		memmove(l->pend, l->pend + n, l->npend);
		if (l->npend)
			return false;
	}
	n = out_write(l, line, len);
	if (n <= 0)
		return false;
	l->npend = len - (size_t)n;
	memcpy(l->pend, line + n, l->npend);
	return true;
}

/* Formats "PREFIX LEVEL: TEXT\n", cut to fit @size; returns its length. */
static size_t format_line(char *buf, size_t size, enum hlog_level lvl,
			  const char *fmt, va_list ap)
{
	int n = snprintf(buf, size, PREFIX "%s: ", level_names[lvl]);
	int m = vsnprintf(buf + n, size - (size_t)n, fmt, ap);
	size_t len = (size_t)n + (m > 0 ? (size_t)m : 0);

	if (len > size - 2)
		len = size - 2;
	buf[len++] = '\n';
	buf[len] = 0;
	return len;
}

/* The helper's own warnings about its log: never rate-limited nor counted. */
static bool notice(struct hlog *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool notice(struct hlog *l, const char *fmt, ...)
{
	char line[HLOG_LINE_MAX];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = format_line(line, sizeof(line), HLOG_WARN, fmt, ap);
	va_end(ap);
	return put_line(l, line, len);
}

static void report_dropped(struct hlog *l)
{
	if (l->dropped && notice(l, "%lu log line(s) dropped: the log was not read "
				 "in time", l->dropped))
		l->dropped = 0;
}

static void report_suppressed(struct hlog *l, struct hlog_key *k)
{
	if (!k->suppressed)
		return;
	if (!notice(l, "%lu similar line(s) suppressed, the last: %s", k->suppressed,
		    k->last))
		l->dropped++;
	k->suppressed = 0;
}

/* The slot of @fmt: its own, a free one, or the least recent one. */
static struct hlog_key *key_of(struct hlog *l, const char *fmt)
{
	struct hlog_key *k = NULL;

	for (unsigned int i = 0; i < HLOG_KEYS; i++) {
		if (l->keys[i].fmt == fmt)
			return &l->keys[i];
		if (!k || !l->keys[i].fmt ||
		    (k->fmt && l->keys[i].since_ms < k->since_ms))
			k = &l->keys[i];
	}
	report_suppressed(l, k);
	memset(k, 0, sizeof(*k));
	k->fmt = fmt;
	return k;
}

/* May this line of @fmt go out now? If not, it is counted and kept. */
static bool rate_ok(struct hlog *l, const char *fmt, const char *line)
{
	struct hlog_key *k = key_of(l, fmt);
	int64_t now = mono_ms();

	if (!k->since_ms || now - k->since_ms >= HLOG_WINDOW_MS) {
		report_suppressed(l, k);
		k->since_ms = now;
		k->lines = 0;
	}
	if (k->lines < HLOG_BURST) {
		k->lines++;
		return true;
	}
	k->suppressed++;
	snprintf(k->last, sizeof(k->last), "%.*s", (int)(strlen(line) - 1 - strlen(PREFIX)),
		 line + strlen(PREFIX));
	return false;
}

void hlog(struct hlog *l, enum hlog_level lvl, const char *fmt, ...)
{
	char line[HLOG_LINE_MAX];
	va_list ap;
	size_t len;

	if (lvl == HLOG_TRACE && !l->verbose)
		return;
	va_start(ap, fmt);
	len = format_line(line, sizeof(line), lvl, fmt, ap);
	va_end(ap);
	if (lvl != HLOG_TRACE && !rate_ok(l, fmt, line))
		return;
	report_dropped(l);
	if (!put_line(l, line, len))
		l->dropped++;
}

void hlog_fini(struct hlog *l)
{
	for (unsigned int i = 0; i < HLOG_KEYS; i++)
		report_suppressed(l, &l->keys[i]);
	report_dropped(l);
	if (l->own_fd)
		close(l->fd);
	else if (l->restore_fl >= 0)
		fcntl(l->fd, F_SETFL, l->restore_fl);
	l->fd = -1;
}

#define E(x) { x, #x }
static const struct { int err; const char *name; } errnames[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
	E(EBADF), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(EBUSY),
	E(EEXIST), E(EXDEV), E(ENODEV), E(EINVAL), E(ENFILE), E(EMFILE),
	E(ENOTTY), E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EPIPE),
	E(ERANGE), E(ELOOP), E(ENOSYS), E(EOVERFLOW), E(EBADFD), E(EBADSLT),
	E(EOPNOTSUPP), E(ECONNRESET), E(ETIMEDOUT), E(ECONNREFUSED),
	E(ENOTCONN), E(EPROTO),
};

const char *errno_name(int err, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	snprintf(buf, len, "errno %d", err);
	return buf;
}
