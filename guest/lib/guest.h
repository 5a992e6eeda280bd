/*
 * guest/lib/guest.h - the guest library: what a test guest of doorbell needs
 * to run as a Multiboot (v1) kernel and report over the platform of
 * CONTRACTS.md section 2: fixed-width types, the multiboot information block,
 * port and MSR access, CPUID, COM1 output with a small printf, exit through
 * port 0xF4, VMCALL hypercalls (CONTRACTS.md section 3), exception catching,
 * and a mini test framework that prints "ok NAME" / "FAIL NAME: detail".
 *
 * The same C sources build for 32-bit guests (-m32, entry32.asm: protected
 * mode, paging off) and for 64-bit guests (-m64, entry64.asm: long mode with
 * the first 4 GiB identity-mapped). Both start in guest_start(), which sets up
 * the exception table and calls the guest's own
 *     int guest_main(u32 magic, struct multiboot_info *mbi);
 * whose return value becomes the exit code. This header never includes the
 * hypervisor's lib/: a guest is a separate program.
 */
#ifndef GUEST_LIB_GUEST_H
#define GUEST_LIB_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t  u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t   s8;
typedef int16_t  s16;
typedef int32_t  s32;
typedef int64_t  s64;

#define ARRAY_SIZE(a)   (sizeof(a) / sizeof((a)[0]))
#define BIT(n)          (1ull << (n))
#define KiB             (1024ull)
#define MiB             (1024ull * KiB)

#define __packed        __attribute__((packed))
#define __noreturn      __attribute__((noreturn))
#define __printf(a, b)  __attribute__((format(printf, a, b)))

/* ------------------------------------------------------------------------ */
/* Multiboot v1 (Multiboot Specification 0.6.96, "Boot information format") */

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002   /* EAX at entry */

#define MB_INFO_MEMORY      BIT(0)      /* mem_lower, mem_upper valid */
#define MB_INFO_BOOTDEV     BIT(1)      /* boot_device valid */
#define MB_INFO_CMDLINE     BIT(2)      /* cmdline valid */
#define MB_INFO_MODS        BIT(3)      /* mods_count, mods_addr valid */
#define MB_INFO_MEM_MAP     BIT(6)      /* mmap_length, mmap_addr valid */

#define MB_MEMORY_AVAILABLE 1           /* mmap entry type: usable RAM */

struct multiboot_info {
	u32 flags;
	u32 mem_lower;          /* KiB of RAM from 0 */
	u32 mem_upper;          /* KiB of RAM from 1 MiB */
	u32 boot_device;
	u32 cmdline;            /* physical address of a NUL-terminated string */
	u32 mods_count;
	u32 mods_addr;          /* physical address of struct multiboot_module[] */
	u32 syms[4];
	u32 mmap_length;        /* bytes of mmap entries */
	u32 mmap_addr;
	u32 drives_length;
	u32 drives_addr;
	u32 config_table;
	u32 boot_loader_name;
};
_Static_assert(offsetof(struct multiboot_info, cmdline) == 16, "mbi layout");
_Static_assert(offsetof(struct multiboot_info, mmap_length) == 44,
	       "mbi layout");
_Static_assert(sizeof(struct multiboot_info) == 68, "mbi layout");

struct multiboot_module {
	u32 mod_start;
	u32 mod_end;            /* first byte past the module */
	u32 string;             /* physical address of its string, or 0 */
	u32 reserved;
};
_Static_assert(sizeof(struct multiboot_module) == 16, "module layout");

/* One mmap entry. `size` counts the bytes after itself, so the next entry
 * starts size + 4 bytes further on. */
struct multiboot_mmap_entry {
	u32 size;
	u64 addr;
	u64 len;
	u32 type;
} __packed;
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "mmap layout");

/* The command line, or "" when the loader gave none. */
const char *mb_cmdline(const struct multiboot_info *mbi);
/* Looks for a `key=N` word on the command line (N decimal, or hex with 0x).
 * Returns true and stores N; false when the word is absent or N malformed. */
bool mb_cmdline_value(const struct multiboot_info *mbi, const char *key,
		      u64 *val);
/* Module i (i < mods_count), or NULL when the loader passed none. */
const struct multiboot_module *mb_module(const struct multiboot_info *mbi,
					 u32 i);
/* The mmap entry after prev (the first one when prev is NULL), or NULL at the
 * end or when the loader passed no mmap. */
const struct multiboot_mmap_entry *
mb_mmap_next(const struct multiboot_info *mbi,
	     const struct multiboot_mmap_entry *prev);

/* ------------------------------------------------------------------------ */
/* The platform (CONTRACTS.md section 2) */

#define COM1                0x3f8
#define UART_THR            0           /* transmit holding register */
#define UART_LSR            5           /* line status register */
#define UART_LSR_THRE       BIT(5)      /* THR empty: may write a byte */

#define EXIT_PORT           0xf4        /* outl(code) ends the run */
#define GUEST_EXIT_PASS     0
#define GUEST_EXIT_FAIL     1
#define GUEST_EXIT_EXCEPTION 3          /* an exception nobody expected */

#define TESTDEV_LATCH       0xe0        /* pc-testdev 32-bit latch, 0xe0-0xe3 */
#define TESTDEV_IORAM       0xff000000u /* pc-testdev IORAM, 64 KiB */
#define TESTDEV_IORAM_SIZE  0x10000u

#define PIC1_DATA           0x21        /* 8259A master: IMR (OCW1) */
#define PIC2_DATA           0xa1        /* 8259A slave: IMR (OCW1) */

/* SDM Vol. 3A, "Local APIC Register Address Map" (xAPIC, memory-mapped) */
#define APIC_DEFAULT_BASE   0xfee00000u
#define APIC_ID             0x020
#define APIC_VERSION        0x030
#define APIC_TPR            0x080       /* task priority */
#define APIC_EOI            0x0b0
#define APIC_SPIV           0x0f0       /* spurious-interrupt vector */
#define APIC_ICR_LOW        0x300
#define APIC_ICR_HIGH       0x310

#define APIC_ID_SHIFT       24          /* xAPIC ID: bits 31:24 */
#define APIC_VERSION_MASK   0xffu
#define APIC_MAXLVT_SHIFT   16          /* Max LVT Entry: bits 23:16 */
#define APIC_MAXLVT_MASK    0xffu
#define APIC_SPIV_ENABLE    BIT(8)      /* APIC software enable */
/* SPIV in the "Local APIC State After Power-Up or Reset" */
#define APIC_SPIV_RESET     0xffu

/* SDM Vol. 3A, "Interrupt Command Register (ICR)" */
#define APIC_ICR_DM_INIT        (5u << 8)
#define APIC_ICR_DM_STARTUP     (6u << 8)
#define APIC_ICR_BUSY           BIT(12) /* delivery status: send pending */
#define APIC_ICR_LEVEL_ASSERT   BIT(14)
#define APIC_ICR_TRIGGER_LEVEL  BIT(15)
#define APIC_ICR_ALL_BUT_SELF   (3u << 18) /* destination shorthand */

/* SDM Vol. 3A, "Control Registers" */
#define CR0_PE                  BIT(0)  /* protection enable */
#define CR0_PG                  BIT(31) /* paging */

/* SDM Vol. 4, "Architectural MSRs" */
#define MSR_IA32_APIC_BASE      0x1b
#define APIC_BASE_BSP           BIT(8)  /* this is the bootstrap processor */
#define APIC_BASE_ENABLE        BIT(11) /* APIC global enable */
#define APIC_BASE_ADDR_MASK     0xfffff000ull
#define MSR_EFER                0xc0000080
#define EFER_LME                BIT(8)  /* IA-32e mode enable */
#define EFER_LMA                BIT(10) /* IA-32e mode active */

/* SDM Vol. 2A, CPUID, "Feature Information Returned in the ECX Register";
 * leaf 0x40000000 is the range reserved for hypervisors. */
#define CPUID_1_ECX_VMX         BIT(5)
#define CPUID_1_ECX_HYPERVISOR  BIT(31)
#define CPUID_HV_LEAF           0x40000000u
#define DOORBELL_SIGNATURE      "DoorbellHV\0\0"  /* EBX, ECX, EDX */

/* SDM Vol. 3A, "Exception and Interrupt Vectors" */
#define X86_VEC_DE  0
#define X86_VEC_UD  6
#define X86_VEC_DF  8
#define X86_VEC_GP  13
#define X86_VEC_PF  14

/* EFLAGS status flags (SDM Vol. 1, "EFLAGS Register"): CF PF AF ZF SF OF */
#define X86_FLAGS_STATUS        0x8d5u
#define X86_FLAGS_FIXED         BIT(1)  /* reserved, always reads 1 */

/* ------------------------------------------------------------------------ */
/* Hypercalls (CONTRACTS.md section 3) */

#define HC_IOEVENTFD    1
#define HC_EVENT_READ   2
#define HC_NOTIFY       3

/* Linux errno numbers, which hypercalls return negated */
#define EPERM       1
#define ENOENT      2
#define EBADF       9
#define EFAULT     14
#define EEXIST     17
#define EINVAL     22
#define ENOSPC     28
#define ENOSYS     38
#define ETIMEDOUT 110

#define DOORBELL_IOEVENTFD_DATAMATCH BIT(0)
#define DOORBELL_IOEVENTFD_PIO       BIT(1)
#define DOORBELL_IOEVENTFD_DEASSIGN  BIT(2)

/* Linux's struct kvm_ioeventfd with the eventfd replaced by an event id. */
struct doorbell_ioeventfd {
	u64 datamatch;
	u64 addr;
	u32 len;
	s32 event;
	u32 flags;
	u8  pad[36];
};
_Static_assert(sizeof(struct doorbell_ioeventfd) == 64, "ioeventfd ABI");

/* VMCALL with RAX = nr and the arguments in RBX, RCX, RDX, RSI (32-bit:
 * EAX, EBX, ...); returns RAX. Only under doorbell: elsewhere VMCALL raises
 * #UD, which ends the guest (see guest_exception()). */
long hypercall(unsigned long nr, unsigned long a0, unsigned long a1,
	       unsigned long a2, unsigned long a3);

/* The same with one argument, inline: for loops that time the exit itself. */
static inline long hypercall1(unsigned long nr, unsigned long a0)
{
	long ret;
	__asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(a0) : "memory");
	return ret;
}

/* Every general register around one VMCALL (see guest_vmcall_regs()). The
 * offsets are fixed: stubs32.asm and stubs64.asm use them. */
struct guest_regs {
	unsigned long ax, bx, cx, dx, si, di, bp;
	unsigned long flags;        /* in: status flags only; out: all */
	unsigned long sp_before;    /* out: RSP just before the VMCALL */
	unsigned long sp_after;     /* out: RSP just after it */
#ifdef __x86_64__
	unsigned long r8, r9, r10, r11, r12, r13, r14, r15;
#endif
};
#define GUEST_REGS_W sizeof(unsigned long)
_Static_assert(offsetof(struct guest_regs, bp) == 6 * GUEST_REGS_W, "asm");
_Static_assert(offsetof(struct guest_regs, flags) == 7 * GUEST_REGS_W, "asm");
_Static_assert(offsetof(struct guest_regs, sp_after) == 9 * GUEST_REGS_W, "asm");
#ifdef __x86_64__
_Static_assert(offsetof(struct guest_regs, r8) == 10 * GUEST_REGS_W, "asm");
_Static_assert(offsetof(struct guest_regs, r15) == 17 * GUEST_REGS_W, "asm");
#endif

/* Loads every general register and the status flags from *r, executes one
 * VMCALL, and stores every register and the flags back into *r. A fault on
 * the VMCALL (#UD without a hypervisor) is caught: the registers are stored
 * as the exception left them and guest_fault_vector says which it was. */
void guest_vmcall_regs(struct guest_regs *r);

/* True when CPUID says we run under doorbell: the hypervisor bit is set and
 * leaf 0x40000000 starts with "DoorbellHV". Tests that need the hypervisor
 * check this and report SKIP on bare QEMU. */
bool guest_under_doorbell(void);

/* ------------------------------------------------------------------------ */
/* Instructions */

static inline void outb(u8 v, u16 port)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(u16 v, u16 port)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(u32 v, u16 port)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u16 inw(u16 port)
{
	u16 v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u32 inl(u16 port)
{
	u32 v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr"
			 : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
			 : "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* Guest-physical memory and MMIO: identity-mapped in both variants. */
static inline u32 mmio_read32(uintptr_t addr)
{
	return *(volatile u32 *)addr;
}
static inline void mmio_write32(uintptr_t addr, u32 v)
{
	*(volatile u32 *)addr = v;
}
static inline u16 mmio_read16(uintptr_t addr)
{
	return *(volatile u16 *)addr;
}
static inline void mmio_write16(uintptr_t addr, u16 v)
{
	*(volatile u16 *)addr = v;
}
static inline u8 mmio_read8(uintptr_t addr)
{
	return *(volatile u8 *)addr;
}
static inline void mmio_write8(uintptr_t addr, u8 v)
{
	*(volatile u8 *)addr = v;
}

static inline u32 apic_read(u32 reg)
{
	return mmio_read32(APIC_DEFAULT_BASE + reg);
}
static inline void apic_write(u32 reg, u32 v)
{
	mmio_write32(APIC_DEFAULT_BASE + reg, v);
}

/* Sends an IPI: ICR high (destination) then low (which sends), and waits
 * for the delivery status to go idle. Returns false if it never does. */
bool apic_icr_send(u32 high, u32 low);

/* ------------------------------------------------------------------------ */
/* Exceptions. guest_start() installs a handler for vectors 0-31 before
 * guest_main runs. An instruction wrapped in GUEST_FIXUP() may fault: the
 * handler records the vector and error code in guest_fault_vector and
 * guest_fault_error and resumes after the instruction. Any other exception
 * prints vector, error code and instruction pointer and exits with
 * GUEST_EXIT_EXCEPTION. */

#define GUEST_NO_FAULT  (-1)

extern volatile int guest_fault_vector;         /* GUEST_NO_FAULT or vector */
extern volatile unsigned long guest_fault_error;

#ifdef __x86_64__
#define GUEST_FIXUP_PTR ".quad"
#define GUEST_FIXUP_ALIGN "8"
#else
#define GUEST_FIXUP_PTR ".long"
#define GUEST_FIXUP_ALIGN "4"
#endif

/* insn becomes "1: insn; 2:" plus a table entry {1b, 2b} that tells the
 * handler where to resume if insn faults. */
#define GUEST_FIXUP(insn)                                                  \
	"1: " insn "\n2:\n"                                                \
	".pushsection .guest_fixup, \"a\"\n"                               \
	".balign " GUEST_FIXUP_ALIGN "\n"                                  \
	GUEST_FIXUP_PTR " 1b, 2b\n"                                        \
	".popsection\n"

/* One entry of the table GUEST_FIXUP() builds (and stubs*.asm add to). */
struct guest_fixup {
	uintptr_t insn;         /* address of the instruction that may fault */
	uintptr_t resume;       /* where to continue if it does */
};

/* The exception frame the stubs in stubs32.asm / stubs64.asm build: the
 * general registers (PUSHA order, r8-r15 below them in 64-bit mode), the
 * vector, the error code (0 when the CPU pushes none), then what the CPU
 * pushed. Changing ip and returning resumes there. */
struct guest_frame {
#ifdef __x86_64__
	unsigned long r15, r14, r13, r12, r11, r10, r9, r8;
#endif
	unsigned long di, si, bp, sp_unused, bx, dx, cx, ax;
	unsigned long vector, error;
	unsigned long ip, cs, flags;
};

/* Called by the stubs with interrupts off; returns to resume *f. */
void guest_exception(struct guest_frame *f);
/* Loads the IDT with gates for vectors 0-31. guest_start() calls it. */
void guest_idt_init(void);

/* RDMSR / WRMSR that may fault. Return GUEST_NO_FAULT, or the vector raised
 * (then *val is 0 and the MSR unchanged). */
static inline int rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;

	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile(GUEST_FIXUP("rdmsr")
			 : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*val = ((u64)hi << 32) | lo;
	return guest_fault_vector;
}

static inline int wrmsr_safe(u32 msr, u64 v)
{
	guest_fault_vector = GUEST_NO_FAULT;
	__asm__ volatile(GUEST_FIXUP("wrmsr")
			 : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
			 : "memory");
	return guest_fault_vector;
}

/* ------------------------------------------------------------------------ */
/* Output, exit, strings */

/* Writes one byte to COM1, after waiting (bounded) for THR empty. */
void serial_putc(char c);
/* printf to COM1: %d %i %u %x %X %p %s %c %%, flags '-' '0', a width, and
 * the length modifiers hh h l ll z. Returns the number of bytes written. */
int printf(const char *fmt, ...) __printf(1, 2);
int vprintf(const char *fmt, va_list ap);

/* outl(code, EXIT_PORT), then halts forever (when no device ends the run). */
__noreturn void guest_exit(u32 code);

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Defined by every guest. Its return value is the exit code. */
int guest_main(u32 magic, struct multiboot_info *mbi);
/* Called by entry32.asm / entry64.asm with the loader's EAX and EBX. */
__noreturn void guest_start(u32 magic, struct multiboot_info *mbi);

/* ------------------------------------------------------------------------ */
/* Test framework. A guest lists its tests in a table and hands it to
 * guest_run_tests(); each test is a function that uses CHECK()/CHECK_EQ().
 * A test prints "ok NAME", or one "FAIL NAME: detail" line per failed check,
 * or "SKIP NAME: why". The run ends with "guest: N skipped" and, last,
 * "guest: N passed, N failed", then exits 0 if none failed, else 1. */

typedef void guest_test_fn(void);

#define GUEST_TEST_NEEDS_DOORBELL BIT(0) /* skipped when not under doorbell */

struct guest_test {
	const char *name;
	guest_test_fn *fn;
	unsigned int flags;
};

__noreturn void guest_run_tests(const struct guest_test *tests, size_t n);
/* Marks the running test failed and prints "FAIL NAME: <detail> (line N)". */
void guest_check_failed(int line, const char *fmt, ...) __printf(2, 3);
/* Marks the running test skipped unless a check already failed; the test
 * should return right after. */
void guest_skip(const char *why);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			guest_check_failed(__LINE__, "%s", #cond);         \
	} while (0)

#define CHECK_EQ(a, b)                                                     \
	do {                                                               \
		unsigned long long a_ = (unsigned long long)(a);           \
		unsigned long long b_ = (unsigned long long)(b);           \
		if (a_ != b_)                                              \
			guest_check_failed(__LINE__,                       \
				"%s == %s: 0x%llx (%lld) != 0x%llx (%lld)", \
				#a, #b, a_, (long long)a_, b_, (long long)b_); \
	} while (0)

#endif /* GUEST_LIB_GUEST_H */
