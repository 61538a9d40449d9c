#!/usr/bin/env bash
# Overload: the writer cannot keep up. Live mode (no backpressure), a
# 64-flow table that evicts constantly, 64-record rings and a writer
# slowed by --writer-delay-us. Checked, against the generator's manifest
# and the dumps (umbra-analyze):
#   - workers kept running: rx and darknet packets equal the manifest
#   - records were dropped (the overload happened) and every one counted:
#     flows_exported == records_written + records_dropped,
#     darknet packets == packets in written records + packets in dropped
#     records, and the dumps' interval frames hold the same drop counts
#   - the engine recovered: flows that ended idle after the replay (when
#     the writer had caught up) were written; dumps complete and valid
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/reliability-lib.sh"
need_umbra analyze
need zstd
make_workdir
PACKETS=${UMBRA_TEST_PACKETS_OVERLOAD:-30000}
"$PY" "$GEN" --out "$WORK/in.pcap" --packets "$PACKETS" --seed 31 \
	--manifest "$WORK/manifest.json" --quiet
mkdir "$WORK/out"
start_live overload "$WORK/in.pcap" 0 --out "$WORK/out" --flows 64 --ring-size 64 \
	--writer-delay-us 20000 --idle-timeout 1 --active-timeout 5 \
	--flush-interval 200 --stats-json "$WORK/stats.json"
# the capture is read in well under a second; then flows idle out
for _ in $(seq 1 60); do
	sleep 0.5
	kill -0 "$ENGINE_PID" 2>/dev/null || { cat "$WORK/overload.log" >&2; die "engine exited early"; }
	[ -n "$(ls -A "$WORK/out")" ] && break
done
sleep 4
kill -TERM "$ENGINE_PID"
wait_engine
[ "$ENGINE_RC" -eq 0 ] || { cat "$WORK/overload.log" >&2; die "engine exited $ENGINE_RC"; }
check_dumps "$WORK/out" 1
analyze_stats "$WORK/out" "$WORK/dump.json"
"$PY" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
m = json.load(open(f"{w}/manifest.json"))
s = json.load(open(f"{w}/stats.json"))
d = json.load(open(f"{w}/dump.json"))
bad = []
def eq(name, got, want):
    print(f"  {name}: {got} (expected {want})")
    if got != want:
        bad.append(name)
eq("rx_packets", s["rx_packets"], m["packets"])
eq("darknet_packets", s["darknet_packets"], m["darknet_packets"])
print(f"  records written {s['records_written']}, dropped {s['records_dropped']} "
      f"({s['records_dropped_packets']} packets)")
if s["records_dropped"] == 0:
    bad.append("no records dropped: the writer was not overloaded")
eq("flows_exported", s["flows_exported"], s["records_written"] + s["records_dropped"])
eq("records in dumps", d["records"], s["records_written"])
eq("darknet = written + dropped packets", s["darknet_packets"],
   d["packets"] + s["records_dropped_packets"])
eq("dump ring_drops", d["ring_drops"], s["records_dropped"])
eq("dump ring_drop_packets", d["ring_drop_packets"], s["records_dropped_packets"])
eq("dump darknet_packets", d["darknet_packets"], s["darknet_packets"])
idle = d.get("end_reasons", {}).get("idle", 0)
print(f"  records ended idle after the replay (writer caught up): {idle}")
if idle == 0:
    bad.append("no idle records written after the overload")
if bad:
    sys.exit("FAIL: " + ", ".join(bad))
print(f"RESULT overload written={s['records_written']} dropped={s['records_dropped']} "
      f"dropped_packets={s['records_dropped_packets']} darknet={s['darknet_packets']}")
PY
echo "reliability-overload: ok"
