/*
 * vmx/msr.c - RDMSR/WRMSR exits. The MSR bitmap makes every MSR exit except
 * the few the guest may own outright (FS/GS bases, which the VMCS switches;
 * the SYSCALL MSRs and KERNEL_GS_BASE, which the hypervisor never uses).
 * Here: EFER (kept in step with IA-32e mode), IA32_APIC_BASE (emulated),
 * PAT and SYSENTER (VMCS fields), IA32_TSC_AUX (switched by MSR-load lists,
 * so RDTSCP in the guest reads the guest's value and the host's never
 * changes), IA32_TSC and IA32_TSC_ADJUST (the VMCS TSC offset), the
 * machine-check MSRs of a CPU with no banks, IA32_MISC_ENABLE (kept per
 * VM), IA32_ARCH_CAPABILITIES (its enumeration bits), a few harmless
 * read-only ones, doorbell's own POLL_WATCH_MSR (the poll page's watch,
 * vmx/pollpage.c), and #GP for the rest: every MSR the guest's CPUID
 * advertises works (vmx/cpuid.c). SDM Vol. 3C, "MSR-Bitmap Address"; Vol. 4, "Model-Specific
 * Registers".
 */
#include "vmx/vmx_priv.h"

#define MSR_IA32_TSC              0x10
#define MSR_IA32_PLATFORM_ID      0x17
#define MSR_IA32_APIC_BASE        0x1b
#define MSR_IA32_TSC_ADJUST       0x3b
#define MSR_IA32_SPEC_CTRL        0x48
#define MSR_IA32_PRED_CMD         0x49
#define MSR_IA32_ARCH_CAPABILITIES 0x10a
#define MSR_IA32_FLUSH_CMD        0x10b
#define MSR_IA32_MCG_CAP          0x179
#define MSR_IA32_MCG_STATUS       0x17a
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
/* SDM Vol. 4, IA32_MISC_ENABLE: fast strings (R/W), performance monitoring
 * available (bit 7, read-only: 0, no PMU is offered), BTS and PEBS
 * unavailable (bits 11 and 12, read-only: 1). The guest may write every
 * other bit and reads back what it wrote, as under KVM; none of them
 * changes what doorbell does (MONITOR stays hidden whatever bit 18 says). */
#define MISC_ENABLE_FAST_STRINGS BIT(0)
#define MISC_ENABLE_EMON         BIT(7)
#define MISC_ENABLE_BTS_UNAVAIL  BIT(11)
#define MISC_ENABLE_PEBS_UNAVAIL BIT(12)
#define MISC_ENABLE_RESET        (MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_BTS_UNAVAIL | \
				  MISC_ENABLE_PEBS_UNAVAIL)
/* IA32_ARCH_CAPABILITIES bits that only say what the CPU is not affected by
 * or already does (SDM Vol. 4, and Intel's "Speculative Execution Side
 * Channel Mitigations"): RDCL_NO, IBRS_ALL, RSBA, SKIP_L1DFL_VMENTRY, SSB_NO,
 * MDS_NO, IF_PSCHANGE_MC_NO, TAA_NO, SBDR_SSDP_NO, FBSDP_NO, PSDP_NO,
 * FB_CLEAR, RRSBA, BHI_NO, PBRSB_NO, GDS_NO, RFDS_NO, RFDS_CLEAR. The bits
 * that enumerate further MSRs (TSX_CTRL, MCU_CONTROL, the package and
 * energy-filtering controls, DOITM, FB_CLEAR_CTRL, ...) read as 0: those
 * MSRs are not offered. */
#define ARCH_CAP_OFFERED (BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | \
			  BIT(8) | BIT(13) | BIT(14) | BIT(15) | BIT(17) | BIT(19) | BIT(20) | \
			  BIT(24) | BIT(26) | BIT(27) | BIT(28))
/* #GP'd RDMSR/WRMSRs logged per VM without trace=1 (then one line saying
 * the rest are not). */
#define MSR_GP_LOG_MAX 8

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

static void msr_passthrough_write(u8 *bitmap, u32 msr)
{
	u32 bit = msr & 0x1fff;
	bitmap[MSR_BITMAP_WRITE_LOW + bit / 8] &= (u8)~(1u << (bit % 8));
}

/*
 * The speculation-control MSRs go straight to the hardware when the CPU has
 * them (CPUID.7.0:EDX, which the guest sees unchanged for these bits,
 * vmx/cpuid.c): IA32_SPEC_CTRL read and written (each VM has its core to
 * itself, and the hypervisor runs with whatever the guest chose, which
 * costs only the guest's own exits), IA32_PRED_CMD and IA32_FLUSH_CMD
 * written (commands: reading them is #GP on the CPU and here). A CPU
 * without them keeps the exits, and the guest gets #GP, as CPUID says.
 */
static void msr_bitmap_init(u8 *bitmap)
{
	u32 max, b, c, d;

	memset(bitmap, 0xff, PAGE_SIZE);
	static const u32 owned[] = { MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
				     MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK };
	for (size_t i = 0; i < ARRAY_SIZE(owned); i++)
		msr_passthrough(bitmap, owned[i]);
	cpuid_count(0, 0, &max, &b, &c, &d);
	if (max < 7)
		return;
	cpuid_count(7, 0, &max, &b, &c, &d);
	if (d & (CPUID_7_EDX_IBRS_IBPB | CPUID_7_EDX_STIBP | CPUID_7_EDX_SSBD))
		msr_passthrough(bitmap, MSR_IA32_SPEC_CTRL);
	if (d & CPUID_7_EDX_IBRS_IBPB)
		msr_passthrough_write(bitmap, MSR_IA32_PRED_CMD);
	if (d & CPUID_7_EDX_L1D_FLUSH)
		msr_passthrough_write(bitmap, MSR_IA32_FLUSH_CMD);
}

void msr_vm_init(struct vm *vm)
{
	msr_bitmap_init(vm->msr_bitmap);
	vm->misc_enable = MISC_ENABLE_RESET;
	vm->tsc_adjust = 0;
	vm->mcg_status = 0;
	vm->msr_gp_reported = 0;
}

/* Whether the guest's CPUID leaf 7 subleaf 0 EDX has flag. */
static bool guest_has_7_edx(struct vcpu *v, u32 flag)
{
	struct cpuid_regs r;
	cpuid_vcpu_leaf(v, 7, 0, &r);
	return (r.edx & flag) != 0;
}

/*
 * The guest's TSC is the host's plus the VMCS TSC offset. SDM Vol. 3B,
 * "Time-Stamp Counter" and "IA32_TSC_ADJUST": a WRMSR to IA32_TSC changes
 * the TSC and adds the same difference to IA32_TSC_ADJUST; a WRMSR to
 * IA32_TSC_ADJUST adds the difference between the new and the old value to
 * the TSC. IA32_TSC_ADJUST starts at 0.
 */
static u64 guest_tsc(void)
{
	return rdtsc() + vmcs_read64(VMCS_TSC_OFFSET);
}

static bool tsc_offsetting(void)
{
	return (vmcs_read32(VMCS_PROC_BASED_CTLS) & PROC_BASED_USE_TSC_OFFSETTING) != 0;
}

static bool tsc_write(struct vcpu *v, u64 val)
{
	if (!tsc_offsetting())
		return false;
	u64 offset = vmcs_read64(VMCS_TSC_OFFSET);
	u64 now = rdtsc();
	v->vm->tsc_adjust += val - (now + offset);
	vmcs_write64(VMCS_TSC_OFFSET, val - now);
	return true;
}

static bool tsc_adjust_write(struct vcpu *v, u64 val)
{
	if (!tsc_offsetting())
		return false;
	vmcs_write64(VMCS_TSC_OFFSET, vmcs_read64(VMCS_TSC_OFFSET) + (val - v->vm->tsc_adjust));
	v->vm->tsc_adjust = val;
	return true;
}

/* SDM Vol. 4, IA32_MISC_ENABLE; KVM's rule for the read-only bits: changing
 * BTS_UNAVAILABLE or PEBS_UNAVAILABLE is #GP, a write to EMON is ignored. */
static bool misc_enable_write(struct vm *vm, u64 val)
{
	u64 old = vm->misc_enable;
	if ((val ^ old) & (MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL))
		return false;
	vm->misc_enable = (val & ~MISC_ENABLE_EMON) | (old & MISC_ENABLE_EMON);
	return true;
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
	bool lma = (efer & EFER_LMA) != 0, paging = (cr0 & CR0_PG) != 0;
	/* SDM Vol. 3A, "MOV to CR4": toggling LA57 with LMA = 1 is #GP, so the
	 * value read now holds for as long as IA-32e mode does. */
	bool la57 = lma && (guest_cr4() & CR4_LA57);
	/* The remembered doorbell store was decoded and translated in the old
	 * mode (vmx/wprot.c). */
	if (lma != v->lma || paging != v->paging || la57 != v->la57)
		insn_cache_drop(v);
	v->lma = lma;
	v->rip_mask = lma ? ~0ull : 0xffffffffull;
	v->paging = paging;
	v->la57 = la57;
	vcpu_exit_fast_mmio_pick(v);	/* its handler depends on v->lma */
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
	case MSR_IA32_TSC:         *val = guest_tsc(); return true;
	case MSR_IA32_TSC_ADJUST:  *val = v->vm->tsc_adjust; return true;
	/* Machine-check architecture with no banks (SDM Vol. 3B, "Machine
	 * Check Architecture"): MCG_CAP.Count = 0, no MCG_CTL, no extended
	 * registers; MCG_STATUS holds what the guest wrote (only 0). */
	case MSR_IA32_MCG_CAP:     *val = 0; return true;
	case MSR_IA32_MCG_STATUS:  *val = v->vm->mcg_status; return true;
	case MSR_IA32_ARCH_CAPABILITIES:
		if (!guest_has_7_edx(v, CPUID_7_EDX_ARCH_CAP))
			return false;
		*val = rdmsr(MSR_IA32_ARCH_CAPABILITIES) & ARCH_CAP_OFFERED;
		return true;
	case MSR_TSC_AUX:
		*val = v->tsc_aux_written ? v->tsc_aux_guest.value : rdmsr(MSR_TSC_AUX);
		return true;
	case MSR_IA32_MISC_ENABLE: *val = v->vm->misc_enable; return true;
	case POLL_WATCH_MSR:       *val = vm_poll_msr_read(v->vm); return true;
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
		struct cr_state s;
		u64 efer;
		/* Reserved bits (and features the guest's CPUID lacks), LME
		 * changing while paging is on: vmx/crcheck.c. */
		vcpu_cr_state(v, &s);
		if (!crc_efer_write(&s, val, &efer))
			return false;
		vcpu_update_long_mode(v, efer, s.cr0);
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
	case MSR_IA32_TSC:
		return tsc_write(v, val);
	case MSR_IA32_TSC_ADJUST:
		return tsc_adjust_write(v, val);
	case MSR_IA32_MCG_STATUS:
		/* With no banks there is no machine check to report: 0 is
		 * the only value (a nonzero write is #GP, as KVM does for a
		 * guest). MCG_CAP is read-only: #GP. */
		if (val)
			return false;
		v->vm->mcg_status = 0;
		return true;
	case POLL_WATCH_MSR:
		return vm_poll_msr_write(v->vm, val);
	case MSR_IA32_MISC_ENABLE:
		return misc_enable_write(v->vm, val);
	case MSR_IA32_MTRR_DEF_TYPE:
		return true;	/* accepted and ignored */
	}
	return false;
}

/* A #GP'd RDMSR/WRMSR: logged with trace=1 always, else the first
 * MSR_GP_LOG_MAX of each VM, as unassigned ports are. */
static void msr_report_gp(struct vcpu *v, bool write, u32 msr, u64 val)
{
	struct vm *vm = v->vm;
	if (!boot_cfg.trace && vm->msr_gp_reported > MSR_GP_LOG_MAX)
		return;
	if (!boot_cfg.trace && vm->msr_gp_reported++ == MSR_GP_LOG_MAX) {
		printk("vm %u: more MSR accesses refused with #GP; not logged\n", vm->index);
		return;
	}
	if (write)
		printk("vm %u: WRMSR 0x%x = 0x%llx: not allowed, #GP\n", vm->index, msr, val);
	else
		printk("vm %u: RDMSR 0x%x: not offered, #GP\n", vm->index, msr);
}

void handle_msr_read(struct vcpu *v, u64 qual)
{
	u64 *r = v->regs.gpr;
	u32 msr = (u32)r[GUEST_RCX];
	u64 val;

	(void)qual;
	if (!msr_read(v, msr, &val)) {
		msr_report_gp(v, false, msr, 0);
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
		msr_report_gp(v, true, msr, val);
		vcpu_inject_gp(v);
		return;
	}
	vcpu_skip_instruction(v);
}
