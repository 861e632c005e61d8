#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-fetch: records out, exact copies, pagination, headers, the token,
# private substitution, gone and transferred issues, bad arguments.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
plan 52
TOKEN=ghp_s3cr3tT0kenValue1234567890
start_github --issues 6 --events 3 --token "$TOKEN"
WB_DATA=$SCRATCH/data WB_GITHUB_TOKEN=$TOKEN
export WB_DATA WB_GITHUB_TOKEN

run wb-fetch --help
like "$RC:$OUT" '^0:usage: wb-fetch \[NUMBER \.\.\.\]' "--help"
run wb-fetch --version
is "$OUT" "wb-fetch (wb) 0.1.0" "--version"
run wb-fetch 0
is "$RC:$ERR" "100:wb-fetch: fatal: not an issue number (out of range): 0" "argument 0 refused"
run wb-fetch 1 ../2
is "$RC:$(gh_requests)" "100:0" "a bad argument: nothing requested"
WB_REPO='we/b/x' run wb-fetch 1
is "$RC" 100 "malformed WB_REPO refused"

# One issue: exactly what the API serves, every header GitHub asks for.
curl -sf "$WB_GITHUB_API/_double/dump/1" >"$SCRATCH/dump1"
run wb-fetch 1
is "$RC:$ERR" "0:" "fetch exits 0, silent"
is "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 1 "one record"
is "$(printf '%s' "$OUT" | jq -cS '{issue,timeline}')" "$(jq -cS . "$SCRATCH/dump1")" "issue and timeline exactly as served"
is "$(printf '%s' "$OUT" | jq -r '.timeline[0].body')" \
	"$(jq -r '.timeline[0].body' "$SCRATCH/dump1")" "UTF-8, quotes, backslashes, tabs kept"
is "$(gh_requests '.auth == "bearer"'):$(gh_requests)" "2:2" "token sent as Authorization: Bearer"
is "$(gh_requests '.accept == "application/vnd.github+json" and .api_version == "2022-11-28"')" 2 "Accept and X-GitHub-Api-Version sent"
is "$(jq -r .user_agent "$GH_LOG" | sort -u)" "wb-fetch/0.1.0" "User-Agent names the tool and version"
is "$(gh_requests '.gzip')" 2 "answers arrived compressed (and were decoded)"

# Pass-through of fields it does not own; bare integers and records.
gh_clear_log
printf '%s\n' '{"number":2,"queue":"download","claim":"17","x":[1]}' 3 'junk' >"$SCRATCH/in"
run wb-fetch <"$SCRATCH/in"
is "$RC" 1 "a rejected line makes the status 1"
is "$(printf '%s\n' "$OUT" | jq -c '[.number,.queue,.claim,.x,.issue.number,(.timeline|length)]' | tr '\n' ' ')" \
	'[2,"download","17",[1],2,3] [3,null,null,null,3,3] ' "fields passed through, records in order"
is "$ERR" "wb-fetch: warning: line 3: not an issue number (1..2147483647) nor a JSON object: junk, skipped
wb-fetch: warning: 1 input line was rejected" "bad line reported by number"

# Pagination: 250 events are three pages of 100 from one Link chain.
gh events '{"number":4,"count":250}'
gh_clear_log
run wb-fetch 4
is "$(printf '%s' "$OUT" | jq -cS .timeline)" "$(curl -sf "$WB_GITHUB_API/_double/dump/4" | jq -cS .timeline)" "250 events, every page in order"
is "$(gh_requests '.path | test("timeline")')" 3 "three timeline pages"
is "$(jq -r .path "$GH_LOG" | grep timeline | sed -n 3p)" "/repositories/17839063/issues/4/timeline?per_page=100&page=3" "Link rel=next followed"
is "$(jq -r .conn "$GH_LOG" | sort -u | wc -l | tr -d ' ')" 1 "one kept-alive connection for every request"

# A record longer than the next stage reads (WB_MAX_LINE) is not written:
# it would be lost there, claim after claim, without a word.
len=$(printf '%s' "$OUT" | wc -c)
WB_MAX_LINE=$((len - 1)) run wb-fetch 4 3
is "$RC:$(printf '%s\n' "$OUT" | jq -c .number)" "111:3" "over WB_MAX_LINE: not emitted, 111; the next record is"
is "$ERR" "wb-fetch: warning: the record of 4 is $len bytes, more than WB_MAX_LINE ($((len - 1))) allows; not emitted" "reported with both sizes"
WB_MAX_LINE=$len run sh -c 'wb-fetch 4 | wb-write'
is "$RC:$OUT:$ERR" '0:{"number":4}:' "a record of exactly WB_MAX_LINE bytes is emitted, and read by wb-write"

# Private substitution.
gh private '{"number":5,"title":"In the moderation queue.","private_title":"Real title","private_body":"Real body"}'
run wb-fetch 5
is "$(printf '%s' "$OUT" | jq -c '[.issue.title,.issue.body,.issue.__WEBCOMPAT_PRIVATE_ISSUE__]')" \
	'["Real title","Real body",true]' "placeholder title replaced from the private cross-reference"
gh private '{"number":6,"title":"Issue closed.","repo":"another","private_title":"nope"}'
run wb-fetch 6
is "$(printf '%s' "$OUT" | jq -c '[.issue.title,.issue.__WEBCOMPAT_PRIVATE_ISSUE__]')" \
	'["Issue closed.",null]' "cross-reference from another repository: unchanged"
curl -sf "$WB_GITHUB_API/_double/dump/5" | jq -c '{number: 5, queue: "q", issue: .issue}' >"$SCRATCH/listed"
gh_clear_log
run wb-fetch <"$SCRATCH/listed"
is "$(printf '%s' "$OUT" | jq -c '[.issue.title,.queue]'):$(gh_requests)" '["Real title","q"]:1' "listed issue: only the timeline asked, still substituted"
WB_PRIVATE_TITLES='Only this' run wb-fetch 5
is "$(printf '%s' "$OUT" | jq -r .issue.title)" "In the moderation queue." "WB_PRIVATE_TITLES honoured"

# Gone: 404, 410, transferred (301 to /repositories/ID/...).
gh state '{"number":1,"state":"deleted"}'
gh state '{"number":2,"state":"missing"}'
gh state '{"number":3,"state":"transferred","to_number":77}'
gh_clear_log
printf '%s\n' '{"number":1,"claim":"5","queue":"download"}' 2 3 >"$SCRATCH/in"
run wb-fetch <"$SCRATCH/in"
is "$RC:$ERR" "0:" "gone issues are not errors"
is "$OUT" '{"number":1,"claim":"5","queue":"download","gone":true}
{"number":2,"gone":true}
{"number":3,"gone":true,"moved_to":"webcompat/web-bugs-archive#77"}' "410, 404 and 301 give gone, with moved_to"
is "$(gh_requests '.path == "/repos/webcompat/web-bugs"'):$(gh_requests '.path == "/repos/webcompat/web-bugs" and .counted')" "3:1" \
	"the repository checked before trusting each 404, 410 or 301; the repeats are free 304s"
is "$(gh_requests '.path | startswith("/repositories/17839064/issues/77")')" 1 "the redirect followed once, on the same host"
run wb-fetch 1000
is "$OUT" '{"number":1000,"gone":true}' "never-existing number: gone"
run sh -c 'echo "{\"number\":9,\"issue\":{\"number\":9,\"title\":\"x\",\"repository_url\":\"$WB_GITHUB_API/repos/webcompat/web-bugs\"}}" | wb-fetch'
is "$OUT" '{"number":9,"gone":true}' "listed issue whose timeline 404s: gone, issue dropped"

# A redirect to another host is not followed, and not taken as gone.
gh state '{"number":2,"state":"ok"}'
gh fault '{"match":"issues/2$","kind":"redirect","location":"http://127.0.0.2:9/repos/x/y/issues/2","times":-1}'
gh_clear_log
run wb-fetch 2
is "$RC:$OUT:$ERR" "111::wb-fetch: warning: issue 2 redirected outside WB_GITHUB_API; not followed; not emitted" "redirect off the API host: an error, not gone"
is "$(gh_requests)" 1 "and nothing else requested"
gh faults '{}'
# A redirect to the same issue of the same repository is no transfer.
gh fault "{\"match\":\"issues/2\$\",\"kind\":\"redirect\",\"location\":\"$WB_GITHUB_API/repos/webcompat/web-bugs/issues/2\",\"times\":1}"
run wb-fetch 2
is "$RC:$OUT:$ERR" "111::wb-fetch: warning: issue 2 redirected to itself; not taken as gone; not emitted" "redirect to itself: an error, not gone"
gh faults '{}'

# A repository renamed during a run: every issue then redirects to
# /repositories/ID/issues/N, which serves it under the new name. That is
# no transfer: fatal, and nothing marked gone.
# shellcheck disable=SC2094	# waits for what wb-fetch has written
{ echo 1; wait_for 10 grep -q number "$SCRATCH/rn.out"; gh renamed '{"on":true}'; echo 2; } |
	wb-fetch >"$SCRATCH/rn.out" 2>"$SCRATCH/rn.err"
is "$?:$(cat "$SCRATCH/rn.out")" '100:{"number":1,"gone":true}' "renamed mid-run: fatal 100, issue 2 not marked gone"
is "$(cat "$SCRATCH/rn.err")" "wb-fetch: fatal: repository webcompat/web-bugs has moved (renamed or transferred); set WB_REPO to its new name" "reported"
WB_REPO=webcompat/web-bugs-renamed run wb-fetch 2
is "$RC:$(printf '%s' "$OUT" | jq -r .issue.repository_url)" "0:$WB_GITHUB_API/repos/webcompat/web-bugs-renamed" "under its new name it is fetched"

# A renamed repository must not empty the archive.
run wb-fetch 1
like "$RC:$ERR" '^100:wb-fetch: fatal: repository webcompat/web-bugs has moved' "renamed repository: fatal 100, nothing marked gone"
is "$OUT" "" "nothing emitted"
gh renamed '{"on":false}'
WB_REPO=webcompat/nothing-here run wb-fetch 5
like "$RC:$ERR" '^100:wb-fetch: fatal: repository webcompat/nothing-here not found' "unknown repository: fatal 100"

# A wrong token is fatal; no token means anonymous requests.
WB_GITHUB_TOKEN=wrong run wb-fetch 5
is "$RC:$ERR" "100:wb-fetch: fatal: GitHub refused the credentials: HTTP 401" "bad token: fatal 100"
gh_clear_log
env -u WB_GITHUB_TOKEN GITHUB_TOKEN="$TOKEN" wb-fetch 5 >/dev/null
is "$(gh_requests '.auth == "bearer"')" 2 "GITHUB_TOKEN used when WB_GITHUB_TOKEN is unset"
gh_clear_log
env -u WB_GITHUB_TOKEN wb-fetch 5 >/dev/null
is "$(gh_requests '.auth == "none"')" 2 "no token: anonymous"

# The token never appears in any output, message, debug line or file.
WB_DEBUG=1 WB_GITHUB_API=http://127.0.0.1:1 WB_FETCH_BACKOFF=0.01 run wb-fetch 5
is "$RC" 111 "unreachable API: 111"
like "$ERR" "wb-fetch: warning: unable to get issue 5: http://127.0.0.1:1/repos/webcompat/web-bugs/issues/5: .*\(after 6 tries\); not emitted" "unreachable API reported"
WB_DEBUG=1 WB_GITHUB_API=http://wb:s3cretPw@127.0.0.1:1 WB_FETCH_BACKOFF=0.01 run wb-fetch 5
is "$RC:$(printf '%s\n' "$ERR" | grep -c 'retrying')" "111:5" "debug: each retry logged"
unlike "$ERR" "s3cretPw" "credentials of WB_GITHUB_API in no message, debug lines included"
WB_DEBUG=1 run wb-fetch 4 5 1
unlike "$OUT$ERR" "$TOKEN" "token in no output nor debug message"
is "$(grep -rl -- "$TOKEN" "$SCRATCH")" "" "token in no file: archive, outputs, request log"
is "$(gh_stderr)" "" "the double reported no error"
done_testing
