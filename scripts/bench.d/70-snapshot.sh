#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-snapshot of a ~1 GB archive (issue 12) against the original's
# `tar -czf` of the same archive, measured in the same run, alternately;
# and the snapshot read back by tar -xzf, identical (diff -r).
# The archive (40-bulk-archive.py: GitHub-shaped issues and timelines) is
# generated once and kept in $SNAPSHOT_BENCH_CACHE (default
# /var/tmp/wb-bench-snapshot), outside the repository, between runs.
# SNAPSHOT_BENCH_BYTES sets its size (default 1.05e9); RUNS the runs.
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/../bench-lib.sh"
RUNS=${RUNS:-3}
BYTES=${SNAPSHOT_BENCH_BYTES:-1.05e9}
CACHE=${SNAPSHOT_BENCH_CACHE:-/var/tmp/wb-bench-snapshot}
gen=$(dirname "$0")/40-bulk-archive.py

key=archive-$(cksum <"$gen" | cut -d' ' -f1)-$BYTES
A=$CACHE/$key
if [ ! -e "$A/complete" ]; then
	mkdir -p "$CACHE" || exit 1
	avail=$(df -Pk "$CACHE" | awk 'NR == 2 { print $4 }')
	if [ "$avail" -lt 4000000 ]; then
		echo "70-snapshot: less than 4 GB free under $CACHE, skipped" >&2
		exit 0
	fi
	rm -rf "${CACHE:?}"/archive-*	# an older generation
	/usr/bin/python3 "$gen" "$A" "$BYTES" >"$A.counts" || exit 1
	mv "$A.counts" "$A/complete"
fi
read -r issues events bytes <"$A/complete"
mb=$(echo "$bytes" | awk '{ printf "%.0f", $1 / 1e6 }')
echo "70-snapshot: archive of $issues issues, $events events, $mb MB in $A; $(nproc) cores; $(command -v pigz || echo 'no pigz')" >&2
rm -rf "$A/snapshots"
find "$A/current" -type f -exec cat {} + >/dev/null	# the page cache

# Alternate the two so that the machine's load falls on both alike.
: >"$SCRATCH/ref.times"
: >"$SCRATCH/wb.times"
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	rm -rf "$A/snapshots" "$SCRATCH/ref.tar.gz"
	measure 1 "/usr/bin/time -a -o '$SCRATCH/ref.cpu' -f '%U %S' tar -C '$A' -czf '$SCRATCH/ref.tar.gz' current"
	echo "$MEDIAN" >>"$SCRATCH/ref.times"
	measure 1 "WB_DATA='$A' /usr/bin/time -a -o '$SCRATCH/wb.cpu' -f '%U %S' wb-snapshot >'$SCRATCH/path'"
	echo "$MEDIAN" >>"$SCRATCH/wb.times"
done
ref=$(median <"$SCRATCH/ref.times")
wb=$(median <"$SCRATCH/wb.times")
# CPU seconds (user + sys of every process of the run): what the
# compression costs whatever the machine's load. Under load the two cores
# are shared (the kernel's autogroups share them between sessions), and the
# wall-clock ratio falls towards this one.
awk '{ print $1 + $2 }' "$SCRATCH/ref.cpu" >"$SCRATCH/ref.cpus"
awk '{ print $1 + $2 }' "$SCRATCH/wb.cpu" >"$SCRATCH/wb.cpus"
refc=$(median <"$SCRATCH/ref.cpus")
wbc=$(median <"$SCRATCH/wb.cpus")
row "wb-snapshot, $mb MB archive (s) vs tar -czf" "$wb" "$ref" "$(ratio "$wb" "$ref")"
row "  speed-up over tar -czf (target 1.8)" "$(ratio "$ref" "$wb")" 1.8 "$(ratio "$(ratio "$ref" "$wb")" 1.8)"
row "  MB/s vs tar -czf" "$(ratio "$mb" "$wb")" "$(ratio "$mb" "$ref")" "$(ratio "$ref" "$wb")"
out=$(cat "$SCRATCH/path")
row "  CPU seconds (user + sys) vs tar -czf" "$wbc" "$refc" "$(ratio "$wbc" "$refc")"
row "  load average (1 min) at the end" "$(cut -d' ' -f1 /proc/loadavg)" "" ""
row "  size (MB) vs tar -czf" "$(du -m "$out" | cut -f1)" "$(du -m "$SCRATCH/ref.tar.gz" | cut -f1)" ""

# Read back: tar -xzf gives the archive's current/, byte for byte.
mkdir "$SCRATCH/x"
tar -C "$SCRATCH/x" -xzf "$A/snapshots/latest.tar.gz" || exit 1
st=$(basename "$out" .tar.gz)
if diff -r "$A/current" "$SCRATCH/x/$st" >/dev/null; then same=identical; else same=DIFFERENT; fi
row "  tar -xzf of latest.tar.gz, diff -r with current/" "$same" "" ""
rm -rf "$A/snapshots" "$SCRATCH/x"
[ "$same" = identical ]
