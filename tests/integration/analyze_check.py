#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check umbra-analyze output against the gen-scenario.py manifest.

Every expected number is computed here from the manifest (what the
generator wrote into the captures), never from umbra-analyze. Exits 1
with a list of differences on mismatch.

  analyze_check.py top MANIFEST OUT.json --mode sensor|group|all [-n N]
                   [--groups engine|file] [--from DATE --to DATE]
  analyze_check.py sources MANIFEST OUT.json --port tcp/23|any [--week]
                   [--from DATE --to DATE]
  analyze_check.py sensors MANIFEST OUT.json [--groups engine|file]
                   [--from DATE --to DATE]
  analyze_check.py surge MANIFEST OUT.json --expect port23|noport|ranges|asn|country
  analyze_check.py flows MANIFEST OUT.csv --case NAME
"""
import argparse
import calendar
import csv
import datetime
import ipaddress
import json
import sys

PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "icmp6": 58}
errors = []


def err(msg):
    errors.append(msg)


def dest_sort_key(dk):
    """umbra-analyze breaks ties by proto number, then port."""
    if "/" in dk:
        p, port = dk.split("/")
        return (PROTO[p], int(port))
    return (PROTO[dk], 0)


def out_dest(row):
    p = row["proto"]
    return p if row["port"] is None else "%s/%d" % (p, row["port"])


def date_range(a, b):
    """dates a..b inclusive (YYYY-MM-DD)"""
    d = datetime.date.fromisoformat(a)
    e = datetime.date.fromisoformat(b)
    while d <= e:
        yield d.isoformat()
        d += datetime.timedelta(days=1)


def in_window(date, a):
    return (not a.frm or date >= a.frm) and (not a.to or date < a.to)


def sensor_group(m, addr, how):
    for e in m["engines"]:
        if addr in e["sensors"]:
            return e["name"] if how == "engine" else e["group"]
    raise KeyError(addr)


def addr_key(a):
    ip = ipaddress.ip_address(a)
    return (4 if ip.version == 4 else 6, ip.packed.ljust(16, b"\0"))


def check_rows(what, got, want):
    if len(got) != len(want):
        err("%s: %d rows, expected %d" % (what, len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            err("%s row %d: got %s, expected %s" % (what, i + 1, g, w))


def per_dest_in_window(m, a, engines):
    """packets per dest over the window (from engine_day_dest)"""
    tot = {}
    for e in engines:
        for date, dd in m["engine_day_dest"].get(e, {}).items():
            if in_window(date, a):
                for dk, n in dd.items():
                    tot[dk] = tot.get(dk, 0) + n
    return tot


def cmd_top(m, out, a):
    n = a.n
    rank = lambda dd: sorted(dd.items(), key=lambda kv: (-kv[1], dest_sort_key(kv[0])))[:n]
    if a.mode == "sensor":
        sens = m["sensor_dest"]
        order = sorted(sens, key=lambda s: (-sum(sens[s].values()), addr_key(s)))
        got = [s["sensor"] for s in out["sensors"]]
        check_rows("sensor order", got, order)
        for s in out["sensors"]:
            want = rank(sens.get(s["sensor"], {}))
            gotr = [(out_dest(r), r["packets"]) for r in s["top"]]
            check_rows("sensor %s" % s["sensor"], gotr, want)
            if s["packets"] != sum(sens.get(s["sensor"], {}).values()):
                err("sensor %s: %d packets, expected %d" %
                    (s["sensor"], s["packets"], sum(sens[s["sensor"]].values())))
            if a.groups == "file" and s.get("group") != sensor_group(m, s["sensor"], "file"):
                err("sensor %s in group %s" % (s["sensor"], s.get("group")))
        return
    # per group or overall: sum over sensors, average per sensor seen
    groups = {}
    for e in m["engines"]:
        g = "all" if a.mode == "all" else (e["name"] if a.groups == "engine" else e["group"])
        gg = groups.setdefault(g, {"sensors": 0, "dest": {}})
        seen = [s for s in e["sensors"]
                if any(in_window(d, a) for d in m["sensor_days"].get(s, []))]
        gg["sensors"] += len(seen)
        for dk, v in per_dest_in_window(m, a, [e["name"]]).items():
            gg["dest"][dk] = gg["dest"].get(dk, 0) + v
    if a.mode == "all":
        outs = [dict(out, group="all")]
    else:
        outs = out["groups"]
        check_rows("groups", [g["group"] for g in outs], sorted(groups))
    for og in outs:
        w = groups[og["group"]]
        if og["sensors"] != w["sensors"]:
            err("group %s: %d sensors, expected %d" % (og["group"], og["sensors"], w["sensors"]))
        if og["packets"] != sum(w["dest"].values()):
            err("group %s: %d packets, expected %d" %
                (og["group"], og["packets"], sum(w["dest"].values())))
        want = [(dk, v, round(v / w["sensors"], 6)) for dk, v in rank(w["dest"])]
        gotr = [(out_dest(r), r["packets"], round(r["avg_per_sensor"], 6)) for r in og["top"]]
        check_rows("group %s" % og["group"], gotr, want)


def cmd_sources(m, out, a):
    port = "tcp/23" if a.port == "tcp/23" else "any"
    if a.week:
        src = m["range_week_sources_23"]
        bins = sorted({int(b) for r in src.values() for b in r})
        width = 7 * 86400
        get = lambda rn, b: src.get(rn, {}).get(str(b), 0)
        first, last = bins[0], bins[-1]
    else:
        src = m["range_day_sources"][port]
        days = sorted({d for r in src.values() for d in r})
        width = 86400
        ts = lambda d: calendar.timegm(datetime.date.fromisoformat(d).timetuple())
        get = lambda rn, b: src.get(rn, {}).get(
            datetime.datetime.utcfromtimestamp(b).strftime("%Y-%m-%d"), 0)
        first, last = ts(days[0]), ts(days[-1])
        if a.frm:
            first = ts(a.frm)
            last = ts(a.to) - width
    if out["interval"] != width:
        err("interval %s, expected %d" % (out["interval"], width))
    want_bins = list(range(first, last + 1, width))
    got_bins = [calendar.timegm(datetime.datetime.strptime(
        b["start"], "%Y-%m-%dT%H:%M:%SZ").timetuple()) for b in out["bins"]]
    check_rows("bins", got_bins, want_bins)
    if out["ranges"] != list(m["ranges"]):
        err("ranges %s, expected %s" % (out["ranges"], list(m["ranges"])))
    for b, t in zip(out["bins"], got_bins):
        for rn in m["ranges"]:
            w = get(rn, t)
            g = b["sources"][rn]
            if a.approx:
                if abs(g - w) > max(2, 0.05 * w):
                    err("%s %s: %s sources, expected %d (+-5%%)" % (b["start"], rn, g, w))
            elif g != w:
                err("%s %s: %s sources, expected %d" % (b["start"], rn, g, w))


def cmd_sensors(m, out, a):
    want = {}
    for e in m["engines"]:
        g = e["name"] if a.groups == "engine" else e["group"]
        cap = set()
        for lo, hi in e["sessions"]:
            cap.update(d for d in date_range(lo, hi) if in_window(d, a))
        seen = [s for s in e["sensors"]
                if any(in_window(d, a) for d in m["sensor_days"].get(s, []))]
        months = {}
        for d in cap:
            months.setdefault(d[:7], set()).add(d)
        for mo, days in months.items():
            w = want.setdefault((g, mo), {"sensors": 0, "days": 0, "packets": 0})
            w["sensors"] += len(seen)
            w["days"] += len(seen) * len(days)
            w["packets"] += sum(sum(dd.values()) for d, dd in
                                m["engine_day_dest"].get(e["name"], {}).items() if d in days)
    got = {}
    for g in out["groups"]:
        for p in g["periods"]:
            got[(g["group"], p["period"])] = p
    check_rows("periods", sorted(got), sorted(want))
    for k in sorted(want):
        w, g = want[k], got.get(k)
        if not g:
            continue
        avg = w["packets"] / w["days"]
        if (g["sensors"], g["sensor_days"], g["packets"]) != (w["sensors"], w["days"], w["packets"]) \
                or abs(g["avg"] - avg) > 1e-6 * max(1, avg):
            err("%s %s: got sensors %d sensor-days %d packets %d avg %.6f, expected "
                "%d %d %d %.6f" % (k[0], k[1], g["sensors"], g["sensor_days"], g["packets"],
                                   g["avg"], w["sensors"], w["days"], w["packets"], avg))


def cmd_surge(m, out, a):
    rows = out["surges"]
    day = m["surge_day"]
    src23 = m["range_day_sources"]["tcp/23"]
    names = {r["group"]: r for r in rows}
    if a.expect == "port23":
        want = set(m["surge_ranges"])
    elif a.expect == "noport":
        want = set(m["surge_ranges"]) | {m["ssh_range"]}
    elif a.expect == "ranges":
        want = {"isp-%d" % (i + 1) for i in range(5)} | {"isp-all"}
    elif a.expect == "asn":
        want = {"AS%d" % m["isp_asn"]}
    elif a.expect == "country":
        want = {"JP"}
    else:
        want = set()
    if set(names) != want:
        err("surging groups %s, expected exactly %s" % (sorted(names), sorted(want)))
    for g, r in names.items():
        exp_day = m["ssh_day"] if g == m["ssh_range"] else day
        if r["start"] != exp_day:
            err("%s: start %s, expected %s" % (g, r["start"], exp_day))
        if a.expect in ("port23", "ranges") and g in want:
            rn = g if a.expect == "ranges" else \
                "isp-%d" % (m["surge_ranges"].index(g) + 1)
            ser = src23.get(rn, {})
            w = ser.get(day, 0)
            prev = [ser.get(d, 0) for d in date_range(
                (datetime.date.fromisoformat(day) - datetime.timedelta(days=7)).isoformat(),
                (datetime.date.fromisoformat(day) - datetime.timedelta(days=1)).isoformat())]
            base = sum(prev) / 7
            if r["sources"] != w or abs(r["baseline"] - base) > 1e-4 or \
                    abs(r["factor"] - w / max(base, 1)) > 1e-3:
                err("%s: sources %d baseline %.4f factor %.4f, expected %d %.4f %.4f" %
                    (g, r["sources"], r["baseline"], r["factor"], w, base, w / max(base, 1)))
    facs = [r["factor"] for r in rows]
    if facs != sorted(facs, reverse=True):
        err("surges not ranked by factor: %s" % facs)


def flows_expect(m, case):
    sd = m["sensor_dest"]
    eng = {e["name"]: e for e in m["engines"]}
    if case == "isp1-telnet":
        return m["range_packets"]["isp-1"].get("tcp/23", 0)
    if case == "tokyo-net":
        return sum(sum(sd.get(s, {}).values()) for s in eng["tokyo"]["sensors"])
    if case == "osaka-icmp":
        return sum(sd.get(s, {}).get("icmp", 0) for s in eng["osaka"]["sensors"])
    if case == "v6-not-icmp6":
        return sum(n for s in eng["sydney"]["sensors"] for dk, n in sd.get(s, {}).items()
                   if dk != "icmp6")
    if case == "synack":
        return m["kind_packets"].get("synack", 0)
    if case == "syn-only":
        return m["kind_packets"].get("tcp", 0)
    if case == "may":
        return sum(n for e in m["engine_day_dest"].values() for d, dd in e.items()
                   if d.startswith("2024-05") for n in dd.values())
    if case == "isp12-not-telnet":
        return sum(n for r in ("isp-1", "isp-2") for dk, n in m["range_packets"][r].items()
                   if dk != "tcp/23")
    if case == "port23":
        return sum(d.get("tcp/23", 0) for d in sd.values())
    if case == "udp-range":
        return sum(n for d in sd.values() for dk, n in d.items()
                   if dk.startswith("udp/") and 100 <= int(dk[4:]) <= 200)
    raise SystemExit("unknown case " + case)


def cmd_flows(m, path, a):
    with open(path) as f:
        got = sum(int(r["packets"]) for r in csv.DictReader(f))
    want = flows_expect(m, a.case)
    if got != want:
        err("flows --filter (%s): %d packets, expected %d" % (a.case, got, want))
    else:
        print("  %s: %d packets" % (a.case, got))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd")
    p.add_argument("manifest")
    p.add_argument("out")
    p.add_argument("--mode", default="sensor")
    p.add_argument("-n", type=int, default=10)
    p.add_argument("--groups", default="engine")
    p.add_argument("--from", dest="frm")
    p.add_argument("--to")
    p.add_argument("--port", default="any")
    p.add_argument("--week", action="store_true")
    p.add_argument("--approx", action="store_true")
    p.add_argument("--expect")
    p.add_argument("--case")
    a = p.parse_args()
    m = json.load(open(a.manifest))
    if a.cmd == "flows":
        cmd_flows(m, a.out, a)
    else:
        out = json.load(open(a.out))
        {"top": cmd_top, "sources": cmd_sources, "sensors": cmd_sensors,
         "surge": cmd_surge}[a.cmd](m, out, a)
    if errors:
        for e in errors[:40]:
            print("MISMATCH: " + e, file=sys.stderr)
        if len(errors) > 40:
            print("... and %d more" % (len(errors) - 40), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
