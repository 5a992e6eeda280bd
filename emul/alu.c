/*
 * emul/alu.c - the arithmetic of the MMIO emulator: results and EFLAGS of
 * the ALU, unary, multiply, divide, double-shift, bit-scan and condition
 * evaluations, as the instruction pages of SDM Vol. 2A-2B define them
 * ("Flags Affected"), and SDM Vol. 1, "EFLAGS Register" and Appendix B
 * "EFLAGS Condition Codes". Pure: no memory, no registers.
 */
#include "emul/emul_priv.h"

/* AF is the carry out of bit 3 into bit 4: bit 4 of a ^ b ^ result. */
#define AF_BIT       0x10

/* SDM Vol. 1, Appendix B "EFLAGS Condition Codes": the conditions in pairs,
 * the odd one the negation of the even one. */
enum {
	CC_O, CC_NO, CC_B, CC_NB, CC_Z, CC_NZ, CC_BE, CC_NBE,
	CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_NL, CC_LE, CC_NLE,
};
#define CC_NEGATE    1u

u64 emul_sign_extend(u64 val, u8 size)
{
	unsigned shift = 64 - 8 * (unsigned)size;

	return size >= 8 ? val : (u64)((s64)(val << shift) >> shift);
}

/* ZF, SF and PF of a result of size bytes. */
u64 emul_flags_zsp(u64 res, u8 size)
{
	u64 f = 0;
	u8 p = (u8)res;

	if ((res & emul_size_mask(size)) == 0)
		f |= RFLAGS_ZF;
	if (res & BIT(8 * size - 1))
		f |= RFLAGS_SF;
	/* PF: set when the low byte has an even number of ones. */
	p ^= (u8)(p >> 4);
	p ^= (u8)(p >> 2);
	p ^= (u8)(p >> 1);
	if (!(p & 1))
		f |= RFLAGS_PF;
	return f;
}

/*
 * Computes dst OP src for a two-operand arithmetic or logic instruction of
 * size bytes and replaces the six arithmetic flags in *rflags. AND/OR/XOR/
 * TEST leave AF undefined: it is cleared here. Returns the result, masked.
 */
u64 emul_alu(u8 type, u8 size, u64 dst, u64 src, u64 *rflags)
{
	u64 mask = emul_size_mask(size), sign = BIT(8 * size - 1);
	u64 a = dst & mask, b = src & mask, carry = 0, res, f = 0;

	switch (type) {
	case EMUL_OP_ADC:
		carry = (*rflags & RFLAGS_CF) ? 1 : 0;
		/* fall through */
	case EMUL_OP_ADD:
	case EMUL_OP_XADD:
		res = (a + b + carry) & mask;
		/* Unsigned carry out: the sum wrapped below an addend. */
		if (res < a || (carry && res == a))
			f |= RFLAGS_CF;
		if ((a ^ res) & (b ^ res) & sign)
			f |= RFLAGS_OF;
		if ((a ^ b ^ res) & AF_BIT)
			f |= RFLAGS_AF;
		break;
	case EMUL_OP_SBB:
		carry = (*rflags & RFLAGS_CF) ? 1 : 0;
		/* fall through */
	case EMUL_OP_SUB:
	case EMUL_OP_CMP:
	case EMUL_OP_CMPXCHG:
	case EMUL_OP_CMPS:
	case EMUL_OP_SCAS:
		res = (a - b - carry) & mask;
		/* Borrow: a < b + carry, without overflowing b + carry. */
		if (a < b || (carry && a == b))
			f |= RFLAGS_CF;
		if ((a ^ b) & (a ^ res) & sign)
			f |= RFLAGS_OF;
		if ((a ^ b ^ res) & AF_BIT)
			f |= RFLAGS_AF;
		break;
	case EMUL_OP_AND:
	case EMUL_OP_TEST:
		res = a & b;
		break;
	case EMUL_OP_OR:
		res = a | b;
		break;
	case EMUL_OP_XOR:
		res = a ^ b;
		break;
	default:
		ASSERT(!"alu: not an arithmetic op");
		return 0;
	}
	*rflags = (*rflags & ~RFLAGS_ARITH) | f | emul_flags_zsp(res, size);
	return res;
}

/*
 * INC, DEC (CF unchanged; SDM "INC", "DEC"), NEG (CF = source != 0; "NEG"),
 * NOT (no flags; "NOT").
 */
u64 emul_unary(u8 type, u8 size, u64 val, u64 *rflags)
{
	u64 cf = *rflags & RFLAGS_CF, res;

	switch (type) {
	case EMUL_OP_INC:
		res = emul_alu(EMUL_OP_ADD, size, val, 1, rflags);
		*rflags = (*rflags & ~RFLAGS_CF) | cf;
		return res;
	case EMUL_OP_DEC:
		res = emul_alu(EMUL_OP_SUB, size, val, 1, rflags);
		*rflags = (*rflags & ~RFLAGS_CF) | cf;
		return res;
	case EMUL_OP_NEG:
		return emul_alu(EMUL_OP_SUB, size, 0, val, rflags);
	case EMUL_OP_NOT:
		return ~val & emul_size_mask(size);
	default:
		ASSERT(!"unary: not a unary op");
		return 0;
	}
}

/* The full 2*size-byte product of a and b (size 1..8), as lo:hi. The
 * multiplication is inline code; only division would need libgcc. */
static void mul_wide(bool sign, u8 size, u64 a, u64 b, u64 *lo, u64 *hi)
{
	u64 mask = emul_size_mask(size);
	unsigned bits = 8u * size;
	unsigned __int128 u;

	if (sign)
		u = (unsigned __int128)((__int128)(s64)emul_sign_extend(a & mask, size) *
					(__int128)(s64)emul_sign_extend(b & mask, size));
	else
		u = (unsigned __int128)(a & mask) * (b & mask);
	if (size == 8) {
		*lo = (u64)u;
		*hi = (u64)(u >> 64);
	} else {
		*lo = (u64)u & mask;
		*hi = (u64)(u >> bits) & mask;
	}
}

/* SF ZF PF from the low half, AF clear (undefined for MUL/IMUL), CF/OF. */
static void mul_flags(bool overflow, u8 size, u64 lo, u64 *rflags)
{
	u64 f = emul_flags_zsp(lo, size);

	if (overflow)
		f |= RFLAGS_CF | RFLAGS_OF;
	*rflags = (*rflags & ~RFLAGS_ARITH) | f;
}

/*
 * MUL: CF = OF = the upper half is not zero ("MUL"). IMUL: CF = OF = the
 * upper half is not the sign extension of the lower ("IMUL").
 */
void emul_mul(bool sign, u8 size, u64 a, u64 b, u64 *lo, u64 *hi, u64 *rflags)
{
	bool overflow;

	mul_wide(sign, size, a, b, lo, hi);
	if (sign)
		overflow = *hi != (emul_size_mask(size) & ((*lo & BIT(8 * size - 1)) ? ~0ull : 0));
	else
		overflow = *hi != 0;
	mul_flags(overflow, size, *lo, rflags);
}

u64 emul_imul_trunc(u8 size, u64 a, u64 b, u64 *rflags)
{
	u64 lo, hi;

	emul_mul(true, size, a, b, &lo, &hi, rflags);
	return lo;
}

/* hi:lo / d by shift and subtract (the kernel has no libgcc for 128-bit
 * division): false when the quotient needs more than 64 bits. */
static bool udiv128(u64 hi, u64 lo, u64 d, u64 *quot, u64 *rem)
{
	u64 q = 0, r = hi;

	if (hi >= d)
		return false;
	for (int i = 63; i >= 0; i--) {
		bool top = r >> 63;

		r = r << 1 | ((lo >> i) & 1);
		q <<= 1;
		if (top || r >= d) {
			r -= d;
			q |= 1;
		}
	}
	*quot = q;
	*rem = r;
	return true;
}

/*
 * DIV/IDIV ("DIV", "IDIV"): hi:lo / d, each size bytes. #DE (false) for a
 * zero divisor or a quotient that does not fit the operand size (for IDIV
 * the signed range; the remainder has the dividend's sign).
 */
bool emul_div(bool sign, u8 size, u64 lo, u64 hi, u64 d, u64 *quot, u64 *rem)
{
	u64 mask = emul_size_mask(size), sbit = BIT(8 * size - 1);
	unsigned bits = 8u * size;
	bool nneg = false, dneg = false;
	u64 nhi, nlo, q, r;

	lo &= mask;
	hi &= mask;
	d &= mask;
	if (d == 0)
		return false;
	if (sign) {
		nneg = hi & sbit;
		dneg = d & sbit;
		if (dneg)
			d = -d & mask;
		if (nneg) {	/* negate the 2*bits-wide hi:lo */
			lo = -lo & mask;
			hi = (~hi + (lo == 0)) & mask;
		}
	}
	/* As one 128-bit number. */
	if (size == 8) {
		nhi = hi;
		nlo = lo;
	} else {
		nhi = 0;
		nlo = hi << bits | lo;
	}
	if (!udiv128(nhi, nlo, d, &q, &r))
		return false;
	if (!sign) {
		if (q > mask)
			return false;
	} else {
		/* |q| fits: up to sbit - 1, or sbit when negative. */
		if (q > sbit || (q == sbit && nneg == dneg))
			return false;
		if (nneg != dneg)
			q = -q;
		if (nneg)
			r = -r;
	}
	*quot = q & mask;
	*rem = r & mask;
	return true;
}

/*
 * SHLD/SHRD ("SHLD", "SHRD"): the count is masked to 5 bits (6 with a
 * 64-bit operand); 0 changes nothing. CF is the last bit shifted out, SF ZF
 * PF from the result; OF (defined for a count of 1) is the sign change, and
 * is computed that way for every count; AF is cleared.
 */
u64 emul_shxd(bool left, u8 size, u64 dst, u64 src, u8 count, u64 *rflags)
{
	unsigned bits = 8u * size, n = count & (size == 8 ? 0x3f : 0x1f);
	u64 mask = emul_size_mask(size), res, cf, f;

	dst &= mask;
	src &= mask;
	if (n == 0)
		return dst;
	if (size == 2 && n > 16) {
		/* Undefined by the SDM: shift the 48-bit pattern dst:src:dst
		 * (SHLD) or dst:src:dst read from the right (SHRD). */
		u64 p = left ? dst << 32 | src << 16 | dst : dst | src << 16 | dst << 32;

		if (left) {
			res = (p << n >> 32) & mask;
			cf = (p >> (48 - n)) & 1;
		} else {
			res = (p >> n) & mask;
			cf = (p >> (n - 1)) & 1;
		}
	} else if (left) {
		res = ((dst << n) | (n == bits ? src : src >> (bits - n))) & mask;
		if (n == bits)
			res = src;
		cf = (dst >> (bits - n)) & 1;
	} else {
		res = ((n == bits ? 0 : dst >> n) | (src << (bits - n))) & mask;
		if (n == bits)
			res = src;
		cf = (dst >> (n - 1)) & 1;
	}
	f = emul_flags_zsp(res, size) | (cf ? RFLAGS_CF : 0);
	if ((res ^ dst) & BIT(bits - 1))
		f |= RFLAGS_OF;
	*rflags = (*rflags & ~RFLAGS_ARITH) | f;
	return res;
}

/* BSF/BSR ("BSF", "BSR"): ZF = source is zero; the other flags unchanged. */
bool emul_bitscan(bool reverse, u8 size, u64 src, u64 *res, u64 *rflags)
{
	src &= emul_size_mask(size);
	if (!src) {
		*rflags |= RFLAGS_ZF;
		return false;
	}
	*rflags &= ~RFLAGS_ZF;
	*res = reverse ? (u64)(63 - __builtin_clzll(src)) : (u64)__builtin_ctzll(src);
	return true;
}

bool emul_cond(u8 cc, u64 f)
{
	bool cf = f & RFLAGS_CF, zf = f & RFLAGS_ZF, sf = f & RFLAGS_SF;
	bool of = f & RFLAGS_OF, pf = f & RFLAGS_PF, r;

	switch (cc & ~CC_NEGATE & 0xf) {
	case CC_O:  r = of; break;
	case CC_B:  r = cf; break;
	case CC_Z:  r = zf; break;
	case CC_BE: r = cf || zf; break;
	case CC_S:  r = sf; break;
	case CC_P:  r = pf; break;
	case CC_L:  r = sf != of; break;
	default:    r = zf || sf != of; break;	/* CC_LE */
	}
	return (cc & CC_NEGATE) ? !r : r;
}
