#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Consumers: a dequeuer that starts under the name of a dead one takes back
# its claims at once (not after the lease); a live consumer's claims are
# never taken, by another name (another machine) nor by the same name,
# which waits; a consumer whose registration lapsed is fenced off; the
# lease stays the safety net for a consumer that never comes back.
. "${0%/*}/lib.sh"
plan 27
start_redis

numbers() { sed 's/^{"number":\([0-9]*\),.*/\1/' "$@" | sort -n | tr '\n' ' '; }
claims() { sed 's/.*"claim":"\([0-9]*\)".*/\1/' "$@" | sort -u | tr '\n' ' '; }
leases() { redis_cli ZCARD "wb:{$1}:leases"; }
# held QUEUE C: the numbers claimed by consumer C (the numbers in leases
# scored by one of C's tokens).
held() {
	for _t in $(redis_cli ZRANGE "wb:{$1}:held:$2" 0 -1); do
		redis_cli ZRANGEBYSCORE "wb:{$1}:leases" "$_t" "$_t"
	done | sed '/^$/d' | sort -n | tr '\n' ' '
}
lines() { [ "$(grep -c . "$1" 2>/dev/null)" -ge "$2" ]; }
has_line() { grep -qxF "$2" "$1"; }
blocked() { redis_cli CLIENT LIST | grep -q "name=wb-dequeue:$1:.*cmd=blpop"; }
# start_dq FILE ARGS...: a dequeuer in the background writing to FILE
# (stderr to FILE.err); its pid in $DQ.
start_dq() {
	_f=$1
	shift
	wb-dequeue "$@" >"$_f" 2>"$_f.err" &
	DQ=$!
	atexit "kill $DQ 2>/dev/null"
}

run wb-dequeue --consumer 'a b' q
is "$RC:$ERR" "100:wb-dequeue: fatal: bad consumer name (1 to 160 of A-Z a-z 0-9 _ . : @ -): a b" "a bad consumer name is refused"

# The default name is HOST:QUEUE, registered with this connection.
start_dq "$SCRATCH/def" --delay 0 dflt
wait_for 10 blocked dflt
host=$(hostname | tr -c 'A-Za-z0-9_.\n-' '-')
is "$(redis_cli HGET "wb:{dflt}:consumer:$host:dflt" client | sed 's/:[0-9a-f]*$//')" "wb-dequeue:dflt" "default consumer name HOST:QUEUE, registered"
kill "$DQ"

# Takeover: a dequeuer holding 30 claims is killed; its successor of the
# same name, with the default 600 s lease, hands out the same numbers at
# once, with new claims.
seq 1 30 | wb-enqueue t 2>/dev/null
start_dq "$SCRATCH/t1" --delay 0 --batch 10 --consumer dl t
wait_for 10 lines "$SCRATCH/t1" 30
wait_for 10 blocked t
is "$(leases t):$(held t dl)" "30:$(seq 1 30 | tr '\n' ' ')" "30 claims held under consumer dl"
kill -9 "$DQ"
start=$(date +%s)
start_dq "$SCRATCH/t2" --delay 0 --consumer dl t
wait_for 10 lines "$SCRATCH/t2" 30
is "$(numbers "$SCRATCH/t2")" "$(numbers "$SCRATCH/t1")" "the successor hands out the dead one's 30 numbers"
ok "$([ $(($(date +%s) - start)) -le 5 ]; echo $?)" "at once, not after the 600 s lease"
is "$(cat "$SCRATCH/t2.err")" "wb-dequeue: info: consumer dl of t took back 30 claims of its dead predecessor" "and says so"
is "$(claims "$SCRATCH/t2" | wc -w):$(claims "$SCRATCH/t1" "$SCRATCH/t2" | wc -w)" "1:$(($(claims "$SCRATCH/t1" | wc -w) + 1))" "under a new claim"
is "$(redis_cli HGET 'wb:{t}:deliveries' 7):$(redis_cli HLEN 'wb:{t}:suspect')" ":30" "not counted as deliveries (a pipeline killed is not its items' fault): suspects"
wb-ack <"$SCRATCH/t1" 2>"$SCRATCH/t1.ack"
is "$(grep -c 'no longer current' "$SCRATCH/t1.ack"):$(leases t)" "30:30" "the dead one's claims are stale: nothing acknowledged"
wb-ack <"$SCRATCH/t2"
is "$(leases t):$(wb-queue length t):$(held t dl):$(redis_cli EXISTS 'wb:{t}:deliveries')" "0:0::0" "the successor's claims acknowledged: no claim or count left"
kill "$DQ"

# A live consumer's claims are never taken by another name, as by a
# dequeuer of another machine. This one holds 10 claims while its reader
# works on the first (it reads one line, then sleeps).
seq 1 10 | wb-enqueue l 2>/dev/null
mkfifo "$SCRATCH/fl"
wb-dequeue --delay 0 --consumer host1:l l >"$SCRATCH/fl" 2>"$SCRATCH/la.err" &
apid=$!
atexit "kill $apid 2>/dev/null"
sh -c 'echo $$ >"$0"; read -r x; exec sleep 1000' "$SCRATCH/rl" <"$SCRATCH/fl" &
atexit "kill \$(cat '$SCRATCH/rl') 2>/dev/null"
held_10() { [ "$(held l host1:l | wc -w)" = 10 ]; }
wait_for 10 held_10
run wb-dequeue --once --delay 0 --consumer host2:l l
is "$RC:$OUT:$ERR" "0::" "another consumer takes none of a live one's claims"
wb-enqueue l 11 2>/dev/null
run wb-dequeue --once --delay 0 --consumer host2:l l
is "$(printf '%s\n' "$OUT" | numbers)" "11 " "only what is free"
is "$(held l host1:l)" "$(seq 1 10 | tr '\n' ' ')" "the live one still holds its 10"
run wb-dequeue --once --delay 0 --lease 1 l
is "$RC:$OUT:$(held l host1:l | wc -w)" "0::10" "nor does a one-off run with the default name"

# The same name while its holder lives: the newcomer warns and waits,
# taking nothing; when the holder dies it takes over at once.
start_dq "$SCRATCH/lb" --delay 0 --consumer host1:l l
bpid=$DQ
id=$(redis_cli HGET 'wb:{l}:consumer:host1:l' id)
wait_for 10 has_line "$SCRATCH/lb.err" "wb-dequeue: warning: consumer host1:l of l is held by a live dequeuer (Redis client $id); waiting for it to end"
is "$?" 0 "same name, holder alive: a warning naming it"
is "$(grep -c . "$SCRATCH/lb"):$(held l host1:l | wc -w):$(redis_cli HGET 'wb:{l}:consumer:host1:l' id)" "0:10:$id" "it takes nothing and leaves the registration"
kill -9 "$apid"
wait_for 3 lines "$SCRATCH/lb" 10
is "$(numbers "$SCRATCH/lb")" "$(seq 1 10 | tr '\n' ' ')" "the holder killed: the waiting one takes over its claims at once"
is "$(held l host1:l | wc -w):$(redis_cli HGET 'wb:{l}:consumer:host1:l' id | grep -vcx "$id")" "10:1" "now held under its own registration"

# A registration that lapsed (as after 60 s without renewal: a stopped
# process, a partition) is free to take; its old holder is fenced off.
redis_cli DEL 'wb:{l}:consumer:host1:l' >/dev/null
start_dq "$SCRATCH/lc" --delay 0 --consumer host1:l l
cpid=$DQ
# Its predecessor held a probe (the 10 it took back): half of it first,
# and nothing else while it is out.
wait_for 10 lines "$SCRATCH/lc" 5
is "$(grep -c . "$SCRATCH/lc"):$(claims "$SCRATCH/lc" | wc -w)" "5:1" "lapsed registration: its claims taken back, half of its probe first"
# The enqueue wakes the fenced one, blocked since it took over.
wb-enqueue l 12 2>/dev/null
wait "$bpid"
is "$?:$(tail -n 1 "$SCRATCH/lb.err")" "111:wb-dequeue: fatal: unable to claim from l: consumer host1:l of l was taken over by another dequeuer" "the old holder claims nothing more and exits 111"
wb-ack <"$SCRATCH/lc" 2>/dev/null
wait_for 10 lines "$SCRATCH/lc" 10
is "$(numbers "$SCRATCH/lc")" "$(seq 1 10 | tr '\n' ' ')" "the probe acknowledged: the other half"
wb-ack <"$SCRATCH/lc" 2>/dev/null
wait_for 10 lines "$SCRATCH/lc" 11
is "$(numbers "$SCRATCH/lc")" "$(seq 1 12 | grep -vx 11 | tr '\n' ' ')" "then the new item"
kill "$cpid"

# The lease is still the safety net: a consumer killed and never started
# again loses its claims to anyone after its lease.
seq 1 5 | wb-enqueue s 2>/dev/null
start_dq "$SCRATCH/s1" --delay 0 --lease 1 --consumer gone s
wait_for 10 lines "$SCRATCH/s1" 5
kill -9 "$DQ"
run wb-dequeue --once --delay 0 --consumer other s
is "$OUT" "" "before the lease runs out, nobody else gets them"
wait_for 10 sh -c 'wb-dequeue --once --delay 0 --consumer other s >"$0"; test -s "$0"' "$SCRATCH/s2"
is "$(numbers "$SCRATCH/s2")" "1 2 3 4 5 " "after it, another consumer does"
is "$(held s gone):$(held s other)" ":1 2 3 4 5 " "the dead consumer holds nothing more"

# Waiting for a live holder, the newcomer still notices its reader dying.
start_dq "$SCRATCH/w1" --delay 0 --consumer w w
wait_for 10 blocked w
mkfifo "$SCRATCH/fw"
wb-dequeue --delay 0 --consumer w w >"$SCRATCH/fw" 2>"$SCRATCH/w2.err" &
w2=$!
atexit "kill $w2 2>/dev/null"
# shellcheck disable=SC2217	# it holds the FIFO open for reading
sleep 1000 <"$SCRATCH/fw" &
rd=$!
atexit "kill $rd 2>/dev/null"
wait_for 10 grep -q 'waiting for it to end' "$SCRATCH/w2.err"
kill -9 "$rd"
wait "$w2"
is "$?:$(tail -n 1 "$SCRATCH/w2.err")" "111:wb-dequeue: fatal: unable to hand out more of w: standard output's reader is gone" "a waiting newcomer whose reader dies exits 111"

# Purge leaves no consumer key behind (the live consumer's registration stays).
seq 1 3 | wb-enqueue w 2>/dev/null
wait_for 10 lines "$SCRATCH/w1" 3
is "$(wb-queue purge w):$(held w w):$(redis_cli EXISTS 'wb:{w}:deliveries' 'wb:{w}:leases')" "3::0" "purge removes claims and counts"
done_testing
