#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# A bulk request refused whole (400: Elasticsearch cannot parse an action
# line) is split, as on 413, until the document it is about is alone:
# that one is reported with its issue number and the reason, and the
# other issues of the request are indexed (review finding 8).
. "${0%/*}/lib.sh"
. "${0%/*}/es-double.sh"
plan 4

mk_archive
start_es
es POST /_double/faults '{"bulk_400": ["2-1"]}' >/dev/null

NAME="a request refused whole"
run sh -c 'seq 1 3 | timeout 30 wb-bulk'
is "$RC:$OUT" '1:{"number":1}
{"number":3}' "$NAME: the other issues are written out"
is "$ERR" "wb-bulk: warning: issue 2: document 2-1 refused: HTTP 400: illegal_argument_exception: Malformed action/metadata line [1], injected for [2-1]
wb-bulk: warning: 1 issue was not indexed" "$NAME: the document named, with the reason"
es POST /_refresh >/dev/null
is "$(es_docs issues; es_docs timelines | grep -v '^2-')" "$(expected_docs "$D" issues 1 2 3; expected_docs "$D" timelines 1 3)" "$NAME: every other document is in"
is "$(es_docs timelines | grep -c '^2-1	')" 0 "$NAME: not the refused one"
done_testing
