/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vhost-shmem: VIRTIO Shared Memory Regions owned by the kernel.
 *
 * One open of /dev/vhost-shmem is one device context (one virtio device with
 * up to VHOST_SHMEM_MAX_REGIONS regions). The VMM binds its mm with
 * VHOST_SHMEM_SET_OWNER, configures region sizes once, mmaps each region once
 * (MAP_SHARED, exact size, offset from VHOST_SHMEM_GET_REGION_INFO) and hands
 * the fd to whoever serves the vhost-user backend channel. Any holder of the
 * fd may then MAP a backend file into a region, UNMAP it again, or RESET.
 *
 * See Documentation/userspace-api/vhost-shmem.rst for the full semantics.
 */
#ifndef _UAPI_LINUX_VHOST_SHMEM_H
#define _UAPI_LINUX_VHOST_SHMEM_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/* Number of shmids a device has, as in VhostUserShMemConfig. */
#define VHOST_SHMEM_MAX_REGIONS		256

/* Region flags (struct vhost_shmem_region_config.flags). */
/* Every access to a hole faults (SIGBUS) instead of reading zeros. */
#define VHOST_SHMEM_REGION_F_FAULT_HOLES	_BITUL(0)
#define VHOST_SHMEM_REGION_F_ALL		VHOST_SHMEM_REGION_F_FAULT_HOLES

/* Mapping flags (struct vhost_shmem_map.flags), as VhostUserMMap.flags. */
/* Map read-write; without it the mapping is read-only, also for the owner. */
#define VHOST_SHMEM_MAP_F_RW		_BITULL(0)
#define VHOST_SHMEM_MAP_F_ALL		VHOST_SHMEM_MAP_F_RW

/**
 * struct vhost_shmem_region_config - one region of a device
 * @size: in: size in bytes, a multiple of the page size, at most the
 *	max_region_size module parameter; 0 = shmid unused
 * @flags: in: VHOST_SHMEM_REGION_F_* (must be 0 when @size is 0)
 * @padding: in: must be zero; 0 on GET
 */
struct vhost_shmem_region_config {
	__u64 size;
	__u32 flags;
	__u32 padding;
};

/**
 * struct vhost_shmem_config - region layout of a device (VHOST_SHMEM_SET_CONFIG)
 * @nregions: out: on GET, the number of regions with a non-zero size;
 *	ignored on SET
 * @padding: in: must be zero; 0 on GET
 * @regions: one entry per shmid, indexed by shmid
 *
 * Mirrors VhostUserShMemConfig: regions[i].size is memory_sizes[i]. The
 * structure is 4104 bytes: VMMs often keep it static.
 */
struct vhost_shmem_config {
	__u32 nregions;
	__u32 padding;
	struct vhost_shmem_region_config regions[VHOST_SHMEM_MAX_REGIONS];
};

/**
 * struct vhost_shmem_region_info - where to mmap a region
 * @shmid: in: the region
 * @flags: out: VHOST_SHMEM_REGION_F_* of the region
 * @size: out: size in bytes (0 if the shmid is unused)
 * @offset: out: the offset to pass to mmap() on the device fd,
 *	shmid << 40 (also for an unused shmid)
 * @addr: out: the owner's address of the region once mmapped, else 0;
 *	stays set after the owner unmaps it
 */
struct vhost_shmem_region_info {
	__u32 shmid;
	__u32 flags;
	__u64 size;
	__u64 offset;
	__u64 addr;
};

/**
 * struct vhost_shmem_map - install a backend file into a region
 * @shmid: in: the region
 * @fd: in: backend file descriptor, in the caller's fd table; the caller
 *	may close it once the ioctl returned
 * @fd_offset: in: offset into the file, page aligned
 * @shm_offset: in: offset into the region, page aligned
 * @len: in: length in bytes, page aligned, non-zero
 * @flags: in: VHOST_SHMEM_MAP_F_* (VhostUserMMap.flags)
 */
struct vhost_shmem_map {
	__u32 shmid;
	__s32 fd;
	__u64 fd_offset;
	__u64 shm_offset;
	__u64 len;
	__u64 flags;
};

/**
 * struct vhost_shmem_unmap - remove one whole mapping from a region
 * @shmid: in: the region
 * @padding: in: must be zero
 * @shm_offset: in: offset of the mapping, exactly as it was mapped
 * @len: in: length of the mapping, exactly as it was mapped
 */
struct vhost_shmem_unmap {
	__u32 shmid;
	__u32 padding;
	__u64 shm_offset;
	__u64 len;
};

/**
 * struct vhost_shmem_stats - counters of a device (VHOST_SHMEM_GET_STATS)
 * @mappings: live mappings
 * @max_mappings: the device's limit (module parameter max_mappings, now)
 * @mapped_bytes: bytes covered by live mappings
 * @maps: successful MAPs since open
 * @unmaps: mappings removed since open: by UNMAP (also one that returned
 *	EBUSY because the owner still maps copies, and one a failed MAP left
 *	listed, see VHOST_SHMEM_MAP), RESET, the release of
 *	the device (teardown) and the owner's mm going away
 * @failures: failed MAP and UNMAP requests since open, each operation of
 *	VHOST_SHMEM_BATCH counted as one, once the argument was read
 */
struct vhost_shmem_stats {
	__u64 mappings;
	__u64 max_mappings;
	__u64 mapped_bytes;
	__u64 maps;
	__u64 unmaps;
	__u64 failures;
};

/* Operations of VHOST_SHMEM_BATCH (struct vhost_shmem_op.op). */
#define VHOST_SHMEM_OP_MAP		1
#define VHOST_SHMEM_OP_UNMAP		2

/* Most operations one VHOST_SHMEM_BATCH takes. */
#define VHOST_SHMEM_BATCH_MAX		64

/**
 * struct vhost_shmem_op - one operation of VHOST_SHMEM_BATCH
 * @op: in: VHOST_SHMEM_OP_MAP (1) or VHOST_SHMEM_OP_UNMAP (2)
 * @result: out: 0 or the negative errno the single ioctl would have
 *	returned (-EOPNOTSUPP for an unknown @op)
 * @map: in: the arguments of VHOST_SHMEM_MAP, when @op is VHOST_SHMEM_OP_MAP
 * @unmap: in: the arguments of VHOST_SHMEM_UNMAP, when @op is
 *	VHOST_SHMEM_OP_UNMAP
 */
struct vhost_shmem_op {
	__u32 op;
	__s32 result;
	union {
		struct vhost_shmem_map map;
		struct vhost_shmem_unmap unmap;
	};
};

/**
 * struct vhost_shmem_batch - several MAP/UNMAP in one call (VHOST_SHMEM_BATCH)
 * @ops: in: user pointer to an array of @nops struct vhost_shmem_op
 * @nops: in: number of operations, 1 to VHOST_SHMEM_BATCH_MAX (64)
 * @padding: in: must be zero
 */
struct vhost_shmem_batch {
	__u64 ops;
	__u32 nops;
	__u32 padding;
};

/* Flags of struct vhost_shmem_view_req. */
#define VHOST_SHMEM_VIEW_F_RW		_BITUL(0)
#define VHOST_SHMEM_VIEW_F_ALL		VHOST_SHMEM_VIEW_F_RW

/**
 * struct vhost_shmem_view_req - ask for a view of a region (VHOST_SHMEM_GET_VIEW)
 * @shmid: the region to share, one of the configured shmids
 * @flags: VHOST_SHMEM_VIEW_F_RW for a read-write view, 0 for read-only
 */
struct vhost_shmem_view_req {
	__u32 shmid;
	__u32 flags;
};

/*
 * 0xB9: not in Documentation/userspace-api/ioctl/ioctl-number.rst (until
 * vhost-shmem 0.2 this was 0xB5, which rpmsg registered for 00-0F).
 */
#define VHOST_SHMEM_IOC_MAGIC	0xB9

/*
 * The errors of each ioctl, in the order they are checked, are listed in
 * Documentation/userspace-api/vhost-shmem.rst; the short lists below name
 * them in that order.
 *
 * VHOST_SHMEM_SET_OWNER - bind the caller's mm (the VMM) to the device. Once.
 * EINVAL: a kernel thread (no mm); EINTR: killed; EBUSY: already owned;
 * ENOMEM. Every other ioctl but GET_STATS fails with EBADFD until it
 * succeeded.
 */
#define VHOST_SHMEM_SET_OWNER	_IO(VHOST_SHMEM_IOC_MAGIC, 0x00)

/*
 * VHOST_SHMEM_SET_CONFIG - set the region sizes. Once, by the owner, before mmap.
 * The configuration is checked first: EINVAL (padding; then, region by
 * region in shmid order, EINVAL for a size not page aligned or bad
 * flags/padding and E2BIG for a size above the max_region_size module
 * parameter; then EINVAL if no region has a size); then the device:
 * EINTR: killed; EBADFD: no owner yet; EPERM: caller is not the owner;
 * EBUSY: already set.
 */
#define VHOST_SHMEM_SET_CONFIG	_IOW(VHOST_SHMEM_IOC_MAGIC, 0x01, struct vhost_shmem_config)

/* VHOST_SHMEM_GET_CONFIG - read the configuration back. EBADFD: not set; ENOMEM. */
#define VHOST_SHMEM_GET_CONFIG	_IOR(VHOST_SHMEM_IOC_MAGIC, 0x02, struct vhost_shmem_config)

/*
 * VHOST_SHMEM_GET_REGION_INFO - size and mmap offset of one region.
 * EBADFD: not configured; EBADSLT: shmid >= VHOST_SHMEM_MAX_REGIONS.
 */
#define VHOST_SHMEM_GET_REGION_INFO \
	_IOWR(VHOST_SHMEM_IOC_MAGIC, 0x03, struct vhost_shmem_region_info)

/*
 * VHOST_SHMEM_MAP - map [fd_offset, fd_offset + len) of @fd at
 * [shm_offset, shm_offset + len) of region @shmid, as if the owner had
 * mmap(MAP_SHARED | MAP_FIXED)'ed it there. Any holder of the device fd.
 * Errors, in the order they are checked (the region is left exactly as
 * it was):
 *   EBADFD     no owner or no configuration yet
 *   EINVAL     misaligned shm_offset or length, zero length
 *   EBADSLT    shmid out of range or not configured (size 0)
 *   ERANGE     shm_offset + len overflows or exceeds the region
 *   EOPNOTSUPP unknown flags
 *   EINVAL     misaligned fd_offset
 *   EBADF      @fd is not an open file
 *   ELOOP      @fd is a vhost-shmem device
 *   ENODEV     @fd cannot be mmapped
 *   EACCES     VHOST_SHMEM_MAP_F_RW on a file not open for writing, a
 *              file not open for reading, or a read-only MAP of a file
 *              open for writing that is not a regular file (dma-buf: pass
 *              a read-only fd). Regular files are reopened read-only.
 *   EOVERFLOW  fd_offset + len overflows, or exceeds the size of a regular file
 *   ENODEV     a regular file that cannot be reopened (memfd_secret)
 *   ENOMEM     out of memory
 *   EINTR      killed while waiting for the device
 *   ESRCH      the owner's mm is gone
 *   ENXIO      the region is not mmapped, or it is detached: the owner
 *              itself munmapped, mremapped or mmapped over part of it
 *   ENOSPC     the device has max_mappings live mappings
 *   EMFILE     the owner's uid has max_user_mappings live mappings, all
 *              its devices together
 *   EEXIST     the range overlaps a live mapping
 *   EXDEV      the owner mprotect'ed a hole of the range
 *   EBUSY      the range is registered with userfaultfd
 *   ENOMEM     out of memory or vm.max_map_count reached in the owner's mm
 *   EAGAIN     the owner's mlockall(MCL_FUTURE) and RLIMIT_MEMLOCK
 *   other      errors of the backend file's own mmap (e.g. EPERM for a
 *              write-sealed memfd mapped read-write) or of reopening it
 *   ENXIO      the owner detached the region during the install (undone)
 *   EBUSY      the backend's mmap left something the device cannot check
 *   EBUSY      a viewer the MAP reached first kept it while another one
 *              refused it (it mseal'ed it or registered it with
 *              userfaultfd meanwhile): gone from the owner and every other
 *              viewer but listed, so treat the buffer as shared until an
 *              UNMAP (or RESET) of it returns 0
 */
#define VHOST_SHMEM_MAP		_IOW(VHOST_SHMEM_IOC_MAGIC, 0x10, struct vhost_shmem_map)

/*
 * VHOST_SHMEM_UNMAP - replace one whole mapping with a hole again.
 * EBADFD, EINVAL, EBADSLT, ERANGE as for MAP; EINVAL: padding; ENOMEM,
 * EINTR, ESRCH as for MAP; ENXIO: the region is not mmapped or detached
 * (the owner munmapped, moved or replaced part of it: the mapping stays
 * listed, the device no longer touches that range); ENOENT: no mapping
 * starts at shm_offset with exactly len; EBUSY: the owner registered it
 * with userfaultfd (nothing changed); EPERM: the owner mseal'ed it (an
 * mprotect'ed mapping is removed like any other); ENOMEM, EAGAIN: the
 * hole could not be put back (vm.max_map_count, out of memory,
 * RLIMIT_MEMLOCK after mlockall(MCL_FUTURE)): the mapping stays listed;
 * EBUSY: the range is a hole again and the mapping gone but the owner
 * still maps copies of its pages elsewhere (fork() after MADV_DOFORK):
 * treat the buffer as still shared.
 * On 0, no vma of the owner maps the pages any more.
 */
#define VHOST_SHMEM_UNMAP	_IOW(VHOST_SHMEM_IOC_MAGIC, 0x11, struct vhost_shmem_unmap)

/*
 * VHOST_SHMEM_RESET - remove every mapping of every region (device reset).
 * 0 once every mapping is gone from the owner's mm (also when the owner's
 * mm is gone). EBADFD: no owner; ENOMEM; EINTR: killed while waiting for
 * the device (nothing ran); EBUSY: some could not be taken out (mseal,
 * userfaultfd, RLIMIT_MEMLOCK, see UNMAP) and stay listed, or copies
 * remain; all others are gone.
 */
#define VHOST_SHMEM_RESET	_IO(VHOST_SHMEM_IOC_MAGIC, 0x12)

/* VHOST_SHMEM_GET_STATS - counters and limits of the device. EINTR: killed. */
#define VHOST_SHMEM_GET_STATS	_IOR(VHOST_SHMEM_IOC_MAGIC, 0x13, struct vhost_shmem_stats)

/*
 * VHOST_SHMEM_BATCH - run several MAP/UNMAP in order, as if issued one by
 * one, each with its own result in ops[i].result; a failing operation does
 * not stop the others. From a process other than the owner, the whole batch
 * costs one hand-off to the device's worker instead of one per operation.
 * Fails as a whole, with no operation run, on: EFAULT (@ops unreadable),
 * EINVAL (@nops 0 or @padding set), E2BIG (@nops > VHOST_SHMEM_BATCH_MAX),
 * ENOMEM. Each operation is checked as the single ioctl would; one that
 * passed its checks but could not run gets ENOMEM, EINTR (killed while
 * queued) or ESRCH (owner gone) as its result.
 * EFAULT after the operations ran if their results cannot be written back.
 * _IOW, not _IOWR: struct vhost_shmem_batch itself is only read; the
 * results are written through @ops, which the number does not describe.
 */
#define VHOST_SHMEM_BATCH	_IOW(VHOST_SHMEM_IOC_MAGIC, 0x14, struct vhost_shmem_batch)

/*
 * VHOST_SHMEM_GET_VIEW - a new fd (the ioctl's result, close-on-exec) that
 * can only be mmapped: each MAP_SHARED mmap of the region, or of a page
 * aligned part of it at its region offset (view file offset = region
 * offset), is a viewer that shows every mapping of that part, kept in step
 * by the device (see "Region views" in the uapi documentation). EOPNOTSUPP:
 * unknown flags; EBADFD: not configured; EBADSLT: unused shmid; EACCES: a
 * read-write view through a device fd not open for writing.
 */
#define VHOST_SHMEM_GET_VIEW	_IOW(VHOST_SHMEM_IOC_MAGIC, 0x15, struct vhost_shmem_view_req)

/*
 * Generic netlink family "vhost-shmem" (observability).
 *
 * Described by Documentation/netlink/specs/vhost_shmem.yaml. Every
 * operation is a dump and needs CAP_NET_ADMIN in the initial user
 * namespace; so does joining the "events" multicast group. Attribute sets
 * share their first attribute (the device id) so one request policy serves
 * every command: a dump request may carry it to select one device.
 * The enums and defines below are what the kernel's ynl-gen-c.py --mode
 * uapi makes of the spec, to the byte (tools/tests/ynl-test.sh checks it).
 */
#define VHOST_SHMEM_FAMILY_NAME		"vhost-shmem"
#define VHOST_SHMEM_FAMILY_VERSION	1
#define VHOST_SHMEM_MCGRP_EVENTS	"events"

/**
 * enum vhost_shmem_dev_attrs - attributes of a device (dev-get, device events)
 * @VHOST_SHMEM_A_DEV_ID: u32, the device id (from 1, never reused while
 *	the device exists)
 * @VHOST_SHMEM_A_DEV_PAD: padding for 64-bit attributes
 * @VHOST_SHMEM_A_DEV_OWNER_PID: u32, thread group id of the owner at
 *	SET_OWNER (initial pid namespace); absent before SET_OWNER
 * @VHOST_SHMEM_A_DEV_OWNER_COMM: string, the owner's comm at SET_OWNER
 * @VHOST_SHMEM_A_DEV_NREGIONS: u32, configured regions (non-zero sizes)
 * @VHOST_SHMEM_A_DEV_MAPPINGS: u64, live mappings
 * @VHOST_SHMEM_A_DEV_MAPPED_BYTES: u64, bytes covered by live mappings
 * @VHOST_SHMEM_A_DEV_MAPS: u64, successful MAPs
 * @VHOST_SHMEM_A_DEV_UNMAPS: u64, mappings removed (by UNMAP, RESET, the
 *	release of the device or the owner's mm going away), as counted by
 *	VHOST_SHMEM_GET_STATS
 * @VHOST_SHMEM_A_DEV_FAILURES: u64, failed MAP/UNMAP requests as counted
 *	by VHOST_SHMEM_GET_STATS
 * @VHOST_SHMEM_A_DEV_ERRORS: nest, multi-attr: one enum
 *	vhost_shmem_error_attrs nest per errno that MAP or UNMAP returned at
 *	least once (argument validation included)
 * @__VHOST_SHMEM_A_DEV_MAX: one past the last attribute
 * @VHOST_SHMEM_A_DEV_MAX: the last attribute
 */
enum vhost_shmem_dev_attrs {
	VHOST_SHMEM_A_DEV_ID = 1,
	VHOST_SHMEM_A_DEV_PAD,
	VHOST_SHMEM_A_DEV_OWNER_PID,
	VHOST_SHMEM_A_DEV_OWNER_COMM,
	VHOST_SHMEM_A_DEV_NREGIONS,
	VHOST_SHMEM_A_DEV_MAPPINGS,
	VHOST_SHMEM_A_DEV_MAPPED_BYTES,
	VHOST_SHMEM_A_DEV_MAPS,
	VHOST_SHMEM_A_DEV_UNMAPS,
	VHOST_SHMEM_A_DEV_FAILURES,
	VHOST_SHMEM_A_DEV_ERRORS,

	__VHOST_SHMEM_A_DEV_MAX,
	VHOST_SHMEM_A_DEV_MAX = (__VHOST_SHMEM_A_DEV_MAX - 1)
};

/**
 * enum vhost_shmem_error_attrs - failures of one errno (nested in ERRORS)
 * @VHOST_SHMEM_A_ERROR_CODE: u32, the positive errno (formerly
 *	VHOST_SHMEM_A_ERROR_ERRNO, same value). These have a count of their
 *	own: EINVAL, EOPNOTSUPP, EBADSLT, ERANGE, EOVERFLOW, EBADF, ELOOP,
 *	ENODEV, EACCES, EEXIST, ENXIO, EXDEV, ENOSPC, ENOMEM, ESRCH, EBADFD,
 *	ENOENT, EPERM, EBUSY, EFAULT; 0 counts every other errno (EAGAIN,
 *	EINTR, the backend's own mmap() errors, ...)
 * @VHOST_SHMEM_A_ERROR_PAD: padding for 64-bit attributes
 * @VHOST_SHMEM_A_ERROR_COUNT: u64, how many requests failed with it
 * @__VHOST_SHMEM_A_ERROR_MAX: one past the last attribute
 * @VHOST_SHMEM_A_ERROR_MAX: the last attribute
 */
enum vhost_shmem_error_attrs {
	VHOST_SHMEM_A_ERROR_CODE = 1,
	VHOST_SHMEM_A_ERROR_PAD,
	VHOST_SHMEM_A_ERROR_COUNT,

	__VHOST_SHMEM_A_ERROR_MAX,
	VHOST_SHMEM_A_ERROR_MAX = (__VHOST_SHMEM_A_ERROR_MAX - 1)
};

/*
 * Deprecated: the attribute's old name, kept so that existing users build.
 * The spec's "errno" made the kernel's ynl C generators emit a struct
 * member named errno, which the libc macro of that name breaks.
 */
#define VHOST_SHMEM_A_ERROR_ERRNO	VHOST_SHMEM_A_ERROR_CODE

/**
 * enum vhost_shmem_region_attrs - attributes of a region (region-get)
 * @VHOST_SHMEM_A_REGION_DEV_ID: u32, the device id
 * @VHOST_SHMEM_A_REGION_PAD: padding for 64-bit attributes
 * @VHOST_SHMEM_A_REGION_SHMID: u32, the shmid
 * @VHOST_SHMEM_A_REGION_SIZE: u64, size in bytes
 * @VHOST_SHMEM_A_REGION_FLAGS: u32, VHOST_SHMEM_REGION_F_*
 * @VHOST_SHMEM_A_REGION_ADDR: u64, the owner's address; 0 if not mmapped
 * @VHOST_SHMEM_A_REGION_NVIEWERS: u32, viewers of the region attached now
 * @VHOST_SHMEM_A_REGION_VIEWERS: nest, multi-attr: one enum
 *	vhost_shmem_viewer_attrs nest per attached viewer (in a region dump
 *	as many as fit one message; NVIEWERS counts all), or the one viewer
 *	of a view event
 * @__VHOST_SHMEM_A_REGION_MAX: one past the last attribute
 * @VHOST_SHMEM_A_REGION_MAX: the last attribute
 */
enum vhost_shmem_region_attrs {
	VHOST_SHMEM_A_REGION_DEV_ID = 1,
	VHOST_SHMEM_A_REGION_PAD,
	VHOST_SHMEM_A_REGION_SHMID,
	VHOST_SHMEM_A_REGION_SIZE,
	VHOST_SHMEM_A_REGION_FLAGS,
	VHOST_SHMEM_A_REGION_ADDR,
	VHOST_SHMEM_A_REGION_NVIEWERS,
	VHOST_SHMEM_A_REGION_VIEWERS,

	__VHOST_SHMEM_A_REGION_MAX,
	VHOST_SHMEM_A_REGION_MAX = (__VHOST_SHMEM_A_REGION_MAX - 1)
};

/**
 * enum vhost_shmem_map_attrs - a mapping (map-get) or a MAP/UNMAP/RESET event
 * @VHOST_SHMEM_A_MAP_DEV_ID: u32, the device id
 * @VHOST_SHMEM_A_MAP_PAD: padding for 64-bit attributes
 * @VHOST_SHMEM_A_MAP_SHMID: u32, the region
 * @VHOST_SHMEM_A_MAP_SHM_OFFSET: u64, offset in the region
 * @VHOST_SHMEM_A_MAP_LEN: u64, length in bytes
 * @VHOST_SHMEM_A_MAP_FD_OFFSET: u64, offset in the backend file
 * @VHOST_SHMEM_A_MAP_FLAGS: u64, VHOST_SHMEM_MAP_F_* (RW or read-only)
 * @VHOST_SHMEM_A_MAP_FILE_DEV_MAJOR: u32, major of the backend file's
 *	st_dev
 * @VHOST_SHMEM_A_MAP_FILE_DEV_MINOR: u32, minor of its st_dev
 * @VHOST_SHMEM_A_MAP_FILE_INO: u64, its inode number (st_ino)
 * @VHOST_SHMEM_A_MAP_FILE_PATH: string, its path as /proc/PID/maps shows
 *	it (may end in " (deleted)"); absent if it does not fit a page
 * @VHOST_SHMEM_A_MAP_RESULT: s32, events only: 0 or the negative errno the
 *	MAP/UNMAP request returned
 * @VHOST_SHMEM_A_MAP_REMOVED: u64, reset events only: mappings removed
 * @VHOST_SHMEM_A_MAP_VIEWER_PID: u32, failed MAP events only: thread group
 *	id (initial pid namespace) of the viewer whose mm could not take the
 *	mapping, or that kept it (EBUSY, see "Region views"); absent when no
 *	viewer refused it
 * @__VHOST_SHMEM_A_MAP_MAX: one past the last attribute
 * @VHOST_SHMEM_A_MAP_MAX: the last attribute
 */
enum vhost_shmem_map_attrs {
	VHOST_SHMEM_A_MAP_DEV_ID = 1,
	VHOST_SHMEM_A_MAP_PAD,
	VHOST_SHMEM_A_MAP_SHMID,
	VHOST_SHMEM_A_MAP_SHM_OFFSET,
	VHOST_SHMEM_A_MAP_LEN,
	VHOST_SHMEM_A_MAP_FD_OFFSET,
	VHOST_SHMEM_A_MAP_FLAGS,
	VHOST_SHMEM_A_MAP_FILE_DEV_MAJOR,
	VHOST_SHMEM_A_MAP_FILE_DEV_MINOR,
	VHOST_SHMEM_A_MAP_FILE_INO,
	VHOST_SHMEM_A_MAP_FILE_PATH,
	VHOST_SHMEM_A_MAP_RESULT,
	VHOST_SHMEM_A_MAP_REMOVED,
	VHOST_SHMEM_A_MAP_VIEWER_PID,

	__VHOST_SHMEM_A_MAP_MAX,
	VHOST_SHMEM_A_MAP_MAX = (__VHOST_SHMEM_A_MAP_MAX - 1)
};

/**
 * enum vhost_shmem_viewer_attrs - one viewer of a region (nested in VIEWERS)
 * @VHOST_SHMEM_A_VIEWER_PID: u32, thread group id (initial pid namespace)
 *	of the process that mmapped the view
 * @VHOST_SHMEM_A_VIEWER_COMM: string, its comm at that mmap
 * @VHOST_SHMEM_A_VIEWER_PAD: padding for 64-bit attributes
 * @VHOST_SHMEM_A_VIEWER_OFFSET: u64, region offset of the part it maps
 * @VHOST_SHMEM_A_VIEWER_LEN: u64, bytes it maps from there
 * @VHOST_SHMEM_A_VIEWER_PROT: u32, PROT_READ, with PROT_WRITE for a
 *	read-write view: the most any mapping gets in the viewer
 * @VHOST_SHMEM_A_VIEWER_RESULT: s32, attach events only: 0, or the
 *	negative errno that kept the viewer from attaching
 * @__VHOST_SHMEM_A_VIEWER_MAX: one past the last attribute
 * @VHOST_SHMEM_A_VIEWER_MAX: the last attribute
 */
enum vhost_shmem_viewer_attrs {
	VHOST_SHMEM_A_VIEWER_PID = 1,
	VHOST_SHMEM_A_VIEWER_COMM,
	VHOST_SHMEM_A_VIEWER_PAD,
	VHOST_SHMEM_A_VIEWER_OFFSET,
	VHOST_SHMEM_A_VIEWER_LEN,
	VHOST_SHMEM_A_VIEWER_PROT,
	VHOST_SHMEM_A_VIEWER_RESULT,

	__VHOST_SHMEM_A_VIEWER_MAX,
	VHOST_SHMEM_A_VIEWER_MAX = (__VHOST_SHMEM_A_VIEWER_MAX - 1)
};

/**
 * enum vhost_shmem_cmds - commands and notifications
 * @VHOST_SHMEM_CMD_DEV_GET: dump devices (enum vhost_shmem_dev_attrs)
 * @VHOST_SHMEM_CMD_REGION_GET: dump configured regions, of every device
 *	or of the one VHOST_SHMEM_A_REGION_DEV_ID names
 * @VHOST_SHMEM_CMD_MAP_GET: dump live mappings, of every device or of the
 *	one VHOST_SHMEM_A_MAP_DEV_ID names, in (device, shmid, offset) order
 * @VHOST_SHMEM_CMD_MAP_NTF: event: a MAP request completed (RESULT says how)
 * @VHOST_SHMEM_CMD_UNMAP_NTF: event: an UNMAP request completed
 * @VHOST_SHMEM_CMD_RESET_NTF: event: every mapping of a device was removed
 *	(RESET, release of the device, or the owner's mm going away)
 * @VHOST_SHMEM_CMD_DEV_CREATE_NTF: event: a device was opened
 * @VHOST_SHMEM_CMD_DEV_DESTROY_NTF: event: a device was released
 * @VHOST_SHMEM_CMD_VIEW_ATTACH_NTF: event: an mmap of a view fd made a
 *	viewer, which attached or not (its RESULT); region attributes with
 *	one VIEWERS nest
 * @VHOST_SHMEM_CMD_VIEW_DETACH_NTF: event: an attached viewer was dropped
 *	(its munmap, exit or execve, the owner's death)
 * @__VHOST_SHMEM_CMD_MAX: one past the last command
 * @VHOST_SHMEM_CMD_MAX: the last command
 */
enum vhost_shmem_cmds {
	VHOST_SHMEM_CMD_DEV_GET = 1,
	VHOST_SHMEM_CMD_REGION_GET,
	VHOST_SHMEM_CMD_MAP_GET,
	VHOST_SHMEM_CMD_MAP_NTF,
	VHOST_SHMEM_CMD_UNMAP_NTF,
	VHOST_SHMEM_CMD_RESET_NTF,
	VHOST_SHMEM_CMD_DEV_CREATE_NTF,
	VHOST_SHMEM_CMD_DEV_DESTROY_NTF,
	VHOST_SHMEM_CMD_VIEW_ATTACH_NTF,
	VHOST_SHMEM_CMD_VIEW_DETACH_NTF,

	__VHOST_SHMEM_CMD_MAX,
	VHOST_SHMEM_CMD_MAX = (__VHOST_SHMEM_CMD_MAX - 1)
};

#endif /* _UAPI_LINUX_VHOST_SHMEM_H */
