#!/usr/bin/env bash
# Kafka export: a librdkafka mock cluster (test.mock.num.brokers, in the
# kafka-mock helper process) is the broker; umbra produces one JSON
# message per flow record; kcat consumes the topic from the beginning.
# Every record of the dump must arrive exactly once, field for field
# equal to `umbra-analyze flows --format ndjson`.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
need kcat
[ -n "${UMBRA_KAFKA_MOCK:-}" ] && [ -x "$UMBRA_KAFKA_MOCK" ] ||
	die "kafka-mock helper not built (librdkafka-dev missing?)"
make_workdir
. "$INTEG_DIR/integ-lib.sh"

"$PY" "$GEN" --out "$WORK/a.pcap" --packets 5000 --seed 24 --quiet
mkdir "$WORK/out"
"$UMBRA_KAFKA_MOCK" umbra-flows 1 >"$WORK/mock.out" 2>"$WORK/mock.err" &
mpid=$!
PEERS+=("$mpid")
for _ in $(seq 1 100); do
	grep -q '^BOOTSTRAP ' "$WORK/mock.out" 2>/dev/null && break
	sleep 0.1
done
brokers=$(sed -n 's/^BOOTSTRAP //p' "$WORK/mock.out")
[ -n "$brokers" ] || { cat "$WORK/mock.err" >&2; die "mock cluster did not start"; }
echo "mock cluster: $brokers"

run_engine "$WORK/engine.log" 120 --pcap "$WORK/a.pcap" --darknet 192.0.2.0/24 \
	--darknet 2001:db8:dead::/64 --out "$WORK/out" --stats-json "$WORK/stats.json" \
	--sensor-name kafka-test --kafka "$brokers/umbra-flows" \
	--rules "$UMBRA_SRC/rules/default.rules" --quiet
engine_ok "$WORK/engine.log"

timeout 60 kcat -C -b "$brokers" -t umbra-flows -o beginning -e -q -f '%s\n' \
	>"$WORK/kcat.ndjson" 2>"$WORK/kcat.err" || { cat "$WORK/kcat.err" >&2; die "kcat failed"; }
"$UMBRA_ANALYZE" flows --format ndjson "$WORK/out" >"$WORK/umbra.ndjson"

"$PY" - "$WORK/umbra.ndjson" "$WORK/kcat.ndjson" "$WORK/stats.json" <<'PY'
import json, sys
from collections import Counter
BRIEF = ["first", "last", "src", "dst", "proto", "sport", "dport", "packets", "bytes",
         "tcp_flags", "ttl_min", "ttl_max", "tags", "end_reason"]
def rows(p):
    return [json.loads(l) for l in open(p) if l.strip()]
ours_rows, theirs_rows = rows(sys.argv[1]), rows(sys.argv[2])
# every message carries every field of the analyzer's ndjson (the BRIEF's,
# the SYN fields, sensor, and the p0f_label and signature names), and
# nothing else
keys = set().union(*(r.keys() for r in ours_rows))
lacking = sorted(set(BRIEF) - keys)
if lacking:
    sys.exit(f"FAIL: the analyzer lacks BRIEF fields {lacking}")
for r in theirs_rows:
    if set(r.keys()) != keys:
        sys.exit(f"FAIL: a message has fields {sorted(r.keys())}, expected {sorted(keys)}")
named = sum(1 for r in theirs_rows if r.get("p0f_label")), sum(1 for r in theirs_rows if r.get("signature"))
print(f"messages with a p0f label: {named[0]}, with a signature: {named[1]}")
if not named[0] or not named[1]:
    sys.exit("FAIL: the capture should give labelled and signed flows")
def load(rs):
    return Counter(json.dumps({k: r.get(k) for k in sorted(keys)}, sort_keys=True) for r in rs)
ours, theirs = load(ours_rows), load(theirs_rows)
print(f"compared fields: {len(keys)} ({', '.join(sorted(keys))})")
st = json.load(open(sys.argv[3]))
k = st["export"]["kafka"]
print(f"umbra dump: {sum(ours.values())} records; kcat: {sum(theirs.values())} messages; "
      f"sink: records {k['records']}, sent {k['sent']}, dropped {k['dropped']}, errors {k['errors']}")
missing, extra = ours - theirs, theirs - ours
for what, c in (("missing", missing), ("extra/duplicate", extra)):
    for m in list(c)[:3]:
        print(f"  {what}: {m}")
ok = not missing and not extra and k["sent"] == st["records_written"] and k["dropped"] == 0
print("identical: every record arrived once" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
echo "integ-kafka-kcat: ok"
