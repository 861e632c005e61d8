#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-sqlite: the database equals the archive after a first run, a re-run,
# shrinking and growing timelines and gone issues; records go out in
# order once committed, passed through; bad files are skipped with the
# rows as they were; schema versions; --rebuild.
. "${0%/*}/lib.sh"
. "${0%/*}/lib-sqlite.sh"
plan 63

U='wb-sqlite [--batch-issues N] [--batch-bytes N] [--idle S] | wb-sqlite --rebuild'

run wb-sqlite --help
is "$RC" 0 "--help exits 0"
like "$OUT" "^usage: wb-sqlite \[--batch-issues N\] \[--batch-bytes N\] \[--idle S\] \| wb-sqlite --rebuild$" "--help prints the usage"
run wb-sqlite --version
is "$OUT" "wb-sqlite (wb) 0.1.0" "--version"
run wb-sqlite extra
is "$RC:$ERR" "100:wb-sqlite: usage: $U" "an operand is a usage error"
run wb-sqlite --batch-issues 0
is "$RC:$ERR" "100:wb-sqlite: fatal: --batch-issues is out of range (1..1000000): 0" "--batch-issues 0 refused"
run wb-sqlite --idle soon
is "$RC:$ERR" "100:wb-sqlite: fatal: --idle is not a number of seconds (0..3600): soon" "--idle soon refused"
run sh -c "echo 1 | WB_DATA=$SCRATCH/nonexistent wb-sqlite"
is "$RC:$ERR" "100:wb-sqlite: fatal: no archive at $SCRATCH/nonexistent (WB_DATA)" "no archive root: 100, before any database"
run sh -c "echo 1 | WB_DATA=$SCRATCH WB_SQLITE=$SCRATCH/nodir/wb.sqlite wb-sqlite"
is "$RC:$ERR" "111:wb-sqlite: fatal: unable to open $SCRATCH/nodir/wb.sqlite: unable to open database file" "a database that cannot be opened: 111"
mkdir -p "$SCRATCH/fresh"
run sh -c "echo 1 | WB_DATA='$SCRATCH/fresh' wb-sqlite"
is "$RC:$OUT" "1:" "no current/ yet (a fresh system): skipped, not written out"
is "$ERR" "wb-sqlite: warning: issue 1: no archive at $SCRATCH/fresh/current, skipped
wb-sqlite: warning: 1 issue was not indexed" "said"
is "$(sq "$SCRATCH/fresh/wb.sqlite" 'PRAGMA journal_mode; PRAGMA user_version; SELECT count(*) FROM issues')" "wal
2
0" "a new database: WAL mode, schema version 2, empty"
is "$(sq "$SCRATCH/fresh/wb.sqlite" 'PRAGMA page_size')" 16384 "a new database has 16 KB pages"

# A first run.
for n in $(seq 1 20); do mk_sq_issue "$D" "$n" $((n % 7 * 3)); done
{ seq 1 10; echo '{"number":11,"queue":"index","claim":"42","x":[1,{"y":null}]}'; seq 12 20; echo 99; echo bogus; } >"$SCRATCH/in"
run env WB_DEBUG=1 wb-sqlite <"$SCRATCH/in"
is "$RC" 1 "first run: the bad line makes it exit 1"
is "$ERR" "wb-sqlite: warning: line 22: not an issue number (1..2147483647) nor a JSON object: bogus, skipped
wb-sqlite: warning: 1 input line was rejected
wb-sqlite: debug: 20 issues written, 0 unchanged, 0 removed, 1 transactions, 21 records written" "one transaction; the bad line said"
is "$OUT" "$(seq 1 10 | sed 's/.*/{"number":&}/'; echo '{"number":11,"queue":"index","claim":"42","x":[1,{"y":null}]}'; seq 12 20 | sed 's/.*/{"number":&}/'; echo '{"number":99}')" "every record out, in order, fields passed through (99: absent, nothing to remove)"
is "$(sq_rows "$DB")" "$(expected_rows "$D" $(seq 1 20))" "issues and timelines hold the archived text, byte for byte"
is "$(sq "$DB" 'SELECT count(*) FROM timelines')" 189 "189 events"
is "$(sq "$DB" 'SELECT title, state, created_at, updated_at, closed_at, author, labels, milestone, private FROM issues WHERE number = 4')" \
	"$(printf 'Issue 4 "quoted" café\tclosed\t2021-01-01T00:00:00Z\t2022-01-05T00:00:00Z\t\tu4\t["browser-firefox","l1"]\tneedsdiagnosis\t0')" "derived columns of an issue"
is "$(sq "$DB" 'SELECT event, created_at, actor FROM timelines WHERE number = 3 AND position IN (1, 2)')" \
	"$(printf 'labeled\t2021-01-02T00:00:00Z\tbot\ncommented\t2021-02-03T00:00:00Z\tc2')" "derived columns of events"
is "$(sq "$DB" "SELECT group_concat(number) FROM issue_labels WHERE name = 'l1'")" "1,4,7,10,13,16,19" "labels, one row each"
plans=$(for q in "SELECT json, timeline_sha256 FROM issues WHERE number = 1" \
	"SELECT json FROM timelines WHERE number = 1 AND event = 'commented' ORDER BY position" \
	"DELETE FROM issues WHERE number = 1" "DELETE FROM timelines WHERE number = 1" \
	"DELETE FROM issue_labels WHERE number = 1" \
	"SELECT number FROM issue_labels WHERE name = 'x'"; do sq "$DB" "EXPLAIN QUERY PLAN $q"; done)
unlike "$plans" "SCAN" "no statement of an issue's rows scans a table (each is a search)"
is "$(fts_vocab "$DB" | md5sum)" "$(fts_rebuilt "$DB" | md5sum)" "the full-text index holds exactly what FTS5 makes from the content view"
is "$(sq "$DB" "SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'comments:ete' ORDER BY rowid" | tr '\n' ' ')" "1 2 3 4 5 6 8 9 10 11 12 13 15 16 17 18 19 20 " "comment bodies searchable, unescaped, diacritics folded"

# Again: nothing changed, nothing written.
before=$(sq_rows "$DB" | md5sum)
run env WB_DEBUG=1 wb-sqlite <"$SCRATCH/in"
is "$RC:$(echo "$OUT" | wc -l)" "1:21" "a second run writes every record out again"
is "$ERR" "wb-sqlite: warning: line 22: not an issue number (1..2147483647) nor a JSON object: bogus, skipped
wb-sqlite: warning: 1 input line was rejected
wb-sqlite: debug: 0 issues written, 20 unchanged, 0 removed, 1 transactions, 21 records written" "every issue unchanged, none rewritten"
is "$(sq_rows "$DB" | md5sum)" "$before" "the same rows"

# An issue whose timeline.json alone changed (same issue.json) is rewritten.
mk_sq_issue "$D" 2 4
run env WB_DEBUG=1 wb-sqlite <<EOF
2
EOF
is "$ERR" "wb-sqlite: debug: 1 issues written, 0 unchanged, 0 removed, 1 transactions, 1 records written" "a changed timeline alone is noticed"

# Timelines shrink and grow; an issue goes; words go with them.
mk_sq_issue "$D" 6 2 gone6    # was 18 events
mk_sq_issue "$D" 3 0          # was 9
mk_sq_issue "$D" 1 25 grown1  # was 3
rm -r "$D/current/5"
run sh -c 'printf "6\n3\n1\n5\n" | WB_DEBUG=1 wb-sqlite'
is "$RC:$OUT" "0:$(printf '{"number":%s}\n' 6 3 1 5)" "changed issues written out"
is "$ERR" "wb-sqlite: debug: 3 issues written, 0 unchanged, 1 removed, 1 transactions, 4 records written" "three rewritten, one removed"
is "$(sq_rows "$DB")" "$(expected_rows "$D" 1 2 3 4 $(seq 6 20))" "rows equal the archive after shrinking, growing and removal"
is "$(sq "$DB" 'SELECT count(*) FROM timelines WHERE number = 5; SELECT count(*) FROM issue_labels WHERE number = 5')" "0
0" "nothing of the gone issue is left"
is "$(fts_vocab "$DB" | md5sum)" "$(fts_rebuilt "$DB" | md5sum)" "the full-text index still equals FTS5's own, old words removed"
is "$(sq "$DB" "SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'gone6 OR grown1 OR line5' ORDER BY rowid" | tr '\n' ' ')" "1 " "new words found, words of removed events and issues not"
is "$(sq "$DB" "SELECT count(*) FROM issues_fts WHERE issues_fts MATCH 'comment'")" 14 "issues whose comments went are no longer found by them"

# A private issue: indexed with the substituted title and body.
mkdir -p "$D/current/40"
printf '{"number":40,"title":"Real secret title","body":"the real body","state":"open","__WEBCOMPAT_PRIVATE_ISSUE__":true}' >"$D/current/40/issue.json"
printf '[]' >"$D/current/40/timeline.json"
echo 40 | wb-sqlite >/dev/null
is "$(sq "$DB" "SELECT private, title FROM issues WHERE number = 40; SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'secret AND real'")" "$(printf '1\tReal secret title\n40')" "private: flagged, its substituted title and body indexed"

# Bad files: said, skipped, not written out; their rows stay as they were.
r7=$(sq "$DB" 'SELECT json FROM issues WHERE number = 7')
t8=$(sq "$DB" 'SELECT count(*) FROM timelines WHERE number = 8')
printf '{"number":7,"title":"tru' >"$D/current/7/issue.json"
printf '[{"event":"x"},3]' >"$D/current/8/timeline.json"
printf '[1,2]' >"$D/current/10/issue.json"
mkdir -p "$D/current/30"
mk_sq_issue "$D" 31 1
rm "$D/current/31/timeline.json"
mk_sq_issue "$D" 9 1
printf '%s\n' 7 8 9 10 30 31 >"$SCRATCH/in2"
run wb-sqlite <"$SCRATCH/in2"
is "$RC" 1 "skipped issues make the exit status 1"
is "$OUT" '{"number":9}' "only the good issue is written out"
is "$ERR" "wb-sqlite: warning: issue 7: $D/current/7/issue.json is not a JSON object: unterminated string at byte 24, skipped
wb-sqlite: warning: issue 8: $D/current/8/timeline.json is not a JSON array of objects: an element is not an object at byte 15, skipped
wb-sqlite: warning: issue 10: $D/current/10/issue.json is not a JSON object: not a JSON object at byte 0, skipped
wb-sqlite: warning: issue 30: unable to read $D/current/30/issue.json, skipped: No such file or directory
wb-sqlite: warning: issue 31: unable to read $D/current/31/timeline.json, skipped: No such file or directory
wb-sqlite: warning: 5 issues were not indexed" "each bad file named, with the reason"
is "$(sq "$DB" 'SELECT json FROM issues WHERE number = 7'):$(sq "$DB" 'SELECT count(*) FROM timelines WHERE number = 8')" "$r7:$t8" "the rows of corrupt issues stay as they were"
is "$(sq "$DB" 'SELECT count(*) FROM timelines WHERE number = 9')" 1 "the good issue of the batch was indexed"
is "$(sq "$DB" 'SELECT count(*) FROM issues WHERE number IN (30, 31)')" 0 "nothing made up for unreadable ones"
mk_sq_issue "$D" 7 2; mk_sq_issue "$D" 8 2; mk_sq_issue "$D" 10 2; rm -r "$D/current/30" "$D/current/31"

# Batches: bounded in issues, one transaction each, records out after each.
run sh -c 'seq 1 12 | WB_DEBUG=1 wb-sqlite --batch-issues 5'
is "$RC:$(echo "$OUT" | wc -l)" "0:12" "all written out"
like "$ERR" "debug: .* 3 transactions, 12 records written$" "12 issues in batches of 5: 3 transactions"
run sh -c 'seq 1 12 | WB_DEBUG=1 wb-sqlite --batch-bytes 1'
like "$ERR" "debug: .* 11 transactions, 12 records written$" "a transaction per issue when each is over --batch-bytes (the gone one shares one)"
is "$(sq_tokens "$DB")" "ok 20" "through all of it, each issue's packed size equals the index's"

# The idle time: records held while input trickles, written once it pauses,
# and only then; the rows are committed when they appear.
mkfifo "$SCRATCH/fifo"
mk_sq_issue "$D" 50 3 idleword
wb-sqlite --idle 0.3 <"$SCRATCH/fifo" >"$SCRATCH/idle.out" 2>"$SCRATCH/idle.err" &
pid=$!
exec 3>"$SCRATCH/fifo"
echo 50 >&3
wait_for 10 test -s "$SCRATCH/idle.out"
is "$(cat "$SCRATCH/idle.out"):$(sq "$DB" 'SELECT count(*) FROM timelines WHERE number = 50')" '{"number":50}:3' "written out after the pause, once committed"
exec 3>&-
wait "$pid"
is "$?" 0 "exits 0 at the end of input"

# Schema versions: a newer or unknown database is refused, naming the fix.
cp "$DB" "$SCRATCH/v99.sqlite"
sq "$SCRATCH/v99.sqlite" 'PRAGMA user_version = 99'
run sh -c "echo 1 | WB_SQLITE=$SCRATCH/v99.sqlite wb-sqlite"
is "$RC:$OUT" "100:" "a newer schema: refused, exit 100"
is "$ERR" "wb-sqlite: fatal: $SCRATCH/v99.sqlite has schema version 99, newer than this one's (2): run wb-sqlite --rebuild" "the message names wb-sqlite --rebuild"
sq "$SCRATCH/foreign.sqlite" 'CREATE TABLE t (x)'
run sh -c "echo 1 | WB_SQLITE=$SCRATCH/foreign.sqlite wb-sqlite"
is "$RC:$ERR" "100:wb-sqlite: fatal: $SCRATCH/foreign.sqlite is not a wb database (it holds no schema version): move it away, or run wb-sqlite --rebuild" "a foreign database: refused"
is "$(sq "$SCRATCH/foreign.sqlite" 'SELECT name FROM sqlite_schema')" t "and left alone"
printf 'not a database at all, but long enough to be read as a header...............................................' >"$SCRATCH/junk.sqlite"
run sh -c "echo 1 | WB_SQLITE=$SCRATCH/junk.sqlite wb-sqlite"
is "$RC:$ERR" "100:wb-sqlite: fatal: unable to use $SCRATCH/junk.sqlite: file is not a database" "not a database: refused"

# --rebuild: the whole archive, into any of them, in one transaction.
run env WB_SQLITE="$SCRATCH/v99.sqlite" wb-sqlite --rebuild
is "$RC:$OUT" "0:" "--rebuild exits 0, writes nothing on stdout"
is "$ERR" "wb-sqlite: info: 21 issues indexed into $SCRATCH/v99.sqlite, 0 skipped" "and says what it did"
is "$(sq_rows "$SCRATCH/v99.sqlite")" "$(sq_rows "$DB")" "the rebuilt database equals the one kept by the records"
is "$(sq "$SCRATCH/v99.sqlite" 'PRAGMA user_version; PRAGMA journal_mode')" "2
wal" "schema version 2, WAL mode"
is "$(fts_vocab "$SCRATCH/v99.sqlite" | md5sum)" "$(fts_vocab "$DB" | md5sum)" "the same full-text index"
is "$(find "$SCRATCH" -maxdepth 1 -name '*.rebuild-*' | wc -l)" 0 "no scratch file left"
run env WB_SQLITE="$SCRATCH/foreign.sqlite" wb-sqlite --rebuild
is "$RC:$(sq "$SCRATCH/foreign.sqlite" 'SELECT count(*) FROM issues; PRAGMA user_version; PRAGMA page_size')" "0:21
2
4096" "--rebuild replaces a foreign database too, which keeps its 4 KB pages"
is "$(sq_tokens "$SCRATCH/foreign.sqlite")" "ok 21" "with the packed sizes complete"
run env WB_SQLITE="$SCRATCH/junk.sqlite" wb-sqlite --rebuild
is "$RC:$ERR" "100:wb-sqlite: fatal: unable to use $SCRATCH/junk.sqlite: file is not a database: move it away and run wb-sqlite --rebuild again" "but not a file that is no database"
run env WB_SQLITE="$SCRATCH/new.sqlite" wb-sqlite --rebuild
is "$RC:$(sq "$SCRATCH/new.sqlite" 'SELECT count(*) FROM issues; PRAGMA page_size')" "0:21
16384" "--rebuild creates a missing database, with 16 KB pages"
printf '{"number":7,"title":"tru' >"$D/current/7/issue.json"
run env WB_SQLITE="$SCRATCH/new.sqlite" wb-sqlite --rebuild
is "$RC:$ERR" "1:wb-sqlite: warning: issue 7: $D/current/7/issue.json is not a JSON object: unterminated string at byte 24, skipped
wb-sqlite: warning: 1 issue was not indexed
wb-sqlite: info: 20 issues indexed into $SCRATCH/new.sqlite, 1 skipped" "--rebuild skips a bad issue, said, exit 1"

done_testing
