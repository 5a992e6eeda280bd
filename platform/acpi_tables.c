/*
 * platform/acpi_tables.c - the guest's ACPI tables: what a PC's firmware
 * leaves in memory for the OS, reduced to one CPU, no IOAPIC and the PIIX4-
 * style PM block of platform.h. ACPI Specification, "ACPI Software
 * Programming Model": "Root System Description Pointer (RSDP) Structure",
 * "System Description Table Header", "Root System Description Table (RSDT)",
 * "Extended System Description Table (XSDT)", "Fixed ACPI Description Table
 * (FADT)", "Firmware ACPI Control Structure (FACS)", "Differentiated System
 * Description Table (DSDT)", "Multiple APIC Description Table (MADT)",
 * "Generic Address Structure (GAS)".
 *
 * Versions: RSDP revision 2 (ACPI 2.0+: RSDT and XSDT both), FADT revision 4
 * (the 244-byte ACPI 3.0 layout, with the X_ fields), MADT revision 1, an
 * empty DSDT (a header and no AML: the guest has no devices to describe).
 */
#include "platform/platform.h"

/* "System Description Table Header": every table but the RSDP and FACS. */
#define SDT_SIGNATURE           0
#define SDT_LENGTH              4
#define SDT_REVISION            8
#define SDT_CHECKSUM            9
#define SDT_OEMID               10	/* 6 bytes */
#define SDT_OEM_TABLE_ID        16	/* 8 bytes */
#define SDT_OEM_REVISION        24
#define SDT_CREATOR_ID          28
#define SDT_CREATOR_REVISION    32
#define SDT_HEADER_LEN          36u

#define OEM_ID                  "DOORBL"
#define OEM_TABLE_ID            "DOORBELL"
#define CREATOR_ID              "DRBL"

/* "Root System Description Pointer (RSDP) Structure". */
#define RSDP_SIGNATURE          0	/* "RSD PTR " */
#define RSDP_CHECKSUM           8	/* over the first 20 bytes */
#define RSDP_OEMID              9
#define RSDP_REVISION           15
#define RSDP_RSDT_ADDRESS       16
#define RSDP_LENGTH             20
#define RSDP_XSDT_ADDRESS       24
#define RSDP_EXTENDED_CHECKSUM  32	/* over all 36 bytes */
#define RSDP_V1_LEN             20u
#define RSDP_LEN                36u
#define RSDP_REVISION_2         2

/* "Fixed ACPI Description Table (FADT)", 244-byte layout (revision 4). */
#define FADT_FIRMWARE_CTRL      36
#define FADT_DSDT               40
#define FADT_SCI_INT            46
#define FADT_SMI_CMD            48
#define FADT_PM1A_EVT_BLK       56
#define FADT_PM1A_CNT_BLK       64
#define FADT_PM_TMR_BLK         76
#define FADT_PM1_EVT_LEN        88
#define FADT_PM1_CNT_LEN        89
#define FADT_PM_TMR_LEN         91
#define FADT_P_LVL2_LAT         96
#define FADT_P_LVL3_LAT         98
#define FADT_IAPC_BOOT_ARCH     109
#define FADT_FLAGS              112
#define FADT_X_DSDT             140
#define FADT_X_PM1A_EVT_BLK     148
#define FADT_X_PM1A_CNT_BLK     172
#define FADT_X_PM_TMR_BLK       208
#define FADT_LEN                244u
#define FADT_REVISION           4
#define FADT_SCI_IRQ            9	/* ISA IRQ 9, as QEMU's PIIX4 (never raised) */
#define FADT_NO_C2_C3           0x0fff	/* latency > 100/1000 us: C2/C3 unsupported */

/* FADT "Fixed ACPI Description Table Fixed Feature Flags". */
#define FADT_F_WBINVD           BIT(0)	/* WBINVD flushes all caches */
#define FADT_F_PROC_C1          BIT(2)	/* C1 (HLT) works on all CPUs */
#define FADT_F_PWR_BUTTON       BIT(4)	/* no fixed-feature power button */
#define FADT_F_SLP_BUTTON       BIT(5)	/* no fixed-feature sleep button */
#define FADT_F_TMR_VAL_EXT      BIT(8)	/* the PM timer is 32 bits wide */
/* "IA-PC Boot Architecture Flags". */
#define FADT_BOOT_VGA_NOT_PRESENT   BIT(2)
#define FADT_BOOT_CMOS_RTC_NOT_PRESENT BIT(5)

/* "Generic Address Structure (GAS)": 12 bytes. */
#define GAS_SPACE_ID            0
#define GAS_BIT_WIDTH           1
#define GAS_BIT_OFFSET          2
#define GAS_ACCESS_SIZE         3
#define GAS_ADDRESS             4
#define GAS_SYSTEM_IO           1
#define GAS_ACCESS_WORD         2
#define GAS_ACCESS_DWORD        3

/* "Firmware ACPI Control Structure (FACS)": 64 bytes, 64-byte aligned,
 * no checksum. */
#define FACS_SIGNATURE          0
#define FACS_LENGTH             4
#define FACS_VERSION            32
#define FACS_LEN                64u
#define FACS_ALIGN              64u
#define FACS_VERSION_ACPI2      1

/* "Multiple APIC Description Table (MADT) Format". */
#define MADT_LAPIC_ADDRESS      36
#define MADT_FLAGS              40
#define MADT_ENTRIES            44u
#define MADT_REVISION           1
#define MADT_PCAT_COMPAT        BIT(0)	/* the 8259 pair is there (masks only) */
#define MADT_XAPIC_BASE         0xfee00000u
/* "Processor Local APIC Structure". */
#define MADT_TYPE_LOCAL_APIC    0
#define MADT_LAPIC_LEN          8u
#define MADT_LAPIC_UID          2
#define MADT_LAPIC_ID           3
#define MADT_LAPIC_FLAGS        4
#define MADT_LAPIC_ENABLED      BIT(0)

#define RSDT_REVISION           1
#define XSDT_REVISION           1
#define DSDT_REVISION           2	/* AML integers are 64-bit */
#define TABLE_ALIGN             16u
#define SDT_TABLES              2	/* FADT, MADT (FACS and DSDT hang off the FADT) */

_Static_assert(PLATFORM_ACPI_BASE >= 0xe0000 && PLATFORM_ACPI_BASE % TABLE_ALIGN == 0,
	       "the RSDP must be where the BIOS-area scan looks");

static void put8(u8 *p, u8 v) { p[0] = v; }
static void put16(u8 *p, u16 v) { __builtin_memcpy(p, &v, sizeof(v)); }
static void put32(u8 *p, u32 v) { __builtin_memcpy(p, &v, sizeof(v)); }
static void put64(u8 *p, u64 v) { __builtin_memcpy(p, &v, sizeof(v)); }

u8 platform_acpi_sum(const u8 *p, u64 len)
{
	u8 sum = 0;
	for (u64 i = 0; i < len; i++)
		sum = (u8)(sum + p[i]);
	return sum;
}

/* The checksum byte that makes p[0, len) sum to 0 (it must be 0 before). */
static void acpi_fix_checksum(u8 *p, u64 len, u32 at)
{
	p[at] = (u8)(0x100 - platform_acpi_sum(p, len));
}

static void sdt_header(u8 *t, const char *sig, u32 len, u8 rev)
{
	memcpy(t + SDT_SIGNATURE, sig, 4);
	put32(t + SDT_LENGTH, len);
	put8(t + SDT_REVISION, rev);
	memcpy(t + SDT_OEMID, OEM_ID, 6);
	memcpy(t + SDT_OEM_TABLE_ID, OEM_TABLE_ID, 8);
	put32(t + SDT_OEM_REVISION, 1);
	memcpy(t + SDT_CREATOR_ID, CREATOR_ID, 4);
	put32(t + SDT_CREATOR_REVISION, 1);
}

static void gas_io(u8 *g, u16 port, u8 bytes, u8 access)
{
	put8(g + GAS_SPACE_ID, GAS_SYSTEM_IO);
	put8(g + GAS_BIT_WIDTH, (u8)(bytes * 8));
	put8(g + GAS_BIT_OFFSET, 0);
	put8(g + GAS_ACCESS_SIZE, access);
	put64(g + GAS_ADDRESS, port);
}

static void build_fadt(u8 *t, u32 facs, u32 dsdt)
{
	sdt_header(t, "FACP", FADT_LEN, FADT_REVISION);
	put32(t + FADT_FIRMWARE_CTRL, facs);
	put32(t + FADT_DSDT, dsdt);
	put16(t + FADT_SCI_INT, FADT_SCI_IRQ);
	/* SMI_CMD 0: no SMM and no legacy mode, the machine is always in
	 * ACPI mode (so PM1_CNT.SCI_EN reads 1). */
	put32(t + FADT_SMI_CMD, 0);
	put32(t + FADT_PM1A_EVT_BLK, ACPI_PM1A_EVT_BLK);
	put32(t + FADT_PM1A_CNT_BLK, ACPI_PM1A_CNT_BLK);
	put32(t + FADT_PM_TMR_BLK, ACPI_PM_TMR_BLK);
	put8(t + FADT_PM1_EVT_LEN, ACPI_PM1A_EVT_LEN);
	put8(t + FADT_PM1_CNT_LEN, ACPI_PM1A_CNT_LEN);
	put8(t + FADT_PM_TMR_LEN, ACPI_PM_TMR_LEN);
	put16(t + FADT_P_LVL2_LAT, FADT_NO_C2_C3);
	put16(t + FADT_P_LVL3_LAT, FADT_NO_C2_C3);
	put16(t + FADT_IAPC_BOOT_ARCH,
	      (u16)(FADT_BOOT_VGA_NOT_PRESENT | FADT_BOOT_CMOS_RTC_NOT_PRESENT));
	put32(t + FADT_FLAGS, (u32)(FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON |
				    FADT_F_SLP_BUTTON | FADT_F_TMR_VAL_EXT));
	/* X_FIRMWARE_CTRL stays 0: FIRMWARE_CTRL holds the FACS (a 32-bit
	 * address; the spec allows one of the two). X_DSDT repeats DSDT. */
	put64(t + FADT_X_DSDT, dsdt);
	gas_io(t + FADT_X_PM1A_EVT_BLK, ACPI_PM1A_EVT_BLK, ACPI_PM1A_EVT_LEN, GAS_ACCESS_WORD);
	gas_io(t + FADT_X_PM1A_CNT_BLK, ACPI_PM1A_CNT_BLK, ACPI_PM1A_CNT_LEN, GAS_ACCESS_WORD);
	gas_io(t + FADT_X_PM_TMR_BLK, ACPI_PM_TMR_BLK, ACPI_PM_TMR_LEN, GAS_ACCESS_DWORD);
	acpi_fix_checksum(t, FADT_LEN, SDT_CHECKSUM);
}

static u32 build_madt(u8 *t, u32 apic_id)
{
	u32 len = MADT_ENTRIES + MADT_LAPIC_LEN;
	u8 *e = t + MADT_ENTRIES;

	sdt_header(t, "APIC", len, MADT_REVISION);
	put32(t + MADT_LAPIC_ADDRESS, MADT_XAPIC_BASE);
	put32(t + MADT_FLAGS, (u32)MADT_PCAT_COMPAT);
	put8(e, MADT_TYPE_LOCAL_APIC);
	put8(e + 1, MADT_LAPIC_LEN);
	put8(e + MADT_LAPIC_UID, 0);
	/* An xAPIC ID is 8 bits; a VM's is its vAPIC's (0 after reset). */
	put8(e + MADT_LAPIC_ID, (u8)apic_id);
	put32(e + MADT_LAPIC_FLAGS, (u32)MADT_LAPIC_ENABLED);
	acpi_fix_checksum(t, len, SDT_CHECKSUM);
	return len;
}

int platform_acpi_build(u8 *ram, u64 ram_size, u32 apic_id,
			struct platform_acpi_layout *out)
{
	if (ram_size < PLATFORM_BIOS_END)
		return -ERANGE;

	u64 at = PLATFORM_ACPI_BASE;
	struct platform_acpi_layout l;
	l.rsdp = at;
	at = ALIGN_UP(at + RSDP_LEN, TABLE_ALIGN);
	l.rsdt = at;
	u32 rsdt_len = SDT_HEADER_LEN + SDT_TABLES * 4;
	at = ALIGN_UP(at + rsdt_len, TABLE_ALIGN);
	l.xsdt = at;
	u32 xsdt_len = SDT_HEADER_LEN + SDT_TABLES * 8;
	at = ALIGN_UP(at + xsdt_len, FACS_ALIGN);
	l.facs = at;
	at = ALIGN_UP(at + FACS_LEN, TABLE_ALIGN);
	l.fadt = at;
	at = ALIGN_UP(at + FADT_LEN, TABLE_ALIGN);
	l.dsdt = at;
	at = ALIGN_UP(at + SDT_HEADER_LEN, TABLE_ALIGN);
	l.madt = at;
	at += MADT_ENTRIES + MADT_LAPIC_LEN;
	l.end = at;
	ASSERT(l.end <= PLATFORM_ACPI_BASE + PLATFORM_ACPI_SIZE);

	memset(ram + PLATFORM_ACPI_BASE, 0, PLATFORM_ACPI_SIZE);

	u8 *facs = ram + l.facs;
	memcpy(facs + FACS_SIGNATURE, "FACS", 4);
	put32(facs + FACS_LENGTH, FACS_LEN);
	put8(facs + FACS_VERSION, FACS_VERSION_ACPI2);

	u8 *dsdt = ram + l.dsdt;
	sdt_header(dsdt, "DSDT", SDT_HEADER_LEN, DSDT_REVISION);
	acpi_fix_checksum(dsdt, SDT_HEADER_LEN, SDT_CHECKSUM);

	build_fadt(ram + l.fadt, (u32)l.facs, (u32)l.dsdt);
	build_madt(ram + l.madt, apic_id);

	const u64 tables[SDT_TABLES] = { l.fadt, l.madt };
	u8 *rsdt = ram + l.rsdt, *xsdt = ram + l.xsdt;
	sdt_header(rsdt, "RSDT", rsdt_len, RSDT_REVISION);
	sdt_header(xsdt, "XSDT", xsdt_len, XSDT_REVISION);
	for (u32 i = 0; i < SDT_TABLES; i++) {
		put32(rsdt + SDT_HEADER_LEN + 4 * i, (u32)tables[i]);
		put64(xsdt + SDT_HEADER_LEN + 8 * i, tables[i]);
	}
	acpi_fix_checksum(rsdt, rsdt_len, SDT_CHECKSUM);
	acpi_fix_checksum(xsdt, xsdt_len, SDT_CHECKSUM);

	u8 *rsdp = ram + l.rsdp;
	memcpy(rsdp + RSDP_SIGNATURE, "RSD PTR ", 8);
	memcpy(rsdp + RSDP_OEMID, OEM_ID, 6);
	put8(rsdp + RSDP_REVISION, RSDP_REVISION_2);
	put32(rsdp + RSDP_RSDT_ADDRESS, (u32)l.rsdt);
	put32(rsdp + RSDP_LENGTH, RSDP_LEN);
	put64(rsdp + RSDP_XSDT_ADDRESS, l.xsdt);
	acpi_fix_checksum(rsdp, RSDP_V1_LEN, RSDP_CHECKSUM);
	acpi_fix_checksum(rsdp, RSDP_LEN, RSDP_EXTENDED_CHECKSUM);

	*out = l;
	return 0;
}
