/*
 * vmx/undef.c - exits for instructions the guest cannot have. In VMX
 * non-root operation the VMX instructions, GETSEC, SEAMCALL and TDCALL exit
 * unconditionally (SDM Vol. 3C, "Instructions That Cause VM Exits
 * Unconditionally"), but CPUID hides VMX (and the guest's CR4.VMXE reads 0),
 * so a real CPU without VMX would raise #UD for each, and so does this file:
 * the guest gets #UD at the instruction, the log names it (rate-limited), and
 * the VM goes on. KVM does the same for a guest without nested VMX
 * (handle_vmx_instruction -> kvm_queue_exception(vcpu, UD_VECTOR)).
 *
 * Which exits a guest can cause, from SDM Vol. 3D, Appendix C "VMX Basic
 * Exit Reasons", given the controls vmx/vmcs.c sets:
 *   0 exception or NMI (exception bitmap 0: NMI only), 1 external interrupt,
 *   2 triple fault, 3 INIT, 4 SIPI, 9 task switch, 10 CPUID, 11 GETSEC,
 *   12 HLT, 13 INVD, 18 VMCALL, 19-27 VMCLEAR VMLAUNCH VMPTRLD VMPTRST VMREAD
 *   VMRESUME VMWRITE VMXOFF VMXON, 28 control-register accesses (CR0, CR4,
 *   CR8), 30 I/O, 31/32 RDMSR/WRMSR, 36 MWAIT, 39 MONITOR, 48 EPT violation,
 *   49 EPT misconfiguration, 50 INVEPT, 52 VMX-preemption timer, 53 INVVPID,
 *   54 WBINVD, 55 XSETBV, 59 VMFUNC (only with "enable VM functions", which
 *   is off: the CPU raises #UD itself; handled anyway), 76 SEAMCALL and
 *   77 TDCALL (on CPUs with TDX).
 * The others need a control doorbell leaves clear (interrupt/NMI window,
 * INVLPG, RDPMC, RDTSC(P), MOV DR, MTF, PAUSE, TPR shadow, APIC
 * virtualization, descriptor-table exiting, RDRAND, RDSEED, INVPCID exiting,
 * ENCLS/ENCLV, PML, XSAVES, PCONFIG, SPP, user wait, LOADIWKEY, ENQCMD, bus
 * lock, instruction timeout), SMM (5, 6, 17 RSM), or are VM-entry failures
 * (33, 34, 41, reported by vcpu_run). Such an exit still has no handler: it
 * would be a broken contract, dumped and stopped.
 */
#include "vmx/vmx_priv.h"

/* SDM Vol. 3C, "Exit Qualification for Task Switches" */
#define TS_QUAL_SELECTOR_MASK  0xffffull	/* bits 15:0: the new TSS's selector */
#define TS_QUAL_SOURCE_SHIFT   30		/* bits 31:30: what started it */
#define TS_QUAL_SOURCE_MASK    3

/* Reports per VM before the log goes quiet. */
#define UNDEF_REPORTS  16

static u32 undef_reported[MAX_CPUS];

/* One handler for every instruction that must look absent: #UD at its RIP
 * (the instruction does not complete, RIP stays). */
void handle_undefined_instruction(struct vcpu *v, u64 qual)
{
	u32 basic = exit_reason_basic(vmcs_read32(VMCS_EXIT_REASON));
	u32 i = v->vm->index < MAX_CPUS ? v->vm->index : 0;

	(void)qual;
	if (undef_reported[i] < UNDEF_REPORTS) {
		undef_reported[i]++;
		printk("vm %u: guest executed %s at RIP 0x%llx: #UD (this CPU offers no such "
		       "instruction to guests)%s\n", v->vm->index, vmx_exit_reason_name(basic),
		       vmcs_readnat(VMCS_GUEST_RIP),
		       undef_reported[i] == UNDEF_REPORTS ? "; further ones not logged" : "");
	}
	vcpu_inject_ud(v);
}

/*
 * A task switch (CALL/JMP to a TSS or task gate, a task-gate interrupt, IRET
 * with NT = 1) exits unconditionally (SDM Vol. 3C, "Task Switches" under
 * "Instructions That Cause VM Exits Unconditionally"; exit qualification in
 * "Exit Qualification for Task Switches"). doorbell does not emulate
 * hardware task switching (SDM Vol. 3A, "Task Switching"), so the guest is
 * stopped with the reason; it is a handled exit (no VMCS dump), not a
 * silently skipped instruction.
 */
void handle_task_switch(struct vcpu *v, u64 qual)
{
	static const char *const sources[] = { "CALL", "IRET", "JMP", "task gate in IDT" };
	printk("vm %u: guest task switch to TSS selector 0x%llx by %s at RIP 0x%llx: "
	       "hardware task switching is not emulated; stopping the guest\n",
	       v->vm->index, qual & TS_QUAL_SELECTOR_MASK,
	       sources[(qual >> TS_QUAL_SOURCE_SHIFT) & TS_QUAL_SOURCE_MASK],
	       vmcs_readnat(VMCS_GUEST_RIP));
	vm_end(v->vm, VM_END_CRASH, 125);
}
