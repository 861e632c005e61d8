# SPDX-License-Identifier: MPL-2.0
# Helpers for the tests that talk to the Elasticsearch double (t/es-double.py).
# Sourced after t/lib.sh; POSIX sh.
#
#   start_es [--api-key K] [--max-content-length N] ...   exports WB_ES, ES_URL, ES_PID
#   es METHOD PATH [BODY]    one request to the double, body on stdout
#   es_docs INDEX            every refreshed document of INDEX, one
#                            "_id <tab> compact source" line each, sorted
#   mk_issue DATA N K        archive issue N with K timeline events
#   mk_archive               issues 1, 2 and 3 of 3 events each in
#                            D=$SCRATCH/data, exported as WB_DATA
#   index_is_archive DATA N...  both indices, refreshed, hold exactly the
#                            documents of DATA's issues N...: two assertions
# shellcheck shell=sh disable=SC2034

ES_AUTH=${ES_AUTH:-}

start_es() {
	_es_dir=$(mktemp -d "$SCRATCH/es.XXXXXX")
	/usr/bin/python3 "$T_DIR/es-double.py" --port-file "$_es_dir/port" "$@" \
		2>"$_es_dir/log" &
	ES_PID=$!
	atexit "kill $ES_PID 2>/dev/null"
	wait_for 10 test -s "$_es_dir/port" || { echo "Bail out! the ES double did not start"; exit 1; }
	ES_PORT=$(cat "$_es_dir/port")
	ES_URL=http://127.0.0.1:$ES_PORT
	WB_ES=$ES_URL
	export WB_ES ES_URL ES_PORT
}

stop_es() {
	kill "$ES_PID" 2>/dev/null
	wait "$ES_PID" 2>/dev/null
}

es() {
	if [ -n "$ES_AUTH" ]; then
		set -- "$@" ""
		curl -sS -X "$1" -H "Authorization: $ES_AUTH" \
			-H 'Content-Type: application/json' \
			${3:+--data-binary "$3"} "$ES_URL$2"
	else
		curl -sS -X "$1" -H 'Content-Type: application/json' \
			${3:+--data-binary "$3"} "$ES_URL$2"
	fi
}

es_docs() {
	es POST "/$1/_search?size=100000" |
		jq -r '.hits.hits[] | "\(._id)\t\(._source | tojson)"' | LC_ALL=C sort
}

# expected_docs DATA INDEX N...: what INDEX must hold for the archived
# issues N..., computed with jq, in es_docs's format.
expected_docs() {
	_x_data=$1 _x_index=$2
	shift 2
	for _x_n in "$@"; do
		if [ "$_x_index" = issues ]; then
			jq -c --argjson n "$_x_n" '"\($n)\t\(. + {bug_number: $n} | tojson)"' \
				"$_x_data/current/$_x_n/issue.json"
		else
			jq -c --argjson n "$_x_n" 'to_entries[] | "\($n)-\(.key)\t\(.value + {bug_number: $n} | tojson)"' \
				"$_x_data/current/$_x_n/timeline.json"
		fi
	done | jq -r . | LC_ALL=C sort
}

# mk_issue DATA N K: archive issue N with K timeline events, compact JSON
# as wb-write stores it.
mk_issue() {
	mkdir -p "$1/current/$2"
	printf '{"number":%s,"title":"Issue %s \\"quoted\\" \\u00e9","state":"open","labels":[{"name":"browser-firefox"},{"name":"status-needsdiagnosis"}],"user":{"login":"u%s","id":%s},"created_at":"2021-01-01T00:00:00Z","body":"line 1\\nline 2"}' \
		"$2" "$2" "$2" "$2" >"$1/current/$2/issue.json"
	awk -v n="$2" -v k="$3" 'BEGIN {
		printf "[";
		for (i = 0; i < k; i++)
			printf "%s{\"event\":\"labeled\",\"id\":%d,\"actor\":{\"login\":\"bot\"},\"label\":{\"name\":\"l%d\"},\"created_at\":\"2021-01-0%dT00:00:00Z\"}", (i ? "," : ""), n * 1000 + i, i, i % 9 + 1;
		printf "]" }' >"$1/current/$2/timeline.json"
}

mk_archive() {
	D=$SCRATCH/data
	WB_DATA=$D
	export WB_DATA
	for _n in 1 2 3; do mk_issue "$D" $_n 3; done
}

index_is_archive() {
	_d=$1
	shift
	es POST /_refresh >/dev/null
	is "$(es_docs issues)" "$(expected_docs "$_d" issues "$@")" "issues equals the archive"
	is "$(es_docs timelines)" "$(expected_docs "$_d" timelines "$@")" "timelines equals the archive"
}
