/*
 * service/service.h - events and the service core: the other half of
 * doorbell's mission. A guest's doorbell becomes an event signal on the vCPU's
 * core (event_signal, inline, on the exit hot path); a service core (a
 * physical CPU of its own, or the vCPU's own CPU when there is only one) learns
 * of it by a fixed-vector IPI (notify=ipi) or by polling (notify=poll) and
 * "handles" the event by catching up with every signal raised so far. The
 * service core also runs the synchronous device's model (service_call): the
 * heavyweight "qemu-mmio" baseline, whose every access waits for it.
 *
 * Pure parts, unit-tested on the host (tests/host/test_service.c):
 * service/event.c (the scan with the summary word, the bookkeeping, the
 * latency percentiles) and service/syncdev.c (the synchronous device's
 * register file). service/core.c is the hardware half: setup, the core's
 * loop, the IPI, EVENT_READ's wait and the boot self-check.
 *
 * The ordering argument (why no signal is ever lost) is in service/event.c.
 */
#ifndef SERVICE_SERVICE_H
#define SERVICE_SERVICE_H

#include "lib/lib.h"
#include "drivers/drivers.h"

#define EVENTS_PER_VM      1024
#define EVENT_WORDS        (EVENTS_PER_VM / 64)
#define LATENCY_SAMPLES    4096			/* a power of two: a ring */
#define CACHE_LINE         64

/* Summary word: bit w (w < EVENT_WORDS) says pending[w] may be non-zero;
 * SUMMARY_CALL says a synchronous call is posted (service_call). */
#define SUMMARY_CALL_BIT   63
#define SUMMARY_CALL       BIT(SUMMARY_CALL_BIT)
_Static_assert(EVENT_WORDS <= 63, "the summary word has a bit per pending word");
_Static_assert((LATENCY_SAMPLES & (LATENCY_SAMPLES - 1)) == 0, "ring size");

/* event_set.flags: fixed at event_set_init, read by every signal. */
#define EVENT_SET_INLINE   BIT(0)	/* single CPU: handled at signal time */
#define EVENT_SET_IPI      BIT(1)	/* notify=ipi: wake the core by IPI */
#define EVENT_SET_LATENCY  BIT(2)	/* latency=1: sample signal -> handling */
#define EVENT_SET_X2APIC   BIT(3)	/* the IPI is one WRMSR of ipi_icr */

/* One service core's wake-up flag, alone on its cache line: signallers load
 * it (and xchg it when it is 0), the core clears it at the start of each
 * round. Everything else the core writes lives elsewhere. */
struct service_kick {
	u32 kick;		/* 1: a round is due */
	u8 pad[CACHE_LINE - sizeof(u32)];
} __aligned(CACHE_LINE);
_Static_assert(sizeof(struct service_kick) == CACHE_LINE, "kick owns its line");

typedef void (*service_call_fn)(void *arg);

/* A synchronous call posted to the service core (service_call). */
struct service_call {
	service_call_fn fn;
	void *arg;
	u32 done;		/* set (release) by the core when fn returned */
};

/*
 * One VM's events, with eventfd semantics: a signal adds 1 to the event's
 * counter and is never lost; the service core "handles" an event by catching
 * up with every signal raised so far; EVENT_READ returns what was handled
 * since the last read.
 *
 * Layout, by who writes what (each group starts a cache line):
 * - line 0: the summary word and pending[0..3] (signallers set bits, the core
 *   clears them), and the set's configuration, fixed at init: the service
 *   core's kick, the IPI's destination. A signal of an event below 256 thus
 *   touches three lines: sent[id], line 0 and the core's kick; above 256, one
 *   more (its pending word).
 * - sent[]: signallers (atomic add); signal_tsc[]: signallers, latency=1 only.
 * - handled[], the statistics and the latency ring: the service core only.
 * - read_mark[]: the VM's own vCPU only (EVENT_READ).
 */
struct event_set {
	/* line 0 */
	u64 summary;			/* bit w: pending[w] may be non-zero */
	struct service_kick *kick;	/* the serving core's kick (NULL inline) */
	u64 ipi_icr;			/* x2APIC: ICR value of the wake-up IPI */
	u32 apic_id;			/* xAPIC: destination of the wake-up IPI */
	u32 flags;			/* EVENT_SET_* */
	u64 pending[EVENT_WORDS];	/* events with unhandled signals */
	struct service_call *call;	/* the posted synchronous call */
	u32 service_cpu;		/* index of the CPU that serves it */
	struct event_set *next;		/* the service core's list */

	u64 sent[EVENTS_PER_VM] __aligned(CACHE_LINE);
	u64 signal_tsc[EVENTS_PER_VM] __aligned(CACHE_LINE); /* latest signal */

	/* Written by the service core only. */
	u64 handled[EVENTS_PER_VM] __aligned(CACHE_LINE);
	u64 events_handled __aligned(CACHE_LINE); /* handlings that found signals */
	u64 signals_handled;		/* signals caught up with, all events */
	u64 service_cycles;		/* TSC in those handlings (latency=1) */
	u64 calls_served;		/* synchronous calls run */
	u64 latency_count;		/* samples ever taken */
	u64 latency[LATENCY_SAMPLES];	/* signal -> handling, TSC cycles (ring) */

	u64 read_mark[EVENTS_PER_VM] __aligned(CACHE_LINE);
} __aligned(CACHE_LINE);

_Static_assert(offsetof(struct event_set, summary) == 0, "summary on line 0");
_Static_assert(offsetof(struct event_set, pending) == 32, "pending[0..3] on line 0");
_Static_assert(offsetof(struct event_set, sent) % CACHE_LINE == 0, "sent[] own lines");
_Static_assert(offsetof(struct event_set, sent) >= offsetof(struct event_set, next) + sizeof(void *),
	       "sent[] after the signallers' lines");
_Static_assert(offsetof(struct event_set, handled) % CACHE_LINE == 0, "core lines");
_Static_assert(offsetof(struct event_set, events_handled) % CACHE_LINE == 0, "core stats line");
_Static_assert(offsetof(struct event_set, read_mark) % CACHE_LINE == 0, "vCPU lines");

/* ---- the signal: inline, for the vCPU's exit hot path -------------------- */

/* Sets bit `bit` of the bit string at words: one locked BTS, whose register
 * bit offset reaches past the first word of a memory operand (SDM Vol. 2A,
 * "BT - Bit Test": a register offset selects any bit of the bit string, in
 * 64-bit mode within -2^63 .. 2^63 - 1). Locked: a full barrier (SDM Vol.
 * 3A, "Locked Instructions Have a Total Order"). */
static inline void event_bit_set(u64 *words, u64 bit)
{
	__asm__ volatile("lock btsq %1, %0" : "+m"(*words) : "r"(bit) : "memory", "cc");
}

/* Out of line: the rare parts of a signal. */
void service_inline_signal(struct event_set *es);	/* single CPU */
void service_wake(struct event_set *es);		/* xAPIC IPI */

#ifdef HOST_TEST
void service_test_ipi(struct event_set *es);		/* the test's hook */
#endif

/* Sends the wake-up IPI of es's service core. In x2APIC mode one WRMSR of a
 * precomputed ICR (SDM Vol. 3A, "Interrupt Command Register (ICR)" in x2APIC
 * mode), after LFENCE: a WRMSR to an x2APIC register is not serializing, and
 * the locked XCHG before it has made every store of the signal globally
 * visible; LFENCE keeps the WRMSR from starting before that XCHG completed
 * (SDM Vol. 3A, "x2APIC Register Address Space", the note on WRMSR ordering). */
static inline void event_wake_ipi(struct event_set *es)
{
#ifdef HOST_TEST
	service_test_ipi(es);
#else
	if (likely(es->flags & EVENT_SET_X2APIC)) {
		__asm__ volatile("lfence" ::: "memory");
		wrmsr(X2APIC_MSR_ICR, es->ipi_icr);
	} else {
		service_wake(es);
	}
#endif
}

/* Wakes es's service core unless a round is already due: test-and-test-
 * and-set on its kick (a plain load; the locked xchg only when it read 0), and
 * the IPI only for the signaller that turned it from 0 to 1. */
static inline __attribute__((always_inline)) void event_kick(struct event_set *es, u32 flags)
{
	u32 *kick = &es->kick->kick;

	if (__atomic_load_n(kick, __ATOMIC_SEQ_CST) == 0 &&
	    __atomic_exchange_n(kick, 1, __ATOMIC_SEQ_CST) == 0 &&
	    (flags & EVENT_SET_IPI))
		event_wake_ipi(es);
}

/*
 * Signals event id of es once (id < EVENTS_PER_VM, checked by the caller).
 * Any CPU, any context; never blocks. Wakes the service core by IPI unless a
 * round is already due. With latency=1 it first records the TSC for the
 * latency sample. With a single CPU it handles the event at once
 * (service_inline_signal). The ordering argument: service/event.c.
 */
static inline __attribute__((always_inline)) void event_signal(struct event_set *es, u32 id)
{
	u32 flags = es->flags;

	/* Not marked unlikely: inline, the sample costs no jump out and back. */
	if (flags & EVENT_SET_LATENCY)
		__atomic_store_n(&es->signal_tsc[id], rdtsc(), __ATOMIC_RELAXED);
	__atomic_fetch_add(&es->sent[id], 1, __ATOMIC_SEQ_CST);
	event_bit_set(es->pending, id);
	event_bit_set(&es->summary, id / 64);
	if (unlikely(flags & EVENT_SET_INLINE))
		service_inline_signal(es);
	else
		event_kick(es, flags);
}

/* ---- the rest of the events API (service/core.c) ------------------------- */

/* Attaches es (zeroed) to a service core, round robin, or to inline service
 * when there is none; copies latency=, notify= and the core's APIC ID into
 * it. Must run before the first event_signal on es. */
void event_set_init(struct event_set *es);
/* Waits, at most timeout_us, until the service core has handled every signal
 * of id raised so far, then returns in *count the signals handled since the
 * last read and consumes them. -ETIMEDOUT (consuming nothing) if it did not
 * catch up in time. The VM's own vCPU only. */
int event_read(struct event_set *es, u32 id, u64 timeout_us, u64 *count);
/* Runs fn(arg) on the service core of es and returns after it has run
 * (inline with a single CPU). One call at a time per set: the VM's vCPU. */
void service_call(struct event_set *es, service_call_fn fn, void *arg);

/* The service core's loop (never returns). */
__noreturn void service_main(void);
/* Boot self-check run on CPU 0: IPIs and event signals to each service core,
 * all counted there. Returns 0 when nothing was lost. */
int service_selftest(void);

/* ---- the pure parts (service/event.c) ------------------------------------ */

/* Whether es has work for the service core: the test before the locked xchg
 * of service_scan, so that an idle set costs a round one load. Inline: the
 * round calls it for every set it serves. */
static inline bool service_set_busy(const struct event_set *es)
{
	return __atomic_load_n(&es->summary, __ATOMIC_SEQ_CST) != 0;
}

/* The service core's share of a round for one set (call it when
 * service_set_busy): takes the summary word and the pending words it names, brings each named event
 * up to date (handled[id] = sent[id]) with the bookkeeping (events and
 * signals handled, latency samples and service cycles when latency=1), and
 * runs a posted synchronous call. Returns the events handled. The set's
 * service core only (or the signaller itself in inline mode). */
u64 service_scan(struct event_set *es);

/* EVENT_READ's bookkeeping: if every signal of id raised before the call has
 * been handled, stores in *count the signals handled since the last read,
 * consumes them and returns true; else false (nothing consumed). */
bool event_consume(struct event_set *es, u32 id, u64 *count);

struct latency_summary {
	u64 samples;		/* samples summarized (the ring's, at most LATENCY_SAMPLES) */
	u64 p50, p99, max;	/* nearest-rank percentiles, TSC cycles; 0 if no sample */
};

/* Summarizes the latency ring of es (the latest min(latency_count,
 * LATENCY_SAMPLES) samples) using scratch, LATENCY_SAMPLES words. The set's
 * service core only (the ring is its own). */
void event_latency_summary(const struct event_set *es, u64 *scratch,
			   struct latency_summary *out);
/* The same over any array: sorts v[0..n) in place. */
void latency_percentiles(u64 *v, u64 n, struct latency_summary *out);

/* ---- the synchronous device's model (service/syncdev.c, pure) ------------ */
/*
 * The register file of the synchronous device (guest-physical 0xFE000000,
 * 4 KiB; README "The synchronous device"). Every access is one request,
 * served on the service core of the VM's event set (vmx/syncdev.c posts it
 * with service_call). Accesses are naturally aligned 1, 2, 4 or 8 bytes; each
 * 32-bit register they cover behaves as listed. A misaligned access, a write
 * to a read-only register or an access outside every register is an error:
 * STATUS.ERROR is set, ERRORS counts it, a read returns 0, a write is dropped.
 */
#define SYNCDEV_GPA            0xfe000000ull
#define SYNCDEV_SIZE           0x1000u

#define SYNCDEV_ID             0x000	/* RO: SYNCDEV_MAGIC */
#define SYNCDEV_VERSION        0x004	/* RO: 1 */
#define SYNCDEV_STATUS         0x008	/* RO: SYNCDEV_STATUS_* */
#define SYNCDEV_COMMAND        0x00c	/* WO (reads 0): SYNCDEV_CMD_* */
#define SYNCDEV_SERVED         0x010	/* RO 64: requests served before this one */
#define SYNCDEV_ERRORS         0x018	/* RO: bad accesses so far */
#define SYNCDEV_CHECKSUM       0x01c	/* RO: sum of REG[0..63] mod 2^32 */
#define SYNCDEV_STAT_EVENTS    0x040	/* RO 64, snapshot: events handled */
#define SYNCDEV_STAT_SIGNALS   0x048	/* RO 64, snapshot: signals handled */
#define SYNCDEV_STAT_CYCLES    0x050	/* RO 64, snapshot: service cycles */
#define SYNCDEV_STAT_SAMPLES   0x058	/* RO 64, snapshot: latency samples summarized */
#define SYNCDEV_STAT_P50       0x060	/* RO 64, snapshot: latency p50 */
#define SYNCDEV_STAT_P99       0x068	/* RO 64, snapshot: latency p99 */
#define SYNCDEV_STAT_MAX       0x070	/* RO 64, snapshot: latency max */
#define SYNCDEV_STAT_CALLS     0x078	/* RO 64, snapshot: synchronous calls */
#define SYNCDEV_STAT_END       0x080
#define SYNCDEV_REG0           0x100	/* RW: REG[0..63], 32 bits each */
#define SYNCDEV_REGS           64
#define SYNCDEV_REG_END        (SYNCDEV_REG0 + 4 * SYNCDEV_REGS)

#define SYNCDEV_MAGIC          0x434e5953u	/* "SYNC" in memory order */
#define SYNCDEV_VERSION_1      1u

#define SYNCDEV_STATUS_READY   BIT(0)	/* always 1: the model answered */
#define SYNCDEV_STATUS_WRITE   BIT(1)	/* the previous request was a write */
#define SYNCDEV_STATUS_ERROR   BIT(2)	/* a bad access since the last CLEAR */
#define SYNCDEV_STATUS_INLINE  BIT(3)	/* served on the vCPU's own CPU */
#define SYNCDEV_STATUS_CPU_SHIFT 8	/* bits 15:8: index of the serving CPU */

#define SYNCDEV_CMD_SNAPSHOT   1u	/* copy this VM's service statistics */
#define SYNCDEV_CMD_CLEAR      2u	/* clear STATUS.ERROR */
#define SYNCDEV_CMD_RESET      3u	/* zero REG[] */
#define SYNCDEV_CMD_CLEAR_STATS 4u	/* zero this VM's service statistics (the benchmark) */

struct syncdev_stats {
	u64 events, signals, cycles, calls;
	struct latency_summary latency;
};

/* One request, as the vCPU posts it and the service core answers it. */
struct syncdev_req {
	u64 offset;		/* from SYNCDEV_GPA */
	u32 len;		/* 1, 2, 4 or 8 */
	bool write;
	u64 value;		/* write: the value; read: the answer */
	u32 from_cpu;		/* the vCPU's CPU index */
	u32 served_cpu;		/* filled in by the server */
};

struct syncdev {
	u32 regs[SYNCDEV_REGS];
	u32 status;		/* SYNCDEV_STATUS_WRITE | _ERROR, kept across requests */
	u32 errors;
	u64 served;
	struct syncdev_stats snap;	/* the last SNAPSHOT */
	struct event_set *es;		/* whose statistics SNAPSHOT copies */
	u64 *scratch;			/* LATENCY_SAMPLES words, for SNAPSHOT */
};

/* Serves one request (on the service core): fills req->value for a read. */
void syncdev_serve(struct syncdev *d, struct syncdev_req *req);

#endif /* SERVICE_SERVICE_H */
