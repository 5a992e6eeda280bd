/*
 * emul/emul_priv.h - what the files of the emul/ module share and nothing
 * else needs: instruction-format constants, the opcode tables, the EFLAGS
 * bits, and the arithmetic helpers of the emulator.
 */
#ifndef EMUL_EMUL_PRIV_H
#define EMUL_EMUL_PRIV_H

#include "emul/emul.h"

/* SDM Vol. 2A, "Instruction Prefixes" */
#define PREFIX_LOCK        0xf0
#define PREFIX_REPNE       0xf2
#define PREFIX_REP         0xf3
#define PREFIX_ES          0x26
#define PREFIX_CS          0x2e
#define PREFIX_SS          0x36
#define PREFIX_DS          0x3e
#define PREFIX_FS          0x64
#define PREFIX_GS          0x65
#define PREFIX_OPSIZE      0x66
#define PREFIX_ADDRSIZE    0x67

/* SDM Vol. 2A, "REX Prefixes": 0100WRXB, 64-bit mode only. */
#define REX_MASK           0xf0
#define REX_BASE           0x40
#define REX_W              0x08	/* 64-bit operand size */
#define REX_R              0x04	/* extends ModR/M.reg */
#define REX_X              0x02	/* extends SIB.index */
#define REX_B              0x01	/* extends ModR/M.rm or SIB.base */
#define REX_REG_SHIFT      3	/* REX bits supply bit 3 of a register number */

/* SDM Vol. 2D, Appendix A "Opcode Map": the escapes to the two- and
 * three-byte maps. */
#define OPCODE_ESCAPE      0x0f
#define OPCODE_ESCAPE_38   0x38

/* SDM Vol. 1, "EFLAGS Register" */
#define RFLAGS_CF    BIT(0)	/* carry */
#define RFLAGS_PF    BIT(2)	/* parity of the result's low byte */
#define RFLAGS_AF    BIT(4)	/* carry/borrow out of bit 3 */
#define RFLAGS_ZF    BIT(6)	/* zero */
#define RFLAGS_SF    BIT(7)	/* sign */
#define RFLAGS_DF    BIT(10)	/* direction: string ops count down */
#define RFLAGS_OF    BIT(11)	/* signed overflow */
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | \
		      RFLAGS_SF | RFLAGS_OF)

/* Opcode tables (emul/optab.c): SDM Vol. 2D, Tables. */
extern const struct emul_op emul_one_byte_opcodes[256];
extern const struct emul_op emul_two_byte_opcodes[256];
extern const struct emul_op emul_group_ops[EMUL_NR_OP_TYPES][8];
/* The SSE/MMX move 0F opcode selects with mandatory prefix mprefix (0, 66,
 * F2 or F3); an entry of type NONE when there is none. */
const struct emul_op *emul_sse_op(u8 opcode, u8 mprefix);

/* emul/describe.c */
extern const char *const emul_mnemonics[EMUL_NR_OP_TYPES];
/* 0, 1, 2, 3, 4 for operand sizes 1, 2, 4, 8, 16. */
unsigned emul_size_index(u8 size);

/* emul/alu.c: the arithmetic of the emulator, pure. Each takes the
 * operand size in bytes and replaces the flags it defines in *rflags. */
u64 emul_flags_zsp(u64 res, u8 size);
u64 emul_alu(u8 type, u8 size, u64 dst, u64 src, u64 *rflags);
u64 emul_unary(u8 type, u8 size, u64 val, u64 *rflags);	/* INC DEC NOT NEG */
/* MUL/IMUL1: *lo:*hi = a * b (unsigned or signed), CF/OF as the SDM says. */
void emul_mul(bool sign, u8 size, u64 a, u64 b, u64 *lo, u64 *hi, u64 *rflags);
/* IMUL 2/3-operand: the truncated product. */
u64 emul_imul_trunc(u8 size, u64 a, u64 b, u64 *rflags);
/* DIV/IDIV of hi:lo by d: false when the CPU raises #DE. */
bool emul_div(bool sign, u8 size, u64 lo, u64 hi, u64 d, u64 *quot, u64 *rem);
u64 emul_shxd(bool left, u8 size, u64 dst, u64 src, u8 count, u64 *rflags);
/* BSF/BSR: false when the source is zero (ZF set, no result). */
bool emul_bitscan(bool reverse, u8 size, u64 src, u64 *res, u64 *rflags);
/* Condition cc (the low nibble of Jcc/SETcc/CMOVcc) in rflags. */
bool emul_cond(u8 cc, u64 rflags);
u64 emul_sign_extend(u64 val, u8 size);


/* ---- emulator internals (emul/emulate.c), used by emul/exec_*.c ---------- */

/*
 * A memory reference of up to 16 bytes: where it is, and once resolved, the
 * guest-physical address and kind of each page it touches (two at most).
 * The reference of the exit's operand (exit = true) starts at ctx->gpa and
 * needs no translation unless it crosses into the next page.
 */
struct emul_ref {
	u64 gla;		/* linear address of the first byte */
	u8 seg;			/* enum emul_seg: #SS or #GP on a bad address */
	bool exit;		/* first byte at ctx->gpa */
	bool wrap32;		/* linear addresses wrap at 4 GiB (not 64-bit mode) */
	/* Resolved by emul_ref_resolve(): */
	u8 npages;
	u32 first_len;		/* bytes on the first page */
	u64 gpa[2];
	bool mmio[2];
};

int emul_raise(struct emul_ctx *ctx, u8 vector, bool has_error, u32 error_code);
int emul_fail(struct emul_ctx *ctx, int err, const char *what, u64 addr);
u64 emul_reg_read(const struct emul_ctx *ctx, u8 reg, bool high8, u8 size);
void emul_reg_write(struct emul_ctx *ctx, u8 reg, bool high8, u8 size, u64 val);
u64 emul_linear(const struct emul_insn *insn, const struct emul_ctx *ctx, u8 seg, u64 offset);
u64 emul_operand_gla(const struct emul_insn *insn, const struct emul_ctx *ctx,
		     const u64 *gprs);
/* A reference at seg:offset (translated), or the exit's operand. */
void emul_ref_at(struct emul_ref *r, const struct emul_insn *insn,
		 const struct emul_ctx *ctx, u8 seg, u64 offset);
void emul_ref_exit(struct emul_ref *r, const struct emul_insn *insn,
		   const struct emul_ctx *ctx);
/* Translates the pages of size bytes at r; 0, EMUL_EXCEPTION or -errno. */
int emul_ref_resolve(struct emul_ctx *ctx, struct emul_ref *r, u32 size, bool write);
/* Reads or writes size bytes at a resolved r, little-endian in buf. */
int emul_ref_rw(struct emul_ctx *ctx, const struct emul_ref *r, void *buf, u32 size,
		bool write);
/* Resolve-and-access of up to 8 bytes as a number. */
int emul_ref_read(struct emul_ctx *ctx, struct emul_ref *r, u64 *val, u32 size);
int emul_ref_write(struct emul_ctx *ctx, struct emul_ref *r, u64 val, u32 size);
/* The stack's address size: 8, 4 (SS.B) or 2. */
u8 emul_stack_size(const struct emul_insn *insn, const struct emul_ctx *ctx);
/* Whether gla is canonical (48 or, with ctx->la57, 57 bits) in 64-bit
 * mode; always outside it. */
bool emul_canonical(const struct emul_insn *insn, const struct emul_ctx *ctx, u64 gla);

/* The executors, by kind (emul/exec_single.c, emul/exec_string.c,
 * emul/exec_stack.c); each returns 0 on completion, or EMUL_EXCEPTION or
 * -errno (exec_string: insn->len, 0 when stopped early, or an error). */
int emul_exec_single(const struct emul_insn *insn, struct emul_ctx *ctx);
int emul_exec_string(const struct emul_insn *insn, struct emul_ctx *ctx);
int emul_exec_stack(const struct emul_insn *insn, struct emul_ctx *ctx);
/* The bit-offset displacement of BT/BTS/BTR/BTC with a register offset
 * (SDM "BT--Bit Test": the offset selects a word outside the operand). */
s64 emul_bt_disp(const struct emul_insn *insn, const struct emul_ctx *ctx);

#endif /* EMUL_EMUL_PRIV_H */
