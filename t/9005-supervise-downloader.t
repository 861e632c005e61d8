#!/bin/sh
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
plan 32
start_redis
start_github --issues 70 --events 3 --token tok
WB_DATA=$SCRATCH/data WB_DELAY=0 WB_FETCH_BACKOFF=0.01 WB_GITHUB_TOKEN=tok
export WB_DATA WB_DELAY WB_FETCH_BACKOFF WB_GITHUB_TOKEN
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
like "$(cat "$SVSCAN_LOG")" "^wb-pipeline: warning: wb-fetch \(pid [0-9]+\) killed by signal 9: stopping the pipeline\$" \
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
old=$(instance)
s6-svc -d "$SCAN/$S"
# shellcheck disable=SC2086
gone_within 2000 $old
ok $? "s6-svc -d: every stage is gone within 2 s"
no_procs() { [ -z "$(svc_procs $S)" ]; }
wait_for 3 no_procs
ok $? "s6-svc -d: no process of the service is left (./finish done)"
for p in $(svc_procs $S); do diag "$p $(comm "$p") $(tr '\0' ' ' <"/proc/$p/cmdline")"; done
is "$(s6-svstat -o up,wantedup "$SCAN/$S")" "false false" "s6 reports the service down"
leases=$(zcard leases)
pending=$(zcard pending)
seq 201 205 | wb-enqueue download 2>/dev/null
# Three seconds in which a surviving dequeuer would claim the new items.
end=$(($(date +%s) + 3))
grew=0
while [ "$(date +%s)" -lt "$end" ]; do
	[ "$(zcard leases)" -gt "$leases" ] && grew=1
	sleep 0.1
done
is "$grew" 0 "s6-svc -d: leases do not grow after the stop"
is "$(($(zcard pending) + $(zcard leases)))" "$((pending + leases + 5))" "the new items stay queued"

# A setting only wb-fetch reads is wrong: it exits 100 at once.
printf 'soon' >"$SVC_ENV/WB_FETCH_TIMEOUT"
: >"$SVSCAN_LOG"
s6-svc -u "$SCAN/$S"
down_for_good() { [ "$(s6-svstat -o up,wantedup,exitcode "$SCAN/$S")" = "false false 100" ]; }
wait_for 10 down_for_good
ok $? "wb-fetch exiting 100: the service is down, no longer wanted up (finish said 125)"
like "$(cat "$SVSCAN_LOG")" "^wb-fetch: fatal: WB_FETCH_TIMEOUT is not a number of seconds" "wb-fetch says why"
like "$(cat "$SVSCAN_LOG")" "^wb-pipeline: warning: wb-fetch \(pid [0-9]+\) exited 100 \(a permanent failure\): stopping the pipeline\$" \
	"the runner says which stage failed for good"
starts() { grep -c '^wb-fetch: fatal: WB_FETCH_TIMEOUT' "$SVSCAN_LOG"; }
end=$(($(date +%s) + 3))
while [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
is "$(starts)" 1 "no restart loop: started once in three seconds"
is "$(svc_procs $S | wc -l | tr -d ' ')" 0 "no orphan: no process of the service is left"
is "$(s6-svstat -o up,wantedup "$SCAN/$S")" "false false" "still down"
gh faults '{}'
is "$(gh_stderr)" "" "the double reported no error"
done_testing
