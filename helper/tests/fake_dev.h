/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake vhost-shmem device behind the helper's shmem_dev_ops, for the host
 * tests and the fuzzer: it emulates the device's overlap and range rules
 * and can record every call into a pipe.
 */
#ifndef FAKE_DEV_H
#define FAKE_DEV_H

#include <stdint.h>
#include <sys/types.h>

#include "shmem_dev.h"

/* One device call, as fake_dev.recfd receives it. */
struct fake_rec {
	char op;		/* 'M'ap, 'U'nmap, 'R'eset, 'C'onfig, 'B'atch, 'V'iew */
	int ret;
	struct vhost_shmem_map map;
	struct vhost_shmem_unmap unmap;
	ino_t ino;		/* inode of the MAP fd, as the helper held it */
};

#define FAKE_DEV_LIVE_MAX 64

struct fake_dev {
	int recfd;			/* write end of a pipe; < 0: no records */
	int cfg_err;			/* GET_CONFIG fails so */
	unsigned int cfg_err_calls;	/* cfg_err for that many calls; 0: always */
	unsigned int ncfg;		/* get_config calls so far */
	int batch_err;			/* the BATCH ioctl itself fails so */
	unsigned int bad_fds;		/* MAPs whose fd was not open */
	int view_err;			/* GET_VIEW fails so */
	struct vhost_shmem_config cfg;
	unsigned int n;
	struct { uint32_t shmid; uint64_t off, len; } live[FAKE_DEV_LIVE_MAX];
};

/*
 * A view's bytes: GET_VIEW of shmid gives a memfd of the region's size
 * whose first FAKE_VIEW_FILL bytes are FAKE_VIEW_BYTE(shmid) (the
 * fuzzer's regions can be huge); its record has the shmid in map.shmid,
 * the flags in map.flags and the memfd's inode.
 */
#define FAKE_VIEW_BYTE(shmid) ((unsigned char)(0xa0 + (shmid)))
#define FAKE_VIEW_FILL (1u << 20)

/* Every op, BATCH included; ctx is a struct fake_dev. */
extern const struct shmem_dev_ops fake_ops;
/* The same without batch: the helper then runs staged requests one by one. */
extern const struct shmem_dev_ops fake_ops_no_batch;

#endif
