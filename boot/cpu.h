/*
 * boot/cpu.h - per-CPU state and the CPU primitives the kernel uses: the GDT,
 * TSS and IDT each CPU loads, interrupt masking, and the trap frame the
 * interrupt stubs (boot/isr.asm) build. SDM Vol. 3A, "Protected-Mode Memory
 * Management" and "Interrupt and Exception Handling" (64-bit mode).
 */
#ifndef BOOT_CPU_H
#define BOOT_CPU_H

#include "boot/boot.h"

/* GDT selectors, the same on every CPU (boot/entry.asm uses 0x08 and 0x10). */
#define GDT_KERNEL_CS   0x08
#define GDT_KERNEL_DS   0x10
#define GDT_TSS         0x18    /* a 16-byte system descriptor */
#define GDT_ENTRIES     5

#define KSTACK_SIZE     (16 * 1024)
#define IST_STACK_SIZE  (8 * 1024)

#define RFLAGS_IF       BIT(9)  /* Interrupt enable flag */

/* SDM Vol. 3A, "Task-State Segment (TSS)" in 64-bit mode. */
struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes");

enum cpu_role { CPU_ROLE_NONE, CPU_ROLE_GUEST, CPU_ROLE_SERVICE };

struct percpu {
	struct percpu *self;	/* GS:0, so this_cpu() is one load */
	u32 index;		/* 0 = the boot CPU */
	u32 apic_id;
	enum cpu_role role;
	volatile bool online;
	u64 gdt[GDT_ENTRIES + 1] __aligned(16);
	struct tss64 tss __aligned(16);
	u8 *stack_top;
	u64 ipis_received;	/* VECTOR_SERVICE_IPI taken on this CPU */
	void *vcpu;		/* the vCPU this core runs, if a guest core */
};

extern struct percpu cpus[MAX_CPUS];
extern u32 cpu_count;		/* CPUs that are online */

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

static inline u32 this_cpu_index(void)
{
	return this_cpu()->index;
}

static inline u64 irq_save(void)
{
	u64 flags;
	__asm__ volatile("pushfq; pop %0; cli" : "=r"(flags) :: "memory");
	return flags;
}

static inline void irq_restore(u64 flags)
{
	if (flags & RFLAGS_IF)
		__asm__ volatile("sti" ::: "memory");
}

static inline u64 read_cr0(void) { u64 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u64 read_cr2(void) { u64 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline u64 read_cr3(void) { u64 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u64 read_cr4(void) { u64 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(u64 v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr4(u64 v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }

/* The frame boot/isr.asm builds; the layout is shared with the assembly. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};
_Static_assert(offsetof(struct trap_frame, vector) == 15 * 8, "isr.asm frame");
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "isr.asm frame");

typedef void (*trap_handler_fn)(struct trap_frame *tf);

/* Loads this CPU's GDT, TSS, IDT and GS base; index 0 also builds the IDT. */
void cpu_init(u32 index, u8 *stack_top);
/* Installs the handler for an interrupt vector (32..255). */
void trap_register(u8 vector, trap_handler_fn fn);
/* Points the vector's interrupt gate at an assembly entry of its own (with
 * its own register contract), bypassing trap_dispatch. All CPUs. */
void trap_set_entry(u8 vector, void (*entry)(void));
/* Stops every other CPU (best effort) and powers off with status. */
__noreturn void cpu_stop_all_and_power_off(int status);
/* Stops this CPU for good: interrupts off, halt forever. */
__noreturn void cpu_halt_forever(void);

/* ---- SMP (boot/smp.c) ---------------------------------------------------- */
/* Starts every enabled CPU the MADT lists (INIT-SIPI-SIPI), each entering
 * ap_main; reports CPUs that never answer and goes on without them. */
void smp_boot(const u32 *apic_ids, u32 count);

/* ---- kernel internals shared between boot/ files ---------------------- */
struct mb2_info;
u64 mm_init(const struct mb2_info *mb, u64 mbi_phys);	/* boot/mm.c */
u64 mm_free_bytes(void);
void trap_dispatch(struct trap_frame *tf);		/* boot/cpu.c, from isr.asm */
void ap_main(u64 index);				/* boot/main.c, from the trampoline */

#endif /* BOOT_CPU_H */
