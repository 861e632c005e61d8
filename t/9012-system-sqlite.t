#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The whole system as `make run` starts it on a fresh machine, with no
# Elasticsearch (no WB_ES): the indexer keeps the SQLite database alone,
# and a signed webhook delivery ends with the issue archived exactly and
# found by wb-search; make run says how to search; stopping s6 leaves no
# process behind.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
. "$T_DIR/lib-hook.sh"
. "$T_DIR/lib-system.sh"
plan 12

start_github --issues 20 --events 3
unset WB_ES WB_ES_API_KEY
system_start
system_archive 7

indexed() {
	[ "$(sqlite3 "$WB_DATA/wb.sqlite" 'SELECT count(*) FROM timelines WHERE number = 7' 2>/dev/null)" = 3 ]
}
wait_for 60 indexed
ok $? "the indexer put the issue and its 3 events into wb.sqlite"
wait_for 30 queues_empty
ok $? "both queues end empty: every claim acknowledged"
word=$(title_word 7)
is "$(WB_SQLITE=$WB_DATA/wb.sqlite wb-search "$word" | jq -r 'select(.number == 7) | .number')" 7 \
	"wb-search finds the issue by a word of its title ($word)"
grep -q "^run: search with: WB_SQLITE=$WB_DATA/wb.sqlite .*wb-search QUERY\$" "$SCRATCH/run.out"
ok $? "make run says how to search"

system_stop
done_testing
