# SPDX-License-Identifier: MPL-2.0
# Helpers for the wb-hook tests (t/4NNN-*.t), sourced after t/lib.sh:
# GitHub-shaped payloads, signatures, a receiver on a free port, a client.
# shellcheck shell=sh disable=SC2034

# payload ACTION NUMBER [REPO]: an "issues" event as GitHub sends it
# (trimmed, same shape), for issue NUMBER of REPO (default the WB_REPO
# default).
payload() {
	_h_repo=${3:-webcompat/web-bugs}
	cat <<EOJ
{
  "action": "$1",
  "issue": {
    "url": "https://api.github.com/repos/$_h_repo/issues/$2",
    "repository_url": "https://api.github.com/repos/$_h_repo",
    "labels_url": "https://api.github.com/repos/$_h_repo/issues/$2/labels{/name}",
    "comments_url": "https://api.github.com/repos/$_h_repo/issues/$2/comments",
    "html_url": "https://github.com/$_h_repo/issues/$2",
    "id": 1347000$2,
    "node_id": "MDU6SXNzdWUxMzQ3",
    "number": $2,
    "title": "www.example.com - site is not usable",
    "user": {"login": "webcompat-bot", "id": 8862693, "type": "User", "site_admin": false},
    "labels": [{"id": 208045946, "name": "browser-firefox", "color": "ededed", "default": false}],
    "state": "open",
    "locked": false,
    "assignee": null,
    "assignees": [],
    "milestone": {"id": 1, "number": 2, "title": "needstriage", "state": "open"},
    "comments": 0,
    "created_at": "2026-11-27T10:00:00Z",
    "updated_at": "2026-11-28T01:00:00Z",
    "closed_at": null,
    "author_association": "NONE",
    "body": "<!-- @browser: Firefox 120.0 -->\\n**URL**: https://www.example.com/\\n\\n**Steps to Reproduce**:\\nClick \"Log in\" \u2014 nothing happens. caf\u00e9 \ud83d\ude00"
  },
  "repository": {
    "id": 56943171,
    "node_id": "MDEwOlJlcG9zaXRvcnk1Njk0MzE3MQ==",
    "name": "${_h_repo#*/}",
    "full_name": "$_h_repo",
    "private": false,
    "owner": {"login": "${_h_repo%/*}", "id": 17014936, "type": "Organization"},
    "html_url": "https://github.com/$_h_repo"
  },
  "organization": {"login": "${_h_repo%/*}", "id": 17014936},
  "sender": {"login": "octocat", "id": 583231, "type": "User", "site_admin": false}
}
EOJ
}

# comment_payload ACTION NUMBER: an "issue_comment" event.
comment_payload() {
	cat <<EOJ
{"action":"$1","issue":{"url":"https://api.github.com/repos/webcompat/web-bugs/issues/$2","html_url":"https://github.com/webcompat/web-bugs/issues/$2","id":20000$2,"number":$2,"title":"www.example.org - video does not play","user":{"login":"octocat","id":583231},"labels":[],"state":"open","locked":false,"comments":1,"created_at":"2026-11-20T08:00:00Z","updated_at":"2026-11-28T01:00:00Z","body":"Steps"},"comment":{"url":"https://api.github.com/repos/webcompat/web-bugs/issues/comments/1","html_url":"https://github.com/webcompat/web-bugs/issues/$2#issuecomment-1","id":1,"user":{"login":"octocat","id":583231},"created_at":"2026-11-28T01:00:00Z","updated_at":"2026-11-28T01:00:00Z","body":"Thanks, reproduced.","author_association":"MEMBER"},"repository":{"id":56943171,"name":"web-bugs","full_name":"webcompat/web-bugs","private":false,"owner":{"login":"webcompat","id":17014936}},"sender":{"login":"octocat","id":583231}}
EOJ
}

# ping_payload: the "ping" event sent when a webhook is created.
ping_payload() {
	cat <<'EOJ'
{"zen":"Keep it logically awesome.","hook_id":30,"hook":{"type":"Repository","id":30,"name":"web","active":true,"events":["issues","issue_comment"],"config":{"content_type":"json","insecure_ssl":"0","url":"https://example.com/webhooks/github/receive"}},"repository":{"id":56943171,"full_name":"webcompat/web-bugs"},"sender":{"login":"octocat","id":583231}}
EOJ
}

# sign FILE: the X-Hub-Signature-256 of FILE under $SECRET.
sign() {
	python3 -c 'import hashlib, hmac, sys
sys.stdout.write("sha256=" + hmac.new(sys.argv[1].encode(), open(sys.argv[2], "rb").read(), hashlib.sha256).hexdigest())' "$SECRET" "$1"
}

# start_hook [ARGS]: wb-hook -t 2 -d 3 on a free port, ready; sets
# HOOK_PORT, HOOK_URL, HOOK_PID; stderr in $SCRATCH/hook.err.
start_hook() {
	HOOK_PORT=$(free_port)
	HOOK_URL=http://127.0.0.1:$HOOK_PORT
	: >"$SCRATCH/ready"
	WB_HOOK_LISTEN=127.0.0.1:$HOOK_PORT wb-hook -t 2 -d 3 "$@" \
		3>"$SCRATCH/ready" 2>"$SCRATCH/hook.err" &
	HOOK_PID=$!
	atexit "kill $HOOK_PID 2>/dev/null"
	wait_for 10 test -s "$SCRATCH/ready" || { echo "Bail out! wb-hook not ready"; cat "$SCRATCH/hook.err" >&2; exit 1; }
}

# stop_hook: SIGTERM, wait; HOOK_RC is its exit status.
stop_hook() {
	kill -TERM "$HOOK_PID"
	wait "$HOOK_PID"
	HOOK_RC=$?
}

# deliver EVENT FILE SIGNATURE [DELIVERY]: POST FILE as GitHub does (no
# signature header when SIGNATURE is empty); CODE is the answer's status,
# DELIVERY the X-GitHub-Delivery sent.
_h_n=0
deliver() {
	_h_n=$((_h_n + 1))
	DELIVERY=${4:-$(printf '72d3162e-cc78-11e3-81ab-%012d' "$_h_n")}
	if [ -n "$3" ]; then
		set -- "$1" "$2" -H "X-Hub-Signature-256: $3"
	else
		set -- "$1" "$2"
	fi
	_h_ev=$1 _h_file=$2
	shift 2
	CODE=$(curl -s -o "$SCRATCH/body" -w '%{http_code}' \
		-H "User-Agent: GitHub-Hookshot/044aadd" \
		-H "X-GitHub-Event: $_h_ev" -H "X-GitHub-Delivery: $DELIVERY" \
		-H "X-GitHub-Hook-ID: 30" -H 'Content-Type: application/json' \
		"$@" --data-binary @"$_h_file" "$HOOK_URL/github/receive")
}

# deliver_times N FILE: POST FILE, signed under $SECRET, N times, each
# given 10 s; CODES is the statuses, space-separated (000: no answer).
deliver_times() {
	CODES=
	_h_sig=$(sign "$2")
	_h_i=0
	while [ "$_h_i" -lt "$1" ]; do
		_h_i=$((_h_i + 1))
		CODES="$CODES$(curl -s -m 10 -o /dev/null -w '%{http_code}' \
			-H 'X-GitHub-Event: issues' -H "X-Hub-Signature-256: $_h_sig" \
			--data-binary @"$2" "$HOOK_URL/github/receive") "
	done
}

# get PATH: GET it; CODE, body in $SCRATCH/body, headers in $SCRATCH/headers.
get() {
	CODE=$(curl -s -o "$SCRATCH/body" -D "$SCRATCH/headers" -w '%{http_code}' "$HOOK_URL$1")
}

# header NAME: its value in the last get's answer.
header() {
	sed -n "s/^$1: \\(.*\\)\\r\$/\\1/p" "$SCRATCH/headers"
}

# last_log: the receiver's last stderr line.
last_log() { tail -n 1 "$SCRATCH/hook.err"; }

# start_signed_hook SECRET [ARG...]: Redis, then a receiver (start_hook
# ARG...) that requires deliveries signed with SECRET, kept in $SECRET.
start_signed_hook() {
	start_redis
	SECRET=$1
	shift
	WB_HOOK_SECRET=$SECRET
	export WB_HOOK_SECRET
	start_hook "$@"
}

# hook_client NAME READY ARG... <SCRIPT: the Python script SCRIPT run in
# the background against the receiver, with the arguments $HOOK_PORT,
# $SCRATCH/READY and ARG..., its output in $SCRATCH/NAME.out, killed at
# exit; returns once it has written $SCRATCH/READY (within 60 s).
# CLIENT_PID is its pid.
hook_client() {
	_h_name=$1 _h_ready=$SCRATCH/$2
	shift 2
	cat >"$SCRATCH/$_h_name.py"
	python3 "$SCRATCH/$_h_name.py" "$HOOK_PORT" "$_h_ready" "$@" >"$SCRATCH/$_h_name.out" &
	CLIENT_PID=$!
	atexit "kill $CLIENT_PID 2>/dev/null"
	wait_for 60 test -s "$_h_ready"
}
