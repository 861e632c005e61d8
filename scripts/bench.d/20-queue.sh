#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Queue figures (issue 2): wb-enqueue against redis-cli --pipe and
# redis-benchmark, wb-queue on a million items, wb-dequeue draining, RSS.
. "$(dirname "$0")/../bench-lib.sh"
start_redis
N=${BENCH_QUEUE_N:-1000000}
RUNS=${BENCH_RUNS:-5}
export N

# The physical ceiling: the same members into one sorted set by
# redis-cli --pipe, variadic ZADD of 1000 members each (RESP made untimed).
python3 - "$N" >"$SCRATCH/zadd.resp" <<'PY'
import sys
n = int(sys.argv[1]); out = sys.stdout.buffer
key = b"wb:{bench}:pending"
for start in range(1, n + 1, 1000):
    members = range(start, min(start + 1000, n + 1))
    args = [b"ZADD", key]
    for m in members:
        args += [b"1764300000000", str(m).encode()]
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
PY
seq 1 "$N" >"$SCRATCH/numbers"
export BENCH_BEFORE="redis-cli -s $REDIS_SOCK FLUSHALL >/dev/null"

measure "$RUNS" "redis-cli -s $REDIS_SOCK --pipe <$SCRATCH/zadd.resp >/dev/null"
pipe=$MEDIAN
measure "$RUNS" "\$RSS wb-enqueue download <$SCRATCH/numbers 2>/dev/null"
enq=$MEDIAN enq_kb=$PEAK_KB
row "wb-enqueue $N numbers (s) vs redis-cli --pipe ZADD x1000" "$enq" "$pipe" "$(ratio "$enq" "$pipe")"

# redis-benchmark's zadd test re-adds one member unless -r is given; with
# -r its members are random, like a backfill's. Both are shown.
zadd=$(redis-benchmark -s "$REDIS_SOCK" -P 100 -t zadd -n "$N" --csv 2>/dev/null |
	awk -F'"' '/ZADD/ { print $4; exit }')
zaddr=$(redis-benchmark -s "$REDIS_SOCK" -P 100 -t zadd -r "$N" -n "$N" --csv 2>/dev/null |
	awk -F'"' '/ZADD/ { print $4; exit }')
rate=$(echo "$N $enq" | awk '{ printf "%.0f", $1 / $2 }')
row "wb-enqueue rate (items/s) vs redis-benchmark -P 100 zadd" "$rate" "$zadd" "$(ratio "$rate" "$zadd")"
row "wb-enqueue rate (items/s) vs same, -r $N (random members)" "$rate" "$zaddr" "$(ratio "$rate" "$zaddr")"

# A full queue for the read-only figures and the drain.
wb-enqueue download <"$SCRATCH/numbers" 2>/dev/null
unset BENCH_BEFORE
measure "$RUNS" "\$RSS wb-queue length download >/dev/null"
len_ms=$(echo "$MEDIAN" | awk '{ printf "%.1f", $1 * 1000 }') len_kb=$PEAK_KB
measure "$RUNS" "redis-cli -s $REDIS_SOCK PING >/dev/null"
ping_ms=$(echo "$MEDIAN" | awk '{ printf "%.1f", $1 * 1000 }')
row "wb-queue length on $N items (ms) vs redis-cli PING" "$len_ms" "$ping_ms" "$(ratio "$len_ms" "$ping_ms")"
measure "$RUNS" "\$RSS wb-queue --delay 0 stats download >/dev/null"
st_ms=$(echo "$MEDIAN" | awk '{ printf "%.1f", $1 * 1000 }') st_kb=$PEAK_KB
row "wb-queue stats on $N items (ms) vs redis-cli PING" "$st_ms" "$ping_ms" "$(ratio "$st_ms" "$ping_ms")"

# Drain: each run refills the queue untimed, then times the drain.
export BENCH_BEFORE="redis-cli -s $REDIS_SOCK FLUSHALL >/dev/null; wb-enqueue download <$SCRATCH/numbers 2>/dev/null"
measure 3 "\$RSS wb-dequeue --once --delay 0 --batch 1000 download | wc -l >/dev/null"
deq=$MEDIAN deq_kb=$PEAK_KB
drate=$(echo "$N $deq" | awk '{ printf "%.0f", $1 / $2 }')
row "wb-dequeue --once drain rate (items/s) vs target 100000" "$drate" 100000 "$(ratio "$drate" 100000)"
measure 3 "\$RSS wb-dequeue --once --delay 0 download | wc -l >/dev/null"
drate100=$(echo "$N $MEDIAN" | awk '{ printf "%.0f", $1 / $2 }')
row "wb-dequeue --once, default batch 100 (items/s)" "$drate100" 100000 "$(ratio "$drate100" 100000)"
unset BENCH_BEFORE

# Acknowledging a million claims.
redis-cli -s "$REDIS_SOCK" FLUSHALL >/dev/null
wb-enqueue download <"$SCRATCH/numbers" 2>/dev/null
wb-dequeue --once --delay 0 --batch 1000 download >"$SCRATCH/claims"
measure 1 "\$RSS wb-ack <$SCRATCH/claims"
ack_kb=$PEAK_KB
arate=$(echo "$N $MEDIAN" | awk '{ printf "%.0f", $1 / $2 }')
row "wb-ack rate (claims/s)" "$arate" - -

for f in "wb-enqueue:$enq_kb" "wb-dequeue:$deq_kb" "wb-ack:$ack_kb" "wb-queue length:$len_kb" "wb-queue stats:$st_kb"; do
	kb=${f##*:}
	row "peak RSS ${f%:*} (KB) vs limit 10240" "$kb" 10240 "$(ratio "$kb" 10240)"
done
