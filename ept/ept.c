/*
 * ept/ept.c - builds, edits, walks and frees one VM's 4-level EPT
 * (PML4 -> PDPT -> PD -> PT). See ept.h for the interface and the SDM
 * sections it implements.
 *
 * Invariants kept between calls:
 *  - every present non-leaf entry is (table physical address | R | W | X):
 *    access rights are the AND over the walk, so only leaves restrict, and
 *    bits 7:3 of a non-leaf entry are reserved (SDM Vol. 3C, "Format of an
 *    EPT PML4 Entry (PML4E) that References an EPT Page-Directory-Pointer
 *    Table" and the PDPTE/PDE tables that reference a next table);
 *  - leaves are 2 MiB PDEs (bit 7 set) or PTEs; nothing maps 1 GiB;
 *  - no table below the PML4 is empty: a call that empties one frees it, so
 *    memory use follows what is mapped and a failed call leaves nothing behind.
 */
#include "ept/ept.h"

#define EPT_ENTRIES        512u    /* 64-bit entries per 4 KiB table */
#define EPT_INDEX_BITS     9u      /* guest-physical bits per level */
#define EPT_TABLE_PERMS    EPT_PERM_MASK
#define EPT_LEAF_MEMTYPE   (EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT)
/* At most the first and the last 2 MiB leaf of a range are only partly in it,
 * so an unmap splits at most two leaves. */
#define EPT_MAX_SPLITS     2u

_Static_assert(EPT_ENTRIES * sizeof(u64) == PAGE_SIZE,
	       "an EPT table fills exactly one 4 KiB page");
_Static_assert(EPT_PAGE_SIZE_4K == PAGE_SIZE, "4 KiB leaves are pages");
_Static_assert(EPT_PAGE_SIZE_2M == EPT_PAGE_SIZE_4K * EPT_ENTRIES,
	       "a 2 MiB leaf covers one page table");
_Static_assert(EPT_GPA_LIMIT ==
	       BIT(PAGE_SHIFT + EPT_INDEX_BITS * EPT_LEVEL_PML4),
	       "a 4-level walk translates 48 bits");

/* Table pages set aside before an unmap changes anything, so that the splits
 * it needs cannot fail half-way. */
struct ept_spares {
	u64 *page[EPT_MAX_SPLITS];
	u64 pa[EPT_MAX_SPLITS];
	unsigned count;
};

/* Guest-physical bit where the index into a table at level starts: bits
 * 47:39, 38:30, 29:21, 20:12 (SDM Vol. 3C, "EPT Translation Mechanism"). */
static unsigned ept_level_shift(unsigned level)
{
	return PAGE_SHIFT + EPT_INDEX_BITS * (level - 1);
}

/* Bytes of guest-physical space one entry at level controls. */
static u64 ept_level_span(unsigned level)
{
	return BIT(ept_level_shift(level));
}

static unsigned ept_index(u64 gpa, unsigned level)
{
	return (unsigned)((gpa >> ept_level_shift(level)) & (EPT_ENTRIES - 1));
}

/* End of the entry at level that holds addr, clipped to end. */
static u64 ept_entry_end(u64 addr, u64 end, unsigned level)
{
	u64 span = ept_level_span(level);

	return MIN(ALIGN_DOWN(addr, span) + span, end);
}

/* Bits 2:0 all clear: not present. SDM Vol. 3C, "EPT Translation
 * Mechanism". */
static bool ept_entry_present(u64 entry)
{
	return entry & EPT_PERM_MASK;
}

/* Whether a present entry at level maps a page rather than a table. Bit 7 is
 * the page-size bit only in a PDE here: no 1 GiB leaves are created, and in a
 * PTE bit 7 is ignored. */
static bool ept_entry_is_leaf(u64 entry, unsigned level)
{
	return level == EPT_LEVEL_PT ||
	       (level == EPT_LEVEL_PD && (entry & EPT_LARGE_PAGE));
}

static bool ept_entry_is_misconfig(u64 entry, unsigned level)
{
	return level == EPT_LEVEL_PT &&
	       (entry & EPT_PERM_MASK) == EPT_MISCONFIG_PERMS;
}

static u64 ept_make_leaf(u64 hpa, u64 perms, unsigned level)
{
	u64 entry = (hpa & EPT_ADDR_MASK) | perms | EPT_LEAF_MEMTYPE;

	if (level == EPT_LEVEL_PD)
		entry |= EPT_LARGE_PAGE;
	return entry;
}

static u64 ept_make_table_entry(u64 table_pa)
{
	return table_pa | EPT_TABLE_PERMS;
}

/* The table a present non-leaf entry references. */
static u64 *ept_entry_table(const struct ept *e, u64 entry)
{
	return e->ops.phys_to_virt(e->ops.ctx, entry & EPT_ADDR_MASK);
}

/* Returns a zeroed table page and stores its physical address, or NULL. */
static u64 *ept_alloc_table(struct ept *e, u64 *pa)
{
	u64 *table = e->ops.alloc_page(e->ops.ctx);

	if (!table)
		return NULL;
	*pa = e->ops.virt_to_phys(e->ops.ctx, table);
	/* The CPU takes bits 51:12 of an entry as the table address. */
	ASSERT(IS_ALIGNED(*pa, PAGE_SIZE) && *pa < EPT_HPA_LIMIT);
	return table;
}

static void ept_free_table(struct ept *e, u64 *table)
{
	e->ops.free_page(e->ops.ctx, table);
}

static bool ept_table_is_empty(const u64 *table)
{
	for (unsigned i = 0; i < EPT_ENTRIES; i++)
		if (table[i])
			return false;
	return true;
}

/* Whether [gpa, gpa + size) is a non-empty, page-aligned range that a
 * 4-level walk can translate. */
static bool ept_gpa_range_valid(u64 gpa, u64 size)
{
	return size && IS_ALIGNED(gpa, PAGE_SIZE) &&
	       IS_ALIGNED(size, PAGE_SIZE) && size <= EPT_GPA_LIMIT &&
	       gpa <= EPT_GPA_LIMIT - size;
}

/* R, RW, RX or RWX, optionally with EPT_IGNORE_PAT. W without R
 * misconfigures (ept_set_misconfig() does that on purpose); X alone needs
 * IA32_VMX_EPT_VPID_CAP bit 0, which this pure module cannot check. SDM Vol.
 * 3C, "EPT Misconfigurations". */
static bool ept_perms_valid(u64 perms)
{
	return !(perms & ~(EPT_PERM_MASK | EPT_IGNORE_PAT)) && (perms & EPT_READ);
}

/*
 * Walks from the PML4 towards gpa and returns the entry that decides it: the
 * leaf, or the first entry that is not present. Stores that entry's level
 * and the AND of bits 2:0 of the entries above it.
 */
static u64 *ept_walk(const struct ept *e, u64 gpa, unsigned *level,
		     u64 *perms_above)
{
	u64 *table = e->pml4;
	u64 perms = EPT_PERM_MASK;

	for (unsigned lvl = EPT_LEVEL_PML4;; lvl--) {
		u64 *entry = &table[ept_index(gpa, lvl)];

		if (!ept_entry_present(*entry) ||
		    ept_entry_is_leaf(*entry, lvl)) {
			*level = lvl;
			*perms_above = perms;
			return entry;
		}
		perms &= *entry;
		table = ept_entry_table(e, *entry);
	}
}

/* Whether the leaf holding addr is a 2 MiB page that [gpa, end) covers only
 * in part, so that unmapping the range must split it. */
static bool ept_range_splits_leaf(const struct ept *e, u64 gpa, u64 end,
				  u64 addr)
{
	unsigned level;
	u64 perms, leaf_start;
	u64 *entry = ept_walk(e, addr, &level, &perms);

	if (!ept_entry_present(*entry) || level != EPT_LEVEL_PD)
		return false;
	leaf_start = ALIGN_DOWN(addr, EPT_PAGE_SIZE_2M);
	return leaf_start < gpa || leaf_start + EPT_PAGE_SIZE_2M > end;
}

/*
 * Replaces the 2 MiB leaf *pde by the page table pt (physical address pt_pa,
 * zeroed) holding 512 4 KiB leaves with the same host addresses, access
 * rights and memory type, so the split changes no translation.
 */
static void ept_split_large_leaf(u64 *pde, u64 *pt, u64 pt_pa)
{
	u64 base = *pde & EPT_ADDR_MASK;
	u64 attrs = *pde & ~(EPT_ADDR_MASK | EPT_LARGE_PAGE);

	for (unsigned i = 0; i < EPT_ENTRIES; i++)
		pt[i] = (base + (u64)i * EPT_PAGE_SIZE_4K) | attrs;
	*pde = ept_make_table_entry(pt_pa);
}

/* Whether no page of [gpa, end) is present in table (at level). */
static bool ept_range_is_empty(const struct ept *e, const u64 *table,
			       unsigned level, u64 gpa, u64 end)
{
	for (u64 addr = gpa, next; addr < end; addr = next) {
		u64 entry = table[ept_index(addr, level)];

		next = ept_entry_end(addr, end, level);
		if (!ept_entry_present(entry))
			continue;
		if (ept_entry_is_leaf(entry, level))
			return false;
		if (!ept_range_is_empty(e, ept_entry_table(e, entry),
					level - 1, addr, next))
			return false;
	}
	return true;
}

/*
 * Maps [gpa, end) -> hpa in table (at level), allocating tables on the way.
 * The caller has checked that no page of the range is present. On -ENOMEM
 * the leaves and tables made so far stay; the caller clears the range.
 */
static int ept_map_table(struct ept *e, u64 *table, unsigned level, u64 gpa,
			 u64 end, u64 hpa, u64 perms)
{
	u64 span = ept_level_span(level);

	for (u64 addr = gpa, next; addr < end; addr = next) {
		u64 *entry = &table[ept_index(addr, level)];
		u64 addr_hpa = hpa + (addr - gpa);
		int err;

		next = ept_entry_end(addr, end, level);
		/* A 2 MiB leaf needs the whole 2 MiB of the range and a
		 * 2 MiB-aligned host address (bits 20:12 of the PDE are
		 * reserved). */
		if (level == EPT_LEVEL_PT ||
		    (level == EPT_LEVEL_PD && next - addr == span &&
		     IS_ALIGNED(addr_hpa, span))) {
			ASSERT(!ept_entry_present(*entry));
			*entry = ept_make_leaf(addr_hpa, perms, level);
			continue;
		}
		if (!ept_entry_present(*entry)) {
			u64 pa;

			if (!ept_alloc_table(e, &pa))
				return -ENOMEM;
			*entry = ept_make_table_entry(pa);
		}
		ASSERT(!ept_entry_is_leaf(*entry, level));
		err = ept_map_table(e, ept_entry_table(e, *entry), level - 1,
				    addr, next, addr_hpa, perms);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Makes every page of [gpa, end) in table (at level) not present, splitting
 * a partly covered 2 MiB leaf with a page from spares (which must hold
 * enough), and frees each table this empties.
 */
static void ept_clear_table(struct ept *e, u64 *table, unsigned level,
			    u64 gpa, u64 end, struct ept_spares *spares)
{
	u64 span = ept_level_span(level);

	for (u64 addr = gpa, next; addr < end; addr = next) {
		u64 *entry = &table[ept_index(addr, level)];
		u64 *child;

		next = ept_entry_end(addr, end, level);
		if (!ept_entry_present(*entry))
			continue;
		if (ept_entry_is_leaf(*entry, level)) {
			if (next - addr == span) {
				*entry = 0;
				continue;
			}
			ASSERT(spares && spares->count > 0);
			spares->count--;
			ept_split_large_leaf(entry,
					     spares->page[spares->count],
					     spares->pa[spares->count]);
		}
		child = ept_entry_table(e, *entry);
		ept_clear_table(e, child, level - 1, addr, next, spares);
		if (ept_table_is_empty(child)) {
			*entry = 0;
			ept_free_table(e, child);
		}
	}
}

/* Frees, bottom-up, the tables on gpa's path that hold nothing. */
static void ept_prune_path(struct ept *e, u64 *table, unsigned level, u64 gpa)
{
	u64 *entry = &table[ept_index(gpa, level)];
	u64 *child;

	if (!ept_entry_present(*entry) || ept_entry_is_leaf(*entry, level))
		return;
	child = ept_entry_table(e, *entry);
	ept_prune_path(e, child, level - 1, gpa);
	if (ept_table_is_empty(child)) {
		*entry = 0;
		ept_free_table(e, child);
	}
}

/* Frees table (at level) and every table below it. */
static void ept_free_tables(struct ept *e, u64 *table, unsigned level)
{
	for (unsigned i = 0; level > EPT_LEVEL_PT && i < EPT_ENTRIES; i++) {
		u64 entry = table[i];

		if (ept_entry_present(entry) &&
		    !ept_entry_is_leaf(entry, level))
			ept_free_tables(e, ept_entry_table(e, entry),
					level - 1);
	}
	ept_free_table(e, table);
}

int ept_init(struct ept *e, const struct ept_ops *ops)
{
	e->pml4 = NULL;
	e->pml4_pa = 0;
	if (!ops || !ops->alloc_page || !ops->free_page ||
	    !ops->virt_to_phys || !ops->phys_to_virt)
		return -EINVAL;
	e->ops = *ops;
	e->pml4 = ept_alloc_table(e, &e->pml4_pa);
	return e->pml4 ? 0 : -ENOMEM;
}

int ept_map_range(struct ept *e, u64 gpa, u64 hpa, u64 size, u64 perms)
{
	int err;

	ASSERT(e->pml4);
	if (!ept_gpa_range_valid(gpa, size) || !IS_ALIGNED(hpa, PAGE_SIZE) ||
	    size > EPT_HPA_LIMIT || hpa > EPT_HPA_LIMIT - size ||
	    !ept_perms_valid(perms))
		return -EINVAL;
	if (!ept_range_is_empty(e, e->pml4, EPT_LEVEL_PML4, gpa, gpa + size))
		return -EEXIST;
	err = ept_map_table(e, e->pml4, EPT_LEVEL_PML4, gpa, gpa + size, hpa,
			    perms);
	if (err) {
		/* The range was empty, so every 2 MiB leaf in it is one just
		 * made and lies wholly inside: undoing needs no split. */
		ept_clear_table(e, e->pml4, EPT_LEVEL_PML4, gpa, gpa + size,
				NULL);
	}
	return err;
}

int ept_unmap_range(struct ept *e, u64 gpa, u64 size)
{
	struct ept_spares spares = { .count = 0 };
	u64 end = gpa + size;
	unsigned need = 0;

	ASSERT(e->pml4);
	if (!ept_gpa_range_valid(gpa, size))
		return -EINVAL;
	if (ept_range_splits_leaf(e, gpa, end, gpa))
		need++;
	if (ALIGN_DOWN(end - 1, EPT_PAGE_SIZE_2M) !=
		    ALIGN_DOWN(gpa, EPT_PAGE_SIZE_2M) &&
	    ept_range_splits_leaf(e, gpa, end, end - 1))
		need++;
	for (; spares.count < need; spares.count++) {
		spares.page[spares.count] =
			ept_alloc_table(e, &spares.pa[spares.count]);
		if (!spares.page[spares.count]) {
			while (spares.count > 0)
				ept_free_table(e, spares.page[--spares.count]);
			return -ENOMEM;
		}
	}
	ept_clear_table(e, e->pml4, EPT_LEVEL_PML4, gpa, end, &spares);
	ASSERT(spares.count == 0);
	return 0;
}

int ept_set_misconfig(struct ept *e, u64 gpa)
{
	u64 *table = e->pml4;

	ASSERT(e->pml4);
	if (!ept_gpa_range_valid(gpa, EPT_PAGE_SIZE_4K))
		return -EINVAL;
	for (unsigned level = EPT_LEVEL_PML4; level > EPT_LEVEL_PT; level--) {
		u64 *entry = &table[ept_index(gpa, level)];
		bool present = ept_entry_present(*entry);

		/* A missing table is made; a 2 MiB leaf becomes a table of
		 * 4 KiB leaves so that only this page changes. */
		if (!present || ept_entry_is_leaf(*entry, level)) {
			u64 pa;
			u64 *next = ept_alloc_table(e, &pa);

			if (!next) {
				ept_prune_path(e, e->pml4, EPT_LEVEL_PML4, gpa);
				return -ENOMEM;
			}
			if (present)
				ept_split_large_leaf(entry, next, pa);
			else
				*entry = ept_make_table_entry(pa);
		}
		table = ept_entry_table(e, *entry);
	}
	table[ept_index(gpa, EPT_LEVEL_PT)] = EPT_MISCONFIG_PERMS;
	return 0;
}

int ept_clear_misconfig(struct ept *e, u64 gpa)
{
	unsigned level;
	u64 perms;
	u64 *entry;

	ASSERT(e->pml4);
	if (!ept_gpa_range_valid(gpa, EPT_PAGE_SIZE_4K))
		return -EINVAL;
	entry = ept_walk(e, gpa, &level, &perms);
	if (!ept_entry_present(*entry) ||
	    !ept_entry_is_misconfig(*entry, level))
		return -ENOENT;
	*entry = 0;
	ept_prune_path(e, e->pml4, EPT_LEVEL_PML4, gpa);
	return 0;
}

int ept_set_page_access(struct ept *e, u64 gpa, u64 perms)
{
	unsigned level;
	u64 above;
	u64 *entry;

	ASSERT(e->pml4);
	if (!ept_gpa_range_valid(gpa, EPT_PAGE_SIZE_4K) ||
	    (perms & ~EPT_PERM_MASK) || !ept_perms_valid(perms))
		return -EINVAL;
	entry = ept_walk(e, gpa, &level, &above);
	if (!ept_entry_present(*entry) || ept_entry_is_misconfig(*entry, level))
		return -ENOENT;
	if ((*entry & EPT_PERM_MASK) == perms)
		return 0;
	if (level == EPT_LEVEL_PD) {
		u64 pa;
		u64 *pt = ept_alloc_table(e, &pa);

		if (!pt)
			return -ENOMEM;
		ept_split_large_leaf(entry, pt, pa);
		entry = &pt[ept_index(gpa, EPT_LEVEL_PT)];
	}
	*entry = (*entry & ~EPT_PERM_MASK) | perms;
	return 0;
}

bool ept_translate(const struct ept *e, u64 gpa, u64 *hpa, u64 *perms,
		   unsigned *level)
{
	unsigned lvl;
	u64 perms_above;
	u64 *entry;
	u64 offset_mask;

	if (!e->pml4 || gpa >= EPT_GPA_LIMIT)
		return false;
	entry = ept_walk(e, gpa, &lvl, &perms_above);
	if (!ept_entry_present(*entry))
		return false;
	offset_mask = ept_level_span(lvl) - 1;
	if (hpa)
		*hpa = (*entry & EPT_ADDR_MASK & ~offset_mask) |
		       (gpa & offset_mask);
	if (perms)
		*perms = perms_above & *entry & EPT_PERM_MASK;
	if (level)
		*level = lvl;
	return true;
}

u64 ept_eptp(const struct ept *e)
{
	ASSERT(e->pml4);
	return (e->pml4_pa & EPTP_ADDR_MASK) | EPTP_MEMTYPE_WB |
	       EPTP_WALK_LENGTH_4;
}

void ept_destroy(struct ept *e)
{
	if (!e->pml4)
		return;
	ept_free_tables(e, e->pml4, EPT_LEVEL_PML4);
	e->pml4 = NULL;
	e->pml4_pa = 0;
}
