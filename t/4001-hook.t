#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-hook: every answer, with GitHub-shaped payloads and real signatures.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 105
start_redis

run wb-hook --help
is "$RC" 0 "--help exits 0"
like "$OUT" '^usage: wb-hook \[-d FD\] \[-t THREADS\]$' "--help prints the usage"
run wb-hook --version
is "$OUT" "wb-hook (wb) 0.1.0" "--version"
run wb-hook extra
is "$RC:$ERR" "100:wb-hook: usage: wb-hook [-d FD] [-t THREADS]" "an argument is a usage error"
run wb-hook -d 1
is "$RC:$ERR" "100:wb-hook: fatal: -d needs an open file descriptor 3 or more: 1" "-d 1 refused"
run wb-hook -d 9
is "$RC" 100 "-d on a closed descriptor refused"
run wb-hook -t 0
is "$RC:$ERR" "100:wb-hook: fatal: -t is out of range (1..64): 0" "-t 0 refused"
WB_HOOK_SECRET=x WB_HOOK_LISTEN=localhost run wb-hook
is "$RC:$ERR" "100:wb-hook: fatal: WB_HOOK_LISTEN is not host:port or [v6]:port: localhost" \
	"listen address without a port refused"
WB_HOOK_SECRET=x WB_REDIS=http://x run wb-hook
is "$RC:$ERR" "100:wb-hook: fatal: WB_REDIS is not a redis:// or unix:// URL" \
	"a bad WB_REDIS is permanent"

SECRET="It's a Secret to Everybody"
export WB_HOOK_SECRET="$SECRET"
start_hook
is "$(od -An -c "$SCRATCH/ready" | tr -d ' ')" '\n' "readiness: one newline on fd 3"
is "$(grep -c warning "$SCRATCH/hook.err")" 0 "no warning at start with a secret"
is "$(cat "$SCRATCH/hook.err")" "wb-hook: info: listening on 127.0.0.1:$HOOK_PORT, 2 threads, queueing webcompat/web-bugs issues into download" \
	"start-up line names the address"
get /healthz
is "$CODE:$(cat "$SCRATCH/body")" "200:ok" "healthz: 200 when Redis answers"

pending() { redis_cli ZRANGE 'wb:{download}:pending' 0 -1 | grep . | sort -n | tr '\n' ' '; }
# now_ms: the Redis server's clock, in ms, the queue's time base.
now_ms() {
	# shellcheck disable=SC2046
	set -- $(redis_cli TIME)
	echo $(($1 * 1000 + $2 / 1000))
}
payload opened 1347 >"$SCRATCH/opened.json"
deliver issues "$SCRATCH/opened.json" "$(sign "$SCRATCH/opened.json")"
is "$CODE" 202 "signed issues/opened: 202"
is "$(pending)" "1347 " "its number is queued into download"
is "$(last_log)" "wb-hook: info: delivery $DELIVERY event issues action opened number 1347: 202 queued" \
	"one log line: delivery, event, action, number, outcome"

comment_payload created 7 >"$SCRATCH/comment.json"
deliver issue_comment "$SCRATCH/comment.json" "$(sign "$SCRATCH/comment.json")"
is "$CODE:$(pending)" "202:7 1347 " "signed issue_comment/created: 202, queued"

ping_payload >"$SCRATCH/ping.json"
deliver ping "$SCRATCH/ping.json" "$(sign "$SCRATCH/ping.json")"
is "$CODE:$(pending)" "200:7 1347 " "ping: 200, nothing queued"

# Refusals: nothing queued by any of them.
redis_cli DEL 'wb:{download}:pending' >/dev/null
payload edited 555 >"$SCRATCH/p555.json"
deliver issues "$SCRATCH/p555.json" ""
is "$CODE" 401 "no signature: 401"
is "$(last_log)" "wb-hook: warning: delivery $DELIVERY event issues action - number -: 401 no X-Hub-Signature-256" \
	"missing signature logged"
deliver issues "$SCRATCH/p555.json" "$(SECRET=wrong sign "$SCRATCH/p555.json")"
is "$CODE" 401 "signature made with another secret: 401"
like "$(last_log)" ': 401 signature mismatch$' "mismatch logged"
good=$(sign "$SCRATCH/p555.json")
deliver issues "$SCRATCH/p555.json" "sha1=${good#sha256=}"
is "$CODE" 401 "wrong algorithm prefix: 401"
deliver issues "$SCRATCH/p555.json" "${good%?}"
is "$CODE" 401 "truncated signature: 401"
deliver issues "$SCRATCH/p555.json" "${good}0"
is "$CODE" 401 "over-long signature: 401"
deliver issues "$SCRATCH/p555.json" "$(printf '%s' "$good" | sed 's/sha256=./sha256=g/')"
is "$CODE" 401 "non-hex signature: 401"
sed 's/"edited"/"closed"/' "$SCRATCH/p555.json" >"$SCRATCH/tampered.json"
deliver issues "$SCRATCH/tampered.json" "$good"
is "$CODE" 401 "body changed after signing: 401"
deliver ping "$SCRATCH/ping.json" ""
is "$CODE" 401 "unsigned ping: 401"

payload opened 556 other/repo >"$SCRATCH/other.json"
lines=$(grep -c . "$SCRATCH/hook.err")
deliver issues "$SCRATCH/other.json" "$(sign "$SCRATCH/other.json")"
is "$CODE" 202 "other repository: 202"
deliver push "$SCRATCH/p555.json" "$good"
is "$CODE" 202 "other event: 202"
is "$(grep -c . "$SCRATCH/hook.err")" "$lines" "ignored deliveries are not logged without WB_DEBUG"
payload opened 557 WebCompat/Web-Bugs >"$SCRATCH/case.json"
deliver issues "$SCRATCH/case.json" "$(sign "$SCRATCH/case.json")"
is "$CODE" 202 "repository named in another case: 202"
is "$(pending)" "557 " "only the repository's issue was queued, in any case"
redis_cli DEL 'wb:{download}:pending' >/dev/null

# 400: bodies that are not an issue event of the repository.
bad() {
	printf '%s' "$2" >"$SCRATCH/bad.json"
	deliver issues "$SCRATCH/bad.json" "$(sign "$SCRATCH/bad.json")"
	is "$CODE" 400 "$1: 400"
	like "$(last_log)" ": 400 $3\$" "$1: reason logged"
}
repo='"repository":{"full_name":"webcompat/web-bugs"}'
bad "not JSON" 'this is not json' "body is not a JSON object"
bad "empty body" '' "body is not a JSON object"
bad "truncated JSON" "{\"issue\":{\"number\":1},$repo" "body is not a JSON object"
bad "a JSON array" "[{\"issue\":{\"number\":1},$repo}]" "body is not a JSON object"
bad "two JSON values" "{\"issue\":{\"number\":1},$repo} {}" "body is not a JSON object"
bad "number as a string" "{\"issue\":{\"number\":\"12\"},$repo}" "issue.number is not a number"
bad "number as a float" "{\"issue\":{\"number\":12.5},$repo}" "issue.number is not a decimal integer in 1..2147483647"
bad "number written 1.2e2" "{\"issue\":{\"number\":1.2e2},$repo}" "issue.number is not a decimal integer in 1..2147483647"
bad "number written 12.0" "{\"issue\":{\"number\":12.0},$repo}" "issue.number is not a decimal integer in 1..2147483647"
bad "number 0" "{\"issue\":{\"number\":0},$repo}" "issue.number is not a decimal integer in 1..2147483647"
bad "number 2^31" "{\"issue\":{\"number\":2147483648},$repo}" "issue.number is not a decimal integer in 1..2147483647"
bad "negative number" "{\"issue\":{\"number\":-5},$repo}" "issue.number is not a decimal integer in 1..2147483647"
bad "number null" "{\"issue\":{\"number\":null},$repo}" "issue.number is not a number"
bad "no issue" "{\"action\":\"opened\",$repo}" "no issue.number"
bad "no repository" '{"issue":{"number":3}}' "no repository.full_name"
bad "lone UTF-16 high surrogate" '{"issue":{"number":3},"repository":{"full_name":"webcompat/web-bugs\ud800"}}' "body is not a JSON object"
bad "duplicate key, last one wins" "{\"issue\":{\"number\":3},\"issue\":{\"title\":\"x\"},$repo}" "no issue.number"
bad "a later repository that is not an object" "{$repo,\"issue\":{\"number\":3},\"repository\":5}" "no repository.full_name"
bad "a later repository without a name" "{$repo,\"issue\":{\"number\":3},\"repository\":{}}" "no repository.full_name"
bad "a later number that is a string" "{\"issue\":{\"number\":3,\"number\":\"3\"},$repo}" "issue.number is not a number"
bad "lone UTF-16 low surrogate" '{"issue":{"number":3},"repository":{"full_name":"webcompat/web-bugs\udc00"}}' "body is not a JSON object"
bad "lone UTF-16 surrogate in a key" '{"issue":{"number":3,"\udfff":1},"repository":{"full_name":"webcompat/web-bugs"}}' "body is not a JSON object"
nest() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "{\"a\":"; printf "1"; for (i = 0; i < n; i++) printf "}" }'; }
bad "objects nested 129 deep, over jq's limit" "{\"issue\":{\"number\":3},\"x\":$(nest 128),$repo}" "body is not a JSON object"
printf '{"issue":{"number":3,"title":"caf\351"},%s}' "$repo" >"$SCRATCH/latin1.json"
deliver issues "$SCRATCH/latin1.json" "$(sign "$SCRATCH/latin1.json")"
is "$CODE" 400 "invalid UTF-8: 400"
python3 -c 'import sys; sys.stdout.write("{\"issue\":{\"number\":3},\"x\":" + "["*100000 + "]"*100000 + "," + sys.argv[1] + "}")' "$repo" >"$SCRATCH/deep.json"
deliver issues "$SCRATCH/deep.json" "$(sign "$SCRATCH/deep.json")"
is "$CODE" 400 "JSON nested 100,000 deep: 400"
is "$(pending)" "" "nothing queued by any 400"
bad_ok() {
	printf '%s' "$2" >"$SCRATCH/ok.json"
	deliver issues "$SCRATCH/ok.json" "$(sign "$SCRATCH/ok.json")"
	is "$CODE:$(redis_cli ZSCORE 'wb:{download}:pending' "$3" | grep -c .)" "202:1" "$1"
}
bad_ok "a later duplicate number wins" "{\"issue\":{\"number\":\"x\",\"number\":122},$repo}" 122
bad_ok "a later duplicate issue wins" "{\"issue\":{\"number\":1},\"issue\":{\"number\":123},$repo}" 123
bad_ok "objects nested 128 deep, jq's limit" "{\"issue\":{\"number\":124},\"x\":$(nest 127),$repo}" 124
bad_ok "a surrogate pair in the name" '{"issue":{"number":125,"t":"\ud83d\ude00"},"repository":{"full_name":"webcompat/web-bugs"}}' 125
bad_ok "escaped keys and values read as JSON means" \
	'{"\u0069ssue":{"numb\u0065r":121},"repository":{"full_name":"webcompat\/web-bugs"}}' 121

# Paths and methods.
get /other
is "$CODE" 404 "other path: 404"
get /github/receive
is "$CODE:$(header Allow)" "405:POST" "GET on the receive path: 405, Allow: POST"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HOOK_URL/healthz")
is "$CODE" 405 "POST on healthz: 405"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -I "$HOOK_URL/healthz")
is "$CODE" 200 "HEAD on healthz: 200"

# 413 from Content-Length, before the body is read.
head -c $((25 * 1024 * 1024 + 1)) /dev/zero >"$SCRATCH/big"
out=$(curl -s -o /dev/null -w '%{http_code} %{size_upload}' -H 'X-GitHub-Event: issues' \
	-H "X-Hub-Signature-256: $good" --data-binary @"$SCRATCH/big" "$HOOK_URL/github/receive")
is "${out% *}" 413 "body over 25 MB: 413"
is "$([ "${out#* }" -lt 1048576 ] && echo small)" small "413 answered without reading the body (sent ${out#* } bytes)"
like "$(last_log)" ': 413 body over 25 MB$' "413 logged"
# Without Content-Length (chunked), reading stops at the cap.
curl -s -o /dev/null -H 'Transfer-Encoding: chunked' -H 'X-GitHub-Event: issues' \
	-H "X-Hub-Signature-256: $good" --data-binary @"$SCRATCH/big" "$HOOK_URL/github/receive"
isnt_zero=$?
is "$([ $isnt_zero -ne 0 ] && echo closed)" closed "chunked body over 25 MB: connection closed"
like "$(cat "$SCRATCH/hook.err")" ': 413 body over 25 MB, connection closed$' "chunked overflow logged"
# A large but legal payload passes.
python3 -c 'import sys; sys.stdout.write("{\"issue\":{\"number\":4,\"body\":\"" + "x"*(3*1024*1024) + "\"}," + sys.argv[1] + "}")' "$repo" >"$SCRATCH/large.json"
deliver issues "$SCRATCH/large.json" "$(sign "$SCRATCH/large.json")"
is "$CODE" 202 "a 3 MB payload: 202"

# Debounce: ten deliveries for one issue leave one entry, with the latest time.
redis_cli DEL 'wb:{download}:pending' >/dev/null
payload edited 4242 >"$SCRATCH/burst.json"
s=$(sign "$SCRATCH/burst.json")
for _ in 1 2 3 4 5 6 7 8 9; do deliver issues "$SCRATCH/burst.json" "$s"; done
before=$(now_ms)
deliver issues "$SCRATCH/burst.json" "$s"
after=$(now_ms)
score=$(redis_cli ZSCORE 'wb:{download}:pending' 4242)
is "$(redis_cli ZCARD 'wb:{download}:pending')" 1 "ten deliveries of one issue: one queue entry"
is "$([ "$score" -ge "$before" ] && [ "$score" -le "$after" ] && echo latest)" latest \
	"its time is the last delivery's ($before <= $score <= $after)"

# What is echoed from the request is sanitised.
long=$(printf 'a%.0s' $(seq 1 100))
deliver issues "$SCRATCH/burst.json" "$s" "$long"
like "$(last_log)" "^wb-hook: info: delivery $(printf 'a%.0s' $(seq 1 64))\\.\\.\\. event issues " \
	"a long delivery id is cut at 64 bytes"
printf '{"action":"op\\u0000e\\nned\\u001b[31m","issue":{"number":9},%s}' "$repo" >"$SCRATCH/ctl.json"
deliver issues "$SCRATCH/ctl.json" "$(sign "$SCRATCH/ctl.json")"
is "$(last_log)" "wb-hook: info: delivery $DELIVERY event issues action op?e?ned?[31m number 9: 202 queued" \
	"control characters in the action are replaced"
is "$(grep -c . "$SCRATCH/hook.err")" "$(grep -c '^wb-hook: ' "$SCRATCH/hook.err")" \
	"every log line starts with the program name"

stop_hook
is "$HOOK_RC" 0 "SIGTERM: exit 0"

# The queue's clock is Redis' TIME advanced by our monotonic clock, from
# before TIME was sent: a reply that comes late (a loaded machine) must
# not date a delivery before the server's time (t/4001 once saw a score
# 18 ms before the time read before the delivery). A proxy holds the
# answers of the receiver's connection once TIME is in them, writes the
# server time it holds into "held", and lets them go once "release" exists;
# the delivery is sent 0.2 s of server time after it.
cat >"$SCRATCH/slow.py" <<'EOP'
import os, re, socket, sys, threading, time
up, path, held, release = sys.argv[1:5]
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(8)
def pump(a, b, hold):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            m = re.search(rb"\*2\r\n\$10\r\n(\d{10})\r\n\$\d\r\n(\d+)\r\n", d) if hold else None
            if m:
                with open(held + ".new", "w") as f:
                    f.write("%d\n" % (int(m.group(1)) * 1000 + int(m.group(2)) // 1000))
                os.rename(held + ".new", held)
                end = time.time() + 30
                while not os.path.exists(release) and time.time() < end:
                    time.sleep(0.01)
                hold = False
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = srv.accept()
    r = socket.socket(socket.AF_UNIX)
    r.connect(up)
    threading.Thread(target=pump, args=(c, r, False), daemon=True).start()
    threading.Thread(target=pump, args=(r, c, True), daemon=True).start()
EOP
python3 "$SCRATCH/slow.py" "$REDIS_SOCK" "$SCRATCH/slow.sock" "$SCRATCH/held" "$SCRATCH/release" \
	2>"$SCRATCH/slow.err" &
slow_pid=$!
atexit "kill $slow_pid 2>/dev/null"
wait_for 10 test -S "$SCRATCH/slow.sock" || { echo "Bail out! no proxy socket"; exit 1; }
redis_cli DEL 'wb:{download}:pending' >/dev/null
WB_REDIS=unix://$SCRATCH/slow.sock start_hook -t 1
curl -s -o /dev/null "$HOOK_URL/healthz" &
health_pid=$!
wait_for 10 test -s "$SCRATCH/held"
held=$(cat "$SCRATCH/held")
i=0
while [ "$(now_ms)" -lt $((held + 200)) ] && [ $i -lt 1000 ]; do i=$((i + 1)); done
before=$(now_ms)
deliver issues "$SCRATCH/burst.json" "$s" &
deliver_pid=$!
: >"$SCRATCH/release"
wait "$deliver_pid"
wait "$health_pid"
after=$(now_ms)
score=$(redis_cli ZSCORE 'wb:{download}:pending' 4242)
is "$([ "$held" -gt 0 ] && [ "$score" -gt 0 ] && echo queued)" queued \
	"through a proxy holding the answer to TIME (server time $held): queued"
# Not before the server's time; ahead of it by at most the way of the
# TIME command to Redis (the clock starts before it is sent), which a
# loaded machine makes tens of milliseconds: 1 s is the bound.
is "$([ "$score" -ge "$before" ] && [ "$score" -le $((after + 1000)) ] && echo within)" within \
	"its time is not before the server's when it came ($before <= $score <= $after + 1000)"
stop_hook
done_testing
