#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-hook without Redis: 503 and nothing acknowledged, recovery when it
# returns, start-up while it is down.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 19
start_signed_hook s3cr3t

payload opened 101 >"$SCRATCH/p101.json"
payload labeled 102 >"$SCRATCH/p102.json"
payload closed 103 >"$SCRATCH/p103.json"
deliver issues "$SCRATCH/p101.json" "$(sign "$SCRATCH/p101.json")"
is "$CODE" 202 "Redis up: 202"

stop_redis
deliver issues "$SCRATCH/p102.json" "$(sign "$SCRATCH/p102.json")"
is "$CODE" 503 "Redis stopped: 503"
like "$(last_log)" "^wb-hook: warning: delivery $DELIVERY event issues action labeled number 102: 503 not queued: .*Redis" \
	"the 503 is logged with the reason"
get /healthz
is "$CODE" 503 "healthz: 503 while Redis is down"
kill -0 "$HOOK_PID"
is "$?" 0 "the receiver keeps running"

start_redis
deliver issues "$SCRATCH/p103.json" "$(sign "$SCRATCH/p103.json")"
is "$CODE" 202 "Redis back: the next delivery is 202"
is "$(redis_cli ZRANGE 'wb:{download}:pending' 0 -1 | tr '\n' ' ')" "103 " \
	"it is queued (the restarted Redis is empty: 102 was never acknowledged)"
deliver issues "$SCRATCH/p102.json" "$(sign "$SCRATCH/p102.json")"
is "$CODE:$(redis_cli ZSCORE 'wb:{download}:pending' 102 | grep -c .)" "202:1" \
	"GitHub's redelivery of the refused one is queued"
get /healthz
is "$CODE" 200 "healthz: 200 again"
stop_hook
is "$HOOK_RC" 0 "SIGTERM: exit 0"

# Redis frozen (SIGSTOP): 503 after its 2 s to answer, not a hang.
start_hook
frozen=$(cat "$REDIS_DIR/redis.pid")
kill -STOP "$frozen"
atexit "kill -CONT $frozen 2>/dev/null"
start=$(date +%s)
deliver issues "$SCRATCH/p102.json" "$(sign "$SCRATCH/p102.json")"
took=$(($(date +%s) - start))
is "$CODE" 503 "Redis frozen: 503"
is "$([ "$took" -le 8 ] && echo bounded)" bounded "answered within 8 s (took ${took}s)"
like "$(last_log)" ": 503 not queued: .*Redis" "logged with the reason"
kill -CONT "$frozen"
# A loop whose attempt to connect timed out waits a second before the
# next one (503 meanwhile): redeliver until accepted, as GitHub would.
accepted() {
	deliver issues "$1" "$(sign "$1")"
	[ "$CODE" = 202 ]
}
wait_for 20 accepted "$SCRATCH/p102.json"
is "$CODE:$(redis_cli ZSCORE 'wb:{download}:pending' 102 | grep -c .)" "202:1" \
	"Redis thawed: 202, queued"
stop_hook
is "$HOOK_RC" 0 "SIGTERM: exit 0"

# Started while Redis is down: it serves 503 and recovers.
stop_redis
start_hook
like "$(cat "$SCRATCH/hook.err")" "^wb-hook: warning: unable to connect to Redis at $REDIS_SOCK: .*; answering 503 until it is back\$" \
	"start-up without Redis: a warning, not an exit"
deliver issues "$SCRATCH/p101.json" "$(sign "$SCRATCH/p101.json")"
is "$CODE" 503 "503 until Redis starts"
start_redis
deliver issues "$SCRATCH/p101.json" "$(sign "$SCRATCH/p101.json")"
is "$CODE:$(redis_cli ZRANGE 'wb:{download}:pending' 0 -1 | tr '\n' ' ')" "202:101 " \
	"then 202, queued"
stop_hook
is "$HOOK_RC" 0 "SIGTERM: exit 0"
done_testing
