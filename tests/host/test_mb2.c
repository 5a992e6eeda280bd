/* Host tests for boot/multiboot2.c: well-formed structures, every refusal
 * with its message, and a seeded mutation fuzz under ASan/UBSan. */
#include "lib/fmt.c"
#include "boot/multiboot2.c"
#include "tests/host/test.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(a, n)   ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

#define MAGIC MULTIBOOT2_BOOTLOADER_MAGIC

/* ---- a builder for multiboot2 information structures -------------------- */
struct mb {
	u64 words[4096];	/* 32 KiB, 8-byte aligned as the spec requires */
	u32 len;
};

static u8 *mb_bytes(struct mb *b) { return (u8 *)b->words; }

static void mb_put32(struct mb *b, u32 off, u32 v) { memcpy(mb_bytes(b) + off, &v, 4); }
static void mb_put64(struct mb *b, u32 off, u64 v) { memcpy(mb_bytes(b) + off, &v, 8); }

static void mb_begin(struct mb *b)
{
	memset(b, 0, sizeof(*b));
	b->len = 8;
}

/* Appends a tag of the given type whose payload is data[0..n); returns its
 * offset. The next tag starts 8-byte aligned. */
static u32 mb_tag(struct mb *b, u32 type, const void *data, u32 n)
{
	u32 off = b->len;
	mb_put32(b, off, type);
	mb_put32(b, off + 4, 8 + n);
	if (n)
		memcpy(mb_bytes(b) + off + 8, data, n);
	b->len = ALIGN_UP(off + 8 + n, 8u);
	return off;
}

static u32 mb_cmdline(struct mb *b, const char *s)
{
	return mb_tag(b, MB2_TAG_CMDLINE, s, (u32)strlen(s) + 1);
}

static u32 mb_module(struct mb *b, u32 start, u32 end, const char *s)
{
	u8 payload[256];
	u32 n = (u32)strlen(s) + 1;
	memcpy(payload, &start, 4);
	memcpy(payload + 4, &end, 4);
	memcpy(payload + 8, s, n);
	return mb_tag(b, MB2_TAG_MODULE, payload, 8 + n);
}

/* A memory map with count entries of esize bytes: base i GiB + 0x1000,
 * length (i + 1) MiB, type 1 + i % 5, extra bytes filled with 0xee. */
static u32 mb_mmap(struct mb *b, u32 esize, u32 count)
{
	static u8 payload[8 + 200 * 64];
	memset(payload, 0xee, sizeof(payload));
	memcpy(payload, &esize, 4);
	memset(payload + 4, 0, 4);
	for (u32 i = 0; i < count; i++) {
		u8 *e = payload + 8 + i * esize;
		u64 base = i * GiB + 0x1000, len = (i + 1) * MiB;
		u32 type = 1 + i % 5, rsv = 0;
		memcpy(e, &base, 8);
		memcpy(e + 8, &len, 8);
		memcpy(e + 16, &type, 4);
		memcpy(e + 20, &rsv, 4);
	}
	return mb_tag(b, MB2_TAG_MMAP, payload, 8 + count * esize);
}

static u32 mb_rsdp(struct mb *b, u32 type, u32 n, u8 fill)
{
	u8 payload[64];
	memset(payload, fill, sizeof(payload));
	memcpy(payload, "RSD PTR ", 8);
	return mb_tag(b, type, payload, n);
}

static u32 mb_end(struct mb *b)
{
	u32 off = mb_tag(b, MB2_TAG_END, NULL, 0);
	mb_put32(b, 0, b->len);
	return off;
}

static int parse(struct mb *b, struct mb2_info *info)
{
	return mb2_parse(MAGIC, b->words, b->len, info);
}

/* Expects -EINVAL and exactly the message want. */
#define CHECK_REFUSED(b, want)                                               \
	do {                                                                 \
		struct mb2_info info_;                                       \
		CHECK_EQ(parse((b), &info_), -EINVAL);                       \
		CHECK_STR(info_.error, (want));                              \
		CHECK_EQ(info_.mmap_count, 0);                               \
		CHECK_EQ(info_.module_count, 0);                             \
		CHECK(info_.rsdp == NULL);                                   \
	} while (0)

static struct mb B;	/* large: keep it off the stack */
static char want[256];

/* ---- well-formed structures --------------------------------------------- */
TEST(test_well_formed)
{
	struct mb2_info info;
	mb_begin(&B);
	u32 c = mb_cmdline(&B, "vcpus=2 trace=1");
	mb_tag(&B, 2, "GRUB 2.06", 10);		/* boot loader name: skipped */
	u32 m0 = mb_module(&B, 0x200000, 0x212345, "guest.elf a b");
	u32 m1 = mb_module(&B, 0x300000, 0x300000, "");
	mb_mmap(&B, 24, 3);
	u32 old = mb_rsdp(&B, MB2_TAG_ACPI_OLD, 20, 0x11);
	u32 nw = mb_rsdp(&B, MB2_TAG_ACPI_NEW, 36, 0x22);
	mb_end(&B);

	CHECK_EQ(parse(&B, &info), 0);
	CHECK_STR(info.error, "");
	CHECK_EQ(info.total_size, B.len);
	CHECK(info.cmdline == (const char *)mb_bytes(&B) + c + 8);
	CHECK_STR(info.cmdline, "vcpus=2 trace=1");
	CHECK_EQ(info.module_count, 2);
	CHECK_EQ(info.modules[0].start, 0x200000);
	CHECK_EQ(info.modules[0].end, 0x212345);
	CHECK(info.modules[0].string == (const char *)mb_bytes(&B) + m0 + 16);
	CHECK_STR(info.modules[0].string, "guest.elf a b");
	CHECK_EQ(info.modules[1].start, 0x300000);
	CHECK_EQ(info.modules[1].end, 0x300000);
	CHECK(info.modules[1].string == (const char *)mb_bytes(&B) + m1 + 16);
	CHECK_STR(info.modules[1].string, "");
	CHECK_EQ(info.mmap_count, 3);
	for (u32 i = 0; i < 3; i++) {
		CHECK_EQ(info.mmap[i].base, i * GiB + 0x1000);
		CHECK_EQ(info.mmap[i].len, (i + 1) * MiB);
		CHECK_EQ(info.mmap[i].type, 1 + i % 5);
	}
	/* The new RSDP wins over the old, whichever comes first. */
	CHECK(info.rsdp == mb_bytes(&B) + nw + 8);
	CHECK_EQ(info.rsdp_len, 36);
	(void)old;
}

TEST(test_new_rsdp_preferred_when_first)
{
	struct mb2_info info;
	mb_begin(&B);
	u32 nw = mb_rsdp(&B, MB2_TAG_ACPI_NEW, 40, 0x22);
	mb_rsdp(&B, MB2_TAG_ACPI_OLD, 20, 0x11);
	mb_mmap(&B, 24, 1);
	mb_end(&B);
	CHECK_EQ(parse(&B, &info), 0);
	CHECK(info.rsdp == mb_bytes(&B) + nw + 8);
	CHECK_EQ(info.rsdp_len, 40);
}

TEST(test_minimal_defaults)
{
	struct mb2_info info;
	mb_begin(&B);
	mb_mmap(&B, 24, 0);
	mb_end(&B);
	CHECK_EQ(parse(&B, &info), 0);
	CHECK_STR(info.cmdline, "");
	CHECK_EQ(info.mmap_count, 0);
	CHECK_EQ(info.module_count, 0);
	CHECK(info.rsdp == NULL);
	CHECK_EQ(info.rsdp_len, 0);
	CHECK_EQ(info.total_size, 8 + 16 + 8);
}

TEST(test_old_rsdp_only)
{
	struct mb2_info info;
	mb_begin(&B);
	mb_mmap(&B, 24, 1);
	u32 old = mb_rsdp(&B, MB2_TAG_ACPI_OLD, 20, 0x11);
	mb_end(&B);
	CHECK_EQ(parse(&B, &info), 0);
	CHECK(info.rsdp == mb_bytes(&B) + old + 8);
	CHECK_EQ(info.rsdp_len, 20);
}

TEST(test_mmap_larger_entries)
{
	struct mb2_info info;
	mb_begin(&B);
	mb_mmap(&B, 40, 5);	/* a future, longer entry: extra bytes ignored */
	mb_end(&B);
	CHECK_EQ(parse(&B, &info), 0);
	CHECK_EQ(info.mmap_count, 5);
	CHECK_EQ(info.mmap[4].base, 4 * GiB + 0x1000);
	CHECK_EQ(info.mmap[4].len, 5 * MiB);
	CHECK_EQ(info.mmap[4].type, 5);
}

TEST(test_unknown_tags_and_odd_sizes)
{
	struct mb2_info info;
	mb_begin(&B);
	mb_tag(&B, 4, "abcde", 5);		/* size 13: 3 bytes of padding */
	mb_tag(&B, 21, "", 0);
	mb_tag(&B, 0x12345678, "x", 1);
	mb_mmap(&B, 24, 2);
	mb_cmdline(&B, "");
	mb_end(&B);
	CHECK_EQ(parse(&B, &info), 0);
	CHECK_EQ(info.mmap_count, 2);
	CHECK_STR(info.cmdline, "");
}

TEST(test_limits_exactly_reached)
{
	struct mb2_info info;
	mb_begin(&B);
	for (u32 i = 0; i < MB2_MAX_MODULES; i++)
		mb_module(&B, i * 0x1000, i * 0x1000 + 1, "m");
	mb_mmap(&B, 24, MB2_MAX_MMAP);
	mb_end(&B);
	CHECK_EQ(parse(&B, &info), 0);
	CHECK_EQ(info.module_count, MB2_MAX_MODULES);
	CHECK_EQ(info.mmap_count, MB2_MAX_MMAP);
	CHECK_EQ(info.modules[15].start, 15 * 0x1000);
	CHECK_EQ(info.mmap[127].len, 128 * MiB);
}

TEST(test_avail_larger_and_trailing_bytes)
{
	struct mb2_info info;
	mb_begin(&B);
	mb_mmap(&B, 24, 1);
	mb_end(&B);
	/* More readable than total_size: fine, only total_size is read. */
	CHECK_EQ(mb2_parse(MAGIC, B.words, B.len + 1000, &info), 0);
	CHECK_EQ(info.total_size, B.len);
	/* total_size need not be a multiple of 8; bytes after the end tag
	 * inside it are ignored. */
	mb_put32(&B, 0, B.len + 5);
	CHECK_EQ(mb2_parse(MAGIC, B.words, B.len + 5, &info), 0);
	CHECK_EQ(info.total_size, B.len + 5);
}

/* ---- refusals ------------------------------------------------------------ */
static void build_valid(void)
{
	mb_begin(&B);
	mb_cmdline(&B, "x=1");
	mb_module(&B, 0x1000, 0x2000, "mod");
	mb_mmap(&B, 24, 2);
	mb_end(&B);
}

TEST(test_refuse_header)
{
	struct mb2_info info;
	build_valid();
	CHECK_EQ(mb2_parse(0x2badb002, B.words, B.len, &info), -EINVAL);
	CHECK_STR(info.error, "multiboot2: wrong magic 0x2badb002 (expected 0x36d76289)");
	CHECK_STR(info.cmdline, "");

	CHECK_EQ(mb2_parse(MAGIC, NULL, 100, &info), -EINVAL);
	CHECK_STR(info.error, "multiboot2: no information structure (NULL)");

	CHECK_EQ(mb2_parse(MAGIC, mb_bytes(&B) + 4, B.len, &info), -EINVAL);
	snprintf(want, sizeof(want),
		 "multiboot2: structure at %p is not 8-byte aligned",
		 (void *)(mb_bytes(&B) + 4));
	CHECK_STR(info.error, want);

	CHECK_EQ(mb2_parse(MAGIC, B.words, 7, &info), -EINVAL);
	CHECK_STR(info.error, "multiboot2: only 7 bytes readable, fewer than the 8-byte fixed part");

	CHECK_EQ(mb2_parse(MAGIC, B.words, B.len - 8, &info), -EINVAL);
	snprintf(want, sizeof(want),
		 "multiboot2: total_size 0x%x larger than the 0x%x bytes readable",
		 B.len, B.len - 8);
	CHECK_STR(info.error, want);

	mb_put32(&B, 0, 15);
	CHECK_REFUSED(&B, "multiboot2: total_size 15 is too small to hold an end tag (16)");
	mb_put32(&B, 0, MB2_MAX_INFO_SIZE + 8);
	CHECK_EQ(mb2_parse(MAGIC, B.words, sizeof(B.words), &info), -EINVAL);
	CHECK_STR(info.error, "multiboot2: total_size 0x100008 larger than the 0x100000 we accept");
}

TEST(test_refuse_tag_sizes)
{
	/* Tag running past the end: the exact message from the brief. */
	mb_begin(&B);
	mb_cmdline(&B, "0123456789012345678901234567890123456789012345678901234"); /* 0x08..0x48 */
	u32 m = mb_module(&B, 0x1000, 0x2000, "01234567890123456789012345678901234567890123456"); /* 0x48..0x88 */
	mb_end(&B);	/* 0x88..0x90 */
	CHECK_EQ(m, 0x48);
	CHECK_EQ(B.len, 0x90);
	mb_put32(&B, m + 4, 0x1000);
	CHECK_REFUSED(&B, "multiboot2: tag 3 at offset 0x48 has size 0x1000 running past the structure's end (0x90)");
	mb_put32(&B, m + 4, 0x49);	/* one byte too many */
	CHECK_REFUSED(&B, "multiboot2: tag 3 at offset 0x48 has size 0x49 running past the structure's end (0x90)");
	mb_put32(&B, m + 4, 7);
	CHECK_REFUSED(&B, "multiboot2: tag 3 at offset 0x48 has size 7 < 8");
	mb_put32(&B, m + 4, 0);	/* would loop forever if accepted */
	CHECK_REFUSED(&B, "multiboot2: tag 3 at offset 0x48 has size 0 < 8");

	/* A tag that fits, whose 8-byte padding does not. */
	mb_put32(&B, m + 4, 0x41);
	mb_put32(&B, 0, 0x89);
	B.len = 0x89;
	CHECK_REFUSED(&B, "multiboot2: no end tag (tag 3 at offset 0x48 is the last)");
}

TEST(test_refuse_end_tag)
{
	build_valid();
	u32 end_off = B.len - 8;
	mb_put32(&B, 0, end_off);	/* end tag cut off */
	B.len = end_off;
	snprintf(want, sizeof(want),
		 "multiboot2: no end tag (tags stop at offset 0x%x of 0x%x)",
		 end_off, end_off);
	CHECK_REFUSED(&B, want);

	build_valid();
	mb_put32(&B, 0, B.len - 4);	/* half an end tag */
	B.len -= 4;
	snprintf(want, sizeof(want),
		 "multiboot2: no end tag (tags stop at offset 0x%x of 0x%x)",
		 B.len - 4, B.len);
	CHECK_REFUSED(&B, want);

	build_valid();
	mb_put32(&B, B.len - 4, 16);	/* end tag with a size of 16 */
	mb_put32(&B, 0, B.len + 8);
	B.len += 8;
	snprintf(want, sizeof(want),
		 "multiboot2: end tag at offset 0x%x has size 16, not 8", B.len - 16);
	CHECK_REFUSED(&B, want);
}

TEST(test_refuse_mmap)
{
	mb_begin(&B);
	mb_mmap(&B, 20, 2);
	mb_end(&B);
	CHECK_REFUSED(&B, "multiboot2: memory map entry size 20 < 24");

	mb_begin(&B);
	mb_mmap(&B, 28, 2);
	mb_end(&B);
	CHECK_REFUSED(&B, "multiboot2: memory map entry size 28 not a multiple of 8");

	mb_begin(&B);
	u32 t = mb_mmap(&B, 24, 2);
	mb_put32(&B, t + 4, 16 + 24 + 8);	/* 1 entry and 8 stray bytes */
	mb_end(&B);
	CHECK_REFUSED(&B, "multiboot2: memory map tag size 48 is not 16 + a whole number of 24-byte entries");

	mb_begin(&B);
	t = mb_tag(&B, MB2_TAG_MMAP, "\x18\0\0", 4);	/* no entry_version */
	mb_end(&B);
	snprintf(want, sizeof(want),
		 "multiboot2: memory map tag at offset 0x%x has size 12 < 16", t);
	CHECK_REFUSED(&B, want);

	mb_begin(&B);
	mb_mmap(&B, 24, MB2_MAX_MMAP + 1);
	mb_end(&B);
	CHECK_REFUSED(&B, "multiboot2: memory map has 129 entries, more than 128");

	mb_begin(&B);
	t = mb_mmap(&B, 24, 3);
	mb_put64(&B, t + 16 + 24 + 8, UINT64_MAX - 0x1000 - GiB + 2);	/* entry 1 len */
	mb_end(&B);
	CHECK_REFUSED(&B, "multiboot2: memory map entry 1 (base 0x40001000, length 0xffffffffbffff001) wraps past 2^64");
	/* ... while ending at the last byte below 2^64 is representable. */
	mb_put64(&B, t + 16 + 24 + 8, UINT64_MAX - 0x1000 - GiB);
	struct mb2_info info;
	CHECK_EQ(parse(&B, &info), 0);

	mb_begin(&B);
	t = mb_mmap(&B, 24, 1);
	u32 t2 = mb_mmap(&B, 24, 1);
	mb_end(&B);
	snprintf(want, sizeof(want),
		 "multiboot2: duplicate memory map tag at offset 0x%x", t2);
	CHECK_REFUSED(&B, want);

	mb_begin(&B);
	mb_cmdline(&B, "a");
	mb_end(&B);
	CHECK_REFUSED(&B, "multiboot2: no memory map tag");
}

TEST(test_refuse_modules)
{
	mb_begin(&B);
	mb_mmap(&B, 24, 1);
	mb_module(&B, 0x1000, 0x2000, "ok");
	mb_module(&B, 0x5000, 0x4fff, "bad");
	mb_end(&B);
	CHECK_REFUSED(&B, "multiboot2: module 1 ends (0x4fff) before it starts (0x5000)");

	mb_begin(&B);
	mb_mmap(&B, 24, 1);
	u32 t = mb_module(&B, 0x1000, 0x2000, "abcdefg");	/* size 24 */
	mb_put32(&B, t + 4, 23);	/* drops the NUL */
	mb_end(&B);
	CHECK_REFUSED(&B, "multiboot2: module 0 string not NUL-terminated");

	mb_begin(&B);
	mb_mmap(&B, 24, 1);
	t = mb_tag(&B, MB2_TAG_MODULE, "\0\x10\0\0\0\x20\0\0", 8);	/* no string */
	mb_end(&B);
	snprintf(want, sizeof(want),
		 "multiboot2: module tag at offset 0x%x has size 16 < 17", t);
	CHECK_REFUSED(&B, want);

	mb_begin(&B);
	mb_mmap(&B, 24, 1);
	for (u32 i = 0; i < MB2_MAX_MODULES; i++)
		mb_module(&B, 0, 0, "");
	t = mb_module(&B, 0, 0, "");
	mb_end(&B);
	snprintf(want, sizeof(want),
		 "multiboot2: more than 16 modules (tag at offset 0x%x)", t);
	CHECK_REFUSED(&B, want);
}

TEST(test_refuse_cmdline_and_acpi)
{
	mb_begin(&B);
	mb_mmap(&B, 24, 1);
	u32 t = mb_tag(&B, MB2_TAG_CMDLINE, "abc", 3);
	mb_end(&B);
	snprintf(want, sizeof(want),
		 "multiboot2: command line not NUL-terminated (tag at offset 0x%x)", t);
	CHECK_REFUSED(&B, want);

	mb_begin(&B);
	mb_mmap(&B, 24, 1);
	mb_cmdline(&B, "a");
	t = mb_cmdline(&B, "b");
	mb_end(&B);
	snprintf(want, sizeof(want),
		 "multiboot2: duplicate command line tag at offset 0x%x", t);
	CHECK_REFUSED(&B, want);

	mb_begin(&B);
	mb_mmap(&B, 24, 1);
	t = mb_rsdp(&B, MB2_TAG_ACPI_OLD, 19, 0);
	mb_end(&B);
	snprintf(want, sizeof(want),
		 "multiboot2: ACPI old RSDP tag at offset 0x%x has size 27 < 28", t);
	CHECK_REFUSED(&B, want);

	mb_begin(&B);
	mb_mmap(&B, 24, 1);
	t = mb_rsdp(&B, MB2_TAG_ACPI_NEW, 35, 0);
	mb_end(&B);
	snprintf(want, sizeof(want),
		 "multiboot2: ACPI new RSDP tag at offset 0x%x has size 43 < 44", t);
	CHECK_REFUSED(&B, want);

	mb_begin(&B);
	mb_mmap(&B, 24, 1);
	mb_rsdp(&B, MB2_TAG_ACPI_NEW, 36, 0);
	t = mb_rsdp(&B, MB2_TAG_ACPI_NEW, 36, 0);
	mb_end(&B);
	snprintf(want, sizeof(want),
		 "multiboot2: duplicate ACPI new RSDP tag at offset 0x%x", t);
	CHECK_REFUSED(&B, want);
}

/* ---- fuzz ---------------------------------------------------------------- */
static bool within(const void *p, const u8 *lo, const u8 *hi)
{
	return (uintptr_t)p >= (uintptr_t)lo && (uintptr_t)p < (uintptr_t)hi;
}

/* Checks the invariants of one parse result; returns false on a violation. */
static bool fuzz_check(int rc, const u8 *mbi, size_t avail,
		       const struct mb2_info *info)
{
	bool ok = true;
	if (rc != 0) {
		ok &= rc == -EINVAL;
		ok &= strncmp(info->error, "multiboot2: ", 12) == 0;
		ok &= memchr(info->error, 0, sizeof(info->error)) != NULL;
		ok &= info->mmap_count == 0 && info->module_count == 0;
		ok &= info->rsdp == NULL;
		return ok;
	}
	const u8 *end = mbi + info->total_size;
	ok &= info->total_size >= 16 && info->total_size <= avail;
	ok &= info->mmap_count <= MB2_MAX_MMAP;
	ok &= info->module_count <= MB2_MAX_MODULES;
	if (info->cmdline[0] != '\0' || within(info->cmdline, mbi, end)) {
		ok &= within(info->cmdline, mbi + 16, end);
		if (ok)
			ok &= strnlen(info->cmdline, (size_t)(end - (const u8 *)info->cmdline)) <
			      (size_t)(end - (const u8 *)info->cmdline);
	}
	for (u32 i = 0; ok && i < info->module_count; i++) {
		const char *s = info->modules[i].string;
		ok &= info->modules[i].start <= info->modules[i].end;
		ok &= info->modules[i].end <= UINT32_MAX;
		ok &= within(s, mbi + 16, end);
		if (ok)
			ok &= strnlen(s, (size_t)(end - (const u8 *)s)) <
			      (size_t)(end - (const u8 *)s);
	}
	for (u32 i = 0; i < info->mmap_count; i++)
		ok &= info->mmap[i].len <= UINT64_MAX - info->mmap[i].base;
	if (info->rsdp) {
		ok &= within(info->rsdp, mbi + 16, end);
		ok &= info->rsdp_len >= 20;
		ok &= info->rsdp_len <= (size_t)(end - (const u8 *)info->rsdp);
	} else {
		ok &= info->rsdp_len == 0;
	}
	return ok;
}

static const u32 interesting[] = {
	0, 1, 4, 7, 8, 9, 15, 16, 17, 20, 23, 24, 28, 32, 0x7f, 0x80,
	0xff, 0x1000, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff,
};

TEST(test_fuzz)
{
	static struct mb bases[4];
	u32 nbases = ARRAY_SIZE(bases);

	mb_begin(&bases[0]);
	mb_cmdline(&bases[0], "vcpus=2 notify=poll guest_mem=128");
	mb_module(&bases[0], 0x100000, 0x180000, "guest.elf arg");
	mb_module(&bases[0], 0x200000, 0x200010, "");
	mb_mmap(&bases[0], 24, 6);
	mb_rsdp(&bases[0], MB2_TAG_ACPI_OLD, 20, 0x5a);
	mb_rsdp(&bases[0], MB2_TAG_ACPI_NEW, 36, 0xa5);
	mb_end(&bases[0]);

	mb_begin(&bases[1]);
	mb_tag(&bases[1], 2, "GRUB", 5);
	mb_mmap(&bases[1], 32, 4);
	mb_tag(&bases[1], 8, "0123456789ab", 12);
	mb_end(&bases[1]);

	mb_begin(&bases[2]);
	for (u32 i = 0; i < MB2_MAX_MODULES; i++)
		mb_module(&bases[2], i, i + 1, "m");
	mb_mmap(&bases[2], 24, MB2_MAX_MMAP);
	mb_cmdline(&bases[2], "");
	mb_end(&bases[2]);

	mb_begin(&bases[3]);
	mb_rsdp(&bases[3], MB2_TAG_ACPI_NEW, 48, 0);
	mb_mmap(&bases[3], 24, 1);
	mb_cmdline(&bases[3], "x");
	mb_end(&bases[3]);

	static struct mb work;
	u32 accepted = 0, refused = 0, violations = 0;
	test_seed(0x6d6232667a7a);
	for (u32 iter = 0; iter < 200000; iter++) {
		const struct mb *src = &bases[test_rand() % nbases];
		u32 len = src->len;
		memcpy(work.words, src->words, len);
		size_t avail = len;

		u32 nmut = 1 + (u32)(test_rand() % 4);
		for (u32 k = 0; k < nmut; k++) {
			u32 off = (u32)(test_rand() % len);
			switch (test_rand() % 6) {
			case 0:		/* random byte */
				mb_bytes(&work)[off] = (u8)test_rand();
				break;
			case 1:		/* bit flip */
				mb_bytes(&work)[off] ^= (u8)(1u << (test_rand() % 8));
				break;
			case 2:		/* a size-like field gets a nasty value */
			case 3: {
				off &= ~3u;
				if (off + 4 > len)
					break;
				u32 v = interesting[test_rand() % ARRAY_SIZE(interesting)];
				if (test_rand() % 2)
					v = (u32)(len + (test_rand() % 33) - 16);
				mb_put32(&work, off, v);
				break;
			}
			case 4:		/* fewer bytes readable */
				avail = test_rand() % (avail + 1);
				break;
			default:	/* total_size shifted a little */
				mb_put32(&work, 0, (u32)(len + (test_rand() % 65) - 32));
				break;
			}
		}

		/* An exact-size copy: ASan flags a read past avail. */
		u8 *copy = malloc(avail ? avail : 1);
		memcpy(copy, work.words, avail);
		u32 ts = 0;
		if (avail >= 4)
			memcpy(&ts, copy, 4);
		/* Bytes past total_size (rounded up to ASan's 8-byte granule,
		 * and never the fixed part, read to learn total_size) are
		 * poisoned too. */
		size_t fence = avail;
		if (avail >= 8 && MAX(ALIGN_UP((size_t)ts, 8), 8) < avail)
			fence = MAX(ALIGN_UP((size_t)ts, 8), 8);
		ASAN_POISON_MEMORY_REGION(copy + fence, avail - fence);

		struct mb2_info info;
		memset(&info, 0xcc, sizeof(info));
		int rc = mb2_parse(MAGIC, copy, avail, &info);
		if (!fuzz_check(rc, copy, avail, &info)) {
			if (violations++ < 5)
				printf("  fuzz iter %u: invariant violated (rc %d, %s)\n",
				       iter, rc, info.error);
		}
		rc == 0 ? accepted++ : refused++;
		ASAN_UNPOISON_MEMORY_REGION(copy + fence, avail - fence);
		free(copy);
	}
	printf("  fuzz: %u accepted, %u refused\n", accepted, refused);
	CHECK_EQ(violations, 0);
	/* Both outcomes must be well exercised for the fuzz to mean anything. */
	CHECK(accepted > 20000);
	CHECK(refused > 20000);
}

int main(void)
{
	RUN(test_well_formed);
	RUN(test_new_rsdp_preferred_when_first);
	RUN(test_minimal_defaults);
	RUN(test_old_rsdp_only);
	RUN(test_mmap_larger_entries);
	RUN(test_unknown_tags_and_odd_sizes);
	RUN(test_limits_exactly_reached);
	RUN(test_avail_larger_and_trailing_bytes);
	RUN(test_refuse_header);
	RUN(test_refuse_tag_sizes);
	RUN(test_refuse_end_tag);
	RUN(test_refuse_mmap);
	RUN(test_refuse_modules);
	RUN(test_refuse_cmdline_and_acpi);
	RUN(test_fuzz);
	return TEST_SUMMARY();
}
