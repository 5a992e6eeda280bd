/*
 * vmx/vm.c - making the VMs and running them. Each guest core runs one VM
 * with one vCPU (vcpus=N gives N VMs, each with RAM of its own). Guest RAM is
 * one block of host memory, 2 MiB-aligned so EPT can use 2 MiB pages, at a
 * host address that is not the guest's (guest-physical 0 is never host 0),
 * and nothing of the hypervisor is mapped into the guest.
 */
#include "vmx/vmx_priv.h"
#include "vmx/loader.h"

#define IO_BITMAP_PAGES  2
#define VM_STRUCT_PAGES  ((sizeof(struct vm) + PAGE_SIZE - 1) / PAGE_SIZE)
#define EVENT_SET_PAGES  ((sizeof(struct event_set) + PAGE_SIZE - 1) / PAGE_SIZE)

struct vm *vms[MAX_CPUS];

static void *ept_page_alloc(void *ctx) { (void)ctx; return page_alloc(1); }
static void ept_page_free(void *ctx, void *p) { (void)ctx; page_free(p, 1); }
static u64 ept_v2p(void *ctx, const void *va) { (void)ctx; return (u64)(uintptr_t)va; }
static void *ept_p2v(void *ctx, u64 pa) { (void)ctx; return (void *)(uintptr_t)pa; }

static void *io_alloc(void *ctx, size_t bytes) { (void)ctx; return kmalloc(bytes); }
static void io_free(void *ctx, void *p, size_t bytes) { (void)ctx; kfree(p, bytes); }

static const struct iobus_mem kernel_io_mem = { .alloc = io_alloc, .free = io_free };

/* ioeventfd hooks: a doorbell hit signals the event (the service core takes
 * it from there); the first MMIO doorbell on a page makes the page EPT-
 * misconfigured (W|X without R, as KVM's MMIO pages are), so writes to it
 * exit as EPT_MISCONFIG; the last one removed unmaps it again. */
static void vm_signal(void *ctx, s32 event)
{
	struct vm *vm = ctx;
	if (unlikely(boot_cfg.trace))
		printk("trace: vm %u doorbell -> event %d\n", vm->index, event);
	event_signal(vm->events, (u32)event);
}

static void vm_flush_ept(struct vm *vm)
{
	/* Before the first VM entry there is nothing cached (and maybe no
	 * VMXON on this CPU yet); vm_run_on_this_cpu invalidates then. */
	if (vm->running)
		vmx_invept(INVEPT_SINGLE_CONTEXT, ept_eptp(&vm->ept));
}

static void vm_page_mark(void *ctx, u64 gpa_page)
{
	struct vm *vm = ctx;
	int r = ept_set_misconfig(&vm->ept, gpa_page);
	if (r)
		printk("vm %u: could not mark doorbell page 0x%llx for fast MMIO (%d); "
		       "its accesses are still decoded\n", vm->index, gpa_page, r);
	vm_flush_ept(vm);
}

static void vm_page_unmark(void *ctx, u64 gpa_page)
{
	struct vm *vm = ctx;
	ept_clear_misconfig(&vm->ept, gpa_page);
	vm_flush_ept(vm);
}

/* The Linux name of -err, for messages. */
static const char *errno_name(int err)
{
	switch (-err) {
	case EPERM:  return "EPERM";
	case EBADF:  return "EBADF";
	case ENOMEM: return "ENOMEM";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	default:     return "errno";
	}
}

/* Why an ioeventfd= word was refused (r, from ioeventfd_ioctl's rules in
 * iobus/iobus.h, checked in the same order), in words; args is NULL when
 * the SPEC did not parse. */
static void ioeventfd_refusal(char *buf, size_t size, struct vm *vm,
			      const struct doorbell_ioeventfd *args, int r)
{
	bool pio = args && (args->flags & DOORBELL_IOEVENTFD_FLAG_PIO);
	const char *owner;

	if (!args) {
		fmt_snprintf(buf, size, "not pio:ADDR:LEN:EVENT[:DATAMATCH] or mmio:...");
	} else if (r == -EINVAL) {
		if (args->len != 0 && args->len != 1 && args->len != 2 &&
		    args->len != 4 && args->len != 8)
			fmt_snprintf(buf, size, "LEN %u is not 0, 1, 2, 4 or 8", args->len);
		else if (args->len == 0)
			fmt_snprintf(buf, size, "LEN 0 is only for MMIO without DATAMATCH");
		else
			fmt_snprintf(buf, size, "ADDR + LEN wraps around");
	} else if (r == -EBADF) {
		fmt_snprintf(buf, size, "event %d is not in 0..%u", args->event,
			     IOEVENTFD_MAX_EVENTS - 1);
	} else if (r == -EPERM && pio && args->addr <= 0xffff &&
		   (owner = vm_port_owner((u16)args->addr)) != NULL) {
		fmt_snprintf(buf, size, "port 0x%llx belongs to %s", args->addr, owner);
	} else if (r == -EPERM && pio) {
		fmt_snprintf(buf, size, "ports 0x%llx+%u: past 0xffff or used by an emulated device",
			     args->addr, args->len);
	} else if (r == -EPERM) {
		fmt_snprintf(buf, size, "0x%llx is outside the doorbell window 0x%llx:0x%llx",
			     args->addr, boot_cfg.doorbell_window_base,
			     boot_cfg.doorbell_window_size);
	} else if (r == -EEXIST) {
		fmt_snprintf(buf, size, "a doorbell there already collides with it");
	} else if (r == -ENOSPC) {
		fmt_snprintf(buf, size, "VM %u holds the most doorbells already", vm->index);
	} else {
		fmt_snprintf(buf, size, "out of memory");
	}
}

/* The VM's I/O space: buses with the emulated devices, the doorbell window
 * and lookup mode from the command line, and the command line's ioeventfd=
 * doorbells (for guests that cannot make hypercalls). */
static int vm_io_init(struct vm *vm)
{
	struct ioeventfd_hooks hooks = {
		.signal = vm_signal, .page_mark = vm_page_mark,
		.page_unmark = vm_page_unmark, .ctx = vm,
	};
	ioeventfd_table_init(&vm->io, &kernel_io_mem, &hooks);
	ioeventfd_set_ram_end(&vm->io, vm->ram_size);
	int r = ioeventfd_set_window(&vm->io, boot_cfg.doorbell_window_base,
				     boot_cfg.doorbell_window_size);
	if (!r)
		r = vm_devices_register(vm);
	if (r) {
		printk("vm %u: setting up the I/O buses failed (%d)\n", vm->index, r);
		return r;
	}
	for (u32 b = 0; b < IOBUS_NR; b++)
		iobus_set_lookup(&vm->io.buses[b], boot_cfg.lookup == LOOKUP_LINEAR ?
				 IOBUS_LOOKUP_LINEAR : IOBUS_LOOKUP_BINARY);
	for (u32 i = 0; i < boot_cfg.ioeventfd_count; i++) {
		const char *spec = boot_cfg.ioeventfd[i];
		struct doorbell_ioeventfd args;
		bool parsed = ioeventfd_parse_spec(spec, &args) == 0;
		r = parsed ? ioeventfd_ioctl(&vm->io, &args) : -EINVAL;
		if (vm->index != 0)
			continue;
		if (!r) {
			printk("cmdline: ioeventfd=%s registered\n", spec);
		} else {
			char why[96];
			ioeventfd_refusal(why, sizeof(why), vm, parsed ? &args : NULL, r);
			printk("cmdline: ioeventfd=%s refused (%d %s): %s\n", spec, r,
			       errno_name(r), why);
		}
	}
	return 0;
}

static const struct ept_ops kernel_ept_ops = {
	.alloc_page = ept_page_alloc,
	.free_page = ept_page_free,
	.virt_to_phys = ept_v2p,
	.phys_to_virt = ept_p2v,
};

/* Builds VM index from the guest image: memory, EPT, bitmaps, guest image
 * and information block. Returns 0 or -errno after printing why. */
static int vm_create(u32 index, const struct mb2_info *mb)
{
	u64 free_before = mm_free_bytes();
	struct vm *vm = page_alloc(VM_STRUCT_PAGES);
	if (!vm)
		return -ENOMEM;
	vm->index = index;
	vm->ram_size = boot_cfg.guest_mem_mib * MiB;
	vm->ram = page_alloc_aligned(vm->ram_size / PAGE_SIZE, 2 * MiB);
	vm->io_bitmap = page_alloc(IO_BITMAP_PAGES);
	vm->msr_bitmap = page_alloc(1);
	vm->vapic_page = page_alloc(1);
	vm->vcpu.vmcs = page_alloc(1);
	vm->events = page_alloc(EVENT_SET_PAGES);
	vm->ioram = page_alloc(IORAM_SIZE / PAGE_SIZE);
	if (!vm->ioram || !vm->ram || !vm->io_bitmap || !vm->msr_bitmap || !vm->vapic_page || !vm->vcpu.vmcs || !vm->events) {
		printk("vm %u: not enough memory for %llu MiB of guest RAM and its tables: "
		       "%llu MiB were free for it (guest RAM needs one 2 MiB-aligned block; "
		       "use a smaller guest_mem= or fewer vcpus=)\n",
		       index, boot_cfg.guest_mem_mib, free_before / MiB);
		return -ENOMEM;
	}
	vm->vcpu.vm = vm;
	memset(vm->io_bitmap, 0xff, IO_BITMAP_PAGES * PAGE_SIZE);	/* every port exits */
	msr_vm_init(vm);
	vm->apic.base_msr = XAPIC_PAGE_GPA | APIC_BASE_ENABLE | APIC_BASE_BSP;
	vapic_reset(vm);
	event_set_init(vm->events);

	int r = ept_init(&vm->ept, &kernel_ept_ops);
	if (!r)
		r = ept_map_range(&vm->ept, 0, (u64)(uintptr_t)vm->ram, vm->ram_size,
				  EPT_READ | EPT_WRITE | EPT_EXEC);
	if (r) {
		printk("vm %u: building the EPT tables failed (%d)\n", index, r);
		return r;
	}
	r = vm_io_init(vm);
	if (!r)
		r = vm_poll_init(vm);
	if (r)
		return r;

	const struct mb2_module *g = &mb->modules[0];
	struct mb1_module mods[MB2_MAX_MODULES];
	u32 nmods = 0;
	for (u32 i = 1; i < mb->module_count; i++, nmods++) {
		mods[nmods].data = (const u8 *)(uintptr_t)mb->modules[i].start;
		mods[nmods].len = (size_t)(mb->modules[i].end - mb->modules[i].start);
		mods[nmods].string = mb->modules[i].string;
	}
	struct mb1_load_args args = { .cmdline = g->string, .modules = mods, .module_count = nmods };
	struct mb1_load_result res;
	r = mb1_load((const u8 *)(uintptr_t)g->start, (size_t)(g->end - g->start),
		     vm->ram, vm->ram_size, &args, &res);
	if (r) {
		printk("vm %u: %s\n", index, res.error);
		return r;
	}
	vm->entry_rip = res.entry;
	vm->mbi_gpa = res.info_addr;
	if (index == 0)
		printk("guest: multiboot kernel at 0x%llx-0x%llx, entry 0x%x, %llu MiB RAM, "
		       "%u module%s, command line '%s'\n", res.kernel_start, res.kernel_end,
		       res.entry, boot_cfg.guest_mem_mib, nmods, nmods == 1 ? "" : "s",
		       g->string);
	vms[index] = vm;
	return 0;
}

int vms_prepare(const struct mb2_info *mb_in)
{
	/* The guest's command line and its modules' strings reach the guest
	 * verbatim: the boot loader's quoting is undone once, here. */
	static struct mb2_info mb_copy;
	const struct mb2_info *mb = &mb_copy;

	mb_copy = *mb_in;
	for (u32 i = 0; i < mb_copy.module_count; i++) {
		const char *s = mb_in->modules[i].string;
		size_t n = strlen(s) + 1;
		char *d = kmalloc(n);
		if (!d)
			return -ENOMEM;
		cmdline_unquote_loader(d, n, s);
		mb_copy.modules[i].string = d;
	}

	if (mb->module_count == 0) {
		printk("guest: no guest: the first multiboot2 module must be a multiboot "
		       "kernel (tools/run --guest FILE)\n");
		return -EINVAL;
	}
	/* Guest RAM starts at 0 and must end below every emulated address: the
	 * doorbell window, the xAPIC page and IORAM are not RAM. */
	u64 ram = boot_cfg.guest_mem_mib * MiB;
	if (ram > boot_cfg.doorbell_window_base || ram > XAPIC_PAGE_GPA || ram > IORAM_GPA ||
	    ram > SYNCDEV_GPA) {
		printk("guest: guest_mem=%llu MiB would overlap the doorbell window at 0x%llx "
		       "or the device addresses; use less\n", boot_cfg.guest_mem_mib,
		       boot_cfg.doorbell_window_base);
		return -EINVAL;
	}
	for (u32 i = 0; i < boot_cfg.vcpus; i++) {
		int r = vm_create(i, mb);
		if (r)
			return r;
	}
	return 0;
}

static volatile u32 vms_done;

int vm_run_on_this_cpu(u32 index)
{
	struct vm *vm = vms[index];
	int r = vmx_cpu_on();

	if (!r)
		r = vmcs_setup(vm);
	if (!r) {
		vmx_invept(INVEPT_SINGLE_CONTEXT, ept_eptp(&vm->ept));
		vm->running = true;
		iobus_reader_online(&vm->io.ep, 0);
		vcpu_run(&vm->vcpu);
		msr_report_tsc_aux(&vm->vcpu);
		iobus_reader_offline(&vm->io.ep, 0);
	} else {
		vm_end(vm, VM_END_CRASH, 125);
	}
	__atomic_add_fetch(&vms_done, 1, __ATOMIC_RELEASE);
	return vm->status;
}

/* Called on the boot CPU after its own VM ended: waits for the others,
 * reports each, and returns the run's status: 0 when every guest exited 0,
 * else the first VM's non-zero status. */
int vms_wait_and_report(void)
{
	while (__atomic_load_n(&vms_done, __ATOMIC_ACQUIRE) < boot_cfg.vcpus)
		cpu_relax();
	int status = 0;
	for (u32 i = 0; i < boot_cfg.vcpus; i++) {
		struct vm *vm = vms[i];
		static const char *const how[] = { "still running", "exited",
						   "crashed", "timed out" };
		printk("vm %u: guest %s with status %d\n", i, how[vm->end], vm->status);
		vcpu_print_exit_counts(&vm->vcpu);
		if (!status && vm->status)
			status = vm->status;
	}
	return status;
}
