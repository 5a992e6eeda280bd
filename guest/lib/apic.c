/*
 * guest/lib/apic.c - sending IPIs through the xAPIC's interrupt command
 * register (SDM Vol. 3A, "Interrupt Command Register (ICR)").
 */
#include "guest.h"

/* Polls of the delivery status before giving up. */
#define APIC_ICR_POLL_LIMIT 1000000

bool apic_icr_send(u32 high, u32 low)
{
	/* Writing the low half sends the IPI, so the destination goes first. */
	apic_write(APIC_ICR_HIGH, high);
	apic_write(APIC_ICR_LOW, low);
	for (int i = 0; i < APIC_ICR_POLL_LIMIT; i++)
		if (!(apic_read(APIC_ICR_LOW) & APIC_ICR_BUSY))
			return true;
	return false;
}
