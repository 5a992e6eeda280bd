/*
 * vmx/mmio.c - EPT exits: guest-physical addresses that are not RAM. The
 * xAPIC page, IORAM, MMIO doorbells and unassigned addresses need the
 * faulting instruction decoded and emulated (emul/) against the MMIO bus.
 * Pages holding MMIO doorbells are EPT-misconfigured and exit as
 * EPT_MISCONFIG; vmx/run.c tries the fast path (no decoding) first and sends
 * everything else here. SDM Vol. 3C, "EPT Violations", "EPT Misconfigurations",
 * "Exit Qualification for EPT Violations".
 */
#include "vmx/vmx_priv.h"

void handle_ept_violation(struct vcpu *v, u64 qual)
{
	u64 gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	v->emulated++;
	if (vmmio_emulate(v, gpa, qual))
		return;
	vm_end(v->vm, VM_END_CRASH, 125);
}

