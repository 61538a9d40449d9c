#!/bin/bash
# Tag counts are exact: a generated capture whose manifest knows, per tag,
# how many flows carry it (scripts/gen-darknet.py computes the rules of
# docs/CLASSIFY.md from the bytes it writes), replayed through the engine
# with timeouts longer than the capture so each 5-tuple is one record;
# umbra-analyze's tags column is counted per tag and compared exactly.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
make_workdir

"$PY" "$GEN" --out "$WORK/c.pcap" --packets 40000 --seed 11 \
	--manifest "$WORK/m.json" --quiet
mkdir -p "$WORK/out"
run_engine "$WORK/engine.log" 120 --pcap "$WORK/c.pcap" \
	--darknet 192.0.2.0/24 --darknet 2001:db8:dead::/64 --out "$WORK/out" \
	--rules "$UMBRA_SRC/rules/default.rules" --idle-timeout 86400 \
	--active-timeout 604800 --quiet --no-status
engine_ok "$WORK/engine.log"
"$UMBRA_ANALYZE" flows --format csv "$WORK/out" >"$WORK/flows.csv"
"$PY" - "$WORK/m.json" "$WORK/flows.csv" <<'PYEOF'
import csv, json, sys
want = json.load(open(sys.argv[1]))["flow_tags"]
got = {}
for row in csv.DictReader(open(sys.argv[2])):
    for t in row["tags"].split("|"):
        if t:
            got[t] = got.get(t, 0) + 1
bad = 0
for t in sorted(set(want) | set(got)):
    w, g = want.get(t, 0), got.get(t, 0)
    print("%-12s manifest %7d engine %7d %s" % (t, w, g, "" if w == g else "MISMATCH"))
    bad += w != g
for t in ("scan", "backscatter", "zmap", "masscan", "mirai", "large_scan", "fragment"):
    if want.get(t, 0) == 0:
        print("generator produced no %s flow" % t)
        bad += 1
sys.exit(1 if bad else 0)
PYEOF
echo "PASS: tag counts equal the generator's"
