// SPDX-License-Identifier: GPL-2.0
/*
 * The narrated demo: a tiny VMM owns a vhost-shmem region with one KVM
 * memslot over it; a second process (playing the vhost-user side) gets the
 * device fd over SCM_RIGHTS and maps a backend memfd into the region. The
 * guest reads the backend's bytes, then a hole after UNMAP, and no memslot
 * ever changes after setup.
 *
 * Then the full path: vhost-user-test-backend (a vhost-user device process)
 * sends VHOST_USER_BACKEND_SHMEM_MAP on its backend channel,
 * vhost-shmem-helper (which inherited the device fd) turns it into the
 * VHOST_SHMEM_MAP ioctl, the module installs the memfd and the guest reads
 * its bytes; SHMEM_UNMAP brings the hole back. This process plays the VMM's
 * vhost-user front-end. Without the helper binaries ($VHOST_SHMEM_BIN,
 * default /payload/bin) only the direct path is shown.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvm_vmm.h"
#include "vhost_shmem_lib.h"
#include "vu_mini.h"

#define REGION_SIZE	(2ULL << 20)
#define MAP_OFFSET	0x10000ULL
#define MESSAGE		"Hello, guest! These bytes live in a backend memfd."

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* The guest reads @len bytes at region offset @off, 4 at a time. */
static int guest_read(struct kvm_vmm *v, uint64_t off, char *buf, size_t len)
{
	struct vmm_result res;
	size_t i;

	for (i = 0; i < len; i += 4) {
		if (vmm_read32(v, off + i, &res) || res.outcome != VMM_HLT)
			return -1;
		memcpy(buf + i, &res.value, len - i < 4 ? len - i : 4);
	}
	return 0;
}

static void show_guest_bytes(struct kvm_vmm *v, uint64_t off, size_t len)
{
	char buf[64] = "";

	if (guest_read(v, off, buf, len)) {
		say("  guest: reading GPA %#llx failed", VMM_REGION_GPA + off);
		return;
	}
	if (!memcmp(buf, (char[64]){ 0 }, len))
		say("  guest reads GPA %#llx: %zu zero bytes (a hole)",
		    VMM_REGION_GPA + off, len);
	else
		say("  guest reads GPA %#llx: \"%.*s\"", VMM_REGION_GPA + off,
		    (int)len, buf);
}

/* Starts @path with @argv, stdin/stdout as given (-1: inherit), @keep inherited. */
static pid_t spawn(char *const argv[], int in, int out, const int *keep, int nkeep)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (in >= 0)
		dup2(in, 0);
	if (out >= 0)
		dup2(out, 1);
	for (int i = 0; i < nkeep; i++)
		fcntl(keep[i], F_SETFD, 0);
	execv(argv[0], argv);
	_exit(127);
}

/* One command line to the test back-end; returns its result line. */
static const char *backend_cmd(int in, FILE *out, const char *cmd)
{
	static char line[256];

	say("  back-end <- \"%s\"", cmd);
	if (dprintf(in, "%s\n", cmd) < 0 || !fgets(line, sizeof(line), out))
		return "(no answer)";
	line[strcspn(line, "\n")] = 0;
	return line;
}

#define FULL_TEXT	"Hi_guest:_sent_by_a_vhost-user_backend,_via_the_helper!"
#define FULL_OFFSET	0x40000ULL

/* What an admin sees meanwhile: the vhost-shmem CLI, over generic netlink. */
static void show_cli(void)
{
	char cli[256], cmd[640];

	snprintf(cli, sizeof(cli), "%.200s/vhost-shmem", bin_dir());
	if (access(cli, X_OK)) {
		say("admin: (no vhost-shmem CLI in %s; build it with \"make helper\")", bin_dir());
		return;
	}
	say("admin: \"vhost-shmem dev show\" and \"vhost-shmem map show\" (generic netlink):");
	snprintf(cmd, sizeof(cmd), "{ %s dev show && %s map show; } 2>&1 | sed 's/^/  /'",
		 cli, cli);
	if (system(cmd))
		say("  the CLI failed");
}

/* backend -> helper -> module -> KVM guest. 0 if it worked. */
static int full_path(struct vs_dev *dev, struct kvm_vmm *vmm)
{
	char helper[256], backend[256], a_fe[16], a_be[16], a_dev[16], cmd[160];
	int be[2], fe[2], in[2], out[2], keep[3], st, rc = 1;
	pid_t hp = -1, bp = -1;
	struct vu_shmem_config cfg;
	uint64_t proto;
	const char *r;
	FILE *bout = NULL;

	snprintf(helper, sizeof(helper), "%.200s/vhost-shmem-helper", bin_dir());
	snprintf(backend, sizeof(backend), "%.200s/vhost-user-test-backend", bin_dir());
	putchar('\n');
	say("== the full path: backend -> vhost-shmem-helper -> module -> KVM guest ==");
	if (access(helper, X_OK) || access(backend, X_OK)) {
		say("the helper binaries are not there (%s, %s):", helper, backend);
		say("  only the direct path above was shown. Build them with \"make helper\"");
		say("  or point VHOST_SHMEM_BIN at their directory.");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, be) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fe) ||
	    pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		say("demo: %s", strerror(errno));
		return 1;
	}
	snprintf(a_be, sizeof(a_be), "%d", be[1]);
	bp = spawn((char *[]){ backend, "--fd", a_be, "--region", "0:0x200000", "--quiet",
			       NULL }, in[0], out[1], &be[1], 1);
	close(be[1]);
	close(in[0]);
	close(out[1]);
	bout = fdopen(out[0], "r");
	snprintf(a_fe, sizeof(a_fe), "%d", fe[1]);
	snprintf(a_be, sizeof(a_be), "%d", be[0]);
	snprintf(a_dev, sizeof(a_dev), "%d", dev->fd);
	keep[0] = fe[1];
	keep[1] = be[0];
	keep[2] = dev->fd;
	hp = spawn((char *[]){ helper, "--frontend-fd", a_fe, "--backend-fd", a_be,
			       "--device-fd", a_dev, NULL }, -1, -1, keep, 3);
	close(fe[1]);
	close(be[0]);
	say("back-end (pid %d): vhost-user-test-backend, a device with region 0 = 2 MiB", bp);
	say("helper   (pid %d): vhost-shmem-helper --device-fd %s (inherited from the VMM);",
	    hp, a_dev);
	say("  it sits between the VMM's vhost-user socket and the back-end's. Its log");
	say("  lines (\"vhost-shmem-helper: ...\") appear below as it works.");

	say("VMM: vhost-user negotiation through the helper");
	if (vu_frontend_negotiate(fe[0], &proto, &cfg)) {
		say("demo: negotiation (up to GET_SHMEM_CONFIG) failed");
		goto out;
	}
	say("  protocol features the VMM sees: %#llx (F_SHMEM, bit 22, is the helper's business:"
	    " %s)", (unsigned long long)proto, proto & (1ULL << VU_PF_SHMEM) ? "shown" : "hidden");
	say("  GET_SHMEM_CONFIG: %u region(s), region 0 = %llu bytes: matches the device",
	    cfg.nregions, (unsigned long long)cfg.memory_sizes[0]);
	r = backend_cmd(in[1], bout, "wait-channel");
	say("  back-end -> \"%s\" (the helper gave it its own backend channel)", r);
	show_guest_bytes(vmm, FULL_OFFSET, 16);

	say("back-end: VHOST_USER_BACKEND_SHMEM_MAP of a fresh memfd -> region 0 +%#llx, read-only",
	    FULL_OFFSET);
	snprintf(cmd, sizeof(cmd), "map 0 %#llx 0x10000 ro %s", FULL_OFFSET, FULL_TEXT);
	r = backend_cmd(in[1], bout, cmd);
	say("  back-end -> \"%s\" (0: the helper's VHOST_SHMEM_MAP ioctl succeeded)", r);
	if (strcmp(r, "map reply 0"))
		goto out;
	show_guest_bytes(vmm, FULL_OFFSET, sizeof(FULL_TEXT) - 1);

	say("back-end: a second MAP over the same range (must fail: overlap)");
	snprintf(cmd, sizeof(cmd), "map 0 %#llx 0x10000 ro %s", FULL_OFFSET, "XXXX");
	r = backend_cmd(in[1], bout, cmd);
	say("  back-end -> \"%s\" (non-zero: refused, the region is unchanged)", r);
	show_guest_bytes(vmm, FULL_OFFSET, 24);

	say("back-end: VHOST_USER_BACKEND_SHMEM_UNMAP region 0 +%#llx", FULL_OFFSET);
	snprintf(cmd, sizeof(cmd), "unmap 0 %#llx 0x10000", FULL_OFFSET);
	r = backend_cmd(in[1], bout, cmd);
	say("  back-end -> \"%s\"", r);
	show_guest_bytes(vmm, FULL_OFFSET, 16);
	say("VMM: KVM_SET_USER_MEMORY_REGION calls: %d (still only those of setup)",
	    vmm->memslot_calls);
	rc = 0;
out:
	say("VMM: closing its vhost-user connection; the helper resets the device and exits");
	close(fe[0]);
	fe[0] = -1;
	for (int t = 0; hp > 0 && t < 500 && waitpid(hp, &st, WNOHANG) != hp; t++)
		usleep(10000);
	if (hp > 0 && kill(hp, 0) == 0) {
		kill(hp, SIGKILL);
		waitpid(hp, &st, 0);
	}
	close(in[1]);
	if (bout)
		fclose(bout);
	for (int t = 0; bp > 0 && t < 300 && waitpid(bp, &st, WNOHANG) != bp; t++)
		usleep(10000);
	if (bp > 0 && kill(bp, 0) == 0) {
		kill(bp, SIGKILL);
		waitpid(bp, &st, 0);
	}
	return rc;
}

int main(void)
{
	const struct vs_layout layout = { .shmid = 0, .size = REGION_SIZE };
	size_t len = sizeof(MESSAGE) - 1;
	struct vs_remote backend;
	struct vmm_result res;
	struct kvm_vmm vmm;
	struct vs_dev dev;
	char file[9];
	int memfd, ret;

	if (!vs_have_dev() || !vmm_available()) {
		say("demo: needs /dev/vhost-shmem and /dev/kvm");
		return 1;
	}
	say("== vhost-shmem demo: a KVM guest sees backend memory, no memslot changes ==");
	ret = vs_dev_setup(&dev, &layout, 1, true);
	if (ret) {
		say("demo: device setup failed: %s (%s)", dev.err, strerror(-ret));
		return 1;
	}
	say("VMM (pid %d): opened /dev/vhost-shmem, SET_OWNER, region 0 = 2 MiB,",
	    getpid());
	say("  mmapped at %p; one KVM memslot over it at GPA %#llx",
	    (void *)dev.r[0].addr, VMM_REGION_GPA);
	ret = vmm_init(&vmm, dev.r[0].addr, REGION_SIZE);
	if (ret) {
		say("demo: KVM setup failed: %s", strerror(-ret));
		return 1;
	}
	show_guest_bytes(&vmm, MAP_OFFSET, 16);

	if (vs_remote_start(&backend, dev.fd)) {
		say("demo: could not start the backend process");
		return 1;
	}
	memfd = vs_memfd("demo-backend", 0x10000, 1);
	if (memfd < 0 || pwrite(memfd, MESSAGE, len, 0) != (ssize_t)len) {
		say("demo: memfd: %s", strerror(errno));
		return 1;
	}
	say("backend (pid %d, got the device fd by SCM_RIGHTS): MAP memfd -> region 0 +%#llx, read-only",
	    backend.pid, MAP_OFFSET);
	ret = vs_remote_map(&backend, 0, memfd, 0, MAP_OFFSET, 0x10000, 0);
	say("  MAP returned %d (%s)", ret, ret ? strerror(-ret) : "ok");
	if (ret)
		return 1;
	show_guest_bytes(&vmm, MAP_OFFSET, len);
	show_cli();

	vmm_write32(&vmm, MAP_OFFSET, 0x21212121, &res);
	memset(file, 0, sizeof(file));
	if (pread(memfd, file, 8, 0) != 8)
		return 1;
	say("  guest writes \"!!!!\" to the read-only mapping: %s; the memfd still holds \"%s\"",
	    vmm_outcome_str(&res), file);

	say("backend: UNMAP region 0 +%#llx", MAP_OFFSET);
	ret = vs_remote_unmap(&backend, 0, MAP_OFFSET, 0x10000);
	say("  UNMAP returned %d (%s)", ret, ret ? strerror(-ret) : "ok");
	show_guest_bytes(&vmm, MAP_OFFSET, 16);

	say("VMM: KVM_SET_USER_MEMORY_REGION calls: %d (all at setup; none for MAP/UNMAP)",
	    vmm.memslot_calls);
	vs_remote_stop(&backend);
	close(memfd);
	ret = full_path(&dev, &vmm);
	vmm_destroy(&vmm);
	vs_dev_close(&dev);
	say("== demo done ==");
	return ret;
}
