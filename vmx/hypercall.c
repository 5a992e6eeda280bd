/*
 * vmx/hypercall.c - VMCALL: RAX = number, arguments in RBX, RCX, RDX, RSI,
 * result in RAX: 0 or a count, or a negative Linux errno (CONTRACTS.md 3,
 * KVM's convention). No other register changes. A guest outside 64-bit mode
 * passes 32-bit arguments: the upper halves are ignored.
 */
#include "vmx/hotpath.h"


/* EVENT_READ waits at most this long for the service core to catch up with
 * every signal raised so far. Generous: the service core normally needs
 * microseconds. In Bochs the TSC counts instructions, so the bound there is a
 * count of instructions, not wall-clock time. */
#define EVENT_READ_TIMEOUT_US  100000

/* Argument width: 64 bits only in 64-bit mode (IA-32e mode and CS.L). */
static u64 hc_arg_mask(struct vcpu *v)
{
	bool long64 = v->lma && (vmcs_read32(VMCS_GUEST_CS_AR_BYTES) & VMX_AR_L);
	return long64 ? ~0ull : 0xffffffffull;
}

/* IOEVENTFD: the 64-byte struct doorbell_ioeventfd at guest-physical RBX. */
static s64 hc_ioeventfd(struct vcpu *v, u64 gpa)
{
	const void *p = vm_gpa_to_hva(v->vm, gpa, sizeof(struct doorbell_ioeventfd));
	struct doorbell_ioeventfd args;

	if (!p)
		return -EFAULT;
	memcpy(&args, p, sizeof(args));	/* one snapshot: the guest can't race us */
	return ioeventfd_ioctl(&v->vm->io, &args);
}

static s64 hc_event_read(struct vcpu *v, u64 id)
{
	u64 count;

	if (id >= EVENTS_PER_VM)
		return -EBADF;
	int r = event_read(v->vm->events, (u32)id, EVENT_READ_TIMEOUT_US, &count);
	return r ? r : (s64)count;
}

static s64 hc_notify(struct vcpu *v, u64 id)
{
	if (id >= EVENTS_PER_VM)
		return -EBADF;
	event_signal(v->vm->events, (u32)id);
	return 0;
}

s64 hypercall_dispatch(struct vcpu *v)
{
	u64 mask = hc_arg_mask(v);
	u64 nr = v->regs.gpr[GUEST_RAX] & mask;
	u64 arg = v->regs.gpr[GUEST_RBX] & mask;

	switch (nr) {
	case HC_IOEVENTFD:  return hc_ioeventfd(v, arg);
	case HC_EVENT_READ: return hc_event_read(v, arg);
	case HC_NOTIFY:     return hc_notify(v, arg);
	default:
		if (boot_cfg.trace)
			printk("vm %u: hypercall %llu: no such hypercall (-ENOSYS)\n",
			       v->vm->index, nr);
		return -ENOSYS;
	}
}

int vmcall_dispatch(struct vcpu *v)
{
	v->regs.gpr[GUEST_RAX] = (u64)hypercall_dispatch(v);
	vcpu_skip_instruction(v);
	return v->vm->end == VM_END_NONE ? EXIT_RESUME : EXIT_STOP;
}
