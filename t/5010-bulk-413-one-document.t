#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# A single document over http.max_content_length whose 413 is lost to a
# connection reset (the server answers and closes without reading the
# body; the client, still sending it, sees the reset) must not be taken
# for an outage and retried forever: wb-bulk sends it again with
# "Expect: 100-continue", which lets the server refuse it before any of
# the body is sent, and reports it as refused (issue 4, "noticed and
# left").
. "${0%/*}/lib.sh"
. "${0%/*}/es-double.sh"
plan 7

D=$SCRATCH/data
WB_DATA=$D
export WB_DATA
for n in 1 2; do mk_issue "$D" $n 2; done
# Issue 1 alone is over the limit: a body of 3,000 bytes.
body=$(awk 'BEGIN { for (i = 0; i < 300; i++) printf "0123456789" }')
printf '{"number":1,"title":"large","body":"%s"}' "$body" >"$D/current/1/issue.json"
start_es --max-content-length 1500
es POST /_double/faults '{"reset_413": 1000000}' >/dev/null

NAME="one document too large, its 413 lost"
run sh -c 'seq 1 2 | timeout 20 wb-bulk'
is "$RC:$OUT" '1:{"number":2}' "$NAME: the other issue is written out, not this one"
is "$ERR" "wb-bulk: warning: issue 1: document 1 refused: HTTP 413: larger than the server's http.max_content_length
wb-bulk: warning: 1 issue was not indexed" "$NAME: refused for its size, not taken for an outage"
is "$(es GET /_double/stats | jq '.rejected_413 > 0 and .bulk_max_bytes <= 1500')" true "$NAME: no request over the limit was taken"
es POST /_refresh >/dev/null
is "$(es_docs issues | cut -f1 | tr '\n' ' ')" "2 " "$NAME: the large issue is not in the index"
is "$(es_docs timelines | grep '^2-')" "$(expected_docs "$D" timelines 2)" "$NAME: the other issue is"

NAME="a real outage on one document"
stop_es
run sh -c "echo 2 | WB_ES=http://127.0.0.1:$ES_PORT timeout 2 wb-bulk"
is "$RC:$OUT" "124:" "$NAME: retried until stopped, nothing written"
like "$ERR" "^wb-bulk: warning: Elasticsearch at http://127.0.0.1:$ES_PORT: [A-Z].*; retrying until it answers\$" "$NAME: said once, as an outage"
done_testing
