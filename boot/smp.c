/*
 * boot/smp.c - starting the application processors: SDM Vol. 3A, "MP
 * Initialization Protocol Algorithm for MP Systems" and "Typical AP
 * Initialization Sequence": INIT, 10 ms, SIPI, 200 us, a second SIPI only if
 * the AP has not answered. APs are started one at a time, each on its own
 * stack, and each reports itself online from ap_main().
 */
#include "boot/cpu.h"
#include "drivers/drivers.h"

#define TRAMP_BASE        0x8000u
#define AP_ANSWER_US      200000u   /* generous: emulators start APs slowly */

extern u8 __trampoline_start[], __trampoline_end[];
extern u8 tramp_start[], tramp_cr3[], tramp_stack[], tramp_entry[], tramp_arg[];

static u8 ap_stacks[MAX_CPUS][KSTACK_SIZE] __aligned(16);


/* The copy of a trampoline variable at TRAMP_BASE. */
static u64 *tramp_var(u8 *sym)
{
	return (u64 *)(uintptr_t)(TRAMP_BASE + (uintptr_t)(sym - tramp_start));
}

static bool wait_online(u32 index, u64 us)
{
	u64 end = rdtsc() + tsc_hz() / 1000000 * us;
	while (rdtsc() < end) {
		if (__atomic_load_n(&cpus[index].online, __ATOMIC_ACQUIRE))
			return true;
		cpu_relax();
	}
	return __atomic_load_n(&cpus[index].online, __ATOMIC_ACQUIRE);
}

void smp_boot(const u32 *apic_ids, u32 count)
{
	u32 bsp = cpus[0].apic_id;

	memcpy((void *)(uintptr_t)TRAMP_BASE, __trampoline_start,
	       (size_t)(__trampoline_end - __trampoline_start));

	for (u32 i = 0; i < count; i++) {
		if (apic_ids[i] == bsp)
			continue;
		if (cpu_count >= MAX_CPUS) {
			printk("smp: more than %u CPUs; using the first %u\n",
			       MAX_CPUS, MAX_CPUS);
			break;
		}
		u32 index = cpu_count;
		cpus[index].apic_id = apic_ids[i];
		cpus[index].stack_top = ap_stacks[index] + KSTACK_SIZE;
		*tramp_var(tramp_cr3) = read_cr3();
		*tramp_var(tramp_stack) = (u64)(uintptr_t)cpus[index].stack_top;
		*tramp_var(tramp_entry) = (u64)(uintptr_t)ap_main;
		*tramp_var(tramp_arg) = index;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);

		apic_send_init(apic_ids[i]);
		udelay(10000);
		apic_send_sipi(apic_ids[i], TRAMP_BASE >> PAGE_SHIFT);
		if (!wait_online(index, 200)) {
			apic_send_sipi(apic_ids[i], TRAMP_BASE >> PAGE_SHIFT);
			if (!wait_online(index, AP_ANSWER_US)) {
				printk("smp: cpu with APIC ID %u did not answer the SIPI; "
				       "going on without it\n", apic_ids[i]);
				/* Park it in wait-for-SIPI so a late start can't
				 * take the slot the next AP gets. */
				apic_send_init(apic_ids[i]);
				continue;
			}
		}
		cpu_count++;
	}
}
