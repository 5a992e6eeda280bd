/*
 * boot/boot.h - the kernel proper below the VMX layer: entry, per-CPU state,
 * interrupts, multiboot2 parsing, the command line, physical memory and SMP
 * bring-up. Events and the service core are service/'s (service/service.h).
 *
 * The parsers and the page-range allocator are pure (no hardware access): they
 * compile for the host and are unit-tested there (tests/host/test_mb2.c,
 * test_cmdline.c, test_pmm.c).
 */
#ifndef BOOT_BOOT_H
#define BOOT_BOOT_H

#include "lib/lib.h"

/* ---- multiboot2 information (boot/multiboot2.c, pure) ------------------- */
#define MULTIBOOT2_BOOTLOADER_MAGIC  0x36d76289
#define MB2_MAX_INFO_SIZE   (1u << 20)  /* we refuse a larger structure */
#define MB2_MAX_MMAP        128
#define MB2_MAX_MODULES     16

/* Multiboot2 spec, "Memory map": entry types. */
#define MB2_MEMORY_AVAILABLE         1
#define MB2_MEMORY_RESERVED          2
#define MB2_MEMORY_ACPI_RECLAIMABLE  3
#define MB2_MEMORY_NVS               4
#define MB2_MEMORY_BADRAM            5

struct mb2_mmap_entry {
	u64 base;
	u64 len;
	u32 type;
};

struct mb2_module {
	u64 start;		/* physical, [start, end) */
	u64 end;
	const char *string;	/* points into the MBI; NUL-terminated */
};

struct mb2_info {
	const char *cmdline;	/* "" when there is no command-line tag */
	struct mb2_mmap_entry mmap[MB2_MAX_MMAP];
	u32 mmap_count;
	struct mb2_module modules[MB2_MAX_MODULES];
	u32 module_count;
	const void *rsdp;	/* copy of the ACPI RSDP inside the MBI, or NULL */
	u32 rsdp_len;		/* bytes available at rsdp */
	u32 total_size;		/* the structure's size: [mbi, mbi + total_size) */
	char error[128];	/* why mb2_parse refused, for the boot log */
};

/* Validates and parses the multiboot2 information structure at mbi, of which
 * at most avail bytes may be read. Returns 0, or -EINVAL with info->error
 * naming what was wrong (wrong magic, misaligned or truncated structure, a
 * tag whose size runs past the end, no end tag, a bad memory-map entry size,
 * a module with end < start, an unterminated string, too many entries...). */
int mb2_parse(u32 magic, const void *mbi, size_t avail, struct mb2_info *info);

/* ---- command line (boot/cmdline.c, pure) -------------------------------- */
enum notify_mode { NOTIFY_IPI, NOTIFY_POLL };
enum lookup_mode { LOOKUP_BINARY, LOOKUP_LINEAR };
/* What an MMIO access the emulator cannot decode or execute does. */
enum emul_fail_mode { EMUL_FAIL_UD, EMUL_FAIL_STOP };
/* Where the fast-MMIO path gets an instruction's length (and direction). */
enum fastmmio_len_mode {
	FASTMMIO_LEN_DECODE,	/* decode the bytes at CS:RIP (default) */
	FASTMMIO_LEN_VMCS,	/* trust VM_EXIT_INSTRUCTION_LEN, as KVM does */
	FASTMMIO_LEN_CHECK,	/* decode, and count where the field disagrees */
};

#define CMDLINE_MAX_IOEVENTFD  16
/* A guest that runs this long without one VM exit is stopped and reported. */
#define CMDLINE_GUEST_TIMEOUT_DEFAULT_MS  10000
#define CMDLINE_NO_APIC        0xffffffffu

struct boot_config {
	u32 vcpus;			/* vcpus=N: guest cores (default 1) */
	enum notify_mode notify;	/* notify=ipi|poll (default ipi) */
	bool trace;			/* trace=0|1: print every VM exit */
	bool latency;			/* latency=0|1: sample signal -> handling */
	u64 guest_mem_mib;		/* guest_mem=MiB (default 64) */
	u64 doorbell_window_base;	/* doorbell_window=BASE:SIZE */
	u64 doorbell_window_size;	/*   (default 0xd0000000:256 MiB) */
	u64 guest_timeout_ms;		/* guest_timeout=ms, 0 = none (default 10 s) */
	enum lookup_mode lookup;	/* lookup=binary|linear (default binary) */
	enum fastmmio_len_mode fastmmio_len; /* fastmmio_len=decode|vmcs|check */
	char platform[16];		/* platform=NAME (tools/run; default hardware) */
	u32 extra_apic;			/* extra_apic=ID: also try to start this APIC
					 * ID (tests the no-answer path); none =
					 * CMDLINE_NO_APIC */
	enum emul_fail_mode emul_fail;	/* emul_fail=ud|stop: #UD to the guest, or
					 * stop the VM (default ud) */
	u32 ioeventfd_count;		/* ioeventfd=SPEC, repeatable; kept raw, */
	char ioeventfd[CMDLINE_MAX_IOEVENTFD][64]; /* parsed by iobus/ */
};

typedef void (*cmdline_warn_fn)(void *ctx, const char *msg);

/* Sets every field of cfg to its default. */
void cmdline_defaults(struct boot_config *cfg);

/* Parses space-separated key=value words into cfg (which holds the defaults).
 * An unknown key, or a known key with a bad value, is reported through warn
 * with a message naming it ("unknown key 'foo', ignored") and otherwise
 * ignored. Returns the number of words warned about. */
int cmdline_parse(const char *cmdline, struct boot_config *cfg,
		  cmdline_warn_fn warn, void *ctx);

/* Undoes the quoting a boot loader adds to a module's string, so the guest
 * gets the text it was given verbatim. GRUB (grub-core/lib/cmdline.c) joins a
 * command's arguments with one space, puts an argument that holds a space in
 * double quotes, and puts a backslash before every \, ' and ". Writes the
 * result into dst (size bytes, always NUL-terminated when size > 0) and
 * returns its length, which is never more than strlen(src). */
size_t cmdline_unquote_loader(char *dst, size_t size, const char *src);

/* ---- physical memory (boot/pmm.c, pure range allocator) ----------------- */
#define PMM_MAX_RANGES  256

struct pmm_range {
	u64 base;		/* [base, end), page-aligned */
	u64 end;
};

/* Free physical memory as a sorted list of disjoint, non-adjacent ranges. The
 * allocator never touches the memory it manages, so it runs on the host. */
struct pmm {
	struct pmm_range free[PMM_MAX_RANGES];
	u32 count;
};

void pmm_init(struct pmm *p);
/* Adds usable memory, shrunk inward to page boundaries. */
void pmm_add(struct pmm *p, u64 base, u64 end);
/* Removes [base, end), grown outward to page boundaries, from the free set
 * (whether or not all of it was free). */
void pmm_reserve(struct pmm *p, u64 base, u64 end);
/* Allocates size bytes (rounded up to pages) aligned to align (a power of two,
 * at least PAGE_SIZE), from the lowest fitting address. Returns the physical
 * base, or 0 when nothing fits (0 is never handed out). */
u64 pmm_alloc(struct pmm *p, u64 size, u64 align);
/* Returns [base, base + size) to the free set, merging neighbours. */
void pmm_free(struct pmm *p, u64 base, u64 size);
u64 pmm_free_bytes(const struct pmm *p);

/* ---- kernel services (not pure) ----------------------------------------- */
#define MAX_CPUS  16

extern struct boot_config boot_cfg;

/* Page allocator for the kernel: zeroed, page-aligned, identity-mapped memory
 * below 4 GiB. Returns NULL when memory is exhausted. Safe on any CPU. */
void *page_alloc(u64 npages);
void *page_alloc_aligned(u64 npages, u64 align);
void page_free(void *p, u64 npages);
/* Zeroed memory of any size (whole pages above 2 KiB); kfree takes the same
 * size back. NULL when memory is exhausted. Safe on any CPU. */
void *kmalloc(size_t size);
void kfree(void *p, size_t size);

#endif /* BOOT_BOOT_H */
