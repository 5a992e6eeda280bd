/*
 * boot/multiboot2.c - validates and parses the multiboot2 boot information
 * structure the loader hands us (Multiboot2 spec, "Boot information format"):
 * the command line, the modules, the memory map and the ACPI RSDP copy.
 *
 * Pure: reads only [mbi, mbi + min(avail, total_size)) and touches no
 * hardware, so it is unit-tested and fuzzed on the host (tests/host/test_mb2.c).
 * Everything the loader wrote is treated as untrusted: every size is checked
 * before the bytes it covers are read, and any inconsistency refuses the whole
 * structure with a message naming it, rather than booting on a guess.
 */
#include "boot/boot.h"

/* Multiboot2 spec, "Boot information format": fixed part and tag header. */
#define MB2_FIXED_SIZE        8		/* u32 total_size, u32 reserved */
#define MB2_TAG_HEADER_SIZE   8		/* u32 type, u32 size */
#define MB2_TAG_ALIGN         8		/* every tag starts 8-byte aligned */
#define MB2_INFO_ALIGN        8		/* the structure itself, too */

/* Multiboot2 spec, "Basic tags structure" and the tags that follow it. */
#define MB2_TAG_END           0
#define MB2_TAG_CMDLINE       1
#define MB2_TAG_MODULE        3
#define MB2_TAG_MMAP          6
#define MB2_TAG_ACPI_OLD      14
#define MB2_TAG_ACPI_NEW      15

/* Multiboot2 spec, "Modules": u32 mod_start, u32 mod_end, then the string. */
#define MB2_MODULE_START_OFF  8
#define MB2_MODULE_END_OFF    12
#define MB2_MODULE_STRING_OFF 16

/* Multiboot2 spec, "Memory map": u32 entry_size, u32 entry_version, entries
 * of { u64 base_addr, u64 length, u32 type, u32 reserved }. */
#define MB2_MMAP_ENTRY_SIZE_OFF  8
#define MB2_MMAP_ENTRIES_OFF     16
#define MB2_MMAP_ENTRY_MIN       24
#define MB2_MMAP_ENTRY_ALIGN     8
#define MB2_MMAP_BASE_OFF        0
#define MB2_MMAP_LEN_OFF         8
#define MB2_MMAP_TYPE_OFF        16

/* ACPI spec, "Root System Description Pointer (RSDP) Structure": 20 bytes
 * for revision 0 (the old-RSDP tag), 36 for revision 2 (the new one). */
#define ACPI_RSDP_V1_SIZE     20
#define ACPI_RSDP_V2_SIZE     36

/* Unaligned-safe little-endian loads: a corrupted structure may put a field
 * anywhere, and the compiler inlines these into plain moves. */
static u32 mb2_read32(const u8 *p)
{
	u32 v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static u64 mb2_read64(const u8 *p)
{
	u64 v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

/* Parsing state: the structure and where in it the optional tags were seen
 * (so a duplicate can be refused and the new RSDP preferred to the old). */
struct mb2_parser {
	const u8 *base;
	u32 total;
	struct mb2_info *info;
	bool have_cmdline;
	bool have_mmap;
	const u8 *rsdp_old;
	u32 rsdp_old_len;
	const u8 *rsdp_new;
	u32 rsdp_new_len;
};

/* True if the len bytes at s hold a NUL. */
static bool mb2_has_nul(const u8 *s, u32 len)
{
	return strnlen((const char *)s, len) < len;
}

static int mb2_parse_cmdline(struct mb2_parser *ps, u32 off, u32 size)
{
	const u8 *tag = ps->base + off;

	if (ps->have_cmdline) {
		fmt_snprintf(ps->info->error, sizeof(ps->info->error),
			     "multiboot2: duplicate command line tag at offset 0x%x",
			     off);
		return -EINVAL;
	}
	if (!mb2_has_nul(tag + MB2_TAG_HEADER_SIZE, size - MB2_TAG_HEADER_SIZE)) {
		fmt_snprintf(ps->info->error, sizeof(ps->info->error),
			     "multiboot2: command line not NUL-terminated (tag at offset 0x%x)",
			     off);
		return -EINVAL;
	}
	ps->have_cmdline = true;
	ps->info->cmdline = (const char *)(tag + MB2_TAG_HEADER_SIZE);
	return 0;
}

/* Modules are numbered from 0 in messages, as in info->modules[]. */
static int mb2_parse_module(struct mb2_parser *ps, u32 off, u32 size)
{
	struct mb2_info *info = ps->info;
	const u8 *tag = ps->base + off;
	u32 n = info->module_count;

	/* The string needs at least its NUL. */
	if (size < MB2_MODULE_STRING_OFF + 1) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: module tag at offset 0x%x has size %u < %u",
			     off, size, MB2_MODULE_STRING_OFF + 1);
		return -EINVAL;
	}
	if (n >= MB2_MAX_MODULES) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: more than %u modules (tag at offset 0x%x)",
			     MB2_MAX_MODULES, off);
		return -EINVAL;
	}
	u32 start = mb2_read32(tag + MB2_MODULE_START_OFF);
	u32 end = mb2_read32(tag + MB2_MODULE_END_OFF);
	if (end < start) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: module %u ends (0x%x) before it starts (0x%x)",
			     n, end, start);
		return -EINVAL;
	}
	if (!mb2_has_nul(tag + MB2_MODULE_STRING_OFF, size - MB2_MODULE_STRING_OFF)) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: module %u string not NUL-terminated", n);
		return -EINVAL;
	}
	info->modules[n].start = start;
	info->modules[n].end = end;
	info->modules[n].string = (const char *)(tag + MB2_MODULE_STRING_OFF);
	info->module_count = n + 1;
	return 0;
}

static int mb2_parse_mmap(struct mb2_parser *ps, u32 off, u32 size)
{
	struct mb2_info *info = ps->info;
	const u8 *tag = ps->base + off;

	if (ps->have_mmap) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: duplicate memory map tag at offset 0x%x", off);
		return -EINVAL;
	}
	if (size < MB2_MMAP_ENTRIES_OFF) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: memory map tag at offset 0x%x has size %u < %u",
			     off, size, MB2_MMAP_ENTRIES_OFF);
		return -EINVAL;
	}
	u32 esize = mb2_read32(tag + MB2_MMAP_ENTRY_SIZE_OFF);
	if (esize < MB2_MMAP_ENTRY_MIN) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: memory map entry size %u < %u",
			     esize, MB2_MMAP_ENTRY_MIN);
		return -EINVAL;
	}
	if (!IS_ALIGNED(esize, MB2_MMAP_ENTRY_ALIGN)) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: memory map entry size %u not a multiple of %u",
			     esize, MB2_MMAP_ENTRY_ALIGN);
		return -EINVAL;
	}
	/* entry_version is not checked: the spec promises later versions stay
	 * compatible with the layout read here. */
	u32 bytes = size - MB2_MMAP_ENTRIES_OFF;
	if (bytes % esize) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: memory map tag size %u is not 16 + a whole number of %u-byte entries",
			     size, esize);
		return -EINVAL;
	}
	u32 count = bytes / esize;
	if (count > MB2_MAX_MMAP) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: memory map has %u entries, more than %u",
			     count, MB2_MAX_MMAP);
		return -EINVAL;
	}
	for (u32 i = 0; i < count; i++) {
		const u8 *e = tag + MB2_MMAP_ENTRIES_OFF + (size_t)i * esize;
		u64 b = mb2_read64(e + MB2_MMAP_BASE_OFF);
		u64 len = mb2_read64(e + MB2_MMAP_LEN_OFF);
		/* Consumers compute base + len; it must be representable. */
		if (len > UINT64_MAX - b) {
			fmt_snprintf(info->error, sizeof(info->error),
				     "multiboot2: memory map entry %u (base 0x%llx, length 0x%llx) wraps past 2^64",
				     i, (unsigned long long)b,
				     (unsigned long long)len);
			return -EINVAL;
		}
		info->mmap[i].base = b;
		info->mmap[i].len = len;
		info->mmap[i].type = mb2_read32(e + MB2_MMAP_TYPE_OFF);
	}
	info->mmap_count = count;
	ps->have_mmap = true;
	return 0;
}

/* Tags 14 and 15 carry a copy of the RSDP; keep the one of each kind and pick
 * at the end, since their order in the structure is not specified. */
static int mb2_parse_acpi(struct mb2_parser *ps, u32 type, u32 off, u32 size)
{
	bool is_new = type == MB2_TAG_ACPI_NEW;
	u32 min = MB2_TAG_HEADER_SIZE + (is_new ? ACPI_RSDP_V2_SIZE : ACPI_RSDP_V1_SIZE);
	const char *kind = is_new ? "new" : "old";

	if ((is_new ? ps->rsdp_new : ps->rsdp_old) != NULL) {
		fmt_snprintf(ps->info->error, sizeof(ps->info->error),
			     "multiboot2: duplicate ACPI %s RSDP tag at offset 0x%x",
			     kind, off);
		return -EINVAL;
	}
	if (size < min) {
		fmt_snprintf(ps->info->error, sizeof(ps->info->error),
			     "multiboot2: ACPI %s RSDP tag at offset 0x%x has size %u < %u",
			     kind, off, size, min);
		return -EINVAL;
	}
	if (is_new) {
		ps->rsdp_new = ps->base + off + MB2_TAG_HEADER_SIZE;
		ps->rsdp_new_len = size - MB2_TAG_HEADER_SIZE;
	} else {
		ps->rsdp_old = ps->base + off + MB2_TAG_HEADER_SIZE;
		ps->rsdp_old_len = size - MB2_TAG_HEADER_SIZE;
	}
	return 0;
}

/* Walks the tags of [base, base + total); on error info->error is set. */
static int mb2_parse_tags(struct mb2_parser *ps)
{
	struct mb2_info *info = ps->info;
	u32 off = MB2_FIXED_SIZE;
	int rc;

	for (;;) {
		if (ps->total - off < MB2_TAG_HEADER_SIZE) {
			fmt_snprintf(info->error, sizeof(info->error),
				     "multiboot2: no end tag (tags stop at offset 0x%x of 0x%x)",
				     off, ps->total);
			return -EINVAL;
		}
		const u8 *tag = ps->base + off;
		u32 type = mb2_read32(tag);
		u32 size = mb2_read32(tag + 4);
		if (size < MB2_TAG_HEADER_SIZE) {
			fmt_snprintf(info->error, sizeof(info->error),
				     "multiboot2: tag %u at offset 0x%x has size %u < %u",
				     type, off, size, MB2_TAG_HEADER_SIZE);
			return -EINVAL;
		}
		if (size > ps->total - off) {
			fmt_snprintf(info->error, sizeof(info->error),
				     "multiboot2: tag %u at offset 0x%x has size 0x%x running past the structure's end (0x%x)",
				     type, off, size, ps->total);
			return -EINVAL;
		}

		switch (type) {
		case MB2_TAG_END:
			if (size != MB2_TAG_HEADER_SIZE) {
				fmt_snprintf(info->error, sizeof(info->error),
					     "multiboot2: end tag at offset 0x%x has size %u, not %u",
					     off, size, MB2_TAG_HEADER_SIZE);
				return -EINVAL;
			}
			return 0;
		case MB2_TAG_CMDLINE:
			rc = mb2_parse_cmdline(ps, off, size);
			break;
		case MB2_TAG_MODULE:
			rc = mb2_parse_module(ps, off, size);
			break;
		case MB2_TAG_MMAP:
			rc = mb2_parse_mmap(ps, off, size);
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW:
			rc = mb2_parse_acpi(ps, type, off, size);
			break;
		default:
			/* The spec: a tag of unknown type must be skipped. */
			rc = 0;
			break;
		}
		if (rc)
			return rc;

		/* size <= total - off <= MB2_MAX_INFO_SIZE: no overflow; a
		 * step past total is caught by the check at the loop top. */
		u32 step = ALIGN_UP(size, (u32)MB2_TAG_ALIGN);
		if (step > ps->total - off) {
			fmt_snprintf(info->error, sizeof(info->error),
				     "multiboot2: no end tag (tag %u at offset 0x%x is the last)",
				     type, off);
			return -EINVAL;
		}
		off += step;
	}
}

static int mb2_check_header(u32 magic, const void *mbi, size_t avail,
			    struct mb2_info *info, u32 *total_out)
{
	if (magic != MULTIBOOT2_BOOTLOADER_MAGIC) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: wrong magic 0x%x (expected 0x%x)",
			     magic, MULTIBOOT2_BOOTLOADER_MAGIC);
		return -EINVAL;
	}
	if (mbi == NULL) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: no information structure (NULL)");
		return -EINVAL;
	}
	if (!IS_ALIGNED((uintptr_t)mbi, MB2_INFO_ALIGN)) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: structure at %p is not %u-byte aligned",
			     mbi, MB2_INFO_ALIGN);
		return -EINVAL;
	}
	if (avail < MB2_FIXED_SIZE) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: only %zu bytes readable, fewer than the %u-byte fixed part",
			     avail, MB2_FIXED_SIZE);
		return -EINVAL;
	}
	u32 total = mb2_read32(mbi);
	if (total < MB2_FIXED_SIZE + MB2_TAG_HEADER_SIZE) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: total_size %u is too small to hold an end tag (%u)",
			     total, MB2_FIXED_SIZE + MB2_TAG_HEADER_SIZE);
		return -EINVAL;
	}
	if (total > MB2_MAX_INFO_SIZE) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: total_size 0x%x larger than the 0x%x we accept",
			     total, MB2_MAX_INFO_SIZE);
		return -EINVAL;
	}
	if (total > avail) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: total_size 0x%x larger than the 0x%zx bytes readable",
			     total, avail);
		return -EINVAL;
	}
	*total_out = total;
	return 0;
}

int mb2_parse(u32 magic, const void *mbi, size_t avail, struct mb2_info *info)
{
	struct mb2_parser ps = { .base = mbi, .info = info };
	int rc;

	memset(info, 0, sizeof(*info));
	info->cmdline = "";

	rc = mb2_check_header(magic, mbi, avail, info, &ps.total);
	if (rc == 0)
		rc = mb2_parse_tags(&ps);
	if (rc == 0 && !ps.have_mmap) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "multiboot2: no memory map tag");
		rc = -EINVAL;
	}
	if (rc) {
		/* Leave nothing half-parsed for a caller that ignores rc. */
		char error[sizeof(info->error)];
		memcpy(error, info->error, sizeof(error));
		memset(info, 0, sizeof(*info));
		info->cmdline = "";
		memcpy(info->error, error, sizeof(error));
		return rc;
	}

	info->total_size = ps.total;
	if (ps.rsdp_new) {
		info->rsdp = ps.rsdp_new;
		info->rsdp_len = ps.rsdp_new_len;
	} else if (ps.rsdp_old) {
		info->rsdp = ps.rsdp_old;
		info->rsdp_len = ps.rsdp_old_len;
	}
	return 0;
}
