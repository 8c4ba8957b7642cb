// SPDX-License-Identifier: GPL-2.0
/*
 * ynl-dump: the devices of the vhost-shmem family, dumped with the C
 * library that the kernel's ynl-gen-c makes from
 * Documentation/netlink/specs/vhost_shmem.yaml (tools/tests/ynl-test.sh
 * builds it against uapi/linux/vhost_shmem.h and links this program).
 * One line a device: "dev ID owner PID regions N errors CODE:COUNT...".
 * Exit status 0, or 1 with the library's error on stderr.
 */
#include <stdio.h>
#include <string.h>

#include "ynl.h"
#include "vhost_shmem-user.h"

int main(void)
{
	struct vhost_shmem_dev_get_req_dump *req;
	struct vhost_shmem_dev_get_rsp_list *devs;
	struct ynl_error yerr;
	struct ynl_sock *ys;
	unsigned int i;

	ys = ynl_sock_create(&ynl_vhost_shmem_family, &yerr);
	if (!ys) {
		fprintf(stderr, "ynl-dump: %s\n", yerr.msg);
		return 1;
	}
	req = vhost_shmem_dev_get_req_dump_alloc();
	devs = req ? vhost_shmem_dev_get_dump(ys, req) : NULL;
	vhost_shmem_dev_get_req_dump_free(req);
	if (!devs) {
		fprintf(stderr, "ynl-dump: dev-get: %s\n", ys->err.msg);
		ynl_sock_destroy(ys);
		return 1;
	}
	ynl_dump_foreach(devs, d) {
		printf("dev %u owner %u regions %u errors", d->id, d->owner_pid,
		       d->nregions);
		for (i = 0; i < d->n_errors; i++)
			printf(" %u:%llu", d->errors[i].code,
			       (unsigned long long)d->errors[i].count);
		printf("\n");
	}
	vhost_shmem_dev_get_rsp_list_free(devs);
	ynl_sock_destroy(ys);
	return 0;
}
