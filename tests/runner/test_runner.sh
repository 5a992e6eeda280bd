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

echo "$passed passed, $failed failed"
