#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-prune-snapshots: both namings, by the time in the name; never the
# newest, nor latest.tar.gz's target, nor anything that is not a snapshot.
. "${0%/*}/lib.sh"
plan 20
export WB_DATA="$SCRATCH/data"
S=$WB_DATA/snapshots

run wb-prune-snapshots
is "$RC:$OUT:$ERR" "0::" "no snapshots directory: nothing to do, 0"
mkdir -p "$S"

# name DAYS-AGO HOURS-AGO FORMAT: a snapshot name that long ago (UTC).
ago() {
	date -u -d "@$(($(date -u +%s) - $1 * 86400 - ${2:-0} * 3600))" +"$3"
}
new10=$(ago 10 0 %Y%m%d_%H%M).tar.gz
new8=$(ago 8 0 %Y%m%d_%H%M).tar.gz
new6=$(ago 6 0 %Y%m%d_%H%M).tar.gz
new1=$(ago 1 0 %Y%m%d_%H%M).tar.gz
old12=$(ago 12 0 %Y-%m-%d).tar.gz
old9=$(ago 9 0 %Y-%m-%d).tar.gz
old5=$(ago 5 0 %Y-%m-%d).tar.gz
for f in "$new10" "$new8" "$new6" "$new1" "$old12" "$old9" "$old5"; do
	printf 'snapshot' >"$S/$f"
done
# Not snapshots: other names, impossible times, a directory, a link.
for f in notes.txt 20201399_0000.tar.gz 20201101_2400.tar.gz \
	20201101_1260.tar.gz 2020-13-01.tar.gz 2020-11-32.tar.gz \
	2020110_0000.tar.gz 20201101_0000.tar 20201101_0000.tar.gz.bak \
	x20201101_0000.tar.gz; do
	printf 'other' >"$S/$f"
done
mkdir "$S/20201101_0000.tar.gz"
printf 'outside' >"$SCRATCH/outside"
ln -s "$SCRATCH/outside" "$S/20201102_0000.tar.gz"
# latest.tar.gz points at the 8-day-old one (an operator's choice).
ln -s "$new8" "$S/latest.tar.gz"
# What a killed wb-snapshot left: a stale set, and a running one's.
for f in .wb-snapshot.20201101_0000.77.tmp .wb-snapshot.20201101_0000.77.list; do
	printf 'stale' >"$S/$f"
	touch -d '2 days ago' "$S/$f"
done
stale=$(ls -A "$S" | grep '^\.wb-snapshot\.20201101' | sed "s|^|$S/|" | sort)
printf 'running' >"$S/.wb-snapshot.$(ago 0 0 %Y%m%d_%H%M).99.tmp"
touch -d '23 hours ago' "$S/.wb-snapshot.$(ago 0 0 %Y%m%d_%H%M).99.tmp"

count=$(ls -A "$S" | wc -l | tr -d ' ')
for a in x '' 07 -1 +7 1e3 ' 7' '7 ' 0x10 36501 99999999999999999999; do
	run wb-prune-snapshots "$a"
	[ "$RC" = 100 ] || break
done
is "$RC:$OUT" "100:" "DAYS refused: x, '', 07, -1, +7, 1e3, ' 7', '7 ', 0x10, 36501, 20 digits"
run wb-prune-snapshots 07
is "$ERR" "wb-prune-snapshots: fatal: DAYS is not a whole number of days: 07" "DAYS 07: its message"
run wb-prune-snapshots 36501
is "$ERR" "wb-prune-snapshots: fatal: DAYS is out of range (0 to 36500): 36501" "DAYS 36501: its message"
run wb-prune-snapshots 1 2
is "$RC:$ERR" "100:wb-prune-snapshots: usage: wb-prune-snapshots [DAYS]" "two operands: usage"
run wb-prune-snapshots -x
is "$RC" 100 "an unknown option: usage"
is "$(ls -A "$S" | wc -l | tr -d ' ')" "$count" "nothing removed by a refused call"

run wb-prune-snapshots
is "$RC:$ERR" "0:" "default 7 days: 0"
# shellcheck disable=SC2086	# $stale: one word per path
is "$(printf '%s\n' "$OUT" | sort)" "$(printf '%s\n' "$S/$old12" "$S/$new10" "$S/$old9" $stale | sort)" \
	"the 12-, 10- and 9-day-old ones in either naming and the stale temporary files go, each path printed"
for f in "$new8" "$new6" "$new1" "$old5" latest.tar.gz notes.txt 20201399_0000.tar.gz \
	20201101_2400.tar.gz 20201101_1260.tar.gz 2020-13-01.tar.gz 2020-11-32.tar.gz \
	2020110_0000.tar.gz 20201101_0000.tar 20201101_0000.tar.gz.bak \
	x20201101_0000.tar.gz 20201101_0000.tar.gz 20201102_0000.tar.gz; do
	[ -e "$S/$f" ] || [ -L "$S/$f" ] || break
	f=
done
is "$f" "" "latest.tar.gz's 8-day-old target, the younger ones and all that is not a snapshot stay"
is "$(cat "$SCRATCH/outside")" outside "a link's target is never touched"
is "$(ls -A "$S" | grep -c '^\.wb-snapshot\..*\.99\.tmp$')" 1 "a running snapshot's temporary file (younger than a day) stays"
run wb-prune-snapshots
is "$RC:$OUT" "0:" "a second run removes nothing"

# DAYS 0: everything but the newest and latest.tar.gz's target.
run wb-prune-snapshots 0
is "$RC:$(printf '%s\n' "$OUT" | sort)" "0:$(printf '%s\n' "$S/$new6" "$S/$old5" | sort)" "0 days: all snapshots but the newest and latest's target"
is "$(ls "$S" | grep -c -x -e "$new1" -e "$new8")" 2 "the newest and latest's target stay"

# The newest is kept even when older than DAYS, and an old-style name
# counts as the last minute of its day.
rm -f "$S/latest.tar.gz" "$S/$new1" "$S/$new8"
printf 'snapshot' >"$S/$old12"
run wb-prune-snapshots 3
is "$RC:$OUT:$(ls "$S" | grep -c -x "$old12")" "0::1" "the newest snapshot stays, however old"
printf 'snapshot' >"$S/$(ago 0 0 %Y%m%d_%H%M).tar.gz"
printf 'snapshot' >"$S/$(ago 1 0 %Y-%m-%d).tar.gz"
printf 'snapshot' >"$S/$(ago 2 0 %Y-%m-%d).tar.gz"
run wb-prune-snapshots 1
is "$RC:$OUT" "0:$S/$old12
$S/$(ago 2 0 %Y-%m-%d).tar.gz" "1 day: yesterday's YYYY-MM-DD counts as its last minute and stays; the day before goes"

# A snapshot that cannot be removed: 111, the others still go.
if [ "$(id -u)" -ne 0 ]; then
	printf 'snapshot' >"$S/$new10"
	chmod 500 "$S"
	run wb-prune-snapshots 0
	chmod 700 "$S"
	like "$RC:$ERR" "^111:wb-prune-snapshots: warning: unable to remove $S/" "a removal that fails: 111"
else
	ok 0 "# SKIP root removes anything"
fi

run wb-prune-snapshots --help
like "$RC:$OUT" "^0:usage: wb-prune-snapshots \\[DAYS\\]" "--help"
run wb-prune-snapshots --version
is "$RC:$OUT" "0:wb-prune-snapshots (wb) 0.1.0" "--version"
done_testing
