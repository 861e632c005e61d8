#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Elasticsearch answers 413 to a request over http.max_content_length and
# closes without reading the body: a client still uploading often sees its
# connection reset instead of the answer. wb-bulk splits a request of
# several documents that met a transport error as it splits on 413, so it
# converges instead of sending the same body forever (review finding 7).
. "${0%/*}/lib.sh"
. "${0%/*}/es-double.sh"
plan 6

D=$SCRATCH/data
WB_DATA=$D
export WB_DATA
for n in 1 2 3 4; do mk_issue "$D" $n 3; done
all='{"number":1}
{"number":2}
{"number":3}
{"number":4}'
start_es --max-content-length 1500

NAME="413 answered"
run sh -c 'seq 1 4 | timeout 30 wb-bulk'
is "$RC:$OUT:$ERR" "0:$all:" "$NAME: split until the requests fit"
is "$(es GET /_double/stats | jq '.rejected_413 > 0 and .bulk_max_bytes <= 1500')" true "$NAME: the server refused, and took no request over its limit"

NAME="413 lost to a reset"
es POST /_double/faults '{"reset_413": 1000000}' >/dev/null
es DELETE /_double/stats >/dev/null
run sh -c 'seq 1 4 | timeout 30 wb-bulk'
is "$RC:$OUT" "0:$all" "$NAME: split until the requests fit"
is "$ERR" "" "$NAME: nothing to say"
is "$(es GET /_double/stats | jq '.rejected_413 > 0 and .bulk_max_bytes <= 1500')" true "$NAME: no request over the limit was taken"
es POST /_refresh >/dev/null
is "$(es_docs issues; es_docs timelines)" "$(expected_docs "$D" issues 1 2 3 4; expected_docs "$D" timelines 1 2 3 4)" "$NAME: the index equals the archive"
done_testing
