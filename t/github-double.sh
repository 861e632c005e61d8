# SPDX-License-Identifier: MPL-2.0
# Helpers for tests that talk to the GitHub double (t/github-double.py).
# Sourced after t/lib.sh; POSIX sh.
#
#   start_github [double options]   start it on a free loopback port; exports
#                                   WB_GITHUB_API, sets GH_LOG (request log)
#   gh COMMAND JSON                 steer it: POST /_double/COMMAND
#   gh_requests [JQ-FILTER]         how many logged requests match the filter
#   gh_clear_log                    forget the requests logged so far
#   github_client ISSUES EVENTS     start_github with ISSUES issues of EVENTS
#                                   events each and the token "tok"; exports
#                                   what wb-fetch and wb-list need against it:
#                                   WB_GITHUB_TOKEN, a short WB_FETCH_BACKOFF,
#                                   WB_DATA ($SCRATCH/data)
# shellcheck shell=sh disable=SC2034

start_github() {
	GH_DIR=$SCRATCH/github
	mkdir -p "$GH_DIR"
	rm -f "$GH_DIR/port"
	GH_LOG=$GH_DIR/log
	: >"$GH_LOG"
	# Debian's python3, standard library only.
	py=/usr/bin/python3
	[ -x "$py" ] || py=python3
	"$py" "$T_DIR/github-double.py" --port-file "$GH_DIR/port" \
		--log "$GH_LOG" "$@" >"$GH_DIR/stderr" 2>&1 &
	GH_PID=$!
	atexit "kill $GH_PID 2>/dev/null"
	wait_for 10 test -s "$GH_DIR/port" || { echo "Bail out! the GitHub double did not start"; cat "$GH_DIR/stderr" >&2; exit 1; }
	WB_GITHUB_API=http://127.0.0.1:$(cat "$GH_DIR/port")
	export WB_GITHUB_API
}

gh() {
	curl -sS -f -X POST -H 'Content-Type: application/json' --data "$2" \
		"$WB_GITHUB_API/_double/$1" >/dev/null
}

gh_requests() {
	jq -c "select(${1:-true})" "$GH_LOG" | wc -l | tr -d ' '
}

gh_clear_log() {
	: >"$GH_LOG"
}

# gh_stderr: what the double wrote on stderr (a traceback is a bug).
gh_stderr() {
	cat "$GH_DIR/stderr"
}

github_client() {
	start_github --issues "$1" --events "$2" --token tok
	WB_DATA=$SCRATCH/data WB_GITHUB_TOKEN=tok WB_FETCH_BACKOFF=0.01
	export WB_DATA WB_GITHUB_TOKEN WB_FETCH_BACKOFF
}
