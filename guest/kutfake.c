/*
 * guest/kutfake.c - a stand-in for a kvm-unit-tests test, for the runner test
 * of tools/kut (tests/runner/test_kut.sh), which cannot use kvm-unit-tests
 * itself (not a Debian package). It behaves as a kvm-unit-tests .flat does
 * at its end: its command line is "PROGRAM ARGS" (the program name first,
 * as QEMU's -append and tools/kut pass it), it prints a kvm-unit-tests
 * "SUMMARY: ..." line and exits through port 0xf4 with what
 * report_summary() returns: 0 all passed, 1 a failure, 38 (77 >> 1) all
 * skipped. ARGS:
 *   exit=N   the verdict (default 0)
 *   mem=M    also check that the guest has M MiB of RAM (mem_upper is the
 *            RAM above 1 MiB in KiB); a mismatch is an unexpected failure
 *   hang     never finish (exits to the hypervisor, so only the run's time
 *            limit ends it)
 * It prints "kutfake: program NAME" and "kutfake: mem N MiB" first.
 */
#include "lib/guest.h"

#define KUT_ALL_SKIPPED  (77 >> 1)	/* kvm-unit-tests' report_summary() */

/* True when the command line has the word w among its arguments. */
static bool has_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	while (*s) {
		while (*s == ' ')
			s++;
		const char *e = s;
		while (*e && *e != ' ')
			e++;
		if ((size_t)(e - s) == n && memcmp(s, w, n) == 0)
			return true;
		s = e;
	}
	return false;
}

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	const char *cmd = mb_cmdline(mbi);
	u64 code = 0, mem = 0;
	u32 have = (mbi->flags & MB_INFO_MEMORY) ? mbi->mem_upper / 1024 + 1 : 0;
	int failures = 0;
	char prog[64];
	size_t n = 0;

	(void)magic;
	while (cmd[n] && cmd[n] != ' ' && n < sizeof(prog) - 1) {
		prog[n] = cmd[n];
		n++;
	}
	prog[n] = 0;
	printf("kutfake: program %s\n", prog);
	printf("kutfake: mem %u MiB\n", have);
	if (has_word(cmd + n, "hang")) {
		printf("kutfake: hanging\n");
		for (;;)
			(void)inb(0xe0);	/* an exit each time: no guest_timeout */
	}
	if (mb_cmdline_value(mbi, "mem", &mem) && mem != have) {
		printf("FAIL: mem %u MiB, expected %u\n", have, (u32)mem);
		failures++;
	}
	if (!mb_cmdline_value(mbi, "exit", &code))
		code = 0;
	if (code == KUT_ALL_SKIPPED) {
		printf("SUMMARY: 1 tests, 1 skipped\n");
		return (int)code;
	}
	if (code)
		failures++;
	if (failures) {
		printf("SUMMARY: 2 tests, %d unexpected failures\n", failures);
		return 1;
	}
	printf("SUMMARY: 2 tests\n");
	return 0;
}
