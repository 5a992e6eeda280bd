/* Host tests for iobus/iobus.c: range matching, ordering across overlapping
 * ranges, binary vs linear lookup, capacity, two-phase updates under
 * allocation failure, grace periods, and a pthread reader/writer test. */
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
static int offered[256];
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

/* Sorted by (addr, len) and every max_last the running maximum. */
static bool bus_invariants_hold(struct iobus *bus)
{
	const struct iobus_array *a = bus->cur;
	u64 m = 0;

	if (!a)
		return true;
	if (a->count == 0)
		return false;	/* an empty bus publishes NULL */
	for (u32 i = 0; i < a->count; i++) {
		const struct iobus_range *r = &a->ranges[i];
		if (i && key_less(r->addr, r->len, a->ranges[i - 1].addr,
				  a->ranges[i - 1].len))
			return false;
		m = MAX(m, range_last(r->addr, r->len));
		if (r->max_last != m)
			return false;
	}
	return true;
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

/* Tears down and returns the number of leaked blocks (0 expected). */
static long fx_fini(struct fixture *f)
{
	iobus_destroy(&f->bus);
	iobus_epoch_destroy(&f->ep);
	talloc_drain(&f->al);
	return f->al.live;
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
		iobus_reader_quiescent(&ct->f.ep, ra->id);
	}
	iobus_reader_offline(&ct->f.ep, ra->id);
	ct->bad[ra->id] = bad;
	ct->lookups[ra->id] = n;
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
	return TEST_SUMMARY();
}
