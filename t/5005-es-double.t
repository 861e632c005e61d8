#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The Elasticsearch double holds clients to the documented formats: what
# wb-bulk's tests rely on is checked here, with curl.
. "${0%/*}/lib.sh"
. "${0%/*}/es-double.sh"
plan 18
start_es --api-key 'aWQ6a2V5' --refresh-interval 3600
ES_AUTH="ApiKey aWQ6a2V5"

bulk() {	# bulk BODY [CONTENT-TYPE [QUERY]]: status and answer
	printf '%b' "$1" >"$SCRATCH/body"
	curl -sS -o "$SCRATCH/answer" -w '%{http_code}' -X POST \
		-H "Authorization: $ES_AUTH" -H "Content-Type: ${2:-application/x-ndjson}" \
		--data-binary @"$SCRATCH/body" "$ES_URL/_bulk${3:-}"
	printf ' '
	cat "$SCRATCH/answer"
}
body() { cut -d' ' -f2-; }
A='{"index":{"_index":"t","_id":"1"}}\n{"a":1}\n'
is "$(bulk "$A" | body | jq -c '.items[0].index | [.status, .result, ._id, ._index]')" '[201,"created","1","t"]' "an index action: created"
is "$(bulk "$A" | body | jq -c '.items[0].index | [.status, .result, ._version]')" '[200,"updated",2]' "again: updated"
like "$(bulk '{"index":{"_index":"t","_id":"1"}}\n{"a":1}')" '^400 .*must be terminated by a newline' "no final newline: 400"
like "$(bulk "$A" application/json)" '^406 .*Content-Type header \[application/json\] is not supported' "not NDJSON: 406"
like "$(bulk '{"index":{"_index":"t","_id":"1","x":2}}\n{}\n')" '^400 .*unknown parameter \[x\]' "unknown metadata: 400"
like "$(bulk '{"index":{"_index":"t"}}\n{"a":1}\n{"bogus":{}}\n{}\n')" '^400 .*Malformed action/metadata line \[3\]' "a bad action line fails the request"
is "$(bulk '{"index":{"_index":"t","_id":"2"}}\n{"a":1,"a":2}\n' | body | jq -c '[.errors, .items[0].index.status, .items[0].index.error.type]')" '[true,400,"mapper_parsing_exception"]' "a bad source fails its item only"
is "$(bulk '{"index":{"_index":"t","_id":"3"}}\n{"a":"x"}\n' | body | jq -c '[.errors, .items[0].index.error.reason]')" '[true,"failed to parse field [a] of type [long] in document with id '"'3'"'"]' "a type conflict with the dynamic mapping fails its item"
is "$(bulk "$A" application/x-ndjson '?filter_path=errors,items.*._id,items.*.status' | body)" '{"errors":false,"items":[{"index":{"_id":"1","status":200}}]}' "filter_path"
run curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-ndjson' --data-binary @"$SCRATCH/body" "$ES_URL/_bulk"
is "$OUT" 401 "no API key: 401"

es POST /t/_refresh >/dev/null
is "$(es POST /t/_count '{"query":{"bool":{"filter":[{"term":{"a":1}}],"must_not":[{"ids":{"values":["9"]}}]}}}' | jq .count)" 1 "_count over bool/term/ids"
is "$(es GET '/t/_count?q=a:1' | jq .count):$(es GET '/t/_count?q=a:2' | jq .count)" "1:0" "_count?q=FIELD:VALUE"
like "$(es GET '/t/_count?q=a:1%20OR%20a:2')" 'knows q=FIELD:VALUE only' "other query strings are refused"
like "$(es POST /t/_count '{"query":{"match":{"a":1}}}')" 'unknown query \[match\]' "a query outside the subset is refused"
bulk '{"index":{"_index":"t","_id":"4"}}\n{"a":4}\n' >/dev/null
is "$(es POST '/t/_delete_by_query?conflicts=proceed' '{"query":{"terms":{"a":[1,4]}}}' | jq -c '[.deleted, .failures]')" '[1,[]]' "_delete_by_query sees refreshed documents only"
es POST /t/_refresh >/dev/null
is "$(es POST '/t/_delete_by_query' '{"query":{"terms":{"a":[1,4]}}}' | jq .deleted)" 1 "and the rest after a refresh"
like "$(es POST '/nope/_delete_by_query' '{"query":{"match_all":{}}}')" 'index_not_found_exception' "a missing index: 404"
is "$(es POST '/nope,t/_delete_by_query?ignore_unavailable=true' '{"query":{"match_all":{}}}' | jq .deleted)" 0 "unless ignore_unavailable"
done_testing
