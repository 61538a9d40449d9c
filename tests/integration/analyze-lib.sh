# Sourced by the analyze-*.sh integration tests (not a test itself).
# scenario_dumps: generate the scripts/gen-scenario.py scenario in
# $WORK/sc and replay each capture session with the engine, one dump
# directory per sensor host: $WORK/dumps/<host>/. Sets SC and DUMPS.
# CHECK runs analyze_check.py, which computes every expected number from
# the generator's manifest (never from umbra-analyze).

# shellcheck source=tests/integration/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CHECK="$INTEG_DIR/analyze_check.py"
SCEN="$UMBRA_SRC/scripts/gen-scenario.py"

# an: run umbra-analyze, fail the test on a non-zero exit
an() {
	local rc=0
	"$UMBRA_ANALYZE" "$@" 2>"$WORK/an.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		cat "$WORK/an.err" >&2
		die "umbra-analyze $* exited $rc"
	fi
}

# an_rc WANT ARGS...: run umbra-analyze expecting exit status WANT;
# stderr lands in $WORK/an.err
an_rc() {
	local want=$1 rc=0
	shift
	"$UMBRA_ANALYZE" "$@" >"$WORK/an.out" 2>"$WORK/an.err" || rc=$?
	[ "$rc" -eq "$want" ] || {
		cat "$WORK/an.err" >&2
		die "umbra-analyze $* exited $rc, expected $want"
	}
}

scenario_dumps() {
	SC="$WORK/sc"
	DUMPS="$WORK/dumps"
	echo "== gen-scenario.py (seed ${UMBRA_TEST_SEED:-7})"
	"$PY" "$SCEN" --out "$SC" --seed "${UMBRA_TEST_SEED:-7}" "$@"
	mkdir -p "$DUMPS"
	local line eng pcap net
	while IFS=' ' read -r eng pcap net; do
		mkdir -p "$DUMPS/$eng"
		run_engine "$WORK/engine-$pcap.log" 300 --pcap "$SC/$pcap" --darknet "$net" \
			--out "$DUMPS/$eng" --sensor-name "$eng" --rotate 86400 --no-status
		engine_ok "$WORK/engine-$pcap.log"
	done < <("$PY" -c 'import json,sys
for s in json.load(open(sys.argv[1])):
    print(s["engine"], s["pcap"], s["darknet"])' "$SC/sessions.json")
	check_dumps "$DUMPS" 4
}
