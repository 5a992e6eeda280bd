/*
 * vmx/devices.c - the guest platform's devices (CONTRACTS.md 2) and the bus
 * they live on. Like KVM's, every device is a range on one of the VM's I/O
 * buses (iobus/), next to the guest's doorbells: a port or MMIO access is one
 * binary-search lookup, and an address nobody answers is "unassigned" (reads
 * all ones, writes dropped, logged at a limited rate).
 * Ports: COM1 (enough of a 16550 for polled output), the exit port 0xf4, the
 * pc-testdev latch 0xe0-0xe3, the two 8259 PICs (masks only: no interrupt is
 * ever delivered). MMIO: the xAPIC page (vmx/apic.c) and pc-testdev IORAM.
 * PCI (configuration ports, pci-testdev's BARs): vmx/pci.c.
 */
#include "vmx/vmx_priv.h"

#define PORT_PIC1        0x20
#define PORT_PIC2        0xa0
#define PORT_LATCH       0xe0
#define PORT_LATCH_END   0xe3
#define PORT_EXIT        0xf4
#define PORT_EXIT_END    0xf7
#define PORT_COM1        0x3f8
#define PORT_COM1_END    0x3ff

#define UART_THR 0
#define UART_IER 1
#define UART_IIR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_LSR_THRE_TEMT 0x60	/* transmitter always empty */
#define UART_IIR_NO_INT    0x01
#define UART_LCR_DLAB      0x80
#define UNASSIGNED_REPORTS 16	/* then one line per 65536 */

/* One guest line. With more than one VM every line carries its VM's prefix,
 * so that the guests' outputs can be told apart (and grepped). */
static void com1_flush(struct vm *vm)
{
	vm->com1_line[vm->com1_len] = '\0';
	if (boot_cfg.vcpus > 1)
		printk("vm %u: %s\n", vm->index, vm->com1_line);
	else
		printk("%s\n", vm->com1_line);
	vm->com1_len = 0;
}

/* Guest output goes to the machine's serial line a whole line at a time, so
 * lines from several guests and the hypervisor never interleave. */
static void com1_putc(struct vm *vm, char c)
{
	if (c == '\r')
		return;
	if (c == '\n') {
		com1_flush(vm);		/* an empty line too */
		return;
	}
	vm->com1_line[vm->com1_len++] = c;
	if (vm->com1_len == COM1_LINE_MAX - 1)
		com1_flush(vm);
}

static void report_unassigned(struct vm *vm, const char *what, u64 addr, bool write)
{
	u64 n = vm->unassigned_reported++;
	if (n < UNASSIGNED_REPORTS || (n & 0xffff) == 0)
		printk("vm %u: %s %s unassigned %s 0x%llx (%s)\n", vm->index,
		       write ? "write to" : "read from",
		       n < UNASSIGNED_REPORTS ? "an" : "another", what, addr,
		       write ? "dropped" : "all ones");
}

void vm_report_unassigned(struct vm *vm, const char *what, u64 addr, bool write)
{
	report_unassigned(vm, what, addr, write);
}

static u32 dev_pio_read(struct vm *vm, u16 port, u32 size)
{
	u32 ones = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;

	if (port >= PORT_LATCH && port <= PORT_LATCH_END) {
		u32 shift = (port - PORT_LATCH) * 8u;
		return (u32)((vm->latch >> shift) & ones);
	}
	if (port >= PORT_COM1 && port <= PORT_COM1_END) {
		switch (port - PORT_COM1) {
		case UART_LSR: return UART_LSR_THRE_TEMT;
		case UART_IIR: return UART_IIR_NO_INT;
		case UART_IER: return vm->com1_ier;
		case UART_LCR: return vm->com1_lcr;
		case UART_MCR: return vm->com1_mcr;
		case UART_SCR: return vm->com1_scratch;
		default:       return 0;	/* no received data, modem lines idle */
		}
	}
	if (port == PORT_PIC1 + 1 || port == PORT_PIC2 + 1)
		return vm->pic_imr[port == PORT_PIC2 + 1];
	if (port == PORT_PIC1 || port == PORT_PIC2)
		return 0;		/* IRR/ISR: nothing is ever pending */
	return ones;	/* the exit port reads as nothing */
}

static void dev_pio_write(struct vm *vm, u16 port, u32 size, u32 val)
{
	if (port >= PORT_LATCH && port <= PORT_LATCH_END) {
		u32 shift = (port - PORT_LATCH) * 8u;
		u64 mask = (size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1) << shift;
		vm->latch = (u32)((vm->latch & ~mask) | (((u64)val << shift) & mask));
		return;
	}
	if (port >= PORT_COM1 && port <= PORT_COM1_END) {
		switch (port - PORT_COM1) {
		case UART_THR:
			if (!(vm->com1_lcr & UART_LCR_DLAB))
				com1_putc(vm, (char)val);
			break;
		case UART_IER: if (!(vm->com1_lcr & UART_LCR_DLAB)) vm->com1_ier = (u8)val; break;
		case UART_LCR: vm->com1_lcr = (u8)val; break;
		case UART_MCR: vm->com1_mcr = (u8)val; break;
		case UART_SCR: vm->com1_scratch = (u8)val; break;
		default: break;	/* FCR, divisor latch: accepted, no effect */
		}
		return;
	}
	if (port == PORT_PIC1 + 1 || port == PORT_PIC2 + 1) {
		vm->pic_imr[port == PORT_PIC2 + 1] = (u8)val;
		return;
	}
	if (port == PORT_PIC1 || port == PORT_PIC2)
		return;			/* ICW1/OCW2/OCW3: accepted */
	if (port == PORT_EXIT) {
		if (vm->com1_len)
			com1_flush(vm);
		/* A process exit status holds 8 bits; a larger code must not
		 * wrap to 0 (success), so it is reported as 255. */
		if (val > 255)
			printk("vm %u: exit code 0x%x does not fit an exit status; reporting 255\n",
			       vm->index, val);
		vm_end(vm, VM_END_EXIT, val > 255 ? 255 : (int)val);
		return;
	}
	/* 0xf5-0xf7: the rest of the exit device, ignored */
}

/* ---- bus glue -------------------------------------------------------------- */

static struct vm *dev_vm(struct iobus_device *d)
{
	return ((struct vm_device *)d)->vm;
}

static int ports_read(struct iobus_device *d, u64 addr, u32 len, void *val)
{
	if (len > 4)
		return -EOPNOTSUPP;
	u32 v = dev_pio_read(dev_vm(d), (u16)addr, len);
	memcpy(val, &v, len);
	return 0;
}

static int ports_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	u32 v = 0;
	if (len > 4)
		return -EOPNOTSUPP;
	memcpy(&v, val, len);
	dev_pio_write(dev_vm(d), (u16)addr, len, v);
	return 0;
}

/* xAPIC registers are 32 bits wide at 16-byte steps; a narrower read takes
 * the bytes it covers, a write must be an aligned dword (SDM "Local APIC
 * Register Address Map": other accesses are undefined, we drop them). While
 * the APIC is disabled in IA32_APIC_BASE the page is unassigned. */
static int apic_read(struct iobus_device *d, u64 addr, u32 len, void *val)
{
	struct vm *vm = dev_vm(d);
	if (!(vm->apic.base_msr & APIC_BASE_ENABLE))
		return -EOPNOTSUPP;
	u64 wide = (u64)vapic_read(vm, (u32)(addr - XAPIC_PAGE_GPA) & ~3u) >> ((addr & 3) * 8);
	memset(val, 0, len);
	memcpy(val, &wide, MIN(len, 4u));
	return 0;
}

static int apic_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	struct vm *vm = dev_vm(d);
	u32 v = 0;
	if (!(vm->apic.base_msr & APIC_BASE_ENABLE))
		return -EOPNOTSUPP;
	memcpy(&v, val, MIN(len, 4u));
	if ((addr & 3) == 0 && len >= 4)
		vapic_write(vm, (u32)(addr - XAPIC_PAGE_GPA), v);
	return 0;
}

static int ioram_read(struct iobus_device *d, u64 addr, u32 len, void *val)
{
	memcpy(val, dev_vm(d)->ioram + (addr - IORAM_GPA), len);
	return 0;
}

static int ioram_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	memcpy(dev_vm(d)->ioram + (addr - IORAM_GPA), val, len);
	return 0;
}

static const struct iobus_device_ops ports_ops = { .read = ports_read, .write = ports_write };
static const struct iobus_device_ops apic_ops = { .read = apic_read, .write = apic_write };
static const struct iobus_device_ops ioram_ops = { .read = ioram_read, .write = ioram_write };

const char *vm_port_owner(u16 port)
{
	static const struct { u16 first, last; const char *name; } owners[] = {
		{ PORT_PIC1, PORT_PIC1 + 1, "the master PIC" },
		{ PORT_PIC2, PORT_PIC2 + 1, "the slave PIC" },
		{ PORT_LATCH, PORT_LATCH_END, "the pc-testdev latch" },
		{ PORT_EXIT, PORT_EXIT_END, "the exit device" },
		{ PORT_COM1, PORT_COM1_END, "COM1" },
		{ 0xcf8, 0xcff, "PCI configuration" },
		{ FWCFG_PORT_SELECTOR, FWCFG_PORT_DATA, "fw_cfg" },
		{ ACPI_PM_BASE, ACPI_PM_BASE + ACPI_PM_SIZE - 1, "the ACPI PM block" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(owners); i++)
		if (port >= owners[i].first && port <= owners[i].last)
			return owners[i].name;
	return NULL;
}

int vm_devices_register(struct vm *vm)
{
	static const struct { u16 first; u32 count; } port_ranges[] = {
		{ PORT_PIC1, 2 }, { PORT_PIC2, 2 }, { PORT_LATCH, 4 },
		{ PORT_EXIT, 4 }, { PORT_COM1, 8 },
	};
	struct iobus *pio = &vm->io.buses[IOBUS_PIO], *mmio = &vm->io.buses[IOBUS_MMIO];
	int r = 0;

	vm->dev_ports = (struct vm_device){ { &ports_ops }, vm };
	vm->dev_apic = (struct vm_device){ { &apic_ops }, vm };
	vm->dev_ioram = (struct vm_device){ { &ioram_ops }, vm };
	for (size_t i = 0; i < ARRAY_SIZE(port_ranges) && !r; i++)
		r = iobus_register(pio, port_ranges[i].first, port_ranges[i].count,
				   &vm->dev_ports.base);
	if (!r)
		r = iobus_register(mmio, XAPIC_PAGE_GPA, PAGE_SIZE, &vm->dev_apic.base);
	if (!r)
		r = iobus_register(mmio, IORAM_GPA, IORAM_SIZE, &vm->dev_ioram.base);
	if (!r)
		r = syncdev_register(vm);
	if (!r)
		r = vm_pci_register(vm);
	if (!r)
		r = vm_platform_register(vm);	/* vmx/platform.c */
	return r;
}

void vm_bus_read(struct vm *vm, u32 bus, u64 addr, u32 size, void *val)
{
	if (iobus_read(&vm->io.buses[bus], addr, size, val)) {
		report_unassigned(vm, bus == IOBUS_PIO ? "port" : "guest-physical address",
				  addr, false);
		memset(val, 0xff, size);
	}
}

void vm_bus_write(struct vm *vm, u32 bus, u64 addr, u32 size, const void *val)
{
	if (iobus_write(&vm->io.buses[bus], addr, size, val))
		report_unassigned(vm, bus == IOBUS_PIO ? "port" : "guest-physical address",
				  addr, true);
}
