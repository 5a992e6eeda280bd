/*
 * guest/pci.c - PCI bus 0 and QEMU's pci-testdev, read from the guest as
 * kvm-unit-tests reads them (lib/pci.c, lib/pci-testdev.c): configuration
 * mechanism #1 at every width, the bus scan (a host bridge 8086:1237 at
 * 00:00.0 and 1b36:0005), BAR sizing by all ones, the six tests (select,
 * read the name, write the data 16 times, read the count back: exactly 16),
 * datamatch misses, BARs moved by the guest and decode switched off, and the
 * doorbell policy around the device (its ports and its hypervisor event ids
 * are not the guest's).
 *
 * At the end it prints "pci: expect fast-MMIO N, PIO M": the doorbell writes
 * it made that the hypervisor's fast paths must have taken (its own exit
 * counter line must show the same figures; tests/boot/pci.cases).
 */
#include "lib/guest.h"

#define CONF_ADDR      0xcf8
#define CONF_DATA      0xcfc
#define CONF_ENABLE    0x80000000u
#define VENDOR_ID      0x00
#define DEVICE_ID      0x02
#define COMMAND        0x04
#define REVISION       0x08
#define CLASS_SUB      0x0a
#define CLASS_BASE     0x0b
#define HEADER_TYPE    0x0e
#define BAR0           0x10
#define ROM            0x30
#define CMD_IO         0x1u
#define CMD_MEM        0x2u
#define BAR_IO         0x1u

#define T_TEST         0x00
#define T_WIDTH        0x01
#define T_OFFSET       0x04
#define T_DATA         0x08
#define T_COUNT        0x0c
#define T_NAME         0x10
#define NR_WRITES      16

#define U(x)           ((unsigned long long)(x))

static u32 tdev = 32;			/* the testdev's device number */
static u32 bar0, bar1;			/* as found */
static u32 want_fast_mmio, want_pio;	/* doorbell writes on the fast paths */

static u32 cfg_addr(u32 dev, u32 reg) { return CONF_ENABLE | dev << 11 | (reg & 0xfc); }

static u32 cfg_read32(u32 dev, u32 reg) { outl(cfg_addr(dev, reg), CONF_ADDR); return inl(CONF_DATA); }
static u16 cfg_read16(u32 dev, u32 reg) { outl(cfg_addr(dev, reg), CONF_ADDR); return inw((u16)(CONF_DATA + (reg & 3))); }
static u8 cfg_read8(u32 dev, u32 reg) { outl(cfg_addr(dev, reg), CONF_ADDR); return inb((u16)(CONF_DATA + (reg & 3))); }
static void cfg_write32(u32 dev, u32 reg, u32 v) { outl(cfg_addr(dev, reg), CONF_ADDR); outl(v, CONF_DATA); }
static void cfg_write16(u32 dev, u32 reg, u16 v) { outl(cfg_addr(dev, reg), CONF_ADDR); outw(v, (u16)(CONF_DATA + (reg & 3))); }

/* kvm-unit-tests' pci_bar_size(): all ones, read back, restore. */
static u32 bar_size(u32 dev, u32 n)
{
	u32 reg = BAR0 + 4 * n, old = cfg_read32(dev, reg), v;

	cfg_write32(dev, reg, ~0u);
	v = cfg_read32(dev, reg);
	cfg_write32(dev, reg, old);
	if (!v)
		return 0;
	return ~(v & ((v & BAR_IO) ? ~0x3u : ~0xfu)) + 1;
}

/* ---- the test header, through either BAR ------------------------------- */

struct ops {
	bool io;
	u32 base;
};

static u8 rd8(const struct ops *o, u32 off) { return o->io ? inb((u16)(o->base + off)) : mmio_read8(o->base + off); }
static u32 rd32(const struct ops *o, u32 off) { return o->io ? inl((u16)(o->base + off)) : mmio_read32(o->base + off); }
static void wr8(const struct ops *o, u32 off, u8 v)
{
	if (o->io)
		outb(v, (u16)(o->base + off));
	else
		mmio_write8(o->base + off, v);
}

static void read_name(const struct ops *o, char *buf, u32 size)
{
	u32 i;
	for (i = 0; i + 1 < size; i++) {
		buf[i] = (char)rd8(o, T_NAME + i);
		if (!buf[i])
			break;
	}
	buf[i] = '\0';
}

static bool streq(const char *a, const char *b)
{
	return strlen(a) == strlen(b) && memcmp(a, b, strlen(a)) == 0;
}

static const char *const names[2][3] = {
	{ "mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd" },
	{ "portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd" },
};

/* pci_testdev_one(), but the count must be exactly 16 (kvm-unit-tests also
 * accepts 0, what QEMU's eventfd tests report). */
static void run_one(const struct ops *o, u32 nr)
{
	char name[40];

	wr8(o, T_TEST, (u8)nr);
	CHECK_EQ(rd32(o, T_COUNT), 0);
	CHECK_EQ(rd8(o, T_WIDTH), 1);
	u32 data = rd32(o, T_DATA), off = rd32(o, T_OFFSET);
	CHECK_EQ(data, nr == 1 ? 0xce : 0xfa);
	CHECK_EQ(off, (o->io ? 0x80u + 3 : 0x800u) + nr);
	read_name(o, name, sizeof(name));
	if (!streq(name, names[o->io][nr]))
		guest_check_failed(__LINE__, "test %u is named '%s', not '%s'", nr, name,
				   names[o->io][nr]);
	for (int i = 0; i < NR_WRITES; i++)
		wr8(o, off, (u8)data);
	if (nr == 1 && !o->io)
		want_fast_mmio += NR_WRITES;	/* the length-0 doorbell */
	else if (nr != 0 && o->io)
		want_pio += NR_WRITES;		/* wildcard and datamatch */
	u32 count = rd32(o, T_COUNT);
	if (count != NR_WRITES)
		guest_check_failed(__LINE__, "%s: count %u after %u writes", name, count, NR_WRITES);
	printf("pci-testdev %3s: %s count %u\n", o->io ? "io" : "mem", name, count);
}

static void run_all(const struct ops *o)
{
	for (u32 nr = 0; nr < 3; nr++)
		run_one(o, nr);
	/* Test 3 does not exist: the header reads 0 (width 0 ends the scan). */
	wr8(o, T_TEST, 3);
	CHECK_EQ(rd8(o, T_WIDTH), 0);
	CHECK_EQ(rd32(o, T_OFFSET), 0);
}

/* ---- tests --------------------------------------------------------------- */

static void test_enumerate(void)
{
	u32 found = 0;

	for (u32 dev = 0; dev < 32; dev++) {
		u16 vendor = cfg_read16(dev, VENDOR_ID);
		if (vendor == 0xffff)
			continue;
		found++;
		u16 device = cfg_read16(dev, DEVICE_ID);
		printf("pci: 00:%02x.0 %04x:%04x class %02x subclass %02x header %02x\n", dev,
		       vendor, device, cfg_read8(dev, CLASS_BASE), cfg_read8(dev, CLASS_SUB),
		       cfg_read8(dev, HEADER_TYPE));
		if (vendor == 0x1b36 && device == 0x0005)
			tdev = dev;
	}
	CHECK_EQ(found, 2);
	CHECK_EQ(cfg_read32(0, VENDOR_ID), 0x12378086u);
	CHECK_EQ(cfg_read8(0, CLASS_BASE), 0x06);
	CHECK_EQ(cfg_read8(0, CLASS_SUB), 0x00);
	CHECK(tdev < 32);
	if (tdev >= 32)
		return;
	CHECK_EQ(cfg_read8(tdev, CLASS_BASE), 0x00);
	CHECK_EQ(cfg_read8(tdev, CLASS_SUB), 0xff);
	CHECK_EQ(cfg_read8(tdev, HEADER_TYPE), 0x00);
	/* Functions 1-7 and bus 1 hold nothing. */
	outl(CONF_ENABLE | tdev << 11 | 1 << 8, CONF_ADDR);
	CHECK_EQ(inl(CONF_DATA), 0xffffffffu);
	outl(CONF_ENABLE | 1 << 16, CONF_ADDR);
	CHECK_EQ(inl(CONF_DATA), 0xffffffffu);
}

static void test_conf1(void)
{
	/* CONFIG_ADDRESS reads back without its reserved bits 30:24. */
	outl(0xfff0ff04u, CONF_ADDR);
	CHECK_EQ(inl(CONF_ADDR), 0x80f0ff04u);
	/* Disabled: the data port is no register. */
	outl(0x00000000u, CONF_ADDR);
	CHECK_EQ(inl(CONF_DATA), 0xffffffffu);
	/* Every width at every offset of the dword. */
	outl(CONF_ENABLE, CONF_ADDR);
	CHECK_EQ(inw(CONF_DATA + 2), 0x1237);
	CHECK_EQ(inb(CONF_DATA + 1), 0x80);
	CHECK_EQ(inb(CONF_DATA + 3), 0x12);
	CHECK_EQ(inw(CONF_DATA + 1), 0x3780);
	/* Old kvm-unit-tests: the register's low bits in CONFIG_ADDRESS. */
	outl(CONF_ENABLE | 2, CONF_ADDR);
	CHECK_EQ(inw(CONF_DATA), 0x1237);
	/* Read-only identity. */
	cfg_write32(0, VENDOR_ID, 0);
	CHECK_EQ(cfg_read32(0, VENDOR_ID), 0x12378086u);
}

static void test_bars(void)
{
	if (tdev >= 32)
		return guest_skip("no pci-testdev");
	bar0 = cfg_read32(tdev, BAR0);
	bar1 = cfg_read32(tdev, BAR0 + 4);
	printf("pci: BAR0 0x%x size %u, BAR1 0x%x size %u, command 0x%x\n", bar0,
	       bar_size(tdev, 0), bar1, bar_size(tdev, 1), cfg_read16(tdev, COMMAND));
	CHECK_EQ(bar0 & 0xf, 0);		/* memory, 32-bit, not prefetchable */
	CHECK_EQ(bar1 & 3, BAR_IO);
	bar1 &= ~3u;
	CHECK(bar0 != 0 && bar1 != 0);
	CHECK_EQ(bar_size(tdev, 0), 4096);
	CHECK_EQ(bar_size(tdev, 1), 256);
	for (u32 n = 2; n < 6; n++)
		CHECK_EQ(bar_size(tdev, n), 0);
	cfg_write32(tdev, ROM, ~0u);
	CHECK_EQ(cfg_read32(tdev, ROM), 0);
	CHECK_EQ(cfg_read32(tdev, BAR0), bar0);	/* restored */
	CHECK_EQ(cfg_read16(tdev, COMMAND) & (CMD_IO | CMD_MEM), CMD_IO | CMD_MEM);
	/* The BAR keeps its low bits and the alignment. */
	cfg_write32(tdev, BAR0, bar0 | 0x7ff);
	CHECK_EQ(cfg_read32(tdev, BAR0), bar0);
}

static void test_testdev(void)
{
	struct ops mem = { false, bar0 }, io = { true, bar1 };

	if (!bar0 || !bar1)
		return guest_skip("no BARs");
	run_all(&mem);
	run_all(&io);
}

/* Writes the datamatch doorbells do not take count nothing; each hit does. */
static void test_datamatch_misses(void)
{
	for (int k = 0; k < 2; k++) {
		struct ops o = { k == 1, k ? bar1 : bar0 };
		if (!o.base)
			return guest_skip("no BARs");
		wr8(&o, T_TEST, 2);
		u32 off = rd32(&o, T_OFFSET);
		for (int i = 0; i < 5; i++)
			wr8(&o, off, 0x11);		/* wrong value */
		for (int i = 0; i < 3; i++)
			wr8(&o, off, 0xfa);
		if (o.io) {
			outw(0x00fa, (u16)(o.base + off));	/* wrong size */
			want_pio += 3;
		}
		CHECK_EQ(rd32(&o, T_COUNT), 3);
		/* Selecting the test again starts from 0. */
		wr8(&o, T_TEST, 2);
		CHECK_EQ(rd32(&o, T_COUNT), 0);
		/* no-eventfd counts only the data, byte-wide. */
		wr8(&o, T_TEST, 0);
		off = rd32(&o, T_OFFSET);
		wr8(&o, off, 0x11);
		wr8(&o, off, 0xfa);
		wr8(&o, off + 1, 0xfa);
		CHECK_EQ(rd32(&o, T_COUNT), 1);
	}
	/* The MMIO wildcard has length 0: any width hits. */
	struct ops m = { false, bar0 };
	wr8(&m, T_TEST, 1);
	mmio_write32(bar0 + 0x801, 0x12345678);
	mmio_write16(bar0 + 0x801, 0x1234);
	want_fast_mmio += 2;
	CHECK_EQ(rd32(&m, T_COUNT), 2);
	wr8(&m, T_TEST, 0xff);
}

/* The guest moves both BARs; the tests follow; decode off leaves nothing. */
static void test_reprogram(void)
{
	u32 nb0 = bar0 - 0x1000, nb1 = bar1 + 0x100;
	struct ops mem = { false, nb0 }, io = { true, nb1 };

	if (!bar0 || !bar1)
		return guest_skip("no BARs");
	/* Select the wildcard test first: its doorbell must move with the BAR. */
	wr8(&(struct ops){ false, bar0 }, T_TEST, 1);
	cfg_write32(tdev, BAR0, nb0);
	cfg_write32(tdev, BAR0 + 4, nb1);
	CHECK_EQ(cfg_read32(tdev, BAR0), nb0);
	CHECK_EQ(cfg_read32(tdev, BAR0 + 4), nb1 | BAR_IO);
	CHECK_EQ(mmio_read32(bar0 + T_OFFSET), 0xffffffffu);	/* nothing there now */
	CHECK_EQ(inl((u16)(bar1 + T_OFFSET)), 0xffffffffu);
	CHECK_EQ(mmio_read32(nb0 + T_OFFSET), 0x801);	/* still selected */
	for (int i = 0; i < 4; i++)
		mmio_write8(nb0 + 0x801, 0);
	want_fast_mmio += 4;
	CHECK_EQ(mmio_read32(nb0 + T_COUNT), 4);
	run_all(&mem);
	run_all(&io);

	/* Memory decode off: the BAR reads as nothing; on again: back. */
	u16 cmd = cfg_read16(tdev, COMMAND);
	cfg_write16(tdev, COMMAND, (u16)(cmd & ~CMD_MEM));
	CHECK_EQ(mmio_read32(nb0 + T_OFFSET), 0xffffffffu);
	CHECK_EQ(inb((u16)(nb1 + T_WIDTH)), 0);		/* I/O still decoded */
	cfg_write16(tdev, COMMAND, cmd);
	wr8(&mem, T_TEST, 0);
	CHECK_EQ(mmio_read32(nb0 + T_OFFSET), 0x800);

	/* A BAR over guest RAM is not decoded (the hypervisor says so). */
	cfg_write32(tdev, BAR0, 0x00200000);
	CHECK_EQ(cfg_read32(tdev, BAR0), 0x00200000);
	cfg_write32(tdev, BAR0, bar0);
	cfg_write32(tdev, BAR0 + 4, bar1);
	CHECK_EQ(mmio_read32(bar0 + T_OFFSET), 0x800);
	CHECK_EQ(inl((u16)(bar1 + T_OFFSET)), 0x800);
	wr8(&(struct ops){ false, bar0 }, T_TEST, 0xff);
}

/* The device's ports and event ids are not the guest's to use. */
static void test_policy(void)
{
	static struct doorbell_ioeventfd a;

	memset(&a, 0, sizeof(a));
	a.addr = bar1 + 0x84;
	a.len = 1;
	a.flags = DOORBELL_IOEVENTFD_PIO;
	CHECK_EQ(hypercall(HC_IOEVENTFD, (unsigned long)&a, 0, 0, 0), -EPERM);
	a.addr = CONF_ADDR;
	CHECK_EQ(hypercall(HC_IOEVENTFD, (unsigned long)&a, 0, 0, 0), -EPERM);
	a.addr = bar0 + 0x801;
	a.len = 0;
	a.flags = 0;
	CHECK_EQ(hypercall(HC_IOEVENTFD, (unsigned long)&a, 0, 0, 0), -EPERM);
	a.addr = 0xd0000000;
	a.event = 1024;				/* the hypervisor's first id */
	CHECK_EQ(hypercall(HC_IOEVENTFD, (unsigned long)&a, 0, 0, 0), -EBADF);
	CHECK_EQ(hypercall(HC_EVENT_READ, 1024, 0, 0, 0), -EBADF);
	CHECK_EQ(hypercall(HC_NOTIFY, 1024, 0, 0, 0), -EBADF);
	/* A guest doorbell on event 1 and the testdev's own count apart. */
	a.event = 1;
	CHECK_EQ(hypercall(HC_IOEVENTFD, (unsigned long)&a, 0, 0, 0), 0);
	struct ops m = { false, bar0 };
	wr8(&m, T_TEST, 1);
	for (int i = 0; i < 3; i++) {
		mmio_write8(0xd0000000, 1);
		mmio_write8(bar0 + 0x801, 1);
	}
	want_fast_mmio += 6;
	CHECK_EQ(rd32(&m, T_COUNT), 3);
	CHECK_EQ(hypercall(HC_EVENT_READ, 1, 0, 0, 0), 3);
	a.flags = DOORBELL_IOEVENTFD_DEASSIGN;
	CHECK_EQ(hypercall(HC_IOEVENTFD, (unsigned long)&a, 0, 0, 0), 0);
	wr8(&m, T_TEST, 0xff);
}

/* Last: what the hypervisor's exit counters must show. */
static void test_expect(void)
{
	printf("pci: expect fast-MMIO %u, PIO %u\n", want_fast_mmio, want_pio);
}

static const struct guest_test tests[] = {
	{ "pci_enumerate",         test_enumerate,        GUEST_TEST_NEEDS_DOORBELL },
	{ "pci_conf1",             test_conf1,            GUEST_TEST_NEEDS_DOORBELL },
	{ "pci_bars",              test_bars,             GUEST_TEST_NEEDS_DOORBELL },
	{ "pci_testdev",           test_testdev,          GUEST_TEST_NEEDS_DOORBELL },
	{ "pci_datamatch_misses",  test_datamatch_misses, GUEST_TEST_NEEDS_DOORBELL },
	{ "pci_reprogram",         test_reprogram,        GUEST_TEST_NEEDS_DOORBELL },
	{ "pci_policy",            test_policy,           GUEST_TEST_NEEDS_DOORBELL },
	{ "pci_expect",            test_expect,           GUEST_TEST_NEEDS_DOORBELL },
};

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	guest_run_tests(tests, ARRAY_SIZE(tests));
}
