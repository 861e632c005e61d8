#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-bulk when Elasticsearch misbehaves: items refused for now (429, 5xx)
# or for good, whole requests failing, garbage answers, dropped and refused
# connections (a request of one document retried, one of several split), 413 above the content length; credentials; a record alone
# in a pipeline indexed at once, and held back until all its documents are
# in; the refresh before removing stale events of an issue indexed moments
# ago.
. "${0%/*}/lib.sh"
. "${0%/*}/es-double.sh"
plan 47

mk_archive
all='{"number":1}
{"number":2}
{"number":3}'
start_es
W=http://127.0.0.1:$ES_PORT

faults() { es POST /_double/faults "$1" >/dev/null; }
index_is_archive() {
	es POST /_refresh >/dev/null
	is "$(es_docs issues; es_docs timelines)" "$(expected_docs "$D" issues "$@"; expected_docs "$D" timelines "$@")" "$NAME: the index equals the archive"
}

NAME="429 on items"
faults '{"item_429": {"2-1": 3, "3": 1}}'
run sh -c 'seq 1 3 | wb-bulk'
is "$RC:$OUT" "0:$all" "$NAME: retried until in, every record out"
is "$ERR" "" "$NAME: nothing to report"
is "$(es GET /_double/stats | jq .faults)" 4 "$NAME: four refusals happened"
index_is_archive 1 2 3

NAME="503 on items"
es DELETE /_double/stats >/dev/null
faults '{"item_503": {"1-0": 2}}'
run sh -c 'seq 1 3 | wb-bulk'
is "$RC:$OUT:$ERR" "0:$all:" "$NAME: retried until in"
is "$(es GET /_double/stats | jq -c '[.faults, .bulk]')" "[2,3]" "$NAME: only the refused item sent again, twice"

NAME="a mapping error"
faults '{"item_400": ["2-0"]}'
run sh -c 'seq 1 3 | wb-bulk'
is "$RC:$OUT" '1:{"number":1}
{"number":3}' "$NAME: the issue is not written out, the others are"
is "$ERR" "wb-bulk: warning: issue 2: document 2-0 refused: mapper_parsing_exception: failed to parse field [created_at] of type [date] in document with id '2-0'
wb-bulk: warning: 1 issue was not indexed" "$NAME: reported with the issue number and the reason"

NAME="503 on whole requests"
faults '{"http_503": 2}'
run sh -c 'seq 1 3 | wb-bulk'
is "$RC:$OUT" "0:$all" "$NAME: retried until in"
is "$ERR" "wb-bulk: warning: Elasticsearch at $W: HTTP 503: {\"error\":{\"root_cause\":[{\"type\":\"cluster_block_exception\",\"reason\":\"injected: no master\"}],\"type\":\"cluster_block_exception\",\"reason\":\"injected: no master\"},\"status\":503}; retrying until it answers
wb-bulk: info: Elasticsearch at $W answers again" "$NAME: said once, and when it is over"

NAME="a garbled answer"
faults '{"garbage": 1}'
run sh -c 'seq 1 3 | wb-bulk'
is "$RC:$OUT" "0:$all" "$NAME: sent again"
like "$ERR" "^wb-bulk: warning: Elasticsearch at $W: answer is not JSON: .*; retrying until it answers\$" "$NAME: reported"
is "$(printf '%s\n' "$ERR" | wc -l)" 2 "$NAME: once"

NAME="answers that break the API"
faults '{"bad_answer": ["short", "wrong_id", "no_status", "errors_lie", "not_object"]}'
run sh -c 'seq 1 3 | wb-bulk'
is "$RC:$OUT" "0:$all" "$NAME: sent again until a good one"
is "$(printf '%s\n' "$ERR" | sed -n 1p)" "wb-bulk: warning: Elasticsearch at $W: answer has 11 items for 12 documents; retrying until it answers" "$NAME: reported once per outage"
for lie in wrong_id no_status errors_lie not_object; do
	faults "{\"bad_answer\": [\"$lie\"]}"
	run sh -c 'seq 1 3 | wb-bulk'
	printf '%s\n' "$ERR" | sed -n 1p
done >"$SCRATCH/lies"
is "$(sed "s|^wb-bulk: warning: Elasticsearch at $W: ||; s|; retrying until it answers\$||" "$SCRATCH/lies")" "item 11 is not about document 3-2
item 0 (1) has no valid status
answer says no errors but an item failed
answer is not a JSON object" "$NAME: each named"

NAME="a dropped connection"
faults '{"drop": 2}'
run sh -c 'seq 1 3 | wb-bulk --batch-docs 1'
is "$RC:$OUT" "0:$all" "$NAME: sent again"
like "$ERR" "^wb-bulk: warning: Elasticsearch at $W: [A-Z][^:]*; retrying until it answers\$" "$NAME: reported once, the cause without the URL"
is "$(printf '%s\n' "$ERR" | wc -l)" 2 "$NAME: one outage, one recovery"
index_is_archive 1 2 3
faults '{"drop": 2}'
run sh -c 'seq 1 3 | wb-bulk'
is "$RC:$OUT:$ERR" "0:$all:" "$NAME: a request of several documents is split instead, unsaid"

NAME="unreachable"
port=$(free_port)
seq 1 3 >"$SCRATCH/in3"
WB_ES=http://127.0.0.1:$port wb-bulk <"$SCRATCH/in3" >"$SCRATCH/out3" 2>"$SCRATCH/err3" &
pid=$!
atexit "kill $pid 2>/dev/null"
wait_for 10 grep -q 'retrying until it answers' "$SCRATCH/err3"
ok $? "$NAME: reported while it lasts"
is "$(cat "$SCRATCH/out3")" "" "$NAME: nothing written out meanwhile"
old_pid=$ES_PID
start_es --port "$port"
wait $pid
is "$?:$(cat "$SCRATCH/out3")" "0:$all" "$NAME: indexed once it answers"
is "$(sed "s|$port: .*; retrying|$port: ...; retrying|" "$SCRATCH/err3")" "wb-bulk: warning: Elasticsearch at http://127.0.0.1:$port: ...; retrying until it answers
wb-bulk: info: Elasticsearch at http://127.0.0.1:$port answers again" "$NAME: one message per outage"
kill "$ES_PID"
ES_PID=$old_pid
ES_URL=$W

NAME="413"
start_es --max-content-length 1500
for n in 11 12 13; do mk_issue "$D" $n 2; done
printf '{"number":14,"body":"%s"}' "$(head -c 2000 /dev/zero | tr '\0' x)" >"$D/current/11/x"
mkdir -p "$D/current/14"
mv "$D/current/11/x" "$D/current/14/issue.json"
echo '[]' >"$D/current/14/timeline.json"
run sh -c 'seq 11 14 | wb-bulk'
is "$RC:$OUT" '1:{"number":11}
{"number":12}
{"number":13}' "$NAME: requests split until they fit"
is "$ERR" "wb-bulk: warning: issue 14: document 14 refused: HTTP 413: larger than the server's http.max_content_length
wb-bulk: warning: 1 issue was not indexed" "$NAME: a document too large alone is reported"
is "$(es GET /_double/stats | jq '.rejected_413 > 0 and .bulk_max_bytes <= 1500')" true "$NAME: no request above the limit was taken"
index_is_archive 11 12 13
kill "$ES_PID"

NAME="API key"
start_es --api-key 'c2VjcmV0OmtleQ=='
run sh -c 'seq 1 3 | WB_ES_API_KEY=c2VjcmV0OmtleQ== wb-bulk'
is "$RC:$OUT:$ERR" "0:$all:" "$NAME: sent"
run sh -c 'seq 1 3 | WB_ES_API_KEY=d3Jvbmc6a2V5 wb-bulk'
is "$RC:$OUT:$ERR" "100::wb-bulk: fatal: Elasticsearch at http://127.0.0.1:$ES_PORT refuses our credentials (HTTP 401)" "$NAME: a wrong key is fatal, and not printed"
run sh -c 'seq 1 3 | wb-bulk'
is "$RC" 100 "$NAME: no key is fatal"
run sh -c 'seq 1 3 | WB_ES_API_KEY="a b
X-Evil: 1" wb-bulk'
is "$RC:$ERR" "100:wb-bulk: fatal: WB_ES_API_KEY is not an API key (base64 characters only)" "$NAME: a key that would break the header is refused, unprinted"
kill "$ES_PID"

NAME="user:password"
start_es --basic 'elastic:s3cret'
run sh -c "seq 1 3 | WB_ES=http://elastic:s3cret@127.0.0.1:$ES_PORT wb-bulk"
is "$RC:$OUT:$ERR" "0:$all:" "$NAME: sent"
run sh -c "seq 1 3 | WB_ES=http://elastic:wrong@127.0.0.1:$ES_PORT wb-bulk"
is "$RC:$ERR" "100:wb-bulk: fatal: Elasticsearch at http://***@127.0.0.1:$ES_PORT refuses our credentials (HTTP 401)" "$NAME: refused, the password not printed"
run sh -c "seq 1 3 | WB_ES=http://elastic:wrong@127.0.0.1:$(free_port) wb-bulk & p=\$!; sleep 0.5; kill \$p"
unlike "$ERR" "wrong" "$NAME: not printed in transport errors either"
kill "$ES_PID"

NAME="HTTPS"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$SCRATCH/key.pem" \
	-out "$SCRATCH/cert.pem" 2>/dev/null
start_es --tls "$SCRATCH/cert.pem" "$SCRATCH/key.pem"
run sh -c "seq 1 3 | CURL_CA_BUNDLE='$SCRATCH/cert.pem' WB_ES=https://127.0.0.1:$ES_PORT wb-bulk"
is "$RC:$OUT:$ERR" "0:$all:" "$NAME: a server whose CA is in CURL_CA_BUNDLE"
WB_ES=https://127.0.0.1:$ES_PORT wb-bulk <"$SCRATCH/in3" >"$SCRATCH/out4" 2>"$SCRATCH/err4" &
pid=$!
wait_for 10 grep -q 'retrying until it answers' "$SCRATCH/err4"
ok $? "$NAME: an unknown CA is refused, and retried"
kill $pid
like "$(cat "$SCRATCH/err4")" "^wb-bulk: warning: Elasticsearch at https://127.0.0.1:$ES_PORT: .*certificate.*; retrying until it answers\$" "$NAME: the reason given"
kill "$ES_PID"

NAME="a lone record"
start_es --refresh-interval 3600
mkfifo "$SCRATCH/fifo"
wb-bulk --idle 0.2 <"$SCRATCH/fifo" >"$SCRATCH/out" 2>"$SCRATCH/err" &
pid=$!
atexit "kill $pid 2>/dev/null"
exec 3>"$SCRATCH/fifo"
faults '{"item_429": {"2-1": 1000000}}'
echo 1 >&3
wait_for 10 grep -q '{"number":1}' "$SCRATCH/out"
ok $? "$NAME: indexed and written out while input stays open"
echo 2 >&3
wait_for 10 sh -c "[ \$(curl -s $ES_URL/_double/stats | jq .faults) -ge 3 ]"
ok $? "$NAME: its event refused for now, again and again"
is "$(cat "$SCRATCH/out")" '{"number":1}' "$NAME: not written out while a document is missing"
faults '{}'
wait_for 10 grep -q '{"number":2}' "$SCRATCH/out"
ok $? "$NAME: written out once all its documents are in"

NAME="an issue indexed moments ago"
mk_issue "$D" 7 5
echo 7 >&3
wait_for 10 grep -q '{"number":7}' "$SCRATCH/out"
mk_issue "$D" 7 2
l0=$(es GET /_double/log | jq length)
echo 7 >&3
wait_for 10 sh -c "[ \$(grep -c '{\"number\":7}' '$SCRATCH/out') -eq 2 ]"
ok $? "$NAME: indexed again"
is "$(es GET /_double/log | jq -r ".[$l0:][]" | sed 's/?.*//')" "POST /_bulk
POST /issues,timelines/_refresh
POST /issues,timelines/_delete_by_query" "$NAME: a refresh before the delete-by-query"
es POST /_refresh >/dev/null
is "$(es_docs timelines | grep '^7-')" "$(expected_docs "$D" timelines 7)" "$NAME: its stale events are gone all the same"
exec 3>&-
wait $pid
is "$?:$(cat "$SCRATCH/err")" "0:" "$NAME: exits 0 at the end of input"
done_testing
