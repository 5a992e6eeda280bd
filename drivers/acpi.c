/*
 * drivers/acpi.c - finds the CPUs: RSDP -> XSDT or RSDT -> MADT ("APIC"),
 * listing each processor local APIC and local x2APIC structure, and the local
 * APIC base (ACPI spec, chapter "ACPI Software Programming Model": sections
 * "Root System Description Pointer (RSDP)", "System Description Table
 * Header", "Root System Description Table (RSDT)", "Extended System
 * Description Table (XSDT)", "Multiple APIC Description Table (MADT)").
 *
 * Pure: memory is reached only through the caller's map callback, every
 * table is mapped first by its 36-byte header and then by the length that
 * header states, and every signature, length and checksum is checked before
 * a field is believed. Firmware tables are untrusted input: a bad one yields
 * an error naming it, never a hang or a read past what was mapped. Unit-tested
 * and fuzzed on the host (tests/host/test_acpi.c).
 */
#include "drivers/drivers.h"

/* ACPI spec, "Root System Description Pointer (RSDP) Structure". */
#define ACPI_RSDP_SIGNATURE       "RSD PTR "
#define ACPI_RSDP_SIGNATURE_LEN   8
#define ACPI_RSDP_V1_LEN          20	/* the part covered by checksum */
#define ACPI_RSDP_V2_LEN          36	/* revision 2: length, XSDT, ext. checksum */
#define ACPI_RSDP_REVISION_OFF    15
#define ACPI_RSDP_RSDT_OFF        16	/* u32 */
#define ACPI_RSDP_LENGTH_OFF      20	/* u32, revision >= 2 */
#define ACPI_RSDP_XSDT_OFF        24	/* u64, revision >= 2 */
#define ACPI_RSDP_REVISION_XSDT   2

/* ACPI spec, "System Description Table Header". */
#define ACPI_SDT_HEADER_LEN       36
#define ACPI_SDT_SIGNATURE_LEN    4
#define ACPI_SDT_LENGTH_OFF       4
/* Refuse a table claiming more: no real RSDT, XSDT or MADT comes near it
 * (4096 x2APIC entries are 64 KiB), so such a length is corruption. */
#define ACPI_SDT_MAX_LEN          (1u << 20)

#define ACPI_RSDT_ENTRY_SIZE      4	/* RSDT: 32-bit table addresses */
#define ACPI_XSDT_ENTRY_SIZE      8	/* XSDT: 64-bit table addresses */

/* ACPI spec, "Multiple APIC Description Table (MADT) Format". */
#define ACPI_MADT_LAPIC_ADDR_OFF  36	/* u32 */
#define ACPI_MADT_FLAGS_OFF       40	/* u32 */
#define ACPI_MADT_ENTRIES_OFF     44
#define ACPI_MADT_PCAT_COMPAT     BIT(0)	/* dual 8259 PICs present */

/* ACPI spec, "Interrupt Controller Structure Types": each structure starts
 * with u8 type, u8 length. */
#define ACPI_MADT_ENTRY_HEADER_LEN     2
#define ACPI_MADT_TYPE_LOCAL_APIC      0
#define ACPI_MADT_TYPE_LAPIC_OVERRIDE  5
#define ACPI_MADT_TYPE_LOCAL_X2APIC    9

/* "Processor Local APIC Structure": u8 uid, u8 apic_id, u32 flags. */
#define ACPI_LAPIC_LEN            8
#define ACPI_LAPIC_UID_OFF        2
#define ACPI_LAPIC_ID_OFF         3
#define ACPI_LAPIC_FLAGS_OFF      4
/* "Local APIC Address Override Structure": u16 reserved, u64 address. */
#define ACPI_LAPIC_OVR_LEN        12
#define ACPI_LAPIC_OVR_ADDR_OFF   4
/* "Processor Local x2APIC Structure": u16 reserved, u32 x2apic_id,
 * u32 flags, u32 uid. */
#define ACPI_X2APIC_LEN           16
#define ACPI_X2APIC_ID_OFF        4
#define ACPI_X2APIC_FLAGS_OFF     8
#define ACPI_X2APIC_UID_OFF       12
/* "Local APIC Flags": bit 0 Enabled. (Bit 1, Online Capable, marks a CPU
 * that firmware left off but the OS may enable; we do not.) */
#define ACPI_LAPIC_FLAG_ENABLED   BIT(0)

/* Structures may sit at any byte: read fields without alignment. */
static u32 acpi_read32(const u8 *p)
{
	u32 v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static u64 acpi_read64(const u8 *p)
{
	u64 v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

/* ACPI checksums: all bytes, including the checksum byte, sum to 0 mod 256. */
static u8 acpi_sum(const u8 *p, u32 len)
{
	u8 sum = 0;
	for (u32 i = 0; i < len; i++)
		sum = (u8)(sum + p[i]);
	return sum;
}

/* A table signature printable in a message: non-printing bytes become '?'. */
static void acpi_sig_str(char out[ACPI_SDT_SIGNATURE_LEN + 1], const u8 *sig)
{
	for (int i = 0; i < ACPI_SDT_SIGNATURE_LEN; i++)
		out[i] = sig[i] >= 0x20 && sig[i] < 0x7f ? (char)sig[i] : '?';
	out[ACPI_SDT_SIGNATURE_LEN] = '\0';
}

struct acpi_parser {
	acpi_map_fn map;
	void *ctx;
	struct acpi_madt_info *info;
};

/* Maps the 36-byte header at phys, or returns NULL (unreadable or the range
 * wraps past 2^64). */
static const u8 *acpi_map_header(struct acpi_parser *ap, u64 phys)
{
	if (phys > UINT64_MAX - ACPI_SDT_HEADER_LEN)
		return NULL;
	return ap->map(ap->ctx, phys, ACPI_SDT_HEADER_LEN);
}

/* Maps the whole table at phys, which must carry signature sig: header
 * first, then the length it states; checks that length and the checksum.
 * Returns 0 with *table and *len set, or -EINVAL with info->error set. */
static int acpi_map_table(struct acpi_parser *ap, u64 phys, const char *sig,
			  const u8 **table, u32 *len)
{
	struct acpi_madt_info *info = ap->info;
	char found[ACPI_SDT_SIGNATURE_LEN + 1];
	const u8 *hdr = acpi_map_header(ap, phys);

	if (hdr == NULL) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "acpi: cannot map the %u-byte header of the %s at 0x%llx",
			     ACPI_SDT_HEADER_LEN, sig, (unsigned long long)phys);
		return -EINVAL;
	}
	if (memcmp(hdr, sig, ACPI_SDT_SIGNATURE_LEN) != 0) {
		acpi_sig_str(found, hdr);
		fmt_snprintf(info->error, sizeof(info->error),
			     "acpi: table at 0x%llx has signature '%s', expected '%s'",
			     (unsigned long long)phys, found, sig);
		return -EINVAL;
	}
	u32 n = acpi_read32(hdr + ACPI_SDT_LENGTH_OFF);
	if (n < ACPI_SDT_HEADER_LEN || n > ACPI_SDT_MAX_LEN) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "acpi: %s at 0x%llx has length %u, outside %u..%u",
			     sig, (unsigned long long)phys, n,
			     ACPI_SDT_HEADER_LEN, ACPI_SDT_MAX_LEN);
		return -EINVAL;
	}
	const u8 *t = phys > UINT64_MAX - n ? NULL : ap->map(ap->ctx, phys, n);
	if (t == NULL) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "acpi: cannot map the %u bytes of the %s at 0x%llx",
			     n, sig, (unsigned long long)phys);
		return -EINVAL;
	}
	/* The second mapping is what we read from now on: it must agree. */
	if (memcmp(t, sig, ACPI_SDT_SIGNATURE_LEN) != 0 ||
	    acpi_read32(t + ACPI_SDT_LENGTH_OFF) != n) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "acpi: %s at 0x%llx changed between its two mappings",
			     sig, (unsigned long long)phys);
		return -EINVAL;
	}
	u8 sum = acpi_sum(t, n);
	if (sum != 0) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "acpi: %s at 0x%llx has a bad checksum (bytes sum to 0x%x, not 0)",
			     sig, (unsigned long long)phys, sum);
		return -EINVAL;
	}
	*table = t;
	*len = n;
	return 0;
}

/* Checks the RSDP and picks the root table. Returns 0 with *root, *sig and
 * *entry_size set, or an error with info->error set. */
static int acpi_check_rsdp(struct acpi_parser *ap, const u8 *rsdp, u32 rsdp_len,
			   u64 *root, const char **sig, u32 *entry_size)
{
	struct acpi_madt_info *info = ap->info;

	if (rsdp == NULL || rsdp_len == 0) {
		fmt_snprintf(info->error, sizeof(info->error), "acpi: no RSDP");
		return -ENOENT;
	}
	if (rsdp_len < ACPI_RSDP_V1_LEN) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "acpi: RSDP has %u bytes, fewer than the %u of revision 0",
			     rsdp_len, ACPI_RSDP_V1_LEN);
		return -EINVAL;
	}
	if (memcmp(rsdp, ACPI_RSDP_SIGNATURE, ACPI_RSDP_SIGNATURE_LEN) != 0) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "acpi: RSDP signature is not '%s'", ACPI_RSDP_SIGNATURE);
		return -EINVAL;
	}
	u8 sum = acpi_sum(rsdp, ACPI_RSDP_V1_LEN);
	if (sum != 0) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "acpi: RSDP checksum over the first %u bytes is 0x%x, not 0",
			     ACPI_RSDP_V1_LEN, sum);
		return -EINVAL;
	}

	u8 revision = rsdp[ACPI_RSDP_REVISION_OFF];
	u64 xsdt = 0;
	/* A revision 2 RSDP passed in only its first 20 bytes (the multiboot2
	 * old-RSDP tag) cannot show its XSDT: fall back to the RSDT. */
	if (revision >= ACPI_RSDP_REVISION_XSDT && rsdp_len >= ACPI_RSDP_V2_LEN) {
		u32 len = acpi_read32(rsdp + ACPI_RSDP_LENGTH_OFF);
		if (len < ACPI_RSDP_V2_LEN) {
			fmt_snprintf(info->error, sizeof(info->error),
				     "acpi: RSDP revision %u has length %u < %u",
				     revision, len, ACPI_RSDP_V2_LEN);
			return -EINVAL;
		}
		if (len > rsdp_len) {
			fmt_snprintf(info->error, sizeof(info->error),
				     "acpi: RSDP length %u exceeds the %u bytes available",
				     len, rsdp_len);
			return -EINVAL;
		}
		sum = acpi_sum(rsdp, len);
		if (sum != 0) {
			fmt_snprintf(info->error, sizeof(info->error),
				     "acpi: RSDP extended checksum over %u bytes is 0x%x, not 0",
				     len, sum);
			return -EINVAL;
		}
		xsdt = acpi_read64(rsdp + ACPI_RSDP_XSDT_OFF);
	}

	if (xsdt != 0) {
		*root = xsdt;
		*sig = "XSDT";
		*entry_size = ACPI_XSDT_ENTRY_SIZE;
		return 0;
	}
	*root = acpi_read32(rsdp + ACPI_RSDP_RSDT_OFF);
	*sig = "RSDT";
	*entry_size = ACPI_RSDT_ENTRY_SIZE;
	if (*root == 0) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "acpi: RSDP has neither an XSDT nor an RSDT address");
		return -ENOENT;
	}
	return 0;
}

/* Records one processor; beyond ACPI_MAX_CPUS, counts it in *dropped. */
static void acpi_add_cpu(struct acpi_madt_info *info, u32 apic_id, u32 uid,
			 u32 flags, u32 *dropped)
{
	if (info->cpu_count >= ACPI_MAX_CPUS) {
		(*dropped)++;
		return;
	}
	struct acpi_cpu *c = &info->cpus[info->cpu_count++];
	c->apic_id = apic_id;
	c->uid = uid;
	c->enabled = (flags & ACPI_LAPIC_FLAG_ENABLED) != 0;
}

/* Walks the MADT's interrupt controller structures. */
static int acpi_parse_madt_entries(struct acpi_madt_info *info, const u8 *t,
				   u32 len)
{
	u32 dropped = 0;

	if (len < ACPI_MADT_ENTRIES_OFF) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "acpi: MADT length %u < %u", len, ACPI_MADT_ENTRIES_OFF);
		return -EINVAL;
	}
	info->lapic_base = acpi_read32(t + ACPI_MADT_LAPIC_ADDR_OFF);
	info->pcat_compat = (acpi_read32(t + ACPI_MADT_FLAGS_OFF) &
			     ACPI_MADT_PCAT_COMPAT) != 0;

	for (u32 off = ACPI_MADT_ENTRIES_OFF; off < len;) {
		if (len - off < ACPI_MADT_ENTRY_HEADER_LEN) {
			fmt_snprintf(info->error, sizeof(info->error),
				     "acpi: MADT entry header at offset %u runs past the table's end (%u)",
				     off, len);
			return -EINVAL;
		}
		const u8 *e = t + off;
		u8 type = e[0], elen = e[1];
		if (elen < ACPI_MADT_ENTRY_HEADER_LEN) {
			fmt_snprintf(info->error, sizeof(info->error),
				     "acpi: MADT entry type %u at offset %u has length %u < %u",
				     type, off, elen, ACPI_MADT_ENTRY_HEADER_LEN);
			return -EINVAL;
		}
		if (elen > len - off) {
			fmt_snprintf(info->error, sizeof(info->error),
				     "acpi: MADT entry type %u at offset %u has length %u running past the table's end (%u)",
				     type, off, elen, len);
			return -EINVAL;
		}

		u32 need = 0;
		const char *what = NULL;
		switch (type) {
		case ACPI_MADT_TYPE_LOCAL_APIC:
			need = ACPI_LAPIC_LEN;
			what = "processor local APIC";
			break;
		case ACPI_MADT_TYPE_LAPIC_OVERRIDE:
			need = ACPI_LAPIC_OVR_LEN;
			what = "local APIC address override";
			break;
		case ACPI_MADT_TYPE_LOCAL_X2APIC:
			need = ACPI_X2APIC_LEN;
			what = "processor local x2APIC";
			break;
		default:
			break;	/* other controllers: not ours to use */
		}
		/* Longer is allowed: later ACPI revisions may append fields. */
		if (elen < need) {
			fmt_snprintf(info->error, sizeof(info->error),
				     "acpi: MADT %s entry at offset %u has length %u < %u",
				     what, off, elen, need);
			return -EINVAL;
		}

		switch (type) {
		case ACPI_MADT_TYPE_LOCAL_APIC:
			acpi_add_cpu(info, e[ACPI_LAPIC_ID_OFF], e[ACPI_LAPIC_UID_OFF],
				     acpi_read32(e + ACPI_LAPIC_FLAGS_OFF), &dropped);
			break;
		case ACPI_MADT_TYPE_LAPIC_OVERRIDE:
			info->lapic_base = acpi_read64(e + ACPI_LAPIC_OVR_ADDR_OFF);
			break;
		case ACPI_MADT_TYPE_LOCAL_X2APIC:
			acpi_add_cpu(info, acpi_read32(e + ACPI_X2APIC_ID_OFF),
				     acpi_read32(e + ACPI_X2APIC_UID_OFF),
				     acpi_read32(e + ACPI_X2APIC_FLAGS_OFF), &dropped);
			break;
		default:
			break;
		}
		off += elen;
	}
	if (dropped)
		printk("acpi: %u more CPUs than the %u kept, ignored\n",
		       dropped, ACPI_MAX_CPUS);
	return 0;
}

int acpi_parse_madt(const void *rsdp, u32 rsdp_len, acpi_map_fn map,
		    void *ctx, struct acpi_madt_info *info)
{
	struct acpi_parser ap = { .map = map, .ctx = ctx, .info = info };
	const char *root_sig;
	u32 entry_size, root_len, madt_len;
	const u8 *root, *madt = NULL;
	u64 root_phys, madt_phys = 0;
	int rc;

	memset(info, 0, sizeof(*info));

	rc = acpi_check_rsdp(&ap, rsdp, rsdp_len, &root_phys, &root_sig,
			     &entry_size);
	if (rc)
		return rc;
	rc = acpi_map_table(&ap, root_phys, root_sig, &root, &root_len);
	if (rc)
		return rc;

	/* A trailing partial entry is ignored, as Linux does: it is covered
	 * by the checksum, so it is firmware's padding, not corruption. */
	u32 entries = (root_len - ACPI_SDT_HEADER_LEN) / entry_size;
	u32 unreadable = 0;
	for (u32 i = 0; i < entries; i++) {
		const u8 *p = root + ACPI_SDT_HEADER_LEN + i * entry_size;
		u64 phys = entry_size == ACPI_XSDT_ENTRY_SIZE ? acpi_read64(p)
							      : acpi_read32(p);
		if (phys == 0)
			continue;
		const u8 *hdr = acpi_map_header(&ap, phys);
		if (hdr == NULL) {
			unreadable++;
			continue;
		}
		if (memcmp(hdr, "APIC", ACPI_SDT_SIGNATURE_LEN) == 0) {
			madt_phys = phys;
			break;
		}
	}
	if (madt_phys == 0) {
		fmt_snprintf(info->error, sizeof(info->error),
			     "acpi: no MADT ('APIC') among the %u entries of the %s (%u unreadable)",
			     entries, root_sig, unreadable);
		return -ENOENT;
	}
	rc = acpi_map_table(&ap, madt_phys, "APIC", &madt, &madt_len);
	if (rc == 0)
		rc = acpi_parse_madt_entries(info, madt, madt_len);
	if (rc) {
		/* Leave nothing half-parsed for a caller that ignores rc. */
		char error[sizeof(info->error)];
		memcpy(error, info->error, sizeof(error));
		memset(info, 0, sizeof(*info));
		memcpy(info->error, error, sizeof(error));
	}
	return rc;
}
