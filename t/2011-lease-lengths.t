#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# A claim's lease is its own: a short lease taken after a long one on the
# same queue expires when it says (the claim token, its expiry, is only
# moved on past a token in use, never raised to the last one made).
. "${0%/*}/lib.sh"
plan 4
start_redis

wb-enqueue q 1 2 2>/dev/null
run wb-dequeue --delay 0 --lease 600 --max 1 --once q
is "$RC" 0 "a claim with a 600 s lease"
run wb-dequeue --delay 0 --lease 1 --max 1 --once q
like "$OUT" '"number":2' "then one with a 1 s lease"
lease2=$(redis_cli zscore 'wb:{q}:leases' 2)
lease1=$(redis_cli zscore 'wb:{q}:leases' 1)
now=$(redis_cli time | head -1)
[ $((lease2 / 1000 - now)) -le 2 ] && [ $((lease1 / 1000 - now)) -ge 590 ]
ok $? \
	"each lease expires when its own length says ($((lease1 / 1000 - now)) s, $((lease2 / 1000 - now)) s)"
expired() { wb-queue --delay 0 stats q | grep -q 'expired 1'; }
wait_for 10 expired
run wb-dequeue --delay 0 --once q
like "$OUT" '^\{"number":2,' "the short one is handed out again once it lapsed"
