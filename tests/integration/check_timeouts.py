#!/usr/bin/python3
"""Check flow records against the idle/active timeout rules.

Input: `umbra-analyze flows --format csv` output, the timeouts the engine
ran with, and the capture's last packet time (the engine's clock in --pcap
mode is the packet time, so nothing can expire after it).

Rules (tol absorbs the engine's expiry-scan granularity):
  idle      last + idle <= capture end + tol            (it really idled)
            last - first < active + tol                 (else: active)
  active    active - idle - tol < last - first < active + tol
  shutdown  last > capture end - idle - tol             (else: idle)
            last - first < active + tol
  records of one 5-tuple do not overlap; after an idle record the next
  one starts >= idle - tol later; nothing follows a shutdown record.
Also requires at least one record of each of idle, active, shutdown.

With --rotate and --dumps, rotation is checked too: each dump file is read
on its own (umbra-analyze flows FILE), its period start P comes from its
name (docs/FORMAT.md: umbra-<sensor>-<YYYYmmddTHHMMSSZ>[-N].uz), and each
record in it must have become exportable during that period:
P - tol <= E < P + rotate, with E the earliest export time the timeouts
allow (idle: last + idle; active: max(last, first + active); shutdown: the
capture end). tol covers the expiry scan and the writer's flush interval.
"""

import argparse
import csv
import datetime
import glob
import os
import re
import subprocess
import sys

REASONS = ("idle", "active", "shutdown")


def ts(s):
    s = s.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    return datetime.datetime.fromisoformat(s).timestamp()


NAME_RE = re.compile(r"^umbra-.*-(\d{8}T\d{6}Z)(-\d+)?\.uz$")


def export_time(row, a):
    first, last = ts(row["first"]), ts(row["last"])
    reason = row["end_reason"].strip()
    if reason == "idle":
        return last + a.idle
    if reason == "active":
        return max(last, first + a.active)
    return a.capture_end


def check_rotation(a):
    bad = []
    files = sorted(glob.glob(os.path.join(a.dumps, "*.uz")))
    periods = {}
    print("  rotation: %d file(s), period %g s" % (len(files), a.rotate))
    for path in files:
        name = os.path.basename(path)
        m = NAME_RE.match(name)
        if not m:
            bad.append("dump file name not as documented: " + name)
            continue
        p0 = datetime.datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        if p0 % a.rotate:
            bad.append("%s: period start not aligned to %g s" % (name, a.rotate))
        out = subprocess.run([a.analyze, "flows", "--format", "csv", path],
                             capture_output=True, text=True)
        if out.returncode != 0:
            bad.append("umbra-analyze flows %s failed: %s" % (name, out.stderr))
            continue
        rows = list(csv.DictReader(out.stdout.splitlines()))
        early = late = 0
        lo = hi = None
        for row in rows:
            e = export_time(row, a)
            lo = e if lo is None else min(lo, e)
            hi = e if hi is None else max(hi, e)
            if e < p0 - a.tol:
                early += 1
            elif e >= p0 + a.rotate:
                late += 1
        periods[p0] = periods.get(p0, 0) + len(rows)
        span = ("earliest export %s, latest %s" % (
            datetime.datetime.utcfromtimestamp(lo).strftime("%H:%M:%S"),
            datetime.datetime.utcfromtimestamp(hi).strftime("%H:%M:%S"))
            if rows else "empty")
        print("    %s: %d records, %s" % (name, len(rows), span))
        if early:
            bad.append("%s: %d record(s) exportable only before the period "
                       "(written to a later period's file)" % (name, early))
        if late:
            bad.append("%s: %d record(s) not exportable before the period "
                       "ended" % (name, late))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--idle", type=float, required=True)
    ap.add_argument("--active", type=float, required=True)
    ap.add_argument("--capture-end", type=float, required=True,
                    help="epoch seconds of the last packet")
    ap.add_argument("--tol", type=float, default=2.0)
    ap.add_argument("--rotate", type=float)
    ap.add_argument("--dumps", help="directory of dump files (with --rotate)")
    ap.add_argument("--analyze", help="umbra-analyze binary (with --dumps)")
    a = ap.parse_args()

    counts = {}
    bad = []
    by_tuple = {}
    with open(a.csv, newline="") as f:
        r = csv.DictReader(f)
        for row in r:
            reason = row["end_reason"].strip()
            counts[reason] = counts.get(reason, 0) + 1
            first, last = ts(row["first"]), ts(row["last"])
            dur = last - first
            t5 = (row["src"], row["dst"], row["proto"], row["sport"],
                  row["dport"])
            desc = "%s %s->%s %s %s/%s first=%s last=%s" % (
                reason, row["src"], row["dst"], row["proto"], row["sport"],
                row["dport"], row["first"], row["last"])
            if dur < 0:
                bad.append("last before first: " + desc)
            if reason == "idle":
                if last + a.idle > a.capture_end + a.tol:
                    bad.append("idle record whose last packet is less than "
                               "idle-timeout before the capture end: " + desc)
                if dur >= a.active + a.tol:
                    bad.append("idle record longer than active-timeout: " + desc)
            elif reason == "active":
                if not (a.active - a.idle - a.tol < dur < a.active + a.tol):
                    bad.append("active record lasting %.3f s: %s" % (dur, desc))
            elif reason == "shutdown":
                if last <= a.capture_end - a.idle - a.tol:
                    bad.append("shutdown record idle long before the end "
                               "(should have been idle): " + desc)
                if dur >= a.active + a.tol:
                    bad.append("shutdown record longer than active-timeout: "
                               + desc)
            else:
                bad.append("unexpected end_reason: " + desc)
            by_tuple.setdefault(t5, []).append((first, last, reason))

    split = 0
    for t5, recs in by_tuple.items():
        if len(recs) < 2:
            continue
        split += 1
        recs.sort()
        for (f1, l1, r1), (f2, l2, r2) in zip(recs, recs[1:]):
            if f2 < l1:
                bad.append("overlapping records for %s" % (t5,))
            if r1 == "shutdown":
                bad.append("a record follows a shutdown record for %s" % (t5,))
            if r1 == "idle" and f2 - l1 < a.idle - a.tol:
                bad.append("idle record followed after only %.3f s for %s"
                           % (f2 - l1, t5))

    if a.rotate and a.dumps:
        bad += check_rotation(a)

    print("  end_reason counts: %s" % dict(sorted(counts.items())))
    print("  5-tuples split over several records: %d" % split)
    for r in REASONS:
        if counts.get(r, 0) == 0:
            bad.append("no record with end_reason %s" % r)
    if bad:
        print("  %d timeout rule violation(s); first 20:" % len(bad))
        for b in bad[:20]:
            print("    " + b)
        print("FAILED")
        return 1
    print("  timeout rules: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
