#!/bin/sh
# The whole system as `make run` starts it (scripts/run: s6-svscan, a
# private Redis, the receiver, downloader and indexer services), against
# the GitHub and Elasticsearch doubles: a signed webhook delivery ends with
# the issue archived exactly and indexed, the queues empty; stopping s6
# leaves no process behind.
. "${0%/*}/lib.sh"
[ -f "$T_DIR/es-double.sh" ] || skip_all "no Elasticsearch double yet"
. "$T_DIR/github-double.sh"
. "$T_DIR/es-double.sh"
. "$T_DIR/lib-hook.sh"
for c in s6-svscan s6-svscanctl s6-svwait execlineb; do
	command -v "$c" >/dev/null || skip_all "$c is not installed"
done
plan 11

start_github --issues 20 --events 3
start_es
HOOK_PORT=$(free_port)
HOOK_URL=http://127.0.0.1:$HOOK_PORT
SECRET=system-test-secret
WB_RUN=$SCRATCH/run WB_DATA=$SCRATCH/data WB_DELAY=1
WB_HOOK_LISTEN=127.0.0.1:$HOOK_PORT WB_HOOK_SECRET=$SECRET
export WB_RUN WB_DATA WB_DELAY WB_HOOK_LISTEN WB_HOOK_SECRET
unset WB_REDIS	# scripts/run starts its own
REDIS_SOCK=$WB_RUN/redis.sock

sh "$TOP/scripts/run" >"$SCRATCH/run.out" 2>&1 &
run_pid=$!
atexit "s6-svscanctl -t '$WB_RUN/service' 2>/dev/null; wait $run_pid"
wait_for 20 s6-svstat "$WB_RUN/service/wb-hook" >/dev/null
ok $? "s6-svscan supervises the services"
s6-svwait -U -t 20000 "$WB_RUN/service/wb-hook"
ok $? "wb-hook signals readiness to s6"
wait_for 20 test -S "$REDIS_SOCK"
ok $? "the private Redis is up"

payload edited 7 >"$SCRATCH/p7"
deliver issues "$SCRATCH/p7" "$(sign "$SCRATCH/p7")"
is "$CODE" 202 "a signed delivery is accepted"

wait_for 60 test -s "$WB_DATA/current/7/timeline.json"
ok $? "the downloader archived the issue"
served() { curl -sf "$WB_GITHUB_API/_double/dump/$1" | jq -cS '.issue, .timeline'; }
is "$(jq -cS . "$WB_DATA/current/7/issue.json" "$WB_DATA/current/7/timeline.json")" "$(served 7)" "archived exactly as GitHub served it"

indexed() {
	es POST /_refresh >/dev/null
	[ "$(es GET '/timelines/_count?q=bug_number:7' | jq .count)" = 3 ] &&
		[ "$(es GET '/issues/_count?q=bug_number:7' | jq .count)" = 1 ]
}
wait_for 60 indexed
ok $? "the indexer put the issue and its 3 events into Elasticsearch"
queues_empty() {
	[ "$(redis-cli -s "$REDIS_SOCK" ZCARD 'wb:{download}:pending')$(redis-cli -s "$REDIS_SOCK" ZCARD 'wb:{download}:leases')$(redis-cli -s "$REDIS_SOCK" ZCARD 'wb:{index}:pending')$(redis-cli -s "$REDIS_SOCK" ZCARD 'wb:{index}:leases')" = 0000 ]
}
wait_for 30 queues_empty
ok $? "both queues end empty: every claim acknowledged"
word=$(jq -r .title "$WB_DATA/current/7/issue.json" | tr -cs 'A-Za-z' '\n' | grep -E '^[A-Za-z]{3,}$' | head -1)
is "$(WB_SQLITE=$WB_DATA/wb.sqlite wb-search "$word" | jq -r 'select(.number == 7) | .number')" 7 \
	"wb-sqlite beside wb-bulk: wb-search finds the issue by a word of its title ($word)"

s6-svscanctl -t "$WB_RUN/service"
wait $run_pid
ok $? "make run stops cleanly"
none_left() { ! pgrep -f "$WB_RUN" >/dev/null; }
wait_for 10 none_left
ok $? "no process of the system is left"
done_testing
