/*
 * drivers/drivers.h - the machine's devices as the hypervisor uses them: the
 * COM1 console, the local APIC (xAPIC or x2APIC) and IPIs, the TSC and PIT,
 * ACPI tables (MADT: the CPUs), and powering off with a status.
 *
 * The ACPI table parser (drivers/acpi.c) is pure: it reaches memory only
 * through a map callback, so it is unit-tested on the host.
 */
#ifndef DRIVERS_DRIVERS_H
#define DRIVERS_DRIVERS_H

#include "lib/lib.h"

/* ---- ACPI (drivers/acpi.c, pure) ---------------------------------------- */
#define ACPI_MAX_CPUS  64

struct acpi_cpu {
	u32 apic_id;
	u32 uid;		/* ACPI processor UID */
	bool enabled;		/* flags bit 0; online-capable-only CPUs are not */
};

struct acpi_madt_info {
	u64 lapic_base;		/* local APIC physical base (override applied) */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	u32 cpu_count;		/* entries in cpus[], enabled or not */
	bool pcat_compat;	/* MADT flags bit 0: 8259 PICs present */
	char error[128];	/* why acpi_parse_madt refused */
};

/* Returns a pointer through which len bytes at physical address phys can be
 * read, or NULL if that range is not readable (outside memory, overflow). */
typedef const void *(*acpi_map_fn)(void *ctx, u64 phys, u64 len);

/* From the RSDP (rsdp_len readable bytes, as found in the multiboot2 tag),
 * finds the XSDT (revision >= 2 and non-zero address) or else the RSDT, then
 * the MADT ("APIC"), checking every signature, length and checksum, and lists
 * the processor local APIC (type 0) and local x2APIC (type 9) entries. Returns
 * 0, or -EINVAL / -ENOENT with info->error naming the problem. */
int acpi_parse_madt(const void *rsdp, u32 rsdp_len, acpi_map_fn map,
		    void *ctx, struct acpi_madt_info *info);


/* ---- port I/O and MSRs ---------------------------------------------------- */
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void cpuid_count(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

/* ---- COM1 console (drivers/serial.c, drivers/console.c) ----------------- */
#define COM1_PORT  0x3f8

void serial_init(void);
void serial_putc(char c);
/* Writes one whole line (or any text) to the console under the console lock. */
void console_write(const char *s, size_t len);

/* ---- local APIC (drivers/apic.c) ------------------------------------------ */
#define IA32_APIC_BASE           0x1b
#define APIC_BASE_BSP            BIT(8)   /* processor is the BSP */
#define APIC_BASE_EXTD           BIT(10)  /* x2APIC mode enable */
#define APIC_BASE_ENABLE         BIT(11)  /* xAPIC global enable */
#define APIC_BASE_ADDR_MASK      0xffffff000ull
#define APIC_DEFAULT_BASE        0xfee00000ull

/* Fixed interrupt vectors the hypervisor uses. */
#define VECTOR_SERVICE_IPI       0xf0    /* "there are events": to the service core */
#define VECTOR_SPURIOUS          0xff

/* Enables this CPU's local APIC, in x2APIC mode when CPUID offers it (the BSP
 * decides; APs follow). Must run on every CPU before it sends or takes IPIs. */
void apic_init(void);
u32 apic_id(void);
bool apic_is_x2apic(void);
void apic_eoi(void);
/* Sends a fixed-vector IPI to the CPU with this APIC ID. */
void apic_send_ipi(u32 dest_apic_id, u8 vector);
/* The x2APIC ICR (MSR X2APIC_MSR_ICR) value of that IPI, for senders that
 * keep it and send with one WRMSR; returns false in xAPIC mode, where the
 * IPI takes apic_send_ipi. */
#define X2APIC_MSR_ICR           0x830
bool apic_ipi_icr(u32 dest_apic_id, u8 vector, u64 *icr);
/* INIT-SIPI-SIPI (SDM Vol. 3A, "MP Initialization Example"). */
void apic_send_init(u32 dest_apic_id);
void apic_send_sipi(u32 dest_apic_id, u8 start_page);

/* ---- time (drivers/tsc.c) ------------------------------------------------- */
/* Finds the TSC frequency from CPUID 15h/16h, else by counting TSC ticks over
 * a PIT interval; returns it in Hz and remembers it for udelay(). */
u64 tsc_init(void);
u64 tsc_hz(void);
const char *tsc_source(void);   /* "cpuid-15h", "cpuid-16h" or "pit" */
void udelay(u64 us);

/* ---- power (drivers/power.c) ---------------------------------------------- */
/* Prints "doorbell: exit status N" as the last line and powers the machine
 * off: QEMU's isa-debug-exit, then Bochs's shutdown port; on a machine with
 * neither, halts this CPU. Never returns. */
__noreturn void power_off(int status);

/* ---- legacy 8259 PICs (drivers/pic.c) ------------------------------------ */
/* Moves the PICs' vectors off the exception range (the BIOS leaves IRQ 0 on
 * vector 8, where it would look like a double fault) and masks every line:
 * the hypervisor uses only the local APIC. */
void pic_disable(void);
/* Waits until the UART has sent every byte it holds (before powering off). */
void serial_flush(void);

#endif /* DRIVERS_DRIVERS_H */
