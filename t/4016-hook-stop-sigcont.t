#!/bin/sh
# wb-hook stopped as s6-supervise stops it: SIGTERM, then SIGCONT. Under
# the sanitizer build, the leak check at exit stops the process with
# PTRACE_ATTACH, whose SIGSTOP a SIGCONT discards: the check then waits
# forever while wb-hook spins at 100 % CPU. Here SIGCONT comes again and
# again while wb-hook shares a busy CPU; it must exit 0 all the same.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 3
command -v taskset >/dev/null || skip_all "taskset is not installed"
start_redis
start_hook -t 2
atexit "kill -KILL $HOOK_PID 2>/dev/null"
# wb-hook and a busy loop share CPU 0: wb-hook waits for its turn, which
# widens the window (the busy loop ends by itself within 10 s).
taskset -p -c 0 "$HOOK_PID" >/dev/null
taskset -c 0 timeout 10 sh -c 'while :; do :; done' &
hog=$!
atexit "kill $hog 2>/dev/null"
other=0
[ "$(nproc)" -gt 1 ] && other=1
# SIGTERM, then SIGCONT as fast as can be, until it is gone (or 5 s).
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
gone() { [ "$(ps -o stat= -p "$HOOK_PID")" = "" ] || [ "$(ps -o stat= -p "$HOOK_PID")" = Z ]; }
wait_for 2 gone
ok $? "wb-hook exits despite SIGCONT during its exit (sent $(cat "$SCRATCH/sender.out") times)"
ticks=$(awk '{ print $14 + $15 }' "/proc/$HOOK_PID/stat" 2>/dev/null || echo 0)
wait "$HOOK_PID"
is "$?" 0 "it exits 0"
hz=$(getconf CLK_TCK)
[ "$ticks" -lt $((2 * hz)) ]
ok $? "its CPU time stays under 2 s ($ticks ticks)"
done_testing
