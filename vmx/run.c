/*
 * vmx/run.c - the vCPU's run loop and the doorbell fast paths.
 *
 * Every VM exit comes back here. The two exits a doorbell causes are taken
 * first, before the generic exit-handler table (vmx/exit.c), KVM's
 * "fastpath" idea (vmx_exit_handlers_fastpath): each touches one lookup
 * table, signals the event (service/), skips the instruction and re-enters.
 *
 *   - EPT misconfiguration: only pages holding MMIO doorbells are
 *     misconfigured (vmx/vm.c). GUEST_PHYSICAL_ADDRESS is exact to the byte,
 *     so a length-0 doorbell is found by address alone, with no instruction
 *     emulation: "MMIO as fast as PIO". Only the instruction's length and
 *     direction are needed (fastmmio_len=decode|vmcs|check).
 *   - OUT to an I/O port: the exit qualification gives port and size, RAX
 *     the value: a PIO doorbell is one table lookup.
 *
 * Anything else (no doorbell, a read, a read-modify-write, an exit during
 * event delivery, an instruction the lean decode does not know) takes the
 * generic path, which decodes and emulates in full. SDM Vol. 3C, "EPT
 * Misconfigurations", "Exit Qualification for I/O Instructions", "VM-Exit
 * Instruction Length", "Information for VM Exits During Event Delivery".
 */

#include "vmx/hotpath.h"

/* The exits vcpu_handle_exit (vmx/dispatch.c) takes inline, as the exit
 * table's handlers: for trace=1 and for the slow path. */
void handle_ept_misconfig(struct vcpu *v, u64 qual)
{
	if (fast_mmio(v))
		return;
	handle_ept_violation(v, qual);
}

void handle_io_exit(struct vcpu *v, u64 qual)
{
	if (fast_pio(v, qual))
		return;
	handle_io_instruction(v, qual);
}

/* The same, for the exit table (trace=1 and the slow path). */
void handle_cpuid(struct vcpu *v, u64 qual)
{
	(void)qual;
	cpuid_exit(v);
}

void handle_vmcall(struct vcpu *v, u64 qual)
{
	(void)qual;
	vmcall_exit(v);
}

void vcpu_run(struct vcpu *v)
{
	v->fast_reasons = boot_cfg.trace ? 0 : VM_EXIT_COUNTERS;
	int r = vmx_run(v);
	if (r != VMX_OK) {
		v->launched = r > VMX_FAIL_RESUMED;
		if (v->launched)
			r -= VMX_FAIL_RESUMED;
		vcpu_report_instruction_error(v, r);
		vm_end(v->vm, VM_END_CRASH, 125);
	}
}
