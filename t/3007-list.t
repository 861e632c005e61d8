#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-list: every page of the listing, pull requests skipped, --since,
# --all, and --resume with its state in Redis, moved only by a complete run.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
plan 40
start_redis
github_client 250 1
KEY='wb:list:{webcompat/web-bugs}:since'

run wb-list
is "$RC:$ERR" "100:wb-list: usage: wb-list [--queue QUEUE] --since ISO8601 | --all | --resume [--since ISO8601 | --all]" "an option is required"
run wb-list --all --since 2024-01-01T00:00:00Z
is "$RC" 100 "--all excludes --since"
run wb-list --since yesterday
is "$RC:$ERR" "100:wb-list: fatal: --since is not YYYY-MM-DDTHH:MM:SSZ: yesterday" "bad time refused"
run wb-list --since 2024-02-30T00:00:00Z
is "$RC" 100 "impossible date refused"
is "$(gh_requests)" 0 "nothing requested for bad usage"

gh pull '{"number":7}'
gh pull '{"number":8}'
run wb-list --all
is "$RC:$ERR" "0:" "--all: exit 0, silent"
is "$(printf '%s\n' "$OUT" | jq -c .number | tr '\n' ' ' | md5sum)" \
	"$(seq 1 250 | grep -v -x -e 7 -e 8 | tr '\n' ' ' | md5sum)" "every issue, oldest update first, pull requests skipped"
is "$(printf '%s\n' "$OUT" | jq -c 'keys' | sort -u)" '["issue","number"]' "records hold number and issue"
is "$(printf '%s\n' "$OUT" | sed -n 1p | jq -cS .issue)" "$(curl -sf "$WB_GITHUB_API/_double/dump/1" | jq -cS .issue)" "the issue exactly as listed"
I='/repos/webcompat/web-bugs/issues?state=all&sort=updated&direction=asc&per_page=100'
is "$(jq -r .path "$GH_LOG" | tr '\n' ' ')" \
	"$I $I&since=2024-01-01T01:40:29Z $I&since=2024-01-01T03:19:29Z " \
	"three pages of 100, each from the newest update of the one before (less a second)"

sleep_until_next_second() { t=$(date +%s); while [ "$(date +%s)" = "$t" ]; do sleep 0.05; done; }
gh set '{"number":5,"fields":{"state":"closed"}}'
sleep_until_next_second
gh set '{"number":9,"title":"changed"}'
gh_clear_log
run wb-list --since 2025-01-01T00:00:00Z
is "$(printf '%s\n' "$OUT" | jq -c .number | tr '\n' ' ')" "5 9 " "--since: only what changed, closed ones too"
like "$(jq -r .path "$GH_LOG")" 'since=2025-01-01T00:00:00Z' "since sent"

# --resume: needs a starting point, then keeps its own: the newest update
# seen, or five minutes before the run began when that is earlier, so that
# what changed during the run is listed again.
# point_in T0 T1: the stored point is 300 s before a time in [T0, T1].
point_in() {
	p=$(date -u -d "$(redis_cli GET "$KEY")" +%s)
	[ "$p" -ge $(($1 - 300)) ] && [ "$p" -le $(($2 - 300)) ]
}
run wb-list --resume
is "$RC:$ERR" "100:wb-list: fatal: no resume point in $KEY yet: give --since or --all for the first run" "first --resume needs --since or --all"
T0=$(date +%s)
run wb-list --resume --since 2025-01-01T00:00:00Z
T1=$(date +%s)
is "$(printf '%s\n' "$OUT" | jq -c .number | tr '\n' ' ')" "5 9 " "first --resume run"
point_in "$T0" "$T1"
ok $? "resume point stored: five minutes before the run began (its newest update is later)"
newest=$(redis_cli GET "$KEY")
gh_clear_log
run wb-list --resume
like "$(jq -r .path "$GH_LOG")" "since=$newest" "the next run starts there"
is "$(printf '%s\n' "$OUT" | jq -c .number | tr '\n' ' ')" "5 9 " "the last five minutes listed again"
sleep_until_next_second
gh set '{"number":12,"title":"later"}'
T0=$(date +%s)
run wb-list --resume
T1=$(date +%s)
is "$(printf '%s\n' "$OUT" | jq -c .number | tr '\n' ' ')" "5 9 12 " "a later change is caught"
point_in "$T0" "$T1"
ok $? "resume point moved with the run's start"
newest=$(redis_cli GET "$KEY")

# An incomplete run leaves the resume point where it was.
sleep_until_next_second
gh set '{"number":13,"title":"again"}'
gh fault '{"match":"since=","kind":"status","status":500,"times":-1}'
run wb-list --resume
is "$RC:$OUT" "111:" "listing fails: exit 111"
is "$ERR" "wb-list: fatal: unable to list page 1: server error (after 6 tries)" "reported"
is "$(redis_cli GET "$KEY")" "$newest" "resume point unchanged"
gh faults '{}'
gh fault '{"match":"since=","kind":"wrongshape","times":-1}'
run wb-list --resume
is "$RC:$(redis_cli GET "$KEY")" "111:$newest" "a page that is not a list: 111, resume point unchanged"
gh faults '{}'
gh fault '{"match":"since=","kind":"wrongshape","body":[1,"x",null,[],{"number":"12"}],"times":-1}'
run wb-list --resume
is "$RC:$OUT:$(redis_cli GET "$KEY")" "1::$newest" "listed items that are not issue objects: status 1, resume point unchanged"
is "$ERR" "$(for i in 1 2 3 4 5; do echo "wb-list: warning: listed item $i is not an issue with a number and an updated_at; skipped"; done)" "each reported"
gh faults '{}'
gh fault '{"match":"since=","kind":"link","link":"<http://127.0.0.2:9/x?page=2>; rel=\"next\"","times":-1}'
run wb-list --resume
is "$RC:$ERR" '111:wb-list: fatal: unable to list page 1: Link rel="next" outside WB_GITHUB_API' "a next page outside the API: 111, not the last page"
is "$(redis_cli GET "$KEY")" "$newest" "resume point unchanged"
gh faults '{}'
gh fault "$(jq -cn --arg l "<$WB_GITHUB_API/repositories/17839063/issues?page=2&x=$(printf '%03000d' 0)>; rel=\"next\"" '{match:"since=",kind:"link",link:$l,times:-1}')"
run wb-list --resume
is "$RC:$ERR:$(redis_cli GET "$KEY")" "111:wb-list: fatal: unable to list page 1: Link header malformed, or its next URL too long:$newest" "a next URL too long: 111, resume point unchanged"
gh faults '{}'
run wb-list --resume
is "$(printf '%s\n' "$OUT" | jq -c .number | tr '\n' ' ')" "5 9 12 13 " "the next good run catches up"
# An issue edited while the listing is read moves to its end: no other
# issue may be pushed back onto a page already read and missed for it.
gh fault '{"match":"/issues\\?","kind":"touch","number":60,"after":1}'
run wb-list --all
gh faults '{}'
is "$RC:$(printf '%s\n' "$OUT" | jq -c .number | sort -n -u | md5sum)" \
	"0:$(seq 1 250 | grep -v -x -e 7 -e 8 | md5sum)" "issue edited during the run: every issue listed all the same"
is "$(printf '%s\n' "$OUT" | jq -c .number | tail -n 1)" 60 "and the edited one again, last"

# --queue: the numbers into a queue, nothing on stdout.
run wb-list --queue 'no good' --all
is "$RC:$ERR" "100:wb-list: fatal: bad queue name (1 to 64 of A-Z a-z 0-9 _ . -): no good" "--queue: a bad name refused"
run wb-list --queue listed --all
is "$RC:$OUT:$ERR" "0::wb-list: info: 248 queued into listed" "--queue: nothing on stdout, the count on stderr"
is "$(wb-queue list listed | cut -f1 | sort -n | md5sum)" "$(seq 1 250 | grep -v -x -e 7 -e 8 | md5sum)" \
	"--queue: every issue queued, pull requests skipped"
# --resume --all: with no resume point, a backfill; then from the point.
redis_cli DEL "$KEY" >/dev/null
run wb-list --resume --all --queue backfill
is "$RC:$ERR" "0:wb-list: info: no resume point in $KEY yet: listing every issue (a backfill)
wb-list: info: 248 queued into backfill" "--resume --all without a point: a backfill, said"
is "$(wb-queue length backfill)" 248 "every issue queued"
point=$(redis_cli GET "$KEY")
newest_listed=$(curl -sf "$WB_GITHUB_API/repos/webcompat/web-bugs/issues?state=all&sort=updated&direction=desc&per_page=1" -H 'Authorization: Bearer tok' | jq -r '.[0].updated_at')
ok "$([ "$point" != 1970-01-01T00:00:00Z ] && [ "$(date -u -d "$point" +%s)" -le "$(date -u -d "$newest_listed" +%s)" ]; echo $?)" \
	"the point moved past the epoch, no later than the newest update ($point)"
run wb-list --resume --all --queue again
is "$RC:$(wb-queue list again | cut -f1 | sort -n | tr '\n' ' ')" "0:$(curl -sf "$WB_GITHUB_API/repos/webcompat/web-bugs/issues?state=all&sort=updated&direction=asc&per_page=100&since=$point" -H 'Authorization: Bearer tok' | jq -r '.[] | select(.pull_request == null) | .number' | sort -n | tr '\n' ' ')" \
	"a later --resume --all goes on from the point: what changed since only"

WB_REDIS=unix:///nonexistent.sock run wb-list --resume
like "$RC:$ERR" "^111:wb-list: fatal: unable to connect to Redis" "Redis unreachable: 111"
is "$(gh_stderr)" "" "the double reported no error"
done_testing
