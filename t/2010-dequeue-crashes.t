#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Crashes and dead letters: a pipeline killed from outside (kill -9, the
# OOM killer) with a batch in flight parks none of its items, however
# often; an item that crashes its stage every time is parked after a
# bounded number of crashes (1 + log2(batch) + WB_MAX_DELIVERIES), with
# the warning, and every other item is done.
. "${0%/*}/lib.sh"
plan 9
start_redis

leases() { redis_cli ZCARD "wb:{$1}:leases"; }
# start_pipe QUEUE STAGE: wb-dequeue --delay 0 QUEUE | STAGE | wb-ack in
# a session of its own (its pid, the process group, in $PIPE); stderr
# appended to $SCRATCH/QUEUE.err.
start_pipe() {
	setsid sh -c 'wb-dequeue --delay 0 --consumer ix "$1" | "$2" | wb-ack' \
		sh "$1" "$2" 2>>"$SCRATCH/$1.err" </dev/null &
	PIPE=$!
	atexit "kill -KILL -$PIPE 2>/dev/null"
}
gone() { ! kill -0 "$1" 2>/dev/null; }

# The slow stage, as wb-bulk: gathers up to 100 lines (less once input
# pauses 50 ms), works 200 ms on them, then passes them on.
cat >"$SCRATCH/slow" <<'EOS'
#!/usr/bin/python3
import os, select, sys, time
buf, batch = b"", []
while True:
    if len(batch) >= 100 or (batch and not select.select([0], [], [], 0.05)[0]):
        time.sleep(0.2)
        os.write(1, b"".join(batch))
        batch = []
        continue
    chunk = os.read(0, 65536)
    if not chunk:
        break
    buf += chunk
    *lines, buf = buf.split(b"\n")
    batch += [l + b"\n" for l in lines]
EOS
# The poison stage: exits 111 on item 7.
cat >"$SCRATCH/poison" <<'EOS'
#!/bin/sh
while IFS= read -r l; do
	case $l in '{"number":7,'*) exit 111 ;; esac
	printf '%s\n' "$l"
done
EOS
chmod +x "$SCRATCH/slow" "$SCRATCH/poison"

# (a) 15 kills -9 of the whole pipeline, each while it holds 100 claims
# or more (a successor's first claim is what its predecessor held).
seq 1 800 | wb-enqueue k 2>/dev/null
held_100() { [ "$(leases k)" -ge 100 ]; }
kills=0
while [ "$kills" -lt 15 ]; do
	start_pipe k "$SCRATCH/slow"
	wait_for 30 held_100 || { diag "leases $(leases k) pending $(redis_cli ZCARD "wb:{k}:pending") suspects $(redis_cli HLEN "wb:{k}:suspect") probe $(redis_cli HGETALL "wb:{k}:probe:ix" | tr "\n" " ") held $(redis_cli ZRANGE "wb:{k}:held:ix" 0 -1 | tr "\n" " ")"; tail -5 "$SCRATCH/k.err" >&2; break; }
	kill -KILL "-$PIPE"
	wait_for 10 gone "$PIPE"
	kills=$((kills + 1))
done
is "$kills" 15 "15 pipelines killed with kill -9, each holding 100 claims"
is "$(redis_cli HLEN 'wb:{k}:deliveries'):$(wb-queue dead k | grep -c .)" "0:0" "no delivery counted, nothing parked"
start_pipe k "$SCRATCH/slow"
drained() { [ "$(wb-queue length k)" = 0 ]; }
wait_for 120 drained
is "$(wb-queue length k):$(wb-queue dead k | grep -c .):$(redis_cli HLEN 'wb:{k}:suspect')" "0:0:0" "then all of them done, none parked, no suspect left"
kill -KILL "-$PIPE"
is "$(grep -c 'parked' "$SCRATCH/k.err")" 0 "no parking warning"

# (b) A stage that exits 111 whenever it sees item 7: the pipeline ends
# (wb-dequeue sees its reader gone), and is started again, as s6 would.
WB_MAX_DELIVERIES=3
export WB_MAX_DELIVERIES
seq 1 30 | wb-enqueue p 2>/dev/null
crashes=0 runs=0
pdone() { [ "$(wb-queue length p)" = 0 ]; }
ended_or_done() { gone "$PIPE" || pdone; }
while [ "$runs" -lt 30 ]; do
	runs=$((runs + 1))
	start_pipe p "$SCRATCH/poison"
	wait_for 30 ended_or_done
	if gone "$PIPE"; then
		crashes=$((crashes + 1))
	else
		break
	fi
done
kill -KILL "-$PIPE" 2>/dev/null
diag "$crashes crashes"
ok "$([ "$crashes" -ge 4 ] && [ "$crashes" -le $((1 + 7 + 3)) ]; echo $?)" "the pipeline crashed at least WB_MAX_DELIVERIES + 1 times, at most 1 + log2(100) + WB_MAX_DELIVERIES"
is "$(grep -c parked "$SCRATCH/p.err"):$(grep parked "$SCRATCH/p.err")" \
	"1:wb-dequeue: warning: 7 of p was handed out 3 times without being acknowledged: parked as a dead letter" \
	"7 parked once, with the warning"
is "$(wb-queue dead p | cut -f1,2)" "7	3" "7 is the one dead letter, after 3 deliveries counted"
is "$(wb-queue length p):$(redis_cli HLEN 'wb:{p}:suspect')" "0:0" "every other item done"
is "$(redis_cli EXISTS 'wb:{p}:leases' 'wb:{p}:pending' 'wb:{p}:again')" 0 "nothing claimed or queued"
