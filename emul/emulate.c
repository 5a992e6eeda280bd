/*
 * emul/emulate.c - executes an instruction decoded by emul/decode.c against a
 * guest's registers and memory, for MMIO exits: register results with the
 * SDM's zero/sign-extension and partial-register rules, arithmetic flags,
 * string instructions with REP, and PUSH/POP of a memory operand.
 *
 * Memory is reached only through the callbacks of struct emul_ctx (bhyve's
 * vmm_instruction_emul.c design). Implements the instruction pages of SDM
 * Vol. 2A-2B for the supported set, SDM Vol. 1 "EFLAGS Register", and SDM
 * Vol. 1 "General-Purpose Registers in 64-Bit Mode".
 */
#include "emul/emul.h"

/* SDM Vol. 1, "EFLAGS Register" */
#define RFLAGS_CF    BIT(0)	/* carry */
#define RFLAGS_PF    BIT(2)	/* parity of the result's low byte */
#define RFLAGS_AF    BIT(4)	/* carry/borrow out of bit 3 */
#define RFLAGS_ZF    BIT(6)	/* zero */
#define RFLAGS_SF    BIT(7)	/* sign */
#define RFLAGS_DF    BIT(10)	/* direction: string ops count down */
#define RFLAGS_OF    BIT(11)	/* signed overflow */
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | \
		      RFLAGS_SF | RFLAGS_OF)

/* AF is the carry out of bit 3 into bit 4: bit 4 of a ^ b ^ result. */
#define AF_BIT       0x10
#define LINEAR_32BIT_MASK 0xffffffffull	/* linear addresses outside 64-bit mode */
#define HIGH8_SHIFT  8			/* AH CH DH BH are bits 15:8 */
#define HIGH8_MASK   0xff00ull

static int exec_fail(struct emul_ctx *ctx, int err, const char *what, u64 addr)
{
	fmt_snprintf(ctx->why, EMUL_WHY_LEN, "%s 0x%llx: error %d", what, addr, err);
	return err;
}

/* ---- registers ---------------------------------------------------------- */

static u64 reg_read(const struct emul_ctx *ctx, u8 reg, bool high8, u8 size)
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
static void reg_write(struct emul_ctx *ctx, u8 reg, bool high8, u8 size, u64 val)
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

static u64 sign_extend(u64 val, u8 size)
{
	unsigned shift = 64 - 8 * (unsigned)size;

	return size >= 8 ? val : (u64)((s64)(val << shift) >> shift);
}

/* ---- flags -------------------------------------------------------------- */

/* ZF, SF and PF of a result of size bytes. */
static u64 flags_zsp(u64 res, u8 size)
{
	u64 f = 0;
	u8 p = (u8)res;

	if ((res & emul_size_mask(size)) == 0)
		f |= RFLAGS_ZF;
	if (res & BIT(8 * size - 1))
		f |= RFLAGS_SF;
	/* PF: set when the low byte has an even number of ones. */
	p ^= (u8)(p >> 4);
	p ^= (u8)(p >> 2);
	p ^= (u8)(p >> 1);
	if (!(p & 1))
		f |= RFLAGS_PF;
	return f;
}

/*
 * Computes dst OP src for a two-operand arithmetic or logic instruction of
 * size bytes and replaces the six arithmetic flags in *rflags as the SDM's
 * "Flags Affected" sections say. AND/OR/XOR/TEST leave AF undefined: it is
 * cleared here. Returns the result, masked to size.
 */
static u64 alu(u8 type, u8 size, u64 dst, u64 src, u64 *rflags)
{
	u64 mask = emul_size_mask(size), sign = BIT(8 * size - 1);
	u64 a = dst & mask, b = src & mask, carry = 0, res, f = 0;

	switch (type) {
	case EMUL_OP_ADC:
		carry = (*rflags & RFLAGS_CF) ? 1 : 0;
		/* fall through */
	case EMUL_OP_ADD:
		res = (a + b + carry) & mask;
		/* Unsigned carry out: the sum wrapped below an addend. */
		if (res < a || (carry && res == a))
			f |= RFLAGS_CF;
		if ((a ^ res) & (b ^ res) & sign)
			f |= RFLAGS_OF;
		if ((a ^ b ^ res) & AF_BIT)
			f |= RFLAGS_AF;
		break;
	case EMUL_OP_SBB:
		carry = (*rflags & RFLAGS_CF) ? 1 : 0;
		/* fall through */
	case EMUL_OP_SUB:
	case EMUL_OP_CMP:
		res = (a - b - carry) & mask;
		/* Borrow: a < b + carry, without overflowing b + carry. */
		if (a < b || (carry && a == b))
			f |= RFLAGS_CF;
		if ((a ^ b) & (a ^ res) & sign)
			f |= RFLAGS_OF;
		if ((a ^ b ^ res) & AF_BIT)
			f |= RFLAGS_AF;
		break;
	case EMUL_OP_AND:
	case EMUL_OP_TEST:
		res = a & b;
		break;
	case EMUL_OP_OR:
		res = a | b;
		break;
	case EMUL_OP_XOR:
		res = a ^ b;
		break;
	default:
		ASSERT(!"alu: not an arithmetic op");
		return 0;
	}
	*rflags = (*rflags & ~RFLAGS_ARITH) | f | flags_zsp(res, size);
	return res;
}

/* ---- memory ------------------------------------------------------------- */

/* Reads or writes size bytes at gpa through the MMIO or the RAM callbacks;
 * the value travels little-endian, as x86 memory holds it. */
static int mem_access(struct emul_ctx *ctx, u64 gpa, u64 *val, u8 size,
		      bool write, bool mmio)
{
	emul_access_fn fn = write ? (mmio ? ctx->mmio_write : ctx->mem_write)
				  : (mmio ? ctx->mmio_read : ctx->mem_read);
	u8 buf[8] = { 0 };
	int rc;

	if (!fn) {
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "no %s %s callback",
			     mmio ? "mmio" : "mem", write ? "write" : "read");
		return -EOPNOTSUPP;
	}
	if (write) {
		for (unsigned i = 0; i < size; i++)
			buf[i] = (u8)(*val >> (8 * i));
		rc = fn(ctx->opaque, gpa, buf, size);
	} else {
		rc = fn(ctx->opaque, gpa, buf, size);
		*val = 0;
		for (unsigned i = 0; i < size; i++)
			*val |= (u64)buf[i] << (8 * i);
	}
	if (rc)
		return exec_fail(ctx, rc, write ? (mmio ? "mmio write" : "mem write")
					: (mmio ? "mmio read" : "mem read"), gpa);
	return 0;
}

/* 64-bit mode treats the ES, CS, SS and DS bases as 0 (SDM Vol. 1,
 * "Segmentation in IA-32e Mode"); elsewhere linear addresses are 32 bits. */
static u64 linear_addr(const struct emul_insn *insn, const struct emul_ctx *ctx,
		       u8 seg, u64 offset)
{
	if (insn->mode == EMUL_MODE_LONG64)
		return (seg == EMUL_SEG_FS || seg == EMUL_SEG_GS)
			? ctx->seg_base[seg] + offset : offset;
	return (ctx->seg_base[seg] + offset) & LINEAR_32BIT_MASK;
}

/* The operand's linear address with the registers in gprs (POP computes it
 * with RSP already incremented). */
static u64 operand_gla(const struct emul_insn *insn, const struct emul_ctx *ctx,
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
	return linear_addr(insn, ctx, m->seg, ea & emul_size_mask(insn->addr_size));
}

u64 emul_mem_gla(const struct emul_insn *insn, const struct emul_ctx *ctx)
{
	return operand_gla(insn, ctx, ctx->gprs);
}

/* One side of an access found by translation: its gpa and whether it is
 * MMIO. */
struct side {
	u64 gpa;
	bool mmio;
};

static int side_resolve(struct emul_ctx *ctx, u64 gla, bool write, struct side *s)
{
	int rc = ctx->translate(ctx->opaque, gla, write, &s->gpa);

	if (rc)
		return exec_fail(ctx, rc, "translate", gla);
	s->mmio = ctx->is_mmio(ctx->opaque, s->gpa);
	return 0;
}

static bool have_translation(struct emul_ctx *ctx, const char *op)
{
	if (ctx->translate && ctx->is_mmio)
		return true;
	fmt_snprintf(ctx->why, EMUL_WHY_LEN, "%s needs translate and is_mmio", op);
	return false;
}

/* ---- instructions ------------------------------------------------------- */

/* Instructions whose one memory operand is the access that exited: it lives
 * at ctx->gpa and goes to the MMIO callbacks. */
static int exec_single(const struct emul_insn *insn, struct emul_ctx *ctx)
{
	const bool reg_dst = insn->flags & EMUL_OPF_REG_DST;
	const u8 size = insn->op_size;
	u64 gpa = ctx->gpa, mem, src, res, rflags = ctx->rflags;
	int rc;

	switch (insn->type) {
	case EMUL_OP_MOV:
		if (reg_dst) {
			rc = mem_access(ctx, gpa, &mem, size, false, true);
			if (rc)
				return rc;
			reg_write(ctx, insn->reg, insn->reg_high8, size, mem);
			return 0;
		}
		src = insn->has_imm ? insn->imm
				    : reg_read(ctx, insn->reg, insn->reg_high8, size);
		return mem_access(ctx, gpa, &src, size, true, true);

	case EMUL_OP_MOVZX:
	case EMUL_OP_MOVSX:
		rc = mem_access(ctx, gpa, &mem, insn->mem_size, false, true);
		if (rc)
			return rc;
		if (insn->type == EMUL_OP_MOVSX)
			mem = sign_extend(mem, insn->mem_size);
		reg_write(ctx, insn->reg, false, size, mem);
		return 0;

	case EMUL_OP_ADD: case EMUL_OP_OR: case EMUL_OP_ADC: case EMUL_OP_SBB:
	case EMUL_OP_AND: case EMUL_OP_SUB: case EMUL_OP_XOR: case EMUL_OP_CMP:
	case EMUL_OP_TEST:
		rc = mem_access(ctx, gpa, &mem, size, false, true);
		if (rc)
			return rc;
		src = insn->has_imm ? insn->imm
				    : reg_read(ctx, insn->reg, insn->reg_high8, size);
		if (reg_dst)
			res = alu(insn->type, size, src, mem, &rflags);
		else
			res = alu(insn->type, size, mem, src, &rflags);
		if (insn->type != EMUL_OP_CMP && insn->type != EMUL_OP_TEST) {
			if (reg_dst) {
				reg_write(ctx, insn->reg, insn->reg_high8, size, res);
			} else {
				rc = mem_access(ctx, gpa, &res, size, true, true);
				if (rc)
					return rc;
			}
		}
		ctx->rflags = rflags;
		return 0;

	case EMUL_OP_XCHG:
		rc = mem_access(ctx, gpa, &mem, size, false, true);
		if (rc)
			return rc;
		src = reg_read(ctx, insn->reg, insn->reg_high8, size);
		rc = mem_access(ctx, gpa, &src, size, true, true);
		if (rc)
			return rc;
		reg_write(ctx, insn->reg, insn->reg_high8, size, mem);
		return 0;

	case EMUL_OP_BT: {
		/* SDM Vol. 2A, "BT--Bit Test": an immediate offset is taken
		 * modulo the operand width; a register offset is a signed
		 * number that may select a bit in another operand-sized word,
		 * which then is not the word at ctx->gpa. */
		u64 bits = 8u * size, bit;

		if (insn->has_imm) {
			bit = insn->imm % bits;
		} else {
			bit = reg_read(ctx, insn->reg, false, size);
			if (bit >= bits) {
				fmt_snprintf(ctx->why, EMUL_WHY_LEN,
					     "bt bit offset %lld outside the operand",
					     (long long)sign_extend(bit, size));
				return -EINVAL;
			}
		}
		rc = mem_access(ctx, gpa, &mem, size, false, true);
		if (rc)
			return rc;
		/* CF is the bit; ZF unchanged; OF SF AF PF (undefined) kept. */
		ctx->rflags = (rflags & ~RFLAGS_CF) | (((mem >> bit) & 1) ? RFLAGS_CF : 0);
		return 0;
	}
	default:
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "cannot execute op type %u", insn->type);
		return -EINVAL;
	}
}

/*
 * MOVS, STOS, LODS with or without REP (SDM Vol. 2A "MOVS", "STOS", "LODS",
 * Vol. 2B "REP/REPE/REPZ/REPNE/REPNZ"): rSI/rDI/rCX by address size, stepping
 * by the operand size, down when DF is set. The first iteration of STOS/LODS
 * is the exit's access at ctx->gpa; MOVS and later iterations translate.
 */
static int exec_string(const struct emul_insn *insn, struct emul_ctx *ctx)
{
	const u8 size = insn->op_size, asz = insn->addr_size;
	const u64 amask = emul_size_mask(asz);
	const u64 step = (ctx->rflags & RFLAGS_DF) ? (u64)-(s64)size : size;
	const u32 limit = ctx->rep_limit ? ctx->rep_limit : EMUL_REP_LIMIT_DEFAULT;
	const bool reads = insn->type != EMUL_OP_STOS;
	const bool writes = insn->type != EMUL_OP_LODS;
	u64 count = insn->rep ? ctx->gprs[EMUL_REG_RCX] & amask : 1;
	int rc;

	if (insn->type == EMUL_OP_MOVS && !have_translation(ctx, "movs"))
		return -EOPNOTSUPP;
	if (insn->rep && count > 1 && !have_translation(ctx, "rep"))
		return -EOPNOTSUPP;

	for (u32 i = 0; count; i++) {
		u64 rsi = ctx->gprs[EMUL_REG_RSI] & amask;
		u64 rdi = ctx->gprs[EMUL_REG_RDI] & amask;
		struct side src = { 0 }, dst = { 0 };
		u64 val = 0;

		if (i == limit)
			return 0;
		if (i == 0 && insn->type != EMUL_OP_MOVS) {
			src.gpa = dst.gpa = ctx->gpa;
			src.mmio = dst.mmio = true;
		} else {
			rc = reads ? side_resolve(ctx, linear_addr(insn, ctx, insn->mem.seg, rsi),
						  false, &src) : 0;
			if (!rc && writes)
				rc = side_resolve(ctx, linear_addr(insn, ctx, EMUL_SEG_ES, rdi),
						  true, &dst);
			/* Later iterations: the guest re-executes and takes
			 * the page fault itself. */
			if (rc)
				return i ? 0 : -EFAULT;
			/* An iteration touching only RAM runs natively. */
			if (i && !(reads && src.mmio) && !(writes && dst.mmio))
				return 0;
		}
		if (reads) {
			rc = mem_access(ctx, src.gpa, &val, size, false, src.mmio);
			if (rc)
				return rc;
		}
		if (writes) {
			if (insn->type == EMUL_OP_STOS)
				val = reg_read(ctx, EMUL_REG_RAX, false, size);
			rc = mem_access(ctx, dst.gpa, &val, size, true, dst.mmio);
			if (rc)
				return rc;
		}
		if (insn->type == EMUL_OP_LODS)
			reg_write(ctx, EMUL_REG_RAX, false, size, val);
		if (reads)
			reg_write(ctx, EMUL_REG_RSI, false, asz, rsi + step);
		if (writes)
			reg_write(ctx, EMUL_REG_RDI, false, asz, rdi + step);
		count--;
		if (insn->rep)
			reg_write(ctx, EMUL_REG_RCX, false, asz, count);
		ctx->rep_done = i + 1;
	}
	return insn->len;
}

/*
 * PUSH Ev and POP Ev (SDM Vol. 2B, "PUSH", "POP"): one access is the memory
 * operand, the other the stack; either may be the MMIO one, so both are
 * translated. The stack pointer is RSP in 64-bit mode, else ESP or SP by
 * SS.B. PUSH computes its operand's address before decrementing rSP, POP
 * after incrementing it.
 */
static int exec_stack(const struct emul_insn *insn, struct emul_ctx *ctx)
{
	const u8 size = insn->op_size;
	const u8 ssz = insn->mode == EMUL_MODE_LONG64 ? 8 : ctx->ss_big ? 4 : 2;
	const u64 smask = emul_size_mask(ssz);
	u64 rsp = ctx->gprs[EMUL_REG_RSP] & smask, val = 0, new_rsp;
	struct side op, stack;
	int rc;

	if (!have_translation(ctx, insn->type == EMUL_OP_PUSH ? "push" : "pop"))
		return -EOPNOTSUPP;
	if (insn->type == EMUL_OP_PUSH) {
		new_rsp = (rsp - size) & smask;
		rc = side_resolve(ctx, operand_gla(insn, ctx, ctx->gprs), false, &op);
		if (!rc)
			rc = side_resolve(ctx, linear_addr(insn, ctx, EMUL_SEG_SS, new_rsp),
					  true, &stack);
		if (rc)
			return -EFAULT;
		rc = mem_access(ctx, op.gpa, &val, size, false, op.mmio);
		if (!rc)
			rc = mem_access(ctx, stack.gpa, &val, size, true, stack.mmio);
	} else {
		u64 gprs[EMUL_NR_GPRS];

		new_rsp = (rsp + size) & smask;
		memcpy(gprs, ctx->gprs, sizeof(gprs));
		gprs[EMUL_REG_RSP] = (gprs[EMUL_REG_RSP] & ~smask) | new_rsp;
		rc = side_resolve(ctx, linear_addr(insn, ctx, EMUL_SEG_SS, rsp), false, &stack);
		if (!rc)
			rc = side_resolve(ctx, operand_gla(insn, ctx, gprs), true, &op);
		if (rc)
			return -EFAULT;
		rc = mem_access(ctx, stack.gpa, &val, size, false, stack.mmio);
		if (!rc)
			rc = mem_access(ctx, op.gpa, &val, size, true, op.mmio);
	}
	if (rc)
		return rc;
	reg_write(ctx, EMUL_REG_RSP, false, ssz, new_rsp);
	return 0;
}

int emul_execute(const struct emul_insn *insn, struct emul_ctx *ctx)
{
	int rc;

	ctx->why[0] = '\0';
	ctx->rep_done = 0;
	if (insn->len == 0 || insn->len > EMUL_INSN_MAX_LEN ||
	    insn->mode >= EMUL_NR_MODES) {
		fmt_snprintf(ctx->why, EMUL_WHY_LEN, "not a decoded instruction");
		return -EINVAL;
	}
	switch (insn->type) {
	case EMUL_OP_MOVS:
	case EMUL_OP_STOS:
	case EMUL_OP_LODS:
		return exec_string(insn, ctx);
	case EMUL_OP_PUSH:
	case EMUL_OP_POP:
		rc = exec_stack(insn, ctx);
		break;
	default:
		rc = exec_single(insn, ctx);
		break;
	}
	return rc ? rc : insn->len;
}
