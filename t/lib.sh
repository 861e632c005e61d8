# SPDX-License-Identifier: MPL-2.0
# wb test library: TAP helpers, a scratch directory, servers started for
# the test and stopped by PID at exit. Sourced by t/NNNN-*.t; POSIX sh.
#
#   . "${0%/*}/lib.sh"
#   plan 3
#   is "$(wb-queue length q)" 0 "empty queue"
#   ...
# shellcheck shell=sh disable=SC2034

set -u
T_DIR=${T_DIR:-$(cd "${0%/*}" && pwd)}
TOP=$(cd "$T_DIR/.." && pwd)
WB_BUILD=${WB_BUILD:-$TOP/build}
PATH=$WB_BUILD/bin:$TOP/scripts:$PATH
export PATH
TEST_NAME=$(basename "$0" .t)
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/wb-$TEST_NAME.XXXXXX")
_t_n=0
_t_failed=0
_t_atexit=""

# Never let the caller's configuration leak into a test.
unset WB_REPO WB_PRIVATE_REPO WB_PRIVATE_TITLES WB_GITHUB_TOKEN GITHUB_TOKEN \
	WB_GITHUB_API WB_REDIS WB_DATA WB_DELAY WB_ES WB_ES_API_KEY \
	WB_HOOK_LISTEN WB_HOOK_SECRET WB_MAX_LINE WB_MAX_DELIVERIES WB_DEBUG \
	WB_HOOK_HEADER_TIMEOUT WB_FETCH_BACKOFF WB_FETCH_TIMEOUT WB_RUN

# atexit CMD: run CMD (a string, eval'd) when the test exits, last first.
atexit() {
	_t_atexit="$1
$_t_atexit"
}

_t_cleanup() {
	set +e
	eval "$_t_atexit"
	rm -rf "$SCRATCH"
}
trap '_t_cleanup' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE

plan() { echo "1..$1"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
diag() { printf '%s\n' "$@" | sed 's/^/# /' >&2; }

# ok STATUS NAME: STATUS 0 passes.
ok() {
	_t_n=$((_t_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_t_n - $2"
	else
		echo "not ok $_t_n - $2"
		_t_failed=$((_t_failed + 1))
	fi
}

# is GOT EXPECTED NAME
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:      '$1'" "expected: '$2'"
	fi
}

# like GOT PATTERN NAME: GOT matches the grep -E PATTERN (on some line).
like() { _t_match "" "$@"; }

# unlike GOT PATTERN NAME
unlike() { _t_match "not " "$@"; }

# _t_match NOT GOT PATTERN NAME: passes when GOT matches PATTERN, or when
# it does not and NOT is "not ".
_t_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		_t_m=""
	else
		_t_m="not "
	fi
	if [ "$_t_m" = "$1" ]; then
		ok 0 "$4"
	else
		ok 1 "$4"
		diag "got:      '$2'" "expected ${1}to match: '$3'"
	fi
}

# run CMD...: run it with stdout, stderr and status into $OUT, $ERR, $RC
# (stdin is the caller's).
run() {
	"$@" >"$SCRATCH/.out" 2>"$SCRATCH/.err"
	RC=$?
	OUT=$(cat "$SCRATCH/.out")
	ERR=$(cat "$SCRATCH/.err")
}

# wait_for SECONDS CMD...: poll CMD every 20 ms until it succeeds;
# returns 1 if it still fails after SECONDS.
wait_for() {
	_t_limit=$1
	shift
	_t_end=$(($(date +%s) + _t_limit))
	until "$@" 2>/dev/null; do
		[ "$(date +%s)" -lt "$_t_end" ] || return 1
		sleep 0.02
	done
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_redis: a private redis-server on a unix socket in the scratch dir;
# exports WB_REDIS and REDIS_SOCK, stopped at exit. Lines in
# $REDIS_CONF_EXTRA are added to its configuration.
start_redis() {
	REDIS_DIR=$SCRATCH/redis
	mkdir -p "$REDIS_DIR"
	REDIS_SOCK=$REDIS_DIR/redis.sock
	cat >"$REDIS_DIR/redis.conf" <<EOC
port 0
unixsocket $REDIS_SOCK
unixsocketperm 700
dir $REDIS_DIR
save ""
appendonly no
daemonize yes
pidfile $REDIS_DIR/redis.pid
logfile $REDIS_DIR/redis.log
${REDIS_CONF_EXTRA:-}
EOC
	redis-server "$REDIS_DIR/redis.conf" || { echo "Bail out! redis-server did not start"; exit 1; }
	wait_for 10 test -S "$REDIS_SOCK" || { echo "Bail out! no redis socket"; exit 1; }
	wait_for 10 test -s "$REDIS_DIR/redis.pid" || { echo "Bail out! no redis pid"; exit 1; }
	# shellcheck disable=SC2016
	wait_for 10 sh -c 'redis-cli -s "$0" PING >/dev/null' "$REDIS_SOCK" || { echo "Bail out! redis does not answer"; exit 1; }
	atexit 'stop_redis'
	WB_REDIS=unix://$REDIS_SOCK
	export WB_REDIS REDIS_SOCK
}

stop_redis() {
	[ -s "$REDIS_DIR/redis.pid" ] || return 0
	_t_pid=$(cat "$REDIS_DIR/redis.pid")
	kill "$_t_pid" 2>/dev/null
	# Bounded: a stopped server's pid disappears within seconds.
	wait_for 10 sh -c "! kill -0 $_t_pid" || kill -9 "$_t_pid" 2>/dev/null
	rm -f "$REDIS_DIR/redis.pid"
}

redis_cli() { redis-cli -s "$REDIS_SOCK" "$@"; }

# done_testing: the exit status tells prove whether everything passed.
done_testing() {
	[ "$_t_failed" -eq 0 ]
	exit $?
}
