// SPDX-License-Identifier: GPL-2.0
/*
 * End to end through vhost-shmem-helper: this process is the VMM (it owns
 * the device, mmaps region 0 and puts ONE KVM memslot over it) and a minimal
 * vhost-user front-end; vhost-user-test-backend (or, where a read-only fd is
 * needed, a tiny back-end forked from here) sends SHMEM_MAP/UNMAP on the
 * backend channel; vhost-shmem-helper turns them into ioctls on the device
 * fd it inherited. The KVM guest must see exactly what the back-end mapped.
 *
 * Binaries come from $VHOST_SHMEM_BIN (default /payload/bin).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"
#include "kvm_vmm.h"
#include "vu_mini.h"

#define REGION_SIZE	(2ULL << 20)
#define MAP_LEN		0x10000ULL

static void wait_exit(pid_t pid, int timeout_ms, int *status)
{
	for (int t = 0; t < timeout_ms; t += 10) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
}

static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Mini back-end commands: send without waiting, or collect one reply. */
#define MINI_SEND_ONLY	0x80000000u
#define MINI_COLLECT	0x40000000u

/*
 * The tiny back-end for requests vhost-user-test-backend cannot make (a
 * read-only fd, pipelining): serves the main channel and forwards each
 * request read from @cmd ({struct vu_mmap, u32 request} + fd) to the
 * backend channel, writing the u64 reply (or ~0 on error) back to @cmd.
 * With MINI_SEND_ONLY it answers 0 once sent and leaves the reply queued;
 * MINI_COLLECT reads the next queued reply instead of sending.
 */
static void mini_backend(int be, int cmd)
{
	struct vu_shmem_config cfg = { .nregions = 1 };
	int chan = -1;

	cfg.memory_sizes[0] = REGION_SIZE;
	for (;;) {
		struct pollfd pf[2] = { { be, POLLIN, 0 }, { cmd, POLLIN, 0 } };
		struct { struct vu_mmap mm; uint32_t req; } c;
		union { uint64_t u64; char b[4096]; } p;
		struct vu_hdr h;
		uint64_t v;
		int fd;

		if (poll(pf, 2, -1) < 0)
			_exit(1);
		if (pf[0].revents) {
			if (vu_recv(be, &h, &p, sizeof(p), &fd, 5000))
				_exit(0);
			switch (h.request) {
			case VU_GET_FEATURES:
				v = (1ULL << 32) | (1ULL << VU_F_PROTOCOL_FEATURES);
				vu_send(be, h.request, VU_FLAG_REPLY, &v, 8, -1);
				break;
			case VU_GET_PROTOCOL_FEATURES:
				v = (1ULL << VU_PF_REPLY_ACK) | (1ULL << VU_PF_BACKEND_REQ) |
				    (1ULL << VU_PF_SHMEM);
				vu_send(be, h.request, VU_FLAG_REPLY, &v, 8, -1);
				break;
			case VU_GET_SHMEM_CONFIG:
				vu_send(be, h.request, VU_FLAG_REPLY, &cfg, sizeof(cfg), -1);
				break;
			case VU_SET_BACKEND_REQ_FD:
				if (chan >= 0)
					close(chan);
				chan = fd;
				fd = -1;
				/* fallthrough */
			default:
				if (h.flags & VU_FLAG_NEED_REPLY) {
					v = 0;
					vu_send(be, h.request, VU_FLAG_REPLY, &v, 8, -1);
				}
			}
			if (fd >= 0)
				close(fd);
		}
		if (pf[1].revents) {
			if (vs_recv_fd(cmd, &fd, &c, sizeof(c)) != sizeof(c))
				_exit(0);
			v = ~0ULL;
			if (chan < 0)
				;
			else if (c.req & MINI_COLLECT)
				v = !vu_recv(chan, &h, &p, sizeof(p), NULL, 10000) &&
				    h.size == 8 ? p.u64 : ~0ULL;
			else if (vu_send(chan, c.req & ~MINI_SEND_ONLY, VU_FLAG_NEED_REPLY,
					 &c.mm, sizeof(c.mm), fd))
				;
			else if (c.req & MINI_SEND_ONLY)
				v = 0;
			else if (!vu_recv(chan, &h, &p, sizeof(p), NULL, 10000) && h.size == 8)
				v = p.u64;
			if (fd >= 0)
				close(fd);
			if (write(cmd, &v, 8) != 8)
				_exit(1);
		}
	}
}

FIXTURE(e2e) {
	struct vs_dev dev;
	struct kvm_vmm vmm;
	bool vmm_ok;
	int memslots;		/* memslot calls after setup */
	pid_t helper, backend;
	int fe;			/* our front-end end of the helper's socket */
	int be_in;		/* test-backend's stdin */
	FILE *be_out;		/* test-backend's stdout */
	int mini_cmd;		/* mini back-end's command socket */
	int log;		/* memfd with the helper's stderr */
	char helper_bin[256], backend_bin[256];
};

FIXTURE_SETUP(e2e)
{
	const struct vs_layout layout = { .shmid = 0, .size = REGION_SIZE };
	int ret;

	self->helper = self->backend = -1;
	self->fe = self->be_in = self->mini_cmd = self->log = -1;
	self->be_out = NULL;
	self->vmm_ok = false;
	signal(SIGPIPE, SIG_IGN);
	snprintf(self->helper_bin, sizeof(self->helper_bin), "%s/vhost-shmem-helper",
		 bin_dir());
	snprintf(self->backend_bin, sizeof(self->backend_bin),
		 "%s/vhost-user-test-backend", bin_dir());
	VS_REQUIRE_DEV_IN_SETUP();
	if (!vmm_available())
		VS_SETUP_SKIP("no /dev/kvm (load kvm and kvm-amd/kvm-intel)");
	if (access(self->helper_bin, X_OK) || access(self->backend_bin, X_OK))
		VS_SETUP_SKIP("no %.200s or %.200s (set VHOST_SHMEM_BIN to the helper build dir)",
			      self->helper_bin, self->backend_bin);
	ret = vs_dev_setup(&self->dev, &layout, 1, true);
	if (ret)
		TH_LOG("device setup: %s: %s", self->dev.err, strerror(-ret));
	ASSERT_EQ(0, ret);
	ret = vmm_init(&self->vmm, self->dev.r[0].addr, REGION_SIZE);
	if (ret)
		TH_LOG("vmm_init: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	self->vmm_ok = true;
	self->memslots = self->vmm.memslot_calls;
}

FIXTURE_TEARDOWN(e2e)
{
	int st;

	if (self->fe >= 0)
		close(self->fe);
	if (self->be_in >= 0)
		close(self->be_in);
	if (self->be_out)
		fclose(self->be_out);
	if (self->mini_cmd >= 0)
		close(self->mini_cmd);
	if (self->helper > 0) {
		kill(self->helper, SIGKILL);
		waitpid(self->helper, &st, 0);
	}
	if (self->backend > 0) {
		kill(self->backend, SIGKILL);
		waitpid(self->backend, &st, 0);
	}
	if (self->log >= 0)
		close(self->log);
	if (self->vmm_ok)
		vmm_destroy(&self->vmm);
	if (self->dev.fd > 0)
		vs_dev_close(&self->dev);
}

/* The helper's log so far (static buffer). */
static const char *helper_log(FIXTURE_DATA(e2e) *self)
{
	static char buf[65536];
	ssize_t n = pread(self->log, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void dump_log(struct __test_metadata *_metadata, FIXTURE_DATA(e2e) *self)
{
	const char *l = helper_log(self);
	size_t n = strlen(l);

	TH_LOG("helper log (tail):\n%s", n > 3000 ? l + n - 3000 : l);
}

/* Evaluates @cond once; on failure shows the helper's log. */
#define CHECK(cond) do { \
	bool __ok = (cond); \
	if (!__ok) \
		dump_log(_metadata, self); \
	ASSERT_TRUE(__ok); \
} while (0)

/* What a test adds to start(): NULL is none. */
struct start_opts {
	const char *share;	/* --share-region of the helper */
	bool slots;		/* test-backend offers CONFIGURE_MEM_SLOTS, we ack it */
	const char *max_slots;	/* test-backend's --max-mem-slots */
};

/* Starts a back-end (test program, or the mini one) and the helper; negotiates. */
static int start(struct __test_metadata *_metadata, FIXTURE_DATA(e2e) *self, bool mini,
		 const struct start_opts *o)
{
	static const struct start_opts none;
	struct vu_shmem_config cfg;
	int be[2], fe[2], in[2], out[2], cmd[2];
	uint64_t proto;
	char a_fe[16], a_be[16], a_dev[16], line[256];
	char *be_argv[12], *he_argv[16];
	int na = 0;

	if (!o)
		o = &none;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, be))
		return -1;
	if (mini) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cmd))
			return -1;
		self->backend = fork();
		if (self->backend == 0) {
			close(be[0]);
			close(cmd[0]);
			mini_backend(be[1], cmd[1]);
			_exit(0);
		}
		close(cmd[1]);
		self->mini_cmd = cmd[0];
	} else {
		if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
			return -1;
		snprintf(a_be, sizeof(a_be), "%d", be[1]);
		self->backend = fork();
		if (self->backend == 0) {
			dup2(in[0], 0);
			dup2(out[1], 1);
			fcntl(be[1], F_SETFD, 0);
			be_argv[na++] = self->backend_bin;
			be_argv[na++] = "--fd";
			be_argv[na++] = a_be;
			be_argv[na++] = "--region";
			be_argv[na++] = "0:0x200000";
			be_argv[na++] = "--quiet";
			if (o->slots)
				be_argv[na++] = "--mem-slots";
			if (o->max_slots) {
				be_argv[na++] = "--max-mem-slots";
				be_argv[na++] = (char *)o->max_slots;
			}
			be_argv[na] = NULL;
			execv(self->backend_bin, be_argv);
			_exit(127);
		}
		close(in[0]);
		close(out[1]);
		self->be_in = in[1];
		self->be_out = fdopen(out[0], "r");
	}
	close(be[1]);
	if (self->backend < 0)
		return -1;

	self->log = memfd_create("helper-log", MFD_CLOEXEC);
	if (self->log < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fe))
		return -1;
	snprintf(a_fe, sizeof(a_fe), "%d", fe[1]);
	snprintf(a_be, sizeof(a_be), "%d", be[0]);
	snprintf(a_dev, sizeof(a_dev), "%d", self->dev.fd);
	self->helper = fork();
	if (self->helper == 0) {
		dup2(self->log, 2);
		fcntl(fe[1], F_SETFD, 0);
		fcntl(be[0], F_SETFD, 0);
		fcntl(self->dev.fd, F_SETFD, 0);
		na = 0;
		he_argv[na++] = self->helper_bin;
		he_argv[na++] = "--frontend-fd";
		he_argv[na++] = a_fe;
		he_argv[na++] = "--backend-fd";
		he_argv[na++] = a_be;
		he_argv[na++] = "--device-fd";
		he_argv[na++] = a_dev;
		he_argv[na++] = "--verbose";
		if (o->share) {
			he_argv[na++] = "--share-region";
			he_argv[na++] = (char *)o->share;
		}
		he_argv[na] = NULL;
		execv(self->helper_bin, he_argv);
		_exit(127);
	}
	close(fe[1]);
	close(be[0]);
	self->fe = fe[0];
	if (self->helper < 0)
		return -1;

	/* The VMM's negotiation, no backend channel of its own. */
	if (vu_frontend_negotiate_with(self->fe, &proto, &cfg,
				       o->slots ? 1ULL << VU_PF_CONFIGURE_MEM_SLOTS : 0)) {
		TH_LOG("negotiation through the helper (up to GET_SHMEM_CONFIG) failed");
		return -1;
	}
	if (cfg.nregions != 1 || cfg.memory_sizes[0] != REGION_SIZE) {
		TH_LOG("GET_SHMEM_CONFIG: %u regions, region 0 %llu bytes", cfg.nregions,
		       (unsigned long long)cfg.memory_sizes[0]);
		return -1;
	}
	if (!mini) {
		if (dprintf(self->be_in, "wait-channel\n") < 0 ||
		    !fgets(line, sizeof(line), self->be_out) ||
		    strncmp(line, "channel ready", 13)) {
			TH_LOG("test-backend: no backend channel");
			return -1;
		}
	}
	return 0;
}

#define START_OPTS(mini, o) do { \
	int __r = start(_metadata, self, mini, o); \
	if (__r) \
		dump_log(_metadata, self); \
	ASSERT_EQ(0, __r); \
} while (0)
#define START(mini) START_OPTS(mini, NULL)

/* One test-backend command; returns the number in "map reply N" etc. */
static long long be_cmd(FIXTURE_DATA(e2e) *self, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static long long be_cmd(FIXTURE_DATA(e2e) *self, const char *fmt, ...)
{
	char line[256], word[32];
	long long r;
	va_list ap;

	va_start(ap, fmt);
	vdprintf(self->be_in, fmt, ap);
	va_end(ap);
	if (!fgets(line, sizeof(line), self->be_out))
		return -1000;
	if (sscanf(line, "%31s reply %lld", word, &r) != 2)
		return -1001;
	return r;
}

#define MAP(off, len, mode, text) \
	be_cmd(self, "map 0 %#llx %#llx %s %s\n", (unsigned long long)(off), \
	       (unsigned long long)(len), mode, text)
#define UNMAP(off, len) \
	be_cmd(self, "unmap 0 %#llx %#llx\n", (unsigned long long)(off), \
	       (unsigned long long)(len))

/* Mini back-end request with @fd. */
static long long mini_req(FIXTURE_DATA(e2e) *self, uint32_t req, int fd,
			  uint64_t off, uint64_t len, uint64_t flags)
{
	struct { struct vu_mmap mm; uint32_t req; } c;
	uint64_t v;

	memset(&c, 0, sizeof(c));
	c.mm.shm_offset = off;
	c.mm.len = len;
	c.mm.flags = flags;
	c.req = req;
	if (vs_send_fd(self->mini_cmd, fd, &c, sizeof(c)) ||
	    read(self->mini_cmd, &v, 8) != 8)
		return -1000;
	return (long long)v;
}

static uint32_t text32(const char *text, uint64_t i)
{
	size_t tl = strlen(text);
	uint32_t v = 0;

	for (int k = 3; k >= 0; k--)
		v = v << 8 | (uint8_t)text[(i + k) % tl];
	return v;
}

/* The guest sees @text repeated over [off, off + len) (sampled). */
#define ASSERT_GUEST_TEXT(off, len, text) do { \
	const uint64_t __s[] = { 0, 4, 0x7fc, 0x1000, (len) / 2, (len) - 4 }; \
	for (unsigned int __i = 0; __i < 6; __i++) \
		ASSERT_GUEST_READS(&self->vmm, (off) + __s[__i], text32(text, __s[__i])); \
} while (0)

#define ASSERT_GUEST_ZERO(off, len) do { \
	const uint64_t __s[] = { 0, 4, 0x1000, (len) / 2, (len) - 4 }; \
	for (unsigned int __i = 0; __i < 5; __i++) \
		ASSERT_GUEST_READS(&self->vmm, (off) + __s[__i], 0); \
} while (0)

/*
 * The guest reads zeros at @off again and KVM maps nothing new for it: it
 * kept those translations (no memslot change, no change beyond a range).
 */
#define ASSERT_GUEST_ZERO_KEPT(off, len) do { \
	int64_t __n0 = vmm_mapped_pages(&self->vmm); \
	ASSERT_GUEST_ZERO(off, len); \
	ASSERT_LE(0, __n0); \
	ASSERT_EQ(__n0, vmm_mapped_pages(&self->vmm)); \
} while (0)

static struct vhost_shmem_stats stats(FIXTURE_DATA(e2e) *self)
{
	struct vhost_shmem_stats st = { .mappings = ~0ULL };

	vs_stats(self->dev.fd, &st);
	return st;
}

/* Waits up to 5 s for the device to have no mapping. */
static bool wait_no_mappings(FIXTURE_DATA(e2e) *self)
{
	for (int t = 0; t < 500; t++) {
		if (stats(self).mappings == 0)
			return true;
		usleep(10000);
	}
	return false;
}

static bool wait_log(FIXTURE_DATA(e2e) *self, const char *what)
{
	for (int t = 0; t < 500; t++) {
		if (strstr(helper_log(self), what))
			return true;
		usleep(10000);
	}
	return false;
}

#define T1 "vhost-user-SHMEM_MAP-via-helper!"
#define T2 "second-mapping"

/*
 * MAP → guest reads the back-end's bytes; UNMAP → hole; no memslot change:
 * KVM keeps its translations of the guest's other pages.
 */
TEST_F_TIMEOUT(e2e, map_guest_reads_unmap_hole, 120)
{
	START(false);
	ASSERT_GUEST_ZERO(0x10000, MAP_LEN);
	CHECK(MAP(0x10000, MAP_LEN, "ro", T1) == 0);
	ASSERT_EQ(1, stats(self).mappings);
	ASSERT_GUEST_TEXT(0x10000, MAP_LEN, T1);
	ASSERT_GUEST_ZERO(0x20000, MAP_LEN);
	CHECK(MAP(0x100000, 2 * MAP_LEN, "rw", T2) == 0);
	ASSERT_EQ(2, stats(self).mappings);
	ASSERT_GUEST_TEXT(0x100000, 2 * MAP_LEN, T2);

	/* KVM kept what it had of the hole next to the new mapping. */
	ASSERT_GUEST_ZERO_KEPT(0x20000, MAP_LEN);

	CHECK(UNMAP(0x10000, MAP_LEN) == 0);
	ASSERT_EQ(1, stats(self).mappings);
	/* ...and after the UNMAP next to it: only that range changed. */
	ASSERT_GUEST_ZERO_KEPT(0x20000, MAP_LEN);
	ASSERT_GUEST_ZERO(0x10000, MAP_LEN);
	ASSERT_GUEST_TEXT(0x100000, 2 * MAP_LEN, T2);
	CHECK(UNMAP(0x100000, 2 * MAP_LEN) == 0);
	ASSERT_EQ(0, stats(self).mappings);
	ASSERT_GUEST_ZERO(0x100000, 2 * MAP_LEN);
	CHECK(strstr(helper_log(self), "SHMEM_MAP ok") != NULL);
	ASSERT_EQ(self->memslots, self->vmm.memslot_calls);
}

/* Overlap and out of bounds: non-zero reply, nothing changed, still serving. */
TEST_F_TIMEOUT(e2e, bad_requests_change_nothing, 120)
{
	struct vs_snap snap;

	START(false);
	CHECK(MAP(0x10000, MAP_LEN, "ro", T1) == 0);
	ASSERT_EQ(0, vs_snap_take(&self->dev, 0, 0, REGION_SIZE, &snap));

	/* Overlap (EEXIST). */
	CHECK(MAP(0x18000, MAP_LEN, "ro", T2) != 0);
	ASSERT_SNAP_SAME(&self->dev, 0, &snap, 1);
	ASSERT_GUEST_TEXT(0x10000, MAP_LEN, T1);
	ASSERT_GUEST_ZERO(0x20000, MAP_LEN);
	CHECK(wait_log(self, "SHMEM_MAP failed: EEXIST"));

	/* Out of bounds (ERANGE). */
	CHECK(MAP(REGION_SIZE - MAP_LEN, 2 * MAP_LEN, "ro", T2) != 0);
	ASSERT_SNAP_SAME(&self->dev, 0, &snap, 2);
	ASSERT_GUEST_ZERO(REGION_SIZE - MAP_LEN, MAP_LEN);
	CHECK(wait_log(self, "SHMEM_MAP failed: ERANGE"));

	/* UNMAP that does not name a whole mapping (ENOENT). */
	CHECK(UNMAP(0x10000, MAP_LEN / 2) != 0);
	ASSERT_SNAP_SAME(&self->dev, 0, &snap, 3);
	ASSERT_GUEST_TEXT(0x10000, MAP_LEN, T1);
	vs_snap_free(&snap);

	/* Still serving. */
	CHECK(MAP(0x40000, MAP_LEN, "ro", T2) == 0);
	ASSERT_GUEST_TEXT(0x40000, MAP_LEN, T2);
	ASSERT_GUEST_TEXT(0x10000, MAP_LEN, T1);
	ASSERT_EQ(2, stats(self).mappings);
	ASSERT_EQ(self->memslots, self->vmm.memslot_calls);
}

/* RW on a read-only fd: non-zero reply, nothing changed; RO on it works. */
TEST_F_TIMEOUT(e2e, rw_on_readonly_fd_refused, 120)
{
	struct vs_snap snap;
	char path[64];
	int memfd, rofd;

	START(true);
	memfd = vs_memfd("e2e-ro", MAP_LEN, 3);
	ASSERT_LE(0, memfd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	rofd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rofd);
	ASSERT_EQ(0, vs_snap_take(&self->dev, 0, 0, REGION_SIZE, &snap));

	CHECK(mini_req(self, VU_BE_SHMEM_MAP, rofd, 0x30000, MAP_LEN,
		       VHOST_SHMEM_MAP_F_RW) != 0);
	ASSERT_SNAP_SAME(&self->dev, 0, &snap, 1);
	ASSERT_GUEST_ZERO(0x30000, MAP_LEN);
	CHECK(wait_log(self, "SHMEM_MAP failed: EACCES"));
	vs_snap_free(&snap);

	/* Still serving: the same fd read-only. */
	CHECK(mini_req(self, VU_BE_SHMEM_MAP, rofd, 0x30000, MAP_LEN, 0) == 0);
	ASSERT_EQ(1, stats(self).mappings);
	ASSERT_GUEST_READS(&self->vmm, 0x30000, vs_pat32(3, 0));
	ASSERT_GUEST_READS(&self->vmm, 0x30000 + 0x5000, vs_pat32(3, 0x5000));
	CHECK(mini_req(self, VU_BE_SHMEM_UNMAP, -1, 0x30000, MAP_LEN, 0) == 0);
	ASSERT_GUEST_ZERO(0x30000, MAP_LEN);
	close(rofd);
	close(memfd);
	ASSERT_EQ(self->memslots, self->vmm.memslot_calls);
}

/*
 * SHMEM requests that reach the helper together run as one
 * VHOST_SHMEM_BATCH on the real device, in order, each answered: the helper
 * is stopped while the back-end pipelines four of them.
 */
TEST_F_TIMEOUT(e2e, pipelined_requests_batched, 120)
{
	int a, b;

	START(true);
	a = vs_memfd("e2e-batch-a", MAP_LEN, 5);
	b = vs_memfd("e2e-batch-b", MAP_LEN, 6);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, kill(self->helper, SIGSTOP));
	CHECK(mini_req(self, VU_BE_SHMEM_MAP | MINI_SEND_ONLY, a, 0x40000, MAP_LEN, 0) == 0);
	CHECK(mini_req(self, VU_BE_SHMEM_MAP | MINI_SEND_ONLY, b, 0x40000, MAP_LEN, 0) == 0);
	CHECK(mini_req(self, VU_BE_SHMEM_UNMAP | MINI_SEND_ONLY, -1, 0x40000, MAP_LEN, 0) == 0);
	CHECK(mini_req(self, VU_BE_SHMEM_MAP | MINI_SEND_ONLY, b, 0x40000, MAP_LEN, 0) == 0);
	ASSERT_EQ(0, kill(self->helper, SIGCONT));
	CHECK(mini_req(self, MINI_COLLECT, -1, 0, 0, 0) == 0);
	CHECK(mini_req(self, MINI_COLLECT, -1, 0, 0, 0) == 1);	/* overlap */
	CHECK(mini_req(self, MINI_COLLECT, -1, 0, 0, 0) == 0);
	CHECK(mini_req(self, MINI_COLLECT, -1, 0, 0, 0) == 0);
	CHECK(wait_log(self, "4 SHMEM requests in one VHOST_SHMEM_BATCH"));
	/* The guest sees the last MAP: b, not a. */
	ASSERT_GUEST_READS(&self->vmm, 0x40000, vs_pat32(6, 0));
	ASSERT_GUEST_READS(&self->vmm, 0x40000 + 0x9000, vs_pat32(6, 0x9000));
	ASSERT_EQ(1, stats(self).mappings);
	CHECK(mini_req(self, VU_BE_SHMEM_UNMAP, -1, 0x40000, MAP_LEN, 0) == 0);
	ASSERT_GUEST_ZERO(0x40000, MAP_LEN);
	close(a);
	close(b);
	ASSERT_EQ(self->memslots, self->vmm.memslot_calls);
}

/* RESET_DEVICE from the front-end: every mapping gone, and logged. */
TEST_F_TIMEOUT(e2e, reset_device_removes_all, 120)
{
	START(false);
	CHECK(MAP(0x10000, MAP_LEN, "ro", T1) == 0);
	CHECK(MAP(0x80000, MAP_LEN, "rw", T2) == 0);
	ASSERT_EQ(2, stats(self).mappings);
	ASSERT_EQ(0, vu_send(self->fe, VU_RESET_DEVICE, 0, NULL, 0, -1));
	CHECK(wait_no_mappings(self));
	ASSERT_EQ(0, stats(self).mapped_bytes);
	ASSERT_GUEST_ZERO(0x10000, MAP_LEN);
	ASSERT_GUEST_ZERO(0x80000, MAP_LEN);
	CHECK(wait_log(self, "device reset: RESET_DEVICE from the front-end"));
	/* The session goes on. */
	CHECK(MAP(0x10000, MAP_LEN, "ro", T2) == 0);
	ASSERT_GUEST_TEXT(0x10000, MAP_LEN, T2);
	ASSERT_EQ(self->memslots, self->vmm.memslot_calls);
}

/* The back-end dies: the helper resets the device and exits. */
TEST_F_TIMEOUT(e2e, backend_killed_resets, 120)
{
	int st = 0;

	START(false);
	CHECK(MAP(0x10000, MAP_LEN, "ro", T1) == 0);
	CHECK(MAP(0x50000, MAP_LEN, "ro", T2) == 0);
	ASSERT_EQ(2, stats(self).mappings);
	ASSERT_EQ(0, kill(self->backend, SIGKILL));
	waitpid(self->backend, &st, 0);
	self->backend = -1;
	CHECK(wait_no_mappings(self));
	ASSERT_GUEST_ZERO(0x10000, MAP_LEN);
	ASSERT_GUEST_ZERO(0x50000, MAP_LEN);
	CHECK(wait_log(self, "device reset: peer disconnected"));
	wait_exit(self->helper, 5000, &st);
	self->helper = -1;
	if (!WIFEXITED(st))
		dump_log(_metadata, self);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(self->memslots, self->vmm.memslot_calls);
}

/* A batch of MAP/UNMAPs (good and bad) leaves the helper's fd table as it was. */
TEST_F_TIMEOUT(e2e, helper_no_fd_leak, 180)
{
	int before, after;

	START(false);
	/* One round first so lazily opened fds are counted. */
	CHECK(MAP(0, MAP_LEN, "ro", T1) == 0);
	CHECK(UNMAP(0, MAP_LEN) == 0);
	before = count_fds(self->helper);
	ASSERT_LT(0, before);
	for (int i = 0; i < 16; i++) {
		uint64_t off = (uint64_t)i * 2 * MAP_LEN;

		CHECK(MAP(off, MAP_LEN, i & 1 ? "rw" : "ro", T1) == 0);
		/* Overlap and out of bounds: the fd must be closed too. */
		CHECK(MAP(off, MAP_LEN, "ro", T2) != 0);
		CHECK(MAP(REGION_SIZE, MAP_LEN, "ro", T2) != 0);
	}
	ASSERT_EQ(16, stats(self).mappings);
	ASSERT_GUEST_TEXT(15 * 2 * MAP_LEN, MAP_LEN, T1);
	for (int i = 0; i < 16; i++)
		CHECK(UNMAP((uint64_t)i * 2 * MAP_LEN, MAP_LEN) == 0);
	ASSERT_EQ(0, stats(self).mappings);
	after = count_fds(self->helper);
	if (after != before)
		dump_log(_metadata, self);
	ASSERT_EQ(before, after);
	ASSERT_EQ(self->memslots, self->vmm.memslot_calls);
}

/* ---- --share-region: the back-end reads the region through its table ---- */

#define SHARE_GPA	0x40000000ULL
#define RAM_SIZE	0x100000ULL

/*
 * The front-end's memory: RAM_SIZE bytes of @ram at @gpa, by SET_MEM_TABLE
 * or (@slots) ADD_MEM_REG, with NEED_REPLY. Returns the reply (0: taken)
 * or -1: once it came, the back-end has handled what the helper sent before.
 */
static long long send_ram(FIXTURE_DATA(e2e) *self, bool slots, int ram, uint64_t gpa)
{
	struct vu_mem_region r = { gpa, RAM_SIZE, 0x7f0000000000ULL + gpa, 0 };
	struct { uint32_t n, pad; struct vu_mem_region r; } mem = { 1, 0, r };
	struct { uint64_t pad; struct vu_mem_region r; } reg = { 0, r };
	uint32_t req = slots ? VU_ADD_MEM_REG : VU_SET_MEM_TABLE;
	struct vu_hdr h;
	uint64_t v;

	if (slots ? vu_send(self->fe, req, VU_FLAG_NEED_REPLY, &reg, sizeof(reg), ram) :
		    vu_send(self->fe, req, VU_FLAG_NEED_REPLY, &mem, sizeof(mem), ram))
		return -1;
	if (vu_recv(self->fe, &h, &v, 8, NULL, 10000) || h.request != req || h.size != 8)
		return -1;
	return (long long)v;
}

/* The u32 the back-end reads at SHARE_GPA + @off through its memory table (-1: none). */
#define READ_SHARE(off) \
	be_cmd(self, "read %#llx\n", (unsigned long long)(SHARE_GPA + (off)))
#define REGIONS() be_cmd(self, "regions\n")

/*
 * The permissions ("rw-s", "r--s") of the back-end's first mapping of the
 * view file, as /proc/PID/maps shows them; "" if it has none.
 */
static const char *view_perms(pid_t pid)
{
	static char perms[8];
	char path[64], line[512];
	FILE *f;

	perms[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[vhost-shmem-view]") &&
		    sscanf(line, "%*s %7s", perms) == 1)
			break;
	if (f)
		fclose(f);
	return perms;
}

/*
 * vhost-user-test-backend behind a helper with --share-region 0@SHARE_GPA:
 * what it maps into region 0 it reads back at SHARE_GPA + offset through
 * its ordinary GPA translation, as the KVM guest sees it; UNMAP and RESET
 * read zeros. A reset takes the share out of the back-end's table until the
 * front-end's next one. @slots: the memory table is built with ADD_MEM_REG
 * (the share's out with REM_MEM_REG).
 */
static void share_case(struct __test_metadata *_metadata, FIXTURE_DATA(e2e) *self,
		       bool slots)
{
	const struct start_opts o = { .share = "0@0x40000000", .slots = slots };
	int ram = vs_memfd("e2e-ram", RAM_SIZE, 7);
	uint64_t v;

	ASSERT_LE(0, ram);
	START_OPTS(false, &o);
	if (slots) {
		/* The test back-end has 8 slots; the share takes one. */
		ASSERT_EQ(0, vu_get_u64(self->fe, VU_GET_MAX_MEM_SLOTS, &v));
		ASSERT_EQ(7, v);
	}
	CHECK(send_ram(self, slots, ram, 0) == 0);
	CHECK(REGIONS() == 2);
	CHECK(be_cmd(self, "read 0x1004\n") == vs_pat32(7, 0x1004));
	CHECK(READ_SHARE(0x10000) == 0);
	/* A read-write view: the back-end mapped it as libvhost-user does. */
	ASSERT_STREQ("rw-s", view_perms(self->backend));

	CHECK(MAP(0x10000, MAP_LEN, "ro", T1) == 0);
	CHECK(READ_SHARE(0x10000) == text32(T1, 0));
	CHECK(READ_SHARE(0x10000 + 0x7fc) == text32(T1, 0x7fc));
	CHECK(READ_SHARE(0x10000 + MAP_LEN - 4) == text32(T1, MAP_LEN - 4));
	CHECK(READ_SHARE(0x10000 + MAP_LEN) == 0);
	ASSERT_GUEST_TEXT(0x10000, MAP_LEN, T1);
	CHECK(MAP(0x100000, 2 * MAP_LEN, "rw", T2) == 0);
	CHECK(READ_SHARE(0x100000 + 0x1804) == text32(T2, 0x1804));

	/* UNMAP: a hole again for the back-end too; the other mapping stays. */
	CHECK(UNMAP(0x10000, MAP_LEN) == 0);
	CHECK(READ_SHARE(0x10000) == 0);
	CHECK(READ_SHARE(0x10000 + MAP_LEN - 4) == 0);
	CHECK(READ_SHARE(0x100000) == text32(T2, 0));

	/* RESET_DEVICE; GET_FEATURES after it: the back-end has seen both. */
	ASSERT_EQ(0, vu_send(self->fe, VU_RESET_DEVICE, 0, NULL, 0, -1));
	ASSERT_EQ(0, vu_get_u64(self->fe, VU_GET_FEATURES, &v));
	CHECK(wait_no_mappings(self));
	/* The helper took the share out of the back-end's table... */
	CHECK(REGIONS() == 1);
	CHECK(READ_SHARE(0x100000) == -1);
	CHECK(be_cmd(self, "read 0x1004\n") == vs_pat32(7, 0x1004));
	CHECK(wait_log(self, "removed from the back-end's memory table"));
	/* ...and the front-end's next table (or region) brings it back. */
	CHECK(send_ram(self, slots, ram, slots ? 2 * RAM_SIZE : 0) == 0);
	CHECK(REGIONS() == (slots ? 3 : 2));
	CHECK(READ_SHARE(0x100000) == 0);
	CHECK(READ_SHARE(0x100000 + 0x1804) == 0);
	ASSERT_GUEST_ZERO(0x100000, 2 * MAP_LEN);

	/* And the session goes on. */
	CHECK(MAP(0x80000, MAP_LEN, "ro", T1) == 0);
	CHECK(READ_SHARE(0x80000 + 0x1000) == text32(T1, 0x1000));
	close(ram);
	CHECK(wait_log(self, "region 0 (0x200000 bytes) shared with the back-end at GPA "
		       "0x40000000"));
	ASSERT_EQ(self->memslots, self->vmm.memslot_calls);
}

TEST_F_TIMEOUT(e2e, share_region_set_mem_table_peer, 120)
{
	share_case(_metadata, self, false);
}

TEST_F_TIMEOUT(e2e, share_region_add_mem_reg_peer, 120)
{
	share_case(_metadata, self, true);
}

/*
 * ",ro": the back-end gets a read-only view (its read-write mmap is refused,
 * the test back-end maps it read-only) and still reads every mapping.
 */
TEST_F_TIMEOUT(e2e, share_region_read_only, 120)
{
	const struct start_opts o = { .share = "0@0x40000000,ro" };
	int ram = vs_memfd("e2e-ram", RAM_SIZE, 7);

	ASSERT_LE(0, ram);
	START_OPTS(false, &o);
	CHECK(send_ram(self, false, ram, 0) == 0);
	CHECK(REGIONS() == 2);
	ASSERT_STREQ("r--s", view_perms(self->backend));
	CHECK(MAP(0x10000, MAP_LEN, "rw", T1) == 0);
	CHECK(READ_SHARE(0x10000 + 0x7fc) == text32(T1, 0x7fc));
	ASSERT_GUEST_TEXT(0x10000, MAP_LEN, T1);
	CHECK(UNMAP(0x10000, MAP_LEN) == 0);
	CHECK(READ_SHARE(0x10000 + 0x7fc) == 0);
	close(ram);
	CHECK(wait_log(self, "at GPA 0x40000000, read-only"));
}

/* A back-end with one memory slot: no room for the share and the RAM. */
TEST_F_TIMEOUT(e2e, share_region_no_mem_slot_left, 120)
{
	const struct start_opts o = { .share = "0@0x40000000", .slots = true,
				      .max_slots = "1" };
	int st = 0;

	/* The helper refuses after SET_PROTOCOL_FEATURES: negotiation stops. */
	ASSERT_NE(0, start(_metadata, self, false, &o));
	wait_exit(self->helper, 5000, &st);
	self->helper = -1;
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	CHECK(strstr(helper_log(self), "back-end has 1 memory slot(s) (GET_MAX_MEM_SLOTS): "
		     "no room for 1 shared region(s) and the front-end's memory: ENOSPC"));
}

TEST_HARNESS_MAIN
