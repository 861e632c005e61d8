#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-bulk facing a 404 (a wrong WB_ES, a proxy without the API): fatal, and
# the message names the API path but never the credentials of WB_ES, with
# or without a trailing slash (review finding 4).
. "${0%/*}/lib.sh"
plan 4

D=$SCRATCH/data
WB_DATA=$D
export WB_DATA
mkdir -p "$D/current/1"
echo '{"number":1}' >"$D/current/1/issue.json"
echo '[]' >"$D/current/1/timeline.json"

# A server that answers 404 to everything, as a reverse proxy with no
# such location does.
cat >"$SCRATCH/s404.py" <<'PY'
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"error":"no handler found"}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.server_port)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
/usr/bin/python3 "$SCRATCH/s404.py" "$SCRATCH/port" &
pid=$!
atexit "kill $pid 2>/dev/null"
wait_for 10 test -s "$SCRATCH/port" || { echo "Bail out! the 404 server did not start"; exit 1; }
P=$(cat "$SCRATCH/port")

for slash in "" /; do
	run sh -c "echo 1 | WB_ES=http://elastic:hunter2@127.0.0.1:$P$slash wb-bulk"
	is "$RC:$OUT:$ERR" "100::wb-bulk: fatal: no Elasticsearch API at http://***@127.0.0.1:$P$slash (HTTP 404 for /_bulk)" "WB_ES ending in '$slash': fatal, the path named"
	unlike "$ERR" hunter2 "WB_ES ending in '$slash': the password not printed"
done
done_testing
