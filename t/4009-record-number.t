#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# One rule for a record's "number" in every tool that reads records
# (lib/wb_record.c), the rule of bare lines and of wb-hook: an integer
# 1..2^31-1 written as digits. 1e3 and 12.0 are refused like 12.5.
. "${0%/*}/lib.sh"
plan 11
start_redis
WB_DATA=$SCRATCH/data
export WB_DATA
mkdir -p "$WB_DATA/current"

printf '%s\n' '{"number":1e3}' '{"number":12.0}' '{"number":1.2E1}' \
	'{"number":12,"number":1e1}' '{"number":-0}' >"$SCRATCH/bad"
# tool: the five lines refused, one warning each, in order.
expect() {
	printf '%s: warning: line %s, skipped\n' \
		"$1" '1: "number" is not a decimal integer in 1..2147483647: 1e3' \
		"$1" '2: "number" is not a decimal integer in 1..2147483647: 12.0' \
		"$1" '3: "number" is not a decimal integer in 1..2147483647: 1.2E1' \
		"$1" '4: "number" is not a decimal integer in 1..2147483647: 1e1' \
		"$1" '5: "number" is not a decimal integer in 1..2147483647: -0'
	printf '%s: warning: 5 input lines were rejected\n' "$1"
}

run wb-enqueue q <"$SCRATCH/bad"
is "$RC:$(redis_cli ZCARD 'wb:{q}:pending')" "1:0" "wb-enqueue: exit 1, nothing queued"
is "$ERR" "$(expect wb-enqueue)
wb-enqueue: info: 0 queued into q, 0 claims acknowledged" "wb-enqueue: one warning per line"

run wb-write <"$SCRATCH/bad"
is "$RC:$OUT" "1:" "wb-write: exit 1, nothing emitted"
is "$ERR" "$(expect wb-write)" "wb-write: one warning per line"

sed 's/}$/,"gone":true}/' "$SCRATCH/bad" >"$SCRATCH/gone"
mkdir -p "$WB_DATA/current/1000" "$WB_DATA/current/12"
run wb-write <"$SCRATCH/gone"
is "$RC:$(ls "$WB_DATA/current" | tr '\n' ' ')" "1:1000 12 " \
	"wb-write: a removal written 1e3 or 12.0 removes nothing"

# Bounded: before the rule, wb-bulk waited for Elasticsearch forever.
run timeout 30 wb-bulk <"$SCRATCH/bad"
is "$RC:$OUT" "1:" "wb-bulk: exit 1, nothing emitted"
is "$ERR" "$(expect wb-bulk)" "wb-bulk: one warning per line"

sed 's/}$/,"queue":"q","claim":"1"}/' "$SCRATCH/bad" >"$SCRATCH/claims"
run wb-ack <"$SCRATCH/claims"
is "$RC" 1 "wb-ack: exit 1"
is "$ERR" "$(expect wb-ack)" "wb-ack: one warning per line"

# The same in a line libjq reads but that is not strict JSON (a removal
# needs no strict text), and wherever the key "number" appears.
printf '%s\n' '{"x":"\"number\":10","number":1e1,"y":nan}' '{"number" : 10 ,"y":nan}' >"$SCRATCH/lax"
run wb-enqueue r <"$SCRATCH/lax"
is "$RC:$ERR:$(redis_cli ZRANGE 'wb:{r}:pending' 0 -1)" '1:wb-enqueue: warning: line 1: "number" is not a decimal integer in 1..2147483647: 1e1, skipped
wb-enqueue: warning: 1 input line was rejected
wb-enqueue: info: 1 queued into r, 0 claims acknowledged:10' "not strict JSON: the same rule"

# Written as an integer, the same numbers pass.
printf '%s\n' '{"number":1000}' '{"number":12}' 7 | wb-enqueue q 2>/dev/null
is "$(redis_cli ZRANGE 'wb:{q}:pending' 0 -1 | sort -n | tr '\n' ' ')" "7 12 1000 " \
	"integers written as integers are queued"
done_testing
