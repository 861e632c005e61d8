#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-bulk against the Elasticsearch double: the indices equal the archive
# after indexing, re-indexing, shrinking and growing timelines and gone
# issues; records go out in order, passed through; bad files are skipped.
. "${0%/*}/lib.sh"
. "${0%/*}/es-double.sh"
plan 44

D=$SCRATCH/data
WB_DATA=$D
export WB_DATA

run wb-bulk --help
is "$RC" 0 "--help exits 0"
like "$OUT" '^usage: wb-bulk \[--dry-run\] \[--batch-bytes N\] \[--batch-docs N\] \[--idle S\] \[--install-templates DIR\]$' "--help prints the usage"
run wb-bulk --version
is "$OUT" "wb-bulk (wb) 0.1.0" "--version"
run wb-bulk extra
is "$RC:$ERR" "100:wb-bulk: usage: wb-bulk [--dry-run] [--batch-bytes N] [--batch-docs N] [--idle S] [--install-templates DIR]" "an operand is a usage error"
run wb-bulk --batch-docs 0
is "$RC:$ERR" "100:wb-bulk: fatal: --batch-docs is out of range (1..1000000): 0" "--batch-docs 0 refused"
run wb-bulk --idle soon
is "$RC" 100 "--idle soon refused"
run wb-bulk --dry-run --install-templates /tmp
is "$RC" 100 "--dry-run with --install-templates is a usage error"
run sh -c 'echo 1 | WB_DATA=/nonexistent wb-bulk --dry-run'
is "$RC:$ERR" "100:wb-bulk: fatal: no archive at /nonexistent (WB_DATA)" "no archive root: 100"
mkdir -p "$SCRATCH/fresh"
run sh -c "echo 1 | WB_DATA='$SCRATCH/fresh' WB_DEBUG=1 wb-bulk --dry-run"
is "$RC:$ERR" "1:wb-bulk: warning: issue 1: no archive at $SCRATCH/fresh/current, skipped
wb-bulk: warning: 1 issue was not indexed
wb-bulk: debug: 0 documents in 0 requests, 0 delete-by-query, 0 refreshes, 0 removed, 0 records written" "no current/ yet (a fresh system): skipped, nothing deleted"

start_es
for n in $(seq 1 20); do mk_issue "$D" "$n" $((n % 7 * 3)); done
{ seq 1 10; echo '{"number":11,"queue":"index","claim":"42","x":[1,{"y":null}]}'; seq 12 20; echo 99; } >"$SCRATCH/in"
run wb-bulk <"$SCRATCH/in"
is "$RC" 0 "first run exits 0"
is "$ERR" "" "nothing on stderr"
is "$OUT" "$(seq 1 10 | sed 's/.*/{"number":&}/'; echo '{"number":11,"queue":"index","claim":"42","x":[1,{"y":null}]}'; seq 12 20 | sed 's/.*/{"number":&}/'; echo '{"number":99}')" "every record out, in order, fields passed through"
# shellcheck disable=SC2046	# one number a word
index_is_archive "$D" $(seq 1 20)
is "$(es GET /timelines/_count | jq .count)" 189 "189 events"
is "$(es GET /_double/log | jq -r '.[0,1]' | sed 's/?.*//')" "POST /_bulk
POST /issues,timelines/_delete_by_query" "one bulk request, then one delete-by-query"
is "$(es_docs issues | head -n 1 | cut -f 2)" '{"number":1,"title":"Issue 1 \"quoted\" é","state":"open","labels":[{"name":"browser-firefox"},{"name":"status-needsdiagnosis"}],"user":{"login":"u1","id":1},"created_at":"2021-01-01T00:00:00Z","body":"line 1\nline 2","bug_number":1}' "an issue document: the object plus bug_number"
is "$(es_docs timelines | grep '^3-1	' | cut -f 2)" '{"event":"labeled","id":3001,"actor":{"login":"bot"},"label":{"name":"l1"},"created_at":"2021-01-02T00:00:00Z","bug_number":3}' "an event document, _id N-i"

# Again: idempotent.
before=$(es GET /_double/stats | jq -c '{bulk_docs, deleted}')
run wb-bulk <"$SCRATCH/in"
es POST /_refresh >/dev/null
is "$RC:$(es_docs timelines | wc -l)" "0:189" "a second run leaves the same number of documents"
is "$(es_docs timelines)" "$(expected_docs "$D" timelines $(seq 1 20))" "and the same documents"
is "$(es GET /_double/stats | jq -c '{bulk_docs, deleted}')" "$(echo "$before" | jq -c '.bulk_docs *= 2')" "every document sent again, none deleted"

# Timelines shrink and grow; an issue goes; stale events disappear.
mk_issue "$D" 6 2    # was 18 events
mk_issue "$D" 3 0    # was 9
mk_issue "$D" 1 25   # was 3
rm -r "$D/current/5"
run sh -c 'printf "6\n3\n1\n5\n" | wb-bulk'
es POST /_refresh >/dev/null
is "$RC:$OUT" "0:$(printf '{"number":%s}\n' 6 3 1 5)" "changed issues indexed and written out"
is "$(es_docs timelines)" "$(expected_docs "$D" timelines 1 2 3 4 $(seq 6 20))" "timelines equals the archive after shrinking, growing and removal"
is "$(es_docs issues)" "$(expected_docs "$D" issues 1 2 3 4 $(seq 6 20))" "issues equals the archive; the gone issue removed"
is "$(es GET /_double/stats | jq .deleted)" $((16 + 9 + 1 + 15)) "exactly the stale documents were deleted"

# Bad files: reported with their path, skipped, the rest goes on.
printf '{"number":7,"title":"tru' >"$D/current/7/issue.json"
printf '[{"event":"x"},3]' >"$D/current/8/timeline.json"
mkdir -p "$D/current/30"
mk_issue "$D" 31 1
rm "$D/current/31/timeline.json"
mk_issue "$D" 9 1
printf '%s\n' 7 8 9 30 31 >"$SCRATCH/in2"
run wb-bulk <"$SCRATCH/in2"
is "$RC" 1 "skipped issues make the exit status 1"
is "$OUT" '{"number":9}' "only the good issue is written out"
is "$ERR" "wb-bulk: warning: issue 7: $D/current/7/issue.json is not a JSON object: unterminated string at byte 24, skipped
wb-bulk: warning: issue 8: $D/current/8/timeline.json is not a JSON array of objects: an element is not an object at byte 15, skipped
wb-bulk: warning: issue 30: unable to read $D/current/30/issue.json, skipped: No such file or directory
wb-bulk: warning: issue 31: unable to read $D/current/31/timeline.json, skipped: No such file or directory
wb-bulk: warning: 4 issues were not indexed" "each bad file named, with the reason"
es POST /_refresh >/dev/null
is "$(es_docs issues | grep -c '^7	'):$(es_docs timelines | grep -c '^8-')" "1:3" "the old documents of corrupt issues stay"
is "$(es_docs timelines | grep -c '^9-')" 1 "the good issue of the batch was indexed"

# Batches bounded by documents: an issue spans requests, the
# delete-by-query comes once its last document is in.
es POST /_double/faults '{}' >/dev/null
for n in 40 41 42; do mk_issue "$D" $n 7; done
s0=$(es GET /_double/stats)
l0=$(es GET /_double/log | jq length)
run sh -c 'printf "40\n41\n42\n" | wb-bulk --batch-docs 5'
s1=$(es GET /_double/stats)
is "$RC:$(echo "$OUT" | wc -l)" "0:3" "all written out"
is "$(jq -n --argjson a "$s0" --argjson b "$s1" '[$b.bulk - $a.bulk, $b.bulk_docs - $a.bulk_docs]' | jq -c .)" "[5,24]" "24 documents in 5 requests of at most 5"
is "$(es GET /_double/log | jq -r ".[$l0:][]" | sed 's/?.*//' | uniq -c | awk '{print $1, $3}' | tr '\n' ' ')" "2 /_bulk 1 /issues,timelines/_delete_by_query 3 /_bulk 1 /issues,timelines/_delete_by_query " "a delete-by-query once the last document of an issue is in, at most one per request"
es POST /_refresh >/dev/null
is "$(es_docs timelines | grep '^4[012]-')" "$(expected_docs "$D" timelines 40 41 42)" "spanning issues indexed whole"

# Batches bounded by bytes.
s0=$(es DELETE /_double/stats)
run sh -c 'printf "40\n41\n42\n" | wb-bulk --batch-bytes 1000'
s1=$(es GET /_double/stats)
is "$(jq -n --argjson a "$s0" --argjson b "$s1" '[$b.bulk - $a.bulk, $b.bulk_docs - $a.bulk_docs, $b.bulk_max_bytes <= 1000]' | jq -c .)" "[6,24,true]" "1000-byte batches: 24 documents in 6 requests, none above 1000 bytes"

# The same issue twice in a row: the first is sent and settled before the
# second is read, which refreshes before removing stale events.
es DELETE /_double/stats >/dev/null
run sh -c 'printf "9\n9\n" | wb-bulk'
is "$RC:$OUT" '0:{"number":9}
{"number":9}' "the same issue twice: written out twice"
is "$(es GET /_double/stats | jq -c '[.bulk, .delete_by_query, .refresh]')" "[2,2,1]" "two batches, and a refresh before the second delete-by-query"

# At most 1000 issues a batch, whatever their documents: 1200 gone ones.
es DELETE /_double/stats >/dev/null
run sh -c 'seq 1001 2200 | wb-bulk'
is "$RC:$(printf '%s\n' "$OUT" | wc -l)" "0:1200" "1200 gone issues written out"
is "$(es GET /_double/stats | jq -c '[.bulk, .delete_by_query]')" "[0,2]" "two delete-by-query, no bulk request"

# Dry run: the bodies, nothing sent.
s0=$(es GET /_double/stats | jq .requests)
run sh -c 'echo 9 | WB_ES=http://127.0.0.1:1 wb-bulk --dry-run'
is "$RC" 0 "dry run exits 0 without a server"
is "$(printf '%s\n' "$OUT" | jq -c .)" "$(printf '%s\n' '{"index":{"_index":"issues","_id":"9"}}' "$(jq -c '. + {bug_number: 9}' "$D/current/9/issue.json")" '{"index":{"_index":"timelines","_id":"9-0"}}' "$(jq -c '.[0] + {bug_number: 9}' "$D/current/9/timeline.json")")" "the bulk body on stdout"
is "$(es GET /_double/stats | jq .requests)" "$s0" "nothing sent"
run sh -c 'echo 5 | WB_DEBUG=1 wb-bulk --dry-run'
like "$ERR" '^wb-bulk: debug: _delete_by_query \{"query":\{"bool":\{"should":\[\{"terms":\{"bug_number":\[5\]\}\}\],"minimum_should_match":1\}\}\}$' "the delete-by-query of a gone issue, with WB_DEBUG"
run sh -c 'echo 9 | WB_DEBUG=1 wb-bulk --dry-run'
like "$ERR" '"should":\[\{"bool":\{"filter":\[\{"terms":\{"bug_number":\[9\]\}\}\],"must_not":\[\{"ids":\{"values":\["9","9-0"\]\}\}\]\}\}\]' "the delete-by-query of an indexed issue keeps its own ids"
done_testing
