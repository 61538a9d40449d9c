#!/usr/bin/python3
"""perf-suite smoke test: run umbra-bench briefly on each feed and check
that every documented JSON field is present and the counts add up. No
timing is asserted: these machines are shared and noisy."""
import json
import subprocess
import sys
import tempfile

bench = sys.argv[1]
REQUIRED = ["bench", "tsc_hz", "dpdk_version", "hugepages", "page_size", "burst", "mix",
            "mpps_per_worker", "cycles_per_packet", "stage_cycles_per_packet",
            "baseline_cycles_per_packet", "ratio", "flow_inserts_per_s",
            "flow_lookups_per_s", "writer_records", "writer_records_per_s",
            "writer_bytes_per_record", "writer_column_bytes_per_record",
            "writer_encode_records_per_s", "writer_zstd_records_per_s", "memory", "loss",
            "darknet_packets", "exported_packets", "records"]
failed = 0
with tempfile.TemporaryDirectory() as out:
    for feed in (["--feed", "mem"], ["--feed", "ring", "--ndr", "--trial-ms", "50"],
                 ["--feed", "mem", "--no-hyperscan"]):
        cmd = [bench, *feed, "--packets", "300000", "--flows", "20000", "--out", out]
        print("+", " ".join(cmd), flush=True)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        if r.returncode != 0:
            print("exit status", r.returncode, r.stdout, r.stderr)
            failed += 1
            continue
        lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
        if len(lines) != 1:
            print("expected one JSON object, got", len(lines), r.stdout)
            failed += 1
            continue
        j = json.loads(lines[0])
        missing = [k for k in REQUIRED if k not in j]
        for k in ("rx_missed", "rx_nombuf", "ring_drops", "ring_drop_packets"):
            if k not in j.get("loss", {}):
                missing.append("loss." + k)
        for k in ("parse", "filter", "classify", "flow", "emit"):
            if k not in j.get("stage_cycles_per_packet", {}):
                missing.append("stage_cycles_per_packet." + k)
        if feed[1] == "ring":
            missing += [k for k in ("ndr_mpps", "pdr_0_5pct_mpps", "generator_ceiling_mpps")
                        if k not in j]
        mix = j.get("mix", {})
        missing += ["mix." + k for k in ("classify", "hyperscan") if k not in mix]
        hs = j.get("hyperscan")
        if mix.get("hyperscan") != ("--no-hyperscan" not in feed):
            print("mix.hyperscan is %s for %s" % (mix.get("hyperscan"), feed))
            failed += 1
        if mix.get("hyperscan"):
            if not isinstance(hs, dict) or "scans" not in hs:
                missing.append("hyperscan.scans")
            elif feed[1] == "mem":
                missing += ["hyperscan." + k for k in
                            ("payload_packets", "cycles_per_packet_without", "share_of_cycles")
                            if k not in hs]
                # Hyperscan is called only for packets that carry payload,
                # and the default rules cover the mix's UDP probes
                if not 0 < hs.get("scans", 0) <= hs.get("payload_packets", 0):
                    print("hyperscan scans %s, payload packets %s" %
                          (hs.get("scans"), hs.get("payload_packets")))
                    failed += 1
        elif hs is not None:
            print("a hyperscan object without Hyperscan:", hs)
            failed += 1
        # where the writer's bytes go: FORMAT.md's 15 stored columns, each
        # compressed alone; together near what the writer wrote per record
        COLS = ["src4", "dst4", "src16", "dst16", "first", "duration", "sport", "dport",
                "packets", "bytes", "ttl_min", "ip_id", "syn_window", "profile_index",
                "profiles"]
        cols = j.get("writer_column_bytes_per_record", {})
        if list(cols) != COLS or min(cols.values()) < 0:
            print("writer_column_bytes_per_record:", cols)
            failed += 1
        elif not 0.8 * j["writer_bytes_per_record"] <= sum(cols.values()) <= \
                1.25 * j["writer_bytes_per_record"]:
            print("columns add up to %.2f bytes per record, the writer wrote %.2f" %
                  (sum(cols.values()), j["writer_bytes_per_record"]))
            failed += 1
        # the first part of the pipeline alone, on the same feed (mem only)
        if feed[1] == "mem":
            fr = j.get("front_cycles_per_packet")
            if fr is None or "front_ratio" not in j:
                missing += ["front_cycles_per_packet", "front_ratio"]
            elif not (fr > 0 and abs(j["front_ratio"] - fr / j["baseline_cycles_per_packet"]) < 0.01):
                print("front_cycles_per_packet %s, front_ratio %s, baseline %s" %
                      (fr, j["front_ratio"], j["baseline_cycles_per_packet"]))
                failed += 1
        # the machine's memory: a line with 32 in flight costs less than
        # one waited for alone, over a buffer far larger than any cache
        mem = j.get("memory", {})
        if not (mem.get("buffer_mib", 0) >= 256 and
                0 < mem.get("line_cycles", 0) < mem.get("latency_cycles", 0)):
            print("memory:", mem)
            failed += 1
        if not (j.get("writer_encode_records_per_s", 0) > 0 and
                j.get("writer_zstd_records_per_s", 0) > 0):
            print("writer parts:", j.get("writer_encode_records_per_s"),
                  j.get("writer_zstd_records_per_s"))
            failed += 1
        if missing:
            print("missing fields:", missing)
            failed += 1
        # every darknet packet the worker counted is in an exported record
        if j.get("darknet_packets") != j.get("exported_packets"):
            print("darknet_packets %s != exported_packets %s" %
                  (j.get("darknet_packets"), j.get("exported_packets")))
            failed += 1
        if not (j["cycles_per_packet"] > 0 and j["baseline_cycles_per_packet"] > 0):
            print("cycle counts must be positive:", j["cycles_per_packet"],
                  j["baseline_cycles_per_packet"])
            failed += 1
        print(" ".join(feed[1:]), "ok:", {k: j[k] for k in ("cycles_per_packet", "baseline_cycles_per_packet", "ratio")},
              "hyperscan:", hs)
sys.exit(1 if failed else 0)
