/*
 * vmx/cpuid.c - the guest's CPUID, filtered from the host's (see cpuid.h
 * for the rule and docs/vmx.md for the list). Every mask below is a list of
 * the bits offered; a bit not named is hidden. SDM Vol. 2A, "CPUID - CPU
 * Identification" (tables "Feature Information Returned in the ECX/EDX
 * Register", "Structured Extended Feature Flags Enumeration Leaf"); Vol. 1,
 * "Enumeration of CPU Support for XSAVE Instructions and XSAVE-Supported
 * Features".
 */
#include "vmx/cpuid.h"

#define B(n) (1u << (n))

/* Leaf 1 ECX: SSE3, PCLMULQDQ, SSSE3, FMA, CMPXCHG16B, PCID, SSE4.1,
 * SSE4.2, MOVBE, POPCNT, AES, XSAVE, AVX, F16C, RDRAND. Hidden: DTES64, DS-CPL
 * (debug store), MONITOR (MONITOR/MWAIT exit to #UD), VMX, SMX (GETSEC #UD),
 * EIST, TM2, CNXT-ID, SDBG (their MSRs), xTPR, PDCM (IA32_PERF_CAPABILITIES),
 * DCA, x2APIC (the APIC is xAPIC only), TSC-deadline (no APIC timer). OSXSAVE
 * follows CR4; the hypervisor bit is set. */
#define LEAF1_ECX_OFFERED (B(0) | B(1) | B(9) | B(12) | B(13) | B(17) | B(19) | B(20) | \
			   B(22) | B(23) | B(25) | B(26) | B(28) | B(29) | B(30))
/* Leaf 1 EDX: FPU, VME, DE, PSE, TSC, MSR, PAE, MCE, CX8, APIC, SEP, PGE,
 * MCA, CMOV, PAT, PSE-36, CLFSH, MMX, FXSR, SSE, SSE2, SS. Hidden: MTRR (no
 * MTRRs: IA32_MTRRCAP reads 0), PSN, DS, ACPI (thermal MSRs), HTT (one
 * logical processor), TM, PBE. */
#define LEAF1_EDX_OFFERED (B(0) | B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7) | B(8) | \
			   B(9) | B(11) | B(13) | B(14) | B(15) | B(16) | B(17) | B(19) | \
			   B(23) | B(24) | B(25) | B(26) | B(27))
/* Leaf 7 subleaf 0 EBX: FSGSBASE, TSC_ADJUST (emulated, always offered),
 * BMI1, HLE, AVX2, FDP_EXCPTN_ONLY, SMEP, BMI2, ERMS, INVPCID (with its VMX
 * control), RTM, FPU CS/DS deprecation, AVX512F/DQ, RDSEED, ADX, SMAP,
 * AVX512_IFMA, CLFLUSHOPT, CLWB, AVX512PF/ER/CD, SHA, AVX512BW/VL. Hidden:
 * SGX, RDT-M, MPX, RDT-A, Intel PT. */
#define LEAF7_EBX_OFFERED (B(0) | B(1) | B(3) | B(4) | B(5) | B(6) | B(7) | B(8) | B(9) | \
			   B(11) | B(13) | B(16) | B(17) | B(18) | B(19) | B(20) | B(21) | \
			   B(23) | B(24) | B(26) | B(27) | B(28) | B(29) | B(30) | B(31))
#define LEAF7_EBX_INVPCID B(10)
#define LEAF7_EBX_TSC_ADJUST B(1)
/* Leaf 7 subleaf 0 ECX: PREFETCHWT1, AVX512_VBMI, UMIP, PKU, AVX512_VBMI2,
 * GFNI, VAES, VPCLMULQDQ, AVX512_VNNI, AVX512_BITALG, AVX512_VPOPCNTDQ,
 * LA57, RDPID (with "enable RDTSCP"), CLDEMOTE, MOVDIRI, MOVDIR64B. OSPKE
 * follows CR4. Hidden: WAITPKG (needs "enable user wait and pause" and
 * IA32_UMWAIT_CONTROL), CET shadow stacks, TME, MPX's MAWAU, Key Locker,
 * bus-lock detection, ENQCMD, SGX launch control, PKS. */
#define LEAF7_ECX_OFFERED (B(0) | B(1) | B(2) | B(3) | B(6) | B(8) | B(9) | B(10) | B(11) | \
			   B(12) | B(14) | B(16) | B(25) | B(27) | B(28))
#define LEAF7_ECX_RDPID B(22)
/* Leaf 7 subleaf 0 EDX: AVX512_4VNNIW/4FMAPS, FSRM, AVX512_VP2INTERSECT,
 * MD_CLEAR, RTM_ALWAYS_ABORT, SERIALIZE, TSXLDTRK, AVX512_FP16, and the
 * speculation controls whose MSRs reach the hardware (vmx/msr.c: SPEC_CTRL
 * and PRED_CMD and FLUSH_CMD passed through, ARCH_CAPABILITIES read with its
 * enumeration bits only): IBRS/IBPB, STIBP, L1D_FLUSH, ARCH_CAPABILITIES,
 * SSBD. Hidden: UINTR, SRBDS_CTRL, TSX_FORCE_ABORT, hybrid, PCONFIG, arch
 * LBRs, CET IBT, AMX (needs XFD), CORE_CAPABILITIES. */
#define LEAF7_EDX_OFFERED (B(2) | B(3) | B(4) | B(8) | B(10) | B(11) | B(14) | B(16) | B(23) | \
			   B(26) | B(27) | B(28) | B(29) | B(31))
/* Leaf 7 subleaf 1 EAX: AVX-VNNI, AVX512_BF16, CMPCCXADD, fast zero-length
 * MOVSB, fast short STOSB and CMPSB, AVX-IFMA. Hidden: LASS, the PMU's
 * extension, FRED, LKGS, WRMSRNS, AMX-FP16, HRESET, LAM. EDX: AVX-VNNI-INT8,
 * AVX-NE-CONVERT, AVX-VNNI-INT16, PREFETCHI. */
#define LEAF7_1_EAX_OFFERED (B(4) | B(5) | B(7) | B(10) | B(11) | B(12) | B(23))
#define LEAF7_1_EDX_OFFERED (B(4) | B(5) | B(10) | B(14))
/* Leaf 0xD subleaf 0: the XCR0 components: x87, SSE, AVX, AVX-512's three,
 * PKRU. Hidden: MPX (BNDREGS, BNDCSR), AMX (XTILECFG, XTILEDATA: need XFD),
 * APX; the supervisor components belong to IA32_XSS, which is not offered.
 * Subleaf 1 EAX: XSAVEOPT, XSAVEC, XGETBV with ECX = 1. Hidden: XSAVES
 * (needs "enable XSAVES/XRSTORS" and IA32_XSS), XFD. */
#define XCR0_OFFERED      (B(0) | B(1) | B(2) | B(5) | B(6) | B(7) | B(9))
#define LEAF_D1_EAX_OFFERED (B(0) | B(1) | B(2))
/* 0x80000001 ECX: LAHF/SAHF, LZCNT, PREFETCHW. EDX: SYSCALL, NX, 1-GByte
 * pages, RDTSCP (with "enable RDTSCP"), Intel 64. */
#define LEAF81_ECX_OFFERED (B(0) | B(5) | B(8))
#define LEAF81_EDX_OFFERED (B(11) | B(20) | B(26) | B(29))
#define LEAF81_EDX_RDTSCP  B(27)
/* 0x80000007 EDX: invariant TSC. 0x80000008 EBX: WBNOINVD (exits as WBINVD
 * does, and is completed the same way). */
#define LEAF87_EDX_OFFERED B(8)
#define LEAF88_EBX_OFFERED B(9)

#define CR4_OSXSAVE B(18)
#define CR4_PKE     B(22)

/* Leaf 1 EBX: bits 23:16 the logical processors a package has (one: each
 * VM has one vCPU), bits 31:24 the initial APIC ID. */
#define LEAF1_EBX_KEEP    0x0000ffffu	/* brand index, CLFLUSH line size */
#define LEAF1_EBX_ONE_LP  (1u << 16)
#define APIC_ID_SHIFT     24
/* Leaf 4 EAX bits 31:26 cores per package - 1, bits 25:14 logical
 * processors sharing the cache - 1: both 0 for one vCPU. */
#define LEAF4_EAX_KEEP    0x00003fffu
/* Leaves 0xB and 0x1F (V2 extended topology): ECX bits 15:8 the level type. */
#define TOPO_LEVEL_SMT    1u
#define TOPO_LEVEL_CORE   2u
#define TOPO_TYPE_SHIFT   8

static u32 min_u32(u32 a, u32 b)
{
	return a < b ? a : b;
}

static u32 max_basic(cpuid_host_fn *host, void *ctx)
{
	struct cpuid_regs r;
	host(ctx, 0, 0, &r);
	return min_u32(r.eax, CPUID_GUEST_MAX_BASIC);
}

static u32 max_ext(cpuid_host_fn *host, void *ctx)
{
	struct cpuid_regs r;
	host(ctx, 0x80000000u, 0, &r);
	if (r.eax < 0x80000000u)
		return 0x80000000u;
	return min_u32(r.eax, CPUID_GUEST_MAX_EXT);
}

u64 cpuid_xcr0_guest_allowed(cpuid_host_fn *host, void *ctx)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };
	if (max_basic(host, ctx) >= 0xd)
		host(ctx, 0xd, 0, &r);
	/* The AVX-512 components come as a set (SDM "XSETBV": XCR0[7:5] all
	 * or none); offer none unless the host has all three. */
	u64 m = (((u64)r.edx << 32) | r.eax) & XCR0_OFFERED;
	if ((m & 0xe0) != 0xe0)
		m &= ~0xe0ull;
	return m;
}

static void topology(u32 sub, u32 apic_id, struct cpuid_regs *r)
{
	/* One vCPU: an SMT level and a core level of one logical processor
	 * each, with no bits of the x2APIC ID below either (shift 0). */
	r->eax = 0;
	r->ebx = sub <= 1 ? 1 : 0;
	r->ecx = (sub & 0xff) | (sub == 0 ? TOPO_LEVEL_SMT << TOPO_TYPE_SHIFT :
				 sub == 1 ? TOPO_LEVEL_CORE << TOPO_TYPE_SHIFT : 0);
	r->edx = apic_id;
}

static void leaf_xsave(cpuid_host_fn *host, void *ctx, u32 sub, struct cpuid_regs *r)
{
	u64 xcr0 = cpuid_xcr0_guest_allowed(host, ctx);
	if (sub == 0) {
		/* EBX (the size for the XCR0 now set) is the host's: XCR0 is
		 * the guest's own while it runs (XSETBV, vmx/exit.c), checked
		 * against this mask. ECX, the size for every offered
		 * component, is recomputed from their offsets. */
		u32 size = 512 + 64;	/* legacy area and XSAVE header */
		for (u32 i = 2; i < 64; i++) {
			if (!(xcr0 & (1ull << i)))
				continue;
			struct cpuid_regs c;
			host(ctx, 0xd, i, &c);
			if (c.eax + c.ebx > size)
				size = c.eax + c.ebx;
		}
		r->eax = (u32)xcr0;
		r->edx = (u32)(xcr0 >> 32);
		r->ecx = size;
	} else if (sub == 1) {
		r->eax &= LEAF_D1_EAX_OFFERED;
		r->ecx = r->edx = 0;	/* IA32_XSS components: none */
	} else if (sub < 64 && (xcr0 & (1ull << sub))) {
		r->ecx &= B(1);		/* user component; keep "aligned" only */
		r->edx = 0;
	} else {
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
	}
}

void cpuid_guest(cpuid_host_fn *host, void *ctx, const struct cpuid_config *cfg,
		 const struct cpuid_dyn *dyn, u32 leaf, u32 sub, struct cpuid_regs *out)
{
	u32 bmax = max_basic(host, ctx), emax = max_ext(host, ctx);
	struct cpuid_regs r;

	/* SDM Vol. 2A, CPUID: "If a value entered for CPUID.EAX is higher
	 * than the maximum input value for basic or extended function for
	 * that processor then the data for the highest basic information
	 * leaf is returned." */
	if (leaf >= 0x80000000u ? leaf > emax : leaf > bmax)
		leaf = bmax;
	host(ctx, leaf, sub, &r);

	switch (leaf) {
	case 0x0:
		r.eax = bmax;
		break;
	case 0x1:
		r.ebx = (r.ebx & LEAF1_EBX_KEEP) | LEAF1_EBX_ONE_LP | dyn->apic_id << APIC_ID_SHIFT;
		r.ecx = (r.ecx & LEAF1_ECX_OFFERED) | CPUID_1_ECX_HYPERVISOR;
		if ((r.ecx & CPUID_1_ECX_XSAVE) && (dyn->cr4 & CR4_OSXSAVE))
			r.ecx |= CPUID_1_ECX_OSXSAVE;
		r.edx &= LEAF1_EDX_OFFERED;
		if (!dyn->apic_enabled)
			r.edx &= ~CPUID_1_EDX_APIC;
		break;
	case 0x2:		/* cache and TLB descriptors */
	case 0x15:		/* TSC and core crystal clock */
	case 0x16:		/* processor frequencies */
	case 0x80000002u: case 0x80000003u: case 0x80000004u:	/* brand string */
	case 0x80000005u: case 0x80000006u:			/* caches */
		break;
	case 0x4:
		r.eax &= LEAF4_EAX_KEEP;
		break;
	case 0x7:
		if (sub == 0) {
			r.eax = min_u32(r.eax, 1);
			r.ebx = (r.ebx & (LEAF7_EBX_OFFERED | (cfg->invpcid ? LEAF7_EBX_INVPCID : 0))) |
				LEAF7_EBX_TSC_ADJUST;
			r.ecx &= LEAF7_ECX_OFFERED | (cfg->rdtscp ? LEAF7_ECX_RDPID : 0);
			if ((r.ecx & CPUID_7_ECX_PKU) && (dyn->cr4 & CR4_PKE))
				r.ecx |= CPUID_7_ECX_OSPKE;
			r.edx &= LEAF7_EDX_OFFERED;
		} else if (sub == 1) {
			r.eax &= LEAF7_1_EAX_OFFERED;
			r.ebx = r.ecx = 0;
			r.edx &= LEAF7_1_EDX_OFFERED;
		} else {
			r = (struct cpuid_regs){ 0, 0, 0, 0 };
		}
		break;
	case 0xb:
	case 0x1f:
		topology(sub, dyn->apic_id, &r);
		break;
	case 0xd:
		leaf_xsave(host, ctx, sub, &r);
		break;
	case 0x80000000u:
		r.eax = emax;
		break;
	case 0x80000001u:
		r.ecx &= LEAF81_ECX_OFFERED;
		r.edx &= LEAF81_EDX_OFFERED | (cfg->rdtscp ? LEAF81_EDX_RDTSCP : 0);
		break;
	case 0x80000007u:
		r.eax = r.ebx = r.ecx = 0;
		r.edx &= LEAF87_EDX_OFFERED;
		break;
	case 0x80000008u:
		r.eax &= 0xffff;	/* physical and linear address widths */
		r.ebx &= LEAF88_EBX_OFFERED;
		r.ecx = r.edx = 0;
		break;
	default:
		/* 3 (PSN), 5 (MONITOR), 6 (power management), 8, 9 (DCA),
		 * 0xA (the PMU: no counters offered), 0xC, 0xE, 0xF and 0x10
		 * (RDT), 0x11, 0x12 (SGX), 0x13, 0x14 (PT), 0x17 (SoC), 0x18
		 * (TLBs, subleaf-indexed: not worth it), 0x19 (Key Locker),
		 * 0x1A (hybrid), 0x1B (PCONFIG), 0x1C (arch LBRs), 0x1D, 0x1E
		 * (AMX): none of their features is offered. */
		r = (struct cpuid_regs){ 0, 0, 0, 0 };
		break;
	}
	*out = r;
}

/* Leaves whose value depends on the subleaf, on guest state or on the CPU
 * executing CPUID (APIC IDs): never from the table. */
#define TABLE_LIVE (B(0x1) | B(0x4) | B(0x7) | B(0xb) | B(0xd) | B(0x1f))

void cpuid_table_fill(struct cpuid_table *t, cpuid_host_fn *host, void *ctx,
		      const struct cpuid_config *cfg)
{
	static const struct cpuid_dyn none = { 0, false, 0 };
	u32 n = max_basic(host, ctx) + 1;

	*t = (struct cpuid_table){ 0 };
	t->cfg = *cfg;
	for (u32 leaf = 0; leaf < n; leaf++) {
		struct cpuid_regs r;
		if (TABLE_LIVE & B(leaf))
			continue;
		cpuid_guest(host, ctx, cfg, &none, leaf, 0, &r);
		t->eax[leaf] = r.eax;
		t->ebx[leaf] = r.ebx;
		t->ecx[leaf] = r.ecx;
		t->edx[leaf] = r.edx;
		t->have |= B(leaf);
	}
}

/* SDM Vol. 3A, "Control Registers" (CR4), bit by bit with the CPUID flag
 * that makes it settable. PCE, OSFXSR and OSXMMEXCPT have no flag of their
 * own on any CPU with VMX; the rest are reserved without theirs. */
u64 cpuid_cr4_guest_allowed(const struct cpuid_regs *l1, const struct cpuid_regs *l7)
{
	static const struct { u8 cr4_bit, reg, flag; } map[] = {
#define ECX1 0
#define EDX1 1
#define EBX7 2
#define ECX7 3
		{ 0, EDX1, 1 },		/* VME */
		{ 1, EDX1, 1 },		/* PVI */
		{ 2, EDX1, 4 },		/* TSD */
		{ 3, EDX1, 2 },		/* DE */
		{ 4, EDX1, 3 },		/* PSE */
		{ 5, EDX1, 6 },		/* PAE */
		{ 6, EDX1, 7 },		/* MCE */
		{ 7, EDX1, 13 },	/* PGE */
		{ 11, ECX7, 2 },	/* UMIP */
		{ 12, ECX7, 16 },	/* LA57 */
		{ 14, ECX1, 6 },	/* SMXE */
		{ 16, EBX7, 0 },	/* FSGSBASE */
		{ 17, ECX1, 17 },	/* PCIDE */
		{ 18, ECX1, 26 },	/* OSXSAVE */
		{ 20, EBX7, 7 },	/* SMEP */
		{ 21, EBX7, 20 },	/* SMAP */
		{ 22, ECX7, 3 },	/* PKE */
	};
	const u32 regs[4] = { l1->ecx, l1->edx, l7->ebx, l7->ecx };
	u64 ok = B(8) | B(9) | B(10);	/* PCE, OSFXSR, OSXMMEXCPT */

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (regs[map[i].reg] & B(map[i].flag))
			ok |= 1ull << map[i].cr4_bit;
	return ok;
#undef ECX1
#undef EDX1
#undef EBX7
#undef ECX7
}
