#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Rate limits: a spent budget means no request until the reset; primary
# and secondary limit answers (403/429) are waited out and retried; each
# wait is logged once with the time it ends. The double answers with
# waits of a second or two.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
plan 14
github_client 3 3
I=/repos/webcompat/web-bugs/issues
WHEN='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
good() { curl -sf "$WB_GITHUB_API/_double/dump/$1" | jq -cS '{issue,timeline}'; }
got() { printf '%s\n' "$OUT" | jq -cS "select(.number == $1) | {issue,timeline}"; }
elapsed() { echo $(( ($(date +%s%N) - T0) / 1000000 )); }

# Two requests left: the third waits for the reset instead of being refused.
gh ratelimit '{"remaining":2,"reset_in":2}'
gh_clear_log
T0=$(date +%s%N)
run wb-fetch 1 2
ms=$(elapsed)
is "$RC:$(got 1):$(got 2)" "0:$(good 1):$(good 2)" "both issues fetched"
is "$(gh_requests '.status == 403')" 0 "no request sent while the budget was spent"
like "$ERR" "^wb-fetch: info: GitHub rate limit reached; waiting until $WHEN\$" "the wait logged once, with its end"
ok "$([ "$ms" -ge 900 ] && echo 0 || echo 1)" "it did wait for the reset ($ms ms)"

# The primary limit answered with 403 and X-RateLimit-Remaining: 0.
gh fault '{"match":"issues/3$","kind":"ratelimit","seconds":2}'
gh_clear_log
run wb-fetch 3
is "$RC:$(got 3)" "0:$(good 3)" "403 rate limit exceeded: waited, retried"
is "$(jq -r 'select(.path == "'$I/3'") | .status' "$GH_LOG" | tr '\n' ' ')" "403 200 " "one refusal, then the answer"
like "$ERR" "^wb-fetch: info: GitHub primary rate limit reached; waiting until $WHEN\$" "logged once"

# Secondary limits: Retry-After, on 403 and on 429.
gh fault '{"match":"issues/1/timeline","kind":"secondary","retry_after":1}'
gh_clear_log
T0=$(date +%s%N)
run wb-fetch 1
ms=$(elapsed)
is "$RC:$(got 1)" "0:$(good 1)" "403 secondary limit: waited, retried"
like "$ERR" "^wb-fetch: info: GitHub secondary rate limit reached; waiting until $WHEN\$" "logged once"
ok "$([ "$ms" -ge 1000 ] && echo 0 || echo 1)" "Retry-After honoured ($ms ms)"
gh fault '{"match":"issues/2$","kind":"secondary429","retry_after":1}'
gh_clear_log
run wb-fetch 2
is "$RC:$(got 2):$(gh_requests '.status == 429')" "0:$(good 2):1" "429 with Retry-After: waited, retried"
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "one line for one wait"

# A plain 403 (no limit) is a failure for that record, without waiting.
gh fault '{"match":"issues/2$","kind":"forbidden","times":-1}'
run wb-fetch 2
is "$RC:$ERR" "111:wb-fetch: warning: unable to get issue 2: forbidden: HTTP 403; not emitted" "403 without a limit: record fails"
gh faults '{}'
is "$(gh_stderr)" "" "the double reported no error"
done_testing
