#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-hook's shutdown when a delivery completes in the last second of its
# grace period while Redis is frozen: it is answered 503, and the
# receiver exits 0 (libmicrohttpd must not be stopped with a connection
# still suspended).
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 5
start_redis
WB_DEBUG=1 start_hook -t 1
payload opened 61 >"$SCRATCH/p61.json"
payload opened 62 >"$SCRATCH/p62.json"
deliver issues "$SCRATCH/p61.json" ""
is "$CODE" 202 "a first delivery uses the Redis connection"

python3 - "$HOOK_PORT" "$SCRATCH/p62.json" "$SCRATCH/go" \
	>"$SCRATCH/client.out" 2>&1 <<'EOP' &
import os, socket, sys, time
port, path, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = open(path, "rb").read()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(("POST /github/receive HTTP/1.1\r\nHost: hook\r\n"
    "X-GitHub-Event: issues\r\nX-GitHub-Delivery: late\r\n"
    "Content-Length: %d\r\n\r\n" % len(body)).encode() + body[:100])
# A byte a second keeps the connection from going idle.
sent, tick = 100, time.time()
while not os.path.exists(go):
    if time.time() - tick >= 1:
        s.sendall(body[sent:sent + 1])
        sent, tick = sent + 1, time.time()
    time.sleep(0.01)
s.sendall(body[sent:])
answer = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    answer += chunk
print(answer.split(b"\r\n")[0].decode() or "closed")
EOP
client=$!
wait_for 10 grep -q 'delivery late event issues: reading the body' "$SCRATCH/hook.err"
frozen=$(cat "$REDIS_DIR/redis.pid")
kill -STOP "$frozen"
atexit "kill -CONT $frozen 2>/dev/null"
kill -TERM "$HOOK_PID"
# After its 10 s of grace, with the delivery still unfinished.
wait_for 20 grep -q 'in flight after 10 s' "$SCRATCH/hook.err"
is "$?" 0 "out of grace time, it says so"
: >"$SCRATCH/go"
wait "$client"
is "$(cat "$SCRATCH/client.out")" "HTTP/1.1 503 Service Unavailable" \
	"the delivery completed in the last second is answered 503"
wait "$HOOK_PID"
is "$?" 0 "then it exits 0"
like "$(cat "$SCRATCH/hook.err")" '^wb-hook: warning: delivery late event issues action opened number 62: 503 not queued: shutting down$' \
	"the 503 is logged"
kill -CONT "$frozen"
done_testing
