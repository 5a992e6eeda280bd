/*
 * drivers/tsc.c - the TSC's frequency, for delays and for turning cycle counts
 * into time. SDM Vol. 3B, "Time-Stamp Counter" and CPUID leaves 15h ("Time
 * Stamp Counter and Nominal Core Crystal Clock") and 16h ("Processor
 * Frequency Information"); without them, the TSC is counted across a 10 ms
 * one-shot of PIT channel 2 (the 8254 runs at 1.193182 MHz on every PC).
 *
 * In Bochs the TSC counts retired instructions, so the "frequency" is the
 * emulator's instructions per emulated second.
 */
#include "drivers/drivers.h"

#define PIT_HZ            1193182ull
#define PIT_CH2_DATA      0x42
#define PIT_MODE_CMD      0x43
#define PIT_CH2_GATE_PORT 0x61   /* bit 0 gate, bit 1 speaker, bit 5 OUT2 */
#define PIT_GATE2         BIT(0)
#define PIT_SPEAKER       BIT(1)
#define PIT_OUT2          BIT(5)
#define PIT_CMD_CH2_LOHI_MODE0 0xb0  /* channel 2, lobyte/hibyte, mode 0 */
#define CALIBRATE_MS      10

static u64 tsc_freq;
static const char *tsc_src = "none";

static u64 tsc_from_pit(void)
{
	u16 count = (u16)(PIT_HZ * CALIBRATE_MS / 1000);
	u8 gate = inb(PIT_CH2_GATE_PORT);

	outb(PIT_CH2_GATE_PORT, (u8)((gate & ~PIT_SPEAKER) & ~PIT_GATE2));
	outb(PIT_MODE_CMD, PIT_CMD_CH2_LOHI_MODE0);
	outb(PIT_CH2_DATA, (u8)count);
	outb(PIT_CH2_DATA, (u8)(count >> 8));
	outb(PIT_CH2_GATE_PORT, (u8)((gate & ~PIT_SPEAKER) | PIT_GATE2));
	u64 start = rdtsc();
	/* Bounded: a machine without a PIT must not hang here. */
	for (u64 i = 0; i < 100000000ull && !(inb(PIT_CH2_GATE_PORT) & PIT_OUT2); i++)
		;
	u64 end = rdtsc();
	outb(PIT_CH2_GATE_PORT, gate);
	return (end - start) * (1000 / CALIBRATE_MS);
}

u64 tsc_init(void)
{
	u32 a, b, c, d;

	cpuid_count(0, 0, &a, &b, &c, &d);
	u32 max_leaf = a;
	if (max_leaf >= 0x15) {
		cpuid_count(0x15, 0, &a, &b, &c, &d);
		if (a && b && c) {	/* crystal Hz * numerator / denominator */
			tsc_freq = (u64)c * b / a;
			tsc_src = "cpuid-15h";
		}
	}
	if (!tsc_freq && max_leaf >= 0x16) {
		cpuid_count(0x16, 0, &a, &b, &c, &d);
		if (a & 0xffff) {	/* base frequency in MHz */
			tsc_freq = (u64)(a & 0xffff) * 1000000ull;
			tsc_src = "cpuid-16h";
		}
	}
	if (!tsc_freq) {
		tsc_freq = tsc_from_pit();
		tsc_src = "pit";
	}
	if (!tsc_freq)
		tsc_freq = 1000000000ull;	/* keep udelay finite */
	return tsc_freq;
}

u64 tsc_hz(void)
{
	return tsc_freq;
}

const char *tsc_source(void)
{
	return tsc_src;
}

void udelay(u64 us)
{
	u64 end = rdtsc() + tsc_freq / 1000000 * us;
	while (rdtsc() < end)
		cpu_relax();
}
