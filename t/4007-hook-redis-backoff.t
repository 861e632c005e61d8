#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-hook's reconnections to a Redis that does not answer (frozen): one
# slow attempt, then 503 at once for a while instead of holding the
# serving loop in another attempt for every request.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 5
start_redis
WB_DEBUG=1 start_hook -t 1
payload opened 71 >"$SCRATCH/p71.json"
frozen=$(cat "$REDIS_DIR/redis.pid")
kill -STOP "$frozen"
atexit "kill -CONT $frozen 2>/dev/null"
codes=
for _ in 1 2 3; do
	deliver issues "$SCRATCH/p71.json" ""
	codes="$codes$CODE "
done
is "$codes" "503 503 503 " "Redis frozen: every delivery is 503"
is "$(grep -c 'debug: connecting to Redis$' "$SCRATCH/hook.err")" 1 \
	"one connection attempt, not one per delivery"
like "$(last_log)" ': 503 not queued: .*\(next attempt in 1000 ms\)$' \
	"the 503s meanwhile give the reason and the backoff"
kill -CONT "$frozen"
wait_for 20 sh -c "curl -s -m 10 $HOOK_URL/healthz | grep -qx ok"
deliver issues "$SCRATCH/p71.json" ""
is "$CODE:$(redis_cli ZSCORE 'wb:{download}:pending' 71 | grep -c .)" "202:1" \
	"Redis thawed: once the backoff is over, 202 and queued"
stop_hook
is "$HOOK_RC" 0 "SIGTERM: exit 0"
done_testing
