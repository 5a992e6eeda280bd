/*
 * emul/exec_single.c - instructions whose one memory operand is the access
 * that exited (at ctx->gpa): moves, arithmetic, bit operations, multiply and
 * divide, atomics, conditional moves and sets, segment and system register
 * moves, SSE/MMX moves and JMP through memory.
 *
 * Implements the instruction pages of SDM Vol. 2A-2C for these instructions
 * ("Operation" and "Flags Affected"), SDM Vol. 1 "Alignment of Words,
 * Doublewords, Quadwords, and Double Quadwords" (the 16-byte alignment of
 * MOVAPS and friends) and SDM Vol. 3A "Locked Atomic Operations" (through
 * ctx->bus_lock, taken by emul_execute()).
 */
#include "emul/emul_priv.h"

#define VEC_ALIGN        16	/* MOVAPS/MOVDQA/MOVNTDQ/CMPXCHG16B alignment */
#define XMM_BYTES        16
#define MM_BYTES         8
#define CR0_SMSW_MASK    0xffffull	/* SMSW stores CR0[15:0] */
#define SREG_BYTES       2
#define HALF_MAX         8

static u64 src_operand(const struct emul_insn *insn, const struct emul_ctx *ctx)
{
	return insn->has_imm ? insn->imm
			     : emul_reg_read(ctx, insn->reg, insn->reg_high8, insn->op_size);
}

static u64 le_get(const u8 *b, unsigned n)
{
	u64 v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (u64)b[i] << (8 * i);
	return v;
}

static void le_put(u8 *b, u64 v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		b[i] = (u8)(v >> (8 * i));
}

static u64 byte_swap(u64 v, u8 size)
{
	u64 r = 0;

	for (unsigned i = 0; i < size; i++)
		r |= ((v >> (8 * i)) & 0xff) << (8 * (size - 1 - i));
	return r;
}

/* SSE/MMX moves: XMM/MM registers through ctx->vreg_read/vreg_write. A
 * load into XMM zero-extends MOVD/MOVQ to 128 bits, into MM to 64 bits
 * (SDM "MOVD/MOVQ", "MOVQ"). */
static int exec_vector(const struct emul_insn *insn, struct emul_ctx *ctx, struct emul_ref *op)
{
	bool xmm = insn->flags & EMUL_OPF_XMM;
	u8 vreg = (u8)((xmm ? EMUL_VREG_XMM0 : EMUL_VREG_MM0) + insn->reg);
	u32 rsize = xmm ? XMM_BYTES : MM_BYTES;
	bool load = insn->flags & EMUL_OPF_REG_DST;
	u8 buf[XMM_BYTES] = { 0 };
	int rc;

	if (!(load ? ctx->vreg_write : ctx->vreg_read)) {
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "no vreg %s callback", load ? "write" : "read");
		return -EOPNOTSUPP;
	}
	rc = emul_ref_resolve(ctx, op, insn->mem_size, !load);
	if (rc)
		return rc;
	if (load) {
		rc = emul_ref_rw(ctx, op, buf, insn->mem_size, false);
		if (!rc)
			rc = ctx->vreg_write(ctx->opaque, vreg, buf, rsize);
	} else {
		rc = ctx->vreg_read(ctx->opaque, vreg, buf, rsize);
		if (!rc)
			rc = emul_ref_rw(ctx, op, buf, insn->mem_size, true);
	}
	if (rc > 0)
		return emul_fail(ctx, -EIO, "vreg", vreg);
	return rc;
}

/* CMPXCHG8B/16B ("CMPXCHG8B/CMPXCHG16B"): compare EDX:EAX (RDX:RAX) with
 * the operand; equal: store ECX:EBX (RCX:RBX), ZF = 1; else load it into
 * EDX:EAX and write the old value back, ZF = 0. Only ZF changes. */
static int exec_cmpxchg8b(const struct emul_insn *insn, struct emul_ctx *ctx, struct emul_ref *op)
{
	u8 half = insn->mem_size / 2, buf[2 * HALF_MAX];
	u64 lo, hi, mask = emul_size_mask(half);
	bool equal;
	int rc;

	rc = emul_ref_resolve(ctx, op, insn->mem_size, true);
	if (!rc)
		rc = emul_ref_rw(ctx, op, buf, insn->mem_size, false);
	if (rc)
		return rc;
	lo = le_get(buf, half);
	hi = le_get(buf + half, half);
	equal = lo == (ctx->gprs[EMUL_REG_RAX] & mask) && hi == (ctx->gprs[EMUL_REG_RDX] & mask);
	if (equal) {
		le_put(buf, ctx->gprs[EMUL_REG_RBX], half);
		le_put(buf + half, ctx->gprs[EMUL_REG_RCX], half);
	}
	rc = emul_ref_rw(ctx, op, buf, insn->mem_size, true);
	if (rc)
		return rc;
	if (!equal) {
		emul_reg_write(ctx, EMUL_REG_RAX, false, half, lo);
		emul_reg_write(ctx, EMUL_REG_RDX, false, half, hi);
	}
	ctx->rflags = (ctx->rflags & ~RFLAGS_ZF) | (equal ? RFLAGS_ZF : 0);
	return 0;
}

/* MUL, IMUL (one operand), DIV, IDIV: the implicit AX / rDX:rAX. */
static int exec_muldiv(const struct emul_insn *insn, struct emul_ctx *ctx, u64 m)
{
	const u8 size = insn->op_size;
	bool sign = insn->type == EMUL_OP_IMUL1 || insn->type == EMUL_OP_IDIV;
	u64 lo, hi, q, r, rflags = ctx->rflags;

	if (insn->type == EMUL_OP_MUL || insn->type == EMUL_OP_IMUL1) {
		emul_mul(sign, size, emul_reg_read(ctx, EMUL_REG_RAX, false, size), m,
			 &lo, &hi, &rflags);
		if (size == 1) {
			emul_reg_write(ctx, EMUL_REG_RAX, false, 2, hi << 8 | lo);
		} else {
			emul_reg_write(ctx, EMUL_REG_RAX, false, size, lo);
			emul_reg_write(ctx, EMUL_REG_RDX, false, size, hi);
		}
		ctx->rflags = rflags;
		return 0;
	}
	if (size == 1) {
		lo = emul_reg_read(ctx, EMUL_REG_RAX, false, 1);
		hi = emul_reg_read(ctx, EMUL_REG_RAX, true, 1);
	} else {
		lo = emul_reg_read(ctx, EMUL_REG_RAX, false, size);
		hi = emul_reg_read(ctx, EMUL_REG_RDX, false, size);
	}
	if (!emul_div(sign, size, lo, hi, m, &q, &r))
		return emul_raise(ctx, EMUL_EXC_DE, false, 0);
	if (size == 1) {
		emul_reg_write(ctx, EMUL_REG_RAX, false, 2, r << 8 | q);
	} else {
		emul_reg_write(ctx, EMUL_REG_RAX, false, size, q);
		emul_reg_write(ctx, EMUL_REG_RDX, false, size, r);
	}
	return 0;
}

/* Which instructions write their memory operand (and so translate it, if
 * it crosses a page, for writing). */
static bool writes_memory(const struct emul_insn *insn)
{
	if (insn->flags & EMUL_OPF_REG_DST)
		return false;
	switch (insn->type) {
	case EMUL_OP_CMP: case EMUL_OP_TEST: case EMUL_OP_BT: case EMUL_OP_JMP:
	case EMUL_OP_MUL: case EMUL_OP_IMUL1: case EMUL_OP_DIV: case EMUL_OP_IDIV:
	case EMUL_OP_LTR:
		return false;
	default:
		return true;
	}
}

/* Whether the instruction reads its memory operand. */
static bool reads_memory(const struct emul_insn *insn)
{
	switch (insn->type) {
	case EMUL_OP_MOV: case EMUL_OP_MOVNTI: case EMUL_OP_SETCC: case EMUL_OP_SMSW:
		return insn->flags & EMUL_OPF_REG_DST;
	case EMUL_OP_MOVBE: case EMUL_OP_MOVSEG:
		return insn->flags & EMUL_OPF_REG_DST;
	default:
		return true;
	}
}

int emul_exec_single(const struct emul_insn *insn, struct emul_ctx *ctx)
{
	const bool reg_dst = insn->flags & EMUL_OPF_REG_DST;
	const u8 size = insn->op_size, msize = insn->mem_size;
	u64 mem = 0, src, res, rflags = ctx->rflags;
	struct emul_ref op;
	int rc;

	emul_ref_exit(&op, insn, ctx);
	/* SDM "MOVAPS", "MOVDQA", "MOVNTDQ", "CMPXCHG16B": a memory operand
	 * not aligned on 16 bytes raises #GP(0). */
	if (((insn->flags & EMUL_OPF_ALIGN16) ||
	     (insn->type == EMUL_OP_CMPXCHG8B && msize == VEC_ALIGN)) &&
	    (op.gla & (VEC_ALIGN - 1)))
		return emul_raise(ctx, EMUL_EXC_GP, true, 0);
	if (insn->flags & (EMUL_OPF_XMM | EMUL_OPF_MMX))
		return exec_vector(insn, ctx, &op);
	if (insn->type == EMUL_OP_CMPXCHG8B)
		return exec_cmpxchg8b(insn, ctx, &op);

	rc = emul_ref_resolve(ctx, &op, msize, writes_memory(insn));
	if (rc)
		return rc;
	if (reads_memory(insn)) {
		rc = emul_ref_read(ctx, &op, &mem, msize);
		if (rc)
			return rc;
	}

	switch (insn->type) {
	case EMUL_OP_MOV:
	case EMUL_OP_MOVNTI:
		if (reg_dst) {
			emul_reg_write(ctx, insn->reg, insn->reg_high8, size, mem);
			return 0;
		}
		return emul_ref_write(ctx, &op, src_operand(insn, ctx), size);

	case EMUL_OP_MOVBE:
		if (reg_dst) {
			emul_reg_write(ctx, insn->reg, false, size, byte_swap(mem, size));
			return 0;
		}
		return emul_ref_write(ctx, &op, byte_swap(src_operand(insn, ctx), size), size);

	case EMUL_OP_MOVZX:
	case EMUL_OP_MOVSX:
		if (insn->type == EMUL_OP_MOVSX)
			mem = emul_sign_extend(mem, msize);
		emul_reg_write(ctx, insn->reg, false, size, mem);
		return 0;

	case EMUL_OP_ADD: case EMUL_OP_OR: case EMUL_OP_ADC: case EMUL_OP_SBB:
	case EMUL_OP_AND: case EMUL_OP_SUB: case EMUL_OP_XOR: case EMUL_OP_CMP:
	case EMUL_OP_TEST:
		src = src_operand(insn, ctx);
		if (reg_dst)
			res = emul_alu(insn->type, size, src, mem, &rflags);
		else
			res = emul_alu(insn->type, size, mem, src, &rflags);
		if (insn->type != EMUL_OP_CMP && insn->type != EMUL_OP_TEST) {
			if (reg_dst) {
				emul_reg_write(ctx, insn->reg, insn->reg_high8, size, res);
			} else {
				rc = emul_ref_write(ctx, &op, res, size);
				if (rc)
					return rc;
			}
		}
		ctx->rflags = rflags;
		return 0;

	case EMUL_OP_INC: case EMUL_OP_DEC: case EMUL_OP_NOT: case EMUL_OP_NEG:
		res = emul_unary(insn->type, size, mem, &rflags);
		rc = emul_ref_write(ctx, &op, res, size);
		if (!rc)
			ctx->rflags = rflags;
		return rc;

	case EMUL_OP_XCHG:
		src = emul_reg_read(ctx, insn->reg, insn->reg_high8, size);
		rc = emul_ref_write(ctx, &op, src, size);
		if (!rc)
			emul_reg_write(ctx, insn->reg, insn->reg_high8, size, mem);
		return rc;

	case EMUL_OP_XADD:	/* SDM "XADD": TEMP = SRC + DEST; SRC = DEST; DEST = TEMP */
		src = emul_reg_read(ctx, insn->reg, insn->reg_high8, size);
		res = emul_alu(EMUL_OP_ADD, size, mem, src, &rflags);
		rc = emul_ref_write(ctx, &op, res, size);
		if (rc)
			return rc;
		emul_reg_write(ctx, insn->reg, insn->reg_high8, size, mem);
		ctx->rflags = rflags;
		return 0;

	case EMUL_OP_CMPXCHG: {
		/* SDM "CMPXCHG": the destination gets a write cycle either
		 * way (the old value when the comparison fails). */
		u64 acc = emul_reg_read(ctx, EMUL_REG_RAX, false, size);
		bool equal;

		emul_alu(EMUL_OP_CMP, size, acc, mem, &rflags);
		equal = rflags & RFLAGS_ZF;
		rc = emul_ref_write(ctx, &op, equal ? emul_reg_read(ctx, insn->reg, insn->reg_high8,
								   size) : mem, size);
		if (rc)
			return rc;
		if (!equal)
			emul_reg_write(ctx, EMUL_REG_RAX, false, size, mem);
		ctx->rflags = rflags;
		return 0;
	}

	case EMUL_OP_BT: case EMUL_OP_BTS: case EMUL_OP_BTR: case EMUL_OP_BTC: {
		/* SDM "BT": an immediate offset is taken modulo the operand
		 * width; a register offset selects the word at ctx->gpa (see
		 * emul_bt_disp()) and the bit in it. CF is the bit; OF SF AF
		 * PF (undefined) and ZF are kept. */
		u64 bit = (insn->has_imm ? insn->imm : emul_reg_read(ctx, insn->reg, false, size)) &
			  (8u * size - 1);
		u64 m = BIT(bit);

		rflags = (rflags & ~RFLAGS_CF) | ((mem & m) ? RFLAGS_CF : 0);
		if (insn->type != EMUL_OP_BT) {
			res = insn->type == EMUL_OP_BTS ? mem | m
			    : insn->type == EMUL_OP_BTR ? mem & ~m : mem ^ m;
			rc = emul_ref_write(ctx, &op, res, size);
			if (rc)
				return rc;
		}
		ctx->rflags = rflags;
		return 0;
	}

	case EMUL_OP_BSF:
	case EMUL_OP_BSR:
		if (emul_bitscan(insn->type == EMUL_OP_BSR, size, mem, &res, &rflags))
			emul_reg_write(ctx, insn->reg, false, size, res);
		ctx->rflags = rflags;
		return 0;

	case EMUL_OP_IMUL:
		if (insn->has_imm)
			res = emul_imul_trunc(size, mem, insn->imm, &rflags);
		else
			res = emul_imul_trunc(size, emul_reg_read(ctx, insn->reg, false, size), mem,
					      &rflags);
		emul_reg_write(ctx, insn->reg, false, size, res);
		ctx->rflags = rflags;
		return 0;

	case EMUL_OP_MUL: case EMUL_OP_IMUL1: case EMUL_OP_DIV: case EMUL_OP_IDIV:
		return exec_muldiv(insn, ctx, mem);

	case EMUL_OP_SHLD:
	case EMUL_OP_SHRD: {
		u8 count = (u8)((insn->flags & EMUL_OPF_CL) ? ctx->gprs[EMUL_REG_RCX] : insn->imm);

		if (!(count & (size == 8 ? 0x3f : 0x1f)))
			return 0;
		res = emul_shxd(insn->type == EMUL_OP_SHLD, size, mem,
				emul_reg_read(ctx, insn->reg, false, size), count, &rflags);
		rc = emul_ref_write(ctx, &op, res, size);
		if (!rc)
			ctx->rflags = rflags;
		return rc;
	}

	case EMUL_OP_SETCC:
		return emul_ref_write(ctx, &op, emul_cond(insn->opcode, rflags) ? 1 : 0, 1);

	case EMUL_OP_CMOVCC:
		/* SDM "CMOVcc": the source is read either way, and a 32-bit
		 * destination is zero-extended even when nothing moves. */
		if (emul_cond(insn->opcode, rflags))
			emul_reg_write(ctx, insn->reg, false, size, mem);
		else if (size == 4)
			emul_reg_write(ctx, insn->reg, false, 4, ctx->gprs[insn->reg]);
		return 0;

	case EMUL_OP_MOVSEG:
		if (!reg_dst)
			return emul_ref_write(ctx, &op, ctx->seg_sel[insn->reg], SREG_BYTES);
		/* MOV Sreg, Ew loads through the callback, as LTR does. */
		/* fall through */
	case EMUL_OP_LTR: {
		u8 seg = insn->type == EMUL_OP_LTR ? EMUL_NR_SEGS : insn->reg;

		if (!ctx->load_seg) {
			fmt_snprintf(ctx->why, EMUL_WHY_LEN, "no load_seg callback");
			return -EOPNOTSUPP;
		}
		rc = ctx->load_seg(ctx->opaque, seg, (u16)mem);
		if (rc > 0 && (rc & EMUL_FAULT_FLAG))
			return emul_raise(ctx, (u8)(rc >> EMUL_FAULT_VEC_SHIFT),
					  (rc & EMUL_FAULT_HAS_ERR) != 0, (u32)rc & 0xffff);
		if (rc)
			return emul_fail(ctx, rc, "load selector", mem);
		if (seg < EMUL_NR_SEGS)
			ctx->seg_sel[seg] = (u16)mem;
		return 0;
	}

	case EMUL_OP_SMSW:
		return emul_ref_write(ctx, &op, ctx->cr0 & CR0_SMSW_MASK, SREG_BYTES);

	case EMUL_OP_JMP:
		/* SDM "JMP": near absolute indirect; the target is truncated to
		 * the operand size, and a non-canonical one faults here. */
		mem &= emul_size_mask(size);
		if (!emul_canonical(insn, ctx, mem))
			return emul_raise(ctx, EMUL_EXC_GP, true, 0);
		ctx->next_rip = mem;
		return 0;

	default:
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "cannot execute op type %u", insn->type);
		return -EINVAL;
	}
}
