/*
 * Host tests for emul/emulate.c: instructions decoded by emul/decode.c run
 * against a fake MMIO device and fake guest RAM.
 *
 * - register results: zero/sign extension, partial-register writes, AH..BH;
 * - arithmetic flags of ADD OR ADC SBB AND SUB XOR CMP TEST in every size and
 *   form, compared with the host CPU executing the same operation on the
 *   same operands through inline assembly (an independent oracle);
 * - REP STOS/MOVS/LODS with DF 0/1, counts, address-size wrap, the per-call
 *   iteration limit and the early stops (RAM-only iteration, no
 *   translation); PUSH/POP with a memory operand;
 * - linear-address computation; failures: exact errno, message, and no
 *   register change;
 * - the issue 8 forms (INC DEC NOT NEG, MUL IMUL DIV IDIV, XADD CMPXCHG
 *   CMPXCHG8B/16B, BT BTS BTR BTC, BSF BSR, SHLD SHRD, SETcc CMOVcc, MOVBE,
 *   MOVNTI): the very instruction bytes run on the host CPU and in the
 *   emulator from the same registers, flags and memory, results and the
 *   flags the SDM defines compared (#DE included);
 * - SSE/MMX moves through vreg callbacks (alignment #GP, zero extension),
 *   CMPS/SCAS with REPE/REPNE (both CMPS operands in MMIO), the stack in
 *   MMIO (PUSH POP CALL RET ENTER LEAVE), JMP/CALL through memory,
 *   exceptions as results (#PF with CR2, #SS, #GP, #DE), page-crossing
 *   accesses, LOCK through bus_lock, MOV Sreg, LTR, SMSW.
 */
#include "lib/fmt.c"
#include "emul/decode.c"
#include "emul/optab.c"
#include "emul/describe.c"
#include "emul/alu.c"
#include "emul/emulate.c"
#include "emul/exec_single.c"
#include "emul/exec_string.c"
#include "emul/exec_stack.c"
#include "tests/host/test.h"

#define MMIO_BASE  0xff000000ull	/* like the pc-testdev IORAM */
#define MMIO_SIZE  0x10000u
#define RAM_BASE   0x00100000ull
#define RAM_SIZE   0x10000u
#define MAX_MAPS   8
#define MAX_LOG    64

/* The guest's memory: one MMIO window, one RAM window, a page map for
 * translate (pages not listed translate to themselves), an access log, and
 * an injectable failure. */
struct fake {
	u8 mmio[MMIO_SIZE];
	u8 ram[RAM_SIZE];
	struct { u64 gla_page, gpa_page; bool present; } map[MAX_MAPS];
	unsigned nmaps;
	int mmio_reads, mmio_writes, mem_reads, mem_writes, translates, bad;
	u64 log_gpa[MAX_LOG];		/* gpa of every access, in order */
	u32 log_size[MAX_LOG];
	bool log_write[MAX_LOG];
	unsigned nlog;
	u64 fail_gpa;			/* an access here fails with fail_rc */
	int fail_rc;
	bool fail_writes_only;
};

static struct fake fake;

static void fake_log(struct fake *f, u64 gpa, u32 size, bool write)
{
	if (f->nlog < MAX_LOG) {
		f->log_gpa[f->nlog] = gpa;
		f->log_size[f->nlog] = size;
		f->log_write[f->nlog] = write;
	}
	f->nlog++;
}

/* Copies between buf and window [base, base+size) at gpa; -EIO (and a
 * counted bad access) outside it. */
static int fake_copy(struct fake *f, u8 *win, u64 base, u32 wsize, u64 gpa,
		     void *buf, u32 size, bool write)
{
	if (size != 1 && size != 2 && size != 4 && size != 8) {
		f->bad++;
		return -EIO;
	}
	if (gpa < base || gpa + size > base + wsize) {
		f->bad++;
		return -EIO;
	}
	fake_log(f, gpa, size, write);
	if (f->fail_rc && gpa == f->fail_gpa && (write || !f->fail_writes_only))
		return f->fail_rc;
	if (write)
		memcpy(win + (gpa - base), buf, size);
	else
		memcpy(buf, win + (gpa - base), size);
	return 0;
}

static int fake_mmio_read(void *opaque, u64 gpa, void *buf, u32 size)
{
	struct fake *f = opaque;
	f->mmio_reads++;
	return fake_copy(f, f->mmio, MMIO_BASE, MMIO_SIZE, gpa, buf, size, false);
}

static int fake_mmio_write(void *opaque, u64 gpa, void *buf, u32 size)
{
	struct fake *f = opaque;
	f->mmio_writes++;
	return fake_copy(f, f->mmio, MMIO_BASE, MMIO_SIZE, gpa, buf, size, true);
}

static int fake_mem_read(void *opaque, u64 gpa, void *buf, u32 size)
{
	struct fake *f = opaque;
	f->mem_reads++;
	return fake_copy(f, f->ram, RAM_BASE, RAM_SIZE, gpa, buf, size, false);
}

static int fake_mem_write(void *opaque, u64 gpa, void *buf, u32 size)
{
	struct fake *f = opaque;
	f->mem_writes++;
	return fake_copy(f, f->ram, RAM_BASE, RAM_SIZE, gpa, buf, size, true);
}

static int fake_translate(void *opaque, u64 gla, bool write, u64 *gpa)
{
	struct fake *f = opaque;
	u64 page = gla & ~(PAGE_SIZE - 1);

	(void)write;
	f->translates++;
	for (unsigned i = 0; i < f->nmaps; i++) {
		if (f->map[i].gla_page != page)
			continue;
		if (!f->map[i].present)
			return -EFAULT;
		*gpa = f->map[i].gpa_page | (gla & (PAGE_SIZE - 1));
		return 0;
	}
	*gpa = gla;
	return 0;
}

static bool fake_is_mmio(void *opaque, u64 gpa)
{
	(void)opaque;
	return gpa >= MMIO_BASE && gpa < MMIO_BASE + MMIO_SIZE;
}

static void fake_map(struct fake *f, u64 gla_page, u64 gpa_page, bool present)
{
	ASSERT(f->nmaps < MAX_MAPS);
	f->map[f->nmaps].gla_page = gla_page;
	f->map[f->nmaps].gpa_page = gpa_page;
	f->map[f->nmaps].present = present;
	f->nmaps++;
}

static u64 mmio_get(u64 gpa, unsigned size)
{
	u64 v = 0;
	memcpy(&v, &fake.mmio[gpa - MMIO_BASE], size);
	return v;
}

static void mmio_put(u64 gpa, u64 v, unsigned size)
{
	memcpy(&fake.mmio[gpa - MMIO_BASE], &v, size);
}

static u64 ram_get(u64 gpa, unsigned size)
{
	u64 v = 0;
	memcpy(&v, &fake.ram[gpa - RAM_BASE], size);
	return v;
}

static void ram_put(u64 gpa, u64 v, unsigned size)
{
	memcpy(&fake.ram[gpa - RAM_BASE], &v, size);
}

/* A context wired to the fake, whose log, maps and failure are reset (its
 * memory is kept); RFLAGS has only its fixed bit 1. */
static void setup_ctx(struct emul_ctx *ctx)
{
	memset((u8 *)&fake + offsetof(struct fake, map), 0,
	       sizeof(fake) - offsetof(struct fake, map));
	memset(ctx, 0, sizeof(*ctx));
	ctx->rflags = 0x2;
	ctx->opaque = &fake;
	ctx->translate = fake_translate;
	ctx->is_mmio = fake_is_mmio;
	ctx->mmio_read = fake_mmio_read;
	ctx->mmio_write = fake_mmio_write;
	ctx->mem_read = fake_mem_read;
	ctx->mem_write = fake_mem_write;
	ctx->gpa = MMIO_BASE;
}

/* A fresh fake (zeroed memory) and a context wired to it. */
static void setup(struct emul_ctx *ctx)
{
	memset(&fake, 0, sizeof(fake));
	setup_ctx(ctx);
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

#define DECODE_FAILED (-1000)

/* Decodes hex in mode and executes it; returns emul_execute's result, or
 * DECODE_FAILED. */
static int run(struct emul_ctx *ctx, enum emul_cpu_mode mode, const char *hex)
{
	struct emul_insn in;
	u8 b[EMUL_INSN_MAX_LEN];
	size_t n = parse_hex(hex, b);

	if (emul_decode(b, n, mode, &in) != (int)n) {
		printf("  %s: decode failed: %s\n", hex, in.why);
		return DECODE_FAILED;
	}
	return emul_execute(&in, ctx);
}

#define L64 EMUL_MODE_LONG64
#define P32 EMUL_MODE_PROT32
#define P16 EMUL_MODE_PROT16
#define REAL EMUL_MODE_REAL

static u64 gla_of(struct emul_ctx *c, enum emul_cpu_mode mode, const char *hex)
{
	struct emul_insn in;
	u8 b[EMUL_INSN_MAX_LEN];
	size_t n = parse_hex(hex, b);

	if (emul_decode(b, n, mode, &in) != (int)n)
		return ~0ull;
	return emul_mem_gla(&in, c);
}

/* ---- MOV and friends ---------------------------------------------------- */

TEST(test_mov_store)
{
	struct emul_ctx c;

	setup(&c);
	c.gprs[EMUL_REG_RCX] = 0x1122334455667788ull;
	CHECK_EQ(run(&c, L64, "89 08"), 2);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0x55667788);
	CHECK_EQ(fake.mmio_writes, 1);
	CHECK_EQ(fake.log_size[0], 4);
	CHECK_EQ(fake.mmio_reads, 0);

	setup(&c);
	c.gprs[EMUL_REG_RCX] = 0x1122334455667788ull;
	c.gpa = MMIO_BASE + 0x10;
	CHECK_EQ(run(&c, L64, "48 89 48 10"), 4);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x10, 8), 0x1122334455667788ull);

	setup(&c);
	c.gprs[EMUL_REG_RCX] = 0x1122334455667788ull;
	CHECK_EQ(run(&c, L64, "66 89 08"), 3);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0x7788);

	/* AH without REX, SPL with it, R8B with REX.R. */
	setup(&c);
	c.gprs[EMUL_REG_RAX] = 0xa1b2;
	c.gprs[EMUL_REG_RSP] = 0x5c;
	c.gprs[EMUL_REG_R8] = 0x1234567890abcdefull;
	CHECK_EQ(run(&c, L64, "88 20"), 2);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0xa1);
	CHECK_EQ(run(&c, L64, "40 88 20"), 3);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0x5c);
	CHECK_EQ(run(&c, L64, "44 88 00"), 3);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0xef);

	/* Immediates: byte, dword, sign-extended imm32 into a qword. */
	setup(&c);
	CHECK_EQ(run(&c, L64, "48 c7 00 fe ff ff ff"), 7);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0xfffffffffffffffeull);
	CHECK_EQ(run(&c, L64, "c7 00 78 56 34 12"), 6);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0xffffffff12345678ull);
	CHECK_EQ(run(&c, L64, "c6 00 05"), 3);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0xffffffff12345605ull);
	CHECK_EQ(run(&c, L64, "66 c7 00 cd ab"), 5);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0xffffffff1234abcdull);

	/* moffs store of AL and of EAX (32-bit mode). */
	setup(&c);
	c.gprs[EMUL_REG_RAX] = 0xcafef00d;
	c.gpa = MMIO_BASE + 0x20;
	CHECK_EQ(run(&c, L64, "a2 20 00 00 ff 00 00 00 00"), 9);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x20, 4), 0x0d);
	CHECK_EQ(run(&c, P32, "a3 20 00 00 ff"), 5);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x20, 4), 0xcafef00d);
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0xcafef00d);
	CHECK_EQ(fake.bad, 0);
}

TEST(test_mov_load)
{
	struct emul_ctx c;

	/* A 32-bit load zero-extends into the full register. */
	setup(&c);
	mmio_put(MMIO_BASE, 0x8badf00ddeadbeefull, 8);
	c.gprs[EMUL_REG_RCX] = ~0ull;
	CHECK_EQ(run(&c, L64, "8b 08"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0xdeadbeef);
	CHECK_EQ(fake.log_size[0], 4);
	CHECK_EQ(c.rflags, 0x2);

	CHECK_EQ(run(&c, L64, "48 8b 08"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x8badf00ddeadbeefull);

	/* 16- and 8-bit loads keep the other bits. */
	c.gprs[EMUL_REG_RCX] = 0x1111111111111111ull;
	CHECK_EQ(run(&c, L64, "66 8b 08"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x111111111111beefull);
	c.gprs[EMUL_REG_RCX] = 0x1111111111111111ull;
	CHECK_EQ(run(&c, L64, "8a 08"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x11111111111111efull);
	c.gprs[EMUL_REG_RCX] = 0x1111111111111111ull;
	CHECK_EQ(run(&c, L64, "8a 28"), 2);		/* ch */
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x111111111111ef11ull);
	c.gprs[EMUL_REG_RBP] = 0x1111111111111111ull;
	CHECK_EQ(run(&c, L64, "40 8a 28"), 3);		/* bpl */
	CHECK_EQ(c.gprs[EMUL_REG_RBP], 0x11111111111111efull);
	c.gprs[EMUL_REG_R13] = 0x1111111111111111ull;
	CHECK_EQ(run(&c, L64, "44 8a 28"), 3);		/* r13b */
	CHECK_EQ(c.gprs[EMUL_REG_R13], 0x11111111111111efull);
	c.gprs[EMUL_REG_R9] = ~0ull;
	CHECK_EQ(run(&c, L64, "44 8b 08"), 3);		/* r9d */
	CHECK_EQ(c.gprs[EMUL_REG_R9], 0xdeadbeef);

	/* moffs loads; 16-bit and 32-bit modes. */
	c.gprs[EMUL_REG_RAX] = 0x1111111111111111ull;
	CHECK_EQ(run(&c, L64, "a0 00 00 00 ff 00 00 00 00"), 9);
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0x11111111111111efull);
	CHECK_EQ(run(&c, L64, "48 a1 00 00 00 ff 00 00 00 00"), 10);
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0x8badf00ddeadbeefull);
	c.gprs[EMUL_REG_RBX] = 0x1111111111111111ull;
	CHECK_EQ(run(&c, REAL, "8b 1f"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RBX], 0x111111111111beefull);
	CHECK_EQ(run(&c, P32, "8b 1d 00 00 00 ff"), 6);
	CHECK_EQ(c.gprs[EMUL_REG_RBX], 0xdeadbeef);
	CHECK_EQ(fake.mmio_writes, 0);
	CHECK_EQ(fake.bad, 0);
}

TEST(test_movzx_movsx)
{
	struct emul_ctx c;

	setup(&c);
	mmio_put(MMIO_BASE, 0x80008080ull, 8);
	c.gprs[EMUL_REG_RCX] = ~0ull;
	CHECK_EQ(run(&c, L64, "0f b6 08"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x80);
	CHECK_EQ(fake.log_size[0], 1);
	CHECK_EQ(run(&c, L64, "0f be 08"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0xffffff80);
	CHECK_EQ(run(&c, L64, "48 0f be 08"), 4);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0xffffffffffffff80ull);
	c.gprs[EMUL_REG_RCX] = 0x1111111111111111ull;
	CHECK_EQ(run(&c, L64, "66 0f be 08"), 4);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x111111111111ff80ull);
	c.gprs[EMUL_REG_RCX] = 0x1111111111111111ull;
	CHECK_EQ(run(&c, L64, "66 0f b6 08"), 4);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x1111111111110080ull);

	mmio_put(MMIO_BASE, 0x80008000ull, 8);
	CHECK_EQ(run(&c, L64, "0f b7 08"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x8000);
	CHECK_EQ(fake.log_size[fake.nlog - 1], 2);
	CHECK_EQ(run(&c, L64, "0f bf 08"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0xffff8000);
	CHECK_EQ(run(&c, L64, "48 0f bf 08"), 4);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0xffffffffffff8000ull);
	CHECK_EQ(run(&c, L64, "48 63 08"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0xffffffff80008000ull);
	CHECK_EQ(fake.log_size[fake.nlog - 1], 4);
	mmio_put(MMIO_BASE, 0x7fffffffull, 8);
	CHECK_EQ(run(&c, L64, "4c 63 08"), 3);		/* r9 */
	CHECK_EQ(c.gprs[EMUL_REG_R9], 0x7fffffff);
	/* 16-bit mode: MOVZX into a 16-bit register. */
	mmio_put(MMIO_BASE, 0xf0ull, 8);
	c.gprs[EMUL_REG_RAX] = 0xaaaaaaaa;
	CHECK_EQ(run(&c, REAL, "0f be 07"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0xaaaafff0);
	CHECK_EQ(fake.mmio_writes, 0);
	CHECK_EQ(fake.bad, 0);
}

/* ---- flags against the host CPU ----------------------------------------- */

/* Runs "op b, a" (AT&T: a = a op b) on the host with the arithmetic flags
 * preset from fi; returns a and the flags after. The stack pointer moves
 * below the red zone around the push/pop. */
#define HOST_ALU(mn, sfx, m)                                                   \
	asm volatile("lea -128(%%rsp), %%rsp\n\t"                              \
		     "push %[fi]\n\t"                                          \
		     "popfq\n\t"                                               \
		     mn sfx " %" m "[b], %" m "[a]\n\t"                        \
		     "pushfq\n\t"                                              \
		     "pop %[fo]\n\t"                                           \
		     "lea 128(%%rsp), %%rsp"                                   \
		     : [a] "+r"(a), [fo] "=&r"(fo)                             \
		     : [b] "r"(b), [fi] "r"(fi)                                \
		     : "cc", "memory")

#define HOST_CASE(type, mn)                                                    \
	case type:                                                             \
		if (size == 1)                                                 \
			HOST_ALU(mn, "b", "b");                                \
		else if (size == 2)                                            \
			HOST_ALU(mn, "w", "w");                                \
		else if (size == 4)                                            \
			HOST_ALU(mn, "l", "k");                                \
		else                                                           \
			HOST_ALU(mn, "q", "q");                                \
		break

static u64 host_alu(u8 type, u8 size, u64 a, u64 b, u64 fi, u64 *flags)
{
	u64 fo = 0;

	switch (type) {
	HOST_CASE(EMUL_OP_ADD, "add");
	HOST_CASE(EMUL_OP_OR, "or");
	HOST_CASE(EMUL_OP_ADC, "adc");
	HOST_CASE(EMUL_OP_SBB, "sbb");
	HOST_CASE(EMUL_OP_AND, "and");
	HOST_CASE(EMUL_OP_SUB, "sub");
	HOST_CASE(EMUL_OP_XOR, "xor");
	HOST_CASE(EMUL_OP_CMP, "cmp");
	HOST_CASE(EMUL_OP_TEST, "test");
	default:
		ASSERT(0);
	}
	*flags = fo;
	return a & emul_size_mask(size);
}

enum form { FORM_MEM_DST, FORM_REG_DST, FORM_IMM, NR_FORMS };

/* Opcode rows of SDM Vol. 2D Table A-2 and the group 1 /digit, by op. */
static const u8 alu_row[] = {
	[EMUL_OP_ADD] = 0x00, [EMUL_OP_OR] = 0x08, [EMUL_OP_ADC] = 0x10,
	[EMUL_OP_SBB] = 0x18, [EMUL_OP_AND] = 0x20, [EMUL_OP_SUB] = 0x28,
	[EMUL_OP_XOR] = 0x30, [EMUL_OP_CMP] = 0x38, [EMUL_OP_TEST] = 0x84,
};
static const u8 group1_digit[] = {
	[EMUL_OP_ADD] = 0, [EMUL_OP_OR] = 1, [EMUL_OP_ADC] = 2, [EMUL_OP_SBB] = 3,
	[EMUL_OP_AND] = 4, [EMUL_OP_SUB] = 5, [EMUL_OP_XOR] = 6, [EMUL_OP_CMP] = 7,
	[EMUL_OP_TEST] = 0,
};

/*
 * Encodes "op [rax], rcx", "op rcx, [rax]" or "op [rax], imm" of size bytes.
 * For the immediate form *b is replaced by the value the immediate really
 * has (sign-extended ib or iz). Returns the length.
 */
static size_t alu_encode(u8 type, u8 size, enum form form, u64 *b, u8 *out)
{
	size_t n = 0;
	bool test = type == EMUL_OP_TEST;

	if (size == 2)
		out[n++] = 0x66;
	if (size == 8)
		out[n++] = 0x48;
	if (form == FORM_IMM) {
		bool ib = size == 1 || (!test && (*b & 1));	/* 83 or 81 */
		unsigned isz = ib ? 1 : size == 2 ? 2 : 4;

		out[n++] = test ? (size == 1 ? 0xf6 : 0xf7)
				: (size == 1 ? 0x80 : ib ? 0x83 : 0x81);
		out[n++] = (u8)(group1_digit[type] << 3);
		*b = emul_sign_extend(*b & emul_size_mask((u8)isz), (u8)isz);
		for (unsigned i = 0; i < isz; i++)
			out[n++] = (u8)(*b >> (8 * i));
	} else {
		out[n++] = (u8)(alu_row[type] + (size != 1) + (form == FORM_REG_DST ? 2 : 0));
		out[n++] = 0x08;	/* mod 00, reg rcx, rm [rax] */
	}
	return n;
}

static const u64 edge_values[] = {
	0, 1, 2, 0xf, 0x10, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
	0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
	0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull,
};

TEST(test_flags_vs_host)
{
	static const u8 ops[] = { EMUL_OP_ADD, EMUL_OP_OR, EMUL_OP_ADC, EMUL_OP_SBB,
				  EMUL_OP_AND, EMUL_OP_SUB, EMUL_OP_XOR, EMUL_OP_CMP,
				  EMUL_OP_TEST };
	static const u8 sizes[] = { 1, 2, 4, 8 };
	const size_t nedge = ARRAY_SIZE(edge_values);
	long runs = 0, bad = 0;

	test_seed(0xf1a65);
	for (size_t oi = 0; oi < ARRAY_SIZE(ops); oi++)
	for (size_t si = 0; si < ARRAY_SIZE(sizes); si++)
	for (int form = 0; form < NR_FORMS; form++)
	for (size_t k = 0; k < nedge * nedge + 400; k++) {
		u8 type = ops[oi], size = sizes[si];
		bool logic = type == EMUL_OP_AND || type == EMUL_OP_OR ||
			     type == EMUL_OP_XOR || type == EMUL_OP_TEST;
		bool writes = type != EMUL_OP_CMP && type != EMUL_OP_TEST;
		u64 a = k < nedge * nedge ? edge_values[k / nedge] : test_rand();
		u64 b = k < nedge * nedge ? edge_values[k % nedge] : test_rand();
		u64 fin = 0x202 | (test_rand() & RFLAGS_ARITH);
		u64 mask = emul_size_mask(size), hflags, res, got, fmask;
		struct emul_insn in;
		struct emul_ctx c;
		u8 bytes[16];
		size_t n;

		if (type == EMUL_OP_TEST && form == FORM_REG_DST)
			continue;
		n = alu_encode(type, size, (enum form)form, &b, bytes);
		if (emul_decode(bytes, n, L64, &in) != (int)n) {
			bad++;
			continue;
		}
		res = host_alu(type, size, a, b, fin, &hflags);

		setup_ctx(&c);
		c.rflags = fin;
		c.gprs[EMUL_REG_RCX] = form == FORM_REG_DST ? a : b;
		mmio_put(MMIO_BASE, form == FORM_REG_DST ? b : a, 8);
		if (emul_execute(&in, &c) != (int)n) {
			bad++;
			continue;
		}
		if (form == FORM_REG_DST) {
			u64 before = a;
			u64 want = !writes ? before
				   : size == 4 ? res
				   : size == 8 ? res : (before & ~mask) | res;
			got = c.gprs[EMUL_REG_RCX];
			if (got != want)
				goto fail;
		} else {
			got = mmio_get(MMIO_BASE, 8);
			if (got != ((a & ~mask) | (writes ? res : a & mask)))
				goto fail;
		}
		/* AF is undefined after logic ops: ours is documented 0. */
		fmask = RFLAGS_CF | RFLAGS_PF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF |
			(logic ? 0 : RFLAGS_AF);
		if ((c.rflags & fmask) != (hflags & fmask))
			goto fail;
		if (logic && (c.rflags & RFLAGS_AF))
			goto fail;
		if ((c.rflags & ~RFLAGS_ARITH) != (fin & ~RFLAGS_ARITH))
			goto fail;
		runs++;
		continue;
fail:
		if (bad++ < 10)
			printf("  %s size %u form %d a=0x%llx b=0x%llx fin=0x%llx: got 0x%llx "
			       "flags 0x%llx, host 0x%llx flags 0x%llx\n", emul_mnemonics[type],
			       size, form, a, b, fin, got, c.rflags, res, hflags);
	}
	printf("  %ld operations agree with the host CPU\n", runs);
	CHECK_EQ(bad, 0);
	CHECK(runs > 30000);
}

/* A few flag results written out, so a wrong oracle cannot hide a bug. */
TEST(test_flags_known)
{
	struct emul_ctx c;

	setup(&c);
	mmio_put(MMIO_BASE, 0xff, 1);
	CHECK_EQ(run(&c, L64, "80 00 01"), 3);		/* add byte 0xff + 1 */
	CHECK_EQ(mmio_get(MMIO_BASE, 1), 0);
	CHECK_EQ(c.rflags, 0x2 | RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF);
	mmio_put(MMIO_BASE, 0x7fffffff, 4);
	CHECK_EQ(run(&c, L64, "83 00 01"), 3);		/* add dword 0x7fffffff + 1 */
	CHECK_EQ(mmio_get(MMIO_BASE, 4), 0x80000000);
	CHECK_EQ(c.rflags, 0x2 | RFLAGS_PF | RFLAGS_AF | RFLAGS_SF | RFLAGS_OF);
	mmio_put(MMIO_BASE, 0, 8);
	CHECK_EQ(run(&c, L64, "48 83 38 01"), 4);	/* cmp qword 0, 1 */
	CHECK_EQ(c.rflags, 0x2 | RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_SF);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0);
	c.rflags = 0x2 | RFLAGS_CF;
	mmio_put(MMIO_BASE, 5, 4);
	CHECK_EQ(run(&c, L64, "83 18 05"), 3);		/* sbb 5 - 5 - CF */
	CHECK_EQ(mmio_get(MMIO_BASE, 4), 0xffffffff);
	CHECK_EQ(c.rflags, 0x2 | RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_SF);
	c.rflags = 0x2 | RFLAGS_CF | RFLAGS_OF | RFLAGS_AF | RFLAGS_DF;
	mmio_put(MMIO_BASE, 0x0f0, 2);
	CHECK_EQ(run(&c, L64, "66 f7 00 0f 00"), 5);	/* test word 0xf0, 0xf */
	CHECK_EQ(c.rflags, 0x2 | RFLAGS_ZF | RFLAGS_PF | RFLAGS_DF);
	CHECK_EQ(mmio_get(MMIO_BASE, 2), 0x0f0);
	CHECK_EQ(fake.bad, 0);
}

/* ---- partial registers, XCHG, BT ---------------------------------------- */

TEST(test_partial_registers)
{
	struct emul_ctx c;

	setup(&c);
	mmio_put(MMIO_BASE, 0x0f, 1);
	c.gprs[EMUL_REG_RCX] = 0x1111111111113311ull;
	CHECK_EQ(run(&c, L64, "0a 2b"), 2);		/* or ch, [rbx] */
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x1111111111113f11ull);
	CHECK_EQ(run(&c, L64, "22 23"), 2);		/* and ah, [rbx] */
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0);
	c.gprs[EMUL_REG_RSI] = 0xffffffffffffff01ull;
	CHECK_EQ(run(&c, L64, "40 02 33"), 3);		/* add sil, [rbx] */
	CHECK_EQ(c.gprs[EMUL_REG_RSI], 0xffffffffffffff10ull);

	/* 32-bit ALU results zero-extend, 16-bit ones merge, CMP writes nothing. */
	mmio_put(MMIO_BASE, 0x00010001, 4);
	c.gprs[EMUL_REG_RCX] = 0xffffffff00000001ull;
	CHECK_EQ(run(&c, L64, "03 0b"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x00010002);
	c.gprs[EMUL_REG_RCX] = 0xffffffff00000001ull;
	CHECK_EQ(run(&c, L64, "66 03 0b"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0xffffffff00000002ull);
	c.gprs[EMUL_REG_RCX] = 0xffffffff00000001ull;
	CHECK_EQ(run(&c, L64, "3b 0b"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0xffffffff00000001ull);
	CHECK_EQ(run(&c, L64, "85 0b"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0xffffffff00000001ull);
	CHECK_EQ(fake.mmio_writes, 0);
	CHECK_EQ(fake.bad, 0);
}

TEST(test_xchg)
{
	struct emul_ctx c;

	setup(&c);
	mmio_put(MMIO_BASE, 0x1111111133333333ull, 8);
	c.gprs[EMUL_REG_RCX] = 0xffffffff22222222ull;
	CHECK_EQ(run(&c, L64, "87 08"), 2);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0x1111111122222222ull);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x33333333);
	CHECK_EQ(fake.mmio_reads, 1);
	CHECK_EQ(fake.mmio_writes, 1);

	c.gprs[EMUL_REG_RAX] = 0x5a00;
	CHECK_EQ(run(&c, L64, "f0 86 20"), 3);		/* lock xchg [rax], ah */
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0x111111112222225aull);
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0x2200);
	CHECK_EQ(fake.bad, 0);
}

TEST(test_bt)
{
	struct emul_ctx c;
	u64 keep = 0x2 | RFLAGS_ZF | RFLAGS_OF;

	setup(&c);
	mmio_put(MMIO_BASE, 0x20, 4);
	c.rflags = keep;
	CHECK_EQ(run(&c, L64, "0f ba 20 05"), 4);
	CHECK_EQ(c.rflags, keep | RFLAGS_CF);
	CHECK_EQ(run(&c, L64, "0f ba 20 04"), 4);
	CHECK_EQ(c.rflags, keep);
	CHECK_EQ(run(&c, L64, "0f ba 20 25"), 4);	/* 37 mod 32 = 5 */
	CHECK_EQ(c.rflags, keep | RFLAGS_CF);
	CHECK_EQ(run(&c, L64, "66 0f ba 20 15"), 5);	/* 21 mod 16 = 5 */
	CHECK_EQ(c.rflags, keep | RFLAGS_CF);
	c.gprs[EMUL_REG_RCX] = 5;
	c.rflags = 0x2;
	CHECK_EQ(run(&c, L64, "0f a3 08"), 3);
	CHECK_EQ(c.rflags, 0x2 | RFLAGS_CF);
	mmio_put(MMIO_BASE, 1ull << 63, 8);
	c.gprs[EMUL_REG_RCX] = 63;
	CHECK_EQ(run(&c, L64, "48 0f a3 08"), 4);
	CHECK_EQ(c.rflags, 0x2 | RFLAGS_CF);
	CHECK_EQ(fake.mmio_writes, 0);

	/* A register offset outside the operand addresses another word: the
	 * exit reports that word (EA + 4 * (offset DIV 32)), and
	 * emul_mem_gla() names it. */
	setup(&c);
	mmio_put(MMIO_BASE + 4, 0x100, 4);
	c.gprs[EMUL_REG_RAX] = 0x5000;
	c.gprs[EMUL_REG_RCX] = 40;
	c.gpa = MMIO_BASE + 4;
	CHECK_EQ(run(&c, L64, "0f a3 08"), 3);
	CHECK_EQ(c.rflags, 0x2 | RFLAGS_CF);
	CHECK_EQ(fake.log_gpa[0], MMIO_BASE + 4);
	CHECK_EQ(gla_of(&c, L64, "0f a3 08"), 0x5004);
	c.gprs[EMUL_REG_RCX] = 0xffffffff;		/* -1: bit 31 of [rax-4] */
	mmio_put(MMIO_BASE, 0x80000000, 4);
	c.gpa = MMIO_BASE;
	CHECK_EQ(gla_of(&c, L64, "0f a3 08"), 0x4ffc);
	CHECK_EQ(run(&c, L64, "0f ab 08"), 3);		/* bts */
	CHECK_EQ(c.rflags, 0x2 | RFLAGS_CF);
	CHECK_EQ(mmio_get(MMIO_BASE, 4), 0x80000000);
	c.gprs[EMUL_REG_RCX] = (u64)-129;		/* qword: bit 63 of [rax-24] */
	CHECK_EQ(gla_of(&c, L64, "48 0f a3 08"), 0x5000 - 24);
	c.gprs[EMUL_REG_RCX] = 0x7fff;			/* word: [rax + 2*0x7ff] */
	CHECK_EQ(gla_of(&c, L64, "66 0f a3 08"), 0x5000 + 0xffe);
	/* 16-bit addressing wraps the displaced offset. */
	c.gprs[EMUL_REG_RBX] = 0xfffe;
	c.gprs[EMUL_REG_RCX] = 32;
	CHECK_EQ(gla_of(&c, REAL, "0f a3 0f"), 0x0002);
	CHECK_EQ(fake.bad, 0);
}

/* ---- string instructions ------------------------------------------------ */

TEST(test_stos)
{
	struct emul_ctx c;

	/* Without REP: one store at the exit's gpa, no translation. */
	setup(&c);
	c.translate = NULL;
	c.is_mmio = NULL;
	c.gprs[EMUL_REG_RAX] = 0xaabbccdd;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE + 0x100;
	c.gpa = MMIO_BASE + 0x100;
	CHECK_EQ(run(&c, L64, "ab"), 1);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x100, 4), 0xaabbccdd);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE + 0x104);
	c.rflags |= RFLAGS_DF;
	c.gpa = MMIO_BASE + 0x104;
	CHECK_EQ(run(&c, L64, "aa"), 1);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE + 0x103);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x104, 1), 0xdd);

	/* REP STOSD upwards, count 5. */
	setup(&c);
	c.gprs[EMUL_REG_RAX] = 0x11223344;
	c.gprs[EMUL_REG_RCX] = 5;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE + 0x200;
	c.gpa = MMIO_BASE + 0x200;
	CHECK_EQ(run(&c, L64, "f3 ab"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE + 0x214);
	CHECK_EQ(c.rep_done, 5);
	CHECK_EQ(fake.mmio_writes, 5);
	for (unsigned i = 0; i < 5; i++) {
		CHECK_EQ(fake.log_gpa[i], MMIO_BASE + 0x200 + 4 * i);
		CHECK_EQ(mmio_get(MMIO_BASE + 0x200 + 4 * i, 4), 0x11223344);
	}
	CHECK_EQ(mmio_get(MMIO_BASE + 0x214, 4), 0);

	/* REP STOSB downwards (DF=1), count 3. */
	setup(&c);
	c.rflags |= RFLAGS_DF;
	c.gprs[EMUL_REG_RAX] = 0x7e;
	c.gprs[EMUL_REG_RCX] = 3;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE + 0x302;
	c.gpa = MMIO_BASE + 0x302;
	CHECK_EQ(run(&c, L64, "f3 aa"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE + 0x2ff);
	CHECK_EQ(fake.log_gpa[0], MMIO_BASE + 0x302);
	CHECK_EQ(fake.log_gpa[1], MMIO_BASE + 0x301);
	CHECK_EQ(fake.log_gpa[2], MMIO_BASE + 0x300);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x2ff, 8), 0x7e7e7e00);

	/* REP with count 0 does nothing and completes. */
	setup(&c);
	c.gprs[EMUL_REG_RDI] = MMIO_BASE;
	CHECK_EQ(run(&c, L64, "f3 48 ab"), 3);
	CHECK_EQ(fake.nlog, 0);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE);
	CHECK_EQ(c.rep_done, 0);

	/* The per-call limit: 10 qwords in calls of 4, 4, 2. */
	setup(&c);
	c.rep_limit = 4;
	c.gprs[EMUL_REG_RAX] = 0x0102030405060708ull;
	c.gprs[EMUL_REG_RCX] = 10;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE + 0x400;
	c.gpa = MMIO_BASE + 0x400;
	CHECK_EQ(run(&c, L64, "f3 48 ab"), 0);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 6);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE + 0x420);
	CHECK_EQ(c.rep_done, 4);
	c.gpa = c.gprs[EMUL_REG_RDI];
	CHECK_EQ(run(&c, L64, "f3 48 ab"), 0);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 2);
	c.gpa = c.gprs[EMUL_REG_RDI];
	CHECK_EQ(run(&c, L64, "f3 48 ab"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE + 0x450);
	CHECK_EQ(fake.mmio_writes, 10);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x448, 8), 0x0102030405060708ull);
	CHECK_EQ(fake.bad, 0);
}

TEST(test_rep_early_stops)
{
	struct emul_ctx c;
	const u64 gla = 0x40000000;

	/* MMIO page then RAM page: the RAM iterations are left to the guest. */
	setup(&c);
	fake_map(&fake, gla, MMIO_BASE, true);
	fake_map(&fake, gla + PAGE_SIZE, RAM_BASE, true);
	c.gprs[EMUL_REG_RAX] = 0x99;
	c.gprs[EMUL_REG_RCX] = 5;
	c.gprs[EMUL_REG_RDI] = gla + PAGE_SIZE - 2;
	c.gpa = MMIO_BASE + PAGE_SIZE - 2;
	CHECK_EQ(run(&c, L64, "f3 aa"), 0);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 3);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], gla + PAGE_SIZE);
	CHECK_EQ(fake.mmio_writes, 2);
	CHECK_EQ(fake.mem_writes, 0);

	/* MMIO page then an unmapped page: stop, the guest takes the #PF. */
	setup(&c);
	fake_map(&fake, gla, MMIO_BASE, true);
	fake_map(&fake, gla + PAGE_SIZE, 0, false);
	c.gprs[EMUL_REG_RCX] = 5;
	c.gprs[EMUL_REG_RDI] = gla + PAGE_SIZE - 4;
	c.gpa = MMIO_BASE + PAGE_SIZE - 4;
	CHECK_EQ(run(&c, L64, "f3 66 ab"), 0);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 3);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], gla + PAGE_SIZE);
	CHECK_EQ(fake.mmio_writes, 2);

	/* REP STOS beyond one element needs translate and is_mmio. */
	setup(&c);
	c.translate = NULL;
	c.gprs[EMUL_REG_RCX] = 2;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE;
	CHECK_EQ(run(&c, L64, "f3 aa"), -EOPNOTSUPP);
	CHECK_STR(c.why, "rep needs translate and is_mmio");
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 2);
	CHECK_EQ(fake.nlog, 0);
	CHECK_EQ(fake.bad, 0);
}

TEST(test_rep_address_size)
{
	struct emul_ctx c;

	/* Real mode: DI wraps within the 64 KiB segment, ES base applies,
	 * bits above 15 of RDI and RCX stay. */
	setup(&c);
	c.seg_base[EMUL_SEG_ES] = 0x10000;
	fake_map(&fake, 0x10000, MMIO_BASE, true);
	c.gprs[EMUL_REG_RAX] = 0xab;
	c.gprs[EMUL_REG_RCX] = 0x55550002;
	c.gprs[EMUL_REG_RDI] = 0x7777ffff;
	c.gpa = MMIO_BASE + PAGE_SIZE + 0xfff;
	CHECK_EQ(run(&c, REAL, "f3 aa"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x55550000);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], 0x77770001);
	CHECK_EQ(fake.nlog, 2);
	CHECK_EQ(fake.log_gpa[0], MMIO_BASE + PAGE_SIZE + 0xfff);
	CHECK_EQ(fake.log_gpa[1], MMIO_BASE);
	CHECK_EQ(mmio_get(MMIO_BASE, 1), 0xab);

	/* 64-bit mode with 67: ECX and EDI, written back zero-extended; the
	 * ES base is ignored. */
	setup(&c);
	c.seg_base[EMUL_SEG_ES] = 0x12340000;
	c.gprs[EMUL_REG_RCX] = 0xffffffff00000002ull;
	c.gprs[EMUL_REG_RDI] = 0xffffffff00000000ull | (MMIO_BASE + 0x10);
	c.gpa = MMIO_BASE + 0x10;
	CHECK_EQ(run(&c, L64, "67 f3 ab"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE + 0x18);
	CHECK_EQ(fake.log_gpa[1], MMIO_BASE + 0x14);

	/* 32-bit protected mode: the ES base applies. */
	setup(&c);
	c.seg_base[EMUL_SEG_ES] = 0x1000;
	c.gprs[EMUL_REG_RCX] = 2;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE - 0x1000;
	c.gpa = MMIO_BASE;
	CHECK_EQ(run(&c, P32, "f3 ab"), 2);
	CHECK_EQ(fake.log_gpa[1], MMIO_BASE + 4);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE - 0x1000 + 8);
	CHECK_EQ(fake.bad, 0);
}

TEST(test_movs)
{
	struct emul_ctx c;

	/* RAM -> MMIO, 4 dwords up. */
	setup(&c);
	for (unsigned i = 0; i < 4; i++)
		ram_put(RAM_BASE + 0x10 + 4 * i, 0xa0a0a0a0u + i, 4);
	c.gprs[EMUL_REG_RSI] = RAM_BASE + 0x10;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE + 0x80;
	c.gprs[EMUL_REG_RCX] = 4;
	c.gpa = MMIO_BASE + 0x80;
	CHECK_EQ(run(&c, L64, "f3 a5"), 2);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(mmio_get(MMIO_BASE + 0x80 + 4 * i, 4), 0xa0a0a0a0u + i);
	CHECK_EQ(c.gprs[EMUL_REG_RSI], RAM_BASE + 0x20);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE + 0x90);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0);
	CHECK_EQ(fake.mem_reads, 4);
	CHECK_EQ(fake.mmio_writes, 4);
	CHECK_EQ(fake.mmio_reads + fake.mem_writes, 0);

	/* MMIO -> RAM, bytes down (DF=1). */
	setup(&c);
	c.rflags |= RFLAGS_DF;
	mmio_put(MMIO_BASE + 0x40, 0x332211, 4);
	c.gprs[EMUL_REG_RSI] = MMIO_BASE + 0x42;
	c.gprs[EMUL_REG_RDI] = RAM_BASE + 0x102;
	c.gprs[EMUL_REG_RCX] = 3;
	c.gpa = MMIO_BASE + 0x42;
	CHECK_EQ(run(&c, L64, "f3 a4"), 2);
	CHECK_EQ(ram_get(RAM_BASE + 0x100, 4), 0x332211);
	CHECK_EQ(c.gprs[EMUL_REG_RSI], MMIO_BASE + 0x3f);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], RAM_BASE + 0xff);
	CHECK_EQ(fake.mmio_reads, 3);
	CHECK_EQ(fake.mem_writes, 3);
	CHECK_EQ(fake.log_gpa[0], MMIO_BASE + 0x42);
	CHECK_EQ(fake.log_write[1], true);
	CHECK_EQ(fake.log_gpa[1], RAM_BASE + 0x102);

	/* MMIO -> MMIO without REP, qword; the FS override moves the source,
	 * the ES base is ignored in 64-bit mode. */
	setup(&c);
	c.seg_base[EMUL_SEG_FS] = 0x1000;
	c.seg_base[EMUL_SEG_ES] = 0x2000;
	mmio_put(MMIO_BASE + 0x1008, 0x0123456789abcdefull, 8);
	c.gprs[EMUL_REG_RSI] = MMIO_BASE + 0x8;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE + 0x3000;
	c.gprs[EMUL_REG_RCX] = 77;
	CHECK_EQ(run(&c, L64, "64 48 a5"), 3);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x3000, 8), 0x0123456789abcdefull);
	CHECK_EQ(c.gprs[EMUL_REG_RSI], MMIO_BASE + 0x10);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE + 0x3008);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 77);

	/* 32-bit mode: DS and ES bases both apply. */
	setup(&c);
	c.seg_base[EMUL_SEG_DS] = 0x100;
	c.seg_base[EMUL_SEG_ES] = 0x200;
	mmio_put(MMIO_BASE + 0x100, 0xbeef, 2);
	c.gprs[EMUL_REG_RSI] = MMIO_BASE;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE;
	CHECK_EQ(run(&c, P32, "66 a5"), 2);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x200, 2), 0xbeef);

	/* Both sides in RAM after the first iteration: the rest runs natively. */
	setup(&c);
	c.gprs[EMUL_REG_RSI] = MMIO_BASE + MMIO_SIZE - 1;
	c.gprs[EMUL_REG_RDI] = RAM_BASE;
	c.gprs[EMUL_REG_RCX] = 8;
	fake_map(&fake, MMIO_BASE + MMIO_SIZE, RAM_BASE + PAGE_SIZE, true);
	CHECK_EQ(run(&c, L64, "f3 a4"), 0);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 7);
	CHECK_EQ(c.gprs[EMUL_REG_RSI], MMIO_BASE + MMIO_SIZE);
	CHECK_EQ(c.rep_done, 1);

	/* MOVS needs translation; a first access that does not translate is
	 * -EFAULT with nothing changed. */
	setup(&c);
	c.is_mmio = NULL;
	c.gprs[EMUL_REG_RSI] = MMIO_BASE;
	CHECK_EQ(run(&c, L64, "a4"), -EOPNOTSUPP);
	CHECK_STR(c.why, "movs needs translate and is_mmio");
	setup(&c);
	fake_map(&fake, 0x5000, 0, false);
	c.gprs[EMUL_REG_RSI] = MMIO_BASE;
	c.gprs[EMUL_REG_RDI] = 0x5010;
	c.gprs[EMUL_REG_RCX] = 3;
	CHECK_EQ(run(&c, L64, "f3 a4"), -EFAULT);
	CHECK_STR(c.why, "translate 0x5010: error -14");
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 3);
	CHECK_EQ(c.gprs[EMUL_REG_RSI], MMIO_BASE);
	CHECK_EQ(fake.nlog, 0);
	CHECK_EQ(fake.bad, 0);
}

TEST(test_lods)
{
	struct emul_ctx c;

	setup(&c);
	mmio_put(MMIO_BASE, 0x8877665544332211ull, 8);
	c.gprs[EMUL_REG_RAX] = 0xffffffffffffffffull;
	c.gprs[EMUL_REG_RSI] = MMIO_BASE;
	CHECK_EQ(run(&c, L64, "ac"), 1);
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0xffffffffffffff11ull);
	CHECK_EQ(c.gprs[EMUL_REG_RSI], MMIO_BASE + 1);
	CHECK_EQ(run(&c, L64, "ad"), 1);
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0x44332211);
	CHECK_EQ(run(&c, L64, "48 ad"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0x8877665544332211ull);
	CHECK_EQ(c.gprs[EMUL_REG_RSI], MMIO_BASE + 13);
	CHECK_EQ(fake.mmio_writes, 0);
	CHECK_EQ(fake.bad, 0);
}

/* ---- PUSH / POP --------------------------------------------------------- */

TEST(test_push_pop)
{
	struct emul_ctx c;

	/* push qword [rax]: MMIO operand, stack in RAM. */
	setup(&c);
	mmio_put(MMIO_BASE + 0x30, 0xfeedfacecafebeefull, 8);
	c.gprs[EMUL_REG_RAX] = MMIO_BASE + 0x30;
	c.gprs[EMUL_REG_RSP] = RAM_BASE + 0x1000;
	CHECK_EQ(run(&c, L64, "ff 30"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], RAM_BASE + 0xff8);
	CHECK_EQ(ram_get(RAM_BASE + 0xff8, 8), 0xfeedfacecafebeefull);
	CHECK_EQ(fake.mmio_reads, 1);
	CHECK_EQ(fake.mem_writes, 1);

	/* pop qword [rax]: stack in RAM, MMIO destination. */
	ram_put(RAM_BASE + 0xff8, 0x1122334455667788ull, 8);
	c.gprs[EMUL_REG_RAX] = MMIO_BASE + 0x38;
	CHECK_EQ(run(&c, L64, "8f 00"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], RAM_BASE + 0x1000);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x38, 8), 0x1122334455667788ull);

	/* pop [rsp+disp]: the address uses RSP after the increment. */
	setup(&c);
	ram_put(RAM_BASE + 0x800, 0xabcd, 8);
	c.gprs[EMUL_REG_RSP] = RAM_BASE + 0x800;
	CHECK_EQ(run(&c, L64, "8f 84 24 f8 07 00 00"), 7);	/* pop [rsp+0x7f8] */
	CHECK_EQ(c.gprs[EMUL_REG_RSP], RAM_BASE + 0x808);
	CHECK_EQ(ram_get(RAM_BASE + 0x1000, 8), 0xabcd);

	/* push word with 66; 32-bit mode with a 16-bit stack that wraps. */
	setup(&c);
	mmio_put(MMIO_BASE, 0x4321, 2);
	c.gprs[EMUL_REG_RAX] = MMIO_BASE;
	c.gprs[EMUL_REG_RSP] = RAM_BASE + 0x10;
	CHECK_EQ(run(&c, L64, "66 ff 30"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], RAM_BASE + 0xe);
	CHECK_EQ(ram_get(RAM_BASE + 0xe, 2), 0x4321);
	setup(&c);
	mmio_put(MMIO_BASE, 0x89abcdef, 4);
	c.seg_base[EMUL_SEG_SS] = RAM_BASE;
	c.gprs[EMUL_REG_RSP] = 0xabcd0000;
	c.gprs[EMUL_REG_RAX] = MMIO_BASE;
	c.ss_big = false;
	CHECK_EQ(run(&c, P32, "ff 30"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], 0xabcdfffc);
	CHECK_EQ(ram_get(RAM_BASE + 0xfffc, 4), 0x89abcdef);
	c.ss_big = true;
	c.gprs[EMUL_REG_RSP] = 0x10;
	CHECK_EQ(run(&c, P32, "8f 00"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], 0x14);
	CHECK_EQ(mmio_get(MMIO_BASE, 4), ram_get(RAM_BASE + 0x10, 4));

	/* Without translate: -EOPNOTSUPP, RSP unchanged. */
	setup(&c);
	c.translate = NULL;
	c.gprs[EMUL_REG_RSP] = RAM_BASE + 0x100;
	CHECK_EQ(run(&c, L64, "ff 30"), -EOPNOTSUPP);
	CHECK_STR(c.why, "push needs translate and is_mmio");
	CHECK_EQ(c.gprs[EMUL_REG_RSP], RAM_BASE + 0x100);
	CHECK_EQ(fake.bad, 0);
}

/* ---- addresses ------------------------------------------------------------ */

TEST(test_mem_gla)
{
	struct emul_ctx c;

	setup(&c);
	c.rip = 0x401000;
	c.gprs[EMUL_REG_RAX] = 0x1000;
	c.gprs[EMUL_REG_RCX] = 0x10;
	c.gprs[EMUL_REG_RBX] = 0xfff0;
	c.gprs[EMUL_REG_RSI] = 0x20;
	c.gprs[EMUL_REG_RBP] = 0xfffe;
	c.seg_base[EMUL_SEG_DS] = 0x30000;
	c.seg_base[EMUL_SEG_SS] = 0x50000;
	c.seg_base[EMUL_SEG_FS] = 0x7f0000000000ull;
	/* RIP-relative: from the next instruction. */
	CHECK_EQ(gla_of(&c, L64, "8b 05 f0 ff ff ff"), 0x401000 + 6 - 0x10);
	CHECK_EQ(gla_of(&c, L64, "c7 05 00 01 00 00 2a 00 00 00"), 0x401000 + 10 + 0x100);
	/* 64-bit: DS base ignored, FS base used. */
	CHECK_EQ(gla_of(&c, L64, "89 44 88 08"), 0x1000 + 0x40 + 8);
	CHECK_EQ(gla_of(&c, L64, "64 89 00"), 0x7f0000001000ull);
	/* 32-bit address size wraps at 4 GiB. */
	c.gprs[EMUL_REG_RAX] = 0xfffffff0;
	CHECK_EQ(gla_of(&c, L64, "67 89 44 88 10"), 0x40);
	c.gprs[EMUL_REG_RAX] = 0x1000;
	/* Real mode: BX+SI wraps at 64 KiB, BP defaults to SS. */
	CHECK_EQ(gla_of(&c, REAL, "89 00"), 0x30000 + 0x10);
	CHECK_EQ(gla_of(&c, REAL, "89 46 04"), 0x50000 + 0x2);
	CHECK_EQ(gla_of(&c, REAL, "26 89 06 34 12"), 0x1234);
	/* 32-bit: segment base + offset wraps at 4 GiB. */
	c.seg_base[EMUL_SEG_DS] = 0xfffff000;
	CHECK_EQ(gla_of(&c, P32, "89 00"), 0);
}

/* ---- failures ------------------------------------------------------------- */

TEST(test_failures)
{
	struct emul_ctx c;
	struct emul_insn in;
	const u8 ud2[] = { 0x0f, 0x0b };

	/* Undecodable bytes: -EINVAL with a message, and nothing to execute. */
	CHECK_EQ(emul_decode(ud2, sizeof(ud2), L64, &in), -EINVAL);
	CHECK_STR(in.why, "unsupported instruction: 0f 0b");
	setup(&c);
	CHECK_EQ(emul_execute(&in, &c), -EINVAL);
	CHECK_STR(c.why, "not a decoded instruction");
	CHECK_EQ(fake.nlog, 0);

	/* A failing MMIO read leaves registers and flags alone. */
	setup(&c);
	fake.fail_gpa = MMIO_BASE;
	fake.fail_rc = -EIO;
	c.gprs[EMUL_REG_RCX] = 0x1234;
	CHECK_EQ(run(&c, L64, "03 08"), -EIO);
	CHECK_STR(c.why, "mmio read 0xff000000: error -5");
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x1234);
	CHECK_EQ(c.rflags, 0x2);
	/* A failing write after the read: flags untouched too. */
	fake.fail_rc = -ENODEV;
	fake.fail_writes_only = true;
	fake.nlog = 0;
	CHECK_EQ(run(&c, L64, "83 28 01"), -ENODEV);
	CHECK_STR(c.why, "mmio write 0xff000000: error -19");
	CHECK_EQ(fake.nlog, 2);
	CHECK_EQ(fake.log_write[1], true);
	CHECK_EQ(c.rflags, 0x2);
	/* XCHG whose write fails keeps the register. */
	CHECK_EQ(run(&c, L64, "87 08"), -ENODEV);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0x1234);

	/* Missing MMIO callbacks. */
	setup(&c);
	c.mmio_write = NULL;
	CHECK_EQ(run(&c, L64, "89 08"), -EOPNOTSUPP);
	CHECK_STR(c.why, "no mmio write callback");

	/* An instruction struct with a bogus type. */
	setup(&c);
	memset(&in, 0, sizeof(in));
	in.len = 2;
	in.type = EMUL_OP_GROUP1;
	CHECK_EQ(emul_execute(&in, &c), -EINVAL);
	{
		char want[64];
		snprintf(want, sizeof(want), "cannot execute op type %u", EMUL_OP_GROUP1);
		CHECK_STR(c.why, want);
	}
	CHECK_EQ(fake.bad, 0);
}

/* ---- issue 8 forms against the host CPU ---------------------------------- */

/*
 * The host executes the very instruction bytes the emulator decodes: a
 * buffer holding the instruction and a RET, called with RAX RCX RDX RBX and
 * RFLAGS loaded from a struct and RDI pointing at a host copy of the memory
 * operand (the templates below all address [rdi]); the registers and flags
 * are stored back. A divide error on the host (SIGFPE) is caught.
 */
struct host_state {
	u64 rax, rcx, rdx, rbx, rflags;
	void *code;
	void *mem;
};
_Static_assert(offsetof(struct host_state, rflags) == 32, "host_run offsets");
_Static_assert(offsetof(struct host_state, code) == 40, "host_run offsets");
_Static_assert(offsetof(struct host_state, mem) == 48, "host_run offsets");

void host_run(struct host_state *s);
__asm__(".text\n"
	".globl host_run\n"
	"host_run:\n\t"
	"push %rbx\n\t"
	"push %rbp\n\t"
	"push %r12\n\t"
	"mov %rdi, %r12\n\t"
	"mov 0(%r12), %rax\n\t"
	"mov 8(%r12), %rcx\n\t"
	"mov 16(%r12), %rdx\n\t"
	"mov 24(%r12), %rbx\n\t"
	"mov 48(%r12), %rdi\n\t"
	"pushq 32(%r12)\n\t"
	"popfq\n\t"
	"call *40(%r12)\n\t"
	"pushfq\n\t"
	"popq 32(%r12)\n\t"
	"mov %rax, 0(%r12)\n\t"
	"mov %rcx, 8(%r12)\n\t"
	"mov %rdx, 16(%r12)\n\t"
	"mov %rbx, 24(%r12)\n\t"
	"pop %r12\n\t"
	"pop %rbp\n\t"
	"pop %rbx\n\t"
	"ret\n");

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

static sigjmp_buf host_fpe_jmp;

static void host_fpe(int sig)
{
	(void)sig;
	siglongjmp(host_fpe_jmp, 1);
}

/* Runs bytes[0..n) on the host; false if it raised #DE. */
static bool host_exec(u8 *code, const u8 *bytes, size_t n, struct host_state *s)
{
	struct sigaction sa, old;
	bool ok = true;

	memcpy(code, bytes, n);
	code[n] = 0xc3;			/* ret */
	s->code = code;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = host_fpe;
	sigaction(SIGFPE, &sa, &old);
	if (sigsetjmp(host_fpe_jmp, 1) == 0)
		host_run(s);
	else
		ok = false;
	sigaction(SIGFPE, &old, NULL);
	return ok;
}

#define T_SHXD   0x1	/* SHLD/SHRD: OF only for a count of 1; no 16-bit counts > 16 */
#define T_BITREG 0x2	/* BT* with a register offset: keep it inside the operand */

struct host_template {
	const char *hex;	/* 64-bit mode, memory operand [rdi] */
	u64 flags_defined;	/* the flags the SDM defines for it */
	u8 special;		/* T_* */
};

#define F_ALL RFLAGS_ARITH
#define F_CO  (RFLAGS_CF | RFLAGS_OF)
#define F_SH  (RFLAGS_CF | RFLAGS_SF | RFLAGS_ZF | RFLAGS_PF)

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct host_template host_templates[] = {
	/* INC DEC NOT NEG */
	{ "fe 07", F_ALL }, { "66 ff 07", F_ALL }, { "ff 07", F_ALL }, { "48 ff 07", F_ALL },
	{ "fe 0f", F_ALL }, { "66 ff 0f", F_ALL }, { "ff 0f", F_ALL }, { "48 ff 0f", F_ALL },
	{ "f6 17", F_ALL }, { "66 f7 17", F_ALL }, { "f7 17", F_ALL }, { "48 f7 17", F_ALL },
	{ "f6 1f", F_ALL }, { "66 f7 1f", F_ALL }, { "f7 1f", F_ALL }, { "48 f7 1f", F_ALL },
	{ "f0 ff 07", F_ALL }, { "f0 48 f7 1f", F_ALL },
	/* MUL IMUL DIV IDIV */
	{ "f6 27", F_CO }, { "66 f7 27", F_CO }, { "f7 27", F_CO }, { "48 f7 27", F_CO },
	{ "f6 2f", F_CO }, { "66 f7 2f", F_CO }, { "f7 2f", F_CO }, { "48 f7 2f", F_CO },
	{ "f6 37", 0 }, { "66 f7 37", 0 }, { "f7 37", 0 }, { "48 f7 37", 0 },
	{ "f6 3f", 0 }, { "66 f7 3f", 0 }, { "f7 3f", 0 }, { "48 f7 3f", 0 },
	{ "0f af 0f", F_CO }, { "66 0f af 0f", F_CO }, { "48 0f af 1f", F_CO },
	{ "69 0f 78 56 34 12", F_CO }, { "48 6b 0f 85", F_CO }, { "66 69 1f 34 92", F_CO },
	{ "48 69 0f 00 00 00 80", F_CO }, { "6b 0f 07", F_CO },
	/* XADD CMPXCHG CMPXCHG8B/16B */
	{ "0f c0 0f", F_ALL }, { "66 0f c1 0f", F_ALL }, { "0f c1 1f", F_ALL },
	{ "f0 48 0f c1 0f", F_ALL }, { "0f c0 2f", F_ALL },
	{ "0f b0 0f", F_ALL }, { "66 0f b1 0f", F_ALL }, { "0f b1 1f", F_ALL },
	{ "f0 48 0f b1 0f", F_ALL }, { "0f b0 27", F_ALL },
	{ "0f c7 0f", F_ALL }, { "f0 48 0f c7 0f", F_ALL },
	/* BT BTS BTR BTC */
	{ "0f a3 0f", RFLAGS_CF, T_BITREG }, { "0f ab 0f", RFLAGS_CF, T_BITREG },
	{ "48 0f b3 0f", RFLAGS_CF, T_BITREG }, { "66 0f bb 0f", RFLAGS_CF, T_BITREG },
	{ "f0 0f ab 1f", RFLAGS_CF, T_BITREG },
	{ "0f ba 2f 05", RFLAGS_CF }, { "48 0f ba 37 3f", RFLAGS_CF },
	{ "66 0f ba 3f 1f", RFLAGS_CF }, { "f0 0f ba 2f 21", RFLAGS_CF },
	/* BSF BSR */
	{ "0f bc 0f", RFLAGS_ZF }, { "48 0f bd 0f", RFLAGS_ZF }, { "66 0f bc 1f", RFLAGS_ZF },
	{ "0f bd 1f", RFLAGS_ZF },
	/* SHLD SHRD */
	{ "0f a4 1f 05", F_SH, T_SHXD }, { "48 0f a5 1f", F_SH, T_SHXD },
	{ "66 0f ac 1f 03", F_SH, T_SHXD }, { "0f ad 1f", F_SH, T_SHXD },
	{ "66 0f a5 1f", F_SH, T_SHXD }, { "48 0f ac 1f 01", F_SH | RFLAGS_OF, T_SHXD },
	{ "0f a4 1f 01", F_SH | RFLAGS_OF, T_SHXD },
	/* SETcc CMOVcc */
	{ "0f 90 07", F_ALL }, { "0f 91 07", F_ALL }, { "0f 92 07", F_ALL }, { "0f 93 07", F_ALL },
	{ "0f 94 07", F_ALL }, { "0f 95 07", F_ALL }, { "0f 96 07", F_ALL }, { "0f 97 07", F_ALL },
	{ "0f 98 07", F_ALL }, { "0f 99 07", F_ALL }, { "0f 9a 07", F_ALL }, { "0f 9b 07", F_ALL },
	{ "0f 9c 07", F_ALL }, { "0f 9d 07", F_ALL }, { "0f 9e 07", F_ALL }, { "0f 9f 07", F_ALL },
	{ "0f 40 0f", F_ALL }, { "0f 41 0f", F_ALL }, { "0f 42 0f", F_ALL }, { "0f 43 0f", F_ALL },
	{ "0f 44 0f", F_ALL }, { "0f 45 0f", F_ALL }, { "0f 46 0f", F_ALL }, { "0f 47 0f", F_ALL },
	{ "0f 48 0f", F_ALL }, { "0f 49 0f", F_ALL }, { "0f 4a 0f", F_ALL }, { "0f 4b 0f", F_ALL },
	{ "0f 4c 0f", F_ALL }, { "0f 4d 0f", F_ALL }, { "0f 4e 0f", F_ALL }, { "0f 4f 0f", F_ALL },
	{ "48 0f 44 0f", F_ALL }, { "66 0f 45 0f", F_ALL },
	/* MOVBE, MOVNTI, XCHG */
	{ "0f 38 f0 0f", F_ALL }, { "48 0f 38 f1 0f", F_ALL }, { "66 0f 38 f0 0f", F_ALL },
	{ "66 0f 38 f1 1f", F_ALL }, { "0f c3 0f", F_ALL }, { "48 0f c3 1f", F_ALL },
	{ "86 27", F_ALL },
};
#pragma GCC diagnostic pop

/* Interesting operand values: edges of every width, then random. */
static u64 pick_value(unsigned k)
{
	return k < ARRAY_SIZE(edge_values) ? edge_values[k] : test_rand();
}

TEST(test_new_ops_vs_host)
{
	enum { ROUNDS = 600 };
	const u64 gla = 0x7000;
	u8 *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long runs = 0, bad = 0, de = 0;

	CHECK(code != MAP_FAILED);
	if (code == MAP_FAILED)
		return;
	test_seed(0x8a1u);
	for (size_t t = 0; t < ARRAY_SIZE(host_templates); t++)
	for (unsigned k = 0; k < ROUNDS; k++) {
		const struct host_template *ht = &host_templates[t];
		_Alignas(16) u8 hmem[16];
		struct host_state hs;
		struct emul_insn in;
		struct emul_ctx c;
		u8 bytes[EMUL_INSN_MAX_LEN];
		size_t n = parse_hex(ht->hex, bytes);
		u64 fmask = ht->flags_defined, mem_lo = pick_value(k), mem_hi = test_rand();
		bool host_ok;
		int rc;

		if (emul_decode(bytes, n, L64, &in) != (int)n) {
			printf("  %s: decode failed: %s\n", ht->hex, in.why);
			bad++;
			break;
		}
		hs.rax = pick_value((k * 7 + 3) % (ARRAY_SIZE(edge_values) + 40));
		hs.rcx = k & 1 ? test_rand() : pick_value((k * 5 + 1) % (ARRAY_SIZE(edge_values) + 40));
		hs.rdx = k & 2 ? test_rand() : (k & 4 ? ~0ull : 0);
		hs.rbx = test_rand();
		hs.rflags = 0x202 | (test_rand() & RFLAGS_ARITH);
		/* CMPXCHG: make the comparison succeed half of the time. */
		if (k & 8) {
			hs.rax = mem_lo;
			hs.rdx = mem_hi;
		}
		if (ht->special & T_BITREG) {
			hs.rcx &= 8u * in.op_size - 1;
			hs.rbx &= 8u * in.op_size - 1;
		}
		if (ht->special & T_SHXD) {
			unsigned cnt = (unsigned)(in.has_imm ? in.imm : hs.rcx) &
				       (in.op_size == 8 ? 0x3f : 0x1f);
			if (in.op_size == 2 && cnt > 16)
				continue;
			if (cnt != 1)
				fmask &= ~RFLAGS_OF;
		}
		memcpy(hmem, &mem_lo, 8);
		memcpy(hmem + 8, &mem_hi, 8);
		hs.mem = hmem;

		setup_ctx(&c);
		c.gprs[EMUL_REG_RAX] = hs.rax;
		c.gprs[EMUL_REG_RCX] = hs.rcx;
		c.gprs[EMUL_REG_RDX] = hs.rdx;
		c.gprs[EMUL_REG_RBX] = hs.rbx;
		c.gprs[EMUL_REG_RDI] = gla;
		c.rflags = hs.rflags;
		c.gpa = MMIO_BASE + 0x100;
		mmio_put(MMIO_BASE + 0x100, mem_lo, 8);
		mmio_put(MMIO_BASE + 0x108, mem_hi, 8);

		host_ok = host_exec(code, bytes, n, &hs);
		rc = emul_execute(&in, &c);
		if (!host_ok) {
			de++;
			if (rc != EMUL_EXCEPTION || c.exc.vector != EMUL_EXC_DE)
				goto fail;
			if (c.gprs[EMUL_REG_RAX] != hs.rax || c.gprs[EMUL_REG_RDX] != hs.rdx)
				goto fail;
			runs++;
			continue;
		}
		if (rc != (int)n)
			goto fail;
		if (c.gprs[EMUL_REG_RAX] != hs.rax || c.gprs[EMUL_REG_RCX] != hs.rcx ||
		    c.gprs[EMUL_REG_RDX] != hs.rdx || c.gprs[EMUL_REG_RBX] != hs.rbx)
			goto fail;
		if (memcmp(&fake.mmio[0x100], hmem, 16))
			goto fail;
		if ((c.rflags & fmask) != (hs.rflags & fmask) ||
		    (c.rflags & ~RFLAGS_ARITH) != (hs.rflags & ~RFLAGS_ARITH))
			goto fail;
		runs++;
		continue;
fail:
		if (bad++ < 12)
			printf("  %s k=%u: rc %d, rax %llx/%llx rcx %llx/%llx rdx %llx/%llx "
			       "rbx %llx/%llx mem %llx/%llx flags %llx/%llx (emul/host)\n",
			       ht->hex, k, rc, c.gprs[EMUL_REG_RAX], hs.rax, c.gprs[EMUL_REG_RCX],
			       hs.rcx, c.gprs[EMUL_REG_RDX], hs.rdx, c.gprs[EMUL_REG_RBX], hs.rbx,
			       mmio_get(MMIO_BASE + 0x100, 8), (u64)((u64 *)hmem)[0], c.rflags,
			       hs.rflags);
	}
	munmap(code, 4096);
	printf("  %ld executions agree with the host CPU (%ld of them #DE), %zu forms\n",
	       runs, de, ARRAY_SIZE(host_templates));
	CHECK_EQ(bad, 0);
	CHECK(runs > 50000);
	CHECK(de > 100);
}

/* ---- SSE and MMX moves ----------------------------------------------------- */

static u8 fake_vregs[EMUL_VREG_MM0 + 8][16];
static int vreg_calls;

static int fake_vreg_read(void *opaque, u8 vreg, void *buf, u32 size)
{
	(void)opaque;
	vreg_calls++;
	if (vreg >= ARRAY_SIZE(fake_vregs) || size != (vreg >= EMUL_VREG_MM0 ? 8u : 16u))
		return -EINVAL;
	memcpy(buf, fake_vregs[vreg], size);
	return 0;
}

static int fake_vreg_write(void *opaque, u8 vreg, void *buf, u32 size)
{
	(void)opaque;
	vreg_calls++;
	if (vreg >= ARRAY_SIZE(fake_vregs) || size != (vreg >= EMUL_VREG_MM0 ? 8u : 16u))
		return -EINVAL;
	memcpy(fake_vregs[vreg], buf, size);
	return 0;
}

static void setup_vec(struct emul_ctx *c)
{
	setup(c);
	c->vreg_read = fake_vreg_read;
	c->vreg_write = fake_vreg_write;
	memset(fake_vregs, 0xee, sizeof(fake_vregs));
	vreg_calls = 0;
	for (unsigned i = 0; i < 16; i++)
		fake.mmio[0x200 + i] = (u8)(0x10 + i);
}

TEST(test_sse_moves)
{
	static const u8 pattern[16] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
					0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f };
	struct emul_ctx c;
	u8 zero8[8] = { 0 };

	/* MOVDQU xmm9, [rax]: 16 bytes as two 8-byte MMIO reads. */
	setup_vec(&c);
	c.gprs[EMUL_REG_RAX] = 0x1003;		/* misaligned: fine for MOVDQU */
	c.gpa = MMIO_BASE + 0x200;
	CHECK_EQ(run(&c, L64, "f3 44 0f 6f 08"), 5);
	CHECK(!memcmp(fake_vregs[9], pattern, 16));
	CHECK_EQ(fake.mmio_reads, 2);
	CHECK_EQ(fake.log_size[0], 8);
	CHECK_EQ(fake.log_gpa[1], MMIO_BASE + 0x208);

	/* MOVAPS/MOVDQA/MOVNTDQ misaligned: #GP(0), nothing accessed. */
	CHECK_EQ(run(&c, L64, "0f 28 00"), EMUL_EXCEPTION);
	CHECK_EQ(c.exc.vector, EMUL_EXC_GP);
	CHECK(c.exc.has_error_code);
	CHECK_EQ(c.exc.error_code, 0);
	CHECK_EQ(c.next_rip, c.rip);
	CHECK_EQ(run(&c, L64, "66 0f 7f 00"), EMUL_EXCEPTION);
	CHECK_EQ(run(&c, L64, "66 0f e7 00"), EMUL_EXCEPTION);
	CHECK_EQ(fake.nlog, 2);

	/* Aligned MOVAPS store of xmm9; MOVUPD load into xmm1. */
	c.gprs[EMUL_REG_RAX] = 0x1000;
	c.gpa = MMIO_BASE + 0x300;
	CHECK_EQ(run(&c, L64, "44 0f 29 08"), 4);
	CHECK(!memcmp(&fake.mmio[0x300], pattern, 16));
	CHECK_EQ(run(&c, L64, "66 0f 10 08"), 4);
	CHECK(!memcmp(fake_vregs[1], pattern, 16));

	/* MOVD/MOVQ loads zero-extend into XMM and MM. */
	c.gpa = MMIO_BASE + 0x200;
	CHECK_EQ(run(&c, L64, "66 0f 6e 10"), 4);		/* movd xmm2, [rax] */
	CHECK(!memcmp(fake_vregs[2], pattern, 4));
	CHECK(!memcmp(fake_vregs[2] + 4, zero8, 8));
	CHECK_EQ(fake.log_size[fake.nlog - 1], 4);
	CHECK_EQ(run(&c, L64, "f3 0f 7e 18"), 4);		/* movq xmm3, [rax] */
	CHECK(!memcmp(fake_vregs[3], pattern, 8));
	CHECK(!memcmp(fake_vregs[3] + 8, zero8, 8));
	CHECK_EQ(run(&c, L64, "0f 6e 20"), 3);			/* movd mm4, [rax] */
	CHECK(!memcmp(fake_vregs[EMUL_VREG_MM0 + 4], pattern, 4));
	CHECK(!memcmp(fake_vregs[EMUL_VREG_MM0 + 4] + 4, zero8, 4));
	CHECK_EQ(run(&c, L64, "0f 6f 28"), 3);			/* movq mm5, [rax] */
	CHECK(!memcmp(fake_vregs[EMUL_VREG_MM0 + 5], pattern, 8));

	/* Stores: MOVQ [rax], xmm3 (66 0F D6) writes 8 bytes; MOVD 4;
	 * MOVQ mm (0F 7F) 8; MOVNTQ 8. */
	c.gpa = MMIO_BASE + 0x400;
	CHECK_EQ(run(&c, L64, "66 0f d6 18"), 4);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x400, 8), 0x1716151413121110ull);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x408, 8), 0);
	c.gpa = MMIO_BASE + 0x410;
	CHECK_EQ(run(&c, L64, "66 0f 7e 18"), 4);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x410, 8), 0x13121110);
	c.gpa = MMIO_BASE + 0x418;
	CHECK_EQ(run(&c, L64, "0f e7 28"), 3);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x418, 8), 0x1716151413121110ull);
	c.gpa = MMIO_BASE + 0x420;
	CHECK_EQ(run(&c, L64, "48 0f 7e 20"), 4);		/* movq [rax], mm4 */
	CHECK_EQ(mmio_get(MMIO_BASE + 0x420, 8), 0x13121110);
	CHECK_EQ(fake.bad, 0);

	/* MOVSS/MOVSD loads clear the rest of the register; stores write
	 * 4/8 bytes; MOVNTPS needs alignment. */
	c.gpa = MMIO_BASE + 0x200;
	CHECK_EQ(run(&c, L64, "f3 0f 10 38"), 4);		/* movss xmm7, [rax] */
	CHECK(!memcmp(fake_vregs[7], pattern, 4));
	CHECK(!memcmp(fake_vregs[7] + 4, zero8, 8));
	CHECK_EQ(run(&c, L64, "f2 0f 10 30"), 4);		/* movsd xmm6, [rax] */
	CHECK(!memcmp(fake_vregs[6], pattern, 8));
	CHECK(!memcmp(fake_vregs[6] + 8, zero8, 8));
	c.gpa = MMIO_BASE + 0x430;
	mmio_put(MMIO_BASE + 0x430, ~0ull, 8);
	CHECK_EQ(run(&c, L64, "f3 0f 11 38"), 4);		/* movss [rax], xmm7 */
	CHECK_EQ(mmio_get(MMIO_BASE + 0x430, 8), 0xffffffff13121110ull);
	c.gprs[EMUL_REG_RAX] = 0x1008;
	CHECK_EQ(run(&c, L64, "0f 2b 30"), EMUL_EXCEPTION);	/* movntps, misaligned */
	CHECK_EQ(c.exc.vector, EMUL_EXC_GP);

	/* No vreg callbacks: -EOPNOTSUPP, nothing accessed. */
	setup(&c);
	CHECK_EQ(run(&c, L64, "f3 0f 6f 00"), -EOPNOTSUPP);
	CHECK_STR(c.why, "no vreg write callback");
	CHECK_EQ(fake.nlog, 0);
}

/* ---- CMPS and SCAS --------------------------------------------------------- */

TEST(test_cmps_scas)
{
	struct emul_ctx c;

	/* REPE CMPSB with both operands in MMIO: stops at the first
	 * difference, after it. */
	setup(&c);
	memcpy(&fake.mmio[0x100], "abcdXf", 6);
	memcpy(&fake.mmio[0x200], "abcdYf", 6);
	c.gprs[EMUL_REG_RSI] = MMIO_BASE + 0x100;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE + 0x200;
	c.gprs[EMUL_REG_RCX] = 6;
	CHECK_EQ(run(&c, L64, "f3 a6"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 1);
	CHECK_EQ(c.gprs[EMUL_REG_RSI], MMIO_BASE + 0x105);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE + 0x205);
	CHECK_EQ(c.rep_done, 5);
	/* 'X' - 'Y': CF SF AF PF, not ZF. */
	CHECK_EQ(c.rflags, 0x2 | RFLAGS_CF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF);
	CHECK_EQ(fake.mmio_reads, 10);
	CHECK_EQ(fake.mmio_writes, 0);

	/* REPNE SCASW: finds the word, DF=1 counts down. */
	setup(&c);
	mmio_put(MMIO_BASE + 0x10, 0x1111222233334444ull, 8);
	c.rflags |= RFLAGS_DF;
	c.gprs[EMUL_REG_RAX] = 0x2222;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE + 0x16;
	c.gprs[EMUL_REG_RCX] = 10;
	c.gpa = MMIO_BASE + 0x16;
	CHECK_EQ(run(&c, L64, "66 f2 af"), 3);
	/* words 0x1111 at +0x16, 0x2222 at +0x14: two iterations */
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 8);
	CHECK_EQ(c.gprs[EMUL_REG_RDI], MMIO_BASE + 0x12);
	CHECK(c.rflags & RFLAGS_ZF);
	CHECK_EQ(fake.nlog, 2);
	CHECK_EQ(fake.log_gpa[0], MMIO_BASE + 0x16);
	CHECK_EQ(fake.log_gpa[1], MMIO_BASE + 0x14);

	/* REPE SCASD with the count running out: completes, ZF from the last
	 * comparison. */
	setup(&c);
	mmio_put(MMIO_BASE, 0x0000000500000005ull, 8);
	c.gprs[EMUL_REG_RAX] = 5;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE;
	c.gprs[EMUL_REG_RCX] = 2;
	CHECK_EQ(run(&c, L64, "f3 af"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0);
	CHECK(c.rflags & RFLAGS_ZF);

	/* CMPSD without REP in 32-bit mode with DS/ES bases: one compare,
	 * flags of [esi] - [edi]. */
	setup(&c);
	c.seg_base[EMUL_SEG_DS] = 0x100;
	c.seg_base[EMUL_SEG_ES] = 0x200;
	mmio_put(MMIO_BASE + 0x100, 7, 4);
	mmio_put(MMIO_BASE + 0x200, 9, 4);
	c.gprs[EMUL_REG_RSI] = MMIO_BASE;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE;
	c.gprs[EMUL_REG_RCX] = 99;
	CHECK_EQ(run(&c, P32, "a7"), 1);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 99);
	CHECK_EQ(c.gprs[EMUL_REG_RSI], MMIO_BASE + 4);
	CHECK(c.rflags & RFLAGS_CF);
	CHECK(!(c.rflags & RFLAGS_ZF));

	/* CMPS needs translation. */
	setup(&c);
	c.translate = NULL;
	CHECK_EQ(run(&c, L64, "a6"), -EOPNOTSUPP);
	CHECK_STR(c.why, "cmps needs translate and is_mmio");
	CHECK_EQ(fake.bad, 0);
}

/* ---- the stack in MMIO ------------------------------------------------------ */

TEST(test_stack_mmio)
{
	struct emul_ctx c;
	const u64 top = MMIO_BASE + 0x1000;

	setup(&c);
	c.rip = 0x401000;
	c.gprs[EMUL_REG_RSP] = top;
	c.gprs[EMUL_REG_RBX] = 0x1122334455667788ull;
	CHECK_EQ(run(&c, L64, "53"), 1);			/* push rbx */
	CHECK_EQ(c.gprs[EMUL_REG_RSP], top - 8);
	CHECK_EQ(mmio_get(top - 8, 8), 0x1122334455667788ull);
	CHECK_EQ(run(&c, L64, "6a f0"), 2);			/* push -16 */
	CHECK_EQ(mmio_get(top - 16, 8), 0xfffffffffffffff0ull);
	CHECK_EQ(run(&c, L64, "66 68 34 12"), 4);		/* push word 0x1234 */
	CHECK_EQ(c.gprs[EMUL_REG_RSP], top - 18);
	CHECK_EQ(mmio_get(top - 18, 2), 0x1234);
	CHECK_EQ(run(&c, L64, "66 41 58"), 3);			/* pop r8w */
	CHECK_EQ(c.gprs[EMUL_REG_R8], 0x1234);
	CHECK_EQ(run(&c, L64, "5c"), 1);			/* pop rsp: the value wins */
	CHECK_EQ(c.gprs[EMUL_REG_RSP], 0xfffffffffffffff0ull);

	/* CALL rel32 and RET imm16 through an MMIO stack. */
	c.gprs[EMUL_REG_RSP] = top;
	CHECK_EQ(run(&c, L64, "e8 fb 0f 00 00"), 5);
	CHECK_EQ(c.next_rip, 0x401000 + 5 + 0xffb);
	CHECK_EQ(mmio_get(top - 8, 8), 0x401005);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], top - 8);
	CHECK_EQ(run(&c, L64, "c2 10 00"), 3);
	CHECK_EQ(c.next_rip, 0x401005);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], top + 0x10);

	/* CALL [rax] with the target in MMIO and the stack in RAM; JMP [rax]. */
	setup(&c);
	c.rip = 0x401000;
	mmio_put(MMIO_BASE + 0x40, 0x402000, 8);
	c.gprs[EMUL_REG_RAX] = MMIO_BASE + 0x40;
	c.gprs[EMUL_REG_RSP] = RAM_BASE + 0x100;
	CHECK_EQ(run(&c, L64, "ff 10"), 2);
	CHECK_EQ(c.next_rip, 0x402000);
	CHECK_EQ(ram_get(RAM_BASE + 0xf8, 8), 0x401002);
	c.gpa = MMIO_BASE + 0x40;
	CHECK_EQ(run(&c, L64, "ff 20"), 2);
	CHECK_EQ(c.next_rip, 0x402000);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], RAM_BASE + 0xf8);
	/* A non-canonical target: #GP(0) at the JMP, RIP unchanged. */
	mmio_put(MMIO_BASE + 0x40, 0x0000800000000000ull, 8);
	CHECK_EQ(run(&c, L64, "ff 20"), EMUL_EXCEPTION);
	CHECK_EQ(c.exc.vector, EMUL_EXC_GP);
	CHECK_EQ(c.next_rip, 0x401000);
	c.la57 = true;				/* 5-level paging: canonical */
	CHECK_EQ(run(&c, L64, "ff 20"), 2);
	CHECK_EQ(c.next_rip, 0x0000800000000000ull);
	c.la57 = false;
	/* 16-bit operand size truncates the target (32-bit mode). */
	mmio_put(MMIO_BASE + 0x40, 0x12345678, 8);
	CHECK_EQ(run(&c, P32, "66 ff 20"), 3);
	CHECK_EQ(c.next_rip, 0x5678);

	/* ENTER 0x20, 0 and LEAVE with the stack in MMIO. */
	setup(&c);
	c.gprs[EMUL_REG_RSP] = top;
	c.gprs[EMUL_REG_RBP] = 0xabcdef;
	CHECK_EQ(run(&c, L64, "c8 20 00 00"), 4);
	CHECK_EQ(mmio_get(top - 8, 8), 0xabcdef);
	CHECK_EQ(c.gprs[EMUL_REG_RBP], top - 8);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], top - 8 - 0x20);
	CHECK_EQ(run(&c, L64, "c9"), 1);
	CHECK_EQ(c.gprs[EMUL_REG_RBP], 0xabcdef);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], top);

	/* ENTER with nesting level 3 (32-bit, 32-bit stack): pushes EBP,
	 * two enclosing frame pointers from [ebp-4], [ebp-8], then the new
	 * frame pointer. */
	setup(&c);
	c.ss_big = true;
	c.gprs[EMUL_REG_RSP] = MMIO_BASE + 0x800;
	c.gprs[EMUL_REG_RBP] = MMIO_BASE + 0x900;
	mmio_put(MMIO_BASE + 0x8fc, 0xaaaa, 4);
	mmio_put(MMIO_BASE + 0x8f8, 0xbbbb, 4);
	CHECK_EQ(run(&c, P32, "c8 08 00 03"), 4);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x7fc, 4), MMIO_BASE + 0x900);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x7f8, 4), 0xaaaa);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x7f4, 4), 0xbbbb);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x7f0, 4), MMIO_BASE + 0x7fc);
	CHECK_EQ(c.gprs[EMUL_REG_RBP], MMIO_BASE + 0x7fc);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], MMIO_BASE + 0x7f0 - 8);

	/* 32-bit mode: CALL rel16 (66) truncates the target to IP and pushes
	 * 2 bytes; RET pops 4; LEAVE with a 16-bit stack moves SP only. */
	setup(&c);
	c.rip = 0x12345;
	c.ss_big = true;
	c.gprs[EMUL_REG_RSP] = MMIO_BASE + 0x100;
	CHECK_EQ(run(&c, P32, "66 e8 00 f0"), 4);
	CHECK_EQ(c.next_rip, (0x12345 + 4 - 0x1000) & 0xffff);
	CHECK_EQ(mmio_get(MMIO_BASE + 0xfe, 2), 0x2349);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], MMIO_BASE + 0xfe);
	mmio_put(MMIO_BASE + 0xfe, 0x00401000, 4);
	CHECK_EQ(run(&c, P32, "c3"), 1);
	CHECK_EQ(c.next_rip, 0x401000);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], MMIO_BASE + 0x102);
	setup(&c);
	c.seg_base[EMUL_SEG_SS] = MMIO_BASE;
	c.gprs[EMUL_REG_RSP] = 0xaaaa0000;
	c.gprs[EMUL_REG_RBP] = 0xbbbb0040;
	mmio_put(MMIO_BASE + 0x40, 0x1234, 2);
	CHECK_EQ(run(&c, REAL, "c9"), 1);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], 0xaaaa0042);
	CHECK_EQ(c.gprs[EMUL_REG_RBP], 0xbbbb1234);

	/* A 16-bit stack wraps within SS. */
	setup(&c);
	c.seg_base[EMUL_SEG_SS] = MMIO_BASE;
	c.gprs[EMUL_REG_RSP] = 0x12340000;
	c.gprs[EMUL_REG_RAX] = 0x5555;
	CHECK_EQ(run(&c, REAL, "50"), 1);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], 0x1234fffe);
	CHECK_EQ(mmio_get(MMIO_BASE + 0xfffe, 2), 0x5555);
	CHECK_EQ(fake.bad, 0);
}

/* ---- exceptions --------------------------------------------------------------- */

static int fault_translate(void *opaque, u64 gla, bool write, u64 *gpa)
{
	(void)opaque;
	(void)gpa;
	return EMUL_FAULT(EMUL_EXC_PF, write ? 0x7 : 0x5) + (int)(gla & 0);
}

TEST(test_exceptions)
{
	struct emul_ctx c;

	/* A #PF from the walk, with CR2 and the error code; nothing changes. */
	setup(&c);
	c.translate = fault_translate;
	c.gprs[EMUL_REG_RSP] = 0x9000;
	c.gprs[EMUL_REG_RAX] = 77;
	CHECK_EQ(run(&c, L64, "50"), EMUL_EXCEPTION);
	CHECK_EQ(c.exc.vector, EMUL_EXC_PF);
	CHECK_EQ(c.exc.error_code, 0x7);
	CHECK_EQ(c.exc.cr2, 0x8ff8);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], 0x9000);
	CHECK_EQ(fake.nlog, 0);

	/* A non-canonical stack: #SS(0); a non-canonical operand: #GP(0). */
	setup(&c);
	c.gprs[EMUL_REG_RSP] = 0x0000800000000008ull;
	CHECK_EQ(run(&c, L64, "50"), EMUL_EXCEPTION);
	CHECK_EQ(c.exc.vector, EMUL_EXC_SS);
	CHECK(c.exc.has_error_code);
	c.gprs[EMUL_REG_RSP] = RAM_BASE + 0x100;
	c.gprs[EMUL_REG_RAX] = 0x0000800000000000ull;
	CHECK_EQ(run(&c, L64, "ff 30"), EMUL_EXCEPTION);
	CHECK_EQ(c.exc.vector, EMUL_EXC_GP);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], RAM_BASE + 0x100);

	/* DIV by zero: #DE without an error code, registers kept. */
	setup(&c);
	c.gprs[EMUL_REG_RAX] = 10;
	CHECK_EQ(run(&c, L64, "f7 30"), EMUL_EXCEPTION);
	CHECK_EQ(c.exc.vector, EMUL_EXC_DE);
	CHECK(!c.exc.has_error_code);
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 10);

	/* CMPXCHG16B misaligned: #GP(0). */
	setup(&c);
	c.gprs[EMUL_REG_RAX] = 8;
	CHECK_EQ(run(&c, L64, "48 0f c7 08"), EMUL_EXCEPTION);
	CHECK_EQ(c.exc.vector, EMUL_EXC_GP);
	CHECK_EQ(fake.nlog, 0);

	/* The second page of a crossing write faults: the first is not
	 * written either. */
	setup(&c);
	fake_map(&fake, 0x3000, 0, false);
	c.translate = fake_translate;
	c.gprs[EMUL_REG_RAX] = 0x2ffe;
	c.gpa = MMIO_BASE + 0xffe;
	CHECK_EQ(run(&c, L64, "c7 00 44 33 22 11"), -EFAULT);
	CHECK_EQ(fake.nlog, 0);
	CHECK_EQ(fake.bad, 0);
}

/* ---- page crossing, LOCK, segment and system registers ----------------------- */

static int lock_depth, lock_calls, lock_bad;

static void fake_bus_lock(void *opaque, bool lock)
{
	struct fake *f = opaque;

	lock_calls++;
	if (lock != (lock_depth == 0))
		lock_bad++;
	lock_depth += lock ? 1 : -1;
	(void)f;
}

static int fake_mmio_read_locked(void *opaque, u64 gpa, void *buf, u32 size)
{
	if (!lock_depth)
		lock_bad++;
	return fake_mmio_read(opaque, gpa, buf, size);
}

static u16 loaded_sel;
static u8 loaded_seg;

static int fake_load_seg(void *opaque, u8 seg, u16 sel)
{
	(void)opaque;
	if (sel == 0x13)
		return EMUL_FAULT(EMUL_EXC_GP, sel & 0xfffc);
	loaded_seg = seg;
	loaded_sel = sel;
	return 0;
}

TEST(test_cross_lock_sreg)
{
	struct emul_ctx c;

	/* A dword across an MMIO page and a RAM page: two pieces, each page
	 * translated on its own. */
	setup(&c);
	fake_map(&fake, 0x4000, MMIO_BASE, true);
	fake_map(&fake, 0x5000, RAM_BASE, true);
	c.gprs[EMUL_REG_RAX] = 0x4ffd;
	c.gprs[EMUL_REG_RCX] = 0xa1b2c3d4;
	c.gpa = MMIO_BASE + 0xffd;
	CHECK_EQ(run(&c, L64, "89 08"), 2);
	CHECK_EQ(mmio_get(MMIO_BASE + 0xffd, 2), 0xc3d4);
	CHECK_EQ(fake.mmio[0xfff], 0xb2);
	CHECK_EQ(ram_get(RAM_BASE, 1), 0xa1);
	CHECK_EQ(fake.mmio_writes, 2);
	CHECK_EQ(fake.mem_writes, 1);
	CHECK_EQ(run(&c, L64, "8b 10"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RDX], 0xa1b2c3d4);

	/* RAM then MMIO: the exit reports the second page; both pages are
	 * translated (kvm-unit-tests' "cross-page mmio"). */
	setup(&c);
	fake_map(&fake, 0x8000, RAM_BASE + PAGE_SIZE, true);
	fake_map(&fake, 0x9000, MMIO_BASE + PAGE_SIZE, true);
	ram_put(RAM_BASE + 2 * PAGE_SIZE - 4, 0x44332211, 4);
	mmio_put(MMIO_BASE + PAGE_SIZE, 0x88776655, 4);
	c.gprs[EMUL_REG_RSI] = 0x8ffc;
	c.gpa = MMIO_BASE + PAGE_SIZE;
	CHECK_EQ(run(&c, L64, "48 8b 06"), 3);
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0x8877665544332211ull);
	CHECK_EQ(fake.mem_reads, 1);
	CHECK_EQ(fake.mmio_reads, 1);
	/* Without translation the old rule holds: the operand at ctx->gpa. */
	c.translate = NULL;
	c.gpa = MMIO_BASE + PAGE_SIZE;
	c.gprs[EMUL_REG_RSI] = 0x9000;
	CHECK_EQ(run(&c, L64, "8b 06"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0x88776655);

	/* LOCK and XCHG: the read and the write inside bus_lock. */
	setup(&c);
	c.bus_lock = fake_bus_lock;
	c.mmio_read = fake_mmio_read_locked;
	lock_depth = lock_calls = lock_bad = 0;
	mmio_put(MMIO_BASE, 5, 4);
	CHECK_EQ(run(&c, L64, "f0 ff 00"), 3);
	CHECK_EQ(mmio_get(MMIO_BASE, 4), 6);
	c.gprs[EMUL_REG_RCX] = 9;
	CHECK_EQ(run(&c, L64, "87 08"), 2);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 6);
	CHECK_EQ(run(&c, L64, "f0 0f b1 08"), 4);		/* cmpxchg, fails */
	CHECK_EQ(lock_calls, 6);
	CHECK_EQ(lock_bad, 0);
	CHECK_EQ(lock_depth, 0);
	c.mmio_read = fake_mmio_read;
	CHECK_EQ(run(&c, L64, "ff 00"), 2);			/* no LOCK: no lock */
	CHECK_EQ(lock_calls, 6);

	/* MOV Sreg both ways, LTR, SMSW. */
	setup(&c);
	c.load_seg = fake_load_seg;
	c.seg_sel[EMUL_SEG_FS] = 0x2b;
	c.cr0 = 0x80050033;
	CHECK_EQ(run(&c, L64, "48 8c 20"), 3);			/* mov [rax], fs */
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0x2b);
	CHECK_EQ(fake.log_size[0], 2);
	mmio_put(MMIO_BASE, 0x18, 2);
	CHECK_EQ(run(&c, L64, "8e 10"), 2);			/* mov ss, [rax] */
	CHECK_EQ(loaded_seg, EMUL_SEG_SS);
	CHECK_EQ(loaded_sel, 0x18);
	CHECK_EQ(c.seg_sel[EMUL_SEG_SS], 0x18);
	mmio_put(MMIO_BASE, 0x40, 2);
	CHECK_EQ(run(&c, L64, "0f 00 18"), 3);			/* ltr [rax] */
	CHECK_EQ(loaded_seg, EMUL_NR_SEGS);
	CHECK_EQ(loaded_sel, 0x40);
	mmio_put(MMIO_BASE, 0x13, 2);
	CHECK_EQ(run(&c, L64, "8e 18"), EMUL_EXCEPTION);	/* #GP(selector) */
	CHECK_EQ(c.exc.vector, EMUL_EXC_GP);
	CHECK_EQ(c.exc.error_code, 0x10);
	CHECK_EQ(c.seg_sel[EMUL_SEG_DS], 0);
	mmio_put(MMIO_BASE, ~0ull, 8);
	CHECK_EQ(run(&c, L64, "48 0f 01 20"), 4);		/* smsw [rax]: 16 bits */
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0xffffffffffff0033ull);
	c.load_seg = NULL;
	CHECK_EQ(run(&c, L64, "8e 18"), -EOPNOTSUPP);
	CHECK_EQ(fake.bad, 0);
}

/* A 16-byte SSE store across an MMIO page and a RAM page; REP CMPS in
 * batches; CMPXCHG8B in 32-bit mode. */
TEST(test_more_edges)
{
	static const u8 pattern[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct emul_ctx c;

	setup_vec(&c);
	memcpy(fake_vregs[5], pattern, 16);
	fake_map(&fake, 0x5000, MMIO_BASE, true);
	fake_map(&fake, 0x6000, RAM_BASE, true);
	c.gprs[EMUL_REG_RAX] = 0x5ffa;
	c.gpa = MMIO_BASE + 0xffa;
	CHECK_EQ(run(&c, L64, "f3 0f 7f 28"), 4);		/* movdqu [rax], xmm5 */
	CHECK(!memcmp(&fake.mmio[0xffa], pattern, 6));
	CHECK(!memcmp(&fake.ram[0], pattern + 6, 10));
	CHECK_EQ(fake.mmio_writes, 2);				/* 4 + 2 bytes */
	CHECK_EQ(fake.mem_writes, 2);				/* 8 + 2 bytes */
	memset(fake_vregs[6], 0, 16);
	CHECK_EQ(run(&c, L64, "0f 10 30"), 3);			/* movups xmm6, [rax] */
	CHECK(!memcmp(fake_vregs[6], pattern, 16));
	CHECK_EQ(fake.bad, 0);

	/* REPE CMPSD over 6 equal dwords in batches of 4: stops after 4
	 * with RIP unchanged, then completes. */
	setup(&c);
	for (unsigned i = 0; i < 6; i++) {
		mmio_put(MMIO_BASE + 0x100 + 4 * i, 0x1000 + i, 4);
		mmio_put(MMIO_BASE + 0x200 + 4 * i, 0x1000 + i, 4);
	}
	c.rip = 0x1000;
	c.rep_limit = 4;
	c.gprs[EMUL_REG_RSI] = MMIO_BASE + 0x100;
	c.gprs[EMUL_REG_RDI] = MMIO_BASE + 0x200;
	c.gprs[EMUL_REG_RCX] = 6;
	CHECK_EQ(run(&c, L64, "f3 a7"), 0);
	CHECK_EQ(c.next_rip, 0x1000);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 2);
	CHECK_EQ(run(&c, L64, "f3 a7"), 2);
	CHECK_EQ(c.next_rip, 0x1002);
	CHECK_EQ(c.gprs[EMUL_REG_RCX], 0);
	CHECK(c.rflags & RFLAGS_ZF);

	/* CMPXCHG8B in 32-bit mode, equal then not: EDX:EAX vs the qword. */
	setup(&c);
	mmio_put(MMIO_BASE, 0x1111111122222222ull, 8);
	c.gprs[EMUL_REG_RAX] = 0x22222222;
	c.gprs[EMUL_REG_RDX] = 0x11111111;
	c.gprs[EMUL_REG_RBX] = 0x44444444;
	c.gprs[EMUL_REG_RCX] = 0x33333333;
	CHECK_EQ(run(&c, P32, "0f c7 0d 00 00 00 ff"), 7);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0x3333333344444444ull);
	CHECK(c.rflags & RFLAGS_ZF);
	CHECK_EQ(run(&c, P32, "f0 0f c7 0d 00 00 00 ff"), 8);
	CHECK(!(c.rflags & RFLAGS_ZF));
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0x44444444);
	CHECK_EQ(c.gprs[EMUL_REG_RDX], 0x33333333);
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0x3333333344444444ull);
	CHECK_EQ(fake.mmio_writes, 2);		/* the failed compare writes back */

	/* 16-bit MUL and DIV in real mode. */
	setup(&c);
	mmio_put(MMIO_BASE, 0x100, 2);
	c.gprs[EMUL_REG_RAX] = 0xabcd0300;
	c.gprs[EMUL_REG_RDX] = 0xffff1234;
	CHECK_EQ(run(&c, REAL, "f7 27"), 2);			/* mul word [bx] */
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0xabcd0000);
	CHECK_EQ(c.gprs[EMUL_REG_RDX], 0xffff0003);
	CHECK_EQ(c.rflags & (RFLAGS_CF | RFLAGS_OF), RFLAGS_CF | RFLAGS_OF);
	CHECK_EQ(run(&c, REAL, "f7 37"), 2);			/* div word [bx] */
	CHECK_EQ(c.gprs[EMUL_REG_RAX], 0xabcd0300);
	CHECK_EQ(c.gprs[EMUL_REG_RDX], 0xffff0000);
	CHECK_EQ(fake.bad, 0);
}

/* Pages below 0x8000 fault (#PF), the others translate as the fake's. */
static int low_fault_translate(void *opaque, u64 gla, bool write, u64 *gpa)
{
	if (gla < 0x8000)
		return EMUL_FAULT(EMUL_EXC_PF, write ? 0x7 : 0x5);
	return fake_translate(opaque, gla, write, gpa);
}

/* Far JMP and CALL through a pointer in MMIO (kvm-unit-tests' "ljmp"): the
 * offset and selector read as one m16:32/m16:64/m16:16 access, CS loaded
 * through load_seg, CALL's pushes of CS and the return offset, and a fault
 * from the CS load or the stack leaving everything untouched. */
TEST(test_far_branches)
{
	struct emul_ctx c;
	const u64 top = RAM_BASE + 0x100;

	/* rex64 ljmp *(%r13): m16:64, ten bytes. */
	setup(&c);
	c.load_seg = fake_load_seg;
	c.rip = 0x4022cf;
	loaded_seg = 0xff;
	loaded_sel = 0;
	mmio_put(MMIO_BASE, 0x4022d7, 8);
	mmio_put(MMIO_BASE + 8, 0x8, 2);
	c.gprs[EMUL_REG_R13] = MMIO_BASE;
	CHECK_EQ(run(&c, L64, "49 ff 6d 00"), 4);
	CHECK_EQ(c.next_rip, 0x4022d7);
	CHECK_EQ(loaded_seg, EMUL_SEG_CS);
	CHECK_EQ(loaded_sel, 0x8);
	CHECK_EQ(c.seg_sel[EMUL_SEG_CS], 0x8);
	CHECK_EQ(fake.mmio_reads, 2);		/* 8 + 2 bytes */
	/* Without REX.W: m16:32, the selector at +4. */
	mmio_put(MMIO_BASE, 0x00401000, 4);
	mmio_put(MMIO_BASE + 4, 0x10, 2);
	CHECK_EQ(run(&c, L64, "41 ff 6d 00"), 4);
	CHECK_EQ(c.next_rip, 0x401000);
	CHECK_EQ(loaded_sel, 0x10);
	/* 16-bit operand size (32-bit mode): m16:16, the offset truncated. */
	c.gprs[EMUL_REG_RAX] = MMIO_BASE;
	mmio_put(MMIO_BASE, 0x1234, 2);
	mmio_put(MMIO_BASE + 2, 0x18, 2);
	CHECK_EQ(run(&c, P32, "66 ff 28"), 3);
	CHECK_EQ(c.next_rip, 0x1234);
	CHECK_EQ(loaded_sel, 0x18);
	/* A non-canonical offset: #GP(0) before CS is touched. */
	loaded_sel = 0;
	mmio_put(MMIO_BASE, 0x0000800000000000ull, 8);
	mmio_put(MMIO_BASE + 8, 0x8, 2);
	c.rip = 0x401000;
	CHECK_EQ(run(&c, L64, "48 ff 28"), EMUL_EXCEPTION);
	CHECK_EQ(c.exc.vector, EMUL_EXC_GP);
	CHECK_EQ(c.exc.error_code, 0);
	CHECK_EQ(loaded_sel, 0);
	CHECK_EQ(c.next_rip, 0x401000);
	/* The CS load faults (#GP(selector)): RIP stays. */
	mmio_put(MMIO_BASE, 0x402000, 8);
	mmio_put(MMIO_BASE + 8, 0x13, 2);
	CHECK_EQ(run(&c, L64, "48 ff 28"), EMUL_EXCEPTION);
	CHECK_EQ(c.exc.error_code, 0x10);
	CHECK_EQ(c.next_rip, 0x401000);

	/* lcall *(%rax) (m16:32, 64-bit mode): pushes CS then the return
	 * offset, 4 bytes each; the stack in RAM. */
	setup(&c);
	c.load_seg = fake_load_seg;
	c.rip = 0x401000;
	c.seg_sel[EMUL_SEG_CS] = 0x8;
	c.gprs[EMUL_REG_RAX] = MMIO_BASE + 0x20;
	c.gprs[EMUL_REG_RSP] = top;
	c.gpa = MMIO_BASE + 0x20;
	mmio_put(MMIO_BASE + 0x20, 0x403000, 4);
	mmio_put(MMIO_BASE + 0x24, 0x28, 2);
	CHECK_EQ(run(&c, L64, "ff 18"), 2);
	CHECK_EQ(c.next_rip, 0x403000);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], top - 8);
	CHECK_EQ(ram_get(top - 4, 4), 0x8);
	CHECK_EQ(ram_get(top - 8, 4), 0x401002);
	CHECK_EQ(loaded_sel, 0x28);
	CHECK_EQ(c.seg_sel[EMUL_SEG_CS], 0x28);
	/* REX.W: m16:64, 8-byte pushes. */
	c.seg_sel[EMUL_SEG_CS] = 0x8;
	c.gprs[EMUL_REG_RSP] = top;
	mmio_put(MMIO_BASE + 0x20, 0x404000, 8);
	mmio_put(MMIO_BASE + 0x28, 0x30, 2);
	CHECK_EQ(run(&c, L64, "48 ff 18"), 3);
	CHECK_EQ(c.next_rip, 0x404000);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], top - 16);
	CHECK_EQ(ram_get(top - 8, 8), 0x8);
	CHECK_EQ(ram_get(top - 16, 8), 0x401003);
	/* A CS load that faults writes no stack and keeps RSP. */
	ram_put(top - 8, 0x5555, 8);
	c.gprs[EMUL_REG_RSP] = top;
	mmio_put(MMIO_BASE + 0x28, 0x13, 2);
	CHECK_EQ(run(&c, L64, "48 ff 18"), EMUL_EXCEPTION);
	CHECK_EQ(c.exc.vector, EMUL_EXC_GP);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], top);
	CHECK_EQ(ram_get(top - 8, 8), 0x5555);
	/* A stack that does not translate: #PF, CS not loaded. */
	loaded_sel = 0;
	mmio_put(MMIO_BASE + 0x28, 0x30, 2);
	c.translate = low_fault_translate;
	c.gprs[EMUL_REG_RSP] = 0x7000;
	CHECK_EQ(run(&c, L64, "48 ff 18"), EMUL_EXCEPTION);
	CHECK_EQ(c.exc.vector, EMUL_EXC_PF);
	CHECK_EQ(c.exc.cr2, 0x6ff8);
	CHECK_EQ(loaded_sel, 0);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], 0x7000);
	/* Without load_seg: not emulated, nothing changed. */
	c.translate = fake_translate;
	c.load_seg = NULL;
	c.gprs[EMUL_REG_RSP] = top;
	CHECK_EQ(run(&c, L64, "48 ff 18"), -EOPNOTSUPP);
	CHECK_EQ(c.gprs[EMUL_REG_RSP], top);
	CHECK_EQ(fake.bad, 0);
}

int main(void)
{
	RUN(test_mov_store);
	RUN(test_mov_load);
	RUN(test_movzx_movsx);
	RUN(test_flags_vs_host);
	RUN(test_flags_known);
	RUN(test_partial_registers);
	RUN(test_xchg);
	RUN(test_bt);
	RUN(test_stos);
	RUN(test_rep_early_stops);
	RUN(test_rep_address_size);
	RUN(test_movs);
	RUN(test_lods);
	RUN(test_push_pop);
	RUN(test_mem_gla);
	RUN(test_failures);
	RUN(test_new_ops_vs_host);
	RUN(test_sse_moves);
	RUN(test_cmps_scas);
	RUN(test_stack_mmio);
	RUN(test_exceptions);
	RUN(test_cross_lock_sreg);
	RUN(test_more_edges);
	RUN(test_far_branches);
	return TEST_SUMMARY();
}
