#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The downloader under a real s6-svscan, its run script as shipped
# (wb-pipeline the supervised process), against the GitHub double and a
# real Redis. While it works, kill -9 of each stage in turn, then of
# wb-pipeline itself: within 2 s no process of the old instance is left,
# and a new instance runs; the queued work then completes exactly.
# s6-svc -d ends every stage within 2 s, and nothing is claimed after.
# A middle stage exiting 100 (a setting only wb-fetch reads) takes the
# service down: no restart loop, no orphan.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
. "$T_DIR/lib-s6.sh"
plan 30
start_redis
github_client 70 3
WB_DELAY=0
export WB_DELAY
mkdir -p "$WB_DATA"
svc_env WB_REDIS WB_DATA WB_GITHUB_API WB_DELAY WB_FETCH_BACKOFF WB_GITHUB_TOKEN
# Leases of 3 s, claims four at a time: the claims of a killed instance
# come back in seconds, and a batch is done well within its lease.
svc_add wb-downloader 's/wb-dequeue download/wb-dequeue --batch 4 --lease 3 download/'
S=wb-downloader
# Each issue takes 0.15 s to answer: the pipeline is busy for a while.
gh fault '{"match":"issues/[0-9]+$","kind":"slow","seconds":0.15,"times":-1}'
seq 1 70 | wb-enqueue download 2>/dev/null
svscan_start

zcard() { redis_cli ZCARD "wb:{download}:$1"; }
NSTAGES=4
claiming() { [ "$(zcard leases)" -gt 0 ]; }

wait_for 10 stages_up
ok $? "the downloader runs: wb-pipeline and four stages"
for victim in wb-fetch wb-dequeue wb-write wb-enqueue wb-pipeline; do
	kill_round $victim claiming
done
like "$(cat "$SVSCAN_LOG")" "^wb-pipeline: warning: wb-fetch \(pid [0-9]+\) killed by signal 9(: stopping the pipeline)?\$" \
	"the runner says which stage died and how"

drained() { [ "$(zcard pending)$(zcard leases)" = 00 ]; }
wait_for 60 drained
r=$?
ok $r "the queue drains: every item downloaded and acknowledged"
[ $r = 0 ] || diag "pending $(zcard pending), leases $(zcard leases)" "$(tail -20 "$SVSCAN_LOG")"
bad=0
for n in $(seq 1 70); do
	[ "$(jq -cS . "$WB_DATA/current/$n/issue.json" "$WB_DATA/current/$n/timeline.json" 2>/dev/null)" = \
		"$(curl -sf "$WB_GITHUB_API/_double/dump/$n" | jq -cS '.issue, .timeline')" ] || bad=$((bad + 1))
done
is "$bad" 0 "all 70 issues archived exactly as served"
is "$(redis_cli ZCARD 'wb:{index}:pending')" 70 "and all 70 queued for indexing"

# s6-svc -d while it works: every stage gone within 2 s; nothing claimed after.
seq 101 140 | wb-enqueue download 2>/dev/null
gh fault '{"match":"issues/[0-9]+$","kind":"slow","seconds":0.5,"times":-1}'
wait_for 10 claiming
stop_round
pending=$(zcard pending)
seq 201 205 | wb-enqueue download 2>/dev/null
never_grows zcard leases
ok $? "s6-svc -d: leases do not grow after the stop"
is "$(zcard pending)" "$((pending + 5))" "the new items stay queued"

# A setting only wb-fetch reads is wrong: it exits 100 at once.
printf 'soon' >"$SVC_ENV/WB_FETCH_TIMEOUT"
fail_round wb-fetch "WB_FETCH_TIMEOUT is not a number of seconds"
gh faults '{}'
is "$(gh_stderr)" "" "the double reported no error"
done_testing
