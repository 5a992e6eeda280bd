/*
 * vmx/pci.c - the guest's PCI bus 0 on the VM's buses (pci/ is the model):
 * configuration mechanism #1 on ports 0xcf8-0xcff, a host bridge at 00:00.0
 * (Intel 8086:1237, class 06/00, as QEMU's i440FX) and QEMU's pci-testdev at
 * 00:03.0 (1b36:0005, class 00/ff) with BAR0 (memory, 4 KiB) and BAR1 (I/O,
 * 256 ports), both assigned and enabled at boot as firmware would
 * (kvm-unit-tests reads the BARs, it does not assign them). docs/pci.md.
 *
 * The pci-testdev's tests are backed by doorbell's own machinery:
 *  - no-eventfd: the device model counts the write (the MMIO one is decoded
 *    by the instruction emulator, the port one by the I/O exit);
 *  - wildcard-eventfd: a hypervisor ioeventfd, length 0 on MMIO (the fast-
 *    MMIO path: its page is EPT-misconfigured) and a PIO wildcard (the PIO
 *    fast path);
 *  - datamatch-eventfd: a hypervisor ioeventfd with a datamatch.
 * Each signals one of the hypervisor's own event ids (EVENTS_PER_VM + n),
 * never one of the guest's 1024. The count register of an eventfd test is the
 * signals the service core handled for its event: a read of the header first
 * waits (bounded, as EVENT_READ does) until the service core has caught up.
 *
 * On the bus a BAR is one range for the whole register file, whose write
 * callback passes writes at the active doorbell's offset on, plus a "tail"
 * range of 2 bytes at each doorbell offset, which sorts after the doorbell
 * (iobus: by address, then length) and takes what the doorbell did not
 * (a datamatch miss): such writes are dropped, as QEMU's device drops them.
 *
 * A BAR moves when the guest rewrites it or the command register: its ranges
 * and its doorbell leave the old place and are registered at the new one, if
 * the platform can decode it there (not over RAM, the doorbell window or
 * another device, below 4 GiB / port 0x10000); else it is not decoded, with
 * a line saying why.
 */
#include "vmx/vmx_priv.h"
#include "pci/pci.h"

#define PCI_TESTDEV_SLOT     3		/* 00:03.0 */
#define PCI_TESTDEV_BAR0_GPA 0xfebff000u	/* below syncdev/APIC/IORAM, above the window */
#define PCI_TESTDEV_BAR1_PORT 0xc000u
#define PCI_COUNT_TIMEOUT_US 100000	/* as EVENT_READ's bound (vmx/hypercall.c) */
#define PCI_HV_EVENT_BASE    EVENTS_PER_VM	/* the testdev's doorbells: + test index */
#define PCI_TAIL_LEN         2		/* sorts after a doorbell of length 0 or 1 */
#define PCI_4GIB             0x100000000ull
#define PCI_PORTS            0x10000u

_Static_assert(IOEVENTFD_HV_EVENTS == EVENTS_HV, "iobus and service agree on the hv ids");
_Static_assert(PCI_TESTDEV_TESTS <= EVENTS_HV, "a hv event per test");

enum { BAR_MEM, BAR_IO, NBARS };		/* BAR0, BAR1 */

struct pci_bus_dev {
	struct iobus_device base;	/* first: the bus hands us &base */
	struct vm_pci *p;
	u32 bar;
	u32 off;			/* a tail: its doorbell's offset */
};

struct vm_pci {
	struct vm *vm;
	u32 config_address;
	struct pci_func host, testdev;
	struct pci_testdev td;
	struct pci_bus_dev conf, bar[NBARS], tail[NBARS][2];
	bool mapped[NBARS];		/* registered on the bus at where[] */
	u32 where[NBARS];
	bool doorbell;			/* db is assigned */
	struct doorbell_ioeventfd db;
};

static struct iobus *bar_bus(struct vm_pci *p, u32 b)
{
	return &p->vm->io.buses[b == BAR_IO ? IOBUS_PIO : IOBUS_MMIO];
}

static enum pci_testdev_kind bar_kind(u32 b)
{
	return b == BAR_IO ? PCI_TESTDEV_PIO : PCI_TESTDEV_MMIO;
}

/* ---- the test doorbells ----------------------------------------------- */

/* The current test's doorbell, if it has one and its BAR is decoded. */
static bool doorbell_args(struct vm_pci *p, struct doorbell_ioeventfd *a)
{
	s32 t = p->td.current;
	if (t == PCI_TESTDEV_NONE)
		return false;
	const struct pci_testdev_test *x = pci_testdev_test((u32)t);
	u32 b = x->kind == PCI_TESTDEV_PIO ? BAR_IO : BAR_MEM;
	if (x->how == PCI_TESTDEV_NO_EVENTFD || !p->mapped[b])
		return false;
	memset(a, 0, sizeof(*a));
	a->addr = p->where[b] + x->offset;
	a->event = (s32)(PCI_HV_EVENT_BASE + (u32)t);
	if (x->kind == PCI_TESTDEV_PIO)
		a->flags |= DOORBELL_IOEVENTFD_FLAG_PIO;
	/* The MMIO wildcard has length 0: the fast-MMIO path. */
	a->len = x->kind == PCI_TESTDEV_MMIO && x->how == PCI_TESTDEV_WILDCARD ? 0 : PCI_TESTDEV_WIDTH;
	if (x->how == PCI_TESTDEV_DATAMATCH) {
		a->flags |= DOORBELL_IOEVENTFD_FLAG_DATAMATCH;
		a->datamatch = x->data;
	}
	return true;
}

/* Signals handled for the current test's event since the last call, added
 * to its count (after waiting for the service core to catch up). */
static void doorbell_sync(struct vm_pci *p)
{
	s32 t = p->td.current;
	u64 n;

	if (t == PCI_TESTDEV_NONE || pci_testdev_test((u32)t)->how == PCI_TESTDEV_NO_EVENTFD)
		return;
	int r = event_read(p->vm->events, PCI_HV_EVENT_BASE + (u32)t, PCI_COUNT_TIMEOUT_US, &n);
	if (r)
		printk("vm %u: pci-testdev: the service core did not catch up with test %d's "
		       "doorbell in %u us; its count is short\n", p->vm->index, t,
		       PCI_COUNT_TIMEOUT_US);
	else
		pci_testdev_add_hits(&p->td, n);
}

/* Removes the doorbell. Its signals not yet in the count are added to it
 * (keep: the test goes on, its BAR moves) or dropped (the test ended), so
 * that none is left to a later run of the test. */
static void doorbell_off(struct vm_pci *p, bool keep)
{
	u64 n;

	if (!p->doorbell)
		return;
	if (keep) {
		doorbell_sync(p);
	} else if (event_read(p->vm->events, (u32)p->db.event, PCI_COUNT_TIMEOUT_US, &n)) {
		printk("vm %u: pci-testdev: the service core did not catch up with event %d\n",
		       p->vm->index, p->db.event);
	}
	p->db.flags |= DOORBELL_IOEVENTFD_FLAG_DEASSIGN;
	int r = ioeventfd_hv_ioctl(&p->vm->io, &p->db);
	if (r)
		printk("vm %u: pci-testdev: removing the doorbell at 0x%llx failed (%d)\n",
		       p->vm->index, p->db.addr, r);
	p->doorbell = false;
}

static void doorbell_on(struct vm_pci *p)
{
	if (p->doorbell || !doorbell_args(p, &p->db))
		return;
	int r = ioeventfd_hv_ioctl(&p->vm->io, &p->db);
	if (r) {
		printk("vm %u: pci-testdev: a doorbell at 0x%llx could not be registered (%d); "
		       "the test's writes are dropped\n", p->vm->index, p->db.addr, r);
		return;
	}
	p->doorbell = true;
}

/* ---- BAR placement ------------------------------------------------------ */

struct overlap_query {
	struct vm_pci *p;
	const struct iobus_range *found;
};

static bool foreign_range(void *arg, const struct iobus_range *r)
{
	struct overlap_query *q = arg;
	struct vm_pci *p = q->p;

	for (u32 b = 0; b < NBARS; b++)
		if (r->dev == &p->bar[b].base || r->dev == &p->tail[b][0].base ||
		    r->dev == &p->tail[b][1].base)
			return false;
	if (p->doorbell && r->addr == p->db.addr)
		return false;		/* our own doorbell */
	q->found = r;
	return true;
}

/* Why BAR b cannot be decoded at addr, or NULL if it can. */
static const char *bar_refusal(struct vm_pci *p, u32 b, u64 addr)
{
	struct vm *vm = p->vm;
	u64 size = p->testdev.bar_size[b];
	struct overlap_query q = { p, NULL };

	if (addr == 0)
		return "it is 0 (unassigned)";
	if (b == BAR_IO) {
		if (addr + size > PCI_PORTS)
			return "it runs past port 0xffff";
		if (pci_ranges_overlap(addr, size, PCI_CONF1_ADDRESS_PORT, PCI_CONF1_PORTS))
			return "it overlaps the configuration ports";
	} else {
		if (addr + size > PCI_4GIB)
			return "it runs past 4 GiB";
		if (pci_ranges_overlap(addr, size, 0, vm->ram_size))
			return "it overlaps guest RAM";
		if (pci_ranges_overlap(addr, size, vm->io.window_base, vm->io.window_size))
			return "it overlaps the doorbell window";
	}
	if (iobus_for_each_overlap(bar_bus(p, b), addr, addr + size - 1, foreign_range, &q))
		return "another device or a doorbell answers there";
	return NULL;
}

static void bar_unmap(struct vm_pci *p, u32 b)
{
	struct iobus *bus = bar_bus(p, b);
	u32 a = p->where[b], n = 0;
	int r = 0;

	if (!p->mapped[b])
		return;
	if (p->doorbell && ((p->db.flags & DOORBELL_IOEVENTFD_FLAG_PIO) != 0) == (b == BAR_IO))
		doorbell_off(p, true);
	r |= iobus_unregister(bus, a, p->testdev.bar_size[b], &p->bar[b].base);
	for (u32 t = 0; t < PCI_TESTDEV_TESTS; t++) {
		const struct pci_testdev_test *x = pci_testdev_test(t);
		if (x->kind == bar_kind(b) && x->how != PCI_TESTDEV_NO_EVENTFD)
			r |= iobus_unregister(bus, a + x->offset, PCI_TAIL_LEN, &p->tail[b][n++].base);
	}
	if (b == BAR_IO)
		r |= ioeventfd_unreserve_ports(&p->vm->io, a, p->testdev.bar_size[b]);
	if (r)
		printk("vm %u: pci-testdev: unmapping BAR%u at 0x%x failed\n", p->vm->index, b, a);
	p->mapped[b] = false;
}

static int bar_map(struct vm_pci *p, u32 b)
{
	struct iobus *bus = bar_bus(p, b);
	u32 a = pci_bar_addr(&p->testdev, b), n = 0;
	const char *why;
	int r;

	if (!pci_bar_decoded(&p->testdev, b))
		return 0;
	/* All ones written to size it (pci_bar_size()): read back, not placed. */
	if (a == (~(p->testdev.bar_size[b] - 1) & (b == BAR_IO ? PCI_BAR_IO_MASK : PCI_BAR_MEM_MASK)))
		return 0;
	why = bar_refusal(p, b, a);
	if (why) {
		printk("vm %u: pci-testdev: BAR%u at 0x%x is not decoded: %s\n",
		       p->vm->index, b, a, why);
		return 0;
	}
	r = iobus_register(bus, a, p->testdev.bar_size[b], &p->bar[b].base);
	for (u32 t = 0; t < PCI_TESTDEV_TESTS && !r; t++) {
		const struct pci_testdev_test *x = pci_testdev_test(t);
		if (x->kind == bar_kind(b) && x->how != PCI_TESTDEV_NO_EVENTFD) {
			p->tail[b][n].off = x->offset;
			r = iobus_register(bus, a + x->offset, PCI_TAIL_LEN, &p->tail[b][n++].base);
		}
	}
	/* Guest PIO doorbells stay off the device's ports (CONTRACTS.md 3). */
	if (!r && b == BAR_IO)
		r = ioeventfd_reserve_ports(&p->vm->io, a, p->testdev.bar_size[b]);
	p->where[b] = a;
	p->mapped[b] = true;
	if (r) {
		printk("vm %u: pci-testdev: registering BAR%u at 0x%x failed (%d)\n",
		       p->vm->index, b, a, r);
		bar_unmap(p, b);
		return r;
	}
	doorbell_on(p);
	return 0;
}

/* ---- the register file (both BARs) -------------------------------------- */

static struct pci_bus_dev *bus_dev(struct iobus_device *d)
{
	return (struct pci_bus_dev *)(void *)d;
}

static int testdev_read(struct iobus_device *d, u64 addr, u32 len, void *val)
{
	struct pci_bus_dev *bd = bus_dev(d);
	struct vm_pci *p = bd->p;

	doorbell_sync(p);
	u64 v = pci_testdev_read(&p->td, (u32)(addr - p->where[bd->bar]), len);
	memcpy(val, &v, MIN(len, 8u));
	return 0;
}

static int testdev_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	struct pci_bus_dev *bd = bus_dev(d);
	struct vm_pci *p = bd->p;
	u32 b = bd->bar, off = (u32)(addr - p->where[b]);
	struct pci_testdev_effect e;
	u64 v = 0;

	/* The doorbell behind this range takes it (and the tail its misses). */
	if (p->doorbell && (s64)off == pci_testdev_doorbell_offset(&p->td, bar_kind(b)))
		return -EOPNOTSUPP;
	memcpy(&v, val, MIN(len, 8u));
	pci_testdev_write(&p->td, bar_kind(b), off, len, v, &e);
	if (e.stopped != PCI_TESTDEV_NONE || e.started != PCI_TESTDEV_NONE) {
		doorbell_off(p, false);
		doorbell_on(p);
	}
	return 0;
}

/* A write the test's doorbell did not take: dropped, counted nowhere. Only
 * at the tail's own first byte: its second byte may be the next test's. */
static int tail_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	struct pci_bus_dev *bd = bus_dev(d);

	(void)len; (void)val;
	return addr == bd->p->where[bd->bar] + bd->off ? 0 : -EOPNOTSUPP;
}

static const struct iobus_device_ops testdev_ops = { .read = testdev_read, .write = testdev_write };
static const struct iobus_device_ops tail_ops = { .write = tail_write };

/* ---- configuration space ------------------------------------------------ */

static struct pci_func *pci_func_at(struct vm_pci *p, u32 dev, u32 fn)
{
	if (fn != 0)
		return NULL;
	if (dev == 0)
		return &p->host;
	if (dev == PCI_TESTDEV_SLOT)
		return &p->testdev;
	return NULL;
}

static int conf_read(struct iobus_device *d, u64 addr, u32 len, void *val)
{
	struct vm_pci *p = bus_dev(d)->p;
	u32 v = 0xffffffffu, dev, fn, reg;
	struct pci_func *f;

	if (len > 4)
		return -EOPNOTSUPP;
	if (addr == PCI_CONF1_ADDRESS_PORT && len == 4)
		v = p->config_address;
	else if (addr >= PCI_CONF1_DATA_PORT &&
		 pci_conf1_target(p->config_address, (u16)addr, len, &dev, &fn, &reg) &&
		 (f = pci_func_at(p, dev, fn)) != NULL)
		v = pci_cfg_read(f, reg, len);
	/* Anything else: no device answers (all ones), as on a PC. */
	memcpy(val, &v, len);
	return 0;
}

static int conf_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	struct vm_pci *p = bus_dev(d)->p;
	u32 v = 0, dev, fn, reg, changed;
	struct pci_func *f;

	if (len > 4)
		return -EOPNOTSUPP;
	memcpy(&v, val, len);
	if (addr == PCI_CONF1_ADDRESS_PORT && len == 4) {
		p->config_address = v & PCI_CONF1_WRITABLE;
		return 0;
	}
	if (addr < PCI_CONF1_DATA_PORT ||
	    !pci_conf1_target(p->config_address, (u16)addr, len, &dev, &fn, &reg) ||
	    (f = pci_func_at(p, dev, fn)) == NULL)
		return 0;	/* dropped: other widths at 0xcf8, absent devices */
	changed = pci_cfg_write(f, reg, len, v);
	if (f != &p->testdev || !changed)
		return 0;
	for (u32 b = 0; b < NBARS; b++) {
		if (!(changed & (PCI_CHANGED_COMMAND | PCI_CHANGED_BAR(b))))
			continue;
		if (p->mapped[b] && pci_bar_decoded(f, b) && pci_bar_addr(f, b) == p->where[b])
			continue;
		bar_unmap(p, b);
		bar_map(p, b);
	}
	return 0;
}

static const struct iobus_device_ops conf_ops = { .read = conf_read, .write = conf_write };

int vm_pci_register(struct vm *vm)
{
	static const struct pci_id host_id = {
		.vendor = PCI_VENDOR_ID_INTEL, .device = PCI_DEVICE_ID_INTEL_82441,
		.revision = 0x02, .class_base = PCI_CLASS_BRIDGE,
		.class_sub = PCI_CLASS_BRIDGE_HOST,
		.subsystem_vendor = PCI_SUBVENDOR_ID_REDHAT_QUMRANET,
		.subsystem = PCI_SUBDEVICE_ID_QEMU,
	};
	static const struct pci_id testdev_id = {
		.vendor = PCI_VENDOR_ID_REDHAT, .device = PCI_DEVICE_ID_REDHAT_TEST,
		.class_base = 0x00, .class_sub = PCI_CLASS_OTHERS,
		.subsystem_vendor = PCI_SUBVENDOR_ID_REDHAT_QUMRANET,
		.subsystem = PCI_SUBDEVICE_ID_QEMU,
	};
	struct vm_pci *p = kmalloc(sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->vm = vm;
	vm->pci = p;
	pci_func_init(&p->host, &host_id);
	pci_func_set_command(&p->host, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	pci_func_init(&p->testdev, &testdev_id);
	pci_testdev_init(&p->td);
	r = pci_func_add_bar(&p->testdev, BAR_MEM, false, PCI_TESTDEV_MEM_SIZE, PCI_TESTDEV_BAR0_GPA);
	if (!r)
		r = pci_func_add_bar(&p->testdev, BAR_IO, true, PCI_TESTDEV_IO_SIZE, PCI_TESTDEV_BAR1_PORT);
	if (r)
		return r;
	pci_func_set_command(&p->testdev, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);

	p->conf = (struct pci_bus_dev){ { &conf_ops }, p, 0, 0 };
	for (u32 b = 0; b < NBARS; b++) {
		p->bar[b] = (struct pci_bus_dev){ { &testdev_ops }, p, b, 0 };
		p->tail[b][0] = p->tail[b][1] = (struct pci_bus_dev){ { &tail_ops }, p, b, 0 };
	}
	r = iobus_register(&vm->io.buses[IOBUS_PIO], PCI_CONF1_ADDRESS_PORT, PCI_CONF1_PORTS,
			   &p->conf.base);
	if (!r)
		r = ioeventfd_reserve_ports(&vm->io, PCI_CONF1_ADDRESS_PORT, PCI_CONF1_PORTS);
	for (u32 b = 0; b < NBARS && !r; b++)
		r = bar_map(p, b);
	return r;
}
