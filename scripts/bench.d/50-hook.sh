#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-hook under load: wrk on loopback, 64 connections, signed 8 KB
# "issues" deliveries (secret set), every answer 202; against nginx
# answering `return 202;` to the same requests in the same run, the
# practical ceiling of this machine. Peak RSS of wb-hook under that load.
# The same load while GET /metrics is scraped every second, against the
# load without it: throughput and p99 must stay within 5 %.
#   HOOK_BENCH_RUNS (3) runs of HOOK_BENCH_SECONDS (5) s each, alternated.
# shellcheck shell=sh disable=SC2034
. "$(dirname "$0")/../bench-lib.sh"

runs=${HOOK_BENCH_RUNS:-3}
secs=${HOOK_BENCH_SECONDS:-5}
SECRET=bench-secret-0123456789abcdef
start_redis >/dev/null

# An 8 KB "issues"/"edited" payload, shaped as GitHub sends it, signed.
python3 - "$SECRET" "$SCRATCH/payload.json" "$SCRATCH/signature" <<'EOP'
import hashlib, hmac, json, sys
secret, out, sigout = sys.argv[1].encode(), sys.argv[2], sys.argv[3]
def payload(text):
    n = 4242
    return {"action": "edited",
     "issue": {"url": "https://api.github.com/repos/webcompat/web-bugs/issues/%d" % n,
       "repository_url": "https://api.github.com/repos/webcompat/web-bugs",
       "html_url": "https://github.com/webcompat/web-bugs/issues/%d" % n,
       "id": 1000000000 + n, "node_id": "I_kwDOA2TDQ85", "number": n,
       "title": "www.example.com - site is not usable",
       "user": {"login": "webcompat-bot", "id": 8862693, "type": "User", "site_admin": False},
       "labels": [{"id": 208045946, "name": "browser-firefox", "color": "ededed", "default": False}],
       "state": "open", "locked": False, "assignee": None, "assignees": [],
       "milestone": {"id": 1, "number": 2, "title": "needstriage", "state": "open"},
       "comments": 3, "created_at": "2026-11-27T10:00:00Z", "updated_at": "2026-11-28T01:00:00Z",
       "closed_at": None, "author_association": "NONE", "body": text},
     "changes": {"body": {"from": "<!-- @browser: Firefox 120.0 -->"}},
     "repository": {"id": 56943171, "node_id": "MDEwOlJlcG9zaXRvcnk1Njk0MzE3MQ==",
       "name": "web-bugs", "full_name": "webcompat/web-bugs", "private": False,
       "owner": {"login": "webcompat", "id": 17014936, "type": "Organization"}},
     "organization": {"login": "webcompat", "id": 17014936},
     "sender": {"login": "octocat", "id": 583231, "type": "User", "site_admin": False}}
line = "**Steps to Reproduce**: caf\u00e9 \u2014 click \"Log in\", nothing happens.\n"
text = ""
while len(json.dumps(payload(text + line), separators=(",", ":")).encode()) <= 8192:
    text += line
body = json.dumps(payload(text), separators=(",", ":")).encode()
body = json.dumps(payload(text + "x" * (8192 - len(body))), separators=(",", ":")).encode()
assert len(body) == 8192, len(body)
open(out, "wb").write(body)
open(sigout, "w").write("sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest())
EOP
cat >"$SCRATCH/post.lua" <<EOL
wrk.method = "POST"
local f = io.open("$SCRATCH/payload.json", "rb")
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "GitHub-Hookshot/044aadd"
wrk.headers["X-GitHub-Event"] = "issues"
wrk.headers["X-GitHub-Delivery"] = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
wrk.headers["X-Hub-Signature-256"] = "$(cat "$SCRATCH/signature")"
EOL

hook_port=$(free_port)
WB_HOOK_SECRET=$SECRET WB_HOOK_LISTEN=127.0.0.1:$hook_port wb-hook -d 3 \
	3>"$SCRATCH/ready" 2>"$SCRATCH/hook.err" &
hook_pid=$!
atexit "kill $hook_pid 2>/dev/null"
wait_for 10 test -s "$SCRATCH/ready" || { echo "bench: wb-hook did not start" >&2; exit 1; }

mkdir -p "$SCRATCH/nginx"
nginx_port=$(free_port)
cat >"$SCRATCH/nginx/nginx.conf" <<EOC
worker_processes auto;
daemon off;
pid $SCRATCH/nginx/nginx.pid;
error_log $SCRATCH/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $SCRATCH/nginx/body;
	proxy_temp_path $SCRATCH/nginx/proxy;
	fastcgi_temp_path $SCRATCH/nginx/fastcgi;
	uwsgi_temp_path $SCRATCH/nginx/uwsgi;
	scgi_temp_path $SCRATCH/nginx/scgi;
	client_max_body_size 25m;
	server {
		listen 127.0.0.1:$nginx_port;
		location / { return 202; }
	}
}
EOC
nginx -e "$SCRATCH/nginx/error.log" -c "$SCRATCH/nginx/nginx.conf" &
nginx_pid=$!
atexit "kill $nginx_pid 2>/dev/null"
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" || { echo "bench: nginx did not start" >&2; exit 1; }

# load NAME PORT: one wrk run; appends "rps p99_ms non2xx" to $SCRATCH/res-NAME.
load() {
	wrk -t2 -c64 -d"${secs}s" --latency -s "$SCRATCH/post.lua" \
		"http://127.0.0.1:$2/github/receive" >"$SCRATCH/wrk.out" 2>&1
	awk '
	/Requests\/sec:/ { rps = $2 }
	/^ +99%/ { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		p99 = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v }
	/Non-2xx/ { bad = $NF }
	/Socket errors/ { bad = bad "+sock" }
	END { printf "%.0f %.2f %s\n", rps, p99, bad == "" ? 0 : bad }' \
		"$SCRATCH/wrk.out" >>"$SCRATCH/res-$1"
}

# scraped NAME PORT: load() while GET /metrics is scraped every second
# (every scrape must be a 200).
scraped() {
	( while :; do
		curl -s -o /dev/null -w '%{http_code}\n' \
			"http://127.0.0.1:$2/metrics" >>"$SCRATCH/scrapes"
		sleep 1
	done ) &
	scraper=$!
	load "$1" "$2"
	kill "$scraper"
	wait "$scraper" 2>/dev/null
}

i=0
while [ "$i" -lt "$runs" ]; do
	i=$((i + 1))
	load hook "$hook_port"
	scraped scraped "$hook_port"
	load nginx "$nginx_port"
done
peak_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$hook_pid/status")

# field RUN COLUMN: a column of the runs' results.
field() { cut -d' ' -f"$2" "$SCRATCH/res-$1"; }
hook_rps=$(field hook 1 | median)
nginx_rps=$(field nginx 1 | median)
hook_p99=$(field hook 2 | median)
scraped_rps=$(field scraped 1 | median)
scraped_p99=$(field scraped 2 | median)
scrapes=$(grep -c . "$SCRATCH/scrapes")
failed_scrapes=$(grep -vc '^200$' "$SCRATCH/scrapes")
nginx_p99=$(field nginx 2 | median)
# Every answer must have been 202: wrk saw no other status and no socket
# error, and every delivery wb-hook logged was queued.
bad=$(cat "$SCRATCH/res-hook" "$SCRATCH/res-scraped" | cut -d" " -f3 | grep -vc '^0$')
others=$(grep -v -e ': 202 queued$' -e ': info: listening on ' "$SCRATCH/hook.err" | grep -c .)
kill "$hook_pid"
wait "$hook_pid"
kill "$nginx_pid"
wait "$nginx_pid" 2>/dev/null

row "wb-hook req/s, 64 conns, signed 8 KB (ref: nginx 202)" "$hook_rps" "$nginx_rps" "$(ratio "$hook_rps" "$nginx_rps")"
row "wb-hook p99 latency ms (ref: nginx 202)" "$hook_p99" "$nginx_p99" "$(ratio "$hook_p99" "$nginx_p99")"
row "same, /metrics scraped each second: req/s (ref: unscraped)" "$scraped_rps" "$hook_rps" "$(ratio "$scraped_rps" "$hook_rps")"
row "same, /metrics scraped each second: p99 ms (ref: unscraped)" "$scraped_p99" "$hook_p99" "$(ratio "$scraped_p99" "$hook_p99")"
row "wb-hook peak RSS KB under that load" "$peak_kb" "16384" "$(ratio "$peak_kb" 16384)"
if [ "$scrapes" -eq 0 ] || [ "$failed_scrapes" -ne 0 ]; then
	echo "bench: 50-hook: $failed_scrapes of $scrapes scrapes of /metrics were not 200" >&2
	exit 1
fi
if [ "$bad" -ne 0 ] || [ "$others" -ne 0 ]; then
	echo "bench: 50-hook: answers other than 202: wrk runs $bad, log lines $others" >&2
	grep -v ': 202 queued$' "$SCRATCH/hook.err" | head -n 5 >&2
	exit 1
fi
