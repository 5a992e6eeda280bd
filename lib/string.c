/*
 * lib/string.c - the freestanding kernel's memory and string functions. gcc may
 * emit calls to memset/memcpy/memmove/memcmp itself, so these names are fixed.
 * (On the host, libc provides them.)
 */
#include "lib/lib.h"

/* Fast-string operations (SDM Vol. 1, "Fast-String Operation"): quadwords
 * for the bulk, then bytes for the tail. On hardware REP MOVSB alone would do
 * as well since Ivy Bridge; emulators step a REP per element, so moving eight
 * bytes a step makes the I/O bus's copy-on-write arrays 8x cheaper there. */
void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	u64 pattern = 0x0101010101010101ull * (u8)c;
	size_t q = n / 8, b = n % 8;
	__asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(pattern) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(b) : "a"(pattern) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t q = n / 8, b = n % 8;
	__asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(q) :: "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(b) :: "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;
	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (; *s; s++)
		if (*s == (char)c)
			return (char *)s;
	return c ? NULL : (char *)s;
}
