#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The first run and day two of the catch-up, under a real s6-svscan with
# its run script as shipped, against the GitHub double holding 3,000
# issues (about 31 listing pages of 100): on an empty archive it lists
# every issue (a backfill) into the download queue; kill -9 of every
# process of the instance, and s6-svc -d then -u, each mid-backfill, cost
# one page fetched twice at most, and nothing is missing; an exhausted
# rate limit is waited out, not a failure; once the backfill is done the
# next run lists only what changed since; and an archive that holds issues
# already, with no resume point, is listed from an hour ago only.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
. "$T_DIR/lib-s6.sh"
plan 23
N=3000
KEY='wb:list:{webcompat/web-bugs}:since'
start_redis
start_github --issues $N --events 1 --token tok
WB_GITHUB_TOKEN=tok
WB_DATA=$SCRATCH/data
export WB_GITHUB_TOKEN WB_DATA
S=wb-catchup

# listed: the listing pages the double answered (200), one path a line.
listed() {
	jq -r 'select(.status == 200 and (.path | test("/issues[?]"))) | .path' "$GH_LOG"
}
queued() { wb-queue length download; }
at_least() { [ "$(queued)" -ge "$1" ]; }
# dups: answers to pages answered before (one read of the log: the
# double may log a request in flight meanwhile).
dups() { listed | sort | uniq -c | awk '$1 > 1 { n += $1 - 1 } END { print n + 0 }'; }
listing() { pgrep -f "^wb-list --resume" >/dev/null; }

# The pages of one listing from the epoch, uninterrupted: what the
# backfill must ask, each once.
wb-list --since 1970-01-01T00:00:00Z >/dev/null
listed | sort >"$SCRATCH/ref"
PAGES=$(wc -l <"$SCRATCH/ref")
gh_clear_log
ok "$([ "$PAGES" -ge 30 ] && [ "$PAGES" -le 32 ]; echo $?)" "a listing of $N issues takes about 31 pages ($PAGES)"

# Every page a quarter of a second: the backfill takes several seconds.
gh fault '{"match":"/issues[?]","kind":"slow","seconds":0.25,"times":-1}'
svc_env WB_REDIS WB_GITHUB_API WB_GITHUB_TOKEN
svc_add $S
svscan_start

# First run, empty archive: a backfill. kill -9 of the whole instance.
wait_for 60 at_least 600
ok $? "empty archive: the first run lists every issue into the download queue"
like "$(cat "$SVSCAN_LOG")" "wb-list: info: no resume point in $KEY yet: listing every issue \\(a backfill\\)" \
	"it says it starts a backfill"
procs=$(svc_procs $S)
# shellcheck disable=SC2086
kill -9 $procs 2>/dev/null
wait_for 5 sh -c "! kill -0 $(echo "$procs" | tr '\n' ' ') 2>/dev/null"
ok $? "kill -9 of every process of the instance"
point=$(redis_cli GET "$KEY")
like "$point" '^2024-' "the resume point it left is a page of the backfill ($point)"
before=$(queued)
wait_for 10 listing
ok $? "s6 runs the catch-up again"
wait_for 60 at_least $((before + 600))
ok $? "it goes on queueing"
ok "$([ "$(dups)" -le 1 ]; echo $?)" "kill -9: at most one page fetched twice so far ($(dups))"
is "$(listed | grep -c 'since=1970-01-01T00:00:00Z$')" 1 "it did not start over: the first page fetched once"

# s6-svc -d, then -u, mid-backfill.
s6-svc -d "$SCAN/$S"
wait_for 5 no_procs
ok $? "s6-svc -d: the listing stops"
d1=$(dups)
before=$(queued)
# The second listing request of the next run spends the budget until 3 s
# later: refused, to be waited out (the faults are tried in order).
gh faults '{}'
gh fault '{"match":"/issues[?]","kind":"ratelimit","seconds":3,"times":1,"after":1}'
gh fault '{"match":"/issues[?]","kind":"slow","seconds":0.25,"times":-1}'
s6-svc -u "$SCAN/$S"
wait_for 120 sleeping
ok $? "s6-svc -u: the backfill goes on to its end; the service sleeps"
ok "$([ "$(($(dups) - d1))" -le 1 ]; echo $?)" "s6-svc -d/-u: at most one more page fetched twice ($(($(dups) - d1)))"
is "$(gh_requests '.status == 403 and (.path | test("/issues[?]"))')" 1 \
	"the exhausted budget: one listing request refused"
like "$(cat "$SVSCAN_LOG")" "wb-list: info: GitHub primary rate limit reached; waiting until " \
	"wb-list waits for the reset"
unlike "$(cat "$SVSCAN_LOG")" "(wb-list: (fatal|warning)|exited 111)" "no failure, no warning of wb-list"

listed | sort -u >"$SCRATCH/got"
is "$(diff "$SCRATCH/ref" "$SCRATCH/got" && echo same)" same \
	"every page of the listing was fetched, none other"
is "$(queued)" $N "every issue queued"
wb-queue list download | cut -f1 | sort -n >"$SCRATCH/numbers"
is "$(seq 1 $N | diff - "$SCRATCH/numbers" && echo same)" same "issues 1..$N, each once"
is "$(redis_cli GET "$KEY")" "2024-01-03T02:00:30Z" "the resume point: the newest update listed"

# Day two: the next run lists what changed since then, one page.
wb-queue purge download >/dev/null
gh set '{"number": 17}'
gh set '{"number": 2500}'
gh_clear_log
old=$(svc_pid $S)
s6-svc -t "$SCAN/$S"
renewed() { sleeping && [ "$(svc_pid "$S")" != "$old" ]; }
wait_for 30 renewed
ok $? "the next run is done"
is "$(listed | tr '\n' ' ')" "/repos/webcompat/web-bugs/issues?state=all&sort=updated&direction=asc&per_page=100&since=2024-01-03T02:00:30Z " \
	"it asks one page, since the resume point"
is "$(wb-queue list download | cut -f1 | sort -n | tr '\n' ' ')" "17 2500 3000 " \
	"it queues what changed (and the issue at the point itself)"

# No resume point, but an archive that holds issues: the last hour only.
s6-svc -d "$SCAN/$S"
wait_for 5 no_procs
redis_cli DEL "$KEY" >/dev/null
mkdir -p "$WB_DATA/current/17"
gh_clear_log
s6-svc -u "$SCAN/$S"
wait_for 30 sleeping
hour=$(date -u -d "1 hour ago" +%s)
since=$(listed | sed -n 's/.*since=\([^&]*\).*/\1/p' | head -1)
ok "$(s=$(date -u -d "$since" +%s) && [ $((hour - s)) -ge -5 ] && [ $((hour - s)) -le 60 ]; echo $?)" \
	"no resume point, archive not empty: listed from an hour ago ($since)"
done_testing
