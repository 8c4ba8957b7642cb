/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Holding a process's mmap_lock, and through it a device's mutex, for as
 * long as a test wants (root: these mount a FUSE file system).
 *
 * A stall: a thread of the calling process holds its mmap_lock (for
 * reading) until told to let go. It reads /proc/self/mem at a page of a
 * file of a FUSE server (a thread of the caller too) that does not answer
 * that READ. While it is held, the caller's other threads must not fault
 * (a queued writer, a device's worker, blocks new readers): what they
 * touch is touched before (vs_prefault_stack()).
 *
 * A busy device (struct vs_busy): the device's mutex held by its worker,
 * which waits for the mmap_lock of a viewer (a forked child holding a
 * stall) to install the owner's MAP there. Nothing else the device does
 * takes longer or less predictably: a RESET of many mappings is fast.
 */
#ifndef STALL_LIB_H
#define STALL_LIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vs_stall;

/*
 * Mounts a FUSE server at @mnt (made if missing) and maps its one file;
 * *@out is set even on failure (for vs_stall_end()). 0, or -1 with errno.
 */
int vs_stall_setup(struct vs_stall **out, const char *mnt);
/* Takes the mmap_lock. 0, or -1 if the server saw no READ within 5 s. */
int vs_stall_begin(struct vs_stall *st);
/* Lets go (answers the READ), unmounts and frees @st. NULL: a no-op. */
void vs_stall_end(struct vs_stall *st);

/*
 * A stall in steps, for a test that orders a stalled reader against a
 * writer of the same mm (the rwsem grants the lock in queue order):
 * vs_stall_arm() starts a reader thread that waits; vs_stall_fire() lets
 * it read, which needs nothing mapped or allocated (safe while another
 * stall holds the lock and a writer waits behind it: the reader then
 * queues behind that writer, in D); vs_stall_seen() tells that its READ
 * arrived (it holds the mmap_lock from then on); vs_stall_let_go()
 * answers it and unmaps nothing. vs_stall_end() still takes it down.
 * 0 or -1 with errno; vs_stall_reader() is the reader's thread id. Set
 * up after the caller's last fork(): the server's first write to a page
 * fork() left copy-on-write faults, and then waits for the mmap_lock
 * behind the writer (seen: 5 s, until that writer was killed).
 */
int vs_stall_arm(struct vs_stall *st);
int vs_stall_fire(struct vs_stall *st);
bool vs_stall_seen(const struct vs_stall *st);
pid_t vs_stall_reader(const struct vs_stall *st);
/* Answers the READ (the lock is let go), unlike vs_stall_end() no more. */
void vs_stall_let_go(struct vs_stall *st);

/* State letter of /proc/<pid>/stat ('D', 'S', 'Z'...), '?' once reaped. */
char vs_proc_state(pid_t pid);
/* The worker kthread of the newest device @owner set up, or -1. */
pid_t vs_find_worker(pid_t owner);
/* Waits up to @ms for @pid to be in @state. true if it was. */
bool vs_wait_state(pid_t pid, char state, int ms);
/* Touches @n bytes of stack, so that nothing faults there while stalled. */
char vs_prefault_stack(size_t n);

/*
 * A device held busy. vs_busy_start() forks the viewer; each
 * vs_busy_hold() ... vs_busy_release() holds the device's mutex; then
 * vs_busy_stop(). The caller owns the device and must not fork between
 * vs_busy_hold() and vs_busy_release(); its own threads may fault.
 */
struct vs_busy {
	pid_t viewer;		/* the forked viewer, holding the stall */
	pid_t worker;		/* the device's worker kthread */
	int sock;		/* commands to it */
	int devfd;		/* the device (the caller's) */
	int mfd;		/* the page MAPped */
	uint32_t shmid;
	uint64_t off;		/* where in region @shmid */
	pthread_t mapper;	/* the thread whose MAP waits */
	bool mapping;		/* @mapper runs */
	int map_ret;		/* its MAP's result */
};

/*
 * Forks a viewer of all of region @shmid (@size bytes) of @devfd, the
 * caller's device, the newest it owns (its worker is told by the owner's
 * pid: vs_find_worker()): the owner's MAPs then also install there. Each hold
 * MAPs one page at @off of the region (a hole until then) and UNMAPs it
 * after. Before any other thread of the caller runs (it forks). Needs root
 * and /dev/fuse. Return: 0 or -errno.
 */
int vs_busy_start(struct vs_busy *b, int devfd, uint32_t shmid, uint64_t size,
		  uint64_t off);
/*
 * The viewer stalls its mmap_lock, a thread of the caller MAPs the page:
 * the worker takes the device's mutex and waits for the viewer's
 * mmap_lock. Returns once the worker has slept on it (20 ms in D) with
 * 0, or -errno (-ETIMEDOUT: not within 5 s; the hold is undone then).
 */
int vs_busy_hold(struct vs_busy *b);
/*
 * Lets the viewer go: the MAP finishes, the device's mutex is free, the
 * page is UNMAPped again. Return: 0, or the MAP's or UNMAP's -errno.
 */
int vs_busy_release(struct vs_busy *b);
/*
 * Only the viewer's stall, for a MAP at @b->off the caller makes itself:
 * from another process, a MAP goes to the worker's queue at once, behind
 * the requests already there (the owner's own first waits for the
 * device's mutex). vs_busy_unstall() lets go. 0 or -EIO.
 */
int vs_busy_stall(struct vs_busy *b);
int vs_busy_unstall(struct vs_busy *b);
/* Ends the viewer (releasing a hold first) and closes what it made. */
void vs_busy_stop(struct vs_busy *b);

#endif /* STALL_LIB_H */
