// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-shmem state-machine fuzzer (see fuzz.h): runs random programs for a
 * bounded time and prints TAP, one result per time slice ("batch") of
 * programs, plus the regression programs of regressions.h first and a
 * final unload/leak check. After every program: the kernel log is clean,
 * no device is left (netlink), Shmem is back near its baseline, and now
 * and then the module unloads and loads again.
 *
 *   fuzz_test [--duration S] [--seed N] [--batch S] [--avoid-known=LIST|all|none]
 *             [--reload-every N] [--max-ops N] [--chaos PCT] [--program SEED] [-v]
 *
 * Defaults come from the environment when set (FUZZ_DURATION, FUZZ_SEED,
 * FUZZ_AVOID, FUZZ_PROGRAM; the VM passes them as VM_FUZZ_*): 120 s, a seed from the
 * clock (printed), and the known bugs still open in kmod/ avoided
 * (FZ_AVOID_OPEN in fuzz.h; "none" to run into them). A failure prints its
 * program seed and a reduced program to paste into regressions.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/loop.h>

#include "kselftest.h"
#include "fuzz.h"
#include "vhost_shmem_lib.h"

#define EXT4_DIR	"/tmp/vs-fuzz-ext4"
#define SHMEM_SLACK_KB	512
#define MAX_SIGS	32

struct regression {
	const char *name;
	int mode, nprocs, nthreads;
	const struct fz_op *ops;
	int nops;
};

#define FZ_REGRESSION(id, m, np, nt, ...) \
	{ #id, m, np, nt, (const struct fz_op[]){ __VA_ARGS__ }, \
	  sizeof((const struct fz_op[]){ __VA_ARGS__ }) / sizeof(struct fz_op) },

static const struct regression regressions[] = {
#include "regressions.h"
	{ NULL }	/* end */
};
#define NREGRESSIONS ((int)(sizeof(regressions) / sizeof(regressions[0])) - 1)

/* --avoid-known names (see FZ_AVOID_OPEN); the NULL entry ends the list. */
static const struct { const char *name; unsigned int bit; } avoid_names[] = {
	{ NULL, 0 }
};

static struct fz_opts opts = {
	.duration = 120, .batch_secs = 10, .reload_every = 10, .max_ops = 800,
	.chaos_pct = 25, .avoid = FZ_AVOID_OPEN,
};

/* Seconds all reductions of one run may take together (the suite has a timeout). */
#define REDUCE_TOTAL_S	240
static double reduce_left = REDUCE_TOTAL_S;

static struct {
	uint64_t ops, programs, failures, reloads;
	uint64_t outc[FZ_NOUTC][128];
	uint64_t vev[FZ_NVEV];
	long shmem0, sunreclaim0;
	long kmsg_seq;
	bool wedged;		/* a hang or oops: stop fuzzing */
	char sigs[MAX_SIGS][96];
	int nsigs;
	struct fz_prog prog;
} st;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- kernel log ---- */

static const char *const bad_words[] = {
	"WARNING:", "BUG:", "BUG ", "Oops", "general protection", "kernel BUG",
	"Call Trace", "UBSAN", "KASAN", "refcount_t", "list_add corruption",
	"list_del corruption", "INFO: task", "soft lockup", "hard LOCKUP",
	"blocked for more than", "kmemleak", "Bad page",
};

/*
 * New kernel log records since the last call: returns how many are bad and
 * prints up to @excerpt lines from the first bad one as TAP comments.
 */
static int kmsg_check(int excerpt)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char rec[4096];
	int nbad = 0, shown = 0;

	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t r = read(fd, rec, sizeof(rec) - 1);
		long seq;
		char *msg;
		size_t i;

		if (r < 0) {
			if (errno == EPIPE)
				continue;
			break;
		}
		rec[r] = 0;
		if (sscanf(rec, "%*d,%ld", &seq) != 1 || seq <= st.kmsg_seq)
			continue;
		st.kmsg_seq = seq;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = 0;
		for (i = 0; i < sizeof(bad_words) / sizeof(bad_words[0]); i++)
			if (strstr(msg, bad_words[i]))
				break;
		if (i < sizeof(bad_words) / sizeof(bad_words[0]))
			nbad++;
		if (nbad && shown < excerpt) {
			ksft_print_msg("kernel: %s\n", msg);
			shown++;
		}
	}
	close(fd);
	return nbad;
}

/* ---- module and leaks ---- */

/*
 * How long a finished program's leftovers may take to go (devices
 * unlisted, Shmem given back, the module free to unload): the releases
 * a program's exit queues run soon, in ms; the bound is only for a leak,
 * which never goes.
 */
#define POST_WAIT_MS	10000

static int wait_no_devices(int timeout_ms)
{
	struct fz_nl_dev devs[16];
	int n = 0, waited;

	for (waited = 0; waited <= timeout_ms; waited += 10) {
		n = fz_nl_devs(devs, 16);
		if (n <= 0)
			return n;
		usleep(10000);
	}
	return n;
}

static int reload_module(char *why, size_t len)
{
	int i, fd, ret = -1;

	if (!opts.ko)
		return 0;
	for (i = 0; i < POST_WAIT_MS / 10; i++) {
		ret = syscall(SYS_delete_module, "vhost_shmem", O_NONBLOCK);
		if (!ret || (errno != EBUSY && errno != EAGAIN))
			break;
		usleep(10000);
	}
	if (ret) {
		snprintf(why, len, "delete_module with no device left: %s", strerror(errno));
		return -1;
	}
	fd = open(opts.ko, O_RDONLY | O_CLOEXEC);
	ret = fd < 0 ? -1 : (int)syscall(SYS_finit_module, fd, "", 0);
	if (fd >= 0)
		close(fd);
	if (ret) {
		snprintf(why, len, "finit_module %s: %s", opts.ko, strerror(errno));
		return -1;
	}
	for (i = 0; i < 300 && !vs_have_dev(); i++)
		usleep(10000);
	if (!vs_have_dev()) {
		snprintf(why, len, "%s did not come back after the reload", VS_DEV_PATH);
		return -1;
	}
	st.reloads++;
	return 0;
}

/* Everything a finished program must leave behind: nothing. */
static int post_checks(char *why, size_t len, bool reload)
{
	long shmem;
	int n, i;

	n = wait_no_devices(POST_WAIT_MS);
	if (n > 0) {
		snprintf(why, len, "%d device(s) still listed by netlink %d s after the program ended",
			 n, POST_WAIT_MS / 1000);
		return -1;
	}
	if (n < 0) {
		snprintf(why, len, "netlink dev-get dump: %s", strerror(-n));
		return -1;
	}
	for (i = 0; i < POST_WAIT_MS / 10; i++) {
		shmem = vs_meminfo_kb("Shmem");
		if (shmem <= st.shmem0 + SHMEM_SLACK_KB)
			break;
		usleep(10000);
	}
	if (shmem > st.shmem0 + SHMEM_SLACK_KB) {
		snprintf(why, len, "Shmem %ld kB, %ld kB at the start: backend files leaked",
			 shmem, st.shmem0);
		return -1;
	}
	if (reload && reload_module(why, len))
		return -1;
	return 0;
}

/* ---- ext4 on a loop device, when the VM has mkfs.ext4 and loop ---- */

static const char *setup_ext4(void)
{
	const char *img = "/tmp/vs-fuzz-ext4.img";
	struct loop_info64 li = { .lo_flags = LO_FLAGS_AUTOCLEAR };
	char dev[64], cmd[256];
	int ctl, n, imgfd, lfd;

	mkdir(EXT4_DIR, 0755);
	imgfd = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (imgfd < 0 || ftruncate(imgfd, 32 << 20))
		goto fail;
	snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F %s >/dev/null 2>&1", img);
	if (system(cmd))
		goto fail;
	/*
	 * The image lives in tmpfs: every block ext4 touches for the first
	 * time would add to Shmem, which the leak check compares with its
	 * value at the start. Allocate it all now (ext4 discards nothing).
	 */
	if (fallocate(imgfd, 0, 0, 32 << 20))
		ksft_print_msg("fallocate of the ext4 image: %s (Shmem may creep)\n",
			       strerror(errno));
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	n = ctl >= 0 ? ioctl(ctl, LOOP_CTL_GET_FREE) : -1;
	if (ctl >= 0)
		close(ctl);
	if (n < 0)
		goto fail;
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	lfd = open(dev, O_RDWR | O_CLOEXEC);
	if (lfd < 0) {
		mknod(dev, S_IFBLK | 0600, makedev(7, n));
		lfd = open(dev, O_RDWR | O_CLOEXEC);
	}
	if (lfd < 0 || ioctl(lfd, LOOP_SET_FD, imgfd))
		goto fail;
	ioctl(lfd, LOOP_SET_STATUS64, &li);
	close(imgfd);
	imgfd = -1;
	if (mount(dev, EXT4_DIR, "ext4", 0, NULL)) {
		close(lfd);
		goto fail;
	}
	close(lfd);	/* autoclear: the mount holds the loop device */
	unlink(img);
	return EXT4_DIR;
fail:
	if (imgfd >= 0)
		close(imgfd);
	unlink(img);
	ksft_print_msg("no ext4 on a loop device here: \"ext4\" files are tmpfs files\n");
	return NULL;
}

/* ---- one program ---- */

static bool known_sig(const char *sig)
{
	int i;

	for (i = 0; i < st.nsigs; i++)
		if (!strcmp(st.sigs[i], sig))
			return true;
	if (st.nsigs < MAX_SIGS)
		snprintf(st.sigs[st.nsigs++], sizeof(st.sigs[0]), "%s", sig);
	return false;
}

/* A hung runner: what its tasks wait on, to the TAP log and dmesg. */
static void report_hang(int pgid)
{
	char path[64], line[512];
	struct dirent *de;
	DIR *d = opendir("/proc");
	FILE *f;

	while (d && (de = readdir(d))) {
		int pid = atoi(de->d_name), pg = 0;
		char state = '?';

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%*d %*s %c %*d %d", &state, &pg) != 2)
			pg = 0;
		fclose(f);
		if (pg != pgid)
			continue;
		ksft_print_msg("hung task %d state %c:\n", pid, state);
		snprintf(path, sizeof(path), "/proc/%d/stack", pid);
		f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f))
			ksft_print_msg("  %s", line);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	vs_write_str("/proc/sysrq-trigger", "w");
	kill(-pgid, SIGKILL);
}

static const char *avoid_str(void)
{
	static char buf[128];
	size_t i, n = 0;

	buf[0] = 0;
	for (i = 0; avoid_names[i].name; i++)
		if (opts.avoid & avoid_names[i].bit)
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? "," : "",
				      avoid_names[i].name);
	return buf;
}

/*
 * Runs program @p and every check after it. Returns 0, or 1 on a failure
 * (reported, and reduced when it is new and reproducible in one process).
 */
static int run_one(struct fz_prog *p, bool reload)
{
	struct fz_result r;
	char why[512], sig[96];
	int ret, bad, nops0 = p->nops, i;
	const char *got;

	ret = fz_run(p, &opts, p->mode == FZ_SOLO ? 60 : 90, &r);
	st.ops += r.ops;
	for (i = 0; i < FZ_NOUTC * 128; i++)
		st.outc[i / 128][i % 128] += r.outc[i / 128][i % 128];
	for (i = 0; i < FZ_NVEV; i++)
		st.vev[i] += r.vev[i];
	st.programs++;
	bad = kmsg_check(40);
	if (ret == 2) {
		report_hang(r.pid);
		st.wedged = true;
	}
	if (bad) {
		if (!r.failed || strcmp(r.what, "crash"))
			snprintf(r.what, sizeof(r.what), "kernel");
		snprintf(r.msg + strlen(r.msg), sizeof(r.msg) - strlen(r.msg),
			 "%skernel log: %d bad line(s), see above", r.failed ? "; " : "", bad);
		r.failed = 1;
		st.wedged = true;
	}
	if (!r.failed && post_checks(why, sizeof(why), reload)) {
		r.failed = 1;
		r.op = -1;
		snprintf(r.what, sizeof(r.what), "leak");
		snprintf(r.msg, sizeof(r.msg), "%s", why);
		if (wait_no_devices(0) > 0)
			st.wedged = true;
	}
	if (!r.failed)
		return 0;
	st.failures++;
	got = strstr(r.msg, "got ") ? strstr(r.msg, "got ") : r.msg;
	snprintf(sig, sizeof(sig), "%s/%s/%.*s", r.what,
		 r.op >= 0 && r.op < p->nops ? fz_kind_name(p->ops[r.op].kind) : "-",
		 (int)strcspn(got, "0123456789("), got);
	ksft_print_msg("FAIL program seed=%#llx (%s, %d ops): %s at op %d (%s): %s\n",
		       (unsigned long long)p->seed, p->mode == FZ_SOLO ? "solo" : "chaos",
		       p->nops, r.what, r.op, r.op >= 0 ? fz_kind_name(p->ops[r.op].kind) : "-",
		       r.msg);
	ksft_print_msg("replay: fuzz_test --program %#llx%s%s\n", (unsigned long long)p->seed,
		       opts.avoid ? " --avoid-known=" : "", avoid_str());
	if (known_sig(sig)) {
		ksft_print_msg("(same failure as before: %s; not reduced again)\n", sig);
		return 1;
	}
	/* Leaks the supervisor found (r.op < 0) are not tied to the program's ops. */
	if (p->mode == FZ_SOLO && ret != 2 && (strcmp(r.what, "leak") || r.op >= 0) &&
	    reduce_left >= 10) {
		double t = now();
		int runs = fz_reduce(p, &opts, r.what, reduce_left < 120 ? (int)reduce_left : 120);

		reduce_left -= now() - t;
		kmsg_check(opts.verbose ? 40 : 0);
		ksft_print_msg("reduced from %d to %d ops in %d runs; paste into selftests/fuzz/regressions.h:\n",
			       nops0, p->nops, runs);
	} else {
		ksft_print_msg("program (not reduced%s):\n",
			       reduce_left < 10 ? ": reduction time used up" : "");
	}
	fflush(stdout);
	fz_print_prog(p, "# ");
	fflush(stdout);
	/* The reduction may have left devices or a module that will not unload. */
	if (wait_no_devices(3000) > 0)
		st.wedged = true;
	return 1;
}

/*
 * What the MAPs, UNMAPs and RESETs of solo programs returned, by errno
 * ("MAP with viewers": those MAPs that had a viewer of their region, also
 * one dying), GET_VIEW and the viewers' mmap() of their views; then what
 * the view ops did.
 */
static void print_outcomes(void)
{
	static const char *const names[FZ_NOUTC] = {
		"MAP", "UNMAP", "RESET", "MAP with viewers", "GET_VIEW", "view mmap",
	};
	static const char *const vev_names[FZ_NVEV] = {
		"attached", "dropped", "munmap", "killed", "killed-mid-op", "tight",
		"views-checked", "gap-detached", "ops-skipped",
	};
	char line[1024];
	size_t n;
	int k, v;

	for (k = 0; k < FZ_NOUTC; k++) {
		n = snprintf(line, sizeof(line), "fuzz: %s outcomes:", names[k]);

		for (v = 0; v < 128 && n < sizeof(line) - 40; v++) {
			if (!st.outc[k][v])
				continue;
			n += snprintf(line + n, sizeof(line) - n, " %s %llu",
				      v == 0 ? "0" : v == 127 ? "other" :
				      strerrorname_np(v) ? strerrorname_np(v) : "?",
				      (unsigned long long)st.outc[k][v]);
		}
		ksft_print_msg("%s\n", line);
	}
	n = snprintf(line, sizeof(line), "fuzz: view events:");
	for (k = 0; k < FZ_NVEV; k++)
		n += snprintf(line + n, sizeof(line) - n, " %s %llu", vev_names[k],
			      (unsigned long long)st.vev[k]);
	ksft_print_msg("%s\n", line);
}

/* ---- options ---- */

static unsigned int parse_avoid(const char *s)
{
	unsigned int bits = 0;
	size_t i;

	if (!strcmp(s, "all"))
		return ~0u;
	if (!strcmp(s, "none"))
		return 0;
	for (i = 0; avoid_names[i].name; i++)
		if (strstr(s, avoid_names[i].name))
			bits |= avoid_names[i].bit;
	return bits;
}

static const char *env2(const char *a, const char *b)
{
	const char *v = getenv(a);

	if (!v || !*v)
		v = getenv(b);
	return v && *v ? v : NULL;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "avoid-known", required_argument, NULL, 'a' },
		{ "reload-every", required_argument, NULL, 'r' },
		{ "max-ops", required_argument, NULL, 'm' },
		{ "chaos", required_argument, NULL, 'c' },
		{ "program", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{}
	};
	const char *v;
	int c;

	if ((v = env2("FUZZ_DURATION", "VM_FUZZ_DURATION")))
		opts.duration = atoi(v);
	if ((v = env2("FUZZ_SEED", "VM_FUZZ_SEED")))
		opts.seed = strtoull(v, NULL, 0);
	if ((v = env2("FUZZ_AVOID", "VM_FUZZ_AVOID")))
		opts.avoid = parse_avoid(v);
	if ((v = env2("FUZZ_RELOAD_EVERY", "VM_FUZZ_RELOAD_EVERY")))
		opts.reload_every = atoi(v);
	if ((v = env2("FUZZ_PROGRAM", "VM_FUZZ_PROGRAM")))
		opts.only_prog = strtoull(v, NULL, 0);
	while ((c = getopt_long(argc, argv, "d:s:b:a:r:m:c:p:v", lo, NULL)) != -1) {
		switch (c) {
		case 'd': opts.duration = atoi(optarg); break;
		case 's': opts.seed = strtoull(optarg, NULL, 0); break;
		case 'b': opts.batch_secs = atoi(optarg); break;
		case 'a': opts.avoid = parse_avoid(optarg); break;
		case 'r': opts.reload_every = atoi(optarg); break;
		case 'm': opts.max_ops = atoi(optarg); break;
		case 'c': opts.chaos_pct = atoi(optarg); break;
		case 'p': opts.only_prog = strtoull(optarg, NULL, 0); break;
		case 'v': opts.verbose = true; break;
		default:
			fprintf(stderr, "usage: see the comment at the top of fuzz_test.c\n");
			exit(KSFT_FAIL);
		}
	}
	if (opts.max_ops < 61)
		opts.max_ops = 61;
	if (opts.max_ops > FZ_MAX_OPS / 2)
		opts.max_ops = FZ_MAX_OPS / 2;
	if (opts.batch_secs < 1)
		opts.batch_secs = 1;
	if (!opts.seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opts.seed = fz_mix(ts.tv_sec ^ ((uint64_t)ts.tv_nsec << 20) ^ getpid());
	}
}

static void setup(void)
{
	const char *ko = getenv("VHOST_SHMEM_KO");

	if (!ko || !*ko)
		ko = "/payload/vhost_shmem.ko";
	opts.ko = access(ko, R_OK) ? NULL : ko;
	if (!opts.ko)
		ksft_print_msg("%s not found: the module is not reloaded between programs\n", ko);
	opts.ext4_dir = setup_ext4();
	fz_probe(&opts.kb);
	signal(SIGPIPE, SIG_IGN);
	st.kmsg_seq = -1;
	kmsg_check(0);
	st.shmem0 = vs_meminfo_kb("Shmem");
	st.sunreclaim0 = vs_meminfo_kb("SUnreclaim");
}

/* Regressions check what the documentation says: no known bug avoided. */
static void run_regressions(void)
{
	unsigned int avoid = opts.avoid;
	int i;

	opts.avoid = 0;
	for (i = 0; i < NREGRESSIONS; i++) {
		const struct regression *rg = &regressions[i];
		struct fz_prog *p = &st.prog;

		memset(p, 0, offsetof(struct fz_prog, ops));
		/* "seed_<hex>": the program it was reduced from. */
		p->seed = strtoull(rg->name + 5, NULL, 16);
		p->mode = rg->mode;
		p->nprocs = rg->nprocs;
		p->nthreads = rg->nthreads;
		p->nops = rg->nops;
		memcpy(p->ops, rg->ops, rg->nops * sizeof(rg->ops[0]));
		if (st.wedged) {
			ksft_test_result_fail("regression %s: not run, the kernel is wedged\n",
					      rg->name);
			continue;
		}
		if (run_one(p, false))
			ksft_test_result_fail("regression %s\n", rg->name);
		else
			ksft_test_result_pass("regression %s\n", rg->name);
	}
	opts.avoid = avoid;
}

int main(int argc, char **argv)
{
	int nreg = NREGRESSIONS;
	int nbatch, b, fails;
	uint64_t idx = 0, p0, ops0;
	double t0, t_end;
	char why[512];
	long sunr;

	parse_args(argc, argv);
	ksft_print_header();
	if (!vs_have_dev())
		ksft_exit_skip("no " VS_DEV_PATH ": module not loaded\n");
	setup();
	if (opts.only_prog) {
		fz_generate(&st.prog, opts.only_prog, &opts);
		ksft_set_plan(1);
		if (run_one(&st.prog, true))
			ksft_test_result_fail("program seed=%#llx\n", (unsigned long long)opts.only_prog);
		else
			ksft_test_result_pass("program seed=%#llx\n", (unsigned long long)opts.only_prog);
		ksft_finished();
	}
	nbatch = (opts.duration + opts.batch_secs - 1) / opts.batch_secs;
	if (nbatch < 1)
		nbatch = 1;
	ksft_print_msg("fuzz: seed=%#llx duration=%d s, %d batches, avoid-known=%s, ext4 %s, reload every %d programs\n",
		       (unsigned long long)opts.seed, opts.duration, nbatch,
		       opts.avoid ? avoid_str() : "none", opts.ext4_dir ? "yes" : "no",
		       opts.reload_every);
	fz_kbehav_str(&opts.kb, why, sizeof(why));
	ksft_print_msg("fuzz: this kernel: %s\n", why);
	ksft_set_plan(nreg + nbatch + 1);
	run_regressions();
	/* The totals are the timed run's: ops over its wall time. */
	st.ops = 0;
	memset(st.outc, 0, sizeof(st.outc));
	memset(st.vev, 0, sizeof(st.vev));
	t0 = now();
	for (b = 0; b < nbatch; b++) {
		t_end = t0 + (double)opts.duration * (b + 1) / nbatch;
		p0 = st.programs;
		ops0 = st.ops;
		fails = 0;
		if (st.wedged) {
			ksft_test_result_fail("batch %d: not run, the kernel is wedged by an earlier failure\n",
					      b);
			continue;
		}
		while (now() < t_end && !st.wedged) {
			struct fz_prog *p = &st.prog;
			bool reload = opts.reload_every > 0 && (idx + 1) % opts.reload_every == 0;

			fz_generate(p, fz_mix(opts.seed + idx++), &opts);
			fails += run_one(p, reload);
			fflush(stdout);
		}
		if (fails)
			ksft_test_result_fail("batch %d programs seed=%#llx #%llu-%llu: %d failed (%llu ops)\n",
					      b, (unsigned long long)opts.seed,
					      (unsigned long long)p0,
					      (unsigned long long)st.programs - 1, fails,
					      (unsigned long long)(st.ops - ops0));
		else
			ksft_test_result_pass("batch %d programs seed=%#llx #%llu-%llu (%llu ops)\n",
					      b, (unsigned long long)opts.seed,
					      (unsigned long long)p0,
					      (unsigned long long)st.programs - 1,
					      (unsigned long long)(st.ops - ops0));
	}
	/* The end: nothing left, the module still unloads and comes back. */
	sunr = vs_meminfo_kb("SUnreclaim");
	ksft_print_msg("SUnreclaim %ld kB at the start, %ld kB now\n", st.sunreclaim0, sunr);
	if (st.wedged)
		ksft_test_result_fail("final unload and leak check: not run, the kernel is wedged\n");
	else if (post_checks(why, sizeof(why), opts.ko != NULL))
		st.failures++, ksft_test_result_fail("final unload and leak check: %s\n", why);
	else if (sunr > st.sunreclaim0 + 64 * 1024)
		st.failures++, ksft_test_result_fail("final leak check: SUnreclaim grew by %ld kB\n",
						      sunr - st.sunreclaim0);
	else
		ksft_test_result_pass("final unload and leak check (%llu reloads)\n",
				      (unsigned long long)st.reloads);
	ksft_print_msg("fuzz: %llu ops, %llu programs, %.0f ops/s, %llu failures\n",
		       (unsigned long long)st.ops, (unsigned long long)st.programs,
		       st.ops / (now() - t0), (unsigned long long)st.failures);
	print_outcomes();
	if (opts.ext4_dir)
		umount(EXT4_DIR);
	ksft_finished();
}
