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

#define P_OSIZE   0x66
#define P_ASIZE   0x67
#define P_LOCK    0xf0
#define P_REPNE   0xf2
#define P_REP     0xf3
#define OP_2BYTE  0x0f
#define OP_3BYTE_38 0x38
#define REX_W     0x08
#define MODRM_MOD(b)  ((b) >> 6)
#define MODRM_REG(b)  (((b) >> 3) & 7)
#define MODRM_RM(b)   ((b) & 7)
#define MOD_REG   3		/* mod 11b: a register operand, not memory */
#define RM_SIB    4
#define RM_DISP32 5		/* mod 00b: disp32 (RIP-relative in 64-bit mode) */
#define RM16_DISP16 6		/* 16-bit addressing, mod 00b: disp16 */
#define SIB_BASE_NONE 5		/* mod 00b: no base, disp32 */

/* Immediate bytes after ModR/M (a bare-ModR/M store has none). */
#define IMM_NONE  0
#define IMM_8     1
#define IMM_Z     2		/* 2 with operand-size 16, else 4 */

/* Length of the ModR/M + SIB + displacement sequence at p[0], or 0 when it
 * names a register or runs past avail. addr16: 16-bit addressing. */
static u32 modrm_length(const u8 *p, u32 avail, bool addr16)
{
	if (avail < 1)
		return 0;
	u8 m = p[0];
	u32 mod = MODRM_MOD(m), rm = MODRM_RM(m), n = 1;

	if (mod == MOD_REG)
		return 0;
	if (addr16) {
		/* SDM Vol. 2A, Table 2-1 "16-Bit Addressing Forms". */
		n += mod == 1 ? 1 : (mod == 2 || rm == RM16_DISP16) ? 2 : 0;
	} else {
		/* Table 2-2 "32-Bit Addressing Forms" and 2-3 (SIB). */
		if (rm == RM_SIB) {
			if (avail < 2)
				return 0;
			n++;
			if (mod == 0 && MODRM_RM(p[1]) == SIB_BASE_NONE)
				n += 4;
		} else if (mod == 0 && rm == RM_DISP32) {
			n += 4;
		}
		n += mod == 1 ? 1 : mod == 2 ? 4 : 0;
	}
	return n <= avail ? n : 0;
}

u32 emul_store_length(const u8 *p, u32 avail, enum emul_cpu_mode mode)
{
	bool osize = false, asize = false, rep = false, repne = false;
	bool long64 = mode == EMUL_MODE_LONG64;
	bool def16 = mode == EMUL_MODE_REAL || mode == EMUL_MODE_PROT16;
	u8 rex = 0;
	u32 i = 0, imm = IMM_NONE;

	if (avail > EMUL_INSN_MAX_LEN)
		avail = EMUL_INSN_MAX_LEN;
	/* Legacy prefixes, in any order (SDM Vol. 2A, "Instruction Prefixes"). */
	for (; i < avail; i++) {
		u8 b = p[i];
		if (b == P_OSIZE)
			osize = true;
		else if (b == P_ASIZE)
			asize = true;
		else if (b == P_REP)
			rep = true, repne = false;
		else if (b == P_REPNE)
			repne = true, rep = false;
		else if (b == P_LOCK)
			return 0;	/* #UD on a plain store: the full path says so */
		else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
			 b == 0x64 || b == 0x65)
			continue;	/* segment overrides */
		else
			break;
	}
	/* REX only right before the opcode (one that precedes a legacy
	 * prefix is ignored by the CPU: left to the full decoder). */
	if (long64 && i < avail && (p[i] & 0xf0) == 0x40)
		rex = p[i++];
	if (i >= avail)
		return 0;

	bool addr16 = long64 ? false : def16 != asize;
	bool op16 = long64 ? (osize && !(rex & REX_W)) : def16 != osize;
	bool simd_prefix = osize || rep || repne;
	u8 op = p[i++];

	switch (op) {
	case 0x88: case 0x89:
		break;
	case 0xc6: case 0xc7:
		if (i >= avail || MODRM_REG(p[i]) != 0)
			return 0;
		imm = op == 0xc6 ? IMM_8 : IMM_Z;
		break;
	case 0xa2: case 0xa3: {
		/* moffs: an address-size offset, no ModR/M. */
		u32 off = long64 ? (asize ? 4 : 8) : addr16 ? 2 : 4;
		i += off;
		return i <= avail ? i : 0;
	}
	case OP_2BYTE: {
		if (i >= avail)
			return 0;
		u8 op2 = p[i++];
		if (op2 >= 0x90 && op2 <= 0x9f)		/* SETcc m8 (any ModR/M.reg) */
			goto modrm;
		switch (op2) {
		case 0xc3:					/* MOVNTI */
			if (simd_prefix)
				return 0;
			break;
		case 0x11:	/* MOVUPS, 66 MOVUPD, F3 MOVSS, F2 MOVSD */
		case 0x29:	/* MOVAPS, 66 MOVAPD */
			if (op2 == 0x29 && (rep || repne))
				return 0;
			break;
		case 0x7f:	/* MOVQ mm, 66 MOVDQA, F3 MOVDQU */
			if (repne)
				return 0;
			break;
		case 0xe7:	/* MOVNTQ, 66 MOVNTDQ */
		case 0x7e:	/* MOVD/MOVQ r/m from mm, 66: from xmm (F3: a load) */
			if (rep || repne)
				return 0;
			break;
		case 0xd6:	/* 66 MOVQ m64 from xmm */
			if (!osize || rep || repne)
				return 0;
			break;
		case OP_3BYTE_38:				/* MOVBE m, r */
			if (i >= avail || p[i++] != 0xf1 || rep || repne)
				return 0;
			break;
		default:
			return 0;
		}
		break;
	}
	default:
		return 0;
	}
modrm:;
	u32 m = modrm_length(p + i, avail - i, addr16);
	if (!m)
		return 0;
	i += m;
	if (imm == IMM_8)
		i += 1;
	else if (imm == IMM_Z)
		i += op16 ? 2 : 4;
	return i <= avail ? i : 0;
}
