/*
 * vmx/gwalk.h - the guest page-table walker: translates a guest linear
 * address to a guest-physical one through the guest's own paging structures,
 * with the access-rights checks the CPU would make, and produces the #PF
 * error code when the CPU would fault.
 *
 * Implements SDM Vol. 3A, "Paging": "Paging Modes and Control Bits",
 * "32-Bit Paging", "PAE Paging", "4-Level Paging and 5-Level Paging",
 * "Access Rights", "Protection Keys" and "Page-Fault Exceptions".
 *
 * Read-only: the walker never sets accessed or dirty bits. Its callers use it
 * to fetch the instruction that caused an exit and to resolve the addresses
 * of string I/O and emulated MMIO operands; the guest's own access, when the
 * instruction is emulated or retried, is what sets them. Not modelled:
 * implicit supervisor-mode accesses (GDT, IDT, TSS: none of the callers make
 * them), supervisor protection keys (CR4.PKS), shadow-stack accesses (CET),
 * HLAT, and the CPUID-dependent absence of 1-GiB pages or PSE-36 (both are
 * assumed present, as on every CPU with VMX and EPT).
 *
 * Pure: guest-physical memory is reached only through a read callback, so the
 * module compiles and is tested on the host (tests/host/test_gwalk.c).
 */
#ifndef VMX_GWALK_H
#define VMX_GWALK_H

#include "lib/lib.h"

/* The guest state paging depends on (SDM Vol. 3A, "Paging Modes and Control
 * Bits"). Zero-initialised fields mean: CPL 0, EFLAGS.AC clear, PKRU 0,
 * MAXPHYADDR 52, PDPTEs read from memory. */
struct gwalk_regs {
	u64 cr0, cr3, cr4, efer;	/* the guest's own (IA32_EFER with LMA) */
	u32 cpl;			/* 3: user-mode accesses (SS.DPL) */
	u64 rflags;			/* only AC, for SMAP */
	u32 pkru;			/* protection keys (CR4.PKE, long mode) */
	u32 maxphyaddr;			/* CPUID.80000008H:EAX[7:0]; 0 = 52 */
	/* PAE paging: the CPU uses the PDPTEs it loaded with CR3, not what
	 * memory holds now; with EPT they sit in the VMCS (GUEST_PDPTE0-3).
	 * Set pdptes_valid to use these instead of reading CR3's table. */
	bool pdptes_valid;
	u64 pdpte[4];
};

/* The access to check (combine with |). None of them: a supervisor read. */
#define GWALK_WRITE  BIT(0)  /* a data write */
#define GWALK_USER   BIT(1)  /* user-mode access even if cpl < 3 */
#define GWALK_FETCH  BIT(2)  /* an instruction fetch (not with GWALK_WRITE) */

/* SDM Vol. 3A, "Page-Fault Exceptions": the #PF error code. */
#define PF_ERR_P     BIT(0)  /* 0: not present; 1: protection (or RSVD) */
#define PF_ERR_WR    BIT(1)  /* the access was a write */
#define PF_ERR_US    BIT(2)  /* the access was a user-mode access */
#define PF_ERR_RSVD  BIT(3)  /* a reserved bit was set in an entry */
#define PF_ERR_ID    BIT(4)  /* an instruction fetch (with SMEP, or PAE+NXE) */
#define PF_ERR_PK    BIT(5)  /* protection keys forbade the access */

/* Reads size (4 or 8) bytes of guest-physical memory at gpa into buf (little
 * endian, as the guest sees it). Returns 0, or a negative errno when gpa is
 * not guest RAM. */
typedef int (*gwalk_read_fn)(void *ctx, u64 gpa, void *buf, u32 size);

/*
 * Translates guest linear address gla for the access given by access
 * (GWALK_*) and r->cpl, in the paging mode that r's CR0.PG, CR4.PAE,
 * IA32_EFER.LMA and CR4.LA57 select: no paging, 32-bit (4-MiB pages with
 * CR4.PSE, PSE-36), PAE (2-MiB pages), 4-level or 5-level (2-MiB and 1-GiB
 * pages). Outside long mode gla is truncated to 32 bits, as linear addresses
 * are there. Reads the paging structures through read(ctx, ...) and writes
 * nothing.
 *
 * Returns 0 and sets *gpa; or
 *   -EFAULT  the CPU would raise #PF: *fault_error_code holds its error code
 *            (PF_ERR_*) and the caller injects it with CR2 = gla;
 *   -ERANGE  gla is not canonical in long mode: the CPU would raise #GP(0)
 *            (#SS(0) for a stack access), not #PF;
 *   -EIO     read() failed for a paging structure: the guest's tables point
 *            outside its RAM;
 *   -EINVAL  access has both GWALK_WRITE and GWALK_FETCH, or r->maxphyaddr is
 *            outside 32..52.
 * A PAE PDPTE with reserved bits set, which the CPU refuses when CR3 is
 * loaded (#GP), is reported here as a #PF with PF_ERR_RSVD.
 */
int gwalk_translate(const struct gwalk_regs *r, u64 gla, u32 access,
		    gwalk_read_fn read, void *ctx, u64 *gpa, u32 *fault_error_code);

#endif /* VMX_GWALK_H */
