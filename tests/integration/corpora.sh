#!/bin/bash
# Hostile input: every file of the tcpdump test corpus through the engine.
#
# Each file in $UMBRA_CORPORA/tcpdump is replayed with a darknet covering
# everything (0.0.0.0/0 and ::/0) under a per-file timeout. The reference
# packet count comes from capinfos (Wireshark's reader, independent of
# libpcap); for a classic pcap whose link type Wireshark rejects, from a
# plain walk of the pcap records (pcap_count in corpora_report.py). Checked:
#   - no crash (signal) and no timeout, ever; exit status 0, 1 or 2
#   - files no reader understands (LICENSE, ...): exit 1 or 2 with a message
#   - files read completely: exit 0, rx_packets == reference count,
#     rx_packets == darknet + not_darknet + malformed + not_ip +
#     unsupported_link, sum of malformed{reason} == malformed_packets,
#     dumps pass zstd -t, none left .partial
#   - files cut short: whatever was read is accounted for (rx == buckets)
# Prints totals: files, packets, packets per bucket and per malformed reason.
# Knobs: UMBRA_CORPORA_JOBS (parallel runs, default 4: each run sleeps
# 100 ms in DPDK's TSC calibration, so twice the 2 cores keeps them busy;
# 159 s with 2, 105 s with 4, 109 s with 6 on the development VM),
# UMBRA_CORPORA_TIMEOUT (seconds per file, default 20),
# UMBRA_CORPORA_MATCH (substring of file names, for debugging).
set -euo pipefail
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

PER_FILE_TIMEOUT=${UMBRA_CORPORA_TIMEOUT:-20}

# one FILE RESULT_PREFIX: run a single corpus file (called through xargs).
one() {
	local f=$1 res=$2 d ref_kind=none ref=0 complete=0 t0 rc nd=0 bad=0 np=0
	d=$(mktemp -d "$WORK/run.XXXXXX")
	if capinfos -T -r -c -M "$f" >"$d/cap.out" 2>"$d/cap.err"; then
		ref_kind=capinfos
		ref=$(cut -f2 "$d/cap.out")
		grep -qv 'Running as user' "$d/cap.err" || complete=1
	elif "$PY" "$INTEG_DIR/corpora_report.py" --count "$f" >"$d/walk.out" 2>/dev/null; then
		read -r ref_kind ref complete <"$d/walk.out"
	fi
	mkdir "$d/out"
	t0=$(date +%s%N)
	set +e
	timeout -k 5 "$PER_FILE_TIMEOUT" "$UMBRA" --pcap "$f" \
		--darknet 0.0.0.0/0 --darknet ::/0 --out "$d/out" \
		--sensor-name corpus --stats-json "$d/stats.json" \
		>"$d/engine.out" 2>&1
	rc=$?
	set -e
	local ms=$((($(date +%s%N) - t0) / 1000000))
	if [ -d "$d/out" ]; then
		np=$(find "$d/out" -name '*.partial' | wc -l)
		while IFS= read -r z; do
			nd=$((nd + 1))
			zstd -q -t "$z" 2>/dev/null || bad=$((bad + 1))
		done < <(find "$d/out" -name '*.uz')
	fi
	local msg
	msg=$(grep -v '^EAL: \|^$' "$d/engine.out" | head -n 1 | tr '\t' ' ' | cut -c1-200 || true)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$f")" \
		"$ref_kind" "$ref" "$complete" "$rc" "$ms" "$nd" "$bad" "$np" \
		"$msg" >"$res.tsv"
	[ -s "$d/stats.json" ] && cp "$d/stats.json" "$res.json"
	rm -rf "$d"
}

if [ "${1:-}" = --one ]; then
	WORK=$2
	one "$3" "$4"
	exit 0
fi

need_umbra engine
need capinfos zstd timeout xargs
CORPUS=${UMBRA_CORPORA:-$UMBRA_SRC/../shared/corpora}/tcpdump
[ -d "$CORPUS" ] || die "no corpus directory $CORPUS (../shared/corpora/tcpdump beside the checkout)"
JOBS=${UMBRA_CORPORA_JOBS:-4}

make_workdir
mkdir "$WORK/res"
start=$SECONDS
n=0
: >"$WORK/list"
while IFS= read -r f; do
	case $(basename "$f") in *"${UMBRA_CORPORA_MATCH:-}"*) ;; *) continue ;; esac
	n=$((n + 1))
	printf '%s\0%s\0' "$f" "$WORK/res/$n" >>"$WORK/list"
done < <(find "$CORPUS" -maxdepth 1 -type f | sort)
echo "== $n files from $CORPUS, $JOBS in parallel, ${PER_FILE_TIMEOUT}s each"
xargs -0 -n 2 -P "$JOBS" "$0" --one "$WORK" <"$WORK/list"
echo "== report (engine runs took $((SECONDS - start)) s)"
"$PY" "$INTEG_DIR/corpora_report.py" --results "$WORK/res" --files "$n"
echo "corpora: ok ($((SECONDS - start)) s)"
