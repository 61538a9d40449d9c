#!/usr/bin/env bash
# umbra-top under tmux: the live view of a lingering replay must show the
# exact totals of --stats-json (received, darknet, top TCP port 23, the
# scan tag), switch to UDP ports on 'u' and quit on 'q'.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra
need tmux
[ -n "${UMBRA_TOP:-}" ] && [ -x "$UMBRA_TOP" ] || die "umbra-top not built (libncurses-dev missing?)"
make_workdir
. "$INTEG_DIR/integ-lib.sh"

"$PY" "$GEN" --out "$WORK/a.pcap" --packets 20000 --seed 26 --quiet
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
cat "$WORK/screen.txt"
echo "screen: received $rx, darknet $dn, 23/tcp $p23, scan flows $scan (= --stats-json)"
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
