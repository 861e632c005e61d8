#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# 2,000 idle connections from 16 addresses, each opened again as soon as
# it is closed, used to lock everyone out (deliveries timed out after
# 10 s) for as long as they were held. Near the connection limit, a new
# connection now closes the oldest one that sends no request, so that a
# delivery gets in.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 4
start_signed_hook idle
payload opened 91 >"$SCRATCH/p91.json"

hook_client idle holding "$SCRATCH/stop" <<'EOP'
import os, selectors, socket, sys, time
port, holding, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
sel = selectors.DefaultSelector()
def conn(addr):
    s = socket.socket()
    s.bind((addr, 0))
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    sel.register(s, selectors.EVENT_READ, addr)
addrs = ["127.0.0.%d" % (10 + i) for i in range(16)]
for i in range(2000):
    conn(addrs[i % 16])
open(holding, "w").write("holding\n")
reopened = 0
end = time.time() + 90
while not os.path.exists(stop) and time.time() < end:
    for key, _ in sel.select(0.1):
        # Closed (or refused) by the server: open it again at once.
        sel.unregister(key.fileobj)
        key.fileobj.close()
        conn(key.data)
        reopened += 1
print(reopened)
EOP

deliver_times 5 "$SCRATCH/p91.json"
is "$CODES" "202 202 202 202 202 " \
	"2,000 idle connections held: deliveries are still answered 202"
is "$(grep -c 'number 91: 202 queued$' "$SCRATCH/hook.err"):$(redis_cli ZSCORE 'wb:{download}:pending' 91 | grep -c .)" "5:1" \
	"each logged once, and queued"
: >"$SCRATCH/stop"
wait "$CLIENT_PID"
reopened=$(cat "$SCRATCH/idle.out")
is "$([ "$reopened" -gt 0 ] && echo yes)" yes \
	"the idle connections were closed and opened again ($reopened times)"
like "$(cat "$SCRATCH/hook.err")" '^wb-hook: warning: near the connection limit \([0-9]+ of 256\): closing the connections that send no request$' \
	"logged, rate-limited"
done_testing
