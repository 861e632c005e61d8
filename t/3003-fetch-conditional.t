#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Conditional requests: ETags kept next to the archive, 304 answers that
# cost no rate limit, partial changes, If-Modified-Since after wb-list,
# and ETags that no longer describe the archive are not trusted.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
plan 31
start_github --issues 4 --events 3 --token tok
WB_DATA=$SCRATCH/data WB_GITHUB_TOKEN=tok
export WB_DATA WB_GITHUB_TOKEN
counted() { gh_requests '.counted'; }
archive() { for n in "$@"; do jq -cS . "$WB_DATA/current/$n/issue.json" "$WB_DATA/current/$n/timeline.json"; done; }
served() { for n in "$@"; do curl -sf "$WB_GITHUB_API/_double/dump/$n" | jq -cS '.issue, .timeline'; done; }

wb-fetch 1 2 3 4 | wb-write >/dev/null
is "$(counted)" 8 "first download: issue + one timeline page each"
is "$(archive 1 2 3 4)" "$(served 1 2 3 4)" "archive is what GitHub serves"
ls -i "$WB_DATA/current/1/issue.json" >"$SCRATCH/inode"
gh_clear_log
run sh -c 'wb-fetch 1 2 3 4 | wb-write'
is "$RC:$OUT" '0:{"number":1}
{"number":2}
{"number":3}
{"number":4}' "re-run emits every record"
is "$(counted):$(gh_requests '.status == 304 and .inm'):$(gh_requests)" "0:8:8" "re-run of unchanged issues: all 304, none counted"
is "$(archive 1 2 3 4)" "$(served 1 2 3 4)" "archive unchanged"
is "$(ls -i "$WB_DATA/current/1/issue.json")" "$(cat "$SCRATCH/inode")" "unchanged file not rewritten"

# One issue edited: only its issue request counts; its timeline is a 304.
gh set '{"number":2,"title":"edited title"}'
gh_clear_log
wb-fetch 1 2 3 4 | wb-write >/dev/null
is "$(counted):$(jq -r 'select(.counted) | .path' "$GH_LOG")" "1:/repos/webcompat/web-bugs/issues/2" "edited issue: one counted request"
is "$(jq -r .title "$WB_DATA/current/2/issue.json")" "edited title" "edit archived"

# A timeline of exactly 100 events, then one more event.
gh events '{"number":3,"count":100}'
wb-fetch 3 | wb-write >/dev/null
gh_clear_log
wb-fetch 3 | wb-write >/dev/null
is "$(counted):$(jq -r 'select(.counted) | .path' "$GH_LOG")" "1:/repos/webcompat/web-bugs/issues/3/timeline?per_page=100&page=2" \
	"full last page answered 304 without Link: the next page is checked"
gh_clear_log
wb-fetch 3 | wb-write >/dev/null
is "$(counted):$(gh_requests)" "0:3" "then nothing counts: the empty page has an ETag too"
gh events '{"number":3,"append":1}'
gh_clear_log
wb-fetch 3 | wb-write >/dev/null
is "$(jq -r 'select(.counted) | "\(.status) \(.path)"' "$GH_LOG" | tr '\n' ' ')" \
	"200 /repos/webcompat/web-bugs/issues/3 200 /repos/webcompat/web-bugs/issues/3/timeline?per_page=100&page=2 " \
	"one event appended: page 1 is a 304, only page 2 and the issue count"
is "$(archive 3)" "$(served 3)" "101 events archived, in order"
is "$(jq length "$WB_DATA/current/3/timeline.json")" 101 "101 events"

# An archive replaced behind our back: its ETags are not trusted.
echo '[]' >"$WB_DATA/current/1/timeline.json"
gh_clear_log
wb-fetch 1 | wb-write >/dev/null
is "$(gh_requests '.inm'):$(counted)" "0:1" "replaced archive: no ETag sent (the issue still by If-Modified-Since)"
is "$(archive 1)" "$(served 1)" "and the archive is repaired"
echo 'garbage' >"$WB_DATA/etags/1"
gh_clear_log
run sh -c 'wb-fetch 1 | wb-write'
is "$RC:$(gh_requests '.inm'):$(counted)" "0:0:1" "corrupt ETag file ignored (If-Modified-Since still saves the issue)"
rm -rf "$WB_DATA/current/4"
gh_clear_log
wb-fetch 4 | wb-write >/dev/null
is "$(counted)" 2 "archive gone: full download"
is "$(archive 4)" "$(served 4)" "and archived again"

# Page counts that do not match the archive: the timeline is asked again
# without conditions, and the issue's ETag, just confirmed, is kept.
sed -i 's/^page 1 /page 100 /' "$WB_DATA/etags/3"
ietag=$(sed -n 's/^issue //p' "$WB_DATA/etags/3")
gh_clear_log
run wb-fetch 3
is "$(printf '%s' "$OUT" | jq -r .etags.issue):$(printf '%s' "$OUT" | jq -c '.timeline | length')" "$ietag:101" "timeline restarted: the issue's ETag kept, 101 events"
is "$(jq -r '"\(.status) \(.inm)"' "$GH_LOG" | tr '\n' ' ')" "304 true 304 true 200 false 200 false 200 false " "issue 304, page 1 304 (the counts do not add up to the archive: unusable), then both pages in full (and the repository, whose id the next link names)"

# An ETag too long to keep whole is not kept, never cut short and sent back.
gh fault "$(jq -cn --arg v "W/\"$(printf '%0300d' 0)\"" '{match:"issues/2$",kind:"header",name:"ETag",value:$v}')"
gh set '{"number":2,"title":"long etag"}'
run wb-fetch 2
is "$RC:$(printf '%s' "$OUT" | jq -c '[.issue.title,.etags.issue]')" '0:["long etag",null]' "ETag over 255 bytes: none kept"
gh faults '{}'

# A moderated issue whose private issue is edited: the public issue is a
# 304, the timeline's cross-reference changed. The archived issue holds
# the old private title, no longer the placeholder: it is asked again in
# full and substituted afresh, never left disagreeing with its timeline.
gh private '{"number":4,"private_title":"Old secret","private_body":"old"}'
wb-fetch 4 | wb-write >/dev/null
gh private '{"number":4,"edit":true,"private_title":"New secret","private_body":"new"}'
gh_clear_log
wb-fetch 4 | wb-write >/dev/null
is "$(jq -c '[.title,.body,.__WEBCOMPAT_PRIVATE_ISSUE__]' "$WB_DATA/current/4/issue.json")" '["New secret","new",true]' "private edit: new title and body archived"
is "$(jq -r '"\(.status) \(.inm)"' "$GH_LOG" | tr '\n' ' ')" "304 true 200 true 200 false " "issue 304, timeline changed, the issue asked again without condition"
gh_clear_log
wb-fetch 4 | wb-write >/dev/null
is "$(counted):$(jq -r .title "$WB_DATA/current/4/issue.json")" "0:New secret" "then all 304 again, and the title stays"

# A 304 to a request that named no copy (no ETag, an archived issue
# without updated_at) is a bad answer: asked again, never taken as "use
# the archive".
mkdir -p "$WB_DATA/current/2"
echo '{"number":2,"title":"stale"}' >"$WB_DATA/current/2/issue.json"
rm -f "$WB_DATA/etags/2"
gh fault '{"match":"issues/2$","kind":"status","status":304,"times":1}'
gh_clear_log
WB_FETCH_BACKOFF=0.01 run wb-fetch 2
is "$RC:$(printf '%s' "$OUT" | jq -cS .issue)" "0:$(curl -sf "$WB_GITHUB_API/_double/dump/2" | jq -cS .issue)" "304 without a condition: retried, the stale archive not used"
is "$(jq -r 'select(.path | endswith("issues/2")) | "\(.status) \(.inm) \(.ims)"' "$GH_LOG" | tr '\n' ' ')" "304 false false 200 false false " "no condition was sent; asked again"
gh faults '{}'

# After wb-list: no issue ETag, so If-Modified-Since (updated_at) is used.
WB_DATA=$SCRATCH/data2
gh_clear_log
wb-list --all | wb-fetch | wb-write >/dev/null
is "$(counted)" 7 "wb-list + wb-fetch: one listing page, the timeline pages (3 has two) and the repository (its id, which the next link names)"
is "$(archive 1 2 3)" "$(served 1 2 3)" "archive from the listing is exact (4, moderated, is substituted)"
gh_clear_log
wb-fetch 1 2 3 4 | wb-write >/dev/null
is "$(counted):$(gh_requests '.ims and .status == 304')" "0:4" "re-run after wb-list: If-Modified-Since gives 304s"
# Something other than a file where the archived issue belongs (a FIFO)
# is not read, not waited on: the issue is asked in full.
rm "$WB_DATA/etags/1" "$WB_DATA/current/1/issue.json"
mkfifo "$WB_DATA/current/1/issue.json"
gh_clear_log
run timeout 20 wb-fetch 1
is "$RC:$(gh_requests '.ims or .inm'):$(printf '%s' "$OUT" | jq -c .number)" "0:0:1" "a FIFO for issue.json: no wait, no condition, the issue emitted"
is "$(gh_stderr)" "" "the double reported no error"
done_testing
