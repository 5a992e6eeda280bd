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

echo "$passed passed, $failed failed"
