#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-pipeline on its own: data flows through the stages; the first
# failure ends the others (SIGTERM, then SIGKILL after a second) and sets
# the exit status (100 wins); a stop signal ends every stage, exit 0; a
# kill -9 of wb-pipeline takes its stages along; -p ends it with its
# parent. Under s6, wb-svfinish kills what a stage started and left.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-s6.sh"
plan 26

# kids PID: its children's pids; nkids PID N: it has N children.
kids() { pgrep -P "$1" | tr '\n' ' '; }
nkids() { [ "$(pgrep -P "$1" | wc -l)" = "$2" ]; }
all_gone() {
	for _p in "$@"; do
		[ -z "$(comm "$_p")" ] || return 1
	done
}

run wb-pipeline seq 1 5 '|' sed 's/^/x/' '|' tr -d 5
# shellcheck disable=SC2086,SC2116	# the lines joined by one space
is "$RC:$(echo $OUT):$ERR" "0:x1 x2 x3 x4 x:" "three stages piped; exit 0"
echo "in" | wb-pipeline cat '|' cat >"$SCRATCH/o"
is "$?:$(cat "$SCRATCH/o")" "0:in" "the first stage reads wb-pipeline's input"

run wb-pipeline sh -c 'exit 3' '|' cat
is "$RC" 3 "a failing stage's status is the pipeline's"
like "$ERR" "^wb-pipeline: warning: sh \(pid [0-9]+\) exited 3: stopping the pipeline\$" "and it says so"

# A stage exits 100 while the others would run forever.
T0=$(now_ms)
run wb-pipeline sleep 100 '|' sh -c 'sleep 0.2; exit 100' '|' sleep 100
is "$RC" 100 "a stage's exit 100 is the pipeline's"
ok "$([ $(($(now_ms) - T0)) -lt 2000 ] && echo 0 || echo 1)" "the other stages ended at once (SIGTERM)"
like "$ERR" "^wb-pipeline: warning: sh \(pid [0-9]+\) exited 100 \(a permanent failure\): stopping the pipeline\$" "the permanent failure named"

# A stage exits 100 after another failed first: 100 still wins.
# (The first fails once the second has set its trap.)
F=$SCRATCH/trapped
run wb-pipeline sh -c 'until [ -e "$0" ]; do sleep 0.01; done; exit 111' "$F" \
	'|' sh -c 'trap "exit 100" TERM; : >"$0"; sleep 5 & wait' "$F"
is "$RC" 100 "100 wins over an earlier failure"

run wb-pipeline no-such-command-here '|' cat
is "$RC:$(printf '%s\n' "$ERR" | sed -n 1p)" "100:wb-pipeline: fatal: unable to run no-such-command-here: No such file or directory" \
	"a missing command: 100, said"

for bad in "" "|" "cat |" "| cat" "cat | | cat"; do
	# shellcheck disable=SC2086
	run wb-pipeline $bad
	is "$RC:$ERR" "100:wb-pipeline: usage: wb-pipeline [-p] command [arg ...] ['|' command [arg ...]] ..." "usage error: '$bad'"
done

# kill -9 of a stage: the others get SIGTERM; one that ignores it, SIGKILL.
wb-pipeline sleep 100 '|' sh -c 'trap "" TERM; while :; do sleep 0.05; done' \
	2>"$SCRATCH/err" &
P=$!
wait_for 10 nkids $P 2
# shellcheck disable=SC2046	# one pid a word
set -- $(kids $P)
first=$1 second=$2
T0=$(now_ms)
kill -9 "$first"
wait $P
RC=$?
ms=$(($(now_ms) - T0))
is "$RC" 111 "a stage killed by a signal: exit 111"
ok "$([ "$ms" -ge 900 ] && [ "$ms" -lt 2000 ] && echo 0 || echo 1)" "a stage ignoring SIGTERM is killed a second later ($ms ms)"
like "$(cat "$SCRATCH/err")" "^wb-pipeline: warning: sh \(pid $second\) still runs 1000 ms after SIGTERM: killing it\$" "and that is said"

# SIGTERM (s6-svc -d): every stage ends, exit 0.
wb-pipeline sleep 100 '|' sleep 100 '|' sleep 100 2>"$SCRATCH/err" &
P=$!
wait_for 10 nkids $P 3
stages=$(kids $P)
kill -TERM $P
wait $P
is "$?" 0 "stopped by SIGTERM: exit 0"
# shellcheck disable=SC2086
all_gone $stages
ok $? "every stage ended"
is "$(cat "$SCRATCH/err")" "wb-pipeline: info: signal 15: stopping the pipeline" "one line says so"

# kill -9 of wb-pipeline: the kernel kills its stages.
wb-pipeline sleep 100 '|' sleep 100 2>/dev/null &
P=$!
wait_for 10 nkids $P 2
stages=$(kids $P)
kill -9 $P
wait $P 2>/dev/null
# shellcheck disable=SC2086
wait_for 2 all_gone $stages
ok $? "kill -9 of wb-pipeline: its stages die with it"

# -p: wb-pipeline ends when its parent does.
sh -c 'wb-pipeline -p sleep 100 "|" sleep 100 2>/dev/null & echo $! >"$1"; exec sleep 100' sh "$SCRATCH/p" &
SH=$!
wait_for 10 test -s "$SCRATCH/p"
P=$(cat "$SCRATCH/p")
wait_for 10 nkids "$P" 2
stages=$(kids "$P")
kill -9 $SH
wait $SH 2>/dev/null
# shellcheck disable=SC2086
wait_for 2 all_gone "$P" $stages
ok $? "-p: its parent killed, wb-pipeline and its stages end"

# Under s6: a stage that starts a process of its own, which outlives it.
mkdir -p "$SCAN/stub"
cat >"$SCAN/stub/run" <<EOF
#!/bin/sh
exec 2>&1
exec wb-pipeline sh -c 'sleep 100 & sleep 100 & wait' '|' cat
EOF
cp "$WB_BUILD/s6/wb-downloader/finish" "$SCAN/stub/finish"
chmod +x "$SCAN/stub/run"
svscan_start
S=stub NSTAGES=2
wait_for 10 stages_up
pids() { svc_procs stub | sort -n | tr '\n' ' '; }
five() { [ "$(svc_procs stub | wc -l)" = 5 ]; }
wait_for 10 five
ok $? "the stub service runs: wb-pipeline, two stages, two sleeps"
old=$(pids)
kill -9 "$(svc_pid stub)"
# shellcheck disable=SC2086
wait_for 3 all_gone $old
ok $? "kill -9 of wb-pipeline: the stages' own children are killed by finish"
renewed() { five && [ -z "$(comm "${old%% *}")" ]; }
wait_for 10 renewed
ok $? "and a new instance runs alone"
is "$(s6-svstat -o up "$SCAN/stub")" true "s6 reports it up"
done_testing
