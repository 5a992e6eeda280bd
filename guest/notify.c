/*
 * guest/notify.c - a pathprof guest (../shared/tools/pathprof.md): NOTIFY
 * hypercalls in a loop (event id i % ids) between two xchg %bx,%bx markers,
 * so that pathprof shows the signal path on the vCPU and the service core's
 * instructions per handled event:
 *     pathprof --per-op pathprof_op build/guest/notify.elf
 * Command line: ops=N (200) in the window, warm=N (1000) before it, timed=N
 * (10000) after it, ids=N (1) event ids in turn. Prints its own RDTSC figure
 * and checks with EVENT_READ that every signal was handled (exit 0).
 */
#include "lib/guest.h"

static inline void pathprof_marker(void)
{
	__asm__ volatile("xchg %%bx, %%bx" ::: "memory");
}

static u32 ids = 1;

__attribute__((noinline, noclone)) static void notify_loop(u64 n)
{
	u32 id = 0;
	for (u64 i = 0; i < n; i++) {
		unsigned long ret;
		__asm__ volatile("pathprof_op: vmcall"
				 : "=a"(ret) : "a"((unsigned long)HC_NOTIFY), "b"((unsigned long)id)
				 : "memory");
		(void)ret;
		if (++id == ids)
			id = 0;
	}
}

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	u64 ops = 200, warm = 1000, timed = 10000, nids = 1;

	(void)magic;
	mb_cmdline_value(mbi, "ops", &ops);
	mb_cmdline_value(mbi, "warm", &warm);
	mb_cmdline_value(mbi, "timed", &timed);
	mb_cmdline_value(mbi, "ids", &nids);
	ids = (u32)nids;
	notify_loop(warm);
	pathprof_marker();
	u64 t0 = rdtsc();
	notify_loop(ops);
	u64 t1 = rdtsc();
	pathprof_marker();
	u64 t2 = rdtsc();
	notify_loop(timed);
	u64 t3 = rdtsc();
	u64 total = 0;
	for (u32 i = 0; i < ids; i++)
		total += (u64)hypercall(HC_EVENT_READ, i, 0, 0, 0);
	printf("notify: window %u ops, %u per op; untraced %u ops, %u.%02u per op; "
	       "handled %u of %u\n",
	       (u32)ops, (u32)((t1 - t0) / ops), (u32)timed, (u32)((t3 - t2) / timed),
	       (u32)((t3 - t2) % timed * 100 / timed), (u32)total,
	       (u32)(warm + ops + timed));
	return total == warm + ops + timed ? 0 : 1;
}
