/*
 * drivers/power.c - ending a run with a status that every runner can read.
 * The verdict is the serial line "doorbell: exit status N", printed last;
 * the power-off paths below only make the emulator stop at once:
 *  - QEMU: isa-debug-exit on port 0xf4 (tools/run adds the device);
 *  - Bochs: the string "Shutdown" written to port 0x8900 ends the simulation.
 * On real hardware neither port does anything and the CPU halts.
 */
#include "boot/cpu.h"
#include "drivers/drivers.h"

#define QEMU_DEBUG_EXIT_PORT  0xf4
#define BOCHS_SHUTDOWN_PORT   0x8900

void power_off(int status)
{
	__asm__ volatile("cli");
	printk("doorbell: exit status %d\n", status);
	serial_flush();
	outl(QEMU_DEBUG_EXIT_PORT, (u32)status);
	for (const char *s = "Shutdown"; *s; s++)
		outb(BOCHS_SHUTDOWN_PORT, (u8)*s);
	cpu_halt_forever();
}
