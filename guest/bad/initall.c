/*
 * guest/bad/initall.c - a guest that tries to reset and restart every other
 * CPU: INIT, then two STARTUP IPIs, to all excluding self, the sequence an
 * OS uses to boot its APs (SDM Vol. 3A, "MP Initialization Example").
 * CONTRACTS.md section 2: such IPIs never reach a real CPU, so the
 * hypervisor's service cores keep running and so do we: we print
 * "initall: still alive" and exit 0.
 */
#include "lib/guest.h"

#define SIPI_VECTOR         0x08        /* start address 0x8000 */
#define SIPI_START          ((uintptr_t)SIPI_VECTOR << 12)

/* cli; hlt; jmp back to the hlt (16-bit code). Should a CPU of our own ever
 * start at the SIPI address, it parks there instead of running whatever
 * RAM holds. We no longer need the multiboot information, which might lie
 * there. */
static const u8 park_code[] = { 0xfa, 0xf4, 0xeb, 0xfd };

static void test_init_all_but_self(void)
{
	CHECK(apic_icr_send(0, APIC_ICR_ALL_BUT_SELF | APIC_ICR_LEVEL_ASSERT |
			       APIC_ICR_DM_INIT));
	/* INIT level de-assert, as the MP start-up sequence sends it. */
	CHECK(apic_icr_send(0, APIC_ICR_ALL_BUT_SELF | APIC_ICR_TRIGGER_LEVEL |
			       APIC_ICR_DM_INIT));
}

static void test_sipi_all_but_self(void)
{
	memcpy((void *)SIPI_START, park_code, sizeof(park_code));
	for (int i = 0; i < 2; i++)
		CHECK(apic_icr_send(0, APIC_ICR_ALL_BUT_SELF |
				       APIC_ICR_DM_STARTUP | SIPI_VECTOR));
}

static void test_still_alive(void)
{
	/* Our own APIC still answers after the IPIs went out. */
	apic_write(APIC_TPR, 0x10);
	CHECK_EQ(apic_read(APIC_TPR), 0x10);
	apic_write(APIC_TPR, 0);
	printf("initall: still alive\n");
}

static const struct guest_test tests[] = {
	{ "init_all_but_self", test_init_all_but_self, 0 },
	{ "sipi_all_but_self", test_sipi_all_but_self, 0 },
	{ "still_alive",       test_still_alive,       0 },
};

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	guest_run_tests(tests, ARRAY_SIZE(tests));
}
