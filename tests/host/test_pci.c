/* Host tests for pci/: configuration mechanism #1 decoding, the type-0
 * header's write masks and BAR sizing, and the pci-testdev register model
 * (header bytes, selection, the no-eventfd count, the doorbell offsets). */
#include "pci/config.c"
#include "pci/testdev.c"
#include "tests/host/test.h"

static const struct pci_id td_id = {
	.vendor = PCI_VENDOR_ID_REDHAT, .device = PCI_DEVICE_ID_REDHAT_TEST,
	.class_base = 0x00, .class_sub = PCI_CLASS_OTHERS,
	.subsystem_vendor = 0x1af4, .subsystem = 0x1100,
};

static void make_testdev(struct pci_func *f)
{
	pci_func_init(f, &td_id);
	CHECK_EQ(pci_func_add_bar(f, 0, false, PCI_TESTDEV_MEM_SIZE, 0xfebff000), 0);
	CHECK_EQ(pci_func_add_bar(f, 1, true, PCI_TESTDEV_IO_SIZE, 0xc000), 0);
	pci_func_set_command(f, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
}

TEST(test_conf1_target)
{
	u32 dev, fn, reg;

	/* Enabled, bus 0, device 3, function 0, register 0x10. */
	CHECK(pci_conf1_target(0x80001810u, 0xcfc, 4, &dev, &fn, &reg));
	CHECK_EQ(dev, 3);
	CHECK_EQ(fn, 0);
	CHECK_EQ(reg, 0x10);
	/* Byte and word at the data port's other offsets. */
	CHECK(pci_conf1_target(0x80001810u, 0xcfe, 2, &dev, &fn, &reg));
	CHECK_EQ(reg, 0x12);
	CHECK(pci_conf1_target(0x80001810u, 0xcff, 1, &dev, &fn, &reg));
	CHECK_EQ(reg, 0x13);
	/* Crossing the dword: no register. */
	CHECK(!pci_conf1_target(0x80001810u, 0xcfd, 4, &dev, &fn, &reg));
	CHECK(!pci_conf1_target(0x80001810u, 0xcff, 2, &dev, &fn, &reg));
	/* Disabled, another bus. */
	CHECK(!pci_conf1_target(0x00001810u, 0xcfc, 4, &dev, &fn, &reg));
	CHECK(!pci_conf1_target(0x80011810u, 0xcfc, 4, &dev, &fn, &reg));
	/* QEMU's rule: CONFIG_ADDRESS bits 1:0 add to the port's offset. */
	CHECK(pci_conf1_target(0x80000002u, 0xcfc, 2, &dev, &fn, &reg));
	CHECK_EQ(reg, 2);
	CHECK(!pci_conf1_target(0x80000002u, 0xcfc, 4, &dev, &fn, &reg));
	/* Function and the top device number. */
	CHECK(pci_conf1_target(0x8000ff00u, 0xcfc, 4, &dev, &fn, &reg));
	CHECK_EQ(dev, 31);
	CHECK_EQ(fn, 7);
}

TEST(test_header)
{
	struct pci_func f;

	make_testdev(&f);
	CHECK_EQ(pci_cfg_read(&f, PCI_VENDOR_ID, 4), 0x00051b36u);
	CHECK_EQ(pci_cfg_read(&f, PCI_DEVICE_ID, 2), 0x0005);
	CHECK_EQ(pci_cfg_read(&f, PCI_CLASS_DEVICE, 2), 0x00ff);
	CHECK_EQ(pci_cfg_read(&f, PCI_REVISION_ID, 4), 0x00ff0000u);
	CHECK_EQ(pci_cfg_read(&f, PCI_HEADER_TYPE, 1), 0);
	CHECK_EQ(pci_cfg_read(&f, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4u);
	CHECK_EQ(pci_cfg_read(&f, PCI_INTERRUPT_PIN, 1), 0);
	/* Identity is read-only; the interrupt line is not. */
	CHECK_EQ(pci_cfg_write(&f, PCI_VENDOR_ID, 4, 0), 0);
	CHECK_EQ(pci_cfg_read(&f, PCI_VENDOR_ID, 4), 0x00051b36u);
	CHECK_EQ(pci_cfg_write(&f, PCI_INTERRUPT_LINE, 1, 11), 0);
	CHECK_EQ(pci_cfg_read(&f, PCI_INTERRUPT_LINE, 1), 11);
	/* Command: the writable bits, and the change is reported. */
	CHECK_EQ(pci_cfg_write(&f, PCI_COMMAND, 2, 0xffff), PCI_CHANGED_COMMAND);
	CHECK_EQ(pci_func_command(&f), PCI_COMMAND_WRITABLE);
	CHECK_EQ(pci_cfg_write(&f, PCI_COMMAND, 2, 0xffff), 0);	/* no change */
	CHECK_EQ(pci_cfg_read(&f, PCI_STATUS, 2), 0);
	/* Beyond the header: zeros, and past 256 nothing at all. */
	CHECK_EQ(pci_cfg_read(&f, 0x40, 4), 0);
	CHECK_EQ(pci_cfg_read(&f, 0xfe, 4), 0);
	CHECK_EQ(pci_cfg_write(&f, 0xfe, 4, ~0u), 0);
}

TEST(test_bar_sizing)
{
	struct pci_func f;

	make_testdev(&f);
	CHECK_EQ(pci_cfg_read(&f, PCI_BASE_ADDRESS_0, 4), 0xfebff000u);
	CHECK_EQ(pci_cfg_read(&f, PCI_BASE_ADDRESS_0 + 4, 4), 0xc001u);
	/* All ones reads back the size mask and the type bits. */
	CHECK_EQ(pci_cfg_write(&f, PCI_BASE_ADDRESS_0, 4, ~0u), PCI_CHANGED_BAR(0));
	CHECK_EQ(pci_cfg_read(&f, PCI_BASE_ADDRESS_0, 4), 0xfffff000u);
	CHECK_EQ(pci_cfg_write(&f, PCI_BASE_ADDRESS_0 + 4, 4, ~0u), PCI_CHANGED_BAR(1));
	CHECK_EQ(pci_cfg_read(&f, PCI_BASE_ADDRESS_0 + 4, 4), 0xffffff01u);
	CHECK_EQ(~(pci_cfg_read(&f, PCI_BASE_ADDRESS_0 + 4, 4) & PCI_BAR_IO_MASK) + 1, 256);
	for (u32 n = 2; n < PCI_NUM_BARS; n++) {
		CHECK_EQ(pci_cfg_write(&f, PCI_BASE_ADDRESS_0 + 4 * n, 4, ~0u), 0);
		CHECK_EQ(pci_cfg_read(&f, PCI_BASE_ADDRESS_0 + 4 * n, 4), 0);
		CHECK(!pci_bar_decoded(&f, n));
	}
	CHECK_EQ(pci_cfg_write(&f, PCI_ROM_ADDRESS, 4, ~0u), 0);
	CHECK_EQ(pci_cfg_read(&f, PCI_ROM_ADDRESS, 4), 0);
	/* Programming: the low bits are ignored; a byte write moves part. */
	pci_cfg_write(&f, PCI_BASE_ADDRESS_0, 4, 0xe0000fffu);
	CHECK_EQ(pci_bar_addr(&f, 0), 0xe0000000u);
	CHECK_EQ(pci_cfg_write(&f, PCI_BASE_ADDRESS_0 + 3, 1, 0xfe), PCI_CHANGED_BAR(0));
	CHECK_EQ(pci_bar_addr(&f, 0), 0xfe000000u);
	pci_cfg_write(&f, PCI_BASE_ADDRESS_0 + 4, 2, 0xc103);
	CHECK_EQ(pci_bar_addr(&f, 1), 0xffffc100u);	/* the high half stayed ones */
	pci_cfg_write(&f, PCI_BASE_ADDRESS_0 + 4, 4, 0xd000);
	CHECK_EQ(pci_bar_addr(&f, 1), 0xd000);
	CHECK(pci_bar_is_io(&f, 1));
	CHECK(!pci_bar_is_io(&f, 0));
	/* Decode follows the command register's space bits. */
	CHECK(pci_bar_decoded(&f, 0) && pci_bar_decoded(&f, 1));
	pci_cfg_write(&f, PCI_COMMAND, 2, PCI_COMMAND_IO);
	CHECK(!pci_bar_decoded(&f, 0) && pci_bar_decoded(&f, 1));
	pci_cfg_write(&f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(pci_bar_decoded(&f, 0) && !pci_bar_decoded(&f, 1));
	/* Bad BARs. */
	CHECK_EQ(pci_func_add_bar(&f, 6, false, 4096, 0), -EINVAL);
	CHECK_EQ(pci_func_add_bar(&f, 2, false, 3000, 0), -EINVAL);
	CHECK_EQ(pci_func_add_bar(&f, 2, false, 8, 0), -EINVAL);
	CHECK_EQ(pci_func_add_bar(&f, 2, false, 4096, 0x800), -EINVAL);
	CHECK_EQ(pci_func_add_bar(&f, 2, true, 512, 0), -EINVAL);
	CHECK(pci_ranges_overlap(0x1000, 0x1000, 0x1fff, 1));
	CHECK(!pci_ranges_overlap(0x1000, 0x1000, 0x2000, 1));
}

static u32 rd32(const struct pci_testdev *d, u32 off) { return (u32)pci_testdev_read(d, off, 4); }

static void read_name(const struct pci_testdev *d, char *buf, size_t n)
{
	size_t i;
	for (i = 0; i + 1 < n; i++)
		if (!(buf[i] = (char)pci_testdev_read(d, PCI_TESTDEV_HDR_NAME + (u32)i, 1)))
			break;
	buf[i] = 0;
}

TEST(test_testdev_header)
{
	static const char *const want[] = {
		"mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd",
		"portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd",
	};
	struct pci_testdev d;
	struct pci_testdev_effect e;
	char name[40];

	pci_testdev_init(&d);
	CHECK_EQ(pci_testdev_read(&d, 0, 8), 0);	/* nothing selected */
	for (u32 t = 0; t < PCI_TESTDEV_TESTS; t++) {
		enum pci_testdev_kind k = t < 3 ? PCI_TESTDEV_MMIO : PCI_TESTDEV_PIO;
		pci_testdev_write(&d, k, PCI_TESTDEV_HDR_TEST, 1, t % 3, &e);
		CHECK_EQ(e.started, (s32)t);
		CHECK_EQ(d.current, (s32)t);
		CHECK_EQ(pci_testdev_read(&d, PCI_TESTDEV_HDR_TEST, 1), t);
		CHECK_EQ(pci_testdev_read(&d, PCI_TESTDEV_HDR_WIDTH, 1), 1);
		CHECK_EQ(rd32(&d, PCI_TESTDEV_HDR_OFFSET), (k ? 0x80u : 0x800u) + t);
		CHECK_EQ(rd32(&d, PCI_TESTDEV_HDR_DATA), t % 3 == 1 ? 0xce : 0xfa);
		CHECK_EQ(rd32(&d, PCI_TESTDEV_HDR_COUNT), 0);
		read_name(&d, name, sizeof(name));
		CHECK_STR(name, want[t]);
		CHECK_STR(pci_testdev_test(t)->name, want[t]);
		/* Past the name: zeros; a wide read is the bytes, little-endian. */
		CHECK_EQ(pci_testdev_read(&d, PCI_TESTDEV_HDR_NAME + 40, 4), 0);
		CHECK_EQ(pci_testdev_read(&d, PCI_TESTDEV_HDR_OFFSET, 8),
			 ((k ? 0x80u : 0x800u) + t) | (u64)(t % 3 == 1 ? 0xce : 0xfa) << 32);
		s64 db = pci_testdev_doorbell_offset(&d, k);
		CHECK_EQ(db, t % 3 == 0 ? -1 : (s64)pci_testdev_test(t)->offset);
		CHECK_EQ(pci_testdev_doorbell_offset(&d, !k), -1);
	}
	CHECK(pci_testdev_test(6) == NULL);
	/* Test 3 of a kind: none; the previous is stopped. */
	pci_testdev_write(&d, PCI_TESTDEV_PIO, 0, 1, 3, &e);
	CHECK_EQ(e.stopped, 5);
	CHECK_EQ(e.started, PCI_TESTDEV_NONE);
	CHECK_EQ(d.current, PCI_TESTDEV_NONE);
	CHECK_EQ(pci_testdev_read(&d, PCI_TESTDEV_HDR_WIDTH, 1), 0);
}

TEST(test_testdev_count)
{
	struct pci_testdev d;
	struct pci_testdev_effect e;

	pci_testdev_init(&d);
	/* mmio-no-eventfd: a byte of 0xfa at 0x800 counts, nothing else. */
	pci_testdev_write(&d, PCI_TESTDEV_MMIO, 0, 4, 0, &e);	/* dword: byte 0 = 0 */
	CHECK_EQ(e.started, 0);
	for (int i = 0; i < 16; i++)
		pci_testdev_write(&d, PCI_TESTDEV_MMIO, 0x800, 1, 0xfa, NULL);
	CHECK_EQ(rd32(&d, PCI_TESTDEV_HDR_COUNT), 16);
	pci_testdev_write(&d, PCI_TESTDEV_MMIO, 0x800, 1, 0xfb, NULL);
	pci_testdev_write(&d, PCI_TESTDEV_MMIO, 0x801, 1, 0xfa, NULL);
	pci_testdev_write(&d, PCI_TESTDEV_PIO, 0x800, 1, 0xfa, NULL);	/* other BAR */
	CHECK_EQ(rd32(&d, PCI_TESTDEV_HDR_COUNT), 16);
	/* A word write is its bytes: 0xfa at 0x800 counts, 0x00 at 0x801 not. */
	pci_testdev_write(&d, PCI_TESTDEV_MMIO, 0x800, 2, 0x00fa, NULL);
	CHECK_EQ(rd32(&d, PCI_TESTDEV_HDR_COUNT), 17);
	/* Reselecting resets the count. */
	pci_testdev_write(&d, PCI_TESTDEV_MMIO, 0, 1, 0, &e);
	CHECK_EQ(e.stopped, 0);
	CHECK_EQ(e.started, 0);
	CHECK_EQ(rd32(&d, PCI_TESTDEV_HDR_COUNT), 0);
	/* An eventfd test's count comes from its doorbell only. */
	pci_testdev_write(&d, PCI_TESTDEV_PIO, 0, 1, 2, &e);
	CHECK_EQ(e.started, 5);
	pci_testdev_write(&d, PCI_TESTDEV_PIO, 0x85, 1, 0xfa, NULL);
	CHECK_EQ(rd32(&d, PCI_TESTDEV_HDR_COUNT), 0);
	pci_testdev_add_hits(&d, 16);
	CHECK_EQ(rd32(&d, PCI_TESTDEV_HDR_COUNT), 16);
	CHECK_EQ(pci_testdev_read(&d, PCI_TESTDEV_HDR_COUNT + 1, 1), 0);
	pci_testdev_add_hits(&d, 0x100);
	CHECK_EQ(pci_testdev_read(&d, PCI_TESTDEV_HDR_COUNT + 1, 1), 1);
}

int main(void)
{
	RUN(test_conf1_target);
	RUN(test_header);
	RUN(test_bar_sizing);
	RUN(test_testdev_header);
	RUN(test_testdev_count);
	return TEST_SUMMARY();
}
