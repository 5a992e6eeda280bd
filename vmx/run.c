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
#include "vmx/vmx_priv.h"
#include "emul/emul.h"

#define PAGE_OFFSET_MASK   0xfffull
#define PTE_PRESENT        BIT(0)
#define PTE_PS             BIT(7)	/* a 1 GiB (PDPTE) or 2 MiB (PDE) page */
#define PTE_ADDR_MASK      0x000ffffffffff000ull	/* bits 51:12 */
#define CR4_LA57           BIT(12)
#define PT_LEVELS_4        4
#define PT_INDEX_BITS      9
#define PT_INDEX_MASK      0x1ffull
#define CPUID_1_ECX_VMX         BIT(5)
#define CPUID_1_ECX_X2APIC      BIT(21)
#define CPUID_1_ECX_HYPERVISOR  BIT(31)
#define CPUID_1_EBX_APIC_ID_SHIFT 24
#define CPUID_HV_LEAF           0x40000000u
#define HC_EPERM                ((u64)-EPERM)

/*
 * The guest-physical address of guest-linear gla under 4-level paging, by
 * reading the guest's tables directly: no access or dirty bits set and no
 * permission checked, because the CPU has just fetched from this address
 * itself. Returns false (the caller takes the full path, whose walker does
 * everything right) if a table is outside guest RAM or an entry not present.
 */
static bool fast_walk4(const struct vm *vm, u64 cr3, u64 gla, u64 *gpa)
{
	u64 table = cr3 & PTE_ADDR_MASK;

	for (int level = PT_LEVELS_4 - 1; level >= 0; level--) {
		u32 shift = 12 + PT_INDEX_BITS * (u32)level;
		u64 pa = table + ((gla >> shift) & PT_INDEX_MASK) * 8;
		if (pa >= vm->ram_size)
			return false;
		u64 e = __atomic_load_n((const u64 *)(const void *)(vm->ram + pa), __ATOMIC_RELAXED);
		if (!(e & PTE_PRESENT))
			return false;
		if ((level == 1 || level == 2) && (e & PTE_PS)) {
			u64 size_mask = (1ull << shift) - 1;
			*gpa = (e & PTE_ADDR_MASK & ~size_mask) | (gla & size_mask);
			return true;
		}
		table = e & PTE_ADDR_MASK;
	}
	*gpa = table | (gla & PAGE_OFFSET_MASK);
	return true;
}

/*
 * The length of the instruction at the guest's CS:RIP if it is a plain
 * store (emul_store_length), else 0. Reads the bytes straight from guest RAM
 * with paging off or 4-level paging; other paging modes, and an instruction
 * that may run onto the next page, go to the full path (return 0).
 */
static u32 fast_store_length(struct vcpu *v)
{
	struct vm *vm = v->vm;
	u64 rip = vmcs_readnat(VMCS_GUEST_RIP);
	u32 cs_ar = vmcs_read32(VMCS_GUEST_CS_AR_BYTES);
	enum emul_cpu_mode mode;
	u64 gla, gpa;

	if (v->lma && (cs_ar & VMX_AR_L)) {
		mode = EMUL_MODE_LONG64;
		gla = rip;			/* CS.base is 0 in 64-bit mode */
	} else {
		/* Real and 16-bit protected mode decode alike here. */
		mode = (cs_ar & VMX_AR_DB) ? EMUL_MODE_PROT32 : EMUL_MODE_PROT16;
		gla = (u32)(vmcs_readnat(VMCS_GUEST_CS_BASE) + rip);
	}
	if (!v->paging) {
		gpa = gla;
	} else {
		if (!v->lma || (vmcs_readnat(VMCS_GUEST_CR4) & CR4_LA57) ||
		    !fast_walk4(vm, vmcs_readnat(VMCS_GUEST_CR3), gla, &gpa))
			return 0;
	}
	u32 avail = (u32)MIN((u64)EMUL_INSN_MAX_LEN, PAGE_SIZE - (gpa & PAGE_OFFSET_MASK));
	const u8 *p = vm_gpa_to_hva(vm, gpa, avail);
	return p ? emul_store_length(p, avail, mode) : 0;
}

/* The fast-MMIO path. True if the exit was a doorbell store, now signalled
 * and skipped. */
static __always_inline bool fast_mmio(struct vcpu *v)
{
	struct vm *vm = v->vm;
	u64 gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	s32 event = ioeventfd_fast_mmio_find(&vm->io, gpa);
	u32 len;

	if (event < 0)
		return false;
	/* An exit while delivering an event (the store was an exception
	 * frame, say) must have that delivery redone: the full path. */
	if (vmcs_read32(VMCS_IDT_VECTORING_INFO) & VECTORING_INFO_VALID)
		return false;
	if (unlikely(boot_cfg.fastmmio_len == FASTMMIO_LEN_VMCS)) {
		/* Trusted as KVM does on bare metal: a read signals too. A
		 * length the SDM does not promise (0 under some nested
		 * hypervisors) must not loop the guest: full path. */
		len = vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN);
		if (len == 0 || len > EMUL_INSN_MAX_LEN)
			return false;
	} else {
		len = fast_store_length(v);
		if (!len)
			return false;
		if (unlikely(boot_cfg.fastmmio_len == FASTMMIO_LEN_CHECK) &&
		    vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN) != len)
			v->len_disagree++;
	}
	event_signal(vm->events, (u32)event);
	v->fastmmio_hits++;
	vcpu_skip(v, len);
	return true;
}

void handle_ept_misconfig(struct vcpu *v, u64 qual)
{
	if (fast_mmio(v))
		return;
	handle_ept_violation(v, qual);
}

/* OUT to a PIO doorbell: true if signalled and skipped. */
static __always_inline bool fast_pio(struct vcpu *v, u64 qual)
{
	if (qual & (IO_QUAL_IN | IO_QUAL_STRING))
		return false;
	u32 size = io_qual_size(qual);
	u32 val = (u32)v->regs.gpr[GUEST_RAX] & (u32)(size == 4 ? ~0ull : (1ull << (size * 8)) - 1);
	s32 event = ioeventfd_pio_find(&v->vm->io, io_qual_port(qual), size, val);
	if (event < 0)
		return false;
	event_signal(v->vm->events, (u32)event);
	v->pio_hits++;
	vcpu_skip_instruction(v);
	return true;
}

void handle_io_exit(struct vcpu *v, u64 qual)
{
	if (fast_pio(v, qual))
		return;
	handle_io_instruction(v, qual);
}

/* ---- the null exits: CPUID and VMCALL (the benchmark's floor) ---------- */

/* Leaves 0x40000000-0x400000ff: doorbell's own (CONTRACTS.md 2): the
 * signature "DoorbellHV\0\0" in EBX, ECX, EDX, and zeros above it. */
static void cpuid_hypervisor_leaf(u64 *r, u32 leaf)
{
	u32 sig[3];

	memcpy(sig, "DoorbellHV\0\0", sizeof(sig));
	r[GUEST_RAX] = leaf == CPUID_HV_LEAF ? CPUID_HV_LEAF : 0;
	r[GUEST_RBX] = leaf == CPUID_HV_LEAF ? sig[0] : 0;
	r[GUEST_RCX] = leaf == CPUID_HV_LEAF ? sig[1] : 0;
	r[GUEST_RDX] = leaf == CPUID_HV_LEAF ? sig[2] : 0;
}

static __always_inline void cpuid_exit(struct vcpu *v)
{
	u64 *r = v->regs.gpr;
	u32 leaf = (u32)r[GUEST_RAX], sub = (u32)r[GUEST_RCX];
	u32 a, b, c, d;

	if (unlikely(leaf >= CPUID_HV_LEAF && leaf < CPUID_HV_LEAF + 0x100)) {
		cpuid_hypervisor_leaf(r, leaf);
		vcpu_skip_instruction(v);
		return;
	}
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(sub));
	if (leaf == 1) {
		c |= CPUID_1_ECX_HYPERVISOR;
		c &= ~(u32)(CPUID_1_ECX_VMX | CPUID_1_ECX_X2APIC);
		b = (b & ((1u << CPUID_1_EBX_APIC_ID_SHIFT) - 1)) |
		    v->vm->apic.id << CPUID_1_EBX_APIC_ID_SHIFT;
	}
	r[GUEST_RAX] = a;
	r[GUEST_RBX] = b;
	r[GUEST_RCX] = c;
	r[GUEST_RDX] = d;
	vcpu_skip_instruction(v);
}

/* The guest's current privilege level: SS.DPL (SDM "Current Privilege
 * Level"); with paging off in real mode it is 0. */
static u32 guest_cpl(void)
{
	return vmx_ar_dpl(vmcs_read32(VMCS_GUEST_SS_AR_BYTES));
}

static __always_inline void vmcall_exit(struct vcpu *v)
{
	/* KVM's rule: hypercalls come from ring 0 only. */
	if (guest_cpl() != 0)
		v->regs.gpr[GUEST_RAX] = HC_EPERM;
	else
		v->regs.gpr[GUEST_RAX] = (u64)hypercall_dispatch(v);
	vcpu_skip_instruction(v);
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

/*
 * One VM exit, called by entry.asm with the guest's registers saved in
 * v->regs and interrupts off. The doorbell exits are tested first and their
 * handlers inlined here; every other reason goes through the table. Returns
 * true to enter the guest again.
 */
bool vcpu_handle_exit(struct vcpu *v)
{
	struct vm *vm = v->vm;

	v->launched = true;
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

void vcpu_run(struct vcpu *v)
{
	v->fast_reasons = boot_cfg.trace ? 0 : VM_EXIT_COUNTERS;
	int r = vmx_run(v);
	if (r != VMX_OK) {
		vcpu_report_instruction_error(v, r);
		vm_end(v->vm, VM_END_CRASH, 125);
	}
}
