#!/usr/bin/env python3
"""Compare the flows an IPFIX collector stored with the engine's dump.

    ipfix_compare.py UMBRA_CSV (--nfdump JSON | --pmacct CSV | --ipfixdump TEXT)

UMBRA_CSV is `umbra-analyze flows --format csv`. Every record must arrive
exactly once with the same addresses, protocol, ports (ICMP type/code),
TCP flags, packets, bytes and start/end time in milliseconds (IPFIX
flowStart/EndMilliseconds). pmacct aggregates records with equal keys and
reports ICMP without type/code, so for it both sides are aggregated on its
key and ICMP ports are compared as 0.

TEXT is libfixbuf's `ipfixDump -e dist/umbra-ipfix.xml` of a whole IPFIX
stream (the bytes of one TCP session). It decodes umbra's enterprise
elements too, so for it the flow end reason, the tags and the first
packet's IP ID and SYN fields are compared as well, and every message's
sequence number must equal the data records sent before it (RFC 7011 3.1).
"""
import argparse
import csv
import ipaddress
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


TAG_BITS = {"scan": 0, "backscatter": 1, "other": 2, "fragment": 3, "zmap": 4,
            "masscan": 5, "mirai": 6, "large_scan": 7, "bogon": 8, "spoofed": 9}
END_REASON = {"idle": 1, "active": 2, "shutdown": 4, "evicted": 5}


def umbra_rows(path):
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            tags = sum(1 << TAG_BITS[t] for t in r["tags"].split("|") if t)
            yield dict(first=ms(r["first"]), last=ms(r["last"]), src=r["src"], dst=r["dst"],
                       proto=proto_num(r["proto"]), sport=int(r["sport"]),
                       dport=int(r["dport"]), flags=int(r["tcp_flags"]),
                       packets=int(r["packets"]), bytes=int(r["bytes"]),
                       end=END_REASON[r["end_reason"]], tags=tags, ip_id=int(r["ip_id"]),
                       syn_window=int(r["syn_window"]), syn_mss=int(r["syn_mss"]),
                       syn_wscale=int(r["syn_wscale"]))


def ipfixdump_rows(path, seq_errors):
    """Data records of ipfixDump's text; appends sequence errors."""
    names = {"flowStartMilliseconds": "first", "flowEndMilliseconds": "last",
             "sourceIPv4Address": "src", "sourceIPv6Address": "src",
             "destinationIPv4Address": "dst", "destinationIPv6Address": "dst",
             "icmpTypeCodeIPv4": "icmp", "icmpTypeCodeIPv6": "icmp",
             "sourceTransportPort": "sport", "destinationTransportPort": "dport",
             "protocolIdentifier": "proto", "tcpControlBits": "flags",
             "packetDeltaCount": "packets", "octetDeltaCount": "bytes",
             "flowEndReason": "end", "umbraTags": "tags", "umbraIpId": "ip_id",
             "umbraSynWindow": "syn_window", "umbraSynMss": "syn_mss",
             "umbraSynWscale": "syn_wscale"}
    rows, cur, before, in_msg = [], None, 0, 0

    def done():
        if cur is not None:
            if cur["proto"] in (1, 58):
                cur["sport"], cur["dport"] = cur["icmp"] >> 8, cur["icmp"] & 0xff
            cur.pop("icmp", None)
            rows.append(cur)

    for line in open(path):
        line = line.strip()
        if line.startswith("--- Message Header"):
            done()
            cur = None
            before += in_msg
            in_msg = 0
        elif line.startswith("message length:") and "sequence number:" in line:
            seq = int(line.split("sequence number:")[1].split()[0])
            if seq != before:
                seq_errors.append(f"message after {before} records has sequence number {seq}")
        elif line.startswith("--- "):
            done()
            cur = {} if line.startswith("--- data record") else None
            if cur is not None:
                in_msg += 1
        elif cur is not None and line.startswith("(") and " : " in line:
            name, value = line.split(")", 1)[1].split(" : ", 1)
            key = names.get(name.strip())
            if key in ("first", "last"):
                cur[key] = ms(value.strip())
            elif key in ("src", "dst"):
                cur[key] = str(ipaddress.ip_address(value.strip()))  # it writes v6 uncompressed
            elif key is not None:
                cur[key] = int(value.strip())
    done()
    return rows


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
    g.add_argument("--ipfixdump")
    a = ap.parse_args()
    key = KEY
    ours = list(umbra_rows(a.umbra_csv))
    seq_errors = []
    if a.nfdump:
        theirs, name = list(nfdump_rows(a.nfdump)), "nfcapd"
    elif a.pmacct:
        theirs, name = list(pmacct_rows(a.pmacct)), "nfacctd"
    else:
        theirs, name = ipfixdump_rows(a.ipfixdump, seq_errors), "libfixbuf ipfixDump"
        key = KEY + ("end", "tags", "ip_id", "syn_window", "syn_mss", "syn_wscale")
        print(f"{name}: sequence numbers checked, {len(seq_errors)} errors")
        for e in seq_errors[:5]:
            print(f"  {e}")
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
        ours_c = Counter(tuple(r[x] for x in key) + (r["packets"], r["bytes"]) for r in ours)
    theirs_c = Counter(tuple(r[x] for x in key) + (r["packets"], r["bytes"]) for r in theirs)
    up, ub = sum(r["packets"] for r in ours), sum(r["bytes"] for r in ours)
    tp, tb = sum(r["packets"] for r in theirs), sum(r["bytes"] for r in theirs)
    print(f"umbra dump: {len(ours)} records, {up} packets, {ub} bytes "
          f"({sum(ours_c.values())} {'keys' if a.pmacct else 'records'})")
    print(f"{name}: {len(theirs)} records, {tp} packets, {tb} bytes")
    missing, extra = ours_c - theirs_c, theirs_c - ours_c
    for what, c in (("missing at the collector", missing), ("only at the collector", extra)):
        for k in list(c)[:5]:
            print(f"  {what}: {k}")
    if (missing or extra or seq_errors or up != tp or ub != tb or
            sum(theirs_c.values()) != sum(ours_c.values())):
        print(f"FAIL: {sum(missing.values())} missing, {sum(extra.values())} extra")
        return 1
    extra_fields = ", end reason, tags, IP ID, SYN fields" if a.ipfixdump else ""
    print(f"identical: every record (start/end ms, addresses, proto, ports, flags, "
          f"packets, bytes{extra_fields}) arrived once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
