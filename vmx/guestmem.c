/*
 * vmx/guestmem.c - reaching the guest's memory as the guest sees it: linear
 * addresses through the guest's own page tables (vmx/gwalk.c), and the MMIO
 * path: fetch the faulting instruction, decode it and emulate it (emul/)
 * against the guest's devices. SDM Vol. 3A, "Paging"; Vol. 3C, "EPT
 * Violations".
 */
#include "vmx/vmx_priv.h"
#include "vmx/gwalk.h"
#include "emul/emul.h"

#define CR0_PE           BIT(0)
#define CR0_PG           BIT(31)
#define EXC_PF           14
#define MAX_INSN_LEN     15
#define MMIO_REPORTS     16

static int gwalk_read_guest(void *ctx, u64 gpa, void *buf, u32 size)
{
	void *p = vm_gpa_to_hva(ctx, gpa, size);
	if (!p)
		return -EFAULT;
	memcpy(buf, p, size);
	return 0;
}

static void inject_pf(u64 gla, u32 error_code)
{
	vmcs_write32(VMCS_ENTRY_INTR_INFO, intr_info_hw_exception(EXC_PF));
	vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	/* CR2 is the guest's own while we run (vmx/entry.asm never switches it). */
	__asm__ volatile("mov %0, %%cr2" :: "r"(gla));
}

static int translate(struct vcpu *v, u64 gla, u32 access, u64 *gpa, u32 *pf_error)
{
	struct gwalk_regs r = {
		.cr0 = guest_cr0(),
		.cr3 = vmcs_readnat(VMCS_GUEST_CR3),
		.cr4 = guest_cr4(),
		.efer = vmcs_read64(VMCS_GUEST_IA32_EFER),
		.cpl = vmx_ar_dpl(vmcs_read32(VMCS_GUEST_SS_AR_BYTES)),
		.rflags = vmcs_readnat(VMCS_GUEST_RFLAGS),	/* AC, for SMAP */
	};
	return gwalk_translate(&r, gla, access, gwalk_read_guest, v->vm, gpa, pf_error);
}

int vcpu_translate(struct vcpu *v, u64 gla, bool write, u64 *gpa)
{
	u32 pf_error = 0;
	int r = translate(v, gla, write ? GWALK_WRITE : 0, gpa, &pf_error);
	if (r == -EFAULT) {
		inject_pf(gla, pf_error);
	} else if (r == -ERANGE) {
		/* A non-canonical address: the CPU raises #GP(0), not #PF
		 * (SDM Vol. 3A, "Canonical Addressing"). */
		vcpu_inject_gp(v);
		r = -EFAULT;
	} else if (r) {
		printk("vm %u: walking the guest's page tables for 0x%llx failed (%d)\n",
		       v->vm->index, gla, r);
		vm_end(v->vm, VM_END_CRASH, 125);
		r = -EFAULT;
	}
	return r;
}

/* ---- the MMIO side: through the VM's MMIO bus ----------------------------- */

static bool gpa_is_mmio(void *opaque, u64 gpa)
{
	struct vm *vm = opaque;
	return gpa >= vm->ram_size;
}

static int mmio_read(void *opaque, u64 gpa, void *buf, u32 size)
{
	vm_bus_read(opaque, IOBUS_MMIO, gpa, size, buf);
	return 0;
}

static int mmio_write(void *opaque, u64 gpa, void *buf, u32 size)
{
	vm_bus_write(opaque, IOBUS_MMIO, gpa, size, buf);
	return 0;
}

/* Guest RAM on the other side of a MOVS (the emulator asks is_mmio). */
static int ram_read(void *opaque, u64 gpa, void *buf, u32 size)
{
	void *p = vm_gpa_to_hva(opaque, gpa, size);
	if (!p)
		return mmio_read(opaque, gpa, buf, size);
	memcpy(buf, p, size);
	return 0;
}

static int ram_write(void *opaque, u64 gpa, void *buf, u32 size)
{
	void *p = vm_gpa_to_hva(opaque, gpa, size);
	if (!p)
		return mmio_write(opaque, gpa, buf, size);
	memcpy(p, buf, size);
	return 0;
}

static int ctx_translate(void *opaque, u64 gla, bool write, u64 *gpa)
{
	struct vm *vm = opaque;
	return vcpu_translate(&vm->vcpu, gla, write, gpa);
}

/* The decoder's mode from CS and CR0 (SDM "IA-32e Mode Operation"). */
static enum emul_cpu_mode guest_cpu_mode(void)
{
	u32 cs = vmcs_read32(VMCS_GUEST_CS_AR_BYTES);
	if (!(guest_cr0() & CR0_PE))
		return EMUL_MODE_REAL;
	if (cs & VMX_AR_L)
		return EMUL_MODE_LONG64;
	return (cs & VMX_AR_DB) ? EMUL_MODE_PROT32 : EMUL_MODE_PROT16;
}

/* Fetches up to 15 instruction bytes at CS:RIP, page by page. Returns how
 * many it got (the decoder says if that was too few). */
static size_t fetch_insn(struct vcpu *v, u8 *bytes)
{
	u64 rip = vmcs_readnat(VMCS_GUEST_CS_BASE) + vmcs_readnat(VMCS_GUEST_RIP);
	size_t got = 0;
	while (got < MAX_INSN_LEN) {
		u64 gpa;
		u32 pf;
		if (translate(v, rip + got, GWALK_FETCH, &gpa, &pf))
			break;
		u64 chunk = MIN((u64)(MAX_INSN_LEN - got), PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		void *p = vm_gpa_to_hva(v->vm, gpa, chunk);
		if (!p)
			break;
		memcpy(bytes + got, p, chunk);
		got += chunk;
	}
	return got;
}

static const u32 seg_base_fields[EMUL_NR_SEGS] = {
	[EMUL_SEG_ES] = VMCS_GUEST_ES_BASE, [EMUL_SEG_CS] = VMCS_GUEST_CS_BASE,
	[EMUL_SEG_SS] = VMCS_GUEST_SS_BASE, [EMUL_SEG_DS] = VMCS_GUEST_DS_BASE,
	[EMUL_SEG_FS] = VMCS_GUEST_FS_BASE, [EMUL_SEG_GS] = VMCS_GUEST_GS_BASE,
};

bool vmmio_emulate(struct vcpu *v, u64 gpa, u64 qual)
{
	struct vm *vm = v->vm;
	u8 bytes[MAX_INSN_LEN];
	struct emul_insn insn;
	struct emul_ctx ctx;
	char text[80];

	(void)qual;
	size_t n = fetch_insn(v, bytes);
	int r = emul_decode(bytes, n, guest_cpu_mode(), &insn);
	if (r < 0) {
		printk("vm %u: cannot emulate the access to guest-physical 0x%llx at RIP "
		       "0x%llx: %s\n", vm->index, gpa, vmcs_readnat(VMCS_GUEST_RIP), insn.why);
		return false;
	}
	memset(&ctx, 0, sizeof(ctx));
	memcpy(ctx.gprs, v->regs.gpr, sizeof(ctx.gprs));
	ctx.gprs[GUEST_RSP] = vmcs_readnat(VMCS_GUEST_RSP);
	ctx.rflags = vmcs_readnat(VMCS_GUEST_RFLAGS);
	ctx.rip = vmcs_readnat(VMCS_GUEST_RIP);
	for (u32 s = 0; s < EMUL_NR_SEGS; s++)
		ctx.seg_base[s] = vmcs_readnat(seg_base_fields[s]);
	ctx.ss_big = (vmcs_read32(VMCS_GUEST_SS_AR_BYTES) & VMX_AR_DB) != 0;
	ctx.cr0 = guest_cr0();
	ctx.gpa = gpa;
	ctx.opaque = vm;
	ctx.translate = ctx_translate;
	ctx.is_mmio = gpa_is_mmio;
	ctx.mmio_read = mmio_read;
	ctx.mmio_write = mmio_write;
	ctx.mem_read = ram_read;
	ctx.mem_write = ram_write;
	if (boot_cfg.trace)
		printk("trace: vm %u emulate %s at gpa 0x%llx\n", vm->index,
		       emul_describe(&insn, text, sizeof(text)), gpa);
	int len = emul_execute(&insn, &ctx);
	if (len == EMUL_EXCEPTION) {
		/* A fault at this RIP: nothing advances (SDM Vol. 3C, "Event
		 * Injection"). */
		vmcs_write32(VMCS_ENTRY_INTR_INFO, intr_info_build(ctx.exc.vector,
				INTR_TYPE_HW_EXCEPTION, ctx.exc.has_error_code));
		if (ctx.exc.has_error_code)
			vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, ctx.exc.error_code);
		/* CR2 is the guest's own while we run (vmx/entry.asm). */
		if (ctx.exc.vector == EXC_PF)
			__asm__ volatile("mov %0, %%cr2" :: "r"(ctx.exc.cr2));
		return true;
	}
	if (len < 0) {
		if (len == -EFAULT)
			return true;	/* a #PF was injected; the guest handles it */
		printk("vm %u: emulating '%s' at RIP 0x%llx failed: %s\n", vm->index,
		       emul_describe(&insn, text, sizeof(text)), ctx.rip, ctx.why);
		return false;
	}
	memcpy(v->regs.gpr, ctx.gprs, sizeof(ctx.gprs));
	vmcs_writenat(VMCS_GUEST_RSP, ctx.gprs[GUEST_RSP]);
	vmcs_writenat(VMCS_GUEST_RFLAGS, ctx.rflags);
	/* rip + len, or a JMP/CALL/RET target; unchanged after a REP stop. */
	vmcs_writenat(VMCS_GUEST_RIP, ctx.next_rip);
	return true;
}
