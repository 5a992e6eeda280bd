/*
 * Host tests for ept/ept.c: leaf sizes, translations, splits, misconfigured
 * pages, the EPTP, argument checks, allocation-failure injection at every
 * allocation, and a seeded randomized run against a per-page model.
 *
 * Table pages come from a fake allocator whose "physical" addresses are slot
 * numbers above HOST_PA_BASE, unrelated to the pages' virtual addresses, so
 * a virtual/physical mix-up in ept.c faults or fails a check.
 */
#include "ept/ept.c"
#include "tests/host/test.h"

#define HOST_PA_BASE   0x00000ab000000000ull
#define HOST_MAX_PAGES 4096u

struct host_mem {
	void *slot[HOST_MAX_PAGES];  /* page at HOST_PA_BASE + i * 4 KiB */
	unsigned nslots;
	long live;                   /* allocated and not yet freed */
	long allocs;                 /* successful allocations so far */
	long budget;                 /* allocations left; < 0: unlimited */
};

static void *host_alloc_page(void *ctx)
{
	struct host_mem *m = ctx;
	unsigned i;
	void *page;

	if (m->budget == 0)
		return NULL;
	if (m->budget > 0)
		m->budget--;
	for (i = 0; i < m->nslots && m->slot[i]; i++)
		;
	if (i == HOST_MAX_PAGES) {
		printf("host_alloc_page: out of slots\n");
		abort();
	}
	if (i == m->nslots)
		m->nslots++;
	page = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!page)
		abort();
	memset(page, 0, PAGE_SIZE);
	m->slot[i] = page;
	m->live++;
	m->allocs++;
	return page;
}

static unsigned host_slot_of(struct host_mem *m, const void *va)
{
	for (unsigned i = 0; i < m->nslots; i++)
		if (m->slot[i] == va)
			return i;
	printf("ept used a pointer it was never given: %p\n", va);
	abort();
}

static void host_free_page(void *ctx, void *page)
{
	struct host_mem *m = ctx;

	m->slot[host_slot_of(m, page)] = NULL;
	m->live--;
	free(page);
}

static u64 host_virt_to_phys(void *ctx, const void *va)
{
	return HOST_PA_BASE + (u64)host_slot_of(ctx, va) * PAGE_SIZE;
}

static void *host_phys_to_virt(void *ctx, u64 pa)
{
	struct host_mem *m = ctx;
	u64 i = (pa - HOST_PA_BASE) / PAGE_SIZE;

	if (pa < HOST_PA_BASE || !IS_ALIGNED(pa, PAGE_SIZE) ||
	    i >= m->nslots || !m->slot[i]) {
		printf("ept followed a bad table address 0x%llx\n",
		       (unsigned long long)pa);
		abort();
	}
	return m->slot[i];
}

static struct host_mem *host_mem_new(void)
{
	struct host_mem *m = calloc(1, sizeof(*m));

	if (!m)
		abort();
	m->budget = -1;
	return m;
}

static struct ept_ops host_ops(struct host_mem *m)
{
	struct ept_ops ops = {
		.alloc_page = host_alloc_page,
		.free_page = host_free_page,
		.virt_to_phys = host_virt_to_phys,
		.phys_to_virt = host_phys_to_virt,
		.ctx = m,
	};
	return ops;
}

/* A fresh EPT on fresh memory; the caller frees both. */
static struct host_mem *setup(struct ept *e)
{
	struct host_mem *m = host_mem_new();
	struct ept_ops ops = host_ops(m);

	if (ept_init(e, &ops) != 0)
		abort();
	return m;
}

static void teardown(struct ept *e, struct host_mem *m)
{
	ept_destroy(e);
	CHECK_EQ(m->live, 0);
	free(m);
}

struct table_stats {
	long tables, leaves_2m, leaves_4k, misconfig;
};

/* Checks the hardware format of every entry and that no table but the root
 * is empty; counts tables and leaves. */
static void check_table(struct ept *e, const u64 *t, unsigned level,
			bool root, struct table_stats *st)
{
	bool any = false;

	st->tables++;
	for (unsigned i = 0; i < EPT_ENTRIES; i++) {
		u64 x = t[i];
		u64 flags = x & ~(EPT_ADDR_MASK | EPT_PERM_MASK);

		if (!x)
			continue;
		any = true;
		CHECK(ept_entry_present(x)); /* no stale bits in absent ones */
		if (level == EPT_LEVEL_PT) {
			if ((x & EPT_PERM_MASK) == EPT_MISCONFIG_PERMS) {
				CHECK_EQ(x, EPT_MISCONFIG_PERMS);
				st->misconfig++;
			} else {
				CHECK_EQ(flags, EPT_MEMTYPE_WB << 3);
				CHECK(x & EPT_READ);
				st->leaves_4k++;
			}
		} else if (level == EPT_LEVEL_PD && (x & EPT_LARGE_PAGE)) {
			CHECK_EQ(flags, (EPT_MEMTYPE_WB << 3) | BIT(7));
			CHECK_EQ(x & EPT_ADDR_MASK & (EPT_PAGE_SIZE_2M - 1), 0);
			CHECK(x & EPT_READ);
			st->leaves_2m++;
		} else {
			/* Non-leaf: bits 7:3 reserved, all access allowed. */
			CHECK_EQ(x & ~EPT_ADDR_MASK, EPT_PERM_MASK);
			check_table(e, ept_entry_table(e, x), level - 1, false,
				    st);
		}
	}
	CHECK(root || any);
}

static struct table_stats check_tables(struct ept *e, struct host_mem *m)
{
	struct table_stats st = { 0, 0, 0, 0 };

	check_table(e, e->pml4, EPT_LEVEL_PML4, true, &st);
	CHECK_EQ(st.tables, m->live);
	return st;
}

static bool tr(struct ept *e, u64 gpa, u64 *hpa, u64 *perms, unsigned *lvl)
{
	return ept_translate(e, gpa, hpa, perms, lvl);
}

/* Counts pages of [gpa, gpa + size) that do not translate to hpa + offset
 * with perms at level (level 0: either). */
static long count_wrong(struct ept *e, u64 gpa, u64 hpa, u64 size, u64 perms,
			unsigned level)
{
	long wrong = 0;

	for (u64 off = 0; off < size; off += PAGE_SIZE) {
		u64 byte = (off / PAGE_SIZE * 8) & (PAGE_SIZE - 1);
		u64 h = 0, p = 0;
		unsigned l = 0;

		if (!tr(e, gpa + off + byte, &h, &p, &l) ||
		    h != hpa + off + byte || p != perms ||
		    (level && l != level))
			wrong++;
	}
	return wrong;
}

static long count_present(struct ept *e, u64 gpa, u64 size)
{
	long n = 0;

	for (u64 off = 0; off < size; off += PAGE_SIZE)
		n += tr(e, gpa + off, NULL, NULL, NULL);
	return n;
}

#define RWX (EPT_READ | EPT_WRITE | EPT_EXEC)

TEST(test_map_64m_uses_2m_leaves)
{
	struct ept e;
	struct host_mem *m = setup(&e);
	struct table_stats st;

	CHECK_EQ(ept_map_range(&e, 0, 0x40000000, 64 * MiB, RWX), 0);
	st = check_tables(&e, m);
	CHECK_EQ(st.leaves_2m, 32);
	CHECK_EQ(st.leaves_4k, 0);
	CHECK_EQ(st.tables, 3); /* PML4, PDPT, PD */
	CHECK_EQ(count_wrong(&e, 0, 0x40000000, 64 * MiB, RWX, EPT_LEVEL_PD),
		 0);
	CHECK(!tr(&e, 64 * MiB, NULL, NULL, NULL));
	CHECK(!tr(&e, GiB, NULL, NULL, NULL));
	CHECK(!tr(&e, EPT_GPA_LIMIT, NULL, NULL, NULL));
	teardown(&e, m);
}

TEST(test_map_unaligned_hpa_uses_4k_leaves)
{
	struct ept e;
	struct host_mem *m = setup(&e);
	struct table_stats st;

	CHECK_EQ(ept_map_range(&e, 0, 0x40001000, 64 * MiB,
			       EPT_READ | EPT_WRITE), 0);
	st = check_tables(&e, m);
	CHECK_EQ(st.leaves_2m, 0);
	CHECK_EQ(st.leaves_4k, 16384);
	CHECK_EQ(st.tables, 3 + 32);
	CHECK_EQ(count_wrong(&e, 0, 0x40001000, 64 * MiB, EPT_READ | EPT_WRITE,
			     EPT_LEVEL_PT), 0);
	CHECK(!tr(&e, 64 * MiB, NULL, NULL, NULL));
	teardown(&e, m);
}

TEST(test_map_crossing_2m_boundaries)
{
	struct ept e;
	struct host_mem *m = setup(&e);
	struct table_stats st;
	/* 2 pages up to 2 MiB, one 2 MiB page, then 3 pages. */
	u64 gpa = 0x1fe000, hpa = 0x801fe000, size = 2 * PAGE_SIZE + 2 * MiB +
						       3 * PAGE_SIZE;

	CHECK_EQ(ept_map_range(&e, gpa, hpa, size, EPT_READ | EPT_EXEC), 0);
	st = check_tables(&e, m);
	CHECK_EQ(st.leaves_2m, 1);
	CHECK_EQ(st.leaves_4k, 5);
	CHECK_EQ(count_wrong(&e, 0x1fe000, 0x801fe000, 2 * PAGE_SIZE,
			     EPT_READ | EPT_EXEC, EPT_LEVEL_PT), 0);
	CHECK_EQ(count_wrong(&e, 0x200000, 0x80200000, 2 * MiB,
			     EPT_READ | EPT_EXEC, EPT_LEVEL_PD), 0);
	CHECK_EQ(count_wrong(&e, 0x400000, 0x80400000, 3 * PAGE_SIZE,
			     EPT_READ | EPT_EXEC, EPT_LEVEL_PT), 0);
	CHECK(!tr(&e, 0x1fd000, NULL, NULL, NULL));
	CHECK(!tr(&e, 0x403000, NULL, NULL, NULL));

	/* Same gpa, host address not congruent modulo 2 MiB: all 4 KiB. */
	CHECK_EQ(ept_unmap_range(&e, gpa, size), 0);
	CHECK_EQ(m->live, 1);
	CHECK_EQ(ept_map_range(&e, gpa, 0x80000000, size, RWX), 0);
	st = check_tables(&e, m);
	CHECK_EQ(st.leaves_2m, 0);
	CHECK_EQ(st.leaves_4k, 517);
	CHECK_EQ(count_wrong(&e, gpa, 0x80000000, size, RWX, EPT_LEVEL_PT), 0);

	/* 2 MiB-aligned start, size 2 MiB + 4 KiB: one of each. */
	CHECK_EQ(ept_map_range(&e, 0x600000, 0x600000, 2 * MiB + PAGE_SIZE,
			       EPT_READ), 0);
	CHECK_EQ(count_wrong(&e, 0x600000, 0x600000, 2 * MiB, EPT_READ,
			     EPT_LEVEL_PD), 0);
	CHECK_EQ(count_wrong(&e, 0x800000, 0x800000, PAGE_SIZE, EPT_READ,
			     EPT_LEVEL_PT), 0);
	teardown(&e, m);
}

TEST(test_map_crossing_1g_and_512g)
{
	struct ept e;
	struct host_mem *m = setup(&e);
	struct table_stats st;
	u64 gpa = 512 * GiB - 2 * MiB - PAGE_SIZE;
	u64 hpa = 0xfc0000000ull - 2 * MiB - PAGE_SIZE;
	u64 size = 4 * MiB + 2 * PAGE_SIZE;

	CHECK_EQ(ept_map_range(&e, gpa, hpa, size, RWX), 0);
	st = check_tables(&e, m);
	/* PML4 + two PDPTs + two PDs + two PTs */
	CHECK_EQ(st.tables, 7);
	CHECK_EQ(st.leaves_2m, 2);
	CHECK_EQ(st.leaves_4k, 2);
	CHECK_EQ(count_wrong(&e, gpa, hpa, size, RWX, 0), 0);
	CHECK(!tr(&e, gpa - PAGE_SIZE, NULL, NULL, NULL));
	CHECK(!tr(&e, gpa + size, NULL, NULL, NULL));

	/* The very top of the 48-bit space. */
	CHECK_EQ(ept_map_range(&e, EPT_GPA_LIMIT - 2 * MiB, 0x200000, 2 * MiB,
			       EPT_READ), 0);
	CHECK_EQ(count_wrong(&e, EPT_GPA_LIMIT - 2 * MiB, 0x200000, 2 * MiB,
			     EPT_READ, EPT_LEVEL_PD), 0);
	teardown(&e, m);
}

TEST(test_unmap_splits_2m_leaf)
{
	struct ept e;
	struct host_mem *m = setup(&e);
	struct table_stats st;
	u64 h = 0, p = 0;
	unsigned l = 0;

	CHECK_EQ(ept_map_range(&e, 0x200000, 0x600000, 2 * MiB,
			       EPT_READ | EPT_EXEC), 0);
	CHECK_EQ(ept_unmap_range(&e, 0x2a3000, PAGE_SIZE), 0);
	st = check_tables(&e, m);
	CHECK_EQ(st.leaves_2m, 0);
	CHECK_EQ(st.leaves_4k, 511);
	CHECK(!tr(&e, 0x2a3000, NULL, NULL, NULL));
	CHECK_EQ(count_present(&e, 0x200000, 2 * MiB), 511);
	CHECK_EQ(count_wrong(&e, 0x200000, 0x600000, 0xa3000,
			     EPT_READ | EPT_EXEC, EPT_LEVEL_PT), 0);
	CHECK_EQ(count_wrong(&e, 0x2a4000, 0x6a4000, 0x15c000,
			     EPT_READ | EPT_EXEC, EPT_LEVEL_PT), 0);
	CHECK(tr(&e, 0x2a2fff, &h, &p, &l));
	CHECK_EQ(h, 0x6a2fff);

	/* Unmapping a range over both ends of two 2 MiB leaves. */
	CHECK_EQ(ept_map_range(&e, 0x400000, 0x800000, 4 * MiB, RWX), 0);
	CHECK_EQ(ept_unmap_range(&e, 0x5ff000, 2 * PAGE_SIZE), 0);
	CHECK_EQ(count_wrong(&e, 0x400000, 0x800000, 0x1ff000, RWX,
			     EPT_LEVEL_PT), 0);
	CHECK_EQ(count_wrong(&e, 0x601000, 0xa01000, 0x1ff000, RWX,
			     EPT_LEVEL_PT), 0);
	CHECK_EQ(count_present(&e, 0x5ff000, 2 * PAGE_SIZE), 0);

	/* Unmapping the rest frees every table but the PML4. */
	CHECK_EQ(ept_unmap_range(&e, 0, 16 * MiB), 0);
	CHECK_EQ(m->live, 1);
	CHECK_EQ(count_present(&e, 0, 16 * MiB), 0);
	/* Unmapping nothing is fine. */
	CHECK_EQ(ept_unmap_range(&e, 0x100000000ull, 2 * MiB), 0);
	CHECK_EQ(m->live, 1);
	teardown(&e, m);
}

TEST(test_misconfig)
{
	struct ept e;
	struct host_mem *m = setup(&e);
	struct table_stats st;
	u64 h = 1, p = 0;
	unsigned l = 0;
	unsigned level;
	u64 above;
	u64 *entry;

	CHECK_EQ(ept_map_range(&e, 0x200000, 0x600000, 2 * MiB, RWX), 0);
	CHECK_EQ(ept_set_misconfig(&e, 0x3ff000), 0);
	CHECK(tr(&e, 0x3ff000, &h, &p, &l));
	CHECK_EQ(p, EPT_WRITE | EPT_EXEC);
	CHECK_EQ(l, EPT_LEVEL_PT);
	entry = ept_walk(&e, 0x3ff000, &level, &above);
	CHECK_EQ(*entry & EPT_READ, 0);
	CHECK(*entry & EPT_WRITE);
	CHECK(*entry & EPT_EXEC);
	st = check_tables(&e, m);
	CHECK_EQ(st.misconfig, 1);
	CHECK_EQ(st.leaves_4k, 511);
	CHECK_EQ(count_wrong(&e, 0x200000, 0x600000, 2 * MiB - PAGE_SIZE, RWX,
			     EPT_LEVEL_PT), 0);
	/* Again: no change, no error. A mapping over it is refused. */
	CHECK_EQ(ept_set_misconfig(&e, 0x3ff000), 0);
	CHECK_EQ(ept_map_range(&e, 0x3ff000, 0, PAGE_SIZE, RWX), -EEXIST);

	CHECK_EQ(ept_clear_misconfig(&e, 0x3ff000), 0);
	CHECK(!tr(&e, 0x3ff000, NULL, NULL, NULL));
	CHECK_EQ(ept_clear_misconfig(&e, 0x3ff000), -ENOENT);
	CHECK_EQ(ept_clear_misconfig(&e, 0x3fe000), -ENOENT); /* mapped */
	CHECK_EQ(ept_clear_misconfig(&e, 0x10000000), -ENOENT); /* absent */
	CHECK_EQ(count_present(&e, 0x200000, 2 * MiB), 511);

	/* On an unmapped page: a leaf with host address 0. */
	CHECK_EQ(ept_set_misconfig(&e, 0xd0001000), 0);
	CHECK(tr(&e, 0xd0001008, &h, &p, &l));
	CHECK_EQ(h, 8);
	CHECK_EQ(p, EPT_MISCONFIG_PERMS);
	CHECK_EQ(l, EPT_LEVEL_PT);
	CHECK(!tr(&e, 0xd0000000, NULL, NULL, NULL));
	CHECK(!tr(&e, 0xd0002000, NULL, NULL, NULL));
	CHECK_EQ(m->live, 6); /* PML4, PDPT, 2 PDs, 2 PTs */
	CHECK_EQ(ept_clear_misconfig(&e, 0xd0001000), 0);
	CHECK_EQ(m->live, 4); /* its PD and PT were freed */
	check_tables(&e, m);

	/* Unmapping a range removes misconfigured pages too. */
	CHECK_EQ(ept_set_misconfig(&e, 0x201000), 0);
	CHECK_EQ(ept_unmap_range(&e, 0x200000, 2 * MiB), 0);
	CHECK_EQ(m->live, 1);
	CHECK_EQ(ept_clear_misconfig(&e, 0x201000), -ENOENT);
	teardown(&e, m);
}

TEST(test_eptp)
{
	struct ept e;
	struct host_mem *m = setup(&e);
	u64 eptp = ept_eptp(&e);

	CHECK_EQ(e.pml4_pa, HOST_PA_BASE); /* the first page allocated */
	CHECK_EQ(eptp & 7, 6);             /* bits 2:0 write-back */
	CHECK_EQ((eptp >> 3) & 7, 3);      /* bits 5:3 walk length - 1 */
	CHECK_EQ(eptp & BIT(6), 0);        /* no accessed/dirty flags */
	CHECK_EQ(eptp & 0xf80, 0);         /* bits 11:7 */
	CHECK_EQ(eptp & ~0xfffull, HOST_PA_BASE);
	CHECK_EQ(eptp, HOST_PA_BASE | 0x1e);
	teardown(&e, m);
}

TEST(test_invalid_arguments)
{
	struct ept e;
	struct host_mem *m = setup(&e);
	struct ept_ops ops = host_ops(m);
	struct ept e2;

	CHECK_EQ(ept_map_range(&e, 0x1001, 0, PAGE_SIZE, RWX), -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0x1800, 0, PAGE_SIZE, RWX), -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0, 0x10, PAGE_SIZE, RWX), -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0, 0, PAGE_SIZE + 1, RWX), -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0, 0, 0, RWX), -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0, 0, PAGE_SIZE, 0), -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0, 0, PAGE_SIZE, EPT_WRITE), -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0, 0, PAGE_SIZE, EPT_MISCONFIG_PERMS),
		 -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0, 0, PAGE_SIZE, EPT_EXEC), -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0, 0, PAGE_SIZE, EPT_READ | BIT(3)),
		 -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0, 0, PAGE_SIZE, EPT_READ | EPT_LARGE_PAGE),
		 -EINVAL);
	CHECK_EQ(ept_map_range(&e, EPT_GPA_LIMIT - PAGE_SIZE, 0, 2 * PAGE_SIZE,
			       RWX), -EINVAL);
	CHECK_EQ(ept_map_range(&e, EPT_GPA_LIMIT, 0, PAGE_SIZE, RWX), -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0, EPT_HPA_LIMIT - PAGE_SIZE, 2 * PAGE_SIZE,
			       RWX), -EINVAL);
	CHECK_EQ(ept_map_range(&e, ~0xfffull, 0, 2 * PAGE_SIZE, RWX), -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0, ~0xfffull, 2 * PAGE_SIZE, RWX), -EINVAL);
	CHECK_EQ(ept_map_range(&e, PAGE_SIZE, 0, ~0xfffull, RWX), -EINVAL);
	CHECK_EQ(ept_unmap_range(&e, 0x1001, PAGE_SIZE), -EINVAL);
	CHECK_EQ(ept_unmap_range(&e, 0, 0x800), -EINVAL);
	CHECK_EQ(ept_unmap_range(&e, 0, 0), -EINVAL);
	CHECK_EQ(ept_unmap_range(&e, EPT_GPA_LIMIT - PAGE_SIZE, 2 * PAGE_SIZE),
		 -EINVAL);
	CHECK_EQ(ept_set_misconfig(&e, 0x1008), -EINVAL);
	CHECK_EQ(ept_set_misconfig(&e, EPT_GPA_LIMIT), -EINVAL);
	CHECK_EQ(ept_clear_misconfig(&e, 0x1008), -EINVAL);
	CHECK_EQ(ept_clear_misconfig(&e, EPT_GPA_LIMIT), -EINVAL);
	CHECK_EQ(m->live, 1); /* nothing was built */
	CHECK_EQ(count_present(&e, 0, 4 * MiB), 0);
	/* The last page of the space is fine. */
	CHECK_EQ(ept_map_range(&e, EPT_GPA_LIMIT - PAGE_SIZE,
			       EPT_HPA_LIMIT - PAGE_SIZE, PAGE_SIZE, RWX), 0);
	CHECK_EQ(count_wrong(&e, EPT_GPA_LIMIT - PAGE_SIZE,
			     EPT_HPA_LIMIT - PAGE_SIZE, PAGE_SIZE, RWX,
			     EPT_LEVEL_PT), 0);
	teardown(&e, m);

	ops.alloc_page = NULL;
	CHECK_EQ(ept_init(&e2, &ops), -EINVAL);
	CHECK_EQ(ept_init(&e2, NULL), -EINVAL);
	ept_destroy(&e2); /* a no-op on a failed init */
	CHECK(!tr(&e2, 0, NULL, NULL, NULL));
}

TEST(test_map_existing_is_eexist)
{
	struct ept e;
	struct host_mem *m = setup(&e);
	long live;

	CHECK_EQ(ept_map_range(&e, 0, 0x100000, 2 * PAGE_SIZE, RWX), 0);
	live = m->live;
	/* Overlaps the second page: the third must not be mapped. */
	CHECK_EQ(ept_map_range(&e, PAGE_SIZE, 0x200000, 2 * PAGE_SIZE, RWX),
		 -EEXIST);
	CHECK(!tr(&e, 2 * PAGE_SIZE, NULL, NULL, NULL));
	CHECK_EQ(count_wrong(&e, 0, 0x100000, 2 * PAGE_SIZE, RWX, 0), 0);
	CHECK_EQ(m->live, live);
	/* Inside a 2 MiB leaf, at either end of a long range. */
	CHECK_EQ(ept_map_range(&e, 0x400000, 0x400000, 2 * MiB, RWX), 0);
	CHECK_EQ(ept_map_range(&e, 0x5ff000, 0, PAGE_SIZE, RWX), -EEXIST);
	CHECK_EQ(ept_map_range(&e, 0x5ff000, 0, 64 * MiB, RWX), -EEXIST);
	CHECK_EQ(ept_map_range(&e, 0x2000, 0x2000, 0x3fe000 + PAGE_SIZE, RWX),
		 -EEXIST);
	CHECK_EQ(count_present(&e, 0x2000, 0x3fe000), 0);
	CHECK_EQ(count_present(&e, 0x600000, 64 * MiB), 0);
	/* Right next to it is fine. */
	CHECK_EQ(ept_map_range(&e, 0x2000, 0x2000, 0x3fe000, RWX), 0);
	check_tables(&e, m);
	teardown(&e, m);
}

TEST(test_qualification_helpers)
{
	u64 q = EPT_QUAL_DATA_READ | EPT_QUAL_GLA_VALID |
		EPT_QUAL_GLA_TRANSLATED;

	CHECK_EQ(q, 0x181);
	CHECK(ept_qual_is_read(q));
	CHECK(!ept_qual_is_write(q));
	CHECK(!ept_qual_is_fetch(q));
	CHECK(!ept_qual_gpa_readable(q));
	CHECK(!ept_qual_gpa_writable(q));
	CHECK(!ept_qual_gpa_executable(q));
	CHECK(ept_qual_gla_valid(q));

	q = 0x2a; /* write to a readable, executable page; no linear address */
	CHECK(!ept_qual_is_read(q));
	CHECK(ept_qual_is_write(q));
	CHECK(!ept_qual_is_fetch(q));
	CHECK(ept_qual_gpa_readable(q));
	CHECK(!ept_qual_gpa_writable(q));
	CHECK(ept_qual_gpa_executable(q));
	CHECK(!ept_qual_gla_valid(q));

	q = 0x14; /* fetch from a writable page */
	CHECK(ept_qual_is_fetch(q));
	CHECK(ept_qual_gpa_writable(q));
	CHECK(!ept_qual_is_read(q) && !ept_qual_is_write(q));
	CHECK(!ept_qual_gpa_readable(q) && !ept_qual_gpa_executable(q));
}

/* --- allocation-failure injection ------------------------------------- */

/* Pages whose translation the injection test compares between runs. */
#define A_GPA   (512 * GiB - 4 * MiB - 2 * PAGE_SIZE)
#define A_HPA   (0x40000000ull - 4 * MiB - 2 * PAGE_SIZE)
#define A_SIZE  (8 * MiB + 4 * PAGE_SIZE)
#define B_GPA   0x100000ull
#define B_SIZE  (2 * MiB)
#define C_GPA   0x10000000ull
#define C_SIZE  (64 * MiB)
#define MISC1   (512 * GiB - 4 * MiB + 0x33000)
#define MISC2   0xfee00000ull

struct probe {
	bool present;
	u64 hpa, perms;
	unsigned level;
};

static u64 probe_gpas[4096];
static unsigned nprobes;

static void probes_init(void)
{
	nprobes = 0;
	for (u64 off = 0; off < A_SIZE; off += PAGE_SIZE)
		probe_gpas[nprobes++] = A_GPA + off;
	for (u64 off = 0; off < B_SIZE + PAGE_SIZE; off += PAGE_SIZE)
		probe_gpas[nprobes++] = B_GPA + off;
	for (u64 off = 0; off < C_SIZE; off += MiB)
		probe_gpas[nprobes++] = C_GPA + off + 0x5000;
	probe_gpas[nprobes++] = MISC2 - PAGE_SIZE;
	probe_gpas[nprobes++] = MISC2;
	probe_gpas[nprobes++] = MISC2 + PAGE_SIZE;
	probe_gpas[nprobes++] = A_GPA - PAGE_SIZE;
}

static void snapshot(struct ept *e, struct probe *out)
{
	for (unsigned i = 0; i < nprobes; i++) {
		struct probe *p = &out[i];

		p->hpa = p->perms = 0;
		p->level = 0;
		p->present = tr(e, probe_gpas[i], &p->hpa, &p->perms,
				&p->level);
	}
}

static long count_diffs(const struct probe *a, const struct probe *b)
{
	long n = 0;

	for (unsigned i = 0; i < nprobes; i++)
		n += a[i].present != b[i].present || a[i].hpa != b[i].hpa ||
		     a[i].perms != b[i].perms || a[i].level != b[i].level;
	return n;
}

#define INJ_STEPS 8

/* Step i of the sequence (after ept_init): maps across the 512 GiB and 2 MiB
 * boundaries, 4 KiB-only maps, misconfig in a 2 MiB leaf and on an empty
 * page, an unmap splitting two leaves, an unmap freeing tables, a big map. */
static int inj_step(struct ept *e, unsigned i)
{
	switch (i) {
	case 0: return ept_map_range(e, A_GPA, A_HPA, A_SIZE, RWX);
	case 1: return ept_map_range(e, B_GPA, 0x77701000, B_SIZE, EPT_READ);
	case 2: return ept_set_misconfig(e, MISC1);
	case 3: return ept_set_misconfig(e, MISC2);
	case 4: return ept_unmap_range(e, 512 * GiB - MiB, 2 * MiB);
	case 5: return ept_unmap_range(e, B_GPA, B_SIZE);
	case 6: return ept_map_range(e, C_GPA, 0x80000000, C_SIZE, RWX);
	case 7: return ept_clear_misconfig(e, MISC2);
	}
	return -EINVAL;
}

TEST(test_alloc_failure_injection)
{
	static struct probe want[INJ_STEPS][4096], before[4096], now[4096];
	struct host_mem *m = host_mem_new();
	struct ept_ops ops = host_ops(m);
	struct ept e;
	long total, failures = 0;

	probes_init();
	/* The reference run, unlimited. */
	CHECK_EQ(ept_init(&e, &ops), 0);
	for (unsigned i = 0; i < INJ_STEPS; i++) {
		CHECK_EQ(inj_step(&e, i), 0);
		snapshot(&e, want[i]);
	}
	check_tables(&e, m);
	total = m->allocs;
	CHECK(total >= 14);
	teardown(&e, m);

	for (long k = 0; k <= total; k++) {
		bool failed = false;
		long live_before;
		int err;

		m = host_mem_new();
		ops = host_ops(m);
		m->budget = k;
		err = ept_init(&e, &ops);
		if (err) {
			CHECK_EQ(k, 0);
			CHECK_EQ(err, -ENOMEM);
			CHECK_EQ(m->live, 0);
			ept_destroy(&e);
			free(m);
			failures++;
			continue;
		}
		for (unsigned i = 0; i < INJ_STEPS; i++) {
			snapshot(&e, before);
			live_before = m->live;
			err = inj_step(&e, i);
			if (err) {
				/* Fails once, cleanly; then memory returns. */
				CHECK_EQ(err, -ENOMEM);
				CHECK(!failed);
				failed = true;
				failures++;
				snapshot(&e, now);
				CHECK_EQ(count_diffs(now, before), 0);
				CHECK_EQ(m->live, live_before);
				check_tables(&e, m);
				m->budget = -1;
				err = inj_step(&e, i);
				CHECK_EQ(err, 0);
			}
			snapshot(&e, now);
			CHECK_EQ(count_diffs(now, want[i]), 0);
		}
		CHECK_EQ(failed, k < total);
		check_tables(&e, m);
		teardown(&e, m);
	}
	CHECK_EQ(failures, total);
}

/* --- randomized run against a per-page model --------------------------- */

enum page_state { PAGE_ABSENT, PAGE_MAPPED, PAGE_MISCONFIG };

struct model_page {
	enum page_state state;
	u64 hpa, perms;
};

#define RND_PAGES 2048u /* 8 MiB */

static struct model_page model[RND_PAGES];

static long model_check_page(struct ept *e, u64 base, unsigned i)
{
	u64 h = 0, p = 0;
	unsigned l = 0;
	bool present = tr(e, base + (u64)i * PAGE_SIZE + 0x10, &h, &p, &l);

	switch (model[i].state) {
	case PAGE_ABSENT:
		return present;
	case PAGE_MAPPED:
		return !present || h != model[i].hpa + 0x10 ||
		       p != model[i].perms;
	case PAGE_MISCONFIG:
		return !present || p != EPT_MISCONFIG_PERMS ||
		       h != 0x10 || l != EPT_LEVEL_PT;
	}
	return 1;
}

static unsigned rnd(unsigned n)
{
	return (unsigned)(test_rand() % n);
}

/* A random page range inside the model's space: short, long, or whole
 * 2 MiB blocks. */
static void rnd_range(unsigned *first, unsigned *count)
{
	unsigned kind = rnd(10);

	if (kind < 5) {
		*first = rnd(RND_PAGES);
		*count = 1 + rnd(8);
	} else if (kind < 8) {
		*first = rnd(RND_PAGES);
		*count = 1 + rnd(1100);
	} else {
		*first = rnd(RND_PAGES / 512) * 512;
		*count = 512 * (1 + rnd(2));
	}
	*count = MIN(*count, RND_PAGES - *first);
}

static void run_random(u64 seed, u64 base)
{
	static const u64 perm_choices[] = {
		EPT_READ, EPT_READ | EPT_WRITE, EPT_READ | EPT_EXEC, RWX,
	};
	struct ept e;
	struct host_mem *m = setup(&e);
	long wrong = 0, enomem = 0, eexist = 0, ops_ok = 0, bad_err = 0;
	struct table_stats st;

	test_seed(seed);
	memset(model, 0, sizeof(model));
	for (unsigned op = 0; op < 20000; op++) {
		unsigned kind = rnd(100), first, count, i;
		bool limited = rnd(10) == 0;
		int want = 0, err;
		u64 gpa, hpa = 0, perms = 0;

		m->budget = limited ? (long)rnd(3) : -1;
		rnd_range(&first, &count);
		gpa = base + (u64)first * PAGE_SIZE;
		if (kind < 40) {
			/* Mostly congruent to gpa modulo 2 MiB, so 2 MiB
			 * leaves appear; else only 4 KiB-aligned. */
			if (rnd(3))
				hpa = 0x100000000ull + rnd(64) * 2 * MiB +
				      (gpa & (2 * MiB - 1));
			else
				hpa = 0x200000000ull + rnd(100000) * PAGE_SIZE;
			perms = perm_choices[rnd(4)];
			for (i = first; i < first + count; i++)
				if (model[i].state != PAGE_ABSENT)
					want = -EEXIST;
			err = ept_map_range(&e, gpa, hpa, count * PAGE_SIZE,
					    perms);
		} else if (kind < 70) {
			err = ept_unmap_range(&e, gpa, count * PAGE_SIZE);
		} else if (kind < 85) {
			count = 1;
			err = ept_set_misconfig(&e, gpa);
		} else {
			count = 1;
			if (model[first].state != PAGE_MISCONFIG)
				want = -ENOENT;
			err = ept_clear_misconfig(&e, gpa);
		}
		m->budget = -1;

		if (err == -ENOMEM && limited && want == 0) {
			enomem++;
		} else if (err != want) {
			bad_err++;
		} else if (err == -EEXIST) {
			eexist++;
		} else if (err == 0) {
			ops_ok++;
			for (i = first; i < first + count; i++) {
				struct model_page *pg = &model[i];

				if (kind < 40) {
					pg->state = PAGE_MAPPED;
					pg->hpa = hpa + (u64)(i - first) *
						  PAGE_SIZE;
					pg->perms = perms;
				} else if (kind < 85 && kind >= 70) {
					pg->state = PAGE_MISCONFIG;
				} else {
					pg->state = PAGE_ABSENT;
				}
			}
		}

		/* The touched range's edges, a few random pages, and now and
		 * then everything. */
		wrong += model_check_page(&e, base, first);
		wrong += model_check_page(&e, base, first + count - 1);
		if (first > 0)
			wrong += model_check_page(&e, base, first - 1);
		if (first + count < RND_PAGES)
			wrong += model_check_page(&e, base, first + count);
		for (i = 0; i < 8; i++)
			wrong += model_check_page(&e, base, rnd(RND_PAGES));
		if (op % 1000 == 999) {
			for (i = 0; i < RND_PAGES; i++)
				wrong += model_check_page(&e, base, i);
			check_tables(&e, m);
		}
	}
	for (unsigned i = 0; i < RND_PAGES; i++)
		wrong += model_check_page(&e, base, i);
	st = check_tables(&e, m);
	printf("  seed 0x%llx: %ld ok, %ld -EEXIST, %ld -ENOMEM, %ld tables\n",
	       (unsigned long long)seed, ops_ok, eexist, enomem, st.tables);
	CHECK_EQ(wrong, 0);
	CHECK_EQ(bad_err, 0);
	/* The run did exercise every path. */
	CHECK(enomem > 50);
	CHECK(eexist > 500);
	CHECK(ops_ok > 5000);
	CHECK(st.tables > 1);
	/* Nothing outside the space was touched. */
	CHECK(!tr(&e, base - PAGE_SIZE, NULL, NULL, NULL));
	CHECK(!tr(&e, base + RND_PAGES * PAGE_SIZE, NULL, NULL, NULL));

	CHECK_EQ(ept_unmap_range(&e, base, RND_PAGES * PAGE_SIZE), 0);
	CHECK_EQ(m->live, 1);
	teardown(&e, m);
}

TEST(test_random_across_1g)
{
	run_random(0x5eed0001, GiB - 4 * MiB);
}

TEST(test_random_across_512g)
{
	run_random(0x5eed0002, 512 * GiB - 4 * MiB);
}

TEST(test_destroy_frees_everything)
{
	struct ept e;
	struct host_mem *m = setup(&e);

	CHECK_EQ(ept_map_range(&e, 0, 0x40001000, 16 * MiB, RWX), 0);
	CHECK_EQ(ept_map_range(&e, 512 * GiB, 0x40000000, 16 * MiB, RWX), 0);
	CHECK_EQ(ept_set_misconfig(&e, 0xfee00000), 0);
	CHECK_EQ(ept_set_misconfig(&e, 512 * GiB + 0x5000), 0);
	CHECK(m->live > 10);
	teardown(&e, m); /* checks live == 0; LSan checks at exit */
	CHECK(e.pml4 == NULL);
	ept_destroy(&e); /* twice is harmless */
}

/* EPT_IGNORE_PAT (the poll page, vmx/pollpage.c): the leaf is write-back
 * with IPAT set, and a 2 MiB leaf split by a later misconfig keeps it. */
TEST(test_map_ignore_pat)
{
	struct ept e;
	struct host_mem *m = setup(&e);
	u64 gpa = 0xfe100000, hpa = 0x80007000, h = 0, p = 0;
	u64 *t = host_phys_to_virt(m, ept_eptp(&e) & EPT_ADDR_MASK);

	CHECK_EQ(ept_map_range(&e, gpa, hpa, PAGE_SIZE, EPT_READ | EPT_WRITE | EPT_IGNORE_PAT), 0);
	for (unsigned lvl = EPT_LEVEL_PML4; lvl > EPT_LEVEL_PT; lvl--)
		t = host_phys_to_virt(m, t[(gpa >> (12 + 9 * (lvl - 1))) & 511] & EPT_ADDR_MASK);
	CHECK_EQ(t[(gpa >> 12) & 511], hpa | EPT_READ | EPT_WRITE | EPT_IGNORE_PAT |
		 EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT);
	CHECK(tr(&e, gpa + 8, &h, &p, NULL));
	CHECK_EQ(h, hpa + 8);
	CHECK_EQ(p, EPT_READ | EPT_WRITE);
	/* A 2 MiB leaf with IPAT, split by a misconfigured page: its other
	 * 511 pages keep IPAT. */
	CHECK_EQ(ept_map_range(&e, 0x200000, 0x80200000, 2 * MiB, EPT_READ | EPT_IGNORE_PAT), 0);
	CHECK_EQ(ept_set_misconfig(&e, 0x201000), 0);
	t = host_phys_to_virt(m, ept_eptp(&e) & EPT_ADDR_MASK);
	for (unsigned lvl = EPT_LEVEL_PML4; lvl > EPT_LEVEL_PT; lvl--)
		t = host_phys_to_virt(m, t[(0x200000ull >> (12 + 9 * (lvl - 1))) & 511] & EPT_ADDR_MASK);
	CHECK_EQ(t[0] & (EPT_IGNORE_PAT | EPT_PERM_MASK), EPT_IGNORE_PAT | EPT_READ);
	CHECK_EQ(t[2] & (EPT_IGNORE_PAT | EPT_PERM_MASK), EPT_IGNORE_PAT | EPT_READ);
	/* IPAT alone, or another attribute bit: refused. */
	CHECK_EQ(ept_map_range(&e, 0x600000, 0, PAGE_SIZE, EPT_IGNORE_PAT), -EINVAL);
	CHECK_EQ(ept_map_range(&e, 0x600000, 0, PAGE_SIZE, EPT_READ | EPT_LARGE_PAGE), -EINVAL);
	teardown(&e, m);
}

/* ept_set_page_access (vmx/wprot.c write-protects pages with it): one page
 * of a 2 MiB leaf changes, the leaf is split and its other 511 pages keep
 * their rights and host addresses; setting the rights back keeps the split.
 * Misconfigured and unmapped pages are refused, and a split that cannot get
 * its table page changes nothing. */
TEST(test_set_page_access)
{
	struct ept e;
	struct host_mem *m = setup(&e);
	struct table_stats st;
	u64 h = 0, p = 0;
	unsigned l = 0;

	CHECK_EQ(ept_map_range(&e, 0x200000, 0x600000, 2 * MiB, RWX), 0);
	long before = m->live;
	/* The same rights: nothing to do, no split. */
	CHECK_EQ(ept_set_page_access(&e, 0x203000, RWX), 0);
	CHECK_EQ(m->live, before);
	CHECK(tr(&e, 0x203000, NULL, NULL, &l));
	CHECK_EQ(l, EPT_LEVEL_PD);

	/* Read and execute only: split, one page changed. */
	CHECK_EQ(ept_set_page_access(&e, 0x203000, EPT_READ | EPT_EXEC), 0);
	CHECK_EQ(m->live, before + 1);
	CHECK(tr(&e, 0x203010, &h, &p, &l));
	CHECK_EQ(h, 0x603010);
	CHECK_EQ(p, EPT_READ | EPT_EXEC);
	CHECK_EQ(l, EPT_LEVEL_PT);
	st = check_tables(&e, m);
	CHECK_EQ(st.leaves_2m, 0);
	CHECK_EQ(st.leaves_4k, 512);
	CHECK_EQ(count_wrong(&e, 0x200000, 0x600000, 0x3000, RWX, EPT_LEVEL_PT), 0);
	CHECK_EQ(count_wrong(&e, 0x204000, 0x604000, 2 * MiB - 0x4000, RWX, EPT_LEVEL_PT), 0);
	/* A second page of the same table: no new table. */
	CHECK_EQ(ept_set_page_access(&e, 0x3ff000, EPT_READ), 0);
	CHECK_EQ(m->live, before + 1);
	CHECK(tr(&e, 0x3ff000, NULL, &p, NULL));
	CHECK_EQ(p, EPT_READ);

	/* Back to read, write, execute: the 4 KiB leaves stay. */
	CHECK_EQ(ept_set_page_access(&e, 0x203000, RWX), 0);
	CHECK_EQ(ept_set_page_access(&e, 0x3ff000, RWX), 0);
	CHECK_EQ(count_wrong(&e, 0x200000, 0x600000, 2 * MiB, RWX, EPT_LEVEL_PT), 0);
	check_tables(&e, m);

	/* Refused: unaligned, beyond the walk, write without read, other
	 * bits, a misconfigured page, an unmapped one. */
	CHECK_EQ(ept_set_page_access(&e, 0x203008, EPT_READ), -EINVAL);
	CHECK_EQ(ept_set_page_access(&e, EPT_GPA_LIMIT, EPT_READ), -EINVAL);
	CHECK_EQ(ept_set_page_access(&e, 0x203000, EPT_WRITE), -EINVAL);
	CHECK_EQ(ept_set_page_access(&e, 0x203000, EPT_READ | EPT_IGNORE_PAT), -EINVAL);
	CHECK_EQ(ept_set_misconfig(&e, 0x205000), 0);
	CHECK_EQ(ept_set_page_access(&e, 0x205000, EPT_READ), -ENOENT);
	CHECK(tr(&e, 0x205000, NULL, &p, NULL));
	CHECK_EQ(p, EPT_MISCONFIG_PERMS);
	CHECK_EQ(ept_set_page_access(&e, 0x10000000, EPT_READ), -ENOENT);
	CHECK(!tr(&e, 0x10000000, NULL, NULL, NULL));

	/* A split without a table page: -ENOMEM, the 2 MiB leaf unchanged. */
	CHECK_EQ(ept_map_range(&e, 0x400000, 0x800000, 2 * MiB, RWX), 0);
	before = m->live;
	m->budget = 0;
	CHECK_EQ(ept_set_page_access(&e, 0x401000, EPT_READ), -ENOMEM);
	m->budget = -1;
	CHECK_EQ(m->live, before);
	CHECK_EQ(count_wrong(&e, 0x400000, 0x800000, 2 * MiB, RWX, EPT_LEVEL_PD), 0);
	teardown(&e, m);
}

int main(void)
{
	/* Line-buffered: lines before an ASSERT's abort survive a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(test_map_64m_uses_2m_leaves);
	RUN(test_map_unaligned_hpa_uses_4k_leaves);
	RUN(test_map_crossing_2m_boundaries);
	RUN(test_map_crossing_1g_and_512g);
	RUN(test_unmap_splits_2m_leaf);
	RUN(test_misconfig);
	RUN(test_eptp);
	RUN(test_invalid_arguments);
	RUN(test_map_existing_is_eexist);
	RUN(test_qualification_helpers);
	RUN(test_alloc_failure_injection);
	RUN(test_random_across_1g);
	RUN(test_random_across_512g);
	RUN(test_destroy_frees_everything);
	RUN(test_map_ignore_pat);
	RUN(test_set_page_access);
	return TEST_SUMMARY();
}
