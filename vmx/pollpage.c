/*
 * vmx/pollpage.c - the poll page from the VM's side (service/service.h "the
 * poll page"; the service core's half is service/poll.c). A zeroed page of
 * the hypervisor's, mapped by EPT at guest-physical POLL_GPA, read and
 * write, no execute, write-back with the guest's PAT ignored (EPT_IGNORE_PAT:
 * the 64-bit guests map their top GiB uncached, and the page must be the
 * same ordinary write-back memory for the guest and for the service core:
 * SDM Vol. 3C, "Memory Type Used for Translated Guest-Physical Addresses").
 * Guest loads and stores never exit. The same bytes are on the MMIO bus for
 * the accesses that exit anyway and are emulated (an instruction fetched
 * from the page, a string move between it and IORAM), so that an emulated
 * access sees what a real CPU would.
 */
#include "vmx/vmx_priv.h"

static struct vm *poll_dev_vm(struct iobus_device *d)
{
	return ((struct vm_device *)d)->vm;
}

static int poll_dev_read(struct iobus_device *d, u64 addr, u32 len, void *val)
{
	memcpy(val, (u8 *)poll_dev_vm(d)->poll_page + (addr - POLL_GPA), len);
	return 0;
}

static int poll_dev_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	memcpy((u8 *)poll_dev_vm(d)->poll_page + (addr - POLL_GPA), val, len);
	return 0;
}

static const struct iobus_device_ops poll_dev_ops = {
	.read = poll_dev_read, .write = poll_dev_write,
};

int vm_poll_init(struct vm *vm)
{
	int r;

	vm->poll_page = page_alloc(POLL_SIZE / PAGE_SIZE);
	if (!vm->poll_page)
		return -ENOMEM;
	service_poll_init(&vm->poll, vm->poll_page, vm->events);
	r = ept_map_range(&vm->ept, POLL_GPA, (u64)(uintptr_t)vm->poll_page, POLL_SIZE,
			  EPT_READ | EPT_WRITE | EPT_IGNORE_PAT);
	if (!r) {
		vm->dev_poll = (struct vm_device){ { &poll_dev_ops }, vm };
		r = iobus_register(&vm->io.buses[IOBUS_MMIO], POLL_GPA, POLL_SIZE,
				   &vm->dev_poll.base);
	}
	if (r)
		printk("vm %u: making the poll page at 0x%llx failed (%d)\n", vm->index,
		       POLL_GPA, r);
	return r;
}
