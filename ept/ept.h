/*
 * ept/ept.h - the EPT page-table builder: creates and edits the 4-level
 * extended page tables that translate one VM's guest-physical addresses to
 * host-physical ones, reads them back (ept_translate), forms the EPTP, and
 * decodes the exit qualification of an EPT violation.
 *
 * Implements SDM Vol. 3C, "The Extended Page Table Mechanism (EPT)":
 * "EPT Translation Mechanism", the "Format of an EPT ..." entry tables,
 * "EPT Misconfigurations", "EPT Violations", "Memory Type Used for Translated
 * Guest-Physical Addresses", plus "Extended-Page-Table Pointer (EPTP)" and
 * "Exit Qualification for EPT Violations".
 *
 * Pure logic: table pages come from, and go back through, struct ept_ops,
 * and every table is reached through its physical address as the CPU reaches
 * it, so the module runs unchanged on the host under sanitizers.
 *
 * Locking: none. One caller at a time per struct ept. The functions that
 * change the tables (map, unmap, set/clear misconfig) free table pages they
 * empty, immediately; the caller must therefore make sure no CPU runs a guest
 * on these tables during the call, and must INVEPT (single-context, this
 * EPTP) before the next VM entry that uses them.
 */
#ifndef EPT_EPT_H
#define EPT_EPT_H

#include "lib/lib.h"

/*
 * Bits common to every EPT paging-structure entry. SDM Vol. 3C, "Format of an
 * EPT PML4 Entry (PML4E) that References an EPT Page-Directory-Pointer Table"
 * and the PDPTE/PDE/PTE tables that follow it. An entry whose bits 2:0 are all
 * clear is not present (SDM Vol. 3C, "EPT Translation Mechanism").
 */
#define EPT_READ            BIT(0)  /* reads allowed */
#define EPT_WRITE           BIT(1)  /* writes allowed */
#define EPT_EXEC            BIT(2)  /* instruction fetches allowed */
#define EPT_PERM_MASK       (EPT_READ | EPT_WRITE | EPT_EXEC)

/* Leaf-only bits: a PDE with bit 7 set, or a PTE. SDM Vol. 3C, "Format of an
 * EPT Page-Directory Entry (PDE) that Maps a 2-MByte Page" and "Format of an
 * EPT Page-Table Entry that Maps a 4-KByte Page". */
#define EPT_MEMTYPE_SHIFT   3       /* bits 5:3, EPT memory type */
#define EPT_MEMTYPE_MASK    (7ull << EPT_MEMTYPE_SHIFT)
#define EPT_IGNORE_PAT      BIT(6)  /* memory type ignores the guest PAT */
#define EPT_LARGE_PAGE      BIT(7)  /* bit 7, page size: PDE maps 2 MiB */
#define EPT_ACCESSED        BIT(8)  /* only with EPTP_AD_ENABLE */
#define EPT_DIRTY           BIT(9)  /* only with EPTP_AD_ENABLE */

/* Bits 51:12: physical address of the next table or of the page. Bits beyond
 * the CPU's physical-address width are reserved (an EPT misconfiguration). */
#define EPT_ADDR_MASK       0x000ffffffffff000ull

/* EPT memory types for bits 5:3 of a leaf. 2, 3 and 7 are reserved and cause
 * an EPT misconfiguration. SDM Vol. 3C, "Memory Type Used for Translated
 * Guest-Physical Addresses". */
#define EPT_MEMTYPE_UC      0ull
#define EPT_MEMTYPE_WC      1ull
#define EPT_MEMTYPE_WT      4ull
#define EPT_MEMTYPE_WP      5ull
#define EPT_MEMTYPE_WB      6ull

/*
 * Leaf permissions that make a page an EPT misconfiguration: bits 2:0 = 110b,
 * write and execute without read. SDM Vol. 3C, "EPT Misconfigurations": bits
 * 2:0 of 010b or 110b always misconfigure. KVM marks MMIO pages the same way,
 * so that an access exits as EXIT_REASON_EPT_MISCONFIG without a table walk
 * in software.
 */
#define EPT_MISCONFIG_PERMS (EPT_WRITE | EPT_EXEC)

/* Page sizes a leaf can map (no 1 GiB pages). */
#define EPT_PAGE_SIZE_4K    (4 * KiB)
#define EPT_PAGE_SIZE_2M    (2 * MiB)

/* Levels as ept_translate() reports them: the level of the leaf entry. */
#define EPT_LEVEL_PT        1u      /* PTE: 4 KiB page */
#define EPT_LEVEL_PD        2u      /* PDE: 2 MiB page or page table */
#define EPT_LEVEL_PDPT      3u
#define EPT_LEVEL_PML4      4u

/* A 4-level walk translates guest-physical bits 47:0. SDM Vol. 3C, "EPT
 * Translation Mechanism". */
#define EPT_GPA_LIMIT       BIT(48)
/* Bits 51:12 of an entry hold the host-physical address. */
#define EPT_HPA_LIMIT       BIT(52)

/*
 * Extended-page-table pointer. SDM Vol. 3C, "Extended-Page-Table Pointer
 * (EPTP)", table "Format of Extended-Page-Table Pointer".
 */
#define EPTP_MEMTYPE_UC        0ull    /* bits 2:0: type for walking tables */
#define EPTP_MEMTYPE_WB        6ull
#define EPTP_WALK_LENGTH_SHIFT 3       /* bits 5:3: page-walk length - 1 */
#define EPTP_WALK_LENGTH_4     (3ull << EPTP_WALK_LENGTH_SHIFT)
#define EPTP_AD_ENABLE         BIT(6)  /* accessed/dirty flags (not used) */
#define EPTP_ADDR_MASK         EPT_ADDR_MASK /* bits 51:12: PML4 address */

/*
 * Exit qualification of an EPT violation. SDM Vol. 3C, "Exit Qualification
 * for EPT Violations". Bits 5:3 are the AND of bits 0, 1, 2 of the entries
 * used to translate the address (all clear when an entry was not present).
 */
#define EPT_QUAL_DATA_READ        BIT(0)  /* access was a data read */
#define EPT_QUAL_DATA_WRITE       BIT(1)  /* access was a data write */
#define EPT_QUAL_INSN_FETCH       BIT(2)  /* access was an instruction fetch */
#define EPT_QUAL_GPA_READABLE     BIT(3)
#define EPT_QUAL_GPA_WRITABLE     BIT(4)
#define EPT_QUAL_GPA_EXECUTABLE   BIT(5)
#define EPT_QUAL_GLA_VALID        BIT(7)  /* guest linear-address field valid */
#define EPT_QUAL_GLA_TRANSLATED   BIT(8)  /* if bit 7: access to the final
					     address, not a guest table */
#define EPT_QUAL_NMI_UNBLOCKING   BIT(12) /* NMI unblocking due to IRET */

static inline bool ept_qual_is_read(u64 qual)
{
	return qual & EPT_QUAL_DATA_READ;
}

/* A read-modify-write sets bit 1 and may or may not also set bit 0 (SDM), so
 * a handler tests is_write first. */
static inline bool ept_qual_is_write(u64 qual)
{
	return qual & EPT_QUAL_DATA_WRITE;
}

static inline bool ept_qual_is_fetch(u64 qual)
{
	return qual & EPT_QUAL_INSN_FETCH;
}

static inline bool ept_qual_gpa_readable(u64 qual)
{
	return qual & EPT_QUAL_GPA_READABLE;
}

static inline bool ept_qual_gpa_writable(u64 qual)
{
	return qual & EPT_QUAL_GPA_WRITABLE;
}

static inline bool ept_qual_gpa_executable(u64 qual)
{
	return qual & EPT_QUAL_GPA_EXECUTABLE;
}

/* False only for a violation while loading guest PDPTEs on MOV to CR. */
static inline bool ept_qual_gla_valid(u64 qual)
{
	return qual & EPT_QUAL_GLA_VALID;
}

/*
 * Where table pages come from. alloc_page returns a zeroed, 4 KiB-aligned
 * 4 KiB page, or NULL when out of memory; free_page takes back a page
 * alloc_page gave. virt_to_phys and phys_to_virt translate between the
 * module's pointer to a table page and the physical address the CPU uses
 * (the identity in the kernel; a fake mapping in host tests). The physical
 * address of a page must be 4 KiB-aligned and below EPT_HPA_LIMIT. ctx is
 * passed to every callback unchanged.
 */
typedef void *(*ept_alloc_page_fn)(void *ctx);
typedef void (*ept_free_page_fn)(void *ctx, void *page);
typedef u64 (*ept_virt_to_phys_fn)(void *ctx, const void *va);
typedef void *(*ept_phys_to_virt_fn)(void *ctx, u64 pa);

struct ept_ops {
	ept_alloc_page_fn alloc_page;
	ept_free_page_fn free_page;
	ept_virt_to_phys_fn virt_to_phys;
	ept_phys_to_virt_fn phys_to_virt;
	void *ctx;
};

/* One VM's EPT. Fields are private to ept.c. */
struct ept {
	struct ept_ops ops;     /* a copy: the caller's need not outlive it */
	u64 *pml4;              /* root; NULL before init and after destroy */
	u64 pml4_pa;
};

/*
 * Initialises e with an empty PML4 taken from ops (copied into e).
 * Returns 0, -EINVAL if a callback is missing, or -ENOMEM (e is then left
 * empty, and ept_destroy() on it is a no-op).
 */
int ept_init(struct ept *e, const struct ept_ops *ops);

/*
 * Maps guest-physical [gpa, gpa + size) to host-physical [hpa, hpa + size)
 * with perms: EPT_READ, optionally | EPT_WRITE and/or | EPT_EXEC (write
 * without read is a misconfiguration, see ept_set_misconfig(); execute-only
 * needs a CPU capability and is not offered). Leaves are write-back
 * (EPT_MEMTYPE_WB, guest PAT honoured; with | EPT_IGNORE_PAT in perms,
 * write-back whatever the guest's PAT and page tables say: SDM Vol. 3C,
 * "Memory Type Used for Translated Guest-Physical Addresses");
 * a 2 MiB leaf wherever gpa, hpa and the
 * rest of the range allow it, 4 KiB leaves elsewhere.
 * Returns 0; -EINVAL if gpa, hpa or size is not 4 KiB-aligned, size is 0,
 * perms is not one of the above, gpa + size exceeds EPT_GPA_LIMIT or hpa +
 * size exceeds EPT_HPA_LIMIT; -EEXIST if any page of the range is already
 * present (mapped or misconfigured: no replace semantics, unmap first);
 * -ENOMEM if a table page could not be allocated. On any error the tables
 * are exactly as before the call.
 */
int ept_map_range(struct ept *e, u64 gpa, u64 hpa, u64 size, u64 perms);

/*
 * Makes guest-physical [gpa, gpa + size) not present, whatever each page was
 * (mapped, misconfigured or already absent). A 2 MiB leaf only partly inside
 * the range is split into 4 KiB leaves first; table pages left empty are
 * freed. Returns 0; -EINVAL for unaligned or zero size or a range beyond
 * EPT_GPA_LIMIT; -ENOMEM if a split could not get its table page (at most
 * two are needed; the tables are then exactly as before the call).
 */
int ept_unmap_range(struct ept *e, u64 gpa, u64 size);

/*
 * Makes the 4 KiB page at gpa an EPT misconfiguration: a leaf with
 * EPT_MISCONFIG_PERMS and host address 0, so every access to it exits with
 * EXIT_REASON_EPT_MISCONFIG (the fast path for emulated MMIO). Whatever the
 * page was is replaced; if it lay in a 2 MiB leaf, that leaf is split and the
 * other 511 pages keep their mapping. Returns 0 (also when the page already
 * was misconfigured); -EINVAL if gpa is unaligned or beyond EPT_GPA_LIMIT;
 * -ENOMEM (tables unchanged).
 */
int ept_set_misconfig(struct ept *e, u64 gpa);

/*
 * Makes the misconfigured 4 KiB page at gpa not present again. Returns 0;
 * -EINVAL for an unaligned gpa or one beyond EPT_GPA_LIMIT; -ENOENT if the
 * page is not misconfigured (nothing is changed). Never allocates.
 */
int ept_clear_misconfig(struct ept *e, u64 gpa);

/*
 * Sets the access rights of the mapped 4 KiB page at gpa to perms (EPT_READ,
 * optionally | EPT_WRITE and/or | EPT_EXEC, as for ept_map_range; the host
 * address, memory type and EPT_IGNORE_PAT stay). If the page lies in a 2 MiB
 * leaf whose rights differ from perms, that leaf is split first and the
 * other 511 pages keep theirs; the split is kept when the rights are set
 * back. vmx/ write-protects the pages a remembered doorbell store depends on
 * with it (vmx/wprot.c). Returns 0; -EINVAL if gpa is unaligned or beyond
 * EPT_GPA_LIMIT, or perms is not one of the above; -ENOENT if the page is
 * not mapped or is misconfigured (nothing is changed); -ENOMEM if the split
 * could not get its table page (nothing is changed).
 */
int ept_set_page_access(struct ept *e, u64 gpa, u64 perms);

/*
 * Walks the tables as the CPU would for gpa (any alignment). Returns false
 * if some entry on the way is not present (an access would be an EPT
 * violation). Otherwise returns true and stores, for each non-NULL pointer:
 * the host-physical address of the byte at gpa, the AND of bits 2:0 of every
 * entry used (EPT_MISCONFIG_PERMS for a misconfigured page, whose hpa is
 * meaningless: callers reading guest RAM must check EPT_READ), and the leaf's
 * level (EPT_LEVEL_PT for 4 KiB, EPT_LEVEL_PD for 2 MiB).
 */
bool ept_translate(const struct ept *e, u64 gpa, u64 *hpa, u64 *perms,
		   unsigned *level);

/*
 * The EPTP to write to the VMCS: write-back table walks, 4-level walk, no
 * accessed/dirty flags, and the PML4's physical address. The caller must have
 * checked IA32_VMX_EPT_VPID_CAP for 4-level walks and write-back EPT
 * structures. SDM Vol. 3C, "Extended-Page-Table Pointer (EPTP)".
 */
u64 ept_eptp(const struct ept *e);

/* Frees every table page of e, the PML4 included; e is left empty. */
void ept_destroy(struct ept *e);

#endif /* EPT_EPT_H */
