#!/usr/bin/env bash
# tests/runner/test_kut.sh - tests of tools/kut, the kvm-unit-tests runner,
# against a fake kvm-unit-tests build (kvm-unit-tests is not a Debian
# package): a config.mak, an x86/unittests.cfg in kvm-unit-tests' format
# (both the old extra_params = -append ... and the new test_args/qemu_params
# forms) and x86/*.flat files that are copies of guest/kutfake.c, which
# prints a "SUMMARY: ..." line and exits as a kvm-unit-tests test does.
# On the host: what each test's plan is (program name first, guest_mem from
# -m or QEMU's 128 MiB, the time limit), each SKIP and its reason, usage
# errors, and the verdicts from a fake tools/run (--run) for every way a run
# ends. With boot tests on (not HOST_ONLY=1; TESTS unset or matching "kut"):
# the fake build in Bochs, each PASS/FAIL/SKIP line and the summary (not
# the timeout: how long Bochs takes to boot depends on the machine's load).
# Last line "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
kut="$top/tools/kut"
passed=0 failed=0
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT

ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; printf '%s\n' "$3" | tail -n 12 | sed 's/^/    | /'; failed=$((failed + 1)); }
# check NAME WANT_STATUS -- COMMAND... <<< REGEXES: runs COMMAND, wants its
# exit status and, for each extended regex on stdin, a line matching it.
check() {
	local name=$1 want=$2; shift 3
	local out rc re
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" != "$want" ]; then
		bad "$name" "exit status $rc, expected $want" "$out"; return
	fi
	while IFS= read -r re; do
		[ -n "$re" ] || continue
		if ! grep -qE -- "$re" <<<"$out"; then
			bad "$name" "no line matches: $re" "$out"; return
		fi
	done
	ok "$name"
}

# ---- the fake build ----------------------------------------------------------
fake=$scratch/kut
mkdir -p "$fake/x86"
echo "ARCH=x86_64" > "$fake/config.mak"
cat > "$fake/x86/unittests.cfg" <<'CFG'
##############################################################################
# a fake kvm-unit-tests x86/unittests.cfg for tests/runner/test_kut.sh
##############################################################################
[pass]
file = fake.flat
test_args = 'mem=128'

# the old format: -append and -m inside extra_params
[mem96]
file = fake.flat
extra_params = -m 96 -append 'mem=96 exit=0'

[fail]
file = fake.flat
test_args = exit=1
groups = fake

[allskip]
file = fake.flat
test_args = "exit=38"

[multiline]
file = fake.flat
qemu_params = """
-m 64 \
-cpu max
"""
test_args = mem=64

[hang]
file = fake.flat
test_args = hang
timeout = 5

[smp2]
file = fake.flat
smp = 2

[smpmax]
file = fake.flat
smp = $MAX_SMP

[i386only]
file = fake.flat
arch = i386

[kvmonly]
file = fake.flat
accel = kvm

[manual]
file = fake.flat
groups = nodefault

[ioapic]
file = ioapic.flat

[edu]
file = fake.flat
qemu_params = -device edu

[bigmem]
file = fake.flat
qemu_params = -cpu max -m 4g

[notbuilt]
file = missing.flat

[vmexit_cpuid]
file = vmexit.flat
test_args = 'cpuid'
groups = vmexit
CFG
if [ -f "$top/build/guest/kutfake.elf" ]; then
	cp "$top/build/guest/kutfake.elf" "$fake/x86/fake.flat"
	cp "$top/build/guest/kutfake.elf" "$fake/x86/ioapic.flat"
	cp "$top/build/guest/kutfake.elf" "$fake/x86/vmexit.flat"
else
	: > "$fake/x86/fake.flat"; : > "$fake/x86/ioapic.flat"; : > "$fake/x86/vmexit.flat"
fi

# ---- usage -------------------------------------------------------------------
check usage-no-dir 2 -- "$kut" <<<'^kut: usage: .*DIR'
check usage-not-a-build 2 -- "$kut" "$scratch" <<<'^kut: usage: .* no x86/unittests.cfg'
check usage-unknown-test 2 -- "$kut" "$fake" nosuch <<<'^kut: usage: no test nosuch in'
check usage-bad-option 2 -- "$kut" --bogus "$fake" <<<'^kut: usage:'

# ---- the plan (--list: nothing booted) ---------------------------------------
check list-plan 0 -- "$kut" --list --platform bochs "$fake" <<'RE'
^kut: .* \(x86_64\), 18 tests, platform bochs$
^RUN  pass: .*--timeout 180 .*--guest-args 'x86/fake\.flat mem=128' --args guest_mem=128$
^RUN  mem96: .*--guest-args 'x86/fake\.flat mem=96 exit=0' --args guest_mem=96$
^RUN  fail: .*--guest-args 'x86/fake\.flat exit=1' --args guest_mem=128$
^RUN  allskip: .*--guest-args 'x86/fake\.flat exit=38'
^RUN  multiline: .*--guest-args 'x86/fake\.flat mem=64' --args guest_mem=64$
^RUN  hang: .*--timeout 10 .*'x86/fake\.flat hang'
^SKIP smp2 \(needs 2 vCPUs; a doorbell VM has one\)$
^SKIP smpmax \(needs \$MAX_SMP vCPUs; a doorbell VM has one\)$
^SKIP i386only \(i386 only\)$
^SKIP kvmonly \(kvm only \(accel = kvm\)\)$
^SKIP manual \(manual run only \(group nodefault\)\)$
^SKIP ioapic \(needs an IOAPIC, which doorbell does not model\)$
^SKIP edu \(needs the device edu, which doorbell does not model\)$
^SKIP bigmem \(needs 4096 MiB of RAM; the Bochs machine gives a guest at most 448\)$
^SKIP notbuilt \(x86/missing\.flat not built\)$
^RUN  vmexit_cpuid: .*--guest-args 'x86/vmexit\.flat cpuid' --args guest_mem=128$
^RUN  vmexit_pci_mem: .*--guest-args 'x86/vmexit\.flat pci-mem' --args guest_mem=128$
^RUN  vmexit_pci_io: .*--guest-args 'x86/vmexit\.flat pci-io' --args guest_mem=128$
RE
# The pci-testdev rows come right after the file's last vmexit entry.
if "$kut" --list "$fake" | grep -E '^(RUN|SKIP) ' | tail -n 3 | cut -d' ' -f3 | tr -d : | tr '\n' ' ' |
   grep -qx 'vmexit_cpuid vmexit_pci_mem vmexit_pci_io '; then
	ok list-vmexit-pci-order
else
	bad list-vmexit-pci-order "not the last three, in this order" "$("$kut" --list "$fake" 2>&1)"
fi
check list-options 0 -- "$kut" --list --timeout 7 --args trace=1 --env "$fake/config.mak" --cpus 1 "$fake" pass <<'RE'
^RUN  pass: .*--timeout 7 .*--args 'guest_mem=128 trace=1' --cpus 1 --module .*config\.mak=env$
RE

# ---- verdicts, from a fake runner that ends each way tools/run can ----------
cat > "$scratch/fakerun" <<'FAKE'
#!/usr/bin/env bash
# prints what tools/run would for the guest arguments given, and exits so
while [ $# -gt 0 ]; do [ "$1" = --guest-args ] && ga=$2; shift; done
echo "doorbell: a VT-x micro-hypervisor for doorbells"
case $ga in
*exit=1*) echo "FAIL: something"; echo "SUMMARY: 5 tests, 2 unexpected failures"; s=1 ;;
*exit=38*) echo "SKIP: no such feature"; echo "SUMMARY: 1 tests, 1 skipped"; s=38 ;;
*hang*) echo "run: timed out after 6s"; s=124 ;;
*mem=96*) echo "Unhandled exception 13 #GP(0) at ip 0000000000401234"; echo "vm 0: guest exited with status 63"; s=63 ;;
*mem=64*) echo "vm 0: VM exit 9 (TASK_SWITCH) has no handler"
	echo "vm 0: guest RIP 0x4004b4 RSP 0x1016fe0 RFLAGS 0x10002"; echo "vm 0: guest crashed with status 125"
	echo "vm 0: 5 VM exits: CPUID=5"; s=125 ;;
*pci-io*) echo "pci-testdev at 0x18 membar febff000 iobar c000"; echo "cr4 = 20"
	echo "portio-no-eventfd:pci-io 1500"; echo "portio-wildcard-eventfd:pci-io 140"; s=0 ;;
*cpuid*) echo "smp: waiting for 0 APs"; echo "cpuid 91"; s=0 ;;
*) echo "PASS: x"; echo "SUMMARY: 3 tests, 1 skipped"; s=0 ;;
esac
echo "doorbell: exit status $s"; echo "run: exit status $s"; exit $s
FAKE
chmod +x "$scratch/fakerun"
check verdicts 1 -- "$kut" --run "$scratch/fakerun" --logs "$scratch/logs" "$fake" pass mem96 fail allskip multiline hang smp2 <<'RE'
^PASS pass \(3 tests, 1 skipped\) \[[0-9]+s\]$
^FAIL mem96 \(exit status 63: Unhandled exception 13 #GP\(0\) at ip 0000000000401234\)
^FAIL fail \(5 tests, 2 unexpected failures\)
^SKIP allskip \(1 tests, 1 skipped: no such feature\)
^FAIL multiline \(doorbell stopped it \(status 125\): vm 0: VM exit 9 \(TASK_SWITCH\) has no handler\)
^FAIL hang \(timed out after 6s\)
^SKIP smp2 
^1 passed, 4 failed, 2 skipped$
RE
if grep -q '^SUMMARY: 3 tests, 1 skipped' "$scratch/logs/pass.log" 2>/dev/null; then
	ok verdicts-log-kept
else
	bad verdicts-log-kept "no SUMMARY line in $scratch/logs/pass.log" "$(cat "$scratch/logs/pass.log" 2>&1)"
fi
# vmexit.flat prints no SUMMARY: its figures are the verdict's detail.
check verdicts-vmexit 0 -- "$kut" --run "$scratch/fakerun" --logs "$scratch/logs" "$fake" vmexit_cpuid vmexit_pci_io <<'RE'
^PASS vmexit_cpuid \(cpuid 91\) \[[0-9]+s\]$
^PASS vmexit_pci_io \(portio-no-eventfd:pci-io 1500, portio-wildcard-eventfd:pci-io 140\) \[[0-9]+s\]$
RE
check all-pass-exits-0 0 -- "$kut" --run "$scratch/fakerun" --logs "$scratch/logs" "$fake" pass smp2 <<<'^1 passed, 0 failed, 1 skipped$'

# ---- the real thing: the fake build under doorbell in Bochs -----------------
if [ "${HOST_ONLY:-0}" != 1 ] && { [ -z "${TESTS:-}" ] || [[ kut =~ ${TESTS} ]]; } &&
   [ -s "$fake/x86/fake.flat" ] && [ -f "$top/build/doorbell.elf" ]; then
	check bochs-kut 1 -- "$kut" --platform bochs --timeout-factor 2 --logs "$scratch/blogs" \
		"$fake" pass mem96 fail allskip multiline smp2 <<'RE'
^PASS pass \(2 tests\) \[[0-9]+s\]$
^PASS mem96 \(2 tests\)
^FAIL fail \(2 tests, 1 unexpected failures\)
^SKIP allskip \(1 tests, 1 skipped\)
^PASS multiline \(2 tests\)
^SKIP smp2 \(needs 2 vCPUs; a doorbell VM has one\)$
^3 passed, 1 failed, 2 skipped$
RE
	if grep -q '^kutfake: program x86/fake\.flat$' "$scratch/blogs/pass.log" 2>/dev/null &&
	   grep -q '^kutfake: mem 96 MiB$' "$scratch/blogs/mem96.log" 2>/dev/null; then
		ok bochs-kut-program-name-and-mem
	else
		bad bochs-kut-program-name-and-mem "program name or memory not as planned" \
			"$(cat "$scratch/blogs/pass.log" "$scratch/blogs/mem96.log" 2>&1)"
	fi
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
