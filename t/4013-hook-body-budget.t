#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Large bodies cannot take the whole body budget: eight connections from
# four addresses, each declaring 25 MB or 7 MB and sending 16 MB + 1 or
# 4 MB + 1 (80 MB in all), used to hold all of it, so that every small
# delivery was cut off without an answer (curl 000) and the 503 logged
# was never sent. Small bodies now have a reserve, a large body that
# does not fit is answered 503, and what one address holds is bounded.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 7
start_signed_hook budget
payload opened 81 >"$SCRATCH/p81.json"

hook_client big held "$SCRATCH/go" <<'EOP'
import os, select, socket, sys, time
port, held_path, go_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conns = []
def answer(s, wait):
    """The status of an answer already sent (or within 'wait' s), or None."""
    try:
        if select.select([s], [], [], wait)[0]:
            return s.recv(12).decode()[9:12] or "000"
    except OSError:
        return "000"
    return None
for a in range(2, 6):
    for declared, sent in ((25 << 20, (16 << 20) + 1), (7 << 20, (4 << 20) + 1)):
        s = socket.socket()
        s.bind(("127.0.0.%d" % a, 0))
        s.connect(("127.0.0.1", port))
        try:
            s.sendall(("POST /github/receive HTTP/1.1\r\nHost: hook\r\n"
                "X-GitHub-Event: issues\r\nX-GitHub-Delivery: big-%d-%d\r\n"
                "X-Hub-Signature-256: sha256=%s\r\nContent-Length: %d\r\n\r\n"
                % (a, declared >> 20, "0" * 64, declared)).encode())
            s.sendall(b" " * sent)
        except OSError:
            pass
        conns.append((s, declared - sent))
# Until wb-hook has read all of it: nothing left in the send queues of
# these connections nor in the receive queues of its sockets.
def unread():
    n = 0
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        f = line.split()
        local, remote = int(f[1].split(":")[1], 16), int(f[2].split(":")[1], 16)
        tx, rx = (int(x, 16) for x in f[4].split(":"))
        n += (rx if local == port else 0) + (tx if remote == port else 0)
    return n
end = time.time() + 60
while unread() and time.time() < end:
    time.sleep(0.05)
open(held_path, "w").write("held\n")
# A byte a second meanwhile, so that no connection is idle for
# libmicrohttpd's 10 s.
end = time.time() + 60
tick = time.time() + 1
while not os.path.exists(go_path) and time.time() < end:
    time.sleep(0.05)
    if time.time() >= tick:
        tick += 1
        for i, (s, rest) in enumerate(conns):
            try:
                s.send(b" ")
                conns[i] = (s, rest - 1)
            except OSError:
                pass
# Then each sends the rest of its body: every one gets an answer.
answers = []
for s, rest in conns:
    got = answer(s, 0)
    if got is None:
        try:
            s.sendall(b" " * rest)
        except OSError:
            pass
        got = answer(s, 30) or "none"
    answers.append(got)
print(" ".join(sorted(answers)))
EOP

# Meanwhile, small signed deliveries are all read and queued.
deliver_times 10 "$SCRATCH/p81.json"
is "$CODES" "202 202 202 202 202 202 202 202 202 202 " \
	"80 MB of large bodies held: small deliveries are still answered 202"
is "$(redis_cli ZSCORE 'wb:{download}:pending' 81 | grep -c .)" 1 "and queued"

# A ninth large body, from a fifth address, does not fit (at most 96 MB
# of large bodies, and more than 71 MB are held, since at least one 25 MB
# body did not fit): 503, sent.
python3 - "$HOOK_PORT" >"$SCRATCH/ninth.out" <<'EOP'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.6", 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
s.settimeout(30)
s.sendall(b"POST /github/receive HTTP/1.1\r\nHost: hook\r\n"
    b"X-GitHub-Event: issues\r\nX-GitHub-Delivery: ninth\r\n"
    b"X-Hub-Signature-256: sha256=" + b"0" * 64 +
    b"\r\nContent-Length: %d\r\n\r\n" % (25 << 20))
try:
    s.sendall(b" " * (25 << 20))
except OSError:
    pass
print(s.recv(12).decode() or "closed")
EOP
is "$(cat "$SCRATCH/ninth.out")" "HTTP/1.1 503" "a large body that does not fit is answered 503"
is "$(grep -c '^wb-hook: warning: delivery ninth event issues action - number -: 503 too many large bodies at once$' "$SCRATCH/hook.err")" 1 \
	"and that 503 is the one logged"

echo go >"$SCRATCH/go"
wait "$CLIENT_PID"
answers=$(cat "$SCRATCH/big.out")
unlike "$answers" 000 "each of the eight large bodies, once complete, gets an answer: $answers"
like "$answers" 503 "those that did not fit get 503"
# Per address at most 32 MB of large bodies: 25 + 7 fit, but 4 x 32 MB
# do not fit the 96 MB left to large bodies.
is "$(grep -c ': 503 too many large bodies at once$' "$SCRATCH/hook.err")" \
	"$(( $(printf '%s\n' "$answers" | tr ' ' '\n' | grep -c 503) + 1 ))" \
	"every 503 is logged once"
done_testing
