// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static const char *const level_names[] = {
	[HLOG_ERR] = "error", [HLOG_WARN] = "warning",
	[HLOG_INFO] = "info", [HLOG_TRACE] = "trace",
};

void hlog(const struct hlog *l, enum hlog_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (lvl == HLOG_TRACE && !l->verbose)
		return;
	fprintf(l->out, "vhost-shmem-helper: %s: ", level_names[lvl]);
	va_start(ap, fmt);
	vfprintf(l->out, fmt, ap);
	va_end(ap);
	fputc('\n', l->out);
	fflush(l->out);
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
