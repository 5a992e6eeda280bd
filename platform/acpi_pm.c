/*
 * platform/acpi_pm.c - the ACPI PM register block at 0x600 (QEMU's PIIX4
 * layout): PM1a event (PM1_STS, PM1_EN), PM1a control (PM1_CNT) and the PM
 * timer. ACPI Specification, "ACPI Hardware Specification": "Power
 * Management Timer" (3.579545 MHz; 24 bits, or 32 with the FADT's
 * TMR_VAL_EXT, which ours sets), "PM1 Event Grouping", "PM1 Control
 * Grouping".
 *
 * The timer is derived from the host TSC: ticks = TSC cycles since the VM was
 * made x 3579545 / TSC Hz. Nothing here ever raises an event (no SCI is ever
 * delivered), so PM1_STS reads 0; PM1_EN keeps what is written; PM1_CNT
 * reads SCI_EN = 1 (the FADT has no SMI_CMD, so the machine is always in
 * ACPI mode) and keeps SLP_TYP; a write with SLP_EN is reported to the
 * caller, which logs it: sleep states are not modelled.
 */
#include "platform/platform.h"

#define PM_OFF_STS   0	/* PM1_STS, 16 bits, write 1 to clear */
#define PM_OFF_EN    2	/* PM1_EN, 16 bits */
#define PM_OFF_CNT   4	/* PM1_CNT, 16 bits */
#define PM_OFF_TMR   8	/* PM_TMR, 32 bits, read-only */
#define PM_REGS_END  12

void acpi_pm_init(struct acpi_pm *pm, u64 tsc_now, u64 tsc_hz)
{
	*pm = (struct acpi_pm){ .tsc_base = tsc_now, .tsc_hz = tsc_hz,
				.pm1_cnt = (u16)ACPI_PM1_CNT_SCI_EN };
}

u32 acpi_pm_timer(const struct acpi_pm *pm, u64 tsc_now)
{
	if (!pm->tsc_hz)
		return 0;
	u64 d = tsc_now - pm->tsc_base;
	/* d * F / hz without a 128-bit product: whole seconds, then the
	 * remainder (< hz, so remainder * F < 2^64 for any hz below 5 THz). */
	u64 ticks = d / pm->tsc_hz * ACPI_PM_TIMER_HZ +
		    d % pm->tsc_hz * ACPI_PM_TIMER_HZ / pm->tsc_hz;
	return (u32)ticks;	/* TMR_VAL_EXT: the counter wraps at 2^32 */
}

/* The byte at offset off of the block: the registers as little-endian
 * words; -1 where no register is. */
static int pm_byte(const struct acpi_pm *pm, u32 off, u32 tmr)
{
	u16 reg;

	if (off >= PM_OFF_TMR && off < PM_REGS_END)
		return (u8)(tmr >> (8 * (off - PM_OFF_TMR)));
	switch (off & ~1u) {
	case PM_OFF_STS: reg = 0; break;
	case PM_OFF_EN:  reg = pm->pm1_en; break;
	case PM_OFF_CNT: reg = pm->pm1_cnt; break;
	default:         return -1;
	}
	return (u8)(reg >> (8 * (off & 1)));
}

void acpi_pm_read(const struct acpi_pm *pm, u16 port, u32 size, u64 tsc_now, u32 *val)
{
	u32 off = (u32)(port - ACPI_PM_BASE), v = 0;
	u32 tmr = acpi_pm_timer(pm, tsc_now);

	for (u32 i = 0; i < size && i < 4; i++) {
		int b = off + i < ACPI_PM_SIZE ? pm_byte(pm, off + i, tmr) : -1;
		v |= (u32)(b < 0 ? 0xff : b) << (8 * i);
	}
	*val = v;
}

bool acpi_pm_write(struct acpi_pm *pm, u16 port, u32 size, u32 val)
{
	u32 off = (u32)(port - ACPI_PM_BASE);
	bool sleep = false;

	for (u32 i = 0; i < size && i < 4; i++, val >>= 8) {
		u32 o = off + i;
		u8 b = (u8)val;
		u32 shift = 8 * (o & 1);
		switch (o & ~1u) {
		case PM_OFF_STS:	/* write 1 to clear: nothing is ever set */
			break;
		case PM_OFF_EN:
			pm->pm1_en = (u16)((pm->pm1_en & ~(0xffu << shift)) | ((u32)b << shift));
			break;
		case PM_OFF_CNT: {
			u16 w = (u16)((pm->pm1_cnt & ~(0xffu << shift)) | ((u32)b << shift));
			if (w & ACPI_PM1_CNT_SLP_EN)
				sleep = true;
			/* SLP_EN is write-only; SCI_EN stays set (no SMI_CMD). */
			pm->pm1_cnt = (u16)((w & ~ACPI_PM1_CNT_SLP_EN) | ACPI_PM1_CNT_SCI_EN);
			break;
		}
		default:	/* the timer is read-only; the rest holds nothing */
			break;
		}
	}
	if (sleep)
		pm->sleep_requests++;
	return sleep;
}
