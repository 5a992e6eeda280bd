/* Host tests for lib/fmt.c: the printf formatter and parse_u64. */
#include "lib/fmt.c"
#include "tests/host/test.h"

static const char *f(const char *fmt, ...)
{
	static char buf[128];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

TEST(test_integers)
{
	CHECK_STR(f("%d", 0), "0");
	CHECK_STR(f("%d", -42), "-42");
	CHECK_STR(f("%u", 4000000000u), "4000000000");
	CHECK_STR(f("%x", 0xdeadbeefu), "deadbeef");
	CHECK_STR(f("%X", 0xabcu), "ABC");
	CHECK_STR(f("%llx", 0xffffffffffffffffull), "ffffffffffffffff");
	CHECK_STR(f("%lld", (long long)INT64_MIN), "-9223372036854775808");
	CHECK_STR(f("%zu", (size_t)123), "123");
	CHECK_STR(f("%hhx", 0x1ff), "ff");
	CHECK_STR(f("%hd", 0x18000), "-32768");
}

TEST(test_width_and_flags)
{
	CHECK_STR(f("%08x", 0x1234), "00001234");
	CHECK_STR(f("%5d|", 42), "   42|");
	CHECK_STR(f("%-5d|", 42), "42   |");
	CHECK_STR(f("%05d", -42), "-0042");
	CHECK_STR(f("%-6s|", "ab"), "ab    |");
	CHECK_STR(f("%4s", "abcdef"), "abcdef");
}

TEST(test_strings_and_misc)
{
	CHECK_STR(f("%s=%c", "k", 'v'), "k=v");
	CHECK_STR(f("%s", (char *)NULL), "(null)");
	CHECK_STR(f("100%%"), "100%");
	CHECK_STR(f("%p", (void *)0x1000), "0x1000");
	CHECK_STR(f("%q"), "%q");
	CHECK_STR(f("end%"), "end");
}

TEST(test_truncation)
{
	char small[5];
	int n = fmt_snprintf(small, sizeof(small), "%s", "abcdefgh");
	CHECK_EQ(n, 8);
	CHECK_STR(small, "abcd");
	CHECK_EQ(fmt_snprintf(NULL, 0, "%d", 12345), 5);
}

/* printk's 512-byte buffer with a longer line: the line is cut, says how much
 * was dropped, and still ends with a newline (issue 10: glued lines). */
TEST(test_cut_line)
{
	char buf[512], line[700];
	memset(line, 'k', sizeof(line));
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';

	int n = fmt_snprintf(buf, sizeof(buf), "%s", line);
	CHECK_EQ(n, 699);
	size_t len = fmt_cut_line(buf, sizeof(buf), (size_t)n);
	CHECK_EQ(len, strlen(buf));
	CHECK(len <= sizeof(buf) - 1);
	CHECK_EQ(buf[len - 1], '\n');
	CHECK(strstr(buf, " [line cut: 228 bytes more]\n") != NULL);
	CHECK_EQ(strspn(buf, "k"), sizeof(buf) - 1 - 40);	/* 471 kept */
	/* 471 kept + 228 cut = the 699 the line had. */

	/* A line that fits is left alone, newline or not. */
	n = fmt_snprintf(buf, sizeof(buf), "short\n");
	CHECK_EQ(fmt_cut_line(buf, sizeof(buf), (size_t)n), 6);
	CHECK_STR(buf, "short\n");
	n = fmt_snprintf(buf, sizeof(buf), "%s", "no newline");
	CHECK_EQ(fmt_cut_line(buf, sizeof(buf), (size_t)n), 10);
	CHECK_STR(buf, "no newline");
	/* Exactly full (511 characters): not cut. */
	memset(line, 'x', 511);
	line[511] = '\0';
	n = fmt_snprintf(buf, sizeof(buf), "%s", line);
	CHECK_EQ(fmt_cut_line(buf, sizeof(buf), (size_t)n), 511);
	/* 512: cut, by one byte plus the marker's room. */
	memset(line, 'x', 512);
	line[512] = '\0';
	n = fmt_snprintf(buf, sizeof(buf), "%s", line);
	len = fmt_cut_line(buf, sizeof(buf), (size_t)n);
	CHECK(strstr(buf, " [line cut: 41 bytes more]\n") != NULL);
	CHECK_EQ(buf[len - 1], '\n');

	/* A buffer too small for the note still ends the line. */
	char tiny[8];
	n = fmt_snprintf(tiny, sizeof(tiny), "%s", "abcdefghij");
	CHECK_EQ(fmt_cut_line(tiny, sizeof(tiny), (size_t)n), 7);
	CHECK_STR(tiny, "abcdef\n");
}

TEST(test_parse_u64)
{
	u64 v = 0;
	CHECK_EQ(parse_u64("123", 3, &v), 0);
	CHECK_EQ(v, 123);
	CHECK_EQ(parse_u64("0xD0000000", 10, &v), 0);
	CHECK_EQ(v, 0xd0000000ull);
	CHECK_EQ(parse_u64("18446744073709551615", 20, &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_EQ(parse_u64("18446744073709551616", 20, &v), -ERANGE);
	CHECK_EQ(parse_u64("", 0, &v), -EINVAL);
	CHECK_EQ(parse_u64("0x", 2, &v), -EINVAL);
	CHECK_EQ(parse_u64("12a", 3, &v), -EINVAL);
	CHECK_EQ(parse_u64("-1", 2, &v), -EINVAL);
	CHECK_EQ(parse_u64("99junk", 2, &v), 0); /* only len characters read */
	CHECK_EQ(v, 99);
}

int main(void)
{
	RUN(test_integers);
	RUN(test_width_and_flags);
	RUN(test_strings_and_misc);
	RUN(test_truncation);
	RUN(test_parse_u64);
	RUN(test_cut_line);
	return TEST_SUMMARY();
}
