/*
 * vmx/mmio.c - EPT exits: guest-physical addresses that are not RAM. The
 * xAPIC page, IORAM, MMIO doorbells and unassigned addresses need the
 * faulting instruction decoded and emulated (emul/) against the MMIO bus.
 * Pages holding MMIO doorbells are EPT-misconfigured and exit as
 * EPT_MISCONFIG; that exit will become the fast path (no decoding) and takes
 * the full path for now. SDM Vol. 3C, "EPT Violations", "EPT Misconfigurations",
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

/* Only pages holding MMIO doorbells are misconfigured (vmx/vm.c). For now
 * the exit takes the full path, decode and emulate against the MMIO bus, on
 * which the doorbells sit; the fast path (FAST_MMIO lookup by address, no
 * decoding) comes with the fast-MMIO work. */
void handle_ept_misconfig(struct vcpu *v, u64 qual)
{
	handle_ept_violation(v, qual);
}
