#!/usr/bin/env bash
# IPFIX over TCP, decoded by libfixbuf (CERT NetSA's IPFIX library, the
# collector library of yaf and super_mediator). nfcapd and nfacctd take
# IPFIX over UDP only, so the TCP peer here is a plain listener on
# 127.0.0.1 that keeps the bytes of the session: a TCP IPFIX stream is a
# sequence of IPFIX messages, which libfixbuf's `ipfixDump` decodes with
# umbra's element definitions (dist/umbra-ipfix.xml). Every record of the
# dump must be in the stream exactly once with the same times (ms),
# addresses, ports, flags, packets, bytes, end reason, tags, IP ID and SYN
# fields; every message's sequence number must count the data records
# before it; there must be one session with the two templates sent once,
# and the sink must count no loss.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
need ipfixDump
make_workdir
. "$INTEG_DIR/integ-lib.sh"

"$PY" "$GEN" --out "$WORK/a.pcap" --packets 20000 --seed 22 --quiet
mkdir "$WORK/out"
port=$(free_port tcp)
# the listener: every session into its own file, until TERM
"$PY" - "$port" "$WORK" <<'PY' >"$WORK/listener.log" 2>&1 &
import signal, socket, sys
port, w = int(sys.argv[1]), sys.argv[2]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(4)
n = 0
while True:
    c, peer = s.accept()
    n += 1
    with open(f"{w}/session{n}.ipfix", "wb") as f:
        while True:
            b = c.recv(65536)
            if not b:
                break
            f.write(b)
    c.close()
    print(f"session {n} from {peer[0]} closed", flush=True)
PY
lpid=$!
PEERS+=("$lpid")
wait_listen tcp "$port"

run_engine "$WORK/engine.log" 120 --pcap "$WORK/a.pcap" --darknet 192.0.2.0/24 \
	--darknet 2001:db8:dead::/64 --out "$WORK/out" --stats-json "$WORK/stats.json" \
	--rules "$UMBRA_SRC/rules/default.rules" --ipfix "tcp://127.0.0.1:$port" --quiet
engine_ok "$WORK/engine.log"
for _ in $(seq 1 100); do
	grep -q "^session 1 .*closed" "$WORK/listener.log" && break
	sleep 0.1
done
stop_pid "$lpid" TERM
cat "$WORK/listener.log"
[ "$(grep -c closed "$WORK/listener.log")" = 1 ] || die "expected one TCP session"

TZ=UTC ipfixDump -e "$UMBRA_SRC/dist/umbra-ipfix.xml" -i "$WORK/session1.ipfix" \
	>"$WORK/ipfixdump.txt" 2>"$WORK/ipfixdump.err" ||
	{ cat "$WORK/ipfixdump.err" >&2; die "ipfixDump failed"; }
fstats=$(TZ=UTC ipfixDump -s -i "$WORK/session1.ipfix" | head -1)
echo "$fstats"
# over TCP the templates (IPv4, IPv6) are sent once, at the session's start
echo "$fstats" | grep -q " 2 Template Records" || die "expected 2 template records in the session"
! grep -q _alienInformationElement "$WORK/ipfixdump.txt" ||
	die "an umbra element is missing from dist/umbra-ipfix.xml"
"$UMBRA_ANALYZE" flows --format csv "$WORK/out" >"$WORK/umbra.csv"
"$PY" "$INTEG_DIR/ipfix_compare.py" "$WORK/umbra.csv" --ipfixdump "$WORK/ipfixdump.txt"
check_ipfix_sink "$WORK/stats.json"
echo "integ-ipfix-tcp: ok"
