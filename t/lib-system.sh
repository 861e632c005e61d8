# SPDX-License-Identifier: MPL-2.0
# Helpers for the tests of the whole system as `make run` starts it
# (scripts/run: s6-svscan, a private Redis, every service), t/9009 and
# t/9012. Sourced after t/lib.sh, t/github-double.sh and t/lib-hook.sh,
# with the GitHub double started; POSIX sh.
#
#   system_start     scripts/run in $SCRATCH/run, data in $SCRATCH/data, the
#                    receiver on a free port with a secret: three
#                    assertions (supervised, ready, Redis up)
#   system_archive N a signed delivery of issue N, archived exactly as
#                    GitHub served it: three assertions
#   queues_empty     both queues empty: every claim acknowledged
#   title_word N     a word of issue N's title, for wb-search
#   system_stop      make run stops cleanly, nothing of it left: two
#                    assertions
# shellcheck shell=sh disable=SC2034
for _c in s6-svscan s6-svscanctl s6-svwait execlineb; do
	command -v "$_c" >/dev/null || skip_all "$_c is not installed"
done

system_start() {
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
}

_served() { curl -sf "$WB_GITHUB_API/_double/dump/$1" | jq -cS '.issue, .timeline'; }

system_archive() {
	payload edited "$1" >"$SCRATCH/p$1"
	deliver issues "$SCRATCH/p$1" "$(sign "$SCRATCH/p$1")"
	is "$CODE" 202 "a signed delivery is accepted"
	wait_for 60 test -s "$WB_DATA/current/$1/timeline.json"
	ok $? "the downloader archived the issue"
	is "$(jq -cS . "$WB_DATA/current/$1/issue.json" "$WB_DATA/current/$1/timeline.json")" "$(_served "$1")" \
		"archived exactly as GitHub served it"
}

queues_empty() {
	[ "$(redis-cli -s "$REDIS_SOCK" ZCARD 'wb:{download}:pending')$(redis-cli -s "$REDIS_SOCK" ZCARD 'wb:{download}:leases')$(redis-cli -s "$REDIS_SOCK" ZCARD 'wb:{index}:pending')$(redis-cli -s "$REDIS_SOCK" ZCARD 'wb:{index}:leases')" = 0000 ]
}

title_word() {
	jq -r .title "$WB_DATA/current/$1/issue.json" | tr -cs 'A-Za-z' '\n' | grep -E '^[A-Za-z]{3,}$' | head -1
}

_none_left() { ! pgrep -f "$WB_RUN" >/dev/null; }

system_stop() {
	s6-svscanctl -t "$WB_RUN/service"
	wait "$run_pid"
	ok $? "make run stops cleanly"
	wait_for 10 _none_left
	ok $? "no process of the system is left"
}
