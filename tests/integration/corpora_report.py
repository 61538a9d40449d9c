#!/usr/bin/python3
"""Helpers for corpora.sh.

--count FILE     walk a classic pcap file's records (for link types that
                 Wireshark's reader rejects); prints "pcapwalk COUNT COMPLETE"
                 and exits 0, or exits 1 if FILE is not a classic pcap.
--results DIR    judge the per-file results corpora.sh left in DIR
                 (N.tsv and N.json) and print totals; exit 1 on failure.
"""

import argparse
import glob
import json
import os
import struct
import sys

BUCKETS = ["darknet_packets", "not_darknet_packets", "malformed_packets",
           "not_ip_packets", "unsupported_link_packets"]
MAGICS = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
          b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}


def pcap_count(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24 or data[:4] not in MAGICS:
        return None
    e = MAGICS[data[:4]]
    off, n = 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack_from(e + "I", data, off + 8)[0]
        if off + 16 + incl > len(data):
            return n, 0                       # last record cut short
        off += 16 + incl
        n += 1
    return n, int(off == len(data))


def judge(resdir, nfiles):
    rows = []
    for tsv in glob.glob(os.path.join(resdir, "*.tsv")):
        with open(tsv) as f:
            cols = f.read().rstrip("\n").split("\t")
        cols += [""] * (10 - len(cols))
        stats = None
        js = tsv[:-4] + ".json"
        if os.path.exists(js):
            try:
                with open(js) as f:
                    stats = json.load(f)
            except ValueError as ex:
                stats = {"_invalid": str(ex)}
        rows.append({
            "name": cols[0], "ref_kind": cols[1],
            "ref": int(cols[2] or 0), "complete": cols[3] == "1",
            "rc": int(cols[4]), "ms": int(cols[5] or 0),
            "dumps": int(cols[6] or 0), "zstd_bad": int(cols[7] or 0),
            "partial": int(cols[8] or 0), "msg": cols[9], "stats": stats})
    rows.sort(key=lambda r: r["name"])

    fails, notes = [], []

    def fail(r, why):
        fails.append("%s: %s (exit %d%s)" % (
            r["name"], why, r["rc"], ", '%s'" % r["msg"] if r["msg"] else ""))

    tot = {k: 0 for k in ["rx_packets"] + BUCKETS}
    reasons = {}
    kinds = {"complete": 0, "cut short": 0, "unreadable": 0}
    for r in rows:
        rc, s = r["rc"], r["stats"]
        if rc in (124, 137):
            fail(r, "timed out")
            continue
        if rc >= 128:
            fail(r, "killed by signal %d" % (rc - 128))
            continue
        if rc not in (0, 1, 2):
            fail(r, "exit status outside 0..2")
        if r["zstd_bad"]:
            fail(r, "%d dump file(s) fail zstd -t" % r["zstd_bad"])
        if r["partial"] and rc == 0:
            fail(r, "%d dump file(s) left .partial" % r["partial"])
        if s is not None and "_invalid" in s:
            fail(r, "stats-json is not JSON: " + s["_invalid"])
            s = None
        if s is not None:
            rx = s.get("rx_packets")
            parts = sum(s.get(k, 0) for k in BUCKETS)
            if rx != parts:
                fail(r, "rx_packets %s != sum of buckets %d (%s)" % (
                    rx, parts, {k: s.get(k) for k in BUCKETS}))
            mal = s.get("malformed") or {}
            if sum(mal.values()) != s.get("malformed_packets", 0):
                fail(r, "malformed{} sums to %d, malformed_packets %s" % (
                    sum(mal.values()), s.get("malformed_packets")))
            for k in tot:
                tot[k] += s.get(k, 0) or 0
            for k, v in mal.items():
                reasons[k] = reasons.get(k, 0) + v
        if r["ref_kind"] == "none":
            kinds["unreadable"] += 1
            if rc == 0:
                notes.append("%s: no reference reader understands it, "
                             "umbra read %s packets" % (
                                 r["name"], s and s.get("rx_packets")))
            elif not r["msg"]:
                fail(r, "unreadable file rejected without a message")
        elif r["complete"]:
            kinds["complete"] += 1
            if rc != 0:
                fail(r, "file read completely by %s but umbra failed" %
                     r["ref_kind"])
            elif s is None:
                fail(r, "no stats-json written")
            elif s.get("rx_packets") != r["ref"]:
                fail(r, "rx_packets %s != %s count %d" % (
                    s.get("rx_packets"), r["ref_kind"], r["ref"]))
        else:
            kinds["cut short"] += 1
            got = s.get("rx_packets") if s else None
            notes.append("%s: cut short; %s read %d, umbra %s (exit %d)" % (
                r["name"], r["ref_kind"], r["ref"], got, rc))

    slow = sorted(rows, key=lambda r: -r["ms"])[:3]
    print("  files: %d (expected %d): %s" % (len(rows), nfiles, kinds))
    print("  packets: %s" % tot)
    print("  malformed by reason: %s" % dict(sorted(reasons.items())))
    print("  engine time per file: mean %.0f ms, slowest %s" % (
        sum(r["ms"] for r in rows) / max(1, len(rows)),
        ", ".join("%s %d ms" % (r["name"], r["ms"]) for r in slow)))
    for n in notes:
        print("  note: " + n)
    if len(rows) != nfiles:
        fails.append("%d result(s) missing" % (nfiles - len(rows)))
    if fails:
        print("FAILED: %d problem(s); first 40:" % len(fails))
        for f in fails[:40]:
            print("  " + f)
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count")
    ap.add_argument("--results")
    ap.add_argument("--files", type=int, default=0)
    a = ap.parse_args()
    if a.count:
        c = pcap_count(a.count)
        if c is None:
            return 1
        print("pcapwalk %d %d" % c)
        return 0
    if a.results:
        return judge(a.results, a.files)
    ap.error("--count or --results")
    return 2


if __name__ == "__main__":
    sys.exit(main())
