#!/usr/bin/env bash
# IPFIX over UDP to pmacct's collector: nfacctd on 127.0.0.1 with the
# print plugin (CSV); every record of the dump must arrive once with the
# same packets, bytes, flags and start/end times (ms). pmacct aggregates
# equal keys and prints no ICMP type/code: the comparison does the same.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
need nfacctd
make_workdir
. "$INTEG_DIR/integ-lib.sh"

"$PY" "$GEN" --out "$WORK/a.pcap" --packets 20000 --seed 22 --quiet
mkdir "$WORK/out"
port=$(free_port udp)
cat >"$WORK/nfacctd.conf" <<CONF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $port
nfacctd_pipe_size: 8388608
plugin_pipe_size: 67108864
plugin_buffer_size: 65536
plugins: print[out]
aggregate[out]: src_host, dst_host, src_port, dst_port, proto, tcpflags, timestamp_start, timestamp_end
print_output[out]: csv
print_output_file[out]: $WORK/pmacct.csv
print_output_file_append[out]: true
print_refresh_time[out]: 1
timestamps_utc: true
logfile: $WORK/nfacctd.log
pidfile: $WORK/nfacctd.pid
CONF
nfacctd -f "$WORK/nfacctd.conf" >"$WORK/nfacctd.out" 2>&1 &
pmpid=$!
PEERS+=("$pmpid")
wait_listen udp "$port"

run_engine "$WORK/engine.log" 120 --pcap "$WORK/a.pcap" --darknet 192.0.2.0/24 \
	--darknet 2001:db8:dead::/64 --out "$WORK/out" --stats-json "$WORK/stats.json" \
	--ipfix "udp://127.0.0.1:$port" --quiet
engine_ok "$WORK/engine.log"
sleep 2.5 # two print refreshes
stop_pid "$pmpid" INT # nfacctd writes its cache on SIGINT
[ -s "$WORK/pmacct.csv" ] || { cat "$WORK/nfacctd.log" >&2; die "nfacctd wrote nothing"; }

"$UMBRA_ANALYZE" flows --format csv "$WORK/out" >"$WORK/umbra.csv"
"$PY" "$INTEG_DIR/ipfix_compare.py" "$WORK/umbra.csv" --pmacct "$WORK/pmacct.csv"
check_ipfix_sink "$WORK/stats.json"
echo "integ-ipfix-pmacct: ok"
