/*
 * guest/vmxud.c - instructions that always exit but that a guest of doorbell
 * cannot have (issue 8): every VMX instruction, GETSEC and VMFUNC must raise
 * #UD, as on a CPU without VMX (CPUID hides it), and the guest goes on.
 * Before issue 8 each one stopped the VM with a VMCS dump.
 *
 * In VMX non-root operation VMXON, VMCLEAR, VMPTRLD, VMPTRST, VMREAD,
 * VMWRITE, VMLAUNCH, VMRESUME, VMXOFF, INVEPT, INVVPID exit unconditionally
 * (SDM Vol. 3C, "Instructions That Cause VM Exits Unconditionally"); GETSEC
 * raises #UD itself while CR4.SMXE is 0, and exits otherwise; VMFUNC raises
 * #UD itself unless "enable VM functions" is set. Each runs under the
 * guest's exception fixup; one "ok NAME" or "FAIL NAME" line each. Run in
 * ring 0; VMREAD and VMWRITE also from ring 3 would need a user segment and
 * are left out: the exit comes before the CPL check either way.
 */
#include "lib/guest.h"

static u64 vmx_region[512] __attribute__((aligned(4096)));
static u64 desc[2] __attribute__((aligned(16)));

#define UD_TEST(fn, insn, ...)                                                 \
	static void fn(void)                                                   \
	{                                                                      \
		guest_fault_vector = GUEST_NO_FAULT;                           \
		__asm__ volatile(GUEST_FIXUP(insn) : : __VA_ARGS__);           \
		CHECK_EQ(guest_fault_vector, X86_VEC_UD);                      \
	}

UD_TEST(test_vmxon, "vmxon %0", "m"(vmx_region[0]) : "memory", "cc")
UD_TEST(test_vmclear, "vmclear %0", "m"(vmx_region[0]) : "memory", "cc")
UD_TEST(test_vmptrld, "vmptrld %0", "m"(vmx_region[0]) : "memory", "cc")
UD_TEST(test_vmptrst, "vmptrst %0", "m"(vmx_region[1]) : "memory", "cc")
UD_TEST(test_vmread, "vmread %0, %1", "r"(0x4402ul), "r"(0ul) : "memory", "cc")
UD_TEST(test_vmwrite, "vmwrite %1, %0", "r"(0x681eul), "r"(0ul) : "memory", "cc")
UD_TEST(test_vmlaunch, "vmlaunch", "i"(0) : "memory", "cc")
UD_TEST(test_vmresume, "vmresume", "i"(0) : "memory", "cc")
UD_TEST(test_vmxoff, "vmxoff", "i"(0) : "memory", "cc")
UD_TEST(test_invept, "invept %0, %1", "m"(desc), "r"(1ul) : "memory", "cc")
UD_TEST(test_invvpid, "invvpid %0, %1", "m"(desc), "r"(1ul) : "memory", "cc")
UD_TEST(test_vmfunc, "vmfunc", "a"(0), "c"(0) : "memory", "cc")
UD_TEST(test_getsec, "getsec", "a"(0), "b"(0) : "memory", "cc")

/* After all of them the guest still runs: the hypervisor's CPUID answers. */
static void test_still_running(void)
{
	CHECK(guest_under_doorbell());
}

static const struct guest_test tests[] = {
	{ "vmxon_ud", test_vmxon, GUEST_TEST_NEEDS_DOORBELL },
	{ "vmclear_ud", test_vmclear, GUEST_TEST_NEEDS_DOORBELL },
	{ "vmptrld_ud", test_vmptrld, GUEST_TEST_NEEDS_DOORBELL },
	{ "vmptrst_ud", test_vmptrst, GUEST_TEST_NEEDS_DOORBELL },
	{ "vmread_ud", test_vmread, GUEST_TEST_NEEDS_DOORBELL },
	{ "vmwrite_ud", test_vmwrite, GUEST_TEST_NEEDS_DOORBELL },
	{ "vmlaunch_ud", test_vmlaunch, GUEST_TEST_NEEDS_DOORBELL },
	{ "vmresume_ud", test_vmresume, GUEST_TEST_NEEDS_DOORBELL },
	{ "vmxoff_ud", test_vmxoff, GUEST_TEST_NEEDS_DOORBELL },
	{ "invept_ud", test_invept, GUEST_TEST_NEEDS_DOORBELL },
	{ "invvpid_ud", test_invvpid, GUEST_TEST_NEEDS_DOORBELL },
	{ "vmfunc_ud", test_vmfunc, GUEST_TEST_NEEDS_DOORBELL },
	{ "getsec_ud", test_getsec, GUEST_TEST_NEEDS_DOORBELL },
	{ "still_running", test_still_running, GUEST_TEST_NEEDS_DOORBELL },
};

#ifndef __x86_64__
/*
 * taskswitch=1: a JMP to a TSS selector, which exits unconditionally (SDM
 * Vol. 3C, "Task Switches"). doorbell does not emulate hardware task
 * switching: the VM must be stopped with that reason (status 125), not with
 * a VMCS dump for an exit that has no handler.
 */
#define TSS_SEL 0x48	/* GDT entry 9 of our copy */
static u64 gdt_copy[16] __attribute__((aligned(8)));
static u8 tss[104] __attribute__((aligned(8)));

static void task_switch(void)
{
	struct { u16 limit; u32 base; } __packed gdtr, mine;
	u32 base = (u32)(uintptr_t)tss;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	memcpy(gdt_copy, (void *)(uintptr_t)gdtr.base, (size_t)gdtr.limit + 1);
	/* Present, DPL 0, available 32-bit TSS (type 9), limit 0x67. */
	gdt_copy[TSS_SEL / 8] = (sizeof(tss) - 1) | ((u64)(base & 0xffffff) << 16) |
				(0x89ull << 40) | ((u64)(base >> 24) << 56);
	mine.limit = sizeof(gdt_copy) - 1;
	mine.base = (u32)(uintptr_t)gdt_copy;
	__asm__ volatile("lgdt %0" : : "m"(mine));
	printf("vmxud: jumping to TSS selector 0x%x\n", TSS_SEL);
	__asm__ volatile("ljmp $0x48, $0" : : : "memory");
	printf("vmxud: the task switch returned\n");
	guest_exit(GUEST_EXIT_FAIL);
}
#endif

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	u64 ts = 0;

	(void)magic;
	mb_cmdline_value(mbi, "taskswitch", &ts);
#ifndef __x86_64__
	if (ts)
		task_switch();
#endif
	guest_run_tests(tests, ARRAY_SIZE(tests));
}
