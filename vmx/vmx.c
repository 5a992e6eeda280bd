/*
 * vmx/vmx.c - deciding whether this CPU can run doorbell, and turning VMX on.
 * SDM Vol. 3C, "Discovering Support for VMX", "Enabling and Entering VMX
 * Operation", "Restrictions on VMX Operation" (the fixed CR0/CR4 bits), and
 * Vol. 3D, Appendix A "VMX Capability Reporting Facility".
 *
 * Every refusal names the missing feature: under QEMU TCG (no VMX) this is the
 * expected outcome, a clear message and exit status 125.
 */
#include "vmx/vmx_priv.h"

#define CPUID_1_ECX_VMX   BIT(5)
#define CR4_VMXE          BIT(13)

static u64 vmx_basic;
static u8 vmxon_regions[MAX_CPUS][PAGE_SIZE] __aligned(PAGE_SIZE);

/* The IA32_VMX_*_CTLS MSR that governs a control word: the TRUE_ variant
 * when IA32_VMX_BASIC bit 55 says it exists (Appendix A.2). */
u64 vmx_ctls_msr(u32 plain, u32 true_msr)
{
	return rdmsr((vmx_basic & VMX_BASIC_TRUE_CTLS) ? true_msr : plain);
}

static bool require(bool ok, const char *what, int *missing)
{
	if (!ok) {
		printk("vmx: this CPU cannot run doorbell: %s\n", what);
		(*missing)++;
	}
	return ok;
}

int vmx_check_support(void)
{
	u32 a, b, c, d;
	int missing = 0;

	cpuid_count(1, 0, &a, &b, &c, &d);
	if (!require(c & CPUID_1_ECX_VMX, "no VMX (CPUID.1:ECX bit 5 is clear; "
		     "QEMU TCG never offers it, use Bochs or KVM with nested VMX)", &missing))
		return -EOPNOTSUPP;

	u64 fc = rdmsr(IA32_FEATURE_CONTROL);
	if (fc & FEATURE_CONTROL_LOCK)
		require(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX,
			"IA32_FEATURE_CONTROL is locked with VMX outside SMX off "
			"(enable VT-x in the firmware setup)", &missing);

	vmx_basic = rdmsr(IA32_VMX_BASIC);
	require(vmx_basic_vmcs_size(vmx_basic) <= PAGE_SIZE,
		"VMCS region larger than 4 KiB (IA32_VMX_BASIC)", &missing);
	require(vmx_basic_mem_type(vmx_basic) == VMX_BASIC_MEM_TYPE_WB,
		"VMCS memory type is not write-back (IA32_VMX_BASIC)", &missing);

	u64 proc = vmx_ctls_msr(IA32_VMX_PROCBASED_CTLS, IA32_VMX_TRUE_PROCBASED_CTLS);
	require(vmx_controls_ok(PROC_BASED_ACTIVATE_SECONDARY_CONTROLS, proc),
		"no secondary processor-based controls", &missing);
	require(vmx_controls_ok(PROC_BASED_USE_IO_BITMAPS | PROC_BASED_USE_MSR_BITMAPS |
				PROC_BASED_HLT_EXITING, proc),
		"no I/O bitmaps, MSR bitmaps or HLT exiting", &missing);
	if (proc & ((u64)PROC_BASED_ACTIVATE_SECONDARY_CONTROLS << 32)) {
		u64 proc2 = rdmsr(IA32_VMX_PROCBASED_CTLS2);
		require(vmx_controls_ok(PROC_BASED2_ENABLE_EPT, proc2), "no EPT", &missing);
		require(vmx_controls_ok(PROC_BASED2_UNRESTRICTED_GUEST, proc2),
			"no unrestricted guest (needed to start guests with paging off)", &missing);
		if (proc2 & ((u64)PROC_BASED2_ENABLE_EPT << 32)) {
			u64 ept = rdmsr(IA32_VMX_EPT_VPID_CAP);
			require(ept & VMX_EPT_CAP_PAGE_WALK_4, "EPT without 4-level page walks", &missing);
			require(ept & VMX_EPT_CAP_MEM_TYPE_WB, "EPT without write-back memory type", &missing);
			require(ept & VMX_EPT_CAP_INVEPT, "no INVEPT", &missing);
			require(ept & (VMX_EPT_CAP_INVEPT_SINGLE_CONTEXT | VMX_EPT_CAP_INVEPT_ALL_CONTEXT),
				"INVEPT without single- or all-context invalidation", &missing);
		}
	}
	u64 exit = vmx_ctls_msr(IA32_VMX_EXIT_CTLS, IA32_VMX_TRUE_EXIT_CTLS);
	require(vmx_controls_ok(VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_EFER |
				VM_EXIT_LOAD_EFER, exit),
		"no 64-bit host or EFER save/load on VM exit", &missing);
	u64 entry = vmx_ctls_msr(IA32_VMX_ENTRY_CTLS, IA32_VMX_TRUE_ENTRY_CTLS);
	require(vmx_controls_ok(VM_ENTRY_LOAD_EFER | VM_ENTRY_IA32E_MODE_GUEST, entry),
		"no EFER load on VM entry", &missing);

	if (missing)
		return -EOPNOTSUPP;
	printk("vmx: VMCS revision 0x%x, EPT 4-level write-back, unrestricted guest%s\n",
	       vmx_basic_revision(vmx_basic),
	       (vmx_basic & VMX_BASIC_TRUE_CTLS) ? ", TRUE control MSRs" : "");
	return 0;
}

int vmx_cpu_on(void)
{
	u32 cpu = this_cpu_index();
	u64 fc = rdmsr(IA32_FEATURE_CONTROL);

	/* Firmware normally locks this MSR; if not, allow VMXON and lock it
	 * (SDM Vol. 3C, "Enabling and Entering VMX Operation"). */
	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON_OUTSIDE_SMX);

	/* SDM "Restrictions on VMX Operation": CR0 and CR4 must hold the bits
	 * IA32_VMX_CR*_FIXED0 sets and no bit IA32_VMX_CR*_FIXED1 clears. */
	u64 cr0 = (read_cr0() | rdmsr(IA32_VMX_CR0_FIXED0)) & rdmsr(IA32_VMX_CR0_FIXED1);
	u64 cr4 = (read_cr4() | CR4_VMXE | rdmsr(IA32_VMX_CR4_FIXED0)) & rdmsr(IA32_VMX_CR4_FIXED1);
	write_cr0(cr0);
	write_cr4(cr4);

	u8 *region = vmxon_regions[cpu];
	*(u32 *)region = vmx_basic_revision(rdmsr(IA32_VMX_BASIC));
	int r = vmx_vmxon((u64)(uintptr_t)region);
	if (r != VMX_OK) {
		printk("vmx: cpu %u: VMXON failed (%s)\n", cpu,
		       r == VMX_FAIL_INVALID ? "VMfailInvalid: bad VMXON region or already on"
					     : "VMfailValid");
		return -EIO;
	}
	return 0;
}

void vmcs_access_failed(const char *op, u64 enc)
{
	u64 cur = ~0ull, err = 0;
	u64 e = VMCS_VM_INSTRUCTION_ERROR;

	/* SDM Vol. 3C, "VMPTRST": all ones when there is no current VMCS, the
	 * VMfailInvalid case; otherwise it was VMfailValid, with its number in
	 * the VM-instruction error field. */
	__asm__ volatile("vmptrst %0" : "=m"(cur));
	if (cur != ~0ull)
		__asm__ volatile("vmread %1, %0" : "=r"(err) : "r"(e) : "cc");
	panic("%s of VMCS field 0x%llx failed: %s (error %llu: %s)\n", op, enc,
	      cur == ~0ull ? "no current VMCS" : "VMfailValid",
	      err, vmx_instruction_error_name((u32)err));
}

void vmcs_dump(void)
{
	printk("---- VMCS dump (cpu %u) ----\n", this_cpu_index());
	for (size_t i = 0; i < vmcs_dump_fields_count; i++) {
		const struct vmcs_field_desc *f = &vmcs_dump_fields[i];
		u64 v;
		u8 bad;
		/* A field this CPU does not implement fails; print, don't stop. */
		__asm__ volatile("vmread %2, %0; setna %1" : "=r"(v), "=r"(bad) : "r"((u64)f->enc) : "cc");
		if (bad)
			printk("  %-36s (not supported)\n", f->name);
		else
			printk("  %-36s 0x%llx\n", f->name, v);
	}
	printk("---- end of VMCS dump ----\n");
}
