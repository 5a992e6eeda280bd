/* Host tests for service/: the signal (event_signal, inline in service.h) and
 * the service core's scan with the summary word (service/event.c), the
 * bookkeeping, the kick's test-and-test-and-set, synchronous calls, the
 * latency percentiles, two signalling threads against a service thread
 * (sent == handled, nothing lost), and the synchronous device's register file
 * (service/syncdev.c), and the poll page's watch and scan (service/poll.c:
 * counting, the baseline, the last look, garbage, a guest thread against a
 * polling thread). The hardware half (service/core.c) is replaced by the
 * three hooks below. */
#include "service/event.c"
#include "service/syncdev.c"
#include "service/poll.c"
#include "tests/host/test.h"

#include <pthread.h>
#include <time.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- the hardware half, for the host -------------------------------------- */

static u64 ipis_sent;			/* IPIs event_signal would have sent */

void service_test_ipi(struct event_set *es)
{
	(void)es;
	__atomic_add_fetch(&ipis_sent, 1, __ATOMIC_SEQ_CST);
}

void service_inline_signal(struct event_set *es)
{
	if (service_set_busy(es))
		service_scan(es);
}

void service_wake(struct event_set *es)
{
	(void)es;
	abort();		/* the host build takes service_test_ipi */
}

static struct service_kick test_kick;

static struct event_set *new_set(u32 flags)
{
	struct event_set *es = aligned_alloc(CACHE_LINE, sizeof(*es));
	memset(es, 0, sizeof(*es));
	es->kick = &test_kick;
	es->flags = flags;
	test_kick.kick = 0;
	ipis_sent = 0;
	return es;
}

static u64 pending_bits(const struct event_set *es)
{
	u64 n = 0;
	for (u32 w = 0; w < EVENT_WORDS; w++)
		n += (u64)__builtin_popcountll(es->pending[w]);
	return n;
}

/* ---- the signal and the scan ---------------------------------------------- */

TEST(test_signal_sets_bits)
{
	struct event_set *es = new_set(EVENT_SET_IPI);
	static const u32 ids[] = { 0, 63, 64, 255, 256, 700, 1023 };

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		event_signal(es, ids[i]);
	CHECK_EQ(es->summary, BIT(0) | BIT(1) | BIT(3) | BIT(4) | BIT(10) | BIT(15));
	CHECK_EQ(es->pending[0], BIT(0) | BIT(63));
	CHECK_EQ(es->pending[1], BIT(0));
	CHECK_EQ(es->pending[3], BIT(63));
	CHECK_EQ(es->pending[4], BIT(0));
	CHECK_EQ(es->pending[10], BIT(700 % 64));
	CHECK_EQ(es->pending[15], BIT(63));
	CHECK_EQ(pending_bits(es), 7);
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		CHECK_EQ(es->sent[ids[i]], 1);
	/* One IPI for the burst: the first signal took the kick. */
	CHECK_EQ(test_kick.kick, 1);
	CHECK_EQ(ipis_sent, 1);

	CHECK_EQ(service_scan(es), 7);
	CHECK_EQ(es->summary, 0);
	CHECK_EQ(pending_bits(es), 0);
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		CHECK_EQ(es->handled[ids[i]], 1);
	CHECK_EQ(es->events_handled, 7);
	CHECK_EQ(es->signals_handled, 7);
	CHECK_EQ(es->service_cycles, 0);	/* latency=0: no RDTSC */
	CHECK_EQ(es->latency_count, 0);
	free(es);
}

/* The scan reads only the pending words the summary names, and an idle set
 * costs one load: nothing is swapped. */
TEST(test_scan_follows_summary)
{
	struct event_set *es = new_set(0);

	CHECK(!service_set_busy(es));
	CHECK_EQ(service_scan(es), 0);
	es->pending[5] = BIT(3);		/* a bit the summary does not name */
	es->sent[5 * 64 + 3] = 1;
	CHECK_EQ(service_scan(es), 0);
	CHECK_EQ(es->pending[5], BIT(3));	/* untouched */
	CHECK(!service_set_busy(es));
	event_signal(es, 9);
	CHECK(service_set_busy(es));
	CHECK_EQ(service_scan(es), 1);
	CHECK_EQ(es->pending[5], BIT(3));
	CHECK_EQ(es->handled[5 * 64 + 3], 0);
	es->summary = BIT(5);
	CHECK_EQ(service_scan(es), 1);
	CHECK_EQ(es->pending[5], 0);
	CHECK_EQ(es->handled[5 * 64 + 3], 1);
	free(es);
}

/* Signals coalesce into one handling; EVENT_READ returns them all once. */
TEST(test_coalesce_and_consume)
{
	struct event_set *es = new_set(0);
	u64 n = 99;

	for (int i = 0; i < 5; i++)
		event_signal(es, 30);
	CHECK(!event_consume(es, 30, &n));	/* not caught up: nothing consumed */
	CHECK_EQ(n, 99);
	CHECK_EQ(service_scan(es), 1);
	CHECK_EQ(es->events_handled, 1);
	CHECK_EQ(es->signals_handled, 5);
	CHECK(event_consume(es, 30, &n));
	CHECK_EQ(n, 5);
	CHECK(event_consume(es, 30, &n));
	CHECK_EQ(n, 0);
	/* A bit set again for signals already caught up: an empty handling. */
	event_signal(es, 30);
	es->handled[30] = es->sent[30];
	CHECK_EQ(service_scan(es), 0);
	CHECK_EQ(es->events_handled, 1);
	free(es);
}

/* Test-and-test-and-set: an IPI only for the 0 -> 1 turn of the kick, none
 * with notify=poll (the core sees the kick), none inline. */
TEST(test_kick_ttas)
{
	struct event_set *es = new_set(EVENT_SET_IPI);

	event_signal(es, 1);
	event_signal(es, 2);
	event_signal(es, 1);
	CHECK_EQ(ipis_sent, 1);
	test_kick.kick = 0;			/* a round starts */
	CHECK_EQ(service_scan(es), 2);
	event_signal(es, 3);
	CHECK_EQ(ipis_sent, 2);
	CHECK_EQ(test_kick.kick, 1);
	free(es);

	es = new_set(0);			/* notify=poll */
	event_signal(es, 1);
	CHECK_EQ(test_kick.kick, 1);
	CHECK_EQ(ipis_sent, 0);
	free(es);

	es = new_set(EVENT_SET_INLINE | EVENT_SET_IPI);
	es->kick = NULL;			/* inline sets have no core */
	event_signal(es, 77);
	event_signal(es, 77);
	CHECK_EQ(ipis_sent, 0);
	CHECK_EQ(es->handled[77], 2);
	CHECK_EQ(es->summary, 0);
	CHECK_EQ(es->events_handled, 2);
	free(es);
}

/* latency=1: a TSC per signal, a sample per handling, the service cycles. */
TEST(test_latency_samples)
{
	struct event_set *es = new_set(EVENT_SET_LATENCY);

	event_signal(es, 4);
	CHECK(es->signal_tsc[4] != 0);
	event_signal(es, 5);
	CHECK_EQ(service_scan(es), 2);
	CHECK_EQ(es->latency_count, 2);
	CHECK(es->latency[0] < (1ull << 40));	/* handled after it was signalled */
	CHECK(es->service_cycles > 0);
	/* The ring wraps: the latest LATENCY_SAMPLES samples are kept. */
	for (u32 i = 0; i < LATENCY_SAMPLES + 10; i++) {
		event_signal(es, 6);
		service_scan(es);
	}
	CHECK_EQ(es->latency_count, LATENCY_SAMPLES + 12);
	CHECK_EQ(es->events_handled, LATENCY_SAMPLES + 12);
	free(es);
}

static void call_fn(void *arg)
{
	(*(int *)arg)++;
}

/* A posted synchronous call runs in the scan, with or without events. */
TEST(test_call)
{
	struct event_set *es = new_set(EVENT_SET_IPI);
	int ran = 0;
	struct service_call c = { call_fn, &ran, 0 };

	es->call = &c;
	event_bit_set(&es->summary, SUMMARY_CALL_BIT);
	event_signal(es, 8);
	CHECK_EQ(service_scan(es), 1);
	CHECK_EQ(ran, 1);
	CHECK_EQ(c.done, 1);
	CHECK_EQ(es->calls_served, 1);
	CHECK(es->call == NULL);
	c.done = 0;
	es->call = &c;
	event_bit_set(&es->summary, SUMMARY_CALL_BIT);
	CHECK_EQ(service_scan(es), 0);
	CHECK_EQ(ran, 2);
	CHECK_EQ(c.done, 1);
	CHECK_EQ(es->summary, 0);
	free(es);
}

/* ---- percentiles ----------------------------------------------------------- */

TEST(test_percentiles)
{
	u64 v[200];
	struct latency_summary s;

	latency_percentiles(v, 0, &s);
	CHECK_EQ(s.samples, 0);
	CHECK_EQ(s.p50, 0);
	CHECK_EQ(s.max, 0);

	v[0] = 42;
	latency_percentiles(v, 1, &s);
	CHECK_EQ(s.p50, 42);
	CHECK_EQ(s.p99, 42);
	CHECK_EQ(s.max, 42);

	for (u32 i = 0; i < 100; i++)		/* 100, 99, ..., 1 */
		v[i] = 100 - i;
	latency_percentiles(v, 100, &s);
	CHECK_EQ(s.samples, 100);
	CHECK_EQ(s.p50, 50);
	CHECK_EQ(s.p99, 99);
	CHECK_EQ(s.max, 100);
	for (u32 i = 1; i < 100; i++)
		CHECK(v[i - 1] <= v[i]);

	for (u32 i = 0; i < 200; i++)		/* 199 small, one outlier */
		v[i] = i == 77 ? 1000000 : 10 + i % 3;
	latency_percentiles(v, 200, &s);
	CHECK_EQ(s.p50, 11);
	CHECK_EQ(s.p99, 12);
	CHECK_EQ(s.max, 1000000);

	/* Random against a simple counting oracle. */
	test_seed(7);
	for (int round = 0; round < 50; round++) {
		u64 n = 1 + test_rand() % 200;
		u64 w[200];
		for (u64 i = 0; i < n; i++)
			w[i] = v[i] = test_rand() % 1000;
		latency_percentiles(v, n, &s);
		u64 at_or_below_p50 = 0, below_p50 = 0, max = 0;
		for (u64 i = 0; i < n; i++) {
			at_or_below_p50 += w[i] <= s.p50;
			below_p50 += w[i] < s.p50;
			max = MAX(max, w[i]);
		}
		CHECK(at_or_below_p50 * 100 >= 50 * n);	/* nearest rank */
		CHECK(below_p50 * 100 < 50 * n);
		CHECK_EQ(s.max, max);
	}
}

TEST(test_ring_summary)
{
	struct event_set *es = new_set(0);
	u64 *scratch = calloc(LATENCY_SAMPLES, sizeof(u64));
	struct latency_summary s;

	event_latency_summary(es, scratch, &s);
	CHECK_EQ(s.samples, 0);
	for (u32 i = 0; i < 10; i++)
		es->latency[i] = 1000 + i;
	es->latency_count = 10;
	event_latency_summary(es, scratch, &s);
	CHECK_EQ(s.samples, 10);
	CHECK_EQ(s.p50, 1004);
	CHECK_EQ(s.max, 1009);
	CHECK_EQ(es->latency[0], 1000);		/* the ring itself is not sorted */
	for (u32 i = 0; i < LATENCY_SAMPLES; i++)
		es->latency[i] = i + 1;
	es->latency_count = 3 * LATENCY_SAMPLES + 5;
	event_latency_summary(es, scratch, &s);
	CHECK_EQ(s.samples, LATENCY_SAMPLES);
	CHECK_EQ(s.p50, LATENCY_SAMPLES / 2);
	CHECK_EQ(s.p99, (99 * LATENCY_SAMPLES + 99) / 100);
	CHECK_EQ(s.max, LATENCY_SAMPLES);
	free(scratch);
	free(es);
}

/* ---- two signalling threads against a service thread ----------------------- */

#define HAMMER_PHASES   6000
#define HAMMER_BURST    50		/* signals per phase */
#define HAMMER_SETS     2		/* two VMs on one service core */

static struct event_set *hammer_sets[HAMMER_SETS];
static u32 hammer_stop;
static u64 hammer_rounds, hammer_read, hammer_unfinished;

static void *hammer_service(void *arg)
{
	(void)arg;
	for (;;) {
		while (!__atomic_load_n(&test_kick.kick, __ATOMIC_SEQ_CST))
			if (__atomic_load_n(&hammer_stop, __ATOMIC_SEQ_CST))
				return NULL;
		__atomic_exchange_n(&test_kick.kick, 0, __ATOMIC_SEQ_CST);
		hammer_rounds++;
		for (int s = 0; s < HAMMER_SETS; s++)
			if (service_set_busy(hammer_sets[s]))
				service_scan(hammer_sets[s]);
	}
}

/* The vCPU: bursts of signals, each followed by EVENT_READ's wait on every
 * event of the burst. A lost signal (a bit or a wake-up) shows as an event
 * that never catches up: the burst's last signals have no later signal to
 * heal them. */
static void *hammer_signal(void *arg)
{
	u64 seed = (u64)(uintptr_t)arg;
	struct { u32 set, id; } burst[HAMMER_BURST];

	for (u32 phase = 0; phase < HAMMER_PHASES && !hammer_unfinished; phase++) {
		for (u32 i = 0; i < HAMMER_BURST; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			u32 id = (u32)(seed >> 33) % EVENTS_PER_VM;
			/* Half the time a few hot events (bursts coalesce). */
			if (seed & (1ull << 20))
				id %= 8;
			burst[i].set = (u32)(seed >> 24) % HAMMER_SETS;
			burst[i].id = id;
			event_signal(hammer_sets[burst[i].set], id);
			/* Now and then a pause, so that rounds start mid-burst. */
			for (u32 spin = (u32)(seed >> 40) % 64; spin > 48; spin--)
				__asm__ volatile("pause");
		}
		double deadline = now_s() + 1;
		for (u32 i = 0; i < HAMMER_BURST; i++) {
			u64 n = 0;
			bool caught_up;
			while (!(caught_up = event_consume(hammer_sets[burst[i].set],
							   burst[i].id, &n)) &&
			       now_s() < deadline)
				;
			hammer_unfinished += !caught_up;
			hammer_read += n;
		}
	}
	return NULL;
}

TEST(test_hammer_no_signal_lost)
{
	pthread_t svc, sig;

	test_kick.kick = 0;
	ipis_sent = 0;
	hammer_stop = 0;
	hammer_rounds = hammer_read = hammer_unfinished = 0;
	for (int s = 0; s < HAMMER_SETS; s++) {
		hammer_sets[s] = aligned_alloc(CACHE_LINE, sizeof(struct event_set));
		memset(hammer_sets[s], 0, sizeof(struct event_set));
		hammer_sets[s]->kick = &test_kick;
		hammer_sets[s]->flags = EVENT_SET_IPI | (s ? EVENT_SET_LATENCY : 0);
	}
	pthread_create(&svc, NULL, hammer_service, NULL);
	pthread_create(&sig, NULL, hammer_signal, (void *)(uintptr_t)1);
	pthread_join(sig, NULL);
	__atomic_store_n(&hammer_stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(svc, NULL);

	u64 sent = 0, handled = 0, signals = 0, events = 0;
	for (int s = 0; s < HAMMER_SETS; s++) {
		for (u32 id = 0; id < EVENTS_PER_VM; id++) {
			sent += hammer_sets[s]->sent[id];
			handled += hammer_sets[s]->handled[id];
		}
		signals += hammer_sets[s]->signals_handled;
		events += hammer_sets[s]->events_handled;
		CHECK_EQ(hammer_sets[s]->summary, 0);
		CHECK_EQ(pending_bits(hammer_sets[s]), 0);
	}
	printf("  hammer: %llu sent, %llu handled, %llu read, %llu never caught up; "
	       "%llu handlings in %llu rounds, %llu IPIs\n", sent, handled, hammer_read,
	       hammer_unfinished, events, hammer_rounds, ipis_sent);
	CHECK_EQ(hammer_unfinished, 0);
	CHECK_EQ(sent, (u64)HAMMER_PHASES * HAMMER_BURST);
	CHECK_EQ(handled, sent);
	CHECK_EQ(signals, sent);
	CHECK_EQ(hammer_read, sent);
	CHECK(events <= sent);
	CHECK(ipis_sent <= hammer_rounds + 1);	/* one per 0 -> 1 turn of the kick */
	CHECK_EQ(hammer_sets[1]->latency_count, hammer_sets[1]->events_handled);
	for (int s = 0; s < HAMMER_SETS; s++)
		free(hammer_sets[s]);
}

/* ---- the synchronous device ------------------------------------------------ */

static struct syncdev dev;
static u64 dev_scratch[LATENCY_SAMPLES];

static u64 dev_rd(u64 off, u32 len)
{
	struct syncdev_req r = { .offset = off, .len = len, .write = false,
				 .from_cpu = 0, .served_cpu = 1 };
	syncdev_serve(&dev, &r);
	return r.value;
}

static void dev_wr(u64 off, u32 len, u64 v)
{
	struct syncdev_req r = { .offset = off, .len = len, .write = true, .value = v,
				 .from_cpu = 0, .served_cpu = 1 };
	syncdev_serve(&dev, &r);
}

static void dev_reset(void)
{
	memset(&dev, 0, sizeof(dev));
	dev.scratch = dev_scratch;
}

TEST(test_syncdev_identity_and_served)
{
	dev_reset();
	CHECK_EQ(dev_rd(SYNCDEV_ID, 4), SYNCDEV_MAGIC);
	CHECK_EQ(dev_rd(SYNCDEV_ID, 1), 'S');
	CHECK_EQ(dev_rd(SYNCDEV_ID + 2, 2), 'N' | 'C' << 8);
	CHECK_EQ(dev_rd(SYNCDEV_VERSION, 4), 1);
	CHECK_EQ(dev_rd(SYNCDEV_SERVED, 4), 4);	/* the requests before this one */
	CHECK_EQ(dev_rd(SYNCDEV_SERVED, 8), 5);
	CHECK_EQ(dev_rd(SYNCDEV_SERVED + 4, 4), 0);
	CHECK_EQ(dev.served, 7);
	CHECK_EQ(dev_rd(SYNCDEV_ERRORS, 4), 0);
	/* STATUS: ready, served on CPU 1 for a vCPU on CPU 0 (not inline). */
	CHECK_EQ(dev_rd(SYNCDEV_STATUS, 4), SYNCDEV_STATUS_READY | 1u << SYNCDEV_STATUS_CPU_SHIFT);
	struct syncdev_req r = { .offset = SYNCDEV_STATUS, .len = 4, .from_cpu = 3, .served_cpu = 3 };
	syncdev_serve(&dev, &r);
	CHECK_EQ(r.value, SYNCDEV_STATUS_READY | SYNCDEV_STATUS_INLINE | 3u << SYNCDEV_STATUS_CPU_SHIFT);
}

TEST(test_syncdev_register_file)
{
	dev_reset();
	u32 sum = 0;
	for (u32 i = 0; i < SYNCDEV_REGS; i++) {
		dev_wr(SYNCDEV_REG0 + 4 * i, 4, 0x01010101u * i + 7);
		sum += 0x01010101u * i + 7;
	}
	CHECK_EQ(dev_rd(SYNCDEV_CHECKSUM, 4), sum);
	CHECK_EQ(dev_rd(SYNCDEV_REG0 + 4 * 5, 4), 0x05050505u + 7);
	/* Byte, word and quadword access, little-endian. */
	dev_wr(SYNCDEV_REG0 + 8, 8, 0x1122334455667788ull);
	CHECK_EQ(dev_rd(SYNCDEV_REG0 + 8, 4), 0x55667788u);
	CHECK_EQ(dev_rd(SYNCDEV_REG0 + 12, 4), 0x11223344u);
	CHECK_EQ(dev_rd(SYNCDEV_REG0 + 8, 8), 0x1122334455667788ull);
	CHECK_EQ(dev_rd(SYNCDEV_REG0 + 9, 1), 0x77);
	CHECK_EQ(dev_rd(SYNCDEV_REG0 + 10, 2), 0x5566);
	dev_wr(SYNCDEV_REG0 + 11, 1, 0xab);
	CHECK_EQ(dev_rd(SYNCDEV_REG0 + 8, 4), 0xab667788u);
	dev_wr(SYNCDEV_REG0 + 12, 2, 0xcdef);
	CHECK_EQ(dev_rd(SYNCDEV_REG0 + 12, 4), 0x1122cdefu);
	CHECK_EQ(dev_rd(SYNCDEV_REG0 + 4 * 63, 4), 0x01010101u * 63 + 7);
	/* STATUS.WRITE says what the previous request was. */
	dev_wr(SYNCDEV_REG0, 4, 1);
	CHECK(dev_rd(SYNCDEV_STATUS, 4) & SYNCDEV_STATUS_WRITE);
	CHECK(!(dev_rd(SYNCDEV_STATUS, 4) & SYNCDEV_STATUS_WRITE));
	dev_wr(SYNCDEV_COMMAND, 4, SYNCDEV_CMD_RESET);
	CHECK_EQ(dev_rd(SYNCDEV_CHECKSUM, 4), 0);
	CHECK_EQ(dev_rd(SYNCDEV_COMMAND, 4), 0);
	CHECK_EQ(dev_rd(SYNCDEV_ERRORS, 4), 0);
	CHECK(!(dev_rd(SYNCDEV_STATUS, 4) & SYNCDEV_STATUS_ERROR));
}

TEST(test_syncdev_errors)
{
	dev_reset();
	dev_wr(SYNCDEV_REG0 + 1, 4, 5);		/* misaligned */
	CHECK_EQ(dev.regs[0], 0);
	CHECK_EQ(dev.regs[1], 0);
	CHECK_EQ(dev_rd(SYNCDEV_ERRORS, 4), 1);
	CHECK(dev_rd(SYNCDEV_STATUS, 4) & SYNCDEV_STATUS_ERROR);
	CHECK_EQ(dev_rd(SYNCDEV_REG0 + 2, 4), 0);	/* misaligned read */
	dev_wr(SYNCDEV_ID, 4, 1);			/* read-only */
	dev_wr(SYNCDEV_SERVED, 8, 0);
	CHECK_EQ(dev_rd(0x800, 4), 0);			/* no register there */
	CHECK_EQ(dev_rd(SYNCDEV_REG0, 3), 0);		/* no such size */
	CHECK_EQ(dev_rd(SYNCDEV_SIZE, 1), 0);		/* past the page */
	CHECK_EQ(dev_rd(SYNCDEV_ERRORS, 4), 7);
	CHECK_EQ(dev_rd(SYNCDEV_ID, 4), SYNCDEV_MAGIC);
	CHECK(dev.served > 7);				/* still counted */
	dev_wr(SYNCDEV_COMMAND, 4, SYNCDEV_CMD_CLEAR);
	CHECK(!(dev_rd(SYNCDEV_STATUS, 4) & SYNCDEV_STATUS_ERROR));
	CHECK_EQ(dev_rd(SYNCDEV_ERRORS, 4), 7);
	dev_wr(SYNCDEV_COMMAND, 4, 99);			/* unknown: nothing */
	CHECK(!(dev_rd(SYNCDEV_STATUS, 4) & SYNCDEV_STATUS_ERROR));
}

TEST(test_syncdev_snapshot)
{
	struct event_set *es = new_set(EVENT_SET_LATENCY);

	dev_reset();
	dev.es = es;
	for (u32 i = 0; i < 10; i++) {
		event_signal(es, i);
		event_signal(es, i);
		service_scan(es);
	}
	for (u32 i = 0; i < 10; i++)		/* known latencies: 100..1000 */
		es->latency[i] = 100 * (i + 1);
	CHECK_EQ(dev_rd(SYNCDEV_STAT_EVENTS, 8), 0);	/* before the snapshot */
	dev_wr(SYNCDEV_COMMAND, 4, SYNCDEV_CMD_SNAPSHOT);
	CHECK_EQ(dev_rd(SYNCDEV_STAT_EVENTS, 8), 10);
	CHECK_EQ(dev_rd(SYNCDEV_STAT_SIGNALS, 4), 20);
	CHECK_EQ(dev_rd(SYNCDEV_STAT_SIGNALS + 4, 4), 0);
	CHECK_EQ(dev_rd(SYNCDEV_STAT_CYCLES, 8), es->service_cycles);
	CHECK(es->service_cycles > 0);
	CHECK_EQ(dev_rd(SYNCDEV_STAT_SAMPLES, 8), 10);
	CHECK_EQ(dev_rd(SYNCDEV_STAT_P50, 8), 500);
	CHECK_EQ(dev_rd(SYNCDEV_STAT_P99, 4), 1000);
	CHECK_EQ(dev_rd(SYNCDEV_STAT_MAX, 8), 1000);
	CHECK_EQ(dev_rd(SYNCDEV_STAT_CALLS, 8), 0);
	es->latency[0] = 1ull << 40;		/* the high half reads back */
	dev_wr(SYNCDEV_COMMAND, 4, SYNCDEV_CMD_SNAPSHOT);
	CHECK_EQ(dev_rd(SYNCDEV_STAT_MAX + 4, 4), 1ull << 8);
	CHECK_EQ(dev_rd(SYNCDEV_STAT_MAX, 4), 0);
	dev_wr(SYNCDEV_STAT_P50, 4, 0);		/* read-only */
	CHECK_EQ(dev_rd(SYNCDEV_ERRORS, 4), 1);
	free(es);
}


/* ---- the poll page ---------------------------------------------------------- */

static struct poll_page *new_page(void)
{
	struct poll_page *p = aligned_alloc(PAGE_SIZE, sizeof(*p));
	memset(p, 0, sizeof(*p));
	return p;
}

/* The guest's side of a signal: tsc, then seq (service/service.h). */
static void guest_poll(struct poll_page *p, u32 k, u32 tsc)
{
	__atomic_store_n(&p->slot[k].tsc, tsc, __ATOMIC_RELAXED);
	__atomic_store_n(&p->slot[k].seq, p->slot[k].seq + 1, __ATOMIC_RELEASE);
}

TEST(test_poll_watch_list)
{
	struct event_set *es = new_set(0);
	struct poll_page *p1 = new_page(), *p2 = new_page();
	struct poll_watch w1, w2, w0, *list = NULL;

	poll_watch_init(&w1, p1, es, &list);
	poll_watch_init(&w2, p2, es, &list);
	poll_watch_init(&w0, p1, es, NULL);		/* no service core */
	CHECK_EQ(poll_watch_set(&w0, 1), -ENODEV);
	CHECK_EQ(w0.mask, 0);
	CHECK_EQ(poll_watch_set(&w1, BIT(3)), 0);
	CHECK(list == &w1 && w1.next == NULL);
	CHECK_EQ(poll_watch_set(&w2, BIT(63) | BIT(0)), 0);
	CHECK(list == &w2 && w2.next == &w1);
	CHECK_EQ(poll_watch_set(&w1, BIT(3) | BIT(4)), 0);	/* still on it once */
	CHECK(list == &w2 && w2.next == &w1 && w1.next == NULL);
	CHECK_EQ(poll_watch_set(&w1, 0), 0);			/* off the tail */
	CHECK(list == &w2 && w2.next == NULL);
	CHECK_EQ(poll_watch_set(&w1, 1), 0);
	CHECK_EQ(poll_watch_set(&w1, 0), 0);			/* off the head... */
	CHECK_EQ(poll_watch_set(&w2, 0), 0);			/* ...and the last */
	CHECK(list == NULL);
	CHECK_EQ(poll_watch_set(&w2, 0), 0);			/* nothing to nothing */
	CHECK(list == NULL);
	free(p1);
	free(p2);
	free(es);
}

TEST(test_poll_scan_counts)
{
	struct event_set *es = new_set(EVENT_SET_LATENCY);
	struct poll_page *p = new_page();
	struct poll_watch w, *list = NULL;
	u64 n = 0;

	poll_watch_init(&w, p, es, &list);
	for (u32 i = 0; i < 5; i++)
		guest_poll(p, 7, 0);		/* before watching: not counted */
	CHECK_EQ(poll_watch_set(&w, BIT(7) | BIT(9)), 0);
	CHECK_EQ(poll_scan(&w), 0);		/* nothing new */
	CHECK_EQ(es->sent[7], 0);
	guest_poll(p, 7, (u32)rdtsc());
	CHECK_EQ(poll_scan(&w), 1);
	CHECK_EQ(es->sent[7], 1);
	CHECK_EQ(es->handled[7], 1);
	CHECK_EQ(es->latency_count, 1);
	CHECK(es->latency[0] < (1ull << 31));
	for (u32 i = 0; i < 3; i++)		/* coalesced: one handling */
		guest_poll(p, 9, (u32)rdtsc());
	guest_poll(p, 7, (u32)rdtsc());
	CHECK_EQ(poll_scan(&w), 2);
	CHECK_EQ(es->handled[9], 3);
	CHECK_EQ(es->handled[7], 2);
	CHECK_EQ(es->events_handled, 3);
	CHECK_EQ(es->signals_handled, 5);
	CHECK(es->service_cycles > 0);
	guest_poll(p, 8, 0);			/* not watched */
	CHECK_EQ(poll_scan(&w), 0);
	CHECK_EQ(es->sent[8], 0);
	/* A doorbell of the same event mixes in (EVENT_READ sees both). */
	event_signal(es, 9);
	guest_poll(p, 9, 0);
	CHECK(!event_consume(es, 9, &n));	/* the doorbell is not handled yet */
	CHECK_EQ(poll_scan(&w), 1);
	CHECK_EQ(es->sent[9], 5);
	CHECK_EQ(es->handled[9], 4);
	service_scan(es);
	CHECK(event_consume(es, 9, &n));
	CHECK_EQ(n, 5);
	/* The last look: written before unwatching, counted. */
	guest_poll(p, 7, 0);
	guest_poll(p, 7, 0);
	u64 samples = es->latency_count;
	CHECK_EQ(poll_watch_set(&w, BIT(9)), 0);
	CHECK_EQ(es->handled[7], 4);
	CHECK_EQ(es->latency_count, samples);	/* no sample from the last look */
	guest_poll(p, 7, 0);			/* after: not */
	CHECK_EQ(poll_scan(&w), 0);
	CHECK_EQ(es->handled[7], 4);
	CHECK(event_consume(es, 7, &n));
	CHECK_EQ(n, 4);
	/* Watching again starts from seq as it is. */
	CHECK_EQ(poll_watch_set(&w, BIT(7) | BIT(9)), 0);
	CHECK_EQ(poll_scan(&w), 0);
	CHECK_EQ(es->handled[7], 4);
	/* A tsc from the future (or another CPU's, a few counts ahead): 0. */
	samples = es->latency_count;
	guest_poll(p, 7, (u32)rdtsc() + 1000000);
	CHECK_EQ(poll_scan(&w), 1);
	CHECK_EQ(es->latency_count, samples + 1);
	CHECK_EQ(es->latency[samples % LATENCY_SAMPLES], 0);
	free(p);
	free(es);
}

/* A guest that writes garbage: counts stay its own, mod 2^32, latency
 * samples below 2^32, nothing else moves. */
TEST(test_poll_garbage_contained)
{
	struct event_set *es = new_set(EVENT_SET_LATENCY), *other = new_set(EVENT_SET_LATENCY);
	struct poll_page *p = new_page(), *q = new_page();
	struct poll_watch w, v, *list = NULL;
	u64 seed = 12345;

	poll_watch_init(&w, p, es, &list);
	poll_watch_init(&v, q, other, &list);
	CHECK_EQ(poll_watch_set(&w, ~0ull), 0);
	CHECK_EQ(poll_watch_set(&v, BIT(1)), 0);
	for (u32 round = 0; round < 1000; round++) {
		u32 *words = (u32 *)p;
		for (u32 i = 0; i < 64; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			words[(seed >> 33) % (POLL_SIZE / 4)] = (u32)(seed >> 7);
		}
		poll_scan(&w);
		poll_scan(&v);
	}
	guest_poll(q, 1, (u32)rdtsc());
	CHECK_EQ(poll_scan(&v), 1);
	CHECK_EQ(other->handled[1], 1);		/* the other VM: exact */
	CHECK_EQ(other->signals_handled, 1);
	for (u32 k = 0; k < POLL_SLOTS; k++) {
		CHECK_EQ(es->handled[k], es->sent[k]);	/* every look consistent */
		CHECK_EQ(es->handled[k] % (1ull << 32), p->slot[k].seq);
	}
	for (u32 k = POLL_SLOTS; k < EVENTS_PER_VM; k++)
		CHECK_EQ(es->sent[k], 0);
	for (u64 i = 0; i < MIN(es->latency_count, (u64)LATENCY_SAMPLES); i++)
		CHECK(es->latency[i] < (1ull << 31));
	CHECK(es->events_handled > 0);
	CHECK_EQ(poll_watch_set(&w, 0), 0);
	CHECK_EQ(poll_watch_set(&v, 0), 0);
	CHECK(list == NULL);
	free(p);
	free(q);
	free(es);
	free(other);
}

/* A guest thread signalling through a slot against a polling thread, then
 * the last look: every signal handled exactly once. */
#define POLL_HAMMER_SIGNALS 2000000u
static struct poll_page *ph_page;
static u32 ph_done;

static void *poll_hammer_guest(void *arg)
{
	(void)arg;
	for (u32 i = 0; i < POLL_HAMMER_SIGNALS; i++)
		guest_poll(ph_page, 5, (u32)rdtsc());
	__atomic_store_n(&ph_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

TEST(test_poll_hammer)
{
	struct event_set *es = new_set(EVENT_SET_LATENCY);
	struct poll_watch w, *list = NULL;
	pthread_t g;
	u64 passes = 0, n = 0;

	ph_page = new_page();
	ph_done = 0;
	poll_watch_init(&w, ph_page, es, &list);
	CHECK_EQ(poll_watch_set(&w, BIT(5)), 0);
	pthread_create(&g, NULL, poll_hammer_guest, NULL);
	while (!__atomic_load_n(&ph_done, __ATOMIC_SEQ_CST)) {
		poll_scan(&w);
		passes++;
	}
	pthread_join(g, NULL);
	CHECK_EQ(poll_watch_set(&w, 0), 0);		/* the last look */
	CHECK(event_consume(es, 5, &n));
	printf("  poll hammer: %u signals, %llu handled in %llu handlings, %llu passes\n",
	       POLL_HAMMER_SIGNALS, n, es->events_handled, passes);
	CHECK_EQ(n, POLL_HAMMER_SIGNALS);
	CHECK_EQ(es->signals_handled, POLL_HAMMER_SIGNALS);
	CHECK(es->events_handled <= POLL_HAMMER_SIGNALS);
	free(ph_page);
	free(es);
}

int main(void)
{
	RUN(test_signal_sets_bits);
	RUN(test_scan_follows_summary);
	RUN(test_coalesce_and_consume);
	RUN(test_kick_ttas);
	RUN(test_latency_samples);
	RUN(test_call);
	RUN(test_percentiles);
	RUN(test_ring_summary);
	RUN(test_hammer_no_signal_lost);
	RUN(test_syncdev_identity_and_served);
	RUN(test_syncdev_register_file);
	RUN(test_syncdev_errors);
	RUN(test_syncdev_snapshot);
	RUN(test_poll_watch_list);
	RUN(test_poll_scan_counts);
	RUN(test_poll_garbage_contained);
	RUN(test_poll_hammer);
	return TEST_SUMMARY();
}
