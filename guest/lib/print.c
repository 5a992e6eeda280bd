/*
 * guest/lib/print.c - output on COM1: polled 16550 transmit (CONTRACTS.md
 * section 2 promises THR and LSR bit 5) and a small printf. No UART set-up:
 * the platform's COM1 needs none, and every extra register write would be an
 * access the hypervisor has to emulate before the first line appears.
 */
#include "guest.h"

/* Polls of LSR before writing THR anyway. A platform that never reports THR
 * empty then still shows its output; platform.c checks LSR on its own. */
#define SERIAL_POLL_LIMIT 100000

void serial_putc(char c)
{
	for (int i = 0; i < SERIAL_POLL_LIMIT; i++)
		if (inb(COM1 + UART_LSR) & UART_LSR_THRE)
			break;
	outb((u8)c, COM1 + UART_THR);
}

/* Room for a 64-bit value in decimal (20 digits). */
#define PRINT_DIGITS_MAX 24

/* Writes the digits of v in base (10 or 16) backwards from end; returns
 * where they start. */
static const char *print_digits(char *end, unsigned long long v,
				unsigned int base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		*--end = digits[v % base];
		v /= base;
	} while (v);
	return end;
}

struct print_spec {
	bool left;              /* '-': pad on the right */
	char pad;               /* ' ' or '0' */
	int width;
};

static int print_padded(const struct print_spec *spec, const char *sign,
			const char *s, int len)
{
	int slen = (int)strlen(sign);
	int fill = spec->width - len - slen;
	int n = 0;

	if (fill < 0)
		fill = 0;
	if (!spec->left && spec->pad == ' ')
		for (; fill; fill--, n++)
			serial_putc(' ');
	for (; *sign; sign++, n++)
		serial_putc(*sign);
	if (!spec->left)
		for (; fill; fill--, n++)
			serial_putc('0');
	for (int i = 0; i < len; i++, n++)
		serial_putc(s[i]);
	for (; fill; fill--, n++)
		serial_putc(' ');
	return n;
}

/* Length modifiers, widest last. */
enum print_len { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE };

static unsigned long long print_arg_unsigned(va_list *ap, enum print_len len)
{
	switch (len) {
	case LEN_CHAR:  return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_SHORT: return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_LONG:  return va_arg(*ap, unsigned long);
	case LEN_LLONG: return va_arg(*ap, unsigned long long);
	case LEN_SIZE:  return va_arg(*ap, size_t);
	default:        return va_arg(*ap, unsigned int);
	}
}

static long long print_arg_signed(va_list *ap, enum print_len len)
{
	switch (len) {
	case LEN_CHAR:  return (signed char)va_arg(*ap, int);
	case LEN_SHORT: return (short)va_arg(*ap, int);
	case LEN_LONG:  return va_arg(*ap, long);
	case LEN_LLONG: return va_arg(*ap, long long);
	case LEN_SIZE:  return (long long)va_arg(*ap, size_t);
	default:        return va_arg(*ap, int);
	}
}

int vprintf(const char *fmt, va_list ap_in)
{
	va_list ap;
	int n = 0;

	/* Work on a copy so helpers can take a va_list pointer (va_list is an
	 * array type on x86-64 and cannot be passed by address portably). */
	va_copy(ap, ap_in);
	for (; *fmt; fmt++) {
		struct print_spec spec = { .left = false, .pad = ' ', .width = 0 };
		enum print_len len = LEN_INT;
		char buf[PRINT_DIGITS_MAX];
		char *end = buf + sizeof(buf);
		const char *p;

		if (*fmt != '%') {
			serial_putc(*fmt);
			n++;
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				spec.left = true;
			else if (*fmt == '0')
				spec.pad = '0';
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			spec.width = spec.width * 10 + (*fmt++ - '0');
		if (*fmt == 'h') {
			len = LEN_SHORT;
			if (*++fmt == 'h') {
				len = LEN_CHAR;
				fmt++;
			}
		} else if (*fmt == 'l') {
			len = LEN_LONG;
			if (*++fmt == 'l') {
				len = LEN_LLONG;
				fmt++;
			}
		} else if (*fmt == 'z') {
			len = LEN_SIZE;
			fmt++;
		}

		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v = print_arg_signed(&ap, len);
			unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v
						       : (unsigned long long)v;

			p = print_digits(end, mag, 10, false);
			n += print_padded(&spec, v < 0 ? "-" : "", p,
					  (int)(end - p));
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			unsigned long long v = print_arg_unsigned(&ap, len);

			p = print_digits(end, v, *fmt == 'u' ? 10 : 16,
					 *fmt == 'X');
			n += print_padded(&spec, "", p, (int)(end - p));
			break;
		}
		case 'p':
			p = print_digits(end, (uintptr_t)va_arg(ap, void *), 16,
					 false);
			n += print_padded(&spec, "0x", p, (int)(end - p));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			spec.pad = ' ';
			n += print_padded(&spec, "", s, (int)strlen(s));
			break;
		}
		case 'c':
			buf[0] = (char)va_arg(ap, int);
			spec.pad = ' ';
			n += print_padded(&spec, "", buf, 1);
			break;
		case '%':
			serial_putc('%');
			n++;
			break;
		default:
			/* Unknown conversion: show it rather than guess. */
			serial_putc('%');
			n++;
			if (!*fmt)
				goto out;
			serial_putc(*fmt);
			n++;
			break;
		}
	}
out:
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}
