#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-hook when Redis freezes on a connection already used, with a batch
# sent and another waiting behind it: every delivery is answered, the
# receiver does not spin, and it queues again once Redis thaws.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 7
start_redis
WB_DEBUG=1 start_hook -t 1
for n in 1 2 3 4; do
	payload opened 40$n >"$SCRATCH/p$n.json"
done
deliver issues "$SCRATCH/p1.json" ""
is "$CODE" 202 "a first delivery uses the connection: 202"

frozen=$(cat "$REDIS_DIR/redis.pid")
kill -STOP "$frozen"
atexit "kill -CONT $frozen 2>/dev/null"
# post N: deliver payload N in the background, its status in $SCRATCH/code.N
post() {
	curl -s -m 20 -o /dev/null -w '%{http_code}' -H 'X-GitHub-Event: issues' \
		-H "X-GitHub-Delivery: d$1" \
		--data-binary @"$SCRATCH/p$1.json" "$HOOK_URL/github/receive" \
		>"$SCRATCH/code.$1"
}
asked() { [ "$(grep -c 'asking Redis to queue 1 numbers' "$SCRATCH/hook.err")" -ge "$1" ]; }
post 2 &
c2=$!
wait_for 10 asked 2
# Delivery 3 waits for the next batch while Redis holds delivery 2's.
post 3 &
c3=$!
wait_for 10 grep -q 'delivery d3 event issues: reading the body' "$SCRATCH/hook.err"
wait "$c2" "$c3"
is "$(cat "$SCRATCH/code.2") $(cat "$SCRATCH/code.3")" "503 503" \
	"both deliveries waiting on the frozen Redis are answered 503"
# CPU time (user + system, clock ticks) of the receiver over a second
# of nothing to do.
ticks() { awk '{ print $14 + $15 }' "/proc/$HOOK_PID/stat"; }
t0=$(ticks)
sleep 1
t1=$(ticks)
is "$([ $((t1 - t0)) -lt 30 ] && echo idle)" idle \
	"then the receiver is idle, not spinning ($((t1 - t0)) ticks in 1 s)"

kill -CONT "$frozen"
post 4
is "$(cat "$SCRATCH/code.4")" 202 "Redis thawed: the next delivery is 202"
is "$(redis_cli ZSCORE 'wb:{download}:pending' 401 | grep -c .):$(redis_cli ZSCORE 'wb:{download}:pending' 404 | grep -c .)" "1:1" \
	"and queued (the 503s may be queued too, from the frozen buffer: harmless)"
is "$(curl -s -m 10 "$HOOK_URL/healthz")" ok "healthz: 200"
stop_hook
is "$HOOK_RC" 0 "SIGTERM: exit 0"
done_testing
