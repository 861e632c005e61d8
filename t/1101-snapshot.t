#!/bin/sh
# wb-snapshot, wb-prune-snapshots, wb-scrub.
. "${0%/*}/lib.sh"
plan 16
export WB_DATA="$SCRATCH/data"
today=$(date -u +%Y-%m-%d)

run wb-snapshot
like "$RC:$ERR" "^100:wb-snapshot: fatal: no archive at $WB_DATA/current\$" "no archive: 100"

for n in 1 2 3 4; do mkdir -p "$WB_DATA/current/$n"; done
printf '{"number":1,"title":"public"}' > "$WB_DATA/current/1/issue.json"
printf '{"number":2,"title":"real","__WEBCOMPAT_PRIVATE_ISSUE__":true}' > "$WB_DATA/current/2/issue.json"
printf '{"number":3,"body":"see \\"__WEBCOMPAT_PRIVATE_ISSUE__\\":true","x":{"__WEBCOMPAT_PRIVATE_ISSUE__":true}}' > "$WB_DATA/current/3/issue.json"
printf '{"number":4,"__WEBCOMPAT_PRIVATE_ISSUE__":false}' > "$WB_DATA/current/4/issue.json"
printf '[]' > "$WB_DATA/current/2/timeline.json"

run wb-snapshot
is "$RC:$OUT" "0:$WB_DATA/snapshots/$today.tar.gz" "snapshot written, path printed"
is "$(tar -tzf "$WB_DATA/snapshots/$today.tar.gz" | sort | tr '\n' ' ')" \
	"current/ current/1/ current/1/issue.json current/2/ current/2/issue.json current/2/timeline.json current/3/ current/3/issue.json current/4/ current/4/issue.json " \
	"the tarball holds current/ exactly"
is "$(ls -A "$WB_DATA/snapshots")" "$today.tar.gz" "no temporary file left"
run wb-snapshot
is "$RC:$(ls -A "$WB_DATA/snapshots")" "0:$today.tar.gz" "a second run the same day replaces it"

# A failed write leaves nothing behind.
chmod 500 "$WB_DATA/snapshots"
if [ "$(id -u)" -eq 0 ]; then
	ok 0 "# SKIP root writes anywhere"
	ok 0 "# SKIP root writes anywhere"
else
	run wb-snapshot
	like "$RC:$ERR" '^111:wb-snapshot: fatal: unable to ' "unwritable: 111"
	is "$(ls -A "$WB_DATA/snapshots")" "$today.tar.gz" "nothing half-written"
fi
chmod 700 "$WB_DATA/snapshots"

# Pruning goes by the date in the name.
old=$(date -u -d '@'$(($(date +%s) - 10 * 86400)) +%Y-%m-%d)
recent=$(date -u -d '@'$(($(date +%s) - 3 * 86400)) +%Y-%m-%d)
: > "$WB_DATA/snapshots/$old.tar.gz"
: > "$WB_DATA/snapshots/$recent.tar.gz"
: > "$WB_DATA/snapshots/notes.txt"
run wb-prune-snapshots x
is "$RC" 100 "DAYS must be a number"
run wb-prune-snapshots
is "$RC:$OUT" "0:$WB_DATA/snapshots/$old.tar.gz" "default 7 days: the 10-day-old one goes"
is "$(ls "$WB_DATA/snapshots" | tr '\n' ' ')" "$recent.tar.gz $today.tar.gz notes.txt " "the others stay"
run wb-prune-snapshots 2
is "$OUT" "$WB_DATA/snapshots/$recent.tar.gz" "2 days: the 3-day-old one goes"

# Scrubbing an extracted snapshot.
mkdir "$SCRATCH/share"
tar -C "$SCRATCH/share" -xzf "$WB_DATA/snapshots/$today.tar.gz"
run wb-scrub "$SCRATCH/share"
is "$RC:$OUT" "0:$SCRATCH/share/current/2" "only the flagged issue is removed"
is "$(ls "$SCRATCH/share/current" | tr '\n' ' ')" "1 3 4 " "mentions in bodies and nested objects do not count"
run wb-scrub "$SCRATCH/share"
is "$RC:$OUT" "0:" "a second run removes nothing"
run wb-scrub "$SCRATCH/nothere"
is "$RC" 100 "not a directory: 100"
run wb-scrub
is "$RC" 100 "no DIR: usage 100"
done_testing
