#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The catch-up under a real s6-svscan, its run script as shipped: while
# its listing runs (execline's foreground the supervised process,
# wb-pipeline -p under it), kill -9 of the supervised process or of a
# stage leaves nothing of that pipeline after 2 s (s6 runs a new instance
# after the supervised process' death; a failed listing waits for the next
# hour); s6-svc -d ends the listing within 2 s; wb-list exiting 100 (a bad
# WB_FETCH_TIMEOUT) takes the service down for good, not into an hour's sleep.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
. "$T_DIR/lib-s6.sh"
plan 14
start_redis
start_github --issues 30 --events 1 --token tok
WB_GITHUB_TOKEN=tok
export WB_GITHUB_TOKEN
svc_env WB_REDIS WB_GITHUB_API WB_GITHUB_TOKEN
svc_add wb-catchup
S=wb-catchup
# Each listing page takes a minute: the listing is always under way.
gh fault '{"match":"/issues\\?","kind":"slow","seconds":60,"times":-1}'

# listing: the supervised process, wb-pipeline under it, its one stage
# (wb-list --queue download: it queues, and keeps its place, itself).
runner() { pgrep -P "$(svc_pid $S)" wb-pipeline; }
listing() {
	r=$(runner) || return 1
	[ "$(pgrep -P "$r" | wc -l)" = 1 ] && [ "$(comm "$(pgrep -P "$r")")" = wb-list ]
}
old_instance() {
	r=$(runner)
	echo "$(svc_pid $S):$(comm "$(svc_pid $S)")"
	echo "$r:wb-pipeline"
	for p in $(pgrep -P "$r"); do echo "$p:$(comm "$p")"; done
}
renewed() { listing && [ "$(svc_pid "$S")" != "${old%%:*}" ]; }
# kill9 NAME: kill -9 the process NAME of the instance $old.
kill9() { kill -9 "$(printf '%s\n' "$old" | sed -n "s/:$1\$//p")"; }

svscan_start
wait_for 10 listing
ok $? "the catch-up lists: foreground, wb-pipeline -p, wb-list"
old=$(old_instance)
kill9 foreground
# shellcheck disable=SC2086
gone_within 2000 $old
ok $? "kill -9 of the supervised process: every process of the instance is gone within 2 s"
wait_for 10 renewed
ok $? "s6 runs a new instance"
is "$(svc_procs $S | wc -l | tr -d ' ')" 3 "the service holds three processes, none more"

old=$(old_instance)
s6-svc -d "$SCAN/$S"
# shellcheck disable=SC2086
gone_within 2000 $old
ok $? "s6-svc -d: the listing is gone within 2 s"
wait_for 3 no_procs
ok $? "s6-svc -d: no process of the service is left"

s6-svc -u "$SCAN/$S"
wait_for 10 listing
old=$(old_instance)
kill9 wb-list
# shellcheck disable=SC2046	# one pid:comm a word
gone_within 2000 $(printf '%s\n' "$old" | sed 1d)
ok $? "kill -9 wb-list: wb-pipeline is gone within 2 s"
wait_for 3 sleeping
ok $? "the catch-up sleeps until its next run (a failed listing is retried then)"
is "$(svc_procs $S | wc -l | tr -d ' ')" 1 "nothing but the sleep is left"
like "$(cat "$SVSCAN_LOG")" "^wb-pipeline: warning: wb-list \(pid [0-9]+\) killed by signal 9(: stopping the pipeline)?\$" \
	"the runner says which stage died and how"

s6-svc -d "$SCAN/$S"
wait_for 3 no_procs
printf 'soon' >"$SVC_ENV/WB_FETCH_TIMEOUT"
fail_round wb-list "WB_FETCH_TIMEOUT is not a number of seconds"
done_testing
