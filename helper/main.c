// SPDX-License-Identifier: GPL-2.0
/* vhost-shmem-helper: see Documentation/userspace-api/vhost-shmem-helper.rst */
#include <stddef.h>

#include "helper.h"

int main(int argc, char **argv)
{
	return helper_main(argc, argv, &shmem_ioctl_ops, NULL);
}
