/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints vhost_shmem:* (events/vhost_shmem/ in tracefs).
 * CREATE_TRACE_POINTS is defined by netlink.c only.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vhost_shmem

#if !defined(_VHOST_SHMEM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VHOST_SHMEM_TRACE_H

#include <linux/tracepoint.h>
#include <linux/vhost_shmem.h>

DECLARE_EVENT_CLASS(vhost_shmem_range,
		    TP_PROTO(u32 dev_id, u32 shmid, u64 shm_offset, u64 len,
			     u64 fd_offset, u64 flags, int result),
		    TP_ARGS(dev_id, shmid, shm_offset, len, fd_offset, flags,
			    result),
		    TP_STRUCT__entry(__field(u32, dev_id)
				     __field(u32, shmid)
				     __field(u64, shm_offset)
				     __field(u64, len)
				     __field(u64, fd_offset)
				     __field(u64, flags)
				     __field(int, result)),
		    TP_fast_assign(__entry->dev_id = dev_id;
				   __entry->shmid = shmid;
				   __entry->shm_offset = shm_offset;
				   __entry->len = len;
				   __entry->fd_offset = fd_offset;
				   __entry->flags = flags;
				   __entry->result = result;),
		    TP_printk("dev=%u shmid=%u shm_offset=0x%llx len=0x%llx fd_offset=0x%llx flags=0x%llx result=%d",
			      __entry->dev_id, __entry->shmid,
			      __entry->shm_offset, __entry->len,
			      __entry->fd_offset, __entry->flags,
			      __entry->result));

/* A MAP request completed with @result (0 or -errno). */
DEFINE_EVENT(vhost_shmem_range, vhost_shmem_map,
	     TP_PROTO(u32 dev_id, u32 shmid, u64 shm_offset, u64 len,
		      u64 fd_offset, u64 flags, int result),
	     TP_ARGS(dev_id, shmid, shm_offset, len, fd_offset, flags, result));

/* An UNMAP request completed with @result; fd_offset and flags are 0. */
DEFINE_EVENT(vhost_shmem_range, vhost_shmem_unmap,
	     TP_PROTO(u32 dev_id, u32 shmid, u64 shm_offset, u64 len,
		      u64 fd_offset, u64 flags, int result),
	     TP_ARGS(dev_id, shmid, shm_offset, len, fd_offset, flags, result));

/* Every mapping of a device was removed (RESET, release, owner gone). */
TRACE_EVENT(vhost_shmem_reset,
	    TP_PROTO(u32 dev_id, u64 removed),
	    TP_ARGS(dev_id, removed),
	    TP_STRUCT__entry(__field(u32, dev_id)
			     __field(u64, removed)),
	    TP_fast_assign(__entry->dev_id = dev_id;
			   __entry->removed = removed;),
	    TP_printk("dev=%u removed=%llu", __entry->dev_id,
		      __entry->removed));

#endif /* _VHOST_SHMEM_TRACE_H */

/* Out-of-tree: found through -I$(src)/kmod (Kbuild). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
