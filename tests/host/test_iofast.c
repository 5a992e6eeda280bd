/* Host tests for the doorbell index (iobus/iofast.c and the lookups in
 * iobus/iobus.h): the fast-MMIO and PIO tables answer exactly as the buses do
 * (iobus_write with the signal hook recording the event) over 10^5 seeded
 * random operations with allocation failures injected; -ENOMEM leaves both
 * tables as they were; 65,536 doorbells in either table, probe lengths and
 * memory; growth, shrinking and tombstones; lookups from reader threads while
 * the writer rebuilds, with the grace periods, under ASan. */
#include "iobus/epoch.c"
#include "iobus/iobus.c"
#include "iobus/iofast.c"
#include "iobus/ioeventfd.c"
#include "lib/fmt.c"
#include "tests/host/test.h"

#include <pthread.h>

#include "tests/host/talloc.h"

/* ---- fixture ------------------------------------------------------------- */

struct ffx {
	struct talloc al;
	struct iobus_mem mem;
	struct ioeventfd_table t;
	int nsig;
	s32 last_event;
};

static void ffx_signal(void *ctx, s32 event)
{
	struct ffx *f = ctx;
	f->nsig++;
	f->last_event = event;
}

static void ffx_init(struct ffx *f, bool pool)
{
	struct ioeventfd_hooks hooks = { ffx_signal, NULL, NULL, f };

	memset(f, 0, sizeof(*f));
	f->al.pool = pool;
	f->mem = (struct iobus_mem){ t_alloc, t_free, &f->al };
	ioeventfd_table_init(&f->t, &f->mem, &hooks);
}

/* Blocks leaked plus frees of the wrong size (0 expected). */
static long ffx_fini(struct ffx *f)
{
	ioeventfd_table_destroy(&f->t);
	talloc_drain(&f->al);
	return f->al.live + f->al.bad_frees;
}

#define F_DM    DOORBELL_IOEVENTFD_FLAG_DATAMATCH
#define F_PIO   DOORBELL_IOEVENTFD_FLAG_PIO
#define F_DEA   DOORBELL_IOEVENTFD_FLAG_DEASSIGN
#define W       IOEVENTFD_DEFAULT_WINDOW_BASE

static int ioctl_(struct ffx *f, u64 flags, u64 addr, u32 len, s32 ev, u64 dm)
{
	struct doorbell_ioeventfd d;

	memset(&d, 0, sizeof(d));
	d.flags = (u32)flags;
	d.addr = addr;
	d.len = len;
	d.event = ev;
	d.datamatch = dm;
	return ioeventfd_ioctl(&f->t, &d);
}

/* What the bus says: the event a write signals, or -1. */
static s32 bus_fast(struct ffx *f, u64 gpa)
{
	f->nsig = 0;
	f->last_event = -1;
	int r = iobus_write(&f->t.buses[IOBUS_FAST_MMIO], gpa, 0, NULL);
	return r == 0 && f->nsig == 1 ? f->last_event : (f->nsig ? -2 : -1);
}

static s32 bus_pio(struct ffx *f, u16 port, u32 size, u32 val)
{
	u64 v = val;

	f->nsig = 0;
	f->last_event = -1;
	int r = iobus_write(&f->t.buses[IOBUS_PIO], port, size, &v);
	return r == 0 && f->nsig == 1 ? f->last_event : (f->nsig ? -2 : -1);
}

/* ---- table introspection (test only) ------------------------------------- */

/* Slots a lookup of key visits (1 = its home slot). */
static u32 probe_len(uintptr_t cur, u64 key)
{
	const u64 *slot = cur_slots(cur);
	u32 n = 1;
	u64 i = (key * IOFAST_HASH_MUL) >> cur_shift(cur);

	for (;; n++, i++) {
		u64 e = slot[i];
		if ((e & ~IOFAST_EVENT_MASK) == key || !e)
			return n;
	}
}

/* Slots a PIO lookup visits, both probes (as ioeventfd_pio_find makes them:
 * the wildcard table, then the datamatch table, each only if it holds
 * entries). */
static u32 pio_probes(const struct ioeventfd_table *t, u16 port, u32 size, u32 val)
{
	uintptr_t cur = t->pio.cur;
	u64 wk = iofast_pio_key(port, size);
	u32 n = 0;

	if (cur & IOFAST_HAS_PLAIN) {
		u32 k = probe_len(cur, wk);
		const u64 *s = cur_slots(cur);
		u64 i = ((wk * IOFAST_HASH_MUL) >> cur_shift(cur)) + k - 1;
		if (s[i] && (s[i] & ~IOFAST_EVENT_MASK) == wk)
			return k;
		n = k;
	}
	cur = t->pio_dm.cur;
	if (cur & IOFAST_HAS_DM)
		n += probe_len(cur, iofast_pio_dm_key(wk, size, val));
	return n;
}

/* Entries and tombstones in the published block agree with the writer's
 * counts, at most 3/8 of the slots are used, every indexed doorbell of the
 * list is found by its own key with its own event, and nothing else is in
 * the table. Returns the number of broken rules. */
static int check_index(struct ioeventfd_table *t)
{
	int bad = 0;
	struct iofast *tabs[3] = { &t->fast_mmio, &t->pio, &t->pio_dm };

	for (int k = 0; k < 3; k++) {
		struct iofast *x = tabs[k];
		u64 n = cur_nslots(x->cur), live = 0, used = 0;
		u64 total = cur_total(x->cur);
		const u64 *s = cur_slots(x->cur);
		bad += s[total - 1] != 0;	/* every walk ends */
		for (u64 i = 0; i < total; i++) {
			live += (s[i] & IOFAST_VALID) != 0;
			used += s[i] != 0;
			bad += s[i] && !(s[i] & IOFAST_VALID) &&
			       s[i] != IOFAST_TOMBSTONE;
		}
		bad += live != x->live || used != x->used;
		bad += (x->cur & (IOFAST_HAS_PLAIN | IOFAST_HAS_DM)) !=
		       kinds(x->live, x->ndm);
		bad += !IS_ALIGNED((uintptr_t)s, IOFAST_ALIGN);
		bad += cur_is_empty_block(x->cur) ? x->live != 0
						  : used * 8 > n * 3;
	}
	u32 counted[3] = { 0, 0, 0 }, n = 0;
	struct ioeventfd *prev = NULL;
	for (struct ioeventfd *p = t->list; p; prev = p, p = p->next, n++) {
		u64 e;
		struct iofast *x = index_of(t, p, &e);
		bad += p->prev != prev;
		if (!x)
			continue;
		counted[x == &t->fast_mmio ? 0 : x == &t->pio ? 1 : 2]++;
		/* Wildcards in one PIO table, datamatches in the other. */
		bad += x == &t->pio ? !p->wildcard : x == &t->pio_dm ? p->wildcard : 0;
		u64 key = e & ~IOFAST_EVENT_MASK;
		bad += iofast_probe(x->cur, key) != p->event;
	}
	bad += n != t->count;
	bad += counted[0] != t->fast_mmio.live || counted[1] != t->pio.live ||
	       counted[2] != t->pio_dm.live;
	/* Each table's own list: its entries, oldest to newest, linked both
	 * ways, every one found in the table. */
	for (u32 k = 0; k < 3; k++) {
		struct ioeventfd *older = NULL;
		u32 m = 0;
		for (struct ioeventfd *p = t->index_oldest[k]; p;
		     older = p, p = p->index_newer, m++) {
			u64 e;
			bad += p->index_older != older;
			bad += index_of(t, p, &e) != tabs[k];
		}
		bad += t->index_newest[k] != older || m != tabs[k]->live;
	}
	return bad;
}

/* ---- basics ---------------------------------------------------------------- */

TEST(test_layout)
{
	struct ffx f;

	ffx_init(&f, false);
	/* The hot fields: both cur words in the table's first cache line. */
	CHECK(offsetof(struct ioeventfd_table, fast_mmio.cur) < 64);
	CHECK(offsetof(struct ioeventfd_table, pio.cur) < 64);
	/* An empty VM: no memory, every lookup misses on its first slot. */
	CHECK_EQ(f.al.live, 0);
	CHECK_EQ(iofast_slots(&f.t.fast_mmio), 0);
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W), -1);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x100, 1, 0), -1);
	CHECK_EQ(probe_len(f.t.fast_mmio.cur, iofast_mmio_key(W)), 1);
	CHECK_EQ(IS_ALIGNED((uintptr_t)cur_slots(f.t.pio.cur), 64), 1);
	/* Key layout: one-hot size, DM bit, port, value. */
	CHECK_EQ(iofast_pio_key(0xabcd, 4), 0xabcd4800ull);
	CHECK_EQ(iofast_pio_dm_key(iofast_pio_key(1, 2), 2, 0xdeadbeef),
		 0xbeef00000001a800ull);
	CHECK_EQ(iofast_pio_dm_key(iofast_pio_key(1, 1), 1, 0x1ff),
		 0xff00000000019800ull);
	CHECK_EQ(iofast_pio_dm_key(iofast_pio_key(1, 4), 4, 0xdeadbeef),
		 0xdeadbeef0001c800ull);
	CHECK_EQ(iofast_mmio_key(0xd0000000), 0xd0000000800ull);
	/* The empty table: no kind, so a PIO lookup reads nothing else. */
	CHECK_EQ(f.t.pio.cur & (IOFAST_HAS_PLAIN | IOFAST_HAS_DM), 0);
	CHECK_EQ(ffx_fini(&f), 0);
}

TEST(test_fast_mmio_rules)
{
	struct ffx f;

	ffx_init(&f, false);
	CHECK_EQ(ioctl_(&f, 0, W + 0x100, 0, 5, 0), 0);
	CHECK_EQ(ioctl_(&f, 0, W + 0x200, 4, 6, 0), 0);		/* sized */
	CHECK_EQ(ioctl_(&f, F_DM, W + 0x300, 8, 7, 9), 0);	/* sized */
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W + 0x100), 5);
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W + 0x101), -1);
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W + 0xff), -1);
	/* A doorbell with a length is the bus's (the exit decodes). */
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W + 0x200), -1);
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W + 0x300), -1);
	CHECK_EQ(f.t.fast_mmio.live, 1);
	/* Every address bit an exit can report (0-51) is in the key. */
	for (u32 b = 0; b < IOFAST_GPA_BITS; b++)
		CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, (W + 0x100) ^ BIT(b)), -1);
	CHECK_EQ(ioctl_(&f, F_DEA, W + 0x100, 0, 5, 0), 0);
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W + 0x100), -1);
	CHECK_EQ(f.t.fast_mmio.live, 0);
	CHECK_EQ(iofast_slots(&f.t.fast_mmio), 0);	/* memory returned */
	CHECK_EQ(check_index(&f.t), 0);

	/* A window reaching past 2^52: doorbells there stay on the buses
	 * only (no exit reports such an address). */
	CHECK_EQ(ioeventfd_set_window(&f.t, BIT(52) - 0x1000, 0x2000), 0);
	CHECK_EQ(ioctl_(&f, 0, BIT(52) - 8, 0, 1, 0), 0);
	CHECK_EQ(ioctl_(&f, 0, BIT(52), 0, 2, 0), 0);
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, BIT(52) - 8), 1);
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, BIT(52)), -1);
	CHECK_EQ(bus_fast(&f, BIT(52)), 2);
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, 0), -1);
	CHECK_EQ(f.t.fast_mmio.live, 1);
	CHECK_EQ(check_index(&f.t), 0);
	CHECK_EQ(ffx_fini(&f), 0);
}

/* A length-0 doorbell at the first byte after RAM is left to the bus: a
 * store running from RAM onto its page must be emulated in full. */
TEST(test_fast_mmio_ram_end)
{
	struct ffx f;

	ffx_init(&f, false);
	ioeventfd_set_ram_end(&f.t, W);
	CHECK_EQ(ioctl_(&f, 0, W, 0, 5, 0), 0);
	CHECK_EQ(ioctl_(&f, 0, W + 8, 0, 6, 0), 0);
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W), -1);
	CHECK_EQ(bus_fast(&f, W), 5);
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W + 8), 6);
	CHECK_EQ(f.t.fast_mmio.live, 1);
	CHECK_EQ(check_index(&f.t), 0);
	CHECK_EQ(ffx_fini(&f), 0);
}

TEST(test_pio_rules)
{
	struct ffx f;

	ffx_init(&f, false);
	CHECK_EQ(ioctl_(&f, F_PIO, 0x100, 1, 1, 0), 0);		/* wildcard */
	CHECK_EQ(ioctl_(&f, F_PIO | F_DM, 0x100, 2, 2, 0x1234), 0);
	CHECK_EQ(ioctl_(&f, F_PIO | F_DM, 0x100, 2, 3, 0x5678), 0);
	CHECK_EQ(ioctl_(&f, F_PIO | F_DM, 0x100, 4, 4, 0xffffffff), 0);
	CHECK_EQ(ioctl_(&f, F_PIO | F_DM, 0x104, 1, 5, 0x1ff), 0); /* never */
	CHECK_EQ(ioctl_(&f, F_PIO, 0x108, 8, 6, 0), 0);		/* never */
	CHECK_EQ(f.t.pio.live, 1);		/* the wildcard */
	CHECK_EQ(f.t.pio_dm.live, 3);
	/* Wildcard: any value of its size. */
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x100, 1, 0), 1);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x100, 1, 0xffffffff), 1);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x101, 1, 0), -1);
	/* Datamatch: the value at the access size. */
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x100, 2, 0x1234), 2);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x100, 2, 0xabcd1234), 2);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x100, 2, 0x5678), 3);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x100, 2, 0x1235), -1);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x100, 4, 0x1234), -1);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x100, 4, 0xffffffff), 4);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x100, 4, 0xfffffffe), -1);
	/* Wider datamatch than the access: never, on the bus as here. */
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x104, 1, 0xff), -1);
	CHECK_EQ(bus_pio(&f, 0x104, 1, 0xff), -1);
	CHECK_EQ(bus_pio(&f, 0x100, 2, 0xabcd1234), 2);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x108, 8, 0), -1);
	CHECK_EQ(ioctl_(&f, F_PIO | F_DM | F_DEA, 0x100, 2, 2, 0x1234), 0);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x100, 2, 0x1234), -1);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x100, 2, 0x5678), 3);
	CHECK_EQ(check_index(&f.t), 0);
	CHECK_EQ(ffx_fini(&f), 0);
}

/* KVM's experiment: 200 datamatch values on one port; every lookup stays a
 * probe or two, and a wildcard of another size shares the port. */
TEST(test_pio_many_values_one_port)
{
	struct ffx f;
	u32 worst = 0, sum = 0;

	ffx_init(&f, false);
	for (u32 v = 0; v < 200; v++)
		CHECK_EQ(ioctl_(&f, F_PIO | F_DM, 0xc000, 4, (s32)v, v * 4), 0);
	CHECK_EQ(ioctl_(&f, F_PIO, 0xc000, 2, 900, 0), 0);
	CHECK_EQ(ioctl_(&f, F_PIO | F_DM, 0xc000, 2, 901, 7), -EEXIST);
	for (u32 v = 0; v < 200; v++) {
		u32 n = pio_probes(&f.t, 0xc000, 4, v * 4);
		worst = MAX(worst, n);
		sum += n;
		CHECK_EQ(ioeventfd_pio_find(&f.t, 0xc000, 4, v * 4), (s32)v);
		CHECK_EQ(ioeventfd_pio_find(&f.t, 0xc000, 4, v * 4 + 1), -1);
		CHECK_EQ(bus_pio(&f, 0xc000, 4, v * 4), (s32)v);
	}
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0xc000, 2, 12345), 900);
	printf("  200 values on one port: %u slots, %.2f slots per hit "
	       "(both probes), worst %u\n", iofast_slots(&f.t.pio_dm),
	       sum / 200.0, worst);
	CHECK(worst <= 8);
	CHECK_EQ(check_index(&f.t), 0);
	CHECK_EQ(ffx_fini(&f), 0);
}

/* ---- growth, shrinking, tombstones ---------------------------------------- */

TEST(test_grow_shrink_tombstones)
{
	struct ffx f;
	u32 max_slots = 0;

	ffx_init(&f, false);
	/* Growth: at most 3/8 used, at most a quarter after a rebuild. */
	for (u32 i = 0; i < 1000; i++) {
		CHECK_EQ(ioctl_(&f, 0, W + 8ull * i, 0, (s32)(i % 1024), 0), 0);
		u32 s = iofast_slots(&f.t.fast_mmio);
		CHECK(f.t.fast_mmio.used * 8 <= s * 3);
		max_slots = MAX(max_slots, s);
	}
	/* Growth happened at 769 entries (2,048 slots 3/8 used), to the
	 * power of two at least four times 769. */
	CHECK_EQ(max_slots, 4096);
	CHECK_EQ(check_index(&f.t), 0);
	/* Churn at a steady population: one out, a new one in. Tombstones
	 * pile up and are swept by rebuilds; the table stays bounded. */
	static u64 addr[1000];
	u32 rebuilds = 0, max_used = 0;
	uintptr_t last = f.t.fast_mmio.cur;
	for (u32 i = 0; i < 1000; i++)
		addr[i] = W + 8ull * i;
	for (u32 r = 0; r < 20000; r++) {
		u32 i = (u32)(test_rand() % 1000);
		CHECK_EQ(ioctl_(&f, F_DEA, addr[i], 0, (s32)(i % 1024), 0), 0);
		addr[i] = W + 0x10000 + 8ull * r;
		CHECK_EQ(ioctl_(&f, 0, addr[i], 0, (s32)(i % 1024), 0), 0);
		rebuilds += f.t.fast_mmio.cur != last;
		last = f.t.fast_mmio.cur;
		max_used = MAX(max_used, f.t.fast_mmio.used);
		CHECK(f.t.fast_mmio.used * 8 <= iofast_slots(&f.t.fast_mmio) * 3);
	}
	printf("  churn: 20,000 out-and-in at 1,000 entries: %u rebuilds, "
	       "%u slots, at most %u used\n", rebuilds,
	       iofast_slots(&f.t.fast_mmio), max_used);
	CHECK(rebuilds >= 5 && rebuilds <= 40);
	CHECK_EQ(iofast_slots(&f.t.fast_mmio), 4096);
	CHECK_EQ(check_index(&f.t), 0);
	/* Shrink as they leave; the last one returns the memory. */
	for (u32 i = 0; i < 1000; i++) {
		CHECK_EQ(ioctl_(&f, F_DEA, addr[i], 0, (s32)(i % 1024), 0), 0);
		u32 s = iofast_slots(&f.t.fast_mmio), live = f.t.fast_mmio.live;
		CHECK(s == 0 || s <= IOFAST_MIN_SLOTS || live * 16 >= s);
	}
	CHECK_EQ(iofast_slots(&f.t.fast_mmio), 0);
	CHECK_EQ(check_index(&f.t), 0);
	iobus_reclaim(&f.t.ep);
	CHECK_EQ(f.al.live, 0);
	CHECK_EQ(ffx_fini(&f), 0);
}

/* The first doorbell registered keeps its home slot through every rebuild
 * (rebuilds fill oldest first): its lookup costs the same at 1 and at 64K. */
TEST(test_oldest_keeps_home_slot)
{
	struct ffx f;

	ffx_init(&f, true);
	CHECK_EQ(ioctl_(&f, 0, W + 0x1000, 0, 1, 0), 0);
	CHECK_EQ(ioctl_(&f, F_PIO, 0x200, 2, 2, 0), 0);
	for (u32 i = 0; i < 30000; i++) {
		CHECK_EQ(ioctl_(&f, 0, W + 0x10000 + 8ull * i, 0, 3, 0), 0);
		CHECK_EQ(ioctl_(&f, F_PIO | F_DM, 0x1000 + (i & 0xff), 2, 4,
				i >> 8), 0);
		if (i % 1024 == 0) {
			CHECK_EQ(probe_len(f.t.fast_mmio.cur,
					   iofast_mmio_key(W + 0x1000)), 1);
			CHECK_EQ(probe_len(f.t.pio.cur,
					   iofast_pio_key(0x200, 2)), 1);
		}
	}
	CHECK_EQ(probe_len(f.t.fast_mmio.cur, iofast_mmio_key(W + 0x1000)), 1);
	CHECK_EQ(probe_len(f.t.pio.cur, iofast_pio_key(0x200, 2)), 1);
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W + 0x1000), 1);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x200, 2, 77), 2);
	CHECK_EQ(check_index(&f.t), 0);
	CHECK_EQ(ffx_fini(&f), 0);
}

/* ---- -ENOMEM: nothing changes ---------------------------------------------- */

struct index_snap {
	uintptr_t cur[3];
	u32 live[3], used[3], count;
	struct iobus_array *bus[IOBUS_NR];
	long blocks;
};

static struct index_snap isnap(struct ffx *f)
{
	struct index_snap s = {
		{ f->t.fast_mmio.cur, f->t.pio.cur, f->t.pio_dm.cur },
		{ f->t.fast_mmio.live, f->t.pio.live, f->t.pio_dm.live },
		{ f->t.fast_mmio.used, f->t.pio.used, f->t.pio_dm.used },
		f->t.count, { NULL }, f->al.live,
	};
	for (u32 b = 0; b < IOBUS_NR; b++)
		s.bus[b] = f->t.buses[b].cur;
	return s;
}

/* Fails each allocation of the ioctl in turn; each failure must be -ENOMEM
 * with tables, buses and memory as they were. Returns the allocations of the
 * successful run, or -1. */
static long failure_points(struct ffx *f, u64 flags, u64 addr, u32 len,
			   s32 ev, u64 dm)
{
	for (long k = 1; k < 16; k++) {
		struct index_snap before = isnap(f), after;
		int ret;
		long allocs;

		talloc_arm(&f->al, k);
		ret = ioctl_(f, flags, addr, len, ev, dm);
		allocs = f->al.allocs;
		talloc_arm(&f->al, 0);
		if (ret == 0)
			return allocs == k - 1 ? allocs : -1;
		after = isnap(f);
		if (ret != -ENOMEM || memcmp(&before, &after, sizeof(before)) ||
		    check_index(&f->t))
			return -1;
	}
	return -1;
}

TEST(test_enomem_leaves_tables)
{
	struct ffx f;

	ffx_init(&f, false);
	/* The first fast-MMIO doorbell: doorbell, MMIO, FAST_MMIO, table. */
	CHECK_EQ(failure_points(&f, 0, W, 0, 1, 0), 4);
	CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W), 1);
	/* In place (8 slots, up to 3 used): no table allocation. */
	CHECK_EQ(failure_points(&f, 0, W + 8, 0, 2, 0), 3);
	CHECK_EQ(ioctl_(&f, 0, W + 16, 0, 3, 0), 0);
	/* The fourth needs 16 slots. */
	CHECK_EQ(iofast_slots(&f.t.fast_mmio), 8);
	CHECK_EQ(failure_points(&f, 0, W + 24, 0, 4, 0), 4);
	CHECK_EQ(iofast_slots(&f.t.fast_mmio), 16);
	CHECK_EQ(ioctl_(&f, 0, W + 32, 0, 5, 0), 0);
	for (u32 i = 0; i < 5; i++)
		CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W + 8 * i), (s32)i + 1);
	/* PIO: the first one allocates doorbell, PIO array, table. */
	CHECK_EQ(failure_points(&f, F_PIO | F_DM, 0x300, 4, 9, 0x99), 3);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x300, 4, 0x99), 9);
	/* Removing the last PIO one: nothing to allocate (the bus and the
	 * table become empty; the table points at the static block). */
	CHECK_EQ(failure_points(&f, F_PIO | F_DM | F_DEA, 0x300, 4, 9, 0x99), 0);
	CHECK_EQ(iofast_slots(&f.t.pio_dm), 0);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x300, 4, 0x99), -1);
	/* Shrinking on a deassign: 40 in (128 slots), then out one by one:
	 * 128 -> 32 at 7 left, 32 -> 8 at 1 left, then the empty block.
	 * A shrink allocates (PIO array + table), others the array only. */
	for (u32 i = 0; i < 40; i++)
		CHECK_EQ(ioctl_(&f, F_PIO | F_DM, 0x400, 1, (s32)i, i), 0);
	CHECK_EQ(iofast_slots(&f.t.pio_dm), 128);
	int shrinks = 0, bad = 0;
	for (u32 i = 0; i < 39; i++) {
		long a = failure_points(&f, F_PIO | F_DM | F_DEA, 0x400, 1,
					(s32)i, i);
		shrinks += a == 2;
		bad += a != 1 && a != 2;
		if (i == 32)
			CHECK_EQ(iofast_slots(&f.t.pio_dm), 32);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(shrinks, 2);
	CHECK_EQ(iofast_slots(&f.t.pio_dm), 8);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x400, 1, 39), 39);
	CHECK_EQ(ioeventfd_pio_find(&f.t, 0x400, 1, 0), -1);
	CHECK_EQ(failure_points(&f, F_PIO | F_DM | F_DEA, 0x400, 1, 39, 39), 0);
	CHECK_EQ(iofast_slots(&f.t.pio_dm), 0);
	CHECK_EQ(check_index(&f.t), 0);
	CHECK_EQ(ffx_fini(&f), 0);
}

/* ---- clusters at the end of the block: the padding grows ------------------ */

/* Doorbells whose hash puts them in the last hashed slot of every table up
 * to 2^16 slots (the top 16 bits of key * IOFAST_HASH_MUL all ones): a
 * guest choosing addresses to make the walks run off the end. The table
 * keeps working (walks grow, the pad doubles) and its size stays that of
 * its population. */
TEST(test_cluster_at_end)
{
	struct ffx f;
	static u64 adv[48];
	u32 nadv = 0, max_total = 0;
	int bad = 0, refills = 0;

	for (u64 a = W; nadv < ARRAY_SIZE(adv); a += 4)
		if ((iofast_mmio_key(a) * IOFAST_HASH_MUL) >> 48 == 0xffff)
			adv[nadv++] = a;
	ffx_init(&f, false);
	for (u32 i = 0; i < 16; i++)
		CHECK_EQ(ioctl_(&f, 0, W + 0x100 + 8ull * i, 0, (s32)i, 0), 0);
	for (u32 i = 0; i < nadv; i++) {
		/* Every allocation of the insert (refills included) may
		 * fail without a trace. */
		long a = failure_points(&f, 0, adv[i], 0, (s32)(100 + i), 0);
		CHECK(a >= 3);
		refills += a >= 5;
		for (u32 j = 0; j <= i; j++)
			bad += ioeventfd_fast_mmio_find(&f.t, adv[j]) != (s32)(100 + j);
		bad += check_index(&f.t);
		max_total = MAX(max_total, (u32)cur_total(f.t.fast_mmio.cur));
	}
	CHECK_EQ(bad, 0);
	CHECK(refills > 0);	/* a rebuild's fill ran off the end */
	u32 nslots = iofast_slots(&f.t.fast_mmio);
	u32 pad = (u32)cur_total(f.t.fast_mmio.cur) - nslots;
	printf("  %u doorbells homed in the last slot (+16 others): %u hashed "
	       "slots, pad %u, walk to the last %u slots\n", nadv, nslots, pad,
	       probe_len(f.t.fast_mmio.cur, iofast_mmio_key(adv[nadv - 1])));
	CHECK_EQ(nslots, rebuild_slots(nadv + 16));
	CHECK(pad >= nadv && pad <= 4 * (nadv + 16));
	for (u32 i = 0; i < nadv; i++)
		CHECK_EQ(ioctl_(&f, F_DEA, adv[i], 0, (s32)(100 + i), 0), 0);
	CHECK_EQ(check_index(&f.t), 0);
	for (u32 i = 0; i < 16; i++)
		CHECK_EQ(ioeventfd_fast_mmio_find(&f.t, W + 0x100 + 8ull * i), (s32)i);
	CHECK_EQ(ffx_fini(&f), 0);
}

/* ---- 10^5 seeded random operations: the tables agree with the buses -------- */

static const u64 r_mmio[] = {
	W, W + 1, W + 4, W + 8, W + 0x10, W + 0xffc, W + 0x1000, W + 0x1004,
	W + 0x2000, W + 0x10000, W - 8, W + 0x40000,
};
static const u16 r_ports[] = {
	0x100, 0x101, 0x102, 0x104, 0x200, 0x201, 0x3f8, 0xfffe, 0xffff,
	0xfffc, 0x7000,
};
static const u64 r_values[] = {
	0, 1, 2, 0x7f, 0xff, 0x100, 0x1ff, 0xffff, 0x10000, 0xffffffff,
	0x100000000ull, 0x12345678,
};
static const u32 r_lens[] = { 0, 1, 2, 4, 8 };
static const u32 r_sizes[] = { 1, 2, 4 };

#define PICK(a) ((a)[test_rand() % ARRAY_SIZE(a)])

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

/* Every lookup the random test makes, compared with the bus. */
struct agree {
	long lookups, hits, mismatches;
};

static void agree_fast(struct ffx *f, struct agree *a, u64 gpa)
{
	s32 want = bus_fast(f, gpa), got = ioeventfd_fast_mmio_find(&f->t, gpa);

	a->lookups++;
	a->hits += want >= 0;
	if (got != want) {
		if (a->mismatches++ < 5)
			printf("  fast 0x%llx: table %d, bus %d\n", gpa, got, want);
	}
}

static void agree_pio(struct ffx *f, struct agree *a, u16 port, u32 size,
		      u32 val)
{
	s32 want = bus_pio(f, port, size, val);
	s32 got = ioeventfd_pio_find(&f->t, port, size, val);

	a->lookups++;
	a->hits += want >= 0;
	if (got != want) {
		if (a->mismatches++ < 5)
			printf("  pio 0x%x/%u 0x%x: table %d, bus %d\n", port,
			       size, val, got, want);
	}
}

/* A lookup near an existing doorbell: itself, a neighbour address, another
 * size, another value, high bits. */
static void random_lookups(struct ffx *f, struct agree *af, struct agree *ap)
{
	struct ioeventfd *p = f->t.list;
	u32 skip = (u32)(test_rand() % (f->t.count + 1));

	for (u32 i = 0; p && i < skip; i++)
		p = p->next;
	for (int k = 0; k < 4; k++) {
		u64 gpa = PICK(r_mmio);
		u16 port = PICK(r_ports);
		u32 size = PICK(r_sizes), val = (u32)PICK(r_values);
		if (p && test_rand() % 2) {
			if (p->bus == IOBUS_MMIO) {
				gpa = p->addr;
			} else {
				port = (u16)p->addr;
				if (p->len <= 4 && test_rand() % 4)
					size = p->len;
				if (!p->wildcard && test_rand() % 4)
					val = (u32)p->datamatch;
			}
		}
		switch (test_rand() % 8) {
		case 0: gpa += 1; port = (u16)(port + 1); break;
		case 1: gpa -= 4; val ^= 1; break;
		/* Any address bit an exit can report (below 2^52). */
		case 2: gpa ^= BIT(test_rand() % IOFAST_GPA_BITS); val |= 0xff00; break;
		case 3: val |= 0xffff0000u; break;	/* above a small size */
		default: break;
		}
		agree_fast(f, af, gpa);
		agree_pio(f, ap, port, size, val);
	}
}

TEST(test_random_agree_with_bus)
{
	static struct ffx f;
	struct agree af = { 0 }, ap = { 0 };
	long rets[2][9] = { { 0 } }, enomem_changed = 0, index_bad = 0;
	u32 max_fast = 0, max_pio = 0;
	u64 seed = 0x10fa57ull;
	const char *env = getenv("IOFAST_SEED");

	if (env)
		seed = strtoull(env, NULL, 0);
	test_seed(seed);
	printf("  seed 0x%llx (IOFAST_SEED=0x%llx repeats it)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	ffx_init(&f, false);
	for (long op = 0; op < 100000; op++) {
		/* Phases of filling and draining, so the tables grow and
		 * shrink: deassign more often in the second half of each
		 * 4,000 operations. */
		bool draining = (op / 2000) % 2 == 1;
		bool dea = test_rand() % 10 < (draining ? 6u : 2u);
		struct doorbell_ioeventfd d;
		struct index_snap before;
		int ret;

		memset(&d, 0, sizeof(d));
		if (dea && f.t.count && test_rand() % 4) {
			/* An existing doorbell, sometimes one field off. */
			struct ioeventfd *p = f.t.list;
			for (u32 i = (u32)(test_rand() % f.t.count); i; i--)
				p = p->next;
			d.flags = (u32)((p->bus == IOBUS_PIO ? F_PIO : 0) |
					(p->wildcard ? 0 : F_DM));
			d.addr = p->addr;
			d.len = p->len;
			d.event = p->event;
			d.datamatch = p->datamatch;
			if (test_rand() % 8 == 0)
				d.datamatch ^= 1;
		} else {
			bool pio = test_rand() % 2;
			d.flags = (u32)((pio ? F_PIO : 0) |
					(test_rand() % 2 ? F_DM : 0));
			d.addr = pio ? PICK(r_ports) : PICK(r_mmio);
			d.len = PICK(r_lens);
			if (!pio && test_rand() % 2)
				d.len = 0;	/* fast MMIO, often */
			if (pio && d.len == 0)
				d.len = PICK(r_sizes);
			if (!d.len)
				d.flags &= ~(u32)F_DM;
			d.event = (s32)(test_rand() % 16);
			d.datamatch = PICK(r_values);
			if (test_rand() % 4 == 0)	/* many values */
				d.datamatch = test_rand() % 1024;
		}
		if (dea)
			d.flags |= (u32)F_DEA;
		before = isnap(&f);
		if (test_rand() % 16 == 0)
			talloc_arm(&f.al, 1 + (long)(test_rand() % 4));
		ret = ioeventfd_ioctl(&f.t, &d);
		talloc_arm(&f.al, 0);
		if (ret == -ENOMEM) {
			struct index_snap after = isnap(&f);
			enomem_changed += memcmp(&before, &after,
						 sizeof(before)) != 0;
		}
		rets[dea][err_index(ret)]++;
		if (op % 16 == 0 || f.t.count < 64)
			index_bad += check_index(&f.t) != 0;
		random_lookups(&f, &af, &ap);
		max_fast = MAX(max_fast, iofast_slots(&f.t.fast_mmio));
		max_pio = MAX(max_pio, MAX(iofast_slots(&f.t.pio), iofast_slots(&f.t.pio_dm)));
		/* A full sweep now and then: every address, port, size. */
		if (op % 5000 == 4999) {
			for (u32 i = 0; i < ARRAY_SIZE(r_mmio); i++)
				agree_fast(&f, &af, r_mmio[i]);
			for (u32 i = 0; i < ARRAY_SIZE(r_ports); i++)
				for (u32 s = 0; s < 3; s++)
					for (u32 v = 0; v < ARRAY_SIZE(r_values); v++)
						agree_pio(&f, &ap, r_ports[i],
							  r_sizes[s],
							  (u32)r_values[v]);
		}
	}
	printf("  assign 0:%ld EINVAL:%ld EPERM:%ld EEXIST:%ld ENOMEM:%ld; "
	       "deassign 0:%ld ENOENT:%ld ENOMEM:%ld\n", rets[0][0],
	       rets[0][1], rets[0][3], rets[0][4], rets[0][6], rets[1][0],
	       rets[1][7], rets[1][6]);
	printf("  fast: %ld lookups, %ld hits; pio: %ld lookups, %ld hits; "
	       "largest tables %u and %u slots\n", af.lookups, af.hits,
	       ap.lookups, ap.hits, max_fast, max_pio);
	CHECK_EQ(af.mismatches, 0);
	CHECK_EQ(ap.mismatches, 0);
	CHECK_EQ(enomem_changed, 0);
	CHECK_EQ(index_bad, 0);
	/* The comparison meant something: hits, misses, every outcome. */
	CHECK(af.hits > 10000 && af.lookups - af.hits > 10000);
	CHECK(ap.hits > 10000 && ap.lookups - ap.hits > 10000);
	CHECK(rets[0][0] > 1000 && rets[0][4] > 1000 && rets[0][6] > 100);
	CHECK(rets[1][0] > 1000 && rets[1][7] > 100 && rets[1][6] > 10);
	CHECK(max_pio >= 256);
	CHECK_EQ(ffx_fini(&f), 0);
}

/* ---- 65,536 doorbells ------------------------------------------------------ */

struct probe_stats {
	u32 n, worst;
	double sum;
};

static void stat_add(struct probe_stats *s, u32 n)
{
	s->n++;
	s->sum += n;
	s->worst = MAX(s->worst, n);
}

static void fill_fast(struct ffx *f, u64 stride, const char *name)
{
	struct probe_stats hit = { 0 }, miss = { 0 };
	int failures = 0, wrong = 0;

	f->al.bytes = 0;
	for (u32 i = 0; i < IOEVENTFD_MAX; i++)
		failures += ioctl_(f, 0, W + stride * i, 0, (s32)(i % 1024), 0) != 0;
	CHECK_EQ(failures, 0);
	CHECK_EQ(f->t.fast_mmio.live, IOEVENTFD_MAX);
	CHECK_EQ(ioctl_(f, F_PIO, 0x100, 1, 1, 0), -ENOSPC);
	for (u32 i = 0; i < IOEVENTFD_MAX; i++) {
		u64 a = W + stride * i;
		wrong += ioeventfd_fast_mmio_find(&f->t, a) != (s32)(i % 1024);
		wrong += ioeventfd_fast_mmio_find(&f->t, a + 2) != -1;
		stat_add(&hit, probe_len(f->t.fast_mmio.cur, iofast_mmio_key(a)));
		stat_add(&miss, probe_len(f->t.fast_mmio.cur,
					  iofast_mmio_key(a + 2)));
		if (i % 4096 == 0)
			wrong += bus_fast(f, a) != (s32)(i % 1024);
	}
	CHECK_EQ(wrong, 0);
	CHECK_EQ(probe_len(f->t.fast_mmio.cur, iofast_mmio_key(W)), 1);
	CHECK(hit.sum / hit.n < 1.3 && miss.sum / miss.n < 2.0);
	printf("  65,536 fast-MMIO, stride %s: %u slots (%u KiB), slots per "
	       "hit %.3f (worst %u), per miss %.3f (worst %u)\n", name,
	       iofast_slots(&f->t.fast_mmio),
	       iofast_bytes(&f->t.fast_mmio) / 1024,
	       hit.sum / hit.n, hit.worst, miss.sum / miss.n, miss.worst);
	CHECK_EQ(check_index(&f->t), 0);
}

TEST(test_65536_fast_mmio)
{
	static struct ffx f;
	const u64 strides[] = { 8, 4, 4096 };
	const char *names[] = { "8", "4", "4096" };

	for (u32 s = 0; s < ARRAY_SIZE(strides); s++) {
		ffx_init(&f, true);
		fill_fast(&f, strides[s], names[s]);
		/* All out again: back to no memory. */
		int failures = 0;
		for (u32 i = 0; i < IOEVENTFD_MAX; i++)
			failures += ioctl_(&f, F_DEA, W + strides[s] * i, 0,
					   (s32)(i % 1024), 0) != 0;
		CHECK_EQ(failures, 0);
		CHECK_EQ(iofast_slots(&f.t.fast_mmio), 0);
		CHECK_EQ(ffx_fini(&f), 0);
	}
}

TEST(test_65536_pio)
{
	static struct ffx f;
	struct probe_stats hit = { 0 }, miss = { 0 };
	int failures = 0, wrong = 0;
	const u32 first = 0x1000;

	/* 256 ports with 256 one-byte values each. */
	ffx_init(&f, true);
	for (u32 i = 0; i < IOEVENTFD_MAX; i++)
		failures += ioctl_(&f, F_PIO | F_DM, first + (i >> 8), 1,
				   (s32)(i % 1024), i & 0xff) != 0;
	CHECK_EQ(failures, 0);
	CHECK_EQ(f.t.pio_dm.live, IOEVENTFD_MAX);
	CHECK_EQ(f.t.pio.live, 0);
	for (u32 i = 0; i < IOEVENTFD_MAX; i++) {
		u16 port = (u16)(first + (i >> 8));
		wrong += ioeventfd_pio_find(&f.t, port, 1, i & 0xff) !=
			 (s32)(i % 1024);
		wrong += ioeventfd_pio_find(&f.t, port, 2, i & 0xff) != -1;
		stat_add(&hit, pio_probes(&f.t, port, 1, i & 0xff));
		stat_add(&miss, pio_probes(&f.t, port, 2, i & 0xff));
		if (i % 4096 == 0)
			wrong += bus_pio(&f, port, 1, i & 0xff) != (s32)(i % 1024);
	}
	CHECK_EQ(wrong, 0);
	CHECK(hit.sum / hit.n < 1.5 && miss.sum / miss.n < 2.5);
	printf("  65,536 PIO datamatch (256 ports x 256 values): %u slots "
	       "(%u KiB), slots per hit %.3f (worst %u), per miss %.3f "
	       "(worst %u); no wildcards, so one probe\n", iofast_slots(&f.t.pio_dm),
	       iofast_bytes(&f.t.pio_dm) / 1024,
	       hit.sum / hit.n, hit.worst, miss.sum / miss.n, miss.worst);
	CHECK_EQ(check_index(&f.t), 0);
	CHECK_EQ(ffx_fini(&f), 0);
}

/* ---- concurrency: lookups while the writer rebuilds ------------------------- */

enum { CC_TEMP = 256, CC_WRITER_OPS = 40000, CC_READERS = 2 };

struct cc {
	struct talloc al;
	struct iobus_mem mem;
	struct ioeventfd_table t;
	int done;
	/* rounds and temp_hits: reader i's progress (test_progress_set). */
	long bad[CC_READERS], rounds[CC_READERS], temp_hits[CC_READERS];
};



struct cc_arg {
	struct cc *cc;
	u32 id;
};

static void cc_signal(void *ctx, s32 event)
{
	(void)ctx;
	(void)event;
}

/* Temporary doorbell k: even k fast MMIO; k % 4 == 1 a PIO wildcard on a
 * port of its own; k % 4 == 3 a PIO datamatch (value k) on one port. The
 * PIO table's kind bits come and go with them. */
static u64 cc_addr(u32 k) { return W + 0x1000 + 8ull * k; }
#define CC_PORT 0x5000
static u16 cc_wport(u32 k) { return (u16)(CC_PORT + 8 + k); }

static void *cc_reader(void *p)
{
	struct cc_arg *a = p;
	struct cc *c = a->cc;
	u64 rng = 0x1234567ull + a->id;
	long bad = 0, n = 0, temp = 0;

	iobus_reader_online(&c->t.ep, a->id);
	while (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE)) {
		for (int j = 0; j < 16; j++) {
			rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
			u32 k = (u32)(rng % CC_TEMP);
			s32 r;
			/* Always there. */
			bad += ioeventfd_fast_mmio_find(&c->t, W) != 1000;
			/* Coming and going: its own event, or nothing. */
			if (k % 2 == 0)
				r = ioeventfd_fast_mmio_find(&c->t, cc_addr(k));
			else if (k % 4 == 1)
				r = ioeventfd_pio_find(&c->t, cc_wport(k), 1,
						       (u32)rng);
			else
				r = ioeventfd_pio_find(&c->t, CC_PORT, 4, k);
			bad += r != -1 && r != (s32)k;
			temp += r == (s32)k;
			/* Never there. */
			bad += ioeventfd_fast_mmio_find(&c->t, cc_addr(k) + 4) != -1;
			bad += ioeventfd_pio_find(&c->t, CC_PORT, 2, k) != -1;
		}
		n++;
		test_progress_set(&c->rounds[a->id], n);
		test_progress_set(&c->temp_hits[a->id], temp);
		iobus_reader_quiescent(&c->t.ep, a->id);
	}
	iobus_reader_offline(&c->t.ep, a->id);
	c->bad[a->id] = bad;
	return NULL;
}

TEST(test_concurrent_lookups)
{
	static struct cc c;
	struct cc_arg args[CC_READERS];
	struct ioeventfd_hooks hooks = { cc_signal, NULL, NULL, NULL };
	static bool present[CC_TEMP];
	pthread_t th[CC_READERS];
	u64 rng = 0xfeedull;
	int errors = 0;
	u32 grow = 0, slots_seen = 0, kind_flips = 0;
	uintptr_t last_fast = 0;

	memset(&c, 0, sizeof(c));
	memset(present, 0, sizeof(present));
	c.mem = (struct iobus_mem){ t_alloc, t_free, &c.al };
	ioeventfd_table_init(&c.t, &c.mem, &hooks);
	CHECK_EQ(ioeventfd_ioctl(&c.t, &(struct doorbell_ioeventfd){
		.addr = W, .len = 0, .event = 1000 }), 0);
	for (u32 i = 0; i < CC_READERS; i++) {
		args[i] = (struct cc_arg){ &c, i };
		CHECK_EQ(pthread_create(&th[i], NULL, cc_reader, &args[i]), 0);
	}
	for (int op = 0; op < CC_WRITER_OPS; op++) {
		/* Every 1,000 changes, the readers must have moved on. */
		if (op % 1000 == 0)
			test_progress_wait(c.rounds, CC_READERS, op / 1000 + 1);
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		/* Sweep the population up to all and down to none, so the
		 * tables grow, shrink and empty under the readers. */
		bool filling = (op / 1500) % 2 == 0;
		u32 k = (u32)(rng % CC_TEMP);
		if (present[k] == filling)
			continue;
		struct doorbell_ioeventfd d = {
			.addr = cc_addr(k), .len = 0, .event = (s32)k,
			.flags = present[k] ? (u32)F_DEA : 0,
		};
		if (k % 4 == 1) {
			d.addr = cc_wport(k);
			d.len = 1;
			d.flags |= (u32)F_PIO;
		} else if (k % 4 == 3) {
			d.addr = CC_PORT;
			d.len = 4;
			d.flags |= (u32)(F_PIO | F_DM);
			d.datamatch = k;
		}
		uintptr_t kinds_before = (c.t.pio.cur | c.t.pio_dm.cur) &
					 (IOFAST_HAS_PLAIN | IOFAST_HAS_DM);
		errors += ioeventfd_ioctl(&c.t, &d) != 0;
		kind_flips += ((c.t.pio.cur | c.t.pio_dm.cur) &
			       (IOFAST_HAS_PLAIN | IOFAST_HAS_DM)) != kinds_before;
		present[k] = !present[k];
		if (c.t.fast_mmio.cur != last_fast)
			grow++;
		last_fast = c.t.fast_mmio.cur;
		slots_seen = MAX(slots_seen, MAX(iofast_slots(&c.t.pio), iofast_slots(&c.t.pio_dm)));
	}
	/* The sweep ends filling, so temporary doorbells are present: every
	 * reader finds one sooner or later. */
	test_progress_wait(c.temp_hits, CC_READERS, 1);
	__atomic_store_n(&c.done, 1, __ATOMIC_RELEASE);
	for (u32 i = 0; i < CC_READERS; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(errors, 0);
	for (u32 i = 0; i < CC_READERS; i++) {
		CHECK_EQ(c.bad[i], 0);
		CHECK(c.rounds[i] > 0 && c.temp_hits[i] > 0);
	}
	CHECK(grow > 10);		/* blocks replaced under the readers */
	CHECK(slots_seen >= 256);
	CHECK(kind_flips > 10);
	printf("  concurrent: %u fast-MMIO blocks published, PIO up to %u "
	       "slots, PIO kinds changed %u times; reader rounds %ld + %ld\n",
	       grow, slots_seen, kind_flips, c.rounds[0], c.rounds[1]);
	ioeventfd_table_destroy(&c.t);
	CHECK_EQ(c.al.live, 0);
	CHECK_EQ(c.al.bad_frees, 0);
}

int main(void)
{
	RUN(test_layout);
	RUN(test_fast_mmio_rules);
	RUN(test_fast_mmio_ram_end);
	RUN(test_pio_rules);
	RUN(test_pio_many_values_one_port);
	RUN(test_grow_shrink_tombstones);
	RUN(test_oldest_keeps_home_slot);
	RUN(test_enomem_leaves_tables);
	RUN(test_cluster_at_end);
	RUN(test_random_agree_with_bus);
	RUN(test_65536_fast_mmio);
	RUN(test_65536_pio);
	RUN(test_concurrent_lookups);
	return TEST_SUMMARY();
}
