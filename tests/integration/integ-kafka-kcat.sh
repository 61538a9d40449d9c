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
	--sensor-name kafka-test --kafka "$brokers/umbra-flows" --quiet
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
# every message carries at least the BRIEF's fields; the analyzer's name
# columns (p0f_label, signature) come from the dump's name tables, which a
# message does not carry: compare on the fields the messages have
keys = set().union(*(r.keys() for r in theirs_rows)) if theirs_rows else set(BRIEF)
lacking = [f for f in BRIEF if f not in keys]
if lacking:
    sys.exit(f"FAIL: messages lack BRIEF fields {lacking}")
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
