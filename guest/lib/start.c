/*
 * guest/lib/start.c - the C side of a guest's start and end: guest_start()
 * (called by entry32.asm / entry64.asm), guest_exit() through the exit port,
 * and the CPUID check that tells whether doorbell runs us.
 */
#include "guest.h"

/* Contract: called once, with interrupts off, on the boot stack, with the
 * loader's EAX and EBX. Never returns: guest_main's result is the exit code. */
void guest_start(u32 magic, struct multiboot_info *mbi)
{
	guest_idt_init();
	guest_exit((u32)guest_main(magic, mbi));
}

void guest_exit(u32 code)
{
	outl(code, EXIT_PORT);
	/* Nothing ended the run (no exit device): stop here rather than run
	 * off into whatever follows. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

bool guest_under_doorbell(void)
{
	struct cpuid_regs r = cpuid(1, 0);
	char sig[12];

	/* SDM Vol. 2A, CPUID: leaves 0x40000000-0x4fffffff are meaningful only
	 * when the hypervisor bit says a hypervisor defines them. */
	if (!(r.ecx & CPUID_1_ECX_HYPERVISOR))
		return false;
	r = cpuid(CPUID_HV_LEAF, 0);
	memcpy(sig + 0, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	/* The first 10 bytes identify doorbell; platform.c checks all 12. */
	return memcmp(sig, DOORBELL_SIGNATURE, 10) == 0;
}

long hypercall(unsigned long nr, unsigned long a0, unsigned long a1,
	       unsigned long a2, unsigned long a3)
{
	long ret;

	/* CONTRACTS.md section 3: RAX = nr, RBX, RCX, RDX, RSI = arguments,
	 * result in RAX, every other register preserved. */
	__asm__ volatile("vmcall"
			 : "=a"(ret)
			 : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
			 : "memory");
	return ret;
}
