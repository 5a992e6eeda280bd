/* Host tests for vmx/crcheck.c: each #GP rule of MOV to CR0, MOV to CR4 and
 * WRMSR IA32_EFER on its own, the writes a CPU accepts (and what they leave
 * in the register), and a randomized check that an accepted write never
 * produces a state VM entry would reject (SDM Vol. 3C, "Checks on Guest
 * Control Registers, Debug Registers, and MSRs"). */
#include "vmx/crcheck.c"
#include "tests/host/test.h"

/* The SDM's bits, written out here again. */
#define PE    (1ull << 0)
#define MP    (1ull << 1)
#define TS    (1ull << 3)
#define ET    (1ull << 4)
#define NE    (1ull << 5)
#define WP    (1ull << 16)
#define NW    (1ull << 29)
#define CD    (1ull << 30)
#define PG    (1ull << 31)
#define PAE   (1ull << 5)
#define PGE   (1ull << 7)
#define LA57  (1ull << 12)
#define VMXE  (1ull << 13)
#define PCIDE (1ull << 17)
#define OSXSAVE (1ull << 18)
#define SCE   (1ull << 0)
#define LME   (1ull << 8)
#define LMA   (1ull << 10)
#define NXE   (1ull << 11)

/* What a CPU with everything but VMX/SMX/CET/PKS offers. */
#define CR4_OK (0x1fffull | (1ull << 16) | PCIDE | OSXSAVE | (1ull << 20) | (1ull << 21) | \
		(1ull << 22))
#define EFER_OK (SCE | LME | LMA | NXE)

/* Flat 32-bit protected mode, paging off (the Multiboot state). */
static struct cr_state prot32(void)
{
	return (struct cr_state){ .cr0 = PE | ET | NE, .cr4 = 0, .efer = 0, .cs_l = false,
				  .cr4_allowed = CR4_OK, .efer_allowed = EFER_OK };
}

/* 64-bit mode with 4-level paging. */
static struct cr_state long64(void)
{
	return (struct cr_state){ .cr0 = PE | ET | NE | WP | PG, .cr3 = 0x1000, .cr4 = PAE,
				  .efer = LME | LMA | SCE, .cs_l = true,
				  .cr4_allowed = CR4_OK, .efer_allowed = EFER_OK };
}

TEST(cr0_rules)
{
	struct cr_state s = prot32();
	u64 out = 0;

	CHECK(!crc_cr0_write(&s, s.cr0 | (1ull << 32), &out));	/* bits 63:32 */
	CHECK(!crc_cr0_write(&s, (s.cr0 | PG) & ~PE, &out));	/* PG without PE */
	CHECK(!crc_cr0_write(&s, s.cr0 | NW, &out));		/* NW without CD */
	CHECK(crc_cr0_write(&s, s.cr0 | NW | CD, &out));
	CHECK_EQ(out, s.cr0 | NW | CD);
	/* Reserved bits 31:0 are dropped; ET reads 1. */
	CHECK(crc_cr0_write(&s, PE | (1ull << 6) | (1ull << 17), &out));
	CHECK_EQ(out, PE | ET);
	/* Real mode and back (unrestricted guest). */
	CHECK(crc_cr0_write(&s, ET, &out));
	CHECK(crc_cr0_write(&s, PE | PG, &out));		/* 32-bit paging */
	/* IA-32e activation: needs PAE, not from CS.L = 1. */
	s.efer = LME;
	CHECK(!crc_cr0_write(&s, s.cr0 | PG, &out));
	s.cr4 = PAE;
	CHECK(crc_cr0_write(&s, s.cr0 | PG, &out));
	s.cs_l = true;
	CHECK(!crc_cr0_write(&s, s.cr0 | PG, &out));
}

TEST(cr0_paging_off)
{
	struct cr_state s = long64();
	u64 out;

	/* In 64-bit mode: #GP. In compatibility mode: fine (leaving IA-32e
	 * mode), unless CR4.PCIDE = 1 (pcid.flat's VM-entry failure). */
	CHECK(!crc_cr0_write(&s, s.cr0 & ~PG, &out));
	s.cs_l = false;
	CHECK(crc_cr0_write(&s, s.cr0 & ~PG, &out));
	s.cr4 |= PCIDE;
	CHECK(!crc_cr0_write(&s, s.cr0 & ~PG, &out));
	CHECK(!crc_cr0_write(&s, s.cr0 & ~(PG | PE), &out));
	/* Other bits may change with PCIDE on. */
	CHECK(crc_cr0_write(&s, s.cr0 | TS | MP, &out));
}

TEST(cr4_rules)
{
	struct cr_state s = prot32();

	CHECK(!crc_cr4_write(&s, VMXE));			/* VMX not offered */
	CHECK(!crc_cr4_write(&s, 1ull << 14));			/* SMXE */
	CHECK(!crc_cr4_write(&s, 1ull << 15));			/* reserved */
	CHECK(!crc_cr4_write(&s, 1ull << 23));			/* CET */
	CHECK(!crc_cr4_write(&s, 1ull << 32));
	CHECK(crc_cr4_write(&s, PAE | PGE | OSXSAVE));
	CHECK(!crc_cr4_write(&s, PCIDE));			/* outside IA-32e mode */
	s.cr4_allowed &= ~OSXSAVE;
	CHECK(!crc_cr4_write(&s, OSXSAVE));			/* XSAVE not offered */

	s = long64();
	CHECK(crc_cr4_write(&s, PAE | PCIDE));
	s.cr3 = 0x1001;
	CHECK(!crc_cr4_write(&s, PAE | PCIDE));			/* CR3[11:0] != 0 */
	s.cr4 |= PCIDE;
	CHECK(crc_cr4_write(&s, PAE | PCIDE));			/* already set: fine */
	s = long64();
	CHECK(!crc_cr4_write(&s, 0));				/* PAE cleared */
	CHECK(!crc_cr4_write(&s, PAE | LA57));			/* LA57 changed */
	s.cr4 |= LA57;
	CHECK(crc_cr4_write(&s, PAE | LA57));
	CHECK(!crc_cr4_write(&s, PAE));
	/* Outside IA-32e mode LA57 may change. */
	s = prot32();
	CHECK(crc_cr4_write(&s, LA57));
}

TEST(efer_rules)
{
	struct cr_state s = prot32();
	u64 out = 0;

	CHECK(!crc_efer_write(&s, 1ull << 1, &out));		/* reserved */
	CHECK(!crc_efer_write(&s, 1ull << 32, &out));
	CHECK(crc_efer_write(&s, LME | SCE, &out));
	CHECK_EQ(out, LME | SCE);
	CHECK(crc_efer_write(&s, LME | LMA, &out));		/* LMA ignored */
	CHECK_EQ(out, LME);
	s.efer_allowed = SCE | LME | LMA;			/* no NX */
	CHECK(!crc_efer_write(&s, NXE, &out));
	s = long64();
	CHECK(!crc_efer_write(&s, s.efer & ~LME, &out));	/* LME with paging on */
	CHECK(crc_efer_write(&s, s.efer | NXE, &out));
	CHECK_EQ(out, LME | LMA | SCE | NXE);
	CHECK(crc_efer_write(&s, (s.efer | NXE) & ~LMA, &out));	/* LMA kept */
	CHECK_EQ(out & LMA, LMA);
}

/* SDM Vol. 3C, "Checks on Guest Control Registers...": the state after any
 * sequence of accepted writes, with LMA = LME && PG as vmx/msr.c keeps it,
 * passes the checks that involve only these registers. */
static u32 rng = 99;
static u64 rnd64(void)
{
	u64 x = 0;
	for (int i = 0; i < 4; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		x = (x << 16) ^ rng;
	}
	return x;
}

static bool entry_ok(const struct cr_state *s)
{
	bool ia32e = s->efer & LMA;
	if ((s->cr0 & PG) && !(s->cr0 & PE))
		return false;
	if ((s->cr0 & NW) && !(s->cr0 & CD))
		return false;
	if (ia32e && (!(s->cr0 & PG) || !(s->cr4 & PAE)))
		return false;
	if (!ia32e && (s->cr4 & PCIDE))
		return false;
	if ((s->cr0 & PG) && !!(s->efer & LMA) != !!(s->efer & LME))
		return false;
	if ((s->cr0 | s->cr4) >> 32 || (s->cr4 & ~CR4_OK))
		return false;
	return true;
}

TEST(random_writes_keep_the_guest_state_valid)
{
	static const u64 cr0_bits[] = { PE, MP, TS, NE, WP, NW, CD, PG, 1ull << 33, 1ull << 7 };
	static const u64 cr4_bits[] = { PAE, PGE, LA57, VMXE, PCIDE, OSXSAVE, 1ull << 15, 1ull << 40 };
	static const u64 efer_bits[] = { SCE, LME, LMA, NXE, 1ull << 2, 1ull << 40 };
	u32 accepted = 0;
	for (int run = 0; run < 200; run++) {
		struct cr_state s = (rnd64() & 1) ? prot32() : long64();
		for (int step = 0; step < 200; step++) {
			u64 r = rnd64(), out;
			s.cs_l = (s.efer & LMA) && ((r >> 40) & 1);	/* code may switch */
			s.cr3 = (r >> 41) & 1 ? 0x2000 : 0x2005;
			switch (r % 3) {
			case 0:
				if (crc_cr0_write(&s, s.cr0 ^ cr0_bits[(r >> 8) % ARRAY_SIZE(cr0_bits)], &out)) {
					s.cr0 = out;
					accepted++;
				}
				break;
			case 1: {
				u64 v = s.cr4 ^ cr4_bits[(r >> 8) % ARRAY_SIZE(cr4_bits)];
				if (crc_cr4_write(&s, v)) {
					s.cr4 = v;
					accepted++;
				}
				break;
			}
			default:
				if (crc_efer_write(&s, s.efer ^ efer_bits[(r >> 8) % ARRAY_SIZE(efer_bits)], &out)) {
					s.efer = out;
					accepted++;
				}
				break;
			}
			/* vcpu_update_long_mode */
			if ((s.efer & LME) && (s.cr0 & PG))
				s.efer |= LMA;
			else
				s.efer &= ~LMA;
			if (!entry_ok(&s)) {
				printf("  invalid: cr0 0x%llx cr4 0x%llx efer 0x%llx\n", s.cr0, s.cr4, s.efer);
				CHECK(entry_ok(&s));
				return;
			}
		}
	}
	CHECK(accepted > 10000);
}

int main(void)
{
	RUN(cr0_rules);
	RUN(cr0_paging_off);
	RUN(cr4_rules);
	RUN(efer_rules);
	RUN(random_writes_keep_the_guest_state_valid);
	return TEST_SUMMARY();
}
