/*
 * guest/lib/test.c - the guest's test framework (see guest.h): runs a table
 * of tests, prints one verdict line per test and a summary whose last line
 * is "guest: N passed, N failed", then exits 0 if none failed, else 1.
 */
#include "guest.h"

static const char *test_current;       /* name of the running test */
static bool test_current_failed;
static bool test_current_skipped;

void guest_check_failed(int line, const char *fmt, ...)
{
	va_list ap;

	test_current_failed = true;
	printf("FAIL %s: ", test_current);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (line %d)\n", line);
}

void guest_skip(const char *why)
{
	if (test_current_failed)
		return;
	test_current_skipped = true;
	printf("SKIP %s: %s\n", test_current, why);
}

void guest_run_tests(const struct guest_test *tests, size_t n)
{
	bool doorbell = guest_under_doorbell();
	unsigned int passed = 0, failed = 0, skipped = 0;

	printf("guest: %zu tests, %s\n", n,
	       doorbell ? "under doorbell" : "not under doorbell");
	for (size_t i = 0; i < n; i++) {
		test_current = tests[i].name;
		test_current_failed = false;
		test_current_skipped = false;
		if ((tests[i].flags & GUEST_TEST_NEEDS_DOORBELL) && !doorbell)
			guest_skip("not under doorbell");
		else
			tests[i].fn();

		if (test_current_failed)
			failed++;
		else if (test_current_skipped)
			skipped++;
		else {
			passed++;
			printf("ok %s\n", test_current);
		}
	}
	printf("guest: %u skipped\n", skipped);
	printf("guest: %u passed, %u failed\n", passed, failed);
	guest_exit(failed ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS);
}
