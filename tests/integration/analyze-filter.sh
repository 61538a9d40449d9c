#!/bin/bash
# umbra-analyze flows --filter over the gen-scenario.py scenario. For each
# expression, the packets of the matching flow rows must equal what the
# generator's manifest says the expression selects: src/dst net, port
# (with a range), proto and the protocol words, ip6, flags, sensor (a dump's
# name, as a shell pattern), time ranges (after/before and FROM..TO),
# and/or/not and parentheses. The same filter on top-ports agrees. Bad
# expressions: exit 2 and a caret under the offending token.
set -euo pipefail
. "$(dirname "$0")/analyze-lib.sh"

need_umbra analyze
make_workdir
start=$SECONDS
scenario_dumps
M="$SC/manifest.json"

check() {
	local case=$1 expr=$2
	an flows --format csv --filter "$expr" "$DUMPS" >"$WORK/f.csv"
	"$PY" "$CHECK" flows "$M" "$WORK/f.csv" --case "$case"
}

echo "== flows --filter"
check isp1-telnet 'src net 61.200.10.0/24 and dst port 23'
check tokyo-net 'dst net 192.0.2.0/29'
check osaka-icmp 'sensor osa* and proto icmp'
check v6-not-icmp6 'ip6 and not icmp6'
check synack 'flags SA'
check syn-only 'tcp and flags S and not flags A'
check may 'after 2024-05-01 and before 2024-06-01T00:00:00Z'
check may 'time 2024-05-01..2024-06-01'
check isp12-not-telnet '(src net 61.200.10.0/24 || src net 61.200.11.0/24) && ! dst port 23'
check port23 'port 23'
check udp-range 'udp and dst port 100-200'

echo "== the same filter on top-ports"
an top-ports --format json --filter 'dst port 23' "$DUMPS" >"$WORK/t.json"
"$PY" - "$M" "$WORK/t.json" <<'PYEOF'
import json, sys
m = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))
want = sum(d.get("tcp/23", 0) for d in m["sensor_dest"].values())
if t["packets"] != want or [(r["proto"], r["port"]) for r in t["top"]] != [("tcp", 23)]:
    sys.exit("top-ports --filter 'dst port 23': %s, expected %d packets" % (t, want))
PYEOF

echo "== bad expressions point at the token"
bad() {
	local expr=$1 col=$2 width=$3
	an_rc 2 flows --filter "$expr" "$DUMPS"
	# line 3 of the message: spaces up to the token, then carets under it
	local caret
	caret=$(sed -n 3p "$WORK/an.err")
	[ "$caret" = "$(printf '%*s' $((col + 2)) '')$(printf '%*s' "$width" '' | tr ' ' '^')" ] || {
		cat "$WORK/an.err" >&2
		die "--filter '$expr': caret not under column $col"
	}
}
bad 'port xyz' 5 3
bad 'src net 10.0.0.0/33 and tcp' 8 11
bad 'tcp and (udp' 12 1
bad 'tcp udp' 4 3
bad 'tag nosuch' 4 6
bad 'flags Q' 6 1
bad 'tcp )' 4 1
grep -q "unbalanced ')'" "$WORK/an.err" || die "no 'unbalanced' message"
echo "analyze-filter: ok ($((SECONDS - start)) s)"
