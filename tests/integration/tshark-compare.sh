#!/bin/bash
# Packets per (dst, proto, dport) and flows from umbra against tshark.
#
# A seeded capture from scripts/gen-darknet.py (IPv4 and IPv6 darknets,
# VLAN/QinQ, fragments, extension headers, ICMP errors, ~1% malformed) is
# replayed with timeouts too long to fire, so every flow ends at shutdown.
# tshark (L2-L4 dissectors only, no reassembly; tshark_oracle.py) counts
# the same capture independently (fields of the outer headers, and a
# plain display-filter count as a cross-check). Checked:
#   - generator manifest == tshark (the capture is what we think it is)
#   - per (dst, proto, dport): packets and IP bytes in umbra's records ==
#     tshark's, exactly; CSV rows == distinct 5-tuples from tshark
#   - stats-json: rx_packets == tshark frames; each bucket (darknet,
#     not darknet, not IP, malformed) == tshark's; rx == sum of buckets;
#     darknet_packets == packets in records + dropped
#   - umbra-analyze stats (dump totals, interval counters) agree too
#   - every dump passes zstd -t and none is left .partial
# Knobs: UMBRA_TEST_PACKETS (default 120000), UMBRA_TEST_SEED,
# UMBRA_TEST_ENGINE_ARGS (extra engine options, e.g. "--workers 2").
set -euo pipefail
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

need_umbra analyze
need tshark zstd timeout

PACKETS=${UMBRA_TEST_PACKETS:-120000}
SEED=${UMBRA_TEST_SEED:-20240501}
DARKNETS=(192.0.2.0/24 2001:db8:dead::/64)
DN_ARGS=()
for d in "${DARKNETS[@]}"; do DN_ARGS+=(--darknet "$d"); done

read -r -a EXTRA <<<"${UMBRA_TEST_ENGINE_ARGS:-}"

make_workdir
start=$SECONDS

echo "== generating $PACKETS packets (seed $SEED), darknets ${DARKNETS[*]}"
"$PY" "$GEN" --out "$WORK/in.pcap" --packets "$PACKETS" --seed "$SEED" \
	--duration 600 --manifest "$WORK/manifest.json" "${DN_ARGS[@]}"

echo "== umbra --pcap (idle/active timeouts 86400 s: no flow times out)"
mkdir "$WORK/out"
run_engine "$WORK/engine.log" 600 --pcap "$WORK/in.pcap" "${DN_ARGS[@]}" \
	--out "$WORK/out" --sensor-name integ-tshark \
	--stats-json "$WORK/stats.json" \
	--idle-timeout 86400 --active-timeout 86400 "${EXTRA[@]}"
engine_ok "$WORK/engine.log"
[ -s "$WORK/stats.json" ] || die "engine wrote no --stats-json"
check_dumps "$WORK/out" 1

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

echo "== tshark (independent count)"
"$PY" "$INTEG_DIR/tshark_oracle.py" "$WORK/in.pcap" "${DN_ARGS[@]}" \
	--out "$WORK/oracle.json"

echo "== comparing"
"$PY" "$INTEG_DIR/compare_flows.py" --oracle "$WORK/oracle.json" \
	--manifest "$WORK/manifest.json" --csv "$WORK/flows.csv" \
	--stats "$WORK/stats.json" \
	--analyze-stats "$WORK/analyze-stats.json" --flows-exact
echo "tshark-compare: ok ($((SECONDS - start)) s)"
