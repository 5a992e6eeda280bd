/*
 * platform/platform.h - the firmware side of the guest's PC, as QEMU's "pc"
 * machine shows it to kvm-unit-tests and other small kernels: the fw_cfg
 * interface (ports 0x510-0x511), the ACPI tables in the BIOS area (RSDP,
 * RSDT, XSDT, FADT, FACS, DSDT, MADT) and the ACPI PM register block (ports
 * 0x600-0x63f: PM1a event, PM1a control, PM timer).
 *
 * References: QEMU docs/specs/fw_cfg.rst ("Guest-side Hardware Interface",
 * "Firmware Configuration Items"); the ACPI Specification, chapter "ACPI
 * Software Programming Model" ("Root System Description Pointer (RSDP)",
 * "System Description Table Header", "Fixed ACPI Description Table (FADT)",
 * "Firmware ACPI Control Structure (FACS)", "Multiple APIC Description Table
 * (MADT)") and chapter "ACPI Hardware Specification" ("Power Management
 * Timer", "PM1 Event Grouping", "PM1 Control Grouping").
 *
 * Pure: the tables are written into a buffer standing for guest RAM, the
 * devices are state machines fed with port accesses and TSC values, so the
 * whole module compiles for the host and is unit-tested there
 * (tests/host/test_platform.c). vmx/platform.c wires it to a VM.
 */
#ifndef PLATFORM_PLATFORM_H
#define PLATFORM_PLATFORM_H

#include "lib/lib.h"

/* ---- ACPI tables ---------------------------------------------------------- */
/*
 * The tables live in the system BIOS area, where a PC's firmware puts the
 * RSDP (ACPI spec, "Finding the RSDP on IA-PC Systems": a 16-byte aligned
 * "RSD PTR " in 0xe0000-0xfffff). The guest's multiboot memory map reports
 * [0xa0000, 0x100000) reserved, and the loader loads no kernel there, so the
 * tables are never overwritten unknowingly. Everything fits in the first
 * PLATFORM_ACPI_SIZE bytes; the rest of the area stays zero.
 */
#define PLATFORM_ACPI_BASE      0xe0000ull
#define PLATFORM_ACPI_SIZE      0x1000u
#define PLATFORM_BIOS_END       0x100000ull	/* the scan's end */

/* Where each table went, guest-physical (for messages and tests). */
struct platform_acpi_layout {
	u64 rsdp, rsdt, xsdt, fadt, facs, dsdt, madt;
	u64 end;		/* one past the last byte written */
};

/*
 * Writes the ACPI tables for a VM with one CPU whose local APIC has ID
 * apic_id (xAPIC at 0xfee00000, no IOAPIC) into ram, which stands for
 * guest-physical [0, ram_size); fills *out. The FADT points at the PM block
 * below and declares a 32-bit PM timer (TMR_VAL_EXT). Returns 0, or -ERANGE
 * (nothing written) when guest RAM does not reach PLATFORM_BIOS_END.
 */
int platform_acpi_build(u8 *ram, u64 ram_size, u32 apic_id,
			struct platform_acpi_layout *out);

/* The sum of len bytes modulo 256 (0 for a table with a right checksum). */
u8 platform_acpi_sum(const u8 *p, u64 len);

/* ---- fw_cfg (QEMU docs/specs/fw_cfg.rst) ----------------------------------- */
#define FWCFG_PORT_SELECTOR     0x510	/* 16-bit writes select an item */
#define FWCFG_PORT_DATA         0x511	/* 8-bit reads return its bytes */
#define FWCFG_PORTS             2

/* Item keys ("Firmware Configuration Items"; kvm-unit-tests' lib/x86/fwcfg.h
 * names 0x11 MAX_RAM, its "dummy entry" for the end of usable RAM). */
#define FW_CFG_SIGNATURE        0x00	/* "QEMU" */
#define FW_CFG_ID               0x01	/* u32 feature bits */
#define FW_CFG_UUID             0x02	/* 16 bytes */
#define FW_CFG_RAM_SIZE         0x03	/* u64 bytes */
#define FW_CFG_NB_CPUS          0x05	/* u16 */
#define FW_CFG_MAX_CPUS         0x0f	/* u16 */
#define FW_CFG_MAX_RAM          0x11	/* u64 bytes */
#define FW_CFG_WRITE_CHANNEL    0x4000	/* ignored on select, as in QEMU */
#define FW_CFG_ARCH_LOCAL       0x8000
#define FW_CFG_ID_TRADITIONAL   BIT(0)	/* the port interface; no DMA (bit 1) */

struct fwcfg {
	u64 ram_size;		/* RAM_SIZE and MAX_RAM */
	u16 cpus;		/* NB_CPUS and MAX_CPUS */
	u16 selector;		/* the selected key */
	u32 offset;		/* next byte of the selected item */
};

/* An fw_cfg device for a VM with ram_size bytes of RAM and cpus vCPUs;
 * selector 0 (the signature) at offset 0, as after reset. */
void fwcfg_init(struct fwcfg *f, u64 ram_size, u16 cpus);
/* A selector write: key is selected and its data offset reset to 0. */
void fwcfg_select(struct fwcfg *f, u16 key);
/* A data read: the next byte of the selected item, then the offset
 * advances; past the item's end, or for an unknown key, 0 (as QEMU). */
u8 fwcfg_read(struct fwcfg *f);

/* ---- ACPI PM block (QEMU's PIIX4 layout) --------------------------------- */
#define ACPI_PM_BASE            0x600	/* PM1a_EVT_BLK: PM1_STS, PM1_EN */
#define ACPI_PM_SIZE            0x40	/* the block, 0x600-0x63f */
#define ACPI_PM1A_EVT_BLK       0x600
#define ACPI_PM1A_EVT_LEN       4
#define ACPI_PM1A_CNT_BLK       0x604
#define ACPI_PM1A_CNT_LEN       2
#define ACPI_PM_TMR_BLK         0x608
#define ACPI_PM_TMR_LEN         4
#define ACPI_PM_TIMER_HZ        3579545ull	/* "Power Management Timer" */

/* PM1 Control register bits ("PM1 Control Registers"). */
#define ACPI_PM1_CNT_SCI_EN     BIT(0)
#define ACPI_PM1_CNT_SLP_TYP    (7u << 10)
#define ACPI_PM1_CNT_SLP_EN     BIT(13)	/* write-only, reads 0 */

struct acpi_pm {
	u64 tsc_base;		/* TSC at which the timer read 0 */
	u64 tsc_hz;		/* the TSC's rate */
	u16 pm1_en;		/* PM1_EN, read/write, nothing is ever raised */
	u16 pm1_cnt;		/* PM1_CNT as last written (SLP_EN cleared) */
	u32 sleep_requests;	/* writes with SLP_EN set (not modelled) */
};

/* The block at reset; the timer counts from tsc_now at tsc_hz. */
void acpi_pm_init(struct acpi_pm *pm, u64 tsc_now, u64 tsc_hz);
/* The PM timer's 32-bit count at tsc_now: 3.579545 MHz since tsc_base. */
u32 acpi_pm_timer(const struct acpi_pm *pm, u64 tsc_now);
/* An access of size 1, 2 or 4 bytes at port (in the block) at TSC tsc_now.
 * Reads fill *val; bytes of the block that hold no register read as all
 * ones, as unassigned ports do. Returns true when a write asked to sleep
 * (SLP_EN set), which the caller reports: sleeping is not modelled. */
void acpi_pm_read(const struct acpi_pm *pm, u16 port, u32 size, u64 tsc_now, u32 *val);
bool acpi_pm_write(struct acpi_pm *pm, u16 port, u32 size, u32 val);

#endif /* PLATFORM_PLATFORM_H */
