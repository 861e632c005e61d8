#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-scrub fails safe: private issues and whatever it cannot classify are
# removed (reported, exit 1), symbolic links never followed; and a
# consumer's view: latest.tar.gz downloaded through nginx, extracted,
# scrubbed.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-nginx.sh"
plan 33

D=$SCRATCH/share/20261203_1400
# issue N TEXT: an issue directory with that issue.json and a timeline.
issue() {
	mkdir -p "$D/$1"
	printf '%s' "$2" >"$D/$1/issue.json"
	printf '[]' >"$D/$1/timeline.json"
}
public='{"number":1,"title":"public","body":"see \"__WEBCOMPAT_PRIVATE_ISSUE__\":true","x":{"__WEBCOMPAT_PRIVATE_ISSUE__":true}}'
private='{"number":2,"title":"the real title","body":"the real body","__WEBCOMPAT_PRIVATE_ISSUE__":true}'

# The defect: a private issue truncated in the middle of its body (the
# flag after it) was kept, exit 0.
issue 2 "$(printf '%s' "$private" | head -c 40)"
run wb-scrub "$D"
is "$RC" 1 "a truncated issue.json: exit 1"
is "$OUT" "$D/2" "it is removed, its path printed"
is "$ERR" "wb-scrub: warning: $D/2: unable to classify: issue.json: unterminated string at byte 40; removed" \
	"its reason on stderr"
is "$(ls -A "$D")" "" "nothing of it is left"

issue 1 "$public"
issue 2 "$private"
issue 3 '{"number":3,"__WEBCOMPAT_PRIVATE_ISSUE__":false}'
issue 4 '{"number":4,"__WEBCOMPAT_PRIVATE_ISSUE__":true}'
issue 5 ''
issue 6 "$(printf '{"number":6,"title":"caf\351"}')"
issue 7 '[{"number":7}]'
issue 8 '"text"'
issue 9 '{"number":9,"__WEBCOMPAT_PRIVATE_ISSUE__":"true"}'
issue 10 '{"__WEBCOMPAT_PRIVATE_ISSUE__":false,"__WEBCOMPAT_PRIVATE_ISSUE__":true}'
issue 11 '{"number":11} {"__WEBCOMPAT_PRIVATE_ISSUE__":true}'
issue 12 '{"number":12,"__WEBCOMPAT\u005fPRIVATE_ISSUE__":true}'
issue 13 '   '
mkdir -p "$D/14" && printf '[]' >"$D/14/timeline.json"
mkdir -p "$D/15/issue.json"
issue 20 '{"number":20}'
rm "$D/20/issue.json" && mkfifo "$D/20/issue.json"
for n in foo 012 0 2147483648 -3; do issue "$n" "$public"; done
printf 'x' >"$D/README"
# Links out of the snapshot: to a private issue's directory, and an
# issue.json pointing at one; neither is followed.
mkdir -p "$SCRATCH/outside/99"
printf '%s' "$private" >"$SCRATCH/outside/99/issue.json"
ln -s "$SCRATCH/outside/99" "$D/16"
mkdir -p "$D/17" && ln -s "$SCRATCH/outside/99/issue.json" "$D/17/issue.json"
ln -s "$SCRATCH/outside" "$D/18"
printf 'x' >"$D/19"
cp -R "$D" "$SCRATCH/copy"

run wb-scrub "$D"
is "$RC" 1 "some could not be classified: exit 1"
is "$OUT" "$(for n in 2 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 -3 0 012 2147483648 README foo; do echo "$D/$n"; done)" \
	"removed, each path on stdout: the private ones and all that cannot be classified, numbers first"
is "$ERR" "wb-scrub: warning: $D/5: unable to classify: issue.json: empty; removed
wb-scrub: warning: $D/6: unable to classify: issue.json: invalid UTF-8 at byte 24; removed
wb-scrub: warning: $D/7: unable to classify: issue.json: not a JSON object at byte 0; removed
wb-scrub: warning: $D/8: unable to classify: issue.json: not a JSON object at byte 0; removed
wb-scrub: warning: $D/9: unable to classify: issue.json: __WEBCOMPAT_PRIVATE_ISSUE__ is neither true nor false; removed
wb-scrub: warning: $D/10: unable to classify: issue.json: a key twice, at byte 37; removed
wb-scrub: warning: $D/11: unable to classify: issue.json: trailing data after the object at byte 14; removed
wb-scrub: warning: $D/13: unable to classify: issue.json: empty at byte 3; removed
wb-scrub: warning: $D/14: unable to classify: no issue.json; removed
wb-scrub: warning: $D/15: unable to classify: issue.json: not a regular file; removed
wb-scrub: warning: $D/16: unable to classify: a symbolic link; removed
wb-scrub: warning: $D/17: unable to classify: issue.json: a symbolic link; removed
wb-scrub: warning: $D/18: unable to classify: a symbolic link; removed
wb-scrub: warning: $D/19: unable to classify: not a directory; removed
wb-scrub: warning: $D/20: unable to classify: issue.json: not a regular file; removed
wb-scrub: warning: $D/-3: unable to classify: not an issue number; removed
wb-scrub: warning: $D/0: unable to classify: not an issue number; removed
wb-scrub: warning: $D/012: unable to classify: not an issue number; removed
wb-scrub: warning: $D/2147483648: unable to classify: not an issue number; removed
wb-scrub: warning: $D/README: unable to classify: not an issue number; removed
wb-scrub: warning: $D/foo: unable to classify: not an issue number; removed" \
	"each unclassifiable one on stderr with its reason (private ones are not warned about)"
is "$(ls "$D" | tr '\n' ' ')" "1 3 " "left: the public issue (mentions of the flag elsewhere do not count) and the one flagged false"
is "$(ls "$D/1" | tr '\n' ' ')" "issue.json timeline.json " "a kept issue is whole"
is "$(cat "$SCRATCH/outside/99/issue.json")" "$private" "nothing outside DIR is read or removed through a link"
run wb-scrub "$D"
is "$RC:$OUT:$ERR" "0::" "a second run: nothing to do, 0"

# --keep-unreadable: reported, exit 1, but kept for inspection; private
# ones still go.
run wb-scrub --keep-unreadable "$SCRATCH/copy"
is "$RC" 1 "--keep-unreadable: still exit 1"
is "$OUT" "$SCRATCH/copy/2
$SCRATCH/copy/4
$SCRATCH/copy/12" "only the private ones removed (12's key, once unescaped, is the flag)"
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 21 "each unclassifiable one still reported"
is "$(printf '%s\n' "$ERR" | head -n 1)" "wb-scrub: warning: $SCRATCH/copy/5: unable to classify: issue.json: empty; kept" \
	"saying it is kept"
is "$(ls "$SCRATCH/copy" | wc -l | tr -d ' ')" 23 "all the rest is there"
run wb-scrub -k "$SCRATCH/copy"
is "$RC:$OUT" "1:" "-k again: exit 1, nothing removed"

# DIR one level too high (it holds STAMP/): refused, nothing removed.
run wb-scrub "$SCRATCH/share"
is "$RC:$ERR" "100:wb-scrub: fatal: no issue directory in $SCRATCH/share: give the directory of the issues (STAMP/ of a snapshot)" \
	"a directory without issue directories: 100"
is "$(ls "$SCRATCH/share")" 20261203_1400 "nothing removed"

# An older snapshot: DIR holding current/ means that one; a current that
# is a link is not followed.
mkdir -p "$SCRATCH/old/current/7" "$SCRATCH/old/current/8"
printf '%s' "$private" >"$SCRATCH/old/current/7/issue.json"
printf '{}' >"$SCRATCH/old/current/8/issue.json"
run wb-scrub "$SCRATCH/old/"
is "$RC:$OUT:$ERR" "0:$SCRATCH/old/current/7:" "DIR/current/ of an older snapshot (a trailing slash is fine)"
mkdir -p "$SCRATCH/link"
ln -s "$SCRATCH/outside" "$SCRATCH/link/current"
mkdir -p "$SCRATCH/link/5" && printf '{}' >"$SCRATCH/link/5/issue.json"
run wb-scrub "$SCRATCH/link"
is "$RC:$OUT:$(cat "$SCRATCH/outside/99/issue.json")" "1:$SCRATCH/link/current:$private" \
	"a current/ that is a link is not followed: the link alone is removed"

mkdir "$SCRATCH/empty"
run wb-scrub "$SCRATCH/empty"
is "$RC:$OUT:$ERR" "0::" "an empty directory: 0"
run wb-scrub "$SCRATCH/nothere"
is "$RC:$ERR" "100:wb-scrub: fatal: unable to open $SCRATCH/nothere: No such file or directory" "no such DIR: 100"
run wb-scrub
is "$RC:$ERR" "100:wb-scrub: usage: wb-scrub [-k] DIR" "no DIR: usage, 100"
run wb-scrub a b
is "$RC" 100 "two DIRs: usage, 100"
run wb-scrub --help
like "$RC:$OUT" "^0:usage: wb-scrub \\[-k\\] DIR" "--help"
run wb-scrub --version
is "$RC:$OUT" "0:wb-scrub (wb) 0.1.0" "--version"

# A consumer: latest.tar.gz over HTTPS (etc/nginx/wb.conf, through the
# link), tar -xzf, STAMP/N/issue.json, wb-scrub STAMP.
export WB_DATA="$SCRATCH/data"
C=$WB_DATA/current
mkdir -p "$C/1" "$C/2" "$C/3"
printf '%s' "$public" >"$C/1/issue.json"
printf '[{"event":"commented","body":"x"}]' >"$C/1/timeline.json"
printf '%s' "$private" >"$C/2/issue.json"
printf '[{"event":"commented","body":"private too"}]' >"$C/2/timeline.json"
printf '{"number":3}' >"$C/3/issue.json"
run wb-snapshot
is "$RC" 0 "wb-snapshot"
st=$(basename "$OUT" .tar.gz)
port=$(free_port)
start_nginx "$port" "$WB_DATA" "$(free_port)"
ok "$?" "nginx serves the archive (etc/nginx/wb.conf)"
mkdir "$SCRATCH/consumer"
cd "$SCRATCH/consumer" || exit 1
# shellcheck disable=SC2086 # options, split on purpose
curl -fsS $NGINX_CURL -u ops:sekret -o latest.tar.gz "$NGINX_URL/data/snapshots/latest.tar.gz"
is "$?:$(cmp latest.tar.gz "$OUT" && echo same)" "0:same" "latest.tar.gz downloaded: the newest snapshot"
tar -xzf latest.tar.gz
is "$(find . -name issue.json | sort | tr '\n' ' ')" "./$st/1/issue.json ./$st/2/issue.json ./$st/3/issue.json " \
	"tar -xzf: STAMP/N/issue.json"
run wb-scrub "$st"
is "$RC:$OUT:$ERR" "0:$st/2:" "wb-scrub STAMP: the private issue removed, timeline and all"
is "$(find . -type f | sort | tr '\n' ' ')" "./$st/1/issue.json ./$st/1/timeline.json ./$st/3/issue.json ./latest.tar.gz " \
	"what may be shared"
cd "$SCRATCH" || exit 1
done_testing
