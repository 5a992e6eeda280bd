/*
 * vmx/guestmem.c - reaching the guest's memory as the guest sees it, and the
 * MMIO path: fetch the instruction that exited, decode it, emulate it (emul/)
 * against guest RAM and the VM's MMIO bus, and hand the guest the result or
 * the exception a real CPU would have raised.
 *
 * The emulator reaches memory only through the callbacks below. Each access
 * is cut at 4-KiB page boundaries and every page is translated on its own
 * (through the guest's page tables, vmx/gwalk.c), then sent to RAM or to the
 * MMIO bus by its guest-physical address: one access may straddle RAM, IORAM
 * and unassigned memory in any combination. All pages are translated before
 * any byte is written, so a #PF on the second page leaves the first one
 * untouched, as on a real CPU.
 *
 * SDM Vol. 3A, "Paging", "Page-Fault Exceptions", "Canonical Addressing",
 * "Limit Checking", "Type Checking"; Vol. 3C, "EPT Violations", "Exit
 * Qualification for EPT Violations", "Event Injection".
 */
#include "vmx/vmx_priv.h"
#include "vmx/gwalk.h"
#include "emul/emul.h"
#include "ept/ept.h"

#define CR0_PE           BIT(0)
#define CR0_TS           BIT(3)
#define CR0_EM           BIT(2)
#define CR0_PG           BIT(31)
#define CR4_PAE          BIT(5)
#define CR4_OSFXSR       BIT(9)
#define CR4_LA57         BIT(12)
#define EFER_LMA         BIT(10)
#define RFLAGS_DF        BIT(10)
#define EXC_DE           0
#define EXC_UD           6
#define EXC_SS           12
#define EXC_GP           13
#define EXC_PF           14
#define PAGE_OFFSET_MASK (PAGE_SIZE - 1)
#define FAIL_REPORTS     16	/* per VM, then quiet */
#define BUS_ACCESS_MAX   8	/* the MMIO bus takes 1..8 bytes at a time */
#define SEEN_MAX         8	/* translations remembered per emulation */

/* SDM Vol. 3A, "Segment Descriptor Types": data segments. */
#define SEG_TYPE_CODE      BIT(3)
#define SEG_TYPE_DATA_EXPDOWN BIT(2)
#define SEG_TYPE_DATA_WRITE   BIT(1)
#define SEG_TYPE_CODE_READ    BIT(1)
#define SEG_LIMIT_16       0xffffull
#define SEG_LIMIT_32       0xffffffffull

static u32 fail_reported[MAX_CPUS];

static int gwalk_read_guest(void *ctx, u64 gpa, void *buf, u32 size)
{
	void *p = vm_gpa_to_hva(ctx, gpa, size);
	if (!p)
		return -EFAULT;
	memcpy(buf, p, size);
	return 0;
}

/* The guest state the page walk depends on, read once per emulation. */
void vcpu_walk_regs(struct gwalk_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->cr0 = guest_cr0();
	r->cr3 = vmcs_readnat(VMCS_GUEST_CR3);
	r->cr4 = guest_cr4();
	r->efer = vmcs_read64(VMCS_GUEST_IA32_EFER);
	r->cpl = vmx_ar_dpl(vmcs_read32(VMCS_GUEST_SS_AR_BYTES));
	r->rflags = vmcs_readnat(VMCS_GUEST_RFLAGS);	/* AC, for SMAP */
	/* SDM Vol. 3C, "Guest Non-Register State" (PDPTEs): with EPT, PAE
	 * paging uses the PDPTEs loaded with CR3, which the VMCS holds. */
	if ((r->cr0 & CR0_PG) && (r->cr4 & CR4_PAE) && !(r->efer & EFER_LMA)) {
		r->pdptes_valid = true;
		r->pdpte[0] = vmcs_read64(VMCS_GUEST_PDPTE0);
		r->pdpte[1] = vmcs_read64(VMCS_GUEST_PDPTE1);
		r->pdpte[2] = vmcs_read64(VMCS_GUEST_PDPTE2);
		r->pdpte[3] = vmcs_read64(VMCS_GUEST_PDPTE3);
	}
}

/* SDM Vol. 3C, "Event Injection": a hardware exception delivered at the
 * current RIP (a fault: the instruction does not complete). #PF also loads
 * CR2, which is the guest's own while doorbell runs (vmx/entry.asm never
 * switches it). */
/*
 * SDM Vol. 3A, "EFLAGS Register" (RF) and "Instruction-Breakpoint Exception
 * Condition": the EFLAGS image a fault pushes has RF set, so that the
 * handler's IRET back to the faulting instruction does not retrigger an
 * instruction breakpoint on it. An injected exception pushes the VMCS's
 * guest RFLAGS as it is: set RF there for a fault (as KVM does).
 */
void vcpu_fault_set_rf(u32 vector)
{
	if (intr_vector_is_fault(vector))
		vmcs_writenat(VMCS_GUEST_RFLAGS, vmcs_readnat(VMCS_GUEST_RFLAGS) | RFLAGS_RF);
}

/*
 * An exit that happened while the CPU delivered an event (IDT-vectoring
 * information valid) and that the handler resolved without emulating
 * anything: the event is delivered again from the start on VM entry, with
 * its error code and, for INT n, INT1, INT3 and INTO, the instruction
 * length the exit saved (SDM Vol. 3C, "Information for VM Exits During
 * Event Delivery", "VM-Entry Controls for Event Injection"). NMIs exit
 * (PIN_BASED_NMI_EXITING, vmx/vmcs.c), so none is ever being delivered to
 * the guest, and the qualification's "NMI unblocking due to IRET" bit is
 * undefined with NMI exiting on and virtual NMIs off.
 */
void vcpu_reinject_vectoring(u32 vectoring)
{
	u32 type = intr_info_type(vectoring);
	bool has_error = intr_info_has_error_code(vectoring);

	vmcs_write32(VMCS_ENTRY_INTR_INFO,
		     intr_info_build(intr_info_vector(vectoring), type, has_error));
	if (has_error)
		vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE,
			     vmcs_read32(VMCS_IDT_VECTORING_ERROR_CODE));
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	    type == INTR_TYPE_SW_EXCEPTION)
		vmcs_write32(VMCS_ENTRY_INSTRUCTION_LEN, vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN));
}

void vcpu_inject_fault(struct vcpu *v, u32 vector, u32 error_code, u64 cr2)
{
	vmcs_write32(VMCS_ENTRY_INTR_INFO, intr_info_hw_exception(vector));
	vcpu_fault_set_rf(vector);
	if (intr_vector_has_error_code(vector))
		vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	(void)v;
	if (vector == EXC_PF)
		__asm__ volatile("mov %0, %%cr2" : : "r"(cr2));
}

/* Translates gla with the walk state r for access (GWALK_*). 0, or the
 * gwalk errors: -EFAULT (#PF, *pf_error set), -ERANGE (not canonical), -EIO
 * (the guest's tables lie outside its RAM). */
static int translate_with(struct vcpu *v, const struct gwalk_regs *r, u64 gla, u32 access,
			  u64 *gpa, u32 *pf_error)
{
	return gwalk_translate(r, gla, access, gwalk_read_guest, v->vm, gpa, pf_error);
}

int vcpu_translate(struct vcpu *v, u64 gla, bool write, u64 *gpa)
{
	struct gwalk_regs r;
	u32 pf_error = 0;

	vcpu_walk_regs(&r);
	int rc = translate_with(v, &r, gla, write ? GWALK_WRITE : 0, gpa, &pf_error);
	if (rc == -EFAULT) {
		vcpu_inject_fault(v, EXC_PF, pf_error, gla);
	} else if (rc == -ERANGE) {
		/* SDM Vol. 3A, "Canonical Addressing": #GP(0), not #PF. */
		vcpu_inject_gp(v);
		rc = -EFAULT;
	} else if (rc) {
		printk("vm %u: walking the guest's page tables for 0x%llx failed (%d)\n",
		       v->vm->index, gla, rc);
		vm_end(v->vm, VM_END_CRASH, 125);
		rc = -EFAULT;
	}
	return rc;
}

/* ---- guest-physical accesses: RAM or the MMIO bus ------------------------- */

void vm_phys_access(struct vm *vm, u64 gpa, u8 *buf, u32 size, bool write)
{
	void *p = vm_gpa_to_hva(vm, gpa, size);

	if (p) {
		if (write) {
			memcpy(p, buf, size);
			insn_cache_ram_written(vm, gpa, size);
		} else
			memcpy(buf, p, size);
		return;
	}
	/* One bus access per at most 8 bytes, at the guest's own address and
	 * size: a device (or a doorbell's exact address-and-length match)
	 * sees what the guest did, misaligned or not, as under KVM, which
	 * cuts only at page boundaries and into 8-byte pieces. */
	while (size) {
		u32 n = MIN(size, (u32)BUS_ACCESS_MAX);
		if (write)
			vm_bus_write(vm, IOBUS_MMIO, gpa, n, buf);
		else
			vm_bus_read(vm, IOBUS_MMIO, gpa, n, buf);
		gpa += n;
		buf += n;
		size -= n;
	}
}

/* ---- one emulation: its state and the emulator's callbacks ---------------- */

struct mmio_session {
	struct vcpu *v;
	struct vm *vm;
	struct gwalk_regs walk;
	/* The translations made so far (page-aligned gla -> gpa): an access
	 * the emulator sends by guest-physical address that runs past the end
	 * of its page continues on the page its linear address continues on. */
	u64 seen_gla[SEEN_MAX], seen_gpa[SEEN_MAX];
	u32 seen;
	/* A fault a callback found, for an emulator that cannot report it. */
	bool fault;
	u32 fault_vector, fault_error;
	u64 fault_cr2;
};

static void session_remember(struct mmio_session *s, u64 gla, u64 gpa)
{
	u32 i = s->seen < SEEN_MAX ? s->seen++ : SEEN_MAX - 1;
	s->seen_gla[i] = gla & ~PAGE_OFFSET_MASK;
	s->seen_gpa[i] = gpa & ~PAGE_OFFSET_MASK;
}

/* Translates gla for the emulator. 0 and *gpa; else, with the exception API,
 * EMUL_FAULT(#PF, error code) or -ERANGE (non-canonical: the emulator picks
 * #GP or #SS); without it, the fault is kept for vmmio_emulate to inject and
 * -EFAULT returned. */
static int session_translate(struct mmio_session *s, u64 gla, u32 access, u64 *gpa)
{
	u32 pf_error = 0;
	int rc = translate_with(s->v, &s->walk, gla, access, gpa, &pf_error);

	if (rc == 0) {
		session_remember(s, gla, *gpa);
		return 0;
	}
	if (rc == -EFAULT) {
#ifdef EMUL_EXCEPTION
		return EMUL_FAULT(EMUL_EXC_PF, pf_error);
#else
		s->fault = true;
		s->fault_vector = EXC_PF;
		s->fault_error = pf_error;
		s->fault_cr2 = gla;
		return -EFAULT;
#endif
	}
	if (rc == -ERANGE) {
#ifdef EMUL_EXCEPTION
		return -ERANGE;
#else
		s->fault = true;
		s->fault_vector = EXC_GP;
		s->fault_error = 0;
		return -EFAULT;
#endif
	}
	printk("vm %u: walking the guest's page tables for 0x%llx failed (%d)\n",
	       s->vm->index, gla, rc);
	return -EIO;
}

static int cb_translate(void *opaque, u64 gla, bool write, u64 *gpa)
{
	return session_translate(opaque, gla, write ? GWALK_WRITE : 0, gpa);
}

/* The linear address the emulator reached gpa by, if it translated it. */
static bool session_gla_of(const struct mmio_session *s, u64 gpa, u64 *gla)
{
	for (u32 i = s->seen; i-- > 0;) {
		if (s->seen_gpa[i] == (gpa & ~PAGE_OFFSET_MASK)) {
			*gla = s->seen_gla[i] | (gpa & PAGE_OFFSET_MASK);
			return true;
		}
	}
	return false;
}

/* An access of size bytes at gpa. When it runs past its page, the rest is
 * on the page its linear address continues on (translated here, before any
 * byte moves); with no known linear address, on the next guest-physical
 * page. */
static int session_access(struct mmio_session *s, u64 gpa, void *buf, u32 size, bool write)
{
	u64 first = MIN((u64)size, PAGE_SIZE - (gpa & PAGE_OFFSET_MASK));
	u64 gpa2 = gpa + first, gla;

	if (first < size && session_gla_of(s, gpa, &gla)) {
		int rc = session_translate(s, gla + first, write ? GWALK_WRITE : 0, &gpa2);
		if (rc)
			return rc;
	}
	vm_phys_access(s->vm, gpa, buf, (u32)first, write);
	if (first < size)
		vm_phys_access(s->vm, gpa2, (u8 *)buf + first, size - (u32)first, write);
	return 0;
}

static int cb_read(void *opaque, u64 gpa, void *buf, u32 size)
{
	return session_access(opaque, gpa, buf, size, false);
}

static int cb_write(void *opaque, u64 gpa, void *buf, u32 size)
{
	return session_access(opaque, gpa, buf, size, true);
}

static bool cb_is_mmio(void *opaque, u64 gpa)
{
	struct mmio_session *s = opaque;
	return gpa >= s->vm->ram_size;
}

#ifdef EMUL_EXCEPTION
/*
 * The guest's XMM and MMX registers are live in this CPU's registers while
 * doorbell handles the exit: the host never uses SSE, MMX or x87 state
 * (-mgeneral-regs-only). Moving them needs CR4.OSFXSR for SSE (SDM Vol. 3A,
 * "Initialization of the SSE Extensions") and CR0.EM/TS clear, which the
 * host's own CR0 has; OSFXSR is set for the move only.
 */
#define XMM_MOVE(n, insn, buf) \
	case n: __asm__ volatile(insn : : "r"(buf) : "memory"); break
static void xmm_move(u8 reg, void *buf, bool write)
{
	u64 cr4 = read_cr4();
	write_cr4(cr4 | CR4_OSFXSR);
	if (write) {
		switch (reg) {
		XMM_MOVE(0, "movdqu (%0), %%xmm0", buf);   XMM_MOVE(1, "movdqu (%0), %%xmm1", buf);
		XMM_MOVE(2, "movdqu (%0), %%xmm2", buf);   XMM_MOVE(3, "movdqu (%0), %%xmm3", buf);
		XMM_MOVE(4, "movdqu (%0), %%xmm4", buf);   XMM_MOVE(5, "movdqu (%0), %%xmm5", buf);
		XMM_MOVE(6, "movdqu (%0), %%xmm6", buf);   XMM_MOVE(7, "movdqu (%0), %%xmm7", buf);
		XMM_MOVE(8, "movdqu (%0), %%xmm8", buf);   XMM_MOVE(9, "movdqu (%0), %%xmm9", buf);
		XMM_MOVE(10, "movdqu (%0), %%xmm10", buf); XMM_MOVE(11, "movdqu (%0), %%xmm11", buf);
		XMM_MOVE(12, "movdqu (%0), %%xmm12", buf); XMM_MOVE(13, "movdqu (%0), %%xmm13", buf);
		XMM_MOVE(14, "movdqu (%0), %%xmm14", buf); XMM_MOVE(15, "movdqu (%0), %%xmm15", buf);
		}
	} else {
		switch (reg) {
		XMM_MOVE(0, "movdqu %%xmm0, (%0)", buf);   XMM_MOVE(1, "movdqu %%xmm1, (%0)", buf);
		XMM_MOVE(2, "movdqu %%xmm2, (%0)", buf);   XMM_MOVE(3, "movdqu %%xmm3, (%0)", buf);
		XMM_MOVE(4, "movdqu %%xmm4, (%0)", buf);   XMM_MOVE(5, "movdqu %%xmm5, (%0)", buf);
		XMM_MOVE(6, "movdqu %%xmm6, (%0)", buf);   XMM_MOVE(7, "movdqu %%xmm7, (%0)", buf);
		XMM_MOVE(8, "movdqu %%xmm8, (%0)", buf);   XMM_MOVE(9, "movdqu %%xmm9, (%0)", buf);
		XMM_MOVE(10, "movdqu %%xmm10, (%0)", buf); XMM_MOVE(11, "movdqu %%xmm11, (%0)", buf);
		XMM_MOVE(12, "movdqu %%xmm12, (%0)", buf); XMM_MOVE(13, "movdqu %%xmm13, (%0)", buf);
		XMM_MOVE(14, "movdqu %%xmm14, (%0)", buf); XMM_MOVE(15, "movdqu %%xmm15, (%0)", buf);
		}
	}
	write_cr4(cr4);
}

static void mmx_move(u8 reg, void *buf, bool write)
{
	if (write) {
		switch (reg) {
		XMM_MOVE(0, "movq (%0), %%mm0", buf); XMM_MOVE(1, "movq (%0), %%mm1", buf);
		XMM_MOVE(2, "movq (%0), %%mm2", buf); XMM_MOVE(3, "movq (%0), %%mm3", buf);
		XMM_MOVE(4, "movq (%0), %%mm4", buf); XMM_MOVE(5, "movq (%0), %%mm5", buf);
		XMM_MOVE(6, "movq (%0), %%mm6", buf); XMM_MOVE(7, "movq (%0), %%mm7", buf);
		}
	} else {
		switch (reg) {
		XMM_MOVE(0, "movq %%mm0, (%0)", buf); XMM_MOVE(1, "movq %%mm1, (%0)", buf);
		XMM_MOVE(2, "movq %%mm2, (%0)", buf); XMM_MOVE(3, "movq %%mm3, (%0)", buf);
		XMM_MOVE(4, "movq %%mm4, (%0)", buf); XMM_MOVE(5, "movq %%mm5, (%0)", buf);
		XMM_MOVE(6, "movq %%mm6, (%0)", buf); XMM_MOVE(7, "movq %%mm7, (%0)", buf);
		}
	}
}

static int vreg_access(u8 vreg, void *buf, u32 size, bool write)
{
	if (vreg < EMUL_VREG_MM0 && size == 16) {
		xmm_move(vreg, buf, write);
		return 0;
	}
	if (vreg >= EMUL_VREG_MM0 && vreg < EMUL_VREG_MM0 + 8 && size == 8) {
		mmx_move((u8)(vreg - EMUL_VREG_MM0), buf, write);
		return 0;
	}
	return -EINVAL;
}

static int cb_load_seg(void *opaque, u8 seg, u16 sel)
{
	struct mmio_session *s = opaque;
	return vcpu_load_segment(s->v, &s->walk, seg, sel);
}

static int cb_vreg_read(void *opaque, u8 vreg, void *buf, u32 size)
{
	(void)opaque;
	return vreg_access(vreg, buf, size, false);
}

static int cb_vreg_write(void *opaque, u8 vreg, void *buf, u32 size)
{
	(void)opaque;
	return vreg_access(vreg, buf, size, true);
}
#endif /* EMUL_EXCEPTION */

/* ---- segment checks for the accesses that did not exit -------------------- */

static const u32 seg_base_fields[EMUL_NR_SEGS] = {
	[EMUL_SEG_ES] = VMCS_GUEST_ES_BASE, [EMUL_SEG_CS] = VMCS_GUEST_CS_BASE,
	[EMUL_SEG_SS] = VMCS_GUEST_SS_BASE, [EMUL_SEG_DS] = VMCS_GUEST_DS_BASE,
	[EMUL_SEG_FS] = VMCS_GUEST_FS_BASE, [EMUL_SEG_GS] = VMCS_GUEST_GS_BASE,
};
static const u32 seg_sel_fields[EMUL_NR_SEGS] = {
	[EMUL_SEG_ES] = VMCS_GUEST_ES_SELECTOR, [EMUL_SEG_CS] = VMCS_GUEST_CS_SELECTOR,
	[EMUL_SEG_SS] = VMCS_GUEST_SS_SELECTOR, [EMUL_SEG_DS] = VMCS_GUEST_DS_SELECTOR,
	[EMUL_SEG_FS] = VMCS_GUEST_FS_SELECTOR, [EMUL_SEG_GS] = VMCS_GUEST_GS_SELECTOR,
};
static const u32 seg_limit_fields[EMUL_NR_SEGS] = {
	[EMUL_SEG_ES] = VMCS_GUEST_ES_LIMIT, [EMUL_SEG_CS] = VMCS_GUEST_CS_LIMIT,
	[EMUL_SEG_SS] = VMCS_GUEST_SS_LIMIT, [EMUL_SEG_DS] = VMCS_GUEST_DS_LIMIT,
	[EMUL_SEG_FS] = VMCS_GUEST_FS_LIMIT, [EMUL_SEG_GS] = VMCS_GUEST_GS_LIMIT,
};
static const u32 seg_ar_fields[EMUL_NR_SEGS] = {
	[EMUL_SEG_ES] = VMCS_GUEST_ES_AR_BYTES, [EMUL_SEG_CS] = VMCS_GUEST_CS_AR_BYTES,
	[EMUL_SEG_SS] = VMCS_GUEST_SS_AR_BYTES, [EMUL_SEG_DS] = VMCS_GUEST_DS_AR_BYTES,
	[EMUL_SEG_FS] = VMCS_GUEST_FS_AR_BYTES, [EMUL_SEG_GS] = VMCS_GUEST_GS_AR_BYTES,
};

/*
 * True when [off, off + size) lies inside the segment and the access is
 * allowed by its type (SDM Vol. 3A, "Limit Checking" and "Type Checking";
 * real mode and virtual-8086 mode check the limit too). An expand-down
 * data segment holds the offsets above its limit, up to 0xffff or
 * 0xffffffff by its B flag. An unusable (null) segment allows nothing.
 */
bool vseg_access_ok(const struct vseg *c, u64 off, u32 size, bool write)
{
	u32 type = c->ar & VMX_AR_TYPE_MASK;
	u64 last = off + size - 1;

	if (c->ar & VMX_AR_UNUSABLE)
		return false;
	if (type & SEG_TYPE_CODE) {
		if (write || !(type & SEG_TYPE_CODE_READ))
			return false;
	} else if (write && !(type & SEG_TYPE_DATA_WRITE)) {
		return false;
	}
	if (!(type & SEG_TYPE_CODE) && (type & SEG_TYPE_DATA_EXPDOWN)) {
		u64 top = (c->ar & VMX_AR_DB) ? SEG_LIMIT_32 : SEG_LIMIT_16;
		return off > c->limit && last <= top;
	}
	return last <= c->limit && last >= off;
}

void vseg_read(u32 seg, struct vseg *c)
{
	c->base = vmcs_readnat(seg_base_fields[seg]);
	c->limit = vmcs_read32(seg_limit_fields[seg]);
	c->ar = vmcs_read32(seg_ar_fields[seg]);
}

/*
 * Outside 64-bit mode, checks the accesses of a string or stack instruction
 * that the CPU did not check before the exit (it checked only the one that
 * exited, and the emulator makes the others): the first iteration of rSI
 * and rDI, and how many REP iterations stay inside the segments, which
 * becomes the emulator's REP limit (the guest re-executes the rest and
 * faults at the first iteration outside). Returns 0, or the vector of the
 * fault (#GP(0), or #SS(0) for the stack segment) with nothing done.
 */
static u32 check_segments(const struct emul_insn *insn, struct emul_ctx *ctx)
{
	const u64 amask = emul_size_mask(insn->addr_size);
	u32 size = insn->op_size;
	bool src = false, dst = false, dst_write = true;

	switch (insn->type) {
	case EMUL_OP_MOVS: src = dst = true; break;
	case EMUL_OP_LODS: src = true; break;
	case EMUL_OP_STOS: dst = true; break;
#ifdef EMUL_EXCEPTION
	case EMUL_OP_CMPS: src = dst = true; dst_write = false; break;
	case EMUL_OP_SCAS: dst = true; dst_write = false; break;
	case EMUL_OP_CALL:
#endif
	case EMUL_OP_PUSH: {
		/* The push's slot just below rSP, in SS. */
		struct vseg ss;
		u32 ssz = ctx->ss_big ? 4 : 2;
		u64 sp = (ctx->gprs[EMUL_REG_RSP] - size) & emul_size_mask(ssz);
		vseg_read(EMUL_SEG_SS, &ss);
		return vseg_access_ok(&ss, sp, size, true) ? 0 : EXC_SS;
	}
#ifdef EMUL_EXCEPTION
	case EMUL_OP_RET:
#endif
	case EMUL_OP_POP: {
		struct vseg ss;
		u32 ssz = ctx->ss_big ? 4 : 2;
		vseg_read(EMUL_SEG_SS, &ss);
		return vseg_access_ok(&ss, ctx->gprs[EMUL_REG_RSP] & emul_size_mask(ssz), size,
				     false) ? 0 : EXC_SS;
	}
	default:
		return 0;
	}

	struct vseg sc = { 0 }, dc = { 0 };
	u64 si = ctx->gprs[EMUL_REG_RSI] & amask, di = ctx->gprs[EMUL_REG_RDI] & amask;
	u64 step = (ctx->rflags & RFLAGS_DF) ? (u64)-(s64)size : size;
	u64 count = insn->rep ? ctx->gprs[EMUL_REG_RCX] & amask : 1;
	u32 limit = ctx->rep_limit ? ctx->rep_limit : EMUL_REP_LIMIT_DEFAULT;
	u32 ok = 0;

	if (src)
		vseg_read(insn->mem.seg, &sc);
	if (dst)
		vseg_read(EMUL_SEG_ES, &dc);
	while (ok < limit && ok < count) {
		if (src && !vseg_access_ok(&sc, si, size, false))
			break;
		if (dst && !vseg_access_ok(&dc, di, size, dst_write))
			break;
		si = (si + step) & amask;
		di = (di + step) & amask;
		ok++;
	}
	if (ok == 0 && count)
		return (src && insn->mem.seg == EMUL_SEG_SS && !vseg_access_ok(&sc, si, size, false))
			? EXC_SS : EXC_GP;
	ctx->rep_limit = ok ? ok : limit;
	return 0;
}

/* ---- decoding and emulating ------------------------------------------------ */

/* The decoder's mode from CS and CR0 (SDM Vol. 3A, "IA-32e Mode
 * Operation"). */
static enum emul_cpu_mode guest_cpu_mode(void)
{
	u32 cs = vmcs_read32(VMCS_GUEST_CS_AR_BYTES);
	if (!(guest_cr0() & CR0_PE))
		return EMUL_MODE_REAL;
	if (cs & VMX_AR_L)
		return EMUL_MODE_LONG64;
	return (cs & VMX_AR_DB) ? EMUL_MODE_PROT32 : EMUL_MODE_PROT16;
}

/* Fetches up to 15 instruction bytes at CS:RIP, page by page, from guest
 * RAM. Returns how many it got; a page that does not translate ends the
 * fetch and its #PF is kept in *pf (the decoder says if the bytes were too
 * few: then the CPU, too, would have faulted fetching them). */
static size_t fetch_insn(struct mmio_session *s, u64 rip, u8 *bytes, u32 *pf_error,
			 u64 *pf_addr, bool *pf)
{
	size_t got = 0;

	*pf = false;
	while (got < EMUL_INSN_MAX_LEN) {
		u64 gpa;
		int rc = translate_with(s->v, &s->walk, rip + got, GWALK_FETCH, &gpa, pf_error);
		if (rc) {
			*pf = rc == -EFAULT;
			*pf_addr = rip + got;
			break;
		}
		u64 chunk = MIN((u64)(EMUL_INSN_MAX_LEN - got), PAGE_SIZE - (gpa & PAGE_OFFSET_MASK));
		void *p = vm_gpa_to_hva(s->vm, gpa, chunk);
		if (!p)
			break;
		memcpy(bytes + got, p, chunk);
		got += chunk;
	}
	return got;
}

/*
 * An instruction the emulator cannot decode or execute: with emul_fail=ud
 * (the default) the guest gets #UD at the instruction, as a CPU that does not
 * know the bytes would give it, and the VM goes on; with emul_fail=stop it is
 * stopped. Logged with the bytes, RIP and address, rate-limited.
 */
static bool emulation_failed(struct vcpu *v, u64 gpa, u64 rip, const u8 *bytes, size_t n,
			     const char *why)
{
	struct vm *vm = v->vm;
	u32 i = vm->index < MAX_CPUS ? vm->index : 0;
	bool stop = boot_cfg.emul_fail == EMUL_FAIL_STOP;

	if (stop || fail_reported[i] < FAIL_REPORTS) {
		char hex[3 * EMUL_INSN_MAX_LEN + 1];
		size_t k = 0;
		fail_reported[i]++;
		for (size_t j = 0; j < n && j < EMUL_INSN_MAX_LEN; j++)
			k += (size_t)fmt_snprintf(hex + k, sizeof(hex) - k, "%s%02x",
						  j ? " " : "", bytes[j]);
		hex[k] = '\0';
		printk("vm %u: cannot emulate the access to guest-physical 0x%llx at RIP 0x%llx "
		       "(bytes %s): %s; %s%s\n", vm->index, gpa, rip, n ? hex : "none", why,
		       stop ? "stopping the guest (emul_fail=stop)" : "#UD to the guest",
		       !stop && fail_reported[i] == FAIL_REPORTS ? "; further ones not logged" : "");
	}
	if (stop)
		return false;
	vcpu_inject_fault(v, EXC_UD, 0, 0);
	return true;
}

bool vmmio_emulate(struct vcpu *v, u64 gpa, u64 qual)
{
	struct vm *vm = v->vm;
	struct mmio_session s = { .v = v, .vm = vm };
	u8 bytes[EMUL_INSN_MAX_LEN];
	struct emul_insn insn;
	struct emul_ctx ctx;
	char text[80];
	u32 pf_error;
	u64 pf_addr;
	bool pf;

	vcpu_walk_regs(&s.walk);
	u64 rip = vmcs_readnat(VMCS_GUEST_RIP);
	u64 cs_base = vmcs_readnat(VMCS_GUEST_CS_BASE);
	enum emul_cpu_mode mode = guest_cpu_mode();
	u64 lip = mode == EMUL_MODE_LONG64 ? rip : (cs_base + rip) & SEG_LIMIT_32;
	size_t n = fetch_insn(&s, lip, bytes, &pf_error, &pf_addr, &pf);
	int r = emul_decode(bytes, n, mode, &insn);
	if (r == -E2BIG && pf) {
		/* The rest of the instruction is on a page the guest cannot
		 * fetch from (it changed its tables since): #PF on the fetch. */
		vcpu_inject_fault(v, EXC_PF, pf_error, pf_addr);
		return true;
	}
	if (r < 0)
		return emulation_failed(v, gpa, rip, bytes, n, insn.why);

	memset(&ctx, 0, sizeof(ctx));
	memcpy(ctx.gprs, v->regs.gpr, sizeof(ctx.gprs));
	ctx.gprs[GUEST_RSP] = vmcs_readnat(VMCS_GUEST_RSP);
	ctx.rflags = vmcs_readnat(VMCS_GUEST_RFLAGS);
	ctx.rip = rip;
	for (u32 seg = 0; seg < EMUL_NR_SEGS; seg++)
		ctx.seg_base[seg] = vmcs_readnat(seg_base_fields[seg]);
	ctx.ss_big = (vmcs_read32(VMCS_GUEST_SS_AR_BYTES) & VMX_AR_DB) != 0;
	ctx.opaque = &s;
	ctx.translate = cb_translate;
	ctx.is_mmio = cb_is_mmio;
	ctx.mmio_read = cb_read;
	ctx.mmio_write = cb_write;
	ctx.mem_read = cb_read;
	ctx.mem_write = cb_write;
#ifdef EMUL_EXCEPTION
	ctx.cr0 = s.walk.cr0;
	ctx.la57 = (s.walk.cr4 & CR4_LA57) != 0;
	if (insn.type == EMUL_OP_MOVSEG || insn.type == EMUL_OP_CALLF)	/* only these read them */
		for (u32 seg = 0; seg < EMUL_NR_SEGS; seg++)
			ctx.seg_sel[seg] = vmcs_read16(seg_sel_fields[seg]);
	ctx.vreg_read = cb_vreg_read;
	ctx.vreg_write = cb_vreg_write;
	ctx.load_seg = cb_load_seg;
#endif

	/*
	 * ctx.gpa is the first byte of the instruction's explicit memory
	 * operand. The exit's address is that byte unless the access started
	 * on a page that did not exit (RAM, then MMIO on the next page) or the
	 * exit was another access of the instruction: then the operand's
	 * linear address is translated. SDM Vol. 3C, "Exit Qualification for
	 * EPT Violations": bits 7 and 8 say the linear-address field holds the
	 * address of the access that exited.
	 */
	ctx.gpa = gpa;
	if (insn.flags & EMUL_OPF_MODRM || insn.flags & EMUL_OPF_MOFFS ||
	    insn.flags & EMUL_OPF_STRING) {
		u64 gla = emul_mem_gla(&insn, &ctx), op_gpa;
		bool exit_gla_known = (qual & EPT_QUAL_GLA_VALID) && (qual & EPT_QUAL_GLA_TRANSLATED);
		if (exit_gla_known && vmcs_readnat(VMCS_GUEST_LINEAR_ADDRESS) == gla) {
			session_remember(&s, gla, gpa);
		} else if (translate_with(v, &s.walk, gla, 0, &op_gpa, &pf_error) == 0) {
			session_remember(&s, gla, op_gpa);
			ctx.gpa = op_gpa;
		}
	}

	if (mode != EMUL_MODE_LONG64) {
		u32 vec = check_segments(&insn, &ctx);
		if (vec) {
			vcpu_inject_fault(v, vec, 0, 0);
			return true;
		}
	}
	if (boot_cfg.trace)
		printk("trace: vm %u emulate %s at gpa 0x%llx\n", vm->index,
		       emul_describe(&insn, text, sizeof(text)), ctx.gpa);

	u32 intr_before = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	bool tf_before = (ctx.rflags & RFLAGS_TF) != 0;
	int len = emul_execute(&insn, &ctx);
#ifdef EMUL_EXCEPTION
	if (len == EMUL_EXCEPTION) {
		/* REP progress stays (registers and the flags of the last
		 * completed iteration): the guest's handler resumes the REP.
		 * RFLAGS first: the injection sets RF in it. */
		memcpy(v->regs.gpr, ctx.gprs, sizeof(ctx.gprs));
		vmcs_writenat(VMCS_GUEST_RSP, ctx.gprs[GUEST_RSP]);
		vmcs_writenat(VMCS_GUEST_RFLAGS, ctx.rflags);
		vcpu_inject_fault(v, ctx.exc.vector, ctx.exc.error_code, ctx.exc.cr2);
		return true;
	}
#endif
	if (len < 0) {
		if (s.fault) {
			vcpu_inject_fault(v, s.fault_vector, s.fault_error, s.fault_cr2);
			memcpy(v->regs.gpr, ctx.gprs, sizeof(ctx.gprs));
			vmcs_writenat(VMCS_GUEST_RSP, ctx.gprs[GUEST_RSP]);
			return true;
		}
		if (len == -EIO) {
			vm_end(vm, VM_END_CRASH, 125);	/* page tables outside RAM: said */
			return true;
		}
		return emulation_failed(v, ctx.gpa, rip, bytes, insn.len, ctx.why);
	}
	memcpy(v->regs.gpr, ctx.gprs, sizeof(ctx.gprs));
	vmcs_writenat(VMCS_GUEST_RSP, ctx.gprs[GUEST_RSP]);
	vmcs_writenat(VMCS_GUEST_RFLAGS, ctx.rflags);
#ifdef EMUL_EXCEPTION
	vmcs_writenat(VMCS_GUEST_RIP, ctx.next_rip);
#else
	if (len)
		vmcs_writenat(VMCS_GUEST_RIP, rip + (u64)len);
#endif
	if (len && (intr_before & (GUEST_INTR_BLOCKING_STI | GUEST_INTR_BLOCKING_MOV_SS))) {
		/* SDM "Interruptibility State": a completed instruction ends the
		 * STI or MOV SS blocking it started under (a MOV SS it emulated
		 * starts its own, set by vcpu_load_segment). */
		u32 intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO);
		vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY_INFO, intr &
			     ~(intr_before & (GUEST_INTR_BLOCKING_STI | GUEST_INTR_BLOCKING_MOV_SS)));
	}
	/* A completed instruction executed with RFLAGS.TF set traps after it
	 * (SDM Vol. 3A, "Single-Step Exception Condition"): BS in the pending
	 * debug exceptions delivers that #DB right after VM entry, as
	 * vcpu_skip does for the instructions we skip. */
	if (len && tf_before)
		vmcs_writenat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
			      vmcs_readnat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) | PENDING_DBG_BS);
	return true;
}
