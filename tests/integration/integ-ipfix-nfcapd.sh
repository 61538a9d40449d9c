#!/usr/bin/env bash
# IPFIX over UDP to nfdump's collector: nfcapd on 127.0.0.1 receives the
# export of a replay; every record of the dump must be in nfcapd's file
# exactly once with the same packets, bytes, flags and start/end times
# (ms), nfcapd must see no sequence error, and the sink counts no loss.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
need nfcapd nfdump
make_workdir
. "$INTEG_DIR/integ-lib.sh"

"$PY" "$GEN" --out "$WORK/a.pcap" --packets 20000 --seed 21 --quiet
mkdir "$WORK/out" "$WORK/nf"
port=$(free_port udp)
nfcapd -b 127.0.0.1 -p "$port" -w "$WORK/nf" -t 3600 -B 8000000 >"$WORK/nfcapd.log" 2>&1 &
nfpid=$!
PEERS+=("$nfpid")
wait_listen udp "$port"

run_engine "$WORK/engine.log" 120 --pcap "$WORK/a.pcap" --darknet 192.0.2.0/24 \
	--darknet 2001:db8:dead::/64 --out "$WORK/out" --stats-json "$WORK/stats.json" \
	--ipfix "udp://127.0.0.1:$port" --quiet
engine_ok "$WORK/engine.log"
sleep 1 # nfcapd reads what is in its socket buffer
stop_pid "$nfpid" TERM
grep -q "Sequence Errors: 0" "$WORK/nfcapd.log" || { cat "$WORK/nfcapd.log" >&2; die "nfcapd saw sequence errors"; }
grep "Sequence Errors" "$WORK/nfcapd.log"

TZ=UTC nfdump -R "$WORK/nf" -o json >"$WORK/nf.json"
"$UMBRA_ANALYZE" flows --format csv "$WORK/out" >"$WORK/umbra.csv"
"$PY" "$INTEG_DIR/ipfix_compare.py" "$WORK/umbra.csv" --nfdump "$WORK/nf.json"
check_ipfix_sink "$WORK/stats.json"
echo "integ-ipfix-nfcapd: ok"
