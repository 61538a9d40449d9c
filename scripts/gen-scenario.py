#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate a multi-sensor, multi-month darknet scenario with a known answer.

The scenario follows the JPCERT/CC TSUBAME report for 2024 Q2: sensors in
Japan (group "domestic") and abroad ("overseas", which receive more), the
TSUBAME port mix as background, and five /24 ranges of one ISP whose hosts
start Telnet (23/TCP) scanning together on one day (--surge-day, Golden
Week) and do not stop. Decoys: a /24 scanning 23/TCP at a steady rate the
whole time, a /24 with a one-day blip below the surge threshold, and a /24
that surges on 22/TCP instead. One sensor host has an outage (it captures
nothing for some days); another starts late.

Output in --out DIR:
  <engine>-<n>.pcap   one capture per capture session of each sensor host
  sessions.json       [{"engine", "group", "darknet", "pcap", "first", "last"}]
  manifest.json       the exact composition (what every test compares with)
  ranges.txt          named source ranges (umbra-analyze sources --ranges)
  sensors.txt         sensor groups (umbra-analyze --sensors)
  asn.txt             prefix -> AS number (umbra-analyze --asn)
  geo.txt             prefix, AS number, country (for a test MaxMind DB)

Every packet lies between 00:10 and 23:50 UTC of its day, so no flow spans
two days whatever the engine's timeouts. Packet counts, distinct sources
and days in the manifest are counted from the packets written, nothing else.
"""
import argparse
import datetime
import ipaddress
import json
import os
import random
import struct
import sys

DAY = 86400

# (engine, group, darknet, sensor count, per-day packet weight)
ENGINES = [
    ("tokyo", "domestic", "192.0.2.0/29", 8, 1.0),
    ("osaka", "domestic", "198.51.100.0/29", 8, 1.0),
    ("frankfurt", "overseas", "203.0.113.0/29", 8, 1.8),
    ("sydney", "overseas", "2001:db8:5::/125", 8, 1.5),
]

SURGE_RANGES = ["61.200.10.0/24", "61.200.11.0/24", "61.200.40.0/24",
                "61.201.7.0/24", "61.203.99.0/24"]
STEADY_RANGE = "45.67.89.0/24"     # 23/tcp at a steady rate: no surge
BLIP_RANGE = "45.67.90.0/24"       # 8 sources on one day: below threshold
SSH_RANGE = "45.80.1.0/24"         # surges, but on 22/tcp
ISP_ASN = 64500
OTHER_ASNS = {STEADY_RANGE: 64501, BLIP_RANGE: 64502, SSH_RANGE: 64503}
COUNTRIES = {STEADY_RANGE: "NL", BLIP_RANGE: "US", SSH_RANGE: "DE"}  # the ISP: JP

# TSUBAME 2024 Q2 top destinations, weighted
PORT_MIX = [(("tcp", 23), 30), (("tcp", 8728), 9), (("tcp", 6379), 7),
            (("tcp", 22), 7), (("tcp", 80), 6), (("tcp", 3389), 5),
            (("tcp", 4719), 4), (("icmp", None), 6), (("tcp", 8080), 4),
            (("tcp", 445), 3), (("tcp", 443), 3), (("tcp", 2222), 2),
            (("tcp", 8443), 2), (("tcp", 8081), 2), (("udp", 53), 2),
            (("udp", 123), 1), (("udp", 161), 1)]


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def l4(src, dst, proto, seg):
    if len(src) == 4:
        ph = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    else:
        ph = src + dst + struct.pack("!IxxxB", len(seg), proto)
    return csum(ph + seg)


def fill(seg, off, c):
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


def frame(src, dst, proto, seg, ttl, ipid):
    if len(src) == 4:
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), ipid, 0,
                          ttl, proto, 0, src, dst)
        hdr = fill(hdr, 10, csum(hdr))
        return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + hdr + seg
    hdr = struct.pack("!IHBB16s16s", 6 << 28, len(seg), proto, ttl, src, dst)
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x86\xdd" + hdr + seg


def packet(src, dst, kind, port, sport, ttl, ipid, seq):
    """kind: tcp (SYN), synack (backscatter), udp, icmp (echo request)."""
    v6 = len(src) == 16
    if kind in ("tcp", "synack"):
        flags = 0x02 if kind == "tcp" else 0x12
        seg = struct.pack("!HHIIBBHHH", sport, port, seq, 1 if kind == "synack" else 0,
                          5 << 4, flags, 1024, 0, 0)
        return frame(src, dst, 6, fill(seg, 16, l4(src, dst, 6, seg)), ttl, ipid)
    if kind == "udp":
        seg = struct.pack("!HHHH", sport, port, 8 + 4, 0) + b"umbr"
        return frame(src, dst, 17, fill(seg, 6, l4(src, dst, 17, seg)), ttl, ipid)
    if v6:
        seg = struct.pack("!BBHHH", 128, 0, 0, sport, 1) + b"ping"
        return frame(src, dst, 58, fill(seg, 2, l4(src, dst, 58, seg)), ttl, ipid)
    seg = struct.pack("!BBHHH", 8, 0, 0, sport, 1) + b"ping"
    return frame(src, dst, 1, fill(seg, 2, csum(seg)), ttl, ipid)


def dest_key(kind, port):
    """The manifest's destination name: tcp/23, udp/53, icmp, icmp6."""
    if kind in ("tcp", "synack"):
        return "tcp/%d" % port
    if kind == "udp":
        return "udp/%d" % port
    return kind


class Scenario:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.start = int(datetime.datetime.fromisoformat(a.start).replace(
            tzinfo=datetime.timezone.utc).timestamp())
        self.start -= self.start % DAY
        self.days = a.days
        self.surge_day = self.day_of(a.surge_day)
        self.ssh_day = self.day_of(a.ssh_day)
        self.blip_day = self.day_of(a.blip_day)
        # per engine: capturing days (sessions)
        self.sessions = {}
        for name, _, _, _, _ in ENGINES:
            self.sessions[name] = [(0, self.days - 1)]
        lo, hi = self.day_of(a.outage_from), self.day_of(a.outage_to)
        self.sessions["osaka"] = [(0, lo - 1), (hi + 1, self.days - 1)]
        self.sessions["sydney"] = [(self.day_of(a.late_start), self.days - 1)]
        self.sensors = {}
        for name, _, net, n, _ in ENGINES:
            nw = ipaddress.ip_network(net)
            hosts = [nw.network_address + i for i in range(nw.num_addresses)][:n]
            self.sensors[name] = [h.packed for h in hosts]
        # the packets: per (engine, day) a list of (t, frame)
        self.frames = {}
        # manifest counters
        self.sensor_dest = {}      # sensor -> dest -> packets
        self.engine_day_dest = {}  # engine -> date -> dest -> packets
        self.sensor_days = {}      # sensor -> set of days with a packet
        self.range_sources = {}    # (range, port|"any", day) -> set of src
        self.range_packets = {}    # range -> dest -> packets
        self.kind_packets = {}     # tcp (SYN), synack, udp, icmp, icmp6 -> packets

    def day_of(self, s):
        t = int(datetime.datetime.fromisoformat(s).replace(
            tzinfo=datetime.timezone.utc).timestamp())
        return (t - self.start) // DAY

    def date(self, d):
        return datetime.datetime.fromtimestamp(self.start + d * DAY,
                                               datetime.timezone.utc).strftime("%Y-%m-%d")

    def capturing(self, engine, d):
        return any(lo <= d <= hi for lo, hi in self.sessions[engine])

    def public4(self):
        r = self.rng
        while True:
            a = r.randrange(1 << 24, 224 << 24)
            b0 = a >> 24
            if b0 in (10, 45, 61, 100, 127, 169, 172, 192, 198, 203):
                continue
            return a.to_bytes(4, "big")

    def public6(self):
        return bytes([0x24, 0x0e]) + self.rng.randbytes(14)

    def emit(self, engine, d, src, dst, kind, port, ranges=()):
        """One packet from src to sensor dst of engine on day d."""
        r = self.rng
        if not self.capturing(engine, d):
            return False
        t = self.start + d * DAY + 600 + r.randrange(0, DAY - 1200) + r.random()
        sport = r.randrange(1024, 65535) if kind != "icmp" else r.randrange(1, 65535)
        fr = packet(src, dst, kind, port or 0, sport,
                    r.choice((51, 64, 113, 240)), r.randrange(0, 65536),
                    r.randrange(0, 1 << 32))
        self.frames.setdefault((engine, d), []).append((t, fr))
        dk = dest_key("icmp6" if kind == "icmp" and len(src) == 16 else kind, port)
        sd = self.sensor_dest.setdefault(dst, {})
        sd[dk] = sd.get(dk, 0) + 1
        ed = self.engine_day_dest.setdefault(engine, {}).setdefault(self.date(d), {})
        ed[dk] = ed.get(dk, 0) + 1
        self.sensor_days.setdefault(dst, set()).add(d)
        kk = "icmp6" if kind == "icmp" and len(src) == 16 else kind
        self.kind_packets[kk] = self.kind_packets.get(kk, 0) + 1
        for rn in ranges:
            rp = self.range_packets.setdefault(rn, {})
            rp[dk] = rp.get(dk, 0) + 1
            self.range_sources.setdefault((rn, "any", d), set()).add(src)
            if dk in ("tcp/23", "tcp/22"):
                self.range_sources.setdefault((rn, dk, d), set()).add(src)
        return True

    def any_sensor(self, v4only=True):
        names = [e for e in ENGINES if not v4only or ":" not in e[2]]
        e = self.rng.choice(names)
        return e[0], self.rng.choice(self.sensors[e[0]])

    def range_hosts(self, net):
        nw = ipaddress.ip_network(net)
        return [(nw.network_address + i).packed for i in range(1, 255)]

    def scan_from(self, d, src, port, ranges):
        """A source scanning port on day d: SYNs to 1-3 random sensors."""
        sent = False
        for _ in range(self.rng.randint(1, 3)):
            eng, dst = self.any_sensor()
            sent |= self.emit(eng, d, src, dst, "tcp", port, ranges)
        return sent

    def build(self):
        r = self.rng
        a = self.a
        for d in range(self.days):
            for name, _, net, _, weight in ENGINES:
                n = int(a.per_day * weight * r.uniform(0.85, 1.15))
                v6 = ":" in net
                kinds, wts = zip(*PORT_MIX)
                for _ in range(n):
                    kind, port = r.choices(kinds, wts)[0]
                    src = self.public6() if v6 else self.public4()
                    if r.random() < 0.05:
                        kind, port = "synack", r.randrange(1024, 65535)
                    self.emit(name, d, src, r.choice(self.sensors[name]), kind, port)
            # the five ranges: a trickle before the surge day, then a rising flood
            for i, net in enumerate(SURGE_RANGES):
                hosts = self.range_hosts(net)
                if d < self.surge_day:
                    k = 1 if r.random() < 0.3 else 0
                else:
                    k = min(200, a.surge_base + a.surge_rise * (d - self.surge_day) + i)
                for src in r.sample(hosts, k):
                    self.scan_from(d, src, 23, ("isp-%d" % (i + 1), "isp-all"))
            for src in r.sample(self.range_hosts(STEADY_RANGE), r.randint(30, 40)):
                self.scan_from(d, src, 23, ("steady",))
            if d == self.blip_day:
                for src in r.sample(self.range_hosts(BLIP_RANGE), 8):
                    self.scan_from(d, src, 23, ("blip",))
            elif r.random() < 0.5:
                self.scan_from(d, r.choice(self.range_hosts(BLIP_RANGE)), 23, ("blip",))
            if d >= self.ssh_day:
                for src in r.sample(self.range_hosts(SSH_RANGE), 30):
                    self.scan_from(d, src, 22, ("ssh",))

    def write(self, out):
        os.makedirs(out, exist_ok=True)
        sessions = []
        for name, group, net, _, _ in ENGINES:
            for si, (lo, hi) in enumerate(self.sessions[name]):
                path = os.path.join(out, "%s-%d.pcap" % (name, si))
                pk = []
                for d in range(lo, hi + 1):
                    pk.extend(self.frames.get((name, d), []))
                pk.sort(key=lambda x: x[0])
                with open(path, "wb") as f:
                    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
                    for t, fr in pk:
                        sec = int(t)
                        us = int((t - sec) * 1e6)
                        f.write(struct.pack("<IIII", sec, us, len(fr), len(fr)))
                        f.write(fr)
                sessions.append({"engine": name, "group": group, "darknet": net,
                                 "pcap": os.path.basename(path), "packets": len(pk),
                                 "first": self.date(lo), "last": self.date(hi)})
        with open(os.path.join(out, "sessions.json"), "w") as f:
            json.dump(sessions, f, indent=1)

        def addr(b):
            return str(ipaddress.ip_address(b))

        ranges = {"isp-%d" % (i + 1): [n] for i, n in enumerate(SURGE_RANGES)}
        ranges["isp-all"] = list(SURGE_RANGES)
        ranges.update({"steady": [STEADY_RANGE], "blip": [BLIP_RANGE], "ssh": [SSH_RANGE]})
        with open(os.path.join(out, "ranges.txt"), "w") as f:
            f.write("# name CIDR... (gen-scenario.py)\n")
            for n, cidrs in ranges.items():
                f.write("%s %s\n" % (n, " ".join(cidrs)))
        with open(os.path.join(out, "sensors.txt"), "w") as f:
            f.write("# address|CIDR|sensor-name group [label] (gen-scenario.py)\n")
            for name, group, net, _, _ in ENGINES:
                if name == "tokyo":  # by dump sensor name
                    f.write("%s %s\n" % (name, group))
                else:               # by prefix, with a label per first sensor
                    f.write("%s %s\n" % (net, group))
            f.write("%s %s %s\n" % (addr(self.sensors["frankfurt"][0]), "overseas", "fra-a"))
        with open(os.path.join(out, "asn.txt"), "w") as f:
            f.write("# CIDR ASN (gen-scenario.py)\n")
            f.write("61.200.0.0/16 AS%d\n61.201.0.0/16 %d\n61.203.0.0/16 %d\n" %
                    (ISP_ASN, ISP_ASN, ISP_ASN))
            for net, asn in OTHER_ASNS.items():
                f.write("%s %d\n" % (net, asn))
        with open(os.path.join(out, "geo.txt"), "w") as f:
            f.write("# CIDR ASN country (gen-scenario.py)\n")
            for p16 in ("61.200.0.0/16", "61.201.0.0/16", "61.203.0.0/16"):
                f.write("%s %d JP\n" % (p16, ISP_ASN))
            for net, asn in OTHER_ASNS.items():
                f.write("%s %d %s\n" % (net, asn, COUNTRIES[net]))

        m = {
            "start": self.date(0), "days": self.days,
            "surge_day": self.date(self.surge_day), "surge_ranges": SURGE_RANGES,
            "surge_port": "23/tcp", "ssh_day": self.date(self.ssh_day),
            "ssh_range": SSH_RANGE, "steady_range": STEADY_RANGE,
            "blip_range": BLIP_RANGE, "blip_day": self.date(self.blip_day),
            "isp_asn": ISP_ASN,
            "engines": [{
                "name": name, "group": group, "darknet": net,
                "sensors": [addr(s) for s in self.sensors[name]],
                "sessions": [[self.date(lo), self.date(hi)] for lo, hi in self.sessions[name]],
            } for name, group, net, _, _ in ENGINES],
            "sensor_dest": {addr(s): v for s, v in self.sensor_dest.items()},
            "engine_day_dest": self.engine_day_dest,
            "sensor_days": {addr(s): sorted(self.date(d) for d in v)
                            for s, v in self.sensor_days.items()},
            "ranges": ranges,
            "range_packets": self.range_packets,
            "kind_packets": self.kind_packets,
            "range_day_sources": {},
        }
        for (rn, port, d), srcs in self.range_sources.items():
            m["range_day_sources"].setdefault(port, {}).setdefault(rn, {})[self.date(d)] = len(srcs)
        # distinct sources per range per 7-day bin (bins aligned on the epoch)
        wk = {}
        for (rn, port, d), srcs in self.range_sources.items():
            if port != "tcp/23":
                continue
            b = (self.start + d * DAY) // (7 * DAY) * (7 * DAY)
            wk.setdefault(rn, {}).setdefault(b, set()).update(srcs)
        m["range_week_sources_23"] = {rn: {str(b): len(s) for b, s in v.items()}
                                      for rn, v in wk.items()}
        with open(os.path.join(out, "manifest.json"), "w") as f:
            json.dump(m, f)
        return sessions


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", default="2024-04-01", help="first day (UTC)")
    p.add_argument("--days", type=int, default=91)
    p.add_argument("--per-day", type=int, default=60,
                   help="background packets per domestic sensor host per day")
    p.add_argument("--surge-day", default="2024-04-27")
    p.add_argument("--surge-base", type=int, default=15,
                   help="distinct sources per surge range on the surge day")
    p.add_argument("--surge-rise", type=int, default=1,
                   help="more sources per range each following day")
    p.add_argument("--ssh-day", default="2024-05-15")
    p.add_argument("--blip-day", default="2024-06-05")
    p.add_argument("--outage-from", default="2024-05-10")
    p.add_argument("--outage-to", default="2024-05-19")
    p.add_argument("--late-start", default="2024-04-15")
    a = p.parse_args()
    s = Scenario(a)
    for k in ("surge_day", "ssh_day", "blip_day"):
        if not 7 <= getattr(s, k) < a.days:
            sys.exit("gen-scenario: --%s must lie at least 7 days into the scenario" %
                     k.replace("_", "-"))
    s.build()
    sessions = s.write(a.out)
    print("gen-scenario: %d sessions, %d packets in %s" %
          (len(sessions), sum(x["packets"] for x in sessions), a.out))


if __name__ == "__main__":
    main()
