#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-write: the archive layout, atomic replacement, removal of gone
# issues, records passed on without issue/timeline/etags, bad records,
# unchanged files left alone, failed writes that leave the old files.
. "${0%/*}/lib.sh"
plan 48
WB_DATA=$SCRATCH/data
export WB_DATA
C=$WB_DATA/current
rec() { # number title events [extra fields]
	printf '{"number":%s,"queue":"download","claim":"9","issue":{"number":%s,"title":"%s","body":"caf\\u00e9 \\ud83d\\ude00"},"timeline":[%s]%s}\n' \
		"$1" "$1" "$2" "$3" "${4:-}"
}

run wb-write --help
like "$RC:$OUT" '^0:usage: wb-write' "--help"
run wb-write extra
is "$RC" 100 "no arguments taken"

rec 1 one '{"event":"labeled","n":1},{"event":"commented","n":2}' ',"etags":{"issue":"W/\"i1\"","timeline":[["W/\"p1\"",2]]}' >"$SCRATCH/in"
rec 2 two '' >>"$SCRATCH/in"
run wb-write <"$SCRATCH/in"
is "$RC:$ERR" "0:" "exit 0, silent"
is "$OUT" '{"number":1,"queue":"download","claim":"9"}
{"number":2,"queue":"download","claim":"9"}' "records passed on without issue, timeline, etags"
is "$(cat "$C/1/issue.json")" '{"number":1,"title":"one","body":"café 😀"}' "issue.json compact, UTF-8, as received"
is "$(cat "$C/1/timeline.json")" '[{"event":"labeled","n":1},{"event":"commented","n":2}]' "timeline.json compact"
is "$(cat "$C/2/timeline.json")" '[]' "empty timeline"
is "$(ls -A "$C/1" | tr '\n' ' ')" "issue.json timeline.json " "nothing else in current/N"
is "$(ls -A "$WB_DATA" | tr '\n' ' ')" "current etags " "ETags kept outside current/"
is "$(sed -n '3,$p' "$WB_DATA/etags/1" | tr '\n' ' ')" 'issue W/"i1" page 2 W/"p1" ' "ETags stored"
is "$(stat -c %a "$C/1/issue.json")" "$(umask 0022; touch "$SCRATCH/m"; stat -c %a "$SCRATCH/m")" "files readable as any new file (umask), not 0600"
test -e "$WB_DATA/etags/2"
is "$?" 1 "no ETags, no ETag file"

# Unchanged content is not rewritten; changed content replaces the file.
i1=$(stat -c %i "$C/1/issue.json") t1=$(stat -c %i "$C/1/timeline.json")
rec 1 one '{"event":"labeled","n":1},{"event":"commented","n":2}' | wb-write >/dev/null
is "$(stat -c %i "$C/1/issue.json") $(stat -c %i "$C/1/timeline.json")" "$i1 $t1" "identical record: files untouched"
rec 1 uno '{"event":"labeled","n":1},{"event":"commented","n":2}' | wb-write >/dev/null
is "$(stat -c %i "$C/1/timeline.json"):$(jq -r .title "$C/1/issue.json")" "$t1:uno" "only the changed file replaced"
test "$(stat -c %i "$C/1/issue.json")" != "$i1"
ok $? "by a new file (renamed over the old one)"

# Gone: the directory and the ETags go; other fields stay.
run sh -c 'printf "%s\n" "{\"number\":1,\"gone\":true,\"moved_to\":\"o/r#5\",\"claim\":\"3\",\"queue\":\"download\"}" "{\"number\":99,\"gone\":true}" | wb-write'
is "$RC:$OUT" '0:{"number":1,"gone":true,"moved_to":"o/r#5","claim":"3","queue":"download"}
{"number":99,"gone":true}' "gone records passed on"
is "$(ls "$C" | tr '\n' ' '):$(ls "$WB_DATA/etags" | tr '\n' ' ')" "2 :" "current/1 and etags/1 removed; absent 99 is fine"

# Bad records: reported by line, skipped, status 1; the rest is stored.
printf '%s\n' '{"number":3}' '{"number":4,"issue":[],"timeline":[]}' '{"number":5,"issue":{"number":6},"timeline":[]}' \
	'{"number":7,"issue":{"number":7},"timeline":{}}' "$(rec 8 eight '')" >"$SCRATCH/bad"
run wb-write <"$SCRATCH/bad"
is "$RC:$OUT" '1:{"number":8,"queue":"download","claim":"9"}' "only the good record stored and passed on"
is "$(printf '%s\n' "$ERR" | grep -c 'skipped$')" 4 "each bad record reported"
like "$ERR" '^wb-write: warning: line 3: no "issue" object of this number and "timeline" array, nor "gone", skipped$' "another number's issue refused"
is "$(ls "$C" | tr '\n' ' ')" "2 8 " "nothing written for them"

# The texts are copied as libjq prints them, whatever their spelling:
# whitespace dropped, jq's escapes, numbers as jq writes them; checked
# against jq itself.
del=$(printf '\177')
printf '{"number":20, "queue":"download", "issue" : {"number":20, "t":"\\u00e9\\/\\u007f\\u001f\\ud83d\\ude00\\"\\\\\\b\\f\\n\\r\\t%s", "n":[1.0,1E2,1.50,-0,0.1,1e400,1e16,1e-5,12345678901234567890,123456789012345,-123456789012345], "o":{ "k" : [ true, false, null ] } },\t "timeline":[ {"event" : "x", "x":0.5e1} ] }\n' "$del" >"$SCRATCH/spelled"
run wb-write <"$SCRATCH/spelled"
is "$RC:$OUT" '0:{"number":20,"queue":"download"}' "spelled record stored and passed on"
is "$(cat "$C/20/issue.json")" "$(jq -c .issue "$SCRATCH/spelled")" "issue.json byte for byte what jq prints"
is "$(cat "$C/20/timeline.json")" "$(jq -c .timeline "$SCRATCH/spelled")" "timeline.json byte for byte what jq prints"
# What libjq reads but the scanner does not (a lone surrogate escape), an
# issue.number that is not written as a decimal integer, and duplicate
# keys (which jq would merge and Elasticsearch refuses): refused. A
# removal needs no text: it is done even when another field is not strict
# JSON.
mkdir -p "$C/25" && echo '{}' >"$C/25/issue.json"
printf '%s\n' '{"number":21,"issue":{"number":21,"t":"\udc00"},"timeline":[]}' '{"number":120,"issue":{"number":1.2e2},"timeline":[]}' \
	'{"number":22,"issue":{"number":22,"a":1,"\u0061":2},"timeline":[]}' '{"number":23,"issue":{"number":23},"timeline":[{"o":{"b":1,"c":2,"d":3,"e":4,"f":5,"g":6,"h":7,"i":8,"j":9,"b":0}}]}' \
	'{"number":24,"issue":{"number":24,"o":{"a":1},"p":{"a":1}},"timeline":[{"a":1},{"a":2}]}' '{"number":25,"gone":true,"x":nan}' >"$SCRATCH/odd"
run wb-write <"$SCRATCH/odd"
is "$RC:$OUT" '1:{"number":24}
{"number":25,"gone":true,"x":null}' "refused ones not emitted; the same key in different objects is fine; the removal done"
is "$ERR" 'wb-write: warning: line 1: not storable JSON: lone UTF-16 surrogate escape at byte 39, skipped
wb-write: warning: line 2: no "issue" object of this number and "timeline" array, nor "gone", skipped
wb-write: warning: line 3: not storable JSON: duplicate key at byte 40, skipped
wb-write: warning: line 4: not storable JSON: duplicate key at byte 107, skipped
wb-write: warning: 4 input lines were rejected' "each reported with its reason"
is "$(ls "$C" | tr '\n' ' ')" "2 20 24 8 " "nothing written for the refused ones, 25 removed"
rm -rf "$C/24"
# Something other than a file where an archived file belongs (a FIFO,
# which would block a reader): replaced, without waiting on it.
rec 2 two '' | wb-write >/dev/null
rm "$C/2/issue.json" && mkfifo "$C/2/issue.json"
rec 2 two '' >"$SCRATCH/two"
run timeout 20 wb-write <"$SCRATCH/two"
is "$RC:$(stat -c %F "$C/2/issue.json")" "0:regular file" "a FIFO in place of issue.json: replaced at once"
# A file that holds more than the text (a newline added by hand) is not
# "unchanged": it is replaced.
rec 2 two '' | wb-write >/dev/null
printf '\n' >>"$C/2/timeline.json"
i2=$(stat -c %i "$C/2/timeline.json")
rec 2 two '' | wb-write >/dev/null
is "$(cat "$C/2/timeline.json"):$(wc -c <"$C/2/timeline.json")" "[]:2" "the longer file rewritten"
test "$(stat -c %i "$C/2/timeline.json")" != "$i2"
ok $? "by a new file"
rm -rf "$C/20"

# A failed write (file size limit: EFBIG) keeps the old files, leaves no
# temporary file, emits nothing for that record and exits 111.
rec 2 two '{"event":"x"}' | wb-write >/dev/null
old=$(cat "$C/2/issue.json" "$C/2/timeline.json")
big=$(awk 'BEGIN { for (i = 0; i < 2000; i++) printf "{\"event\":\"commented\",\"body\":\"%0100d\"},", i; printf "{}" }')
{ rec 2 changed "$big"; rec 8 eight-again ''; } >"$SCRATCH/big"
run sh -c "ulimit -f 100; exec wb-write <'$SCRATCH/big'"
is "$RC" 111 "write failure: exit 111"
like "$ERR" "^wb-write: warning: unable to write $C/2/\\.timeline\\.json\\.[0-9]+\\.[0-9]+: File too large; 2 not emitted\$" "reported with the file and the reason"
is "$OUT" '{"number":8,"queue":"download","claim":"9"}' "the failed record is not passed on, the next one is"
is "$(cat "$C/2/issue.json" "$C/2/timeline.json")" "$old" "previous files of the failed record intact (both)"
is "$(ls -A "$C/2" | tr '\n' ' ')" "issue.json timeline.json " "no temporary file left behind"
is "$(jq -r .title "$C/8/issue.json")" "eight-again" "the other record stored"

# current/N that is not a directory: an error for that record only.
: >"$C/9"
run sh -c "$(printf "printf '%%s\\\\n' '%s' | wb-write" "$(rec 9 nine '')")"
is "$RC:$OUT" "111:" "unusable current/N: 111, nothing emitted"
like "$ERR" "^wb-write: warning: unable to open the directory $C/9: Not a directory; 9 not emitted\$" "reported"

# A number out of range never becomes a path.
run sh -c "printf '%s\n' '{\"number\":2147483648,\"issue\":{},\"timeline\":[]}' '{\"number\":-1,\"gone\":true}' | wb-write"
is "$RC:$OUT:$(ls "$C" | tr '\n' ' ')" "1::2 8 9 " "out-of-range numbers rejected before any path"
# A write that fails half-way leaves both previous files as they were:
# never a new timeline beside an old issue, nor the reverse.
WB_DATA=$SCRATCH/d2 C=$SCRATCH/d2/current
mkdir -p "$C/11/timeline.json/x" "$C/12/issue.json/x"
echo '{"number":11,"title":"old"}' >"$C/11/issue.json"
echo '[{"old":1}]' >"$C/12/timeline.json"
{ rec 11 new '{"event":"x"}'; rec 12 new '{"event":"x"}'; } >"$SCRATCH/half"
WB_DATA=$SCRATCH/d2 run wb-write <"$SCRATCH/half"
is "$RC:$OUT" "111:" "timeline.json or issue.json that cannot be replaced: 111, nothing emitted"
is "$(cat "$C/11/issue.json")" '{"number":11,"title":"old"}' "timeline.json not replaceable: issue.json not replaced either"
is "$(cat "$C/12/timeline.json")" '[{"old":1}]' "issue.json not replaceable: the new timeline.json taken back"
is "$(ls -A "$C/11" "$C/12" | tr '\n' ' ')" "$C/11: issue.json timeline.json  $C/12: issue.json timeline.json " "no temporary file nor kept copy left"

# A new issue whose files cannot be written leaves no empty current/N,
# which would pass for an archived issue.
rec 13 new "$big" >"$SCRATCH/new"
WB_DATA=$SCRATCH/d2 run sh -c "ulimit -f 100; exec wb-write <'$SCRATCH/new'"
is "$RC:$OUT" "111:" "new issue not writable: 111"
test -e "$C/13"
is "$?" 1 "and no current/13 left behind"

# Removing a gone issue: current/N disappears whole, at once, even when
# it cannot be emptied (here a directory inside it).
mkdir -p "$C/14/sub/x" && echo '{}' >"$C/14/issue.json" && echo '[]' >"$C/14/timeline.json"
WB_DATA=$SCRATCH/d2 run sh -c 'echo "{\"number\":14,\"gone\":true}" | wb-write'
is "$RC:$OUT" "111:" "removal not complete: 111, not emitted"
like "$ERR" "^wb-write: warning: unable to remove $C/\\.14\\.gone\\.[0-9]+\\.[0-9]+: Is a directory; 14 not emitted\$" "reported with the path it could not empty"
test -e "$C/14"
is "$?" 1 "current/14 is gone all the same, not half-emptied"
done_testing
