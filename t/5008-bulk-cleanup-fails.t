#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-bulk when removing stale documents fails after the documents went in:
# a _delete_by_query that reports failures or times out, a _refresh
# refused, are tried a bounded number of times; then the batch's records
# are not written out (their claims come back), it is said once until it
# works again, and the pipeline goes on (review findings 9 and 10).
. "${0%/*}/lib.sh"
. "${0%/*}/es-double.sh"
plan 16

mk_archive
start_es
faults() { es POST /_double/faults "$1" >/dev/null; }
stuck="stale documents not removed, their issues not acknowledged until it works"

NAME="a delete-by-query that keeps failing"
faults '{"dbq_failure": 1000000}'
run sh -c 'seq 1 3 | timeout 30 wb-bulk --batch-docs 4'
is "$RC:$OUT" "1:" "$NAME: nothing written out, and it ends"
is "$ERR" "wb-bulk: warning: _delete_by_query failed 3 times (HTTP 429): 1 failures, the first: es_rejected_execution_exception: injected: rejected execution of delete; $stuck
wb-bulk: warning: 3 issues were not indexed" "$NAME: said once for three batches"
is "$(es GET /_double/stats | jq .faults)" 9 "$NAME: three tries for each of the three batches"

NAME="a delete-by-query that fails for a while"
faults '{"dbq_failure": 3}'
run sh -c 'seq 1 3 | timeout 30 wb-bulk --batch-docs 4'
is "$RC:$OUT" '1:{"number":2}
{"number":3}' "$NAME: the batches after it are written out"
is "$ERR" "wb-bulk: warning: _delete_by_query failed 3 times (HTTP 429): 1 failures, the first: es_rejected_execution_exception: injected: rejected execution of delete; $stuck
wb-bulk: info: stale documents are removed again
wb-bulk: warning: 1 issue was not indexed" "$NAME: said, and when it is over"

NAME="a delete-by-query that times out"
faults '{"dbq_timeout": 1000000}'
run sh -c 'echo 1 | timeout 30 wb-bulk'
is "$RC:$OUT:$ERR" "1::wb-bulk: warning: _delete_by_query failed 3 times (HTTP 408): timed out; $stuck
wb-bulk: warning: 1 issue was not indexed" "$NAME: not written out, said"

NAME="a refresh refused"
faults '{"refresh_400": 1000000}'
run sh -c 'printf "2\n2\n" | timeout 30 wb-bulk'
is "$RC:$OUT" '1:{"number":2}' "$NAME: the issue indexed moments ago is not written out the second time"
is "$ERR" "wb-bulk: warning: _refresh refused 3 times (HTTP 400): {\"error\":{\"root_cause\":[{\"type\":\"index_closed_exception\",\"reason\":\"injected: closed\"}],\"type\":\"index_closed_exception\",\"reason\":\"injected: closed\"},\"status\":400}; $stuck
wb-bulk: warning: 1 issue was not indexed" "$NAME: said once"
is "$(es GET /_double/log | jq -r '.[-4:][]' | sed 's/?.*//')" "POST /_bulk
POST /issues,timelines/_refresh
POST /issues,timelines/_refresh
POST /issues,timelines/_refresh" "$NAME: no delete-by-query without it"
faults '{}'
run sh -c 'seq 1 3 | wb-bulk'
is "$RC:$OUT:$ERR" '0:{"number":1}
{"number":2}
{"number":3}:' "once it works, every issue is written out"

NAME="the documents in, the delete failed, in the indexer pipeline"
start_redis
mk_issue "$D" 5 4
run sh -c 'echo 5 | wb-bulk'
is "$RC:$OUT" '0:{"number":5}' "$NAME: an issue of 4 events indexed"
mk_issue "$D" 5 2
sed 's/"bot"/"bot2"/g' "$D/current/5/timeline.json" >"$SCRATCH/t" && mv "$SCRATCH/t" "$D/current/5/timeline.json"
faults '{"dbq_timeout": 1000000}'
echo 5 | wb-enqueue index 2>/dev/null
run sh -c 'wb-dequeue --delay 0 --once --lease 1 index | wb-bulk | wb-ack'
is "$ERR" "wb-bulk: warning: _delete_by_query failed 3 times (HTTP 408): timed out; $stuck
wb-bulk: warning: 1 issue was not indexed" "$NAME: said"
es POST /_refresh >/dev/null
is "$(es_docs timelines | grep '^5-' | jq -Rr 'split("\t") | "\(.[0]) \(.[1] | fromjson | .actor.login)"')" "5-0 bot2
5-1 bot2
5-2 bot
5-3 bot" "$NAME: the new documents are in, the stale ones are not removed"
is "$(wb-queue length index)" 1 "$NAME: its claim is not acknowledged: still queued"
faults '{}'
wait_for 10 sh -c 'wb-dequeue --delay 0 --once index | wb-bulk | wb-ack; [ "$(wb-queue length index)" = 0 ]'
ok $? "$NAME: done once the delete works, when the lease expires"
es POST /_refresh >/dev/null
is "$(es_docs timelines | grep '^5-')" "$(expected_docs "$D" timelines 5)" "$NAME: the index equals the archive"
done_testing
