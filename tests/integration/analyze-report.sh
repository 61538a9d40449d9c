#!/bin/bash
# umbra-analyze report --html over the gen-scenario.py scenario:
#   - the page is self-contained: no script (only JSON data islands), no
#     stylesheet or image links, no URL other than the SVG namespace
#   - its tables carry the right numbers: the embedded data (same formats
#     as top-ports --by-sensor, sensors, sources, surge) is checked against
#     the generator's manifest, and the visible per-sensor table shows the
#     first sensor's top destination
#   - headless Chromium from Debian renders it; the screenshot is not
#     blank (python3-pil: enough non-background pixels and colours)
set -euo pipefail
. "$(dirname "$0")/analyze-lib.sh"

need_umbra analyze
command -v chromium >/dev/null || die "chromium not found (scripts/install-deps --test installs it)"
make_workdir
start=$SECONDS
scenario_dumps
M="$SC/manifest.json"
H="$WORK/report.html"

echo "== report --html"
an report --html "$H" --ranges "$SC/ranges.txt" --port 23/tcp --sensors "$SC/sensors.txt" \
	--title "TSUBAME-style report" "$DUMPS"
[ -s "$H" ] || die "no report written"
echo "  $(wc -c <"$H") bytes"

echo "== self-contained"
if grep -Eio '<script[^>]*src|<link|<img|<iframe|url\(|@import' "$H"; then
	die "the page loads something"
fi
urls=$(grep -Eo 'https?://[^"<> ]+' "$H" | sort -u)
[ "$urls" = "http://www.w3.org/2000/svg" ] || die "unexpected URLs: $urls"
[ "$(grep -c '<script' "$H")" = "$(grep -c '<script type="application/json"' "$H")" ] ||
	die "a script that is not a JSON data island"
grep -q '<svg' "$H" || die "no inline SVG"

echo "== the numbers"
"$PY" - "$H" "$WORK" <<'PYEOF'
import re, sys
html = open(sys.argv[1]).read()
for name in ("top-ports", "top-overall", "sensors", "surge", "sources"):
    m = re.search(r'<script type="application/json" id="umbra-%s">\n(.*?)</script>' % name,
                  html, re.S)
    if not m:
        sys.exit("no %s data in the page" % name)
    open("%s/%s.json" % (sys.argv[2], name), "w").write(m.group(1))
PYEOF
"$PY" "$CHECK" top "$M" "$WORK/top-ports.json" --mode sensor --groups file
"$PY" "$CHECK" top "$M" "$WORK/top-overall.json" --mode all
"$PY" "$CHECK" sensors "$M" "$WORK/sensors.json" --groups file
"$PY" "$CHECK" sources "$M" "$WORK/sources.json" --port tcp/23
"$PY" "$CHECK" surge "$M" "$WORK/surge.json" --expect port23
# the visible table: the busiest sensor heads a column with its top row
"$PY" - "$H" "$M" <<'PYEOF'
import json, re, sys
html = open(sys.argv[1]).read()
m = json.load(open(sys.argv[2]))
sd = m["sensor_dest"]
best = max(sd, key=lambda s: sum(sd[s].values()))
dk, n = max(sd[best].items(), key=lambda kv: kv[1])
name = dk.split("/")[1] + "/tcp" if dk.startswith("tcp/") else dk
if best not in html or not re.search(r"<td[^>]*>%s<br><span class=\"n\">%d</span>" % (re.escape(name), n), html):
    sys.exit("table lacks %s's top row %s %d" % (best, name, n))
PYEOF

echo "== headless Chromium"
timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--user-data-dir="$WORK/chromium" --window-size=1280,3000 \
	--screenshot="$WORK/shot.png" "file://$H" >"$WORK/chromium.log" 2>&1 || {
	tail -n 20 "$WORK/chromium.log" >&2
	die "chromium failed"
}
[ -s "$WORK/shot.png" ] || die "chromium wrote no screenshot"
"$PY" "$INTEG_DIR/analyze_png.py" "$WORK/shot.png" || die "the screenshot is blank"

echo "== errors"
an_rc 2 report "$DUMPS"
an_rc 2 report --html "$WORK/x.html" --port 99999/tcp "$DUMPS"
echo "analyze-report: ok ($((SECONDS - start)) s)"
