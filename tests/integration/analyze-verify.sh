#!/bin/bash
# umbra-analyze verify and recover on damaged dumps. A capture from
# gen-darknet.py is replayed with 1000-record blocks (one file, many
# blocks); copies are then damaged at offsets computed by
# analyze_frames.py, which walks frames from docs/FORMAT.md alone:
#   - intact file: verify exit 0, block and record counts as in the headers
#   - a flipped byte inside block k's data: verify names the file and the
#     offset of block k ("block data CRC"), exit 1; recover writes a file
#     that verifies, passes zstd -t, and holds every other block: records
#     = total - block k's, each of its flows one of the original's
#   - a flipped byte in a block header: the damage and the bytes skipped
#     up to the next block are named
#   - a broken index CRC in a complete file: named, exit 1
#   - a torn .partial file (cut inside a block): the torn block is named;
#     recover writes NAME.uz with every complete block and an index
#   - stats on damaged input still answers, exit 1; top-ports, which reads
#     only blocks' key parts, answers as on the intact file when the damage
#     lies past block k's key part, and names block k (exit 1) when it lies
#     inside
set -euo pipefail
. "$(dirname "$0")/analyze-lib.sh"

need_umbra analyze
need zstd
make_workdir
start=$SECONDS
FR="$INTEG_DIR/analyze_frames.py"

echo "== capture (20000 packets), replay with --block-records 1000"
"$PY" "$GEN" --out "$WORK/in.pcap" --packets 20000 --seed 11 --duration 600 --quiet \
	--mix not_darknet=0,not_ip=0,malformed=0
mkdir "$WORK/out"
run_engine "$WORK/engine.log" 120 --pcap "$WORK/in.pcap" --darknet 192.0.2.0/24 \
	--darknet 2001:db8:dead::/64 --out "$WORK/out" --sensor-name verify \
	--rotate 86400 --block-records 1000 --no-status
engine_ok "$WORK/engine.log"
check_dumps "$WORK/out" 1
ORIG=$(find "$WORK/out" -name '*.uz' | head -n 1)
"$PY" "$FR" list "$ORIG" >"$WORK/frames.json"
jq_py() { "$PY" -c "import json,sys; f=json.load(open('$WORK/frames.json')); print($1)"; }
NB=$(jq_py 'len(f["blocks"])')
TOTAL=$(jq_py 'sum(b["records"] for b in f["blocks"])')
[ "$NB" -ge 5 ] || die "expected at least 5 blocks, got $NB"
echo "  $ORIG: $NB blocks, $TOTAL records"

echo "== verify: intact"
an verify "$ORIG" >"$WORK/v.txt"
grep -q "^OK $ORIG: $NB blocks, $TOTAL records, .* index ok" "$WORK/v.txt" ||
	die "verify says: $(cat "$WORK/v.txt")"

echo "== verify + recover: a flipped byte in block 2's data, past its key part"
D="$WORK/data.uz"
cp "$ORIG" "$D"
B2=$(jq_py 'f["blocks"][2]["offset"]')
N2=$(jq_py 'f["blocks"][2]["records"]')
K2=$(jq_py 'f["blocks"][2]["key"]')
C2=$(jq_py 'f["blocks"][2]["csize"]')
[ "$K2" -gt 0 ] && [ "$K2" -lt "$C2" ] || die "block 2: key frame $K2 bytes of $C2"
"$PY" "$FR" flip "$D" "$(jq_py 'f["blocks"][2]["data"] + (f["blocks"][2]["key"] + f["blocks"][2]["csize"]) // 2')"
an_rc 1 verify "$D"
grep -q "^DAMAGE $D: offset $B2: block data CRC" "$WORK/an.out" ||
	die "verify output: $(cat "$WORK/an.out")"
an recover -o "$WORK/rec.uz" "$D" >"$WORK/rec.txt"
an verify "$WORK/rec.uz" >"$WORK/v2.txt"
grep -q "^OK $WORK/rec.uz: $((NB - 1)) blocks, $((TOTAL - N2)) records" "$WORK/v2.txt" ||
	die "recovered file: $(cat "$WORK/v2.txt")"
zstd -q -t "$WORK/rec.uz" || die "zstd -t fails on the recovered file"
an flows "$ORIG" >"$WORK/orig.csv"
an flows "$WORK/rec.uz" >"$WORK/rec.csv"
"$PY" - "$WORK/orig.csv" "$WORK/rec.csv" "$N2" <<'PYEOF'
import collections, sys
orig = collections.Counter(open(sys.argv[1]).read().splitlines()[1:])
rec = collections.Counter(open(sys.argv[2]).read().splitlines()[1:])
missing = orig - rec
if rec - orig:
    sys.exit("recovered file has flows the original lacks")
if sum(missing.values()) != int(sys.argv[3]):
    sys.exit("%d flows lost, expected %s" % (sum(missing.values()), sys.argv[3]))
PYEOF
an_rc 1 stats "$D"
grep -q "offset $B2: block data CRC" "$WORK/an.err" || die "stats: $(cat "$WORK/an.err")"
# top-ports reads only the key part, verified by its CRC in the block
# header (codec 3): the damage is not in what it counts, and its table is
# the intact file's
an top-ports -n 1000 --format csv "$ORIG" >"$WORK/top-orig.csv"
an top-ports -n 1000 --format csv "$D" >"$WORK/top-rest.csv"
cmp -s "$WORK/top-orig.csv" "$WORK/top-rest.csv" ||
	die "top-ports differs with damage past the key part"

echo "== top-ports: a flipped byte in block 2's key part"
KD="$WORK/key.uz"
cp "$ORIG" "$KD"
"$PY" "$FR" flip "$KD" "$(jq_py 'f["blocks"][2]["data"] + f["blocks"][2]["key"] // 2')"
an_rc 1 top-ports "$KD"
grep -q "damaged block at offset $B2: key part CRC" "$WORK/an.err" ||
	die "top-ports: $(cat "$WORK/an.err")"
an_rc 1 verify "$KD"
grep -q "^DAMAGE $KD: offset $B2: block data CRC" "$WORK/an.out" ||
	die "verify output: $(cat "$WORK/an.out")"

echo "== verify: a flipped byte in block 3's header"
H="$WORK/hdr.uz"
cp "$ORIG" "$H"
B3=$(jq_py 'f["blocks"][3]["offset"]')
SKIP=$(jq_py 'f["blocks"][4]["offset"] - f["blocks"][3]["offset"]')
"$PY" "$FR" flip "$H" $((B3 + 12))
an_rc 1 verify "$H"
grep -q "^DAMAGE $H: offset $B3: bad block header ($SKIP bytes skipped)" "$WORK/an.out" ||
	die "verify output: $(cat "$WORK/an.out")"

echo "== verify: a broken index CRC"
I="$WORK/idx.uz"
cp "$ORIG" "$I"
IX=$(jq_py 'f["index"]')
"$PY" "$FR" flip "$I" $((IX + 8 + 8))
an_rc 1 verify "$I"
grep -q "^DAMAGE $I: offset .*: index frame or footer fails its checks" "$WORK/an.out" ||
	die "verify output: $(cat "$WORK/an.out")"

echo "== verify + recover: a torn .partial file"
P="$WORK/umbra-verify-torn.uz.partial"
cp "$ORIG" "$P"
CUT=$(jq_py 'f["blocks"][-2]["data"] + 10')
BT=$(jq_py 'f["blocks"][-2]["offset"]')
KEEP=$(jq_py 'sum(b["records"] for b in f["blocks"][:-2])')
"$PY" "$FR" truncate "$P" "$CUT"
an_rc 1 verify "$P"
grep -q "^DAMAGE $P: offset $BT: block runs past the end of the file" "$WORK/an.out" ||
	die "verify output: $(cat "$WORK/an.out")"
an recover "$P" >"$WORK/rec2.txt"
R2="$WORK/umbra-verify-torn.uz"
[ -f "$R2" ] || die "recover did not write $R2"
an verify "$R2" >"$WORK/v3.txt"
grep -q "^OK $R2: $((NB - 2)) blocks, $KEEP records, .* index ok" "$WORK/v3.txt" ||
	die "recovered .partial: $(cat "$WORK/v3.txt")"
an_rc 1 recover "$P" # refuses to overwrite
an_rc 2 verify --bogus "$ORIG"
echo "analyze-verify: ok ($((SECONDS - start)) s)"
