/*
 * vmx/cr.c - control-register exits. The guest owns CR0 and CR4 except the
 * bits in the guest/host masks (vmx/vmcs.c): those VMX forces (CR0.NE,
 * CR4.VMXE), CD/NW, and CR0.PG, which we watch to follow IA-32e mode. CR8 is
 * the emulated APIC's TPR. SDM Vol. 3C, "Exit Qualification for
 * Control-Register Accesses", "Guest/Host Masks and Read Shadows for CR0 and
 * CR4", and Vol. 3A, "Initializing IA-32e Mode".
 */
#include "vmx/vmx_priv.h"

#define CR0_PE   BIT(0)
#define CR0_NW   BIT(29)
#define CR0_CD   BIT(30)
#define CR0_PG   BIT(31)
#define CR4_PAE  BIT(5)
#define CR4_VMXE BIT(13)
#define CR4_OSXSAVE BIT(18)
#define CPUID_1_ECX_OSXSAVE BIT(27)
#define EFER_LME BIT(8)
#define CR_ACCESS_MOV_TO   0
#define CR_ACCESS_MOV_FROM 1
#define CR_ACCESS_CLTS     2
#define CR_ACCESS_LMSW     3
#define PDPTE_PRESENT      BIT(0)


/* PAE paging without long mode takes its PDPTEs from the VMCS at VM entry
 * when EPT is on (SDM "Loading Page-Directory-Pointer-Table Entries"). */
static bool load_pdptes(struct vcpu *v, u64 cr3)
{
	u64 *p = vm_gpa_to_hva(v->vm, cr3 & ~0x1full, 32);
	if (!p)
		return false;
	static const u32 fields[4] = { VMCS_GUEST_PDPTE0, VMCS_GUEST_PDPTE1,
				       VMCS_GUEST_PDPTE2, VMCS_GUEST_PDPTE3 };
	for (int i = 0; i < 4; i++)
		vmcs_write64(fields[i], p[i]);
	return true;
}

static void guest_write_cr0(struct vcpu *v, u64 val)
{
	u64 efer = vmcs_read64(VMCS_GUEST_IA32_EFER);
	u64 cr4 = guest_cr4();

	/* SDM "MOV-Move to/from Control Registers": #GP for PG without PE,
	 * NW without CD, bits 63:32 set, and long mode without PAE. */
	if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) ||
	    ((val & CR0_NW) && !(val & CR0_CD)) ||
	    ((val & CR0_PG) && (efer & EFER_LME) && !(cr4 & CR4_PAE))) {
		vcpu_inject_gp(v);
		return;
	}
	if ((val & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LME) &&
	    !load_pdptes(v, vmcs_readnat(VMCS_GUEST_CR3))) {
		vcpu_inject_gp(v);
		return;
	}
	vmcs_writenat(VMCS_CR0_READ_SHADOW, val);
	vmcs_writenat(VMCS_GUEST_CR0, (val | v->cr0_shadow_fixed) & ~(CR0_CD | CR0_NW));
	vcpu_update_long_mode(v, efer, val);
	vcpu_skip_instruction(v);
}

static void guest_write_cr4(struct vcpu *v, u64 val)
{
	/* The guest may not turn on VMX: it is not offered in CPUID. */
	if ((val & CR4_VMXE) || (val >> 32)) {
		vcpu_inject_gp(v);
		return;
	}
	vmcs_writenat(VMCS_CR4_READ_SHADOW, val);
	vmcs_writenat(VMCS_GUEST_CR4, val | rdmsr(IA32_VMX_CR4_FIXED0) | CR4_VMXE);
	vcpu_skip_instruction(v);
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

	if (type == CR_ACCESS_MOV_TO) {
		u64 val = *gpr(v, reg);
		if (cr == 0)
			guest_write_cr0(v, val);
		else if (cr == 4)
			guest_write_cr4(v, val);
		else if (cr == 8) {
			v->vm->apic.tpr = (u32)(val & 0xf) << 4;
			vcpu_skip_instruction(v);
		} else
			goto unexpected;
		return;
	}
	if (type == CR_ACCESS_MOV_FROM && cr == 8) {
		*gpr(v, reg) = v->vm->apic.tpr >> 4;
		if (reg == GUEST_RSP)
			vmcs_writenat(VMCS_GUEST_RSP, v->regs.gpr[GUEST_RSP]);
		vcpu_skip_instruction(v);
		return;
	}
	if (type == CR_ACCESS_LMSW) {
		/* LMSW sets PE, MP, EM, TS (bits 0-3) and cannot clear PE. */
		u64 cr0 = guest_cr0();
		u64 src = cr_qual_lmsw_data(qual) & 0xf;
		guest_write_cr0(v, (cr0 & ~0xeull) | src | (cr0 & CR0_PE));
		return;
	}
	if (type == CR_ACCESS_CLTS) {
		guest_write_cr0(v, guest_cr0() & ~BIT(3));
		return;
	}
unexpected:
	printk("vm %u: unexpected control-register exit (CR%u, access type %u)\n",
	       v->vm->index, cr, type);
	vmcs_dump();
	vm_end(v->vm, VM_END_CRASH, 125);
}

/* SDM Vol. 2A, CPUID, "Feature Information Returned in the ECX Register":
 * OSXSAVE (bit 27) is a copy of CR4.OSXSAVE, set by the OS. The CPUID the
 * hypervisor executes reads the host's CR4 (which XSETBV emulation turns
 * OSXSAVE on in), so leaf 1's ECX takes the bit from the guest's CR4. */
u32 cpuid_1_ecx_guest_osxsave(u32 ecx)
{
	ecx &= ~(u32)CPUID_1_ECX_OSXSAVE;
	if (guest_cr4() & CR4_OSXSAVE)
		ecx |= CPUID_1_ECX_OSXSAVE;
	return ecx;
}
