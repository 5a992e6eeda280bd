/*
 * vmx/dispatch.c - one VM exit, in two steps that entry.asm calls:
 *
 *   vcpu_exit_fast(v)    with only the guest's RAX, RCX, RDX, RBX, RSI, RDI,
 *                        R8 and R9 stored in v->regs: the doorbell and null
 *                        exits (vmx/hotpath.h), which need no other register.
 *                        The guest's RBP and R12-R15 are still in the CPU's
 *                        registers, where the System V ABI keeps them for us
 *                        (this is an ordinary C function, so it preserves
 *                        them), and so are R10 and R11, which the hypervisor
 *                        is compiled never to use (-ffixed-r10 -ffixed-r11):
 *                        entry.asm neither stores nor reloads any of them.
 *   vcpu_handle_exit(v)  everything else, with every register stored (the
 *                        emulator may name any of them).
 *
 * vcpu_exit_fast changes nothing when it declines (EXIT_FULL) but the exit
 * counter: the exit is then handled by vcpu_handle_exit exactly as if the
 * fast step did not exist. With trace=1 only vcpu_handle_exit runs.
 */
#include "vmx/hotpath.h"

/*
 * One exit handler of vcpu_exit_fast each, out of line: each is a separate
 * function so that the compiler allocates its registers alone, and the
 * doorbell and null handlers need no callee-saved register and no stack
 * frame; vcpu_exit_fast reaches them by a tail jump.
 */
static __attribute__((noinline)) int exit_fast_io(struct vcpu *v)
{
	v->exits[EXIT_REASON_IO_INSTRUCTION]++;
	return fast_pio(v, vmcs_readnat(VMCS_EXIT_QUALIFICATION));
}

/* One fast-MMIO handler per length source (fastmmio_len=) and, for the
 * decoded ones, per guest mode (outside or in IA-32e mode: only outside
 * does the remembered store's CS.base need comparing), each with both
 * constants: the choice is made when they change, not on every exit. */
static __attribute__((noinline)) int exit_fast_mmio_decode(struct vcpu *v)
{
	v->exits[EXIT_REASON_EPT_MISCONFIG]++;
	return fast_mmio(v, FASTMMIO_LEN_DECODE, false);
}

static __attribute__((noinline)) int exit_fast_mmio_decode_ia32e(struct vcpu *v)
{
	v->exits[EXIT_REASON_EPT_MISCONFIG]++;
	return fast_mmio(v, FASTMMIO_LEN_DECODE, true);
}

static __attribute__((noinline)) int exit_fast_mmio_vmcs(struct vcpu *v)
{
	v->exits[EXIT_REASON_EPT_MISCONFIG]++;
	return fast_mmio(v, FASTMMIO_LEN_VMCS, false);
}

static __attribute__((noinline)) int exit_fast_mmio_check(struct vcpu *v)
{
	v->exits[EXIT_REASON_EPT_MISCONFIG]++;
	return fast_mmio(v, FASTMMIO_LEN_CHECK, false);
}

static __attribute__((noinline)) int exit_fast_mmio_check_ia32e(struct vcpu *v)
{
	v->exits[EXIT_REASON_EPT_MISCONFIG]++;
	return fast_mmio(v, FASTMMIO_LEN_CHECK, true);
}

static __attribute__((noinline)) int exit_fast_cpuid(struct vcpu *v)
{
	v->exits[EXIT_REASON_CPUID]++;
	cpuid_exit(v);
	return EXIT_RESUME;
}

static __attribute__((noinline)) int exit_fast_vmcall(struct vcpu *v)
{
	v->exits[EXIT_REASON_VMCALL]++;
	return vmcall_exit(v);
}

/* Every other reason: the full path (vcpu_handle_exit counts it). */
static int exit_fast_decline(struct vcpu *v)
{
	(void)v;
	return EXIT_FULL;
}

void vcpu_exit_fast_init(struct vcpu *v)
{
	for (u32 r = 0; r < EXIT_FAST_TABLE; r++)
		v->exit_fast[r] = exit_fast_decline;
	v->exit_fast[EXIT_REASON_IO_INSTRUCTION] = exit_fast_io;
	vcpu_exit_fast_mmio_pick(v);
	v->exit_fast[EXIT_REASON_CPUID] = exit_fast_cpuid;
	v->exit_fast[EXIT_REASON_VMCALL] = exit_fast_vmcall;
}

void vcpu_exit_fast_mmio_pick(struct vcpu *v)
{
	int (*handler)(struct vcpu *v);

	if (boot_cfg.fastmmio_len == FASTMMIO_LEN_VMCS)
		handler = exit_fast_mmio_vmcs;
	else if (boot_cfg.fastmmio_len == FASTMMIO_LEN_CHECK)
		handler = v->lma ? exit_fast_mmio_check_ia32e : exit_fast_mmio_check;
	else
		handler = v->lma ? exit_fast_mmio_decode_ia32e : exit_fast_mmio_decode;
	v->exit_fast[EXIT_REASON_EPT_MISCONFIG] = handler;
}

/*
 * The exits a doorbell or a null round trip causes: EXIT_RESUME when handled,
 * EXIT_STOP when handled and the VM has ended, EXIT_FULL (nothing done but
 * the count) for everything else: other reasons (a failed entry's has bit
 * 31 set, so it is past the table), a doorbell table miss. A table, not a
 * chain of compares: every reason costs one bound check, one load and one
 * jump. The four fast handlers count their reason, once; vcpu_handle_exit
 * counts the others. Not called with trace=1 (vmx/entry.asm).
 */
int vcpu_exit_fast(struct vcpu *v)
{
	/* Each exit is a quiescent point for the VM's I/O buses: this vCPU
	 * holds no bus array from before it (iobus grace periods). */
	iobus_reader_quiescent(&vcpu_vm(v)->io.ep, 0);
	u64 reason = vmcs_read32_u64(VMCS_EXIT_REASON);

	if (unlikely(reason >= EXIT_FAST_TABLE))
		return EXIT_FULL;
	return v->exit_fast[reason](v);
}

/*
 * Every exit vcpu_exit_fast declined, with all the guest's registers in
 * v->regs. Returns true to enter the guest again.
 */
bool vcpu_handle_exit(struct vcpu *v)
{
	struct vm *vm = v->vm;
	u32 reason = vmcs_read32(VMCS_EXIT_REASON);
	exit_handler_fn fn;

	/* Flag bits (a failed entry has bit 31) make the reason too large;
	 * trace=1 sends every exit through the table's trace view. */
	if (unlikely(reason >= v->fast_reasons)) {
		vcpu_exit_slow(v, reason);
		return vm->end == VM_END_NONE;
	}
	u64 qual = vmcs_readnat(VMCS_EXIT_QUALIFICATION);
	switch (reason) {
	/* Counted by their fast handlers (vcpu_exit_fast), which declined them
	 * (CPUID and VMCALL they never decline). */
	case EXIT_REASON_EPT_MISCONFIG:
		handle_ept_misconfig_full(v);	/* not a fast-MMIO doorbell */
		break;
	case EXIT_REASON_IO_INSTRUCTION:
		handle_io_instruction(v, qual);	/* not a PIO doorbell */
		break;
	default:
		v->exits[reason]++;
		fn = exit_handlers[reason];
		if (likely(fn))
			fn(v, qual);
		else
			vcpu_exit_slow(v, reason);
	}
	return vm->end == VM_END_NONE;
}
