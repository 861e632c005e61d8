#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-dequeue and wb-ack: debounce, leases, the lost-update race, waking.
. "${0%/*}/lib.sh"
plan 25
start_redis

run wb-dequeue
is "$RC" 100 "no queue: usage 100"
run wb-dequeue --lease 0.5 q
is "$RC" 100 "lease under a second refused"
run wb-dequeue --batch 1001 q
is "$RC" 100 "batch over 1000 refused"

# Claims carry queue and token; an empty queue with --once emits nothing.
run wb-dequeue --once --delay 0 q
is "$RC:$OUT" "0:" "empty queue, --once: nothing, exit 0"
wb-enqueue q 1 2 3 2>/dev/null
run wb-dequeue --once --delay 0 q
is "$(printf '%s\n' "$OUT" | sed 's/"claim":"[0-9]*"/"claim":T/' | sort)" \
'{"number":1,"queue":"q","claim":T}
{"number":2,"queue":"q","claim":T}
{"number":3,"queue":"q","claim":T}' "every ready item claimed once, as a record"
printf '%s\n' "$OUT" > "$SCRATCH/claims"
run wb-dequeue --once --delay 0 q
is "$OUT" "" "claimed items are not handed out again"
is "$(wb-queue --delay 0 stats q)" "queued 3	ready 0	waiting 0	claimed 3	expired 0	requeued 0	oldest_ready_s -1	dead 0" "stats while claimed"
run wb-ack < "$SCRATCH/claims"
is "$RC:$(wb-queue length q)" "0:0" "acknowledged: queue empty"

# Debounce: an item queued again is not ready until idle for the delay.
wb-enqueue d 7 2>/dev/null
first=$(redis_cli ZSCORE 'wb:{d}:pending' 7)
wb_sleep_until_later() { [ "$(redis_cli TIME | head -n 1)" -gt "$(( ${first%???} + 1 ))" ]; }
wait_for 5 wb_sleep_until_later
wb-enqueue d 7 2>/dev/null
second=$(redis_cli ZSCORE 'wb:{d}:pending' 7)
ok "$([ "$second" -gt "$first" ]; echo $?)" "re-queueing moves the activity time"
is "$(redis_cli ZCARD 'wb:{d}:pending')" 1 "one entry per number"
run wb-dequeue --once --delay 3 d
is "$OUT" "" "not emitted before it has been idle for the delay"
is "$(wb-queue --delay 3 stats d | cut -f3)" "waiting 1" "stats: waiting"
wait_for 10 sh -c 'test -n "$(wb-dequeue --once --delay 3 d)"'
is "$?" 0 "emitted once idle for the delay"

# Lease: a claim that is never acknowledged comes back after its lease.
wb-enqueue l 9 2>/dev/null
run wb-dequeue --once --delay 0 --lease 1 l
like "$OUT" '^\{"number":9,"queue":"l","claim":"[0-9]+"\}$' "claimed with a 1 s lease"
old=$OUT
wait_for 10 sh -c 'wb-dequeue --once --delay 0 --lease 1 l > "$0"; test -s "$0"' "$SCRATCH/again"
new=$(cat "$SCRATCH/again")
ok "$([ -n "$new" ] && [ "$new" != "$old" ]; echo $?)" "after the lease expired it is handed out again, with a new claim"
printf '%s\n' "$old" | wb-ack 2>"$SCRATCH/err"
like "$(cat "$SCRATCH/err")" 'claim of 9 in l was no longer current' "the stale claim is not acknowledged"
is "$(wb-queue length l)" 1 "and the item stays queued"

# The lost-update race: claim, queue again, acknowledge: still queued.
wb-enqueue r 5 2>/dev/null
wb-dequeue --once --delay 0 r > "$SCRATCH/rc"
wb-enqueue r 5 2>/dev/null
wb-ack < "$SCRATCH/rc"
is "$(wb-queue length r):$(redis_cli ZCARD 'wb:{r}:leases')" "1:0" "re-queued during its claim: stays queued after the ack"
is "$(wb-dequeue --once --delay 0 r | sed 's/"claim":"[0-9]*"/T/')" '{"number":5,"queue":"r",T}' "and is emitted again"

# Queued again while claimed and already idle for the delay: still not
# handed out twice; it waits for the claim's acknowledgement.
wb-enqueue g 8 2>/dev/null
wb-dequeue --once --delay 0 g > "$SCRATCH/gc"
wb-enqueue g 8 2>/dev/null
run wb-dequeue --once --delay 0 g
is "$OUT" "" "a claimed number queued again is not handed out again"
is "$(redis_cli ZCARD 'wb:{g}:pending'):$(redis_cli ZCARD 'wb:{g}:again'):$(redis_cli ZCARD 'wb:{g}:leases')" "0:1:1" "it waits in again"
wb-ack < "$SCRATCH/gc"
is "$(redis_cli ZCARD 'wb:{g}:pending'):$(redis_cli ZCARD 'wb:{g}:again'):$(redis_cli ZCARD 'wb:{g}:leases')" "1:0:0" "the ack moves it back to pending"
is "$(wb-dequeue --once --delay 0 g | grep -c '"number":8,')" 1 "and it is handed out once more"

# A blocked dequeuer wakes as soon as an item is queued (no fixed sleep).
wb-dequeue --delay 0 w > "$SCRATCH/w" 2>&1 &
pid=$!
atexit "kill $pid 2>/dev/null"
wait_for 10 sh -c "redis-cli -s '$REDIS_SOCK' CLIENT LIST | grep -q 'cmd=blpop'"
wb-enqueue w 42 2>/dev/null
wait_for 5 grep -q '"number":42' "$SCRATCH/w"
is "$?" 0 "a waiting dequeuer emits a new item at once"
kill $pid

# wb-ack rejects records without a claim, and says so.
run sh -c 'printf "%s\n" 5 "{\"number\":5,\"queue\":\"r\"}" | wb-ack'
is "$RC:$(printf '%s\n' "$ERR" | grep -c skipped)" "1:2" "records without a claim are rejected"
done_testing
