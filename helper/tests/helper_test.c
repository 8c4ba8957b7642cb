// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of vhost-shmem-helper (no kernel module needed).
 *
 * Most cases run the helper's real top level (helper_main: options, setup,
 * epoll loop) in a forked child with a fake device (tests/fake_dev.c: an
 * ops table that records every ioctl into a pipe and emulates
 * overlap/exact-match rules);
 * the test plays front-end and back-end over socketpairs. Some cases run the
 * real binaries (HELPER_BIN, TEST_FRONTEND_BIN, TEST_BACKEND_BIN).
 * Every case checks that the test process leaks no fd (/proc/self/fd).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "clock.h"
#include "fake_dev.h"
#include "helper.h"
#include "proxy.h"
#include "sock.h"
#include "vu_client.h"

#define BIT(n) (1ull << (n))
#define SHMEM_BIT 22
#define REGION_SIZE (1ull << 20)
#define PAGE 4096ull
#define LOG_MAX 65536

/* ---- process and fd utilities ------------------------------------------ */

static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - (pid == getpid());	/* the DIR's own fd */
}

static ino_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* Waits up to ms for the child; returns its exit status, -1 on timeout. */
static int wait_exit(pid_t pid, int ms)
{
	const struct timespec step = { 0, 5 * 1000 * 1000 };
	int st;

	for (int t = 0; t < ms; t += 5) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		nanosleep(&step, NULL);
	}
	return -1;
}

/* ---- the session fixture ------------------------------------------------- */

FIXTURE(h) {
	pid_t pid;
	int fe, be;		/* our ends of the main channels */
	int fe_chan;		/* front-end's backend channel, our end */
	int be_chan;		/* the channel the helper gave the back-end */
	int logfd, recfd;
	int fds_before;
	int status;
	struct fake_dev dev;
	char log[LOG_MAX];
	struct vu_msg m;
};

/* Setup of the h data, also embedded in the death and bad fixtures. */
static void h_init(FIXTURE_DATA(h) *self)
{
	self->pid = -1;
	self->fe = self->be = self->fe_chan = self->be_chan = -1;
	self->logfd = self->recfd = -1;
	self->status = -1;
	self->dev.cfg.regions[0].size = REGION_SIZE;
	self->dev.cfg.regions[3].size = 4 * PAGE;
	self->dev.cfg.nregions = 2;
	self->fds_before = count_fds(getpid());
}

FIXTURE_SETUP(h)
{
	h_init(self);
}

static void read_log(FIXTURE_DATA(h) *self)
{
	size_t have = strlen(self->log);
	ssize_t n;

	if (self->logfd < 0)
		return;
	while (have < LOG_MAX - 1 &&
	       (n = read(self->logfd, self->log + have, LOG_MAX - 1 - have)) > 0)
		have += (size_t)n;
	self->log[have] = 0;
}

/* Ends the helper (if still running) and collects status and log. */
static int finish(FIXTURE_DATA(h) *self, bool expect_exit)
{
	int fds[] = { self->fe, self->be, self->fe_chan, self->be_chan };

	if (self->pid > 0 && self->status < 0) {
		self->status = wait_exit(self->pid, expect_exit ? 3000 : 0);
		if (self->status < 0) {
			kill(self->pid, SIGKILL);
			waitpid(self->pid, NULL, 0);
			self->status = -2;
		}
	}
	for (unsigned int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	self->fe = self->be = self->fe_chan = self->be_chan = -1;
	read_log(self);
	return self->status;
}

/* Ends the helper, closes what h_init's test opened; no fd may leak. */
static void h_fini(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self)
{
	finish(self, false);
	if (self->logfd >= 0)
		close(self->logfd);
	if (self->recfd >= 0)
		close(self->recfd);
	EXPECT_EQ(self->fds_before, count_fds(getpid())) TH_LOG("fd leak in the test");
}

FIXTURE_TEARDOWN(h)
{
	h_fini(_metadata, self);
}

/* Forks the helper (helper_main with the fake device) on socketpairs. */
static int start(FIXTURE_DATA(h) *self, const char *extra)
{
	int fe[2], be[2], lp[2], rp[2], devfd;
	char a_fe[16], a_be[16], a_dev[16];
	char *argv[12] = { "vhost-shmem-helper", "--frontend-fd", a_fe,
			   "--backend-fd", a_be, "--device-fd", a_dev, "--verbose" };

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fe) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, be) ||
	    pipe2(lp, O_CLOEXEC) || pipe2(rp, O_CLOEXEC))
		return -1;
	self->pid = fork();
	if (self->pid == 0) {
		int argc = 8;
		char extra_buf[64];

		close(fe[0]);
		close(be[0]);
		close(lp[0]);
		close(rp[0]);
		dup2(lp[1], 2);
		close(lp[1]);
		devfd = open("/dev/null", O_RDWR);
		snprintf(a_fe, sizeof(a_fe), "%d", fe[1]);
		snprintf(a_be, sizeof(a_be), "%d", be[1]);
		snprintf(a_dev, sizeof(a_dev), "%d", devfd);
		if (extra) {
			char *sp;

			snprintf(extra_buf, sizeof(extra_buf), "%s", extra);
			argv[argc++] = strtok_r(extra_buf, " ", &sp);
			argv[argc++] = strtok_r(NULL, " ", &sp);
		}
		argv[argc] = NULL;
		self->dev.recfd = rp[1];
		_exit(helper_main(argc, argv, &fake_ops, &self->dev));
	}
	close(fe[1]);
	close(be[1]);
	close(lp[1]);
	close(rp[1]);
	self->fe = fe[0];
	self->be = be[0];
	self->logfd = lp[0];
	self->recfd = rp[0];
	return self->pid > 0 ? 0 : -1;
}

/* Next fake-device record, or op 0 after a timeout. */
static struct fake_rec next_rec(FIXTURE_DATA(h) *self, int ms)
{
	struct fake_rec r = { 0 };
	struct pollfd p = { self->recfd, POLLIN, 0 };

	if (poll(&p, 1, ms) == 1 && read(self->recfd, &r, sizeof(r)) != sizeof(r))
		r.op = 0;
	return r;
}

/* Skips 'C'onfig records; returns the next other record. */
static struct fake_rec next_op(FIXTURE_DATA(h) *self, int ms)
{
	struct fake_rec r;

	do
		r = next_rec(self, ms);
	while (r.op == 'C');
	return r;
}

/* User + system CPU time of @pid in clock ticks, or -1. */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[512], *p;
	unsigned long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');	/* fields 14 and 15 follow "(comm) S" */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

/* Skips the other records up to a 'R'eset; false if none came. */
static bool saw_reset(FIXTURE_DATA(h) *self, int ms)
{
	struct fake_rec r;

	do
		r = next_rec(self, ms);
	while (r.op && r.op != 'R');
	return r.op == 'R';
}

static bool no_message(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 0;
}

/* Receives one message on fd into self->m; asserts request and reply flag. */
#define RECV(fd, req, reply) do { \
	const char *_why = ""; \
	ASSERT_EQ(0, vuc_recv((fd), &self->m, 3000, &_why)) TH_LOG("recv: %s", _why); \
	ASSERT_EQ((uint32_t)(req), self->m.hdr.request); \
	ASSERT_EQ(!!(reply), !!(self->m.hdr.flags & VU_FLAG_REPLY)); \
} while (0)

/* fe asks, be answers (value), fe gets the (possibly rewritten) value. */
static uint64_t get_u64_through(struct __test_metadata *_metadata,
				FIXTURE_DATA(h) *self, uint32_t req, uint64_t val)
{
	EXPECT_EQ(0, vuc_send(self->fe, req, 0, NULL, 0, NULL, 0));
	RECV(self->be, req, 0);
	EXPECT_EQ(0u, self->m.hdr.size);
	EXPECT_EQ(0, vuc_send_u64(self->be, req, VU_FLAG_REPLY, val));
	RECV(self->fe, req, 1);
	EXPECT_EQ(8u, self->m.hdr.size);
	return self->m.payload.u64;
}

/*
 * Negotiates protocol features (fe acks @fe_set out of @be_offer); consumes
 * what the helper adds toward the back-end: SET_BACKEND_REQ_FD (when the
 * front-end did not ask for it) and GET_SHMEM_CONFIG (answered with @cfg).
 */
static void negotiate(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self,
		      uint64_t be_offer, uint64_t fe_set, const struct vu_shmem_config *cfg)
{
	uint64_t seen = get_u64_through(_metadata, self, VU_GET_PROTOCOL_FEATURES, be_offer);
	const uint64_t shmem_req = BIT(SHMEM_BIT) | BIT(5);
	bool shmem = (be_offer & shmem_req) == shmem_req;

	EXPECT_EQ(be_offer & ~BIT(SHMEM_BIT), seen);
	ASSERT_EQ(0, vuc_send_u64(self->fe, VU_SET_PROTOCOL_FEATURES, 0, fe_set));
	RECV(self->be, VU_SET_PROTOCOL_FEATURES, 0);
	/* Only the back-end's offer decides F_SHMEM. */
	EXPECT_EQ((fe_set & ~BIT(SHMEM_BIT)) | (be_offer & (BIT(5) | BIT(3))) |
		  (shmem ? BIT(SHMEM_BIT) : 0), self->m.payload.u64);
	if ((be_offer & BIT(5)) && !(fe_set & BIT(5))) {
		RECV(self->be, VU_SET_BACKEND_REQ_FD, 0);
		ASSERT_EQ(1u, self->m.nfds);
		self->be_chan = self->m.fds[0];
		self->m.nfds = 0;
	}
	if (shmem) {
		RECV(self->be, VU_GET_SHMEM_CONFIG, 0);
		ASSERT_EQ(0, vuc_send(self->be, VU_GET_SHMEM_CONFIG, VU_FLAG_REPLY, cfg,
				      sizeof(*cfg), NULL, 0));
	}
}

static struct vu_shmem_config dev_like_config(void)
{
	struct vu_shmem_config c = { .nregions = 2 };

	c.memory_sizes[0] = REGION_SIZE;
	c.memory_sizes[3] = 4 * PAGE;
	return c;
}

/* Front-end sets up its backend channel; returns the helper-made one. */
static void set_backend_req_fd(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self)
{
	int sp[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	ASSERT_EQ(0, vuc_send(self->fe, VU_SET_BACKEND_REQ_FD, VU_FLAG_NEED_REPLY,
			      NULL, 0, &sp[1], 1));
	RECV(self->be, VU_SET_BACKEND_REQ_FD, 0);
	ASSERT_EQ(1u, self->m.nfds);
	/* The back-end gets the helper's socket, not the front-end's. */
	EXPECT_NE(ino_of(sp[1]), ino_of(self->m.fds[0]));
	EXPECT_NE(ino_of(sp[0]), ino_of(self->m.fds[0]));
	EXPECT_EQ(VU_FLAG_NEED_REPLY, self->m.hdr.flags & VU_FLAG_NEED_REPLY);
	self->be_chan = self->m.fds[0];
	self->m.nfds = 0;
	close(sp[1]);
	self->fe_chan = sp[0];
	ASSERT_EQ(0, vuc_send_u64(self->be, VU_SET_BACKEND_REQ_FD, VU_FLAG_REPLY, 0));
	RECV(self->fe, VU_SET_BACKEND_REQ_FD, 1);
	EXPECT_EQ(0ull, self->m.payload.u64);
}

/* The SHMEM-capable session most cases use, with a started helper. */
static void session_setup(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self)
{
	struct vu_shmem_config cfg = dev_like_config();

	negotiate(_metadata, self, BIT(SHMEM_BIT) | BIT(5) | BIT(3) | BIT(0),
		  BIT(5) | BIT(3), &cfg);
	set_backend_req_fd(_metadata, self);
	EXPECT_EQ('C', next_rec(self, 3000).op);	/* config checked */
}

static void full_setup(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self)
{
	ASSERT_EQ(0, start(self, NULL));
	session_setup(_metadata, self);
}

/*
 * A full session with the helper stopped (SIGCONT it), so that the requests
 * sent meanwhile all wait together; *hfds: the helper's fd count before.
 */
static void stopped_session(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self,
			    int *hfds)
{
	full_setup(_metadata, self);
	*hfds = count_fds(self->pid);
	ASSERT_EQ(0, kill(self->pid, SIGSTOP));
}

/* Reads what the helper logged so far, without waiting. */
static void drain_log(FIXTURE_DATA(h) *self)
{
	fcntl(self->logfd, F_SETFL, fcntl(self->logfd, F_GETFL) | O_NONBLOCK);
	read_log(self);
}

static unsigned int count_str(const char *s, const char *what)
{
	unsigned int n = 0;

	for (; (s = strstr(s, what)); s++)
		n++;
	return n;
}

/* Sends SHMEM_MAP of a fresh memfd on the backend channel. */
static int send_map(FIXTURE_DATA(h) *self, uint8_t shmid, uint64_t off, uint64_t len,
		    uint64_t flags, uint32_t vflags, ino_t *ino)
{
	struct vu_mmap mm = { .shmid = shmid, .fd_offset = 0, .shm_offset = off,
			      .len = len, .flags = flags };
	int fd = vuc_memfd_pattern("abc", len), r;

	if (fd < 0)
		return fd;
	*ino = ino_of(fd);
	r = vuc_send(self->be_chan, VU_BE_SHMEM_MAP, vflags, &mm, sizeof(mm), &fd, 1);
	close(fd);
	return r;
}

static int send_unmap(FIXTURE_DATA(h) *self, uint8_t shmid, uint64_t off, uint64_t len)
{
	struct vu_mmap mm = { .shmid = shmid, .shm_offset = off, .len = len };

	return vuc_send(self->be_chan, VU_BE_SHMEM_UNMAP, VU_FLAG_NEED_REPLY, &mm,
			sizeof(mm), NULL, 0);
}

/* ---- forwarding ----------------------------------------------------------- */

/* Sends from @from, asserts the same bytes and fd identities arrive at @to. */
static void check_forward(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self,
			  int from, int to, uint32_t req, uint32_t flags,
			  const void *payload, uint32_t size, const int *fds,
			  unsigned int nfds)
{
	ASSERT_EQ(0, vuc_send(from, req, flags, payload, size, fds, nfds));
	RECV(to, req, flags & VU_FLAG_REPLY);
	EXPECT_EQ(flags | VU_VERSION, self->m.hdr.flags);
	ASSERT_EQ(size, self->m.hdr.size);
	if (size)
		EXPECT_EQ(0, memcmp(payload, self->m.payload.bytes, size));
	ASSERT_EQ(nfds, self->m.nfds);
	for (unsigned int i = 0; i < nfds; i++)
		EXPECT_EQ(ino_of(fds[i]), ino_of(self->m.fds[i]));
	vu_msg_close_fds(&self->m);
}

TEST_F(h, forward_full_negotiation_byte_exact)
{
	struct vu_shmem_config cfg = dev_like_config();
	uint8_t mem[8 + 2 * 32], addr[40], big[300];
	int mfd[2], efd[3];
	uint32_t two = 2;
	uint64_t v;
	int hfds, hfds_base;

	ASSERT_EQ(0, start(self, NULL));
	v = get_u64_through(_metadata, self, VU_GET_FEATURES, BIT(32) | BIT(30) | 0x1234);
	EXPECT_EQ(BIT(32) | BIT(30) | 0x1234, v);
	v = BIT(32) | BIT(30);
	check_forward(_metadata, self, self->fe, self->be, VU_SET_FEATURES, 0, &v, 8, NULL, 0);
	negotiate(_metadata, self, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5) | BIT(3), &cfg);
	check_forward(_metadata, self, self->fe, self->be, VU_SET_OWNER, 0, NULL, 0, NULL, 0);
	set_backend_req_fd(_metadata, self);
	hfds_base = count_fds(self->pid);
	EXPECT_GT(hfds_base, 0);

	/* SET_MEM_TABLE with two regions and two memfds, with REPLY_ACK. */
	for (int i = 0; i < 2; i++)
		mfd[i] = vuc_memfd_pattern("x", 65536);
	memset(mem, 0, sizeof(mem));
	memcpy(mem, &two, 4);
	for (unsigned int i = 8; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(i * 7);
	memcpy(mem, &two, 4);
	check_forward(_metadata, self, self->fe, self->be, VU_SET_MEM_TABLE,
		      VU_FLAG_NEED_REPLY, mem, sizeof(mem), mfd, 2);
	v = 0;
	check_forward(_metadata, self, self->be, self->fe, VU_SET_MEM_TABLE,
		      VU_FLAG_REPLY, &v, 8, NULL, 0);

	/* Vring setup. */
	for (int i = 0; i < 3; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC);
	v = 256;
	check_forward(_metadata, self, self->fe, self->be, VU_SET_VRING_NUM, 0, &v, 8, NULL, 0);
	for (unsigned int i = 0; i < sizeof(addr); i++)
		addr[i] = (uint8_t)(0xa0 + i);
	check_forward(_metadata, self, self->fe, self->be, VU_SET_VRING_ADDR, 0,
		      addr, sizeof(addr), NULL, 0);
	v = 0;
	check_forward(_metadata, self, self->fe, self->be, VU_SET_VRING_BASE, 0, &v, 8, NULL, 0);
	check_forward(_metadata, self, self->fe, self->be, VU_SET_VRING_KICK, 0, &v, 8, &efd[0], 1);
	check_forward(_metadata, self, self->fe, self->be, VU_SET_VRING_CALL, 0, &v, 8, &efd[1], 1);
	check_forward(_metadata, self, self->fe, self->be, VU_SET_VRING_ERR, 0, &v, 8, &efd[2], 1);
	v = 0x100;	/* NOFD flag */
	check_forward(_metadata, self, self->fe, self->be, VU_SET_VRING_CALL, 0, &v, 8, NULL, 0);
	v = 1ull << 32 | 0;
	check_forward(_metadata, self, self->fe, self->be, VU_SET_VRING_ENABLE, 0, &v, 8, NULL, 0);
	v = 0x55aa;
	check_forward(_metadata, self, self->fe, self->be, VU_GET_VRING_BASE, 0, &v, 8, NULL, 0);
	check_forward(_metadata, self, self->be, self->fe, VU_GET_VRING_BASE, VU_FLAG_REPLY,
		      &v, 8, NULL, 0);
	/* A request id the helper does not know is forwarded, bounded. */
	for (unsigned int i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	check_forward(_metadata, self, self->fe, self->be, 77, 0, big, sizeof(big), efd, 3);
	/* SET_STATUS non-zero: forwarded, no reset. */
	v = 0xf;
	check_forward(_metadata, self, self->fe, self->be, VU_SET_STATUS, 0, &v, 8, NULL, 0);

	EXPECT_EQ('C', next_rec(self, 1000).op);
	EXPECT_EQ(0, next_rec(self, 100).op) TH_LOG("no device op while forwarding");
	hfds = count_fds(self->pid);
	for (int i = 0; i < 2; i++)
		close(mfd[i]);
	for (int i = 0; i < 3; i++)
		close(efd[i]);
	/* The helper kept none of the 8 fds it forwarded. */
	EXPECT_EQ(hfds_base, hfds);
}

/* Unknown front-end requests are forwarded, and so are the back-end's replies. */
TEST_F(h, forward_unknown_request_and_its_replies)
{
	uint8_t body[100];
	uint64_t v = 0;
	int efd;

	full_setup(_metadata, self);
	check_forward(_metadata, self, self->fe, self->be, 77, VU_FLAG_NEED_REPLY,
		      &v, 8, NULL, 0);
	/* REPLY_ACK */
	check_forward(_metadata, self, self->be, self->fe, 77, VU_FLAG_REPLY, &v, 8, NULL, 0);
	/* A payload the helper does not know, with an fd. */
	for (unsigned int i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i ^ 0x5a);
	check_forward(_metadata, self, self->fe, self->be, 200, 0, NULL, 0, NULL, 0);
	efd = eventfd(0, EFD_CLOEXEC);
	check_forward(_metadata, self, self->be, self->fe, 200, VU_FLAG_REPLY,
		      body, sizeof(body), &efd, 1);
	close(efd);
	EXPECT_EQ(42ull, get_u64_through(_metadata, self, VU_GET_QUEUE_NUM, 42));
	EXPECT_EQ(-2, finish(self, false)) TH_LOG("killed while still serving");
	EXPECT_EQ(NULL, strstr(self->log, "malformed")) TH_LOG("%s", self->log);
}

TEST_F(h, features_interposed_default_bit)
{
	struct vu_shmem_config cfg = dev_like_config();

	ASSERT_EQ(0, start(self, NULL));
	/* fe acks neither BACKEND_REQ nor REPLY_ACK: the helper adds both. */
	negotiate(_metadata, self, BIT(SHMEM_BIT) | BIT(5) | BIT(3) | BIT(0) | BIT(1),
		  BIT(0), &cfg);
	EXPECT_GE(self->be_chan, 0) TH_LOG("helper opened the backend channel itself");
	EXPECT_EQ('C', next_rec(self, 3000).op);
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "protocol features: front-end 0x1, back-end 0x400029"));
}

TEST_F(h, features_interposed_override_bit)
{
	struct vu_shmem_config cfg = dev_like_config();
	uint64_t seen;

	ASSERT_EQ(0, start(self, "--shmem-feature-bit 20"));
	seen = get_u64_through(_metadata, self, VU_GET_PROTOCOL_FEATURES,
			       BIT(20) | BIT(SHMEM_BIT) | BIT(5) | BIT(3));
	/* Bit 20 is hidden now; bit 22 means something else: passed on. */
	EXPECT_EQ(BIT(SHMEM_BIT) | BIT(5) | BIT(3), seen);
	ASSERT_EQ(0, vuc_send_u64(self->fe, VU_SET_PROTOCOL_FEATURES, 0, BIT(5)));
	RECV(self->be, VU_SET_PROTOCOL_FEATURES, 0);
	EXPECT_EQ(BIT(20) | BIT(5) | BIT(3), self->m.payload.u64);
	RECV(self->be, VU_GET_SHMEM_CONFIG, 0);
	ASSERT_EQ(0, vuc_send(self->be, VU_GET_SHMEM_CONFIG, VU_FLAG_REPLY, &cfg,
			      sizeof(cfg), NULL, 0));
	EXPECT_EQ('C', next_rec(self, 3000).op);
}

TEST_F(h, features_backend_without_shmem)
{
	ASSERT_EQ(0, start(self, NULL));
	negotiate(_metadata, self, BIT(5) | BIT(3), BIT(5) | BIT(3), NULL);
	EXPECT_TRUE(no_message(self->be, 100)) TH_LOG("no GET_SHMEM_CONFIG injected");
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "back-end does not offer both F_SHMEM (bit 22) and BACKEND_REQ"));
}

/*
 * A front-end that sets F_SHMEM (never offered to it) for a back-end that
 * does not offer it: not passed on, no GET_SHMEM_CONFIG, SHMEM not served.
 */
TEST_F(h, features_frontend_shmem_bit_not_passed_on)
{
	ino_t ino;

	ASSERT_EQ(0, start(self, NULL));
	negotiate(_metadata, self, BIT(5) | BIT(3), BIT(SHMEM_BIT) | BIT(5) | BIT(3), NULL);
	EXPECT_TRUE(no_message(self->be, 100)) TH_LOG("no GET_SHMEM_CONFIG injected");
	set_backend_req_fd(_metadata, self);
	ASSERT_EQ(0, send_map(self, 0, 0, PAGE, 0, VU_FLAG_NEED_REPLY, &ino));
	RECV(self->be_chan, VU_BE_SHMEM_MAP, 1);
	EXPECT_EQ(1ull, self->m.payload.u64);
	EXPECT_EQ(0, next_rec(self, 100).op) TH_LOG("no ioctl without F_SHMEM");
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "front-end set F_SHMEM (bit 22) itself"));
	EXPECT_NE(NULL, strstr(self->log, "SHMEM_MAP although F_SHMEM was not negotiated"));
}

/* Without --share-region, postcopy (PAGEFAULT, bit 8) is the peers' business. */
TEST_F(h, features_pagefault_passed_on)
{
	ASSERT_EQ(0, start(self, NULL));
	EXPECT_EQ(BIT(8) | BIT(5) | BIT(3),
		  get_u64_through(_metadata, self, VU_GET_PROTOCOL_FEATURES,
				  BIT(8) | BIT(5) | BIT(3)));
	ASSERT_EQ(0, vuc_send_u64(self->fe, VU_SET_PROTOCOL_FEATURES, 0,
				  BIT(8) | BIT(5) | BIT(3)));
	RECV(self->be, VU_SET_PROTOCOL_FEATURES, 0);
	EXPECT_EQ(BIT(8) | BIT(5) | BIT(3), self->m.payload.u64);
	finish(self, false);
	EXPECT_EQ(NULL, strstr(self->log, "PAGEFAULT")) TH_LOG("%s", self->log);
}

/*
 * With --share-region the front-end is not offered postcopy: the back-end
 * would register the views with userfaultfd and report their addresses to
 * a front-end that never gave them. A front-end that sets the bit anyway
 * does not get it passed on.
 */
TEST_F(h, share_postcopy_not_offered)
{
	ASSERT_EQ(0, start(self, "--share-region 3@0x100000000"));
	EXPECT_EQ(BIT(5) | BIT(3),
		  get_u64_through(_metadata, self, VU_GET_PROTOCOL_FEATURES,
				  BIT(8) | BIT(5) | BIT(3)));
	ASSERT_EQ(0, vuc_send_u64(self->fe, VU_SET_PROTOCOL_FEATURES, 0,
				  BIT(8) | BIT(5) | BIT(3)));
	RECV(self->be, VU_SET_PROTOCOL_FEATURES, 0);
	EXPECT_EQ(BIT(5) | BIT(3), self->m.payload.u64);
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "postcopy (PAGEFAULT, bit 8) not offered to the "
			       "front-end: not possible with --share-region"))
		TH_LOG("%s", self->log);
	EXPECT_NE(NULL, strstr(self->log, "front-end set PAGEFAULT (bit 8), never offered "
			       "to it with --share-region: not passed on"));
}

/* ---- backend channel ------------------------------------------------------ */

TEST_F(h, backend_channel_relay)
{
	uint8_t area[24];
	uint64_t v;
	int efd = eventfd(0, EFD_CLOEXEC);

	full_setup(_metadata, self);
	/* With NEED_REPLY: relayed, front-end's reply relayed back. */
	check_forward(_metadata, self, self->be_chan, self->fe_chan,
		      VU_BE_CONFIG_CHANGE_MSG, VU_FLAG_NEED_REPLY, NULL, 0, NULL, 0);
	v = 7;
	check_forward(_metadata, self, self->fe_chan, self->be_chan,
		      VU_BE_CONFIG_CHANGE_MSG, VU_FLAG_REPLY, &v, 8, NULL, 0);
	/* With an fd. */
	for (unsigned int i = 0; i < sizeof(area); i++)
		area[i] = (uint8_t)(3 * i);
	check_forward(_metadata, self, self->be_chan, self->fe_chan,
		      VU_BE_VRING_HOST_NOTIFIER_MSG, 0, area, sizeof(area), &efd, 1);
	close(efd);
	/* A reply nobody asked for on the front-end's channel is rejected. */
	ASSERT_EQ(0, vuc_send_u64(self->fe_chan, VU_BE_VRING_CALL, VU_FLAG_REPLY, 0));
	EXPECT_EQ(2, finish(self, true));
	EXPECT_NE(NULL, strstr(self->log, "reply to a request that was not sent"));
}

TEST_F(h, backend_channel_without_frontend_reply_ack)
{
	struct vu_shmem_config cfg = dev_like_config();

	ASSERT_EQ(0, start(self, NULL));
	negotiate(_metadata, self, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5), &cfg);
	set_backend_req_fd(_metadata, self);
	/* fe has no REPLY_ACK: NEED_REPLY stripped, helper acks itself. */
	ASSERT_EQ(0, vuc_send(self->be_chan, VU_BE_CONFIG_CHANGE_MSG, VU_FLAG_NEED_REPLY,
			      NULL, 0, NULL, 0));
	RECV(self->fe_chan, VU_BE_CONFIG_CHANGE_MSG, 0);
	EXPECT_EQ(VU_VERSION, self->m.hdr.flags);
	RECV(self->be_chan, VU_BE_CONFIG_CHANGE_MSG, 1);
	EXPECT_EQ(0ull, self->m.payload.u64);
}

TEST_F(h, backend_channel_frontend_has_none)
{
	struct vu_shmem_config cfg = dev_like_config();

	ASSERT_EQ(0, start(self, NULL));
	negotiate(_metadata, self, BIT(SHMEM_BIT) | BIT(5) | BIT(3), 0, &cfg);
	ASSERT_GE(self->be_chan, 0);
	ASSERT_EQ(0, vuc_send(self->be_chan, VU_BE_CONFIG_CHANGE_MSG, VU_FLAG_NEED_REPLY,
			      NULL, 0, NULL, 0));
	RECV(self->be_chan, VU_BE_CONFIG_CHANGE_MSG, 1);
	EXPECT_EQ(1ull, self->m.payload.u64);
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "front-end has no backend channel"));
}

/*
 * The front-end replaces its backend channel twice, keeping a dup of the
 * end it sent first, then closes that channel's other side: the helper must
 * no longer watch the old channel (no busy loop on its EOF) and relays on
 * the new one.
 */
TEST_F(h, backend_channel_replaced_old_one_unwatched)
{
	int a[2], b[2];
	long ticks;

	full_setup(_metadata, self);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a));
	ASSERT_EQ(0, vuc_send(self->fe, VU_SET_BACKEND_REQ_FD, VU_FLAG_NEED_REPLY,
			      NULL, 0, &a[1], 1));
	RECV(self->fe, VU_SET_BACKEND_REQ_FD, 1);
	close(self->fe_chan);	/* replaced: its EOF is not a disconnect */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b));
	ASSERT_EQ(0, vuc_send(self->fe, VU_SET_BACKEND_REQ_FD, VU_FLAG_NEED_REPLY,
			      NULL, 0, &b[1], 1));
	RECV(self->fe, VU_SET_BACKEND_REQ_FD, 1);
	close(b[1]);
	self->fe_chan = b[0];
	close(a[0]);	/* a[1], still open here, now reads EOF forever */
	ticks = cpu_ticks(self->pid);
	usleep(500 * 1000);
	ticks = cpu_ticks(self->pid) - ticks;
	EXPECT_LT(ticks, sysconf(_SC_CLK_TCK) / 20) TH_LOG("helper spins: %ld ticks in 0.5 s", ticks);
	check_forward(_metadata, self, self->be_chan, self->fe_chan,
		      VU_BE_CONFIG_CHANGE_MSG, 0, NULL, 0, NULL, 0);
	close(a[1]);
	EXPECT_EQ(42ull, get_u64_through(_metadata, self, VU_GET_QUEUE_NUM, 42));
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "front-end replaced its backend channel"));
}

/*
 * A backend channel whose other end the helper holds is refused: the
 * back-end's end of the helper's own channel handed back by the front-end
 * (with both peers' help the helper would relay each request to itself
 * forever), the front-end's end of its main channel, and a pipe. The first
 * channel stays in use and the helper does not spin.
 */
FIXTURE(loop) {
	FIXTURE_DATA(h) h;
};
FIXTURE_VARIANT(loop) {
	int which;	/* 0: back-end's channel end, 1: front-end main end, 2: a pipe */
	const char *why;
};
FIXTURE_VARIANT_ADD(loop, backend_channel_end) {
	.which = 0, .why = "its other end is the helper's own socket" };
FIXTURE_VARIANT_ADD(loop, frontend_main_end) {
	.which = 1, .why = "its other end is the helper's own socket" };
FIXTURE_VARIANT_ADD(loop, pipe) { .which = 2, .why = "it is not a unix socket" };

FIXTURE_SETUP(loop)
{
	h_init(&self->h);
}

FIXTURE_TEARDOWN(loop)
{
	h_fini(_metadata, &self->h);
}

static void loop_case(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self,
		      int which, const char *why)
{
	int pp[2] = { -1, -1 }, fd;
	long ticks;

	full_setup(_metadata, self);
	if (which == 2) {
		ASSERT_EQ(0, pipe2(pp, O_CLOEXEC));
		fd = pp[0];
	} else {
		fd = dup(which == 0 ? self->be_chan : self->fe);
	}
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, vuc_send(self->fe, VU_SET_BACKEND_REQ_FD, VU_FLAG_NEED_REPLY,
			      NULL, 0, &fd, 1));
	close(fd);
	if (pp[1] >= 0)
		close(pp[1]);
	RECV(self->fe, VU_SET_BACKEND_REQ_FD, 1);
	EXPECT_EQ(1ull, self->m.payload.u64) TH_LOG("a refusal is a failure reply");
	ticks = cpu_ticks(self->pid);
	check_forward(_metadata, self, self->be_chan, self->fe_chan,
		      VU_BE_CONFIG_CHANGE_MSG, 0, NULL, 0, NULL, 0);
	usleep(300 * 1000);
	ticks = cpu_ticks(self->pid) - ticks;
	EXPECT_LT(ticks, sysconf(_SC_CLK_TCK) / 20) TH_LOG("helper spins: %ld ticks", ticks);
	EXPECT_EQ(42ull, get_u64_through(_metadata, self, VU_GET_QUEUE_NUM, 42));
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "front-end's backend channel refused"));
	EXPECT_NE(NULL, strstr(self->log, why));
}

TEST_F(loop, backend_channel_refused)
{
	loop_case(_metadata, &self->h, variant->which, variant->why);
}

/* ---- GET_SHMEM_CONFIG ------------------------------------------------------ */

TEST_F(h, shmem_config_relayed_2056_bytes)
{
	struct vu_shmem_config cfg = dev_like_config();

	full_setup(_metadata, self);
	ASSERT_EQ(0, vuc_send(self->fe, VU_GET_SHMEM_CONFIG, 0, NULL, 0, NULL, 0));
	RECV(self->be, VU_GET_SHMEM_CONFIG, 0);
	ASSERT_EQ(0, vuc_send(self->be, VU_GET_SHMEM_CONFIG, VU_FLAG_REPLY, &cfg,
			      sizeof(cfg), NULL, 0));
	RECV(self->fe, VU_GET_SHMEM_CONFIG, 1);
	ASSERT_EQ(2056u, self->m.hdr.size);
	EXPECT_EQ(0, memcmp(&cfg, self->m.payload.bytes, 2056));
}

TEST_F(h, shmem_config_mismatch_refused)
{
	struct vu_shmem_config cfg = dev_like_config();

	cfg.memory_sizes[3] = 8 * PAGE;
	ASSERT_EQ(0, start(self, NULL));
	negotiate(_metadata, self, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5) | BIT(3), &cfg);
	EXPECT_EQ(1, finish(self, true));
	EXPECT_NE(NULL, strstr(self->log, "GET_SHMEM_CONFIG mismatch: shmid 3: back-end "
			       "wants 32768 bytes, device region has 16384"));
	EXPECT_EQ('R', next_op(self, 1000).op);
}

/* A device fd that cannot answer GET_CONFIG: refuse to serve, say why. */
TEST_F(h, shmem_config_unreadable_refused)
{
	struct vu_shmem_config cfg = dev_like_config();

	self->dev.cfg_err = -ENOTTY;
	ASSERT_EQ(0, start(self, NULL));
	negotiate(_metadata, self, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5) | BIT(3), &cfg);
	EXPECT_EQ(1, finish(self, true));
	EXPECT_NE(NULL, strstr(self->log, "cannot read the device configuration "
			       "(VHOST_SHMEM_GET_CONFIG): ENOTTY")) TH_LOG("%s", self->log);
}

TEST_F(h, shmem_config_short_reply_is_malformed)
{
	ASSERT_EQ(0, start(self, NULL));
	negotiate(_metadata, self, BIT(5) | BIT(3), BIT(5) | BIT(3), NULL);
	ASSERT_EQ(0, vuc_send(self->fe, VU_GET_SHMEM_CONFIG, 0, NULL, 0, NULL, 0));
	RECV(self->be, VU_GET_SHMEM_CONFIG, 0);
	ASSERT_EQ(0, vuc_send_u64(self->be, VU_GET_SHMEM_CONFIG, VU_FLAG_REPLY, 0));
	EXPECT_EQ(2, finish(self, true));
	EXPECT_NE(NULL, strstr(self->log, "GET_SHMEM_CONFIG reply is not 2056 bytes"));
}

TEST_F(h, shmem_config_deferred_until_device_configured)
{
	struct vu_shmem_config cfg = dev_like_config();
	ino_t ino;

	self->dev.cfg_err = -EBADFD;
	ASSERT_EQ(0, start(self, NULL));
	negotiate(_metadata, self, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5) | BIT(3), &cfg);
	EXPECT_EQ('C', next_rec(self, 3000).op);
	set_backend_req_fd(_metadata, self);
	/* Still unconfigured at the first MAP: checked again, MAP goes on. */
	ASSERT_EQ(0, send_map(self, 0, 0, PAGE, 0, VU_FLAG_NEED_REPLY, &ino));
	EXPECT_EQ('C', next_rec(self, 3000).op);
	EXPECT_EQ('M', next_rec(self, 3000).op);
	RECV(self->be_chan, VU_BE_SHMEM_MAP, 1);
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "device not configured yet"));
}

/*
 * SHMEM requests are waiting (staged, device not configured yet) when the
 * check at the next one refuses to serve: none of them may run or be
 * answered as if it had.
 */
TEST_F(h, shmem_staged_requests_dropped_when_refusing)
{
	struct vu_shmem_config cfg = dev_like_config();
	struct fake_rec r;
	const char *why;
	ino_t ino;
	int resets = 0;

	cfg.memory_sizes[3] = 8 * PAGE;	/* the device has 4 pages */
	self->dev.cfg_err = -EBADFD;	/* at negotiation and the first two MAPs */
	self->dev.cfg_err_calls = 3;
	ASSERT_EQ(0, start(self, NULL));
	negotiate(_metadata, self, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5) | BIT(3), &cfg);
	set_backend_req_fd(_metadata, self);
	ASSERT_EQ(0, kill(self->pid, SIGSTOP));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, send_map(self, 0, i * PAGE, PAGE, 0, VU_FLAG_NEED_REPLY, &ino));
	ASSERT_EQ(0, kill(self->pid, SIGCONT));
	EXPECT_EQ(1, vuc_recv(self->be_chan, &self->m, 3000, &why)) TH_LOG("no reply, EOF");
	EXPECT_EQ(1, finish(self, true));
	while ((r = next_rec(self, 200)).op) {
		EXPECT_TRUE(r.op == 'C' || r.op == 'R') TH_LOG("device op '%c'", r.op);
		resets += r.op == 'R';
	}
	EXPECT_EQ(1, resets);
	EXPECT_NE(NULL, strstr(self->log, "GET_SHMEM_CONFIG mismatch: shmid 3"));
	EXPECT_NE(NULL, strstr(self->log, "2 waiting SHMEM request(s) not run"));
	EXPECT_NE(NULL, strstr(self->log, "device reset: refusing to serve"));
}

/* ---- SHMEM_MAP / SHMEM_UNMAP -------------------------------------------------- */

TEST_F(h, shmem_map_unmap_reach_device)
{
	struct fake_rec r;
	int hfds;
	ino_t ino, ino2;

	full_setup(_metadata, self);
	hfds = count_fds(self->pid);
	ASSERT_EQ(0, send_map(self, 0, 2 * PAGE, 4 * PAGE, VU_MMAP_F_RW,
			      VU_FLAG_NEED_REPLY, &ino));
	r = next_op(self, 3000);
	ASSERT_EQ('M', r.op);
	EXPECT_EQ(0u, r.map.shmid);
	EXPECT_EQ(2 * PAGE, r.map.shm_offset);
	EXPECT_EQ(4 * PAGE, r.map.len);
	EXPECT_EQ(0ull, r.map.fd_offset);
	EXPECT_EQ(VHOST_SHMEM_MAP_F_RW, r.map.flags);
	EXPECT_EQ(ino, r.ino) TH_LOG("the backend's memfd reached the ioctl");
	RECV(self->be_chan, VU_BE_SHMEM_MAP, 1);
	EXPECT_EQ(8u, self->m.hdr.size);
	EXPECT_EQ(0ull, self->m.payload.u64);
	EXPECT_EQ(hfds, count_fds(self->pid)) TH_LOG("helper closed the MAP fd");

	/* Overlap: the device refuses, reply 1, failure logged with fields. */
	ASSERT_EQ(0, send_map(self, 0, 5 * PAGE, PAGE, 0, VU_FLAG_NEED_REPLY, &ino2));
	r = next_op(self, 3000);
	EXPECT_EQ(-EEXIST, r.ret);
	RECV(self->be_chan, VU_BE_SHMEM_MAP, 1);
	EXPECT_EQ(1ull, self->m.payload.u64);
	EXPECT_EQ(hfds, count_fds(self->pid)) TH_LOG("helper closed the failed MAP fd");

	ASSERT_EQ(0, send_unmap(self, 0, 2 * PAGE, 4 * PAGE));
	r = next_op(self, 3000);
	ASSERT_EQ('U', r.op);
	EXPECT_EQ(0u, r.unmap.shmid);
	EXPECT_EQ(2 * PAGE, r.unmap.shm_offset);
	EXPECT_EQ(4 * PAGE, r.unmap.len);
	RECV(self->be_chan, VU_BE_SHMEM_UNMAP, 1);
	EXPECT_EQ(0ull, self->m.payload.u64);
	ASSERT_EQ(0, send_unmap(self, 0, 2 * PAGE, 4 * PAGE));
	EXPECT_EQ(-ENOENT, next_op(self, 3000).ret);
	RECV(self->be_chan, VU_BE_SHMEM_UNMAP, 1);
	EXPECT_EQ(1ull, self->m.payload.u64);

	/* Still serving: front-end traffic flows. */
	EXPECT_EQ(42ull, get_u64_through(_metadata, self, VU_GET_QUEUE_NUM, 42));
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "SHMEM_MAP failed: EEXIST (File exists): shmid=0 "
			       "fd_offset=0x0 shm_offset=0x5000 len=0x1000 flags=0x0"));
	EXPECT_NE(NULL, strstr(self->log, "SHMEM_UNMAP failed: ENOENT"));
}

/*
 * SHMEM requests already waiting together run as one VHOST_SHMEM_BATCH, in
 * order, each answered as if alone.
 */
TEST_F(h, shmem_back_to_back_requests_batched)
{
	struct fake_rec r;
	ino_t ino;
	int hfds;

	stopped_session(_metadata, self, &hfds);
	ASSERT_EQ(0, send_map(self, 0, 0, 2 * PAGE, 0, VU_FLAG_NEED_REPLY, &ino));
	ASSERT_EQ(0, send_map(self, 0, PAGE, PAGE, 0, VU_FLAG_NEED_REPLY, &ino));
	ASSERT_EQ(0, send_unmap(self, 0, 0, 2 * PAGE));
	ASSERT_EQ(0, send_map(self, 0, PAGE, PAGE, 0, VU_FLAG_NEED_REPLY, &ino));
	ASSERT_EQ(0, kill(self->pid, SIGCONT));
	r = next_op(self, 3000);
	ASSERT_EQ('B', r.op);
	EXPECT_EQ(4, r.ret);
	r = next_op(self, 3000);
	EXPECT_EQ('M', r.op);
	EXPECT_EQ(0, r.ret);
	r = next_op(self, 3000);
	EXPECT_EQ('M', r.op);
	EXPECT_EQ(-EEXIST, r.ret);
	r = next_op(self, 3000);
	EXPECT_EQ('U', r.op);
	EXPECT_EQ(0, r.ret);
	r = next_op(self, 3000);
	EXPECT_EQ('M', r.op);
	EXPECT_EQ(0, r.ret) TH_LOG("the UNMAP ran before the last MAP");
	RECV(self->be_chan, VU_BE_SHMEM_MAP, 1);
	EXPECT_EQ(0ull, self->m.payload.u64);
	RECV(self->be_chan, VU_BE_SHMEM_MAP, 1);
	EXPECT_EQ(1ull, self->m.payload.u64);
	RECV(self->be_chan, VU_BE_SHMEM_UNMAP, 1);
	EXPECT_EQ(0ull, self->m.payload.u64);
	RECV(self->be_chan, VU_BE_SHMEM_MAP, 1);
	EXPECT_EQ(0ull, self->m.payload.u64);
	EXPECT_EQ(hfds, count_fds(self->pid)) TH_LOG("every MAP fd was closed");
	EXPECT_EQ(42ull, get_u64_through(_metadata, self, VU_GET_QUEUE_NUM, 42));
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "SHMEM_MAP failed: EEXIST"));
}

/*
 * 200 pipelined requests (MAP page i, UNMAP page i, ...) waiting at once:
 * run in order in batches of at most 64, all answered 0, in order.
 */
TEST_F(h, shmem_200_pipelined_requests)
{
	unsigned int ops = 0, batches = 0, full = 0;
	struct fake_rec r;
	ino_t ino;
	int hfds;

	stopped_session(_metadata, self, &hfds);
	for (unsigned int i = 0; i < 100; i++) {
		ASSERT_EQ(0, send_map(self, 0, i * PAGE, PAGE, 0, VU_FLAG_NEED_REPLY, &ino));
		ASSERT_EQ(0, send_unmap(self, 0, i * PAGE, PAGE));
	}
	ASSERT_EQ(0, kill(self->pid, SIGCONT));
	while (ops < 200 && (r = next_op(self, 3000)).op) {
		if (r.op == 'B') {
			EXPECT_LE(r.ret, VHOST_SHMEM_BATCH_MAX);
			batches++;
			full += r.ret == VHOST_SHMEM_BATCH_MAX;
			continue;
		}
		EXPECT_EQ(ops % 2 ? 'U' : 'M', r.op) TH_LOG("op %u", ops);
		EXPECT_EQ(0, r.ret) TH_LOG("op %u", ops);
		EXPECT_EQ((ops / 2) * PAGE, r.op == 'M' ? r.map.shm_offset : r.unmap.shm_offset);
		ops++;
	}
	EXPECT_EQ(200u, ops);
	EXPECT_GE(batches, 4u) TH_LOG("200 requests need at least 4 batches of 64");
	EXPECT_GE(full, 1u) TH_LOG("the stage was flushed full");
	for (unsigned int i = 0; i < 200; i++) {
		RECV(self->be_chan, i % 2 ? VU_BE_SHMEM_UNMAP : VU_BE_SHMEM_MAP, 1);
		ASSERT_EQ(0ull, self->m.payload.u64) TH_LOG("reply %u", i);
	}
	EXPECT_TRUE(no_message(self->be_chan, 100)) TH_LOG("one reply each");
	EXPECT_EQ(hfds, count_fds(self->pid)) TH_LOG("every MAP fd was closed");
}

/* The BATCH ioctl itself fails: every request in it gets a failure reply. */
TEST_F(h, shmem_batch_refused_every_request_fails)
{
	static const uint32_t reqs[] = { VU_BE_SHMEM_MAP, VU_BE_SHMEM_MAP,
					 VU_BE_SHMEM_UNMAP, VU_BE_SHMEM_MAP };
	struct fake_rec r;
	ino_t ino;
	int hfds;

	self->dev.batch_err = -ENOMEM;
	stopped_session(_metadata, self, &hfds);
	ASSERT_EQ(0, send_map(self, 0, 0, PAGE, 0, VU_FLAG_NEED_REPLY, &ino));
	ASSERT_EQ(0, send_map(self, 0, PAGE, PAGE, 0, VU_FLAG_NEED_REPLY, &ino));
	ASSERT_EQ(0, send_unmap(self, 0, 0, PAGE));
	ASSERT_EQ(0, send_map(self, 3, 0, PAGE, 0, VU_FLAG_NEED_REPLY, &ino));
	ASSERT_EQ(0, kill(self->pid, SIGCONT));
	r = next_op(self, 3000);
	ASSERT_EQ('B', r.op);
	EXPECT_EQ(4, r.ret);
	EXPECT_EQ(0, next_op(self, 100).op) TH_LOG("nothing ran one by one");
	for (unsigned int i = 0; i < 4; i++) {
		RECV(self->be_chan, reqs[i], 1);
		EXPECT_EQ(1ull, self->m.payload.u64) TH_LOG("request %u", i);
	}
	EXPECT_EQ(hfds, count_fds(self->pid)) TH_LOG("every MAP fd was closed");
	EXPECT_EQ(42ull, get_u64_through(_metadata, self, VU_GET_QUEUE_NUM, 42));
	finish(self, false);
	EXPECT_EQ(3u, count_str(self->log, "SHMEM_MAP failed: ENOMEM"));
	EXPECT_EQ(1u, count_str(self->log, "SHMEM_UNMAP failed: ENOMEM"));
}

TEST_F(h, shmem_map_without_need_reply_sends_nothing)
{
	ino_t ino;

	full_setup(_metadata, self);
	ASSERT_EQ(0, send_map(self, 3, 0, PAGE, 0, 0, &ino));
	EXPECT_EQ('M', next_op(self, 3000).op);
	EXPECT_TRUE(no_message(self->be_chan, 200));
}

TEST_F(h, shmem_map_out_of_range_reply_1)
{
	ino_t ino;

	full_setup(_metadata, self);
	ASSERT_EQ(0, send_map(self, 3, 2 * PAGE, 4 * PAGE, 0, VU_FLAG_NEED_REPLY, &ino));
	EXPECT_EQ(-ERANGE, next_op(self, 3000).ret);
	RECV(self->be_chan, VU_BE_SHMEM_MAP, 1);
	EXPECT_EQ(1ull, self->m.payload.u64);
}

TEST_F(h, shmem_map_without_feature_refused)
{
	ino_t ino;
	int sp[2];

	ASSERT_EQ(0, start(self, NULL));
	negotiate(_metadata, self, BIT(5) | BIT(3), BIT(5) | BIT(3), NULL);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	ASSERT_EQ(0, vuc_send(self->fe, VU_SET_BACKEND_REQ_FD, 0, NULL, 0, &sp[1], 1));
	close(sp[1]);
	self->fe_chan = sp[0];
	RECV(self->be, VU_SET_BACKEND_REQ_FD, 0);
	self->be_chan = self->m.fds[0];
	self->m.nfds = 0;
	ASSERT_EQ(0, send_map(self, 0, 0, PAGE, 0, VU_FLAG_NEED_REPLY, &ino));
	RECV(self->be_chan, VU_BE_SHMEM_MAP, 1);
	EXPECT_EQ(1ull, self->m.payload.u64);
	EXPECT_EQ(0, next_op(self, 100).op) TH_LOG("no ioctl without F_SHMEM");
}

/* ---- resets ------------------------------------------------------------------ */

/* ---- --share-region ------------------------------------------------------ */

#define SHARE_GPA 0x100000000ull
#define RAM_SIZE (16 * PAGE)

/* The entry the helper must give region @size of --share-region ...@@gpa. */
static struct vu_mem_region share_desc(uint64_t gpa, uint64_t size)
{
	return (struct vu_mem_region){ gpa, size, BIT(63) | gpa, 0 };
}

static bool region_eq(const struct vu_mem_region *a, const struct vu_mem_region *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Every byte of @fd's first @len is FAKE_VIEW_BYTE(@shmid): the fake's view. */
static bool is_fake_view(int fd, uint64_t len, uint32_t shmid)
{
	unsigned char *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	bool ok = p != MAP_FAILED;

	for (uint64_t i = 0; ok && i < len; i++)
		ok = p[i] == FAKE_VIEW_BYTE(shmid);
	if (p != MAP_FAILED)
		munmap(p, len);
	return ok;
}

/* The front-end's guest RAM: one region at GPA @gpa. */
static struct vu_mem_region ram_region(uint64_t gpa, uint64_t size)
{
	return (struct vu_mem_region){ gpa, size, 0x7f1200000000ull + gpa, 0 };
}

/*
 * SET_MEM_TABLE peer: the back-end gets the front-end's regions and fds
 * unchanged, then one region per share at its GPA with the view fd.
 */
TEST_F(h, share_set_mem_table_adds_the_view)
{
	struct vu_memory mem = { .nregions = 1 };
	struct vu_mem_region want = share_desc(SHARE_GPA, 4 * PAGE);
	int ram = vuc_memfd_pattern("ram", RAM_SIZE);
	struct fake_rec v;

	ASSERT_LE(0, ram);
	mem.regions[0] = ram_region(0, RAM_SIZE);
	ASSERT_EQ(0, start(self, "--share-region 3@0x100000000"));
	session_setup(_metadata, self);
	/* The view is asked for once the regions are known, read-write. */
	v = next_op(self, 3000);
	ASSERT_EQ('V', v.op);
	EXPECT_EQ(3u, v.map.shmid);
	EXPECT_EQ(VHOST_SHMEM_VIEW_F_RW, v.map.flags);

	ASSERT_EQ(0, vuc_send(self->fe, VU_SET_MEM_TABLE, VU_FLAG_NEED_REPLY, &mem,
			      8 + 32, &ram, 1));
	RECV(self->be, VU_SET_MEM_TABLE, 0);
	ASSERT_EQ(8u + 2 * 32, self->m.hdr.size);
	ASSERT_EQ(2u, self->m.payload.mem.nregions);
	ASSERT_EQ(2u, self->m.nfds);
	EXPECT_TRUE(region_eq(&mem.regions[0], &self->m.payload.mem.regions[0]));
	EXPECT_EQ(ino_of(ram), ino_of(self->m.fds[0]));
	EXPECT_TRUE(region_eq(&want, &self->m.payload.mem.regions[1]));
	EXPECT_EQ(v.ino, ino_of(self->m.fds[1]));
	EXPECT_TRUE(is_fake_view(self->m.fds[1], 4 * PAGE, 3));
	vu_msg_close_fds(&self->m);
	ASSERT_EQ(0, vuc_send_u64(self->be, VU_SET_MEM_TABLE, VU_FLAG_REPLY, 0));
	RECV(self->fe, VU_SET_MEM_TABLE, 1);
	EXPECT_EQ(0ull, self->m.payload.u64);

	/* Every table the front-end sends gets it; the view is not asked again. */
	for (int round = 0; round < 2; round++) {
		ASSERT_EQ(0, vuc_send(self->fe, VU_SET_MEM_TABLE, 0, &mem, 8 + 32, &ram, 1));
		RECV(self->be, VU_SET_MEM_TABLE, 0);
		ASSERT_EQ(2u, self->m.payload.mem.nregions);
		EXPECT_EQ(v.ino, ino_of(self->m.fds[1]));
		vu_msg_close_fds(&self->m);

		/* A reset takes it out: the front-end's table again, alone. */
		ASSERT_EQ(0, vuc_send(self->fe, VU_RESET_DEVICE, 0, NULL, 0, NULL, 0));
		RECV(self->be, VU_SET_MEM_TABLE, 0);
		EXPECT_EQ(0u, self->m.hdr.flags & VU_FLAG_NEED_REPLY);
		ASSERT_EQ(8u + 32, self->m.hdr.size);
		ASSERT_EQ(1u, self->m.payload.mem.nregions);
		EXPECT_TRUE(region_eq(&mem.regions[0], &self->m.payload.mem.regions[0]));
		ASSERT_EQ(1u, self->m.nfds);
		EXPECT_EQ(ino_of(ram), ino_of(self->m.fds[0]));
		vu_msg_close_fds(&self->m);
		RECV(self->be, VU_RESET_DEVICE, 0);
		EXPECT_TRUE(saw_reset(self, 3000));
		/* Out already: a second reset sends no table. */
		check_forward(_metadata, self, self->fe, self->be, VU_RESET_DEVICE, 0,
			      NULL, 0, NULL, 0);
		EXPECT_TRUE(saw_reset(self, 3000));
	}
	EXPECT_EQ(0, next_op(self, 100).op);
	close(ram);
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "region 3 (0x4000 bytes) shared with the "
			       "back-end at GPA 0x100000000")) TH_LOG("%s", self->log);
	EXPECT_NE(NULL, strstr(self->log, "1 shared region(s) removed from the back-end's "
			       "memory table (SET_MEM_TABLE of the front-end's 1 region(s))"));
}

/* ",ro": a read-only view, said in the log; the table entry is the same. */
TEST_F(h, share_read_only_view)
{
	struct vu_memory mem = { .nregions = 1 };
	struct vu_mem_region want = share_desc(SHARE_GPA, 4 * PAGE);
	int ram = vuc_memfd_pattern("ram", RAM_SIZE);
	struct fake_rec v;

	ASSERT_LE(0, ram);
	mem.regions[0] = ram_region(0, RAM_SIZE);
	ASSERT_EQ(0, start(self, "--share-region 3@0x100000000,ro"));
	session_setup(_metadata, self);
	v = next_op(self, 3000);
	ASSERT_EQ('V', v.op);
	EXPECT_EQ(3u, v.map.shmid);
	EXPECT_EQ(0u, v.map.flags);
	ASSERT_EQ(0, vuc_send(self->fe, VU_SET_MEM_TABLE, 0, &mem, 8 + 32, &ram, 1));
	RECV(self->be, VU_SET_MEM_TABLE, 0);
	ASSERT_EQ(2u, self->m.payload.mem.nregions);
	EXPECT_TRUE(region_eq(&want, &self->m.payload.mem.regions[1]));
	EXPECT_EQ(v.ino, ino_of(self->m.fds[1]));
	vu_msg_close_fds(&self->m);
	close(ram);
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "region 3 (0x4000 bytes) shared with the "
			       "back-end at GPA 0x100000000, read-only")) TH_LOG("%s", self->log);
}

/*
 * A slots session (CONFIGURE_MEM_SLOTS) with --share-region 0@SHARE_GPA;
 * REPLY_ACK negotiated too unless @no_ack.
 */
static void slots_session_ack(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self,
			      uint64_t max_slots, bool no_ack)
{
	uint64_t f = BIT(15) | (no_ack ? 0 : BIT(3));

	ASSERT_EQ(0, start(self, "--share-region 0@0x100000000"));
	negotiate(_metadata, self, f, f, NULL);
	/* The helper asks for the back-end's slots itself. */
	RECV(self->be, VU_GET_MAX_MEM_SLOTS, 0);
	ASSERT_EQ(0, vuc_send_u64(self->be, VU_GET_MAX_MEM_SLOTS, VU_FLAG_REPLY, max_slots));
}

static void slots_session(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self,
			  uint64_t max_slots)
{
	slots_session_ack(_metadata, self, max_slots, false);
}

/*
 * Receives the helper's ADD_MEM_REG (@req) or REM_MEM_REG of the share
 * (region 0). It asks for a reply unless @ack is -1 (no REPLY_ACK); one
 * of @ack is sent if @ack >= 0 (-2: none).
 */
static void recv_share_req(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self,
			   uint32_t req, int ack)
{
	struct vu_mem_region want = share_desc(SHARE_GPA, REGION_SIZE);

	RECV(self->be, req, 0);
	EXPECT_EQ(ack != -1 ? VU_FLAG_NEED_REPLY : 0u, self->m.hdr.flags & VU_FLAG_NEED_REPLY);
	ASSERT_EQ(40u, self->m.hdr.size);
	ASSERT_EQ(req == VU_ADD_MEM_REG ? 1u : 0u, self->m.nfds);
	EXPECT_TRUE(region_eq(&want, &self->m.payload.memreg.region));
	if (req == VU_ADD_MEM_REG)
		EXPECT_TRUE(is_fake_view(self->m.fds[0], REGION_SIZE, 0));
	vu_msg_close_fds(&self->m);
	if (ack >= 0)
		ASSERT_EQ(0, vuc_send_u64(self->be, req, VU_FLAG_REPLY, (uint64_t)ack));
}

static void recv_share_add(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self)
{
	recv_share_req(_metadata, self, VU_ADD_MEM_REG, 0);
}

/*
 * ADD_MEM_REG peer: the front-end is told the slots left; before its first
 * ADD_MEM_REG the back-end gets the share's, acknowledged (REPLY_ACK) before
 * the front-end's goes on, whose own ack reaches the front-end alone; a
 * reset takes it out with REM_MEM_REG, acknowledged before the reset goes
 * on, and the next ADD_MEM_REG puts it back.
 */
TEST_F(h, share_add_mem_reg_then_rem_on_reset)
{
	struct vu_mem_reg reg = { .region = ram_region(0, RAM_SIZE) };
	struct vu_mem_region want = share_desc(SHARE_GPA, REGION_SIZE);
	int ram = vuc_memfd_pattern("ram", RAM_SIZE);

	ASSERT_LE(0, ram);
	slots_session(_metadata, self, 8);
	EXPECT_EQ(7ull, get_u64_through(_metadata, self, VU_GET_MAX_MEM_SLOTS, 8));
	for (int round = 0; round < 2; round++) {
		ASSERT_EQ(0, vuc_send(self->fe, VU_ADD_MEM_REG, VU_FLAG_NEED_REPLY, &reg,
				      sizeof(reg), &ram, 1));
		/* Not before the helper's was acknowledged. */
		RECV(self->be, VU_ADD_MEM_REG, 0);
		EXPECT_EQ(1u, self->m.nfds);
		EXPECT_NE(ino_of(ram), ino_of(self->m.fds[0]));
		vu_msg_close_fds(&self->m);
		EXPECT_TRUE(no_message(self->be, 200));
		ASSERT_EQ(0, vuc_send_u64(self->be, VU_ADD_MEM_REG, VU_FLAG_REPLY, 0));
		RECV(self->be, VU_ADD_MEM_REG, 0);
		EXPECT_EQ(VU_FLAG_NEED_REPLY, self->m.hdr.flags & VU_FLAG_NEED_REPLY);
		EXPECT_TRUE(region_eq(&reg.region, &self->m.payload.memreg.region));
		ASSERT_EQ(1u, self->m.nfds);
		EXPECT_EQ(ino_of(ram), ino_of(self->m.fds[0]));
		vu_msg_close_fds(&self->m);
		/* The front-end gets its own ack, and only that. */
		ASSERT_EQ(0, vuc_send_u64(self->be, VU_ADD_MEM_REG, VU_FLAG_REPLY, 0));
		RECV(self->fe, VU_ADD_MEM_REG, 1);
		EXPECT_EQ(0ull, self->m.payload.u64);
		EXPECT_TRUE(no_message(self->fe, 100));
		/* Once in the table, a second ADD_MEM_REG goes alone. */
		check_forward(_metadata, self, self->fe, self->be, VU_ADD_MEM_REG, 0, &reg,
			      sizeof(reg), &ram, 1);

		ASSERT_EQ(0, vuc_send(self->fe, VU_RESET_DEVICE, 0, NULL, 0, NULL, 0));
		RECV(self->be, VU_REM_MEM_REG, 0);
		EXPECT_EQ(VU_FLAG_NEED_REPLY, self->m.hdr.flags & VU_FLAG_NEED_REPLY);
		EXPECT_EQ(0u, self->m.nfds);
		EXPECT_TRUE(region_eq(&want, &self->m.payload.memreg.region));
		EXPECT_TRUE(no_message(self->be, 200));
		ASSERT_EQ(0, vuc_send_u64(self->be, VU_REM_MEM_REG, VU_FLAG_REPLY, 0));
		RECV(self->be, VU_RESET_DEVICE, 0);
		EXPECT_TRUE(saw_reset(self, 3000));
		EXPECT_TRUE(no_message(self->fe, 0));
	}
	close(ram);
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "region 0 removed from the back-end's memory "
			       "table (REM_MEM_REG)"));
}

/* Without REPLY_ACK the helper's ADD_MEM_REG and REM_MEM_REG ask no reply. */
TEST_F(h, share_add_mem_reg_without_reply_ack)
{
	struct vu_mem_reg reg = { .region = ram_region(0, RAM_SIZE) };
	int ram = vuc_memfd_pattern("ram", RAM_SIZE);

	ASSERT_LE(0, ram);
	slots_session_ack(_metadata, self, 8, true);
	ASSERT_EQ(0, vuc_send(self->fe, VU_ADD_MEM_REG, 0, &reg, sizeof(reg), &ram, 1));
	recv_share_req(_metadata, self, VU_ADD_MEM_REG, -1);
	RECV(self->be, VU_ADD_MEM_REG, 0);
	EXPECT_EQ(ino_of(ram), ino_of(self->m.fds[0]));
	vu_msg_close_fds(&self->m);
	ASSERT_EQ(0, vuc_send(self->fe, VU_RESET_DEVICE, 0, NULL, 0, NULL, 0));
	recv_share_req(_metadata, self, VU_REM_MEM_REG, -1);
	RECV(self->be, VU_RESET_DEVICE, 0);
	EXPECT_TRUE(saw_reset(self, 3000));
	close(ram);
}

/*
 * The back-end refuses the share's ADD_MEM_REG (REPLY_ACK 1): the helper
 * says so and ends the session; the front-end's ADD_MEM_REG is not sent.
 */
TEST_F(h, share_add_mem_reg_nack_refused)
{
	struct vu_mem_reg reg = { .region = ram_region(0, RAM_SIZE) };
	int ram = vuc_memfd_pattern("ram", RAM_SIZE);

	ASSERT_LE(0, ram);
	slots_session(_metadata, self, 8);
	ASSERT_EQ(0, vuc_send(self->fe, VU_ADD_MEM_REG, VU_FLAG_NEED_REPLY, &reg,
			      sizeof(reg), &ram, 1));
	recv_share_req(_metadata, self, VU_ADD_MEM_REG, 1);
	self->status = wait_exit(self->pid, 3000);
	EXPECT_EQ(1, self->status);
	EXPECT_EQ(0, read(self->be, &self->m, 1)) TH_LOG("sent on after the refusal");
	finish(self, false);
	close(ram);
	EXPECT_NE(NULL, strstr(self->log, "back-end refused ADD_MEM_REG of region 0 at GPA "
			       "0x100000000 (REPLY_ACK 0x1): it cannot reach the region; "
			       "refusing to serve")) TH_LOG("%s", self->log);
	EXPECT_EQ(NULL, strstr(self->log, "region 0 added to the back-end's memory table"));
}

/* The share's REM_MEM_REG refused at a reset: the session ends there. */
TEST_F(h, share_rem_mem_reg_nack_ends_session)
{
	struct vu_mem_reg reg = { .region = ram_region(0, RAM_SIZE) };
	int ram = vuc_memfd_pattern("ram", RAM_SIZE);

	ASSERT_LE(0, ram);
	slots_session(_metadata, self, 8);
	ASSERT_EQ(0, vuc_send(self->fe, VU_ADD_MEM_REG, 0, &reg, sizeof(reg), &ram, 1));
	recv_share_add(_metadata, self);
	RECV(self->be, VU_ADD_MEM_REG, 0);
	vu_msg_close_fds(&self->m);
	ASSERT_EQ(0, vuc_send(self->fe, VU_RESET_DEVICE, 0, NULL, 0, NULL, 0));
	recv_share_req(_metadata, self, VU_REM_MEM_REG, 1);
	self->status = wait_exit(self->pid, 3000);
	EXPECT_EQ(1, self->status);
	EXPECT_EQ(0, read(self->be, &self->m, 1)) TH_LOG("the reset went on");
	finish(self, false);
	close(ram);
	EXPECT_NE(NULL, strstr(self->log, "back-end refused REM_MEM_REG of region 0 at GPA "
			       "0x100000000 (REPLY_ACK 0x1): the region may still be in its "
			       "memory table; closing the session")) TH_LOG("%s", self->log);
}

/* A back-end that never acknowledges the share: the wait is bounded. */
TEST_F(h, share_add_mem_reg_ack_bounded_wait)
{
	struct vu_mem_reg reg = { .region = ram_region(0, RAM_SIZE) };
	int ram = vuc_memfd_pattern("ram", RAM_SIZE);
	int64_t t0;

	ASSERT_LE(0, ram);
	slots_session(_metadata, self, 8);
	/* Before the send: the helper's wait cannot begin before it. */
	t0 = mono_ms();
	ASSERT_EQ(0, vuc_send(self->fe, VU_ADD_MEM_REG, VU_FLAG_NEED_REPLY, &reg,
			      sizeof(reg), &ram, 1));
	recv_share_req(_metadata, self, VU_ADD_MEM_REG, -2);
	self->status = wait_exit(self->pid, PROXY_SEND_TIMEOUT_MS + 3000);
	EXPECT_EQ(1, self->status);
	EXPECT_LE(PROXY_SEND_TIMEOUT_MS - 100, mono_ms() - t0);
	EXPECT_EQ(0, read(self->be, &self->m, 1)) TH_LOG("sent on without the ack");
	close(ram);
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "back-end did not answer ADD_MEM_REG within "
			       "5000 ms (REPLY_ACK); closing the session")) TH_LOG("%s", self->log);
}

/* GET_MAX_MEM_SLOTS leaves no slot for the front-end: refuse, say why. */
TEST_F(h, share_no_mem_slot_left_refused)
{
	slots_session(_metadata, self, 1);
	EXPECT_EQ(1, finish(self, true));
	EXPECT_NE(NULL, strstr(self->log, "back-end has 1 memory slot(s) (GET_MAX_MEM_SLOTS): "
			       "no room for 1 shared region(s) and the front-end's memory: "
			       "ENOSPC")) TH_LOG("%s", self->log);
}

/* A SET_MEM_TABLE of 8 regions leaves no room in the table for the share. */
TEST_F(h, share_full_mem_table_refused)
{
	struct vu_memory mem = { .nregions = 8 };
	int fds[8];

	for (int i = 0; i < 8; i++) {
		fds[i] = vuc_memfd_pattern("ram", PAGE);
		ASSERT_LE(0, fds[i]);
		mem.regions[i] = ram_region((uint64_t)i * PAGE, PAGE);
	}
	ASSERT_EQ(0, start(self, "--share-region 3@0x100000000"));
	session_setup(_metadata, self);
	ASSERT_EQ(0, vuc_send(self->fe, VU_SET_MEM_TABLE, 0, &mem, 8 + 8 * 32, fds, 8));
	EXPECT_EQ(1, finish(self, true));
	for (int i = 0; i < 8; i++)
		close(fds[i]);
	EXPECT_NE(NULL, strstr(self->log, "SET_MEM_TABLE from the front-end has 8 region(s): "
			       "no room for 1 shared region(s), a table holds 8: ENOSPC"))
		TH_LOG("%s", self->log);
}

/* Front-end memory over the share's GPA range: refuse, name both. */
TEST_F(h, share_overlapping_frontend_region_refused)
{
	struct vu_mem_reg reg = { .region = ram_region(SHARE_GPA - PAGE, 2 * PAGE) };
	int ram = vuc_memfd_pattern("ram", 2 * PAGE);

	ASSERT_LE(0, ram);
	slots_session(_metadata, self, 8);
	ASSERT_EQ(0, vuc_send(self->fe, VU_ADD_MEM_REG, 0, &reg, sizeof(reg), &ram, 1));
	EXPECT_EQ(1, finish(self, true));
	close(ram);
	EXPECT_NE(NULL, strstr(self->log, "ADD_MEM_REG from the front-end: its region at GPA "
			       "0xfffff000 (0x2000 bytes) overlaps --share-region 0@0x100000000 "
			       "(0x100000 bytes): EEXIST")) TH_LOG("%s", self->log);
}

/* A shmid the device does not have: refused once the regions are known. */
TEST_F(h, share_unknown_shmid_refused)
{
	struct vu_shmem_config cfg = dev_like_config();

	ASSERT_EQ(0, start(self, "--share-region 5@0x100000000"));
	negotiate(_metadata, self, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5) | BIT(3), &cfg);
	EXPECT_EQ(1, finish(self, true));
	EXPECT_NE(NULL, strstr(self->log, "--share-region 5@0x100000000: shmid 5 is not a "
			       "region of the device (GET_SHMEM_CONFIG: size 0): EBADSLT"))
		TH_LOG("%s", self->log);
}

/* The device refuses the view (a read-only device fd): say so. */
TEST_F(h, share_view_refused)
{
	struct vu_shmem_config cfg = dev_like_config();

	self->dev.view_err = -EACCES;
	ASSERT_EQ(0, start(self, "--share-region 0@0x100000000"));
	negotiate(_metadata, self, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5) | BIT(3), &cfg);
	EXPECT_EQ(1, finish(self, true));
	EXPECT_NE(NULL, strstr(self->log, "--share-region 0@0x100000000: VHOST_SHMEM_GET_VIEW "
			       "failed: EACCES")) TH_LOG("%s", self->log);
}

TEST_F(h, reset_requests_reset_device)
{
	uint64_t v;

	full_setup(_metadata, self);
	check_forward(_metadata, self, self->fe, self->be, VU_RESET_DEVICE, 0, NULL, 0, NULL, 0);
	EXPECT_EQ('R', next_op(self, 3000).op);
	check_forward(_metadata, self, self->fe, self->be, VU_RESET_OWNER, 0, NULL, 0, NULL, 0);
	EXPECT_EQ('R', next_op(self, 3000).op);
	v = 0;
	check_forward(_metadata, self, self->fe, self->be, VU_SET_STATUS, 0, &v, 8, NULL, 0);
	EXPECT_EQ('R', next_op(self, 3000).op);
	v = 7;
	check_forward(_metadata, self, self->fe, self->be, VU_SET_STATUS, 0, &v, 8, NULL, 0);
	EXPECT_EQ(0, next_op(self, 100).op);
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "device reset: RESET_DEVICE from the front-end"));
	EXPECT_NE(NULL, strstr(self->log, "device reset: SET_STATUS 0 from the front-end"));
}

TEST_F(h, sigterm_clean_shutdown)
{
	full_setup(_metadata, self);
	kill(self->pid, SIGTERM);
	EXPECT_EQ(0, finish(self, true));
	EXPECT_EQ('R', next_op(self, 1000).op);
	EXPECT_NE(NULL, strstr(self->log, "signal 15 received: shutting down"));
	EXPECT_NE(NULL, strstr(self->log, "device reset: shutdown requested"));
}

/* ---- the log ---------------------------------------------------------------- */

/* UNMAPs of nothing: each fails with ENOENT, reply 1, one error line. */
static void failing_unmaps(struct __test_metadata *_metadata, FIXTURE_DATA(h) *self,
			   unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		ASSERT_EQ(0, send_unmap(self, 0, 0, PAGE));
		RECV(self->be_chan, VU_BE_SHMEM_UNMAP, 1);
		ASSERT_EQ(1ull, self->m.payload.u64);
	}
}

/* The log reader is gone: no SIGPIPE death, the session goes on. */
TEST_F(h, log_reader_gone_session_goes_on)
{
	full_setup(_metadata, self);
	close(self->logfd);
	self->logfd = -1;
	failing_unmaps(_metadata, self, 3);
	EXPECT_EQ(42ull, get_u64_through(_metadata, self, VU_GET_QUEUE_NUM, 42));
	close(self->fe);
	self->fe = -1;
	EXPECT_EQ(0, finish(self, true)) TH_LOG("141: killed by SIGPIPE");
	EXPECT_TRUE(saw_reset(self, 1000));
}

/* Nobody reads the log (a 4 KiB pipe): lines are dropped, never waited for. */
TEST_F(h, log_not_read_lines_dropped)
{
	ASSERT_EQ(0, start(self, NULL));
	ASSERT_EQ(4096, fcntl(self->logfd, F_SETPIPE_SZ, 4096));
	session_setup(_metadata, self);
	failing_unmaps(_metadata, self, 300);	/* trace lines: ~30 kB */
	drain_log(self);
	EXPECT_EQ(42ull, get_u64_through(_metadata, self, VU_GET_QUEUE_NUM, 42));
	finish(self, false);
	EXPECT_NE(NULL, strstr(self->log, "log line(s) dropped: the log was not read in time"))
		TH_LOG("%s", self->log);
}

/* The same error over and over: a burst, then one summary line. */
TEST_F(h, log_repeated_errors_rate_limited)
{
	unsigned int n;

	full_setup(_metadata, self);
	failing_unmaps(_metadata, self, 300);
	close(self->fe);	/* the summary comes at the latest at the end */
	self->fe = -1;
	EXPECT_EQ(0, finish(self, true));
	n = count_str(self->log, "error: SHMEM_UNMAP failed: ENOENT");
	EXPECT_GE(n, 10u);
	EXPECT_LE(n, 20u) TH_LOG("%u error lines for 300 failures", n);
	EXPECT_NE(NULL, strstr(self->log, "similar line(s) suppressed, the last: "
			       "error: SHMEM_UNMAP failed: ENOENT")) TH_LOG("%s", self->log);
}

/* ---- peers that stop reading ------------------------------------------------- */

FIXTURE(stuck) {
	FIXTURE_DATA(h) h;
};
FIXTURE_VARIANT(stuck) {
	bool frontend;	/* the front-end stops reading (else the back-end's channel) */
	bool sigterm;	/* then SIGTERM comes */
};
/* SHMEM requests pile up replies: staged, up to 64 per round. */
FIXTURE_VARIANT_ADD(stuck, backend_channel) { .frontend = false };
/* The back-end's replies to the front-end pile up. */
FIXTURE_VARIANT_ADD(stuck, frontend) { .frontend = true };
FIXTURE_VARIANT_ADD(stuck, backend_channel_sigterm) { .sigterm = true };

FIXTURE_SETUP(stuck)
{
	h_init(&self->h);
}

FIXTURE_TEARDOWN(stuck)
{
	h_fini(_metadata, &self->h);
}

/*
 * Sends @req without waiting until the helper takes none for 1 s (it is
 * then stuck on what it sends to the peer that does not read, or starved
 * by a loaded host: then it gets stuck on what is still queued); returns
 * when it last took one.
 */
static int64_t flood_until_stuck(int sock, uint32_t req, uint32_t flags,
				 const void *payload, uint32_t size)
{
	struct vu_hdr h = { req, flags | VU_VERSION, size };
	char buf[VU_HDR_SIZE + VU_MAX_PAYLOAD];
	int64_t last = mono_ms();

	memcpy(buf, &h, VU_HDR_SIZE);
	memcpy(buf + VU_HDR_SIZE, payload, size);
	for (int i = 0; i < 100000; i++) {
		struct pollfd pf = { sock, POLLOUT, 0 };

		if (send(sock, buf, VU_HDR_SIZE + size, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
			last = mono_ms();
		else if (poll(&pf, 1, 1000) == 0)
			break;
	}
	return last;
}

/*
 * A peer stops reading while the other keeps sending: the helper waits at
 * most PROXY_SEND_TIMEOUT_MS for it, then ends the session (device reset,
 * logged; the other peer sees the end), or at once on SIGTERM.
 */
TEST_F(stuck, session_ends_in_bounded_time)
{
	FIXTURE_DATA(h) *s = &self->h;
	struct vu_mmap mm = { .shmid = 0, .len = PAGE };	/* UNMAP of nothing */
	uint64_t v = 7;
	int64_t last, t;
	const char *why;
	int other, r;

	full_setup(_metadata, s);
	ASSERT_GT(fcntl(s->recfd, F_SETPIPE_SZ, 1 << 20), 0);	/* room for every ioctl record */
	if (variant->frontend) {
		last = flood_until_stuck(s->be, VU_GET_QUEUE_NUM, VU_FLAG_REPLY, &v, 8);
		other = s->be;
	} else {
		last = flood_until_stuck(s->be_chan, VU_BE_SHMEM_UNMAP, VU_FLAG_NEED_REPLY,
					 &mm, sizeof(mm));
		other = s->fe;
	}
	t = mono_ms();
	if (variant->sigterm)
		kill(s->pid, SIGTERM);
	/*
	 * Bounds well above what is needed (5.0 s after the last read, 0.01 s
	 * after SIGTERM) for a loaded host; without the bound it stays stuck
	 * (64 x 5 s), and SIGTERM is not seen for as long.
	 */
	s->status = wait_exit(s->pid, PROXY_SEND_TIMEOUT_MS + 8000);
	t = mono_ms() - (variant->sigterm ? t : last);
	TH_LOG("the helper ended %.2f s after %s", t / 1000.0,
	       variant->sigterm ? "SIGTERM" : "it last read");
	EXPECT_EQ(variant->sigterm ? 0 : 1, s->status);
	EXPECT_LE(t, variant->sigterm ? 2000 : PROXY_SEND_TIMEOUT_MS + 5000);
	/* The other peer sees the end: EOF, or a reset if it sent unread data. */
	r = vuc_recv(other, &s->m, 1000, &why);
	EXPECT_TRUE(r == 1 || !strcmp(why, "connection reset")) TH_LOG("%d %s", r, why);
	EXPECT_TRUE(saw_reset(s, 1000));
	finish(s, true);
	if (variant->sigterm) {
		EXPECT_NE(NULL, strstr(s->log, "signal 15 received: shutting down"));
		EXPECT_NE(NULL, strstr(s->log, "device reset: shutdown requested"));
	} else {
		EXPECT_NE(NULL, strstr(s->log, variant->frontend ?
				       "sending a reply to front-end timed out" :
				       "sending a reply to back-end (backend channel) timed out"))
			TH_LOG("%s", s->log);
		EXPECT_NE(NULL, strstr(s->log, "device reset: a peer stopped reading"));
	}
}

/* ---- peer death at every stage ------------------------------------------------ */

FIXTURE(death) {
	FIXTURE_DATA(h) h;
};
FIXTURE_VARIANT(death) {
	int stage;	/* 0: at once, 1: after GET_FEATURES, 2: after negotiation, 3: after channel */
	int who;	/* 0: front-end, 1: back-end, 2: back-end's channel, 3: fe channel */
	bool midmsg;	/* die in the middle of a message */
};
FIXTURE_VARIANT_ADD(death, fe_at_start) { .stage = 0, .who = 0 };
FIXTURE_VARIANT_ADD(death, be_at_start) { .stage = 0, .who = 1 };
FIXTURE_VARIANT_ADD(death, fe_after_features) { .stage = 1, .who = 0 };
FIXTURE_VARIANT_ADD(death, be_after_features) { .stage = 1, .who = 1 };
FIXTURE_VARIANT_ADD(death, fe_after_negotiation) { .stage = 2, .who = 0 };
FIXTURE_VARIANT_ADD(death, be_after_negotiation) { .stage = 2, .who = 1 };
FIXTURE_VARIANT_ADD(death, fe_after_channel) { .stage = 3, .who = 0 };
FIXTURE_VARIANT_ADD(death, be_after_channel) { .stage = 3, .who = 1 };
FIXTURE_VARIANT_ADD(death, be_channel_closed) { .stage = 3, .who = 2 };
FIXTURE_VARIANT_ADD(death, fe_channel_closed) { .stage = 3, .who = 3 };
FIXTURE_VARIANT_ADD(death, fe_mid_message) { .stage = 3, .who = 0, .midmsg = true };
FIXTURE_VARIANT_ADD(death, be_chan_mid_message) { .stage = 3, .who = 2, .midmsg = true };

FIXTURE_SETUP(death)
{
	h_init(&self->h);
}

FIXTURE_TEARDOWN(death)
{
	h_fini(_metadata, &self->h);
}

TEST_F(death, peer_dies)
{
	FIXTURE_DATA(h) *s = &self->h;
	struct vu_shmem_config cfg = dev_like_config();
	int *victim[] = { &s->fe, &s->be, &s->be_chan, &s->fe_chan };

	ASSERT_EQ(0, start(s, NULL));
	if (variant->stage >= 1)
		get_u64_through(_metadata, s, VU_GET_FEATURES, BIT(30));
	if (variant->stage >= 2) {
		negotiate(_metadata, s, BIT(SHMEM_BIT) | BIT(5) | BIT(3), BIT(5) | BIT(3), &cfg);
		EXPECT_EQ('C', next_rec(s, 3000).op);
	}
	if (variant->stage >= 3)
		set_backend_req_fd(_metadata, s);
	if (variant->midmsg) {
		struct vu_hdr h = { VU_SET_VRING_NUM, VU_VERSION, 8 };

		if (variant->who == 2)
			h.request = VU_BE_VRING_CALL;
		ASSERT_EQ((ssize_t)VU_HDR_SIZE, write(*victim[variant->who], &h, VU_HDR_SIZE));
	}
	close(*victim[variant->who]);
	*victim[variant->who] = -1;
	EXPECT_EQ(variant->midmsg ? 2 : 0, finish(s, true));
	EXPECT_EQ('R', next_op(s, 1000).op) TH_LOG("device reset on disconnect");
	EXPECT_NE(NULL, strstr(s->log, variant->midmsg ? "truncated" : "disconnected"));
	EXPECT_NE(NULL, strstr(s->log, "device reset:"));
}

/* ---- malformed input ---------------------------------------------------------- */

enum { FROM_FE, FROM_BE, FROM_BE_CHAN, FROM_FE_CHAN };

FIXTURE(bad) {
	FIXTURE_DATA(h) h;
};
FIXTURE_VARIANT(bad) {
	int from;
	uint32_t req, flags, size;	/* header as sent */
	uint32_t send_size;		/* payload bytes actually sent */
	unsigned int nfds;
	const char *log;		/* expected in the log */
	uint32_t word0;			/* first payload word */
};
#define BAD(name, ...) FIXTURE_VARIANT_ADD(bad, name) { __VA_ARGS__ }
BAD(short_fixed_payload, .from = FROM_FE, .req = VU_SET_VRING_NUM, .flags = 1, .size = 4,
    .send_size = 4, .log = "wrong payload size");
BAD(long_fixed_payload, .from = FROM_FE, .req = VU_SET_FEATURES, .flags = 1, .size = 16,
    .send_size = 16, .log = "wrong payload size");
BAD(oversized, .from = FROM_FE, .req = VU_SET_MEM_TABLE, .flags = 1, .size = 5000,
    .send_size = 0, .log = "payload too large");
BAD(oversized_unknown, .from = FROM_FE, .req = 99, .flags = 1, .size = 4097,
    .send_size = 0, .log = "payload too large");
BAD(too_many_fds, .from = FROM_FE, .req = VU_SET_MEM_TABLE, .flags = 1, .size = 8 + 9 * 32,
    .send_size = 8 + 9 * 32, .nfds = 9, .word0 = 9, .log = "more than 8 file descriptors");
BAD(unexpected_fd, .from = FROM_FE, .req = VU_SET_FEATURES, .flags = 1, .size = 8,
    .send_size = 8, .nfds = 1, .log = "too many file descriptors for this request");
BAD(memtable_fds_mismatch, .from = FROM_FE, .req = VU_SET_MEM_TABLE, .flags = 1,
    .size = 8 + 2 * 32, .send_size = 8 + 2 * 32, .nfds = 1, .word0 = 2,
    .log = "memory table nregions does not match the fds");
BAD(memtable_nregions_lie, .from = FROM_FE, .req = VU_SET_MEM_TABLE, .flags = 1,
    .size = 8 + 32, .send_size = 8 + 32, .nfds = 1, .word0 = 200,
    .log = "memory table nregions does not match its size");
BAD(config_size_lie, .from = FROM_FE, .req = VU_SET_CONFIG, .flags = 1, .size = 20,
    .send_size = 20, .log = "config size field does not match");
BAD(truncated_payload, .from = FROM_FE, .req = VU_SET_FEATURES, .flags = 1, .size = 8,
    .send_size = 4, .log = "truncated");
BAD(bad_version, .from = FROM_FE, .req = VU_GET_FEATURES, .flags = 2, .size = 0,
    .log = "bad protocol version");
BAD(unknown_flags, .from = FROM_FE, .req = VU_GET_FEATURES, .flags = 0x101, .size = 0,
    .log = "unknown header flags");
BAD(reply_from_frontend, .from = FROM_FE, .req = VU_GET_FEATURES, .flags = 5, .size = 8,
    .send_size = 8, .log = "unsolicited reply");
BAD(request_from_backend, .from = FROM_BE, .req = VU_GET_FEATURES, .flags = 1, .size = 0,
    .log = "request where a reply was expected");
BAD(unsolicited_protocol_features, .from = FROM_BE, .req = VU_GET_PROTOCOL_FEATURES,
    .flags = 5, .size = 8, .send_size = 8, .log = "reply to a request that was not sent");
BAD(map_without_fd, .from = FROM_BE_CHAN, .req = VU_BE_SHMEM_MAP, .flags = 9, .size = 40,
    .send_size = 40, .log = "missing file descriptor");
BAD(map_two_fds, .from = FROM_BE_CHAN, .req = VU_BE_SHMEM_MAP, .flags = 9, .size = 40,
    .send_size = 40, .nfds = 2, .log = "too many file descriptors for this request");
BAD(map_short, .from = FROM_BE_CHAN, .req = VU_BE_SHMEM_MAP, .flags = 9, .size = 32,
    .send_size = 32, .nfds = 1, .log = "wrong payload size");
BAD(unmap_with_fd, .from = FROM_BE_CHAN, .req = VU_BE_SHMEM_UNMAP, .flags = 9, .size = 40,
    .send_size = 40, .nfds = 1, .log = "too many file descriptors for this request");
BAD(unknown_backend_request, .from = FROM_BE_CHAN, .req = 99, .flags = 1, .size = 0,
    .log = "unknown request");
BAD(chan_oversized, .from = FROM_BE_CHAN, .req = VU_BE_SHMEM_MAP, .flags = 1,
    .size = 0xffffffff, .log = "payload too large");
BAD(fe_chan_request, .from = FROM_FE_CHAN, .req = VU_BE_VRING_CALL, .flags = 1, .size = 8,
    .send_size = 8, .log = "request where a reply was expected");

FIXTURE_SETUP(bad)
{
	h_init(&self->h);
}

FIXTURE_TEARDOWN(bad)
{
	h_fini(_metadata, &self->h);
}

/* Raw send: any header, any number of fds (up to 9), partial payload. */
static int raw_send(int sock, const struct vu_hdr *h, const void *p, size_t plen,
		    const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = { { (void *)h, VU_HDR_SIZE }, { (void *)p, plen } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	if (nfds)
		sock_put_fds(&mh, ctl.buf, fds, nfds);
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)(VU_HDR_SIZE + plen) ? 0 : -1;
}

TEST_F(bad, rejected)
{
	FIXTURE_DATA(h) *s = &self->h;
	struct vu_hdr hdr = { variant->req, variant->flags, variant->size };
	uint8_t payload[8 + 9 * 32] = { 0 };
	int fds[9], *sock[] = { &s->fe, &s->be, &s->be_chan, &s->fe_chan };
	int hfds, dupfd;
	struct stat st;

	full_setup(_metadata, s);
	hfds = count_fds(s->pid);
	memcpy(payload, &variant->word0, 4);
	if (variant->req == VU_SET_CONFIG) {
		uint32_t inner = 200;	/* says 200, payload carries 8 */

		memcpy(payload + 4, &inner, 4);
	}
	for (unsigned int i = 0; i < variant->nfds; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	ASSERT_EQ(0, raw_send(*sock[variant->from], &hdr, payload, variant->send_size,
			      fds, variant->nfds));
	/* A stalled partial payload: the peer then goes away. */
	if (variant->send_size < variant->size && variant->size <= VU_MAX_PAYLOAD) {
		close(*sock[variant->from]);
		*sock[variant->from] = -1;
	}
	EXPECT_EQ(2, finish(s, true)) TH_LOG("log: %s", s->log);
	EXPECT_NE(NULL, strstr(s->log, "malformed message from")) TH_LOG("log: %s", s->log);
	EXPECT_NE(NULL, strstr(s->log, variant->log)) TH_LOG("log: %s", s->log);
	EXPECT_NE(NULL, strstr(s->log, "device reset: malformed message"));
	EXPECT_EQ('R', next_op(s, 1000).op);
	EXPECT_EQ(0, next_op(s, 50).op) TH_LOG("no MAP/UNMAP issued");
	(void)hfds;
	/* Our fds are intact (the helper only ever closed its copies). */
	for (unsigned int i = 0; i < variant->nfds; i++) {
		EXPECT_EQ(0, fstat(fds[i], &st));
		dupfd = fds[i];
		close(dupfd);
	}
}

/* ---- the real binaries ---------------------------------------------------- */

static pid_t spawn(const char *bin, char *const argv[], int in_fd, int out_fd, int err_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (in_fd >= 0)
			dup2(in_fd, 0);
		if (out_fd >= 0)
			dup2(out_fd, 1);
		if (err_fd < 0)
			err_fd = open("/dev/null", O_WRONLY);	/* keep TAP clean */
		dup2(err_fd, 2);
		execv(bin, argv);
		_exit(127);
	}
	return pid;
}

static ssize_t read_all(int fd, char *buf, size_t len)
{
	size_t have = 0;
	ssize_t n;

	while (have < len - 1 && (n = read(fd, buf + have, len - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = 0;
	return (ssize_t)have;
}

FIXTURE(bin) {
	char dir[64], fe_path[96], be_path[96], dev_path[96];
	int fds_before;
	char log[LOG_MAX];
	const char *helper, *frontend, *backend;
};

FIXTURE_SETUP(bin)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/vhost-shmem-test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->fe_path, sizeof(self->fe_path), "%s/fe.sock", self->dir);
	snprintf(self->be_path, sizeof(self->be_path), "%s/be.sock", self->dir);
	snprintf(self->dev_path, sizeof(self->dev_path), "%s/dev.sock", self->dir);
	self->helper = getenv("HELPER_BIN");
	self->frontend = getenv("TEST_FRONTEND_BIN");
	self->backend = getenv("TEST_BACKEND_BIN");
	if (!self->helper || !self->frontend || !self->backend)
		SKIP(return, "HELPER_BIN/TEST_FRONTEND_BIN/TEST_BACKEND_BIN not set");
	self->fds_before = count_fds(getpid());
}

FIXTURE_TEARDOWN(bin)
{
	unlink(self->fe_path);
	unlink(self->be_path);
	unlink(self->dev_path);
	rmdir(self->dir);
	EXPECT_EQ(self->fds_before, count_fds(getpid()));
}

/*
 * The three programs end to end: test back-end <- helper (device fd over
 * --device-socket; /dev/null stands in: no SHMEM without the module) <-
 * test front-end; a backend-channel request travels back-end -> helper ->
 * front-end and its reply back.
 */
TEST_F(bin, programs_end_to_end_relay)
{
	char *be_argv[] = { "vhost-user-test-backend", "--listen", self->be_path,
			    "--no-shmem", "--quiet", NULL };
	char *h_argv[] = { "vhost-shmem-helper", "--listen", self->fe_path, "--backend",
			   self->be_path, "--device-socket", self->dev_path, "--verbose", NULL };
	int be_in[2], be_out[2], fe_in[2], fe_out[2], hlog[2], dsock, devnull;
	char be_buf[512], fe_buf[512];
	pid_t be, h, fe;

	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, pipe2(be_in, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(be_out, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(fe_in, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(fe_out, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(hlog, O_CLOEXEC));
	be = spawn(self->backend, be_argv, be_in[0], be_out[1], -1);
	h = spawn(self->helper, h_argv, -1, -1, hlog[1]);
	/* Hand the helper a device fd the way a VMM would. */
	dsock = unix_connect_retry(self->dev_path, 5000);
	ASSERT_GE(dsock, 0);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_EQ(0, send_one_fd(dsock, devnull));
	close(devnull);
	close(dsock);
	{
		char *fe_argv[] = { "vhost-user-test-frontend", "--connect", self->fe_path, NULL };

		fe = spawn(self->frontend, fe_argv, fe_in[0], fe_out[1], -1);
	}
	close(be_in[0]);
	close(be_out[1]);
	close(fe_in[0]);
	close(fe_out[1]);
	close(hlog[1]);
	ASSERT_EQ(13, write(be_in[1], "wait-channel\n", 13));
	ASSERT_EQ(14, write(be_in[1], "config-change\n", 14));
	ASSERT_EQ(5, write(be_in[1], "quit\n", 5));
	close(be_in[1]);
	EXPECT_EQ(0, wait_exit(be, 10000));
	/* The front-end sees the helper close the session and exits. */
	close(fe_in[1]);
	wait_exit(fe, 10000);
	EXPECT_EQ(0, wait_exit(h, 10000));
	read_all(be_out[0], be_buf, sizeof(be_buf));
	read_all(fe_out[0], fe_buf, sizeof(fe_buf));
	read_all(hlog[0], self->log, sizeof(self->log));
	close(be_out[0]);
	close(fe_out[0]);
	close(hlog[0]);
	EXPECT_NE(NULL, strstr(be_buf, "channel ready")) TH_LOG("%s", be_buf);
	EXPECT_NE(NULL, strstr(be_buf, "config-change reply 0")) TH_LOG("%s", be_buf);
	EXPECT_NE(NULL, strstr(fe_buf, "ready")) TH_LOG("%s", fe_buf);
	EXPECT_NE(NULL, strstr(fe_buf, "backend-request BACKEND_CONFIG_CHANGE_MSG"))
		TH_LOG("%s", fe_buf);
	EXPECT_NE(NULL, strstr(self->log, "received the device fd"));
	EXPECT_NE(NULL, strstr(self->log, "back-end")); /* main or channel first */
	EXPECT_NE(NULL, strstr(self->log, "disconnected"));
	/* /dev/null is no vhost-shmem device: the reset ioctl fails, logged. */
	EXPECT_NE(NULL, strstr(self->log, "device reset (peer disconnected) failed: ENOTTY"));
}

/* Runs the real helper with @argv; its exit status, stdout and stderr. */
static int run_helper(const char *bin, char *const argv[], int in_fd,
		      char *out, size_t outlen, char *err, size_t errlen)
{
	int po[2], pe[2], st;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		return -1;
	pid = spawn(bin, argv, in_fd, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	read_all(po[0], out, outlen);
	read_all(pe[0], err, errlen);
	close(po[0]);
	close(pe[0]);
	st = wait_exit(pid, 5000);
	if (st < 0)
		kill(pid, SIGKILL), waitpid(pid, NULL, 0);
	return st;
}

/*
 * --device-fd is checked before anything else: /dev/null (a character
 * device that does not know VHOST_SHMEM_GET_STATS) and a regular file are
 * refused with a clear line, before --listen creates its socket.
 */
TEST_F(bin, helper_refuses_non_device)
{
	char *argv[] = { "vhost-shmem-helper", "--listen", self->fe_path, "--backend",
			 self->be_path, "--device-fd", "0", NULL };
	char out[256], err[1024];
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int reg = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, nul);
	ASSERT_LE(0, reg);
	EXPECT_EQ(1, run_helper(self->helper, argv, nul, out, sizeof(out), err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "--device-fd 0 is not /dev/vhost-shmem: character "
			       "device 1:3 refuses VHOST_SHMEM_GET_STATS (ENOTTY)")) TH_LOG("%s", err);
	EXPECT_NE(0, access(self->fe_path, F_OK));
	EXPECT_EQ(1, run_helper(self->helper, argv, reg, out, sizeof(out), err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "--device-fd 0 is not /dev/vhost-shmem: it is a "
			       "regular file")) TH_LOG("%s", err);
	EXPECT_NE(0, access(self->fe_path, F_OK));
	close(nul);
	close(reg);
}

/* --help: usage on stdout, nothing on stderr, status 0. */
TEST_F(bin, helper_help)
{
	char *argv[] = { "vhost-shmem-helper", "--help", NULL };
	char *argv_h[] = { "vhost-shmem-helper", "-h", NULL };
	char out[1024], err[256];

	EXPECT_EQ(0, run_helper(self->helper, argv, -1, out, sizeof(out), err, sizeof(err)));
	EXPECT_EQ(0, strncmp(out, "usage: vhost-shmem-helper", 25)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "--device-fd N | --device-socket PATH"));
	EXPECT_STREQ("", err);
	EXPECT_EQ(0, run_helper(self->helper, argv_h, -1, out, sizeof(out), err, sizeof(err)));
	EXPECT_EQ(0, strncmp(out, "usage: vhost-shmem-helper", 25));
}

/* --version: the project's VERSION, the one MODULE_VERSION and the CLI print. */
TEST_F(bin, helper_version)
{
	char *argv[] = { "vhost-shmem-helper", "--version", NULL };
	char out[256], err[256];

	EXPECT_EQ(0, run_helper(self->helper, argv, -1, out, sizeof(out), err, sizeof(err)));
	EXPECT_STREQ("vhost-shmem-helper " VHOST_SHMEM_VERSION "\n", out);
	EXPECT_STRNE("unknown", VHOST_SHMEM_VERSION);
	EXPECT_STREQ("", err);
}

/* Each usage error: status 2, its own reason, then the usage, on stderr. */
struct usage_case {
	char *argv[12];
	const char *why;
};

static const struct usage_case usage_cases[] = {
	{ { "vhost-shmem-helper", "--listen", "x", NULL },
	  "--backend or --backend-fd: one of them is required" },
	{ { "vhost-shmem-helper", "--listen", "x", "--frontend-fd", "3", NULL },
	  "--listen or --frontend-fd: give only one of them" },
	{ { "vhost-shmem-helper", "--frontend-fd", "3", "--backend-fd", "4", NULL },
	  "--device-fd or --device-socket: one of them is required" },
	{ { "vhost-shmem-helper", "--frontend-fd", "3", "--backend-fd", "4",
	    "--device-fd", "5", "extra", NULL },
	  "unexpected argument 'extra'" },
	{ { "vhost-shmem-helper", "--frontend-fd", "3", "--backend-fd", "4",
	    "--device-fd", "5", "--shmem-feature-bit", "64", NULL },
	  "--shmem-feature-bit takes 0..63, not '64'" },
	{ { "vhost-shmem-helper", "--frontend-fd", "3", "--backend-fd", "4",
	    "--device-fd", "5", "--shmem-feature-bit", "5", NULL },
	  "--shmem-feature-bit cannot be 5" },
	{ { "vhost-shmem-helper", "--frontend-fd", "3", "--backend-fd", "4",
	    "--device-fd", "5", "--shmem-feature-bit", "8", NULL },
	  "--shmem-feature-bit cannot be 8 (REPLY_ACK, BACKEND_REQ and PAGEFAULT" },
	{ { "vhost-shmem-helper", "--share-region", "0", NULL },
	  "--share-region takes SHMID@GPA (SHMID 0..255), not '0'" },
	{ { "vhost-shmem-helper", "--share-region", "256@0x1000", NULL },
	  "--share-region takes SHMID@GPA (SHMID 0..255), not '256@0x1000'" },
	{ { "vhost-shmem-helper", "--share-region", "0@ram", NULL },
	  "--share-region '0@ram': GPA is not a number" },
	{ { "vhost-shmem-helper", "--share-region", "0@0x1000,rw", NULL },
	  "--share-region '0@0x1000,rw': only ',ro' may follow the GPA" },
	{ { "vhost-shmem-helper", "--share-region", "0@0x1000ro", NULL },
	  "--share-region '0@0x1000ro': GPA is not a number" },
	{ { "vhost-shmem-helper", "--share-region", "0@0x100800", NULL },
	  "--share-region '0@0x100800': GPA is not a multiple of the page size" },
	{ { "vhost-shmem-helper", "--share-region", "0@0x8000000000000000", NULL },
	  "--share-region '0@0x8000000000000000': GPA must be below 2^63" },
	{ { "vhost-shmem-helper", "--share-region", "1@0", "--share-region", "1@0x10000",
	    NULL }, "--share-region '1@0x10000': that shmid is shared twice" },
	{ { "vhost-shmem-helper", "--frontend-fd", "three", NULL },
	  "bad fd number 'three'" },
	{ { "vhost-shmem-helper", "--bogus", NULL }, "unknown option '--bogus'" },
	{ { "vhost-shmem-helper", "-vx", NULL }, "unknown option '-x'" },
	{ { "vhost-shmem-helper", "--device-fd", NULL }, "--device-fd needs an argument" },
};

TEST_F(bin, helper_usage_errors)
{
	char *argv_closed[] = { "vhost-shmem-helper", "--frontend-fd", "3", "--backend-fd",
				"4", "--device-fd", "99", NULL };
	char out[256], err[1024];

	for (size_t i = 0; i < sizeof(usage_cases) / sizeof(usage_cases[0]); i++) {
		const struct usage_case *c = &usage_cases[i];

		EXPECT_EQ(2, run_helper(self->helper, c->argv, -1, out, sizeof(out),
					err, sizeof(err))) TH_LOG("case %zu", i);
		EXPECT_NE(NULL, strstr(err, c->why)) TH_LOG("case %zu: %s", i, err);
		EXPECT_NE(NULL, strstr(err, "usage: vhost-shmem-helper")) TH_LOG("case %zu", i);
		EXPECT_STREQ("", out);
	}
	/* Well-formed, but fd 99 is not open: a setup error, status 1. */
	EXPECT_EQ(1, run_helper(self->helper, argv_closed, -1, out, sizeof(out),
				err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "--device-fd 99 is not open")) TH_LOG("%s", err);
}

TEST_HARNESS_MAIN
