# SPDX-License-Identifier: MPL-2.0
# Helpers for the tests of the SQLite index (t/6NNN-*.t). Sourced after
# t/lib.sh; POSIX sh. Sets D, the archive ($SCRATCH/data, exported as
# WB_DATA), and DB, its database ($D/wb.sqlite, the default WB_SQLITE).
#
#   mk_sq_issue DATA N K [WORD]  archive issue N with K events (every third
#                                one a comment holding WORD), compact JSON
#   sq DB SQL...                 the sqlite3 shell, tab-separated output
#   sq_rows DB                   issues' and timelines' numbers and JSON
#   expected_rows DATA N...      what sq_rows must print for those issues
#   fts_vocab DB                 every token instance of the full-text index
#   fts_rebuilt DB               the same, from a copy whose index was
#                                rebuilt by FTS5 from its content view
#   sq_killed IN OUT ARGS...     wb-sqlite ARGS <IN >OUT killed with SIGKILL
#                                once it wrote a record out (its status);
#                                then the numbers of IN not in OUT, sorted,
#                                in OUT.redo
#   sq_tokens DB                 "ok N" when the packed sizes (issue_tokens,
#                                issue_tokens_total) equal %_docsize's and
#                                FTS5's own totals for its N rows, else
#                                each difference
# shellcheck shell=sh disable=SC2034

D=$SCRATCH/data
DB=$D/wb.sqlite
WB_DATA=$D
export WB_DATA

# put DIR N TITLE BODY [COMMENT]: issue N of the archive DIR, with one
# comment or none.
put() {
	mkdir -p "$1/current/$2"
	printf '{"number":%s,"state":"open","updated_at":"2022-02-01T00:00:00Z","title":"%s","body":"%s"}' \
		"$2" "$3" "$4" >"$1/current/$2/issue.json"
	if [ -n "${5:-}" ]; then
		printf '[{"event":"commented","body":"%s"}]\n' "$5"
	else
		echo '[]'
	fi >"$1/current/$2/timeline.json"
}
# nums OUT: the numbers of wb-search's records, on one line.
nums() { printf '%s\n' "$1" | jq -r .number | tr '\n' ' '; }

# A body of 200 words.
big=$(awk 'BEGIN { for (i = 0; i < 40; i++) printf "lorem ipsum dolor sit amet %d ", i }')

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

sq_killed() {
	_k_in=$1 _k_out=$2
	shift 2
	wb-sqlite "$@" <"$_k_in" >"$_k_out" 2>/dev/null &
	_k_pid=$!
	wait_for 20 test -s "$_k_out"
	kill -9 "$_k_pid"
	wait "$_k_pid"
	_k_rc=$?
	sed 's/[^0-9]//g' "$_k_out" | sort >"$_k_out.done"
	sort "$_k_in" | comm -23 - "$_k_out.done" >"$_k_out.redo"
	return "$_k_rc"
}

# Each row's size summed from its %_docsize varints (Python: the shell
# cannot), against the 4-byte little-endian sizes of issue_tokens; the
# totals against issue_tokens_total and FTS5's averages record (%_data
# row 1: the row count, then each column's tokens, as varints).
sq_tokens() {
	/usr/bin/python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)

def varints(b):
    out, v = [], 0
    for i, c in enumerate(b):
        v = v << 7 | (c & 0x7f)
        if not c & 0x80:
            out.append(v)
            v = 0
    return out

want = {i: sum(varints(sz)[:3]) for i, sz in
        db.execute("SELECT id, sz FROM issues_fts_docsize")}
got, bad = {}, []
for chunk, sizes in db.execute("SELECT chunk, sizes FROM issue_tokens"):
    if not isinstance(sizes, bytes) or len(sizes) != 4096:
        bad.append("chunk %d: not 4096 bytes" % chunk)
        continue
    for k in range(1024):
        v = int.from_bytes(sizes[4 * k:4 * k + 4], "little")
        if v:
            got[chunk * 1024 + k] = v
for i in sorted(set(want) | set(got)):
    if want.get(i, 0) != got.get(i, 0):
        bad.append("issue %d: %d tokens, packed %d" % (i, want.get(i, 0),
                                                      got.get(i, 0)))
total = db.execute("SELECT issues, tokens FROM issue_tokens_total").fetchall()
row = db.execute("SELECT block FROM issues_fts_data WHERE id = 1").fetchone()
avg = varints(row[0]) if row else []
fts = (avg[0], sum(avg[1:])) if avg else (0, 0)
if total != [(len(want), sum(want.values()))] or total != [fts]:
    bad.append("totals %s, docsize (%d, %d), FTS5 %s" % (
        total, len(want), sum(want.values()), fts))
print("\n".join(bad) if bad else "ok %d" % len(want))
PY
}
