/*
 * emul/decode.c - the x86 instruction decoder for MMIO emulation: prefixes,
 * REX, opcode maps, ModR/M, SIB, displacement and immediate, for real,
 * 16-bit, 32-bit and 64-bit code.
 *
 * Implements SDM Vol. 2A, chapter "Instruction Format" and the opcode maps of
 * SDM Vol. 2D, Appendix A "Opcode Map" (tables in emul/optab.c). Only
 * instructions that access memory through a ModR/M memory operand, a moffs,
 * a string operand or the stack are accepted: a register-only form can never
 * be the cause of an MMIO exit.
 */
#include "emul/emul_priv.h"

/* SDM Vol. 2A, "ModR/M and SIB Bytes" */
#define MODRM_MOD_SHIFT    6
#define MODRM_REG_SHIFT    3
#define MODRM_FIELD_MASK   0x7
#define MODRM_MOD_NODISP   0	/* [base], or disp-only forms */
#define MODRM_MOD_DISP8    1
#define MODRM_MOD_DISP_Z   2	/* disp16 or disp32 by address size */
#define MODRM_MOD_REG      3	/* register operand, no memory */
#define MODRM_RM_SIB       4	/* 32/64-bit addressing: a SIB byte follows */
#define MODRM_RM_DISP32    5	/* with mod 0: disp32, or RIP-relative in 64-bit mode */
#define MODRM_RM16_DISP16  6	/* 16-bit addressing, mod 0: disp16 only */
#define SIB_INDEX_NONE     4	/* index field 100b without REX.X: no index */
#define SIB_BASE_NONE      5	/* base field 101b with mod 0: disp32, no base */

static u8 modrm_mod(u8 m) { return (u8)(m >> MODRM_MOD_SHIFT); }
static u8 modrm_reg(u8 m) { return (u8)((m >> MODRM_REG_SHIFT) & MODRM_FIELD_MASK); }
static u8 modrm_rm(u8 m)  { return (u8)(m & MODRM_FIELD_MASK); }

/* Register numbers in the ModR/M fields with 8-bit operands and no REX:
 * 4..7 name AH CH DH BH, the second byte of registers 0..3 (SDM Vol. 2A,
 * "Register Codes Associated With +rb, +rw, +rd, +ro"). */
#define REG8_HIGH_FIRST    4

/* SDM Vol. 2D, Table A-4 "Three-byte Opcode Map" (0F 38): MOVBE, the
 * prefix-free row F0/F1 (F2 makes them CRC32). */
#define OPCODE_MOVBE_LOAD  0xf0
#define OPCODE_MOVBE_STORE 0xf1
static const struct emul_op no_op;
static const struct emul_op movbe_ops[2] = {
	{ EMUL_OP_MOVBE, 0, EMUL_OPF_MODRM | EMUL_OPF_REG_DST },	/* MOVBE Gy,My */
	{ EMUL_OP_MOVBE, 0, EMUL_OPF_MODRM },				/* MOVBE My,Gy */
};

/* SDM Vol. 2A, "Segment Register (sreg) Field Encoding": 6 and 7 are
 * reserved, and MOV to CS is #UD. */
#define SREG_FIELD_MAX     EMUL_SEG_GS
/* CMPXCHG8B Mq becomes CMPXCHG16B Mdq with REX.W. */
#define CMPXCHG16B_SIZE    16
#define XMM_REG_BYTES      16
#define MM_REG_BYTES       8
#define SREG_BYTES         2
/* MOVD/MOVQ 0F 6E/7E: REX.W selects a 64-bit memory operand. */
#define OPCODE_MOVD_LOAD   0x6e
#define OPCODE_MOVD_STORE  0x7e

static bool op_is_group(u8 type)
{
	return type >= EMUL_OP_GROUP1 && type < EMUL_OP_SSE;
}

/* Decoder state: the input and how far we have read. */
struct dec {
	const u8 *bytes;
	size_t len;
	size_t pos;
	struct emul_insn *out;
};

/* Records why decoding failed, followed by the bytes read so far, and
 * returns err. */
static int dec_fail(struct dec *d, int err, const char *reason)
{
	char *why = d->out->why;
	size_t at = (size_t)fmt_snprintf(why, EMUL_WHY_LEN, "%s:", reason);

	for (size_t i = 0; i < d->pos && at < EMUL_WHY_LEN; i++)
		at += (size_t)fmt_snprintf(why + at, EMUL_WHY_LEN - at, " %02x",
					  d->bytes[i]);
	return err;
}

/* Reads the next byte: -EINVAL past 15 bytes (the CPU raises #GP), -E2BIG
 * past the bytes given. */
static int dec_byte(struct dec *d, u8 *b)
{
	if (d->pos >= EMUL_INSN_MAX_LEN)
		return dec_fail(d, -EINVAL, "instruction longer than 15 bytes");
	if (d->pos >= d->len)
		return dec_fail(d, -E2BIG, "instruction continues past the bytes given");
	*b = d->bytes[d->pos++];
	return 0;
}

/* Reads a little-endian n-byte field (1, 2, 4, 8) and sign-extends it. */
static int dec_signed(struct dec *d, unsigned n, s64 *val)
{
	u64 v = 0;
	u8 b = 0;

	for (unsigned i = 0; i < n; i++) {
		int rc = dec_byte(d, &b);
		if (rc)
			return rc;
		v |= (u64)b << (8 * i);
	}
	if (n < sizeof(v)) {
		unsigned shift = 64 - 8 * n;
		*val = (s64)(v << shift) >> shift;
	} else {
		*val = (s64)v;
	}
	return 0;
}

/* 64-bit mode ignores the CS, DS, ES and SS overrides (SDM Vol. 1,
 * "Segmentation in IA-32e Mode"): only FS and GS change the segment. */
static bool seg_prefix_counts(enum emul_cpu_mode mode, u8 seg)
{
	return mode != EMUL_MODE_LONG64 || seg == EMUL_SEG_FS ||
	       seg == EMUL_SEG_GS;
}

/*
 * 16-bit addressing: SDM Vol. 2A, Table 2-1 "16-Bit Addressing Forms with the
 * ModR/M Byte". Forms based on BP default to SS.
 */
static int dec_mem16(struct dec *d, u8 mod, u8 rm)
{
	static const u8 base16[8] = {
		EMUL_REG_RBX, EMUL_REG_RBX, EMUL_REG_RBP, EMUL_REG_RBP,
		EMUL_REG_RSI, EMUL_REG_RDI, EMUL_REG_RBP, EMUL_REG_RBX,
	};
	static const u8 index16[8] = {
		EMUL_REG_RSI, EMUL_REG_RDI, EMUL_REG_RSI, EMUL_REG_RDI,
		EMUL_REG_NONE, EMUL_REG_NONE, EMUL_REG_NONE, EMUL_REG_NONE,
	};
	struct emul_mem *m = &d->out->mem;
	unsigned disp_bytes = mod == MODRM_MOD_DISP8 ? 1 : mod == MODRM_MOD_DISP_Z ? 2 : 0;

	m->base = base16[rm];
	m->index = index16[rm];
	if (mod == MODRM_MOD_NODISP && rm == MODRM_RM16_DISP16) {
		m->base = EMUL_REG_NONE;
		disp_bytes = 2;
	}
	m->scale = m->index == EMUL_REG_NONE ? 0 : 1;
	if (m->base == EMUL_REG_RBP)
		m->seg = EMUL_SEG_SS;
	return disp_bytes ? dec_signed(d, disp_bytes, &m->disp) : 0;
}

/*
 * 32- and 64-bit addressing: SDM Vol. 2A, Table 2-2 "32-Bit Addressing Forms
 * with the ModR/M Byte", Table 2-3 "32-Bit Addressing Forms with the SIB
 * Byte", and "RIP-Relative Addressing"; REX.X and REX.B extend index and
 * base (SDM Vol. 2A, "Special Cases of REX Encodings": R12/R13 still need the
 * SIB byte and the disp32 form, since those depend on the low 3 bits only).
 * A base of ESP/RSP or EBP/RBP defaults to SS.
 */
static int dec_mem32(struct dec *d, u8 mod, u8 rm)
{
	struct emul_insn *out = d->out;
	struct emul_mem *m = &out->mem;
	u8 rex_x = (out->rex & REX_X) ? 1 << REX_REG_SHIFT : 0;
	u8 rex_b = (out->rex & REX_B) ? 1 << REX_REG_SHIFT : 0;
	unsigned disp_bytes = mod == MODRM_MOD_DISP8 ? 1 : mod == MODRM_MOD_DISP_Z ? 4 : 0;
	int rc;

	if (rm == MODRM_RM_SIB) {
		u8 sib, base, index;

		rc = dec_byte(d, &sib);
		if (rc)
			return rc;
		base = modrm_rm(sib);
		index = (u8)(modrm_reg(sib) | rex_x);
		if (index != SIB_INDEX_NONE) {
			m->index = index;
			m->scale = (u8)(1u << modrm_mod(sib));
		}
		if (base == SIB_BASE_NONE && mod == MODRM_MOD_NODISP)
			disp_bytes = 4;
		else
			m->base = (u8)(base | rex_b);
	} else if (rm == MODRM_RM_DISP32 && mod == MODRM_MOD_NODISP) {
		if (out->mode == EMUL_MODE_LONG64)
			m->base = EMUL_REG_RIP;
		disp_bytes = 4;
	} else {
		m->base = (u8)(rm | rex_b);
	}
	if (m->base == EMUL_REG_RSP || m->base == EMUL_REG_RBP)
		m->seg = EMUL_SEG_SS;
	return disp_bytes ? dec_signed(d, disp_bytes, &m->disp) : 0;
}

/* Operand size: SDM Vol. 1, "Operand-Size and Address-Size Attributes" and
 * Vol. 2A, "Operand-Size and Address-Size in 64-Bit Mode" (REX.W beats 66;
 * "d64" opcodes default to 64 bits and 66 selects 16; "f64" ones are 64
 * bits whatever 66 says, as on Intel CPUs). */
static u8 dec_op_size(enum emul_cpu_mode mode, u32 flags, u8 rex, bool opsize)
{
	if (flags & EMUL_OPF_BYTE)
		return 1;
	if (mode == EMUL_MODE_LONG64) {
		if ((rex & REX_W) || (flags & EMUL_OPF_FORCE64))
			return 8;
		if (flags & EMUL_OPF_DEF64)
			return opsize ? 2 : 8;
		return opsize ? 2 : 4;
	}
	if (mode == EMUL_MODE_PROT32)
		return opsize ? 2 : 4;
	return opsize ? 4 : 2;
}

static u8 dec_addr_size(enum emul_cpu_mode mode, bool addrsize)
{
	if (mode == EMUL_MODE_LONG64)
		return addrsize ? 4 : 8;
	if (mode == EMUL_MODE_PROT32)
		return addrsize ? 2 : 4;
	return addrsize ? 4 : 2;
}

/* Which instructions LOCK may prefix without #UD (SDM Vol. 2A, "LOCK--Assert
 * LOCK# Signal Prefix"): those marked lockable, when the destination is
 * memory. */
static bool op_lockable(const struct emul_insn *insn)
{
	return (insn->flags & EMUL_OPF_LOCKABLE) && !(insn->flags & EMUL_OPF_REG_DST);
}

/* Reads the immediates the opcode has (SDM Vol. 2A, "Immediates"). */
static int dec_immediates(struct dec *d, struct emul_insn *out)
{
	u32 f = out->flags;
	s64 imm;
	int rc;

	if (f & (EMUL_OPF_IMM8 | EMUL_OPF_IMMZ | EMUL_OPF_REL)) {
		out->imm_size = (f & EMUL_OPF_IMM8) ? 1 : (u8)MIN(out->op_size, 4);
		rc = dec_signed(d, out->imm_size, &imm);
		if (rc)
			return rc;
		out->has_imm = true;
		out->imm = (u64)imm;
		/* Bit offsets and shift counts are unsigned. */
		switch (out->type) {
		case EMUL_OP_BT: case EMUL_OP_BTS: case EMUL_OP_BTR: case EMUL_OP_BTC:
		case EMUL_OP_SHLD: case EMUL_OP_SHRD:
			out->imm = (u8)imm;
			break;
		default:
			break;
		}
	} else if (f & EMUL_OPF_IMM16) {
		rc = dec_signed(d, 2, &imm);
		if (rc)
			return rc;
		out->has_imm = true;
		out->imm_size = 2;
		out->imm = (u16)imm;
		if (out->type == EMUL_OP_ENTER) {
			rc = dec_signed(d, 1, &imm);
			if (rc)
				return rc;
			out->imm2 = (u8)imm;
		}
	}
	return 0;
}

/* Sizes and the register operand once the operation is known. */
static int dec_operands(struct dec *d, struct emul_insn *out, u8 mem_size, u8 reg,
			bool group)
{
	u32 f = out->flags;
	u8 rex_r = (out->rex & REX_R) ? 1 << REX_REG_SHIFT : 0;

	out->mem_size = mem_size ? mem_size : out->op_size;
	if (f & EMUL_OPF_SRC8)
		out->mem_size = 1;
	else if (f & EMUL_OPF_SRC16)
		out->mem_size = 2;
	else if (f & EMUL_OPF_SRC32)
		out->mem_size = 4;
	out->reg_size = out->op_size;

	switch (out->type) {
	case EMUL_OP_MOVNTI:	/* My,Gy: 32 or 64 bits whatever the mode */
		out->op_size = (out->rex & REX_W) ? 8 : 4;
		out->reg_size = out->mem_size = out->op_size;
		break;
	case EMUL_OP_CMPXCHG8B:
		if (out->rex & REX_W)
			out->mem_size = CMPXCHG16B_SIZE;
		break;
	case EMUL_OP_JMPF: case EMUL_OP_CALLF:
		/* A far pointer: the offset (operand size; 64 bits with
		 * REX.W, as Intel CPUs read it), then the 16-bit selector. */
		out->mem_size = (u8)(out->op_size + SREG_BYTES);
		break;
	case EMUL_OP_MOVD:
		if (out->rex & REX_W) {
			out->type = EMUL_OP_MOVQ;
			out->mem_size = 8;
		}
		break;
	default:
		break;
	}
	if (f & (EMUL_OPF_XMM | EMUL_OPF_MMX))
		out->op_size = out->mem_size;

	/* A ModR/M.reg that is an opcode extension or ignored (SETcc) names
	 * no register. */
	if (!(f & EMUL_OPF_MODRM) || group || out->type == EMUL_OP_SETCC)
		return 0;
	out->has_reg = true;
	if (f & EMUL_OPF_XMM) {
		out->reg = (u8)(reg | rex_r);
		out->reg_size = XMM_REG_BYTES;
	} else if (f & EMUL_OPF_MMX) {
		out->reg = reg;		/* MM0-7: REX.R is ignored */
		out->reg_size = MM_REG_BYTES;
	} else if (f & EMUL_OPF_SREG) {
		if (reg > SREG_FIELD_MAX ||
		    ((f & EMUL_OPF_REG_DST) && reg == EMUL_SEG_CS))
			return dec_fail(d, -EINVAL, "bad segment register (#UD)");
		out->reg = reg;
		out->reg_size = SREG_BYTES;
	} else {
		out->reg = (u8)(reg | rex_r);
	}
	return 0;
}

int emul_decode(const u8 *bytes, size_t len, enum emul_cpu_mode mode,
		struct emul_insn *out)
{
	struct dec d = { .bytes = bytes, .len = len, .pos = 0, .out = out };
	bool opsize = false, addrsize = false, group = false;
	u8 seg = EMUL_NR_SEGS, last_rep = 0, last_seg = 0, mprefix, reg = 0, mem_size;
	const struct emul_op *op;
	u8 b = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->mode = (u8)mode;
	out->mem.base = EMUL_REG_NONE;
	out->mem.index = EMUL_REG_NONE;
	out->mem.seg = EMUL_SEG_DS;
	if ((unsigned)mode >= EMUL_NR_MODES)
		return dec_fail(&d, -EINVAL, "bad cpu mode");

	/* Legacy prefixes in any order, then REX; a REX followed by any
	 * other prefix is ignored (SDM Vol. 2A, "REX Prefixes"). Of F2 and
	 * F3 the last one counts. */
	for (;;) {
		rc = dec_byte(&d, &b);
		if (rc)
			return rc;
		if (mode == EMUL_MODE_LONG64 && (b & REX_MASK) == REX_BASE) {
			out->rex = b;
			continue;
		}
		switch (b) {
		case PREFIX_OPSIZE:   opsize = true; break;
		case PREFIX_ADDRSIZE: addrsize = true; break;
		case PREFIX_LOCK:     out->lock = true; break;
		case PREFIX_REPNE:
		case PREFIX_REP:      last_rep = b; break;
		case PREFIX_ES: case PREFIX_CS: case PREFIX_SS: case PREFIX_DS:
		case PREFIX_FS: case PREFIX_GS: {
			static const u8 seg_of[] = {
				[PREFIX_ES - PREFIX_ES] = EMUL_SEG_ES,
				[PREFIX_CS - PREFIX_ES] = EMUL_SEG_CS,
				[PREFIX_SS - PREFIX_ES] = EMUL_SEG_SS,
				[PREFIX_DS - PREFIX_ES] = EMUL_SEG_DS,
				[PREFIX_FS - PREFIX_ES] = EMUL_SEG_FS,
				[PREFIX_GS - PREFIX_ES] = EMUL_SEG_GS,
			};
			u8 s = seg_of[b - PREFIX_ES];
			last_seg = b;
			if (seg_prefix_counts(mode, s))
				seg = s;
			break;
		}
		default:
			goto opcode;
		}
		out->rex = 0;
	}

opcode:
	if (b == OPCODE_ESCAPE) {
		rc = dec_byte(&d, &b);
		if (rc)
			return rc;
		out->two_byte = true;
		op = &emul_two_byte_opcodes[b];
		if (b == OPCODE_ESCAPE_38) {
			rc = dec_byte(&d, &b);
			if (rc)
				return rc;
			out->three_byte = true;
			op = (b == OPCODE_MOVBE_LOAD || b == OPCODE_MOVBE_STORE) && !last_rep
				? &movbe_ops[b - OPCODE_MOVBE_LOAD] : &no_op;
		}
	} else {
		op = &emul_one_byte_opcodes[b];
	}
	out->opcode = b;
	/* SDM Vol. 2A, "Instruction Prefixes": a mandatory prefix selects
	 * the SSE instruction; F2/F3 beat 66. */
	mprefix = last_rep ? last_rep : opsize ? PREFIX_OPSIZE : 0;
	if (op->type == EMUL_OP_SSE) {
		op = emul_sse_op(b, mprefix);
		if (mprefix == PREFIX_OPSIZE)
			opsize = false;
	}
	out->type = op->type;
	out->flags = op->flags;
	mem_size = op->mem_size;
	if (out->type == EMUL_OP_NONE ||
	    ((out->flags & EMUL_OPF_ONLY64) && mode != EMUL_MODE_LONG64))
		return dec_fail(&d, -EINVAL, "unsupported instruction");
	/* F3 0F BC/BD are TZCNT/LZCNT; MOVNTI has no prefixed form. */
	if (((out->type == EMUL_OP_BSF || out->type == EMUL_OP_BSR) && last_rep == PREFIX_REP) ||
	    (out->type == EMUL_OP_MOVNTI && mprefix))
		return dec_fail(&d, -EINVAL, "unsupported instruction");

	if (out->flags & EMUL_OPF_MODRM) {
		rc = dec_byte(&d, &out->modrm);
		if (rc)
			return rc;
		reg = modrm_reg(out->modrm);
		if (op_is_group(out->type)) {
			const struct emul_op *g = &emul_group_ops[out->type][reg];
			bool test = out->type == EMUL_OP_GROUP3 && g->type == EMUL_OP_TEST;

			if (g->type == EMUL_OP_NONE)
				return dec_fail(&d, -EINVAL, "unsupported instruction");
			out->type = g->type;
			out->flags |= g->flags;
			if (g->mem_size)
				mem_size = g->mem_size;
			if (test)
				out->flags |= (out->flags & EMUL_OPF_BYTE) ? EMUL_OPF_IMM8
									   : EMUL_OPF_IMMZ;
			group = true;
		}
	}
	/* SDM "LTR": #UD in real-address and virtual-8086 mode. */
	if (out->type == EMUL_OP_LTR && mode == EMUL_MODE_REAL)
		return dec_fail(&d, -EINVAL, "unsupported instruction");
	out->op_size = dec_op_size(mode, out->flags, out->rex, opsize);
	out->addr_size = dec_addr_size(mode, addrsize);
	rc = dec_operands(&d, out, mem_size, reg, group);
	if (rc)
		return rc;

	if (out->flags & EMUL_OPF_MODRM) {
		u8 mod = modrm_mod(out->modrm);

		if (mod == MODRM_MOD_REG)
			return dec_fail(&d, -EINVAL, "register operand, no memory access");
		rc = out->addr_size == 2 ? dec_mem16(&d, mod, modrm_rm(out->modrm))
					 : dec_mem32(&d, mod, modrm_rm(out->modrm));
		if (rc)
			return rc;
	} else if (out->flags & EMUL_OPF_MOFFS) {
		rc = dec_signed(&d, out->addr_size, &out->mem.disp);
		if (rc)
			return rc;
	} else if (out->flags & EMUL_OPF_STRING) {
		/* SDM Vol. 2A, "MOVS/MOVSB/...": source seg:rSI (override
		 * allowed), destination ES:rDI (no override). */
		if (out->type == EMUL_OP_STOS || out->type == EMUL_OP_SCAS) {
			out->mem.base = EMUL_REG_RDI;
			out->mem.seg = EMUL_SEG_ES;
		} else {
			out->mem.base = EMUL_REG_RSI;
		}
		if (out->type == EMUL_OP_CMPS || out->type == EMUL_OP_SCAS) {
			out->rep = last_rep == PREFIX_REP;
			out->repne = last_rep == PREFIX_REPNE;
		} else if (last_rep == PREFIX_REPNE) {
			return dec_fail(&d, -EINVAL, "repne string move unsupported");
		} else {
			out->rep = last_rep == PREFIX_REP;
		}
	} else if (out->flags & EMUL_OPF_STACK) {
		out->mem.base = EMUL_REG_RSP;
		out->mem.seg = EMUL_SEG_SS;
		if (out->flags & EMUL_OPF_OPREG) {
			out->has_reg = true;
			out->reg = (u8)((b & MODRM_FIELD_MASK) |
					((out->rex & REX_B) ? 1 << REX_REG_SHIFT : 0));
			out->reg_size = out->op_size;
		}
	}
	if (out->flags & EMUL_OPF_ACC) {
		out->has_reg = true;
		out->reg = EMUL_REG_RAX;
		out->reg_size = out->op_size;
	}

	/* MOVSXD without REX.W is a plain 32-bit (or, with 66, ill-defined
	 * 16-bit) move the SDM discourages; compilers never emit it. */
	if ((out->flags & EMUL_OPF_SRC32) && out->op_size != 8)
		return dec_fail(&d, -EINVAL, "movsxd without rex.w unsupported");

	/* SDM Vol. 1, "Control-flow Enforcement Technology": a last segment
	 * prefix 3E on an indirect CALL/JMP is NOTRACK, not an override (in
	 * 64-bit mode it never was one, and FS/GS before it still count). */
	if ((out->type == EMUL_OP_JMP || out->type == EMUL_OP_CALL) && last_seg == PREFIX_DS &&
	    mode != EMUL_MODE_LONG64)
		seg = EMUL_NR_SEGS;
	if (seg != EMUL_NR_SEGS && out->type != EMUL_OP_STOS &&
	    out->type != EMUL_OP_SCAS && !(out->flags & EMUL_OPF_STACK)) {
		out->mem.seg = seg;
		out->mem.seg_override = true;
	}

	if (out->has_reg && out->reg_size == 1 && !out->rex &&
	    out->reg >= REG8_HIGH_FIRST && out->reg < EMUL_REG_R8) {
		out->reg = (u8)(out->reg - REG8_HIGH_FIRST);
		out->reg_high8 = true;
	}

	rc = dec_immediates(&d, out);
	if (rc)
		return rc;

	if (out->lock && !op_lockable(out))
		return dec_fail(&d, -EINVAL, "lock prefix not allowed (#UD)");

	out->len = (u8)d.pos;
	return out->len;
}
