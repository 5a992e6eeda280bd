/*
 * emul/fastlen.c - the fast-MMIO path's length-and-direction decode: is the
 * instruction at these bytes a plain store to its memory operand (it writes
 * memory and changes nothing else a skip would miss: no register, no flag),
 * and how long is it?
 *
 * Why: on an EPT-misconfiguration exit the CPU gives the guest-physical
 * address but not reliably the instruction's length (SDM Vol. 3C, "VM-Exit
 * Instruction Length": the field is defined only for exits caused by certain
 * instructions, and EPT misconfigurations are not among them; KVM stopped
 * trusting it when nested, ACRN found it wrong after macro-fused CMP+Jcc).
 * A doorbell hit only needs "this is a write" and "skip this many bytes", so
 * this decoder knows nothing but the prefixes, the opcodes of pure stores,
 * ModR/M, SIB, displacement and immediate (SDM Vol. 2A, "Instruction
 * Format"). Anything else answers 0, and the caller takes the full
 * decode-and-emulate path, which handles reads, read-modify-writes and every
 * other form correctly.
 *
 * Pure stores accepted (memory destination only):
 *   MOV 88 89 C6/0 C7/0 A2 A3; MOVNTI 0F C3; SETcc 0F 90-9F;
 *   MOVBE 0F 38 F1; MOVUPS/MOVUPD/MOVSS/MOVSD 0F 11; MOVAPS/MOVAPD 0F 29;
 *   MOVQ mm / MOVDQA / MOVDQU 0F 7F; MOVNTQ / MOVNTDQ 0F E7;
 *   MOVD/MOVQ from mm or xmm 0F 7E (no F3); MOVQ from xmm 66 0F D6.
 * VEX, EVEX and XOP encodings are left to the full path.
 */
#include "emul/emul.h"

/* What a byte means where a prefix or an opcode may stand (one table
 * lookup per byte on the hot path). */
enum {
	B_NONE,		/* not a store this decoder knows: full path */
	B_OSIZE,	/* 66: operand size (and the SSE "66" prefix) */
	B_ASIZE,	/* 67: address size */
	B_REP,		/* F3 */
	B_REPNE,	/* F2 */
	B_SEG,		/* 26 2E 36 3E 64 65: segment override, no effect here */
	B_LOCK,		/* F0: #UD on a plain store, the full path says so */
	B_MODRM,	/* opcode: ModR/M follows, no immediate (88 89) */
	B_MODRM_I8,	/* opcode: ModR/M.reg must be 0, imm8 (C6) */
	B_MODRM_IZ,	/* opcode: ModR/M.reg must be 0, imm16/32 (C7) */
	B_MOFFS,	/* opcode: an address-size offset (A2 A3) */
	B_ESC,		/* 0F: two-byte opcode */
};

static const u8 one_byte[256] = {
	[0x66] = B_OSIZE, [0x67] = B_ASIZE, [0xf3] = B_REP, [0xf2] = B_REPNE,
	[0x26] = B_SEG, [0x2e] = B_SEG, [0x36] = B_SEG, [0x3e] = B_SEG,
	[0x64] = B_SEG, [0x65] = B_SEG, [0xf0] = B_LOCK,
	[0x88] = B_MODRM, [0x89] = B_MODRM, [0xc6] = B_MODRM_I8,
	[0xc7] = B_MODRM_IZ, [0xa2] = B_MOFFS, [0xa3] = B_MOFFS, [0x0f] = B_ESC,
};

/* Two-byte opcodes (0F xx) that are plain stores to a ModR/M memory
 * operand, with the mandatory prefixes each allows: bit 0 none, bit 1 66,
 * bit 2 F3, bit 3 F2 (SDM Vol. 2D, Table A-3 "Two-byte Opcode Map"). */
#define P_NONE  BIT(0)
#define P_66    BIT(1)
#define P_F3    BIT(2)
#define P_F2    BIT(3)
#define SETCC   (P_NONE | P_66 | P_F3 | P_F2)	/* prefixes change nothing */
static const u8 two_byte[256] = {
	[0x11] = P_NONE | P_66 | P_F3 | P_F2,	/* MOVUPS MOVUPD MOVSS MOVSD */
	[0x29] = P_NONE | P_66,			/* MOVAPS MOVAPD */
	[0x7e] = P_NONE | P_66,			/* MOVD/MOVQ from mm, xmm */
	[0x7f] = P_NONE | P_66 | P_F3,		/* MOVQ mm, MOVDQA, MOVDQU */
	[0xc3] = P_NONE,			/* MOVNTI */
	[0xd6] = P_66,				/* MOVQ m64, xmm */
	[0xe7] = P_NONE | P_66,			/* MOVNTQ MOVNTDQ */
	[0x90] = SETCC, [0x91] = SETCC, [0x92] = SETCC, [0x93] = SETCC,
	[0x94] = SETCC, [0x95] = SETCC, [0x96] = SETCC, [0x97] = SETCC,
	[0x98] = SETCC, [0x99] = SETCC, [0x9a] = SETCC, [0x9b] = SETCC,
	[0x9c] = SETCC, [0x9d] = SETCC, [0x9e] = SETCC, [0x9f] = SETCC,
};
#define OP_3BYTE_38  0x38	/* 0F 38 F1: MOVBE m, r (no F3/F2) */
#define OP_MOVBE_ST  0xf1
#define REX_W        0x08
#define MOD_REG      3		/* ModR/M.mod 11b: a register, not memory */
#define RM_SIB       4
#define RM_DISP32    5		/* mod 00b: disp32 (RIP-relative in 64-bit mode) */
#define RM16_DISP16  6		/* 16-bit addressing, mod 00b: disp16 */
#define SIB_NO_BASE  5		/* mod 00b: no base register, disp32 */

u32 emul_store_length(const u8 *p, u32 avail, enum emul_cpu_mode mode)
{
	bool long64 = mode == EMUL_MODE_LONG64;
	bool def16 = mode == EMUL_MODE_REAL || mode == EMUL_MODE_PROT16;
	bool osize = false, asize = false;
	u32 simd = P_NONE;		/* the last of 66/F3/F2 decides, F3/F2 first */
	u32 i = 0, kind, imm = 0;
	u8 rex = 0;

	if (avail > EMUL_INSN_MAX_LEN)
		avail = EMUL_INSN_MAX_LEN;
	/* Legacy prefixes in any order (SDM Vol. 2A, "Instruction Prefixes"),
	 * then REX right before the opcode (a REX followed by anything else
	 * is ignored by the CPU: left to the full decoder). */
	for (;; i++) {
		if (i >= avail)
			return 0;
		kind = one_byte[p[i]];
		if (kind < B_OSIZE || kind > B_SEG)
			break;			/* an opcode, REX, LOCK or unknown */
		if (kind == B_OSIZE) {
			osize = true;
			if (simd == P_NONE)
				simd = P_66;
		} else if (kind == B_ASIZE) {
			asize = true;
		} else if (kind == B_REP) {
			simd = P_F3;
		} else if (kind == B_REPNE) {
			simd = P_F2;
		}
	}
	if (long64 && (p[i] & 0xf0) == 0x40) {
		rex = p[i++];
		if (i >= avail)
			return 0;
		kind = one_byte[p[i]];
	}
	if (kind < B_MODRM)
		return 0;
	bool addr16 = !long64 && def16 != asize;
	bool op16 = long64 ? osize && !(rex & REX_W) : def16 != osize;
	i++;					/* the opcode */

	switch (kind) {
	case B_MODRM:
		break;
	case B_MODRM_I8:
	case B_MODRM_IZ:
		if (i >= avail || (p[i] & 0x38))
			return 0;		/* ModR/M.reg != 0: not MOV */
		imm = kind == B_MODRM_I8 ? 1 : op16 ? 2 : 4;
		break;
	case B_MOFFS:
		i += long64 ? (asize ? 4 : 8) : addr16 ? 2 : 4;
		return i <= avail ? i : 0;
	default: {				/* B_ESC */
		if (i >= avail)
			return 0;
		u8 op2 = p[i++];
		if (op2 == OP_3BYTE_38) {
			if (i >= avail || p[i++] != OP_MOVBE_ST || simd & (P_F3 | P_F2))
				return 0;
		} else if (!(two_byte[op2] & simd)) {
			return 0;
		}
	}
	}

	/* ModR/M, SIB and displacement: SDM Vol. 2A, Tables 2-1 "16-Bit
	 * Addressing Forms", 2-2 "32-Bit Addressing Forms" and 2-3 (SIB). */
	if (i >= avail)
		return 0;
	u32 m = p[i++], mod = m >> 6, rm = m & 7;
	if (mod == MOD_REG)
		return 0;
	if (addr16) {
		i += mod == 1 ? 1 : (mod == 2 || (mod == 0 && rm == RM16_DISP16)) ? 2 : 0;
	} else {
		if (rm == RM_SIB) {
			if (i >= avail)
				return 0;
			if (mod == 0 && (p[i] & 7) == SIB_NO_BASE)
				i += 4;
			i++;
		} else if (mod == 0 && rm == RM_DISP32) {
			i += 4;
		}
		i += mod == 1 ? 1 : mod == 2 ? 4 : 0;
	}
	i += imm;
	return i <= avail ? i : 0;
}
