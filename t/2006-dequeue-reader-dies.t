#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-dequeue exits at once when its reader dies, whatever it is doing:
# waiting for the pipe to drain (the unread bytes stay counted once the
# reader is gone) or blocked in Redis on an empty queue; and it claims
# nothing more. In a hand pipeline (a fifo) and in a plain sh pipeline.
. "${0%/*}/lib.sh"
plan 14
start_redis

leases() { redis_cli ZCARD "wb:{$1}:leases"; }
# gone PID: the process has exited (a zombie counts as gone).
gone() {
	! kill -0 "$1" 2>/dev/null ||
		[ "$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
# within2 PID: poll up to 2 s (100 x 20 ms) for PID to be gone.
within2() {
	_i=0
	while [ $_i -lt 100 ]; do
		gone "$1" && return 0
		sleep 0.02
		_i=$((_i + 1))
	done
	# Failed: end it (and its children), so that the test goes on.
	for _c in $(pgrep -P "$1"); do kill -9 "$_c"; done
	kill -9 "$1" 2>/dev/null
	return 1
}
blocked() { redis_cli CLIENT LIST | grep -q "name=wb-dequeue:$1:.*cmd=blpop"; }
reader_waits() { [ -s "$SCRATCH/rpid.$1" ]; }
# A reader that takes one line and then never reads again; it writes its
# pid (the same after exec) for the kill.
READER='echo $$ >"$0"; read -r x; exec sleep 1000'
msg() { printf 'wb-dequeue: fatal: unable to hand out more of %s: standard output'"'"'s reader is gone' "$1"; }

# hand Q: a hand pipeline, wb-dequeue >fifo, the reader <fifo; $dpid.
hand() {
	mkfifo "$SCRATCH/f.$1"
	wb-dequeue --delay 0 --lease 10 "$1" >"$SCRATCH/f.$1" 2>"$SCRATCH/err.$1" &
	dpid=$!
	atexit "kill $dpid 2>/dev/null"
	sh -c "$READER" "$SCRATCH/rpid.$1" <"$SCRATCH/f.$1" &
	wait_for 10 reader_waits "$1"
}
# kill_reader Q WHAT: kill -9 the reader of Q; wb-dequeue must follow.
kill_reader() {
	kill -9 "$(cat "$SCRATCH/rpid.$1")"
	within2 "$dpid"
	is "$?" 0 "$2: wb-dequeue gone within 2 s of its reader's kill -9"
	wait "$dpid"
	is "$?:$(cat "$SCRATCH/err.$1")" "111:$(msg "$1")" "exit 111, one line saying why"
}

# Hand pipeline, draining: 300 queued, 100 claimed and written, one read.
seq 1 300 | wb-enqueue hd 2>/dev/null
hand hd
wait_for 10 sh -c "[ \"\$(redis-cli -s '$REDIS_SOCK' ZCARD 'wb:{hd}:leases')\" = 100 ]"
is "$(leases hd)" 100 "draining: one batch claimed while the reader sleeps"
kill_reader hd draining
is "$(leases hd)" 100 "nothing more claimed"

# Hand pipeline, blocked in Redis on an empty queue.
hand hb
wait_for 10 blocked hb
is "$?" 0 "blocked: wb-dequeue waits in Redis"
kill_reader hb blocked
wb-enqueue hb 1 2 3 2>/dev/null
is "$(leases hb):$(wb-queue length hb)" "0:3" "nothing claimed after its reader died"

# Plain sh pipelines, as a supervisor's run script would have them: the
# shell waits for every stage, so it ends only if wb-dequeue does.
for state in sd sb; do
	[ "$state" = sd ] && seq 1 300 | wb-enqueue sd 2>/dev/null
	sh -c 'wb-dequeue --delay 0 --lease 10 "$1" 2>"$2" | sh -c "$3" "$4"' \
		sh "$state" "$SCRATCH/err.$state" "$READER" "$SCRATCH/rpid.$state" \
		2>"$SCRATCH/sh.$state" &
	spid=$!
	atexit "kill $spid 2>/dev/null"
	wait_for 10 reader_waits "$state"
	if [ "$state" = sd ]; then
		wait_for 10 sh -c "[ \"\$(redis-cli -s '$REDIS_SOCK' ZCARD 'wb:{sd}:leases')\" = 100 ]"
		what=draining
	else
		wait_for 10 blocked sb
		what="blocked in Redis"
	fi
	kill -9 "$(cat "$SCRATCH/rpid.$state")"
	within2 "$spid"
	is "$?" 0 "sh pipeline, $what: the whole pipeline gone within 2 s"
	wait "$spid"
	is "$?:$(cat "$SCRATCH/err.$state")" "137:$(msg "$state")" "sh pipeline, $what: wb-dequeue said why"
done
is "$(leases sd)" 100 "sh pipeline, draining: nothing more claimed"
wb-enqueue sb 1 2>/dev/null
is "$(leases sb)" 0 "sh pipeline, blocked: nothing claimed after"
done_testing
