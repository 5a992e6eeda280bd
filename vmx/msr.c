/*
 * vmx/msr.c - RDMSR/WRMSR exits. The MSR bitmap makes every MSR exit except
 * the few the guest may own outright (FS/GS bases, which the VMCS switches;
 * the SYSCALL MSRs and KERNEL_GS_BASE, which the hypervisor never uses).
 * Here: EFER (kept in step with IA-32e mode), IA32_APIC_BASE (emulated),
 * PAT and SYSENTER (VMCS fields), IA32_TSC_AUX (switched by MSR-load lists,
 * so RDTSCP in the guest reads the guest's value and the host's never
 * changes), a few harmless read-only ones, and #GP for the rest. SDM Vol. 3C, "MSR-Bitmap Address"; Vol. 4, "Model-Specific
 * Registers".
 */
#include "vmx/vmx_priv.h"

#define MSR_IA32_TSC              0x10
#define MSR_IA32_PLATFORM_ID      0x17
#define MSR_IA32_APIC_BASE        0x1b
#define MSR_IA32_MTRRCAP          0xfe
#define MSR_IA32_SYSENTER_CS      0x174
#define MSR_IA32_SYSENTER_ESP     0x175
#define MSR_IA32_SYSENTER_EIP     0x176
#define MSR_IA32_MISC_ENABLE      0x1a0
#define MSR_IA32_PAT              0x277
#define MSR_IA32_MTRR_DEF_TYPE    0x2ff
#define MSR_EFER                  0xc0000080
#define MSR_STAR                  0xc0000081
#define MSR_LSTAR                 0xc0000082
#define MSR_CSTAR                 0xc0000083
#define MSR_SFMASK                0xc0000084
#define MSR_FS_BASE               0xc0000100
#define MSR_GS_BASE               0xc0000101
#define MSR_KERNEL_GS_BASE        0xc0000102
#define MSR_TSC_AUX               0xc0000103

#define EFER_SCE   BIT(0)
#define EFER_LME   BIT(8)
#define EFER_LMA   BIT(10)
#define EFER_NXE   BIT(11)
#define CR0_PG     BIT(31)
#define CR4_LA57   BIT(12)
#define MISC_ENABLE_FAST_STRINGS BIT(0)

/* SDM "MSR-Bitmap Address": read-low, read-high, write-low, write-high,
 * 1 KiB each; low = 0..0x1fff, high = 0xc0000000..0xc0001fff. */
#define MSR_BITMAP_READ_LOW    0
#define MSR_BITMAP_READ_HIGH   1024
#define MSR_BITMAP_WRITE_LOW   2048
#define MSR_BITMAP_WRITE_HIGH  3072
#define MSR_HIGH_BASE          0xc0000000u

static void msr_passthrough(u8 *bitmap, u32 msr)
{
	u32 off = msr >= MSR_HIGH_BASE ? MSR_BITMAP_READ_HIGH : MSR_BITMAP_READ_LOW;
	u32 bit = msr & 0x1fff;
	bitmap[off + bit / 8] &= (u8)~(1u << (bit % 8));
	bitmap[off + MSR_BITMAP_WRITE_LOW + bit / 8] &= (u8)~(1u << (bit % 8));
}

void msr_bitmap_init(u8 *bitmap);
void msr_bitmap_init(u8 *bitmap)
{
	memset(bitmap, 0xff, PAGE_SIZE);
	static const u32 owned[] = { MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
				     MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK };
	for (size_t i = 0; i < ARRAY_SIZE(owned); i++)
		msr_passthrough(bitmap, owned[i]);
}

/* EFER.LMA is LME && CR0.PG (SDM "IA-32e Mode Operation"); the VM-entry
 * control "IA-32e mode guest" must equal LMA (SDM "Checks on Guest Control
 * Registers, Debug Registers, and MSRs"). */
void vcpu_update_long_mode(struct vcpu *v, u64 efer, u64 cr0)
{
	u32 entry = vmcs_read32(VMCS_ENTRY_CTLS);
	if ((efer & EFER_LME) && (cr0 & CR0_PG)) {
		efer |= EFER_LMA;
		entry |= VM_ENTRY_IA32E_MODE_GUEST;
	} else {
		efer &= ~EFER_LMA;
		entry &= ~VM_ENTRY_IA32E_MODE_GUEST;
	}
	vmcs_write64(VMCS_GUEST_IA32_EFER, efer);
	vmcs_write32(VMCS_ENTRY_CTLS, entry);
	v->lma = (efer & EFER_LMA) != 0;
	v->rip_mask = v->lma ? ~0ull : 0xffffffffull;
	v->paging = (cr0 & CR0_PG) != 0;
	/* SDM Vol. 3A, "MOV to CR4": toggling LA57 with LMA = 1 is #GP, so the
	 * value read now holds for as long as IA-32e mode does. */
	v->la57 = v->lma && (guest_cr4() & CR4_LA57);
}

/* IA32_TSC_AUX is what RDTSCP (enabled in the secondary controls) and RDPID
 * return in ECX, natively, from the register itself. The guest's value must
 * be in the register while the guest runs and the host's otherwise, so on
 * the guest's first WRMSR the VM-entry MSR-load list gets {TSC_AUX, guest}
 * and the VM-exit MSR-load list {TSC_AUX, host} (SDM Vol. 3C, "Loading MSRs"
 * and "Loading Host State": entries are loaded in order, as WRMSR would).
 * While the two values are equal the lists are off (count 0): a guest that
 * never writes TSC_AUX, or writes the host's value, costs no entry or exit.
 * Bits 63:32 are reserved: WRMSR of a value with any set is #GP (SDM Vol. 4,
 * IA32_TSC_AUX). */
static bool tsc_aux_write(struct vcpu *v, u64 val)
{
	if (val >> 32)
		return false;
	if (!v->tsc_aux_written) {
		/* In VMX root operation the register holds the host's value. */
		v->tsc_aux_host = (struct vmx_msr_entry){ .index = MSR_TSC_AUX,
							  .value = rdmsr(MSR_TSC_AUX) };
		v->tsc_aux_guest = (struct vmx_msr_entry){ .index = MSR_TSC_AUX };
		vmcs_write64(VMCS_ENTRY_MSR_LOAD_ADDR, (u64)(uintptr_t)&v->tsc_aux_guest);
		vmcs_write64(VMCS_EXIT_MSR_LOAD_ADDR, (u64)(uintptr_t)&v->tsc_aux_host);
		v->tsc_aux_written = true;
	}
	v->tsc_aux_guest.value = val;
	u32 n = val != v->tsc_aux_host.value ? 1 : 0;
	vmcs_write32(VMCS_ENTRY_MSR_LOAD_COUNT, n);
	vmcs_write32(VMCS_EXIT_MSR_LOAD_COUNT, n);
	return true;
}

void msr_report_tsc_aux(struct vcpu *v)
{
	if (!v->tsc_aux_written)
		return;
	u64 now = rdmsr(MSR_TSC_AUX);
	printk("vm %u: guest IA32_TSC_AUX 0x%llx; the host's 0x%llx %s\n", v->vm->index,
	       v->tsc_aux_guest.value, v->tsc_aux_host.value,
	       now == v->tsc_aux_host.value ? "kept" : "CHANGED");
}

static bool msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	switch (msr) {
	case MSR_EFER:             *val = vmcs_read64(VMCS_GUEST_IA32_EFER); return true;
	case MSR_IA32_APIC_BASE:   *val = v->vm->apic.base_msr; return true;
	case MSR_IA32_PAT:         *val = vmcs_read64(VMCS_GUEST_IA32_PAT); return true;
	case MSR_IA32_SYSENTER_CS: *val = vmcs_read32(VMCS_GUEST_IA32_SYSENTER_CS); return true;
	case MSR_IA32_SYSENTER_ESP:*val = vmcs_readnat(VMCS_GUEST_IA32_SYSENTER_ESP); return true;
	case MSR_IA32_SYSENTER_EIP:*val = vmcs_readnat(VMCS_GUEST_IA32_SYSENTER_EIP); return true;
	case MSR_IA32_TSC:         *val = rdtsc(); return true;
	case MSR_TSC_AUX:
		*val = v->tsc_aux_written ? v->tsc_aux_guest.value : rdmsr(MSR_TSC_AUX);
		return true;
	case MSR_IA32_MISC_ENABLE: *val = MISC_ENABLE_FAST_STRINGS; return true;
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_MTRRCAP:     /* no MTRRs offered */
	case MSR_IA32_MTRR_DEF_TYPE:
		*val = 0;
		return true;
	}
	return false;
}

static bool msr_write(struct vcpu *v, u32 msr, u64 val)
{
	switch (msr) {
	case MSR_EFER: {
		u64 allowed = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
		u64 old = vmcs_read64(VMCS_GUEST_IA32_EFER);
		/* LMA is read-only; LME may not change while paging is on. */
		if ((val & ~allowed) ||
		    (((val ^ old) & EFER_LME) && (guest_cr0() & CR0_PG)))
			return false;
		vcpu_update_long_mode(v, (val & ~EFER_LMA) | (old & EFER_LMA),
				      guest_cr0());
		return true;
	}
	case MSR_IA32_APIC_BASE:
		return vapic_write_base_msr(v->vm, val) == 0;
	case MSR_IA32_PAT:
		vmcs_write64(VMCS_GUEST_IA32_PAT, val);
		return true;
	case MSR_IA32_SYSENTER_CS:  vmcs_write32(VMCS_GUEST_IA32_SYSENTER_CS, (u32)val); return true;
	case MSR_IA32_SYSENTER_ESP: vmcs_writenat(VMCS_GUEST_IA32_SYSENTER_ESP, val); return true;
	case MSR_IA32_SYSENTER_EIP: vmcs_writenat(VMCS_GUEST_IA32_SYSENTER_EIP, val); return true;
	case MSR_TSC_AUX:
		return tsc_aux_write(v, val);
	case MSR_IA32_MISC_ENABLE:
	case MSR_IA32_MTRR_DEF_TYPE:
		return true;	/* accepted and ignored */
	}
	return false;
}

void handle_msr_read(struct vcpu *v, u64 qual)
{
	u64 *r = v->regs.gpr;
	u32 msr = (u32)r[GUEST_RCX];
	u64 val;

	(void)qual;
	if (!msr_read(v, msr, &val)) {
		if (boot_cfg.trace)
			printk("vm %u: RDMSR 0x%x: not offered, #GP\n", v->vm->index, msr);
		vcpu_inject_gp(v);
		return;
	}
	r[GUEST_RAX] = (u32)val;
	r[GUEST_RDX] = val >> 32;
	vcpu_skip_instruction(v);
}

void handle_msr_write(struct vcpu *v, u64 qual)
{
	u64 *r = v->regs.gpr;
	u32 msr = (u32)r[GUEST_RCX];
	u64 val = (r[GUEST_RDX] << 32) | (u32)r[GUEST_RAX];

	(void)qual;
	if (!msr_write(v, msr, val)) {
		if (boot_cfg.trace)
			printk("vm %u: WRMSR 0x%x = 0x%llx: not allowed, #GP\n",
			       v->vm->index, msr, val);
		vcpu_inject_gp(v);
		return;
	}
	vcpu_skip_instruction(v);
}
