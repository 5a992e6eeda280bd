/*
 * vmx/gwalk.c - the guest page-table walker (see vmx/gwalk.h): the four
 * paging modes of SDM Vol. 3A, "Paging", their reserved-bit rules, and the
 * access-rights rules of "Access Rights" and "Protection Keys", ending in the
 * error code of "Page-Fault Exceptions".
 *
 * One loop serves PAE, 4-level and 5-level paging (8-byte entries, 9 index
 * bits per level); 32-bit paging (4-byte entries, 10 bits) has its own short
 * function. Entries are read through the caller's callback and never written.
 */
#include "vmx/gwalk.h"

/* SDM Vol. 3A, "Paging Modes and Control Bits". */
#define CR0_WP          BIT(16) /* write protect: supervisor writes obey R/W */
#define CR0_PG          BIT(31) /* paging */
#define CR4_PSE         BIT(4)  /* 4-MiB pages with 32-bit paging */
#define CR4_PAE         BIT(5)  /* PAE (and, with LMA, 4/5-level) paging */
#define CR4_LA57        BIT(12) /* 5-level paging in long mode */
#define CR4_SMEP        BIT(20) /* no supervisor fetches from user pages */
#define CR4_SMAP        BIT(21) /* no supervisor data accesses to user pages */
#define CR4_PKE         BIT(22) /* protection keys for user pages */
#define EFER_LMA        BIT(10) /* IA-32e mode active */
#define EFER_NXE        BIT(11) /* execute-disable bit enabled */
#define RFLAGS_AC       BIT(18) /* alignment check; lifts SMAP */

/* SDM Vol. 3A, "Hierarchical Paging Structures: an Overview" and the entry
 * format tables of each mode: bits with one meaning in every mode. */
#define PTE_P           BIT(0)  /* present */
#define PTE_RW          BIT(1)  /* writes allowed */
#define PTE_US          BIT(2)  /* user-mode accesses allowed */
#define PTE_PS          BIT(7)  /* page size: this entry maps a page */
#define PTE_XD          BIT(63) /* execute-disable (with EFER.NXE) */
#define PTE_PK_SHIFT    59      /* bits 62:59: protection key (leaf, CR4.PKE) */
#define PTE_PK_MASK     0xfull

#define PAGE_OFFSET_4K  0xfffull
#define LONG_ADDR_BITS  52      /* entries hold physical address bits 51:12 */
#define MAXPHYADDR_MIN  32
#define MAXPHYADDR_DEF  52

/* SDM Vol. 3A, "32-Bit Paging": 1024 4-byte entries per table; a PDE with PS
 * (and CR4.PSE) maps 4 MiB, its bits 20:13 giving physical address bits 39:32
 * (PSE-36) and bit 21 reserved. */
#define PG32_INDEX_MASK 0x3ffu
#define PG32_PD_SHIFT   22
#define PG32_PT_SHIFT   12
#define PG32_ENTRY_SIZE 4u
#define PG32_ADDR_MASK  0xfffff000u
#define PG32_4M_MASK    0xffc00000u
#define PG32_4M_HI_SHIFT 13     /* PDE bits 20:13 ... */
#define PG32_4M_HI_MASK 0xffull
#define PG32_4M_HI_POS  32      /* ... are physical address bits 39:32 */
#define PG32_4M_RSVD_TOP 21
#define PSE36_MAX_BITS  40

/* SDM Vol. 3A, "PAE Paging" and "4-Level Paging and 5-Level Paging": 512
 * 8-byte entries per table; level 1 is the page table. CR3 holds the 32-byte
 * aligned PDPT in PAE mode, whose 4 PDPTEs have bits 2:1 and 8:5 reserved. */
#define PG64_INDEX_MASK 0x1ffull
#define PG64_INDEX_BITS 9
#define PG64_ENTRY_SIZE 8u
#define PAE_CR3_MASK    0xffffffe0ull
#define PAE_PDPTE_SHIFT 30
#define PAE_PDPTE_RSVD  (BIT(1) | BIT(2) | BIT(5) | BIT(6) | BIT(7) | BIT(8))
#define LEVEL_PT        1
#define LEVEL_PD        2
#define LEVEL_PDPT      3
#define LEVEL_PML4      4
#define LEVEL_PML5      5
#define LA48_BITS       48
#define LA57_BITS       57

/* Bits lo..hi (inclusive) set; an empty mask when hi < lo. */
static u64 gwalk_bits(u32 hi, u32 lo)
{
	if (hi < lo)
		return 0;
	return (~0ull >> (63 - hi)) & ~(BIT(lo) - 1);
}

struct gwalk {
	const struct gwalk_regs *r;
	gwalk_read_fn read;
	void *ctx;
	u32 maxphy;
	bool write, fetch, user;
	bool nxe;		/* XD honoured (PAE or long mode, EFER.NXE) */
	/* Combined over every entry of the walk (SDM "Access Rights"). */
	bool all_rw, all_us, any_xd;
	u32 ec;			/* the error code's access bits */
};

/* Reads the size-byte paging entry at gpa. */
static int gwalk_read_entry(struct gwalk *w, u64 gpa, u32 size, u64 *entry)
{
	u64 v = 0;

	if (w->read(w->ctx, gpa, &v, size))
		return -EIO;
	*entry = v;	/* little-endian host: low bytes first */
	return 0;
}

/*
 * Applies the access-rights rules to a finished translation whose leaf entry
 * is leaf; returns 0 or -EFAULT with *ec the #PF error code. SDM Vol. 3A,
 * "Access Rights" (supervisor and user accesses to supervisor- and user-mode
 * addresses, CR0.WP, SMEP, SMAP with EFLAGS.AC, XD with NXE) and "Protection
 * Keys" (4-level and 5-level paging only, data accesses to user-mode
 * addresses).
 */
static int gwalk_check_access(const struct gwalk *w, u64 leaf, bool long_mode, u32 *ec)
{
	const struct gwalk_regs *r = w->r;
	bool wp = r->cr0 & CR0_WP;
	bool deny;

	if (w->user) {
		deny = !w->all_us || (w->write && !w->all_rw) || (w->fetch && w->any_xd);
	} else if (w->fetch) {
		deny = (w->all_us && (r->cr4 & CR4_SMEP)) || w->any_xd;
	} else {
		/* Explicit supervisor data access; EFLAGS.AC lifts SMAP. */
		bool smap = w->all_us && (r->cr4 & CR4_SMAP) && !(r->rflags & RFLAGS_AC);
		deny = smap || (w->write && wp && !w->all_rw);
	}

	/* SDM Vol. 3A, "Page-Fault Exceptions", PK flag: set whenever the key
	 * forbids the access, whether or not paging forbade it too. */
	bool pk_deny = false;
	if (long_mode && (r->cr4 & CR4_PKE) && w->all_us && !w->fetch) {
		u32 key = (u32)((leaf >> PTE_PK_SHIFT) & PTE_PK_MASK);
		bool ad = (r->pkru >> (2 * key)) & 1;
		bool wd = (r->pkru >> (2 * key + 1)) & 1;
		pk_deny = ad || (wd && w->write && (w->user || wp));
	}
	if (!deny && !pk_deny)
		return 0;
	*ec = w->ec | (u32)PF_ERR_P | (pk_deny ? (u32)PF_ERR_PK : 0);
	return -EFAULT;
}

/* Folds a non-PDPTE entry's rights into the walk. */
static void gwalk_note_rights(struct gwalk *w, u64 e)
{
	w->all_rw &= (e & PTE_RW) != 0;
	w->all_us &= (e & PTE_US) != 0;
	if (w->nxe)
		w->any_xd |= (e & PTE_XD) != 0;
}

/* SDM Vol. 3A, "32-Bit Paging": a 2-level walk of 4-byte entries; 4-MiB
 * pages when CR4.PSE and PDE.PS are set (PS is ignored otherwise). */
static int gwalk_32bit(struct gwalk *w, u32 la, u64 *gpa, u32 *ec)
{
	const struct gwalk_regs *r = w->r;
	u64 pde, pte;
	int rc;

	u64 pde_addr = ((u32)r->cr3 & PG32_ADDR_MASK) +
		       ((la >> PG32_PD_SHIFT) & PG32_INDEX_MASK) * PG32_ENTRY_SIZE;
	rc = gwalk_read_entry(w, pde_addr, PG32_ENTRY_SIZE, &pde);
	if (rc)
		return rc;
	if (!(pde & PTE_P)) {
		*ec = w->ec;
		return -EFAULT;
	}
	gwalk_note_rights(w, pde);
	if ((r->cr4 & CR4_PSE) && (pde & PTE_PS)) {
		/* Bits 20:13 carry address bits 39:32; those at or above
		 * MAXPHYADDR (capped at 40), and bit 21, are reserved. */
		u32 width = MIN(w->maxphy, (u32)PSE36_MAX_BITS);
		u64 rsvd = gwalk_bits(PG32_4M_RSVD_TOP, width - PG32_4M_HI_POS + PG32_4M_HI_SHIFT);
		if (pde & rsvd) {
			*ec = w->ec | (u32)(PF_ERR_P | PF_ERR_RSVD);
			return -EFAULT;
		}
		rc = gwalk_check_access(w, pde, false, ec);
		if (rc)
			return rc;
		*gpa = (pde & PG32_4M_MASK) |
		       (((pde >> PG32_4M_HI_SHIFT) & PG32_4M_HI_MASK) << PG32_4M_HI_POS) |
		       (la & ~PG32_4M_MASK);
		return 0;
	}
	u64 pte_addr = (pde & PG32_ADDR_MASK) +
		       ((la >> PG32_PT_SHIFT) & PG32_INDEX_MASK) * PG32_ENTRY_SIZE;
	rc = gwalk_read_entry(w, pte_addr, PG32_ENTRY_SIZE, &pte);
	if (rc)
		return rc;
	if (!(pte & PTE_P)) {
		*ec = w->ec;
		return -EFAULT;
	}
	gwalk_note_rights(w, pte);
	rc = gwalk_check_access(w, pte, false, ec);
	if (rc)
		return rc;
	*gpa = (pte & PG32_ADDR_MASK) | (la & PAGE_OFFSET_4K);
	return 0;
}

/*
 * Reserved bits of a present 8-byte entry at level (SDM Vol. 3A, the entry
 * format tables of "PAE Paging" and "4-Level Paging and 5-Level Paging"):
 * address bits from MAXPHYADDR up (to 62 with PAE, to 51 in long mode, where
 * 62:52 are ignored), XD without NXE, PS in a PML4E/PML5E, and the low
 * address bits of a large page (bit 12 is its PAT bit).
 */
static u64 gwalk_rsvd64(const struct gwalk *w, bool long_mode, u32 level, u64 e)
{
	u64 rsvd = gwalk_bits(long_mode ? LONG_ADDR_BITS - 1 : 62, w->maxphy);

	if (!w->nxe)
		rsvd |= PTE_XD;
	if (!long_mode && level == LEVEL_PDPT)
		return rsvd | PTE_XD | PAE_PDPTE_RSVD;
	if (level >= LEVEL_PML4)
		return rsvd | PTE_PS;
	if ((e & PTE_PS) && level == LEVEL_PDPT)
		rsvd |= gwalk_bits(29, 13);
	if ((e & PTE_PS) && level == LEVEL_PD)
		rsvd |= gwalk_bits(20, 13);
	return rsvd;
}

/* PAE, 4-level and 5-level paging: walks from levels down to the leaf. */
static int gwalk_64(struct gwalk *w, u64 la, bool long_mode, u32 levels,
		    u64 *gpa, u32 *ec)
{
	const struct gwalk_regs *r = w->r;
	u64 addr_mask = gwalk_bits(w->maxphy - 1, PAGE_SHIFT);
	u64 table = r->cr3 & addr_mask;

	for (u32 level = levels; level >= LEVEL_PT; level--) {
		u32 shift = PAGE_SHIFT + (level - 1) * PG64_INDEX_BITS;
		u64 index = (la >> shift) & PG64_INDEX_MASK;
		u64 e = 0;
		int rc = 0;

		if (!long_mode && level == LEVEL_PDPT) {
			/* PAE: 4 PDPTEs, indexed by bits 31:30. */
			index = (la >> PAE_PDPTE_SHIFT) & 3;
			if (r->pdptes_valid)
				e = r->pdpte[index];
			else
				rc = gwalk_read_entry(w, (r->cr3 & PAE_CR3_MASK) +
						      index * PG64_ENTRY_SIZE,
						      PG64_ENTRY_SIZE, &e);
		} else {
			rc = gwalk_read_entry(w, table + index * PG64_ENTRY_SIZE,
					      PG64_ENTRY_SIZE, &e);
		}
		if (rc)
			return rc;
		if (!(e & PTE_P)) {
			*ec = w->ec;
			return -EFAULT;
		}
		if (e & gwalk_rsvd64(w, long_mode, level, e)) {
			*ec = w->ec | (u32)(PF_ERR_P | PF_ERR_RSVD);
			return -EFAULT;
		}
		/* A PAE PDPTE has no R/W, U/S or XD: it takes no part in the
		 * access rights. */
		if (long_mode || level != LEVEL_PDPT)
			gwalk_note_rights(w, e);
		/* PS is reserved (so never set here) above the PDPT level and
		 * in PAE PDPTEs. */
		if (level == LEVEL_PT || (e & PTE_PS)) {
			u64 offset_mask = BIT(shift) - 1;
			rc = gwalk_check_access(w, e, long_mode, ec);
			if (rc)
				return rc;
			*gpa = (e & addr_mask & ~offset_mask) | (la & offset_mask);
			return 0;
		}
		table = e & addr_mask;
	}
	return -EIO;	/* not reached: level 1 always returns */
}

/* True if la is canonical for a linear-address width of bits (bits 63:bits-1
 * all equal). SDM Vol. 3A, "4-Level Paging and 5-Level Paging". */
static bool gwalk_canonical(u64 la, u32 bits)
{
	u64 top = la >> (bits - 1);
	return top == 0 || top == (~0ull >> (bits - 1));
}

int gwalk_translate(const struct gwalk_regs *r, u64 gla, u32 access,
		    gwalk_read_fn read, void *ctx, u64 *gpa, u32 *fault_error_code)
{
	struct gwalk w = {
		.r = r, .read = read, .ctx = ctx,
		.maxphy = r->maxphyaddr ? r->maxphyaddr : MAXPHYADDR_DEF,
		.write = access & GWALK_WRITE,
		.fetch = access & GWALK_FETCH,
		.user = (access & GWALK_USER) || r->cpl == 3,
		.all_rw = true, .all_us = true, .any_xd = false,
	};
	bool long_mode = r->efer & EFER_LMA;
	u32 ec = 0;
	int rc;

	if ((w.write && w.fetch) || w.maxphy < MAXPHYADDR_MIN || w.maxphy > LONG_ADDR_BITS)
		return -EINVAL;
	if (!(r->cr0 & CR0_PG)) {
		*gpa = long_mode ? gla : (u32)gla;
		return 0;
	}

	w.ec = (w.write ? (u32)PF_ERR_WR : 0) | (w.user ? (u32)PF_ERR_US : 0);
	/* SDM Vol. 3A, "Page-Fault Exceptions", I/D flag: set for a fetch
	 * only if SMEP is on, or XD exists (PAE or long mode, with NXE). */
	bool pae = r->cr4 & CR4_PAE;
	w.nxe = (pae || long_mode) && (r->efer & EFER_NXE);
	if (w.fetch && ((r->cr4 & CR4_SMEP) || w.nxe))
		w.ec |= (u32)PF_ERR_ID;

	if (long_mode) {
		bool la57 = r->cr4 & CR4_LA57;
		if (!gwalk_canonical(gla, la57 ? LA57_BITS : LA48_BITS))
			return -ERANGE;
		rc = gwalk_64(&w, gla, true, la57 ? LEVEL_PML5 : LEVEL_PML4, gpa, &ec);
	} else if (pae) {
		rc = gwalk_64(&w, (u32)gla, false, LEVEL_PDPT, gpa, &ec);
	} else {
		rc = gwalk_32bit(&w, (u32)gla, gpa, &ec);
	}
	if (rc == -EFAULT)
		*fault_error_code = ec;
	return rc;
}
