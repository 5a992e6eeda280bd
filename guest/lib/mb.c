/*
 * guest/lib/mb.c - reading the Multiboot (v1) information block the loader
 * hands us in EBX (Multiboot Specification 0.6.96, "Boot information
 * format"). Addresses in it are guest-physical; both guest variants run with
 * the first 4 GiB identity-mapped (or paging off), so they are pointers.
 */
#include "guest.h"

static const void *mb_ptr(u32 phys)
{
	return (const void *)(uintptr_t)phys;
}

const char *mb_cmdline(const struct multiboot_info *mbi)
{
	if (!(mbi->flags & MB_INFO_CMDLINE) || !mbi->cmdline)
		return "";
	return mb_ptr(mbi->cmdline);
}

/* Parses [s, s+len) as decimal, or hex with 0x. Returns false on junk. */
static bool mb_parse_u64(const char *s, size_t len, u64 *val)
{
	unsigned int base = 10;
	u64 v = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (!len)
		return false;
	for (; len; len--, s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned int)(*s - 'A' + 10);
		else
			return false;
		if (d >= base)
			return false;
		v = v * base + d;
	}
	*val = v;
	return true;
}

bool mb_cmdline_value(const struct multiboot_info *mbi, const char *key,
		      u64 *val)
{
	const char *p = mb_cmdline(mbi);
	size_t klen = strlen(key);

	/* Words are separated by spaces; the first word may be the guest's
	 * file name (GRUB and QEMU put it there), which never matches. */
	while (*p) {
		const char *word;
		size_t wlen = 0;

		while (*p == ' ')
			p++;
		word = p;
		while (word[wlen] && word[wlen] != ' ')
			wlen++;
		p = word + wlen;
		if (wlen > klen && word[klen] == '=' &&
		    memcmp(word, key, klen) == 0)
			return mb_parse_u64(word + klen + 1, wlen - klen - 1, val);
	}
	return false;
}

const struct multiboot_module *mb_module(const struct multiboot_info *mbi,
					 u32 i)
{
	const struct multiboot_module *mods = mb_ptr(mbi->mods_addr);

	if (!(mbi->flags & MB_INFO_MODS) || i >= mbi->mods_count)
		return NULL;
	return &mods[i];
}

const struct multiboot_mmap_entry *
mb_mmap_next(const struct multiboot_info *mbi,
	     const struct multiboot_mmap_entry *prev)
{
	uintptr_t start = mbi->mmap_addr;
	uintptr_t end = start + mbi->mmap_length;
	uintptr_t next;

	if (!(mbi->flags & MB_INFO_MEM_MAP))
		return NULL;
	next = prev ? (uintptr_t)prev + prev->size + sizeof(prev->size) : start;
	/* An entry must fit whole before the end of the map. */
	if (next + sizeof(struct multiboot_mmap_entry) > end)
		return NULL;
	return (const struct multiboot_mmap_entry *)next;
}
