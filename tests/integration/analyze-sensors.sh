#!/bin/bash
# umbra-analyze sensors --per day --by month: average packets per sensor
# per day for each month, per sensor group (the TSUBAME report's Figure 3),
# counting only the days a sensor was capturing. The gen-scenario.py
# scenario has a host that was down for ten days in May (two capture
# sessions) and one that started on April 15. Checked against the
# generator's manifest: sensors, sensor-days, packets and the average,
#   - per dump sensor name (default groups)
#   - per group from --sensors FILE (domestic / overseas)
#   - within --from/--to
set -euo pipefail
. "$(dirname "$0")/analyze-lib.sh"

need_umbra analyze
make_workdir
start=$SECONDS
scenario_dumps
M="$SC/manifest.json"

echo "== sensors --per day --by month (groups: dump sensor names)"
an sensors --per day --by month --format json "$DUMPS" >"$WORK/e.json"
"$PY" "$CHECK" sensors "$M" "$WORK/e.json" --groups engine

echo "== sensors --sensors FILE (domestic / overseas)"
an sensors --per day --by month --sensors "$SC/sensors.txt" --format json "$DUMPS" >"$WORK/g.json"
"$PY" "$CHECK" sensors "$M" "$WORK/g.json" --groups file
an sensors --sensors "$SC/sensors.txt" "$DUMPS" >"$WORK/g.txt"
grep -q '^overseas' "$WORK/g.txt" || die "table lacks the overseas group"

echo "== sensors --from/--to (across the outage)"
an sensors --sensors "$SC/sensors.txt" --from 2024-05-05 --to 2024-05-25 --format json \
	"$DUMPS" >"$WORK/w.json"
"$PY" "$CHECK" sensors "$M" "$WORK/w.json" --groups file --from 2024-05-05 --to 2024-05-25

echo "== errors"
an_rc 2 sensors --per week "$DUMPS"
an_rc 2 sensors --by year "$DUMPS"
echo "analyze-sensors: ok ($((SECONDS - start)) s)"
