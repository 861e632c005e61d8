#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# A Redis that evicts keys (maxmemory-policy other than noeviction)
# silently drops queued items: every tool says so when it connects, and
# wb-hook refuses to confirm anything (503, logged, /healthz too) until
# the policy is noeviction. A Redis whose CONFIG is renamed away (as on
# managed services) cannot be checked: a warning, not a failure.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 16
start_redis
redis_cli CONFIG SET maxmemory-policy allkeys-lru >/dev/null
evicts="warning: Redis at $REDIS_SOCK evicts keys when full (maxmemory-policy allkeys-lru): queued work can vanish; set maxmemory-policy noeviction"

run wb-enqueue q 5
is "$RC:$ERR" "0:wb-enqueue: $evicts
wb-enqueue: info: 1 queued into q, 0 claims acknowledged" "wb-enqueue: one warning naming the policy and the fix"
run wb-queue length q
is "$RC:$OUT:$ERR" "0:1:wb-queue: $evicts" "wb-queue: the same warning"
run wb-dequeue --once --delay 0 q
is "$RC:$(printf '%s\n' "$ERR" | grep -c "^wb-dequeue: $evicts\$")" "0:1" "wb-dequeue: the same warning"
printf '%s\n' "$OUT" >"$SCRATCH/claimed"
run wb-ack <"$SCRATCH/claimed"
is "$RC:$ERR" "0:wb-ack: $evicts" "wb-ack: the same warning"

SECRET=evict
export WB_HOOK_SECRET="$SECRET"
start_hook
is "$(grep -cxF "wb-hook: $evicts" "$SCRATCH/hook.err")" 1 "wb-hook: the same warning at start"
payload opened 61 >"$SCRATCH/p61.json"
deliver issues "$SCRATCH/p61.json" "$(sign "$SCRATCH/p61.json")"
is "$CODE:$(redis_cli ZCARD 'wb:{download}:pending')" "503:0" \
	"wb-hook: a delivery is refused (503), nothing queued"
like "$(last_log)" "^wb-hook: warning: delivery $DELIVERY event issues action opened number 61: 503 not queued: Redis at $REDIS_SOCK evicts keys when full \\(maxmemory-policy allkeys-lru\\): queued work can vanish; set maxmemory-policy noeviction" \
	"the 503 is logged with the reason"
get /healthz
is "$CODE" 503 "/healthz: 503, what a delivery gets"
like "$(cat "$SCRATCH/body")" "^deliveries get 503: Redis at $REDIS_SOCK evicts keys when full \\(maxmemory-policy allkeys-lru\\)" \
	"/healthz says why"

redis_cli CONFIG SET maxmemory-policy noeviction >/dev/null
accepted() {
	deliver issues "$1" "$(sign "$1")"
	[ "$CODE" = 202 ]
}
wait_for 40 accepted "$SCRATCH/p61.json"
is "$CODE:$(redis_cli ZCARD 'wb:{download}:pending')" "202:1" \
	"set to noeviction: accepted again (after the backoff)"
# Each serving thread has its own connection and backoff: /healthz may be
# answered by one that has not asked again yet.
healthy() {
	get /healthz
	[ "$CODE" = 200 ]
}
wait_for 40 healthy
is "$CODE" 200 "/healthz: 200"
stop_hook

# CONFIG renamed away: the policy cannot be read; a warning, not a failure.
stop_redis
REDIS_CONF_EXTRA='rename-command CONFIG ""' start_redis
run wb-enqueue q 7
unchecked="warning: unable to check the maxmemory-policy of Redis at $REDIS_SOCK \\(ERR unknown command 'CONFIG'.*\\): it must be noeviction, or queued work can vanish"
is "$RC:$(redis_cli ZCARD 'wb:{q}:pending')" "0:1" "wb-enqueue: queued"
like "$ERR" "^wb-enqueue: $unchecked\$" "with a warning that it could not be checked"
start_hook
payload opened 62 >"$SCRATCH/p62.json"
deliver issues "$SCRATCH/p62.json" "$(sign "$SCRATCH/p62.json")"
is "$CODE:$(redis_cli ZSCORE 'wb:{download}:pending' 62 | grep -c .)" "202:1" \
	"wb-hook: a delivery is accepted"
is "$(grep -cE "^wb-hook: $unchecked\$" "$SCRATCH/hook.err")" 1 \
	"wb-hook warns once that it could not check"
stop_hook
is "$HOOK_RC" 0 "SIGTERM: exit 0"
done_testing
