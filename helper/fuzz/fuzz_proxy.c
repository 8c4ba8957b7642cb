// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: each input is a schedule (sched.h) run by the harness
 * (harness.c) against the proxy engine. HELPER_FUZZ_TRACE=1 in the
 * environment prints every action and the helper's verbose log, to see
 * what a saved input does:
 *
 *   HELPER_FUZZ_TRACE=1 build/helper/fuzz/helper-fuzz crash-...
 *
 * No state outlives one input: libFuzzer's two entry points below are the
 * only globals, and they keep none.
 */
#include <signal.h>
#include <stdlib.h>

#include "harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* As the helper does: a peer that went away gives EPIPE, not death. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run(data, size, NULL, getenv("HELPER_FUZZ_TRACE") != NULL);
	return 0;
}
