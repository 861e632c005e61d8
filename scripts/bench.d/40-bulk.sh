#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-bulk over a generated archive of at least 1 GB (issue 4):
#   - wb-bulk --dry-run against cat over the same files (the read ceiling)
#     and against a jq command line doing the same transform;
#   - the ceilings of the Elasticsearch stand-ins (wrk, one kept-alive
#     connection), then wb-bulk end to end against the C one
#     (scripts/bench.d/es-standin.c): documents/s, the
#     number of requests, peak RSS;
#   - request counts against the indexing double on a part of the archive.
# The archive is generated into the scratch directory and removed at exit.
# BULK_BENCH_BYTES overrides its size (default 1.1e9); RUNS the runs.
. "$(dirname "$0")/../bench-lib.sh"
# shellcheck source=SCRIPTDIR/../../t/es-double.sh
. "$T_DIR/es-double.sh"
RUNS=${RUNS:-3}
BYTES=${BULK_BENCH_BYTES:-1.1e9}

df -h /work /tmp "$SCRATCH" >&2
avail=$(df -Pk "$SCRATCH" | awk 'NR == 2 { print $4 }')
if [ "$avail" -lt 4000000 ]; then
	echo "40-bulk: less than 4 GB free under $SCRATCH, skipped" >&2
	exit 0
fi
A=$SCRATCH/archive
# shellcheck disable=SC2046	# its words: the archive's figures
set -- $(/usr/bin/python3 "$(dirname "$0")/40-bulk-archive.py" "$A" "$BYTES")
issues=$1 events=$2 bytes=$3
docs=$((issues + events))
mb=$(echo "$bytes" | awk '{ printf "%.1f", $1 / 1e6 }')
echo "40-bulk: archive of $issues issues, $events events, $mb MB in $A" >&2
(cd "$A/current" && ls) >"$SCRATCH/numbers"
awk '{ print $0 "/issue.json"; print $0 "/timeline.json" }' "$SCRATCH/numbers" >"$SCRATCH/files"
WB_DATA=$A
export WB_DATA
rate() { echo "$1 $2" | awk '{ printf "%.0f", $1 / $2 }'; }

# The transform alone.
cd "$A/current" || exit 1
xargs -a "$SCRATCH/files" cat >/dev/null    # warm the page cache
measure "$RUNS" "xargs -a '$SCRATCH/files' cat >/dev/null"
cat_mbs=$(rate "$mb" "$MEDIAN")
measure "$RUNS" "\$RSS wb-bulk --dry-run <'$SCRATCH/numbers' >/dev/null"
dry_mbs=$(rate "$mb" "$MEDIAN")
dry_kb=$PEAK_KB
row "cat over the archive files (MB/s)" "$cat_mbs" "" ""
row "wb-bulk --dry-run (MB/s), vs cat" "$dry_mbs" "$cat_mbs" "$(ratio "$dry_mbs" "$cat_mbs")"
row "wb-bulk --dry-run peak RSS (KB)" "$dry_kb" "" ""

# jq doing the same transform, on every 8th issue (it is slow).
awk 'NR % 8 == 1' "$SCRATCH/numbers" >"$SCRATCH/jq-numbers"
awk '{ print $0 "/issue.json"; print $0 "/timeline.json" }' "$SCRATCH/jq-numbers" >"$SCRATCH/jq-files"
jq_mb=$(xargs -a "$SCRATCH/jq-files" cat | wc -c | awk '{ printf "%.1f", $1 / 1e6 }')
cat >"$SCRATCH/transform.jq" <<'JQ'
(input_filename | split("/") | .[-2] | tonumber) as $n
| if type == "array" then
    to_entries[] | {index: {_index: "timelines", _id: "\($n)-\(.key)"}}, (.value + {bug_number: $n})
  else
    {index: {_index: "issues", _id: "\($n)"}}, (. + {bug_number: $n})
  end
JQ
measure 1 "xargs -a '$SCRATCH/jq-files' jq -c -f '$SCRATCH/transform.jq' >/dev/null"
jq_mbs=$(rate "$jq_mb" "$MEDIAN")
row "jq -c, same transform, 1/8 of the archive (MB/s)" "$jq_mbs" "" ""
row "wb-bulk --dry-run vs jq (throughput)" "$dry_mbs" "$jq_mbs" "$(ratio "$dry_mbs" "$jq_mbs")"

# The stand-ins' ceilings: one kept-alive connection posting a 5 MB body.
# Whole documents only, up to 5 MB.
wb-bulk --dry-run <"$SCRATCH/numbers" 2>/dev/null | head -c 5000000 |
	awk 'NR % 2 == 1 { a = $0; next } { if (length(a) + length($0) + 2 + n > 5000000) exit; n += length(a) + length($0) + 2; print a; print }' >"$SCRATCH/body"
body_docs=$(($(wc -l <"$SCRATCH/body") / 2))
cat >"$SCRATCH/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-ndjson"
local f = io.open("$SCRATCH/body", "rb")
wrk.body = f:read("*a")
f:close()
LUA
ceiling() {
	wrk -t1 -c1 -d5s -s "$SCRATCH/post.lua" "$1/_bulk?filter_path=errors,items.*._id,items.*.status,items.*.error" >"$SCRATCH/wrk" 2>&1
	awk -v d="$body_docs" '/Requests\/sec/ { printf "%.0f", $2 * d }' "$SCRATCH/wrk"
}
start_es --stand-in
row "Python double --stand-in ceiling, wrk (docs/s)" "$(ceiling "$ES_URL")" "" ""
stop_es || true
# shellcheck disable=SC2046	# the flags, one word each
cc -O2 -o "$SCRATCH/es-standin" "$(dirname "$0")/es-standin.c" $(pkg-config --cflags --libs libmicrohttpd) || exit 1
"$SCRATCH/es-standin" "$SCRATCH/standin.port" &
spid=$!
atexit "kill $spid 2>/dev/null"
wait_for 10 test -s "$SCRATCH/standin.port" || exit 1
ES_URL=http://127.0.0.1:$(cat "$SCRATCH/standin.port")
WB_ES=$ES_URL
export WB_ES
top=$(ceiling "$ES_URL")
row "C stand-in (es-standin.c) ceiling, wrk (docs/s)" "$top" "" ""

# End to end against the C stand-in.
es DELETE /_double/stats >/dev/null
measure "$RUNS" "\$RSS wb-bulk <'$SCRATCH/numbers' >/dev/null"
e2e=$(rate "$docs" "$MEDIAN")
st=$(es GET /_double/stats)
bulks=$(($(echo "$st" | jq .bulk) / RUNS))
dbqs=$(($(echo "$st" | jq .delete_by_query) / RUNS))
refreshes=$(($(echo "$st" | jq .refresh) / RUNS))
row "wb-bulk end to end, C stand-in (docs/s), vs its ceiling" "$e2e" "$top" "$(ratio "$e2e" "$top")"
row "  vs the original's 1,900 docs/s" "$e2e" 1900 "$(ratio "$e2e" 1900)"
row "  MB/s" "$(rate "$mb" "$MEDIAN")" "" ""
row "  documents per run" "$docs" "" ""
row "  bulk requests per run (docs per request)" "$bulks" "" "$(ratio "$docs" "$bulks")"
row "  delete-by-query per run (per bulk request)" "$dbqs" "" "$(ratio "$dbqs" "$bulks")"
row "  refreshes per run" "$refreshes" "" ""
row "  MB per bulk request" "$(echo "$st" | jq '.bulk_bytes / .bulk / 1e6 * 100 | floor / 100')" "" ""
row "wb-bulk end to end peak RSS (KB)" "$PEAK_KB" "" ""
kill "$spid"

# Against the indexing double, on 500 issues: the requests it takes.
start_es
head -n 500 "$SCRATCH/numbers" >"$SCRATCH/part"
wb-bulk <"$SCRATCH/part" >/dev/null
st=$(es GET /_double/stats)
pdocs=$(echo "$st" | jq .bulk_docs)
row "indexing double, 500 issues: documents" "$pdocs" "" ""
row "  bulk requests, delete-by-query" "$(echo "$st" | jq -r '"\(.bulk), \(.delete_by_query)"')" "" ""
es POST /_refresh >/dev/null
row "  documents in the indices" "$(($(es GET /issues/_count | jq .count) + $(es GET /timelines/_count | jq .count)))" "$pdocs" ""
stop_es || true
exit 0
