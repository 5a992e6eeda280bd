/*
 * vmx/dispatch.c - one VM exit: vcpu_handle_exit(), which entry.asm calls
 * after every exit with the guest's registers saved, and nothing else.
 *
 * This file is compiled with -fcall-used-rbx
 * -fcall-used-r12 ... -fcall-used-r15 (see the Makefile): entry.asm reloads
 * every general register from v->regs after the call, so vcpu_handle_exit
 * need not preserve the host's callee-saved registers, and saving them
 * would cost every exit about fifteen instructions. The flags make those
 * registers caller-saved for this file only, which is why it defines
 * nothing any C code calls: its callees (in other files) still preserve
 * them, which is merely more than this file assumes.
 */
#include "vmx/hotpath.h"

/*
 * One VM exit, called by entry.asm with the guest's registers saved in
 * v->regs and interrupts off. The doorbell exits are tested first and their
 * handlers inlined here; every other reason goes through the table. Returns
 * true to enter the guest again.
 */
bool vcpu_handle_exit(struct vcpu *v)
{
	struct vm *vm = v->vm;

	/* Each exit is a quiescent point for the VM's I/O buses: this vCPU
	 * holds no bus array from before it (iobus grace periods). */
	iobus_reader_quiescent(&vm->io.ep, 0);
	u32 reason = vmcs_read32(VMCS_EXIT_REASON);
	exit_handler_fn fn;

	/* Flag bits (a failed entry has bit 31) make the reason too large;
	 * trace=1 sends every exit through the table's trace view. */
	if (unlikely(reason >= v->fast_reasons)) {
		vcpu_exit_slow(v, reason);
		return vm->end == VM_END_NONE;
	}
	v->exits[reason]++;
	switch (reason) {
	case EXIT_REASON_EPT_MISCONFIG:
		if (!fast_mmio(v))
			handle_ept_violation(v, 0);	/* qualification 0 */
		break;
	case EXIT_REASON_IO_INSTRUCTION: {
		u64 qual = vmcs_readnat(VMCS_EXIT_QUALIFICATION);
		if (!fast_pio(v, qual))
			handle_io_instruction(v, qual);
		break;
	}
	case EXIT_REASON_CPUID:
		cpuid_exit(v);
		break;
	case EXIT_REASON_VMCALL:
		vmcall_exit(v);
		break;
	default:
		fn = exit_handlers[reason];
		if (likely(fn))
			fn(v, vmcs_readnat(VMCS_EXIT_QUALIFICATION));
		else
			vcpu_exit_slow(v, reason);
	}
	return vm->end == VM_END_NONE;
}

