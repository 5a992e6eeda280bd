/*
 * vmx/crcheck.h - the checks a CPU makes on a write to CR0, CR4 or IA32_EFER
 * (SDM Vol. 2B, "MOV-Move to/from Control Registers", Protected Mode and
 * 64-Bit Mode Exceptions; Vol. 3A, "Control Registers", "Process-Context
 * Identifiers (PCIDs)"; Vol. 4, IA32_EFER), as pure functions of the guest's
 * state, so that vmx/cr.c and vmx/msr.c refuse with #GP(0) every write the
 * CPU would refuse and no guest write can leave a guest state VM entry
 * rejects. The PAE PDPTE check, which needs guest memory, stays in cr.c.
 * Host-tested in tests/host/test_crcheck.c.
 */
#ifndef VMX_CRCHECK_H
#define VMX_CRCHECK_H

#include "lib/lib.h"

#define CRC_CR0_PE    BIT(0)
#define CRC_CR0_ET    BIT(4)
#define CRC_CR0_NW    BIT(29)
#define CRC_CR0_CD    BIT(30)
#define CRC_CR0_PG    BIT(31)
#define CRC_CR4_PAE   BIT(5)
#define CRC_CR4_LA57  BIT(12)
#define CRC_CR4_PCIDE BIT(17)
#define CRC_EFER_LME  BIT(8)
#define CRC_EFER_LMA  BIT(10)

/* The guest state the rules look at, as the guest sees it. */
struct cr_state {
	u64 cr0, cr3, cr4, efer;	/* efer with LMA */
	bool cs_l;			/* CS.L (64-bit code, with LMA) */
	u64 cr4_allowed;		/* CR4 bits its CPUID offers */
	u64 efer_allowed;		/* IA32_EFER bits its CPUID offers */
};

/* MOV to CR0 (also CLTS and LMSW, given the CR0 they make). True when the
 * CPU accepts val; *cr0 is then the CR0 it holds (reserved bits 31:0
 * dropped, ET set). */
bool crc_cr0_write(const struct cr_state *s, u64 val, u64 *cr0);
/* MOV to CR4: true when the CPU accepts val. */
bool crc_cr4_write(const struct cr_state *s, u64 val);
/* WRMSR IA32_EFER: true when accepted; *efer is then the value it holds
 * (LMA, which WRMSR cannot change, kept). */
bool crc_efer_write(const struct cr_state *s, u64 val, u64 *efer);

#endif /* VMX_CRCHECK_H */
