#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Security (issue 9, item 7).
# 1. Issue numbers that try path traversal or overflow, given to every tool
#    that builds paths or keys from them (wb-write, wb-fetch, wb-bulk,
#    wb-enqueue, wb-ack, wb-hook payloads), are refused with one exact
#    line each and never reach the filesystem, Redis or the doubles: the
#    WB_DATA tree and the whole Redis content are the same before and
#    after (KEYS here, in the test only).
# 2. Started as root, the real s6 run scripts of s6/ (s6-setuidgid kept,
#    unlike scripts/run's local layout) run every stage as the
#    unprivileged user wb and the loggers as wblog (created here if
#    missing, removed again).
# The secrets in logs and outputs are checked by the chaos run (t/9101,
# make chaos), which greps every file it leaves for each of them.
. "${0%/*}/lib.sh"
. "$T_DIR/github-double.sh"
. "$T_DIR/es-double.sh"
. "$T_DIR/lib-hook.sh"
plan 52

start_redis
start_github --issues 5 --token sec-token-9102
start_es
D=$SCRATCH/data
WB_DATA=$D WB_GITHUB_TOKEN=sec-token-9102 WB_FETCH_BACKOFF=0.01
export WB_DATA WB_GITHUB_TOKEN WB_FETCH_BACKOFF
mk_issue "$D" 1 2
mk_issue "$D" 2 0
echo 1 | wb-enqueue download 2>/dev/null

# tree: every path under WB_DATA with its size, mode and mtime.
tree() { (cd "$D" && find . -printf '%p %s %m %T@\n' | LC_ALL=C sort); }
# redis_all: every key with its type and whole content.
redis_all() {
	redis_cli KEYS '*' | LC_ALL=C sort | while read -r k; do
		t=$(redis_cli TYPE "$k")
		case $t in
		zset) v=$(redis_cli ZRANGE "$k" 0 -1 WITHSCORES) ;;
		hash) v=$(redis_cli HGETALL "$k") ;;
		set) v=$(redis_cli SMEMBERS "$k" | LC_ALL=C sort) ;;
		list) v=$(redis_cli LRANGE "$k" 0 -1) ;;
		string) v=$(redis_cli GET "$k") ;;
		*) v='?' ;;
		esac
		printf '%s %s %s\n' "$k" "$t" "$(printf '%s' "$v" | tr '\n' ' ')"
	done
}
T0=$(tree)
R0=$(redis_all)
# unchanged WHAT: the tree and Redis are as they were (then the new
# reference, so that one failure does not hide the next).
unchanged() {
	T1=$(tree) R1=$(redis_all)
	is "$T1" "$T0" "$1: the WB_DATA tree is unchanged"
	is "$R1" "$R0" "$1: Redis holds exactly what it held before"
	T0=$T1 R0=$R1
}

# The hostile lines: bare, then as records (with "gone", which would
# remove a directory, and with an issue to store).
H=$SCRATCH/hostile
{
	printf '%s\n' '../1' '1/../../etc' '-1' '0' '2147483648' '1e3' '"12"' \
		'123456789012345678901234567890123456789012345678901234567890' \
		'4294967297' '18446744073709551617'
	for v in '"../1"' '"1/../../etc"' '-1' '0' '2147483648' '"12"' '1.5' \
		'99999999999999999999999' '4294967297' '18446744073709551617' \
		'-2147483648' 'null' '"4\u0000"'; do
		printf '{"number":%s,"gone":true}\n' "$v"
		printf '{"number":%s,"issue":{"number":1,"title":"x"},"timeline":[]}\n' "$v"
	done
} >"$H"
NLINES=$(wc -l <"$H")
# Two wordings of a refused number are right: today's ("out of range",
# "not an integer") and, once lib/wb_record takes only numbers written as
# decimal integers, "not a decimal integer in 1..2147483647: TEXT". The
# tools' own answer to one such record says which applies; every line is
# then checked exactly.
STRICT=0
case $(echo '{"number":0}' | wb-ack 2>&1) in
*'not a decimal integer in'*) STRICT=1 ;;
esac
# expected TOOL: its stderr for $H, line by line.
expected() {
	i=0
	while IFS= read -r l; do
		i=$((i + 1))
		case $l in
		'{"number":"4\u0000"'* | '{"number":"'* | '{"number":null'*) why='"number" is not a number' ;;
		'{'*)
			v=$(printf '%s' "$l" | sed 's/^{"number":\([^,]*\),.*/\1/')
			if [ "$STRICT" = 1 ]; then
				why="\"number\" is not a decimal integer in 1..2147483647: $v"
			elif [ "$v" = 1.5 ]; then
				why='"number" is not an integer'
			else
				why='"number" is out of range 1..2147483647'
			fi
			;;
		*)
			# shown cut at 40 bytes
			[ "${#l}" -le 40 ] || l="$(printf %.40s "$l")..."
			why="not an issue number (1..2147483647) nor a JSON object: $l"
			;;
		esac
		echo "$1: warning: line $i: $why, skipped"
	done <"$H"
	echo "$1: warning: $NLINES input lines were rejected"
}

run wb-enqueue download <"$H"
is "$RC" 1 "wb-enqueue: exit 1 (lines skipped)"
is "$ERR" "$(expected wb-enqueue)
wb-enqueue: info: 0 queued into download, 0 claims acknowledged" "wb-enqueue: each hostile line refused, exactly"
run wb-ack <"$H"
is "$RC:$ERR" "1:$(expected wb-ack)" "wb-ack: each hostile line refused, exactly"
run wb-write <"$H"
is "$RC:$OUT" "1:" "wb-write: exit 1, nothing passed on"
is "$ERR" "$(expected wb-write)" "wb-write: each hostile line refused, exactly"
run wb-bulk <"$H"
is "$RC:$OUT" "1:" "wb-bulk: exit 1, nothing passed on"
is "$ERR" "$(expected wb-bulk)" "wb-bulk: each hostile line refused, exactly"
is "$(es GET /_double/stats | jq -c '[.bulk, .delete_by_query]')" "[0,0]" "wb-bulk: nothing sent to Elasticsearch"
run wb-fetch <"$H"
is "$RC:$OUT" "1:" "wb-fetch: exit 1, nothing passed on"
is "$ERR" "$(expected wb-fetch)" "wb-fetch: each hostile line refused, exactly"
is "$(gh_requests 'test("/issues")')" 0 "wb-fetch: no issue asked of GitHub"

unchanged "hostile lines and arguments"

# NUL bytes: inside a bare number, inside and after a record.
N=$SCRATCH/nul
printf '1\0002\n{"number":2\000}\n{"number":2}\000\n{"number":"2\000"}\n' >"$N"
for t in wb-enqueue wb-ack wb-write wb-bulk wb-fetch; do
	q=
	[ "$t" = wb-enqueue ] && q=download
	run $t $q <"$N"
	got=$(printf '%s\n' "$ERR" | grep -c "^$t: warning: line [1-4]: .*, skipped\$")
	is "$RC:$got" "1:4" "$t: the 4 lines with a NUL byte refused, each on its own line"
done

unchanged "lines with a NUL byte"

# Arguments.
for a in ../1 1/../../etc -1 0 2147483648 1e3 '"12"' 123456789012345678901234567890; do
	case $a in
	0 | 2147483648 | 1234*) why="out of range" ;;
	*) why="not a decimal integer" ;;
	esac
	run wb-enqueue download -- "$a"
	e1="$RC:$ERR"
	run wb-fetch -- "$a"
	is "$e1 $RC:$ERR" "100:wb-enqueue: fatal: not an issue number: $a: $why 100:wb-fetch: fatal: not an issue number ($why): $a" \
		"argument $a refused by wb-enqueue and wb-fetch"
done
run wb-enqueue ../q 5
is "$RC:$ERR" "100:wb-enqueue: fatal: bad queue name (1 to 64 of A-Z a-z 0-9 _ . -): ../q" "a queue name that is a path refused"

unchanged "hostile arguments"

# Claims whose queue or claim token are hostile: wb-ack builds keys from them.
printf '%s\n' '{"number":1,"queue":"../x","claim":"1"}' '{"number":1,"queue":"a}:b","claim":"1"}' \
	'{"number":1,"queue":"download","claim":"../1"}' '{"number":1,"queue":"download","claim":"-1"}' \
	'{"number":1,"queue":"download","claim":"99999999999999999999999999"}' >"$SCRATCH/claims"
run wb-ack <"$SCRATCH/claims"
got=$(printf '%s\n' "$ERR" | grep -c '^wb-ack: warning: line [1-5]: .*, skipped$')
is "$RC:$got" "1:5" "wb-ack: the 5 hostile claims refused, each on its own line"
unchanged "hostile claims"

# wb-hook: signed deliveries whose issue number is hostile.
SECRET=sec-hook-9102
export WB_HOOK_SECRET=$SECRET
start_hook
for v in '"../1"' '"1/../../etc"' '-1' '0' '2147483648' '"12"' '1.5' '99999999999999999999999' \
	'4294967297' '18446744073709551617' 'null' '"4\u0000"'; do
	printf '{"action":"edited","issue":{"number":%s,"title":"t"},"repository":{"full_name":"webcompat/web-bugs"}}' "$v" >"$SCRATCH/p"
	deliver issues "$SCRATCH/p" "$(sign "$SCRATCH/p")"
	is "$CODE" 400 "wb-hook: issue number $v refused (400)"
done
stop_hook
unchanged "hostile webhook payloads"

# 2. Root: the real run scripts switch to the user wb.
if [ "$(id -u)" != 0 ]; then
	for i in 1 2 3 4; do echo "ok $((_t_n + 1)) # SKIP not root"; _t_n=$((_t_n + 1)); done
	done_testing
fi
for c in s6-svscan s6-svscanctl s6-setuidgid execlineb useradd; do
	command -v "$c" >/dev/null || {
		for i in 1 2 3 4; do echo "ok $((_t_n + 1)) # SKIP $c is not installed"; _t_n=$((_t_n + 1)); done
		done_testing
	}
done
# The service users are made as wb-setup(8) makes them and kept: t/9013
# (wb-setup, as root) may be using them at the same time.
for u in wb wblog; do
	if ! id "$u" >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" ||
			id "$u" >/dev/null 2>&1 ||
			{ echo "Bail out! useradd $u failed"; exit 1; }
	fi
done
chmod 755 "$SCRATCH"
S=$SCRATCH/s6
mkdir -p "$S/service" "$S/env" "$S/log" "$SCRATCH/rdata/current" "$SCRATCH/r2"
chown wb "$SCRATCH/rdata" "$SCRATCH/rdata/current"
chown wblog "$S/log"
# A Redis that wb may reach (start_redis's socket is root's only).
cat >"$SCRATCH/r2/redis.conf" <<EOC
port 0
unixsocket $SCRATCH/r2/redis.sock
unixsocketperm 777
dir $SCRATCH/r2
save ""
daemonize yes
pidfile $SCRATCH/r2/redis.pid
logfile $SCRATCH/r2/redis.log
EOC
redis-server "$SCRATCH/r2/redis.conf"
atexit "kill \$(cat '$SCRATCH/r2/redis.pid') 2>/dev/null"
wait_for 10 test -S "$SCRATCH/r2/redis.sock"
RD=$SCRATCH/rdata
HP=$(free_port)
printf '%s' "unix://$SCRATCH/r2/redis.sock" >"$S/env/WB_REDIS"
printf '%s' "$RD" >"$S/env/WB_DATA"
printf '%s' "$WB_GITHUB_API" >"$S/env/WB_GITHUB_API"
printf '%s' "$WB_ES" >"$S/env/WB_ES"
printf '%s' "127.0.0.1:$HP" >"$S/env/WB_HOOK_LISTEN"
printf '%s' "$SECRET" >"$S/env/WB_HOOK_SECRET"
printf '%s' "$WB_BUILD/bin:$TOP/scripts:/usr/lib/execline/bin:/usr/local/bin:/usr/bin:/bin" >"$S/env/PATH"
chmod 700 "$S/env"
# The real run scripts: only the env dir and log paths substituted.
for s in "$WB_BUILD"/s6/*/; do
	name=$(basename "$s")
	cp -R "$s" "$S/service/$name"
	for f in "$S/service/$name/run" "$S/service/$name/log/run"; do
		[ -f "$f" ] || continue
		sed -e "s|/etc/wb/env|$S/env|" -e "s|/var/log/wb/|$S/log/|" "$f" >"$f.new"
		chmod +x "$f.new"
		mv "$f.new" "$f"
	done
done
kept=$(cat "$S"/service/*/run | grep -c '^s6-setuidgid wb$')
is "$kept" "$(cat "$WB_BUILD"/s6/*/run | grep -c '^s6-setuidgid wb$')" "the run scripts keep their s6-setuidgid wb"
s6-svscan "$S/service" >"$SCRATCH/svscan.out" 2>&1 &
SV=$!
# Stopped by PID; whatever the services leave behind (an orphan holding
# a log pipe keeps s6 waiting) is killed by PID too.
leftovers() {
	for p in /proc/[0-9]*; do
		tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qx "WB_DATA=$RD" && echo "${p#/proc/}"
	done
}
stop_s6() {
	s6-svscanctl -t "$S/service" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $SV" 2>/dev/null
	for p in $(leftovers); do kill -9 "$p" 2>/dev/null; done
	wait_for 10 sh -c "! kill -0 $SV" || kill -9 "$SV" 2>/dev/null
	wait "$SV" 2>/dev/null
}
atexit stop_s6

# uids SERVICE: "comm uid" of every process under the service's
# s6-supervise (not its logger), each once.
sup_pid() {
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = s6-supervise ] || continue
		[ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$SV" ] || continue
		[ "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" = "s6-supervise $1 " ] && echo "${p#/proc/}"
	done
}
descendants() {
	# shellcheck disable=SC2013 # pids separated by spaces
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}
seen=$SCRATCH/seen
: >"$seen"
look() {
	for svc in wb-hook wb-downloader wb-indexer; do
		sp=$(sup_pid "$svc")
		[ -n "$sp" ] || continue
		for p in $(descendants "$sp"); do
			c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
			u=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$p/status" 2>/dev/null)
			g=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$p/status" 2>/dev/null)
			echo "$svc $c uid $u gid $g" >>"$seen"
		done
	done
	# Every stage of the three services seen once running.
	for x in "wb-hook wb-hook" "wb-downloader wb-dequeue" "wb-downloader wb-fetch" \
		"wb-downloader wb-write" "wb-downloader wb-enqueue" "wb-indexer wb-dequeue" \
		"wb-indexer wb-bulk" "wb-indexer wb-ack"; do
		grep -q "^$x " "$seen" || return 1
	done
}
wait_for 20 look
ok $? "every stage of wb-hook, wb-downloader and wb-indexer seen running"
WBU=$(id -u wb) WBG=$(id -g wb)
is "$(grep '^wb-' "$seen" | grep ' wb-' | grep -v " uid $WBU $WBU $WBU $WBU gid $WBG $WBG $WBG $WBG\$" | LC_ALL=C sort -u)" "" \
	"every stage runs as wb (real, effective, saved and fs uid and gid $WBU/$WBG), none as root"
logs=$(for p in /proc/[0-9]*; do
	[ "$(cat "$p/comm" 2>/dev/null)" = s6-log ] || continue
	case $(tr '\0' ' ' 2>/dev/null <"$p/cmdline") in
	*"$S/log/"*) awk '/^Uid:/ {print $3}' "$p/status" ;;
	esac
done | LC_ALL=C sort -u)
is "$logs" "$(id -u wblog)" "the loggers run as wblog"
done_testing
