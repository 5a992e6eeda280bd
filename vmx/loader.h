/*
 * vmx/loader.h - loads a Multiboot (version 1) guest kernel into guest RAM and
 * builds its boot information block, exactly as a Multiboot boot loader would
 * (CONTRACTS.md 2, "Loading").
 *
 * Implements the Multiboot Specification 0.6.96: "Header magic fields", "The
 * address fields of Multiboot header", "Machine state" and "Boot information
 * format". The kernel is an ELF32 (EM_386) or ELF64 (EM_X86_64) executable,
 * or any image whose header carries the address fields (flags bit 16, the
 * "a.out kludge"); the address fields win when both are present, as the spec
 * says.
 *
 * Pure: guest RAM is a host buffer standing for guest-physical [0, ram_size),
 * and no hardware is touched, so the module is unit-tested and fuzzed on the
 * host (tests/host/test_loader.c).
 *
 * Guest-physical layout after a successful load:
 *   [MB1_INFO_BASE, MB1_INFO_LIMIT)  the information block, its memory map,
 *                                    module list and strings (zeroed first);
 *   the kernel's segments            where its ELF program headers or address
 *                                    fields say (never in the area above, nor
 *                                    in the BIOS area with the ACPI tables);
 *   the modules                      page-aligned, from the first page at or
 *                                    above max(kernel end, 1 MiB), in order.
 * Nothing else in guest RAM is written: the caller hands in zeroed RAM.
 */
#ifndef VMX_LOADER_H
#define VMX_LOADER_H

#include "lib/lib.h"

/* Multiboot spec, "Machine state": EAX holds this when the kernel starts. */
#define MB1_BOOTLOADER_MAGIC   0x2badb002u

/*
 * Where the information block and everything it points to live: the top
 * 32 KiB of conventional memory, just below 640 KiB (where a PC's EBDA
 * would start), out of the way of kernels linked low (kvm-unit-tests'
 * realmode.flat runs at 0x8000 and uses 0x1000 and the real-mode IVT) and of
 * those linked at 1 MiB. It stays in memory the map reports available, as
 * with GRUB: the kernel owns it once it has read what it needs.
 */
#define MB1_INFO_BASE          0x98000u
#define MB1_INFO_LIMIT         0xa0000u

/* The system BIOS area: the guest's ACPI tables are there (platform/, RSDP
 * found by the scan of 0xe0000-0xfffff) and the memory map reports it
 * reserved, so no kernel segment may be loaded there. */
#define MB1_BIOS_AREA_BASE     0xe0000u
#define MB1_BIOS_AREA_END      0x100000u

/* Modules are never put below this (the legacy PC hole 0xa0000-0xfffff and
 * the low area stay free), nor below the kernel's end. */
#define MB1_MODULES_MIN        0x100000u

/* One module to hand to the guest (it appears in the info block's mods list). */
struct mb1_module {
	const u8 *data;		/* host copy of the module's bytes */
	size_t len;
	const char *string;	/* NUL-terminated; NULL is passed on as "" */
};

struct mb1_load_args {
	const char *cmdline;		/* the guest's command line; NULL = "" */
	const struct mb1_module *modules;
	u32 module_count;
};

struct mb1_load_result {
	u32 entry;		/* guest-physical entry point: EIP at start */
	u32 info_addr;		/* guest-physical info block: EBX at start */
	u64 kernel_start;	/* lowest guest-physical byte of the kernel */
	u64 kernel_end;		/* one past its highest byte, bss included */
	u64 top;		/* one past the highest guest-physical byte used
				 * by the kernel or a module */
	char error[128];	/* why mb1_load refused, starting "guest: " */
};

/*
 * Loads the Multiboot v1 kernel image[0, image_len) into ram, which stands
 * for guest-physical [0, ram_size), and builds the information block with
 * mem_lower/mem_upper (flags bit 0), cmdline (bit 2), mods (bit 3, also when
 * there are none), mmap (bit 6) and boot_loader_name (bit 9).
 *
 * On success returns 0 and fills res (the guest then starts in 32-bit
 * protected mode, paging off, EAX = MB1_BOOTLOADER_MAGIC, EBX =
 * res->info_addr, EIP = res->entry). On failure ram is left exactly as it
 * was and res->error says what is wrong:
 *   -EINVAL  the image is not a kernel we may load: no header in the first
 *            8192 bytes, bad checksum, a required flag we cannot honour (video
 *            mode, unknown bits 3-15), inconsistent address fields, a bad ELF
 *            header or program header, a segment past the end of the file, an
 *            entry point outside the kernel or above 4 GiB; or ram_size is not
 *            above 1 MiB;
 *   -ERANGE  a kernel segment lies outside guest RAM, wraps, or overlaps
 *            [MB1_INFO_BASE, MB1_INFO_LIMIT) or [MB1_BIOS_AREA_BASE,
 *            MB1_BIOS_AREA_END);
 *   -E2BIG   the modules do not fit in guest RAM below 4 GiB, or the info
 *            block with its strings does not fit in its area.
 * The caller must make sure image, ram and the modules' data do not overlap.
 */
int mb1_load(const u8 *image, size_t image_len, u8 *ram, u64 ram_size,
	     const struct mb1_load_args *args, struct mb1_load_result *res);

#endif /* VMX_LOADER_H */
