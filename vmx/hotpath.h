/*
 * vmx/hotpath.h - the bodies of the exits the run loop takes itself: the
 * doorbells (fast MMIO, PIO) and the null exits (CPUID, VMCALL). Included by
 * vmx/dispatch.c, whose vcpu_exit_fast inlines them, and by vmx/run.c,
 * whose out-of-line copies serve the exit table (trace=1). Each returns
 * EXIT_RESUME, EXIT_STOP or EXIT_FULL (vmx/vmx_priv.h).
 * See vmx/run.c for the design and the SDM rules.
 */
#ifndef VMX_HOTPATH_H
#define VMX_HOTPATH_H

#include "vmx/vmx_priv.h"
#include "emul/emul.h"

#define PAGE_OFFSET_MASK   0xfffull
#define PTE_PRESENT        BIT(0)
#define PTE_PS             BIT(7)	/* a 1 GiB (PDPTE) or 2 MiB (PDE) page */
#define PT_INDEX_MASK      0x1ffull
#define HC_EPERM                ((u64)-EPERM)

/* A 64-bit load from guest RAM at any alignment (x86 allows it); the guest
 * may be rewriting it, so one load, as the CPU's own fetch would be. */
static __always_inline u64 load64(const u64 *p)
{
	u64 x;
	__asm__("movq %1, %0" : "=r"(x) : "m"(*p));
	return x;
}

/*
 * The guest-physical address of guest-linear gla under 4-level paging, by
 * reading the guest's tables directly: no access or dirty bits set and no
 * permission checked, because the CPU has just fetched from this address
 * itself. Returns false (the caller takes the full path, whose walker does
 * everything right) if a table is outside guest RAM or an entry not present.
 *
 * An entry's address is taken as all its bits above 11, not only bits 51:12:
 * an entry with any of bits 63:52 set (XD, protection keys, bits the guest's
 * software uses) then lies far outside guest RAM, so the RAM check sends it
 * to the full path too. On the way to code that just ran, none has XD set;
 * and this needs no 64-bit mask constant, whose register the walk cannot
 * spare.
 */
#define PTE_FRAME_MASK     (~PAGE_OFFSET_MASK)

static __always_inline bool fast_walk_entry(const struct vm *vm, u64 table, u64 gla,
					    u32 shift, u64 *e)
{
	u64 pa = (table & PTE_FRAME_MASK) + ((gla >> shift) & PT_INDEX_MASK) * 8;
	if (pa >= vm->ram_size)
		return false;
	*e = __atomic_load_n((const u64 *)(const void *)(vm->ram + pa), __ATOMIC_RELAXED);
	return (*e & PTE_PRESENT) != 0;
}

/* Walks and records the walk in w (struct walk_cache), for gla's page. */
static inline bool fast_walk4(const struct vm *vm, u64 cr3, u64 gla, u64 *gpa,
			      struct walk_cache *w)
{
	u64 table = cr3, e;
	u32 n = 0;

	/* PML4E, PDPTE (maybe a 1 GiB page), PDE (maybe 2 MiB), PTE: SDM
	 * Vol. 3A, "4-Level Paging and 5-Level Paging". */
	w->cr3 = ~0ull;				/* empty while being filled */
	for (u32 shift = 39;; shift -= 9, table = e) {
		if (!fast_walk_entry(vm, table, gla, shift, &e))
			return false;
		w->pa[n] = (table & PTE_FRAME_MASK) + ((gla >> shift) & PT_INDEX_MASK) * 8;
		w->e[n++] = e;
		/* A page's address too keeps bits 63:52: outside RAM, the
		 * caller's RAM check (the store cache, vm_gpa_to_hva) sends it
		 * on. A PS bit in a PML4E is reserved: not a page. */
		if (shift == 12 || (shift != 39 && (e & PTE_PS))) {
			u64 off = (1ull << shift) - 1;
			*gpa = (e & ~off & PTE_FRAME_MASK) | (gla & off);
			break;
		}
	}
	for (u32 i = n; i < 4; i++) {
		w->pa[i] = w->pa[n - 1];
		w->e[i] = w->e[n - 1];
	}
	w->gla_page = gla & PTE_FRAME_MASK;
	w->gpa_page = *gpa & PTE_FRAME_MASK;
	w->cr3 = cr3;
	return true;
}

/* The translation of gla from w, if w is for its page and CR3 and every
 * entry w read still holds the value it read. */
static __always_inline bool fast_walk_cached(const struct vm *vm, const struct walk_cache *w,
					     u64 cr3, u64 gla, u64 *gpa)
{
	const u8 *ram = vm->ram;

	if (w->cr3 != cr3 || w->gla_page != (gla & PTE_FRAME_MASK))
		return false;
	if (load64((const u64 *)(const void *)(ram + w->pa[0])) != w->e[0] ||
	    load64((const u64 *)(const void *)(ram + w->pa[1])) != w->e[1] ||
	    load64((const u64 *)(const void *)(ram + w->pa[2])) != w->e[2] ||
	    load64((const u64 *)(const void *)(ram + w->pa[3])) != w->e[3])
		return false;
	*gpa = w->gpa_page | (gla & PAGE_OFFSET_MASK);
	return true;
}

/*
 * The verified path's decoded-store cache (v->store_cache): the last store
 * it decoded, with its guest-physical address, mode, length and first 16
 * bytes masked to that length (all on one page). When the bytes at the same
 * address, in the same mode, are still the same, they are the same
 * instruction and need no decoding; code rewritten in place is decoded
 * afresh.
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

/*
 * A doorbell's last step, shared by both fast paths: the instruction is
 * completed as vcpu_skip_from() completes it (RIP wrap, the end of STI/MOV-SS
 * blocking, a pending single step) and the event signalled. Returns
 * EXIT_RESUME. The common case makes no call, so that the fast paths need
 * no callee-saved register and no stack frame (vmx/dispatch.c): the rare
 * case is one call, doorbell_ring_rare() (vmx/run.c), that does both.
 */
int doorbell_ring_rare(struct vcpu *v, u32 event, u64 rip, u32 intr, u64 rflags);

static __always_inline int doorbell_ring(struct vcpu *v, u32 event, u64 rip, u64 len)
{
	u64 next = (rip + len) & v->rip_mask;
	u32 intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	u64 rflags = vmcs_readnat(VMCS_GUEST_RFLAGS);
	/* (u32)next < (u32)rip: a carry out of bit 31, which only a store in
	 * compatibility mode must wrap (and a rare 64-bit one crosses). */
	if (unlikely((intr & (GUEST_INTR_BLOCKING_STI | GUEST_INTR_BLOCKING_MOV_SS)) ||
		     (rflags & RFLAGS_TF) || (u32)next < (u32)rip))
		return doorbell_ring_rare(v, event, next, intr, rflags);
	vmcs_writenat(VMCS_GUEST_RIP, next);
	event_signal(vcpu_vm(v)->events, event);
	return EXIT_RESUME;
}

/* The store at rip was not the one remembered: decode it (vmx/run.c). Returns
 * what fast_mmio returns. */
int fast_mmio_decode(struct vcpu *v, u32 event, u64 rip, u64 gpa, u32 mode,
		     bool check);


/* fastmmio_len=check: one more disagreement between the decoded length and
 * the VMCS's, if any. */
static __always_inline void fast_mmio_check_len(struct vcpu *v, u32 len)
{
	if (unlikely(boot_cfg.fastmmio_len == FASTMMIO_LEN_CHECK) &&
	    vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN) != len)
		v->len_disagree++;
}

/*
 * The verified path's last step (vmx/run.c: fast_mmio_verify): the length
 * of the store at guest-physical gpa from the store cache, or decoded
 * (fast_mmio_decode, which also takes what is not a plain store, or may run
 * onto the next page, to the full path), and the doorbell rung. check:
 * fastmmio_len may be check (false: it is decode, known).
 */
static __always_inline int fast_mmio_cached(struct vcpu *v, u32 event, u64 rip,
					    u64 gpa, u32 mode, bool check)
{
	/* The remembered store: its 16 bytes are on one page of RAM. */
	struct store_cache *c = &v->store_cache;
	if (likely(c->gpa == gpa && c->mode == mode)) {
		const u64 *b = (const u64 *)(const void *)(vcpu_vm(v)->ram + gpa);
		if ((load64(&b[0]) & c->m0) == c->b0 && (load64(&b[1]) & c->m1) == c->b1) {
			if (check)
				fast_mmio_check_len(v, c->len);
			v->fastmmio_hits++;
			return doorbell_ring(v, event, rip, c->len);
		}
	}
	return fast_mmio_decode(v, event, rip, gpa, mode, check);
}

/* The store at CS:RIP is not the remembered one (struct insn_cache), or
 * none is: find it the verified way, by reading its bytes (and RIP's
 * translation) from guest RAM, and remember it (vmx/run.c). Returns what
 * fast_mmio returns. */
int fast_mmio_verify(struct vcpu *v, u32 event, u64 rip, u32 cs_ar, u64 cr3, bool check);

/*
 * The length of the store at the guest's CS:RIP, for fastmmio_len=decode and
 * check. A doorbell is rung by the same store again and again: when RIP, CS
 * and CR3 are those of the remembered store, it is that store, because the
 * pages its bytes and its translation were read from are write-protected
 * (vmx/wprot.c) and so unchanged. Three VMCS reads, no guest memory read.
 * ia32e is v->lma, a constant in each handler (vmx/dispatch.c): in IA-32e
 * mode only stores in 64-bit mode are remembered, and 64-bit mode does not
 * use CS.base; outside it CS.base is compared too.
 */
static __always_inline int fast_mmio_decoded(struct vcpu *v, u32 event, bool check, bool ia32e)
{
	const struct insn_cache *k = &v->insn_cache;
	u64 rip = vmcs_readnat(VMCS_GUEST_RIP);
	u32 cs_ar = vmcs_read32(VMCS_GUEST_CS_AR_BYTES);
	u64 cr3 = vmcs_readnat(VMCS_GUEST_CR3);

	if (likely(rip == k->rip && cs_ar == k->cs_ar && cr3 == k->cr3) &&
	    (ia32e || vmcs_readnat(VMCS_GUEST_CS_BASE) == k->cs_base)) {
		if (check)
			fast_mmio_check_len(v, k->len);
		v->fastmmio_hits++;
		return doorbell_ring(v, event, rip, k->len);
	}
	return fast_mmio_verify(v, event, rip, cs_ar, cr3, check);
}

/*
 * The fast-MMIO path: EXIT_RESUME if the exit was a doorbell store, now
 * signalled and skipped; EXIT_FULL (nothing done) otherwise. len_source is
 * boot_cfg.fastmmio_len and ia32e is v->lma; vmx/dispatch.c instantiates one
 * handler per pair, with the constants, and puts the one that applies in
 * v->exit_fast[EPT_MISCONFIG] (vcpu_exit_fast_mmio_pick).
 */
static __always_inline int fast_mmio(struct vcpu *v, u32 len_source, bool ia32e)
{
	struct vm *vm = vcpu_vm(v);
	u64 gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	s32 event = ioeventfd_fast_mmio_find(&vm->io, gpa);

	/* Not a doorbell the table holds. It holds none at the first byte
	 * after RAM (doorbell_window= may start where RAM ends): a store that
	 * starts in guest RAM and runs onto that page exits with the second
	 * page's address (the first half translated fine), and only the full
	 * path writes the RAM half too (iobus.h: ram_end; guest/fastmmio.c:
	 * test_ram_edge). */
	if (event < 0)
		return EXIT_FULL;
	/* An exit while delivering an event (the store was an exception
	 * frame, say) must have that delivery redone: the full path. */
	if (vmcs_read32(VMCS_IDT_VECTORING_INFO) & VECTORING_INFO_VALID)
		return EXIT_FULL;
	if (len_source == FASTMMIO_LEN_DECODE)
		return fast_mmio_decoded(v, (u32)event, false, ia32e);
	if (len_source == FASTMMIO_LEN_CHECK)
		return fast_mmio_decoded(v, (u32)event, true, ia32e);
	/* fastmmio_len=vmcs: the VMCS's length, trusted as KVM does on bare
	 * metal; a read signals too. A length the SDM does not promise (0
	 * under some nested hypervisors) must not loop the guest: full path. */
	u64 len = vmcs_read32_u64(VMCS_EXIT_INSTRUCTION_LEN);
	if (unlikely(len == 0 || len > EMUL_INSN_MAX_LEN))
		return EXIT_FULL;
	v->fastmmio_hits++;
	return doorbell_ring(v, (u32)event, vmcs_readnat(VMCS_GUEST_RIP), len);
}

/* OUT to a PIO doorbell: EXIT_RESUME if signalled and skipped, EXIT_FULL
 * (nothing done) otherwise. */
/* An IN or a string instruction (vmx/run.c): EXIT_FULL, but for a 32-bit
 * read of the ACPI PM timer, answered there. Out of line: the OUT doorbell
 * path is the same as without it. */
int fast_pio_in(struct vcpu *v);

static __always_inline int fast_pio(struct vcpu *v, u64 qual)
{
	if (unlikely(qual & (IO_QUAL_IN | IO_QUAL_STRING)))
		return fast_pio_in(v);	/* reads the qualification again */
	/* The table ignores the value's bytes above the access size. */
	s32 event = ioeventfd_pio_find(&vcpu_vm(v)->io, io_qual_port(qual), io_qual_size(qual),
				       (u32)v->regs.gpr[GUEST_RAX]);
	if (event < 0)
		return EXIT_FULL;
	v->pio_hits++;
	return doorbell_ring(v, (u32)event, vmcs_readnat(VMCS_GUEST_RIP),
			     vmcs_read32_u64(VMCS_EXIT_INSTRUCTION_LEN));
}

/* ---- the null exits: CPUID and VMCALL (the benchmark's floor) ---------- */

/*
 * CPUID: the fixed basic leaves come from the VM's table (vmx/cpuid.h),
 * filled when the VM was made: a few loads, no CPUID executed. Every other
 * leaf (those that follow guest state or take a subleaf, the extended ones,
 * doorbell's own 0x40000000 range) goes out of line to cpuid_exit_full
 * (vmx/cpuid_vm.c), which runs the host's CPUID through the same filter.
 */
static __always_inline void cpuid_exit(struct vcpu *v)
{
	u64 *r = v->regs.gpr;
	u32 leaf = (u32)r[GUEST_RAX];
	const struct cpuid_table *t = &vcpu_vm(v)->cpuid;

	if (likely(cpuid_table_has(t, leaf))) {
		r[GUEST_RAX] = t->eax[leaf];
		r[GUEST_RBX] = t->ebx[leaf];
		r[GUEST_RCX] = t->ecx[leaf];
		r[GUEST_RDX] = t->edx[leaf];
	} else {
		cpuid_exit_full(v);
	}
	vcpu_skip_instruction(v);
}

/* The guest's current privilege level: SS.DPL (SDM "Current Privilege
 * Level"); with paging off in real mode it is 0. */
static inline u32 guest_cpl(void)
{
	return vmx_ar_dpl(vmcs_read32(VMCS_GUEST_SS_AR_BYTES));
}

/* VMCALL (vmx/hypercall.c), all but the inline cases below: computes RAX,
 * skips the instruction, returns EXIT_RESUME or EXIT_STOP. */
int vmcall_dispatch(struct vcpu *v);

/* VMCALL: returns EXIT_RESUME or EXIT_STOP. */
static __always_inline int vmcall_exit(struct vcpu *v)
{
	u64 *r = v->regs.gpr;

	/* KVM's rule: hypercalls come from ring 0 only. */
	if (unlikely(guest_cpl() != 0)) {
		r[GUEST_RAX] = HC_EPERM;
	} else if (r[GUEST_RAX] == HC_NOTIFY && r[GUEST_RBX] < EVENTS_PER_VM) {
		/* The hypercall doorbell, inline. Compared at full width: a
		 * 32-bit guest whose registers' upper halves are not zero
		 * goes through the dispatcher, which ignores them. */
		r[GUEST_RAX] = 0;
		return doorbell_ring(v, (u32)r[GUEST_RBX], vmcs_readnat(VMCS_GUEST_RIP),
				     vmcs_read32_u64(VMCS_EXIT_INSTRUCTION_LEN));
	} else if ((u32)r[GUEST_RAX] > HC_NOTIFY || (u32)r[GUEST_RAX] == 0) {
		/* No such hypercall (CONTRACTS.md 3): above HC_NOTIFY (the
		 * benchmark's null-vmcall, tested first), or 0 (kvm-unit-tests'
		 * vmexit "vmcall" row). Exact in every mode: when the low 32
		 * bits already name no hypercall, the number does not either,
		 * whatever width the mode gives it. */
		r[GUEST_RAX] = (u64)-ENOSYS;
	} else {
		return vmcall_dispatch(v);
	}
	vcpu_skip_instruction(v);
	return EXIT_RESUME;
}

#endif /* VMX_HOTPATH_H */
