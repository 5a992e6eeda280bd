/* Host tests for boot/cmdline.c: defaults, every key, every warning. */
#include "lib/fmt.c"
#include "boot/cmdline.c"
#include "tests/host/test.h"

/* Collects the warnings of one parse. */
struct warnings {
	int count;
	char msg[8][CMDLINE_MSG_SIZE];
};

static void collect(void *ctx, const char *msg)
{
	struct warnings *w = ctx;
	if (w->count < 8)
		snprintf(w->msg[w->count], sizeof(w->msg[0]), "%s", msg);
	w->count++;
}

static struct boot_config cfg;
static struct warnings W;

/* Parses s over the defaults; returns cmdline_parse's result. */
static int run(const char *s)
{
	cmdline_defaults(&cfg);
	memset(&W, 0, sizeof(W));
	return cmdline_parse(s, &cfg, collect, &W);
}

/* True if cfg holds exactly the defaults. */
static bool is_default(const struct boot_config *c)
{
	struct boot_config d;
	cmdline_defaults(&d);
	return memcmp(c, &d, sizeof(d)) == 0;
}

TEST(test_defaults)
{
	memset(&cfg, 0xa5, sizeof(cfg));
	cmdline_defaults(&cfg);
	CHECK_EQ(cfg.vcpus, 1);
	CHECK_EQ(cfg.notify, NOTIFY_IPI);
	CHECK_EQ(cfg.trace, false);
	CHECK_EQ(cfg.guest_mem_mib, 64);
	CHECK_EQ(cfg.doorbell_window_base, 0xd0000000ull);
	CHECK_EQ(cfg.doorbell_window_size, 0x10000000ull);
	CHECK_EQ(cfg.guest_timeout_ms, 10000);
	CHECK_EQ(cfg.lookup, LOOKUP_BINARY);
	CHECK_EQ(cfg.ioeventfd_count, 0);
	CHECK_EQ(cfg.ioeventfd[15][63], 0);
}

TEST(test_extra_apic)
{
	CHECK_EQ(run(""), 0);
	CHECK_EQ(cfg.extra_apic, CMDLINE_NO_APIC);
	CHECK_EQ(run("extra_apic=254"), 0);
	CHECK_EQ(cfg.extra_apic, 254);
	CHECK_EQ(run("extra_apic=0xffffffff"), 1);	/* the "none" value itself */
	CHECK_EQ(cfg.extra_apic, CMDLINE_NO_APIC);
}

TEST(test_platform)
{
	CHECK_EQ(run(""), 0);
	CHECK_STR(cfg.platform, "hardware");
	CHECK_EQ(run("platform=bochs"), 0);
	CHECK_STR(cfg.platform, "bochs");
	CHECK_EQ(W.count, 0);
	/* A name longer than the field is cut, never overflows. */
	CHECK_EQ(run("platform=averyveryverylongplatformname"), 0);
	CHECK_EQ(strlen(cfg.platform), sizeof(cfg.platform) - 1);
}

TEST(test_empty_and_spaces)
{
	CHECK_EQ(run(""), 0);
	CHECK(is_default(&cfg));
	CHECK_EQ(run("     "), 0);
	CHECK(is_default(&cfg));
	CHECK_EQ(cmdline_parse(NULL, &cfg, collect, &W), 0);
	CHECK(is_default(&cfg));
	CHECK_EQ(W.count, 0);

	CHECK_EQ(run("   vcpus=3    trace=1  \t notify=poll   "), 0);
	CHECK_EQ(cfg.vcpus, 3);
	CHECK_EQ(cfg.trace, true);
	CHECK_EQ(cfg.notify, NOTIFY_POLL);
	CHECK_EQ(W.count, 0);
}

/* fastmmio_len: decode by default, the three modes, a bad value kept out. */
TEST(test_fastmmio_len)
{
	CHECK_EQ(run(""), 0);
	CHECK_EQ(cfg.fastmmio_len, FASTMMIO_LEN_DECODE);
	CHECK_EQ(run("fastmmio_len=vmcs"), 0);
	CHECK_EQ(cfg.fastmmio_len, FASTMMIO_LEN_VMCS);
	CHECK_EQ(run("fastmmio_len=check"), 0);
	CHECK_EQ(cfg.fastmmio_len, FASTMMIO_LEN_CHECK);
	CHECK(run("fastmmio_len=check fastmmio_len=guess") != 0);
	CHECK_EQ(cfg.fastmmio_len, FASTMMIO_LEN_CHECK);
	CHECK_STR(W.msg[0], "cmdline: fastmmio_len=guess is not decode, vmcs or check, keeping check");
}

TEST(test_every_key)
{
	CHECK_EQ(run("vcpus=15 notify=poll trace=1 guest_mem=4064 "
		     "doorbell_window=0x100000000:0x200000 guest_timeout=3600000 "
		     "lookup=linear ioeventfd=mmio,0xd0000000,4,7 ioeventfd=pio,0x510,2,8"),
		 0);
	CHECK_EQ(W.count, 0);
	CHECK_EQ(cfg.vcpus, 15);
	CHECK_EQ(cfg.notify, NOTIFY_POLL);
	CHECK_EQ(cfg.trace, true);
	CHECK_EQ(cfg.guest_mem_mib, 4064);
	CHECK_EQ(cfg.doorbell_window_base, 0x100000000ull);
	CHECK_EQ(cfg.doorbell_window_size, 0x200000);
	CHECK_EQ(cfg.guest_timeout_ms, 3600000);
	CHECK_EQ(cfg.lookup, LOOKUP_LINEAR);
	CHECK_EQ(cfg.ioeventfd_count, 2);
	CHECK_STR(cfg.ioeventfd[0], "mmio,0xd0000000,4,7");
	CHECK_STR(cfg.ioeventfd[1], "pio,0x510,2,8");

	/* And back to the other values, with the lower bounds. */
	CHECK_EQ(run("vcpus=1 notify=ipi trace=0 guest_mem=2 guest_timeout=0 "
		     "lookup=binary doorbell_window=0x200000:4096"), 0);
	CHECK_EQ(cfg.vcpus, 1);
	CHECK_EQ(cfg.notify, NOTIFY_IPI);
	CHECK_EQ(cfg.trace, false);
	CHECK_EQ(cfg.guest_mem_mib, 2);
	CHECK_EQ(cfg.guest_timeout_ms, 0);
	CHECK_EQ(cfg.lookup, LOOKUP_BINARY);
	CHECK_EQ(cfg.doorbell_window_base, 0x200000);
	CHECK_EQ(cfg.doorbell_window_size, 0x1000);

	/* Hex works wherever a number is read. */
	CHECK_EQ(run("vcpus=0xa guest_mem=0x100 guest_timeout=0x10"), 0);
	CHECK_EQ(cfg.vcpus, 10);
	CHECK_EQ(cfg.guest_mem_mib, 256);
	CHECK_EQ(cfg.guest_timeout_ms, 16);
}

TEST(test_last_one_wins)
{
	CHECK_EQ(run("vcpus=2 vcpus=4 notify=poll notify=ipi"), 0);
	CHECK_EQ(cfg.vcpus, 4);
	CHECK_EQ(cfg.notify, NOTIFY_IPI);
	/* A bad later word keeps the earlier good one, and says so. */
	CHECK_EQ(run("vcpus=4 vcpus=99"), 1);
	CHECK_EQ(cfg.vcpus, 4);
	CHECK_STR(W.msg[0], "cmdline: vcpus=99 out of range 1..15, keeping 4");
}

TEST(test_not_key_value)
{
	CHECK_EQ(run("abc"), 1);
	CHECK_STR(W.msg[0], "cmdline: word 'abc' is not key=value, ignored");
	CHECK_EQ(run("=5 vcpus=2"), 1);
	CHECK_STR(W.msg[0], "cmdline: word '=5' is not key=value, ignored");
	CHECK_EQ(cfg.vcpus, 2);
	CHECK_EQ(run("foo=bar"), 1);
	CHECK_STR(W.msg[0], "cmdline: unknown key 'foo', ignored");
	CHECK(is_default(&cfg));
	/* Keys are case-sensitive and whole. */
	CHECK_EQ(run("VCPUS=2 vcpu=2 vcpus2=2"), 3);
	CHECK_STR(W.msg[0], "cmdline: unknown key 'VCPUS', ignored");
	CHECK_STR(W.msg[1], "cmdline: unknown key 'vcpu', ignored");
	CHECK_STR(W.msg[2], "cmdline: unknown key 'vcpus2', ignored");
	CHECK(is_default(&cfg));
}

TEST(test_long_word_is_cut_in_message)
{
	char s[200];
	memset(s, 'k', 120);
	strcpy(s + 120, "=1");
	CHECK_EQ(run(s), 1);
	char want[128] = "cmdline: unknown key '";
	memset(want + strlen(want), 'k', 48);
	strcpy(want + 22 + 48, "...', ignored");
	CHECK_STR(W.msg[0], want);
}

TEST(test_vcpus_errors)
{
	CHECK_EQ(run("vcpus=0"), 1);
	CHECK_STR(W.msg[0], "cmdline: vcpus=0 out of range 1..15, keeping 1");
	CHECK_EQ(run("vcpus=16"), 1);
	CHECK_STR(W.msg[0], "cmdline: vcpus=16 out of range 1..15, keeping 1");
	CHECK_EQ(run("vcpus=99999999999999999999999"), 1);
	CHECK_STR(W.msg[0], "cmdline: vcpus=99999999999999999999999 out of range 1..15, keeping 1");
	CHECK_EQ(run("vcpus=two"), 1);
	CHECK_STR(W.msg[0], "cmdline: vcpus=two is not a number, keeping 1");
	CHECK_EQ(run("vcpus="), 1);
	CHECK_STR(W.msg[0], "cmdline: vcpus= is not a number, keeping 1");
	CHECK_EQ(run("vcpus=-1"), 1);
	CHECK_STR(W.msg[0], "cmdline: vcpus=-1 is not a number, keeping 1");
	CHECK_EQ(cfg.vcpus, 1);
}

TEST(test_enum_errors)
{
	CHECK_EQ(run("notify=IPI"), 1);
	CHECK_STR(W.msg[0], "cmdline: notify=IPI is not ipi or poll, keeping ipi");
	CHECK_EQ(run("notify=poll notify=both"), 1);
	CHECK_STR(W.msg[0], "cmdline: notify=both is not ipi or poll, keeping poll");
	CHECK_EQ(cfg.notify, NOTIFY_POLL);
	CHECK_EQ(run("trace=yes"), 1);
	CHECK_STR(W.msg[0], "cmdline: trace=yes is not 0 or 1, keeping 0");
	CHECK_EQ(run("trace=1 trace=2 trace="), 2);
	CHECK_STR(W.msg[0], "cmdline: trace=2 is not 0 or 1, keeping 1");
	CHECK_STR(W.msg[1], "cmdline: trace= is not 0 or 1, keeping 1");
	CHECK_EQ(cfg.trace, true);
	CHECK_EQ(run("lookup=hash"), 1);
	CHECK_STR(W.msg[0], "cmdline: lookup=hash is not binary or linear, keeping binary");
	CHECK_EQ(run("lookup=linear lookup=binaryx"), 1);
	CHECK_STR(W.msg[0], "cmdline: lookup=binaryx is not binary or linear, keeping linear");
	CHECK_EQ(cfg.lookup, LOOKUP_LINEAR);
}

TEST(test_emul_fail)
{
	CHECK_EQ(run(""), 0);
	CHECK_EQ(cfg.emul_fail, EMUL_FAIL_UD);
	CHECK_EQ(run("emul_fail=stop"), 0);
	CHECK_EQ(cfg.emul_fail, EMUL_FAIL_STOP);
	CHECK_EQ(run("emul_fail=stop emul_fail=ud"), 0);
	CHECK_EQ(cfg.emul_fail, EMUL_FAIL_UD);
	CHECK_EQ(run("emul_fail=stop emul_fail=halt"), 1);
	CHECK_STR(W.msg[0], "cmdline: emul_fail=halt is not ud or stop, keeping stop");
	CHECK_EQ(cfg.emul_fail, EMUL_FAIL_STOP);
	CHECK_EQ(run("emul_fail="), 1);
	CHECK_STR(W.msg[0], "cmdline: emul_fail= is not ud or stop, keeping ud");
	CHECK_EQ(cfg.emul_fail, EMUL_FAIL_UD);
}

TEST(test_number_ranges)
{
	CHECK_EQ(run("guest_mem=1"), 1);
	CHECK_STR(W.msg[0], "cmdline: guest_mem=1 out of range 2..4096, keeping 64");
	CHECK_EQ(run("guest_mem=4097"), 1);
	CHECK_STR(W.msg[0], "cmdline: guest_mem=4097 out of range 2..4096, keeping 64");
	CHECK_EQ(run("guest_mem=12M"), 1);
	CHECK_STR(W.msg[0], "cmdline: guest_mem=12M is not a number, keeping 64");
	CHECK_EQ(cfg.guest_mem_mib, 64);
	CHECK_EQ(run("guest_timeout=3600001"), 1);
	CHECK_STR(W.msg[0], "cmdline: guest_timeout=3600001 out of range 0..3600000, keeping 10000");
	CHECK_EQ(run("guest_timeout=5000 guest_timeout=1.5"), 1);
	CHECK_STR(W.msg[0], "cmdline: guest_timeout=1.5 is not a number, keeping 5000");
	CHECK_EQ(cfg.guest_timeout_ms, 5000);
}

TEST(test_doorbell_window_errors)
{
	static const struct { const char *word, *why; } bad[] = {
		{ "doorbell_window=0xd0000000", "is not BASE:SIZE" },
		{ "doorbell_window=", "is not BASE:SIZE" },
		{ "doorbell_window=x:0x1000", ": BASE or SIZE is not a number" },
		{ "doorbell_window=0x1000:", ": BASE or SIZE is not a number" },
		{ "doorbell_window=0x1000:0x1000:0x1000", ": BASE or SIZE is not a number" },
		{ "doorbell_window=0x1000:0", ": SIZE must be a non-zero multiple of 0x1000" },
		{ "doorbell_window=0x1000:0x1001", ": SIZE must be a non-zero multiple of 0x1000" },
		{ "doorbell_window=0x1800:0x1000", ": BASE is not page-aligned" },
		{ "doorbell_window=0xfffffffff000:0x2000", ": window ends beyond 2^48" },
		{ "doorbell_window=0xfffffffffffff000:0x2000", ": window ends beyond 2^48" },
		{ "doorbell_window=0:0x1000000000000000", ": window ends beyond 2^48" },
	};
	char want[CMDLINE_MSG_SIZE];
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(run(bad[i].word), 1);
		snprintf(want, sizeof(want),
			 "cmdline: %s%s%s, keeping 0xd0000000:0x10000000",
			 bad[i].word, bad[i].why[0] == ':' ? "" : " ", bad[i].why);
		CHECK_STR(W.msg[0], want);
		CHECK(is_default(&cfg));
	}
	/* The window may end exactly at 2^48. */
	CHECK_EQ(run("doorbell_window=0xffffff000000:0x1000000"), 0);
	CHECK_EQ(cfg.doorbell_window_base, 0xffffff000000ull);
	CHECK_EQ(cfg.doorbell_window_size, 0x1000000);
	/* "keeping" names the current window, not the default. */
	CHECK_EQ(run("doorbell_window=0x10000:0x1000 doorbell_window=1:2"), 1);
	CHECK_STR(W.msg[0], "cmdline: doorbell_window=1:2: SIZE must be a non-zero multiple of 0x1000, keeping 0x10000:0x1000");
	CHECK_EQ(cfg.doorbell_window_base, 0x10000);
}

/* A window over an emulated device would hold doorbells that never fire: the
 * device takes the write first (issue 10). */
TEST(test_doorbell_window_over_a_device)
{
	CHECK_EQ(run("doorbell_window=0xfee00000:0x1000"), 1);
	CHECK_STR(W.msg[0], "cmdline: doorbell_window=0xfee00000:0x1000: window overlaps "
		  "the xAPIC page at 0xfee00000, keeping 0xd0000000:0x10000000");
	CHECK(is_default(&cfg));
	CHECK_EQ(run("doorbell_window=0xf0000000:0x10000000"), 1);
	CHECK_STR(W.msg[0], "cmdline: doorbell_window=0xf0000000:0x10000000: window overlaps "
		  "the synchronous device at 0xfe000000, keeping 0xd0000000:0x10000000");
	CHECK_EQ(run("doorbell_window=0xff00f000:0x1000"), 1);
	CHECK_STR(W.msg[0], "cmdline: doorbell_window=0xff00f000:0x1000: window overlaps "
		  "pc-testdev IORAM at 0xff000000, keeping 0xd0000000:0x10000000");
	CHECK_EQ(run("doorbell_window=0xfdfff000:0x2000"), 1);	/* last page before + first */
	CHECK_EQ(run("doorbell_window=0xfedff000:0x2000"), 1);	/* up to the xAPIC page */
	CHECK_EQ(run("doorbell_window=0xfe001000:0x1000"), 0);	/* just after a device */
	CHECK_EQ(run("doorbell_window=0xfdfff000:0x1000"), 0);	/* just before */
	CHECK_EQ(run("doorbell_window=0xff010000:0x1000"), 0);	/* just after IORAM */
	CHECK_EQ(cfg.doorbell_window_base, 0xff010000ull);
}

/* guest_mem= is accepted only up to what fits below the window and devices,
 * wherever doorbell_window= stands on the line. */
TEST(test_guest_mem_fits)
{
	CHECK_EQ(run("guest_mem=3328"), 0);		/* ends at 0xd0000000 */
	CHECK_EQ(cfg.guest_mem_mib, 3328);
	CHECK_EQ(run("guest_mem=3329"), 1);
	CHECK_STR(W.msg[0], "cmdline: guest_mem=3329 does not fit: guest RAM must end below "
		  "the doorbell window at 0xd0000000, so at most 3328 MiB; keeping 64");
	CHECK_EQ(cfg.guest_mem_mib, 64);
	CHECK_EQ(run("guest_mem=4096 doorbell_window=0x100000000:0x1000"), 1);
	CHECK_STR(W.msg[0], "cmdline: guest_mem=4096 does not fit: guest RAM must end below "
		  "the synchronous device at 0xfe000000, so at most 4064 MiB; keeping 64");
	CHECK_EQ(run("guest_mem=4000 doorbell_window=0x100000000:0x1000"), 0);
	CHECK_EQ(cfg.guest_mem_mib, 4000);
	CHECK_EQ(run("doorbell_window=0x1000000:0x1000 guest_mem=32"), 1);
	CHECK_STR(W.msg[0], "cmdline: guest_mem=32 does not fit: guest RAM must end below "
		  "the doorbell window at 0x1000000, so at most 16 MiB; keeping 64");
	CHECK_EQ(run("guest_mem=16 doorbell_window=0x1000000:0x1000"), 0);
}

static const char *unq(const char *s)
{
	static char buf[256];
	size_t n = cmdline_unquote_loader(buf, sizeof(buf), s);
	CHECK_EQ(n, strlen(buf));
	return buf;
}

/* What GRUB 2.06 makes of module2 arguments, and back (grub-core/lib/cmdline.c). */
TEST(test_unquote_loader)
{
	CHECK_STR(unq(""), "");
	CHECK_STR(unq("exit=7 hello-arg"), "exit=7 hello-arg");
	CHECK_STR(unq("\"a  b \""), "a  b ");			/* one argument with spaces */
	CHECK_STR(unq("x\\\"y"), "x\"y");				/* x"y */
	CHECK_STR(unq("a\\\\b"), "a\\b");				/* a\b */
	CHECK_STR(unq("\\'q\\'"), "'q'");
	CHECK_STR(unq("\"\\\"; echo INJECTED; \\\"\""), "\"; echo INJECTED; \"");
	CHECK_STR(unq("$HOME;x"), "$HOME;x");
	CHECK_STR(unq("\\n\\"), "\\n\\");			/* not GRUB's: kept */
	char small[4];
	CHECK_EQ(cmdline_unquote_loader(small, sizeof(small), "\"abcdef\""), 6);
	CHECK_STR(small, "abc");
	CHECK_EQ(cmdline_unquote_loader(NULL, 0, "ab"), 2);
}

TEST(test_ioeventfd)
{
	char s[2048] = "";
	for (int i = 0; i < CMDLINE_MAX_IOEVENTFD + 2; i++)
		sprintf(s + strlen(s), "ioeventfd=spec%d ", i);
	CHECK_EQ(run(s), 2);
	CHECK_EQ(cfg.ioeventfd_count, CMDLINE_MAX_IOEVENTFD);
	CHECK_STR(cfg.ioeventfd[0], "spec0");
	CHECK_STR(cfg.ioeventfd[15], "spec15");
	CHECK_STR(W.msg[0], "cmdline: ioeventfd=spec16 ignored, already 16 ioeventfd= words (the most kept)");
	CHECK_STR(W.msg[1], "cmdline: ioeventfd=spec17 ignored, already 16 ioeventfd= words (the most kept)");

	/* 63 characters fit with their NUL; 64 do not. */
	char spec63[64], word[128];
	memset(spec63, 'a', 63);
	spec63[63] = '\0';
	snprintf(word, sizeof(word), "ioeventfd=%s", spec63);
	CHECK_EQ(run(word), 0);
	CHECK_EQ(cfg.ioeventfd_count, 1);
	CHECK_STR(cfg.ioeventfd[0], spec63);
	snprintf(word, sizeof(word), "ioeventfd=%sb ioeventfd=", spec63);
	CHECK_EQ(run(word), 2);
	CHECK_EQ(cfg.ioeventfd_count, 0);
	/* The quoted word is cut to 48 characters: "ioeventfd=" and 38 'a'. */
	char want[CMDLINE_MSG_SIZE];
	snprintf(want, sizeof(want),
		 "cmdline: ioeventfd=%.38s...: SPEC longer than 63 characters, ignored",
		 spec63);
	CHECK_STR(W.msg[0], want);
	CHECK_STR(W.msg[1], "cmdline: ioeventfd= has an empty SPEC, ignored");
}

TEST(test_warn_null_and_count)
{
	cmdline_defaults(&cfg);
	CHECK_EQ(cmdline_parse("a b=1 vcpus=0 vcpus=2 c", &cfg, NULL, NULL), 4);
	CHECK_EQ(cfg.vcpus, 2);
}

/* latency=0|1: service-core latency sampling, off by default. */
TEST(test_latency)
{
	cmdline_defaults(&cfg);
	CHECK_EQ(cfg.latency, false);
	CHECK_EQ(run("latency=1"), 0);
	CHECK_EQ(cfg.latency, true);
	CHECK_EQ(run("latency=1 latency=0"), 0);
	CHECK_EQ(cfg.latency, false);
	CHECK(is_default(&cfg));
	CHECK_EQ(run("latency=1 latency=on"), 1);
	CHECK_STR(W.msg[0], "cmdline: latency=on is not 0 or 1, keeping 1");
	CHECK_EQ(cfg.latency, true);
	CHECK_EQ(run("latency="), 1);
	CHECK_STR(W.msg[0], "cmdline: latency= is not 0 or 1, keeping 0");
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_platform);
	RUN(test_extra_apic);
	RUN(test_empty_and_spaces);
	RUN(test_every_key);
	RUN(test_fastmmio_len);
	RUN(test_last_one_wins);
	RUN(test_not_key_value);
	RUN(test_long_word_is_cut_in_message);
	RUN(test_vcpus_errors);
	RUN(test_enum_errors);
	RUN(test_emul_fail);
	RUN(test_number_ranges);
	RUN(test_doorbell_window_errors);
	RUN(test_ioeventfd);
	RUN(test_warn_null_and_count);
	RUN(test_doorbell_window_over_a_device);
	RUN(test_guest_mem_fits);
	RUN(test_unquote_loader);
	RUN(test_latency);
	return TEST_SUMMARY();
}
