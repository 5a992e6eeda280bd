/*
 * vmx/apic.c - the guest's emulated local APIC: IA32_APIC_BASE and the xAPIC
 * register page at 0xfee00000. Nothing here touches the real APIC: INIT,
 * SIPI and every other IPI the guest sends stop here (the guest is alone on
 * its core, and the service core must never be disturbed). SDM Vol. 3A,
 * "Local APIC", "Local APIC Status and Location", "Local APIC State After It
 * Has Been Software Disabled" / "after power-up or reset".
 */
#include "vmx/vmx_priv.h"

#define APIC_REG_ID        0x020
#define APIC_REG_VERSION   0x030
#define APIC_REG_TPR       0x080
#define APIC_REG_APR       0x090
#define APIC_REG_PPR       0x0a0
#define APIC_REG_EOI       0x0b0
#define APIC_REG_LDR       0x0d0
#define APIC_REG_DFR       0x0e0
#define APIC_REG_SPIV      0x0f0
#define APIC_REG_ESR       0x280
#define APIC_REG_ICR_LOW   0x300
#define APIC_REG_ICR_HIGH  0x310
#define APIC_REG_LVT_CMCI  0x2f0
#define APIC_REG_LVT_TIMER 0x320
#define APIC_REG_LVT_LINT1 0x360
#define APIC_REG_LVT_ERROR 0x370

#define APIC_VERSION_VALUE 0x00050014u	/* version 0x14, max LVT 5 (6 entries) */
#define APIC_SPIV_RESET    0xffu
#define APIC_LVT_MASKED    BIT(16)
#define APIC_ID_SHIFT      24
#define APIC_DFR_FLAT      0xffffffffu
#define ICR_DELIVERY_MASK  (7u << 8)
#define ICR_DELIVERY_INIT  (5u << 8)
#define ICR_DELIVERY_SIPI  (6u << 8)

/* SDM "Local APIC State After Power-Up or Reset": IDs and TPR zero, LVTs
 * masked, SPIV 0xff (software-disabled), DFR all ones. */
void vapic_reset(struct vm *vm)
{
	struct vapic *a = &vm->apic;
	u64 base = a->base_msr;
	u64 dropped = a->ipis_dropped;
	memset(a, 0, sizeof(*a));
	a->base_msr = base;
	a->ipis_dropped = dropped;
	a->spiv = APIC_SPIV_RESET;
	a->dfr = APIC_DFR_FLAT;
	for (u32 i = 0; i < ARRAY_SIZE(a->lvt); i++)
		a->lvt[i] = APIC_LVT_MASKED;
	*vapic_tpr(vm) = 0;
}

int vapic_write_base_msr(struct vm *vm, u64 val)
{
	struct vapic *a = &vm->apic;
	u64 reserved = ~(APIC_BASE_ADDR_MASK | APIC_BASE_ENABLE | APIC_BASE_BSP);

	/* x2APIC is not offered (CPUID hides it), so EXTD is reserved here;
	 * the BSP flag is read-only; the base may not move. */
	if ((val & reserved) || (val & APIC_BASE_ADDR_MASK) != XAPIC_PAGE_GPA ||
	    (val & APIC_BASE_BSP) != (a->base_msr & APIC_BASE_BSP))
		return -EINVAL;
	bool was_on = a->base_msr & APIC_BASE_ENABLE, on = val & APIC_BASE_ENABLE;
	a->base_msr = val;
	/* Disabling through the MSR and enabling again leaves the APIC in its
	 * power-up state (SDM "Enabling or Disabling the Local APIC"). */
	if (was_on != on)
		vapic_reset(vm);
	return 0;
}

static u32 *lvt_slot(struct vapic *a, u32 off)
{
	if (off == APIC_REG_LVT_CMCI)
		return &a->lvt[6];
	if (off >= APIC_REG_LVT_TIMER && off <= APIC_REG_LVT_ERROR && off % 16 == 0)
		return &a->lvt[(off - APIC_REG_LVT_TIMER) / 16];
	return NULL;
}

u32 vapic_read(struct vm *vm, u32 off)
{
	struct vapic *a = &vm->apic;
	u32 *lvt = lvt_slot(a, off);

	if (lvt)
		return *lvt;
	switch (off) {
	case APIC_REG_ID:       return a->id << APIC_ID_SHIFT;
	case APIC_REG_VERSION:  return APIC_VERSION_VALUE;
	case APIC_REG_TPR:      return *vapic_tpr(vm);
	/* Nothing is ever in service (ISRV = 0), so PPR = TPR, all 8 bits
	 * (SDM Vol. 3A, "Processor Priority Register (PPR)"). */
	case APIC_REG_PPR:      return *vapic_tpr(vm);
	case APIC_REG_LDR:      return a->ldr;
	case APIC_REG_DFR:      return a->dfr;
	case APIC_REG_SPIV:     return a->spiv;
	case APIC_REG_ESR:      return a->esr;
	case APIC_REG_ICR_LOW:  return a->icr_low;
	case APIC_REG_ICR_HIGH: return a->icr_high;
	default:                return 0;	/* ISR/TMR/IRR: nothing pending */
	}
}

void vapic_write(struct vm *vm, u32 off, u32 val)
{
	struct vapic *a = &vm->apic;
	u32 *lvt = lvt_slot(a, off);

	if (lvt) {
		*lvt = val;
		return;
	}
	switch (off) {
	case APIC_REG_ID:       a->id = val >> APIC_ID_SHIFT; break;
	case APIC_REG_TPR:      *vapic_tpr(vm) = val & 0xff; break;
	case APIC_REG_LDR:      a->ldr = val & 0xff000000u; break;
	case APIC_REG_DFR:      a->dfr = val | 0x0fffffffu; break;
	case APIC_REG_SPIV:     a->spiv = val & 0x13ffu; break;
	case APIC_REG_ESR:      a->esr = 0; break;
	case APIC_REG_EOI:      break;	/* nothing is ever in service */
	case APIC_REG_ICR_HIGH: a->icr_high = val; break;
	case APIC_REG_ICR_LOW:
		/* The guest is the only CPU of its VM: an IPI has nowhere to
		 * go. It is counted and never reaches a physical CPU. */
		a->icr_low = val & ~(u32)BIT(12);	/* delivery status: idle */
		a->ipis_dropped++;
		if (a->ipis_dropped <= 4) {
			u32 mode = val & ICR_DELIVERY_MASK;
			printk("vm %u: guest sent %s IPI (ICR 0x%x:%08x); the VM has one "
			       "vCPU, so it goes nowhere\n", vm->index,
			       mode == ICR_DELIVERY_INIT ? "an INIT" :
			       mode == ICR_DELIVERY_SIPI ? "a SIPI" : "an",
			       a->icr_high, val);
		}
		break;
	default:
		break;		/* read-only or reserved: writes are ignored */
	}
}
