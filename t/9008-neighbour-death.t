#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# A stage whose reader dies exits within 2 s whatever it is waiting for
# (a rate-limit reset, a backoff, an HTTP answer, its input), with exit
# 111 and one fatal line, emitting nothing more: wb-fetch and wb-list in
# a rate-limit wait, wb-fetch waiting for a slow answer, wb-bulk backing
# off from a down Elasticsearch (in its sender thread) and waiting for
# input, wb-write waiting for input. wb-list --resume then keeps its old
# resume point: what it never handed on is listed again.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
plan 18
start_redis
github_client 5 2
mkdir -p "$WB_DATA/current"
FATAL="fatal: unable to go on: standard output's reader is gone"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# ended PID: the process is gone or a zombie.
ended() {
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	[ "${st%% *}" = Z ]
}
# stage CMD...: run CMD with its input a FIFO held open (nothing comes)
# and its output a FIFO read by a cat, RPID, into $SCRATCH/got.
stage() {
	rm -f "$SCRATCH/in" "$SCRATCH/out"
	mkfifo "$SCRATCH/in" "$SCRATCH/out"
	cat "$SCRATCH/out" >"$SCRATCH/got" &
	RPID=$!
	"$@" <"$SCRATCH/in" >"$SCRATCH/out" 2>"$SCRATCH/err" &
	SPID=$!
	exec 3>"$SCRATCH/in"
	atexit "kill -9 $SPID $RPID 2>/dev/null"
}
# reader_dies NAME: kill -9 the reader; the stage must end within 2 s.
reader_dies() {
	kill -9 "$RPID"
	wait "$RPID" 2>/dev/null
	t0=$(now_ms)
	while ! ended "$SPID" && [ $(($(now_ms) - t0)) -lt 5000 ]; do
		sleep 0.02
	done
	ms=$(($(now_ms) - t0))
	ended "$SPID" || kill -9 "$SPID"
	wait "$SPID"
	rc=$?
	exec 3>&-
	ok "$([ "$ms" -lt 2000 ] && echo 0 || echo 1)" "$1: exits within 2 s of its reader's death ($ms ms)"
}
said() { grep -c "$1" "$SCRATCH/err"; }

# wb-fetch waiting for the rate limit's reset, a minute away.
gh ratelimit '{"remaining":0,"reset_in":60}'
stage wb-fetch 1
wait_for 10 grep -q 'waiting until' "$SCRATCH/err"
reader_dies "wb-fetch in a rate-limit wait"
is "$rc:$(tail -n 1 "$SCRATCH/err")" "111:wb-fetch: $FATAL" "wb-fetch: exit 111, one fatal line"
is "$(wc -c <"$SCRATCH/got" | tr -d ' ')" 0 "wb-fetch: nothing emitted"

# wb-fetch waiting for an answer that takes 30 s.
gh ratelimit '{"remaining":5000,"reset_in":3600}'
gh fault '{"match":"issues/2$","kind":"slow","seconds":30}'
gh_clear_log
stage wb-fetch 2
wait_for 10 test -s "$GH_LOG"
reader_dies "wb-fetch waiting for a slow answer"
is "$rc:$(cat "$SCRATCH/err")" "111:wb-fetch: $FATAL" "wb-fetch: exit 111, one fatal line"
gh faults '{}'

# wb-fetch waiting for input.
stage wb-fetch
sleep 0.1
reader_dies "wb-fetch waiting for input"
is "$rc:$(cat "$SCRATCH/err")" "111:wb-fetch: $FATAL" "wb-fetch: exit 111, one fatal line"

# wb-list --resume in a rate-limit wait: the resume point stays.
redis_cli SET 'wb:list:{webcompat/web-bugs}:since' 2020-01-01T00:00:00Z >/dev/null
gh ratelimit '{"remaining":0,"reset_in":60}'
stage wb-list --resume
wait_for 10 grep -q 'waiting until' "$SCRATCH/err"
reader_dies "wb-list in a rate-limit wait"
is "$rc:$(said "$FATAL")" "111:1" "wb-list: exit 111, one fatal line"
is "$(redis_cli GET 'wb:list:{webcompat/web-bugs}:since')" 2020-01-01T00:00:00Z "wb-list: the resume point did not move"
gh ratelimit '{"remaining":5000,"reset_in":3600}'

# wb-write waiting for input.
stage wb-write
sleep 0.1
reader_dies "wb-write waiting for input"
is "$rc:$(cat "$SCRATCH/err")" "111:wb-write: $FATAL" "wb-write: exit 111, one fatal line"

# wb-bulk with Elasticsearch down: it backs off, holding the record.
mkdir -p "$WB_DATA/current/1"
echo '{"number":1,"title":"t"}' >"$WB_DATA/current/1/issue.json"
echo '[]' >"$WB_DATA/current/1/timeline.json"
WB_ES=http://127.0.0.1:$(free_port)
export WB_ES
stage wb-bulk --idle 0.05
echo 1 >&3
wait_for 10 grep -q 'retrying until it answers' "$SCRATCH/err"
reader_dies "wb-bulk backing off from a down Elasticsearch"
is "$rc:$(said "$FATAL")" "111:1" "wb-bulk: exit 111, one fatal line"
is "$(wc -c <"$SCRATCH/got" | tr -d ' ')" 0 "wb-bulk: nothing emitted"

# wb-bulk waiting for input.
stage wb-bulk
sleep 0.1
reader_dies "wb-bulk waiting for input"
is "$rc:$(cat "$SCRATCH/err")" "111:wb-bulk: $FATAL" "wb-bulk: exit 111, one fatal line"

is "$(gh_stderr)" "" "the double reported no error"
done_testing
