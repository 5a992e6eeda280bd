/*
 * drivers/console.c - printk and panic over the serial port. A spinlock keeps
 * each printk call's text together when several CPUs print at once; "\n"
 * becomes "\r\n" on the wire. A line longer than 511 bytes is cut, says so,
 * and still ends with its newline (lib/fmt.c, fmt_cut_line).
 */
#include "boot/boot.h"
#include "boot/cpu.h"
#include "drivers/drivers.h"

static volatile u32 console_lock;

void console_write(const char *s, size_t len)
{
	u64 flags = irq_save();
	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
	irq_restore(flags);
}

int vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	/* A line longer than buf ends with a note and its newline. */
	console_write(buf, fmt_cut_line(buf, sizeof(buf), (size_t)n));
	return n;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

void panic(const char *fmt, ...)
{
	va_list ap;
	__asm__ volatile("cli");
	printk("PANIC on cpu %u: ", this_cpu_index());
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	cpu_stop_all_and_power_off(125);
}
