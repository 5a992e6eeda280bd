/*
 * vmx/vmx_defs.h - the VMX vocabulary (private to the vmx module): VMCS field
 * encodings and their width rules, VM-execution/exit/entry control bits, the
 * VMX capability MSRs and their bits, basic exit reasons and the exit-reason
 * format, VM-instruction error numbers, and the name/dump tables that
 * vmx/vmx_names.c defines.
 *
 * Implements the constants of SDM Vol. 3C chapters "Virtual Machine Control
 * Structures", "VMX Non-Root Operation" (controls) and "VM Instruction Error
 * Numbers", and of SDM Vol. 3D appendices A "VMX Capability Reporting
 * Facility", B "Field Encoding in VMCS" and C "VMX Basic Exit Reasons".
 * Pure: constants and tiny inline helpers only, so it builds for the host.
 * Exit-qualification decoders live in vmx/vmx_qual.h; EPT formats in ept/.
 */
#ifndef VMX_VMX_DEFS_H
#define VMX_VMX_DEFS_H

#include "lib/lib.h"

/* ---- VMCS component encoding ------------------------------------------- */

/*
 * SDM Vol. 3C, "VMREAD, VMWRITE, and Encodings of VMCS Fields": bit 0 access
 * type (1 = high 32 bits of a 64-bit field), bits 9:1 index, bits 11:10 type,
 * bit 12 reserved, bits 14:13 width, bits 31:15 reserved (must be 0).
 */
#define VMCS_FIELD_ACCESS_HIGH                 0x1          /* bit 0: high half of a 64-bit field */
#define VMCS_FIELD_RESERVED_MASK               0xffff9000u  /* bit 12 and bits 31:15 */

#define VMCS_FIELD_INDEX(enc)        (((enc) >> 1) & 0x1ff)
#define VMCS_FIELD_TYPE(enc)         (((enc) >> 10) & 3)
#define VMCS_FIELD_WIDTH(enc)        (((enc) >> 13) & 3)
#define VMCS_HIGH(enc)               ((enc) | VMCS_FIELD_ACCESS_HIGH)

#define VMCS_TYPE_CONTROL                      0  /* VM-execution, exit and entry controls */
#define VMCS_TYPE_EXIT_INFO                    1  /* VM-exit information (read-only data) */
#define VMCS_TYPE_GUEST                        2  /* guest-state area */
#define VMCS_TYPE_HOST                         3  /* host-state area */

#define VMCS_WIDTH_16                          0
#define VMCS_WIDTH_64                          1
#define VMCS_WIDTH_32                          2
#define VMCS_WIDTH_NATURAL                     3

/*
 * The width an access to enc moves: the field's width, except that the
 * high-access encoding of a 64-bit field reads or writes 32 bits.
 */
#define VMCS_ACCESS_WIDTH(enc)                                               \
	((VMCS_FIELD_WIDTH(enc) == VMCS_WIDTH_64 &&                          \
	  ((enc) & VMCS_FIELD_ACCESS_HIGH)) ? VMCS_WIDTH_32                  \
					    : VMCS_FIELD_WIDTH(enc))

/* For encodings known at file scope: refuses the build when enc is not a
 * field of the given VMCS_WIDTH_*. */
#define VMCS_STATIC_ASSERT_WIDTH(enc, width)                                 \
	_Static_assert(VMCS_ACCESS_WIDTH(enc) == (width),                    \
		       #enc " is not a " #width " VMCS field")

/*
 * For the width-checked accessors (vmcs_read16/32/64/natural and the
 * writes): put VMCS_BUILD_BUG_ON_WIDTH(enc, VMCS_WIDTH_32) at the top of an
 * always_inline accessor. When the caller passes a constant encoding of the
 * wrong width (vmcs_read32(VMCS_GUEST_RIP)), the call to the never-defined
 * vmcs_width_mismatch() survives inlining and GCC stops the build with its
 * error attribute; a right width, or an encoding not known at compile time,
 * folds the check away and costs nothing. Needs optimisation (-O1 or more),
 * as the kernel and host builds use.
 */
void vmcs_width_mismatch(void)
	__attribute__((error("VMCS accessor width does not match the field encoding")));
#define VMCS_BUILD_BUG_ON_WIDTH(enc, width)                                  \
	do {                                                                 \
		if (__builtin_constant_p(enc) &&                             \
		    VMCS_ACCESS_WIDTH(enc) != (width))                       \
			vmcs_width_mismatch();                               \
	} while (0)

/* ---- VMCS field encodings ---------------------------------------------- */

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "16-Bit Control Fields" */
#define VMCS_VPID                              0x0000
#define VMCS_POSTED_INTR_NV                    0x0002
#define VMCS_EPTP_INDEX                        0x0004
#define VMCS_HLAT_PREFIX_SIZE                  0x0006
#define VMCS_LAST_PID_POINTER_INDEX            0x0008

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "16-Bit Guest-State Fields" */
#define VMCS_GUEST_ES_SELECTOR                 0x0800
#define VMCS_GUEST_CS_SELECTOR                 0x0802
#define VMCS_GUEST_SS_SELECTOR                 0x0804
#define VMCS_GUEST_DS_SELECTOR                 0x0806
#define VMCS_GUEST_FS_SELECTOR                 0x0808
#define VMCS_GUEST_GS_SELECTOR                 0x080a
#define VMCS_GUEST_LDTR_SELECTOR               0x080c
#define VMCS_GUEST_TR_SELECTOR                 0x080e
#define VMCS_GUEST_INTR_STATUS                 0x0810
#define VMCS_GUEST_PML_INDEX                   0x0812
#define VMCS_GUEST_UINV                        0x0814

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "16-Bit Host-State Fields" */
#define VMCS_HOST_ES_SELECTOR                  0x0c00
#define VMCS_HOST_CS_SELECTOR                  0x0c02
#define VMCS_HOST_SS_SELECTOR                  0x0c04
#define VMCS_HOST_DS_SELECTOR                  0x0c06
#define VMCS_HOST_FS_SELECTOR                  0x0c08
#define VMCS_HOST_GS_SELECTOR                  0x0c0a
#define VMCS_HOST_TR_SELECTOR                  0x0c0c

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "64-Bit Control Fields"
 * (full encodings; VMCS_HIGH() gives the high-half encoding) */
#define VMCS_IO_BITMAP_A                       0x2000
#define VMCS_IO_BITMAP_B                       0x2002
#define VMCS_MSR_BITMAP                        0x2004
#define VMCS_EXIT_MSR_STORE_ADDR               0x2006
#define VMCS_EXIT_MSR_LOAD_ADDR                0x2008
#define VMCS_ENTRY_MSR_LOAD_ADDR               0x200a
#define VMCS_EXECUTIVE_VMCS_POINTER            0x200c
#define VMCS_PML_ADDRESS                       0x200e
#define VMCS_TSC_OFFSET                        0x2010
#define VMCS_VIRTUAL_APIC_PAGE_ADDR            0x2012
#define VMCS_APIC_ACCESS_ADDR                  0x2014
#define VMCS_POSTED_INTR_DESC_ADDR             0x2016
#define VMCS_VM_FUNCTION_CTLS                  0x2018
#define VMCS_EPT_POINTER                       0x201a
#define VMCS_EOI_EXIT_BITMAP0                  0x201c
#define VMCS_EOI_EXIT_BITMAP1                  0x201e
#define VMCS_EOI_EXIT_BITMAP2                  0x2020
#define VMCS_EOI_EXIT_BITMAP3                  0x2022
#define VMCS_EPTP_LIST_ADDRESS                 0x2024
#define VMCS_VMREAD_BITMAP                     0x2026
#define VMCS_VMWRITE_BITMAP                    0x2028
#define VMCS_VE_INFO_ADDRESS                   0x202a
#define VMCS_XSS_EXITING_BITMAP                0x202c
#define VMCS_ENCLS_EXITING_BITMAP              0x202e
#define VMCS_SPP_TABLE_POINTER                 0x2030
#define VMCS_TSC_MULTIPLIER                    0x2032
#define VMCS_PROC_BASED_CTLS3                  0x2034
#define VMCS_ENCLV_EXITING_BITMAP              0x2036

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "64-Bit Read-Only Data Field" */
#define VMCS_GUEST_PHYSICAL_ADDRESS            0x2400

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "64-Bit Guest-State Fields" */
#define VMCS_LINK_POINTER                      0x2800
#define VMCS_GUEST_IA32_DEBUGCTL               0x2802
#define VMCS_GUEST_IA32_PAT                    0x2804
#define VMCS_GUEST_IA32_EFER                   0x2806
#define VMCS_GUEST_IA32_PERF_GLOBAL_CTRL       0x2808
#define VMCS_GUEST_PDPTE0                      0x280a
#define VMCS_GUEST_PDPTE1                      0x280c
#define VMCS_GUEST_PDPTE2                      0x280e
#define VMCS_GUEST_PDPTE3                      0x2810
#define VMCS_GUEST_IA32_BNDCFGS                0x2812
#define VMCS_GUEST_IA32_RTIT_CTL               0x2814
#define VMCS_GUEST_IA32_LBR_CTL                0x2816
#define VMCS_GUEST_IA32_PKRS                   0x2818

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "64-Bit Host-State Fields" */
#define VMCS_HOST_IA32_PAT                     0x2c00
#define VMCS_HOST_IA32_EFER                    0x2c02
#define VMCS_HOST_IA32_PERF_GLOBAL_CTRL        0x2c04
#define VMCS_HOST_IA32_PKRS                    0x2c06

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "32-Bit Control Fields" */
#define VMCS_PIN_BASED_CTLS                    0x4000
#define VMCS_PROC_BASED_CTLS                   0x4002
#define VMCS_EXCEPTION_BITMAP                  0x4004
#define VMCS_PAGE_FAULT_ERROR_CODE_MASK        0x4006
#define VMCS_PAGE_FAULT_ERROR_CODE_MATCH       0x4008
#define VMCS_CR3_TARGET_COUNT                  0x400a
#define VMCS_EXIT_CTLS                         0x400c
#define VMCS_EXIT_MSR_STORE_COUNT              0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT               0x4010
#define VMCS_ENTRY_CTLS                        0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT              0x4014
#define VMCS_ENTRY_INTR_INFO                   0x4016
#define VMCS_ENTRY_EXCEPTION_ERROR_CODE        0x4018
#define VMCS_ENTRY_INSTRUCTION_LEN             0x401a
#define VMCS_TPR_THRESHOLD                     0x401c
#define VMCS_PROC_BASED_CTLS2                  0x401e
#define VMCS_PLE_GAP                           0x4020
#define VMCS_PLE_WINDOW                        0x4022
#define VMCS_NOTIFY_WINDOW                     0x4024

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "32-Bit Read-Only Data Fields" */
#define VMCS_VM_INSTRUCTION_ERROR              0x4400
#define VMCS_EXIT_REASON                       0x4402
#define VMCS_EXIT_INTR_INFO                    0x4404
#define VMCS_EXIT_INTR_ERROR_CODE              0x4406
#define VMCS_IDT_VECTORING_INFO                0x4408
#define VMCS_IDT_VECTORING_ERROR_CODE          0x440a
#define VMCS_EXIT_INSTRUCTION_LEN              0x440c
#define VMCS_EXIT_INSTRUCTION_INFO             0x440e

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "32-Bit Guest-State Fields" */
#define VMCS_GUEST_ES_LIMIT                    0x4800
#define VMCS_GUEST_CS_LIMIT                    0x4802
#define VMCS_GUEST_SS_LIMIT                    0x4804
#define VMCS_GUEST_DS_LIMIT                    0x4806
#define VMCS_GUEST_FS_LIMIT                    0x4808
#define VMCS_GUEST_GS_LIMIT                    0x480a
#define VMCS_GUEST_LDTR_LIMIT                  0x480c
#define VMCS_GUEST_TR_LIMIT                    0x480e
#define VMCS_GUEST_GDTR_LIMIT                  0x4810
#define VMCS_GUEST_IDTR_LIMIT                  0x4812
#define VMCS_GUEST_ES_AR_BYTES                 0x4814
#define VMCS_GUEST_CS_AR_BYTES                 0x4816
#define VMCS_GUEST_SS_AR_BYTES                 0x4818
#define VMCS_GUEST_DS_AR_BYTES                 0x481a
#define VMCS_GUEST_FS_AR_BYTES                 0x481c
#define VMCS_GUEST_GS_AR_BYTES                 0x481e
#define VMCS_GUEST_LDTR_AR_BYTES               0x4820
#define VMCS_GUEST_TR_AR_BYTES                 0x4822
#define VMCS_GUEST_INTERRUPTIBILITY_INFO       0x4824
#define VMCS_GUEST_ACTIVITY_STATE              0x4826
#define VMCS_GUEST_SMBASE                      0x4828
#define VMCS_GUEST_IA32_SYSENTER_CS            0x482a
#define VMCS_PREEMPTION_TIMER_VALUE            0x482e

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "32-Bit Host-State Field" */
#define VMCS_HOST_IA32_SYSENTER_CS             0x4c00

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "Natural-Width Control Fields" */
#define VMCS_CR0_GUEST_HOST_MASK               0x6000
#define VMCS_CR4_GUEST_HOST_MASK               0x6002
#define VMCS_CR0_READ_SHADOW                   0x6004
#define VMCS_CR4_READ_SHADOW                   0x6006
#define VMCS_CR3_TARGET_VALUE0                 0x6008
#define VMCS_CR3_TARGET_VALUE1                 0x600a
#define VMCS_CR3_TARGET_VALUE2                 0x600c
#define VMCS_CR3_TARGET_VALUE3                 0x600e

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "Natural-Width Read-Only Data Fields" */
#define VMCS_EXIT_QUALIFICATION                0x6400
#define VMCS_IO_RCX                            0x6402
#define VMCS_IO_RSI                            0x6404
#define VMCS_IO_RDI                            0x6406
#define VMCS_IO_RIP                            0x6408
#define VMCS_GUEST_LINEAR_ADDRESS              0x640a

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "Natural-Width Guest-State Fields" */
#define VMCS_GUEST_CR0                         0x6800
#define VMCS_GUEST_CR3                         0x6802
#define VMCS_GUEST_CR4                         0x6804
#define VMCS_GUEST_ES_BASE                     0x6806
#define VMCS_GUEST_CS_BASE                     0x6808
#define VMCS_GUEST_SS_BASE                     0x680a
#define VMCS_GUEST_DS_BASE                     0x680c
#define VMCS_GUEST_FS_BASE                     0x680e
#define VMCS_GUEST_GS_BASE                     0x6810
#define VMCS_GUEST_LDTR_BASE                   0x6812
#define VMCS_GUEST_TR_BASE                     0x6814
#define VMCS_GUEST_GDTR_BASE                   0x6816
#define VMCS_GUEST_IDTR_BASE                   0x6818
#define VMCS_GUEST_DR7                         0x681a
#define VMCS_GUEST_RSP                         0x681c
#define VMCS_GUEST_RIP                         0x681e
#define VMCS_GUEST_RFLAGS                      0x6820
#define VMCS_GUEST_PENDING_DBG_EXCEPTIONS      0x6822
#define VMCS_GUEST_IA32_SYSENTER_ESP           0x6824
#define VMCS_GUEST_IA32_SYSENTER_EIP           0x6826
#define VMCS_GUEST_IA32_S_CET                  0x6828
#define VMCS_GUEST_SSP                         0x682a
#define VMCS_GUEST_INTR_SSP_TABLE_ADDR         0x682c

/* SDM Vol. 3D, Appendix B "Field Encoding in VMCS", "Natural-Width Host-State Fields" */
#define VMCS_HOST_CR0                          0x6c00
#define VMCS_HOST_CR3                          0x6c02
#define VMCS_HOST_CR4                          0x6c04
#define VMCS_HOST_FS_BASE                      0x6c06
#define VMCS_HOST_GS_BASE                      0x6c08
#define VMCS_HOST_TR_BASE                      0x6c0a
#define VMCS_HOST_GDTR_BASE                    0x6c0c
#define VMCS_HOST_IDTR_BASE                    0x6c0e
#define VMCS_HOST_IA32_SYSENTER_ESP            0x6c10
#define VMCS_HOST_IA32_SYSENTER_EIP            0x6c12
#define VMCS_HOST_RSP                          0x6c14
#define VMCS_HOST_RIP                          0x6c16
#define VMCS_HOST_IA32_S_CET                   0x6c18
#define VMCS_HOST_SSP                          0x6c1a
#define VMCS_HOST_INTR_SSP_TABLE_ADDR          0x6c1c

/* SDM Vol. 3C, "Guest Non-Register State": a VMCS link pointer of all ones
 * means "no shadow VMCS"; VM entry checks for it. */
#define VMCS_LINK_POINTER_NONE                 0xffffffffffffffffull

/* ---- VM-execution, VM-exit and VM-entry controls ----------------------- */

/* SDM Vol. 3C, "Pin-Based VM-Execution Controls" */
#define PIN_BASED_EXT_INTR_EXITING             (1u << 0)   /* external interrupts exit */
#define PIN_BASED_NMI_EXITING                  (1u << 3)   /* NMIs exit */
#define PIN_BASED_VIRTUAL_NMIS                 (1u << 5)   /* virtual-NMI blocking */
#define PIN_BASED_PREEMPTION_TIMER             (1u << 6)   /* activate VMX-preemption timer */
#define PIN_BASED_POSTED_INTR                  (1u << 7)   /* process posted interrupts */

/* SDM Vol. 3C, "Processor-Based VM-Execution Controls" (primary) */
#define PROC_BASED_INTR_WINDOW_EXITING         (1u << 2)
#define PROC_BASED_USE_TSC_OFFSETTING          (1u << 3)
#define PROC_BASED_HLT_EXITING                 (1u << 7)
#define PROC_BASED_INVLPG_EXITING              (1u << 9)
#define PROC_BASED_MWAIT_EXITING               (1u << 10)
#define PROC_BASED_RDPMC_EXITING               (1u << 11)
#define PROC_BASED_RDTSC_EXITING               (1u << 12)
#define PROC_BASED_CR3_LOAD_EXITING            (1u << 15)
#define PROC_BASED_CR3_STORE_EXITING           (1u << 16)
#define PROC_BASED_ACTIVATE_TERTIARY_CONTROLS  (1u << 17)
#define PROC_BASED_CR8_LOAD_EXITING            (1u << 19)
#define PROC_BASED_CR8_STORE_EXITING           (1u << 20)
#define PROC_BASED_USE_TPR_SHADOW              (1u << 21)
#define PROC_BASED_NMI_WINDOW_EXITING          (1u << 22)
#define PROC_BASED_MOV_DR_EXITING              (1u << 23)
#define PROC_BASED_UNCOND_IO_EXITING           (1u << 24)
#define PROC_BASED_USE_IO_BITMAPS              (1u << 25)
#define PROC_BASED_MONITOR_TRAP_FLAG           (1u << 27)
#define PROC_BASED_USE_MSR_BITMAPS             (1u << 28)
#define PROC_BASED_MONITOR_EXITING             (1u << 29)
#define PROC_BASED_PAUSE_EXITING               (1u << 30)
#define PROC_BASED_ACTIVATE_SECONDARY_CONTROLS (1u << 31)

/* SDM Vol. 3C, "Processor-Based VM-Execution Controls" (secondary) */
#define PROC_BASED2_VIRTUALIZE_APIC_ACCESSES   (1u << 0)
#define PROC_BASED2_ENABLE_EPT                 (1u << 1)
#define PROC_BASED2_DESC_TABLE_EXITING         (1u << 2)
#define PROC_BASED2_ENABLE_RDTSCP              (1u << 3)
#define PROC_BASED2_VIRTUALIZE_X2APIC          (1u << 4)
#define PROC_BASED2_ENABLE_VPID                (1u << 5)
#define PROC_BASED2_WBINVD_EXITING             (1u << 6)
#define PROC_BASED2_UNRESTRICTED_GUEST         (1u << 7)
#define PROC_BASED2_APIC_REGISTER_VIRT         (1u << 8)
#define PROC_BASED2_VIRTUAL_INTR_DELIVERY      (1u << 9)
#define PROC_BASED2_PAUSE_LOOP_EXITING         (1u << 10)
#define PROC_BASED2_RDRAND_EXITING             (1u << 11)
#define PROC_BASED2_ENABLE_INVPCID             (1u << 12)
#define PROC_BASED2_ENABLE_VMFUNC              (1u << 13)
#define PROC_BASED2_VMCS_SHADOWING             (1u << 14)
#define PROC_BASED2_ENCLS_EXITING              (1u << 15)
#define PROC_BASED2_RDSEED_EXITING             (1u << 16)
#define PROC_BASED2_ENABLE_PML                 (1u << 17)
#define PROC_BASED2_EPT_VIOLATION_VE           (1u << 18)
#define PROC_BASED2_CONCEAL_VMX_FROM_PT        (1u << 19)
#define PROC_BASED2_ENABLE_XSAVES              (1u << 20)
#define PROC_BASED2_PASID_TRANSLATION          (1u << 21)
#define PROC_BASED2_MODE_BASED_EPT_EXEC        (1u << 22)
#define PROC_BASED2_EPT_SUBPAGE_WRITE          (1u << 23)
#define PROC_BASED2_PT_USES_GUEST_PHYS         (1u << 24)
#define PROC_BASED2_TSC_SCALING                (1u << 25)
#define PROC_BASED2_ENABLE_USER_WAIT_PAUSE     (1u << 26)
#define PROC_BASED2_ENABLE_PCONFIG             (1u << 27)
#define PROC_BASED2_ENCLV_EXITING              (1u << 28)
#define PROC_BASED2_BUS_LOCK_DETECTION         (1u << 30)
#define PROC_BASED2_INSTRUCTION_TIMEOUT        (1u << 31)

/* SDM Vol. 3C, "VM-Exit Controls" (primary VM-exit controls) */
#define VM_EXIT_SAVE_DEBUG_CONTROLS            (1u << 2)   /* save DR7, IA32_DEBUGCTL */
#define VM_EXIT_HOST_ADDR_SPACE_SIZE           (1u << 9)   /* host is 64-bit */
#define VM_EXIT_LOAD_PERF_GLOBAL_CTRL          (1u << 12)
#define VM_EXIT_ACK_INTR_ON_EXIT               (1u << 15)  /* vector into exit intr info */
#define VM_EXIT_SAVE_PAT                       (1u << 18)
#define VM_EXIT_LOAD_PAT                       (1u << 19)
#define VM_EXIT_SAVE_EFER                      (1u << 20)
#define VM_EXIT_LOAD_EFER                      (1u << 21)
#define VM_EXIT_SAVE_PREEMPTION_TIMER          (1u << 22)
#define VM_EXIT_CLEAR_BNDCFGS                  (1u << 23)
#define VM_EXIT_CONCEAL_VMX_FROM_PT            (1u << 24)
#define VM_EXIT_CLEAR_RTIT_CTL                 (1u << 25)
#define VM_EXIT_CLEAR_LBR_CTL                  (1u << 26)
#define VM_EXIT_CLEAR_UINV                     (1u << 27)
#define VM_EXIT_LOAD_CET_STATE                 (1u << 28)
#define VM_EXIT_LOAD_PKRS                      (1u << 29)
#define VM_EXIT_SAVE_PERF_GLOBAL_CTRL          (1u << 30)
#define VM_EXIT_ACTIVATE_SECONDARY_CONTROLS    (1u << 31)

/* SDM Vol. 3C, "VM-Entry Controls" */
#define VM_ENTRY_LOAD_DEBUG_CONTROLS           (1u << 2)   /* load DR7, IA32_DEBUGCTL */
#define VM_ENTRY_IA32E_MODE_GUEST              (1u << 9)   /* guest is in IA-32e mode */
#define VM_ENTRY_TO_SMM                        (1u << 10)
#define VM_ENTRY_DEACTIVATE_DUAL_MONITOR       (1u << 11)
#define VM_ENTRY_LOAD_PERF_GLOBAL_CTRL         (1u << 13)
#define VM_ENTRY_LOAD_PAT                      (1u << 14)
#define VM_ENTRY_LOAD_EFER                     (1u << 15)
#define VM_ENTRY_LOAD_BNDCFGS                  (1u << 16)
#define VM_ENTRY_CONCEAL_VMX_FROM_PT           (1u << 17)
#define VM_ENTRY_LOAD_RTIT_CTL                 (1u << 18)
#define VM_ENTRY_LOAD_UINV                     (1u << 19)
#define VM_ENTRY_LOAD_CET_STATE                (1u << 20)
#define VM_ENTRY_LOAD_LBR_CTL                  (1u << 21)
#define VM_ENTRY_LOAD_PKRS                     (1u << 22)

/*
 * SDM Vol. 3D, "Reserved Controls and Default Settings": the "default1"
 * controls, reported as must-be-1 by the non-TRUE capability MSRs. A CPU with
 * IA32_VMX_BASIC[55] may let some of them be 0 through the TRUE MSRs.
 */
#define PIN_BASED_DEFAULT1                     0x00000016u  /* bits 1, 2, 4 */
#define PROC_BASED_DEFAULT1                    0x0401e172u  /* 1, 4-6, 8, 13-16, 26 */
#define VM_EXIT_DEFAULT1                       0x00036dffu  /* 0-8, 10, 11, 13, 14, 16, 17 */
#define VM_ENTRY_DEFAULT1                      0x000011ffu  /* 0-8, 12 */

/* ---- VMX capability MSRs ------------------------------------------------ */

/* SDM Vol. 3C, "Enabling and Entering VMX Operation" */
#define IA32_FEATURE_CONTROL                   0x3a
#define FEATURE_CONTROL_LOCK                   BIT(0)   /* MSR is read-only until reset */
#define FEATURE_CONTROL_VMXON_INSIDE_SMX       BIT(1)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX      BIT(2)

/* SDM Vol. 3D, Appendix A "VMX Capability Reporting Facility" */
#define IA32_VMX_BASIC                         0x480
#define IA32_VMX_PINBASED_CTLS                 0x481
#define IA32_VMX_PROCBASED_CTLS                0x482
#define IA32_VMX_EXIT_CTLS                     0x483
#define IA32_VMX_ENTRY_CTLS                    0x484
#define IA32_VMX_MISC                          0x485
#define IA32_VMX_CR0_FIXED0                    0x486
#define IA32_VMX_CR0_FIXED1                    0x487
#define IA32_VMX_CR4_FIXED0                    0x488
#define IA32_VMX_CR4_FIXED1                    0x489
#define IA32_VMX_VMCS_ENUM                     0x48a
#define IA32_VMX_PROCBASED_CTLS2               0x48b
#define IA32_VMX_EPT_VPID_CAP                  0x48c
#define IA32_VMX_TRUE_PINBASED_CTLS            0x48d
#define IA32_VMX_TRUE_PROCBASED_CTLS           0x48e
#define IA32_VMX_TRUE_EXIT_CTLS                0x48f
#define IA32_VMX_TRUE_ENTRY_CTLS               0x490
#define IA32_VMX_VMFUNC                        0x491
#define IA32_VMX_PROCBASED_CTLS3               0x492
#define IA32_VMX_EXIT_CTLS2                    0x493

/* SDM Vol. 3D, "Basic VMX Information" (IA32_VMX_BASIC) */
#define VMX_BASIC_REVISION_MASK                0x7fffffffull  /* bits 30:0, VMCS revision id */
#define VMX_BASIC_VMCS_SIZE_SHIFT              32             /* bits 44:32, VMXON/VMCS size */
#define VMX_BASIC_VMCS_SIZE_MASK               0x1fffull
#define VMX_BASIC_32BIT_PHYS_ADDR              BIT(48)  /* VMX structures below 4 GiB */
#define VMX_BASIC_DUAL_MONITOR                 BIT(49)  /* dual-monitor SMM treatment */
#define VMX_BASIC_MEM_TYPE_SHIFT               50       /* bits 53:50 */
#define VMX_BASIC_MEM_TYPE_MASK                0xfull
#define VMX_BASIC_MEM_TYPE_UC                  0
#define VMX_BASIC_MEM_TYPE_WB                  6
#define VMX_BASIC_INOUT_INFO                   BIT(54)  /* INS/OUTS instruction info */
#define VMX_BASIC_TRUE_CTLS                    BIT(55)  /* IA32_VMX_TRUE_*_CTLS exist */
#define VMX_BASIC_NO_ERROR_CODE_CHECK          BIT(56)  /* any exception may carry an error code */

/* SDM Vol. 3D, "Miscellaneous Data" (IA32_VMX_MISC) */
#define VMX_MISC_PREEMPTION_TIMER_RATE_MASK    0x1full  /* timer ticks every 2^n TSC ticks */
#define VMX_MISC_SAVE_EFER_LMA                 BIT(5)
#define VMX_MISC_ACTIVITY_HLT                  BIT(6)
#define VMX_MISC_ACTIVITY_SHUTDOWN             BIT(7)
#define VMX_MISC_ACTIVITY_WAIT_SIPI            BIT(8)
#define VMX_MISC_CR3_TARGETS_SHIFT             16       /* bits 24:16 */
#define VMX_MISC_CR3_TARGETS_MASK              0x1ffull
#define VMX_MISC_MAX_MSR_SHIFT                 25       /* bits 27:25: 512 * (N + 1) */
#define VMX_MISC_MAX_MSR_MASK                  0x7ull
#define VMX_MISC_VMWRITE_ANY_FIELD             BIT(29)  /* VMWRITE to exit-info fields */
#define VMX_MISC_ZERO_LEN_INJECTION            BIT(30)  /* inject with instruction length 0 */

/* SDM Vol. 3D, "VPID and EPT Capabilities" (IA32_VMX_EPT_VPID_CAP) */
#define VMX_EPT_CAP_EXECUTE_ONLY               BIT(0)
#define VMX_EPT_CAP_PAGE_WALK_4                BIT(6)
#define VMX_EPT_CAP_PAGE_WALK_5                BIT(7)
#define VMX_EPT_CAP_MEM_TYPE_UC                BIT(8)
#define VMX_EPT_CAP_MEM_TYPE_WB                BIT(14)
#define VMX_EPT_CAP_2MB_PAGE                   BIT(16)
#define VMX_EPT_CAP_1GB_PAGE                   BIT(17)
#define VMX_EPT_CAP_INVEPT                     BIT(20)
#define VMX_EPT_CAP_AD_FLAGS                   BIT(21)
#define VMX_EPT_CAP_ADVANCED_EXIT_INFO         BIT(22)
#define VMX_EPT_CAP_SUPERVISOR_SHADOW_STACK    BIT(23)
#define VMX_EPT_CAP_INVEPT_SINGLE_CONTEXT      BIT(25)
#define VMX_EPT_CAP_INVEPT_ALL_CONTEXT         BIT(26)
#define VMX_VPID_CAP_INVVPID                   BIT(32)
#define VMX_VPID_CAP_INVVPID_INDIVIDUAL_ADDR   BIT(40)
#define VMX_VPID_CAP_INVVPID_SINGLE_CONTEXT    BIT(41)
#define VMX_VPID_CAP_INVVPID_ALL_CONTEXT       BIT(42)
#define VMX_VPID_CAP_INVVPID_SINGLE_NONGLOBAL  BIT(43)

/* VMCS revision identifier the VMXON region and each VMCS must start with. */
static inline u32 vmx_basic_revision(u64 basic)
{
	return (u32)(basic & VMX_BASIC_REVISION_MASK);
}

/* Bytes the processor wants for the VMXON region and each VMCS (<= 4096). */
static inline u32 vmx_basic_vmcs_size(u64 basic)
{
	return (u32)((basic >> VMX_BASIC_VMCS_SIZE_SHIFT) & VMX_BASIC_VMCS_SIZE_MASK);
}

/* Memory type the processor uses for VMCS accesses (VMX_BASIC_MEM_TYPE_*). */
static inline u32 vmx_basic_mem_type(u64 basic)
{
	return (u32)((basic >> VMX_BASIC_MEM_TYPE_SHIFT) & VMX_BASIC_MEM_TYPE_MASK);
}

/* Largest MSR count recommended for each MSR load/store area. */
static inline u32 vmx_misc_max_msr_list(u64 misc)
{
	return 512u * ((u32)((misc >> VMX_MISC_MAX_MSR_SHIFT) & VMX_MISC_MAX_MSR_MASK) + 1u);
}

/*
 * SDM Vol. 3D, "VM-Execution Controls" (Appendix A): each control capability
 * MSR reports in bits 31:0 the "allowed 0-settings" (a 1 there means the
 * control must be 1) and in bits 63:32 the "allowed 1-settings" (a 0 there
 * means the control must be 0).
 *
 * Returns wanted with every must-be-1 control set and every must-be-0
 * control cleared: the value to write to the VMCS control field. Wanted bits
 * the CPU does not allow are silently dropped; check vmx_controls_ok() for
 * the ones you cannot do without.
 */
static inline u32 vmx_adjust_controls(u32 wanted, u64 cap_msr)
{
	u32 must_be_1 = (u32)cap_msr;
	u32 may_be_1 = (u32)(cap_msr >> 32);

	return (wanted | must_be_1) & may_be_1;
}

/* True when every control in required may be 1 according to cap_msr (an
 * IA32_VMX_*_CTLS value); false names a required control the CPU lacks. */
static inline bool vmx_controls_ok(u32 required, u64 cap_msr)
{
	u32 may_be_1 = (u32)(cap_msr >> 32);

	return (required & ~may_be_1) == 0;
}

/* ---- Exit reasons -------------------------------------------------------- */

/* SDM Vol. 3C, "Basic VM-Exit Information" (Table "Format of Exit Reason") */
#define VMX_EXIT_REASON_BASIC_MASK             0xffffu     /* bits 15:0 */
#define VMX_EXIT_REASON_BUS_LOCK               (1u << 26)  /* bus lock asserted */
#define VMX_EXIT_REASON_ENCLAVE                (1u << 27)  /* incident to enclave mode */
#define VMX_EXIT_REASON_PENDING_MTF            (1u << 28)  /* pending MTF VM exit */
#define VMX_EXIT_REASON_FROM_VMX_ROOT          (1u << 29)  /* exit from VMX root (SMM) */
#define VMX_EXIT_REASON_ENTRY_FAILURE          (1u << 31)  /* VM-entry failure */

/* SDM Vol. 3D, Appendix C "VMX Basic Exit Reasons" */
#define EXIT_REASON_EXCEPTION_NMI              0
#define EXIT_REASON_EXTERNAL_INTERRUPT         1
#define EXIT_REASON_TRIPLE_FAULT               2
#define EXIT_REASON_INIT_SIGNAL                3
#define EXIT_REASON_SIPI                       4
#define EXIT_REASON_IO_SMI                     5
#define EXIT_REASON_OTHER_SMI                  6
#define EXIT_REASON_INTERRUPT_WINDOW           7
#define EXIT_REASON_NMI_WINDOW                 8
#define EXIT_REASON_TASK_SWITCH                9
#define EXIT_REASON_CPUID                      10
#define EXIT_REASON_GETSEC                     11
#define EXIT_REASON_HLT                        12
#define EXIT_REASON_INVD                       13
#define EXIT_REASON_INVLPG                     14
#define EXIT_REASON_RDPMC                      15
#define EXIT_REASON_RDTSC                      16
#define EXIT_REASON_RSM                        17
#define EXIT_REASON_VMCALL                     18
#define EXIT_REASON_VMCLEAR                    19
#define EXIT_REASON_VMLAUNCH                   20
#define EXIT_REASON_VMPTRLD                    21
#define EXIT_REASON_VMPTRST                    22
#define EXIT_REASON_VMREAD                     23
#define EXIT_REASON_VMRESUME                   24
#define EXIT_REASON_VMWRITE                    25
#define EXIT_REASON_VMXOFF                     26
#define EXIT_REASON_VMXON                      27
#define EXIT_REASON_CR_ACCESS                  28
#define EXIT_REASON_DR_ACCESS                  29
#define EXIT_REASON_IO_INSTRUCTION             30
#define EXIT_REASON_MSR_READ                   31
#define EXIT_REASON_MSR_WRITE                  32
#define EXIT_REASON_INVALID_GUEST_STATE        33  /* VM-entry failure */
#define EXIT_REASON_MSR_LOAD_FAIL              34  /* VM-entry failure */
#define EXIT_REASON_MWAIT                      36
#define EXIT_REASON_MONITOR_TRAP_FLAG          37
#define EXIT_REASON_MONITOR                    39
#define EXIT_REASON_PAUSE                      40
#define EXIT_REASON_MCE_DURING_VMENTRY         41  /* VM-entry failure */
#define EXIT_REASON_TPR_BELOW_THRESHOLD        43
#define EXIT_REASON_APIC_ACCESS                44
#define EXIT_REASON_VIRTUALIZED_EOI            45
#define EXIT_REASON_GDTR_IDTR                  46
#define EXIT_REASON_LDTR_TR                    47
#define EXIT_REASON_EPT_VIOLATION              48
#define EXIT_REASON_EPT_MISCONFIG              49
#define EXIT_REASON_INVEPT                     50
#define EXIT_REASON_RDTSCP                     51
#define EXIT_REASON_PREEMPTION_TIMER           52
#define EXIT_REASON_INVVPID                    53
#define EXIT_REASON_WBINVD                     54
#define EXIT_REASON_XSETBV                     55
#define EXIT_REASON_APIC_WRITE                 56
#define EXIT_REASON_RDRAND                     57
#define EXIT_REASON_INVPCID                    58
#define EXIT_REASON_VMFUNC                     59
#define EXIT_REASON_ENCLS                      60
#define EXIT_REASON_RDSEED                     61
#define EXIT_REASON_PML_FULL                   62
#define EXIT_REASON_XSAVES                     63
#define EXIT_REASON_XRSTORS                    64
#define EXIT_REASON_PCONFIG                    65
#define EXIT_REASON_SPP_EVENT                  66
#define EXIT_REASON_UMWAIT                     67
#define EXIT_REASON_TPAUSE                     68
#define EXIT_REASON_LOADIWKEY                  69
#define EXIT_REASON_ENCLV                      70
#define EXIT_REASON_ENQCMD_PASID_FAIL          72
#define EXIT_REASON_ENQCMDS_PASID_FAIL         73
#define EXIT_REASON_BUS_LOCK                   74
#define EXIT_REASON_INSTRUCTION_TIMEOUT        75
#define EXIT_REASON_SEAMCALL                   76
#define EXIT_REASON_TDCALL                     77
#define EXIT_REASON_MAX                        77  /* highest number named here */

/* ---- VM-instruction errors ------------------------------------------------ */

/* SDM Vol. 3C, "VM Instruction Error Numbers" (14, 21 and 27 are unused) */
#define VMXERR_VMCALL_IN_VMX_ROOT              1
#define VMXERR_VMCLEAR_INVALID_ADDRESS         2
#define VMXERR_VMCLEAR_VMXON_POINTER           3
#define VMXERR_VMLAUNCH_NONCLEAR_VMCS          4
#define VMXERR_VMRESUME_NONLAUNCHED_VMCS       5
#define VMXERR_VMRESUME_AFTER_VMXOFF           6
#define VMXERR_ENTRY_INVALID_CONTROL_FIELD     7
#define VMXERR_ENTRY_INVALID_HOST_STATE        8
#define VMXERR_VMPTRLD_INVALID_ADDRESS         9
#define VMXERR_VMPTRLD_VMXON_POINTER           10
#define VMXERR_VMPTRLD_BAD_REVISION            11
#define VMXERR_UNSUPPORTED_VMCS_COMPONENT      12
#define VMXERR_VMWRITE_READ_ONLY_COMPONENT     13
#define VMXERR_VMXON_IN_VMX_ROOT               15
#define VMXERR_ENTRY_INVALID_EXECUTIVE_VMCS    16
#define VMXERR_ENTRY_NONLAUNCHED_EXECUTIVE     17
#define VMXERR_ENTRY_EXECUTIVE_NOT_VMXON_PTR   18
#define VMXERR_VMCALL_NONCLEAR_VMCS            19
#define VMXERR_VMCALL_INVALID_EXIT_CONTROLS    20
#define VMXERR_VMCALL_BAD_MSEG_REVISION        22
#define VMXERR_VMXOFF_DUAL_MONITOR             23
#define VMXERR_VMCALL_INVALID_SMM_FEATURES     24
#define VMXERR_ENTRY_BAD_EXECUTIVE_CONTROLS    25
#define VMXERR_ENTRY_BLOCKED_BY_MOV_SS         26
#define VMXERR_INVEPT_INVVPID_OPERAND          28
#define VMXERR_MAX                             28

/*
 * SDM Vol. 3C, "VM-Entry Failures During or After Loading Guest State": the
 * exit qualification of exit reason 33 (invalid guest state). For reason 34
 * (MSR loading) it is instead the 1-based index of the failing entry in the
 * VM-entry MSR-load area.
 */
#define ENTRY_FAIL_DEFAULT                     0  /* a guest-state check, unspecified */
#define ENTRY_FAIL_PDPTE                       2  /* loading the PDPTEs */
#define ENTRY_FAIL_NMI_STI_BLOCKING            3  /* NMI injected while blocked by STI */
#define ENTRY_FAIL_VMCS_LINK_POINTER           4  /* invalid VMCS link pointer */

/* ---- Name tables and the VMCS dump list (vmx/vmx_names.c) ------------------ */

/* "CPUID", "EPT_MISCONFIG", ... for a basic exit reason (bits 15:0 of the
 * exit-reason field); "unknown" for a number the SDM does not assign. */
const char *vmx_exit_reason_name(u32 basic_reason);

/* The SDM's description of a VM-instruction error number (the
 * VMCS_VM_INSTRUCTION_ERROR field after VMfailValid); "unknown" for 0, the
 * unused numbers and anything above VMXERR_MAX. */
const char *vmx_instruction_error_name(u32 err);

/* What a VM-entry failure exit means: basic_reason 33, 34 or 41 with its exit
 * qualification (for 33 the ENTRY_FAIL_* cause). "unknown" for other reasons
 * or qualifications the SDM does not define. */
const char *vmx_entry_failure_name(u32 basic_reason, u64 qual);

/* Name of an interruption type (bits 10:8 of an interruption-information
 * field, INTR_TYPE_* in vmx/vmx_qual.h): "external interrupt", "NMI", ... */
const char *vmx_intr_type_name(u32 type);

/*
 * Fields worth printing when VM entry fails or an exit has no handler, in
 * four runs: guest state, host state, controls, exit information (the run a
 * field belongs to is VMCS_FIELD_TYPE(enc)). Names are the VMCS_ macros
 * without the prefix. Full encodings only; some fields exist only with a
 * feature (EPTP, VPID, PDPTEs, PAT/EFER, preemption timer, secondary
 * controls): VMREAD of one the CPU lacks fails with error 12, and the dumper
 * should print it as unavailable and go on.
 */
struct vmcs_field_desc {
	u32 enc;
	const char *name;
};
extern const struct vmcs_field_desc vmcs_dump_fields[];
extern const size_t vmcs_dump_fields_count;

#endif /* VMX_VMX_DEFS_H */
