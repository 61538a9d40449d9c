#!/usr/bin/env python3
"""Check an umbra /metrics exposition against the engine's --stats-json.

    metrics_check.py METRICS_TXT STATS_JSON

Every figure that both show must be equal: totals, per class, per
protocol, per tag, malformed by reason, per sensor, top ports, NIC and
ring loss, writer and export counters.
"""
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
    print(f"metrics vs stats-json: {checked} values compared, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
