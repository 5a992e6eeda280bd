/*
 * guest/poll.c - the poll page (service/service.h "the poll page"; README
 * "The poll page") from the guest: CPUID leaf 0x40000002 announces it; it is
 * memory (zero at boot, every access size reads back, stores cost no exit);
 * the service core counts exactly the signals stored to a watched slot, none
 * before the watch, none after it, and the last look catches the final ones;
 * the watch MSR (CPUID 0x40000002 EDX) reads back, and is #GP for a
 * non-zero value with no service core; a
 * guest that scribbles garbage over the whole page gets, for each slot, a
 * count congruent to its seq's change mod 2^32 and nothing else moves (a
 * NOTIFY of event 100 in between reads back exactly 1.
 * With vcpus=2 both VMs run all of it at once on one service core, each
 * with its own page and events.
 *
 * Command line: slots=N (default 64): the slots CPUID must report; 0 for a
 * single CPU (no service core), where watching must be refused (#GP) and the
 * counting tests are skipped. Prints "poll: ..." lines with the figures.
 */
#include "lib/guest.h"

#define CPUID_HV_POLL      0x40000002u
#define POLL_GPA           0xfe100000u
#define POLL_BYTES         4096u
#define POLL_SLOTS         64u
#define SLOT_WORDS         16u		/* a slot: seq, tsc, 14 of the guest's */
#define POLL_WATCH_MSR     0x44420001u
#define VECTOR_GP          13
#define OTHER_EVENT        100
#define STORES_TIMED       1000u
#define STORE_MAX_CYCLES   40u		/* an exit costs far more, in Bochs too */

#define U(x)               ((unsigned long long)(x))	/* for printf */

static u64 want_slots = POLL_SLOTS;
static volatile u32 *const page = (volatile u32 *)(uintptr_t)POLL_GPA;

/* Watches the slots of mask (a WRMSR served on the service core). */
static void watch(u64 mask)
{
	wrmsr(POLL_WATCH_MSR, mask);
}

static volatile u32 *seq_of(u32 k) { return page + k * SLOT_WORDS; }

/* One signal of slot k: the TSC's low half, then the counter. */
static void signal_slot(u32 k)
{
	seq_of(k)[1] = (u32)rdtsc();
	seq_of(k)[0] = seq_of(k)[0] + 1;
}

/* EVENT_READ's count, low 32 bits (all a 32-bit guest gets). */
static u32 event_read(u32 id)
{
	return (u32)hypercall(HC_EVENT_READ, id, 0, 0, 0);
}

static void test_cpuid(void)
{
	struct cpuid_regs r = cpuid(CPUID_HV_LEAF, 0);
	CHECK_EQ(r.eax, CPUID_HV_POLL);
	r = cpuid(CPUID_HV_POLL, 0);
	printf("poll: CPUID 0x40000002: page at 0x%llx, %u slots\n", U(r.eax | (u64)r.ebx << 32), r.ecx);
	CHECK_EQ(r.eax, POLL_GPA);
	CHECK_EQ(r.ebx, 0);
	CHECK_EQ(r.ecx, want_slots);
	CHECK_EQ(r.edx, POLL_WATCH_MSR);
}

static void test_memory(void)
{
	volatile u8 *b = (volatile u8 *)page;
	volatile u16 *h = (volatile u16 *)page;
	u32 nonzero = 0;

	for (u32 i = 0; i < POLL_BYTES / 4; i++)
		nonzero += page[i] != 0;
	CHECK_EQ(nonzero, 0);			/* zeroed at boot */
	for (u32 i = 0; i < POLL_BYTES; i++)
		b[i] = (u8)(i * 7 + 1);
	for (u32 i = 0; i < POLL_BYTES; i += 97)
		CHECK_EQ(b[i], (u8)(i * 7 + 1));
	h[5] = 0xbeef;
	CHECK_EQ(b[10], 0xef);
	CHECK_EQ(b[11], 0xbe);
	page[1023] = 0x12345678u;
	CHECK_EQ(h[2046], 0x5678);
	CHECK_EQ(b[4095], 0x12);
	/* Stores that do not exit: a handful of cycles each. */
	u64 t0 = rdtsc();
	for (u32 i = 0; i < STORES_TIMED; i++)
		page[i % (POLL_BYTES / 4)] = i;
	u64 per = (rdtsc() - t0) / STORES_TIMED;
	printf("poll: %u stores to the page, %llu cycles each\n", STORES_TIMED, U(per));
	CHECK(per <= STORE_MAX_CYCLES);
	for (u32 i = 0; i < POLL_BYTES / 4; i++)
		page[i] = 0;
}

static void test_watch_msr(void)
{
	u64 v = 1;

	CHECK_EQ(rdmsr_safe(POLL_WATCH_MSR, &v), GUEST_NO_FAULT);
	CHECK_EQ(v, 0);				/* nothing watched at boot */
	if (want_slots == 0) {
		/* No service core: only 0 is a value, anything else #GP. */
		CHECK_EQ(wrmsr_safe(POLL_WATCH_MSR, 1), VECTOR_GP);
		CHECK_EQ(wrmsr_safe(POLL_WATCH_MSR, 1ull << 63), VECTOR_GP);
		CHECK_EQ(wrmsr_safe(POLL_WATCH_MSR, 0), GUEST_NO_FAULT);
		CHECK_EQ(rdmsr(POLL_WATCH_MSR), 0);
		return;
	}
	CHECK_EQ(wrmsr_safe(POLL_WATCH_MSR, 0x4000000080000001ull), GUEST_NO_FAULT);
	CHECK_EQ(rdmsr(POLL_WATCH_MSR), 0x4000000080000001ull);
	watch(~0ull);
	CHECK_EQ(rdmsr(POLL_WATCH_MSR), ~0ull);
	watch(0);
	CHECK_EQ(rdmsr(POLL_WATCH_MSR), 0);
	CHECK_EQ(wrmsr_safe(POLL_WATCH_MSR + 1, 1), VECTOR_GP);	/* its neighbour: none */
}

static void test_counting(void)
{
	if (want_slots == 0) {
		guest_skip("no service core to watch the page");
		return;
	}
	const u32 k = 3, n = 1000;

	for (u32 i = 0; i < 50; i++)		/* before the watch: not signals */
		signal_slot(k);
	(void)event_read(k);
	watch(BIT(k));
	for (u32 i = 0; i < n; i++)
		signal_slot(k);
	watch(0);				/* the last look */
	for (u32 i = 0; i < 20; i++)		/* after it: not signals */
		signal_slot(k);
	u32 got = event_read(k);
	printf("poll: slot %u: %u signals stored while watched, %u handled\n", k, n, got);
	CHECK_EQ(got, n);
	watch(BIT(k));
	watch(0);
	CHECK_EQ(event_read(k), 0);
	CHECK_EQ(event_read(k + 1), 0);		/* a neighbour: nothing */
}

/* Garbage everywhere, every slot watched: each slot's count is congruent to
 * its seq's change, and a doorbell in the middle is counted exactly. */
static void test_garbage(void)
{
	if (want_slots == 0) {
		guest_skip("no service core to watch the page");
		return;
	}
	u32 base[POLL_SLOTS], rnd = 0x12345678u;

	for (u32 k = 0; k < POLL_SLOTS; k++) {
		(void)event_read(k);
		base[k] = *seq_of(k);
	}
	(void)event_read(OTHER_EVENT);
	watch(~0ull);
	for (u32 i = 0; i < 20000; i++) {
		rnd = rnd * 1664525u + 1013904223u;	/* Numerical Recipes' LCG */
		page[(rnd >> 8) % (POLL_BYTES / 4)] = rnd ^ (rnd << 13);
		if (i == 10000)
			CHECK_EQ(hypercall(HC_NOTIFY, OTHER_EVENT, 0, 0, 0), 0);
	}
	watch(0);
	u32 bad = 0, moved = 0;
	for (u32 k = 0; k < POLL_SLOTS; k++) {
		u32 want = *seq_of(k) - base[k], got = event_read(k);
		moved += want != 0;
		if (got != want) {
			bad++;
			printf("poll: slot %u: seq moved by %u, %u handled\n", k, want, got);
		}
	}
	printf("poll: garbage: %u of %u slots' seq moved, %u counted wrong\n", moved,
	       POLL_SLOTS, bad);
	CHECK_EQ(bad, 0);
	CHECK(moved > POLL_SLOTS / 2);
	CHECK_EQ(event_read(OTHER_EVENT), 1);
	for (u32 i = 0; i < POLL_BYTES / 4; i++)
		page[i] = 0;
}

static const struct guest_test tests[] = {
	{ "poll_cpuid",          test_cpuid,          GUEST_TEST_NEEDS_DOORBELL },
	{ "poll_memory",         test_memory,         GUEST_TEST_NEEDS_DOORBELL },
	{ "poll_watch_msr",      test_watch_msr,      GUEST_TEST_NEEDS_DOORBELL },
	{ "poll_counting",       test_counting,       GUEST_TEST_NEEDS_DOORBELL },
	{ "poll_garbage",        test_garbage,        GUEST_TEST_NEEDS_DOORBELL },
};

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	(void)magic;
	mb_cmdline_value(mbi, "slots", &want_slots);
	guest_run_tests(tests, ARRAY_SIZE(tests));
}
