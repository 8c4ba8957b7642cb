/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reduced fuzzer programs, run first by fuzz_test (one TAP result each).
 * Paste what a failing run prints after "paste into
 * selftests/fuzz/regressions.h" here, with a line saying what it caught.
 */
