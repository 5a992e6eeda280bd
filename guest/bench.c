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
 *   hypercall    the NOTIFY hypercall
 *
 * Every doorbell path registers its own doorbell by hypercall, rings it ops
 * times, deassigns it, and checks with EVENT_READ that the service core
 * handled exactly the signals sent. With scale=N,M,... the pio and
 * fast-mmio paths are measured again with N, M, ... ioeventfds in the VM
 * (the others: PIO datamatch doorbells on another port and length-0 MMIO
 * doorbells elsewhere in the window), to show that lookups stay constant.
 *
 * In Bochs the TSC counts instructions, so cycles_per_op is the path length
 * of the guest loop plus the hypervisor's handler. The run's configuration
 * (notify, lookup, fastmmio_len, VMs, TSC rate) comes from doorbell's CPUID
 * leaf 0x40000001.
 *
 * Command line: platform=NAME (tools/run passes it), ops=N (default 10000),
 * scale=N[,N...] (default 65536; 0: none), pathprof=PATH (bracket that
 * path's measured loop with Bochs magic breakpoints for pathprof).
 */
#include "lib/guest.h"

#define BENCH_HC_UNKNOWN  0xffff	/* no such hypercall: -ENOSYS */
#define PIO_PORT          0x680		/* free: no emulated device there */
#define PIO_OTHER_PORT    0x684		/* the scaling doorbells */
#define FAST_GPA          0xd0000000u	/* inside the doorbell window */
#define MMIO_DM_GPA       0xd0001000u
#define MMIO_DM_VALUE     0x1234u
#define OTHER_MMIO_GPA    0xd0100000u	/* scaling: one per 8 bytes */
#define EV_PIO            1
#define EV_FAST           2
#define EV_MMIO           3
#define EV_HC             4
#define EV_OTHER          100
#define MAX_SCALES        8
#define VM_IOEVENTFDS     65536u

#define CPUID_HV_CONFIG        0x40000001u
#define HV_CFG_POLL            BIT(0)
#define HV_CFG_LINEAR          BIT(1)
#define HV_CFG_LEN(eax)        (((eax) >> 2) & 3)
#define HV_CFG_TRACE           BIT(5)

static const char *platform = "hardware";
static const char *pathprof_path = "";
static u32 cfg_eax, cfg_vms, cfg_tsc_khz;
static u32 registered;			/* ioeventfds in the VM now */
static u32 others;			/* of them, scaling doorbells */

static bool str_eq(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && !memcmp(a, b, n);
}

static inline void pathprof_marker(void)
{
	__asm__ volatile("xchg %%bx, %%bx" ::: "memory");
}

/* One result. sent/handled/registrations only for doorbell paths. */
struct result {
	const char *path;
	u64 ops, cycles;
	bool event;			/* a doorbell path */
	u64 sent, handled;
	u32 registrations;
	const char *len_source;		/* fast-mmio only */
};

static void bench_print(const struct result *r)
{
	static const char *const len_sources[] = { "decode", "vmcs", "check", "?" };
	u64 per = r->ops ? r->cycles / r->ops : 0;
	u64 frac = r->ops ? (r->cycles % r->ops) * 100 / r->ops : 0;

	printf("BENCH {\"path\":\"%s\",\"platform\":\"%s\",\"guest_mode\":\"%s\","
	       "\"notify\":\"%s\",\"vcpus\":%u,\"ops\":%u,\"cycles_per_op\":%u.%02u,",
	       r->path, platform, sizeof(long) == 8 ? "64" : "32",
	       cfg_eax & HV_CFG_POLL ? "poll" : "ipi", cfg_vms, (u32)r->ops,
	       (u32)per, (u32)frac);
	if (cfg_tsc_khz && per) {
		/* ops per second and nanoseconds per op at the TSC's rate. */
		u64 iops = (u64)cfg_tsc_khz * 1000 / per;
		u64 ns = per * 1000000 / cfg_tsc_khz;
		printf("\"iops\":%u,\"ns_per_op\":%u,", (u32)iops, (u32)ns);
	}
	printf("\"p50\":null,\"p99\":null,\"max\":null,\"service_cycles_per_event\":null,"
	       "\"sent\":%u,\"handled\":%u,\"registrations\":%u,\"lookup\":\"%s\"",
	       (u32)r->sent, (u32)r->handled, r->registrations,
	       cfg_eax & HV_CFG_LINEAR ? "linear" : "binary");
	if (r->len_source)
		printf(",\"len_source\":\"%s\"", len_sources[HV_CFG_LEN(cfg_eax)]);
	printf("}\n");
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
		long r = k % 2 == 0
			? ioeventfd(PIO_OTHER_PORT, 4, EV_OTHER, DOORBELL_IOEVENTFD_PIO |
				    DOORBELL_IOEVENTFD_DATAMATCH, k / 2)
			: ioeventfd(OTHER_MMIO_GPA + 8ull * (k / 2), 0, EV_OTHER, 0, 0);
		if (r) {
			printf("bench: registering scaling doorbell %u failed (%d)\n", k, (int)r);
			return false;
		}
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

__attribute__((noinline)) static void loop_notify(u64 n)
{
	for (u32 i = 0; i < (u32)n; i++)
		(void)hypercall1(HC_NOTIFY, EV_HC);
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

/* A doorbell path: assign, time, read back, deassign. Returns false on a
 * failed hypercall or when sent != handled. */
static bool doorbell_path(const char *path, void (*loop)(u64), u64 ops, s32 event,
			  u64 addr, u32 len, u32 flags, u64 datamatch)
{
	struct result r = { .path = path, .ops = ops, .event = true };
	long e = 0;

	if (loop != loop_notify && (e = ioeventfd(addr, len, event, flags, datamatch))) {
		printf("bench: %s: IOEVENTFD failed (%d)\n", path, (int)e);
		return false;
	}
	loop(ops / 10 + 1);						/* warm up */
	(void)hypercall(HC_EVENT_READ, (unsigned long)event, 0, 0, 0);	/* and forget it */
	r.registrations = registered;
	r.cycles = timed(path, loop, ops);
	r.sent = ops;
	long h = hypercall(HC_EVENT_READ, (unsigned long)event, 0, 0, 0);
	r.handled = h < 0 ? 0 : (u64)h;
	if (str_eq(path, "fast-mmio"))
		r.len_source = "yes";
	bench_print(&r);
	if (loop != loop_notify &&
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
	static char plat[32], scale_s[64], prof[32];
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
	mb_cmdline_value(mbi, "ops", &ops);
	if (!guest_under_doorbell()) {
		printf("bench: not running under doorbell (CPUID 0x40000000); nothing to measure\n");
		return 1;
	}
	struct cpuid_regs c = cpuid(CPUID_HV_CONFIG, 0);
	cfg_eax = c.eax, cfg_vms = c.ebx, cfg_tsc_khz = c.ecx;
	if (cfg_eax & HV_CFG_TRACE)
		printf("bench: trace=1 is on: every exit prints a line, so the figures "
		       "below measure the tracing, not the paths\n");
	printf("bench: %u ops per path, %s-bit guest, platform %s\n", (u32)ops,
	       sizeof(long) == 8 ? "64" : "32", platform);

	struct result r = { .path = "null-cpuid", .ops = ops };
	loop_cpuid(ops / 10 + 1);
	r.cycles = timed("null-cpuid", loop_cpuid, ops);
	bench_print(&r);
	r.path = "null-vmcall";
	loop_vmcall(ops / 10 + 1);
	r.cycles = timed("null-vmcall", loop_vmcall, ops);
	bench_print(&r);

	ok &= doorbell_path("pio", loop_pio, ops, EV_PIO, PIO_PORT, 4, DOORBELL_IOEVENTFD_PIO, 0);
	ok &= doorbell_path("fast-mmio", loop_fast, ops, EV_FAST, FAST_GPA, 0, 0, 0);
	ok &= doorbell_path("mmio", loop_mmio, ops, EV_MMIO, MMIO_DM_GPA, 4,
			    DOORBELL_IOEVENTFD_DATAMATCH, MMIO_DM_VALUE);
	ok &= doorbell_path("hypercall", loop_notify, ops, EV_HC, 0, 0, 0, 0);

	for (u32 i = 0; ok && i < nscales; i++) {
		if (scales[i] <= 1 || scales[i] > VM_IOEVENTFDS)
			continue;
		printf("bench: scaling to %u ioeventfds\n", scales[i]);
		ok &= scale_to(scales[i] - 1);
		ok &= ok && doorbell_path("pio", loop_pio, ops, EV_PIO, PIO_PORT, 4,
					  DOORBELL_IOEVENTFD_PIO, 0);
		ok &= ok && doorbell_path("fast-mmio", loop_fast, ops, EV_FAST, FAST_GPA, 0, 0, 0);
	}
	if (!ok) {
		printf("bench: FAILED\n");
		return 1;
	}
	printf("bench: done\n");
	return 0;
}
