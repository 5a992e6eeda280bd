/*
 * vmx/vmcs.c - filling a VMCS: controls from the capability MSRs, the host
 * state this CPU returns to on every exit, and the guest's initial state as
 * the Multiboot specification's "Machine state" requires (32-bit protected
 * mode, paging off, flat segments). SDM Vol. 3C, "Organization of VMCS Data",
 * "Checks on VMX Controls and Host-State Area", "Checks on the Guest-State
 * Area", and Vol. 3D, Appendix A.
 */
#include "vmx/vmx_priv.h"
#include "vmx/loader.h"

#define MSR_EFER            0xc0000080
#define MSR_PAT             0x277
#define CR0_PE              BIT(0)
#define CR0_ET              BIT(4)
#define CR0_NE              BIT(5)
#define CR0_NW              BIT(29)
#define CR0_CD              BIT(30)
#define CR0_PG              BIT(31)
#define CR4_PSE             BIT(4)
#define CR4_PAE             BIT(5)
#define CR4_VMXE            BIT(13)
#define RFLAGS_FIXED        BIT(1)
#define TSS_MIN_LIMIT       0x67

extern u8 boot_pml4[];

/* Sets a control word from what we want and what the CPU allows; a wanted
 * bit the CPU lacks was already refused by vmx_check_support(), so the only
 * bits lost here are optional ones. */
static u32 ctl(u32 wanted, u32 plain, u32 true_msr)
{
	return vmx_adjust_controls(wanted, vmx_ctls_msr(plain, true_msr));
}

static void setup_controls(struct vm *vm)
{
	u32 pin = ctl(PIN_BASED_EXT_INTR_EXITING | PIN_BASED_NMI_EXITING |
		      (boot_cfg.guest_timeout_ms ? PIN_BASED_PREEMPTION_TIMER : 0),
		      IA32_VMX_PINBASED_CTLS, IA32_VMX_TRUE_PINBASED_CTLS);
	/* CR3 loads and stores need no exits with EPT. CR8 needs none with
	 * the TPR shadow: the CPU reads and writes the guest's TPR in the
	 * virtual-APIC page itself (vapic_tpr(); SDM Vol. 3C, "Virtualizing
	 * MOV to CR8"), and with a TPR threshold of 0 a MOV to CR8 never
	 * exits ("TPR Virtualization"), as under KVM. A CPU without the TPR
	 * shadow exits on both instead (vmx/cr.c serves them from the same
	 * page). */
	u32 proc_base = PROC_BASED_HLT_EXITING | PROC_BASED_USE_IO_BITMAPS |
			PROC_BASED_USE_MSR_BITMAPS | PROC_BASED_MWAIT_EXITING |
			PROC_BASED_MONITOR_EXITING | PROC_BASED_ACTIVATE_SECONDARY_CONTROLS |
			PROC_BASED_USE_TSC_OFFSETTING | PROC_BASED_RDPMC_EXITING;
	u32 proc = ctl(proc_base | PROC_BASED_USE_TPR_SHADOW,
		       IA32_VMX_PROCBASED_CTLS, IA32_VMX_TRUE_PROCBASED_CTLS);
	if (!(proc & PROC_BASED_USE_TPR_SHADOW))
		proc = ctl(proc_base | PROC_BASED_CR8_LOAD_EXITING | PROC_BASED_CR8_STORE_EXITING,
			   IA32_VMX_PROCBASED_CTLS, IA32_VMX_TRUE_PROCBASED_CTLS);
	proc &= ~(PROC_BASED_CR3_LOAD_EXITING | PROC_BASED_CR3_STORE_EXITING) |
		(u32)rdmsr(IA32_VMX_PROCBASED_CTLS);	/* keep must-be-1 bits */
	u32 proc2 = vmx_adjust_controls(PROC_BASED2_ENABLE_EPT | PROC_BASED2_UNRESTRICTED_GUEST |
					PROC_BASED2_WBINVD_EXITING | PROC_BASED2_ENABLE_RDTSCP |
					PROC_BASED2_ENABLE_INVPCID,
					rdmsr(IA32_VMX_PROCBASED_CTLS2));
	/* The guest's CPUID offers RDTSCP and INVPCID only if proc2 lets
	 * them run (vmx/cpuid.c). */
	cpuid_vm_init(vm, proc2);
	/* "Save debug controls" and "load debug controls": DR7 and
	 * IA32_DEBUGCTL are the guest's own across exits. Without them every
	 * VM exit loads DR7 = 0x400 (SDM Vol. 3C, "Loading Host Control
	 * Registers, Debug Registers, MSRs") and the guest's breakpoints
	 * vanish. */
	u32 exit = ctl(VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_EFER | VM_EXIT_LOAD_EFER |
		       VM_EXIT_SAVE_PAT | VM_EXIT_LOAD_PAT | VM_EXIT_SAVE_DEBUG_CONTROLS,
		       IA32_VMX_EXIT_CTLS, IA32_VMX_TRUE_EXIT_CTLS);
	u32 entry = ctl(VM_ENTRY_LOAD_EFER | VM_ENTRY_LOAD_PAT | VM_ENTRY_LOAD_DEBUG_CONTROLS,
			IA32_VMX_ENTRY_CTLS, IA32_VMX_TRUE_ENTRY_CTLS);

	vmcs_write32(VMCS_PIN_BASED_CTLS, pin);
	vmcs_write32(VMCS_PROC_BASED_CTLS, proc);
	vmcs_write32(VMCS_PROC_BASED_CTLS2, proc2);
	vmcs_write32(VMCS_EXIT_CTLS, exit);
	vmcs_write32(VMCS_ENTRY_CTLS, entry & ~VM_ENTRY_IA32E_MODE_GUEST);
	vmcs_write32(VMCS_EXCEPTION_BITMAP, 0);
	/* The guest's TSC is the host's plus this offset (SDM Vol. 3C,
	 * "Timestamp Counter Offset and Multiplier"): RDTSC and RDTSCP run
	 * without exits; WRMSR to IA32_TSC or IA32_TSC_ADJUST moves it
	 * (vmx/msr.c). */
	vmcs_write64(VMCS_TSC_OFFSET, 0);
	vmcs_write32(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write32(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write32(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_write64(VMCS_IO_BITMAP_A, (u64)(uintptr_t)vm->io_bitmap);
	vmcs_write64(VMCS_IO_BITMAP_B, (u64)(uintptr_t)vm->io_bitmap + PAGE_SIZE);
	vmcs_write64(VMCS_MSR_BITMAP, (u64)(uintptr_t)vm->msr_bitmap);
	if (proc & PROC_BASED_USE_TPR_SHADOW) {
		vmcs_write64(VMCS_VIRTUAL_APIC_PAGE_ADDR, (u64)(uintptr_t)vm->vapic_page);
		vmcs_write32(VMCS_TPR_THRESHOLD, 0);
	}
	vmcs_write64(VMCS_EPT_POINTER, ept_eptp(&vm->ept));
	vmcs_write64(VMCS_LINK_POINTER, VMCS_LINK_POINTER_NONE);
	if (boot_cfg.guest_timeout_ms && !(pin & PIN_BASED_PREEMPTION_TIMER) && vm->index == 0)
		printk("vmx: this CPU has no VMX-preemption timer: guest_timeout=%llu cannot "
		       "be enforced\n", boot_cfg.guest_timeout_ms);
	if (pin & PIN_BASED_PREEMPTION_TIMER) {
		u64 rate = rdmsr(IA32_VMX_MISC) & VMX_MISC_PREEMPTION_TIMER_RATE_MASK;
		u64 ticks = (tsc_hz() / 1000 * boot_cfg.guest_timeout_ms) >> rate;
		vmcs_write32(VMCS_PREEMPTION_TIMER_VALUE, ticks > UINT32_MAX ? UINT32_MAX : (u32)ticks);
	}
}

/* The host state: this CPU as it is now (SDM "Host-State Area"). */
static void setup_host(void)
{
	struct percpu *c = this_cpu();
	struct { u16 limit; u64 base; } __packed idtr;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	vmcs_writenat(VMCS_HOST_CR0, read_cr0());
	vmcs_writenat(VMCS_HOST_CR3, read_cr3());
	vmcs_writenat(VMCS_HOST_CR4, read_cr4());
	vmcs_write16(VMCS_HOST_CS_SELECTOR, GDT_KERNEL_CS);
	vmcs_write16(VMCS_HOST_SS_SELECTOR, GDT_KERNEL_DS);
	vmcs_write16(VMCS_HOST_DS_SELECTOR, GDT_KERNEL_DS);
	vmcs_write16(VMCS_HOST_ES_SELECTOR, GDT_KERNEL_DS);
	vmcs_write16(VMCS_HOST_FS_SELECTOR, 0);
	vmcs_write16(VMCS_HOST_GS_SELECTOR, 0);
	vmcs_write16(VMCS_HOST_TR_SELECTOR, GDT_TSS);
	vmcs_writenat(VMCS_HOST_FS_BASE, 0);
	vmcs_writenat(VMCS_HOST_GS_BASE, (u64)(uintptr_t)c);	/* this_cpu() */
	vmcs_writenat(VMCS_HOST_TR_BASE, (u64)(uintptr_t)&c->tss);
	vmcs_writenat(VMCS_HOST_GDTR_BASE, (u64)(uintptr_t)c->gdt);
	vmcs_writenat(VMCS_HOST_IDTR_BASE, idtr.base);
	vmcs_write32(VMCS_HOST_IA32_SYSENTER_CS, 0);
	vmcs_writenat(VMCS_HOST_IA32_SYSENTER_ESP, 0);
	vmcs_writenat(VMCS_HOST_IA32_SYSENTER_EIP, 0);
	vmcs_write64(VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_write64(VMCS_HOST_IA32_PAT, rdmsr(MSR_PAT));
	/* trace=1: every exit through the full step (vmx/entry.asm). */
	vmcs_writenat(VMCS_HOST_RIP, (u64)(uintptr_t)(boot_cfg.trace ? vmx_exit_entry_full
								    : vmx_exit_entry));
}

static void setup_segment(u32 sel_enc, u32 base_enc, u32 limit_enc, u32 ar_enc,
			  u16 sel, u32 limit, u32 ar)
{
	vmcs_write16(sel_enc, sel);
	vmcs_writenat(base_enc, 0);
	vmcs_write32(limit_enc, limit);
	vmcs_write32(ar_enc, ar);
}

/* Multiboot "Machine state": EAX magic, EBX info block, CS/DS/ES/FS/GS/SS
 * flat 4 GiB read/execute and read/write, CR0.PG = 0, CR0.PE = 1, A20 on,
 * interrupts off. The GDTR is left empty, as the specification allows. */
static void setup_guest(struct vm *vm)
{
	u32 code = VMX_AR_TYPE_CODE_XR_ACCESSED | VMX_AR_S | VMX_AR_P | VMX_AR_DB | VMX_AR_G;
	u32 data = VMX_AR_TYPE_DATA_RW_ACCESSED | VMX_AR_S | VMX_AR_P | VMX_AR_DB | VMX_AR_G;

	setup_segment(VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT,
		      VMCS_GUEST_CS_AR_BYTES, 0x08, 0xffffffff, code);
	setup_segment(VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT,
		      VMCS_GUEST_SS_AR_BYTES, 0x10, 0xffffffff, data);
	setup_segment(VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT,
		      VMCS_GUEST_DS_AR_BYTES, 0x10, 0xffffffff, data);
	setup_segment(VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT,
		      VMCS_GUEST_ES_AR_BYTES, 0x10, 0xffffffff, data);
	setup_segment(VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT,
		      VMCS_GUEST_FS_AR_BYTES, 0x10, 0xffffffff, data);
	setup_segment(VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT,
		      VMCS_GUEST_GS_AR_BYTES, 0x10, 0xffffffff, data);
	/* SDM "Checks on Guest Segment Registers": TR must be a usable busy
	 * TSS even though the guest never uses it; LDTR may be unusable. */
	setup_segment(VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT,
		      VMCS_GUEST_TR_AR_BYTES, 0, TSS_MIN_LIMIT, VMX_AR_TYPE_TSS_BUSY | VMX_AR_P);
	setup_segment(VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_LDTR_LIMIT,
		      VMCS_GUEST_LDTR_AR_BYTES, 0, 0, VMX_AR_UNUSABLE);
	vmcs_writenat(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write32(VMCS_GUEST_GDTR_LIMIT, 0);
	vmcs_writenat(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write32(VMCS_GUEST_IDTR_LIMIT, 0);

	/* CR0/CR4: the guest sees its own values (read shadows); the bits VMX
	 * forces (CR0.NE, CR4.VMXE, and CD/NW which must stay clear) are
	 * owned by us through the guest/host masks, and PG too, so that we see
	 * paging turn on and can follow IA-32e mode (vmx/cr.c). */
	u64 cr0_fixed0 = rdmsr(IA32_VMX_CR0_FIXED0) & ~(CR0_PE | CR0_PG);
	u64 guest_cr0 = CR0_PE | CR0_ET;
	vm->vcpu.cr0_shadow_fixed = cr0_fixed0;
	vmcs_writenat(VMCS_CR0_GUEST_HOST_MASK, cr0_fixed0 | CR0_PG | CR0_CD | CR0_NW);
	vmcs_writenat(VMCS_CR0_READ_SHADOW, guest_cr0);
	vmcs_writenat(VMCS_GUEST_CR0, guest_cr0 | cr0_fixed0);
	/* CR4: also every bit the guest's CPUID does not offer, so that
	 * setting one exits and is refused with #GP (vmx/cr.c); and PSE and
	 * PAE, which change how a linear address translates without a write
	 * to memory or CR3: the fast-MMIO path's remembered store must hear
	 * of it (vmx/wprot.c). Guests set them once. */
	u64 cr4_fixed0 = rdmsr(IA32_VMX_CR4_FIXED0);
	vmcs_writenat(VMCS_CR4_GUEST_HOST_MASK,
		      cr4_fixed0 | CR4_VMXE | CR4_PSE | CR4_PAE | ~vm->cr4_allowed);
	vmcs_writenat(VMCS_CR4_READ_SHADOW, 0);
	vmcs_writenat(VMCS_GUEST_CR4, cr4_fixed0 | CR4_VMXE);
	vmcs_writenat(VMCS_GUEST_CR3, 0);
	vmcs_writenat(VMCS_GUEST_DR7, 0x400);
	vmcs_write64(VMCS_GUEST_IA32_EFER, 0);
	vmcs_write64(VMCS_GUEST_IA32_PAT, 0x0007040600070406ull);	/* power-up PAT */
	vmcs_write64(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write32(VMCS_GUEST_IA32_SYSENTER_CS, 0);
	vmcs_writenat(VMCS_GUEST_IA32_SYSENTER_ESP, 0);
	vmcs_writenat(VMCS_GUEST_IA32_SYSENTER_EIP, 0);
	vmcs_writenat(VMCS_GUEST_RSP, 0);
	vmcs_writenat(VMCS_GUEST_RIP, vm->entry_rip);
	vmcs_writenat(VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
	vmcs_writenat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write32(VMCS_GUEST_ACTIVITY_STATE, 0);

	memset(&vm->vcpu.regs, 0, sizeof(vm->vcpu.regs));
	vm->vcpu.regs.gpr[GUEST_RAX] = MB1_BOOTLOADER_MAGIC;
	vm->vcpu.regs.gpr[GUEST_RBX] = vm->mbi_gpa;
}

int vmcs_setup(struct vm *vm)
{
	struct vcpu *v = &vm->vcpu;
	u64 pa = (u64)(uintptr_t)v->vmcs;

	*(u32 *)v->vmcs = vmx_basic_revision(rdmsr(IA32_VMX_BASIC));
	if (vmx_vmclear(pa) != VMX_OK || vmx_vmptrld(pa) != VMX_OK) {
		printk("vmx: VMCLEAR/VMPTRLD of the VMCS at 0x%llx failed\n", pa);
		return -EIO;
	}
	setup_controls(vm);
	setup_host();
	setup_guest(vm);
	return 0;
}
