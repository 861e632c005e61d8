#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Metrics: wb-queue stats --format prometheus for known queue states
# (exact, and clean for promtool), the notes wb-fetch and wb-bulk keep in
# Redis (rate-limit budget, last success) and that a dead or frozen Redis
# never fails nor stalls them, wb-metrics replacing its file atomically,
# Redis down, no secret anywhere, and the s6 service's run script.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
. "$T_DIR/es-double.sh"
command -v promtool >/dev/null || { echo "Bail out! no promtool (make deps installs prometheus)"; exit 1; }
plan 47
start_redis
check() { printf '%s\n' "$1" | promtool check metrics 2>&1; }
samples() { printf '%s\n' "$1" | grep -v '^#'; }

# Known states: download has 1 leased, 1 ready (idle 120 s), 2 waiting and
# 1 parked; index is empty but in use.
WB_MAX_DELIVERIES=1
export WB_MAX_DELIVERIES
wb-enqueue download 9 2>/dev/null
wb-dequeue --once --delay 0 --lease 1 --consumer c1 download >/dev/null
lapsed() { wb-queue --delay 0 stats download | grep -q 'expired 1'; }
wait_for 10 lapsed
wb-dequeue --once --delay 0 --consumer c2 download >/dev/null 2>&1
unset WB_MAX_DELIVERIES
wb-enqueue download 1 2 3 4 2>/dev/null
wb-dequeue --once --delay 0 --max 1 download >/dev/null
now=$(redis_cli TIME | head -1)
redis_cli ZADD 'wb:{download}:pending' XX $(( (now - 120) * 1000 )) 2 >/dev/null
wb-enqueue index 5 2>/dev/null
wb-dequeue --once --delay 0 index | wb-ack

run wb-queue --delay 60 stats --format prometheus
is "$RC:$ERR" "0:" "exit 0, nothing on stderr"
age=$(printf '%s\n' "$OUT" | sed -n 's/^wb_queue_oldest_ready_age_seconds{queue="download"} //p')
ok "$([ "$age" -ge 120 ] && [ "$age" -le 125 ] && echo 0 || echo 1)" "the oldest ready item's age: 120 s since its activity ($age)"
is "$(samples "$OUT" | sed 's/^\(wb_queue_oldest_ready_age_seconds{queue="download"}\) .*/\1 AGE/')" 'wb_redis_up 1
wb_queue_items{queue="download",state="pending"} 3
wb_queue_items{queue="index",state="pending"} 0
wb_queue_items{queue="download",state="leased"} 1
wb_queue_items{queue="index",state="leased"} 0
wb_queue_items{queue="download",state="dead"} 1
wb_queue_items{queue="index",state="dead"} 0
wb_queue_ready_items{queue="download"} 1
wb_queue_ready_items{queue="index"} 0
wb_queue_expired_leases{queue="download"} 0
wb_queue_expired_leases{queue="index"} 0
wb_queue_oldest_ready_age_seconds{queue="download"} AGE
wb_queue_oldest_ready_age_seconds{queue="index"} 0' "every queue in use, sorted: pending = ready + waiting, leased, dead, ready, expired leases, oldest ready age"
is "$(printf '%s\n' "$OUT" | grep '^# ' | cut -d' ' -f2,3 | sort | uniq -d)" "" "one HELP and one TYPE line per family"
is "$(check "$OUT")" "" "promtool check metrics: clean"
run wb-queue --delay 0 --format prometheus stats index
is "$RC:$(samples "$OUT" | grep -c 'queue="download"')" "0:0" "a queue named: only that one"
run wb-queue --delay 0 --format prometheus stats index nosuch
is "$(samples "$OUT" | grep 'pending')" 'wb_queue_items{queue="index",state="pending"} 0
wb_queue_items{queue="nosuch",state="pending"} 0' "several queues named, in the order given"
run wb-queue -f prometheus stats index index
is "$RC:$ERR" "100:wb-queue: fatal: queue index named twice" "a queue named twice: usage"
run wb-queue -f prometheus length
is "$RC" 100 "--format prometheus is for stats only"
run wb-queue -f json stats
is "$RC" 100 "an unknown format: usage"
run wb-queue -f prometheus stats 'a"b'
is "$RC" 100 "a bad queue name: usage"

# The notes of wb-fetch: the budget last seen and the last download.
start_github --issues 3 --events 3 --token tok-SECRET-gh
WB_DATA=$SCRATCH/data WB_GITHUB_TOKEN=tok-SECRET-gh WB_FETCH_BACKOFF=0.01
export WB_DATA WB_GITHUB_TOKEN WB_FETCH_BACKOFF
gh ratelimit '{"remaining":100,"reset_in":600}'
gh_clear_log
t0=$(date +%s)
run sh -c 'wb-fetch 1 2 | wb-write'
t1=$(date +%s)
is "$RC:$ERR" "0:" "wb-fetch with notes: exit 0, nothing on stderr"
counted=$(gh_requests '.counted')
is "$(redis_cli HGET wb:metrics github:remaining)" "$((100 - counted))" "the budget last seen: what the last answer said"
reset=$(redis_cli HGET wb:metrics github:reset)
ok "$([ "$reset" -ge $((t0 + 599)) ] && [ "$reset" -le $((t1 + 601)) ] && echo 0 || echo 1)" "the reset time, Unix seconds ($reset)"
success=$(redis_cli HGET wb:metrics fetch:success)
ok "$([ "$success" -ge "$t0" ] && [ "$success" -le "$t1" ] && echo 0 || echo 1)" "the last download's time ($success in $t0..$t1)"
run wb-queue stats --format prometheus index
is "$(samples "$OUT" | grep -E '^wb_(github|last)')" "wb_github_ratelimit_remaining $((100 - counted))
wb_github_ratelimit_reset_timestamp_seconds $reset
wb_github_ratelimit_seen_timestamp_seconds $(redis_cli HGET wb:metrics github:seen)
wb_last_success_timestamp_seconds{stage=\"fetch\"} $success" "wb-queue shows the notes"
is "$(check "$OUT")" "" "promtool: clean with the notes"
redis_cli HSET wb:metrics bulk:success 'x y' sqlite:success -5 evil '# TYPE' >/dev/null
run wb-queue stats --format prometheus index
is "$(samples "$OUT" | grep -c -E 'stage="(bulk|sqlite)"|evil')" 0 "fields that are not decimal integers, and unknown ones, are not shown"
redis_cli HDEL wb:metrics bulk:success sqlite:success evil >/dev/null

# The indexers note their last batch: index STAGE CMD runs CMD on
# issues 1 and 2, then checks the stage's note lies within the run.
index() {
	t0=$(date +%s)
	run sh -c "printf '1\n2\n' | $2"
	t1=$(date +%s)
	is "$RC:$ERR" "0:" "$1 with notes: exit 0"
	success=$(redis_cli HGET wb:metrics "$1:success")
	ok "$([ "$success" -ge "$t0" ] && [ "$success" -le "$t1" ] && echo 0 || echo 1)" "$1: the last batch's time ($success in $t0..$t1)"
}
start_es
index bulk wb-bulk
index sqlite "WB_SQLITE='$SCRATCH/wb.sqlite' wb-sqlite"
run wb-queue stats --format prometheus index
is "$(samples "$OUT" | grep -c '^wb_last_success_timestamp_seconds{stage="\(fetch\|bulk\|sqlite\)"} [0-9]*$')" 3 "wb-queue shows the three stages"

# Redis gone: the stage goes on; one warning, not one per record.
run sh -c "WB_REDIS=unix://$SCRATCH/nowhere.sock wb-fetch 1 2 3 | wc -l"
is "$RC:$OUT" "0:3" "Redis unreachable: every issue fetched all the same"
is "$ERR" "wb-fetch: warning: unable to note metrics in Redis: connect: unable to connect to Redis at $SCRATCH/nowhere.sock: No such file or directory (next try in 30s)" "one warning line for the whole run"
# Frozen: bounded waits (250 ms a try, then none for 30 s), never a hang.
kill -STOP "$(cat "$REDIS_DIR/redis.pid")"
run sh -c 'timeout 20 wb-fetch 1 2 3 | wc -l'
kill -CONT "$(cat "$REDIS_DIR/redis.pid")"
is "$RC:$OUT" "0:3" "Redis frozen: every issue fetched, no hang"
like "$ERR" "^wb-fetch: warning: unable to note metrics in Redis: .*\(next try in 30s\)$" "and one warning"
# Without WB_REDIS, no note at all (wb-fetch from a terminal).
redis_cli DEL wb:metrics >/dev/null
run sh -c '(unset WB_REDIS; wb-fetch 3) | wc -l'
is "$RC:$OUT:$ERR:$(redis_cli EXISTS wb:metrics)" "0:1::0" "WB_REDIS unset: nothing noted, nothing said"

# wb-metrics: the file for node_exporter.
P=$SCRATCH/prom
run env WB_METRICS_DIR="$P" wb-metrics
is "$RC:$ERR" "100:wb-metrics: fatal: no directory $P: create it or set WB_METRICS_DIR" "no directory: 100, naming the fix"
mkdir "$P"
WB_METRICS_DIR=$P
export WB_METRICS_DIR
run wb-metrics
is "$RC:$OUT:$ERR" "0::" "wb-metrics: exit 0, silent"
is "$(ls -A "$P")" "wb.prom" "one file, wb.prom; no temporary file left"
is "$(stat -c %a "$P/wb.prom")" 644 "readable by node_exporter"
is "$(samples "$(cat "$P/wb.prom")" | grep -v age)" "$(samples "$(wb-queue stats --format prometheus)" | grep -v age)" "the file is wb-queue's exposition"
is "$(check "$(cat "$P/wb.prom")")" "" "promtool: the file is clean"

# Atomic: a reader polling the file never sees a partial one.
last=$(tail -n 1 "$P/wb.prom")
lines=$(wc -l <"$P/wb.prom")
cat >"$SCRATCH/reader" <<EOR
#!/bin/sh
n=0 bad=0
while [ ! -e "$SCRATCH/stop" ]; do
	snap=\$(cat "$P/wb.prom")
	n=\$((n + 1))
	[ "\$(printf '%s\n' "\$snap" | wc -l)" = "$lines" ] &&
		[ "\$(printf '%s\n' "\$snap" | tail -n 1)" = '$last' ] || bad=\$((bad + 1))
done
echo "\$n \$bad"
EOR
sh "$SCRATCH/reader" >"$SCRATCH/reads" &
reader=$!
inodes=$(stat -c %i "$P/wb.prom")
for _ in $(seq 1 25); do
	wb-metrics || break
	inodes="$inodes $(stat -c %i "$P/wb.prom")"
done
: >"$SCRATCH/stop"
wait "$reader"
read -r reads bad <"$SCRATCH/reads"
is "$bad" 0 "no partial file seen in $reads reads during 25 rewrites"
ok "$([ "$reads" -ge 25 ] && echo 0 || echo 1)" "the reader did read ($reads times)"
# shellcheck disable=SC2086
is "$(printf '%s\n' $inodes | uniq | wc -l | tr -d ' ')" 26 "each run put a new file in place (rename, not rewrite)"

# Redis down: the file says so; wb-metrics exits 0 and says why.
run env WB_REDIS="unix://$SCRATCH/nowhere.sock" wb-metrics
is "$RC:$ERR" "0:wb-queue: warning: unable to connect to Redis at $SCRATCH/nowhere.sock: No such file or directory" "Redis down: exit 0, one warning"
is "$(cat "$P/wb.prom")" '# HELP wb_redis_up 1 when Redis answered, 0 when it could not be reached.
# TYPE wb_redis_up gauge
wb_redis_up 0' "Redis down: the file says wb_redis_up 0, not stale numbers"
# A bad WB_REDIS: down too, and exit 100 (the service stops, the file
# does not go stale); a bad WB_DELAY: no text, the last file stays.
wb-metrics
run env WB_REDIS="bogus://x" wb-metrics
is "$RC:$(samples "$(cat "$P/wb.prom")"):$(ls -A "$P")" "100:wb_redis_up 0:wb.prom" "a bad WB_REDIS: wb_redis_up 0, exit 100, no temporary left"
like "$ERR" "^wb-queue: fatal: " "and wb-queue says why"
wb-metrics
run env WB_DELAY=soon wb-metrics
is "$RC:$(samples "$(cat "$P/wb.prom")" | head -1):$(ls -A "$P")" "100:wb_redis_up 1:wb.prom" "a bad WB_DELAY: 100, the last file kept, no temporary left"

# No secret anywhere: token, Elasticsearch and Redis passwords, hook secret.
redis_cli CONFIG SET requirepass redis-SECRET-pw >/dev/null
WB_REDIS="unix://:redis-SECRET-pw@$REDIS_SOCK"
WB_ES="http://elastic:es-SECRET-pw@127.0.0.1:$ES_PORT" WB_ES_API_KEY=key-SECRET
WB_HOOK_SECRET=hook-SECRET
export WB_ES WB_ES_API_KEY WB_HOOK_SECRET
run sh -c 'wb-fetch 1 | wb-write && wb-metrics && wb-queue stats --format prometheus'
all="$OUT$ERR$(cat "$P/wb.prom")$(redis-cli -s "$REDIS_SOCK" -a redis-SECRET-pw --no-auth-warning HGETALL wb:metrics)"
is "$RC:$(printf '%s\n' "$all" | grep -c '^wb_redis_up 1$')" "0:2" "with passwords everywhere, the metrics are written"
is "$(printf '%s\n' "$all" | grep -c SECRET)" 0 "no secret in the file, the output, the messages or the notes"
run env WB_REDIS="unix://:wrong-SECRET@$REDIS_SOCK" wb-metrics
is "$RC:$(samples "$(cat "$P/wb.prom")"):$(printf '%s' "$ERR" | grep -c SECRET)" "100:wb_redis_up 0:0" "a wrong Redis password: the file says down, exit 100 (a configuration error), the password not printed"
redis-cli -s "$REDIS_SOCK" -a redis-SECRET-pw --no-auth-warning CONFIG SET requirepass "" >/dev/null
WB_REDIS=unix://$REDIS_SOCK

# The s6 service: its run script as make run lays it out.
mkdir "$SCRATCH/env"
printf '%s' "$WB_REDIS" >"$SCRATCH/env/WB_REDIS"
printf '%s' "$SCRATCH/absent" >"$SCRATCH/env/WB_METRICS_DIR"
printf '%s' "$PATH:/usr/lib/execline/bin" >"$SCRATCH/env/PATH"
sed -e "s|/etc/wb/env|$SCRATCH/env|" -e '/^s6-setuidgid /d' "$WB_BUILD/s6/wb-metrics/run" >"$SCRATCH/svc-run"
chmod +x "$SCRATCH/svc-run"
run "$SCRATCH/svc-run"
is "$RC:$("$WB_BUILD/s6/wb-metrics/finish" "$RC" >/dev/null; echo $?)" "100:125" "no directory: the service exits 100, finish says 125 (not restarted)"
printf '%s' "$SCRATCH/svc" >"$SCRATCH/env/WB_METRICS_DIR"
mkdir "$SCRATCH/svc"
"$SCRATCH/svc-run" >"$SCRATCH/svc.log" 2>&1 &
svc=$!
atexit "kill $svc 2>/dev/null"
wait_for 10 test -s "$SCRATCH/svc/wb.prom"
is "$(samples "$(cat "$SCRATCH/svc/wb.prom")" | head -1):$(kill -0 "$svc" && echo alive)" "wb_redis_up 1:alive" "the service writes the file, then sleeps before the next run"
kill "$svc"
done_testing
