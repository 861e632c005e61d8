#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Downloading figures (issue 3), against the GitHub double of t/:
#  - requests per issue of a backfill (wb-list --all | wb-fetch | wb-write)
#    against the original's 2 (one for the issue, one per timeline page);
#  - rate-limited requests of a re-run over the same unchanged issues;
#  - wb-write's durable rate, as a ratio to cp of the same files;
#  - peak RSS of a 5000-event timeline through wb-fetch | wb-write.
# The double's own ceiling is measured too: it must not be what we time.
. "$(dirname "$0")/../bench-lib.sh"
# shellcheck source=SCRIPTDIR/../../t/github-double.sh
. "$T_DIR/github-double.sh"
N=${BENCH_DOWNLOAD_N:-2000}
RUNS=${BENCH_RUNS:-3}
WRUNS=${BENCH_RUNS:-5}	# wb-write's runs are short: more of them
start_github --issues "$N" --events 3 --token bench
WB_GITHUB_TOKEN=bench WB_DATA=$SCRATCH/data
export WB_GITHUB_TOKEN WB_DATA
counted() { gh_requests '.counted'; }

# The double's ceiling: sequential requests on one kept-alive connection,
# as wb-fetch makes them (curl reuses the connection for every URL given).
i=0 urls=
while [ $i -lt 500 ]; do
	i=$((i + 1))
	urls="$urls $WB_GITHUB_API/repos/webcompat/web-bugs/issues/$(( (i % N) + 1 ))/timeline?per_page=100"
done
measure 1 "curl -s --compressed -H 'User-Agent: bench' -H 'Authorization: Bearer bench' $urls >/dev/null"
ceiling=$(echo "500 $MEDIAN" | awk '{ printf "%.0f", $1 / $2 }')

# Backfill: one run into an empty archive.
gh_clear_log
measure 1 "wb-list --all | \$RSS wb-fetch | tee $SCRATCH/fetched | \$RSS wb-write >/dev/null"
fill=$MEDIAN fill_kb=$PEAK_KB
req=$(counted)
per=$(echo "$req $N" | awk '{ printf "%.4f", $1 / $2 }')
row "backfill $N issues: requests per issue vs original" "$per" 2 "$(ratio "$per" 2)"
rate=$(echo "$req $fill" | awk '{ printf "%.0f", $1 / $2 }')
row "backfill request rate (req/s) vs double ceiling (1 conn)" "$rate" "$ceiling" "$(ratio "$rate" "$ceiling")"
row "backfill: peak RSS of wb-fetch and wb-write (KiB)" "$fill_kb" - -

# Re-run over the same unchanged issues: all 304, none counted.
seq 1 "$N" >"$SCRATCH/numbers"
gh_clear_log
measure 1 "\$RSS wb-fetch <$SCRATCH/numbers | \$RSS wb-write >/dev/null"
again=$MEDIAN
row "re-run $N unchanged: rate-limited requests vs original" "$(counted)" "$((2 * N))" "$(ratio "$(counted)" "$((2 * N))")"
row "re-run $N unchanged: 304 answers" "$(gh_requests '.status == 304')" "$((2 * N))" "$(ratio "$(gh_requests '.status == 304')" "$((2 * N))")"
row "re-run $N unchanged: seconds vs the backfill's" "$again" "$fill" "$(ratio "$again" "$fill")"

# wb-write alone, durable, into a new empty archive each run, vs cp -r of
# the same files into a new directory (not durable: cp does not fsync).
# The ext4 of these machines has no journal, and without one ext4 skips,
# when it allocates an inode, every inode of the block group freed less
# than 60 s before (360 s while their table block is dirty), at one
# inode-table lookup each (fs/ext4/ialloc.c, recently_deleted()): files
# created where thousands were just deleted cost several times more
# system time, for cp as for wb-write. On a shared machine whose tests
# create and delete thousands of files under /tmp all the time, that is
# what a run in /tmp would measure. So each run writes into a new
# directory under one marked as a top of hierarchy (chattr +T, as a data
# directory of its own would be: ext4 then spreads its subdirectories to
# block groups of their own), and nothing is deleted between runs. The
# case of files created right after deleting as many is measured after,
# for both, for what it shows.
cp -r "$WB_DATA/current" "$SCRATCH/src"
mkdir "$SCRATCH/top"
chattr +T "$SCRATCH/top" 2>/dev/null || :
export BENCH_BEFORE=sync
measure "$WRUNS" "d=\$(mktemp -d $SCRATCH/top/w.XXXXXX) && WB_DATA=\$d \$RSS wb-write <$SCRATCH/fetched >/dev/null"
w=$MEDIAN w_kb=$PEAK_KB
measure "$WRUNS" "d=\$(mktemp -d $SCRATCH/top/c.XXXXXX) && cp -r $SCRATCH/src \$d/current"
c=$MEDIAN
wrate=$(echo "$N $w" | awk '{ printf "%.0f", $1 / $2 }')
crate=$(echo "$N $c" | awk '{ printf "%.0f", $1 / $2 }')
row "wb-write $N issues durably (issues/s) vs target 2000" "$wrate" 2000 "$(ratio "$wrate" 2000)"
row "wb-write (issues/s) vs cp -r of the same files" "$wrate" "$crate" "$(ratio "$wrate" "$crate")"
row "wb-write peak RSS (KiB) on $N issues" "$w_kb" - -
# Unchanged: the same records again over an archive that has them.
WB_DATA=$SCRATCH/top/w.again wb-write <"$SCRATCH/fetched" >/dev/null
measure "$RUNS" "WB_DATA=$SCRATCH/top/w.again wb-write <$SCRATCH/fetched >/dev/null"
urate=$(echo "$N $MEDIAN" | awk '{ printf "%.0f", $1 / $2 }')
row "wb-write $N unchanged issues again (issues/s) vs first" "$urate" "$wrate" "$(ratio "$urate" "$wrate")"
# Right after deleting as many files in the same place (see above).
mkdir -p "$SCRATCH/top/del/c"
WB_DATA=$SCRATCH/top/del/w wb-write <"$SCRATCH/fetched" >/dev/null
cp -r "$SCRATCH/src" "$SCRATCH/top/del/c/current"
export BENCH_BEFORE="rm -rf $SCRATCH/top/del/w/current $SCRATCH/top/del/c/current; sync"
measure "$RUNS" "WB_DATA=$SCRATCH/top/del/w wb-write <$SCRATCH/fetched >/dev/null"
dw=$(echo "$N $MEDIAN" | awk '{ printf "%.0f", $1 / $2 }')
measure "$RUNS" "cp -r $SCRATCH/src $SCRATCH/top/del/c/current"
dc=$(echo "$N $MEDIAN" | awk '{ printf "%.0f", $1 / $2 }')
unset BENCH_BEFORE
row "  right after deleting as many there: wb-write vs cp -r" "$dw" "$dc" "$(ratio "$dw" "$dc")"

# A 5000-event timeline through wb-fetch | wb-write.
gh events '{"number":1,"count":5000}'
rm -rf "$WB_DATA"
measure 1 "\$RSS wb-fetch 1 | \$RSS wb-write >/dev/null"
size=$(stat -c %s "$WB_DATA/current/1/timeline.json")
kb=$(( (size + 1023) / 1024 ))
row "5000-event timeline: peak RSS (KiB) vs 10x JSON size" "$PEAK_KB" "$((10 * kb))" "$(ratio "$PEAK_KB" "$((10 * kb))")"
row "5000-event timeline: JSON size (KiB)" "$kb" - -
measure 1 "\$RSS wb-fetch 1 | \$RSS wb-write >/dev/null"
row "5000-event timeline re-run (304s): peak RSS (KiB) vs 10x" "$PEAK_KB" "$((10 * kb))" "$(ratio "$PEAK_KB" "$((10 * kb))")"
