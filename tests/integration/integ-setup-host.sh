#!/usr/bin/env bash
# Running as a service: scripts/setup-host --dry-run prints what it would
# do and changes nothing; bad values exit 2; the example config is valid
# for the engine (and a bad key names its line); `meson install` puts the
# unit, the example config and setup-host in place.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_umbra
make_workdir
. "$INTEG_DIR/integ-lib.sh"
SH="$UMBRA_SRC/scripts/setup-host"
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
before=$(cat "$hp" 2>/dev/null || echo none)

"$SH" --dry-run --hugepages 512 --nic 0000:3B:00.0 --nic 0000:af:00.1 >"$WORK/dry.txt"
cat "$WORK/dry.txt"
expect() { grep -qxF -- "$1" "$WORK/dry.txt" || die "dry run did not print: $1"; }
expect "would run: echo 512 > $hp"
expect "would run: modprobe vfio-pci"
expect "would run: echo vfio-pci > /sys/bus/pci/devices/0000:3b:00.0/driver_override"
expect "would run: echo 0000:3b:00.0 > /sys/bus/pci/drivers_probe"
expect "would run: echo vfio-pci > /sys/bus/pci/devices/0000:af:00.1/driver_override"
expect "dry run: nothing changed"
grep -v -e '^would run: ' -e '^note: ' -e '^dry run: ' "$WORK/dry.txt" && die "dry run printed something else"
[ "$(cat "$hp" 2>/dev/null || echo none)" = "$before" ] || die "dry run changed nr_hugepages"
echo "setup-host --dry-run: $(grep -c '^would run' "$WORK/dry.txt") commands printed, nothing changed"

for bad in "--hugepages x" "--nic 3b:00.0" "--bogus"; do
	# shellcheck disable=SC2086
	if "$SH" --dry-run $bad >/dev/null 2>"$WORK/err"; then die "setup-host accepted '$bad'"; else rc=$?; fi
	[ "$rc" -eq 2 ] || die "setup-host '$bad' exited $rc, expected 2"
	echo "setup-host $bad: exit 2: $(cat "$WORK/err")"
done

# the example config parses (every key is an engine option)
"$UMBRA" --config "$UMBRA_SRC/dist/umbra.conf.example" --help >/dev/null ||
	die "dist/umbra.conf.example is refused"
printf 'darknet = 192.0.2.0/24\nmetrics = 127.0.0.1:9470\nbogus-key = 1\n' >"$WORK/bad.conf"
if "$UMBRA" --config "$WORK/bad.conf" --help >/dev/null 2>"$WORK/err"; then die "bad key accepted"; fi
grep -q "bad.conf:3:" "$WORK/err" || die "error does not name line 3: $(cat "$WORK/err")"
echo "config: example accepted; bad key refused: $(cat "$WORK/err")"

# meson install puts the service files in place
build=$(cd "$(dirname "$UMBRA")/.." && pwd)
[ -f "$build/build.ninja" ] || die "no meson build directory above $UMBRA"
{
	meson install -C "$build" --no-rebuild --tags service --destdir "$WORK/dest" >"$WORK/install.log" 2>&1 ||
		{ tail -20 "$WORK/install.log" >&2; die "meson install failed"; }
	for f in lib/systemd/system/umbra.service etc/umbra/umbra.conf.example sbin/umbra-setup-host; do
		found=$(find "$WORK/dest" -path "*/$f" | head -1)
		[ -n "$found" ] || die "meson install did not install $f"
		echo "installed: ${found#"$WORK"/dest}"
	done
	unit=$(find "$WORK/dest" -name umbra.service | head -1)
	grep -q '^ExecStart=/.*/umbra .* --config /.*/umbra/umbra.conf' "$unit" || die "unit has no ExecStart"
}
echo "integ-setup-host: ok"
