/* Host tests for vmx/cpuid.c: the guest's CPUID from fake hosts - one that
 * sets every bit of every leaf (so only what doorbell offers survives), a
 * small old CPU, and random ones - for the hidden features (PDCM, the PMU,
 * VMX, MONITOR, x2APIC, WAITPKG, AMX, XSAVES...), the bits that follow guest
 * state (OSXSAVE, OSPKE, APIC, the APIC ID), the VMX-control-dependent ones
 * (RDTSCP, RDPID, INVPCID), leaf ranges, the XSAVE leaf, the per-VM table,
 * and the CR4 and XCR0 bits the guest may set. */
#include "vmx/cpuid.c"
#include "tests/host/test.h"

/* The SDM's bit numbers, written out here again. */
#define L1C_SSE3      (1u << 0)
#define L1C_MONITOR   (1u << 3)
#define L1C_VMX       (1u << 5)
#define L1C_SMX       (1u << 6)
#define L1C_EIST      (1u << 7)
#define L1C_PDCM      (1u << 15)
#define L1C_PCID      (1u << 17)
#define L1C_X2APIC    (1u << 21)
#define L1C_DEADLINE  (1u << 24)
#define L1C_XSAVE     (1u << 26)
#define L1C_OSXSAVE   (1u << 27)
#define L1C_AVX       (1u << 28)
#define L1C_HV        (1u << 31)
#define L1D_APIC      (1u << 9)
#define L1D_MTRR      (1u << 12)
#define L1D_MCA       (1u << 14)
#define L1D_DS        (1u << 21)
#define L1D_HTT       (1u << 28)
#define L7B_TSC_ADJ   (1u << 1)
#define L7B_SGX       (1u << 2)
#define L7B_INVPCID   (1u << 10)
#define L7B_MPX       (1u << 14)
#define L7B_PT        (1u << 25)
#define L7C_UMIP      (1u << 2)
#define L7C_PKU       (1u << 3)
#define L7C_OSPKE     (1u << 4)
#define L7C_WAITPKG   (1u << 5)
#define L7C_RDPID     (1u << 22)
#define L7C_PKS       (1u << 31)
#define L7D_AMX_TILE  (1u << 24)
#define L7D_SPEC_CTRL (1u << 26)
#define L7D_CORE_CAP  (1u << 30)
#define E1D_RDTSCP    (1u << 27)
#define E1D_LM        (1u << 29)
#define CR4_PKE_T     (1ull << 22)
#define CR4_OSXSAVE_T (1ull << 18)

/* A fake host: listed leaves, and a default for the rest. */
struct fake_leaf {
	u32 leaf, sub;
	struct cpuid_regs r;
};
struct fake_host {
	const struct fake_leaf *leaves;
	size_t n;
	u32 fill;		/* every other register of every leaf */
	u32 calls;
};

static void fake_cpuid(void *ctx, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	struct fake_host *h = ctx;
	/* Leaves without subleaves ignore ECX, as on the CPU. */
	bool indexed = leaf == 4 || leaf == 7 || leaf == 0xb || leaf == 0xd || leaf == 0x1f;
	h->calls++;
	for (size_t i = 0; i < h->n; i++) {
		if (h->leaves[i].leaf == leaf && h->leaves[i].sub == (indexed ? sub : 0)) {
			*r = h->leaves[i].r;
			return;
		}
	}
	*r = (struct cpuid_regs){ h->fill, h->fill, h->fill, h->fill };
}

/* Every bit set, except the leaves whose values are sizes: leaf 0 and
 * 0x80000000 (the highest leaves) and 0xD's component offsets. */
static const struct fake_leaf ones_leaves[] = {
	{ 0, 0, { 0x20, 0x756e6547, 0x6c65746e, 0x49656e69 } },	/* GenuineIntel */
	{ 0x80000000u, 0, { 0x80000008u, 0, 0, 0 } },
	{ 0xd, 0, { 0xffffffff, 0x340, 0x2b00, 0xffffffff } },
	{ 0xd, 2, { 256, 576, 0, 0 } },
	{ 0xd, 3, { 64, 960, 0, 0 } },
	{ 0xd, 5, { 64, 1088, 0, 0 } },
	{ 0xd, 6, { 512, 1152, 0, 0 } },
	{ 0xd, 7, { 1024, 1664, 0, 0 } },
	{ 0xd, 9, { 8, 2688, 0, 0 } },
	{ 0xd, 17, { 64, 2752, 0xffffffff, 0 } },
	{ 0xd, 18, { 8192, 2816, 0xffffffff, 0 } },
};
static struct fake_host ones = { ones_leaves, ARRAY_SIZE(ones_leaves), 0xffffffffu, 0 };

/* An old CPU: basic leaves up to 0xD only, no leaf 7 features. */
static const struct fake_leaf old_leaves[] = {
	{ 0, 0, { 0xd, 0x756e6547, 0x6c65746e, 0x49656e69 } },
	{ 1, 0, { 0x206a7, 0x00100800, L1C_SSE3 | L1C_XSAVE | L1C_AVX | L1C_PDCM | L1C_VMX,
		  0xbfebfbff } },
	{ 0xd, 0, { 0x7, 0x240, 0x340, 0 } },
	{ 0xd, 2, { 256, 576, 0, 0 } },
	{ 0x80000000u, 0, { 0x80000008u, 0, 0, 0 } },
	{ 0x80000001u, 0, { 0, 0, 1, E1D_RDTSCP | E1D_LM | (1u << 20) | (1u << 11) } },
};
static struct fake_host old = { old_leaves, ARRAY_SIZE(old_leaves), 0, 0 };

static const struct cpuid_config cfg_all = { .rdtscp = true, .invpcid = true };
static const struct cpuid_config cfg_none = { .rdtscp = false, .invpcid = false };

static struct cpuid_regs guest(struct fake_host *h, const struct cpuid_config *cfg,
			       const struct cpuid_dyn *dyn, u32 leaf, u32 sub)
{
	struct cpuid_regs r;
	cpuid_guest(fake_cpuid, h, cfg, dyn, leaf, sub, &r);
	return r;
}

static const struct cpuid_dyn dyn0 = { 0, true, 0 };

TEST(leaf0_caps_the_highest_leaf)
{
	struct cpuid_regs r = guest(&ones, &cfg_all, &dyn0, 0, 0);
	CHECK_EQ(r.eax, 0x1f);			/* host says 0x20 */
	CHECK_EQ(r.ebx, 0x756e6547);		/* vendor passes */
	CHECK_EQ(guest(&old, &cfg_all, &dyn0, 0, 0).eax, 0xd);	/* host's when lower */
	CHECK_EQ(guest(&ones, &cfg_all, &dyn0, 0x80000000u, 0).eax, 0x80000008u);
}

TEST(leaf1_hides_what_doorbell_does_not_back)
{
	struct cpuid_regs r = guest(&ones, &cfg_all, &dyn0, 1, 0);
	CHECK(!(r.ecx & L1C_PDCM));		/* kvm-unit-tests' pmu_init RDMSR 0x345 */
	CHECK(!(r.ecx & L1C_VMX));
	CHECK(!(r.ecx & L1C_SMX));
	CHECK(!(r.ecx & L1C_MONITOR));
	CHECK(!(r.ecx & L1C_EIST));
	CHECK(!(r.ecx & L1C_X2APIC));
	CHECK(!(r.ecx & L1C_DEADLINE));
	CHECK(r.ecx & L1C_HV);
	CHECK(r.ecx & L1C_SSE3);
	CHECK(r.ecx & L1C_PCID);
	CHECK(r.ecx & L1C_XSAVE);
	CHECK(r.ecx & L1C_AVX);
	CHECK(!(r.edx & L1D_MTRR));
	CHECK(!(r.edx & L1D_DS));
	CHECK(!(r.edx & L1D_HTT));
	CHECK(r.edx & L1D_MCA);
	CHECK(r.edx & L1D_APIC);
	CHECK_EQ(r.ecx, LEAF1_ECX_OFFERED | L1C_HV);
	CHECK_EQ(r.edx, LEAF1_EDX_OFFERED);
	/* One logical processor, the VM's APIC ID. */
	CHECK_EQ((r.ebx >> 16) & 0xff, 1);
	CHECK_EQ(r.ebx & 0xffff, 0xffff);
}

TEST(leaf1_follows_guest_state)
{
	struct cpuid_dyn d = { CR4_OSXSAVE_T, false, 5 };
	struct cpuid_regs r = guest(&ones, &cfg_all, &d, 1, 0);
	CHECK(r.ecx & L1C_OSXSAVE);
	CHECK(!(r.edx & L1D_APIC));		/* IA32_APIC_BASE.EN = 0 */
	CHECK_EQ(r.ebx >> 24, 5);
	d = (struct cpuid_dyn){ 0, true, 0 };
	r = guest(&ones, &cfg_all, &d, 1, 0);
	CHECK(!(r.ecx & L1C_OSXSAVE));		/* the host's OSXSAVE never leaks */
	CHECK(r.edx & L1D_APIC);
	CHECK_EQ(r.ebx >> 24, 0);
	/* OSXSAVE only with XSAVE offered. */
	static const struct fake_leaf nox[] = {
		{ 0, 0, { 1, 0, 0, 0 } }, { 1, 0, { 0, 0, 0xffffffff & ~L1C_XSAVE, 0 } } };
	struct fake_host h = { nox, ARRAY_SIZE(nox), 0, 0 };
	d.cr4 = CR4_OSXSAVE_T;
	CHECK(!(guest(&h, &cfg_all, &d, 1, 0).ecx & L1C_OSXSAVE));
}

TEST(pmu_and_unbacked_leaves_read_zero)
{
	static const u32 zero_leaves[] = { 3, 5, 6, 8, 9, 0xa, 0xc, 0xe, 0xf, 0x10, 0x11, 0x12,
					   0x13, 0x14, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c,
					   0x1d, 0x1e };
	for (size_t i = 0; i < ARRAY_SIZE(zero_leaves); i++) {
		for (u32 sub = 0; sub < 3; sub++) {
			struct cpuid_regs r = guest(&ones, &cfg_all, &dyn0, zero_leaves[i], sub);
			if (r.eax | r.ebx | r.ecx | r.edx)
				printf("  leaf 0x%x.%u not zero\n", zero_leaves[i], sub);
			CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
		}
	}
	/* What passes: caches, TSC/crystal and frequency leaves. */
	CHECK_EQ(guest(&ones, &cfg_all, &dyn0, 2, 0).eax, 0xffffffff);
	CHECK_EQ(guest(&ones, &cfg_all, &dyn0, 0x15, 0).ecx, 0xffffffff);
	CHECK_EQ(guest(&ones, &cfg_all, &dyn0, 0x16, 0).eax, 0xffffffff);
	/* Leaf 4: no other cores or threads sharing. */
	CHECK_EQ(guest(&ones, &cfg_all, &dyn0, 4, 0).eax, 0x3fff);
}

TEST(leaf7)
{
	struct cpuid_regs r = guest(&ones, &cfg_all, &dyn0, 7, 0);
	CHECK_EQ(r.eax, 1);			/* subleaf 1 is the last */
	CHECK(r.ebx & L7B_TSC_ADJ);
	CHECK(r.ebx & L7B_INVPCID);
	CHECK(!(r.ebx & L7B_SGX));
	CHECK(!(r.ebx & L7B_MPX));
	CHECK(!(r.ebx & L7B_PT));
	CHECK(r.ecx & L7C_UMIP);
	CHECK(r.ecx & L7C_PKU);
	CHECK(!(r.ecx & L7C_OSPKE));		/* CR4.PKE = 0 */
	CHECK(!(r.ecx & L7C_WAITPKG));
	CHECK(!(r.ecx & L7C_PKS));
	CHECK(r.ecx & L7C_RDPID);
	CHECK(r.edx & L7D_SPEC_CTRL);
	CHECK(!(r.edx & L7D_AMX_TILE));
	CHECK(!(r.edx & L7D_CORE_CAP));
	/* OSPKE follows CR4.PKE; without the controls INVPCID and RDPID go. */
	struct cpuid_dyn d = { CR4_PKE_T, true, 0 };
	r = guest(&ones, &cfg_none, &d, 7, 0);
	CHECK(r.ecx & L7C_OSPKE);
	CHECK(!(r.ebx & L7B_INVPCID));
	CHECK(!(r.ecx & L7C_RDPID));
	/* Subleaf 1: offered bits only; subleaf 2 and on: zeros. */
	r = guest(&ones, &cfg_all, &dyn0, 7, 1);
	CHECK_EQ(r.eax, LEAF7_1_EAX_OFFERED);
	CHECK_EQ(r.ebx | r.ecx, 0);
	r = guest(&ones, &cfg_all, &dyn0, 7, 2);
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	/* TSC_ADJUST is emulated: offered even where the host lacks it. */
	static const struct fake_leaf l7[] = { { 0, 0, { 7, 0, 0, 0 } } };
	struct fake_host h = { l7, ARRAY_SIZE(l7), 0, 0 };
	CHECK_EQ(guest(&h, &cfg_all, &dyn0, 7, 0).ebx, L7B_TSC_ADJ);
}

TEST(extended_leaves)
{
	struct cpuid_regs r = guest(&ones, &cfg_all, &dyn0, 0x80000001u, 0);
	CHECK_EQ(r.ecx, LEAF81_ECX_OFFERED);
	CHECK_EQ(r.edx, LEAF81_EDX_OFFERED | E1D_RDTSCP);
	CHECK(!(guest(&ones, &cfg_none, &dyn0, 0x80000001u, 0).edx & E1D_RDTSCP));
	r = guest(&ones, &cfg_all, &dyn0, 0x80000007u, 0);
	CHECK_EQ(r.edx, 1u << 8);		/* invariant TSC only */
	CHECK_EQ(r.eax | r.ebx | r.ecx, 0);
	r = guest(&ones, &cfg_all, &dyn0, 0x80000008u, 0);
	CHECK_EQ(r.eax, 0xffff);
	CHECK_EQ(r.ebx, 1u << 9);
	CHECK_EQ(guest(&ones, &cfg_all, &dyn0, 0x80000002u, 0).eax, 0xffffffff);
}

TEST(out_of_range_leaves_return_the_highest_basic_leaf)
{
	/* SDM: beyond the highest basic or extended leaf, the highest basic
	 * leaf's data. The old CPU's highest is 0xD subleaf 0. */
	struct cpuid_regs top = guest(&old, &cfg_all, &dyn0, 0xd, 0);
	struct cpuid_regs r = guest(&old, &cfg_all, &dyn0, 0x14, 0);
	CHECK(!memcmp(&r, &top, sizeof(r)));
	r = guest(&old, &cfg_all, &dyn0, 0x80000009u, 0);
	CHECK(!memcmp(&r, &top, sizeof(r)));
	r = guest(&old, &cfg_all, &dyn0, 0x20000000u, 0);
	CHECK(!memcmp(&r, &top, sizeof(r)));
	/* With the cap, leaf 0x20 (the host has it) is beyond the guest's
	 * highest (0x1f): topology subleaf 0. */
	r = guest(&ones, &cfg_all, &dyn0, 0x20, 0);
	CHECK_EQ(r.ebx, 1);
	CHECK_EQ(r.ecx, 1u << 8);
}

TEST(topology_is_one_vcpu)
{
	struct cpuid_dyn d = { 0, true, 3 };
	for (u32 leaf = 0xb; leaf <= 0x1f; leaf += 0x14) {
		struct cpuid_regs r = guest(&ones, &cfg_all, &d, leaf, 0);
		CHECK_EQ(r.eax, 0);
		CHECK_EQ(r.ebx, 1);
		CHECK_EQ(r.ecx, 1u << 8);	/* SMT level */
		CHECK_EQ(r.edx, 3);
		r = guest(&ones, &cfg_all, &d, leaf, 1);
		CHECK_EQ(r.ecx, (2u << 8) | 1);	/* core level */
		r = guest(&ones, &cfg_all, &d, leaf, 2);
		CHECK_EQ(r.ebx, 0);
		CHECK_EQ(r.ecx, 2);		/* invalid level: type 0 */
		CHECK_EQ(r.edx, 3);
	}
}

TEST(xsave_leaf)
{
	/* x87 SSE AVX, AVX-512 x3, PKRU; no MPX, PT, CET, AMX. */
	CHECK_EQ(cpuid_xcr0_guest_allowed(fake_cpuid, &ones), 0x2e7);
	struct cpuid_regs r = guest(&ones, &cfg_all, &dyn0, 0xd, 0);
	CHECK_EQ(r.eax, 0x2e7);
	CHECK_EQ(r.edx, 0);
	CHECK_EQ(r.ebx, 0x340);			/* the host's, for XCR0 as set */
	CHECK_EQ(r.ecx, 2688 + 8);		/* up to PKRU, not AMX's 2816 + 8192 */
	r = guest(&ones, &cfg_all, &dyn0, 0xd, 1);
	CHECK_EQ(r.eax, 0x7);			/* XSAVEOPT XSAVEC XGETBV1; no XSAVES, XFD */
	CHECK_EQ(r.ecx | r.edx, 0);
	r = guest(&ones, &cfg_all, &dyn0, 0xd, 2);
	CHECK_EQ(r.eax, 256);
	CHECK_EQ(r.ebx, 576);
	r = guest(&ones, &cfg_all, &dyn0, 0xd, 17);	/* AMX: hidden */
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	r = guest(&ones, &cfg_all, &dyn0, 0xd, 3);	/* MPX: hidden */
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	r = guest(&ones, &cfg_all, &dyn0, 0xd, 64);
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	/* AVX-512 only as a set of three. */
	static const struct fake_leaf part[] = {
		{ 0, 0, { 0xd, 0, 0, 0 } }, { 0xd, 0, { 0x67, 0, 0, 0 } } };
	struct fake_host h = { part, ARRAY_SIZE(part), 0, 0 };
	CHECK_EQ(cpuid_xcr0_guest_allowed(fake_cpuid, &h), 0x7);
	/* The old CPU: x87 SSE AVX. */
	CHECK_EQ(cpuid_xcr0_guest_allowed(fake_cpuid, &old), 0x7);
	CHECK_EQ(guest(&old, &cfg_all, &dyn0, 0xd, 0).ecx, 832);
}

/* The table holds exactly the leaves that depend on nothing dynamic, with
 * cpuid_guest's values for every guest state. */
TEST(table)
{
	struct cpuid_table t;
	cpuid_table_fill(&t, fake_cpuid, &ones, &cfg_all);
	CHECK(cpuid_table_has(&t, 0));
	CHECK(cpuid_table_has(&t, 0xa));
	CHECK(cpuid_table_has(&t, 0x1e));
	static const u32 live[] = { 1, 4, 7, 0xb, 0xd, 0x1f, 0x20, 0x21, 0x40000000u,
				    0x80000000u, 0xffffffffu };
	for (size_t i = 0; i < ARRAY_SIZE(live); i++)
		CHECK(!cpuid_table_has(&t, live[i]));
	CHECK(t.cfg.rdtscp && t.cfg.invpcid);
	const struct cpuid_dyn dyns[] = { { 0, false, 0 }, { ~0ull, true, 7 },
					  { CR4_PKE_T | CR4_OSXSAVE_T, false, 255 } };
	for (u32 leaf = 0; leaf < CPUID_TABLE_BASIC; leaf++) {
		if (!cpuid_table_has(&t, leaf))
			continue;
		for (size_t d = 0; d < ARRAY_SIZE(dyns); d++) {
			for (u32 sub = 0; sub < 3; sub++) {
				struct cpuid_regs r = guest(&ones, &cfg_all, &dyns[d], leaf, sub);
				CHECK_EQ(r.eax, t.eax[leaf]);
				CHECK_EQ(r.ebx, t.ebx[leaf]);
				CHECK_EQ(r.ecx, t.ecx[leaf]);
				CHECK_EQ(r.edx, t.edx[leaf]);
			}
		}
	}
	/* A CPU whose highest leaf is 0xD: nothing above it in the table. */
	cpuid_table_fill(&t, fake_cpuid, &old, &cfg_none);
	CHECK(cpuid_table_has(&t, 0xc));
	CHECK(!cpuid_table_has(&t, 0xe));
	CHECK(!cpuid_table_has(&t, 0x15));
}

TEST(cr4_allowed)
{
	struct cpuid_regs l1 = guest(&ones, &cfg_all, &dyn0, 1, 0);
	struct cpuid_regs l7 = guest(&ones, &cfg_all, &dyn0, 7, 0);
	u64 ok = cpuid_cr4_guest_allowed(&l1, &l7);
	/* VME..PGE, PCE, OSFXSR, OSXMMEXCPT, UMIP, LA57, FSGSBASE, PCIDE,
	 * OSXSAVE, SMEP, SMAP, PKE. Never VMXE (13) or SMXE (14, SMX hidden),
	 * KL (19), CET (23), PKS (24), or anything above. */
	CHECK_EQ(ok, 0x1fffull | (1ull << 16) | (1ull << 17) | (1ull << 18) | (1ull << 20) |
		     (1ull << 21) | (1ull << 22));
	CHECK(!(ok & ((1ull << 13) | (1ull << 14))));
	/* The old CPU: no PCID, no leaf 7. */
	l1 = guest(&old, &cfg_all, &dyn0, 1, 0);
	l7 = guest(&old, &cfg_all, &dyn0, 7, 0);
	ok = cpuid_cr4_guest_allowed(&l1, &l7);
	CHECK(!(ok & (1ull << 17)));		/* PCIDE */
	CHECK(!(ok & (1ull << 20)));		/* SMEP */
	CHECK(!(ok & (1ull << 22)));		/* PKE */
	CHECK(ok & (1ull << 18));		/* OSXSAVE: XSAVE offered */
	CHECK(ok & (1ull << 5));		/* PAE */
}

/* Random hosts: the guest never sees a feature bit the host lacks, except
 * the ones doorbell makes itself (the hypervisor bit, TSC_ADJUST, OSXSAVE
 * and OSPKE when the guest's CR4 says so), and every leaf is deterministic. */
static u32 rng_state = 12345;
static u32 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

TEST(random_hosts_offer_no_more_than_they_have)
{
	for (int iter = 0; iter < 2000; iter++) {
		struct fake_leaf l[4] = {
			{ 0, 0, { rnd() % 0x24, 0, 0, 0 } },
			{ 1, 0, { rnd(), rnd(), rnd(), rnd() } },
			{ 7, 0, { rnd() % 3, rnd(), rnd(), rnd() } },
			{ 0x80000001u, 0, { 0, 0, rnd(), rnd() } },
		};
		struct fake_host h = { l, ARRAY_SIZE(l), 0, 0 };
		struct cpuid_dyn d = { ((u64)rnd() << 32) | rnd(), (rnd() & 1) != 0, rnd() & 0xff };
		struct cpuid_config c = { (rnd() & 1) != 0, (rnd() & 1) != 0 };
		if (l[0].r.eax >= 1) {
			struct cpuid_regs r = guest(&h, &c, &d, 1, 0);
			CHECK_EQ(r.ecx & ~l[1].r.ecx & ~(L1C_HV | L1C_OSXSAVE), 0);
			CHECK_EQ(r.edx & ~l[1].r.edx, 0);
			CHECK_EQ(!!(r.ecx & L1C_OSXSAVE),
				 (l[1].r.ecx & L1C_XSAVE) && (d.cr4 & CR4_OSXSAVE_T));
			CHECK_EQ(r.ebx >> 24, d.apic_id);
		}
		if (l[0].r.eax >= 7) {
			struct cpuid_regs r = guest(&h, &c, &d, 7, 0);
			CHECK_EQ(r.ebx & ~l[2].r.ebx & ~L7B_TSC_ADJ, 0);
			CHECK_EQ(r.ecx & ~l[2].r.ecx & ~L7C_OSPKE, 0);
			CHECK_EQ(r.edx & ~l[2].r.edx, 0);
			CHECK_EQ(!!(r.ecx & L7C_OSPKE), (l[2].r.ecx & L7C_PKU) && (d.cr4 & CR4_PKE_T));
			if (!c.invpcid)
				CHECK(!(r.ebx & L7B_INVPCID));
		}
		/* No extended leaves on this host (0x80000000 reads 0): the
		 * highest basic leaf's data comes back instead. */
		struct cpuid_regs e = guest(&h, &c, &d, 0x80000001u, 0);
		struct cpuid_regs top = guest(&h, &c, &d, l[0].r.eax > CPUID_GUEST_MAX_BASIC ?
					      CPUID_GUEST_MAX_BASIC : l[0].r.eax, 0);
		CHECK(!memcmp(&e, &top, sizeof(e)));
	}
}

int main(void)
{
	RUN(leaf0_caps_the_highest_leaf);
	RUN(leaf1_hides_what_doorbell_does_not_back);
	RUN(leaf1_follows_guest_state);
	RUN(pmu_and_unbacked_leaves_read_zero);
	RUN(leaf7);
	RUN(extended_leaves);
	RUN(out_of_range_leaves_return_the_highest_basic_leaf);
	RUN(topology_is_one_vcpu);
	RUN(xsave_leaf);
	RUN(table);
	RUN(cr4_allowed);
	RUN(random_hosts_offer_no_more_than_they_have);
	return TEST_SUMMARY();
}
