// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-shmem API: lifecycle, configuration, region mmap rules, holes,
 * MAP/UNMAP/RESET semantics and every errno of the uapi header. After every
 * failing MAP/UNMAP the region must be exactly as before: same bytes (and
 * faults) over the whole region, same counters except failures + 1, and no
 * gap in /proc/self/maps.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_shmem_lib.h"

#define R0_PAGES	64
#define R1_PAGES	16
#define R3_PAGES	32

FIXTURE(api) {
	struct vs_dev d;
	int a, b, c;		/* memfds: 32, 32 and 128 pages */
};

FIXTURE_SETUP(api)
{
	const struct vs_layout l[] = {
		{ .shmid = 0, .size = R0_PAGES * PG },
		{ .shmid = 1, .size = R1_PAGES * PG, .flags = VHOST_SHMEM_REGION_F_FAULT_HOLES },
		{ .shmid = 3, .size = R3_PAGES * PG },
	};
	int ret;

	self->a = self->b = self->c = -1;
	self->d.fd = -1;
	VS_REQUIRE_DEV_IN_SETUP();
	ret = vs_dev_setup(&self->d, l, 3, true);
	if (ret)
		TH_LOG("device setup: %s", self->d.err);
	ASSERT_EQ(0, ret);
	self->a = vs_memfd("api-a", 32 * PG, 1);
	self->b = vs_memfd("api-b", 32 * PG, 2);
	self->c = vs_memfd("api-c", 128 * PG, 3);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	ASSERT_LE(0, self->c);
}

FIXTURE_TEARDOWN(api)
{
	vs_dev_close(&self->d);
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
	if (self->c >= 0)
		close(self->c);
}

#define R0(d) ((d)->r[0].addr)
#define R1(d) ((d)->r[1].addr)

static int config_ioctl(int fd, const struct vhost_shmem_config *cfg)
{
	return ioctl(fd, VHOST_SHMEM_SET_CONFIG, cfg) < 0 ? -errno : 0;
}

/* Order of operations: everything before SET_OWNER / SET_CONFIG is EBADFD. */
TEST_F(api, lifecycle_order)
{
	struct vhost_shmem_config *cfg = calloc(1, sizeof(*cfg));
	struct vhost_shmem_region_info info;
	int fd = open(VS_DEV_PATH, O_RDWR);

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, cfg);
	cfg->regions[0].size = 4 * PG;
	EXPECT_EQ(-EBADFD, vs_map(fd, 0, self->a, 0, 0, PG, 0));
	EXPECT_EQ(-EBADFD, vs_unmap(fd, 0, 0, PG));
	EXPECT_EQ(-EBADFD, config_ioctl(fd, cfg));
	EXPECT_EQ(-EBADFD, vs_region_info(fd, 0, &info));
	EXPECT_EQ(-1, ioctl(fd, VHOST_SHMEM_GET_CONFIG, cfg));
	EXPECT_EQ(EBADFD, errno);

	ASSERT_EQ(0, ioctl(fd, VHOST_SHMEM_SET_OWNER));
	EXPECT_EQ(-1, ioctl(fd, VHOST_SHMEM_SET_OWNER));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-EBADFD, vs_map(fd, 0, self->a, 0, 0, PG, 0));
	EXPECT_EQ(-EBADFD, vs_unmap(fd, 0, 0, PG));
	EXPECT_EQ(-EBADFD, vs_region_info(fd, 0, &info));
	/* mmap before configuration fails. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));

	memset(cfg, 0, sizeof(*cfg));
	cfg->regions[0].size = 4 * PG;
	ASSERT_EQ(0, config_ioctl(fd, cfg));
	EXPECT_EQ(-EBUSY, config_ioctl(fd, cfg));
	ASSERT_EQ(0, vs_region_info(fd, 0, &info));
	EXPECT_EQ(4 * PG, info.size);
	/* Configured but not mmapped: MAP is ENXIO. */
	EXPECT_EQ(-ENXIO, vs_map(fd, 0, self->a, 0, 0, PG, 0));
	close(fd);
	free(cfg);
}

/* Every invalid configuration is refused and leaves the device unconfigured. */
TEST_F(api, config_validation)
{
	struct vhost_shmem_config *cfg = calloc(1, sizeof(*cfg));
	struct vhost_shmem_config *got = calloc(1, sizeof(*got));
	int fd = open(VS_DEV_PATH, O_RDWR);
	int i;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, cfg);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, ioctl(fd, VHOST_SHMEM_SET_OWNER));

	/* No region at all. */
	EXPECT_EQ(-EINVAL, config_ioctl(fd, cfg));
	/* Size not a page multiple. */
	cfg->regions[0].size = PG + 1;
	EXPECT_EQ(-EINVAL, config_ioctl(fd, cfg));
	cfg->regions[0].size = PG / 2;
	EXPECT_EQ(-EINVAL, config_ioctl(fd, cfg));
	/* Unknown region flag. */
	cfg->regions[0].size = PG;
	cfg->regions[0].flags = 1U << 7;
	EXPECT_EQ(-EINVAL, config_ioctl(fd, cfg));
	/* Flags on an unused shmid. */
	cfg->regions[0].flags = 0;
	cfg->regions[9].flags = VHOST_SHMEM_REGION_F_FAULT_HOLES;
	EXPECT_EQ(-EINVAL, config_ioctl(fd, cfg));
	cfg->regions[9].flags = 0;
	/* Padding. */
	cfg->regions[0].padding = 1;
	EXPECT_EQ(-EINVAL, config_ioctl(fd, cfg));
	cfg->regions[0].padding = 0;
	cfg->padding = 1;
	EXPECT_EQ(-EINVAL, config_ioctl(fd, cfg));
	cfg->padding = 0;
	/* Above max_region_size. */
	cfg->regions[1].size = 1ULL << 60;
	EXPECT_EQ(-E2BIG, config_ioctl(fd, cfg));
	cfg->regions[1].size = 0;
	/* Still unconfigured after all that. */
	EXPECT_EQ(-1, ioctl(fd, VHOST_SHMEM_GET_CONFIG, got));
	EXPECT_EQ(EBADFD, errno);

	/* A valid one, nregions ignored on SET. */
	cfg->nregions = 77;
	cfg->regions[0].size = 2 * PG;
	cfg->regions[5].size = 8 * PG;
	cfg->regions[5].flags = VHOST_SHMEM_REGION_F_FAULT_HOLES;
	cfg->regions[255].size = PG;
	ASSERT_EQ(0, config_ioctl(fd, cfg));
	EXPECT_EQ(-EBUSY, config_ioctl(fd, cfg));
	ASSERT_EQ(0, ioctl(fd, VHOST_SHMEM_GET_CONFIG, got));
	EXPECT_EQ(3, got->nregions);
	for (i = 0; i < VHOST_SHMEM_MAX_REGIONS; i++) {
		EXPECT_EQ(cfg->regions[i].size, got->regions[i].size);
		EXPECT_EQ(cfg->regions[i].flags, got->regions[i].flags);
	}
	close(fd);
	free(cfg);
	free(got);
}

/* SET_CONFIG by a process that is not the owner: EPERM. */
TEST_F(api, config_not_owner)
{
	struct vhost_shmem_config *cfg = calloc(1, sizeof(*cfg));
	int fd = open(VS_DEV_PATH, O_RDWR);
	int status;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_SHMEM_SET_OWNER));
	cfg->regions[0].size = PG;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int r = config_ioctl(fd, cfg);

		_exit(r == -EPERM ? 0 : 100 + (-r & 0xff) % 100);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The owner still can. */
	EXPECT_EQ(0, config_ioctl(fd, cfg));
	close(fd);
	free(cfg);
}

TEST_F(api, region_info)
{
	struct vhost_shmem_region_info info, i1;

	EXPECT_EQ(-EBADSLT, vs_region_info(self->d.fd, VHOST_SHMEM_MAX_REGIONS, &info));
	EXPECT_EQ(-EBADSLT, vs_region_info(self->d.fd, 0xffffffff, &info));
	/* Unused shmid: size 0. */
	ASSERT_EQ(0, vs_region_info(self->d.fd, 2, &info));
	EXPECT_EQ(0, info.size);
	ASSERT_EQ(0, vs_region_info(self->d.fd, 0, &info));
	EXPECT_EQ(R0_PAGES * PG, info.size);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(0, info.offset % PG);
	EXPECT_EQ((uintptr_t)R0(&self->d), info.addr);
	ASSERT_EQ(0, vs_region_info(self->d.fd, 1, &i1));
	EXPECT_EQ(VHOST_SHMEM_REGION_F_FAULT_HOLES, i1.flags);
	EXPECT_EQ((uintptr_t)R1(&self->d), i1.addr);
	/* Offsets do not overlap. */
	EXPECT_TRUE(i1.offset >= info.offset + info.size || info.offset >= i1.offset + i1.size);
}

/* The owner mmaps each region once, MAP_SHARED, exact size; nobody else. */
TEST_F(api, mmap_rules)
{
	const struct vs_layout l[] = {
		{ .shmid = 0, .size = 8 * PG },
		{ .shmid = 1, .size = 4 * PG },
	};
	struct vhost_shmem_region_info info;
	struct vs_dev d;
	int status;
	void *p;
	pid_t pid;

	ASSERT_EQ(0, vs_dev_setup(&d, l, 2, false));
	ASSERT_EQ(0, vs_region_info(d.fd, 0, &info));
	EXPECT_EQ(0, info.addr);
	/* Not mmapped yet: MAP is ENXIO. */
	EXPECT_EQ(-ENXIO, vs_map(d.fd, 0, self->a, 0, 0, PG, 0));

	/* A non-owner cannot mmap it. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, info.offset);
		_exit(p == MAP_FAILED && errno == EPERM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, info.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, info.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, d.fd, info.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* The right size at the wrong offset: one page into the region. */
	p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, info.offset + PG);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, vs_region_mmap(&d, 0));
	p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, info.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, vs_region_info(d.fd, 0, &info));
	EXPECT_EQ((uintptr_t)d.r[0].addr, info.addr);
	/* The failed attempts did not disturb the good one. */
	EXPECT_EQ(0, vs_map(d.fd, 0, self->a, 0, 0, PG, 0));
	ASSERT_PAT(d.r[0].addr, PG, 1, 0);
	/* Region 1 is still unmapped: ENXIO for it. */
	EXPECT_EQ(-ENXIO, vs_map(d.fd, 1, self->a, 0, 0, PG, 0));
	vs_dev_close(&d);
}

/*
 * The mmap offset must be exactly the start of a configured region: a
 * region-sized mmap one page into region 0 (its own shmid, its own size),
 * at the unused shmid between the regions or past the last shmid is
 * refused, and neither disturbs the real one.
 */
TEST_F(api, mmap_wrong_offset)
{
	const struct vs_layout l[] = {
		{ .shmid = 0, .size = 8 * PG },
		{ .shmid = 2, .size = 8 * PG },
	};
	struct vhost_shmem_region_info info, i2;
	uint64_t offs[4], stride;
	struct vs_dev d;
	void *p;
	int i;

	ASSERT_EQ(0, vs_dev_setup(&d, l, 2, false));
	ASSERT_EQ(0, vs_region_info(d.fd, 0, &info));
	ASSERT_EQ(0, vs_region_info(d.fd, 2, &i2));
	/* Region offsets are shmid * stride (REGION_INFO: 1 TiB). */
	stride = i2.offset / 2;
	offs[0] = info.offset + PG;			/* inside region 0 */
	offs[1] = info.offset + 8 * PG;			/* just past region 0 */
	offs[2] = stride;				/* shmid 1: unused */
	offs[3] = VHOST_SHMEM_MAX_REGIONS * stride;	/* past the last shmid */
	for (i = 0; i < 4; i++) {
		p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, (off_t)offs[i]);
		if (p != MAP_FAILED)
			TH_LOG("mmap at offset %#llx succeeded", (unsigned long long)offs[i]);
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EINVAL, errno);
		if (p != MAP_FAILED)
			munmap(p, 8 * PG);
	}
	/* Nothing was taken for region 0 or 2: both still map, once. */
	ASSERT_EQ(0, vs_region_info(d.fd, 0, &info));
	EXPECT_EQ(0, info.addr);
	ASSERT_EQ(0, vs_region_mmap(&d, 0));
	ASSERT_EQ(0, vs_region_mmap(&d, 1));
	EXPECT_EQ(0, vs_map(d.fd, 0, self->a, 3 * PG, 0, PG, 0));
	ASSERT_PAT(d.r[0].addr, PG, 1, 3 * PG);
	EXPECT_EQ(0, vs_map(d.fd, 2, self->a, 0, 7 * PG, PG, 0));
	ASSERT_PAT(d.r[1].addr + 7 * PG, PG, 1, 0);
	vs_dev_close(&d);
}

/* Holes read zeros and writes SIGBUS; FAULT_HOLES: everything SIGBUS. */
TEST_F(api, holes)
{
	volatile uint8_t *anon;
	uint8_t v = 0xff;

	ASSERT_ZERO(R0(&self->d), R0_PAGES * PG);
	EXPECT_EQ(SIGBUS, vs_probe_write(R0(&self->d) + 3 * PG + 5, 0x42));
	EXPECT_EQ(0, vs_probe_read(R0(&self->d) + 3 * PG + 5, &v));
	EXPECT_EQ(0, v);
	/* A new anonymous page still reads zero (the zero page was not written). */
	anon = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	EXPECT_EQ(0, anon[5]);
	munmap((void *)anon, PG);
	EXPECT_EQ(SIGBUS, vs_probe_read(R1(&self->d), NULL));
	EXPECT_EQ(SIGBUS, vs_probe_read(R1(&self->d) + R1_PAGES * PG - 1, NULL));
	EXPECT_EQ(SIGBUS, vs_probe_write(R1(&self->d) + PG, 1));
	/* Region 3 is a separate zero region. */
	ASSERT_ZERO(self->d.r[2].addr, R3_PAGES * PG);
}

/* RW mapping: exact bytes, coherent both ways, counters, UNMAP gives a hole. */
TEST_F(api, map_rw)
{
	struct vhost_shmem_stats st0, st;
	uint8_t *r = R0(&self->d);
	uint8_t byte;

	ASSERT_EQ(0, vs_stats(self->d.fd, &st0));
	EXPECT_EQ(0, st0.mappings);
	EXPECT_EQ(0, st0.mapped_bytes);
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 2 * PG, 4 * PG, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_PAT(r + 4 * PG, 4 * PG, 1, 2 * PG);
	ASSERT_ZERO(r, 4 * PG);
	ASSERT_ZERO(r + 8 * PG, (R0_PAGES - 8) * PG);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(1, st.mappings);
	EXPECT_EQ(4 * PG, st.mapped_bytes);
	EXPECT_EQ(st0.maps + 1, st.maps);
	EXPECT_EQ(st0.failures, st.failures);

	/* Owner writes reach the file, file writes reach the region. */
	r[5 * PG + 7] = 0xa5;
	ASSERT_EQ(1, pread(self->a, &byte, 1, 3 * PG + 7));
	EXPECT_EQ(0xa5, byte);
	byte = 0x5a;
	ASSERT_EQ(1, pwrite(self->a, &byte, 1, 2 * PG));
	EXPECT_EQ(0x5a, r[4 * PG]);
	/* mprotect on a RW mapping works both ways. */
	EXPECT_EQ(0, mprotect(r + 4 * PG, PG, PROT_READ));
	EXPECT_EQ(SIGSEGV, vs_probe_write(r + 4 * PG, 1));
	EXPECT_EQ(0, mprotect(r + 4 * PG, PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, vs_probe_write(r + 4 * PG, 0x5b));

	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 4 * PG, 4 * PG));
	ASSERT_ZERO(r, R0_PAGES * PG);
	EXPECT_EQ(SIGBUS, vs_probe_write(r + 5 * PG, 1));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(0, st.mapped_bytes);
	EXPECT_EQ(st0.unmaps + 1, st.unmaps);
	EXPECT_TRUE(vs_maps_covered(r, R0_PAGES * PG));
	/* The file kept the writes made through the region. */
	ASSERT_EQ(1, pread(self->a, &byte, 1, 3 * PG + 7));
	EXPECT_EQ(0xa5, byte);
}

/* RO mapping: reads the file, writes fault, the owner cannot mprotect it RW. */
TEST_F(api, map_ro)
{
	uint8_t *r = R0(&self->d);
	char path[64];
	uint8_t byte;
	int sig, ro;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 0, 10 * PG, 2 * PG, 0));
	ASSERT_PAT(r + 10 * PG, 2 * PG, 2, 0);
	sig = vs_probe_write(r + 10 * PG + 1, 0x99);
	EXPECT_TRUE(sig == SIGSEGV || sig == SIGBUS);
	EXPECT_EQ(-1, mprotect(r + 10 * PG, 2 * PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(r + 10 * PG, PG, PROT_READ | PROT_WRITE | PROT_EXEC));
	sig = vs_probe_write(r + 10 * PG + 1, 0x99);
	EXPECT_TRUE(sig == SIGSEGV || sig == SIGBUS);
	ASSERT_EQ(1, pread(self->b, &byte, 1, 1));
	EXPECT_EQ(vs_pat(2, 1), byte);
	/* Neighbours still holes. */
	EXPECT_EQ(SIGBUS, vs_probe_write(r + 9 * PG, 1));
	EXPECT_EQ(SIGBUS, vs_probe_write(r + 12 * PG, 1));
	/* Same with a fd opened read-only. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->b);
	ro = open(path, O_RDONLY);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, vs_map(self->d.fd, 0, ro, 4 * PG, 20 * PG, PG, 0));
	close(ro);
	ASSERT_PAT(r + 20 * PG, PG, 2, 4 * PG);
}

/* Adjacent mappings are not overlaps; the first and last page can be mapped. */
TEST_F(api, adjacent_and_edges)
{
	uint8_t *r = R0(&self->d);
	struct vhost_shmem_stats st;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 8 * PG, 4 * PG, 0));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 0, 12 * PG, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->c, 0, 4 * PG, 4 * PG, 0));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->c, 8 * PG, 0, PG, 0));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->c, 9 * PG, (R0_PAGES - 1) * PG, PG, 0));
	ASSERT_PAT(r + 8 * PG, 4 * PG, 1, 0);
	ASSERT_PAT(r + 12 * PG, 4 * PG, 2, 0);
	ASSERT_PAT(r + 4 * PG, 4 * PG, 3, 0);
	ASSERT_PAT(r, PG, 3, 8 * PG);
	ASSERT_PAT(r + (R0_PAGES - 1) * PG, PG, 3, 9 * PG);
	ASSERT_ZERO(r + PG, 3 * PG);
	ASSERT_ZERO(r + 16 * PG, (R0_PAGES - 17) * PG);
	/* The whole region (R0_PAGES pages) in one mapping of region 3-sized file. */
	ASSERT_EQ(0, vs_map(self->d.fd, 3, self->c, 0, 0, R3_PAGES * PG, 0));
	ASSERT_PAT(self->d.r[2].addr, R3_PAGES * PG, 3, 0);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(6, st.mappings);
	EXPECT_EQ((14 + R3_PAGES) * PG, st.mapped_bytes);
	EXPECT_TRUE(vs_maps_covered(r, R0_PAGES * PG));
}

enum fdkind {
	FD_A, FD_C, FD_A_RDONLY, FD_A_WRONLY, FD_SEALED, FD_PIPE, FD_SOCKET,
	FD_EVENTFD, FD_DIR, FD_OPATH, FD_DEV, FD_OTHER_DEV, FD_NEG, FD_CLOSED,
	FD_NKINDS,
};

static const char *const fdnames[] = {
	"memfd", "big memfd", "memfd O_RDONLY", "memfd O_WRONLY",
	"memfd F_SEAL_FUTURE_WRITE", "pipe", "socket", "eventfd", "directory",
	"O_PATH", "this device", "another vhost-shmem device", "-1", "closed fd",
};

struct map_case {
	const char *what;
	uint32_t shmid;
	enum fdkind fd;
	uint64_t fd_off, shm_off, len, flags;	/* offsets in pages unless RAW */
	bool raw;				/* offsets in bytes */
	int err;
};

#define P(x) ((uint64_t)(x))
#define HUGE_OFF (~0ULL & ~0xfffffULL)

static const struct map_case map_cases[] = {
	/* EINVAL */
	{ "misaligned fd_offset", 0, FD_A, 100, 0, 4096, 0, true, EINVAL },
	{ "misaligned shm_offset", 0, FD_A, 0, 100, 4096, 0, true, EINVAL },
	{ "misaligned len", 0, FD_A, 0, 0, 4097, 0, true, EINVAL },
	{ "short len", 0, FD_A, 0, 0, 512, 0, true, EINVAL },
	{ "zero len", 0, FD_A, 0, 0, 0, 0, true, EINVAL },
	/* EOPNOTSUPP */
	{ "flag bit 1", 0, FD_A, 0, 0, 1, 2, false, EOPNOTSUPP },
	{ "flag bit 63", 0, FD_A, 0, 0, 1, 1ULL << 63, false, EOPNOTSUPP },
	{ "RW + bit 2", 0, FD_A, 0, 0, 1, 5, false, EOPNOTSUPP },
	/* EBADSLT */
	{ "unused shmid", 2, FD_A, 0, 0, 1, 0, false, EBADSLT },
	{ "shmid 256", 256, FD_A, 0, 0, 1, 0, false, EBADSLT },
	{ "shmid ~0", 0xffffffff, FD_A, 0, 0, 1, 0, false, EBADSLT },
	/* ERANGE */
	{ "at region end", 0, FD_C, 0, R0_PAGES, 1, 0, false, ERANGE },
	{ "across region end", 0, FD_C, 0, R0_PAGES - 1, 2, 0, false, ERANGE },
	{ "longer than region", 0, FD_C, 0, 0, R0_PAGES + 1, 0, false, ERANGE },
	{ "shm_offset + len wraps", 0, FD_C, 0, HUGE_OFF, 0x200000, 0, true, ERANGE },
	{ "huge shm_offset", 0, FD_C, 0, 1ULL << 62, 4096, 0, true, ERANGE },
	/* EOVERFLOW */
	{ "beyond file end", 0, FD_A, 31, 30, 2, 0, false, EOVERFLOW },
	{ "at file end", 0, FD_A, 32, 30, 1, 0, false, EOVERFLOW },
	{ "fd_offset + len wraps", 0, FD_A, ~0xfffULL, 0, 0x2000, 0, true, EOVERFLOW },
	{ "huge fd_offset", 0, FD_A, 1ULL << 62, 0, 4096, 0, true, EOVERFLOW },
	/* EBADF */
	{ "fd -1", 0, FD_NEG, 0, 30, 1, 0, false, EBADF },
	{ "closed fd", 0, FD_CLOSED, 0, 30, 1, 0, false, EBADF },
	{ "O_PATH fd", 0, FD_OPATH, 0, 30, 1, 0, false, EBADF },
	/* ELOOP */
	{ "the device itself", 0, FD_DEV, 0, 30, 1, 0, false, ELOOP },
	{ "the device itself RW", 0, FD_DEV, 0, 30, 1, 1, false, ELOOP },
	{ "another device", 0, FD_OTHER_DEV, 0, 30, 1, 0, false, ELOOP },
	/* ENODEV */
	{ "pipe", 0, FD_PIPE, 0, 30, 1, 0, false, ENODEV },
	{ "socket RW", 0, FD_SOCKET, 0, 30, 1, 1, false, ENODEV },
	{ "eventfd", 0, FD_EVENTFD, 0, 30, 1, 0, false, ENODEV },
	{ "directory", 0, FD_DIR, 0, 30, 1, 0, false, ENODEV },
	/* EACCES */
	{ "RW on O_RDONLY", 0, FD_A_RDONLY, 0, 30, 1, 1, false, EACCES },
	{ "RO on O_WRONLY", 0, FD_A_WRONLY, 0, 30, 1, 0, false, EACCES },
	{ "RW on O_WRONLY", 0, FD_A_WRONLY, 0, 30, 1, 1, false, EACCES },
	/* Read-only needs a file not open for writing (regular files are reopened). */
	{ "RO of a writable socket", 0, FD_SOCKET, 0, 30, 1, 0, false, EACCES },
	/* EEXIST: live mappings at pages [8,12) and [20,22) */
	{ "same range", 0, FD_C, 0, 8, 4, 0, false, EEXIST },
	{ "overlaps start", 0, FD_C, 0, 6, 3, 0, false, EEXIST },
	{ "overlaps end", 0, FD_C, 0, 11, 2, 0, false, EEXIST },
	{ "contains", 0, FD_C, 0, 4, 12, 0, false, EEXIST },
	{ "inside", 0, FD_C, 0, 9, 1, 1, false, EEXIST },
	{ "spans two", 0, FD_C, 0, 11, 10, 0, false, EEXIST },
	{ "last page of second", 0, FD_C, 0, 21, 1, 0, false, EEXIST },
	/* backend's own mmap error */
	{ "RW on F_SEAL_FUTURE_WRITE memfd", 0, FD_SEALED, 0, 30, 1, 1, false, EPERM },
	{ "RW on F_SEAL_FUTURE_WRITE next to a mapping", 0, FD_SEALED, 0, 12, 8, 1, false, EPERM },
};

static int open_kind(struct __test_metadata *_metadata, FIXTURE_DATA(api) *self,
		     enum fdkind k, int *extra)
{
	char path[64];
	int fd, sv[2];

	*extra = -1;
	switch (k) {
	case FD_A:
		return dup(self->a);
	case FD_C:
		return dup(self->c);
	case FD_A_RDONLY:
	case FD_A_WRONLY:
		snprintf(path, sizeof(path), "/proc/self/fd/%d", self->a);
		return open(path, k == FD_A_RDONLY ? O_RDONLY : O_WRONLY);
	case FD_SEALED:
		fd = vs_memfd("sealed", 32 * PG, 9);
		if (fd >= 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) < 0)
			TH_LOG("F_SEAL_FUTURE_WRITE: %s", strerror(errno));
		return fd;
	case FD_PIPE:
		if (pipe(sv) < 0)
			return -1;
		*extra = sv[1];
		return sv[0];
	case FD_SOCKET:
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			return -1;
		*extra = sv[1];
		return sv[0];
	case FD_EVENTFD:
		return eventfd(0, 0);
	case FD_DIR:
		return open("/", O_RDONLY | O_DIRECTORY);
	case FD_OPATH:
		snprintf(path, sizeof(path), "/proc/self/fd/%d", self->a);
		return open(path, O_PATH);
	case FD_DEV:
		return dup(self->d.fd);
	case FD_OTHER_DEV:
		return open(VS_DEV_PATH, O_RDWR);
	case FD_NEG:
		return -1;
	case FD_CLOSED:
		fd = dup(self->a);
		close(fd);
		return fd;
	default:
		return -1;
	}
}

/* Every MAP errno; after each, the whole region is exactly as before. */
TEST_F(api, map_errors)
{
	struct vs_snap snap;
	char why[256];
	int extra, sealed;
	bool same;
	size_t i;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 8 * PG, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 4 * PG, 20 * PG, 2 * PG, 0));
	ASSERT_EQ(0, vs_snap_take(&self->d, 0, 0, R0_PAGES * PG, &snap));

	for (i = 0; i < sizeof(map_cases) / sizeof(map_cases[0]); i++) {
		const struct map_case *c = &map_cases[i];
		uint64_t m = c->raw ? 1 : PG;
		int fd = open_kind(_metadata, self, c->fd, &extra);
		int ret;

		if (fd < 0 && c->fd != FD_NEG && c->fd != FD_CLOSED)
			TH_LOG("case '%s': cannot open %s: %s", c->what, fdnames[c->fd],
			       strerror(errno));
		ASSERT_TRUE(fd >= 0 || c->fd == FD_NEG || c->fd == FD_CLOSED);
		ret = vs_map(self->d.fd, c->shmid, fd, c->fd_off * m, c->shm_off * m,
			     c->len * m, c->flags);
		if (ret != -c->err)
			TH_LOG("case '%s' (%s): got %d (%s), want %s", c->what,
			       fdnames[c->fd], ret, ret ? strerror(-ret) : "success",
			       strerror(c->err));
		EXPECT_EQ(-c->err, ret);
		if (fd >= 0 && c->fd != FD_CLOSED)
			close(fd);
		if (extra >= 0)
			close(extra);
		if (ret != -c->err)
			continue;
		same = vs_snap_same(&self->d, 0, &snap, i + 1, why, sizeof(why));
		if (!same)
			TH_LOG("case '%s': region changed: %s", c->what, why);
		ASSERT_TRUE(same);
	}
	/* A write-sealed memfd can still be mapped read-only. */
	sealed = open_kind(_metadata, self, FD_SEALED, &extra);
	ASSERT_LE(0, sealed);
	ASSERT_EQ(0, vs_map(self->d.fd, 0, sealed, 0, 30 * PG, PG, 0));
	close(sealed);
	ASSERT_PAT(R0(&self->d) + 30 * PG, PG, 9, 0);
	vs_snap_free(&snap);
}

/* Every UNMAP errno; after each, the region is exactly as before. */
TEST_F(api, unmap_errors)
{
	struct vhost_shmem_unmap u;
	struct vs_snap snap;
	uint64_t nfail = 0;
	struct {
		const char *what;
		uint32_t shmid;
		uint64_t off, len;	/* bytes */
		int err;
	} cases[] = {
		{ "sub-range", 0, 8 * PG, 2 * PG, ENOENT },
		{ "tail sub-range", 0, 10 * PG, 2 * PG, ENOENT },
		{ "larger", 0, 8 * PG, 5 * PG, ENOENT },
		{ "shifted", 0, 9 * PG, 4 * PG, ENOENT },
		{ "both mappings", 0, 8 * PG, 14 * PG, ENOENT },
		{ "hole", 0, 30 * PG, PG, ENOENT },
		{ "other region", 3, 8 * PG, 4 * PG, ENOENT },
		{ "misaligned offset", 0, 8 * PG + 1, 4 * PG, EINVAL },
		{ "misaligned len", 0, 8 * PG, 4 * PG - 1, EINVAL },
		{ "zero len", 0, 8 * PG, 0, EINVAL },
		{ "unused shmid", 2, 8 * PG, 4 * PG, EBADSLT },
		{ "shmid 256", 256, 8 * PG, 4 * PG, EBADSLT },
		{ "beyond region", 0, R0_PAGES * PG, PG, ERANGE },
		{ "wraps", 0, HUGE_OFF, 0x200000, ERANGE },
	};
	size_t i;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 8 * PG, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 4 * PG, 20 * PG, 2 * PG, 0));
	ASSERT_EQ(0, vs_snap_take(&self->d, 0, 0, R0_PAGES * PG, &snap));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = vs_unmap(self->d.fd, cases[i].shmid, cases[i].off, cases[i].len);

		if (ret != -cases[i].err)
			TH_LOG("case '%s': got %d, want %s", cases[i].what, ret,
			       strerror(cases[i].err));
		EXPECT_EQ(-cases[i].err, ret);
		if (ret)
			nfail++;
		ASSERT_SNAP_SAME(&self->d, 0, &snap, nfail);
	}
	/* Non-zero padding. */
	memset(&u, 0, sizeof(u));
	u.shmid = 0;
	u.padding = 1;
	u.shm_offset = 8 * PG;
	u.len = 4 * PG;
	EXPECT_EQ(-1, ioctl(self->d.fd, VHOST_SHMEM_UNMAP, &u));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_SNAP_SAME(&self->d, 0, &snap, nfail + 1);
	/* The exact ones work, twice is ENOENT. */
	EXPECT_EQ(0, vs_unmap(self->d.fd, 0, 8 * PG, 4 * PG));
	EXPECT_EQ(-ENOENT, vs_unmap(self->d.fd, 0, 8 * PG, 4 * PG));
	EXPECT_EQ(0, vs_unmap(self->d.fd, 0, 20 * PG, 2 * PG));
	ASSERT_ZERO(R0(&self->d), R0_PAGES * PG);
	vs_snap_free(&snap);
}

/* RESET removes every mapping of every region; counters follow. */
TEST_F(api, reset)
{
	struct vhost_shmem_stats st0, st;
	uint8_t *r = R0(&self->d);

	ASSERT_EQ(0, vs_stats(self->d.fd, &st0));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 0, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 0, 10 * PG, 4 * PG, 0));
	ASSERT_EQ(0, vs_map(self->d.fd, 1, self->c, 0, 2 * PG, 2 * PG, 0));
	ASSERT_EQ(0, vs_map(self->d.fd, 3, self->c, 0, 0, R3_PAGES * PG, 0));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(4, st.mappings);
	EXPECT_EQ((10 + R3_PAGES) * PG, st.mapped_bytes);
	ASSERT_EQ(0, vs_reset(self->d.fd));
	ASSERT_ZERO(r, R0_PAGES * PG);
	ASSERT_ZERO(self->d.r[2].addr, R3_PAGES * PG);
	EXPECT_EQ(SIGBUS, vs_probe_read(R1(&self->d) + 2 * PG, NULL));
	EXPECT_EQ(SIGBUS, vs_probe_write(r, 1));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(0, st.mapped_bytes);
	EXPECT_EQ(st0.maps + 4, st.maps);
	EXPECT_EQ(st0.unmaps + 4, st.unmaps);
	EXPECT_EQ(-ENOENT, vs_unmap(self->d.fd, 0, 0, 4 * PG));
	/* Empty RESET is fine; mapping again works. */
	ASSERT_EQ(0, vs_reset(self->d.fd));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 0, 4 * PG, 0));
	ASSERT_PAT(r, 4 * PG, 1, 0);
	/* Every placeholder was merged back: one vma per region (design trap 2). */
	ASSERT_EQ(0, vs_reset(self->d.fd));
	EXPECT_EQ(1, vs_maps_count(r, R0_PAGES * PG));
	EXPECT_EQ(1, vs_maps_count(self->d.r[2].addr, R3_PAGES * PG));
}

/* BATCH: each op gets the single ioctl's result; a failure stops nothing. */
TEST_F(api, batch)
{
	struct vhost_shmem_stats st0, st;
	struct vhost_shmem_op ops[7], bad[VHOST_SHMEM_BATCH_MAX + 1];
	struct vhost_shmem_batch b = { .ops = (uintptr_t)ops, .nops = 1 };
	uint8_t *r = R0(&self->d);

	ops[0] = vs_op_map(0, self->a, 0, 0, 4 * PG, VHOST_SHMEM_MAP_F_RW);
	ops[1] = vs_op_map(0, self->b, 0, 2 * PG, 4 * PG, 0);		/* overlaps 0 */
	ops[2] = vs_op_unmap(0, 8 * PG, 4 * PG);			/* nothing there */
	ops[3] = vs_op_unmap(0, 8 * PG, 4 * PG);
	ops[3].op = 99;
	ops[4] = vs_op_map(0, -1, 0, 20 * PG, PG, 0);
	ops[5] = vs_op_map(0, self->b, 0, 8 * PG, 2 * PG, 0);
	ops[6] = vs_op_unmap(0, 0, 4 * PG);				/* undoes 0 */
	ASSERT_EQ(0, vs_stats(self->d.fd, &st0));
	ASSERT_EQ(0, vs_batch(self->d.fd, ops, 7));
	EXPECT_EQ(0, ops[0].result);
	EXPECT_EQ(-EEXIST, ops[1].result);
	EXPECT_EQ(-ENOENT, ops[2].result);
	EXPECT_EQ(-EOPNOTSUPP, ops[3].result);
	EXPECT_EQ(-EBADF, ops[4].result);
	EXPECT_EQ(0, ops[5].result);
	EXPECT_EQ(0, ops[6].result);
	ASSERT_ZERO(r, 8 * PG);
	ASSERT_PAT(r + 8 * PG, 2 * PG, 2, 0);
	ASSERT_ZERO(r + 10 * PG, (R0_PAGES - 10) * PG);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(st0.mappings + 1, st.mappings);
	EXPECT_EQ(st0.maps + 2, st.maps);
	EXPECT_EQ(st0.unmaps + 1, st.unmaps);
	/* Three failed MAP/UNMAPs; the unknown op is neither. */
	EXPECT_EQ(st0.failures + 3, st.failures);

	/* A bad batch runs nothing and counts no failure. */
	memset(bad, 0, sizeof(bad));
	for (int i = 0; i <= VHOST_SHMEM_BATCH_MAX; i++)
		bad[i] = vs_op_unmap(0, 8 * PG, 2 * PG);
	EXPECT_EQ(-EINVAL, vs_batch(self->d.fd, bad, 0));
	EXPECT_EQ(-E2BIG, vs_batch(self->d.fd, bad, VHOST_SHMEM_BATCH_MAX + 1));
	b.padding = 1;
	EXPECT_EQ(-1, ioctl(self->d.fd, VHOST_SHMEM_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.padding = 0;
	b.ops = 8;
	EXPECT_EQ(-1, ioctl(self->d.fd, VHOST_SHMEM_BATCH, &b));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, bad[0].result);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(st0.failures + 3, st.failures);
	EXPECT_EQ(st0.mappings + 1, st.mappings);
	ASSERT_PAT(r + 8 * PG, 2 * PG, 2, 0);
}

/*
 * UNMAP puts the hole back exactly (one vma for one) and merges holes only
 * once 16 wait (VHOST_SHMEM_MAX_FRAGS), or when the region empties.
 */
TEST_F(api, unmap_merges_holes_later)
{
	uint8_t *r = R0(&self->d);
	int i;

	/* 21 mappings on even pages 0..40: 21 + 20 holes between + the tail. */
	for (i = 0; i <= 40; i += 2)
		ASSERT_EQ(0, vs_map(self->d.fd, 0, self->c, i * PG, i * PG, PG, 0));
	ASSERT_EQ(42, vs_maps_count(r, R0_PAGES * PG));
	/* 15 UNMAPs: each hole stays its own vma. */
	for (i = 2; i <= 30; i += 2)
		ASSERT_EQ(0, vs_unmap(self->d.fd, 0, i * PG, PG));
	EXPECT_EQ(42, vs_maps_count(r, R0_PAGES * PG));
	ASSERT_ZERO(r + PG, 30 * PG);
	/* The 16th merges them all: m0, hole 1-33, m34, h, m36, h, m38, h, m40, tail. */
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 32 * PG, PG));
	EXPECT_EQ(10, vs_maps_count(r, R0_PAGES * PG));
	ASSERT_ZERO(r + PG, 33 * PG);
	ASSERT_PAT(r + 34 * PG, PG, 3, 34 * PG);
	/* The last mapping gone: one vma again. */
	for (i = 34; i <= 40; i += 2)
		ASSERT_EQ(0, vs_unmap(self->d.fd, 0, i * PG, PG));
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 0, PG));
	EXPECT_EQ(1, vs_maps_count(r, R0_PAGES * PG));
	ASSERT_ZERO(r, R0_PAGES * PG);
}

/* Random MAP/UNMAP churn: once the last mapping is gone, one vma again. */
TEST_F(api, placeholder_merge)
{
	uint8_t live[R0_PAGES] = { 0 };
	unsigned int seed = 12345;
	int i, n = 0;

	for (i = 0; i < 1000; i++) {
		int p;

		seed = seed * 1103515245 + 12345;
		p = (seed >> 8) % R0_PAGES;
		if (live[p]) {
			ASSERT_EQ(0, vs_unmap(self->d.fd, 0, p * PG, PG));
			live[p] = 0;
			n--;
		} else {
			ASSERT_EQ(0, vs_map(self->d.fd, 0, self->c, p * PG, p * PG, PG,
					    p & 1 ? VHOST_SHMEM_MAP_F_RW : 0));
			live[p] = 1;
			n++;
		}
	}
	for (i = 0; i < R0_PAGES; i++) {
		if (live[i])
			ASSERT_PAT(R0(&self->d) + i * PG, PG, 3, i * PG);
		else
			ASSERT_ZERO(R0(&self->d) + i * PG, PG);
	}
	for (i = 0; i < R0_PAGES; i++)
		if (live[i])
			ASSERT_EQ(0, vs_unmap(self->d.fd, 0, i * PG, PG));
	ASSERT_ZERO(R0(&self->d), R0_PAGES * PG);
	EXPECT_EQ(1, vs_maps_count(R0(&self->d), R0_PAGES * PG));
	TH_LOG("%d mappings were live at the end of the churn", n);
}

/* The FAULT_HOLES region: mapped pages readable, neighbours and holes SIGBUS. */
TEST_F(api, fault_holes_map)
{
	uint8_t *r = R1(&self->d);

	ASSERT_EQ(0, vs_map(self->d.fd, 1, self->a, PG, 4 * PG, 2 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_PAT(r + 4 * PG, 2 * PG, 1, PG);
	EXPECT_EQ(0, vs_probe_write(r + 4 * PG, 3));
	EXPECT_EQ(SIGBUS, vs_probe_read(r + 3 * PG, NULL));
	EXPECT_EQ(SIGBUS, vs_probe_read(r + 6 * PG, NULL));
	ASSERT_EQ(0, vs_unmap(self->d.fd, 1, 4 * PG, 2 * PG));
	EXPECT_EQ(SIGBUS, vs_probe_read(r + 4 * PG, NULL));
	EXPECT_EQ(SIGBUS, vs_probe_write(r + 5 * PG, 1));
}

/* Fork: the child inherits the fd, not the region (VM_DONTCOPY). */
TEST_F(api, fork_child)
{
	uint8_t *r = R0(&self->d);
	int status;
	pid_t pid;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 0, 2 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 0, 2 * PG, 2 * PG, 0));

	/* A child touching a hole, a RW and a RO mapping gets SIGSEGV. */
	for (int off = 0; off < 3; off++) {
		uint64_t at[] = { 10 * PG, 0, 2 * PG };

		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			signal(SIGSEGV, SIG_DFL);
			signal(SIGBUS, SIG_DFL);
			(void)*(volatile uint8_t *)(r + at[off]);
			_exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (!WIFSIGNALED(status))
			TH_LOG("child read region offset %#llx without fault",
			       (unsigned long long)at[off]);
		ASSERT_TRUE(WIFSIGNALED(status));
		EXPECT_EQ(SIGSEGV, WTERMSIG(status));
	}

	/* The inherited fd works for MAP/UNMAP: the owner sees the result. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int e1 = vs_unmap(self->d.fd, 0, 0, 2 * PG);
		int e2 = vs_map(self->d.fd, 0, self->c, 4 * PG, 8 * PG, 2 * PG, 0);

		/* The child cannot mmap the region itself. */
		void *p = mmap(NULL, R0_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			       self->d.fd, self->d.r[0].offset);
		_exit(e1 || e2 ? 1 : p != MAP_FAILED ? 2 : errno != EPERM ? 3 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_ZERO(r, 2 * PG);
	ASSERT_PAT(r + 2 * PG, 2 * PG, 2, 0);
	ASSERT_PAT(r + 8 * PG, 2 * PG, 3, 4 * PG);
}

/*
 * mremap cannot grow or move the region: it stays intact, but an attempt
 * to move it detaches it (the device cannot tell a refused move from a
 * done one), so MAP into it is ENXIO from then on.
 */
TEST_F(api, mremap_refused)
{
	uint8_t *r = R0(&self->d);
	void *p, *dst;

	p = mremap(r, R0_PAGES * PG, 2 * R0_PAGES * PG, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, p);
	TH_LOG("grow: %s", p == MAP_FAILED ? strerror(errno) : "succeeded");
	p = mremap(r, R0_PAGES * PG, 2 * R0_PAGES * PG, 0);
	EXPECT_EQ(MAP_FAILED, p);
	/* A refused grow moves nothing: the region still works. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 4 * PG, PG, 0));
	ASSERT_PAT(r + 4 * PG, PG, 1, 0);
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 4 * PG, PG));
	dst = mmap(NULL, R0_PAGES * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	p = mremap(r, R0_PAGES * PG, R0_PAGES * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* Moving one placeholder page out of the middle is refused too. */
	p = mremap(r + 4 * PG, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	munmap(dst, R0_PAGES * PG);
	EXPECT_TRUE(vs_maps_covered(r, R0_PAGES * PG));
	ASSERT_ZERO(r, R0_PAGES * PG);
	EXPECT_EQ(-ENXIO, vs_map(self->d.fd, 0, self->a, 0, 4 * PG, PG, 0));
	ASSERT_ZERO(r + 4 * PG, PG);
	/* Other regions are not affected. */
	ASSERT_EQ(0, vs_map(self->d.fd, 3, self->a, 0, 0, PG, 0));
	ASSERT_PAT(self->d.r[2].addr, PG, 1, 0);
}

/*
 * The owner mmapped over part of the region: the region is detached. MAP
 * and UNMAP of it fail with ENXIO and never touch it again; RESET takes the
 * backend files out (no placeholder back) and leaves the owner's own page.
 */
TEST_F(api, foreign_vma)
{
	uint8_t *r = R0(&self->d);
	struct vhost_shmem_stats st0, st;
	void *p;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 0, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 0, 40 * PG, 4 * PG, 0));
	p = mmap(r + 20 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(r + 20 * PG, p);
	r[20 * PG] = 0x66;
	ASSERT_EQ(0, vs_stats(self->d.fd, &st0));

	EXPECT_EQ(-ENXIO, vs_map(self->d.fd, 0, self->c, 0, 20 * PG, PG, 0));
	EXPECT_EQ(-ENXIO, vs_map(self->d.fd, 0, self->c, 0, 10 * PG, 2 * PG, 0));
	EXPECT_EQ(-ENXIO, vs_unmap(self->d.fd, 0, 40 * PG, 4 * PG));
	EXPECT_EQ(0x66, r[20 * PG]);
	ASSERT_ZERO(r + 10 * PG, 2 * PG);
	ASSERT_PAT(r, 4 * PG, 1, 0);
	ASSERT_PAT(r + 40 * PG, 4 * PG, 2, 0);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(st0.mappings, st.mappings);
	EXPECT_EQ(st0.failures + 3, st.failures);
	/* RESET takes both files out of the owner's mm, and nothing else. */
	ASSERT_EQ(0, vs_reset(self->d.fd));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(0, vs_maps_count(r, 4 * PG));
	EXPECT_EQ(0, vs_maps_count(r + 40 * PG, 4 * PG));
	EXPECT_EQ(0x66, r[20 * PG]);
	EXPECT_TRUE(vs_maps_covered(r + 4 * PG, 16 * PG));
}

/*
 * The owner mapped its own page over the middle of an installed mapping:
 * the region is detached, and RESET must take out only the backend's
 * vmas, never the owner's page. It cannot without do_munmap of pieces, so
 * it leaves that mapping where it is, listed, and reports EBUSY; once the
 * owner gave its page up, RESET finishes.
 */
TEST_F(api, foreign_vma_inside_mapping)
{
	uint8_t *r = R0(&self->d);
	struct vhost_shmem_stats st;
	uint8_t v = 0;
	void *p;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, 0, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 0, 40 * PG, 4 * PG, 0));
	p = mmap(r + 41 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(r + 41 * PG, p);
	r[41 * PG + 9] = 0x77;
	EXPECT_EQ(-ENXIO, vs_unmap(self->d.fd, 0, 40 * PG, 4 * PG));

	EXPECT_EQ(-EBUSY, vs_reset(self->d.fd));
	/* The owner's page is untouched. */
	EXPECT_EQ(0, vs_probe_read(r + 41 * PG + 9, &v));
	EXPECT_EQ(0x77, v);
	/* The mapping around it is still the backend's, and still listed. */
	ASSERT_PAT(r + 40 * PG, PG, 2, 0);
	ASSERT_PAT(r + 42 * PG, 2 * PG, 2, 2 * PG);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(1, st.mappings);
	EXPECT_EQ(4 * PG, st.mapped_bytes);
	/* The other one is gone, and no hole was put back there. */
	EXPECT_EQ(0, vs_maps_count(r, 4 * PG));

	ASSERT_EQ(0, munmap(r + 41 * PG, PG));
	EXPECT_EQ(0, vs_reset(self->d.fd));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(0, vs_maps_count(r + 40 * PG, 4 * PG));
}

/* Does /proc/self/maps show a vma at @addr whose path contains @what? */
static bool vma_path_has(const void *addr, const char *what)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx", &s, &e) == 2 &&
		    s <= (unsigned long)addr && (unsigned long)addr < e)
			found = strstr(line, what) != NULL;
	}
	fclose(f);
	return found;
}

/*
 * /dev/zero: a shared mmap of it swaps in a new shmem file, so the device
 * must find the mapping again by that file (UNMAP and RESET would refuse
 * a range holding a file they do not know). Read-only it is a private
 * zero mapping of its own. Both read zeros; RW keeps the owner's writes.
 */
TEST_F(api, dev_zero)
{
	int rw = open("/dev/zero", O_RDWR | O_CLOEXEC);
	int ro = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	uint8_t *r = R0(&self->d);
	struct vhost_shmem_stats st;
	int sig;

	ASSERT_LE(0, rw);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EACCES, vs_map(self->d.fd, 0, rw, 0, 4 * PG, 4 * PG, 0));
	EXPECT_EQ(-EACCES, vs_map(self->d.fd, 0, ro, 0, 4 * PG, 4 * PG, VHOST_SHMEM_MAP_F_RW));

	ASSERT_EQ(0, vs_map(self->d.fd, 0, rw, 0, 4 * PG, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	EXPECT_TRUE(vma_path_has(r + 4 * PG, "/dev/zero"));
	EXPECT_FALSE(vma_path_has(r + 4 * PG, "vhost-shmem"));
	ASSERT_ZERO(r + 4 * PG, 4 * PG);
	EXPECT_EQ(0, vs_probe_write(r + 5 * PG + 3, 0x42));
	EXPECT_EQ(0x42, r[5 * PG + 3]);
	ASSERT_EQ(0, vs_map(self->d.fd, 0, ro, 0, 10 * PG, 2 * PG, 0));
	ASSERT_ZERO(r + 10 * PG, 2 * PG);
	sig = vs_probe_write(r + 10 * PG, 1);
	EXPECT_TRUE(sig == SIGSEGV || sig == SIGBUS);
	EXPECT_EQ(-1, mprotect(r + 10 * PG, 2 * PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);

	/* UNMAP finds each by the file its mmap installed. */
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 4 * PG, 4 * PG));
	ASSERT_ZERO(r + 4 * PG, 4 * PG);
	EXPECT_EQ(SIGBUS, vs_probe_write(r + 5 * PG, 1));
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 10 * PG, 2 * PG));
	EXPECT_EQ(SIGBUS, vs_probe_write(r + 10 * PG, 1));
	/* And RESET. */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, rw, 0, 20 * PG, PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, ro, 0, 30 * PG, PG, 0));
	ASSERT_EQ(0, vs_reset(self->d.fd));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(1, vs_maps_count(r, R0_PAGES * PG));
	EXPECT_EQ(SIGBUS, vs_probe_write(r + 20 * PG, 1));
	close(rw);
	close(ro);
}

/* An mprotect'ed hole is the owner's: EXDEV, and the region stays usable. */
TEST_F(api, mprotected_hole)
{
	uint8_t *r = R0(&self->d);

	ASSERT_EQ(0, mprotect(r + 20 * PG, PG, PROT_NONE));
	EXPECT_EQ(-EXDEV, vs_map(self->d.fd, 0, self->c, 0, 20 * PG, PG, 0));
	EXPECT_EQ(-EXDEV, vs_map(self->d.fd, 0, self->c, 0, 16 * PG, 8 * PG, 0));
	EXPECT_EQ(SIGSEGV, vs_probe_read(r + 20 * PG, NULL));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->c, 0, 10 * PG, 2 * PG, 0));
	ASSERT_PAT(r + 10 * PG, 2 * PG, 3, 0);
	/* RESET merges the holes but keeps the owner's protection. */
	ASSERT_EQ(0, vs_reset(self->d.fd));
	EXPECT_EQ(SIGSEGV, vs_probe_read(r + 20 * PG, NULL));
	ASSERT_ZERO(r + 10 * PG, 2 * PG);
}

/*
 * The owner unmapped part of the region: it is detached. MAP and UNMAP
 * fail with ENXIO; nothing is ever installed into the freed address space
 * (it may be the owner's malloc arena by now), not even by RESET.
 */
TEST_F(api, munmapped_part)
{
	uint8_t *r = R0(&self->d);
	struct vhost_shmem_stats st0, st;

	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 0, 40 * PG, 4 * PG, 0));
	ASSERT_EQ(0, munmap(r + 20 * PG, 2 * PG));
	ASSERT_EQ(0, munmap(r + 42 * PG, PG));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st0));

	EXPECT_EQ(-ENXIO, vs_map(self->d.fd, 0, self->c, 0, 20 * PG, PG, 0));
	EXPECT_EQ(-ENXIO, vs_map(self->d.fd, 0, self->c, 0, 18 * PG, 8 * PG, 0));
	EXPECT_EQ(-ENXIO, vs_map(self->d.fd, 0, self->c, 0, 2 * PG, PG, 0));
	EXPECT_EQ(-ENXIO, vs_unmap(self->d.fd, 0, 40 * PG, 4 * PG));
	EXPECT_EQ(0, vs_maps_count(r + 20 * PG, 2 * PG));
	ASSERT_ZERO(r + 18 * PG, 2 * PG);
	ASSERT_PAT(r + 40 * PG, 2 * PG, 2, 0);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(st0.mappings, st.mappings);
	EXPECT_EQ(st0.failures + 4, st.failures);
	/* RESET: the file is gone, the gaps stay gaps. */
	ASSERT_EQ(0, vs_reset(self->d.fd));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(0, vs_maps_count(r + 20 * PG, 2 * PG));
	EXPECT_EQ(0, vs_maps_count(r + 40 * PG, 4 * PG));
	EXPECT_TRUE(vs_maps_covered(r, 20 * PG));
}

/* MAP keeps its own file reference; UNMAP/RESET drop it (Shmem returns). */
TEST_F(api, file_references)
{
	const uint64_t sz = 8UL << 20;	/* 8 MiB of shmem */
	const struct vs_layout l[] = { { .shmid = 0, .size = sz } };
	long base, mid, after;
	struct vs_dev d;
	int fd, nfds;

	ASSERT_EQ(0, vs_dev_setup(&d, l, 1, true));
	nfds = vs_count_fds();
	base = vs_meminfo_kb("Shmem");
	fd = vs_memfd("refs", sz, 5);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vs_map(d.fd, 0, fd, 0, 0, sz / 2, 0));
	ASSERT_EQ(0, vs_map(d.fd, 0, fd, sz / 2, sz / 2, sz / 2, VHOST_SHMEM_MAP_F_RW));
	close(fd);
	EXPECT_EQ(nfds, vs_count_fds());
	mid = vs_meminfo_kb("Shmem");
	EXPECT_LE(base + 7 * 1024, mid);
	/* Content still there through the device's reference. */
	ASSERT_PAT(d.r[0].addr + sz - PG, PG, 5, sz - PG);
	ASSERT_EQ(0, vs_unmap(d.fd, 0, 0, sz / 2));
	/* Half of it still mapped: the file lives. */
	ASSERT_PAT(d.r[0].addr + sz / 2, PG, 5, sz / 2);
	ASSERT_EQ(0, vs_reset(d.fd));
	after = vs_wait_shmem_below(base + 1024, 3000);
	TH_LOG("Shmem: %ld kB before, %ld with the memfd, %ld after RESET", base, mid, after);
	EXPECT_GE(base + 1024, after);
	EXPECT_EQ(nfds, vs_count_fds());
	vs_dev_close(&d);
}

/* MAP/UNMAP do not leak fds in the caller. */
TEST_F(api, no_fd_leak)
{
	int n0 = vs_count_fds(), i;

	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, vs_map(self->d.fd, 0, self->a, 0, (i % 60) * PG, 2 * PG,
				    VHOST_SHMEM_MAP_F_RW));
		ASSERT_EQ(-EEXIST, vs_map(self->d.fd, 0, self->a, 0, (i % 60) * PG, PG, 0));
		ASSERT_EQ(0, vs_unmap(self->d.fd, 0, (i % 60) * PG, 2 * PG));
	}
	EXPECT_EQ(n0, vs_count_fds());
}

/*
 * Two devices of one owner are independent: a MAP, UNMAP or RESET on one
 * never touches the other's region, table or counters, also at the same
 * offsets; a region of one device is a foreign vma for the other.
 */
TEST_F(api, two_devices)
{
	const struct vs_layout l[] = { { .shmid = 0, .size = R0_PAGES * PG } };
	const struct vs_layout l3[] = { { .shmid = 0, .size = 8 * PG } };
	struct vhost_shmem_stats st0, st;
	uint8_t *r = R0(&self->d), *r2, v;
	struct vs_snap snap;
	struct vs_dev d2, d3;
	void *p;

	ASSERT_EQ(0, vs_dev_setup(&d2, l, 1, true));
	r2 = d2.r[0].addr;
	/* The same range in both: no overlap, each sees its own file. */
	ASSERT_EQ(0, vs_map(d2.fd, 0, self->a, 0, 8 * PG, 4 * PG, 0));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 0, 8 * PG, 4 * PG, 0));
	ASSERT_PAT(r2 + 8 * PG, 4 * PG, 1, 0);
	ASSERT_PAT(r + 8 * PG, 4 * PG, 2, 0);

	/* MAP and UNMAP on A leave all of B as it was (bytes, vmas, counters). */
	ASSERT_EQ(0, vs_snap_take(&d2, 0, 0, R0_PAGES * PG, &snap));
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->c, 0, 20 * PG, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	ASSERT_PAT(r + 20 * PG, 4 * PG, 3, 0);
	ASSERT_SNAP_SAME(&d2, 0, &snap, 0);
	ASSERT_EQ(0, vs_unmap(self->d.fd, 0, 20 * PG, 4 * PG));
	ASSERT_SNAP_SAME(&d2, 0, &snap, 0);
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->c, 0, 20 * PG, 4 * PG, VHOST_SHMEM_MAP_F_RW));
	vs_snap_free(&snap);

	/* B knows nothing of A's mappings, and its failures are its own. */
	ASSERT_EQ(0, vs_stats(self->d.fd, &st0));
	EXPECT_EQ(-ENOENT, vs_unmap(d2.fd, 0, 20 * PG, 4 * PG));
	EXPECT_EQ(-EEXIST, vs_map(d2.fd, 0, self->c, 0, 10 * PG, PG, 0));
	EXPECT_EQ(-EBADSLT, vs_map(d2.fd, 3, self->c, 0, 0, PG, 0));
	ASSERT_PAT(r + 20 * PG, 4 * PG, 3, 0);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(st0.failures, st.failures);
	EXPECT_EQ(2, st.mappings);
	ASSERT_EQ(0, vs_stats(d2.fd, &st));
	EXPECT_EQ(1, st.mappings);
	EXPECT_EQ(3, st.failures);

	/* B's UNMAP and RESET of its own mapping at A's offsets leave A's. */
	ASSERT_EQ(0, vs_unmap(d2.fd, 0, 8 * PG, 4 * PG));
	ASSERT_ZERO(r2 + 8 * PG, 4 * PG);
	ASSERT_PAT(r + 8 * PG, 4 * PG, 2, 0);
	ASSERT_EQ(0, vs_map(d2.fd, 0, self->a, 0, 20 * PG, 4 * PG, 0));
	ASSERT_EQ(0, vs_reset(d2.fd));
	ASSERT_ZERO(r2, R0_PAGES * PG);
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(2, st.mappings);
	ASSERT_PAT(r + 8 * PG, 4 * PG, 2, 0);
	ASSERT_PAT(r + 20 * PG, 4 * PG, 3, 0);
	vs_dev_close(&d2);
	ASSERT_PAT(r + 8 * PG, 4 * PG, 2, 0);

	/*
	 * The owner mmaps device C's region over A's pages 56-63, where A
	 * has a mapping: A is detached, C works there, and A's RESET takes
	 * A's files out but never C's mapping in A's old range.
	 */
	ASSERT_EQ(0, vs_map(self->d.fd, 0, self->b, 4 * PG, 56 * PG, 4 * PG, 0));
	ASSERT_EQ(0, vs_dev_setup(&d3, l3, 1, false));
	p = mmap(r + 56 * PG, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, d3.fd,
		 (off_t)d3.r[0].offset);
	ASSERT_EQ(r + 56 * PG, p);
	d3.r[0].addr = p;
	ASSERT_EQ(0, vs_map(d3.fd, 0, self->a, 0, 0, 4 * PG, 0));
	ASSERT_PAT(r + 56 * PG, 4 * PG, 1, 0);
	EXPECT_EQ(-ENXIO, vs_map(self->d.fd, 0, self->c, 0, 30 * PG, PG, 0));
	EXPECT_EQ(0, vs_reset(self->d.fd));
	ASSERT_EQ(0, vs_stats(self->d.fd, &st));
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(0, vs_maps_count(r + 8 * PG, 4 * PG));
	EXPECT_EQ(0, vs_probe_read(r + 56 * PG, &v));
	ASSERT_PAT(r + 56 * PG, 4 * PG, 1, 0);
	ASSERT_ZERO(r + 60 * PG, 4 * PG);
	ASSERT_EQ(0, vs_stats(d3.fd, &st));
	EXPECT_EQ(1, st.mappings);
	ASSERT_EQ(0, vs_unmap(d3.fd, 0, 0, 4 * PG));
	ASSERT_ZERO(r + 56 * PG, 8 * PG);
	vs_dev_close(&d3);
}

TEST_HARNESS_MAIN
