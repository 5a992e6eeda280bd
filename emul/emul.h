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
 *   BT 0F A3 and 0F BA/4, MOVS A4 A5, STOS AA AB, LODS AC AD (with REP),
 *   PUSH FF/6, POP 8F/0.
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

/* What an instruction does, after group opcodes are resolved by ModRM.reg. */
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
	EMUL_OP_PUSH,
	EMUL_OP_POP,
	/* Opcode-table placeholders, resolved by ModRM.reg (SDM Vol. 2D,
	 * Table A-6 "Opcode Extensions for One- and Two-byte Opcodes by Group
	 * Number"); never left in a decoded instruction. */
	EMUL_OP_GROUP1,		/* 80 81 83 */
	EMUL_OP_GROUP1A,	/* 8F */
	EMUL_OP_GROUP3,		/* F6 F7 */
	EMUL_OP_GROUP5,		/* FF */
	EMUL_OP_GROUP8,		/* 0F BA */
	EMUL_OP_GROUP11,	/* C6 C7 */
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

/* The bits an operand of size bytes (1, 2, 4, 8) occupies. */
static inline u64 emul_size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : BIT(8 * size) - 1;
}

/* One opcode-table entry. */
struct emul_op {
	u8 type;		/* enum emul_op_type */
	u16 flags;		/* EMUL_OPF_* */
};

/*
 * A memory operand: segment:[base + index * scale + disp], truncated to the
 * address size. RIP-relative operands have base EMUL_REG_RIP and are relative
 * to the next instruction. For MOVS the operand is the source (seg:rSI); the
 * destination is always ES:rDI. For STOS it is ES:rDI, for LODS seg:rSI.
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
	u16 flags;		/* EMUL_OPF_* of the opcode */
	u8 opcode;		/* the opcode byte (the one after 0F if two_byte) */
	bool two_byte;		/* 0F-escaped opcode */
	u8 op_size;		/* operand size in bytes: 1, 2, 4, 8 */
	u8 addr_size;		/* address size in bytes: 2, 4, 8 */
	u8 mem_size;		/* bytes read/written at the memory operand */
	u8 rex;			/* the REX prefix in effect, or 0 */
	u8 modrm;		/* valid when flags has EMUL_OPF_MODRM */
	bool lock;		/* F0 */
	bool rep;		/* F3 on a string instruction */
	bool has_reg;		/* a register operand (ModRM.reg or AL/rAX) */
	u8 reg;			/* enum emul_reg */
	bool reg_high8;		/* AH CH DH BH: bits 15:8 of reg 0..3 */
	u8 reg_size;		/* register operand size in bytes */
	struct emul_mem mem;
	bool has_imm;
	u8 imm_size;		/* encoded immediate bytes */
	u64 imm;		/* sign-extended to 64 bits (ib of BT: zero-extended) */
	char why[EMUL_WHY_LEN];	/* the reason when emul_decode() fails */
};

/*
 * Decodes the instruction at bytes[0..len) fetched in the given mode into
 * *out. Returns the instruction length (1..15) on success;
 * -E2BIG when the instruction continues past bytes[len - 1] (fetch more
 *        bytes, e.g. from the next page, and decode again);
 * -EINVAL when the bytes are not a supported memory-accessing instruction
 *        (unsupported opcode, register-only form, LOCK where it would #UD,
 *        longer than 15 bytes, ...).
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

/* Translates guest-linear gla (through the guest's page tables) for a read
 * or write; returns 0 and stores *gpa, or a negative errno. */
typedef int (*emul_translate_fn)(void *opaque, u64 gla, bool write, u64 *gpa);
/* Reads or writes size (1, 2, 4 or 8) bytes at gpa, little-endian in buf;
 * returns 0 or a negative errno. */
typedef int (*emul_access_fn)(void *opaque, u64 gpa, void *buf, u32 size);
/* True when gpa is emulated (MMIO), false when it is ordinary guest RAM. */
typedef bool (*emul_is_mmio_fn)(void *opaque, u64 gpa);

/* REP iterations emul_execute() does per call when ctx->rep_limit is 0. */
#define EMUL_REP_LIMIT_DEFAULT  1024u

/*
 * The guest state and memory an instruction runs against.
 *
 * Single-memory-operand instructions access ctx->gpa (the exit's address)
 * through mmio_read/mmio_write and need no translation. Instructions with two
 * memory references (MOVS, PUSH, POP) and REP iterations after the first
 * compute linear addresses from seg_base and the registers, translate them,
 * and send each access to mmio_* or mem_* as is_mmio says; they need
 * translate, is_mmio and mem_read/mem_write.
 *
 * ctx->gpa must be the address of the operand's first byte: an access that
 * starts in RAM and spills into an MMIO page exits with the second page's
 * address, and is not emulated correctly. No segment-limit, canonical or
 * alignment checks are made: the CPU made them for the access that exited.
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
};

/*
 * Executes insn (from emul_decode, same mode) against ctx: updates gprs and
 * rflags as the CPU would and performs the memory accesses. Arithmetic flags
 * (CF PF AF ZF SF OF) are set as the SDM defines; where it leaves a flag
 * undefined: AND/OR/XOR/TEST clear AF; BT leaves OF SF AF PF unchanged.
 *
 * Returns how far the caller must advance RIP: insn->len when the instruction
 * completed, or 0 when a REP instruction stopped early (after rep_limit
 * iterations, before an iteration that touches only RAM, or before one whose
 * address does not translate): the registers hold the progress, so resuming
 * the guest at the same RIP continues it, natively or with another exit.
 * A negative errno on failure, with ctx->why set: -EINVAL (insn not
 * executable), -EOPNOTSUPP (a needed callback is NULL), -EFAULT (the first
 * access does not translate), or a callback's error. A failure leaves gprs
 * and rflags as they were, except that a REP instruction keeps the progress
 * of iterations already done.
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
