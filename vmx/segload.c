/*
 * vmx/segload.c - loading a segment register or the task register for an
 * emulated MOV Sreg, Ew or LTR whose operand was in MMIO, and CS for an
 * emulated far JMP or CALL through a pointer in MMIO: the descriptor is
 * read from the guest's GDT or LDT, checked as the SDM's MOV and LTR pages
 * say, and written into the VMCS's guest-state area; the descriptor's
 * accessed (or busy) bit is set in guest memory, as the CPU does.
 *
 * SDM Vol. 2B, "MOV--Move" (the segment-register operation), "LTR--Load Task
 * Register"; Vol. 2A, "JMP--Jump" and "CALL--Call Procedure" (far transfers
 * to a code segment); Vol. 3A, "Segment Selectors", "Segment Descriptors", "TSS
 * Descriptor", "TSS Descriptor in 64-bit mode"; Vol. 3C, "Guest Register
 * State" (the access-rights format).
 */
#include "vmx/vmx_priv.h"
#include "vmx/gwalk.h"
#include "emul/emul.h"

#define CR0_PE            BIT(0)
#define RFLAGS_VM         BIT(17)
#define EFER_LMA          BIT(10)
#define EXC_NP            11
#define EXC_SS            12
#define EXC_GP            13

/* SDM Vol. 3A, "Segment Selectors" */
#define SEL_RPL_MASK      0x3u
#define SEL_TI            BIT(2)	/* 1: LDT */
#define SEL_INDEX_MASK    0xfff8u
#define REAL_MODE_SHIFT   4		/* real mode: base = selector * 16 */

/* SDM Vol. 3A, "Segment Descriptors": fields of the 8-byte descriptor. */
#define DESC_LIMIT_LOW    0xffffull
#define DESC_LIMIT_HIGH_SHIFT 48	/* bits 51:48: limit 19:16 */
#define DESC_LIMIT_HIGH   0xfull
#define DESC_BASE_LOW_SHIFT 16		/* bits 39:16: base 23:0 */
#define DESC_BASE_LOW     0xffffffull
#define DESC_BASE_HIGH_SHIFT 56		/* bits 63:56: base 31:24 */
#define DESC_AR_SHIFT     40		/* bits 55:40 are the VMCS AR bits 15:0 */
#define DESC_AR_MASK      0xf0ffu	/* without limit 19:16 (AR bits 11:8) */
#define DESC_TYPE_ACCESSED BIT(40)
#define DESC_TYPE_BUSY    BIT(41)	/* TSS: available -> busy */
#define LIMIT_G_SHIFT     12
#define LIMIT_G_FILL      0xfffu

/* Descriptor types (S = 1: code/data; S = 0: system). */
#define TYPE_CODE         BIT(3)
#define TYPE_CONFORMING   BIT(2)	/* code */
#define TYPE_READ_WRITE   BIT(1)	/* code: readable; data: writable */
#define TYPE_TSS16_AVAIL  0x1
#define TYPE_TSS_AVAIL    0x9

#ifdef EMUL_EXCEPTION	/* the emulator's exception API (issue 8) */

static const u32 sel_fields[EMUL_NR_SEGS] = {
	VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR,
	VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR,
};
static const u32 base_fields[EMUL_NR_SEGS] = {
	VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
	VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE,
};
static const u32 limit_fields[EMUL_NR_SEGS] = {
	VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT,
	VMCS_GUEST_DS_LIMIT, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT,
};
static const u32 ar_fields[EMUL_NR_SEGS] = {
	VMCS_GUEST_ES_AR_BYTES, VMCS_GUEST_CS_AR_BYTES, VMCS_GUEST_SS_AR_BYTES,
	VMCS_GUEST_DS_AR_BYTES, VMCS_GUEST_FS_AR_BYTES, VMCS_GUEST_GS_AR_BYTES,
};

static int fault(u32 vector, u16 error_code)
{
	return (int)EMUL_FAULT((u32)vector, (u32)error_code);
}

static int read_guest(void *ctx, u64 gpa, void *buf, u32 size)
{
	void *p = vm_gpa_to_hva(ctx, gpa, size);
	if (!p)
		return -EFAULT;
	memcpy(buf, p, size);
	return 0;
}

/* Sets a descriptor's accessed or busy bit, as the CPU's own locked update
 * would; the remembered doorbell store must hear of it (vmx/wprot.c). */
static void desc_write(struct vcpu *v, u64 *d, u64 desc)
{
	*d = desc;
	insn_cache_ram_written(v->vm, (u64)((u8 *)d - v->vm->ram), sizeof(*d));
}

/* A host pointer to 8 bytes of the descriptor table at linear la, or NULL
 * when it is not in guest RAM (the CPU's implicit supervisor access). */
static u64 *desc_ptr(struct vcpu *v, const struct gwalk_regs *walk, u64 la)
{
	struct gwalk_regs sup = *walk;
	u64 gpa;
	u32 pf;

	sup.cpl = 0;
	if (gwalk_translate(&sup, la, 0, read_guest, v->vm, &gpa, &pf) == 0)
		return vm_gpa_to_hva(v->vm, gpa, sizeof(u64));
	return NULL;
}

int vcpu_load_segment(struct vcpu *v, const struct gwalk_regs *walk, u32 seg, u16 sel)
{
	bool tr = seg == EMUL_NR_SEGS;
	u32 cpl = walk->cpl, rpl = sel & SEL_RPL_MASK;
	bool long_mode = (walk->efer & EFER_LMA) != 0;
	u16 err = sel & (SEL_INDEX_MASK | SEL_TI);

	if (!tr && seg >= EMUL_NR_SEGS)
		return -EINVAL;
	/* Real and virtual-8086 mode: the base is selector * 16, nothing
	 * checked (SDM "MOV": "IF in real-address or virtual-8086 mode"). */
	if (!(walk->cr0 & CR0_PE) || (vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_VM)) {
		if (tr)
			return (int)EMUL_FAULT_NOERR(EMUL_EXC_UD);
		vmcs_write16(sel_fields[seg], sel);
		vmcs_writenat(base_fields[seg], (u64)sel << REAL_MODE_SHIFT);
		return 0;
	}
	if (tr && cpl != 0)
		return fault(EXC_GP, 0);
	if ((sel & SEL_INDEX_MASK) == 0 && !(sel & SEL_TI)) {
		/* A null selector: DS ES FS GS become unusable; SS only in
		 * 64-bit mode at CPL < 3 with RPL = CPL; TR never. */
		if (tr || seg == EMUL_SEG_CS ||
		    (seg == EMUL_SEG_SS && (!long_mode || cpl == 3 || rpl != cpl)))
			return fault(EXC_GP, 0);
		vmcs_write16(sel_fields[seg], sel);
		vmcs_write32(ar_fields[seg], VMX_AR_UNUSABLE);
		return 0;
	}
	u64 table = vmcs_readnat(VMCS_GUEST_GDTR_BASE);
	u32 limit = vmcs_read32(VMCS_GUEST_GDTR_LIMIT);
	if (sel & SEL_TI) {
		if (tr || (vmcs_read32(VMCS_GUEST_LDTR_AR_BYTES) & VMX_AR_UNUSABLE))
			return fault(EXC_GP, err);
		table = vmcs_readnat(VMCS_GUEST_LDTR_BASE);
		limit = vmcs_read32(VMCS_GUEST_LDTR_LIMIT);
	}
	u32 desc_len = tr && long_mode ? 16 : 8;	/* "TSS Descriptor in 64-bit mode" */
	if ((u64)(sel & SEL_INDEX_MASK) + desc_len - 1 > limit)
		return fault(EXC_GP, err);
	u64 *d = desc_ptr(v, walk, table + (sel & SEL_INDEX_MASK));
	u64 *d_high = desc_len == 16 ? desc_ptr(v, walk, table + (sel & SEL_INDEX_MASK) + 8) : NULL;
	if (!d || (desc_len == 16 && !d_high))
		return fault(EXC_GP, err);	/* the table is not in RAM */

	u64 desc = *d;
	u32 ar = (u32)(desc >> DESC_AR_SHIFT) & DESC_AR_MASK;
	u32 type = ar & VMX_AR_TYPE_MASK, dpl = vmx_ar_dpl(ar);
	bool s = (ar & VMX_AR_S) != 0, present = (ar & VMX_AR_P) != 0;
	u32 lim = (u32)((desc & DESC_LIMIT_LOW) |
			(((desc >> DESC_LIMIT_HIGH_SHIFT) & DESC_LIMIT_HIGH) << 16));
	u64 base = ((desc >> DESC_BASE_LOW_SHIFT) & DESC_BASE_LOW) |
		   (((desc >> DESC_BASE_HIGH_SHIFT) & 0xff) << 24);
	if (ar & VMX_AR_G)
		lim = (lim << LIMIT_G_SHIFT) | LIMIT_G_FILL;

	if (tr) {
		if (s || (type != TYPE_TSS_AVAIL && (long_mode || type != TYPE_TSS16_AVAIL)))
			return fault(EXC_GP, err);
		if (!present)
			return fault(EXC_NP, err);
		if (d_high)
			base |= (*d_high & 0xffffffffull) << 32;
		desc_write(v, d, desc | DESC_TYPE_BUSY);
		vmcs_write16(VMCS_GUEST_TR_SELECTOR, sel);
		vmcs_writenat(VMCS_GUEST_TR_BASE, base);
		vmcs_write32(VMCS_GUEST_TR_LIMIT, lim);
		vmcs_write32(VMCS_GUEST_TR_AR_BYTES, ar | (u32)(DESC_TYPE_BUSY >> DESC_AR_SHIFT));
		return 0;
	}
	if (seg == EMUL_SEG_CS) {
		/* SDM "JMP"/"CALL", far transfer in protected mode: to a
		 * conforming code segment with DPL <= CPL, or a non-conforming
		 * one with RPL <= CPL and DPL = CPL; not L and D both set in
		 * IA-32e mode. CS.RPL becomes the CPL. A call gate, task gate or
		 * TSS (a gate transfer or a task switch) is not emulated. */
		if (!s)
			return -EOPNOTSUPP;
		if (!(type & TYPE_CODE))
			return fault(EXC_GP, err);
		if ((type & TYPE_CONFORMING) ? dpl > cpl : (rpl > cpl || dpl != cpl))
			return fault(EXC_GP, err);
		if (!present)
			return fault(EXC_NP, err);
		if (long_mode && (ar & VMX_AR_L) && (ar & VMX_AR_DB))
			return fault(EXC_GP, err);
		sel = (u16)((sel & ~SEL_RPL_MASK) | cpl);
	} else if (seg == EMUL_SEG_SS) {
		/* A writable data segment with RPL = DPL = CPL. */
		if (rpl != cpl || !s || (type & TYPE_CODE) || !(type & TYPE_READ_WRITE) ||
		    dpl != cpl)
			return fault(EXC_GP, err);
		if (!present)
			return fault(EXC_SS, err);
	} else {
		/* Data or readable code; unless conforming code, the
		 * selector's RPL and the CPL may not exceed DPL. */
		if (!s || ((type & TYPE_CODE) && !(type & TYPE_READ_WRITE)))
			return fault(EXC_GP, err);
		if (!((type & TYPE_CODE) && (type & TYPE_CONFORMING)) && (rpl > dpl || cpl > dpl))
			return fault(EXC_GP, err);
		if (!present)
			return fault(EXC_NP, err);
	}
	if (!(desc & DESC_TYPE_ACCESSED)) {
		desc |= DESC_TYPE_ACCESSED;
		desc_write(v, d, desc);
	}
	vmcs_write16(sel_fields[seg], sel);
	vmcs_writenat(base_fields[seg], base);
	vmcs_write32(limit_fields[seg], lim);
	vmcs_write32(ar_fields[seg], ar | (u32)(DESC_TYPE_ACCESSED >> DESC_AR_SHIFT));
	if (seg == EMUL_SEG_SS) {
		/* SDM "MOV": loading SS inhibits interrupts until after the
		 * next instruction ("Interruptibility State": blocking by MOV SS). */
		u32 intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO);
		vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY_INFO, intr | GUEST_INTR_BLOCKING_MOV_SS);
	}
	return 0;
}

#endif /* EMUL_EXCEPTION */
