#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-sqlite never follows a symbolic link below WB_DATA: a linked
# current/N, issue.json or timeline.json, or a linked current/, is
# reported and not indexed (rows as they were), its record not written
# out, the link's target untouched, by a run and by --rebuild; WB_DATA
# itself may be a link.
. "${0%/*}/lib.sh"
. "${0%/*}/lib-links.sh"
. "${0%/*}/lib-sqlite.sh"
plan 13

D=$SCRATCH/data
O=$SCRATCH/elsewhere
DB=$SCRATCH/wb.sqlite
WB_DATA=$D WB_SQLITE=$DB
export WB_DATA WB_SQLITE
for n in 1 2 3 21; do mk_sq_issue "$D" $n 4 inside; done
for n in 21 22 23; do mk_sq_issue "$O" $n 5 outside; done
run sh -c 'printf "%s\n" 1 2 3 21 | wb-sqlite'
is "$RC:$ERR" "0:" "issues 1-3 and 21 indexed from the archive"
before_rows=$(sq_rows "$DB")

# Issue 21's directory becomes a link to another one; 22 and 23 get a
# linked file; 24 is a dangling link.
rm -r "$D/current/21"
mk_links "$D" "$O"
before=$(target_sums "$O")
warn() { link_warning wb-sqlite "$@"; }

run sh -c 'printf "%s\n" 1 21 2 22 23 24 3 | wb-sqlite'
is "$RC:$OUT" '1:{"number":1}
{"number":2}
{"number":3}' "the linked issues' records are not written out, the others are"
is "$ERR" "$(warn 21 "$D/current/21"; warn 22 "$D/current/22/issue.json"
	warn 23 "$D/current/23/timeline.json"; warn 24 "$D/current/24")
wb-sqlite: warning: 4 issues were not indexed" "each link reported, naming it"
is "$(sq_rows "$DB")" "$before_rows" "the rows as they were: 21 kept from the archive, 22-24 absent"
is "$(sq "$DB" "SELECT count(*) FROM issues_fts WHERE issues_fts MATCH 'outside'")" 0 "no word read through a link"
is "$(target_sums "$O")" "$before" "the links' targets untouched"
[ -L "$D/current/21" ] && [ -L "$D/current/22/issue.json" ] && [ -L "$D/current/24" ]
ok $? "the links left in place"

# --rebuild lists current/ and meets the same links.
run wb-sqlite --rebuild
is "$RC" 1 "--rebuild: exit 1, issues skipped"
is "$ERR" "$(warn 21 "$D/current/21"; warn 22 "$D/current/22/issue.json"
	warn 23 "$D/current/23/timeline.json"; warn 24 "$D/current/24")
wb-sqlite: warning: 4 issues were not indexed
wb-sqlite: info: 3 issues indexed into $DB, 4 skipped" "--rebuild: each link reported"
is "$(sq "$DB" 'SELECT group_concat(number) FROM issues')" "1,2,3" "--rebuild: issues 1-3 only"
is "$(sq "$DB" "SELECT count(*) FROM issues_fts WHERE issues_fts MATCH 'outside'")" 0 "--rebuild: no word read through a link"

# WB_DATA itself may be a link; current/ may not.
ln -s "$D" "$SCRATCH/datalink"
run sh -c "echo 1 | WB_DATA='$SCRATCH/datalink' wb-sqlite"
is "$RC:$OUT:$ERR" '0:{"number":1}:' "WB_DATA a link: followed"
mkdir "$SCRATCH/d2"
ln -s "$O/current" "$SCRATCH/d2/current"
run sh -c "echo 22 | WB_DATA='$SCRATCH/d2' WB_SQLITE='$SCRATCH/d2.sqlite' wb-sqlite"
is "$RC:$OUT:$ERR" "1::$(warn 22 "$SCRATCH/d2/current")
wb-sqlite: warning: 1 issue was not indexed" "current/ a link: reported, not written out"
