/*
 * guest/fwacpi.c - the guest's firmware interfaces, read the way
 * kvm-unit-tests reads them: fw_cfg on ports 0x510/0x511 (lib/x86/fwcfg.c:
 * a 16-bit selector write, then byte reads), the ACPI tables found by the
 * 16-byte "RSD PTR " scan of 0xe0000-0xfffff (lib/acpi.c), the FADT's PM
 * timer port (x86/vmexit.c, inl_from_pmtimer) and the ACPI PM block.
 * Built twice: fwacpi.elf (32-bit) and fwacpi64.elf (64-bit).
 *
 * Command line: `mem=MiB`, the guest RAM the hypervisor was given (its
 * guest_mem=, default 64), which fw_cfg's RAM_SIZE must report.
 *
 * Prints "fwacpi: pm timer N Hz ..." with the rate measured against the TSC
 * rate doorbell reports in CPUID 0x40000001 ECX (kHz), for the boot test.
 * Outside doorbell only the signature and the ID's port-interface bit are
 * checked: QEMU's tables (RSDP revision 0, a 24-bit timer) and fw_cfg (DMA,
 * a file directory) differ by design.
 */
#include "lib/guest.h"

#define DEFAULT_RAM_MIB     64
#define FWCFG_SELECTOR      0x510
#define FWCFG_DATA          0x511
#define FW_CFG_SIGNATURE    0x00
#define FW_CFG_ID           0x01
#define FW_CFG_RAM_SIZE     0x03
#define FW_CFG_NB_CPUS      0x05
#define FW_CFG_MAX_CPUS     0x0f
#define FW_CFG_MAX_RAM      0x11
#define FW_CFG_FILE_DIR     0x19        /* QEMU's file directory: none here */

#define BIOS_AREA           0xe0000u
#define BIOS_AREA_END       0x100000u
#define XAPIC_BASE          0xfee00000u
#define APIC_ID_REG         0x20
#define CPUID_HV_CONFIG     0x40000001u
#define PM_TIMER_HZ         3579545ull
#define FADT_F_TMR_VAL_EXT  BIT(8)

static struct multiboot_info *mbi;
static u64 ram_size;

/* ---- fw_cfg ---------------------------------------------------------------- */
static u64 fwcfg_get(u16 key, u32 bytes)
{
	u64 v = 0;

	outw(key, FWCFG_SELECTOR);
	for (u32 i = 0; i < bytes; i++)
		v |= (u64)inb(FWCFG_DATA) << (8 * i);
	return v;
}

static void test_fwcfg_signature(void)
{
	char sig[5] = { 0 };

	outw(FW_CFG_SIGNATURE, FWCFG_SELECTOR);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(FWCFG_DATA);
	CHECK(memcmp(sig, "QEMU", 4) == 0);
	printf("fwcfg: signature \"%s\"\n", sig);
}

static void test_fwcfg_id(void)
{
	u64 id = fwcfg_get(FW_CFG_ID, 4);
	CHECK(id & 1);                  /* the port interface */
	if (guest_under_doorbell())
		CHECK_EQ(id & 2, 0);    /* no DMA interface (QEMU has one) */
}

static void test_fwcfg_cpus(void)
{
	u64 nb = fwcfg_get(FW_CFG_NB_CPUS, 2), max = fwcfg_get(FW_CFG_MAX_CPUS, 2);
	printf("fwcfg: NB_CPUS %llu MAX_CPUS %llu\n", (unsigned long long)nb,
	       (unsigned long long)max);
	CHECK_EQ(nb, 1);
	CHECK_EQ(max, 1);
}

static void test_fwcfg_ram(void)
{
	u64 ram = fwcfg_get(FW_CFG_RAM_SIZE, 8), max = fwcfg_get(FW_CFG_MAX_RAM, 8);
	printf("fwcfg: RAM_SIZE %llu MiB MAX_RAM %llu MiB\n",
	       (unsigned long long)(ram / MiB), (unsigned long long)(max / MiB));
	CHECK_EQ(ram, ram_size);
	CHECK_EQ(max, ram_size);
}

/* A selector write restarts the item; unknown items and bytes past an
 * item's end read 0 (QEMU docs/specs/fw_cfg.rst). */
static void test_fwcfg_offsets(void)
{
	outw(FW_CFG_SIGNATURE, FWCFG_SELECTOR);
	CHECK_EQ(inb(FWCFG_DATA), 'Q');
	CHECK_EQ(inb(FWCFG_DATA), 'E');
	outw(FW_CFG_SIGNATURE, FWCFG_SELECTOR);
	CHECK_EQ(inb(FWCFG_DATA), 'Q');
	CHECK_EQ(fwcfg_get(FW_CFG_SIGNATURE, 8) >> 32, 0);
	CHECK_EQ(fwcfg_get(FW_CFG_FILE_DIR, 8), 0);
	CHECK_EQ(fwcfg_get(0x8000, 8), 0);
}

/* A dword read of the selector is not an access fw_cfg accepts: it reads
 * all ones as an unassigned port would (and doorbell logs it). */
static void test_fwcfg_wide_read(void)
{
	CHECK_EQ(inl(FWCFG_SELECTOR), 0xffffffffu);
}

/* ---- ACPI tables ------------------------------------------------------------ */
static const u8 *phys(u64 a)
{
	return (const u8 *)(uintptr_t)a;
}

static u32 get32(u64 a) { u32 v; memcpy(&v, phys(a), 4); return v; }
static u64 get64(u64 a) { u64 v; memcpy(&v, phys(a), 8); return v; }

static u8 sum(u64 a, u32 len)
{
	u8 s = 0;
	for (u32 i = 0; i < len; i++)
		s = (u8)(s + phys(a)[i]);
	return s;
}

static u64 rsdp_addr;

/* lib/acpi.c get_rsdp(). */
static u64 scan_rsdp(void)
{
	for (u64 a = BIOS_AREA; a < BIOS_AREA_END; a += 16)
		if (memcmp(phys(a), "RSD PTR ", 8) == 0)
			return a;
	return 0;
}

/* An SDT with signature sig at a, in the BIOS area, checksum right. */
static bool sdt_ok(u64 a, const char *sig)
{
	if (a < BIOS_AREA || a >= BIOS_AREA_END || memcmp(phys(a), sig, 4) != 0) {
		guest_check_failed(__LINE__, "no %s at 0x%llx", sig, (unsigned long long)a);
		return false;
	}
	u32 len = get32(a + 4);
	if (len < 36 || a + len > BIOS_AREA_END || sum(a, len) != 0) {
		guest_check_failed(__LINE__, "%s at 0x%llx: length %u or checksum wrong",
				   sig, (unsigned long long)a, len);
		return false;
	}
	return true;
}

/* lib/acpi.c find_acpi_table_addr() through the XSDT (xsdt) or the RSDT. */
static u64 find_table(const char *sig, bool xsdt)
{
	u64 root = xsdt ? get64(rsdp_addr + 24) : get32(rsdp_addr + 16);
	u32 esz = xsdt ? 8 : 4;

	if (!rsdp_addr || !sdt_ok(root, xsdt ? "XSDT" : "RSDT"))
		return 0;
	for (u64 e = root + 36; e + esz <= root + get32(root + 4); e += esz) {
		u64 t = xsdt ? get64(e) : get32(e);
		if (t && memcmp(phys(t), sig, 4) == 0)
			return t;
	}
	return 0;
}

static void test_acpi_rsdp(void)
{
	rsdp_addr = scan_rsdp();
	printf("acpi: RSDP at 0x%llx\n", (unsigned long long)rsdp_addr);
	CHECK(rsdp_addr != 0);
	if (!rsdp_addr)
		return;
	CHECK_EQ(sum(rsdp_addr, 20), 0);
	CHECK_EQ(phys(rsdp_addr)[15], 2);
	CHECK_EQ(get32(rsdp_addr + 20), 36);
	CHECK_EQ(sum(rsdp_addr, 36), 0);
}

static void test_acpi_rsdt_xsdt(void)
{
	for (int x = 0; x < 2; x++) {
		u64 fadt = find_table("FACP", x), madt = find_table("APIC", x);
		CHECK(fadt != 0);
		CHECK(madt != 0);
		if (fadt)
			sdt_ok(fadt, "FACP");
		if (madt)
			sdt_ok(madt, "APIC");
	}
}

static void test_acpi_fadt(void)
{
	u64 f = find_table("FACP", true);
	if (!f) {
		guest_check_failed(__LINE__, "no FADT");
		return;
	}
	u32 tmr = get32(f + 76), flags = get32(f + 112);
	printf("acpi: FADT at 0x%llx, PM timer port 0x%x, %u bytes, %s\n",
	       (unsigned long long)f, tmr, phys(f)[91],
	       flags & FADT_F_TMR_VAL_EXT ? "32-bit" : "24-bit");
	CHECK_EQ(tmr, 0x608);
	CHECK_EQ(phys(f)[91], 4);
	CHECK(flags & FADT_F_TMR_VAL_EXT);
	CHECK_EQ(get32(f + 56), 0x600);         /* PM1a_EVT_BLK */
	CHECK_EQ(get32(f + 64), 0x604);         /* PM1a_CNT_BLK */
	u64 facs = get32(f + 36), dsdt = get32(f + 40);
	CHECK(memcmp(phys(facs), "FACS", 4) == 0);
	CHECK_EQ(facs % 64, 0);
	CHECK_EQ(get32(facs + 4), 64);
	sdt_ok(dsdt, "DSDT");
}

static void test_acpi_madt(void)
{
	u64 m = find_table("APIC", true);
	u32 lapics = 0, others = 0, id = mmio_read32(XAPIC_BASE + APIC_ID_REG) >> 24;
	if (!m) {
		guest_check_failed(__LINE__, "no MADT");
		return;
	}
	CHECK_EQ(get32(m + 36), XAPIC_BASE);
	for (u64 e = m + 44; e + 2 <= m + get32(m + 4); e += phys(e)[1]) {
		if (phys(e)[1] < 2)
			break;
		if (phys(e)[0] == 0) {
			lapics++;
			CHECK_EQ(phys(e)[3], id);       /* the APIC ID this CPU reads */
			CHECK(get32(e + 4) & 1);        /* enabled */
		} else {
			others++;                       /* an IOAPIC would be type 1 */
		}
	}
	printf("acpi: MADT at 0x%llx: %u local APIC (ID %u), %u other entries\n",
	       (unsigned long long)m, lapics, id, others);
	CHECK_EQ(lapics, 1);
	CHECK_EQ(others, 0);
}

/* The tables lie where the memory map reports no available RAM, so a guest
 * that allocates from the map never overwrites them. */
static void test_acpi_reserved_in_mmap(void)
{
	u64 first = rsdp_addr, last = rsdp_addr + 36;
	u64 t[] = { find_table("FACP", true), find_table("APIC", true),
		    find_table("FACP", false) };
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (!t[i])
			continue;
		first = t[i] < first ? t[i] : first;
		last = t[i] + get32(t[i] + 4) > last ? t[i] + get32(t[i] + 4) : last;
	}
	CHECK(first >= BIOS_AREA && last <= BIOS_AREA_END);
	for (const struct multiboot_mmap_entry *e = mb_mmap_next(mbi, NULL);
	     e; e = mb_mmap_next(mbi, e))
		if (e->type == MB_MEMORY_AVAILABLE && e->addr < last && e->addr + e->len > first)
			guest_check_failed(__LINE__, "available 0x%llx-0x%llx covers the tables",
					   (unsigned long long)e->addr,
					   (unsigned long long)(e->addr + e->len));
	/* And the boot information is not in the low area 0x8000 guests use. */
	CHECK((uintptr_t)mbi >= 0x90000 && (uintptr_t)mbi < 0xa0000);
}

/* ---- ACPI PM block ----------------------------------------------------------- */
static void test_pm_timer_rate(void)
{
	u32 khz = cpuid(CPUID_HV_CONFIG, 0).ecx;
	u64 span = khz ? (u64)khz * 20 : 20000000;     /* 20 ms of TSC */
	u64 t0 = rdtsc();
	u32 p0 = inl(0x608);
	u64 t1;
	while ((t1 = rdtsc()) - t0 < span)
		;
	u32 p1 = inl(0x608);
	u64 ticks = (u32)(p1 - p0), dt = t1 - t0;
	CHECK(ticks > 0);
	if (!khz) {
		printf("fwacpi: pm timer %llu ticks in %llu TSC cycles (TSC rate unknown)\n",
		       (unsigned long long)ticks, (unsigned long long)dt);
		return;
	}
	u64 hz = ticks * khz * 1000 / dt;
	u64 want = dt * PM_TIMER_HZ / ((u64)khz * 1000);
	printf("fwacpi: pm timer %llu Hz (%llu ticks in %llu TSC cycles at %u kHz; %llu expected)\n",
	       (unsigned long long)hz, (unsigned long long)ticks,
	       (unsigned long long)dt, khz, (unsigned long long)want);
	/* 1% plus a tick each end: the two INLs and RDTSCs are not atomic. */
	CHECK(ticks + want / 100 + 2 >= want && ticks <= want + want / 100 + 2);
}

static void test_pm_timer_monotonic(void)
{
	u32 prev = inl(0x608), first = prev, back = 0;
	u64 t0 = rdtsc();
	for (int i = 0; i < 2000; i++) {
		u32 now = inl(0x608);
		if ((u32)(now - prev) >= 0x80000000u)
			back++;
		prev = now;
	}
	u64 t1 = rdtsc();
	CHECK_EQ(back, 0);
	CHECK(prev != first);
	/* In Bochs the TSC counts instructions: the boot test bounds a read's
	 * path length (doorbell answers it on the exit's fast path). */
	printf("fwacpi: pm timer read: %u cycles\n", (u32)((t1 - t0) / 2000));
	/* A 16-bit read of the timer's low half takes the full path and
	 * agrees with a 32-bit one. */
	u32 lo = inw(0x608), full = inl(0x608);
	CHECK((u16)(full - lo) < 0x8000);
}

static void test_pm1_registers(void)
{
	CHECK_EQ(inw(0x600), 0);                /* PM1_STS: nothing raised */
	outw(0x0120, 0x602);                    /* PM1_EN */
	CHECK_EQ(inw(0x602), 0x0120);
	outw(0, 0x602);
	CHECK_EQ(inw(0x604) & 1, 1);            /* PM1_CNT: SCI_EN */
	CHECK_EQ(inw(0x606), 0xffff);           /* no register there */
	/* kvm-unit-tests' s3.c: SLP_TYP 1 with SLP_EN. Sleeping is not
	 * modelled: doorbell logs it and the guest goes on; SLP_EN reads 0. */
	outw(0x2400, 0x604);
	CHECK_EQ(inw(0x604), 0x0401);
	outw(0, 0x604);
}

static const struct guest_test tests[] = {
	{ "fwcfg_signature",            test_fwcfg_signature,           0 },
	{ "fwcfg_id",                   test_fwcfg_id,                  0 },
	{ "fwcfg_cpus",                 test_fwcfg_cpus,                GUEST_TEST_NEEDS_DOORBELL },
	{ "fwcfg_ram",                  test_fwcfg_ram,                 GUEST_TEST_NEEDS_DOORBELL },
	{ "fwcfg_offsets",              test_fwcfg_offsets,             GUEST_TEST_NEEDS_DOORBELL },
	{ "fwcfg_wide_read",            test_fwcfg_wide_read,           GUEST_TEST_NEEDS_DOORBELL },
	{ "acpi_rsdp",                  test_acpi_rsdp,                 GUEST_TEST_NEEDS_DOORBELL },
	{ "acpi_rsdt_xsdt",             test_acpi_rsdt_xsdt,            GUEST_TEST_NEEDS_DOORBELL },
	{ "acpi_fadt",                  test_acpi_fadt,                 GUEST_TEST_NEEDS_DOORBELL },
	{ "acpi_madt",                  test_acpi_madt,                 GUEST_TEST_NEEDS_DOORBELL },
	{ "acpi_reserved_in_mmap",      test_acpi_reserved_in_mmap,     GUEST_TEST_NEEDS_DOORBELL },
	{ "pm_timer_rate",              test_pm_timer_rate,             GUEST_TEST_NEEDS_DOORBELL },
	{ "pm_timer_monotonic",         test_pm_timer_monotonic,        GUEST_TEST_NEEDS_DOORBELL },
	{ "pm1_registers",              test_pm1_registers,             GUEST_TEST_NEEDS_DOORBELL },
};

int guest_main(u32 magic, struct multiboot_info *info)
{
	u64 mem_mib = DEFAULT_RAM_MIB;

	(void)magic;
	mbi = info;
	mb_cmdline_value(mbi, "mem", &mem_mib);
	ram_size = mem_mib * MiB;
	printf("fwacpi%d: %llu MiB of guest RAM expected, boot information at 0x%lx\n",
	       (int)(sizeof(long) * 8), (unsigned long long)mem_mib,
	       (unsigned long)(uintptr_t)mbi);
	guest_run_tests(tests, ARRAY_SIZE(tests));
}
