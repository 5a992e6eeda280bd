/*
 * guest/platform.c - checks the guest platform of CONTRACTS.md section 2 from
 * the inside: the multiboot hand-over, CPUID, the pc-testdev latch and IORAM,
 * unassigned ports and addresses, the PIC, the local APIC, MSRs and string
 * I/O. Built twice: platform32.elf (32-bit, paging off) and platform64.elf
 * (64-bit long mode, first 4 GiB identity-mapped).
 *
 * Command line: `mem=MiB`, the guest RAM the hypervisor was given (its
 * guest_mem=, default 64).
 *
 * Every check that bare QEMU also satisfies runs everywhere, so the test
 * itself is validated on QEMU TCG; checks where QEMU's machine differs from
 * doorbell's contract (memory sizes, a port or address QEMU puts a device on,
 * re-enabling the APIC) are marked GUEST_TEST_NEEDS_DOORBELL and SKIP there.
 */
#include "lib/guest.h"

#define DEFAULT_RAM_MIB     64
#define MB_MEM_LOWER_KIB    640         /* CONTRACTS.md 2: mem_lower = 640 */
#define LOW_RAM_END         (640 * KiB)
#define HIGH_RAM_START      MiB

/* An MSR index outside both ranges the architecture (and VMX's MSR bitmaps)
 * define, 0-0x1fff and 0xc0000000-0xc0001fff, and outside the hypervisor
 * range 0x40000000-0x400000ff: no CPU or hypervisor implements it, so RDMSR
 * and WRMSR must raise #GP(0) (SDM Vol. 2B, RDMSR, "Protected Mode
 * Exceptions"). */
#define MSR_NONEXISTENT     0x12345678u

static struct multiboot_info *mbi;
static u32 mb_magic;
static u64 ram_size;                    /* bytes, from mem= */

/* ------------------------------------------------------------------------ */
/* Multiboot hand-over */

static void test_multiboot_magic(void)
{
	CHECK_EQ(mb_magic, MULTIBOOT_BOOTLOADER_MAGIC);
}

static void test_multiboot_flags(void)
{
	CHECK(mbi->flags & MB_INFO_MEMORY);
	CHECK(mbi->flags & MB_INFO_CMDLINE);
	CHECK(mbi->flags & MB_INFO_MEM_MAP);
	/* mods_count is valid whenever the flag is; no flag means none. */
	if (mbi->flags & MB_INFO_MODS)
		CHECK(mbi->mods_count == 0 || mbi->mods_addr != 0);
}

/* QEMU reports 639 and its own e820 view, so exact sizes are doorbell's. */
static void test_multiboot_mem(void)
{
	CHECK_EQ(mbi->mem_lower, MB_MEM_LOWER_KIB);
	CHECK_EQ(mbi->mem_upper, (ram_size - HIGH_RAM_START) / KiB);
}

static void mmap_print(void)
{
	for (const struct multiboot_mmap_entry *e = mb_mmap_next(mbi, NULL);
	     e; e = mb_mmap_next(mbi, e))
		printf("  mmap 0x%08llx-0x%08llx type %u\n",
		       (unsigned long long)e->addr,
		       (unsigned long long)(e->addr + e->len), e->type);
}

/* The mmap is well formed and claims no RAM that is not there. */
static void test_multiboot_mmap_sane(void)
{
	unsigned int entries = 0, available = 0;

	mmap_print();
	for (const struct multiboot_mmap_entry *e = mb_mmap_next(mbi, NULL);
	     e; e = mb_mmap_next(mbi, e)) {
		entries++;
		/* size excludes itself; an entry has at least addr, len, type */
		CHECK(e->size >= sizeof(*e) - sizeof(e->size));
		CHECK(e->addr + e->len >= e->addr);
		if (e->type != MB_MEMORY_AVAILABLE)
			continue;
		available++;
		if (e->addr + e->len > ram_size)
			guest_check_failed(__LINE__,
				"available 0x%llx-0x%llx beyond RAM end 0x%llx",
				(unsigned long long)e->addr,
				(unsigned long long)(e->addr + e->len),
				(unsigned long long)ram_size);
	}
	CHECK(entries > 0);
	CHECK(available > 0);
}

/* Returns the end of the run of available mmap entries that covers addr
 * onwards (addr itself when no entry covers it). */
static u64 mmap_covered_from(u64 addr)
{
	bool grew = true;

	while (grew) {
		grew = false;
		for (const struct multiboot_mmap_entry *e = mb_mmap_next(mbi, NULL);
		     e; e = mb_mmap_next(mbi, e)) {
			if (e->type == MB_MEMORY_AVAILABLE && e->addr <= addr &&
			    e->addr + e->len > addr) {
				addr = e->addr + e->len;
				grew = true;
			}
		}
	}
	return addr;
}

/* Every byte of guest RAM below 640 KiB and from 1 MiB on is available. */
static void test_multiboot_mmap_covers_ram(void)
{
	u64 low = mmap_covered_from(0);
	u64 high = mmap_covered_from(HIGH_RAM_START);

	if (low < LOW_RAM_END)
		guest_check_failed(__LINE__, "low RAM covered only to 0x%llx",
				   (unsigned long long)low);
	if (high < ram_size)
		guest_check_failed(__LINE__, "RAM covered only to 0x%llx of 0x%llx",
				   (unsigned long long)high,
				   (unsigned long long)ram_size);
}

static void test_cpu_mode(void)
{
	unsigned long cr0;
	u64 efer;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	CHECK_EQ(rdmsr_safe(MSR_EFER, &efer), GUEST_NO_FAULT);
#ifdef __x86_64__
	/* SDM Vol. 3A, "IA-32e Mode Operation": LMA set by paging with LME. */
	CHECK(efer & EFER_LME);
	CHECK(efer & EFER_LMA);
	CHECK(cr0 & CR0_PG);
#else
	/* The loader hands over with paging off, and we never turn it on. */
	CHECK(!(efer & EFER_LMA));
	CHECK(!(cr0 & CR0_PG));
#endif
	CHECK(cr0 & CR0_PE);
}

/* ------------------------------------------------------------------------ */
/* CPUID */

static void test_cpuid_hypervisor_bit(void)
{
	CHECK(cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR);
}

static void test_cpuid_no_vmx(void)
{
	CHECK(!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX));
}

static void test_cpuid_signature(void)
{
	struct cpuid_regs r = cpuid(CPUID_HV_LEAF, 0);
	char sig[13];

	memcpy(sig + 0, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = 0;
	printf("  leaf 0x40000000: eax 0x%x \"%s\"\n", r.eax, sig);
	/* All 12 bytes, the two NULs included. */
	CHECK(memcmp(sig, DOORBELL_SIGNATURE, 12) == 0);
}

/* ------------------------------------------------------------------------ */
/* Devices */

static void test_serial_lsr(void)
{
	/* Polled output relies on THR empty showing up (CONTRACTS.md 2). */
	CHECK(inb(COM1 + UART_LSR) & UART_LSR_THRE);
}

static void test_testdev_latch(void)
{
	outl(0x12345678, TESTDEV_LATCH);
	CHECK_EQ(inl(TESTDEV_LATCH), 0x12345678);
	CHECK_EQ(inw(TESTDEV_LATCH), 0x5678);
	CHECK_EQ(inw(TESTDEV_LATCH + 2), 0x1234);
	CHECK_EQ(inb(TESTDEV_LATCH), 0x78);
	CHECK_EQ(inb(TESTDEV_LATCH + 1), 0x56);
	CHECK_EQ(inb(TESTDEV_LATCH + 2), 0x34);
	CHECK_EQ(inb(TESTDEV_LATCH + 3), 0x12);

	/* Narrow writes replace only their own bytes. */
	outb(0xab, TESTDEV_LATCH + 1);
	CHECK_EQ(inl(TESTDEV_LATCH), 0x1234ab78);
	outw(0xcdef, TESTDEV_LATCH + 2);
	CHECK_EQ(inl(TESTDEV_LATCH), 0xcdefab78);
	outb(0x01, TESTDEV_LATCH + 3);
	outb(0x02, TESTDEV_LATCH);
	CHECK_EQ(inl(TESTDEV_LATCH), 0x01efab02);
	outl(0, TESTDEV_LATCH);
	CHECK_EQ(inl(TESTDEV_LATCH), 0);
}

static void test_testdev_ioram(void)
{
	const uintptr_t base = TESTDEV_IORAM;
	const uintptr_t last = TESTDEV_IORAM + TESTDEV_IORAM_SIZE - 4;

	mmio_write32(base, 0xdeadbeef);
	mmio_write32(last, 0x0badf00d);
	CHECK_EQ(mmio_read32(base), 0xdeadbeef);
	CHECK_EQ(mmio_read32(last), 0x0badf00d);
	CHECK_EQ(mmio_read16(base + 2), 0xdead);
	CHECK_EQ(mmio_read8(base + 1), 0xbe);

	/* Like RAM: narrow writes change only their bytes. */
	mmio_write8(base + 3, 0x11);
	mmio_write16(base, 0x2233);
	CHECK_EQ(mmio_read32(base), 0x11ad2233);
	CHECK_EQ(mmio_read32(last), 0x0badf00d);
}

/* Ports next to the contract's devices (0x20, 0xa0, 0xf4, 0x3f8) and far
 * from any, where neither doorbell nor QEMU's pc machine has a device. */
static const u16 unassigned_ports_everywhere[] = {
	0x1f, 0x22, 0xa2, 0xf3, 0xf8, 0x300, 0x400,
};
/* Unassigned in doorbell only: QEMU has DMA (0xdf), its pc-testdev extras
 * (0xe4, 0xe8), the floppy (0x3f7) and fw_cfg's DMA port (0x514) there
 * (doorbell's fw_cfg has no DMA interface). */
static const u16 unassigned_ports_doorbell[] = {
	0xdf, 0xe4, 0xe8, 0x3f7, 0x514,
};

static void check_unassigned_ports(const u16 *ports, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		u8 v = inb(ports[i]);

		if (v != 0xff)
			guest_check_failed(__LINE__, "port 0x%x reads 0x%x",
					   ports[i], v);
		outb(0, ports[i]);      /* dropped */
		v = inb(ports[i]);
		if (v != 0xff)
			guest_check_failed(__LINE__,
				"port 0x%x reads 0x%x after writing 0",
				ports[i], v);
	}
}

static void test_unassigned_ports(void)
{
	check_unassigned_ports(unassigned_ports_everywhere,
			       ARRAY_SIZE(unassigned_ports_everywhere));
	/* 0x300-0x303 are all free, so every access size reads all ones. */
	CHECK_EQ(inw(0x300), 0xffff);
	CHECK_EQ(inl(0x300), 0xffffffff);
	outl(0, 0x300);
	CHECK_EQ(inl(0x300), 0xffffffff);
}

static void test_unassigned_ports_doorbell(void)
{
	check_unassigned_ports(unassigned_ports_doorbell,
			       ARRAY_SIZE(unassigned_ports_doorbell));
}

/* Neither RAM nor a device: between RAM and the doorbell window, the window
 * itself (no doorbells registered: a read is emulated as usual), past it,
 * where a PC has its IOAPIC and HPET, past IORAM. QEMU TCG reads 0 there, so
 * this is doorbell's. */
static const uintptr_t unassigned_mmio[] = {
	0xc0000000, 0xcffffffc, 0xd0000000, 0xdffffffc, 0xe0000000,
	0xfec00000, 0xfed00000, 0xfef00000, 0xff010000,
};

/* Reads addr as 32 bits, expecting all ones, before and after a write. */
static void check_unassigned_mmio(uintptr_t addr)
{
	u32 v = mmio_read32(addr);

	if (v != 0xffffffff)
		guest_check_failed(__LINE__, "0x%lx reads 0x%x",
				   (unsigned long)addr, v);
	mmio_write32(addr, 0);          /* dropped */
	v = mmio_read32(addr);
	if (v != 0xffffffff)
		guest_check_failed(__LINE__, "0x%lx reads 0x%x after writing 0",
				   (unsigned long)addr, v);
}

static void test_unassigned_mmio(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(unassigned_mmio); i++)
		check_unassigned_mmio(unassigned_mmio[i]);
	/* The first dword past guest RAM, and one byte-wide read of it. */
	check_unassigned_mmio((uintptr_t)ram_size);
	CHECK_EQ(mmio_read8((uintptr_t)ram_size + 1), 0xff);
}

static void test_pic_mask(void)
{
	/* OCW1 writes the interrupt mask; reading the data port returns it
	 * (8259A datasheet, "Operation Command Words"). */
	outb(0xa5, PIC1_DATA);
	CHECK_EQ(inb(PIC1_DATA), 0xa5);
	outb(0x5a, PIC2_DATA);
	CHECK_EQ(inb(PIC2_DATA), 0x5a);
	CHECK_EQ(inb(PIC1_DATA), 0xa5);
	/* Leave everything masked: the guest takes no interrupts. */
	outb(0xff, PIC1_DATA);
	outb(0xff, PIC2_DATA);
	CHECK_EQ(inb(PIC1_DATA), 0xff);
	CHECK_EQ(inb(PIC2_DATA), 0xff);
}

/* ------------------------------------------------------------------------ */
/* Local APIC (SDM Vol. 3A, "Advanced Programmable Interrupt Controller") */

#define APIC_BASE_EXTD      BIT(10)     /* x2APIC mode */

static void test_apic_base_msr(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);

	CHECK_EQ(base & APIC_BASE_ADDR_MASK, APIC_DEFAULT_BASE);
	CHECK(base & APIC_BASE_ENABLE);
	CHECK(base & APIC_BASE_BSP);    /* each VM's only vCPU boots it */
	CHECK(!(base & APIC_BASE_EXTD)); /* xAPIC, as the contract says */
}

static void test_apic_id(void)
{
	u32 id = apic_read(APIC_ID);
	u32 initial = cpuid(1, 0).ebx >> APIC_ID_SHIFT;

	printf("  APIC ID %u, CPUID initial APIC ID %u\n",
	       id >> APIC_ID_SHIFT, initial);
	/* xAPIC: the ID is bits 31:24, the rest reserved (reads 0). */
	CHECK_EQ(id & ((1u << APIC_ID_SHIFT) - 1), 0);
	CHECK_EQ(apic_read(APIC_ID), id);
}

static void test_apic_version(void)
{
	u32 v = apic_read(APIC_VERSION);
	u32 version = v & APIC_VERSION_MASK;
	u32 maxlvt = (v >> APIC_MAXLVT_SHIFT) & APIC_MAXLVT_MASK;

	printf("  APIC version 0x%x, max LVT %u\n", version, maxlvt);
	/* SDM "Local APIC Version Register": 0x10-0x15 is an integrated
	 * APIC. Max LVT Entry is entries - 1, and every integrated APIC has at
	 * least timer, LINT0, LINT1 and error (3); CMCI makes 7 entries (6). */
	CHECK(version >= 0x10 && version <= 0x15);
	CHECK(maxlvt >= 3 && maxlvt <= 6);
}

static void test_apic_spiv(void)
{
	u32 old = apic_read(APIC_SPIV);

	/* Vectors ending in 0xf: P6-era APICs hardwire SPIV bits 3:0 to 1. */
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	CHECK_EQ(apic_read(APIC_SPIV), APIC_SPIV_ENABLE | 0xff);
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0x3f);
	CHECK_EQ(apic_read(APIC_SPIV), APIC_SPIV_ENABLE | 0x3f);
	apic_write(APIC_SPIV, old);
	CHECK_EQ(apic_read(APIC_SPIV), old);
}

static void test_apic_tpr_eoi(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	apic_write(APIC_TPR, 0x20);
	CHECK_EQ(apic_read(APIC_TPR), 0x20);
	apic_write(APIC_TPR, 0xf0);
	CHECK_EQ(apic_read(APIC_TPR), 0xf0);
	/* EOI with nothing in service: accepted, and changes nothing else. */
	apic_write(APIC_EOI, 0);
	CHECK_EQ(apic_read(APIC_TPR), 0xf0);
	CHECK_EQ(apic_read(APIC_SPIV), APIC_SPIV_ENABLE | 0xff);
	apic_write(APIC_TPR, 0);
	CHECK_EQ(apic_read(APIC_TPR), 0);
}

static void test_apic_init_ipi(void)
{
	/* SDM "Interrupt Command Register (ICR)": INIT, level assert, to all
	 * excluding self. CONTRACTS.md 2: it never reaches a real CPU, and
	 * this (only) vCPU carries on. */
	CHECK(apic_icr_send(0, APIC_ICR_ALL_BUT_SELF | APIC_ICR_LEVEL_ASSERT |
			       APIC_ICR_DM_INIT));
	CHECK_EQ(apic_read(APIC_ICR_LOW) & ~APIC_ICR_BUSY,
		 APIC_ICR_ALL_BUT_SELF | APIC_ICR_LEVEL_ASSERT | APIC_ICR_DM_INIT);
	printf("  still running after INIT to all excluding self\n");
}

/* SDM "Enabling or Disabling the Local APIC": clearing IA32_APIC_BASE[11]
 * may return the APIC to its "Local APIC State After Power-Up or Reset":
 * SPIV 0xff, TPR 0, the ID and version kept. CONTRACTS.md 2 makes that a
 * promise. QEMU TCG cannot re-enable a disabled APIC at all. */
static void test_apic_reenable_resets(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	u32 id = apic_read(APIC_ID), version = apic_read(APIC_VERSION);

	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0x3f);
	apic_write(APIC_TPR, 0x30);
	wrmsr(MSR_IA32_APIC_BASE, base & ~APIC_BASE_ENABLE);
	CHECK_EQ(rdmsr(MSR_IA32_APIC_BASE), base & ~APIC_BASE_ENABLE);
	wrmsr(MSR_IA32_APIC_BASE, base);
	CHECK_EQ(rdmsr(MSR_IA32_APIC_BASE), base);
	CHECK_EQ(apic_read(APIC_SPIV), APIC_SPIV_RESET);
	CHECK_EQ(apic_read(APIC_TPR), 0);
	CHECK_EQ(apic_read(APIC_ID), id);
	CHECK_EQ(apic_read(APIC_VERSION), version);
	/* And it works again. */
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	CHECK_EQ(apic_read(APIC_SPIV), APIC_SPIV_ENABLE | 0xff);
}

/* ------------------------------------------------------------------------ */
/* MSRs */

static void test_msr_efer(void)
{
	u64 efer;

	CHECK_EQ(rdmsr_safe(MSR_EFER, &efer), GUEST_NO_FAULT);
	/* Writing back what we read is always allowed. */
	CHECK_EQ(wrmsr_safe(MSR_EFER, efer), GUEST_NO_FAULT);
	CHECK_EQ(rdmsr(MSR_EFER), efer);
}

/* QEMU TCG returns 0 for an MSR it does not know, so this is doorbell's. */
static void test_msr_unknown_gp(void)
{
	u64 v = 0x1234;

	CHECK_EQ(rdmsr_safe(MSR_NONEXISTENT, &v), X86_VEC_GP);
	CHECK_EQ(guest_fault_error, 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(wrmsr_safe(MSR_NONEXISTENT, 0), X86_VEC_GP);
	CHECK_EQ(guest_fault_error, 0);
}

/* ------------------------------------------------------------------------ */
/* Exceptions: the guest's own faults reach the guest's own IDT, with the
 * error code, and IRET resumes it (what msr_unknown_gp relies on). */

/* A selector past the end of our GDT (entry 511; the GDT has 3 or 4). */
#define SELECTOR_BEYOND_GDT 0x0ff8

static void test_exception_ud(void)
{
	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile(GUEST_FIXUP("ud2") : : : "memory");
	CHECK_EQ(guest_fault_vector, X86_VEC_UD);
}

static void test_exception_gp_error_code(void)
{
	u16 sel = SELECTOR_BEYOND_GDT;

	/* SDM Vol. 2B, MOV, "Protected Mode Exceptions": #GP(selector) when
	 * the selector's index is outside the descriptor table limit. */
	guest_fault_vector = GUEST_NO_FAULT;
	guest_fault_error = 0;
	__asm__ volatile(GUEST_FIXUP("mov %0, %%fs") : : "r"(sel) : "memory");
	CHECK_EQ(guest_fault_vector, X86_VEC_GP);
	CHECK_EQ(guest_fault_error, SELECTOR_BEYOND_GDT);
}

/* ------------------------------------------------------------------------ */
/* String I/O: REP INS/OUTS go through the hypervisor's instruction decoding,
 * one element per iteration, and must leave RSI/RDI/RCX as the CPU would. */

static const char outs_line[] =
	"string-io: rep outsb reached the serial line\n";

static void test_string_outsb_serial(void)
{
	const char *src = outs_line;
	unsigned long count = sizeof(outs_line) - 1;

	/* The line must appear verbatim on the serial output; the boot test
	 * that runs us looks for it. */
	__asm__ volatile("rep outsb"
			 : "+S"(src), "+c"(count) : "d"((u16)(COM1 + UART_THR))
			 : "memory");
	CHECK_EQ(count, 0);
	CHECK(src == outs_line + sizeof(outs_line) - 1);
}

static void test_string_outs_latch(void)
{
	static const u8 bytes[] = { 0x11, 0x22, 0x33 };
	static const u16 words[] = { 0x4455, 0x6677 };
	const void *src = bytes;
	unsigned long count = ARRAY_SIZE(bytes);

	outl(0, TESTDEV_LATCH);
	__asm__ volatile("rep outsb"
			 : "+S"(src), "+c"(count) : "d"((u16)TESTDEV_LATCH)
			 : "memory");
	CHECK_EQ(count, 0);
	CHECK(src == bytes + ARRAY_SIZE(bytes));
	CHECK_EQ(inl(TESTDEV_LATCH), 0x33);     /* the last byte stays */

	src = words;
	count = ARRAY_SIZE(words);
	__asm__ volatile("rep outsw"
			 : "+S"(src), "+c"(count) : "d"((u16)(TESTDEV_LATCH + 2))
			 : "memory");
	CHECK_EQ(count, 0);
	CHECK_EQ(inl(TESTDEV_LATCH), 0x66770033);
}

static void test_string_ins_latch(void)
{
	u8 b[4] = { 0 };
	u16 w[3] = { 0 };
	u32 d[2] = { 0 };
	void *dst;
	unsigned long count;

	outl(0x44434241, TESTDEV_LATCH);

	dst = b;
	count = ARRAY_SIZE(b);
	__asm__ volatile("rep insb"
			 : "+D"(dst), "+c"(count) : "d"((u16)(TESTDEV_LATCH + 1))
			 : "memory");
	CHECK_EQ(count, 0);
	CHECK(dst == b + ARRAY_SIZE(b));
	CHECK(b[0] == 0x42 && b[1] == 0x42 && b[2] == 0x42 && b[3] == 0x42);

	dst = w;
	count = ARRAY_SIZE(w);
	__asm__ volatile("rep insw"
			 : "+D"(dst), "+c"(count) : "d"((u16)TESTDEV_LATCH)
			 : "memory");
	CHECK_EQ(count, 0);
	CHECK(w[0] == 0x4241 && w[1] == 0x4241 && w[2] == 0x4241);

	dst = d;
	count = ARRAY_SIZE(d);
	__asm__ volatile("rep insl"
			 : "+D"(dst), "+c"(count) : "d"((u16)TESTDEV_LATCH)
			 : "memory");
	CHECK_EQ(count, 0);
	CHECK(d[0] == 0x44434241 && d[1] == 0x44434241);

	/* EFLAGS.DF = 1: the destination walks down (SDM Vol. 2B, INS). */
	memset(w, 0, sizeof(w));
	outl(0x0000beef, TESTDEV_LATCH);
	dst = &w[2];
	count = 2;
	__asm__ volatile("std; rep insw; cld"
			 : "+D"(dst), "+c"(count) : "d"((u16)TESTDEV_LATCH)
			 : "memory", "cc");
	CHECK_EQ(count, 0);
	CHECK(dst == &w[0]);
	CHECK(w[0] == 0 && w[1] == 0xbeef && w[2] == 0xbeef);
	outl(0, TESTDEV_LATCH);
}

/* ------------------------------------------------------------------------ */

static const struct guest_test tests[] = {
	{ "multiboot_magic",            test_multiboot_magic,           0 },
	{ "multiboot_flags",            test_multiboot_flags,           0 },
	{ "multiboot_mem",              test_multiboot_mem,
	  GUEST_TEST_NEEDS_DOORBELL },
	{ "multiboot_mmap_sane",        test_multiboot_mmap_sane,       0 },
	{ "multiboot_mmap_covers_ram",  test_multiboot_mmap_covers_ram,
	  GUEST_TEST_NEEDS_DOORBELL },
	{ "cpu_mode",                   test_cpu_mode,                  0 },
	{ "cpuid_hypervisor_bit",       test_cpuid_hypervisor_bit,      0 },
	{ "cpuid_no_vmx",               test_cpuid_no_vmx,              0 },
	{ "cpuid_signature",            test_cpuid_signature,
	  GUEST_TEST_NEEDS_DOORBELL },
	{ "serial_lsr",                 test_serial_lsr,                0 },
	{ "testdev_latch",              test_testdev_latch,             0 },
	{ "testdev_ioram",              test_testdev_ioram,             0 },
	{ "unassigned_ports",           test_unassigned_ports,          0 },
	{ "unassigned_ports_doorbell",  test_unassigned_ports_doorbell,
	  GUEST_TEST_NEEDS_DOORBELL },
	{ "unassigned_mmio",            test_unassigned_mmio,
	  GUEST_TEST_NEEDS_DOORBELL },
	{ "pic_mask",                   test_pic_mask,                  0 },
	{ "apic_base_msr",              test_apic_base_msr,             0 },
	{ "apic_id",                    test_apic_id,                   0 },
	{ "apic_version",               test_apic_version,              0 },
	{ "apic_spiv",                  test_apic_spiv,                 0 },
	{ "apic_tpr_eoi",               test_apic_tpr_eoi,              0 },
	{ "apic_init_ipi",              test_apic_init_ipi,             0 },
	{ "msr_efer",                   test_msr_efer,                  0 },
	{ "msr_unknown_gp",             test_msr_unknown_gp,
	  GUEST_TEST_NEEDS_DOORBELL },
	{ "exception_ud",               test_exception_ud,              0 },
	{ "exception_gp_error_code",    test_exception_gp_error_code,   0 },
	{ "string_outsb_serial",        test_string_outsb_serial,       0 },
	{ "string_outs_latch",          test_string_outs_latch,         0 },
	{ "string_ins_latch",           test_string_ins_latch,          0 },
	/* Last: on a platform that gets it wrong the APIC may stay off. */
	{ "apic_reenable_resets",       test_apic_reenable_resets,
	  GUEST_TEST_NEEDS_DOORBELL },
};

int guest_main(u32 magic, struct multiboot_info *info)
{
	u64 mem_mib = DEFAULT_RAM_MIB;

	mbi = info;
	mb_magic = magic;
	mb_cmdline_value(mbi, "mem", &mem_mib);
	ram_size = mem_mib * MiB;
	printf("platform%d: %llu MiB of guest RAM expected, cmdline \"%s\"\n",
	       (int)(sizeof(long) * 8), (unsigned long long)mem_mib,
	       mb_cmdline(mbi));
	guest_run_tests(tests, ARRAY_SIZE(tests));
}
