/*
 * guest/cpustate.c - CPU state the hypervisor must give each guest as its
 * own (issue 10): IA32_TSC_AUX, which RDTSCP returns natively and which must
 * never reach the host's register unswitched, and CPUID.1:ECX.OSXSAVE, which
 * mirrors the guest's own CR4.OSXSAVE. Built 32-bit (cpustate.elf) and
 * 64-bit (cpustate64.elf); every check also holds on bare hardware.
 */
#include "lib/guest.h"

#define MSR_TSC_AUX          0xc0000103u
#define CPUID_1_ECX_XSAVE    BIT(26)
#define CPUID_1_ECX_OSXSAVE  BIT(27)
#define CPUID_80000001_EDX_RDTSCP BIT(27)
#define CR4_OSXSAVE          (1ul << 18)

static u32 rdtscp_aux(void)
{
	u32 lo, hi, aux;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	(void)lo; (void)hi;
	return aux;
}

static unsigned long read_cr4(void)
{
	unsigned long v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void write_cr4(unsigned long v)
{
	__asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory");
}

/* WRMSR and RDMSR see the guest's value; so does RDTSCP, which reads the
 * register itself; a VM exit in between (an OUT to COM1) changes nothing. */
static void test_tsc_aux(void)
{
	u64 v = 0;

	if (!(cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_RDTSCP)) {
		guest_skip("no RDTSCP");
		return;
	}
	CHECK_EQ(wrmsr_safe(MSR_TSC_AUX, 0x1234), GUEST_NO_FAULT);
	CHECK_EQ(rdmsr_safe(MSR_TSC_AUX, &v), GUEST_NO_FAULT);
	CHECK_EQ(v, 0x1234);
	CHECK_EQ(rdtscp_aux(), 0x1234);
	printf("cpustate: TSC_AUX 0x%x after a VM exit\n", rdtscp_aux());
	CHECK_EQ(rdtscp_aux(), 0x1234);
	CHECK_EQ(wrmsr_safe(MSR_TSC_AUX, 0xfedcba98), GUEST_NO_FAULT);
	CHECK_EQ(rdtscp_aux(), 0xfedcba98);
	CHECK_EQ(rdmsr(MSR_TSC_AUX), 0xfedcba98);
	/* Bits 63:32 are reserved: #GP, and the value stays. */
	CHECK_EQ(wrmsr_safe(MSR_TSC_AUX, 1ull << 32), X86_VEC_GP);
	CHECK_EQ(rdmsr(MSR_TSC_AUX), 0xfedcba98);
	CHECK_EQ(rdtscp_aux(), 0xfedcba98);
	CHECK_EQ(wrmsr_safe(MSR_TSC_AUX, 0), GUEST_NO_FAULT);
	CHECK_EQ(rdtscp_aux(), 0);
	CHECK_EQ(wrmsr_safe(MSR_TSC_AUX, 7), GUEST_NO_FAULT);
	CHECK_EQ(rdtscp_aux(), 7);
}

/* SDM Vol. 2A, CPUID: ECX bit 27 "OSXSAVE: ... the OS has set CR4.OSXSAVE". */
static void test_osxsave_follows_cr4(void)
{
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_XSAVE)) {
		guest_skip("no XSAVE");
		return;
	}
	unsigned long cr4 = read_cr4();
	write_cr4(cr4 & ~CR4_OSXSAVE);
	CHECK_EQ(cpuid(1, 0).ecx & CPUID_1_ECX_OSXSAVE, 0);
	write_cr4(cr4 | CR4_OSXSAVE);
	CHECK_EQ(cpuid(1, 0).ecx & CPUID_1_ECX_OSXSAVE, CPUID_1_ECX_OSXSAVE);
	write_cr4(cr4 & ~CR4_OSXSAVE);
	CHECK_EQ(cpuid(1, 0).ecx & CPUID_1_ECX_OSXSAVE, 0);
	write_cr4(cr4);
}

static const struct guest_test tests[] = {
	{ "tsc_aux", test_tsc_aux, 0 },
	{ "osxsave_follows_cr4", test_osxsave_follows_cr4, 0 },
};

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	(void)magic;
	/* osx=0 leaves out the OSXSAVE test (until handle_cpuid uses
	 * cpuid_1_ecx_guest_osxsave, vmx/cr.c). */
	u64 osx = 1;
	mb_cmdline_value(mbi, "osx", &osx);
	guest_run_tests(tests, osx ? ARRAY_SIZE(tests) : 1);
}
