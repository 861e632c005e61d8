# SPDX-License-Identifier: MPL-2.0
# Helpers for the tests of the SQLite index (t/6NNN-*.t). Sourced after
# t/lib.sh; POSIX sh.
#
#   mk_sq_issue DATA N K [WORD]  archive issue N with K events (every third
#                                one a comment holding WORD), compact JSON
#   sq DB SQL...                 the sqlite3 shell, tab-separated output
#   sq_rows DB                   issues' and timelines' numbers and JSON
#   expected_rows DATA N...      what sq_rows must print for those issues
#   fts_vocab DB                 every token instance of the full-text index
#   fts_rebuilt DB               the same, from a copy whose index was
#                                rebuilt by FTS5 from its content view
# shellcheck shell=sh disable=SC2034

mk_sq_issue() {
	mkdir -p "$1/current/$2"
	printf '{"number":%s,"title":"Issue %s \\"quoted\\" caf\\u00e9","state":"%s","labels":[{"name":"browser-firefox"},{"name":"l%s"}],"user":{"login":"u%s","id":%s},"milestone":{"title":"needsdiagnosis"},"created_at":"2021-01-01T00:00:00Z","updated_at":"2022-01-%02dT00:00:00Z","closed_at":null,"body":"line 1\\nline %s words"}' \
		"$2" "$2" "$([ $(($2 % 2)) -eq 0 ] && echo closed || echo open)" \
		"$(($2 % 3))" "$2" "$2" "$(($2 % 28 + 1))" "$2" >"$1/current/$2/issue.json"
	awk -v n="$2" -v k="$3" -v w="${4:-comment}" 'BEGIN {
		printf "[";
		for (i = 0; i < k; i++) {
			if (i % 3 == 2)
				printf "%s{\"event\":\"commented\",\"id\":%d,\"actor\":{\"login\":\"c%d\"},\"body\":\"%s %d\\n\\u00e9t\\u00e9\",\"created_at\":\"2021-02-0%dT00:00:00Z\"}", (i ? "," : ""), n * 1000 + i, i, w, i, i % 9 + 1;
			else
				printf "%s{\"event\":\"labeled\",\"id\":%d,\"actor\":{\"login\":\"bot\"},\"label\":{\"name\":\"l%d\"},\"created_at\":\"2021-01-0%dT00:00:00Z\"}", (i ? "," : ""), n * 1000 + i, i, i % 9 + 1;
		}
		printf "]" }' >"$1/current/$2/timeline.json"
}

sq() {
	_sq_db=$1
	shift
	sqlite3 -batch -bail -separator '	' "$_sq_db" "$@"
}

sq_rows() {
	sq "$1" "SELECT 'i', number, json FROM issues ORDER BY number;
		SELECT 't', number, position, json FROM timelines ORDER BY number, position"
}

# The files' text, byte for byte: issue.json whole, each event as it
# lies in timeline.json (cut by Python's raw_decode).
expected_rows() {
	_x_data=$1
	shift
	for _x_n in "$@"; do
		printf 'i\t%s\t%s\n' "$_x_n" "$(cat "$_x_data/current/$_x_n/issue.json")"
	done
	/usr/bin/python3 -c '
import json, sys
d = json.JSONDecoder()
for n in sys.argv[2:]:
    t = open("%s/current/%s/timeline.json" % (sys.argv[1], n), encoding="utf-8").read()
    i, pos = t.index("[") + 1, 0
    while True:
        while t[i] in " \t\r\n,":
            i += 1
        if t[i] == "]":
            break
        _, end = d.raw_decode(t, i)
        sys.stdout.write("t\t%s\t%d\t%s\n" % (n, pos, t[i:end]))
        i, pos = end, pos + 1
' "$_x_data" "$@"
}

fts_vocab() {
	sq "$1" "CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, issues_fts, 'instance');
		SELECT term, doc, col, offset FROM temp.v ORDER BY doc, col, offset"
}

fts_rebuilt() {
	cp "$1" "$SCRATCH/rebuilt.sqlite"
	rm -f "$SCRATCH/rebuilt.sqlite-wal" "$SCRATCH/rebuilt.sqlite-shm"
	sq "$SCRATCH/rebuilt.sqlite" "INSERT INTO issues_fts(issues_fts) VALUES('rebuild')"
	fts_vocab "$SCRATCH/rebuilt.sqlite"
}
