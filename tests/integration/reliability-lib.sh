# shellcheck shell=bash
# Sourced by the reliability-*.sh tests after common.sh: a live engine
# (no NIC: DPDK's net_pcap replays a capture, forever with infinite_rx=1)
# started in the background, and the readers the tests share.

# start_live NAME PCAP INFINITE(0/1) ARGS...: sets ENGINE_PID; log in
# $WORK/NAME.log. Live mode: time from the clock, no backpressure.
start_live() {
	local name=$1 pcap=$2 inf=$3
	shift 3
	local cpus c1
	cpus=$(nproc)
	c1=$((cpus > 1 ? 1 : 0))
	"$UMBRA" --no-huge --no-pci -m 256 --no-shconf \
		--file-prefix="umbra-rel-$name-$$" --lcores="0@0,1@$c1" --log-level=5 \
		--vdev "net_pcap_rel$$,rx_pcap=$pcap,infinite_rx=$inf" -- \
		--darknet 192.0.2.0/24 --darknet 2001:db8:dead::/64 --no-status --quiet \
		"$@" >"$WORK/$name.log" 2>&1 &
	ENGINE_PID=$!
}

# wait_engine: wait for ENGINE_PID; sets ENGINE_RC.
wait_engine() {
	set +e
	wait "$ENGINE_PID"
	# shellcheck disable=SC2034 # read by the tests
	ENGINE_RC=$?
	set -e
}

# wait_for FILE PATTERN SECONDS: until PATTERN is in FILE (or time out).
wait_for() {
	local f=$1 pat=$2 n
	for ((n = 0; n < $3 * 10; n++)); do
		grep -q -- "$pat" "$f" 2>/dev/null && return 0
		kill -0 "$ENGINE_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# analyze_stats DIR OUT.json: the analyzer's totals over the dumps in DIR.
analyze_stats() {
	"$UMBRA_ANALYZE" stats --format json "$1" >"$2" 2>"$WORK/analyze.err" || {
		cat "$WORK/analyze.err" >&2
		die "umbra-analyze stats $1 failed"
	}
}
