/*
 * emul/optab.c - the decoder's opcode tables: which opcodes access memory
 * and are emulated, with the shape of their operands.
 *
 * SDM Vol. 2D, Appendix A "Opcode Map": Table A-2 "One-byte Opcode Map",
 * Table A-3 "Two-byte Opcode Map", Table A-4 "Three-byte Opcode Map" (0F 38
 * F0/F1 only), Table A-6 "Opcode Extensions for One- and Two-byte Opcodes by
 * Group Number". E = ModR/M memory operand, G = ModR/M.reg register, I =
 * immediate; b = byte, v = operand size.
 */
#include "emul/emul_priv.h"

#define M      EMUL_OPF_MODRM
#define B      EMUL_OPF_BYTE
#define RD     EMUL_OPF_REG_DST
#define LK     EMUL_OPF_LOCKABLE
#define STK    EMUL_OPF_STACK
#define D64    EMUL_OPF_DEF64
#define F64    EMUL_OPF_FORCE64

/* Two-operand ALU rows 00-3B: Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev. */
#define ALU_ROW(base, op, lk)						\
	[(base) + 0] = { op, 0, M | B | (lk) },				\
	[(base) + 1] = { op, 0, M | (lk) },				\
	[(base) + 2] = { op, 0, M | B | RD },				\
	[(base) + 3] = { op, 0, M | RD }

#define REG8(base, op, fl)						\
	[(base) + 0] = { op, 0, fl }, [(base) + 1] = { op, 0, fl },	\
	[(base) + 2] = { op, 0, fl }, [(base) + 3] = { op, 0, fl },	\
	[(base) + 4] = { op, 0, fl }, [(base) + 5] = { op, 0, fl },	\
	[(base) + 6] = { op, 0, fl }, [(base) + 7] = { op, 0, fl }

#define CC16(base, op, fl)						\
	REG8(base, op, fl), REG8((base) + 8, op, fl)

const struct emul_op emul_one_byte_opcodes[256] = {
	ALU_ROW(0x00, EMUL_OP_ADD, LK),
	ALU_ROW(0x08, EMUL_OP_OR, LK),
	ALU_ROW(0x10, EMUL_OP_ADC, LK),
	ALU_ROW(0x18, EMUL_OP_SBB, LK),
	ALU_ROW(0x20, EMUL_OP_AND, LK),
	ALU_ROW(0x28, EMUL_OP_SUB, LK),
	ALU_ROW(0x30, EMUL_OP_XOR, LK),
	ALU_ROW(0x38, EMUL_OP_CMP, 0),
	/* PUSH/POP rv ("d64"): the stack is the memory operand. */
	REG8(0x50, EMUL_OP_PUSH, STK | D64 | EMUL_OPF_OPREG),
	REG8(0x58, EMUL_OP_POP, STK | D64 | EMUL_OPF_OPREG),
	/* MOVSXD Gv,Ed in 64-bit mode; ARPL elsewhere (footnote "o64"). */
	[0x63] = { EMUL_OP_MOVSX, 0, M | RD | EMUL_OPF_SRC32 | EMUL_OPF_ONLY64 },
	[0x68] = { EMUL_OP_PUSH, 0, STK | D64 | EMUL_OPF_IMMZ },	/* PUSH Iz */
	[0x69] = { EMUL_OP_IMUL, 0, M | RD | EMUL_OPF_IMMZ },		/* IMUL Gv,Ev,Iz */
	[0x6a] = { EMUL_OP_PUSH, 0, STK | D64 | EMUL_OPF_IMM8 },	/* PUSH Ib */
	[0x6b] = { EMUL_OP_IMUL, 0, M | RD | EMUL_OPF_IMM8 },		/* IMUL Gv,Ev,Ib */
	/* Immediate group 1; 82 (an alias of 80 invalid in 64-bit mode) is left out. */
	[0x80] = { EMUL_OP_GROUP1, 0, M | B | EMUL_OPF_IMM8 },		/* Eb,Ib */
	[0x81] = { EMUL_OP_GROUP1, 0, M | EMUL_OPF_IMMZ },		/* Ev,Iz */
	[0x83] = { EMUL_OP_GROUP1, 0, M | EMUL_OPF_IMM8 },		/* Ev,Ib */
	[0x84] = { EMUL_OP_TEST, 0, M | B },				/* TEST Eb,Gb */
	[0x85] = { EMUL_OP_TEST, 0, M },				/* TEST Ev,Gv */
	[0x86] = { EMUL_OP_XCHG, 0, M | B | LK },			/* XCHG Eb,Gb */
	[0x87] = { EMUL_OP_XCHG, 0, M | LK },				/* XCHG Ev,Gv */
	[0x88] = { EMUL_OP_MOV, 0, M | B },				/* MOV Eb,Gb */
	[0x89] = { EMUL_OP_MOV, 0, M },					/* MOV Ev,Gv */
	[0x8a] = { EMUL_OP_MOV, 0, M | B | RD },			/* MOV Gb,Eb */
	[0x8b] = { EMUL_OP_MOV, 0, M | RD },				/* MOV Gv,Ev */
	[0x8c] = { EMUL_OP_MOVSEG, 2, M | EMUL_OPF_SREG },		/* MOV Ew,Sw */
	[0x8e] = { EMUL_OP_MOVSEG, 2, M | RD | EMUL_OPF_SREG },		/* MOV Sw,Ew */
	[0x8f] = { EMUL_OP_GROUP1A, 0, M },				/* POP Ev */
	[0xa0] = { EMUL_OP_MOV, 0, EMUL_OPF_MOFFS | EMUL_OPF_ACC | B | RD },	/* MOV AL,Ob */
	[0xa1] = { EMUL_OP_MOV, 0, EMUL_OPF_MOFFS | EMUL_OPF_ACC | RD },	/* MOV rAX,Ov */
	[0xa2] = { EMUL_OP_MOV, 0, EMUL_OPF_MOFFS | EMUL_OPF_ACC | B },		/* MOV Ob,AL */
	[0xa3] = { EMUL_OP_MOV, 0, EMUL_OPF_MOFFS | EMUL_OPF_ACC },		/* MOV Ov,rAX */
	[0xa4] = { EMUL_OP_MOVS, 0, EMUL_OPF_STRING | B },		/* MOVS Yb,Xb */
	[0xa5] = { EMUL_OP_MOVS, 0, EMUL_OPF_STRING },			/* MOVS Yv,Xv */
	[0xa6] = { EMUL_OP_CMPS, 0, EMUL_OPF_STRING | B },		/* CMPS Xb,Yb */
	[0xa7] = { EMUL_OP_CMPS, 0, EMUL_OPF_STRING },			/* CMPS Xv,Yv */
	[0xaa] = { EMUL_OP_STOS, 0, EMUL_OPF_STRING | EMUL_OPF_ACC | B },	/* STOS Yb,AL */
	[0xab] = { EMUL_OP_STOS, 0, EMUL_OPF_STRING | EMUL_OPF_ACC },		/* STOS Yv,rAX */
	[0xac] = { EMUL_OP_LODS, 0, EMUL_OPF_STRING | EMUL_OPF_ACC | B | RD },	/* LODS AL,Xb */
	[0xad] = { EMUL_OP_LODS, 0, EMUL_OPF_STRING | EMUL_OPF_ACC | RD },	/* LODS rAX,Xv */
	[0xae] = { EMUL_OP_SCAS, 0, EMUL_OPF_STRING | EMUL_OPF_ACC | B },	/* SCAS AL,Yb */
	[0xaf] = { EMUL_OP_SCAS, 0, EMUL_OPF_STRING | EMUL_OPF_ACC },		/* SCAS rAX,Yv */
	[0xc2] = { EMUL_OP_RET, 0, STK | F64 | EMUL_OPF_IMM16 },	/* RET Iw ("f64") */
	[0xc3] = { EMUL_OP_RET, 0, STK | F64 },				/* RET */
	[0xc6] = { EMUL_OP_GROUP11, 0, M | B | EMUL_OPF_IMM8 },		/* MOV Eb,Ib */
	[0xc7] = { EMUL_OP_GROUP11, 0, M | EMUL_OPF_IMMZ },		/* MOV Ev,Iz */
	[0xc8] = { EMUL_OP_ENTER, 0, STK | D64 | EMUL_OPF_IMM16 },	/* ENTER Iw,Ib */
	[0xc9] = { EMUL_OP_LEAVE, 0, STK | D64 },			/* LEAVE */
	[0xe8] = { EMUL_OP_CALL, 0, STK | F64 | EMUL_OPF_REL },		/* CALL Jz ("f64") */
	/* Unary group 3: TEST (/0) adds its immediate when resolved. */
	[0xf6] = { EMUL_OP_GROUP3, 0, M | B },
	[0xf7] = { EMUL_OP_GROUP3, 0, M },
	[0xfe] = { EMUL_OP_GROUP4, 0, M | B },				/* INC/DEC Eb */
	[0xff] = { EMUL_OP_GROUP5, 0, M },
};

/* SDM Vol. 2D, Table A-3 "Two-byte Opcode Map" (first byte 0FH). */
const struct emul_op emul_two_byte_opcodes[256] = {
	[0x00] = { EMUL_OP_GROUP6, 0, M },
	[0x01] = { EMUL_OP_GROUP7, 0, M },
	[0x10] = { EMUL_OP_SSE, 0, M }, [0x11] = { EMUL_OP_SSE, 0, M },
	[0x28] = { EMUL_OP_SSE, 0, M }, [0x29] = { EMUL_OP_SSE, 0, M },
	[0x2b] = { EMUL_OP_SSE, 0, M },
	CC16(0x40, EMUL_OP_CMOVCC, M | RD | EMUL_OPF_COND),		/* CMOVcc Gv,Ev */
	[0x6e] = { EMUL_OP_SSE, 0, M }, [0x6f] = { EMUL_OP_SSE, 0, M },
	[0x7e] = { EMUL_OP_SSE, 0, M }, [0x7f] = { EMUL_OP_SSE, 0, M },
	CC16(0x90, EMUL_OP_SETCC, M | B | EMUL_OPF_COND),		/* SETcc Eb */
	[0xa3] = { EMUL_OP_BT, 0, M },					/* BT Ev,Gv */
	[0xa4] = { EMUL_OP_SHLD, 0, M | EMUL_OPF_IMM8 },		/* SHLD Ev,Gv,Ib */
	[0xa5] = { EMUL_OP_SHLD, 0, M | EMUL_OPF_CL },			/* SHLD Ev,Gv,CL */
	[0xab] = { EMUL_OP_BTS, 0, M | LK },				/* BTS Ev,Gv */
	[0xac] = { EMUL_OP_SHRD, 0, M | EMUL_OPF_IMM8 },		/* SHRD Ev,Gv,Ib */
	[0xad] = { EMUL_OP_SHRD, 0, M | EMUL_OPF_CL },			/* SHRD Ev,Gv,CL */
	[0xaf] = { EMUL_OP_IMUL, 0, M | RD },				/* IMUL Gv,Ev */
	[0xb0] = { EMUL_OP_CMPXCHG, 0, M | B | LK },			/* CMPXCHG Eb,Gb */
	[0xb1] = { EMUL_OP_CMPXCHG, 0, M | LK },			/* CMPXCHG Ev,Gv */
	[0xb3] = { EMUL_OP_BTR, 0, M | LK },				/* BTR Ev,Gv */
	[0xb6] = { EMUL_OP_MOVZX, 0, M | RD | EMUL_OPF_SRC8 },		/* MOVZX Gv,Eb */
	[0xb7] = { EMUL_OP_MOVZX, 0, M | RD | EMUL_OPF_SRC16 },		/* MOVZX Gv,Ew */
	[0xba] = { EMUL_OP_GROUP8, 0, M | EMUL_OPF_IMM8 },		/* BT* Ev,Ib */
	[0xbb] = { EMUL_OP_BTC, 0, M | LK },				/* BTC Ev,Gv */
	[0xbc] = { EMUL_OP_BSF, 0, M | RD },				/* BSF Gv,Ev */
	[0xbd] = { EMUL_OP_BSR, 0, M | RD },				/* BSR Gv,Ev */
	[0xbe] = { EMUL_OP_MOVSX, 0, M | RD | EMUL_OPF_SRC8 },		/* MOVSX Gv,Eb */
	[0xbf] = { EMUL_OP_MOVSX, 0, M | RD | EMUL_OPF_SRC16 },		/* MOVSX Gv,Ew */
	[0xc0] = { EMUL_OP_XADD, 0, M | B | LK },			/* XADD Eb,Gb */
	[0xc1] = { EMUL_OP_XADD, 0, M | LK },				/* XADD Ev,Gv */
	[0xc3] = { EMUL_OP_MOVNTI, 0, M },				/* MOVNTI My,Gy */
	[0xc7] = { EMUL_OP_GROUP9, 0, M },
	[0xd6] = { EMUL_OP_SSE, 0, M },
	[0xe7] = { EMUL_OP_SSE, 0, M },
};

/* SDM Vol. 2D, Table A-6: the operation ModR/M.reg selects, with the flags
 * it adds; NONE is unsupported. */
const struct emul_op emul_group_ops[EMUL_NR_OP_TYPES][8] = {
	[EMUL_OP_GROUP1]  = { { EMUL_OP_ADD, 0, LK }, { EMUL_OP_OR, 0, LK },
			      { EMUL_OP_ADC, 0, LK }, { EMUL_OP_SBB, 0, LK },
			      { EMUL_OP_AND, 0, LK }, { EMUL_OP_SUB, 0, LK },
			      { EMUL_OP_XOR, 0, LK }, { EMUL_OP_CMP, 0, 0 } },
	[EMUL_OP_GROUP1A] = { [0] = { EMUL_OP_POP, 0, D64 } },
	/* F6/F7 /1 is an undocumented alias of TEST: left out. */
	[EMUL_OP_GROUP3]  = { [0] = { EMUL_OP_TEST, 0, 0 }, [2] = { EMUL_OP_NOT, 0, LK },
			      [3] = { EMUL_OP_NEG, 0, LK }, [4] = { EMUL_OP_MUL, 0, 0 },
			      [5] = { EMUL_OP_IMUL1, 0, 0 }, [6] = { EMUL_OP_DIV, 0, 0 },
			      [7] = { EMUL_OP_IDIV, 0, 0 } },
	[EMUL_OP_GROUP4]  = { [0] = { EMUL_OP_INC, 0, LK }, [1] = { EMUL_OP_DEC, 0, LK } },
	[EMUL_OP_GROUP5]  = { [0] = { EMUL_OP_INC, 0, LK }, [1] = { EMUL_OP_DEC, 0, LK },
			      [2] = { EMUL_OP_CALL, 0, D64 | F64 },
			      [3] = { EMUL_OP_CALLF, 0, 0 },	/* CALL Mp */
			      [4] = { EMUL_OP_JMP, 0, D64 | F64 },
			      [5] = { EMUL_OP_JMPF, 0, 0 },	/* JMP Mp */
			      [6] = { EMUL_OP_PUSH, 0, D64 } },
	[EMUL_OP_GROUP6]  = { [3] = { EMUL_OP_LTR, 2, 0 } },
	[EMUL_OP_GROUP7]  = { [4] = { EMUL_OP_SMSW, 2, 0 } },
	[EMUL_OP_GROUP8]  = { [4] = { EMUL_OP_BT, 0, 0 }, [5] = { EMUL_OP_BTS, 0, LK },
			      [6] = { EMUL_OP_BTR, 0, LK }, [7] = { EMUL_OP_BTC, 0, LK } },
	/* CMPXCHG8B Mq; CMPXCHG16B Mdq with REX.W (sized by the decoder). */
	[EMUL_OP_GROUP9]  = { [1] = { EMUL_OP_CMPXCHG8B, 8, LK } },
	[EMUL_OP_GROUP11] = { [0] = { EMUL_OP_MOV, 0, 0 } },
};

#define X      EMUL_OPF_XMM
#define MM     EMUL_OPF_MMX
#define A16    EMUL_OPF_ALIGN16

/*
 * SDM Vol. 2D, Table A-3: the moves between memory and XMM/MMX registers,
 * by opcode and mandatory prefix (none, 66, F3, F2). MOVD/MOVQ 0F 6E/7E
 * become MOVQ with REX.W (decoder).
 */
struct sse_row {
	u8 opcode;
	struct emul_op by_prefix[4];
};

enum { MP_NONE, MP_66, MP_F3, MP_F2 };

static const struct sse_row sse_rows[] = {
	{ 0x10, { { EMUL_OP_MOVUPS, 16, M | X | RD }, { EMUL_OP_MOVUPD, 16, M | X | RD },
		  { EMUL_OP_MOVSS, 4, M | X | RD }, { EMUL_OP_MOVSD_SSE, 8, M | X | RD } } },
	{ 0x11, { { EMUL_OP_MOVUPS, 16, M | X }, { EMUL_OP_MOVUPD, 16, M | X },
		  { EMUL_OP_MOVSS, 4, M | X }, { EMUL_OP_MOVSD_SSE, 8, M | X } } },
	{ 0x28, { { EMUL_OP_MOVAPS, 16, M | X | RD | A16 }, { EMUL_OP_MOVAPD, 16, M | X | RD | A16 } } },
	{ 0x29, { { EMUL_OP_MOVAPS, 16, M | X | A16 }, { EMUL_OP_MOVAPD, 16, M | X | A16 } } },
	{ 0x2b, { { EMUL_OP_MOVNTPS, 16, M | X | A16 }, { EMUL_OP_MOVNTPD, 16, M | X | A16 } } },
	{ 0x6e, { { EMUL_OP_MOVD, 4, M | MM | RD }, { EMUL_OP_MOVD, 4, M | X | RD } } },
	{ 0x6f, { { EMUL_OP_MOVQ, 8, M | MM | RD }, { EMUL_OP_MOVDQA, 16, M | X | RD | A16 },
		  { EMUL_OP_MOVDQU, 16, M | X | RD } } },
	{ 0x7e, { { EMUL_OP_MOVD, 4, M | MM }, { EMUL_OP_MOVD, 4, M | X },
		  { EMUL_OP_MOVQ, 8, M | X | RD } } },
	{ 0x7f, { { EMUL_OP_MOVQ, 8, M | MM }, { EMUL_OP_MOVDQA, 16, M | X | A16 },
		  { EMUL_OP_MOVDQU, 16, M | X } } },
	{ 0xd6, { [MP_66] = { EMUL_OP_MOVQ, 8, M | X } } },
	{ 0xe7, { { EMUL_OP_MOVNTQ, 8, M | MM }, { EMUL_OP_MOVNTDQ, 16, M | X | A16 } } },
};

const struct emul_op *emul_sse_op(u8 opcode, u8 mprefix)
{
	static const struct emul_op none;
	unsigned col = mprefix == PREFIX_OPSIZE ? MP_66 : mprefix == PREFIX_REP ? MP_F3
		     : mprefix == PREFIX_REPNE ? MP_F2 : MP_NONE;

	for (size_t i = 0; i < ARRAY_SIZE(sse_rows); i++)
		if (sse_rows[i].opcode == opcode)
			return &sse_rows[i].by_prefix[col];
	return &none;
}

/* The host tests include this file with other headers after it. */
#undef M
#undef B
#undef RD
#undef LK
#undef STK
#undef D64
#undef F64
#undef X
#undef MM
#undef A16
#undef ALU_ROW
#undef REG8
#undef CC16
