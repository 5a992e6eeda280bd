/* Host tests for drivers/acpi.c: fake RSDP/RSDT/XSDT/MADT built in a buffer
 * that stands for physical memory, every refusal with its message, and a
 * seeded mutation fuzz. Every map hands out a fresh heap copy of exactly the
 * bytes asked for, so ASan flags any read past what the parser mapped. */
#include "lib/fmt.c"
#include "drivers/acpi.c"
#include "tests/host/test.h"

/* ---- fake physical memory and the map callback --------------------------- */
#define MEM_BASE   0xe0000ull
#define MEM_SIZE   0x4000u
#define RSDT_OFF   0x100u
#define XSDT_OFF   0x200u
#define FACP_OFF   0x300u
#define MADT_OFF   0x1000u
#define PHYS(off)  (MEM_BASE + (off))

static u8 mem[MEM_SIZE];
static u8 rsdp[64];

struct map_call {
	u64 phys, len;
};

static struct {
	struct map_call calls[64];
	u32 ncalls;
	void **copies;
	u32 ncopies, cap;
} mapper;

static const void *map(void *ctx, u64 phys, u64 len)
{
	(void)ctx;
	if (mapper.ncalls < ARRAY_SIZE(mapper.calls))
		mapper.calls[mapper.ncalls] = (struct map_call){ phys, len };
	mapper.ncalls++;
	if (phys < MEM_BASE || len > MEM_SIZE || phys - MEM_BASE > MEM_SIZE - len)
		return NULL;
	if (mapper.ncopies == mapper.cap) {
		mapper.cap = mapper.cap ? 2 * mapper.cap : 64;
		mapper.copies = realloc(mapper.copies, mapper.cap * sizeof(void *));
	}
	u8 *copy = malloc(len ? len : 1);
	memcpy(copy, mem + (phys - MEM_BASE), len);
	mapper.copies[mapper.ncopies++] = copy;
	return copy;
}

static struct acpi_madt_info info;

/* Parses the fake machine, rsdp_len bytes of RSDP; frees the mappings. */
static int parse(u32 rsdp_len)
{
	mapper.ncalls = 0;
	memset(&info, 0xcc, sizeof(info));
	int rc = acpi_parse_madt(rsdp, rsdp_len, map, NULL, &info);
	for (u32 i = 0; i < mapper.ncopies; i++)
		free(mapper.copies[i]);
	mapper.ncopies = 0;
	return rc;
}

/* ---- table builders ------------------------------------------------------ */
static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void put64(u8 *p, u64 v) { memcpy(p, &v, 8); }
static u32 get32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }

static u8 sum(const u8 *p, u32 n)
{
	u8 s = 0;
	while (n--)
		s = (u8)(s + *p++);
	return s;
}

/* Recomputes the checksum of the table at off from its length field (if
 * that length fits in memory). */
static void fix_sdt(u32 off)
{
	u32 len = get32(mem + off + 4);
	if (len < 10 || len > MEM_SIZE - off)
		return;
	mem[off + 9] = 0;
	mem[off + 9] = (u8)(0x100 - sum(mem + off, len));
}

/* Writes an SDT header at off with the given signature and length. */
static void sdt(u32 off, const char *sig, u32 len)
{
	memcpy(mem + off, sig, 4);
	put32(mem + off + 4, len);
	mem[off + 8] = 1;				/* revision */
	memcpy(mem + off + 10, "DOORBL", 6);		/* OEM ID */
	memcpy(mem + off + 16, "TESTTBL ", 8);		/* OEM table ID */
	fix_sdt(off);
}

static void make_rsdp(u8 revision, u32 rsdt, u64 xsdt)
{
	memset(rsdp, 0, sizeof(rsdp));
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "DOORBL", 6);
	rsdp[15] = revision;
	put32(rsdp + 16, rsdt);
	if (revision >= 2) {
		put32(rsdp + 20, 36);
		put64(rsdp + 24, xsdt);
	}
	rsdp[8] = (u8)(0x100 - sum(rsdp, 20));
	if (revision >= 2)	/* covers byte 8 too, so computed after it */
		rsdp[32] = (u8)(0x100 - sum(rsdp, 36));
}

static void make_rsdt(u32 off, const u32 *entries, u32 n)
{
	for (u32 i = 0; i < n; i++)
		put32(mem + off + 36 + 4 * i, entries[i]);
	sdt(off, "RSDT", 36 + 4 * n);
}

static void make_xsdt(u32 off, const u64 *entries, u32 n)
{
	for (u32 i = 0; i < n; i++)
		put64(mem + off + 36 + 8 * i, entries[i]);
	sdt(off, "XSDT", 36 + 8 * n);
}

static u32 madt_len;

static void madt_begin(u32 lapic, u32 flags)
{
	memset(mem + MADT_OFF, 0, MEM_SIZE - MADT_OFF);
	put32(mem + MADT_OFF + 36, lapic);
	put32(mem + MADT_OFF + 40, flags);
	madt_len = 44;
}

static void madt_raw(const u8 *e, u32 n)
{
	memcpy(mem + MADT_OFF + madt_len, e, n);
	madt_len += n;
}

static void madt_lapic(u8 uid, u8 id, u32 flags)
{
	u8 e[8] = { 0, 8, uid, id };
	put32(e + 4, flags);
	madt_raw(e, 8);
}

static void madt_x2apic(u32 id, u32 flags, u32 uid)
{
	u8 e[16] = { 9, 16 };
	put32(e + 4, id);
	put32(e + 8, flags);
	put32(e + 12, uid);
	madt_raw(e, 16);
}

static void madt_override(u64 addr)
{
	u8 e[12] = { 5, 12 };
	put64(e + 4, addr);
	madt_raw(e, 12);
}

static void madt_end(void)
{
	sdt(MADT_OFF, "APIC", madt_len);
}

/* A typical small machine behind an RSDT: a FACP, then the MADT. */
static void build_rsdt_machine(void)
{
	memset(mem, 0, sizeof(mem));
	sdt(FACP_OFF, "FACP", 116);
	madt_begin(0xfee00000, 1);
	madt_lapic(0, 0, 1);
	madt_lapic(1, 2, 1);
	madt_lapic(2, 4, 0);			/* disabled */
	madt_lapic(3, 6, 2);			/* online capable only */
	static const u8 ioapic[12] = { 1, 12, 0, 0, 0, 0, 0xc0, 0xfe };
	madt_raw(ioapic, 12);			/* I/O APIC: skipped */
	static const u8 iso[10] = { 2, 10, 0, 0, 2 };
	madt_raw(iso, 10);			/* source override: skipped */
	madt_end();
	const u32 e[] = { PHYS(FACP_OFF), PHYS(MADT_OFF) };
	make_rsdt(RSDT_OFF, e, 2);
	make_rsdp(0, PHYS(RSDT_OFF), 0);
}

/* An ACPI 2.0 machine: XSDT -> MADT with x2APIC entries and an override; its
 * RSDT lists only the FACP, so finding the CPUs proves the XSDT was used. */
static void build_xsdt_machine(void)
{
	memset(mem, 0, sizeof(mem));
	sdt(FACP_OFF, "FACP", 116);
	madt_begin(0xfee00000, 0);
	madt_lapic(0, 0, 1);
	madt_x2apic(0x100, 1, 7);
	madt_override(0x1234567000ull);
	madt_x2apic(0xfffffffe, 0, 0xabcdef01);
	madt_end();
	const u32 r[] = { PHYS(FACP_OFF) };
	make_rsdt(RSDT_OFF, r, 1);
	const u64 x[] = { PHYS(FACP_OFF), PHYS(MADT_OFF) };
	make_xsdt(XSDT_OFF, x, 2);
	make_rsdp(2, PHYS(RSDT_OFF), PHYS(XSDT_OFF));
}

static bool cpu_is(u32 i, u32 apic_id, u32 uid, bool enabled)
{
	return info.cpus[i].apic_id == apic_id && info.cpus[i].uid == uid &&
	       info.cpus[i].enabled == enabled;
}

static bool call_is(u32 i, u64 phys, u64 len)
{
	return mapper.calls[i].phys == phys && mapper.calls[i].len == len;
}

static char want[256];

/* ---- well-formed tables -------------------------------------------------- */
TEST(test_rsdt_only)
{
	build_rsdt_machine();
	CHECK_EQ(parse(20), 0);
	CHECK_STR(info.error, "");
	CHECK_EQ(info.lapic_base, 0xfee00000);
	CHECK_EQ(info.pcat_compat, true);
	CHECK_EQ(info.cpu_count, 4);
	CHECK(cpu_is(0, 0, 0, true));
	CHECK(cpu_is(1, 2, 1, true));
	CHECK(cpu_is(2, 4, 2, false));
	CHECK(cpu_is(3, 6, 3, false));
	/* Each table: header first, then its full length. */
	CHECK_EQ(mapper.ncalls, 6);
	CHECK(call_is(0, PHYS(RSDT_OFF), 36));
	CHECK(call_is(1, PHYS(RSDT_OFF), 44));
	CHECK(call_is(2, PHYS(FACP_OFF), 36));
	CHECK(call_is(3, PHYS(MADT_OFF), 36));
	CHECK(call_is(4, PHYS(MADT_OFF), 36));
	CHECK(call_is(5, PHYS(MADT_OFF), madt_len));
	CHECK_EQ(madt_len, 44 + 4 * 8 + 12 + 10);

	/* The same RSDP in a 36-byte (new-RSDP tag sized) buffer. */
	CHECK_EQ(parse(36), 0);
	CHECK_EQ(info.cpu_count, 4);
}

TEST(test_xsdt)
{
	build_xsdt_machine();
	CHECK_EQ(parse(36), 0);
	CHECK_STR(info.error, "");
	CHECK_EQ(info.lapic_base, 0x1234567000ull);	/* override applied */
	CHECK_EQ(info.pcat_compat, false);
	CHECK_EQ(info.cpu_count, 3);
	CHECK(cpu_is(0, 0, 0, true));
	CHECK(cpu_is(1, 0x100, 7, true));
	CHECK(cpu_is(2, 0xfffffffe, 0xabcdef01, false));
	CHECK(call_is(0, PHYS(XSDT_OFF), 36));
	CHECK(call_is(1, PHYS(XSDT_OFF), 36 + 16));

	/* Revision 2 passed in only 20 bytes (the old-RSDP tag): RSDT, which
	 * has no MADT here. */
	CHECK_EQ(parse(20), -ENOENT);
	CHECK_STR(info.error, "acpi: no MADT ('APIC') among the 1 entries of the RSDT (0 unreadable)");

	/* Revision 2 with a zero XSDT address: RSDT too. */
	make_rsdp(2, PHYS(RSDT_OFF), 0);
	CHECK_EQ(parse(36), -ENOENT);
	CHECK(strstr(info.error, "of the RSDT") != NULL);

	/* A longer RSDP (future revision) is fine when checksummed. */
	make_rsdp(3, PHYS(RSDT_OFF), PHYS(XSDT_OFF));
	put32(rsdp + 20, 40);
	rsdp[32] = 0;
	rsdp[32] = (u8)(0x100 - sum(rsdp, 40));
	CHECK_EQ(parse(40), 0);
	CHECK_EQ(info.cpu_count, 3);
}

TEST(test_entries_skipped)
{
	build_rsdt_machine();
	/* Null and unreadable entries before the MADT are skipped; a
	 * trailing partial entry is ignored. */
	const u32 e[] = { 0, 0x10, PHYS(MEM_SIZE - 8), PHYS(MADT_OFF) };
	make_rsdt(RSDT_OFF, e, 4);
	put32(mem + RSDT_OFF + 4, 36 + 16 + 3);
	fix_sdt(RSDT_OFF);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.cpu_count, 4);

	/* Only unreadable ones: the count says so. */
	const u32 f[] = { 0x10, PHYS(FACP_OFF), 0 };
	make_rsdt(RSDT_OFF, f, 3);
	CHECK_EQ(parse(20), -ENOENT);
	CHECK_STR(info.error, "acpi: no MADT ('APIC') among the 3 entries of the RSDT (1 unreadable)");
	CHECK_EQ(info.cpu_count, 0);

	/* An empty RSDT. */
	make_rsdt(RSDT_OFF, NULL, 0);
	CHECK_EQ(parse(20), -ENOENT);
	CHECK_STR(info.error, "acpi: no MADT ('APIC') among the 0 entries of the RSDT (0 unreadable)");
}

TEST(test_too_many_cpus)
{
	build_rsdt_machine();
	madt_begin(0xfee00000, 1);
	for (u32 i = 0; i < 70; i++)
		madt_lapic((u8)i, (u8)(i + 1), 1);
	for (u32 i = 0; i < 10; i++)
		madt_x2apic(1000 + i, 1, 500 + i);
	madt_end();
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.cpu_count, ACPI_MAX_CPUS);
	CHECK(cpu_is(0, 1, 0, true));
	CHECK(cpu_is(63, 64, 63, true));

	/* Exactly 64 is not "too many". */
	madt_begin(0xfee00000, 1);
	for (u32 i = 0; i < 62; i++)
		madt_lapic((u8)i, (u8)i, 1);
	madt_x2apic(300, 1, 62);
	madt_x2apic(301, 0, 63);
	madt_end();
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.cpu_count, 64);
	CHECK(cpu_is(63, 301, 63, false));
}

TEST(test_longer_entries_accepted)
{
	/* A later ACPI revision may append fields to an entry. */
	build_rsdt_machine();
	madt_begin(0xfee00000, 0);
	u8 e[10] = { 0, 10, 5, 9 };
	put32(e + 4, 1);
	madt_raw(e, 10);
	madt_lapic(6, 10, 1);
	madt_end();
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.cpu_count, 2);
	CHECK(cpu_is(0, 9, 5, true));
	CHECK(cpu_is(1, 10, 6, true));
}

/* ---- refusals ------------------------------------------------------------ */
#define CHECK_REFUSED(rsdp_len, rc, msg)                                   \
	do {                                                               \
		CHECK_EQ(parse(rsdp_len), (rc));                           \
		CHECK_STR(info.error, (msg));                              \
		CHECK_EQ(info.cpu_count, 0);                               \
		CHECK_EQ(info.lapic_base, 0);                              \
	} while (0)

TEST(test_rsdp_errors)
{
	build_xsdt_machine();
	CHECK_EQ(acpi_parse_madt(NULL, 36, map, NULL, &info), -ENOENT);
	CHECK_STR(info.error, "acpi: no RSDP");
	CHECK_REFUSED(0, -ENOENT, "acpi: no RSDP");
	CHECK_REFUSED(19, -EINVAL, "acpi: RSDP has 19 bytes, fewer than the 20 of revision 0");

	rsdp[0] = 'r';
	CHECK_REFUSED(36, -EINVAL, "acpi: RSDP signature is not 'RSD PTR '");

	build_xsdt_machine();
	rsdp[19] ^= 0x01;	/* RSDT address, inside the first 20 bytes */
	CHECK_REFUSED(36, -EINVAL, "acpi: RSDP checksum over the first 20 bytes is 0x1, not 0");

	build_xsdt_machine();
	rsdp[33] = 0x10;	/* reserved byte: only the extended sum sees it */
	CHECK_REFUSED(36, -EINVAL, "acpi: RSDP extended checksum over 36 bytes is 0x10, not 0");

	build_xsdt_machine();
	put32(rsdp + 20, 40);
	rsdp[32] = (u8)(rsdp[32] - 4);
	CHECK_REFUSED(36, -EINVAL, "acpi: RSDP length 40 exceeds the 36 bytes available");
	put32(rsdp + 20, 35);
	CHECK_REFUSED(36, -EINVAL, "acpi: RSDP revision 2 has length 35 < 36");

	make_rsdp(0, 0, 0);
	CHECK_REFUSED(20, -ENOENT, "acpi: RSDP has neither an XSDT nor an RSDT address");
}

TEST(test_table_errors)
{
	build_rsdt_machine();
	make_rsdp(0, 0x10, 0);	/* not memory */
	CHECK_REFUSED(20, -EINVAL, "acpi: cannot map the 36-byte header of the RSDT at 0x10");

	build_rsdt_machine();
	make_rsdp(0, PHYS(FACP_OFF), 0);
	snprintf(want, sizeof(want),
		 "acpi: table at 0x%llx has signature 'FACP', expected 'RSDT'",
		 PHYS(FACP_OFF));
	CHECK_REFUSED(20, -EINVAL, want);

	build_rsdt_machine();
	memcpy(mem + RSDT_OFF, "R\x01\xffT", 4);
	snprintf(want, sizeof(want),
		 "acpi: table at 0x%llx has signature 'R??T', expected 'RSDT'",
		 PHYS(RSDT_OFF));
	CHECK_REFUSED(20, -EINVAL, want);

	build_rsdt_machine();
	put32(mem + RSDT_OFF + 4, 35);
	snprintf(want, sizeof(want),
		 "acpi: RSDT at 0x%llx has length 35, outside 36..1048576", PHYS(RSDT_OFF));
	CHECK_REFUSED(20, -EINVAL, want);
	put32(mem + RSDT_OFF + 4, (1u << 20) + 1);
	snprintf(want, sizeof(want),
		 "acpi: RSDT at 0x%llx has length 1048577, outside 36..1048576", PHYS(RSDT_OFF));
	CHECK_REFUSED(20, -EINVAL, want);
	put32(mem + RSDT_OFF + 4, MEM_SIZE);	/* runs past memory */
	snprintf(want, sizeof(want),
		 "acpi: cannot map the 16384 bytes of the RSDT at 0x%llx", PHYS(RSDT_OFF));
	CHECK_REFUSED(20, -EINVAL, want);

	build_rsdt_machine();
	mem[RSDT_OFF + 20] ^= 0x80;	/* OEM table ID byte */
	snprintf(want, sizeof(want),
		 "acpi: RSDT at 0x%llx has a bad checksum (bytes sum to 0x80, not 0)",
		 PHYS(RSDT_OFF));
	CHECK_REFUSED(20, -EINVAL, want);

	build_xsdt_machine();
	mem[XSDT_OFF + 36] ^= 0x01;	/* an entry */
	snprintf(want, sizeof(want),
		 "acpi: XSDT at 0x%llx has a bad checksum (bytes sum to 0x1, not 0)",
		 PHYS(XSDT_OFF));
	CHECK_REFUSED(36, -EINVAL, want);

	build_rsdt_machine();
	mem[MADT_OFF + 44 + 2] ^= 0x03;	/* a CPU's uid */
	snprintf(want, sizeof(want),
		 "acpi: APIC at 0x%llx has a bad checksum (bytes sum to 0x3, not 0)",
		 PHYS(MADT_OFF));
	CHECK_REFUSED(20, -EINVAL, want);

	/* A MADT whose length runs past readable memory. */
	build_rsdt_machine();
	put32(mem + MADT_OFF + 4, MEM_SIZE);
	snprintf(want, sizeof(want),
		 "acpi: cannot map the 16384 bytes of the APIC at 0x%llx", PHYS(MADT_OFF));
	CHECK_REFUSED(20, -EINVAL, want);
}

TEST(test_madt_entry_errors)
{
	build_rsdt_machine();
	madt_begin(0xfee00000, 0);
	madt_end();
	mem[MADT_OFF + 4] = 40;	/* MADT shorter than its fixed fields */
	fix_sdt(MADT_OFF);
	CHECK_REFUSED(20, -EINVAL, "acpi: MADT length 40 < 44");

	static const struct {
		u8 bytes[4];
		u32 n;
		const char *msg;
	} bad[] = {
		{ { 0 }, 1, "acpi: MADT entry header at offset 52 runs past the table's end (53)" },
		{ { 0, 0 }, 2, "acpi: MADT entry type 0 at offset 52 has length 0 < 2" },
		{ { 7, 1 }, 2, "acpi: MADT entry type 7 at offset 52 has length 1 < 2" },
		{ { 0, 9, 1, 1 }, 4, "acpi: MADT entry type 0 at offset 52 has length 9 running past the table's end (56)" },
		{ { 0, 6, 1, 1 }, 4, "acpi: MADT entry type 0 at offset 52 has length 6 running past the table's end (56)" },
		{ { 0, 4, 1, 1 }, 4, "acpi: MADT processor local APIC entry at offset 52 has length 4 < 8" },
		{ { 5, 4, 0, 0 }, 4, "acpi: MADT local APIC address override entry at offset 52 has length 4 < 12" },
		{ { 9, 4, 0, 0 }, 4, "acpi: MADT processor local x2APIC entry at offset 52 has length 4 < 16" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		madt_begin(0xfee00000, 0);
		madt_lapic(0, 0, 1);		/* one good entry first */
		madt_raw(bad[i].bytes, bad[i].n);
		madt_end();
		CHECK_REFUSED(20, -EINVAL, bad[i].msg);
	}

	/* Short override and x2APIC entries that fit the table. */
	madt_begin(0xfee00000, 0);
	static const u8 ovr[10] = { 5, 10 };
	madt_raw(ovr, 10);
	madt_end();
	CHECK_REFUSED(20, -EINVAL, "acpi: MADT local APIC address override entry at offset 44 has length 10 < 12");
	madt_begin(0xfee00000, 0);
	static const u8 x2[12] = { 9, 12 };
	madt_raw(x2, 12);
	madt_end();
	CHECK_REFUSED(20, -EINVAL, "acpi: MADT processor local x2APIC entry at offset 44 has length 12 < 16");

	/* An unknown type of length 2 is simply skipped. */
	madt_begin(0xfee00000, 0);
	static const u8 unk[2] = { 0x7f, 2 };
	madt_raw(unk, 2);
	madt_lapic(1, 3, 1);
	madt_end();
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.cpu_count, 1);
	CHECK(cpu_is(0, 3, 1, true));
}

TEST(test_madt_no_entries)
{
	build_rsdt_machine();
	madt_begin(0xfec00000, 1);
	madt_end();
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.cpu_count, 0);
	CHECK_EQ(info.lapic_base, 0xfec00000);
	CHECK_EQ(info.pcat_compat, true);
}

/* ---- fuzz ---------------------------------------------------------------- */
static const u32 interesting[] = {
	0, 1, 2, 8, 12, 16, 35, 36, 37, 43, 44, 45, 0xff, 0x100, 0xfff,
	0x1000, 0x4000, 0x100000, 0x100001, 0x7fffffff, 0xffffffff,
};

/* Fixes every checksum so mutations reach past them. */
static void fix_all(u32 rsdp_len)
{
	fix_sdt(RSDT_OFF);
	fix_sdt(XSDT_OFF);
	fix_sdt(FACP_OFF);
	fix_sdt(MADT_OFF);
	if (rsdp_len >= 20) {
		rsdp[8] = 0;
		rsdp[8] = (u8)(0x100 - sum(rsdp, 20));
	}
	u32 l = get32(rsdp + 20);
	if (rsdp_len >= 36 && l >= 33 && l <= rsdp_len) {
		rsdp[32] = 0;
		rsdp[32] = (u8)(0x100 - sum(rsdp, l));	/* after byte 8 */
	}
}

TEST(test_fuzz)
{
	static u8 base_mem[3][MEM_SIZE], base_rsdp[3][64];
	static const u32 base_rsdp_len[3] = { 20, 36, 36 };

	build_rsdt_machine();
	memcpy(base_mem[0], mem, MEM_SIZE);
	memcpy(base_rsdp[0], rsdp, 64);
	build_xsdt_machine();
	memcpy(base_mem[1], mem, MEM_SIZE);
	memcpy(base_rsdp[1], rsdp, 64);
	build_xsdt_machine();
	madt_begin(0xfee00000, 1);
	/* 62 CPUs: near the limit (an exceeding table is test_too_many_cpus's;
	 * here it would print a line per iteration). */
	for (u32 i = 0; i < 31; i++) {
		madt_lapic((u8)i, (u8)i, i & 1);
		madt_x2apic(i + 256, 1, i + 100);
	}
	madt_override(0xfee01000);
	madt_end();
	memcpy(base_mem[2], mem, MEM_SIZE);
	memcpy(base_rsdp[2], rsdp, 64);

	static const u32 targets[] = { RSDT_OFF, XSDT_OFF, MADT_OFF, MADT_OFF + 36 };
	u32 accepted = 0, refused = 0, violations = 0;
	test_seed(0x61637069);
	for (u32 iter = 0; iter < 50000; iter++) {
		u32 b = (u32)(test_rand() % 3);
		memcpy(mem, base_mem[b], MEM_SIZE);
		memcpy(rsdp, base_rsdp[b], 64);
		u32 rsdp_len = base_rsdp_len[b];

		u32 nmut = 1 + (u32)(test_rand() % 3);
		for (u32 k = 0; k < nmut; k++) {
			u32 kind = (u32)(test_rand() % 8);
			u8 *p;
			u32 room;
			if (kind == 0) {		/* the RSDP */
				p = rsdp + test_rand() % 36;
				room = (u32)(rsdp + 64 - p);
			} else if (kind == 1) {		/* what can be read of it */
				rsdp_len = (u32)(test_rand() % 41);
				continue;
			} else {			/* a table, near its start */
				u32 t = targets[test_rand() % ARRAY_SIZE(targets)];
				u32 off = t + (u32)(test_rand() % (kind < 5 ? 64 : 800));
				p = mem + off;
				room = MEM_SIZE - off;
			}
			u32 how = (u32)(test_rand() % 4);
			if (how == 0)
				*p = (u8)test_rand();
			else if (how == 1)
				*p ^= (u8)(1u << (test_rand() % 8));
			else if (how == 2 && room >= 4)
				put32(p, interesting[test_rand() % ARRAY_SIZE(interesting)]);
			else
				*p = (u8)(test_rand() % 20);	/* entry type/length */
		}
		if (test_rand() % 4 != 0)
			fix_all(rsdp_len);

		int rc = parse(rsdp_len);
		bool ok;
		if (rc == 0) {
			ok = info.cpu_count <= ACPI_MAX_CPUS && info.error[0] == '\0';
			accepted++;
		} else {
			ok = (rc == -EINVAL || rc == -ENOENT) &&
			     strncmp(info.error, "acpi: ", 6) == 0 &&
			     memchr(info.error, 0, sizeof(info.error)) != NULL &&
			     info.cpu_count == 0;
			refused++;
		}
		if (!ok && violations++ < 5)
			printf("  fuzz iter %u: invariant violated (rc %d, %s)\n",
			       iter, rc, info.error);
	}
	printf("  fuzz: %u accepted, %u refused\n", accepted, refused);
	CHECK_EQ(violations, 0);
	CHECK(accepted > 5000);
	CHECK(refused > 5000);
	free(mapper.copies);
}

int main(void)
{
	RUN(test_rsdt_only);
	RUN(test_xsdt);
	RUN(test_entries_skipped);
	RUN(test_too_many_cpus);
	RUN(test_longer_entries_accepted);
	RUN(test_rsdp_errors);
	RUN(test_table_errors);
	RUN(test_madt_entry_errors);
	RUN(test_madt_no_entries);
	RUN(test_fuzz);
	return TEST_SUMMARY();
}
