# Sourced by the integ-*.sh tests (after common.sh): free ports, waiting
# for peers, stopping them. Every peer listens on 127.0.0.1 only.

# free_port tcp|udp: a port nobody uses on 127.0.0.1 right now.
free_port() {
	"$PY" - "$1" <<'PY'
import socket, sys
kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

# wait_listen tcp|udp PORT [SECONDS]: until something listens (TCP) or is
# bound (UDP) there. It reads the kernel's socket tables rather than trying
# to bind the port itself: a probe holding the port for a moment could make
# the peer's own bind fail.
wait_listen() {
	local kind=$1 port=$2 limit=${3:-20} i
	for i in $(seq 1 $((limit * 10))); do
		if "$PY" - "$kind" "$port" 2>/dev/null <<'PY'; then return 0; fi
import sys
kind, port = sys.argv[1], int(sys.argv[2])
for f in (f"/proc/net/{kind}", f"/proc/net/{kind}6"):
    try:
        lines = open(f).read().splitlines()[1:]
    except OSError:
        continue
    for l in lines:
        x = l.split()
        # local address HEXADDR:HEXPORT, state 0A = LISTEN (TCP), 07 = bound (UDP)
        if int(x[1].rsplit(":", 1)[1], 16) == port and x[3] == ("0A" if kind == "tcp" else "07"):
            sys.exit(0)
sys.exit(1)
PY
		sleep 0.1
	done
	die "nothing listens on $kind port $port after ${limit}s"
}

# Peers started by a test, stopped (TERM, then KILL) at exit.
PEERS=()
stop_peers() {
	local p
	for p in "${PEERS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PEERS[@]}"; do
		for _ in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	PEERS=()
}
cleanup_all() {
	stop_peers
	if [ "${UMBRA_KEEP_WORK:-0}" != 1 ] && [ -n "${WORK:-}" ]; then
		rm -rf "$WORK"
	fi
}
trap cleanup_all EXIT

# stop_pid PID [SIGNAL]: signal one peer and wait for it to exit.
stop_pid() {
	local p=$1 sig=${2:-TERM}
	kill -"$sig" "$p" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null || true
}

# json_get FILE EXPR: a value from a JSON file (python expression on d).
json_get() {
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# check_ipfix_sink STATS_JSON: the IPFIX sink sent every record written
# to the dump and dropped none.
check_ipfix_sink() {
	local w s l
	w=$(json_get "$1" 'd["records_written"]')
	s=$(json_get "$1" 'd["export"]["ipfix"]["sent"]')
	l=$(json_get "$1" 'd["export"]["ipfix"]["dropped"]')
	echo "stats: records_written $w, ipfix sent $s, ipfix dropped $l"
	[ "$s" = "$w" ] && [ "$l" = 0 ] || die "ipfix sink counts differ from the dump"
}
