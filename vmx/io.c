/*
 * vmx/io.c - I/O instruction exits: IN/OUT of 1, 2 or 4 bytes, and the string
 * forms INS/OUTS with or without REP. Every port exits (the I/O bitmaps are
 * all ones), so a port no device claims is "unassigned": reads give all ones,
 * writes are dropped (CONTRACTS.md 2). SDM Vol. 3C, "Exit Qualification for
 * I/O Instructions" and "VM-Exit Instruction-Information Field" (INS/OUTS).
 */
#include "vmx/vmx_priv.h"

#define RFLAGS_DF          BIT(10)
#define STRING_IO_BATCH    4096	/* iterations per exit; the guest re-executes */

static u64 size_mask(u32 bytes)
{
	return bytes == 8 ? ~0ull : (1ull << (bytes * 8)) - 1;
}

/* The segment base of the INS/OUTS memory operand: ES for INS (fixed), the
 * instruction's segment (DS unless overridden) for OUTS. */
static u64 string_segment_base(u32 seg)
{
	static const u32 bases[6] = {
		VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
		VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE,
	};
	return seg < 6 ? vmcs_readnat(bases[seg]) : 0;
}

static void string_io(struct vcpu *v, u64 qual)
{
	struct vm *vm = v->vm;
	u64 *r = v->regs.gpr;
	bool in = io_qual_is_in(qual), rep = io_qual_is_rep(qual);
	u32 size = io_qual_size(qual);
	u16 port = io_qual_port(qual);
	u32 info = vmcs_read32(VMCS_EXIT_INSTRUCTION_INFO);
	u64 amask = size_mask(insout_info_addr_bytes(info));
	u32 seg = in ? 0 /* ES */ : insout_info_segment(info);
	int idx = in ? GUEST_RDI : GUEST_RSI;
	s64 step = (vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_DF) ? -(s64)size : (s64)size;
	u64 count = rep ? r[GUEST_RCX] & amask : 1;
	u64 base = string_segment_base(seg);
	u64 done = 0;

	while (done < count && done < STRING_IO_BATCH) {
		u64 gla = base + (r[idx] & amask);
		u64 gpa;
		u32 val = 0;
		if (vcpu_translate(v, gla, in, &gpa))
			return;		/* #PF injected; nothing done for this element */
		void *p = vm_gpa_to_hva(vm, gpa, size);
		if (in) {
			vm_bus_read(vm, IOBUS_PIO, port, size, &val);
			if (p)
				memcpy(p, &val, size);
		} else {
			if (p)
				memcpy(&val, p, size);
			else
				val = (u32)size_mask(size);	/* unassigned memory reads all ones */
			vm_bus_write(vm, IOBUS_PIO, port, size, &val);
		}
		r[idx] = (r[idx] & ~amask) | ((r[idx] + (u64)step) & amask);
		done++;
		if (rep)
			r[GUEST_RCX] = (r[GUEST_RCX] & ~amask) | ((r[GUEST_RCX] - 1) & amask);
	}
	if (done == count)
		vcpu_skip_instruction(v);
	/* else: RIP stays, the guest re-executes REP for the rest. */
}

void handle_io_instruction(struct vcpu *v, u64 qual)
{
	u64 *rax = &v->regs.gpr[GUEST_RAX];
	u32 size = io_qual_size(qual);
	u16 port = io_qual_port(qual);

	if (io_qual_is_string(qual)) {
		string_io(v, qual);
		return;
	}
	if (io_qual_is_in(qual)) {
		u32 val = 0;
		vm_bus_read(v->vm, IOBUS_PIO, port, size, &val);
		/* IN to AL/AX keeps the rest of RAX; IN to EAX zero-extends. */
		if (size == 4)
			*rax = val;
		else
			*rax = (*rax & ~size_mask(size)) | val;
	} else {
		/* A doorbell on this port signals its event and the OUT is done:
		 * the guest resumes at once (ioeventfd). */
		u32 val = (u32)(*rax & size_mask(size));
		vm_bus_write(v->vm, IOBUS_PIO, port, size, &val);
	}
	vcpu_skip_instruction(v);
}
