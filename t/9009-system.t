#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
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
. "$T_DIR/lib-system.sh"
plan 11

start_github --issues 20 --events 3
start_es
system_start
system_archive 7

indexed() {
	es POST /_refresh >/dev/null
	[ "$(es GET '/timelines/_count?q=bug_number:7' | jq .count)" = 3 ] &&
		[ "$(es GET '/issues/_count?q=bug_number:7' | jq .count)" = 1 ]
}
wait_for 60 indexed
ok $? "the indexer put the issue and its 3 events into Elasticsearch"
wait_for 30 queues_empty
ok $? "both queues end empty: every claim acknowledged"
word=$(title_word 7)
is "$(WB_SQLITE=$WB_DATA/wb.sqlite wb-search "$word" | jq -r 'select(.number == 7) | .number')" 7 \
	"wb-sqlite beside wb-bulk: wb-search finds the issue by a word of its title ($word)"

system_stop
done_testing
