#!/usr/bin/env bash
# tests/runner/test_runner.sh - tests of tools/run itself (no guest needs to
# run for most of them): what it prints and the status it exits with when the
# emulator cannot start, or when its own command line is wrong. Each check
# prints "ok   NAME" or "FAIL NAME: why"; the last line is "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT

# check NAME WANT_STATUS REGEX -- COMMAND...: runs COMMAND, wants its exit
# status and a line of its output matching REGEX (extended).
check() {
	local name=$1 want=$2 re=$3; shift 4
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL $name: exit status $rc, expected $want"; printf '%s\n' "$out" | tail -n 5 | sed 's/^/    | /'
		failed=$((failed + 1))
	elif ! grep -qE -- "$re" <<<"$out"; then
		echo "FAIL $name: no line matches: $re"; printf '%s\n' "$out" | tail -n 5 | sed 's/^/    | /'
		failed=$((failed + 1))
	else
		echo "ok   $name"; passed=$((passed + 1))
	fi
}

# An emulator that dies before doorbell's banner (as Debian's Bochs did with
# its ALSA plugin on a host without sound) is named as such, with its own
# last lines, and the run ends with 125.
mkdir -p "$scratch/bin"
mkfifo "$scratch/fifo"; : > "$scratch/afile"
cat > "$scratch/bin/bochs" <<'FAKE'
#!/bin/sh
echo "*** buffer overflow detected ***: terminated" >&2
exit 134
FAKE
chmod +x "$scratch/bin/bochs"
check bochs-dies-at-start 125 '^run: Bochs itself failed to start \(exit 134\)' -- \
	env -i PATH="$scratch/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/nonexistent \
	"$top/tools/run" --platform bochs --timeout 20
check bochs-dies-shows-its-lines 125 '^run: \| \*\*\* buffer overflow detected' -- \
	env -i PATH="$scratch/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/nonexistent \
	"$top/tools/run" --platform bochs --timeout 20

# The bochsrc the runner writes turns off everything doorbell does not use,
# so nothing depends on the host's sound, USB or network set-up.
keep="$scratch/keep"
env -i PATH="$scratch/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/nonexistent \
	"$top/tools/run" --platform bochs --timeout 20 --keep "$keep" >/dev/null 2>&1
for want in '^sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy$' \
	    '^plugin_ctrl: .*speaker=0' '^plugin_ctrl: .*parallel=0' '^usb_uhci: enabled=0$' \
	    '^clock: sync=none, time0=[0-9]+$'; do
	if grep -qE -- "$want" "$keep/bochsrc" 2>/dev/null; then
		echo "ok   bochsrc-has ${want}"; passed=$((passed + 1))
	else
		echo "FAIL bochsrc-has ${want}"; failed=$((failed + 1))
	fi
done

# ---- bad usage (CONTRACTS.md 1): exactly two lines, "run: usage: ..."
# naming the option and its problem, then "run: exit status 2"; exit 2, and
# nothing booted (the fake emulators below leave a mark if they are started).
for emu in bochs qemu-system-x86_64; do
	cat > "$scratch/bin/$emu" <<FAKE
#!/bin/sh
touch "$scratch/booted"
exit 1
FAKE
	chmod +x "$scratch/bin/$emu"
done
mkdir -p "$scratch/adir"
# usage_check NAME REGEX -- ARGS...: tools/run ARGS must be refused so.
usage_check() {
	local name=$1 re=$2; shift 3
	local out rc lines
	rm -f "$scratch/booted"
	out=$(env -i PATH="$scratch/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/nonexistent \
		"$top/tools/run" "$@" 2>&1); rc=$?
	lines=$(printf '%s\n' "$out" | wc -l)
	local why=""
	[ "$rc" = 2 ] || why="exit status $rc, expected 2"
	[ -z "$why" ] && [ "$lines" != 2 ] && why="$lines lines of output, expected 2"
	[ -z "$why" ] && ! [[ $(head -n 1 <<<"$out") =~ ^run:\ usage:\ .*$re ]] && why="first line does not match: run: usage: .*$re"
	[ -z "$why" ] && [ "$(tail -n 1 <<<"$out")" != "run: exit status 2" ] && why="last line is not 'run: exit status 2'"
	[ -z "$why" ] && [ -e "$scratch/booted" ] && why="an emulator was started"
	if [ -z "$why" ]; then
		echo "ok   usage-$name"; passed=$((passed + 1))
	else
		echo "FAIL usage-$name: $why"; printf '%s\n' "$out" | tail -n 5 | sed 's/^/    | /'
		failed=$((failed + 1))
	fi
}
for opt in --guest --args --timeout --cpus --guest-args --module --platform --keep --iso; do
	usage_check "missing${opt}" "$opt needs a value" -- --platform bochs "$opt"
done
usage_check unknown-option "unknown option '--bogus'" -- --bogus
usage_check unknown-word "unknown option 'hello'" -- hello
usage_check timeout-negative "--timeout '-5' is not a whole number" -- --timeout -5
usage_check timeout-abc "--timeout 'abc' is not a whole number" -- --timeout abc
usage_check timeout-zero "--timeout 0 is out of range 1\.\.86400" -- --timeout 0
usage_check timeout-equals "--timeout 0 is out of range" -- --timeout=0
usage_check timeout-huge "--timeout 99999999999 is out of range" -- --timeout 99999999999
usage_check cpus-zero "--cpus 0: the machine needs at least 1 CPU" -- --cpus 0
usage_check cpus-abc "--cpus 'abc' is not a number" -- --cpus abc
usage_check cpus-bochs-max "--cpus 255 is more than the emulator takes \(at most 254\)" -- --platform bochs --cpus 255
usage_check cpus-qemu-max "--cpus 256 is more than the emulator takes \(at most 255\)" -- --platform qemu-tcg --cpus 256
usage_check guest-dir "--guest '.*/adir': is a directory, not a file" -- --guest "$scratch/adir"
usage_check guest-missing "--guest '.*/nothere': no such file" -- --guest "$scratch/nothere"
usage_check guest-fifo "--guest '.*/fifo': is not a regular file" -- --guest "$scratch/fifo"
usage_check module-dir "--module '.*/adir': is a directory" -- --module "$scratch/adir=str"
usage_check module-missing "--module '.*/nothere': no such file" -- --module "$scratch/nothere"
usage_check platform-unknown "--platform 'vmware' is not a platform: auto, bochs, qemu-kvm or qemu-tcg" -- --platform vmware
usage_check iso-missing "--iso '.*/nothere.iso': no such file" -- --iso "$scratch/nothere.iso"
usage_check iso-with-guest "--iso boots its ISO unchanged: --guest does not apply" -- --iso "$top/build/doorbell.iso" --guest "$top/build/guest/hello.elf"
usage_check keep-not-dir "--keep '.*/afile' exists and is not a directory" -- --keep "$scratch/afile"

# --help prints the usage text, every line of it, and nothing of the script.
help=$("$top/tools/run" --help 2>&1); rc=$?
if [ $rc = 0 ] && grep -q '^usage: tools/run ' <<<"$help" && grep -q -- '--cpus N' <<<"$help" &&
   ! grep -qE 'set -|^#' <<<"$help"; then
	echo "ok   help-clean"; passed=$((passed + 1))
else
	echo "FAIL help-clean: exit $rc or a stray line:"; printf '%s\n' "$help" | grep -E 'set -|^#' | sed 's/^/    | /'
	failed=$((failed + 1))
fi

# ---- make's variables reach the runner verbatim (issue 10, CONTRACTS.md 1):
# quotes, $, backquotes, backslashes and ; never meet a shell or make's own
# expansion. RUN_TOOL stands in for tools/run and prints its arguments.
mk() { (cd "$top" && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s "$@" 2>&1); }
cat > "$scratch/argv" <<'FAKE'
#!/bin/sh
for a in "$@"; do printf '<%s>\n' "$a"; done
FAKE
chmod +x "$scratch/argv"
got=$(mk run RUN_TOOL="$scratch/argv" GUEST="g'u\\e\$st" GUEST_ARGS='x"y' \
	ARGS='"; echo INJECTED; "' PLATFORM='bo$chs' TIMEOUT='1`echo INJECTED`' CPUS=3 |
	grep -v '^  [A-Z]')	# not make's own "  ISO ..." if it had to build
want=$(printf '<%s>\n' --guest "g'u\\e\$st" --guest-args 'x"y' --args '"; echo INJECTED; "' \
	--platform 'bo$chs' --timeout '1`echo INJECTED`' --cpus 3)
if [ "$got" = "$want" ]; then
	echo "ok   make-run-vars-verbatim"; passed=$((passed + 1))
else
	echo "FAIL make-run-vars-verbatim:"; diff <(echo "$want") <(echo "$got") | sed 's/^/    | /'
	failed=$((failed + 1))
fi
got=$(mk run RUN_TOOL="$scratch/argv" GUEST_ARGS='a $(shell echo INJECTED) $$b' | grep -v '^  [A-Z]')
if [ "$got" = "$(printf '<%s>\n' --guest-args 'a $(shell echo INJECTED) $$b')" ]; then
	echo "ok   make-run-no-make-expansion"; passed=$((passed + 1))
else
	echo "FAIL make-run-no-make-expansion: got:"; printf '%s\n' "$got" | sed 's/^/    | /'
	failed=$((failed + 1))
fi

# make bench hands PLATFORM=, ARGS=, CPUS= to tools/run: a fake Bochs shows
# what it was given (the bochsrc's CPU count, the ISO's GRUB line), and the
# runner quotes the emulator's last lines.
cat > "$scratch/bin/bochs" <<'FAKE'
#!/bin/sh
rc=$3	# -q -f BOCHSRC -rc FILE
grep '^cpu:' "$rc"
iso=$(sed -n 's/^ata0-master: .*path=\([^,]*\),.*/\1/p' "$rc")
grep -a 'multiboot2 /boot/doorbell.elf' "$iso"
exit 1
FAKE
chmod +x "$scratch/bin/bochs"
got=$(PATH="$scratch/bin:$PATH" mk bench PLATFORM=bochs ARGS='vcpus=2 notify=poll' CPUS=3 TIMEOUT=30)
if grep -q "^run: | cpu: model=tigerlake, count=3," <<<"$got" &&
   grep -q "^run: | .*multiboot2 /boot/doorbell.elf 'platform=bochs' .*'vcpus=2' 'notify=poll'$" <<<"$got" &&
   grep -q '^bench: exit status 125$' <<<"$got"; then
	echo "ok   make-bench-passes-vars"; passed=$((passed + 1))
else
	echo "FAIL make-bench-passes-vars: got:"; printf '%s\n' "$got" | tail -n 12 | sed 's/^/    | /'
	failed=$((failed + 1))
fi
got=$(mk bench PLATFORM=vmware)
if grep -q "^run: usage: --platform 'vmware' is not a platform" <<<"$got" &&
   grep -q '^bench: exit status 2$' <<<"$got"; then
	echo "ok   make-bench-bad-platform"; passed=$((passed + 1))
else
	echo "FAIL make-bench-bad-platform: got:"; printf '%s\n' "$got" | tail -n 5 | sed 's/^/    | /'
	failed=$((failed + 1))
fi

# One real boot through make run (skipped with HOST_ONLY=1): the guest
# prints the command line it got, byte for byte, and nothing was injected.
if [ "${HOST_ONLY:-0}" != 1 ]; then
	garg='x"y; echo INJECTED; $HOME \z '"'q'"
	got=$(mk run GUEST=build/guest/hello.elf GUEST_ARGS="$garg exit=4" PLATFORM=bochs CPUS=1 TIMEOUT=120)
	if grep -qxF "hello: cmdline \"$garg exit=4\"" <<<"$got" && ! grep -qx 'INJECTED' <<<"$got" &&
	   [ "$(tail -n 1 <<<"$got")" = "run: exit status 4" ]; then
		echo "ok   make-run-boot-verbatim"; passed=$((passed + 1))
	else
		echo "FAIL make-run-boot-verbatim: got:"; printf '%s\n' "$got" | grep -E 'hello|run:' | sed 's/^/    | /'
		failed=$((failed + 1))
	fi
fi

# ---- the guest build prints "  CC32    file" like the kernel's "  CC      file",
# never raw compiler command lines.
got=$(mk -j2 BUILD="$scratch/gbuild" guests)
raw=$(grep -vE '^  (CC32|CC64|NASM|LD) +[^ ]+$' <<<"$got")
if [ -z "$raw" ] && [ "$(grep -c '^  CC32 ' <<<"$got")" -ge 10 ] && grep -q '^  LD .*/hello.elf$' <<<"$got"; then
	echo "ok   guest-build-quiet"; passed=$((passed + 1))
else
	echo "FAIL guest-build-quiet: lines like:"; printf '%s\n' "${raw:-$got}" | head -n 5 | sed 's/^/    | /'
	failed=$((failed + 1))
fi

# ---- docs that must follow the code (issue 10's drift) --------------------
drift=()
# docs/vmx.md names every secondary control vmx/vmcs.c asks for.
secondary=$(sed -n '/^- \*\*Controls\*\*/,/^- \*\*Host state/p' "$top/docs/vmx.md" | tr '\n' ' ')
for flag in $(grep -o 'PROC_BASED2_[A-Z_]*' "$top/vmx/vmcs.c" | sort -u); do
	words=${flag#PROC_BASED2_}; words=${words#ENABLE_}; words=${words//_/ }
	grep -qi -- "$words" <<<"$secondary" || drift+=("docs/vmx.md: no '$words' among the controls ($flag)")
done
[ -n "$secondary" ] || drift+=("docs/vmx.md: no Controls paragraph")
# docs/doorbell.md gives each flood test it names its own figure (and names
# the two-VM flood, whose figure differs).
grep -q 'bochs-flood-vcpus2' "$top/docs/doorbell.md" || drift+=("docs/doorbell.md: no bochs-flood-vcpus2")
while read -r name _ _ _ rest; do
	grep -q -- "$name" "$top/docs/doorbell.md" || continue
	n=$(grep -o 'flood=[0-9]*' <<<"$rest" | cut -d= -f2)
	m=$n e=0; while [ $((m % 10)) = 0 ] && [ $m -gt 0 ]; do m=$((m / 10)); e=$((e + 1)); done
	fig="10^$e"; [ "$m" != 1 ] && fig="${m}x10^$e"
	grep -q -- "$fig" "$top/docs/doorbell.md" || drift+=("docs/doorbell.md: no $fig ($name)")
done < <(grep -h '^bochs-flood-' "$top"/tests/boot/*cases)
# guest/bad/spin.c's header gives the status its boot test expects.
want=$(awk '$1 == "bochs-bad-spin" { print $4 }' "$top/tests/boot/cases")
sed -n '1,/\*\//p' "$top/guest/bad/spin.c" | grep -q "status $want" ||
	drift+=("guest/bad/spin.c: its header does not say status $want")
if [ ${#drift[@]} = 0 ]; then
	echo "ok   docs-follow-code"; passed=$((passed + 1))
else
	echo "FAIL docs-follow-code:"; printf '    %s\n' "${drift[@]}"; failed=$((failed + 1))
fi

# ---- the ISO for real hardware (make iso; docs/hardware.md) ----------------
# GRUB's menu: the chosen guest first (the default), the test guests, and
# the serial-console entry. The ISO is uncompressed: grub.cfg is readable
# in it as it stands.
mk iso ISO="$scratch/hello.iso" GUEST=build/guest/hello.elf GUEST_ARGS='exit=6 a"b  c' \
	ARGS=notify=poll >/dev/null
cfg=$(grep -a -E "^(menuentry|	(multiboot2|module2|serial|terminal_(input|output)))|set timeout" \
	"$scratch/hello.iso" 2>/dev/null | tr -d '\000')
menu_ok=1
for want in 'set timeout=5$' \
	    "^menuentry \"doorbell: hello exit=6 a\\\\\"b  c \\(doorbell: notify=poll\\)\" \\{$" \
	    "^	multiboot2 /boot/doorbell.elf 'notify=poll'$" \
	    "^	module2 /boot/mod0 'exit=6 a\"b  c'$" \
	    '^menuentry "doorbell: test guest platform64" \{$' \
	    '^menuentry "doorbell: test guest doorbell" \{$' \
	    '^	module2 /boot/guests/hypercall.elf$' \
	    '^menuentry "Show this menu on the serial console too \(COM1, 115200 8N1\)" \{$' \
	    '^	serial --unit=0 --speed=115200' '^	terminal_output serial console$'; do
	grep -qE -- "$want" <<<"$cfg" || { menu_ok=0; echo "    grub.cfg has no line: $want"; }
done
if [ $menu_ok = 1 ]; then
	echo "ok   iso-menu"; passed=$((passed + 1))
else
	echo "FAIL iso-menu"; failed=$((failed + 1))
fi

# Boot them in Bochs as they are (tools/run --iso: no ISO of its own, no
# command line added): the guest runs and its status comes back.
if [ "${HOST_ONLY:-0}" != 1 ]; then
	got=$("$top/tools/run" --iso "$scratch/hello.iso" --platform bochs --timeout 200 2>&1); rc=$?
	if [ $rc = 6 ] && grep -qx 'hello: cmdline "exit=6 a"b  c"' <<<"$got" &&
	   grep -qx 'cpu 1: apic [0-9]*, role service (notify=poll)' <<<"$got" &&
	   grep -qx 'vm 0: guest exited with status 6' <<<"$got"; then
		echo "ok   iso-make-iso-boots"; passed=$((passed + 1))
	else
		echo "FAIL iso-make-iso-boots: exit $rc:"; printf '%s\n' "$got" | tail -n 8 | sed 's/^/    | /'
		failed=$((failed + 1))
	fi
	# The same ISO in plain Bochs, without tools/run: a bochsrc written here
	# (the host-independent settings of docs/hardware.md's emulator notes),
	# the serial line read from its file. The ISO needs nothing else.
	plain="$scratch/plain"; mkdir -p "$plain"; : > "$plain/serial.log"
	cat > "$plain/bochsrc" <<RC
plugin_ctrl: unmapped=1, biosdev=1, serial=1, speaker=0, extfpuirq=0, parallel=0, gameport=0, iodebug=0
megs: 512
cpu: model=tigerlake, count=2, ips=50000000, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path=$scratch/hello.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$plain/serial.log
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
usb_uhci: enabled=0
display_library: rfb, options="timeout=0"
clock: sync=none, time0=946684800
log: $plain/bochs.log
RC
	echo c > "$plain/rc"
	# The ISO's GRUB menu waits 5 s of emulated time before its default
	# entry; "doorbell: exit status" is doorbell's last line either way.
	(cd "$plain" && env -i PATH="$PATH" HOME="$plain" timeout -k 5 300 bochs -q -f bochsrc -rc rc \
		</dev/null >/dev/null 2>&1)
	got=$(tr -d '\r' < "$plain/serial.log")
	if grep -qx 'hello: cmdline "exit=6 a"b  c"' <<<"$got" &&
	   grep -qx 'doorbell: exit status 6' <<<"$got"; then
		echo "ok   iso-boots-in-plain-bochs"; passed=$((passed + 1))
	else
		echo "FAIL iso-boots-in-plain-bochs:"; printf '%s\n' "$got" | tail -n 8 | sed 's/^/    | /'
		failed=$((failed + 1))
	fi
	# `make iso` with the benchmark guest (the default) and a short run's
	# arguments: every path measured and the status 0.
	mk iso ISO="$scratch/bench.iso" GUEST_ARGS='ops=2000 scale=1000' >/dev/null
	got=$("$top/tools/run" --iso "$scratch/bench.iso" --platform bochs --timeout 400 2>&1); rc=$?
	if [ $rc = 0 ] && grep -q '^BENCH {"path":"null-cpuid","platform":"hardware",.*"ops":2000,' <<<"$got" &&
	   grep -q '^BENCH {"path":"pio","platform":"hardware",.*"sent":2000,"handled":2000,"registrations":1,' <<<"$got" &&
	   grep -q '^BENCH {"path":"fast-mmio",.*"registrations":1000,' <<<"$got" &&
	   grep -qx 'vm 0: guest exited with status 0' <<<"$got"; then
		echo "ok   iso-bench-boots"; passed=$((passed + 1))
	else
		echo "FAIL iso-bench-boots: exit $rc:"; printf '%s\n' "$got" | tail -n 8 | sed 's/^/    | /'
		failed=$((failed + 1))
	fi
	# The plain `make` ISO boots the benchmark guest with its defaults, which
	# for hardware include scaling to 65,536 doorbells: more than Bochs does
	# in a test's time. Its first paths, and the platform "hardware" (no
	# tools/run added platform=), are enough to show it boots that guest.
	got=$("$top/tools/run" --iso "$top/build/doorbell.iso" --platform bochs --timeout 90 2>&1); rc=$?
	if grep -q '^bench: 10000 ops per path, 32-bit guest, platform hardware$' <<<"$got" &&
	   grep -q '^BENCH {"path":"null-cpuid","platform":"hardware",.*"ops":10000,' <<<"$got" &&
	   { [ $rc = 0 ] || [ $rc = 124 ]; }; then
		echo "ok   iso-plain-boots-bench (exit $rc)"; passed=$((passed + 1))
	else
		echo "FAIL iso-plain-boots-bench: exit $rc:"; printf '%s\n' "$got" | tail -n 8 | sed 's/^/    | /'
		failed=$((failed + 1))
	fi
fi

echo "$passed passed, $failed failed"
