#!/bin/bash
# SYN fingerprints agree with p0f: a capture with varied stacks (Linux,
# Windows, scanners with and without options) goes through p0f -r and
# through the engine's classifiers (bench/classify-cost --labels, the
# same worker code); of the SYNs that p0f labels, at least 99% must get
# the same label. Prints the agreement figure.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need p0f
[ -x "${UMBRA_CLASSIFY_COST:-}" ] || die "UMBRA_CLASSIFY_COST is not set"
make_workdir

"$PY" "$GEN" --out "$WORK/c.pcap" --packets 30000 --seed 5 \
	--mix syn_scan=70,ipv6_tcp=15,backscatter_tcp=5,udp_probe=5,icmp_echo=5,malformed=0,not_ip=0 \
	--vlan-share 0 --qinq-share 0 --quiet
"$UMBRA_CLASSIFY_COST" --pcap "$WORK/c.pcap" --darknet 192.0.2.0/24 \
	--darknet 2001:db8:dead::/64 --p0f /etc/p0f/p0f.fp \
	--labels "$WORK/umbra.txt"
p0f -r "$WORK/c.pcap" -o "$WORK/p0f.log" -m 100000,100000 >/dev/null 2>&1 || true
"$PY" - "$WORK/p0f.log" "$WORK/umbra.txt" <<'PYEOF'
import ipaddress, sys
def norm(a):
    return str(ipaddress.ip_address(a))
p0f = {}
for line in open(sys.argv[1]):
    if "] mod=syn|" not in line:
        continue
    f = dict(x.split("=", 1) for x in line.strip().split("] ", 1)[1].split("|"))
    cli, cport = f["cli"].rsplit("/", 1)
    srv, sport = f["srv"].rsplit("/", 1)
    key = (norm(cli), int(cport), norm(srv), int(sport))
    lab = f.get("os", f.get("app"))
    p0f.setdefault(key, lab)  # the flow's first SYN
ours = {}
for line in open(sys.argv[2]):
    s, sp, d, dp, lab = line.rstrip("\n").split(" ", 4)
    ours[(norm(s), int(sp), norm(d), int(dp))] = lab
labelled = [k for k, v in p0f.items() if v != "???"]
agree = sum(1 for k in labelled if ours.get(k) == p0f[k])
unk_agree = sum(1 for k, v in p0f.items() if v == "???" and ours.get(k) == "???")
unk = sum(1 for v in p0f.values() if v == "???")
pct = 100.0 * agree / len(labelled) if labelled else 0.0
print("p0f SYNs %d, labelled %d, same label %d (%.2f%%); unknown to p0f %d, also unknown here %d"
      % (len(p0f), len(labelled), agree, pct, unk, unk_agree))
for k in labelled:
    if ours.get(k) != p0f[k]:
        print("  differs: %s p0f=%r umbra=%r" % (k, p0f[k], ours.get(k)))
        break
sys.exit(0 if labelled and pct >= 99.0 else 1)
PYEOF
echo "PASS: p0f agreement >= 99%"
