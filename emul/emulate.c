/*
 * emul/emulate.c - the core of the MMIO emulator: the guest's registers,
 * linear addresses, memory references split at page boundaries and sent to
 * the MMIO or RAM callbacks, exceptions as results, and emul_execute(),
 * which hands each instruction to its executor (emul/exec_single.c,
 * emul/exec_string.c, emul/exec_stack.c).
 *
 * Memory is reached only through the callbacks of struct emul_ctx (bhyve's
 * vmm_instruction_emul.c design). Implements SDM Vol. 1 "General-Purpose
 * Registers in 64-Bit Mode", "Segmentation in IA-32e Mode", and SDM Vol. 3A
 * "Canonical Addressing".
 */
#include "emul/emul_priv.h"

#define LINEAR_32BIT_MASK 0xffffffffull	/* linear addresses outside 64-bit mode */
#define HIGH8_SHIFT  8			/* AH CH DH BH are bits 15:8 */
#define HIGH8_MASK   0xff00ull
#define CANONICAL_BITS 48		/* 4-level paging: bits 63:47 equal */
#define CANONICAL_BITS_LA57 57		/* 5-level paging: bits 63:56 equal */
#define PAGE_OFFSET_MASK (PAGE_SIZE - 1)
#define MAX_PIECE    8			/* the access callbacks' widest access */

int emul_fail(struct emul_ctx *ctx, int err, const char *what, u64 addr)
{
	fmt_snprintf(ctx->why, EMUL_WHY_LEN, "%s 0x%llx: error %d", what, addr, err);
	return err;
}

int emul_raise(struct emul_ctx *ctx, u8 vector, bool has_error, u32 error_code)
{
	ctx->exc.vector = vector;
	ctx->exc.has_error_code = has_error;
	ctx->exc.error_code = has_error ? error_code : 0;
	fmt_snprintf(ctx->why, EMUL_WHY_LEN, "exception %u (error code 0x%x)", vector,
		     ctx->exc.error_code);
	return EMUL_EXCEPTION;
}

/* A callback's EMUL_FAULT() as the instruction's exception. */
static int raise_fault(struct emul_ctx *ctx, int fault)
{
	return emul_raise(ctx, (u8)(fault >> EMUL_FAULT_VEC_SHIFT),
			  (fault & EMUL_FAULT_HAS_ERR) != 0, (u32)fault & 0xffff);
}

static bool is_fault(int rc)
{
	return rc > 0 && (rc & EMUL_FAULT_FLAG);
}

/* ---- registers ---------------------------------------------------------- */

u64 emul_reg_read(const struct emul_ctx *ctx, u8 reg, bool high8, u8 size)
{
	if (high8)
		return (ctx->gprs[reg] & HIGH8_MASK) >> HIGH8_SHIFT;
	return ctx->gprs[reg] & emul_size_mask(size);
}

/*
 * Writes the low size bytes of a register. SDM Vol. 1, "General-Purpose
 * Registers in 64-Bit Mode": a 32-bit result zero-extends into the full
 * register, 8- and 16-bit results leave the other bits alone. Outside 64-bit
 * mode bits 63:32 are not visible to the guest; they are zeroed too (as KVM
 * does), so one rule serves every mode.
 */
void emul_reg_write(struct emul_ctx *ctx, u8 reg, bool high8, u8 size, u64 val)
{
	u64 *r = &ctx->gprs[reg];

	if (high8) {
		*r = (*r & ~HIGH8_MASK) | ((val << HIGH8_SHIFT) & HIGH8_MASK);
	} else if (size >= 4) {
		*r = val & emul_size_mask(size);
	} else {
		u64 mask = emul_size_mask(size);
		*r = (*r & ~mask) | (val & mask);
	}
}

/* ---- addresses ---------------------------------------------------------- */

/* 64-bit mode treats the ES, CS, SS and DS bases as 0 (SDM Vol. 1,
 * "Segmentation in IA-32e Mode"); elsewhere linear addresses are 32 bits. */
u64 emul_linear(const struct emul_insn *insn, const struct emul_ctx *ctx, u8 seg, u64 offset)
{
	if (insn->mode == EMUL_MODE_LONG64)
		return (seg == EMUL_SEG_FS || seg == EMUL_SEG_GS)
			? ctx->seg_base[seg] + offset : offset;
	return (ctx->seg_base[seg] + offset) & LINEAR_32BIT_MASK;
}

/* The operand's linear address with the registers in gprs (POP computes it
 * with RSP already incremented). */
u64 emul_operand_gla(const struct emul_insn *insn, const struct emul_ctx *ctx,
		     const u64 *gprs)
{
	const struct emul_mem *m = &insn->mem;
	u64 ea = (u64)m->disp;

	if (m->base == EMUL_REG_RIP)
		ea += ctx->rip + insn->len;
	else if (m->base != EMUL_REG_NONE)
		ea += gprs[m->base];
	if (m->index != EMUL_REG_NONE)
		ea += gprs[m->index] * m->scale;
	return emul_linear(insn, ctx, m->seg, ea & emul_size_mask(insn->addr_size));
}

/*
 * SDM Vol. 2A, "BT--Bit Test": with a register bit offset the operand is the
 * bit string starting at the effective address, and the CPU accesses the
 * operand-sized word EA + size * (offset DIV width), offset signed. Returns
 * that displacement (0 for the immediate forms and other instructions).
 */
s64 emul_bt_disp(const struct emul_insn *insn, const struct emul_ctx *ctx)
{
	s64 off;

	switch (insn->type) {
	case EMUL_OP_BT: case EMUL_OP_BTS: case EMUL_OP_BTR: case EMUL_OP_BTC:
		break;
	default:
		return 0;
	}
	if (insn->has_imm || !insn->has_reg)
		return 0;
	off = (s64)emul_sign_extend(emul_reg_read(ctx, insn->reg, false, insn->op_size),
				    insn->op_size);
	/* An arithmetic shift floors, as DIV of the bit string does. */
	return (off >> (insn->op_size == 8 ? 6 : insn->op_size == 4 ? 5 : 4)) * insn->op_size;
}

u64 emul_mem_gla(const struct emul_insn *insn, const struct emul_ctx *ctx)
{
	s64 disp = emul_bt_disp(insn, ctx);
	u64 gla = emul_operand_gla(insn, ctx, ctx->gprs);

	if (!disp)
		return gla;
	/* The displaced word: effective address + disp, in the address size. */
	{
		struct emul_insn moved = *insn;
		moved.mem.disp += disp;
		return emul_operand_gla(&moved, ctx, ctx->gprs);
	}
}

u8 emul_stack_size(const struct emul_insn *insn, const struct emul_ctx *ctx)
{
	return insn->mode == EMUL_MODE_LONG64 ? 8 : ctx->ss_big ? 4 : 2;
}

static bool canonical(const struct emul_ctx *ctx, u64 gla)
{
	unsigned bits = ctx->la57 ? CANONICAL_BITS_LA57 : CANONICAL_BITS;

	return (u64)((s64)(gla << (64 - bits)) >> (64 - bits)) == gla;
}

bool emul_canonical(const struct emul_insn *insn, const struct emul_ctx *ctx, u64 gla)
{
	return insn->mode != EMUL_MODE_LONG64 || canonical(ctx, gla);
}

/* ---- memory references --------------------------------------------------- */

void emul_ref_at(struct emul_ref *r, const struct emul_insn *insn,
		 const struct emul_ctx *ctx, u8 seg, u64 offset)
{
	memset(r, 0, sizeof(*r));
	r->gla = emul_linear(insn, ctx, seg, offset);
	r->seg = seg;
	r->wrap32 = insn->mode != EMUL_MODE_LONG64;
}

void emul_ref_exit(struct emul_ref *r, const struct emul_insn *insn,
		   const struct emul_ctx *ctx)
{
	memset(r, 0, sizeof(*r));
	r->gla = emul_mem_gla(insn, ctx);
	r->seg = insn->mem.seg;
	r->wrap32 = insn->mode != EMUL_MODE_LONG64;
	r->exit = true;
}

static int ref_translate(struct emul_ctx *ctx, const struct emul_ref *r, u64 gla,
			 bool write, u64 *gpa, bool *mmio)
{
	int rc;

	if (!ctx->translate || !ctx->is_mmio) {
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "access at 0x%llx needs translate and is_mmio",
			     gla);
		return -EOPNOTSUPP;
	}
	if (!r->wrap32 && !canonical(ctx, gla))
		rc = -ERANGE;
	else
		rc = ctx->translate(ctx->opaque, gla, write, gpa);
	if (rc == 0) {
		*mmio = ctx->is_mmio(ctx->opaque, *gpa);
		return 0;
	}
	if (is_fault(rc)) {
		rc = raise_fault(ctx, rc);
		ctx->exc.cr2 = gla;
		return rc;
	}
	/* SDM Vol. 3A, "Canonical Addressing": #SS for a stack reference. */
	if (rc == -ERANGE)
		return emul_raise(ctx, r->seg == EMUL_SEG_SS ? EMUL_EXC_SS : EMUL_EXC_GP,
				  true, 0);
	return emul_fail(ctx, rc, "translate", gla);
}

/*
 * Every page is translated before any byte is accessed, so that a fault on
 * the second page leaves the first untouched (as the CPU does). The exit's
 * operand starts at ctx->gpa, unless it crosses a page boundary (by its
 * linear address) and translation is available: then each page is
 * translated on its own, since the exit may have been on either page (an
 * access that starts in RAM exits with the second page's address).
 */
int emul_ref_resolve(struct emul_ctx *ctx, struct emul_ref *r, u32 size, bool write)
{
	bool crosses = (r->gla & PAGE_OFFSET_MASK) + size > PAGE_SIZE;
	bool at_exit = r->exit && !(crosses && ctx->translate && ctx->is_mmio);
	u64 first = at_exit ? ctx->gpa : r->gla;
	u64 left = PAGE_SIZE - (first & PAGE_OFFSET_MASK);
	int rc;

	r->first_len = (u32)MIN((u64)size, left);
	r->npages = r->first_len < size ? 2 : 1;
	if (at_exit) {
		r->gpa[0] = ctx->gpa;
		r->mmio[0] = true;
	} else {
		rc = ref_translate(ctx, r, r->gla, write, &r->gpa[0], &r->mmio[0]);
		if (rc)
			return rc;
	}
	if (r->npages == 2) {
		u64 gla = r->gla + r->first_len;

		if (r->wrap32)
			gla &= LINEAR_32BIT_MASK;
		rc = ref_translate(ctx, r, gla, write, &r->gpa[1], &r->mmio[1]);
		if (rc)
			return rc;
	}
	return 0;
}

/* size bytes at gpa through one kind of callback, in pieces of at most 8
 * bytes, each a power of two. */
static int piece_rw(struct emul_ctx *ctx, u64 gpa, bool mmio, u8 *buf, u32 size, bool write)
{
	emul_access_fn fn = write ? (mmio ? ctx->mmio_write : ctx->mem_write)
				  : (mmio ? ctx->mmio_read : ctx->mem_read);

	if (!fn) {
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "no %s %s callback",
			     mmio ? "mmio" : "mem", write ? "write" : "read");
		return -EOPNOTSUPP;
	}
	while (size) {
		u32 n = MAX_PIECE;
		int rc;

		while (n > size)
			n >>= 1;
		rc = fn(ctx->opaque, gpa, buf, n);
		if (rc)
			return emul_fail(ctx, rc, write ? (mmio ? "mmio write" : "mem write")
						       : (mmio ? "mmio read" : "mem read"), gpa);
		gpa += n;
		buf += n;
		size -= n;
	}
	return 0;
}

int emul_ref_rw(struct emul_ctx *ctx, const struct emul_ref *r, void *buf, u32 size,
		bool write)
{
	int rc = piece_rw(ctx, r->gpa[0], r->mmio[0], buf, r->first_len, write);

	if (!rc && r->npages == 2)
		rc = piece_rw(ctx, r->gpa[1], r->mmio[1], (u8 *)buf + r->first_len,
			      size - r->first_len, write);
	return rc;
}

int emul_ref_read(struct emul_ctx *ctx, struct emul_ref *r, u64 *val, u32 size)
{
	u8 buf[8] = { 0 };
	int rc = r->npages ? 0 : emul_ref_resolve(ctx, r, size, false);

	if (!rc)
		rc = emul_ref_rw(ctx, r, buf, size, false);
	if (rc)
		return rc;
	*val = 0;
	for (unsigned i = 0; i < size; i++)
		*val |= (u64)buf[i] << (8 * i);
	return 0;
}

int emul_ref_write(struct emul_ctx *ctx, struct emul_ref *r, u64 val, u32 size)
{
	u8 buf[8];
	int rc = r->npages ? 0 : emul_ref_resolve(ctx, r, size, true);

	if (rc)
		return rc;
	for (unsigned i = 0; i < size; i++)
		buf[i] = (u8)(val >> (8 * i));
	return emul_ref_rw(ctx, r, buf, size, true);
}

/* ---- dispatch ----------------------------------------------------------- */

/* A locked read-modify-write: the LOCK prefix, or XCHG with memory (SDM
 * Vol. 3A, "Locked Atomic Operations"). */
static bool insn_locked(const struct emul_insn *insn)
{
	return insn->lock || insn->type == EMUL_OP_XCHG;
}

int emul_execute(const struct emul_insn *insn, struct emul_ctx *ctx)
{
	int rc;

	ctx->why[0] = '\0';
	ctx->rep_done = 0;
	ctx->next_rip = ctx->rip;
	memset(&ctx->exc, 0, sizeof(ctx->exc));
	if (insn->len == 0 || insn->len > EMUL_INSN_MAX_LEN ||
	    insn->mode >= EMUL_NR_MODES) {
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "not a decoded instruction");
		return -EINVAL;
	}
	if (insn->flags & EMUL_OPF_STRING) {
		rc = emul_exec_string(insn, ctx);
		if (rc >= 0)
			ctx->next_rip = ctx->rip + (u64)rc;
		return rc;
	}
	/* Branches set next_rip themselves. */
	ctx->next_rip = ctx->rip + insn->len;
	if (insn_locked(insn) && ctx->bus_lock)
		ctx->bus_lock(ctx->opaque, true);
	if ((insn->flags & EMUL_OPF_STACK) || insn->type == EMUL_OP_PUSH ||
	    insn->type == EMUL_OP_POP || insn->type == EMUL_OP_CALL ||
	    insn->type == EMUL_OP_JMPF || insn->type == EMUL_OP_CALLF)
		rc = emul_exec_stack(insn, ctx);
	else
		rc = emul_exec_single(insn, ctx);
	if (insn_locked(insn) && ctx->bus_lock)
		ctx->bus_lock(ctx->opaque, false);
	if (rc) {
		ctx->next_rip = ctx->rip;
		return rc;
	}
	return insn->len;
}
