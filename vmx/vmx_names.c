/*
 * vmx/vmx_names.c - names for what the VMX hardware reports, for the lines
 * the hypervisor prints when something goes wrong: basic exit reasons
 * (SDM Vol. 3D, Appendix C "VMX Basic Exit Reasons"), VM-instruction errors
 * (SDM Vol. 3C, "VM Instruction Error Numbers"), VM-entry failure causes
 * (SDM Vol. 3C, "VM-Entry Failures During or After Loading Guest State"),
 * interruption types, and the list of VMCS fields a dump prints.
 *
 * Pure data and lookups: builds for the host (tests/host/test_vmx_defs.c).
 */
#include "lib/lib.h"
#include "vmx/vmx_defs.h"
#include "vmx/vmx_qual.h"

#define EXIT_NAME(x) [EXIT_REASON_##x] = #x

static const char *const exit_reason_names[EXIT_REASON_MAX + 1] = {
	EXIT_NAME(EXCEPTION_NMI),
	EXIT_NAME(EXTERNAL_INTERRUPT),
	EXIT_NAME(TRIPLE_FAULT),
	EXIT_NAME(INIT_SIGNAL),
	EXIT_NAME(SIPI),
	EXIT_NAME(IO_SMI),
	EXIT_NAME(OTHER_SMI),
	EXIT_NAME(INTERRUPT_WINDOW),
	EXIT_NAME(NMI_WINDOW),
	EXIT_NAME(TASK_SWITCH),
	EXIT_NAME(CPUID),
	EXIT_NAME(GETSEC),
	EXIT_NAME(HLT),
	EXIT_NAME(INVD),
	EXIT_NAME(INVLPG),
	EXIT_NAME(RDPMC),
	EXIT_NAME(RDTSC),
	EXIT_NAME(RSM),
	EXIT_NAME(VMCALL),
	EXIT_NAME(VMCLEAR),
	EXIT_NAME(VMLAUNCH),
	EXIT_NAME(VMPTRLD),
	EXIT_NAME(VMPTRST),
	EXIT_NAME(VMREAD),
	EXIT_NAME(VMRESUME),
	EXIT_NAME(VMWRITE),
	EXIT_NAME(VMXOFF),
	EXIT_NAME(VMXON),
	EXIT_NAME(CR_ACCESS),
	EXIT_NAME(DR_ACCESS),
	EXIT_NAME(IO_INSTRUCTION),
	EXIT_NAME(MSR_READ),
	EXIT_NAME(MSR_WRITE),
	EXIT_NAME(INVALID_GUEST_STATE),
	EXIT_NAME(MSR_LOAD_FAIL),
	EXIT_NAME(MWAIT),
	EXIT_NAME(MONITOR_TRAP_FLAG),
	EXIT_NAME(MONITOR),
	EXIT_NAME(PAUSE),
	EXIT_NAME(MCE_DURING_VMENTRY),
	EXIT_NAME(TPR_BELOW_THRESHOLD),
	EXIT_NAME(APIC_ACCESS),
	EXIT_NAME(VIRTUALIZED_EOI),
	EXIT_NAME(GDTR_IDTR),
	EXIT_NAME(LDTR_TR),
	EXIT_NAME(EPT_VIOLATION),
	EXIT_NAME(EPT_MISCONFIG),
	EXIT_NAME(INVEPT),
	EXIT_NAME(RDTSCP),
	EXIT_NAME(PREEMPTION_TIMER),
	EXIT_NAME(INVVPID),
	EXIT_NAME(WBINVD),
	EXIT_NAME(XSETBV),
	EXIT_NAME(APIC_WRITE),
	EXIT_NAME(RDRAND),
	EXIT_NAME(INVPCID),
	EXIT_NAME(VMFUNC),
	EXIT_NAME(ENCLS),
	EXIT_NAME(RDSEED),
	EXIT_NAME(PML_FULL),
	EXIT_NAME(XSAVES),
	EXIT_NAME(XRSTORS),
	EXIT_NAME(PCONFIG),
	EXIT_NAME(SPP_EVENT),
	EXIT_NAME(UMWAIT),
	EXIT_NAME(TPAUSE),
	EXIT_NAME(LOADIWKEY),
	EXIT_NAME(ENCLV),
	EXIT_NAME(ENQCMD_PASID_FAIL),
	EXIT_NAME(ENQCMDS_PASID_FAIL),
	EXIT_NAME(BUS_LOCK),
	EXIT_NAME(INSTRUCTION_TIMEOUT),
	EXIT_NAME(SEAMCALL),
	EXIT_NAME(TDCALL),
};

const char *vmx_exit_reason_name(u32 basic_reason)
{
	if (basic_reason >= ARRAY_SIZE(exit_reason_names) ||
	    !exit_reason_names[basic_reason])
		return "unknown";
	return exit_reason_names[basic_reason];
}

/* The descriptions are the SDM's table entries. */
static const char *const instruction_error_names[VMXERR_MAX + 1] = {
	[VMXERR_VMCALL_IN_VMX_ROOT] =
		"VMCALL executed in VMX root operation",
	[VMXERR_VMCLEAR_INVALID_ADDRESS] =
		"VMCLEAR with invalid physical address",
	[VMXERR_VMCLEAR_VMXON_POINTER] =
		"VMCLEAR with VMXON pointer",
	[VMXERR_VMLAUNCH_NONCLEAR_VMCS] =
		"VMLAUNCH with non-clear VMCS",
	[VMXERR_VMRESUME_NONLAUNCHED_VMCS] =
		"VMRESUME with non-launched VMCS",
	[VMXERR_VMRESUME_AFTER_VMXOFF] =
		"VMRESUME after VMXOFF (VMXOFF and VMXON between VMLAUNCH and VMRESUME)",
	[VMXERR_ENTRY_INVALID_CONTROL_FIELD] =
		"VM entry with invalid control field(s)",
	[VMXERR_ENTRY_INVALID_HOST_STATE] =
		"VM entry with invalid host-state field(s)",
	[VMXERR_VMPTRLD_INVALID_ADDRESS] =
		"VMPTRLD with invalid physical address",
	[VMXERR_VMPTRLD_VMXON_POINTER] =
		"VMPTRLD with VMXON pointer",
	[VMXERR_VMPTRLD_BAD_REVISION] =
		"VMPTRLD with incorrect VMCS revision identifier",
	[VMXERR_UNSUPPORTED_VMCS_COMPONENT] =
		"VMREAD/VMWRITE from/to unsupported VMCS component",
	[VMXERR_VMWRITE_READ_ONLY_COMPONENT] =
		"VMWRITE to read-only VMCS component",
	[VMXERR_VMXON_IN_VMX_ROOT] =
		"VMXON executed in VMX root operation",
	[VMXERR_ENTRY_INVALID_EXECUTIVE_VMCS] =
		"VM entry with invalid executive-VMCS pointer",
	[VMXERR_ENTRY_NONLAUNCHED_EXECUTIVE] =
		"VM entry with non-launched executive VMCS",
	[VMXERR_ENTRY_EXECUTIVE_NOT_VMXON_PTR] =
		"VM entry with executive-VMCS pointer not VMXON pointer "
		"(when attempting to deactivate the dual-monitor treatment of SMIs and SMM)",
	[VMXERR_VMCALL_NONCLEAR_VMCS] =
		"VMCALL with non-clear VMCS (when attempting to activate the "
		"dual-monitor treatment of SMIs and SMM)",
	[VMXERR_VMCALL_INVALID_EXIT_CONTROLS] =
		"VMCALL with invalid VM-exit control fields",
	[VMXERR_VMCALL_BAD_MSEG_REVISION] =
		"VMCALL with incorrect MSEG revision identifier (when attempting to "
		"activate the dual-monitor treatment of SMIs and SMM)",
	[VMXERR_VMXOFF_DUAL_MONITOR] =
		"VMXOFF under dual-monitor treatment of SMIs and SMM",
	[VMXERR_VMCALL_INVALID_SMM_FEATURES] =
		"VMCALL with invalid SMM-monitor features (when attempting to "
		"activate the dual-monitor treatment of SMIs and SMM)",
	[VMXERR_ENTRY_BAD_EXECUTIVE_CONTROLS] =
		"VM entry with invalid VM-execution control fields in executive "
		"VMCS (when attempting to return from SMM)",
	[VMXERR_ENTRY_BLOCKED_BY_MOV_SS] =
		"VM entry with events blocked by MOV SS",
	[VMXERR_INVEPT_INVVPID_OPERAND] =
		"Invalid operand to INVEPT/INVVPID",
};

const char *vmx_instruction_error_name(u32 err)
{
	if (err >= ARRAY_SIZE(instruction_error_names) ||
	    !instruction_error_names[err])
		return "unknown";
	return instruction_error_names[err];
}

const char *vmx_entry_failure_name(u32 basic_reason, u64 qual)
{
	switch (basic_reason) {
	case EXIT_REASON_INVALID_GUEST_STATE:
		switch (qual) {
		case ENTRY_FAIL_DEFAULT:
			return "invalid guest state";
		case ENTRY_FAIL_PDPTE:
			return "invalid guest state: PDPTE load";
		case ENTRY_FAIL_NMI_STI_BLOCKING:
			return "invalid guest state: NMI injection while blocked by STI";
		case ENTRY_FAIL_VMCS_LINK_POINTER:
			return "invalid guest state: invalid VMCS link pointer";
		default:
			return "unknown";
		}
	case EXIT_REASON_MSR_LOAD_FAIL:
		/* qual is the 1-based index of the failing MSR-load entry. */
		return "MSR loading (qualification = 1-based index of the failing entry)";
	case EXIT_REASON_MCE_DURING_VMENTRY:
		return "machine-check event during VM entry";
	default:
		return "unknown";
	}
}

/* SDM Vol. 3C, "Information for VM Exits Due to Vectored Events" (Table
 * "Format of the VM-Exit Interruption-Information Field"). */
static const char *const intr_type_names[INTR_INFO_TYPE_MASK + 1] = {
	[INTR_TYPE_EXT_INTR]          = "external interrupt",
	[INTR_TYPE_RESERVED]          = "reserved",
	[INTR_TYPE_NMI]               = "NMI",
	[INTR_TYPE_HW_EXCEPTION]      = "hardware exception",
	[INTR_TYPE_SW_INTR]           = "software interrupt",
	[INTR_TYPE_PRIV_SW_EXCEPTION] = "privileged software exception",
	[INTR_TYPE_SW_EXCEPTION]      = "software exception",
	[INTR_TYPE_OTHER_EVENT]       = "other event",
};

const char *vmx_intr_type_name(u32 type)
{
	if (type >= ARRAY_SIZE(intr_type_names))
		return "unknown";
	return intr_type_names[type];
}

#define FIELD(x) { VMCS_##x, #x }

const struct vmcs_field_desc vmcs_dump_fields[] = {
	/* Guest state: registers first, then segments, then the rest. */
	FIELD(GUEST_CR0),
	FIELD(GUEST_CR3),
	FIELD(GUEST_CR4),
	FIELD(GUEST_DR7),
	FIELD(GUEST_RSP),
	FIELD(GUEST_RIP),
	FIELD(GUEST_RFLAGS),
	FIELD(GUEST_ES_SELECTOR),
	FIELD(GUEST_ES_BASE),
	FIELD(GUEST_ES_LIMIT),
	FIELD(GUEST_ES_AR_BYTES),
	FIELD(GUEST_CS_SELECTOR),
	FIELD(GUEST_CS_BASE),
	FIELD(GUEST_CS_LIMIT),
	FIELD(GUEST_CS_AR_BYTES),
	FIELD(GUEST_SS_SELECTOR),
	FIELD(GUEST_SS_BASE),
	FIELD(GUEST_SS_LIMIT),
	FIELD(GUEST_SS_AR_BYTES),
	FIELD(GUEST_DS_SELECTOR),
	FIELD(GUEST_DS_BASE),
	FIELD(GUEST_DS_LIMIT),
	FIELD(GUEST_DS_AR_BYTES),
	FIELD(GUEST_FS_SELECTOR),
	FIELD(GUEST_FS_BASE),
	FIELD(GUEST_FS_LIMIT),
	FIELD(GUEST_FS_AR_BYTES),
	FIELD(GUEST_GS_SELECTOR),
	FIELD(GUEST_GS_BASE),
	FIELD(GUEST_GS_LIMIT),
	FIELD(GUEST_GS_AR_BYTES),
	FIELD(GUEST_LDTR_SELECTOR),
	FIELD(GUEST_LDTR_BASE),
	FIELD(GUEST_LDTR_LIMIT),
	FIELD(GUEST_LDTR_AR_BYTES),
	FIELD(GUEST_TR_SELECTOR),
	FIELD(GUEST_TR_BASE),
	FIELD(GUEST_TR_LIMIT),
	FIELD(GUEST_TR_AR_BYTES),
	FIELD(GUEST_GDTR_BASE),
	FIELD(GUEST_GDTR_LIMIT),
	FIELD(GUEST_IDTR_BASE),
	FIELD(GUEST_IDTR_LIMIT),
	FIELD(GUEST_IA32_DEBUGCTL),
	FIELD(GUEST_IA32_SYSENTER_CS),
	FIELD(GUEST_IA32_SYSENTER_ESP),
	FIELD(GUEST_IA32_SYSENTER_EIP),
	FIELD(GUEST_IA32_PAT),
	FIELD(GUEST_IA32_EFER),
	FIELD(GUEST_PDPTE0),
	FIELD(GUEST_PDPTE1),
	FIELD(GUEST_PDPTE2),
	FIELD(GUEST_PDPTE3),
	FIELD(GUEST_INTERRUPTIBILITY_INFO),
	FIELD(GUEST_ACTIVITY_STATE),
	FIELD(GUEST_PENDING_DBG_EXCEPTIONS),
	FIELD(LINK_POINTER),
	FIELD(PREEMPTION_TIMER_VALUE),

	/* Host state. */
	FIELD(HOST_CR0),
	FIELD(HOST_CR3),
	FIELD(HOST_CR4),
	FIELD(HOST_RSP),
	FIELD(HOST_RIP),
	FIELD(HOST_ES_SELECTOR),
	FIELD(HOST_CS_SELECTOR),
	FIELD(HOST_SS_SELECTOR),
	FIELD(HOST_DS_SELECTOR),
	FIELD(HOST_FS_SELECTOR),
	FIELD(HOST_GS_SELECTOR),
	FIELD(HOST_TR_SELECTOR),
	FIELD(HOST_FS_BASE),
	FIELD(HOST_GS_BASE),
	FIELD(HOST_TR_BASE),
	FIELD(HOST_GDTR_BASE),
	FIELD(HOST_IDTR_BASE),
	FIELD(HOST_IA32_SYSENTER_CS),
	FIELD(HOST_IA32_SYSENTER_ESP),
	FIELD(HOST_IA32_SYSENTER_EIP),
	FIELD(HOST_IA32_PAT),
	FIELD(HOST_IA32_EFER),

	/* Controls. */
	FIELD(PIN_BASED_CTLS),
	FIELD(PROC_BASED_CTLS),
	FIELD(PROC_BASED_CTLS2),
	FIELD(EXIT_CTLS),
	FIELD(ENTRY_CTLS),
	FIELD(EXCEPTION_BITMAP),
	FIELD(PAGE_FAULT_ERROR_CODE_MASK),
	FIELD(PAGE_FAULT_ERROR_CODE_MATCH),
	FIELD(CR0_GUEST_HOST_MASK),
	FIELD(CR0_READ_SHADOW),
	FIELD(CR4_GUEST_HOST_MASK),
	FIELD(CR4_READ_SHADOW),
	FIELD(CR3_TARGET_COUNT),
	FIELD(ENTRY_INTR_INFO),
	FIELD(ENTRY_EXCEPTION_ERROR_CODE),
	FIELD(ENTRY_INSTRUCTION_LEN),
	FIELD(EXIT_MSR_STORE_COUNT),
	FIELD(EXIT_MSR_STORE_ADDR),
	FIELD(EXIT_MSR_LOAD_COUNT),
	FIELD(EXIT_MSR_LOAD_ADDR),
	FIELD(ENTRY_MSR_LOAD_COUNT),
	FIELD(ENTRY_MSR_LOAD_ADDR),
	FIELD(IO_BITMAP_A),
	FIELD(IO_BITMAP_B),
	FIELD(MSR_BITMAP),
	FIELD(TSC_OFFSET),
	FIELD(EPT_POINTER),
	FIELD(VPID),

	/* Exit information. */
	FIELD(VM_INSTRUCTION_ERROR),
	FIELD(EXIT_REASON),
	FIELD(EXIT_QUALIFICATION),
	FIELD(GUEST_LINEAR_ADDRESS),
	FIELD(GUEST_PHYSICAL_ADDRESS),
	FIELD(EXIT_INTR_INFO),
	FIELD(EXIT_INTR_ERROR_CODE),
	FIELD(IDT_VECTORING_INFO),
	FIELD(IDT_VECTORING_ERROR_CODE),
	FIELD(EXIT_INSTRUCTION_LEN),
	FIELD(EXIT_INSTRUCTION_INFO),
};

const size_t vmcs_dump_fields_count = ARRAY_SIZE(vmcs_dump_fields);
