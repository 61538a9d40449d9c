#!/usr/bin/python3
"""Count a capture's darknet traffic with tshark, independently of umbra.

Every frame lands in exactly one bucket, decided from tshark's dissection:
  malformed    tshark reports _ws.malformed or an expert info of severity
               "error" (bogus IP header length, IPv4 total length beyond the
               frame, truncated TCP header, extension header past the end...)
  not_ip       no IPv4/IPv6 layer (ARP, STP, ...)
  darknet      outer IPv4/IPv6 destination inside one of the --darknet CIDRs
  not_darknet  everything else

For darknet frames the key is (dst, proto, dport) and the 5-tuple is
(src, dst, proto, sport, dport) from the OUTER headers: ICMP/ICMPv6 put
type/code in sport/dport, a non-first fragment has ports 0, a protocol
without ports has ports 0. IP bytes are the IPv4 total length or the IPv6
payload length + 40. Fragments are not reassembled.

Only link, IP and transport dissectors are enabled (a private Wireshark
configuration directory disables every other protocol): the engine judges
headers up to the transport layer, so a DNS or SIP payload that Wireshark
would misread (e.g. because a random source port belongs to some other
protocol) must not turn a packet "malformed".

Writes JSON: frames, buckets, malformed_frames, keys [[dst,proto,dport,
packets,bytes]...], flows (distinct 5-tuples), darknet_ip_bytes.
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

FIELDS = [
    "frame.number", "frame.protocols", "_ws.malformed", "_ws.expert.severity",
    "ip.src", "ip.dst", "ip.proto", "ip.len", "ip.frag_offset",
    "ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.nxt",
    "ipv6.hopopts.nxt", "ipv6.routing.nxt", "ipv6.dstopts.nxt",
    "ipv6.fraghdr.nxt", "ipv6.fraghdr.offset",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
    "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code",
]
IX = {f: i for i, f in enumerate(FIELDS)}
PI_ERROR = 0x00800000
PROTO_NAME = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}
V6_EXT = {0: "ipv6.hopopts.nxt", 43: "ipv6.routing.nxt",
          60: "ipv6.dstopts.nxt", 44: "ipv6.fraghdr.nxt"}


KEEP_PROTOS = re.compile(
    r"^(_ws\..*|frame|eth|ethertype|vlan|ieee8021ad|llc|stp|arp|ip|ipv6|"
    r"ipv6\.(hopopts|routing|fraghdr|dstopts|routing\.type\..*)|"
    r"tcp|udp|icmp|icmpv6|data)$")


def tshark():
    return os.environ.get("TSHARK", "tshark")


def l4_only_config(confdir):
    """A Wireshark config dir in which only L2-L4 dissectors are enabled."""
    out = subprocess.run([tshark(), "-G", "protocols"], capture_output=True,
                         text=True, check=True).stdout
    names = [l.split("\t")[2] for l in out.splitlines() if l.count("\t") >= 2]
    with open(os.path.join(confdir, "disabled_protos"), "w") as f:
        for n in names:
            if not KEEP_PROTOS.match(n):
                f.write(n + "\n")


def tshark_cmd(pcap):
    cmd = [tshark(), "-n", "-r", pcap,
           "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-o", "tcp.analyze_sequence_numbers:FALSE",
           "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
           "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    return cmd


def first(v):
    return v.split(",", 1)[0] if v else ""


def first_int(v, default=0):
    s = first(v)
    return int(s, 0) if s else default


def v6_upper(cols):
    """Walk the outer IPv6 header chain; return (proto, is_later_fragment)."""
    used = {}
    nh = first_int(cols[IX["ipv6.nxt"]], -1)
    later = False
    for _ in range(16):
        field = V6_EXT.get(nh)
        if field is None:
            return nh, later
        vals = cols[IX[field]].split(",") if cols[IX[field]] else []
        i = used.get(field, 0)
        used[field] = i + 1
        if nh == 44:
            offs = cols[IX["ipv6.fraghdr.offset"]].split(",")
            if i < len(offs) and offs[i] and int(offs[i], 0) != 0:
                later = True
        if i >= len(vals) or not vals[i]:
            return -1, later
        nh = int(vals[i], 0)
    return -1, later


def classify(cols, darknets4, darknets6):
    """Return (bucket, key5, ip_bytes) for one frame."""
    if cols[IX["_ws.malformed"]]:
        return "malformed", None, 0
    sev = cols[IX["_ws.expert.severity"]]
    if sev and any(int(s, 0) >= PI_ERROR for s in sev.split(",") if s):
        return "malformed", None, 0
    protos = cols[IX["frame.protocols"]].split(":")
    l3 = next((p for p in protos if p in ("ip", "ipv6")), None)
    if l3 is None:
        return "not_ip", None, 0
    if l3 == "ip":
        dst = ipaddress.IPv4Address(first(cols[IX["ip.dst"]]))
        if not any(dst in n for n in darknets4):
            return "not_darknet", None, 0
        src = ipaddress.IPv4Address(first(cols[IX["ip.src"]]))
        proto = first_int(cols[IX["ip.proto"]])
        later = first_int(cols[IX["ip.frag_offset"]]) != 0
        nbytes = first_int(cols[IX["ip.len"]])
        icmp_t, icmp_c = "icmp.type", "icmp.code"
    else:
        dst = ipaddress.IPv6Address(first(cols[IX["ipv6.dst"]]))
        if not any(dst in n for n in darknets6):
            return "not_darknet", None, 0
        src = ipaddress.IPv6Address(first(cols[IX["ipv6.src"]]))
        proto, later = v6_upper(cols)
        nbytes = first_int(cols[IX["ipv6.plen"]]) + 40
        icmp_t, icmp_c = "icmpv6.type", "icmpv6.code"
    sport = dport = 0
    if not later:
        if proto == 6:
            sport = first_int(cols[IX["tcp.srcport"]])
            dport = first_int(cols[IX["tcp.dstport"]])
        elif proto == 17:
            sport = first_int(cols[IX["udp.srcport"]])
            dport = first_int(cols[IX["udp.dstport"]])
        elif proto in (1, 58):
            sport = first_int(cols[IX[icmp_t]])
            dport = first_int(cols[IX[icmp_c]])
    return "darknet", (str(src), str(dst), proto, sport, dport), nbytes


def filter_count(pcap, nets, env):
    """Darknet frames per a plain tshark display filter (a cross-check of
    the field-based classification above)."""
    terms = ["%s#1 == %s" % ("ip.dst" if n.version == 4 else "ipv6.dst", n)
             for n in nets]
    flt = "(%s) && !_ws.malformed && !(_ws.expert.severity == error)" % (
        " || ".join(terms))
    cmd = [tshark(), "-n", "-r", pcap, "-o", "ip.defragment:FALSE",
           "-o", "ipv6.defragment:FALSE", "-Y", flt, "-T", "fields",
           "-e", "frame.number"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return None, flt
    return len(out.stdout.splitlines()), flt


def build(pcap, darknets):
    nets = [ipaddress.ip_network(d, strict=False) for d in darknets]
    d4 = [n for n in nets if n.version == 4]
    d6 = [n for n in nets if n.version == 6]
    buckets = {"darknet": 0, "not_darknet": 0, "not_ip": 0, "malformed": 0}
    keys = {}
    flows = set()
    malformed_frames = []
    frames = 0
    dbytes = 0
    confdir = tempfile.mkdtemp(prefix="umbra-ws-")
    l4_only_config(confdir)
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=confdir)
    p = subprocess.Popen(tshark_cmd(pcap), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, bufsize=1 << 20,
                         env=env)
    for line in p.stdout:
        cols = line.rstrip("\n").split("\t")
        if len(cols) < len(FIELDS):
            cols += [""] * (len(FIELDS) - len(cols))
        frames += 1
        bucket, k5, nbytes = classify(cols, d4, d6)
        buckets[bucket] += 1
        if bucket == "malformed":
            malformed_frames.append(int(cols[0]))
        if k5 is None:
            continue
        flows.add(k5)
        k = (k5[1], PROTO_NAME.get(k5[2], str(k5[2])), k5[4])
        e = keys.get(k)
        if e is None:
            keys[k] = [1, nbytes]
        else:
            e[0] += 1
            e[1] += nbytes
        dbytes += nbytes
    err = p.stderr.read()
    rc = p.wait()
    fcount, flt = filter_count(pcap, nets, env)
    shutil.rmtree(confdir, ignore_errors=True)
    err = "\n".join(l for l in err.splitlines()
                    if "Running as user" not in l)
    return {
        "pcap": pcap,
        "tshark_rc": rc,
        "tshark_stderr": err,
        "frames": frames,
        "buckets": buckets,
        "darknet_ip_bytes": dbytes,
        "display_filter": flt,
        "display_filter_frames": fcount,
        "malformed_frames": malformed_frames,
        "flows": len(flows),
        "keys_columns": ["dst", "proto", "dport", "packets", "ip_bytes"],
        "keys": sorted([d, p_, dp, v[0], v[1]]
                       for (d, p_, dp), v in keys.items()),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pcap")
    ap.add_argument("--darknet", action="append", required=True)
    ap.add_argument("--out", help="JSON output (default stdout)")
    a = ap.parse_args()
    res = build(a.pcap, a.darknet)
    if res["tshark_rc"] != 0:
        print("tshark exited %d: %s" % (res["tshark_rc"], res["tshark_stderr"]),
              file=sys.stderr)
    out = open(a.out, "w") if a.out else sys.stdout
    json.dump(res, out, separators=(",", ":"))
    out.write("\n")
    return 0 if res["tshark_rc"] == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
