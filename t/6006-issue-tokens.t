#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The packed sizes (issue_tokens, issue_tokens_total) equal the full-text
# index's own after first runs, re-runs, shrinking and growing text,
# re-indexed text, gone issues, kill -9 mid-batch and a re-run, --rebuild
# and the upgrade of a version-1 database; wb-search ranks with them when
# their totals are FTS5's, and exactly as bm25 whatever they hold.
. "${0%/*}/lib.sh"
. "${0%/*}/lib-sqlite.sh"
plan 41

mkdir -p "$D/current"
chunks() { sq "$DB" 'SELECT group_concat(chunk, " ") FROM (SELECT chunk FROM issue_tokens ORDER BY chunk)'; }

# A new database: the tables, empty, their totals FTS5's.
run wb-sqlite </dev/null
is "$RC:$(sq "$DB" "PRAGMA user_version; SELECT name FROM sqlite_schema WHERE name LIKE 'issue_tokens%' ORDER BY name")" "0:2
issue_tokens
issue_tokens_total" "a new database has version 2 and both tables"
is "$(sq_tokens "$DB")" "ok 0" "empty, its totals 0 as FTS5's"

# A first run: issues close together and far apart (chunks 0, 1, 2, 68).
for n in $(seq 1 20) 1023 1024 3000 70000; do mk_sq_issue "$D" "$n" $((n % 7 * 3)); done
printf '%s\n' $(seq 1 20) 1023 1024 3000 70000 >"$SCRATCH/in"
run wb-sqlite <"$SCRATCH/in"
is "$RC" 0 "first run"
is "$(sq_tokens "$DB")" "ok 24" "the packed sizes equal %_docsize's, the totals FTS5's"
is "$(chunks)" "0 1 2 68" "one chunk per 1024 numbers that hold an issue"
is "$(sq "$DB" 'SELECT DISTINCT length(sizes) FROM issue_tokens')" 4096 "each 1024 sizes of 4 bytes"
is "$(sq "$DB" 'SELECT hex(substr(sizes, 4 * 1023 + 1, 4)), hex(substr(sizes, 4 * 1022 + 1, 4)) FROM issue_tokens WHERE chunk = 0')" \
	"$(sq "$DB" "CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, issues_fts, 'instance'); SELECT printf('%02X%02X0000', n % 256, n / 256) FROM (SELECT count(*) AS n FROM temp.v WHERE doc = 1023)")	00000000" "issue 1023's size (its token instances) little-endian, 0 where no issue"
sizes=$(sq "$DB" 'SELECT chunk, hex(sizes) FROM issue_tokens ORDER BY chunk' | md5sum)

# A re-run: nothing changed.
run wb-sqlite <"$SCRATCH/in"
is "$RC:$(sq "$DB" 'SELECT chunk, hex(sizes) FROM issue_tokens ORDER BY chunk' | md5sum)" "0:$sizes" "a re-run leaves them as they were"

# Shrinking and growing timelines, a longer and a shorter body (issue.json
# alone changed), gone issues (3000 the only one of its chunk).
mk_sq_issue "$D" 6 2 gone6
mk_sq_issue "$D" 3 0
mk_sq_issue "$D" 1 25 grown1
sed 's/line 1\\nline 7 words/many more words in the body of seven than before/' "$D/current/7/issue.json" >"$SCRATCH/7" && mv "$SCRATCH/7" "$D/current/7/issue.json"
sed 's/line 1\\nline 1024 words/short/' "$D/current/1024/issue.json" >"$SCRATCH/1024" && mv "$SCRATCH/1024" "$D/current/1024/issue.json"
rm -r "$D/current/5" "$D/current/3000"
run sh -c 'printf "%s\n" 6 3 1 7 1024 5 3000 | WB_DEBUG=1 wb-sqlite'
is "$RC:$ERR" "0:wb-sqlite: debug: 5 issues written, 0 unchanged, 2 removed, 1 transactions, 7 records written" "five rewritten, two removed"
is "$(sq_tokens "$DB")" "ok 22" "the packed sizes follow, removed issues 0"
is "$(chunks):$(sq "$DB" 'SELECT sizes = zeroblob(4096) FROM issue_tokens WHERE chunk = 2')" "0 1 2 68:1" "the chunk of no issue left holds zeros"
run wb-sqlite </dev/null
is "$RC:$(chunks)" "0:0 1 68" "the next open removes it"
is "$(sq_tokens "$DB")" "ok 22" "and the rest stays equal"

# Many issues in many transactions, one killed half-way by kill -9; a
# re-run of the records not written out.
for n in $(seq 100 37 11200); do mk_sq_issue "$D" "$n" 60 "$big"; done
seq 100 37 11200 >"$SCRATCH/big"
total=$(wc -l <"$SCRATCH/big")
sq_killed "$SCRATCH/big" "$SCRATCH/k.out" --batch-bytes 200000
is "$?" 137 "killed with SIGKILL"
emitted=$(grep -c '^{"number":[0-9]*}$' "$SCRATCH/k.out")
diag "emitted before the kill: $emitted of $total"
ok "$([ "$emitted" -ge 1 ] && [ "$emitted" -lt "$total" ]; echo $?)" "killed half-way ($emitted of $total written out)"
stored=$(sq "$DB" 'SELECT count(*) FROM issues WHERE number >= 100 AND number NOT IN (1023, 1024, 70000)')
is "$(sq_tokens "$DB")" "ok $((22 + stored))" "the packed sizes equal the index's after the kill ($stored of them stored)"
run wb-sqlite --batch-bytes 200000 <"$SCRATCH/k.out.redo"
is "$RC:$(echo "$OUT" | wc -l)" "0:$((total - emitted))" "the records not written out, done again"
is "$(sq_tokens "$DB")" "ok $((22 + total))" "the packed sizes equal the index's after the re-run"
is "$(chunks | wc -w)" 12 "chunks 0 to 10 and 68"
is "$(wb-search 'lorem OR comment' | jq -r .number | md5sum)" "$(sq "$DB" "SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'lorem OR comment' ORDER BY bm25(issues_fts, 10.0, 3.0, 1.0), rowid" | md5sum)" "matches over 12 chunks: bm25's order"

# --rebuild makes them complete.
run env WB_SQLITE="$SCRATCH/r.sqlite" wb-sqlite --rebuild
is "$RC:$(sq_tokens "$SCRATCH/r.sqlite")" "0:ok $((22 + total))" "--rebuild: complete"
is "$(sq "$SCRATCH/r.sqlite" 'SELECT chunk, hex(sizes) FROM issue_tokens ORDER BY chunk' | md5sum)" \
	"$(sq "$DB" 'SELECT chunk, hex(sizes) FROM issue_tokens ORDER BY chunk' | md5sum)" "the same as those kept by the records"
is "$(sq "$SCRATCH/r.sqlite" 'SELECT * FROM issue_tokens_total')" "$(sq "$DB" 'SELECT * FROM issue_tokens_total')" "the same totals"

# A database of schema version 1 (the same without the two tables):
# refused by wb-search, upgraded in place by wb-sqlite, sizes filled in.
cp "$DB" "$SCRATCH/v1.sqlite"
sq "$SCRATCH/v1.sqlite" 'DROP TABLE issue_tokens; DROP TABLE issue_tokens_total; PRAGMA user_version = 1'
run env WB_SQLITE="$SCRATCH/v1.sqlite" wb-search --count lorem
is "$RC:$ERR" "100:wb-search: fatal: $SCRATCH/v1.sqlite has schema version 1, older than this one's (2): run wb-sqlite once to upgrade it, or wb-sqlite --rebuild" "version 1: wb-search names the upgrade"
run env WB_SQLITE="$SCRATCH/v1.sqlite" wb-sqlite </dev/null
is "$RC:$ERR:$(sq "$SCRATCH/v1.sqlite" 'PRAGMA user_version')" "0::2" "wb-sqlite upgrades it to version 2"
is "$(sq_tokens "$SCRATCH/v1.sqlite")" "ok $((22 + total))" "the packed sizes filled in, complete"
is "$(env WB_SQLITE="$SCRATCH/v1.sqlite" wb-search lorem | md5sum)" "$(wb-search lorem | md5sum)" "and searched as the other"

# The ranking. Issues whose sizes alone tell them apart (the word once
# in each body, padded by 2n words): bm25 ranks the shortest first.
R=$SCRATCH/rank
for n in $(seq 1 12); do
	put "$R" "$n" t "common$(awk -v k=$((2 * n)) 'BEGIN { for (i = 0; i < k; i++) printf " pad%d", i }')"
done
RS="env WB_DATA=$R WB_SQLITE=$R/wb.sqlite"
seq 1 12 | $RS wb-sqlite >/dev/null
bm25=$(sq "$R/wb.sqlite" "SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'common' ORDER BY bm25(issues_fts, 10.0, 3.0, 1.0), rowid" | tr '\n' ' ')
is "$bm25" "1 2 3 4 5 6 7 8 9 10 11 12 " "bm25: the shortest first"
is "$(nums "$($RS wb-search common)")" "$bm25" "wb-search: bm25's order"

# permute DB: issues 1-12's packed sizes reversed (their sum kept).
permute() {
	/usr/bin/python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
b = bytearray(db.execute("SELECT sizes FROM issue_tokens WHERE chunk = 0").fetchone()[0])
v = [b[4 * i:4 * i + 4] for i in range(1, 13)]
for i, s in zip(range(1, 13), reversed(v)):
    b[4 * i:4 * i + 4] = s
db.execute("UPDATE issue_tokens SET sizes = ? WHERE chunk = 0", (bytes(b),))
db.commit()
PY
}
permute "$R/wb.sqlite"
is "$(nums "$($RS wb-search common)")" "12 11 10 9 8 7 6 5 4 3 2 1 " "sizes permuted, the totals still FTS5's: wb-search ranks by the packed sizes"
# tampered SQL NAME: after SQL, wb-search still ranks in bm25's order.
tampered() {
	sq "$R/wb.sqlite" "$1"
	is "$(nums "$($RS wb-search common)")" "$bm25" "$2: bm25's order"
}
tampered 'UPDATE issue_tokens_total SET tokens = tokens + 1' "the totals not FTS5's (%_docsize read instead)"
tampered 'UPDATE issue_tokens_total SET tokens = tokens - 1, issues = issues + 1' "the row count not FTS5's"
tampered 'UPDATE issue_tokens_total SET issues = issues - 1; UPDATE issue_tokens SET sizes = zeroblob(4096)' "sizes 0 (not said: asked of FTS5)"
tampered "UPDATE issue_tokens SET sizes = x'0102'" "a malformed chunk"
tampered 'DELETE FROM issue_tokens' "no chunk"
tampered 'DELETE FROM issue_tokens_total' "no totals"
is "$(sq_tokens "$R/wb.sqlite" | tail -n 1)" "totals [], docsize (12, 180), FTS5 (12, 180)" "the checker sees what is wrong"

# The next wb-sqlite makes them right again.
run $RS wb-sqlite </dev/null
is "$RC:$(sq_tokens "$R/wb.sqlite")" "0:ok 12" "wb-sqlite's open fills them in again"
is "$(nums "$($RS wb-search common)")" "$bm25" "and wb-search ranks with them as bm25"
permute "$R/wb.sqlite"
run $RS wb-sqlite </dev/null
is "$RC:$(sq_tokens "$R/wb.sqlite")" "0:ok 12" "sizes permuted (totals right): put right too"
is "$(nums "$($RS wb-search --limit 3 common)")" "1 2 3 " "the best 3"

done_testing
