#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The indexer under a real s6-svscan, its run script as shipped, with
# WB_ES set (wb-dequeue | wb-sqlite | wb-bulk | wb-ack)
# (wb-pipeline the supervised process), against the Elasticsearch double
# and a real Redis. While wb-bulk holds claims (Elasticsearch answering
# 503, it backs off), kill -9 of each stage in turn, then of wb-pipeline:
# within 2 s no process of the old instance is left and a new one runs;
# the indices then hold exactly the archive. s6-svc -d ends every stage
# within 2 s and nothing is claimed after; wb-bulk exiting 100 (a bad
# WB_ES_API_KEY) takes the service down for good.
. "${0%/*}/lib.sh"
. "$T_DIR/es-double.sh"
. "$T_DIR/lib-s6.sh"
plan 28
start_redis
start_es
WB_DATA=$SCRATCH/data
export WB_DATA
for n in $(seq 1 60); do mk_issue "$WB_DATA" "$n" $((n % 5 * 4)); done
svc_env WB_REDIS WB_DATA WB_ES
# Leases of 3 s: the claims of a killed instance come back in seconds.
svc_add wb-indexer 's/wb-dequeue --delay 0 index/wb-dequeue --delay 0 --batch 10 --lease 3 index/'
S=wb-indexer NSTAGES=4
zcard() { redis_cli ZCARD "wb:{index}:$1"; }
claiming() { [ "$(zcard leases)" -gt 0 ]; }
# busy: Elasticsearch refuses the next requests, and there is work.
busy() {
	es POST /_double/faults '{"http_503": 6}' >/dev/null
	seq "$1" "$(($1 + 9))" | wb-enqueue index 2>/dev/null
}

svscan_start
wait_for 10 stages_up
ok $? "the indexer runs: wb-pipeline and four stages (wb-sqlite and wb-bulk: WB_ES is set)"
n=1
for victim in wb-bulk wb-sqlite wb-dequeue wb-ack wb-pipeline; do
	busy $n
	n=$((n + 10))
	kill_round $victim claiming
done
like "$(cat "$SVSCAN_LOG")" "^wb-pipeline: warning: wb-bulk \(pid [0-9]+\) killed by signal 9(: stopping the pipeline)?\$" \
	"the runner says which stage died and how"
es POST /_double/faults '{}' >/dev/null
seq 1 60 | wb-enqueue index 2>/dev/null
drained() { [ "$(zcard pending)$(zcard leases)" = 00 ]; }
wait_for 60 drained
ok $? "the queue drains: every item indexed and acknowledged"
# shellcheck disable=SC2046	# one number a word
index_is_archive "$WB_DATA" $(seq 1 60)

# s6-svc -d while wb-bulk holds claims: every stage gone within 2 s.
busy 1
wait_for 10 claiming
stop_round
seq 30 34 | wb-enqueue index 2>/dev/null
never_grows zcard leases
ok $? "s6-svc -d: leases do not grow after the stop"

# wb-bulk (the middle stage) exits 100: a key that is not one.
printf 'not a key!' >"$SVC_ENV/WB_ES_API_KEY"
fail_round wb-bulk "WB_ES_API_KEY is not an API key"
done_testing
