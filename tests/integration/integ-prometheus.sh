#!/usr/bin/env bash
# Prometheus exposition: a replay with --metrics and --linger keeps its
# final totals on /metrics; promtool checks the text, every figure is
# compared with --stats-json, the top sources are checked against the
# dump (more sources than the engine's summary keeps: within Space-Saving's
# guarantee), and a real Prometheus server started here scrapes the
# endpoint and answers queries through its HTTP API with the exact counts.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
need promtool prometheus
make_workdir
. "$INTEG_DIR/integ-lib.sh"

"$PY" "$GEN" --out "$WORK/a.pcap" --packets 20000 --seed 23 --quiet
mkdir "$WORK/out"
mport=$(free_port tcp)
"$UMBRA" --pcap "$WORK/a.pcap" --darknet 192.0.2.0/24 --darknet 2001:db8:dead::/64 \
	--out "$WORK/out" --stats-json "$WORK/stats.json" --metrics "127.0.0.1:$mport" \
	--linger 120 --quiet >"$WORK/engine.log" 2>&1 &
upid=$!
PEERS+=("$upid")
# --stats-json is written after the final publish: metrics are final then
for _ in $(seq 1 300); do
	"$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/stats.json" 2>/dev/null && break
	kill -0 "$upid" 2>/dev/null || { cat "$WORK/engine.log" >&2; die "engine exited"; }
	sleep 0.1
done
json_get "$WORK/stats.json" 'd["rx_packets"]' >/dev/null || die "no --stats-json after 30 s"

"$PY" - "$mport" "$WORK/metrics.txt" <<'PY'
import sys, urllib.request
body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=10).read()
open(sys.argv[2], "wb").write(body)
PY
promtool check metrics <"$WORK/metrics.txt"
echo "promtool check metrics: ok ($(grep -vc '^#' "$WORK/metrics.txt") samples)"
"$UMBRA_ANALYZE" flows --format csv "$WORK/out" >"$WORK/flows.csv"
"$PY" "$INTEG_DIR/metrics_check.py" "$WORK/metrics.txt" "$WORK/stats.json" \
	"$WORK/flows.csv" bounded

pport=$(free_port tcp)
cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: umbra
    static_configs:
      - targets: ['127.0.0.1:$mport']
YML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$WORK/prometheus.log" 2>&1 &
ppid_=$!
PEERS+=("$ppid_")
wait_listen tcp "$pport" 120 || { tail -20 "$WORK/prometheus.log" >&2; exit 1; }

"$PY" - "$pport" "$WORK/stats.json" <<'PY'
import json, sys, time, urllib.parse, urllib.request
port, stats = sys.argv[1], json.load(open(sys.argv[2]))
def query(q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    r = json.load(urllib.request.urlopen(url, timeout=5))
    res = r["data"]["result"]
    return int(float(res[0]["value"][1])) if res else None
want = {
    "umbra_rx_packets_total": stats["rx_packets"],
    "umbra_darknet_packets_total": stats["darknet_packets"],
    "umbra_writer_records_total": stats["records_written"],
    'umbra_class_packets_total{class="scan"}': stats["by_class"]["scan"],
    "sum(umbra_malformed_packets_total)": stats["malformed_packets"],
    'umbra_dport_packets_total{proto="tcp",port="23"}':
        next(x["packets"] for x in stats["top_tcp_dports"] if x["port"] == 23),
    'umbra_top_source_packets{rank="1",src="%s"}' % stats["top_sources"]["sources"][0]["src"]:
        stats["top_sources"]["sources"][0]["packets"],
}
deadline = time.time() + 40
while time.time() < deadline:
    try:
        if query("up{job='umbra'}") == 1 and query(next(iter(want))) is not None:
            break
    except OSError:
        pass
    time.sleep(0.5)
else:
    sys.exit("FAIL: prometheus never scraped umbra")
bad = 0
for q, v in want.items():
    got = query(q)
    print(f"prometheus query {q}: {got}, stats-json {v}")
    bad += got != v
sys.exit(1 if bad else 0)
PY

stop_pid "$upid" TERM
wait "$upid" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || die "engine exited $rc after SIGTERM during --linger"
echo "integ-prometheus: ok"
