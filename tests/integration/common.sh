# Sourced by the integration tests: tool lookup, work dir, engine runner.
# Environment (set by meson): UMBRA, UMBRA_ANALYZE, UMBRA_SRC, UMBRA_PYTHON,
# UMBRA_CORPORA. UMBRA_KEEP_WORK=1 keeps the work directory for debugging.

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
UMBRA_SRC=${UMBRA_SRC:-$(cd "$INTEG_DIR/../.." && pwd)}
PY=${UMBRA_PYTHON:-/usr/bin/python3}
# shellcheck disable=SC2034 # used by the scripts that source this file
GEN="$UMBRA_SRC/scripts/gen-darknet.py"

die() { echo "FAIL: $*" >&2; exit 1; }

# need TOOL...: fail when a tool is missing (scripts/test installs them).
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || die "$t not found in PATH (run scripts/install-deps --test)"
	done
}

need_umbra() {
	[ -n "${UMBRA:-}" ] || die "UMBRA (engine binary) is not set"
	[ -x "$UMBRA" ] || die "engine binary $UMBRA is not executable"
	if [ "${1:-}" = analyze ]; then
		[ -n "${UMBRA_ANALYZE:-}" ] || die "UMBRA_ANALYZE is not set"
		[ -x "$UMBRA_ANALYZE" ] || die "$UMBRA_ANALYZE is not executable"
	fi
	"$PY" -c 'import json' 2>/dev/null || die "python $PY does not run"
}

make_workdir() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/umbra-integ.XXXXXX")
	if [ "${UMBRA_KEEP_WORK:-0}" = 1 ]; then
		echo "work directory (kept): $WORK"
	else
		trap 'rm -rf "$WORK"' EXIT
	fi
}

# run_engine LOG TIMEOUT ARGS...: run the engine; sets ENGINE_RC.
# 124/137 mean the timeout fired; >= 128 otherwise means a signal.
run_engine() {
	local log=$1 limit=$2
	shift 2
	set +e
	timeout -k 10 "$limit" "$UMBRA" "$@" >"$log" 2>&1
	ENGINE_RC=$?
	set -e
}

# engine_ok LOG: fail unless the last run_engine exited 0.
engine_ok() {
	local log=$1
	if [ "$ENGINE_RC" -ne 0 ]; then
		echo "engine exited $ENGINE_RC; last lines of its output:" >&2
		tail -n 30 "$log" >&2
		case $ENGINE_RC in
		124 | 137) die "engine timed out" ;;
		*) die "engine failed (exit $ENGINE_RC)" ;;
		esac
	fi
}

# check_dumps DIR [MIN_FILES]: no *.partial left, at least MIN_FILES *.uz,
# and zstd -t passes on every one. Sets NDUMPS.
check_dumps() {
	local dir=$1 min=${2:-1} f bad=0
	local partial
	partial=$(find "$dir" -name '*.partial' | wc -l)
	if [ "$partial" -ne 0 ]; then
		find "$dir" -name '*.partial' >&2
		die "$partial dump file(s) still named .partial after exit"
	fi
	NDUMPS=$(find "$dir" -name '*.uz' | wc -l)
	[ "$NDUMPS" -ge "$min" ] ||
		die "expected at least $min dump file(s) in $dir, found $NDUMPS"
	while IFS= read -r f; do
		if ! zstd -q -t "$f" 2>"$WORK/zstd.err"; then
			echo "zstd -t $f: $(cat "$WORK/zstd.err")" >&2
			bad=$((bad + 1))
		fi
	done < <(find "$dir" -name '*.uz' | sort)
	[ "$bad" -eq 0 ] || die "zstd -t failed on $bad of $NDUMPS dump file(s)"
	echo "  dumps: $NDUMPS file(s), none .partial, zstd -t ok"
}
