/*
 * Host tests for the VMX vocabulary: vmx/vmx_defs.h (VMCS encodings and
 * their width rules, controls, capability MSR helpers), vmx/vmx_names.c
 * (exit-reason, VM-instruction-error and entry-failure names, the VMCS dump
 * list) and vmx/vmx_qual.h (exit-qualification and event-injection helpers).
 * Expected values are taken from the SDM tables, not from the code.
 */
#include "vmx/vmx_names.c"
#include "tests/host/test.h"

#include <libgen.h>
#include <unistd.h>

/* The width checks also hold at file scope. */
VMCS_STATIC_ASSERT_WIDTH(VMCS_GUEST_RIP, VMCS_WIDTH_NATURAL);
VMCS_STATIC_ASSERT_WIDTH(VMCS_EXIT_REASON, VMCS_WIDTH_32);
VMCS_STATIC_ASSERT_WIDTH(VMCS_EPT_POINTER, VMCS_WIDTH_64);
VMCS_STATIC_ASSERT_WIDTH(VMCS_HIGH(VMCS_EPT_POINTER), VMCS_WIDTH_32);
VMCS_STATIC_ASSERT_WIDTH(VMCS_GUEST_CS_SELECTOR, VMCS_WIDTH_16);

/* Every encoding the header defines, for the rule checks below. */
static const struct vmcs_field_desc all_fields[] = {
	FIELD(VPID), FIELD(POSTED_INTR_NV), FIELD(EPTP_INDEX),
	FIELD(HLAT_PREFIX_SIZE), FIELD(LAST_PID_POINTER_INDEX),
	FIELD(GUEST_ES_SELECTOR), FIELD(GUEST_CS_SELECTOR),
	FIELD(GUEST_SS_SELECTOR), FIELD(GUEST_DS_SELECTOR),
	FIELD(GUEST_FS_SELECTOR), FIELD(GUEST_GS_SELECTOR),
	FIELD(GUEST_LDTR_SELECTOR), FIELD(GUEST_TR_SELECTOR),
	FIELD(GUEST_INTR_STATUS), FIELD(GUEST_PML_INDEX), FIELD(GUEST_UINV),
	FIELD(HOST_ES_SELECTOR), FIELD(HOST_CS_SELECTOR),
	FIELD(HOST_SS_SELECTOR), FIELD(HOST_DS_SELECTOR),
	FIELD(HOST_FS_SELECTOR), FIELD(HOST_GS_SELECTOR),
	FIELD(HOST_TR_SELECTOR),
	FIELD(IO_BITMAP_A), FIELD(IO_BITMAP_B), FIELD(MSR_BITMAP),
	FIELD(EXIT_MSR_STORE_ADDR), FIELD(EXIT_MSR_LOAD_ADDR),
	FIELD(ENTRY_MSR_LOAD_ADDR), FIELD(EXECUTIVE_VMCS_POINTER),
	FIELD(PML_ADDRESS), FIELD(TSC_OFFSET), FIELD(VIRTUAL_APIC_PAGE_ADDR),
	FIELD(APIC_ACCESS_ADDR), FIELD(POSTED_INTR_DESC_ADDR),
	FIELD(VM_FUNCTION_CTLS), FIELD(EPT_POINTER), FIELD(EOI_EXIT_BITMAP0),
	FIELD(EOI_EXIT_BITMAP1), FIELD(EOI_EXIT_BITMAP2),
	FIELD(EOI_EXIT_BITMAP3), FIELD(EPTP_LIST_ADDRESS),
	FIELD(VMREAD_BITMAP), FIELD(VMWRITE_BITMAP), FIELD(VE_INFO_ADDRESS),
	FIELD(XSS_EXITING_BITMAP), FIELD(ENCLS_EXITING_BITMAP),
	FIELD(SPP_TABLE_POINTER), FIELD(TSC_MULTIPLIER),
	FIELD(PROC_BASED_CTLS3), FIELD(ENCLV_EXITING_BITMAP),
	FIELD(GUEST_PHYSICAL_ADDRESS),
	FIELD(LINK_POINTER), FIELD(GUEST_IA32_DEBUGCTL), FIELD(GUEST_IA32_PAT),
	FIELD(GUEST_IA32_EFER), FIELD(GUEST_IA32_PERF_GLOBAL_CTRL),
	FIELD(GUEST_PDPTE0), FIELD(GUEST_PDPTE1), FIELD(GUEST_PDPTE2),
	FIELD(GUEST_PDPTE3), FIELD(GUEST_IA32_BNDCFGS),
	FIELD(GUEST_IA32_RTIT_CTL), FIELD(GUEST_IA32_LBR_CTL),
	FIELD(GUEST_IA32_PKRS),
	FIELD(HOST_IA32_PAT), FIELD(HOST_IA32_EFER),
	FIELD(HOST_IA32_PERF_GLOBAL_CTRL), FIELD(HOST_IA32_PKRS),
	FIELD(PIN_BASED_CTLS), FIELD(PROC_BASED_CTLS), FIELD(EXCEPTION_BITMAP),
	FIELD(PAGE_FAULT_ERROR_CODE_MASK), FIELD(PAGE_FAULT_ERROR_CODE_MATCH),
	FIELD(CR3_TARGET_COUNT), FIELD(EXIT_CTLS), FIELD(EXIT_MSR_STORE_COUNT),
	FIELD(EXIT_MSR_LOAD_COUNT), FIELD(ENTRY_CTLS),
	FIELD(ENTRY_MSR_LOAD_COUNT), FIELD(ENTRY_INTR_INFO),
	FIELD(ENTRY_EXCEPTION_ERROR_CODE), FIELD(ENTRY_INSTRUCTION_LEN),
	FIELD(TPR_THRESHOLD), FIELD(PROC_BASED_CTLS2), FIELD(PLE_GAP),
	FIELD(PLE_WINDOW), FIELD(NOTIFY_WINDOW),
	FIELD(VM_INSTRUCTION_ERROR), FIELD(EXIT_REASON), FIELD(EXIT_INTR_INFO),
	FIELD(EXIT_INTR_ERROR_CODE), FIELD(IDT_VECTORING_INFO),
	FIELD(IDT_VECTORING_ERROR_CODE), FIELD(EXIT_INSTRUCTION_LEN),
	FIELD(EXIT_INSTRUCTION_INFO),
	FIELD(GUEST_ES_LIMIT), FIELD(GUEST_CS_LIMIT), FIELD(GUEST_SS_LIMIT),
	FIELD(GUEST_DS_LIMIT), FIELD(GUEST_FS_LIMIT), FIELD(GUEST_GS_LIMIT),
	FIELD(GUEST_LDTR_LIMIT), FIELD(GUEST_TR_LIMIT), FIELD(GUEST_GDTR_LIMIT),
	FIELD(GUEST_IDTR_LIMIT), FIELD(GUEST_ES_AR_BYTES),
	FIELD(GUEST_CS_AR_BYTES), FIELD(GUEST_SS_AR_BYTES),
	FIELD(GUEST_DS_AR_BYTES), FIELD(GUEST_FS_AR_BYTES),
	FIELD(GUEST_GS_AR_BYTES), FIELD(GUEST_LDTR_AR_BYTES),
	FIELD(GUEST_TR_AR_BYTES), FIELD(GUEST_INTERRUPTIBILITY_INFO),
	FIELD(GUEST_ACTIVITY_STATE), FIELD(GUEST_SMBASE),
	FIELD(GUEST_IA32_SYSENTER_CS), FIELD(PREEMPTION_TIMER_VALUE),
	FIELD(HOST_IA32_SYSENTER_CS),
	FIELD(CR0_GUEST_HOST_MASK), FIELD(CR4_GUEST_HOST_MASK),
	FIELD(CR0_READ_SHADOW), FIELD(CR4_READ_SHADOW),
	FIELD(CR3_TARGET_VALUE0), FIELD(CR3_TARGET_VALUE1),
	FIELD(CR3_TARGET_VALUE2), FIELD(CR3_TARGET_VALUE3),
	FIELD(EXIT_QUALIFICATION), FIELD(IO_RCX), FIELD(IO_RSI), FIELD(IO_RDI),
	FIELD(IO_RIP), FIELD(GUEST_LINEAR_ADDRESS),
	FIELD(GUEST_CR0), FIELD(GUEST_CR3), FIELD(GUEST_CR4),
	FIELD(GUEST_ES_BASE), FIELD(GUEST_CS_BASE), FIELD(GUEST_SS_BASE),
	FIELD(GUEST_DS_BASE), FIELD(GUEST_FS_BASE), FIELD(GUEST_GS_BASE),
	FIELD(GUEST_LDTR_BASE), FIELD(GUEST_TR_BASE), FIELD(GUEST_GDTR_BASE),
	FIELD(GUEST_IDTR_BASE), FIELD(GUEST_DR7), FIELD(GUEST_RSP),
	FIELD(GUEST_RIP), FIELD(GUEST_RFLAGS),
	FIELD(GUEST_PENDING_DBG_EXCEPTIONS), FIELD(GUEST_IA32_SYSENTER_ESP),
	FIELD(GUEST_IA32_SYSENTER_EIP), FIELD(GUEST_IA32_S_CET),
	FIELD(GUEST_SSP), FIELD(GUEST_INTR_SSP_TABLE_ADDR),
	FIELD(HOST_CR0), FIELD(HOST_CR3), FIELD(HOST_CR4), FIELD(HOST_FS_BASE),
	FIELD(HOST_GS_BASE), FIELD(HOST_TR_BASE), FIELD(HOST_GDTR_BASE),
	FIELD(HOST_IDTR_BASE), FIELD(HOST_IA32_SYSENTER_ESP),
	FIELD(HOST_IA32_SYSENTER_EIP), FIELD(HOST_RSP), FIELD(HOST_RIP),
	FIELD(HOST_IA32_S_CET), FIELD(HOST_SSP), FIELD(HOST_INTR_SSP_TABLE_ADDR),
};

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The width an SDM Appendix B table puts a field in, from its encoding's
 * top hex digit (0xxxH 16-bit, 2xxxH 64-bit, 4xxxH 32-bit, 6xxxH natural). */
static int width_from_table(u32 enc)
{
	switch (enc >> 12) {
	case 0x0: return VMCS_WIDTH_16;
	case 0x2: return VMCS_WIDTH_64;
	case 0x4: return VMCS_WIDTH_32;
	case 0x6: return VMCS_WIDTH_NATURAL;
	default:  return -1;
	}
}

/* The width a field's name implies, or -1 when the name says nothing. */
static int width_from_name(const char *name)
{
	if (ends_with(name, "_SELECTOR"))
		return VMCS_WIDTH_16;
	if (ends_with(name, "_LIMIT") || ends_with(name, "_AR_BYTES") ||
	    ends_with(name, "_COUNT") || ends_with(name, "_BASED_CTLS") ||
	    ends_with(name, "_BASED_CTLS2") || ends_with(name, "EXIT_CTLS") ||
	    ends_with(name, "ENTRY_CTLS") || ends_with(name, "_INFO") ||
	    ends_with(name, "_ERROR_CODE") || ends_with(name, "_LEN"))
		return VMCS_WIDTH_32;
	if (ends_with(name, "_BASE") || ends_with(name, "_CR0") ||
	    ends_with(name, "_CR3") || ends_with(name, "_CR4") ||
	    ends_with(name, "_RSP") || ends_with(name, "_RIP") ||
	    ends_with(name, "_SHADOW") || ends_with(name, "_GUEST_HOST_MASK"))
		return VMCS_WIDTH_NATURAL;
	if (ends_with(name, "_PAT") || ends_with(name, "_EFER") ||
	    starts_with(name, "GUEST_PDPTE") || ends_with(name, "_POINTER") ||
	    ends_with(name, "_PERF_GLOBAL_CTRL") || ends_with(name, "_DEBUGCTL") ||
	    ends_with(name, "MSR_STORE_ADDR") || ends_with(name, "MSR_LOAD_ADDR"))
		return VMCS_WIDTH_64;
	return -1;
}

/* Checks the encoding rules on a field list: no reserved or high-access
 * bits, the width its table and its name imply, the area its name implies,
 * no encoding or name twice. */
static void check_field_rules(const struct vmcs_field_desc *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		u32 enc = f[i].enc;
		const char *name = f[i].name;
		u32 type = VMCS_FIELD_TYPE(enc);
		int named_width = width_from_name(name);

		if ((enc & VMCS_FIELD_RESERVED_MASK) != 0 ||
		    (enc & VMCS_FIELD_ACCESS_HIGH) != 0 ||
		    (int)VMCS_FIELD_WIDTH(enc) != width_from_table(enc) ||
		    (named_width >= 0 && (int)VMCS_FIELD_WIDTH(enc) != named_width)) {
			printf("  field %s (0x%04x): bad encoding\n", name, enc);
			test_failed_checks++;
		}
		/* The type bits put the field in the area its name says. */
		if ((type == VMCS_TYPE_HOST) != starts_with(name, "HOST_") ||
		    (type == VMCS_TYPE_GUEST &&
		     !starts_with(name, "GUEST_") &&
		     strcmp(name, "LINK_POINTER") != 0 &&
		     strcmp(name, "PREEMPTION_TIMER_VALUE") != 0)) {
			printf("  field %s (0x%04x): type %u\n", name, enc, type);
			test_failed_checks++;
		}
		for (size_t j = 0; j < i; j++) {
			if (f[j].enc == enc || strcmp(f[j].name, name) == 0) {
				printf("  field %s duplicates %s\n", name, f[j].name);
				test_failed_checks++;
			}
		}
	}
}

TEST(test_encodings_exact)
{
	/* SDM Vol. 3D, Appendix B tables. */
	CHECK_EQ(VMCS_GUEST_RIP, 0x681e);
	CHECK_EQ(VMCS_EXIT_REASON, 0x4402);
	CHECK_EQ(VMCS_EPT_POINTER, 0x201a);
	CHECK_EQ(VMCS_GUEST_PHYSICAL_ADDRESS, 0x2400);
	CHECK_EQ(VMCS_EXIT_QUALIFICATION, 0x6400);
	CHECK_EQ(VMCS_HOST_RIP, 0x6c16);
	CHECK_EQ(VMCS_VPID, 0x0000);
	CHECK_EQ(VMCS_EPTP_INDEX, 0x0004);
	CHECK_EQ(VMCS_GUEST_TR_SELECTOR, 0x080e);
	CHECK_EQ(VMCS_HOST_TR_SELECTOR, 0x0c0c);
	CHECK_EQ(VMCS_MSR_BITMAP, 0x2004);
	CHECK_EQ(VMCS_EXECUTIVE_VMCS_POINTER, 0x200c);
	CHECK_EQ(VMCS_TSC_OFFSET, 0x2010);
	CHECK_EQ(VMCS_EOI_EXIT_BITMAP3, 0x2022);
	CHECK_EQ(VMCS_XSS_EXITING_BITMAP, 0x202c);
	CHECK_EQ(VMCS_TSC_MULTIPLIER, 0x2032);
	CHECK_EQ(VMCS_LINK_POINTER, 0x2800);
	CHECK_EQ(VMCS_GUEST_IA32_EFER, 0x2806);
	CHECK_EQ(VMCS_GUEST_PDPTE3, 0x2810);
	CHECK_EQ(VMCS_GUEST_IA32_BNDCFGS, 0x2812);
	CHECK_EQ(VMCS_HOST_IA32_PERF_GLOBAL_CTRL, 0x2c04);
	CHECK_EQ(VMCS_PIN_BASED_CTLS, 0x4000);
	CHECK_EQ(VMCS_PROC_BASED_CTLS, 0x4002);
	CHECK_EQ(VMCS_EXIT_CTLS, 0x400c);
	CHECK_EQ(VMCS_ENTRY_CTLS, 0x4012);
	CHECK_EQ(VMCS_ENTRY_INTR_INFO, 0x4016);
	CHECK_EQ(VMCS_PROC_BASED_CTLS2, 0x401e);
	CHECK_EQ(VMCS_VM_INSTRUCTION_ERROR, 0x4400);
	CHECK_EQ(VMCS_EXIT_INSTRUCTION_INFO, 0x440e);
	CHECK_EQ(VMCS_GUEST_IDTR_LIMIT, 0x4812);
	CHECK_EQ(VMCS_GUEST_TR_AR_BYTES, 0x4822);
	CHECK_EQ(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0x4824);
	CHECK_EQ(VMCS_GUEST_ACTIVITY_STATE, 0x4826);
	CHECK_EQ(VMCS_GUEST_SMBASE, 0x4828);
	CHECK_EQ(VMCS_GUEST_IA32_SYSENTER_CS, 0x482a);
	CHECK_EQ(VMCS_PREEMPTION_TIMER_VALUE, 0x482e);
	CHECK_EQ(VMCS_HOST_IA32_SYSENTER_CS, 0x4c00);
	CHECK_EQ(VMCS_CR4_READ_SHADOW, 0x6006);
	CHECK_EQ(VMCS_CR3_TARGET_VALUE3, 0x600e);
	CHECK_EQ(VMCS_IO_RIP, 0x6408);
	CHECK_EQ(VMCS_GUEST_LINEAR_ADDRESS, 0x640a);
	CHECK_EQ(VMCS_GUEST_IDTR_BASE, 0x6818);
	CHECK_EQ(VMCS_GUEST_RFLAGS, 0x6820);
	CHECK_EQ(VMCS_GUEST_IA32_SYSENTER_EIP, 0x6826);
	CHECK_EQ(VMCS_HOST_CR3, 0x6c02);
	CHECK_EQ(VMCS_HOST_IDTR_BASE, 0x6c0e);
	CHECK_EQ(VMCS_HOST_RSP, 0x6c14);
}

TEST(test_encoding_fields)
{
	CHECK_EQ(VMCS_FIELD_WIDTH(VMCS_GUEST_CS_SELECTOR), VMCS_WIDTH_16);
	CHECK_EQ(VMCS_FIELD_WIDTH(VMCS_EPT_POINTER), VMCS_WIDTH_64);
	CHECK_EQ(VMCS_FIELD_WIDTH(VMCS_EXIT_REASON), VMCS_WIDTH_32);
	CHECK_EQ(VMCS_FIELD_WIDTH(VMCS_GUEST_RIP), VMCS_WIDTH_NATURAL);
	CHECK_EQ(VMCS_FIELD_TYPE(VMCS_PIN_BASED_CTLS), VMCS_TYPE_CONTROL);
	CHECK_EQ(VMCS_FIELD_TYPE(VMCS_EXIT_QUALIFICATION), VMCS_TYPE_EXIT_INFO);
	CHECK_EQ(VMCS_FIELD_TYPE(VMCS_GUEST_PHYSICAL_ADDRESS), VMCS_TYPE_EXIT_INFO);
	CHECK_EQ(VMCS_FIELD_TYPE(VMCS_LINK_POINTER), VMCS_TYPE_GUEST);
	CHECK_EQ(VMCS_FIELD_TYPE(VMCS_HOST_IA32_EFER), VMCS_TYPE_HOST);
	CHECK_EQ(VMCS_FIELD_INDEX(VMCS_GUEST_RIP), 0xf);
	CHECK_EQ(VMCS_FIELD_INDEX(VMCS_EPT_POINTER), 0xd);
	/* The high half of a 64-bit field is a 32-bit access. */
	CHECK_EQ(VMCS_HIGH(VMCS_EPT_POINTER), 0x201b);
	CHECK_EQ(VMCS_FIELD_WIDTH(VMCS_HIGH(VMCS_EPT_POINTER)), VMCS_WIDTH_64);
	CHECK_EQ(VMCS_ACCESS_WIDTH(VMCS_HIGH(VMCS_EPT_POINTER)), VMCS_WIDTH_32);
	CHECK_EQ(VMCS_ACCESS_WIDTH(VMCS_EPT_POINTER), VMCS_WIDTH_64);
	CHECK_EQ(VMCS_ACCESS_WIDTH(VMCS_GUEST_RIP), VMCS_WIDTH_NATURAL);
	/* Bit 0 means nothing for the other widths. */
	CHECK_EQ(VMCS_ACCESS_WIDTH(VMCS_GUEST_RIP | 1), VMCS_WIDTH_NATURAL);
}

TEST(test_all_encodings_follow_the_rules)
{
	check_field_rules(all_fields, ARRAY_SIZE(all_fields));
}

TEST(test_dump_table)
{
	static const u32 group_order[] = {
		VMCS_TYPE_GUEST, VMCS_TYPE_HOST, VMCS_TYPE_CONTROL,
		VMCS_TYPE_EXIT_INFO,
	};
	size_t group = 0;
	bool found_rip = false, found_reason = false, found_qual = false;

	CHECK(vmcs_dump_fields_count > 100);
	CHECK_EQ(vmcs_dump_fields_count,
		 sizeof(vmcs_dump_fields) / sizeof(vmcs_dump_fields[0]));
	check_field_rules(vmcs_dump_fields, vmcs_dump_fields_count);

	for (size_t i = 0; i < vmcs_dump_fields_count; i++) {
		const struct vmcs_field_desc *f = &vmcs_dump_fields[i];
		bool known = false;

		/* Groups are contiguous and in order. */
		while (group < ARRAY_SIZE(group_order) &&
		       VMCS_FIELD_TYPE(f->enc) != group_order[group])
			group++;
		CHECK(group < ARRAY_SIZE(group_order));

		/* Every dumped field is one the header defines, by that name. */
		for (size_t j = 0; j < ARRAY_SIZE(all_fields); j++)
			if (all_fields[j].enc == f->enc &&
			    strcmp(all_fields[j].name, f->name) == 0)
				known = true;
		CHECK(known);

		found_rip |= f->enc == 0x681e && strcmp(f->name, "GUEST_RIP") == 0;
		found_reason |= f->enc == 0x4402 && strcmp(f->name, "EXIT_REASON") == 0;
		found_qual |= f->enc == 0x6400;
	}
	CHECK(found_rip);
	CHECK(found_reason);
	CHECK(found_qual);
	CHECK_EQ(VMCS_FIELD_TYPE(vmcs_dump_fields[0].enc), VMCS_TYPE_GUEST);
	CHECK_EQ(VMCS_FIELD_TYPE(vmcs_dump_fields[vmcs_dump_fields_count - 1].enc),
		 VMCS_TYPE_EXIT_INFO);
}

/* Compiles a snippet that includes vmx/vmx_defs.h as the kernel would (-O2)
 * and returns true when gcc accepted it. The repository root is found from
 * this binary's path, build/host/test_vmx_defs. */
static bool compiles(const char *snippet)
{
	char exe[4096], cmd[8192], probe[4200];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *p;

	if (n <= 0) {
		printf("  cannot read /proc/self/exe\n");
		test_failed_checks++;
		return false;
	}
	exe[n] = '\0';
	char *root = dirname(dirname(dirname(exe)));
	snprintf(probe, sizeof(probe), "%s/vmx/vmx_defs.h", root);
	if (access(probe, R_OK) != 0) {
		printf("  cannot find %s\n", probe);
		test_failed_checks++;
		return false;
	}
	snprintf(cmd, sizeof(cmd),
		 "gcc -std=gnu11 -O2 -DHOST_TEST -Wall -Werror -I'%s' "
		 "-x c -c -o /dev/null - 2>/dev/null", root);
	p = popen(cmd, "w");
	if (!p) {
		test_failed_checks++;
		return false;
	}
	fputs("#include \"vmx/vmx_defs.h\"\n"
	      "static inline __attribute__((always_inline)) u32\n"
	      "rd32(unsigned long enc)\n"
	      "{ VMCS_BUILD_BUG_ON_WIDTH(enc, VMCS_WIDTH_32); return (u32)enc; }\n"
	      "static inline __attribute__((always_inline)) u64\n"
	      "rdnat(unsigned long enc)\n"
	      "{ VMCS_BUILD_BUG_ON_WIDTH(enc, VMCS_WIDTH_NATURAL); return enc; }\n"
	      "u64 f(unsigned long e);\n", p);
	fputs(snippet, p);
	return pclose(p) == 0;
}

TEST(test_build_bug_on_width)
{
	/* A right width, a high half, and a run-time encoding build. */
	CHECK(compiles("u64 f(unsigned long e) { return rd32(VMCS_EXIT_REASON)"
		       " + rd32(VMCS_HIGH(VMCS_EPT_POINTER)) + rdnat(VMCS_GUEST_RIP)"
		       " + rd32(e); }\n"));
	/* A 64-bit or natural-width field through the 32-bit accessor, or a
	 * 32-bit field through the natural one, does not. */
	CHECK(!compiles("u64 f(unsigned long e) { (void)e; return rd32(VMCS_GUEST_RIP); }\n"));
	CHECK(!compiles("u64 f(unsigned long e) { (void)e; return rd32(VMCS_EPT_POINTER); }\n"));
	CHECK(!compiles("u64 f(unsigned long e) { (void)e; return rdnat(VMCS_EXIT_REASON); }\n"));
	CHECK(!compiles("u64 f(unsigned long e) { (void)e; return rd32(VMCS_GUEST_CS_SELECTOR); }\n"));
	/* The file-scope form. */
	CHECK(compiles("VMCS_STATIC_ASSERT_WIDTH(VMCS_GUEST_CR0, VMCS_WIDTH_NATURAL);\n"));
	CHECK(!compiles("VMCS_STATIC_ASSERT_WIDTH(VMCS_GUEST_CR0, VMCS_WIDTH_32);\n"));
}

TEST(test_control_bits)
{
	/* SDM Vol. 3C control tables: bit positions. */
	CHECK_EQ(PIN_BASED_EXT_INTR_EXITING, 0x1);
	CHECK_EQ(PIN_BASED_NMI_EXITING, 0x8);
	CHECK_EQ(PIN_BASED_VIRTUAL_NMIS, 0x20);
	CHECK_EQ(PIN_BASED_PREEMPTION_TIMER, 0x40);
	CHECK_EQ(PIN_BASED_POSTED_INTR, 0x80);
	CHECK_EQ(PROC_BASED_HLT_EXITING, 0x80);
	CHECK_EQ(PROC_BASED_USE_TPR_SHADOW, 0x200000);
	CHECK_EQ(PROC_BASED_UNCOND_IO_EXITING, 0x1000000);
	CHECK_EQ(PROC_BASED_USE_IO_BITMAPS, 0x2000000);
	CHECK_EQ(PROC_BASED_MONITOR_TRAP_FLAG, 0x8000000);
	CHECK_EQ(PROC_BASED_USE_MSR_BITMAPS, 0x10000000);
	CHECK_EQ(PROC_BASED_ACTIVATE_SECONDARY_CONTROLS, 0x80000000u);
	CHECK_EQ(PROC_BASED2_ENABLE_EPT, 0x2);
	CHECK_EQ(PROC_BASED2_ENABLE_RDTSCP, 0x8);
	CHECK_EQ(PROC_BASED2_ENABLE_VPID, 0x20);
	CHECK_EQ(PROC_BASED2_UNRESTRICTED_GUEST, 0x80);
	CHECK_EQ(PROC_BASED2_ENABLE_INVPCID, 0x1000);
	CHECK_EQ(PROC_BASED2_ENABLE_XSAVES, 0x100000);
	CHECK_EQ(PROC_BASED2_TSC_SCALING, 0x2000000);
	CHECK_EQ(VM_EXIT_HOST_ADDR_SPACE_SIZE, 0x200);
	CHECK_EQ(VM_EXIT_ACK_INTR_ON_EXIT, 0x8000);
	CHECK_EQ(VM_EXIT_SAVE_PAT | VM_EXIT_LOAD_PAT, 0xc0000);
	CHECK_EQ(VM_EXIT_SAVE_EFER | VM_EXIT_LOAD_EFER, 0x300000);
	CHECK_EQ(VM_EXIT_SAVE_PREEMPTION_TIMER, 0x400000);
	CHECK_EQ(VM_ENTRY_IA32E_MODE_GUEST, 0x200);
	CHECK_EQ(VM_ENTRY_LOAD_PAT, 0x4000);
	CHECK_EQ(VM_ENTRY_LOAD_EFER, 0x8000);
	/* The default1 sets are what the non-TRUE MSRs force on. */
	CHECK_EQ(PIN_BASED_DEFAULT1, (1u << 1) | (1u << 2) | (1u << 4));
	CHECK_EQ(VM_ENTRY_DEFAULT1, 0x1ff | (1u << 12));
	CHECK_EQ(PROC_BASED_DEFAULT1 & (PROC_BASED_HLT_EXITING |
					PROC_BASED_USE_IO_BITMAPS), 0);
}

TEST(test_capability_msrs)
{
	/* IA32_VMX_BASIC of a CPU with VMCS revision 4, a 1 KiB VMCS region,
	 * write-back VMCS memory, INS/OUTS info and TRUE controls. */
	u64 basic = 0x00d8040000000004ull;

	CHECK_EQ(IA32_FEATURE_CONTROL, 0x3a);
	CHECK_EQ(IA32_VMX_BASIC, 0x480);
	CHECK_EQ(IA32_VMX_EPT_VPID_CAP, 0x48c);
	CHECK_EQ(IA32_VMX_TRUE_PINBASED_CTLS, 0x48d);
	CHECK_EQ(IA32_VMX_TRUE_ENTRY_CTLS, 0x490);
	CHECK_EQ(IA32_VMX_VMFUNC, 0x491);
	CHECK_EQ(IA32_VMX_CR4_FIXED1, 0x489);
	CHECK_EQ(FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON_OUTSIDE_SMX, 0x5);

	CHECK_EQ(vmx_basic_revision(basic), 4);
	CHECK_EQ(vmx_basic_revision(0x80000000ull | 0x2b), 0x2b);
	CHECK_EQ(vmx_basic_vmcs_size(basic), 0x400);
	CHECK_EQ(vmx_basic_mem_type(basic), VMX_BASIC_MEM_TYPE_WB);
	CHECK((basic & VMX_BASIC_TRUE_CTLS) != 0);
	CHECK((basic & VMX_BASIC_INOUT_INFO) != 0);
	CHECK((basic & VMX_BASIC_32BIT_PHYS_ADDR) == 0);
	CHECK_EQ(vmx_misc_max_msr_list(0), 512);
	CHECK_EQ(vmx_misc_max_msr_list(3ull << 25), 2048);

	/* IA32_VMX_EPT_VPID_CAP bit positions. */
	CHECK_EQ(VMX_EPT_CAP_EXECUTE_ONLY, 0x1);
	CHECK_EQ(VMX_EPT_CAP_PAGE_WALK_4, 0x40);
	CHECK_EQ(VMX_EPT_CAP_MEM_TYPE_UC, 0x100);
	CHECK_EQ(VMX_EPT_CAP_MEM_TYPE_WB, 0x4000);
	CHECK_EQ(VMX_EPT_CAP_2MB_PAGE, 0x10000);
	CHECK_EQ(VMX_EPT_CAP_1GB_PAGE, 0x20000);
	CHECK_EQ(VMX_EPT_CAP_INVEPT, 0x100000);
	CHECK_EQ(VMX_EPT_CAP_AD_FLAGS, 0x200000);
	CHECK_EQ(VMX_EPT_CAP_INVEPT_SINGLE_CONTEXT, 0x2000000);
	CHECK_EQ(VMX_EPT_CAP_INVEPT_ALL_CONTEXT, 0x4000000);
	CHECK(VMX_VPID_CAP_INVVPID == 0x100000000ull);
	CHECK(VMX_VPID_CAP_INVVPID_SINGLE_CONTEXT == 0x20000000000ull);
	CHECK(VMX_VPID_CAP_INVVPID_ALL_CONTEXT == 0x40000000000ull);
}

TEST(test_adjust_controls)
{
	/* Pin-based: bits 1, 2, 4 must be 1; bits 0-6 may be 1 (no posted
	 * interrupts). */
	u64 pin_cap = 0x0000007f00000016ull;
	/* Primary proc-based: default1 forced, everything but bit 31 allowed. */
	u64 proc_cap = 0x7fffffff0401e172ull;
	u32 want;

	want = PIN_BASED_EXT_INTR_EXITING | PIN_BASED_NMI_EXITING;
	CHECK_EQ(vmx_adjust_controls(want, pin_cap), 0x1f);
	CHECK(vmx_controls_ok(want, pin_cap));
	/* A control the CPU lacks is dropped, and vmx_controls_ok says so. */
	CHECK_EQ(vmx_adjust_controls(PIN_BASED_POSTED_INTR, pin_cap), 0x16);
	CHECK(!vmx_controls_ok(PIN_BASED_POSTED_INTR, pin_cap));
	CHECK(vmx_controls_ok(0, pin_cap));

	want = PROC_BASED_HLT_EXITING | PROC_BASED_USE_IO_BITMAPS |
	       PROC_BASED_ACTIVATE_SECONDARY_CONTROLS;
	CHECK_EQ(vmx_adjust_controls(want, proc_cap),
		 0x0401e172u | PROC_BASED_HLT_EXITING | PROC_BASED_USE_IO_BITMAPS);
	CHECK(!vmx_controls_ok(want, proc_cap));
	CHECK(vmx_controls_ok(want & ~PROC_BASED_ACTIVATE_SECONDARY_CONTROLS,
			      proc_cap));
	/* A TRUE MSR may let a default1 bit be 0: it then stays 0. */
	CHECK_EQ(vmx_adjust_controls(0, 0xffffffff00000000ull), 0);
	CHECK_EQ(vmx_adjust_controls(0xffffffffu, 0), 0);
	CHECK_EQ(vmx_adjust_controls(0, 0x0000000f0000000full), 0xf);
}

TEST(test_exit_reason_format)
{
	CHECK_EQ(exit_reason_basic(0x80000021u), EXIT_REASON_INVALID_GUEST_STATE);
	CHECK(exit_reason_is_entry_failure(0x80000021u));
	CHECK(!exit_reason_is_entry_failure(0x0000000au));
	CHECK_EQ(exit_reason_basic(0x1000000cu), EXIT_REASON_HLT);
	CHECK_EQ(VMX_EXIT_REASON_PENDING_MTF, 0x10000000u);
	CHECK_EQ(VMX_EXIT_REASON_ENCLAVE, 0x08000000u);
	CHECK_EQ(VMX_EXIT_REASON_FROM_VMX_ROOT, 0x20000000u);
	CHECK_EQ(VMX_EXIT_REASON_ENTRY_FAILURE, 0x80000000u);
}

TEST(test_exit_reason_names)
{
	static const u32 gaps[] = { 35, 38, 42, 71 };
	int named = 0;

	/* SDM Vol. 3D, Appendix C numbers. */
	CHECK_STR(vmx_exit_reason_name(0), "EXCEPTION_NMI");
	CHECK_STR(vmx_exit_reason_name(1), "EXTERNAL_INTERRUPT");
	CHECK_STR(vmx_exit_reason_name(2), "TRIPLE_FAULT");
	CHECK_STR(vmx_exit_reason_name(3), "INIT_SIGNAL");
	CHECK_STR(vmx_exit_reason_name(4), "SIPI");
	CHECK_STR(vmx_exit_reason_name(7), "INTERRUPT_WINDOW");
	CHECK_STR(vmx_exit_reason_name(10), "CPUID");
	CHECK_STR(vmx_exit_reason_name(12), "HLT");
	CHECK_STR(vmx_exit_reason_name(13), "INVD");
	CHECK_STR(vmx_exit_reason_name(18), "VMCALL");
	CHECK_STR(vmx_exit_reason_name(28), "CR_ACCESS");
	CHECK_STR(vmx_exit_reason_name(30), "IO_INSTRUCTION");
	CHECK_STR(vmx_exit_reason_name(31), "MSR_READ");
	CHECK_STR(vmx_exit_reason_name(32), "MSR_WRITE");
	CHECK_STR(vmx_exit_reason_name(33), "INVALID_GUEST_STATE");
	CHECK_STR(vmx_exit_reason_name(34), "MSR_LOAD_FAIL");
	CHECK_STR(vmx_exit_reason_name(37), "MONITOR_TRAP_FLAG");
	CHECK_STR(vmx_exit_reason_name(41), "MCE_DURING_VMENTRY");
	CHECK_STR(vmx_exit_reason_name(48), "EPT_VIOLATION");
	CHECK_STR(vmx_exit_reason_name(49), "EPT_MISCONFIG");
	CHECK_STR(vmx_exit_reason_name(52), "PREEMPTION_TIMER");
	CHECK_STR(vmx_exit_reason_name(54), "WBINVD");
	CHECK_STR(vmx_exit_reason_name(55), "XSETBV");
	CHECK_STR(vmx_exit_reason_name(62), "PML_FULL");
	CHECK_STR(vmx_exit_reason_name(64), "XRSTORS");
	CHECK_STR(vmx_exit_reason_name(74), "BUS_LOCK");
	CHECK_STR(vmx_exit_reason_name(77), "TDCALL");

	for (u32 i = 0; i <= EXIT_REASON_MAX + 5; i++) {
		const char *name = vmx_exit_reason_name(i);
		bool gap = i > EXIT_REASON_MAX;

		for (size_t j = 0; j < ARRAY_SIZE(gaps); j++)
			gap |= gaps[j] == i;
		CHECK(name != NULL);
		if (!name)
			continue;
		if (gap) {
			CHECK_STR(name, "unknown");
		} else {
			CHECK(strcmp(name, "unknown") != 0);
			named++;
		}
	}
	CHECK_EQ(named, EXIT_REASON_MAX + 1 - (int)ARRAY_SIZE(gaps));
	CHECK_STR(vmx_exit_reason_name(0xffff), "unknown");
	CHECK_STR(vmx_exit_reason_name(0xffffffffu), "unknown");
}

TEST(test_instruction_error_names)
{
	/* SDM Vol. 3C, "VM Instruction Error Numbers". */
	CHECK_STR(vmx_instruction_error_name(1), "VMCALL executed in VMX root operation");
	CHECK_STR(vmx_instruction_error_name(4), "VMLAUNCH with non-clear VMCS");
	CHECK_STR(vmx_instruction_error_name(5), "VMRESUME with non-launched VMCS");
	CHECK_STR(vmx_instruction_error_name(7), "VM entry with invalid control field(s)");
	CHECK_STR(vmx_instruction_error_name(8), "VM entry with invalid host-state field(s)");
	CHECK_STR(vmx_instruction_error_name(11),
		  "VMPTRLD with incorrect VMCS revision identifier");
	CHECK_STR(vmx_instruction_error_name(12),
		  "VMREAD/VMWRITE from/to unsupported VMCS component");
	CHECK_STR(vmx_instruction_error_name(13), "VMWRITE to read-only VMCS component");
	CHECK_STR(vmx_instruction_error_name(15), "VMXON executed in VMX root operation");
	CHECK_STR(vmx_instruction_error_name(26), "VM entry with events blocked by MOV SS");
	CHECK_STR(vmx_instruction_error_name(28), "Invalid operand to INVEPT/INVVPID");

	for (u32 e = 0; e <= VMXERR_MAX + 2; e++) {
		const char *name = vmx_instruction_error_name(e);
		bool unused = e == 0 || e == 14 || e == 21 || e == 27 ||
			      e > VMXERR_MAX;

		CHECK(name != NULL);
		if (name)
			CHECK((strcmp(name, "unknown") == 0) == unused);
	}
	CHECK_STR(vmx_instruction_error_name(0xffffffffu), "unknown");
}

TEST(test_entry_failure_names)
{
	CHECK_STR(vmx_entry_failure_name(EXIT_REASON_INVALID_GUEST_STATE, 0),
		  "invalid guest state");
	CHECK_STR(vmx_entry_failure_name(33, 2), "invalid guest state: PDPTE load");
	CHECK_STR(vmx_entry_failure_name(33, 3),
		  "invalid guest state: NMI injection while blocked by STI");
	CHECK_STR(vmx_entry_failure_name(33, 4),
		  "invalid guest state: invalid VMCS link pointer");
	CHECK_STR(vmx_entry_failure_name(33, 1), "unknown");
	CHECK_STR(vmx_entry_failure_name(33, 5), "unknown");
	CHECK(strstr(vmx_entry_failure_name(34, 1), "MSR loading") != NULL);
	CHECK_STR(vmx_entry_failure_name(41, 0), "machine-check event during VM entry");
	CHECK_STR(vmx_entry_failure_name(EXIT_REASON_CPUID, 0), "unknown");
}

TEST(test_io_qual)
{
	/* inb %dx, %al with DX = 0x3f8 */
	u64 q = 0x03f80008;
	CHECK_EQ(io_qual_size(q), 1);
	CHECK(io_qual_is_in(q));
	CHECK(!io_qual_is_string(q));
	CHECK(!io_qual_is_rep(q));
	CHECK(!io_qual_imm(q));
	CHECK_EQ(io_qual_port(q), 0x3f8);

	/* outl %eax, $0xf4 */
	q = 0x00f40043;
	CHECK_EQ(io_qual_size(q), 4);
	CHECK(!io_qual_is_in(q));
	CHECK(io_qual_imm(q));
	CHECK_EQ(io_qual_port(q), 0xf4);

	/* rep outsw to 0xe2; high qualification bits are not the port */
	q = 0xffffffff00e20031ull;
	CHECK_EQ(io_qual_size(q), 2);
	CHECK(io_qual_is_string(q));
	CHECK(io_qual_is_rep(q));
	CHECK(!io_qual_is_in(q));
	CHECK_EQ(io_qual_port(q), 0xe2);
	CHECK_EQ(io_qual_port(0xffff0000ull), 0xffff);
}

TEST(test_cr_dr_qual)
{
	/* mov %rbx, %cr3 */
	u64 q = 0x303;
	CHECK_EQ(cr_qual_cr(q), 3);
	CHECK_EQ(cr_qual_access_type(q), CR_ACCESS_MOV_TO_CR);
	CHECK_EQ(cr_qual_gpr(q), 3);

	/* mov %cr8, %r15 */
	q = 0xf18;
	CHECK_EQ(cr_qual_cr(q), 8);
	CHECK_EQ(cr_qual_access_type(q), CR_ACCESS_MOV_FROM_CR);
	CHECK_EQ(cr_qual_gpr(q), 15);

	/* clts */
	CHECK_EQ(cr_qual_access_type(0x20), CR_ACCESS_CLTS);
	CHECK_EQ(cr_qual_cr(0x20), 0);

	/* lmsw with a memory operand holding 0x1234 */
	q = 0x12340070;
	CHECK_EQ(cr_qual_access_type(q), CR_ACCESS_LMSW);
	CHECK(cr_qual_lmsw_is_memory(q));
	CHECK_EQ(cr_qual_lmsw_data(q), 0x1234);
	CHECK(!cr_qual_lmsw_is_memory(0xfffe0030));
	CHECK_EQ(cr_qual_lmsw_data(0xfffe0030), 0xfffe);

	/* mov %dr7, %rcx; mov %rax, %dr0 */
	CHECK_EQ(dr_qual_dr(0x117), 7);
	CHECK(dr_qual_is_read(0x117));
	CHECK_EQ(dr_qual_gpr(0x117), 1);
	CHECK(!dr_qual_is_read(0x000));
}

TEST(test_intr_info)
{
	/* #PF with an error code */
	u32 info = 0x80000b0e;
	CHECK_EQ(intr_info_vector(info), 14);
	CHECK_EQ(intr_info_type(info), INTR_TYPE_HW_EXCEPTION);
	CHECK(intr_info_has_error_code(info));
	CHECK(!intr_info_nmi_unblocking(info));
	CHECK(intr_info_is_valid(info));

	/* NMI during an IRET that unblocked NMIs */
	info = 0x80001202;
	CHECK_EQ(intr_info_vector(info), 2);
	CHECK_EQ(intr_info_type(info), INTR_TYPE_NMI);
	CHECK(intr_info_nmi_unblocking(info));
	CHECK(!intr_info_has_error_code(info));

	/* external interrupt 0xf0; an invalid field */
	CHECK_EQ(intr_info_type(0x800000f0), INTR_TYPE_EXT_INTR);
	CHECK_EQ(intr_info_vector(0x800000f0), 0xf0);
	CHECK(!intr_info_is_valid(0x00000b0e));

	CHECK_STR(vmx_intr_type_name(intr_info_type(0x80000b0e)), "hardware exception");
	CHECK_STR(vmx_intr_type_name(INTR_TYPE_EXT_INTR), "external interrupt");
	CHECK_STR(vmx_intr_type_name(INTR_TYPE_NMI), "NMI");
	CHECK_STR(vmx_intr_type_name(INTR_TYPE_SW_EXCEPTION), "software exception");
	CHECK_STR(vmx_intr_type_name(INTR_TYPE_OTHER_EVENT), "other event");
	CHECK_STR(vmx_intr_type_name(8), "unknown");
	for (u32 t = 0; t <= INTR_INFO_TYPE_MASK; t++)
		CHECK(vmx_intr_type_name(t) != NULL);
}

TEST(test_entry_intr_builders)
{
	CHECK_EQ(intr_info_build(13, INTR_TYPE_HW_EXCEPTION, true), 0x80000b0du);
	CHECK_EQ(intr_info_build(3, INTR_TYPE_SW_EXCEPTION, false), 0x80000603u);
	CHECK_EQ(intr_info_build(0x20, INTR_TYPE_EXT_INTR, false), 0x80000020u);
	CHECK_EQ(intr_info_build(2, INTR_TYPE_NMI, false), 0x80000202u);
	CHECK_EQ(intr_info_build(0, INTR_TYPE_OTHER_EVENT, false), 0x80000700u);
	/* Out-of-range arguments cannot spill into other fields. */
	CHECK_EQ(intr_info_build(0x1ff, 0xf, false), 0x800007ffu);

	CHECK_EQ(intr_info_hw_exception(14), 0x80000b0eu);   /* #PF */
	CHECK_EQ(intr_info_hw_exception(8), 0x80000b08u);    /* #DF */
	CHECK_EQ(intr_info_hw_exception(6), 0x80000306u);    /* #UD */
	CHECK_EQ(intr_info_hw_exception(1), 0x80000301u);    /* #DB */
	CHECK(intr_vector_has_error_code(17));
	CHECK(intr_vector_has_error_code(21));
	CHECK(!intr_vector_has_error_code(9));
	CHECK(!intr_vector_has_error_code(15));
	CHECK(!intr_vector_has_error_code(32));
	CHECK(!intr_vector_has_error_code(0x4d)); /* 0x4d & 31 = 13 */
	/* Faults (RF set in the injected RFLAGS): #DE #UD #GP #PF ... */
	CHECK(intr_vector_is_fault(0) && intr_vector_is_fault(6) && intr_vector_is_fault(13));
	CHECK(intr_vector_is_fault(14) && intr_vector_is_fault(17) && intr_vector_is_fault(19));
	/* ... not #DB, #BP, #OF (traps), #DF, #MC (aborts), NMI, reserved. */
	CHECK(!intr_vector_is_fault(1) && !intr_vector_is_fault(3) && !intr_vector_is_fault(4));
	CHECK(!intr_vector_is_fault(8) && !intr_vector_is_fault(18) && !intr_vector_is_fault(2));
	CHECK(!intr_vector_is_fault(15) && !intr_vector_is_fault(32) && !intr_vector_is_fault(0x4d));
}

TEST(test_insout_info)
{
	/* outsb through DS with 64-bit addressing */
	u32 info = (2u << 7) | (3u << 15);
	CHECK_EQ(insout_info_addr_size(info), INSOUT_ADDR_SIZE_64);
	CHECK_EQ(insout_info_addr_bytes(info), 8);
	CHECK_EQ(insout_info_segment(info), VMX_SEG_DS);

	info = (1u << 7) | (4u << 15);
	CHECK_EQ(insout_info_addr_bytes(info), 4);
	CHECK_EQ(insout_info_segment(info), VMX_SEG_FS);
	CHECK_EQ(insout_info_addr_bytes(0), 2);
	CHECK_EQ(insout_info_segment(0), VMX_SEG_ES);
	CHECK_EQ(insout_info_addr_bytes(3u << 7), 0);
	CHECK_EQ(insout_info_segment(0xffffffffu), 7);
}

TEST(test_guest_state_bits)
{
	CHECK_EQ(GUEST_INTR_BLOCKING_STI, 0x1);
	CHECK_EQ(GUEST_INTR_BLOCKING_MOV_SS, 0x2);
	CHECK_EQ(GUEST_INTR_BLOCKING_SMI, 0x4);
	CHECK_EQ(GUEST_INTR_BLOCKING_NMI, 0x8);
	CHECK(guest_intr_shadow_clear(0));
	CHECK(guest_intr_shadow_clear(GUEST_INTR_BLOCKING_NMI));
	CHECK(!guest_intr_shadow_clear(GUEST_INTR_BLOCKING_STI));
	CHECK(!guest_intr_shadow_clear(GUEST_INTR_BLOCKING_MOV_SS));
	CHECK_EQ(GUEST_ACTIVITY_ACTIVE, 0);
	CHECK_EQ(GUEST_ACTIVITY_HLT, 1);
	CHECK_EQ(GUEST_ACTIVITY_SHUTDOWN, 2);
	CHECK_EQ(GUEST_ACTIVITY_WAIT_SIPI, 3);
}

TEST(test_access_rights)
{
	/* Flat 32-bit code and data, 64-bit code, busy TSS, unusable LDTR. */
	CHECK_EQ(vmx_ar_build(VMX_AR_TYPE_CODE_XR_ACCESSED, 0,
			      VMX_AR_S | VMX_AR_P | VMX_AR_DB | VMX_AR_G), 0xc09b);
	CHECK_EQ(vmx_ar_build(VMX_AR_TYPE_DATA_RW_ACCESSED, 0,
			      VMX_AR_S | VMX_AR_P | VMX_AR_DB | VMX_AR_G), 0xc093);
	CHECK_EQ(vmx_ar_build(VMX_AR_TYPE_CODE_XR_ACCESSED, 0,
			      VMX_AR_S | VMX_AR_P | VMX_AR_L | VMX_AR_G), 0xa09b);
	CHECK_EQ(vmx_ar_build(VMX_AR_TYPE_TSS_BUSY, 0, VMX_AR_P), 0x8b);
	CHECK_EQ(vmx_ar_build(0, 0, VMX_AR_UNUSABLE), 0x10000);
	/* Reserved bits and out-of-range type/DPL are dropped. */
	CHECK_EQ(vmx_ar_build(0x13, 7, VMX_AR_S | VMX_AR_P | 0x100 | 0x20000), 0xf3);

	CHECK_EQ(vmx_ar_type(0xf3), VMX_AR_TYPE_DATA_RW_ACCESSED);
	CHECK_EQ(vmx_ar_dpl(0xf3), 3);
	CHECK_EQ(vmx_ar_dpl(0xc09b), 0);
	CHECK(vmx_ar_is_unusable(0x10000));
	CHECK(!vmx_ar_is_unusable(0xc09b));
	CHECK_EQ(VMX_AR_RESERVED_MASK & (VMX_AR_S | VMX_AR_P | VMX_AR_AVL |
					 VMX_AR_L | VMX_AR_DB | VMX_AR_G |
					 VMX_AR_UNUSABLE | VMX_AR_TYPE_MASK |
					 (VMX_AR_DPL_MASK << VMX_AR_DPL_SHIFT)), 0);
}

int main(void)
{
	RUN(test_encodings_exact);
	RUN(test_encoding_fields);
	RUN(test_all_encodings_follow_the_rules);
	RUN(test_dump_table);
	RUN(test_build_bug_on_width);
	RUN(test_control_bits);
	RUN(test_capability_msrs);
	RUN(test_adjust_controls);
	RUN(test_exit_reason_format);
	RUN(test_exit_reason_names);
	RUN(test_instruction_error_names);
	RUN(test_entry_failure_names);
	RUN(test_io_qual);
	RUN(test_cr_dr_qual);
	RUN(test_intr_info);
	RUN(test_entry_intr_builders);
	RUN(test_insout_info);
	RUN(test_guest_state_bits);
	RUN(test_access_rights);
	return TEST_SUMMARY();
}
