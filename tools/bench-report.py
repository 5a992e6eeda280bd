#!/usr/bin/env python3
"""tools/bench-report.py - the benchmark's results: parsing, JSON, chart,
table, and the regression gate (python3, standard library only).

  report --dir DIR --platform P --commit C [--seconds S]
      reads DIR/boots.tsv and DIR/logs/NAME.log (written by tools/bench),
      writes DIR/results.json and DIR/doorbell.svg (gnuplot), prints the
      table. Exit 1 when a boot failed, a row has sent != handled, or no row
      was found.
  check --results FILE --baseline FILE [--tolerance 0.02]
      `make bench-check`: every baseline row must be in the results, with
      sent == handled and cycles_per_op at most baseline * (1 + tolerance).
      Names every row that fails; a row the baseline does not have yet is
      named "new" and passes or fails nothing (renewing the baseline adds
      it). Last line "N passed, N failed".
  verify --results FILE --paths a,b,...
      the test of `make test`: the JSON parses, every named path has a row,
      every row has sent == handled. Last line "N passed, N failed".
  baseline --results FILE --out FILE
      writes a baseline (the Bochs rows' keys and path lengths) from results.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys

# KVM's measurement in the ioeventfd patch (the seed): round trip in us.
SEED_US = {"qemu-mmio": 9.09, "ioeventfd-mmio": 5.00, "ioeventfd-pio": 2.72,
           "ioeventfd-hc": 2.37}
SEED_IOPS = {"qemu-mmio": 110000, "ioeventfd-mmio": 200100,
             "ioeventfd-pio": 367300, "ioeventfd-hc": None}
PATHS = ["null-cpuid", "null-vmcall", "pio", "fast-mmio", "mmio", "sync-mmio",
         "hypercall", "poll"]
EVENT_PATHS = {"pio", "fast-mmio", "mmio", "hypercall", "poll"}
KEY_FIELDS = ["path", "guest_mode", "registrations", "len_source", "lookup",
              "notify", "vcpus", "vm"]

MEANING = {
    "bochs": "Bochs: its TSC counts retired instructions and a VM exit or entry "
             "adds none, so every figure is instruction path length (guest loop "
             "+ exit handler; service core: its scan), exact run to run. Exits "
             "cost nothing here: compare paths with each other and with the "
             "baseline, never with hardware. iops and us are not shown (the "
             "TSC rate Bochs reports is its configured ips).",
    "qemu-kvm": "QEMU+KVM, nested: real TSC cycles, but every exit of doorbell's "
                "guest is an exit to KVM first, so exits are inflated many times "
                "(published: a CPUID exit ~13,000-15,000 cycles nested against "
                "~1,000 on bare KVM). Ratios between paths mean more than the "
                "absolute figures.",
    "qemu-tcg": "QEMU TCG has no VMX: doorbell refuses to run, nothing is measured.",
    "hardware": "Real hardware: real TSC cycles, iops and round trips at the "
                "TSC's rate, comparable with KVM's figures beside them.",
}


def row_key(r):
    """The identity of a row across runs (bench-check's key)."""
    parts = []
    for f in KEY_FIELDS:
        if f in r and r[f] is not None:
            parts.append("%s=%s" % (f, r[f]))
    return " ".join(parts)


def parse_log(path):
    rows, problems = [], []
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError as e:
        return rows, ["cannot read %s: %s" % (path, e)]
    for n, line in enumerate(text.splitlines(), 1):
        line = line.rstrip("\r")
        # With several VMs doorbell prefixes each guest line with "vm N: ".
        m = re.match(r"(vm [0-9]+: )?BENCH (.*)$", line)
        if not m:
            continue
        try:
            rows.append(json.loads(m.group(2)))
        except ValueError as e:
            problems.append("%s:%d: BENCH line is not JSON (%s)" % (path, n, e))
    return rows, problems


def read_boots(d):
    boots = []
    with open(os.path.join(d, "boots.tsv"), encoding="utf-8") as f:
        for line in f:
            name, guest, cpus, args, gargs, status, secs = line.rstrip("\n").split("\t")
            boots.append({"name": name, "guest": guest, "cpus": int(cpus) if cpus.isdigit() else None,
                          "args": args, "guest_args": gargs, "status": int(status),
                          "seconds": int(secs)})
    return boots


def num(x):
    return None if x is None else float(x)


def fmt(x, nd=1):
    if x is None:
        return "-"
    if isinstance(x, float) and nd == 0:
        return "{:,.0f}".format(x)
    if isinstance(x, int):
        return "{:,}".format(x)
    return "{:,.{}f}".format(x, nd)


def find(rows, **kw):
    """The first row whose fields equal kw (None = absent in the row)."""
    for r in rows:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def cyc(r):
    return None if r is None else num(r.get("cycles_per_op"))


def diff(a, b):
    return None if a is None or b is None else a - b


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


# ---------------------------------------------------------------- the table

def base(rows, path, mode="32", regs=None, **kw):
    """A path's plain row: notify ipi, 1 VM, binary lookup, decode."""
    want = dict(path=path, guest_mode=mode, notify="ipi", vcpus=1, lookup="binary")
    if path == "fast-mmio":
        want["len_source"] = kw.pop("len_source", "decode")
    want.update(kw)
    if regs is None:
        regs = 0 if path in ("null-cpuid", "null-vmcall", "hypercall", "sync-mmio", "poll") else 1
    want["registrations"] = regs
    return find(rows, **want)


def print_table(res):
    rows, platform = res["rows"], res["platform"]
    real = platform != "bochs"
    unit = "instructions" if not real else "cycles"
    out = []
    p = out.append
    p("")
    p("doorbell benchmark: platform %s, commit %s, %s" % (platform, res["commit"], res["date"]))
    p("%s per operation, guest loop included (mean of %s ops); latency = guest's "
      "write -> service core's handling (TSC, %s); svc/ev = service core %s per "
      "handled event." % (unit.capitalize(), fmt(rows[0]["ops"]) if rows else "?",
                          "p50/p99/max", unit))
    p("")
    hdr = "%-12s %10s %10s" % ("path", "32-bit", "64-bit")
    if real:
        hdr += " %12s %9s" % ("iops (32)", "us (32)")
    hdr += " %18s %8s %14s" % ("latency p50/p99/max", "svc/ev", "sent=handled")
    p(hdr)
    p("-" * len(hdr))
    for path in PATHS:
        r32, r64 = base(rows, path, "32"), base(rows, path, "64")
        if r32 is None and r64 is None:
            continue
        r = r32 or r64
        line = "%-12s %10s %10s" % (path, fmt(cyc(r32), 2), fmt(cyc(r64), 2))
        if real:
            us = r.get("ns_per_op")
            line += " %12s %9s" % (fmt(r.get("iops")), fmt(None if us is None else us / 1000, 3))
        lat = "-"
        if r.get("p50") is not None:
            lat = "%s/%s/%s" % (r["p50"], r["p99"], r["max"])
        sh = "-"
        if path not in ("null-cpuid", "null-vmcall"):
            sh = "%s=%s" % (r["sent"], r["handled"])
        line += " %18s %8s %14s" % (lat, fmt(num(r.get("service_cycles_per_event")), 2), sh)
        p(line)
    p("(sync-mmio: 'handled' is the requests the service core served. poll: no exit, "
      "a store to the poll page that the service core watches: the cross-core floor; "
      "svc/ev per look that found a change.)")

    # fast-MMIO length source
    lens = []
    for ls in ("decode", "vmcs", "check"):
        a, b = base(rows, "fast-mmio", "32", len_source=ls), base(rows, "fast-mmio", "64", len_source=ls)
        if a or b:
            lens.append("%s %s/%s" % (ls, fmt(cyc(a), 2), fmt(cyc(b), 2)))
    if lens:
        p("")
        p("fast-mmio by fastmmio_len (32-bit/64-bit): " + ", ".join(lens) +
          "; pio %s/%s" % (fmt(cyc(base(rows, "pio", "32")), 2), fmt(cyc(base(rows, "pio", "64")), 2)))

    # bus scaling
    regs = sorted({r["registrations"] for r in rows
                   if r["path"] in ("pio", "fast-mmio") and r.get("notify") == "ipi"
                   and r.get("vcpus") == 1 and r.get("len_source", "decode") == "decode"})
    if len(regs) > 1:
        p("")
        p("Bus scaling: %s per doorbell against ioeventfds registered" % unit)
        p("%-16s" % "registrations" + "".join("%10s" % fmt(x) for x in regs) + "%10s" % "max/1")
        for path in ("pio", "fast-mmio"):
            for mode in ("32", "64"):
                vals = [cyc(base(rows, path, mode, regs=x)) for x in regs]
                if sum(v is not None for v in vals) < 2:
                    continue
                first = vals[0]
                worst = max(v for v in vals if v is not None)
                p("%-16s" % ("%s %s-bit" % (path, mode)) +
                  "".join("%10s" % fmt(v, 1) for v in vals) +
                  "%10s" % fmt(ratio(worst, first), 3))

    # generic bus: binary vs linear, KVM's experiment
    gb = []
    for lk in ("binary", "linear"):
        a = base(rows, "mmio", "32", regs=1, lookup=lk)
        b = base(rows, "mmio", "32", regs=201, lookup=lk)
        if a or b:
            gb.append((lk, a, b))
    if gb:
        p("")
        p("Generic bus (mmio datamatch, 32-bit): 1 registration, and KVM's experiment "
          "(200 datamatch doorbells on another address: 201)")
        for lk, a, b in gb:
            p("  lookup=%-7s %10s %10s   (+%s for 200 more)" %
              (lk, fmt(cyc(a), 2), fmt(cyc(b), 2),
               fmt(None if a is None or b is None else cyc(b) - cyc(a), 2)))

    # notification
    polls = [r for r in rows if r.get("notify") == "poll"]
    if polls:
        p("")
        p("notify=ipi against notify=poll (32-bit): cycles/op, latency p50, svc/ev")
        for path in ("pio", "fast-mmio", "mmio", "sync-mmio", "hypercall"):
            a = base(rows, path, "32")
            b = base(rows, path, "32", notify="poll")
            if b is None:
                continue
            p("  %-10s ipi %9s %6s %8s   poll %9s %6s %8s" % (
                path, fmt(cyc(a), 2), fmt(a and a.get("p50")), fmt(num(a and a.get("service_cycles_per_event")), 2),
                fmt(cyc(b), 2), fmt(b.get("p50")), fmt(num(b.get("service_cycles_per_event")), 2)))

    # contention
    two = [r for r in rows if r.get("vcpus") == 2]
    if two:
        p("")
        p("Contention: 1 against 2 vCPUs (VMs) signalling one service core (32-bit): "
          "cycles/op, latency p50/p99, svc/ev")
        for path in ("pio", "fast-mmio", "hypercall"):
            a = base(rows, path, "32")
            line = "  %-10s 1 VM %9s %5s/%-5s %7s" % (
                path, fmt(cyc(a), 2), fmt(a and a.get("p50")), fmt(a and a.get("p99")),
                fmt(num(a and a.get("service_cycles_per_event")), 2))
            for vm in (0, 1):
                b = find(two, path=path, guest_mode="32", vm=vm)
                if b:
                    line += "   vm%d %9s %5s/%-5s %7s" % (
                        vm, fmt(cyc(b), 2), fmt(b.get("p50")), fmt(b.get("p99")),
                        fmt(num(b.get("service_cycles_per_event")), 2))
            p(line)

    # ratios
    c = {k: cyc(base(rows, k, "32")) for k in PATHS}
    s = SEED_US
    p("")
    p("Ratios (32-bit)              doorbell   KVM (the seed)")
    pairs = [
        ("fast-mmio / pio", ratio(c["fast-mmio"], c["pio"]), s["ioeventfd-mmio"] / s["ioeventfd-pio"],
         "ioeventfd-mmio / ioeventfd-pio, before fast MMIO; after it \"essentially as fast as PIO\""),
        ("fast-mmio / null-vmcall", ratio(c["fast-mmio"], c["null-vmcall"]),
         s["ioeventfd-mmio"] / s["ioeventfd-hc"], "ioeventfd-mmio / ioeventfd-hc"),
        ("mmio / fast-mmio", ratio(c["mmio"], c["fast-mmio"]), s["ioeventfd-mmio"] / s["ioeventfd-pio"],
         "decoded ioeventfd-mmio / ioeventfd-pio (fast MMIO ~ PIO)"),
        ("sync-mmio / fast-mmio", ratio(c["sync-mmio"], c["fast-mmio"]), s["qemu-mmio"] / s["ioeventfd-mmio"],
         "qemu-mmio / ioeventfd-mmio"),
        ("fast-mmio / poll", ratio(c["fast-mmio"], c["poll"]), None,
         "what the exit costs the guest over a store (KVM's table has no exit-free path)"),
        ("p50 fast-mmio - poll", diff(num((base(rows, "fast-mmio", "32") or {}).get("p50")),
                                      num((base(rows, "poll", "32") or {}).get("p50"))), None,
         "latency the exit adds on the way to the service core (a difference: poll's p50 may be 0)"),
    ]
    for name, mine, seed, how in pairs:
        p("  %-24s %9s   %5s  %s" % (name, fmt(mine, 2), "-" if seed is None else "%.2f" % seed, how))
    p("  KVM's table: qemu-mmio 110,000 iops 9.09 us; ioeventfd-mmio 200,100 iops 5.00 us; "
      "ioeventfd-pio 367,300 iops 2.72 us; ioeventfd-hc 2.37 us (extrapolated).")
    p("")
    p("What these numbers mean: " + MEANING.get(platform, MEANING["hardware"]))
    print("\n".join(out))


# ---------------------------------------------------------------- the chart

def chart(res, d):
    if not shutil.which("gnuplot"):
        print("bench: no gnuplot (tools/deps installs gnuplot-nox): no chart")
        return False
    rows = res["rows"]
    unit = "instructions" if res["platform"] == "bochs" else "TSC cycles"
    bars = os.path.join(d, "paths.dat")
    cols = set()
    with open(bars, "w") as f:
        f.write("# path 32-bit 64-bit\n")
        for path in PATHS:
            a, b = cyc(base(rows, path, "32")), cyc(base(rows, path, "64"))
            if a is None and b is None:
                continue
            cols |= ({2} if a is not None else set()) | ({3} if b is not None else set())
            f.write("%s %s %s\n" % (path, "NaN" if a is None else a, "NaN" if b is None else b))
    series = []
    for path, mode, kw, title in [
            ("pio", "32", {}, "pio 32-bit"), ("fast-mmio", "32", {}, "fast-mmio 32-bit"),
            ("pio", "64", {}, "pio 64-bit"), ("fast-mmio", "64", {}, "fast-mmio 64-bit"),
            ("mmio", "32", {"lookup": "binary"}, "mmio binary search"),
            ("mmio", "32", {"lookup": "linear"}, "mmio linear scan")]:
        pts = []
        for r in rows:
            if r["path"] != path or r["guest_mode"] != mode or r.get("notify") != "ipi" \
                    or r.get("vcpus") != 1 or r.get("len_source", "decode") != "decode":
                continue
            if any(r.get(k) != v for k, v in kw.items()):
                continue
            if path != "mmio" and r.get("lookup") != "binary":
                continue
            pts.append((r["registrations"], cyc(r)))
        pts.sort()
        if len(pts) >= 2:
            fn = os.path.join(d, "scale-%d.dat" % len(series))
            with open(fn, "w") as f:
                for x, y in pts:
                    f.write("%d %s\n" % (x, y))
            series.append((fn, title))
    svg = os.path.join(d, "doorbell.svg")
    gp = ['set terminal svg size 1100,460 dynamic font "sans,11" background "white"',
          'set output "%s"' % svg,
          'set multiplot layout 1,%d title "doorbell on %s, commit %s (%s)"'
          % (2 if series else 1, res["platform"], res["commit"], res["date"][:10]),
          'set title "%s per operation, by path"' % unit.capitalize(),
          'set style data histograms', 'set style histogram clustered gap 1',
          'set style fill solid 0.8 border -1', 'set boxwidth 0.9',
          'set xtics rotate by -30 nomirror', 'set ylabel "%s per op"' % unit,
          'set logscale y', 'set yrange [2:*]', 'set grid ytics', 'set key top left',
          'plot ' + ", ".join('"%s" using %d:xtic(1) title "%s-bit guest"' % (bars, c, 32 if c == 2 else 64)
                              for c in sorted(cols)),
          'unset logscale y', 'set yrange [*:*]', 'set autoscale y',
          'set style data linespoints', 'set xtics norotate',
          'set title "Lookup cost against registrations"',
          'set logscale x', 'set xlabel "ioeventfds registered (log scale)"',
          'set ylabel "%s per op"' % unit, 'set logscale y', 'set key outside bottom center horizontal',
          'set format x "10^{%L}"', 'set xrange [0.7:100000]']
    if series:
        gp.append("plot " + ", ".join('"%s" using 1:2 with linespoints lw 2 title "%s"' % (fn, t)
                                       for fn, t in series))
    else:
        gp = [g for g in gp if not g.startswith(("set logscale x", 'set format x', 'set xrange'))]
        gp = gp[:gp.index('unset logscale y')]
    gp.append("unset multiplot")
    try:
        subprocess.run(["gnuplot"], input="\n".join(gp) + "\n", text=True, check=True,
                       capture_output=True)
    except subprocess.CalledProcessError as e:
        print("bench: gnuplot failed: %s" % e.stderr.strip())
        return False
    print("bench: wrote %s" % svg)
    return True


# ---------------------------------------------------------------- commands

def cmd_report(a):
    d = a.dir
    boots = read_boots(d)
    rows, problems = [], []
    for b in boots:
        rs, pr = parse_log(os.path.join(d, "logs", b["name"] + ".log"))
        problems += pr
        for r in rs:
            r["boot"] = b["name"]
        b["rows"] = len(rs)
        if b["status"] != 0:
            problems.append("boot %s ended with status %d (log %s)" %
                            (b["name"], b["status"], os.path.join(d, "logs", b["name"] + ".log")))
        rows += rs
    seen = {}
    for r in rows:
        r["key"] = row_key(r)
        if r.get("sent") != r.get("handled"):
            problems.append("row %s: sent %s != handled %s" % (r["key"], r.get("sent"), r.get("handled")))
        if r["key"] in seen:
            # ARGS= can make two boots alike (ARGS=notify=poll): keep both.
            print("bench: note: row %s again in boot %s (first in %s)" % (r["key"], r["boot"], seen[r["key"]]))
            r["key"] += " boot=" + r["boot"]
        seen[r["key"]] = r["boot"]
    if not rows:
        problems.append("no BENCH rows at all")
    res = {"platform": a.platform, "commit": a.commit,
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "seconds": a.seconds, "boots": boots, "rows": rows}
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    print("bench: wrote %s (%d rows)" % (os.path.join(d, "results.json"), len(rows)))
    if rows:
        chart(res, d)
        print_table(res)
    for pr in problems:
        print("bench: PROBLEM: " + pr)
    return 1 if problems else 0


def load(fn):
    with open(fn, encoding="utf-8") as f:
        return json.load(f)


def cmd_check(a):
    res, bl = load(a.results), load(a.baseline)
    passed = failed = 0
    if res.get("platform") != bl.get("platform"):
        print("bench-check: FAIL: the results are from %s, the baseline from %s: "
              "path lengths compare only in Bochs (make bench-check runs it there)"
              % (res.get("platform"), bl.get("platform")))
        print("0 passed, 1 failed")
        return 1
    got = {r["key"] if "key" in r else row_key(r): r for r in res["rows"]}
    for r in res["rows"]:
        if r.get("sent") != r.get("handled"):
            print("bench-check: FAIL %s: sent %s != handled %s" % (row_key(r), r.get("sent"), r.get("handled")))
            failed += 1
    tol = a.tolerance
    for key in sorted(set(got) - set(bl["rows"])):
        print("bench-check: new  %s: %.2f per op (not in the baseline: a renewal adds it)"
              % (key, float(got[key]["cycles_per_op"])))
    for key, want in sorted(bl["rows"].items()):
        r = got.get(key)
        if r is None:
            print("bench-check: FAIL %s: missing from this run" % key)
            failed += 1
            continue
        now = float(r["cycles_per_op"])
        if now > want * (1 + tol):
            print("bench-check: FAIL %s: %.2f per op, baseline %.2f (+%.1f%%, more than %.0f%%)"
                  % (key, now, want, (now / want - 1) * 100, tol * 100))
            failed += 1
        else:
            note = ""
            if now < want * (1 - tol):
                note = " (%.1f%% shorter: the baseline could be renewed)" % ((1 - now / want) * 100)
            print("bench-check: ok   %s: %.2f (baseline %.2f)%s" % (key, now, want, note))
            passed += 1
    print("bench-check: baseline from commit %s (%s)" % (bl.get("commit"), bl.get("date")))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def cmd_verify(a):
    passed = failed = 0
    try:
        res = load(a.results)
        passed += 1
    except (OSError, ValueError) as e:
        print("FAIL: %s does not parse: %s" % (a.results, e))
        print("0 passed, 1 failed")
        return 1
    rows = res.get("rows", [])
    for path in [p for p in a.paths.split(",") if p]:
        mode = None
        if ":" in path:
            path, mode = path.split(":")
        have = [r for r in rows if r["path"] == path and (mode is None or r["guest_mode"] == mode)]
        if have:
            passed += 1
        else:
            print("FAIL: no row for path %s%s" % (path, "" if mode is None else " (%s-bit)" % mode))
            failed += 1
    for r in rows:
        if r.get("sent") != r.get("handled"):
            print("FAIL: %s: sent %s != handled %s" % (row_key(r), r.get("sent"), r.get("handled")))
            failed += 1
        elif r["path"] in EVENT_PATHS and (r.get("sent") or 0) <= 0:
            print("FAIL: %s: no signal sent" % row_key(r))
            failed += 1
        else:
            passed += 1
        if r["path"] in EVENT_PATHS and r.get("p50") is None and res.get("latency", True):
            print("FAIL: %s: latency=1 but p50 is null" % row_key(r))
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def cmd_baseline(a):
    res = load(a.results)
    if res.get("platform") != "bochs":
        print("bench: a baseline is made from a Bochs run only (this one: %s)" % res.get("platform"))
        return 1
    bad = [r for r in res["rows"] if r.get("sent") != r.get("handled")]
    if bad:
        print("bench: not a baseline: %s has sent != handled" % row_key(bad[0]))
        return 1
    bl = {"platform": "bochs", "commit": res["commit"], "date": res["date"],
          "note": "cycles_per_op per row key: Bochs instruction path lengths; "
                  "make bench-check fails when one grows by more than 2%",
          "rows": {row_key(r): float(r["cycles_per_op"]) for r in res["rows"]}}
    with open(a.out, "w") as f:
        json.dump(bl, f, indent=1, sort_keys=True)
        f.write("\n")
    print("bench: wrote %s (%d rows)" % (a.out, len(bl["rows"])))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report")
    r.add_argument("--dir", required=True)
    r.add_argument("--platform", required=True)
    r.add_argument("--commit", default="unknown")
    r.add_argument("--seconds", type=int, default=0)
    c = sub.add_parser("check")
    c.add_argument("--results", required=True)
    c.add_argument("--baseline", required=True)
    c.add_argument("--tolerance", type=float, default=0.02)
    v = sub.add_parser("verify")
    v.add_argument("--results", required=True)
    v.add_argument("--paths", required=True)
    b = sub.add_parser("baseline")
    b.add_argument("--results", required=True)
    b.add_argument("--out", required=True)
    a = ap.parse_args()
    return {"report": cmd_report, "check": cmd_check, "verify": cmd_verify,
            "baseline": cmd_baseline}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
