/*
 * boot/service.c - events and the service core.
 *
 * A service core is a physical CPU that runs the device back-ends. Guests'
 * doorbells become event signals (event_signal); the service core learns of
 * them either by a fixed-vector IPI (notify=ipi) or by polling a shared flag
 * (notify=poll). Wake-ups coalesce: a signaller sends an IPI only when it is
 * the one that turned the core's "kick" flag from 0 to 1, so a burst of
 * doorbells costs one IPI, and the core catches up with all of them at once.
 *
 * Ordering argument (why no signal is ever lost): a signaller does
 *   sent[id]++ ; pending |= bit ; if (xchg(kick, 1) == 0) send IPI
 * and the core does
 *   xchg(kick, 0) ; for each bit in xchg(pending, 0): handled[id] = sent[id].
 * All of these are sequentially consistent atomics. If the core's xchg(kick)
 * comes after the signaller's, the core's scan comes after the signaller's
 * pending update and sees it; if it comes before, the signaller finds kick == 0
 * and wakes the core again. A bit cleared by a scan that read sent[] before an
 * increment is set again by that increment's signaller, so the next round
 * catches it.
 */
#include "boot/cpu.h"
#include "drivers/drivers.h"

struct service_core {
	u32 kick;			/* 1: a wake-up is pending */
	struct event_set *sets;		/* event sets this core serves */
	u64 rounds;			/* times the core scanned its sets */
	u64 handled;			/* signals handled, all sets */
};

static struct service_core service_cores[MAX_CPUS];
static u32 service_next;		/* round-robin assignment of sets */

static u32 service_cpu_count(void)
{
	return cpu_count > boot_cfg.vcpus ? cpu_count - boot_cfg.vcpus : 0;
}

/* Brings event id of es up to date with its signals; service core (or the
 * signalling CPU itself in inline mode) only. */
static void service_handle_event(struct event_set *es, u32 id)
{
	u64 sent = __atomic_load_n(&es->sent[id], __ATOMIC_SEQ_CST);
	u64 old = es->handled[id];

	if (sent == old)
		return;
	u64 lat = rdtsc() - __atomic_load_n(&es->signal_tsc[id], __ATOMIC_RELAXED);
	es->latency[es->latency_count % LATENCY_SAMPLES] = lat;
	es->latency_count++;
	__atomic_store_n(&es->handled[id], sent, __ATOMIC_RELEASE);
}

static u64 service_scan(struct event_set *es)
{
	u64 n = 0;
	for (u32 w = 0; w < EVENT_WORDS; w++) {
		u64 bits = __atomic_exchange_n(&es->pending[w], 0, __ATOMIC_SEQ_CST);
		while (bits) {
			u32 b = (u32)__builtin_ctzll(bits);
			bits &= bits - 1;
			service_handle_event(es, w * 64 + b);
			n++;
		}
	}
	return n;
}

void event_set_init(struct event_set *es)
{
	u32 n = service_cpu_count();

	if (n == 0) {
		es->inline_service = true;
		es->service_cpu = this_cpu_index();
		return;
	}
	es->service_cpu = boot_cfg.vcpus + __atomic_fetch_add(&service_next, 1, __ATOMIC_RELAXED) % n;
	struct service_core *sc = &service_cores[es->service_cpu];
	/* Publish the set with one release store; the core walks the list. */
	struct event_set *head;
	do {
		head = __atomic_load_n(&sc->sets, __ATOMIC_ACQUIRE);
		es->next = head;
	} while (!__atomic_compare_exchange_n(&sc->sets, &head, es, false,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

void event_signal(struct event_set *es, u32 id)
{
	__atomic_store_n(&es->signal_tsc[id], rdtsc(), __ATOMIC_RELAXED);
	__atomic_add_fetch(&es->sent[id], 1, __ATOMIC_SEQ_CST);
	__atomic_or_fetch(&es->pending[id / 64], BIT(id % 64), __ATOMIC_SEQ_CST);

	if (es->inline_service) {
		service_scan(es);
		return;
	}
	struct service_core *sc = &service_cores[es->service_cpu];
	if (__atomic_exchange_n(&sc->kick, 1, __ATOMIC_SEQ_CST) == 0 &&
	    boot_cfg.notify == NOTIFY_IPI)
		apic_send_ipi(cpus[es->service_cpu].apic_id, VECTOR_SERVICE_IPI);
}

int event_read(struct event_set *es, u32 id, u64 timeout_us, u64 *count)
{
	u64 target = __atomic_load_n(&es->sent[id], __ATOMIC_SEQ_CST);
	u64 deadline = rdtsc() + tsc_hz() / 1000000 * timeout_us;
	u64 handled;

	while ((handled = __atomic_load_n(&es->handled[id], __ATOMIC_ACQUIRE)) < target) {
		if (rdtsc() > deadline)
			return -ETIMEDOUT;
		cpu_relax();
	}
	*count = handled - es->read_mark[id];
	es->read_mark[id] = handled;
	return 0;
}

static void service_ipi(struct trap_frame *tf)
{
	(void)tf;
	this_cpu()->ipis_received++;
	apic_eoi();
}

void service_main(void)
{
	struct service_core *sc = &service_cores[this_cpu_index()];

	trap_register(VECTOR_SERVICE_IPI, service_ipi);
	for (;;) {
		if (boot_cfg.notify == NOTIFY_IPI) {
			/* sti; hlt is atomic: an IPI arriving after the check
			 * still ends the hlt (SDM Vol. 2B, "STI": interrupts
			 * are recognised after the next instruction). */
			__asm__ volatile("cli");
			if (!__atomic_load_n(&sc->kick, __ATOMIC_SEQ_CST)) {
				__asm__ volatile("sti; hlt" ::: "memory");
				continue;
			}
			__asm__ volatile("sti");
		} else {
			__asm__ volatile("sti");
			while (!__atomic_load_n(&sc->kick, __ATOMIC_SEQ_CST))
				cpu_relax();
		}
		__atomic_exchange_n(&sc->kick, 0, __ATOMIC_SEQ_CST);
		sc->rounds++;
		for (struct event_set *es = __atomic_load_n(&sc->sets, __ATOMIC_ACQUIRE);
		     es; es = es->next)
			sc->handled += service_scan(es);
	}
}

/* ---- boot self-check ------------------------------------------------------ */
#define SELFTEST_IPIS     1000
#define SELFTEST_SIGNALS  10000
#define SELFTEST_EVENTS   16

static struct event_set selftest_set;

static int selftest_ipis(u32 cpu)
{
	u32 received = 0;

	for (u32 i = 0; i < SELFTEST_IPIS; i++) {
		u64 before = __atomic_load_n(&cpus[cpu].ipis_received, __ATOMIC_ACQUIRE);
		apic_send_ipi(cpus[cpu].apic_id, VECTOR_SERVICE_IPI);
		u64 deadline = rdtsc() + tsc_hz() / 10;	/* 100 ms */
		while (__atomic_load_n(&cpus[cpu].ipis_received, __ATOMIC_ACQUIRE) == before &&
		       rdtsc() < deadline)
			cpu_relax();
		if (__atomic_load_n(&cpus[cpu].ipis_received, __ATOMIC_ACQUIRE) != before)
			received++;
	}
	printk("selftest: cpu %u: %u IPIs sent, %u received\n", cpu,
	       SELFTEST_IPIS, received);
	return received == SELFTEST_IPIS ? 0 : -EIO;
}

static int selftest_events(void)
{
	u64 handled = 0;
	int err = 0;

	event_set_init(&selftest_set);
	u64 rounds_before = service_cores[selftest_set.service_cpu].rounds;
	for (u32 i = 0; i < SELFTEST_SIGNALS; i++)
		event_signal(&selftest_set, i % SELFTEST_EVENTS);
	for (u32 id = 0; id < SELFTEST_EVENTS; id++) {
		u64 n = 0;
		int r = event_read(&selftest_set, id, 1000000, &n);
		if (r) {
			printk("selftest: event %u: read failed (%d)\n", id, r);
			err = r;
		}
		handled += n;
	}
	u64 rounds = service_cores[selftest_set.service_cpu].rounds - rounds_before;
	printk("selftest: events via %s: %u signalled, %llu handled, %llu lost "
	       "(%llu service rounds)\n",
	       selftest_set.inline_service ? "inline service" :
	       boot_cfg.notify == NOTIFY_IPI ? "ipi" : "poll",
	       SELFTEST_SIGNALS, handled, SELFTEST_SIGNALS - handled, rounds);
	if (!err && handled != SELFTEST_SIGNALS)
		err = -EIO;
	return err;
}

int service_selftest(void)
{
	int err = 0;

	for (u32 cpu = boot_cfg.vcpus; cpu < cpu_count; cpu++)
		if (selftest_ipis(cpu))
			err = -EIO;
	int r = selftest_events();
	if (r)
		err = r;
	printk("selftest: %s\n", err ? "FAILED" : "passed");
	return err;
}
