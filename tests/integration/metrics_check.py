#!/usr/bin/env python3
"""Check an umbra /metrics exposition against the engine's --stats-json.

    metrics_check.py METRICS_TXT STATS_JSON [FLOWS_CSV [exact|bounded]]

Every figure that both show must be equal: totals, per class, per
protocol, per tag, malformed by reason, per sensor, top ports, top
sources, NIC and ring loss, writer and export counters.

With FLOWS_CSV (`umbra-analyze flows --format csv` of the run's dump), the
top sources of --stats-json are also checked against the packets per
source that the dump holds (check_top_sources; the other integration
tests import it): exact when the engine's summary could keep every
source, within Space-Saving's guarantee otherwise. The last argument
makes sure the capture exercised the case the test is meant for.
"""
import collections
import csv
import ipaddress
import json
import re
import sys

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(path):
    m = {}
    for line in open(path):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        g = LINE.match(line)
        if not g:
            sys.exit(f"FAIL: unparsable line {line!r}")
        labels = tuple(sorted(LABEL.findall(g.group(3) or "")))
        m[(g.group(1), labels)] = float(g.group(4))
    return m


def src_order(src, packets):
    """The engine's rank order: packets down, then IPv4 first, then address."""
    a = ipaddress.ip_address(src)
    return (-packets, a.version, a.packed)


def flows_by_src(csv_path):
    """Packets per source address, and the number of records, of a dump's CSV."""
    per, records = collections.Counter(), 0
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            per[str(ipaddress.ip_address(row["src"]))] += int(row["packets"])
            records += 1
    return per, records


def check_top_sources(top, csv_path, expect=None, shown=20):
    """Compare a "top_sources" object (--stats-json) with the dump.

    K (capacity) >= distinct sources: the list must be the dump's top
    `shown` sources with their exact packets, no error, floor 0.
    Otherwise (Space-Saving, N packets): every listed count c with error e
    has c - e <= true <= c and e <= N / K; the floor (smallest count kept)
    is at most N / K; and every source with more packets than both the
    floor and the last listed count is listed. Returns the failures.
    """
    per, records = flows_by_src(csv_path)
    total, cap = sum(per.values()), top["capacity"]
    lst = [(str(ipaddress.ip_address(x["src"])), x["packets"], x["error"]) for x in top["sources"]]
    bad = []

    def want(what, got, exp):
        if got != exp:
            bad.append(f"{what}: engine {got}, dump {exp}")

    mode = "exact" if len(per) <= cap else "bounded"
    if expect is not None and mode != expect:
        bad.append(f"capture has {len(per)} sources for K = {cap}: {mode}, not {expect} as meant")
    want("records counted", top["records"], records)
    want("packets counted", top["packets"], total)
    want("sources listed", len(lst), min(shown, len(per)))
    want("rank order", [s for s, _, _ in lst],
         [s for s, _, _ in sorted(lst, key=lambda x: src_order(x[0], x[1]))])
    if len(set(s for s, _, _ in lst)) != len(lst):
        bad.append("a source is listed twice")
    exact = sum(1 for s, p, e in lst if e == 0 and per.get(s) == p)
    if mode == "exact":
        oracle = sorted(per.items(), key=lambda x: src_order(*x))[:shown]
        want("top sources", [(s, p, e) for s, p, e in lst], [(s, p, 0) for s, p in oracle])
        want("floor", top["floor_packets"], 0)
        print(f"top sources vs dump: {len(per)} sources <= K {cap}: the {len(lst)} listed "
              f"equal the dump's top {len(oracle)} exactly ({exact} exact counts, "
              f"{records} records, {total} packets)")
        return bad
    bound = total // cap
    floor = top["floor_packets"]
    if floor > bound:
        bad.append(f"floor {floor} above N/K = {bound}")
    for s, p, e in lst:
        t = per.get(s, 0)
        if not p - e <= t <= p:
            bad.append(f"{s}: {p} packets with error {e}, dump {t}")
        if e > bound:
            bad.append(f"{s}: error {e} above N/K = {bound}")
        if p < floor:
            bad.append(f"{s}: {p} packets, under the floor {floor}")
    cut = max(floor, lst[-1][1] if lst else 0)
    listed = set(s for s, _, _ in lst)
    missing = [(s, t) for s, t in per.items() if t > cut and s not in listed]
    if missing:
        bad.append(f"sources with more than {cut} packets not listed: {missing[:5]}")
    oracle = sorted(per.items(), key=lambda x: src_order(*x))[:len(lst)]
    same = sum(1 for a, b in zip(lst, oracle) if a[0] == b[0] and a[1] == b[1])
    print(f"top sources vs dump: {len(per)} sources > K {cap}: {len(lst)} listed, "
          f"{exact} exact, the rest within their error (max {max((e for _, _, e in lst), default=0)}, "
          f"N/K = {bound}); none missing above {cut}; {same} of {len(lst)} rank for rank as "
          f"the dump's ({records} records, {total} packets)")
    return bad


def main():
    m, s = parse(sys.argv[1]), json.load(open(sys.argv[2]))
    bad = checked = 0

    def eq(name, labels, want):
        nonlocal bad, checked
        got = m.get((name, tuple(sorted(labels.items()))))
        checked += 1
        if got is None or int(got) != want:
            print(f"  {name}{labels}: metrics {got}, stats-json {want}")
            bad += 1

    scalars = {
        "umbra_rx_packets_total": "rx_packets", "umbra_rx_bytes_total": "rx_bytes",
        "umbra_darknet_packets_total": "darknet_packets",
        "umbra_darknet_bytes_total": "darknet_bytes",
        "umbra_not_darknet_packets_total": "not_darknet_packets",
        "umbra_not_ip_packets_total": "not_ip_packets",
        "umbra_fragment_packets_total": "fragment_packets",
        "umbra_flows_created_total": "flows_created",
        "umbra_flows_exported_total": "flows_exported",
        "umbra_flows_evicted_total": "flows_evicted",
        "umbra_exported_packets_total": "exported_packets",
        "umbra_ring_dropped_records_total": "records_dropped",
        "umbra_ring_dropped_packets_total": "records_dropped_packets",
        "umbra_writer_records_total": "records_written",
        "umbra_writer_bytes_total": "bytes_written",
        "umbra_writer_lost_records_total": "records_lost_write",
        "umbra_nic_missed_packets_total": "rx_missed",
        "umbra_nic_nombuf_packets_total": "rx_nombuf",
        "umbra_sensor_overflow_packets_total": "sensor_overflow_packets",
    }
    for k, v in scalars.items():
        eq(k, {}, s[v])
    for reason, v in s["malformed"].items():
        eq("umbra_malformed_packets_total", {"reason": reason}, v)
    for c, v in s["by_class"].items():
        eq("umbra_class_packets_total", {"class": c}, v)
    for p, v in s["by_proto"].items():
        eq("umbra_proto_packets_total", {"proto": p}, v["packets"])
        eq("umbra_proto_bytes_total", {"proto": p}, v["bytes"])
    for t, v in s["flows_by_tag"].items():
        eq("umbra_tag_flows_total", {"tag": t}, v)
    for x in s["sensors"]:
        eq("umbra_sensor_packets_total", {"sensor": x["sensor"]}, x["packets"])
        eq("umbra_sensor_bytes_total", {"sensor": x["sensor"]}, x["bytes"])
    for proto in ("tcp", "udp"):
        for x in s[f"top_{proto}_dports"][:20]:
            eq("umbra_dport_packets_total", {"proto": proto, "port": str(x["port"])}, x["packets"])
    for sink, v in s.get("export", {}).items():
        for f in ("records", "sent", "dropped", "errors", "bytes"):
            name = {"records": "umbra_export_records_total",
                    "sent": "umbra_export_sent_records_total",
                    "dropped": "umbra_export_dropped_records_total",
                    "errors": "umbra_export_errors_total",
                    "bytes": "umbra_export_bytes_total"}[f]
            eq(name, {"sink": sink}, v[f])
    top = s["top_sources"]
    for i, x in enumerate(top["sources"]):
        lab = {"src": x["src"], "rank": str(i + 1)}
        eq("umbra_top_source_packets", lab, x["packets"])
        eq("umbra_top_source_error_packets", lab, x["error"])
    eq("umbra_top_source_capacity", {}, top["capacity"])
    eq("umbra_top_source_floor_packets", {}, top["floor_packets"])
    series = sum(1 for (name, _) in m if name == "umbra_top_source_packets")
    checked += 1
    if series != len(top["sources"]):
        print(f"  umbra_top_source_packets: {series} series, stats-json {len(top['sources'])}")
        bad += 1
    print(f"metrics vs stats-json: {checked} values compared, {bad} differ")
    if len(sys.argv) > 3:
        fails = check_top_sources(top, sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
        for f in fails:
            print(f"  top sources: {f}")
        bad += len(fails)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
