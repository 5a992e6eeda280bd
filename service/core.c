/*
 * service/core.c - the service cores: a physical CPU that runs the device
 * back-ends. Event sets are attached to them round robin (event_set_init);
 * each core sleeps until a signal kicks it (notify=ipi: `sti; hlt` until the
 * fixed-vector IPI; notify=poll: spinning on its kick), then runs rounds:
 * clear the kick, scan every set it serves (service/event.c, where the
 * ordering argument is). Wake-ups coalesce: a signaller sends an IPI only
 * when it turned the kick from 0 to 1, so a burst of doorbells costs one IPI
 * and one round catches up with all of them.
 *
 * With a single CPU there is no service core: the signaller scans its set
 * itself (service_inline_signal) and synchronous calls run in place.
 *
 * Also here: EVENT_READ's bounded wait, synchronous calls (service_call), and
 * the boot self-check (IPIs and 10,000 signals, all counted).
 *
 * The poll page (service/poll.c): while a VM it serves watches slots of its
 * poll page, a core does not sleep between rounds: it passes over every
 * watched slot, then checks its kick, again and again (service_poll_wait).
 * A core that watches nothing pays one load per round for the feature.
 */
#include "service/service.h"
#include "boot/cpu.h"

struct service_core {
	struct service_kick kick;	/* alone on its line */
	/* The core's own line. */
	struct event_set *sets __aligned(CACHE_LINE);	/* the sets it serves */
	u64 rounds;			/* times the core scanned its sets */
	struct poll_watch *polls;	/* poll pages watching slots (poll_watch_set) */
} __aligned(CACHE_LINE);

static struct service_core service_cores[MAX_CPUS];
static u32 service_next;		/* round-robin assignment of sets */

static u32 service_cpu_count(void)
{
	return cpu_count > boot_cfg.vcpus ? cpu_count - boot_cfg.vcpus : 0;
}

void event_set_init(struct event_set *es)
{
	u32 n = service_cpu_count();
	u32 flags = boot_cfg.latency ? EVENT_SET_LATENCY : 0;

	if (n == 0) {
		es->flags = flags | EVENT_SET_INLINE;
		es->service_cpu = this_cpu_index();
		return;
	}
	u32 cpu = boot_cfg.vcpus + __atomic_fetch_add(&service_next, 1, __ATOMIC_RELAXED) % n;
	struct service_core *sc = &service_cores[cpu];

	es->service_cpu = cpu;
	es->kick = &sc->kick;
	es->apic_id = cpus[cpu].apic_id;
	if (boot_cfg.notify == NOTIFY_IPI)
		flags |= EVENT_SET_IPI;
	if (apic_ipi_icr(es->apic_id, VECTOR_SERVICE_IPI, &es->ipi_icr))
		flags |= EVENT_SET_X2APIC;
	es->flags = flags;
	/* Publish the set with one release store; the core walks the list. */
	struct event_set *head;
	do {
		head = __atomic_load_n(&sc->sets, __ATOMIC_ACQUIRE);
		es->next = head;
	} while (!__atomic_compare_exchange_n(&sc->sets, &head, es, false,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

void service_poll_init(struct poll_watch *w, struct poll_page *page, struct event_set *es)
{
	poll_watch_init(w, page, es, es->flags & EVENT_SET_INLINE ? NULL :
			&service_cores[es->service_cpu].polls);
}

void service_inline_signal(struct event_set *es)
{
	if (service_set_busy(es))
		service_scan(es);
}

void service_wake(struct event_set *es)
{
	apic_send_ipi(es->apic_id, VECTOR_SERVICE_IPI);
}

int event_read(struct event_set *es, u32 id, u64 timeout_us, u64 *count)
{
	u64 deadline = rdtsc() + tsc_hz() / 1000000 * timeout_us;

	while (!event_consume(es, id, count)) {
		if (rdtsc() > deadline)
			return -ETIMEDOUT;
		cpu_relax();
	}
	return 0;
}

void service_call(struct event_set *es, service_call_fn fn, void *arg)
{
	if (es->flags & EVENT_SET_INLINE) {
		fn(arg);
		es->calls_served++;
		return;
	}
	struct service_call c = { .fn = fn, .arg = arg, .done = 0 };

	__atomic_store_n(&es->call, &c, __ATOMIC_RELEASE);
	event_bit_set(&es->summary, SUMMARY_CALL_BIT);
	event_kick(es, es->flags);
	/* The core always answers: fn is the hypervisor's own code. */
	while (!__atomic_load_n(&c.done, __ATOMIC_ACQUIRE))
		cpu_relax();
}

/* The wake-up IPI through the generic interrupt path (xAPIC mode). */
static void service_ipi(struct trap_frame *tf)
{
	(void)tf;
	this_cpu()->ipis_received++;
	apic_eoi();
}

/* service/ipi.asm: the same in x2APIC mode, in 11 instructions. */
void service_ipi_x2apic(void);
#define PERCPU_IPIS  192	/* service/ipi.asm's %define */
_Static_assert(offsetof(struct percpu, ipis_received) == PERCPU_IPIS,
	       "service/ipi.asm counts IPIs at GS:PERCPU_IPIS");

/* Between rounds while some poll page is watched: a pass over every watched
 * slot, then the kick, until a round is due. The watches change only in a
 * round (a synchronous call: the WRMSR of the watch), so the list is the
 * core's own. */
static __attribute__((noinline)) void service_poll_wait(struct service_core *sc, u32 *kick)
{
	do {
		for (struct poll_watch *w = sc->polls; w; w = w->next)
			poll_scan(w);
		cpu_relax();
	} while (!__atomic_load_n(kick, __ATOMIC_SEQ_CST));
}

void service_main(void)
{
	struct service_core *sc = &service_cores[this_cpu_index()];
	u32 *kick = &sc->kick.kick;
	bool ipi = boot_cfg.notify == NOTIFY_IPI;

	if (apic_is_x2apic())
		trap_set_entry(VECTOR_SERVICE_IPI, service_ipi_x2apic);
	else
		trap_register(VECTOR_SERVICE_IPI, service_ipi);
	__asm__ volatile("sti" ::: "memory");
	/* Rounds until the kick is found clear, then sleep. A wake-up that
	 * finds nothing (the self-check's bare IPIs) costs one empty round. */
	for (;;) {
		/* A round: clear the kick first (service/event.c, case 1). */
		__atomic_exchange_n(kick, 0, __ATOMIC_SEQ_CST);
		sc->rounds++;
		for (struct event_set *es = __atomic_load_n(&sc->sets, __ATOMIC_ACQUIRE);
		     es; es = es->next)
			if (service_set_busy(es))
				service_scan(es);
		/* Between rounds: sleep (or spin on the kick), unless a poll
		 * page is watched (service_poll_wait). The test sits where
		 * the core would wait, out of the way of a round that follows
		 * at once. */
		if (ipi) {
			/* sti; hlt is atomic: an IPI arriving after the check
			 * still ends the hlt (SDM Vol. 2B, "STI": interrupts
			 * are recognised after the next instruction). */
			__asm__ volatile("cli" ::: "memory");
			if (!__atomic_load_n(kick, __ATOMIC_SEQ_CST)) {
				if (unlikely(__atomic_load_n(&sc->polls, __ATOMIC_RELAXED))) {
					__asm__ volatile("sti" ::: "memory");
					service_poll_wait(sc, kick);
					continue;
				}
				__asm__ volatile("sti; hlt" ::: "memory");
			} else {
				__asm__ volatile("sti" ::: "memory");
			}
		} else if (unlikely(__atomic_load_n(&sc->polls, __ATOMIC_RELAXED))) {
			service_poll_wait(sc, kick);
		} else {
			while (!__atomic_load_n(kick, __ATOMIC_SEQ_CST))
				cpu_relax();
		}
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
	bool inline_service = selftest_set.flags & EVENT_SET_INLINE;
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
	/* Off the core's list, so that rounds stop visiting it: it is still
	 * the list's head (VMs are made after the self-check), and a core
	 * that still walks it finds an idle set. */
	if (!inline_service) {
		struct event_set *head = &selftest_set;
		__atomic_compare_exchange_n(&service_cores[selftest_set.service_cpu].sets,
					    &head, selftest_set.next, false,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
	printk("selftest: events via %s: %u signalled, %llu handled, %llu lost "
	       "(%llu service rounds)\n",
	       inline_service ? "inline service" :
	       boot_cfg.notify == NOTIFY_IPI ? "ipi" : "poll",
	       SELFTEST_SIGNALS, handled, SELFTEST_SIGNALS - handled,
	       inline_service ? 0 : rounds);
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
