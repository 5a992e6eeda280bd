/*
 * emul/decode.c - the x86 instruction decoder for MMIO emulation: prefixes,
 * REX, opcode tables, ModR/M, SIB, displacement and immediate, for real,
 * 16-bit, 32-bit and 64-bit code; and emul_describe() for the trace view.
 *
 * Implements SDM Vol. 2A, chapter "Instruction Format" and the opcode maps of
 * SDM Vol. 2D, Appendix A "Opcode Map". Only instructions that access memory
 * through a ModR/M memory operand, a moffs or a string operand are accepted:
 * a register-only form can never be the cause of an MMIO exit.
 */
#include "emul/emul.h"

/* SDM Vol. 2A, "Instruction Prefixes" */
#define PREFIX_LOCK        0xf0
#define PREFIX_REPNE       0xf2
#define PREFIX_REP         0xf3
#define PREFIX_ES          0x26
#define PREFIX_CS          0x2e
#define PREFIX_SS          0x36
#define PREFIX_DS          0x3e
#define PREFIX_FS          0x64
#define PREFIX_GS          0x65
#define PREFIX_OPSIZE      0x66
#define PREFIX_ADDRSIZE    0x67

/* SDM Vol. 2A, "REX Prefixes": 0100WRXB, 64-bit mode only. */
#define REX_MASK           0xf0
#define REX_BASE           0x40
#define REX_W              0x08	/* 64-bit operand size */
#define REX_R              0x04	/* extends ModR/M.reg */
#define REX_X              0x02	/* extends SIB.index */
#define REX_B              0x01	/* extends ModR/M.rm or SIB.base */
#define REX_REG_SHIFT      3	/* REX bits supply bit 3 of a register number */

/* SDM Vol. 2D, Appendix A "Opcode Map": the two-byte escape. */
#define OPCODE_ESCAPE      0x0f

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

/*
 * SDM Vol. 2D, Table A-2 "One-byte Opcode Map". E = ModR/M memory operand,
 * G = ModR/M.reg register, I = immediate; b = byte, v = operand size.
 */
static const struct emul_op one_byte_opcodes[256] = {
	[0x00] = { EMUL_OP_ADD,  EMUL_OPF_MODRM | EMUL_OPF_BYTE },		/* ADD Eb,Gb */
	[0x01] = { EMUL_OP_ADD,  EMUL_OPF_MODRM },				/* ADD Ev,Gv */
	[0x02] = { EMUL_OP_ADD,  EMUL_OPF_MODRM | EMUL_OPF_BYTE | EMUL_OPF_REG_DST }, /* ADD Gb,Eb */
	[0x03] = { EMUL_OP_ADD,  EMUL_OPF_MODRM | EMUL_OPF_REG_DST },		/* ADD Gv,Ev */
	[0x08] = { EMUL_OP_OR,   EMUL_OPF_MODRM | EMUL_OPF_BYTE },		/* OR Eb,Gb */
	[0x09] = { EMUL_OP_OR,   EMUL_OPF_MODRM },				/* OR Ev,Gv */
	[0x0a] = { EMUL_OP_OR,   EMUL_OPF_MODRM | EMUL_OPF_BYTE | EMUL_OPF_REG_DST }, /* OR Gb,Eb */
	[0x0b] = { EMUL_OP_OR,   EMUL_OPF_MODRM | EMUL_OPF_REG_DST },		/* OR Gv,Ev */
	[0x10] = { EMUL_OP_ADC,  EMUL_OPF_MODRM | EMUL_OPF_BYTE },		/* ADC Eb,Gb */
	[0x11] = { EMUL_OP_ADC,  EMUL_OPF_MODRM },				/* ADC Ev,Gv */
	[0x12] = { EMUL_OP_ADC,  EMUL_OPF_MODRM | EMUL_OPF_BYTE | EMUL_OPF_REG_DST }, /* ADC Gb,Eb */
	[0x13] = { EMUL_OP_ADC,  EMUL_OPF_MODRM | EMUL_OPF_REG_DST },		/* ADC Gv,Ev */
	[0x18] = { EMUL_OP_SBB,  EMUL_OPF_MODRM | EMUL_OPF_BYTE },		/* SBB Eb,Gb */
	[0x19] = { EMUL_OP_SBB,  EMUL_OPF_MODRM },				/* SBB Ev,Gv */
	[0x1a] = { EMUL_OP_SBB,  EMUL_OPF_MODRM | EMUL_OPF_BYTE | EMUL_OPF_REG_DST }, /* SBB Gb,Eb */
	[0x1b] = { EMUL_OP_SBB,  EMUL_OPF_MODRM | EMUL_OPF_REG_DST },		/* SBB Gv,Ev */
	[0x20] = { EMUL_OP_AND,  EMUL_OPF_MODRM | EMUL_OPF_BYTE },		/* AND Eb,Gb */
	[0x21] = { EMUL_OP_AND,  EMUL_OPF_MODRM },				/* AND Ev,Gv */
	[0x22] = { EMUL_OP_AND,  EMUL_OPF_MODRM | EMUL_OPF_BYTE | EMUL_OPF_REG_DST }, /* AND Gb,Eb */
	[0x23] = { EMUL_OP_AND,  EMUL_OPF_MODRM | EMUL_OPF_REG_DST },		/* AND Gv,Ev */
	[0x28] = { EMUL_OP_SUB,  EMUL_OPF_MODRM | EMUL_OPF_BYTE },		/* SUB Eb,Gb */
	[0x29] = { EMUL_OP_SUB,  EMUL_OPF_MODRM },				/* SUB Ev,Gv */
	[0x2a] = { EMUL_OP_SUB,  EMUL_OPF_MODRM | EMUL_OPF_BYTE | EMUL_OPF_REG_DST }, /* SUB Gb,Eb */
	[0x2b] = { EMUL_OP_SUB,  EMUL_OPF_MODRM | EMUL_OPF_REG_DST },		/* SUB Gv,Ev */
	[0x30] = { EMUL_OP_XOR,  EMUL_OPF_MODRM | EMUL_OPF_BYTE },		/* XOR Eb,Gb */
	[0x31] = { EMUL_OP_XOR,  EMUL_OPF_MODRM },				/* XOR Ev,Gv */
	[0x32] = { EMUL_OP_XOR,  EMUL_OPF_MODRM | EMUL_OPF_BYTE | EMUL_OPF_REG_DST }, /* XOR Gb,Eb */
	[0x33] = { EMUL_OP_XOR,  EMUL_OPF_MODRM | EMUL_OPF_REG_DST },		/* XOR Gv,Ev */
	[0x38] = { EMUL_OP_CMP,  EMUL_OPF_MODRM | EMUL_OPF_BYTE },		/* CMP Eb,Gb */
	[0x39] = { EMUL_OP_CMP,  EMUL_OPF_MODRM },				/* CMP Ev,Gv */
	[0x3a] = { EMUL_OP_CMP,  EMUL_OPF_MODRM | EMUL_OPF_BYTE | EMUL_OPF_REG_DST }, /* CMP Gb,Eb */
	[0x3b] = { EMUL_OP_CMP,  EMUL_OPF_MODRM | EMUL_OPF_REG_DST },		/* CMP Gv,Ev */
	/* MOVSXD Gv,Ed in 64-bit mode; ARPL elsewhere (footnote "o64"). */
	[0x63] = { EMUL_OP_MOVSX, EMUL_OPF_MODRM | EMUL_OPF_REG_DST | EMUL_OPF_SRC32 | EMUL_OPF_ONLY64 },
	/* Immediate group 1; 82 (an alias of 80 invalid in 64-bit mode) is left out. */
	[0x80] = { EMUL_OP_GROUP1, EMUL_OPF_MODRM | EMUL_OPF_BYTE | EMUL_OPF_IMM8 },	/* Eb,Ib */
	[0x81] = { EMUL_OP_GROUP1, EMUL_OPF_MODRM | EMUL_OPF_IMMZ },			/* Ev,Iz */
	[0x83] = { EMUL_OP_GROUP1, EMUL_OPF_MODRM | EMUL_OPF_IMM8 },			/* Ev,Ib */
	[0x84] = { EMUL_OP_TEST, EMUL_OPF_MODRM | EMUL_OPF_BYTE },		/* TEST Eb,Gb */
	[0x85] = { EMUL_OP_TEST, EMUL_OPF_MODRM },				/* TEST Ev,Gv */
	[0x86] = { EMUL_OP_XCHG, EMUL_OPF_MODRM | EMUL_OPF_BYTE },		/* XCHG Eb,Gb */
	[0x87] = { EMUL_OP_XCHG, EMUL_OPF_MODRM },				/* XCHG Ev,Gv */
	[0x88] = { EMUL_OP_MOV,  EMUL_OPF_MODRM | EMUL_OPF_BYTE },		/* MOV Eb,Gb */
	[0x89] = { EMUL_OP_MOV,  EMUL_OPF_MODRM },				/* MOV Ev,Gv */
	[0x8a] = { EMUL_OP_MOV,  EMUL_OPF_MODRM | EMUL_OPF_BYTE | EMUL_OPF_REG_DST }, /* MOV Gb,Eb */
	[0x8b] = { EMUL_OP_MOV,  EMUL_OPF_MODRM | EMUL_OPF_REG_DST },		/* MOV Gv,Ev */
	[0x8f] = { EMUL_OP_GROUP1A, EMUL_OPF_MODRM | EMUL_OPF_DEF64 },		/* POP Ev ("d64") */
	[0xa0] = { EMUL_OP_MOV,  EMUL_OPF_MOFFS | EMUL_OPF_ACC | EMUL_OPF_BYTE | EMUL_OPF_REG_DST }, /* MOV AL,Ob */
	[0xa1] = { EMUL_OP_MOV,  EMUL_OPF_MOFFS | EMUL_OPF_ACC | EMUL_OPF_REG_DST },	/* MOV rAX,Ov */
	[0xa2] = { EMUL_OP_MOV,  EMUL_OPF_MOFFS | EMUL_OPF_ACC | EMUL_OPF_BYTE },	/* MOV Ob,AL */
	[0xa3] = { EMUL_OP_MOV,  EMUL_OPF_MOFFS | EMUL_OPF_ACC },			/* MOV Ov,rAX */
	[0xa4] = { EMUL_OP_MOVS, EMUL_OPF_STRING | EMUL_OPF_BYTE },		/* MOVS Yb,Xb */
	[0xa5] = { EMUL_OP_MOVS, EMUL_OPF_STRING },				/* MOVS Yv,Xv */
	[0xaa] = { EMUL_OP_STOS, EMUL_OPF_STRING | EMUL_OPF_ACC | EMUL_OPF_BYTE }, /* STOS Yb,AL */
	[0xab] = { EMUL_OP_STOS, EMUL_OPF_STRING | EMUL_OPF_ACC },		/* STOS Yv,rAX */
	[0xac] = { EMUL_OP_LODS, EMUL_OPF_STRING | EMUL_OPF_ACC | EMUL_OPF_BYTE | EMUL_OPF_REG_DST }, /* LODS AL,Xb */
	[0xad] = { EMUL_OP_LODS, EMUL_OPF_STRING | EMUL_OPF_ACC | EMUL_OPF_REG_DST }, /* LODS rAX,Xv */
	[0xc6] = { EMUL_OP_GROUP11, EMUL_OPF_MODRM | EMUL_OPF_BYTE | EMUL_OPF_IMM8 },	/* MOV Eb,Ib */
	[0xc7] = { EMUL_OP_GROUP11, EMUL_OPF_MODRM | EMUL_OPF_IMMZ },			/* MOV Ev,Iz */
	/* Unary group 3: only TEST (/0) has the immediate and is supported. */
	[0xf6] = { EMUL_OP_GROUP3, EMUL_OPF_MODRM | EMUL_OPF_BYTE | EMUL_OPF_IMM8 },	/* TEST Eb,Ib */
	[0xf7] = { EMUL_OP_GROUP3, EMUL_OPF_MODRM | EMUL_OPF_IMMZ },			/* TEST Ev,Iz */
	[0xff] = { EMUL_OP_GROUP5, EMUL_OPF_MODRM | EMUL_OPF_DEF64 },		/* PUSH Ev ("d64") */
};

/* SDM Vol. 2D, Table A-3 "Two-byte Opcode Map" (first byte 0FH). */
static const struct emul_op two_byte_opcodes[256] = {
	[0xa3] = { EMUL_OP_BT,    EMUL_OPF_MODRM },				/* BT Ev,Gv */
	[0xb6] = { EMUL_OP_MOVZX, EMUL_OPF_MODRM | EMUL_OPF_REG_DST | EMUL_OPF_SRC8 },	/* MOVZX Gv,Eb */
	[0xb7] = { EMUL_OP_MOVZX, EMUL_OPF_MODRM | EMUL_OPF_REG_DST | EMUL_OPF_SRC16 },	/* MOVZX Gv,Ew */
	[0xba] = { EMUL_OP_GROUP8, EMUL_OPF_MODRM | EMUL_OPF_IMM8 },			/* BT Ev,Ib */
	[0xbe] = { EMUL_OP_MOVSX, EMUL_OPF_MODRM | EMUL_OPF_REG_DST | EMUL_OPF_SRC8 },	/* MOVSX Gv,Eb */
	[0xbf] = { EMUL_OP_MOVSX, EMUL_OPF_MODRM | EMUL_OPF_REG_DST | EMUL_OPF_SRC16 },	/* MOVSX Gv,Ew */
};

/* SDM Vol. 2D, Table A-6 "Opcode Extensions for One- and Two-byte Opcodes by
 * Group Number": the operation ModR/M.reg selects; NONE is unsupported. */
static const u8 group_ops[EMUL_NR_OP_TYPES][8] = {
	[EMUL_OP_GROUP1]  = { EMUL_OP_ADD, EMUL_OP_OR, EMUL_OP_ADC, EMUL_OP_SBB,
			      EMUL_OP_AND, EMUL_OP_SUB, EMUL_OP_XOR, EMUL_OP_CMP },
	[EMUL_OP_GROUP1A] = { [0] = EMUL_OP_POP },
	[EMUL_OP_GROUP3]  = { [0] = EMUL_OP_TEST },
	[EMUL_OP_GROUP5]  = { [6] = EMUL_OP_PUSH },
	[EMUL_OP_GROUP8]  = { [4] = EMUL_OP_BT },
	[EMUL_OP_GROUP11] = { [0] = EMUL_OP_MOV },
};

static bool op_is_group(u8 type)
{
	return type >= EMUL_OP_GROUP1 && type < EMUL_NR_OP_TYPES;
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
 * "d64" opcodes default to 64 bits and 66 selects 16). */
static u8 dec_op_size(enum emul_cpu_mode mode, u16 flags, u8 rex, bool opsize)
{
	if (flags & EMUL_OPF_BYTE)
		return 1;
	if (mode == EMUL_MODE_LONG64) {
		if (rex & REX_W)
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
 * LOCK# Signal Prefix"): these, when the destination is memory. */
static bool op_lockable(const struct emul_insn *insn)
{
	switch (insn->type) {
	case EMUL_OP_ADD: case EMUL_OP_OR: case EMUL_OP_ADC: case EMUL_OP_SBB:
	case EMUL_OP_AND: case EMUL_OP_SUB: case EMUL_OP_XOR:
		return !(insn->flags & EMUL_OPF_REG_DST);
	case EMUL_OP_XCHG:
		return true;
	default:
		return false;
	}
}

int emul_decode(const u8 *bytes, size_t len, enum emul_cpu_mode mode,
		struct emul_insn *out)
{
	struct dec d = { .bytes = bytes, .len = len, .pos = 0, .out = out };
	bool opsize = false, addrsize = false, repne = false, rep = false;
	u8 seg = EMUL_NR_SEGS;
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
	 * other prefix is ignored (SDM Vol. 2A, "REX Prefixes"). */
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
		case PREFIX_REPNE:    repne = true; break;
		case PREFIX_REP:      rep = true; break;
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
		op = &two_byte_opcodes[b];
	} else {
		op = &one_byte_opcodes[b];
	}
	out->opcode = b;
	out->type = op->type;
	out->flags = op->flags;
	if (out->type == EMUL_OP_NONE ||
	    ((out->flags & EMUL_OPF_ONLY64) && mode != EMUL_MODE_LONG64))
		return dec_fail(&d, -EINVAL, "unsupported instruction");

	out->op_size = dec_op_size(mode, out->flags, out->rex, opsize);
	out->addr_size = dec_addr_size(mode, addrsize);
	out->mem_size = out->op_size;
	out->reg_size = out->op_size;
	if (out->flags & EMUL_OPF_SRC8)
		out->mem_size = 1;
	else if (out->flags & EMUL_OPF_SRC16)
		out->mem_size = 2;
	else if (out->flags & EMUL_OPF_SRC32)
		out->mem_size = 4;

	if (out->flags & EMUL_OPF_MODRM) {
		u8 mod, reg;

		rc = dec_byte(&d, &out->modrm);
		if (rc)
			return rc;
		mod = modrm_mod(out->modrm);
		reg = modrm_reg(out->modrm);
		if (op_is_group(out->type)) {
			out->type = group_ops[out->type][reg];
			if (out->type == EMUL_OP_NONE)
				return dec_fail(&d, -EINVAL, "unsupported instruction");
		} else {
			out->has_reg = true;
			out->reg = (u8)(reg | ((out->rex & REX_R) ? 1 << REX_REG_SHIFT : 0));
		}
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
		if (out->type == EMUL_OP_STOS) {
			out->mem.base = EMUL_REG_RDI;
			out->mem.seg = EMUL_SEG_ES;
		} else {
			out->mem.base = EMUL_REG_RSI;
		}
		if (repne)
			return dec_fail(&d, -EINVAL, "repne string move unsupported");
		out->rep = rep;
	}
	if (out->flags & EMUL_OPF_ACC) {
		out->has_reg = true;
		out->reg = EMUL_REG_RAX;
	}

	/* MOVSXD without REX.W is a plain 32-bit (or, with 66, ill-defined
	 * 16-bit) move the SDM discourages; compilers never emit it. */
	if ((out->flags & EMUL_OPF_SRC32) && out->op_size != 8)
		return dec_fail(&d, -EINVAL, "movsxd without rex.w unsupported");

	if (seg != EMUL_NR_SEGS && out->type != EMUL_OP_STOS) {
		out->mem.seg = seg;
		out->mem.seg_override = true;
	}

	if (out->has_reg && out->reg_size == 1 && !out->rex &&
	    out->reg >= REG8_HIGH_FIRST && out->reg < EMUL_REG_R8) {
		out->reg = (u8)(out->reg - REG8_HIGH_FIRST);
		out->reg_high8 = true;
	}

	if (out->flags & (EMUL_OPF_IMM8 | EMUL_OPF_IMMZ)) {
		s64 imm;
		out->imm_size = (out->flags & EMUL_OPF_IMM8) ? 1 : (u8)MIN(out->op_size, 4);
		rc = dec_signed(&d, out->imm_size, &imm);
		if (rc)
			return rc;
		out->has_imm = true;
		/* BT's ib is an unsigned bit offset. */
		out->imm = out->type == EMUL_OP_BT ? (u8)imm : (u64)imm;
	}

	if (out->lock && !op_lockable(out))
		return dec_fail(&d, -EINVAL, "lock prefix not allowed (#UD)");

	out->len = (u8)d.pos;
	return out->len;
}

/* ---- describe ----------------------------------------------------------- */

static const char *const reg_names[4][EMUL_NR_GPRS] = {
	{ "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
	  "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b" },
	{ "ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
	  "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w" },
	{ "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
	  "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d" },
	{ "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	  "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" },
};
static const char *const high8_names[4] = { "ah", "ch", "dh", "bh" };
static const char *const seg_names[EMUL_NR_SEGS] = { "es", "cs", "ss", "ds", "fs", "gs" };
static const char *const mnemonics[EMUL_NR_OP_TYPES] = {
	[EMUL_OP_MOV] = "mov", [EMUL_OP_MOVZX] = "movzx", [EMUL_OP_MOVSX] = "movsx",
	[EMUL_OP_ADD] = "add", [EMUL_OP_OR] = "or", [EMUL_OP_ADC] = "adc",
	[EMUL_OP_SBB] = "sbb", [EMUL_OP_AND] = "and", [EMUL_OP_SUB] = "sub",
	[EMUL_OP_XOR] = "xor", [EMUL_OP_CMP] = "cmp", [EMUL_OP_TEST] = "test",
	[EMUL_OP_XCHG] = "xchg", [EMUL_OP_BT] = "bt", [EMUL_OP_MOVS] = "movs",
	[EMUL_OP_STOS] = "stos", [EMUL_OP_LODS] = "lods", [EMUL_OP_PUSH] = "push",
	[EMUL_OP_POP] = "pop",
};

static unsigned size_index(u8 size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

/* Appends to buf[0..n) at *at, never past the end. */
static void __printf(4, 5) desc_add(char *buf, size_t n, size_t *at, const char *fmt, ...)
{
	va_list ap;

	if (*at >= n)
		return;
	va_start(ap, fmt);
	*at += (size_t)fmt_vsnprintf(buf + *at, n - *at, fmt, ap);
	va_end(ap);
}

static void desc_reg(const struct emul_insn *insn, char *buf, size_t n, size_t *at)
{
	if (insn->reg_high8)
		desc_add(buf, n, at, "%s", high8_names[insn->reg % ARRAY_SIZE(high8_names)]);
	else
		desc_add(buf, n, at, "%s", reg_names[size_index(insn->reg_size)][insn->reg % EMUL_NR_GPRS]);
}

static void desc_mem(const struct emul_insn *insn, char *buf, size_t n, size_t *at)
{
	static const char *const size_names[4] = { "byte", "word", "dword", "qword" };
	const struct emul_mem *m = &insn->mem;
	const char *const *names = reg_names[size_index(insn->addr_size)];
	bool any = false;

	desc_add(buf, n, at, "%s [", size_names[size_index(insn->mem_size)]);
	if (m->seg_override)
		desc_add(buf, n, at, "%s:", seg_names[m->seg]);
	if (m->base == EMUL_REG_RIP) {
		desc_add(buf, n, at, "%s", insn->addr_size == 8 ? "rip" : "eip");
		any = true;
	} else if (m->base != EMUL_REG_NONE) {
		desc_add(buf, n, at, "%s", names[m->base % EMUL_NR_GPRS]);
		any = true;
	}
	if (m->index != EMUL_REG_NONE) {
		desc_add(buf, n, at, "%s%s", any ? "+" : "", names[m->index % EMUL_NR_GPRS]);
		/* 16-bit forms have no scale. */
		if (insn->addr_size != 2)
			desc_add(buf, n, at, "*%u", m->scale);
		any = true;
	}
	if (!any)
		desc_add(buf, n, at, "0x%llx", (u64)m->disp & emul_size_mask(insn->addr_size));
	else if (m->disp < 0)
		desc_add(buf, n, at, "-0x%llx", -(u64)m->disp & emul_size_mask(insn->addr_size));
	else if (m->disp > 0)
		desc_add(buf, n, at, "+0x%llx", (u64)m->disp);
	desc_add(buf, n, at, "]");
}

const char *emul_describe(const struct emul_insn *insn, char *buf, size_t n)
{
	static const char string_suffix[4] = { 'b', 'w', 'd', 'q' };
	size_t at = 0;

	if (!n)
		return buf;
	buf[0] = '\0';
	if (insn->type == EMUL_OP_NONE || insn->type >= EMUL_OP_GROUP1) {
		desc_add(buf, n, &at, "(invalid)");
		return buf;
	}
	if (insn->lock)
		desc_add(buf, n, &at, "lock ");
	if (insn->rep)
		desc_add(buf, n, &at, "rep ");
	if (insn->flags & EMUL_OPF_STRING) {
		/* The implicit operands follow from the mnemonic; name an
		 * overridden source segment as objdump does. */
		if (insn->mem.seg_override)
			desc_add(buf, n, &at, "%s ", seg_names[insn->mem.seg]);
		desc_add(buf, n, &at, "%s%c", mnemonics[insn->type],
			 string_suffix[size_index(insn->op_size)]);
		return buf;
	}
	desc_add(buf, n, &at, "%s ", (insn->flags & EMUL_OPF_SRC32) ? "movsxd"
								  : mnemonics[insn->type]);
	if (insn->flags & EMUL_OPF_REG_DST) {
		desc_reg(insn, buf, n, &at);
		desc_add(buf, n, &at, ", ");
		desc_mem(insn, buf, n, &at);
	} else {
		desc_mem(insn, buf, n, &at);
		if (insn->has_reg) {
			desc_add(buf, n, &at, ", ");
			desc_reg(insn, buf, n, &at);
		} else if (insn->has_imm) {
			desc_add(buf, n, &at, ", 0x%llx", insn->imm & emul_size_mask(insn->op_size));
		}
	}
	return buf;
}
