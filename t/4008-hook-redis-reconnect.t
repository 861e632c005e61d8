#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-hook's connections to Redis are made without holding the serving
# loop: while a new connection waits for a frozen Redis, requests that
# need no Redis are answered at once, and the delivery that asked gets
# its 503 when the attempt runs out of time. Over TCP, with a password
# and a database, the connection is made the same way.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-hook.sh"
plan 10
start_redis
WB_DEBUG=1 start_hook -t 1
payload opened 81 >"$SCRATCH/p81.json"
# post N: deliver payload N, its status in $SCRATCH/code.N
post() {
	curl -s -m 20 -o /dev/null -w '%{http_code}' -H 'X-GitHub-Event: issues' \
		-H "X-GitHub-Delivery: d$1" \
		--data-binary @"$SCRATCH/p$1.json" "$HOOK_URL/github/receive" \
		>"$SCRATCH/code.$1"
}

frozen=$(cat "$REDIS_DIR/redis.pid")
kill -STOP "$frozen"
atexit "kill -CONT $frozen 2>/dev/null"
# The start-up check closed its connection: this delivery makes one.
: >"$SCRATCH/code.81"
post 81 &
c81=$!
wait_for 10 grep -q 'debug: connecting to Redis$' "$SCRATCH/hook.err"
is "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "$HOOK_URL/nope")" 404 \
	"connecting to a frozen Redis: another request is answered meanwhile"
is "$(cat "$SCRATCH/code.81")" "" "while the delivery still waits for Redis"
wait "$c81"
is "$(cat "$SCRATCH/code.81")" 503 "then the delivery is answered 503"
like "$(grep 'delivery d81 event issues action' "$SCRATCH/hook.err")" \
	'number 81: 503 not queued: unable to connect to Redis at .*/redis.sock: no answer within 2 s$' \
	"with the reason"
kill -CONT "$frozen"
wait_for 20 sh -c "curl -s -m 10 $HOOK_URL/healthz | grep -qx ok"
post 81
is "$(cat "$SCRATCH/code.81"):$(redis_cli ZSCORE 'wb:{download}:pending' 81 | grep -c .)" \
	"202:1" "Redis thawed: 202 and queued"
stop_hook

# Redis on TCP with a password and database 3.
port=$(free_port)
mkdir -p "$SCRATCH/tcp"
redis-server --port "$port" --bind 127.0.0.1 --requirepass 's3cret' \
	--save '' --appendonly no --daemonize yes --dir "$SCRATCH/tcp" \
	--pidfile "$SCRATCH/tcp/redis.pid" --logfile "$SCRATCH/tcp/redis.log" ||
	{ echo "Bail out! redis-server did not start"; exit 1; }
wait_for 10 test -s "$SCRATCH/tcp/redis.pid"
atexit "kill \$(cat '$SCRATCH/tcp/redis.pid') 2>/dev/null"
tcp_cli() { redis-cli -p "$port" -a s3cret --no-auth-warning -n 3 "$@"; }
wait_for 10 sh -c "redis-cli -p $port -a s3cret --no-auth-warning PING | grep -q PONG"
WB_REDIS=redis://:s3cret@127.0.0.1:$port/3 start_hook -t 1
post 81
is "$(cat "$SCRATCH/code.81"):$(tcp_cli ZSCORE 'wb:{download}:pending' 81 | grep -c .)" \
	"202:1" "TCP, password, database 3: 202 and queued there"
is "$(curl -s -m 10 "$HOOK_URL/healthz")" ok "healthz: 200"
stop_hook
is "$HOOK_RC" 0 "SIGTERM: exit 0"

# Nothing listening on the port: refused at once, and said so.
WB_REDIS=redis://127.0.0.1:$(free_port) start_hook -t 1
post 81
is "$(cat "$SCRATCH/code.81")" 503 "nothing on the Redis port: 503"
like "$(last_log)" \
	'number 81: 503 not queued: unable to connect to Redis at 127\.0\.0\.1:[0-9]+: Connection refused$' \
	"Connection refused, named"
stop_hook
done_testing
