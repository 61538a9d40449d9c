#!/usr/bin/env python3
"""Compare the flows an IPFIX collector stored with the engine's dump.

    ipfix_compare.py UMBRA_CSV (--nfdump JSON | --pmacct CSV)

UMBRA_CSV is `umbra-analyze flows --format csv`. Every record must arrive
exactly once with the same addresses, protocol, ports (ICMP type/code),
TCP flags, packets, bytes and start/end time in milliseconds (IPFIX
flowStart/EndMilliseconds). pmacct aggregates records with equal keys and
reports ICMP without type/code, so for it both sides are aggregated on its
key and ICMP ports are compared as 0.
"""
import argparse
import csv
import json
import socket
import sys
from collections import Counter
from datetime import datetime, timezone

PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "icmp6": 58}
FLAGS = "CEUAPRSF"  # nfdump's flag string, bit 7 .. bit 0


def ms(text):
    text = text.rstrip("Z").replace(" ", "T")
    dt = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 1000 + dt.microsecond // 1000


def proto_num(name):
    if name.isdigit():
        return int(name)
    if name in PROTO:
        return PROTO[name]
    return socket.getprotobyname(name)


def umbra_rows(path):
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            yield dict(first=ms(r["first"]), last=ms(r["last"]), src=r["src"], dst=r["dst"],
                       proto=proto_num(r["proto"]), sport=int(r["sport"]),
                       dport=int(r["dport"]), flags=int(r["tcp_flags"]),
                       packets=int(r["packets"]), bytes=int(r["bytes"]))


def nfdump_rows(path):
    for r in json.load(open(path)):
        icmp = r["proto"] in (1, 58)
        flags = 0
        for i, ch in enumerate(r.get("tcp_flags", "........")):
            if ch != ".":
                flags |= 1 << (7 - i)
        yield dict(first=ms(r["first"]), last=ms(r["last"]),
                   src=r.get("src4_addr", r.get("src6_addr")),
                   dst=r.get("dst4_addr", r.get("dst6_addr")), proto=r["proto"],
                   sport=r["icmp_type"] if icmp else r["src_port"],
                   dport=r["icmp_code"] if icmp else r["dst_port"], flags=flags,
                   packets=r["in_packets"], bytes=r["in_bytes"])


def pmacct_rows(path):
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["SRC_IP"] == "SRC_IP":
                continue
            yield dict(first=ms(r["TIMESTAMP_START"]), last=ms(r["TIMESTAMP_END"]),
                       src=r["SRC_IP"], dst=r["DST_IP"], proto=proto_num(r["PROTOCOL"]),
                       sport=int(r["SRC_PORT"]), dport=int(r["DST_PORT"]),
                       flags=int(r["TCP_FLAGS"]), packets=int(r["PACKETS"]),
                       bytes=int(r["BYTES"]))


KEY = ("first", "last", "src", "dst", "proto", "sport", "dport", "flags")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("umbra_csv")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--nfdump")
    g.add_argument("--pmacct")
    a = ap.parse_args()
    ours = list(umbra_rows(a.umbra_csv))
    theirs = list(nfdump_rows(a.nfdump) if a.nfdump else pmacct_rows(a.pmacct))
    name = "nfcapd" if a.nfdump else "nfacctd"
    if a.pmacct:
        # pmacct sums equal keys; ICMP type/code are not in its output
        for r in ours:
            if r["proto"] in (1, 58):
                r["sport"] = r["dport"] = 0
        agg = {}
        for r in ours:
            k = tuple(r[x] for x in KEY)
            p, b = agg.get(k, (0, 0))
            agg[k] = (p + r["packets"], b + r["bytes"])
        ours_c = Counter({k + v: 1 for k, v in agg.items()})
    else:
        ours_c = Counter(tuple(r[x] for x in KEY) + (r["packets"], r["bytes"]) for r in ours)
    theirs_c = Counter(tuple(r[x] for x in KEY) + (r["packets"], r["bytes"]) for r in theirs)
    up, ub = sum(r["packets"] for r in ours), sum(r["bytes"] for r in ours)
    tp, tb = sum(r["packets"] for r in theirs), sum(r["bytes"] for r in theirs)
    print(f"umbra dump: {len(ours)} records, {up} packets, {ub} bytes "
          f"({sum(ours_c.values())} {'keys' if a.pmacct else 'records'})")
    print(f"{name}: {len(theirs)} records, {tp} packets, {tb} bytes")
    missing, extra = ours_c - theirs_c, theirs_c - ours_c
    for what, c in (("missing at the collector", missing), ("only at the collector", extra)):
        for k in list(c)[:5]:
            print(f"  {what}: {k}")
    if missing or extra or up != tp or ub != tb or sum(theirs_c.values()) != sum(ours_c.values()):
        print(f"FAIL: {sum(missing.values())} missing, {sum(extra.values())} extra")
        return 1
    print(f"identical: every record (start/end ms, addresses, proto, ports, flags, "
          f"packets, bytes) arrived once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
