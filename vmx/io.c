/*
 * vmx/io.c - I/O instruction exits: IN/OUT of 1, 2 or 4 bytes, and the string
 * forms INS/OUTS with or without REP. Every port exits (the I/O bitmaps are
 * all ones), so a port no device claims is "unassigned": reads give all ones,
 * writes are dropped (CONTRACTS.md 2). The memory side of INS/OUTS is RAM or
 * the MMIO bus, like any guest access. SDM Vol. 3C, "Exit Qualification for
 * I/O Instructions" and "VM-Exit Instruction-Information Field" (INS/OUTS).
 */
#include "vmx/vmx_priv.h"

#define RFLAGS_DF          BIT(10)
#define STRING_IO_BATCH    4096	/* iterations per exit; the guest re-executes */
#define SEG_SS             2	/* Sreg encoding of SS */
#define EXC_SS             12
#define EXC_GP             13

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

/* The guest-physical pages of one element of a string I/O instruction: an
 * element that straddles a page boundary has each page translated on its
 * own. The last translation is cached across iterations (it is the same
 * page for up to 4096 of them). */
struct string_pages {
	u64 gla_page, gpa_page;
	bool valid;
};

static int string_translate(struct vcpu *v, struct string_pages *c, u64 gla, bool write,
			    u64 *gpa)
{
	u64 page = gla & ~(PAGE_SIZE - 1);
	if (!c->valid || c->gla_page != page) {
		if (vcpu_translate(v, page, write, &c->gpa_page)) {
			c->valid = false;
			return -EFAULT;		/* #PF or #GP injected */
		}
		c->gla_page = page;
		c->valid = true;
	}
	*gpa = c->gpa_page | (gla & (PAGE_SIZE - 1));
	return 0;
}

/*
 * INS and OUTS with or without REP (SDM Vol. 2B, "INS/INSB/INSW/INSD", "OUTS/
 * OUTSB/OUTSW/OUTSD"): the memory operand is ES:rDI (INS) or seg:rSI (OUTS)
 * by the address size, stepping down when DF is set. Memory is reached as
 * the guest sees it: guest RAM directly, anything else (IORAM, the xAPIC
 * page, unassigned addresses, which read all ones and are logged) through
 * the MMIO bus (vm_phys_access). At most STRING_IO_BATCH iterations per
 * exit; the guest re-executes the REP for the rest.
 */
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
	struct string_pages pages = { 0 };
	u64 done = 0;
	/* Outside 64-bit mode the memory operand obeys its segment's limit
	 * and type, checked here for every element: the CPU exits before it
	 * looks at the memory operand (SDM Vol. 3C, "Relative Priority of
	 * Faults and VM Exits": only privilege and I/O-permission faults come
	 * first). A failing element raises #GP(0) (#SS(0) for SS) with the
	 * elements before it done, as on a CPU. */
	bool check = !(vmcs_read32(VMCS_GUEST_CS_AR_BYTES) & VMX_AR_L);
	struct vseg sc = { 0 };
	if (check)
		vseg_read(seg, &sc);

	while (done < count && done < STRING_IO_BATCH) {
		u64 gla = base + (r[idx] & amask);
		u32 first = (u32)MIN((u64)size, PAGE_SIZE - (gla & (PAGE_SIZE - 1)));
		u64 gpa, gpa2 = 0;
		u8 val[4] = { 0 };

		if (check && !vseg_access_ok(&sc, r[idx] & amask, size, in)) {
			vcpu_inject_fault(v, seg == SEG_SS ? EXC_SS : EXC_GP, 0, 0);
			return;
		}
		if (string_translate(v, &pages, gla, in, &gpa))
			return;		/* fault injected; nothing done for this element */
		if (first < size && string_translate(v, &pages, gla + first, in, &gpa2))
			return;
		if (in) {
			vm_bus_read(vm, IOBUS_PIO, port, size, val);
			vm_phys_access(vm, gpa, val, first, true);
			if (first < size)
				vm_phys_access(vm, gpa2, val + first, size - first, true);
		} else {
			vm_phys_access(vm, gpa, val, first, false);
			if (first < size)
				vm_phys_access(vm, gpa2, val + first, size - first, false);
			vm_bus_write(vm, IOBUS_PIO, port, size, val);
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
