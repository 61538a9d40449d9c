#!/usr/bin/env bash
# Bad command-line and config values: exit status 2, exactly one line on
# stderr naming the option and the bad value, nothing started (no DPDK
# start-up message, no file in --out, no --stats-json).
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra
make_workdir
mkdir "$WORK/out"
"$PY" "$GEN" --out "$WORK/in.pcap" --packets 50 --seed 3 --quiet
DN=(--darknet 192.0.2.0/24)
n=0

# bad EXPECTED_OPTION EXPECTED_VALUE ARGS...
bad() {
	local opt=$1 val=$2 rc lines
	shift 2
	n=$((n + 1))
	set +e
	timeout 30 "$UMBRA" "$@" >"$WORK/stdout" 2>"$WORK/stderr"
	rc=$?
	set -e
	lines=$(wc -l <"$WORK/stderr")
	if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || [ -s "$WORK/stdout" ] ||
		! grep -qF -- "$opt" "$WORK/stderr" || ! grep -qF -- "$val" "$WORK/stderr"; then
		echo "args: $*" >&2
		echo "exit $rc, stderr ($lines lines):" >&2
		cat "$WORK/stderr" "$WORK/stdout" >&2
		die "expected exit 2 and one line naming '$opt' and '$val'"
	fi
	if [ -n "$(ls -A "$WORK/out")" ] || [ -e "$WORK/stats.json" ]; then
		ls -la "$WORK/out" >&2
		die "something was started for: $*"
	fi
	echo "  ok: $(cat "$WORK/stderr")"
}

P=(--pcap "$WORK/in.pcap" --out "$WORK/out" --stats-json "$WORK/stats.json")
bad rotate 0 "${P[@]}" "${DN[@]}" --rotate 0
bad rotate abc "${P[@]}" "${DN[@]}" --rotate abc
bad rotate 5x "${P[@]}" "${DN[@]}" --rotate=5x
bad flows 10 "${P[@]}" "${DN[@]}" --flows 10
bad darknet 192.0.2.1/24 "${P[@]}" --darknet 192.0.2.1/24
bad darknet 2001:db8::/200 "${P[@]}" --darknet 2001:db8::/200
bad darknet 192.0.2.0/25 "${P[@]}" "${DN[@]}" --darknet 192.0.2.0/25
bad zstd-level 99 "${P[@]}" "${DN[@]}" --zstd-level 99
bad workers 0 "${P[@]}" "${DN[@]}" --workers 0
bad workers 2 "${P[@]}" "${DN[@]}" --workers 2
bad ring-size -1 "${P[@]}" "${DN[@]}" --ring-size -1
bad idle-timeout "" "${P[@]}" "${DN[@]}" --idle-timeout
bad active-timeout 5 "${P[@]}" "${DN[@]}" --idle-timeout 10 --active-timeout 5
bad writer-delay-us 99999999999 "${P[@]}" "${DN[@]}" --writer-delay-us 99999999999
bad bogus "" "${P[@]}" "${DN[@]}" --bogus
bad status maybe "${P[@]}" "${DN[@]}" --status=maybe
bad help yes "${P[@]}" "${DN[@]}" --help=yes
bad darknet required "${P[@]}"
bad out "$WORK/nonexistent" --pcap "$WORK/in.pcap" "${DN[@]}" --out "$WORK/nonexistent"
bad user no-such-user-umbra "${P[@]}" "${DN[@]}" --user no-such-user-umbra
bad "unexpected argument" stray "${P[@]}" "${DN[@]}" stray
printf 'darknet = 192.0.2.0/24\nflush-interval = 1\n' >"$WORK/bad.conf"
bad "bad.conf:2" "'1'" "${P[@]}" --config "$WORK/bad.conf"
printf 'darknet = 192.0.2.0/24\nsensor-name = "unterminated\n' >"$WORK/bad2.conf"
bad "bad2.conf:2" "quote" "${P[@]}" --config "$WORK/bad2.conf"
printf 'darknet = 192.0.2.0/24\nno-such-key = 3\n' >"$WORK/bad3.conf"
bad "bad3.conf:2" "no-such-key" "${P[@]}" --config "$WORK/bad3.conf"
bad config "$WORK/missing.conf" "${P[@]}" --config "$WORK/missing.conf"
echo "reliability-options: $n bad invocations, each exit 2 with one line, nothing started"
