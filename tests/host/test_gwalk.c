/* Host tests for vmx/gwalk.c: page tables built in a fake guest memory for
 * every paging mode, large pages, each fault and its #PF error code, CR0.WP,
 * NX, SMEP, SMAP, protection keys, and a randomized comparison of 4-level
 * walks against a separate straightforward reference. */
#include "vmx/gwalk.c"
#include "tests/host/test.h"

#define GMEM_SIZE   (4 * MiB)
#define TABLES_BASE 0x100000ull

/* Paging bits, written out here again rather than taken from gwalk.c. */
#define P    0x1ull
#define RW   0x2ull
#define US   0x4ull
#define PS   0x80ull
#define XD   (1ull << 63)
#define NL   (P | RW | US)	/* a fully permissive non-leaf entry */

#define R_CR0_PG  (1ull << 31)
#define R_CR0_WP  (1ull << 16)
#define R_CR4_PSE (1ull << 4)
#define R_CR4_PAE (1ull << 5)
#define R_CR4_LA57 (1ull << 12)
#define R_CR4_SMEP (1ull << 20)
#define R_CR4_SMAP (1ull << 21)
#define R_CR4_PKE (1ull << 22)
#define R_EFER_LMA (1ull << 10)
#define R_EFER_NXE (1ull << 11)
#define R_AC      (1ull << 18)

static u8 gmem[GMEM_SIZE];
static u64 next_table;
static u32 reads;

static int gmem_read(void *ctx, u64 gpa, void *buf, u32 size)
{
	(void)ctx;
	reads++;
	if (size != 4 && size != 8)
		abort();
	if (gpa > GMEM_SIZE - size)
		return -EFAULT;
	memcpy(buf, gmem + gpa, size);
	return 0;
}

static void gmem_reset(void)
{
	memset(gmem, 0, sizeof(gmem));
	next_table = TABLES_BASE;
}

static u64 table_alloc(void)
{
	u64 t = next_table;
	next_table += PAGE_SIZE;
	return t;
}

static u64 get64(u64 gpa) { u64 v; memcpy(&v, gmem + gpa, 8); return v; }
static void set64(u64 gpa, u64 v) { memcpy(gmem + gpa, &v, 8); }
static void set32(u64 gpa, u32 v) { memcpy(gmem + gpa, &v, 4); }

/*
 * 64-bit-entry tables (4-level: levels 4, 5-level: 5): makes the path for la
 * from the table at root down to leaf_level (missing tables created with
 * non-leaf flags nl), stores leaf there, and returns the leaf entry's gpa.
 */
static u64 map64(u64 root, u32 levels, u64 la, u32 leaf_level, u64 leaf, u64 nl)
{
	u64 table = root;
	for (u32 l = levels; l > leaf_level; l--) {
		u64 ea = table + ((la >> (12 + 9 * (l - 1))) & 511) * 8;
		u64 e = get64(ea);
		if (!(e & P)) {
			e = table_alloc() | nl;
			set64(ea, e);
		}
		table = e & 0x000ffffffffff000ull;
	}
	u64 ea = table + ((la >> (12 + 9 * (leaf_level - 1))) & 511) * 8;
	set64(ea, leaf);
	return ea;
}

/* Returns the gpa of the entry for la at level in an existing path. */
static u64 entry64(u64 root, u32 levels, u64 la, u32 level)
{
	u64 table = root;
	for (u32 l = levels; l > level; l--)
		table = get64(table + ((la >> (12 + 9 * (l - 1))) & 511) * 8) & 0x000ffffffffff000ull;
	return table + ((la >> (12 + 9 * (level - 1))) & 511) * 8;
}

static u64 xgpa;
static u32 xec;

static int walk(const struct gwalk_regs *r, u64 la, u32 access)
{
	xgpa = 0xdeadull;
	xec = 0xdeadu;
	return gwalk_translate(r, la, access, gmem_read, NULL, &xgpa, &xec);
}

/* A successful walk to want. */
#define CHECK_GPA(r, la, acc, want)                                            \
	do {                                                                   \
		CHECK_EQ(walk((r), (la), (acc)), 0);                           \
		CHECK_EQ(xgpa, (want));                                        \
	} while (0)

/* A #PF with error code ec. */
#define CHECK_PF(r, la, acc, ec)                                               \
	do {                                                                   \
		CHECK_EQ(walk((r), (la), (acc)), -EFAULT);                     \
		CHECK_EQ(xec, (ec));                                           \
	} while (0)

/* ---- no paging, argument checks ------------------------------------------- */
TEST(test_paging_off)
{
	struct gwalk_regs r = { .cr0 = 1 /* PE */ };
	reads = 0;
	CHECK_GPA(&r, 0x12345678ull, 0, 0x12345678ull);
	CHECK_GPA(&r, 0x123456789ull, GWALK_WRITE, 0x23456789ull);	/* 32-bit */
	CHECK_GPA(&r, 0xffffffffffffffffull, GWALK_FETCH | GWALK_USER, 0xffffffffull);
	CHECK_EQ(reads, 0);

	CHECK_EQ(walk(&r, 0, GWALK_WRITE | GWALK_FETCH), -EINVAL);
	r.maxphyaddr = 31;
	CHECK_EQ(walk(&r, 0, 0), -EINVAL);
	r.maxphyaddr = 53;
	CHECK_EQ(walk(&r, 0, 0), -EINVAL);
	r.maxphyaddr = 32;
	CHECK_EQ(walk(&r, 0, 0), 0);
}

/* ---- 32-bit paging -------------------------------------------------------- */
TEST(test_32bit_4k)
{
	gmem_reset();
	u64 pd = table_alloc(), pt = table_alloc();
	struct gwalk_regs r = { .cr0 = R_CR0_PG, .cr3 = pd | 0x18 /* PWT|PCD */ };
	u32 la = 0x00401234;
	set32(pd + 1 * 4, (u32)(pt | NL));
	set32(pt + 1 * 4, 0x00abc000u | (u32)NL);

	CHECK_GPA(&r, la, 0, 0xabc234ull);
	CHECK_GPA(&r, la, GWALK_WRITE | GWALK_USER, 0xabc234ull);
	CHECK_GPA(&r, 0xffffffff00000000ull | la, 0, 0xabc234ull);	/* gla is 32-bit */
	/* Not present: PDE (other slot), then PTE. */
	CHECK_PF(&r, 0x00801234, 0, 0);
	CHECK_PF(&r, 0x00801234, GWALK_WRITE | GWALK_USER, PF_ERR_WR | PF_ERR_US);
	CHECK_PF(&r, 0x00402000, GWALK_WRITE, PF_ERR_WR);
	/* cpl 3 is a user access like GWALK_USER. */
	struct gwalk_regs u = r;
	u.cpl = 3;
	CHECK_PF(&u, 0x00402000, 0, PF_ERR_US);

	/* Supervisor-only PTE: user reads fault with P=1. */
	set32(pt + 1 * 4, 0x00abc000u | (u32)(P | RW));
	CHECK_GPA(&r, la, 0, 0xabc234ull);
	CHECK_PF(&r, la, GWALK_USER, PF_ERR_P | PF_ERR_US);
	CHECK_PF(&u, la, 0, PF_ERR_P | PF_ERR_US);
	/* In 32-bit paging a fetch never sets I/D without SMEP. */
	CHECK_PF(&r, la, GWALK_USER | GWALK_FETCH, PF_ERR_P | PF_ERR_US);
	CHECK_GPA(&r, la, GWALK_FETCH, 0xabc234ull);

	/* U/S and R/W combine over both levels: the PDE can take them away. */
	set32(pt + 1 * 4, 0x00abc000u | (u32)NL);
	set32(pd + 1 * 4, (u32)(pt | P | US));
	CHECK_PF(&r, la, GWALK_USER | GWALK_WRITE, PF_ERR_P | PF_ERR_US | PF_ERR_WR);
	CHECK_GPA(&r, la, GWALK_USER, 0xabc234ull);
	/* Supervisor write to a read-only page: allowed unless CR0.WP. */
	CHECK_GPA(&r, la, GWALK_WRITE, 0xabc234ull);
	r.cr0 |= R_CR0_WP;
	CHECK_PF(&r, la, GWALK_WRITE, PF_ERR_P | PF_ERR_WR);

	/* SMEP: no supervisor fetch from a user page; I/D set. */
	r.cr4 = R_CR4_SMEP;
	CHECK_PF(&r, la, GWALK_FETCH, PF_ERR_P | PF_ERR_ID);
	CHECK_PF(&r, 0x00801234, GWALK_FETCH, PF_ERR_ID);	/* not present */
	/* SMAP: no supervisor data access to a user page unless EFLAGS.AC. */
	r.cr4 = R_CR4_SMAP;
	CHECK_PF(&r, la, 0, PF_ERR_P);
	r.rflags = R_AC;
	CHECK_GPA(&r, la, 0, 0xabc234ull);
	CHECK_PF(&r, la, GWALK_WRITE, PF_ERR_P | PF_ERR_WR);	/* WP still */

	/* The PTE table pointer outside guest memory. */
	set32(pd + 1 * 4, (u32)(0xfff00000u | NL));
	CHECK_EQ(walk(&r, la, 0), -EIO);
	r.cr3 = 0xfffff000;
	CHECK_EQ(walk(&r, la, 0), -EIO);
}

TEST(test_32bit_4m_pse36)
{
	gmem_reset();
	u64 pd = table_alloc(), pt = table_alloc();
	struct gwalk_regs r = { .cr0 = R_CR0_PG, .cr3 = pd, .cr4 = R_CR4_PSE,
				.maxphyaddr = 40 };
	u32 la = 0x00c12345;
	/* 4 MiB page at 0x5_00c00000: address bits 39:32 = 5 in PDE bits 20:13,
	 * PAT (bit 12) set, which is not an address bit. */
	set32(pd + 3 * 4, 0x00c00000u | (5u << 13) | (1u << 12) | (u32)(NL | PS));
	CHECK_GPA(&r, la, 0, 0x500c12345ull);
	/* Bit 21 is reserved. */
	set32(pd + 3 * 4, 0x00c00000u | (1u << 21) | (u32)(NL | PS));
	CHECK_PF(&r, la, GWALK_WRITE, PF_ERR_P | PF_ERR_RSVD | PF_ERR_WR);
	/* Address bit 36 (PDE bit 17): fine with MAXPHYADDR 40, reserved with 36. */
	set32(pd + 3 * 4, 0x00c00000u | (1u << 17) | (u32)(NL | PS));
	CHECK_GPA(&r, la, 0, 0x1000c12345ull);
	r.maxphyaddr = 36;
	CHECK_PF(&r, la, 0, PF_ERR_P | PF_ERR_RSVD);
	set32(pd + 3 * 4, 0x00c00000u | (1u << 16) | (u32)(NL | PS));
	CHECK_GPA(&r, la, 0, 0x800c12345ull);
	r.maxphyaddr = 32;
	CHECK_PF(&r, la, 0, PF_ERR_P | PF_ERR_RSVD);
	/* MAXPHYADDR above 40: PSE-36 still stops at 40 bits; bit 21 reserved. */
	r.maxphyaddr = 52;
	set32(pd + 3 * 4, 0x00c00000u | (0xffu << 13) | (u32)(NL | PS));
	CHECK_GPA(&r, la, 0, 0xff00c12345ull);
	set32(pd + 3 * 4, 0x00c00000u | (1u << 21) | (u32)(NL | PS));
	CHECK_PF(&r, la, 0, PF_ERR_P | PF_ERR_RSVD);

	/* Without CR4.PSE the PS bit is ignored: the PDE points to a table. */
	set32(pd + 3 * 4, (u32)(pt | NL | PS));
	set32(pt + 0x12 * 4, 0x00777000u | (u32)NL);
	r.cr4 = 0;
	CHECK_GPA(&r, la, 0, 0x777345ull);
	/* 4 MiB page rights: a supervisor page. */
	r.cr4 = R_CR4_PSE;
	set32(pd + 3 * 4, 0x00c00000u | (u32)(P | PS));
	CHECK_PF(&r, la, GWALK_USER, PF_ERR_P | PF_ERR_US);
	CHECK_GPA(&r, la, GWALK_WRITE, 0xc12345ull);
}

/* ---- PAE paging ------------------------------------------------------------ */
TEST(test_pae)
{
	gmem_reset();
	u64 pdpt = table_alloc() + 0x20;	/* 32-byte aligned, not page aligned */
	u64 pd = table_alloc(), pt = table_alloc(), pd2 = table_alloc();
	struct gwalk_regs r = { .cr0 = R_CR0_PG, .cr3 = pdpt, .cr4 = R_CR4_PAE,
				.maxphyaddr = 36 };
	u32 la = 0x80201abc;			/* PDPTE 2, PDE 1, PTE 1 */
	set64(pdpt + 2 * 8, pd | P);
	set64(pd + 1 * 8, pt | NL);
	set64(pt + 1 * 8, 0x123456000ull | NL);

	CHECK_GPA(&r, la, 0, 0x123456abcull);
	CHECK_GPA(&r, la, GWALK_USER | GWALK_WRITE, 0x123456abcull);
	CHECK_GPA(&r, 0x100000000ull | la, 0, 0x123456abcull);	/* 32-bit gla */
	CHECK_PF(&r, 0x40201abc, 0, 0);				/* PDPTE 1 absent */
	CHECK_PF(&r, 0x80401abc, GWALK_USER, PF_ERR_US);	/* PDE 2 absent */

	/* 2 MiB page; bit 12 is PAT, bits 20:13 reserved. */
	set64(pd + 3 * 8, 0x7600000ull | (1ull << 12) | NL | PS);
	CHECK_GPA(&r, 0x80654321, 0, 0x7654321ull);
	set64(pd + 3 * 8, 0x7600000ull | (1ull << 13) | NL | PS);
	CHECK_PF(&r, 0x80654321, 0, PF_ERR_P | PF_ERR_RSVD);

	/* Address bits at or above MAXPHYADDR (36), up to bit 62, reserved. */
	set64(pt + 1 * 8, 0x123456000ull | (1ull << 36) | NL);
	CHECK_PF(&r, la, 0, PF_ERR_P | PF_ERR_RSVD);
	r.maxphyaddr = 52;
	CHECK_GPA(&r, la, 0, 0x1123456abcull);
	set64(pt + 1 * 8, 0x123456000ull | (1ull << 62) | NL);
	CHECK_PF(&r, la, 0, PF_ERR_P | PF_ERR_RSVD);

	/* XD: reserved without NXE, execute-disable with it (I/D set). */
	set64(pt + 1 * 8, 0x123456000ull | NL | XD);
	CHECK_PF(&r, la, 0, PF_ERR_P | PF_ERR_RSVD);
	CHECK_PF(&r, la, GWALK_FETCH, PF_ERR_P | PF_ERR_RSVD);	/* no I/D: NXE off */
	r.efer = R_EFER_NXE;
	CHECK_GPA(&r, la, 0, 0x123456abcull);
	CHECK_PF(&r, la, GWALK_FETCH, PF_ERR_P | PF_ERR_ID);
	CHECK_PF(&r, la, GWALK_FETCH | GWALK_USER, PF_ERR_P | PF_ERR_ID | PF_ERR_US);
	CHECK_PF(&r, 0x40000000, GWALK_FETCH, PF_ERR_ID);	/* not present */
	/* XD in the PDE applies too. */
	set64(pt + 1 * 8, 0x123456000ull | NL);
	CHECK_GPA(&r, la, GWALK_FETCH, 0x123456abcull);
	set64(pd + 1 * 8, pt | NL | XD);
	CHECK_PF(&r, la, GWALK_FETCH, PF_ERR_P | PF_ERR_ID);
	set64(pd + 1 * 8, pt | NL);

	/* PDPTE: bits 2:1, 8:5 and 63 reserved; it has no R/W or U/S. */
	set64(pdpt + 2 * 8, pd | P | RW);
	CHECK_PF(&r, la, 0, PF_ERR_P | PF_ERR_RSVD);
	set64(pdpt + 2 * 8, pd | P | PS);
	CHECK_PF(&r, la, 0, PF_ERR_P | PF_ERR_RSVD);
	set64(pdpt + 2 * 8, pd | P | XD);
	CHECK_PF(&r, la, 0, PF_ERR_P | PF_ERR_RSVD);
	set64(pdpt + 2 * 8, pd | P | (1ull << 3) | (1ull << 4)); /* PWT, PCD: fine */
	CHECK_GPA(&r, la, GWALK_USER | GWALK_WRITE, 0x123456abcull);

	/* PDPTEs from the VMCS: memory's PDPT is not read. */
	set64(pd2 + 1 * 8, pt | NL);
	set64(pt + 2 * 8, 0xabcd000ull | NL);
	r.pdptes_valid = true;
	r.pdpte[2] = pd2 | P;
	set64(pdpt + 2 * 8, 0);
	set64(pd + 1 * 8, 0);
	CHECK_GPA(&r, 0x80202123, 0, 0xabcd123ull);
	r.pdpte[2] = 0;
	CHECK_PF(&r, la, GWALK_WRITE, PF_ERR_WR);
	r.pdpte[2] = pd2 | P | (1ull << 5);
	CHECK_PF(&r, la, 0, PF_ERR_P | PF_ERR_RSVD);

	/* CR3 of a PDPT outside guest memory. */
	r.pdptes_valid = false;
	r.cr3 = 0xffffffe0;
	CHECK_EQ(walk(&r, la, 0), -EIO);
}

/* ---- 4-level and 5-level paging ------------------------------------------------ */
static struct gwalk_regs long_regs(u64 root)
{
	struct gwalk_regs r = {
		.cr0 = R_CR0_PG | 1, .cr3 = root, .cr4 = R_CR4_PAE,
		.efer = R_EFER_LMA | (1ull << 8) /* LME */, .maxphyaddr = 46,
	};
	return r;
}

TEST(test_4level_pages)
{
	gmem_reset();
	u64 root = table_alloc();
	struct gwalk_regs r = long_regs(root | 0x18);
	u64 la4k = 0xffff800012345678ull, la2m = 0x0000004000345678ull;
	u64 la1g = 0x00007f8012345678ull;

	map64(root, 4, la4k, 1, 0x3fedcba000ull | NL, NL);
	map64(root, 4, la2m, 2, 0x7fe00000ull | (1ull << 12) | NL | PS, NL);
	map64(root, 4, la1g, 3, 0x40000000ull | (1ull << 12) | NL | PS, NL);
	CHECK_GPA(&r, la4k, 0, 0x3fedcba678ull);
	CHECK_GPA(&r, la2m, GWALK_WRITE, 0x7ff45678ull);
	CHECK_GPA(&r, la1g, GWALK_USER, 0x52345678ull);

	/* Non-canonical: #GP, not #PF, and no table is read. */
	reads = 0;
	CHECK_EQ(walk(&r, 0x0000800000000000ull, 0), -ERANGE);
	CHECK_EQ(walk(&r, 0xfff0800000000000ull, 0), -ERANGE);
	CHECK_EQ(walk(&r, 0x00ff800012345678ull, 0), -ERANGE);
	CHECK_EQ(reads, 0);
	/* Not present at each level. */
	CHECK_PF(&r, 0x0000100000000000ull, GWALK_WRITE, PF_ERR_WR);	/* PML4E */
	CHECK_PF(&r, la4k + (1ull << 30), 0, 0);			/* PDPTE */
	CHECK_PF(&r, la4k + (1ull << 21), 0, 0);			/* PDE */
	CHECK_PF(&r, la4k + (1ull << 12), GWALK_USER, PF_ERR_US);	/* PTE */

	/* Reserved bits: PS in a PML4E; 29:13 of a 1-GiB page; 20:13 of a
	 * 2-MiB page; address bits 51:MAXPHYADDR; XD without NXE. Bits 62:52
	 * are ignored. */
	u64 e;
	u64 pml4e = entry64(root, 4, la4k, 4);
	e = get64(pml4e);
	set64(pml4e, e | PS);
	CHECK_PF(&r, la4k, 0, PF_ERR_P | PF_ERR_RSVD);
	set64(pml4e, e);
	u64 pdpte = entry64(root, 4, la1g, 3);
	e = get64(pdpte);
	set64(pdpte, e | (1ull << 29));
	CHECK_PF(&r, la1g, GWALK_USER, PF_ERR_P | PF_ERR_RSVD | PF_ERR_US);
	set64(pdpte, e | (1ull << 13));
	CHECK_PF(&r, la1g, 0, PF_ERR_P | PF_ERR_RSVD);
	set64(pdpte, e | (1ull << 31));		/* an address bit */
	CHECK_GPA(&r, la1g, 0, 0xd2345678ull);
	set64(pdpte, e);
	u64 pde = entry64(root, 4, la2m, 2);
	e = get64(pde);
	set64(pde, e | (1ull << 20));
	CHECK_PF(&r, la2m, 0, PF_ERR_P | PF_ERR_RSVD);
	set64(pde, e | (1ull << 31));		/* an address bit */
	CHECK_GPA(&r, la2m, 0, 0xfff45678ull);
	set64(pde, e | (1ull << 46));
	CHECK_PF(&r, la2m, 0, PF_ERR_P | PF_ERR_RSVD);
	r.maxphyaddr = 47;
	CHECK_GPA(&r, la2m, 0, (1ull << 46) | 0x7ff45678ull);
	set64(pde, e | (0x7ffull << 52));
	CHECK_GPA(&r, la2m, 0, 0x7ff45678ull);
	set64(pde, e | XD);
	CHECK_PF(&r, la2m, 0, PF_ERR_P | PF_ERR_RSVD);
	set64(pde, e);
	u64 pte = entry64(root, 4, la4k, 1);
	e = get64(pte);
	set64(pte, e | PS);			/* bit 7 of a PTE is PAT */
	CHECK_GPA(&r, la4k, 0, 0x3fedcba678ull);
	set64(pte, e);

	/* A table pointer outside guest memory. */
	set64(pde, 0x3000000000ull | NL);
	CHECK_EQ(walk(&r, la2m, 0), -EIO);
}

TEST(test_4level_rights)
{
	gmem_reset();
	u64 root = table_alloc();
	struct gwalk_regs r = long_regs(root);
	u64 la = 0x0000000040201000ull;
	u64 pte = map64(root, 4, la, 1, 0x5000ull | NL, NL);
	u64 pdpte = entry64(root, 4, la, 3);
	u64 nl = get64(pdpte);

	/* R/W = 0 in the PDPTE makes the whole page read-only. */
	set64(pdpte, nl & ~RW);
	CHECK_PF(&r, la, GWALK_USER | GWALK_WRITE, PF_ERR_P | PF_ERR_US | PF_ERR_WR);
	CHECK_GPA(&r, la, GWALK_WRITE, 0x5000ull);	/* supervisor, WP = 0 */
	r.cr0 |= R_CR0_WP;
	CHECK_PF(&r, la, GWALK_WRITE, PF_ERR_P | PF_ERR_WR);
	CHECK_GPA(&r, la, GWALK_USER, 0x5000ull);
	set64(pdpte, nl);

	/* NX: XD at the PML4E level forbids fetches only, with NXE. */
	r.efer |= R_EFER_NXE;
	u64 pml4e = entry64(root, 4, la, 4);
	set64(pml4e, get64(pml4e) | XD);
	CHECK_PF(&r, la, GWALK_FETCH, PF_ERR_P | PF_ERR_ID);
	CHECK_PF(&r, la, GWALK_FETCH | GWALK_USER, PF_ERR_P | PF_ERR_ID | PF_ERR_US);
	CHECK_GPA(&r, la, GWALK_WRITE | GWALK_USER, 0x5000ull);
	set64(pml4e, get64(pml4e) & ~XD);
	CHECK_GPA(&r, la, GWALK_FETCH, 0x5000ull);
	/* I/D on a not-present fetch with NXE. */
	CHECK_PF(&r, la + PAGE_SIZE, GWALK_FETCH, PF_ERR_ID);
	r.efer &= ~R_EFER_NXE;
	CHECK_PF(&r, la + PAGE_SIZE, GWALK_FETCH, 0);

	/* SMEP on a user page; fine on a supervisor page. */
	r.cr4 |= R_CR4_SMEP;
	CHECK_PF(&r, la, GWALK_FETCH, PF_ERR_P | PF_ERR_ID);
	CHECK_GPA(&r, la, GWALK_FETCH | GWALK_USER, 0x5000ull);
	set64(pte, 0x5000ull | P | RW);
	CHECK_GPA(&r, la, GWALK_FETCH, 0x5000ull);
	CHECK_PF(&r, la, GWALK_FETCH | GWALK_USER, PF_ERR_P | PF_ERR_ID | PF_ERR_US);
	CHECK_PF(&r, la, GWALK_USER, PF_ERR_P | PF_ERR_US);
	r.cr4 &= ~R_CR4_SMEP;

	/* SMAP: supervisor reads/writes of user pages need EFLAGS.AC; with
	 * AC, writes still obey WP; supervisor pages are unaffected. */
	set64(pte, 0x5000ull | P | US);		/* user, read-only */
	r.cr4 |= R_CR4_SMAP;
	CHECK_PF(&r, la, 0, PF_ERR_P);
	CHECK_PF(&r, la, GWALK_WRITE, PF_ERR_P | PF_ERR_WR);
	CHECK_GPA(&r, la, GWALK_USER, 0x5000ull);	/* user accesses: no SMAP */
	CHECK_GPA(&r, la, GWALK_FETCH, 0x5000ull);	/* fetches: no SMAP */
	r.rflags = R_AC;
	CHECK_GPA(&r, la, 0, 0x5000ull);
	CHECK_PF(&r, la, GWALK_WRITE, PF_ERR_P | PF_ERR_WR);	/* WP = 1 */
	r.cr0 &= ~R_CR0_WP;
	CHECK_GPA(&r, la, GWALK_WRITE, 0x5000ull);
	r.rflags = 0;
	CHECK_PF(&r, la, GWALK_WRITE, PF_ERR_P | PF_ERR_WR);	/* SMAP even with WP = 0 */
	set64(pte, 0x5000ull | P);
	CHECK_GPA(&r, la, GWALK_WRITE, 0x5000ull);
}

TEST(test_protection_keys)
{
	gmem_reset();
	u64 root = table_alloc();
	struct gwalk_regs r = long_regs(root);
	u64 la = 0x0000000000601000ull;
	u64 pte = map64(root, 4, la, 1, 0x9000ull | NL | (5ull << 59), NL);

	/* Without CR4.PKE the key bits are ignored. */
	r.pkru = 3u << 10;				/* AD5, WD5 */
	CHECK_GPA(&r, la, GWALK_USER | GWALK_WRITE, 0x9000ull);
	r.cr4 |= R_CR4_PKE;
	/* AD: no data access at all, user or supervisor; fetches allowed. */
	CHECK_PF(&r, la, GWALK_USER, PF_ERR_P | PF_ERR_US | PF_ERR_PK);
	CHECK_PF(&r, la, 0, PF_ERR_P | PF_ERR_PK);
	CHECK_GPA(&r, la, GWALK_FETCH | GWALK_USER, 0x9000ull);
	/* WD only: reads fine; user writes fault; supervisor writes only with WP. */
	r.pkru = 2u << 10;
	CHECK_GPA(&r, la, GWALK_USER, 0x9000ull);
	CHECK_PF(&r, la, GWALK_USER | GWALK_WRITE, PF_ERR_P | PF_ERR_US | PF_ERR_WR | PF_ERR_PK);
	CHECK_GPA(&r, la, GWALK_WRITE, 0x9000ull);
	r.cr0 |= R_CR0_WP;
	CHECK_PF(&r, la, GWALK_WRITE, PF_ERR_P | PF_ERR_WR | PF_ERR_PK);
	/* Other keys' bits do not matter. */
	r.pkru = ~(3u << 10);
	CHECK_GPA(&r, la, GWALK_USER | GWALK_WRITE, 0x9000ull);
	/* Supervisor pages have no key. */
	r.pkru = 3u << 10;
	set64(pte, 0x9000ull | P | RW | (5ull << 59));
	CHECK_GPA(&r, la, GWALK_WRITE, 0x9000ull);
	/* PK is reported along with a paging violation. */
	set64(pte, 0x9000ull | P | US | (5ull << 59));
	CHECK_PF(&r, la, GWALK_USER | GWALK_WRITE, PF_ERR_P | PF_ERR_US | PF_ERR_WR | PF_ERR_PK);
}

TEST(test_5level)
{
	gmem_reset();
	u64 root = table_alloc();
	struct gwalk_regs r = long_regs(root);
	r.cr4 |= R_CR4_LA57;
	u64 la = 0x00ff812345678000ull;		/* canonical with 57 bits only */
	map64(root, 5, la, 1, 0x2468000ull | NL, NL);
	CHECK_GPA(&r, la | 0x9a, GWALK_USER, 0x246809aull);
	CHECK_GPA(&r, la | 0xfff, 0, 0x2468fffull);
	CHECK_EQ(walk(&r, 0x0100000000000000ull, 0), -ERANGE);
	CHECK_EQ(walk(&r, 0xfe00000000000000ull, 0), -ERANGE);
	CHECK_PF(&r, 0xff00000000000000ull, GWALK_WRITE, PF_ERR_WR);	/* PML5E absent */
	u64 pml5e = entry64(root, 5, la, 5);
	set64(pml5e, get64(pml5e) | PS);
	CHECK_PF(&r, la, 0, PF_ERR_P | PF_ERR_RSVD);
	/* The same address is not canonical with 4-level paging. */
	r.cr4 &= ~R_CR4_LA57;
	CHECK_EQ(walk(&r, la, 0), -ERANGE);
}

/* ---- randomized 4-level comparison ----------------------------------------- */
/*
 * The reference: the SDM's 4-level walk and access-rights bullets written
 * out one case at a time, sharing no code with gwalk.c.
 */
static int ref_walk(const struct gwalk_regs *r, u64 la, u32 acc, u64 *pa, u32 *ec)
{
	if ((u64)((s64)(la << 16) >> 16) != la)
		return -ERANGE;
	u32 m = r->maxphyaddr;
	u64 addr = ((1ull << m) - 1) & ~0xfffull;
	u64 above_m = ((1ull << 52) - 1) & ~((1ull << m) - 1);
	bool nxe = r->efer & R_EFER_NXE, wp = r->cr0 & R_CR0_WP;
	bool smep = r->cr4 & R_CR4_SMEP, smap = r->cr4 & R_CR4_SMAP;
	bool pke = r->cr4 & R_CR4_PKE, ac = r->rflags & R_AC;
	bool user = r->cpl == 3 || (acc & GWALK_USER);
	bool write = acc & GWALK_WRITE, fetch = acc & GWALK_FETCH;
	u32 base = (write ? 2u : 0) | (user ? 4u : 0) | (fetch && (smep || nxe) ? 16u : 0);
	static const u32 shift[4] = { 39, 30, 21, 12 };
	u64 table = r->cr3 & addr, e = 0, out = 0;
	bool rw = true, us = true, xd = false;

	for (int i = 0; i < 4; i++) {
		u64 ea = table + ((la >> shift[i]) & 511) * 8;
		if (ea + 8 > GMEM_SIZE)
			return -EIO;
		memcpy(&e, gmem + ea, 8);
		if (!(e & P)) {
			*ec = base;
			return -EFAULT;
		}
		bool ps = e & PS;
		bool bad = (e & above_m) != 0;
		if (!nxe && (e & XD))
			bad = true;
		if (i == 0 && ps)
			bad = true;
		if (i == 1 && ps && (e & 0x3fffe000ull))
			bad = true;
		if (i == 2 && ps && (e & 0x1fe000ull))
			bad = true;
		if (bad) {
			*ec = base | 1 | 8;
			return -EFAULT;
		}
		rw = rw && (e & RW);
		us = us && (e & US);
		xd = xd || (nxe && (e & XD));
		if (i == 3 || (i > 0 && ps)) {
			u64 size = 1ull << shift[i];
			out = (e & addr & ~(size - 1)) | (la & (size - 1));
			break;
		}
		table = e & addr;
	}

	bool allowed;
	if (user) {
		if (!us)
			allowed = false;
		else if (fetch)
			allowed = !xd;
		else if (write)
			allowed = rw;
		else
			allowed = true;
	} else if (fetch) {
		allowed = !(us && smep) && !xd;
	} else if (!write) {
		allowed = !(us && smap && !ac);
	} else if (us) {
		allowed = !(smap && !ac) && (!wp || rw);
	} else {
		allowed = !wp || rw;
	}
	bool pk = false;
	if (pke && us && !fetch) {
		u32 key = (u32)(e >> 59) & 15;
		bool ad = (r->pkru >> (2 * key)) & 1, wd = (r->pkru >> (2 * key + 1)) & 1;
		pk = ad || (write && wd && (user || wp));
	}
	if (!allowed || pk) {
		*ec = base | 1 | (pk ? 32u : 0);
		return -EFAULT;
	}
	*pa = out;
	return 0;
}

#define RAND_TABLES 48

static u64 rand_table(void)
{
	return TABLES_BASE + (test_rand() % RAND_TABLES) * PAGE_SIZE;
}

/* A random paging entry: mostly present and pointing at one of the tables,
 * with random rights, now and then a reserved or huge address bit. */
static u64 rand_entry(void)
{
	u64 e = rand_table();
	u32 k = (u32)(test_rand() % 64);
	if (k < 6)
		return test_rand() & ~P;			/* not present */
	e |= P;
	if (test_rand() % 8)
		e |= RW;
	if (test_rand() % 8)
		e |= US;
	if (test_rand() % 4 == 0)
		e |= PS;
	if (test_rand() % 8 == 0)
		e |= XD;
	e |= (test_rand() & 0xf) << 59;				/* PK bits */
	e |= test_rand() & 0x178;				/* PWT PCD A D G */
	if (k == 6)
		e |= 1ull << (12 + test_rand() % 40);		/* a stray bit */
	if (k == 7)
		e |= 0x3000000000ull;				/* outside gmem */
	if (k == 8)
		e |= 1ull << (12 + test_rand() % 18);		/* a large-page bit */
	return e;
}

TEST(test_random_4level_vs_reference)
{
	u32 outcome[6] = { 0 };	/* ok, not present, rsvd, protection, eio, erange */
	u32 mismatches = 0;
	static const u32 widths[] = { 36, 39, 46, 52 };

	test_seed(0x9a11c);
	for (u32 round = 0; round < 40; round++) {
		gmem_reset();
		for (u64 t = 0; t < RAND_TABLES; t++)
			for (u32 i = 0; i < 512; i++)
				set64(TABLES_BASE + t * PAGE_SIZE + i * 8, rand_entry());
		for (u32 it = 0; it < 5000; it++) {
			struct gwalk_regs r = {
				.cr0 = R_CR0_PG | 1 | (test_rand() % 2 ? R_CR0_WP : 0),
				.cr3 = rand_table() | (test_rand() & 0xfff),
				.cr4 = R_CR4_PAE | (test_rand() & (R_CR4_SMEP | R_CR4_SMAP | R_CR4_PKE)),
				.efer = R_EFER_LMA | (test_rand() % 2 ? R_EFER_NXE : 0),
				.cpl = (u32)(test_rand() % 4),
				.rflags = test_rand() & R_AC,
				.pkru = (u32)test_rand(),
				.maxphyaddr = widths[test_rand() % 4],
			};
			u64 la = test_rand();
			if (test_rand() % 16)	/* mostly canonical */
				la = (u64)((s64)(la << 16) >> 16);
			u32 acc = (u32)(test_rand() % 8);
			if ((acc & GWALK_WRITE) && (acc & GWALK_FETCH))
				acc &= ~(u32)GWALK_WRITE;

			u64 pa1 = 0, pa2 = 0;
			u32 ec1 = 0, ec2 = 0;
			int rc1 = gwalk_translate(&r, la, acc, gmem_read, NULL, &pa1, &ec1);
			int rc2 = ref_walk(&r, la, acc, &pa2, &ec2);
			bool same = rc1 == rc2 && (rc1 != 0 || pa1 == pa2) &&
				    (rc1 != -EFAULT || ec1 == ec2);
			if (!same && mismatches++ < 5)
				printf("  la 0x%llx acc %u cr0 0x%llx cr3 0x%llx cr4 0x%llx efer 0x%llx cpl %u m %u: "
				       "gwalk %d 0x%llx ec 0x%x, reference %d 0x%llx ec 0x%x\n",
				       la, acc, r.cr0, r.cr3, r.cr4, r.efer, r.cpl, r.maxphyaddr,
				       rc1, pa1, ec1, rc2, pa2, ec2);
			if (rc2 == 0)
				outcome[0]++;
			else if (rc2 == -EFAULT && !(ec2 & PF_ERR_P))
				outcome[1]++;
			else if (rc2 == -EFAULT && (ec2 & PF_ERR_RSVD))
				outcome[2]++;
			else if (rc2 == -EFAULT)
				outcome[3]++;
			else if (rc2 == -EIO)
				outcome[4]++;
			else
				outcome[5]++;
		}
	}
	printf("  random: ok %u, not present %u, reserved %u, protection %u, EIO %u, non-canonical %u\n",
	       outcome[0], outcome[1], outcome[2], outcome[3], outcome[4], outcome[5]);
	CHECK_EQ(mismatches, 0);
	for (u32 i = 0; i < ARRAY_SIZE(outcome); i++)
		CHECK(outcome[i] > 1000);	/* every kind of result was compared */
}

int main(void)
{
	RUN(test_paging_off);
	RUN(test_32bit_4k);
	RUN(test_32bit_4m_pse36);
	RUN(test_pae);
	RUN(test_4level_pages);
	RUN(test_4level_rights);
	RUN(test_protection_keys);
	RUN(test_5level);
	RUN(test_random_4level_vs_reference);
	return TEST_SUMMARY();
}
