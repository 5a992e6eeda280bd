/* Host tests for platform/: the guest's ACPI tables (checksums, layout, the
 * kvm-unit-tests way of finding them: the 16-byte RSDP scan of 0xe0000-
 * 0xfffff, RSDT/XSDT, FADT -> PM timer and FACS; and the hypervisor's own
 * MADT parser, drivers/acpi.c, reading them back), fw_cfg (items,
 * selector/offset rules) and the ACPI PM block (timer rate and wrap, PM1
 * registers). */
#include "lib/fmt.c"
#include "drivers/acpi.c"
#include "platform/acpi_tables.c"
#include "platform/fwcfg.c"
#include "platform/acpi_pm.c"
#include "tests/host/test.h"

#define RAM_SIZE (2 * MiB)
#define FILL     0x5a

static u8 *ram;

static u16 g16(u64 a) { u16 v; memcpy(&v, ram + a, 2); return v; }
static u32 g32(u64 a) { u32 v; memcpy(&v, ram + a, 4); return v; }
static u64 g64(u64 a) { u64 v; memcpy(&v, ram + a, 8); return v; }

static void fresh_ram(void)
{
	free(ram);
	ram = malloc(RAM_SIZE);
	memset(ram, FILL, RAM_SIZE);
}

/* kvm-unit-tests' lib/acpi.c get_rsdp(): the first 16-byte aligned
 * "RSD PTR " in [0xe0000, 0x100000); 0 if none. */
static u64 scan_rsdp(void)
{
	for (u64 a = 0xe0000; a < 0x100000; a += 16)
		if (memcmp(ram + a, "RSD PTR ", 8) == 0)
			return a;
	return 0;
}

/* An SDT at a: signature, length within RAM, checksum 0. */
static bool sdt_ok(u64 a, const char *sig)
{
	if (a == 0 || a + 36 > RAM_SIZE || memcmp(ram + a, sig, 4) != 0)
		return false;
	u32 len = g32(a + 4);
	return len >= 36 && a + len <= RAM_SIZE && platform_acpi_sum(ram + a, len) == 0;
}

/* lib/acpi.c find_acpi_table_addr() through the XSDT (xsdt) or the RSDT. */
static u64 find_table(const char *sig, bool xsdt)
{
	u64 rsdp = scan_rsdp();
	u64 root = xsdt ? g64(rsdp + 24) : g32(rsdp + 16);
	u32 esz = xsdt ? 8 : 4;
	for (u64 e = root + 36; e < root + g32(root + 4); e += esz) {
		u64 t = xsdt ? g64(e) : g32(e);
		if (t && memcmp(ram + t, sig, 4) == 0)
			return t;
	}
	return 0;
}

static struct platform_acpi_layout build(u32 apic_id)
{
	struct platform_acpi_layout l;
	fresh_ram();
	memset(&l, 0, sizeof(l));
	CHECK_EQ(platform_acpi_build(ram, RAM_SIZE, apic_id, &l), 0);
	return l;
}

TEST(test_acpi_rsdp_scan_and_checksums)
{
	struct platform_acpi_layout l = build(0);
	u64 rsdp = scan_rsdp();
	CHECK_EQ(rsdp, l.rsdp);
	CHECK_EQ(rsdp, PLATFORM_ACPI_BASE);
	CHECK_EQ(platform_acpi_sum(ram + rsdp, 20), 0);	/* ACPI 1.0 part */
	CHECK_EQ(ram[rsdp + 15], 2);			/* revision 2 */
	CHECK_EQ(g32(rsdp + 20), 36);
	CHECK_EQ(platform_acpi_sum(ram + rsdp, 36), 0);	/* extended */
	CHECK_EQ(g32(rsdp + 16), l.rsdt);
	CHECK_EQ(g64(rsdp + 24), l.xsdt);
	CHECK(sdt_ok(l.rsdt, "RSDT"));
	CHECK(sdt_ok(l.xsdt, "XSDT"));
	CHECK(sdt_ok(l.fadt, "FACP"));
	CHECK(sdt_ok(l.dsdt, "DSDT"));
	CHECK(sdt_ok(l.madt, "APIC"));
	CHECK_EQ(g32(l.rsdt + 4), 36 + 2 * 4);
	CHECK_EQ(g32(l.xsdt + 4), 36 + 2 * 8);
	CHECK_EQ(g32(l.fadt + 4), 244);
	CHECK_EQ(ram[l.fadt + 8], 4);
	CHECK_EQ(g32(l.dsdt + 4), 36);
	CHECK(memcmp(ram + l.fadt + 10, "DOORBL", 6) == 0);	/* OEM ID */
	/* A checksum test that can fail: one flipped byte is caught. */
	ram[l.fadt + 100] ^= 1;
	CHECK(!sdt_ok(l.fadt, "FACP"));
}

TEST(test_acpi_layout_inside_bios_area)
{
	struct platform_acpi_layout l = build(0);
	u64 t[] = { l.rsdp, l.rsdt, l.xsdt, l.fadt, l.facs, l.dsdt, l.madt };
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		CHECK(t[i] >= PLATFORM_ACPI_BASE && t[i] < l.end);
		CHECK_EQ(t[i] % 16, 0);
	}
	CHECK(l.end <= PLATFORM_ACPI_BASE + PLATFORM_ACPI_SIZE);
	CHECK(l.end <= PLATFORM_BIOS_END);
	CHECK_EQ(l.facs % 64, 0);		/* FACS: 64-byte aligned */
	/* Tables do not overlap: sorted by address, each ends before the next. */
	CHECK(l.rsdp + 36 <= l.rsdt && l.rsdt + g32(l.rsdt + 4) <= l.xsdt &&
	      l.xsdt + g32(l.xsdt + 4) <= l.facs && l.facs + 64 <= l.fadt &&
	      l.fadt + 244 <= l.dsdt && l.dsdt + 36 <= l.madt &&
	      l.madt + g32(l.madt + 4) <= l.end);
	/* Nothing outside the area was written; inside it, the gaps are 0. */
	for (u64 a = 0; a < RAM_SIZE; a++) {
		if (a >= PLATFORM_ACPI_BASE && a < PLATFORM_ACPI_BASE + PLATFORM_ACPI_SIZE)
			continue;
		if (ram[a] != FILL) {
			CHECK_EQ(a, -1);
			break;
		}
	}
	for (u64 a = l.end; a < PLATFORM_ACPI_BASE + PLATFORM_ACPI_SIZE; a++)
		if (ram[a]) {
			CHECK_EQ(a, -1);
			break;
		}
}

TEST(test_acpi_fadt_pm_timer_and_facs)
{
	struct platform_acpi_layout l = build(0);
	for (int x = 0; x < 2; x++) {
		u64 fadt = find_table("FACP", x);
		CHECK_EQ(fadt, l.fadt);
	}
	u64 f = l.fadt;
	CHECK_EQ(g32(f + 76), 0x608);		/* PM_TMR_BLK: vmexit.c's pm_tmr_blk */
	CHECK_EQ(ram[f + 91], 4);		/* PM_TMR_LEN */
	CHECK_EQ(g32(f + 56), 0x600);		/* PM1a_EVT_BLK */
	CHECK_EQ(ram[f + 88], 4);
	CHECK_EQ(g32(f + 64), 0x604);		/* PM1a_CNT_BLK */
	CHECK_EQ(ram[f + 89], 2);
	CHECK_EQ(g32(f + 48), 0);		/* SMI_CMD: always in ACPI mode */
	CHECK(g32(f + 112) & BIT(8));		/* TMR_VAL_EXT: 32-bit timer */
	CHECK_EQ(g32(f + 36), l.facs);		/* FIRMWARE_CTRL */
	CHECK_EQ(g32(f + 40), l.dsdt);		/* DSDT */
	CHECK_EQ(g64(f + 140), l.dsdt);		/* X_DSDT */
	/* X_PM_TMR_BLK: system I/O, 32 bits, port 0x608. */
	CHECK_EQ(ram[f + 208], 1);
	CHECK_EQ(ram[f + 209], 32);
	CHECK_EQ(g64(f + 212), 0x608);
	CHECK_EQ(g64(f + 148 + 4), 0x600);
	CHECK_EQ(g64(f + 172 + 4), 0x604);
	CHECK_EQ(g16(f + 46), 9);		/* SCI_INT */
	CHECK(memcmp(ram + l.facs, "FACS", 4) == 0);
	CHECK_EQ(g32(l.facs + 4), 64);
	CHECK(find_table("DSDT", true) == 0);	/* the DSDT hangs off the FADT only */
}

/* drivers/acpi.c's map callback over the test RAM. */
static const void *ram_map(void *ctx, u64 phys, u64 len)
{
	(void)ctx;
	if (phys > RAM_SIZE || len > RAM_SIZE - phys)
		return NULL;
	return ram + phys;
}

TEST(test_acpi_madt_parses)
{
	for (u32 id = 0; id < 3; id += 2) {
		struct platform_acpi_layout l = build(id);
		CHECK_EQ(find_table("APIC", true), l.madt);
		CHECK_EQ(find_table("APIC", false), l.madt);
		struct acpi_madt_info info;
		memset(&info, 0, sizeof(info));
		int rc = acpi_parse_madt(ram + l.rsdp, 36, ram_map, NULL, &info);
		if (rc)
			printf("  acpi_parse_madt: %s\n", info.error);
		CHECK_EQ(rc, 0);
		CHECK_EQ(info.cpu_count, 1);
		CHECK_EQ(info.cpus[0].apic_id, id);
		CHECK(info.cpus[0].enabled);
		CHECK_EQ(info.lapic_base, 0xfee00000u);
		CHECK(info.pcat_compat);
		/* No IOAPIC (type 1) or any other entry: one 8-byte LAPIC. */
		CHECK_EQ(g32(l.madt + 4), 44 + 8);
		CHECK_EQ(ram[l.madt + 44], 0);
		CHECK_EQ(ram[l.madt + 45], 8);
	}
}

TEST(test_acpi_small_ram_refused)
{
	struct platform_acpi_layout l;
	fresh_ram();
	CHECK_EQ(platform_acpi_build(ram, PLATFORM_BIOS_END - 1, 0, &l), -ERANGE);
	CHECK_EQ(scan_rsdp(), 0);
	CHECK_EQ(ram[PLATFORM_ACPI_BASE], FILL);
}

/* ---- fw_cfg --------------------------------------------------------------- */
static u64 fw_get(struct fwcfg *f, u16 key, u32 bytes)
{
	u64 v = 0;
	fwcfg_select(f, key);
	for (u32 i = 0; i < bytes; i++)
		v |= (u64)fwcfg_read(f) << (8 * i);
	return v;
}

TEST(test_fwcfg_items)
{
	struct fwcfg f;
	fwcfg_init(&f, 128 * MiB, 1);
	char sig[5] = { 0 };
	fwcfg_select(&f, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)fwcfg_read(&f);
	CHECK_STR(sig, "QEMU");
	CHECK_EQ(fwcfg_read(&f), 0);		/* past the end: 0 */
	CHECK_EQ(fwcfg_read(&f), 0);
	CHECK_EQ(fw_get(&f, FW_CFG_ID, 4), 1);
	CHECK_EQ(fw_get(&f, FW_CFG_RAM_SIZE, 8), 128 * MiB);
	CHECK_EQ(fw_get(&f, FW_CFG_NB_CPUS, 2), 1);
	CHECK_EQ(fw_get(&f, FW_CFG_MAX_CPUS, 2), 1);
	CHECK_EQ(fw_get(&f, FW_CFG_MAX_RAM, 8), 128 * MiB);
	CHECK_EQ(fw_get(&f, FW_CFG_UUID, 8), 0);
	/* Unknown keys, arch-local keys, the invalid key: 0, as QEMU. */
	CHECK_EQ(fw_get(&f, 0x04, 8), 0);
	CHECK_EQ(fw_get(&f, 0x19, 8), 0);
	CHECK_EQ(fw_get(&f, FW_CFG_ARCH_LOCAL, 8), 0);
	CHECK_EQ(fw_get(&f, 0xffff, 8), 0);
	/* The write-channel bit does not change what is read. */
	CHECK_EQ(fw_get(&f, FW_CFG_WRITE_CHANNEL | FW_CFG_RAM_SIZE, 8), 128 * MiB);
	/* Little-endian bytes. */
	fwcfg_init(&f, 0x0102030405060708ull, 0x0a0b);
	fwcfg_select(&f, FW_CFG_RAM_SIZE);
	CHECK_EQ(fwcfg_read(&f), 0x08);
	CHECK_EQ(fwcfg_read(&f), 0x07);
	CHECK_EQ(fw_get(&f, FW_CFG_NB_CPUS, 2), 0x0a0b);
}

TEST(test_fwcfg_select_resets_offset)
{
	struct fwcfg f;
	fwcfg_init(&f, 64 * MiB, 1);
	CHECK_EQ(fwcfg_read(&f), 'Q');		/* after reset: the signature */
	CHECK_EQ(fwcfg_read(&f), 'E');
	fwcfg_select(&f, FW_CFG_SIGNATURE);
	CHECK_EQ(fwcfg_read(&f), 'Q');		/* same key again: offset 0 */
	fwcfg_select(&f, FW_CFG_RAM_SIZE);
	CHECK_EQ(fwcfg_read(&f), 0);
	CHECK_EQ(fwcfg_read(&f), 0);
	CHECK_EQ(fwcfg_read(&f), 0);
	CHECK_EQ(fwcfg_read(&f), 4);		/* 64 MiB = 0x04000000 */
	fwcfg_select(&f, FW_CFG_RAM_SIZE);
	CHECK_EQ(fw_get(&f, FW_CFG_RAM_SIZE, 8), 64 * MiB);
}

/* ---- ACPI PM block --------------------------------------------------------- */
TEST(test_pm_timer_rate)
{
	struct acpi_pm pm;
	const u64 hz = 2000000000ull;
	acpi_pm_init(&pm, 1000, hz);
	CHECK_EQ(acpi_pm_timer(&pm, 1000), 0);
	CHECK_EQ(acpi_pm_timer(&pm, 1000 + hz), ACPI_PM_TIMER_HZ);	/* 1 s */
	CHECK_EQ(acpi_pm_timer(&pm, 1000 + hz / 1000), 3579);		/* 1 ms */
	CHECK_EQ(acpi_pm_timer(&pm, 1000 + 558), 0);			/* < 1 tick */
	CHECK_EQ(acpi_pm_timer(&pm, 1000 + 559), 1);	/* 2e9/3579545 = 558.7 */
	/* 32 bits (TMR_VAL_EXT): 1200 s is 4,295,454,000 ticks, past 2^32. */
	CHECK_EQ(acpi_pm_timer(&pm, 1000 + 1200 * hz),
		 (u32)(1200ull * ACPI_PM_TIMER_HZ));
	/* A huge TSC distance and rate do not overflow the product. */
	acpi_pm_init(&pm, 0, 5000000000ull);
	u64 d = 5000000000ull * 1000000ull + 4999999999ull;	/* 10^6 s + almost 1 s */
	CHECK_EQ(acpi_pm_timer(&pm, d),
		 (u32)(1000000ull * ACPI_PM_TIMER_HZ + 3579544ull));
	/* An unknown TSC rate: the timer stays 0 rather than dividing by 0. */
	acpi_pm_init(&pm, 0, 0);
	CHECK_EQ(acpi_pm_timer(&pm, 12345), 0);
}

TEST(test_pm_timer_monotonic)
{
	struct acpi_pm pm;
	acpi_pm_init(&pm, 77, 1234567891ull);
	u64 tsc = 77;
	u32 prev = 0;
	test_seed(12);
	for (int i = 0; i < 100000; i++) {
		tsc += test_rand() % 100000;
		u32 now = acpi_pm_timer(&pm, tsc);
		CHECK((u32)(now - prev) < 0x80000000u);	/* never runs backwards */
		prev = now;
	}
}

static u32 pm_in(struct acpi_pm *pm, u16 port, u32 size, u64 tsc)
{
	u32 v;
	acpi_pm_read(pm, port, size, tsc, &v);
	return v;
}

TEST(test_pm_registers)
{
	struct acpi_pm pm;
	const u64 hz = ACPI_PM_TIMER_HZ * 10;	/* 10 TSC cycles per tick */
	acpi_pm_init(&pm, 0, hz);
	CHECK_EQ(pm_in(&pm, 0x600, 2, 0), 0);		/* PM1_STS */
	CHECK_EQ(pm_in(&pm, 0x602, 2, 0), 0);		/* PM1_EN */
	CHECK_EQ(pm_in(&pm, 0x604, 2, 0), 1);		/* PM1_CNT: SCI_EN */
	CHECK_EQ(pm_in(&pm, 0x608, 4, 0x12345670), 0x12345670 / 10);
	CHECK_EQ(pm_in(&pm, 0x609, 1, 0x12345670), (0x12345670 / 10 >> 8) & 0xff);
	/* Where no register is: all ones. */
	CHECK_EQ(pm_in(&pm, 0x606, 2, 0), 0xffff);
	CHECK_EQ(pm_in(&pm, 0x60c, 4, 0), 0xffffffff);
	CHECK_EQ(pm_in(&pm, 0x63f, 1, 0), 0xff);
	/* PM1_EN keeps what is written, byte or word. */
	CHECK(!acpi_pm_write(&pm, 0x602, 2, 0x0121));
	CHECK_EQ(pm_in(&pm, 0x602, 2, 0), 0x0121);
	CHECK(!acpi_pm_write(&pm, 0x603, 1, 0x04));
	CHECK_EQ(pm_in(&pm, 0x600, 4, 0), 0x04210000);	/* STS 0, EN 0x0421 */
	/* PM1_STS: write 1 to clear, nothing to clear. */
	CHECK(!acpi_pm_write(&pm, 0x600, 2, 0xffff));
	CHECK_EQ(pm_in(&pm, 0x600, 2, 0), 0);
	/* PM1_CNT: SLP_TYP kept, SCI_EN stays, SLP_EN reported and reads 0
	 * (kvm-unit-tests' s3.c writes 0x2400). */
	CHECK(acpi_pm_write(&pm, 0x604, 2, 0x2400));
	CHECK_EQ(pm_in(&pm, 0x604, 2, 0), 0x0401);
	CHECK_EQ(pm.sleep_requests, 1);
	CHECK(!acpi_pm_write(&pm, 0x604, 2, 0));
	CHECK_EQ(pm_in(&pm, 0x604, 2, 0), 1);
	/* The timer is read-only. */
	CHECK(!acpi_pm_write(&pm, 0x608, 4, 0));
	CHECK_EQ(pm_in(&pm, 0x608, 4, 100), 10);
}

int main(void)
{
	RUN(test_acpi_rsdp_scan_and_checksums);
	RUN(test_acpi_layout_inside_bios_area);
	RUN(test_acpi_fadt_pm_timer_and_facs);
	RUN(test_acpi_madt_parses);
	RUN(test_acpi_small_ram_refused);
	RUN(test_fwcfg_items);
	RUN(test_fwcfg_select_resets_offset);
	RUN(test_pm_timer_rate);
	RUN(test_pm_timer_monotonic);
	RUN(test_pm_registers);
	free(ram);
	return TEST_SUMMARY();
}
