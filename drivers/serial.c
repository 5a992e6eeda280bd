/*
 * drivers/serial.c - the 16550 UART on COM1, polled: 115200 8N1, FIFOs on.
 * Bochs and QEMU pace it by the baud rate in emulated time only.
 */
#include "drivers/drivers.h"

#define UART_THR   0   /* transmit holding register (DLAB=0) */
#define UART_DLL   0   /* divisor latch low (DLAB=1) */
#define UART_IER   1   /* interrupt enable */
#define UART_DLM   1   /* divisor latch high (DLAB=1) */
#define UART_FCR   2   /* FIFO control */
#define UART_LCR   3   /* line control */
#define UART_MCR   4   /* modem control */
#define UART_LSR   5   /* line status */

#define LCR_8N1          0x03
#define LCR_DLAB         0x80
#define FCR_ENABLE_CLEAR 0x07  /* enable FIFOs, clear RX and TX */
#define MCR_DTR_RTS_OUT2 0x0b
#define LSR_THRE         0x20  /* THR empty */
#define LSR_TEMT         0x40  /* transmitter empty: all sent */
#define UART_CLOCK       115200

void serial_init(void)
{
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, LCR_DLAB);
	outb(COM1_PORT + UART_DLL, (u8)(UART_CLOCK / 115200));
	outb(COM1_PORT + UART_DLM, 0);
	outb(COM1_PORT + UART_LCR, LCR_8N1);
	outb(COM1_PORT + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1_PORT + UART_MCR, MCR_DTR_RTS_OUT2);
}

void serial_putc(char c)
{
	/* Bounded wait: a missing UART must not hang the hypervisor. */
	for (u32 i = 0; i < 1000000 && !(inb(COM1_PORT + UART_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1_PORT + UART_THR, (u8)c);
}

void serial_flush(void)
{
	for (u32 i = 0; i < 10000000 && !(inb(COM1_PORT + UART_LSR) & LSR_TEMT); i++)
		cpu_relax();
}
