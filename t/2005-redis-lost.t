#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Redis unreachable or lost mid-stream: a clear error, exit 111, no claim
# acknowledged that was not handed on.
. "${0%/*}/lib.sh"
plan 7
start_redis

for tool in "wb-dequeue --once q" "wb-ack" "wb-queue length q"; do
	run sh -c "WB_REDIS=redis://127.0.0.1:1/0 $tool </dev/null"
	like "$RC:$ERR" "^111:${tool%% *}: fatal: unable to connect to Redis at 127.0.0.1:1: " "$tool: unreachable Redis is 111"
done
run sh -c 'WB_REDIS=http://x wb-queue length q'
like "$RC:$ERR" '^100:wb-queue: fatal: WB_REDIS is not a redis:// or unix:// URL$' "malformed WB_REDIS is 100"
run sh -c 'WB_REDIS=redis://:s3cret@127.0.0.1:1/0 wb-queue length q'
unlike "$ERR" 's3cret' "the password is never printed"

# Lost mid-stream: wb-enqueue reading a pipe dies 111 when Redis goes away,
# and claims it had not yet handed on stay claimed (not acknowledged).
wb-enqueue src 1 2 2>/dev/null
wb-dequeue --once --delay 0 src > "$SCRATCH/claims"
mkfifo "$SCRATCH/fifo"
wb-enqueue dst < "$SCRATCH/fifo" 2>"$SCRATCH/err" &
pid=$!
exec 3>"$SCRATCH/fifo"
head -n 1 "$SCRATCH/claims" >&3
wait_for 10 sh -c "redis-cli -s '$REDIS_SOCK' ZCARD 'wb:{dst}:pending' | grep -qx 1"
is "$(redis_cli ZCARD 'wb:{src}:leases')" 1 "the first claim acknowledged once its number was queued, the second still claimed"
stop_redis
tail -n 1 "$SCRATCH/claims" >&3
exec 3>&-
wait $pid
like "$?:$(cat "$SCRATCH/err")" '^111:wb-enqueue: fatal: unable to ' "Redis lost mid-stream: 111 with a message"
done_testing
