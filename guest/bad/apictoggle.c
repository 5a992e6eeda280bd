/*
 * guest/bad/apictoggle.c - a guest that switches its local APIC off and on
 * through IA32_APIC_BASE 100 times, as some test kernels do, then checks the
 * APIC still works. The hypervisor must emulate IA32_APIC_BASE (Bochs, for
 * one, ignores a re-enable of its real APIC: PLATFORMS.md), and each
 * re-enable leaves the APIC in its power-up state (SDM Vol. 3A, "Enabling or
 * Disabling the Local APIC"; CONTRACTS.md section 2). QEMU TCG cannot
 * re-enable a disabled APIC, so the tests need doorbell.
 */
#include "lib/guest.h"

#define TOGGLES 100

static u64 apic_base;
static u32 apic_id, apic_version;

static void test_toggle(void)
{
	for (int i = 0; i < TOGGLES; i++) {
		u64 off, on;

		wrmsr(MSR_IA32_APIC_BASE, apic_base & ~APIC_BASE_ENABLE);
		off = rdmsr(MSR_IA32_APIC_BASE);
		wrmsr(MSR_IA32_APIC_BASE, apic_base);
		on = rdmsr(MSR_IA32_APIC_BASE);
		if (off != (apic_base & ~APIC_BASE_ENABLE) || on != apic_base) {
			guest_check_failed(__LINE__,
				"round %d: IA32_APIC_BASE 0x%llx off, 0x%llx on",
				i, (unsigned long long)off,
				(unsigned long long)on);
			return;
		}
	}
}

static void test_apic_works(void)
{
	CHECK_EQ(apic_read(APIC_ID), apic_id);
	CHECK_EQ(apic_read(APIC_VERSION), apic_version);
	/* Power-up state after the last re-enable. */
	CHECK_EQ(apic_read(APIC_SPIV), APIC_SPIV_RESET);
	CHECK_EQ(apic_read(APIC_TPR), 0);
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	CHECK_EQ(apic_read(APIC_SPIV), APIC_SPIV_ENABLE | 0xff);
	apic_write(APIC_TPR, 0x40);
	CHECK_EQ(apic_read(APIC_TPR), 0x40);
	apic_write(APIC_EOI, 0);
	apic_write(APIC_TPR, 0);
	CHECK(apic_icr_send(0, APIC_ICR_ALL_BUT_SELF | APIC_ICR_LEVEL_ASSERT |
			       APIC_ICR_DM_INIT));
}

static const struct guest_test tests[] = {
	{ "toggle_apic_base",  test_toggle,     GUEST_TEST_NEEDS_DOORBELL },
	{ "apic_still_works",  test_apic_works, GUEST_TEST_NEEDS_DOORBELL },
};

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	apic_base = rdmsr(MSR_IA32_APIC_BASE);
	apic_id = apic_read(APIC_ID);
	apic_version = apic_read(APIC_VERSION);
	printf("apictoggle: IA32_APIC_BASE 0x%llx, APIC ID 0x%x\n",
	       (unsigned long long)apic_base, apic_id);
	guest_run_tests(tests, ARRAY_SIZE(tests));
}
