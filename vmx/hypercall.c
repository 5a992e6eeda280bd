/*
 * vmx/hypercall.c - VMCALL: RAX = number, arguments in RBX, RCX, RDX, RSI,
 * result in RAX (CONTRACTS.md 3, KVM's convention). No other register
 * changes. Numbers without an implementation yet return -ENOSYS.
 */
#include "vmx/vmx_priv.h"

s64 hypercall_dispatch(struct vcpu *v)
{
	u64 nr = v->regs.gpr[GUEST_RAX];

	switch (nr) {
	default:
		if (boot_cfg.trace)
			printk("vm %u: hypercall %llu: no such hypercall (-ENOSYS)\n",
			       v->vm->index, nr);
		return -ENOSYS;
	}
}
