#!/bin/bash
# umbra-analyze top-ports over a multi-host, three-month scenario
# (scripts/gen-scenario.py: four sensor hosts, 32 sensors, IPv4 and IPv6,
# one host down for ten days, one starting late), read from many files in
# several directories at once. Checked against the generator's manifest:
#   - --by-sensor: every sensor's top 10 (PORT/tcp, PORT/udp, ICMP,
#     ICMPv6) with exact packet counts, sensors ranked by packets
#   - --by-group with --sensors FILE (groups by dump sensor name and by
#     prefix, a label): sensors, packets and average per sensor per group
#   - overall ranking by average packets per sensor
#   - --from/--to: the window's numbers exactly, whole files skipped
#   - --threads 1 and the default give the same bytes; csv/table agree
#   - bad options: one line naming option and value, exit 2
set -euo pipefail
. "$(dirname "$0")/analyze-lib.sh"

need_umbra analyze
make_workdir
start=$SECONDS
scenario_dumps
M="$SC/manifest.json"

echo "== top-ports --by-sensor (json), from four directories"
an top-ports -n 10 --by-sensor --format json --sensors "$SC/sensors.txt" \
	"$DUMPS/tokyo" "$DUMPS/osaka" "$DUMPS/frankfurt" "$DUMPS/sydney" >"$WORK/s.json"
"$PY" "$CHECK" top "$M" "$WORK/s.json" --mode sensor --groups file
grep -q '"sensor":"203.0.113.0","name":"fra-a","group":"overseas"' "$WORK/s.json" ||
	die "the --sensors label of 203.0.113.0 is missing"

echo "== top-ports --by-group: by dump sensor name, then with --sensors"
an top-ports -n 10 --by-group --format json "$DUMPS" >"$WORK/g.json"
"$PY" "$CHECK" top "$M" "$WORK/g.json" --mode group --groups engine
an top-ports -n 10 --by-group --sensors "$SC/sensors.txt" --format json "$DUMPS" >"$WORK/g2.json"
"$PY" "$CHECK" top "$M" "$WORK/g2.json" --mode group --groups file

echo "== top-ports overall (average per sensor), single and all threads"
an top-ports -n 15 --format json --threads 1 "$DUMPS" >"$WORK/a1.json"
an top-ports -n 15 --format json "$DUMPS" >"$WORK/a.json"
cmp -s "$WORK/a1.json" "$WORK/a.json" || die "--threads 1 and default differ"
"$PY" "$CHECK" top "$M" "$WORK/a.json" --mode all -n 15

echo "== top-ports --from/--to (May): exact, whole files skipped"
an top-ports -n 15 --format json --from 2024-05-01 --to 2024-06-01T00:00:00Z --verbose \
	"$DUMPS" >"$WORK/w.json"
"$PY" "$CHECK" top "$M" "$WORK/w.json" --mode all -n 15 --from 2024-05-01 --to 2024-06-01
grep -Eq 'files: [0-9]+ read, [1-9][0-9]* skipped by the time window' "$WORK/an.err" ||
	die "no file skipped by the time window: $(cat "$WORK/an.err")"
echo "  $(grep -o 'files: [^;]*' "$WORK/an.err")"

echo "== csv and table carry the same numbers as json"
an top-ports -n 3 --by-sensor --format csv "$DUMPS" >"$WORK/s.csv"
"$PY" - "$WORK/s.json" "$WORK/s.csv" <<'PYEOF'
import csv, json, sys
j = json.load(open(sys.argv[1]))
want = [(s["sensor"], i + 1, r["proto"], "" if r["port"] is None else str(r["port"]), r["packets"])
        for s in j["sensors"] for i, r in enumerate(s["top"][:3])]
got = [(r["sensor"], int(r["rank"]), r["proto"], r["port"], int(r["packets"]))
       for r in csv.DictReader(open(sys.argv[2]))]
if got != want:
    sys.exit("csv differs from json: %s vs %s" % (got[:3], want[:3]))
PYEOF
an top-ports -n 1 --by-sensor "$DUMPS" >"$WORK/s.txt"
grep -q '^sensor ' "$WORK/s.txt" || die "table output has no sensor lines"

echo "== bad options"
for args in "-n 0" "--format xml" "--threads 0" "--from yesterday" "--bogus" "--sensors /nonexistent"; do
	# shellcheck disable=SC2086
	an_rc 2 top-ports $args "$DUMPS"
	[ "$(wc -l <"$WORK/an.err")" -eq 1 ] || die "top-ports $args: not one line: $(cat "$WORK/an.err")"
done
an_rc 2 top-ports --format xml "$DUMPS"
grep -q -- "--format.*'xml'" "$WORK/an.err" || die "error does not name --format and xml"
echo "analyze-top: ok ($((SECONDS - start)) s)"
