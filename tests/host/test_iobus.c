/* Host tests for iobus/iobus.c: range matching, ordering across overlapping
 * ranges, binary vs linear lookup, capacity, two-phase updates under
 * allocation failure, grace periods, and a pthread reader/writer test; then
 * the two-level storage: chunk splits and merges, ranges and equal keys
 * across chunk boundaries, every allocation failure point, the bytes one
 * update costs on a full bus, a larger random model, and readers racing
 * splits and merges. */
#include "iobus/epoch.c"
#include "iobus/iobus.c"
#include "tests/host/test.h"

#include <pthread.h>

#include "tests/host/talloc.h"

/* ---- test devices -------------------------------------------------------- */

#define ACCEPT_ALL  UINT64_MAX
#define ACCEPT_NONE (UINT64_MAX - 1)

struct tdev {
	struct iobus_device dev;
	int id;
	u64 accept;		/* the value it takes, or ACCEPT_ALL/NONE */
	u64 read_value;
};

/* What the last lookup offered, in order (single-threaded tests). */
static int offered[1100];	/* more than a chunk of equal keys */
static int noffered;

static int tdev_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	struct tdev *t = (struct tdev *)d;
	u64 v = 0;

	(void)addr;
	if (len)
		memcpy(&v, val, len);
	if (noffered < (int)ARRAY_SIZE(offered))
		offered[noffered++] = t->id;
	if (t->accept == ACCEPT_ALL || (t->accept != ACCEPT_NONE && v == t->accept))
		return 0;
	return -EOPNOTSUPP;
}

static int tdev_read(struct iobus_device *d, u64 addr, u32 len, void *val)
{
	struct tdev *t = (struct tdev *)d;

	(void)addr;
	if (noffered < (int)ARRAY_SIZE(offered))
		offered[noffered++] = t->id;
	if (t->accept == ACCEPT_NONE)
		return -EOPNOTSUPP;
	memcpy(val, &t->read_value, len);
	return 0;
}

static const struct iobus_device_ops tdev_ops = { .read = tdev_read, .write = tdev_write };
static const struct iobus_device_ops tdev_wo_ops = { .write = tdev_write };

static void tdev_init(struct tdev *t, int id, u64 accept)
{
	t->dev.ops = &tdev_ops;
	t->id = id;
	t->accept = accept;
	t->read_value = 0;
}

static int bus_w(struct iobus *bus, u64 addr, u32 len, u64 value)
{
	noffered = 0;
	return iobus_write(bus, addr, len, len ? &value : NULL);
}

/* Sorted by (addr, len) across chunks; every max_last the running maximum
 * from its chunk's start, every chunk's the running maximum across chunks;
 * chunks of 1..IOBUS_CHUNK ranges, adjacent ones holding more than
 * CHUNK_MERGE_MAX together; a one-chunk bus's chunk inside the array. */
static bool bus_invariants_hold(struct iobus *bus)
{
	struct iobus_array *a = bus->cur;
	const struct iobus_range *prev = NULL;
	u64 top = 0;
	u32 total = 0;

	if (!a)
		return true;
	if (a->count == 0 || a->nchunks == 0)
		return false;	/* an empty bus publishes NULL */
	if ((a->nchunks == 1) != (a->chunks[0].chunk == array_own_chunk(a)))
		return false;
	for (u32 c = 0; c < a->nchunks; c++) {
		const struct iobus_chunk *ch = a->chunks[c].chunk;
		u64 m = 0;

		if (ch->count == 0 || ch->count > IOBUS_CHUNK)
			return false;
		if (c && chunk_count(a, c - 1) + ch->count <= CHUNK_MERGE_MAX)
			return false;
		for (u32 i = 0; i < ch->count; i++) {
			const struct iobus_range *r = &ch->ranges[i];
			if (prev && key_less(r->addr, r->len, prev->addr,
					     prev->len))
				return false;
			m = MAX(m, range_last(r->addr, r->len));
			if (r->max_last != m)
				return false;
			prev = r;
		}
		top = MAX(top, m);
		if (a->chunks[c].max_last != top)
			return false;
		total += ch->count;
	}
	return total == a->count;
}

struct fixture {
	struct talloc al;
	struct iobus_mem mem;
	struct iobus_epoch ep;
	struct iobus bus;
};

static void fx_init(struct fixture *f, bool pool)
{
	memset(f, 0, sizeof(*f));
	f->al.pool = pool;
	f->mem = (struct iobus_mem){ t_alloc, t_free, &f->al };
	iobus_epoch_init(&f->ep, &f->mem);
	iobus_init(&f->bus, &f->ep);
}

/* Tears down and returns the number of leaked blocks plus frees of the
 * wrong size (0 expected). */
static long fx_fini(struct fixture *f)
{
	iobus_destroy(&f->bus);
	iobus_epoch_destroy(&f->ep);
	talloc_drain(&f->al);
	return f->al.live + f->al.bad_frees;
}

/* ---- tests --------------------------------------------------------------- */

TEST(test_empty_bus)
{
	struct fixture f;
	u64 v = 0;

	fx_init(&f, false);
	CHECK_EQ(iobus_count(&f.bus), 0);
	CHECK_EQ(bus_w(&f.bus, 0x1000, 4, 1), -EOPNOTSUPP);
	CHECK_EQ(iobus_read(&f.bus, 0x1000, 4, &v), -EOPNOTSUPP);
	CHECK_EQ(bus_w(&f.bus, 0x1000, 0, 0), -EOPNOTSUPP);
	CHECK_EQ(fx_fini(&f), 0);
}

TEST(test_register_errors)
{
	struct fixture f;
	struct tdev a, b;
	struct iobus_device noops = { .ops = NULL };

	fx_init(&f, false);
	tdev_init(&a, 1, ACCEPT_ALL);
	tdev_init(&b, 2, ACCEPT_ALL);
	CHECK_EQ(iobus_register(&f.bus, 0x100, 4, NULL), -EINVAL);
	CHECK_EQ(iobus_register(&f.bus, 0x100, 4, &noops), -EINVAL);
	/* The last byte must not pass 2^64 - 1. */
	CHECK_EQ(iobus_register(&f.bus, UINT64_MAX, 2, &a.dev), -EINVAL);
	CHECK_EQ(iobus_register(&f.bus, UINT64_MAX - 0xf, 0x20, &a.dev), -EINVAL);
	CHECK_EQ(iobus_register(&f.bus, UINT64_MAX, 1, &a.dev), 0);
	CHECK_EQ(iobus_register(&f.bus, UINT64_MAX, 0, &a.dev), 0);
	CHECK_EQ(iobus_register(&f.bus, UINT64_MAX - 0xf, 0x10, &a.dev), 0);
	CHECK_EQ(iobus_register(&f.bus, 0x100, 4, &a.dev), 0);
	CHECK_EQ(iobus_register(&f.bus, 0x100, 4, &a.dev), -EEXIST);
	CHECK_EQ(iobus_register(&f.bus, 0x100, 4, &b.dev), 0);
	CHECK_EQ(iobus_register(&f.bus, 0x100, 2, &a.dev), 0);
	CHECK_EQ(iobus_count(&f.bus), 6);
	CHECK_EQ(iobus_unregister(&f.bus, 0x100, 4, NULL), -ENOENT);
	CHECK_EQ(iobus_unregister(&f.bus, 0x100, 8, &a.dev), -ENOENT);
	CHECK_EQ(iobus_unregister(&f.bus, 0x104, 4, &a.dev), -ENOENT);
	CHECK_EQ(iobus_unregister(&f.bus, 0x100, 4, &a.dev), 0);
	CHECK_EQ(iobus_unregister(&f.bus, 0x100, 4, &a.dev), -ENOENT);
	CHECK_EQ(iobus_count(&f.bus), 5);
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(iobus_set_lookup(&f.bus, 2), -EINVAL);
	CHECK_EQ(iobus_set_lookup(&f.bus, IOBUS_LOOKUP_LINEAR), 0);
	CHECK_EQ(f.bus.lookup, IOBUS_LOOKUP_LINEAR);
	CHECK_EQ(fx_fini(&f), 0);
}

TEST(test_cover_rules)
{
	struct fixture f;
	struct tdev a, z;

	fx_init(&f, false);
	tdev_init(&a, 1, ACCEPT_ALL);
	tdev_init(&z, 2, ACCEPT_ALL);
	CHECK_EQ(iobus_register(&f.bus, 0x100, 0x10, &a.dev), 0);
	CHECK_EQ(iobus_register(&f.bus, 0x200, 0, &z.dev), 0);
	for (u32 mode = 0; mode < 2; mode++) {
		CHECK_EQ(iobus_set_lookup(&f.bus, mode), 0);
		/* len > 0: [addr, addr + len) inside the range. */
		CHECK_EQ(bus_w(&f.bus, 0x100, 4, 0), 0);
		CHECK_EQ(bus_w(&f.bus, 0x10c, 4, 0), 0);
		CHECK_EQ(bus_w(&f.bus, 0x108, 8, 0), 0);
		CHECK_EQ(bus_w(&f.bus, 0x10f, 1, 0), 0);
		CHECK_EQ(bus_w(&f.bus, 0x10d, 4, 0), -EOPNOTSUPP);
		CHECK_EQ(bus_w(&f.bus, 0x110, 1, 0), -EOPNOTSUPP);
		CHECK_EQ(bus_w(&f.bus, 0xff, 2, 0), -EOPNOTSUPP);
		CHECK_EQ(noffered, 0);
		/* A length-0 access is the byte at addr. */
		CHECK_EQ(bus_w(&f.bus, 0x10f, 0, 0), 0);
		CHECK_EQ(bus_w(&f.bus, 0x110, 0, 0), -EOPNOTSUPP);
		/* A length-0 range: any size, exact address only. */
		CHECK_EQ(bus_w(&f.bus, 0x200, 1, 0), 0);
		CHECK_EQ(noffered, 1);
		CHECK_EQ(offered[0], 2);
		CHECK_EQ(bus_w(&f.bus, 0x200, 8, 0), 0);
		CHECK_EQ(bus_w(&f.bus, 0x200, 0, 0), 0);
		CHECK_EQ(bus_w(&f.bus, 0x201, 1, 0), -EOPNOTSUPP);
		CHECK_EQ(bus_w(&f.bus, 0x1ff, 4, 0), -EOPNOTSUPP);
	}
	CHECK_EQ(fx_fini(&f), 0);
}

TEST(test_overlap_order)
{
	struct fixture f;
	struct tdev A, B, C, D, E;
	u64 v = 0;

	fx_init(&f, false);
	tdev_init(&A, 'A', 1);
	tdev_init(&B, 'B', 2);
	tdev_init(&C, 'C', 3);
	tdev_init(&D, 'D', ACCEPT_ALL);
	tdev_init(&E, 'E', ACCEPT_NONE);
	E.dev.ops = &tdev_wo_ops;
	CHECK_EQ(iobus_register(&f.bus, 0x1000, 0x100, &A.dev), 0);
	CHECK_EQ(iobus_register(&f.bus, 0x1000, 4, &B.dev), 0);
	CHECK_EQ(iobus_register(&f.bus, 0x1040, 0x10, &C.dev), 0);
	CHECK_EQ(iobus_register(&f.bus, 0x1000, 4, &D.dev), 0);
	CHECK_EQ(iobus_register(&f.bus, 0x0800, 0x804, &E.dev), 0);
	CHECK(bus_invariants_hold(&f.bus));
	for (u32 mode = 0; mode < 2; mode++) {
		CHECK_EQ(iobus_set_lookup(&f.bus, mode), 0);
		/* Order (addr, len), equal keys in registration order:
		 * E(0x800,0x804) B(0x1000,4) D(0x1000,4) A(0x1000,0x100). */
		CHECK_EQ(bus_w(&f.bus, 0x1000, 4, 9), 0);
		CHECK_EQ(noffered, 3);
		CHECK_EQ(offered[0], 'E');
		CHECK_EQ(offered[1], 'B');
		CHECK_EQ(offered[2], 'D');
		CHECK_EQ(bus_w(&f.bus, 0x1000, 4, 2), 0);
		CHECK_EQ(noffered, 2);
		CHECK_EQ(offered[1], 'B');
		/* E ends at 0x1003: of the four ranges from 0x800 to 0x1000
		 * only A, then C, cover 0x1044; none takes 9. */
		CHECK_EQ(bus_w(&f.bus, 0x1044, 4, 9), -EOPNOTSUPP);
		CHECK_EQ(noffered, 2);
		CHECK_EQ(offered[0], 'A');
		CHECK_EQ(offered[1], 'C');
		CHECK_EQ(bus_w(&f.bus, 0x1044, 4, 3), 0);
		CHECK_EQ(offered[noffered - 1], 'C');
		/* A takes 1 before C is asked. */
		CHECK_EQ(bus_w(&f.bus, 0x1048, 2, 1), 0);
		CHECK_EQ(noffered, 1);
		CHECK_EQ(offered[0], 'A');
		/* 2 bytes at 0x1002 fit in E, B, D and A; 4 bytes only in A. */
		CHECK_EQ(bus_w(&f.bus, 0x1002, 2, 7), 0);
		CHECK_EQ(noffered, 3);
		CHECK_EQ(offered[0], 'E');
		CHECK_EQ(offered[1], 'B');
		CHECK_EQ(offered[2], 'D');
		CHECK_EQ(bus_w(&f.bus, 0x1002, 4, 7), -EOPNOTSUPP);
		CHECK_EQ(noffered, 1);
		CHECK_EQ(offered[0], 'A');
		/* Reads skip E (no read callback); B takes any read. */
		noffered = 0;
		B.read_value = 0xabcd;
		CHECK_EQ(iobus_read(&f.bus, 0x1000, 2, &v), 0);
		CHECK_EQ(v, 0xabcd);
		CHECK_EQ(noffered, 1);
		CHECK_EQ(offered[0], 'B');
	}
	/* Unregistering B leaves D first at 0x1000. */
	CHECK_EQ(iobus_unregister(&f.bus, 0x1000, 4, &B.dev), 0);
	CHECK_EQ(bus_w(&f.bus, 0x1000, 4, 2), 0);
	CHECK_EQ(noffered, 2);
	CHECK_EQ(offered[1], 'D');
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(fx_fini(&f), 0);
}

/* ---- randomized check against a naive list ---------------------------- */

struct ref_range {
	u64 addr;
	u32 len;
	u64 seq;		/* registration order among equal keys */
	struct tdev *dev;
};

/* The cover rule restated naively (test addresses never near 2^64). */
static bool ref_covers(const struct ref_range *r, u64 addr, u32 len)
{
	u64 end = r->addr + r->len;

	if (r->len == 0)
		return addr == r->addr;
	if (len == 0)
		return addr >= r->addr && addr < end;
	return addr >= r->addr && addr + len <= end;
}

static bool ref_before(const struct ref_range *x, const struct ref_range *y)
{
	if (x->addr != y->addr)
		return x->addr < y->addr;
	if (x->len != y->len)
		return x->len < y->len;
	return x->seq < y->seq;
}

/* Expected offer sequence for a write of value v. */
static int ref_offers(struct ref_range *refs, int n, u64 addr, u32 len, u64 v,
		      int *out)
{
	struct ref_range *cand[512];
	int nc = 0, no = 0;

	for (int i = 0; i < n; i++)
		if (ref_covers(&refs[i], addr, len))
			cand[nc++] = &refs[i];
	for (int i = 1; i < nc; i++)	/* insertion sort by bus order */
		for (int j = i; j > 0 && ref_before(cand[j], cand[j - 1]); j--) {
			struct ref_range *t = cand[j];
			cand[j] = cand[j - 1];
			cand[j - 1] = t;
		}
	for (int i = 0; i < nc; i++) {
		out[no++] = cand[i]->dev->id;
		if (cand[i]->dev->accept == v)
			break;
	}
	return no;
}

TEST(test_random_against_reference)
{
	enum { NDEV = 64, MAXR = 300, OPS = 20000 };
	static struct tdev devs[NDEV];
	static struct ref_range refs[MAXR];
	int nref = 0, expect[512];
	u64 seq = 0, seed = 0x10b05u;
	struct fixture f;
	long mismatches = 0;

	test_seed(seed);
	fx_init(&f, false);
	for (int i = 0; i < NDEV; i++)
		tdev_init(&devs[i], i, (u64)i);	/* takes value == its id */
	for (int op = 0; op < OPS; op++) {
		u64 r = test_rand();
		/* Addresses in a small space so ranges overlap a lot,
		 * lengths from 0 to 0x200, including huge spanning ones. */
		u64 addr = 0x1000 + test_rand() % 0x400;
		u32 lens[] = { 0, 1, 2, 4, 8, 0x10, 0x40, 0x200 };
		u32 len = lens[test_rand() % ARRAY_SIZE(lens)];
		struct tdev *d = &devs[test_rand() % NDEV];

		if (r % 4 == 0 && nref < MAXR) {
			int dup = 0, ret;
			for (int i = 0; i < nref; i++)
				if (refs[i].addr == addr && refs[i].len == len &&
				    refs[i].dev == d)
					dup = 1;
			ret = iobus_register(&f.bus, addr, len, &d->dev);
			CHECK_EQ(ret, dup ? -EEXIST : 0);
			if (!dup)
				refs[nref++] = (struct ref_range){ addr, len, seq++, d };
		} else if (r % 4 == 1 && nref) {
			int k = (int)(test_rand() % (u64)nref);
			CHECK_EQ(iobus_unregister(&f.bus, refs[k].addr, refs[k].len,
						  &refs[k].dev->dev), 0);
			refs[k] = refs[--nref];
		} else {
			u32 alen[] = { 0, 1, 2, 4, 8 };
			u32 l = alen[test_rand() % ARRAY_SIZE(alen)];
			/* A length-0 access carries no value: devices see 0. */
			u64 v = l ? test_rand() % (NDEV + 8) : 0;
			int ne = ref_offers(refs, nref, addr, l, v, expect);
			int got_ret;
			for (u32 mode = 0; mode < 2; mode++) {
				iobus_set_lookup(&f.bus, mode);
				got_ret = bus_w(&f.bus, addr, l, v);
				bool same = noffered == ne &&
					    memcmp(offered, expect,
						   (size_t)ne * sizeof(int)) == 0;
				bool took = ne && devs[expect[ne - 1]].accept == v;
				if (!same || got_ret != (took ? 0 : -EOPNOTSUPP)) {
					if (mismatches++ < 3) {
						printf("  mismatch op %d mode %u addr 0x%llx len %u v %llu: got", op, mode, (unsigned long long)addr, l, (unsigned long long)v);
						for (int q = 0; q < noffered; q++) printf(" %d", offered[q]);
						printf(" want");
						for (int q = 0; q < ne; q++) printf(" %d", expect[q]);
						printf("\n");
					}
				}
			}
		}
		CHECK_EQ(iobus_count(&f.bus), nref);
		if (op % 512 == 0)
			CHECK(bus_invariants_hold(&f.bus));
	}
	CHECK_EQ(mismatches, 0);
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(fx_fini(&f), 0);
}

TEST(test_capacity)
{
	static struct tdev devs[64];
	struct fixture f;
	struct tdev extra;

	fx_init(&f, true);
	for (int i = 0; i < 64; i++)
		tdev_init(&devs[i], i, ACCEPT_ALL);
	tdev_init(&extra, 99, ACCEPT_ALL);
	for (u32 i = 0; i < IOBUS_MAX_RANGES; i++) {
		int ret = iobus_register(&f.bus, 0x10000 + 8ull * i, 4,
					 &devs[i % 64].dev);
		if (ret) {
			CHECK_EQ(ret, 0);
			break;
		}
	}
	CHECK_EQ(iobus_count(&f.bus), IOBUS_MAX_RANGES);
	CHECK_EQ(iobus_register(&f.bus, 0x8, 4, &extra.dev), -ENOSPC);
	CHECK(bus_invariants_hold(&f.bus));
	for (u32 mode = 0; mode < 2; mode++) {
		iobus_set_lookup(&f.bus, mode);
		for (u32 i = 0; i < IOBUS_MAX_RANGES; i += 4099) {
			CHECK_EQ(bus_w(&f.bus, 0x10000 + 8ull * i, 4, 0), 0);
			CHECK_EQ(noffered, 1);
			CHECK_EQ(offered[0], (int)(i % 64));
			CHECK_EQ(bus_w(&f.bus, 0x10004 + 8ull * i, 4, 0), -EOPNOTSUPP);
		}
		u32 last = IOBUS_MAX_RANGES - 1;
		CHECK_EQ(bus_w(&f.bus, 0x10000 + 8ull * last, 2, 0), 0);
		CHECK_EQ(offered[0], (int)(last % 64));
	}
	CHECK_EQ(iobus_unregister(&f.bus, 0x10000, 4, &devs[0].dev), 0);
	CHECK_EQ(iobus_register(&f.bus, 0x8, 4, &extra.dev), 0);
	CHECK_EQ(bus_w(&f.bus, 0x8, 4, 0), 0);
	CHECK_EQ(offered[0], 99);
	CHECK_EQ(bus_w(&f.bus, 0x10000, 4, 0), -EOPNOTSUPP);
	CHECK_EQ(fx_fini(&f), 0);
}

TEST(test_two_phase_and_failures)
{
	struct fixture f;
	struct tdev a, b, c;
	struct iobus_update up;

	fx_init(&f, false);
	tdev_init(&a, 1, ACCEPT_ALL);
	tdev_init(&b, 2, ACCEPT_ALL);
	tdev_init(&c, 3, ACCEPT_ALL);
	CHECK_EQ(iobus_register(&f.bus, 0x100, 4, &a.dev), 0);
	CHECK_EQ(iobus_register(&f.bus, 0x200, 4, &b.dev), 0);
	CHECK_EQ(f.al.live, 1);

	/* Prepared but aborted: nothing visible, nothing leaked. */
	CHECK_EQ(iobus_prepare_register(&f.bus, 0x300, 4, &c.dev, &up), 0);
	CHECK_EQ(iobus_count(&f.bus), 2);
	CHECK_EQ(bus_w(&f.bus, 0x300, 4, 0), -EOPNOTSUPP);
	iobus_abort(&up);
	CHECK_EQ(f.al.live, 1);
	CHECK_EQ(iobus_prepare_register(&f.bus, 0x300, 4, &c.dev, &up), 0);
	iobus_commit(&up);
	CHECK_EQ(bus_w(&f.bus, 0x300, 4, 0), 0);
	CHECK_EQ(offered[0], 3);

	/* Allocation failure: -ENOMEM and the bus unchanged. */
	talloc_arm(&f.al, 1);
	CHECK_EQ(iobus_register(&f.bus, 0x400, 4, &c.dev), -ENOMEM);
	talloc_arm(&f.al, 1);
	CHECK_EQ(iobus_unregister(&f.bus, 0x100, 4, &a.dev), -ENOMEM);
	CHECK_EQ(f.al.failed, 2);
	CHECK_EQ(iobus_count(&f.bus), 3);
	CHECK_EQ(bus_w(&f.bus, 0x100, 4, 0), 0);
	CHECK_EQ(bus_w(&f.bus, 0x400, 4, 0), -EOPNOTSUPP);

	/* Removing the last range needs no memory. */
	CHECK_EQ(iobus_unregister(&f.bus, 0x100, 4, &a.dev), 0);
	CHECK_EQ(iobus_unregister(&f.bus, 0x200, 4, &b.dev), 0);
	talloc_arm(&f.al, 1);
	CHECK_EQ(iobus_unregister(&f.bus, 0x300, 4, &c.dev), 0);
	CHECK(f.bus.cur == NULL);
	CHECK_EQ(f.al.live, 0);
	talloc_arm(&f.al, 0);
	CHECK_EQ(fx_fini(&f), 0);
}

TEST(test_grace_period)
{
	struct fixture f;
	struct tdev a, b, c;

	fx_init(&f, false);
	tdev_init(&a, 1, ACCEPT_ALL);
	tdev_init(&b, 2, ACCEPT_ALL);
	tdev_init(&c, 3, ACCEPT_ALL);
	CHECK_EQ(iobus_reader_online(&f.ep, IOBUS_MAX_READERS), -EINVAL);
	CHECK_EQ(iobus_reader_online(&f.ep, 3), 0);
	CHECK_EQ(iobus_register(&f.bus, 0x100, 4, &a.dev), 0);
	CHECK_EQ(f.al.live, 1);
	/* The first array is retired but reader 3 may still hold it. */
	CHECK_EQ(iobus_register(&f.bus, 0x200, 4, &b.dev), 0);
	CHECK_EQ(f.al.live, 2);
	iobus_reclaim(&f.ep);
	CHECK_EQ(f.al.live, 2);
	iobus_reader_quiescent(&f.ep, 3);
	iobus_reclaim(&f.ep);
	CHECK_EQ(f.al.live, 1);
	/* Two more generations pile up until the reader moves on. */
	CHECK_EQ(iobus_register(&f.bus, 0x300, 4, &c.dev), 0);
	CHECK_EQ(iobus_unregister(&f.bus, 0x100, 4, &a.dev), 0);
	CHECK_EQ(f.al.live, 3);
	/* A second reader coming online later does not hold older blocks. */
	CHECK_EQ(iobus_reader_online(&f.ep, 5), 0);
	iobus_reader_quiescent(&f.ep, 3);
	iobus_reclaim(&f.ep);
	CHECK_EQ(f.al.live, 1);
	/* ...but holds what is retired after it came online. */
	CHECK_EQ(iobus_unregister(&f.bus, 0x200, 4, &b.dev), 0);
	iobus_reader_quiescent(&f.ep, 3);
	iobus_reclaim(&f.ep);
	CHECK_EQ(f.al.live, 2);
	iobus_reader_offline(&f.ep, 5);
	iobus_reclaim(&f.ep);
	CHECK_EQ(f.al.live, 1);
	/* With every reader offline, retirement is immediate. */
	iobus_reader_offline(&f.ep, 3);
	CHECK_EQ(iobus_register(&f.bus, 0x400, 4, &a.dev), 0);
	CHECK_EQ(f.al.live, 1);
	CHECK_EQ(bus_w(&f.bus, 0x300, 4, 0), 0);
	CHECK_EQ(bus_w(&f.bus, 0x400, 4, 0), 0);
	CHECK_EQ(bus_w(&f.bus, 0x200, 4, 0), -EOPNOTSUPP);
	CHECK_EQ(fx_fini(&f), 0);
}

/* ---- concurrency: one writer, two readers ---------------------------- */

enum { CT_TEMP = 24, CT_WRITER_OPS = 30000 };

struct cdev {
	struct iobus_device dev;
	int id;
	u64 accept;
};

static __thread int ct_handled_by;

static int cdev_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	struct cdev *c = (struct cdev *)d;
	u64 v = 0;

	(void)addr;
	memcpy(&v, val, len);
	if (v != c->accept)
		return -EOPNOTSUPP;
	ct_handled_by = c->id;
	return 0;
}

static const struct iobus_device_ops cdev_ops = { .write = cdev_write };

struct ctest {
	struct fixture f;
	struct cdev perm;		/* always registered: [0x1000, 0x1010) */
	struct cdev temp[CT_TEMP];	/* come and go */
	int done;
	long bad[2], lookups[2];
};

static u64 temp_r1(int k) { return 0x1000 + (u64)(k % 8); }	/* overlaps perm */
static u64 temp_r2(int k) { return 0x2000 + 0x10 * (u64)k; }

struct reader_arg {
	struct ctest *ct;
	u32 id;
};

static void *ct_reader_main(void *p)
{
	struct reader_arg *ra = p;
	struct ctest *ct = ra->ct;
	u64 rng = 0x1234567ull + ra->id;
	long bad = 0, n = 0;

	iobus_reader_online(&ct->f.ep, ra->id);
	while (!__atomic_load_n(&ct->done, __ATOMIC_ACQUIRE)) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		int k = (int)(rng % CT_TEMP);
		u64 zero = 0, kv = (u64)k + 1;
		int ret;

		/* The permanent device is always found, whichever array
		 * this lookup sees; temp ranges over it refuse value 0. */
		ct_handled_by = -1;
		ret = iobus_write(&ct->f.bus, 0x1008, 1, &zero);
		if (ret != 0 || ct_handled_by != 0)
			bad++;
		/* A temp device's own range: it, or nobody. */
		ct_handled_by = -1;
		ret = iobus_write(&ct->f.bus, temp_r2(k) + 4, 4, &kv);
		if (!((ret == 0 && ct_handled_by == k + 1) ||
		      (ret == -EOPNOTSUPP && ct_handled_by == -1)))
			bad++;
		ct_handled_by = -1;
		ret = iobus_write(&ct->f.bus, temp_r1(k), 2, &kv);
		if (!((ret == 0 && ct_handled_by == k + 1) ||
		      (ret == -EOPNOTSUPP && ct_handled_by == -1)))
			bad++;
		n++;
		test_progress_set(&ct->lookups[ra->id], n);
		iobus_reader_quiescent(&ct->f.ep, ra->id);
	}
	iobus_reader_offline(&ct->f.ep, ra->id);
	ct->bad[ra->id] = bad;
	return NULL;
}

TEST(test_concurrent_readers)
{
	static struct ctest ct;
	struct reader_arg ra[2] = { { &ct, 0 }, { &ct, 1 } };
	pthread_t th[2];
	bool present[CT_TEMP] = { false };
	u64 rng = 0xfeedull;
	int errors = 0;

	memset(&ct, 0, sizeof(ct));
	fx_init(&ct.f, false);
	ct.perm = (struct cdev){ { &cdev_ops }, 0, 0 };
	for (int k = 0; k < CT_TEMP; k++)
		ct.temp[k] = (struct cdev){ { &cdev_ops }, k + 1, (u64)k + 1 };
	CHECK_EQ(iobus_register(&ct.f.bus, 0x1000, 0x10, &ct.perm.dev), 0);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, ct_reader_main, &ra[i]), 0);
	for (int op = 0; op < CT_WRITER_OPS; op++) {
		if (op % 1000 == 0)	/* the readers run while we change */
			test_progress_wait(ct.lookups, 2, op / 1000 + 1);
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		int k = (int)(rng % CT_TEMP);
		struct iobus_device *d = &ct.temp[k].dev;
		if (present[k]) {
			errors += iobus_unregister(&ct.f.bus, temp_r1(k), 4, d) != 0;
			errors += iobus_unregister(&ct.f.bus, temp_r2(k), 0x10, d) != 0;
		} else {
			errors += iobus_register(&ct.f.bus, temp_r2(k), 0x10, d) != 0;
			errors += iobus_register(&ct.f.bus, temp_r1(k), 4, d) != 0;
		}
		present[k] = !present[k];
		if (op % 1000 == 999)
			iobus_set_lookup(&ct.f.bus, (u32)(op / 1000) % 2);
	}
	__atomic_store_n(&ct.done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(errors, 0);
	CHECK_EQ(ct.bad[0], 0);
	CHECK_EQ(ct.bad[1], 0);
	CHECK(ct.lookups[0] > 0 && ct.lookups[1] > 0);
	printf("  concurrent: %d writer ops, %ld + %ld reader rounds\n",
	       CT_WRITER_OPS, ct.lookups[0], ct.lookups[1]);
	iobus_reclaim(&ct.f.ep);
	CHECK_EQ(ct.f.al.live, 1);	/* only the published array */
	CHECK_EQ(fx_fini(&ct.f), 0);
}

/* ---- chunks: splits, boundaries, merges, failure points, cost -------- */

#define C IOBUS_CHUNK

static u32 bus_nchunks(const struct iobus *bus)
{
	return bus->cur ? bus->cur->nchunks : 0;
}

/* The chunk sizes, in order, into out[]; returns how many chunks. */
static u32 bus_chunk_sizes(const struct iobus *bus, u32 *out, u32 max)
{
	u32 n = bus_nchunks(bus);

	for (u32 c = 0; c < n && c < max; c++)
		out[c] = chunk_count(bus->cur, c);
	return n;
}

static bool chunks_are(const struct iobus *bus, u32 n, const u32 *want)
{
	u32 got[16];

	if (bus_chunk_sizes(bus, got, 16) != n)
		return false;
	return memcmp(got, want, n * sizeof(u32)) == 0;
}

static struct tdev many[1100];	/* distinct devices, id = index */

static void many_init(u64 accept)
{
	for (int i = 0; i < (int)ARRAY_SIZE(many); i++)
		tdev_init(&many[i], i, accept);
}

/* Ascending, descending and middle fills: where full chunks split, and how
 * many blocks each kind of update allocates. */
TEST(test_chunk_splits)
{
	struct fixture f;
	u32 i;

	many_init(ACCEPT_ALL);
	/* Ascending: the chunk at the end fills, then a new one starts and
	 * the full one is shared as it is. */
	fx_init(&f, false);
	for (i = 0; i < 3 * C + 5; i++) {
		talloc_arm(&f.al, 0);
		CHECK_EQ(iobus_register(&f.bus, 0x1000 + 8ull * i, 4,
					&many[i % 64].dev), 0);
		if (i < C)		/* one chunk, inside the array */
			CHECK_EQ(f.al.allocs, 1);
		else if (i == C)	/* out of the array: two chunks + top */
			CHECK_EQ(f.al.allocs, 3);
		else			/* one chunk + top */
			CHECK_EQ(f.al.allocs, 2);
		if (i == 2 * C)		/* a chunk of one range, nothing copied */
			CHECK_EQ(f.al.bytes, (long)(chunk_bytes(1) +
						    array_bytes(3, 0)));
		if (i % 61 == 0)
			CHECK(bus_invariants_hold(&f.bus));
	}
	CHECK(chunks_are(&f.bus, 4, (u32[]){ C, C, C, 5 }));
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(f.al.live, 5);	/* four chunks and the top */
	for (i = 0; i < 3 * C + 5; i += 7) {
		CHECK_EQ(bus_w(&f.bus, 0x1000 + 8ull * i, 4, 0), 0);
		CHECK_EQ(noffered, 1);
		CHECK_EQ(offered[0], (int)(i % 64));
		CHECK_EQ(bus_w(&f.bus, 0x1004 + 8ull * i, 1, 0), -EOPNOTSUPP);
	}
	CHECK_EQ(fx_fini(&f), 0);

	/* Descending: new chunks start at the front. */
	fx_init(&f, false);
	for (i = 3 * C + 5; i-- > 0;)
		CHECK_EQ(iobus_register(&f.bus, 0x1000 + 8ull * i, 4,
					&many[i % 64].dev), 0);
	CHECK(chunks_are(&f.bus, 4, (u32[]){ 5, C, C, C }));
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(fx_fini(&f), 0);

	/* In the middle of a full chunk: halves. Then an insert between two
	 * full chunks becomes a chunk of its own, and the next one there
	 * joins it (the chunk before it has room). */
	fx_init(&f, false);
	for (i = 0; i < C; i++)
		CHECK_EQ(iobus_register(&f.bus, 0x100000 + 8ull * i, 4,
					&many[0].dev), 0);
	talloc_arm(&f.al, 0);
	CHECK_EQ(iobus_register(&f.bus, 0x100000 + 8ull * 100 + 2, 1,
				&many[1].dev), 0);
	CHECK_EQ(f.al.allocs, 3);
	CHECK(chunks_are(&f.bus, 2, (u32[]){ (C + 1) / 2, C + 1 - (C + 1) / 2 }));
	CHECK(bus_invariants_hold(&f.bus));
	/* Fill the first to the brim from below, the second from above. */
	for (i = chunk_count(f.bus.cur, 0); i < C; i++)
		CHECK_EQ(iobus_register(&f.bus, 0x100 + 8ull * i, 4,
					&many[2].dev), 0);
	for (i = chunk_count(f.bus.cur, 1); i < C; i++)
		CHECK_EQ(iobus_register(&f.bus, 0x1000000 + 8ull * i, 4,
					&many[3].dev), 0);
	CHECK(chunks_are(&f.bus, 2, (u32[]){ C, C }));
	/* Between them: after the first chunk's last key, before the
	 * second's first, and not inside either's range. */
	u64 gap = chunk_last(f.bus.cur->chunks[0].chunk)->addr + 4;
	talloc_arm(&f.al, 0);
	CHECK_EQ(iobus_register(&f.bus, gap, 1, &many[4].dev), 0);
	CHECK_EQ(f.al.allocs, 2);
	CHECK_EQ(f.al.bytes, (long)(chunk_bytes(1) + array_bytes(3, 0)));
	CHECK(chunks_are(&f.bus, 3, (u32[]){ C, 1, C }));
	CHECK_EQ(iobus_register(&f.bus, gap + 1, 1, &many[5].dev), 0);
	CHECK_EQ(iobus_register(&f.bus, gap, 1, &many[6].dev), 0);
	CHECK(chunks_are(&f.bus, 3, (u32[]){ C, 3, C }));
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(bus_w(&f.bus, gap, 1, 0), 0);
	CHECK_EQ(noffered, 1);
	CHECK_EQ(offered[0], 4);	/* registered first at this key */
	CHECK_EQ(bus_w(&f.bus, gap + 1, 1, 0), 0);
	CHECK_EQ(offered[0], 5);
	CHECK_EQ(fx_fini(&f), 0);
}

/* C + 1 ranges with one key span a chunk boundary: offered in registration
 * order, -EEXIST seen across the boundary, removal from either side. */
TEST(test_chunk_equal_keys)
{
	struct fixture f;
	const u32 n = C + 1;
	u32 i;

	_Static_assert(C + 2 <= ARRAY_SIZE(offered), "offered[] holds them");
	many_init(ACCEPT_NONE);
	fx_init(&f, false);
	CHECK_EQ(iobus_register(&f.bus, 0x4ff0, 0x20, &many[n].dev), 0);
	for (i = 0; i < n; i++)
		CHECK_EQ(iobus_register(&f.bus, 0x5000, 4, &many[i].dev), 0);
	CHECK(bus_nchunks(&f.bus) == 2);
	CHECK(bus_invariants_hold(&f.bus));
	for (u32 mode = 0; mode < 2; mode++) {
		iobus_set_lookup(&f.bus, mode);
		CHECK_EQ(bus_w(&f.bus, 0x5000, 4, 0), -EOPNOTSUPP);
		CHECK_EQ(noffered, (int)n + 1);
		CHECK_EQ(offered[0], (int)n);	/* (0x4ff0, 0x20) first */
		for (i = 0; i < n; i++)
			if (offered[i + 1] != (int)i)
				break;
		CHECK_EQ(i, n);
	}
	iobus_set_lookup(&f.bus, IOBUS_LOOKUP_BINARY);
	/* Every one of them, in either chunk, is already there. */
	for (i = 0; i < n; i++)
		CHECK_EQ(iobus_register(&f.bus, 0x5000, 4, &many[i].dev),
			 -EEXIST);
	CHECK_EQ(iobus_register(&f.bus, 0x5000, 2, &many[0].dev), 0);
	CHECK_EQ(iobus_register(&f.bus, 0x5000, 8, &many[0].dev), 0);
	CHECK_EQ(iobus_unregister(&f.bus, 0x5000, 4, &many[n].dev), -ENOENT);
	/* Take one from each end and one at the boundary; the rest keep
	 * their order. */
	CHECK_EQ(iobus_unregister(&f.bus, 0x5000, 4, &many[0].dev), 0);
	CHECK_EQ(iobus_unregister(&f.bus, 0x5000, 4, &many[n - 1].dev), 0);
	CHECK_EQ(iobus_unregister(&f.bus, 0x5000, 4, &many[C - 2].dev), 0);
	CHECK_EQ(iobus_unregister(&f.bus, 0x5000, 4, &many[C - 2].dev),
		 -ENOENT);
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(bus_w(&f.bus, 0x5000, 4, 0), -EOPNOTSUPP);
	CHECK_EQ(noffered, (int)n - 3 + 2);	/* + (0x4ff0, 0x20), (.., 8) */
	{
		int want = 1, ok = 1;
		for (int k = 1; k < noffered - 1; k++, want++) {
			if (want == (int)C - 2)
				want++;
			ok &= offered[k] == want;
		}
		CHECK(ok);
		CHECK_EQ(offered[noffered - 1], 0);	/* (0x5000, 8) */
	}
	/* Remove the rest in a scrambled order: merges, then one chunk. */
	for (i = 1; i < n - 1; i++) {
		u32 k = 1 + (i * 97) % (n - 2);
		if (k != C - 2)
			CHECK_EQ(iobus_unregister(&f.bus, 0x5000, 4,
						  &many[k].dev), 0);
	}
	CHECK_EQ(iobus_count(&f.bus), 3);
	CHECK_EQ(bus_nchunks(&f.bus), 1);
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(f.al.live, 1);
	CHECK_EQ(fx_fini(&f), 0);
}

struct overlap_log {
	int n;
	u64 addr[8];
};

static bool log_visit(void *arg, const struct iobus_range *r)
{
	struct overlap_log *l = arg;

	if (l->n < 8)
		l->addr[l->n] = r->addr;
	l->n++;
	return false;
}

/* Ranges that reach across chunk boundaries, and a huge range early on the
 * bus, are still offered first, in both lookup modes. */
TEST(test_chunk_overlaps)
{
	struct fixture f;
	struct tdev span, huge, mid;
	struct overlap_log log;
	const u64 base = 0x100000;
	u32 i;

	many_init(ACCEPT_NONE);
	tdev_init(&span, 1000, ACCEPT_NONE);
	tdev_init(&huge, 1001, ACCEPT_NONE);
	tdev_init(&mid, 1002, ACCEPT_NONE);
	fx_init(&f, false);
	for (i = 0; i < 3 * C; i++)
		CHECK_EQ(iobus_register(&f.bus, base + 0x10 * (u64)i, 4,
					&many[i % 64].dev), 0);
	CHECK(chunks_are(&f.bus, 3, (u32[]){ C, C, C }));
	/* From three ranges before the end of chunk 0 to three into chunk
	 * 1: it splits chunk 0, and chunk 1 still starts at range C. */
	CHECK_EQ(iobus_register(&f.bus, base + 0x10 * (u64)(C - 3), 0x60,
				&span.dev), 0);
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(bus_nchunks(&f.bus), 4);
	CHECK_EQ(chunk_last(f.bus.cur->chunks[1].chunk)->addr,
		 base + 0x10 * (u64)(C - 1));
	for (u32 mode = 0; mode < 2; mode++) {
		iobus_set_lookup(&f.bus, mode);
		/* Range C + 1 is in the chunk after span's. */
		CHECK_EQ(bus_w(&f.bus, base + 0x10 * (u64)(C + 1), 4, 0),
			 -EOPNOTSUPP);
		CHECK_EQ(noffered, 2);
		CHECK_EQ(offered[0], 1000);
		CHECK_EQ(offered[1], (int)((C + 1) % 64));
		/* Between small ranges: span alone. */
		CHECK_EQ(bus_w(&f.bus, base + 0x10 * (u64)(C + 1) + 8, 4, 0),
			 -EOPNOTSUPP);
		CHECK_EQ(noffered, 1);
		CHECK_EQ(offered[0], 1000);
		/* Past span's end: nothing. */
		CHECK_EQ(bus_w(&f.bus, base + 0x10 * (u64)(C + 3) + 8, 4, 0),
			 -EOPNOTSUPP);
		CHECK_EQ(noffered, 0);
	}
	iobus_set_lookup(&f.bus, IOBUS_LOOKUP_BINARY);
	memset(&log, 0, sizeof(log));
	CHECK(!iobus_for_each_overlap(&f.bus, base + 0x10 * (u64)C - 1,
				      base + 0x10 * (u64)(C + 1), log_visit,
				      &log));
	CHECK_EQ(log.n, 3);	/* span, range C, range C + 1 */
	CHECK_EQ(log.addr[0], base + 0x10 * (u64)(C - 3));
	CHECK_EQ(log.addr[1], base + 0x10 * (u64)C);
	CHECK_EQ(log.addr[2], base + 0x10 * (u64)(C + 1));

	/* A huge range at the front: every later chunk's running maximum
	 * reaches past the end, so it is offered first everywhere. */
	CHECK_EQ(iobus_register(&f.bus, 0x10, 0xfffffff0u, &huge.dev), 0);
	CHECK(bus_invariants_hold(&f.bus));
	for (u32 mode = 0; mode < 2; mode++) {
		iobus_set_lookup(&f.bus, mode);
		u32 k = 3 * C - 1;
		CHECK_EQ(bus_w(&f.bus, base + 0x10 * (u64)k, 4, 0),
			 -EOPNOTSUPP);
		CHECK_EQ(noffered, 2);
		CHECK_EQ(offered[0], 1001);
		CHECK_EQ(offered[1], (int)(k % 64));
		CHECK_EQ(bus_w(&f.bus, base + 0x10 * (u64)k + 8, 4, 0),
			 -EOPNOTSUPP);
		CHECK_EQ(noffered, 1);
		CHECK_EQ(offered[0], 1001);
		CHECK_EQ(bus_w(&f.bus, 0x8, 4, 0), -EOPNOTSUPP);
		CHECK_EQ(noffered, 0);
		CHECK_EQ(bus_w(&f.bus, 0xfffffffcull, 4, 0), -EOPNOTSUPP);
		CHECK_EQ(noffered, 1);
		CHECK_EQ(bus_w(&f.bus, 0x100000000ull, 1, 0), -EOPNOTSUPP);
		CHECK_EQ(noffered, 0);
	}
	iobus_set_lookup(&f.bus, IOBUS_LOOKUP_BINARY);
	/* A long range from the middle chunk into the last one. */
	CHECK_EQ(iobus_register(&f.bus, base + 0x10 * (u64)(C + 5) + 8,
				0x10 * C, &mid.dev), 0);
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(bus_w(&f.bus, base + 0x10 * (u64)(2 * C + 2), 4, 0),
		 -EOPNOTSUPP);
	CHECK_EQ(noffered, 3);
	CHECK_EQ(offered[0], 1001);
	CHECK_EQ(offered[1], 1002);
	CHECK_EQ(offered[2], (int)((2 * C + 2) % 64));
	/* Without the huge one, the running maxima fall back. */
	CHECK_EQ(iobus_unregister(&f.bus, 0x10, 0xfffffff0u, &huge.dev), 0);
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(bus_w(&f.bus, base + 0x10 * (u64)(3 * C - 1) + 8, 4, 0),
		 -EOPNOTSUPP);
	CHECK_EQ(noffered, 0);
	CHECK_EQ(bus_w(&f.bus, base + 0x10 * (u64)(2 * C + 2), 4, 0),
		 -EOPNOTSUPP);
	CHECK_EQ(noffered, 2);
	CHECK_EQ(offered[0], 1002);
	CHECK_EQ(fx_fini(&f), 0);
}

/* Emptied chunks go, small neighbours merge, one chunk goes back inside the
 * array; counts of allocations and blocks at each step. */
TEST(test_chunk_removal)
{
	struct fixture f;
	u32 i;

	many_init(ACCEPT_ALL);
	fx_init(&f, false);
	for (i = 0; i < 3 * C; i++)
		CHECK_EQ(iobus_register(&f.bus, 0x1000 + 8ull * i, 4,
					&many[i % 64].dev), 0);
	CHECK(chunks_are(&f.bus, 3, (u32[]){ C, C, C }));
	/* Empty the middle chunk from its middle out: it never gets small
	 * enough to merge with a full neighbour, so it shrinks, then goes. */
	for (i = 0; i < C; i++) {
		/* C/2, C/2 + 1, C/2 - 1, ...: every index of chunk 1 once. */
		int off = i % 2 ? (int)(i + 1) / 2 : -(int)(i / 2);
		u32 k = C + (u32)((int)(C / 2) + off) % C;
		talloc_arm(&f.al, 0);
		CHECK_EQ(iobus_unregister(&f.bus, 0x1000 + 8ull * k, 4,
					  &many[k % 64].dev), 0);
		CHECK_EQ(f.al.allocs, i == C - 1 ? 1 : 2);	/* top only */
		CHECK_EQ(bus_nchunks(&f.bus), i == C - 1 ? 2 : 3);
		CHECK_EQ(f.al.live, i == C - 1 ? 3 : 4);
		if (i % 31 == 0)
			CHECK(bus_invariants_hold(&f.bus));
	}
	CHECK(chunks_are(&f.bus, 2, (u32[]){ C, C }));
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(bus_w(&f.bus, 0x1000 + 8ull * (C + 3), 4, 0), -EOPNOTSUPP);
	CHECK_EQ(bus_w(&f.bus, 0x1000 + 8ull * (2 * C), 4, 0), 0);
	CHECK_EQ(offered[0], (int)(2 * C % 64));
	/* Shrink both: when the pair holds CHUNK_MERGE_MAX, it merges into
	 * one chunk, inside the array: one block. */
	for (i = 0; bus_nchunks(&f.bus) == 2 && i < 2 * C; i++) {
		u32 k = i % 2 ? 2 * C + i / 2 : i / 2;
		u32 before = iobus_count(&f.bus);
		talloc_arm(&f.al, 0);
		CHECK_EQ(iobus_unregister(&f.bus, 0x1000 + 8ull * k, 4,
					  &many[k % 64].dev), 0);
		if (bus_nchunks(&f.bus) == 1) {
			CHECK_EQ(before - 1, CHUNK_MERGE_MAX);
			CHECK_EQ(f.al.allocs, 1);
		}
	}
	CHECK_EQ(f.al.live, 1);
	CHECK(bus_invariants_hold(&f.bus));
	/* Three chunks, C, C and 1: shrinking the middle merges it with the
	 * last once the two hold CHUNK_MERGE_MAX. */
	CHECK_EQ(fx_fini(&f), 0);
	fx_init(&f, false);
	for (i = 0; i < 2 * C + 1; i++)
		CHECK_EQ(iobus_register(&f.bus, 0x1000 + 8ull * i, 4,
					&many[i % 64].dev), 0);
	CHECK(chunks_are(&f.bus, 3, (u32[]){ C, C, 1 }));
	for (i = C; chunk_count(f.bus.cur, 1) > CHUNK_MERGE_MAX && i < 2 * C; i++)
		CHECK_EQ(iobus_unregister(&f.bus, 0x1000 + 8ull * i, 4,
					  &many[i % 64].dev), 0);
	CHECK(chunks_are(&f.bus, 3, (u32[]){ C, CHUNK_MERGE_MAX, 1 }));
	talloc_arm(&f.al, 0);
	CHECK_EQ(iobus_unregister(&f.bus, 0x1000 + 8ull * i, 4,
				  &many[i % 64].dev), 0);
	CHECK_EQ(f.al.allocs, 2);	/* the merged chunk + top */
	CHECK(chunks_are(&f.bus, 2, (u32[]){ C, CHUNK_MERGE_MAX }));
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(f.al.live, 3);
	CHECK_EQ(bus_w(&f.bus, 0x1000 + 8ull * (2 * C), 4, 0), 0);
	CHECK_EQ(offered[0], (int)(2 * C % 64));
	CHECK_EQ(bus_w(&f.bus, 0x1000 + 8ull * i, 4, 0), -EOPNOTSUPP);
	CHECK_EQ(fx_fini(&f), 0);
}

/*
 * Fails each allocation of op in turn: each failure is -ENOMEM with the bus
 * unchanged (same published array, same blocks, same answers); returns the
 * allocations the op made when none failed, or -1.
 */
typedef int (*bus_op_fn)(struct iobus *bus, u64 addr, u32 len,
			 struct iobus_device *dev);

static long every_failure_point(struct fixture *f, bus_op_fn op, u64 addr,
				u32 len, struct iobus_device *dev, u64 probe)
{
	for (long k = 1; k < 10; k++) {
		struct iobus_array *cur = f->bus.cur;
		long live = f->al.live, failed = f->al.failed, allocs;
		int before = bus_w(&f->bus, probe, 1, 0), ret;
		int seen = noffered;

		talloc_arm(&f->al, k);
		ret = op(&f->bus, addr, len, dev);
		allocs = f->al.allocs;
		talloc_arm(&f->al, 0);
		if (ret == 0)	/* k - 1 failures before: k - 1 allocations */
			return f->al.failed == failed && allocs == k - 1 &&
			       bus_invariants_hold(&f->bus) ? allocs : -1;
		if (ret != -ENOMEM || f->bus.cur != cur || allocs != k ||
		    f->al.live != live || f->al.failed != failed + 1 ||
		    bus_w(&f->bus, probe, 1, 0) != before || noffered != seen)
			return -1;
	}
	return -1;
}

TEST(test_chunk_failure_points)
{
	struct fixture f;
	struct tdev x;
	const u64 B = 0x1000;
	u32 i;

	many_init(ACCEPT_NONE);
	tdev_init(&x, 500, ACCEPT_NONE);
	fx_init(&f, false);
	/* Inside the array: one block; a full one splits out: three. */
	CHECK_EQ(every_failure_point(&f, iobus_register, B, 4, &many[0].dev,
				     B), 1);
	for (i = 1; i < C; i++)
		CHECK_EQ(iobus_register(&f.bus, B + 8ull * i, 4,
					&many[i % 64].dev), 0);
	CHECK_EQ(every_failure_point(&f, iobus_register, B + 8 * 50 + 2, 2,
				     &x.dev, B + 8 * 50 + 2), 3);
	CHECK_EQ(bus_nchunks(&f.bus), 2);
	/* Back to one chunk by a merge: one block. */
	for (i = 0; i < C && chunk_count(f.bus.cur, 0) +
			     chunk_count(f.bus.cur, 1) > CHUNK_MERGE_MAX + 1; i++)
		CHECK_EQ(iobus_unregister(&f.bus, B + 8ull * (C - 1 - i), 4,
					  &many[(C - 1 - i) % 64].dev), 0);
	CHECK_EQ(every_failure_point(&f, iobus_unregister, B + 8ull * 3, 4,
				     &many[3].dev, B + 8ull * 3), 1);
	CHECK_EQ(bus_nchunks(&f.bus), 1);
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(fx_fini(&f), 0);

	fx_init(&f, false);
	for (i = 0; i < 2 * C + 1; i++)
		CHECK_EQ(iobus_register(&f.bus, B + 8ull * i, 4,
					&many[i % 64].dev), 0);
	CHECK(chunks_are(&f.bus, 3, (u32[]){ C, C, 1 }));
	/* Into a chunk with room: chunk + top. */
	CHECK_EQ(every_failure_point(&f, iobus_register, B + 8ull * (2 * C + 1),
				     4, &x.dev, B + 8ull * (2 * C + 1)), 2);
	/* The middle of a full chunk: two halves + top. */
	CHECK_EQ(every_failure_point(&f, iobus_register, B + 8ull * C + 4, 1,
				     &x.dev, B + 8ull * C + 4), 3);
	/* Between two full chunks: a new chunk + top. */
	CHECK(chunks_are(&f.bus, 4, (u32[]){ C, (C + 1) / 2,
					     C + 1 - (C + 1) / 2, 2 }));
	CHECK_EQ(iobus_register(&f.bus, B + 8ull * C + 5, 1, &x.dev), 0);
	for (i = chunk_count(f.bus.cur, 1); i < C; i++)
		CHECK_EQ(iobus_register(&f.bus, B + 8ull * C + 4, 1,
					&many[64 + i].dev), 0);
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(chunk_count(f.bus.cur, 0), C);
	CHECK_EQ(every_failure_point(&f, iobus_register, B + 8ull * (C - 1) + 2,
				     1, &x.dev, B + 8ull * (C - 1) + 2), 2);
	/* Removal inside a chunk: chunk + top; emptying one: top. */
	CHECK_EQ(every_failure_point(&f, iobus_unregister, B + 8ull * 7, 4,
				     &many[7].dev, B + 8ull * 7), 2);
	u32 c1 = chunk_count(f.bus.cur, 1);
	CHECK_EQ(c1, 1);
	CHECK_EQ(every_failure_point(&f, iobus_unregister,
				     B + 8ull * (C - 1) + 2, 1, &x.dev,
				     B + 8ull * (C - 1) + 2), 1);
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(fx_fini(&f), 0);
}

/* One registration or removal among 65,536 allocates (and so copies) a
 * chunk or two and the top-level array, not the whole bus. */
TEST(test_chunk_update_cost)
{
	static struct tdev devs[64];
	struct fixture f;
	struct tdev x;
	const u32 n = IOEVENTFD_MAX;
	u32 nchunks = (n + C - 1) / C;
	long whole = (long)(n * sizeof(struct iobus_range));

	fx_init(&f, false);
	for (int i = 0; i < 64; i++)
		tdev_init(&devs[i], i, ACCEPT_ALL);
	tdev_init(&x, 99, ACCEPT_ALL);
	talloc_arm(&f.al, 0);
	for (u32 i = 0; i < n; i++)
		if (iobus_register(&f.bus, 0x10000 + 8ull * i, 4,
				   &devs[i % 64].dev)) {
			CHECK(false);
			break;
		}
	/* The whole fill moved about n * (chunk + top) / 2 bytes. */
	printf("  %u registrations: %ld bytes allocated, %u chunks\n", n,
	       f.al.bytes, bus_nchunks(&f.bus));
	CHECK(f.al.bytes < (long)n * (long)(chunk_bytes(C) +
					   array_bytes(nchunks, 0)));
	CHECK_EQ(bus_nchunks(&f.bus), nchunks);
	CHECK(bus_invariants_hold(&f.bus));

	/* In the middle of a full chunk: two halves and a longer top. */
	talloc_arm(&f.al, 0);
	CHECK_EQ(iobus_register(&f.bus, 0x10000 + 8ull * 30000 + 4, 2, &x.dev),
		 0);
	CHECK_EQ(bus_nchunks(&f.bus), nchunks + 1);
	CHECK_EQ(f.al.bytes, (long)(chunk_bytes((C + 1) / 2) +
				    chunk_bytes(C + 1 - (C + 1) / 2) +
				    array_bytes(nchunks + 1, 0)));
	CHECK(f.al.bytes * 64 < whole);
	/* At the end: one range, and the top. */
	talloc_arm(&f.al, 0);
	CHECK_EQ(iobus_register(&f.bus, 0x10000 + 8ull * n, 4, &x.dev), 0);
	CHECK_EQ(f.al.bytes, (long)(chunk_bytes(n % C ? n % C + 1 : 1) +
				    array_bytes(bus_nchunks(&f.bus), 0)));
	/* A removal: the chunk less one, and the top. */
	talloc_arm(&f.al, 0);
	CHECK_EQ(iobus_unregister(&f.bus, 0x10000 + 8ull * 100, 4,
				  &devs[100 % 64].dev), 0);
	CHECK_EQ(f.al.bytes, (long)(chunk_bytes(C - 1) +
				    array_bytes(bus_nchunks(&f.bus), 0)));
	CHECK(f.al.bytes * 64 < whole);
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(bus_w(&f.bus, 0x10000 + 8ull * 30000 + 4, 2, 0), 0);
	CHECK_EQ(offered[0], 99);
	CHECK_EQ(bus_w(&f.bus, 0x10000 + 8ull * 100, 4, 0), -EOPNOTSUPP);
	CHECK_EQ(fx_fini(&f), 0);
}

/* The randomized reference check again, with thousands of ranges, in
 * phases that grow and shrink the bus: splits, drops and merges all along. */
TEST(test_random_chunked)
{
	enum { NDEV = 64, MAXR = 3000, OPS = 40000, PHASE = 4000 };
	static struct tdev devs[NDEV];
	static struct ref_range refs[MAXR];
	int nref = 0, expect[512];
	u64 seq = 0;
	struct fixture f;
	long mismatches = 0, walks_bad = 0;
	u32 max_chunks = 0, merges_seen = 0, last_chunks = 0;

	test_seed(0xc4a7c5ull);
	fx_init(&f, false);
	for (int i = 0; i < NDEV; i++)
		tdev_init(&devs[i], i, (u64)i);
	for (int op = 0; op < OPS; op++) {
		bool grow = (op / PHASE) % 2 == 0;
		u64 r = test_rand() % 100;
		u64 addr = 0x1000 + test_rand() % 0x8000;
		u32 lens[] = { 0, 1, 2, 4, 8, 0x10, 0x40, 0x200 };
		u32 len = test_rand() % 100 == 0 ? 0x4000 :
			  lens[test_rand() % ARRAY_SIZE(lens)];
		struct tdev *d = &devs[test_rand() % NDEV];

		if (r < (grow ? 70u : 10u) && nref < MAXR) {
			int dup = 0, ret;
			for (int i = 0; i < nref; i++)
				if (refs[i].addr == addr && refs[i].len == len &&
				    refs[i].dev == d)
					dup = 1;
			ret = iobus_register(&f.bus, addr, len, &d->dev);
			CHECK_EQ(ret, dup ? -EEXIST : 0);
			if (!dup)
				refs[nref++] = (struct ref_range){ addr, len, seq++, d };
		} else if (r < 80 && nref) {
			int k = (int)(test_rand() % (u64)nref);
			CHECK_EQ(iobus_unregister(&f.bus, refs[k].addr, refs[k].len,
						  &refs[k].dev->dev), 0);
			refs[k] = refs[--nref];
		} else if (r < 95) {
			u32 alen[] = { 0, 1, 2, 4, 8 };
			u32 l = alen[test_rand() % ARRAY_SIZE(alen)];
			u64 v = l ? test_rand() % (NDEV + 8) : 0;
			int ne = ref_offers(refs, nref, addr, l, v, expect);
			for (u32 mode = 0; mode < 2; mode++) {
				iobus_set_lookup(&f.bus, mode);
				int got = bus_w(&f.bus, addr, l, v);
				bool took = ne && devs[expect[ne - 1]].accept == v;
				if (noffered != ne ||
				    memcmp(offered, expect, (size_t)ne * sizeof(int)) ||
				    got != (took ? 0 : -EOPNOTSUPP))
					mismatches++;
			}
		} else {
			/* Overlap walks: the count of ranges touching a span. */
			struct overlap_log log = { 0, { 0 } };
			u64 last = addr + test_rand() % 0x100;
			int want = 0;
			for (int i = 0; i < nref; i++)
				if (refs[i].addr <= last &&
				    range_last(refs[i].addr, refs[i].len) >= addr)
					want++;
			iobus_for_each_overlap(&f.bus, addr, last, log_visit, &log);
			walks_bad += log.n != want;
		}
		CHECK_EQ(iobus_count(&f.bus), nref);
		u32 nc = bus_nchunks(&f.bus);
		max_chunks = MAX(max_chunks, nc);
		merges_seen += nc < last_chunks;
		last_chunks = nc;
		if (op % 256 == 0 && !bus_invariants_hold(&f.bus)) {
			CHECK(false);
			break;
		}
	}
	printf("  chunked: up to %u chunks, %u times fewer\n", max_chunks,
	       merges_seen);
	CHECK_EQ(mismatches, 0);
	CHECK_EQ(walks_bad, 0);
	CHECK(max_chunks >= MAXR / C);
	CHECK(merges_seen >= 10);
	CHECK(bus_invariants_hold(&f.bus));
	CHECK_EQ(fx_fini(&f), 0);
}

/* ---- concurrency across chunk splits and merges ------------------------- */

/* Background ranges at 0x10000 + 0x40 * i (len 8, one device taking 0),
 * temporary ones at + 0x10, + 0x20 and + 0x30 (len 4, each its own device
 * taking its id), and one big range under all of them taking 1: as the
 * temporary ranges come and go, the chunks they share with the background
 * split, shrink, merge and empty. */
enum { CC_BG = IOBUS_CHUNK, CC_TEMP = 3 * IOBUS_CHUNK, CC_ROUNDS = 12 };

struct cctest {
	struct fixture f;
	struct cdev bg, big, temp[CC_TEMP];
	int done;
	long bad[2], lookups[2];
};

static u64 cc_bg_addr(u32 i) { return 0x10000 + 0x40 * (u64)i; }
static u64 cc_temp_addr(u32 k) { return 0x10000 + 0x40 * (u64)(k / 3) + 0x10 * (u64)(k % 3 + 1); }

struct cc_reader_arg {
	struct cctest *ct;
	u32 id;
};

static void *cc_reader_main(void *p)
{
	struct cc_reader_arg *ra = p;
	struct cctest *ct = ra->ct;
	u64 rng = 0x7654321ull + ra->id;
	long bad = 0, n = 0;

	iobus_reader_online(&ct->f.ep, ra->id);
	while (!__atomic_load_n(&ct->done, __ATOMIC_ACQUIRE)) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		u32 i = (u32)(rng % CC_BG), k = (u32)((rng >> 20) % CC_TEMP);
		u64 zero = 0, one = 1, kv = 2 + (u64)k;
		int ret;

		/* The background range, past the big one that refuses 0. */
		ct_handled_by = -1;
		ret = iobus_write(&ct->f.bus, cc_bg_addr(i) + 4, 4, &zero);
		bad += ret != 0 || ct_handled_by != 0;
		/* The big one, first everywhere. */
		ct_handled_by = -1;
		ret = iobus_write(&ct->f.bus, cc_temp_addr(k), 4, &one);
		bad += ret != 0 || ct_handled_by != 1;
		/* A temporary range: it, or nobody. */
		ct_handled_by = -1;
		ret = iobus_write(&ct->f.bus, cc_temp_addr(k), 4, &kv);
		bad += !((ret == 0 && ct_handled_by == (int)kv) ||
			 (ret == -EOPNOTSUPP && ct_handled_by == -1));
		n++;
		test_progress_set(&ct->lookups[ra->id], n);
		iobus_reader_quiescent(&ct->f.ep, ra->id);
	}
	iobus_reader_offline(&ct->f.ep, ra->id);
	ct->bad[ra->id] = bad;
	return NULL;
}

TEST(test_concurrent_chunks)
{
	static struct cctest ct;
	static bool present[CC_TEMP];
	static u32 order[CC_TEMP];
	struct cc_reader_arg ra[2] = { { &ct, 0 }, { &ct, 1 } };
	pthread_t th[2];
	u64 rng = 0xabcdefull;
	u32 max_chunks = 0, min_chunks = UINT32_MAX, shrinks = 0, last_nc = 0;
	int errors = 0;

	memset(&ct, 0, sizeof(ct));
	memset(present, 0, sizeof(present));
	fx_init(&ct.f, false);
	ct.bg = (struct cdev){ { &cdev_ops }, 0, 0 };
	ct.big = (struct cdev){ { &cdev_ops }, 1, 1 };
	for (u32 k = 0; k < CC_TEMP; k++) {
		ct.temp[k] = (struct cdev){ { &cdev_ops }, 2 + (int)k, 2 + (u64)k };
		order[k] = k;
	}
	CHECK_EQ(iobus_register(&ct.f.bus, 0x8000, 0x40000, &ct.big.dev), 0);
	for (u32 i = 0; i < CC_BG; i++)
		CHECK_EQ(iobus_register(&ct.f.bus, cc_bg_addr(i), 8, &ct.bg.dev), 0);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, cc_reader_main, &ra[i]), 0);
	/* Rounds: every temporary range in, then out, in a fresh order. */
	for (u32 round = 0; round < CC_ROUNDS; round++) {
		/* the readers run while we change */
		test_progress_wait(ct.lookups, 2, round + 1);
		for (u32 k = CC_TEMP - 1; k > 0; k--) {
			rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
			u32 j = (u32)(rng % (k + 1)), t = order[k];
			order[k] = order[j];
			order[j] = t;
		}
		for (u32 x = 0; x < 2 * CC_TEMP; x++) {
			u32 k = order[x % CC_TEMP];
			struct iobus_device *d = &ct.temp[k].dev;
			errors += (present[k] ?
				   iobus_unregister(&ct.f.bus, cc_temp_addr(k), 4, d) :
				   iobus_register(&ct.f.bus, cc_temp_addr(k), 4, d)) != 0;
			present[k] = !present[k];
			u32 nc = bus_nchunks(&ct.f.bus);
			shrinks += nc < last_nc;
			max_chunks = MAX(max_chunks, nc);
			min_chunks = MIN(min_chunks, nc);
			last_nc = nc;
		}
		iobus_set_lookup(&ct.f.bus, round % 2);
	}
	__atomic_store_n(&ct.done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(errors, 0);
	CHECK_EQ(ct.bad[0], 0);
	CHECK_EQ(ct.bad[1], 0);
	CHECK(ct.lookups[0] > 0 && ct.lookups[1] > 0);
	CHECK(max_chunks >= 6);
	CHECK(shrinks >= CC_ROUNDS);	/* chunks emptied or merged */
	printf("  concurrent chunks: %d writer ops, %u..%u chunks, %u shrinks, "
	       "%ld + %ld reader rounds\n", 2 * CC_TEMP * CC_ROUNDS, min_chunks,
	       max_chunks, shrinks, ct.lookups[0], ct.lookups[1]);
	CHECK(bus_invariants_hold(&ct.f.bus));
	iobus_reclaim(&ct.f.ep);
	CHECK_EQ(ct.f.al.live, (long)bus_nchunks(&ct.f.bus) + 1);
	CHECK_EQ(fx_fini(&ct.f), 0);
}

#undef C

int main(void)
{
	/* Line-buffered, so a sanitizer's exit loses no results. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(test_empty_bus);
	RUN(test_register_errors);
	RUN(test_cover_rules);
	RUN(test_overlap_order);
	RUN(test_random_against_reference);
	RUN(test_capacity);
	RUN(test_two_phase_and_failures);
	RUN(test_grace_period);
	RUN(test_concurrent_readers);
	RUN(test_chunk_splits);
	RUN(test_chunk_equal_keys);
	RUN(test_chunk_overlaps);
	RUN(test_chunk_removal);
	RUN(test_chunk_failure_points);
	RUN(test_chunk_update_cost);
	RUN(test_random_chunked);
	RUN(test_concurrent_chunks);
	return TEST_SUMMARY();
}
