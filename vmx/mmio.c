/*
 * vmx/mmio.c - EPT exits: guest-physical addresses that are not RAM. The
 * xAPIC page and unassigned addresses need the faulting instruction decoded
 * and emulated (emul/); EPT-misconfiguration exits are the fast-MMIO
 * doorbell path. SDM Vol. 3C, "EPT Violations", "EPT Misconfigurations",
 * "Exit Qualification for EPT Violations".
 */
#include "vmx/vmx_priv.h"

void handle_ept_violation(struct vcpu *v, u64 qual)
{
	u64 gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	if (vmmio_emulate(v, gpa, qual))
		return;
	vm_end(v->vm, VM_END_CRASH, 125);
}

void handle_ept_misconfig(struct vcpu *v, u64 qual)
{
	u64 gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	(void)qual;
	printk("vm %u: EPT misconfiguration at guest-physical 0x%llx, but no doorbell "
	       "page is ever marked so yet; stopping the guest\n", v->vm->index, gpa);
	vmcs_dump();
	vm_end(v->vm, VM_END_CRASH, 125);
}
