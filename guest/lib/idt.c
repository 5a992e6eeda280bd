/*
 * guest/lib/idt.c - the guest's exception facility (SDM Vol. 3A, "Interrupt
 * and Exception Handling"): an IDT with interrupt gates for vectors 0-31 that
 * enter the stubs of stubs32.asm / stubs64.asm, and guest_exception(), which
 * either resumes a faulting instruction listed in the fixup table (recording
 * the vector, so tests can expect #GP from RDMSR) or reports the exception
 * and ends the guest with GUEST_EXIT_EXCEPTION.
 *
 * Guests run with interrupts off: only exceptions ever arrive here.
 */
#include "guest.h"

#define IDT_EXCEPTIONS      32          /* vectors 0-31: exceptions */
#define GATE_INTERRUPT      0x8e        /* present, DPL 0, interrupt gate */

volatile int guest_fault_vector = GUEST_NO_FAULT;
volatile unsigned long guest_fault_error;

/* From stubs*.asm: the entry point of each vector's stub. */
extern const uintptr_t guest_isr_table[IDT_EXCEPTIONS];
/* From the linker script: the table GUEST_FIXUP() entries build. */
extern const struct guest_fixup __guest_fixup_start[], __guest_fixup_end[];

/* SDM Vol. 3A, "IDT Descriptors" (32-bit) and "64-Bit Mode IDT" (16 bytes:
 * the offset's bits 63:32 follow). Built with masks, never bitfields. */
struct idt_gate {
	u16 offset_low;
	u16 selector;
	u8  ist;            /* 64-bit: interrupt stack table index; 32-bit: 0 */
	u8  type_attr;
	u16 offset_mid;
#ifdef __x86_64__
	u32 offset_high;
	u32 reserved;
#endif
};
#ifdef __x86_64__
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate");
#else
_Static_assert(sizeof(struct idt_gate) == 8, "32-bit IDT gate");
#endif

struct idt_ptr {
	u16 limit;
	uintptr_t base;
} __packed;

static struct idt_gate guest_idt[IDT_EXCEPTIONS];

void guest_idt_init(void)
{
	struct idt_ptr ptr = { .limit = sizeof(guest_idt) - 1,
			       .base = (uintptr_t)guest_idt };
	u16 cs;

	/* The gates use the code segment we run in, set up by the entry code
	 * (a multiboot loader's own GDT may be gone, so entry loads one). */
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	for (unsigned int v = 0; v < IDT_EXCEPTIONS; v++) {
		uintptr_t off = guest_isr_table[v];
		struct idt_gate *g = &guest_idt[v];

		g->offset_low = (u16)off;
		g->selector = cs;
		g->ist = 0;
		g->type_attr = GATE_INTERRUPT;
		g->offset_mid = (u16)(off >> 16);
#ifdef __x86_64__
		g->offset_high = (u32)(off >> 32);
		g->reserved = 0;
#endif
	}
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

static const char *const exception_names[IDT_EXCEPTIONS] = {
	[0] = "#DE divide error",      [1] = "#DB debug",
	[2] = "NMI",                   [3] = "#BP breakpoint",
	[4] = "#OF overflow",          [5] = "#BR bound range",
	[6] = "#UD invalid opcode",    [7] = "#NM no math coprocessor",
	[8] = "#DF double fault",      [10] = "#TS invalid TSS",
	[11] = "#NP segment not present", [12] = "#SS stack fault",
	[13] = "#GP general protection", [14] = "#PF page fault",
	[16] = "#MF x87 error",        [17] = "#AC alignment check",
	[18] = "#MC machine check",    [19] = "#XM SIMD exception",
	[20] = "#VE virtualization",   [21] = "#CP control protection",
};

void guest_exception(struct guest_frame *f)
{
	const char *name = NULL;

	for (const struct guest_fixup *e = __guest_fixup_start;
	     e < __guest_fixup_end; e++) {
		if (e->insn == f->ip) {
			guest_fault_vector = (int)f->vector;
			guest_fault_error = f->error;
			f->ip = e->resume;
			return;
		}
	}
	if (f->vector < IDT_EXCEPTIONS)
		name = exception_names[f->vector];
	printf("guest: unexpected exception %lu (%s) error 0x%lx at ip 0x%lx\n",
	       f->vector, name ? name : "reserved", f->error, f->ip);
	if (f->vector == X86_VEC_PF) {
		unsigned long cr2;

		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
		printf("guest: page fault address 0x%lx\n", cr2);
	}
	guest_exit(GUEST_EXIT_EXCEPTION);
}
