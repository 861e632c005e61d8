#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# A backfill-sized queue: 1,000,000 numbers in, length exact, drained once.
. "${0%/*}/lib.sh"
plan 4
start_redis

seq 1 1000000 | wb-enqueue download 2>"$SCRATCH/err"
is "$?" 0 "1,000,000 numbers queued"
is "$(cat "$SCRATCH/err")" "wb-enqueue: info: 1000000 queued into download, 0 claims acknowledged" "count on stderr"
is "$(wb-queue length download)" 1000000 "length is exactly 1000000"
is "$(wb-dequeue --once --delay 0 --batch 1000 download | sort -u | wc -l)" 1000000 "drained: every number exactly once"
done_testing
