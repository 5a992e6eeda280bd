/*
 * boot/main.c - kmain, where the boot CPU arrives from boot/entry.asm, and
 * ap_main, where each application processor arrives from the trampoline.
 *
 * Boot order: per-CPU tables, console, multiboot2 information (refused if
 * malformed), command line, physical memory, TSC, local APIC, ACPI MADT,
 * the other CPUs, the roles (guest cores, then service cores), the service
 * self-check, and then the hypervisor proper.
 */
#include "boot/cpu.h"
#include "drivers/drivers.h"
#include "vmx/vmx.h"
#include "service/service.h"

extern u8 boot_stack_top[];

struct boot_config boot_cfg;
static struct mb2_info mb_info;
static struct acpi_madt_info madt;

static void cmdline_warn(void *ctx, const char *msg)
{
	(void)ctx;
	printk("%s\n", msg);
}

static const void *acpi_map_identity(void *ctx, u64 phys, u64 len)
{
	(void)ctx;
	if (phys == 0 || len > 4 * GiB || phys > 4 * GiB - len)
		return NULL;	/* only the identity-mapped first 4 GiB */
	return (const void *)(uintptr_t)phys;
}

static const char *role_name(enum cpu_role r)
{
	switch (r) {
	case CPU_ROLE_GUEST:   return "guest";
	case CPU_ROLE_SERVICE: return "service";
	default:               return "none";
	}
}

/* Finds the CPUs from the MADT; without a usable one, runs on the boot CPU
 * alone and says why. Returns how many APIC IDs it put in ids[]. */
static u32 find_cpus(u32 *ids, u32 max)
{
	if (!mb_info.rsdp) {
		printk("acpi: no RSDP in the multiboot2 information; using the boot CPU only\n");
		return 0;
	}
	if (acpi_parse_madt(mb_info.rsdp, mb_info.rsdp_len, acpi_map_identity, NULL, &madt)) {
		printk("%s; using the boot CPU only\n", madt.error);
		return 0;
	}
	u32 n = 0;
	for (u32 i = 0; i < madt.cpu_count && n < max; i++)
		if (madt.cpus[i].enabled)
			ids[n++] = madt.cpus[i].apic_id;
	if (boot_cfg.extra_apic != CMDLINE_NO_APIC && n < max) {
		printk("smp: also trying APIC ID %u (extra_apic=)\n", boot_cfg.extra_apic);
		ids[n++] = boot_cfg.extra_apic;
	}
	return n;
}

static void assign_roles(void)
{
	if (cpu_count == 1) {
		if (boot_cfg.vcpus > 1)
			printk("cmdline: vcpus=%u but only 1 CPU is online; using vcpus=1\n",
			       boot_cfg.vcpus);
		boot_cfg.vcpus = 1;
	} else if (boot_cfg.vcpus >= cpu_count) {
		printk("cmdline: vcpus=%u leaves no service core on %u CPUs; using vcpus=%u\n",
		       boot_cfg.vcpus, cpu_count, cpu_count - 1);
		boot_cfg.vcpus = cpu_count - 1;
	}
	for (u32 i = 0; i < cpu_count; i++)
		cpus[i].role = i < boot_cfg.vcpus ? CPU_ROLE_GUEST : CPU_ROLE_SERVICE;
}

static void print_roles(void)
{
	for (u32 i = 0; i < cpu_count; i++) {
		if (cpu_count == 1) {
			printk("cpu 0: apic %u, role guest + service (inline: single CPU)\n",
			       cpus[0].apic_id);
			continue;
		}
		printk("cpu %u: apic %u, role %s", i, cpus[i].apic_id, role_name(cpus[i].role));
		if (cpus[i].role == CPU_ROLE_SERVICE)
			printk(" (notify=%s)", boot_cfg.notify == NOTIFY_IPI ? "ipi" : "poll");
		printk("\n");
	}
}

static volatile u32 roles_ready;
static volatile u32 guests_go;	/* the VMs are built: guest cores start them */

void ap_main(u64 index)
{
	u32 i = (u32)index;

	cpu_init(i, cpus[i].stack_top);
	apic_init();
	__atomic_store_n(&cpus[i].online, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&roles_ready, __ATOMIC_ACQUIRE))
		cpu_relax();
	if (cpus[i].role == CPU_ROLE_SERVICE)
		service_main();
	while (!__atomic_load_n(&guests_go, __ATOMIC_ACQUIRE))
		cpu_relax();
	vm_run_on_this_cpu(i);
	cpu_halt_forever();
}

__noreturn void kmain(u32 magic, u64 mbi);
void kmain(u32 magic, u64 mbi)
{
	cpus[0].online = true;
	cpu_init(0, boot_stack_top);
	serial_init();
	pic_disable();
	printk("\ndoorbell: a VT-x micro-hypervisor for doorbells\n");

	if (mb2_parse(magic, (const void *)(uintptr_t)mbi, MB2_MAX_INFO_SIZE, &mb_info)) {
		printk("%s\n", mb_info.error);
		printk("doorbell: refusing to boot without valid multiboot2 information\n");
		power_off(125);
	}
	cmdline_defaults(&boot_cfg);
	printk("cmdline: '%s'\n", mb_info.cmdline);
	cmdline_parse(mb_info.cmdline, &boot_cfg, cmdline_warn, NULL);

	u64 free = mm_init(&mb_info, mbi);
	if (free < 2 * MiB) {
		printk("memory: no usable memory above 1 MiB in the memory map "
		       "(%llu KiB free); cannot run\n", free / KiB);
		power_off(125);
	}
	printk("memory: %llu MiB usable (%u memory-map entries, %u modules)\n",
	       free / MiB, mb_info.mmap_count, mb_info.module_count);

	u64 hz = tsc_init();
	printk("tsc: %llu.%03llu MHz (%s)\n", hz / 1000000, hz / 1000 % 1000, tsc_source());

	apic_init();
	cpus[0].apic_id = apic_id();
	printk("apic: %s mode, boot CPU APIC ID %u\n",
	       apic_is_x2apic() ? "x2APIC" : "xAPIC", cpus[0].apic_id);

	u32 ids[ACPI_MAX_CPUS];
	u32 n = find_cpus(ids, ACPI_MAX_CPUS);
	if (n)
		printk("acpi: MADT lists %u enabled CPUs\n", n);
	smp_boot(ids, n);
	assign_roles();
	printk("doorbell: %u CPU%s online\n", cpu_count, cpu_count == 1 ? "" : "s");
	print_roles();
	__atomic_store_n(&roles_ready, 1, __ATOMIC_RELEASE);

	__asm__ volatile("sti");
	if (service_selftest())
		power_off(125);

	/* The hypervisor proper: VMX on every guest core, one VM each. */
	if (vmx_check_support() || vms_prepare(&mb_info))
		power_off(125);
	__atomic_store_n(&guests_go, 1, __ATOMIC_RELEASE);
	vm_run_on_this_cpu(0);
	power_off(vms_wait_and_report());
}
