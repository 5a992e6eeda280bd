/*
 * service/poll.c - the poll page: a doorbell with no exit (service/service.h
 * "the poll page" has the layout and the guest's side). The service core
 * watches slots of a VM's poll page while the guest asks for it (a WRMSR of
 * POLL_WATCH_MSR, served on that core: vmx/pollpage.c), looks at every
 * watched slot on each pass of its polling loop (service/core.c), and turns
 * each change of a slot's seq into a handling of the slot's event, with the
 * same bookkeeping as a doorbell's (service/event.c): sent and handled,
 * events and signals handled, service cycles, latency samples. Pure: no
 * hardware beyond RDTSC; unit-tested on the host (tests/host/test_service.c).
 *
 * Ordering. The page is write-back RAM for both sides (EPT write-back with
 * the guest's PAT ignored, vmx/vm.c), so the guest's stores and the core's
 * loads are ordinary cache-coherent accesses; x86 orders them as "Memory
 * Ordering in P6 and More Recent Processor Families" (SDM Vol. 3A) says:
 * writes are not reordered with other writes, reads are not reordered with
 * other reads.
 * 1. The guest stores slot.tsc, then slot.seq; the core loads slot.seq, then
 *    slot.tsc. A core that loads seq = n therefore loads the tsc of the
 *    signal that wrote n or of a later one: the sample is from the latest
 *    signal, as a doorbell's is (event_signal's signal_tsc[]). The sample
 *    compares two CPUs' TSCs: synchronized on hardware with an invariant
 *    TSC, within a few counts in Bochs (which runs its CPUs by turns), so a
 *    sample that comes out negative is taken as 0.
 * 2. No signal is counted twice or lost while the slot is watched: the core
 *    adds seq - last (mod 2^32) and sets last = seq, both from the one value
 *    it loaded, so every increment between two looks is counted in the
 *    second (a guest that signals 2^32 times between two looks of a core
 *    that checks its kick in between cannot be told from one that did not).
 * 3. Unwatching takes a last look: the request is a WRMSR, an exit after
 *    which the vCPU posts the call with locked instructions (service_call),
 *    which drain its store buffer ("Locked Instructions Have a Total
 *    Order"): every store the guest made before the WRMSR is visible before
 *    the core's xchg of the summary word that finds the call, so before the
 *    last look's loads.
 * 4. Watching takes seq as it is, and no later signal is in it: the core
 *    loads seq before it releases the call's done flag, and the vCPU
 *    resumes the guest only after loading done (acquire): the guest's next
 *    stores come after that load.
 *
 * Containment. The guest may write anything anywhere in the page at any
 * time. The core loads two u32 per watched slot and uses them only as
 * numbers: never as an address, an index or a loop bound. A look adds at
 * most 2^32 - 1 signals to that VM's own event and a latency sample below
 * 2^31 cycles to its own ring; a pass costs at most POLL_SLOTS loads per
 * watching VM, and the polling loop checks the core's kick after every pass,
 * so other VMs' doorbells are served as before. Which slots are watched is
 * the hypervisor's (mask, here), set only by the WRMSR.
 */
#include "service/service.h"

void poll_watch_init(struct poll_watch *w, struct poll_page *page,
		     struct event_set *es, struct poll_watch **list)
{
	memset(w, 0, sizeof(*w));
	w->page = page;
	w->es = es;
	w->list = list;
}

/* One look at the slots of mask. The bookkeeping is service/event.c's;
 * latency samples only when sample (not for the last look, whose delay is
 * the guest's unwatching request, not the polling). */
static u64 poll_look(struct poll_watch *w, u64 mask, bool sample)
{
	struct event_set *es = w->es;
	bool latency = es->flags & EVENT_SET_LATENCY;
	u64 t0 = latency ? rdtsc() : 0;
	u64 events = 0, signals = 0;

	while (mask) {
		u32 k = (u32)__builtin_ctzll(mask);
		struct poll_slot *s = &w->page->slot[k];
		mask &= mask - 1;
		/* 1.: seq, then tsc (acquire: no later load moves above it). */
		u32 seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		u32 n = seq - w->last[k];
		if (n == 0)
			continue;
		w->last[k] = seq;
		if (latency && sample) {
			/* Mod 2^32; "negative" (the other CPU's TSC a few
			 * cycles ahead, or a tsc from the future) counts 0. */
			s32 lat = (s32)((u32)rdtsc() - __atomic_load_n(&s->tsc, __ATOMIC_RELAXED));
			es->latency[es->latency_count % LATENCY_SAMPLES] = lat < 0 ? 0 : (u64)lat;
			es->latency_count++;
		}
		/* sent first: handled never passes sent (event_consume). */
		__atomic_fetch_add(&es->sent[k], n, __ATOMIC_SEQ_CST);
		__atomic_store_n(&es->handled[k], es->handled[k] + n, __ATOMIC_RELEASE);
		events++;
		signals += n;
	}
	if (events) {
		es->events_handled += events;
		es->signals_handled += signals;
		if (latency)
			es->service_cycles += rdtsc() - t0;
	}
	return events;
}

u64 poll_scan(struct poll_watch *w)
{
	return poll_look(w, w->mask, true);
}

int poll_watch_set(struct poll_watch *w, u64 mask)
{
	if (!w->list)
		return -ENODEV;
	u64 dropped = w->mask & ~mask, added = mask & ~w->mask;

	poll_look(w, dropped, false);		/* 3. */
	for (u64 m = added; m; m &= m - 1) {	/* 4. */
		u32 k = (u32)__builtin_ctzll(m);
		w->last[k] = __atomic_load_n(&w->page->slot[k].seq, __ATOMIC_ACQUIRE);
	}
	bool was = w->mask != 0;
	w->mask = mask;
	if (!was && mask) {
		w->next = *w->list;
		__atomic_store_n(w->list, w, __ATOMIC_RELAXED);
	} else if (was && !mask) {
		struct poll_watch **p = w->list;
		while (*p != w)
			p = &(*p)->next;
		__atomic_store_n(p, w->next, __ATOMIC_RELAXED);
		w->next = NULL;
	}
	return 0;
}
