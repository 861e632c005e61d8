#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Dead letters: an item handed out WB_MAX_DELIVERIES times without being
# acknowledged is parked, with a warning; wb-queue stats/dead/retry/list/
# purge show and handle parked items; an enqueue (wb-enqueue, wb-hook)
# brings one back with its count reset; an acknowledgement resets it.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 33
start_redis

run env WB_MAX_DELIVERIES=0 wb-queue length q
is "$RC:$ERR" "100:wb-queue: fatal: WB_MAX_DELIVERIES is out of range (1 to 1000000): 0" "WB_MAX_DELIVERIES=0 refused"
run env WB_MAX_DELIVERIES=ten wb-dequeue --once q
is "$RC:$ERR" "100:wb-dequeue: fatal: WB_MAX_DELIVERIES is not a decimal integer (1 to 1000000): ten" "a WB_MAX_DELIVERIES that is not a number refused"

count() { redis_cli HGET "wb:{$1}:deliveries" "$2"; }
numbers() { printf '%s\n' "$1" | sed -n 's/^{"number":\([0-9]*\),.*/\1/p' | sort -n | tr '\n' ' '; }
# deliver QUEUE: one more delivery of what QUEUE has, never acknowledged:
# a one-off dequeuer under one name, which the next run takes over at once
# (as a pipeline that dies). What it took back is suspect and comes in a
# probe of its own, half the size of the last one it was in; only a probe
# of one number taken back is a delivery counted.
deliver_once() { run wb-dequeue --once --delay 0 --consumer c "$1"; }
deliver_n() { _i=0; while [ "$_i" -lt "$1" ]; do deliver_once "$2"; _i=$((_i + 1)); done; }

WB_MAX_DELIVERIES=3
export WB_MAX_DELIVERIES
wb-enqueue q 5 6 2>/dev/null
deliver_once q
is "$(numbers "$OUT"):$(count q 5)" "5 6 :" "first delivery: nothing counted while its claim stands"
deliver_once q
is "$(numbers "$OUT"):$(count q 5):$(count q 6):$(redis_cli HGET 'wb:{q}:suspect' 5)" "5 6 :::1000" "taken back from its dead consumer: not counted, suspect, handed out again in a probe"
deliver_once q
is "$(numbers "$OUT"):$(count q 5):$(count q 6)" "5 ::" "that probe taken back: half of it, still not counted"
deliver_n 2 q
is "$(numbers "$OUT"):$(count q 5):$(count q 6)" "5 :2:" "alone in a probe taken back: each counted"
deliver_once q
is "$RC:$(numbers "$OUT"):$ERR" "0:6 :wb-dequeue: info: consumer c of q took back 1 claims of its dead predecessor
wb-dequeue: warning: 5 of q was handed out 3 times without being acknowledged: parked as a dead letter" "after WB_MAX_DELIVERIES, parked with a warning naming it and its count; the next suspect's probe"
deliver_n 3 q
is "$RC:$OUT:$ERR" "0::wb-dequeue: info: consumer c of q took back 1 claims of its dead predecessor
wb-dequeue: warning: 6 of q was handed out 3 times without being acknowledged: parked as a dead letter" "then that one parked too"
deliver_once q
is "$RC:$OUT:$ERR" "0::" "parked numbers stay parked"
is "$(wb-queue --delay 0 stats q)" "queued 0	ready 0	waiting 0	claimed 0	expired 0	requeued 0	oldest_ready_s -1	dead 2" "stats: the dead count"
is "$(wb-queue length q)" 0 "length does not count parked numbers"
is "$(wb-queue dead q | cut -f1,2)" "5	3
6	3" "dead: parked numbers with their delivery counts"
like "$(wb-queue dead q | cut -f3 | sort -u)" '^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z$' "dead: when parked, UTC"
is "$(wb-queue dead | cut -f1-3)" "q	5	3
q	6	3" "dead of every queue, named"
is "$(wb-queue list q | cut -f1,2)" "5	dead
6	dead" "list shows them as dead"

# retry N: back, active now, the count reset; the others stay parked.
run wb-queue retry q 5
is "$RC:$OUT:$ERR" "0:1:" "retry one: prints how many came back"
is "$(wb-queue dead q | cut -f1,2):$(count q 5):$(wb-queue --delay 0 list q | cut -f1,2 | tr '\n' ' ')" "6	3::5	ready 6	dead " "it is queued again, its count reset"
run wb-queue retry q 7 6
is "$RC:$OUT:$ERR" "1:1:wb-queue: warning: 7 is not parked in q" "a number not parked: a warning, exit 1"
run wb-queue retry q
is "$RC:$OUT" "0:0" "retry with nothing parked"
run wb-queue retry
is "$RC" 100 "retry needs a queue"
run wb-queue retry q x
is "$RC:$ERR" "100:wb-queue: fatal: not an issue number: x: not a decimal integer" "retry checks its numbers"

# retry all.
deliver_n 9 q
is "$(wb-queue dead q | cut -f1 | tr '\n' ' ')" "5 6 " "parked again after three more deliveries counted"
run wb-queue retry q
is "$OUT:$(wb-queue dead q):$(wb-queue length q):$(redis_cli HLEN 'wb:{q}:deliveries')" "2::2:0" "retry with no number: all of them back, counts reset"

# An enqueue brings a parked number back with its count reset; others
# keep their count.
deliver_n 9 q
wb-enqueue q 5 2>/dev/null
is "$(wb-queue dead q | cut -f1):$(count q 5):$(wb-queue --delay 0 list q | cut -f1,2 | head -n 1)" "6::5	ready" "wb-enqueue of a parked number: back, count reset"
# Through wb-hook's push, the same.
start_hook
deliver issues "$(payload opened 6 >"$SCRATCH/p6"; echo "$SCRATCH/p6")" ""
is "$CODE:$(wb-queue dead q | grep -c .):$(redis_cli HEXISTS 'wb:{download}:deliveries' 6)" "202:1:0" "wb-hook queues into download (q untouched)"
redis_cli ZADD 'wb:{download}:dead' 1 6 >/dev/null
redis_cli HSET 'wb:{download}:deliveries' 6 3 >/dev/null
deliver issues "$SCRATCH/p6" ""
is "$CODE:$(wb-queue dead download | grep -c .):$(redis_cli HEXISTS 'wb:{download}:deliveries' 6):$(wb-queue length download)" "202:0:0:1" "a webhook for a parked number: back, count reset"

# An acknowledgement resets the count, also when the number stays queued
# (queued again while claimed).
wb-enqueue a 9 2>/dev/null
deliver_n 3 a
is "$(count a 9)" 1 "three deliveries, one counted"
wb-enqueue a 9 2>/dev/null
printf '%s\n' "$OUT" | wb-ack
is "$(count a 9):$(wb-queue length a)" ":1" "acknowledged while queued again: stays queued, count reset"

# Purge clears parked numbers and counts too.
deliver_n 5 a
is "$(wb-queue dead a | cut -f1)" 9 "parked"
is "$(wb-queue purge a):$(redis_cli EXISTS 'wb:{a}:dead' 'wb:{a}:deliveries' 'wb:{a}:pending' 'wb:{a}:leases')" "1:0" "purge counts and removes parked numbers and counts"

# A lease that runs out counts a delivery too.
wb-enqueue e 4 2>/dev/null
wb-dequeue --once --delay 0 --lease 1 --consumer e1 e >/dev/null
wait_for 10 sh -c 'wb-dequeue --once --delay 0 --consumer e2 e >"$0"; test -s "$0"' "$SCRATCH/e2"
is "$(grep -c '"number":4,' "$SCRATCH/e2"):$(count e 4)" "1:1" "a lease that expired counts as a delivery"

# The default is 10 deliveries.
unset WB_MAX_DELIVERIES
wb-enqueue d 1 2>/dev/null
deliver_n 11 d
is "$(numbers "$OUT"):$(count d 1)" "1 :9" "the tenth delivery counted"
deliver_once d
is "$OUT:$(wb-queue dead d | cut -f1,2)" ":1	10" "by default parked after 10"
done_testing
