#!/usr/bin/env bash
# Every analyzer command over the dump of an empty capture: exit 0, no
# sanitizer report (in the ASan+UBSan build a runtime error aborts), and
# the totals are zero.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
make_workdir

"$PY" -c 'import sys; from scapy.all import wrpcap; wrpcap(sys.argv[1], [])' "$WORK/empty.pcap"
mkdir "$WORK/out"
run_engine "$WORK/engine.log" 60 --pcap "$WORK/empty.pcap" --darknet 192.0.2.0/24 \
	--out "$WORK/out" --quiet --stats-json "$WORK/stats.json"
engine_ok "$WORK/engine.log"
printf '%s\n' 'r1 198.51.100.0/24' >"$WORK/ranges.txt"

fail=0
run() {
	local rc=0
	"$UMBRA_ANALYZE" "$@" "$WORK/out" >"$WORK/cmd.out" 2>"$WORK/cmd.err" || rc=$?
	if [ "$rc" -ne 0 ] || grep -q "runtime error\|AddressSanitizer" "$WORK/cmd.err"; then
		echo "FAIL: umbra-analyze $* (exit $rc)" >&2
		head -5 "$WORK/cmd.err" >&2
		fail=1
	else
		echo "ok: umbra-analyze $*"
	fi
}
run flows --format csv
run flows --format ndjson
run stats --format json
run top-ports -n 5
run top-ports -n 5 --by-sensor --format json
run sources --ranges "$WORK/ranges.txt" --interval day
run sensors --per day --by month
run surge --port 23/tcp --group /24
run scanners
run verify
run report --html "$WORK/r.html"

packets=$("$UMBRA_ANALYZE" stats --format json "$WORK/out" |
	"$PY" -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
[ "$packets" = 0 ] || { echo "FAIL: stats packets $packets, expected 0" >&2; fail=1; }
[ "$fail" = 0 ] || die "analyzer failed on an empty dump"
echo "analyze-empty: ok"
