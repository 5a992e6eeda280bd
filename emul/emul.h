/*
 * emul/emul.h - the x86 instruction decoder and emulator for MMIO accesses.
 *
 * When a guest access hits an MMIO region (an emulated device page, the xAPIC
 * page, the pc-testdev IORAM), the EPT-violation or EPT-misconfiguration exit
 * reports the guest-physical address but neither the data nor the size. The
 * exit handler fetches the instruction bytes at the guest's RIP, decodes them
 * with emul_decode() and runs emul_execute(), which reaches memory only
 * through the callbacks in struct emul_ctx (bhyve's vmm_instruction_emul.c
 * design), so the module is pure and is tested on the host against Zydis.
 *
 * Supported (memory forms only; everything else is -EINVAL with a reason):
 *   MOV 88 89 8A 8B C6/0 C7/0 A0-A3, MOVZX 0F B6/B7, MOVSX 0F BE/BF,
 *   MOVSXD 63 (REX.W, 64-bit mode), ADD OR ADC SBB AND SUB XOR CMP in their
 *   00-3B forms and as group 1 (80 81 83), TEST 84 85 F6/0 F7/0, XCHG 86 87,
 *   INC DEC FE/0 FE/1 FF/0 FF/1, NOT NEG MUL IMUL DIV IDIV F6/F7 /2-/7,
 *   IMUL 0F AF 69 6B, XADD 0F C0/C1, CMPXCHG 0F B0/B1, CMPXCHG8B/16B 0F C7/1,
 *   BT BTS BTR BTC 0F A3 AB B3 BB and 0F BA/4-/7, BSF BSR 0F BC/BD,
 *   SHLD SHRD 0F A4 A5 AC AD, SETcc 0F 90-9F, CMOVcc 0F 40-4F,
 *   MOVNTI 0F C3, MOVBE 0F 38 F0/F1, MOV Sreg 8C 8E, SMSW 0F 01/4,
 *   LTR 0F 00/3, MOVUPS MOVUPD 0F 10/11, MOVAPS MOVAPD 0F 28/29,
 *   MOVD MOVQ 0F 6E/7E 66 0F 6E/7E F3 0F 7E 66 0F D6, MOVQ (MMX) 0F 6F/7F,
 *   MOVDQA MOVDQU 66/F3 0F 6F/7F, MOVNTQ 0F E7, MOVNTDQ 66 0F E7,
 *   MOVSS MOVSD F3/F2 0F 10/11, MOVNTPS MOVNTPD 0F 2B,
 *   MOVS A4 A5, STOS AA AB, LODS AC AD (with REP), CMPS A6 A7 and SCAS AE AF
 *   (with REPE/REPNE), JMP FF/4, CALL FF/2, PUSH FF/6 50-57 68 6A,
 *   POP 8F/0 58-5F, CALL E8, RET C2 C3, ENTER C8, LEAVE C9 (the stack
 *   instructions for a stack in MMIO), far JMP FF/5 and far CALL FF/3
 *   (to a code segment; CS is loaded through load_seg).
 *
 * Implements SDM Vol. 2A, chapter "Instruction Format" (prefixes, REX,
 * ModR/M, SIB, displacement, immediate) and the opcode maps of SDM Vol. 2D,
 * Appendix A "Opcode Map".
 */
#ifndef EMUL_EMUL_H
#define EMUL_EMUL_H

#include "lib/lib.h"

/* SDM Vol. 2A, "Instruction Format": no instruction is longer than 15 bytes
 * (a longer one raises #GP). */
#define EMUL_INSN_MAX_LEN  15

/* Room for a decode or execution failure message, with the bytes. */
#define EMUL_WHY_LEN       96

/*
 * The processor mode the instruction was fetched in; it fixes the default
 * operand and address sizes (SDM Vol. 1, "Operand-Size and Address-Size
 * Attributes"). Compatibility mode decodes like protected mode.
 */
enum emul_cpu_mode {
	EMUL_MODE_REAL,		/* real or virtual-8086 mode: 16-bit defaults */
	EMUL_MODE_PROT16,	/* protected/compatibility mode, CS.D = 0 */
	EMUL_MODE_PROT32,	/* protected/compatibility mode, CS.D = 1 */
	EMUL_MODE_LONG64,	/* 64-bit mode: IA32_EFER.LMA = 1 and CS.L = 1 */
	EMUL_NR_MODES,
};

/* General-purpose registers in x86 register-number order (SDM Vol. 2A,
 * "Register Codes Associated With +rb, +rw, +rd, +ro"): the index into
 * struct emul_ctx.gprs. */
enum emul_reg {
	EMUL_REG_RAX, EMUL_REG_RCX, EMUL_REG_RDX, EMUL_REG_RBX,
	EMUL_REG_RSP, EMUL_REG_RBP, EMUL_REG_RSI, EMUL_REG_RDI,
	EMUL_REG_R8,  EMUL_REG_R9,  EMUL_REG_R10, EMUL_REG_R11,
	EMUL_REG_R12, EMUL_REG_R13, EMUL_REG_R14, EMUL_REG_R15,
	EMUL_NR_GPRS,
	EMUL_REG_RIP = EMUL_NR_GPRS,	/* base of a RIP-relative operand */
	EMUL_REG_NONE = 0xff,
};

/* Segment registers in Sreg encoding order (SDM Vol. 2A, "Segment Register
 * (sreg) Field Encoding"): the index into struct emul_ctx.seg_base. */
enum emul_seg {
	EMUL_SEG_ES, EMUL_SEG_CS, EMUL_SEG_SS, EMUL_SEG_DS, EMUL_SEG_FS,
	EMUL_SEG_GS,
	EMUL_NR_SEGS,
};

/* What an instruction does, after group opcodes are resolved by ModRM.reg
 * and SSE opcodes by their mandatory prefix. */
enum emul_op_type {
	EMUL_OP_NONE,		/* not supported */
	EMUL_OP_MOV,
	EMUL_OP_MOVZX,
	EMUL_OP_MOVSX,		/* MOVSX and MOVSXD */
	EMUL_OP_ADD,
	EMUL_OP_OR,
	EMUL_OP_ADC,
	EMUL_OP_SBB,
	EMUL_OP_AND,
	EMUL_OP_SUB,
	EMUL_OP_XOR,
	EMUL_OP_CMP,
	EMUL_OP_TEST,
	EMUL_OP_XCHG,
	EMUL_OP_BT,
	EMUL_OP_MOVS,
	EMUL_OP_STOS,
	EMUL_OP_LODS,
	EMUL_OP_PUSH,		/* FF/6, 50+r, 68, 6A */
	EMUL_OP_POP,		/* 8F/0, 58+r */
	EMUL_OP_INC,
	EMUL_OP_DEC,
	EMUL_OP_NOT,
	EMUL_OP_NEG,
	EMUL_OP_MUL,		/* F6/F7 /4: rDX:rAX = rAX * Ev */
	EMUL_OP_IMUL1,		/* F6/F7 /5: one-operand signed multiply */
	EMUL_OP_IMUL,		/* 0F AF, 69, 6B: Gv = Ev * (Gv or imm) */
	EMUL_OP_DIV,
	EMUL_OP_IDIV,
	EMUL_OP_XADD,
	EMUL_OP_CMPXCHG,
	EMUL_OP_CMPXCHG8B,	/* CMPXCHG8B, and CMPXCHG16B with REX.W */
	EMUL_OP_BTS,
	EMUL_OP_BTR,
	EMUL_OP_BTC,
	EMUL_OP_BSF,
	EMUL_OP_BSR,
	EMUL_OP_SHLD,
	EMUL_OP_SHRD,
	EMUL_OP_SETCC,		/* condition: the opcode's low nibble */
	EMUL_OP_CMOVCC,		/* condition: the opcode's low nibble */
	EMUL_OP_MOVNTI,
	EMUL_OP_MOVBE,
	EMUL_OP_MOVSEG,		/* MOV Ew,Sreg (8C) and MOV Sreg,Ew (8E) */
	EMUL_OP_SMSW,
	EMUL_OP_LTR,
	EMUL_OP_CMPS,
	EMUL_OP_SCAS,
	EMUL_OP_JMP,		/* FF/4 */
	EMUL_OP_CALL,		/* FF/2, E8 */
	EMUL_OP_RET,		/* C3, C2 */
	EMUL_OP_ENTER,
	EMUL_OP_LEAVE,
	EMUL_OP_JMPF,		/* FF/5: far, through a pointer m16:16/32/64 */
	EMUL_OP_CALLF,		/* FF/3: far, through a pointer m16:16/32/64 */
	/* Moves between memory and an XMM (EMUL_OPF_XMM) or MMX (EMUL_OPF_MMX)
	 * register; one type per mnemonic. */
	EMUL_OP_MOVUPS,
	EMUL_OP_MOVUPD,
	EMUL_OP_MOVAPS,
	EMUL_OP_MOVAPD,
	EMUL_OP_MOVDQU,
	EMUL_OP_MOVDQA,
	EMUL_OP_MOVNTDQ,
	EMUL_OP_MOVNTQ,
	EMUL_OP_MOVD,
	EMUL_OP_MOVQ,
	EMUL_OP_MOVSS,		/* F3 0F 10/11 */
	EMUL_OP_MOVSD_SSE,	/* F2 0F 10/11 (not the string MOVSD) */
	EMUL_OP_MOVNTPS,
	EMUL_OP_MOVNTPD,
	/* Opcode-table placeholders, resolved by ModRM.reg (SDM Vol. 2D,
	 * Table A-6 "Opcode Extensions for One- and Two-byte Opcodes by Group
	 * Number") or by the mandatory prefix; never left in a decoded
	 * instruction. */
	EMUL_OP_GROUP1,		/* 80 81 83 */
	EMUL_OP_GROUP1A,	/* 8F */
	EMUL_OP_GROUP3,		/* F6 F7 */
	EMUL_OP_GROUP4,		/* FE */
	EMUL_OP_GROUP5,		/* FF */
	EMUL_OP_GROUP6,		/* 0F 00 */
	EMUL_OP_GROUP7,		/* 0F 01 */
	EMUL_OP_GROUP8,		/* 0F BA */
	EMUL_OP_GROUP9,		/* 0F C7 */
	EMUL_OP_GROUP11,	/* C6 C7 */
	EMUL_OP_SSE,		/* 0F opcodes chosen by the 66/F2/F3 prefix */
	EMUL_NR_OP_TYPES,
};

/* Operand-shape flags of an opcode-table entry (struct emul_op.flags). */
#define EMUL_OPF_MODRM     BIT(0)	/* a ModR/M byte follows */
#define EMUL_OPF_BYTE      BIT(1)	/* operand size is 8 bits */
#define EMUL_OPF_REG_DST   BIT(2)	/* register is the destination, memory the source */
#define EMUL_OPF_IMM8      BIT(3)	/* ib, sign-extended to the operand size */
#define EMUL_OPF_IMMZ      BIT(4)	/* iw/id by operand size; id sign-extended for 64-bit */
#define EMUL_OPF_MOFFS     BIT(5)	/* A0-A3: address-size offset, no ModR/M */
#define EMUL_OPF_SRC8      BIT(6)	/* memory source is 8 bits (MOVZX/MOVSX) */
#define EMUL_OPF_SRC16     BIT(7)	/* memory source is 16 bits (MOVZX/MOVSX) */
#define EMUL_OPF_SRC32     BIT(8)	/* memory source is 32 bits (MOVSXD) */
#define EMUL_OPF_DEF64     BIT(9)	/* operand size defaults to 64 in 64-bit mode */
#define EMUL_OPF_ONLY64    BIT(10)	/* valid only in 64-bit mode (63 is ARPL elsewhere) */
#define EMUL_OPF_STRING    BIT(11)	/* string instruction: implicit rSI/rDI, REP allowed */
#define EMUL_OPF_ACC       BIT(12)	/* register operand is AL/rAX */
#define EMUL_OPF_XMM       BIT(13)	/* register operand is XMM0-15 */
#define EMUL_OPF_MMX       BIT(14)	/* register operand is MM0-7 */
#define EMUL_OPF_SREG      BIT(15)	/* register operand is a segment register */
#define EMUL_OPF_ALIGN16   BIT(16)	/* memory operand must be 16-byte aligned, else #GP(0) */
#define EMUL_OPF_STACK     BIT(17)	/* implicit stack operand only (PUSH r, RET, ...) */
#define EMUL_OPF_FORCE64   BIT(18)	/* 64-bit operand size in 64-bit mode, 66 ignored ("f64") */
#define EMUL_OPF_OPREG     BIT(19)	/* register in the opcode's low 3 bits (+REX.B) */
#define EMUL_OPF_IMM16     BIT(20)	/* iw (RET, ENTER; ENTER has a second ib) */
#define EMUL_OPF_CL        BIT(21)	/* count in CL (SHLD/SHRD) */
#define EMUL_OPF_REL       BIT(22)	/* relative branch displacement, in imm */
#define EMUL_OPF_COND      BIT(23)	/* condition code in the opcode's low nibble */
#define EMUL_OPF_LOCKABLE  BIT(24)	/* LOCK allowed with a memory destination */

/* The bits an operand of size bytes (1, 2, 4, 8) occupies. */
static inline u64 emul_size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : BIT(8 * size) - 1;
}

/* One opcode-table entry. */
struct emul_op {
	u8 type;		/* enum emul_op_type */
	u8 mem_size;		/* bytes at the memory operand; 0: the operand size */
	u32 flags;		/* EMUL_OPF_* */
};

/*
 * A memory operand: segment:[base + index * scale + disp], truncated to the
 * address size. RIP-relative operands have base EMUL_REG_RIP and are relative
 * to the next instruction. For MOVS and CMPS the operand is the source
 * (seg:rSI); the destination is always ES:rDI. For STOS and SCAS it is
 * ES:rDI, for LODS seg:rSI. Stack instructions (EMUL_OPF_STACK) have base
 * rSP and segment SS; the address they access depends on the instruction.
 */
struct emul_mem {
	u8 base;		/* enum emul_reg, EMUL_REG_RIP or EMUL_REG_NONE */
	u8 index;		/* enum emul_reg or EMUL_REG_NONE */
	u8 scale;		/* 1, 2, 4, 8; 0 when there is no index */
	u8 seg;			/* enum emul_seg: the override, else the default */
	bool seg_override;	/* a segment-override prefix took effect */
	s64 disp;		/* sign-extended from its encoded width (moffs too) */
};

/* A decoded instruction. */
struct emul_insn {
	u8 len;			/* bytes, 1..EMUL_INSN_MAX_LEN */
	u8 mode;		/* enum emul_cpu_mode it was decoded for */
	u8 type;		/* enum emul_op_type, never NONE or a GROUP */
	u32 flags;		/* EMUL_OPF_* of the opcode */
	u8 opcode;		/* the last opcode byte */
	bool two_byte;		/* 0F-escaped opcode (0F 38 too) */
	bool three_byte;	/* 0F 38-escaped opcode */
	u8 op_size;		/* operand size in bytes: 1, 2, 4, 8 (vector moves: mem_size) */
	u8 addr_size;		/* address size in bytes: 2, 4, 8 */
	u8 mem_size;		/* bytes read/written at the memory operand (up to 16) */
	u8 rex;			/* the REX prefix in effect, or 0 */
	u8 modrm;		/* valid when flags has EMUL_OPF_MODRM */
	bool lock;		/* F0 */
	bool rep;		/* F3 on a string instruction (REPE for CMPS/SCAS) */
	bool repne;		/* F2 on CMPS/SCAS */
	bool has_reg;		/* a register operand (ModRM.reg, opcode, or AL/rAX) */
	u8 reg;			/* enum emul_reg; XMM/MM/Sreg number by flags */
	bool reg_high8;		/* AH CH DH BH: bits 15:8 of reg 0..3 */
	u8 reg_size;		/* register operand size in bytes (XMM 16, MM 8) */
	struct emul_mem mem;
	bool has_imm;
	u8 imm_size;		/* encoded immediate bytes (ENTER: of the first) */
	u64 imm;		/* sign-extended to 64 bits (BT*'s and SHxD's ib, and iw:
				 * zero-extended; CALL rel: the displacement) */
	u8 imm2;		/* ENTER's nesting level (ib) */
	char why[EMUL_WHY_LEN];	/* the reason when emul_decode() fails */
};

/*
 * Decodes the instruction at bytes[0..len) fetched in the given mode into
 * *out. Returns the instruction length (1..15) on success;
 * -E2BIG when the instruction continues past bytes[len - 1] (fetch more
 *        bytes, e.g. from the next page, and decode again);
 * -EINVAL when the bytes are not a supported memory-accessing instruction
 *        (unsupported opcode, register-only form, LOCK where it would #UD,
 *        longer than 15 bytes, ...). The caller raises #UD at the
 *        instruction: a real CPU either raises #UD or #GP itself for these
 *        bytes, or never exits for them.
 * On failure out->why holds a one-line reason followed by the bytes consumed.
 */
int emul_decode(const u8 *bytes, size_t len, enum emul_cpu_mode mode,
		struct emul_insn *out);

/*
 * Writes a one-line, Intel-syntax rendering of insn ("mov dword [rax+0x10],
 * ecx") into buf (always NUL-terminated when n > 0) and returns buf.
 */
const char *emul_describe(const struct emul_insn *insn, char *buf, size_t n);

/* ---- emulation ---------------------------------------------------------- */

/* Exception vectors emul_execute() can report (SDM Vol. 3A, "Exception and
 * Interrupt Vectors"). */
#define EMUL_EXC_DE   0		/* divide error */
#define EMUL_EXC_UD   6		/* invalid opcode */
#define EMUL_EXC_SS   12	/* stack-segment fault, error code 0 here */
#define EMUL_EXC_GP   13	/* general protection, error code */
#define EMUL_EXC_PF   14	/* page fault, error code and CR2 */

/*
 * A callback that must make the instruction fault returns
 * EMUL_FAULT(vector, error_code) (a positive value); EMUL_FAULT_NOERR(vector)
 * for an exception without an error code.
 */
#define EMUL_FAULT_FLAG     0x40000000
#define EMUL_FAULT_HAS_ERR  0x20000000
#define EMUL_FAULT_VEC_SHIFT 16
#define EMUL_FAULT(vec, err) (EMUL_FAULT_FLAG | EMUL_FAULT_HAS_ERR | \
			      ((vec) << EMUL_FAULT_VEC_SHIFT) | ((err) & 0xffff))
#define EMUL_FAULT_NOERR(vec) (EMUL_FAULT_FLAG | ((vec) << EMUL_FAULT_VEC_SHIFT))

/* emul_execute()'s result when the instruction raises an exception: the
 * caller injects ctx->exc at the instruction's RIP (a fault: RIP does not
 * advance). */
#define EMUL_EXCEPTION  (-0x1000)

/* The exception an instruction raised (valid after EMUL_EXCEPTION). */
struct emul_exception {
	u8 vector;		/* EMUL_EXC_* */
	bool has_error_code;
	u32 error_code;
	u64 cr2;		/* #PF: the linear address that faulted */
};

/*
 * Translates guest-linear gla (through the guest's page tables) for a read
 * or write; returns 0 and stores *gpa, or:
 *   EMUL_FAULT(EMUL_EXC_PF, error code): the walk faulted; the emulator
 *     reports #PF with CR2 = gla (nothing injected by the callback);
 *   -ERANGE: gla is not canonical; the emulator reports #GP(0), or #SS(0)
 *     for a stack reference (SDM Vol. 3A, "Canonical Addressing");
 *   -EFAULT: the callback injected the fault itself (older callers);
 *   another negative errno.
 */
typedef int (*emul_translate_fn)(void *opaque, u64 gla, bool write, u64 *gpa);
/* Reads or writes size (1, 2, 4 or 8) bytes at gpa, little-endian in buf;
 * returns 0 or a negative errno. Wider operands (16 bytes) are two 8-byte
 * accesses, lower address first, as KVM does. */
typedef int (*emul_access_fn)(void *opaque, u64 gpa, void *buf, u32 size);
/* True when gpa is emulated (MMIO), false when it is ordinary guest RAM. */
typedef bool (*emul_is_mmio_fn)(void *opaque, u64 gpa);

/* Vector registers as emul_vreg_fn numbers them. */
#define EMUL_VREG_XMM0  0	/* XMM0..XMM15: 0..15, 16 bytes */
#define EMUL_VREG_MM0   16	/* MM0..MM7: 16..23, 8 bytes */
/*
 * Reads or writes the guest's vector register vreg (EMUL_VREG_*), size bytes
 * (16 for XMM, 8 for MM), little-endian in buf; returns 0 or a negative
 * errno. A write to an XMM register writes all 128 bits (the emulator has
 * zero-extended MOVD/MOVQ loads); the bits above 127 (YMM) are kept, as a
 * legacy-SSE instruction keeps them. A write to an MM register has the x87
 * side effects of an MMX instruction (TOS = 0, all tags valid), which the
 * callback gets by doing the move with an MMX instruction itself.
 */
typedef int (*emul_vreg_fn)(void *opaque, u8 vreg, void *buf, u32 size);
/*
 * Loads segment register seg (MOV Sreg, Ew), the task register (LTR, seg =
 * EMUL_NR_SEGS) or, for a far JMP or CALL, CS (seg = EMUL_SEG_CS: the
 * target must be a code segment, as the SDM's JMP and CALL pages say for a
 * far transfer to the same privilege level) with selector sel, with the
 * checks and descriptor loads the SDM's MOV, LTR, JMP and CALL pages
 * describe; returns 0, EMUL_FAULT(...) for the fault
 * those checks raise (e.g. #GP(selector)), or a negative errno. A MOV to SS
 * also blocks interrupts for one instruction (SDM "MOV--Move"): the callback
 * sets that interruptibility state.
 */
typedef int (*emul_load_seg_fn)(void *opaque, u8 seg, u16 sel);
/*
 * LOCK semantics: called with true before the read of a locked
 * read-modify-write (a LOCK prefix, or XCHG with memory, which locks
 * implicitly) and with false after its write. The caller holds the device's
 * (or the bus's) lock in between, so that no other access to the device is
 * served between the read and the write: the operation is atomic with
 * respect to the device, as the SDM's LOCK page says for memory.
 */
typedef void (*emul_bus_lock_fn)(void *opaque, bool lock);

/* REP iterations emul_execute() does per call when ctx->rep_limit is 0. */
#define EMUL_REP_LIMIT_DEFAULT  1024u

/*
 * The guest state and memory an instruction runs against.
 *
 * Single-memory-operand instructions access ctx->gpa (the exit's address)
 * through mmio_read/mmio_write and need no translation, unless the operand
 * crosses into the next page (translated by itself), or a register bit
 * offset of BT/BTS/BTR/BTC selects another page. Instructions with two
 * memory references (MOVS, CMPS, PUSH, POP, CALL, RET, ENTER, LEAVE) and
 * REP iterations after the first compute linear addresses from seg_base and
 * the registers, translate them, and send each access to mmio_* or mem_* as
 * is_mmio says; they need translate, is_mmio and mem_read/mem_write.
 *
 * ctx->gpa is the address of the operand's first byte, or for BT/BTS/BTR/
 * BTC with a register bit offset, of the operand-sized word the bit lies in
 * (the word the CPU accessed; emul_mem_gla() gives its linear address). An
 * operand that crosses a page boundary (by its linear address, from the
 * registers) is translated page by page when translate and is_mmio are
 * set, so an access that starts in RAM and exits on its second, MMIO page
 * is emulated correctly; without them the first page is taken to be at
 * ctx->gpa. No segment-limit checks are made: the CPU made them for the
 * access that exited.
 */
struct emul_ctx {
	u64 gprs[EMUL_NR_GPRS];	/* in/out, RSP included */
	u64 rflags;		/* in/out */
	u64 rip;		/* in: the instruction's address (RIP-relative) */
	u64 seg_base[EMUL_NR_SEGS]; /* in; ES CS SS DS are 0 in 64-bit mode */
	bool ss_big;		/* in: SS.B, 32-bit stack pointer outside 64-bit mode */
	u64 gpa;		/* in: guest-physical address of the faulting access */
	u32 rep_limit;		/* in: REP iterations per call; 0: the default */
	u32 rep_done;		/* out: REP iterations the last call did */
	void *opaque;		/* passed to every callback */
	emul_translate_fn translate;
	emul_is_mmio_fn is_mmio;
	emul_access_fn mmio_read, mmio_write;
	emul_access_fn mem_read, mem_write;
	char why[EMUL_WHY_LEN];	/* the reason when emul_execute() fails */
	/* Added for issue 8 (optional unless an instruction needs them). */
	u64 cr0;		/* in: CR0 as the guest reads it (SMSW) */
	bool la57;		/* in: CR4.LA57, 57-bit canonical addresses */
	u16 seg_sel[EMUL_NR_SEGS]; /* in: selectors (MOV Ew, Sreg) */
	emul_vreg_fn vreg_read, vreg_write;	/* SSE and MMX moves */
	emul_load_seg_fn load_seg;		/* MOV Sreg, Ew and LTR */
	emul_bus_lock_fn bus_lock;		/* NULL: no device lock to take */
	u64 next_rip;		/* out: where the guest resumes (see emul_execute) */
	struct emul_exception exc; /* out: valid after EMUL_EXCEPTION */
};

/*
 * Executes insn (from emul_decode, same mode) against ctx: updates gprs and
 * rflags as the CPU would and performs the memory accesses. Flags are set as
 * the SDM's "Flags Affected" sections define them. Where the SDM leaves a
 * flag undefined, emul_execute() sets it as follows (the host tests compare
 * only the defined flags with the host CPU): AND/OR/XOR/TEST clear AF;
 * BT/BTS/BTR/BTC leave OF SF AF PF unchanged; MUL/IMUL set SF ZF PF from
 * the (low half of the) result and clear AF; DIV/IDIV leave all six
 * unchanged; BSF/BSR leave CF OF SF AF PF unchanged, and with a zero source
 * leave the destination unchanged (as Intel and AMD CPUs do); SHLD/SHRD
 * compute OF as for a count of 1 and clear AF, and a 16-bit SHLD/SHRD whose
 * count exceeds 16 shifts the 32-bit pattern src:dst (the SDM leaves the
 * result undefined).
 *
 * Returns how far the caller must advance RIP: insn->len when the instruction
 * completed, or 0 when a REP instruction stopped early (after rep_limit
 * iterations, before an iteration that touches only RAM, or before one whose
 * address does not translate): the registers hold the progress, so resuming
 * the guest at the same RIP continues it, natively or with another exit.
 * In both cases ctx->next_rip is where the guest resumes: rip + the return
 * value, or the target of a JMP, CALL or RET (which also return insn->len).
 * EMUL_EXCEPTION when the instruction faults (ctx->exc says how; registers,
 * flags and memory are as the fault leaves them: unchanged, bar REP
 * progress). A negative errno on failure, with ctx->why set: -EINVAL (insn
 * not executable), -EOPNOTSUPP (a needed callback is NULL), -EFAULT (an
 * access does not translate and the translate callback raised the fault),
 * or a callback's error. A failure leaves gprs and rflags as they were,
 * except that a REP instruction keeps the progress of iterations already
 * done.
 */
int emul_execute(const struct emul_insn *insn, struct emul_ctx *ctx);

/*
 * Computes the guest-linear address of insn's memory operand from ctx's
 * registers, rip and segment bases (no limit or canonical checks): for
 * checking a gpa against the guest's page tables, and for string and stack
 * instructions. Returns the address.
 */
u64 emul_mem_gla(const struct emul_insn *insn, const struct emul_ctx *ctx);

/*
 * The fast-MMIO path's lean decode (emul/fastlen.c): if the avail bytes at p
 * (fetched at the guest's RIP in mode) start with a plain store to memory
 * (a MOV, MOVNTI, SETcc, MOVBE or SSE/MMX move whose only effect is the
 * write), returns its length (1..15); otherwise 0: a read, a
 * read-modify-write, a register operand, an encoding it does not know, or
 * bytes that run past avail. Never touches anything but p.
 */
u32 emul_store_length(const u8 *p, u32 avail, enum emul_cpu_mode mode);

#endif /* EMUL_EMUL_H */
