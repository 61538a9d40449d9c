#!/bin/bash
# umbra-analyze sources: distinct source addresses per named range per
# interval (the TSUBAME report's Figure 2), over the gen-scenario.py
# scenario: five /24 ranges of one ISP that start Telnet scanning together
# on 2024-04-27, a range named by several CIDRs, decoys. Checked against
# the generator's manifest (sets of sources it wrote):
#   - --port 23/tcp --interval day: every range, every day, exact
#   - every port; --interval 604800 (bins aligned on the epoch)
#   - --from/--to: the window's days only, empty days as 0
#   - --approx (HyperLogLog): within 5% (or 2) of the exact counts
#   - csv and json agree; a bad --ranges file is a one-line error, exit 2
set -euo pipefail
. "$(dirname "$0")/analyze-lib.sh"

need_umbra analyze
make_workdir
start=$SECONDS
scenario_dumps
M="$SC/manifest.json"
R="$SC/ranges.txt"

echo "== sources --port 23/tcp --interval day"
an sources --ranges "$R" --port 23/tcp --interval day --format json "$DUMPS" >"$WORK/d.json"
"$PY" "$CHECK" sources "$M" "$WORK/d.json" --port tcp/23

echo "== sources (every port), default interval"
an sources --ranges "$R" --format json "$DUMPS" >"$WORK/any.json"
"$PY" "$CHECK" sources "$M" "$WORK/any.json" --port any

echo "== sources --interval 604800"
an sources --ranges "$R" --port 23/tcp --interval 604800 --format json "$DUMPS" >"$WORK/w.json"
"$PY" "$CHECK" sources "$M" "$WORK/w.json" --port tcp/23 --week

echo "== sources --from/--to (Golden Week)"
an sources --ranges "$R" --port 23/tcp --from 2024-04-20 --to 2024-05-08 --format json \
	"$DUMPS" >"$WORK/gw.json"
"$PY" "$CHECK" sources "$M" "$WORK/gw.json" --port tcp/23 --from 2024-04-20 --to 2024-05-08

echo "== sources --approx"
an sources --ranges "$R" --port 23/tcp --approx --format json "$DUMPS" >"$WORK/ap.json"
"$PY" "$CHECK" sources "$M" "$WORK/ap.json" --port tcp/23 --approx
grep -q '"exact":false' "$WORK/ap.json" || die "--approx output does not say so"

echo "== csv agrees with json"
an sources --ranges "$R" --port 23/tcp --format csv "$DUMPS" >"$WORK/d.csv"
"$PY" - "$WORK/d.json" "$WORK/d.csv" <<'PYEOF'
import csv, json, sys
j = json.load(open(sys.argv[1]))
want = [(b["start"], r, b["sources"][r]) for b in j["bins"] for r in j["ranges"]]
got = [(r["start"], r["range"], int(r["sources"])) for r in csv.DictReader(open(sys.argv[2]))]
if got != want:
    sys.exit("csv differs from json")
PYEOF

echo "== errors"
printf 'isp-1 61.200.10.0/33\n' >"$WORK/bad.txt"
an_rc 2 sources --ranges "$WORK/bad.txt" "$DUMPS"
grep -q "bad.txt:1: bad CIDR '61.200.10.0/33'" "$WORK/an.err" || die "bad ranges file: $(cat "$WORK/an.err")"
an_rc 2 sources --ranges "$R" --port 23/xyz "$DUMPS"
an_rc 2 sources --ranges "$R" --interval week "$DUMPS"
an_rc 2 sources "$DUMPS"
echo "analyze-sources: ok ($((SECONDS - start)) s)"
