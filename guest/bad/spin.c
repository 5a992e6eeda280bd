/*
 * guest/bad/spin.c - a guest that never exits and never yields: interrupts
 * off, a jump to itself. The hypervisor's run must end by its time limit
 * (tools/run: status 124), and other VMs must not notice.
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
