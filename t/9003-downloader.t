#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# End to end, the downloader of SPEC.md composed by hand against the
# GitHub double and a real Redis:
#   wb-dequeue download | wb-fetch | wb-write | wb-enqueue index
# Queued issues end up archived exactly, queued for indexing, and their
# download claims acknowledged; a failing issue is neither archived nor
# acknowledged; a second pass over unchanged issues costs no rate limit.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
plan 17
start_redis
github_client 40 4
C=$WB_DATA/current
gh events '{"number":2,"count":230}'
gh state '{"number":3,"state":"deleted"}'
gh state '{"number":4,"state":"transferred","to_number":9}'
gh private '{"number":5,"private_title":"Secret title","private_body":"Secret body"}'
gh fault '{"match":"issues/6/timeline","kind":"status","status":500,"times":-1}'
served() { curl -sf "$WB_GITHUB_API/_double/dump/$1" | jq -cS '.issue, .timeline'; }
archived() { jq -cS . "$C/$1/issue.json" "$C/$1/timeline.json"; }
members() { redis_cli ZRANGE "wb:{$1}:$2" 0 -1 | sed '/^$/d' | sort -n | tr '\n' ' '; }
# lease_over N: the lease of N in download has expired (Redis's clock).
lease_over() {
	exp=$(redis_cli ZSCORE 'wb:{download}:leases' "$1")
	now=$(redis_cli TIME | sed -n 1p)
	[ -z "$exp" ] || [ "$((now * 1000))" -gt "${exp%.*}" ]
}

# Issue 3 was archived before and must be removed.
mkdir -p "$C/3" && echo '{}' >"$C/3/issue.json" && echo '[]' >"$C/3/timeline.json"
seq 1 30 | wb-enqueue download 2>/dev/null
pipeline() {
	wb-dequeue --delay 0 --lease 3 --once download 2>"$SCRATCH/e1" | wb-fetch 2>"$SCRATCH/e2" |
		wb-write 2>"$SCRATCH/e3" | wb-enqueue index 2>"$SCRATCH/e4"
}
pipeline
is "$?" 0 "the pipeline ends when the queue is drained"

all_ok=0
for n in 1 2 $(seq 7 30); do
	[ "$(archived "$n")" = "$(served "$n")" ] || { all_ok=1; diag "issue $n differs"; }
done
ok "$all_ok" "every fetched issue archived exactly as served (2 has 3 timeline pages)"
is "$(jq -c '[.title,.body,.__WEBCOMPAT_PRIVATE_ISSUE__]' "$C/5/issue.json")" '["Secret title","Secret body",true]' "private issue archived with its real title"
is "$(ls "$C" | sort -n | tr '\n' ' ')" "$(seq 1 30 | grep -v -x -e 3 -e 4 -e 6 | tr '\n' ' ')" "gone issues removed, the failing one not written"
is "$(members index pending)" "$(seq 1 30 | grep -v -x 6 | tr '\n' ' ')" "queued for indexing, gone ones too (to be deleted from the index)"
is "$(members download pending)" "" "download queue: nothing left ready"
is "$(members download leases)" "6 " "only the failing issue is still claimed (not acknowledged)"
is "$(cat "$SCRATCH/e2")" "wb-fetch: warning: unable to get the timeline of 6: server error (after 6 tries); not emitted" "the failure reported by wb-fetch"
is "$(cat "$SCRATCH/e3")" "" "wb-write silent"
like "$(cat "$SCRATCH/e4")" "^wb-enqueue: info: 29 queued into index, 29 claims acknowledged" "wb-enqueue acknowledged 29 download claims"

# The issue recovers; its lease expires (short lease) and it is retried.
gh faults '{}'
wait_for 10 lease_over 6
ok $? "the lease of the failed claim expires"
redis_cli DEL 'wb:{index}:pending' >/dev/null
gh_clear_log
seq 1 30 | wb-enqueue download 2>/dev/null
pipeline
is "$(archived 6)" "$(served 6)" "recovered issue archived on the next pass"
is "$(jq -r 'select(.counted) | "\(.status) \(.path)"' "$GH_LOG" | sed 's/?.*//' | sort | tr '\n' ' ')" \
	"200 /repos/webcompat/web-bugs 200 /repos/webcompat/web-bugs/issues/6 200 /repos/webcompat/web-bugs/issues/6/timeline 200 /repositories/17839064/issues/9 301 /repos/webcompat/web-bugs/issues/4 410 /repos/webcompat/web-bugs/issues/3 " \
	"second pass: only the recovered issue and the gone ones cost rate limit"
is "$(gh_requests '.status == 304')" "$((2 * 27 + 2 + 1))" "the 27 unchanged issues answered 304 (issue 2 has three pages), and the second repository check"
is "$(members index pending)" "$(seq 1 30 | tr '\n' ' ')" "all queued for indexing again"
is "$(members download pending)$(members download leases)" "" "every download claim acknowledged"
is "$(gh_stderr)" "" "the double reported no error"
done_testing
