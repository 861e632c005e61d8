#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Symbolic links in the archive are never followed: not by wb-write (a
# record for an issue whose current/N, issue.json, timeline.json, etags/N,
# current/ or etags/ is a link fails with one warning naming it, and
# nothing outside WB_DATA is touched), not by wb-fetch (which then reads
# no archived copy and no ETags). WB_DATA itself may be a link: where the
# operator put the archive.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
plan 33
WB_DATA=$SCRATCH/data
export WB_DATA
C=$WB_DATA/current
E=$WB_DATA/etags
X=$SCRATCH/outside
rec() { printf '{"number":%s,"issue":{"number":%s,"title":"t"},"timeline":[{"event":"x"}],"etags":{"issue":"W/\\"i\\"","timeline":[["W/\\"p\\"",1]]}}\n' "$1" "$1"; }
gone() { printf '{"number":%s,"gone":true}\n' "$1"; }
# What lies outside, byte for byte, with names, modes and times.
outside() { (cd "$X" && find . -printf '%p %y %m %s %T@\n' | sort && find . -type f -exec md5sum {} + | sort) | md5sum; }
mkdir -p "$X/dir" "$C" "$E"
echo 'precious 1' >"$X/dir/issue.json"
echo 'precious 2' >"$X/dir/timeline.json"
echo 'precious 3' >"$X/dir/other"
echo 'precious 4' >"$X/file"
before=$(outside)
link_msg() { echo "wb-write: warning: $1 is a symbolic link, where the archive keeps its own files; not followed; $2 not emitted"; }

# current/21 a link to a directory outside: no write, no removal.
ln -s "$X/dir" "$C/21"
run sh -c "$(printf "printf '%%s\\\\n' '%s' | wb-write" "$(rec 21)")"
is "$RC:$OUT" "111:" "record for a linked current/N: 111, nothing emitted"
is "$ERR" "$(link_msg "$C/21" 21)" "one warning naming the link"
run sh -c "$(printf "printf '%%s\\\\n' '%s' | wb-write" "$(gone 21)")"
is "$RC:$OUT" "111:" "gone for a linked current/N: 111, nothing emitted"
is "$ERR" "$(link_msg "$C/21" 21)" "reported the same way"
is "$(readlink "$C/21")" "$X/dir" "the link is left as it was"
is "$(outside)" "$before" "the target directory is untouched, byte for byte"

# issue.json or timeline.json a link inside a real current/N.
mkdir "$C/22" "$C/23"
ln -s "$X/file" "$C/22/issue.json" && echo '[]' >"$C/22/timeline.json"
echo '{"number":23}' >"$C/23/issue.json" && ln -s "$X/file" "$C/23/timeline.json"
{ rec 22; rec 23; rec 25; } >"$SCRATCH/in"
run wb-write <"$SCRATCH/in"
is "$RC:$OUT" "111:{\"number\":25}" "linked files: those records fail, the others are stored"
is "$ERR" "$(link_msg "$C/22/issue.json" 22)
$(link_msg "$C/23/timeline.json" 23)" "each reported with its path"
{ gone 22; gone 23; } >"$SCRATCH/in"
run wb-write <"$SCRATCH/in"
is "$RC:$OUT" "111:" "their removal fails as well"
is "$(readlink "$C/22/issue.json"):$(readlink "$C/23/timeline.json"):$(cat "$C/22/timeline.json" "$C/23/issue.json" | tr '\n' ' ')" \
	"$X/file:$X/file:[] {\"number\":23} " "the links and the other files stay"
is "$(ls -A "$C/22" "$C/23" | tr '\n' ' ')" "$C/22: issue.json timeline.json  $C/23: issue.json timeline.json " "no temporary file left"
is "$(outside)" "$before" "the targets are untouched"

# etags/N a link: not opened, truncated nor removed.
ln -s "$X/file" "$E/24"
rec 24 >"$SCRATCH/in"
printf '{"number":24,"issue":{"number":24},"timeline":[]}\n' >>"$SCRATCH/in"
gone 24 >>"$SCRATCH/in"
run wb-write <"$SCRATCH/in"
is "$RC:$OUT" "111:" "records of an issue whose etags/N is a link fail (with ETags, without, gone)"
is "$ERR" "$(link_msg "$E/24" 24)
$(link_msg "$E/24" 24)
$(link_msg "$E/24" 24)" "each reported"
is "$(readlink "$E/24")" "$X/file" "the link stays"
is "$(outside)" "$before" "its target is untouched"
test -e "$C/24"
is "$?" 1 "and no current/24 left behind"

# current/ or etags/ themselves links: ours, refused.
WB_DATA=$SCRATCH/d3
mkdir -p "$WB_DATA" && ln -s "$X/dir" "$WB_DATA/current"
WB_DATA=$SCRATCH/d3 run sh -c "$(printf "printf '%%s\\\\n' '%s' '%s' | wb-write" "$(rec 1)" "$(gone 2)")"
is "$RC:$OUT" "111:" "current/ a link: records fail"
is "$ERR" "$(link_msg "$SCRATCH/d3/current" 1)
$(link_msg "$SCRATCH/d3/current" 2)" "reported, naming current/"
mkdir -p "$SCRATCH/d4/current" && ln -s "$X/dir" "$SCRATCH/d4/etags"
WB_DATA=$SCRATCH/d4 run sh -c "$(printf "printf '%%s\\\\n' '%s' | wb-write" "$(rec 1)")"
is "$RC:$OUT:$ERR" "111::$(link_msg "$SCRATCH/d4/etags" 1)" "etags/ a link: refused, named"
test -e "$SCRATCH/d4/current/1"
is "$?" 1 "nothing written"
is "$(outside)" "$before" "nothing outside touched"

# WB_DATA itself a link: the operator's choice, followed.
mkdir -p "$SCRATCH/real"
ln -s "$SCRATCH/real" "$SCRATCH/d5"
WB_DATA=$SCRATCH/d5 run sh -c "$(printf "printf '%%s\\\\n' '%s' | wb-write" "$(rec 1)")"
is "$RC:$OUT:$ERR" '0:{"number":1}:' "WB_DATA a link: stored"
is "$(cat "$SCRATCH/real/current/1/issue.json")" '{"number":1,"title":"t"}' "in the directory it points to"

# wb-fetch reads neither archived files nor ETags through a link.
github_client 6 3
WB_DATA=$SCRATCH/d6
export WB_DATA
C=$WB_DATA/current E=$WB_DATA/etags
wb-fetch 1 2 3 | wb-write >/dev/null
gh_clear_log
wb-fetch 1 >/dev/null
is "$(gh_requests '.inm and .status == 304')" 2 "a real archive: conditional requests, 304s"
# The same files, reached through links: current/1 a link; 2's files
# links; etags/3 a link.
mkdir -p "$SCRATCH/copy/c" "$SCRATCH/copy/2" && cp -p "$C/1/issue.json" "$C/1/timeline.json" "$SCRATCH/copy/c/"
rm -rf "$C/1" && ln -s "$SCRATCH/copy/c" "$C/1" && cp "$E/1" "$E/1.keep" && rm "$E/1" && mv "$E/1.keep" "$E/1"
for f in issue.json timeline.json; do mv "$C/2/$f" "$SCRATCH/copy/2/$f" && ln -s "$SCRATCH/copy/2/$f" "$C/2/$f"; done
mv "$E/3" "$SCRATCH/copy/etags3" && ln -s "$SCRATCH/copy/etags3" "$E/3"
gh_clear_log
run wb-fetch 1 2 3
is "$RC:$ERR" "0:" "wb-fetch: exit 0, silent"
is "$(gh_requests '(.inm or .ims) and (.path | test("issues/[12]"))')" 0 "no condition from archived files behind a link: 1 and 2 asked in full"
is "$(gh_requests '.inm')" 0 "no ETag read from etags/3, a link (nor from etags/1, whose files are behind one)"
is "$(printf '%s\n' "$OUT" | jq -c '[.number, (.timeline | length)]' | tr '\n' ' ')" "[1,3] [2,3] [3,3] " "every issue downloaded whole"
# Then wb-write refuses 1 and 2, stores 3 only if etags/3 is not a link.
printf '%s\n' "$OUT" >"$SCRATCH/fetched"
run wb-write <"$SCRATCH/fetched"
is "$RC:$OUT" "111:" "wb-write: the linked ones refused"
is "$ERR" "$(link_msg "$C/1" 1)
$(link_msg "$C/2/issue.json" 2)
$(link_msg "$E/3" 3)" "each named"
is "$(readlink "$C/1"):$(readlink "$E/3")" "$SCRATCH/copy/c:$SCRATCH/copy/etags3" "links left as they were"
is "$(gh_stderr)" "" "the double reported no error"
