/*
 * vmx/exit.c - the vCPU's run loop and the exit-dispatch table (ACRN style:
 * `[EXIT_REASON_CPUID] = handle_cpuid`). An exit reason with no handler is a
 * broken contract: the VMCS is dumped and the guest stopped, never an
 * instruction silently skipped. Per-reason counters are printed when the guest
 * ends; trace=1 prints every exit. SDM Vol. 3C, "VM Exits", "Basic VM-Exit
 * Information", "Instructions That Cause VM Exits".
 */
#include "vmx/vmx_priv.h"

#define RFLAGS_IF_BIT           BIT(9)
#define EXC_UD                  6
#define EXC_GP                  13

void vcpu_skip_finish(struct vcpu *v, u64 rip, u32 intr, u64 rflags)
{
	/* Compatibility mode (IA-32e mode, CS.L = 0) wraps at 32 bits too. */
	if ((rip >> 32) && !(vmcs_read32(VMCS_GUEST_CS_AR_BYTES) & VMX_AR_L))
		rip = (u32)rip;
	(void)v;
	vmcs_writenat(VMCS_GUEST_RIP, rip);
	if (intr & (GUEST_INTR_BLOCKING_STI | GUEST_INTR_BLOCKING_MOV_SS))
		vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY_INFO,
			     intr & ~(GUEST_INTR_BLOCKING_STI | GUEST_INTR_BLOCKING_MOV_SS));
	/* SDM Vol. 3C, "Guest Non-Register State" and "Delivery of Pending
	 * Debug Exceptions after VM Entry": BS in the pending debug exceptions
	 * makes the CPU deliver the single-step #DB (with DR6.BS) right after
	 * VM entry, before the next instruction: where a real CPU delivers it
	 * after the instruction we completed. */
	if (rflags & RFLAGS_TF)
		vmcs_writenat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
			      vmcs_readnat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) | PENDING_DBG_BS);
}

static void vcpu_inject(u32 vector)
{
	vmcs_write32(VMCS_ENTRY_INTR_INFO, intr_info_hw_exception(vector));
	vcpu_fault_set_rf(vector);
	if (intr_vector_has_error_code(vector))
		vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0);
}

void vcpu_inject_gp(struct vcpu *v)
{
	(void)v;
	vcpu_inject(EXC_GP);
}

void vcpu_inject_ud(struct vcpu *v)
{
	(void)v;
	vcpu_inject(EXC_UD);
}

void vm_end(struct vm *vm, enum vm_end how, int status)
{
	if (vm->end != VM_END_NONE)
		return;
	vm->end = how;
	vm->status = status;
}

static void report_guest_state(struct vcpu *v)
{
	printk("vm %u: guest RIP 0x%llx RSP 0x%llx RFLAGS 0x%llx CR0 0x%llx CR3 0x%llx "
	       "CR4 0x%llx EFER 0x%llx\n", v->vm->index, vmcs_readnat(VMCS_GUEST_RIP),
	       vmcs_readnat(VMCS_GUEST_RSP), vmcs_readnat(VMCS_GUEST_RFLAGS),
	       guest_cr0(), vmcs_readnat(VMCS_GUEST_CR3),
	       guest_cr4(), vmcs_read64(VMCS_GUEST_IA32_EFER));
}

/* ---- handlers -------------------------------------------------------------- */

static void handle_hlt(struct vcpu *v, u64 qual)
{
	(void)qual;
	/* No interrupt is ever delivered to the guest: HLT with IF = 0 can
	 * never end, so the guest is stuck for good; with IF = 1 it resumes as
	 * after a spurious wake-up. */
	if (!(vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_IF_BIT)) {
		printk("vm %u: guest halted with interrupts disabled; it can never wake up\n",
		       v->vm->index);
		report_guest_state(v);
		vm_end(v->vm, VM_END_CRASH, 125);
		return;
	}
	vcpu_skip_instruction(v);
}

static void handle_skip(struct vcpu *v, u64 qual)
{
	(void)qual;
	vcpu_skip_instruction(v);	/* INVD, WBINVD: caches are coherent */
}

static void handle_xsetbv(struct vcpu *v, u64 qual)
{
	u64 *r = v->regs.gpr;
	u64 val = (r[GUEST_RDX] << 32) | (u32)r[GUEST_RAX];

	(void)qual;
	/* SDM "XSETBV": only XCR0; bit 0 (x87) set; AVX needs SSE; the three
	 * AVX-512 components together and only with AVX; nothing the guest's
	 * CPUID does not offer (vm->xcr0_allowed, vmx/cpuid.c). Anything
	 * else is #GP. */
	if ((u32)r[GUEST_RCX] != 0 || !(val & 1) || (val & ~v->vm->xcr0_allowed) ||
	    ((val & 4) && !(val & 2)) ||
	    ((val & 0xe0) && ((val & 0xe0) != 0xe0 || !(val & 4)))) {
		vcpu_inject_gp(v);
		return;
	}
	/* The host uses no extended state, so the guest's XCR0 simply stays. */
	write_cr4(read_cr4() | BIT(18));	/* CR4.OSXSAVE, needed for XSETBV */
	__asm__ volatile("xsetbv" :: "c"(0), "a"((u32)val), "d"((u32)(val >> 32)));
	vcpu_skip_instruction(v);
}

/* RDPMC at CPL 0 (or with CR4.PCE): CPUID offers no performance counters
 * (leaf 0xA reads zeros, PDCM is clear), so there is no counter to read:
 * #GP(0), as for an invalid counter number (SDM "RDPMC"). */
static void handle_rdpmc(struct vcpu *v, u64 qual)
{
	(void)qual;
	vcpu_inject_gp(v);
}

static void handle_triple_fault(struct vcpu *v, u64 qual)
{
	(void)qual;
	printk("vm %u: guest triple fault (shutdown); stopping it\n", v->vm->index);
	report_guest_state(v);
	vm_end(v->vm, VM_END_CRASH, 125);
}

static void handle_external_interrupt(struct vcpu *v, u64 qual)
{
	(void)v;
	(void)qual;
	/* The interrupt is still pending at the local APIC: open a window so
	 * the host's IDT takes it. */
	__asm__ volatile("sti; nop; cli");
}

static void handle_nmi_or_exception(struct vcpu *v, u64 qual)
{
	u32 info = vmcs_read32(VMCS_EXIT_INTR_INFO);
	(void)qual;
	if (intr_info_type(info) == INTR_TYPE_NMI) {
		printk("vm %u: NMI while the guest ran (ignored)\n", v->vm->index);
		return;
	}
	printk("vm %u: unexpected exception exit, vector %u\n", v->vm->index,
	       intr_info_vector(info));
	vmcs_dump();
	vm_end(v->vm, VM_END_CRASH, 125);
}

static void handle_init_signal(struct vcpu *v, u64 qual)
{
	(void)qual;
	/* Only a real INIT sent to this core can cause this exit; the guest's
	 * own INIT IPIs stop at the emulated APIC. Report and carry on. */
	printk("vm %u: INIT signal arrived at the guest core; ignored\n", v->vm->index);
}

static void handle_sipi(struct vcpu *v, u64 qual)
{
	(void)qual;
	printk("vm %u: SIPI arrived at the guest core; ignored\n", v->vm->index);
}

static void handle_preemption_timer(struct vcpu *v, u64 qual)
{
	(void)qual;
	printk("vm %u: guest ran %llu ms without a single VM exit (guest_timeout=%llu); "
	       "stopping it\n", v->vm->index, boot_cfg.guest_timeout_ms,
	       boot_cfg.guest_timeout_ms);
	report_guest_state(v);
	vm_end(v->vm, VM_END_TIMEOUT, 125);
}

static void handle_monitor_mwait(struct vcpu *v, u64 qual)
{
	(void)qual;
	vcpu_inject_ud(v);	/* CPUID does not offer MONITOR/MWAIT to guests */
}

const exit_handler_fn exit_handlers[VM_EXIT_COUNTERS] = {
	[EXIT_REASON_EXCEPTION_NMI]      = handle_nmi_or_exception,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = handle_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT]       = handle_triple_fault,
	[EXIT_REASON_INIT_SIGNAL]        = handle_init_signal,
	[EXIT_REASON_SIPI]               = handle_sipi,
	[EXIT_REASON_CPUID]              = handle_cpuid,
	[EXIT_REASON_HLT]                = handle_hlt,
	[EXIT_REASON_RDPMC]              = handle_rdpmc,
	[EXIT_REASON_INVD]               = handle_skip,
	[EXIT_REASON_VMCALL]             = handle_vmcall,
	[EXIT_REASON_CR_ACCESS]          = handle_cr_access,
	[EXIT_REASON_IO_INSTRUCTION]     = handle_io_exit,
	[EXIT_REASON_MSR_READ]           = handle_msr_read,
	[EXIT_REASON_MSR_WRITE]          = handle_msr_write,
	[EXIT_REASON_MWAIT]              = handle_monitor_mwait,
	[EXIT_REASON_MONITOR]            = handle_monitor_mwait,
	[EXIT_REASON_EPT_VIOLATION]      = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG]      = handle_ept_misconfig,
	[EXIT_REASON_PREEMPTION_TIMER]   = handle_preemption_timer,
	[EXIT_REASON_WBINVD]             = handle_skip,
	[EXIT_REASON_XSETBV]             = handle_xsetbv,
	[EXIT_REASON_TASK_SWITCH]        = handle_task_switch,
	[EXIT_REASON_GETSEC]             = handle_undefined_instruction,
	[EXIT_REASON_VMCLEAR]            = handle_undefined_instruction,
	[EXIT_REASON_VMLAUNCH]           = handle_undefined_instruction,
	[EXIT_REASON_VMPTRLD]            = handle_undefined_instruction,
	[EXIT_REASON_VMPTRST]            = handle_undefined_instruction,
	[EXIT_REASON_VMREAD]             = handle_undefined_instruction,
	[EXIT_REASON_VMRESUME]           = handle_undefined_instruction,
	[EXIT_REASON_VMWRITE]            = handle_undefined_instruction,
	[EXIT_REASON_VMXOFF]             = handle_undefined_instruction,
	[EXIT_REASON_VMXON]              = handle_undefined_instruction,
	[EXIT_REASON_INVEPT]             = handle_undefined_instruction,
	[EXIT_REASON_INVVPID]            = handle_undefined_instruction,
	[EXIT_REASON_VMFUNC]             = handle_undefined_instruction,
	[EXIT_REASON_SEAMCALL]           = handle_undefined_instruction,
	[EXIT_REASON_TDCALL]             = handle_undefined_instruction,
};

/*
 * trace=1, the teaching view: one line per exit, printed after its handler
 * ran, so it shows what the exit did: the value an IN read, a hypercall's
 * result, the CPUID leaf's answer, a fast-path doorbell. The emulator prints
 * its own "emulate ..." line from inside the handler, just before.
 */
static void trace_exit(struct vcpu *v, u32 reason, u64 qual, exit_handler_fn fn)
{
	u64 rip = vmcs_readnat(VMCS_GUEST_RIP);
	u64 gpa = 0;
	struct guest_regs before = v->regs;
	u64 fast_before = v->fastmmio_hits, pio_before = v->pio_hits;
	u64 emulated_before = v->emulated;
	const u64 *b = before.gpr, *a = v->regs.gpr;

	if (reason == EXIT_REASON_EPT_VIOLATION || reason == EXIT_REASON_EPT_MISCONFIG)
		gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	fn(v, qual);
	printk("trace: vm %u exit %-18s qual 0x%llx rip 0x%llx", v->vm->index,
	       vmx_exit_reason_name(reason), qual, rip);
	switch (reason) {
	case EXIT_REASON_IO_INSTRUCTION: {
		u64 mask = io_qual_size(qual) == 4 ? 0xffffffffull : (1ull << (io_qual_size(qual) * 8)) - 1;
		printk(" %s%s port 0x%x size %u", io_qual_is_in(qual) ? "in" : "out",
		       io_qual_is_string(qual) ? "s" : "", io_qual_port(qual), io_qual_size(qual));
		if (io_qual_is_string(qual))
			break;
		if (io_qual_is_in(qual))
			printk(" -> read 0x%llx", a[GUEST_RAX] & mask);
		else
			printk(" value 0x%llx", b[GUEST_RAX] & mask);
		if (v->pio_hits != pio_before)
			printk(" -> PIO doorbell, event %d signalled",
			       ioeventfd_pio_find(&v->vm->io, io_qual_port(qual),
						  io_qual_size(qual), (u32)b[GUEST_RAX]));
		break;
	}
	case EXIT_REASON_EPT_VIOLATION:
	case EXIT_REASON_EPT_MISCONFIG:
		printk(" gpa 0x%llx", gpa);
		if (v->fastmmio_hits != fast_before)
			printk(" -> fast-MMIO hit, event %d signalled, no emulation",
			       ioeventfd_fast_mmio_find(&v->vm->io, gpa));
		else if (v->emulated != emulated_before)
			printk(" -> emulated");
		else	/* vmx/wprot.c: a write to a write-protected page */
			printk(" -> write-protected page made writable, write retried");
		break;
	case EXIT_REASON_CPUID:
		printk(" leaf 0x%llx sub 0x%llx -> eax 0x%llx ebx 0x%llx ecx 0x%llx edx 0x%llx",
		       b[GUEST_RAX], b[GUEST_RCX], a[GUEST_RAX], a[GUEST_RBX], a[GUEST_RCX],
		       a[GUEST_RDX]);
		break;
	case EXIT_REASON_VMCALL: {
		static const char *const names[] = { "?", "IOEVENTFD", "EVENT_READ", "NOTIFY" };
		u64 nr = b[GUEST_RAX];
		printk(" %s rbx 0x%llx -> %lld", nr < ARRAY_SIZE(names) ? names[nr] : "unknown",
		       b[GUEST_RBX], (long long)a[GUEST_RAX]);
		break;
	}
	case EXIT_REASON_MSR_READ:
		printk(" msr 0x%llx -> 0x%llx", b[GUEST_RCX] & 0xffffffffull,
		       (a[GUEST_RDX] << 32) | (a[GUEST_RAX] & 0xffffffffull));
		break;
	case EXIT_REASON_MSR_WRITE:
		printk(" msr 0x%llx value 0x%llx", b[GUEST_RCX] & 0xffffffffull,
		       (b[GUEST_RDX] << 32) | (b[GUEST_RAX] & 0xffffffffull));
		break;
	}
	printk("\n");
}

static void report_entry_failure(struct vcpu *v, u32 reason)
{
	u64 qual = vmcs_readnat(VMCS_EXIT_QUALIFICATION);
	u32 basic = exit_reason_basic(reason);
	printk("vm %u: VM entry failed: exit reason %u (%s), qualification %llu: %s\n",
	       v->vm->index, basic, vmx_exit_reason_name(basic), qual,
	       vmx_entry_failure_name(basic, qual));
	vmcs_dump();
}

void vcpu_report_instruction_error(struct vcpu *v, int r)
{
	if (r == VMX_FAIL_INVALID) {
		printk("vm %u: %s failed with VMfailInvalid (no current VMCS)\n",
		       v->vm->index, v->launched ? "VMRESUME" : "VMLAUNCH");
		return;
	}
	u32 err = vmcs_read32(VMCS_VM_INSTRUCTION_ERROR);
	printk("vm %u: %s failed: VM-instruction error %u: %s\n", v->vm->index,
	       v->launched ? "VMRESUME" : "VMLAUNCH", err, vmx_instruction_error_name(err));
	vmcs_dump();
}

void vcpu_exit_slow(struct vcpu *v, u32 reason)
{
	struct vm *vm = v->vm;

	if (exit_reason_is_entry_failure(reason)) {
		report_entry_failure(v, reason);
		vm_end(vm, VM_END_CRASH, 125);
		return;
	}
	u32 basic = exit_reason_basic(reason);
	exit_handler_fn fn = basic < VM_EXIT_COUNTERS ? exit_handlers[basic] : NULL;
	if (!fn) {
		printk("vm %u: VM exit %u (%s) has no handler; stopping the guest\n",
		       vm->index, basic, vmx_exit_reason_name(basic));
		vmcs_dump();
		vm_end(vm, VM_END_CRASH, 125);
		return;
	}
	v->exits[basic]++;
	u64 qual = vmcs_readnat(VMCS_EXIT_QUALIFICATION);
	if (boot_cfg.trace)
		trace_exit(v, basic, qual, fn);
	else
		fn(v, qual);
}

void vcpu_print_exit_counts(struct vcpu *v)
{
	u64 total = 0;
	for (u32 i = 0; i < VM_EXIT_COUNTERS; i++)
		total += v->exits[i];
	printk("vm %u: %llu VM exits:", v->vm->index, total);
	for (u32 i = 0; i < VM_EXIT_COUNTERS; i++)
		if (v->exits[i])
			printk(" %s=%llu", vmx_exit_reason_name(i), v->exits[i]);
	printk("\n");
	printk("vm %u: doorbells on the fast paths: fast-MMIO %llu, PIO %llu; "
	       "instructions emulated: %llu\n", v->vm->index, v->fastmmio_hits,
	       v->pio_hits, v->emulated);
	if (v->insn_cache.fills)
		printk("vm %u: fast-MMIO stores remembered with their pages write-protected: "
		       "%llu, dropped on a write: %llu\n", v->vm->index, v->insn_cache.fills,
		       v->insn_cache.faults);
	if (boot_cfg.fastmmio_len == FASTMMIO_LEN_CHECK)
		printk("vm %u: fastmmio_len=check: VM_EXIT_INSTRUCTION_LEN disagreed with "
		       "the decoded length %llu times in %llu fast-MMIO hits\n",
		       v->vm->index, v->len_disagree, v->fastmmio_hits);
}
