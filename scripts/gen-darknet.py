#!/usr/bin/python3
"""Generate a deterministic, realistic darknet capture (pcap, Ethernet).

The mix follows what a network telescope sees (JPCERT/CC TSUBAME, 2024 Q2):
TCP SYN scans weighted toward 23, 8728, 6379, 22, 80, 3389, 4719, 8080, 445,
443, 2222, 8443, 8081 from ZMap-, Masscan- and Mirai-like scanners and from
ordinary hosts; backscatter (SYN-ACK, RST, ICMP errors and echo replies, DNS
responses); ICMP and UDP service probes; 802.1Q and QinQ frames; IPv6 with
extension headers and fragments; IPv4 fragments; traffic for other
destinations; ARP and STP; and about 1% malformed frames.

Frames are assembled with struct (not scapy objects) so that a million packets
take seconds. IP, TCP, UDP, ICMP and ICMPv6 checksums are correct.

--manifest writes the exact composition as JSON: packets per category, per
(dst, proto, dport) with IP bytes, the number of distinct 5-tuples
(src, dst, proto, sport, dport; ICMP type/code as ports; non-first fragments
with ports 0), darknet / not-darknet / not-IP / malformed counts and the frame
numbers of the malformed frames. Malformed frames never count as darknet.
"""

import argparse
import array
import bisect
import datetime
import gc
import ipaddress
import json
import random
import struct
import sys
import time

# --------------------------------------------------------------------------
# Byte-level builders

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_ARP = 0x0806
ETH_8021Q = 0x8100
ETH_8021AD = 0x88A8

P_ICMP, P_TCP, P_UDP, P_GRE, P_ICMP6 = 1, 6, 17, 47, 58
P_HOPOPT, P_ROUTING, P_FRAG, P_DSTOPTS = 0, 43, 44, 60
PROTO_NAME = {P_TCP: "tcp", P_UDP: "udp", P_ICMP: "icmp", P_ICMP6: "icmp6"}

TH_FIN, TH_SYN, TH_RST, TH_PSH, TH_ACK = 0x01, 0x02, 0x04, 0x08, 0x10

_pack = struct.pack


def csum(data):
    """Internet checksum, returned ready to splice in (native byte order).

    The ones' complement sum is byte-order independent, so summing native
    16-bit words and packing the result natively gives the right bytes.
    """
    if len(data) & 1:
        data += b"\0"
    s = sum(array.array("H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return _pack("=H", ~s & 0xFFFF)


def l4_csum(src, dst, proto, seg, off):
    """Splice the checksum of an L4 segment (v4 or v6 pseudo header)."""
    # The v6 pseudo-header layout has the same ones' complement sum as v4's.
    c = csum(src + dst + _pack("!IxxxB", len(seg), proto) + seg)
    return seg[:off] + c + seg[off + 2:]


def ip4(src, dst, proto, payload, ttl=64, ipid=0, df=False, mf=False,
        frag=0, tos=0, opts=b"", totlen=None, ihl=None):
    hl = 20 + len(opts)
    if totlen is None:
        totlen = hl + len(payload)
    if ihl is None:
        ihl = hl // 4
    ff = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag >> 3)
    h = _pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, totlen & 0xFFFF, ipid & 0xFFFF,
              ff, ttl, proto, 0, src, dst) + opts
    return h[:10] + csum(h) + h[12:] + payload


def ip6(src, dst, nh, payload, hlim=64, flow=0, tc=0, plen=None):
    if plen is None:
        plen = len(payload)
    return _pack("!IHBB16s16s", (6 << 28) | (tc << 20) | (flow & 0xFFFFF),
                 plen, nh, hlim, src, dst) + payload


def tcp(src, dst, sport, dport, seq, ack, flags, win, opts=b"", payload=b""):
    doff = (20 + len(opts)) // 4
    seg = _pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                doff << 4, flags, win, 0, 0) + opts + payload
    return l4_csum(src, dst, P_TCP, seg, 16)


def udp(src, dst, sport, dport, payload):
    seg = _pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    seg = l4_csum(src, dst, P_UDP, seg, 6)
    if seg[6:8] == b"\0\0":          # 0 means "no checksum": send 0xffff
        seg = seg[:6] + b"\xff\xff" + seg[8:]
    return seg


def icmp4(typ, code, rest, payload=b""):
    m = _pack("!BBH4s", typ, code, 0, rest) + payload
    return m[:2] + csum(m) + m[4:]


def icmp6(src, dst, typ, code, rest, payload=b""):
    m = _pack("!BBH4s", typ, code, 0, rest) + payload
    return l4_csum(src, dst, P_ICMP6, m, 2)


def eth(dst, src, ethertype, payload, tags=()):
    """tags: sequence of (tpid, vid) outermost first."""
    h = dst + src
    for tpid, vid in tags:
        h += _pack("!HH", tpid, vid)
    f = h + _pack("!H", ethertype) + payload
    if len(f) < 60:                  # what a NIC delivers: padded, no FCS
        f += b"\0" * (60 - len(f))
    return f


# TCP option layouts
def opt_mss(m):
    return _pack("!BBH", 2, 4, m)


def opt_ts(v):
    return _pack("!BBII", 8, 10, v & 0xFFFFFFFF, 0)


OPT_NOP, OPT_SOK = b"\x01", b"\x04\x02"


def opts_linux(mss, ts):
    return opt_mss(mss) + OPT_SOK + opt_ts(ts) + OPT_NOP + b"\x03\x03\x07"


def opts_windows(mss):
    return opt_mss(mss) + OPT_NOP + b"\x03\x03\x08" + OPT_NOP + OPT_NOP + OPT_SOK


# --------------------------------------------------------------------------
# Application payloads (well-formed: Wireshark dissects them on their ports)

def dns_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_query_any(txid, name):
    opt = b"\0" + _pack("!HHIH", 41, 4096, 0, 0)          # EDNS0, no options
    return _pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 1) + dns_name(name) + \
        _pack("!HH", 255, 1) + opt


def dns_response(txid, name, addrs):
    q = dns_name(name) + _pack("!HH", 1, 1)
    ans = b"".join(_pack("!HHHIH4s", 0xC00C, 1, 1, 300, 4, a) for a in addrs)
    return _pack("!HHHHHH", txid, 0x8180, 1, len(addrs), 0, 0) + q + ans


NTP_VERSION = b"\x23" + b"\0" * 47                     # v4 client request
NTP_MONLIST = b"\x17\x00\x03\x2a" + b"\0" * 4          # mode 7 MON_GETLIST_1
SSDP = (b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
        b"MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n")
MEMCACHED = b"\x00\x01\x00\x00\x00\x01\x00\x00stats\r\n"


def sip_options(dst_ip, tag):
    return ("OPTIONS sip:100@%s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-%d\r\n"
            "Max-Forwards: 70\r\n"
            "To: <sip:100@%s>\r\n"
            "From: <sip:100@10.0.0.1>;tag=%d\r\n"
            "Call-ID: %d@10.0.0.1\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Contact: <sip:100@10.0.0.1:5060>\r\n"
            "Accept: application/sdp\r\n"
            "Content-Length: 0\r\n\r\n" % (dst_ip, tag, dst_ip, tag, tag)
            ).encode()


def ber(tag, content):
    n = len(content)
    if n < 128:
        return bytes([tag, n]) + content
    return bytes([tag, 0x81, n]) + content


def snmp_get(reqid):
    # GetRequest community "public", sysDescr.0
    oid = ber(0x06, bytes([0x2B, 6, 1, 2, 1, 1, 1, 0]))
    vb = ber(0x30, ber(0x30, oid + b"\x05\x00"))
    pdu = ber(0xA0, ber(0x02, _pack("!I", reqid)) + b"\x02\x01\x00"
              b"\x02\x01\x00" + vb)
    return ber(0x30, b"\x02\x01\x01" + ber(0x04, b"public") + pdu)


# --------------------------------------------------------------------------
# Configuration of the mix

# JPCERT TSUBAME 2024 Q2 top list, then a tail of ports scanners like.
TOP_PORTS = [(23, 30.0), (8728, 6.0), (6379, 5.0), (22, 5.0), (80, 4.5),
             (3389, 3.5), (4719, 3.0), (8080, 3.0), (445, 3.0), (443, 2.5),
             (2222, 2.0), (8443, 2.0), (8081, 2.0)]
TAIL_PORTS = [21, 25, 81, 88, 110, 135, 139, 1433, 1723, 2323, 3306, 5000,
              5432, 5555, 5900, 6000, 7547, 8000, 8088, 8888, 9000, 9200,
              10000, 27017, 37215, 49152, 52869, 60001]
TOP_SHARE = sum(w for _, w in TOP_PORTS)
TAIL_SHARE = 12.0                 # named tail ports
RANDOM_SHARE = 100.0 - TOP_SHARE - TAIL_SHARE   # uniformly random ports

UDP_SERVICES = ["dns", "ntp_version", "ntp_monlist", "ssdp", "memcached",
                "sip", "snmp", "udp_random"]
UDP_WEIGHTS = [25, 10, 8, 12, 6, 10, 12, 17]

# packet shares (percent) per category; see --mix
DEFAULT_MIX = {
    "syn_scan": 52.0,
    "backscatter_tcp": 8.0,
    "backscatter_icmp": 4.0,
    "backscatter_dns": 2.0,
    "icmp_echo": 7.0,
    "udp_probe": 8.0,
    "ipv6_tcp": 3.0,
    "ipv6_icmp": 2.5,
    "ipv6_ext": 1.0,
    "ipv6_frag": 0.7,
    "ipv4_frag": 1.5,
    "ipv4_options": 0.2,
    "other_proto": 0.3,
    "long_flow": 1.0,
    "not_darknet": 5.0,
    "not_ip": 1.0,
    "malformed": 1.0,
}
V6_CATEGORIES = {"ipv6_tcp", "ipv6_icmp", "ipv6_ext", "ipv6_frag"}
MALFORMED_KINDS = ["bad_ihl", "ip_total_length_beyond_frame", "truncated_tcp",
                   "ipv6_ext_chain_past_end"]

ROUTER_MAC = bytes.fromhex("00005e0001fe")
ROUTER_MACS = [bytes.fromhex(m) for m in
               ("00005e0001fe", "3c8ab0a1b2c3", "001b21aa0b0c")]
SENSOR_MAC = bytes.fromhex("02756d627261")            # 02:'umbra'
BCAST = b"\xff" * 6


# --------------------------------------------------------------------------

class Gen:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.v4 = [ipaddress.ip_network(d, strict=False) for d in args.darknet
                   if ipaddress.ip_network(d, strict=False).version == 4]
        self.v6 = [ipaddress.ip_network(d, strict=False) for d in args.darknet
                   if ipaddress.ip_network(d, strict=False).version == 6]
        self.v4_ranges = [(int(n.network_address), n.num_addresses)
                          for n in self.v4]
        self.v6_ranges = [(int(n.network_address), n.num_addresses)
                          for n in self.v6]
        self.dur_us = max(1, int(args.duration * 1e6))
        self._init_time_profile()
        self._init_ports()
        self._init_sources()
        # output
        self.pkts = []           # (t_us, frame, malformed kind or None)
        self.m_keys = {}         # (dst, proto, dport) -> [packets, bytes]
        self.m_flows = set()
        self.m_cat = {}
        self.m_fp = {}
        self.m_ftags = {}   # flow -> [first time, first-packet tags, fragment]
        self.m_misc = {"vlan_8021q_packets": 0, "qinq_packets": 0,
                       "ipv6_darknet_packets": 0,
                       "ipv4_first_fragments": 0, "ipv4_later_fragments": 0,
                       "ipv6_first_fragments": 0, "ipv6_later_fragments": 0,
                       "ipv6_ext_header_packets": 0, "icmp_error_packets": 0,
                       "retransmitted_syns": 0}
        self.darknet_packets = 0
        self.darknet_bytes = 0
        self.not_darknet = 0
        self.not_ip = 0
        self.malformed = {k: 0 for k in MALFORMED_KINDS}
        self.limit = args.packets
        self.cat = None
        self.tags = ()

    # ---- time: per-second intensity with bursts
    def _init_time_profile(self):
        rng = self.rng
        nsec = max(1, int(self.a.duration))
        w = []
        for _ in range(nsec):
            x = rng.lognormvariate(0.0, 0.6)
            if rng.random() < 0.03:
                x *= rng.uniform(5, 20)         # a burst second
            w.append(x)
        self.cum = []
        s = 0.0
        for x in w:
            s += x
            self.cum.append(s)
        self.sec_us = self.dur_us / nsec

    def start_time(self, span_us=0):
        """Start of a session whose packets span span_us microseconds."""
        rng = self.rng
        i = bisect.bisect_left(self.cum, rng.random() * self.cum[-1])
        t = int((i + rng.random()) * self.sec_us)
        room = self.dur_us - 1 - span_us
        if room <= 0:
            return 0
        return min(t, room)

    # ---- ports
    def _init_ports(self):
        self.top_ports = [p for p, _ in TOP_PORTS]
        self.top_cum = []
        s = 0.0
        for _, w in TOP_PORTS:
            s += w
            self.top_cum.append(s)

    def tcp_port(self):
        rng = self.rng
        x = rng.random() * 100.0
        if x < TOP_SHARE:
            return self.top_ports[bisect.bisect_left(self.top_cum, x)]
        if x < TOP_SHARE + TAIL_SHARE:
            return rng.choice(TAIL_PORTS)
        return rng.randint(1, 65535)

    # ---- addresses
    def in_darknet4(self, a):
        for base, n in self.v4_ranges:
            if base <= a < base + n:
                return True
        return False

    def in_darknet6(self, a):
        for base, n in self.v6_ranges:
            if base <= a < base + n:
                return True
        return False

    def dark4(self):
        base, n = self.rng.choice(self.v4_ranges)
        return base + self.rng.randrange(n)

    def dark6(self):
        rng = self.rng
        base, n = rng.choice(self.v6_ranges)
        if n > 1 and rng.random() < 0.3:       # scanners like low IIDs
            return base + rng.choice((1, 2, 3, 0x10, 0x53, 0x80, 0x100, 0x443))
        return base + rng.randrange(n)

    def public4(self):
        """A public unicast address, outside the darknets when possible."""
        rng = self.rng
        a = 0x01010101
        for _ in range(64):
            a = rng.getrandbits(32)
            top = a >> 24
            if top in (0, 10, 100, 127, 169, 172, 192, 198, 203) or top >= 224:
                continue
            if not self.in_darknet4(a):
                return a
        return a

    def public6(self):
        rng = self.rng
        a = 0x20010DB8 << 96
        for _ in range(64):
            a = (0x1 << 125) | rng.getrandbits(125)
            if a >> 96 == 0x20010DB8:
                continue
            if not self.in_darknet6(a):
                return a
        return a

    def other4(self):
        """A destination that is not in any darknet (or None)."""
        rng = self.rng
        for _ in range(200):
            if self.v4_ranges and rng.random() < 0.5:
                base, n = rng.choice(self.v4_ranges)
                a = (base + n + rng.randrange(256)) & 0xFFFFFFFF
                if rng.random() < 0.5:
                    a = (base - 1 - rng.randrange(256)) & 0xFFFFFFFF
            else:
                a = rng.getrandbits(32)
            if not self.in_darknet4(a) and (a >> 28) < 14:
                return a
        return None

    def other6(self):
        rng = self.rng
        for _ in range(200):
            if self.v6_ranges and rng.random() < 0.5:
                base, n = rng.choice(self.v6_ranges)
                a = (base + n + rng.getrandbits(64)) % (1 << 128)
            else:
                a = (0x2 << 124) | rng.getrandbits(125)
            if not self.in_darknet6(a):
                return a
        return None

    # ---- source pools
    def _init_sources(self):
        rng = self.rng
        n = max(1, self.a.packets)
        nheavy = max(8, min(400, n // 2500))
        fps = ["zmap", "masscan", "ttl255"]
        self.heavy = []
        for i in range(nheavy):
            fp = fps[i % 3]
            self.heavy.append({
                "src": self.public4(), "fp": fp,
                "ttl": 255 - rng.randint(3, 30),
                "sport": rng.randint(32768, 61000),
                "ports": sorted({self.tcp_port() for _ in
                                 range(rng.choice((1, 1, 1, 2, 5, 20)))}),
            })
        self.heavy_cum = []
        s = 0.0
        for i in range(nheavy):
            s += 1.0 / (i + 1) ** 1.1
            self.heavy_cum.append(s)
        self.hosts = []
        for i in range(max(20, n // 400)):
            self.hosts.append({"src": self.public4(),
                               "fp": "linux" if rng.random() < 0.6 else "windows",
                               "ttl": rng.randint(5, 25)})
        self.bots = []                       # grows as sessions need them
        self.victims = [self.public4() for _ in range(max(20, n // 1000))]
        self.victims6 = [self.public6() for _ in range(max(10, n // 5000))]
        self.scanners6 = [self.public6() for _ in range(max(10, n // 3000))]

    def pick_heavy(self):
        x = self.rng.random() * self.heavy_cum[-1]
        return self.heavy[bisect.bisect_left(self.heavy_cum, x)]

    def bot(self):
        rng = self.rng
        if self.bots and rng.random() < 0.3:
            return rng.choice(self.bots)
        b = {"src": self.public4(), "ttl": rng.randint(6, 28)}
        if len(self.bots) < 50000:
            self.bots.append(b)
        return b

    # ---- recording
    def full(self):
        return len(self.pkts) >= self.limit

    def tags_for_session(self):
        rng = self.rng
        x = rng.random()
        if x < self.a.qinq_share:
            return ((ETH_8021AD, rng.choice((100, 200, 300))),
                    (ETH_8021Q, rng.choice((10, 20, 30, 40))))
        if x < self.a.qinq_share + self.a.vlan_share:
            return ((ETH_8021Q, rng.choice((10, 20, 30, 40, 0x2005))),)
        return ()

    def emit_dark(self, t, v6, src, dst, proto, sport, dport, l3, fp=None):
        """Record a darknet packet: l3 is the IP packet (header + payload)."""
        if self.full():
            return
        ethertype = ETH_IPV6 if v6 else ETH_IPV4
        frame = eth(SENSOR_MAC, self.rng.choice(ROUTER_MACS), ethertype, l3,
                    self.tags)
        self.pkts.append((t, frame, None))
        if v6:
            ipbytes = (l3[4] << 8 | l3[5]) + 40
            self.m_misc["ipv6_darknet_packets"] += 1
        else:
            ipbytes = l3[2] << 8 | l3[3]
        k = (v6, dst, proto, dport)
        e = self.m_keys.get(k)
        if e is None:
            self.m_keys[k] = [1, ipbytes]
        else:
            e[0] += 1
            e[1] += ipbytes
        self.m_flows.add((v6, src, dst, proto, sport, dport))
        self.flow_tag_note((v6, src, dst, proto, sport, dport), t, l3, v6)
        self.darknet_packets += 1
        self.darknet_bytes += ipbytes
        self.m_cat[self.cat] = self.m_cat.get(self.cat, 0) + 1
        if fp:
            self.m_fp[fp] = self.m_fp.get(fp, 0) + 1
        if self.tags:
            key = "qinq_packets" if len(self.tags) == 2 else "vlan_8021q_packets"
            self.m_misc[key] += 1

    # ---- flow tags (docs/CLASSIFY.md), computed from the bytes we emit,
    # independently of the engine: the first packet of a flow decides
    # class, tool and source tags; "fragment" is any fragment in the flow.
    BOGON4 = [(0x00000000, 8), (0x0a000000, 8), (0x64400000, 10),
              (0x7f000000, 8), (0xa9fe0000, 16), (0xac100000, 12),
              (0xc0000000, 24), (0xc0000200, 24), (0xc0586300, 24),
              (0xc0a80000, 16), (0xc6120000, 15), (0xc6336400, 24),
              (0xcb007100, 24), (0xe0000000, 4), (0xf0000000, 4)]
    BOGON6 = [(0x2001 << 112, 23), (0x20010db8 << 96, 32), (0x2002 << 112, 16),
              (0x3ffe << 112, 16), (0x3fff << 112, 20)]

    def bogon(self, v6, a):
        if not v6:
            return any((a >> (32 - n)) == (net >> (32 - n)) for net, n in self.BOGON4)
        if (a >> 125) != 1:
            return True
        return any((a >> (128 - n)) == (net >> (128 - n)) for net, n in self.BOGON6)

    def first_tags(self, l3, v6):
        tags = set()
        if v6:
            src = int.from_bytes(l3[8:24], "big")
            dst = int.from_bytes(l3[24:40], "big")
            nh, off, frag_later = l3[6], 40, False
            while nh in (0, 43, 60, 44):
                if nh == 44:
                    if (l3[off + 2] << 8 | l3[off + 3]) & 0xFFF8:
                        frag_later = True
                    nh, off = l3[off], off + 8
                else:
                    nh, off = l3[off], off + 8 + l3[off + 1] * 8
            proto, l4, ttl, ipid = nh, (None if frag_later else off), l3[7], None
            in_dn = self.in_darknet6(src)
            impossible = (src == dst or (src >> 120) == 0xFF or src in (0, 1))
        else:
            src = int.from_bytes(l3[12:16], "big")
            dst = int.from_bytes(l3[16:20], "big")
            ihl = (l3[0] & 15) * 4
            fo = (l3[6] << 8 | l3[7]) & 0x1FFF
            proto, l4, ttl = l3[9], (None if fo else ihl), l3[8]
            ipid = l3[4] << 8 | l3[5]
            in_dn = self.in_darknet4(src)
            impossible = (src == dst or (src >> 28) == 0xE or src == 0xFFFFFFFF
                          or (src >> 24) == 127 or src == 0)
        if self.bogon(v6, src):
            tags.add("bogon")
        if in_dn or impossible:
            tags.add("spoofed")
        known = proto in (P_TCP, P_UDP, P_ICMP, P_ICMP6)
        if l4 is None or not known:
            tags.add("other")
            return tags
        syn = False
        if proto == P_TCP:
            fl = l3[l4 + 13]
            syn = (fl & 0x16) == 0x02
            if syn:
                tags.add("scan")
            elif (fl & 0x12) == 0x12 or (fl & 0x04):
                tags.add("backscatter")
            else:
                tags.add("other")
        elif proto == P_UDP:
            sport = l3[l4] << 8 | l3[l4 + 1]
            pay = l3[l4 + 8:]
            tags.add("backscatter" if sport == 53 and len(pay) >= 3 and pay[2] & 0x80
                     else "scan")
        elif proto == P_ICMP:
            typ = l3[l4]
            tags.add("scan" if typ in (8, 10, 13, 15, 17) else
                     "backscatter" if typ in (0, 3, 4, 5, 11, 12, 14, 16, 18) else "other")
        else:
            typ = l3[l4]
            tags.add("scan" if typ in (128, 133, 135) else
                     "backscatter" if typ in (1, 2, 3, 4, 129) else "other")
        if ipid == 54321 and (proto != P_TCP or syn):
            tags.add("zmap")
        if proto == P_TCP and syn:
            doff = (l3[l4 + 12] >> 4) * 4
            win = l3[l4 + 14] << 8 | l3[l4 + 15]
            seq = int.from_bytes(l3[l4 + 4:l4 + 8], "big")
            dport = l3[l4 + 2] << 8 | l3[l4 + 3]
            if win == 65535 and doff == 20:
                tags.add("zmap")
            if not v6:
                if ipid == ((dst ^ dport ^ seq) & 0xFFFF):
                    tags.add("masscan")
                if seq == dst:
                    tags.add("mirai")
            if ttl > 128 and doff == 20:
                tags.add("large_scan")
        return tags

    def is_fragment(self, l3, v6):
        if not v6:
            return ((l3[6] << 8 | l3[7]) & 0x3FFF) != 0
        nh, off = l3[6], 40
        while nh in (0, 43, 60, 44):
            if nh == 44:
                return True
            nh, off = l3[off], off + 8 + l3[off + 1] * 8
        return False

    def flow_tag_note(self, key, t, l3, v6):
        e = self.m_ftags.get(key)
        frag = self.is_fragment(l3, v6)
        if e is None:
            self.m_ftags[key] = [t, self.first_tags(l3, v6), frag]
            return
        if t < e[0]:
            e[0], e[1] = t, self.first_tags(l3, v6)
        e[2] = e[2] or frag

    def flow_tag_counts(self):
        out = {}
        for _, tags, frag in self.m_ftags.values():
            for x in tags | ({"fragment"} if frag else set()):
                out[x] = out.get(x, 0) + 1
        return dict(sorted(out.items()))

    def emit_other(self, t, frame, what, kind=None):
        if self.full():
            return
        self.pkts.append((t, frame, kind))
        self.m_cat[self.cat] = self.m_cat.get(self.cat, 0) + 1
        if what == "not_darknet":
            self.not_darknet += 1
        elif what == "not_ip":
            self.not_ip += 1
        else:
            self.malformed[kind] += 1

    # ---- TCP SYN scans
    def syn_packet(self, t, fp, src, dst, sport, dport, ttl, seq=None):
        rng = self.rng
        sb, db = src.to_bytes(4, "big"), dst.to_bytes(4, "big")
        if seq is None:
            seq = rng.getrandbits(32)
        df = False
        opts = b""
        if fp == "zmap":
            ipid, win = 54321, 65535
        elif fp == "masscan":
            win = 1024
            ipid = (dst ^ dport ^ seq) & 0xFFFF
        elif fp == "mirai":
            seq = dst
            ipid, win = rng.getrandbits(16), rng.getrandbits(16) | 1
        elif fp == "ttl255":
            ipid, win = rng.getrandbits(16), rng.choice((1024, 29200, 65535))
            opts = opt_mss(1460)
        elif fp == "linux":
            ipid, win, df = rng.getrandbits(16), 64240, True
            opts = opts_linux(1460, rng.getrandbits(32))
        else:  # windows
            ipid, win, df = rng.getrandbits(16), rng.choice((64240, 8192)), True
            opts = opts_windows(1460)
        seg = tcp(sb, db, sport, dport, seq, 0, TH_SYN, win, opts)
        l3 = ip4(sb, db, P_TCP, seg, ttl=ttl, ipid=ipid, df=df)
        self.emit_dark(t, False, src, dst, P_TCP, sport, dport, l3, fp)
        return seq

    def s_syn_scan(self):
        rng = self.rng
        x = rng.random()
        if x < 0.15:
            s = self.pick_heavy()
            k = min(int(rng.expovariate(1 / 12.0)) + 1, 256)
            span = int(rng.uniform(0.2, 90) * 1e6)
            t0 = self.start_time(span)
            sport = s["sport"] if s["fp"] != "zmap" else rng.randint(32768, 61000)
            times = sorted(t0 + rng.randrange(span + 1) for _ in range(k))
            for t in times:
                dport = rng.choice(s["ports"])
                sp = sport if s["fp"] != "masscan" else rng.randint(40000, 60000)
                self.syn_packet(t, s["fp"], s["src"], self.dark4(), sp, dport,
                                s["ttl"])
        elif x < 0.80:
            b = self.bot()
            k = rng.choice((1, 1, 1, 2, 2, 3))
            span = int(rng.uniform(0, 5) * 1e6)
            t0 = self.start_time(span)
            y = rng.random()
            for _ in range(k):
                if y < 0.8:
                    dport = 23
                elif y < 0.9:
                    dport = 2323
                else:
                    dport = self.tcp_port()
                t = t0 + rng.randrange(span + 1)
                self.syn_packet(t, "mirai", b["src"], self.dark4(),
                                rng.randint(1024, 65535), dport, 64 - b["ttl"])
        else:
            h = rng.choice(self.hosts)
            k = rng.choice((1, 1, 2, 3, 4))
            dport = self.tcp_port()
            ittl = 64 if h["fp"] == "linux" else 128
            retr = (1.0, 3.0) if h["fp"] == "linux" else (3.0, 9.0)
            t0 = self.start_time(int(15e6))
            for _ in range(k):
                dst = self.dark4()
                sport = rng.randint(32768, 60999)
                t = t0 + rng.randrange(int(2e6))
                nretr = rng.choice((0, 0, 1, 2))
                seq = self.syn_packet(t, h["fp"], h["src"], dst, sport, dport,
                                      ittl - h["ttl"])
                for i in range(nretr):
                    tr = t + int(retr[i] * 1e6) + rng.randrange(20000)
                    self.syn_packet(tr, h["fp"], h["src"], dst, sport, dport,
                                    ittl - h["ttl"], seq=seq)
                    self.m_misc["retransmitted_syns"] += 1

    # ---- backscatter
    def s_backscatter_tcp(self):
        rng = self.rng
        v = rng.choice(self.victims)
        vb = v.to_bytes(4, "big")
        sport = rng.choice((80, 80, 443, 443, 22, 25, 53, 3389, 8080, 27015))
        ittl = rng.choice((64, 128, 255))
        ttl = ittl - rng.randint(4, 25)
        kind = rng.choice(("synack", "synack", "rst", "rstack"))
        k = min(int(rng.expovariate(1 / 4.0)) + 1, 50)
        span = int(rng.uniform(0.1, 30) * 1e6)
        t0 = self.start_time(span + int(8e6))
        for _ in range(k):
            dst = self.dark4()
            db = dst.to_bytes(4, "big")
            dport = rng.randint(1024, 65535)
            t = t0 + rng.randrange(span + 1)
            seq, ack = rng.getrandbits(32), rng.getrandbits(32)
            if kind == "synack":
                flags, win = TH_SYN | TH_ACK, rng.choice((65535, 29200, 8192))
                opts = opt_mss(1460) if rng.random() < 0.7 else b""
                n = rng.choice((1, 1, 1, 2, 3))     # SYN-ACK retransmissions
            else:
                flags = TH_RST if kind == "rst" else TH_RST | TH_ACK
                win, opts, n = 0, b"", 1
                if kind == "rst":
                    ack = 0
            for i in range(n):
                seg = tcp(vb, db, sport, dport, seq, ack, flags, win, opts)
                l3 = ip4(vb, db, P_TCP, seg, ttl=ttl,
                         ipid=rng.getrandbits(16), df=(ittl != 255))
                self.emit_dark(t + int(i * (1 << i) * 1e6), False, v, dst,
                               P_TCP, sport, dport, l3)

    def s_backscatter_icmp(self):
        rng = self.rng
        v = rng.choice(self.victims)
        vb = v.to_bytes(4, "big")
        k = min(int(rng.expovariate(1 / 3.0)) + 1, 30)
        span = int(rng.uniform(0.1, 20) * 1e6)
        t0 = self.start_time(span)
        mode = rng.random()
        for _ in range(k):
            dst = self.dark4()
            db = dst.to_bytes(4, "big")
            t = t0 + rng.randrange(span + 1)
            if mode < 0.4:                   # echo replies to spoofed pings
                typ, code = 0, 0
                msg = icmp4(0, 0, _pack("!HH", rng.getrandbits(16),
                                        rng.getrandbits(16)), bytes(56))
            else:
                typ, code = rng.choice(((3, 0), (3, 1), (3, 3), (3, 3),
                                        (3, 10), (3, 13), (11, 0)))
                # the offending packet was "from" the darknet address
                tgt = self.public4().to_bytes(4, "big")
                if rng.random() < 0.5:
                    inner_l4 = tcp(db, tgt, rng.randint(1024, 65535),
                                   rng.choice((80, 443)), rng.getrandbits(32),
                                   0, TH_SYN, 65535)
                    ip_p = P_TCP
                else:
                    inner_l4 = udp(db, tgt, rng.randint(1024, 65535), 53,
                                   dns_query_any(rng.getrandbits(16),
                                                 "example.com"))
                    ip_p = P_UDP
                inner = ip4(db, tgt, ip_p, inner_l4, ttl=rng.randint(1, 60),
                            ipid=rng.getrandbits(16))
                # RFC 792 routers quote header + 8 bytes; Linux quotes more
                quote = inner[:28] if rng.random() < 0.5 else inner
                rest = _pack("!HH", 0, 1400) if (typ, code) == (3, 4) else bytes(4)
                msg = icmp4(typ, code, rest, quote)
                self.m_misc["icmp_error_packets"] += 1
            l3 = ip4(vb, db, P_ICMP, msg, ttl=rng.randint(40, 250),
                     ipid=rng.getrandbits(16))
            self.emit_dark(t, False, v, dst, P_ICMP, typ, code, l3)

    def s_backscatter_dns(self):
        rng = self.rng
        v = rng.choice(self.victims)
        vb = v.to_bytes(4, "big")
        k = rng.choice((1, 1, 2, 3, 5))
        t0 = self.start_time(int(10e6))
        for _ in range(k):
            dst = self.dark4()
            db = dst.to_bytes(4, "big")
            dport = rng.randint(1024, 65535)
            name = "%s.example.%s" % (
                "".join(rng.choice("abcdefghijklmnop") for _ in range(8)),
                rng.choice(("com", "net", "org", "jp")))
            addrs = [rng.getrandbits(32).to_bytes(4, "big")
                     for _ in range(rng.randint(1, 4))]
            seg = udp(vb, db, 53, dport, dns_response(rng.getrandbits(16),
                                                      name, addrs))
            l3 = ip4(vb, db, P_UDP, seg, ttl=rng.randint(40, 120),
                     ipid=rng.getrandbits(16))
            self.emit_dark(t0 + rng.randrange(int(10e6)), False, v, dst, P_UDP,
                           53, dport, l3)

    # ---- ICMP echo requests and UDP probes
    def s_icmp_echo(self):
        rng = self.rng
        src = self.public4() if rng.random() < 0.6 else self.pick_heavy()["src"]
        sb = src.to_bytes(4, "big")
        k = rng.choice((1, 1, 1, 2, 4, 8, 30))
        span = int(rng.uniform(0.1, 60) * 1e6)
        t0 = self.start_time(span + int(4e6))
        ident = rng.getrandbits(16)
        payload = bytes(rng.choice((0, 8, 56)))
        ttl = rng.choice((64, 128, 255)) - rng.randint(4, 25)
        for i in range(k):
            dst = self.dark4()
            db = dst.to_bytes(4, "big")
            t = t0 + rng.randrange(span + 1)
            n = rng.choice((1, 1, 1, 3, 4))   # ping -c N
            for j in range(n):
                msg = icmp4(8, 0, _pack("!HH", ident, i * 4 + j + 1), payload)
                l3 = ip4(sb, db, P_ICMP, msg, ttl=ttl, ipid=rng.getrandbits(16))
                self.emit_dark(t + j * 1000000, False, src, dst, P_ICMP, 8, 0,
                               l3)

    def udp_probe_payload(self, svc, dst):
        rng = self.rng
        if svc == "dns":
            return 53, dns_query_any(rng.getrandbits(16),
                                     rng.choice(("isc.org", "ripe.net",
                                                 "example.com", "sl")))
        if svc == "ntp_version":
            return 123, NTP_VERSION
        if svc == "ntp_monlist":
            return 123, NTP_MONLIST
        if svc == "ssdp":
            return 1900, SSDP
        if svc == "memcached":
            return 11211, MEMCACHED
        if svc == "sip":
            return 5060, sip_options(str(ipaddress.IPv4Address(dst)),
                                     rng.getrandbits(31))
        if svc == "snmp":
            return 161, snmp_get(rng.getrandbits(31))
        # empty probe to a random high port: nothing a heuristic can misread
        return rng.randint(20000, 40000), b""

    def s_udp_probe(self):
        rng = self.rng
        src = self.public4() if rng.random() < 0.5 else self.pick_heavy()["src"]
        sb = src.to_bytes(4, "big")
        svc = rng.choices(UDP_SERVICES, UDP_WEIGHTS)[0]
        k = min(int(rng.expovariate(1 / 4.0)) + 1, 64)
        span = int(rng.uniform(0.1, 30) * 1e6)
        t0 = self.start_time(span + int(3e6))
        sport = rng.randint(1024, 65535)
        ttl = rng.choice((64, 255)) - rng.randint(4, 25)
        for _ in range(k):
            dst = self.dark4()
            db = dst.to_bytes(4, "big")
            dport, pl = self.udp_probe_payload(svc, dst)
            if svc == "udp_random":
                dport = rng.choice((dport, 19, 69, 137, 1194, 5353 + 1))
            t = t0 + rng.randrange(span + 1)
            n = 2 if rng.random() < 0.15 else 1     # probe sent twice
            for j in range(n):
                l3 = ip4(sb, db, P_UDP, udp(sb, db, sport, dport, pl), ttl=ttl,
                         ipid=rng.getrandbits(16))
                self.emit_dark(t + j * 1500000, False, src, dst, P_UDP, sport,
                               dport, l3)

    # ---- IPv6
    def v6_syn(self, sb, db, sport, dport, fp):
        rng = self.rng
        if fp == "linux":
            return tcp(sb, db, sport, dport, rng.getrandbits(32), 0, TH_SYN,
                       64800, opts_linux(1440, rng.getrandbits(32)))
        if fp == "windows":
            return tcp(sb, db, sport, dport, rng.getrandbits(32), 0, TH_SYN,
                       64800, opts_windows(1440))
        return tcp(sb, db, sport, dport, rng.getrandbits(32), 0, TH_SYN,
                   65535 if fp == "zmap" else 1024)

    def s_ipv6_tcp(self):
        rng = self.rng
        src = rng.choice(self.scanners6) if rng.random() < 0.7 else self.public6()
        sb = src.to_bytes(16, "big")
        fp = rng.choice(("zmap", "masscan", "linux", "windows"))
        k = min(int(rng.expovariate(1 / 5.0)) + 1, 64)
        span = int(rng.uniform(0.1, 30) * 1e6)
        t0 = self.start_time(span + int(4e6))
        hl = rng.choice((64, 255)) - rng.randint(4, 25)
        backscatter = rng.random() < 0.2
        for _ in range(k):
            dst = self.dark6()
            db = dst.to_bytes(16, "big")
            t = t0 + rng.randrange(span + 1)
            if backscatter:
                sport, dport = rng.choice((80, 443)), rng.randint(1024, 65535)
                seg = tcp(sb, db, sport, dport, rng.getrandbits(32),
                          rng.getrandbits(32), TH_SYN | TH_ACK, 64800,
                          opt_mss(1440))
                fpx = None
            else:
                sport, dport = rng.randint(1024, 65535), self.tcp_port()
                seg = self.v6_syn(sb, db, sport, dport, fp)
                fpx = fp
            n = 2 if (fp in ("linux", "windows") and rng.random() < 0.3) else 1
            for j in range(n):
                l3 = ip6(sb, db, P_TCP, seg, hlim=hl)
                self.emit_dark(t + j * 1000000, True, src, dst, P_TCP, sport,
                               dport, l3, fpx)

    def s_ipv6_icmp(self):
        rng = self.rng
        src = rng.choice(self.scanners6) if rng.random() < 0.5 else self.public6()
        sb = src.to_bytes(16, "big")
        k = min(int(rng.expovariate(1 / 4.0)) + 1, 64)
        span = int(rng.uniform(0.1, 30) * 1e6)
        t0 = self.start_time(span + int(4e6))
        mode = rng.random()
        ident = rng.getrandbits(16)
        for i in range(k):
            dst = self.dark6()
            db = dst.to_bytes(16, "big")
            t = t0 + rng.randrange(span + 1)
            if mode < 0.6:
                typ, code = 128, 0
                msg = icmp6(sb, db, 128, 0, _pack("!HH", ident, i + 1),
                            bytes(rng.choice((0, 16, 56))))
            elif mode < 0.8:
                typ, code = 129, 0
                msg = icmp6(sb, db, 129, 0, _pack("!HH", rng.getrandbits(16),
                                                  1), bytes(56))
            else:
                typ, code = rng.choice(((1, 0), (1, 3), (1, 4), (3, 0)))
                tgt = self.public6().to_bytes(16, "big")
                inner = ip6(db, tgt, P_TCP,
                            tcp(db, tgt, rng.randint(1024, 65535), 443,
                                rng.getrandbits(32), 0, TH_SYN, 65535),
                            hlim=rng.randint(1, 60))
                msg = icmp6(sb, db, typ, code, bytes(4), inner)
                self.m_misc["icmp_error_packets"] += 1
            l3 = ip6(sb, db, P_ICMP6, msg, hlim=rng.randint(40, 250))
            self.emit_dark(t, True, src, dst, P_ICMP6, typ, code, l3)

    @staticmethod
    def ext_hdr(nh, kind):
        """One extension header whose Next Header is nh."""
        if kind == P_ROUTING:                # type 0, segments left 0
            return _pack("!BBBBI", nh, 2, 0, 0, 0) + bytes(16)
        # hop-by-hop or destination options padded with PadN
        return _pack("!BB", nh, 0) + b"\x01\x04" + bytes(4)

    def s_ipv6_ext(self):
        rng = self.rng
        src = rng.choice(self.scanners6)
        sb = src.to_bytes(16, "big")
        chain = rng.choice(([P_HOPOPT], [P_DSTOPTS], [P_HOPOPT, P_DSTOPTS],
                            [P_ROUTING], [P_HOPOPT, P_ROUTING, P_DSTOPTS]))
        k = rng.randint(1, 4)
        t0 = self.start_time(int(5e6))
        upper = rng.choice((P_TCP, P_ICMP6, P_UDP))
        for _ in range(k):
            dst = self.dark6()
            db = dst.to_bytes(16, "big")
            if upper == P_TCP:
                sport, dport = rng.randint(1024, 65535), self.tcp_port()
                pl = self.v6_syn(sb, db, sport, dport, "zmap")
            elif upper == P_UDP:
                sport, dport = rng.randint(1024, 65535), 53
                pl = udp(sb, db, sport, dport,
                         dns_query_any(rng.getrandbits(16), "isc.org"))
            else:
                sport, dport = 128, 0
                pl = icmp6(sb, db, 128, 0, _pack("!HH", 7, 1), bytes(8))
            nh = upper
            for kind in reversed(chain):
                pl = self.ext_hdr(nh, kind) + pl
                nh = kind
            l3 = ip6(sb, db, nh, pl, hlim=rng.randint(40, 250))
            self.m_misc["ipv6_ext_header_packets"] += 1
            self.emit_dark(t0 + rng.randrange(int(5e6)), True, src, dst, upper,
                           sport, dport, l3)

    def s_ipv6_frag(self):
        rng = self.rng
        src = self.public6()
        sb = src.to_bytes(16, "big")
        dst = self.dark6()
        db = dst.to_bytes(16, "big")
        t0 = self.start_time(int(1e6))
        ident = rng.getrandbits(32)
        if rng.random() < 0.5:
            proto, sport, dport = P_ICMP6, 128, 0
            up = icmp6(sb, db, 128, 0, _pack("!HH", rng.getrandbits(16), 1),
                       bytes(rng.randint(1500, 4000)))
        else:
            proto, sport, dport = P_UDP, 53, rng.randint(1024, 65535)
            up = udp(sb, db, sport, dport, dns_response(
                rng.getrandbits(16), "big.example.net",
                [rng.getrandbits(32).to_bytes(4, "big")
                 for _ in range(rng.randint(100, 250))]))
        frag_size = 1232
        offs = list(range(0, len(up), frag_size))
        only_later = rng.random() < 0.15      # the first one got lost
        for i, off in enumerate(offs):
            if only_later and off == 0:
                continue
            chunk = up[off:off + frag_size]
            more = off + frag_size < len(up)
            fh = _pack("!BBHI", proto, 0, off | (1 if more else 0), ident)
            l3 = ip6(sb, db, P_FRAG, fh + chunk, hlim=55)
            t = t0 + i * 50
            if off == 0:
                self.m_misc["ipv6_first_fragments"] += 1
                self.emit_dark(t, True, src, dst, proto, sport, dport, l3)
            else:
                self.m_misc["ipv6_later_fragments"] += 1
                self.emit_dark(t, True, src, dst, proto, 0, 0, l3)

    # ---- IPv4 fragments, options, other protocols
    def s_ipv4_frag(self):
        rng = self.rng
        src = rng.choice(self.victims) if rng.random() < 0.6 else self.public4()
        sb = src.to_bytes(4, "big")
        dst = self.dark4()
        db = dst.to_bytes(4, "big")
        t0 = self.start_time(int(1e6))
        x = rng.random()
        if x < 0.5:                          # fragmented DNS response
            proto, sport, dport = P_UDP, 53, rng.randint(1024, 65535)
            up = udp(sb, db, sport, dport, dns_response(
                rng.getrandbits(16), "big.example.com",
                [rng.getrandbits(32).to_bytes(4, "big")
                 for _ in range(rng.randint(100, 300))]))
        elif x < 0.8:                        # large ping
            proto, sport, dport = P_ICMP, 8, 0
            up = icmp4(8, 0, _pack("!HH", rng.getrandbits(16), 1),
                       bytes(rng.randint(1500, 6000)))
        else:                                # TCP split after its header
            proto, sport, dport = P_TCP, rng.randint(1024, 65535), \
                self.tcp_port()
            up = tcp(sb, db, sport, dport, rng.getrandbits(32), 0,
                     TH_SYN, 1024, b"", bytes(rng.randint(1500, 3000)))
        fs = 1480
        ipid = rng.getrandbits(16)
        only_later = rng.random() < 0.15
        for i, off in enumerate(range(0, len(up), fs)):
            if only_later and off == 0:
                continue
            more = off + fs < len(up)
            l3 = ip4(sb, db, proto, up[off:off + fs], ttl=rng.randint(40, 60),
                     ipid=ipid, mf=more, frag=off)
            t = t0 + i * 120
            if off == 0:
                self.m_misc["ipv4_first_fragments"] += 1
                self.emit_dark(t, False, src, dst, proto, sport, dport, l3)
            else:
                self.m_misc["ipv4_later_fragments"] += 1
                self.emit_dark(t, False, src, dst, proto, 0, 0, l3)

    def s_ipv4_options(self):
        rng = self.rng
        src = self.public4()
        sb = src.to_bytes(4, "big")
        dst = self.dark4()
        db = dst.to_bytes(4, "big")
        sport, dport = rng.randint(1024, 65535), self.tcp_port()
        opts = rng.choice((b"\x01\x01\x01\x00",                # NOPs, EOL
                           b"\x94\x04\x00\x00",                # router alert
                           b"\x07\x0b\x04" + bytes(8) + b"\x00"))  # RR
        seg = tcp(sb, db, sport, dport, rng.getrandbits(32), 0, TH_SYN, 1024)
        l3 = ip4(sb, db, P_TCP, seg, ttl=rng.randint(40, 250),
                 ipid=rng.getrandbits(16), opts=opts)
        self.emit_dark(self.start_time(), False, src, dst, P_TCP, sport, dport,
                       l3)

    def s_other_proto(self):
        rng = self.rng
        src = rng.choice(self.victims)
        sb = src.to_bytes(4, "big")
        dst = self.dark4()
        db = dst.to_bytes(4, "big")
        # GRE backscatter / probes carrying an IPv4 ICMP echo
        ib = self.public4().to_bytes(4, "big")
        inner = ip4(ib, db, P_ICMP, icmp4(8, 0, _pack("!HH", 1, 1), bytes(8)))
        gre = _pack("!HH", 0, ETH_IPV4) + inner
        t0 = self.start_time(int(3e6))
        for j in range(rng.choice((1, 1, 2))):
            l3 = ip4(sb, db, P_GRE, gre, ttl=rng.randint(40, 250),
                     ipid=rng.getrandbits(16))
            self.emit_dark(t0 + j * 1000000, False, src, dst, P_GRE, 0, 0, l3)

    # ---- long flows (longer than typical active timeouts)
    def s_long_flow(self):
        rng = self.rng
        dur = self.dur_us
        src = rng.choice(self.victims)
        sb = src.to_bytes(4, "big")
        dst = self.dark4()
        db = dst.to_bytes(4, "big")
        span = int(dur * rng.uniform(0.5, 0.95))
        t0 = self.start_time(span)
        gap = int(rng.uniform(0.5, 2.0) * 1e6)
        if rng.random() < 0.5:               # a persistent ping
            ident = rng.getrandbits(16)
            i = 0
            for t in range(t0, t0 + span, gap):
                i += 1
                l3 = ip4(sb, db, P_ICMP, icmp4(8, 0, _pack("!HH", ident,
                                                           i & 0xFFFF),
                                               bytes(56)), ttl=50)
                self.emit_dark(t, False, src, dst, P_ICMP, 8, 0, l3)
                if self.full():
                    return
        else:                                # RST stream from a victim
            sport, dport = 80, rng.randint(1024, 65535)
            for t in range(t0, t0 + span, gap):
                seg = tcp(sb, db, sport, dport, rng.getrandbits(32), 0,
                          TH_RST, 0)
                l3 = ip4(sb, db, P_TCP, seg, ttl=52, ipid=rng.getrandbits(16))
                self.emit_dark(t, False, src, dst, P_TCP, sport, dport, l3)
                if self.full():
                    return

    # ---- not for the darknet
    def s_not_darknet(self):
        rng = self.rng
        t0 = self.start_time(int(5e6))
        for _ in range(rng.choice((1, 1, 2, 3))):
            t = t0 + rng.randrange(int(5e6))
            v6 = rng.random() < 0.2
            if v6:
                dst = self.other6()
                if dst is None:
                    return
                sb = self.public6().to_bytes(16, "big")
                db = dst.to_bytes(16, "big")
                l3 = ip6(sb, db, P_TCP, tcp(sb, db, rng.randint(1024, 65535),
                                            443, rng.getrandbits(32), 0,
                                            TH_SYN, 65535))
                et = ETH_IPV6
            else:
                dst = self.other4()
                if dst is None:
                    return
                sb = self.public4().to_bytes(4, "big")
                db = dst.to_bytes(4, "big")
                if rng.random() < 0.5:
                    pl = tcp(sb, db, rng.randint(1024, 65535), self.tcp_port(),
                             rng.getrandbits(32), 0, TH_SYN, 65535)
                    p = P_TCP
                else:
                    pl = udp(sb, db, rng.randint(1024, 65535), 53,
                             dns_query_any(rng.getrandbits(16), "example.org"))
                    p = P_UDP
                l3 = ip4(sb, db, p, pl, ttl=rng.randint(40, 250),
                         ipid=rng.getrandbits(16))
                et = ETH_IPV4
            self.emit_other(t, eth(SENSOR_MAC, ROUTER_MAC, et, l3, self.tags),
                            "not_darknet")

    def s_not_ip(self):
        rng = self.rng
        t = self.start_time()
        if rng.random() < 0.8 and self.v4_ranges:
            # the router resolving a darknet address (nobody answers)
            tpa = self.dark4().to_bytes(4, "big")
            arp = _pack("!HHBBH6s4s6s4s", 1, ETH_IPV4, 6, 4, 1, ROUTER_MAC,
                        bytes((192, 0, 2, 254)), bytes(6), tpa)
            f = eth(BCAST, ROUTER_MAC, ETH_ARP, arp, self.tags)
        else:
            # 802.3 + LLC spanning tree configuration BPDU
            bpdu = (b"\x42\x42\x03" + _pack("!HBBB", 0, 0, 0, 0) +
                    _pack("!H6sIH6sHHHHH", 0x8000, ROUTER_MAC, 4, 0x8000,
                          ROUTER_MAC, 0x8001, 0, 20 * 256, 2 * 256, 15 * 256))
            f = bytes.fromhex("0180c2000000") + ROUTER_MAC + \
                _pack("!H", len(bpdu)) + bpdu
            f += bytes(max(0, 60 - len(f)))
        self.emit_other(t, f, "not_ip")

    # ---- malformed (always addressed to the darknet)
    def s_malformed(self):
        rng = self.rng
        t = self.start_time()
        kinds = (MALFORMED_KINDS[:3] if self.v4_ranges else []) + \
            (MALFORMED_KINDS[3:] if self.v6_ranges else [])
        kind = rng.choice(kinds)
        if kind == "ipv6_ext_chain_past_end":
            sb = self.public6().to_bytes(16, "big")
            db = self.dark6().to_bytes(16, "big")
            # hop-by-hop header claiming 48 bytes; only 8 are there
            pl = _pack("!BB", P_TCP, 5) + b"\x01\x04" + bytes(4)
            l3 = ip6(sb, db, P_HOPOPT, pl, hlim=60)
            f = eth(SENSOR_MAC, ROUTER_MAC, ETH_IPV6, l3, self.tags)
        else:
            src, dst = self.public4(), self.dark4()
            sb, db = src.to_bytes(4, "big"), dst.to_bytes(4, "big")
            seg = tcp(sb, db, rng.randint(1024, 65535), self.tcp_port(),
                      rng.getrandbits(32), 0, TH_SYN, 1024)
            if kind == "bad_ihl":
                l3 = ip4(sb, db, P_TCP, seg, ttl=240, ihl=rng.randint(0, 4))
            elif kind == "ip_total_length_beyond_frame":
                l3 = ip4(sb, db, P_TCP, seg, ttl=240,
                         totlen=40 + rng.randint(20, 1400))
            else:  # truncated_tcp: total length covers only part of TCP
                cut = rng.randint(1, 19)
                l3 = ip4(sb, db, P_TCP, seg[:cut], ttl=240)
            f = eth(SENSOR_MAC, ROUTER_MAC, ETH_IPV4, l3, self.tags)
        self.emit_other(t, f, "malformed", kind)

    # ---- driver
    def run(self, mix):
        rng = self.rng
        cats = [c for c, w in mix.items() if w > 0]
        if not self.v6_ranges:
            cats = [c for c in cats if c not in V6_CATEGORIES]
        if not self.v4_ranges:
            cats = [c for c in cats if c in V6_CATEGORIES or
                    c in ("not_darknet", "not_ip", "malformed")]
        if not cats:
            raise SystemExit("nothing to generate with this mix/darknet")
        total_w = sum(mix[c] for c in cats)
        target = {c: mix[c] / total_w * self.limit for c in cats}
        fns = {c: getattr(self, "s_" + c) for c in cats}
        while not self.full():
            deficits = [max(0.0, target[c] - self.m_cat.get(c, 0))
                        for c in cats]
            if sum(deficits) <= 0:
                deficits = [target[c] for c in cats]
            c = rng.choices(cats, deficits)[0]
            self.cat = c
            self.tags = self.tags_for_session() if c != "malformed" else ()
            before = len(self.pkts)
            fns[c]()
            if len(self.pkts) == before:
                # a category that cannot produce anything must not spin
                self.m_cat.setdefault(c, 0)
                target[c] = min(target[c], self.m_cat[c])

    def write(self, path, start_us):
        self.pkts.sort(key=lambda p: p[0])
        out = open(path, "wb") if path != "-" else sys.stdout.buffer
        out.write(_pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        malformed_frames = []
        buf = []
        hdr = struct.Struct("<IIII").pack
        for i, (t, frame, kind) in enumerate(self.pkts):
            ts = start_us + t
            n = len(frame)
            buf.append(hdr(ts // 1000000, ts % 1000000, n, n))
            buf.append(frame)
            if kind is not None:
                malformed_frames.append(i + 1)
            if len(buf) >= 8192:
                out.write(b"".join(buf))
                buf.clear()
        out.write(b"".join(buf))
        if out is not sys.stdout.buffer:
            out.close()
        return malformed_frames

    def manifest(self, malformed_frames, start_us):
        def addr(v6, a):
            return str(ipaddress.IPv6Address(a) if v6 else
                       ipaddress.IPv4Address(a))
        keys = sorted(([addr(v6, d), PROTO_NAME.get(p, str(p)), dp, v[0], v[1]]
                       for (v6, d, p, dp), v in self.m_keys.items()),
                      key=lambda r: (r[0], r[1], r[2]))
        return {
            "generator": "gen-darknet.py",
            "format_version": 1,
            "seed": self.a.seed,
            "packets": len(self.pkts),
            "start_us": start_us,
            "duration": self.a.duration,
            "darknets": [str(n) for n in self.v4 + self.v6],
            "darknet_packets": self.darknet_packets,
            "darknet_ip_bytes": self.darknet_bytes,
            "not_darknet_packets": self.not_darknet,
            "not_ip_packets": self.not_ip,
            "malformed_packets": sum(self.malformed.values()),
            "malformed": self.malformed,
            "malformed_frames": malformed_frames,
            "flows": len(self.m_flows),
            "categories": dict(sorted(self.m_cat.items())),
            "syn_fingerprints": dict(sorted(self.m_fp.items())),
            "flow_tags": self.flow_tag_counts(),
            "misc": self.m_misc,
            "keys_columns": ["dst", "proto", "dport", "packets", "ip_bytes"],
            "keys": keys,
        }


def parse_time(s):
    try:
        return float(s)
    except ValueError:
        pass
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d.timestamp()


def parse_mix(s):
    mix = dict(DEFAULT_MIX)
    if not s:
        return mix
    for item in s.split(","):
        if not item.strip():
            continue
        name, _, val = item.partition("=")
        name = name.strip()
        if name not in mix:
            raise SystemExit("unknown category %r (known: %s)"
                             % (name, ", ".join(mix)))
        mix[name] = float(val)
    return mix


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="pcap file to write ('-' = stdout)")
    ap.add_argument("--packets", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--darknet", action="append",
                    help="darknet CIDR, repeatable (default 192.0.2.0/24 and "
                    "2001:db8:dead::/64)")
    ap.add_argument("--start", default="2024-05-01T00:00:00Z",
                    help="first timestamp, RFC 3339 or epoch seconds")
    ap.add_argument("--duration", type=float, default=600.0,
                    help="seconds spanned by the timestamps")
    ap.add_argument("--manifest", help="write the composition as JSON here")
    ap.add_argument("--mix", default="",
                    help="packet shares, e.g. 'syn_scan=60,malformed=0'; "
                    "categories: " + ", ".join(DEFAULT_MIX))
    ap.add_argument("--vlan-share", type=float, default=0.04,
                    help="share of sessions sent with one 802.1Q tag")
    ap.add_argument("--qinq-share", type=float, default=0.02,
                    help="share of sessions sent with 802.1ad + 802.1Q tags")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    if not a.darknet:
        a.darknet = ["192.0.2.0/24", "2001:db8:dead::/64"]
    if a.packets < 0 or a.duration <= 0:
        ap.error("--packets must be >= 0 and --duration > 0")
    t0 = time.monotonic()
    gc.disable()       # millions of small objects, no cycles: skip the scans
    start_us = int(round(parse_time(a.start) * 1e6))
    g = Gen(a)
    if a.packets:
        g.run(parse_mix(a.mix))
    mf = g.write(a.out, start_us)
    if a.manifest:
        with open(a.manifest, "w") as f:
            json.dump(g.manifest(mf, start_us), f, separators=(",", ":"))
            f.write("\n")
    if not a.quiet:
        print("gen-darknet: %d packets (%d darknet, %d not darknet, %d not IP, "
              "%d malformed), %d flows, %.1f s" %
              (len(g.pkts), g.darknet_packets, g.not_darknet, g.not_ip,
               sum(g.malformed.values()), len(g.m_flows),
               time.monotonic() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
