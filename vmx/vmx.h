/*
 * vmx/vmx.h - the VMX layer's public interface: turning VMX on, the vCPU and
 * the VM it belongs to, and running a guest. SDM Vol. 3C, "Introduction to
 * Virtual Machine Extensions", "Virtual Machine Control Structures", "VM
 * Entries", "VM Exits".
 */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include "boot/boot.h"
#include "ept/ept.h"

/* Guest general registers, in x86 register-number order so an instruction's
 * register field indexes them directly. RSP lives in the VMCS; its slot here
 * is kept in step by the exit path only when a handler needs it. */
enum guest_reg {
	GUEST_RAX, GUEST_RCX, GUEST_RDX, GUEST_RBX, GUEST_RSP, GUEST_RBP,
	GUEST_RSI, GUEST_RDI, GUEST_R8, GUEST_R9, GUEST_R10, GUEST_R11,
	GUEST_R12, GUEST_R13, GUEST_R14, GUEST_R15, GUEST_NR_REGS
};

struct guest_regs {
	u64 gpr[GUEST_NR_REGS];
};
/* vmx/entry.asm relies on this layout. */
_Static_assert(offsetof(struct guest_regs, gpr) == 0, "entry.asm");

#define VM_EXIT_COUNTERS  80	/* basic exit reasons 0..79 */
#define EXIT_FAST_TABLE   64	/* vcpu_exit_fast's table: reasons 0..63 */

struct vm;

/* The fast-MMIO path's last guest-linear -> guest-physical translation under
 * 4-level paging (vmx/run.c: fast_mmio_verify), with the paging-structure
 * entries it read: pa[i] where, e[i] what (a walk of fewer levels repeats
 * its last entry). The next exit at the same page with the same CR3 checks
 * those entries instead of walking; if every one still holds its value the
 * walk would give the same result. cr3 = ~0: empty. */
struct walk_cache {
	u64 cr3, gla_page, gpa_page;
	u64 pa[4], e[4];
};

/* The fast-MMIO path's last decoded store (vmx/run.c): its guest-physical
 * address, mode, length, and its first 16 bytes masked to that length. */
struct store_cache {
	u64 gpa;
	u64 b0, b1, m0, m1;
	u32 len;
	u32 mode;
};

/*
 * The doorbell store the fast-MMIO path trusts without reading guest memory
 * (vmx/wprot.c): the store at CS:RIP rip, with CS's access rights cs_ar (0:
 * empty; a usable CS never has 0) and, outside IA-32e mode, CS base cs_base
 * (in IA-32e mode only stores in 64-bit mode, which ignores it), under CR3
 * cr3, len bytes long. The guest pages its decoding read (the
 * code's page, and with paging the pages of the table entries that
 * translated RIP) are page[]; each is in prot[], the pages write-protected
 * in the EPT, for as long as the entry holds.
 */
#define INSN_CACHE_PAGES 6		/* the code, 5 levels of tables */
#define WPROT_PAGES      8		/* > INSN_CACHE_PAGES: a fill can always
					 * evict a page it does not need */
struct insn_cache {
	u64 rip, cr3, cs_base;
	u32 cs_ar;
	u32 len;
	u32 npages;
	u64 page[INSN_CACHE_PAGES];	/* the pages it was read from */
	u64 filled_at;			/* fastmmio_hits when it was filled */
	u64 strike_rip;			/* the store that lost its entry early */
	u32 strikes;			/* that many times in a row */
	u32 backoff, wait;		/* verified doorbells from it to wait
					 * before filling it again */
	/* Write-protected pages, kept until written (or evicted): a store
	 * filled again over the same pages costs no EPT change. */
	u32 nprot, evict;
	u64 prot[WPROT_PAGES];
	u64 fills, faults;		/* for the exit report */
};

/* One entry of a VM-entry or VM-exit MSR-load list (SDM Vol. 3C, "VM-Entry
 * Controls for MSRs", "VM-Exit Controls for MSRs": 16 bytes, the list
 * 16-byte aligned). */
struct vmx_msr_entry {
	u32 index;
	u32 reserved;
	u64 value;
} __attribute__((aligned(16)));

struct vcpu {
	struct guest_regs regs;		/* first: entry.asm stores here */
	struct vm *vm;
	void *vmcs;			/* 4 KiB VMCS region */
	bool launched;			/* VMLAUNCH done; VMRESUME next */
	u64 cr0_shadow_fixed;		/* CR0 bits the guest may not clear */
	/* The guest's paging state as the fast-MMIO path needs it, kept by
	 * the exits that change it (MOV to CR0, WRMSR EFER: both always exit,
	 * vmx/cr.c and vmx/msr.c), so the hot path reads no CR0 or EFER. */
	bool paging;			/* CR0.PG */
	bool lma;			/* IA32_EFER.LMA: IA-32e mode */
	bool la57;			/* CR4.LA57 as IA-32e mode began: it
					 * cannot change while LMA = 1 */
	u64 rip_mask;			/* ~0 in IA-32e mode, else 0xffffffff:
					 * outside it RIP wraps at 32 bits */
	/* vcpu_exit_fast's handler per basic exit reason below
	 * EXIT_FAST_TABLE (vmx/dispatch.c: vcpu_exit_fast_init): one load and
	 * one jump whatever the reason; the EPT-misconfiguration entry is the
	 * handler for this run's fastmmio_len. */
	int (*exit_fast[EXIT_FAST_TABLE])(struct vcpu *v);
	u32 fast_reasons;		/* exit reasons below this are dispatched
					 * by the run loop itself: VM_EXIT_COUNTERS,
					 * or 0 with trace=1 (all go to the trace) */
	struct insn_cache insn_cache;	/* vmx/wprot.c */
	struct store_cache store_cache;
	struct walk_cache walk_cache;
	u64 exits[VM_EXIT_COUNTERS];	/* per basic exit reason */
	u64 fastmmio_hits;		/* doorbells taken by the fast-MMIO path */
	u64 pio_hits;			/* PIO doorbells taken by the fast path */
	u64 emulated;			/* instructions decoded and emulated */
	u64 len_disagree;		/* fastmmio_len=check: the VMCS's
					 * instruction length was not ours */
	u64 last_progress_tsc;		/* watchdog (guest_timeout=) */
	/* IA32_TSC_AUX (vmx/msr.c): once the guest wrote it, its value is
	 * tsc_aux_guest.value, loaded on VM entry and the host's reloaded on
	 * VM exit while the two differ (one-entry MSR-load lists). */
	bool tsc_aux_written;
	struct vmx_msr_entry tsc_aux_guest, tsc_aux_host;
};

/* Result of running a VM: the guest's exit code, or why it was stopped. */
enum vm_end { VM_END_NONE, VM_END_EXIT, VM_END_CRASH, VM_END_TIMEOUT };

/* Checks that this CPU can run doorbell's guests (VMX, IA32_FEATURE_CONTROL,
 * EPT with 4-level walks and write-back, unrestricted guest, the controls we
 * need). Returns 0, or -EOPNOTSUPP after printing every reason it refuses. */
int vmx_check_support(void);
/* Turns VMX on on this CPU (CR4.VMXE, fixed CR0/CR4 bits, VMXON). */
int vmx_cpu_on(void);

/* Builds one VM per guest core from the guest image and runs it on the
 * calling guest core; returns the guest's exit status (or 125 when the guest
 * crashed or the hypervisor failed). Called on each guest core. */
int vm_run_on_this_cpu(u32 vm_index);
/* Prepares the VMs (memory, EPT, guest image) on the boot CPU before the
 * guest cores start them. Returns 0 or -errno after printing why. */
int vms_prepare(const struct mb2_info *mb);

/* On the boot CPU, after its own VM: waits for every VM, prints each one's
 * end and exit counters, and returns the run's exit status. */
int vms_wait_and_report(void);

#endif /* VMX_VMX_H */
