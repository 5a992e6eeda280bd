/*
 * boot/cpu.c - each CPU's descriptor tables and the trap dispatcher.
 * SDM Vol. 3A, "Segment Descriptors", "Task Management in 64-bit Mode",
 * "Interrupt Descriptor Table (IDT)" and "Exception and Interrupt Reference".
 *
 * An exception in the hypervisor is a broken contract: the handler prints the
 * vector, error code, RIP, CR2 and all registers, then stops the machine with
 * status 125 (a hypervisor that faulted on one CPU is not to be trusted on
 * the others).
 */
#include "boot/cpu.h"
#include "drivers/drivers.h"

/* SDM Vol. 3A, "Segment Descriptors": access byte and flags. */
#define SEG_P            BIT(47)  /* Present */
#define SEG_S            BIT(44)  /* code/data (not system) */
#define SEG_TYPE_CODE_RX (0xaull << 40)
#define SEG_TYPE_DATA_RW (0x2ull << 40)
#define SEG_TYPE_TSS64   (0x9ull << 40)  /* available 64-bit TSS */
#define SEG_L            BIT(53)  /* 64-bit code segment */
#define SEG_DB           BIT(54)
#define SEG_G            BIT(55)  /* limit in 4 KiB units */
#define SEG_LIMIT_MAX    (0xffffull | (0xfull << 48))

/* SDM Vol. 3A, "64-Bit Mode IDT": gate type 0xE = 64-bit interrupt gate. */
#define IDT_GATE_INTR64  0xe
#define IDT_GATE_P       0x80
#define IST_FAULT        1        /* #DF, NMI, #MC run on a known-good stack */

#define MSR_GS_BASE      0xc0000101

#define EXC_NMI  2
#define EXC_DF   8
#define EXC_PF   14
#define EXC_MC   18

struct idt_entry {
	u16 offset_lo;
	u16 selector;
	u8  ist;
	u8  type_attr;
	u16 offset_mid;
	u32 offset_hi;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct idt_entry) == 16, "64-bit IDT gate is 16 bytes");

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

struct percpu cpus[MAX_CPUS];
u32 cpu_count = 1;

static struct idt_entry idt[256] __aligned(16);
static trap_handler_fn trap_handlers[256];
static u8 ist_stacks[MAX_CPUS][IST_STACK_SIZE] __aligned(16);
extern const u64 isr_stub_table[256];

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD exception", "#VE virtualization exception",
	"#CP control protection", "reserved 22", "reserved 23", "reserved 24",
	"reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security exception", "reserved 31",
};

static void idt_build(void)
{
	for (unsigned v = 0; v < 256; v++) {
		u64 addr = isr_stub_table[v];
		idt[v] = (struct idt_entry){
			.offset_lo = (u16)addr,
			.selector = GDT_KERNEL_CS,
			.ist = (v == EXC_DF || v == EXC_NMI || v == EXC_MC) ? IST_FAULT : 0,
			.type_attr = IDT_GATE_P | IDT_GATE_INTR64,
			.offset_mid = (u16)(addr >> 16),
			.offset_hi = (u32)(addr >> 32),
		};
	}
}

void cpu_init(u32 index, u8 *stack_top)
{
	struct percpu *c = &cpus[index];

	c->self = c;
	c->index = index;
	c->stack_top = stack_top;
	wrmsr(MSR_GS_BASE, (u64)(uintptr_t)c);

	u64 tss = (u64)(uintptr_t)&c->tss;
	c->gdt[0] = 0;
	c->gdt[1] = SEG_LIMIT_MAX | SEG_P | SEG_S | SEG_TYPE_CODE_RX | SEG_L | SEG_G;
	c->gdt[2] = SEG_LIMIT_MAX | SEG_P | SEG_S | SEG_TYPE_DATA_RW | SEG_DB | SEG_G;
	c->gdt[3] = (sizeof(c->tss) - 1) | ((tss & 0xffffff) << 16) |
		    SEG_TYPE_TSS64 | SEG_P | ((tss >> 24 & 0xff) << 56);
	c->gdt[4] = tss >> 32;
	c->tss.ist[IST_FAULT - 1] = (u64)(uintptr_t)(ist_stacks[index] + IST_STACK_SIZE);
	c->tss.rsp[0] = (u64)(uintptr_t)stack_top;
	c->tss.iomap_base = sizeof(c->tss);	/* no I/O permission bitmap */

	if (index == 0)
		idt_build();

	struct desc_ptr gdtr = { sizeof(u64) * GDT_ENTRIES - 1, (u64)(uintptr_t)c->gdt };
	struct desc_ptr idtr = { sizeof(idt) - 1, (u64)(uintptr_t)idt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %2\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"mov %3, %%eax\n\t"
		"mov %%eax, %%ds\n\t"
		"mov %%eax, %%es\n\t"
		"mov %%eax, %%ss\n\t"
		"lidt %1\n\t"
		"ltr %w4"
		:: "m"(gdtr), "m"(idtr), "i"(GDT_KERNEL_CS), "i"(GDT_KERNEL_DS),
		   "r"((u16)GDT_TSS)
		: "rax", "memory");
	/* ltr and the data-segment reload clobber nothing the GS base depends on:
	 * only a GS selector load would, and we never load one. */
}

void trap_register(u8 vector, trap_handler_fn fn)
{
	trap_handlers[vector] = fn;
}

void trap_set_entry(u8 vector, void (*entry)(void))
{
	u64 addr = (u64)(uintptr_t)entry;

	idt[vector].offset_lo = (u16)addr;
	idt[vector].offset_mid = (u16)(addr >> 16);
	idt[vector].offset_hi = (u32)(addr >> 32);
}

static void trap_print_exception(const struct trap_frame *tf)
{
	printk("\nEXCEPTION on cpu %u: vector %llu (%s), error code 0x%llx\n",
	       this_cpu_index(), tf->vector, exception_names[tf->vector],
	       tf->error_code);
	printk("  RIP %016llx  CS %04llx  RFLAGS %016llx  RSP %016llx  SS %04llx\n",
	       tf->rip, tf->cs, tf->rflags, tf->rsp, tf->ss);
	printk("  CR2 %016llx  CR3 %016llx  CR0 %016llx  CR4 %016llx\n",
	       read_cr2(), read_cr3(), read_cr0(), read_cr4());
	printk("  RAX %016llx  RBX %016llx  RCX %016llx  RDX %016llx\n",
	       tf->rax, tf->rbx, tf->rcx, tf->rdx);
	printk("  RSI %016llx  RDI %016llx  RBP %016llx\n", tf->rsi, tf->rdi, tf->rbp);
	printk("  R8  %016llx  R9  %016llx  R10 %016llx  R11 %016llx\n",
	       tf->r8, tf->r9, tf->r10, tf->r11);
	printk("  R12 %016llx  R13 %016llx  R14 %016llx  R15 %016llx\n",
	       tf->r12, tf->r13, tf->r14, tf->r15);
}

/* Called by isr_common with interrupts off. */
void trap_dispatch(struct trap_frame *tf)
{
	if (tf->vector < 32) {
		trap_print_exception(tf);
		cpu_stop_all_and_power_off(125);
	}
	trap_handler_fn fn = trap_handlers[tf->vector];
	if (fn) {
		fn(tf);
		return;
	}
	if (tf->vector == VECTOR_SPURIOUS)
		return;		/* spurious interrupts take no EOI */
	printk("cpu %u: unexpected interrupt vector 0x%llx, ignored\n",
	       this_cpu_index(), tf->vector);
	apic_eoi();
}

void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

static volatile u32 stopping;

void cpu_stop_all_and_power_off(int status)
{
	/* A second CPU failing while the first is already powering off just
	 * stops, so the verdict line is printed once. */
	if (__atomic_exchange_n(&stopping, 1, __ATOMIC_ACQ_REL))
		cpu_halt_forever();
	power_off(status);
}
