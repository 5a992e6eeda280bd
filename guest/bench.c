/*
 * guest/bench.c - the benchmark guest (the default of `make run`), built
 * 32-bit (paging off) and 64-bit (4-level paging). Each path is a loop of one
 * operation timed with RDTSC from inside the guest and printed as one line
 * `BENCH {json}` (CONTRACTS.md 4):
 *
 *   null-cpuid   CPUID: exit, handler, resume - the floor
 *   null-vmcall  VMCALL with an unknown number: the hypercall floor
 *   pio          OUT to a PIO ioeventfd (4 bytes, wildcard)
 *   fast-mmio    a store to a length-0 MMIO ioeventfd: the fast-MMIO path
 *   mmio         a store to a DATAMATCH MMIO ioeventfd: decoded and
 *                emulated in full, found on the generic bus
 *   sync-mmio    a read of the synchronous device (0xFE000000): decoded,
 *                emulated and served on the service core while the vCPU
 *                waits - the heavyweight baseline (the seed's qemu-mmio)
 *   hypercall    the NOTIFY hypercall
 *   poll         no exit at all: a store of the TSC and a counter to a slot
 *                of the poll page (CPUID 0x40000002), ordinary memory that
 *                the service core watches - the cross-core floor
 *
 * Every doorbell path registers its own doorbell by hypercall, rings it ops
 * times, deassigns it, and checks with EVENT_READ that the service core
 * handled exactly the signals sent. The poll path asks the service core to
 * watch its slot (WRMSR of the watch MSR, CPUID 0x40000002 EDX), stores ops times, and
 * stops the watch, which takes a last look at the slot: EVENT_READ then
 * returns every signal. Around each timed loop the guest zeroes
 * its VM's service statistics (synchronous device, COMMAND CLEAR_STATS) and
 * reads them back after (SNAPSHOT): with latency=1 (CPUID 0x40000001 EAX bit
 * 4) each doorbell row carries the latency from the signal to its handling on
 * the service core (p50, p99, max, TSC cycles) and the service core's cycles
 * per handled event; without it those are null. The sync-mmio row's
 * `handled` is the requests the service core served during the loop.
 *
 * With scale=N,M,... the pio and fast-mmio paths are measured again with N,
 * M, ... ioeventfds in the VM (the others, alternately: 4-byte PIO datamatch
 * doorbells on 2048 ports from 0x2000, up to 16 values a port, and length-0
 * MMIO doorbells 8 bytes apart from 0xd0100000), to show that lookups stay
 * constant. (Not all on one port: each registration checks for a duplicate
 * among the doorbells at its address, so 32,768 on one port took Bochs more
 * than 8 minutes to register.) KVM's experiment (paths=kvm200): the mmio path again
 * with 200 more datamatch doorbells on another address (registrations 201),
 * which boots with lookup=binary and lookup=linear compare.
 *
 * In Bochs the TSC counts instructions, so cycles_per_op is the path length
 * of the guest loop plus the hypervisor's handler. The run's configuration
 * (notify, lookup, fastmmio_len, latency, VMs, TSC rate, this VM's index)
 * comes from doorbell's CPUID leaf 0x40000001.
 *
 * Command line: platform=NAME (tools/run passes it), ops=N (default 10000),
 * scale=N[,N...] (default 65536; 0: none), paths=NAME[,NAME...] (only those,
 * in the fixed order above; kvm200 is KVM's experiment; default: all but
 * kvm200), pathprof=PATH (bracket that path's measured loop with Bochs magic
 * breakpoints for pathprof). A line "bench: path NAME ..." as each path
 * starts, "bench: done" (exit 0) or "bench: FAILED" (exit 1) last.
 */
#include "lib/guest.h"

#define BENCH_HC_UNKNOWN  0xffff	/* no such hypercall: -ENOSYS */
#define PIO_PORT          0x680		/* free: no emulated device there */
#define PIO_OTHER_PORT    0x2000	/* the scaling doorbells: 2048 ports, */
#define PIO_OTHER_PORTS   2048u		/* 4 apart, 16 datamatch values each */
#define FAST_GPA          0xd0000000u	/* inside the doorbell window */
#define MMIO_DM_GPA       0xd0001000u
#define MMIO_DM_VALUE     0x1234u
#define KVM_OTHER_GPA     0xd0000800u	/* KVM's experiment: 200 on one address, below
					   MMIO_DM_GPA, so a linear scan passes them */
#define KVM_OTHERS        200u
#define OTHER_MMIO_GPA    0xd0100000u	/* scaling: one per 8 bytes */
#define EV_PIO            1
#define EV_FAST           2
#define EV_MMIO           3
#define EV_HC             4
#define EV_POLL           5		/* poll page slot 5 is event 5 */
#define EV_OTHER          100
#define EV_KVM_OTHER      101
#define MAX_SCALES        8
#define VM_IOEVENTFDS     65536u

#define CPUID_HV_CONFIG        0x40000001u
#define HV_CFG_POLL            BIT(0)
#define HV_CFG_LINEAR          BIT(1)
#define HV_CFG_LEN(eax)        (((eax) >> 2) & 3)
#define HV_CFG_LATENCY         BIT(4)
#define HV_CFG_TRACE           BIT(5)
#define CPUID_HV_POLL          0x40000002u	/* EAX, EBX: GPA; ECX: slots; EDX: MSR */
#define POLL_SLOT_WORDS        16		/* a slot: seq, tsc, 14 more */

/* The synchronous device (README "The synchronous device"). */
#define SD                     0xfe000000u
#define SD_ID                  0x000
#define SD_COMMAND             0x00c
#define SD_STAT_EVENTS         0x040
#define SD_STAT_CYCLES         0x050
#define SD_STAT_P50            0x060
#define SD_STAT_P99            0x068
#define SD_STAT_MAX            0x070
#define SD_STAT_CALLS          0x078
#define SD_CMD_SNAPSHOT        1u
#define SD_CMD_CLEAR_STATS     4u

#define U(x)                   ((unsigned long long)(x))	/* for printf */

static const char *platform = "hardware";
static const char *pathprof_path = "";
static const char *only_paths = "";	/* paths=: empty = the default set */
static u32 cfg_eax, cfg_vms, cfg_tsc_khz, cfg_vm;
static u32 registered;			/* ioeventfds in the VM now */
static u32 others;			/* of them, scaling doorbells */

static bool str_eq(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && !memcmp(a, b, n);
}

/* Whether path name is selected: by paths=, or by default (all but kvm200). */
static bool want(const char *name)
{
	size_t n = strlen(name);

	if (!*only_paths)
		return !str_eq(name, "kvm200");
	for (const char *p = only_paths; *p; ) {
		size_t k = 0;
		while (p[k] && p[k] != ',')
			k++;
		if (k == n && !memcmp(p, name, n))
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

static inline void pathprof_marker(void)
{
	__asm__ volatile("xchg %%bx, %%bx" ::: "memory");
}

/* One result. sent/handled/registrations only for doorbell paths. */
struct result {
	const char *path;
	u64 ops, cycles;
	bool event;			/* a doorbell path: latency and service cost */
	u64 sent, handled;
	u32 registrations;
	bool fast;			/* fast-mmio: print len_source */
	u64 p50, p99, max;		/* latency, from the service statistics */
	u64 svc_cycles, svc_events;	/* the service core's, during the loop */
};

/* x / y with two decimals. */
static void print_ratio(u64 x, u64 y)
{
	u64 per = y ? x / y : 0, frac = y ? (x % y) * 100 / y : 0;
	printf("%llu.%02u", U(per), (u32)frac);
}

/* One line `BENCH {json}` (CONTRACTS.md 4), always under 470 characters:
 * the hypervisor's COM1 line buffer holds 480. */
static void bench_print(const struct result *r)
{
	static const char *const len_sources[] = { "decode", "vmcs", "check", "?" };
	u64 per = r->ops ? r->cycles / r->ops : 0;

	printf("BENCH {\"path\":\"%s\",\"platform\":\"%s\",\"guest_mode\":\"%s\","
	       "\"notify\":\"%s\",\"vcpus\":%u,",
	       r->path, platform, sizeof(long) == 8 ? "64" : "32",
	       cfg_eax & HV_CFG_POLL ? "poll" : "ipi", cfg_vms);
	if (cfg_vms > 1)
		printf("\"vm\":%u,", cfg_vm);
	printf("\"ops\":%u,\"cycles_per_op\":", (u32)r->ops);
	print_ratio(r->cycles, r->ops);
	printf(",");
	if (cfg_tsc_khz && per) {
		/* ops per second and nanoseconds per op at the TSC's rate. */
		u64 iops = (u64)cfg_tsc_khz * 1000 / per;
		u64 ns = per * 1000000 / cfg_tsc_khz;
		printf("\"iops\":%u,\"ns_per_op\":%u,", (u32)iops, (u32)ns);
	}
	if (r->event && (cfg_eax & HV_CFG_LATENCY) && r->svc_events) {
		printf("\"p50\":%llu,\"p99\":%llu,\"max\":%llu,\"service_cycles_per_event\":",
		       U(r->p50), U(r->p99), U(r->max));
		print_ratio(r->svc_cycles, r->svc_events);
		printf(",\"service_events\":%llu,", U(r->svc_events));
	} else {
		printf("\"p50\":null,\"p99\":null,\"max\":null,"
		       "\"service_cycles_per_event\":null,");
	}
	printf("\"sent\":%u,\"handled\":%u,\"registrations\":%u,\"lookup\":\"%s\"",
	       (u32)r->sent, (u32)r->handled, r->registrations,
	       cfg_eax & HV_CFG_LINEAR ? "linear" : "binary");
	if (r->fast)
		printf(",\"len_source\":\"%s\"", len_sources[HV_CFG_LEN(cfg_eax)]);
	printf("}\n");
}

/* The synchronous device: every access is one request the service core
 * serves while this vCPU waits. A 64-bit register: two 32-bit reads. */
static u32 sd_rd32(u32 off)
{
	return mmio_read32(SD + off);
}

static u64 sd_rd64(u32 off)
{
	u64 lo = sd_rd32(off);
	return lo | (u64)sd_rd32(off + 4) << 32;
}

/* Zeroes this VM's service statistics; that request counts as 1 call. */
static void stats_clear(void)
{
	mmio_write32(SD + SD_COMMAND, SD_CMD_CLEAR_STATS);
}

/* Reads the statistics gathered since stats_clear into r. Returns the
 * synchronous requests served since then, the CLEAR_STATS one excluded (the
 * SNAPSHOT is counted only after it has copied them). */
static u64 stats_read(struct result *r)
{
	mmio_write32(SD + SD_COMMAND, SD_CMD_SNAPSHOT);
	r->svc_events = sd_rd64(SD_STAT_EVENTS);
	r->svc_cycles = sd_rd64(SD_STAT_CYCLES);
	r->p50 = sd_rd64(SD_STAT_P50);
	r->p99 = sd_rd64(SD_STAT_P99);
	r->max = sd_rd64(SD_STAT_MAX);
	u64 calls = sd_rd64(SD_STAT_CALLS);
	return calls ? calls - 1 : 0;
}

static long ioeventfd(u64 addr, u32 len, s32 event, u32 flags, u64 datamatch)
{
	static struct doorbell_ioeventfd a __attribute__((aligned(64)));
	memset(&a, 0, sizeof(a));
	a.addr = addr;
	a.len = len;
	a.event = event;
	a.flags = flags;
	a.datamatch = datamatch;
	long r = hypercall(HC_IOEVENTFD, (unsigned long)(uintptr_t)&a, 0, 0, 0);
	if (r == 0)
		registered += flags & DOORBELL_IOEVENTFD_DEASSIGN ? (u32)-1 : 1;
	return r;
}

/* Grows the VM's ioeventfds to total (besides the path's own doorbell). */
static bool scale_to(u32 total)
{
	while (registered < total) {
		u32 k = others++;
		u32 j = k / 2;
		long r = k % 2 == 0
			? ioeventfd(PIO_OTHER_PORT + 4 * (j % PIO_OTHER_PORTS), 4, EV_OTHER,
				    DOORBELL_IOEVENTFD_PIO | DOORBELL_IOEVENTFD_DATAMATCH,
				    j / PIO_OTHER_PORTS)
			: ioeventfd(OTHER_MMIO_GPA + 8ull * j, 0, EV_OTHER, 0, 0);
		if (r) {
			printf("bench: registering scaling doorbell %u failed (%d)\n", k, (int)r);
			return false;
		}
		if (registered % 8192 == 0)
			printf("bench: %u ioeventfds registered\n", registered);
	}
	return true;
}

/* The measured loops. noinline: one loop, one place in the code; a 32-bit
 * counter, so a 32-bit guest's loop costs what a 64-bit one does. */
__attribute__((noinline)) static void loop_cpuid(u64 n)
{
	for (u32 i = 0; i < (u32)n; i++)
		(void)cpuid(0, 0);
}

__attribute__((noinline)) static void loop_vmcall(u64 n)
{
	for (u32 i = 0; i < (u32)n; i++)
		(void)hypercall1(BENCH_HC_UNKNOWN, 0);
}

__attribute__((noinline)) static void loop_pio(u64 n)
{
	for (u32 i = 0; i < (u32)n; i++)
		outl(i, PIO_PORT);
}

__attribute__((noinline)) static void loop_fast(u64 n)
{
	for (u32 i = 0; i < (u32)n; i++)
		mmio_write32(FAST_GPA, i);
}

__attribute__((noinline)) static void loop_mmio(u64 n)
{
	for (u32 i = 0; i < (u32)n; i++)
		mmio_write32(MMIO_DM_GPA, MMIO_DM_VALUE);
}

__attribute__((noinline)) static void loop_sync(u64 n)
{
	for (u32 i = 0; i < (u32)n; i++)
		(void)mmio_read32(SD + SD_ID);
}

__attribute__((noinline)) static void loop_notify(u64 n)
{
	for (u32 i = 0; i < (u32)n; i++)
		(void)hypercall1(HC_NOTIFY, EV_HC);
}

/* The poll path's slot: the loop stores the TSC's low half, then the
 * signal count (the order the service core relies on: service/poll.c). */
static volatile u32 *poll_seq, *poll_tsc;
static u32 poll_count;

/* The TSC's low half only: the same loop, instruction for instruction, in
 * the 32- and the 64-bit guest (rdtsc() would join the halves in 64-bit). */
static inline u32 rdtsc_lo(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	(void)hi;
	return lo;
}

__attribute__((noinline)) static void loop_poll(u64 n)
{
	volatile u32 *seq = poll_seq, *tsc = poll_tsc;
	u32 c = poll_count;

	for (u32 i = 0; i < (u32)n; i++) {
		*tsc = rdtsc_lo();
		*seq = ++c;
	}
	poll_count = c;
}

/* Times loop(ops); with pathprof=PATH, brackets it. Warm up first. */
static u64 timed(const char *path, void (*loop)(u64), u64 ops)
{
	bool prof = str_eq(pathprof_path, path);
	if (prof)
		pathprof_marker();
	u64 t0 = rdtsc();
	loop(ops);
	u64 t1 = rdtsc();
	if (prof)
		pathprof_marker();
	return t1 - t0;
}

/* A null path: the bare exit, no event. */
static void null_path(const char *path, void (*loop)(u64), u64 ops)
{
	struct result r = { .path = path, .ops = ops, .registrations = registered };

	printf("bench: path %s\n", path);
	loop(ops / 10 + 1);					/* warm up */
	r.cycles = timed(path, loop, ops);
	bench_print(&r);
}

/* A doorbell path: assign, time, read back, deassign. Returns false on a
 * failed hypercall or when sent != handled. */
static bool doorbell_path(const char *path, void (*loop)(u64), u64 ops, s32 event,
			  u64 addr, u32 len, u32 flags, u64 datamatch)
{
	struct result r = { .path = path, .ops = ops, .event = true,
			    .fast = str_eq(path, "fast-mmio") };
	bool notify = loop == loop_notify;
	long e = 0;

	printf("bench: path %s, %u registrations\n", path, registered + !notify);
	if (!notify && (e = ioeventfd(addr, len, event, flags, datamatch))) {
		printf("bench: %s: IOEVENTFD failed (%d)\n", path, (int)e);
		return false;
	}
	loop(ops / 10 + 1);						/* warm up */
	(void)hypercall(HC_EVENT_READ, (unsigned long)event, 0, 0, 0);	/* and forget it */
	r.registrations = registered;
	stats_clear();
	r.cycles = timed(path, loop, ops);
	r.sent = ops;
	/* EVENT_READ waits until the service core has caught up. */
	long h = hypercall(HC_EVENT_READ, (unsigned long)event, 0, 0, 0);
	r.handled = h < 0 ? 0 : (u64)h;
	(void)stats_read(&r);
	bench_print(&r);
	if (!notify &&
	    (e = ioeventfd(addr, len, event, flags | DOORBELL_IOEVENTFD_DEASSIGN, datamatch))) {
		printf("bench: %s: deassign failed (%d)\n", path, (int)e);
		return false;
	}
	if (h < 0 || r.handled != r.sent) {
		printf("bench: %s: %u signals sent, %d handled\n", path, (u32)r.sent, (int)h);
		return false;
	}
	return true;
}

/* The synchronous device: ops reads, each served on the service core while
 * the vCPU waits; handled = the requests it served during the loop. */
static bool sync_path(u64 ops)
{
	struct result r = { .path = "sync-mmio", .ops = ops, .registrations = registered };

	printf("bench: path sync-mmio\n");
	loop_sync(ops / 10 + 1);				/* warm up */
	stats_clear();
	r.cycles = timed("sync-mmio", loop_sync, ops);
	r.sent = ops;
	r.handled = stats_read(&r);
	bench_print(&r);
	if (r.handled != r.sent) {
		printf("bench: sync-mmio: %u requests sent, %u served\n", (u32)r.sent,
		       (u32)r.handled);
		return false;
	}
	return true;
}

static u32 poll_msr;			/* the watch MSR, from CPUID */

/* Asks the service core to watch the slots of mask (0: none, after a last
 * look). False when it refused (#GP: no service core). */
static bool poll_watch(u64 mask)
{
	u64 now = ~mask;
	return wrmsr_safe(poll_msr, mask) == GUEST_NO_FAULT &&
	       rdmsr_safe(poll_msr, &now) == GUEST_NO_FAULT && now == mask;
}

/* The poll path: no exit, a store to memory the service core watches. Like a
 * doorbell path, but the "doorbell" is slot EV_POLL of the poll page; the
 * watch stops (with a last look) before EVENT_READ, so handled counts every
 * store. Skipped, with a line, when there is no service core (one CPU). */
static bool poll_path(u64 ops)
{
	struct result r = { .path = "poll", .ops = ops, .event = true };
	struct cpuid_regs c = cpuid(CPUID_HV_POLL, 0);
	u64 gpa = c.eax | (u64)c.ebx << 32;

	printf("bench: path poll, slot %u of the poll page at 0x%llx\n", EV_POLL, U(gpa));
	if (c.ecx <= EV_POLL || gpa == 0 || gpa > (uintptr_t)-1) {
		printf("bench: poll: the poll page has %u slots (0: no service core to "
		       "watch it, one CPU); not measured\n", c.ecx);
		return true;
	}
	poll_msr = c.edx;
	poll_seq = (volatile u32 *)(uintptr_t)gpa + EV_POLL * POLL_SLOT_WORDS;
	poll_tsc = poll_seq + 1;
	if (!poll_watch(BIT(EV_POLL))) {
		printf("bench: poll: the service core refused to watch slot %u\n", EV_POLL);
		return false;
	}
	loop_poll(ops / 10 + 1);					/* warm up */
	(void)poll_watch(0);
	(void)hypercall(HC_EVENT_READ, EV_POLL, 0, 0, 0);		/* and forget it */
	(void)poll_watch(BIT(EV_POLL));
	r.registrations = registered;
	stats_clear();
	r.cycles = timed("poll", loop_poll, ops);
	r.sent = ops;
	bool stopped = poll_watch(0);		/* the last look: every store seen */
	long h = hypercall(HC_EVENT_READ, EV_POLL, 0, 0, 0);
	r.handled = h < 0 ? 0 : (u64)h;
	(void)stats_read(&r);
	bench_print(&r);
	if (!stopped || h < 0 || r.handled != r.sent) {
		printf("bench: poll: %u signals sent, %d handled%s\n", (u32)r.sent, (int)h,
		       stopped ? "" : ", the watch did not stop");
		return false;
	}
	return true;
}

/* KVM's experiment: 200 datamatch doorbells on one address, the guest ringing
 * the mmio path's doorbell at another (registrations 201). */
static bool kvm200_path(u64 ops)
{
	bool ok = true;
	u32 n = 0;

	printf("bench: kvm200: %u datamatch doorbells at 0x%x\n", KVM_OTHERS, KVM_OTHER_GPA);
	for (; ok && n < KVM_OTHERS; n++)
		if (ioeventfd(KVM_OTHER_GPA, 4, EV_KVM_OTHER, DOORBELL_IOEVENTFD_DATAMATCH,
			      1000 + n)) {
			printf("bench: kvm200: registering doorbell %u failed\n", n);
			ok = false;
			break;
		}
	ok = ok && doorbell_path("mmio", loop_mmio, ops, EV_MMIO, MMIO_DM_GPA, 4,
				 DOORBELL_IOEVENTFD_DATAMATCH, MMIO_DM_VALUE);
	while (n-- > 0)
		if (ioeventfd(KVM_OTHER_GPA, 4, EV_KVM_OTHER, DOORBELL_IOEVENTFD_DATAMATCH |
			      DOORBELL_IOEVENTFD_DEASSIGN, 1000 + n))
			ok = false;
	return ok;
}

/* Copies the value of the word "key=..." of the command line into buf. */
static bool cmdline_word(const char *cl, const char *key, char *buf, u32 size)
{
	size_t klen = strlen(key);
	for (const char *w = cl; *w; ) {
		while (*w == ' ')
			w++;
		if (!memcmp(w, key, klen) && w[klen] == '=') {
			u32 n = 0;
			w += klen + 1;
			while (w[n] && w[n] != ' ' && n + 1 < size) {
				buf[n] = w[n];
				n++;
			}
			buf[n] = '\0';
			return true;
		}
		while (*w && *w != ' ')
			w++;
	}
	return false;
}

/* Parses "N,N,..." into out; returns the count. */
static u32 parse_list(const char *s, u32 *out, u32 max)
{
	u32 n = 0;
	while (*s && n < max) {
		u32 v = 0;
		while (*s >= '0' && *s <= '9')
			v = v * 10 + (u32)(*s++ - '0');
		out[n++] = v;
		if (*s != ',')
			break;
		s++;
	}
	return n;
}

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	static char plat[32], scale_s[64], prof[32], paths_s[128];
	u32 scales[MAX_SCALES] = { VM_IOEVENTFDS };
	u32 nscales = 1;
	u64 ops = 10000;
	bool ok = true;
	(void)magic;

	if (cmdline_word(mb_cmdline(mbi), "platform", plat, sizeof(plat)))
		platform = plat;
	if (cmdline_word(mb_cmdline(mbi), "pathprof", prof, sizeof(prof)))
		pathprof_path = prof;
	if (cmdline_word(mb_cmdline(mbi), "scale", scale_s, sizeof(scale_s)))
		nscales = parse_list(scale_s, scales, MAX_SCALES);
	if (cmdline_word(mb_cmdline(mbi), "paths", paths_s, sizeof(paths_s)))
		only_paths = paths_s;
	mb_cmdline_value(mbi, "ops", &ops);
	if (!guest_under_doorbell()) {
		printf("bench: not running under doorbell (CPUID 0x40000000); nothing to measure\n");
		return 1;
	}
	struct cpuid_regs c = cpuid(CPUID_HV_CONFIG, 0);
	cfg_eax = c.eax, cfg_vms = c.ebx, cfg_tsc_khz = c.ecx, cfg_vm = c.edx;
	if (cfg_eax & HV_CFG_TRACE)
		printf("bench: trace=1 is on: every exit prints a line, so the figures "
		       "below measure the tracing, not the paths\n");
	printf("bench: %u ops per path, %s-bit guest, platform %s\n", (u32)ops,
	       sizeof(long) == 8 ? "64" : "32", platform);
	printf("bench: latency=%s\n", cfg_eax & HV_CFG_LATENCY
	       ? "1: p50, p99, max and the service core's cycles per event"
	       : "0: p50, p99, max and service cycles per event are null");

	if (want("null-cpuid"))
		null_path("null-cpuid", loop_cpuid, ops);
	if (want("null-vmcall"))
		null_path("null-vmcall", loop_vmcall, ops);
	if (want("pio"))
		ok &= doorbell_path("pio", loop_pio, ops, EV_PIO, PIO_PORT, 4,
				    DOORBELL_IOEVENTFD_PIO, 0);
	if (want("fast-mmio"))
		ok &= doorbell_path("fast-mmio", loop_fast, ops, EV_FAST, FAST_GPA, 0, 0, 0);
	if (want("mmio"))
		ok &= doorbell_path("mmio", loop_mmio, ops, EV_MMIO, MMIO_DM_GPA, 4,
				    DOORBELL_IOEVENTFD_DATAMATCH, MMIO_DM_VALUE);
	if (want("kvm200"))
		ok &= kvm200_path(ops);
	if (want("sync-mmio"))
		ok &= sync_path(ops);
	if (want("hypercall"))
		ok &= doorbell_path("hypercall", loop_notify, ops, EV_HC, 0, 0, 0, 0);
	if (want("poll"))
		ok &= poll_path(ops);

	for (u32 i = 0; ok && i < nscales; i++) {
		if (scales[i] <= 1 || scales[i] > VM_IOEVENTFDS)
			continue;
		printf("bench: scaling to %u ioeventfds\n", scales[i]);
		ok &= scale_to(scales[i] - 1);
		if (ok && want("pio"))
			ok &= doorbell_path("pio", loop_pio, ops, EV_PIO, PIO_PORT, 4,
					    DOORBELL_IOEVENTFD_PIO, 0);
		if (ok && want("fast-mmio"))
			ok &= doorbell_path("fast-mmio", loop_fast, ops, EV_FAST, FAST_GPA,
					    0, 0, 0);
	}
	if (!ok) {
		printf("bench: FAILED\n");
		return 1;
	}
	printf("bench: done\n");
	return 0;
}
