#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-list over more than a page of issues updated in the same second (a
# bulk label edit, milestone move or transfer): those pages go by number,
# and an issue of that second edited, transferred or deleted while they
# are read shifts the others up one place. Every issue is still listed:
# the second is read again until a pass is known to have missed nothing;
# the rereading is bounded, and the resume point is right.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
plan 26
start_redis
github_client 260 1
KEY='wb:list:{webcompat/web-bugs}:since'
I='/repos/webcompat/web-bugs/issues?state=all&sort=updated&direction=asc&per_page=100'
G=2025-06-01T00:00:00Z
GM1=2025-05-31T23:59:59Z
numbers() { printf '%s\n' "$OUT" | jq -c .number; }
paths() { jq -r .path "$GH_LOG"; }
# The double edits as GitHub does: forward in time only.
run gh bulk '{"from":1,"to":2,"at":"2099-01-01T00:00:00Z"}'
is "$RC" 22 "double: a bulk edit in the future refused"
run gh bulk '{"from":1,"to":2,"at":"2023-01-01T00:00:00Z"}'
is "$RC" 22 "double: a bulk edit before the issues' own updates refused"
run gh bulk '{"from":250,"to":261}'
is "$RC" 22 "double: a bulk edit of an issue that does not exist refused"
gh bulk "{\"from\":1,\"to\":250,\"at\":\"$G\",\"fields\":{\"locked\":true}}"
gh bulk '{"from":251,"to":260,"at":"2025-06-01T00:00:05Z"}'
is "$(curl -sf "$WB_GITHUB_API/_double/dump/250" | jq -c '[.issue.updated_at, .issue.locked]')" \
	"[\"$G\",true]" "double: 250 issues edited in the same second"

# Nothing moves: the second is read twice, to know that.
redis_cli SET "$KEY" 2025-01-01T00:00:00Z >/dev/null
gh_clear_log
run wb-list --resume
is "$RC:$ERR" "0:" "exit 0, silent"
is "$(numbers | md5sum)" "$(seq 1 260 | md5sum)" "every issue once, oldest update first"
is "$(paths)" "$I&since=2025-01-01T00:00:00Z
$I&since=$GM1
$I&since=$GM1&page=2
$I&since=$GM1&page=3
$I&since=$GM1
$I&since=$GM1&page=2
$I&since=$GM1&page=3" "the second's pages by number, then once again: nothing moved"
is "$(redis_cli GET "$KEY")" 2025-06-01T00:00:05Z "resume point: the newest update seen"

# Issue 50 edited between the requests for pages 1 and 2 of the second:
# the rest move up one place and 101 slips onto page 1, already read.
redis_cli SET "$KEY" 2025-01-01T00:00:00Z >/dev/null
gh_clear_log
gh fault '{"match":"/issues\\?","kind":"touch","number":50,"after":2}'
T0=$(date +%s)
run wb-list --resume
T1=$(date +%s)
gh faults '{}'
T50=$(curl -sf "$WB_GITHUB_API/_double/dump/50" | jq -r .issue.updated_at)
is "$RC:$ERR" "0:" "issue edited mid-run: exit 0, silent"
is "$(numbers | sort -n | md5sum)" "$( (seq 1 260; echo 50) | sort -n | md5sum)" \
	"every issue exactly once, but the edited one twice"
is "$(numbers | md5sum)" "$( (seq 1 100; seq 102 260; echo 50; echo 101) | md5sum)" \
	"the edited one again at its new place; the one it pushed back found by reading the second again"
is "$(printf '%s\n' "$OUT" | jq -c 'select(.number == 50) | .issue.updated_at' | tr '\n' ' ')" \
	"\"$G\" \"$T50\" " "the edited one: as it was, then as it is"
is "$(paths)" "$I&since=2025-01-01T00:00:00Z
$I&since=$GM1
$I&since=$GM1&page=2
$I&since=$GM1&page=3
$I&since=$GM1
$I&since=$GM1&page=2
$I&since=$GM1&page=3
$I&since=$GM1
$I&since=$GM1&page=2
$I&since=$GM1&page=3" \
	"read again twice: 50, listed by the first pass, was gone for the second"
p=$(date -u -d "$(redis_cli GET "$KEY")" +%s)
[ "$p" -ge $((T0 - 300)) ] && [ "$p" -le $((T1 - 300)) ]
ok $? "resume point: five minutes before the run began (its newest update is later)"

# Issue 230 edited while page 2 is asked for, ahead of what was read:
# nothing slips, and the second is not read again.
redis_cli SET "$KEY" 2025-01-01T00:00:00Z >/dev/null
gh_clear_log
gh fault '{"match":"/issues\\?","kind":"touch","number":230,"after":2}'
run wb-list --resume
gh faults '{}'
is "$RC:$(numbers | sort -n | md5sum)" "0:$(seq 1 260 | md5sum)" \
	"an edit ahead of the pages read: every issue once"
is "$(gh_requests)" 7 "read again once: nothing it had listed moved"

# Issue 10 transferred away between pages 1 and 2: it never shows up
# again, and 102 slips onto page 1 all the same.
redis_cli SET "$KEY" 2025-01-01T00:00:00Z >/dev/null
gh_clear_log
gh fault '{"match":"/issues\\?","kind":"state","number":10,"state":"transferred","to_number":9010,"after":2}'
run wb-list --resume
gh faults '{}'
is "$RC:$(numbers | sort -n | md5sum)" "0:$(seq 1 260 | md5sum)" \
	"an issue transferred mid-run: every issue once (10 as listed before it went)"
is "$(gh_requests)" 10 "read again twice"

# An --all backfill with the edit: the same.
gh_clear_log
gh fault '{"match":"/issues\\?","kind":"touch","number":70,"after":3}'
run wb-list --all
gh faults '{}'
is "$RC:$(numbers | sort -n | md5sum)" "0:$( (seq 1 260 | grep -v -x 10; echo 70) | sort -n | md5sum)" \
	"--all: every issue once, the edited one twice"

# Bounded: an issue of the second edited at every request, so that no
# pass is undisturbed. Five passes, then the run goes on, says it is
# incomplete and leaves the resume point where it was.
redis_cli SET "$KEY" 2025-01-01T00:00:00Z >/dev/null
gh_clear_log
gh fault "$(jq -cn '{match:"/issues\\?",kind:"touch",numbers:[range(11;50)],after:1,times:-1}')"
run wb-list --resume
gh faults '{}'
is "$RC" 111 "edits that never stop: exit 111"
is "$ERR" "wb-list: warning: the issues updated at $G kept moving during 5 passes over them: some may be missed; this run is incomplete" \
	"reported once"
is "$(gh_requests "(.path | endswith(\"since=$GM1\"))")" 5 "five passes over the second"
is "$(gh_requests)" 16 "three pages each, after the first request"
is "$(redis_cli GET "$KEY")" 2025-01-01T00:00:00Z "resume point unchanged"
run wb-list --resume
is "$RC:$ERR:$(numbers | sort -n -u | md5sum)" "0::$(seq 1 260 | grep -v -x 10 | md5sum)" "the next run lists every issue"
is "$(gh_stderr)" "" "the double reported no error"
done_testing
