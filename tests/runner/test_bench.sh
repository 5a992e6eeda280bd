#!/usr/bin/env bash
# tests/runner/test_bench.sh - the benchmark's tooling (tools/bench,
# tools/bench-report.py). On the host: the report of a recorded quick run
# (bench/testdata: two boots' serial lines) parses into results.json with
# every path, and the regression gate passes on the same figures, fails
# naming the row on a growth above 2%, on a missing row and on sent !=
# handled, and names a row the baseline lacks as new without failing. With boot tests on (not HOST_ONLY=1; TESTS unset or matching
# "bench"): a real quick run in Bochs (tools/bench --quick, two boots, about a
# minute), whose JSON must parse with every path and sent == handled. Not
# timed. Last line "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
rep="$top/tools/bench-report.py"
passed=0 failed=0
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
all=null-cpuid:32,null-vmcall:32,pio:32,fast-mmio:32,mmio:32,sync-mmio:32,hypercall:32,pio:64,fast-mmio:64,mmio:64,sync-mmio:64,hypercall:64

# check NAME WANT_STATUS REGEX -- COMMAND...
check() {
	local name=$1 want=$2 re=$3; shift 4
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL $name: exit status $rc, expected $want"; printf '%s\n' "$out" | tail -n 8 | sed 's/^/    | /'
		failed=$((failed + 1))
	elif ! grep -qE -- "$re" <<<"$out"; then
		echo "FAIL $name: no line matches: $re"; printf '%s\n' "$out" | tail -n 8 | sed 's/^/    | /'
		failed=$((failed + 1))
	else
		echo "ok   $name"; passed=$((passed + 1))
	fi
}

# edit FILE PYTHON: applies a python expression to the loaded JSON `d`.
edit() {
	python3 - "$1" "$2" <<'PY'
import json, sys
fn, code = sys.argv[1], sys.argv[2]
d = json.load(open(fn))
exec(code)
json.dump(d, open(fn, "w"))
PY
}

cp -r "$top/bench/testdata" "$scratch/run"
check report-recorded 0 '^bench: wrote .*results.json \(18 rows\)' -- \
	python3 "$rep" report --dir "$scratch/run" --platform bochs --commit test
check report-table 0 '^fast-mmio / pio|fast-mmio / pio +[0-9.]+ +1\.84' -- \
	python3 "$rep" report --dir "$scratch/run" --platform bochs --commit test
check verify-recorded 0 '^[0-9]+ passed, 0 failed$' -- \
	python3 "$rep" verify --results "$scratch/run/results.json" --paths "$all"
check verify-missing-path 1 '^FAIL: no row for path poll' -- \
	python3 "$rep" verify --results "$scratch/run/results.json" --paths pio,poll
res=$scratch/run/results.json bl=$scratch/baseline.json
check baseline-make 0 'wrote .*\(18 rows\)' -- python3 "$rep" baseline --results "$res" --out "$bl"
check gate-same 0 '^18 passed, 0 failed$' -- python3 "$rep" check --results "$res" --baseline "$bl"

cp "$res" "$scratch/grow.json"
edit "$scratch/grow.json" 'r=[r for r in d["rows"] if r["path"]=="fast-mmio" and r["guest_mode"]=="64"][0]; r["cycles_per_op"]=r["cycles_per_op"]*1.03'
check gate-grows-3pct 1 '^bench-check: FAIL path=fast-mmio guest_mode=64 registrations=1 len_source=decode lookup=binary notify=ipi vcpus=1: .*\+3\.0%' -- \
	python3 "$rep" check --results "$scratch/grow.json" --baseline "$bl"
cp "$res" "$scratch/grow2.json"
edit "$scratch/grow2.json" 'r=[r for r in d["rows"] if r["path"]=="pio"][0]; r["cycles_per_op"]=r["cycles_per_op"]*1.015'
check gate-grows-1.5pct 0 '^18 passed, 0 failed$' -- python3 "$rep" check --results "$scratch/grow2.json" --baseline "$bl"
# A row the baseline does not have (the poll path, before a renewal): named
# new, counted neither way; the rows the baseline has still gate.
cp "$res" "$scratch/new.json"
edit "$scratch/new.json" 'import copy; r=copy.deepcopy([r for r in d["rows"] if r["path"]=="hypercall"][0]); r["path"]="poll"; r["cycles_per_op"]=6.0; r.pop("key", None); d["rows"].append(r)'
check gate-new-row 0 '^bench-check: new  path=poll guest_mode=32 registrations=0 lookup=binary notify=ipi vcpus=1: 6.00 per op \(not in the baseline' -- \
	python3 "$rep" check --results "$scratch/new.json" --baseline "$bl"
check gate-new-row-counts 0 '^18 passed, 0 failed$' -- python3 "$rep" check --results "$scratch/new.json" --baseline "$bl"
edit "$scratch/new.json" 'r=[r for r in d["rows"] if r["path"]=="pio"][0]; r["cycles_per_op"]=r["cycles_per_op"]*1.05'
check gate-new-row-still-gates 1 '^bench-check: FAIL path=pio ' -- \
	python3 "$rep" check --results "$scratch/new.json" --baseline "$bl"
cp "$res" "$scratch/missing.json"
edit "$scratch/missing.json" 'd["rows"]=[r for r in d["rows"] if not (r["path"]=="mmio" and r["registrations"]==201 and r["guest_mode"]=="32")]'
check gate-missing-row 1 '^bench-check: FAIL path=mmio guest_mode=32 registrations=201 .*missing' -- \
	python3 "$rep" check --results "$scratch/missing.json" --baseline "$bl"
cp "$res" "$scratch/lost.json"
edit "$scratch/lost.json" 'r=[r for r in d["rows"] if r["path"]=="hypercall"][0]; r["handled"]=r["handled"]-1'
check gate-sent-handled 1 '^bench-check: FAIL path=hypercall .*sent 2000 != handled 1999' -- \
	python3 "$rep" check --results "$scratch/lost.json" --baseline "$bl"
check verify-sent-handled 1 '^FAIL: path=hypercall .*sent 2000 != handled 1999' -- \
	python3 "$rep" verify --results "$scratch/lost.json" --paths pio
cp "$res" "$scratch/other.json"; edit "$scratch/other.json" 'd["platform"]="qemu-kvm"'
check gate-other-platform 1 'the baseline from bochs' -- \
	python3 "$rep" check --results "$scratch/other.json" --baseline "$bl"
check committed-baseline-parses 0 'rows' -- python3 -c \
	"import json; d=json.load(open('$top/bench/baseline.json')); assert d['platform']=='bochs' and len(d['rows'])>30; print(len(d['rows']), 'rows')"

# A failed boot makes the report fail.
cp -r "$top/bench/testdata" "$scratch/bad"
sed -i '1s/\t0\t\([0-9]*\)$/\t124\t\1/' "$scratch/bad/boots.tsv"
check report-failed-boot 1 'PROBLEM: boot main32 ended with status 124' -- \
	python3 "$rep" report --dir "$scratch/bad" --platform bochs --commit test

# The real thing, briefly.
if [ "${HOST_ONLY:-0}" != 1 ] && { [ -z "${TESTS:-}" ] || [[ bench =~ ${TESTS} ]]; }; then
	if [ -f "$top/build/guest/bench.elf" ]; then
		check bench-quick-bochs 0 '^bench: exit status 0$' -- \
			"$top/tools/bench" --quick --platform bochs --out "$scratch/quick"
		check bench-quick-json 0 '^[0-9]+ passed, 0 failed$' -- \
			python3 "$rep" verify --results "$scratch/quick/results.json" --paths "$all,mmio:32,poll:32,poll:64"
		[ -s "$scratch/quick/doorbell.svg" ] && grep -q '<svg' "$scratch/quick/doorbell.svg" &&
			{ echo "ok   bench-quick-svg"; passed=$((passed + 1)); } ||
			{ echo "FAIL bench-quick-svg: no chart"; failed=$((failed + 1)); }
	fi
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
