#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# One address reconnecting in a loop past its connection limit: each
# refusal used to be a warning line (59,000 in 20 s); now at most
# WB_WARN_BURST (10) lines per cause every 10 s, then one line counting
# those not logged.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 5
start_redis
start_hook
python3 - "$HOOK_PORT" >"$SCRATCH/flood.out" <<'EOP'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.socket()
    s.bind(("127.0.0.9", 0))
    s.connect(("127.0.0.1", port))
    return s
held = [conn() for i in range(200)]	# over the 128 per address
end = time.time() + 3
n = 0
while time.time() < end:
    try:
        conn().close()
        n += 1
    except OSError:
        pass
print(n)
EOP
flood=$(cat "$SCRATCH/flood.out")
is "$([ "$flood" -ge 100 ] && echo many)" many "the client reconnected in a loop ($flood times)"
limit='libmicrohttpd: Server reached connection limit. Closing inbound connection.'
is "$(grep -c "^wb-hook: warning: $limit\$" "$SCRATCH/hook.err")" 10 \
	"10 lines of the refusal, not one per connection"
held() { grep -q '^wb-hook: warning: not logged: [0-9]* more warnings like "'"$limit"'" in the last 1[0-9] s$' "$SCRATCH/hook.err"; }
wait_for 20 held
is "$?" 0 "then one line counts those not logged"
is "$(wc -l <"$SCRATCH/hook.err")" 13 \
	"nothing else: listening, no secret, 10 refusals, the count"
is "$(curl -s -m 10 "$HOOK_URL/healthz")" ok "and the receiver serves"
done_testing
