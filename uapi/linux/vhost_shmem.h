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
 * @size: size in bytes, a multiple of the page size; 0 = shmid unused
 * @flags: VHOST_SHMEM_REGION_F_* (must be 0 when @size is 0)
 * @padding: must be zero
 */
struct vhost_shmem_region_config {
	__u64 size;
	__u32 flags;
	__u32 padding;
};

/**
 * struct vhost_shmem_config - region layout of a device (VHOST_SHMEM_SET_CONFIG)
 * @nregions: on GET, the number of regions with a non-zero size; ignored on SET
 * @padding: must be zero
 * @regions: one entry per shmid, indexed by shmid
 *
 * Mirrors VhostUserShMemConfig: regions[i].size is memory_sizes[i].
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
 * @offset: out: the offset to pass to mmap() on the device fd
 * @addr: out: the owner's address of the region once mmapped, else 0
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
 * @shmid: the region
 * @fd: backend file descriptor, in the caller's fd table
 * @fd_offset: offset into the file, page aligned
 * @shm_offset: offset into the region, page aligned
 * @len: length in bytes, page aligned, non-zero
 * @flags: VHOST_SHMEM_MAP_F_*
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
 * @shmid: the region
 * @padding: must be zero
 * @shm_offset: offset of the mapping, exactly as it was mapped
 * @len: length of the mapping, exactly as it was mapped
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
 * @max_mappings: the device's limit (module parameter max_mappings)
 * @mapped_bytes: bytes covered by live mappings
 * @maps: successful MAPs since open
 * @unmaps: successful UNMAPs since open (RESET counts each mapping removed)
 * @failures: failed MAP and UNMAP requests since open
 */
struct vhost_shmem_stats {
	__u64 mappings;
	__u64 max_mappings;
	__u64 mapped_bytes;
	__u64 maps;
	__u64 unmaps;
	__u64 failures;
};

#define VHOST_SHMEM_IOC_MAGIC	0xB5

/*
 * VHOST_SHMEM_SET_OWNER - bind the caller's mm (the VMM) to the device. Once.
 * EBUSY: already owned.
 */
#define VHOST_SHMEM_SET_OWNER	_IO(VHOST_SHMEM_IOC_MAGIC, 0x00)

/*
 * VHOST_SHMEM_SET_CONFIG - set the region sizes. Once, by the owner, before mmap.
 * EBADFD: no owner yet; EPERM: caller is not the owner; EBUSY: already set;
 * EINVAL: size not page aligned, flags/padding, or no region at all;
 * E2BIG: a size above the max_region_size module parameter.
 */
#define VHOST_SHMEM_SET_CONFIG	_IOW(VHOST_SHMEM_IOC_MAGIC, 0x01, struct vhost_shmem_config)

/* VHOST_SHMEM_GET_CONFIG - read the configuration back. EBADFD: not set. */
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
 * Errors (the region is left exactly as it was):
 *   EINVAL     misaligned offset or length, zero length, non-zero padding
 *   EOPNOTSUPP unknown flags
 *   EBADSLT    shmid out of range or not configured (size 0)
 *   ERANGE     shm_offset + len overflows or exceeds the region
 *   EOVERFLOW  fd_offset + len overflows, or exceeds the size of a regular file
 *   EBADF      @fd is not an open file
 *   ELOOP      @fd is a vhost-shmem device
 *   ENODEV     @fd cannot be mmapped
 *   EACCES     VHOST_SHMEM_MAP_F_RW on a file not open for writing, or a
 *              file not open for reading
 *   EEXIST     the range overlaps a live mapping
 *   ENXIO      the region is not mmapped, or the owner unmapped part of it
 *   EXDEV      the owner replaced part of the region with a foreign mapping
 *   ENOSPC     the device has max_mappings live mappings
 *   ENOMEM     out of memory or vm.max_map_count reached in the owner's mm
 *   ESRCH      the owner's mm is gone
 *   EBADFD     no owner or no configuration yet
 *   other      errors of the backend file's own mmap (e.g. EPERM for a
 *              write-sealed memfd mapped read-write)
 */
#define VHOST_SHMEM_MAP		_IOW(VHOST_SHMEM_IOC_MAGIC, 0x10, struct vhost_shmem_map)

/*
 * VHOST_SHMEM_UNMAP - replace one whole mapping with a hole again.
 * EINVAL, EBADSLT, ERANGE, ENXIO, ESRCH, EBADFD as for MAP; ENOENT: no
 * mapping starts at shm_offset with exactly len; EXDEV: the owner replaced
 * the mapping with a foreign one behind the device's back (it stays listed;
 * RESET drops it). Where the owner merely munmapped it, the hole comes back.
 */
#define VHOST_SHMEM_UNMAP	_IOW(VHOST_SHMEM_IOC_MAGIC, 0x11, struct vhost_shmem_unmap)

/*
 * VHOST_SHMEM_RESET - remove every mapping of every region (device reset).
 * Always succeeds once configured, also after the owner's mm is gone.
 */
#define VHOST_SHMEM_RESET	_IO(VHOST_SHMEM_IOC_MAGIC, 0x12)

/* VHOST_SHMEM_GET_STATS - counters and limits of the device. */
#define VHOST_SHMEM_GET_STATS	_IOR(VHOST_SHMEM_IOC_MAGIC, 0x13, struct vhost_shmem_stats)

#endif /* _UAPI_LINUX_VHOST_SHMEM_H */
