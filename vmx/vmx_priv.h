/*
 * vmx/vmx_priv.h - what the files of vmx/ share: the VM structure, the
 * width-checked VMCS accessors, and the exit-handler interface.
 */
#ifndef VMX_VMX_PRIV_H
#define VMX_VMX_PRIV_H

#include "vmx/vmx.h"
#include "vmx/vmx_defs.h"
#include "vmx/vmx_qual.h"
#include "vmx/cpuid.h"
#include "vmx/crcheck.h"
#include "boot/cpu.h"
#include "drivers/drivers.h"
#include "iobus/iobus.h"
#include "service/service.h"
#include "platform/platform.h"

/* ---- VMX instructions (SDM Vol. 3C, "Conventions": VMsucceed, VMfailInvalid
 * (CF=1), VMfailValid (ZF=1, error number in the VM-instruction error field) */
#define VMX_OK            0
#define VMX_FAIL_INVALID  1
#define VMX_FAIL_VALID    2
#define VMX_FAIL_RESUMED  2	/* vmx_run: added when VMRESUME, not VMLAUNCH, failed */

static inline int vmx_result(u8 cf, u8 zf)
{
	return cf ? VMX_FAIL_INVALID : zf ? VMX_FAIL_VALID : VMX_OK;
}

static inline int vmx_vmxon(u64 pa)
{
	u8 cf, zf;
	__asm__ volatile("vmxon %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(pa) : "cc", "memory");
	return vmx_result(cf, zf);
}

static inline int vmx_vmclear(u64 pa)
{
	u8 cf, zf;
	__asm__ volatile("vmclear %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(pa) : "cc", "memory");
	return vmx_result(cf, zf);
}

static inline int vmx_vmptrld(u64 pa)
{
	u8 cf, zf;
	__asm__ volatile("vmptrld %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(pa) : "cc", "memory");
	return vmx_result(cf, zf);
}

/* INVEPT types (SDM Vol. 3C, "INVEPT - Invalidate Translations Derived from EPT") */
#define INVEPT_SINGLE_CONTEXT  1
#define INVEPT_ALL_CONTEXT     2

static inline int vmx_invept(u64 type, u64 eptp)
{
	struct { u64 eptp, reserved; } desc = { eptp, 0 };
	u8 cf, zf;
	__asm__ volatile("invept %2, %3; setc %0; setz %1"
			 : "=r"(cf), "=r"(zf) : "m"(desc), "r"(type) : "cc", "memory");
	return vmx_result(cf, zf);
}

/* A failed VMREAD/VMWRITE means a bug in doorbell (a field this CPU lacks or
 * no current VMCS): stop loudly. The hot path pays one branch (CF or ZF:
 * "jbe") per access; this cold function finds out which failure it was
 * (VMPTRST gives all ones when there is no current VMCS) and names it. */
__noreturn __attribute__((cold)) void vmcs_access_failed(const char *op, u64 enc);

static inline u64 vmcs_read_raw(u64 enc)
{
	u64 v;
	__asm__ goto("vmread %1, %0; jbe %l[failed]"
		     : "=r"(v) : "r"(enc) : "cc" : failed);
	return v;
failed:
	vmcs_access_failed("vmread", enc);
}

static inline void vmcs_write_raw(u64 enc, u64 v)
{
	__asm__ goto("vmwrite %1, %0; jbe %l[failed]"
		     :: "r"(enc), "rm"(v) : "cc", "memory" : failed);
	return;
failed:
	vmcs_access_failed("vmwrite", enc);
}

/* Width-checked accessors (KVM's vmcs_read32 idea): a constant encoding of
 * the wrong width stops the build. */
#define VMCS_ACCESSORS(bits, type, width)                                        \
	static __attribute__((always_inline)) inline type vmcs_read##bits(u32 enc)      \
	{                                                                            \
		VMCS_BUILD_BUG_ON_WIDTH(enc, width);                                 \
		return (type)vmcs_read_raw(enc);                                     \
	}                                                                            \
	static __attribute__((always_inline)) inline void vmcs_write##bits(u32 enc, type v) \
	{                                                                            \
		VMCS_BUILD_BUG_ON_WIDTH(enc, width);                                 \
		vmcs_write_raw(enc, v);                                              \
	}
VMCS_ACCESSORS(16, u16, VMCS_WIDTH_16)
VMCS_ACCESSORS(32, u32, VMCS_WIDTH_32)
VMCS_ACCESSORS(64, u64, VMCS_WIDTH_64)
VMCS_ACCESSORS(nat, u64, VMCS_WIDTH_NATURAL)

/* A 32-bit field read as 64 bits: VMREAD clears the destination's bits above
 * the field (SDM Vol. 2B, "VMREAD"), so the value needs no zero-extension
 * where it is added to a 64-bit one (the instruction length to RIP). */
static __attribute__((always_inline)) inline u64 vmcs_read32_u64(u32 enc)
{
	VMCS_BUILD_BUG_ON_WIDTH(enc, VMCS_WIDTH_32);
	return vmcs_read_raw(enc);
}

/* The capability MSR for a control word: TRUE_ when IA32_VMX_BASIC[55]. */
u64 vmx_ctls_msr(u32 plain, u32 true_msr);

/* The guest's view of CR0/CR4: its own bits from the real register, the bits
 * we own (guest/host mask) from the read shadow (SDM "Guest/Host Masks and
 * Read Shadows for CR0 and CR4"). */
static inline u64 guest_cr0(void)
{
	u64 mask = vmcs_read_raw(VMCS_CR0_GUEST_HOST_MASK);
	return (vmcs_read_raw(VMCS_GUEST_CR0) & ~mask) | (vmcs_read_raw(VMCS_CR0_READ_SHADOW) & mask);
}

static inline u64 guest_cr4(void)
{
	u64 mask = vmcs_read_raw(VMCS_CR4_GUEST_HOST_MASK);
	return (vmcs_read_raw(VMCS_GUEST_CR4) & ~mask) | (vmcs_read_raw(VMCS_CR4_READ_SHADOW) & mask);
}

/* Prints every field of the current VMCS (vmx/vmcs.c). */
void vmcs_dump(void);

/* ---- the VM ------------------------------------------------------------- */
#define COM1_LINE_MAX   480	/* a BENCH {json} line is one line; printk takes 511 */

/* The emulated local APIC (xAPIC registers the guest platform offers). */
struct vapic {
	u64 base_msr;		/* IA32_APIC_BASE as the guest sees it */
	u32 id, spiv, ldr, dfr, icr_low, icr_high, lvt[7], esr;
	/* The TPR is not here: it is the VTPR of the VM's virtual-APIC page
	 * (vapic_tpr()), where the CPU's TPR shadow keeps it for MOV CR8. */
	u64 ipis_dropped;	/* INIT/SIPI/fixed IPIs from the guest, never sent */
};

struct vm_syncdev;

/* An emulated device on one of the VM's buses. */
struct vm_device {
	struct iobus_device base;	/* first: the bus hands us &base */
	struct vm *vm;
};

struct vm {
	u32 index;
	bool running;			/* its vCPU has entered the guest */
	u64 ram_size;
	u8 *ram;			/* host memory backing guest-physical 0.. */
	struct ept ept;
	u8 *io_bitmap;			/* 8 KiB: bitmap A (ports 0-0x7fff), then B */
	u8 *msr_bitmap;			/* 4 KiB */
	u8 *vapic_page;			/* 4 KiB: the virtual-APIC page (TPR shadow) */
	struct vcpu vcpu;
	struct event_set *events;
	/* The VM's I/O space: PIO, MMIO and FAST_MMIO buses with the emulated
	 * devices and the guest's doorbells (iobus/). */
	struct ioeventfd_table io;
	struct vm_device dev_ports;	/* COM1, exit, latch, PICs */
	struct vm_device dev_apic;	/* the xAPIC page */
	struct vm_device dev_ioram;	/* pc-testdev IORAM */
	struct vm_syncdev *syncdev;	/* the synchronous device (vmx/syncdev.c) */
	struct vm_pci *pci;		/* PCI bus 0 and pci-testdev (vmx/pci.c) */
	/* fw_cfg and the ACPI PM block (vmx/platform.c, platform/) */
	struct vm_device dev_fwcfg, dev_acpi_pm;
	struct fwcfg fwcfg;
	struct acpi_pm acpi_pm;
	/* emulated devices */
	char com1_line[COM1_LINE_MAX];
	u32 com1_len;
	u8 com1_lcr, com1_ier, com1_mcr, com1_scratch;
	u32 latch;			/* pc-testdev 0xe0-0xe3 */
	u8 *ioram;			/* pc-testdev IORAM, IORAM_SIZE bytes */
	u8 pic_imr[2];
	struct vapic apic;
	u64 unassigned_reported;
	/* The guest's CPUID (vmx/cpuid.c), filled with the VMCS, and what it
	 * allows: the CR4, XCR0 and IA32_EFER bits the guest may set. */
	struct cpuid_table cpuid;
	u64 cr4_allowed, xcr0_allowed, efer_allowed;
	/* MSRs emulated per VM (vmx/msr.c) */
	u64 tsc_adjust;			/* IA32_TSC_ADJUST */
	u64 misc_enable;		/* IA32_MISC_ENABLE */
	u64 mcg_status;			/* IA32_MCG_STATUS */
	u32 msr_gp_reported;		/* #GP'd RDMSR/WRMSRs logged so far */
	/* the end of the run */
	enum vm_end end;
	int status;
	u64 entry_rip, mbi_gpa;
	/* The poll page (vmx/pollpage.c, service/poll.c). */
	struct poll_page *poll_page;
	struct poll_watch poll;		/* the service core's */
};

extern struct vm *vms[MAX_CPUS];

/* The VM of vCPU v. Each VM's one vCPU is embedded in it, so this is an
 * address computation, not a load: the hot paths use it instead of v->vm
 * (the same pointer). */
static inline struct vm *vcpu_vm(struct vcpu *v)
{
	return (struct vm *)(void *)((char *)v - offsetof(struct vm, vcpu));
}

/* Guest memory: a host pointer for [gpa, gpa + len) when it lies inside guest
 * RAM, else NULL. */
static inline void *vm_gpa_to_hva(struct vm *vm, u64 gpa, u64 len)
{
	if (gpa >= vm->ram_size || len > vm->ram_size - gpa)
		return NULL;
	return vm->ram + gpa;
}

/* ---- the remembered doorbell store (vmx/wprot.c) ------------------------- */
/* Remembers the store the verified fast-MMIO path has just completed (the
 * store cache holds it, at guest-physical gpa; with paging, RIP was
 * translated through the table entries at guest-physical tables[0..ntables))
 * and write-protects the pages it was read from. */
void insn_cache_fill(struct vcpu *v, u64 rip, u32 cs_ar, u64 cs_base, u64 cr3, u64 gpa,
		     const u64 *tables, u32 ntables);
/* Forgets it and makes its pages writable again. */
void insn_cache_drop(struct vcpu *v);
/* An EPT violation at gpa: true if it was a write to one of those pages,
 * now writable again (the caller re-injects an event being delivered and
 * resumes, so the write is retried). */
bool insn_cache_write_fault(struct vcpu *v, u64 gpa);
/* doorbell itself wrote [gpa, gpa + size) of vm's RAM. */
void insn_cache_ram_written(struct vm *vm, u64 gpa, u64 size);

/* Ends the VM: the vCPU stops at its next exit-handler return. */
void vm_end(struct vm *vm, enum vm_end how, int status);

/* vmx/vmcs.c: builds the VMCS of vm's vCPU (current on this CPU). */
int vmcs_setup(struct vm *vm);

/* ---- exit handling (vmx/exit.c and friends) ------------------------------ */
/* A handler returns after updating guest state; it advances RIP itself when
 * the instruction completed (vcpu_skip_instruction). */
typedef void (*exit_handler_fn)(struct vcpu *v, u64 qual);

void vcpu_run(struct vcpu *v);				/* vmx/run.c */
/* The exit-handler table, by basic exit reason (vmx/exit.c). */
extern const exit_handler_fn exit_handlers[VM_EXIT_COUNTERS];
/* Every exit the run loop does not dispatch itself: a VM-entry failure, a
 * reason with flag bits or without a handler (the VMCS is dumped and the VM
 * stopped), and every exit under trace=1 (vmx/exit.c). */
__attribute__((cold)) void vcpu_exit_slow(struct vcpu *v, u32 reason);
void vcpu_report_instruction_error(struct vcpu *v, int r);
void vcpu_print_exit_counts(struct vcpu *v);

#define RFLAGS_TF          BIT(8)	/* trap flag: single-step */
#define RFLAGS_RF          BIT(16)	/* resume flag: no instruction breakpoint */
/* Pending debug exceptions, bit 14: BS, a single-step trap (SDM Vol. 3C,
 * "Guest Non-Register State"). */
#define PENDING_DBG_BS     BIT(14)
/* The rare half of vcpu_skip (vmx/exit.c): RIP wrap in compatibility mode,
 * the end of STI/MOV-SS blocking, a pending single-step trap. */
void vcpu_skip_finish(struct vcpu *v, u64 rip, u32 intr, u64 rflags);

/*
 * Completes an instruction of len bytes the guest could not execute itself
 * (KVM's skip_emulated_instruction): RIP advances, wrapping at 32 bits
 * outside 64-bit mode (SDM Vol. 1, "Instruction Pointer"); STI and MOV-SS
 * blocking end, as executing the instruction would have ended them (SDM
 * Vol. 3C, "Interruptibility State"); with RFLAGS.TF set the single-step
 * trap is delivered after it, as after a real store. The common case is
 * three VMREADs, one VMWRITE and a branch; vcpu_skip_from() is the same for
 * a caller that has read RIP already.
 */
static inline void vcpu_skip_from(struct vcpu *v, u64 rip, u64 len)
{
	u64 next = (rip + len) & v->rip_mask;
	u32 intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	u64 rflags = vmcs_readnat(VMCS_GUEST_RFLAGS);
	/* (u32)next < (u32)rip: a carry out of bit 31, which only an
	 * instruction in compatibility mode must wrap (and a rare 64-bit one
	 * crosses); vcpu_skip_finish tells them apart. */
	if (unlikely((intr & (GUEST_INTR_BLOCKING_STI | GUEST_INTR_BLOCKING_MOV_SS)) ||
		     (rflags & RFLAGS_TF) || (u32)next < (u32)rip)) {
		vcpu_skip_finish(v, next, intr, rflags);
		return;
	}
	vmcs_writenat(VMCS_GUEST_RIP, next);
}

static inline void vcpu_skip(struct vcpu *v, u64 len)
{
	vcpu_skip_from(v, vmcs_readnat(VMCS_GUEST_RIP), len);
}

/* Skips the instruction that caused this exit, by the length the CPU
 * reports; for exits caused by instructions, where the SDM defines it
 * (Vol. 3C, "VM-Exit Instruction Length"). */
static inline void vcpu_skip_instruction(struct vcpu *v)
{
	vcpu_skip(v, vmcs_read32_u64(VMCS_EXIT_INSTRUCTION_LEN));
}
/* Hypercall numbers (CONTRACTS.md 3): NOTIFY is taken inline by the VMCALL
 * exit (vmx/hotpath.h), the rest by hypercall_dispatch. */
#define HC_IOEVENTFD   1
#define HC_EVENT_READ  2
#define HC_NOTIFY      3
/* VMCALL (vmx/hypercall.c): returns the value for RAX. */
s64 hypercall_dispatch(struct vcpu *v);
void vcpu_inject_gp(struct vcpu *v);
void vcpu_inject_ud(struct vcpu *v);
void handle_io_instruction(struct vcpu *v, u64 qual);	/* vmx/io.c */
void handle_msr_read(struct vcpu *v, u64 qual);		/* vmx/msr.c */
void handle_msr_write(struct vcpu *v, u64 qual);
/* The VM's MSR bitmap and emulated MSRs at power-up (vmx/msr.c). */
void msr_vm_init(struct vm *vm);
/* After the guest's last exit: "vm N: guest IA32_TSC_AUX X; the host's Y
 * kept" if the guest wrote TSC_AUX (the register checked, in root mode). */
void msr_report_tsc_aux(struct vcpu *v);
void handle_cr_access(struct vcpu *v, u64 qual);	/* vmx/cr.c */
/* The guest's CR0, CR3, CR4, EFER, CS.L and allowed bits for vmx/crcheck.c
 * (vmx/cr.c); its VMCS current. */
void vcpu_cr_state(struct vcpu *v, struct cr_state *s);
/* The guest's CPUID (vmx/cpuid_vm.c). cpuid_vm_init fills vm's table and
 * its allowed-bit masks from the secondary processor-based controls;
 * cpuid_vcpu_leaf gives any leaf as the guest sees it now (its VMCS
 * current); cpuid_exit_full completes a CPUID exit the table cannot answer
 * (not the RIP: the caller skips the instruction). */
void cpuid_vm_init(struct vm *vm, u32 proc2);
void cpuid_vcpu_leaf(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *r);
void cpuid_exit_full(struct vcpu *v);
/* Keeps EFER.LMA, the IA-32e entry control and the vCPU's cached paging
 * state (v->lma, v->paging) in step with EFER and CR0 (vmx/msr.c). */
void vcpu_update_long_mode(struct vcpu *v, u64 efer, u64 cr0);
void handle_ept_violation(struct vcpu *v, u64 qual);	/* vmx/mmio.c */
void handle_ept_misconfig_full(struct vcpu *v);		/* vmx/mmio.c */
/* The exits that carry doorbells: the fast path first (vmx/run.c), then
 * handle_ept_misconfig_full or handle_io_instruction. */
void handle_ept_misconfig(struct vcpu *v, u64 qual);
void handle_undefined_instruction(struct vcpu *v, u64 qual);	/* vmx/undef.c */
void handle_task_switch(struct vcpu *v, u64 qual);
void handle_io_exit(struct vcpu *v, u64 qual);
void handle_cpuid(struct vcpu *v, u64 qual);		/* vmx/run.c */
void handle_vmcall(struct vcpu *v, u64 qual);

/* Translates a guest linear address with the guest's paging (vmx/guestmem.c);
 * on a page fault injects #PF into the guest and returns -EFAULT. */
int vcpu_translate(struct vcpu *v, u64 gla, bool write, u64 *gpa);
/* Decodes and emulates the instruction that faulted on gpa (vmx/guestmem.c).
 * False (after printing why) when it cannot: the guest must be stopped. */
bool vmmio_emulate(struct vcpu *v, u64 gpa, u64 qual);
/* Reads or writes [gpa, gpa + size), inside one page, as the guest would:
 * guest RAM by copy, anything else through the MMIO bus in pieces of at
 * most 8 bytes at the guest's own alignment (unassigned: reads all ones,
 * writes dropped, logged). vmx/guestmem.c. */
void vm_phys_access(struct vm *vm, u64 gpa, u8 *buf, u32 size, bool write);
/* A guest segment register's hidden part, from the VMCS (vmx/guestmem.c):
 * vseg_read fills it for seg (enum emul_seg order: ES CS SS DS FS GS);
 * vseg_access_ok says whether [off, off + size) may be read or written
 * through it outside 64-bit mode (SDM Vol. 3A, "Limit Checking", "Type
 * Checking"; unusable segments allow nothing). */
struct vseg {
	u64 base;
	u32 limit;
	u32 ar;
};
void vseg_read(u32 seg, struct vseg *c);
bool vseg_access_ok(const struct vseg *c, u64 off, u32 size, bool write);
/* Injects hardware exception vector at the current RIP, with error_code if
 * the vector has one, and CR2 = cr2 for #PF (vmx/guestmem.c). */
void vcpu_inject_fault(struct vcpu *v, u32 vector, u32 error_code, u64 cr2);
/* Delivers again the event whose delivery the exit interrupted (vmx/guestmem.c);
 * vectoring is VMCS_IDT_VECTORING_INFO, valid. */
void vcpu_reinject_vectoring(u32 vectoring);
/* Sets RF in the guest's RFLAGS when vector is a fault (vmx/guestmem.c): an
 * injected fault then pushes RF = 1, as the CPU's own faults do. */
void vcpu_fault_set_rf(u32 vector);
/* Loads segment register seg (enum emul_seg; EMUL_NR_SEGS: the task
 * register) with sel for an emulated MOV Sreg or LTR, with the SDM's checks
 * (vmx/segload.c). 0, EMUL_FAULT(vector, error code), or -errno. */
struct gwalk_regs;
/* The guest state a page walk depends on, from the VMCS (vmx/guestmem.c). */
void vcpu_walk_regs(struct gwalk_regs *r);
int vcpu_load_segment(struct vcpu *v, const struct gwalk_regs *walk, u32 seg, u16 sel);
/* Logs an access nobody answers (rate-limited). */
void vm_report_unassigned(struct vm *vm, const char *what, u64 addr, bool write);

/* The emulated device on a port ("COM1"), or NULL (vmx/devices.c). */
const char *vm_port_owner(u16 port);
/* Registers the emulated devices on vm's buses (vmx/devices.c). */
int vm_devices_register(struct vm *vm);
/* Makes and registers the synchronous device (vmx/syncdev.c). */
int syncdev_register(struct vm *vm);
/* Makes PCI bus 0 (host bridge, pci-testdev) and registers it (vmx/pci.c). */
int vm_pci_register(struct vm *vm);
/* Makes vm's poll page: EPT-mapped at POLL_GPA, watched by the service core
 * of vm->events (vmx/pollpage.c). After vm_io_init. 0 or -errno. */
int vm_poll_init(struct vm *vm);
/* The watch MSR (POLL_WATCH_MSR): the slots watched; setting them returns
 * false (#GP) for a non-zero mask with no service core (vmx/pollpage.c). */
u64 vm_poll_msr_read(struct vm *vm);
bool vm_poll_msr_write(struct vm *vm, u64 mask);
/* Writes the ACPI tables into the VM's RAM and registers fw_cfg and the
 * ACPI PM block (vmx/platform.c). */
int vm_platform_register(struct vm *vm);
/* A guest access through the VM's buses: a doorbell or a device answers, or
 * it is unassigned (reads all ones, writes dropped, logged). size 1-8. */
void vm_bus_read(struct vm *vm, u32 bus, u64 addr, u32 size, void *val);
void vm_bus_write(struct vm *vm, u32 bus, u64 addr, u32 size, const void *val);
/* The xAPIC page and IA32_APIC_BASE (vmx/apic.c). */
#define XAPIC_PAGE_GPA   0xfee00000ull
/* pc-testdev IORAM: RAM-like, but never mapped in EPT, so every access exits
 * and goes through the decoder and the MMIO path. */
#define IORAM_GPA        0xff000000ull
#define IORAM_SIZE       (64 * KiB)
void vapic_reset(struct vm *vm);

/* The guest's TPR: VTPR, the dword at offset 0x80 of the virtual-APIC page
 * (SDM Vol. 3C, "Virtual-APIC Page"). With the "use TPR shadow" control the
 * CPU itself serves MOV to and from CR8 from it, without a VM exit ("Virtualizing
 * MOV to CR8", "Virtualizing MOV from CR8"); the xAPIC page's TPR register
 * (vmx/apic.c) and the CR8 exits of a CPU without TPR shadow (vmx/cr.c)
 * use the same dword, so all three agree. */
#define VAPIC_VTPR_OFFSET 0x80
static inline volatile u32 *vapic_tpr(struct vm *vm)
{
	return (volatile u32 *)(void *)(vm->vapic_page + VAPIC_VTPR_OFFSET);
}
u32 vapic_read(struct vm *vm, u32 offset);
void vapic_write(struct vm *vm, u32 offset, u32 val);
int vapic_write_base_msr(struct vm *vm, u64 val);

/* ---- VM-entry stub (vmx/entry.asm) -------------------------------------- */
/* Enters the guest with v->regs loaded (VMLAUNCH); on every VM exit calls
 * vcpu_exit_fast(v) and, when it declines, vcpu_handle_exit(v); re-enters
 * (VMRESUME) while the VM runs. Returns VMX_OK once the VM stopped,
 * VMX_FAIL_INVALID / VMX_FAIL_VALID when VMLAUNCH failed, or those plus
 * VMX_FAIL_RESUMED when a VMRESUME failed. */
int vmx_run(struct vcpu *v);
void vmx_exit_entry(void);	/* VMCS_HOST_RIP */
void vmx_exit_entry_full(void);	/* VMCS_HOST_RIP with trace=1 */
_Static_assert(offsetof(struct vcpu, regs) == 0, "entry.asm: v->regs at v");
/* The two steps of one VM exit (vmx/dispatch.c). vcpu_exit_fast runs with
 * only the guest's RAX, RCX, RDX, RBX, RSI, RDI, R8 and R9 in v->regs and
 * returns one of: */
#define EXIT_RESUME 0	/* handled: enter the guest again */
#define EXIT_FULL   1	/* declined, nothing changed: vcpu_handle_exit */
#define EXIT_STOP   2	/* handled, and the VM has ended */
int vcpu_exit_fast(struct vcpu *v);
/* Picks vcpu_exit_fast's handlers for this run (fastmmio_len=). */
void vcpu_exit_fast_init(struct vcpu *v);
/* Picks the EPT-misconfiguration handler for fastmmio_len= and v->lma: at
 * boot, and whenever IA-32e mode starts or ends (vcpu_update_long_mode). */
void vcpu_exit_fast_mmio_pick(struct vcpu *v);
/* vcpu_handle_exit runs with every register in v->regs: true to enter the
 * guest again. */
bool vcpu_handle_exit(struct vcpu *v);

#endif /* VMX_VMX_PRIV_H */
