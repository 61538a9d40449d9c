#!/usr/bin/env bash
# Damaged dumps never crash the reader. From one good dump (a replay with
# small blocks) the test makes: a truncated copy, a bit flip inside a
# block's data, a block header with a wrong length, a duplicated block.
# For each: `umbra-analyze verify` exits 1 and prints a DAMAGE line with
# the offset; `umbra-analyze stats` does not crash, warns on stderr, counts the
# damaged blocks, and returns exactly the records of the intact blocks
# (counted by an independent frame walk of the good file; a duplicated
# block's copy is skipped as damage, so its records count once); its exit
# status is 0 or 1 (1: damage seen), never a crash.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
make_workdir
"$PY" "$GEN" --out "$WORK/in.pcap" --packets 3000 --seed 91 --quiet
mkdir "$WORK/out"
run_engine "$WORK/engine.log" 120 --pcap "$WORK/in.pcap" --darknet 192.0.2.0/24 \
	--darknet 2001:db8:dead::/64 --out "$WORK/out" --block-records 64 --quiet
engine_ok "$WORK/engine.log"
good=$(find "$WORK/out" -name '*.uz' | sort | head -1)
"$PY" - "$good" "$WORK" <<'PY'
import json, struct, sys
good, w = sys.argv[1], sys.argv[2]
d = open(good, "rb").read()
off, blocks = 0, []
while off + 8 <= len(d):
    m, sz = struct.unpack_from("<II", d, off)
    if m == 0x184D2A56:
        n = struct.unpack_from("<I", d, off + 8)[0]
        c = struct.unpack_from("<I", d, off + 36)[0]
        blocks.append((off, off + 8 + sz, c, n))
        off += 8 + sz + c
        continue
    off += 8 + sz
assert len(blocks) >= 3, "need at least 3 blocks"
total = sum(b[3] for b in blocks)
b0, data, c, n = blocks[1]
cases = {}
f = bytearray(d); f[data + c // 2] ^= 0x40
cases["bitflip"] = (f, total - n)
cases["truncated"] = (d[:data + c // 2], blocks[0][3])
f = bytearray(d); struct.pack_into("<I", f, b0 + 4, 40)
cases["wronglen"] = (f, total - n)
cases["duplicated"] = (d[:data + c] + d[b0:data + c] + d[data + c:], total)
for name, (blob, want) in cases.items():
    open(f"{w}/{name}.uz", "wb").write(blob)
json.dump({k: v[1] for k, v in cases.items()}, open(f"{w}/want.json", "w"))
print(f"  good file: {len(blocks)} blocks, {total} records")
PY
for c in bitflip truncated wronglen duplicated; do
	set +e
	"$UMBRA_ANALYZE" verify "$WORK/$c.uz" >"$WORK/$c.verify" 2>&1
	rc=$?
	"$UMBRA_ANALYZE" stats --format json "$WORK/$c.uz" >"$WORK/$c.json" 2>"$WORK/$c.err"
	src=$?
	set -e
	[ "$rc" -eq 1 ] || { cat "$WORK/$c.verify" >&2; die "$c: verify exit $rc, expected 1"; }
	grep -q "^DAMAGE .*offset [0-9]" "$WORK/$c.verify" || { cat "$WORK/$c.verify" >&2; die "$c: verify names no damage"; }
	[ "$src" -le 1 ] || { cat "$WORK/$c.err" >&2; die "$c: stats exit $src (crash?)"; }
	echo "  $c: verify: $(grep -m1 '^DAMAGE' "$WORK/$c.verify")"
	[ -s "$WORK/$c.err" ] || die "$c: stats printed no warning"
	"$PY" - "$WORK/$c.json" "$WORK/want.json" "$c" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); want = json.load(open(sys.argv[2]))[sys.argv[3]]
print(f"    stats: {s['records']} records (intact blocks hold {want}), "
      f"{s['damaged_blocks']} damaged block(s), {s['damaged_bytes']} bytes skipped")
if s["records"] != want or s["damaged_blocks"] < 1:
    sys.exit(f"FAIL: {sys.argv[3]}: wrong records or no damage counted")
PY
done
echo "reliability-damage: ok"
