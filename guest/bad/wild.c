/*
 * guest/bad/wild.c - a guest that writes where it should not, for the
 * hypervisor's containment test. It fills its own RAM from 2 MiB on (where a
 * hypervisor loaded at 1-2 MiB would sit if guest-physical were
 * host-physical), then writes outside its RAM: just past it, at 0x7ff00000,
 * 0xe0000000, the IOAPIC and the reset vector. CONTRACTS.md section 2: those
 * writes are dropped and reads there return all ones. It then checks its RAM
 * still holds what it wrote (no write aliased into it) and exits 0 if it
 * survived with everything as promised.
 *
 * Command line: `mem=MiB` (default 64), the guest RAM size.
 */
#include "lib/guest.h"

#define DEFAULT_RAM_MIB     64
#define FILL_START          (2 * MiB)
#define FILL_STRIDE         4096        /* one dword per page */
#define FILL_XOR            0xa5a5a5a5u

static uintptr_t ram_end;

/* Beyond guest RAM; ram_end is added at run time. 0x100000000 would be the
 * obvious next target, but a 32-bit guest cannot address it. */
static const uintptr_t wild_addrs[] = {
	0x7ff00000, 0xe0000000, 0xfec00000, 0xfffffff0,
};

static u32 fill_value(uintptr_t addr)
{
	return (u32)addr ^ FILL_XOR;
}

static void test_fill_own_ram(void)
{
	for (uintptr_t a = FILL_START; a < ram_end; a += FILL_STRIDE)
		mmio_write32(a, fill_value(a));
	for (uintptr_t a = FILL_START; a < ram_end; a += FILL_STRIDE)
		if (mmio_read32(a) != fill_value(a)) {
			guest_check_failed(__LINE__, "RAM at 0x%lx reads 0x%x",
					   (unsigned long)a, mmio_read32(a));
			return;
		}
}

static void wild_write(uintptr_t addr)
{
	printf("  writing 0x%08lx\n", (unsigned long)addr);
	mmio_write32(addr, 0x5a5a5a5a);
}

/* Passes by coming back: the failure this looks for is a dead machine. */
static void test_wild_writes(void)
{
	wild_write(ram_end);
	/* A whole page past the end: many exits in a row. */
	for (uintptr_t a = ram_end; a < ram_end + 4096; a += 4)
		mmio_write32(a, (u32)a);
	for (size_t i = 0; i < ARRAY_SIZE(wild_addrs); i++)
		wild_write(wild_addrs[i]);
}

/* QEMU TCG reads 0 where nothing is, so this is doorbell's promise. */
static void test_wild_reads_all_ones(void)
{
	CHECK_EQ(mmio_read32(ram_end), 0xffffffff);
	CHECK_EQ(mmio_read32(ram_end + 4092), 0xffffffff);
	for (size_t i = 0; i < ARRAY_SIZE(wild_addrs); i++) {
		u32 v = mmio_read32(wild_addrs[i]);

		if (v != 0xffffffff)
			guest_check_failed(__LINE__, "0x%lx reads 0x%x",
					   (unsigned long)wild_addrs[i], v);
	}
}

static void test_own_ram_intact(void)
{
	for (uintptr_t a = FILL_START; a < ram_end; a += FILL_STRIDE)
		if (mmio_read32(a) != fill_value(a)) {
			guest_check_failed(__LINE__,
				"RAM at 0x%lx changed to 0x%x", (unsigned long)a,
				mmio_read32(a));
			return;
		}
}

static const struct guest_test tests[] = {
	{ "fill_own_ram",       test_fill_own_ram,        0 },
	{ "wild_writes",        test_wild_writes,         0 },
	{ "wild_reads_all_ones", test_wild_reads_all_ones,
	  GUEST_TEST_NEEDS_DOORBELL },
	{ "own_ram_intact",     test_own_ram_intact,      0 },
};

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	u64 mem_mib = DEFAULT_RAM_MIB;

	(void)magic;
	mb_cmdline_value(mbi, "mem", &mem_mib);
	ram_end = (uintptr_t)(mem_mib * MiB);
	printf("wild: guest RAM ends at 0x%lx\n", (unsigned long)ram_end);
	guest_run_tests(tests, ARRAY_SIZE(tests));
}
