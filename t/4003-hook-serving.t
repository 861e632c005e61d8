#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-hook as a service: no secret, SIGTERM with a request in flight,
# connection and header limits, IPv6.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 19
start_redis

# Without a secret: a warning at start, unsigned deliveries accepted.
start_hook
is "$(sed -n 1p "$SCRATCH/hook.err")" \
	"wb-hook: warning: WB_HOOK_SECRET is not set: deliveries are accepted without a signature check" \
	"no secret: warned at start-up"
comment_payload edited 31 >"$SCRATCH/p31.json"
deliver issue_comment "$SCRATCH/p31.json" ""
is "$CODE:$(redis_cli ZRANGE 'wb:{download}:pending' 0 -1 | tr '\n' ' ')" "202:31 " \
	"no secret: an unsigned delivery is queued"
stop_hook

# SIGTERM while a delivery is half sent: it is answered, then exit 0.
SECRET=term
export WB_HOOK_SECRET="$SECRET"
WB_DEBUG=1 start_hook
deliver push "$SCRATCH/p31.json" "$(sign "$SCRATCH/p31.json")"
is "$CODE:$(last_log)" "202:wb-hook: debug: delivery $DELIVERY event push action - number -: 202 other event, ignored" \
	"with WB_DEBUG, an ignored delivery is logged at debug level"
payload reopened 32 >"$SCRATCH/p32.json"
python3 - "$HOOK_PORT" "$SCRATCH/p32.json" "$(sign "$SCRATCH/p32.json")" "$SCRATCH/go" \
	>"$SCRATCH/client.out" 2>&1 <<'EOP' &
import os, socket, sys, time
port, path, sig, go = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
body = open(path, "rb").read()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(("POST /github/receive HTTP/1.1\r\nHost: hook\r\n"
    "Content-Type: application/json\r\nX-GitHub-Event: issues\r\n"
    "X-GitHub-Delivery: in-flight\r\nX-Hub-Signature-256: %s\r\n"
    "Content-Length: %d\r\n\r\n" % (sig, len(body))).encode() + body[:100])
while not os.path.exists(go):
    time.sleep(0.01)
s.sendall(body[100:])
answer = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    answer += chunk
print(answer.split(b"\r\n")[0].decode())
print("close" if b"\r\nConnection: close\r\n" in answer else "keep-alive")
EOP
client=$!
wait_for 10 grep -q 'delivery in-flight event issues: reading the body' "$SCRATCH/hook.err"
is "$?" 0 "a delivery is in flight"
kill -TERM "$HOOK_PID"
wait_for 10 sh -c "! curl -s -o /dev/null http://127.0.0.1:$HOOK_PORT/healthz"
is "$?" 0 "after SIGTERM, new connections are refused"
kill -0 "$HOOK_PID"
is "$?" 0 "but the receiver waits for the delivery in flight"
: >"$SCRATCH/go"
wait "$client"
is "$(tr '\n' ' ' <"$SCRATCH/client.out")" "HTTP/1.1 202 Accepted close " \
	"the delivery in flight is answered 202, and the connection closed"
wait "$HOOK_PID"
is "$?" 0 "then it exits 0"
is "$(redis_cli ZSCORE 'wb:{download}:pending' 32 | grep -c .)" 1 "and the number was queued"
like "$(cat "$SCRATCH/hook.err")" '^wb-hook: info: signal 15: finishing requests in flight, then exiting$' \
	"shutdown logged"

# Limits: header size, bodies held, connections per address (one loop:
# with more, the limits are shared out among them).
start_hook -t 1
CODE=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" "$HOOK_URL/healthz")
is "$CODE" 431 "40 KB of headers: 431"
# Six deliveries announcing 25 MB each and sending nothing hold nothing
# (only bytes received count against the bodies held at once): all wait
# for their bodies, and a real delivery is still served.
payload opened 33 >"$SCRATCH/p33.json"
python3 - "$HOOK_PORT" "$SCRATCH/p33.json" "$(sign "$SCRATCH/p33.json")" \
	>"$SCRATCH/budget.out" <<'EOP'
import select, socket, subprocess, sys
port = int(sys.argv[1])
conns = []
for i in range(6):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("POST /github/receive HTTP/1.1\r\nHost: hook\r\n"
        "X-GitHub-Event: issues\r\nX-GitHub-Delivery: big-%d\r\n"
        "X-Hub-Signature-256: sha256=%s\r\nContent-Length: %d\r\n\r\n"
        % (i, "0" * 64, 25 * 1024 * 1024)).encode())
    conns.append(s)
real = subprocess.run(["curl", "-s", "-m", "10", "-o", "/dev/null", "-w",
    "%{http_code}", "-H", "X-GitHub-Event: issues", "-H",
    "X-Hub-Signature-256: " + sys.argv[3], "--data-binary", "@" + sys.argv[2],
    "http://127.0.0.1:%d/github/receive" % port], capture_output=True,
    text=True).stdout
answers = []
for s in conns:
    s.settimeout(0.2)
    try:
        answers.append(s.recv(100).split(b"\r\n")[0].decode() or "closed")
    except socket.timeout:
        answers.append("waiting")
print(real, " ".join(sorted(answers)))
EOP
is "$(cat "$SCRATCH/budget.out")" "202 waiting waiting waiting waiting waiting waiting" \
	"six deliveries announcing 25 MB and sending nothing wait, and hold nothing"
is "$(redis_cli ZSCORE 'wb:{download}:pending' 33 | grep -c .)" 1 \
	"the real delivery sent meanwhile is 202 and queued"
wait_for 10 sh -c "curl -s http://127.0.0.1:$HOOK_PORT/healthz | grep -qx ok"
python3 - "$HOOK_PORT" >"$SCRATCH/limit.out" <<'EOP'
import socket, sys
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(128)]
extra = socket.create_connection(("127.0.0.1", port))
extra.settimeout(5)
try:
    extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: hook\r\n\r\n")
    print("answered" if extra.recv(100) else "closed")
except OSError:
    print("closed")
first = idle[0]
first.settimeout(5)
first.sendall(b"GET /healthz HTTP/1.1\r\nHost: hook\r\n\r\n")
print(first.recv(100).split(b"\r\n")[0].decode())
EOP
is "$(sed -n 1p "$SCRATCH/limit.out")" closed "a 129th connection from one address is closed"
is "$(sed -n 2p "$SCRATCH/limit.out")" "HTTP/1.1 200 OK" "the 128 others are still served"
get /healthz
is "$CODE" 200 "once they are gone, new connections are served"
stop_hook
is "$HOOK_RC" 0 "exit 0"

# IPv6.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	port=$(free_port)
	WB_HOOK_LISTEN="[::1]:$port" wb-hook -d 3 3>"$SCRATCH/ready6" 2>"$SCRATCH/hook6.err" &
	pid6=$!
	atexit "kill $pid6 2>/dev/null"
	wait_for 10 test -s "$SCRATCH/ready6"
	is "$(curl -s "http://[::1]:$port/healthz")" ok "listens on [::1]:port"
	kill -TERM "$pid6"
	wait "$pid6"
	is "$?" 0 "exit 0"
else
	ok 0 "# SKIP no IPv6 loopback"
	ok 0 "# SKIP no IPv6 loopback"
fi
done_testing
