#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The indexer service of SPEC.md composed by hand, against a real Redis
# and the Elasticsearch double:
#   wb-dequeue --delay 0 index | wb-bulk | wb-ack
# Every queued issue ends up in the indices exactly as archived (gone ones
# removed), and the queue ends empty; a change queued while it runs is
# indexed too.
. "${0%/*}/lib.sh"
. "${0%/*}/es-double.sh"
plan 8
start_redis
start_es

D=$SCRATCH/data
WB_DATA=$D
export WB_DATA
for n in $(seq 1 40); do mk_issue "$D" "$n" $((n % 5 * 4)); done
mk_issue "$D" 50 6
echo 50 | wb-bulk >/dev/null    # indexed once, then gone from the archive
rm -r "$D/current/50"

seq 1 40 | wb-enqueue index 2>/dev/null
echo 50 | wb-enqueue index 2>/dev/null
is "$(wb-queue length index)" 41 "41 issues queued"

setsid sh -c 'wb-dequeue --delay 0 index | wb-bulk | wb-ack' \
	>"$SCRATCH/out" 2>"$SCRATCH/err" &
pid=$!
atexit "kill -- -$pid 2>/dev/null"
queue_empty() { [ "$(wb-queue length index)" = 0 ]; }
wait_for 30 queue_empty
ok $? "the queue ends empty"
# shellcheck disable=SC2046	# one number a word
index_is_archive "$D" $(seq 1 40)
is "$(es_docs timelines | grep -c '^50-')" 0 "the gone issue's events removed"

# A change while the service runs: shrink one timeline, grow another.
mk_issue "$D" 4 1
mk_issue "$D" 5 9
printf '4\n5\n' | wb-enqueue index 2>/dev/null
wait_for 30 queue_empty
ok $? "the changed issues acknowledged"
es POST /_refresh >/dev/null
is "$(es_docs timelines)" "$(expected_docs "$D" timelines $(seq 1 40))" "timelines still equals the archive"
kill -- -"$pid"
is "$(cat "$SCRATCH/err")" "" "nothing on stderr"
done_testing
