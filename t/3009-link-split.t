#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# A Link header split over two header fields (as a proxy may send it;
# RFC 9110: repeated fields are one comma-separated list) is read whole:
# the rel="next" of the second field is not lost, so the first page is
# not taken for the last one, by wb-fetch nor by wb-list.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
plan 8
github_client 105 3
R=$WB_GITHUB_API/repositories/17839063

# Issue 4 has 105 events: two pages. Page 1 answers with rel="last" in
# one Link field and rel="next" in a second one.
gh events '{"number":4,"count":105}'
TL=$R/issues/4/timeline
gh fault "$(jq -cn --arg a "<$TL?per_page=100&page=2>; rel=\"last\"" \
	--arg b "<$TL?per_page=100&page=2>; rel=\"next\"" \
	'{match:"issues/4/timeline\\?per_page=100$",kind:"link",link:[$a,$b],times:-1}')"
run wb-fetch 4
is "$RC:$ERR" "0:" "split Link: exit 0, silent"
is "$(printf '%s' "$OUT" | jq '.timeline | length')" 105 "all 105 events, both pages"
is "$(printf '%s' "$OUT" | jq -cS .timeline | md5sum)" "$(curl -sf "$WB_GITHUB_API/_double/dump/4" | jq -cS .timeline | md5sum)" "exactly as served"
is "$(gh_requests '.path | test("issues/4/timeline")')" 2 "both pages asked"

# The same in the other order, with the next link first: unchanged.
gh faults '{}'
gh fault "$(jq -cn --arg a "<$TL?per_page=100&page=2>; rel=\"next\"" \
	--arg b "<$TL?per_page=100&page=2>; rel=\"last\"" \
	'{match:"issues/4/timeline\\?per_page=100$",kind:"link",link:[$a,$b],times:-1}')"
run wb-fetch 4
is "$RC:$(printf '%s' "$OUT" | jq '.timeline | length')" "0:105" "next link in the first field: all 105 events"

# wb-list: the first page of the listing with its Link split likewise.
gh faults '{}'
LI="$R/issues?direction=asc&per_page=100&sort=updated&state=all"
gh fault "$(jq -cn --arg a "<$LI&page=2>; rel=\"last\"" --arg b "<$LI&page=2>; rel=\"next\"" \
	'{match:"/issues\\?state=all&sort=updated&direction=asc&per_page=100$",kind:"link",link:[$a,$b],times:-1}')"
run wb-list --all
is "$RC:$ERR" "0:" "wb-list: exit 0, silent"
is "$(printf '%s\n' "$OUT" | jq -c .number | sort -n | uniq | wc -l | tr -d ' ')" 105 "wb-list: all 105 issues, not the first 100"
is "$(gh_stderr)" "" "the double reported no error"
