/*
 * emul/describe.c - emul_describe(): a decoded instruction as one line of
 * Intel-syntax text, for the trace view and failure reports.
 */
#include "emul/emul_priv.h"

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
/* Condition codes by the low nibble of the opcode (SDM Vol. 2D, Table B-1
 * "Condition Codes"... in Zydis's spelling). */
static const char *const cc_names[16] = {
	"o", "no", "b", "nb", "z", "nz", "be", "nbe",
	"s", "ns", "p", "np", "l", "nl", "le", "nle",
};

const char *const emul_mnemonics[EMUL_NR_OP_TYPES] = {
	[EMUL_OP_MOV] = "mov", [EMUL_OP_MOVZX] = "movzx", [EMUL_OP_MOVSX] = "movsx",
	[EMUL_OP_ADD] = "add", [EMUL_OP_OR] = "or", [EMUL_OP_ADC] = "adc",
	[EMUL_OP_SBB] = "sbb", [EMUL_OP_AND] = "and", [EMUL_OP_SUB] = "sub",
	[EMUL_OP_XOR] = "xor", [EMUL_OP_CMP] = "cmp", [EMUL_OP_TEST] = "test",
	[EMUL_OP_XCHG] = "xchg", [EMUL_OP_BT] = "bt", [EMUL_OP_MOVS] = "movs",
	[EMUL_OP_STOS] = "stos", [EMUL_OP_LODS] = "lods", [EMUL_OP_PUSH] = "push",
	[EMUL_OP_POP] = "pop", [EMUL_OP_INC] = "inc", [EMUL_OP_DEC] = "dec",
	[EMUL_OP_NOT] = "not", [EMUL_OP_NEG] = "neg", [EMUL_OP_MUL] = "mul",
	[EMUL_OP_IMUL1] = "imul", [EMUL_OP_IMUL] = "imul", [EMUL_OP_DIV] = "div",
	[EMUL_OP_IDIV] = "idiv", [EMUL_OP_XADD] = "xadd", [EMUL_OP_CMPXCHG] = "cmpxchg",
	[EMUL_OP_CMPXCHG8B] = "cmpxchg8b", [EMUL_OP_BTS] = "bts", [EMUL_OP_BTR] = "btr",
	[EMUL_OP_BTC] = "btc", [EMUL_OP_BSF] = "bsf", [EMUL_OP_BSR] = "bsr",
	[EMUL_OP_SHLD] = "shld", [EMUL_OP_SHRD] = "shrd", [EMUL_OP_SETCC] = "set",
	[EMUL_OP_CMOVCC] = "cmov", [EMUL_OP_MOVNTI] = "movnti", [EMUL_OP_MOVBE] = "movbe",
	[EMUL_OP_MOVSEG] = "mov", [EMUL_OP_SMSW] = "smsw", [EMUL_OP_LTR] = "ltr",
	[EMUL_OP_CMPS] = "cmps", [EMUL_OP_SCAS] = "scas", [EMUL_OP_JMP] = "jmp",
	[EMUL_OP_CALL] = "call", [EMUL_OP_RET] = "ret", [EMUL_OP_ENTER] = "enter",
	[EMUL_OP_LEAVE] = "leave", [EMUL_OP_JMPF] = "jmp", [EMUL_OP_CALLF] = "call", [EMUL_OP_MOVUPS] = "movups", [EMUL_OP_MOVUPD] = "movupd",
	[EMUL_OP_MOVAPS] = "movaps", [EMUL_OP_MOVAPD] = "movapd", [EMUL_OP_MOVDQU] = "movdqu",
	[EMUL_OP_MOVDQA] = "movdqa", [EMUL_OP_MOVNTDQ] = "movntdq", [EMUL_OP_MOVNTQ] = "movntq",
	[EMUL_OP_MOVD] = "movd", [EMUL_OP_MOVQ] = "movq", [EMUL_OP_MOVSS] = "movss",
	[EMUL_OP_MOVSD_SSE] = "movsd", [EMUL_OP_MOVNTPS] = "movntps", [EMUL_OP_MOVNTPD] = "movntpd",
};

unsigned emul_size_index(u8 size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : 4;
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
	if (insn->flags & EMUL_OPF_XMM)
		desc_add(buf, n, at, "xmm%u", insn->reg);
	else if (insn->flags & EMUL_OPF_MMX)
		desc_add(buf, n, at, "mm%u", insn->reg);
	else if (insn->flags & EMUL_OPF_SREG)
		desc_add(buf, n, at, "%s", seg_names[insn->reg % EMUL_NR_SEGS]);
	else if (insn->reg_high8)
		desc_add(buf, n, at, "%s", high8_names[insn->reg % ARRAY_SIZE(high8_names)]);
	else
		desc_add(buf, n, at, "%s",
			 reg_names[emul_size_index(insn->reg_size) % 4][insn->reg % EMUL_NR_GPRS]);
}

static void desc_mem(const struct emul_insn *insn, char *buf, size_t n, size_t *at)
{
	static const char *const size_names[5] = { "byte", "word", "dword", "qword", "xmmword" };
	const struct emul_mem *m = &insn->mem;
	const char *const *names = reg_names[emul_size_index(insn->addr_size) % 4];
	bool any = false;

	if (insn->type == EMUL_OP_JMPF || insn->type == EMUL_OP_CALLF)
		desc_add(buf, n, at, "far m16:%u [", 8 * insn->op_size);
	else
		desc_add(buf, n, at, "%s [", size_names[emul_size_index(insn->mem_size)]);
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

static void desc_imm(const struct emul_insn *insn, char *buf, size_t n, size_t *at)
{
	u64 mask = emul_size_mask(insn->op_size);

	if (insn->flags & EMUL_OPF_REL)
		desc_add(buf, n, at, "rel 0x%llx", insn->imm & mask);
	else if (insn->type == EMUL_OP_ENTER)
		desc_add(buf, n, at, "0x%llx, 0x%x", insn->imm, insn->imm2);
	else
		desc_add(buf, n, at, "0x%llx", insn->imm & mask);
}

const char *emul_describe(const struct emul_insn *insn, char *buf, size_t n)
{
	static const char string_suffix[4] = { 'b', 'w', 'd', 'q' };
	const char *mn;
	size_t at = 0;

	if (!n)
		return buf;
	buf[0] = '\0';
	if (insn->type == EMUL_OP_NONE || insn->type >= EMUL_OP_GROUP1) {
		desc_add(buf, n, &at, "(invalid)");
		return buf;
	}
	mn = emul_mnemonics[insn->type];
	if (insn->lock)
		desc_add(buf, n, &at, "lock ");
	if (insn->flags & EMUL_OPF_STRING) {
		bool cmp = insn->type == EMUL_OP_CMPS || insn->type == EMUL_OP_SCAS;

		if (insn->rep)
			desc_add(buf, n, &at, cmp ? "repe " : "rep ");
		if (insn->repne)
			desc_add(buf, n, &at, "repne ");
		/* The implicit operands follow from the mnemonic; name an
		 * overridden source segment as objdump does. */
		if (insn->mem.seg_override)
			desc_add(buf, n, &at, "%s ", seg_names[insn->mem.seg]);
		desc_add(buf, n, &at, "%s%c", mn, string_suffix[emul_size_index(insn->op_size) % 4]);
		return buf;
	}
	if (insn->flags & EMUL_OPF_STACK) {
		desc_add(buf, n, &at, "%s", mn);
		if (insn->has_reg) {
			desc_add(buf, n, &at, " ");
			desc_reg(insn, buf, n, &at);
		} else if (insn->has_imm) {
			desc_add(buf, n, &at, " ");
			desc_imm(insn, buf, n, &at);
		}
		return buf;
	}
	if (insn->flags & EMUL_OPF_SRC32)
		mn = "movsxd";
	else if (insn->type == EMUL_OP_CMPXCHG8B && insn->mem_size == 16)
		mn = "cmpxchg16b";
	desc_add(buf, n, &at, "%s", mn);
	if (insn->flags & EMUL_OPF_COND)
		desc_add(buf, n, &at, "%s", cc_names[insn->opcode & 0xf]);
	desc_add(buf, n, &at, " ");
	if ((insn->flags & EMUL_OPF_REG_DST) && insn->has_reg) {
		desc_reg(insn, buf, n, &at);
		desc_add(buf, n, &at, ", ");
		desc_mem(insn, buf, n, &at);
	} else {
		desc_mem(insn, buf, n, &at);
		if (insn->has_reg) {
			desc_add(buf, n, &at, ", ");
			desc_reg(insn, buf, n, &at);
		}
	}
	if (insn->flags & EMUL_OPF_CL) {
		desc_add(buf, n, &at, ", cl");
	} else if (insn->has_imm) {
		desc_add(buf, n, &at, ", ");
		desc_imm(insn, buf, n, &at);
	}
	return buf;
}
