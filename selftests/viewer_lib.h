/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A viewer of a region view (VHOST_SHMEM_GET_VIEW) for the selftests: a
 * forked child that mmaps a view fd and executes commands sent over a
 * socket, so a test process (the owner) can ask another mm what it sees.
 * Offsets in commands are region offsets, whatever part the view maps.
 */
#ifndef VIEWER_LIB_H
#define VIEWER_LIB_H

#include <stdint.h>
#include <sys/types.h>

enum vs_vop {
	V_CHECK_PAT = 1,	/* off, len, seed, n = file offset: 0 if equal */
	V_CHECK_ZERO,		/* off, len: 0 if all zero */
	V_WRITE,		/* off, seed = byte: 0 or the signal */
	V_MPROTECT,		/* off, len, n = prot: 0 or -errno */
	V_MUNMAP,		/* the whole view: 0 or -errno */
	V_VMAS,			/* vmas in the view's range */
	V_INFLATE,		/* own vmas up to n: the count reached */
	V_FORK_VMAS,		/* a child's vmas in the view's range */
	V_REMAP,		/* mmap the view fd again, MAP_FIXED over the view */
	V_READ32,		/* off: the u32 there, or -(the signal) */
	V_ADDR,			/* where the view is mapped */
	V_GRAB,			/* off, len, n = VGRAB_*: 0, then see below */
	V_GRABBED,		/* 1 if the V_GRAB before got its range, else 0 */
	V_UNGRAB,		/* close V_GRAB's userfaultfd: 0 */
	V_BUSY,			/* n bytes: 0, then see below */
	V_GRAB_NOW,		/* off, len, n = VGRAB_*: one try of V_GRAB, 1 if got */
	V_MOVE,			/* off, len: mremap() it out of the view: 0 or -errno */
	V_CHECK_MOVED,		/* seed, n = file offset: V_CHECK_PAT of V_MOVE's pages */
	V_COVER,		/* off, len: own anonymous mmap(MAP_FIXED) there: 0 or -errno */
	V_REMAP_PART,		/* off, len: mmap that part of the view fd, MAP_FIXED, there */
};

/*
 * V_BUSY: until the next command arrives, hold the mm's mmap_lock for
 * read most of the time, as a viewer's own threads may: populate n bytes
 * of private anonymous memory (the zero page), drop them, again. A device
 * install in this mm then waits for the write lock. Replies at once.
 */

/*
 * V_GRAB: until the next command arrives, try again and again to make
 * [off, off + len) of the view something the device may not take out
 * again, but only once a mapping is there (never a hole): register it
 * with userfaultfd (MISSING), or mseal() it (on 6.10+). Replies at once.
 */
enum vs_grab {
	VGRAB_UFFD = 1,
	VGRAB_SEAL,
};

/*
 * The V_GRAB mode this kernel supports for the device's mappings: mseal()
 * where it exists (6.10+, which no longer lets userfaultfd register them),
 * else userfaultfd (6.1).
 */
long vs_grab_mode(void);

/* A viewer process; @sock is the test's end of its command socket. */
struct vs_viewer {
	pid_t pid;
	int sock;
};

/* VHOST_SHMEM_GET_VIEW of @shmid: the view fd, or -errno. */
int vs_get_view(int devfd, uint32_t shmid, uint32_t flags);

/*
 * Forks a viewer that mmaps [@off, @off + @size) of view @vfd with @prot
 * (the caller keeps its @vfd). Return: 0, or the viewer's mmap -errno
 * (the viewer has then exited; vs_viewer_stop() still reaps it).
 */
int vs_viewer_start(struct vs_viewer *v, int vfd, uint64_t off, uint64_t size,
		    int prot);

/* One command (enum vs_vop); its result, or -EPIPE if the viewer died. */
long vs_vcall(struct vs_viewer *v, int op, uint64_t off, uint64_t len, int seed,
	      long n);

/* Kills and reaps the viewer; a no-op for pid <= 0. */
void vs_viewer_stop(struct vs_viewer *v);

/* Creates own vmas (never merged) until the mm has @n: the count reached. */
long vs_inflate_maps(long n);

#endif /* VIEWER_LIB_H */
