/*
 * guest/syncdev.c - the synchronous device (guest-physical 0xFE000000, the
 * README's "The synchronous device") read back from the guest: its identity,
 * the register file at every access size, the served count, STATUS and the
 * error rules, the CHECKSUM the service core computes, and the statistics
 * registers after a SNAPSHOT (events signalled by NOTIFY hypercalls, then
 * handled: events, signals, service cycles, latency percentiles).
 *
 * Command line: inline=0|1 (default 0): whether STATUS must say the device ran
 * on the vCPU's own CPU (a single CPU); latency=0|1 (default 0): whether the
 * hypervisor samples latency (its latency= key), which the statistics must
 * show. Prints "syncdev: ..." lines with the figures.
 */
#include "lib/guest.h"

#define SD                 0xfe000000u
#define SD_ID              0x000
#define SD_VERSION         0x004
#define SD_STATUS          0x008
#define SD_COMMAND         0x00c
#define SD_SERVED          0x010
#define SD_ERRORS          0x018
#define SD_CHECKSUM        0x01c
#define SD_STAT_EVENTS     0x040
#define SD_STAT_SIGNALS    0x048
#define SD_STAT_CYCLES     0x050
#define SD_STAT_SAMPLES    0x058
#define SD_STAT_P50        0x060
#define SD_STAT_P99        0x068
#define SD_STAT_MAX        0x070
#define SD_STAT_CALLS      0x078
#define SD_REG0            0x100
#define SD_REGS            64

#define SD_MAGIC           0x434e5953u		/* "SYNC" */
#define ST_READY           BIT(0)
#define ST_WRITE           BIT(1)
#define ST_ERROR           BIT(2)
#define ST_INLINE          BIT(3)
#define CMD_SNAPSHOT       1
#define CMD_CLEAR          2
#define CMD_RESET          3

#define NOTIFY_EVENT       5
#define NOTIFY_COUNT       100

#define U(x)               ((unsigned long long)(x))	/* for printf */

static u64 want_inline, want_latency;

static u32 rd32(u32 off) { return mmio_read32(SD + off); }
static void wr32(u32 off, u32 v) { mmio_write32(SD + off, v); }

/* A 64-bit register as two 32-bit reads (low half first). */
static u64 rd64(u32 off)
{
	u64 lo = rd32(off);
	return lo | (u64)rd32(off + 4) << 32;
}

static void test_identity(void)
{
	CHECK_EQ(rd32(SD_ID), SD_MAGIC);
	CHECK_EQ(mmio_read8(SD + SD_ID), 'S');
	CHECK_EQ(mmio_read16(SD + SD_ID + 2), 'N' | 'C' << 8);
	CHECK_EQ(rd32(SD_VERSION), 1);
	u32 st = rd32(SD_STATUS);
	CHECK(st & ST_READY);
	CHECK_EQ(!!(st & ST_INLINE), want_inline);
	printf("syncdev: STATUS 0x%x: served on CPU %u (%s)\n", st, (st >> 8) & 0xff,
	       st & ST_INLINE ? "inline: the vCPU's own CPU" : "the service core");
}

static void test_register_file(void)
{
	u32 sum = 0;

	wr32(SD_COMMAND, CMD_RESET);
	CHECK_EQ(rd32(SD_CHECKSUM), 0);
	for (u32 i = 0; i < SD_REGS; i++) {
		u32 v = 0x9e3779b9u * (i + 1);
		wr32(SD_REG0 + 4 * i, v);
		sum += v;
	}
	for (u32 i = 0; i < SD_REGS; i++)
		CHECK_EQ(rd32(SD_REG0 + 4 * i), 0x9e3779b9u * (i + 1));
	CHECK_EQ(rd32(SD_CHECKSUM), sum);	/* computed by the device */
	/* Narrow accesses, little-endian. */
	wr32(SD_REG0, 0x11223344u);
	CHECK_EQ(mmio_read8(SD + SD_REG0 + 1), 0x33);
	CHECK_EQ(mmio_read16(SD + SD_REG0 + 2), 0x1122);
	mmio_write8(SD + SD_REG0 + 3, 0xab);
	mmio_write16(SD + SD_REG0, 0xcdef);
	CHECK_EQ(rd32(SD_REG0), 0xab22cdefu);
#ifdef __x86_64__
	/* A quadword: two registers in one request. */
	*(volatile u64 *)(uintptr_t)(SD + SD_REG0 + 8) = 0x0123456789abcdefull;
	CHECK_EQ(rd32(SD_REG0 + 8), 0x89abcdefu);
	CHECK_EQ(rd32(SD_REG0 + 12), 0x01234567u);
	CHECK_EQ(*(volatile u64 *)(uintptr_t)(SD + SD_REG0 + 8), 0x0123456789abcdefull);
	u64 served = *(volatile u64 *)(uintptr_t)(SD + SD_SERVED);
	CHECK_EQ(rd32(SD_SERVED), (u32)(served + 1));
#endif
	wr32(SD_COMMAND, CMD_RESET);
	CHECK_EQ(rd32(SD_CHECKSUM), 0);
	CHECK_EQ(rd32(SD_REG0 + 4 * 63), 0);
}

/* Every access is one request; SERVED counts those before the read. */
static void test_served(void)
{
	u64 a = rd64(SD_SERVED);	/* two requests */
	for (u32 i = 0; i < 10; i++)
		wr32(SD_REG0 + 4 * i, i);
	u64 b = rd64(SD_SERVED);
	CHECK_EQ(b - a, 2 + 10);
	CHECK(a > 0);
	printf("syncdev: %llu requests served so far\n", U(b));
}

static void test_status_and_errors(void)
{
	wr32(SD_COMMAND, CMD_CLEAR);
	u32 errors = rd32(SD_ERRORS);
	wr32(SD_REG0, 7);
	CHECK(rd32(SD_STATUS) & ST_WRITE);	/* the previous request */
	CHECK(!(rd32(SD_STATUS) & ST_WRITE));
	CHECK(!(rd32(SD_STATUS) & ST_ERROR));
	CHECK_EQ(rd32(SD_REG0 + 2), 0);		/* misaligned: an error, reads 0 */
	wr32(SD_ID, 0);				/* read-only */
	CHECK_EQ(rd32(0x800), 0);		/* no register there */
	CHECK_EQ(rd32(SD_ERRORS), errors + 3);
	CHECK(rd32(SD_STATUS) & ST_ERROR);
	CHECK_EQ(rd32(SD_ID), SD_MAGIC);
	CHECK_EQ(rd32(SD_REG0), 7);
	wr32(SD_COMMAND, CMD_CLEAR);
	CHECK(!(rd32(SD_STATUS) & ST_ERROR));
	CHECK_EQ(rd32(SD_ERRORS), errors + 3);
}

/* The VM's service statistics: NOTIFY_COUNT signals of one event, read back
 * by EVENT_READ (which waits until they are handled), then a SNAPSHOT. */
static void test_statistics(void)
{
	for (u32 i = 0; i < NOTIFY_COUNT; i++)
		CHECK_EQ(hypercall(HC_NOTIFY, NOTIFY_EVENT, 0, 0, 0), 0);
	CHECK_EQ(hypercall(HC_EVENT_READ, NOTIFY_EVENT, 0, 0, 0), NOTIFY_COUNT);
	wr32(SD_COMMAND, CMD_SNAPSHOT);
	u64 events = rd64(SD_STAT_EVENTS), signals = rd64(SD_STAT_SIGNALS);
	u64 cycles = rd64(SD_STAT_CYCLES), samples = rd64(SD_STAT_SAMPLES);
	u64 p50 = rd64(SD_STAT_P50), p99 = rd64(SD_STAT_P99), max = rd64(SD_STAT_MAX);
	u64 calls = rd64(SD_STAT_CALLS);

	CHECK_EQ(signals, NOTIFY_COUNT);
	CHECK(events >= 1 && events <= NOTIFY_COUNT);
	CHECK(calls > 10);			/* every access before this one */
	if (want_latency) {
		CHECK_EQ(samples, events);
		CHECK(cycles > 0);
		CHECK(p50 > 0 && p50 <= p99 && p99 <= max);
	} else {
		CHECK_EQ(samples, 0);
		CHECK_EQ(cycles, 0);
		CHECK_EQ(max, 0);
	}
	/* The snapshot holds still until the next SNAPSHOT. */
	CHECK_EQ(rd64(SD_STAT_SIGNALS), signals);
	printf("syncdev: %llu signals, %llu events handled, %llu service cycles "
	       "(%llu per event), latency p50 %llu p99 %llu max %llu (%llu samples), "
	       "%llu synchronous calls\n", U(signals), U(events), U(cycles),
	       U(events ? cycles / events : 0), U(p50), U(p99), U(max), U(samples), U(calls));
}

/* What one synchronous access costs the guest (the heavyweight baseline). */
static void test_round_trip(void)
{
	const u32 n = 200;
	u32 sink = 0;
	u64 t0 = rdtsc();
	for (u32 i = 0; i < n; i++)
		sink += rd32(SD_ID);
	u64 t1 = rdtsc();
	CHECK_EQ(sink, SD_MAGIC * n);
	printf("syncdev: %u reads, %llu cycles per read\n", n, U((t1 - t0) / n));
}

static const struct guest_test tests[] = {
	{ "syncdev_identity",       test_identity,          GUEST_TEST_NEEDS_DOORBELL },
	{ "syncdev_register_file",  test_register_file,     GUEST_TEST_NEEDS_DOORBELL },
	{ "syncdev_served",         test_served,            GUEST_TEST_NEEDS_DOORBELL },
	{ "syncdev_status_errors",  test_status_and_errors, GUEST_TEST_NEEDS_DOORBELL },
	{ "syncdev_statistics",     test_statistics,        GUEST_TEST_NEEDS_DOORBELL },
	{ "syncdev_round_trip",     test_round_trip,        GUEST_TEST_NEEDS_DOORBELL },
};

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	(void)magic;
	mb_cmdline_value(mbi, "inline", &want_inline);
	mb_cmdline_value(mbi, "latency", &want_latency);
	guest_run_tests(tests, ARRAY_SIZE(tests));
}
