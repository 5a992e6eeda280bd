/* Host tests for iobus/ioeventfd.c: every KVM ioeventfd rule with its exact
 * errno, hit matching, the per-VM capacity, rollback under injected
 * allocation failures, EPT page marking, the command-line spec, a pthread
 * test, and a seeded random model check against a naive reference list. */
#include "iobus/epoch.c"
#include "iobus/iobus.c"
#include "iobus/iofast.c"
#include "iobus/ioeventfd.c"
#include "lib/fmt.c"
#include "tests/host/test.h"

#include <pthread.h>
#include <time.h>

#include "tests/host/talloc.h"

/* ---- fixture: a table whose hooks record what happened ---------------- */

#define MAX_MARKED 512

struct efx {
	struct talloc al;
	struct iobus_mem mem;
	struct ioeventfd_table t;
	int nsig;
	s32 last_event;
	u64 marked[MAX_MARKED];
	int nmarked, mark_calls, unmark_calls, hook_errors;
};

static void fx_signal(void *ctx, s32 event)
{
	struct efx *f = ctx;
	f->nsig++;
	f->last_event = event;
}

static void fx_mark(void *ctx, u64 page)
{
	struct efx *f = ctx;

	f->mark_calls++;
	for (int i = 0; i < f->nmarked; i++)
		if (f->marked[i] == page)
			f->hook_errors++;	/* marked twice */
	if (page % PAGE_SIZE || f->nmarked == MAX_MARKED)
		f->hook_errors++;
	else
		f->marked[f->nmarked++] = page;
}

static void fx_unmark(void *ctx, u64 page)
{
	struct efx *f = ctx;

	f->unmark_calls++;
	for (int i = 0; i < f->nmarked; i++) {
		if (f->marked[i] == page) {
			f->marked[i] = f->marked[--f->nmarked];
			return;
		}
	}
	f->hook_errors++;	/* unmarked what was not marked */
}

static bool fx_is_marked(const struct efx *f, u64 page)
{
	for (int i = 0; i < f->nmarked; i++)
		if (f->marked[i] == page)
			return true;
	return false;
}

static void fx_init(struct efx *f, bool pool)
{
	struct ioeventfd_hooks hooks;

	memset(f, 0, sizeof(*f));
	f->al.pool = pool;
	f->mem = (struct iobus_mem){ t_alloc, t_free, &f->al };
	hooks = (struct ioeventfd_hooks){ fx_signal, fx_mark, fx_unmark, f };
	ioeventfd_table_init(&f->t, &f->mem, &hooks);
	f->last_event = -1;
}

/* Tears down; returns the blocks leaked plus hook misuse plus frees of the
 * wrong size (0 expected). */
static long fx_fini(struct efx *f)
{
	ioeventfd_table_destroy(&f->t);
	for (int i = 0; i < 4; i++)
		free(f->al.cache[i]);
	return f->al.live + f->hook_errors + f->al.bad_frees;
}

#define F_DM    DOORBELL_IOEVENTFD_FLAG_DATAMATCH
#define F_PIO   DOORBELL_IOEVENTFD_FLAG_PIO
#define F_DEA   DOORBELL_IOEVENTFD_FLAG_DEASSIGN
#define W       IOEVENTFD_DEFAULT_WINDOW_BASE
#define WSIZE   IOEVENTFD_DEFAULT_WINDOW_SIZE

static struct doorbell_ioeventfd mk(u64 flags, u64 addr, u32 len, s32 event,
				    u64 dm)
{
	struct doorbell_ioeventfd d;
	memset(&d, 0, sizeof(d));
	d.flags = (u32)flags;
	d.addr = addr;
	d.len = len;
	d.event = event;
	d.datamatch = dm;
	return d;
}

static int as(struct efx *f, u64 flags, u64 addr, u32 len, s32 ev, u64 dm)
{
	struct doorbell_ioeventfd d = mk(flags, addr, len, ev, dm);
	return ioeventfd_ioctl(&f->t, &d);
}

static int de(struct efx *f, u64 flags, u64 addr, u32 len, s32 ev, u64 dm)
{
	struct doorbell_ioeventfd d = mk(flags | F_DEA, addr, len, ev, dm);
	return ioeventfd_ioctl(&f->t, &d);
}

/* A guest write of len bytes of value on bus; clears the signal record. */
static int wr(struct efx *f, u32 bus, u64 addr, u32 len, u64 value)
{
	f->nsig = 0;
	f->last_event = -1;
	return iobus_write(&f->t.buses[bus], addr, len, len ? &value : NULL);
}

/* The write hit exactly event. */
#define CHECK_HIT(f, bus, addr, len, value, event)                           \
	do {                                                                 \
		CHECK_EQ(wr(f, bus, addr, len, value), 0);                   \
		CHECK_EQ((f)->nsig, 1);                                      \
		CHECK_EQ((f)->last_event, event);                            \
	} while (0)

/* The write was no doorbell's (and nothing else is on these buses). */
#define CHECK_MISS(f, bus, addr, len, value)                                 \
	do {                                                                 \
		CHECK_EQ(wr(f, bus, addr, len, value), -EOPNOTSUPP);         \
		CHECK_EQ((f)->nsig, 0);                                      \
	} while (0)

/* ---- ABI ------------------------------------------------------------------ */

TEST(test_struct_layout)
{
	CHECK_EQ(sizeof(struct doorbell_ioeventfd), 64);
	CHECK_EQ(offsetof(struct doorbell_ioeventfd, datamatch), 0);
	CHECK_EQ(offsetof(struct doorbell_ioeventfd, addr), 8);
	CHECK_EQ(offsetof(struct doorbell_ioeventfd, len), 16);
	CHECK_EQ(offsetof(struct doorbell_ioeventfd, event), 20);
	CHECK_EQ(offsetof(struct doorbell_ioeventfd, flags), 24);
	CHECK_EQ(offsetof(struct doorbell_ioeventfd, pad), 28);
	CHECK_EQ(F_DM, 1);
	CHECK_EQ(F_PIO, 2);
	CHECK_EQ(F_DEA, 4);
	/* Exactly 65,536 doorbells fit on one bus besides the devices. */
	CHECK_EQ(IOBUS_MAX_RANGES, IOEVENTFD_MAX + IOBUS_DEVICE_SLOTS);
	CHECK_EQ(IOEVENTFD_MAX, 65536);
}

/* ---- assign: the -EINVAL, -EBADF and -EPERM rules ----------------------- */

TEST(test_einval_rules)
{
	struct efx f;
	u32 bad_len[] = { 3, 5, 6, 7, 9, 16, 0xffffffffu };

	fx_init(&f, false);
	/* Unknown flags, assign and deassign alike. */
	CHECK_EQ(as(&f, BIT(3), W, 4, 1, 0), -EINVAL);
	CHECK_EQ(as(&f, BIT(31), W, 4, 1, 0), -EINVAL);
	CHECK_EQ(de(&f, BIT(3), W, 4, 1, 0), -EINVAL);
	/* Lengths other than 0, 1, 2, 4, 8. */
	for (u32 i = 0; i < ARRAY_SIZE(bad_len); i++) {
		CHECK_EQ(as(&f, 0, W, bad_len[i], 1, 0), -EINVAL);
		CHECK_EQ(as(&f, F_PIO, 0x100, bad_len[i], 1, 0), -EINVAL);
	}
	/* addr + len wraps. */
	CHECK_EQ(as(&f, 0, 0xfffffffffffffffcull, 4, 1, 0), -EINVAL);
	CHECK_EQ(as(&f, 0, 0xfffffffffffffffcull, 8, 1, 0), -EINVAL);
	CHECK_EQ(as(&f, 0, UINT64_MAX, 1, 1, 0), -EINVAL);
	CHECK_EQ(as(&f, F_PIO, UINT64_MAX, 2, 1, 0), -EINVAL);
	/* ...but the last byte itself is fine (it fails the window). */
	CHECK_EQ(as(&f, 0, 0xfffffffffffffffcull, 2, 1, 0), -EPERM);
	CHECK_EQ(as(&f, 0, UINT64_MAX, 0, 1, 0), -EPERM);
	/* Length 0 only for MMIO without DATAMATCH. */
	CHECK_EQ(as(&f, F_PIO, 0x100, 0, 1, 0), -EINVAL);
	CHECK_EQ(as(&f, F_DM, W, 0, 1, 0), -EINVAL);
	CHECK_EQ(as(&f, F_DM | F_PIO, 0x100, 0, 1, 0), -EINVAL);
	/* -EINVAL comes before -EBADF and -EPERM. */
	CHECK_EQ(as(&f, 0, 0, 3, -1, 0), -EINVAL);
	CHECK_EQ(as(&f, BIT(5), W, 4, 5000, 0), -EINVAL);
	CHECK_EQ(f.t.count, 0);
	CHECK_EQ(iobus_count(&f.t.buses[IOBUS_MMIO]), 0);
	CHECK_EQ(fx_fini(&f), 0);
}

TEST(test_ebadf_rules)
{
	struct efx f;

	fx_init(&f, false);
	CHECK_EQ(as(&f, 0, W, 4, -1, 0), -EBADF);
	CHECK_EQ(as(&f, 0, W, 4, 1024, 0), -EBADF);
	CHECK_EQ(as(&f, 0, W, 4, INT32_MIN, 0), -EBADF);
	CHECK_EQ(as(&f, 0, W, 4, INT32_MAX, 0), -EBADF);
	/* -EBADF before -EPERM. */
	CHECK_EQ(as(&f, 0, 0, 4, 1024, 0), -EBADF);
	CHECK_EQ(as(&f, 0, W, 4, 0, 0), 0);
	CHECK_EQ(as(&f, 0, W + 8, 4, 1023, 0), 0);
	CHECK_EQ(de(&f, 0, W, 4, -1, 0), -EBADF);
	CHECK_EQ(de(&f, 0, W, 4, 1024, 0), -EBADF);
	CHECK_EQ(de(&f, 0, W + 8, 4, 1023, 0), 0);
	CHECK_EQ(fx_fini(&f), 0);
}

TEST(test_eperm_mmio_window)
{
	struct efx f;

	fx_init(&f, false);
	CHECK_EQ(as(&f, 0, W - 1, 1, 1, 0), -EPERM);
	CHECK_EQ(as(&f, 0, W - 2, 4, 1, 0), -EPERM);	/* straddles the base */
	CHECK_EQ(as(&f, 0, W - 1, 0, 1, 0), -EPERM);
	CHECK_EQ(as(&f, 0, W, 0, 1, 0), 0);
	CHECK_EQ(as(&f, 0, W + WSIZE - 8, 8, 1, 0), 0);
	CHECK_EQ(as(&f, 0, W + WSIZE - 2, 4, 1, 0), -EPERM);
	CHECK_EQ(as(&f, 0, W + WSIZE - 1, 0, 1, 0), 0);	/* one byte */
	CHECK_EQ(as(&f, 0, W + WSIZE, 0, 1, 0), -EPERM);
	CHECK_EQ(as(&f, 0, 0xfee00000, 4, 1, 0), -EPERM);
	CHECK_EQ(as(&f, 0, 0, 4, 1, 0), -EPERM);
	/* The PIO flag picks the other policy for the same number. */
	CHECK_EQ(as(&f, F_PIO, W, 4, 1, 0), -EPERM);

	CHECK_EQ(ioeventfd_set_window(&f.t, 0x1000, 0), -EINVAL);
	CHECK_EQ(ioeventfd_set_window(&f.t, UINT64_MAX, 2), -EINVAL);
	CHECK_EQ(ioeventfd_set_window(&f.t, 0x1000, 0x10), 0);
	CHECK_EQ(as(&f, 0, 0x1000, 8, 2, 0), 0);
	CHECK_EQ(as(&f, 0, 0x1008, 8, 2, 0), 0);
	CHECK_EQ(as(&f, 0, 0x100c, 8, 2, 0), -EPERM);
	CHECK_EQ(as(&f, 0, 0x1010, 1, 2, 0), -EPERM);
	CHECK_EQ(as(&f, 0, 0xfff, 1, 2, 0), -EPERM);
	/* A window ending at 2^64 - 1 reaches the last byte. */
	CHECK_EQ(ioeventfd_set_window(&f.t, UINT64_MAX - 0xf, 0x10), 0);
	CHECK_EQ(as(&f, 0, UINT64_MAX, 0, 3, 0), 0);
	CHECK_EQ(as(&f, 0, UINT64_MAX - 7, 4, 3, 0), 0);
	CHECK_EQ(f.t.count, 7);	/* doorbells outlive a window change */
	CHECK_EQ(fx_fini(&f), 0);
}

TEST(test_eperm_pio_ports)
{
	struct efx f;
	/* Every port of the emulated devices, CONTRACTS.md 2. */
	u32 used[] = { 0x20, 0x21, 0xa0, 0xa1, 0xe0, 0xe1, 0xe2, 0xe3,
		       0xf4, 0xf5, 0xf6, 0xf7, 0x3f8, 0x3f9, 0x3fa, 0x3fb,
		       0x3fc, 0x3fd, 0x3fe, 0x3ff };

	fx_init(&f, false);
	for (u32 i = 0; i < ARRAY_SIZE(used); i++)
		CHECK_EQ(as(&f, F_PIO, used[i], 1, 1, 0), -EPERM);
	/* Neighbours are free; a range touching a used port is not. */
	CHECK_EQ(as(&f, F_PIO, 0x1f, 1, 1, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0x1e, 4, 1, 0), -EPERM);
	CHECK_EQ(as(&f, F_PIO, 0x22, 2, 1, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0x9e, 2, 1, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0x9f, 2, 1, 0), -EPERM);
	CHECK_EQ(as(&f, F_PIO, 0xdc, 4, 1, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0xe4, 4, 1, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0xf0, 4, 1, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0xf2, 4, 2, 0), -EPERM);
	CHECK_EQ(as(&f, F_PIO, 0xf8, 8, 1, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0x3f0, 8, 1, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0x3f4, 8, 1, 0), -EPERM);
	CHECK_EQ(as(&f, F_PIO, 0x400, 1, 1, 0), 0);
	/* The 16-bit port space ends at 0xffff. */
	CHECK_EQ(as(&f, F_PIO, 0xffff, 1, 1, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0xfffc, 4, 1, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0xfffe, 4, 3, 0), -EPERM);
	CHECK_EQ(as(&f, F_PIO, 0x10000, 1, 1, 0), -EPERM);
	CHECK_EQ(as(&f, F_PIO, 0xd0000000, 4, 1, 0), -EPERM);
	/* More reserved ports. */
	CHECK_EQ(ioeventfd_reserve_ports(&f.t, 0x500, 0), -EINVAL);
	CHECK_EQ(ioeventfd_reserve_ports(&f.t, 0xffff, 2), -EINVAL);
	CHECK_EQ(ioeventfd_reserve_ports(&f.t, 0x10000, 1), -EINVAL);
	CHECK_EQ(ioeventfd_reserve_ports(&f.t, 0x500, 0x10), 0);
	CHECK_EQ(as(&f, F_PIO, 0x50f, 1, 1, 0), -EPERM);
	CHECK_EQ(as(&f, F_PIO, 0x510, 1, 1, 0), 0);
	while (f.t.reserved_count < IOEVENTFD_MAX_RESERVED)
		CHECK_EQ(ioeventfd_reserve_ports(&f.t, 0x600, 1), 0);
	CHECK_EQ(ioeventfd_reserve_ports(&f.t, 0x700, 1), -ENOSPC);
	CHECK_EQ(f.t.count, 12);
	CHECK_EQ(fx_fini(&f), 0);
}

/* ---- collisions (KVM's ioeventfd_check_collision) ---------------------- */

struct coll_case {
	u64 f1; u64 a1; u32 l1; u64 d1;	/* existing */
	u64 f2; u64 a2; u32 l2; u64 d2;	/* new */
	int want;
};

TEST(test_collision_rules)
{
	static const struct coll_case cases[] = {
		/* same len, both wildcard */
		{ 0, W, 4, 0,        0, W, 4, 0,            -EEXIST },
		/* same len, one wildcard (either way round) */
		{ 0, W, 4, 0,        F_DM, W, 4, 7,         -EEXIST },
		{ F_DM, W, 4, 7,     0, W, 4, 0,            -EEXIST },
		/* same len, equal datamatch */
		{ F_DM, W, 4, 7,     F_DM, W, 4, 7,         -EEXIST },
		/* same len, different datamatch */
		{ F_DM, W, 4, 7,     F_DM, W, 4, 8,         0 },
		/* the full 64-bit datamatch counts, even beyond len */
		{ F_DM, W, 1, 0xff,  F_DM, W, 1, 0x1ff,     0 },
		/* different len, both wildcard */
		{ 0, W, 2, 0,        0, W, 4, 0,            0 },
		{ 0, W, 8, 0,        F_DM, W, 1, 0,         0 },
		/* len 0 on either side */
		{ 0, W, 0, 0,        0, W, 4, 0,            -EEXIST },
		{ 0, W, 4, 0,        0, W, 0, 0,            -EEXIST },
		{ F_DM, W, 8, 5,     0, W, 0, 0,            -EEXIST },
		{ 0, W, 0, 0,        F_DM, W, 2, 3,         -EEXIST },
		{ 0, W, 0, 0,        0, W, 0, 0,            -EEXIST },
		/* a different address never collides, even overlapping */
		{ 0, W, 8, 0,        0, W + 4, 4, 0,        0 },
		{ 0, W, 0, 0,        0, W + 1, 0, 0,        0 },
		/* nor does the other bus at the same number */
		{ F_PIO, 0x1000, 4, 0,  0, 0x1000, 4, 0,    0 },
		{ 0, 0x1000, 0, 0,   F_PIO, 0x1000, 1, 0,   0 },
		{ F_PIO, 0x1000, 2, 0, F_PIO, 0x1000, 2, 0, -EEXIST },
		{ F_PIO | F_DM, 0x1000, 2, 1, F_PIO, 0x1000, 2, 0, -EEXIST },
		{ F_PIO | F_DM, 0x1000, 2, 1, F_PIO | F_DM, 0x1000, 2, 2, 0 },
	};

	for (u32 i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct coll_case *c = &cases[i];
		struct efx f;

		fx_init(&f, false);
		CHECK_EQ(ioeventfd_set_window(&f.t, 0, 1ull << 40), 0);
		CHECK_EQ(as(&f, c->f1, c->a1, c->l1, 1, c->d1), 0);
		/* The event id plays no part. */
		CHECK_EQ(as(&f, c->f2, c->a2, c->l2, 2, c->d2), c->want);
		if (c->want)
			CHECK_EQ(as(&f, c->f2, c->a2, c->l2, 1, c->d2), c->want);
		CHECK_EQ(f.t.count, c->want ? 1 : 2);
		if (c->want && f.t.count != 1)
			printf("  collision case %u\n", i);
		CHECK_EQ(fx_fini(&f), 0);
	}
}

/* ---- hits: address, size, datamatch ------------------------------------- */

TEST(test_hit_exact_address_and_size)
{
	struct efx f;
	u64 v = 0;

	fx_init(&f, false);
	CHECK_EQ(as(&f, 0, W + 0x10, 4, 5, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0x600, 2, 6, 0), 0);
	CHECK_HIT(&f, IOBUS_MMIO, W + 0x10, 4, 0x1234, 5);
	CHECK_HIT(&f, IOBUS_MMIO, W + 0x10, 4, 0, 5);
	CHECK_MISS(&f, IOBUS_MMIO, W + 0x10, 2, 0);	/* smaller */
	CHECK_MISS(&f, IOBUS_MMIO, W + 0x10, 1, 0);
	CHECK_MISS(&f, IOBUS_MMIO, W + 0x10, 8, 0);	/* larger */
	CHECK_MISS(&f, IOBUS_MMIO, W + 0x12, 2, 0);	/* inside, not at */
	CHECK_MISS(&f, IOBUS_MMIO, W + 0x11, 1, 0);
	CHECK_MISS(&f, IOBUS_MMIO, W + 0x0e, 4, 0);
	CHECK_MISS(&f, IOBUS_MMIO, W + 0x14, 4, 0);
	CHECK_MISS(&f, IOBUS_FAST_MMIO, W + 0x10, 0, 0);	/* sized: not fast */
	CHECK_MISS(&f, IOBUS_PIO, W + 0x10, 4, 0);
	CHECK_HIT(&f, IOBUS_PIO, 0x600, 2, 0xffff, 6);
	CHECK_MISS(&f, IOBUS_PIO, 0x600, 1, 0);
	CHECK_MISS(&f, IOBUS_PIO, 0x600, 4, 0);
	CHECK_MISS(&f, IOBUS_PIO, 0x601, 1, 0);
	CHECK_MISS(&f, IOBUS_MMIO, 0x600, 2, 0);
	/* Reads are never doorbells. */
	f.nsig = 0;
	CHECK_EQ(iobus_read(&f.t.buses[IOBUS_MMIO], W + 0x10, 4, &v), -EOPNOTSUPP);
	CHECK_EQ(iobus_read(&f.t.buses[IOBUS_PIO], 0x600, 2, &v), -EOPNOTSUPP);
	CHECK_EQ(f.nsig, 0);
	CHECK_EQ(fx_fini(&f), 0);
}

TEST(test_datamatch_truncation)
{
	struct efx f;

	fx_init(&f, false);
	CHECK_EQ(as(&f, F_DM, W + 0x00, 1, 1, 0x5a), 0);
	CHECK_EQ(as(&f, F_DM, W + 0x10, 2, 2, 0xbeef), 0);
	CHECK_EQ(as(&f, F_DM, W + 0x20, 4, 4, 0xdeadbeef), 0);
	CHECK_EQ(as(&f, F_DM, W + 0x30, 8, 8, 0x0123456789abcdefull), 0);
	CHECK_EQ(as(&f, F_DM, W + 0x40, 1, 9, 0x1ff), 0);	/* wider than len */
	CHECK_EQ(as(&f, F_DM | F_PIO, 0x700, 4, 10, 0x80000001), 0);
	/* Only the access's bytes are the value: bits above are not. */
	for (u32 mode = 0; mode < 2; mode++) {
		for (u32 b = 0; b < IOBUS_NR; b++)
			iobus_set_lookup(&f.t.buses[b], mode);
		CHECK_HIT(&f, IOBUS_MMIO, W, 1, 0x5a, 1);
		CHECK_HIT(&f, IOBUS_MMIO, W, 1, 0xffffffffffffff5aull, 1);
		CHECK_MISS(&f, IOBUS_MMIO, W, 1, 0x5b);
		CHECK_HIT(&f, IOBUS_MMIO, W + 0x10, 2, 0x1234beef, 2);
		CHECK_MISS(&f, IOBUS_MMIO, W + 0x10, 2, 0xbeee);
		CHECK_MISS(&f, IOBUS_MMIO, W + 0x10, 2, 0xbfef);
		CHECK_HIT(&f, IOBUS_MMIO, W + 0x20, 4, 0xffffffffdeadbeefull, 4);
		CHECK_MISS(&f, IOBUS_MMIO, W + 0x20, 4, 0xdeadbeee);
		CHECK_HIT(&f, IOBUS_MMIO, W + 0x30, 8, 0x0123456789abcdefull, 8);
		CHECK_MISS(&f, IOBUS_MMIO, W + 0x30, 8, 0x1123456789abcdefull);
		/* KVM compares the whole datamatch: 0x1ff never fits a byte. */
		CHECK_MISS(&f, IOBUS_MMIO, W + 0x40, 1, 0xff);
		CHECK_MISS(&f, IOBUS_MMIO, W + 0x40, 1, 0x1ff);
		CHECK_MISS(&f, IOBUS_MMIO, W + 0x40, 1, 0x01);
		CHECK_HIT(&f, IOBUS_PIO, 0x700, 4, 0x80000001, 10);
		CHECK_HIT(&f, IOBUS_PIO, 0x700, 4, 0x7780000001ull, 10);
		CHECK_MISS(&f, IOBUS_PIO, 0x700, 4, 0x1);
	}
	CHECK_EQ(fx_fini(&f), 0);
}

TEST(test_len0_any_size)
{
	struct efx f;

	fx_init(&f, false);
	CHECK_EQ(as(&f, 0, W + 0x40, 0, 7, 0x99), 0);	/* datamatch ignored */
	CHECK_EQ(iobus_count(&f.t.buses[IOBUS_MMIO]), 1);
	CHECK_EQ(iobus_count(&f.t.buses[IOBUS_FAST_MMIO]), 1);
	CHECK_EQ(f.t.count, 1);		/* one doorbell, two registrations */
	CHECK_HIT(&f, IOBUS_MMIO, W + 0x40, 1, 0, 7);
	CHECK_HIT(&f, IOBUS_MMIO, W + 0x40, 2, 0x99, 7);
	CHECK_HIT(&f, IOBUS_MMIO, W + 0x40, 4, 0xffffffff, 7);
	CHECK_HIT(&f, IOBUS_MMIO, W + 0x40, 8, 12345, 7);
	CHECK_HIT(&f, IOBUS_FAST_MMIO, W + 0x40, 0, 0, 7);
	CHECK_MISS(&f, IOBUS_MMIO, W + 0x41, 1, 0);
	CHECK_MISS(&f, IOBUS_MMIO, W + 0x3f, 2, 0);
	CHECK_MISS(&f, IOBUS_MMIO, W + 0x3c, 8, 0);
	CHECK_MISS(&f, IOBUS_FAST_MMIO, W + 0x41, 0, 0);
	CHECK_MISS(&f, IOBUS_FAST_MMIO, W + 0x3f, 0, 0);
	CHECK_MISS(&f, IOBUS_PIO, W + 0x40, 4, 0);
	/* Deassign removes both registrations. */
	CHECK_EQ(de(&f, 0, W + 0x40, 0, 7, 0x12), 0);
	CHECK_EQ(iobus_count(&f.t.buses[IOBUS_MMIO]), 0);
	CHECK_EQ(iobus_count(&f.t.buses[IOBUS_FAST_MMIO]), 0);
	CHECK_MISS(&f, IOBUS_FAST_MMIO, W + 0x40, 0, 0);
	CHECK_MISS(&f, IOBUS_MMIO, W + 0x40, 4, 0);
	CHECK_EQ(fx_fini(&f), 0);
}

/* A device of the hypervisor's on the MMIO bus, ahead of a doorbell in bus
 * order, sees the write first; a doorbell that misses passes it on. */
struct catcher {
	struct iobus_device dev;
	int writes;
	u64 accept;
};

static int catcher_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	struct catcher *c = (struct catcher *)d;
	u64 v = 0;

	(void)addr;
	memcpy(&v, val, len);
	c->writes++;
	return v == c->accept ? 0 : -EOPNOTSUPP;
}

static const struct iobus_device_ops catcher_ops = { .write = catcher_write };

TEST(test_bus_order_with_devices)
{
	struct efx f;
	struct catcher early = { { &catcher_ops }, 0, 0x77 };
	struct catcher late = { { &catcher_ops }, 0, 0x88 };

	fx_init(&f, false);
	/* early: [W, W + 0x100) sorts before a doorbell at W + 0x10;
	 * late: (W + 0x10, 8) sorts after the 4-byte doorbell there. */
	CHECK_EQ(iobus_register(&f.t.buses[IOBUS_MMIO], W, 0x100, &early.dev), 0);
	CHECK_EQ(iobus_register(&f.t.buses[IOBUS_MMIO], W + 0x10, 8, &late.dev), 0);
	CHECK_EQ(as(&f, F_DM, W + 0x10, 4, 3, 0x88), 0);
	/* early takes 0x77 before the doorbell is asked. */
	CHECK_EQ(wr(&f, IOBUS_MMIO, W + 0x10, 4, 0x77), 0);
	CHECK_EQ(f.nsig, 0);
	CHECK_EQ(early.writes, 1);
	/* 0x88: early refuses, the doorbell hits, late is never asked. */
	CHECK_HIT(&f, IOBUS_MMIO, W + 0x10, 4, 0x88, 3);
	CHECK_EQ(late.writes, 0);
	/* 0x99: nobody at 4 bytes takes it. */
	CHECK_EQ(wr(&f, IOBUS_MMIO, W + 0x10, 4, 0x99), -EOPNOTSUPP);
	CHECK_EQ(late.writes, 1);
	/* 8 bytes: the doorbell misses (size) and passes it to late. */
	CHECK_EQ(wr(&f, IOBUS_MMIO, W + 0x10, 8, 0x88), 0);
	CHECK_EQ(f.nsig, 0);
	CHECK_EQ(late.writes, 2);
	/* Page marking counts doorbells only, not devices. */
	CHECK(ioeventfd_page_has_mmio_doorbell(&f.t, W));
	CHECK_EQ(de(&f, F_DM, W + 0x10, 4, 3, 0x88), 0);
	CHECK(!ioeventfd_page_has_mmio_doorbell(&f.t, W));
	CHECK_EQ(iobus_count(&f.t.buses[IOBUS_MMIO]), 2);
	CHECK_EQ(fx_fini(&f), 0);
}

/* ---- deassign --------------------------------------------------------------- */

TEST(test_deassign_rules)
{
	struct efx f;

	fx_init(&f, false);
	CHECK_EQ(as(&f, F_DM, W, 4, 3, 7), 0);
	CHECK_EQ(as(&f, F_PIO, 0x600, 2, 4, 0), 0);
	CHECK_EQ(de(&f, F_DM | F_PIO, W, 4, 3, 7), -ENOENT);	/* bus */
	CHECK_EQ(de(&f, F_DM, W, 4, 4, 7), -ENOENT);		/* event */
	CHECK_EQ(de(&f, F_DM, W + 4, 4, 3, 7), -ENOENT);	/* address */
	CHECK_EQ(de(&f, F_DM, W, 2, 3, 7), -ENOENT);		/* len */
	CHECK_EQ(de(&f, F_DM, W, 8, 3, 7), -ENOENT);
	CHECK_EQ(de(&f, 0, W, 0, 3, 7), -ENOENT);
	CHECK_EQ(de(&f, F_DM, W, 3, 3, 7), -ENOENT);		/* bad len */
	CHECK_EQ(de(&f, 0, W, 4, 3, 7), -ENOENT);		/* wildcard-ness */
	CHECK_EQ(de(&f, F_DM, W, 4, 3, 8), -ENOENT);		/* datamatch */
	CHECK_EQ(de(&f, F_DM, W, 4, 3, 0x100000007ull), -ENOENT);
	CHECK_EQ(f.t.count, 2);
	CHECK_HIT(&f, IOBUS_MMIO, W, 4, 7, 3);
	CHECK_EQ(de(&f, F_DM, W, 4, 3, 7), 0);
	CHECK_EQ(de(&f, F_DM, W, 4, 3, 7), -ENOENT);		/* gone */
	CHECK_MISS(&f, IOBUS_MMIO, W, 4, 7);
	/* A wildcard is removed by a wildcard, whatever datamatch says. */
	CHECK_EQ(de(&f, F_PIO | F_DM, 0x600, 2, 4, 0), -ENOENT);
	CHECK_EQ(de(&f, 0, 0x600, 2, 4, 0), -ENOENT);		/* bus */
	CHECK_EQ(de(&f, F_PIO, 0x600, 2, 4, 0xabc), 0);
	CHECK_EQ(f.t.count, 0);
	CHECK_EQ(de(&f, F_PIO, 0x600, 2, 4, 0), -ENOENT);
	/* Several doorbells at one address: the exact one goes. */
	CHECK_EQ(as(&f, F_DM, W, 2, 1, 1), 0);
	CHECK_EQ(as(&f, F_DM, W, 2, 2, 2), 0);
	CHECK_EQ(as(&f, F_DM, W, 2, 3, 3), 0);
	CHECK_EQ(as(&f, 0, W, 4, 4, 0), 0);
	CHECK_EQ(de(&f, F_DM, W, 2, 2, 3), -ENOENT);
	CHECK_EQ(de(&f, F_DM, W, 2, 2, 2), 0);
	CHECK_HIT(&f, IOBUS_MMIO, W, 2, 1, 1);
	CHECK_MISS(&f, IOBUS_MMIO, W, 2, 2);
	CHECK_HIT(&f, IOBUS_MMIO, W, 2, 3, 3);
	CHECK_HIT(&f, IOBUS_MMIO, W, 4, 2, 4);
	CHECK_EQ(f.t.count, 3);
	/* Freed doorbells waited for no reader (none online). */
	CHECK_EQ(f.al.live, 1 + 3);	/* the MMIO array + 3 doorbells */
	CHECK_EQ(fx_fini(&f), 0);
}

/* ---- capacity: exactly 65,536 per VM ------------------------------------ */

TEST(test_capacity)
{
	static struct efx f;
	struct catcher devs[IOBUS_DEVICE_SLOTS];
	int failures = 0;
	u32 i;

	fx_init(&f, true);
	/* The emulated devices' slots, filled first. */
	for (i = 0; i < IOBUS_DEVICE_SLOTS; i++) {
		devs[i] = (struct catcher){ { &catcher_ops }, 0, 0 };
		CHECK_EQ(iobus_register(&f.t.buses[IOBUS_MMIO],
					0xfee00000 + 0x1000ull * i, 0x1000,
					&devs[i].dev), 0);
	}
	/* Every 4th has length 0 (two buses), every 4th has a datamatch. */
	for (i = 0; i < IOEVENTFD_MAX; i++) {
		u32 len = i % 4 == 0 ? 0 : 4;
		u64 flags = i % 4 == 2 ? F_DM : 0;
		if (as(&f, flags, W + 8ull * i, len, (s32)(i % 1024), i))
			failures++;
	}
	CHECK_EQ(failures, 0);
	CHECK_EQ(f.t.count, IOEVENTFD_MAX);
	CHECK_EQ(iobus_count(&f.t.buses[IOBUS_MMIO]), IOBUS_MAX_RANGES);
	CHECK_EQ(iobus_count(&f.t.buses[IOBUS_FAST_MMIO]), IOEVENTFD_MAX / 4);
	/* The 65,537th is -ENOSPC, on any bus; a collision is still -EEXIST. */
	CHECK_EQ(as(&f, 0, W + 8ull * IOEVENTFD_MAX, 4, 1, 0), -ENOSPC);
	CHECK_EQ(as(&f, 0, W + 8ull * IOEVENTFD_MAX, 0, 1, 0), -ENOSPC);
	CHECK_EQ(as(&f, F_PIO, 0x1000, 1, 1, 0), -ENOSPC);
	CHECK_EQ(as(&f, 0, W + 8, 4, 1, 0), -EEXIST);
	CHECK_EQ(as(&f, 0, W + 8, 4, 1024, 0), -EBADF);
	/* Lookups among them find the right one, in both modes. */
	for (u32 mode = 0; mode < 2; mode++) {
		for (u32 b = 0; b < IOBUS_NR; b++)
			iobus_set_lookup(&f.t.buses[b], mode);
		for (i = 0; i < IOEVENTFD_MAX; i += (mode ? 4093 : 97)) {
			u64 a = W + 8ull * i;
			s32 ev = (s32)(i % 1024);
			CHECK_HIT(&f, IOBUS_MMIO, a, 4, i, ev);
			if (i % 4 == 2)
				CHECK_MISS(&f, IOBUS_MMIO, a, 4, i + 1);
			if (i % 4 == 0)
				CHECK_HIT(&f, IOBUS_FAST_MMIO, a, 0, 0, ev);
			else
				CHECK_MISS(&f, IOBUS_FAST_MMIO, a, 0, 0);
			CHECK_MISS(&f, IOBUS_MMIO, a + 4, 4, i);
		}
		CHECK_HIT(&f, IOBUS_MMIO, W + 8ull * (IOEVENTFD_MAX - 1), 4, 0,
			  (s32)((IOEVENTFD_MAX - 1) % 1024));
	}
	/* 512 KiB of doorbells: 128 pages marked, once each. */
	CHECK_EQ(f.nmarked, 128);
	CHECK_EQ(f.mark_calls, 128);
	/* One out, one in, then full again. */
	CHECK_EQ(de(&f, 0, W + 8, 4, 1, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0x1000, 1, 1, 0), 0);
	CHECK_EQ(as(&f, F_PIO, 0x1001, 1, 1, 0), -ENOSPC);
	CHECK_HIT(&f, IOBUS_PIO, 0x1000, 1, 0, 1);
	CHECK_EQ(fx_fini(&f), 0);
}

/* ---- rollback under allocation failure ---------------------------------- */

struct table_snapshot {
	u32 count, n[IOBUS_NR];
	long live;
	int mark_calls, unmark_calls;
};

static struct table_snapshot snap(struct efx *f)
{
	struct table_snapshot s = { .count = f->t.count, .live = f->al.live,
				    .mark_calls = f->mark_calls,
				    .unmark_calls = f->unmark_calls };
	for (u32 b = 0; b < IOBUS_NR; b++)
		s.n[b] = iobus_count(&f->t.buses[b]);
	return s;
}

static bool snap_equal(struct table_snapshot a, struct table_snapshot b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

TEST(test_rollback_on_failure)
{
	struct efx f;
	struct table_snapshot before;
	const u64 A = W + 0x5000;	/* a page nothing else uses */

	fx_init(&f, false);
	CHECK_EQ(as(&f, 0, W + 0x100, 4, 1, 0), 0);
	CHECK_EQ(as(&f, 0, W + 0x200, 0, 2, 0), 0);
	before = snap(&f);

	/* A length-0 MMIO assign allocates the doorbell, the MMIO array,
	 * then the FAST_MMIO array; failing any leaves no trace. */
	talloc_arm(&f.al, 0);
	for (long k = 1; k <= 3; k++) {
		talloc_arm(&f.al, k);
		CHECK_EQ(as(&f, 0, A, 0, 9, 0), -ENOMEM);
		CHECK_EQ(f.al.allocs, k);
		CHECK(snap_equal(snap(&f), before));
		CHECK_MISS(&f, IOBUS_FAST_MMIO, A, 0, 0);
		CHECK_MISS(&f, IOBUS_MMIO, A, 4, 0);
		CHECK(!fx_is_marked(&f, A));
	}
	CHECK_EQ(f.al.failed, 3);
	talloc_arm(&f.al, 4);
	CHECK_EQ(as(&f, 0, A, 0, 9, 0), 0);
	CHECK_EQ(f.al.allocs, 3);
	CHECK_EQ(f.al.failed, 3);
	CHECK_HIT(&f, IOBUS_FAST_MMIO, A, 0, 0, 9);
	CHECK_HIT(&f, IOBUS_MMIO, A, 2, 0, 9);
	CHECK(fx_is_marked(&f, A));

	/* A sized one: doorbell, then MMIO array. */
	before = snap(&f);
	for (long k = 1; k <= 2; k++) {
		talloc_arm(&f.al, k);
		CHECK_EQ(as(&f, F_DM, A + 0x1000, 8, 9, 1), -ENOMEM);
		CHECK(snap_equal(snap(&f), before));
		CHECK_MISS(&f, IOBUS_MMIO, A + 0x1000, 8, 1);
	}

	/* Deassign of the length-0 one: MMIO array, FAST_MMIO array. */
	for (long k = 1; k <= 2; k++) {
		talloc_arm(&f.al, k);
		CHECK_EQ(de(&f, 0, A, 0, 9, 0), -ENOMEM);
		CHECK(snap_equal(snap(&f), before));
		CHECK_HIT(&f, IOBUS_FAST_MMIO, A, 0, 0, 9);
		CHECK_HIT(&f, IOBUS_MMIO, A, 4, 0, 9);
	}
	talloc_arm(&f.al, 0);
	CHECK_EQ(de(&f, 0, A, 0, 9, 0), 0);
	CHECK_MISS(&f, IOBUS_FAST_MMIO, A, 0, 0);
	CHECK(!fx_is_marked(&f, A));
	CHECK_EQ(f.t.count, 2);
	CHECK_EQ(iobus_count(&f.t.buses[IOBUS_FAST_MMIO]), 1);
	CHECK_EQ(fx_fini(&f), 0);
}

/*
 * Fails each allocation of the ioctl d in turn: each failure is -ENOMEM with
 * the table as it was (same published arrays, counts, blocks, hooks) and a
 * write of len bytes at probe on bus answered as before; returns the
 * allocations the ioctl made once none failed, or -1.
 */
static long ioctl_failure_points(struct efx *f, const struct doorbell_ioeventfd *d,
				 u32 bus, u64 probe, u32 len)
{
	for (long k = 1; k < 16; k++) {
		struct table_snapshot before = snap(f);
		struct iobus_array *cur[IOBUS_NR];
		int answer = wr(f, bus, probe, len, 0), sig = f->nsig, ret;
		long allocs;
		bool same = true;

		for (u32 b = 0; b < IOBUS_NR; b++)
			cur[b] = f->t.buses[b].cur;
		talloc_arm(&f->al, k);
		ret = ioeventfd_ioctl(&f->t, d);
		allocs = f->al.allocs;
		talloc_arm(&f->al, 0);
		if (ret == 0)
			return allocs == k - 1 ? allocs : -1;
		for (u32 b = 0; b < IOBUS_NR; b++)
			same &= f->t.buses[b].cur == cur[b];
		if (ret != -ENOMEM || allocs != k || !same ||
		    !snap_equal(snap(f), before) ||
		    wr(f, bus, probe, len, 0) != answer || f->nsig != sig)
			return -1;
	}
	return -1;
}

/* The same on buses of several chunks, where a bus update takes two or
 * three blocks: every failure point of an assign that splits a full chunk
 * on both MMIO buses, of its deassign, and of an append. */
TEST(test_rollback_chunked_buses)
{
	struct efx f;
	const u32 n = 2 * IOBUS_CHUNK + 10;
	const u64 A = W + 0x10 * 100 + 8;	/* inside MMIO/FAST chunk 0 */
	struct doorbell_ioeventfd d;

	fx_init(&f, false);
	/* Every other doorbell has length 0: MMIO holds n ranges in three
	 * chunks, FAST_MMIO n / 2 in two. */
	for (u32 i = 0; i < n; i++)
		CHECK_EQ(as(&f, 0, W + 0x10ull * i, i % 2 ? 4 : 0,
			    (s32)(i % 1024), 0), 0);
	CHECK_EQ(f.t.buses[IOBUS_MMIO].cur->nchunks, 3);
	CHECK_EQ(f.t.buses[IOBUS_FAST_MMIO].cur->nchunks, 2);
	CHECK_EQ(chunk_count(f.t.buses[IOBUS_MMIO].cur, 0), IOBUS_CHUNK);
	CHECK_EQ(chunk_count(f.t.buses[IOBUS_FAST_MMIO].cur, 0), IOBUS_CHUNK);

	/* Doorbell + (two halves + top) on each bus. */
	d = mk(0, A, 0, 7, 0);
	CHECK_EQ(ioctl_failure_points(&f, &d, IOBUS_FAST_MMIO, A, 0), 7);
	CHECK_EQ(f.al.failed, 7);
	CHECK_EQ(f.t.buses[IOBUS_MMIO].cur->nchunks, 4);
	CHECK_EQ(f.t.buses[IOBUS_FAST_MMIO].cur->nchunks, 3);
	CHECK_HIT(&f, IOBUS_FAST_MMIO, A, 0, 0, 7);
	CHECK_HIT(&f, IOBUS_MMIO, A, 8, 0, 7);
	CHECK_HIT(&f, IOBUS_MMIO, A + 8, 4, 0, 101);	/* its neighbour */
	/* Deassign: (chunk + top) on each bus. */
	d = mk(F_DEA, A, 0, 7, 0);
	CHECK_EQ(ioctl_failure_points(&f, &d, IOBUS_MMIO, A, 4), 4);
	CHECK_MISS(&f, IOBUS_FAST_MMIO, A, 0, 0);
	CHECK_MISS(&f, IOBUS_MMIO, A, 4, 0);
	CHECK_EQ(f.t.count, n);
	/* Appended, with a datamatch: doorbell + chunk + top. */
	d = mk(F_DM, W + 0x10ull * n, 8, 9, 0x55);
	CHECK_EQ(ioctl_failure_points(&f, &d, IOBUS_MMIO, W + 0x10ull * n, 8),
		 3);
	CHECK_HIT(&f, IOBUS_MMIO, W + 0x10ull * n, 8, 0x55, 9);
	CHECK_MISS(&f, IOBUS_MMIO, W + 0x10ull * n, 8, 0x56);
	CHECK_EQ(f.t.count, n + 1);
	CHECK_EQ(fx_fini(&f), 0);
}

/* ---- EPT page marking ---------------------------------------------------- */

TEST(test_page_refcount)
{
	struct efx f;
	const u64 P = W + 0x4000;

	fx_init(&f, false);
	CHECK(!ioeventfd_page_has_mmio_doorbell(&f.t, P));
	CHECK_EQ(as(&f, 0, P + 0x10, 4, 1, 0), 0);
	CHECK_EQ(f.mark_calls, 1);
	CHECK(fx_is_marked(&f, P));
	CHECK(ioeventfd_page_has_mmio_doorbell(&f.t, P + 0xfff));
	CHECK_EQ(as(&f, F_DM, P + 0x10, 4, 2, 5), -EEXIST);
	CHECK_EQ(as(&f, 0, P + 0x20, 0, 2, 0), 0);
	CHECK_EQ(as(&f, F_DM, P + 0xff8, 8, 3, 5), 0);
	CHECK_EQ(f.mark_calls, 1);		/* same page: no new mark */
	CHECK_EQ(de(&f, 0, P + 0x10, 4, 1, 0), 0);
	CHECK_EQ(de(&f, 0, P + 0x20, 0, 2, 0), 0);
	CHECK_EQ(f.unmark_calls, 0);		/* one left */
	CHECK_EQ(de(&f, F_DM, P + 0xff8, 8, 3, 5), 0);
	CHECK_EQ(f.unmark_calls, 1);		/* the last one unmarks */
	CHECK(!fx_is_marked(&f, P));
	CHECK(!ioeventfd_page_has_mmio_doorbell(&f.t, P));

	/* A doorbell straddling two pages marks both. */
	CHECK_EQ(as(&f, 0, P + 0xffe, 4, 4, 0), 0);
	CHECK_EQ(f.mark_calls, 3);
	CHECK(fx_is_marked(&f, P) && fx_is_marked(&f, P + 0x1000));
	CHECK_EQ(as(&f, 0, P + 0x1004, 4, 5, 0), 0);
	CHECK_EQ(f.mark_calls, 3);
	CHECK_EQ(de(&f, 0, P + 0xffe, 4, 4, 0), 0);
	CHECK(!fx_is_marked(&f, P));
	CHECK(fx_is_marked(&f, P + 0x1000));	/* still has one */
	CHECK(ioeventfd_page_has_mmio_doorbell(&f.t, P + 0x1000));
	CHECK(!ioeventfd_page_has_mmio_doorbell(&f.t, P));
	CHECK_EQ(de(&f, 0, P + 0x1004, 4, 5, 0), 0);
	CHECK_EQ(f.nmarked, 0);
	CHECK_EQ(f.unmark_calls, 3);
	/* PIO doorbells have nothing to do with pages. */
	CHECK_EQ(as(&f, F_PIO, 0x1000, 4, 1, 0), 0);
	CHECK_EQ(f.mark_calls, 3);
	CHECK(!ioeventfd_page_has_mmio_doorbell(&f.t, 0x1000));
	/* A failed assign marks nothing. */
	CHECK_EQ(as(&f, 0, P, 3, 1, 0), -EINVAL);
	CHECK_EQ(f.mark_calls, 3);
	CHECK_EQ(fx_fini(&f), 0);
}

/* ---- the command-line spec ------------------------------------------------ */

TEST(test_parse_spec)
{
	struct doorbell_ioeventfd d;
	static const char *bad[] = {
		"", "pio", "pio:", "pio:1:2", "pio:1:2:", "pio:1:2:3:", "pio:1:2:3:4:5",
		"io:1:2:3", "PIO:1:2:3", "mmio :1:2:3", "pio::2:3", "pio:0x:2:3",
		"pio:1:2:x", "pio:1:2:-1", "pio: 1:2:3", "pio:1:0x100000000:3",
		"pio:1:2:0x80000000", "mmio:0x10000000000000000:4:1",
		"mmio:1:2:3:0xg", ":1:2:3", "mmio:1:2:3::",
	};

	memset(&d, 0xaa, sizeof(d));
	CHECK_EQ(ioeventfd_parse_spec("pio:0x600:2:5", &d), 0);
	CHECK_EQ(d.flags, F_PIO);
	CHECK_EQ(d.addr, 0x600);
	CHECK_EQ(d.len, 2);
	CHECK_EQ(d.event, 5);
	CHECK_EQ(d.datamatch, 0);
	for (u32 i = 0; i < sizeof(d.pad); i++)
		CHECK_EQ(d.pad[i], 0);
	CHECK_EQ(ioeventfd_parse_spec("mmio:0xD0000010:4:1023:0xBEEF", &d), 0);
	CHECK_EQ(d.flags, F_DM);
	CHECK_EQ(d.addr, 0xd0000010);
	CHECK_EQ(d.len, 4);
	CHECK_EQ(d.event, 1023);
	CHECK_EQ(d.datamatch, 0xbeef);
	CHECK_EQ(ioeventfd_parse_spec("mmio:3489660928:0:0", &d), 0);
	CHECK_EQ(d.flags, 0);
	CHECK_EQ(d.addr, 0xd0000000);
	CHECK_EQ(d.len, 0);
	CHECK_EQ(ioeventfd_parse_spec("pio:1:2:3:18446744073709551615", &d), 0);
	CHECK_EQ(d.flags, F_PIO | F_DM);
	CHECK(d.datamatch == UINT64_MAX);
	/* The parser only parses: the ioctl judges the numbers. */
	CHECK_EQ(ioeventfd_parse_spec("pio:1:3:2000", &d), 0);
	CHECK_EQ(d.len, 3);
	CHECK_EQ(d.event, 2000);
	for (u32 i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = ioeventfd_parse_spec(bad[i], &d);
		if (r != -EINVAL)
			printf("  spec \"%s\" gave %d\n", bad[i], r);
		CHECK_EQ(r, -EINVAL);
	}
	CHECK_EQ(ioeventfd_parse_spec(NULL, &d), -EINVAL);

	/* A parsed spec goes through the ioctl. */
	struct efx f;
	fx_init(&f, false);
	CHECK_EQ(ioeventfd_parse_spec("mmio:0xd0000010:4:9:7", &d), 0);
	CHECK_EQ(ioeventfd_ioctl(&f.t, &d), 0);
	CHECK_HIT(&f, IOBUS_MMIO, 0xd0000010, 4, 7, 9);
	CHECK_MISS(&f, IOBUS_MMIO, 0xd0000010, 4, 8);
	CHECK_EQ(ioeventfd_parse_spec("pio:0x3f8:1:1", &d), 0);
	CHECK_EQ(ioeventfd_ioctl(&f.t, &d), -EPERM);
	CHECK_EQ(fx_fini(&f), 0);
}

/* ---- randomized model check ---------------------------------------------- */

/*
 * A plain list of doorbells with every rule restated naively (128-bit sums,
 * byte-by-byte port checks, linear scans), driven by seeded random assigns,
 * deassigns, writes and reads, some with an injected allocation failure. Two
 * devices of the "hypervisor" share the buses, so the bus order matters too.
 * Every return code, every signal, every bus count and every page mark must
 * agree with the model.
 */
enum { MODEL_OPS = 100000, MODEL_LIMIT = 40 };

#define MW      0x10000000ull	/* the model's window: three pages */
#define MWSIZE  0x3000ull

typedef unsigned __int128 u128;

struct mrec {
	bool pio;
	u64 addr;
	u32 len;
	s32 event;
	bool wildcard;
	u64 dm;
};

struct model {
	struct mrec r[MODEL_LIMIT];
	int n;
};

/* A device that takes writes of one size and value, and every read. */
struct mdev {
	struct iobus_device dev;
	u32 bus;
	u64 addr;
	u32 len;
	u32 want_len;
	u64 want_val;
};

static u64 trunc_val(u64 v, u32 len)
{
	return len >= 8 ? v : v & ((1ull << (8 * len)) - 1);
}

static int mdev_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	struct mdev *m = (struct mdev *)d;
	u64 v = 0;

	(void)addr;
	memcpy(&v, val, len);
	return len == m->want_len && v == m->want_val ? 0 : -EOPNOTSUPP;
}

static int mdev_read(struct iobus_device *d, u64 addr, u32 len, void *val)
{
	(void)d;
	(void)addr;
	memset(val, 0x5a, len);
	return 0;
}

static const struct iobus_device_ops mdev_ops = { .read = mdev_read,
						  .write = mdev_write };

static struct mdev mdevs[2] = {
	{ { &mdev_ops }, IOBUS_MMIO, MW + 0x800, 0x1000, 2, 0x77 },
	{ { &mdev_ops }, IOBUS_PIO, 0x100, 0x40, 1, 0x77 },
};

static bool model_port_reserved(u64 p)
{
	return (p >= 0x20 && p <= 0x21) || (p >= 0xa0 && p <= 0xa1) ||
	       (p >= 0xe0 && p <= 0xe3) || (p >= 0xf4 && p <= 0xf7) ||
	       (p >= 0x3f8 && p <= 0x3ff);
}

static int model_assign(struct model *m, const struct doorbell_ioeventfd *a,
			bool commit)
{
	bool pio = a->flags & F_PIO, dm = a->flags & F_DM;

	if (a->flags & ~7u)
		return -EINVAL;
	if (a->len != 0 && a->len != 1 && a->len != 2 && a->len != 4 &&
	    a->len != 8)
		return -EINVAL;
	if ((u128)a->addr + a->len > UINT64_MAX)
		return -EINVAL;
	if (a->len == 0 && (pio || dm))
		return -EINVAL;
	if (a->event < 0 || a->event > 1023)
		return -EBADF;
	if (pio) {
		for (u64 p = a->addr; p < a->addr + a->len; p++)
			if (p > 0xffff || model_port_reserved(p))
				return -EPERM;
	} else {
		u128 end = (u128)a->addr + (a->len ? a->len : 1);
		if (a->addr < MW || end > (u128)MW + MWSIZE)
			return -EPERM;
	}
	for (int i = 0; i < m->n; i++) {
		const struct mrec *r = &m->r[i];
		if (r->pio != pio || r->addr != a->addr)
			continue;
		if (r->len == 0 || a->len == 0)
			return -EEXIST;
		if (r->len == a->len &&
		    (r->wildcard || !dm || r->dm == a->datamatch))
			return -EEXIST;
	}
	if (m->n >= MODEL_LIMIT)
		return -ENOSPC;
	if (commit)
		m->r[m->n++] = (struct mrec){ pio, a->addr, a->len, a->event,
					      !dm, dm ? a->datamatch : 0 };
	return 0;
}

static int model_deassign(struct model *m, const struct doorbell_ioeventfd *a,
			  bool commit)
{
	bool pio = a->flags & F_PIO, wildcard = !(a->flags & F_DM);

	if (a->flags & ~7u)
		return -EINVAL;
	if (a->event < 0 || a->event > 1023)
		return -EBADF;
	for (int i = 0; i < m->n; i++) {
		const struct mrec *r = &m->r[i];
		if (r->pio == pio && r->event == a->event &&
		    r->addr == a->addr && r->len == a->len &&
		    r->wildcard == wildcard &&
		    (wildcard || r->dm == a->datamatch)) {
			if (commit)
				m->r[i] = m->r[--m->n];
			return 0;
		}
	}
	return -ENOENT;
}

/* The expected outcome of a write: ret, and the event signalled or -1. */
static int model_write(const struct model *m, u32 bus, u64 addr, u32 len,
		       u64 v, s32 *event, int *nhits)
{
	const struct mrec *hit = NULL;
	const struct mdev *dev = NULL;

	*nhits = 0;
	for (int i = 0; i < m->n; i++) {
		const struct mrec *r = &m->r[i];
		bool h;
		if (bus == IOBUS_FAST_MMIO)
			h = !r->pio && r->len == 0 && r->addr == addr;
		else
			h = r->pio == (bus == IOBUS_PIO) && r->addr == addr &&
			    (r->len == 0 ||
			     (r->len == len &&
			      (r->wildcard || trunc_val(v, len) == r->dm)));
		if (h) {
			hit = r;
			(*nhits)++;
		}
	}
	for (u32 i = 0; i < ARRAY_SIZE(mdevs); i++)
		if (mdevs[i].bus == bus && addr >= mdevs[i].addr &&
		    (u128)addr + (len ? len : 1) <= (u128)mdevs[i].addr + mdevs[i].len)
			dev = &mdevs[i];
	*event = -1;
	/* The device is asked first if it starts below the doorbell (it is
	 * always longer than any doorbell, so an equal start puts it after). */
	if (dev && len == dev->want_len && trunc_val(v, len) == dev->want_val &&
	    (!hit || dev->addr < hit->addr))
		return 0;
	if (hit) {
		*event = hit->event;
		return 0;
	}
	return -EOPNOTSUPP;
}

static bool model_page_has(const struct model *m, u64 page)
{
	for (int i = 0; i < m->n; i++) {
		const struct mrec *r = &m->r[i];
		u64 last = r->addr + (r->len ? r->len : 1) - 1;
		if (!r->pio && r->addr <= page + 0xfff && last >= page)
			return true;
	}
	return false;
}

static const u64 m_mmio_addrs[] = {
	MW, MW + 1, MW + 2, MW + 4, MW + 8, MW + 0x10, MW + 0x7fe, MW + 0x800,
	MW + 0x802, MW + 0x804, MW + 0xffc, MW + 0xffe, MW + 0xfff, MW + 0x1000,
	MW + 0x17fe, MW + 0x1800, MW + 0x2ff8, MW + 0x2ffc, MW + 0x2ffe,
	MW + 0x2fff, MW + 0x3000, MW - 1, MW - 4, 0xfffffffffffffffcull,
	UINT64_MAX, 0,
};
static const u64 m_pio_addrs[] = {
	0x1f, 0x20, 0x21, 0x22, 0x9e, 0xa0, 0xde, 0xe0, 0xe4, 0xf0, 0xf4,
	0xf8, 0x100, 0x101, 0x102, 0x104, 0x13e, 0x140, 0x3f0, 0x3f8, 0x400,
	0xcf8, 0xcfc, 0xfff8, 0xfffc, 0xfffe, 0xffff, 0x10000, UINT64_MAX - 1,
};
static const u64 m_values[] = {
	0, 1, 2, 0x77, 0xff, 0x100, 0x1ff, 0xffff, 0x10000, 0xffffffff,
	0x100000077ull, UINT64_MAX,
};
static const u32 m_lens[] = { 0, 1, 2, 4, 8 };
static const u32 m_access_lens[] = { 1, 2, 4, 8 };

#define PICK(a) ((a)[test_rand() % ARRAY_SIZE(a)])

static struct doorbell_ioeventfd model_random_args(const struct model *m,
						   bool deassign)
{
	struct doorbell_ioeventfd d;

	if (deassign && m->n && test_rand() % 10 < 7) {
		/* An existing doorbell, sometimes with one field off. */
		const struct mrec *x = &m->r[test_rand() % (u64)m->n];
		d = mk((x->pio ? F_PIO : 0) | (x->wildcard ? 0 : F_DM), x->addr,
		       x->len, x->event, x->wildcard ? PICK(m_values) : x->dm);
		if (test_rand() % 10 < 3) {
			switch (test_rand() % 6) {
			case 0: d.flags ^= (u32)F_PIO; break;
			case 1: d.event ^= 1; break;
			case 2: d.addr += 1; break;
			case 3: d.len = PICK(m_lens); break;
			case 4: d.flags ^= (u32)F_DM; break;
			default: d.datamatch ^= 1; break;
			}
		}
	} else {
		bool pio = test_rand() % 3 == 0;
		u64 flags = (pio ? F_PIO : 0) | (test_rand() % 2 ? F_DM : 0);
		u32 len = PICK(m_lens);
		u64 addr = pio ? PICK(m_pio_addrs) : PICK(m_mmio_addrs);
		s32 ev = (s32)(test_rand() % 8);
		if (test_rand() % 50 == 0)
			flags |= BIT(3 + test_rand() % 29);
		if (test_rand() % 30 == 0)
			len = test_rand() % 2 ? 3 : 16;
		if (test_rand() % 40 == 0)
			addr = test_rand();
		if (test_rand() % 50 == 0)
			ev = test_rand() % 2 ? -1 : 1024;
		d = mk(flags, addr, len, ev, PICK(m_values));
	}
	if (deassign)
		d.flags |= (u32)F_DEA;
	return d;
}

static int err_index(int ret)
{
	switch (ret) {
	case 0: return 0;
	case -EINVAL: return 1;
	case -EBADF: return 2;
	case -EPERM: return 3;
	case -EEXIST: return 4;
	case -ENOSPC: return 5;
	case -ENOMEM: return 6;
	case -ENOENT: return 7;
	default: return 8;
	}
}

TEST(test_model_random)
{
	static struct efx f;
	static struct model m;
	const char *env = getenv("IOEVENTFD_SEED");
	u64 seed = env ? strtoull(env, NULL, 0)
		       : (u64)time(NULL) * 0x9e3779b97f4a7c15ull;
	long mismatches = 0, assign_ret[9] = { 0 }, deassign_ret[9] = { 0 };
	long hits = 0, device_takes = 0, misses = 0, reads = 0;
	const u64 pages[] = { MW - 0x1000, MW, MW + 0x1000, MW + 0x2000,
			      MW + 0x3000 };

	printf("  model: seed 0x%llx (IOEVENTFD_SEED=0x%llx repeats it)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	test_seed(seed);
	memset(&m, 0, sizeof(m));
	fx_init(&f, false);
	f.t.limit = MODEL_LIMIT;
	CHECK_EQ(ioeventfd_set_window(&f.t, MW, MWSIZE), 0);
	for (u32 i = 0; i < ARRAY_SIZE(mdevs); i++)
		CHECK_EQ(iobus_register(&f.t.buses[mdevs[i].bus], mdevs[i].addr,
					mdevs[i].len, &mdevs[i].dev), 0);

#define MISMATCH(...)                                                        \
	do {                                                                 \
		if (mismatches++ < 5) {                                      \
			printf("  op %d: ", op);                             \
			printf(__VA_ARGS__);                                 \
			printf("\n");                                        \
		}                                                            \
	} while (0)

	for (int op = 0; op < MODEL_OPS; op++) {
		u64 kind = test_rand() % 100;

		if (kind < 60) {
			bool deassign = kind >= 35;
			struct doorbell_ioeventfd d = model_random_args(&m, deassign);
			int want = deassign ? model_deassign(&m, &d, false)
					    : model_assign(&m, &d, false);
			long failed = f.al.failed;
			bool inject = test_rand() % 100 < 4;
			talloc_arm(&f.al, inject ? (long)(1 + test_rand() % 3) : 0);
			int got = ioeventfd_ioctl(&f.t, &d);
			talloc_arm(&f.al, 0);
			(deassign ? deassign_ret : assign_ret)[err_index(got)]++;
			if (got == -ENOMEM && want == 0 && f.al.failed > failed) {
				/* Refused for want of memory: nothing changed. */
			} else if (got != want) {
				MISMATCH("%s flags %u addr 0x%llx len %u ev %d dm 0x%llx: got %d want %d",
					 deassign ? "deassign" : "assign", d.flags,
					 (unsigned long long)d.addr, d.len, d.event,
					 (unsigned long long)d.datamatch, got, want);
			} else if (want == 0) {
				if (deassign)
					model_deassign(&m, &d, true);
				else
					model_assign(&m, &d, true);
			}
		} else if (kind < 95) {
			const struct mrec *x = m.n && test_rand() % 10 < 7 ?
				&m.r[test_rand() % (u64)m.n] : NULL;
			u32 bus = (u32)(test_rand() % IOBUS_NR);
			if (x && test_rand() % 10 < 8)	/* mostly its own bus */
				bus = x->pio ? IOBUS_PIO : x->len == 0 &&
				      test_rand() % 2 ? IOBUS_FAST_MMIO : IOBUS_MMIO;
			u64 addr = x ? x->addr : bus == IOBUS_PIO ?
				PICK(m_pio_addrs) : PICK(m_mmio_addrs);
			u32 len = bus == IOBUS_FAST_MMIO ? 0 :
				  x && x->len && test_rand() % 4 ? x->len :
				  PICK(m_access_lens);
			u64 v = PICK(m_values);
			s32 want_ev;
			int nhits, want, got[2];
			s32 got_ev[2];
			int got_sig[2];

			if (x && test_rand() % 5 == 0)
				addr += test_rand() % 2 ? 1 : (u64)-1;
			if (x && test_rand() % 5 < 3) {
				/* Its datamatch, with junk above the access. */
				v = x->dm;
				if (len && len < 8)
					v |= test_rand() << (8 * len);
			}
			want = model_write(&m, bus, addr, len, v, &want_ev, &nhits);
			if (nhits > 1)
				MISMATCH("model: %d doorbells hit one write", nhits);
			for (u32 mode = 0; mode < 2; mode++) {
				for (u32 b = 0; b < IOBUS_NR; b++)
					iobus_set_lookup(&f.t.buses[b], mode);
				got[mode] = wr(&f, bus, addr, len, v);
				got_sig[mode] = f.nsig;
				got_ev[mode] = f.last_event;
			}
			for (u32 mode = 0; mode < 2; mode++)
				if (got[mode] != want || got_ev[mode] != want_ev ||
				    got_sig[mode] != (want_ev >= 0))
					MISMATCH("write bus %u addr 0x%llx len %u v 0x%llx mode %u: got %d ev %d (%d signals), want %d ev %d",
						 bus, (unsigned long long)addr, len,
						 (unsigned long long)v, mode, got[mode],
						 got_ev[mode], got_sig[mode], want, want_ev);
			if (want_ev >= 0)
				hits++;
			else if (want == 0)
				device_takes++;
			else
				misses++;
		} else {
			/* Reads: devices answer, doorbells never do. */
			u32 bus = test_rand() % 2 ? IOBUS_PIO : IOBUS_MMIO;
			const struct mrec *x = m.n ? &m.r[test_rand() % (u64)m.n] : NULL;
			u64 addr = x && test_rand() % 2 ? x->addr :
				   bus == IOBUS_PIO ? PICK(m_pio_addrs) : PICK(m_mmio_addrs);
			u32 len = PICK(m_access_lens);
			u64 v = 0;
			int want = -EOPNOTSUPP;
			for (u32 i = 0; i < ARRAY_SIZE(mdevs); i++)
				if (mdevs[i].bus == bus && addr >= mdevs[i].addr &&
				    (u128)addr + len <= (u128)mdevs[i].addr + mdevs[i].len)
					want = 0;
			f.nsig = 0;
			int got = iobus_read(&f.t.buses[bus], addr, len, &v);
			if (got != want || f.nsig != 0 ||
			    v != (want ? 0 : trunc_val(0x5a5a5a5a5a5a5a5aull, len)))
				MISMATCH("read bus %u addr 0x%llx len %u: got %d, want %d",
					 bus, (unsigned long long)addr, len, got, want);
			reads++;
		}

		/* The whole state, after every operation. */
		u32 want_n[IOBUS_NR] = { 1, 1, 0 };
		for (int i = 0; i < m.n; i++) {
			want_n[m.r[i].pio ? IOBUS_PIO : IOBUS_MMIO]++;
			if (!m.r[i].pio && m.r[i].len == 0)
				want_n[IOBUS_FAST_MMIO]++;
		}
		if ((int)f.t.count != m.n)
			MISMATCH("count %u, model %d", f.t.count, m.n);
		for (u32 b = 0; b < IOBUS_NR; b++)
			if (iobus_count(&f.t.buses[b]) != want_n[b])
				MISMATCH("bus %u has %u ranges, model %u", b,
					 iobus_count(&f.t.buses[b]), want_n[b]);
		for (u32 i = 0; i < ARRAY_SIZE(pages); i++) {
			bool want = model_page_has(&m, pages[i]);
			if (fx_is_marked(&f, pages[i]) != want ||
			    ioeventfd_page_has_mmio_doorbell(&f.t, pages[i]) != want)
				MISMATCH("page 0x%llx marked %d, model %d",
					 (unsigned long long)pages[i],
					 fx_is_marked(&f, pages[i]), want);
		}
	}
#undef MISMATCH
	printf("  model: assign 0:%ld EINVAL:%ld EBADF:%ld EPERM:%ld EEXIST:%ld ENOSPC:%ld ENOMEM:%ld\n",
	       assign_ret[0], assign_ret[1], assign_ret[2], assign_ret[3],
	       assign_ret[4], assign_ret[5], assign_ret[6]);
	printf("  model: deassign 0:%ld EINVAL:%ld EBADF:%ld ENOENT:%ld ENOMEM:%ld; "
	       "writes: %ld signalled, %ld taken by a device, %ld missed; %ld reads\n",
	       deassign_ret[0], deassign_ret[1], deassign_ret[2], deassign_ret[7],
	       deassign_ret[6], hits, device_takes, misses, reads);
	CHECK_EQ(mismatches, 0);
	/* Every outcome was exercised, so the comparison meant something. */
	for (int i = 0; i <= 6; i++)
		CHECK(assign_ret[i] > 0);
	CHECK_EQ(assign_ret[7] + assign_ret[8], 0);
	CHECK(deassign_ret[0] > 0 && deassign_ret[1] > 0 && deassign_ret[2] > 0 &&
	      deassign_ret[6] > 0 && deassign_ret[7] > 0);
	CHECK(hits > 0 && device_takes > 0 && misses > 0);
	CHECK_EQ(fx_fini(&f), 0);
}

/* ---- concurrency: doorbells come and go while two vCPUs write ------------ */

enum { CE_TEMP = 16, CE_WRITER_OPS = 20000 };

static __thread s32 ce_last_event;
static __thread int ce_signals;

static void ce_signal(void *ctx, s32 event)
{
	(void)ctx;
	ce_last_event = event;
	ce_signals++;
}

struct ce {
	struct talloc al;
	struct iobus_mem mem;
	struct ioeventfd_table t;
	int done;
	long bad[2], rounds[2];
};

struct ce_arg {
	struct ce *ce;
	u32 id;
};

static u64 ce_addr(int k) { return W + 0x100 + 8 * (u64)k; }

static int ce_write(struct ce *c, u32 bus, u64 addr, u32 len, u64 v)
{
	ce_last_event = -1;
	ce_signals = 0;
	return iobus_write(&c->t.buses[bus], addr, len, len ? &v : NULL);
}

static void *ce_reader(void *p)
{
	struct ce_arg *a = p;
	struct ce *c = a->ce;
	u64 rng = 0xabcdefull + a->id;
	long bad = 0, n = 0;
	int r;

	iobus_reader_online(&c->t.ep, a->id);
	while (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE)) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		int k = (int)(rng % CE_TEMP);

		/* Always assigned: always signalled, exactly once. */
		r = ce_write(c, IOBUS_MMIO, W, 4, 0);
		bad += r != 0 || ce_signals != 1 || ce_last_event != 0;
		r = ce_write(c, IOBUS_FAST_MMIO, W + 0x40, 0, 0);
		bad += r != 0 || ce_signals != 1 || ce_last_event != 1;
		/* Coming and going: its own event, or nothing. */
		r = ce_write(c, IOBUS_MMIO, ce_addr(k), 4, 0);
		bad += !((r == 0 && ce_signals == 1 && ce_last_event == 2 + k) ||
			 (r == -EOPNOTSUPP && ce_signals == 0));
		r = ce_write(c, IOBUS_FAST_MMIO, ce_addr(k), 0, 0);
		bad += !((r == 0 && ce_signals == 1 && ce_last_event == 2 + k &&
			  k % 2 == 1) ||
			 (r == -EOPNOTSUPP && ce_signals == 0));
		n++;
		test_progress_set(&c->rounds[a->id], n);
		iobus_reader_quiescent(&c->t.ep, a->id);
	}
	iobus_reader_offline(&c->t.ep, a->id);
	c->bad[a->id] = bad;
	return NULL;
}

TEST(test_concurrent_doorbells)
{
	static struct ce c;
	struct ce_arg args[2] = { { &c, 0 }, { &c, 1 } };
	struct ioeventfd_hooks hooks = { ce_signal, NULL, NULL, NULL };
	bool present[CE_TEMP] = { false };
	pthread_t th[2];
	u64 rng = 0x5eedull;
	int errors = 0;

	memset(&c, 0, sizeof(c));
	c.mem = (struct iobus_mem){ t_alloc, t_free, &c.al };
	ioeventfd_table_init(&c.t, &c.mem, &hooks);
	CHECK_EQ(ioeventfd_ioctl(&c.t, &(struct doorbell_ioeventfd){
		.addr = W, .len = 4, .event = 0 }), 0);
	CHECK_EQ(ioeventfd_ioctl(&c.t, &(struct doorbell_ioeventfd){
		.addr = W + 0x40, .len = 0, .event = 1 }), 0);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, ce_reader, &args[i]), 0);
	for (int op = 0; op < CE_WRITER_OPS; op++) {
		if (op % 1000 == 0)	/* the readers run while we change */
			test_progress_wait(c.rounds, 2, op / 1000 + 1);
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		int k = (int)(rng % CE_TEMP);
		/* Odd k: length 0, on both MMIO buses. */
		struct doorbell_ioeventfd d = {
			.addr = ce_addr(k), .len = k % 2 ? 0 : 4, .event = 2 + k,
			.flags = present[k] ? (u32)F_DEA : 0,
		};
		errors += ioeventfd_ioctl(&c.t, &d) != 0;
		present[k] = !present[k];
	}
	__atomic_store_n(&c.done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(errors, 0);
	CHECK_EQ(c.bad[0], 0);
	CHECK_EQ(c.bad[1], 0);
	CHECK(c.rounds[0] > 0 && c.rounds[1] > 0);
	printf("  concurrent: %d assign/deassign, %ld + %ld reader rounds\n",
	       CE_WRITER_OPS, c.rounds[0], c.rounds[1]);
	ioeventfd_table_destroy(&c.t);
	CHECK_EQ(c.al.live, 0);
}

/* The hypervisor's own doorbells (a device model's): their event ids are
 * 1024-1087 and only theirs, no window, not counted toward the guest's
 * limit, untouchable by the guest's deassign; both fast tables index them
 * with the full id. And the reserved ports a device takes back. */
static int hv(struct efx *f, u64 flags, u64 addr, u32 len, s32 ev, u64 dm)
{
	struct doorbell_ioeventfd d = mk(flags, addr, len, ev, dm);
	return ioeventfd_hv_ioctl(&f->t, &d);
}

TEST(test_hv_doorbells)
{
	static struct efx f;
	const u64 bar = 0xfebff000ull;	/* outside the window */
	u8 b = 0xfa;

	fx_init(&f, false);
	CHECK_EQ(hv(&f, 0, bar + 0x801, 0, 1023, 0), -EBADF);	/* a guest id */
	CHECK_EQ(hv(&f, 0, bar + 0x801, 0, 1024 + IOEVENTFD_HV_EVENTS, 0), -EBADF);
	CHECK_EQ(as(&f, 0, W, 0, 1024, 0), -EBADF);		/* the guest can't */
	CHECK_EQ(hv(&f, 0, bar + 0x801, 0, 1025, 0), 0);
	CHECK_EQ(f.t.count, 0);
	CHECK(fx_is_marked(&f, bar));
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, bar + 0x801), 1025);
	CHECK_EQ(hv(&f, F_PIO | F_DM, 0xc085, 1, 1024 + IOEVENTFD_HV_EVENTS - 1, 0xfa), 0);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0xc085, 1, 0xfa), 1024 + IOEVENTFD_HV_EVENTS - 1);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0xc085, 1, 0xfb), -1);
	CHECK_EQ(hv(&f, F_PIO, 0xc084, 1, 1026, 0), 0);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0xc084, 1, 0x12), 1026);
	CHECK_EQ(iobus_write(&f.t.buses[IOBUS_PIO], 0xc085, 1, &b), 0);
	CHECK_EQ(f.last_event, 1024 + IOEVENTFD_HV_EVENTS - 1);
	/* The guest's collisions and deassigns never reach them. */
	CHECK_EQ(as(&f, F_DEA, bar + 0x801, 0, 1025, 0), -EBADF);
	CHECK_EQ(as(&f, F_DEA | F_PIO, 0xc084, 1, 2, 0), -ENOENT);
	/* A guest doorbell next to them, with its own id and count. */
	CHECK_EQ(as(&f, F_PIO, 0xc084, 2, 5, 0), 0);
	CHECK_EQ(f.t.count, 1);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0xc084, 2, 0), 5);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0xc084, 1, 0), 1026);
	/* The guest still holds its full limit. */
	f.t.limit = 1;
	CHECK_EQ(as(&f, F_PIO, 0x700, 1, 5, 0), -ENOSPC);
	f.t.limit = IOEVENTFD_MAX;
	CHECK_EQ(hv(&f, F_DEA, bar + 0x801, 0, 1025, 0), 0);
	CHECK(!fx_is_marked(&f, bar));
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, bar + 0x801), -1);
	CHECK_EQ(hv(&f, F_DEA | F_PIO | F_DM, 0xc085, 1, 1024 + IOEVENTFD_HV_EVENTS - 1, 0xfa), 0);
	CHECK_EQ(hv(&f, F_DEA | F_PIO, 0xc084, 1, 1026, 0), 0);
	CHECK_EQ(as(&f, F_DEA | F_PIO, 0xc084, 2, 5, 0), 0);
	CHECK_EQ(f.t.count, 0);
	/* Reserved ports come back exactly. */
	CHECK_EQ(ioeventfd_reserve_ports(&f.t, 0xc000, 256), 0);
	CHECK_EQ(as(&f, F_PIO, 0xc0ff, 1, 5, 0), -EPERM);
	CHECK_EQ(ioeventfd_unreserve_ports(&f.t, 0xc000, 255), -ENOENT);
	CHECK_EQ(ioeventfd_unreserve_ports(&f.t, 0xc000, 256), 0);
	CHECK_EQ(ioeventfd_unreserve_ports(&f.t, 0xc000, 256), -ENOENT);
	CHECK_EQ(as(&f, F_PIO, 0xc0ff, 1, 5, 0), 0);
	CHECK_EQ(fx_fini(&f), 0);
}

int main(void)
{
	/* Line-buffered, so a sanitizer's exit loses no results. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(test_struct_layout);
	RUN(test_einval_rules);
	RUN(test_ebadf_rules);
	RUN(test_eperm_mmio_window);
	RUN(test_eperm_pio_ports);
	RUN(test_collision_rules);
	RUN(test_hit_exact_address_and_size);
	RUN(test_datamatch_truncation);
	RUN(test_len0_any_size);
	RUN(test_bus_order_with_devices);
	RUN(test_deassign_rules);
	RUN(test_capacity);
	RUN(test_rollback_on_failure);
	RUN(test_rollback_chunked_buses);
	RUN(test_page_refcount);
	RUN(test_parse_spec);
	RUN(test_model_random);
	RUN(test_concurrent_doorbells);
	RUN(test_hv_doorbells);
	return TEST_SUMMARY();
}
