/*
 * drivers/drivers.h - the machine's devices as the hypervisor uses them: the
 * COM1 console, the local APIC (xAPIC or x2APIC) and IPIs, the TSC and PIT,
 * ACPI tables (MADT: the CPUs), and powering off with a status.
 *
 * The ACPI table parser (drivers/acpi.c) is pure: it reaches memory only
 * through a map callback, so it is unit-tested on the host.
 */
#ifndef DRIVERS_DRIVERS_H
#define DRIVERS_DRIVERS_H

#include "lib/lib.h"

/* ---- ACPI (drivers/acpi.c, pure) ---------------------------------------- */
#define ACPI_MAX_CPUS  64

struct acpi_cpu {
	u32 apic_id;
	u32 uid;		/* ACPI processor UID */
	bool enabled;		/* flags bit 0; online-capable-only CPUs are not */
};

struct acpi_madt_info {
	u64 lapic_base;		/* local APIC physical base (override applied) */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	u32 cpu_count;		/* entries in cpus[], enabled or not */
	bool pcat_compat;	/* MADT flags bit 0: 8259 PICs present */
	char error[128];	/* why acpi_parse_madt refused */
};

/* Returns a pointer through which len bytes at physical address phys can be
 * read, or NULL if that range is not readable (outside memory, overflow). */
typedef const void *(*acpi_map_fn)(void *ctx, u64 phys, u64 len);

/* From the RSDP (rsdp_len readable bytes, as found in the multiboot2 tag),
 * finds the XSDT (revision >= 2 and non-zero address) or else the RSDT, then
 * the MADT ("APIC"), checking every signature, length and checksum, and lists
 * the processor local APIC (type 0) and local x2APIC (type 9) entries. Returns
 * 0, or -EINVAL / -ENOENT with info->error naming the problem. */
int acpi_parse_madt(const void *rsdp, u32 rsdp_len, acpi_map_fn map,
		    void *ctx, struct acpi_madt_info *info);

#endif /* DRIVERS_DRIVERS_H */
