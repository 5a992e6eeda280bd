/*
 * vmx/cr.c - control-register exits. The guest owns CR0 and CR4 except the
 * bits in the guest/host masks (vmx/vmcs.c): those VMX forces (CR0.NE,
 * CR4.VMXE), CD/NW, CR0.PG, which we watch to follow IA-32e mode, CR4.PSE
 * and PAE, which change how addresses translate, and every CR4 bit the
 * guest's CPUID does not offer. Each write that exits is checked
 * as the CPU checks it and refused with #GP(0), never left for VM entry to
 * fail on. CR8 is
 * the emulated APIC's TPR. SDM Vol. 3C, "Exit Qualification for
 * Control-Register Accesses", "Guest/Host Masks and Read Shadows for CR0 and
 * CR4", and Vol. 3A, "Initializing IA-32e Mode".
 */
#include "vmx/vmx_priv.h"

#define CR0_PE   BIT(0)
#define CR0_NW   BIT(29)
#define CR0_CD   BIT(30)
#define CR0_PG   BIT(31)
#define CR4_PSE  BIT(4)
#define CR4_PAE  BIT(5)
#define CR4_PGE  BIT(7)
#define CR4_VMXE BIT(13)
#define CR4_SMEP BIT(20)
#define EFER_LME BIT(8)
#define CR_ACCESS_MOV_TO   0
#define CR_ACCESS_MOV_FROM 1
#define CR_ACCESS_CLTS     2
#define CR_ACCESS_LMSW     3
#define PDPTE_PRESENT      BIT(0)
/* SDM Vol. 3A, "PAE Paging", "Format of a PAE Page-Directory-Pointer-Table
 * Entry": bits 2:1, 8:5 and 63:MAXPHYADDR are reserved. */
#define PDPTE_RESERVED_LOW 0x1e6ull
#define CR8_TPR_MASK       0xfull

/* PAE paging without long mode takes its PDPTEs from the VMCS at VM entry
 * when EPT is on (SDM "Loading Page-Directory-Pointer-Table Entries"), and
 * VM entry fails if a present one has a reserved bit set (SDM "Checks on
 * Guest Page-Directory-Pointer-Table Entries"): where the CPU would load
 * them, a reserved bit is the guest's #GP, never a failed VM entry. */
static bool load_pdptes(struct vcpu *v, u64 cr3)
{
	u64 *p = vm_gpa_to_hva(v->vm, cr3 & 0xffffffe0ull, 32);
	u32 a, b, c, d;
	if (!p)
		return false;
	cpuid_count(0x80000008u, 0, &a, &b, &c, &d);
	u64 reserved = PDPTE_RESERVED_LOW | ~((1ull << (a & 0xff)) - 1);
	for (int i = 0; i < 4; i++)
		if ((p[i] & PDPTE_PRESENT) && (p[i] & reserved))
			return false;
	static const u32 fields[4] = { VMCS_GUEST_PDPTE0, VMCS_GUEST_PDPTE1,
				       VMCS_GUEST_PDPTE2, VMCS_GUEST_PDPTE3 };
	for (int i = 0; i < 4; i++)
		vmcs_write64(fields[i], p[i]);
	return true;
}

void vcpu_cr_state(struct vcpu *v, struct cr_state *s)
{
	s->cr0 = guest_cr0();
	s->cr3 = vmcs_readnat(VMCS_GUEST_CR3);
	s->cr4 = guest_cr4();
	s->efer = vmcs_read64(VMCS_GUEST_IA32_EFER);
	s->cs_l = v->lma && (vmcs_read32(VMCS_GUEST_CS_AR_BYTES) & VMX_AR_L);
	s->cr4_allowed = v->vm->cr4_allowed;
	s->efer_allowed = v->vm->efer_allowed;
}

/*
 * MOV to CR0, CLTS and LMSW when they exit (a bit we own changes: PG, CD,
 * NW, or one VMX fixes): every rule of vmx/crcheck.c, and PAE paging whose
 * PDPTEs are invalid. What the CPU would accept becomes the guest's CR0, so
 * no guest write can make the guest state invalid for VM entry.
 */
static bool guest_write_cr0(struct vcpu *v, u64 val)
{
	struct cr_state s;

	vcpu_cr_state(v, &s);
	if (!crc_cr0_write(&s, val, &val))
		return false;
	/* SDM Vol. 3A, "PDPTE Registers": with PAE paging and no IA-32e mode,
	 * the PDPTEs are loaded when CR0.PG, CD or NW changes (KVM's rule). */
	if ((val & CR0_PG) && (s.cr4 & CR4_PAE) && !(s.efer & EFER_LME) &&
	    ((val ^ s.cr0) & (CR0_PG | CR0_CD | CR0_NW)) && !load_pdptes(v, s.cr3))
		return false;
	vmcs_writenat(VMCS_CR0_READ_SHADOW, val);
	vmcs_writenat(VMCS_GUEST_CR0, (val | v->cr0_shadow_fixed) & ~(CR0_CD | CR0_NW));
	vcpu_update_long_mode(v, s.efer, val);
	return true;
}

/*
 * MOV to CR4 when it exits: a bit we own changes, which is VMXE, a bit VMX
 * fixes, PSE or PAE (a change of how RIP translates: the fast-MMIO path's
 * remembered store is dropped, vmx/wprot.c), or a bit the guest's CPUID
 * does not offer (vm->cr4_allowed; the guest/host mask holds all of them,
 * vmx/vmcs.c). The guest-owned bits are
 * checked by the CPU itself when no exit happens; here by vmx/crcheck.c,
 * plus the PDPTEs when PAE paging's translation changes.
 */
static bool guest_write_cr4(struct vcpu *v, u64 val)
{
	struct cr_state s;

	vcpu_cr_state(v, &s);
	if (!crc_cr4_write(&s, val))
		return false;
	if (!v->lma && v->paging && (val & CR4_PAE) &&
	    ((val ^ s.cr4) & (CR4_PSE | CR4_PAE | CR4_PGE | CR4_SMEP)) && !load_pdptes(v, s.cr3))
		return false;
	if ((val ^ s.cr4) & (CR4_PSE | CR4_PAE))
		insn_cache_drop(v);
	vmcs_writenat(VMCS_CR4_READ_SHADOW, val);
	vmcs_writenat(VMCS_GUEST_CR4, val | rdmsr(IA32_VMX_CR4_FIXED0) | CR4_VMXE);
	return true;
}

static u64 *gpr(struct vcpu *v, u32 n)
{
	/* RSP lives in the VMCS; the others in regs. */
	if (n == GUEST_RSP) {
		v->regs.gpr[GUEST_RSP] = vmcs_readnat(VMCS_GUEST_RSP);
	}
	return &v->regs.gpr[n];
}

void handle_cr_access(struct vcpu *v, u64 qual)
{
	u32 cr = cr_qual_cr(qual), type = cr_qual_access_type(qual), reg = cr_qual_gpr(qual);
	bool ok;

	if (type == CR_ACCESS_MOV_TO) {
		u64 val = *gpr(v, reg);
		if (cr == 0)
			ok = guest_write_cr0(v, val);
		else if (cr == 4)
			ok = guest_write_cr4(v, val);
		else if (cr == 8) {
			/* Bits 63:4 of CR8 are reserved (SDM "MOV-Move
			 * to/from Control Registers"). */
			ok = !(val & ~CR8_TPR_MASK);
			if (ok)
				*vapic_tpr(v->vm) = (u32)(val & CR8_TPR_MASK) << 4;
		} else
			goto unexpected;
	} else if (type == CR_ACCESS_MOV_FROM && cr == 8) {
		*gpr(v, reg) = (*vapic_tpr(v->vm) >> 4) & CR8_TPR_MASK;
		if (reg == GUEST_RSP)
			vmcs_writenat(VMCS_GUEST_RSP, v->regs.gpr[GUEST_RSP]);
		ok = true;
	} else if (type == CR_ACCESS_LMSW) {
		/* LMSW sets PE, MP, EM, TS (bits 0-3) and cannot clear PE. */
		u64 cr0 = guest_cr0();
		u64 src = cr_qual_lmsw_data(qual) & 0xf;
		ok = guest_write_cr0(v, (cr0 & ~0xeull) | src | (cr0 & CR0_PE));
	} else if (type == CR_ACCESS_CLTS) {
		ok = guest_write_cr0(v, guest_cr0() & ~BIT(3));
	} else {
		goto unexpected;
	}
	if (ok)
		vcpu_skip_instruction(v);
	else
		vcpu_inject_gp(v);
	return;
unexpected:
	printk("vm %u: unexpected control-register exit (CR%u, access type %u)\n",
	       v->vm->index, cr, type);
	vmcs_dump();
	vm_end(v->vm, VM_END_CRASH, 125);
}
