/* SPDX-License-Identifier: GPL-2.0 */
/* Monotonic time in milliseconds, for timeouts and rate limits. */
#ifndef HELPER_CLOCK_H
#define HELPER_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

#endif
