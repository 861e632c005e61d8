#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-search: full text and filters over the database wb-sqlite keeps,
# records or a table, best first as FTS5 ranks them; malformed or hostile
# queries are an error (100), never a crash; a missing or foreign
# database is named with its fix.
. "${0%/*}/lib.sh"
. "${0%/*}/lib-sqlite.sh"
plan 59

U='wb-search [--state open|closed] [--label NAME]... [--since T] [--until T] [--limit N] [--window N] [--count] [QUERY]'

# issue N STATE UPDATED LABELS TITLE BODY [COMMENT]
issue() {
	mkdir -p "$D/current/$1"
	printf '{"number":%s,"state":"%s","updated_at":"%s","labels":%s,"title":"%s","body":"%s"}' \
		"$1" "$2" "$3" "$4" "$5" "$6" >"$D/current/$1/issue.json"
	if [ -n "${7:-}" ]; then
		printf '[{"event":"commented","body":"%s"},{"event":"labeled"}]' "$7"
	else
		printf '[]'
	fi >"$D/current/$1/timeline.json"
}
issue 1 open 2022-01-02T00:00:00Z '[{"name":"type-media"}]' 'Video does not autoplay' 'autoplay broken'
issue 2 closed 2022-01-05T00:00:00Z '[{"name":"browser-firefox"}]' 'Login page broken' 'the video in the footer'
issue 3 open 2022-01-03T00:00:00Z '[{"name":"type-media"},{"name":"browser-firefox"}]' 'Scroll jank' 'nothing here' 'video video video'
issue 4 open 2022-01-04T00:00:00Z '[]' 'secret video' 'private body'
seq 1 4 | wb-sqlite >/dev/null


run wb-search --help
is "$RC" 0 "--help exits 0"
like "$OUT" "^usage: wb-search \[--state open\|closed\] \[--label NAME\]\.\.\. \[--since T\] \[--until T\] \[--limit N\] \[--window N\] \[--count\] \[QUERY\]$" "--help prints the usage"
run wb-search --version
is "$OUT" "wb-search (wb) 0.1.0" "--version"
run wb-search --bogus
is "$RC:$ERR" "100:wb-search: unrecognized option '--bogus'
wb-search: usage: $U" "an unknown option: usage, 100"
run wb-search --state merged
is "$RC:$ERR" "100:wb-search: fatal: --state is open or closed, not merged" "--state checked"
run wb-search --limit 0
is "$RC:$ERR" "100:wb-search: fatal: --limit is out of range (1..1000000000): 0" "--limit checked"
run wb-search --since yesterday
is "$RC:$ERR" "100:wb-search: fatal: --since is not YYYY-MM-DDTHH:MM:SSZ: yesterday" "--since checked"

# Records; best first, as FTS5 ranks them.
run wb-search jank
is "$RC:$OUT" '0:{"number":3,"title":"Scroll jank","state":"open","updated_at":"2022-01-03T00:00:00Z","snippet":"Scroll «jank»"}' "one record per match, with a snippet"
run wb-search video
is "$(nums "$OUT")" "$(sq "$DB" "SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'video' ORDER BY rank" | tr '\n' ' ')" "best first, as FTS5's rank orders them"
like "$(nums "$OUT")" "^(4 1|1 4) " "title matches first"
is "$(nums "$(wb-search video autoplay)")" "1 " "operands joined: every word must match"
is "$(nums "$(wb-search 'title:video')")" "4 1 " "a column filter"
is "$(nums "$(wb-search 'comments:video')")" "3 " "comment bodies"
is "$(wb-search 'comments:video' | jq -r .snippet)" "«video» «video» «video»" "a snippet of the comments"
is "$(nums "$(wb-search 'vid*' --limit 2)")" "4 1 " "prefix query, --limit"

# Filters, alone and with a query.
is "$(nums "$(wb-search)")" "2 4 3 1 " "no query: every issue, most recently updated first"
is "$(wb-search --state closed | jq -c .)" '{"number":2,"title":"Login page broken","state":"closed","updated_at":"2022-01-05T00:00:00Z","snippet":null}' "--state closed; no snippet without a query"
is "$(nums "$(wb-search --state open video)")" "$(sq "$DB" "SELECT issues_fts.rowid FROM issues_fts JOIN issues ON number = issues_fts.rowid WHERE issues_fts MATCH 'video' AND state = 'open' ORDER BY rank" | tr '\n' ' ')" "--state open with a query"
is "$(nums "$(wb-search --label type-media)")" "3 1 " "--label"
is "$(nums "$(wb-search --label type-media --label browser-firefox)")" "3 " "two labels: both"
is "$(nums "$(wb-search --label nosuch)")" "" "an unknown label: nothing"
is "$(nums "$(wb-search --since 2022-01-03T00:00:00Z)")" "2 4 3 " "--since: at or after"
is "$(nums "$(wb-search --until 2022-01-03T00:00:00Z)")" "1 " "--until: before"
is "$(wb-search --count video):$(wb-search --count --state closed):$(wb-search --count nomatch)" "4:1:0" "--count"
run wb-search nomatch
is "$RC:$OUT:$ERR" "0::" "no match: nothing, exit 0"

# A terminal gets an aligned table.
run script -qec "wb-search jank; wb-search --state closed" /dev/null
is "$(printf '%s\n' "$OUT" | tr -d '\r')" "       3  open    2022-01-03T00:00:00Z  Scroll jank
          Scroll «jank»
       2  closed  2022-01-05T00:00:00Z  Login page broken" "a table on a terminal, the snippet under the title"

# Hostile queries: an error naming the cause, exit 100, never a crash.
hostile() {
	run wb-search "$1"
	is "$RC:$OUT:$ERR" "100::wb-search: fatal: $2" "$3"
}
hostile '"unbalanced' "malformed query: unterminated string" "an unbalanced quote"
hostile 'NEAR(' 'malformed query: fts5: syntax error near ""' "NEAR( left open"
hostile 'nosuchcol:video' "malformed query: no such column: nosuchcol" "a filter on an unknown column"
hostile 'video AND' 'malformed query: fts5: syntax error near ""' "a dangling AND"
hostile "$(printf 'vid\377eo')" "the query is not valid UTF-8" "invalid UTF-8"
hostile "$(printf 'caf\300\251')" "the query is not valid UTF-8" "an overlong form"
hostile "$(head -c 70000 /dev/zero | tr '\0' a)" "the query is too long (70000 bytes, at most 65536)" "a huge query"
deep=$(awk 'BEGIN { for (i = 0; i < 3000; i++) printf "("; printf "video"; for (i = 0; i < 3000; i++) printf ")" }')
run wb-search "$deep"
ok "$([ "$RC" -eq 0 ] || [ "$RC" -eq 100 ]; echo $?)" "3,000 nested parentheses: an answer or an error, not a crash (exit $RC)"
ors=$(awk 'BEGIN { for (i = 0; i < 6000; i++) printf "w%d OR ", i; printf "video" }')
run wb-search --count "$ors"
is "$RC:$OUT" "0:4" "6,000 ORs: answered"

# The window: with --limit, the best of the N most recent matches (the
# highest numbers) that pass the filters. Issue 10 holds "common" most
# often, so it ranks first over all; 30-39 hold it once each.
W=$SCRATCH/w
for n in 10 $(seq 30 39); do
	st=open; [ $((n % 3)) -eq 0 ] && st=closed
	body=common; [ "$n" -eq 10 ] && body='common common common common'
	mkdir -p "$W/current/$n"
	printf '{"number":%s,"state":"%s","updated_at":"2022-02-01T00:00:00Z","title":"t%s","body":"%s filler words to pad the body"}' \
		"$n" "$st" "$n" "$body" >"$W/current/$n/issue.json"
	echo '[]' >"$W/current/$n/timeline.json"
done
WS="env WB_DATA=$W WB_SQLITE=$W/wb.sqlite"
printf '%s\n' 10 $(seq 30 39) | $WS wb-sqlite >/dev/null
wq() { sq "$W/wb.sqlite" "$1" | tr '\n' ' '; }
is "$(nums "$($WS wb-search --limit 3 --window 0 common)")" "$(wq "SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'common' ORDER BY rank, rowid LIMIT 3")" "--window 0: every match ranked"
like "$(nums "$($WS wb-search --limit 3 --window 0 common)")" "^10 " "over every match, issue 10 ranks first"
is "$(nums "$($WS wb-search --limit 3 --window 5 common)")" "$(wq "SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'common' AND rowid >= 35 ORDER BY rank, rowid LIMIT 3")" "--window 5: the best 3 of the 5 most recent matches (35-39)"
is "$(nums "$($WS wb-search --limit 20 common)" | wc -w)" 11 "by default every match is ranked"
is "$(nums "$($WS wb-search common)" | cut -d ' ' -f 1)" 10 "without --limit, no window: every match ranked"
is "$(nums "$($WS wb-search --limit 2 --window 3 --state closed common)")" "$(wq "SELECT issues_fts.rowid FROM issues_fts JOIN issues ON number = issues_fts.rowid WHERE issues_fts MATCH 'common' AND state = 'closed' AND issues_fts.rowid >= 33 ORDER BY rank, issues_fts.rowid LIMIT 2")" "with --state, the window is of the closed matches (33, 36, 39)"
is "$($WS wb-search --count --limit 2 --window 1 common)" 2 "--count ignores the window"
# The ranking is bm25's to the bit: many matches of one word, of other
# lengths and counts, ties, numbers close together and far apart (the
# sizes read in one pass, or looked up), in FTS5's order.
M=$SCRATCH/m
for n in $(seq 1 60) $(seq 100 40 900) 5000 5001; do
	k=$((n % 4 + 1)) pad=$((n % 7))
	body=$(awk -v k="$k" -v p="$pad" 'BEGIN { for (i = 0; i < k; i++) printf "common "; for (i = 0; i < p * 3; i++) printf "pad%d ", i }')
	title=t; [ $((n % 11)) -eq 0 ] && title="common title"
	comment=; [ $((n % 5)) -eq 0 ] && comment="common common"
	put "$M" "$n" "$title" "$body" "$comment"
done
MS="env WB_DATA=$M WB_SQLITE=$M/wb.sqlite"
ls "$M/current" | $MS wb-sqlite >/dev/null
mq() { sq "$M/wb.sqlite" "$1" | tr '\n' ' '; }
is "$(nums "$($MS wb-search common)")" "$(mq "SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'common' ORDER BY rank, rowid")" "every match, in bm25's order (ties by number)"
is "$(nums "$($MS wb-search --limit 9 common)")" "$(mq "SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'common' ORDER BY rank, rowid LIMIT 9")" "the best 9, in bm25's order"
is "$(nums "$($MS wb-search --limit 4 'common OR pad3')")" "$(mq "SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'common OR pad3' ORDER BY rank, rowid LIMIT 4")" "two phrases: the best 4, in bm25's order"
# Position lists read directly (lib/wb_sqliterank.c): instances far
# apart (positions stored in 2 and 3 bytes), in every column, in
# phrases, NEAR groups and column filters, ranked as FTS5 ranks them.
F=$SCRATCH/f
for n in $(seq 1 24); do
	gap=$(( (n % 4) * (n % 4) * 2000 + n ))
	body=$(awk -v g="$gap" -v n="$n" 'BEGIN { for (r = 0; r < n % 5 + 1; r++) { printf "far near "; for (i = 0; i < g; i++) printf "w "; } printf "far" }')
	title="t$n"; [ $((n % 3)) -eq 0 ] && title="far near far"
	comment=; [ $((n % 4)) -eq 1 ] && comment="near far w w w w w w w w w w w w w w w w far"
	put "$F" "$n" "$title" "$body" "$comment"
done
FS="env WB_DATA=$F WB_SQLITE=$F/wb.sqlite"
ls "$F/current" | $FS wb-sqlite >/dev/null
for q in far '"far near"' 'NEAR(far near, 2)' 'body:far' '{title comments}:far' 'far OR near' 'near NOT t3' 'fa*'; do
	is "$(nums "$($FS wb-search --limit 10 "$q")")" "$(sq "$F/wb.sqlite" "SELECT rowid FROM issues_fts WHERE issues_fts MATCH '$(echo "$q" | sed "s/'/''/g")' ORDER BY rank, rowid LIMIT 10" | tr '\n' ' ')" "$q: in bm25's order, position lists read directly"
done
run wb-search --window many video
is "$RC:$ERR" "100:wb-search: fatal: --window is not a decimal integer (0..1000000000): many" "--window checked"

# The database: missing, foreign, newer; never written.
run env WB_SQLITE="$SCRATCH/none.sqlite" wb-search video
is "$RC:$ERR" "100:wb-search: fatal: no database at $SCRATCH/none.sqlite (WB_SQLITE): No such file or directory; make it with wb-sqlite --rebuild" "a missing database: named, with the fix"
ok "$(test ! -e "$SCRATCH/none.sqlite"; echo $?)" "and not created"
cp "$DB" "$SCRATCH/v3.sqlite"
sq "$SCRATCH/v3.sqlite" 'PRAGMA user_version = 3'
run env WB_SQLITE="$SCRATCH/v3.sqlite" wb-search video
is "$RC:$ERR" "100:wb-search: fatal: $SCRATCH/v3.sqlite has schema version 3, newer than this one's (2): run wb-sqlite --rebuild" "a newer schema: refused"
sq "$SCRATCH/other.sqlite" 'CREATE TABLE t (x)'
run env WB_SQLITE="$SCRATCH/other.sqlite" wb-search video
is "$RC:$ERR" "100:wb-search: fatal: $SCRATCH/other.sqlite is not a wb database (it holds no schema version): move it away, or run wb-sqlite --rebuild" "a foreign database: refused"
before=$(md5sum <"$DB")
wb-search video >/dev/null
is "$(md5sum <"$DB")" "$before" "searching leaves the database file as it was"

done_testing
