#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The indexer's pipelines composed by hand with a real Redis:
# wb-dequeue | wb-sqlite | wb-ack (no Elasticsearch), and
# wb-dequeue | wb-sqlite | wb-bulk | wb-ack (both indices); then
# wb-search | wb-enqueue.
. "${0%/*}/lib.sh"
. "${0%/*}/lib-sqlite.sh"
. "${0%/*}/es-double.sh"
plan 13
start_redis

for n in $(seq 1 30); do mk_sq_issue "$D" "$n" $((n % 5 * 2)) "word$n"; done

seq 1 31 | wb-enqueue index 2>/dev/null
is "$(wb-queue length index)" 31 "31 numbers queued for indexing"
run sh -c 'wb-dequeue --delay 0 --once index | wb-sqlite | wb-ack'
is "$RC:$ERR" "0:" "wb-dequeue | wb-sqlite | wb-ack exits 0, silent"
is "$(wb-queue length index)" 0 "the queue is empty: every record acknowledged"
is "$(sq_rows "$DB")" "$(expected_rows "$D" $(seq 1 30))" "the database equals the archive"

# A bad file: not acknowledged, so it stays claimed and comes back.
printf '{"trunc' >"$D/current/7/issue.json"
rm -r "$D/current/8"
mk_sq_issue "$D" 9 4 changed9
wb-enqueue index 7 8 9 2>/dev/null
run sh -c 'wb-dequeue --delay 0 --lease 1 --once index | wb-sqlite | wb-ack'
is "$RC" 0 "the pipeline ends at the end of the queue"
like "$ERR" "issue 7: .* is not a JSON object" "the bad issue said"
is "$(wb-queue --delay 0 stats index | cut -f 1,4)" "queued 1	claimed 1" "only the bad issue is left, claimed (its lease will bring it back)"
is "$(sq "$DB" 'SELECT count(*) FROM issues WHERE number = 8'):$(sq "$DB" "SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'changed9'")" "0:9" "the gone issue removed, the changed one rewritten"

# Both indices from one claim; the bad issue, mended, comes back once its
# lease expired.
start_es
mk_sq_issue "$D" 7 3
wb-enqueue index 10 11 2>/dev/null
expired() { wb-queue --delay 0 stats index | grep -q 'expired 1'; }
wait_for 10 expired
run sh -c 'wb-dequeue --delay 0 --once index | wb-sqlite | wb-bulk | wb-ack'
es POST /_refresh >/dev/null
is "$RC:$(es GET /issues/_count | jq .count)" "0:3" "wb-sqlite | wb-bulk: Elasticsearch fed"
is "$(sq_rows "$DB")" "$(expected_rows "$D" 1 2 3 4 5 6 7 $(seq 9 30))" "and the database equals the archive"
is "$(wb-queue length index)" 0 "every claim acknowledged"

# Search results feed a queue.
wb-search --state open word3 OR word4 OR word13 | wb-enqueue download 2>/dev/null
is "$(wb-queue list download | cut -f 1 | sort -n | tr "\n" " ")" "3 13 " "wb-search | wb-enqueue download"

# No input at all (a pipeline stopped before its first record): the last
# flush has nothing to index (under UBSan it passed qsort a null array).
run sh -c 'wb-sqlite </dev/null'
is "$RC:$OUT:$ERR" "0::" "wb-sqlite with no input exits 0, silent"

done_testing
