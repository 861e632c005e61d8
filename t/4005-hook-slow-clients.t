#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-hook against clients that hold resources: bodies count only as they
# arrive and one address holds at most 32 MB of them; headers and bodies
# sent byte by byte are cut off at their deadlines.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 8
start_redis
SECRET=slow
export WB_HOOK_SECRET="$SECRET"
payload opened 51 >"$SCRATCH/p51.json"

# One address: 20 MB of a body held (25 MB declared), a second 25 MB body
# does not fit its 32 MB: refused with a 503 before it is sent; another
# address is still served.
start_hook -t 1
python3 - "$HOOK_PORT" >"$SCRATCH/addr.out" <<'EOP'
import socket, sys
port = int(sys.argv[1])
def big(i):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("POST /github/receive HTTP/1.1\r\nHost: hook\r\n"
        "X-GitHub-Event: issues\r\nX-GitHub-Delivery: big-%d\r\n"
        "X-Hub-Signature-256: sha256=%s\r\nContent-Length: %d\r\n\r\n"
        % (i, "0" * 64, 25 << 20)).encode())
    return s
a = big(0)
a.sendall(b" " * (20 << 20))
b = big(1)
b.settimeout(10)
try:
    got = b.recv(100)
    print(got[:12].decode() if got else "closed")
except socket.timeout:
    print("waiting")
except OSError:
    print("closed")
a.settimeout(0.5)
try:
    print("answered" if a.recv(100) else "closed")
except socket.timeout:
    print("waiting")
EOP
is "$(tr '\n' ' ' <"$SCRATCH/addr.out")" "HTTP/1.1 503 waiting " \
	"one address: a second 25 MB body is answered 503 before it is sent, the first one waits"
like "$(cat "$SCRATCH/hook.err")" '^wb-hook: warning: delivery big-1 event issues action - number -: 503 too many large bodies at once$' \
	"and logged"
CODE=$(curl -s -m 10 -o /dev/null -w '%{http_code}' --interface 127.0.0.2 \
	-H 'X-GitHub-Event: issues' -H "X-Hub-Signature-256: $(sign "$SCRATCH/p51.json")" \
	--data-binary @"$SCRATCH/p51.json" "$HOOK_URL/github/receive")
is "$CODE:$(redis_cli ZSCORE 'wb:{download}:pending' 51 | grep -c .)" "202:1" \
	"another address is served"
stop_hook

# Deadlines, shortened to 1 s for headers (6 s for a body): 20
# connections trickling their headers, two trickling their bodies (one
# already answered 401), each a
# byte every 0.2 s (MHD's idle timeout never fires), are all closed.
WB_HOOK_HEADER_TIMEOUT=1 start_hook -t 1
python3 - "$HOOK_PORT" >"$SCRATCH/slow.out" <<'EOP'
import select, socket, sys, time
port = int(sys.argv[1])
heads = []
for i in range(20):
    s = socket.socket()
    s.bind(("127.0.0.3", 0))
    s.connect(("127.0.0.1", port))
    s.send(b"G")
    heads.append(s)
body = socket.create_connection(("127.0.0.1", port))
body.sendall(b"POST /github/receive HTTP/1.1\r\nHost: hook\r\n"
    b"X-GitHub-Event: issues\r\nX-GitHub-Delivery: slow-body\r\n"
    b"X-Hub-Signature-256: sha256=" + b"0" * 64 +
    b"\r\nContent-Length: 1000\r\n\r\n")
# Refused from its headers alone (401), its body still trickling in.
early = socket.create_connection(("127.0.0.1", port))
early.sendall(b"POST /github/receive HTTP/1.1\r\nHost: hook\r\n"
    b"X-GitHub-Event: issues\r\nX-Hub-Signature-256: nope\r\n"
    b"Content-Length: 1000\r\n\r\n")
open_ = {s: "head" for s in heads}
open_[body] = "body"
open_[early] = "body"
end = time.time() + 20
while open_ and time.time() < end:
    for s in list(open_):
        try:
            s.send(b"E" if open_[s] == "head" else b" ")
        except OSError:
            del open_[s]
            continue
        r, _, _ = select.select([s], [], [], 0)
        if r:
            try:
                if s.recv(100) == b"":
                    del open_[s]
            except OSError:
                del open_[s]
    time.sleep(0.2)
print(sum(1 for v in open_.values() if v == "head"),
      sum(1 for v in open_.values() if v == "body"))
EOP
is "$(cat "$SCRATCH/slow.out")" "0 0" \
	"headers and bodies sent a byte at a time are cut off at their deadlines"
like "$(cat "$SCRATCH/hook.err")" '^wb-hook: warning: delivery slow-body event issues action - number -: 408 body too slow, connection closed$' \
	"the slow body is logged"
is "$(curl -s -m 10 "$HOOK_URL/healthz")" ok "and new clients are served"
stop_hook
is "$HOOK_RC" 0 "SIGTERM: exit 0"

WB_HOOK_HEADER_TIMEOUT=0 run wb-hook
is "$RC:$ERR" "100:wb-hook: fatal: WB_HOOK_HEADER_TIMEOUT is out of range (1..3600 seconds): 0" \
	"WB_HOOK_HEADER_TIMEOUT must be 1..3600"
done_testing
