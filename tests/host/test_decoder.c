/*
 * Host tests for emul/decode.c: the x86 decoder checked against an
 * independent one, Zydis (Debian's libzydis-dev, 4.x API).
 *
 * - A table of hand-written encodings in all four modes: every supported
 *   opcode and prefix, ModR/M, SIB, displacement, RIP-relative and 16-bit
 *   forms, REX.R/X/B. Each must decode, render as the hand-written text, and
 *   agree with Zydis on length, sizes and operands.
 * - Rejections: exact error codes and messages.
 * - Seeded random 15-byte buffers: whenever the decoder accepts, Zydis must
 *   agree; whenever Zydis decodes a supported memory instruction, the decoder
 *   must accept it (bar listed exceptions); truncated input gives -E2BIG.
 * - Seeded random instructions from the supported set, built by an encoder
 *   here: each must decode to the encoded length and agree with Zydis.
 * Vector, segment-register and stack operands are compared by kind and
 * number; Zydis's operand width is not compared where it is not the access
 * size (vector moves, MOVNTI, CMPXCHG8B).
 *
 * The seed is 0xdec0de unless TEST_SEED is set in the environment; it is
 * printed either way.
 */
#include "lib/fmt.c"
#include "emul/decode.c"
#include "emul/optab.c"
#include "emul/describe.c"
#include "tests/host/test.h"

#include <Zydis/Zydis.h>

static const char *const mode_names[EMUL_NR_MODES] = { "real", "prot16", "prot32", "long64" };
static ZydisDecoder zdec[EMUL_NR_MODES];

static void zydis_init(void)
{
	ZydisDecoderInit(&zdec[EMUL_MODE_REAL], ZYDIS_MACHINE_MODE_REAL_16, ZYDIS_STACK_WIDTH_16);
	ZydisDecoderInit(&zdec[EMUL_MODE_PROT16], ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
	ZydisDecoderInit(&zdec[EMUL_MODE_PROT32], ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
	ZydisDecoderInit(&zdec[EMUL_MODE_LONG64], ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
}

/* A Zydis register as (number, high8, size in bytes); RIP/EIP/IP map to
 * EMUL_REG_RIP, NONE to EMUL_REG_NONE. Returns false for non-GPRs. */
static bool zreg(ZydisRegister r, u8 *num, bool *high8, u8 *size)
{
	*high8 = false;
	*size = 0;
	if (r == ZYDIS_REGISTER_NONE) {
		*num = EMUL_REG_NONE;
		return true;
	}
	if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_BL) {
		*num = (u8)(r - ZYDIS_REGISTER_AL), *size = 1;
	} else if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) {
		*num = (u8)(r - ZYDIS_REGISTER_AH), *size = 1, *high8 = true;
	} else if (r >= ZYDIS_REGISTER_SPL && r <= ZYDIS_REGISTER_DIL) {
		*num = (u8)(r - ZYDIS_REGISTER_SPL + 4), *size = 1;
	} else if (r >= ZYDIS_REGISTER_R8B && r <= ZYDIS_REGISTER_R15B) {
		*num = (u8)(r - ZYDIS_REGISTER_R8B + 8), *size = 1;
	} else if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_R15W) {
		*num = (u8)(r - ZYDIS_REGISTER_AX), *size = 2;
	} else if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_R15D) {
		*num = (u8)(r - ZYDIS_REGISTER_EAX), *size = 4;
	} else if (r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15) {
		*num = (u8)(r - ZYDIS_REGISTER_RAX), *size = 8;
	} else if (r == ZYDIS_REGISTER_IP || r == ZYDIS_REGISTER_EIP || r == ZYDIS_REGISTER_RIP) {
		*num = EMUL_REG_RIP;
		*size = r == ZYDIS_REGISTER_IP ? 2 : r == ZYDIS_REGISTER_EIP ? 4 : 8;
	} else {
		return false;
	}
	return true;
}

static int zseg(ZydisRegister r)
{
	switch (r) {
	case ZYDIS_REGISTER_ES: return EMUL_SEG_ES;
	case ZYDIS_REGISTER_CS: return EMUL_SEG_CS;
	case ZYDIS_REGISTER_SS: return EMUL_SEG_SS;
	case ZYDIS_REGISTER_DS: return EMUL_SEG_DS;
	case ZYDIS_REGISTER_FS: return EMUL_SEG_FS;
	case ZYDIS_REGISTER_GS: return EMUL_SEG_GS;
	default: return -1;
	}
}

/* The Zydis mnemonic string the decoder's reading should have. */
static const char *expected_mnemonic(const struct emul_insn *in, char *buf, size_t n)
{
	static const char suffix[4] = { 'b', 'w', 'd', 'q' };
	const char *mn = emul_mnemonics[in->type];

	if (in->flags & EMUL_OPF_STRING)
		snprintf(buf, n, "%s%c", mn, suffix[emul_size_index(in->op_size) % 4]);
	else if (in->flags & EMUL_OPF_COND)
		snprintf(buf, n, "%s%s", mn, cc_names[in->opcode & 0xf]);
	else if (in->flags & EMUL_OPF_SRC32)
		snprintf(buf, n, "movsxd");
	else if (in->type == EMUL_OP_CMPXCHG8B && in->mem_size == 16)
		snprintf(buf, n, "cmpxchg16b");
	else
		snprintf(buf, n, "%s", mn ? mn : "?");
	return buf;
}

/* Zydis's XMM, MM and segment registers as our numbers, by the kind the
 * instruction's flags name; false when r is not of that kind. */
static bool zvreg(ZydisRegister r, u32 flags, u8 *num)
{
	if (flags & EMUL_OPF_XMM) {
		if (r < ZYDIS_REGISTER_XMM0 || r > ZYDIS_REGISTER_XMM15)
			return false;
		*num = (u8)(r - ZYDIS_REGISTER_XMM0);
	} else if (flags & EMUL_OPF_MMX) {
		if (r < ZYDIS_REGISTER_MM0 || r > ZYDIS_REGISTER_MM7)
			return false;
		*num = (u8)(r - ZYDIS_REGISTER_MM0);
	} else if (flags & EMUL_OPF_SREG) {
		int s = zseg(r);
		if (s < 0)
			return false;
		*num = (u8)s;
	} else {
		return false;
	}
	return true;
}

/* Zydis's operand width is not the memory access's for these: vector moves
 * (the GPR operand size), MOVNTI and CMPXCHG8B in 16-bit modes. */
static bool opw_checked(const struct emul_insn *in)
{
	return !(in->flags & (EMUL_OPF_XMM | EMUL_OPF_MMX)) && in->type != EMUL_OP_MOVNTI &&
	       in->type != EMUL_OP_CMPXCHG8B;
}

static char mismatch[256];
static long zydis_r13d_quirk;	/* times the issue-592 workaround applied */

#define MISMATCH(...) do { snprintf(mismatch, sizeof(mismatch), __VA_ARGS__); return mismatch; } while (0)

/*
 * Compares an instruction the decoder accepted with Zydis's reading of the
 * same bytes. Returns NULL when they agree, else what differs.
 */
static const char *zydis_mismatch(const u8 *bytes, size_t n, const struct emul_insn *in)
{
	ZydisDecodedInstruction z;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	const ZydisDecodedOperand *mem = NULL, *reg = NULL, *imm = NULL;
	u64 amask = emul_size_mask(in->addr_size);
	const bool stack = in->flags & EMUL_OPF_STACK;
	const bool cmp_string = in->type == EMUL_OP_CMPS || in->type == EMUL_OP_SCAS;
	const bool vreg = in->flags & (EMUL_OPF_XMM | EMUL_OPF_MMX | EMUL_OPF_SREG);
	char name[32];
	u8 num, size;
	bool high8, quirk = false;

	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&zdec[in->mode], bytes, n, &z, ops)))
		MISMATCH("zydis rejects it");
	if (z.length != in->len)
		MISMATCH("length %u, zydis %u", in->len, z.length);
	if (strcmp(ZydisMnemonicGetString(z.mnemonic), expected_mnemonic(in, name, sizeof(name))))
		MISMATCH("mnemonic %s: zydis %s", name, ZydisMnemonicGetString(z.mnemonic));
	if (opw_checked(in) && z.operand_width != 8 * in->op_size)
		MISMATCH("operand size %u, zydis %u bits", in->op_size, z.operand_width);
	/* A stack instruction's address size is the stack's, a run-time
	 * matter (SS.B); Zydis assumes one. */
	if (!stack && z.address_width != 8 * in->addr_size)
		MISMATCH("address size %u, zydis %u bits", in->addr_size, z.address_width);
	if (!!(z.attributes & ZYDIS_ATTRIB_HAS_LOCK) != in->lock)
		MISMATCH("lock %d, zydis disagrees", in->lock);
	if ((in->flags & EMUL_OPF_STRING) && !cmp_string &&
	    !!(z.attributes & ZYDIS_ATTRIB_HAS_REP) != in->rep)
		MISMATCH("rep %d, zydis disagrees", in->rep);
	if (cmp_string && (!!(z.attributes & ZYDIS_ATTRIB_HAS_REPE) != in->rep ||
			   !!(z.attributes & ZYDIS_ATTRIB_HAS_REPNE) != in->repne))
		MISMATCH("repe %d repne %d, zydis disagrees", in->rep, in->repne);

	for (unsigned i = 0; i < z.operand_count; i++) {
		const ZydisDecodedOperand *o = &ops[i];
		bool visible = o->visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT ||
			       o->visibility == ZYDIS_OPERAND_VISIBILITY_IMPLICIT;

		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			/* STOS's and SCAS's operand is ES:rDI; MOVS's, CMPS's
			 * and LODS's the source, seg:rSI. */
			u8 want_base = in->type == EMUL_OP_STOS || in->type == EMUL_OP_SCAS
				       ? EMUL_REG_RDI : EMUL_REG_RSI;
			if (stack) {
				if (!mem)
					mem = o;
			} else if (in->flags & EMUL_OPF_STRING) {
				if (zreg(o->mem.base, &num, &high8, &size) && num == want_base && !mem)
					mem = o;
			} else if (visible && !mem) {
				mem = o;
			}
		} else if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			if (vreg && o->visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT &&
			    zvreg(o->reg.value, in->flags, &num)) {
				if (!reg)
					reg = o;
				continue;
			}
			if (!zreg(o->reg.value, &num, &high8, &size) || num == EMUL_REG_RIP)
				continue;
			if (visible && !reg)
				reg = o;
			/* STOS/LODS name the accumulator as a hidden operand. */
			if (!visible && (in->flags & EMUL_OPF_ACC) && num == EMUL_REG_RAX && !reg)
				reg = o;
		} else if (o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE && visible) {
			if (!imm)
				imm = o;
			else if (in->type != EMUL_OP_ENTER || o->imm.value.u != in->imm2)
				MISMATCH("second immediate 0x%llx, ours 0x%x",
					 (u64)o->imm.value.u, in->imm2);
		}
	}

	if (!mem)
		MISMATCH("zydis has no memory operand");
	if (stack) {
		/* The stack slot: SS, the operand size (ENTER/LEAVE too). */
		if (zseg(mem->mem.segment) != EMUL_SEG_SS || mem->size != 8 * in->op_size)
			MISMATCH("stack operand %s/%u bits, zydis disagrees",
				 ZydisRegisterGetString(mem->mem.segment), mem->size);
		goto registers;
	}
	if (mem->size != 8 * in->mem_size)
		MISMATCH("memory size %u, zydis %u bits", in->mem_size, mem->size);
	if (zseg(mem->mem.segment) != in->mem.seg)
		MISMATCH("segment %u, zydis %s", in->mem.seg, ZydisRegisterGetString(mem->mem.segment));
	/* Zydis 4.0 reads SIB base 101b with mod 00 as R13D when REX.B and a
	 * 32-bit address size meet, and drops the disp32 it consumed
	 * (zyantific/zydis issue #592, fixed after 4.0). The SDM's disp32-only
	 * form ignores REX.B; check that reading against the raw fields. */
	if (in->mode == EMUL_MODE_LONG64 && in->addr_size == 4 && (in->rex & REX_B) &&
	    z.raw.modrm.mod == 0 && z.raw.modrm.rm == 4 && z.raw.sib.base == 5) {
		if (mem->mem.base != ZYDIS_REGISTER_R13D || in->mem.base != EMUL_REG_NONE ||
		    ((u64)z.raw.disp.value & amask) != ((u64)in->mem.disp & amask))
			MISMATCH("no-base SIB with REX.B: base %u disp 0x%llx", in->mem.base,
				 (u64)in->mem.disp);
		zydis_r13d_quirk++;
		quirk = true;
	} else if (!zreg(mem->mem.base, &num, &high8, &size) || num != in->mem.base)
		MISMATCH("base %u, zydis %s", in->mem.base, ZydisRegisterGetString(mem->mem.base));
	else if (num != EMUL_REG_NONE && size != in->addr_size)
		MISMATCH("base width, zydis %s", ZydisRegisterGetString(mem->mem.base));
	if (!zreg(mem->mem.index, &num, &high8, &size) || num != in->mem.index)
		MISMATCH("index %u, zydis %s", in->mem.index, ZydisRegisterGetString(mem->mem.index));
	if (num != EMUL_REG_NONE && size != in->addr_size)
		MISMATCH("index width, zydis %s", ZydisRegisterGetString(mem->mem.index));
	if (mem->mem.scale != in->mem.scale)
		MISMATCH("scale %u, zydis %u", in->mem.scale, mem->mem.scale);
	if (!quirk && ((u64)mem->mem.disp.value & amask) != ((u64)in->mem.disp & amask))
		MISMATCH("disp 0x%llx, zydis 0x%llx", (u64)in->mem.disp,
			 (u64)mem->mem.disp.value);

registers:
	if (!!reg != in->has_reg)
		MISMATCH("register operand %d, zydis %s", in->has_reg,
			 reg ? ZydisRegisterGetString(reg->reg.value) : "none");
	if (reg && vreg) {
		if (!zvreg(reg->reg.value, in->flags, &num) || num != in->reg)
			MISMATCH("register %u, zydis %s", in->reg,
				 ZydisRegisterGetString(reg->reg.value));
	} else if (reg) {
		zreg(reg->reg.value, &num, &high8, &size);
		if (num != in->reg || high8 != in->reg_high8 || size != in->reg_size)
			MISMATCH("register %u%s/%u, zydis %s", in->reg,
				 in->reg_high8 ? "h" : "", in->reg_size,
				 ZydisRegisterGetString(reg->reg.value));
	}
	if (!!imm != in->has_imm)
		MISMATCH("immediate %d, zydis disagrees", in->has_imm);
	if (imm) {
		u64 m = emul_size_mask(in->op_size);
		if ((imm->imm.value.u & m) != (in->imm & m))
			MISMATCH("imm 0x%llx, zydis 0x%llx", in->imm, (u64)imm->imm.value.u);
		if (z.raw.imm[0].size != 8 * in->imm_size)
			MISMATCH("imm size %u, zydis %u bits", in->imm_size, z.raw.imm[0].size);
	}
	return NULL;
}

static size_t parse_hex(const char *hex, u8 *out)
{
	size_t n = 0;
	char *end;

	while (*hex) {
		unsigned long v = strtoul(hex, &end, 16);
		if (end == hex)
			break;
		out[n++] = (u8)v;
		hex = end;
	}
	return n;
}

static void print_bytes(const u8 *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf(" %02x", b[i]);
}

/* ---- the table ---------------------------------------------------------- */

#define R   EMUL_MODE_REAL
#define P16 EMUL_MODE_PROT16
#define P32 EMUL_MODE_PROT32
#define L64 EMUL_MODE_LONG64

struct table_case {
	enum emul_cpu_mode mode;
	const char *hex;
	const char *text;	/* emul_describe(), written by hand */
};

static const struct table_case table[] = {
	/* MOV 88-8B, 64-bit: sizes, REX.W/R/B, AH vs SPL, ModR/M forms */
	{ L64, "89 08",             "mov dword [rax], ecx" },
	{ L64, "48 89 08",          "mov qword [rax], rcx" },
	{ L64, "66 89 08",          "mov word [rax], cx" },
	{ L64, "88 08",             "mov byte [rax], cl" },
	{ L64, "88 20",             "mov byte [rax], ah" },
	{ L64, "88 38",             "mov byte [rax], bh" },
	{ L64, "40 88 20",          "mov byte [rax], spl" },
	{ L64, "40 88 38",          "mov byte [rax], dil" },
	{ L64, "44 88 00",          "mov byte [rax], r8b" },
	{ L64, "44 88 38",          "mov byte [rax], r15b" },
	{ L64, "8b 48 10",          "mov ecx, dword [rax+0x10]" },
	{ L64, "8b 48 f0",          "mov ecx, dword [rax-0x10]" },
	{ L64, "8b 88 00 01 00 00", "mov ecx, dword [rax+0x100]" },
	{ L64, "8b 88 00 00 00 80", "mov ecx, dword [rax-0x80000000]" },
	{ L64, "4c 8b 00",          "mov r8, qword [rax]" },
	{ L64, "41 8b 00",          "mov eax, dword [r8]" },
	{ L64, "45 8b 3f",          "mov r15d, dword [r15]" },
	{ L64, "8a 0f",             "mov cl, byte [rdi]" },
	{ L64, "8a 2f",             "mov ch, byte [rdi]" },
	{ L64, "41 8a 2f",          "mov bpl, byte [r15]" },
	{ L64, "66 8b 0e",          "mov cx, word [rsi]" },
	/* SIB: RSP/R12 bases, RBP/R13 with disp, index, scale, REX.X */
	{ L64, "89 04 24",          "mov dword [rsp], eax" },
	{ L64, "89 44 24 08",       "mov dword [rsp+0x8], eax" },
	{ L64, "89 4c 24 f8",       "mov dword [rsp-0x8], ecx" },
	{ L64, "89 8c 24 00 10 00 00", "mov dword [rsp+0x1000], ecx" },
	{ L64, "41 89 04 24",       "mov dword [r12], eax" },
	{ L64, "41 89 44 24 08",    "mov dword [r12+0x8], eax" },
	{ L64, "89 45 00",          "mov dword [rbp], eax" },
	{ L64, "41 89 45 00",       "mov dword [r13], eax" },
	{ L64, "89 85 00 01 00 00", "mov dword [rbp+0x100], eax" },
	{ L64, "89 04 88",          "mov dword [rax+rcx*4], eax" },
	{ L64, "89 04 48",          "mov dword [rax+rcx*2], eax" },
	{ L64, "89 04 08",          "mov dword [rax+rcx*1], eax" },
	{ L64, "42 89 04 88",       "mov dword [rax+r9*4], eax" },
	{ L64, "43 89 04 c8",       "mov dword [r8+r9*8], eax" },
	{ L64, "4a 89 04 20",       "mov qword [rax+r12*1], rax" },
	{ L64, "89 44 25 08",       "mov dword [rbp+0x8], eax" },
	{ L64, "89 44 2d 08",       "mov dword [rbp+rbp*1+0x8], eax" },
	{ L64, "43 89 44 2d 08",    "mov dword [r13+r13*1+0x8], eax" },
	{ L64, "89 0c 8d 00 00 00 00", "mov dword [rcx*4], ecx" },
	{ L64, "89 0c 8d 10 00 00 00", "mov dword [rcx*4+0x10], ecx" },
	{ L64, "41 89 0c 25 10 00 00 00", "mov dword [0x10], ecx" },
	{ L64, "89 04 25 00 00 e0 fe", "mov dword [0xfffffffffee00000], eax" },
	{ L64, "89 04 25 20 00 00 00", "mov dword [0x20], eax" },
	/* RIP-relative, and EIP-relative with 67 */
	{ L64, "89 05 10 00 00 00", "mov dword [rip+0x10], eax" },
	{ L64, "8b 05 f0 ff ff ff", "mov eax, dword [rip-0x10]" },
	{ L64, "41 8b 05 00 01 00 00", "mov eax, dword [rip+0x100]" },
	{ L64, "67 89 05 10 00 00 00", "mov dword [eip+0x10], eax" },
	{ L64, "67 89 08",          "mov dword [eax], ecx" },
	{ L64, "67 89 04 88",       "mov dword [eax+ecx*4], eax" },
	{ L64, "67 41 89 00",       "mov dword [r8d], eax" },
	/* MOV C6/C7 */
	{ L64, "c6 00 05",          "mov byte [rax], 0x5" },
	{ L64, "c7 00 78 56 34 12", "mov dword [rax], 0x12345678" },
	{ L64, "48 c7 00 ff ff ff ff", "mov qword [rax], 0xffffffffffffffff" },
	{ L64, "48 c7 00 00 00 00 80", "mov qword [rax], 0xffffffff80000000" },
	{ L64, "66 c7 00 34 12",    "mov word [rax], 0x1234" },
	{ L64, "c7 80 f0 00 00 00 01 00 00 00", "mov dword [rax+0xf0], 0x1" },
	{ L64, "c7 05 00 01 00 00 2a 00 00 00", "mov dword [rip+0x100], 0x2a" },
	{ L64, "41 c6 44 24 03 ff", "mov byte [r12+0x3], 0xff" },
	/* MOV moffs A0-A3 */
	{ L64, "a1 00 00 e0 fe 00 00 00 00", "mov eax, dword [0xfee00000]" },
	{ L64, "48 a1 08 00 00 ff 00 00 00 00", "mov rax, qword [0xff000008]" },
	{ L64, "a0 00 00 00 ff 00 00 00 00", "mov al, byte [0xff000000]" },
	{ L64, "a2 01 00 00 ff 00 00 00 00", "mov byte [0xff000001], al" },
	{ L64, "66 a3 02 00 00 ff 00 00 00 00", "mov word [0xff000002], ax" },
	{ L64, "67 a1 00 00 e0 fe", "mov eax, dword [0xfee00000]" },
	{ L64, "65 a1 10 00 00 00 00 00 00 00", "mov eax, dword [gs:0x10]" },
	/* segment overrides in 64-bit mode: only FS and GS count */
	{ L64, "64 8b 04 25 28 00 00 00", "mov eax, dword [fs:0x28]" },
	{ L64, "65 48 8b 04 25 00 00 00 00", "mov rax, qword [gs:0x0]" },
	{ L64, "26 89 08",          "mov dword [rax], ecx" },
	{ L64, "2e 89 08",          "mov dword [rax], ecx" },
	{ L64, "36 89 08",          "mov dword [rax], ecx" },
	{ L64, "3e 89 04 24",       "mov dword [rsp], eax" },
	{ L64, "64 26 89 08",       "mov dword [fs:rax], ecx" },
	{ L64, "26 65 89 08",       "mov dword [gs:rax], ecx" },
	/* REX placement: ignored unless last before the opcode */
	{ L64, "48 66 89 08",       "mov word [rax], cx" },
	{ L64, "66 48 89 08",       "mov qword [rax], rcx" },
	{ L64, "48 41 89 08",       "mov dword [r8], ecx" },
	{ L64, "41 66 89 08",       "mov word [rax], cx" },
	{ L64, "40 40 89 08",       "mov dword [rax], ecx" },
	{ L64, "f3 89 08",          "mov dword [rax], ecx" },
	{ L64, "f2 88 08",          "mov byte [rax], cl" },
	/* MOVZX, MOVSX, MOVSXD */
	{ L64, "0f b6 08",          "movzx ecx, byte [rax]" },
	{ L64, "48 0f b6 08",       "movzx rcx, byte [rax]" },
	{ L64, "66 0f b6 08",       "movzx cx, byte [rax]" },
	{ L64, "0f b7 08",          "movzx ecx, word [rax]" },
	{ L64, "4c 0f b7 40 02",    "movzx r8, word [rax+0x2]" },
	{ L64, "0f be 08",          "movsx ecx, byte [rax]" },
	{ L64, "66 0f be 08",       "movsx cx, byte [rax]" },
	{ L64, "0f bf 08",          "movsx ecx, word [rax]" },
	{ L64, "48 0f bf 08",       "movsx rcx, word [rax]" },
	{ L64, "48 63 08",          "movsxd rcx, dword [rax]" },
	{ L64, "4d 63 48 04",       "movsxd r9, dword [r8+0x4]" },
	/* two-operand arithmetic 00-3B */
	{ L64, "00 08",             "add byte [rax], cl" },
	{ L64, "01 08",             "add dword [rax], ecx" },
	{ L64, "02 08",             "add cl, byte [rax]" },
	{ L64, "03 08",             "add ecx, dword [rax]" },
	{ L64, "08 08",             "or byte [rax], cl" },
	{ L64, "09 08",             "or dword [rax], ecx" },
	{ L64, "0a 28",             "or ch, byte [rax]" },
	{ L64, "48 0b 08",          "or rcx, qword [rax]" },
	{ L64, "10 08",             "adc byte [rax], cl" },
	{ L64, "11 08",             "adc dword [rax], ecx" },
	{ L64, "12 08",             "adc cl, byte [rax]" },
	{ L64, "13 08",             "adc ecx, dword [rax]" },
	{ L64, "18 08",             "sbb byte [rax], cl" },
	{ L64, "19 08",             "sbb dword [rax], ecx" },
	{ L64, "1a 08",             "sbb cl, byte [rax]" },
	{ L64, "1b 08",             "sbb ecx, dword [rax]" },
	{ L64, "20 08",             "and byte [rax], cl" },
	{ L64, "21 08",             "and dword [rax], ecx" },
	{ L64, "22 08",             "and cl, byte [rax]" },
	{ L64, "23 81 f0 00 00 00", "and eax, dword [rcx+0xf0]" },
	{ L64, "28 08",             "sub byte [rax], cl" },
	{ L64, "29 08",             "sub dword [rax], ecx" },
	{ L64, "2a 08",             "sub cl, byte [rax]" },
	{ L64, "66 2b 08",          "sub cx, word [rax]" },
	{ L64, "30 08",             "xor byte [rax], cl" },
	{ L64, "31 08",             "xor dword [rax], ecx" },
	{ L64, "32 08",             "xor cl, byte [rax]" },
	{ L64, "4c 33 08",          "xor r9, qword [rax]" },
	{ L64, "38 08",             "cmp byte [rax], cl" },
	{ L64, "39 08",             "cmp dword [rax], ecx" },
	{ L64, "3a 08",             "cmp cl, byte [rax]" },
	{ L64, "3b 08",             "cmp ecx, dword [rax]" },
	/* group 1: 80 81 83 */
	{ L64, "80 00 01",          "add byte [rax], 0x1" },
	{ L64, "80 08 01",          "or byte [rax], 0x1" },
	{ L64, "80 10 01",          "adc byte [rax], 0x1" },
	{ L64, "80 18 01",          "sbb byte [rax], 0x1" },
	{ L64, "80 20 01",          "and byte [rax], 0x1" },
	{ L64, "80 28 01",          "sub byte [rax], 0x1" },
	{ L64, "80 30 01",          "xor byte [rax], 0x1" },
	{ L64, "80 38 80",          "cmp byte [rax], 0x80" },
	{ L64, "81 20 ff 00 00 00", "and dword [rax], 0xff" },
	{ L64, "66 81 00 34 12",    "add word [rax], 0x1234" },
	{ L64, "48 81 38 00 00 00 80", "cmp qword [rax], 0xffffffff80000000" },
	{ L64, "83 20 f0",          "and dword [rax], 0xfffffff0" },
	{ L64, "48 83 20 f0",       "and qword [rax], 0xfffffffffffffff0" },
	{ L64, "66 83 08 01",       "or word [rax], 0x1" },
	{ L64, "83 3d 10 00 00 00 00", "cmp dword [rip+0x10], 0x0" },
	/* TEST, XCHG, BT */
	{ L64, "84 08",             "test byte [rax], cl" },
	{ L64, "85 08",             "test dword [rax], ecx" },
	{ L64, "f6 00 01",          "test byte [rax], 0x1" },
	{ L64, "f6 40 01 80",       "test byte [rax+0x1], 0x80" },
	{ L64, "f7 00 00 00 00 80", "test dword [rax], 0x80000000" },
	{ L64, "66 f7 00 00 80",    "test word [rax], 0x8000" },
	{ L64, "48 f7 00 ff ff ff ff", "test qword [rax], 0xffffffffffffffff" },
	{ L64, "86 08",             "xchg byte [rax], cl" },
	{ L64, "87 08",             "xchg dword [rax], ecx" },
	{ L64, "48 87 08",          "xchg qword [rax], rcx" },
	{ L64, "0f a3 08",          "bt dword [rax], ecx" },
	{ L64, "48 0f a3 08",       "bt qword [rax], rcx" },
	{ L64, "0f ba 20 05",       "bt dword [rax], 0x5" },
	{ L64, "66 0f ba 20 0f",    "bt word [rax], 0xf" },
	{ L64, "48 0f ba 60 08 3f", "bt qword [rax+0x8], 0x3f" },
	/* LOCK */
	{ L64, "f0 01 08",          "lock add dword [rax], ecx" },
	{ L64, "f0 83 00 01",       "lock add dword [rax], 0x1" },
	{ L64, "f0 80 30 01",       "lock xor byte [rax], 0x1" },
	{ L64, "f0 86 08",          "lock xchg byte [rax], cl" },
	{ L64, "f0 48 29 08",       "lock sub qword [rax], rcx" },
	/* string instructions */
	{ L64, "a4",                "movsb" },
	{ L64, "a5",                "movsd" },
	{ L64, "48 a5",             "movsq" },
	{ L64, "66 a5",             "movsw" },
	{ L64, "f3 a4",             "rep movsb" },
	{ L64, "f3 48 a5",          "rep movsq" },
	{ L64, "64 a4",             "fs movsb" },
	{ L64, "67 f3 a4",          "rep movsb" },
	{ L64, "aa",                "stosb" },
	{ L64, "ab",                "stosd" },
	{ L64, "f3 ab",             "rep stosd" },
	{ L64, "f3 48 ab",          "rep stosq" },
	{ L64, "66 f3 ab",          "rep stosw" },
	{ L64, "64 ab",             "stosd" },
	{ L64, "ac",                "lodsb" },
	{ L64, "48 ad",             "lodsq" },
	{ L64, "65 ad",             "gs lodsd" },
	/* PUSH/POP memory */
	{ L64, "ff 30",             "push qword [rax]" },
	{ L64, "48 ff 30",          "push qword [rax]" },
	{ L64, "66 ff 30",          "push word [rax]" },
	{ L64, "ff 34 24",          "push qword [rsp]" },
	{ L64, "41 ff 30",          "push qword [r8]" },
	{ L64, "8f 00",             "pop qword [rax]" },
	{ L64, "66 8f 00",          "pop word [rax]" },

	/* 32-bit protected mode */
	{ P32, "89 08",             "mov dword [eax], ecx" },
	{ P32, "66 89 08",          "mov word [eax], cx" },
	{ P32, "88 25 00 00 00 ff", "mov byte [0xff000000], ah" },
	{ P32, "89 05 00 00 e0 fe", "mov dword [0xfee00000], eax" },
	{ P32, "a1 20 00 e0 fe",    "mov eax, dword [0xfee00020]" },
	{ P32, "a2 00 00 00 ff",    "mov byte [0xff000000], al" },
	{ P32, "66 a1 00 00 00 ff", "mov ax, word [0xff000000]" },
	{ P32, "67 a1 00 10",       "mov eax, dword [0x1000]" },
	{ P32, "67 89 00",          "mov dword [bx+si], eax" },
	{ P32, "8b 44 24 04",       "mov eax, dword [esp+0x4]" },
	{ P32, "8b 45 08",          "mov eax, dword [ebp+0x8]" },
	{ P32, "8b 04 8d 00 00 e0 fe", "mov eax, dword [ecx*4-0x1200000]" },
	{ P32, "26 89 08",          "mov dword [es:eax], ecx" },
	{ P32, "2e 89 08",          "mov dword [cs:eax], ecx" },
	{ P32, "36 89 08",          "mov dword [ss:eax], ecx" },
	{ P32, "3e 89 04 24",       "mov dword [ds:esp], eax" },
	{ P32, "64 89 08",          "mov dword [fs:eax], ecx" },
	{ P32, "65 26 89 08",       "mov dword [es:eax], ecx" },
	{ P32, "0f b6 05 00 00 e0 fe", "movzx eax, byte [0xfee00000]" },
	{ P32, "0f bf 01",          "movsx eax, word [ecx]" },
	{ P32, "c7 05 00 03 e0 fe 00 00 00 00", "mov dword [0xfee00300], 0x0" },
	{ P32, "81 0d 00 00 e0 fe 00 01 00 00", "or dword [0xfee00000], 0x100" },
	{ P32, "83 3d f0 00 e0 fe 00", "cmp dword [0xfee000f0], 0x0" },
	{ P32, "f0 09 08",          "lock or dword [eax], ecx" },
	{ P32, "85 08",             "test dword [eax], ecx" },
	{ P32, "87 08",             "xchg dword [eax], ecx" },
	{ P32, "0f ba 20 1f",       "bt dword [eax], 0x1f" },
	{ P32, "f3 a5",             "rep movsd" },
	{ P32, "f3 ab",             "rep stosd" },
	{ P32, "66 a5",             "movsw" },
	{ P32, "67 f3 aa",          "rep stosb" },
	{ P32, "ff 30",             "push dword [eax]" },
	{ P32, "66 ff 30",          "push word [eax]" },
	{ P32, "8f 00",             "pop dword [eax]" },

	/* 16-bit: Table 2-1 forms, in real and protected mode */
	{ R,   "89 00",             "mov word [bx+si], ax" },
	{ R,   "89 01",             "mov word [bx+di], ax" },
	{ R,   "89 02",             "mov word [bp+si], ax" },
	{ R,   "89 03",             "mov word [bp+di], ax" },
	{ R,   "89 04",             "mov word [si], ax" },
	{ R,   "89 05",             "mov word [di], ax" },
	{ R,   "89 06 34 12",       "mov word [0x1234], ax" },
	{ R,   "89 07",             "mov word [bx], ax" },
	{ R,   "89 46 02",          "mov word [bp+0x2], ax" },
	{ R,   "89 40 80",          "mov word [bx+si-0x80], ax" },
	{ R,   "89 80 00 80",       "mov word [bx+si-0x8000], ax" },
	{ R,   "89 87 00 10",       "mov word [bx+0x1000], ax" },
	{ R,   "8b 4e fe",          "mov cx, word [bp-0x2]" },
	{ R,   "66 89 07",          "mov dword [bx], eax" },
	{ R,   "67 89 00",          "mov word [eax], ax" },
	{ R,   "67 66 89 04 24",    "mov dword [esp], eax" },
	{ R,   "a1 00 80",          "mov ax, word [0x8000]" },
	{ R,   "c6 07 01",          "mov byte [bx], 0x1" },
	{ R,   "c7 07 34 12",       "mov word [bx], 0x1234" },
	{ R,   "66 c7 07 78 56 34 12", "mov dword [bx], 0x12345678" },
	{ R,   "8a 27",             "mov ah, byte [bx]" },
	{ R,   "26 89 07",          "mov word [es:bx], ax" },
	{ R,   "36 89 07",          "mov word [ss:bx], ax" },
	{ R,   "3e 89 46 00",       "mov word [ds:bp], ax" },
	{ R,   "83 07 ff",          "add word [bx], 0xffff" },
	{ R,   "0f b6 07",          "movzx ax, byte [bx]" },
	{ R,   "0f b7 07",          "movzx ax, word [bx]" },
	{ R,   "f3 a4",             "rep movsb" },
	{ R,   "f3 ab",             "rep stosw" },
	{ R,   "66 f3 ab",          "rep stosd" },
	{ R,   "ff 37",             "push word [bx]" },
	{ R,   "8f 06 00 10",       "pop word [0x1000]" },
	{ P16, "89 00",             "mov word [bx+si], ax" },
	{ P16, "66 89 07",          "mov dword [bx], eax" },
	{ P16, "67 8b 04 88",       "mov ax, word [eax+ecx*4]" },
	{ P16, "f6 07 10",          "test byte [bx], 0x10" },
	{ P16, "26 f3 a5",          "rep es movsw" },
	/* issue 8: unary, multiply/divide, atomics, bit ops, SETcc/CMOVcc,
	 * MOVNTI/MOVBE, Sreg/SMSW/LTR, CMPS/SCAS, branches, stack, SSE/MMX */
	{ L64, "fe 00",             "inc byte [rax]" },
	{ L64, "fe 08",             "dec byte [rax]" },
	{ L64, "ff 00",             "inc dword [rax]" },
	{ L64, "48 ff 08",          "dec qword [rax]" },
	{ L64, "66 ff 00",          "inc word [rax]" },
	{ L64, "f6 10",             "not byte [rax]" },
	{ L64, "f7 18",             "neg dword [rax]" },
	{ L64, "48 f7 18",          "neg qword [rax]" },
	{ L64, "f6 20",             "mul byte [rax]" },
	{ L64, "f7 28",             "imul dword [rax]" },
	{ L64, "48 f7 30",          "div qword [rax]" },
	{ L64, "66 f7 38",          "idiv word [rax]" },
	{ L64, "f0 ff 00",          "lock inc dword [rax]" },
	{ L64, "f0 f6 18",          "lock neg byte [rax]" },
	{ L64, "0f c0 08",          "xadd byte [rax], cl" },
	{ L64, "f0 48 0f c1 08",    "lock xadd qword [rax], rcx" },
	{ L64, "0f b0 08",          "cmpxchg byte [rax], cl" },
	{ L64, "f0 0f b1 08",       "lock cmpxchg dword [rax], ecx" },
	{ L64, "0f c7 08",          "cmpxchg8b qword [rax]" },
	{ L64, "f0 48 0f c7 08",    "lock cmpxchg16b xmmword [rax]" },
	{ L64, "0f ab 08",          "bts dword [rax], ecx" },
	{ L64, "f0 48 0f b3 08",    "lock btr qword [rax], rcx" },
	{ L64, "0f bb 08",          "btc dword [rax], ecx" },
	{ L64, "0f ba 28 05",       "bts dword [rax], 0x5" },
	{ L64, "0f ba 30 3f",       "btr dword [rax], 0x3f" },
	{ L64, "f0 0f ba 38 01",    "lock btc dword [rax], 0x1" },
	{ L64, "0f bc 08",          "bsf ecx, dword [rax]" },
	{ L64, "48 0f bd 08",       "bsr rcx, qword [rax]" },
	{ L64, "0f af 08",          "imul ecx, dword [rax]" },
	{ L64, "69 08 10 00 00 00", "imul ecx, dword [rax], 0x10" },
	{ L64, "66 6b 08 ff",       "imul cx, word [rax], 0xffff" },
	{ L64, "0f a4 08 05",       "shld dword [rax], ecx, 0x5" },
	{ L64, "48 0f a5 08",       "shld qword [rax], rcx, cl" },
	{ L64, "0f ac 08 1f",       "shrd dword [rax], ecx, 0x1f" },
	{ L64, "0f ad 08",          "shrd dword [rax], ecx, cl" },
	{ L64, "0f 94 00",          "setz byte [rax]" },
	{ L64, "0f 9f 40 10",       "setnle byte [rax+0x10]" },
	{ L64, "0f 44 08",          "cmovz ecx, dword [rax]" },
	{ L64, "48 0f 4f 08",       "cmovnle rcx, qword [rax]" },
	{ L64, "0f c3 08",          "movnti dword [rax], ecx" },
	{ L64, "48 0f c3 08",       "movnti qword [rax], rcx" },
	{ L64, "0f 38 f0 08",       "movbe ecx, dword [rax]" },
	{ L64, "66 0f 38 f1 08",    "movbe word [rax], cx" },
	{ L64, "8c 18",             "mov word [rax], ds" },
	{ L64, "8e 18",             "mov ds, word [rax]" },
	{ L64, "48 8c 20",          "mov word [rax], fs" },
	{ L64, "0f 01 20",          "smsw word [rax]" },
	{ L64, "0f 00 18",          "ltr word [rax]" },
	{ L64, "a6",                "cmpsb" },
	{ L64, "f3 a6",             "repe cmpsb" },
	{ L64, "f2 48 a7",          "repne cmpsq" },
	{ L64, "ae",                "scasb" },
	{ L64, "f2 ae",             "repne scasb" },
	{ L64, "66 f3 af",          "repe scasw" },
	{ L64, "ff 20",             "jmp qword [rax]" },
	{ L64, "ff 10",             "call qword [rax]" },
	/* far JMP/CALL through a pointer: m16:32, m16:64 with REX.W, m16:16 with 66 */
	{ L64, "ff 28",             "jmp far m16:32 [rax]" },
	{ L64, "48 ff 28",          "jmp far m16:64 [rax]" },
	{ L64, "49 ff 6d 00",       "jmp far m16:64 [r13]" },
	{ L64, "66 ff 2c 24",       "jmp far m16:16 [rsp]" },
	{ L64, "ff 18",             "call far m16:32 [rax]" },
	{ L64, "48 ff 5c 24 08",    "call far m16:64 [rsp+0x8]" },
	{ L64, "50",                "push rax" },
	{ L64, "41 57",             "push r15" },
	{ L64, "66 50",             "push ax" },
	{ L64, "58",                "pop rax" },
	{ L64, "6a 01",             "push 0x1" },
	{ L64, "68 00 01 00 00",    "push 0x100" },
	{ L64, "e8 10 00 00 00",    "call rel 0x10" },
	{ L64, "c3",                "ret" },
	{ L64, "c2 08 00",          "ret 0x8" },
	{ L64, "c8 10 00 01",       "enter 0x10, 0x1" },
	{ L64, "c9",                "leave" },
	{ L64, "0f 10 00",          "movups xmm0, xmmword [rax]" },
	{ L64, "66 0f 11 08",       "movupd xmmword [rax], xmm1" },
	{ L64, "0f 28 00",          "movaps xmm0, xmmword [rax]" },
	{ L64, "66 0f 29 00",       "movapd xmmword [rax], xmm0" },
	{ L64, "f3 0f 6f 00",       "movdqu xmm0, xmmword [rax]" },
	{ L64, "66 0f 7f 00",       "movdqa xmmword [rax], xmm0" },
	{ L64, "44 0f 6f 00",       "movq mm0, qword [rax]" },
	{ L64, "0f 7f 00",          "movq qword [rax], mm0" },
	{ L64, "66 0f 6e 00",       "movd xmm0, dword [rax]" },
	{ L64, "66 48 0f 7e 00",    "movq qword [rax], xmm0" },
	{ L64, "0f 6e 00",          "movd mm0, dword [rax]" },
	{ L64, "48 0f 7e 00",       "movq qword [rax], mm0" },
	{ L64, "f3 0f 7e 00",       "movq xmm0, qword [rax]" },
	{ L64, "66 0f d6 00",       "movq qword [rax], xmm0" },
	{ L64, "66 0f e7 00",       "movntdq xmmword [rax], xmm0" },
	{ L64, "0f e7 00",          "movntq qword [rax], mm0" },
	{ L64, "66 44 0f 6f 38",    "movdqa xmm15, xmmword [rax]" },
	{ L64, "f3 0f 10 00",       "movss xmm0, dword [rax]" },
	{ L64, "f2 0f 11 08",       "movsd qword [rax], xmm1" },
	{ L64, "0f 2b 00",          "movntps xmmword [rax], xmm0" },
	{ L64, "66 0f 2b 10",       "movntpd xmmword [rax], xmm2" },
	{ L64, "f2 44 0f 10 38",    "movsd xmm15, qword [rax]" },
	{ P32, "ff 00",             "inc dword [eax]" },
	{ P32, "f7 30",             "div dword [eax]" },
	{ P32, "0f c7 0d 00 00 e0 fe",  "cmpxchg8b qword [0xfee00000]" },
	{ P32, "f3 a7",             "repe cmpsd" },
	{ P32, "f2 af",             "repne scasd" },
	{ P32, "ff 25 00 10 00 00", "jmp dword [0x1000]" },
	{ P32, "66 ff 10",          "call word [eax]" },
	{ P32, "ff 2d 00 10 00 00", "jmp far m16:32 [0x1000]" },
	{ P32, "66 ff 1b",          "call far m16:16 [ebx]" },
	{ P32, "50",                "push eax" },
	{ P32, "66 6a ff",          "push 0xffff" },
	{ P32, "e8 00 01 00 00",    "call rel 0x100" },
	{ P32, "66 e8 00 01",       "call rel 0x100" },
	{ P32, "c8 08 00 00",       "enter 0x8, 0x0" },
	{ P32, "66 c9",             "leave" },
	{ P32, "0f 28 05 00 00 00 ff",  "movaps xmm0, xmmword [0xff000000]" },
	{ P32, "8e 1d 00 00 00 ff", "mov ds, word [0xff000000]" },
	{ P32, "0f 01 25 00 00 00 ff",  "smsw word [0xff000000]" },
	{ P32, "0f 44 05 00 00 e0 fe",  "cmovz eax, dword [0xfee00000]" },
	{ R,   "ff 07",             "inc word [bx]" },
	{ R,   "f7 37",             "div word [bx]" },
	{ R,   "a7",                "cmpsw" },
	{ R,   "f3 ae",             "repe scasb" },
	{ R,   "ff 27",             "jmp word [bx]" },
	{ R,   "ff 17",             "call word [bx]" },
	{ R,   "ff 2f",             "jmp far m16:16 [bx]" },
	{ R,   "66 ff 1f",          "call far m16:32 [bx]" },
	{ R,   "53",                "push bx" },
	{ R,   "c3",                "ret" },
	{ R,   "c8 04 00 00",       "enter 0x4, 0x0" },
	{ R,   "0f 6f 07",          "movq mm0, qword [bx]" },
	{ R,   "66 0f 6f 07",       "movdqa xmm0, xmmword [bx]" },
	{ R,   "8c 07",             "mov word [bx], es" },
	{ R,   "0f 01 27",          "smsw word [bx]" },
	{ R,   "0f 38 f0 07",       "movbe ax, word [bx]" },
};

TEST(test_table)
{
	unsigned checked = 0;

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		const struct table_case *t = &table[i];
		struct emul_insn in;
		u8 b[32];
		size_t n = parse_hex(t->hex, b);
		char text[128];
		const char *why;
		int rc = emul_decode(b, n, t->mode, &in);

		checked++;
		if (rc != (int)n) {
			printf("  [%s] %s: rc %d (%s)\n", mode_names[t->mode], t->hex, rc, in.why);
			CHECK_EQ(rc, (int)n);
			continue;
		}
		emul_describe(&in, text, sizeof(text));
		if (strcmp(text, t->text)) {
			printf("  [%s] %s: \"%s\", expected \"%s\"\n", mode_names[t->mode],
			       t->hex, text, t->text);
			CHECK_STR(text, t->text);
		}
		why = zydis_mismatch(b, n, &in);
		if (why) {
			printf("  [%s] %s: %s\n", mode_names[t->mode], t->hex, why);
			CHECK(why == NULL);
		}
	}
	printf("  %u encodings checked\n", checked);
	CHECK(checked >= 150);
}

/* A few decoded fields checked by value, not only through the text. */
TEST(test_fields)
{
	struct emul_insn in;
	const u8 rip_rel[] = { 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff };
	const u8 sib[] = { 0x43, 0x89, 0x44, 0xc8, 0x7f };
	const u8 moffs[] = { 0x48, 0xa3, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
	const u8 imm[] = { 0x66, 0x83, 0x08, 0x80 };

	CHECK_EQ(emul_decode(rip_rel, sizeof(rip_rel), EMUL_MODE_LONG64, &in), 6);
	CHECK_EQ(in.mem.base, EMUL_REG_RIP);
	CHECK_EQ(in.mem.disp, -16);
	CHECK_EQ(in.mem.seg, EMUL_SEG_DS);
	CHECK_EQ(in.type, EMUL_OP_MOV);
	CHECK_EQ(in.reg, EMUL_REG_RAX);

	CHECK_EQ(emul_decode(sib, sizeof(sib), EMUL_MODE_LONG64, &in), 5);
	CHECK_EQ(in.rex, 0x43);
	CHECK_EQ(in.mem.base, EMUL_REG_R8);
	CHECK_EQ(in.mem.index, EMUL_REG_R9);
	CHECK_EQ(in.mem.scale, 8);
	CHECK_EQ(in.mem.disp, 0x7f);
	CHECK_EQ(in.reg, EMUL_REG_RAX);
	CHECK_EQ(in.op_size, 4);
	CHECK_EQ(in.addr_size, 8);

	CHECK_EQ(emul_decode(moffs, sizeof(moffs), EMUL_MODE_LONG64, &in), 10);
	CHECK_EQ((u64)in.mem.disp, 0x1122334455667788ull);
	CHECK_EQ(in.mem.base, EMUL_REG_NONE);
	CHECK_EQ(in.mem.index, EMUL_REG_NONE);
	CHECK_EQ(in.op_size, 8);
	CHECK(in.has_reg && !(in.flags & EMUL_OPF_REG_DST));

	CHECK_EQ(emul_decode(imm, sizeof(imm), EMUL_MODE_LONG64, &in), 4);
	CHECK_EQ(in.type, EMUL_OP_OR);
	CHECK_EQ(in.op_size, 2);
	CHECK_EQ(in.imm, 0xffffffffffffff80ull);
	CHECK_EQ(in.imm_size, 1);
	CHECK(!in.has_reg);
}

struct reject_case {
	enum emul_cpu_mode mode;
	const char *hex;
	int err;
	const char *why;
};

static const struct reject_case rejects[] = {
	{ L64, "0f 0b",             -EINVAL, "unsupported instruction: 0f 0b" },
	{ L64, "90",                -EINVAL, "unsupported instruction: 90" },
	{ L64, "0f 01 d9",          -EINVAL, "unsupported instruction: 0f 01 d9" },
	{ L64, "89 c8",             -EINVAL, "register operand, no memory access: 89 c8" },
	{ L64, "48 0f b6 c1",       -EINVAL, "register operand, no memory access: 48 0f b6 c1" },
	{ L64, "c6 08 05",          -EINVAL, "unsupported instruction: c6 08" },
	{ L64, "f6 08",             -EINVAL, "unsupported instruction: f6 08" },
	{ L64, "ff d8",             -EINVAL, "register operand, no memory access: ff d8" },
	{ L64, "ff e8",             -EINVAL, "register operand, no memory access: ff e8" },
	{ L64, "0f ba 20",          -E2BIG, "instruction continues past the bytes given: 0f ba 20" },
	{ L64, "0f ba 18 01",       -EINVAL, "unsupported instruction: 0f ba 18" },
	{ L64, "ff d0",             -EINVAL, "register operand, no memory access: ff d0" },
	{ L64, "0f c7 f0",          -EINVAL, "unsupported instruction: 0f c7 f0" },
	{ L64, "66 0f c3 00",       -EINVAL, "unsupported instruction: 66 0f c3" },
	{ L64, "f3 0f bc 00",       -EINVAL, "unsupported instruction: f3 0f bc" },
	{ L64, "f2 0f 38 f0 00",    -EINVAL, "unsupported instruction: f2 0f 38 f0" },
	{ L64, "f2 0f 6f 00",       -EINVAL, "unsupported instruction: f2 0f 6f" },
	{ L64, "66 f2 0f 6f 00",    -EINVAL, "unsupported instruction: 66 f2 0f 6f" },
	{ L64, "0f d6 00",          -EINVAL, "unsupported instruction: 0f d6" },
	{ L64, "f3 0f 28 00",       -EINVAL, "unsupported instruction: f3 0f 28" },
	{ L64, "f2 0f 2b 00",       -EINVAL, "unsupported instruction: f2 0f 2b" },
	{ L64, "8e 08",             -EINVAL, "bad segment register (#UD): 8e 08" },
	{ L64, "8c 38",             -EINVAL, "bad segment register (#UD): 8c 38" },
	{ L64, "f0 0f a3 08",       -EINVAL, "lock prefix not allowed (#UD): f0 0f a3 08" },
	{ L64, "f0 0f af 08",       -EINVAL, "lock prefix not allowed (#UD): f0 0f af 08" },
	{ L64, "f0 ff 20",          -EINVAL, "lock prefix not allowed (#UD): f0 ff 20" },
	{ L64, "f0 0f 6f 00",       -EINVAL, "lock prefix not allowed (#UD): f0 0f 6f 00" },
	{ L64, "0f 01 e0",          -EINVAL, "register operand, no memory access: 0f 01 e0" },
	{ L64, "82 00 01",          -EINVAL, "unsupported instruction: 82" },
	{ P32, "82 00 01",          -EINVAL, "unsupported instruction: 82" },
	{ L64, "f0 89 08",          -EINVAL, "lock prefix not allowed (#UD): f0 89 08" },
	{ L64, "f0 39 08",          -EINVAL, "lock prefix not allowed (#UD): f0 39 08" },
	{ L64, "f0 03 08",          -EINVAL, "lock prefix not allowed (#UD): f0 03 08" },
	{ L64, "f0 a4",             -EINVAL, "lock prefix not allowed (#UD): f0 a4" },
	{ L64, "f0 48 0f b6 08",    -EINVAL, "lock prefix not allowed (#UD): f0 48 0f b6 08" },
	{ L64, "f2 a4",             -EINVAL, "repne string move unsupported: f2 a4" },
	{ L64, "63 08",             -EINVAL, "movsxd without rex.w unsupported: 63 08" },
	{ P32, "63 08",             -EINVAL, "unsupported instruction: 63" },
	{ P32, "40",                -EINVAL, "unsupported instruction: 40" },
	{ P32, "48 89 08",          -EINVAL, "unsupported instruction: 48" },
	{ L64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 89 08", -EINVAL,
	  "instruction longer than 15 bytes: 66 66 66 66 66 66 66 66 66 66 66 66 66 66 89" },
	{ L64, "c7 80 f0 00 00 00 01 00 00", -E2BIG,
	  "instruction continues past the bytes given: c7 80 f0 00 00 00 01 00 00" },
	{ L64, "",                  -E2BIG, "instruction continues past the bytes given:" },
	{ L64, "66",                -E2BIG, "instruction continues past the bytes given: 66" },
	{ L64, "0f",                -E2BIG, "instruction continues past the bytes given: 0f" },
	{ L64, "89 04",             -E2BIG, "instruction continues past the bytes given: 89 04" },
	{ L64, "48 a1 00 00 00",    -E2BIG, "instruction continues past the bytes given: 48 a1 00 00 00" },
};

TEST(test_rejects)
{
	for (size_t i = 0; i < ARRAY_SIZE(rejects); i++) {
		const struct reject_case *t = &rejects[i];
		struct emul_insn in;
		u8 b[32];
		size_t n = parse_hex(t->hex, b);
		int rc = emul_decode(b, n, t->mode, &in);

		if (rc != t->err || strcmp(in.why, t->why)) {
			printf("  [%s] %s: rc %d \"%s\"\n", mode_names[t->mode], t->hex, rc, in.why);
			CHECK_EQ(rc, t->err);
			CHECK_STR(in.why, t->why);
		}
	}
	/* Mode values outside the enum. */
	{
		struct emul_insn in;
		const u8 b[] = { 0x89, 0x08 };
		CHECK_EQ(emul_decode(b, sizeof(b), EMUL_NR_MODES, &in), -EINVAL);
	}
}

/* Every prefix of the bytes of an accepted instruction must be -E2BIG, the
 * whole must decode the same. */
static bool check_truncations(const u8 *b, enum emul_cpu_mode mode, const struct emul_insn *full)
{
	struct emul_insn in;

	for (size_t n = 0; n < full->len; n++)
		if (emul_decode(b, n, mode, &in) != -E2BIG)
			return false;
	return emul_decode(b, full->len, mode, &in) == full->len &&
	       in.mem.disp == full->mem.disp && in.imm == full->imm;
}

/*
 * Zydis's reading names one of our instructions with a memory operand (or
 * a stack operand) and registers of the kinds we handle; the cases we
 * decline on purpose (82, the F6/F7 /1 TEST alias, REPNE on string moves,
 * MOVSXD without REX.W, far branches other than through memory, PUSH/POP of
 * segment registers, VEX)
 * are left out. Such bytes must be accepted by emul_decode.
 */
static bool zydis_says_supported(const u8 *b, size_t n, enum emul_cpu_mode mode)
{
	ZydisDecodedInstruction z;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	bool has_mem = false, string = false, stack = false, vec = false, sreg = false;
	const char *mn;
	u8 num, size;
	bool high8;

	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&zdec[mode], b, n, &z, ops)))
		return false;
	if (z.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY)
		return false;
	mn = ZydisMnemonicGetString(z.mnemonic);
	switch (z.mnemonic) {
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD:
	case ZYDIS_MNEMONIC_MOVSQ: case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW:
	case ZYDIS_MNEMONIC_STOSD: case ZYDIS_MNEMONIC_STOSQ: case ZYDIS_MNEMONIC_LODSB:
	case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD: case ZYDIS_MNEMONIC_LODSQ:
	case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_CMPSD:
	case ZYDIS_MNEMONIC_CMPSQ: case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW:
	case ZYDIS_MNEMONIC_SCASD: case ZYDIS_MNEMONIC_SCASQ:
		/* MOVSD and CMPSD are also SSE instructions (0F map). */
		string = z.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT;
		if (!string && z.mnemonic != ZYDIS_MNEMONIC_MOVSD)
			return false;
		vec = !string;
		break;
	case ZYDIS_MNEMONIC_MOV:
		sreg = true;
		break;
	case ZYDIS_MNEMONIC_MOVZX: case ZYDIS_MNEMONIC_MOVSX:
	case ZYDIS_MNEMONIC_MOVSXD: case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_OR:
	case ZYDIS_MNEMONIC_ADC: case ZYDIS_MNEMONIC_SBB: case ZYDIS_MNEMONIC_AND:
	case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_XOR: case ZYDIS_MNEMONIC_CMP:
	case ZYDIS_MNEMONIC_TEST: case ZYDIS_MNEMONIC_XCHG: case ZYDIS_MNEMONIC_BT:
	case ZYDIS_MNEMONIC_BTS: case ZYDIS_MNEMONIC_BTR: case ZYDIS_MNEMONIC_BTC:
	case ZYDIS_MNEMONIC_INC: case ZYDIS_MNEMONIC_DEC: case ZYDIS_MNEMONIC_NOT:
	case ZYDIS_MNEMONIC_NEG: case ZYDIS_MNEMONIC_MUL: case ZYDIS_MNEMONIC_IMUL:
	case ZYDIS_MNEMONIC_DIV: case ZYDIS_MNEMONIC_IDIV: case ZYDIS_MNEMONIC_XADD:
	case ZYDIS_MNEMONIC_CMPXCHG: case ZYDIS_MNEMONIC_CMPXCHG8B:
	case ZYDIS_MNEMONIC_CMPXCHG16B: case ZYDIS_MNEMONIC_BSF: case ZYDIS_MNEMONIC_BSR:
	case ZYDIS_MNEMONIC_SHLD: case ZYDIS_MNEMONIC_SHRD: case ZYDIS_MNEMONIC_MOVNTI:
	case ZYDIS_MNEMONIC_MOVBE: case ZYDIS_MNEMONIC_SMSW: case ZYDIS_MNEMONIC_LTR:
	case ZYDIS_MNEMONIC_JMP:
		break;
	case ZYDIS_MNEMONIC_PUSH: case ZYDIS_MNEMONIC_POP: case ZYDIS_MNEMONIC_CALL:
	case ZYDIS_MNEMONIC_RET: case ZYDIS_MNEMONIC_ENTER: case ZYDIS_MNEMONIC_LEAVE:
		stack = true;
		break;
	case ZYDIS_MNEMONIC_MOVUPS: case ZYDIS_MNEMONIC_MOVUPD: case ZYDIS_MNEMONIC_MOVAPS:
	case ZYDIS_MNEMONIC_MOVAPD: case ZYDIS_MNEMONIC_MOVDQU: case ZYDIS_MNEMONIC_MOVDQA:
	case ZYDIS_MNEMONIC_MOVNTDQ: case ZYDIS_MNEMONIC_MOVNTQ: case ZYDIS_MNEMONIC_MOVD:
	case ZYDIS_MNEMONIC_MOVQ: case ZYDIS_MNEMONIC_MOVSS: case ZYDIS_MNEMONIC_MOVNTPS:
	case ZYDIS_MNEMONIC_MOVNTPD:
		vec = true;
		break;
	default:
		if (strncmp(mn, "set", 3) && strncmp(mn, "cmov", 4))
			return false;
		if (!strcmp(mn, "setssbsy"))
			return false;
		break;
	}
	/* Far branches: only JMP/CALL through a memory pointer (FF /5, /3). */
	if (z.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR &&
	    !(z.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && z.opcode == 0xff))
		return false;
	for (unsigned i = 0; i < z.operand_count_visible; i++) {
		const ZydisDecodedOperand *o = &ops[i];

		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY && o->mem.type == ZYDIS_MEMOP_TYPE_MEM)
			has_mem = true;
		if (o->type != ZYDIS_OPERAND_TYPE_REGISTER)
			continue;
		if ((vec && ((o->reg.value >= ZYDIS_REGISTER_XMM0 && o->reg.value <= ZYDIS_REGISTER_XMM15) ||
			     (o->reg.value >= ZYDIS_REGISTER_MM0 && o->reg.value <= ZYDIS_REGISTER_MM7))) ||
		    (sreg && zseg(o->reg.value) >= 0))
			continue;
		if (!zreg(o->reg.value, &num, &high8, &size) || num == EMUL_REG_RIP)
			return false;
	}
	/* Stack forms without a visible memory operand: PUSH/POP r, PUSH
	 * imm, CALL rel, RET, ENTER, LEAVE; JMP only through memory. */
	if (stack && !has_mem) {
		if (z.mnemonic == ZYDIS_MNEMONIC_CALL && z.opcode != 0xe8)
			return false;	/* CALL r: register only */
		if (z.mnemonic == ZYDIS_MNEMONIC_PUSH || z.mnemonic == ZYDIS_MNEMONIC_POP) {
			if (z.opcode_map != ZYDIS_OPCODE_MAP_DEFAULT ||
			    !((z.opcode >= 0x50 && z.opcode <= 0x5f) || z.opcode == 0x68 ||
			      z.opcode == 0x6a))
				return false;
		}
		has_mem = true;
	}
	if (!has_mem && !string)
		return false;
	if (z.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT) {
		if (z.opcode == 0x82)
			return false;
		if ((z.opcode == 0xf6 || z.opcode == 0xf7) && z.raw.modrm.reg == 1)
			return false;
		if (z.opcode == 0x63 && z.operand_width != 64)
			return false;
	}
	/* REPNE (the last of F2/F3) on MOVS/STOS/LODS is declined. */
	if (string && z.mnemonic != ZYDIS_MNEMONIC_CMPSB && z.mnemonic != ZYDIS_MNEMONIC_CMPSW &&
	    z.mnemonic != ZYDIS_MNEMONIC_CMPSD && z.mnemonic != ZYDIS_MNEMONIC_CMPSQ &&
	    z.mnemonic != ZYDIS_MNEMONIC_SCASB && z.mnemonic != ZYDIS_MNEMONIC_SCASW &&
	    z.mnemonic != ZYDIS_MNEMONIC_SCASD && z.mnemonic != ZYDIS_MNEMONIC_SCASQ) {
		u8 last = 0;
		for (unsigned i = 0; i < z.raw.prefix_count; i++)
			if (z.raw.prefixes[i].value == PREFIX_REPNE ||
			    z.raw.prefixes[i].value == PREFIX_REP)
				last = z.raw.prefixes[i].value;
		if (last == PREFIX_REPNE)
			return false;
	}
	return true;
}

static u64 seed;

TEST(test_random_bytes)
{
	enum { ROUNDS = 1000000 };
	long accepted = 0, agreed = 0, zydis_only = 0, bad = 0;

	test_seed(seed);
	for (long r = 0; r < ROUNDS; r++) {
		enum emul_cpu_mode mode = (enum emul_cpu_mode)(r % EMUL_NR_MODES);
		struct emul_insn in;
		u8 b[EMUL_INSN_MAX_LEN];
		u64 x = 0;
		int rc;

		for (size_t i = 0; i < sizeof(b); i++) {
			if (i % 8 == 0)
				x = test_rand();
			b[i] = (u8)x;
			x >>= 8;
		}
		/* Bias towards supported opcodes behind a few prefixes, where
		 * uniform bytes would rarely go. */
		if (r & 1) {
			static const u8 pre[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e,
						  0x36, 0x3e, 0x64, 0x65, 0x48, 0x4c, 0x41, 0x0f };
			for (size_t i = 0; i < 3; i++)
				if (b[i] & 0x80)
					b[i] = pre[b[i] % sizeof(pre)];
		}
		rc = emul_decode(b, sizeof(b), mode, &in);
		if (rc > 0) {
			const char *why = zydis_mismatch(b, sizeof(b), &in);
			accepted++;
			if (!why && !check_truncations(b, mode, &in))
				why = "truncated input not -E2BIG";
			/* The reverse check below must recognise what we
			 * accept, or it would prove nothing. */
			if (!why && !zydis_says_supported(b, sizeof(b), mode))
				why = "zydis_says_supported() misses it";
			if (!why)
				agreed++;
			if (why && bad++ < 20) {
				printf("  [%s]", mode_names[mode]);
				print_bytes(b, (size_t)rc);
				printf(": %s\n", why);
			}
		} else {
			if (rc != -EINVAL && bad++ < 20)
				printf("  rc %d with 15 bytes\n", rc);
			if (zydis_says_supported(b, sizeof(b), mode)) {
				zydis_only++;
				if (bad++ < 20) {
					printf("  [%s]", mode_names[mode]);
					print_bytes(b, sizeof(b));
					printf(": zydis decodes a supported instruction, we say \"%s\"\n", in.why);
				}
			}
		}
	}
	printf("  %d buffers: %ld accepted, %ld agreed with zydis; %ld declined that zydis supports\n",
	       ROUNDS, accepted, agreed, zydis_only);
	CHECK_EQ(bad, 0);
	CHECK(accepted > ROUNDS / 20);
}

/* ---- an encoder for the supported set ------------------------------------ */

struct enc_op {
	u8 two_byte, opcode, reg;	/* reg: the /digit, or 8 for any register */
	u16 flags;			/* ENC_* */
	u8 mprefix;			/* a mandatory prefix (66, F3) or 0 */
};
#define ENC_MODRM  0x01
#define ENC_IMM8   0x02
#define ENC_IMMZ   0x04
#define ENC_MOFFS  0x08
#define ENC_STRING 0x10
#define ENC_LOCK   0x20		/* LOCK may prefix it */
#define ENC_ONLY64 0x40		/* 64-bit mode only, needs REX.W */
#define ENC_STACK  0x80		/* no ModR/M; opcode + register for 50/58 */
#define ENC_IMM16  0x100	/* iw (RET), iw ib (ENTER) */
#define ENC_REL    0x200	/* rel16/32 by operand size (rel32 in 64-bit mode) */
#define ENC_NOREP  0x400	/* no stray F2/F3 (it would change the instruction) */
#define ENC_NO66   0x800	/* no 66 (it would change or invalidate it) */
#define ENC_CMPSTR 0x1000	/* CMPS/SCAS: F2 or F3 */
#define ENC_THREE  0x2000	/* 0F 38 map */
#define ENC_SREG   0x4000	/* reg field a segment register (not CS for 8E) */
#define ENC_ANYREG 8
#define S_ (ENC_MODRM | ENC_NOREP)	/* SSE: prefixes chosen by mprefix */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct enc_op enc_ops[] = {
	{ 0, 0x00, ENC_ANYREG, ENC_MODRM | ENC_LOCK }, { 0, 0x01, ENC_ANYREG, ENC_MODRM | ENC_LOCK },
	{ 0, 0x02, ENC_ANYREG, ENC_MODRM }, { 0, 0x03, ENC_ANYREG, ENC_MODRM },
	{ 0, 0x08, ENC_ANYREG, ENC_MODRM | ENC_LOCK }, { 0, 0x09, ENC_ANYREG, ENC_MODRM | ENC_LOCK },
	{ 0, 0x0a, ENC_ANYREG, ENC_MODRM }, { 0, 0x0b, ENC_ANYREG, ENC_MODRM },
	{ 0, 0x10, ENC_ANYREG, ENC_MODRM | ENC_LOCK }, { 0, 0x11, ENC_ANYREG, ENC_MODRM | ENC_LOCK },
	{ 0, 0x12, ENC_ANYREG, ENC_MODRM }, { 0, 0x13, ENC_ANYREG, ENC_MODRM },
	{ 0, 0x18, ENC_ANYREG, ENC_MODRM | ENC_LOCK }, { 0, 0x19, ENC_ANYREG, ENC_MODRM | ENC_LOCK },
	{ 0, 0x1a, ENC_ANYREG, ENC_MODRM }, { 0, 0x1b, ENC_ANYREG, ENC_MODRM },
	{ 0, 0x20, ENC_ANYREG, ENC_MODRM | ENC_LOCK }, { 0, 0x21, ENC_ANYREG, ENC_MODRM | ENC_LOCK },
	{ 0, 0x22, ENC_ANYREG, ENC_MODRM }, { 0, 0x23, ENC_ANYREG, ENC_MODRM },
	{ 0, 0x28, ENC_ANYREG, ENC_MODRM | ENC_LOCK }, { 0, 0x29, ENC_ANYREG, ENC_MODRM | ENC_LOCK },
	{ 0, 0x2a, ENC_ANYREG, ENC_MODRM }, { 0, 0x2b, ENC_ANYREG, ENC_MODRM },
	{ 0, 0x30, ENC_ANYREG, ENC_MODRM | ENC_LOCK }, { 0, 0x31, ENC_ANYREG, ENC_MODRM | ENC_LOCK },
	{ 0, 0x32, ENC_ANYREG, ENC_MODRM }, { 0, 0x33, ENC_ANYREG, ENC_MODRM },
	{ 0, 0x38, ENC_ANYREG, ENC_MODRM }, { 0, 0x39, ENC_ANYREG, ENC_MODRM },
	{ 0, 0x3a, ENC_ANYREG, ENC_MODRM }, { 0, 0x3b, ENC_ANYREG, ENC_MODRM },
	{ 0, 0x63, ENC_ANYREG, ENC_MODRM | ENC_ONLY64 },
	{ 0, 0x80, 0, ENC_MODRM | ENC_IMM8 | ENC_LOCK }, { 0, 0x80, 1, ENC_MODRM | ENC_IMM8 | ENC_LOCK },
	{ 0, 0x80, 2, ENC_MODRM | ENC_IMM8 | ENC_LOCK }, { 0, 0x80, 3, ENC_MODRM | ENC_IMM8 | ENC_LOCK },
	{ 0, 0x80, 4, ENC_MODRM | ENC_IMM8 | ENC_LOCK }, { 0, 0x80, 5, ENC_MODRM | ENC_IMM8 | ENC_LOCK },
	{ 0, 0x80, 6, ENC_MODRM | ENC_IMM8 | ENC_LOCK }, { 0, 0x80, 7, ENC_MODRM | ENC_IMM8 },
	{ 0, 0x81, 0, ENC_MODRM | ENC_IMMZ | ENC_LOCK }, { 0, 0x81, 1, ENC_MODRM | ENC_IMMZ | ENC_LOCK },
	{ 0, 0x81, 4, ENC_MODRM | ENC_IMMZ | ENC_LOCK }, { 0, 0x81, 5, ENC_MODRM | ENC_IMMZ | ENC_LOCK },
	{ 0, 0x81, 6, ENC_MODRM | ENC_IMMZ | ENC_LOCK }, { 0, 0x81, 7, ENC_MODRM | ENC_IMMZ },
	{ 0, 0x83, 0, ENC_MODRM | ENC_IMM8 | ENC_LOCK }, { 0, 0x83, 2, ENC_MODRM | ENC_IMM8 | ENC_LOCK },
	{ 0, 0x83, 3, ENC_MODRM | ENC_IMM8 | ENC_LOCK }, { 0, 0x83, 4, ENC_MODRM | ENC_IMM8 | ENC_LOCK },
	{ 0, 0x83, 7, ENC_MODRM | ENC_IMM8 },
	{ 0, 0x84, ENC_ANYREG, ENC_MODRM }, { 0, 0x85, ENC_ANYREG, ENC_MODRM },
	{ 0, 0x86, ENC_ANYREG, ENC_MODRM | ENC_LOCK }, { 0, 0x87, ENC_ANYREG, ENC_MODRM | ENC_LOCK },
	{ 0, 0x88, ENC_ANYREG, ENC_MODRM }, { 0, 0x89, ENC_ANYREG, ENC_MODRM },
	{ 0, 0x8a, ENC_ANYREG, ENC_MODRM }, { 0, 0x8b, ENC_ANYREG, ENC_MODRM },
	{ 0, 0x8f, 0, ENC_MODRM },
	{ 0, 0xa0, 0, ENC_MOFFS }, { 0, 0xa1, 0, ENC_MOFFS }, { 0, 0xa2, 0, ENC_MOFFS },
	{ 0, 0xa3, 0, ENC_MOFFS },
	{ 0, 0xa4, 0, ENC_STRING }, { 0, 0xa5, 0, ENC_STRING }, { 0, 0xaa, 0, ENC_STRING },
	{ 0, 0xab, 0, ENC_STRING }, { 0, 0xac, 0, ENC_STRING }, { 0, 0xad, 0, ENC_STRING },
	{ 0, 0xc6, 0, ENC_MODRM | ENC_IMM8 }, { 0, 0xc7, 0, ENC_MODRM | ENC_IMMZ },
	{ 0, 0xf6, 0, ENC_MODRM | ENC_IMM8 }, { 0, 0xf7, 0, ENC_MODRM | ENC_IMMZ },
	{ 0, 0xff, 6, ENC_MODRM },
	{ 1, 0xa3, ENC_ANYREG, ENC_MODRM }, { 1, 0xb6, ENC_ANYREG, ENC_MODRM },
	{ 1, 0xb7, ENC_ANYREG, ENC_MODRM }, { 1, 0xba, 4, ENC_MODRM | ENC_IMM8 },
	{ 1, 0xbe, ENC_ANYREG, ENC_MODRM }, { 1, 0xbf, ENC_ANYREG, ENC_MODRM },
	/* issue 8 */
	{ 0, 0xfe, 0, ENC_MODRM | ENC_LOCK }, { 0, 0xfe, 1, ENC_MODRM | ENC_LOCK },
	{ 0, 0xff, 0, ENC_MODRM | ENC_LOCK }, { 0, 0xff, 1, ENC_MODRM | ENC_LOCK },
	{ 0, 0xf6, 2, ENC_MODRM | ENC_LOCK }, { 0, 0xf7, 3, ENC_MODRM | ENC_LOCK },
	{ 0, 0xf6, 4, ENC_MODRM }, { 0, 0xf7, 5, ENC_MODRM }, { 0, 0xf7, 6, ENC_MODRM },
	{ 0, 0xf6, 7, ENC_MODRM },
	{ 1, 0xc0, ENC_ANYREG, ENC_MODRM | ENC_LOCK }, { 1, 0xc1, ENC_ANYREG, ENC_MODRM | ENC_LOCK },
	{ 1, 0xb0, ENC_ANYREG, ENC_MODRM | ENC_LOCK }, { 1, 0xb1, ENC_ANYREG, ENC_MODRM | ENC_LOCK },
	{ 1, 0xc7, 1, ENC_MODRM | ENC_LOCK },
	{ 1, 0xab, ENC_ANYREG, ENC_MODRM | ENC_LOCK }, { 1, 0xb3, ENC_ANYREG, ENC_MODRM | ENC_LOCK },
	{ 1, 0xbb, ENC_ANYREG, ENC_MODRM | ENC_LOCK }, { 1, 0xba, 5, ENC_MODRM | ENC_IMM8 | ENC_LOCK },
	{ 1, 0xba, 6, ENC_MODRM | ENC_IMM8 | ENC_LOCK }, { 1, 0xba, 7, ENC_MODRM | ENC_IMM8 | ENC_LOCK },
	{ 1, 0xbc, ENC_ANYREG, ENC_MODRM | ENC_NOREP }, { 1, 0xbd, ENC_ANYREG, ENC_MODRM | ENC_NOREP },
	{ 1, 0xaf, ENC_ANYREG, ENC_MODRM }, { 0, 0x69, ENC_ANYREG, ENC_MODRM | ENC_IMMZ },
	{ 0, 0x6b, ENC_ANYREG, ENC_MODRM | ENC_IMM8 },
	{ 1, 0xa4, ENC_ANYREG, ENC_MODRM | ENC_IMM8 }, { 1, 0xa5, ENC_ANYREG, ENC_MODRM },
	{ 1, 0xac, ENC_ANYREG, ENC_MODRM | ENC_IMM8 }, { 1, 0xad, ENC_ANYREG, ENC_MODRM },
	{ 1, 0x90, ENC_ANYREG, ENC_MODRM }, { 1, 0x95, ENC_ANYREG, ENC_MODRM },
	{ 1, 0x9c, ENC_ANYREG, ENC_MODRM }, { 1, 0x9f, ENC_ANYREG, ENC_MODRM },
	{ 1, 0x40, ENC_ANYREG, ENC_MODRM }, { 1, 0x44, ENC_ANYREG, ENC_MODRM },
	{ 1, 0x4a, ENC_ANYREG, ENC_MODRM }, { 1, 0x4f, ENC_ANYREG, ENC_MODRM },
	{ 1, 0xc3, ENC_ANYREG, ENC_MODRM | ENC_NOREP | ENC_NO66 },
	{ 1, 0xf0, ENC_ANYREG, ENC_MODRM | ENC_NOREP | ENC_THREE },
	{ 1, 0xf1, ENC_ANYREG, ENC_MODRM | ENC_NOREP | ENC_THREE },
	{ 0, 0x8c, ENC_ANYREG, ENC_MODRM | ENC_SREG }, { 0, 0x8e, ENC_ANYREG, ENC_MODRM | ENC_SREG },
	{ 1, 0x01, 4, ENC_MODRM }, { 1, 0x00, 3, ENC_MODRM },
	{ 0, 0xa6, 0, ENC_STRING | ENC_CMPSTR }, { 0, 0xa7, 0, ENC_STRING | ENC_CMPSTR },
	{ 0, 0xae, 0, ENC_STRING | ENC_CMPSTR }, { 0, 0xaf, 0, ENC_STRING | ENC_CMPSTR },
	{ 0, 0xff, 2, ENC_MODRM }, { 0, 0xff, 4, ENC_MODRM },
	{ 0, 0x50, 0, ENC_STACK }, { 0, 0x58, 0, ENC_STACK }, { 0, 0x68, 0, ENC_STACK | ENC_IMMZ },
	{ 0, 0x6a, 0, ENC_STACK | ENC_IMM8 }, { 0, 0xe8, 0, ENC_STACK | ENC_REL },
	{ 0, 0xc3, 0, ENC_STACK }, { 0, 0xc2, 0, ENC_STACK | ENC_IMM16 },
	{ 0, 0xc8, 0, ENC_STACK | ENC_IMM16 }, { 0, 0xc9, 0, ENC_STACK },
	{ 1, 0x10, ENC_ANYREG, S_ }, { 1, 0x11, ENC_ANYREG, S_, 0x66 },
	{ 1, 0x28, ENC_ANYREG, S_ }, { 1, 0x29, ENC_ANYREG, S_, 0x66 },
	{ 1, 0x6f, ENC_ANYREG, S_ }, { 1, 0x6f, ENC_ANYREG, S_, 0x66 },
	{ 1, 0x6f, ENC_ANYREG, S_, 0xf3 }, { 1, 0x7f, ENC_ANYREG, S_, 0xf3 },
	{ 1, 0x6e, ENC_ANYREG, S_ }, { 1, 0x7e, ENC_ANYREG, S_, 0x66 },
	{ 1, 0x7e, ENC_ANYREG, S_, 0xf3 }, { 1, 0xd6, ENC_ANYREG, S_, 0x66 },
	{ 1, 0xe7, ENC_ANYREG, S_ }, { 1, 0xe7, ENC_ANYREG, S_, 0x66 },
	{ 1, 0x10, ENC_ANYREG, S_, 0xf3 }, { 1, 0x11, ENC_ANYREG, S_, 0xf2 },
	{ 1, 0x2b, ENC_ANYREG, S_ }, { 1, 0x2b, ENC_ANYREG, S_, 0x66 },
};
#pragma GCC diagnostic pop

static unsigned rnd(unsigned n)
{
	return (unsigned)(test_rand() % n);
}

static void put_le(u8 *b, size_t *n, u64 v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		b[(*n)++] = (u8)(v >> (8 * i));
}

/*
 * Builds one random supported instruction for mode into b; returns its
 * length, computed from the encoding rules independently of the decoder.
 */
static size_t encode_random(enum emul_cpu_mode mode, u8 *b)
{
	static const u8 segs[] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
	const struct enc_op *op;
	bool opsize, addrsize, wide, byte_op, is64 = mode == EMUL_MODE_LONG64;
	unsigned osz, asz, npre = 0;
	size_t n = 0;
	u8 rex = 0;

	do
		op = &enc_ops[rnd(ARRAY_SIZE(enc_ops))];
	while (((op->flags & ENC_ONLY64) && !is64) ||
	       /* LTR is #UD in real mode */
	       (mode == EMUL_MODE_REAL && op->two_byte && op->opcode == 0x00));

	opsize = rnd(4) == 0 && !(op->flags & ENC_NO66);
	addrsize = rnd(4) == 0;
	wide = is64 && (rnd(2) || (op->flags & ENC_ONLY64));
	/* Legacy prefixes in random order, some repeated. */
	u8 pre[8];
	if (opsize) pre[npre++] = 0x66;
	if (addrsize) pre[npre++] = 0x67;
	if (rnd(3) == 0) pre[npre++] = segs[rnd(ARRAY_SIZE(segs))];
	if ((op->flags & ENC_LOCK) && rnd(3) == 0) pre[npre++] = 0xf0;
	if ((op->flags & ENC_CMPSTR) && rnd(2)) pre[npre++] = rnd(2) ? 0xf3 : 0xf2;
	else if ((op->flags & ENC_STRING) && rnd(2)) pre[npre++] = 0xf3;
	if (!(op->flags & (ENC_STRING | ENC_NOREP)) && rnd(8) == 0) pre[npre++] = 0xf3;
	if (op->flags & ENC_NO66) opsize = false;
	if (rnd(8) == 0 && npre) pre[npre] = pre[rnd(npre)], npre++;
	for (unsigned i = npre; i > 1; i--) {
		unsigned j = rnd(i);
		u8 t = pre[i - 1];
		pre[i - 1] = pre[j], pre[j] = t;
	}
	for (unsigned i = 0; i < npre; i++)
		b[n++] = pre[i];
	/* A mandatory prefix after the others, so that it is the last F3. */
	if (op->mprefix)
		b[n++] = op->mprefix;
	if (is64) {
		rex = (u8)(REX_BASE | rnd(8) | (wide ? REX_W : 0));
		if (rex != REX_BASE || rnd(2))
			b[n++] = rex;
	}
	if (op->two_byte)
		b[n++] = OPCODE_ESCAPE;
	if (op->flags & ENC_THREE)
		b[n++] = OPCODE_ESCAPE_38;
	b[n++] = op->opcode;
	if (op->opcode == 0x50 || op->opcode == 0x58)
		b[n - 1] = (u8)(b[n - 1] | rnd(8));

	byte_op = (!op->two_byte && (op->opcode == 0x80 || op->opcode == 0xc6 || op->opcode == 0xf6)) ||
		  (!op->two_byte && op->opcode < 0x40 && !(op->opcode & 1)) ||
		  (!op->two_byte && (op->opcode == 0x84 || op->opcode == 0x86 ||
				     op->opcode == 0x88 || op->opcode == 0x8a ||
				     op->opcode == 0xa0 || op->opcode == 0xa2 ||
				     op->opcode == 0xa4 || op->opcode == 0xaa ||
				     op->opcode == 0xac));
	if (is64)
		asz = addrsize ? 4 : 8;
	else
		asz = (mode == EMUL_MODE_PROT32) != addrsize ? 4 : 2;
	if (is64)
		osz = (rex & REX_W) ? 8 : opsize ? 2 : 4;
	else
		osz = (mode == EMUL_MODE_PROT32) != opsize ? 4 : 2;

	if (op->flags & ENC_MODRM) {
		unsigned mod = rnd(3), rm = rnd(8);
		unsigned reg = op->reg == ENC_ANYREG ? rnd(8) : op->reg;

		if (op->flags & ENC_SREG)
			reg = op->opcode == 0x8e ? (rnd(5) + 2) % 6 : rnd(6);

		b[n++] = (u8)(mod << 6 | reg << 3 | rm);
		if (asz == 2) {
			if (mod == 1)
				put_le(b, &n, test_rand(), 1);
			else if (mod == 2 || (mod == 0 && rm == 6))
				put_le(b, &n, test_rand(), 2);
		} else {
			bool disp32 = mod == 2 || (mod == 0 && rm == 5);
			if (rm == 4) {
				u8 sib = (u8)test_rand();
				b[n++] = sib;
				if (mod == 0 && (sib & 7) == 5)
					disp32 = true;
			}
			if (mod == 1)
				put_le(b, &n, test_rand(), 1);
			else if (disp32)
				put_le(b, &n, test_rand(), 4);
		}
	} else if (op->flags & ENC_MOFFS) {
		put_le(b, &n, test_rand(), asz);
	}
	if (op->flags & ENC_IMM8)
		put_le(b, &n, test_rand(), 1);
	else if (op->flags & ENC_IMMZ)
		put_le(b, &n, test_rand(), byte_op ? 1 : osz == 2 ? 2 : 4);
	else if (op->flags & ENC_IMM16)
		put_le(b, &n, test_rand(), op->opcode == 0xc8 ? 3 : 2);
	else if (op->flags & ENC_REL)	/* "f64": 66 ignored in 64-bit mode */
		put_le(b, &n, test_rand(), is64 ? 4 : osz == 2 ? 2 : 4);
	return n;
}

TEST(test_random_encoded)
{
	enum { ROUNDS = 300000 };
	long bad = 0;

	test_seed(seed ^ 0x5eed);
	for (long r = 0; r < ROUNDS; r++) {
		enum emul_cpu_mode mode = (enum emul_cpu_mode)rnd(EMUL_NR_MODES);
		u8 b[EMUL_INSN_MAX_LEN + 16];
		struct emul_insn in;
		size_t n;
		int rc;
		const char *why = NULL;

		memset(b, 0xcc, sizeof(b));
		n = encode_random(mode, b);
		if (n > EMUL_INSN_MAX_LEN)
			continue;	/* too many prefixes: covered in test_rejects */
		rc = emul_decode(b, sizeof(b), mode, &in);
		if (rc != (int)n)
			why = in.why;
		else
			why = zydis_mismatch(b, sizeof(b), &in);
		if (!why && !check_truncations(b, mode, &in))
			why = "truncated input not -E2BIG";
		if (why && bad++ < 20) {
			printf("  [%s]", mode_names[mode]);
			print_bytes(b, n);
			printf(": rc %d, %s\n", rc, why);
		}
	}
	printf("  %d encoded instructions (%ld hit the zydis 4.0 no-base SIB quirk)\n",
	       ROUNDS, zydis_r13d_quirk);
	CHECK_EQ(bad, 0);
}

TEST(test_describe_truncates)
{
	struct emul_insn in;
	const u8 b[] = { 0x48, 0x89, 0x08 };
	char small[8];

	CHECK_EQ(emul_decode(b, sizeof(b), EMUL_MODE_LONG64, &in), 3);
	CHECK_STR(emul_describe(&in, small, sizeof(small)), "mov qwo");
	CHECK(emul_describe(&in, small, 0) == small);
}

int main(void)
{
	const char *env = getenv("TEST_SEED");

	seed = env ? strtoull(env, NULL, 0) : 0xdec0de;
	printf("test_decoder: seed 0x%llx (set TEST_SEED to change)\n", seed);
	zydis_init();
	RUN(test_table);
	RUN(test_fields);
	RUN(test_rejects);
	RUN(test_random_bytes);
	RUN(test_random_encoded);
	RUN(test_describe_truncates);
	return TEST_SUMMARY();
}
