/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the vhost-shmem selftests: device setup, backend files
 * with known content, byte checks, fault probes, /proc parsing, fd passing
 * and a "helper-like" second process that issues ioctls on request.
 */
#ifndef VHOST_SHMEM_LIB_H
#define VHOST_SHMEM_LIB_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <linux/vhost_shmem.h>

#define VS_DEV_PATH	"/dev/vhost-shmem"
#define VS_PARAM_DIR	"/sys/module/vhost_shmem/parameters"
#define VS_MAX_TEST_REGIONS 4

extern size_t vs_page;		/* page size, set by vs_init() (constructor) */
#define PG vs_page

struct vs_region {
	uint32_t shmid;
	uint32_t flags;
	uint64_t size;
	uint64_t offset;	/* mmap offset from GET_REGION_INFO */
	uint8_t *addr;		/* owner's mapping, NULL if not mmapped */
};

struct vs_dev {
	int fd;
	int nregions;
	struct vs_region r[VS_MAX_TEST_REGIONS];
	char err[256];		/* which step failed, for logs */
};

/* Region layout for vs_dev_setup(): shmid, size and flags of each region. */
struct vs_layout {
	uint32_t shmid;
	uint64_t size;
	uint32_t flags;
};

/* true if /dev/vhost-shmem exists (the module is loaded). */
bool vs_have_dev(void);

/*
 * Opens the device, SET_OWNER, SET_CONFIG with @n regions, GET_REGION_INFO
 * and (if @do_mmap) mmaps every region. Returns 0 or -errno (d->err says
 * which step failed). On failure everything is undone.
 */
int vs_dev_setup(struct vs_dev *d, const struct vs_layout *l, int n, bool do_mmap);
/* Maps region index @i of @d (once, as the owner). 0 or -errno. */
int vs_region_mmap(struct vs_dev *d, int i);
void vs_dev_close(struct vs_dev *d);

/* ioctl wrappers: 0 or -errno. */
int vs_map(int devfd, uint32_t shmid, int fd, uint64_t fd_offset,
	   uint64_t shm_offset, uint64_t len, uint64_t flags);
int vs_unmap(int devfd, uint32_t shmid, uint64_t shm_offset, uint64_t len);
int vs_reset(int devfd);
/* VHOST_SHMEM_BATCH of @n ops: 0 (results in ops[i].result) or -errno. */
int vs_batch(int devfd, struct vhost_shmem_op *ops, uint32_t n);
struct vhost_shmem_op vs_op_map(uint32_t shmid, int fd, uint64_t fd_offset,
				uint64_t shm_offset, uint64_t len, uint64_t flags);
struct vhost_shmem_op vs_op_unmap(uint32_t shmid, uint64_t shm_offset, uint64_t len);
int vs_stats(int devfd, struct vhost_shmem_stats *st);
int vs_region_info(int devfd, uint32_t shmid, struct vhost_shmem_region_info *info);

/* Byte i of a file filled with pattern @seed (never all-zero pages). */
static inline uint8_t vs_pat(unsigned int seed, uint64_t i)
{
	uint64_t x = (i / 4096 + 1) * 0x9e3779b97f4a7c15ULL + seed * 0x100000001b3ULL;

	return (uint8_t)((x >> 29) ^ (i * 7) ^ seed) | 1;
}

/* The little-endian u32 at file offset @off of pattern @seed (a guest read). */
static inline uint32_t vs_pat32(unsigned int seed, uint64_t off)
{
	return vs_pat(seed, off) | vs_pat(seed, off + 1) << 8 |
	       vs_pat(seed, off + 2) << 16 | (uint32_t)vs_pat(seed, off + 3) << 24;
}

/* Fills @len bytes of @fd from offset 0 with pattern @seed. 0 or -errno. */
int vs_fill_fd(int fd, uint64_t len, unsigned int seed);
/* memfd of @size bytes filled with pattern @seed (MFD_ALLOW_SEALING). fd or -errno. */
int vs_memfd(const char *name, uint64_t size, unsigned int seed);

/*
 * Compare memory at @p (possibly faulting: compared with probes) with the
 * pattern @seed starting at file offset @fd_off, or with zeros. Return -1
 * when all matches, else the index of the first bad byte; *got gets its
 * value (-1 if the access faulted).
 */
long vs_check_pat(const uint8_t *p, uint64_t len, unsigned int seed,
		  uint64_t fd_off, int *got);
long vs_check_zero(const uint8_t *p, uint64_t len, int *got);
/*
 * For kselftest_harness tests: assert that @len bytes at @p are pattern
 * @seed from file offset @fd_off (or zeros), logging the first bad byte.
 */
#define ASSERT_PAT(p, len, seed, fd_off) do { \
	int __got; \
	long __bad = vs_check_pat(p, len, seed, fd_off, &__got); \
	if (__bad >= 0) \
		TH_LOG("byte %ld: got %d, want pattern %u byte %#llx", __bad, __got, \
		       seed, (unsigned long long)(fd_off) + __bad); \
	ASSERT_EQ(-1, __bad); \
} while (0)

#define ASSERT_ZERO(p, len) do { \
	int __got; \
	long __bad = vs_check_zero(p, len, &__got); \
	if (__bad >= 0) \
		TH_LOG("byte %ld: got %d, want 0", __bad, __got); \
	ASSERT_EQ(-1, __bad); \
} while (0)

/* The DRM device of the vgem module (/dev/dri/cardN), or -1. */
int vs_vgem_open(void);
/*
 * A vgem GEM buffer of @size bytes filled with pattern @seed, exported as
 * a dma-buf open read-write or read-only: the one dma-buf exporter every
 * kernel the tests boot has. The dma-buf fd, or -errno.
 */
int vs_vgem_dmabuf(int card, uint64_t size, unsigned int seed, bool rw);

/* Same for a file read with pread. */
long vs_check_file_pat(int fd, uint64_t off, uint64_t len, unsigned int seed,
		       uint64_t pat_off, int *got);

/* Fault probes in the calling thread (sigsetjmp): 0, SIGBUS or SIGSEGV. */
int vs_probe_read(const volatile void *p, uint8_t *val);
int vs_probe_write(volatile void *p, uint8_t val);
/* Copy that may fault on either side: 0 or the signal. */
int vs_probe_copy(volatile void *dst, const volatile void *src, size_t len);

/* Checks /proc/self/maps: [start, end) fully covered by vmas (no gap). */
bool vs_maps_covered(const void *start, size_t len);
/* Number of vmas intersecting [start, end), -1 on error. */
int vs_maps_count(const void *start, size_t len);
/* The line of /proc/self/maps of the vma at @addr, "" if none (static). */
const char *vs_maps_line(const void *addr);
/* Number of vmas of this process. */
int vs_maps_total(void);

/* Number of open fds of this process. */
int vs_count_fds(void);
/* Shmem: in /proc/meminfo, in kB; -1 on error. */
long vs_meminfo_kb(const char *key);
/*
 * Waits up to @timeout_ms for Shmem to be at most @limit_kb. Returns the
 * last value read.
 */
long vs_wait_shmem_below(long limit_kb, int timeout_ms);

/* Small sysfs/procfs helpers: 0 or -errno. */
int vs_read_long(const char *path, long *val);
int vs_write_long(const char *path, long val);
int vs_write_str(const char *path, const char *s);

/* true if this process has any effective capability (CapEff != 0). */
bool vs_capable(void);
/*
 * Scale tests' counts (10,000 live mappings, 20,000 MAPs): the full count
 * by default; divided by the environment's VS_COUNT_DIV (a whole number,
 * 1 to 1000; anything else counts as 1), at least @min. The debug lane
 * sets it (tools/check.sh, DEBUG_COUNT_DIV): its kernel is ~10x slower
 * and runs the same code paths for KASAN, lockdep and kmemleak, not for
 * the counts, which 6.1, 6.12 and sid run in full. A test that scales
 * logs the count it ran; see Documentation/dev-tools/testing.rst.
 */
#define VS_COUNT_DIV_ENV	"VS_COUNT_DIV"
int vs_count_div(void);
long vs_count(long full, long min);

/*
 * vm.max_map_count at least @want: already so (the VM's runner raises it
 * for the unprivileged suites), else written (root). *@restore gets the
 * value to write back after, or -1. 0 or -errno.
 */
int vs_raise_max_map_count(long want, long *restore);

/* fd passing over a unix socket: all of @iov (and @fd if >= 0). 0 or -errno. */
int vs_sendv_fd(int sock, int fd, struct iovec *iov, int iovcnt);
int vs_send_fd(int sock, int fd, const void *data, size_t len);
/* Receives data and at most one fd (*fd = -1 if none). Bytes or -errno. */
ssize_t vs_recv_fd(int sock, int *fd, void *data, size_t len);

/*
 * Region snapshot: bytes of [off, off + len) of a region (faulting pages
 * recorded as faulting), the device counters and the vma coverage. Used to
 * assert that a failed MAP left the region exactly as it was.
 */
struct vs_snap {
	uint64_t off, len;
	uint8_t *bytes;
	uint8_t *faulted;	/* per page: 0 or signal */
	struct vhost_shmem_stats st;
};
int vs_snap_take(const struct vs_dev *d, int ri, uint64_t off, uint64_t len,
		 struct vs_snap *s);
/*
 * Compares with the current state: same bytes and fault status, stats equal
 * except failures == before + @more_failures, region still fully covered.
 * Returns true if equal, else false with a reason in @why.
 */
bool vs_snap_same(const struct vs_dev *d, int ri, const struct vs_snap *s,
		  uint64_t more_failures, char *why, size_t whylen);
void vs_snap_free(struct vs_snap *s);

/*
 * A helper-like second process: forked, it receives the device fd over
 * SCM_RIGHTS (it closes its inherited copy first) and then executes
 * requests sent by the parent, each backend fd also passed by SCM_RIGHTS
 * and closed after the ioctl (as vhost-shmem-helper does).
 */
struct vs_remote {
	pid_t pid;
	int sock;
};
enum vs_remote_op {
	VS_R_MAP = 1,
	VS_R_UNMAP,
	VS_R_RESET,
	VS_R_STATS,
	VS_R_NFDS,	/* number of open fds in the remote */
	VS_R_CLOSE_DEV,
	VS_R_MAP_LOOP,	/* MAP + UNMAP @count times at the same range */
	VS_R_MAP_MANY,	/* @count MAPs, the i-th at shm_offset + i * @stride */
};
struct vs_remote_req {
	int op;
	int count;
	uint64_t stride;
	struct vhost_shmem_map map;
	struct vhost_shmem_unmap unmap;
};
struct vs_remote_rep {
	int ret;		/* 0 or -errno */
	int nfds;
	int done;		/* VS_R_MAP_MANY: MAPs that succeeded */
	struct vhost_shmem_stats st;
};
int vs_remote_start(struct vs_remote *r, int devfd);
/*
 * The same, but the process drops to @uid and @gid (its only group), with
 * no capabilities, before it receives the device fd: an unprivileged
 * helper. The caller must be root. 0 or -errno (-EPERM: could not drop).
 */
int vs_remote_start_as(struct vs_remote *r, int devfd, uid_t uid, gid_t gid);
/*
 * A remote without capabilities: from a caller that has some (root), one
 * that dropped to uid and gid 65534; from one that has none (the suites in
 * the VM run so), an ordinary one, of the caller's own uid.
 */
int vs_remote_start_unpriv(struct vs_remote *r, int devfd);
/* Sends one request (with @fd if >= 0) and waits for the reply. */
int vs_remote_call(struct vs_remote *r, const struct vs_remote_req *req, int fd,
		   struct vs_remote_rep *rep);
int vs_remote_map(struct vs_remote *r, uint32_t shmid, int fd, uint64_t fd_offset,
		  uint64_t shm_offset, uint64_t len, uint64_t flags);
int vs_remote_unmap(struct vs_remote *r, uint32_t shmid, uint64_t shm_offset,
		    uint64_t len);
/* Closes the socket and reaps the process. Returns its exit status. */
int vs_remote_stop(struct vs_remote *r);

/* Kernel log: number of lines with WARNING/BUG/Oops etc. since @since_lines. */
int vs_dmesg_lines(void);
int vs_dmesg_bad_since(int since_lines, char *first, size_t firstlen);

/*
 * In fixture setup, the 6.1 harness runs the test body after SKIP();
 * jump out instead (teardown is not run: clean up before).
 */
#define VS_SETUP_SKIP(fmt, ...) \
	SKIP(longjmp(_metadata->env, 1), fmt, ##__VA_ARGS__)

#define VS_REQUIRE_DEV_IN_SETUP() do { \
	if (!vs_have_dev()) \
		VS_SETUP_SKIP("no " VS_DEV_PATH ": module not loaded"); \
} while (0)

/* Asserts a failed MAP left region @ri exactly as in snapshot @s. */
#define ASSERT_SNAP_SAME(d, ri, s, nfail) do { \
	char __why[256]; \
	bool __same = vs_snap_same(d, ri, s, nfail, __why, sizeof(__why)); \
	if (!__same) \
		TH_LOG("region changed: %s", __why); \
	ASSERT_TRUE(__same); \
} while (0)

#endif /* VHOST_SHMEM_LIB_H */
