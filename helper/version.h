/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The project's one version, from the top-level VERSION file: the
 * Makefiles pass it as -DVHOST_SHMEM_VERSION. Builds that do not (the
 * fuzzer) say "unknown" rather than a wrong number.
 */
#ifndef VHOST_SHMEM_VERSION_H
#define VHOST_SHMEM_VERSION_H

#ifndef VHOST_SHMEM_VERSION
#define VHOST_SHMEM_VERSION "unknown"
#endif

#endif
