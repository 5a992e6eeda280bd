/*
 * guest/hello.c - the smallest useful guest, for testing `tools/run --guest`:
 * prints "hello from guest", what the loader told it (command line, memory
 * sizes, modules), and exits with the code given on its command line as
 * `exit=N` (default 0).
 */
#include "lib/guest.h"

int guest_main(u32 magic, struct multiboot_info *mbi)
{
	u64 code = 0;

	printf("hello from guest\n");
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		printf("hello: EAX is 0x%x, not the multiboot magic 0x%x\n",
		       magic, MULTIBOOT_BOOTLOADER_MAGIC);
	printf("hello: cmdline \"%s\"\n", mb_cmdline(mbi));
	if (mbi->flags & MB_INFO_MEMORY)
		printf("hello: mem_lower %u KiB, mem_upper %u KiB\n",
		       mbi->mem_lower, mbi->mem_upper);
	else
		printf("hello: no memory information\n");

	printf("hello: %u modules\n",
	       (mbi->flags & MB_INFO_MODS) ? mbi->mods_count : 0);
	for (u32 i = 0; mb_module(mbi, i); i++) {
		const struct multiboot_module *m = mb_module(mbi, i);
		const char *s = m->string ? (const char *)(uintptr_t)m->string : "";

		printf("hello: module %u: 0x%x-0x%x \"%s\"\n", i, m->mod_start,
		       m->mod_end, s);
	}

	if (!mb_cmdline_value(mbi, "exit", &code))
		code = 0;       /* no (valid) exit=N word: success */
	printf("hello: exiting with %u\n", (u32)code);
	return (int)code;
}
