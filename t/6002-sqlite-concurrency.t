#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-sqlite and others on the same database: a reader holding a long read
# transaction does not stop it, nor sees its commits before it ends; a
# writer holding the lock is waited for; a dead reader of stdout ends the
# wait; kill -9 in the middle leaves a consistent database whose emitted
# records are all committed, and a re-run of the others completes it.
. "${0%/*}/lib.sh"
. "${0%/*}/lib-sqlite.sh"
plan 42

for n in $(seq 1 20); do mk_sq_issue "$D" "$n" 6; done
seq 1 20 | wb-sqlite >/dev/null

# shell_on NAME [DB]: a sqlite3 shell on DB ($DB) fed through a FIFO on
# fd 4, its output in $SCRATCH/NAME.out; stopped at exit.
shell_on() {
	mkfifo "$SCRATCH/$1.in"
	sqlite3 -batch "${2:-$DB}" <"$SCRATCH/$1.in" >"$SCRATCH/$1.out" 2>&1 &
	SHELL_PID=$!
	atexit "kill $SHELL_PID 2>/dev/null"
	exec 4>"$SCRATCH/$1.in"
}
lines() { [ "$(wc -l <"$1")" -ge "$2" ]; }

# A long read transaction.
shell_on reader
echo "BEGIN; SELECT count(*) FROM issues;" >&4
wait_for 10 lines "$SCRATCH/reader.out" 1
is "$(cat "$SCRATCH/reader.out")" 20 "the reader's transaction is open"
for n in $(seq 21 30); do mk_sq_issue "$D" "$n" 6; done
rm -r "$D/current/1"
seq 1 30 >"$SCRATCH/in"
run wb-sqlite <"$SCRATCH/in"
is "$RC:$(echo "$OUT" | wc -l)" "0:30" "wb-sqlite commits and writes everything out while the reader reads"
is "$(sq "$DB" 'SELECT count(*) FROM issues')" 29 "others see the new rows"
echo "SELECT count(*) FROM issues; SELECT count(*) FROM timelines WHERE number = 1;" >&4
wait_for 10 lines "$SCRATCH/reader.out" 3
is "$(sed -n '2,3p' "$SCRATCH/reader.out" | tr '\n' ' ')" "20 6 " "the reader still sees its snapshot"
echo "COMMIT; SELECT count(*) FROM issues;" >&4
wait_for 10 lines "$SCRATCH/reader.out" 4
is "$(sed -n 4p "$SCRATCH/reader.out")" 29 "and the new rows once its transaction ended"
exec 4>&-
wait "$SHELL_PID"

# Another writer holds the lock: waited for, nothing written out meanwhile.
shell_on writer
echo "BEGIN IMMEDIATE; SELECT 'locked';" >&4
wait_for 10 lines "$SCRATCH/writer.out" 1
mk_sq_issue "$D" 2 9 lockword
echo 2 | wb-sqlite >"$SCRATCH/w.out" 2>"$SCRATCH/w.err" &
wpid=$!
wait_for 1 test -s "$SCRATCH/w.out"
is "$?:$(cat "$SCRATCH/w.out")" "1:" "nothing written out while the database is locked (1 s)"
ok "$(kill -0 "$wpid"; echo $?)" "wb-sqlite waits, it did not fail"
echo "COMMIT;" >&4
wait_for 10 test -s "$SCRATCH/w.out"
wait "$wpid"
is "$?:$(cat "$SCRATCH/w.out"):$(cat "$SCRATCH/w.err")" '0:{"number":2}:' "once the lock is released: committed, written out, exit 0"
is "$(sq "$DB" 'SELECT count(*) FROM timelines WHERE number = 2')" 9 "and the rows are in"

# The same wait, and the reader of stdout dies: it stops, writing nothing.
echo "BEGIN IMMEDIATE; SELECT 'locked again';" >&4
wait_for 10 lines "$SCRATCH/writer.out" 2
mk_sq_issue "$D" 3 12
mkfifo "$SCRATCH/out.fifo"
cat "$SCRATCH/out.fifo" >"$SCRATCH/cat.out" &
cpid=$!
echo 3 | wb-sqlite >"$SCRATCH/out.fifo" 2>"$SCRATCH/g.err" &
wpid=$!
is_ours() { [ "$(readlink "/proc/$wpid/exe")" != "$(readlink "/proc/$$/exe")" ]; }
wait_for 10 is_ours
kill "$cpid"
gone() { ! kill -0 "$wpid" 2>/dev/null; }
wait_for 10 gone
ok $? "wb-sqlite ends once the reader of its output is gone"
wait "$wpid"
is "$?:$(cat "$SCRATCH/g.err")" "111:wb-sqlite: fatal: standard output's reader is gone while $DB was busy" "exit 111, said"
echo "COMMIT;" >&4
exec 4>&-
wait "$SHELL_PID"
is "$(sq "$DB" 'SELECT count(*) FROM timelines WHERE number = 3')" 6 "issue 3 not rewritten"

# Waiting for input, a batch pending, and the reader of stdout dies: it
# stops at once, writing nothing, committing nothing.
mkfifo "$SCRATCH/in2.fifo" "$SCRATCH/out2.fifo"
cat "$SCRATCH/out2.fifo" >"$SCRATCH/cat2.out" &
cpid=$!
mk_sq_issue "$D" 4 3 pendingword
wb-sqlite --idle 600 <"$SCRATCH/in2.fifo" >"$SCRATCH/out2.fifo" 2>"$SCRATCH/p.err" &
wpid=$!
exec 5>"$SCRATCH/in2.fifo"
echo 4 >&5
wait_for 10 is_ours
kill "$cpid"
wait_for 10 gone
ok $? "waiting for input, wb-sqlite ends once the reader of its output is gone"
gone || kill -9 "$wpid"
wait "$wpid"
is "$?:$(cat "$SCRATCH/p.err")" "111:wb-sqlite: fatal: standard output's reader is gone, stopping" "exit 111, said"
exec 5>&-
is "$(sq "$DB" "SELECT count(*) FROM issues_fts WHERE issues_fts MATCH 'pendingword'")" 0 "the pending batch was not committed"

# kill -9 in the middle: many transactions, one killed half-way.
for n in $(seq 100 399); do mk_sq_issue "$D" "$n" 60 "$big"; done
seq 100 399 >"$SCRATCH/big"
sq_killed "$SCRATCH/big" "$SCRATCH/k.out" --batch-bytes 200000
is "$?" 137 "killed with SIGKILL"
emitted=$(grep -c '^{"number":[0-9]*}$' "$SCRATCH/k.out")
diag "emitted before the kill: $emitted of 300"
ok "$([ "$emitted" -ge 1 ] && [ "$emitted" -lt 300 ]; echo $?)" "killed half-way ($emitted of 300 written out)"
is "$(sq "$DB" 'PRAGMA integrity_check')" ok "the database is consistent"
is "$(sq "$DB" "INSERT INTO issues_fts(issues_fts) VALUES('integrity-check'); SELECT 'fts ok'")" "fts ok" "its full-text index too"
done_n=$(sed 's/[^0-9]//g' "$SCRATCH/k.out" | tr '\n' ' ')
is "$(sq "$DB" "SELECT count(*) FROM issues WHERE number IN ($(echo "$done_n" | sed 's/ $//; s/ /,/g'))")" "$emitted" "every issue written out is committed"
# shellcheck disable=SC2086
is "$(sq_rows "$DB" | grep -E "^[it]	($(echo "$done_n" | sed 's/ $//; s/ /|/g'))	" | md5sum)" "$(expected_rows "$D" $done_n | md5sum)" "and equal to the archive"
stored=$(sq "$DB" 'SELECT count(*) FROM issues WHERE number >= 100')
ok "$([ "$stored" -ge "$emitted" ] && [ "$stored" -lt 300 ]; echo $?)" "the transaction cut short left nothing ($stored stored, transactions of whole issues)"
run wb-sqlite <"$SCRATCH/k.out.redo"
is "$RC:$(echo "$OUT" | wc -l)" "0:$((300 - emitted))" "the records not written out, done again"
printf '3\n4\n' | wb-sqlite >/dev/null    # not acknowledged above either
is "$(sq_rows "$DB" | md5sum)" "$(expected_rows "$D" $(seq 2 30) $(seq 100 399) | md5sum)" "the database equals the archive"
is "$(fts_vocab "$DB" | md5sum)" "$(fts_rebuilt "$DB" | md5sum)" "and so does its full-text index"

# A long indexing keeps its -wal file small: written again from its
# start every two transactions (not growing with all that is written).
# A reader kept open keeps the file as it is when wb-sqlite exits.
W=$SCRATCH/wal.sqlite
WB_SQLITE=$W wb-sqlite </dev/null
shell_on wal "$W"
wal_pid=$SHELL_PID
echo "SELECT count(*) FROM issues;" >&4
wait_for 10 lines "$SCRATCH/wal.out" 1
WB_SQLITE=$W wb-sqlite --batch-bytes 1000000 <"$SCRATCH/big" >/dev/null
wal=$(stat -c %s "$W-wal")
diag "-wal file after 20 MB of JSON in 1 MB transactions: $wal bytes"
ok "$([ "$wal" -lt 6000000 ]; echo $?)" "the -wal file stays under 6 MB ($wal bytes)"
exec 4>&-
wait "$wal_pid"

# --rebuild, nobody else on the database: the new file is renamed over
# the old one (written once), which goes with its -wal file.
ino() { stat -c %i "$1"; }
R=$SCRATCH/r.sqlite
WB_SQLITE=$R wb-sqlite <"$SCRATCH/big" >/dev/null
before=$(ino "$R")
run env WB_SQLITE="$R" wb-sqlite --rebuild
is "$RC:$ERR" "0:wb-sqlite: info: 329 issues indexed into $R, 0 skipped" "--rebuild alone: exit 0"
isnt "$(ino "$R")" "$before" "a new file took the database's name"
is "$(sq "$R" 'PRAGMA journal_mode; PRAGMA integrity_check')" "wal
ok" "in WAL mode, consistent"
is "$(sq_rows "$R" | md5sum)" "$(expected_rows "$D" $(seq 2 30) $(seq 100 399) | md5sum)" "equal to the archive"
is "$(find "$SCRATCH" -maxdepth 1 -name 'r.sqlite*' | sort | tr '\n' ' ')" "$R " "no -wal, -shm nor scratch file left"

# --rebuild where there is no database, but a -wal file left (copied
# from a writer at work on a copy of it): not taken for the new file's.
cp "$R" "$SCRATCH/x.sqlite"
shell_on stale "$SCRATCH/x.sqlite"
stale_pid=$SHELL_PID
echo "PRAGMA wal_autocheckpoint = 0; DELETE FROM issues WHERE number > 10; SELECT 'deleted';" >&4
wait_for 10 lines "$SCRATCH/stale.out" 2
cp "$SCRATCH/x.sqlite-wal" "$R-wal"
exec 4>&-
wait "$stale_pid"
rm "$R"
run env WB_SQLITE="$R" wb-sqlite --rebuild
is "$RC:$(sq "$R" 'SELECT count(*) FROM issues; PRAGMA integrity_check')" "0:329
ok" "--rebuild with only a stale -wal file left: the archive's rows, consistent"

# --rebuild while a reader holds the database open: copied in, in one
# transaction (the reader's file stays the database), and the reader
# sees the new rows once its transaction ends.
shell_on rb "$R"
rb_pid=$SHELL_PID
echo "BEGIN; SELECT count(*) FROM issues;" >&4
wait_for 10 lines "$SCRATCH/rb.out" 1
rm -r "$D/current/2"
before=$(ino "$R")
run env WB_SQLITE="$R" wb-sqlite --rebuild
is "$RC:$ERR" "0:wb-sqlite: info: 328 issues indexed into $R, 0 skipped" "--rebuild with a reader: exit 0"
is "$(ino "$R")" "$before" "the reader's file is still the database"
echo "SELECT count(*) FROM issues; COMMIT; SELECT count(*) FROM issues; PRAGMA integrity_check;" >&4
wait_for 10 lines "$SCRATCH/rb.out" 4
is "$(tr '\n' ' ' <"$SCRATCH/rb.out")" "329 329 328 ok " "the reader: its snapshot, then the new database, consistent"
is "$(find "$SCRATCH" -maxdepth 1 -name 'r.sqlite*' | sort | tr '\n' ' ')" "$R $R-shm $R-wal " "no scratch file left (the -wal and -shm are the reader's)"

# kill -9 in the middle of --rebuild, the reader still there: the
# database is the old one, consistent; the next --rebuild removes the
# scratch file left.
mk_sq_issue "$D" 2 6
echo "BEGIN; SELECT count(*) FROM issues;" >&4
wait_for 10 lines "$SCRATCH/rb.out" 5
before=$(sq_rows "$R" | md5sum)
WB_SQLITE=$R wb-sqlite --rebuild 2>/dev/null 4>&- &
kpid=$!
scratch_grew() { [ "$(stat -c %s "$R.rebuild-$kpid" 2>/dev/null || echo 0)" -gt 1000000 ]; }
wait_for 20 scratch_grew
kill -9 "$kpid"
wait "$kpid"
is "$?" 137 "--rebuild killed with SIGKILL half-way"
echo "SELECT count(*) FROM issues; COMMIT; SELECT count(*) FROM issues; PRAGMA integrity_check;" >&4
wait_for 10 lines "$SCRATCH/rb.out" 8
is "$(sed -n '6,8p' "$SCRATCH/rb.out" | tr '\n' ' ')" "328 328 ok " "the reader goes on, consistent"
is "$(sq "$R" 'PRAGMA integrity_check'):$(sq_rows "$R" | md5sum)" "ok:$before" "the database is the old one"
exec 4>&-
wait "$rb_pid"
run env WB_SQLITE="$R" wb-sqlite --rebuild
is "$RC:$(echo "$ERR" | grep -v "^wb-sqlite: info: removed $R.rebuild-$kpid-[ws][ah][lm], left by a rebuild that died$")" "0:wb-sqlite: info: removed $R.rebuild-$kpid, left by a rebuild that died
wb-sqlite: info: 329 issues indexed into $R, 0 skipped" "the next --rebuild removes the dead one's scratch file"
is "$(find "$SCRATCH" -maxdepth 1 -name 'r.sqlite.*' | wc -l)" 0 "and its -wal and -shm, if any"
is "$(sq_rows "$R" | md5sum)" "$(expected_rows "$D" $(seq 2 30) $(seq 100 399) | md5sum)" "and the database equals the archive"

# A reader that opened the old file just before a rename waits for the
# lock, then finds it moved and opens the new one (what it would read
# in the old file is what it must not see).
cp "$R" "$SCRATCH/new.sqlite"
sq "$SCRATCH/new.sqlite" 'DELETE FROM issues WHERE number > 200'
shell_on lk "$R"
lk_pid=$SHELL_PID
echo "PRAGMA journal_mode = DELETE; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; SELECT 'locked';" >&4
wait_for 10 lines "$SCRATCH/lk.out" 3
WB_SQLITE=$R wb-search --count >"$SCRATCH/s.out" 2>"$SCRATCH/s.err" 4>&- &
spid=$!
has_open() {
	for _fd in /proc/"$spid"/fd/*; do
		[ "$(readlink "$_fd")" = "$R" ] && return 0
	done
	return 1
}
wait_for 10 has_open
mv "$SCRATCH/new.sqlite" "$R"
echo "COMMIT;" >&4
exec 4>&-
wait "$lk_pid"
wait "$spid"
is "$?:$(cat "$SCRATCH/s.out"):$(cat "$SCRATCH/s.err")" "0:130:" "wb-search counts the new database's issues, not the old file's"

done_testing
