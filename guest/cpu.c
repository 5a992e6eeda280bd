/*
 * guest/cpu.c - the CPU the guest sees tells the truth (issue 12): every
 * MSR that CPUID advertises reads and writes without #GP, what doorbell
 * does not back is hidden (and its MSRs #GP), the bits that follow guest
 * state follow it, IA32_TSC and IA32_TSC_ADJUST move the TSC as the SDM
 * says, and the CR0/CR4/EFER writes a CPU refuses are refused with #GP
 * while the VM goes on. Built 32-bit (cpu.elf) and 64-bit (cpu64.elf). The
 * checks hold on bare hardware too, except those marked doorbell-only.
 */
#include "lib/guest.h"

#define MSR_IA32_TSC            0x10u
#define MSR_IA32_TSC_ADJUST     0x3bu
#define MSR_IA32_SPEC_CTRL      0x48u
#define MSR_IA32_PRED_CMD       0x49u
#define MSR_IA32_PMC0           0xc1u
#define MSR_IA32_UMWAIT_CONTROL 0xe1u
#define MSR_IA32_ARCH_CAP       0x10au
#define MSR_IA32_FLUSH_CMD      0x10bu
#define MSR_IA32_SYSENTER_CS    0x174u
#define MSR_IA32_SYSENTER_ESP   0x175u
#define MSR_IA32_SYSENTER_EIP   0x176u
#define MSR_IA32_MCG_CAP        0x179u
#define MSR_IA32_MCG_STATUS     0x17au
#define MSR_IA32_MISC_ENABLE    0x1a0u
#define MSR_IA32_PAT            0x277u
#define MSR_IA32_PERF_CAP       0x345u
#define MSR_IA32_XSS            0xda0u
#define MSR_TSC_AUX             0xc0000103u

/* SDM Vol. 2A, CPUID feature flags */
#define C1_ECX_MONITOR   BIT(3)
#define C1_ECX_VMX       BIT(5)
#define C1_ECX_SMX       BIT(6)
#define C1_ECX_PDCM      BIT(15)
#define C1_ECX_PCID      BIT(17)
#define C1_ECX_X2APIC    BIT(21)
#define C1_EDX_TSC       BIT(4)
#define C1_EDX_MCE       BIT(7)
#define C1_EDX_APIC      BIT(9)
#define C1_EDX_SEP       BIT(11)
#define C1_EDX_MCA       BIT(14)
#define C1_EDX_PAT       BIT(16)
#define C7_EBX_TSC_ADJ   BIT(1)
#define C7_ECX_PKU       BIT(3)
#define C7_ECX_OSPKE     BIT(4)
#define C7_ECX_WAITPKG   BIT(5)
#define C7_ECX_RDPID     BIT(22)
#define C7_ECX_PKS       BIT(31)
#define C7_EDX_IBRS      BIT(26)
#define C7_EDX_STIBP     BIT(27)
#define C7_EDX_L1D_FLUSH BIT(28)
#define C7_EDX_ARCH_CAP  BIT(29)
#define C7_EDX_SSBD      BIT(31)
#define CD1_EAX_XSAVES   BIT(3)
#define E1_EDX_SYSCALL   BIT(11)
#define E1_EDX_NX        BIT(20)
#define E1_EDX_RDTSCP    BIT(27)
#define E1_EDX_LM        BIT(29)

/* SDM Vol. 3A, "Control Registers" */
#define CR0_NW           (1ul << 29)
#define CR0_CD           (1ul << 30)
#define CR0_PG_L         (1ul << 31)
#define CR4_PAE          (1ul << 5)
#define CR4_VMXE         (1ul << 13)
#define CR4_SMXE         (1ul << 14)
#define CR4_RESERVED15   (1ul << 15)
#define CR4_PCIDE        (1ul << 17)
#define CR4_PKE          (1ul << 22)
#define CR4_CET          (1ul << 23)
#define CR4_PKS          (1ul << 24)
#define EFER_RESERVED1   BIT(1)

static u32 max_basic, max_ext;

static struct cpuid_regs leaf(u32 l, u32 sub)
{
	if (l < 0x80000000u ? l > max_basic : l > max_ext)
		return (struct cpuid_regs){ 0, 0, 0, 0 };
	return cpuid(l, sub);
}

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

static unsigned long read_cr3(void)
{
	unsigned long v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static int write_cr0_safe(unsigned long v)
{
	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile(GUEST_FIXUP("mov %0, %%cr0") :: "r"(v) : "memory");
	return guest_fault_vector;
}

static int write_cr4_safe(unsigned long v)
{
	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile(GUEST_FIXUP("mov %0, %%cr4") :: "r"(v) : "memory");
	return guest_fault_vector;
}

static int rdpmc_safe(u32 counter)
{
	u32 lo = 0, hi = 0;
	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile(GUEST_FIXUP("rdpmc") : "+a"(lo), "+d"(hi) : "c"(counter) : "memory");
	return guest_fault_vector;
}

/* The leaves the other tests look at, printed for the log. */
static void test_cpuid_walk(void)
{
	max_basic = cpuid(0, 0).eax;
	max_ext = cpuid(0x80000000u, 0).eax;
	if (max_ext < 0x80000000u)
		max_ext = 0x80000000u;
	printf("cpu: max basic leaf 0x%x, max extended leaf 0x%x\n", max_basic, max_ext);
	static const u32 show[][2] = { { 1, 0 }, { 6, 0 }, { 7, 0 }, { 7, 1 }, { 0xa, 0 },
				       { 0xd, 0 }, { 0xd, 1 }, { 0x80000001u, 0 },
				       { 0x80000007u, 0 }, { 0x80000008u, 0 } };
	for (size_t i = 0; i < ARRAY_SIZE(show); i++) {
		struct cpuid_regs r = leaf(show[i][0], show[i][1]);
		printf("cpu: leaf 0x%x.%u: %08x %08x %08x %08x\n", show[i][0], show[i][1],
		       r.eax, r.ebx, r.ecx, r.edx);
	}
	CHECK(max_basic >= 1);
}

/* What doorbell does not back is hidden, and its MSRs and instructions
 * refuse as CPUID says. */
static void test_hidden_features(void)
{
	struct cpuid_regs l1 = leaf(1, 0), l7 = leaf(7, 0), la = leaf(0xa, 0), ld1 = leaf(0xd, 1);

	CHECK(!(l1.ecx & C1_ECX_PDCM));
	CHECK(!(l1.ecx & C1_ECX_VMX));
	CHECK(!(l1.ecx & C1_ECX_SMX));
	CHECK(!(l1.ecx & C1_ECX_MONITOR));
	CHECK(!(l1.ecx & C1_ECX_X2APIC));
	CHECK_EQ(la.eax | la.ebx | la.ecx | la.edx, 0);
	CHECK(!(l7.ecx & C7_ECX_WAITPKG));
	CHECK(!(l7.ecx & C7_ECX_PKS));
	CHECK(!(ld1.eax & CD1_EAX_XSAVES));
	u64 v;
	CHECK_EQ(rdmsr_safe(MSR_IA32_PERF_CAP, &v), X86_VEC_GP);	/* PDCM */
	CHECK_EQ(rdmsr_safe(MSR_IA32_PMC0, &v), X86_VEC_GP);	/* no PMU */
	CHECK_EQ(rdpmc_safe(0), X86_VEC_GP);
	CHECK_EQ(rdmsr_safe(MSR_IA32_XSS, &v), X86_VEC_GP);	/* XSAVES */
	CHECK_EQ(rdmsr_safe(MSR_IA32_UMWAIT_CONTROL, &v), X86_VEC_GP);	/* WAITPKG */
	if (!(l7.edx & (C7_EDX_IBRS | C7_EDX_STIBP | C7_EDX_SSBD)))
		CHECK_EQ(rdmsr_safe(MSR_IA32_SPEC_CTRL, &v), X86_VEC_GP);
	if (!(l7.edx & C7_EDX_ARCH_CAP))
		CHECK_EQ(rdmsr_safe(MSR_IA32_ARCH_CAP, &v), X86_VEC_GP);
	/* The commands are write-only. */
	CHECK_EQ(rdmsr_safe(MSR_IA32_PRED_CMD, &v), X86_VEC_GP);
	CHECK_EQ(rdmsr_safe(MSR_IA32_FLUSH_CMD, &v), X86_VEC_GP);
	/* x2APIC is hidden: its MSRs #GP. */
	CHECK_EQ(rdmsr_safe(0x802, &v), X86_VEC_GP);
	/* Machine-check banks: MCG_CAP says how many; the next one #GPs. */
	if (l1.edx & C1_EDX_MCA) {
		u32 banks = (u32)(rdmsr(MSR_IA32_MCG_CAP) & 0xff);
		CHECK_EQ(rdmsr_safe(0x400 + 4 * banks, &v), X86_VEC_GP);
	}
}

/* Every MSR CPUID advertises and this test knows: RDMSR, and WRMSR of the
 * value read (or of 0 for the write-only commands), without a fault. */
struct msr_case {
	const char *name;
	u32 msr;
	bool present;
	bool readable, writable;
};

static void test_advertised_msrs(void)
{
	struct cpuid_regs l1 = leaf(1, 0), l7 = leaf(7, 0), e1 = leaf(0x80000001u, 0);
	bool spec = l7.edx & (C7_EDX_IBRS | C7_EDX_STIBP | C7_EDX_SSBD);
	const struct msr_case cases[] = {
		{ "IA32_TSC", MSR_IA32_TSC, l1.edx & C1_EDX_TSC, true, true },
		{ "IA32_APIC_BASE", MSR_IA32_APIC_BASE, l1.edx & C1_EDX_APIC, true, true },
		{ "IA32_TSC_ADJUST", MSR_IA32_TSC_ADJUST, l7.ebx & C7_EBX_TSC_ADJ, true, true },
		{ "IA32_SPEC_CTRL", MSR_IA32_SPEC_CTRL, spec, true, true },
		{ "IA32_PRED_CMD", MSR_IA32_PRED_CMD, l7.edx & C7_EDX_IBRS, false, true },
		{ "IA32_ARCH_CAPABILITIES", MSR_IA32_ARCH_CAP, l7.edx & C7_EDX_ARCH_CAP, true, false },
		{ "IA32_FLUSH_CMD", MSR_IA32_FLUSH_CMD, l7.edx & C7_EDX_L1D_FLUSH, false, true },
		{ "IA32_SYSENTER_CS", MSR_IA32_SYSENTER_CS, l1.edx & C1_EDX_SEP, true, true },
		{ "IA32_SYSENTER_ESP", MSR_IA32_SYSENTER_ESP, l1.edx & C1_EDX_SEP, true, true },
		{ "IA32_SYSENTER_EIP", MSR_IA32_SYSENTER_EIP, l1.edx & C1_EDX_SEP, true, true },
		{ "IA32_MCG_CAP", MSR_IA32_MCG_CAP, l1.edx & C1_EDX_MCA, true, false },
		{ "IA32_MCG_STATUS", MSR_IA32_MCG_STATUS, l1.edx & C1_EDX_MCA, true, true },
		{ "IA32_MISC_ENABLE", MSR_IA32_MISC_ENABLE, true, true, true },
		{ "IA32_PAT", MSR_IA32_PAT, l1.edx & C1_EDX_PAT, true, true },
		{ "IA32_EFER", MSR_EFER, e1.edx & (E1_EDX_SYSCALL | E1_EDX_NX | E1_EDX_LM), true, true },
		{ "IA32_TSC_AUX", MSR_TSC_AUX, (e1.edx & E1_EDX_RDTSCP) || (l7.ecx & C7_ECX_RDPID),
		  true, true },
	};
	u32 touched = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct msr_case *c = &cases[i];
		u64 v = 0;
		if (!c->present)
			continue;
		touched++;
		if (c->readable && rdmsr_safe(c->msr, &v) != GUEST_NO_FAULT)
			guest_check_failed(__LINE__, "RDMSR %s (0x%x) #GP, CPUID advertises it",
					   c->name, c->msr);
		if (c->writable && wrmsr_safe(c->msr, v) != GUEST_NO_FAULT)
			guest_check_failed(__LINE__, "WRMSR %s (0x%x) = 0x%llx #GP, CPUID "
					   "advertises it", c->name, c->msr, (unsigned long long)v);
	}
	printf("cpu: %u advertised MSRs read and written\n", touched);
	CHECK(touched >= 8);
}

/* SPEC_CTRL with each combination of the advertised bits reads back. */
static void test_spec_ctrl(void)
{
	struct cpuid_regs l7 = leaf(7, 0);
	u64 bits = ((l7.edx & C7_EDX_IBRS) ? 1 : 0) | ((l7.edx & C7_EDX_STIBP) ? 2 : 0) |
		   ((l7.edx & C7_EDX_SSBD) ? 4 : 0);
	if (!bits) {
		guest_skip("SPEC_CTRL not advertised");
		return;
	}
	for (u64 val = 0; val <= bits; val++) {
		if ((val & bits) != val)
			continue;
		u64 r = ~0ull;
		CHECK_EQ(wrmsr_safe(MSR_IA32_SPEC_CTRL, val), GUEST_NO_FAULT);
		CHECK_EQ(rdmsr_safe(MSR_IA32_SPEC_CTRL, &r), GUEST_NO_FAULT);
		CHECK_EQ(r, val);
	}
	wrmsr(MSR_IA32_SPEC_CTRL, 0);
}

/* SDM Vol. 3B, "Time-Stamp Counter" and IA32_TSC_ADJUST. */
static void test_tsc_write_and_adjust(void)
{
	const u64 T = 100000000000ull, SLACK = 1000000;

	if (!(leaf(7, 0).ebx & C7_EBX_TSC_ADJ)) {
		guest_skip("no TSC_ADJUST");
		return;
	}
	CHECK_EQ(rdmsr(MSR_IA32_TSC_ADJUST), 0);
	u64 t1 = rdtsc();
	CHECK_EQ(wrmsr_safe(MSR_IA32_TSC, T), GUEST_NO_FAULT);
	u64 t2 = rdtsc();
	u64 adj = rdmsr(MSR_IA32_TSC_ADJUST);
	CHECK(t2 >= T && t2 - T < SLACK);
	/* The TSC_ADJUST moved by what the write moved the TSC: T - adj is
	 * the TSC the write replaced, just after t1. */
	CHECK(T - adj >= t1 && T - adj - t1 < SLACK);
	printf("cpu: TSC 0x%llx -> 0x%llx after WRMSR IA32_TSC; TSC_ADJUST 0x%llx\n",
	       (unsigned long long)t1, (unsigned long long)t2, (unsigned long long)adj);
	/* TSC_ADJUST back to 0 takes the TSC back by adj. */
	CHECK_EQ(wrmsr_safe(MSR_IA32_TSC_ADJUST, 0), GUEST_NO_FAULT);
	u64 t3 = rdtsc();
	CHECK_EQ(rdmsr(MSR_IA32_TSC_ADJUST), 0);
	CHECK(t3 >= t1 && t3 - t1 < SLACK);
	/* And forward again; RDMSR IA32_TSC agrees with RDTSC. */
	CHECK_EQ(wrmsr_safe(MSR_IA32_TSC_ADJUST, T), GUEST_NO_FAULT);
	u64 t4 = rdtsc(), m = rdmsr(MSR_IA32_TSC), t5 = rdtsc();
	CHECK(t4 >= T + t1 && t4 - (T + t1) < SLACK);
	CHECK(m >= t4 && m <= t5);
	CHECK_EQ(rdmsr(MSR_IA32_TSC_ADJUST), T);
	wrmsr(MSR_IA32_TSC_ADJUST, 0);
	CHECK(rdtsc() < T);
}

/* A CPU with no machine-check banks: MCG_CAP read-only, MCG_STATUS 0. */
static void test_mcg(void)
{
	if (!(leaf(1, 0).edx & C1_EDX_MCA)) {
		guest_skip("no MCA");
		return;
	}
	u64 cap = rdmsr(MSR_IA32_MCG_CAP);
	CHECK_EQ(wrmsr_safe(MSR_IA32_MCG_CAP, cap), X86_VEC_GP);
	CHECK_EQ(wrmsr_safe(MSR_IA32_MCG_STATUS, 0), GUEST_NO_FAULT);
	CHECK_EQ(rdmsr(MSR_IA32_MCG_STATUS), 0);
	if (guest_under_doorbell()) {
		CHECK_EQ(cap, 0);
		CHECK_EQ(wrmsr_safe(MSR_IA32_MCG_STATUS, 1), X86_VEC_GP);
	}
}

/* IA32_MISC_ENABLE: written bits read back; the read-only BTS/PEBS
 * unavailable bits (11, 12) cannot change (kvm-unit-tests' msr.flat
 * value). Doorbell-only: real CPUs #GP on some of these bits. */
static void test_misc_enable(void)
{
	const u64 keep = 0x1880, val = 0x400c50809ull;
	u64 orig = rdmsr(MSR_IA32_MISC_ENABLE), want = (val & ~keep) | (orig & keep), r;

	CHECK_EQ(wrmsr_safe(MSR_IA32_MISC_ENABLE, want), GUEST_NO_FAULT);
	CHECK_EQ(rdmsr_safe(MSR_IA32_MISC_ENABLE, &r), GUEST_NO_FAULT);
	CHECK_EQ(r, want);
	CHECK_EQ(wrmsr_safe(MSR_IA32_MISC_ENABLE, want ^ BIT(11)), X86_VEC_GP);
	CHECK_EQ(rdmsr(MSR_IA32_MISC_ENABLE), want);
	CHECK_EQ(wrmsr_safe(MSR_IA32_MISC_ENABLE, orig), GUEST_NO_FAULT);
	CHECK_EQ(rdmsr(MSR_IA32_MISC_ENABLE), orig);
}

/* CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN (SDM Vol. 3A, "Enabling or
 * Disabling the Local APIC"). */
static void test_apic_bit_follows_apic_base(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	CHECK(base & APIC_BASE_ENABLE);
	CHECK(leaf(1, 0).edx & C1_EDX_APIC);
	CHECK_EQ(wrmsr_safe(MSR_IA32_APIC_BASE, base & ~APIC_BASE_ENABLE), GUEST_NO_FAULT);
	CHECK_EQ(leaf(1, 0).edx & C1_EDX_APIC, 0);
	CHECK_EQ(wrmsr_safe(MSR_IA32_APIC_BASE, base), GUEST_NO_FAULT);
	CHECK(leaf(1, 0).edx & C1_EDX_APIC);
}

/* CPUID.7:ECX.OSPKE follows CR4.PKE. */
static void test_ospke_follows_cr4(void)
{
	if (!(leaf(7, 0).ecx & C7_ECX_PKU)) {
		CHECK_EQ(write_cr4_safe(read_cr4() | CR4_PKE), X86_VEC_GP);
		guest_skip("no PKU (CR4.PKE #GPs, as it should)");
		return;
	}
	unsigned long cr4 = read_cr4();
	CHECK_EQ(leaf(7, 0).ecx & C7_ECX_OSPKE, 0);
	CHECK_EQ(write_cr4_safe(cr4 | CR4_PKE), GUEST_NO_FAULT);
	CHECK(leaf(7, 0).ecx & C7_ECX_OSPKE);
	CHECK_EQ(write_cr4_safe(cr4), GUEST_NO_FAULT);
	CHECK_EQ(leaf(7, 0).ecx & C7_ECX_OSPKE, 0);
}

/* MOV to CR4 setting a bit CPUID does not offer, or a reserved one, is
 * #GP(0), and CR4 stays as it was. */
static void test_cr4_refused(void)
{
	unsigned long cr4 = read_cr4();
	struct cpuid_regs l7 = leaf(7, 0);
	const unsigned long bad[] = { CR4_VMXE, CR4_SMXE, CR4_RESERVED15, CR4_CET,
				      (l7.ecx & C7_ECX_PKS) ? 0 : CR4_PKS };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!bad[i])
			continue;
		guest_fault_error = ~0ul;
		if (write_cr4_safe(cr4 | bad[i]) != X86_VEC_GP)
			guest_check_failed(__LINE__, "MOV CR4 |= 0x%lx: no #GP", bad[i]);
		CHECK_EQ(guest_fault_error, 0);
		CHECK_EQ(read_cr4(), cr4);
	}
	/* PCIDE: outside IA-32e mode, or with CR3[11:0] != 0, #GP. */
	if (leaf(1, 0).ecx & C1_ECX_PCID) {
#ifdef __x86_64__
		CHECK_EQ(read_cr3() & 0xfff, 0);
		CHECK_EQ(write_cr4_safe(cr4 | CR4_PCIDE), GUEST_NO_FAULT);
		CHECK(read_cr4() & CR4_PCIDE);
		/* Paging off with PCIDE = 1 (and in 64-bit mode): #GP,
		 * never an invalid guest state (kvm-unit-tests' pcid.flat). */
		CHECK_EQ(write_cr0_safe(read_cr0() & ~CR0_PG_L), X86_VEC_GP);
		CHECK(read_cr0() & CR0_PG_L);
		CHECK_EQ(write_cr4_safe(cr4), GUEST_NO_FAULT);
		/* PAE cleared in IA-32e mode: #GP. */
		CHECK_EQ(write_cr4_safe(cr4 & ~CR4_PAE), X86_VEC_GP);
#else
		CHECK_EQ(write_cr4_safe(cr4 | CR4_PCIDE), X86_VEC_GP);
		(void)read_cr3;
#endif
		CHECK_EQ(read_cr4(), cr4);
	}
}

/* MOV to CR0 combinations the CPU refuses: #GP(0), CR0 unchanged. */
static void test_cr0_refused(void)
{
	unsigned long cr0 = read_cr0();
	/* NW without CD. */
	CHECK_EQ(write_cr0_safe((cr0 | CR0_NW) & ~CR0_CD), X86_VEC_GP);
	CHECK_EQ(read_cr0(), cr0);
#ifdef __x86_64__
	/* Paging off in 64-bit mode; bits 63:32 set. */
	CHECK_EQ(write_cr0_safe(cr0 & ~CR0_PG_L), X86_VEC_GP);
	CHECK_EQ(write_cr0_safe(cr0 | (1ul << 32)), X86_VEC_GP);
#else
	/* Paging without protection. */
	CHECK_EQ(write_cr0_safe((cr0 | CR0_PG_L) & ~1ul), X86_VEC_GP);
	/* Paging with EFER.LME but CR4.PAE clear. */
	if (leaf(0x80000001u, 0).edx & E1_EDX_LM) {
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_LME);
		CHECK_EQ(write_cr0_safe(cr0 | CR0_PG_L), X86_VEC_GP);
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_LME);
	}
#endif
	CHECK_EQ(read_cr0(), cr0);
	/* CD and NW together are fine (and read back). */
	CHECK_EQ(write_cr0_safe(cr0 | CR0_CD | CR0_NW), GUEST_NO_FAULT);
	CHECK_EQ(read_cr0() & (CR0_CD | CR0_NW), CR0_CD | CR0_NW);
	CHECK_EQ(write_cr0_safe(cr0), GUEST_NO_FAULT);
	CHECK_EQ(read_cr0(), cr0);
}

/* WRMSR EFER: reserved bits, and LME changing while paging is on. */
static void test_efer_refused(void)
{
	u64 efer = rdmsr(MSR_EFER);
	CHECK_EQ(wrmsr_safe(MSR_EFER, efer | EFER_RESERVED1), X86_VEC_GP);
	CHECK_EQ(wrmsr_safe(MSR_EFER, efer | BIT(32)), X86_VEC_GP);
	if (!(leaf(0x80000001u, 0).edx & E1_EDX_NX))
		CHECK_EQ(wrmsr_safe(MSR_EFER, efer | BIT(11)), X86_VEC_GP);
#ifdef __x86_64__
	CHECK_EQ(wrmsr_safe(MSR_EFER, efer & ~EFER_LME), X86_VEC_GP);
#endif
	CHECK_EQ(rdmsr(MSR_EFER), efer);
	CHECK_EQ(wrmsr_safe(MSR_EFER, efer), GUEST_NO_FAULT);
}

static unsigned long read_dr6(void)
{
	unsigned long v;
	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static unsigned long read_dr7(void)
{
	unsigned long v;
	__asm__ volatile("mov %%dr7, %0" : "=r"(v));
	return v;
}

#define DR6_BD       (1ul << 13)
#define DR6_FIXED1   0xffff0ff0ul	/* DR6 bits that read as 1 (SDM "Debug Status Register") */
#define DR7_GD       (1ul << 13)
#define DR7_FIXED1   0x400ul

/* SDM Vol. 3B, "Debug Control Register (DR7)": with GD set, a MOV to or from
 * any debug register is a #DB fault with DR6.BD set, and the CPU clears
 * GD as the handler starts. MOV DR does not exit under doorbell, so this
 * is the CPU's own behaviour in VMX non-root operation; DR7 survives the
 * exits in between (the debug controls). */
static void test_dr7_gd(void)
{
	__asm__ volatile("mov %0, %%dr6" :: "r"(DR6_FIXED1) : "memory");
	__asm__ volatile("mov %0, %%dr7" :: "r"(DR7_FIXED1 | DR7_GD) : "memory");
	unsigned long v = 0;
	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile(GUEST_FIXUP("mov %%dr6, %0") : "+r"(v) :: "memory");
	CHECK_EQ(guest_fault_vector, 1);
	CHECK_EQ(read_dr6() & DR6_BD, DR6_BD);
	CHECK_EQ(read_dr7() & DR7_GD, 0);
	/* A VM exit (CPUID) keeps the guest's DR7. */
	__asm__ volatile("mov %0, %%dr7" :: "r"(DR7_FIXED1 | 0x3ul) : "memory");
	(void)cpuid(0, 0);
	CHECK_EQ(read_dr7(), DR7_FIXED1 | 0x3ul);
	__asm__ volatile("mov %0, %%dr7" :: "r"(DR7_FIXED1) : "memory");
	__asm__ volatile("mov %0, %%dr6" :: "r"(DR6_FIXED1) : "memory");
}

#define APIC_REG_TPR 0x80
#define APIC_REG_PPR 0xa0

#ifdef __x86_64__
static unsigned long read_cr8(void)
{
	unsigned long v;
	__asm__ volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

static int write_cr8_safe(unsigned long v)
{
	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile(GUEST_FIXUP("mov %0, %%cr8") :: "r"(v) : "memory");
	return guest_fault_vector;
}
#endif

/* The local APIC's TPR: all 8 bits of the xAPIC register are kept, PPR
 * equals TPR while nothing is in service (SDM Vol. 3A, "Task Priority
 * Register (TPR)", "Processor Priority Register (PPR)"); in 64-bit mode CR8
 * is TPR[7:4] both ways, and a MOV to CR8 with any of bits 63:4 set is
 * #GP(0) and changes nothing ("MOV-Move to/from Control Registers"). Under
 * doorbell the CPU's TPR shadow serves MOV CR8 with no VM exit: the path
 * length of one is printed for tests/boot/cpu.cases to bound. */
static void test_tpr_and_cr8(void)
{
	apic_write(APIC_REG_TPR, 0x5a);
	CHECK_EQ(apic_read(APIC_REG_TPR), 0x5a);
	CHECK_EQ(apic_read(APIC_REG_PPR), 0x5a);
#ifdef __x86_64__
	CHECK_EQ(read_cr8(), 5);
	CHECK_EQ(write_cr8_safe(9), GUEST_NO_FAULT);
	CHECK_EQ(apic_read(APIC_REG_TPR), 0x90);
	CHECK_EQ(read_cr8(), 9);
	CHECK_EQ(write_cr8_safe(0x10), X86_VEC_GP);
	CHECK_EQ(write_cr8_safe(1ul << 63), X86_VEC_GP);
	CHECK_EQ(read_cr8(), 9);
	CHECK_EQ(apic_read(APIC_REG_TPR), 0x90);
	/* 100 of each, timed: in Bochs the TSC counts instructions. */
	u64 t0 = rdtsc();
	for (u32 i = 0; i < 100; i++) {
		__asm__ volatile("mov %0, %%cr8" :: "r"((unsigned long)(i & 15)) : "memory");
		(void)read_cr8();
	}
	u64 t1 = rdtsc();
	printf("cpu: mov to and from cr8: %u cycles per pair\n", (u32)((t1 - t0) / 100));
	CHECK_EQ(read_cr8(), 3);	/* 99 & 15 */
	CHECK_EQ(apic_read(APIC_REG_TPR), 0x30);
	CHECK_EQ(write_cr8_safe(0), GUEST_NO_FAULT);
#endif	/* CR8 exists in 64-bit mode only */
	apic_write(APIC_REG_TPR, 0);
	CHECK_EQ(apic_read(APIC_REG_PPR), 0);
}

static const struct guest_test tests[] = {
	{ "cpuid_walk", test_cpuid_walk, 0 },
	/* First: IA32_TSC_ADJUST starts at 0 (a later WRMSR IA32_TSC moves it). */
	{ "tsc_write_and_adjust", test_tsc_write_and_adjust, 0 },
	{ "hidden_features", test_hidden_features, GUEST_TEST_NEEDS_DOORBELL },
	{ "advertised_msrs", test_advertised_msrs, 0 },
	{ "spec_ctrl", test_spec_ctrl, 0 },
	{ "mcg", test_mcg, 0 },
	{ "misc_enable", test_misc_enable, GUEST_TEST_NEEDS_DOORBELL },
	{ "apic_bit_follows_apic_base", test_apic_bit_follows_apic_base, 0 },
	{ "ospke_follows_cr4", test_ospke_follows_cr4, 0 },
	{ "cr4_refused", test_cr4_refused, 0 },
	{ "cr0_refused", test_cr0_refused, 0 },
	{ "efer_refused", test_efer_refused, 0 },
	{ "dr7_gd", test_dr7_gd, 0 },
	{ "tpr_and_cr8", test_tpr_and_cr8, 0 },
};

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	guest_run_tests(tests, ARRAY_SIZE(tests));
}
