#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-write killed with kill -9 in the middle of its batches leaves
# temporary files (".issue.json.PID.N", ".timeline.json.PID.N", the old
# timeline kept aside ".timeline.json.old.PID.N") in current/N, and a
# removal cut short leaves current/.N.gone.PID.N: the next writer of N
# removes them under N's lock, a start removes the gone directories,
# --clean every leftover; nothing that is not ours is ever removed.
. "${0%/*}/lib.sh"
plan 12
WB_DATA=$SCRATCH/data
export WB_DATA
C=$WB_DATA/current
N=1500
# input TAG: N records, each file marked with TAG, the timeline large
# enough that writing a batch takes a while.
input() {
	awk -v tag="$1" -v n="$N" 'BEGIN { pad = sprintf("%2000s", ""); gsub(/ /, "x", pad)
		for (i = 1; i <= n; i++)
			printf "{\"number\":%d,\"issue\":{\"number\":%d,\"title\":\"%s\"},\"timeline\":[{\"t\":\"%s\",\"pad\":\"%s\"}]}\n", i, i, tag, tag, pad }'
}
temps() {
	find "$C" -mindepth 2 -maxdepth 2 -type f -regextype posix-extended \
		-regex '.*/\.(issue\.json|timeline\.json|timeline\.json\.old)\.[0-9]+\.[0-9]+' |
		grep -c .
}
some_temps() { [ "$(temps)" -gt 0 ]; }

input r0 | wb-write >/dev/null
# What an operator keeps there, and names like ours that are not ours.
echo mine >"$C/5/notes.txt"
echo mine >"$C/5/.issue.json.bak"
echo mine >"$C/5/.issue.json.12"
echo target >"$SCRATCH/target"
ln -s "$SCRATCH/target" "$C/5/.timeline.json.99.1"

left=0 killed=0
for round in 1 2 3 4 5 6; do
	input "r$round" >"$SCRATCH/in"
	wb-write <"$SCRATCH/in" >/dev/null 2>&1 &
	w=$!
	if wait_for 30 some_temps; then
		kill -STOP "$w" 2>/dev/null
		left=$((left + $(temps)))
		kill -9 "$w" 2>/dev/null
		killed=$((killed + 1))
	fi
	wait "$w" 2>/dev/null
done
diag "$killed writers killed, $left temporary files left"
ok "$([ "$killed" -eq 6 ] && [ "$left" -gt 0 ]; echo $?)" "6 writers killed mid-batch left temporary files"

input final >"$SCRATCH/in"
run wb-write <"$SCRATCH/in"
is "$RC:$ERR:$(printf '%s\n' "$OUT" | grep -c .)" "0::$N" "the records written again: exit 0, all emitted"
is "$(temps)" 0 "no temporary file left"
bad=0
for i in $(seq 1 "$N"); do
	[ "$(cat "$C/$i/issue.json")" = "{\"number\":$i,\"title\":\"final\"}" ] || bad=$((bad + 1))
done
is "$bad" 0 "every issue.json holds the records' content"
is "$(grep -l '^\[{"t":"final","pad":"x*"}\]$' "$C"/*/timeline.json | grep -c .)" "$N" "every timeline.json too"
is "$(find "$C" -mindepth 2 | grep -v '/current/5/' | grep -vc '/\(issue\|timeline\)\.json$')" 0 "nothing else in current/N"
is "$(cd "$C/5" && ls -A | tr '\n' ' ')" ".issue.json.12 .issue.json.bak .timeline.json.99.1 issue.json notes.txt timeline.json " \
	"what is not ours stays: the operator's files, names not quite ours, a link"
is "$(cat "$SCRATCH/target"):$(readlink "$C/5/.timeline.json.99.1")" "target:$SCRATCH/target" "the link was not followed"

# An issue never written again: --clean. A removal cut short: any start.
mkdir "$C/.9.gone.4242.7" "$C/.8.gone.4242.8" "$C/.7.gone.x"
echo x >"$C/.9.gone.4242.7/issue.json"
echo x >"$C/.9.gone.4242.7/.timeline.json.4242.3"
echo x >"$C/.8.gone.4242.8/issue.json"
flock -o "$C/.8.gone.4242.8" sleep 60 >/dev/null 2>&1 &
holder=$!
atexit "kill -9 $holder 2>/dev/null"
held() { ! flock -n "$C/.8.gone.4242.8" true; }
wait_for 10 held
echo x >"$C/1499/.issue.json.4242.5"
echo x >"$C/1499/.timeline.json.old.4242.6"
: | wb-write >/dev/null
is "$(cd "$C" && find . -mindepth 1 -maxdepth 1 -name '.*' | sed 's|^\./||' | sort | tr '\n' ' '):$(ls -A "$C/1499" | tr '\n' ' ')" \
	".7.gone.x .8.gone.4242.8 :.issue.json.4242.5 .timeline.json.old.4242.6 issue.json timeline.json " \
	"a start removes a removal cut short, not one a live writer holds, nor a name not ours"
run wb-write --clean
is "$RC:$OUT:$ERR" "0::wb-write: info: removed 2 leftovers of killed writers" "--clean removes the temporaries of every issue and says how many"
is "$(ls -A "$C/1499" | tr '\n' ' '):$(ls -A "$C/5" | tr '\n' ' ')" \
	"issue.json timeline.json :.issue.json.12 .issue.json.bak .timeline.json.99.1 issue.json notes.txt timeline.json " \
	"and only them"
run wb-write --bogus
is "$RC" 100 "an unknown option: usage"
