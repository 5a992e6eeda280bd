/*
 * vmx/pollpage.c - the poll page from the VM's side (service/service.h "the
 * poll page"; the service core's half is service/poll.c). A zeroed page of
 * the hypervisor's, mapped by EPT at guest-physical POLL_GPA, read and
 * write, no execute, write-back with the guest's PAT ignored (EPT_IGNORE_PAT:
 * the 64-bit guests map their top GiB uncached, and the page must be the
 * same ordinary write-back memory for the guest and for the service core:
 * SDM Vol. 3C, "Memory Type Used for Translated Guest-Physical Addresses").
 * Read, write and execute, like RAM: the guest's own accesses never exit.
 * The one thing the page is not is RAM to the hypervisor's emulator: an
 * access it emulates because the instruction also touches MMIO (a string
 * move between the page and IORAM), a page table or an IOEVENTFD argument
 * there, sees no memory (unassigned: reads all ones, writes dropped, logged;
 * -EFAULT). Reaching the page from the emulator would need a device on the
 * MMIO bus, or a test where the bus finds none, and either lengthens every
 * emulated access (sync-mmio's path by 10 instructions, the mmio doorbell's
 * by 6, measured): not worth it for data no guest moves that way.
 *
 * The watch is the paravirtual MSR POLL_WATCH_MSR (as KVM's guests turn on
 * kvmclock or steal time with a WRMSR): every access exits (the MSR bitmap
 * lets no unknown MSR through), RDMSR reads the slots watched, WRMSR sets
 * them, run on the VM's service core with a synchronous call (the watch is
 * that core's: service/poll.c), so that when the WRMSR completes the core
 * has taken its last look or its first. Nothing of it lies on another
 * path: the synchronous device and the MMIO bus are as they were.
 */
#include "vmx/vmx_priv.h"

/* A WRMSR of the watch, on the VM's service core (or in place, one CPU). */
struct poll_watch_call {
	struct poll_watch *w;
	u64 mask;
	int result;
};

static void poll_watch_call(void *arg)
{
	struct poll_watch_call *c = arg;

	c->result = poll_watch_set(c->w, c->mask);
}

u64 vm_poll_msr_read(struct vm *vm)
{
	/* The core writes mask only in a call this vCPU made and waited for
	 * (done, acquire): the latest value is visible here. */
	return __atomic_load_n(&vm->poll.mask, __ATOMIC_RELAXED);
}

bool vm_poll_msr_write(struct vm *vm, u64 mask)
{
	struct poll_watch_call c = { .w = &vm->poll, .mask = mask };

	if (!vm->poll.list)
		return mask == 0;	/* nothing can be watched: only 0 is a value */
	service_call(vm->events, poll_watch_call, &c);
	return c.result == 0;
}

int vm_poll_init(struct vm *vm)
{
	int r;

	vm->poll_page = page_alloc(POLL_SIZE / PAGE_SIZE);
	if (!vm->poll_page)
		return -ENOMEM;
	service_poll_init(&vm->poll, vm->poll_page, vm->events);
	r = ept_map_range(&vm->ept, POLL_GPA, (u64)(uintptr_t)vm->poll_page, POLL_SIZE,
			  EPT_READ | EPT_WRITE | EPT_EXEC | EPT_IGNORE_PAT);
	if (r)
		printk("vm %u: making the poll page at 0x%llx failed (%d)\n", vm->index,
		       POLL_GPA, r);
	return r;
}
