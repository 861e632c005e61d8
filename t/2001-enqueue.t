#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-enqueue: numbers from arguments and records, bad input, claims.
. "${0%/*}/lib.sh"
plan 24
start_redis

run wb-enqueue --help
is "$RC" 0 "--help exits 0"
like "$OUT" '^usage: wb-enqueue QUEUE' "--help prints the usage"
run wb-enqueue --version
is "$OUT" "wb-enqueue (wb) 0.1.0" "--version"
run wb-enqueue
is "$RC" 100 "no queue: usage error 100"
run wb-enqueue 'bad{name}' 1
is "$RC" 100 "bad queue name: 100"
run wb-enqueue q 0
is "$RC:$(redis_cli EXISTS 'wb:{q}:pending')" "100:0" "argument 0 refused before anything is queued"

run wb-enqueue q 5 7 5
is "$RC" 0 "arguments queued"
is "$(redis_cli ZRANGE 'wb:{q}:pending' 0 -1 | sort -n | tr '\n' ' ')" "5 7 " "duplicates queue once"

printf '%s\n' 10 '{"number":11,"other":"x"}' '"12"' -5 1e3 99999999999 \
	2147483648 2147483647 '{"number":"13"}' '{"number":14.5}' '{"num":1}' \
	'[1]' '{"number":15' '' ' 16 ' 0 017 '{"number":1e2}' > "$SCRATCH/in"
run wb-enqueue r < "$SCRATCH/in"
is "$RC" 1 "rejected lines make exit status 1"
is "$(redis_cli ZRANGE 'wb:{r}:pending' 0 -1 | sort -n | tr '\n' ' ')" \
	"10 11 16 2147483647 " "every valid line queued, only those"
is "$(printf '%s\n' "$ERR" | grep -c 'skipped$')" 14 "one warning per bad line"
like "$ERR" '^wb-enqueue: warning: line 3: not an issue number .*: "12", skipped$' "quoted number named by line"
like "$ERR" '^wb-enqueue: warning: line 7: .*2147483648, skipped$' "2^31 refused"
like "$ERR" 'line 9: "number" is not a number, skipped' "string number refused"
like "$ERR" 'line 10: "number" is not a decimal integer in 1..2147483647: 14.5, skipped' "fraction refused"
like "$ERR" 'line 13: not valid JSON' "truncated JSON refused"
like "$ERR" 'line 14: empty line, skipped' "empty line reported"
like "$ERR" '^wb-enqueue: info: 4 queued into r, 0 claims acknowledged$' "count on stderr"

# A line longer than the cap is reported and the stream resynchronises.
{ echo 20; head -c 5000 /dev/zero | tr '\0' 1; echo; echo 21; } > "$SCRATCH/long"
WB_MAX_LINE=1000 run wb-enqueue long < "$SCRATCH/long"
is "$RC:$(redis_cli ZRANGE 'wb:{long}:pending' 0 -1 | sort -n | tr '\n' ' ')" \
	"1:20 21 " "over-long line skipped, neighbours kept"
like "$ERR" 'line 2: longer than 1000 bytes, skipped' "over-long line named"

# A last line without a newline still counts; CRLF is tolerated.
printf '30\r\n31' | wb-enqueue crlf 2>/dev/null
is "$(redis_cli ZRANGE 'wb:{crlf}:pending' 0 -1 | sort -n | tr '\n' ' ')" "30 31 " "CRLF and unterminated last line"

# On a terminal, a progress line with the count and the rate; elsewhere none.
seq 1 5000 > "$SCRATCH/5000"
script -qec "wb-enqueue tty < $SCRATCH/5000" /dev/null > "$SCRATCH/tty" 2>&1
like "$(tr '\r' '\n' < "$SCRATCH/tty")" '^wb-enqueue: 5000 items, [0-9]+/s' "progress line on a terminal"
run wb-enqueue notty < "$SCRATCH/5000"
unlike "$ERR" 'items, ' "no progress line when stderr is not a terminal"

run sh -c 'printf "1\n" | WB_REDIS=unix:///nonexistent/sock wb-enqueue q'
like "$RC:$ERR" '^111:wb-enqueue: fatal: unable to connect to Redis at /nonexistent/sock: ' "Redis unreachable: 111 and a clear message"
done_testing
