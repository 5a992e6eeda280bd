/*
 * boot/cmdline.c - the hypervisor's command line: space-separated key=value
 * words (CONTRACTS.md 1 and 2 name the user-visible keys) parsed into a
 * struct boot_config.
 *
 * Pure: no hardware, unit-tested on the host (tests/host/test_cmdline.c).
 * A bad word never stops the boot: it is reported through the caller's warn
 * callback, naming the word and what is kept instead, and leaves the field it
 * aimed at unchanged. When a key appears twice the last valid one wins; every
 * valid ioeventfd= word is kept, in order.
 */
#include "boot/boot.h"

#define CMDLINE_VCPUS_MIN          1
#define CMDLINE_VCPUS_MAX          (MAX_CPUS - 1)	/* one core serves */
#define CMDLINE_GUEST_MEM_MIN      2			/* MiB */
#define CMDLINE_GUEST_MEM_MAX      4096			/* MiB */
#define CMDLINE_TIMEOUT_MAX_MS     3600000ull		/* one hour */
/* Doorbell window addresses are guest-physical: 4-level EPT reaches 2^48. */
#define CMDLINE_WINDOW_LIMIT       BIT(48)

#define CMDLINE_DEFAULT_VCPUS      1
#define CMDLINE_DEFAULT_GUEST_MEM  64
#define CMDLINE_DEFAULT_WIN_BASE   0xd0000000ull
#define CMDLINE_DEFAULT_WIN_SIZE   (256 * MiB)

/* The emulated devices' guest-physical ranges (CONTRACTS.md 2; vmx/ maps
 * them). The device takes an access first, so a doorbell window over one of
 * them would hold doorbells that never fire, and guest RAM must end below
 * the lowest. */
struct cmdline_device {
	u64 base, size;
	const char *name;
};
static const struct cmdline_device cmdline_devices[] = {
	{ 0xfe000000ull, 4 * KiB,  "the synchronous device" },
	{ 0xfe100000ull, 4 * KiB,  "the poll page" },
	{ 0xfee00000ull, 4 * KiB,  "the xAPIC page" },
	{ 0xff000000ull, 64 * KiB, "pc-testdev IORAM" },
};

#define CMDLINE_MSG_SIZE   192
/* A word is quoted in a message up to this many characters, then "...". */
#define CMDLINE_QUOTE_MAX  48

void cmdline_defaults(struct boot_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vcpus = CMDLINE_DEFAULT_VCPUS;
	cfg->notify = NOTIFY_IPI;
	cfg->trace = false;
	cfg->latency = false;
	cfg->guest_mem_mib = CMDLINE_DEFAULT_GUEST_MEM;
	cfg->doorbell_window_base = CMDLINE_DEFAULT_WIN_BASE;
	cfg->doorbell_window_size = CMDLINE_DEFAULT_WIN_SIZE;
	cfg->guest_timeout_ms = CMDLINE_GUEST_TIMEOUT_DEFAULT_MS;
	cfg->lookup = LOOKUP_BINARY;
	memcpy(cfg->platform, "hardware", sizeof("hardware"));
	cfg->extra_apic = CMDLINE_NO_APIC;
	cfg->emul_fail = EMUL_FAIL_UD;
	cfg->ioeventfd_count = 0;
}

/* One word of the command line, split at its first '='. */
struct cmdline_word {
	const char *word;
	size_t len;
	const char *key;	/* == word */
	size_t key_len;
	const char *val;	/* after the '=' */
	size_t val_len;
	char quoted[CMDLINE_QUOTE_MAX + 4];	/* the word, NUL-terminated */
};

/* Copies [s, s+len) into out (CMDLINE_QUOTE_MAX + 4 bytes), cut to
 * CMDLINE_QUOTE_MAX characters plus "..." if longer: the formatter has no
 * precision, and a message must stay readable for an absurd word. */
static void cmdline_quote(char *out, const char *s, size_t len)
{
	size_t n = MIN(len, (size_t)CMDLINE_QUOTE_MAX);
	memcpy(out, s, n);
	if (n < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* lib/ has no memchr: the first c in [s, s+len), or NULL. */
static const char *cmdline_find(const char *s, size_t len, char c)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == c)
			return s + i;
	return NULL;
}

static bool cmdline_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool cmdline_val_is(const struct cmdline_word *w, const char *s)
{
	size_t n = strlen(s);
	return w->val_len == n && memcmp(w->val, s, n) == 0;
}

static bool cmdline_key_is(const struct cmdline_word *w, const char *s)
{
	size_t n = strlen(s);
	return w->key_len == n && memcmp(w->key, s, n) == 0;
}

/* Parses the value as a number in [min, max]. On failure formats into msg
 * why, followed by ", keeping <keep>", and returns false. */
static bool cmdline_number(const struct cmdline_word *w, u64 min, u64 max,
			   u64 keep, u64 *out, char *msg, size_t msg_size)
{
	u64 v;
	int rc = parse_u64(w->val, w->val_len, &v);

	if (rc == -EINVAL) {
		fmt_snprintf(msg, msg_size,
			     "cmdline: %s is not a number, keeping %llu",
			     w->quoted, (unsigned long long)keep);
		return false;
	}
	if (rc != 0 || v < min || v > max) {
		fmt_snprintf(msg, msg_size,
			     "cmdline: %s out of range %llu..%llu, keeping %llu",
			     w->quoted, (unsigned long long)min,
			     (unsigned long long)max, (unsigned long long)keep);
		return false;
	}
	*out = v;
	return true;
}

/* doorbell_window=BASE:SIZE. The window is where MMIO doorbells may be
 * registered (CONTRACTS.md 3); it is mapped with 4 KiB EPT granularity. */
static bool cmdline_window(const struct cmdline_word *w, struct boot_config *cfg,
			   char *msg, size_t msg_size)
{
	const char *colon = cmdline_find(w->val, w->val_len, ':');
	unsigned long long kb = cfg->doorbell_window_base;
	unsigned long long ks = cfg->doorbell_window_size;
	u64 base, size;

	if (colon == NULL) {
		fmt_snprintf(msg, msg_size,
			     "cmdline: %s is not BASE:SIZE, keeping 0x%llx:0x%llx",
			     w->quoted, kb, ks);
		return false;
	}
	size_t blen = (size_t)(colon - w->val);
	if (parse_u64(w->val, blen, &base) != 0 ||
	    parse_u64(colon + 1, w->val_len - blen - 1, &size) != 0) {
		fmt_snprintf(msg, msg_size,
			     "cmdline: %s: BASE or SIZE is not a number, keeping 0x%llx:0x%llx",
			     w->quoted, kb, ks);
		return false;
	}
	if (size == 0 || !IS_ALIGNED(size, PAGE_SIZE)) {
		fmt_snprintf(msg, msg_size,
			     "cmdline: %s: SIZE must be a non-zero multiple of 0x1000, keeping 0x%llx:0x%llx",
			     w->quoted, kb, ks);
		return false;
	}
	if (!IS_ALIGNED(base, PAGE_SIZE)) {
		fmt_snprintf(msg, msg_size,
			     "cmdline: %s: BASE is not page-aligned, keeping 0x%llx:0x%llx",
			     w->quoted, kb, ks);
		return false;
	}
	if (size > CMDLINE_WINDOW_LIMIT || base > CMDLINE_WINDOW_LIMIT - size) {
		fmt_snprintf(msg, msg_size,
			     "cmdline: %s: window ends beyond 2^48, keeping 0x%llx:0x%llx",
			     w->quoted, kb, ks);
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cmdline_devices); i++) {
		const struct cmdline_device *d = &cmdline_devices[i];
		if (base < d->base + d->size && d->base < base + size) {
			fmt_snprintf(msg, msg_size,
				     "cmdline: %s: window overlaps %s at 0x%llx, keeping 0x%llx:0x%llx",
				     w->quoted, d->name, (unsigned long long)d->base, kb, ks);
			return false;
		}
	}
	cfg->doorbell_window_base = base;
	cfg->doorbell_window_size = size;
	return true;
}

/* Guest RAM is [0, guest_mem) and must end at or below the doorbell window
 * and every emulated device. Checked once every word is read, since
 * doorbell_window= may come after guest_mem=. A guest_mem= that does not fit
 * is reported with the most that does, and the default is kept; when even
 * the default does not fit, the boot refuses it (vmx/vm.c). */
static bool cmdline_check_guest_mem(struct boot_config *cfg, char *msg, size_t msg_size)
{
	u64 limit = cfg->doorbell_window_base;
	const char *what = "the doorbell window";

	for (size_t i = 0; i < ARRAY_SIZE(cmdline_devices); i++) {
		if (cmdline_devices[i].base < limit) {
			limit = cmdline_devices[i].base;
			what = cmdline_devices[i].name;
		}
	}
	if (cfg->guest_mem_mib == CMDLINE_DEFAULT_GUEST_MEM ||
	    cfg->guest_mem_mib * MiB <= limit)
		return true;
	fmt_snprintf(msg, msg_size,
		     "cmdline: guest_mem=%llu does not fit: guest RAM must end below %s at 0x%llx, "
		     "so at most %llu MiB; keeping %u",
		     (unsigned long long)cfg->guest_mem_mib, what, (unsigned long long)limit,
		     (unsigned long long)(limit / MiB), CMDLINE_DEFAULT_GUEST_MEM);
	cfg->guest_mem_mib = CMDLINE_DEFAULT_GUEST_MEM;
	return false;
}

size_t cmdline_unquote_loader(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (const char *p = src; *p; p++) {
		char c = *p;
		if (c == '"')
			continue;	/* GRUB's quotes around an argument */
		if (c == '\\' && (p[1] == '\\' || p[1] == '\'' || p[1] == '"'))
			c = *++p;
		if (n + 1 < size)
			dst[n] = c;
		n++;
	}
	if (size)
		dst[MIN(n, size - 1)] = '\0';
	return n;
}

/* Applies one key=value word. Returns true if it was applied, else false
 * with the reason in msg. */
static bool cmdline_apply(const struct cmdline_word *w, struct boot_config *cfg,
			  char *msg, size_t msg_size)
{
	u64 v;

	if (cmdline_key_is(w, "vcpus")) {
		if (!cmdline_number(w, CMDLINE_VCPUS_MIN, CMDLINE_VCPUS_MAX,
				    cfg->vcpus, &v, msg, msg_size))
			return false;
		cfg->vcpus = (u32)v;
	} else if (cmdline_key_is(w, "notify")) {
		if (cmdline_val_is(w, "ipi")) {
			cfg->notify = NOTIFY_IPI;
		} else if (cmdline_val_is(w, "poll")) {
			cfg->notify = NOTIFY_POLL;
		} else {
			fmt_snprintf(msg, msg_size,
				     "cmdline: %s is not ipi or poll, keeping %s",
				     w->quoted,
				     cfg->notify == NOTIFY_POLL ? "poll" : "ipi");
			return false;
		}
	} else if (cmdline_key_is(w, "trace")) {
		if (cmdline_val_is(w, "0")) {
			cfg->trace = false;
		} else if (cmdline_val_is(w, "1")) {
			cfg->trace = true;
		} else {
			fmt_snprintf(msg, msg_size,
				     "cmdline: %s is not 0 or 1, keeping %d",
				     w->quoted, cfg->trace ? 1 : 0);
			return false;
		}
	} else if (cmdline_key_is(w, "latency")) {
		/* Service-core latency sampling (service/): RDTSC per signal. */
		if (cmdline_val_is(w, "0")) {
			cfg->latency = false;
		} else if (cmdline_val_is(w, "1")) {
			cfg->latency = true;
		} else {
			fmt_snprintf(msg, msg_size,
				     "cmdline: %s is not 0 or 1, keeping %d",
				     w->quoted, cfg->latency ? 1 : 0);
			return false;
		}
	} else if (cmdline_key_is(w, "guest_mem")) {
		if (!cmdline_number(w, CMDLINE_GUEST_MEM_MIN, CMDLINE_GUEST_MEM_MAX,
				    cfg->guest_mem_mib, &v, msg, msg_size))
			return false;
		cfg->guest_mem_mib = v;
	} else if (cmdline_key_is(w, "doorbell_window")) {
		return cmdline_window(w, cfg, msg, msg_size);
	} else if (cmdline_key_is(w, "guest_timeout")) {
		if (!cmdline_number(w, 0, CMDLINE_TIMEOUT_MAX_MS,
				    cfg->guest_timeout_ms, &v, msg, msg_size))
			return false;
		cfg->guest_timeout_ms = v;
	} else if (cmdline_key_is(w, "extra_apic")) {
		if (!cmdline_number(w, 0, CMDLINE_NO_APIC - 1, cfg->extra_apic, &v,
				    msg, msg_size))
			return false;
		cfg->extra_apic = (u32)v;
	} else if (cmdline_key_is(w, "platform")) {
		/* Set by tools/run (bochs, qemu-tcg, qemu-kvm) for reports; a
		 * machine booted without it is "hardware". */
		size_t n = MIN((size_t)w->val_len, sizeof(cfg->platform) - 1);
		memcpy(cfg->platform, w->val, n);
		cfg->platform[n] = '\0';
	} else if (cmdline_key_is(w, "lookup")) {
		if (cmdline_val_is(w, "binary")) {
			cfg->lookup = LOOKUP_BINARY;
		} else if (cmdline_val_is(w, "linear")) {
			cfg->lookup = LOOKUP_LINEAR;
		} else {
			fmt_snprintf(msg, msg_size,
				     "cmdline: %s is not binary or linear, keeping %s",
				     w->quoted,
				     cfg->lookup == LOOKUP_LINEAR ? "linear" : "binary");
			return false;
		}
	} else if (cmdline_key_is(w, "emul_fail")) {
		if (cmdline_val_is(w, "ud")) {
			cfg->emul_fail = EMUL_FAIL_UD;
		} else if (cmdline_val_is(w, "stop")) {
			cfg->emul_fail = EMUL_FAIL_STOP;
		} else {
			fmt_snprintf(msg, msg_size,
				     "cmdline: %s is not ud or stop, keeping %s",
				     w->quoted,
				     cfg->emul_fail == EMUL_FAIL_STOP ? "stop" : "ud");
			return false;
		}
	} else if (cmdline_key_is(w, "fastmmio_len")) {
		static const char *const names[] = { "decode", "vmcs", "check" };
		u32 i;
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (cmdline_val_is(w, names[i]))
				break;
		if (i == ARRAY_SIZE(names)) {
			fmt_snprintf(msg, msg_size,
				     "cmdline: %s is not decode, vmcs or check, keeping %s",
				     w->quoted, names[cfg->fastmmio_len]);
			return false;
		}
		cfg->fastmmio_len = (enum fastmmio_len_mode)i;
	} else if (cmdline_key_is(w, "ioeventfd")) {
		/* Kept raw: iobus/ owns the SPEC syntax and reports on it. */
		if (w->val_len == 0) {
			fmt_snprintf(msg, msg_size,
				     "cmdline: %s has an empty SPEC, ignored", w->quoted);
			return false;
		}
		if (w->val_len >= sizeof(cfg->ioeventfd[0])) {
			fmt_snprintf(msg, msg_size,
				     "cmdline: %s: SPEC longer than %zu characters, ignored",
				     w->quoted, sizeof(cfg->ioeventfd[0]) - 1);
			return false;
		}
		if (cfg->ioeventfd_count >= CMDLINE_MAX_IOEVENTFD) {
			fmt_snprintf(msg, msg_size,
				     "cmdline: %s ignored, already %u ioeventfd= words (the most kept)",
				     w->quoted, CMDLINE_MAX_IOEVENTFD);
			return false;
		}
		char *dst = cfg->ioeventfd[cfg->ioeventfd_count++];
		memcpy(dst, w->val, w->val_len);
		dst[w->val_len] = '\0';
	} else {
		char key[CMDLINE_QUOTE_MAX + 4];
		cmdline_quote(key, w->key, w->key_len);
		fmt_snprintf(msg, msg_size, "cmdline: unknown key '%s', ignored", key);
		return false;
	}
	return true;
}

int cmdline_parse(const char *cmdline, struct boot_config *cfg,
		  cmdline_warn_fn warn, void *ctx)
{
	char msg[CMDLINE_MSG_SIZE];
	int warned = 0;
	const char *s = cmdline ? cmdline : "";

	for (;;) {
		struct cmdline_word w;

		while (cmdline_is_space(*s))
			s++;
		if (*s == '\0')
			break;
		w.word = s;
		while (*s != '\0' && !cmdline_is_space(*s))
			s++;
		w.len = (size_t)(s - w.word);
		cmdline_quote(w.quoted, w.word, w.len);

		const char *eq = cmdline_find(w.word, w.len, '=');
		bool ok;
		if (eq == NULL || eq == w.word) {
			fmt_snprintf(msg, sizeof(msg),
				     "cmdline: word '%s' is not key=value, ignored",
				     w.quoted);
			ok = false;
		} else {
			w.key = w.word;
			w.key_len = (size_t)(eq - w.word);
			w.val = eq + 1;
			w.val_len = w.len - w.key_len - 1;
			ok = cmdline_apply(&w, cfg, msg, sizeof(msg));
		}
		if (!ok) {
			warned++;
			if (warn)
				warn(ctx, msg);
		}
	}
	if (!cmdline_check_guest_mem(cfg, msg, sizeof(msg))) {
		warned++;
		if (warn)
			warn(ctx, msg);
	}
	return warned;
}
