#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-bulk --install-templates: etc/elasticsearch/*.json become index
# templates, checked first; credentials and failures as for indexing.
. "${0%/*}/lib.sh"
. "${0%/*}/es-double.sh"
plan 18
T=$TOP/etc/elasticsearch

start_es --api-key 'a2V5OnNlY3JldA=='
WB_ES_API_KEY=a2V5OnNlY3JldA==
export WB_ES_API_KEY
run wb-bulk --install-templates "$T"
is "$RC:$OUT" "0:" "installed"
is "$ERR" "wb-bulk: info: installed index template wb-issues
wb-bulk: info: installed index template wb-timelines" "one line per template"
ES_AUTH="ApiKey $WB_ES_API_KEY"
for t in issues timelines; do
	is "$(es GET /_index_template/wb-$t | jq -S '.index_templates[0].index_template')" "$(jq -S . "$T/wb-$t.json")" "wb-$t stored as written"
done
is "$(jq -r '.index_patterns[0]' "$T/wb-issues.json") $(jq -r '.index_patterns[0]' "$T/wb-timelines.json")" "issues timelines" "each template for its index"
is "$(jq -c '[.template.mappings.properties | .bug_number.type, .title.type, .title.fields.keyword.type, .labels.properties.name.type, .created_at.type, .state.type, .user.properties.login.type]' "$T/wb-issues.json")" '["integer","text","keyword","keyword","date","keyword","keyword"]' "issues: numbers, text with keyword, keywords, dates"
is "$(jq -c '[.template.mappings.properties | .bug_number.type, .event.type, .label.properties.name.type, .milestone.properties.title.fields.keyword.type, .created_at.type, .actor.properties.login.type, .body.type]' "$T/wb-timelines.json")" '["integer","keyword","keyword","keyword","date","keyword","text"]' "timelines: event types, labels, milestones, dates"

# GitHub-shaped documents under the templates: every one fits, and the
# fields dashboards use get their types (the double maps as Elasticsearch
# does: the template's properties and dynamic templates, then defaults).
/usr/bin/python3 "$TOP/scripts/bench.d/40-bulk-archive.py" "$SCRATCH/a" 3e6 >/dev/null
run sh -c "ls '$SCRATCH/a/current' | WB_DATA='$SCRATCH/a' wb-bulk"
is "$RC:$ERR" "0:" "a generated archive indexes without a mapping error"
es POST /_refresh >/dev/null
is "$(es GET /timelines/_count | jq .count)" "$(cat "$SCRATCH"/a/current/*/timeline.json | jq -s 'map(length) | add')" "every event in"
is "$(es GET /timelines/_mapping | jq -c '.timelines.mappings.properties | [.created_at.type, .event.type, .label.properties.name.type, .actor.properties.login.type, .actor.properties.avatar_url.type, .source.properties.issue.properties.title.type, .body.type, .rename.properties.to.fields.keyword.type]')" '["date","keyword","keyword","keyword","keyword","text","text","keyword"]' "timelines: the types dashboards rely on"
is "$(es GET /issues/_mapping | jq -c '.issues.mappings.properties | [.bug_number.type, .number.type, .title.fields.keyword.type, .labels.properties.name.type, .milestone.properties.title.fields.keyword.type, .closed_at.type, .reactions.properties.total_count.type]')" '["integer","integer","keyword","keyword","keyword","date","long"]' "issues: the types dashboards rely on"
mkdir -p "$SCRATCH/a/current/999999"
echo '{"number":999999,"created_at":"yesterday"}' >"$SCRATCH/a/current/999999/issue.json"
echo '[]' >"$SCRATCH/a/current/999999/timeline.json"
run sh -c "echo 999999 | WB_DATA='$SCRATCH/a' wb-bulk"
is "$RC:$OUT" "1:" "a document its mapping refuses: not written out"
is "$ERR" "wb-bulk: warning: issue 999999: document 999999 refused: mapper_parsing_exception: failed to parse field [created_at] of type [date] in document with id '999999'
wb-bulk: warning: 1 issue was not indexed" "and reported with Elasticsearch's reason"

mkdir -p "$SCRATCH/bad"
printf '{"index_patterns":["x"],"template":' >"$SCRATCH/bad/broken.json"
run wb-bulk --install-templates "$SCRATCH/bad"
like "$RC:$ERR" "^100:wb-bulk: fatal: $SCRATCH/bad/broken.json: template is not JSON: " "a broken template is refused before anything is sent"
echo '{"index_patterns":["x"],"template":{"mappings":{"properties":{"a":{"type":"strnig"}}}}}' >"$SCRATCH/bad/broken.json"
run wb-bulk --install-templates "$SCRATCH/bad"
is "$RC:$ERR" "100:wb-bulk: fatal: unable to install template broken (HTTP 400): mapper_parsing_exception: No handler for type [strnig] declared on field [a]" "a template the server refuses: its reason"
run wb-bulk --install-templates "$SCRATCH/none"
like "$RC:$ERR" "^100:wb-bulk: fatal: unable to list $SCRATCH/none: " "no such directory"
run env WB_ES_API_KEY=bm9wZTpub3Bl wb-bulk --install-templates "$T"
is "$RC" 100 "a wrong key is refused"
run env WB_ES="http://127.0.0.1:$(free_port)" wb-bulk --install-templates "$T"
like "$RC:$ERR" "^111:wb-bulk: fatal: unable to install template wb-issues: " "no server: 111"
done_testing
