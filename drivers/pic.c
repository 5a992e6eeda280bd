/*
 * drivers/pic.c - silencing the legacy 8259A PICs. The BIOS programs the
 * master PIC's base vector to 8, so a timer tick would arrive on the double-
 * fault vector. We reinitialise both PICs with bases 0x20 and 0x28 (ICW1-4,
 * Intel 8259A datasheet) and then mask all lines (OCW1).
 */
#include "drivers/drivers.h"

#define PIC1_CMD   0x20
#define PIC1_DATA  0x21
#define PIC2_CMD   0xa0
#define PIC2_DATA  0xa1

#define ICW1_INIT_ICW4   0x11   /* edge, cascade, ICW4 follows */
#define ICW3_MASTER_IR2  0x04   /* slave on IR2 */
#define ICW3_SLAVE_ID    0x02
#define ICW4_8086        0x01
#define PIC1_BASE        0x20
#define PIC2_BASE        0x28
#define PIC_MASK_ALL     0xff

void pic_disable(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, PIC1_BASE);
	outb(PIC2_DATA, PIC2_BASE);
	outb(PIC1_DATA, ICW3_MASTER_IR2);
	outb(PIC2_DATA, ICW3_SLAVE_ID);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
}
