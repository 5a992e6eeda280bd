/* Host tests for vmx/loader.c: ELF32, ELF64 and a.out-kludge kernels built in
 * memory, the information block byte by byte, every refusal with its
 * message and errno (and RAM left untouched), and a seeded mutation fuzz
 * under ASan/UBSan. */
#include "lib/fmt.c"
#include "vmx/loader.c"
#include "tests/host/test.h"

#define RAM_SIZE      (8 * MiB)
#define FILL          0xa5	/* what RAM holds before a load */
#define IMG_CAP       (64 * 1024)
#define MB_FLAGS      (MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY_INFO)
#define AOUT_FLAGS    (MB_FLAGS | MB1_FLAG_AOUT_KLUDGE)

/* ---- builders ------------------------------------------------------------ */
static u8 img[IMG_CAP];

/* The byte every image holds at file offset off unless a header is there. */
static u8 pat(u64 off) { return (u8)(off * 7 + 3); }

static void put16(u8 *p, u16 v) { memcpy(p, &v, 2); }
static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static u32 get32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 get64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

static void fill_pattern(size_t len)
{
	for (size_t i = 0; i < len; i++)
		img[i] = pat(i);
}

/* A Multiboot header with a correct checksum at off. */
static void put_mb(u32 off, u32 flags)
{
	put32(img + off, MB1_HEADER_MAGIC);
	put32(img + off + 4, flags);
	put32(img + off + 8, 0u - MB1_HEADER_MAGIC - flags);
}

static void put_addr_fields(u32 off, u32 header_addr, u32 load_addr, u32 load_end,
			    u32 bss_end, u32 entry)
{
	put32(img + off + MB1_HDR_HEADER_ADDR, header_addr);
	put32(img + off + MB1_HDR_LOAD_ADDR, load_addr);
	put32(img + off + MB1_HDR_LOAD_END_ADDR, load_end);
	put32(img + off + MB1_HDR_BSS_END_ADDR, bss_end);
	put32(img + off + MB1_HDR_ENTRY_ADDR, entry);
}

struct seg {
	u32 type;
	u64 offset, vaddr, paddr, filesz, memsz;
};

/* ELF32/ELF64 executable: program headers right after the ELF header, the
 * Multiboot header at mb_off, segment bytes = the pattern. Returns the image
 * length (the end of the last segment's file bytes, at least mb_off + 12). */
static size_t build_elf(bool is64, const struct seg *s, u32 n, u64 entry,
			u32 mb_off, u32 mb_flags)
{
	size_t len = mb_off + MB1_HDR_MIN_SIZE;
	for (u32 i = 0; i < n; i++)
		if (s[i].offset < IMG_CAP && s[i].filesz <= IMG_CAP - s[i].offset)
			len = MAX(len, (size_t)(s[i].offset + s[i].filesz));
	fill_pattern(len);
	memcpy(img, ELF_MAGIC, 4);
	img[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	img[EI_DATA] = ELFDATA2LSB;
	img[EI_VERSION] = EV_CURRENT;
	if (is64) {
		struct elf64_ehdr eh;
		memcpy(&eh, img, sizeof(eh));
		eh.e_type = ET_EXEC;
		eh.e_machine = EM_X86_64;
		eh.e_version = EV_CURRENT;
		eh.e_entry = entry;
		eh.e_phoff = sizeof(eh);
		eh.e_phentsize = sizeof(struct elf64_phdr);
		eh.e_phnum = (u16)n;
		memcpy(img, &eh, sizeof(eh));
		for (u32 i = 0; i < n; i++) {
			struct elf64_phdr ph = {
				.p_type = s[i].type, .p_offset = s[i].offset,
				.p_vaddr = s[i].vaddr, .p_paddr = s[i].paddr,
				.p_filesz = s[i].filesz, .p_memsz = s[i].memsz,
			};
			memcpy(img + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
		}
	} else {
		struct elf32_ehdr eh;
		memcpy(&eh, img, sizeof(eh));
		eh.e_type = ET_EXEC;
		eh.e_machine = EM_386;
		eh.e_version = EV_CURRENT;
		eh.e_entry = (u32)entry;
		eh.e_phoff = sizeof(eh);
		eh.e_phentsize = sizeof(struct elf32_phdr);
		eh.e_phnum = (u16)n;
		memcpy(img, &eh, sizeof(eh));
		for (u32 i = 0; i < n; i++) {
			struct elf32_phdr ph = {
				.p_type = s[i].type, .p_offset = (u32)s[i].offset,
				.p_vaddr = (u32)s[i].vaddr, .p_paddr = (u32)s[i].paddr,
				.p_filesz = (u32)s[i].filesz, .p_memsz = (u32)s[i].memsz,
			};
			memcpy(img + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
		}
	}
	put_mb(mb_off, mb_flags);
	return len;
}

/* The standard ELF32 kernel: text (0x800 bytes from file 0x1000) at 1 MiB,
 * linked at 0xc0100000; data (0x100 bytes from file 0x2000, 0x3000 in
 * memory: bss) at 2 MiB. Entry 0xc0100010 = physical 0x100010. */
static const struct seg std_segs[] = {
	{ PT_LOAD, 0x1000, 0xc0100000, 0x100000, 0x800, 0x800 },
	{ 4 /* PT_NOTE */, 0x1800, 0, 0, 0x10, 0x10 },
	{ PT_LOAD, 0x2000, 0xc0200000, 0x200000, 0x100, 0x3000 },
};

static size_t build_std_elf32(void)
{
	return build_elf(false, std_segs, ARRAY_SIZE(std_segs), 0xc0100010, 0x100, MB_FLAGS);
}

/* ---- running a load ---------------------------------------------------------- */
static u8 *ram, *ram_ref;	/* ram_ref: ram_size bytes of FILL */
static u64 ram_size;
static struct mb1_load_result res;

static void ram_reset(u64 size)
{
	free(ram);
	free(ram_ref);
	ram_size = size;
	ram = malloc(size);
	ram_ref = malloc(size);
	memset(ram, FILL, size);
	memset(ram_ref, FILL, size);
}

/* Loads img[0, len) from an exactly-sized heap copy, so ASan sees overreads. */
static int load(size_t len, const struct mb1_load_args *args)
{
	static const struct mb1_load_args none = { "", NULL, 0 };
	u8 *copy = malloc(len ? len : 1);
	memcpy(copy, img, len);
	int rc = mb1_load(copy, len, ram, ram_size, args ? args : &none, &res);
	free(copy);
	return rc;
}

/* True if RAM still holds only FILL (a refused load wrote nothing). */
static bool ram_untouched(void)
{
	return memcmp(ram, ram_ref, ram_size) == 0;
}

static bool ram_matches_file(u64 paddr, u64 off, u64 n)
{
	for (u64 i = 0; i < n; i++)
		if (ram[paddr + i] != pat(off + i))
			return false;
	return true;
}

static bool ram_all(u64 paddr, u64 n, u8 v)
{
	for (u64 i = 0; i < n; i++)
		if (ram[paddr + i] != v)
			return false;
	return true;
}

static u32 info32(u32 off) { return get32(ram + res.info_addr + off); }
static const char *gstr(u32 gpa) { return (const char *)ram + gpa; }

/* A refusal: errno, message substring, and nothing written. */
#define CHECK_REFUSED(rc, err, substr)                                         \
	do {                                                                   \
		CHECK_EQ((rc), (err));                                         \
		if (!strstr(res.error, (substr)))                              \
			printf("  %s:%d: message \"%s\" lacks \"%s\"\n",        \
			       __FILE__, __LINE__, res.error, (substr));       \
		CHECK(strstr(res.error, (substr)) != NULL);                    \
		CHECK(ram_untouched());                                        \
	} while (0)

/* ---- successful loads ------------------------------------------------------- */
TEST(test_elf32_two_segments_and_bss)
{
	ram_reset(RAM_SIZE);
	size_t len = build_std_elf32();
	CHECK_EQ(load(len, NULL), 0);
	CHECK_STR(res.error, "");
	CHECK_EQ(res.entry, 0x100010);
	CHECK_EQ(res.info_addr, MB1_INFO_BASE);
	CHECK_EQ(res.kernel_start, 0x100000);
	CHECK_EQ(res.kernel_end, 0x203000);
	CHECK_EQ(res.top, 0x203000);
	CHECK(ram_matches_file(0x100000, 0x1000, 0x800));
	CHECK(ram_all(0x100800, 0x10, FILL));		/* after text: untouched */
	CHECK(ram_matches_file(0x200000, 0x2000, 0x100));
	CHECK(ram_all(0x200100, 0x2f00, 0));		/* bss zeroed */
	CHECK(ram_all(0x203000, 0x10, FILL));		/* after bss: untouched */
	CHECK(ram_all(0, MB1_INFO_BASE, FILL));		/* page 0 (and the PT_NOTE's
							 * paddr) untouched */
}

TEST(test_info_block)
{
	ram_reset(RAM_SIZE);
	size_t len = build_std_elf32();
	struct mb1_load_args args = { "console=ttyS0 x=1", NULL, 0 };
	CHECK_EQ(load(len, &args), 0);

	CHECK_EQ(info32(MB1_INFO_FLAGS), 0x24d);	/* bits 0, 2, 3, 6, 9 */
	CHECK_EQ(info32(MB1_INFO_MEM_LOWER), 640);
	CHECK_EQ(info32(MB1_INFO_MEM_UPPER), 7168);	/* (8 MiB - 1 MiB) / 1 KiB */
	CHECK_STR(gstr(info32(MB1_INFO_CMDLINE)), "console=ttyS0 x=1");
	CHECK_STR(gstr(info32(MB1_INFO_BOOT_LOADER_NAME)), "doorbell");
	CHECK_EQ(info32(MB1_INFO_MODS_COUNT), 0);
	CHECK_EQ(info32(12), 0);			/* boot_device: not given */
	CHECK_EQ(info32(MB1_INFO_MMAP_LENGTH), 72);

	u32 mm = info32(MB1_INFO_MMAP_ADDR);
	static const struct { u64 base, len; u32 type; } want[] = {
		{ 0, 0xa0000, 1 }, { 0xa0000, 0x60000, 2 }, { 0x100000, 7 * MiB, 1 },
	};
	for (u32 i = 0; i < ARRAY_SIZE(want); i++) {
		const u8 *e = ram + mm + i * 24;
		CHECK_EQ(get32(e), 20);
		CHECK_EQ(get64(e + 4), want[i].base);
		CHECK_EQ(get64(e + 12), want[i].len);
		CHECK_EQ(get32(e + 20), want[i].type);
	}
	/* Everything it points to lies inside the documented area. */
	CHECK(mm >= MB1_INFO_BASE && mm + 72 <= MB1_INFO_LIMIT);
	CHECK(info32(MB1_INFO_CMDLINE) >= MB1_INFO_BASE + MB1_INFO_SIZE);
	CHECK(info32(MB1_INFO_CMDLINE) < MB1_INFO_LIMIT);
	/* The unused part of the area is zeroed. */
	CHECK(ram_all(MB1_INFO_LIMIT - 0x100, 0x100, 0));
	CHECK(ram_all(MB1_INFO_LIMIT, 0x100, FILL));

	/* mem_upper for a size that is not a whole number of MiB. */
	ram_reset(3 * MiB + 5 * KiB + 17);
	CHECK_EQ(load(len, NULL), 0);
	CHECK_EQ(info32(MB1_INFO_MEM_UPPER), 2048 + 5);
	CHECK_EQ(get64(ram + info32(MB1_INFO_MMAP_ADDR) + 2 * 24 + 12), 2 * MiB + 5 * KiB + 17);
	CHECK_STR(gstr(info32(MB1_INFO_CMDLINE)), "");
}

TEST(test_modules)
{
	static u8 m0[5000], m1[10];
	for (u32 i = 0; i < sizeof(m0); i++)
		m0[i] = (u8)(i ^ 0x3c);
	memset(m1, 0x77, sizeof(m1));
	struct mb1_module mods[] = {
		{ m0, sizeof(m0), "initrd root=/dev/ram" },
		{ m1, sizeof(m1), NULL },
		{ m1, 0, "empty" },
	};
	struct mb1_load_args args = { "k", mods, 3 };

	ram_reset(RAM_SIZE);
	size_t len = build_std_elf32();
	CHECK_EQ(load(len, &args), 0);
	CHECK_EQ(info32(MB1_INFO_MODS_COUNT), 3);
	u32 ml = info32(MB1_INFO_MODS_ADDR);
	CHECK(ml >= MB1_INFO_BASE && ml + 3 * 16 <= MB1_INFO_LIMIT);
	/* Kernel ends at 0x203000; modules follow, each page aligned. */
	CHECK_EQ(get32(ram + ml + 0), 0x203000);
	CHECK_EQ(get32(ram + ml + 4), 0x203000 + 5000);
	CHECK_STR(gstr(get32(ram + ml + 8)), "initrd root=/dev/ram");
	CHECK_EQ(get32(ram + ml + 12), 0);
	CHECK_EQ(get32(ram + ml + 16), 0x205000);
	CHECK_EQ(get32(ram + ml + 20), 0x20500a);
	CHECK_STR(gstr(get32(ram + ml + 24)), "");
	CHECK_EQ(get32(ram + ml + 32), 0x206000);
	CHECK_EQ(get32(ram + ml + 36), 0x206000);
	CHECK_STR(gstr(get32(ram + ml + 40)), "empty");
	CHECK(memcmp(ram + 0x203000, m0, sizeof(m0)) == 0);
	CHECK(memcmp(ram + 0x205000, m1, sizeof(m1)) == 0);
	CHECK(ram_all(0x203000 + 5000, 0x205000 - 0x203000 - 5000, FILL));
	CHECK_EQ(res.top, 0x20500a);
	CHECK_EQ(res.kernel_end, 0x203000);
	CHECK_STR(gstr(info32(MB1_INFO_CMDLINE)), "k");

	/* Without flags bit 0 the modules are page aligned all the same; and
	 * a kernel ending below 1 MiB gets its modules from 1 MiB on. */
	static const struct seg low[] = {
		{ PT_LOAD, 0x1000, 0x10000, 0x10000, 0x100, 0x100 },
	};
	ram_reset(RAM_SIZE);
	len = build_elf(false, low, 1, 0x10000, 0x80, MB1_FLAG_MEMORY_INFO);
	CHECK_EQ(load(len, &args), 0);
	ml = info32(MB1_INFO_MODS_ADDR);
	CHECK_EQ(get32(ram + ml + 0), 0x100000);
	CHECK_EQ(get32(ram + ml + 16), 0x102000);
	CHECK_EQ(res.kernel_end, 0x10100);
	CHECK_EQ(res.top, 0x10200a);
}

TEST(test_elf64)
{
	static const struct seg s[] = {
		{ PT_LOAD, 0x1000, 0xffffffff80100000ull, 0x100000, 0x1800, 0x1800 },
		{ PT_LOAD, 0x3000, 0xffffffff80400000ull, 0x400000, 0x20, 0x10000 },
	};
	ram_reset(RAM_SIZE);
	size_t len = build_elf(true, s, 2, 0xffffffff80100040ull, 0x800, MB_FLAGS);
	CHECK_EQ(load(len, NULL), 0);
	CHECK_EQ(res.entry, 0x100040);
	CHECK_EQ(res.kernel_start, 0x100000);
	CHECK_EQ(res.kernel_end, 0x410000);
	CHECK(ram_matches_file(0x100000, 0x1000, 0x1800));
	CHECK(ram_matches_file(0x400000, 0x3000, 0x20));
	CHECK(ram_all(0x400020, 0x10000 - 0x20, 0));
	CHECK_EQ(info32(MB1_INFO_MEM_UPPER), 7168);

	/* Identity-linked ELF64 (vaddr == paddr): entry taken as is. */
	static const struct seg id[] = {
		{ PT_LOAD, 0x1000, 0x200000, 0x200000, 0x100, 0x100 },
	};
	ram_reset(RAM_SIZE);
	len = build_elf(true, id, 1, 0x2000ff, 0x80, MB_FLAGS | BIT(17) | BIT(31));
	CHECK_EQ(load(len, NULL), 0);		/* optional bits 17, 31 ignored */
	CHECK_EQ(res.entry, 0x2000ff);
}

/* a.out kludge: the address fields decide; the ELF header, if any, is not
 * looked at. */
TEST(test_aout_whole_file)
{
	ram_reset(RAM_SIZE);
	size_t len = 0x3000;
	fill_pattern(len);
	put_mb(0x40, AOUT_FLAGS);
	/* header_addr - load_addr == header offset: load from file offset 0 */
	put_addr_fields(0x40, 0x300040, 0x300000, 0, 0, 0x300080);
	CHECK_EQ(load(len, NULL), 0);
	CHECK_EQ(res.entry, 0x300080);
	CHECK_EQ(res.kernel_start, 0x300000);
	CHECK_EQ(res.kernel_end, 0x303000);
	CHECK_EQ(ram[0x300040], 0x02);		/* the header itself, loaded */
	CHECK(ram_matches_file(0x300000, 0, 0x40));
	CHECK(ram_matches_file(0x300060, 0x60, len - 0x60));
	CHECK(ram_all(0x303000, 0x100, FILL));

	/* An ELF file with bit 16: the address fields win. */
	ram_reset(RAM_SIZE);
	len = build_std_elf32();
	put_mb(0x100, AOUT_FLAGS);
	put_addr_fields(0x100, 0x500100, 0x500000, 0, 0, 0x500000);
	CHECK_EQ(load(len, NULL), 0);
	CHECK_EQ(res.entry, 0x500000);
	CHECK_EQ(res.kernel_end, 0x500000 + len);
	CHECK(ram_all(0x100000, 0x800, FILL));	/* no ELF segment loaded */
}

TEST(test_aout_load_end_and_bss)
{
	ram_reset(RAM_SIZE);
	size_t len = 0x3000;
	fill_pattern(len);
	/* Header at 0x200 maps to 0x400100: the load starts at file 0x100. */
	put_mb(0x200, AOUT_FLAGS);
	put_addr_fields(0x200, 0x400100, 0x400000, 0x401000, 0x404000, 0x400010);
	CHECK_EQ(load(len, NULL), 0);
	CHECK_EQ(res.entry, 0x400010);
	CHECK_EQ(res.kernel_start, 0x400000);
	CHECK_EQ(res.kernel_end, 0x404000);
	CHECK(ram_matches_file(0x400000, 0x100, 0x100));	/* up to the header */
	CHECK(ram_matches_file(0x400120, 0x220, 0x1000 - 0x120));
	CHECK(ram_all(0x401000, 0x3000, 0));		/* bss */
	CHECK(ram_all(0x404000, 0x10, FILL));
	CHECK(ram_all(0x3fff00, 0x100, FILL));
}

TEST(test_header_offsets)
{
	static const struct seg s[] = { { PT_LOAD, 0x2000, 0x100000, 0x100000, 0x10, 0x10 } };
	/* ELF: the 12-byte header may end exactly at 8192. */
	static const u32 good[] = { 52 + 32, 0x100, 0x1ff4 };
	for (u32 i = 0; i < ARRAY_SIZE(good); i++) {
		ram_reset(2 * MiB);
		size_t len = build_elf(false, s, 1, 0x100000, good[i], MB_FLAGS);
		CHECK_EQ(load(len, NULL), 0);
		CHECK_EQ(res.entry, 0x100000);
	}
	/* a.out kludge at offset 0 and with its 32 bytes ending at 8192. */
	static const u32 aout[] = { 0, 4, 0x1fe0 };
	for (u32 i = 0; i < ARRAY_SIZE(aout); i++) {
		ram_reset(2 * MiB);
		fill_pattern(0x2100);
		put_mb(aout[i], AOUT_FLAGS);
		put_addr_fields(aout[i], 0x100000 + aout[i], 0x100000, 0, 0, 0x100000);
		CHECK_EQ(load(0x2100, NULL), 0);
		CHECK_EQ(res.kernel_end, 0x102100);
	}
	/* A stray magic with a wrong checksum before the real header. */
	ram_reset(2 * MiB);
	size_t len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);
	put32(img + 0x80, MB1_HEADER_MAGIC);
	CHECK_EQ(load(len, NULL), 0);
}

/* ---- refusals ------------------------------------------------------------- */
TEST(test_refuse_header)
{
	static const struct seg s[] = { { PT_LOAD, 0x2000, 0x100000, 0x100000, 0x10, 0x10 } };
	size_t len;

	ram_reset(2 * MiB);
	len = build_elf(false, s, 1, 0x100000, 0x1ff8, MB_FLAGS);	/* ends past 8192 */
	CHECK_REFUSED(load(len, NULL), -EINVAL, "guest: no multiboot header in the first 8192 bytes");
	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);
	memmove(img + 0x102, img + 0x100, 12);			/* misaligned */
	memset(img + 0x100, 0, 2);
	CHECK_REFUSED(load(len, NULL), -EINVAL, "no multiboot header");
	CHECK_REFUSED(load(0, NULL), -EINVAL, "no multiboot header");
	CHECK_REFUSED(load(11, NULL), -EINVAL, "no multiboot header");

	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);
	put32(img + 0x108, get32(img + 0x108) + 1);
	CHECK_REFUSED(load(len, NULL), -EINVAL, "guest: multiboot header checksum wrong (magic at offset 0x100)");

	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS | MB1_FLAG_VIDEO_MODE);
	CHECK_REFUSED(load(len, NULL), -EINVAL, "flags 0x7 ask for a video mode (bit 2)");
	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS | BIT(3) | BIT(15));
	CHECK_REFUSED(load(len, NULL), -EINVAL, "required bits 0x8008 this loader does not know");

	/* Address fields that do not fit before 8192, or before the end. */
	fill_pattern(0x2100);
	put_mb(0x1fe4, AOUT_FLAGS);
	CHECK_REFUSED(load(0x2100, NULL), -EINVAL, "at offset 0x1fe4 is cut off");
	fill_pattern(0x60);
	put_mb(0x40, AOUT_FLAGS);
	CHECK_REFUSED(load(0x50, NULL), -EINVAL, "at offset 0x40 is cut off");

	ram_reset(1 * MiB);
	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len, NULL), -EINVAL, "guest: guest RAM (1 MiB) must be larger than 1 MiB");
}

TEST(test_refuse_elf_header)
{
	static const struct seg s[] = { { PT_LOAD, 0x2000, 0x100000, 0x100000, 0x10, 0x10 } };
	size_t len;

	ram_reset(2 * MiB);
	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);
	img[0] = 0x7e;
	CHECK_REFUSED(load(len, NULL), -EINVAL, "guest: not an ELF file and no address fields (flags bit 16)");

	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);
	img[EI_CLASS] = 3;
	CHECK_REFUSED(load(len, NULL), -EINVAL, "ELF class 3 is neither");
	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);
	img[EI_DATA] = 2;
	CHECK_REFUSED(load(len, NULL), -EINVAL, "not little-endian");
	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);
	img[EI_VERSION] = 0;
	CHECK_REFUSED(load(len, NULL), -EINVAL, "ELF version 0/1 is not EV_CURRENT");
	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);
	put16(img + 16, 3);					/* ET_DYN */
	CHECK_REFUSED(load(len, NULL), -EINVAL, "ELF type 3 is not ET_EXEC");
	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);
	put16(img + 18, EM_X86_64);
	CHECK_REFUSED(load(len, NULL), -EINVAL, "ELF32 machine 62 is not EM_386 (3)");
	len = build_elf(true, s, 1, 0x100000, 0x100, MB_FLAGS);
	put16(img + 18, EM_386);
	CHECK_REFUSED(load(len, NULL), -EINVAL, "ELF64 machine 3 is not EM_X86_64 (62)");
	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);
	put16(img + 42, 31);					/* e_phentsize */
	CHECK_REFUSED(load(len, NULL), -EINVAL, "program header size 31 is smaller than 32");
	len = build_elf(true, s, 1, 0x100000, 0x100, MB_FLAGS);
	put16(img + 54, 55);
	CHECK_REFUSED(load(len, NULL), -EINVAL, "program header size 55 is smaller than 56");
	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);
	put16(img + 44, 300);					/* e_phnum */
	CHECK_REFUSED(load(len, NULL), -EINVAL, "ELF program headers (300 at offset 0x34) run past the end of the 0x2010-byte image");
	len = build_elf(true, s, 1, 0x100000, 0x100, MB_FLAGS);
	memset(img + 32, 0xff, 8);				/* e_phoff = 2^64 - 1 */
	CHECK_REFUSED(load(len, NULL), -EINVAL, "run past the end");

	/* ELF64 header cut off: ident, then the Multiboot header at 16. */
	memset(img, 0, 64);
	memcpy(img, ELF_MAGIC, 4);
	img[EI_CLASS] = ELFCLASS64;
	img[EI_DATA] = ELFDATA2LSB;
	put_mb(16, MB_FLAGS);
	CHECK_REFUSED(load(28, NULL), -EINVAL, "ELF header cut off: the image has only 28 bytes");

	len = build_elf(false, s, 0, 0x100000, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len, NULL), -EINVAL, "guest: ELF file has no PT_LOAD segment to load");
	static const struct seg empty[] = {
		{ PT_LOAD, 0x2000, 0x100000, 0x100000, 0, 0 },
		{ 6, 0x2000, 0x100000, 0x100000, 0x10, 0x10 },
	};
	len = build_elf(false, empty, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len, NULL), -EINVAL, "no PT_LOAD segment");
}

TEST(test_refuse_elf_segments)
{
	size_t len;
	ram_reset(8 * MiB);

	struct seg s[2] = {
		{ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x10, 0x10 },
		{ PT_LOAD, 0x1010, 0x7f0000, 0x7f0000, 0x10, 0x20000 },
	};
	len = build_elf(false, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len, NULL), -ERANGE,
		      "guest: ELF segment 1 at 0x7f0000-0x810000 lies outside guest RAM (8 MiB)");
	s[1].memsz = 0x10000;					/* ends exactly at 8 MiB */
	len = build_elf(false, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_EQ(load(len, NULL), 0);
	CHECK_EQ(res.kernel_end, 8 * MiB);

	ram_reset(8 * MiB);
	s[1] = (struct seg){ PT_LOAD, 0x1010, 0x97000, 0x97000, 0x10, 0x2000 };
	len = build_elf(false, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len, NULL), -ERANGE,
		      "guest: ELF segment 1 at 0x97000-0x99000 overlaps the boot information area 0x98000-0xa0000");
	s[1].memsz = 0x1000;					/* ends at the base: fine */
	len = build_elf(false, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_EQ(load(len, NULL), 0);
	CHECK(ram_matches_file(0x97000, 0x1010, 0x10));
	ram_reset(8 * MiB);
	s[1].paddr = 0xa0000;					/* starts at the limit: fine */
	len = build_elf(false, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_EQ(load(len, NULL), 0);

	/* Linked low, as kvm-unit-tests' realmode.flat (0x8000) and below
	 * page 1: both load now. */
	ram_reset(8 * MiB);
	s[1] = (struct seg){ PT_LOAD, 0x1010, 0x8000, 0x8000, 0x10, 0x10000 };
	len = build_elf(false, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_EQ(load(len, NULL), 0);
	CHECK(ram_matches_file(0x8000, 0x1010, 0x10));
	CHECK(ram_all(0x8010, 0x10000 - 0x10, 0));		/* its bss zeroed */
	s[1].paddr = 0x0;
	len = build_elf(false, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_EQ(load(len, NULL), 0);
	CHECK(ram_matches_file(0, 0x1010, 0x10));

	/* The BIOS area with the ACPI tables: refused at both ends. */
	ram_reset(8 * MiB);
	s[1] = (struct seg){ PT_LOAD, 0x1010, 0xdf000, 0xdf000, 0x10, 0x1001 };
	len = build_elf(false, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len, NULL), -ERANGE,
		      "guest: ELF segment 1 at 0xdf000-0xe0001 overlaps the BIOS area 0xe0000-0x100000 (the guest's ACPI tables)");
	s[1].paddr = 0xfffff;
	s[1].memsz = 0x10;
	len = build_elf(false, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len, NULL), -ERANGE, "overlaps the BIOS area");
	s[1].paddr = 0xdf000;					/* ends at 0xe0000: fine */
	s[1].memsz = 0x1000;
	len = build_elf(false, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_EQ(load(len, NULL), 0);

	ram_reset(8 * MiB);
	s[1] = (struct seg){ PT_LOAD, 0x1010, 0, 0xfffffffffffff000ull, 0x10, 0x2000 };
	len = build_elf(true, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len, NULL), -ERANGE,
		      "guest: ELF segment 1 at 0xfffffffffffff000 with size 0x2000 wraps around the address space");
	s[1] = (struct seg){ PT_LOAD, 0x1010, 0, 0x200000, 0x10, 0x100000000ull };
	len = build_elf(true, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len, NULL), -ERANGE, "lies outside guest RAM");

	s[1] = (struct seg){ PT_LOAD, 0x1010, 0x200000, 0x200000, 0x20, 0x10 };
	len = build_elf(false, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len, NULL), -EINVAL, "guest: ELF segment 1 has p_filesz 0x20 > p_memsz 0x10");
	s[1] = (struct seg){ PT_LOAD, 0x1010, 0x200000, 0x200000, 0x10, 0x10 };
	len = build_elf(false, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len - 1, NULL), -EINVAL,
		      "guest: ELF segment 1 (file offset 0x1010, size 0x10) runs past the end of the 0x101f-byte image");
	s[1].offset = 0xffffffffffffff00ull;
	len = build_elf(true, s, 2, 0x100000, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len, NULL), -EINVAL, "runs past the end");
}

TEST(test_refuse_elf_entry)
{
	static const struct seg s[] = {
		{ PT_LOAD, 0x1000, 0xc0100000, 0x100000, 0x10, 0x100 },
	};
	ram_reset(2 * MiB);
	size_t len = build_elf(false, s, 1, 0xc0100100, 0x100, MB_FLAGS);
	CHECK_REFUSED(load(len, NULL), -EINVAL, "guest: ELF entry point 0xc0100100 is in no PT_LOAD segment");
	len = build_elf(false, s, 1, 0x100000, 0x100, MB_FLAGS);	/* physical, not virtual */
	CHECK_REFUSED(load(len, NULL), -EINVAL, "in no PT_LOAD segment");
	len = build_elf(false, s, 1, 0xc01000ff, 0x100, MB_FLAGS);	/* last bss byte: fine */
	CHECK_EQ(load(len, NULL), 0);
	CHECK_EQ(res.entry, 0x1000ff);

	/* An ELF64 segment above 4 GiB holding the entry. The claimed RAM is
	 * larger than the buffer: a refusal writes nothing, so this is safe
	 * (ASan would report any write). */
	static const struct seg hi[] = {
		{ PT_LOAD, 0x1000, 0xffffffff80000000ull, 0x100000000ull, 0x10, 0x10 },
	};
	ram_reset(2 * MiB);
	len = build_elf(true, hi, 1, 0xffffffff80000004ull, 0x100, MB_FLAGS);
	u64 real = ram_size;
	ram_size = 8 * GiB;
	int rc = load(len, NULL);
	ram_size = real;
	CHECK_REFUSED(rc, -EINVAL,
		      "guest: ELF entry point 0xffffffff80000004 (physical 0x100000004) is above 4 GiB");
}

TEST(test_refuse_aout)
{
	ram_reset(8 * MiB);
	size_t len = 0x2000;
	struct { u32 hoff, header, load, load_end, bss_end, entry; int err; const char *msg; } c[] = {
		{ 0x40, 0x100040, 0x100041, 0, 0, 0x100041, -EINVAL,
		  "guest: multiboot load_addr 0x100041 is above header_addr 0x100040" },
		{ 0x40, 0x100080, 0x100000, 0, 0, 0x100000, -EINVAL,
		  "header_addr - load_addr = 0x80, but the header is at file offset 0x40" },
		{ 0x40, 0x100040, 0x100000, 0x100000, 0, 0x100000, -EINVAL,
		  "guest: multiboot load_end_addr 0x100000 is not above load_addr 0x100000" },
		{ 0x40, 0x100040, 0x100000, 0x102001, 0, 0x100000, -EINVAL,
		  "load_end_addr 0x102001 needs 0x2001 bytes from file offset 0x0, past the end of the 0x2000-byte image" },
		{ 0x40, 0x100040, 0x100000, 0x101000, 0x100fff, 0x100000, -EINVAL,
		  "guest: multiboot bss_end_addr 0x100fff is below the end of the loaded image 0x101000" },
		{ 0x40, 0x100040, 0x100000, 0x101000, 0, 0x101000, -EINVAL,
		  "guest: multiboot entry_addr 0x101000 is outside the loaded image 0x100000-0x101000" },
		{ 0x40, 0x100040, 0x100000, 0, 0, 0xfffff, -EINVAL, "entry_addr 0xfffff is outside" },
		{ 0x40, 0x7ff040, 0x7ff000, 0, 0, 0x7ff000, -ERANGE,
		  "guest: kernel (multiboot address fields) at 0x7ff000-0x801000 lies outside guest RAM (8 MiB)" },
		{ 0x40, 0x100040, 0x100000, 0, 0xffffffff, 0x100000, -ERANGE,
		  "at 0x100000-0xffffffff lies outside guest RAM" },
		{ 0x40, 0x97040, 0x97000, 0, 0, 0x97000, -ERANGE,
		  "guest: kernel (multiboot address fields) at 0x97000-0x99000 overlaps the boot information area" },
		{ 0x40, 0x97040, 0x97000, 0x98000, 0x98001, 0x97000, -ERANGE,
		  "at 0x97000-0x98001 overlaps the boot information area" },
		{ 0x40, 0xff040, 0xff000, 0, 0, 0xff000, -ERANGE,
		  "at 0xff000-0x101000 overlaps the BIOS area 0xe0000-0x100000 (the guest's ACPI tables)" },
	};
	for (u32 i = 0; i < ARRAY_SIZE(c); i++) {
		fill_pattern(len);
		put_mb(c[i].hoff, AOUT_FLAGS);
		put_addr_fields(c[i].hoff, c[i].header, c[i].load, c[i].load_end,
				c[i].bss_end, c[i].entry);
		int rc = load(len, NULL);
		if (rc != c[i].err || !strstr(res.error, c[i].msg))
			printf("  case %u: rc %d, \"%s\"\n", i, rc, res.error);
		CHECK_REFUSED(rc, c[i].err, c[i].msg);
	}
}

TEST(test_refuse_info_and_modules)
{
	ram_reset(4 * MiB);
	size_t len = build_std_elf32();

	/* A command line that does not fit in the info area. */
	static char big[MB1_INFO_LIMIT - MB1_INFO_BASE];
	memset(big, 'x', sizeof(big) - 1);
	struct mb1_load_args args = { big, NULL, 0 };
	CHECK_REFUSED(load(len, &args), -E2BIG,
		      "guest: the command line, 0 module string(s) and the boot information need more than the 32768 bytes at 0x98000-0xa0000");
	/* Nearly as long: fits. */
	big[sizeof(big) - 1024] = '\0';
	CHECK_EQ(load(len, &args), 0);
	CHECK_EQ(strlen(gstr(info32(MB1_INFO_CMDLINE))), sizeof(big) - 1024);

	/* Too many module strings. */
	ram_reset(4 * MiB);
	static struct mb1_module many[2100];
	for (u32 i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct mb1_module){ (const u8 *)"m", 1, "0123456789" };
	args = (struct mb1_load_args){ "", many, ARRAY_SIZE(many) };
	CHECK_REFUSED(load(len, &args), -E2BIG, "2100 module string(s)");

	/* A module that does not fit in RAM: kernel ends at 0x203000. */
	static u8 blob[2 * MiB];
	struct mb1_module m[] = { { blob, 4096, "a" }, { blob, 2 * MiB, "b" } };
	args = (struct mb1_load_args){ "", m, 2 };
	CHECK_REFUSED(load(len, &args), -E2BIG,
		      "guest: module 1 (0x200000 bytes) does not fit in guest RAM (4 MiB, below 4 GiB) at 0x204000");
	m[1].len = 4 * MiB - 0x204000;				/* exactly fits */
	CHECK_EQ(load(len, &args), 0);
	CHECK_EQ(res.top, 4 * MiB);
}

/* ---- fuzz ---------------------------------------------------------------- */
static u8 fuzz_mod[3000];

/* Checks what a successful load promised. */
static bool fuzz_check_success(void)
{
	bool ok = true;
	ok &= res.info_addr == MB1_INFO_BASE;
	ok &= res.kernel_start < res.kernel_end && res.kernel_end <= ram_size;
	ok &= res.entry >= res.kernel_start && res.entry < res.kernel_end;
	ok &= res.top >= res.kernel_end && res.top <= ram_size;
	/* Segments may lie on both sides of the info area, never in it: the
	 * info block written last is intact whatever the kernel was. */
	ok &= info32(MB1_INFO_FLAGS) == 0x24d;
	ok &= info32(MB1_INFO_MEM_UPPER) == (ram_size - MiB) / KiB;
	ok &= info32(MB1_INFO_MODS_COUNT) == 1;
	if (!ok)
		return false;
	u32 ml = info32(MB1_INFO_MODS_ADDR);
	u32 ms = get32(ram + ml), me = get32(ram + ml + 4);
	ok &= IS_ALIGNED(ms, PAGE_SIZE) && ms >= MB1_MODULES_MIN && ms >= res.kernel_end;
	ok &= me == ms + sizeof(fuzz_mod) && me <= ram_size;
	ok &= me <= ram_size && memcmp(ram + ms, fuzz_mod, sizeof(fuzz_mod)) == 0;
	ok &= strcmp(gstr(info32(MB1_INFO_CMDLINE)), "fuzz") == 0;
	return ok;
}

/* One of the valid images the fuzzer starts from; returns its length and the
 * Multiboot header's offset. */
static size_t fuzz_base(u32 kind, u32 *hoff)
{
	static const struct seg segs32[] = {
		{ PT_LOAD, 0x400, 0xc0100000, 0x100000, 0x200, 0x200 },
		{ PT_LOAD, 0x600, 0xc0110000, 0x110000, 0x80, 0x1000 },
	};
	static const struct seg segs64[] = {
		{ PT_LOAD, 0x400, 0xffffffff80100000ull, 0x100000, 0x300, 0x2000 },
		{ PT_LOAD, 0x700, 0x120000, 0x120000, 0x40, 0x40 },
	};
	switch (kind) {
	case 0:
		*hoff = 0x100;
		return build_elf(false, segs32, 2, 0xc0100010, 0x100, MB_FLAGS);
	case 1:
		*hoff = 0x200;
		return build_elf(true, segs64, 2, 0xffffffff80100020ull, 0x200, MB_FLAGS);
	case 2:
		*hoff = 0x20;
		fill_pattern(0x800);
		put_mb(0x20, AOUT_FLAGS);
		put_addr_fields(0x20, 0x100020, 0x100000, 0, 0, 0x100040);
		return 0x800;
	default:
		*hoff = 0x80;
		fill_pattern(0x800);
		put_mb(0x80, AOUT_FLAGS);
		put_addr_fields(0x80, 0x100040, 0x100000, 0x100400, 0x104000, 0x100100);
		return 0x800;
	}
}

/* A random value that is often interesting: small, near RAM's end, or near
 * a power of two. */
static u64 fuzz_value(void)
{
	switch (test_rand() % 6) {
	case 0: return test_rand();
	case 1: return test_rand() % 0x200;
	case 2: return ram_size - test_rand() % 0x3000;
	case 3: return (u64)(u32)-(s32)(test_rand() % 0x100);
	case 4: return 0x100000 + test_rand() % 0x40000;
	default: return BIT(test_rand() % 64) + test_rand() % 3 - 1;
	}
}

TEST(test_fuzz)
{
	const u32 iterations = 100000;
	u32 ok_loads = 0, refused = 0, bad = 0;
	static const u32 hot[] = { 16, 18, 20, 24, 28, 32, 40, 42, 44, 52, 56, 64, 72, 80, 96 };
	struct mb1_module mod = { fuzz_mod, sizeof(fuzz_mod), "mod" };
	struct mb1_load_args args = { "fuzz", &mod, 1 };

	test_seed(0x10ade5);
	memset(fuzz_mod, 0x5c, sizeof(fuzz_mod));
	ram_reset(MiB + 256 * KiB);
	for (u32 it = 0; it < iterations; it++) {
		u32 hoff;
		size_t len = fuzz_base((u32)(test_rand() % 4), &hoff);
		u32 n = 1 + (u32)(test_rand() % 6);
		for (u32 k = 0; k < n; k++) {
			u64 v = fuzz_value();
			switch (test_rand() % 5) {
			case 0:	/* a byte anywhere */
				img[test_rand() % (len ? len : 1)] = (u8)test_rand();
				break;
			case 1:	/* an ELF header or program header field */
				memcpy(img + hot[test_rand() % ARRAY_SIZE(hot)] +
				       (test_rand() % 3) * 32, &v, 1 + test_rand() % 8);
				break;
			case 2:	/* a Multiboot header field */
				put32(img + hoff + 4 * (1 + test_rand() % 7), (u32)v);
				break;
			case 3:	/* truncate */
				len = test_rand() % (len + 1);
				break;
			default:	/* a 64-bit program header field */
				memcpy(img + 64 + (test_rand() % 2) * 56 + 8 * (1 + test_rand() % 5),
				       &v, 8);
				break;
			}
		}
		/* Mostly keep the checksum right so the fuzz gets past it. */
		if (test_rand() % 4 && hoff + 12 <= len)
			put32(img + hoff + 8, 0u - MB1_HEADER_MAGIC - get32(img + hoff + 4));

		int rc = load(len, &args);
		if (rc == 0) {
			ok_loads++;
			if (!fuzz_check_success()) {
				if (bad++ < 5)
					printf("  iteration %u: inconsistent success\n", it);
			}
			memset(ram, FILL, ram_size);
			continue;
		}
		refused++;
		bool fine = (rc == -EINVAL || rc == -ERANGE || rc == -E2BIG) &&
			    strncmp(res.error, "guest: ", 7) == 0 &&
			    memchr(res.error, 0, sizeof(res.error)) != NULL;
		/* RAM is compared in full every 8th refusal (it is slow). */
		if (fine && it % 8 == 0)
			fine = ram_untouched();
		if (!fine && bad++ < 5)
			printf("  iteration %u: rc %d \"%s\"\n", it, rc, res.error);
	}
	printf("  fuzz: %u iterations, %u loaded, %u refused\n", iterations, ok_loads, refused);
	CHECK_EQ(bad, 0);
	CHECK(ok_loads > iterations / 20);	/* the fuzz reaches the copy code */
	CHECK(refused > iterations / 4);
}

int main(void)
{
	RUN(test_elf32_two_segments_and_bss);
	RUN(test_info_block);
	RUN(test_modules);
	RUN(test_elf64);
	RUN(test_aout_whole_file);
	RUN(test_aout_load_end_and_bss);
	RUN(test_header_offsets);
	RUN(test_refuse_header);
	RUN(test_refuse_elf_header);
	RUN(test_refuse_elf_segments);
	RUN(test_refuse_elf_entry);
	RUN(test_refuse_aout);
	RUN(test_refuse_info_and_modules);
	RUN(test_fuzz);
	free(ram);
	free(ram_ref);
	return TEST_SUMMARY();
}
