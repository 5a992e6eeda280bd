/*
 * vmx/hotpath.h - the bodies of the exits the run loop takes itself: the
 * doorbells (fast MMIO, PIO) and the null exits (CPUID, VMCALL). Included by
 * vmx/dispatch.c, where vcpu_handle_exit inlines them, and by vmx/run.c,
 * whose out-of-line copies serve the exit table (trace=1, the slow path).
 * See vmx/run.c for the design and the SDM rules.
 */
#ifndef VMX_HOTPATH_H
#define VMX_HOTPATH_H

#include "vmx/vmx_priv.h"
#include "emul/emul.h"

#define PAGE_OFFSET_MASK   0xfffull
#define PTE_PRESENT        BIT(0)
#define PTE_PS             BIT(7)	/* a 1 GiB (PDPTE) or 2 MiB (PDE) page */
#define PTE_ADDR_MASK      0x000ffffffffff000ull	/* bits 51:12 */
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
static __always_inline bool fast_walk_entry(const struct vm *vm, u64 table, u64 gla,
					    u32 shift, u64 *e)
{
	u64 pa = (table & PTE_ADDR_MASK) + ((gla >> shift) & PT_INDEX_MASK) * 8;
	if (pa >= vm->ram_size)
		return false;
	*e = __atomic_load_n((const u64 *)(const void *)(vm->ram + pa), __ATOMIC_RELAXED);
	return (*e & PTE_PRESENT) != 0;
}

static __always_inline bool fast_walk4(const struct vm *vm, u64 cr3, u64 gla, u64 *gpa)
{
	u64 e;

	/* PML4E, PDPTE (maybe a 1 GiB page), PDE (maybe 2 MiB), PTE: SDM
	 * Vol. 3A, "4-Level Paging and 5-Level Paging". */
	if (!fast_walk_entry(vm, cr3, gla, 39, &e) || !fast_walk_entry(vm, e, gla, 30, &e))
		return false;
	if (e & PTE_PS) {
		*gpa = (e & PTE_ADDR_MASK & ~((1ull << 30) - 1)) | (gla & ((1ull << 30) - 1));
		return true;
	}
	if (!fast_walk_entry(vm, e, gla, 21, &e))
		return false;
	if (e & PTE_PS) {
		*gpa = (e & PTE_ADDR_MASK & ~((1ull << 21) - 1)) | (gla & ((1ull << 21) - 1));
		return true;
	}
	if (!fast_walk_entry(vm, e, gla, 12, &e))
		return false;
	*gpa = (e & PTE_ADDR_MASK) | (gla & PAGE_OFFSET_MASK);
	return true;
}

/*
 * The length of the instruction at the guest's CS:RIP if it is a plain
 * store (emul_store_length), else 0. Reads the bytes straight from guest RAM
 * with paging off or 4-level paging; other paging modes go to the full path
 * (return 0), as does an instruction that may run onto the next page.
 *
 * A doorbell is rung by the same instruction again and again, so the last
 * decoded store is remembered with its bytes (v->store_cache): when the
 * bytes at the same guest-physical address, in the same mode, are still the
 * same, they are the same instruction and need no decoding. Code rewritten
 * in place changes the bytes and is decoded afresh; the translation itself
 * is never remembered (the guest may change its page tables without an exit).
 */
#define STORE_CACHE_BYTES 16

static inline void store_cache_fill(struct store_cache *c, u64 gpa, u32 mode, const u8 *p, u32 len)
{
	u64 b[2];
	memcpy(b, p, sizeof(b));
	c->m0 = len >= 8 ? ~0ull : (1ull << (8 * len)) - 1;
	c->m1 = len <= 8 ? 0 : len >= 16 ? ~0ull : (1ull << (8 * (len - 8))) - 1;
	c->b0 = b[0] & c->m0;
	c->b1 = b[1] & c->m1;
	c->gpa = gpa;
	c->mode = mode;
	c->len = len;
}

static __always_inline u32 fast_store_length(struct vcpu *v, u64 rip)
{
	struct vm *vm = v->vm;
	u32 cs_ar = vmcs_read32(VMCS_GUEST_CS_AR_BYTES);
	u32 mode;
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
		if (!v->lma || v->la57 ||
		    !fast_walk4(vm, vmcs_readnat(VMCS_GUEST_CR3), gla, &gpa))
			return 0;
	}
	u32 off = (u32)(gpa & PAGE_OFFSET_MASK);
	const u8 *p = vm_gpa_to_hva(vm, gpa, 1);
	if (!p)
		return 0;
	if (off <= PAGE_SIZE - STORE_CACHE_BYTES) {
		struct store_cache *c = &v->store_cache;
		u64 b[2];
		__builtin_memcpy(b, p, sizeof(b));	/* two loads, inline */
		if (c->gpa == gpa && c->mode == mode &&
		    (b[0] & c->m0) == c->b0 && (b[1] & c->m1) == c->b1)
			return c->len;
		u32 len = emul_store_length(p, EMUL_INSN_MAX_LEN, (enum emul_cpu_mode)mode);
		if (len)
			store_cache_fill(c, gpa, mode, p, len);
		return len;
	}
	return emul_store_length(p, PAGE_SIZE - off, (enum emul_cpu_mode)mode);
}

/* The fast-MMIO path. True if the exit was a doorbell store, now signalled
 * and skipped. */
static __always_inline bool fast_mmio(struct vcpu *v)
{
	struct vm *vm = v->vm;
	u64 gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	s32 event = ioeventfd_fast_mmio_find(&vm->io, gpa);
	u64 rip;
	u32 len;

	/* A store that starts in guest RAM and runs onto a doorbell page exits
	 * with the second page's address (the first half translated fine), so
	 * a doorbell at the first byte after RAM (doorbell_window= may start
	 * where RAM ends) may be the tail of such a store: the full path writes
	 * the RAM half too (guest/fastmmio.c: test_ram_edge). */
	if (event < 0 || unlikely(gpa == vm->ram_size))
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
		rip = vmcs_readnat(VMCS_GUEST_RIP);
	} else {
		rip = vmcs_readnat(VMCS_GUEST_RIP);
		len = fast_store_length(v, rip);
		if (!len)
			return false;
		if (unlikely(boot_cfg.fastmmio_len == FASTMMIO_LEN_CHECK) &&
		    vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN) != len)
			v->len_disagree++;
	}
	event_signal(vm->events, (u32)event);
	v->fastmmio_hits++;
	vcpu_skip_from(v, rip, len);
	return true;
}

/* OUT to a PIO doorbell: true if signalled and skipped. */
static __always_inline bool fast_pio(struct vcpu *v, u64 qual)
{
	if (qual & (IO_QUAL_IN | IO_QUAL_STRING))
		return false;
	/* The table ignores the value's bytes above the access size. */
	s32 event = ioeventfd_pio_find(&v->vm->io, io_qual_port(qual), io_qual_size(qual),
				       (u32)v->regs.gpr[GUEST_RAX]);
	if (event < 0)
		return false;
	event_signal(v->vm->events, (u32)event);
	v->pio_hits++;
	vcpu_skip_instruction(v);
	return true;
}

/* ---- the null exits: CPUID and VMCALL (the benchmark's floor) ---------- */

/*
 * Leaves 0x40000000-0x400000ff are doorbell's own:
 *   0x40000000: EAX = the highest such leaf (0x40000002), EBX ECX EDX =
 *               "DoorbellHV\0\0" (CONTRACTS.md 2);
 *   0x40000001: how this run is configured, so a guest can label its
 *               measurements: EAX bit 0 notify=poll, bit 1 lookup=linear,
 *               bits 3:2 fastmmio_len (0 decode, 1 vmcs, 2 check), bit 5
 *               trace=1; EBX = the number of VMs (vcpus=); ECX = the TSC
 *               frequency in kHz (0 if unknown); EDX = this VM's index.
 *   0x40000002: the poll page (service/service.h): EAX, EBX = its
 *               guest-physical address, low and high 32 bits; ECX = its
 *               slots (0: no service core to watch it, a single CPU);
 *               EDX = the MSR that watches them (POLL_WATCH_MSR).
 * Every other leaf of the range reads as zeros.
 */
#define CPUID_HV_LEAF_MAX       CPUID_HV_POLL_LEAF
#define CPUID_HV_CFG_POLL       BIT(0)
#define CPUID_HV_CFG_LINEAR     BIT(1)
#define CPUID_HV_CFG_LEN_SHIFT  2
#define CPUID_HV_CFG_TRACE      BIT(5)

static inline void cpuid_hypervisor_leaf(struct vcpu *v, u64 *r, u32 leaf)
{
	u32 sig[3];

	r[GUEST_RAX] = r[GUEST_RBX] = r[GUEST_RCX] = r[GUEST_RDX] = 0;
	if (leaf == CPUID_HV_LEAF) {
		memcpy(sig, "DoorbellHV\0\0", sizeof(sig));
		r[GUEST_RAX] = CPUID_HV_LEAF_MAX;
		r[GUEST_RBX] = sig[0];
		r[GUEST_RCX] = sig[1];
		r[GUEST_RDX] = sig[2];
	} else if (leaf == CPUID_HV_LEAF + 1) {
		r[GUEST_RAX] = (boot_cfg.notify == NOTIFY_POLL ? CPUID_HV_CFG_POLL : 0) |
			       (boot_cfg.lookup == LOOKUP_LINEAR ? CPUID_HV_CFG_LINEAR : 0) |
			       (u32)boot_cfg.fastmmio_len << CPUID_HV_CFG_LEN_SHIFT |
			       (boot_cfg.trace ? CPUID_HV_CFG_TRACE : 0) | (boot_cfg.latency ? BIT(4) : 0);
		r[GUEST_RBX] = boot_cfg.vcpus;
		r[GUEST_RCX] = tsc_hz() / 1000;
		r[GUEST_RDX] = v->vm->index;
	} else if (leaf == CPUID_HV_POLL_LEAF) {
		r[GUEST_RAX] = (u32)POLL_GPA;
		r[GUEST_RBX] = (u32)(POLL_GPA >> 32);
		r[GUEST_RCX] = v->vm->poll.list ? POLL_SLOTS : 0;
		r[GUEST_RDX] = POLL_WATCH_MSR;
	}
}

static __always_inline void cpuid_exit(struct vcpu *v)
{
	u64 *r = v->regs.gpr;
	u32 leaf = (u32)r[GUEST_RAX], sub = (u32)r[GUEST_RCX];
	u32 a, b, c, d;

	if (unlikely(leaf >= CPUID_HV_LEAF && leaf < CPUID_HV_LEAF + 0x100)) {
		cpuid_hypervisor_leaf(v, r, leaf);
		vcpu_skip_instruction(v);
		return;
	}
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(sub));
	if (leaf == 1) {
		c = cpuid_1_ecx_guest_osxsave(c) | CPUID_1_ECX_HYPERVISOR;
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
static inline u32 guest_cpl(void)
{
	return vmx_ar_dpl(vmcs_read32(VMCS_GUEST_SS_AR_BYTES));
}

static __always_inline void vmcall_exit(struct vcpu *v)
{
	u64 *r = v->regs.gpr;

	/* KVM's rule: hypercalls come from ring 0 only. */
	if (unlikely(guest_cpl() != 0)) {
		r[GUEST_RAX] = HC_EPERM;
	} else if (r[GUEST_RAX] == HC_NOTIFY && r[GUEST_RBX] < EVENTS_PER_VM) {
		/* The hypercall doorbell, inline. Compared at full width: a
		 * 32-bit guest whose registers' upper halves are not zero
		 * goes through the dispatcher, which ignores them. */
		event_signal(v->vm->events, (u32)r[GUEST_RBX]);
		r[GUEST_RAX] = 0;
	} else if ((u32)r[GUEST_RAX] > HC_NOTIFY) {
		/* No such hypercall (CONTRACTS.md 3). Exact in every mode: when
		 * the low 32 bits already name no hypercall, the number does
		 * not either, whatever width the mode gives it. */
		r[GUEST_RAX] = (u64)-ENOSYS;
	} else {
		r[GUEST_RAX] = (u64)hypercall_dispatch(v);
	}
	vcpu_skip_instruction(v);
}

#endif /* VMX_HOTPATH_H */
