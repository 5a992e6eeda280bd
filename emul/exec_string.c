/*
 * emul/exec_string.c - the string instructions MOVS, STOS, LODS, CMPS and
 * SCAS, with REP, REPE and REPNE, for MMIO exits.
 *
 * SDM Vol. 2A "MOVS", "STOS", "LODS", "CMPS", "SCAS" and Vol. 2B
 * "REP/REPE/REPZ/REPNE/REPNZ": rSI/rDI/rCX by address size, stepping by the
 * operand size, down when DF is set; REPE/REPNE also end when ZF says so,
 * tested after each iteration.
 */
#include "emul/emul_priv.h"

/*
 * The first iteration of STOS, LODS and SCAS is the exit's access at
 * ctx->gpa; MOVS and CMPS (two memory operands, either of which may have
 * exited) and later iterations translate. An iteration after the first that
 * touches only RAM, or whose address does not translate, is left to the
 * guest (return 0: the registers hold the progress).
 */
int emul_exec_string(const struct emul_insn *insn, struct emul_ctx *ctx)
{
	const u8 size = insn->op_size, asz = insn->addr_size;
	const u8 type = insn->type;
	const u64 amask = emul_size_mask(asz);
	const u64 step = (ctx->rflags & RFLAGS_DF) ? (u64)-(s64)size : size;
	const u32 limit = ctx->rep_limit ? ctx->rep_limit : EMUL_REP_LIMIT_DEFAULT;
	const bool repeat = insn->rep || insn->repne;
	const bool uses_si = type == EMUL_OP_MOVS || type == EMUL_OP_LODS || type == EMUL_OP_CMPS;
	const bool uses_di = type != EMUL_OP_LODS;
	const bool two = type == EMUL_OP_MOVS || type == EMUL_OP_CMPS;
	u64 count = repeat ? ctx->gprs[EMUL_REG_RCX] & amask : 1;
	int rc;

	if (two && (!ctx->translate || !ctx->is_mmio)) {
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "%s needs translate and is_mmio",
			     emul_mnemonics[type]);
		return -EOPNOTSUPP;
	}
	if (repeat && count > 1 && (!ctx->translate || !ctx->is_mmio)) {
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "rep needs translate and is_mmio");
		return -EOPNOTSUPP;
	}

	for (u32 i = 0; count; i++) {
		u64 rsi = ctx->gprs[EMUL_REG_RSI] & amask;
		u64 rdi = ctx->gprs[EMUL_REG_RDI] & amask;
		struct emul_ref si, di;
		u64 a = 0, b = 0, rflags = ctx->rflags;
		bool any_mmio = false;

		if (i == limit)
			return 0;
		emul_ref_at(&si, insn, ctx, insn->mem.seg, rsi);
		emul_ref_at(&di, insn, ctx, EMUL_SEG_ES, rdi);
		if (i == 0 && !two) {
			/* The exit's access: ES:rDI or seg:rSI at ctx->gpa. */
			struct emul_ref *r = uses_si ? &si : &di;
			r->exit = true;
		}
		rc = uses_si ? emul_ref_resolve(ctx, &si, size, false) : 0;
		if (!rc && uses_di)
			rc = emul_ref_resolve(ctx, &di, size, type == EMUL_OP_STOS ||
					      type == EMUL_OP_MOVS);
		if (rc) {
			/* Later iterations: the guest re-executes and takes
			 * the fault itself. */
			if (i)
				return 0;
			return rc;
		}
		if (uses_si)
			any_mmio |= si.mmio[0] || (si.npages == 2 && si.mmio[1]);
		if (uses_di)
			any_mmio |= di.mmio[0] || (di.npages == 2 && di.mmio[1]);
		if (i && !any_mmio)
			return 0;

		switch (type) {
		case EMUL_OP_MOVS:
			rc = emul_ref_read(ctx, &si, &a, size);
			if (!rc)
				rc = emul_ref_write(ctx, &di, a, size);
			break;
		case EMUL_OP_STOS:
			rc = emul_ref_write(ctx, &di, emul_reg_read(ctx, EMUL_REG_RAX, false, size),
					    size);
			break;
		case EMUL_OP_LODS:
			rc = emul_ref_read(ctx, &si, &a, size);
			if (!rc)
				emul_reg_write(ctx, EMUL_REG_RAX, false, size, a);
			break;
		case EMUL_OP_CMPS:	/* flags of [rSI] - [rDI] */
			rc = emul_ref_read(ctx, &si, &a, size);
			if (!rc)
				rc = emul_ref_read(ctx, &di, &b, size);
			if (!rc)
				emul_alu(EMUL_OP_CMP, size, a, b, &rflags);
			break;
		default:		/* SCAS: flags of rAX - [rDI] */
			rc = emul_ref_read(ctx, &di, &b, size);
			if (!rc)
				emul_alu(EMUL_OP_CMP, size,
					 emul_reg_read(ctx, EMUL_REG_RAX, false, size), b, &rflags);
			break;
		}
		if (rc)
			return rc;
		ctx->rflags = rflags;
		if (uses_si)
			emul_reg_write(ctx, EMUL_REG_RSI, false, asz, rsi + step);
		if (uses_di)
			emul_reg_write(ctx, EMUL_REG_RDI, false, asz, rdi + step);
		count--;
		if (repeat)
			emul_reg_write(ctx, EMUL_REG_RCX, false, asz, count);
		ctx->rep_done = i + 1;
		/* REPE ends on ZF = 0, REPNE on ZF = 1 (CMPS and SCAS only). */
		if ((insn->rep && (type == EMUL_OP_CMPS || type == EMUL_OP_SCAS) &&
		     !(rflags & RFLAGS_ZF)) ||
		    (insn->repne && (rflags & RFLAGS_ZF)))
			break;
	}
	return insn->len;
}
