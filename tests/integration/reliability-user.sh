#!/usr/bin/env bash
# Least privilege: with --user the engine drops to that user after DPDK
# start-up. The dumps and --stats-json are then created by that user,
# mode 0640; an --out directory that user cannot write is refused with
# one line and exit 1 before any packet is read. Needs root and 'nobody'.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
[ "$(id -u)" -eq 0 ] || die "needs root"
id nobody >/dev/null 2>&1 || die "no user 'nobody'"
make_workdir
chmod 755 "$WORK"
"$PY" "$GEN" --out "$WORK/in.pcap" --packets 2000 --seed 71 \
	--manifest "$WORK/manifest.json" --quiet
mkdir "$WORK/out"
chown nobody "$WORK/out"
run_engine "$WORK/engine.log" 120 --pcap "$WORK/in.pcap" --darknet 192.0.2.0/24 \
	--darknet 2001:db8:dead::/64 --out "$WORK/out" --user nobody --quiet \
	--stats-json "$WORK/out/stats.json"
engine_ok "$WORK/engine.log"
n=0
for f in "$WORK"/out/*; do
	st=$(stat -c '%U %a' "$f")
	[ "$st" = "nobody 640" ] || die "$f: owner/mode '$st', expected 'nobody 640'"
	n=$((n + 1))
done
[ "$n" -ge 2 ] || die "expected dumps and stats.json in out/"
"$PY" - "$WORK" <<'PY'
import json, subprocess, os, sys
w = sys.argv[1]
m = json.load(open(f"{w}/manifest.json")); s = json.load(open(f"{w}/out/stats.json"))
d = json.loads(subprocess.run([os.environ["UMBRA_ANALYZE"], "stats", "--format", "json", f"{w}/out"],
                              check=True, capture_output=True, text=True).stdout)
assert s["darknet_packets"] == m["darknet_packets"] == d["packets"], (s["darknet_packets"], d["packets"])
print(f"  as nobody: {d['records']} records, {d['packets']} packets, files 0640")
PY
mkdir "$WORK/rootonly"
chmod 755 "$WORK/rootonly"
run_engine "$WORK/engine2.log" 120 --pcap "$WORK/in.pcap" --darknet 192.0.2.0/24 \
	--out "$WORK/rootonly" --user nobody --quiet
[ "$ENGINE_RC" -eq 1 ] || { cat "$WORK/engine2.log" >&2; die "expected exit 1 for an unwritable --out, got $ENGINE_RC"; }
grep -q "option '--out'.*not writable by user 'nobody'" "$WORK/engine2.log" ||
	{ cat "$WORK/engine2.log" >&2; die "no clear message for an unwritable --out"; }
[ -z "$(ls -A "$WORK/rootonly")" ] || die "files written to the refused directory"
echo "reliability-user: ok"
