/*
 * service/event.c - the pure half of events: the service core's scan of one
 * event set with the summary word, its bookkeeping (events and signals
 * handled, service cycles, the latency ring), EVENT_READ's consumption, and
 * the latency percentiles. No hardware beyond RDTSC; unit-tested on the host
 * (tests/host/test_service.c), with two threads hammering signal and scan.
 *
 * A signal (event_signal, service/service.h) does
 *   [latency=1: signal_tsc[id] = TSC]
 *   sent[id] += 1                       lock add
 *   pending[id / 64] |= bit             lock bts
 *   summary |= BIT(id / 64)             lock bts
 *   if (kick == 0 && xchg(kick, 1) == 0) send the IPI
 * and the service core, woken with kick == 1, does for each round
 *   xchg(kick, 0)
 *   for each set: if (summary != 0) for each w in xchg(summary, 0):
 *       for each id in xchg(pending[w], 0): handled[id] = sent[id]
 *
 * Why no signal is ever lost. Every one of these accesses is sequentially
 * consistent: the locked instructions are full barriers and the loads are
 * ordinary loads, which x86 never reorders with a locked instruction (SDM
 * Vol. 3A, "Loads and Stores Are Not Reordered with Locked Instructions").
 * So they all fall in one total order S, and each CPU's program order is
 * part of it. Take any signal s.
 * 1. The kick: kick == 1 always means a round will start after it (only a
 *    signaller sets it, and it then sends the IPI, or the polling core sees
 *    it; the core clears it only as the first step of a round). If s's load
 *    or xchg of kick reads 1, a round R starts with xchg(kick, 0) after that
 *    access in S; if s turns it from 0 to 1, s wakes the core itself and R is
 *    the round that wake-up starts. Either way s's summary bit was set before
 *    R's xchg(kick, 0), so before R reads that set's summary word.
 * 2. The summary word: R's load of summary sees s's bit, or a later value
 *    with it (only the core clears bits). If an earlier xchg took the bit
 *    first, that xchg also came after s's pending bit (s set pending before
 *    summary), and the same round then swaps the pending word; otherwise R
 *    itself takes it and swaps the pending word.
 * 3. The pending word: that swap comes after s's pending bit in S, so it
 *    takes the bit, or an earlier swap did, after s's sent[id] += 1.
 * 4. sent[id]: the load that follows comes after s's increment, so handled[id]
 *    catches up with s. A round that loads sent[id] before some increment
 *    does not lose it: that increment's signaller sets the pending bit after
 *    the swap and the summary bit after the summary xchg (both after the
 *    load, in its program order), so 1-3 hold for it again: the next round
 *    takes it.
 * A bit set again after the round took it may make a later round find an
 * empty pending word or an event already up to date: harmless.
 *
 * The test-and-test-and-set on kick (a plain load, xchg only when it read 0)
 * changes nothing above: a load that reads 1 is case 1's first half, and it
 * spares the kick's cache line a locked write on every signal of a burst.
 */
#include "service/service.h"

/* Brings event id up to date with its signals. Returns the signals caught up
 * with (0 when a scan already took them: the event was not "handled"). */
static inline u64 service_handle(struct event_set *es, u64 id, bool latency)
{
	u64 sent = __atomic_load_n(&es->sent[id], __ATOMIC_SEQ_CST);
	u64 old = es->handled[id];

	if (sent == old)
		return 0;
	if (latency) {
		u64 lat = rdtsc() - __atomic_load_n(&es->signal_tsc[id], __ATOMIC_RELAXED);
		es->latency[es->latency_count % LATENCY_SAMPLES] = lat;
		es->latency_count++;
	}
	/* Release: EVENT_READ on the vCPU pairs with it (acquire). */
	__atomic_store_n(&es->handled[id], sent, __ATOMIC_RELEASE);
	return sent - old;
}

/* Runs the posted synchronous call (rare: out of the scan's way). */
static __attribute__((noinline)) void service_run_call(struct event_set *es)
{
	struct service_call *c = __atomic_load_n(&es->call, __ATOMIC_ACQUIRE);

	c->fn(c->arg);
	es->calls_served++;
	__atomic_store_n(&es->call, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
}

/* The scan, instantiated twice: latency is a constant in each copy, so the
 * latency=0 copy carries none of the sampling's registers. */
static inline __attribute__((always_inline)) u64 service_scan_words(struct event_set *es,
								 bool latency)
{
	u64 t0 = latency ? rdtsc() : 0;
	u64 summary = __atomic_exchange_n(&es->summary, 0, __ATOMIC_SEQ_CST);
	u64 words = summary & ~SUMMARY_CALL;
	u64 events = 0, signals = 0;

	while (words) {
		u64 w = (u32)__builtin_ctzll(words);
		words &= words - 1;
		u64 bits = __atomic_exchange_n(&es->pending[w], 0, __ATOMIC_SEQ_CST);
		while (bits) {
			u64 id = w * 64 + (u32)__builtin_ctzll(bits);
			bits &= bits - 1;
			u64 n = service_handle(es, id, latency);
			signals += n;
			events += n != 0;
		}
	}
	es->events_handled += events;
	es->signals_handled += signals;
	if (latency)
		es->service_cycles += rdtsc() - t0;
	if (unlikely(summary & SUMMARY_CALL))
		service_run_call(es);
	return events;
}

static __attribute__((noinline)) u64 service_scan_sampled(struct event_set *es)
{
	return service_scan_words(es, true);
}

u64 service_scan(struct event_set *es)
{
	if (es->flags & EVENT_SET_LATENCY)
		return service_scan_sampled(es);	/* a tail call */
	return service_scan_words(es, false);
}

bool event_consume(struct event_set *es, u32 id, u64 *count)
{
	u64 target = __atomic_load_n(&es->sent[id], __ATOMIC_SEQ_CST);
	u64 handled = __atomic_load_n(&es->handled[id], __ATOMIC_ACQUIRE);

	if (handled < target)
		return false;
	*count = handled - es->read_mark[id];
	es->read_mark[id] = handled;
	return true;
}

/* Sorts v[0..n) ascending: heapsort, in place, no recursion, O(n log n)
 * whatever the input (a snapshot runs on the service core). */
static void sift_down(u64 *v, u64 root, u64 n)
{
	for (;;) {
		u64 child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && v[child + 1] > v[child])
			child++;
		if (v[root] >= v[child])
			return;
		u64 t = v[root];
		v[root] = v[child];
		v[child] = t;
		root = child;
	}
}

static void sort_u64(u64 *v, u64 n)
{
	for (u64 i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (u64 end = n; end > 1; end--) {
		u64 t = v[0];
		v[0] = v[end - 1];
		v[end - 1] = t;
		sift_down(v, 0, end - 1);
	}
}

/* Nearest rank: the smallest sample with at least pct percent of the samples
 * at or below it, i.e. sorted[ceil(pct * n / 100) - 1]. */
static u64 nearest_rank(const u64 *sorted, u64 n, u64 pct)
{
	u64 rank = (pct * n + 99) / 100;
	return sorted[rank ? rank - 1 : 0];
}

void latency_percentiles(u64 *v, u64 n, struct latency_summary *out)
{
	out->samples = n;
	if (n == 0) {
		out->p50 = out->p99 = out->max = 0;
		return;
	}
	sort_u64(v, n);
	out->p50 = nearest_rank(v, n, 50);
	out->p99 = nearest_rank(v, n, 99);
	out->max = v[n - 1];
}

void event_latency_summary(const struct event_set *es, u64 *scratch,
			   struct latency_summary *out)
{
	u64 n = MIN(es->latency_count, (u64)LATENCY_SAMPLES);

	memcpy(scratch, es->latency, n * sizeof(u64));
	latency_percentiles(scratch, n, out);
}
