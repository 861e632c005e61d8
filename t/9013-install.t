#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The production install: `make install DESTDIR=` lays out exactly the
# expected files (tools, scripts, man pages, service directories, index
# templates, example configuration) with their modes; wb-setup --root
# makes the instance under a temporary root, and a second run (or one
# after the operator's edits) changes nothing: every path, mode, owner,
# size, mtime and checksum the same. Then, as root (the user switch is
# exercised; skipped otherwise), s6-svscan on the installed scan directory
# with the GitHub double: a signed webhook ends archived by the user wb,
# indexed in wb.sqlite and found by wb-search, logged by wblog; stopping
# s6 leaves no process behind.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
. "$T_DIR/lib-hook.sh"
for c in s6-svscan s6-svscanctl s6-svwait execlineb redis-server; do
	command -v "$c" >/dev/null || skip_all "$c is not installed"
done
plan 28
R=$SCRATCH/root
P=/usr/local

# 1. make install into a temporary DESTDIR: the exact file list.
run make -s -C "$TOP" install BUILD="$WB_BUILD" DESTDIR="$R" PREFIX=$P
is "$RC" 0 "make install DESTDIR=... exits 0"
expected() {
	for f in "$TOP"/bin/wb-*.c; do f=${f##*/}; echo "755 .$P/bin/${f%.c}"; done
	for f in "$TOP"/scripts/wb-*; do echo "755 .$P/bin/${f##*/}"; done
	for f in "$TOP"/man/*.[178]; do f=${f##*/}; echo "644 .$P/share/man/man${f##*.}/$f"; done
	(cd "$WB_BUILD" && find s6 -type f) | while read -r f; do
		case ${f##*/} in run | finish) m=755 ;; *) m=644 ;; esac
		echo "$m .$P/share/wb/$f"
	done
	for f in "$TOP"/etc/elasticsearch/*.json; do echo "644 .$P/share/wb/elasticsearch/${f##*/}"; done
	echo "644 .$P/share/wb/examples/wb.env"
	echo "644 .$P/share/wb/examples/nginx/wb.conf"
}
is "$(cd "$R" && find . -type f -printf '%m %p\n' | LC_ALL=C sort)" "$(expected | LC_ALL=C sort)" \
	"exactly the tools, scripts, man pages, services, templates and examples, with their modes"
cmp -s "$TOP/etc/nginx/wb.conf" "$R$P/share/wb/examples/nginx/wb.conf" &&
	cmp -s "$TOP/s6/wb-hook/run" "$R$P/share/wb/s6/wb-hook/run" &&
	cmp -s "$WB_BUILD/s6/wb-hook/log/run" "$R$P/share/wb/s6/wb-hook/log/run"
ok $? "copied as they are"
# Each service directory made whole from s6/shared and its own files.
services() {
	for s in "$R$P"/share/wb/s6/*/; do
		s=${s%/}
		n=${s##*/}
		printf '%s %s %s %s\n' "$n" "$(cd "$s" && find . -type f | LC_ALL=C sort | tr '\n' ' ')" \
			"$(sed -n 's|^s6-log -d3 -- T s1000000 n20 /var/log/wb/||p' "$s/log/run")" \
			"$(sed -n '$p' "$s/finish")"
	done
}
is "$(services)" "wb-catchup ./finish ./log/notification-fd ./log/run ./run  wb-catchup exec wb-svfinish \"\$@\"
wb-downloader ./finish ./log/notification-fd ./log/run ./notification-fd ./run  wb-downloader exec wb-svfinish \"\$@\"
wb-hook ./finish ./log/notification-fd ./log/run ./notification-fd ./run  wb-hook exec wb-svfinish \"\$@\"
wb-indexer ./finish ./log/notification-fd ./log/run ./notification-fd ./run  wb-indexer exec wb-svfinish \"\$@\"
wb-metrics ./finish ./log/notification-fd ./log/run ./run  wb-metrics exit 0" \
	"every service: run, finish, a logger writing to /var/log/wb/NAME; wb-metrics its own finish"

# 2. wb-setup --root: the instance under $R.
run "$R$P/bin/wb-setup" --root "$R" --prefix $P
is "$RC:$ERR" "0:" "wb-setup exits 0, nothing on stderr"
like "$OUT" "^wb-setup: made $R/etc/wb/service/wb-redis\$" "it says what it made"
E=$R/etc/wb/env
is "$(cat "$E/WB_DATA"):$(cat "$E/WB_REDIS"):$(cat "$E/WB_HOOK_LISTEN")" \
	"$R/var/lib/wb:unix://$R/var/lib/wb/redis/redis.sock:127.0.0.1:8080" "the env directory: one file per variable"
like "$(cat "$E/WB_HOOK_SECRET")" '^[0-9a-f]{64}$' "a random webhook secret"
is "$(stat -c %a "$E" "$E/WB_HOOK_SECRET" "$E/WB_GITHUB_TOKEN" "$E/WB_DATA" | tr '\n' ' ')" "750 640 640 644 " \
	"the env directory and the secrets closed to others"
is "$(ls "$R/etc/wb/service" | tr '\n' ' ')" "wb-catchup wb-downloader wb-hook wb-indexer wb-metrics wb-redis " \
	"the scan directory: the five services and the private Redis"
is "$(grep -E '^(appendonly|maxmemory-policy|port) ' "$R/etc/wb/redis.conf" | tr '\n' ' ')" \
	"port 0 appendonly yes maxmemory-policy noeviction " "Redis: unix socket only, append-only, no eviction"
is "$(grep -c "^s6-envdir -I $E\$" "$R"/etc/wb/service/wb-*/run)" "$(printf '%s\n' "$R/etc/wb/service/wb-catchup/run:1" "$R/etc/wb/service/wb-downloader/run:1" "$R/etc/wb/service/wb-hook/run:1" "$R/etc/wb/service/wb-indexer/run:1" "$R/etc/wb/service/wb-metrics/run:1" "$R/etc/wb/service/wb-redis/run:0")" \
	"each wb service reads the env directory under the root"
is "$(grep '^ExecStart=' "$R/etc/systemd/system/wb.service")" "ExecStart=/usr/bin/s6-svscan $R/etc/wb/service" \
	"the systemd unit runs s6-svscan on the scan directory"

state() {
	(cd "$R" && find . -path ./usr -prune -o -printf '%p %m %u %g %s %T@\n' | LC_ALL=C sort
	find . -path ./usr -prune -o -type f -exec md5sum {} + | LC_ALL=C sort)
}
before=$(state)
run "$R$P/bin/wb-setup" --root "$R" --prefix $P
is "$RC:$OUT:$ERR" "0::" "a second run: exit 0, nothing made, nothing said"
is "$(state)" "$before" "nothing changed: paths, modes, owners, sizes, mtimes, checksums"

# The operator's configuration is never overwritten.
start_github --issues 20 --events 3
HOOK_PORT=$(free_port)
HOOK_URL=http://127.0.0.1:$HOOK_PORT
SECRET=install-test-secret
printf '%s' "127.0.0.1:$HOOK_PORT" >"$E/WB_HOOK_LISTEN"
printf '%s' "$SECRET" >"$E/WB_HOOK_SECRET"
printf '%s' "$WB_GITHUB_API" >"$E/WB_GITHUB_API"
printf '%s' 1 >"$E/WB_DELAY"
echo "# edited" >>"$R/etc/wb/redis.conf"
rm -rf "$R/etc/wb/service/wb-metrics"
before=$(state)
run "$R$P/bin/wb-setup" --root "$R" --prefix $P
is "$RC:$OUT" "0:wb-setup: made $R/etc/wb/service/wb-metrics" "after edits: only the removed service is made again"
is "$(cat "$E/WB_HOOK_LISTEN"):$(cat "$E/WB_HOOK_SECRET"):$(tail -n 1 "$R/etc/wb/redis.conf")" \
	"127.0.0.1:$HOOK_PORT:$SECRET:# edited" "the operator's values are kept"
run "$R$P/bin/wb-setup" --root relative
is "$RC:$ERR" "100:wb-setup: fatal: --root is not an absolute path: relative" "a relative root: exit 100"

# 3. The installed tree under s6, as root (s6-setuidgid wb, wblog).
if [ "$(id -u)" != 0 ]; then
	for _ in 1 2 3 4 5 6 7 8 9 10; do ok 0 "# SKIP not root: the user switch needs it"; done
	done_testing
	exit 0
fi
# The users must reach their files under the scratch directory.
d=$R
while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
run setpriv --reuid=65534 --regid=65534 --clear-groups "$R$P/bin/wb-setup" --prefix $P
is "$RC:$ERR" "100:wb-setup: fatal: the instance is made as root (or under --root)" "not root and no --root: exit 100, nothing touched"
S=$R/etc/wb/service
s6-svscan "$S" >"$SCRATCH/svscan.log" 2>&1 &
svscan=$!
atexit "s6-svscanctl -t '$S' 2>/dev/null; wait $svscan 2>/dev/null"
wait_for 20 s6-svstat "$S/wb-hook" >/dev/null && s6-svwait -U -t 20000 "$S/wb-hook"
ok $? "the installed receiver starts and signals readiness"
wait_for 20 test -S "$R/var/lib/wb/redis/redis.sock"
ok $? "the private Redis is up on its socket"
payload edited 7 >"$SCRATCH/p7"
deliver issues "$SCRATCH/p7" "$(sign "$SCRATCH/p7")"
is "$CODE" 202 "a signed delivery is accepted"
D=$R/var/lib/wb
wait_for 60 test -s "$D/current/7/timeline.json"
ok $? "the downloader archived the issue"
is "$(stat -c %U "$D/current/7/issue.json")" wb "archived by the user wb"
indexed() { [ "$(sqlite3 "$D/wb.sqlite" 'SELECT count(*) FROM timelines WHERE number = 7' 2>/dev/null)" = 3 ]; }
wait_for 60 indexed
ok $? "indexed in wb.sqlite with its 3 events"
word=$(jq -r .title "$D/current/7/issue.json" | tr -cs 'A-Za-z' '\n' | grep -E '^[A-Za-z]{3,}$' | head -1)
is "$(WB_SQLITE=$D/wb.sqlite "$R$P/bin/wb-search" "$word" | jq -r 'select(.number == 7) | .number')" 7 \
	"wb-search finds it by a word of its title ($word)"
is "$(stat -c %U "$R/var/log/wb/wb-hook/current")" wblog "the receiver's log, kept by wblog"
s6-svscanctl -t "$S"
wait_for 20 sh -c "! kill -0 $svscan"
none_left() { ! pgrep -f "$R/" >/dev/null; }
wait_for 10 none_left
ok $? "s6 stopped: no process of the instance is left"
done_testing
