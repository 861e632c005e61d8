#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Throughput under kills (issue 9): a 2,000-issue backfill through the
# GitHub and Elasticsearch doubles, the whole system under s6 as make
# chaos runs it (scripts/chaos-run.py --backfill), with kill -9 of a random
# process of the downloader or the indexer every 2 s, against the same
# backfill without kills, the two alternated in the same run. Each time
# is from the start of s6 to both queues empty; each run then checks the
# archive and the index are exact (a run that is not fails the bench).
# Target: the throughput with kills at least half of the one without.
. "$(dirname "$0")/../bench-lib.sh"
RUNS=${BENCH_RUNS:-3}
N=${BENCH_BACKFILL_N:-2000}
EVERY=${BENCH_KILL_EVERY:-2}
py=/usr/bin/python3
[ -x "$py" ] || py=python3

# backfill EVERY: one run; appends "SECONDS KILLS" to $SCRATCH/times.EVERY.
backfill() {
	CHAOS_ISSUES=$N CHAOS_SETTLE=600 CHAOS_DIR=$SCRATCH/run CHAOS_KEEP=0 \
		WB_BUILD=$WB_BUILD "$py" "$TOP/scripts/chaos-run.py" --backfill "$1" \
		>"$SCRATCH/out" 2>&1
	_rc=$?
	_line=$(sed -n 's/^backfill \([0-9.]*\) \([0-9]*\)$/\1 \2/p' "$SCRATCH/out")
	if [ "$_rc" != 0 ] || [ -z "$_line" ]; then
		echo "80-backfill-kills: the run with kills every $1 s failed ($_rc):" >&2
		tail -n 5 "$SCRATCH/out" >&2
		exit 1
	fi
	echo "$_line" >>"$SCRATCH/times.$1"
	rm -rf "$SCRATCH/run"
}

i=0
while [ "$i" -lt "$RUNS" ]; do
	i=$((i + 1))
	backfill 0
	backfill "$EVERY"
done
calm=$(cut -d' ' -f1 "$SCRATCH/times.0" | median)
hit=$(cut -d' ' -f1 "$SCRATCH/times.$EVERY" | median)
kills=$(cut -d' ' -f2 "$SCRATCH/times.$EVERY" | median)
row "backfill $N issues, kill -9 every $EVERY s (s) vs no kill" "$hit" "$calm" "$(ratio "$hit" "$calm")"
tp_hit=$(echo "$N $hit" | awk '{ printf "%.1f", $1 / $2 }')
tp_calm=$(echo "$N $calm" | awk '{ printf "%.1f", $1 / $2 }')
tp=$(ratio "$tp_hit" "$tp_calm")
row "  issues/s with kills vs without (target ratio 0.5)" "$tp_hit" "$tp_calm" "$tp"
row "  kills per run with kills (median)" "$kills" - -
row "  every run (s): with kills | without" "$(cut -d' ' -f1 "$SCRATCH/times.$EVERY" | tr '\n' ' ')" "$(cut -d' ' -f1 "$SCRATCH/times.0" | tr '\n' ' ')" -
