#!/bin/sh
# etc/nginx/wb.conf under a real nginx: the archive behind basic auth with
# autoindex, /webhooks/ and /elasticsearch/ proxied.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-nginx.sh"
plan 8

port=$(free_port)
up=$(free_port)
mkdir -p "$SCRATCH/data/current/42"
printf '{"number":42}' > "$SCRATCH/data/current/42/issue.json"

# A stand-in upstream that echoes the path it was asked for.
cat > "$SCRATCH/up.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        body = ("%s %s" % (self.command, self.path)).encode()
        self.send_response(202)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = answer
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$SCRATCH/up.py" "$up" &
atexit "kill $!"
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$up/"
start_nginx "$port" "$SCRATCH/data" "$up"
ok "$?" "nginx starts with the site"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
is "$(code "http://127.0.0.1:$port/data/")" 401 "/data/ needs credentials"
is "$(code -u ops:wrong "http://127.0.0.1:$port/data/")" 401 "wrong password refused"
like "$(curl -s -u ops:sekret "http://127.0.0.1:$port/data/current/")" 'href="42/"' "autoindex lists the archive"
is "$(curl -s -u ops:sekret "http://127.0.0.1:$port/data/current/42/issue.json")" '{"number":42}' "archive files served as they are"
is "$(curl -s -X POST -d '{}' "http://127.0.0.1:$port/webhooks/github/receive")" "POST /github/receive" "/webhooks/ proxied to the receiver's path"
is "$(code "http://127.0.0.1:$port/elasticsearch/_count")" 401 "/elasticsearch/ needs credentials"
is "$(curl -s -u ops:sekret "http://127.0.0.1:$port/elasticsearch/issues/_count")" "GET /issues/_count" "/elasticsearch/ proxied"
done_testing
