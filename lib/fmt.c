/*
 * lib/fmt.c - a printf formatter small enough to read, for the console and for
 * building strings. Pure: compiles for the host and is unit-tested there.
 */
#include "lib/lib.h"

struct fmt_out {
	char  *buf;
	size_t size;
	size_t len;	/* characters the full output would have */
};

static void out_char(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

/* Emits digits of v in base (10 or 16), honouring width, zero padding, left
 * alignment and an optional minus sign. */
static void out_number(struct fmt_out *o, u64 v, unsigned base, bool upper,
		       bool negative, int width, bool zero, bool left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);

	int total = n + (negative ? 1 : 0);
	if (!left && !zero)
		out_pad(o, ' ', width - total);
	if (negative)
		out_char(o, '-');
	if (!left && zero)
		out_pad(o, '0', width - total);
	while (n)
		out_char(o, tmp[--n]);
	if (left)
		out_pad(o, ' ', width - total);
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { .buf = buf, .size = size, .len = 0 };

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			out_char(&o, *p);
			continue;
		}
		p++;
		bool left = false, zero = false;
		for (;; p++) {
			if (*p == '-')
				left = true;
			else if (*p == '0')
				zero = true;
			else
				break;
		}
		int width = 0;
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		int lng = 0;	/* -2 hh, -1 h, 0 int, 1 long, 2 long long / size_t */
		for (;; p++) {
			if (*p == 'l')
				lng++;
			else if (*p == 'h')
				lng--;
			else if (*p == 'z')
				lng = 2;
			else
				break;
		}
		switch (*p) {
		case 'd':
		case 'i': {
			s64 v;
			if (lng >= 1)
				v = lng == 1 ? va_arg(ap, long) : va_arg(ap, long long);
			else
				v = va_arg(ap, int);
			if (lng == -1)
				v = (s16)v;
			else if (lng == -2)
				v = (s8)v;
			bool neg = v < 0;
			u64 mag = neg ? (u64)0 - (u64)v : (u64)v;
			out_number(&o, mag, 10, false, neg, width, zero, left);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			u64 v;
			if (lng >= 1)
				v = lng == 1 ? va_arg(ap, unsigned long)
					     : va_arg(ap, unsigned long long);
			else
				v = va_arg(ap, unsigned int);
			if (lng == -1)
				v = (u16)v;
			else if (lng == -2)
				v = (u8)v;
			out_number(&o, v, *p == 'u' ? 10 : 16, *p == 'X', false,
				   width, zero, left);
			break;
		}
		case 'p':
			out_char(&o, '0');
			out_char(&o, 'x');
			out_number(&o, (u64)(uintptr_t)va_arg(ap, void *), 16,
				   false, false, width, zero, left);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int n = 0;
			while (s[n])
				n++;
			if (!left)
				out_pad(&o, ' ', width - n);
			for (int i = 0; i < n; i++)
				out_char(&o, s[i]);
			if (left)
				out_pad(&o, ' ', width - n);
			break;
		}
		case 'c':
			out_char(&o, (char)va_arg(ap, int));
			break;
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			p--;	/* a lone '%' at the end: stop at the NUL */
			break;
		default:	/* unknown conversion: print it as written */
			out_char(&o, '%');
			out_char(&o, *p);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* The most a cut marker takes: " [line cut: 4294967295 bytes more]\n". */
#define FMT_CUT_MARKER_MAX  40

size_t fmt_cut_line(char *buf, size_t size, size_t full)
{
	char marker[FMT_CUT_MARKER_MAX + 1];

	if (full < size)
		return full;
	if (size <= FMT_CUT_MARKER_MAX + 1) {
		/* No room to say it: keep what fits and end the line. */
		if (size < 2)
			return 0;
		buf[size - 2] = '\n';
		buf[size - 1] = '\0';
		return size - 1;
	}
	/* Keep as much as fits before the marker; the marker counts what
	 * was dropped (the line's own newline included, if it had one). */
	size_t keep = size - 1 - FMT_CUT_MARKER_MAX;
	int m = fmt_snprintf(marker, sizeof(marker), " [line cut: %llu bytes more]\n",
			     (unsigned long long)(full - keep));
	size_t mlen = MIN((size_t)m, sizeof(marker) - 1);
	memcpy(buf + keep, marker, mlen);
	buf[keep + mlen] = '\0';
	return keep + mlen;
}

int parse_u64(const char *s, size_t len, u64 *out)
{
	unsigned base = 10;
	u64 v = 0;
	size_t i = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		unsigned d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}
