#!/usr/bin/env bash
# Two workers on two RX queues (net_pcap with one capture per queue), EAL
# options before '--', time from the clock, stopped by SIGTERM: every
# darknet packet of both captures must be in a written record, counted
# exactly once, and the dumps must be complete (no .partial) and valid.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
need zstd
make_workdir

"$PY" "$GEN" --out "$WORK/a.pcap" --packets 20000 --seed 11 --manifest "$WORK/a.json" --quiet
"$PY" "$GEN" --out "$WORK/b.pcap" --packets 30000 --seed 12 --manifest "$WORK/b.json" --quiet
mkdir "$WORK/out"

cpus=$(nproc)
c1=$((cpus > 1 ? 1 : 0))
set +e
"$UMBRA" --no-huge --no-pci -m 256 --no-shconf --file-prefix="umbra-ws-$$" \
	--lcores="0@0,1@$c1,2@$c1" --log-level=5 \
	--vdev "net_pcap_ws$$,rx_pcap=$WORK/a.pcap,rx_pcap=$WORK/b.pcap" -- \
	--workers 2 --darknet 192.0.2.0/24 --darknet 2001:db8:dead::/64 \
	--out "$WORK/out" --stats-json "$WORK/stats.json" --no-status --quiet \
	>"$WORK/engine.log" 2>&1 &
pid=$!
set -e
# wait until both captures are read (the counters stop moving), then stop
for _ in $(seq 1 60); do
	sleep 0.5
	if ! kill -0 "$pid" 2>/dev/null; then
		cat "$WORK/engine.log" >&2
		die "engine exited before SIGTERM"
	fi
	n=$(ls "$WORK/out" | wc -l)
	# the writer creates a file once records flow; give replay 3 s after
	[ "$n" -gt 0 ] && break
done
sleep 3
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat "$WORK/engine.log" >&2; die "engine exited $rc after SIGTERM"; }

"$PY" - "$WORK" <<'PY'
import json, subprocess, sys, os
work = sys.argv[1]
a = json.load(open(f"{work}/a.json"))
b = json.load(open(f"{work}/b.json"))
s = json.load(open(f"{work}/stats.json"))
def eq(name, got, want):
    print(f"{name}: umbra {got}, expected {want}")
    if got != want:
        sys.exit(f"FAIL: {name} differs")
eq("rx_packets", s["rx_packets"], a["packets"] + b["packets"])
eq("darknet_packets", s["darknet_packets"], a["darknet_packets"] + b["darknet_packets"])
eq("malformed_packets", s["malformed_packets"], a["malformed_packets"] + b["malformed_packets"])
eq("time_source", s["time_source"], "clock")
eq("records_dropped", s["records_dropped"], 0)
eq("records_written", s["records_written"], s["flows_exported"])
out = subprocess.run([os.environ["UMBRA_ANALYZE"], "stats", "--format", "json", f"{work}/out"],
                     check=True, capture_output=True, text=True).stdout
st = json.loads(out)
eq("packets in records", st["packets"], s["darknet_packets"])
PY

for f in "$WORK"/out/*; do
	case $f in *.partial) die "left a partial file: $f" ;; esac
	zstd -q -t "$f" || die "zstd -t failed on $f"
done
echo "workers-signal: 2 workers, SIGTERM, nothing lost"
