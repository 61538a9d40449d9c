#!/bin/bash
# Timeouts, rotation and the final flush.
#
# A 300-second generated capture with long-lived flows (pings and RST
# streams with gaps under the idle timeout) is replayed with
# --idle-timeout 5 --active-timeout 20 --rotate 60. Checked:
#   - records end idle, active and shutdown, each following the rules in
#     check_timeouts.py (against the capture's last packet time)
#   - rotation produced several files (>= 3 for 300 s at 60 s), named for
#     their period, each holding the records that became exportable in its
#     period (check_timeouts.py --rotate), none left .partial after exit,
#     all pass zstd -t
#   - packets per (dst, proto, dport) still equal tshark's (timeouts split
#     flows, they never lose packets); darknet_packets == packets in
#     records + dropped; rx_packets == sum of the buckets
set -euo pipefail
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

need_umbra analyze
need tshark zstd timeout capinfos

PACKETS=${UMBRA_TEST_PACKETS_SHUTDOWN:-60000}
SEED=${UMBRA_TEST_SEED:-20240502}
DURATION=300
IDLE=5
ACTIVE=20
ROTATE=60
DN_ARGS=(--darknet 192.0.2.0/24 --darknet 2001:db8:dead::/64)

make_workdir
start=$SECONDS

echo "== generating $PACKETS packets over $DURATION s (seed $SEED)"
"$PY" "$GEN" --out "$WORK/in.pcap" --packets "$PACKETS" --seed "$SEED" \
	--duration "$DURATION" --mix long_flow=4 \
	--manifest "$WORK/manifest.json" "${DN_ARGS[@]}"
end=$(capinfos -T -r -e -S "$WORK/in.pcap" | cut -f2)
echo "  last packet at $end (epoch s)"

echo "== umbra --pcap --idle-timeout $IDLE --active-timeout $ACTIVE --rotate $ROTATE"
mkdir "$WORK/out"
run_engine "$WORK/engine.log" 600 --pcap "$WORK/in.pcap" "${DN_ARGS[@]}" \
	--out "$WORK/out" --sensor-name integ-shutdown \
	--stats-json "$WORK/stats.json" --idle-timeout "$IDLE" \
	--active-timeout "$ACTIVE" --rotate "$ROTATE"
engine_ok "$WORK/engine.log"
[ -s "$WORK/stats.json" ] || die "engine wrote no --stats-json"
FAILS=()
check_dumps "$WORK/out" 1
echo "  dump files (rotation every $ROTATE s):"
find "$WORK/out" -name '*.uz' -printf '    %f %s bytes\n' | sort
min_files=$((DURATION / ROTATE - 2))
[ "$NDUMPS" -ge "$min_files" ] ||
	FAILS+=("rotation: $NDUMPS dump file(s), expected at least $min_files")

echo "== umbra-analyze flows --format csv; umbra-analyze stats --format json"
"$UMBRA_ANALYZE" flows --format csv "$WORK/out" >"$WORK/flows.csv" \
	2>"$WORK/analyze.err" || {
	cat "$WORK/analyze.err" >&2
	die "umbra-analyze flows failed"
}
echo "  $(($(wc -l <"$WORK/flows.csv") - 1)) flow rows"
"$UMBRA_ANALYZE" stats --format json "$WORK/out" >"$WORK/analyze-stats.json" \
	2>"$WORK/analyze.err" || {
	cat "$WORK/analyze.err" >&2
	die "umbra-analyze stats failed"
}

echo "== timeout and rotation rules"
"$PY" "$INTEG_DIR/check_timeouts.py" --csv "$WORK/flows.csv" \
	--idle "$IDLE" --active "$ACTIVE" --capture-end "$end" \
	--rotate "$ROTATE" --dumps "$WORK/out" --analyze "$UMBRA_ANALYZE" ||
	FAILS+=("timeout/rotation rules")

echo "== packets against tshark"
"$PY" "$INTEG_DIR/tshark_oracle.py" "$WORK/in.pcap" "${DN_ARGS[@]}" \
	--out "$WORK/oracle.json"
"$PY" "$INTEG_DIR/compare_flows.py" --oracle "$WORK/oracle.json" \
	--manifest "$WORK/manifest.json" --csv "$WORK/flows.csv" \
	--stats "$WORK/stats.json" \
	--analyze-stats "$WORK/analyze-stats.json" ||
	FAILS+=("packet counts against tshark")
if [ "${#FAILS[@]}" -ne 0 ]; then
	printf 'FAIL: %s\n' "${FAILS[@]}" >&2
	exit 1
fi
echo "shutdown: ok ($((SECONDS - start)) s)"
