/*
 * vmx/mmio.c - EPT exits: guest-physical addresses that are not RAM. The
 * xAPIC page, IORAM, MMIO doorbells and unassigned addresses need the
 * faulting instruction decoded and emulated (emul/) against the MMIO bus.
 * Pages holding MMIO doorbells are EPT-misconfigured and exit as
 * EPT_MISCONFIG; vmx/run.c tries the fast path (no decoding) first and sends
 * everything else here. In RAM, the only EPT violations are writes to pages
 * the fast-MMIO path keeps write-protected (vmx/wprot.c). SDM Vol. 3C, "EPT
 * Violations", "EPT Misconfigurations", "Exit Qualification for EPT
 * Violations".
 */
#include "vmx/vmx_priv.h"

/*
 * An access to a guest-physical address that is not RAM: decode and emulate
 * the instruction (vmx/guestmem.c), which either completes it, or raises in
 * the guest the exception a real CPU would (#PF, #GP, #SS, #DE, and #UD for
 * what cannot be emulated with emul_fail=ud).
 *
 * An exit during event delivery (SDM Vol. 3C, "Information for VM Exits That
 * Occur During Event Delivery": IDT-vectoring information valid) came from
 * the CPU pushing an exception or interrupt frame, or reading the IDT or a
 * descriptor, in MMIO: no instruction made that access, so there is nothing
 * to emulate. KVM reports the same case to user space as an internal error
 * (KVM_INTERNAL_ERROR_DELIVERY_EV); doorbell stops the guest with the reason.
 */
static void emulate_violation(struct vcpu *v, u64 gpa, u32 vectoring, u64 qual)
{
	v->emulated++;
	if (vectoring & VECTORING_INFO_VALID) {
		printk("vm %u: delivering vector %u touched guest-physical 0x%llx, which is "
		       "not RAM (an IDT, GDT or stack in MMIO); event delivery is not emulated; "
		       "stopping the guest\n", v->vm->index, intr_info_vector(vectoring), gpa);
		vm_end(v->vm, VM_END_CRASH, 125);
		return;
	}
	if (vmmio_emulate(v, gpa, qual))
		return;
	vm_end(v->vm, VM_END_CRASH, 125);
}

/* In RAM: a write to a page vmx/wprot.c protects, now writable again, and
 * the guest retries the write (or the event delivery that made it). Out of
 * line, so that the MMIO case keeps its tail call. */
static __attribute__((noinline)) void ram_violation(struct vcpu *v, u64 gpa, u32 vectoring,
						    u64 qual)
{
	if (insn_cache_write_fault(v, gpa)) {
		if (vectoring & VECTORING_INFO_VALID)
			vcpu_reinject_vectoring(vectoring);
		return;
	}
	emulate_violation(v, gpa, vectoring, qual);
}

/* An EPT misconfiguration the fast path declined: a doorbell page, which
 * is never RAM (the doorbell window lies above it), so no write protection
 * to look for. */
void handle_ept_misconfig_full(struct vcpu *v)
{
	emulate_violation(v, vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS),
			  vmcs_read32(VMCS_IDT_VECTORING_INFO), 0);
}

void handle_ept_violation(struct vcpu *v, u64 qual)
{
	u64 gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	u32 vectoring = vmcs_read32(VMCS_IDT_VECTORING_INFO);

	if (unlikely(gpa < v->vm->ram_size))
		ram_violation(v, gpa, vectoring, qual);
	else
		emulate_violation(v, gpa, vectoring, qual);
}
