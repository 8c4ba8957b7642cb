/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzz harness: one schedule (sched.h) against one proxy engine, in
 * this process, on socketpairs, with the fake device (tests/fake_dev.c).
 * Used by the libFuzzer target (fuzz_proxy.c) and the seed corpus writer
 * (mkcorpus.c).
 */
#ifndef FUZZ_HARNESS_H
#define FUZZ_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy.h"

/* What one schedule did, for the corpus writer to check its seeds. */
struct fz_result {
	enum proxy_end end;
	unsigned int configs, maps, maps_ok, unmaps, unmaps_ok, batches, resets;
	unsigned int views;		/* GET_VIEWs that gave an fd */
	/* Bytes and fds the peers received, by side (sched.h: enum fz_side). */
	size_t rx_bytes[4];
	unsigned int rx_fds[4];
};

/*
 * Runs the schedule @data, then checks that the engine became idle after
 * every step, that the session ended once every peer closed its sockets,
 * that every fd the engine had is closed and that the harness's own fds
 * are intact. A failed check prints why on stderr and aborts (libFuzzer
 * saves the input). @res may be NULL. @trace: log every action and the
 * helper's log (verbose) on stderr.
 */
void fz_run(const uint8_t *data, size_t len, struct fz_result *res, bool trace);

#endif
