#!/usr/bin/env bash
# Disk full. The engine writes into a small tmpfs (mounted here: needs
# root) while traffic loops (net_pcap infinite_rx); the test fills the
# tmpfs, waits for the engine's error, frees the space, waits for it to
# say writing resumed, then stops it with SIGTERM. Checked:
#   - one clear error line, then one "resumed" line
#   - exit status 1 (records were lost) after a clean shutdown
#   - no .partial left, no stray file, every dump passes zstd -t
#   - counters continued: every exported record is written, dropped by a
#     full ring, or lost by a failed write (flows_exported adds up), the
#     dumps hold exactly records_written records, and their interval
#     frames record the write loss (write_drops == records_lost_write)
#     and every darknet packet (interval darknet_packets == the engine's)
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/reliability-lib.sh"
need_umbra analyze
need zstd mount umount
[ "$(id -u)" -eq 0 ] || die "needs root to mount a tmpfs"
make_workdir
MNT="$WORK/mnt"
mkdir "$MNT"
mount -t tmpfs -o size=2m,mode=0755 umbra-diskfull "$MNT"
cleanup() {
	[ -n "${ENGINE_PID:-}" ] && kill -KILL "$ENGINE_PID" 2>/dev/null || true
	umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	[ "${UMBRA_KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
"$PY" "$GEN" --out "$WORK/in.pcap" --packets 1500 --seed 41 --quiet
mkdir "$MNT/out"
start_live diskfull "$WORK/in.pcap" 1 --out "$MNT/out" --flows 64 --ring-size 256 \
	--writer-delay-us 50000 --block-records 256 --flush-interval 100 \
	--stats-json "$WORK/stats.json"
LOG="$WORK/diskfull.log"
for _ in $(seq 1 100); do
	sleep 0.1
	[ -n "$(find "$MNT/out" -name '*.partial' -size +1k)" ] && break
done
[ -n "$(find "$MNT/out" -name '*.partial' -size +1k)" ] || { cat "$LOG" >&2; die "engine wrote nothing"; }
echo "== filling the tmpfs"
dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null || true
wait_for "$LOG" "failed" 30 || { cat "$LOG" >&2; die "no error reported on a full disk"; }
echo "  engine: $(grep failed "$LOG")"
sleep 1
echo "== freeing space"
rm -f "$MNT/filler"
wait_for "$LOG" "resumed" 30 || { cat "$LOG" >&2; die "writing did not resume"; }
echo "  engine: $(grep 'resumed' "$LOG")"
sleep 1
kill -TERM "$ENGINE_PID"
wait_engine
ENGINE_PID=
[ "$ENGINE_RC" -eq 1 ] || { cat "$LOG" >&2; die "engine exited $ENGINE_RC, expected 1 (records lost)"; }
# one error line per episode, each closed by a "resumed" line (freeing
# the torn frame can let a smaller write through before the space returns)
nfail=$(grep -c 'failed' "$LOG")
nres=$(grep -c 'resumed' "$LOG")
[ "$nfail" -ge 1 ] && [ "$nfail" -eq "$nres" ] && tail -n 1 "$LOG" | grep -q resumed ||
	{ cat "$LOG" >&2; die "expected error/resumed line pairs ($nfail errors, $nres resumed)"; }
echo "  $nfail error episode(s), each followed by 'resumed'"
stray=$(find "$MNT/out" -type f ! -name '*.uz')
[ -z "$stray" ] || die "stray files: $stray"
check_dumps "$MNT/out" 1
analyze_stats "$MNT/out" "$WORK/dump.json"
"$PY" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
s = json.load(open(f"{w}/stats.json"))
d = json.load(open(f"{w}/dump.json"))
bad = []
def eq(name, got, want):
    print(f"  {name}: {got} (expected {want})")
    if got != want:
        bad.append(name)
print(f"  write_errors {s['write_errors']}, records lost {s['records_lost_write']}, "
      f"written {s['records_written']}, ring drops {s['records_dropped']}")
if s["records_lost_write"] == 0:
    bad.append("no write loss: the disk was never full")
eq("flows_exported", s["flows_exported"],
   s["records_written"] + s["records_dropped"] + s["records_lost_write"])
eq("records in dumps", d["records"], s["records_written"])
eq("dump write_drops", d["write_drops"], s["records_lost_write"])
eq("dump ring_drops", d["ring_drops"], s["records_dropped"])
eq("dump darknet_packets", d["darknet_packets"], s["darknet_packets"])
eq("dump rx_packets", d["rx_packets"], s["rx_packets"])
if bad:
    sys.exit("FAIL: " + ", ".join(bad))
print(f"RESULT diskfull written={s['records_written']} lost={s['records_lost_write']} "
      f"ring_dropped={s['records_dropped']} write_errors={s['write_errors']}")
PY
echo "reliability-diskfull: ok"
