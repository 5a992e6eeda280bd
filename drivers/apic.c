/*
 * drivers/apic.c - the local APIC in xAPIC (MMIO) or x2APIC (MSR) mode, and
 * IPIs. SDM Vol. 3A, "Advanced Programmable Interrupt Controller (APIC)" and
 * "Extended xAPIC (x2APIC)". The boot CPU picks x2APIC when CPUID 1 ECX bit 21
 * offers it; every AP then uses the same mode.
 */
#include "boot/cpu.h"
#include "drivers/drivers.h"

#define CPUID_1_ECX_X2APIC   BIT(21)

/* xAPIC register offsets; the x2APIC MSR is 0x800 + offset / 16
 * (SDM Vol. 3A, "x2APIC Register Address Space"). */
#define APIC_ID         0x020
#define APIC_VERSION    0x030
#define APIC_TPR        0x080
#define APIC_EOI        0x0b0
#define APIC_SPIV       0x0f0
#define APIC_ICR_LOW    0x300
#define APIC_ICR_HIGH   0x310
#define X2APIC_MSR_BASE 0x800
_Static_assert(X2APIC_MSR_ICR == X2APIC_MSR_BASE + APIC_ICR_LOW / 16, "x2APIC ICR MSR");

#define SPIV_APIC_ENABLE     BIT(8)
#define ICR_DELIVERY_FIXED   (0u << 8)
#define ICR_DELIVERY_INIT    (5u << 8)
#define ICR_DELIVERY_STARTUP (6u << 8)
#define ICR_SEND_PENDING     BIT(12)  /* xAPIC only */
#define ICR_LEVEL_ASSERT     BIT(14)
#define ICR_TRIGGER_LEVEL    BIT(15)
#define XAPIC_DEST_SHIFT     24

static bool x2apic;
static volatile u32 *xapic_mmio = (volatile u32 *)(uintptr_t)APIC_DEFAULT_BASE;

static u32 apic_read(u32 reg)
{
	if (x2apic)
		return (u32)rdmsr(X2APIC_MSR_BASE + reg / 16);
	return xapic_mmio[reg / 4];
}

static void apic_write(u32 reg, u32 v)
{
	if (x2apic)
		wrmsr(X2APIC_MSR_BASE + reg / 16, v);
	else
		xapic_mmio[reg / 4] = v;
}

/* ICR: in x2APIC mode one 64-bit MSR write with the 32-bit destination in
 * the high half; in xAPIC mode the high word first (its write sends nothing),
 * then the low word, then wait for the delivery status to clear. */
static void apic_write_icr(u32 dest, u32 low)
{
	if (x2apic) {
		/* A WRMSR to an x2APIC register is not serializing: fence so the
		 * stores before the IPI are visible when it lands (SDM Vol. 3A,
		 * "x2APIC Register Address Space"). */
		__asm__ volatile("mfence; lfence" ::: "memory");
		wrmsr(X2APIC_MSR_ICR, ((u64)dest << 32) | low);
		return;
	}
	u64 flags = irq_save();
	xapic_mmio[APIC_ICR_HIGH / 4] = dest << XAPIC_DEST_SHIFT;
	xapic_mmio[APIC_ICR_LOW / 4] = low;
	for (u32 i = 0; i < 1000000 && (xapic_mmio[APIC_ICR_LOW / 4] & ICR_SEND_PENDING); i++)
		cpu_relax();
	irq_restore(flags);
}

void apic_init(void)
{
	u64 base = rdmsr(IA32_APIC_BASE);

	if (this_cpu_index() == 0) {
		u32 a, b, c, d;
		cpuid_count(1, 0, &a, &b, &c, &d);
		x2apic = (c & CPUID_1_ECX_X2APIC) != 0;
		xapic_mmio = (volatile u32 *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
	}
	/* SDM: x2APIC mode is entered from xAPIC mode (EN first, then EXTD). */
	base |= APIC_BASE_ENABLE;
	wrmsr(IA32_APIC_BASE, base);
	if (x2apic)
		wrmsr(IA32_APIC_BASE, base | APIC_BASE_EXTD);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SPIV, SPIV_APIC_ENABLE | VECTOR_SPURIOUS);
}

u32 apic_id(void)
{
	u32 id = apic_read(APIC_ID);
	return x2apic ? id : id >> XAPIC_DEST_SHIFT;
}

bool apic_is_x2apic(void)
{
	return x2apic;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

void apic_send_ipi(u32 dest_apic_id, u8 vector)
{
	apic_write_icr(dest_apic_id, ICR_DELIVERY_FIXED | ICR_LEVEL_ASSERT | vector);
}

bool apic_ipi_icr(u32 dest_apic_id, u8 vector, u64 *icr)
{
	*icr = ((u64)dest_apic_id << 32) | ICR_DELIVERY_FIXED | ICR_LEVEL_ASSERT | vector;
	return x2apic;
}

void apic_send_init(u32 dest_apic_id)
{
	apic_write_icr(dest_apic_id, ICR_DELIVERY_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL);
	udelay(200);
	/* INIT level de-assert: required by older APICs, ignored by newer ones. */
	apic_write_icr(dest_apic_id, ICR_DELIVERY_INIT | ICR_TRIGGER_LEVEL);
}

void apic_send_sipi(u32 dest_apic_id, u8 start_page)
{
	apic_write_icr(dest_apic_id, ICR_DELIVERY_STARTUP | start_page);
}
