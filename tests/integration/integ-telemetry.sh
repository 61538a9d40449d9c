#!/usr/bin/env bash
# DPDK telemetry: a replay with --telemetry (the shorthand then keeps
# EAL's telemetry socket, under its own --file-prefix umbra-PID) and
# --linger; dpdk-telemetry.py queries /umbra/stats, /umbra/class,
# /umbra/malformed, /umbra/ports, /umbra/sensors, /umbra/export and
# /umbra/top_sources, and every value must equal --stats-json; the top
# sources must also agree with the dump (umbra-analyze flows, grouped by
# source) within Space-Saving's guarantee.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
need dpdk-telemetry.py
make_workdir
. "$INTEG_DIR/integ-lib.sh"

"$PY" "$GEN" --out "$WORK/a.pcap" --packets 20000 --seed 25 --quiet
mkdir "$WORK/out" "$WORK/nf"
port=$(free_port udp)
# an export sink too, so /umbra/export has something to show (nobody
# listens: UDP sends still succeed on loopback or fail and are counted)
"$UMBRA" --pcap "$WORK/a.pcap" --darknet 192.0.2.0/24 --darknet 2001:db8:dead::/64 \
	--out "$WORK/out" --stats-json "$WORK/stats.json" --telemetry --linger 120 \
	--ipfix "udp://127.0.0.1:$port" --quiet >"$WORK/engine.log" 2>&1 &
upid=$!
PEERS+=("$upid")
for _ in $(seq 1 300); do
	"$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/stats.json" 2>/dev/null && break
	kill -0 "$upid" 2>/dev/null || { cat "$WORK/engine.log" >&2; die "engine exited"; }
	sleep 0.1
done
printf '%s\n' /umbra/stats /umbra/class /umbra/malformed /umbra/proto /umbra/tags \
	/umbra/ports,tcp /umbra/ports,udp /umbra/sensors /umbra/export /umbra/top_sources |
	timeout 30 "$PY" "$(command -v dpdk-telemetry.py)" -f "umbra-$upid" >"$WORK/tel.out" 2>&1 ||
	{ cat "$WORK/tel.out" >&2; die "dpdk-telemetry.py failed"; }

"$UMBRA_ANALYZE" flows --format csv "$WORK/out" >"$WORK/flows.csv"
"$PY" - "$WORK/tel.out" "$WORK/stats.json" "$WORK/flows.csv" "$INTEG_DIR" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[4])
from metrics_check import check_top_sources
rep, ports = {}, []
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line)
        rep.update(r)
        if "/umbra/ports" in r:
            ports.append(r["/umbra/ports"])  # tcp, then udp
s = json.load(open(sys.argv[2]))
bad = n = 0
def eq(what, got, want):
    global bad, n
    n += 1
    if got != want:
        print(f"  {what}: telemetry {got}, stats-json {want}")
        bad += 1
st = rep["/umbra/stats"]
for k in ("rx_packets", "rx_bytes", "darknet_packets", "darknet_bytes", "not_darknet_packets",
          "not_ip_packets", "malformed_packets", "fragment_packets", "flows_created",
          "flows_exported", "flows_evicted", "exported_packets", "records_dropped",
          "records_written", "bytes_written", "rx_missed", "rx_nombuf"):
    eq(k, st[k], s[k])
for k, v in s["by_class"].items():
    eq(f"class {k}", rep["/umbra/class"][k], v)
for k, v in s["malformed"].items():
    eq(f"malformed {k}", rep["/umbra/malformed"][k], v)
for k, v in s["by_proto"].items():
    eq(f"proto {k}", rep["/umbra/proto"][k], v["packets"])
for k, v in s["flows_by_tag"].items():
    eq(f"tag {k}", rep["/umbra/tags"][k], v)
for i, proto in enumerate(("tcp", "udp")):
    want = {str(x["port"]): x["packets"] for x in s[f"top_{proto}_dports"][:20]}
    eq(f"top {proto} ports", ports[i], want)
sens = {x["sensor"].replace(".", "_").replace(":", "_"): x["packets"] for x in s["sensors"]}
eq("sensors (first 256)", {k: v for k, v in rep["/umbra/sensors"].items()},
   {k: sens[k] for k in rep["/umbra/sensors"]})
eq("sensor count", len(rep["/umbra/sensors"]), min(256, len(sens)))
for f in ("records", "sent", "dropped", "errors", "bytes"):
    eq(f"export ipfix {f}", rep["/umbra/export"][f"ipfix_{f}"], s["export"]["ipfix"][f])
top, ts = rep["/umbra/top_sources"], s["top_sources"]
for k in ("capacity", "floor_packets", "records", "packets"):
    eq(f"top sources {k}", top[k], ts[k])
eq("top sources", list(zip(top["src"], top["src_packets"], top["src_error"])),
   [(x["src"], x["packets"], x["error"]) for x in ts["sources"]])
print(f"telemetry vs stats-json: {n} values compared, {bad} differ")
fails = check_top_sources(ts, sys.argv[3], "bounded")
for f in fails:
    print(f"  top sources: {f}")
sys.exit(1 if bad or fails else 0)
PY
stop_pid "$upid" TERM
echo "integ-telemetry: ok"
