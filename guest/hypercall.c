/*
 * guest/hypercall.c - checks the hypercall ABI of CONTRACTS.md section 3: an
 * unknown number returns -ENOSYS, and a hypercall changes no register but
 * RAX. Built as hypercall.elf (32-bit: EAX, EBX, ...) and hypercall64.elf
 * (64-bit: R8-R15 must survive too). Under bare QEMU VMCALL raises #UD, so
 * the hypercall tests SKIP there; vmcall_harness_bare then checks the
 * register-capturing harness itself (every register, RAX included, survives
 * the #UD).
 *
 * To add a check, write a test function and list it in tests[] with
 * GUEST_TEST_NEEDS_DOORBELL.
 */
#include "lib/guest.h"

#define HC_UNKNOWN      99      /* no such hypercall */

/* Numbers no hypercall uses: below, just above and far above 1..3. */
static const unsigned long unknown_numbers[] = {
	0, 4, HC_UNKNOWN, 0x80000001ul, 0xfffffffful, ~0ul,
};

#ifdef __x86_64__
/* Upper halves differ from lower ones: a 32-bit save/restore shows. */
#define REG_PATTERN(lo) ((unsigned long)(lo) | 0x1234567800000000ul)
#else
#define REG_PATTERN(lo) ((unsigned long)(lo))
#endif

/* Distinct values in every register, so a swapped or clobbered one shows. */
static void regs_fill(struct guest_regs *r, unsigned long nr,
		      unsigned long flags)
{
	memset(r, 0, sizeof(*r));
	r->ax = nr;
	r->bx = REG_PATTERN(0xb0b1b2b3);
	r->cx = REG_PATTERN(0xc0c1c2c3);
	r->dx = REG_PATTERN(0xd0d1d2d3);
	r->si = REG_PATTERN(0x51525354);
	r->di = REG_PATTERN(0xd1d2d3d4);
	r->bp = REG_PATTERN(0xbeb1b2b3);
#ifdef __x86_64__
	r->r8 = REG_PATTERN(0x08080808);
	r->r9 = REG_PATTERN(0x09090909);
	r->r10 = REG_PATTERN(0x10101010);
	r->r11 = REG_PATTERN(0x11111111);
	r->r12 = REG_PATTERN(0x12121212);
	r->r13 = REG_PATTERN(0x13131313);
	r->r14 = REG_PATTERN(0x14141414);
	r->r15 = REG_PATTERN(0x15151515);
#endif
	r->flags = flags;
}

/* Checks every register of out but AX against in; sp against itself. */
static void regs_check_preserved(const struct guest_regs *in,
				 const struct guest_regs *out)
{
	CHECK_EQ(out->bx, in->bx);
	CHECK_EQ(out->cx, in->cx);
	CHECK_EQ(out->dx, in->dx);
	CHECK_EQ(out->si, in->si);
	CHECK_EQ(out->di, in->di);
	CHECK_EQ(out->bp, in->bp);
#ifdef __x86_64__
	CHECK_EQ(out->r8, in->r8);
	CHECK_EQ(out->r9, in->r9);
	CHECK_EQ(out->r10, in->r10);
	CHECK_EQ(out->r11, in->r11);
	CHECK_EQ(out->r12, in->r12);
	CHECK_EQ(out->r13, in->r13);
	CHECK_EQ(out->r14, in->r14);
	CHECK_EQ(out->r15, in->r15);
#endif
	CHECK_EQ(out->sp_after, out->sp_before);
	CHECK_EQ(out->flags & X86_FLAGS_STATUS, in->flags & X86_FLAGS_STATUS);
}

/* Status flags all set, then all clear: a hypervisor that rebuilds RFLAGS
 * cannot pass both. */
static const unsigned long flag_patterns[] = { X86_FLAGS_STATUS, 0 };

static void test_vmcall_harness_bare(void)
{
	if (guest_under_doorbell()) {
		guest_skip("VMCALL does not fault under doorbell");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(flag_patterns); i++) {
		struct guest_regs in, out;

		regs_fill(&in, HC_UNKNOWN, flag_patterns[i]);
		out = in;
		guest_vmcall_regs(&out);
		CHECK_EQ(guest_fault_vector, X86_VEC_UD);
		CHECK_EQ(out.ax, in.ax);
		regs_check_preserved(&in, &out);
	}
}

static void test_hypercall_unknown_enosys(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(unknown_numbers); i++) {
		long ret = hypercall(unknown_numbers[i], 1, 2, 3, 4);

		if (ret != -ENOSYS)
			guest_check_failed(__LINE__,
				"hypercall %lu returned %ld, not -ENOSYS",
				unknown_numbers[i], ret);
	}
	/* Number 0, which kvm-unit-tests' vmexit "vmcall" row calls, is
	 * answered where every unknown number is, inline: its path length
	 * (in Bochs the TSC counts instructions) is bounded by the boot test. */
	u64 t0 = rdtsc();
	for (u32 i = 0; i < 100; i++)
		(void)hypercall(0, 0, 0, 0, 0);
	u64 t1 = rdtsc();
	printf("hypercall: number 0: %u cycles per call\n", (u32)((t1 - t0) / 100));
}

static void test_hypercall_preserves_registers(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_patterns); i++) {
		struct guest_regs in, out;

		regs_fill(&in, HC_UNKNOWN, flag_patterns[i]);
		out = in;
		guest_vmcall_regs(&out);
		CHECK_EQ(guest_fault_vector, GUEST_NO_FAULT);
		CHECK_EQ(out.ax, (unsigned long)-ENOSYS);
		regs_check_preserved(&in, &out);
	}
}

static const struct guest_test tests[] = {
	{ "vmcall_harness_bare",          test_vmcall_harness_bare, 0 },
	{ "hypercall_unknown_enosys",     test_hypercall_unknown_enosys,
	  GUEST_TEST_NEEDS_DOORBELL },
	{ "hypercall_preserves_registers", test_hypercall_preserves_registers,
	  GUEST_TEST_NEEDS_DOORBELL },
};

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	guest_run_tests(tests, ARRAY_SIZE(tests));
}
