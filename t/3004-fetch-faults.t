#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-fetch against a failing API: retries with backoff for 5xx, dropped
# connections, truncated and non-JSON bodies, timeouts; wrong shapes and
# huge answers are errors for that record only; nothing half-downloaded
# is ever emitted.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
plan 41
github_client 5 3
I=/repos/webcompat/web-bugs/issues
fault() { gh faults '{}'; gh fault "$1"; gh_clear_log; }
good() { curl -sf "$WB_GITHUB_API/_double/dump/$1" | jq -cS .; }
got() { printf '%s\n' "$OUT" | jq -cS "select(.number == $1) | {issue,timeline}"; }

fault '{"match":"issues/1$","kind":"status","status":500,"times":2}'
run wb-fetch 1
is "$RC:$ERR" "0:" "two 500s then success: exit 0, silent"
is "$(gh_requests ".path == \"$I/1\"")" 3 "the issue was asked three times"
is "$(got 1)" "$(good 1)" "and the record is complete"

fault '{"match":"issues/2$","kind":"status","status":502,"times":-1}'
run wb-fetch 2 3
is "$RC" 111 "a record that keeps failing: exit 111"
is "$ERR" "wb-fetch: warning: unable to get issue 2: server error (after 6 tries); not emitted" "reported once, on one line"
is "$(gh_requests ".path == \"$I/2\"")" 6 "a bounded number of tries"
is "$(printf '%s\n' "$OUT" | jq -c .number)" 3 "the next record is still emitted"
is "$(got 3)" "$(good 3)" "complete"

fault '{"match":"issues/3/timeline","kind":"drop","times":1}'
run wb-fetch 3
is "$RC:$(got 3)" "0:$(good 3)" "dropped connection: retried"
fault '{"match":"issues/3/timeline","kind":"truncate","times":2}'
run wb-fetch 3
is "$RC:$(got 3)" "0:$(good 3)" "body cut short of its Content-Length: retried"
fault '{"match":"issues/3/timeline","kind":"cut","times":1}'
run wb-fetch 3
is "$RC:$(got 3)" "0:$(good 3)" "complete answer with truncated JSON: retried"
fault '{"match":"issues/3$","kind":"notjson","times":1}'
run wb-fetch 3
is "$RC:$(got 3)" "0:$(good 3)" "HTML instead of JSON: retried"
is "$(gh_requests)" 3 "one retry"

gh events '{"number":2,"count":150}'
fault '{"match":"issues/2/timeline.*page=2","kind":"status","status":500,"times":-1}'
run wb-fetch 2
is "$RC:$OUT" "111:" "second timeline page failing: nothing of the issue emitted"
is "$ERR" "wb-fetch: warning: unable to get the timeline of 2: server error (after 6 tries); not emitted" "reported"

# A Link that names a next page which cannot be followed is an error,
# never the last page: nothing of the issue is emitted.
TL=/repositories/17839063/issues/2/timeline
link_fault() { fault "$(jq -cn --arg l "$1" '{match:"issues/2/timeline",kind:"link",link:$l,times:-1}')"; }
link_fault '<http://127.0.0.2:9/x?page=2>; rel="next"'
run wb-fetch 2
is "$RC:$OUT:$ERR" '111::wb-fetch: warning: unable to get the timeline of 2: Link rel="next" outside WB_GITHUB_API; not emitted' "next page outside the API: record fails"
link_fault "<$WB_GITHUB_API$TL?per_page=100&page=2&pad=$(printf '%03000d' 0)>; rel=\"next\""
run wb-fetch 2
is "$RC:$OUT:$ERR" '111::wb-fetch: warning: unable to get the timeline of 2: Link header malformed, or its next URL too long; not emitted' "next URL too long: record fails"
link_fault "<$WB_GITHUB_API$TL?page=1>; rel=\"prev\"; title=\"$(printf '%09000d' 0)\", <$WB_GITHUB_API$TL?per_page=100&page=2>; rel=\"next\""
run wb-fetch 2
is "$RC:$OUT:$ERR" '111::wb-fetch: warning: unable to get the timeline of 2: Link header too long; not emitted' "Link header too long to read whole: record fails"
link_fault "<$WB_GITHUB_API$TL?per_page=100&page=2>; rel=\"next\"; title=\"x"
run wb-fetch 2
is "$RC:$OUT" '111:' "malformed Link: record fails"
is "$(gh_requests)" 2 "the issue and page 1 only: nothing followed nor retried"
# A Link that leads back to a page already read: refused at once, not
# followed a thousand times (nor its pages kept in memory).
link_fault "<$WB_GITHUB_API/repos/webcompat/web-bugs/issues/2/timeline?per_page=100>; rel=\"next\""
run wb-fetch 2
is "$RC:$OUT:$ERR" '111::wb-fetch: warning: timeline of 2: page 1 links back to a page already read; not emitted' "next page already read: record fails"
is "$(gh_requests)" 2 "after one timeline request"

fault '{"match":"issues/4/timeline","kind":"wrongshape","times":-1}'
run wb-fetch 4 5
is "$RC:$ERR" "111:wb-fetch: warning: timeline page 1 of 4 is not an array of at most 100 events: not a JSON array at byte 0; not emitted" "object where an array belongs: that record fails, with the reason"
is "$(printf '%s\n' "$OUT" | jq -c .number)" 5 "the others go on"
# A page that libjq reads but that is not strict JSON (a key twice,
# invalid UTF-8) is taken as libjq prints it, as when pages were parsed:
# one key, U+FFFD; events that are not objects are refused.
raw_fault() { fault "$(jq -cn --arg h "$(printf '%s' "$1" | od -An -tx1 | tr -d ' \n')" '{match:"issues/4/timeline",kind:"raw",hex:$h,times:-1}')"; }
raw_fault '[{"id":1,"event":"labeled","a":1,"b":{"c":1,"c":2},"a":3}]'
run wb-fetch 4
is "$RC:$ERR:$(printf '%s' "$OUT" | jq -c .timeline)" '0::[{"id":1,"event":"labeled","a":3,"b":{"c":2}}]' "duplicate keys: one each, as jq keeps them"
is "$(printf '%s\n' "$OUT" | wb-write)" '{"number":4}' "and wb-write stores it"
raw_fault "$(printf '[{"id":1,"body":"caf\351"}]')"
run wb-fetch 4
is "$RC:$(printf '%s' "$OUT" | jq -r '.timeline[0].body')" "0:caf$(printf '\357\277\275')" "invalid UTF-8: U+FFFD, as jq reads it"
raw_fault '[{"id":1},2]'
run wb-fetch 4
is "$RC:$ERR" "111:wb-fetch: warning: timeline page 1 of 4 is not an array of at most 100 events: an element is not an object at byte 10; not emitted" "events that are not objects: refused"
fault '{"match":"issues/4$","kind":"wrongshape","times":-1,"body":[1,2]}'
run wb-fetch 4
is "$RC:$ERR:$OUT" "111:wb-fetch: warning: issue answer is not issue 4; not emitted:" "array where the issue belongs: fails"
fault '{"match":"issues/4$","kind":"wrongshape","times":-1,"body":{"number":5,"title":"x"}}'
run wb-fetch 4
is "$RC:$ERR" "111:wb-fetch: warning: issue answer is not issue 4; not emitted" "another issue's object: fails"

fault '{"match":"issues/4/timeline","kind":"huge","bytes":40000000,"times":-1}'
run wb-fetch 4
is "$RC:$ERR:$OUT" "111:wb-fetch: warning: unable to get the timeline of 4: answer larger than 33554432 bytes; not emitted:" "huge answer: an error, not a crash"
is "$(gh_requests '.path | test("timeline")')" 1 "and not retried"

fault '{"match":"issues/4/timeline","kind":"bomb","bytes":100000000,"times":-1}'
run wb-fetch 4
is "$RC:$ERR:$OUT" "111:wb-fetch: warning: unable to get the timeline of 4: answer larger than 33554432 bytes; not emitted:" "gzip bomb: the cap applies to the inflated body"

fault '{"match":"issues/5$","kind":"slow","seconds":0.5,"times":1}'
run wb-fetch 5
is "$RC:$(got 5)" "0:$(good 5)" "slow answer within the timeout: fine"
fault '{"match":"issues/5$","kind":"slow","seconds":3,"times":1}'
WB_FETCH_TIMEOUT=1 run wb-fetch 5
is "$RC:$(got 5)" "0:$(good 5)" "answer slower than WB_FETCH_TIMEOUT: abandoned and retried"
two_tries() { [ "$(gh_requests ".path == \"$I/5\"")" = 2 ]; }
wait_for 10 two_tries
ok $? "two tries (the abandoned one is logged when the double wakes up)"
WB_FETCH_TIMEOUT=x run wb-fetch 5
is "$RC:$ERR" "100:wb-fetch: fatal: WB_FETCH_TIMEOUT is not a number of seconds (at least 0.1): x" "bad knob refused"

# Backoff grows: 3 retries with a 0.2 s base take at least 0.1+0.2+0.4 s.
fault '{"match":"issues/1$","kind":"status","status":503,"times":3}'
start=$(date +%s%N)
WB_FETCH_BACKOFF=0.2 run wb-fetch 1
ms=$(( ($(date +%s%N) - start) / 1000000 ))
is "$RC" 0 "three 503s then success"
ok "$([ "$ms" -ge 700 ] && echo 0 || echo 1)" "exponential backoff waited ($ms ms >= 700)"

gh faults '{}'
is "$(wb-fetch 1 2 3 4 5 | jq -c .number | tr '\n' ' ')" "1 2 3 4 5 " "all well again"
is "$(gh_stderr)" "" "the double reported no error"
done_testing
