#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Recovery figure (issue 9): the time from kill -9 of a downloader-like
# pipeline's wb-dequeue, holding claims, to the first record its successor
# of the same consumer name emits, with the default 600 s lease (before
# consumers: the lease). Reference, in the same run: a fresh dequeuer's
# first record from a queue with ready items (start-up cost alone).
. "$(dirname "$0")/../bench-lib.sh"
start_redis
RUNS=${BENCH_RUNS:-7}
export SCRATCH REDIS_SOCK

# The old pipeline: wb-dequeue | a slow reader (a line every 50 ms, like a
# downloader), started untimed; it holds a batch of 100 claims when the
# timed part kills it. Its pid is in $SCRATCH/old.
cat >"$SCRATCH/before" <<'EOS'
redis-cli -s "$REDIS_SOCK" FLUSHALL >/dev/null
seq 1 500 | wb-enqueue download 2>/dev/null
( wb-dequeue --delay 0 --consumer dl download 2>/dev/null & echo $! >"$SCRATCH/old"; wait ) |
	( while read -r _; do sleep 0.05; done ) >/dev/null 2>&1 &
until [ "$(redis-cli -s "$REDIS_SOCK" ZCARD 'wb:{download}:leases')" = 100 ]; do sleep 0.01; done
EOS
export BENCH_BEFORE="sh $SCRATCH/before"
# shellcheck disable=SC2016
measure "$RUNS" 'kill -9 $(cat $SCRATCH/old); wb-dequeue --delay 0 --consumer dl download 2>/dev/null | head -n 1 >/dev/null'
take=$(echo "$MEDIAN" | awk '{ printf "%.1f", $1 * 1000 }')
export BENCH_BEFORE="redis-cli -s $REDIS_SOCK FLUSHALL >/dev/null; seq 1 500 | wb-enqueue download 2>/dev/null"
measure "$RUNS" 'wb-dequeue --delay 0 --consumer fresh download 2>/dev/null | head -n 1 >/dev/null'
fresh=$(echo "$MEDIAN" | awk '{ printf "%.1f", $1 * 1000 }')
unset BENCH_BEFORE
row "takeover: kill -9 to successor's 1st record (ms) vs fresh" "$take" "$fresh" "$(ratio "$take" "$fresh")"
row "takeover (ms) vs target 5000" "$take" 5000 "$(ratio "$take" 5000)"
row "takeover (ms) vs the 600 s lease (before consumers)" "$take" 600000 "$(ratio "$take" 600000)"
