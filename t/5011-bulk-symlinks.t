#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-bulk never follows a symbolic link below WB_DATA (issue 10's rule,
# for the loaders): a linked current/N, issue.json or timeline.json, or
# a linked current/, is reported and not indexed, its record not written
# out, the link's target untouched; WB_DATA itself may be a link.
. "${0%/*}/lib.sh"
. "${0%/*}/lib-links.sh"
. "${0%/*}/es-double.sh"
plan 12

D=$SCRATCH/data
O=$SCRATCH/elsewhere
WB_DATA=$D
export WB_DATA
for n in 1 2 3; do mk_issue "$D" $n 2; done
# Good issues outside the archive, which links point to.
for n in 21 22 23; do mk_issue "$O" $n 3; done
mk_links "$D" "$O"
before=$(target_sums "$O")
start_es

run sh -c 'printf "%s\n" 1 21 2 22 23 24 3 | wb-bulk'
is "$RC:$OUT" '1:{"number":1}
{"number":2}
{"number":3}' "the linked issues' records are not written out, the others are"
is "$ERR" "$(link_warning wb-bulk 21 "$D/current/21")
$(link_warning wb-bulk 22 "$D/current/22/issue.json")
$(link_warning wb-bulk 23 "$D/current/23/timeline.json")
$(link_warning wb-bulk 24 "$D/current/24")
wb-bulk: warning: 4 issues were not indexed" "each link reported, naming it"
es POST /_refresh >/dev/null
is "$(es_docs issues; es_docs timelines)" "$(expected_docs "$D" issues 1 2 3; expected_docs "$D" timelines 1 2 3)" "the index holds issues 1-3 only, nothing read through a link"
is "$(es_docs issues | cut -f 1 | tr '\n' ' ')" "1 2 3 " "no document 21-24"
is "$(target_sums "$O")" "$before" "the links' targets untouched"
[ -L "$D/current/21" ] && [ -L "$D/current/22/issue.json" ] && [ -L "$D/current/24" ]; ok $? "the links left in place"

# WB_DATA itself may be a link (the operator's choice).
ln -s "$D" "$SCRATCH/datalink"
run sh -c "echo 1 | WB_DATA='$SCRATCH/datalink' wb-bulk"
is "$RC:$OUT:$ERR" '0:{"number":1}:' "WB_DATA a link: followed, the issue indexed"

# current/ itself a link: nothing below it is read.
mkdir "$SCRATCH/d2"
ln -s "$O/current" "$SCRATCH/d2/current"
run sh -c "echo 21 | WB_DATA='$SCRATCH/d2' wb-bulk"
is "$RC:$OUT" "1:" "current/ a link: not written out"
is "$ERR" "$(link_warning wb-bulk 21 "$SCRATCH/d2/current")
wb-bulk: warning: 1 issue was not indexed" "current/ a link: reported"

# A directory in issue.json's place, and a FIFO: refused, not blocking.
mkdir -p "$D/current/30/issue.json"
echo '[]' >"$D/current/30/timeline.json"
mkdir -p "$D/current/31"
mkfifo "$D/current/31/issue.json"
echo '[]' >"$D/current/31/timeline.json"
run sh -c 'printf "%s\n" 30 31 | wb-bulk'
is "$RC:$OUT" "1:" "a directory or a FIFO for issue.json: skipped"
is "$ERR" "wb-bulk: warning: issue 30: unable to read $D/current/30/issue.json, skipped: Invalid argument
wb-bulk: warning: issue 31: unable to read $D/current/31/issue.json, skipped: Invalid argument
wb-bulk: warning: 2 issues were not indexed" "said, without blocking"
is "$(es_docs issues | cut -f 1 | tr '\n' ' ')" "1 2 3 " "still issues 1-3 only"
