/*
 * guest/bad/spin.c - a guest that never exits and never yields: interrupts
 * off, a jump to itself. The hypervisor's watchdog (guest_timeout=, the
 * VMX-preemption timer) stops it and reports "vm N: guest timed out with
 * status 125" (boot test bochs-bad-spin), and other VMs must not notice.
 */
#include "lib/guest.h"

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	printf("spin: cli; jmp . forever\n");
	__asm__ volatile("cli\n1:\tjmp 1b");
	__builtin_unreachable();
}
