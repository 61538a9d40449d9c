#!/usr/bin/python3
"""Compare umbra's output with tshark's independent count (and the
generator's manifest).

  --oracle  JSON from tshark_oracle.py (the reference)
  --manifest JSON from scripts/gen-darknet.py --manifest (optional)
  --csv     `umbra-analyze flows --format csv` output (optional)
  --stats   the engine's --stats-json file (optional)
  --analyze-stats  `umbra-analyze stats --format json` output (optional):
                 the dump's totals and interval counters against the above
  --flows-exact  the CSV must hold exactly one row per distinct 5-tuple
                 (true when no timeout can fire during the capture)

Prints every comparison; exits 1 if any fails.
"""

import argparse
import csv
import ipaddress
import json
import sys

PROTO_NAME = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmp6"}
failures = []


def check(what, got, want):
    ok = got == want
    print("  %-58s %s %s%s" % (what, "ok  " if ok else "FAIL", got,
                               "" if ok else " (expected %s)" % (want,)))
    if not ok:
        failures.append(what)
    return ok


def norm_proto(p):
    p = p.strip().lower()
    return PROTO_NAME.get(p, p)


def norm_addr(a):
    return str(ipaddress.ip_address(a.strip()))


def keymap(rows):
    return {(r[0], r[1], int(r[2])): (int(r[3]), int(r[4])) for r in rows}


def diff_keys(name_a, a, name_b, b, limit=20):
    """a, b: {key: (packets, bytes)}. Print the first differing keys."""
    keys = sorted(set(a) | set(b), key=lambda k: (k[0], k[1], k[2]))
    bad = [k for k in keys if a.get(k) != b.get(k)]
    if bad:
        print("    %d keys differ; first %d (dst, proto, dport): "
              "%s -> (packets, bytes) vs %s" % (len(bad), min(limit, len(bad)),
                                                name_a, name_b))
        for k in bad[:limit]:
            print("      %-40s %-6s %5d  %-16s %s" %
                  (k[0], k[1], k[2], a.get(k), b.get(k)))
    return bad


def compare_keys(label, a_name, a, b_name, b, with_bytes=True):
    if not with_bytes:
        a = {k: (v[0], 0) for k, v in a.items()}
        b = {k: (v[0], 0) for k, v in b.items()}
    pa = sum(v[0] for v in a.values())
    pb = sum(v[0] for v in b.values())
    check("%s: keys (dst,proto,dport)" % label, len(a), len(b))
    check("%s: packets in keys" % label, pa, pb)
    bad = diff_keys(a_name, a, b_name, b)
    matched = len(set(a) & set(b)) - len([k for k in bad if k in a and k in b])
    ok = check("%s: per-key %s equal" % (label, "packets+bytes" if with_bytes
                                          else "packets"), len(bad), 0)
    print("    matched %d keys, %d packets" % (
        matched, sum(a[k][0] for k in a if a.get(k) == b.get(k))))
    return ok


def read_csv(path):
    keys = {}
    tuples = {}
    rows = 0
    packets = 0
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        want = ["first", "last", "src", "dst", "proto", "sport", "dport",
                "packets", "bytes", "tcp_flags", "ttl_min", "ttl_max", "tags",
                "end_reason"]
        check("csv: first 14 columns", header[:14], want)
        ix = {h: i for i, h in enumerate(header)}
        for row in r:
            if not row:
                continue
            rows += 1
            dst = norm_addr(row[ix["dst"]])
            src = norm_addr(row[ix["src"]])
            proto = norm_proto(row[ix["proto"]])
            sport, dport = int(row[ix["sport"]]), int(row[ix["dport"]])
            n, b = int(row[ix["packets"]]), int(row[ix["bytes"]])
            packets += n
            k = (dst, proto, dport)
            v = keys.get(k, (0, 0))
            keys[k] = (v[0] + n, v[1] + b)
            t = (src, dst, proto, sport, dport)
            tuples[t] = tuples.get(t, 0) + 1
    return {"rows": rows, "packets": packets, "keys": keys, "tuples": tuples}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--manifest")
    ap.add_argument("--csv")
    ap.add_argument("--stats")
    ap.add_argument("--analyze-stats")
    ap.add_argument("--flows-exact", action="store_true")
    a = ap.parse_args()

    o = json.load(open(a.oracle))
    okeys = keymap(o["keys"])
    print("tshark: %d frames, buckets %s, %d darknet keys, %d distinct 5-tuples"
          % (o["frames"], o["buckets"], len(okeys), o["flows"]))
    if "display_filter_frames" in o:
        print("  display filter: %s" % o["display_filter"])
        check("tshark: display-filter count == field-based darknet count",
              o["display_filter_frames"], o["buckets"]["darknet"])

    if a.manifest:
        m = json.load(open(a.manifest))
        print("generator manifest vs tshark:")
        check("frames", m["packets"], o["frames"])
        check("darknet packets", m["darknet_packets"], o["buckets"]["darknet"])
        check("not-darknet packets", m["not_darknet_packets"],
              o["buckets"]["not_darknet"])
        check("not-IP packets", m["not_ip_packets"], o["buckets"]["not_ip"])
        check("malformed packets", m["malformed_packets"],
              o["buckets"]["malformed"])
        check("malformed frame numbers identical",
              m["malformed_frames"] == o["malformed_frames"], True)
        check("distinct 5-tuples", m["flows"], o["flows"])
        check("darknet IP bytes", m["darknet_ip_bytes"], o["darknet_ip_bytes"])
        compare_keys("manifest vs tshark", "manifest", keymap(m["keys"]),
                     "tshark", okeys)

    c = None
    if a.csv:
        print("umbra-analyze flows CSV vs tshark:")
        c = read_csv(a.csv)
        print("    csv: %d rows, %d packets" % (c["rows"], c["packets"]))
        check("packets in records == tshark darknet packets", c["packets"],
              o["buckets"]["darknet"])
        compare_keys("csv vs tshark", "umbra", c["keys"], "tshark", okeys)
        if a.flows_exact:
            check("records (rows) == distinct 5-tuples (tshark)", c["rows"],
                  o["flows"])
            dup = [t for t, n in c["tuples"].items() if n > 1]
            if dup:
                print("    5-tuples in more than one record (first 20):")
                for t in dup[:20]:
                    print("      %s x%d" % (t, c["tuples"][t]))
            check("5-tuples seen in more than one record", len(dup), 0)

    if a.stats:
        s = json.load(open(a.stats))
        print("stats-json (engine) vs tshark:")
        rx = s.get("rx_packets")
        check("rx_packets == tshark frames", rx, o["frames"])
        for key, bucket in (("darknet_packets", "darknet"),
                            ("not_darknet_packets", "not_darknet"),
                            ("not_ip_packets", "not_ip"),
                            ("malformed_packets", "malformed")):
            check("%s == tshark %s" % (key, bucket), s.get(key),
                  o["buckets"][bucket])
        parts = ["darknet_packets", "not_darknet_packets", "malformed_packets",
                 "not_ip_packets", "unsupported_link_packets"]
        missing = [p for p in parts if p not in s]
        if missing:
            print("    note: stats-json lacks %s (counted as 0)" % missing)
        check("rx_packets == sum of buckets (%s)" % "+".join(
            p.replace("_packets", "") for p in parts),
            rx, sum(s.get(p, 0) for p in parts))
        mal = s.get("malformed", {})
        check("sum of malformed{reason} == malformed_packets",
              sum(mal.values()) if isinstance(mal, dict) else None,
              s.get("malformed_packets"))
        print("    malformed by reason: %s" % (mal,))
        if "darknet_bytes" in s:
            check("darknet_bytes == tshark IP bytes", s["darknet_bytes"],
                  o["darknet_ip_bytes"])
        dropped = s.get("records_dropped", 0)
        print("    records_dropped=%s rx_missed=%s" % (dropped,
                                                       s.get("rx_missed")))
        if c is not None:
            dp = s.get("records_dropped_packets")
            if dp is None:
                check("records_dropped (no records_dropped_packets key)",
                      dropped, 0)
                dp = 0
            check("darknet_packets == packets in records + dropped",
                  s.get("darknet_packets"), c["packets"] + dp)
            if "records_written" in s:
                check("records_written == CSV rows", s["records_written"],
                      c["rows"])
            if "flows_exported" in s and not dropped:
                check("flows_exported == CSV rows", s["flows_exported"],
                      c["rows"])
        check("rx_missed", s.get("rx_missed", 0), 0)
        if a.manifest:
            # the generator's malformed kinds and the engine's reason names
            kinds = {"bad_ihl": "ipv4_ihl",
                     "ip_total_length_beyond_frame": "ipv4_totlen",
                     "truncated_tcp": "tcp_trunc",
                     "ipv6_ext_chain_past_end": "ipv6_ext"}
            for kind, reason in kinds.items():
                check("malformed %s == generated %s" % (reason, kind),
                      mal.get(reason, 0), m["malformed"].get(kind, 0))

    if a.analyze_stats:
        z = json.load(open(a.analyze_stats))
        print("umbra-analyze stats (dump files) vs tshark / CSV / stats-json:")
        check("bad_files", z.get("bad_files"), 0)
        check("damaged_blocks", z.get("damaged_blocks"), 0)
        check("packets in dump records == tshark darknet", z.get("packets"),
              o["buckets"]["darknet"])
        check("bytes in dump records == tshark IP bytes", z.get("bytes"),
              o["darknet_ip_bytes"])
        if c is not None:
            check("records in dumps == CSV rows", z.get("records"), c["rows"])
            check("sum of end_reasons == CSV rows",
                  sum(z.get("end_reasons", {}).values()), c["rows"])
        if z.get("intervals", 0) > 0:
            check("interval rx_packets == tshark frames", z.get("rx_packets"),
                  o["frames"])
            check("interval darknet_packets == tshark darknet",
                  z.get("darknet_packets"), o["buckets"]["darknet"])
            check("interval malformed_packets == tshark malformed",
                  z.get("malformed_packets"), o["buckets"]["malformed"])
            # the interval frame has no not-IP field: its not_darknet
            # counts every non-darknet, well-formed frame (engine/main.c)
            check("interval not_darknet == tshark not_darknet + not_ip",
                  z.get("not_darknet_packets"),
                  o["buckets"]["not_darknet"] + o["buckets"]["not_ip"])
            check("interval rx == darknet + not_darknet + malformed",
                  z.get("rx_packets"), z.get("darknet_packets", 0) +
                  z.get("not_darknet_packets", 0) +
                  z.get("malformed_packets", 0))
            check("interval ring/write drops", (z.get("ring_drops"),
                  z.get("write_drops")), (0, 0))
        else:
            failures.append("dump files hold no interval counters")
            print("  no interval counters in the dump files: FAIL")

    if failures:
        print("FAILED: %d check(s): %s" % (len(failures), "; ".join(failures)))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
