#!/usr/bin/env bash
# kill -9 while writing, many times at random points. Each run: traffic
# loops (net_pcap infinite_rx) through a 64-flow table, so records flow
# all the time; after a random 0.5..2.5 s the engine gets SIGKILL. Then
#   umbra-analyze recover -o OUT.uz FILE.uz.partial
# must write a valid file (zstd -t) holding every block that was
# completely written: its record count equals the count from an
# independent frame walk (reliability_blocks.py) of the .partial file.
# Runs: UMBRA_TEST_KILL_RUNS (default 10); UMBRA_TEST_SEED picks the points.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/reliability-lib.sh"
need_umbra analyze
need zstd
make_workdir
RUNS=${UMBRA_TEST_KILL_RUNS:-10}
RANDOM=${UMBRA_TEST_SEED:-9}
"$PY" "$GEN" --out "$WORK/in.pcap" --packets 1500 --seed 51 --quiet
total_blocks=0 total_records=0 total_torn=0 runs_with_file=0
for run in $(seq 1 "$RUNS"); do
	out="$WORK/out$run"
	mkdir "$out"
	start_live "k$run" "$WORK/in.pcap" 1 --out "$out" --flows 64 \
		--block-records 1024 --flush-interval 100
	ms=$((500 + RANDOM % 2000))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL "$ENGINE_PID"
	wait_engine
	[ "$ENGINE_RC" -eq 137 ] || { cat "$WORK/k$run.log" >&2; die "run $run: engine exited $ENGINE_RC before the kill"; }
	partial=$(find "$out" -name '*.partial' | head -1)
	if [ -z "$partial" ]; then
		echo "  run $run: killed after ${ms} ms, no file yet"
		continue
	fi
	runs_with_file=$((runs_with_file + 1))
	"$PY" "$INTEG_DIR/reliability_blocks.py" "$partial" >"$WORK/walk$run.json"
	rec="$WORK/rec$run.uz"
	"$UMBRA_ANALYZE" recover -o "$rec" "$partial" >"$WORK/recover$run.log" 2>&1 || {
		cat "$WORK/recover$run.log" >&2
		die "run $run: umbra-analyze recover failed"
	}
	zstd -q -t "$rec" || die "run $run: recovered file fails zstd -t"
	analyze_stats "$rec" "$WORK/rstats$run.json"
	read -r want blocks torn got < <("$PY" - "$WORK/walk$run.json" "$WORK/rstats$run.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
print(w["records"], w["blocks"], w["torn_bytes"], s["records"])
PY
)
	echo "  run $run: killed after ${ms} ms: $blocks complete blocks, $want records, torn tail $torn bytes; recovered $got records"
	[ "$got" -eq "$want" ] || die "run $run: recovered $got records, the file holds $want in complete blocks"
	rm -rf "$out" "$rec"
	total_blocks=$((total_blocks + blocks))
	total_records=$((total_records + got))
	total_torn=$((total_torn + (torn > 0 ? 1 : 0)))
done
[ "$runs_with_file" -gt 0 ] || die "no run left a file to recover"
echo "RESULT kill9 runs=$RUNS with_file=$runs_with_file blocks=$total_blocks records_recovered=$total_records torn_tails=$total_torn"
echo "reliability-kill9: ok"
