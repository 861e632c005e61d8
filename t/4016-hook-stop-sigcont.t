#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-hook stopped as s6-supervise stops it: SIGTERM, then SIGCONT. Under
# the sanitizer build, the leak check at exit stops the process with
# PTRACE_ATTACH, whose SIGSTOP a SIGCONT discards: the check then waits
# forever while wb-hook spins at 100 % CPU (wb_lsan.h). Here SIGCONT comes
# again and again while wb-hook shares a busy CPU, three times; it must
# exit 0 each time, without spinning.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
command -v taskset >/dev/null || skip_all "taskset is not installed"
plan 9
start_redis
other=0
[ "$(nproc)" -gt 1 ] && other=1
hz=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$HOOK_PID/stat" 2>/dev/null || echo "$1"; }
gone() { case $(ps -o stat= -p "$HOOK_PID") in ''|Z*) return 0;; esac; return 1; }

for round in 1 2 3; do
	start_hook -t 2
	atexit "kill -KILL $HOOK_PID 2>/dev/null"
	# wb-hook and a busy loop share CPU 0: wb-hook waits for its turn,
	# which widens the window (the busy loop ends by itself in 10 s).
	taskset -p -c 0 "$HOOK_PID" >/dev/null
	taskset -c 0 timeout 10 sh -c 'while :; do :; done' &
	hog=$!
	atexit "kill $hog 2>/dev/null"
	# SIGTERM, then SIGCONT as fast as can be until it is gone (or 5 s).
	taskset -c "$other" python3 - "$HOOK_PID" >"$SCRATCH/sender.out" <<'EOP'
import os, signal, sys, time
pid, end = int(sys.argv[1]), time.time() + 5
os.kill(pid, signal.SIGTERM)
n = 0
while time.time() < end:
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        break
    n += 1
print(n)
EOP
	kill "$hog" 2>/dev/null
	before=$(cpu 0)
	wait_for 2 gone
	ok $? "round $round: wb-hook exits despite SIGCONT during its exit (sent $(cat "$SCRATCH/sender.out") times)"
	ticks=$(($(cpu "$before") - before))
	gone || kill -KILL "$HOOK_PID"	# stuck: its leak check's tracer goes too
	wait "$HOOK_PID"
	is "$?" 0 "round $round: it exits 0"
	[ "$ticks" -lt $((hz / 2)) ]
	ok $? "round $round: under 0.5 s of CPU once SIGCONT stops ($ticks ticks)"
done
done_testing
