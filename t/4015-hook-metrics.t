#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-hook's GET /metrics: the deliveries counted by event and status
# across its serving threads (exact values), the shared families read on
# its non-blocking Redis path equal to wb-queue stats --format
# prometheus's, promtool clean, Redis down (200, wb_redis_up 0 alone and
# the counters), methods, and no secret in the text.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
command -v promtool >/dev/null || { echo "Bail out! no promtool (make deps installs prometheus)"; exit 1; }
plan 25
REDIS_CONF_EXTRA="requirepass redis-SECRET-pw"
start_redis
WB_REDIS="unix://:redis-SECRET-pw@$REDIS_SOCK"
SECRET=hook-SECRET-key
WB_HOOK_SECRET=$SECRET
WB_DELAY=0
export WB_REDIS WB_HOOK_SECRET WB_DELAY
redis_cli() { redis-cli -s "$REDIS_SOCK" -a redis-SECRET-pw --no-auth-warning "$@"; }
check() { printf '%s\n' "$1" | promtool check metrics 2>&1; }
samples() { printf '%s\n' "$1" | grep -v '^#'; }
scrape() { get /metrics; OUT=$(cat "$SCRATCH/body"); }
start_hook

scrape
is "$CODE" 200 "GET /metrics: 200"
is "$(header Content-Type)" "text/plain; version=0.0.4; charset=utf-8" "the exposition format's Content-Type"
is "$(samples "$OUT")" "wb_redis_up 1" "no queue in use, no note, no delivery yet: wb_redis_up 1 alone"
is "$(check "$OUT")" "" "promtool check metrics: clean"

# Known deliveries, each on a connection of its own (the kernel spreads
# them over the 2 threads): 3 issues 202, 1 bad signature 401, 1 ping 200,
# 1 issue_comment 202, 1 event outside the fixed set 202 (ignored).
for n in 1 2 3; do
	payload opened "$n" >"$SCRATCH/p$n.json"
	deliver issues "$SCRATCH/p$n.json" "$(sign "$SCRATCH/p$n.json")"
done
codes=$CODE
deliver issues "$SCRATCH/p1.json" "sha256=$(printf '%064d' 0)"
codes="$codes $CODE"
ping_payload >"$SCRATCH/ping.json"
deliver ping "$SCRATCH/ping.json" "$(sign "$SCRATCH/ping.json")"
codes="$codes $CODE"
comment_payload created 4 >"$SCRATCH/c4.json"
deliver issue_comment "$SCRATCH/c4.json" "$(sign "$SCRATCH/c4.json")"
codes="$codes $CODE"
deliver 'x"y\z{}' "$SCRATCH/ping.json" "$(sign "$SCRATCH/ping.json")"
codes="$codes $CODE"
is "$codes" "202 401 200 202 202" "the deliveries got the statuses expected"

# Queue states: download (wb-hook's) has 4 pending, then 1 leased; index
# has 1 dead letter and 1 pending.
wb-dequeue --once --delay 0 --max 1 download >/dev/null
# (parked by a lease that lapsed, as in t/2009).
wb-enqueue index 9 2>/dev/null
WB_MAX_DELIVERIES=1 wb-dequeue --once --delay 0 --lease 1 --consumer c1 index >/dev/null
lapsed() { wb-queue --delay 0 stats index | grep -q 'expired 1'; }
wait_for 10 lapsed
WB_MAX_DELIVERIES=1 wb-dequeue --once --delay 0 --consumer c2 index >/dev/null 2>&1
wb-enqueue index 8 2>/dev/null

scrape
is "$CODE" 200 "scrape with queues and deliveries: 200"
is "$(samples "$OUT" | grep '^wb_hook_')" 'wb_hook_deliveries_total{event="issues",code="202"} 3
wb_hook_deliveries_total{event="issues",code="401"} 1
wb_hook_deliveries_total{event="issue_comment",code="202"} 1
wb_hook_deliveries_total{event="ping",code="200"} 1
wb_hook_deliveries_total{event="other",code="202"} 1' "deliveries by event and code, summed over the threads, the raw event never shown"
is "$(samples "$OUT" | grep '^wb_queue_items')" 'wb_queue_items{queue="download",state="pending"} 3
wb_queue_items{queue="index",state="pending"} 1
wb_queue_items{queue="download",state="leased"} 1
wb_queue_items{queue="index",state="leased"} 0
wb_queue_items{queue="download",state="dead"} 0
wb_queue_items{queue="index",state="dead"} 1' "queue depth per queue and state"
noage() { samples "$1" | grep -v '^wb_hook_' | grep -v '^wb_queue_oldest_ready_age_seconds'; }
run wb-queue stats --format prometheus
is "$RC:$ERR" "0:" "wb-queue stats --format prometheus: exit 0"
is "$(noage "$OUT")" "$(noage "$(cat "$SCRATCH/body")")" "the shared families equal wb-queue's for the same queues (ages aside)"
is "$(noage "$OUT" | wc -l)" 11 "11 samples compared"
age=$(sed -n 's/^wb_queue_oldest_ready_age_seconds{queue="download"} //p' "$SCRATCH/body")
ok "$([ "$age" -ge 0 ] && [ "$age" -le 30 ] && echo 0 || echo 1)" "the oldest ready item's age is seconds since its enqueue ($age)"
is "$(check "$(cat "$SCRATCH/body")")" "" "promtool: clean with every family"
is "$(grep '^# TYPE' "$SCRATCH/body" | cut -d' ' -f3 | sort | uniq -d; grep -c '^# TYPE wb_hook_deliveries_total counter$' "$SCRATCH/body")" "1" \
	"one HELP and TYPE per family; the deliveries are a counter"

# The notes reach the scrape as they reach wb-queue.
redis_cli HSET wb:metrics github:remaining 4321 fetch:success 1700000000 >/dev/null
scrape
is "$(samples "$OUT" | grep -E '^wb_(github|last)')" 'wb_github_ratelimit_remaining 4321
wb_last_success_timestamp_seconds{stage="fetch"} 1700000000' "the notes: rate-limit budget and last success"

# Scrapes and deliveries at once (the batchers hold both kinds): 40
# deliveries of issue 5 and 10 scrapes in parallel; every delivery 202,
# every scrape 200, and the counter went up by exactly 40.
sig5=$(payload opened 5 | tee "$SCRATCH/p5.json" >/dev/null; sign "$SCRATCH/p5.json")
: >"$SCRATCH/mixed"
pids=
i=0
while [ "$i" -lt 40 ]; do
	i=$((i + 1))
	curl -s -o /dev/null -w 'd%{http_code}\n' -H 'X-GitHub-Event: issues' \
		-H "X-Hub-Signature-256: $sig5" --data-binary @"$SCRATCH/p5.json" \
		"$HOOK_URL/github/receive" >>"$SCRATCH/mixed" &
	pids="$pids $!"
	if [ $((i % 4)) -eq 0 ]; then
		curl -s -o /dev/null -w 's%{http_code}\n' \
			"$HOOK_URL/metrics" >>"$SCRATCH/mixed" &
		pids="$pids $!"
	fi
done
for p in $pids; do wait "$p"; done
is "$(sort "$SCRATCH/mixed" | uniq -c | awk '{ print $2 ":" $1 }' | tr '\n' ' ')" "d202:40 s200:10 " \
	"40 deliveries and 10 scrapes at once: every delivery 202, every scrape 200"
scrape
is "$(samples "$OUT" | grep '^wb_hook_deliveries_total{event="issues",code="202"}')" \
	'wb_hook_deliveries_total{event="issues",code="202"} 43' "the counter went up by exactly 40"

# Methods: as the other routes.
code=$(curl -s -o /dev/null -D "$SCRATCH/headers" -w '%{http_code}' -X POST "$HOOK_URL/metrics")
is "$code:$(header Allow)" "405:GET, HEAD" "POST /metrics: 405, Allow: GET, HEAD"
is "$(curl -s -o /dev/null -I -w '%{http_code}' "$HOOK_URL/metrics")" 200 "HEAD /metrics: 200"

# Redis down: a delivery gets 503; the scrape still answers 200, with
# wb_redis_up 0 as the only shared family and the counters.
stop_redis
deliver issues "$SCRATCH/p2.json" "$(sign "$SCRATCH/p2.json")"
is "$CODE" 503 "Redis down: the delivery gets 503"
scrape
is "$CODE" 200 "Redis down: /metrics answers 200 all the same"
is "$(samples "$OUT")" 'wb_redis_up 0
wb_hook_deliveries_total{event="issues",code="202"} 43
wb_hook_deliveries_total{event="issues",code="401"} 1
wb_hook_deliveries_total{event="issues",code="503"} 1
wb_hook_deliveries_total{event="issue_comment",code="202"} 1
wb_hook_deliveries_total{event="ping",code="200"} 1
wb_hook_deliveries_total{event="other",code="202"} 1' "wb_redis_up 0 alone (no stale depth) and the deliveries, the 503 counted"
is "$(check "$OUT")" "" "promtool: clean with Redis down"

# No secret anywhere: not in the scrapes, not in the log.
is "$(cat "$SCRATCH/body" "$SCRATCH/hook.err" | grep -c -e SECRET -e 'x"y')" 0 "neither the webhook secret, the Redis password nor a raw event in the text or the log"
stop_hook
is "$HOOK_RC" 0 "SIGTERM: exit 0"
done_testing
