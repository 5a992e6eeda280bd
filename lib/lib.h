/*
 * lib/lib.h - the small freestanding C library every module uses: fixed-width
 * types, errno values, memory and string helpers, a printf formatter, ASSERT.
 *
 * Pure modules (iobus, ioeventfd, decoder, EPT builder, parsers) include only
 * this header, so they also compile on the host: there HOST_TEST is defined and
 * the libc versions of the string functions and printf are used instead.
 */
#ifndef LIB_LIB_H
#define LIB_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t  u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef unsigned long long u64;	/* so "%llx" fits on host and kernel alike */
typedef int8_t   s8;
typedef int16_t  s16;
typedef int32_t  s32;
typedef long long s64;

/* Linux errno numbers: the hypercall ABI returns them negated (CONTRACTS.md 3). */
#define EPERM        1
#define ENOENT       2
#define EIO          5
#define E2BIG        7
#define EBADF        9
#define EAGAIN      11
#define ENOMEM      12
#define EFAULT      14
#define EBUSY       16
#define EEXIST      17
#define ENODEV      19
#define EINVAL      22
#define ENOSPC      28
#define ERANGE      34
#define ENOSYS      38
#define EOVERFLOW   75
#define EOPNOTSUPP  95
#define ETIMEDOUT  110

#define ARRAY_SIZE(a)      (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)     (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a)   ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a)   (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define BIT(n)             (1ull << (n))
#define MIN(a, b)          ((a) < (b) ? (a) : (b))
#define MAX(a, b)          ((a) > (b) ? (a) : (b))

#define KiB  (1024ull)
#define MiB  (1024ull * KiB)
#define GiB  (1024ull * MiB)
#define PAGE_SIZE   4096ull
#define PAGE_SHIFT  12

#define __packed   __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))
#define __noreturn __attribute__((noreturn))
#ifndef __always_inline	/* glibc has its own, for host builds */
#define __always_inline inline __attribute__((always_inline))
#endif
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Formats into buf (always NUL-terminated when size > 0); returns the length
 * the full output would have had. Supports %d %i %u %x %X %p %s %c %%, the
 * flags '-' and '0', a width, and the length modifiers hh h l ll z. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
/* A console line never runs into the next one: buf (size bytes) holds the
 * formatter's output, whose full length was full. If it was cut, its end is
 * replaced by " [line cut: N bytes more]\n" (or just "\n" in a tiny buffer).
 * Returns the length to write. */
size_t fmt_cut_line(char *buf, size_t size, size_t full);

#ifdef HOST_TEST
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define printk(...) printf(__VA_ARGS__)
#define panic(...) do { printf(__VA_ARGS__); fflush(stdout); abort(); } while (0)
#else
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/* printk writes to the console (drivers/console.c), serialised across CPUs
 * so lines from different CPUs never interleave within a line. */
int printk(const char *fmt, ...) __printf(1, 2);
int vprintk(const char *fmt, va_list ap);
/* panic prints "PANIC: <message>" with the CPU number and stops this CPU. */
__noreturn void panic(const char *fmt, ...) __printf(1, 2);
#endif

/* ASSERT stays on in every build (STYLE.md). */
#define ASSERT(cond)                                                        \
	do {                                                                \
		if (unlikely(!(cond)))                                      \
			panic("assertion failed: %s at %s:%d\n", #cond,     \
			      __FILE__, __LINE__);                          \
	} while (0)

/* Parses an unsigned number in decimal, or hex with a 0x prefix, from
 * [s, s+len). Returns 0 and stores it, or -EINVAL (not a number, trailing
 * junk, empty) or -ERANGE (does not fit in 64 bits). */
int parse_u64(const char *s, size_t len, u64 *out);

#endif /* LIB_LIB_H */
