/*
 * guest/emulator.c - the MMIO emulator, checked from inside the guest, 32-
 * and 64-bit (issue 8).
 *
 * Every instruction form drivers and test suites use on MMIO runs twice:
 * with its memory operand in guest RAM, where the CPU executes it, and in
 * pc-testdev IORAM (guest-physical 0xFF000000, "behaves like RAM"), where
 * every access exits and doorbell's decoder and emulator execute it. RAM is
 * the oracle: the registers, the flags the SDM defines for the instruction,
 * the exception raised (vector, error code, CR2) and the bytes around the
 * operand must come out the same. One line per form: "ok NAME" or
 * "FAIL NAME: ...", then "guest: N passed, N failed".
 *
 * Page crossing needs RAM and IORAM on adjacent linear pages: the guest
 * turns on paging (32-bit: 4-MiB pages, identity) or edits its own tables
 * (64-bit) and maps a window at linear 0x40000000:
 *   W+0x0000 RAM page A      W+0x1000 IORAM page 0     W+0x2000 RAM page B
 *   W+0x3000 IORAM last page W+0x4000 unassigned       W+0x5000 not present
 * and an all-RAM oracle window at W+0x8000: RAM pages C D E (contiguous).
 *
 * The command-line word stack=1 runs only the forms whose stack is in MMIO:
 * an exception there would be delivered onto an MMIO stack, which no
 * hypervisor emulates, so they run in a boot of their own.
 */
#include "lib/guest.h"

#define WINDOW          0x40000000ul
#define W_RAM_A         (WINDOW + 0x0000)
#define W_IORAM0        (WINDOW + 0x1000)
#define W_RAM_B         (WINDOW + 0x2000)
#define W_IORAM_LAST    (WINDOW + 0x3000)
#define W_UNASSIGNED    (WINDOW + 0x4000)
#define W_NOT_PRESENT   (WINDOW + 0x5000)
#define W_ORACLE        (WINDOW + 0x8000)	/* three RAM pages */
#define IORAM_LAST_PAGE (TESTDEV_IORAM + TESTDEV_IORAM_SIZE - 0x1000)
#define UNASSIGNED_GPA  (TESTDEV_IORAM + TESTDEV_IORAM_SIZE)
#define PAGE            0x1000ul

#define PTE_P           BIT(0)
#define PTE_W           BIT(1)
#define PTE_PS          BIT(7)
#define CR0_EM          BIT(2)
#define CR0_TS          BIT(3)
#define CR4_PSE         BIT(4)
#define CR4_OSFXSR      BIT(9)
#define CR4_OSXMMEXCPT  BIT(10)

/* SDM Vol. 1, "EFLAGS Register" */
#define F_CF  0x001ul
#define F_PF  0x004ul
#define F_AF  0x010ul
#define F_ZF  0x040ul
#define F_SF  0x080ul
#define F_DF  0x400ul
#define F_OF  0x800ul
#define F_ALL (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

#define X86_VEC_SS 12

/* Bytes compared around the operand: [mem - REGION_PRE, mem + REGION_POST). */
#define REGION_PRE   0x90
#define REGION_POST  0xc0

#ifdef __x86_64__
#define R(x)  "%%r" #x
#define SFX   "q"
#define WORD_BYTES 8
#else
#define R(x)  "%%e" #x
#define SFX   "l"
#define WORD_BYTES 4
#endif
#define RB    "(" R(bx) ")"	/* the memory operand: [rBX] */

/* ---- the harness ----------------------------------------------------------- */

/* Registers in and out of one run; the asm addresses them by name. */
unsigned long h_ax, h_bx, h_cx, h_dx, h_si, h_di, h_bp, h_flags, h_sp_save, h_sp_out;
u8 h_xmm[16] __attribute__((aligned(16)));
u8 h_xmm_out[16] __attribute__((aligned(16)));

#define LOAD_REGS                                                          \
	"push " R(bp) "\n"                                                 \
	"push" SFX " h_flags\n" "popf\n"                                          \
	"mov h_ax, " R(ax) "\n" "mov h_bx, " R(bx) "\n"                    \
	"mov h_cx, " R(cx) "\n" "mov h_dx, " R(dx) "\n"                    \
	"mov h_si, " R(si) "\n" "mov h_di, " R(di) "\n"                    \
	"mov h_bp, " R(bp) "\n"
#define STORE_REGS                                                         \
	"pushf\n" "pop" SFX " h_flags\n"                                          \
	"mov " R(ax) ", h_ax\n" "mov " R(bx) ", h_bx\n"                    \
	"mov " R(cx) ", h_cx\n" "mov " R(dx) ", h_dx\n"                    \
	"mov " R(si) ", h_si\n" "mov " R(di) ", h_di\n"                    \
	"mov " R(bp) ", h_bp\n"                                            \
	"pop " R(bp) "\n"
#define CLOBBERS "memory", "cc", "ax", "bx", "cx", "dx", "si", "di"

/* A form: one instruction between loading and storing every register,
 * with set-up (pre) and tidy-up (post) code around it that cannot fault. */
#define FORM_PRE(fn, pre, insn, post)                                      \
	static void fn(void)                                               \
	{                                                                  \
		__asm__ volatile(LOAD_REGS pre "\n" GUEST_FIXUP(insn)      \
				 post "\n" STORE_REGS : : : CLOBBERS);     \
	}
#define FORM_FN(fn, insn) FORM_PRE(fn, "", insn, "")
/* The same with XMM0 loaded from h_xmm before and stored after. */
#define FORM_XMM(fn, insn)                                                 \
	static void fn(void)                                               \
	{                                                                  \
		__asm__ volatile("movdqu h_xmm, %%xmm0\n"                  \
				 LOAD_REGS GUEST_FIXUP(insn) STORE_REGS    \
				 "movdqu %%xmm0, h_xmm_out\n"              \
				 : : : CLOBBERS);                          \
	}
/* The same with MM0 (MMX). */
#define FORM_MMX(fn, insn)                                                 \
	static void fn(void)                                               \
	{                                                                  \
		__asm__ volatile("movq h_xmm, %%mm0\n"                     \
				 LOAD_REGS GUEST_FIXUP(insn) STORE_REGS    \
				 "movq %%mm0, h_xmm_out\n" "emms\n"        \
				 : : : CLOBBERS);                          \
	}
/* With the stack pointer at rBX + 0x80 for the instruction. */
#define FORM_STACK(fn, insn)                                               \
	static void fn(void)                                               \
	{                                                                  \
		__asm__ volatile(LOAD_REGS                                 \
				 "mov " R(sp) ", h_sp_save\n"              \
				 "lea 0x80(" R(bx) "), " R(sp) "\n"        \
				 insn "\n"                                 \
				 "mov " R(sp) ", h_sp_out\n"               \
				 "mov h_sp_save, " R(sp) "\n"              \
				 STORE_REGS : : : CLOBBERS);               \
	}

struct form {
	const char *name;
	void (*run)(void);
	unsigned long flags_mask;	/* the flags the SDM defines */
	/* inputs (0: the defaults below) */
	unsigned long ax, cx, dx, flags;
	long si_off, di_off;		/* rSI/rDI = mem + off (0: mem + 0x40 / 0x80) */
	void (*init)(volatile u8 *mem);	/* after the pattern fill */
	bool xmm;			/* compare h_xmm_out */
	bool sp;			/* compare h_sp_out (offset from mem) */
	bool abs_di;			/* rDI = di_off, not mem-relative */
};

struct result {
	unsigned long ax, bx, cx, dx, si, di, bp, flags, sp;
	int vector;
	unsigned long error, cr2;
	u8 xmm[16];
	u8 bytes[REGION_PRE + REGION_POST];
};

#define DEF_AX ((unsigned long)0x8877665544332211ull)
#define DEF_CX ((unsigned long)0x0123456789abcdefull)
#define DEF_DX ((unsigned long)0xfedcba9876543210ull)
#define DEF_FLAGS (F_CF | F_PF | F_AF | X86_FLAGS_FIXED)

static u8 pattern(uintptr_t i)
{
	return (u8)(i * 0x37 + 0x11);
}

/* Volatile 4-byte accesses: plain MOVs, which every emulator has. */
static void region_fill(uintptr_t mem)
{
	for (uintptr_t off = 0; off < REGION_PRE + REGION_POST; off += 4) {
		u32 v = 0;
		for (unsigned b = 0; b < 4; b++)
			v |= (u32)pattern(off + b) << (8 * b);
		*(volatile u32 *)(mem - REGION_PRE + off) = v;
	}
}

static void region_read(uintptr_t mem, u8 *out)
{
	for (uintptr_t off = 0; off < REGION_PRE + REGION_POST; off += 4) {
		u32 v = *(volatile u32 *)(mem - REGION_PRE + off);
		memcpy(out + off, &v, 4);
	}
}

static unsigned long frame_area[16];

static void run_at(const struct form *f, uintptr_t mem, struct result *r)
{
	region_fill(mem);
	if (f->init)
		f->init((volatile u8 *)mem);
	h_ax = f->ax ? f->ax : DEF_AX;
	h_cx = f->cx ? f->cx : DEF_CX;
	h_dx = f->dx ? f->dx : DEF_DX;
	h_flags = f->flags ? f->flags : DEF_FLAGS;
	h_bx = mem;
	h_si = mem + (unsigned long)(f->si_off ? f->si_off : 0x40);
	h_di = f->abs_di ? (unsigned long)f->di_off
			 : mem + (unsigned long)(f->di_off ? f->di_off : 0x80);
	/* Stack forms push rBP: the same value in both runs (a RAM frame whose
	 * slots ENTER's nesting copies). */
	h_bp = f->sp ? (unsigned long)(uintptr_t)&frame_area[8] : mem + 0x60;
	h_sp_out = 0;
	for (unsigned i = 0; i < 16; i++) {
		h_xmm[i] = (u8)(0xa0 + i);
		h_xmm_out[i] = 0;
	}
	guest_fault_vector = GUEST_NO_FAULT;
	guest_fault_error = 0;
	f->run();
	r->vector = guest_fault_vector;
	r->error = guest_fault_error;
	r->cr2 = 0;
	if (r->vector == X86_VEC_PF) {
		unsigned long cr2;
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
		r->cr2 = cr2 - mem;
	}
	/* Pointers as offsets from the operand, so the two runs compare. */
	r->ax = h_ax;
	r->bx = h_bx - mem;
	r->cx = h_cx;
	r->dx = h_dx;
	r->si = h_si - mem;
	r->di = f->abs_di ? h_di : h_di - mem;
	r->bp = f->sp ? h_bp : h_bp - mem;
	r->sp = f->sp ? h_sp_out - mem : 0;
	r->flags = h_flags & f->flags_mask;
	memcpy(r->xmm, f->xmm ? h_xmm_out : h_xmm, 16);
	region_read(mem, r->bytes);
}

static unsigned forms_passed, forms_failed;

#define DIFF(field, fmt)                                                           \
	do {                                                                       \
		if (a->field != b->field) {                                        \
			printf("%s" #field " mmio " fmt " ram " fmt, sep, a->field, b->field); \
			sep = ", ";                                                \
		}                                                                  \
	} while (0)

/* Runs f with its operand at mmio and at ram; prints ok or FAIL. */
static bool check_form(const struct form *f, uintptr_t mmio, uintptr_t ram)
{
	static struct result a_, b_;
	struct result *a = &a_, *b = &b_;
	const char *sep = "";

	run_at(f, ram, b);
	run_at(f, mmio, a);
	if (!memcmp(a, b, sizeof(*a))) {
		printf("ok %s\n", f->name);
		forms_passed++;
		return true;
	}
	printf("FAIL %s: ", f->name);
	DIFF(vector, "%d");
	DIFF(error, "0x%lx");
	DIFF(cr2, "+0x%lx");
	DIFF(ax, "0x%lx");
	DIFF(bx, "+0x%lx");
	DIFF(cx, "0x%lx");
	DIFF(dx, "0x%lx");
	DIFF(si, "+0x%lx");
	DIFF(di, "+0x%lx");
	DIFF(bp, "+0x%lx");
	DIFF(sp, "+0x%lx");
	DIFF(flags, "0x%lx");
	if (memcmp(a->xmm, b->xmm, 16))
		printf("%sxmm differs", sep), sep = ", ";
	for (unsigned i = 0; i < sizeof(a->bytes); i++) {
		if (a->bytes[i] != b->bytes[i]) {
			int off = (int)i - REGION_PRE;
			printf("%sbyte at mem%s0x%x mmio 0x%x ram 0x%x", sep, off < 0 ? "-" : "+",
			       (unsigned)(off < 0 ? -off : off), a->bytes[i], b->bytes[i]);
			break;
		}
	}
	printf("\n");
	forms_failed++;
	return false;
}

/* ---- the forms ------------------------------------------------------------- */

FORM_FN(f_mov_load, "mov " RB ", %%eax")
FORM_FN(f_mov_store, "mov %%ecx, " RB)
FORM_FN(f_mov_disp32, "mov -0x84(" R(bx) "), %%eax")	/* disp32 0xffffff7c */
FORM_FN(f_add, "add %%ecx, " RB)
FORM_FN(f_adc_load, "adc " RB ", %%ecx")
FORM_FN(f_sub8, "subb $0x7f, " RB)
FORM_FN(f_and, "andl $0x0ff0f0f0, " RB)
FORM_FN(f_or16, "or %%cx, " RB)
FORM_FN(f_xor, "xor " RB ", %%edx")
FORM_FN(f_cmp, "cmpl $0x12345678, " RB)
FORM_FN(f_test, "test %%ecx, " RB)
FORM_FN(f_inc8, "incb " RB)
FORM_FN(f_inc32, "incl " RB)
FORM_FN(f_dec16, "decw " RB)
FORM_FN(f_neg32, "negl " RB)
FORM_FN(f_not32, "notl " RB)
FORM_FN(f_xadd, "xadd %%ecx, " RB)
FORM_FN(f_lock_xadd, "lock xadd %%ecx, " RB)
FORM_FN(f_cmpxchg_eq, "cmpxchg %%ecx, " RB)
FORM_FN(f_cmpxchg_ne, "cmpxchg %%ecx, " RB)
/* ECX:EBX is the new value: rBX must not be the (run-dependent) pointer. */
#define CX8_PRE "push " R(bx) "\n" "mov $0x13572468, %%ebx"
#define CX8_POST "pop " R(bx)
FORM_PRE(f_cmpxchg8b, CX8_PRE, "cmpxchg8b -0x30(" R(si) ")", CX8_POST)
FORM_PRE(f_lock_cmpxchg8b, CX8_PRE, "lock cmpxchg8b -0x30(" R(si) ")", CX8_POST)
FORM_FN(f_bt_reg_far, "bt %%ecx, " RB)
FORM_FN(f_bts_reg, "bts %%ecx, " RB)
FORM_FN(f_btr_imm, "btrl $9, " RB)
FORM_FN(f_btc_reg_neg, "btc %%ecx, " RB)
FORM_FN(f_lock_bts, "lock bts %%ecx, " RB)
FORM_FN(f_xchg, "xchg %%ecx, " RB)
FORM_FN(f_movzx8, "movzbl " RB ", %%ecx")
FORM_FN(f_movsx16, "movswl " RB ", %%ecx")
FORM_FN(f_movnti, "movnti %%ecx, " RB)
FORM_FN(f_sete, "sete " RB)
FORM_FN(f_setc, "setc " RB)
FORM_FN(f_movbe_load, "movbe " RB ", %%ecx")
FORM_FN(f_movbe_store, "movbe %%ecx, " RB)
FORM_FN(f_bsf, "bsf " RB ", %%ecx")
FORM_FN(f_bsr, "bsr " RB ", %%ecx")
FORM_FN(f_imul_rm, "imul " RB ", %%ecx")
FORM_FN(f_imul_imm32, "imul $0x12345, " RB ", %%ecx")
FORM_FN(f_imul_imm8, "imul $-3, " RB ", %%ecx")
FORM_FN(f_mul, "mull " RB)
FORM_FN(f_div, "divl " RB)
FORM_FN(f_div_zero, "divl " RB)
FORM_FN(f_idiv8, "idivb " RB)
FORM_FN(f_shld1, "shld $1, %%ecx, " RB)
FORM_FN(f_shld_cl, "shld %%cl, %%edx, " RB)
FORM_FN(f_shrd_imm, "shrd $5, %%ecx, " RB)
FORM_FN(f_cmove_false, "cmove " RB ", %%ecx")
FORM_FN(f_cmovne_true, "cmovne " RB ", %%ecx")
FORM_FN(f_smsw, "smsw " RB)
FORM_FN(f_mov_from_ds, "mov %%ds, " RB)
FORM_FN(f_mov_to_es, "mov " RB ", %%es")
FORM_PRE(f_push_mem, "", "push" SFX " " RB, "pop " R(ax))
FORM_PRE(f_pop_mem, "push " R(cx), "pop" SFX " " RB, "")
FORM_PRE(f_jmp_mem, "", "jmp *" RB, "mov $1, %%eax\n" "3:")
FORM_FN(f_call_mem, "call *" RB)
FORM_FN(f_movs_from, "movsl")
FORM_FN(f_rep_movsb_to, "rep movsb")
FORM_FN(f_rep_stosl, "rep stosl")
FORM_FN(f_rep_lodsw, "rep lodsw")
FORM_FN(f_cmpsb_both, "repe cmpsb")
FORM_FN(f_cmpsl_ne, "repne cmpsl")
FORM_FN(f_scasb, "repne scasb")
FORM_PRE(f_std_movsw, "std", "rep movsw", "cld")
FORM_XMM(f_movdqu_load, "movdqu 3" RB ", %%xmm0")
FORM_XMM(f_movdqu_store, "movdqu %%xmm0, 5" RB)
FORM_XMM(f_movdqa_load, "movdqa " RB ", %%xmm0")
FORM_XMM(f_movdqa_misaligned, "movdqa 8" RB ", %%xmm0")
FORM_XMM(f_movups_store, "movups %%xmm0, 1" RB)
FORM_XMM(f_movaps_store, "movaps %%xmm0, " RB)
FORM_XMM(f_movaps_misaligned, "movaps %%xmm0, 4" RB)
FORM_XMM(f_movapd_load, "movapd 0x10" RB ", %%xmm0")
FORM_XMM(f_movupd_store, "movupd %%xmm0, 7" RB)
FORM_XMM(f_movntdq, "movntdq %%xmm0, 0x20" RB)
FORM_XMM(f_movd_load, "movd " RB ", %%xmm0")
FORM_XMM(f_movd_store, "movd %%xmm0, " RB)
FORM_XMM(f_movq_load, "movq " RB ", %%xmm0")
FORM_XMM(f_movq_store, "movq %%xmm0, " RB)
FORM_MMX(f_mmx_movq_load, "movq " RB ", %%mm0")
FORM_MMX(f_mmx_movq_store, "movq %%mm0, " RB)
#ifdef __x86_64__
FORM_FN(f_add64, "add %%rcx, " RB)
FORM_FN(f_movsxd, "movslq " RB ", %%rcx")
FORM_PRE(f_cmpxchg16b, CX8_PRE, "cmpxchg16b -0x30(" R(si) ")", CX8_POST)
FORM_FN(f_riprel_far, "mov 8(" R(bx) ",%%rcx,1), %%rax")
#endif
FORM_STACK(f_stack_push_pop, "push " R(cx) "\n" "pop " R(ax))
FORM_STACK(f_stack_call_ret, "call 4f\n" "jmp 5f\n" "4: ret\n" "5:")
FORM_STACK(f_stack_enter_leave, "enter $16, $0\n" "mov " R(sp) ", " R(dx) "\n" "sub " R(bx) ", " R(dx) "\n" "leave")
/* ENTER with nesting pushes the new frame pointer (an address in the stack,
 * different per run): made relative to rBX at once. */
FORM_STACK(f_stack_enter_nested, "enter $8, $2\n" "sub " R(bx) ", 8(" R(sp) ")\n" "mov " R(sp) ", " R(dx) "\n" "sub " R(bx) ", " R(dx) "\n" "leave")

/* Inits for forms that need particular memory. */
static void init_cmpxchg_eq(volatile u8 *m)
{
	*(volatile u32 *)m = (u32)DEF_AX;
}
static void init_cmpxchg8b(volatile u8 *m)
{
	/* EDX:EAX (RDX:RAX) at rSI - 0x30 = mem + 0x10. */
	*(volatile u32 *)(m + 0x10) = (u32)DEF_AX;
	*(volatile u32 *)(m + 0x14) = (u32)(DEF_DX & 0xffffffffu);
#ifdef __x86_64__
	*(volatile u32 *)(m + 0x14) = (u32)(DEF_AX >> 32);
	*(volatile u32 *)(m + 0x18) = (u32)DEF_DX;
	*(volatile u32 *)(m + 0x1c) = (u32)(DEF_DX >> 32);
#endif
}
static void init_equal_strings(volatile u8 *m)
{
	/* 12 equal bytes at +0x40 and +0x80, then a difference. */
	for (unsigned i = 0; i < 12; i++)
		m[0x80 + i] = m[0x40 + i];
}
static void init_scas(volatile u8 *m)
{
	m[0x80 + 9] = (u8)DEF_AX;
}
static void init_zero(volatile u8 *m)
{
	*(volatile u32 *)m = 0;
}
static void init_code_ptr_jmp(volatile u8 *m);
static void init_code_ptr_call(volatile u8 *m);
static void init_div(volatile u8 *m)
{
	*(volatile u32 *)m = 0x10001;
}
static void init_selector(volatile u8 *m)
{
	u16 ds;
	__asm__ volatile("mov %%ds, %0" : "=r"(ds));
	*(volatile u16 *)m = ds;
}

/* A function CALL *[mem] reaches: it returns with EAX = 0x5a5a. */
void emu_call_target(void);
__asm__(".text\n" "emu_call_target:\n" "mov $0x5a5a, %eax\n" "ret\n");

static void init_code_ptr_call(volatile u8 *m)
{
	*(volatile uintptr_t *)m = (uintptr_t)emu_call_target;
}
/* JMP *[mem] goes to the "3:" label after the mov that it skips: find it
 * from the function's code (the byte after "mov $1, %eax", b8 01 00 00 00). */
static void init_code_ptr_jmp(volatile u8 *m)
{
	const u8 *p = (const u8 *)(uintptr_t)f_jmp_mem;
	for (unsigned i = 0; i < 200; i++) {
		if (p[i] == 0xb8 && p[i + 1] == 1 && p[i + 2] == 0 && p[i + 3] == 0 &&
		    p[i + 4] == 0) {
			*(volatile uintptr_t *)m = (uintptr_t)(p + i + 5);
			return;
		}
	}
}

#define LOGIC (F_ALL & ~F_AF)
#define BITOPS (F_CF)
#define SHIFT_N (F_CF | F_SF | F_ZF | F_PF)

static const struct form forms[] = {
	{ .name = "mov_load", .run = f_mov_load, .flags_mask = F_ALL },
	{ .name = "mov_store", .run = f_mov_store, .flags_mask = F_ALL },
	{ .name = "mov_disp32_sign_extended", .run = f_mov_disp32, .flags_mask = F_ALL },
	{ .name = "add_store", .run = f_add, .flags_mask = F_ALL },
	{ .name = "adc_load", .run = f_adc_load, .flags_mask = F_ALL },
	{ .name = "sub8_imm", .run = f_sub8, .flags_mask = F_ALL },
	{ .name = "and_imm", .run = f_and, .flags_mask = LOGIC },
	{ .name = "or16", .run = f_or16, .flags_mask = LOGIC },
	{ .name = "xor_load", .run = f_xor, .flags_mask = LOGIC },
	{ .name = "cmp_imm", .run = f_cmp, .flags_mask = F_ALL },
	{ .name = "test", .run = f_test, .flags_mask = LOGIC },
	{ .name = "inc8", .run = f_inc8, .flags_mask = F_ALL },
	{ .name = "inc32", .run = f_inc32, .flags_mask = F_ALL },
	{ .name = "dec16", .run = f_dec16, .flags_mask = F_ALL },
	{ .name = "neg32", .run = f_neg32, .flags_mask = F_ALL },
	{ .name = "not32", .run = f_not32, .flags_mask = F_ALL },
	{ .name = "xadd", .run = f_xadd, .flags_mask = F_ALL },
	{ .name = "lock_xadd", .run = f_lock_xadd, .flags_mask = F_ALL },
	{ .name = "cmpxchg_equal", .run = f_cmpxchg_eq, .flags_mask = F_ALL, .init = init_cmpxchg_eq },
	{ .name = "cmpxchg_differ", .run = f_cmpxchg_ne, .flags_mask = F_ALL },
	{ .name = "cmpxchg8b_equal", .run = f_cmpxchg8b, .flags_mask = F_ALL, .init = init_cmpxchg8b },
	{ .name = "cmpxchg8b_differ", .run = f_cmpxchg8b, .flags_mask = F_ALL },
	{ .name = "lock_cmpxchg8b", .run = f_lock_cmpxchg8b, .flags_mask = F_ALL, .init = init_cmpxchg8b },
	{ .name = "bt_reg_outside_operand", .run = f_bt_reg_far, .flags_mask = BITOPS | F_ZF, .cx = 70 },
	{ .name = "bts_reg", .run = f_bts_reg, .flags_mask = BITOPS | F_ZF, .cx = 13 },
	{ .name = "btr_imm", .run = f_btr_imm, .flags_mask = BITOPS | F_ZF },
	{ .name = "btc_reg_negative", .run = f_btc_reg_neg, .flags_mask = BITOPS | F_ZF, .cx = (unsigned long)-5 },
	{ .name = "lock_bts", .run = f_lock_bts, .flags_mask = BITOPS | F_ZF, .cx = 35 },
	{ .name = "xchg", .run = f_xchg, .flags_mask = F_ALL },
	{ .name = "movzx8", .run = f_movzx8, .flags_mask = F_ALL },
	{ .name = "movsx16", .run = f_movsx16, .flags_mask = F_ALL },
	{ .name = "movnti", .run = f_movnti, .flags_mask = F_ALL },
	{ .name = "sete_false", .run = f_sete, .flags_mask = F_ALL },
	{ .name = "sete_true", .run = f_sete, .flags_mask = F_ALL, .flags = F_ZF | X86_FLAGS_FIXED },
	{ .name = "setc", .run = f_setc, .flags_mask = F_ALL },
	{ .name = "movbe_load", .run = f_movbe_load, .flags_mask = F_ALL },
	{ .name = "movbe_store", .run = f_movbe_store, .flags_mask = F_ALL },
	{ .name = "bsf", .run = f_bsf, .flags_mask = F_ZF },
	{ .name = "bsr", .run = f_bsr, .flags_mask = F_ZF },
	{ .name = "bsf_zero", .run = f_bsf, .flags_mask = F_ZF, .init = init_zero },
	{ .name = "imul_0f_af", .run = f_imul_rm, .flags_mask = F_CF | F_OF },
	{ .name = "imul_69", .run = f_imul_imm32, .flags_mask = F_CF | F_OF },
	{ .name = "imul_6b", .run = f_imul_imm8, .flags_mask = F_CF | F_OF },
	{ .name = "mul", .run = f_mul, .flags_mask = F_CF | F_OF },
	{ .name = "div", .run = f_div, .flags_mask = 0, .init = init_div, .dx = 3 },
	{ .name = "div_by_zero", .run = f_div_zero, .flags_mask = 0, .init = init_zero },
	{ .name = "idiv8", .run = f_idiv8, .flags_mask = 0, .ax = 0x1234 },
	{ .name = "shld_1", .run = f_shld1, .flags_mask = SHIFT_N | F_OF },
	{ .name = "shld_cl", .run = f_shld_cl, .flags_mask = SHIFT_N, .cx = 7 },
	{ .name = "shrd_imm", .run = f_shrd_imm, .flags_mask = SHIFT_N },
	{ .name = "cmove_false", .run = f_cmove_false, .flags_mask = F_ALL },
	{ .name = "cmovne_true", .run = f_cmovne_true, .flags_mask = F_ALL },
	{ .name = "smsw", .run = f_smsw, .flags_mask = F_ALL },
	{ .name = "mov_from_ds", .run = f_mov_from_ds, .flags_mask = F_ALL },
	{ .name = "mov_to_es", .run = f_mov_to_es, .flags_mask = F_ALL, .init = init_selector },
	{ .name = "push_mem", .run = f_push_mem, .flags_mask = F_ALL },
	{ .name = "pop_mem", .run = f_pop_mem, .flags_mask = F_ALL },
	{ .name = "jmp_mem", .run = f_jmp_mem, .flags_mask = F_ALL, .init = init_code_ptr_jmp },
	{ .name = "call_mem", .run = f_call_mem, .flags_mask = F_ALL, .init = init_code_ptr_call },
	{ .name = "movsl_from", .run = f_movs_from, .flags_mask = F_ALL, .si_off = 0x10, .di_off = 0 },
	{ .name = "rep_movsb", .run = f_rep_movsb_to, .flags_mask = F_ALL, .cx = 37 },
	{ .name = "rep_stosl", .run = f_rep_stosl, .flags_mask = F_ALL, .cx = 11, .di_off = -8 },
	{ .name = "rep_lodsw", .run = f_rep_lodsw, .flags_mask = F_ALL, .cx = 5 },
	{ .name = "repe_cmpsb_both_mmio", .run = f_cmpsb_both, .flags_mask = F_ALL, .cx = 20, .init = init_equal_strings },
	{ .name = "repne_cmpsl_both_mmio", .run = f_cmpsl_ne, .flags_mask = F_ALL, .cx = 4 },
	{ .name = "repne_scasb", .run = f_scasb, .flags_mask = F_ALL, .cx = 30, .init = init_scas },
	{ .name = "std_rep_movsw", .run = f_std_movsw, .flags_mask = F_ALL, .cx = 6 },
	{ .name = "movdqu_load", .run = f_movdqu_load, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movdqu_store", .run = f_movdqu_store, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movdqa_load", .run = f_movdqa_load, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movdqa_misaligned_gp", .run = f_movdqa_misaligned, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movups_store", .run = f_movups_store, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movaps_store", .run = f_movaps_store, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movaps_misaligned_gp", .run = f_movaps_misaligned, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movapd_load", .run = f_movapd_load, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movupd_store", .run = f_movupd_store, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movntdq", .run = f_movntdq, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movd_load", .run = f_movd_load, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movd_store", .run = f_movd_store, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movq_load", .run = f_movq_load, .flags_mask = F_ALL, .xmm = true },
	{ .name = "movq_store", .run = f_movq_store, .flags_mask = F_ALL, .xmm = true },
	{ .name = "mmx_movq_load", .run = f_mmx_movq_load, .flags_mask = F_ALL, .xmm = true },
	{ .name = "mmx_movq_store", .run = f_mmx_movq_store, .flags_mask = F_ALL, .xmm = true },
#ifdef __x86_64__
	{ .name = "add64", .run = f_add64, .flags_mask = F_ALL },
	{ .name = "movsxd", .run = f_movsxd, .flags_mask = F_ALL },
	{ .name = "cmpxchg16b_equal", .run = f_cmpxchg16b, .flags_mask = F_ALL, .init = init_cmpxchg8b },
	{ .name = "cmpxchg16b_differ", .run = f_cmpxchg16b, .flags_mask = F_ALL },
	{ .name = "mov_index_reg", .run = f_riprel_far, .flags_mask = F_ALL, .cx = 0x18 },
#endif
};

static const struct form stack_forms[] = {
	{ .name = "stack_push_pop", .run = f_stack_push_pop, .flags_mask = F_ALL, .sp = true },
	{ .name = "stack_call_ret", .run = f_stack_call_ret, .flags_mask = F_ALL, .sp = true },
	{ .name = "stack_enter_leave", .run = f_stack_enter_leave, .flags_mask = F_ALL, .sp = true },
	{ .name = "stack_enter_nested", .run = f_stack_enter_nested, .flags_mask = F_ALL, .sp = true },
};

/* ---- paging: the window ---------------------------------------------------- */

static u8 ram_pages[8 * PAGE] __attribute__((aligned(4096)));
static unsigned long window_pt[4096 / WORD_BYTES] __attribute__((aligned(4096)));
#ifndef __x86_64__
static u32 page_dir[1024] __attribute__((aligned(4096)));
#endif

static unsigned long read_cr0(void)
{
	unsigned long v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static unsigned long read_cr4(void)
{
	unsigned long v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void map(unsigned long la, unsigned long pa)
{
	window_pt[(la - WINDOW) / PAGE] = pa | PTE_P | PTE_W;
	__asm__ volatile("invlpg (%0)" : : "r"(la) : "memory");
}

static void window_setup(void)
{
	unsigned long ram = (unsigned long)(uintptr_t)ram_pages;

#ifdef __x86_64__
	unsigned long cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	u64 *pml4 = (u64 *)(uintptr_t)(cr3 & ~0xffful);
	u64 *pdpt = (u64 *)(uintptr_t)(pml4[0] & 0xffffffffff000ull);
	u64 *pd = (u64 *)(uintptr_t)(pdpt[WINDOW >> 30] & 0xffffffffff000ull);
	pd[(WINDOW >> 21) & 511] = (u64)(uintptr_t)window_pt | PTE_P | PTE_W;
#else
	for (u32 i = 0; i < 1024; i++)
		page_dir[i] = (i << 22) | PTE_P | PTE_W | PTE_PS;
	page_dir[WINDOW >> 22] = (u32)(uintptr_t)window_pt | PTE_P | PTE_W;
	__asm__ volatile("mov %0, %%cr4" : : "r"((unsigned long)(read_cr4() | CR4_PSE)));
	__asm__ volatile("mov %0, %%cr3" : : "r"(page_dir) : "memory");
	__asm__ volatile("mov %0, %%cr0" : : "r"((unsigned long)(read_cr0() | CR0_PG)) : "memory");
#endif
	map(W_RAM_A, ram);
	map(W_IORAM0, TESTDEV_IORAM);
	map(W_RAM_B, ram + PAGE);
	map(W_IORAM_LAST, IORAM_LAST_PAGE);
	map(W_UNASSIGNED, UNASSIGNED_GPA);
	/* W_NOT_PRESENT stays 0 */
	map(W_ORACLE, ram + 2 * PAGE);
	map(W_ORACLE + PAGE, ram + 3 * PAGE);
	map(W_ORACLE + 2 * PAGE, ram + 4 * PAGE);
	map(W_ORACLE + 3 * PAGE, ram + 5 * PAGE);
}

/* SSE needs CR4.OSFXSR, and CR0.EM clear (SDM Vol. 3A, "Initialization of
 * the SSE Extensions"). */
static void sse_setup(void)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"((unsigned long)(read_cr0() & ~(CR0_EM | CR0_TS))));
	__asm__ volatile("mov %0, %%cr4" : : "r"((unsigned long)(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT)));
	__asm__ volatile("fninit");
}

/* ---- the tests --------------------------------------------------------------- */

/* Every form with its operand at IORAM + 0x1100 and in RAM (oracle page). */
static void run_forms(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++)
		check_form(&forms[i], W_IORAM0 + 0x100, W_ORACLE + PAGE + 0x100);
}

/* The stack forms in IORAM, then with rSP 2 bytes above the RAM | IORAM
 * boundary, so that pushes and pops straddle it (kvm-unit-tests' ENTER
 * case). */
static void run_stack_forms(void)
{
	static char name[64];
	struct form f;

	for (size_t i = 0; i < ARRAY_SIZE(stack_forms); i++)
		check_form(&stack_forms[i], W_IORAM0 + 0x100, W_ORACLE + PAGE + 0x100);
	for (size_t i = 0; i < ARRAY_SIZE(stack_forms); i++) {
		f = stack_forms[i];
		memcpy(name, "ram_ioram_", 10);
		memcpy(name + 10, f.name, strlen(f.name) + 1);
		f.name = name;
		check_form(&f, W_IORAM0 - 0x7e, W_ORACLE + PAGE - 0x7e);
	}
}

/* Page crossing: forms whose operand straddles two linear pages of
 * different kinds, against the same straddle in RAM. */
FORM_FN(f_cross_load, "mov -2" RB ", %%eax")
FORM_FN(f_cross_store, "mov %%ecx, -2" RB)
FORM_FN(f_cross_add, "add %%ecx, -1" RB)
FORM_XMM(f_cross_movdqu, "movdqu -6" RB ", %%xmm0")
FORM_FN(f_cross_movsl, "movsl")
FORM_FN(f_cross_rep_stosb, "rep stosb")
FORM_FN(f_cross_notpresent, "mov -2" RB ", %%eax")
FORM_FN(f_cross_notpresent_store, "mov %%ecx, -2" RB)
FORM_FN(f_cross_movs_notpresent, "movsl")

static const struct form cross_forms[] = {
	{ .name = "cross_load", .run = f_cross_load, .flags_mask = F_ALL },
	{ .name = "cross_store", .run = f_cross_store, .flags_mask = F_ALL },
	{ .name = "cross_add", .run = f_cross_add, .flags_mask = F_ALL },
	{ .name = "cross_movdqu", .run = f_cross_movdqu, .flags_mask = F_ALL, .xmm = true },
	{ .name = "cross_movsl_src", .run = f_cross_movsl, .flags_mask = F_ALL, .si_off = -2, .di_off = 0x40 },
	{ .name = "cross_rep_stosb", .run = f_cross_rep_stosb, .flags_mask = F_ALL, .cx = 9, .di_off = -4 },
};

static const struct form pf_forms[] = {
	{ .name = "pf_cross_load_not_present", .run = f_cross_notpresent, .flags_mask = F_ALL },
	{ .name = "pf_cross_store_not_present", .run = f_cross_notpresent_store, .flags_mask = F_ALL },
	{ .name = "pf_movs_to_not_present", .run = f_cross_movs_notpresent, .flags_mask = F_ALL, .si_off = -0x20,
	  .di_off = 0x10 },
};

static void run_crossing(void)
{
	static char name[64];
	struct form f;

	/* RAM page A | IORAM page 0, at the boundary W+0x1000. */
	for (size_t i = 0; i < ARRAY_SIZE(cross_forms); i++) {
		f = cross_forms[i];
		memcpy(name, "ram_ioram_", 10);
		memcpy(name + 10, f.name, strlen(f.name) + 1);
		f.name = name;
		check_form(&f, W_IORAM0, W_ORACLE + PAGE);
	}
	/* IORAM page 0 | RAM page B, at W+0x2000. */
	for (size_t i = 0; i < ARRAY_SIZE(cross_forms); i++) {
		f = cross_forms[i];
		memcpy(name, "ioram_ram_", 10);
		memcpy(name + 10, f.name, strlen(f.name) + 1);
		f.name = name;
		check_form(&f, W_RAM_B, W_ORACLE + 2 * PAGE);
	}
}

/* IORAM | not present: the CPU exits for the IORAM page, the emulator must
 * raise #PF for the second page with CR2 = the first byte there and the
 * error code of the access (not present; write or read), and change
 * nothing. IORAM's last page is mapped just below the not-present page for
 * this. */
static void test_pf_cross(void)
{
	static const unsigned long want_err[] = { 0, 2, 2 };	/* P = 0; W/R */

	map(W_UNASSIGNED, IORAM_LAST_PAGE);
	for (size_t i = 0; i < ARRAY_SIZE(pf_forms); i++) {
		const struct form *f = &pf_forms[i];
		unsigned long cr2 = 0, want_cr2;

		h_ax = DEF_AX; h_cx = DEF_CX; h_dx = DEF_DX; h_flags = DEF_FLAGS;
		h_bx = W_NOT_PRESENT;
		h_si = W_NOT_PRESENT + (unsigned long)f->si_off;
		h_di = W_NOT_PRESENT + (unsigned long)f->di_off;
		want_cr2 = f->di_off ? h_di : W_NOT_PRESENT;
		*(volatile u32 *)(W_NOT_PRESENT - 4) = 0x11223344;
		guest_fault_vector = GUEST_NO_FAULT;
		guest_fault_error = 0;
		f->run();
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
		u32 after = *(volatile u32 *)(W_NOT_PRESENT - 4);
		if (guest_fault_vector != X86_VEC_PF || cr2 != want_cr2 ||
		    guest_fault_error != want_err[i] || after != 0x11223344) {
			printf("FAIL %s: vector %d error 0x%lx cr2 0x%lx (want 14, 0x%lx, 0x%lx); "
			       "bytes before the page 0x%x\n", f->name, guest_fault_vector,
			       guest_fault_error, cr2, want_err[i], want_cr2, after);
			forms_failed++;
		} else {
			printf("ok %s\n", f->name);
			forms_passed++;
		}
	}
	map(W_UNASSIGNED, UNASSIGNED_GPA);
}

/* IORAM | unassigned: the unassigned bytes read all ones, writes there are
 * dropped, the IORAM bytes behave like RAM. */
static void check_named(const char *name, bool ok, unsigned long got, unsigned long want)
{
	if (ok) {
		printf("ok %s\n", name);
		forms_passed++;
	} else {
		printf("FAIL %s: got 0x%lx, want 0x%lx\n", name, got, want);
		forms_failed++;
	}
}

static void test_ioram_unassigned(void)
{
	volatile u32 *last = (volatile u32 *)(W_UNASSIGNED - 4);
	*last = 0xa1b2c3d4;
	u32 v = *(volatile u32 *)(W_UNASSIGNED - 2);
	check_named("ioram_unassigned_load", v == 0xffffa1b2, v, 0xffffa1b2);
	*(volatile u32 *)(W_UNASSIGNED - 2) = 0x55667788;
	v = *last;
	check_named("ioram_unassigned_store", v == 0x7788c3d4, v, 0x7788c3d4);
	v = *(volatile u32 *)W_UNASSIGNED;
	check_named("unassigned_load", v == 0xffffffff, v, 0xffffffff);
}

/* REP beyond the per-exit batch: 5000 bytes of STOS into IORAM. */
static void test_rep_batch(void)
{
	unsigned long di = TESTDEV_IORAM + 0x2000, cx = 5000;
	__asm__ volatile("rep stosb" : "+D"(di), "+c"(cx) : "a"(0x5c) : "memory");
	bool ok = cx == 0 && di == TESTDEV_IORAM + 0x2000 + 5000;
	for (unsigned i = 0; ok && i < 5000; i += 499)
		ok = mmio_read8(TESTDEV_IORAM + 0x2000 + i) == 0x5c;
	ok = ok && mmio_read8(TESTDEV_IORAM + 0x2000 + 4999) == 0x5c &&
	     mmio_read8(TESTDEV_IORAM + 0x2000 + 5000) != 0x5c;
	check_named("rep_stosb_5000_batches", ok, cx, 0);
}

/* String I/O: INS/OUTS with the memory operand in IORAM, the xAPIC page and
 * unassigned memory, through the pc-testdev latch (ports 0xe0-0xe3). */
static void test_string_io(void)
{
	unsigned long si, di, cx;
	u32 v;

	mmio_write32(TESTDEV_IORAM + 0x3000, 0xa1b2c3d4);
	si = TESTDEV_IORAM + 0x3000;
	__asm__ volatile("outsl" : "+S"(si) : "d"((u16)TESTDEV_LATCH) : "memory");
	v = inl(TESTDEV_LATCH);
	check_named("outsl_from_ioram", v == 0xa1b2c3d4 && si == TESTDEV_IORAM + 0x3004, v,
		    0xa1b2c3d4);

	outl(0, TESTDEV_LATCH);
	si = TESTDEV_IORAM + 0x3000;
	__asm__ volatile("outsb" : "+S"(si) : "d"((u16)TESTDEV_LATCH) : "memory");
	v = inl(TESTDEV_LATCH);
	check_named("outsb_from_ioram", v == 0xd4, v, 0xd4);

	si = APIC_DEFAULT_BASE + APIC_VERSION;
	__asm__ volatile("outsl" : "+S"(si) : "d"((u16)TESTDEV_LATCH) : "memory");
	v = inl(TESTDEV_LATCH);
	check_named("outsl_from_apic_version", v == apic_read(APIC_VERSION), v,
		    apic_read(APIC_VERSION));

	si = UNASSIGNED_GPA;
	__asm__ volatile("outsl" : "+S"(si) : "d"((u16)TESTDEV_LATCH) : "memory");
	v = inl(TESTDEV_LATCH);
	check_named("outsl_from_unassigned", v == 0xffffffff, v, 0xffffffff);

	outl(0x31323334, TESTDEV_LATCH);
	di = TESTDEV_IORAM + 0x3010;
	__asm__ volatile("insl" : "+D"(di) : "d"((u16)TESTDEV_LATCH) : "memory");
	v = mmio_read32(TESTDEV_IORAM + 0x3010);
	check_named("insl_into_ioram", v == 0x31323334, v, 0x31323334);

	outl(0x6789, TESTDEV_LATCH);
	di = TESTDEV_IORAM + 0x3020;
	cx = 5;
	__asm__ volatile("rep insw" : "+D"(di), "+c"(cx) : "d"((u16)TESTDEV_LATCH) : "memory");
	bool ok = cx == 0 && di == TESTDEV_IORAM + 0x302a;
	for (unsigned i = 0; i < 5; i++)
		ok = ok && mmio_read16(TESTDEV_IORAM + 0x3020 + 2 * i) == 0x6789;
	check_named("rep_insw_into_ioram", ok, mmio_read16(TESTDEV_IORAM + 0x3028), 0x6789);

	u32 tpr = apic_read(APIC_TPR);
	outl(0x20, TESTDEV_LATCH);
	di = APIC_DEFAULT_BASE + APIC_TPR;
	__asm__ volatile("insl" : "+D"(di) : "d"((u16)TESTDEV_LATCH) : "memory");
	v = apic_read(APIC_TPR);
	check_named("insl_into_apic_tpr", v == 0x20, v, 0x20);
	apic_write(APIC_TPR, tpr);

	/* A dword straddling RAM page A and IORAM page 0 (linear window). */
	*(volatile u16 *)(W_IORAM0 - 2) = 0x1122;
	*(volatile u16 *)W_IORAM0 = 0x3344;
	si = W_IORAM0 - 2;
	__asm__ volatile("outsl" : "+S"(si) : "d"((u16)TESTDEV_LATCH) : "memory");
	v = inl(TESTDEV_LATCH);
	check_named("outsl_straddling_ram_ioram", v == 0x33441122, v, 0x33441122);
	outl(0xcafef00d, TESTDEV_LATCH);
	di = W_IORAM0 - 1;
	__asm__ volatile("insl" : "+D"(di) : "d"((u16)TESTDEV_LATCH) : "memory");
	v = *(volatile u32 *)(W_IORAM0 - 1);
	check_named("insl_straddling_ram_ioram", v == 0xcafef00d, v, 0xcafef00d);
}

/* An instruction no emulator knows, on IORAM: #UD at that RIP and the guest
 * goes on (emul_fail=ud). 0F 0D /1 is PREFETCHW: harmless in RAM, and with
 * a memory operand in IORAM it makes no access at all on a real CPU; use a
 * form that does access memory: FXSAVE (0F AE /0). */
static u8 fx_area[512] __attribute__((aligned(16)));
static void test_unknown_ud(void)
{
	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile(GUEST_FIXUP("fxsave (%0)") : : "r"(TESTDEV_IORAM + 0x4000ul) : "memory");
	check_named("unemulated_fxsave_raises_ud", guest_fault_vector == X86_VEC_UD,
		    (unsigned long)guest_fault_vector, X86_VEC_UD);
	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile(GUEST_FIXUP("fxsave (%0)") : : "r"(fx_area) : "memory");
	check_named("fxsave_in_ram_works", guest_fault_vector == GUEST_NO_FAULT,
		    (unsigned long)guest_fault_vector, 0);
}

/*
 * Far JMP and CALL through a pointer in IORAM (SDM "JMP", "CALL": m16:32,
 * and m16:64 with REX.W as kvm-unit-tests' "ljmp" uses): CS reloaded with
 * our own code segment and the branch taken; the far CALL pushes CS and
 * the return offset, which LRET pops; a data segment's selector raises
 * #GP(selector) and the branch is not taken.
 */
void emu_far_target(void);
#ifdef __x86_64__
#define FAR_W   "rex64 "
#define FAR_OFF "8"
#define FAR_SP  "rsp"
__asm__(".text\n" "emu_far_target:\n" "mov $0x77, %eax\n" "lretq\n");
#else
#define FAR_W   ""
#define FAR_OFF "4"
#define FAR_SP  "esp"
__asm__(".text\n" "emu_far_target:\n" "mov $0x77, %eax\n" "lret\n");
#endif
static void test_far_branches(void)
{
	volatile u8 *m = (volatile u8 *)(TESTDEV_IORAM + 0x6000ul);
	unsigned long reached, sp_before, sp_after;
	u16 cs, ds;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	__asm__ volatile("mov %%ds, %0" : "=r"(ds));
	*(volatile uintptr_t *)(m + 0x40) = (uintptr_t)emu_far_target;
	*(volatile u16 *)(m + 0x40 + sizeof(uintptr_t)) = cs;
#ifdef __x86_64__
	__asm__ volatile("lea 3f(%%rip), %%rax\n" "mov %%rax, (%1)\n"
#else
	__asm__ volatile("mov $3f, %%eax\n" "mov %%eax, (%1)\n"
#endif
			 "mov %w2, " FAR_OFF "(%1)\n"
			 "mov $0, %0\n"
			 FAR_W "ljmp *(%1)\n"
			 "mov $2, %0\n"
			 "3: add $1, %0\n"
			 : "=&r"(reached) : "r"(m), "r"(cs) : "rax", "memory");
	check_named("ljmp_through_ioram", reached == 1, reached, 1);

	__asm__ volatile("mov %%" FAR_SP ", %1\n"
			 FAR_W "lcall *(%3)\n"
			 "mov %%" FAR_SP ", %2\n"
			 : "=a"(reached), "=&r"(sp_before), "=&r"(sp_after)
			 : "r"(m + 0x40) : "memory");
	check_named("lcall_through_ioram", reached == 0x77 && sp_before == sp_after, reached, 0x77);

	/* A data segment is no jump target: #GP(selector), nothing taken. */
	*(volatile u16 *)(m + 0x40 + sizeof(uintptr_t)) = ds;
	reached = 0;
	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile(GUEST_FIXUP(FAR_W "lcall *(%1)") : "+a"(reached) : "r"(m + 0x40)
			 : "memory");
	check_named("lcall_data_segment_gp", guest_fault_vector == X86_VEC_GP &&
		    guest_fault_error == ds && reached == 0,
		    (unsigned long)guest_fault_vector, X86_VEC_GP);
}

#ifdef __x86_64__
/* SDM Vol. 3A, "Canonical Addressing": MOVS from IORAM to a non-canonical
 * rDI raises #GP(0), from the access the emulator makes itself. */
static void test_canonical(void)
{
	unsigned long si = TESTDEV_IORAM + 0x5000, di = 0x8000000000000000ul;
	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile(GUEST_FIXUP("movsl") : "+S"(si), "+D"(di) : : "memory");
	check_named("noncanonical_movs_gp", guest_fault_vector == X86_VEC_GP &&
		    guest_fault_error == 0 && si == TESTDEV_IORAM + 0x5000,
		    (unsigned long)guest_fault_vector, X86_VEC_GP);
}
#endif

#ifndef __x86_64__
/*
 * Segment limits (SDM Vol. 3A, "Limit Checking"): ES becomes a 256-byte data
 * segment over a RAM buffer; REP MOVSB from IORAM (emulated) and from RAM
 * (the oracle) into it copies 256 bytes, then raises #GP(0) with the
 * registers at the first iteration outside. And a single MOVSB to ES:0x100.
 */
#define LIMIT_SEL   0x40	/* GDT entry 8 of our copy */
static u64 gdt_copy[16] __attribute__((aligned(8)));
static u8 es_buffer[512];

#define ES_PRE  "push %%eax\n" "mov $0x40, %%eax\n" "mov %%eax, %%es\n" "pop %%eax"
#define ES_POST "push %%eax\n" "mov %%ds, %%eax\n" "mov %%eax, %%es\n" "pop %%eax"
FORM_PRE(f_limit_rep_movsb, ES_PRE, "rep movsb", ES_POST)
FORM_PRE(f_limit_movsb, ES_PRE, "movsb", ES_POST)

static const struct form limit_forms[] = {
	{ .name = "es_limit_rep_movsb_gp", .run = f_limit_rep_movsb, .flags_mask = F_ALL,
	  .cx = 0x180, .di_off = 0x0, .abs_di = true },
	{ .name = "es_limit_movsb_gp", .run = f_limit_movsb, .flags_mask = F_ALL,
	  .di_off = 0x100, .abs_di = true },
	{ .name = "es_limit_movsb_last_byte", .run = f_limit_movsb, .flags_mask = F_ALL,
	  .di_off = 0xff, .abs_di = true },
};

static void test_segment_limits(void)
{
	struct { u16 limit; u32 base; } __packed gdtr, mine;
	u32 base = (u32)(uintptr_t)es_buffer;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	memcpy(gdt_copy, (void *)(uintptr_t)gdtr.base, (size_t)gdtr.limit + 1);
	/* Present, DPL 0, data read/write accessed, byte granular, B = 1. */
	gdt_copy[LIMIT_SEL / 8] = 0xffull | ((u64)(base & 0xffffff) << 16) |
				  (0x93ull << 40) | (0x4ull << 52) | ((u64)(base >> 24) << 56);
	mine.limit = sizeof(gdt_copy) - 1;
	mine.base = (u32)(uintptr_t)gdt_copy;
	__asm__ volatile("lgdt %0" : : "m"(mine));
	for (size_t i = 0; i < ARRAY_SIZE(limit_forms); i++)
		check_form(&limit_forms[i], W_IORAM0 + 0x100, W_ORACLE + PAGE + 0x100);

	/* REP INSB into ES:0xf0, 0x20 bytes: always emulated (string I/O),
	 * so the expectation is the CPU's: 0x10 bytes, then #GP(0) with
	 * ECX = 0x10 and EDI = 0x100. */
	unsigned long di = 0xf0, cx = 0x20;
	outl(0x5a, TESTDEV_LATCH);
	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile("mov %2, %%es\n"
			 GUEST_FIXUP("rep insb")
			 "mov %%ds, %2\n" "mov %2, %%es\n"
			 : "+D"(di), "+c"(cx) : "r"((u32)LIMIT_SEL), "d"((u16)TESTDEV_LATCH)
			 : "memory");
	check_named("es_limit_rep_insb_gp", guest_fault_vector == X86_VEC_GP && cx == 0x10 &&
		    di == 0x100 && es_buffer[0xff] == 0x5a,
		    (unsigned long)guest_fault_vector, X86_VEC_GP);
	__asm__ volatile("lgdt %0" : : "m"(gdtr));
}
#endif

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	u64 stack_only = 0;

	(void)magic;
	mb_cmdline_value(mbi, "stack", &stack_only);
	sse_setup();
	window_setup();
	printf("emulator: %s-bit guest, %s\n", WORD_BYTES == 8 ? "64" : "32",
	       stack_only ? "stack forms" : "all forms");
	if (stack_only) {
		run_stack_forms();
	} else {
		run_forms();
		run_crossing();
		test_pf_cross();
		test_ioram_unassigned();
		test_rep_batch();
		test_string_io();
		test_unknown_ud();
		test_far_branches();
#ifdef __x86_64__
		test_canonical();
#else
		test_segment_limits();
#endif
	}
	printf("emulator: %u passed, %u failed\n", forms_passed, forms_failed);
	return forms_failed ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
