/*
 * vmx/loader.c - the Multiboot (version 1) guest loader: finds and checks the
 * kernel's Multiboot header, loads its ELF segments or its a.out-kludge image
 * into guest RAM, places the modules, and writes the boot information block
 * (Multiboot Specification 0.6.96, "OS image format" and "Boot information
 * format").
 *
 * Everything in the image is untrusted. The load is planned and checked in
 * full before the first byte of guest RAM is written, so a refusal leaves RAM
 * as it was; every size is checked against the image or RAM before use, and
 * every sum is checked for wrapping before it is formed.
 */
#include "vmx/loader.h"

/* Multiboot spec, "Header magic fields": the header is longword aligned,
 * lies completely inside the first 8192 bytes, and magic + flags + checksum
 * is 0 modulo 2^32. */
#define MB1_HEADER_MAGIC        0x1badb002u
#define MB1_SEARCH_LIMIT        8192u
#define MB1_HEADER_ALIGN        4u
#define MB1_HDR_MAGIC           0
#define MB1_HDR_FLAGS           4
#define MB1_HDR_CHECKSUM        8
#define MB1_HDR_MIN_SIZE        12u

/* Multiboot spec, "The address fields of Multiboot header" (valid when flags
 * bit 16 is set). */
#define MB1_HDR_HEADER_ADDR     12
#define MB1_HDR_LOAD_ADDR       16
#define MB1_HDR_LOAD_END_ADDR   20
#define MB1_HDR_BSS_END_ADDR    24
#define MB1_HDR_ENTRY_ADDR      28
#define MB1_HDR_ADDR_SIZE       32u

/* Multiboot spec, "Header magic fields", flags. Bits 0-15 are requirements a
 * loader must honour or refuse the image; bits 16-31 are optional features it
 * may ignore. */
#define MB1_FLAG_PAGE_ALIGN     BIT(0)  /* modules page (4 KiB) aligned */
#define MB1_FLAG_MEMORY_INFO    BIT(1)  /* mem_* (and mmap) must be given */
#define MB1_FLAG_VIDEO_MODE     BIT(2)  /* video mode table must be given */
#define MB1_FLAG_AOUT_KLUDGE    BIT(16) /* the address fields are valid */
#define MB1_FLAGS_REQUIRED      0xffffull
/* Page-aligned modules: we always align them. Memory info: always given. No
 * video mode: the guest has no display, so bit 2 is refused as the spec asks
 * of a loader that cannot honour a required bit. */
#define MB1_FLAGS_SUPPORTED     (MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY_INFO)

/* Multiboot spec, "Boot information format": offsets in the info block. The
 * block is 116 bytes up to the framebuffer fields; all of it is zeroed. */
#define MB1_INFO_FLAGS          0
#define MB1_INFO_MEM_LOWER      4
#define MB1_INFO_MEM_UPPER      8
#define MB1_INFO_CMDLINE        16
#define MB1_INFO_MODS_COUNT     20
#define MB1_INFO_MODS_ADDR      24
#define MB1_INFO_MMAP_LENGTH    44
#define MB1_INFO_MMAP_ADDR      48
#define MB1_INFO_BOOT_LOADER_NAME 64
#define MB1_INFO_SIZE           116u

/* Multiboot spec, "Boot information format": bits of the info block's flags. */
#define MB1_INFO_HAS_MEMORY     BIT(0)  /* mem_lower, mem_upper */
#define MB1_INFO_HAS_CMDLINE    BIT(2)
#define MB1_INFO_HAS_MODS       BIT(3)
#define MB1_INFO_HAS_MMAP       BIT(6)
#define MB1_INFO_HAS_LOADER_NAME BIT(9)

/* Multiboot spec, "Boot information format": one mods entry (mod_start,
 * mod_end exclusive, string, reserved) and one mmap entry (size, which does
 * not count itself, then base_addr, length, type; packed, so base_addr is
 * only 4-byte aligned). */
#define MB1_MOD_START           0
#define MB1_MOD_END             4
#define MB1_MOD_STRING          8
#define MB1_MOD_SIZE            16u
#define MB1_MMAP_SIZE           0
#define MB1_MMAP_BASE           4
#define MB1_MMAP_LENGTH         12
#define MB1_MMAP_TYPE           20
#define MB1_MMAP_ENTRY_SIZE     24u
#define MB1_MMAP_AVAILABLE      1u
#define MB1_MMAP_RESERVED       2u

/* The PC memory layout the guest is shown: conventional memory up to the
 * extended BIOS data area, the EBDA, the VGA/option-ROM hole (not listed),
 * the system BIOS, then extended memory from 1 MiB. */
#define PC_LOW_MEM_END          0xa0000ull
#define PC_EXT_MEM_START        0x100000ull
#define MB1_MEM_LOWER_KIB       ((u32)(PC_LOW_MEM_END / KiB))   /* 640 */
#define MB1_MMAP_ENTRIES        3u

#define MB1_LOADER_NAME         "doorbell"
#define MB1_STR_ALIGN           8u      /* start of each table in the area */
#define MB1_4GIB                0x100000000ull

/* ELF: "System V ABI", "ELF Header" and "Program Header" (gABI), with the
 * machine numbers of the i386 and x86-64 psABIs. */
#define ELF_MAGIC               "\177ELF"
#define ELF_MAGIC_LEN           4
#define EI_CLASS                4
#define EI_DATA                 5
#define EI_VERSION              6
#define EI_NIDENT               16
#define ELFCLASS32              1
#define ELFCLASS64              2
#define ELFDATA2LSB             1
#define EV_CURRENT              1
#define ET_EXEC                 2
#define EM_386                  3
#define EM_X86_64               62
#define PT_LOAD                 1

struct elf32_ehdr {
	u8  e_ident[EI_NIDENT];
	u16 e_type, e_machine;
	u32 e_version, e_entry, e_phoff, e_shoff, e_flags;
	u16 e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_ehdr {
	u8  e_ident[EI_NIDENT];
	u16 e_type, e_machine;
	u32 e_version;
	u64 e_entry, e_phoff, e_shoff;
	u32 e_flags;
	u16 e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf32_phdr {
	u32 p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align;
};

struct elf64_phdr {
	u32 p_type, p_flags;
	u64 p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

_Static_assert(sizeof(struct elf32_ehdr) == 52, "ELF32 header size");
_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header size");
_Static_assert(sizeof(struct elf32_phdr) == 32, "ELF32 program header size");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header size");
_Static_assert(offsetof(struct elf64_ehdr, e_phoff) == 32, "ELF64 e_phoff");
_Static_assert(offsetof(struct elf64_ehdr, e_phnum) == 56, "ELF64 e_phnum");
_Static_assert(MB1_INFO_BASE >= PAGE_SIZE && MB1_INFO_LIMIT <= PC_LOW_MEM_END,
	       "the info area lies in conventional memory above page 0");
_Static_assert(MB1_BIOS_AREA_BASE >= PC_LOW_MEM_END && MB1_BIOS_AREA_END == PC_EXT_MEM_START,
	       "the BIOS area lies in the hole the memory map reports reserved");

/* A program header of either class, widened. */
struct mb1_segment {
	u32 type;
	u64 offset, vaddr, paddr, filesz, memsz;
};

/* The load as planned and checked before anything is written. */
struct mb1_loader {
	const u8 *image;
	size_t image_len;
	u8 *ram;
	u64 ram_size;
	const struct mb1_load_args *args;
	struct mb1_load_result *res;
	char ram_desc[24];	/* "64 MiB", for messages */

	u32 flags;		/* the Multiboot header's */
	u32 hoff;		/* its file offset */

	bool aout;		/* the address fields rule the load */
	u64 aout_file_off;	/* a.out kludge: copy [off, off + size) ... */
	u64 aout_load_size;
	u64 aout_load_addr;	/* ... to here, then zero up to kernel_end */

	bool elf64;
	u64 phoff;		/* ELF: program header table */
	u32 phentsize, phnum;

	u64 kernel_start, kernel_end, entry;

	/* The info area, as offsets from MB1_INFO_BASE. */
	u32 mmap_off, mods_off, name_off, cmdline_off, strings_off;
	u64 mods_base;		/* guest-physical address of module 0 */
	u64 top;		/* one past the last byte of kernel or modules */
};

static void mb1_error(struct mb1_loader *ld, const char *fmt, ...) __printf(2, 3);

static void mb1_error(struct mb1_loader *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(ld->res->error, sizeof(ld->res->error), fmt, ap);
	va_end(ap);
}

/* Unaligned-safe little-endian loads and stores (the image and RAM give no
 * alignment guarantee; the compiler turns these into plain moves). */
static u32 mb1_get32(const u8 *p)
{
	u32 v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static void mb1_put32(u8 *p, u32 v)
{
	__builtin_memcpy(p, &v, sizeof(v));
}

static void mb1_put64(u8 *p, u64 v)
{
	__builtin_memcpy(p, &v, sizeof(v));
}

/* Writes "N MiB" (or KiB, or bytes) for n into buf. */
static void mb1_describe_size(char *buf, size_t len, u64 n)
{
	if (n % MiB == 0)
		fmt_snprintf(buf, len, "%llu MiB", n / MiB);
	else if (n % KiB == 0)
		fmt_snprintf(buf, len, "%llu KiB", n / KiB);
	else
		fmt_snprintf(buf, len, "0x%llx bytes", n);
}

/*
 * Finds the Multiboot header: the first longword-aligned offset in the first
 * 8192 bytes holding the magic with a correct checksum. A magic with a wrong
 * checksum is reported only if no valid header follows it (a kernel may
 * contain the magic as data before the real header).
 */
static int mb1_find_header(struct mb1_loader *ld)
{
	size_t limit = MIN(ld->image_len, (size_t)MB1_SEARCH_LIMIT);
	bool bad_sum = false;
	u32 bad_off = 0;

	for (size_t off = 0; off + MB1_HDR_MIN_SIZE <= limit; off += MB1_HEADER_ALIGN) {
		const u8 *h = ld->image + off;
		if (mb1_get32(h + MB1_HDR_MAGIC) != MB1_HEADER_MAGIC)
			continue;
		u32 flags = mb1_get32(h + MB1_HDR_FLAGS);
		u32 sum = MB1_HEADER_MAGIC + flags + mb1_get32(h + MB1_HDR_CHECKSUM);
		if (sum == 0) {
			ld->hoff = (u32)off;
			ld->flags = flags;
			return 0;
		}
		if (!bad_sum) {
			bad_sum = true;
			bad_off = (u32)off;
		}
	}
	if (bad_sum)
		mb1_error(ld, "guest: multiboot header checksum wrong (magic at offset 0x%x)",
			  bad_off);
	else
		mb1_error(ld, "guest: no multiboot header in the first %u bytes",
			  MB1_SEARCH_LIMIT);
	return -EINVAL;
}

/* Refuses required flag bits (0-15) we cannot honour. */
static int mb1_check_flags(struct mb1_loader *ld)
{
	u64 unknown = ld->flags & MB1_FLAGS_REQUIRED & ~MB1_FLAGS_SUPPORTED;

	if (unknown & MB1_FLAG_VIDEO_MODE) {
		mb1_error(ld, "guest: multiboot header flags 0x%x ask for a video mode (bit 2); the guest has no display",
			  ld->flags);
		return -EINVAL;
	}
	if (unknown) {
		mb1_error(ld, "guest: multiboot header flags 0x%x have required bits 0x%llx this loader does not know",
			  ld->flags, unknown);
		return -EINVAL;
	}
	return 0;
}

/*
 * Checks that the kernel range [start, start + size), called what in
 * messages, lies inside guest RAM and outside the info area, and widens
 * [kernel_start, kernel_end) to cover it.
 */
static int mb1_check_kernel_range(struct mb1_loader *ld, const char *what,
				  u64 start, u64 size)
{
	if (size > UINT64_MAX - start) {
		mb1_error(ld, "guest: %s at 0x%llx with size 0x%llx wraps around the address space",
			  what, start, size);
		return -ERANGE;
	}
	u64 end = start + size;
	if (end > ld->ram_size) {
		mb1_error(ld, "guest: %s at 0x%llx-0x%llx lies outside guest RAM (%s)",
			  what, start, end, ld->ram_desc);
		return -ERANGE;
	}
	if (start < MB1_INFO_LIMIT && end > MB1_INFO_BASE) {
		mb1_error(ld, "guest: %s at 0x%llx-0x%llx overlaps the boot information area 0x%x-0x%x",
			  what, start, end, MB1_INFO_BASE, MB1_INFO_LIMIT);
		return -ERANGE;
	}
	if (start < MB1_BIOS_AREA_END && end > MB1_BIOS_AREA_BASE) {
		mb1_error(ld, "guest: %s at 0x%llx-0x%llx overlaps the BIOS area 0x%x-0x%x (the guest's ACPI tables)",
			  what, start, end, MB1_BIOS_AREA_BASE, MB1_BIOS_AREA_END);
		return -ERANGE;
	}
	ld->kernel_start = MIN(ld->kernel_start, start);
	ld->kernel_end = MAX(ld->kernel_end, end);
	return 0;
}

/*
 * Plans an a.out-kludge load from the header's address fields (Multiboot
 * spec, "The address fields of Multiboot header"): the file offset to load
 * from is the header's offset minus (header_addr - load_addr); load_end_addr 0
 * means "to the end of the file", bss_end_addr 0 means "no bss".
 */
static int mb1_plan_aout(struct mb1_loader *ld)
{
	const u8 *h = ld->image + ld->hoff;

	if ((u64)ld->hoff + MB1_HDR_ADDR_SIZE > MIN(ld->image_len, (size_t)MB1_SEARCH_LIMIT)) {
		mb1_error(ld, "guest: multiboot header at offset 0x%x is cut off: its address fields (flags bit 16) need %u bytes",
			  ld->hoff, MB1_HDR_ADDR_SIZE);
		return -EINVAL;
	}
	u32 header_addr = mb1_get32(h + MB1_HDR_HEADER_ADDR);
	u32 load_addr = mb1_get32(h + MB1_HDR_LOAD_ADDR);
	u32 load_end_addr = mb1_get32(h + MB1_HDR_LOAD_END_ADDR);
	u32 bss_end_addr = mb1_get32(h + MB1_HDR_BSS_END_ADDR);
	u32 entry_addr = mb1_get32(h + MB1_HDR_ENTRY_ADDR);

	if (load_addr > header_addr) {
		mb1_error(ld, "guest: multiboot load_addr 0x%x is above header_addr 0x%x",
			  load_addr, header_addr);
		return -EINVAL;
	}
	u32 delta = header_addr - load_addr;
	if (delta > ld->hoff) {
		mb1_error(ld, "guest: multiboot header_addr - load_addr = 0x%x, but the header is at file offset 0x%x: the load would start before the file",
			  delta, ld->hoff);
		return -EINVAL;
	}
	u64 file_off = ld->hoff - delta;
	u64 load_size;
	if (load_end_addr == 0) {
		load_size = ld->image_len - file_off;
	} else {
		if (load_end_addr <= load_addr) {
			mb1_error(ld, "guest: multiboot load_end_addr 0x%x is not above load_addr 0x%x",
				  load_end_addr, load_addr);
			return -EINVAL;
		}
		load_size = load_end_addr - load_addr;
		if (load_size > ld->image_len - file_off) {
			mb1_error(ld, "guest: multiboot load_end_addr 0x%x needs 0x%llx bytes from file offset 0x%llx, past the end of the 0x%zx-byte image",
				  load_end_addr, load_size, file_off, ld->image_len);
			return -EINVAL;
		}
	}
	u64 load_end = load_addr + load_size;
	u64 mem_end = load_end;
	if (bss_end_addr != 0) {
		if (bss_end_addr < load_end) {
			mb1_error(ld, "guest: multiboot bss_end_addr 0x%x is below the end of the loaded image 0x%llx",
				  bss_end_addr, load_end);
			return -EINVAL;
		}
		mem_end = bss_end_addr;
	}
	if (entry_addr < load_addr || entry_addr >= load_end) {
		mb1_error(ld, "guest: multiboot entry_addr 0x%x is outside the loaded image 0x%x-0x%llx",
			  entry_addr, load_addr, load_end);
		return -EINVAL;
	}
	int rc = mb1_check_kernel_range(ld, "kernel (multiboot address fields)",
					load_addr, mem_end - load_addr);
	if (rc)
		return rc;
	ld->aout = true;
	ld->aout_file_off = file_off;
	ld->aout_load_size = load_size;
	ld->aout_load_addr = load_addr;
	ld->entry = entry_addr;
	return 0;
}

/* Reads program header i (i < phnum, table already checked to lie inside
 * the image) as a widened segment. */
static void mb1_elf_segment(const struct mb1_loader *ld, u32 i, struct mb1_segment *s)
{
	const u8 *p = ld->image + ld->phoff + (u64)i * ld->phentsize;

	if (ld->elf64) {
		struct elf64_phdr ph;
		__builtin_memcpy(&ph, p, sizeof(ph));
		s->type = ph.p_type;
		s->offset = ph.p_offset;
		s->vaddr = ph.p_vaddr;
		s->paddr = ph.p_paddr;
		s->filesz = ph.p_filesz;
		s->memsz = ph.p_memsz;
	} else {
		struct elf32_phdr ph;
		__builtin_memcpy(&ph, p, sizeof(ph));
		s->type = ph.p_type;
		s->offset = ph.p_offset;
		s->vaddr = ph.p_vaddr;
		s->paddr = ph.p_paddr;
		s->filesz = ph.p_filesz;
		s->memsz = ph.p_memsz;
	}
}

/* Checks the ELF header and reads where the program headers are and the
 * entry point. */
static int mb1_elf_header(struct mb1_loader *ld, u64 *e_entry)
{
	const u8 *img = ld->image;
	u32 type, machine, version, want_machine;
	size_t ehsize, phsize;

	if (ld->image_len < EI_NIDENT || memcmp(img, ELF_MAGIC, ELF_MAGIC_LEN) != 0) {
		mb1_error(ld, "guest: not an ELF file and no address fields (flags bit 16)");
		return -EINVAL;
	}
	if (img[EI_CLASS] == ELFCLASS64) {
		ld->elf64 = true;
		ehsize = sizeof(struct elf64_ehdr);
		phsize = sizeof(struct elf64_phdr);
		want_machine = EM_X86_64;
	} else if (img[EI_CLASS] == ELFCLASS32) {
		ehsize = sizeof(struct elf32_ehdr);
		phsize = sizeof(struct elf32_phdr);
		want_machine = EM_386;
	} else {
		mb1_error(ld, "guest: ELF class %u is neither ELFCLASS32 nor ELFCLASS64",
			  img[EI_CLASS]);
		return -EINVAL;
	}
	if (img[EI_DATA] != ELFDATA2LSB) {
		mb1_error(ld, "guest: ELF data encoding %u is not little-endian (ELFDATA2LSB)",
			  img[EI_DATA]);
		return -EINVAL;
	}
	if (ld->image_len < ehsize) {
		mb1_error(ld, "guest: ELF header cut off: the image has only %zu bytes",
			  ld->image_len);
		return -EINVAL;
	}
	if (ld->elf64) {
		struct elf64_ehdr eh;
		__builtin_memcpy(&eh, img, sizeof(eh));
		type = eh.e_type;
		machine = eh.e_machine;
		version = eh.e_version;
		*e_entry = eh.e_entry;
		ld->phoff = eh.e_phoff;
		ld->phentsize = eh.e_phentsize;
		ld->phnum = eh.e_phnum;
	} else {
		struct elf32_ehdr eh;
		__builtin_memcpy(&eh, img, sizeof(eh));
		type = eh.e_type;
		machine = eh.e_machine;
		version = eh.e_version;
		*e_entry = eh.e_entry;
		ld->phoff = eh.e_phoff;
		ld->phentsize = eh.e_phentsize;
		ld->phnum = eh.e_phnum;
	}
	if (img[EI_VERSION] != EV_CURRENT || version != EV_CURRENT) {
		mb1_error(ld, "guest: ELF version %u/%u is not EV_CURRENT",
			  img[EI_VERSION], version);
		return -EINVAL;
	}
	if (type != ET_EXEC) {
		mb1_error(ld, "guest: ELF type %u is not ET_EXEC (an executable)", type);
		return -EINVAL;
	}
	if (machine != want_machine) {
		mb1_error(ld, "guest: ELF%u machine %u is not %s",
			  ld->elf64 ? 64u : 32u, machine,
			  ld->elf64 ? "EM_X86_64 (62)" : "EM_386 (3)");
		return -EINVAL;
	}
	if (ld->phnum != 0 && ld->phentsize < phsize) {
		mb1_error(ld, "guest: ELF program header size %u is smaller than %zu",
			  ld->phentsize, phsize);
		return -EINVAL;
	}
	u64 table = (u64)ld->phnum * ld->phentsize;
	if (ld->phoff > ld->image_len || table > ld->image_len - ld->phoff) {
		mb1_error(ld, "guest: ELF program headers (%u at offset 0x%llx) run past the end of the 0x%zx-byte image",
			  ld->phnum, ld->phoff, ld->image_len);
		return -EINVAL;
	}
	return 0;
}

/*
 * Plans an ELF load: every PT_LOAD segment with a non-zero p_memsz goes to
 * p_paddr (p_filesz bytes from the file, zeroes up to p_memsz). e_entry is a
 * virtual address; like GRUB, it is made physical through the segment whose
 * virtual range holds it, so kernels linked high but loaded low boot.
 */
static int mb1_plan_elf(struct mb1_loader *ld)
{
	u64 e_entry = 0;
	bool entry_found = false;
	u32 loads = 0;
	char what[32];

	int rc = mb1_elf_header(ld, &e_entry);
	if (rc)
		return rc;
	for (u32 i = 0; i < ld->phnum; i++) {
		struct mb1_segment s;
		mb1_elf_segment(ld, i, &s);
		if (s.type != PT_LOAD)
			continue;
		if (s.filesz > s.memsz) {
			mb1_error(ld, "guest: ELF segment %u has p_filesz 0x%llx > p_memsz 0x%llx",
				  i, s.filesz, s.memsz);
			return -EINVAL;
		}
		if (s.memsz == 0)
			continue;
		if (s.offset > ld->image_len || s.filesz > ld->image_len - s.offset) {
			mb1_error(ld, "guest: ELF segment %u (file offset 0x%llx, size 0x%llx) runs past the end of the 0x%zx-byte image",
				  i, s.offset, s.filesz, ld->image_len);
			return -EINVAL;
		}
		fmt_snprintf(what, sizeof(what), "ELF segment %u", i);
		rc = mb1_check_kernel_range(ld, what, s.paddr, s.memsz);
		if (rc)
			return rc;
		loads++;
		if (!entry_found && e_entry >= s.vaddr && e_entry - s.vaddr < s.memsz) {
			entry_found = true;
			ld->entry = e_entry - s.vaddr + s.paddr;
		}
	}
	if (loads == 0) {
		mb1_error(ld, "guest: ELF file has no PT_LOAD segment to load");
		return -EINVAL;
	}
	if (!entry_found) {
		mb1_error(ld, "guest: ELF entry point 0x%llx is in no PT_LOAD segment",
			  e_entry);
		return -EINVAL;
	}
	/* Multiboot spec, "Machine state": the kernel starts in 32-bit
	 * protected mode, so EIP must reach it. */
	if (ld->entry >= MB1_4GIB) {
		mb1_error(ld, "guest: ELF entry point 0x%llx (physical 0x%llx) is above 4 GiB; the guest starts in 32-bit mode",
			  e_entry, ld->entry);
		return -EINVAL;
	}
	return 0;
}

/*
 * Plans the info area: the block, the memory map, the module list, then the
 * strings, each table 8-byte aligned; and the modules' place in RAM: page
 * aligned (always, which honours flags bit 0 and costs at most a page each),
 * the first at or above max(kernel end, 1 MiB), all ending below 4 GiB since
 * mod_start and mod_end are 32-bit.
 */
static int mb1_plan_info(struct mb1_loader *ld)
{
	const struct mb1_load_args *a = ld->args;
	const u64 area = MB1_INFO_LIMIT - MB1_INFO_BASE;
	u64 used;

	ld->mmap_off = ALIGN_UP(MB1_INFO_SIZE, MB1_STR_ALIGN);
	ld->mods_off = ld->mmap_off + MB1_MMAP_ENTRIES * MB1_MMAP_ENTRY_SIZE;
	used = ld->mods_off + (u64)a->module_count * MB1_MOD_SIZE;
	ld->name_off = (u32)MIN(used, area);
	used += sizeof(MB1_LOADER_NAME);
	ld->cmdline_off = (u32)MIN(used, area);
	used += strlen(a->cmdline ? a->cmdline : "") + 1;
	ld->strings_off = (u32)MIN(used, area);
	for (u32 i = 0; i < a->module_count && used <= area; i++) {
		const char *str = a->modules[i].string;
		size_t n = strlen(str ? str : "") + 1;
		used = n > area ? area + 1 : used + n;
	}
	if (used > area) {
		mb1_error(ld, "guest: the command line, %u module string(s) and the boot information need more than the %llu bytes at 0x%x-0x%x",
			  a->module_count, area, MB1_INFO_BASE, MB1_INFO_LIMIT);
		return -E2BIG;
	}

	u64 limit = MIN(ld->ram_size, (u64)UINT32_MAX);
	u64 at = ALIGN_UP(MAX(ld->kernel_end, (u64)MB1_MODULES_MIN), PAGE_SIZE);
	ld->mods_base = at;
	ld->top = ld->kernel_end;
	for (u32 i = 0; i < a->module_count; i++) {
		u64 len = a->modules[i].len;
		if (at > limit || len > limit - at) {
			mb1_error(ld, "guest: module %u (0x%llx bytes) does not fit in guest RAM (%s, below 4 GiB) at 0x%llx",
				  i, len, ld->ram_desc, at);
			return -E2BIG;
		}
		if (len)
			ld->top = MAX(ld->top, at + len);
		at = ALIGN_UP(at + len, PAGE_SIZE);
	}
	return 0;
}

/* Copies the planned kernel into RAM: file bytes, then zeroes for the bss. */
static void mb1_copy_kernel(struct mb1_loader *ld)
{
	if (ld->aout) {
		memcpy(ld->ram + ld->aout_load_addr, ld->image + ld->aout_file_off,
		       ld->aout_load_size);
		u64 end = ld->aout_load_addr + ld->aout_load_size;
		memset(ld->ram + end, 0, ld->kernel_end - end);
		return;
	}
	for (u32 i = 0; i < ld->phnum; i++) {
		struct mb1_segment s;
		mb1_elf_segment(ld, i, &s);
		if (s.type != PT_LOAD || s.memsz == 0)
			continue;
		memcpy(ld->ram + s.paddr, ld->image + s.offset, s.filesz);
		memset(ld->ram + s.paddr + s.filesz, 0, s.memsz - s.filesz);
	}
}

/* Copies string s (NULL = "") to info-area offset off; returns the offset
 * after its NUL. */
static u32 mb1_put_string(struct mb1_loader *ld, u32 off, const char *s)
{
	size_t n = strlen(s ? s : "") + 1;

	memcpy(ld->ram + MB1_INFO_BASE + off, s ? s : "", n);
	return off + (u32)n;
}

static void mb1_put_mmap(u8 *e, u64 base, u64 len, u32 type)
{
	mb1_put32(e + MB1_MMAP_SIZE, MB1_MMAP_ENTRY_SIZE - 4);
	mb1_put64(e + MB1_MMAP_BASE, base);
	mb1_put64(e + MB1_MMAP_LENGTH, len);
	mb1_put32(e + MB1_MMAP_TYPE, type);
}

/* Copies the modules and writes the info area as mb1_plan_info planned it. */
static void mb1_write_info(struct mb1_loader *ld)
{
	const struct mb1_load_args *a = ld->args;
	u8 *info = ld->ram + MB1_INFO_BASE;
	u8 *mmap = info + ld->mmap_off;
	u64 at = ld->mods_base;
	u32 str = ld->strings_off;

	memset(info, 0, MB1_INFO_LIMIT - MB1_INFO_BASE);

	mb1_put32(info + MB1_INFO_FLAGS,
		  (u32)(MB1_INFO_HAS_MEMORY | MB1_INFO_HAS_CMDLINE | MB1_INFO_HAS_MODS |
			MB1_INFO_HAS_MMAP | MB1_INFO_HAS_LOADER_NAME));
	/* Multiboot spec, "Boot information format": mem_lower is KiB from 0,
	 * mem_upper KiB from 1 MiB up to the first hole (none in our RAM). */
	mb1_put32(info + MB1_INFO_MEM_LOWER, MB1_MEM_LOWER_KIB);
	mb1_put32(info + MB1_INFO_MEM_UPPER,
		  (u32)MIN((ld->ram_size - PC_EXT_MEM_START) / KiB, (u64)UINT32_MAX));

	/* The guest has no BIOS and no EBDA: all 640 KiB of conventional
	 * memory is RAM (matching mem_lower), then the legacy VGA/ROM hole. */
	mb1_put_mmap(mmap, 0, PC_LOW_MEM_END, MB1_MMAP_AVAILABLE);
	mb1_put_mmap(mmap + MB1_MMAP_ENTRY_SIZE, PC_LOW_MEM_END,
		     PC_EXT_MEM_START - PC_LOW_MEM_END, MB1_MMAP_RESERVED);
	mb1_put_mmap(mmap + 2 * MB1_MMAP_ENTRY_SIZE, PC_EXT_MEM_START,
		     ld->ram_size - PC_EXT_MEM_START, MB1_MMAP_AVAILABLE);
	mb1_put32(info + MB1_INFO_MMAP_LENGTH, MB1_MMAP_ENTRIES * MB1_MMAP_ENTRY_SIZE);
	mb1_put32(info + MB1_INFO_MMAP_ADDR, MB1_INFO_BASE + ld->mmap_off);

	mb1_put_string(ld, ld->name_off, MB1_LOADER_NAME);
	mb1_put32(info + MB1_INFO_BOOT_LOADER_NAME, MB1_INFO_BASE + ld->name_off);
	mb1_put_string(ld, ld->cmdline_off, a->cmdline);
	mb1_put32(info + MB1_INFO_CMDLINE, MB1_INFO_BASE + ld->cmdline_off);

	mb1_put32(info + MB1_INFO_MODS_COUNT, a->module_count);
	mb1_put32(info + MB1_INFO_MODS_ADDR, MB1_INFO_BASE + ld->mods_off);
	for (u32 i = 0; i < a->module_count; i++) {
		const struct mb1_module *m = &a->modules[i];
		u8 *e = info + ld->mods_off + i * MB1_MOD_SIZE;
		if (m->len)
			memcpy(ld->ram + at, m->data, m->len);
		mb1_put32(e + MB1_MOD_START, (u32)at);
		mb1_put32(e + MB1_MOD_END, (u32)(at + m->len));
		mb1_put32(e + MB1_MOD_STRING, MB1_INFO_BASE + str);
		str = mb1_put_string(ld, str, m->string);
		at = ALIGN_UP(at + m->len, PAGE_SIZE);
	}
}

int mb1_load(const u8 *image, size_t image_len, u8 *ram, u64 ram_size,
	     const struct mb1_load_args *args, struct mb1_load_result *res)
{
	struct mb1_loader ld = {
		.image = image, .image_len = image_len, .ram = ram,
		.ram_size = ram_size, .args = args, .res = res,
		.kernel_start = UINT64_MAX, .kernel_end = 0,
	};
	int rc;

	memset(res, 0, sizeof(*res));
	mb1_describe_size(ld.ram_desc, sizeof(ld.ram_desc), ram_size);
	/* The memory map gives [1 MiB, ram_size) as RAM and mem_upper counts
	 * it; an empty or negative range would be a broken map. */
	if (ram_size <= PC_EXT_MEM_START) {
		mb1_error(&ld, "guest: guest RAM (%s) must be larger than 1 MiB",
			  ld.ram_desc);
		return -EINVAL;
	}
	rc = mb1_find_header(&ld);
	if (!rc)
		rc = mb1_check_flags(&ld);
	if (!rc)
		rc = (ld.flags & MB1_FLAG_AOUT_KLUDGE) ? mb1_plan_aout(&ld) : mb1_plan_elf(&ld);
	if (!rc)
		rc = mb1_plan_info(&ld);
	if (rc)
		return rc;

	/* Everything checked: from here on nothing can fail. */
	mb1_copy_kernel(&ld);
	mb1_write_info(&ld);
	res->entry = (u32)ld.entry;
	res->info_addr = MB1_INFO_BASE;
	res->kernel_start = ld.kernel_start;
	res->kernel_end = ld.kernel_end;
	res->top = ld.top;
	return 0;
}
