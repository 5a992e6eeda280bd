/*
 * vmx/cpuid.h - the guest's CPUID: which of the host's features doorbell
 * offers, as a pure function of the host's raw leaves, the VMX controls the
 * VMCS enables and the guest state some bits follow (CR4, IA32_APIC_BASE).
 *
 * The rule is KVM's: CPUID advertises only what works in the guest. A feature
 * is offered when its instructions run natively in VMX non-root operation
 * (SSE..AVX-512, BMI, SHA, ...), or when doorbell backs what it enumerates
 * (the MSRs of vmx/msr.c, the VMX controls of vmx/vmcs.c); every other bit is
 * cleared, and every leaf doorbell knows nothing about reads as zeros. The
 * list, and why each hidden feature is hidden, is in docs/vmx.md ("CPUID").
 *
 * SDM Vol. 2A, "CPUID - CPU Identification"; Vol. 1, "Managing State Using
 * the XSAVE Feature Set"; Vol. 3A, "Control Registers".
 *
 * Pure: the host is reached only through a callback, so the module compiles
 * and is tested on the host (tests/host/test_cpuid.c) against recorded CPUs.
 */
#ifndef VMX_CPUID_H
#define VMX_CPUID_H

#include "lib/lib.h"

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

/* The host's raw CPUID(leaf, sub) (the CPUID instruction, or a recorded CPU
 * in the host tests). */
typedef void cpuid_host_fn(void *ctx, u32 leaf, u32 sub, struct cpuid_regs *r);

/* What the VMCS enables (vmx/vmcs.c), for the features that need a VMX
 * control to run in the guest: without it the instruction is #UD there. */
struct cpuid_config {
	bool rdtscp;		/* "enable RDTSCP": RDTSCP and RDPID */
	bool invpcid;		/* "enable INVPCID" */
};

/* The guest state that bits follow (SDM Vol. 2A, CPUID: OSXSAVE and OSPKE
 * mirror CR4; the APIC bit is clear while IA32_APIC_BASE.EN is 0). */
struct cpuid_dyn {
	u64 cr4;		/* the guest's CR4 as it reads it */
	bool apic_enabled;	/* IA32_APIC_BASE[11] */
	u32 apic_id;		/* the emulated local APIC's ID */
};

/* The highest leaves offered (leaf 0 EAX and 0x80000000 EAX are the host's
 * when lower). */
#define CPUID_GUEST_MAX_BASIC  0x1fu
#define CPUID_GUEST_MAX_EXT    0x80000008u

/* Leaves 0x40000000-0x400000ff are the hypervisor's (vmx/cpuid_vm.c). */
#define CPUID_HV_LEAF          0x40000000u
#define CPUID_HV_LEAF_END      0x40000100u

/*
 * The guest's CPUID(leaf, sub) into *out. leaf must not be one of the
 * hypervisor's (CPUID_HV_LEAF..CPUID_HV_LEAF_END - 1). As an Intel CPU does,
 * a leaf above the highest basic or extended leaf offered returns the
 * highest basic leaf's data.
 */
void cpuid_guest(cpuid_host_fn *host, void *ctx, const struct cpuid_config *cfg,
		 const struct cpuid_dyn *dyn, u32 leaf, u32 sub, struct cpuid_regs *out);

/*
 * A VM's leaves that need no live CPUID (KVM keeps a per-VM table too): the
 * basic leaves below CPUID_TABLE_BASIC whose values depend on neither the
 * subleaf nor the guest's state nor the CPU they run on. The CPUID exit
 * answers those from the table with a few loads (their bit set in have);
 * every other leaf goes to cpuid_guest. One array per register, so that the
 * leaf indexes each with a scaled address and no multiplication.
 */
#define CPUID_TABLE_BASIC 32u
struct cpuid_table {
	u32 have;		/* bit n: leaf n is in the table */
	u32 eax[CPUID_TABLE_BASIC], ebx[CPUID_TABLE_BASIC];
	u32 ecx[CPUID_TABLE_BASIC], edx[CPUID_TABLE_BASIC];
	struct cpuid_config cfg;
};
_Static_assert(CPUID_GUEST_MAX_BASIC < CPUID_TABLE_BASIC, "have is a u32 bit mask");

/* Fills t for a VM: cfg, and the fixed leaves computed once by cpuid_guest. */
void cpuid_table_fill(struct cpuid_table *t, cpuid_host_fn *host, void *ctx,
		      const struct cpuid_config *cfg);

/* True when the table answers leaf (any subleaf, any guest state). */
static inline bool cpuid_table_has(const struct cpuid_table *t, u32 leaf)
{
	return leaf < CPUID_TABLE_BASIC && ((t->have >> leaf) & 1);
}

/*
 * The CR4 bits the guest may set, from its CPUID (SDM Vol. 3A, "Control
 * Registers": each CR4 feature bit is reserved when its CPUID feature is
 * absent, and MOV to CR4 setting a reserved bit is #GP). VMXE is never
 * allowed: VMX is not offered. l1 = leaf 1, l7 = leaf 7 subleaf 0, both as
 * the guest sees them.
 */
u64 cpuid_cr4_guest_allowed(const struct cpuid_regs *l1, const struct cpuid_regs *l7);

/* The XCR0 bits the guest may set: leaf 0xD subleaf 0 EDX:EAX as offered. */
u64 cpuid_xcr0_guest_allowed(cpuid_host_fn *host, void *ctx);

/* Feature bits the rest of vmx/ tests (SDM Vol. 2A, CPUID). */
#define CPUID_1_ECX_PCID         (1u << 17)
#define CPUID_1_ECX_X2APIC       (1u << 21)
#define CPUID_1_ECX_XSAVE        (1u << 26)
#define CPUID_1_ECX_OSXSAVE      (1u << 27)
#define CPUID_1_ECX_HYPERVISOR   (1u << 31)
#define CPUID_1_EDX_APIC         (1u << 9)
#define CPUID_7_EBX_TSC_ADJUST   (1u << 1)
#define CPUID_7_ECX_PKU          (1u << 3)
#define CPUID_7_ECX_OSPKE        (1u << 4)
#define CPUID_7_EDX_IBRS_IBPB    (1u << 26)	/* IA32_SPEC_CTRL.IBRS, IA32_PRED_CMD */
#define CPUID_7_EDX_STIBP        (1u << 27)	/* IA32_SPEC_CTRL.STIBP */
#define CPUID_7_EDX_L1D_FLUSH    (1u << 28)	/* IA32_FLUSH_CMD */
#define CPUID_7_EDX_ARCH_CAP     (1u << 29)	/* IA32_ARCH_CAPABILITIES */
#define CPUID_7_EDX_SSBD         (1u << 31)	/* IA32_SPEC_CTRL.SSBD */
#define CPUID_80000001_EDX_NX    (1u << 20)
#define CPUID_80000001_EDX_RDTSCP (1u << 27)
#define CPUID_80000001_EDX_LM    (1u << 29)

#endif /* VMX_CPUID_H */
