/*
 * emul/exec_stack.c - the instructions that use the stack, for a stack or
 * an operand in MMIO: PUSH and POP (memory, register and immediate forms),
 * CALL (through memory and relative), RET, ENTER and LEAVE, and the far
 * JMP and CALL through a pointer in memory.
 *
 * SDM Vol. 2A-2B "PUSH", "POP", "CALL", "RET", "ENTER", "LEAVE", "JMP", and SDM
 * Vol. 1 "Stack": the stack pointer is RSP in 64-bit mode, else ESP or SP by
 * SS.B; pushes store the operand size. Either the operand or the stack may
 * be the MMIO access that exited, so every reference is translated, and
 * every reference is translated before the first write, so that a fault
 * leaves memory and registers as they were.
 */
#include "emul/emul_priv.h"

#define ENTER_LEVEL_MASK  0x1f	/* SDM "ENTER": NestingLevel MOD 32 */

struct stack {
	u8 ssz;			/* stack address size */
	u64 smask;
	u64 rsp;		/* rSP, masked */
};

static void stack_init(struct stack *s, const struct emul_insn *insn, const struct emul_ctx *ctx)
{
	s->ssz = emul_stack_size(insn, ctx);
	s->smask = emul_size_mask(s->ssz);
	s->rsp = ctx->gprs[EMUL_REG_RSP] & s->smask;
}

/* A reference to the stack slot at rSP (masked) on SS. */
static void stack_ref(struct emul_ref *r, const struct emul_insn *insn,
		      const struct emul_ctx *ctx, const struct stack *s, u64 rsp)
{
	emul_ref_at(r, insn, ctx, EMUL_SEG_SS, rsp & s->smask);
}

/* Reads size bytes of the operand (memory or, for POP, no read). */
static int read_operand(const struct emul_insn *insn, struct emul_ctx *ctx,
			const u64 *gprs, u64 *val)
{
	struct emul_ref op;

	emul_ref_at(&op, insn, ctx, insn->mem.seg, 0);
	op.gla = emul_operand_gla(insn, ctx, gprs);
	return emul_ref_read(ctx, &op, val, insn->op_size);
}

/* Pushes val (size bytes): translates first, then writes; commits rSP. */
static int push(const struct emul_insn *insn, struct emul_ctx *ctx, struct stack *s,
		u64 val, u8 size)
{
	struct emul_ref r;
	u64 rsp = (s->rsp - size) & s->smask;
	int rc;

	stack_ref(&r, insn, ctx, s, rsp);
	rc = emul_ref_resolve(ctx, &r, size, true);
	if (!rc)
		rc = emul_ref_write(ctx, &r, val, size);
	if (!rc)
		s->rsp = rsp;
	return rc;
}

static int pop(const struct emul_insn *insn, struct emul_ctx *ctx, struct stack *s,
	       u64 *val, u8 size)
{
	struct emul_ref r;
	int rc;

	stack_ref(&r, insn, ctx, s, s->rsp);
	rc = emul_ref_read(ctx, &r, val, size);
	if (!rc)
		s->rsp = (s->rsp + size) & s->smask;
	return rc;
}

static void commit_rsp(struct emul_ctx *ctx, const struct stack *s)
{
	emul_reg_write(ctx, EMUL_REG_RSP, false, s->ssz, s->rsp);
}

/* A branch target truncated to the operand size; #GP(0) if not canonical. */
static int branch(const struct emul_insn *insn, struct emul_ctx *ctx, u64 target)
{
	target &= emul_size_mask(insn->op_size);
	if (!emul_canonical(insn, ctx, target))
		return emul_raise(ctx, EMUL_EXC_GP, true, 0);
	ctx->next_rip = target;
	return 0;
}

/* PUSH Ev: the operand's address uses rSP before the decrement. POP Ev:
 * after the increment (SDM "POP": "If the destination operand uses rSP as
 * a base, the value of rSP is the one after the pop"). */
static int push_pop_mem(const struct emul_insn *insn, struct emul_ctx *ctx, struct stack *s)
{
	const u8 size = insn->op_size;
	struct emul_ref op, st;
	u64 val = 0, gprs[EMUL_NR_GPRS];
	int rc;

	if (insn->type == EMUL_OP_PUSH) {
		rc = read_operand(insn, ctx, ctx->gprs, &val);
		return rc ? rc : push(insn, ctx, s, val, size);
	}
	memcpy(gprs, ctx->gprs, sizeof(gprs));
	gprs[EMUL_REG_RSP] = (gprs[EMUL_REG_RSP] & ~s->smask) | ((s->rsp + size) & s->smask);
	stack_ref(&st, insn, ctx, s, s->rsp);
	emul_ref_at(&op, insn, ctx, insn->mem.seg, 0);
	op.gla = emul_operand_gla(insn, ctx, gprs);
	rc = emul_ref_resolve(ctx, &st, size, false);
	if (!rc)
		rc = emul_ref_resolve(ctx, &op, size, true);
	if (!rc)
		rc = emul_ref_read(ctx, &st, &val, size);
	if (!rc)
		rc = emul_ref_write(ctx, &op, val, size);
	if (!rc)
		s->rsp = (s->rsp + size) & s->smask;
	return rc;
}

/*
 * SDM "ENTER": push rBP; FrameTemp = rSP; for levels above 1 copy the
 * enclosing frame pointers from [rBP - i * size] and push FrameTemp; then
 * rBP = FrameTemp (operand size) and rSP -= Size (stack size).
 */
static int enter(const struct emul_insn *insn, struct emul_ctx *ctx, struct stack *s)
{
	const u8 size = insn->op_size, level = insn->imm2 & ENTER_LEVEL_MASK;
	u64 rbp = ctx->gprs[EMUL_REG_RBP], frame, val;
	int rc;

	rc = push(insn, ctx, s, rbp, size);
	if (rc)
		return rc;
	frame = s->rsp;
	for (u8 i = 1; i < level; i++) {
		struct emul_ref r;

		rbp = (rbp - size) & s->smask;
		stack_ref(&r, insn, ctx, s, rbp);
		rc = emul_ref_read(ctx, &r, &val, size);
		if (!rc)
			rc = push(insn, ctx, s, val, size);
		if (rc)
			return rc;
	}
	if (level) {
		rc = push(insn, ctx, s, frame, size);
		if (rc)
			return rc;
	}
	s->rsp = (s->rsp - insn->imm) & s->smask;
	emul_reg_write(ctx, EMUL_REG_RBP, false, size, frame);
	return 0;
}

#define SEL_BYTES  2	/* a far pointer's selector */

/*
 * SDM "JMP" and "CALL", far through a memory pointer (FF/5, FF/3): the
 * pointer is the offset (operand size) followed by the selector. CALL pushes
 * CS (zero-extended to the operand size) and the return offset. Every
 * reference is translated, then CS is loaded through the load_seg callback
 * (which checks the descriptor and raises #GP/#NP as the CPU would), and
 * only then is the stack written: a fault leaves memory and registers
 * untouched. The target offset is truncated to the operand size and, in
 * 64-bit mode, must be canonical (#GP(0)). Gates and task switches are the
 * callback's to refuse.
 */
static int far_transfer(const struct emul_insn *insn, struct emul_ctx *ctx, struct stack *s)
{
	const u8 size = insn->op_size;
	const bool call = insn->type == EMUL_OP_CALLF;
	struct emul_ref op, slot_cs, slot_ip;
	u64 rsp_cs = (s->rsp - size) & s->smask, rsp_ip = (s->rsp - 2u * size) & s->smask;
	u8 buf[8 + SEL_BYTES] = { 0 };
	u64 target = 0;
	u16 sel;
	int rc;

	if (!ctx->load_seg) {
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "far %s needs load_seg",
			     emul_mnemonics[insn->type]);
		return -EOPNOTSUPP;
	}
	emul_ref_at(&op, insn, ctx, insn->mem.seg, 0);
	op.gla = emul_operand_gla(insn, ctx, ctx->gprs);
	rc = emul_ref_resolve(ctx, &op, insn->mem_size, false);
	if (!rc)
		rc = emul_ref_rw(ctx, &op, buf, insn->mem_size, false);
	if (rc)
		return rc;
	for (unsigned i = 0; i < size; i++)
		target |= (u64)buf[i] << (8 * i);
	sel = (u16)(buf[size] | buf[size + 1] << 8);
	if (!emul_canonical(insn, ctx, target))
		return emul_raise(ctx, EMUL_EXC_GP, true, 0);
	if (call) {
		stack_ref(&slot_cs, insn, ctx, s, rsp_cs);
		stack_ref(&slot_ip, insn, ctx, s, rsp_ip);
		rc = emul_ref_resolve(ctx, &slot_cs, size, true);
		if (!rc)
			rc = emul_ref_resolve(ctx, &slot_ip, size, true);
		if (rc)
			return rc;
	}
	rc = ctx->load_seg(ctx->opaque, EMUL_SEG_CS, sel);
	if (rc > 0 && (rc & EMUL_FAULT_FLAG))
		return emul_raise(ctx, (u8)(rc >> EMUL_FAULT_VEC_SHIFT),
				  (rc & EMUL_FAULT_HAS_ERR) != 0, (u32)rc & 0xffff);
	if (rc)
		return emul_fail(ctx, rc, "load CS selector", sel);
	if (call) {
		rc = emul_ref_write(ctx, &slot_cs, ctx->seg_sel[EMUL_SEG_CS], size);
		if (!rc)
			rc = emul_ref_write(ctx, &slot_ip, (ctx->rip + insn->len) & emul_size_mask(size),
					    size);
		if (rc)
			return rc;
		s->rsp = rsp_ip;
	}
	ctx->seg_sel[EMUL_SEG_CS] = sel;
	ctx->next_rip = target & emul_size_mask(size);
	return 0;
}

int emul_exec_stack(const struct emul_insn *insn, struct emul_ctx *ctx)
{
	const u8 size = insn->op_size;
	const u64 ret_addr = ctx->rip + insn->len;
	struct stack s;
	u64 val = 0, target;
	int rc;

	if (!ctx->translate || !ctx->is_mmio) {
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "%s needs translate and is_mmio",
			     emul_mnemonics[insn->type]);
		return -EOPNOTSUPP;
	}
	stack_init(&s, insn, ctx);

	switch (insn->type) {
	case EMUL_OP_PUSH:
		if (insn->flags & EMUL_OPF_MODRM)
			rc = push_pop_mem(insn, ctx, &s);
		else
			rc = push(insn, ctx, &s, insn->has_reg ? emul_reg_read(ctx, insn->reg, false, size)
							       : insn->imm, size);
		break;
	case EMUL_OP_POP:
		if (insn->flags & EMUL_OPF_MODRM) {
			rc = push_pop_mem(insn, ctx, &s);
			break;
		}
		rc = pop(insn, ctx, &s, &val, size);
		if (rc)
			return rc;
		/* POP rSP: the popped value wins over the increment. */
		commit_rsp(ctx, &s);
		emul_reg_write(ctx, insn->reg, false, size, val);
		return 0;
	case EMUL_OP_CALL:
		if (insn->flags & EMUL_OPF_REL) {
			target = ret_addr + insn->imm;
		} else {
			rc = read_operand(insn, ctx, ctx->gprs, &target);
			if (rc)
				return rc;
		}
		target &= emul_size_mask(size);
		if (!emul_canonical(insn, ctx, target))
			return emul_raise(ctx, EMUL_EXC_GP, true, 0);
		rc = push(insn, ctx, &s, ret_addr, size);
		if (!rc)
			rc = branch(insn, ctx, target);
		break;
	case EMUL_OP_RET:
		rc = pop(insn, ctx, &s, &target, size);
		if (!rc)
			rc = branch(insn, ctx, target);
		if (!rc)
			s.rsp = (s.rsp + insn->imm) & s.smask;
		break;
	case EMUL_OP_ENTER:
		rc = enter(insn, ctx, &s);
		break;
	case EMUL_OP_JMPF: case EMUL_OP_CALLF:
		rc = far_transfer(insn, ctx, &s);
		break;
	case EMUL_OP_LEAVE:
		/* SDM "LEAVE": rSP = rBP (stack size), rBP = Pop(). */
		s.rsp = ctx->gprs[EMUL_REG_RBP] & s.smask;
		rc = pop(insn, ctx, &s, &val, size);
		if (rc)
			return rc;
		commit_rsp(ctx, &s);
		emul_reg_write(ctx, EMUL_REG_RBP, false, size, val);
		return 0;
	default:
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "cannot execute op type %u", insn->type);
		return -EINVAL;
	}
	if (rc)
		return rc;
	commit_rsp(ctx, &s);
	return 0;
}
