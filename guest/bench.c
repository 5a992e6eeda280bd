/*
 * guest/bench.c - the benchmark guest (the default of `make run`). Each path
 * is timed from inside the guest with RDTSC around a loop of operations and
 * printed as one line `BENCH {json}` (CONTRACTS.md 4). This first version
 * measures the null exits, the floor every doorbell path stands on:
 *   null-cpuid   CPUID: exit, handler, resume
 *   null-vmcall  VMCALL with an unknown number: the hypercall path's floor
 * The doorbell paths (pio, fast-mmio, mmio, hypercall, ...) come with the
 * doorbell work. In Bochs the TSC counts instructions, so cycles_per_op is
 * the path length of the guest loop plus the hypervisor's handler.
 *
 * Command line: platform=NAME (tools/run passes it), ops=N (default 10000).
 */
#include "lib/guest.h"

#define BENCH_HC_UNKNOWN  0xffff	/* no such hypercall: -ENOSYS */

static const char *platform = "hardware";

static void bench_print(const char *path, u64 ops, u64 cycles)
{
	u64 per = ops ? cycles / ops : 0;
	u64 frac = ops ? (cycles % ops) * 100 / ops : 0;
	printf("BENCH {\"path\":\"%s\",\"platform\":\"%s\",\"ops\":%u,"
	       "\"cycles_per_op\":%u.%02u,\"p50\":null,\"p99\":null,"
	       "\"sent\":0,\"handled\":0}\n",
	       path, platform, (u32)ops, (u32)per, (u32)frac);
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

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	static char plat[32];
	u64 ops = 10000;
	(void)magic;

	if (cmdline_word(mb_cmdline(mbi), "platform", plat, sizeof(plat)))
		platform = plat;
	mb_cmdline_value(mbi, "ops", &ops);
	if (!guest_under_doorbell()) {
		printf("bench: not running under doorbell (CPUID 0x40000000); nothing to measure\n");
		return 1;
	}

	u64 t0 = rdtsc();
	for (u64 i = 0; i < ops; i++)
		(void)cpuid(0, 0);
	bench_print("null-cpuid", ops, rdtsc() - t0);

	t0 = rdtsc();
	for (u64 i = 0; i < ops; i++)
		(void)hypercall(BENCH_HC_UNKNOWN, 0, 0, 0, 0);
	bench_print("null-vmcall", ops, rdtsc() - t0);
	return 0;
}
