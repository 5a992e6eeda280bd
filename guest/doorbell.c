/*
 * guest/doorbell.c - doorbells from the guest's side: every ioeventfd rule of
 * CONTRACTS.md 3 by its errno, and the end-to-end count (N writes, then
 * EVENT_READ returns N) for PIO doorbells of each size, the hypercall doorbell
 * and MMIO doorbells, datamatch, size matching, deassign.
 *
 * Command line: mem=MiB (the VM's RAM, default 64) for the -EFAULT checks;
 * flood=N runs only the flood: N OUTs to one PIO doorbell (port 0x680,
 * 4 bytes, event 30), then EVENT_READ must return exactly N (printed as
 * "doorbell: flood N sent, N handled"); with noreg=1 the guest does not
 * register that doorbell itself (the hypervisor's ioeventfd= did).
 * enospc=1 fills the VM with 65,536 doorbells and checks the next is -ENOSPC.
 */
#include "lib/guest.h"

#define F_DATAMATCH    ((u32)DOORBELL_IOEVENTFD_DATAMATCH)
#define F_PIO          ((u32)DOORBELL_IOEVENTFD_PIO)
#define F_DEASSIGN     ((u32)DOORBELL_IOEVENTFD_DEASSIGN)

#define WINDOW         0xd0000000ull		/* default doorbell window */
#define WINDOW_SIZE    0x10000000ull
#define ONES32         0xffffffffu

static struct doorbell_ioeventfd req __attribute__((aligned(64)));
static u64 ram_mib = 64;

static long ioeventfd(u64 addr, u32 len, s32 event, u32 flags, u64 datamatch)
{
	memset(&req, 0, sizeof(req));
	req.addr = addr;
	req.len = len;
	req.event = event;
	req.flags = flags;
	req.datamatch = datamatch;
	return hypercall(HC_IOEVENTFD, (unsigned long)(uintptr_t)&req, 0, 0, 0);
}

static long event_read(u32 id)
{
	return hypercall(HC_EVENT_READ, id, 0, 0, 0);
}

static void test_rules_einval(void)
{
	CHECK_EQ(ioeventfd(0x700, 4, 1, F_PIO | 8, 0), -EINVAL);	/* unknown flag */
	CHECK_EQ(ioeventfd(0x700, 3, 1, F_PIO, 0), -EINVAL);		/* len 3 */
	CHECK_EQ(ioeventfd(WINDOW, 16, 1, 0, 0), -EINVAL);		/* len 16 */
	CHECK_EQ(ioeventfd(~0ull - 1, 4, 1, 0, 0), -EINVAL);		/* wraps */
	CHECK_EQ(ioeventfd(0x700, 0, 1, F_PIO, 0), -EINVAL);		/* len 0 PIO */
	CHECK_EQ(ioeventfd(WINDOW, 0, 1, F_DATAMATCH, 7), -EINVAL);	/* len 0 + DM */
}

static void test_rules_ebadf(void)
{
	CHECK_EQ(ioeventfd(0x700, 4, 1024, F_PIO, 0), -EBADF);
	CHECK_EQ(ioeventfd(0x700, 4, -1, F_PIO, 0), -EBADF);
	CHECK_EQ(event_read(1024), -EBADF);
	CHECK_EQ(hypercall(HC_NOTIFY, 1024, 0, 0, 0), -EBADF);
}

static void test_rules_eperm(void)
{
	CHECK_EQ(ioeventfd(0xc0000000ull, 4, 1, 0, 0), -EPERM);	/* outside window */
	CHECK_EQ(ioeventfd(WINDOW - 4, 4, 1, 0, 0), -EPERM);
	CHECK_EQ(ioeventfd(WINDOW + WINDOW_SIZE - 2, 4, 1, 0, 0), -EPERM); /* straddles end */
	CHECK_EQ(ioeventfd(0x3f8, 1, 1, F_PIO, 0), -EPERM);		/* COM1 */
	CHECK_EQ(ioeventfd(0xf4, 4, 1, F_PIO, 0), -EPERM);		/* exit port */
	CHECK_EQ(ioeventfd(0xe2, 2, 1, F_PIO, 0), -EPERM);		/* latch */
	CHECK_EQ(ioeventfd(0x21, 1, 1, F_PIO, 0), -EPERM);		/* PIC */
	CHECK_EQ(ioeventfd(0xfffe, 4, 1, F_PIO, 0), -EPERM);		/* past 0xffff */
}

static void test_rules_eexist(void)
{
	CHECK_EQ(ioeventfd(0x700, 4, 1, F_PIO, 0), 0);
	CHECK_EQ(ioeventfd(0x700, 4, 2, F_PIO, 0), -EEXIST);		/* same, wildcard */
	CHECK_EQ(ioeventfd(0x700, 4, 2, F_PIO | F_DATAMATCH, 5), -EEXIST);
	CHECK_EQ(ioeventfd(0x700, 2, 2, F_PIO, 0), 0);			/* other len */
	CHECK_EQ(ioeventfd(0x710, 1, 3, F_PIO | F_DATAMATCH, 1), 0);
	CHECK_EQ(ioeventfd(0x710, 1, 3, F_PIO | F_DATAMATCH, 2), 0);	/* other value */
	CHECK_EQ(ioeventfd(0x710, 1, 4, F_PIO | F_DATAMATCH, 1), -EEXIST);
	CHECK_EQ(ioeventfd(WINDOW + 0x100, 0, 5, 0, 0), 0);		/* len 0 MMIO */
	CHECK_EQ(ioeventfd(WINDOW + 0x100, 4, 6, 0, 0), -EEXIST);	/* vs len 0 */
	CHECK_EQ(ioeventfd(WINDOW + 0x100, 4, 6, F_PIO, 0), -EPERM);	/* PIO: port too big */
	/* clean up: deassign matches exactly */
	CHECK_EQ(ioeventfd(0x700, 4, 1, F_PIO | F_DEASSIGN, 0), 0);
	CHECK_EQ(ioeventfd(0x700, 2, 2, F_PIO | F_DEASSIGN, 0), 0);
	CHECK_EQ(ioeventfd(0x710, 1, 3, F_PIO | F_DATAMATCH | F_DEASSIGN, 1), 0);
	CHECK_EQ(ioeventfd(0x710, 1, 3, F_PIO | F_DATAMATCH | F_DEASSIGN, 2), 0);
	CHECK_EQ(ioeventfd(WINDOW + 0x100, 0, 5, F_DEASSIGN, 0), 0);
}

static void test_rules_enoent(void)
{
	CHECK_EQ(ioeventfd(0x720, 4, 7, F_PIO | F_DEASSIGN, 0), -ENOENT);
	CHECK_EQ(ioeventfd(0x720, 4, 7, F_PIO | F_DATAMATCH, 9), 0);
	CHECK_EQ(ioeventfd(0x720, 4, 8, F_PIO | F_DATAMATCH | F_DEASSIGN, 9), -ENOENT);
	CHECK_EQ(ioeventfd(0x720, 2, 7, F_PIO | F_DATAMATCH | F_DEASSIGN, 9), -ENOENT);
	CHECK_EQ(ioeventfd(0x720, 4, 7, F_PIO | F_DATAMATCH | F_DEASSIGN, 10), -ENOENT);
	CHECK_EQ(ioeventfd(0x720, 4, 7, F_PIO | F_DEASSIGN, 0), -ENOENT);	/* wildcard-ness */
	CHECK_EQ(ioeventfd(0x722, 4, 7, F_PIO | F_DATAMATCH | F_DEASSIGN, 9), -ENOENT);
	CHECK_EQ(ioeventfd(0x720, 4, 7, F_PIO | F_DATAMATCH | F_DEASSIGN, 9), 0);
	CHECK_EQ(ioeventfd(0x720, 4, 7, F_PIO | F_DATAMATCH | F_DEASSIGN, 9), -ENOENT);
}

static void test_rules_efault_enosys(void)
{
	u64 ram = ram_mib << 20;
	CHECK_EQ(hypercall(HC_IOEVENTFD, (unsigned long)ram, 0, 0, 0), -EFAULT);
	CHECK_EQ(hypercall(HC_IOEVENTFD, (unsigned long)(ram - 32), 0, 0, 0), -EFAULT);
	CHECK_EQ(hypercall(HC_IOEVENTFD, 0xfee00000ul, 0, 0, 0), -EFAULT);
	CHECK_EQ(hypercall(99, 0, 0, 0, 0), -ENOSYS);
}

/* 16 writes of each size to a PIO doorbell of that size: EVENT_READ 16.
 * Ports 0x700-0x713: free (0x600-0x63f is the ACPI PM block). */
static void test_pio_16_each_size(void)
{
	CHECK_EQ(ioeventfd(0x700, 1, 10, F_PIO, 0), 0);
	CHECK_EQ(ioeventfd(0x708, 2, 11, F_PIO, 0), 0);
	CHECK_EQ(ioeventfd(0x710, 4, 12, F_PIO, 0), 0);
	for (int i = 0; i < 16; i++) {
		outb((u8)i, 0x700);
		outw((u16)i, 0x708);
		outl((u32)i, 0x710);
	}
	CHECK_EQ(event_read(10), 16);
	CHECK_EQ(event_read(11), 16);
	CHECK_EQ(event_read(12), 16);
	CHECK_EQ(event_read(10), 0);		/* consumed */
	/* Another size at the same port is not this doorbell: no signal. */
	outw(1, 0x700);
	outb(1, 0x710);
	CHECK_EQ(event_read(10), 0);
	CHECK_EQ(event_read(12), 0);
	/* A read is never a doorbell: emulated as usual (all ones). */
	CHECK_EQ(inb(0x700), 0xff);
	CHECK_EQ(event_read(10), 0);
}

static void test_notify_16(void)
{
	for (int i = 0; i < 16; i++)
		CHECK_EQ(hypercall(HC_NOTIFY, 20, 0, 0, 0), 0);
	CHECK_EQ(event_read(20), 16);
	CHECK_EQ(event_read(20), 0);
}

static void test_datamatch(void)
{
	CHECK_EQ(ioeventfd(0x640, 1, 21, F_PIO | F_DATAMATCH, 0x5a), 0);
	for (int i = 0; i < 3; i++)
		outb(0x5a, 0x640);
	outb(0x11, 0x640);
	outb(0x5b, 0x640);
	CHECK_EQ(event_read(21), 3);
	CHECK_EQ(ioeventfd(0x648, 2, 22, F_PIO | F_DATAMATCH, 0x1234), 0);
	outw(0x1234, 0x648);
	outw(0x1234, 0x648);
	outw(0x1235, 0x648);
	CHECK_EQ(event_read(22), 2);
}

static void test_deassign_stops_signals(void)
{
	CHECK_EQ(ioeventfd(0x650, 4, 23, F_PIO, 0), 0);
	for (int i = 0; i < 4; i++)
		outl(7, 0x650);
	CHECK_EQ(event_read(23), 4);
	CHECK_EQ(ioeventfd(0x650, 4, 23, F_PIO | F_DEASSIGN, 0), 0);
	for (int i = 0; i < 16; i++)
		outl(7, 0x650);		/* now unassigned: dropped */
	CHECK_EQ(event_read(23), 0);
}

static void test_mmio_doorbells(void)
{
	uintptr_t exact = (uintptr_t)(WINDOW + 0x2000), wild = (uintptr_t)(WINDOW + 0x3000);

	CHECK_EQ(ioeventfd(exact, 4, 24, 0, 0), 0);
	for (int i = 0; i < 16; i++)
		mmio_write32(exact, (u32)i);
	CHECK_EQ(event_read(24), 16);
	CHECK_EQ(mmio_read32(exact), ONES32);	/* a read signals nothing */
	mmio_write16(exact, 1);			/* another size: no hit */
	CHECK_EQ(event_read(24), 0);
	/* len 0: any size at exactly that address (the fast-MMIO kind). */
	CHECK_EQ(ioeventfd(wild, 0, 25, 0, 0), 0);
	mmio_write8(wild, 1);
	mmio_write16(wild, 2);
	mmio_write32(wild, 3);
	mmio_write32(wild + 4, 4);		/* other address: no hit */
	CHECK_EQ(event_read(25), 3);
	CHECK_EQ(ioeventfd(wild, 0, 25, F_DEASSIGN, 0), 0);
	mmio_write32(wild, 3);
	CHECK_EQ(event_read(25), 0);
}

static const struct guest_test tests[] = {
	{ "rules_einval",            test_rules_einval,            GUEST_TEST_NEEDS_DOORBELL },
	{ "rules_ebadf",             test_rules_ebadf,             GUEST_TEST_NEEDS_DOORBELL },
	{ "rules_eperm",             test_rules_eperm,             GUEST_TEST_NEEDS_DOORBELL },
	{ "rules_eexist",            test_rules_eexist,            GUEST_TEST_NEEDS_DOORBELL },
	{ "rules_enoent",            test_rules_enoent,            GUEST_TEST_NEEDS_DOORBELL },
	{ "rules_efault_enosys",     test_rules_efault_enosys,     GUEST_TEST_NEEDS_DOORBELL },
	{ "pio_16_each_size",        test_pio_16_each_size,        GUEST_TEST_NEEDS_DOORBELL },
	{ "notify_16",               test_notify_16,               GUEST_TEST_NEEDS_DOORBELL },
	{ "datamatch",               test_datamatch,               GUEST_TEST_NEEDS_DOORBELL },
	{ "deassign_stops_signals",  test_deassign_stops_signals,  GUEST_TEST_NEEDS_DOORBELL },
	{ "mmio_doorbells",          test_mmio_doorbells,          GUEST_TEST_NEEDS_DOORBELL },
};

/* flood=N: N doorbells as fast as the guest can ring them, then one read. */
static int flood(u64 n, bool reg)
{
	if (reg && ioeventfd(0x680, 4, 30, F_PIO, 0)) {
		printf("doorbell: flood: could not register the doorbell\n");
		return 1;
	}
	u64 t0 = rdtsc();
	for (u64 i = 0; i < n; i++)
		outl((u32)i, 0x680);
	u64 t1 = rdtsc();
	long got = event_read(30);
	printf("doorbell: flood %u sent, %ld handled, %u cycles/doorbell in the guest\n",
	       (u32)n, got, n ? (u32)((t1 - t0) / n) : 0);
	return got == (long)n ? 0 : 1;
}

/* enospc=1: a VM holds exactly 65,536 doorbells; one more is -ENOSPC, and a
 * deassign makes room again. MMIO doorbells 8 bytes apart in the window. */
static int fill_to_enospc(u32 limit)
{
	long r = 0;
	u32 i;
	u64 t0 = rdtsc();
	for (i = 0; i < limit && !r; i++)
		r = ioeventfd(WINDOW + (u64)i * 8, 4, (s32)(i % 1024), 0, 0);
	u64 t1 = rdtsc();
	long extra = ioeventfd(WINDOW + 65536ull * 8, 4, 1, 0, 0);
	long del = ioeventfd(WINDOW, 4, 0, F_DEASSIGN, 0);
	long again = ioeventfd(WINDOW + 65536ull * 8, 4, 1, 0, 0);
	printf("doorbell: %u registered (last result %ld), one more: %ld, after a deassign: %ld "
	       "(%u cycles per registration)\n", r ? i - 1 : i, r, extra, again,
	       (u32)((t1 - t0) / limit));
	return (!r && i == 65536 && extra == -ENOSPC && del == 0 && again == 0) ? 0 : 1;
}

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	u64 n, noreg = 0, enospc = 0;
	(void)magic;
	mb_cmdline_value(mbi, "mem", &ram_mib);
	mb_cmdline_value(mbi, "noreg", &noreg);
	if (mb_cmdline_value(mbi, "flood", &n))
		return flood(n, !noreg);
	if (mb_cmdline_value(mbi, "enospc", &enospc) && enospc)
		return fill_to_enospc(enospc == 1 ? 65536 : (u32)enospc);
	guest_run_tests(tests, ARRAY_SIZE(tests));
}
