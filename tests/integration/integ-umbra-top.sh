#!/usr/bin/env bash
# umbra-top under tmux: the live view of a lingering replay must show the
# exact totals of --stats-json (received, darknet, top TCP port 23, the
# scan tag) and, in its top sources panel, the dump's ten largest sources
# (umbra-analyze flows, grouped by source) with their exact packets and
# shares; then switch to UDP ports on 'u' and quit on 'q'. The capture has
# fewer sources than the engine's summary keeps (so every count must be
# exact), a fifth of them IPv6.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
need tmux
[ -n "${UMBRA_TOP:-}" ] && [ -x "$UMBRA_TOP" ] || die "umbra-top not built (libncurses-dev missing?)"
make_workdir
. "$INTEG_DIR/integ-lib.sh"

"$PY" "$GEN" --out "$WORK/a.pcap" --packets 1500 --seed 26 --mix ipv6_tcp=20 --quiet
mkdir "$WORK/out"
mport=$(free_port tcp)
"$UMBRA" --pcap "$WORK/a.pcap" --darknet 192.0.2.0/24 --darknet 2001:db8:dead::/64 \
	--out "$WORK/out" --stats-json "$WORK/stats.json" --metrics "127.0.0.1:$mport" \
	--linger 120 --quiet >"$WORK/engine.log" 2>&1 &
upid=$!
PEERS+=("$upid")
for _ in $(seq 1 300); do
	"$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/stats.json" 2>/dev/null && break
	kill -0 "$upid" 2>/dev/null || { cat "$WORK/engine.log" >&2; die "engine exited"; }
	sleep 0.1
done

sock="umbra-top-test-$$"
tm() { tmux -L "$sock" "$@"; }
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; cleanup_all' EXIT
tm new-session -d -s top -x 150 -y 45 "$UMBRA_TOP --metrics 127.0.0.1:$mport --interval 0.5"

rx=$(json_get "$WORK/stats.json" 'd["rx_packets"]')
dn=$(json_get "$WORK/stats.json" 'd["darknet_packets"]')
p23=$(json_get "$WORK/stats.json" 'next(x["packets"] for x in d["top_tcp_dports"] if x["port"] == 23)')
udp1=$(json_get "$WORK/stats.json" 'd["top_udp_dports"][0]["port"]')
scan=$(json_get "$WORK/stats.json" 'd["flows_by_tag"]["scan"]')

# wait_screen PATTERN: until the pane shows it (bounded)
wait_screen() {
	for _ in $(seq 1 100); do
		tm capture-pane -p -t top >"$WORK/screen.txt" 2>/dev/null || true
		grep -Eq -- "$1" "$WORK/screen.txt" && return 0
		sleep 0.1
	done
	cat "$WORK/screen.txt" >&2
	die "umbra-top never showed /$1/"
}
wait_screen "received $rx  darknet $dn "
wait_screen "^ +23 +$p23 "
wait_screen "scan +$scan( |$)"
echo "screen: received $rx, darknet $dn, 23/tcp $p23, scan flows $scan (= --stats-json)"

# the oracle: packets per source in the dump, ranked as the engine ranks
"$UMBRA_ANALYZE" flows --format csv "$WORK/out" >"$WORK/flows.csv"
"$PY" - "$WORK/stats.json" "$WORK/flows.csv" "$INTEG_DIR" "$WORK/rows.txt" <<'PY'
import json, re, sys
sys.path.insert(0, sys.argv[3])
from metrics_check import check_top_sources, flows_by_src, src_order
s = json.load(open(sys.argv[1]))
fails = check_top_sources(s["top_sources"], sys.argv[2], "exact")
for f in fails:
    print(f"  top sources: {f}")
per, _ = flows_by_src(sys.argv[2])
top = sorted(per.items(), key=lambda x: src_order(*x))[:10]
with open(sys.argv[4], "w") as f:
    for i, (src, p) in enumerate(top, 1):
        share = f"{100.0 * p / s['exported_packets']:.1f}%"
        f.write(f"^ +{i} +{re.escape(src)} +{p} +{re.escape(share)} *$\n")
print(f"oracle: top 10 of {len(per)} sources, {sum(':' in x for x, _ in top)} of them IPv6")
sys.exit(1 if fails else 0)
PY
wait_screen "top sources by packets"
n=0
while IFS= read -r row; do
	wait_screen "$row"
	n=$((n + 1))
done <"$WORK/rows.txt"
[ "$n" -eq 10 ] || die "oracle gave $n top sources, not 10"
cat "$WORK/screen.txt"
grep -Eq "^ +[0-9]+  [0-9a-f.:]+ +[0-9]+ +[0-9]+ +[0-9.]+%" "$WORK/screen.txt" &&
	die "a top source shows an error bound although every count is exact"
echo "screen: top sources = the dump's top 10, packets and shares exact"
tm send-keys -t top u
wait_screen "top UDP ports"
wait_screen "^ +$udp1 "
echo "screen: 'u' shows UDP ports (top $udp1/udp)"
tm send-keys -t top q
for _ in $(seq 1 50); do
	tm has-session -t top 2>/dev/null || break
	sleep 0.1
done
tm has-session -t top 2>/dev/null && die "umbra-top did not quit on 'q'"
stop_pid "$upid" TERM
echo "integ-umbra-top: ok"
