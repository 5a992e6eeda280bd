/* Host tests for boot/pmm.c: exact range lists after each kind of operation,
 * alignment, exhaustion, the full-table policy, and a seeded model check
 * against a page bitmap. */
#include "lib/fmt.c"
#include "boot/pmm.c"
#include "tests/host/test.h"

#define P(n)  ((u64)(n) * PAGE_SIZE)

static struct pmm pm;

/* True if the list is exactly the given ranges (pairs base, end). */
static bool list_is(const struct pmm *p, u32 n, const u64 *want)
{
	if (p->count != n)
		goto bad;
	for (u32 i = 0; i < n; i++)
		if (p->free[i].base != want[2 * i] || p->free[i].end != want[2 * i + 1])
			goto bad;
	return true;
bad:
	printf("  list has %u ranges:", p->count);
	for (u32 i = 0; i < p->count && i < 8; i++)
		printf(" [%#llx,%#llx)", (unsigned long long)p->free[i].base,
		       (unsigned long long)p->free[i].end);
	printf("\n");
	return false;
}

#define LIST_IS(...)                                                        \
	do {                                                                \
		static const u64 w_[] = { __VA_ARGS__ };                    \
		CHECK(list_is(&pm, ARRAY_SIZE(w_) / 2, w_));                \
	} while (0)
#define LIST_EMPTY() CHECK_EQ(pm.count, 0)

/* The invariants from pmm.c's header. */
static bool invariants_hold(const struct pmm *p)
{
	if (p->count > PMM_MAX_RANGES)
		return false;
	for (u32 i = 0; i < p->count; i++) {
		const struct pmm_range *r = &p->free[i];
		if (r->base >= r->end || r->base == 0)
			return false;
		if (!IS_ALIGNED(r->base, PAGE_SIZE) || !IS_ALIGNED(r->end, PAGE_SIZE))
			return false;
		if (i + 1 < p->count && r->end >= p->free[i + 1].base)
			return false;
	}
	return true;
}

TEST(test_add_shrinks_and_merges)
{
	pmm_init(&pm);
	LIST_EMPTY();
	CHECK_EQ(pmm_free_bytes(&pm), 0);

	pmm_add(&pm, 0x1001, 0x5fff);		/* inward: [0x2000, 0x5000) */
	LIST_IS(0x2000, 0x5000);
	pmm_add(&pm, 0x10000, 0x10fff);		/* less than a page: nothing */
	LIST_IS(0x2000, 0x5000);
	pmm_add(&pm, 0x8000, 0x9000);
	pmm_add(&pm, 0x20000, 0x30000);
	LIST_IS(0x2000, 0x5000, 0x8000, 0x9000, 0x20000, 0x30000);
	pmm_add(&pm, 0x5000, 0x6000);		/* touches the first: merged */
	LIST_IS(0x2000, 0x6000, 0x8000, 0x9000, 0x20000, 0x30000);
	pmm_add(&pm, 0x7000, 0x8000);		/* touches the second from below */
	LIST_IS(0x2000, 0x6000, 0x7000, 0x9000, 0x20000, 0x30000);
	pmm_add(&pm, 0x3000, 0x21000);		/* overlaps all three */
	LIST_IS(0x2000, 0x30000);
	pmm_add(&pm, 0x4000, 0x5000);		/* inside: no change */
	LIST_IS(0x2000, 0x30000);
	pmm_add(&pm, 0x1000, 0x2000);		/* below, touching */
	pmm_add(&pm, 0x30000, 0x40000);		/* above, touching */
	LIST_IS(0x1000, 0x40000);
	CHECK_EQ(pmm_free_bytes(&pm), 0x3f000);
	pmm_add(&pm, 0x50000, 0x40000);		/* empty (end < base) */
	LIST_IS(0x1000, 0x40000);
}

TEST(test_page_zero_never_free)
{
	pmm_init(&pm);
	pmm_add(&pm, 0, 0x3000);
	LIST_IS(0x1000, 0x3000);
	pmm_add(&pm, 0, 0x1000);
	LIST_IS(0x1000, 0x3000);
	pmm_free(&pm, 0, 0x1000);
	LIST_IS(0x1000, 0x3000);
	CHECK_EQ(pmm_alloc(&pm, 0x1000, 0x1000), 0x1000);
}

TEST(test_add_extremes)
{
	pmm_init(&pm);
	pmm_add(&pm, UINT64_MAX - 0x800, UINT64_MAX);	/* rounds past 2^64 */
	LIST_EMPTY();
	pmm_add(&pm, 0xfffffffffff00000ull, UINT64_MAX);
	LIST_IS(0xfffffffffff00000ull, 0xfffffffffffff000ull);
	pmm_reserve(&pm, UINT64_MAX - 0x10, UINT64_MAX);	/* not free: no change */
	LIST_IS(0xfffffffffff00000ull, 0xfffffffffffff000ull);
	pmm_reserve(&pm, 0xffffffffffffe010ull, UINT64_MAX - 1);	/* end rounds past 2^64 */
	LIST_IS(0xfffffffffff00000ull, 0xffffffffffffe000ull);
	pmm_reserve(&pm, 0xfffffffffff00fffull, UINT64_MAX);
	LIST_EMPTY();
}

TEST(test_reserve_grows_and_splits)
{
	pmm_init(&pm);
	pmm_add(&pm, 0x100000, 0x200000);
	pmm_reserve(&pm, 0x150001, 0x150002);		/* outward: one page */
	LIST_IS(0x100000, 0x150000, 0x151000, 0x200000);
	pmm_reserve(&pm, 0x14ffff, 0x151001);		/* crosses both edges */
	LIST_IS(0x100000, 0x14f000, 0x152000, 0x200000);
	pmm_reserve(&pm, 0x100000, 0x101000);		/* the bottom page */
	LIST_IS(0x101000, 0x14f000, 0x152000, 0x200000);
	pmm_reserve(&pm, 0x1ff000, 0x300000);		/* the top, and beyond */
	LIST_IS(0x101000, 0x14f000, 0x152000, 0x1ff000);
	pmm_reserve(&pm, 0x0, 0x1000);			/* nothing free there */
	LIST_IS(0x101000, 0x14f000, 0x152000, 0x1ff000);
	pmm_reserve(&pm, 0x120000, 0x120000);		/* empty */
	LIST_IS(0x101000, 0x14f000, 0x152000, 0x1ff000);
	pmm_reserve(&pm, 0x140000, 0x160000);		/* across the gap */
	LIST_IS(0x101000, 0x140000, 0x160000, 0x1ff000);

	pmm_add(&pm, 0x300000, 0x310000);
	pmm_add(&pm, 0x320000, 0x330000);
	pmm_reserve(&pm, 0x130000, 0x325000);	/* removes two, trims two */
	LIST_IS(0x101000, 0x130000, 0x325000, 0x330000);
	pmm_reserve(&pm, 0, UINT64_MAX);
	LIST_EMPTY();
}

TEST(test_alloc_lowest_fit_and_split)
{
	pmm_init(&pm);
	pmm_add(&pm, 0x1000, 0x3000);
	pmm_add(&pm, 0x10000, 0x20000);
	CHECK_EQ(pmm_alloc(&pm, 0x3000, 0x1000), 0x10000);	/* first is too small */
	LIST_IS(0x1000, 0x3000, 0x13000, 0x20000);
	CHECK_EQ(pmm_alloc(&pm, 1, 0x1000), 0x1000);		/* rounded up to a page */
	LIST_IS(0x2000, 0x3000, 0x13000, 0x20000);
	CHECK_EQ(pmm_alloc(&pm, 0x1000, 0x4000), 0x14000);	/* aligned: splits */
	LIST_IS(0x2000, 0x3000, 0x13000, 0x14000, 0x15000, 0x20000);
	CHECK_EQ(pmm_free_bytes(&pm), 0x1000 + 0x1000 + 0xb000);
	CHECK_EQ(pmm_alloc(&pm, 0x1000, 0x1000), 0x2000);
	LIST_IS(0x13000, 0x14000, 0x15000, 0x20000);
	/* Bad requests. */
	CHECK_EQ(pmm_alloc(&pm, 0, 0x1000), 0);
	CHECK_EQ(pmm_alloc(&pm, 0x1000, 0x3000), 0);	/* not a power of two */
	CHECK_EQ(pmm_alloc(&pm, 0x1000, 0), 0);
	CHECK_EQ(pmm_alloc(&pm, UINT64_MAX, 0x1000), 0);
	LIST_IS(0x13000, 0x14000, 0x15000, 0x20000);
	/* An alignment below a page means a page. */
	CHECK_EQ(pmm_alloc(&pm, 0x1000, 8), 0x13000);
	LIST_IS(0x15000, 0x20000);
}

TEST(test_alloc_2m_alignment)
{
	pmm_init(&pm);
	pmm_add(&pm, 0x100000, 0x800000);
	CHECK_EQ(pmm_alloc(&pm, 2 * MiB, 2 * MiB), 0x200000);
	LIST_IS(0x100000, 0x200000, 0x400000, 0x800000);
	CHECK_EQ(pmm_alloc(&pm, 4 * MiB + 1, 2 * MiB), 0);	/* 4 MiB left, at 4M */
	CHECK_EQ(pmm_alloc(&pm, 3 * MiB, 2 * MiB), 0x400000);
	LIST_IS(0x100000, 0x200000, 0x700000, 0x800000);
	CHECK_EQ(pmm_alloc(&pm, 0x1000, 2 * MiB), 0);
	CHECK_EQ(pmm_alloc(&pm, 0x1000, 1 * MiB), 0x100000);
	LIST_IS(0x101000, 0x200000, 0x700000, 0x800000);
	/* 1 GiB alignment near the top of a range. */
	pmm_add(&pm, 0x3ffff000, 0x40400000);
	CHECK_EQ(pmm_alloc(&pm, 0x1000, 1 * GiB), 0x40000000);
	LIST_IS(0x101000, 0x200000, 0x700000, 0x800000, 0x3ffff000, 0x40000000,
		0x40001000, 0x40400000);
}

TEST(test_exhaustion_and_free)
{
	pmm_init(&pm);
	CHECK_EQ(pmm_alloc(&pm, 0x1000, 0x1000), 0);		/* empty */
	pmm_add(&pm, 0x10000, 0x14000);
	u64 a[4];
	for (int i = 0; i < 4; i++)
		a[i] = pmm_alloc(&pm, 0x1000, 0x1000);
	CHECK_EQ(a[0], 0x10000);
	CHECK_EQ(a[3], 0x13000);
	CHECK_EQ(pmm_alloc(&pm, 0x1000, 0x1000), 0);
	LIST_EMPTY();
	pmm_free(&pm, a[1], 0x1000);
	pmm_free(&pm, a[3], 1);			/* size rounded up, like alloc */
	LIST_IS(0x11000, 0x12000, 0x13000, 0x14000);
	pmm_free(&pm, a[2], 0x1000);		/* bridges the two */
	LIST_IS(0x11000, 0x14000);
	pmm_free(&pm, a[0], 0x1000);
	LIST_IS(0x10000, 0x14000);
	pmm_free(&pm, 0x11000, 0x1000);		/* double free: no change */
	LIST_IS(0x10000, 0x14000);
	pmm_free(&pm, 0x20800, 0x1000);		/* unaligned base: refused */
	pmm_free(&pm, 0xfffffffffffff000ull, 0x1000);	/* wraps: refused */
	pmm_free(&pm, 0x30000, 0);
	LIST_IS(0x10000, 0x14000);
	CHECK_EQ(pmm_alloc(&pm, 0x5000, 0x1000), 0);
	CHECK_EQ(pmm_alloc(&pm, 0x4000, 0x1000), 0x10000);
}

/* 256 one-page ranges with gaps: [P(2i+2), P(2i+3)) for i in 0..255. */
static void fill_table(void)
{
	pmm_init(&pm);
	for (u32 i = 0; i < PMM_MAX_RANGES; i++)
		pmm_add(&pm, P(2 * i + 2), P(2 * i + 3));
	CHECK_EQ(pm.count, PMM_MAX_RANGES);
}

TEST(test_full_table)
{
	/* A new one-page range: no bigger than the smallest, so it is the one
	 * forgotten. */
	fill_table();
	pmm_add(&pm, P(1000), P(1001));
	CHECK_EQ(pm.count, PMM_MAX_RANGES);
	CHECK_EQ(pm.free[255].base, P(512));
	CHECK(invariants_hold(&pm));
	CHECK_EQ(pmm_free_bytes(&pm), P(256));

	/* A bigger one evicts the lowest smallest range. */
	pmm_free(&pm, P(1000), P(2));
	CHECK_EQ(pm.count, PMM_MAX_RANGES);
	CHECK_EQ(pm.free[0].base, P(4));
	CHECK_EQ(pm.free[255].base, P(1000));
	CHECK_EQ(pm.free[255].end, P(1002));
	CHECK(invariants_hold(&pm));
	CHECK_EQ(pmm_free_bytes(&pm), P(257));

	/* Merging still works when full (it needs no new slot). */
	pmm_add(&pm, P(5), P(6));		/* joins [4,5) and [6,7) */
	CHECK_EQ(pm.count, PMM_MAX_RANGES - 1);
	CHECK_EQ(pm.free[0].base, P(4));
	CHECK_EQ(pm.free[0].end, P(7));
	CHECK(invariants_hold(&pm));

	/* Full again. */
	pmm_add(&pm, P(2000), P(2010));		/* 256 again */
	CHECK_EQ(pm.count, PMM_MAX_RANGES);
	/* Punch a hole in the middle of [2000, 2010): the right piece
	 * [2004, 2010) needs a slot; the smallest (one page, [8,9)) goes. */
	pmm_reserve(&pm, P(2003), P(2004));
	CHECK_EQ(pm.count, PMM_MAX_RANGES);
	CHECK(invariants_hold(&pm));
	CHECK_EQ(pm.free[0].base, P(4));
	CHECK_EQ(pm.free[1].base, P(10));
	CHECK_EQ(pm.free[254].base, P(2000));
	CHECK_EQ(pm.free[254].end, P(2003));
	CHECK_EQ(pm.free[255].base, P(2004));
	CHECK_EQ(pm.free[255].end, P(2010));

	/* Allocation that splits a range when full: the smaller piece may be
	 * the one forgotten, but the allocation itself is never handed out
	 * again. */
	fill_table();
	pmm_add(&pm, P(600), P(700));		/* evicts [2,3) */
	/* One-page ranges cannot hold 2 pages: the fit is in [600, 700), at
	 * 608 by alignment, leaving [600, 608) and [610, 700). */
	u64 a = pmm_alloc(&pm, P(2), P(16));
	CHECK_EQ(a, P(608));
	CHECK(invariants_hold(&pm));
	for (u32 i = 0; i < pm.count; i++)
		CHECK(pm.free[i].end <= a || pm.free[i].base >= a + P(2));
	CHECK_EQ(pm.count, PMM_MAX_RANGES);
	CHECK_EQ(pm.free[254].base, P(600));
	CHECK_EQ(pm.free[254].end, P(608));
	CHECK_EQ(pm.free[255].base, P(610));
	CHECK_EQ(pm.free[255].end, P(700));
	CHECK_EQ(pm.free[0].base, P(6));	/* [4,5) went to make room */
}

/* ---- model check --------------------------------------------------------- */
/* The model: one bit per page over [MODEL_BASE, MODEL_BASE + MODEL_PAGES
 * pages). 512 pages can hold at most 256 separate ranges, so the table never
 * fills and the allocator must match the model exactly. The base is 2 MiB
 * aligned so 2 MiB alignment is exercised too. */
#define MODEL_PAGES  512
#define MODEL_BASE   (4 * GiB)

static bool model[MODEL_PAGES];

static u64 model_addr(u32 page) { return MODEL_BASE + P(page); }

static void model_set(u64 base, u64 end, bool v)
{
	for (u32 i = 0; i < MODEL_PAGES; i++)
		if (model_addr(i) >= base && model_addr(i) + PAGE_SIZE <= end)
			model[i] = v;
}

/* Lowest fit in the model; 0 if none. */
static u64 model_alloc(u32 pages, u64 align)
{
	for (u32 i = 0; i + pages <= MODEL_PAGES; i++) {
		if (!IS_ALIGNED(model_addr(i), align))
			continue;
		u32 k = 0;
		while (k < pages && model[i + k])
			k++;
		if (k == pages) {
			for (k = 0; k < pages; k++)
				model[i + k] = false;
			return model_addr(i);
		}
	}
	return 0;
}

static bool model_matches(const struct pmm *p)
{
	u32 r = 0;
	for (u32 i = 0; i < MODEL_PAGES;) {
		if (!model[i]) {
			i++;
			continue;
		}
		u32 j = i;
		while (j < MODEL_PAGES && model[j])
			j++;
		if (r >= p->count || p->free[r].base != model_addr(i) ||
		    p->free[r].end != model_addr(j))
			return false;
		r++;
		i = j;
	}
	return r == p->count;
}

/* A random address in or just around the model's space, not page-aligned. */
static u64 rand_addr(void)
{
	return MODEL_BASE - P(2) + test_rand() % P(MODEL_PAGES + 4);
}

TEST(test_model)
{
	static const u64 aligns[] = { P(1), P(2), P(4), P(16), P(64), 2 * MiB };
	u64 held[64][2];
	u32 nheld = 0, mismatches = 0, allocs_ok = 0;

	pmm_init(&pm);
	memset(model, 0, sizeof(model));
	test_seed(0x706d6d);
	for (u32 iter = 0; iter < 100000; iter++) {
		u32 op = (u32)(test_rand() % 10);
		if (op < 2) {			/* add, unaligned ends */
			u64 a = rand_addr(), b = a + test_rand() % P(48);
			pmm_add(&pm, a, b);
			model_set(ALIGN_UP(a, PAGE_SIZE), ALIGN_DOWN(b, PAGE_SIZE), true);
		} else if (op < 3) {		/* reserve, unaligned ends */
			u64 a = rand_addr(), b = a + test_rand() % P(16);
			pmm_reserve(&pm, a, b);
			if (b > a)
				model_set(ALIGN_DOWN(a, PAGE_SIZE), ALIGN_UP(b, PAGE_SIZE), false);
		} else if (op < 7) {		/* alloc */
			u32 pages = 1 + (u32)(test_rand() % 8);
			u64 align = aligns[test_rand() % ARRAY_SIZE(aligns)];
			u64 got = pmm_alloc(&pm, P(pages) - test_rand() % PAGE_SIZE, align);
			u64 want_a = model_alloc(pages, align);
			if (got != want_a && mismatches++ < 5)
				printf("  iter %u: alloc %u pages align %#llx: got %#llx, model %#llx\n",
				       iter, pages, (unsigned long long)align,
				       (unsigned long long)got, (unsigned long long)want_a);
			if (got) {
				allocs_ok++;
				if (nheld < ARRAY_SIZE(held)) {
					held[nheld][0] = got;
					held[nheld][1] = P(pages);
					nheld++;
				}
			}
		} else if (op < 9 && nheld) {	/* free something we hold */
			u32 k = (u32)(test_rand() % nheld);
			pmm_free(&pm, held[k][0], held[k][1]);
			model_set(held[k][0], held[k][0] + held[k][1], true);
			held[k][0] = held[--nheld][0];
			held[k][1] = held[nheld][1];
		} else {			/* free an arbitrary aligned range */
			u64 a = ALIGN_DOWN(rand_addr(), PAGE_SIZE);
			u64 n = 1 + test_rand() % P(8);
			pmm_free(&pm, a, n);
			model_set(a, a + ALIGN_UP(n, PAGE_SIZE), true);
		}
		/* Whatever the model says outside its space is not modelled:
		 * clip the allocator to it, as the model clips itself. */
		pmm_reserve(&pm, 0, MODEL_BASE);
		pmm_reserve(&pm, MODEL_BASE + P(MODEL_PAGES), UINT64_MAX);

		if (!invariants_hold(&pm) || !model_matches(&pm)) {
			if (mismatches++ < 5)
				printf("  iter %u: op %u: list differs from the model\n",
				       iter, op);
			/* Resynchronise so one bug does not hide others. */
			pmm_init(&pm);
			memset(model, 0, sizeof(model));
			nheld = 0;
		}
	}
	printf("  model: %u successful allocations\n", allocs_ok);
	CHECK_EQ(mismatches, 0);
	CHECK(allocs_ok > 20000);
}

int main(void)
{
	RUN(test_add_shrinks_and_merges);
	RUN(test_page_zero_never_free);
	RUN(test_add_extremes);
	RUN(test_reserve_grows_and_splits);
	RUN(test_alloc_lowest_fit_and_split);
	RUN(test_alloc_2m_alignment);
	RUN(test_exhaustion_and_free);
	RUN(test_full_table);
	RUN(test_model);
	return TEST_SUMMARY();
}
