/*
 * pci/pci.h - the guest's PCI bus 0: configuration mechanism #1 (ports
 * 0xcf8 CONFIG_ADDRESS, 0xcfc-0xcff CONFIG_DATA), type-0 configuration
 * headers with BAR sizing, and the register model of QEMU's pci-testdev
 * (vendor 0x1b36, device 0x0005; QEMU docs/specs/pci-testdev.rst), whose
 * tests kvm-unit-tests runs (lib/pci-testdev.c, x86/vmexit.c pci-mem and
 * pci-io rows). docs/pci.md describes the device as a guest sees it.
 *
 * Pure logic: no bus, no event, no hardware; vmx/pci.c puts the functions on
 * the VM's port and MMIO buses and backs the tests' doorbells with ioeventfds.
 * Built for the host too (tests/host/test_pci.c).
 *
 * References: PCI Local Bus Specification 3.0, "Configuration Mechanism #1"
 * (3.2.2.3.2) and "Configuration Space Header" (6.2, type 0); "Base Address
 * Registers" (6.2.5.1) for the all-ones sizing protocol.
 */
#ifndef PCI_PCI_H
#define PCI_PCI_H

#include "lib/lib.h"

/* ---- configuration mechanism #1 ----------------------------------------- */

#define PCI_CONF1_ADDRESS_PORT  0xcf8
#define PCI_CONF1_DATA_PORT     0xcfc
#define PCI_CONF1_PORTS         8		/* 0xcf8-0xcff */
#define PCI_CONF1_ENABLE        BIT(31)		/* CONFIG_ADDRESS: decode the data port */
#define PCI_CONF1_BUS_SHIFT     16		/* bits 23:16 */
#define PCI_CONF1_DEV_SHIFT     11		/* bits 15:11 */
#define PCI_CONF1_FN_SHIFT      8		/* bits 10:8 */
#define PCI_CONF1_REG_MASK      0xffu		/* bits 7:0 */
/* Bits 30:24 are reserved (read as 0). Bits 1:0 are kept, as QEMU keeps
 * them, and added to the data port's offset: older kvm-unit-tests put the
 * register's low bits there and read CONFIG_DATA at 0xcfc. */
#define PCI_CONF1_WRITABLE      (PCI_CONF1_ENABLE | 0x00ffffffu)

#define PCI_DEVS_PER_BUS        32
#define PCI_FNS_PER_DEV         8

/* Where a CONFIG_DATA access of len bytes at port lands: returns false when
 * it reaches no configuration register (CONFIG_ADDRESS disabled, a bus other
 * than 0, or an access that does not fit the dword), else the device,
 * function and register offset. */
bool pci_conf1_target(u32 config_address, u16 port, u32 len,
		      u32 *dev, u32 *fn, u32 *reg);

/* ---- a function's configuration space (type-0 header) ------------------- */

#define PCI_CFG_SIZE            256
#define PCI_NUM_BARS            6

/* Header registers (PCI 3.0, "Type 00h Configuration Space Header") */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0a	/* subclass, then base class at 0x0b */
#define PCI_HEADER_TYPE         0x0e
#define PCI_BASE_ADDRESS_0      0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_ROM_ADDRESS         0x30	/* no ROM: reads 0, so it sizes to 0 */
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d

#define PCI_COMMAND_IO          BIT(0)	/* decode the I/O BARs */
#define PCI_COMMAND_MEMORY      BIT(1)	/* decode the memory BARs */
#define PCI_COMMAND_MASTER      BIT(2)
#define PCI_COMMAND_PARITY      BIT(6)
#define PCI_COMMAND_SERR        BIT(8)
#define PCI_COMMAND_INTX_DISABLE BIT(10)
#define PCI_COMMAND_WRITABLE    (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
				 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

#define PCI_BAR_SPACE_IO        BIT(0)	/* BAR bit 0: I/O space */
#define PCI_BAR_MEM_MASK        (~0xfu)	/* bits 3:0: type, prefetchable */
#define PCI_BAR_IO_MASK         (~0x3u)	/* bits 1:0: I/O, reserved */
#define PCI_HEADER_TYPE_NORMAL  0x00	/* type 0, single function */

/* What a configuration write changed (pci_cfg_write's result). */
#define PCI_CHANGED_COMMAND     1u
#define PCI_CHANGED_BAR(n)      (1u << (1 + (n)))

struct pci_id {
	u16 vendor, device;
	u8 revision;
	u8 class_base, class_sub, prog_if;
	u16 subsystem_vendor, subsystem;
};

/* One function: its 256 bytes, which bits of each byte a write may change,
 * and the size of each BAR (0: no BAR). */
struct pci_func {
	u8 cfg[PCI_CFG_SIZE];
	u8 wmask[PCI_CFG_SIZE];
	u32 bar_size[PCI_NUM_BARS];
};

/* A function with identity id: no BAR, command 0, interrupt line writable,
 * no interrupt pin, no capability. */
void pci_func_init(struct pci_func *f, const struct pci_id *id);
/* Gives f BAR n: 32-bit memory (non-prefetchable) or I/O, of size bytes (a
 * power of two, at least 16 for memory and 4 for I/O), at address addr
 * (aligned to size). Returns 0 or -EINVAL. */
int pci_func_add_bar(struct pci_func *f, u32 n, bool io, u32 size, u32 addr);
/* Sets the command register (the "firmware" enabling decode at boot). */
void pci_func_set_command(struct pci_func *f, u16 command);

/* The len bytes (1, 2 or 4; reg + len within the dword) at reg. */
u32 pci_cfg_read(const struct pci_func *f, u32 reg, u32 len);
/* Writes them, through the write mask (read-only bits keep their value, so a
 * BAR written with all ones reads back its size mask and type bits).
 * Returns PCI_CHANGED_* for the registers whose value changed. */
u32 pci_cfg_write(struct pci_func *f, u32 reg, u32 len, u32 val);

u16 pci_func_command(const struct pci_func *f);
/* BAR n's base address (its type bits masked off). */
u32 pci_bar_addr(const struct pci_func *f, u32 n);
bool pci_bar_is_io(const struct pci_func *f, u32 n);
/* Whether the function answers at BAR n now: the BAR exists and the command
 * register enables its space. (A base the platform cannot place, such as
 * one over RAM, is the caller's to refuse.) */
bool pci_bar_decoded(const struct pci_func *f, u32 n);

/* Whether [a, a + alen) and [b, b + blen) share a byte (lengths > 0). */
static inline bool pci_ranges_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

/* ---- QEMU's pci-testdev ------------------------------------------------- */

#define PCI_VENDOR_ID_REDHAT       0x1b36
#define PCI_DEVICE_ID_REDHAT_TEST  0x0005
#define PCI_VENDOR_ID_INTEL        0x8086
#define PCI_DEVICE_ID_INTEL_82441  0x1237	/* i440FX host bridge, as QEMU's PC */
#define PCI_SUBVENDOR_ID_REDHAT_QUMRANET 0x1af4	/* QEMU's default subsystem */
#define PCI_SUBDEVICE_ID_QEMU      0x1100
#define PCI_CLASS_BRIDGE           0x06
#define PCI_CLASS_BRIDGE_HOST      0x00
#define PCI_CLASS_OTHERS           0xff	/* pci-testdev: base 0x00, sub 0xff */

/*
 * Two BARs with the same register file: BAR0, memory, 4 KiB
 * (PCI_TESTDEV_MEM_SIZE); BAR1, I/O, 256 ports (PCI_TESTDEV_IO_SIZE). Each
 * starts with the header of the test selected last (through either BAR):
 *   0x00 test   (write) selects test 0, 1 or 2 of this BAR's kind; any other
 *               number selects none (then every byte reads 0)
 *   0x01 width  (read) 1: the test writes bytes
 *   0x04 offset (read, 32) where in this BAR the test writes
 *   0x08 data   (read, 32) the byte the test writes
 *   0x0c count  (read, 32) the writes that hit since the test was selected
 *   0x10 name   (read) NUL-terminated: "mmio-no-eventfd", ...
 * Reads of the header are by byte, little-endian, as QEMU serves them (a
 * wider access is its bytes); bytes past the name read 0. A write is taken
 * byte by byte as well.
 * The tests (index = kind * 3 + number): kind 0 mmio, 1 portio; number 0
 * no-eventfd (the device model counts a byte write of the data at the
 * offset), 1 wildcard-eventfd (any write at the offset: a doorbell), 2
 * datamatch-eventfd (a byte write of the data at the offset: a doorbell with
 * a datamatch). Offsets: mmio 0x800 + index, portio 0x80 + index.
 */
#define PCI_TESTDEV_MEM_SIZE     4096u
#define PCI_TESTDEV_IO_SIZE      256u
#define PCI_TESTDEV_TESTS        6	/* 3 per kind */
#define PCI_TESTDEV_PER_KIND     3
#define PCI_TESTDEV_NONE         (-1)

#define PCI_TESTDEV_HDR_TEST     0x00
#define PCI_TESTDEV_HDR_WIDTH    0x01
#define PCI_TESTDEV_HDR_OFFSET   0x04
#define PCI_TESTDEV_HDR_DATA     0x08
#define PCI_TESTDEV_HDR_COUNT    0x0c
#define PCI_TESTDEV_HDR_NAME     0x10
#define PCI_TESTDEV_DATA_MATCH   0xfa	/* data of no-eventfd and datamatch */
#define PCI_TESTDEV_DATA_NOMATCH 0xce	/* data of wildcard */
#define PCI_TESTDEV_WIDTH        1

enum pci_testdev_kind { PCI_TESTDEV_MMIO, PCI_TESTDEV_PIO };
enum pci_testdev_how {
	PCI_TESTDEV_NO_EVENTFD,		/* the device model counts */
	PCI_TESTDEV_WILDCARD,		/* a doorbell: any value, any size (MMIO: length 0) */
	PCI_TESTDEV_DATAMATCH,		/* a doorbell of width bytes with the data */
};

struct pci_testdev_test {
	const char *name;
	enum pci_testdev_kind kind;
	enum pci_testdev_how how;
	u32 offset;			/* in its BAR */
	u8 data;
};

/* Test i (0 .. PCI_TESTDEV_TESTS - 1). */
const struct pci_testdev_test *pci_testdev_test(u32 i);

struct pci_testdev {
	s32 current;			/* selected test, or PCI_TESTDEV_NONE */
	u32 count;			/* its count register */
};

/* No test selected. */
void pci_testdev_init(struct pci_testdev *d);

/* What a write did, for the caller that backs the doorbells. */
struct pci_testdev_effect {
	s32 stopped, started;		/* tests deselected / selected, or NONE */
};

/* A guest write of len bytes of val at offset off of the BAR of kind: test
 * selection, or the no-eventfd test's count. Fills *e (may be NULL). */
void pci_testdev_write(struct pci_testdev *d, enum pci_testdev_kind kind, u32 off,
		       u32 len, u64 val, struct pci_testdev_effect *e);
/* A guest read of len bytes (1..8) at off: the header's bytes. */
u64 pci_testdev_read(const struct pci_testdev *d, u32 off, u32 len);
/* The offset of the current test in the BAR of kind whose writes the device
 * model must leave to a doorbell (a wildcard or datamatch test of that kind),
 * or -1. */
s64 pci_testdev_doorbell_offset(const struct pci_testdev *d, enum pci_testdev_kind kind);
/* Adds n hits handled by the current test's doorbell to its count. */
void pci_testdev_add_hits(struct pci_testdev *d, u64 n);

#endif /* PCI_PCI_H */
