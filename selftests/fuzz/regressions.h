/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reduced fuzzer programs, run first by fuzz_test (one TAP result each).
 * Paste what a failing run prints after "paste into
 * selftests/fuzz/regressions.h" here, with a line saying what it caught.
 */

/*
 * Module bugs found by the fuzzer (reduced programs). They fail, or oops
 * the kernel, with kmod/ as of 8be5f08; build with -DFZ_KNOWN_BUGS to run
 * them (e.g. make -C selftests CFLAGS="-O2 -g -DFZ_KNOWN_BUGS") once the
 * fixes are in, then drop the #ifdef.
 */
#ifdef FZ_KNOWN_BUGS
/* BATCH on a device without owner: NULL wake_up_process() in run_in_owner. */
FZ_REGRESSION(seed_d7a7c91f8d54e796, FZ_SOLO, 0, 0,
	{ .kind = K_OPEN, .var = 1 },
	{ .kind = K_BATCH },
	{ .kind = K_BOP_UNMAP, .shmid = 2, .b = 0x4000, .c = 0x4000 },
)
/* 6.12: F_SEAL_WRITE fails with EBUSY after a read-only MAP was removed. */
FZ_REGRESSION(seed_62f2d610d5260277, FZ_SOLO, 0, 0,
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 254, .a = 0x1601 },
	{ .kind = K_MMAP, .shmid = 254, .a = 0x1000 },
	{ .kind = K_FILE_NEW, .file = 6, .var = 1, .a = 0x18 },
	{ .kind = K_BATCH },
	{ .kind = K_BOP_MAP, .file = 6, .shmid = 254, .a = 0xb000, .c = 0x1000 },
	{ .kind = K_RESET },
	{ .kind = K_SEAL, .file = 6 },
)
/* MAP of /dev/zero always fails with EBUSY (shmem_zero_setup swaps vm_file). */
FZ_REGRESSION(seed_91ee995b8b735cf4, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 2, .var = 5, .a = 0x2e },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .a = 0x6 },
	{ .kind = K_MMAP, .var = 1, .a = 0x6000 },
	{ .kind = K_MAP, .file = 2, .c = 0x6000 },
)
/* An O_RDONLY device cannot mmap a region read-only: EINVAL (VM_SHARED dropped). */
FZ_REGRESSION(seed_1a2aa49fef3bf2ec, FZ_SOLO, 0, 0,
	{ .kind = K_OPEN, .fd = 1, .var = 1 },
	{ .kind = K_SET_OWNER, .fd = 1 },
	{ .kind = K_SET_CONFIG, .fd = 1, .shmid = 100, .a = 0x1104 },
	{ .kind = K_MMAP, .fd = 1, .reg = 1, .var = 1, .shmid = 101, .a = 0x11000 },
)
/* UNMAP merges holes and so undoes the owner's mprotect(PROT_READ) of them. */
FZ_REGRESSION(seed_de172fc22beef66d, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 1, .var = 1, .a = 0x1f },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 1, .a = 0x7 },
	{ .kind = K_MMAP, .shmid = 1, .a = 0x7000 },
	{ .kind = K_MPROTECT, .a = 0x3, .b = 0x6 },
	{ .kind = K_BATCH },
	{ .kind = K_BOP_MAP, .file = 1, .shmid = 1, .a = 0x19000, .b = 0x6000, .c = 0x1000 },
	{ .kind = K_BOP_UNMAP, .shmid = 1, .b = 0x6000, .c = 0x1000 },
	{ .kind = K_WRITE, .a = 0x3, .b = 0x1 },
)
#endif
