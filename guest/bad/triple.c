/*
 * guest/bad/triple.c - a guest that triple-faults, for the hypervisor's
 * containment test: with an empty IDT (limit 0) no exception can be
 * delivered, so #UD becomes #GP, then #DF, then a shutdown (SDM Vol. 3A,
 * "Interrupt 8-Double Fault Exception (#DF)"). The hypervisor must report
 * the guest's crash and stay up; bare QEMU with -no-reboot just exits.
 */
#include "lib/guest.h"

struct idt_ptr {
	u16 limit;
	uintptr_t base;
} __packed;

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	static const struct idt_ptr null_idt = { .limit = 0, .base = 0 };

	(void)magic;
	(void)mbi;
	printf("triple: loading a null IDT and raising #UD: this is a triple fault\n");
	__asm__ volatile("lidt %0\n\tud2" : : "m"(null_idt) : "memory");
	printf("triple: still running after a triple fault\n");
	return GUEST_EXIT_FAIL;
}
