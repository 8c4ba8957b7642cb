/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reduced fuzzer programs, run first by fuzz_test (one TAP result each).
 * Paste what a failing run prints after "paste into
 * selftests/fuzz/regressions.h" here, with a line saying what it caught.
 */

/* BATCH on a device without owner: NULL wake_up_process() in run_in_owner
 * (fixed by 20a6145: every operation fails with EBADFD).
 */
FZ_REGRESSION(seed_d7a7c91f8d54e796, FZ_SOLO, 0, 0,
	{ .kind = K_OPEN, .var = 1 },
	{ .kind = K_BATCH },
	{ .kind = K_BOP_UNMAP, .shmid = 2, .b = 0x4000, .c = 0x4000 },
)
/* 6.12: F_SEAL_WRITE failed with EBUSY after a read-only MAP was removed
 * (fixed by 20a6145: read-only MAPs map a read-only reopening).
 */
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
/* MAP of /dev/zero always failed with EBUSY (shmem_zero_setup swaps
 * vm_file; fixed by 20a6145). The reduced program mapped read-only, which
 * is now EACCES (a writable non-regular file); the read-write MAP below
 * checks the fix, the read-only one the new refusal.
 */
FZ_REGRESSION(seed_91ee995b8b735cf4, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 2, .var = 5, .a = 0x2e },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .a = 0x6 },
	{ .kind = K_MMAP, .var = 1, .a = 0x6000 },
	{ .kind = K_MAP, .file = 2, .c = 0x6000 },
	{ .kind = K_MAP, .file = 2, .c = 0x6000, .d = VHOST_SHMEM_MAP_F_RW },
	{ .kind = K_WRITE, .a = 0x2 },
	{ .kind = K_READ, .a = 0x2 },
	{ .kind = K_UNMAP, .c = 0x6000 },
	{ .kind = K_READ, .a = 0x2 },
)
/* UNMAP merged holes and so undid the owner's mprotect(PROT_NONE) of them
 * (fixed by 20a6145: an mprotect'ed hole is the owner's). The reduced
 * program MAPs over the protected hole, now EXDEV; the second half maps
 * next to it instead, so that the merge after the UNMAP runs beside it.
 */
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
	{ .kind = K_MPROTECT, .a = 0x0, .b = 0x3, .var = 2 },
	{ .kind = K_MAP, .file = 1, .shmid = 1, .a = 0x1000, .b = 0x2000, .c = 0x1000,
	  .d = VHOST_SHMEM_MAP_F_RW },
	{ .kind = K_UNMAP, .shmid = 1, .b = 0x2000, .c = 0x1000 },
	{ .kind = K_READ, .a = 0x3 },
	{ .kind = K_WRITE, .a = 0x2 },
	{ .kind = K_RESET },
	{ .kind = K_READ, .a = 0x3 },
)

/* An O_RDONLY device could not mmap a region read-only: EINVAL, because
 * do_mmap() drops VM_SHARED for a file not open for writing and the
 * region's ->mmap wanted VM_SHARED (fixed by f0fe961: VM_MAYSHARE).
 */
FZ_REGRESSION(seed_1a2aa49fef3bf2ec, FZ_SOLO, 0, 0,
	{ .kind = K_OPEN, .fd = 1, .var = 1 },
	{ .kind = K_SET_OWNER, .fd = 1 },
	{ .kind = K_SET_CONFIG, .fd = 1, .shmid = 100, .a = 0x1104 },
	{ .kind = K_MMAP, .fd = 1, .reg = 1, .var = 1, .shmid = 101, .a = 0x11000 },
)

/* UNMAP of a mapping the owner mprotect()ed (one page PROT_NONE): the
 * module removed it while the UNMAP table said EXDEV, "it stays listed";
 * 39618e7 made the documentation say what the module does: removed like
 * any other (seed 0xd609dba429593502, both kernels).
 */
FZ_REGRESSION(seed_d609dba429593502, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .var = 3, .a = 0x7 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 1, .a = 0x110 },
	{ .kind = K_MMAP, .shmid = 1, .a = 0x10000 },
	{ .kind = K_MAP, .shmid = 1, .a = 0x1000, .b = 0x5000, .c = 0x6000 },
	{ .kind = K_MPROTECT, .a = 0x8, .b = 0x1 },
	{ .kind = K_UNMAP, .shmid = 1, .b = 0x5000, .c = 0x6000 },
)
/* The same through RESET: 0 and the mapping gone (the RESET table said
 * EBUSY, kept as UNMAP's EXDEV, until 39618e7).
 */
FZ_REGRESSION(seed_5a5b0ad5676becbb, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 3, .var = 1, .a = 0x14 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 253, .a = 0x180b13, .b = 0x10000 },
	{ .kind = K_MMAP, .reg = 1, .shmid = 254, .a = 0xb000 },
	{ .kind = K_MAP, .file = 3, .reg = 1, .shmid = 254, .a = 0xa000, .b = 0x2000, .c = 0x6000, .d = 0x1 },
	{ .kind = K_MPROTECT, .reg = 1, .a = 0x1, .b = 0x3 },
	{ .kind = K_RESET },
)

/* At vm.max_map_count a MAP of a write-sealed memfd failed with ENOMEM
 * where the model said EPERM: do_mmap() counts vmas before the backend's
 * seals (a model bug; seed 0x570b004b70731d84, 6.1). Both MAPs may fail
 * with ENOMEM and must leave the hole; once the limit is back, a MAP
 * works and shows the file.
 */
FZ_REGRESSION(seed_570b004b70731d84, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .var = 1, .a = 0x8 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .a = 0x8 },
	{ .kind = K_MMAP, .a = 0x8000 },
	{ .kind = K_SEAL },
	{ .kind = K_MAXMAP },
	{ .kind = K_MAP, .b = 0x2000, .c = 0x1000, .d = VHOST_SHMEM_MAP_F_RW },
	{ .kind = K_MAP, .a = 0x1000, .b = 0x3000, .c = 0x1000 },
	{ .kind = K_READ, .a = 0x2 },
	{ .kind = K_READ, .a = 0x3 },
	{ .kind = K_MAXMAP, .var = 1 },
	{ .kind = K_MAP, .a = 0x2000, .b = 0x5000, .c = 0x1000 },
	{ .kind = K_READ, .a = 0x5 },
	{ .kind = K_GET_STATS },
)

/* A mapping registered with userfaultfd: RESET must keep it (EBUSY)
 * without waiting, and take it once the userfaultfd is closed. Reduced
 * on 6.1 from a run with check_range_locked()'s userfaultfd_armed()
 * test deleted (RESET then returned 0); the last three ops are added.
 * 6.12+ refuses the registration (EINVAL), and RESET is 0 at once.
 */
FZ_REGRESSION(seed_9558899f6ea69bd4, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 2, .var = 3, .a = 0xd },
	{ .kind = K_OPEN, .fd = 2 },
	{ .kind = K_SET_OWNER, .fd = 2 },
	{ .kind = K_SET_CONFIG, .fd = 2, .shmid = 7, .a = 0xd },
	{ .kind = K_MMAP, .fd = 2, .shmid = 7, .a = 0xd000 },
	{ .kind = K_BATCH, .fd = 2 },
	{ .kind = K_BOP_MAP, .fd = 2, .file = 2, .shmid = 7, .a = 0x5000, .b = 0x2000, .c = 0x1000, .d = 0x1 },
	{ .kind = K_UFFD, .fd = 2, .a = 0x2, .b = 0x1 },
	{ .kind = K_RESET, .fd = 2 },
	{ .kind = K_UFFD, .fd = 2, .var = 1 },
	{ .kind = K_RESET, .fd = 2 },
	{ .kind = K_GET_STATS, .fd = 2 },
)

/* A mapping the owner mseal()ed (here a udmabuf a fork child MAPped
 * through the worker): RESET keeps it (EBUSY), UNMAP fails with EPERM.
 * Reduced on 6.12 from a run with clear_mapping() taking EPERM for gone
 * (RESET then returned 0); the last two ops are added. Without mseal
 * (6.1) K_MSEAL is skipped and RESET takes the mapping.
 */
FZ_REGRESSION(seed_a4d3dbff7ddcdcfd, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 5, .var = 13, .a = 0x1a },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 100, .a = 0x4130e, .b = 0x10100 },
	{ .kind = K_MMAP, .shmid = 100, .a = 0xe000 },
	{ .kind = K_FORK },
	{ .kind = K_MAP, .proc = 1, .file = 5, .shmid = 100, .a = 0x8000, .b = 0x1000, .c = 0x8000, .d = 0x1 },
	{ .kind = K_FORK_END },
	{ .kind = K_MSEAL, .a = 0x4, .b = 0x1 },
	{ .kind = K_RESET },
	{ .kind = K_GET_STATS },
	{ .kind = K_UNMAP, .shmid = 100, .b = 0x1000, .c = 0x8000 },
)

/*
 * A /dev/zero mapping (the shmem file its mmap swaps in is counted) whose
 * range the owner clobbered with an anonymous MAP_FIXED: no vma maps the
 * file any more, so RESET forgets it and succeeds. Found on 6.12 with the
 * model still treating /dev/zero like a dma-buf (RESET: got 0, expected
 * EBUSY).
 */
FZ_REGRESSION(seed_30343d92953cef89, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 3, .var = 5, .a = 0x14 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 253, .a = 0x81002, .b = 0x10001 },
	{ .kind = K_MMAP, .shmid = 253, .a = 0x2000 },
	{ .kind = K_BATCH },
	{ .kind = K_BOP_MAP, .file = 3, .shmid = 253, .b = 0x1000, .c = 0x1000, .d = 0x1 },
	{ .kind = K_CLOBBER, .a = 0xffffffffffffffff, .b = 0x3 },
	{ .kind = K_RESET },
)

/*
 * Views: a /dev/zero MAP is one shmem object for the owner and every
 * viewer, also one attached later (before 6418272, EBUSY: each space's
 * vm_mmap() of /dev/zero made its own object).
 */
FZ_REGRESSION(views_dev_zero, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 2, .var = 5, .a = 0x8 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .a = 0x6 },
	{ .kind = K_MMAP, .a = 0x6000 },
	{ .kind = K_VIEW, .var = 1 },
	{ .kind = K_MAP, .file = 2, .b = 0x1000, .c = 0x2000, .d = VHOST_SHMEM_MAP_F_RW },
	{ .kind = K_WRITE, .a = 0x2 },
	{ .kind = K_VIEW, .a = 1, .var = 1 },
	{ .kind = K_READ, .a = 0x2 },
	{ .kind = K_UNMAP, .b = 0x1000, .c = 0x2000 },
)
/*
 * The fuzzer's views model: a fork child's RESET empties the views, its
 * MAP after that is in them (the model once applied the RESET after the
 * child's every op).
 */
FZ_REGRESSION(seed_bea689c1d116b553, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .var = 1, .a = 0x7 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 255, .a = 0xd },
	{ .kind = K_MMAP, .shmid = 255, .a = 0xd000 },
	{ .kind = K_VIEW, .var = 1, .shmid = 255 },
	{ .kind = K_FORK },
	{ .kind = K_RESET, .proc = 1 },
	{ .kind = K_MAP, .proc = 1, .shmid = 255, .c = 0x4000 },
	{ .kind = K_CLOSE, .proc = 1 },
	{ .kind = K_FORK_END },
	{ .kind = K_READ, .a = 0x2 },
)

/*
 * The fuzzer's views model: a read-only viewer SIGKILLed 1.1 ms into a
 * read-write /dev/zero MAP may still be attached when the MAP looks: EACCES
 * as well as 0 (the model once took the dying viewer as gone already).
 */
FZ_REGRESSION(seed_ff83a5c17e3d9957, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 1, .var = 5, .a = 0x1a },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 1, .a = 0x407 },
	{ .kind = K_MMAP, .reg = 1, .shmid = 2, .a = 0x4000 },
	{ .kind = K_VIEW, .shmid = 2, .a = 0x1 },
	{ .kind = K_VIEW_DROP, .var = 2, .a = 0x1, .b = 0x450 },
	{ .kind = K_MAP, .file = 1, .reg = 1, .shmid = 2, .b = 0x1000, .c = 0x1000, .d = 0x1 },
)
/*
 * The fuzzer's views model: a read-write viewer attaching to a region with
 * a read-write mapping of a memfd sealed F_SEAL_FUTURE_WRITE since cannot
 * get a writable mapping of it: population fails, the viewer is dropped
 * and reads zeros (the model expected the mapping's bytes).
 */
FZ_REGRESSION(seed_73a46548aed2adc4, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 4, .var = 1, .a = 0x27 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 100, .a = 0x6 },
	{ .kind = K_MMAP, .shmid = 100, .a = 0x6000 },
	{ .kind = K_BATCH },
	{ .kind = K_BOP_MAP, .file = 4, .shmid = 100, .a = 0x20000, .b = 0x1000, .c = 0x1000, .d = 0x1 },
	{ .kind = K_SEAL, .file = 4, .var = 1 },
	{ .kind = K_VIEW, .var = 1, .shmid = 100, .a = 0x1 },
)

/*
 * The fuzzer's views model: vm.max_map_count put back by K_MAXMAP while a
 * viewer was inflated near the lowered limit left the viewer inflated, and
 * the next lowered limit put it over: its mmap() of a view got ENOMEM. The
 * viewer now deflates whenever the limit goes back.
 */
FZ_REGRESSION(seed_86e929d195fd32e8, FZ_SOLO, 0, 0,
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 253, .a = 0xd },
	{ .kind = K_VIEW_TIGHT, .b = 0x1 },
	{ .kind = K_MAXMAP, .var = 1 },
	{ .kind = K_MAXMAP, .a = 0x7 },
	{ .kind = K_VIEW, .shmid = 253 },
)
/*
 * The fuzzer's views model: whether a viewer attaching at its
 * vm.max_map_count was dropped is asked of netlink, not guessed from its
 * bytes (a /dev/zero mapping reads zeros in a dropped view too; the model
 * took the viewer as attached, and the next MAP, which skipped it, as
 * missing from its view).
 */
FZ_REGRESSION(seed_de1a9ba17010e930, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 1, .var = 5, .a = 0x22 },
	{ .kind = K_FILE_NEW, .file = 2, .var = 1, .a = 0x6 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 253, .a = 0x202, .b = 0x1 },
	{ .kind = K_MMAP, .shmid = 253, .a = 0x2000 },
	{ .kind = K_DUP, .a = 0x2 },
	{ .kind = K_VIEW_TIGHT, .a = 0x1, .b = 0x2 },
	{ .kind = K_BATCH },
	{ .kind = K_BOP_MAP, .fd = 2, .file = 1, .shmid = 253, .a = 0x1000, .c = 0x1000, .d = 0x1 },
	{ .kind = K_VIEW, .var = 1, .shmid = 253, .a = 0x1 },
	{ .kind = K_MAP, .fd = 2, .file = 2, .shmid = 253, .b = 0x1000, .c = 0x1000, .d = 0x1 },
)

/*
 * The fuzzer's views model: F_SEAL_WRITE on a memfd the owner mapped
 * read-write and then mapped over (its vma gone) is EBUSY while a
 * read-write viewer still maps it writable (the model looked at the
 * owner's pages only).
 */
FZ_REGRESSION(seed_8715e9277206e282, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .var = 1, .a = 0x17 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 100, .a = 0xd },
	{ .kind = K_MMAP, .shmid = 100, .a = 0xd000 },
	{ .kind = K_VIEW, .var = 1, .shmid = 100 },
	{ .kind = K_MAP, .shmid = 100, .a = 0x14000, .b = 0x3000, .c = 0x1000, .d = 0x1 },
	{ .kind = K_CLOBBER, .a = 0x3, .b = 0x1 },
	{ .kind = K_SEAL },
)

/*
 * A udmabuf MAP past the buffer (its ->mmap fails, EINVAL, after the range
 * was unmapped) next to a hole the owner mseal()ed: the undo mapped the
 * placeholder over the holes around the range, the sealed one included,
 * got EPERM and left a gap (SIGSEGV where the hole was). Found at d0ab50c
 * (6.12); the undo now puts back the range alone when its neighbours
 * cannot be mapped over.
 */
FZ_REGRESSION(seed_940277322a538188, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 3, .var = 13, .a = 0x8 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 255, .a = 0x16 },
	{ .kind = K_MMAP, .shmid = 255, .a = 0x16000 },
	{ .kind = K_MSEAL, .a = 0xd, .b = 0x2 },
	{ .kind = K_MAP, .file = 3, .shmid = 255, .a = 0x5000, .b = 0x7000, .c = 0x6000, .d = 0x1 },
	{ .kind = K_READ, .a = 0xa, .b = 0x1 },
)

/*
 * A udmabuf mapped in two regions; the owner maps over one of them
 * (detached): RESET searched the owner's mm for the detached region's
 * dma-buf moved out and took the other region's own installed mapping for
 * it (EBUSY, expected 0). Found on main's fuzzer at d0ab50c, 6.12.
 */
FZ_REGRESSION(seed_23388dd15f88fa3f, FZ_SOLO, 0, 0,
	{ .kind = K_OPEN, .var = 1 },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 255, .a = 0x150913, .b = 0x1 },
	{ .kind = K_DUP, .a = 0x2 },
	{ .kind = K_DUP, .a = 0x1 },
	{ .kind = K_MMAP, .fd = 2, .var = 1, .shmid = 255, .a = 0x13000 },
	{ .kind = K_FILE_NEW, .file = 2, .var = 13, .a = 0x1e },
	{ .kind = K_MMAP, .reg = 2, .var = 1, .shmid = 1, .a = 0x15000 },
	{ .kind = K_BATCH },
	{ .kind = K_BOP_MAP, .file = 2, .shmid = 255, .b = 0x10000, .c = 0x2000, .d = 0x1 },
	{ .kind = K_MAP, .file = 2, .reg = 2, .shmid = 1, .a = 0x1000, .b = 0x6000, .c = 0x1000, .d = 0x1 },
	{ .kind = K_CLOBBER, .reg = 2, .b = 0x3 },
	{ .kind = K_RESET, .fd = 1 },
)
/*
 * The same search in a detached region took the region's other mapping of
 * the same udmabuf pages, still where it was listed, for a moved copy
 * (EBUSY, expected 0). Found at d0ab50c + the fix above (6.12).
 */
FZ_REGRESSION(seed_c4fc28a7d8e6d17d, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 5, .var = 13, .a = 0x19 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 2, .a = 0xc170e },
	{ .kind = K_MMAP, .reg = 1, .shmid = 3, .a = 0x17000 },
	{ .kind = K_BATCH },
	{ .kind = K_BOP_MAP, .file = 5, .reg = 1, .shmid = 3, .a = 0x6000, .b = 0xc000, .c = 0x1000, .d = 0x1 },
	{ .kind = K_BOP_MAP, .file = 5, .reg = 1, .shmid = 3, .a = 0x6000, .c = 0x4000, .d = 0x1 },
	{ .kind = K_MUNMAP, .reg = 1, .a = 0x4, .b = 0x1 },
	{ .kind = K_RESET },
)

/*
 * The viewer rollback gap (fixed by 6c18ad1; before, with
 * --avoid-known=none at d0ab50c): a MAP of a memfd sealed
 * F_SEAL_FUTURE_WRITE, read-write: the read-only viewer at its
 * vm.max_map_count takes it, the owner refuses it (EPERM), and the
 * viewer's rollback leaves view page 20 a gap (SIGSEGV), the viewer still
 * attached (6.12).
 */
FZ_REGRESSION(seed_4d1c2d2c399b46e0, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 2, .var = 1, .a = 0x21 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 2, .a = 0x15 },
	{ .kind = K_MMAP, .shmid = 2, .a = 0x15000 },
	{ .kind = K_SEAL, .file = 2, .var = 1 },
	{ .kind = K_VIEW, .shmid = 2 },
	{ .kind = K_VIEW_TIGHT, .b = 0x2 },
	{ .kind = K_MAP, .file = 2, .shmid = 2, .a = 0xd000, .b = 0x14000, .c = 0x1000, .d = 0x1 },
)
/*
 * The viewer rollback gap (fixed by 6c18ad1; before, at d0ab50c): a
 * read-only viewer attaching at its
 * vm.max_map_count (a read-write MAP is live) is dropped, and its view
 * page 0 is a gap (SIGSEGV), not zeros: the failed population did not put
 * the hole back (6.12).
 */
FZ_REGRESSION(seed_15b39074ce4ac114, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 1, .var = 1, .a = 0x12 },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .a = 0x716 },
	{ .kind = K_MMAP, .reg = 1, .shmid = 1, .a = 0x7000 },
	{ .kind = K_VIEW, .var = 1 },
	{ .kind = K_MAP, .file = 1, .reg = 1, .shmid = 1, .a = 0xa000, .c = 0x1000 },
	{ .kind = K_VIEW_TIGHT, .b = 0x2 },
	{ .kind = K_MAP, .file = 1, .reg = 1, .shmid = 1, .a = 0x9000, .b = 0x3000, .c = 0x2000, .d = 0x1 },
	{ .kind = K_VIEW, .shmid = 1 },
)

/*
 * A read-write /dev/zero MAP at the owner's vm.max_map_count into a region
 * with a read-only viewer (EACCES or ENOMEM) left the owner a gap
 * (SIGSEGV) where its hole was: the rollback could not put the hole back
 * (Debian sid's 7.2, on this branch before its rebase onto 6c18ad1, whose
 * put_hole_back() makes room first).
 */
FZ_REGRESSION(seed_8f0ec2d9aa1b6303, FZ_SOLO, 0, 0,
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 7, .a = 0x1050c, .b = 0x10100 },
	{ .kind = K_MMAP, .shmid = 7, .a = 0xc000 },
	{ .kind = K_FILE_NEW, .file = 7, .var = 5, .a = 0x1f },
	{ .kind = K_VIEW, .shmid = 7 },
	{ .kind = K_MAXMAP, .a = 0x3 },
	{ .kind = K_MAP, .file = 7, .shmid = 7, .a = 0x5000, .b = 0x4000, .c = 0x1000, .d = 0x1 },
	{ .kind = K_READ, .a = 0x4, .b = 0x1 },
)

/*
 * A model mistake: two devices of the runner map the same udmabuf pages;
 * RESET of the one whose region the owner munmapped in part (detached)
 * finds the other device's vma of those pages in the owner's mm and
 * counts it as a moved copy (EBUSY, documented in "Counting copies"); the
 * model expected 0 (6.12, a24f803).
 */
FZ_REGRESSION(seed_60a5fda62aaf300a, FZ_SOLO, 0, 0,
	{ .kind = K_FILE_NEW, .file = 3, .var = 13, .a = 0xd },
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 255, .a = 0xe0c02 },
	{ .kind = K_MMAP, .shmid = 255, .a = 0x2000 },
	{ .kind = K_OPEN, .fd = 1 },
	{ .kind = K_SET_OWNER, .fd = 1 },
	{ .kind = K_SET_CONFIG, .fd = 1, .shmid = 2, .a = 0x1120e, .b = 0x100 },
	{ .kind = K_MMAP, .fd = 1, .reg = 1, .shmid = 3, .a = 0x12000 },
	{ .kind = K_MAP, .file = 3, .shmid = 255, .b = 0x1000, .c = 0x1000, .d = 0x1 },
	{ .kind = K_MAP, .fd = 1, .file = 3, .reg = 1, .shmid = 3, .b = 0x6000, .c = 0x6000, .d = 0x1 },
	{ .kind = K_DUP, .a = 0x1 },
	{ .kind = K_MUNMAP, .fd = 1, .a = 0xffffffffffffffff, .b = 0x4 },
	{ .kind = K_FORK },
	{ .kind = K_RESET, .proc = 1 },
)

/*
 * Model: vm.max_map_count is global. Lowered to the runner's vmas
 * (K_MAXMAP), a viewer with as many cannot mmap its view (ENOMEM); the
 * model expected 0 (6.12, sessions 6 and 7, now and then).
 */
FZ_REGRESSION(seed_47cf259bc764e5d2, FZ_SOLO, 0, 0,
	{ .kind = K_OPEN },
	{ .kind = K_SET_OWNER },
	{ .kind = K_SET_CONFIG, .shmid = 7, .a = 0xe },
	{ .kind = K_MAXMAP, .a = 0x1 },
	{ .kind = K_VIEW, .var = 1, .shmid = 7 },
)

/*
 * Module bugs the fuzzer found that kmod/ (as of the last commit these
 * were checked against, named on each) still has: none at 6c18ad1. They
 * fail every run; build with -DFZ_KNOWN_BUGS to run them (e.g. make -C
 * selftests CFLAGS="-O2 -g -DFZ_KNOWN_BUGS" ...), and once kmod/ is fixed
 * move them above and drop the bit from FZ_AVOID_OPEN (fuzz.h).
 */
#ifdef FZ_KNOWN_BUGS
#endif
