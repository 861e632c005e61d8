#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-sqlite and wb-search (issue 11), on the archives of wb-bulk's
# benchmark (scripts/bench.d/40-bulk-archive.py): its first 2,000 and
# first 32,000 issues.
#   - a full index, documents (issues + events) per second, against the
#     reference: the sqlite3 shell loading the same files into the same
#     tables (an empty database made by wb-sqlite) in one transaction,
#     with readfile(), json_each() and ->>, the full-text index included;
#   - re-indexing the unchanged archive, against the first indexing;
#   - the database's size against the archive's JSON bytes; peak RSS;
#   - wb-sqlite --rebuild: bytes written (GNU time's %O) against the
#     database's size (the scratch file renamed in place: once);
#   - wb-search, whole process, a one-word query on the 32,000-issue
#     database, against the sqlite3 shell running the same SQL, with the
#     default window and with every match ranked.
# RUNS (default 3) runs of each on 2,000 issues, RUNS_BIG (default 3) on
# 32,000; SEARCH_RUNS (default 50) of each search.
# shellcheck disable=SC2034
. "$(dirname "$0")/../bench-lib.sh"
RUNS=${RUNS:-3}
RUNS_BIG=${RUNS_BIG:-3}
SEARCH_RUNS=${SEARCH_RUNS:-50}

avail=$(df -Pk "$SCRATCH" | awk 'NR == 2 { print $4 }')
if [ "$avail" -lt 6000000 ]; then
	echo "60-sqlite: less than 6 GB free under $SCRATCH, skipped" >&2
	exit 0
fi
G=$SCRATCH/gen
# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$(dirname "$0")/40-bulk-archive.py" "$G" 1.25e9)
[ "$1" -ge 32000 ] || { echo "60-sqlite: only $1 issues generated" >&2; exit 1; }
(cd "$G/current" && ls | awk '$1 > 32000' | xargs rm -r)
mkdir -p "$SCRATCH/small/current"
(cd "$G/current" && seq 1 2000 | xargs cp -al -t "$SCRATCH/small/current")
rate() { echo "$1 $2" | awk '{ printf "%.0f", $1 / $2 }'; }

cat >"$SCRATCH/ref.sql" <<'SQL'
CREATE TEMP TABLE nums (n INTEGER);
.import NUMBERS nums
BEGIN;
INSERT INTO issues (number, json, title, state, created_at, updated_at,
    closed_at, author, labels, milestone, private)
  SELECT n, j, j ->> '$.title', j ->> '$.state', j ->> '$.created_at',
    j ->> '$.updated_at', j ->> '$.closed_at', j ->> '$.user.login',
    (SELECT json_group_array(value ->> '$.name') FROM json_each(j, '$.labels')),
    j ->> '$.milestone.title', coalesce(j ->> '$.__WEBCOMPAT_PRIVATE_ISSUE__', 0)
  FROM (SELECT n, CAST(readfile(n || '/issue.json') AS TEXT) AS j FROM nums);
INSERT OR IGNORE INTO issue_labels (name, number)
  SELECT value ->> '$.name', number FROM issues, json_each(issues.json, '$.labels');
INSERT INTO timelines (number, position, json, event, created_at, actor)
  SELECT n, e.key, e.value, e.value ->> '$.event', e.value ->> '$.created_at',
    e.value ->> '$.actor.login'
  FROM nums, json_each(CAST(readfile(n || '/timeline.json') AS TEXT)) AS e;
INSERT INTO issues_fts (rowid, title, body, comments)
  SELECT number, title, body, comments FROM issues_text;
COMMIT;
SQL

# one NAME ROOT RUNS: every figure of one archive.
one() {
	_n=$1 _root=$2 _runs=$3
	cd "$_root/current" || exit 1
	ls | sort -n >"$SCRATCH/$_n.numbers"
	awk '{ print $0 "/issue.json"; print $0 "/timeline.json" }' "$SCRATCH/$_n.numbers" >"$SCRATCH/$_n.files"
	sed "s|NUMBERS|$SCRATCH/$_n.numbers|" "$SCRATCH/ref.sql" >"$SCRATCH/$_n.sql"
	issues=$(wc -l <"$SCRATCH/$_n.numbers")
	bytes=$(xargs -a "$SCRATCH/$_n.files" cat | wc -c)
	WB_DATA=$_root WB_SQLITE=$SCRATCH/empty.sqlite wb-sqlite </dev/null
	# The two sides alternated, run by run, so that both meet the same
	# load; each run's CPU (user + system) kept beside its wall clock.
	: >"$SCRATCH/.ref" && : >"$SCRATCH/.wb"
	_i=0 first_kb=0
	while [ "$_i" -lt "$_runs" ]; do
		_i=$((_i + 1))
		rm -f "$SCRATCH/ref.sqlite"* "$SCRATCH/$_n.sqlite"*
		cp "$SCRATCH/empty.sqlite" "$SCRATCH/ref.sqlite"
		sync
		/usr/bin/time -o "$SCRATCH/.t" -f '%e %U %S' sqlite3 -bail "$SCRATCH/ref.sqlite" <"$SCRATCH/$_n.sql"
		tail -n 1 "$SCRATCH/.t" >>"$SCRATCH/.ref"
		sync
		WB_DATA=$_root WB_SQLITE=$SCRATCH/$_n.sqlite /usr/bin/time -o "$SCRATCH/.t" -f '%e %U %S %M' wb-sqlite <"$SCRATCH/$_n.numbers" >/dev/null
		tail -n 1 "$SCRATCH/.t" >>"$SCRATCH/.wb"
		_kb=$(tail -n 1 "$SCRATCH/.t" | awk '{ print $4 }')
		[ "$_kb" -gt "$first_kb" ] && first_kb=$_kb
	done
	ref_s=$(cut -d " " -f 1 "$SCRATCH/.ref" | median)
	ref_cpu=$(awk '{ print $2 + $3 }' "$SCRATCH/.ref" | median)
	first=$(cut -d " " -f 1 "$SCRATCH/.wb" | median)
	first_cpu=$(awk '{ print $2 + $3 }' "$SCRATCH/.wb" | median)
	# The ratio of each pair of runs, and their median.
	pair=$(paste -d ' ' "$SCRATCH/.ref" "$SCRATCH/.wb" | awk '{ print $1 / $4 }' | median)
	ref_size=$(stat -c %s "$SCRATCH/ref.sqlite")
	BENCH_BEFORE=
	measure "$_runs" "WB_DATA='$_root' WB_SQLITE='$SCRATCH/$_n.sqlite' \$RSS wb-sqlite <'$SCRATCH/$_n.numbers' >/dev/null"
	again=$MEDIAN
	[ "$PEAK_KB" -gt "$first_kb" ] && first_kb=$PEAK_KB
	size=$(stat -c %s "$SCRATCH/$_n.sqlite")
	events=$(sqlite3 "$SCRATCH/$_n.sqlite" 'SELECT count(*) FROM timelines')
	[ "$(sqlite3 "$SCRATCH/ref.sqlite" 'SELECT count(*) FROM timelines')" = "$events" ] ||
		echo "60-sqlite: the reference did not load every event" >&2
	docs=$((issues + events))
	echo "60-sqlite: $_n: $issues issues, $events events, $bytes bytes of JSON" >&2
	ref=$(rate "$docs" "$ref_s")
	row "$_n: wb-sqlite full index (docs/s) vs sqlite3 shell" "$(rate "$docs" "$first")" "$ref" "$(ratio "$(rate "$docs" "$first")" "$ref")"
	row "  documents (issues + events)" "$docs" "" ""
	row "  seconds: wb-sqlite, sqlite3 shell (medians)" "$first" "$ref_s" ""
	row "  median of the $_runs runs' ratios (alternated)" "" "" "$pair"
	row "  CPU seconds (user + system): wb-sqlite, shell" "$first_cpu" "$ref_cpu" "$(ratio "$ref_cpu" "$first_cpu")"
	row "$_n: re-index unchanged (s) vs first index (speed-up)" "$again" "$first" "$(ratio "$first" "$again")"
	row "$_n: database bytes vs archive JSON bytes" "$size" "$bytes" "$(ratio "$size" "$bytes")"
	row "  the reference's database bytes" "$ref_size" "$bytes" "$(ratio "$ref_size" "$bytes")"
	row "$_n: wb-sqlite peak RSS (KB) vs limit 65536" "$first_kb" 65536 "$(ratio "$first_kb" 65536)"
	sync
	WB_DATA=$_root WB_SQLITE=$SCRATCH/$_n.sqlite /usr/bin/time -o "$SCRATCH/.blocks" -f %O wb-sqlite --rebuild 2>/dev/null
	written=$(($(tail -n 1 "$SCRATCH/.blocks") * 512))
	row "$_n: --rebuild bytes written vs database bytes" "$written" "$(stat -c %s "$SCRATCH/$_n.sqlite")" "$(ratio "$written" "$(stat -c %s "$SCRATCH/$_n.sqlite")")"
	cd "$SCRATCH" || exit 1
}

one 2000 "$SCRATCH/small" "$RUNS"
one 32000 "$G" "$RUNS_BIG"

# wb-search, whole process, against the shell running the same SQL:
# with the default window (the best 20 of the 2,000 most recent
# matches) and with --window 0 (every match ranked).
DB=$SCRATCH/32000.sqlite
search() {
	_w=$1 _win=$2
	if [ "$_win" -gt 0 ]; then
		_cap="AND issues_fts.rowid >= coalesce((SELECT issues_fts.rowid FROM issues_fts WHERE issues_fts MATCH '$_w' ORDER BY issues_fts.rowid DESC LIMIT 1 OFFSET $((_win - 1))), 0)"
	else
		_cap=
	fi
	sql="SELECT i.number, i.title, i.state, i.updated_at, snippet(issues_fts, -1, '«', '»', '…', 12) FROM (SELECT issues_fts.rowid AS n, issues_fts.rank AS r FROM issues_fts WHERE issues_fts MATCH '$_w' $_cap ORDER BY r, n LIMIT 20) AS top CROSS JOIN issues_fts ON issues_fts.rowid = top.n AND issues_fts MATCH '$_w' JOIN issues AS i ON i.number = top.n ORDER BY top.r, top.n"
	[ "$(WB_SQLITE=$DB wb-search --limit 20 --window "$_win" "$_w" | jq -r .number)" = "$(sqlite3 "$DB" "$sql" | cut -d '|' -f 1)" ] ||
		echo "60-sqlite: wb-search and the shell disagree on $_w" >&2
	WB_SQLITE=$DB hyperfine -N -w 3 -r "$SEARCH_RUNS" --export-json "$SCRATCH/h.json" \
		"wb-search --limit 20 --window $_win $_w" \
		"sqlite3 $DB \"$sql\"" >/dev/null 2>&1
	ws=$(jq '.results[0].median * 1000 | . * 100 | round / 100' "$SCRATCH/h.json")
	sh=$(jq '.results[1].median * 1000 | . * 100 | round / 100' "$SCRATCH/h.json")
	wu=$(jq '.results[0].user * 1000 | . * 100 | round / 100' "$SCRATCH/h.json")
	su=$(jq '.results[1].user * 1000 | . * 100 | round / 100' "$SCRATCH/h.json")
	row "wb-search --limit 20 --window $_win $_w (ms) vs sqlite3" "$ws" "$sh" "$(ratio "$ws" "$sh")"
	row "  mean user CPU (ms)" "$wu" "$su" "$(ratio "$wu" "$su")"
	row "  matches of $_w" "$(WB_SQLITE=$DB wb-search --count "$_w")" "" ""
}
search video 2000
search video 0
search example12 2000
search example12 0
exit 0
