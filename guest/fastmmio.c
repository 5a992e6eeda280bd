/*
 * guest/fastmmio.c - the fast-MMIO path (vmx/hotpath.h fast_mmio) from the
 * guest's side, built 32-bit (paging off) and 64-bit (4-level paging).
 *
 * One length-0 MMIO doorbell (DB, event EV_DB) is rung by every plain store
 * encoding the fast path's length decoder knows (emul/fastlen.c), 16 times
 * each, and EVENT_READ must return exactly 16. Around it: reads and near
 * misses (which signal nothing and read all ones), read-modify-writes (the
 * full emulation path, which signals too), code rewritten at one RIP (the
 * decoded-store cache must follow the bytes), a single step over a doorbell
 * store (#DB after it with DR6.BS), prefix soups, and stores whose bytes
 * straddle a 4 KiB page boundary. Every instruction under test is written
 * out byte by byte (.byte) so that the encoding is the one named, whatever
 * the assembler would have chosen; ModR/M 0x02 is [EDX]/[RDX] with EAX,
 * XMM0 or MM0 as the source.
 *
 * The tests are built so that the hypervisor's counters are exact: a boot
 * test checks "fast-MMIO N" and "instructions emulated: N" (the guest
 * prints the figures it expects as "fastmmio: expect ...").
 *
 * Command line: paging=pse|pae (32-bit: see paging_on), mode=decode|vmcs|check, the hypervisor's fastmmio_len (it
 * must agree with doorbell's CPUID leaf 0x40000001). With vmcs the CPU's
 * instruction length is trusted, as KVM does on bare metal, so a read of
 * the doorbell address signals as well and leaves its destination register
 * unchanged (the instruction is skipped). Opt-in checks, outside the boot
 * tests' counts: fullstep=1, a single step over an access the full emulator
 * handles (in Bochs it passes either way: see test_single_step); bpcheck=1,
 * instruction breakpoints (DR0/DR1, DR7) around a doorbell store, which
 * need the guest's DR7 to survive VM exits.
 */
#include "lib/guest.h"

#define F_DEASSIGN     ((u32)DOORBELL_IOEVENTFD_DEASSIGN)

#define WINDOW         0xd0000000u		/* default doorbell window */
#define DB             0xd0040000u		/* the len-0 doorbell: page-aligned */
#define DB_S           "0xd0040000"
#define DB_PREV        0xd003f000u		/* a doorbell on the page before */
#define UNREG_PAGE     0xd0080000u		/* a window page with no doorbell */
#define EV_DB          1
#define EV_PREV        2
#define N              16
#define ONES32         0xffffffffu
#define MARK           0x600df00du

#define CPUID_HV_CONFIG  0x40000001u
#define HV_CFG_LEN(eax)  (((eax) >> 2) & 3)

/* SDM Vol. 3A, "Control Registers" and "Debug Status Register (DR6)" */
#define CR0_MP         BIT(1)
#define CR0_EM         BIT(2)
#define CR0_TS         BIT(3)
#define CR4_OSFXSR     BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define DR6_BS         BIT(14)
#define DR6_INIT       0xffff0ff0ul		/* no condition recorded */
#define RFLAGS_TF      BIT(8)
#define X86_VEC_DB     1
/* CPUID leaf 1 (SDM Vol. 2A, CPUID) */
#define CPUID_1_ECX_MOVBE BIT(22)
#define CPUID_1_EDX_SSE2  BIT(26)

#ifdef __x86_64__
#define MOFFS          ".quad "			/* moffs64 in 64-bit mode */
#define SP             "%%rsp"
#define R8_CLOBBER     , "r8"
#else
#define MOFFS          ".long "
#define SP             "%%esp"
#define R8_CLOBBER
#endif

enum len_mode { MODE_DECODE, MODE_VMCS, MODE_CHECK };
static enum len_mode mode = MODE_DECODE;
static bool reads_signal;			/* mode == MODE_VMCS */
static bool fullstep, bpcheck, ramedge;

static struct doorbell_ioeventfd req __attribute__((aligned(64)));

static long ioeventfd(u64 addr, u32 len, s32 event, u32 flags)
{
	memset(&req, 0, sizeof(req));
	req.addr = addr;
	req.len = len;
	req.event = event;
	req.flags = flags;
	return hypercall(HC_IOEVENTFD, (unsigned long)(uintptr_t)&req, 0, 0, 0);
}

static long event_read(u32 id)
{
	return hypercall(HC_EVENT_READ, id, 0, 0, 0);
}

/* The figures the hypervisor's exit counters must show at the end: every
 * test adds what it sends down each path. */
static u32 expect_fast, expect_emulated;

/* n accesses that take the fast path in every mode */
static void fast(u32 n) { expect_fast += n; }
/* n accesses that a decoding mode sends to the full emulator (a read, a
 * read-modify-write, a store across a page) and vmcs mode takes fast */
static void decoded_slow(u32 n)
{
	if (reads_signal)
		expect_fast += n;
	else
		expect_emulated += n;
}
/* n accesses that are no doorbell at all: the full path in every mode */
static void slow(u32 n) { expect_emulated += n; }

/* ---- stores of each size and every encoding -------------------------------- */

/* Each store under test starts 16-byte aligned, so that it never runs onto
 * the next page (which the fast path leaves to the full one) wherever the
 * linker puts it: the counts stay exact. */
#define ALIGNED ".p2align 4\n"

/* N stores of one encoding to DB; then exactly N signals. */
#define STORE_TEST(fn, code)                                                   \
	static void fn(void)                                                   \
	{                                                                      \
		for (int i = 0; i < N; i++)                                    \
			__asm__ volatile(ALIGNED code : : "a"(0x5a5a5a5a + i), \
					 "c"(0), "d"((uintptr_t)DB)            \
					 : "memory", "cc" R8_CLOBBER);         \
		fast(N);                                                       \
		CHECK_EQ(event_read(EV_DB), N);                                \
	}

/* The same with the address in EDX minus an offset (displacements). */
#define STORE_TEST_AT(fn, base, code)                                          \
	static void fn(void)                                                   \
	{                                                                      \
		for (int i = 0; i < N; i++)                                    \
			__asm__ volatile(ALIGNED code : : "a"(i), "c"(0),      \
					 "d"((uintptr_t)(base))                \
					 : "memory", "cc" R8_CLOBBER);         \
		fast(N);                                                       \
		CHECK_EQ(event_read(EV_DB), N);                                \
	}

STORE_TEST(test_store_1byte,  ".byte 0x88, 0x02")		/* mov [edx], al */
STORE_TEST(test_store_2byte,  ".byte 0x66, 0x89, 0x02")		/* mov [edx], ax */
STORE_TEST(test_store_4byte,  ".byte 0x89, 0x02")		/* mov [edx], eax */
#ifdef __x86_64__
STORE_TEST(test_store_8byte,  ".byte 0x48, 0x89, 0x02")		/* mov [rdx], rax */
#else
STORE_TEST(test_store_8byte,  ".byte 0x66, 0x0f, 0xd6, 0x02")	/* movq [edx], xmm0 */
#endif
STORE_TEST(test_store_16byte, ".byte 0x0f, 0x11, 0x02")		/* movups [edx], xmm0 */

/* MOV: C6/0 ib, C7/0 iz (and with 66: iw), A2/A3 moffs (address size) */
STORE_TEST(test_enc_c6,    ".byte 0xc6, 0x02, 0x5a")
STORE_TEST(test_enc_c7,    ".byte 0xc7, 0x02, 0x78, 0x56, 0x34, 0x12")
STORE_TEST(test_enc_66c7,  ".byte 0x66, 0xc7, 0x02, 0x34, 0x12")
STORE_TEST(test_enc_a2,    ".byte 0xa2; " MOFFS DB_S)
STORE_TEST(test_enc_a3,    ".byte 0xa3; " MOFFS DB_S)
STORE_TEST(test_enc_66a3,  ".byte 0x66, 0xa3; " MOFFS DB_S)
/* ModR/M forms: SIB [edx+ecx*1], disp8, disp32, SIB without base */
STORE_TEST(test_enc_sib,   ".byte 0x89, 0x04, 0x0a")
STORE_TEST_AT(test_enc_disp8,  DB - 0x10,  ".byte 0x89, 0x42, 0x10")
STORE_TEST_AT(test_enc_disp32, DB - 0x100, ".byte 0x89, 0x82, 0x00, 0x01, 0x00, 0x00")
#ifdef __x86_64__
/* [disp32] is sign-extended in 64-bit mode: 67 makes it 32-bit */
STORE_TEST(test_enc_sib_nobase, ".byte 0x67, 0x89, 0x04, 0x25; .long " DB_S)
#else
STORE_TEST(test_enc_sib_nobase, ".byte 0x89, 0x04, 0x25; .long " DB_S)
#endif
/* MOVNTI 0F C3 */
STORE_TEST(test_enc_movnti, ".byte 0x0f, 0xc3, 0x02")
/* SSE and MMX stores (0F 11, 0F 29, 0F 7F, 0F E7, 0F 7E, 66 0F D6) */
STORE_TEST(test_enc_movups,  ".byte 0x0f, 0x11, 0x02")
STORE_TEST(test_enc_movupd,  ".byte 0x66, 0x0f, 0x11, 0x02")
STORE_TEST(test_enc_movss,   ".byte 0xf3, 0x0f, 0x11, 0x02")
STORE_TEST(test_enc_movsd,   ".byte 0xf2, 0x0f, 0x11, 0x02")
STORE_TEST(test_enc_movaps,  ".byte 0x0f, 0x29, 0x02")
STORE_TEST(test_enc_movapd,  ".byte 0x66, 0x0f, 0x29, 0x02")
STORE_TEST(test_enc_movq_mm, ".byte 0x0f, 0x7f, 0x02; emms")
STORE_TEST(test_enc_movdqa,  ".byte 0x66, 0x0f, 0x7f, 0x02")
STORE_TEST(test_enc_movdqu,  ".byte 0xf3, 0x0f, 0x7f, 0x02")
STORE_TEST(test_enc_movntq,  ".byte 0x0f, 0xe7, 0x02; emms")
STORE_TEST(test_enc_movntdq, ".byte 0x66, 0x0f, 0xe7, 0x02")
STORE_TEST(test_enc_movd_mm, ".byte 0x0f, 0x7e, 0x02; emms")
STORE_TEST(test_enc_movd_xmm, ".byte 0x66, 0x0f, 0x7e, 0x02")
STORE_TEST(test_enc_movq_d6, ".byte 0x66, 0x0f, 0xd6, 0x02")
#ifdef __x86_64__
/* REX: W (64-bit operand), R (r8d source), B (r8 base) */
STORE_TEST(test_enc_rexw_c7,    ".byte 0x48, 0xc7, 0x02, 0x78, 0x56, 0x34, 0x12")
STORE_TEST(test_enc_rexw_movnti, ".byte 0x48, 0x0f, 0xc3, 0x02")
STORE_TEST(test_enc_rexw_movq_mm, ".byte 0x48, 0x0f, 0x7e, 0x02; emms")
STORE_TEST(test_enc_rexw_movq_xmm, ".byte 0x66, 0x48, 0x0f, 0x7e, 0x02")
STORE_TEST(test_enc_rexr,       "xor %%r8d, %%r8d; .byte 0x44, 0x89, 0x02")
STORE_TEST(test_enc_rexb,       "mov %%rdx, %%r8; .byte 0x41, 0x89, 0x00")
#endif

/* SETcc m8: every condition once (0F 90 .. 0F 9F), N = 16 stores. */
static void test_enc_setcc(void)
{
	__asm__ volatile(".byte 0x0f, 0x90, 0x02; .byte 0x0f, 0x91, 0x02\n"
			 ".byte 0x0f, 0x92, 0x02; .byte 0x0f, 0x93, 0x02\n"
			 ".byte 0x0f, 0x94, 0x02; .byte 0x0f, 0x95, 0x02\n"
			 ".byte 0x0f, 0x96, 0x02; .byte 0x0f, 0x97, 0x02\n"
			 ".byte 0x0f, 0x98, 0x02; .byte 0x0f, 0x99, 0x02\n"
			 ".byte 0x0f, 0x9a, 0x02; .byte 0x0f, 0x9b, 0x02\n"
			 ".byte 0x0f, 0x9c, 0x02; .byte 0x0f, 0x9d, 0x02\n"
			 ".byte 0x0f, 0x9e, 0x02; .byte 0x0f, 0x9f, 0x02\n"
			 : : "d"((uintptr_t)DB) : "memory");
	fast(16);
	CHECK_EQ(event_read(EV_DB), 16);
}

/* MOVBE m, r: 0F 38 F1 (32-bit), with 66 (16-bit), with REX.W (64-bit). */
static void test_enc_movbe(void)
{
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_MOVBE)) {
		guest_skip("this CPU has no MOVBE");
		return;
	}
	for (int i = 0; i < N; i++)
		__asm__ volatile(".byte 0x0f, 0x38, 0xf1, 0x02" : : "a"(i), "d"((uintptr_t)DB) : "memory");
	for (int i = 0; i < N; i++)
		__asm__ volatile(".byte 0x66, 0x0f, 0x38, 0xf1, 0x02" : : "a"(i), "d"((uintptr_t)DB) : "memory");
#ifdef __x86_64__
	for (int i = 0; i < N; i++)
		__asm__ volatile(".byte 0x48, 0x0f, 0x38, 0xf1, 0x02" : : "a"(i), "d"((uintptr_t)DB) : "memory");
	fast(N);
	CHECK_EQ(event_read(EV_DB), 3 * N);
#else
	CHECK_EQ(event_read(EV_DB), 2 * N);
#endif
	fast(2 * N);
}

/* ---- reads and near misses -------------------------------------------------- */

/* Reads of the doorbell address: nothing signalled, all ones read (in vmcs
 * mode: signalled, and the instruction skipped, so its register keeps its
 * value, as under KVM). */
static void test_reads(void)
{
	unsigned long a, want_ones = ~0ul;
	u32 reads = 0;

#define READ(code, pre, ones)                                                  \
	do {                                                                   \
		a = (pre);                                                     \
		__asm__ volatile(code : "+a"(a) : "d"((uintptr_t)DB) : "memory", "cc"); \
		reads++;                                                       \
		CHECK_EQ(a, reads_signal ? (unsigned long)(pre) : (ones));     \
	} while (0)
	READ(".byte 0x8b, 0x02", 0x1234, (u32)want_ones);		/* mov eax, [edx] */
	READ(".byte 0x8a, 0x02", 0x1200, 0x12ff);			/* mov al, [edx] */
	READ(".byte 0x66, 0x8b, 0x02", 0x12340000, 0x1234ffff);		/* mov ax, [edx] */
	READ(".byte 0x0f, 0xb6, 0x02", 0x1234, 0xff);			/* movzx eax, byte [edx] */
	READ(".byte 0xa1; " MOFFS DB_S, 0x1234, (u32)want_ones);	/* mov eax, [moffs] */
	READ(".byte 0x39, 0x02", 0x1234, 0x1234);			/* cmp [edx], eax */
#ifdef __x86_64__
	READ(".byte 0x48, 0x8b, 0x02", 0x1234, want_ones);		/* mov rax, [rdx] */
#endif
#undef READ
	decoded_slow(reads);
	CHECK_EQ(event_read(EV_DB), reads_signal ? reads : 0);
}

/* Accesses next to the doorbell: none signals, reads give all ones. */
static void test_near_misses(void)
{
	mmio_write32(DB + 1, 1);
	mmio_write8(DB + 1, 1);
	mmio_write32(DB + 4, 1);
	mmio_write32(DB + 0x100, 1);		/* same page, no doorbell there */
	mmio_write32(UNREG_PAGE, 1);		/* a window page without doorbells */
	CHECK_EQ(mmio_read32(DB + 4), ONES32);
	CHECK_EQ(mmio_read32(DB + 0x100), ONES32);
	CHECK_EQ(mmio_read32(UNREG_PAGE), ONES32);
	slow(8);
	CHECK_EQ(event_read(EV_DB), 0);
	CHECK_EQ(event_read(EV_PREV), 0);
}

/* A store that runs from the page before into DB's page: the exit reports
 * the first page (no doorbell at DB - 2: full path), and the emulator splits
 * the access at the page boundary as the CPU does, so its second half is a
 * 2-byte write at exactly DB, which is a hit, as under KVM (its emulator
 * splits page-crossing MMIO the same way). */
static void test_split_store(void)
{
	mmio_write32(DB - 2, 1);
	slow(1);
	CHECK_EQ(event_read(EV_DB), 1);
	CHECK_EQ(event_read(EV_PREV), 0);
}

/* Opt-in (ramedge=1, with doorbell_window=0x4000000:0x1000000 and the
 * default 64 MiB of RAM, so the window starts where RAM ends): a doorbell at
 * the window's first byte and a 4-byte store at 2 bytes before it; the
 * guest runs only this test. Its first
 * half is RAM, which the CPU can write, so the exit reports the second
 * page's address, the doorbell's. The RAM half must still be written. */
#define EDGE           0x4000000u
#define EV_EDGE        3
static void test_ram_edge(void)
{
	volatile u16 *ram = (volatile u16 *)(uintptr_t)(EDGE - 2);

	CHECK_EQ(ioeventfd(EDGE, 0, EV_EDGE, 0), 0);
	*ram = 0;
	__asm__ volatile(".byte 0x89, 0x02"	/* mov [edx], eax */
			 : : "a"(0x11223344), "d"((uintptr_t)(EDGE - 2)) : "memory");
	CHECK_EQ(*ram, 0x3344);
	CHECK_EQ(event_read(EV_EDGE), 1);
	CHECK_EQ(ioeventfd(EDGE, 0, EV_EDGE, F_DEASSIGN), 0);
}

/* ---- read-modify-write: the full path signals as well ------------------------- */

static void test_rmw(void)
{
	unsigned long a = 1, after = 0;

	__asm__ volatile(".byte 0x01, 0x02\n"		/* add [edx], eax */
			 ".byte 0x29, 0x02\n"		/* sub [edx], eax */
			 ".byte 0x80, 0x0a, 0x01\n"	/* or byte [edx], 1 */
			 ".byte 0x87, 0x02\n"		/* xchg [edx], eax */
			 "mov $" "0x600df00d" ", %1\n"	/* the guest goes on */
			 : "+a"(a), "=&r"(after) : "d"((uintptr_t)DB) : "memory", "cc");
	decoded_slow(4);
	CHECK_EQ(after, MARK);
	if (!reads_signal)
		CHECK_EQ(a, ONES32);		/* XCHG loaded the all-ones read (32-bit: zero-extended) */
	CHECK_EQ(event_read(EV_DB), 4);
}

/* ---- code rewritten at one RIP ------------------------------------------------ */

static u8 codebuf[64] __attribute__((aligned(64)));

/* Copies code to codebuf and calls it with EAX = a, EDX = DB; returns EAX. */
static unsigned long run_code(const u8 *code, u32 len, unsigned long a)
{
	volatile u8 *dst = codebuf;
	for (u32 i = 0; i < len; i++)
		dst[i] = code[i];
	__asm__ volatile("call *%[fn]"
			 : "+a"(a)
			 : [fn] "r"((uintptr_t)codebuf), "d"((uintptr_t)DB)
			 : "memory", "cc");
	return a;
}

static void test_code_rewrite(void)
{
	static const u8 store[] = { 0x89, 0x02, 0xc3 };		/* mov [edx], eax; ret */
	static const u8 load[] = { 0x8b, 0x02, 0xc3 };		/* mov eax, [edx]; ret */
	/* mov dword [edx], imm32; mov eax, MARK; ret */
	static const u8 store6[] = { 0xc7, 0x02, 0x78, 0x56, 0x34, 0x12,
				     0xb8, 0x0d, 0xf0, 0x0d, 0x60, 0xc3 };
	/* mov [edx], al; mov eax, MARK; ret */
	static const u8 store2[] = { 0x88, 0x02, 0xb8, 0x0d, 0xf0, 0x0d, 0x60, 0xc3 };

	for (int i = 0; i < 3; i++)
		run_code(store, sizeof(store), 7);
	fast(3);
	CHECK_EQ(event_read(EV_DB), 3);

	/* The same length, the same RIP, now a load. */
	unsigned long a = run_code(load, sizeof(load), 7);
	decoded_slow(1);
	CHECK_EQ(a, reads_signal ? 7 : ONES32);
	CHECK_EQ(event_read(EV_DB), reads_signal ? 1 : 0);

	/* A store of another length at the same RIP: RIP must land on the
	 * MOV that follows it. */
	for (int i = 0; i < 2; i++)
		CHECK_EQ(run_code(store6, sizeof(store6), 7), MARK);
	fast(2);
	CHECK_EQ(event_read(EV_DB), 2);

	CHECK_EQ(run_code(store2, sizeof(store2), 7), MARK);
	run_code(store, sizeof(store), 7);
	fast(2);
	CHECK_EQ(event_read(EV_DB), 2);
}

#ifndef __x86_64__
static bool paged;			/* paging=pse|pae */
static bool pae_paging;
/*
 * paging=pse|pae (32-bit guest): every test runs with paging on and the
 * first 4 GiB identity-mapped, with 4 MiB pages (CR4.PSE: 32-bit paging, as
 * kvm-unit-tests' i386 build runs) or 2 MiB pages under PAE. The fast path
 * then translates RIP with the full walker and write-protects the tables it
 * read (vmx/run.c: fast_mmio_verify); the counts must not change.
 */
#define CR0_PG         BIT(31)
#define CR4_PSE        BIT(4)
#define CR4_PAE        BIT(5)
#define PTE_P          BIT(0)
#define PTE_W          BIT(1)
#define PTE_PS         BIT(7)
static u32 pse_dir[1024] __attribute__((aligned(4096)));
static u64 pae_pdpt[4] __attribute__((aligned(32)));
static u64 pae_dir[4][512] __attribute__((aligned(4096)));

static void paging_on(bool pae)
{
	unsigned long cr0, cr4, cr3;

	if (pae) {
		for (u32 i = 0; i < 4; i++) {
			for (u32 j = 0; j < 512; j++)
				pae_dir[i][j] = ((u64)i << 30 | (u64)j << 21) | PTE_P | PTE_W | PTE_PS;
			pae_pdpt[i] = (u64)(uintptr_t)pae_dir[i] | PTE_P;	/* no W: reserved */
		}
		cr3 = (uintptr_t)pae_pdpt;
	} else {
		for (u32 i = 0; i < 1024; i++)
			pse_dir[i] = (u32)((i << 22) | PTE_P | PTE_W | PTE_PS);
		cr3 = (uintptr_t)pse_dir;
	}
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | (unsigned long)(pae ? CR4_PAE : CR4_PSE)));
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | (unsigned long)CR0_PG) : "memory");
}
#endif

/* ---- the code's page remapped under the same RIP ---------------------------- */

/*
 * With paging, the fast path's remembered store holds while the pages of the
 * table entries that translated RIP are write-protected (vmx/wprot.c); the
 * verified path rechecks or rewalks them (vmx/run.c: fast_mmio_verify). A
 * guest may remap its code with no exit at all (a page-table write and
 * INVLPG): the next doorbell at the same RIP must be decoded from the new
 * page. The two stores have different lengths, so a stale translation would
 * skip into the middle of the second one. 64-bit guest; the 32-bit one with
 * paging=pse or pae.
 */
#define REMAP_LA   0x7fe00000ul		/* 2 MiB (4 MiB with PSE) of the identity map, above RAM */
#define MARK_A     0x0a0a0a0au
#define PTE_P_W    0x3ull
static u8 remap_a[4096] __attribute__((aligned(4096)));
static u8 remap_b[4096] __attribute__((aligned(4096)));
static u64 remap_pt[512] __attribute__((aligned(4096)));
static u64 remap_pt2[512] __attribute__((aligned(4096)));

/* The directory entry that maps REMAP_LA; *wide: its tables' entries are 8
 * bytes (all but 32-bit paging, whose page tables hold 1024 of 4 bytes). */
static volatile void *remap_pde(bool *wide)
{
#ifdef __x86_64__
	unsigned long cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	u64 *pml4 = (u64 *)(uintptr_t)(cr3 & ~0xffful);
	u64 *pdpt = (u64 *)(uintptr_t)(pml4[0] & 0xffffffffff000ull);
	u64 *pd = (u64 *)(uintptr_t)(pdpt[REMAP_LA >> 30] & 0xffffffffff000ull);
	*wide = true;
	return &pd[(REMAP_LA >> 21) & 511];
#else
	*wide = pae_paging;
	if (pae_paging)
		return &pae_dir[REMAP_LA >> 30][(REMAP_LA >> 21) & 511];
	return &pse_dir[REMAP_LA >> 22];
#endif
}

static void remap_set(volatile void *entry, bool wide, u64 val)
{
	if (wide)
		*(volatile u64 *)entry = val;
	else
		*(volatile u32 *)entry = (u32)val;
	__asm__ volatile("invlpg (%0)" : : "r"(REMAP_LA) : "memory");
}

/* The page-table entry for REMAP_LA in table pt (of either width). */
static volatile void *remap_pte(u64 *pt, bool wide)
{
	u32 i = (u32)(REMAP_LA >> 12) & (wide ? 511 : 1023);
	return wide ? (volatile void *)&pt[i] : (volatile void *)&((u32 *)pt)[i];
}

/* Calls the code at REMAP_LA with EAX = 7, EDX = DB; returns EAX. */
static unsigned long remap_call(void)
{
	unsigned long a = 7;
	__asm__ volatile("call *%[fn]" : "+a"(a) : [fn] "r"(REMAP_LA), "d"((uintptr_t)DB)
			 : "memory", "cc");
	return a;
}

static void test_code_remap(void)
{
	/* mov [rdx], eax; mov eax, MARK_A; ret */
	static const u8 a[] = { 0x89, 0x02, 0xb8, 0x0a, 0x0a, 0x0a, 0x0a, 0xc3 };
	/* mov dword [rdx], 0x90c301b0; ret (EAX stays 7). Resumed 2 bytes in,
	 * with A's length, it would run mov al, 1; ret instead. */
	static const u8 b[] = { 0xc7, 0x02, 0xb0, 0x01, 0xc3, 0x90, 0xc3 };
	bool wide;
	volatile void *pde = remap_pde(&wide);
	u64 old = wide ? *(volatile u64 *)pde : *(volatile u32 *)pde;

	memcpy(remap_a, a, sizeof(a));
	memcpy(remap_b, b, sizeof(b));
	remap_set(remap_pte(remap_pt, wide), wide, (uintptr_t)remap_a | PTE_P_W);
	remap_set(remap_pte(remap_pt2, wide), wide, (uintptr_t)remap_b | PTE_P_W);
	remap_set(pde, wide, (uintptr_t)remap_pt | PTE_P_W);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(remap_call(), MARK_A);
	/* The page-table entry changes: the other page at the same RIP. */
	remap_set(remap_pte(remap_pt, wide), wide, (uintptr_t)remap_b | PTE_P_W);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(remap_call(), 7);
	remap_set(remap_pte(remap_pt, wide), wide, (uintptr_t)remap_a | PTE_P_W);
	CHECK_EQ(remap_call(), MARK_A);
	/* A directory entry changes (another page table), the old table's
	 * entry does not: checking the last level alone would miss it. */
	remap_set(pde, wide, (uintptr_t)remap_pt2 | PTE_P_W);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(remap_call(), 7);
	remap_set(pde, wide, old);
	fast(8);
	CHECK_EQ(event_read(EV_DB), 8);
}

/* ---- single step ------------------------------------------------------------- */

/* Our own #DB handler (vector 1, an interrupt gate): it records DR6 and the
 * return address, counts, and clears TF in the frame so the single step
 * ends with it. */
volatile unsigned long db_dr6, db_rip, db_count;
void fm_db_handler(void);
extern const char fm_ss_store[], fm_ss_after[], fm_ss2_after[];

#ifdef __x86_64__
__asm__(".text\n.globl fm_db_handler\nfm_db_handler:\n"
	"push %rax\n"
	"mov %dr6, %rax\n"
	"mov %rax, db_dr6(%rip)\n"
	"mov 8(%rsp), %rax\n"			/* RIP */
	"mov %rax, db_rip(%rip)\n"
	"andq $~0x100, 24(%rsp)\n"		/* RFLAGS.TF */
	"incq db_count(%rip)\n"
	"pop %rax\n"
	"iretq\n");
#else
__asm__(".text\n.globl fm_db_handler\nfm_db_handler:\n"
	"push %eax\n"
	"mov %dr6, %eax\n"
	"mov %eax, db_dr6\n"
	"mov 4(%esp), %eax\n"			/* EIP */
	"mov %eax, db_rip\n"
	"andl $~0x100, 12(%esp)\n"		/* EFLAGS.TF */
	"incl db_count\n"
	"pop %eax\n"
	"iret\n");
#endif

/* A second #DB handler for instruction breakpoints (faults): records each
 * RIP, and returns with RF set so the instruction can run (SDM Vol. 3A,
 * "Instruction-Breakpoint Exception Condition"). */
volatile unsigned long bp_rips[4], bp_count;
void fm_bp_handler(void);
extern const char fm_bp_store[], fm_bp_next[];
#ifdef __x86_64__
__asm__(".text\n.globl fm_bp_handler\nfm_bp_handler:\n"
	"push %rax\n"
	"push %rcx\n"
	"push %rdx\n"
	"mov bp_count(%rip), %rcx\n"
	"and $3, %rcx\n"
	"mov 24(%rsp), %rax\n"			/* RIP */
	"lea bp_rips(%rip), %rdx\n"
	"mov %rax, (%rdx,%rcx,8)\n"
	"orq $0x10000, 40(%rsp)\n"		/* RFLAGS.RF */
	"incq bp_count(%rip)\n"
	"pop %rdx\n"
	"pop %rcx\n"
	"pop %rax\n"
	"iretq\n");
#else
__asm__(".text\n.globl fm_bp_handler\nfm_bp_handler:\n"
	"push %eax\n"
	"push %ecx\n"
	"mov bp_count, %ecx\n"
	"and $3, %ecx\n"
	"mov 8(%esp), %eax\n"
	"mov %eax, bp_rips(,%ecx,4)\n"
	"orl $0x10000, 16(%esp)\n"		/* EFLAGS.RF */
	"incl bp_count\n"
	"pop %ecx\n"
	"pop %eax\n"
	"iret\n");
#endif

struct idt_ptr {
	u16 limit;
	uintptr_t base;
} __packed;

/* Points IDT vector vec at handler; returns the gate's old offset. */
static uintptr_t set_gate(u32 vec, uintptr_t handler)
{
	struct idt_ptr idt;
	__asm__ volatile("sidt %0" : "=m"(idt));
	volatile u8 *g = (volatile u8 *)(idt.base + vec * (sizeof(long) == 8 ? 16 : 8));
	uintptr_t old = *(volatile u16 *)g | (uintptr_t)*(volatile u16 *)(g + 6) << 16;
#ifdef __x86_64__
	old |= (uintptr_t)*(volatile u32 *)(g + 8) << 32;
	*(volatile u32 *)(g + 8) = (u32)(handler >> 32);
#endif
	*(volatile u16 *)g = (u16)handler;
	*(volatile u16 *)(g + 6) = (u16)(handler >> 16);
	return old;
}

static uintptr_t set_db_gate(uintptr_t handler)
{
	return set_gate(X86_VEC_DB, handler);
}

static void set_dr6(unsigned long v)
{
	__asm__ volatile("mov %0, %%dr6" : : "r"(v));
}

/*
 * In Bochs this passes even when the hypervisor leaves BS out of the pending
 * debug exceptions: Bochs itself carries the single step it scheduled for the
 * store across the VM exit (verified by disabling vcpu_skip_finish's BS). So
 * here it checks the RIP, the count and DR6, and the BS write is what makes
 * it pass on hardware, where a fault-like exit leaves no single step pending.
 */
static void test_single_step(void)
{
	uintptr_t old = set_db_gate((uintptr_t)fm_db_handler);

	db_count = 0;
	db_rip = 0;
	db_dr6 = 0;
	set_dr6(DR6_INIT);
	/* POPF sets TF: the trap comes after the next instruction, the store. */
	__asm__ volatile("pushf\n"
			 "orl $0x100, (" SP ")\n"
			 "popf\n"
			 ".globl fm_ss_store\nfm_ss_store:\n"
			 ".byte 0x89, 0x02\n"		/* mov [edx], eax */
			 ".globl fm_ss_after\nfm_ss_after:\n"
			 "nop\n"
			 : : "a"(1), "d"((uintptr_t)DB) : "memory", "cc");
	set_db_gate(old);
	fast(1);
	CHECK_EQ(db_count, 1);
	CHECK_EQ(db_rip, (uintptr_t)fm_ss_after);
	CHECK(db_dr6 & DR6_BS);
	CHECK_EQ(event_read(EV_DB), 1);
}

/* The same over an access the full emulator handles (a near miss). */
static void test_single_step_full_path(void)
{
	uintptr_t old = set_db_gate((uintptr_t)fm_db_handler);

	db_count = 0;
	db_rip = 0;
	db_dr6 = 0;
	set_dr6(DR6_INIT);
	__asm__ volatile("pushf\n"
			 "orl $0x100, (" SP ")\n"
			 "popf\n"
			 ".byte 0x89, 0x02\n"		/* mov [edx], eax */
			 ".globl fm_ss2_after\nfm_ss2_after:\n"
			 "nop\n"
			 : : "a"(1), "d"((uintptr_t)DB + 4) : "memory", "cc");
	set_db_gate(old);
	slow(1);
	CHECK_EQ(db_count, 1);
	CHECK_EQ(db_rip, (uintptr_t)fm_ss2_after);
	CHECK(db_dr6 & DR6_BS);
	CHECK_EQ(event_read(EV_DB), 0);
}

/* Opt-in (bpcheck=1): instruction breakpoints around VM exits. DR0 on a
 * doorbell store, DR1 on the instruction after it: a real CPU faults on the
 * store (#DB, the handler sets RF), runs it, clears RF, and faults again on
 * the next instruction. Checks that the guest's DR7 survives a VM exit and
 * that skipping the store ends RF as completing it would. */
static void set_dr(int n, unsigned long v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%dr0" : : "r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%dr1" : : "r"(v)); break;
	case 7: __asm__ volatile("mov %0, %%dr7" : : "r"(v)); break;
	}
}

static unsigned long get_dr7(void)
{
	unsigned long v;
	__asm__ volatile("mov %%dr7, %0" : "=r"(v));
	return v;
}

#define DR7_L0  BIT(0)
#define DR7_L1  BIT(2)
#define DR7_FIXED 0x400ul

static void test_dr7_survives_exit(void)
{
	set_dr(7, DR7_FIXED | (unsigned long)DR7_L0);
	(void)cpuid(0, 0);			/* a VM exit */
	unsigned long after = get_dr7();
	set_dr(7, DR7_FIXED);
	CHECK_EQ(after, DR7_FIXED | (unsigned long)DR7_L0);
}

static void test_rf_after_skip(void)
{
	uintptr_t old = set_db_gate((uintptr_t)fm_bp_handler);

	bp_count = 0;
	set_dr(0, (uintptr_t)fm_bp_store);
	set_dr(1, (uintptr_t)fm_bp_next);
	set_dr(7, DR7_FIXED | (unsigned long)(DR7_L0 | DR7_L1));
	__asm__ volatile(".globl fm_bp_store\nfm_bp_store:\n"
			 ".byte 0x89, 0x02\n"		/* mov [edx], eax */
			 ".globl fm_bp_next\nfm_bp_next:\n"
			 "nop\n"
			 : : "a"(1), "d"((uintptr_t)DB) : "memory");
	set_dr(7, DR7_FIXED);
	set_db_gate(old);
	fast(1);
	CHECK_EQ(event_read(EV_DB), 1);
	CHECK_EQ(bp_count, 2);
	CHECK_EQ(bp_rips[0], (uintptr_t)fm_bp_store);
	CHECK_EQ(bp_rips[1], (uintptr_t)fm_bp_next);
}

/* ---- prefix soups ------------------------------------------------------------ */

/* A GDT of our own: the library's entries and one data segment whose base is
 * DB, loaded into FS, so 16-bit addressing reaches the doorbell. */
#define SOUP_SEL       0x40			/* entry 8 */
static u64 soup_gdt[16] __attribute__((aligned(16)));

#ifndef __x86_64__
/* ---- CR4.PSE changes the translation, and nothing else does --------------- */

/*
 * paging=pse only. A page directory of its own maps the first 64 MiB and
 * the doorbell's 4 MiB with 4 KiB pages (read the same with CR4.PSE on or
 * off), and one more entry, for CS_LA's 4 MiB, with PS set: with PSE on it
 * is a 4 MiB page at physical CS_PHYS; with PSE off its PS bit is ignored
 * and it names a page table at CS_PHYS. So clearing CR4.PSE moves
 * CS_LA + 4 KiB from code A (at CS_PHYS + 4 KiB) to code B (through that
 * table) with no write to memory and no new CR3: the remembered store must
 * be dropped (CR4.PSE is in the guest/host mask, vmx/vmcs.c).
 */
#define CS_LA        0x7fc00000u		/* 4 MiB-aligned, above RAM */
#define CS_PHYS      0x00400000u		/* free RAM, 4 MiB-aligned */
#define DIR_P_W      0x3u
#define DIR_PS       0x80u
static u32 alt_dir[1024] __attribute__((aligned(4096)));
static u32 alt_pt[17][1024] __attribute__((aligned(4096)));

static unsigned long alt_call(void)
{
	unsigned long a = 7;
	__asm__ volatile("call *%[fn]" : "+a"(a) : [fn] "r"(CS_LA + 0x1000u), "d"((uintptr_t)DB)
			 : "memory", "cc");
	return a;
}

static void set_cr4_pse(bool on)
{
	unsigned long cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 = on ? cr4 | (unsigned long)CR4_PSE : cr4 & ~(unsigned long)CR4_PSE;
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
}

static void test_cr4_pse(void)
{
	/* mov [edx], eax; mov eax, MARK_A; ret */
	static const u8 a[] = { 0x89, 0x02, 0xb8, 0x0a, 0x0a, 0x0a, 0x0a, 0xc3 };
	/* mov dword [edx], 0x90c301b0; ret: with A's length, mov al, 1; ret */
	static const u8 b[] = { 0xc7, 0x02, 0xb0, 0x01, 0xc3, 0x90, 0xc3 };
	u32 *table = (u32 *)(uintptr_t)CS_PHYS;
	unsigned long cr3;

	for (u32 t = 0; t < 16; t++) {
		for (u32 i = 0; i < 1024; i++)
			alt_pt[t][i] = (t << 22 | i << 12) | DIR_P_W;
		alt_dir[t] = (u32)(uintptr_t)alt_pt[t] | DIR_P_W;
	}
	for (u32 i = 0; i < 1024; i++)
		alt_pt[16][i] = ((DB & 0xffc00000u) | i << 12) | DIR_P_W;
	alt_dir[DB >> 22] = (u32)(uintptr_t)alt_pt[16] | DIR_P_W;
	alt_dir[CS_LA >> 22] = CS_PHYS | DIR_PS | DIR_P_W;
	memset(table, 0, 4096);
	table[1] = (u32)(uintptr_t)remap_b | DIR_P_W;
	memcpy(remap_b, b, sizeof(b));
	memcpy((u8 *)(uintptr_t)CS_PHYS + 0x1000, a, sizeof(a));

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	__asm__ volatile("mov %0, %%cr3" : : "r"(alt_dir) : "memory");
	for (int i = 0; i < 3; i++)
		CHECK_EQ(alt_call(), MARK_A);
	set_cr4_pse(false);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(alt_call(), 7);
	set_cr4_pse(true);
	CHECK_EQ(alt_call(), MARK_A);
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
	fast(6);
	CHECK_EQ(event_read(EV_DB), 6);
}
#endif

/* ---- the remembered store's pages are write-protected ------------------------ */

/*
 * In decode mode the fast path trusts the last store it decoded at CS:RIP
 * for as long as the pages it read stay write-protected (vmx/wprot.c). Two
 * writers the guest's own stores do not cover are tested here, on a page
 * of their own (wp_page) that nothing else writes: an instruction doorbell
 * emulates writing the code (MOVS from IORAM), and the CPU pushing an
 * exception frame onto the code's page (INT3 with the stack there), an
 * EPT violation during event delivery that must deliver the event again.
 * Both fragments are written before either runs, so that the guest's own
 * setup writes fault nothing in between.
 */
static u8 wp_page[4096] __attribute__((aligned(4096)));
#define WP_FRAG_B      0x100			/* fragment B's offset */
#define WP_STACK_TOP   (4096 - 64)		/* INT3's stack, on the same page */
#define WP_IORAM       (TESTDEV_IORAM + 0x800)
volatile unsigned long wp_int3_count;
void fm_int3_handler(void);
#ifdef __x86_64__
__asm__(".text\n.globl fm_int3_handler\nfm_int3_handler:\n"
	"incq wp_int3_count(%rip)\n"
	"iretq\n");
#define XCHG_SP_CX     0x48, 0x87, 0xe1		/* xchg rsp, rcx */
#else
__asm__(".text\n.globl fm_int3_handler\nfm_int3_handler:\n"
	"incl wp_int3_count\n"
	"iret\n");
#define XCHG_SP_CX     0x87, 0xe1		/* xchg esp, ecx */
#endif
/* A: mov [edx], eax; ret. Rewritten by MOVS to wp_store6. */
static const u8 wp_frag_a[] = { 0x89, 0x02, 0xc3 };
/* mov dword [edx], 0x90c3c031; mov eax, MARK; ret: resumed 2 bytes in, with
 * A's length, it would run xor eax, eax; ret instead and return 0. */
static const u8 wp_store6[12] = { 0xc7, 0x02, 0x31, 0xc0, 0xc3, 0x90,
				  0xb8, 0x0d, 0xf0, 0x0d, 0x60, 0xc3 };
/* B: mov [edx], eax; xchg sp, cx; int3; xchg sp, cx; ret */
static const u8 wp_frag_b[] = { 0x89, 0x02, XCHG_SP_CX, 0xcc, XCHG_SP_CX, 0xc3 };
/* C: xchg sp, cx; pushf; or dword [sp], 0x100 (TF); popf; mov [edx], eax;
 * xchg sp, cx; ret. The single step traps after the store (SDM: after the
 * instruction that follows the POPF that set TF). */
static const u8 wp_frag_c[] = { XCHG_SP_CX, 0x9c, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00,
				0x9d, 0x89, 0x02, XCHG_SP_CX, 0xc3 };
#define WP_FRAG_C      0x200			/* fragment C's offset */
#define WP_C_AFTER     (sizeof(wp_frag_c) - 1 - sizeof((u8[]){ XCHG_SP_CX }))

static unsigned long wp_call(u32 off, unsigned long a)
{
	uintptr_t stack = (uintptr_t)wp_page + WP_STACK_TOP;
	__asm__ volatile("call *%[fn]"
			 : "+a"(a), "+c"(stack)
			 : [fn] "r"((uintptr_t)wp_page + off), "d"((uintptr_t)DB)
			 : "memory", "cc");
	return a;
}

static void test_wprot_emulated_write(void)
{
	memcpy(wp_page, wp_frag_a, sizeof(wp_frag_a));
	memcpy(wp_page + WP_FRAG_B, wp_frag_b, sizeof(wp_frag_b));
	memcpy(wp_page + WP_FRAG_C, wp_frag_c, sizeof(wp_frag_c));
	for (int i = 0; i < 3; i++)
		CHECK_EQ(wp_call(0, 7), 7);
	fast(3);
	/* The new code goes to IORAM (3 emulated stores), then MOVS copies it
	 * over A, dword by dword (3 emulated MOVS, each reading IORAM): the
	 * only writes to wp_page are the hypervisor's. */
	for (u32 i = 0; i < sizeof(wp_store6); i += 4) {
		u32 w;
		memcpy(&w, wp_store6 + i, 4);
		mmio_write32(WP_IORAM + i, w);
	}
	slow(3);
	uintptr_t src = WP_IORAM, dst = (uintptr_t)wp_page;
	__asm__ volatile("cld\nmovsl\nmovsl\nmovsl" : "+S"(src), "+D"(dst) : : "memory");
	slow(3);
	CHECK(!memcmp(wp_page, wp_store6, sizeof(wp_store6)));
	for (int i = 0; i < 2; i++)
		CHECK_EQ(wp_call(0, 7), MARK);
	fast(2);
	CHECK_EQ(event_read(EV_DB), 5);
}

/* Fragment C: the single step's #DB after a doorbell store, its frame
 * pushed onto the code's page. The page is protected from the second pass
 * on (the first pays off the back-off left by the INT3 test); a #DB that
 * was not delivered again would be lost (the trap's condition is gone) or,
 * TF still set, come one instruction late. */
static void test_wprot_single_step(void)
{
	uintptr_t old = set_db_gate((uintptr_t)fm_db_handler);

	for (int i = 0; i < 3; i++) {
		db_count = 0;
		db_rip = 0;
		db_dr6 = 0;
		set_dr6(DR6_INIT);
		CHECK_EQ(wp_call(WP_FRAG_C, 7), 7);
		CHECK_EQ(db_count, 1);
		CHECK_EQ(db_rip, (uintptr_t)wp_page + WP_FRAG_C + WP_C_AFTER);
		CHECK(db_dr6 & DR6_BS);
	}
	set_db_gate(old);
	fast(3);
	CHECK_EQ(event_read(EV_DB), 3);
}

static void test_wprot_event_frame(void)
{
	uintptr_t old = set_gate(3, (uintptr_t)fm_int3_handler);

	wp_int3_count = 0;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(wp_call(WP_FRAG_B, 7), 7);
	set_gate(3, old);
	fast(3);
	CHECK_EQ(wp_int3_count, 3);
	CHECK_EQ(event_read(EV_DB), 3);
}

static void test_prefix_soup(void)
{
	struct idt_ptr old, mine;		/* the same layout as GDTR */
	u16 fs;

	__asm__ volatile("sgdt %0" : "=m"(old));
	__asm__ volatile("mov %%fs, %0" : "=r"(fs));
	memcpy(soup_gdt, (const void *)old.base, (size_t)old.limit + 1 < sizeof(soup_gdt) ?
	       (size_t)old.limit + 1 : sizeof(soup_gdt));
	/* SDM Vol. 3A, "Segment Descriptors": base DB, limit 4 GiB, data RW. */
	soup_gdt[SOUP_SEL / 8] = 0x00cf93000000ffffull | (u64)(DB & 0xffffff) << 16 |
				 (u64)(DB >> 24) << 56;
	mine.limit = sizeof(soup_gdt) - 1;
	mine.base = (uintptr_t)soup_gdt;
	__asm__ volatile("lgdt %0; mov %1, %%fs" : : "m"(mine), "r"((u16)SOUP_SEL) : "memory");

	u32 soups = 0;
#define SOUP(code)                                                             \
	do {                                                                   \
		for (int i = 0; i < N; i++)                                    \
			__asm__ volatile(ALIGNED code : : "a"(i), "b"(0), "S"(0), "D"(0), \
					 "d"((uintptr_t)DB) : "memory", "cc" R8_CLOBBER); \
		soups++;                                                       \
		CHECK_EQ(event_read(EV_DB), N);                                \
	} while (0)
	/* fs: (16-bit addressing / 64-bit: 32-bit) mov [bx]/[edi], ax */
	SOUP(".byte 0x64, 0x67, 0x66, 0x89, 0x07");
	SOUP(".byte 0x3e, 0x66, 0x89, 0x02");			/* ds: mov [edx], ax */
	SOUP(".byte 0x26, 0x88, 0x02");				/* es: mov [edx], al */
#ifdef __x86_64__
	SOUP(".byte 0x64, 0x89, 0x04, 0x25, 0, 0, 0, 0");	/* mov fs:[0], eax */
	SOUP(".byte 0x67, 0xa3; .long " DB_S);			/* mov [moffs32], eax */
	SOUP(".byte 0x65, 0x67, 0x48, 0x89, 0x02");		/* mov gs:[edx], rax */
	/* mov word fs:[r8d], imm16, with r8 = 0 */
	SOUP("xor %%r8d, %%r8d; .byte 0x64, 0x67, 0x66, 0x41, 0xc7, 0x00, 0x34, 0x12");
#else
	SOUP(".byte 0x64, 0x67, 0xc7, 0x06, 0, 0, 0x78, 0x56, 0x34, 0x12"); /* mov dword fs:[0], imm32 */
	SOUP(".byte 0x64, 0x67, 0xa3, 0, 0");			/* mov fs:[moffs16 0], eax */
	SOUP(".byte 0x64, 0x67, 0x89, 0x80, 0, 0");		/* mov fs:[bx+si+0], eax */
	SOUP(".byte 0x66, 0x67, 0x64, 0xc7, 0x47, 0x00, 0x34, 0x12"); /* mov word fs:[bx+0], imm16 */
#endif
#undef SOUP
	__asm__ volatile("mov %1, %%fs; lgdt %0" : : "m"(old), "r"(fs) : "memory");
	fast(soups * N);
}

/* ---- instructions across a page boundary -------------------------------------- */

static u8 pages[2 * 4096] __attribute__((aligned(4096)));

/* mov dword [edx], imm32 placed at 4096 - back, then mov eax, MARK; ret. */
static unsigned long straddle(u32 back)
{
	static const u8 code[] = { 0xc7, 0x02, 0x78, 0x56, 0x34, 0x12,
				   0xb8, 0x0d, 0xf0, 0x0d, 0x60, 0xc3 };
	volatile u8 *at = pages + 4096 - back;
	unsigned long a = 0;

	for (u32 i = 0; i < sizeof(code); i++)
		at[i] = code[i];
	__asm__ volatile("call *%[fn]"
			 : "+a"(a)
			 : [fn] "r"((uintptr_t)at), "d"((uintptr_t)DB)
			 : "memory", "cc");
	return a;
}

static void test_page_straddle(void)
{
	/* 16 and more bytes before the end: the decoded-store cache; 10 and
	 * 6: decoded from the rest of the page; 5 and 1: the instruction runs
	 * onto the next page, so the full path fetches and emulates it. */
	static const u32 backs[] = { 16, 10, 6, 5, 1 };
	for (u32 k = 0; k < ARRAY_SIZE(backs); k++) {
		CHECK_EQ(straddle(backs[k]), MARK);
		CHECK_EQ(event_read(EV_DB), 1);
		if (backs[k] >= 6)
			fast(1);
		else
			decoded_slow(1);
	}
}

/* ---- setup -------------------------------------------------------------------- */

/* SSE as an OS enables it (SDM Vol. 3A, "Initialization of the SSE
 * Extensions"): CR4.OSFXSR and OSXMMEXCPT, CR0.EM clear, CR0.MP set. */
static void enable_sse(void)
{
	unsigned long cr0, cr4;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 = (cr0 & ~(unsigned long)(CR0_EM | CR0_TS)) | (unsigned long)CR0_MP;
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= (unsigned long)(CR4_OSFXSR | CR4_OSXMMEXCPT);
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	__asm__ volatile("fninit");
}

static void test_config(void)
{
	u32 len = HV_CFG_LEN(cpuid(CPUID_HV_CONFIG, 0).eax);
	CHECK_EQ(len, (u32)mode);
	CHECK_EQ(ioeventfd(DB, 0, EV_DB, 0), 0);
	CHECK_EQ(ioeventfd(DB_PREV, 0, EV_PREV, 0), 0);
	CHECK_EQ(event_read(EV_DB), 0);
}

static void test_deassign(void)
{
	CHECK_EQ(ioeventfd(DB, 0, EV_DB, F_DEASSIGN), 0);
	mmio_write32(DB, 1);			/* no doorbell now: full path */
	slow(1);
	CHECK_EQ(event_read(EV_DB), 0);
}

#define T(name) { #name, test_##name, GUEST_TEST_NEEDS_DOORBELL }
static const struct guest_test tests[] = {
	T(config),
	T(store_1byte), T(store_2byte), T(store_4byte), T(store_8byte), T(store_16byte),
	T(enc_c6), T(enc_c7), T(enc_66c7), T(enc_a2), T(enc_a3), T(enc_66a3),
	T(enc_sib), T(enc_disp8), T(enc_disp32), T(enc_sib_nobase),
	T(enc_movnti), T(enc_setcc), T(enc_movbe),
	T(enc_movups), T(enc_movupd), T(enc_movss), T(enc_movsd),
	T(enc_movaps), T(enc_movapd), T(enc_movq_mm), T(enc_movdqa), T(enc_movdqu),
	T(enc_movntq), T(enc_movntdq), T(enc_movd_mm), T(enc_movd_xmm), T(enc_movq_d6),
#ifdef __x86_64__
	T(enc_rexw_c7), T(enc_rexw_movnti), T(enc_rexw_movq_mm), T(enc_rexw_movq_xmm),
	T(enc_rexr), T(enc_rexb),
#endif
	T(wprot_emulated_write), T(wprot_event_frame), T(wprot_single_step),
#ifdef __x86_64__
	T(code_remap),
#endif
	T(reads), T(near_misses), T(split_store), T(rmw), T(code_rewrite), T(single_step),
	T(prefix_soup), T(page_straddle),
	T(deassign),
};
static const struct guest_test fullstep_test[] = { T(single_step_full_path) };
static const struct guest_test bp_tests[] = { T(dr7_survives_exit), T(rf_after_skip) };
static const struct guest_test edge_test[] = { T(ram_edge) };

/* guest_run_tests() exits; this runs first and prints the expectation. */
static struct guest_test all[ARRAY_SIZE(tests) + 6];

static void test_expectations(void)
{
	printf("fastmmio: expect fast-MMIO %u, emulated %u\n", expect_fast, expect_emulated);
}

static bool word_is(const char *cl, const char *key, const char *val)
{
	size_t k = strlen(key), n = strlen(val);
	for (const char *w = cl; *w; ) {
		while (*w == ' ')
			w++;
		if (!memcmp(w, key, k) && w[k] == '=' && !memcmp(w + k + 1, val, n) &&
		    (w[k + 1 + n] == ' ' || w[k + 1 + n] == '\0'))
			return true;
		while (*w && *w != ' ')
			w++;
	}
	return false;
}

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	const char *cl = mb_cmdline(mbi);
	u64 fs = 0;
	u32 n = 0;
	(void)magic;

	if (word_is(cl, "mode", "vmcs"))
		mode = MODE_VMCS;
	else if (word_is(cl, "mode", "check"))
		mode = MODE_CHECK;
	reads_signal = mode == MODE_VMCS;
	fullstep = mb_cmdline_value(mbi, "fullstep", &fs) && fs;
	bpcheck = mb_cmdline_value(mbi, "bpcheck", &fs) && fs;
	ramedge = mb_cmdline_value(mbi, "ramedge", &fs) && fs;
	printf("fastmmio: %s-bit guest, mode=%s\n", sizeof(long) == 8 ? "64" : "32",
	       mode == MODE_VMCS ? "vmcs" : mode == MODE_CHECK ? "check" : "decode");
	if (!(cpuid(1, 0).edx & CPUID_1_EDX_SSE2)) {
		printf("fastmmio: this CPU has no SSE2\n");
		return 1;
	}
	enable_sse();
#ifndef __x86_64__
	if (word_is(cl, "paging", "pse") || word_is(cl, "paging", "pae")) {
		bool pae = word_is(cl, "paging", "pae");
		paging_on(pae);
		paged = true;
		pae_paging = pae;
		printf("fastmmio: paging on, %s\n", pae ? "PAE, 2 MiB pages" : "32-bit, 4 MiB pages");
	}
#endif
	/* The opt-in tests run before the last one, the deassign. */
	for (u32 i = 0; i + 1 < ARRAY_SIZE(tests); i++) {
		all[n++] = tests[i];
#ifndef __x86_64__
		if (paged && tests[i].fn == test_wprot_single_step)
			all[n++] = (struct guest_test){ "code_remap", test_code_remap, 0 };
		if (paged && !pae_paging && tests[i].fn == test_wprot_single_step)
			all[n++] = (struct guest_test){ "cr4_pse", test_cr4_pse, 0 };
#endif
	}
	if (fullstep)
		all[n++] = fullstep_test[0];
	if (bpcheck) {
		all[n++] = bp_tests[0];
		all[n++] = bp_tests[1];
	}
	if (ramedge)		/* the window is elsewhere: only this test */
		guest_run_tests(edge_test, 1);
	all[n++] = tests[ARRAY_SIZE(tests) - 1];
	all[n++] = (struct guest_test){ "expectations", test_expectations, 0 };
	guest_run_tests(all, n);
}
