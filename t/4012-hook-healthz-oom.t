#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# /healthz says what a delivery would get: with Redis out of memory
# (noeviction, full), deliveries get 503 and so does /healthz, which used
# to answer 200 because Redis still answered PING.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 7
start_signed_hook oom
get /healthz
is "$CODE" 200 "/healthz: 200 while Redis takes writes"

# Filled, then given a maxmemory below what it holds.
head -c 300000 /dev/zero | tr '\0' x | redis_cli -x SET filler >/dev/null
used=$(redis_cli INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
redis_cli CONFIG SET maxmemory $((used - 100000)) >/dev/null
is "$(redis_cli SET probe 1)" "OOM command not allowed when used memory > 'maxmemory'." \
	"Redis refuses writes"

payload opened 71 >"$SCRATCH/p71.json"
deliver issues "$SCRATCH/p71.json" "$(sign "$SCRATCH/p71.json")"
is "$CODE" 503 "a delivery gets 503"
get /healthz
is "$CODE:$(cat "$SCRATCH/body")" "503:deliveries get 503: Redis refuses writes: OOM command not allowed when used memory > 'maxmemory'." \
	"/healthz: 503 too, saying why"
is "$(last_log)" "wb-hook: warning: healthz: 503 Redis refuses writes: OOM command not allowed when used memory > 'maxmemory'." \
	"and logged"

redis_cli CONFIG SET maxmemory 0 >/dev/null
get /healthz
is "$CODE" 200 "memory freed: /healthz 200"
deliver issues "$SCRATCH/p71.json" "$(sign "$SCRATCH/p71.json")"
is "$CODE:$(redis_cli ZSCORE 'wb:{download}:pending' 71 | grep -c .)" "202:1" \
	"and deliveries are queued again"
done_testing
