/*
 * Host tests for emul/fastlen.c, the fast-MMIO path's length-and-direction
 * decode, checked against an independent decoder, Zydis (libzydis-dev 4.x).
 *
 * The rule: emul_store_length() may answer a length only for a plain store:
 * Zydis must decode the same bytes to the same length, with exactly one
 * memory operand, written and not read, and no register or flag written
 * (anything else would need emulation, not a skip). And it must not miss a
 * plain store of the forms it lists: MOV, MOVNTI, SETcc, MOVBE and the SSE
 * and MMX moves to memory, in legacy encoding.
 *
 * Inputs: hand-written encodings, seeded random bytes, and seeded random
 * instructions built from the accepted opcodes with random prefixes, ModR/M,
 * SIB, displacement and immediate, in all four modes. Seed 0xfa57 unless
 * TEST_SEED is set.
 */
#include "emul/fastlen.c"
#include "tests/host/test.h"
#include <Zydis/Zydis.h>

static ZydisDecoder zdec[EMUL_NR_MODES];
static const char *const mode_names[EMUL_NR_MODES] = { "real", "prot16", "prot32", "long64" };

static void zydis_init(void)
{
	ZydisDecoderInit(&zdec[EMUL_MODE_REAL], ZYDIS_MACHINE_MODE_REAL_16, ZYDIS_STACK_WIDTH_16);
	ZydisDecoderInit(&zdec[EMUL_MODE_PROT16], ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
	ZydisDecoderInit(&zdec[EMUL_MODE_PROT32], ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
	ZydisDecoderInit(&zdec[EMUL_MODE_LONG64], ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
}

/* The mnemonics whose plain-store forms the fast path must accept. */
static bool listed_mnemonic(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_MOV: case ZYDIS_MNEMONIC_MOVNTI: case ZYDIS_MNEMONIC_MOVBE:
	case ZYDIS_MNEMONIC_MOVUPS: case ZYDIS_MNEMONIC_MOVUPD: case ZYDIS_MNEMONIC_MOVSS:
	case ZYDIS_MNEMONIC_MOVSD: case ZYDIS_MNEMONIC_MOVAPS: case ZYDIS_MNEMONIC_MOVAPD:
	case ZYDIS_MNEMONIC_MOVQ: case ZYDIS_MNEMONIC_MOVD: case ZYDIS_MNEMONIC_MOVDQA:
	case ZYDIS_MNEMONIC_MOVDQU: case ZYDIS_MNEMONIC_MOVNTQ: case ZYDIS_MNEMONIC_MOVNTDQ:
	case ZYDIS_MNEMONIC_SETB: case ZYDIS_MNEMONIC_SETBE: case ZYDIS_MNEMONIC_SETL:
	case ZYDIS_MNEMONIC_SETLE: case ZYDIS_MNEMONIC_SETNB: case ZYDIS_MNEMONIC_SETNBE:
	case ZYDIS_MNEMONIC_SETNL: case ZYDIS_MNEMONIC_SETNLE: case ZYDIS_MNEMONIC_SETNO:
	case ZYDIS_MNEMONIC_SETNP: case ZYDIS_MNEMONIC_SETNS: case ZYDIS_MNEMONIC_SETNZ:
	case ZYDIS_MNEMONIC_SETO: case ZYDIS_MNEMONIC_SETP: case ZYDIS_MNEMONIC_SETS:
	case ZYDIS_MNEMONIC_SETZ:
		return true;
	default:
		return false;
	}
}

/* Zydis's verdict: the length of a plain store, 0 if the bytes are not one.
 * *listed tells whether it is one of the forms the fast path must know. */
static u32 zydis_store_length(enum emul_cpu_mode mode, const u8 *b, u32 n, bool *listed)
{
	ZydisDecodedInstruction z;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	u32 mem_writes = 0;

	*listed = false;
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&zdec[mode], b, n, &z, ops)))
		return 0;
	for (u32 i = 0; i < z.operand_count; i++) {
		const ZydisDecodedOperand *o = &ops[i];
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY && o->mem.type == ZYDIS_MEMOP_TYPE_MEM) {
			if (o->actions & ZYDIS_OPERAND_ACTION_MASK_READ)
				return 0;
			if (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)
				mem_writes++;
		} else if (o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
			   (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) {
			return 0;	/* a register or the flags change too */
		}
	}
	if (mem_writes != 1)
		return 0;
	*listed = z.encoding == ZYDIS_INSTRUCTION_ENCODING_LEGACY && listed_mnemonic(z.mnemonic);
	return z.length;
}

static void hex(const u8 *b, u32 n, char *out)
{
	for (u32 i = 0; i < n; i++)
		sprintf(out + 3 * i, "%02x ", b[i]);
}

static u64 compared, accepted, misses_reported;

/* Compares both on one buffer; returns false (after printing) on a mismatch. */
static bool compare(enum emul_cpu_mode mode, const u8 *b, u32 n, bool must_accept_listed)
{
	bool listed;
	u32 fast = emul_store_length(b, n, mode);
	u32 zl = zydis_store_length(mode, b, n, &listed);
	char h[64];

	compared++;
	if (fast)
		accepted++;
	if (fast && fast != zl) {
		hex(b, n, h);
		printf("  %s: fast path says a %u-byte store, zydis %u: %s\n",
		       mode_names[mode], fast, zl, h);
		return false;
	}
	/* A REX prefix followed by a legacy prefix is ignored by the CPU; the
	 * fast path leaves that oddity to the full decoder. */
	if (!fast && zl && listed && must_accept_listed) {
		hex(b, n, h);
		if (misses_reported++ < 10)
			printf("  %s: fast path misses a %u-byte store: %s\n", mode_names[mode], zl, h);
		return false;
	}
	return true;
}

TEST(hand_written)
{
	static const struct { enum emul_cpu_mode mode; u8 len; u8 b[15]; } t[] = {
		{ EMUL_MODE_PROT32, 2, { 0x89, 0x00 } },			/* mov [eax], eax */
		{ EMUL_MODE_PROT32, 5, { 0xa3, 0x00, 0x00, 0x00, 0xd0 } },	/* mov [0xd0000000], eax */
		{ EMUL_MODE_PROT32, 10, { 0xc7, 0x05, 0, 0, 0, 0xd0, 1, 2, 3, 4 } }, /* mov dword [abs], imm32 */
		{ EMUL_MODE_PROT32, 9, { 0x66, 0xc7, 0x05, 0, 0, 0, 0xd0, 1, 2 } },  /* mov word [abs], imm16 */
		{ EMUL_MODE_PROT32, 3, { 0x88, 0x04, 0x24 } },			/* mov [esp], al */
		{ EMUL_MODE_PROT32, 7, { 0x89, 0x84, 0x24, 1, 2, 3, 4 } },	/* mov [esp+disp32], eax */
		{ EMUL_MODE_PROT32, 3, { 0x0f, 0xc3, 0x03 } },			/* movnti [ebx], eax */
		{ EMUL_MODE_PROT32, 3, { 0x0f, 0x94, 0x00 } },			/* sete [eax] */
		{ EMUL_MODE_PROT32, 4, { 0x0f, 0x38, 0xf1, 0x00 } },		/* movbe [eax], eax */
		{ EMUL_MODE_PROT32, 4, { 0xf3, 0x0f, 0x7f, 0x00 } },		/* movdqu [eax], xmm0 */
		{ EMUL_MODE_PROT32, 4, { 0x66, 0x0f, 0xd6, 0x00 } },		/* movq [eax], xmm0 */
		{ EMUL_MODE_LONG64, 3, { 0x48, 0x89, 0x07 } },			/* mov [rdi], rax */
		{ EMUL_MODE_LONG64, 10, { 0x48, 0xa3, 0, 0, 0, 0xd0, 0, 0, 0, 0 } }, /* mov [moffs64], rax */
		{ EMUL_MODE_LONG64, 6, { 0x89, 0x05, 1, 2, 3, 4 } },		/* mov [rip+disp32], eax */
		{ EMUL_MODE_LONG64, 11, { 0x48, 0xc7, 0x80, 0, 0, 0, 0, 1, 2, 3, 4 } }, /* mov qword [rax+d32], imm32 */
		{ EMUL_MODE_REAL, 4, { 0x89, 0x06, 0x00, 0x10 } },		/* mov [0x1000], ax */
		{ EMUL_MODE_REAL, 3, { 0xa3, 0x00, 0x10 } },			/* mov [0x1000], ax */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		u8 buf[15] = { 0 };
		memcpy(buf, t[i].b, t[i].len);
		CHECK_EQ(emul_store_length(buf, 15, t[i].mode), t[i].len);
		CHECK(compare(t[i].mode, buf, 15, true));
		/* Truncated bytes are never a store. */
		CHECK_EQ(emul_store_length(buf, t[i].len - 1, t[i].mode), 0);
	}
}

TEST(not_stores)
{
	static const struct { enum emul_cpu_mode mode; u8 b[15]; } t[] = {
		{ EMUL_MODE_PROT32, { 0x8b, 0x00 } },		/* mov eax, [eax]: a load */
		{ EMUL_MODE_PROT32, { 0x01, 0x00 } },		/* add [eax], eax: read-modify-write */
		{ EMUL_MODE_PROT32, { 0x89, 0xc0 } },		/* mov eax, eax: no memory */
		{ EMUL_MODE_PROT32, { 0xab } },			/* stosd: changes EDI */
		{ EMUL_MODE_PROT32, { 0xf0, 0x89, 0x00 } },	/* lock mov: #UD */
		{ EMUL_MODE_PROT32, { 0xa1, 0, 0, 0, 0xd0 } },	/* mov eax, [moffs]: a load */
		{ EMUL_MODE_PROT32, { 0xc7, 0x08, 1, 2, 3, 4 } }, /* C7 /1: not MOV */
		{ EMUL_MODE_PROT32, { 0xf3, 0x0f, 0x7e, 0x00 } }, /* movq xmm0, [eax]: a load */
		{ EMUL_MODE_PROT32, { 0x0f, 0x10, 0x00 } },	/* movups xmm0, [eax]: a load */
		{ EMUL_MODE_LONG64, { 0xc4, 0xe1, 0x7a, 0x7f, 0x00 } }, /* VEX: left to the full path */
		{ EMUL_MODE_PROT32, { 0xff, 0x30 } },		/* push [eax]: changes ESP */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_EQ(emul_store_length(t[i].b, 15, t[i].mode), 0);
		CHECK(compare(t[i].mode, t[i].b, 15, false));
	}
}

TEST(random_bytes)
{
	u8 b[15];
	u64 bad = 0;
	for (u32 i = 0; i < 400000; i++) {
		for (u32 k = 0; k < 15; k++)
			b[k] = (u8)test_rand();
		enum emul_cpu_mode mode = (enum emul_cpu_mode)(i % EMUL_NR_MODES);
		if (!compare(mode, b, 15, false))
			bad++;
	}
	CHECK_EQ(bad, 0);
}

/* Random instructions built from the accepted opcodes. */
TEST(random_stores)
{
	static const u8 prefixes[] = { 0x66, 0x67, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
	static const u8 ops1[] = { 0x88, 0x89, 0xc6, 0xc7, 0xa2, 0xa3 };
	static const u8 ops2[] = { 0xc3, 0x11, 0x29, 0x7f, 0xe7, 0x7e, 0xd6, 0x90, 0x95, 0x9f };
	u64 bad = 0, before = accepted;
	for (u32 i = 0; i < 400000; i++) {
		u8 b[15];
		u32 n = 0;
		for (u32 k = 0; k < 15; k++)
			b[k] = (u8)test_rand();
		enum emul_cpu_mode mode = (enum emul_cpu_mode)(i % EMUL_NR_MODES);
		u32 np = (u32)(test_rand() % 3);
		for (u32 k = 0; k < np; k++)
			b[n++] = prefixes[test_rand() % sizeof(prefixes)];
		if (mode == EMUL_MODE_LONG64 && test_rand() % 2)
			b[n++] = (u8)(0x40 | (test_rand() & 0xf));
		switch (test_rand() % 3) {
		case 0: b[n++] = ops1[test_rand() % sizeof(ops1)]; break;
		case 1: b[n++] = 0x0f; b[n++] = ops2[test_rand() % sizeof(ops2)]; break;
		default: b[n++] = 0x0f; b[n++] = 0x38; b[n++] = 0xf1; break;
		}
		if (test_rand() % 2)
			b[n] &= 0xc7;	/* ModR/M reg 0: the C6/C7 and SETcc forms */
		if (!compare(mode, b, 15, true))
			bad++;
	}
	printf("  %llu buffers compared with zydis, %llu stores accepted by the fast path\n",
	       (unsigned long long)compared, (unsigned long long)accepted);
	CHECK_EQ(bad, 0);
	CHECK(accepted - before > 100000);	/* the generator really makes stores */
}

int main(void)
{
	const char *s = getenv("TEST_SEED");
	u64 seed = s ? strtoull(s, NULL, 0) : 0xfa57;
	printf("seed 0x%llx\n", (unsigned long long)seed);
	test_seed(seed);
	zydis_init();
	RUN(hand_written);
	RUN(not_stores);
	RUN(random_bytes);
	RUN(random_stores);
	return TEST_SUMMARY();
}
