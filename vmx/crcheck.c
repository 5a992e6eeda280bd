/*
 * vmx/crcheck.c - the CPU's checks on CR0, CR4 and IA32_EFER writes (see
 * crcheck.h). Each rule cites the SDM's exception list; KVM's kvm_set_cr0,
 * kvm_set_cr4 and set_efer apply the same ones.
 */
#include "vmx/crcheck.h"

/* The CR0 bits that exist (SDM Vol. 3A, "CR0"): PE MP EM TS ET NE WP AM NW
 * CD PG. A MOV to CR0 ignores the other bits of 31:0 (as KVM does). */
#define CR0_VALID (CRC_CR0_PE | 0x3eull | BIT(16) | BIT(18) | CRC_CR0_NW | CRC_CR0_CD | \
		   CRC_CR0_PG)

bool crc_cr0_write(const struct cr_state *s, u64 val, u64 *cr0)
{
	bool lma = s->efer & CRC_EFER_LMA;

	/* "If an attempt is made to write a 1 to any reserved bits 63:32". */
	if (val >> 32)
		return false;
	val = (val & CR0_VALID) | CRC_CR0_ET;	/* ET is fixed at 1 */
	/* "Invalid bit combinations: PG = 1 with PE = 0, NW = 1 with CD = 0". */
	if (((val & CRC_CR0_PG) && !(val & CRC_CR0_PE)) ||
	    ((val & CRC_CR0_NW) && !(val & CRC_CR0_CD)))
		return false;
	/* Activating IA-32e mode (PG set with EFER.LME) needs CR4.PAE, and is
	 * not possible from code with CS.L = 1 (SDM Vol. 3A, "Initializing
	 * IA-32e Mode"; KVM refuses it too). */
	if ((val & CRC_CR0_PG) && !(s->cr0 & CRC_CR0_PG) && (s->efer & CRC_EFER_LME) &&
	    (!(s->cr4 & CRC_CR4_PAE) || s->cs_l))
		return false;
	/* "If an attempt is made to clear CR0.PG while CR4.PCIDE = 1", and in
	 * 64-bit mode "if an attempt is made to clear CR0.PG". */
	if (!(val & CRC_CR0_PG) && (s->cr0 & CRC_CR0_PG) &&
	    ((lma && s->cs_l) || (s->cr4 & CRC_CR4_PCIDE)))
		return false;
	*cr0 = val;
	return true;
}

bool crc_cr4_write(const struct cr_state *s, u64 val)
{
	bool lma = s->efer & CRC_EFER_LMA;

	/* "If an attempt is made to write a 1 to any reserved bit in CR4": a
	 * feature bit is reserved when CPUID does not offer the feature. */
	if (val & ~s->cr4_allowed)
		return false;
	/* "If an attempt is made to change CR4.PCIDE from 0 to 1 while
	 * CR3[11:0] != 000H"; PCIDE can be set only in IA-32e mode (Vol. 3A,
	 * "Process-Context Identifiers (PCIDs)"). */
	if ((val & CRC_CR4_PCIDE) && !(s->cr4 & CRC_CR4_PCIDE) && ((s->cr3 & 0xfff) || !lma))
		return false;
	/* In IA-32e mode: "if an attempt is made to clear CR4.PAE", and
	 * "to change CR4.LA57". */
	if (lma && (!(val & CRC_CR4_PAE) || ((val ^ s->cr4) & CRC_CR4_LA57)))
		return false;
	return true;
}

bool crc_efer_write(const struct cr_state *s, u64 val, u64 *efer)
{
	/* SDM Vol. 4, IA32_EFER: reserved bits (and features CPUID does not
	 * offer) #GP; LMA is read-only; Vol. 3A, "IA-32e Mode Initialization":
	 * LME may not change while paging is on. */
	if ((val & ~s->efer_allowed) ||
	    (((val ^ s->efer) & CRC_EFER_LME) && (s->cr0 & CRC_CR0_PG)))
		return false;
	*efer = (val & ~CRC_EFER_LMA) | (s->efer & CRC_EFER_LMA);
	return true;
}
