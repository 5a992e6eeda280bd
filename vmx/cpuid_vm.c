/*
 * vmx/cpuid_vm.c - the CPUID exit's slow half and the VM's CPUID table: the
 * host's leaves through vmx/cpuid.c's filter with the guest state the bits
 * follow (CR4, IA32_APIC_BASE, the APIC ID), and doorbell's own leaves
 * 0x40000000-0x400000ff. The fast half, cpuid_exit in vmx/hotpath.h,
 * answers the fixed basic leaves from the table. SDM Vol. 2A, "CPUID - CPU
 * Identification".
 */
#include "vmx/vmx_priv.h"

#define EFER_SCE   BIT(0)
#define EFER_LME   BIT(8)
#define EFER_LMA   BIT(10)
#define EFER_NXE   BIT(11)

static void host_cpuid(void *ctx, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	(void)ctx;
	cpuid_count(leaf, sub, &r->eax, &r->ebx, &r->ecx, &r->edx);
}

void cpuid_vm_init(struct vm *vm, u32 proc2)
{
	struct cpuid_config cfg = {
		.rdtscp = (proc2 & PROC_BASED2_ENABLE_RDTSCP) != 0,
		.invpcid = (proc2 & PROC_BASED2_ENABLE_INVPCID) != 0,
	};
	static const struct cpuid_dyn none = { 0, false, 0 };
	struct cpuid_regs l1, l7, e1;

	cpuid_table_fill(&vm->cpuid, host_cpuid, NULL, &cfg);
	cpuid_guest(host_cpuid, NULL, &cfg, &none, 1, 0, &l1);
	cpuid_guest(host_cpuid, NULL, &cfg, &none, 7, 0, &l7);
	cpuid_guest(host_cpuid, NULL, &cfg, &none, 0x80000001u, 0, &e1);
	/* A bit VMX operation does not allow set (IA32_VMX_CR4_FIXED1) is
	 * refused too, whatever CPUID says. */
	vm->cr4_allowed = cpuid_cr4_guest_allowed(&l1, &l7) & rdmsr(IA32_VMX_CR4_FIXED1);
	vm->xcr0_allowed = cpuid_xcr0_guest_allowed(host_cpuid, NULL);
	/* SDM Vol. 4, IA32_EFER: LME/LMA need Intel 64, NXE needs NX. SCE is
	 * allowed as KVM does (Intel reports SYSCALL only in 64-bit mode). */
	vm->efer_allowed = EFER_SCE |
			   ((e1.edx & CPUID_80000001_EDX_LM) ? EFER_LME | EFER_LMA : 0) |
			   ((e1.edx & CPUID_80000001_EDX_NX) ? EFER_NXE : 0);
}

void cpuid_vcpu_leaf(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	struct cpuid_dyn dyn = {
		.cr4 = guest_cr4(),
		.apic_enabled = (v->vm->apic.base_msr & APIC_BASE_ENABLE) != 0,
		.apic_id = v->vm->apic.id,
	};
	cpuid_guest(host_cpuid, NULL, &v->vm->cpuid.cfg, &dyn, leaf, sub, r);
}

/*
 * Leaves 0x40000000-0x400000ff are doorbell's own:
 *   0x40000000: EAX = the highest such leaf (0x40000002), EBX ECX EDX =
 *               "DoorbellHV\0\0" (CONTRACTS.md 2);
 *   0x40000001: how this run is configured, so a guest can label its
 *               measurements: EAX bit 0 notify=poll, bit 1 lookup=linear,
 *               bits 3:2 fastmmio_len (0 decode, 1 vmcs, 2 check), bit 4
 *               latency=1, bit 5 trace=1; EBX = the number of VMs (vcpus=);
 *               ECX = the TSC frequency in kHz (0 if unknown); EDX = this
 *               VM's index.
 *   0x40000002: the poll page (service/service.h): EAX, EBX = its
 *               guest-physical address, low and high 32 bits; ECX = its
 *               slots (0: no service core to watch it, a single CPU);
 *               EDX = the MSR that watches them (POLL_WATCH_MSR).
 * Every other leaf of the range reads as zeros.
 */
#define CPUID_HV_LEAF_MAX       CPUID_HV_POLL_LEAF
#define CPUID_HV_CFG_POLL       BIT(0)
#define CPUID_HV_CFG_LINEAR     BIT(1)
#define CPUID_HV_CFG_LEN_SHIFT  2
#define CPUID_HV_CFG_LATENCY    BIT(4)
#define CPUID_HV_CFG_TRACE      BIT(5)

static void cpuid_hypervisor_leaf(struct vcpu *v, u32 leaf, struct cpuid_regs *r)
{
	*r = (struct cpuid_regs){ 0, 0, 0, 0 };
	if (leaf == CPUID_HV_LEAF) {
		memcpy(&r->ebx, "Door", 4);
		memcpy(&r->ecx, "bell", 4);
		memcpy(&r->edx, "HV\0\0", 4);
		r->eax = CPUID_HV_LEAF_MAX;
	} else if (leaf == CPUID_HV_LEAF + 1) {
		r->eax = (u32)((boot_cfg.notify == NOTIFY_POLL ? CPUID_HV_CFG_POLL : 0) |
			       (boot_cfg.lookup == LOOKUP_LINEAR ? CPUID_HV_CFG_LINEAR : 0) |
			       (u64)boot_cfg.fastmmio_len << CPUID_HV_CFG_LEN_SHIFT |
			       (boot_cfg.latency ? CPUID_HV_CFG_LATENCY : 0) |
			       (boot_cfg.trace ? CPUID_HV_CFG_TRACE : 0));
		r->ebx = boot_cfg.vcpus;
		r->ecx = (u32)(tsc_hz() / 1000);
		r->edx = v->vm->index;
	} else if (leaf == CPUID_HV_POLL_LEAF) {
		r->eax = (u32)POLL_GPA;
		r->ebx = (u32)(POLL_GPA >> 32);
		r->ecx = v->vm->poll.list ? POLL_SLOTS : 0;
		r->edx = POLL_WATCH_MSR;
	}
}

void cpuid_exit_full(struct vcpu *v)
{
	u64 *g = v->regs.gpr;
	u32 leaf = (u32)g[GUEST_RAX], sub = (u32)g[GUEST_RCX];
	struct cpuid_regs r;

	if (leaf >= CPUID_HV_LEAF && leaf < CPUID_HV_LEAF_END)
		cpuid_hypervisor_leaf(v, leaf, &r);
	else
		cpuid_vcpu_leaf(v, leaf, sub, &r);
	/* CPUID writes all four registers, zeroing bits 63:32 in 64-bit mode. */
	g[GUEST_RAX] = r.eax;
	g[GUEST_RBX] = r.ebx;
	g[GUEST_RCX] = r.ecx;
	g[GUEST_RDX] = r.edx;
}
