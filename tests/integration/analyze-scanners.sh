#!/bin/bash
# umbra-analyze scanners and the names of format 1.1. A generated capture
# (scripts/gen-darknet.py) goes through the engine; then:
#  - scanners' top sources: packets and distinct sensors of each listed
#    source equal tshark's count of darknet frames from that source and
#    of their distinct destinations, and the ranking equals tshark's
#    (all traffic, and --port 23/tcp);
#  - flows' p0f_label column (names read from the dump header): flows per
#    label equal the engine's stats-json classifier counters p0f.<label>
#    (one per flow's first SYN), and agree with p0f -r per 5-tuple.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra analyze
need tshark
[ -r /etc/p0f/p0f.fp ] || die "/etc/p0f/p0f.fp not found (apt-get install p0f)"
make_workdir

"$PY" "$GEN" --out "$WORK/c.pcap" --packets 20000 --seed 11 \
	--manifest "$WORK/m.json" --quiet
mkdir -p "$WORK/out"
run_engine "$WORK/engine.log" 60 --pcap "$WORK/c.pcap" \
	--darknet 192.0.2.0/24 --darknet 2001:db8:dead::/64 --out "$WORK/out" \
	--rules "$UMBRA_SRC/rules/default.rules" --p0f /etc/p0f/p0f.fp \
	--idle-timeout 86400 --active-timeout 604800 --quiet --no-status \
	--stats-json "$WORK/stats.json"
engine_ok "$WORK/engine.log"
"$UMBRA_ANALYZE" scanners -n 15 --format csv "$WORK/out" >"$WORK/top.csv"
"$UMBRA_ANALYZE" scanners -n 10 --format csv --port 23/tcp "$WORK/out" >"$WORK/top23.csv"
"$UMBRA_ANALYZE" scanners -n 0 --format json --tag zmap "$WORK/out" >"$WORK/zmap.json"
"$UMBRA_ANALYZE" flows --format csv "$WORK/out" >"$WORK/flows.csv"
P0F_LOG=""
if command -v p0f >/dev/null 2>&1; then
	p0f -r "$WORK/c.pcap" -o "$WORK/p0f.log" -m 100000,100000 >/dev/null 2>&1 || true
	P0F_LOG="$WORK/p0f.log"
fi

"$PY" - "$WORK" "$INTEG_DIR" "$P0F_LOG" <<'PYEOF'
import csv, ipaddress, json, os, subprocess, sys, tempfile
work, integ, p0f_log = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, integ)
import tshark_oracle as T

nets = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "2001:db8:dead::/64")]
d4 = [n for n in nets if n.version == 4]
d6 = [n for n in nets if n.version == 6]
confdir = tempfile.mkdtemp(prefix="umbra-ws-")
T.l4_only_config(confdir)
env = dict(os.environ, WIRESHARK_CONFIG_DIR=confdir)
out = subprocess.run(T.tshark_cmd(os.path.join(work, "c.pcap")), capture_output=True,
                     text=True, env=env, check=True).stdout
allp, alld, p23, d23 = {}, {}, {}, {}
for line in out.splitlines():
    cols = line.split("\t")
    cols += [""] * (len(T.FIELDS) - len(cols))
    bucket, k5, _ = T.classify(cols, d4, d6)
    if bucket != "darknet":
        continue
    src, dst, proto, _, dport = k5
    allp[src] = allp.get(src, 0) + 1
    alld.setdefault(src, set()).add(dst)
    if proto == 6 and dport == 23:
        p23[src] = p23.get(src, 0) + 1
        d23.setdefault(src, set()).add(dst)
bad = 0

def check(name, path, pk, ds, n):
    global bad
    rows = list(csv.DictReader(open(path)))
    want = sorted(pk, key=lambda s: (-pk[s], -len(ds[s])))[:n]
    if len(rows) != min(n, len(pk)):
        print("%s: %d rows, want %d" % (name, len(rows), min(n, len(pk))))
        bad += 1
    for i, r in enumerate(rows):
        s = str(ipaddress.ip_address(r["src"]))
        wp, wd = pk.get(s, 0), len(ds.get(s, ()))
        ok = int(r["packets"]) == wp and int(r["sensors"]) == wd
        # the ranking: the i-th row has tshark's i-th (packets, sensors)
        w = want[i] if i < len(want) else None
        rank_ok = w is not None and (pk[w], len(ds[w])) == (int(r["packets"]), int(r["sensors"]))
        print("%s #%-2s %-39s packets %6s (tshark %6d) sensors %4s (tshark %4d) %s" % (
            name, r["rank"], s, r["packets"], wp, r["sensors"], wd,
            "" if ok and rank_ok else "MISMATCH"))
        bad += not (ok and rank_ok)

check("all", os.path.join(work, "top.csv"), allp, alld, 15)
check("23/tcp", os.path.join(work, "top23.csv"), p23, d23, 10)

# --tag zmap: every listed source has the zmap tool; the manifest knows zmap flows
zj = json.load(open(os.path.join(work, "zmap.json")))
want_zmap = json.load(open(os.path.join(work, "m.json")))["flow_tags"].get("zmap", 0)
zflows = sum(s["flows"] for s in zj["scanners"])
print("--tag zmap: %d sources, %d flows (manifest zmap flows %d)" % (
    zj["sources"], zflows, want_zmap))
if zflows != want_zmap or not zj["scanners"] or any(
        "zmap" not in s["tools"] for s in zj["scanners"]):
    print("MISMATCH in --tag zmap")
    bad += 1

# p0f_label column vs the engine's counters
cc = json.load(open(os.path.join(work, "stats.json")))["classifier_counters"]
flows = list(csv.DictReader(open(os.path.join(work, "flows.csv"))))
per = {}
for r in flows:
    if r["p0f_label"]:
        per[r["p0f_label"]] = per.get(r["p0f_label"], 0) + 1
labels = {k[4:]: v for k, v in cc.items() if k.startswith("p0f.") and k != "p0f.unknown" and v}
if not labels:
    print("no p0f label counted: the capture has no labelled SYN")
    bad += 1
for l in sorted(set(labels) | set(per)):
    w, g = labels.get(l, 0), per.get(l, 0)
    print("p0f_label %-36r stats %6d flows column %6d %s" % (l, w, g, "" if w == g else "MISMATCH"))
    bad += w != g

if p0f_log:
    def norm(a):
        return str(ipaddress.ip_address(a))
    p0f = {}
    for line in open(p0f_log):
        if "] mod=syn|" not in line:
            continue
        f = dict(x.split("=", 1) for x in line.strip().split("] ", 1)[1].split("|"))
        cli, cport = f["cli"].rsplit("/", 1)
        srv, sport = f["srv"].rsplit("/", 1)
        p0f.setdefault((norm(cli), int(cport), norm(srv), int(sport)), f.get("os", f.get("app")))
    ours = {(norm(r["src"]), int(r["sport"]), norm(r["dst"]), int(r["dport"])): r["p0f_label"]
            for r in flows if r["proto"] == "tcp"}
    # p0f names labels "Linux 2.2.x-3.x"; the column holds the same text
    lab = [k for k, v in p0f.items() if v != "???" and k in ours]
    agree = sum(1 for k in lab if ours[k] == p0f[k])
    pct = 100.0 * agree / len(lab) if lab else 0.0
    print("p0f -r: %d labelled SYN flows, %d with the same p0f_label (%.2f%%)" % (len(lab), agree, pct))
    if pct < 99.0:
        bad += 1
sys.exit(1 if bad else 0)
PYEOF
echo "PASS: scanners == tshark; p0f_label == stats-json counters"
