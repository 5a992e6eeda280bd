/*
 * vmx/platform.c - the firmware side of the guest's PC (platform/) wired to
 * a VM: the ACPI tables written into its RAM at creation, fw_cfg on ports
 * 0x510-0x511 and the ACPI PM block on 0x600-0x63f, both on the VM's PIO
 * bus like every other emulated device (vmx/devices.c). With these,
 * kvm-unit-tests finds its CPU count, RAM size and PM timer as under QEMU,
 * without an environ module.
 */
#include "vmx/vmx_priv.h"

#define SLEEP_REPORTS 4		/* then silence: a guest may loop on it */

static struct vm *platform_vm(struct iobus_device *d)
{
	return ((struct vm_device *)d)->vm;
}

/* QEMU docs/specs/fw_cfg.rst, x86: the selector takes 16-bit writes at
 * 0x510, the data register byte reads (and byte writes, which QEMU ignores)
 * at 0x511; QEMU's combined port also takes byte accesses at 0x510 as data.
 * Any other width is refused as QEMU refuses it: unassigned, logged. */
static int fwcfg_port_read(struct iobus_device *d, u64 addr, u32 len, void *val)
{
	(void)addr;
	if (len != 1)
		return -EOPNOTSUPP;
	*(u8 *)val = fwcfg_read(&platform_vm(d)->fwcfg);
	return 0;
}

static int fwcfg_port_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	u16 key;

	if (len == 1)
		return 0;	/* a data write: no item is writable */
	if (len != 2 || addr != FWCFG_PORT_SELECTOR)
		return -EOPNOTSUPP;
	memcpy(&key, val, sizeof(key));
	fwcfg_select(&platform_vm(d)->fwcfg, key);
	return 0;
}

static int acpi_pm_port_read(struct iobus_device *d, u64 addr, u32 len, void *val)
{
	u32 v;

	if (len > 4)
		return -EOPNOTSUPP;
	acpi_pm_read(&platform_vm(d)->acpi_pm, (u16)addr, len, rdtsc(), &v);
	memcpy(val, &v, len);
	return 0;
}

static int acpi_pm_port_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	struct vm *vm = platform_vm(d);
	u32 v = 0;

	if (len > 4)
		return -EOPNOTSUPP;
	memcpy(&v, val, len);
	if (acpi_pm_write(&vm->acpi_pm, (u16)addr, len, v) &&
	    vm->acpi_pm.sleep_requests <= SLEEP_REPORTS)
		printk("vm %u: the guest wrote SLP_EN to PM1a_CNT (0x%x to port 0x%llx): "
		       "sleep states are not modelled; ignored\n", vm->index, v, addr);
	return 0;
}

static const struct iobus_device_ops fwcfg_ops = {
	.read = fwcfg_port_read, .write = fwcfg_port_write,
};
static const struct iobus_device_ops acpi_pm_ops = {
	.read = acpi_pm_port_read, .write = acpi_pm_port_write,
};

int vm_platform_register(struct vm *vm)
{
	struct iobus *pio = &vm->io.buses[IOBUS_PIO];
	struct platform_acpi_layout acpi;

	int r = platform_acpi_build(vm->ram, vm->ram_size, vm->apic.id, &acpi);
	if (r) {
		printk("vm %u: no room for the ACPI tables at 0x%llx (%d)\n", vm->index,
		       PLATFORM_ACPI_BASE, r);
		return r;
	}
	/* Each VM has one vCPU (vcpus=N makes N VMs). */
	fwcfg_init(&vm->fwcfg, vm->ram_size, 1);
	acpi_pm_init(&vm->acpi_pm, rdtsc(), tsc_hz());
	vm->dev_fwcfg = (struct vm_device){ { &fwcfg_ops }, vm };
	vm->dev_acpi_pm = (struct vm_device){ { &acpi_pm_ops }, vm };
	r = iobus_register(pio, FWCFG_PORT_SELECTOR, FWCFG_PORTS, &vm->dev_fwcfg.base);
	if (!r)
		r = iobus_register(pio, ACPI_PM_BASE, ACPI_PM_SIZE, &vm->dev_acpi_pm.base);
	/* Doorbells may not sit on these ports (CONTRACTS.md 3: -EPERM). */
	if (!r)
		r = ioeventfd_reserve_ports(&vm->io, FWCFG_PORT_SELECTOR, FWCFG_PORTS);
	if (!r)
		r = ioeventfd_reserve_ports(&vm->io, ACPI_PM_BASE, ACPI_PM_SIZE);
	if (!r && vm->index == 0)
		printk("platform: ACPI tables at 0x%llx-0x%llx (RSDP 0x%llx, FADT 0x%llx, "
		       "MADT 0x%llx), fw_cfg at 0x%x, PM timer at 0x%x (32-bit, 3579545 Hz "
		       "from the TSC)\n", PLATFORM_ACPI_BASE, acpi.end, acpi.rsdp, acpi.fadt,
		       acpi.madt, FWCFG_PORT_SELECTOR, ACPI_PM_TMR_BLK);
	return r;
}
