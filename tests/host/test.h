/*
 * tests/host/test.h - the host unit-test harness. A test file includes the .c
 * files under test directly (so static helpers are testable too), defines
 * TEST(name) functions and lists them in main() with RUN(name). A test passes
 * when none of its CHECKs failed; the binary ends with the line
 * "N passed, N failed" and exits non-zero if any test failed.
 *
 * Compiled with -DHOST_TEST -fsanitize=address,undefined by `make test`.
 */
#ifndef TESTS_HOST_TEST_H
#define TESTS_HOST_TEST_H

#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Line-buffer stdout so a sanitizer abort loses no line already printed. */
__attribute__((constructor)) static void test_line_buffer(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static int test_failed_checks;
static int test_passed, test_failed;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			printf("  %s:%d: CHECK(%s) failed\n", __FILE__,      \
			       __LINE__, #cond);                             \
			test_failed_checks++;                                \
		}                                                            \
	} while (0)

#define CHECK_EQ(a, b)                                                       \
	do {                                                                 \
		long long va_ = (long long)(a), vb_ = (long long)(b);        \
		if (va_ != vb_) {                                            \
			printf("  %s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld " \
			       "(0x%llx != 0x%llx)\n", __FILE__, __LINE__,   \
			       #a, #b, va_, vb_, (unsigned long long)va_,    \
			       (unsigned long long)vb_);                     \
			test_failed_checks++;                                \
		}                                                            \
	} while (0)

#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *sa_ = (a), *sb_ = (b);                           \
		if (strcmp(sa_, sb_) != 0) {                                 \
			printf("  %s:%d: CHECK_STR(%s, %s) failed: \"%s\" != " \
			       "\"%s\"\n", __FILE__, __LINE__, #a, #b, sa_,  \
			       sb_);                                         \
			test_failed_checks++;                                \
		}                                                            \
	} while (0)

#define RUN(name)                                                            \
	do {                                                                 \
		test_failed_checks = 0;                                      \
		name();                                                      \
		if (test_failed_checks) {                                    \
			printf("FAIL %s\n", #name);                          \
			test_failed++;                                       \
		} else {                                                     \
			printf("ok   %s\n", #name);                          \
			test_passed++;                                       \
		}                                                            \
	} while (0)

#define TEST_SUMMARY()                                                       \
	(printf("%d passed, %d failed\n", test_passed, test_failed),         \
	 test_failed ? 1 : 0)

/*
 * Concurrency tests: a reader thread publishes its progress with
 * test_progress_set(); the writer calls test_progress_wait() before it starts
 * changing things and now and then while it does, so the readers really run
 * while the data changes, however the host schedules the threads (a loaded
 * machine may otherwise run the whole writer before a reader starts).
 */
static inline void test_progress_set(long *counter, long v)
{
	__atomic_store_n(counter, v, __ATOMIC_RELAXED);
}
static inline long test_progress_get(long *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}
static inline void test_progress_wait(long *counters, int n, long min)
{
	for (int i = 0; i < n; i++)
		while (test_progress_get(&counters[i]) < min)
			sched_yield();
}

/* A small seeded PRNG (xorshift64*) so randomized tests are reproducible. */
static uint64_t test_rng_state = 0x9e3779b97f4a7c15ull;
static inline void test_seed(uint64_t s) { test_rng_state = s ? s : 1; }
static inline uint64_t test_rand(void)
{
	uint64_t x = test_rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	test_rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

#endif
