#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Answers that lead elsewhere: a redirect is taken as "gone" only on a
# definite answer at its end (a 404 or 410, or a 200 issue whose
# repository_url says where it went); a follow-up that fails, loops or
# ends nowhere is reported and nothing is emitted, so the archive stays.
# Every followed next link must stay on this issue's timeline of this
# repository, and an issue must name this repository as its own.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
plan 28
github_client 8 3
C=$WB_DATA/current
A=$WB_GITHUB_API
OURS=$A/repositories/17839063
OTHER=$A/repositories/17839064
fault() { gh fault "$1"; }
# fetch N...: wb-fetch into $OUT, $ERR, $RC; what it emits goes on to
# wb-write, as in the downloader.
fetch() {
	run wb-fetch "$@"
	[ -z "$OUT" ] || printf '%s\n' "$OUT" | wb-write >/dev/null 2>&1
}
wb-fetch 1 2 3 4 5 6 7 8 | wb-write >/dev/null
snap() { for n in "$@"; do cat "$C/$n/issue.json" "$C/$n/timeline.json"; done | md5sum; }
before=$(snap 1 2 3 4 5 6)

# 1 and 2 redirect into this repository, to 124 and 125, which answer
# 502: not gone, in the same process either (no "has moved" while the
# repository answers 200 under its name).
fault "{\"match\":\"web-bugs/issues/1\$\",\"kind\":\"redirect\",\"location\":\"$OURS/issues/124\",\"times\":-1}"
fault "{\"match\":\"web-bugs/issues/2\$\",\"kind\":\"redirect\",\"location\":\"$OURS/issues/125\",\"times\":-1}"
fault '{"match":"/issues/12[45]$","kind":"status","status":502,"times":-1}'
fetch 1 2
is "$RC:$OUT" "111:" "redirect to a 502: nothing emitted, 111"
is "$ERR" "wb-fetch: warning: issue 1 redirected, and where it went did not answer: server error (after 6 tries); not taken as gone; not emitted
wb-fetch: warning: issue 2 redirected, and where it went did not answer: server error (after 6 tries); not taken as gone; not emitted" "each reported once; no \"has moved\""
is "$(gh_requests '.path == "/repositories/17839063/issues/124"')" 6 "the follow-up retried with backoff"
# A restart starts over: still nothing taken as gone.
fetch 1
is "$RC:$OUT" "111:" "after a restart: the same"
gh faults '{}'

# A loop: 3 redirects to the other repository, which redirects back.
fault "{\"match\":\"web-bugs/issues/3\$\",\"kind\":\"redirect\",\"location\":\"$OTHER/issues/300\",\"times\":-1}"
fault "{\"match\":\"17839064/issues/300\$\",\"kind\":\"redirect\",\"location\":\"$A/repos/webcompat/web-bugs/issues/3\",\"times\":-1}"
fetch 3
is "$RC:$OUT:$ERR" "111::wb-fetch: warning: issue 3: its redirects loop; not taken as gone; not emitted" "redirect loop: reported, not gone"
# A chain that never ends.
gh faults '{}'
fault "{\"match\":\"web-bugs/issues/3\$\",\"kind\":\"redirect\",\"location\":\"$OTHER/issues/301\",\"times\":-1}"
for k in 301 302 303 304 305 306; do
	fault "{\"match\":\"17839064/issues/$k\$\",\"kind\":\"redirect\",\"location\":\"$OTHER/issues/$((k + 1))\",\"times\":-1}"
done
fetch 3
is "$RC:$OUT:$ERR" "111::wb-fetch: warning: issue 3: more than 5 redirects; not taken as gone; not emitted" "endless chain: reported, not gone"
# A follow-up whose connection drops every time.
gh faults '{}'
fault "{\"match\":\"web-bugs/issues/4\$\",\"kind\":\"redirect\",\"location\":\"$OTHER/issues/400\",\"times\":-1}"
fault '{"match":"17839064/issues/400$","kind":"drop","times":-1}'
fetch 4
like "$RC:$OUT:$ERR" "^111::wb-fetch: warning: issue 4 redirected, and where it went did not answer: .*\\(after 6 tries\\); not taken as gone; not emitted\$" "transport error on the follow-up: reported, not gone"
# A follow-up that answers 200 with something that is not an issue.
gh faults '{}'
fault "{\"match\":\"web-bugs/issues/4\$\",\"kind\":\"redirect\",\"location\":\"$A/repos/webcompat/web-bugs\",\"times\":-1}"
fetch 4
is "$RC:$OUT:$ERR" "111::wb-fetch: warning: issue 4 redirected to what is not an issue; not taken as gone; not emitted" "200 without an issue: reported, not gone"
gh faults '{}'
is "$(snap 1 2 3 4 5 6)" "$before" "the archive of every such issue is intact"

# Definite answers: a 404 at the end of the redirect (deleted since), and
# a transfer (a 200 issue of another repository).
fault "{\"match\":\"web-bugs/issues/5\$\",\"kind\":\"redirect\",\"location\":\"$OTHER/issues/999\",\"times\":-1}"
gh state '{"number":6,"state":"transferred","to_number":60}'
run sh -c 'wb-fetch 5 6 | wb-write'
is "$RC:$ERR" "0:" "definite answers: exit 0, silent"
is "$OUT" '{"number":5,"gone":true}
{"number":6,"gone":true,"moved_to":"webcompat/web-bugs-archive#60"}' "404 after the redirect: gone; 200 elsewhere: moved"
test -e "$C/5" || test -e "$C/6"
is "$?" 1 "and only those are removed"
gh faults '{}'
gh state '{"number":6,"state":"ok"}'

# Next links: only this issue's timeline of this repository is followed.
gh events '{"number":7,"count":150}'
gh state '{"number":8,"state":"transferred","to_number":80}'
gh events '{"number":8,"count":150}'
link() { gh faults '{}'; fault "$(jq -cn --arg l "<$1>; rel=\"next\"" '{match:"issues/7/timeline\\?per_page=100$",kind:"link",link:$l,times:-1}')"; gh_clear_log; }
link "$A/repos/webcompat/web-bugs-archive/issues/80/timeline?per_page=100&page=2"
run wb-fetch 7
is "$RC:$OUT:$ERR" '111::wb-fetch: warning: timeline of 7: Link rel="next" leads out of this issue of webcompat/web-bugs; not followed; not emitted' "next link into another repository: refused"
is "$(gh_requests '.path | test("web-bugs-archive")')" 0 "and not requested"
link "$OTHER/issues/80/timeline?per_page=100&page=2"
run wb-fetch 7
is "$RC:$OUT" '111:' "next link into another repository by id: refused"
is "$(gh_requests '.path | test("17839064")')" 0 "and not requested"
link "$A/repos/webcompat/web-bugs/issues/2/timeline?per_page=100&page=2"
run wb-fetch 7
is "$RC:$OUT:$ERR" '111::wb-fetch: warning: timeline of 7: Link rel="next" leads out of this issue of webcompat/web-bugs; not followed; not emitted' "next link into another issue: refused"
link "$OURS/issues/70/timeline?per_page=100&page=2"
run wb-fetch 7
is "$RC:$OUT" '111:' "next link into another issue by id: refused"
link "$A/repos/webcompat/web-bugs/issues/7/timeline/../../2/timeline?per_page=100&page=2"
run wb-fetch 7
is "$RC:$OUT" '111:' "dot segments: refused"
link "$A/repos/WebCompat/Web-Bugs/issues/7/timeline?per_page=100&page=2"
run wb-fetch 7
is "$RC:$ERR:$(printf '%s' "$OUT" | jq '.timeline | length')" '0::150' "this repository's name in another case: followed, as GitHub compares names"
link "$OURS/issues/7/timeline?per_page=100&page=2"
run wb-fetch 7
is "$RC:$ERR:$(printf '%s' "$OUT" | jq '.timeline | length')" '0::150' "by this repository's id: followed"
is "$(gh_requests '.path == "/repos/webcompat/web-bugs"')" 1 "the id learned from the repository itself"
gh faults '{}'

# A listed issue, transferred since: its timeline redirects, and the
# issue itself is read where it went.
curl -sf "$A/_double/dump/8" | jq -c '{number: 8, issue: .issue}' >"$SCRATCH/listed8"
run wb-fetch <"$SCRATCH/listed8"
is "$RC:$OUT:$ERR" '0:{"number":8,"gone":true,"moved_to":"webcompat/web-bugs-archive#80"}:' "listed issue whose timeline redirects: followed to the issue, moved"

# An issue whose repository_url is another repository's: refused, asked
# or listed.
gh set "{\"number\":3,\"fields\":{\"repository_url\":\"$A/repos/evil/other\"}}"
run wb-fetch 3
is "$RC:$OUT:$ERR" "111::wb-fetch: warning: issue 3 answers as an issue of another repository than webcompat/web-bugs (its repository_url); not emitted" "issue of another repository: refused"
printf '{"number":3,"issue":{"number":3,"title":"x","repository_url":"%s/repos/evil/other"}}\n' "$A" >"$SCRATCH/listed"
run wb-fetch <"$SCRATCH/listed"
is "$RC:$OUT:$ERR" "111::wb-fetch: warning: \"issue\" 3 is not of repository webcompat/web-bugs (its repository_url); not emitted" "listed issue of another repository: refused"
printf '{"number":3,"issue":{"number":3,"title":"x"}}\n' >"$SCRATCH/listed"
run wb-fetch <"$SCRATCH/listed"
is "$RC:$OUT" "111:" "listed issue without repository_url: refused"
gh set "{\"number\":3,\"fields\":{\"repository_url\":\"$A/repos/WEBCOMPAT/web-bugs\"}}"
run wb-fetch 3
is "$RC:$ERR" "0:" "this repository's name in another case: accepted"
is "$(gh_stderr)" "" "the double reported no error"
