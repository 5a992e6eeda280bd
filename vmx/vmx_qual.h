/*
 * vmx/vmx_qual.h - pure decoders for the VM-exit information fields and
 * builders for the VM-entry event-injection field: exit reason, exit
 * qualifications (I/O, control-register and debug-register access),
 * interruption information, the INS/OUTS instruction-information field,
 * guest interruptibility and activity states, and segment access rights.
 *
 * Implements the formats of SDM Vol. 3C "VM-Exit Information Fields", "Exit
 * Qualification for ..." tables, "VM-Entry Controls for Event Injection" and
 * "Guest-State Area". Each helper takes the raw field value as read with
 * VMREAD and touches nothing else, so exit handlers stay readable
 * (io_qual_port(q)) and the formats are unit-tested on the host
 * (tests/host/test_vmx_defs.c). EPT-violation qualification bits live in ept/.
 */
#ifndef VMX_VMX_QUAL_H
#define VMX_VMX_QUAL_H

#include "lib/lib.h"
#include "vmx/vmx_defs.h"

/* ---- Exit reason ----------------------------------------------------------- */

/* SDM Vol. 3C, "Basic VM-Exit Information": the basic exit reason (an
 * EXIT_REASON_* number) from the full exit-reason field. */
static inline u32 exit_reason_basic(u32 reason)
{
	return reason & VMX_EXIT_REASON_BASIC_MASK;
}

/* True when the "exit" is really a VM entry that failed while or after
 * loading guest state (basic reason 33, 34 or 41). */
static inline bool exit_reason_is_entry_failure(u32 reason)
{
	return (reason & VMX_EXIT_REASON_ENTRY_FAILURE) != 0;
}

/* ---- I/O instructions ------------------------------------------------------- */

/* SDM Vol. 3C, "Exit Qualification for I/O Instructions" */
#define IO_QUAL_SIZE_MASK               0x7ull       /* bits 2:0: size - 1 (0, 1, 3) */
#define IO_QUAL_SIZE_4                  0x3ull       /* a 4-byte access */
#define IO_QUAL_IN                      BIT(3)       /* 1 = IN/INS, 0 = OUT/OUTS */
#define IO_QUAL_STRING                  BIT(4)       /* INS/OUTS */
#define IO_QUAL_REP                     BIT(5)       /* REP prefix */
#define IO_QUAL_IMM                     BIT(6)       /* port in an immediate, not DX */
#define IO_QUAL_PORT_SHIFT              16           /* bits 31:16 */
#define IO_QUAL_PORT_MASK               0xffffull

/* Access size in bytes: 1, 2 or 4. */
static inline u32 io_qual_size(u64 q)
{
	return (u32)(q & IO_QUAL_SIZE_MASK) + 1u;
}

static inline bool io_qual_is_in(u64 q)     { return (q & IO_QUAL_IN) != 0; }
static inline bool io_qual_is_string(u64 q) { return (q & IO_QUAL_STRING) != 0; }
static inline bool io_qual_is_rep(u64 q)    { return (q & IO_QUAL_REP) != 0; }
static inline bool io_qual_imm(u64 q)       { return (q & IO_QUAL_IMM) != 0; }

static inline u16 io_qual_port(u64 q)
{
	return (u16)((q >> IO_QUAL_PORT_SHIFT) & IO_QUAL_PORT_MASK);
}

/* ---- Control-register accesses ---------------------------------------------- */

/* SDM Vol. 3C, "Exit Qualification for Control-Register Accesses" */
#define CR_QUAL_CR_MASK                 0xfull       /* bits 3:0: control register */
#define CR_QUAL_TYPE_SHIFT              4            /* bits 5:4: access type */
#define CR_QUAL_TYPE_MASK               0x3ull
#define CR_QUAL_LMSW_MEMORY             BIT(6)       /* LMSW operand: 1 memory, 0 register */
#define CR_QUAL_GPR_SHIFT               8            /* bits 11:8: MOV CR register */
#define CR_QUAL_GPR_MASK                0xfull
#define CR_QUAL_LMSW_DATA_SHIFT         16           /* bits 31:16: LMSW source */
#define CR_QUAL_LMSW_DATA_MASK          0xffffull

#define CR_ACCESS_MOV_TO_CR             0
#define CR_ACCESS_MOV_FROM_CR           1
#define CR_ACCESS_CLTS                  2
#define CR_ACCESS_LMSW                  3

/* General-purpose register numbers used by the CR and DR qualifications
 * (SDM Vol. 3C, "Exit Qualification for Control-Register Accesses"): 0 RAX,
 * 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15. */

/* Number of the control register accessed (0, 3, 4 or 8). */
static inline u32 cr_qual_cr(u64 q)
{
	return (u32)(q & CR_QUAL_CR_MASK);
}

/* CR_ACCESS_MOV_TO_CR, _MOV_FROM_CR, _CLTS or _LMSW. */
static inline u32 cr_qual_access_type(u64 q)
{
	return (u32)((q >> CR_QUAL_TYPE_SHIFT) & CR_QUAL_TYPE_MASK);
}

/* For LMSW: true when the operand was in memory (its linear address is in
 * VMCS_GUEST_LINEAR_ADDRESS). */
static inline bool cr_qual_lmsw_is_memory(u64 q)
{
	return (q & CR_QUAL_LMSW_MEMORY) != 0;
}

/* For MOV CR: the general-purpose register operand. */
static inline u32 cr_qual_gpr(u64 q)
{
	return (u32)((q >> CR_QUAL_GPR_SHIFT) & CR_QUAL_GPR_MASK);
}

/* For LMSW: the 16-bit source operand. */
static inline u16 cr_qual_lmsw_data(u64 q)
{
	return (u16)((q >> CR_QUAL_LMSW_DATA_SHIFT) & CR_QUAL_LMSW_DATA_MASK);
}

/* ---- Debug-register accesses ---------------------------------------------------- */

/* SDM Vol. 3C, "Exit Qualification for MOV DR" */
#define DR_QUAL_DR_MASK                 0x7ull       /* bits 2:0: debug register */
#define DR_QUAL_FROM_DR                 BIT(4)       /* 1 = MOV from DR, 0 = MOV to DR */
#define DR_QUAL_GPR_SHIFT               8            /* bits 11:8 */
#define DR_QUAL_GPR_MASK                0xfull

static inline u32 dr_qual_dr(u64 q)        { return (u32)(q & DR_QUAL_DR_MASK); }
static inline bool dr_qual_is_read(u64 q)  { return (q & DR_QUAL_FROM_DR) != 0; }
static inline u32 dr_qual_gpr(u64 q)
{
	return (u32)((q >> DR_QUAL_GPR_SHIFT) & DR_QUAL_GPR_MASK);
}

/* ---- Interruption information ----------------------------------------------------- */

/*
 * SDM Vol. 3C, "Information for VM Exits Due to Vectored Events" (VM-exit
 * interruption information), "Information for VM Exits That Occur During
 * Event Delivery" (IDT-vectoring information) and "VM-Entry Controls for
 * Event Injection" (VM-entry interruption information) share one layout.
 */
#define INTR_INFO_VECTOR_MASK           0xffu        /* bits 7:0 */
#define INTR_INFO_TYPE_SHIFT            8            /* bits 10:8 */
#define INTR_INFO_TYPE_MASK             0x7u
#define INTR_INFO_ERROR_CODE_VALID      (1u << 11)   /* exit: error code saved; entry: deliver it */
#define INTR_INFO_NMI_UNBLOCKING        (1u << 12)   /* exit only: NMI unblocking due to IRET */
#define INTR_INFO_VALID                 (1u << 31)

#define VECTORING_INFO_ERROR_CODE_VALID INTR_INFO_ERROR_CODE_VALID
#define VECTORING_INFO_VALID            INTR_INFO_VALID

#define INTR_TYPE_EXT_INTR              0  /* external interrupt */
#define INTR_TYPE_RESERVED              1
#define INTR_TYPE_NMI                   2  /* non-maskable interrupt */
#define INTR_TYPE_HW_EXCEPTION          3  /* hardware exception (#PF, #GP, ...) */
#define INTR_TYPE_SW_INTR               4  /* INT n */
#define INTR_TYPE_PRIV_SW_EXCEPTION     5  /* INT1 (ICEBP) */
#define INTR_TYPE_SW_EXCEPTION          6  /* INT3, INTO */
#define INTR_TYPE_OTHER_EVENT           7  /* entry only: pending MTF */

static inline u32 intr_info_vector(u32 info)
{
	return info & INTR_INFO_VECTOR_MASK;
}

/* INTR_TYPE_*; vmx_intr_type_name() gives its name. */
static inline u32 intr_info_type(u32 info)
{
	return (info >> INTR_INFO_TYPE_SHIFT) & INTR_INFO_TYPE_MASK;
}

/* Exit: the event's error code is in VMCS_EXIT_INTR_ERROR_CODE (or
 * VMCS_IDT_VECTORING_ERROR_CODE). */
static inline bool intr_info_has_error_code(u32 info)
{
	return (info & INTR_INFO_ERROR_CODE_VALID) != 0;
}

/* Exit: the exit happened in an IRET that unblocked NMIs; the handler must
 * set NMI blocking again before re-entering (SDM Vol. 3C, "Information for VM
 * Exits Due to Vectored Events"). */
static inline bool intr_info_nmi_unblocking(u32 info)
{
	return (info & INTR_INFO_NMI_UNBLOCKING) != 0;
}

static inline bool intr_info_is_valid(u32 info)
{
	return (info & INTR_INFO_VALID) != 0;
}

/*
 * Builds a VM-entry interruption-information value (valid bit set) that
 * injects vector as an event of type (INTR_TYPE_*). With deliver_error_code
 * the caller also writes VMCS_ENTRY_EXCEPTION_ERROR_CODE; for the software
 * types (4, 5, 6) it writes VMCS_ENTRY_INSTRUCTION_LEN. NMI takes vector 2
 * and pending MTF (INTR_TYPE_OTHER_EVENT) vector 0, as VM entry checks.
 */
static inline u32 intr_info_build(u32 vector, u32 type, bool deliver_error_code)
{
	return INTR_INFO_VALID |
	       ((type & INTR_INFO_TYPE_MASK) << INTR_INFO_TYPE_SHIFT) |
	       (deliver_error_code ? INTR_INFO_ERROR_CODE_VALID : 0u) |
	       (vector & INTR_INFO_VECTOR_MASK);
}

/*
 * SDM Vol. 3C, "Checks on VM-Entry Control Fields" (event injection): in
 * protected mode a hardware exception must deliver an error code exactly
 * when it is #DF (8), #TS (10), #NP (11), #SS (12), #GP (13), #PF (14),
 * #AC (17) or #CP (21), unless IA32_VMX_BASIC[56] waives the check.
 */
static inline bool intr_vector_has_error_code(u32 vector)
{
	const u32 with_error_code = (1u << 8) | (1u << 10) | (1u << 11) |
				    (1u << 12) | (1u << 13) | (1u << 14) |
				    (1u << 17) | (1u << 21);

	return vector < 32 && (with_error_code & (1u << vector)) != 0;
}

/*
 * SDM Vol. 3A, "Exception Classifications" (table "Protected-Mode Exceptions
 * and Interrupts"): whether exception vector is a fault, whose handler
 * returns to the faulting instruction. #DB (a fault or a trap), #BP and #OF
 * (traps), #DF and #MC (aborts), NMI and the reserved vectors are not.
 */
static inline bool intr_vector_is_fault(u32 vector)
{
	const u32 faults = (1u << 0) | (1u << 5) | (1u << 6) | (1u << 7) |
			   (1u << 10) | (1u << 11) | (1u << 12) | (1u << 13) |
			   (1u << 14) | (1u << 16) | (1u << 17) | (1u << 19) |
			   (1u << 20) | (1u << 21);

	return vector < 32 && (faults & (1u << vector)) != 0;
}

/* Builds the entry value that injects hardware exception vector, with the
 * error-code bit set as the architecture requires for it. */
static inline u32 intr_info_hw_exception(u32 vector)
{
	return intr_info_build(vector, INTR_TYPE_HW_EXCEPTION,
			       intr_vector_has_error_code(vector));
}

/* ---- INS/OUTS instruction information ---------------------------------------------- */

/* SDM Vol. 3C, "Information for VM Exits Due to Instruction Execution"
 * (Table "Format of the VM-Exit Instruction-Information Field as Used for
 * INS and OUTS"); reported only when IA32_VMX_BASIC[54] is 1. */
#define INSOUT_INFO_ADDR_SIZE_SHIFT     7            /* bits 9:7 */
#define INSOUT_INFO_ADDR_SIZE_MASK      0x7u
#define INSOUT_INFO_SEGMENT_SHIFT       15           /* bits 17:15, OUTS only */
#define INSOUT_INFO_SEGMENT_MASK        0x7u

#define INSOUT_ADDR_SIZE_16             0
#define INSOUT_ADDR_SIZE_32             1
#define INSOUT_ADDR_SIZE_64             2

/* Segment register numbers used by instruction-information fields. */
#define VMX_SEG_ES                      0
#define VMX_SEG_CS                      1
#define VMX_SEG_SS                      2
#define VMX_SEG_DS                      3
#define VMX_SEG_FS                      4
#define VMX_SEG_GS                      5

/* INSOUT_ADDR_SIZE_*: the address size of the string instruction. */
static inline u32 insout_info_addr_size(u32 info)
{
	return (info >> INSOUT_INFO_ADDR_SIZE_SHIFT) & INSOUT_INFO_ADDR_SIZE_MASK;
}

/* Address size in bytes (2, 4 or 8), or 0 for an undefined encoding. */
static inline u32 insout_info_addr_bytes(u32 info)
{
	u32 size = insout_info_addr_size(info);

	return size <= INSOUT_ADDR_SIZE_64 ? 2u << size : 0u;
}

/* VMX_SEG_*: the source segment of OUTS (INS always writes through ES). */
static inline u32 insout_info_segment(u32 info)
{
	return (info >> INSOUT_INFO_SEGMENT_SHIFT) & INSOUT_INFO_SEGMENT_MASK;
}

/* ---- Guest non-register state -------------------------------------------------------- */

/* SDM Vol. 3C, "Guest Non-Register State" (Table "Format of Interruptibility State") */
#define GUEST_INTR_BLOCKING_STI         (1u << 0)    /* in the STI shadow */
#define GUEST_INTR_BLOCKING_MOV_SS      (1u << 1)    /* in the MOV SS / POP SS shadow */
#define GUEST_INTR_BLOCKING_SMI         (1u << 2)
#define GUEST_INTR_BLOCKING_NMI         (1u << 3)
#define GUEST_INTR_ENCLAVE_INTERRUPTION (1u << 4)

/* SDM Vol. 3C, "Guest Non-Register State" (activity state) */
#define GUEST_ACTIVITY_ACTIVE           0
#define GUEST_ACTIVITY_HLT              1
#define GUEST_ACTIVITY_SHUTDOWN         2
#define GUEST_ACTIVITY_WAIT_SIPI        3

/* True when an external interrupt could be injected now as far as the
 * interruptibility state goes (RFLAGS.IF is the caller's to check). */
static inline bool guest_intr_shadow_clear(u32 interruptibility)
{
	return (interruptibility &
		(GUEST_INTR_BLOCKING_STI | GUEST_INTR_BLOCKING_MOV_SS)) == 0;
}

/* ---- Segment access rights --------------------------------------------------------------- */

/* SDM Vol. 3C, "Guest Register State" (Table "Format of Access Rights") */
#define VMX_AR_TYPE_MASK                0xfu         /* bits 3:0: segment type */
#define VMX_AR_S                        (1u << 4)    /* 1 = code/data, 0 = system */
#define VMX_AR_DPL_SHIFT                5            /* bits 6:5 */
#define VMX_AR_DPL_MASK                 0x3u
#define VMX_AR_P                        (1u << 7)    /* present */
#define VMX_AR_AVL                      (1u << 12)
#define VMX_AR_L                        (1u << 13)   /* 64-bit code segment */
#define VMX_AR_DB                       (1u << 14)   /* default operation size 32 */
#define VMX_AR_G                        (1u << 15)   /* limit in 4 KiB units */
#define VMX_AR_UNUSABLE                 (1u << 16)   /* segment unusable */
#define VMX_AR_RESERVED_MASK            0xfffe0f00u  /* bits 11:8 and 31:17 */

/* Segment types (SDM Vol. 3A, "Segment Descriptor Types"). */
#define VMX_AR_TYPE_DATA_RW_ACCESSED    0x3          /* read/write, accessed */
#define VMX_AR_TYPE_CODE_XR_ACCESSED    0xb          /* execute/read, accessed */
#define VMX_AR_TYPE_LDT                 0x2
#define VMX_AR_TYPE_TSS16_BUSY          0x3          /* with S = 0 */
#define VMX_AR_TYPE_TSS_BUSY            0xb          /* 32/64-bit busy TSS, S = 0 */

static inline u32 vmx_ar_type(u32 ar)         { return ar & VMX_AR_TYPE_MASK; }
static inline u32 vmx_ar_dpl(u32 ar)
{
	return (ar >> VMX_AR_DPL_SHIFT) & VMX_AR_DPL_MASK;
}
static inline bool vmx_ar_is_unusable(u32 ar) { return (ar & VMX_AR_UNUSABLE) != 0; }

/* Builds an access-rights value from a segment type, a DPL and the flag
 * bits (VMX_AR_S, _P, _AVL, _L, _DB, _G, _UNUSABLE); other bits of flags
 * are reserved and dropped. */
static inline u32 vmx_ar_build(u32 type, u32 dpl, u32 flags)
{
	return (type & VMX_AR_TYPE_MASK) |
	       ((dpl & VMX_AR_DPL_MASK) << VMX_AR_DPL_SHIFT) |
	       (flags & (VMX_AR_S | VMX_AR_P | VMX_AR_AVL | VMX_AR_L | VMX_AR_DB |
			 VMX_AR_G | VMX_AR_UNUSABLE));
}

#endif /* VMX_VMX_QUAL_H */
