#!/usr/bin/env bash
# SIGTERM or SIGINT at any time loses nothing. Traffic loops (net_pcap
# infinite_rx) and the engine gets SIGTERM or SIGINT at a random point,
# from during DPDK start-up (0..50 ms) to well into capture, many times.
# Each run must exit 0, leave no .partial, write dumps that pass zstd -t,
# and account for every darknet packet: darknet_packets (final counters)
# == packets in the written records (umbra-analyze) + packets in records
# dropped by a full ring; the dumps' interval frames agree.
# Runs: UMBRA_TEST_SIGNAL_RUNS (default 8); UMBRA_TEST_SEED picks the times.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/reliability-lib.sh"
need_umbra analyze
need zstd
make_workdir
RUNS=${UMBRA_TEST_SIGNAL_RUNS:-8}
RANDOM=${UMBRA_TEST_SEED:-5}
"$PY" "$GEN" --out "$WORK/in.pcap" --packets 1500 --seed 61 --quiet
sum_dn=0 sum_rec=0 resent=0 early_kill=0
for run in $(seq 1 "$RUNS"); do
	out="$WORK/out$run"
	mkdir "$out"
	sig=TERM
	((run % 2 == 0)) && sig=INT
	if ((run <= 2)); then
		ms=$((RANDOM % 50)) # during start-up
	else
		ms=$((100 + RANDOM % 1900))
	fi
	start_live "s$run" "$WORK/in.pcap" 1 --out "$out" --flows 4096 \
		--idle-timeout 1 --active-timeout 2 --flush-interval 100 \
		--stats-json "$WORK/stats$run.json"
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -"$sig" "$ENGINE_PID"
	# A signal that comes before main() has installed its handler takes
	# the disposition umbra inherited: SIGTERM kills it before anything
	# started; SIGINT is ignored in a background job of a script. Then it
	# is sent again (counted), once the engine can hear it.
	for _ in $(seq 1 50); do
		kill -0 "$ENGINE_PID" 2>/dev/null || break
		sleep 0.2
	done
	if ((ms < 100)) && kill -0 "$ENGINE_PID" 2>/dev/null; then
		echo "  run $run: SIG$sig after $ms ms came before the handler; sent again"
		resent=$((resent + 1))
		kill -"$sig" "$ENGINE_PID"
	fi
	wait_engine
	if [ "$ENGINE_RC" -eq 143 ] && [ "$sig" = TERM ] && ((ms < 100)) &&
		[ -z "$(ls -A "$out")" ] && [ ! -e "$WORK/stats$run.json" ]; then
		# killed by the default action before main(): nothing had started
		echo "  run $run: SIGTERM after $ms ms came before main(): nothing started, nothing lost"
		early_kill=$((early_kill + 1))
		rm -rf "$out"
		continue
	fi
	[ "$ENGINE_RC" -eq 0 ] || { tail -20 "$WORK/s$run.log" >&2; die "run $run: SIG$sig after $ms ms: exit $ENGINE_RC"; }
	[ -s "$WORK/stats$run.json" ] || die "run $run: no --stats-json"
	if [ -n "$(ls -A "$out")" ]; then
		check_dumps "$out" 1 >/dev/null
		analyze_stats "$out" "$WORK/dump$run.json"
	else
		echo '{"records": 0, "packets": 0, "darknet_packets": 0, "ring_drop_packets": 0}' >"$WORK/dump$run.json"
	fi
	read -r dn rec < <("$PY" - "$WORK/stats$run.json" "$WORK/dump$run.json" "$run" "$sig" "$ms" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
run, sig, ms = sys.argv[3:6]
bad = []
if s["darknet_packets"] != d["packets"] + s["records_dropped_packets"]:
    bad.append(f"darknet {s['darknet_packets']} != written {d['packets']} + dropped {s['records_dropped_packets']}")
if s["records_written"] != d["records"]:
    bad.append(f"records_written {s['records_written']} != in dumps {d['records']}")
if d["records"] and d["darknet_packets"] != s["darknet_packets"]:
    bad.append(f"interval darknet {d['darknet_packets']} != {s['darknet_packets']}")
if d["records"] and d["ring_drop_packets"] != s["records_dropped_packets"]:
    bad.append("interval ring_drop_packets differ")
print(f"  run {run}: SIG{sig} after {ms} ms: rx {s['rx_packets']}, darknet {s['darknet_packets']} = "
      f"{d['packets']} written + {s['records_dropped_packets']} dropped", file=sys.stderr)
if bad:
    sys.exit("FAIL run " + run + ": " + "; ".join(bad))
print(s["darknet_packets"], d["records"])
PY
)
	sum_dn=$((sum_dn + dn))
	sum_rec=$((sum_rec + rec))
	rm -rf "$out"
done
echo "RESULT signal runs=$RUNS darknet_packets=$sum_dn records_written=$sum_rec resent=$resent before_main=$early_kill"
echo "reliability-signal: ok"
