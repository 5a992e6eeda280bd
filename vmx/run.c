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
#include "vmx/gwalk.h"

/* The rare case of doorbell_ring (vmx/hotpath.h): out of line, so that the
 * fast paths make no call in the common case. */
int doorbell_ring_rare(struct vcpu *v, u32 event, u64 rip, u32 intr, u64 rflags)
{
	vcpu_skip_finish(v, rip, intr, rflags);
	event_signal(v->vm->events, event);
	return EXIT_RESUME;
}

/* The store at rip (guest-physical gpa) is not the one remembered (vmx/
 * hotpath.h: fast_mmio_decoded): decode its length, remember it when all
 * of its 16 bytes are on the page, and ring the doorbell. */
int fast_mmio_decode(struct vcpu *v, u32 event, u64 rip, u64 gpa, u32 mode,
		     bool check)
{
	const u8 *p = vm_gpa_to_hva(v->vm, gpa, 1);
	u32 off = (u32)(gpa & PAGE_OFFSET_MASK);
	u32 len;

	if (!p)
		return EXIT_FULL;
	if (off <= PAGE_SIZE - STORE_CACHE_BYTES) {
		len = emul_store_length(p, EMUL_INSN_MAX_LEN, (enum emul_cpu_mode)mode);
		if (len)
			store_cache_fill(&v->store_cache, gpa, mode, p, len);
	} else {
		len = emul_store_length(p, PAGE_SIZE - off, (enum emul_cpu_mode)mode);
	}
	if (!len)
		return EXIT_FULL;
	if (check)
		fast_mmio_check_len(v, len);
	v->fastmmio_hits++;
	return doorbell_ring(v, event, rip, len);
}

/* One IN is common enough to answer on the fast path: a 32-bit read of the
 * ACPI PM timer (0x608), which a guest reads in a loop to measure time
 * (Linux's acpi_pm clocksource, kvm-unit-tests' vmexit inl_from_pmtimer).
 * Its value is what the PM block on the I/O bus would give (vmx/platform.c),
 * without the bus; IN to EAX zero-extends into RAX (vmx/io.c). Every VM has
 * the block (vm_platform_register). Any other IN, size or port, and every
 * string instruction, takes the full path. */
int fast_pio_in(struct vcpu *v)
{
	u64 qual = vmcs_readnat(VMCS_EXIT_QUALIFICATION);

	if ((qual & (IO_QUAL_STRING | IO_QUAL_SIZE_MASK |
		     (IO_QUAL_PORT_MASK << IO_QUAL_PORT_SHIFT))) !=
	    (IO_QUAL_SIZE_4 | ((u64)ACPI_PM_TMR_BLK << IO_QUAL_PORT_SHIFT)))
		return EXIT_FULL;
	v->regs.gpr[GUEST_RAX] = acpi_pm_timer(&v->vm->acpi_pm, rdtsc());
	vcpu_skip_instruction(v);
	return EXIT_RESUME;
}

/* The full walker's table reads, recorded so that their pages can be
 * write-protected: at most one per level of 5-level paging. */
struct walk_trace {
	struct vm *vm;
	u32 n;
	u64 pa[5];
};

static int traced_read(void *ctx, u64 gpa, void *buf, u32 size)
{
	struct walk_trace *t = ctx;
	const void *p = vm_gpa_to_hva(t->vm, gpa, size);

	if (!p || t->n == ARRAY_SIZE(t->pa))
		return -EFAULT;
	t->pa[t->n++] = gpa;
	memcpy(buf, p, size);
	return 0;
}

#define PAE_PDPT_MASK 0xffffffe0ull	/* CR3 bits 31:5 with PAE paging */

/*
 * The verified fast-MMIO path (vmx/hotpath.h: fast_mmio_decoded, when the
 * remembered store is not the one at CS:RIP). RIP's guest-physical address:
 * with paging off the linear address; under 4-level paging the last
 * translation (struct walk_cache) if every entry it read still holds, else
 * a fresh walk of the guest's tables (fast_walk4); under 32-bit, PAE or
 * 5-level paging the full walker (vmx/gwalk.c), with the entries it read
 * recorded (and with PAE the PDPT, whose entries the CPU loaded with CR3).
 * Then the bytes there against the last decoded store (fast_mmio_cached) or
 * decoded. The store found is remembered with its pages write-protected
 * (vmx/wprot.c), so that the next doorbell from it needs none of this.
 */
int fast_mmio_verify(struct vcpu *v, u32 event, u64 rip, u32 cs_ar, u64 cr3, bool check)
{
	bool long64 = v->lma && (cs_ar & VMX_AR_L);
	u64 cs_base = 0, gla, gpa;
	struct walk_trace t = { .vm = v->vm };
	const u64 *tables = t.pa;
	u32 ntables = 0, mode;

	if (long64) {
		mode = EMUL_MODE_LONG64;
		gla = rip;			/* CS.base is 0 in 64-bit mode */
	} else {
		/* Real and 16-bit protected mode decode alike here. */
		mode = (cs_ar & VMX_AR_DB) ? EMUL_MODE_PROT32 : EMUL_MODE_PROT16;
		cs_base = vmcs_readnat(VMCS_GUEST_CS_BASE);
		gla = (u32)(cs_base + rip);
	}
	if (!v->paging) {
		gpa = gla;
	} else if (v->lma && !v->la57) {
		if (!fast_walk_cached(v->vm, &v->walk_cache, cr3, gla, &gpa) &&
		    !fast_walk4(v->vm, cr3, gla, &gpa, &v->walk_cache))
			return EXIT_FULL;
		tables = v->walk_cache.pa;
		ntables = ARRAY_SIZE(v->walk_cache.pa);
	} else {
		struct gwalk_regs r;
		u32 pf;

		vcpu_walk_regs(&r);
		/* The CPU has just fetched there: a fault means the tables
		 * changed under it, which the full path sorts out. */
		if (gwalk_translate(&r, gla, GWALK_FETCH, traced_read, &t, &gpa, &pf))
			return EXIT_FULL;
		if (r.pdptes_valid && t.n < ARRAY_SIZE(t.pa))
			t.pa[t.n++] = cr3 & PAE_PDPT_MASK;
		ntables = t.n;
	}
	int rc = fast_mmio_cached(v, event, rip, gpa, mode, check);
	/* Remembered only when the store cache holds it, that is, all of its
	 * bytes lie on the one page (fast_mmio_decode), and in IA-32e mode only
	 * in 64-bit mode, whose hot path compares no CS.base (a store in
	 * compatibility mode takes this path every time). */
	if (rc == EXIT_RESUME && v->store_cache.gpa == gpa && v->store_cache.mode == mode &&
	    (long64 || !v->lma))
		insn_cache_fill(v, rip, cs_ar, cs_base, cr3, gpa, tables, ntables);
	return rc;
}

/* The exits vcpu_exit_fast (vmx/dispatch.c) takes inline, as the exit
 * table's handlers: for trace=1. */
void handle_ept_misconfig(struct vcpu *v, u64 qual)
{
	(void)qual;	/* none for this exit */
	if (fast_mmio(v, boot_cfg.fastmmio_len, v->lma) == EXIT_FULL)
		handle_ept_misconfig_full(v);
}

void handle_io_exit(struct vcpu *v, u64 qual)
{
	if (fast_pio(v, qual) == EXIT_FULL)
		handle_io_instruction(v, qual);
}

void handle_cpuid(struct vcpu *v, u64 qual)
{
	(void)qual;
	cpuid_exit(v);
}

void handle_vmcall(struct vcpu *v, u64 qual)
{
	(void)qual;
	(void)vmcall_exit(v);
}

void vcpu_run(struct vcpu *v)
{
	v->fast_reasons = boot_cfg.trace ? 0 : VM_EXIT_COUNTERS;
	vcpu_exit_fast_init(v);
	v->store_cache.gpa = ~0ull;	/* empty: no store is there */
	v->walk_cache.cr3 = ~0ull;	/* empty */
	v->insn_cache.cs_ar = 0;	/* empty */
	v->rip_mask = v->lma ? ~0ull : 0xffffffffull;
	int r = vmx_run(v);
	if (r != VMX_OK) {
		v->launched = r > VMX_FAIL_RESUMED;
		if (v->launched)
			r -= VMX_FAIL_RESUMED;
		vcpu_report_instruction_error(v, r);
		vm_end(v->vm, VM_END_CRASH, 125);
	}
}
