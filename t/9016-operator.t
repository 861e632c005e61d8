#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The procedures of wb(7), OPERATION, run as written there (the literal
# blocks of the page itself, with the instance's paths pointed at this
# test's: /etc/wb/env, /etc/wb/service, /var/lib/wb, /backup; and no user
# switch, as t/lib-s6.sh lays the services out) against the downloader and
# the indexer under a real s6-svscan, Redis and the GitHub double:
# re-index everything (the queue, and the SQLite database made again),
# re-download everything (a 304 per unchanged issue; without the ETags, a
# damaged file written again), a backup of the SQLite database with
# .backup and VACUUM INTO while wb-sqlite writes, then its restore; a
# backup of the archive, lost, then restored and brought up to GitHub; a
# backup of a Redis under s6 (append-only, as wb-setup makes it), then
# its restore, which survives a restart; the rotation of the webhook
# secret; the move of the archive; and the upgrade from the original
# stack (its archive, no ETags, no database; Elasticsearch, the double).
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
. "$T_DIR/lib-s6.sh"
. "$T_DIR/lib-hook.sh"
. "$T_DIR/es-double.sh"
command -v sqlite3 >/dev/null || skip_all "sqlite3 is not installed"
plan 50
N=40
start_redis
start_github --issues $N --events 3 --token tok
WB_DATA=$SCRATCH/data WB_DELAY=0 WB_GITHUB_TOKEN=tok
export WB_DATA WB_DELAY WB_GITHUB_TOKEN
DB=$WB_DATA/wb.sqlite
BACKUP=$SCRATCH/backup ETC=$SCRATCH/etc MOVED=$SCRATCH/srv-wb OLD_DATA=$WB_DATA
ORIG=$SCRATCH/original-data
mkdir -p "$BACKUP" "$ETC" "$WB_DATA/redis"	# as wb-setup makes them

# block TITLE N: the Nth literal block of ".Ss TITLE" in wb(7), as a
# script for this test's instance.
block() {
	awk -v t=".Ss $1" -v n="$2" '
		$0 == t { in_s = 1; next }
		in_s && /^\.S[sh] / { exit }
		in_s && /^\.Bd -literal/ { k++; if (k == n) { on = 1 }; next }
		on && /^\.Ed/ { exit }
		on { print }' "$TOP/man/wb.7" |
	sed -e 's/\\e$/\\/' -e "s|/etc/wb/env|$SVC_ENV|g" \
		-e "s|/etc/wb/service|$SCAN|g" -e 's/s6-setuidgid wb //g' \
		-e "s|/etc/wb/redis.conf|$ETC/redis.conf|g" \
		-e "s|/var/lib/wb|$OLD_DATA|g" -e "s|/backup/|$BACKUP/|g" \
		-e "s|/srv/wb|$MOVED|g" -e 's/install -o wb -g wb /install /' \
		-e "$([ "$(id -u)" = 0 ] || echo 's/^chown /: chown /')" \
		-e "s|/path/to/old/data|$ORIG|g" -e "s|http://127.0.0.1:9200|${ES_URL:-}|g" \
		-e "s|/usr/local/share/wb/elasticsearch|$TOP/etc/elasticsearch|g" \
		-e "s|2026-12-01T00:00:00Z|${STOPPED:-}|g"

}
# procedure TITLE N: run that block; its output in $SCRATCH/proc.out.
procedure() {
	block "$1" "$2" >"$SCRATCH/proc.sh"
	[ -s "$SCRATCH/proc.sh" ] || { echo "Bail out! no block $2 under $1 in wb(7)"; exit 1; }
	sh -e "$SCRATCH/proc.sh" >"$SCRATCH/proc.out" 2>&1
}

KEY='wb:list:{webcompat/web-bugs}:since'
q() { wb-queue length "$1"; }
idle() { [ "$(q download)$(q index)" = 00 ] && [ "$(redis_cli ZCARD 'wb:{download}:leases')$(redis_cli ZCARD 'wb:{index}:leases')" = 00 ]; }
rows() { sqlite3 "$DB" "SELECT count(*) FROM issues" 2>/dev/null; }
rows_at() { sqlite3 -cmd '.timeout 5000' "$1" "SELECT count(*) FROM issues" 2>/dev/null; }
title_db() { sqlite3 "$DB" "SELECT title FROM issues WHERE number = $1"; }
served() { curl -sf "$WB_GITHUB_API/_double/dump/$1" | jq -c .issue; }
# titles: "number title" of every issue, from the database or the archive.
titles_db() { sqlite3 -separator ' ' "$DB" "SELECT number, title FROM issues ORDER BY number"; }
titles_archive() {
	for n in $(seq 1 $N); do printf '%s %s\n' "$n" "$(jq -r .title "$WB_DATA/current/$n/issue.json")"; done
}
svc_up() { [ "$(s6-svstat -o up "$SCAN/$1")" = true ]; }

HOOK_PORT=$(free_port)
HOOK_URL=http://127.0.0.1:$HOOK_PORT
# shellcheck disable=SC2034 # svc_env writes them
WB_HOOK_LISTEN=127.0.0.1:$HOOK_PORT WB_HOOK_SECRET=the-old-secret
svc_env WB_REDIS WB_GITHUB_API WB_GITHUB_TOKEN WB_DELAY WB_HOOK_LISTEN WB_HOOK_SECRET
svc_add wb-hook
svc_add wb-catchup
svc_add wb-downloader
svc_add wb-indexer
svscan_start
seq 1 $N | wb-enqueue download 2>/dev/null
archived() { [ "$(find "$WB_DATA/current" -name timeline.json 2>/dev/null | wc -l)" = "$N" ] && idle && [ "$(rows)" = "$N" ]; }
wait_for 60 archived
ok $? "the services archive and index $N issues"

# Re-index everything, the queue: the index lost an issue's change.
s6-svc -wD -d "$SCAN/wb-indexer"
gh set '{"number": 5, "title": "changed while the index queue was lost"}'
wb-enqueue download 5 2>/dev/null
wait_for 30 sh -c "grep -q 'changed while' '$WB_DATA/current/5/issue.json'"
ok $? "issue 5 changed in the archive"
wb-queue purge index >/dev/null
s6-svc -u "$SCAN/wb-indexer"
is "$(title_db 5)" "example.com - site is not usable (5) é☃" "the database does not know it (its index item purged)"
procedure "Re-index everything" 1
is "$?" 0 "re-index everything (queue): the commands succeed"
caught_up() { [ "$(title_db 5)" = "changed while the index queue was lost" ]; }
wait_for 60 caught_up
ok $? "the indexer brings the database up to the archive"
wait_for 30 idle
is "$(titles_db)" "$(titles_archive)" "every title as archived"

# Re-index everything, the database made again: a row deleted by hand.
sqlite3 "$DB" "DELETE FROM issues WHERE number = 3"
procedure "Re-index everything" 2
is "$?" 0 "re-index everything (--rebuild): the commands succeed"
is "$(rows)" $N "the database holds every issue again"
is "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok "its integrity check passes"
is "$(sqlite3 "$DB" "INSERT INTO issues_fts(issues_fts) VALUES('integrity-check')" 2>&1; echo $?)" 0 \
	"its full-text index matches its rows"
wait_for 10 svc_up wb-indexer
ok $? "the indexer runs again"

# Re-download everything: unchanged issues cost a 304 each.
wait_for 30 idle
gh_clear_log
procedure "Re-download everything" 1
is "$?" 0 "re-download everything: the commands succeed"
issue_requests() { jq -r 'select(.path | test("/issues/[0-9]+$")) | .status' "$GH_LOG"; }
asked_all() { [ "$(issue_requests | wc -l)" = "$N" ]; }
wait_for 60 asked_all
ok $? "every archived issue is asked again"
wait_for 30 idle
is "$(issue_requests | sort | uniq -c | tr -s ' ')" " $N 304" \
	"each answered 304: no rate limit used"

# Without the ETags, a damaged file is downloaded and written again.
printf '{}' >"$WB_DATA/current/9/issue.json"
procedure "Re-download everything" 2
is "$?" 0 "re-download everything without ETags: the commands succeed"
restored() { [ "$(jq -c . "$WB_DATA/current/9/issue.json")" = "$(served 9)" ]; }
wait_for 60 restored
ok $? "the damaged issue.json is written again, as GitHub serves it"
wait_for 30 idle

# Back up the database while wb-sqlite writes: issues keep changing.
(
	i=0
	while [ ! -e "$SCRATCH/stop" ]; do
		i=$((i + 1))
		n=$((i % N + 1))
		gh set "{\"number\": $n, \"title\": \"edit $i\"}"
		wb-enqueue download $n 2>/dev/null
		sleep 0.05
	done
) &
writer=$!
atexit "touch '$SCRATCH/stop'; kill $writer 2>/dev/null"
# commits: the newest edit committed in the database (0: none yet).
commits() { sqlite3 "$DB" "SELECT coalesce(max(CAST(substr(title, 6) AS INTEGER)), 0) FROM issues WHERE title LIKE 'edit %'"; }
more_than() { [ "$(commits)" -gt "$1" ]; }
wait_for 30 more_than 4
ok $? "wb-sqlite commits the edits as they come ($(commits))"
procedure "Back up and restore" 3
is "$?" 0 "the backup commands succeed while wb-sqlite writes"
during=$(commits)
good=0
for f in "$BACKUP/wb.sqlite" "$BACKUP/wb-vacuum.sqlite"; do
	[ "$(sqlite3 "$f" 'PRAGMA integrity_check')" = ok ] &&
		[ "$(sqlite3 "$f" 'SELECT count(*) FROM issues')" = $N ] &&
		sqlite3 "$f" "INSERT INTO issues_fts(issues_fts) VALUES('integrity-check')" &&
		good=$((good + 1))
done
is "$good" 2 ".backup and VACUUM INTO: both copies whole and consistent ($N issues, integrity and full-text checks)"
wait_for 30 more_than "$during"
ok $? "wb-sqlite went on writing meanwhile ($during, then $(commits))"
touch "$SCRATCH/stop"
wait "$writer"
wait_for 60 idle

# Restore it, then bring it up to the archive.
procedure "Back up and restore" 4
is "$?" 0 "the restore commands succeed"
wait_for 60 idle
is "$(titles_db)" "$(titles_archive)" "the restored database, once the queue is done, equals the archive"
is "$(sqlite3 "$DB" 'PRAGMA integrity_check'):$(sqlite3 "$DB" 'PRAGMA journal_mode')" "ok:wal" \
	"it is whole and still in WAL mode"

# The archive: backed up, changed on GitHub, lost, restored.
procedure "Back up and restore" 1
is "$?" 0 "the archive backup succeeds"
gh set '{"number": 13, "title": "changed after the backup"}'
rm -rf "$WB_DATA/current" "$WB_DATA/etags"
procedure "Back up and restore" 2
is "$?" 0 "the archive restore commands succeed"
equal() {
	for n in $(seq 1 "$N"); do
		[ "$(jq -c . "$WB_DATA/current/$n/issue.json" 2>/dev/null)" = "$(served "$n")" ] || return 1
	done
}
wait_for 60 equal
ok $? "every archived issue is as GitHub serves it, issue 13 changed after the backup included"
wait_for 60 idle
is "$(titles_db)" "$(titles_archive)" "and the database as the archive"

# Redis under s6, append-only as wb-setup makes it: backed up, restored.
RSOCK=$WB_DATA/redis/redis.sock
cat >"$ETC/redis.conf" <<EOC
port 0
unixsocket $RSOCK
unixsocketperm 700
dir $WB_DATA/redis
appendonly yes
appendfsync everysec
EOC
mkdir -p "$SCAN/wb-redis"
printf '#!/bin/sh\nexec redis-server %s\n' "$ETC/redis.conf" >"$SCAN/wb-redis/run"
chmod 755 "$SCAN/wb-redis/run"
s6-svscanctl -a "$SCAN"
atexit "redis-cli -s '$RSOCK' SHUTDOWN NOSAVE >/dev/null 2>&1"
rping() { redis-cli -s "$RSOCK" PING 2>/dev/null | grep -qx PONG; }
wait_for 20 rping
ok $? "a Redis runs under s6 with append-only persistence"
R2=unix://$RSOCK
WB_REDIS=$R2 wb-enqueue download 1 2 3 2>/dev/null
redis-cli -s "$RSOCK" SET "wb:list:{webcompat/web-bugs}:since" 2024-01-01T00:00:00Z >/dev/null
procedure "Back up and restore" 5
is "$?:$(test -s "$BACKUP/dump.rdb" && echo saved)" "0:saved" "the Redis backup succeeds"
WB_REDIS=$R2 wb-enqueue download 4 5 2>/dev/null
procedure "Back up and restore" 6
is "$?" 0 "the Redis restore commands succeed"
r2queue() { WB_REDIS=$R2 wb-queue list download | cut -f1 | sort -n | tr '\n' ' '; }
is "$(r2queue)" "1 2 3 " "the queue as it was at the backup"
is "$(redis-cli -s "$RSOCK" CONFIG GET appendonly | tr '\n' ' '):$(grep -c '^appendonly yes$' "$ETC/redis.conf")" "appendonly yes :1" \
	"append-only persistence on again, in the server and in its configuration"
rpid=$(svc_pid wb-redis)
s6-svc -r "$SCAN/wb-redis"
# A new server: the old one answers until it is gone.
renewed_redis() { [ "$(svc_pid wb-redis)" != "$rpid" ] && [ "$(svc_pid wb-redis)" != 0 ] && rping; }
wait_for 20 renewed_redis
is "$(r2queue):$(redis-cli -s "$RSOCK" GET "wb:list:{webcompat/web-bugs}:since")" "1 2 3 :2024-01-01T00:00:00Z" \
	"after a restart of Redis the restored queue and resume point are still there"

# Rotate the webhook secret.
payload edited 7 >"$SCRATCH/p7"
SECRET=the-old-secret
wait_for 20 sh -c "curl -sf '$HOOK_URL/healthz' >/dev/null"
deliver issues "$SCRATCH/p7" "$(sign "$SCRATCH/p7")"
is "$CODE" 202 "a delivery signed with the secret is accepted"
procedure "Rotate the webhook secret" 1
is "$?" 0 "the rotation commands succeed"
SECRET=$(tail -n 1 "$SCRATCH/proc.out")
is "$SECRET:$(stat -c %a "$SVC_ENV/WB_HOOK_SECRET")" "$(cat "$SVC_ENV/WB_HOOK_SECRET"):640" \
	"they print the new secret, readable by root and wb only"
like "$SECRET" '^[0-9a-f]{64}$' "a new secret of 256 random bits"
new_accepted() { deliver issues "$SCRATCH/p7" "$(sign "$SCRATCH/p7")" && [ "$CODE" = 202 ]; }
wait_for 20 new_accepted
new=$?
SECRET=the-old-secret
deliver issues "$SCRATCH/p7" "$(sign "$SCRATCH/p7")"
is "$new:$CODE" "0:401" "the restarted receiver accepts the new secret, refuses the old one"

# Move the archive.
old11=$(jq -r .title "$OLD_DATA/current/11/issue.json")
procedure "Move the archive" 1
is "$?:$(cat "$SVC_ENV/WB_DATA")" "0:$MOVED" "the move commands succeed; WB_DATA names the new place"
up3() { for s in wb-catchup wb-downloader wb-indexer; do svc_up "$s" || return 1; done; }
wait_for 20 up3
ok $? "the three services run again"
is "$(find "$MOVED/current" -name issue.json | wc -l | tr -d ' '):$(rows_at "$MOVED/wb.sqlite"):$(find "$MOVED/etags" -type f | wc -l | tr -d ' ')" \
	"$N:$N:$(find "$OLD_DATA/etags" -type f | wc -l | tr -d ' ')" "the archive, its database and its ETags are at the new place"
gh set '{"number": 11, "title": "after the move"}'
wb-enqueue download 11 2>/dev/null
moved_11() { [ "$(sqlite3 "$MOVED/wb.sqlite" 'SELECT title FROM issues WHERE number = 11')" = "after the move" ]; }
wait_for 60 moved_11
ok $? "an issue changed after the move is downloaded and indexed at the new place"
is "$(jq -r .title "$MOVED/current/11/issue.json"):$(jq -r .title "$OLD_DATA/current/11/issue.json")" \
	"after the move:$old11" "and not at the old one"

# Upgrade from the original stack: its archive (no ETags, no database),
# on a fresh install (no queue, no resume point); GitHub changed since it
# stopped.
for s in wb-catchup wb-downloader wb-indexer; do s6-svc -wD -d "$SCAN/$s"; done
mkdir -p "$ORIG"
cp -a "$MOVED/current" "$ORIG/"
redis_cli FLUSHALL >/dev/null
# The original stops in a second after issue 11's last change (wb-list's
# --since counts whole seconds, that one included).
t11=$(date -u -d "$(jq -r .updated_at "$MOVED/current/11/issue.json")" +%s)
past_11() { [ "$(date +%s)" -gt "$t11" ]; }
wait_for 5 past_11
STOPPED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
gh set '{"number": 21, "title": "changed after the original stopped"}'
start_es
procedure "Upgrade from the original stack" 1
is "$?:$(cat "$SVC_ENV/WB_DATA"):$(cat "$SVC_ENV/WB_ES")" "0:$ORIG:$ES_URL" \
	"the upgrade commands succeed: WB_DATA and WB_ES name the original's"
is "$(es GET /_index_template/wb-issues | jq -r '.index_templates[0].name')" wb-issues "the index templates are installed"
is "$(rows_at "$ORIG/wb.sqlite")" $N "the database is made from the original's archive"
ok "$([ "$(date -u -d "$(redis_cli GET "$KEY")" +%s)" -ge "$(date -u -d "$STOPPED" +%s)" ]; echo $?)" \
	"the catch-up's resume point is set, from the time the original stopped"
is "$(wb-queue list download | cut -f1 | tr '\n' ' ')" "21 " "what changed since is queued, nothing else"
for s in wb-catchup wb-downloader wb-indexer; do s6-svc -u "$SCAN/$s"; done
es_21() { es POST /_refresh >/dev/null && es_docs issues | grep -q '"changed after the original stopped"'; }
wait_for 60 es_21
ok $? "once started, wb downloads it into the original's archive and indexes it into Elasticsearch"
is "$(jq -r .title "$ORIG/current/21/issue.json"):$(es_docs issues | cut -f1 | tr '\n' ' ')" "changed after the original stopped:21 " \
	"the archived issue; one document for it, id 21"
done_testing
