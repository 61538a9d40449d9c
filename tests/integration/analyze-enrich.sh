#!/bin/bash
# Enrichment: umbra-analyze --mmdb (a MaxMind DB read with Debian's
# libmaxminddb) and --asn, on the gen-scenario.py scenario. The test
# writes a MaxMind DB from the generator's prefix/AS/country list
# (analyze_mmdb.py, from the public format specification) and checks it
# with mmdblookup (Debian mmdb-bin) first. Then, against the manifest:
#   - surge --group asn --mmdb: exactly the ISP's AS, from 2024-04-27
#   - surge --group country --mmdb --port 23/tcp: exactly JP
#   - --asn FILE first, --mmdb for the rest: the same AS
#   - a missing or invalid database: one-line error, exit 2
set -euo pipefail
. "$(dirname "$0")/analyze-lib.sh"

need_umbra analyze
command -v mmdblookup >/dev/null || die "mmdblookup not found (scripts/install-deps --test installs mmdb-bin)"
make_workdir
start=$SECONDS
scenario_dumps
M="$SC/manifest.json"
DB="$WORK/test.mmdb"

echo "== a MaxMind DB from geo.txt, checked with mmdblookup"
"$PY" "$INTEG_DIR/analyze_mmdb.py" "$SC/geo.txt" "$DB"
while read -r net asn cc; do
	case $net in '#'*) continue ;; esac
	ip=${net%/*}
	ip=${ip%.0}.9
	got=$(mmdblookup --file "$DB" --ip "$ip" autonomous_system_number | grep -Eo '^ *[0-9]+' | tr -d ' ')
	[ "$got" = "$asn" ] || die "mmdblookup $ip: AS '$got', expected $asn"
	got=$(mmdblookup --file "$DB" --ip "$ip" country iso_code | grep -Eo '"[A-Z]+"' | tr -d '"')
	[ "$got" = "$cc" ] || die "mmdblookup $ip: country '$got', expected $cc"
done <"$SC/geo.txt"

echo "== surge --group asn --mmdb"
an surge --port 23/tcp --group asn --mmdb "$DB" --format json "$DUMPS" >"$WORK/a.json"
"$PY" "$CHECK" surge "$M" "$WORK/a.json" --expect asn

echo "== surge --group country --mmdb"
an surge --port 23/tcp --group country --mmdb "$DB" --format json "$DUMPS" >"$WORK/c.json"
"$PY" "$CHECK" surge "$M" "$WORK/c.json" --expect country

echo "== --asn first, then --mmdb"
an surge --port 23/tcp --group asn --asn "$SC/asn.txt" --mmdb "$DB" --format json \
	"$DUMPS" >"$WORK/b.json"
"$PY" "$CHECK" surge "$M" "$WORK/b.json" --expect asn

echo "== errors"
an_rc 2 surge --group country --mmdb "$WORK/nope.mmdb" "$DUMPS"
[ "$(wc -l <"$WORK/an.err")" -eq 1 ] || die "not one line: $(cat "$WORK/an.err")"
head -c 1000 /dev/urandom >"$WORK/junk.mmdb"
an_rc 2 surge --group asn --mmdb "$WORK/junk.mmdb" "$DUMPS"
an_rc 2 surge --group country --asn "$SC/asn.txt" "$DUMPS"
printf '61.200.0.0/16 ASX\n' >"$WORK/bad-asn.txt"
an_rc 2 surge --group asn --asn "$WORK/bad-asn.txt" "$DUMPS"
echo "analyze-enrich: ok ($((SECONDS - start)) s)"
