#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-queue: length, list, purge, stats, of one queue and of all.
. "${0%/*}/lib.sh"
plan 14
start_redis

run wb-queue
is "$RC" 100 "no command: usage 100"
run wb-queue frob q
is "$RC" 100 "unknown command: usage 100"
run wb-queue purge
is "$RC" 100 "purge needs a queue"
run wb-queue length
is "$RC:$OUT" "0:" "no queues yet: nothing listed"
is "$(wb-queue length q)" 0 "an unknown queue is empty"

wb-enqueue a 3 1 2 2>/dev/null
wb-enqueue b 10 2>/dev/null
wb-dequeue --once --delay 0 --max 1 a > "$SCRATCH/claim"
is "$(wb-queue length a)" 3 "length counts claimed items too"
is "$(wb-queue length | sort)" "a	3
b	1" "length of every queue, named"
is "$(wb-queue --delay 0 list a | cut -f1,2)" "2	ready
3	ready
1	claimed" "list: unclaimed in activity order, then claimed"
like "$(wb-queue list b)" '^10	waiting	20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z$' "list: state and UTC time"
is "$(wb-queue --delay 0 stats a | cut -f1-6)" "queued 3	ready 2	waiting 0	claimed 1	expired 0	requeued 0" "stats counts"
like "$(wb-queue --delay 0 stats a | cut -f7)" '^oldest_ready_s [0-9]+$' "stats: oldest ready age"
is "$(wb-queue purge a)" 3 "purge says how many it removed"
is "$(wb-queue length a):$(redis_cli EXISTS 'wb:{a}:pending' 'wb:{a}:leases' 'wb:{a}:claims')" "0:0" "purge leaves no key"
is "$(wb-queue length)" "b	1" "a purged queue is no longer listed"
done_testing
