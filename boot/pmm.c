/*
 * boot/pmm.c - the physical memory range allocator: free memory kept as a
 * sorted array of disjoint, non-adjacent, page-aligned ranges [base, end).
 *
 * Pure: it never touches the memory it manages, so it is unit-tested on the
 * host against a page-bitmap model (tests/host/test_pmm.c).
 *
 * Invariants, true after every call:
 *   - free[0..count) sorted by base, each base < end, both page-aligned;
 *   - free[i].end < free[i+1].base (ranges never touch: touching ones merge);
 *   - physical page 0 is never in the set, so 0 can mean "no memory".
 *
 * Table full (PMM_MAX_RANGES ranges): an operation that would need one more
 * range (adding or freeing a range that touches none, or carving a hole out
 * of the middle of a range) instead forgets the smallest of the ranges
 * involved (all current ranges and the new one; ties: the new one). Forgetting
 * free memory only leaks it, never hands out memory twice, so the list stays
 * valid; each such loss is logged.
 */
#include "boot/boot.h"

void pmm_init(struct pmm *p)
{
	memset(p, 0, sizeof(*p));
}

static u64 pmm_range_size(const struct pmm_range *r)
{
	return r->end - r->base;
}

static void pmm_remove_at(struct pmm *p, u32 i)
{
	memmove(&p->free[i], &p->free[i + 1],
		(p->count - i - 1) * sizeof(p->free[0]));
	p->count--;
}

/* Inserts r at index i, where it touches neither neighbour. When the table
 * is full, the smallest range (r included) is forgotten instead; see the file
 * header. */
static void pmm_insert_at(struct pmm *p, u32 i, struct pmm_range r)
{
	if (p->count == PMM_MAX_RANGES) {
		u32 smallest = 0;
		for (u32 k = 1; k < p->count; k++)
			if (pmm_range_size(&p->free[k]) <
			    pmm_range_size(&p->free[smallest]))
				smallest = k;
		struct pmm_range *victim = &p->free[smallest];
		if (pmm_range_size(&r) <= pmm_range_size(victim)) {
			printk("pmm: range table full, leaking free [0x%llx, 0x%llx)\n",
			       (unsigned long long)r.base,
			       (unsigned long long)r.end);
			return;
		}
		printk("pmm: range table full, leaking free [0x%llx, 0x%llx)\n",
		       (unsigned long long)victim->base,
		       (unsigned long long)victim->end);
		pmm_remove_at(p, smallest);
		if (smallest < i)
			i--;
	}
	memmove(&p->free[i + 1], &p->free[i],
		(p->count - i) * sizeof(p->free[0]));
	p->free[i] = r;
	p->count++;
}

/* Adds the page-aligned [base, end) (base < end) to the set, merging it with
 * every range it overlaps or touches. */
static void pmm_union(struct pmm *p, u64 base, u64 end)
{
	/* Page 0 stays out of the set so that 0 never comes out of pmm_alloc. */
	if (base == 0)
		base = PAGE_SIZE;
	if (base >= end)
		return;

	/* i: first range that ends at or after base (touching counts). */
	u32 i = 0;
	while (i < p->count && p->free[i].end < base)
		i++;
	/* j: one past the last range that starts at or before end. */
	u32 j = i;
	while (j < p->count && p->free[j].base <= end)
		j++;

	if (i == j) {
		pmm_insert_at(p, i, (struct pmm_range){ base, end });
		return;
	}
	struct pmm_range *r = &p->free[i];
	r->base = MIN(r->base, base);
	r->end = MAX(p->free[j - 1].end, end);
	u32 gone = j - i - 1;
	if (gone) {
		memmove(&p->free[i + 1], &p->free[j],
			(p->count - j) * sizeof(p->free[0]));
		p->count -= gone;
	}
}

void pmm_add(struct pmm *p, u64 base, u64 end)
{
	/* Shrink inward: a partial page is not ours to hand out. */
	if (base > UINT64_MAX - (PAGE_SIZE - 1))
		return;
	base = ALIGN_UP(base, PAGE_SIZE);
	end = ALIGN_DOWN(end, PAGE_SIZE);
	if (base < end)
		pmm_union(p, base, end);
}

void pmm_reserve(struct pmm *p, u64 base, u64 end)
{
	if (base >= end)
		return;
	/* Grow outward: a page partly reserved is not free. An end that would
	 * round past 2^64 means "to the top"; no range ends beyond
	 * ALIGN_DOWN(UINT64_MAX, PAGE_SIZE). */
	base = ALIGN_DOWN(base, PAGE_SIZE);
	end = end > UINT64_MAX - (PAGE_SIZE - 1) ? UINT64_MAX
						 : ALIGN_UP(end, PAGE_SIZE);

	u32 i = 0;
	while (i < p->count && p->free[i].end <= base)
		i++;
	while (i < p->count && p->free[i].base < end) {
		struct pmm_range *r = &p->free[i];
		if (r->base < base && r->end > end) {
			/* The hole is inside r: split it in two. */
			struct pmm_range right = { end, r->end };
			r->end = base;
			pmm_insert_at(p, i + 1, right);
			return;
		}
		if (r->base < base) {
			r->end = base;
			i++;
		} else if (r->end > end) {
			r->base = end;
			return;
		} else {
			pmm_remove_at(p, i);
		}
	}
}

u64 pmm_alloc(struct pmm *p, u64 size, u64 align)
{
	if (size == 0 || size > UINT64_MAX - (PAGE_SIZE - 1))
		return 0;
	if (align == 0 || (align & (align - 1)) != 0)
		return 0;
	size = ALIGN_UP(size, PAGE_SIZE);
	align = MAX(align, PAGE_SIZE);

	for (u32 i = 0; i < p->count; i++) {
		const struct pmm_range *r = &p->free[i];
		if (r->base > UINT64_MAX - (align - 1))
			break;		/* this and every later base */
		u64 a = ALIGN_UP(r->base, align);
		if (a >= r->end || r->end - a < size)
			continue;
		/* a >= r->base >= PAGE_SIZE: page 0 is never in the set. */
		pmm_reserve(p, a, a + size);
		return a;
	}
	return 0;
}

void pmm_free(struct pmm *p, u64 base, u64 size)
{
	/* Memory from pmm_alloc is page-aligned and size was rounded up there:
	 * round it up here too. An unaligned base is a caller bug; freeing a
	 * page it does not wholly own could hand it out twice, so refuse. */
	if (size == 0)
		return;
	if (!IS_ALIGNED(base, PAGE_SIZE) ||
	    size > UINT64_MAX - (PAGE_SIZE - 1) ||
	    ALIGN_UP(size, PAGE_SIZE) > ALIGN_DOWN(UINT64_MAX, PAGE_SIZE) - base) {
		printk("pmm: refusing to free [0x%llx, +0x%llx): unaligned or wraps\n",
		       (unsigned long long)base, (unsigned long long)size);
		return;
	}
	pmm_union(p, base, base + ALIGN_UP(size, PAGE_SIZE));
}

u64 pmm_free_bytes(const struct pmm *p)
{
	u64 total = 0;
	for (u32 i = 0; i < p->count; i++)
		total += pmm_range_size(&p->free[i]);
	return total;
}
