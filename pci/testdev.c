/*
 * pci/testdev.c - the register model of QEMU's pci-testdev (QEMU
 * docs/specs/pci-testdev.rst; the layout in pci/pci.h). Six tests, three per
 * BAR kind; selecting one resets its count. The no-eventfd tests are counted
 * here, by the device model; the eventfd tests are doorbells the caller
 * registers (vmx/pci.c), whose handled signals it adds to the count.
 */
#include "pci/pci.h"

#define MMIO_TEST_BASE  (PCI_TESTDEV_MEM_SIZE / 2)	/* 0x800 */
#define PIO_TEST_BASE   (PCI_TESTDEV_IO_SIZE / 2)	/* 0x80 */

static const struct pci_testdev_test tests[PCI_TESTDEV_TESTS] = {
	{ "mmio-no-eventfd",          PCI_TESTDEV_MMIO, PCI_TESTDEV_NO_EVENTFD, MMIO_TEST_BASE + 0, PCI_TESTDEV_DATA_MATCH },
	{ "mmio-wildcard-eventfd",    PCI_TESTDEV_MMIO, PCI_TESTDEV_WILDCARD,   MMIO_TEST_BASE + 1, PCI_TESTDEV_DATA_NOMATCH },
	{ "mmio-datamatch-eventfd",   PCI_TESTDEV_MMIO, PCI_TESTDEV_DATAMATCH,  MMIO_TEST_BASE + 2, PCI_TESTDEV_DATA_MATCH },
	{ "portio-no-eventfd",        PCI_TESTDEV_PIO,  PCI_TESTDEV_NO_EVENTFD, PIO_TEST_BASE + 3,  PCI_TESTDEV_DATA_MATCH },
	{ "portio-wildcard-eventfd",  PCI_TESTDEV_PIO,  PCI_TESTDEV_WILDCARD,   PIO_TEST_BASE + 4,  PCI_TESTDEV_DATA_NOMATCH },
	{ "portio-datamatch-eventfd", PCI_TESTDEV_PIO,  PCI_TESTDEV_DATAMATCH,  PIO_TEST_BASE + 5,  PCI_TESTDEV_DATA_MATCH },
};

const struct pci_testdev_test *pci_testdev_test(u32 i)
{
	return i < PCI_TESTDEV_TESTS ? &tests[i] : NULL;
}

void pci_testdev_init(struct pci_testdev *d)
{
	d->current = PCI_TESTDEV_NONE;
	d->count = 0;
}

/* Byte i of test t's header. */
static u8 header_byte(const struct pci_testdev *d, s32 t, u32 i)
{
	const struct pci_testdev_test *x = &tests[t];

	switch (i) {
	case PCI_TESTDEV_HDR_TEST:  return (u8)t;
	case PCI_TESTDEV_HDR_WIDTH: return PCI_TESTDEV_WIDTH;
	case PCI_TESTDEV_HDR_DATA:  return x->data;
	default: break;
	}
	if (i >= PCI_TESTDEV_HDR_OFFSET && i < PCI_TESTDEV_HDR_OFFSET + 4)
		return (u8)(x->offset >> (8 * (i - PCI_TESTDEV_HDR_OFFSET)));
	if (i >= PCI_TESTDEV_HDR_COUNT && i < PCI_TESTDEV_HDR_COUNT + 4)
		return (u8)(d->count >> (8 * (i - PCI_TESTDEV_HDR_COUNT)));
	if (i >= PCI_TESTDEV_HDR_NAME && i - PCI_TESTDEV_HDR_NAME < strlen(x->name))
		return (u8)x->name[i - PCI_TESTDEV_HDR_NAME];
	return 0;	/* padding, the name's NUL, past the header */
}

u64 pci_testdev_read(const struct pci_testdev *d, u32 off, u32 len)
{
	u64 v = 0;

	if (d->current == PCI_TESTDEV_NONE)
		return 0;
	for (u32 i = 0; i < len && i < 8; i++)
		v |= (u64)header_byte(d, d->current, off + i) << (8 * i);
	return v;
}

/* One byte written at off (QEMU's device takes accesses a byte at a time). */
static void write_byte(struct pci_testdev *d, enum pci_testdev_kind kind, u32 off,
		       u8 b, struct pci_testdev_effect *e)
{
	if (off == PCI_TESTDEV_HDR_TEST) {
		if (d->current != PCI_TESTDEV_NONE && e->stopped == PCI_TESTDEV_NONE)
			e->stopped = d->current;
		d->current = PCI_TESTDEV_NONE;
		d->count = 0;
		if (b < PCI_TESTDEV_PER_KIND) {
			d->current = (s32)(kind * PCI_TESTDEV_PER_KIND + b);
			e->started = d->current;
		}
		return;
	}
	if (d->current == PCI_TESTDEV_NONE)
		return;
	const struct pci_testdev_test *x = &tests[d->current];
	/* Only the no-eventfd test counts here; an eventfd test's writes that
	 * reach the model are those its doorbell let through (a datamatch
	 * miss), which count nothing, as in QEMU. */
	if (x->how == PCI_TESTDEV_NO_EVENTFD && x->kind == kind && off == x->offset &&
	    b == x->data)
		d->count++;
}

void pci_testdev_write(struct pci_testdev *d, enum pci_testdev_kind kind, u32 off,
		       u32 len, u64 val, struct pci_testdev_effect *e)
{
	struct pci_testdev_effect none;

	if (!e)
		e = &none;
	e->stopped = e->started = PCI_TESTDEV_NONE;
	for (u32 i = 0; i < len && i < 8; i++)
		write_byte(d, kind, off + i, (u8)(val >> (8 * i)), e);
	/* Selected and deselected again in one access: nothing started. */
	if (e->started != PCI_TESTDEV_NONE && e->started != d->current)
		e->started = PCI_TESTDEV_NONE;
}

s64 pci_testdev_doorbell_offset(const struct pci_testdev *d, enum pci_testdev_kind kind)
{
	if (d->current == PCI_TESTDEV_NONE)
		return -1;
	const struct pci_testdev_test *x = &tests[d->current];
	if (x->how == PCI_TESTDEV_NO_EVENTFD || x->kind != kind)
		return -1;
	return x->offset;
}

void pci_testdev_add_hits(struct pci_testdev *d, u64 n)
{
	d->count += (u32)n;
}
