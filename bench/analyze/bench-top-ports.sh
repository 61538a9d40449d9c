#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark: umbra-analyze top-ports over compressed umbra dumps against
# nfdump -s dstport over the same capture's flows stored by nfpcapd, on
# the same machine in the same run.
#
#   bench/analyze/bench-top-ports.sh [--packets N] [--copies K] [--runs R] [--work DIR]
#
# 1. scripts/gen-darknet.py writes a darknet capture (IPv4 /24, TSUBAME
#    port mix, --packets, default 4000000);
# 2. the engine replays it into umbra dumps (zstd, 65536-record blocks),
#    nfpcapd -r reads the same capture into nfcapd files;
# 3. both sets are repeated K times (--copies, default 8; hard links), so
#    each tool reads K x its flows from the page cache;
# 4. each command runs once to warm the cache, then the three take turns
#    R times (--runs, default 5); the best wall time of each counts, and
#    every run's time and speed-up are printed for the spread:
#      nfdump -R NFDIR -s dstport -n 10
#      umbra-analyze top-ports -n 10 --threads 1 DUMPDIR   (one core)
#      umbra-analyze top-ports -n 10 DUMPDIR               (all cores)
# Prints the commands, the times, records per second (per core for the
# one-thread run) and the ratio nfdump time / umbra-analyze time, and one
# JSON line. Environment: UMBRA, UMBRA_ANALYZE (default build/...).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
UMBRA=${UMBRA:-$SRC/build/engine/umbra}
AN=${UMBRA_ANALYZE:-$SRC/build/analyze/umbra-analyze}
PY=/usr/bin/python3
PACKETS=4000000 COPIES=8 RUNS=5 WORK=
while [ $# -gt 0 ]; do
	case $1 in
	--packets) PACKETS=$2; shift 2 ;;
	--copies) COPIES=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	*) echo "bench-top-ports: unknown option: '$1'" >&2; exit 2 ;;
	esac
done
for t in nfdump nfpcapd "$UMBRA" "$AN"; do
	command -v "$t" >/dev/null || { echo "bench-top-ports: $t not found (scripts/install-deps --bench)" >&2; exit 1; }
done
if [ -z "$WORK" ]; then
	WORK=$(mktemp -d /tmp/umbra-bench-an.XXXXXX)
	trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"
cap=$WORK/cap.pcap
if [ ! -s "$cap" ]; then
	echo "== gen-darknet.py: $PACKETS packets" >&2
	"$PY" "$SRC/scripts/gen-darknet.py" --out "$cap" --packets "$PACKETS" --seed 5 \
		--duration 3600 --darknet 192.0.2.0/24 --quiet \
		--mix ipv6_tcp=0,ipv6_icmp=0,ipv6_ext=0,ipv6_frag=0,not_darknet=0,not_ip=0,malformed=0
fi
if [ ! -d "$WORK/u1" ]; then
	echo "== umbra --pcap" >&2
	# nfpcapd adds to files already there: both sets are made afresh
	rm -rf "$WORK/n1"
	mkdir -p "$WORK/u1"
	"$UMBRA" --pcap "$cap" --darknet 192.0.2.0/24 --out "$WORK/u1" --sensor-name bench \
		--rotate 86400 --no-status >"$WORK/umbra.log" 2>&1
	echo "== nfpcapd -r" >&2
	mkdir -p "$WORK/n1"
	nfpcapd -r "$cap" -w "$WORK/n1" >"$WORK/nfpcapd.log" 2>&1
fi
rm -rf "$WORK/u" "$WORK/n"
mkdir -p "$WORK/u" "$WORK/n"
for i in $(seq 1 "$COPIES"); do
	for f in "$WORK"/u1/*.uz; do ln "$f" "$WORK/u/c$i-$(basename "$f")"; done
	# nfdump -R reads the files of a directory in name order
	for f in "$WORK"/n1/nfcapd.*; do ln "$f" "$WORK/n/$(basename "$f")$(printf '%02d' "$i")"; done
done
records=$("$AN" stats --format json "$WORK/u" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["records"])')
# bytes read per run: each copy is a hard link, count it each time
size_u=$(( $(du -sb "$WORK/u1" | cut -f1) * COPIES ))
size_n=$(( $(du -sb "$WORK/n1" | cut -f1) * COPIES ))

# wall times of R runs in ns, space-separated (after one warm-up run each);
# the three commands take turns, so that load on the machine hits all alike
CMD_NF=(nfdump -R "$WORK/n" -s dstport -n 10)
CMD_U1=("$AN" top-ports -n 10 --threads 1 "$WORK/u")
CMD_UA=("$AN" top-ports -n 10 "$WORK/u")
timed() { # out cmd...: prints ns
	local out=$1 t0 t1
	shift
	t0=$(date +%s%N)
	"$@" >"$out" 2>&1
	t1=$(date +%s%N)
	echo $(( t1 - t0 ))
}
"${CMD_NF[@]}" >"$WORK/nf.out" 2>&1
"${CMD_U1[@]}" >"$WORK/u1.out" 2>&1
"${CMD_UA[@]}" >"$WORK/ua.out" 2>&1
all_nf= all_u1= all_ua=
for i in $(seq 1 "$RUNS"); do
	all_nf="$all_nf $(timed "$WORK/nf.out" "${CMD_NF[@]}")"
	all_u1="$all_u1 $(timed "$WORK/u1.out" "${CMD_U1[@]}")"
	all_ua="$all_ua $(timed "$WORK/ua.out" "${CMD_UA[@]}")"
done
best() { tr ' ' '\n' <<<"$1" | grep . | sort -n | head -1; }
ns_nf=$(best "$all_nf")
ns_u1=$(best "$all_u1")
ns_ua=$(best "$all_ua")
flows=$(grep -Eo 'total flows: [0-9]+' "$WORK/nf.out" | grep -Eo '[0-9]+$')
cores=$(nproc)
"$PY" - "$records" "$flows" "$ns_nf" "$ns_u1" "$ns_ua" "$cores" "$size_u" "$size_n" "$COPIES" \
	"${CMD_NF[*]}" "${CMD_U1[*]}" "${CMD_UA[*]}" "$all_nf" "$all_u1" "$all_ua" <<'PYEOF'
import json, statistics, sys
rec, flows, nf, u1, ua, cores, su, sn, copies = (int(x) for x in sys.argv[1:10])
cmd_nf, cmd_u1, cmd_ua = sys.argv[10:13]
runs = [[int(x) / 1e9 for x in a.split()] for a in sys.argv[13:16]]
r = {
    "records": rec, "nfdump_flows": flows, "copies": copies, "cores": cores,
    "umbra_bytes": su, "nfdump_bytes": sn,
    "nfdump_s": nf / 1e9, "umbra_1thread_s": u1 / 1e9, "umbra_all_s": ua / 1e9,
    "nfdump_flows_per_s": flows / (nf / 1e9),
    "umbra_records_per_s_per_core": rec / (u1 / 1e9),
    "umbra_records_per_s_all": rec / (ua / 1e9),
    "speedup_time": nf / ua,
    "speedup_per_record": (rec / (ua / 1e9)) / (flows / (nf / 1e9)),
    "runs_s": {"nfdump": runs[0], "umbra_1thread": runs[1], "umbra_all": runs[2]},
    # speed-up of each run (nfdump's run i over umbra's run i, all cores)
    "speedup_runs": [a / b for a, b in zip(runs[0], runs[2])],
}
print("commands:\n  %s\n  %s\n  %s" % (cmd_nf, cmd_u1, cmd_ua), file=sys.stderr)
print("umbra dumps %.1f MB (%d records), nfdump files %.1f MB (%d flows), %d cores" %
      (su / 1e6, rec, sn / 1e6, flows, cores), file=sys.stderr)
print("nfdump -s dstport:          %.3f s  %.2f M flows/s" % (nf / 1e9, r["nfdump_flows_per_s"] / 1e6), file=sys.stderr)
print("top-ports --threads 1:      %.3f s  %.2f M records/s per core" % (u1 / 1e9, r["umbra_records_per_s_per_core"] / 1e6), file=sys.stderr)
print("top-ports (all cores):      %.3f s  %.2f M records/s" % (ua / 1e9, r["umbra_records_per_s_all"] / 1e6), file=sys.stderr)
print("speed-up: %.1fx (time), %.1fx (per record)" % (r["speedup_time"], r["speedup_per_record"]), file=sys.stderr)
for name, a in zip(("nfdump", "top-ports --threads 1", "top-ports (all cores)"), runs):
    print("  %-22s runs: %s s (median %.3f)" % (name, " ".join("%.3f" % x for x in a),
          statistics.median(a)), file=sys.stderr)
sp = r["speedup_runs"]
print("  speed-up per run: %s (median %.1fx, range %.1f-%.1fx)" % (
      " ".join("%.1f" % x for x in sp), statistics.median(sp), min(sp), max(sp)), file=sys.stderr)
print(json.dumps(r))
PYEOF
