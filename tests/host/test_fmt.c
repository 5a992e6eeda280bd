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
	return TEST_SUMMARY();
}
