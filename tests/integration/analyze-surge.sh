#!/bin/bash
# umbra-analyze surge over the gen-scenario.py scenario, where five /24
# ranges of one ISP start scanning 23/TCP together on 2024-04-27. Decoys:
# a /24 scanning 23/TCP steadily, a /24 with an 8-source blip, a /24 that
# surges on 22/TCP on 2024-05-15. Checked against the manifest:
#   - --port 23/tcp --group /24: exactly the five ranges, starting on
#     2024-04-27, with that day's sources, trailing baseline and factor
#   - without --port: the five and the 22/TCP range (its own day)
#   - --group ranges FILE: the five named ranges and their union
#   - --group asn --asn FILE: the ISP's AS only
set -euo pipefail
. "$(dirname "$0")/analyze-lib.sh"

need_umbra analyze
make_workdir
start=$SECONDS
scenario_dumps
M="$SC/manifest.json"

echo "== surge --port 23/tcp --group /24"
an surge --port 23/tcp --group /24 --format json "$DUMPS" >"$WORK/s.json"
"$PY" "$CHECK" surge "$M" "$WORK/s.json" --expect port23
an surge --port 23/tcp "$DUMPS"

echo "== surge (every port)"
an surge --format json "$DUMPS" >"$WORK/n.json"
"$PY" "$CHECK" surge "$M" "$WORK/n.json" --expect noport

echo "== surge --group ranges FILE"
an surge --port 23/tcp --group ranges "$SC/ranges.txt" --format json "$DUMPS" >"$WORK/r.json"
"$PY" "$CHECK" surge "$M" "$WORK/r.json" --expect ranges

echo "== surge --group asn --asn FILE"
an surge --port 23/tcp --group asn --asn "$SC/asn.txt" --format json "$DUMPS" >"$WORK/a.json"
"$PY" "$CHECK" surge "$M" "$WORK/a.json" --expect asn

echo "== errors"
an_rc 2 surge --group /33 "$DUMPS"
an_rc 2 surge --group asn "$DUMPS"
an_rc 2 surge --factor 0.5 "$DUMPS"
echo "analyze-surge: ok ($((SECONDS - start)) s)"
