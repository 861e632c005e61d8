#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Two wb-write processes on the same issues (two downloaders scaled out
# on one archive): whatever the interleaving, every issue ends with the
# pair of one writer, never issue.json of one and timeline.json of the
# other, and both exit 0.
. "${0%/*}/lib.sh"
TRIALS=${WB_RACE_TRIALS:-24}
plan 7
WB_DATA=$SCRATCH/data
export WB_DATA
C=$WB_DATA/current
# input WRITER TRIAL: 256 issues, each file marked with writer and trial.
input() {
	awk -v w="$1$2" 'BEGIN { for (n = 1; n <= 256; n++)
		printf "{\"number\":%d,\"issue\":{\"number\":%d,\"title\":\"%s\"},\"timeline\":[{\"w\":\"%s\"}],\"etags\":{\"issue\":\"W/\\\"%s\\\"\",\"timeline\":[[\"W/\\\"%s\\\"\",1]]}}\n", n, n, w, w, w, w }'
}
# mixed: how many issues hold the issue of one writer and the timeline of
# the other (or of another trial).
pairs() {
	# shellcheck disable=SC2046
	awk '{ match($0, /"(title|w)":"[^"]*"/); v = substr($0, RSTART, RLENGTH)
		sub(/^[^:]*:"/, "", v); sub(/"$/, "", v)
		if (FILENAME ~ /issue.json$/) i = v; else print i, v }' \
		$(for n in $(seq 1 256); do printf '%s/%s/issue.json %s/%s/timeline.json ' "$C" "$n" "$C" "$n"; done)
}
# Another writer holds issue 7 (here flock(1) on current/7, as wb-write
# locks it): wb-write stores and emits 6 first (it never waits while it
# holds an issue), waits for 7, and goes on once the holder is killed.
rec() { printf '{"number":%s,"issue":{"number":%s,"title":"%s"},"timeline":[]}\n' "$1" "$1" "$2"; }
{ rec 6 old; rec 7 old; } | wb-write >/dev/null
flock -o "$C/7" sleep 60 &
holder=$!
atexit "kill -9 $holder 2>/dev/null"
held() { ! flock -n "$C/7" true; }
wait_for 10 held
mkfifo "$SCRATCH/feed"
wb-write <"$SCRATCH/feed" >"$SCRATCH/held.out" 2>"$SCRATCH/held.err" &
writer=$!
exec 3>"$SCRATCH/feed"
{ rec 6 new; rec 7 new; } >&3
six() { grep -q '"number":6' "$SCRATCH/held.out"; }
wait_for 10 six
is "$(cat "$SCRATCH/held.out"):$(cat "$C/6/issue.json"):$(cat "$C/7/issue.json")" \
	'{"number":6}:{"number":6,"title":"new"}:{"number":7,"title":"old"}' "6 stored and emitted while 7 is held; 7 untouched"
kill -9 "$holder"
exec 3>&-
wait "$writer"
is "$?:$(tr '\n' ' ' <"$SCRATCH/held.out"):$(cat "$SCRATCH/held.err")" '0:{"number":6} {"number":7} :' "the holder killed: its lock is gone, 7 stored, exit 0"
is "$(cat "$C/7/issue.json")" '{"number":7,"title":"new"}' "7 has the new content"

mixed=0 failed=0 wrong=0 stale=0
t=1
while [ "$t" -le "$TRIALS" ]; do
	input A "$t" >"$SCRATCH/a"
	input B "$t" >"$SCRATCH/b"
	wb-write <"$SCRATCH/a" >"$SCRATCH/a.out" 2>"$SCRATCH/a.err" &
	pa=$!
	wb-write <"$SCRATCH/b" >"$SCRATCH/b.out" 2>"$SCRATCH/b.err" &
	pb=$!
	wait "$pa"; ra=$?
	wait "$pb"; rb=$?
	if [ "$ra:$rb" != 0:0 ] || [ -s "$SCRATCH/a.err" ] || [ -s "$SCRATCH/b.err" ]; then
		failed=$((failed + 1))
		diag "trial $t: exit $ra $rb: $(cat "$SCRATCH/a.err" "$SCRATCH/b.err")"
	fi
	[ "$(wc -l <"$SCRATCH/a.out"):$(wc -l <"$SCRATCH/b.out")" = "256:256" ] || wrong=$((wrong + 1))
	pairs >"$SCRATCH/pairs"
	m=$(awk '$1 != $2' "$SCRATCH/pairs" | wc -l)
	[ "$m" -eq 0 ] || { mixed=$((mixed + 1)); diag "trial $t: $m mixed pairs"; }
	# Every pair is of this trial: nothing older survived.
	s=$(grep -cv "^[AB]$t [AB]$t\$" "$SCRATCH/pairs")
	[ "$s" -eq 0 ] || stale=$((stale + 1))
	t=$((t + 1))
done
is "$mixed" 0 "$TRIALS trials of two writers on 256 issues: no issue left with a mixed pair"
is "$failed" 0 "both writers exit 0, silent, every time"
is "$wrong" 0 "each emits its 256 records"
is "$stale" 0 "every pair is of the last trial"
