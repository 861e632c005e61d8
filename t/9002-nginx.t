#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# etc/nginx/wb.conf under a real nginx, installed as an operator would:
# Debian's nginx.conf with Debian's default site enabled beside it, only
# ports, paths and the certificate (self-signed here) filled in. Upstream
# stubs for the receiver, Elasticsearch and Kibana record every request
# that reaches them, so each rule is checked on both sides.
# shellcheck source=t/lib.sh
. "${0%/*}/lib.sh"
command -v nginx >/dev/null || PATH=$PATH:/usr/sbin
command -v nginx >/dev/null || skip_all "no nginx"
if ! [ -r /etc/nginx/nginx.conf ] || ! [ -r /etc/nginx/sites-available/default ]; then
	skip_all "no Debian nginx configuration in /etc/nginx"
fi
plan 88

H=wb.example.org
http=$(free_port)
https=$(free_port)
hook=$(free_port)
es=$(free_port)
kib=$(free_port)
N=$SCRATCH/nginx
mkdir -p "$N/sites-enabled" "$N/logs" "$SCRATCH/tls" "$SCRATCH/auth" \
	"$SCRATCH/www" "$SCRATCH/acme/.well-known/acme-challenge" \
	"$SCRATCH/data/current/42" "$SCRATCH/data/snapshots"

# The archive: an issue large enough to be compressed, a snapshot.
python3 -c 'import json; print(json.dumps({"number": 42, "title": "x" * 600, "labels": ["a"] * 50}), end="")' \
	>"$SCRATCH/data/current/42/issue.json"
printf '[]' >"$SCRATCH/data/current/42/timeline.json"
head -c 4000 /dev/urandom | gzip >"$SCRATCH/data/snapshots/20260101_0000.tar.gz"
ln -s 20260101_0000.tar.gz "$SCRATCH/data/snapshots/latest.tar.gz"
printf 'debian default\n' >"$SCRATCH/www/index.html"
printf 'token-body' >"$SCRATCH/acme/.well-known/acme-challenge/tok"

# One password file per area, the same user with another password in each.
printf 'ops:%s\n' "$(openssl passwd -6 archive)" >"$SCRATCH/auth/data.htpasswd"
printf 'ops:%s\n' "$(openssl passwd -6 search)" >"$SCRATCH/auth/elasticsearch.htpasswd"
printf 'ops:%s\n' "$(openssl passwd -6 dashboards)" >"$SCRATCH/auth/kibana.htpasswd"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$SCRATCH/tls/privkey.pem" -out "$SCRATCH/tls/fullchain.pem" \
	-days 2 -subj "/CN=$H" -addext "subjectAltName=DNS:$H" 2>"$SCRATCH/openssl.err" ||
	{ echo "Bail out! openssl could not make a certificate"; exit 1; }

# Upstream stub: logs "METHOD PATH BODY-LENGTH AUTHORIZATION SIGNATURE" for
# every request (before it answers), then answers JSON naming itself.
cat >"$SCRATCH/up.py" <<'PY'
import http.server, json, sys, threading
name, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        left = n
        while left > 0:
            got = self.rfile.read(min(left, 1 << 20))
            if not got:
                break
            left -= len(got)
        with lock, open(log, "a") as f:
            f.write("%s %s %d %s %s\n" % (self.command, self.path, n,
                    self.headers.get("Authorization", "-"),
                    self.headers.get("X-Hub-Signature-256", "-")))
        body = json.dumps({"upstream": name, "method": self.command,
                           "path": self.path, "pad": "p" * 400}).encode()
        self.send_response(202 if name == "hook" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = answer
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
for u in hook:$hook es:$es kibana:$kib; do
	python3 "$SCRATCH/up.py" "${u%:*}" "${u#*:}" "$SCRATCH/${u%:*}.log" &
	atexit "kill $!"
	: >"$SCRATCH/${u%:*}.log"
done
for p in $hook $es $kib; do
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$p/ready" ||
		{ echo "Bail out! stub on $p did not start"; exit 1; }
done
: >"$SCRATCH/hook.log"; : >"$SCRATCH/es.log"; : >"$SCRATCH/kibana.log"

# Where IPv6 loopback exists, the [::] listeners are kept (on ::1).
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	v6() { sed -e "s|listen \[::\]:80|listen [::1]:$http|" -e "s|listen \[::\]:443|listen [::1]:$https|"; }
else
	v6() { sed -e '/listen \[::\]:/d'; }
fi

# The site as shipped, with the operator's values (and a rate of one a
# minute, so that the burst is counted exactly).
sed -e "s|listen 80;|listen 127.0.0.1:$http;|" \
	-e "s|listen 443 ssl|listen 127.0.0.1:$https ssl|" \
	-e "s|/etc/letsencrypt/live/$H/|$SCRATCH/tls/|" \
	-e "s|/etc/nginx/wb/|$SCRATCH/auth/|" \
	-e "s|/var/lib/wb/|$SCRATCH/data/|" \
	-e "s|/var/www/html|$SCRATCH/acme|" \
	-e "s|127.0.0.1:8080|127.0.0.1:$hook|" \
	-e "s|127.0.0.1:9200|127.0.0.1:$es|" \
	-e "s|127.0.0.1:5601|127.0.0.1:$kib|" \
	-e "s|rate=20r/s|rate=1r/m|" \
	"$TOP/etc/nginx/wb.conf" | v6 >"$N/sites-enabled/wb"
# Debian's default site, on the same port.
sed -e "s|listen 80 default_server|listen 127.0.0.1:$http default_server|" \
	-e "s|root /var/www/html|root $SCRATCH/www|" \
	/etc/nginx/sites-available/default | v6 >"$N/sites-enabled/default"
# Debian's nginx.conf, its files in the scratch directory.
sed -e "s|^pid .*|pid $N/nginx.pid;|" \
	-e "s|/var/log/nginx/|$N/logs/|" \
	-e "s|include /etc/nginx/sites-enabled/\*;|include $N/sites-enabled/*;|" \
	-e "s|include /etc/nginx/conf.d/\*.conf;||" \
	-e "s|^http {|http {\\
	client_body_temp_path $N/body; proxy_temp_path $N/proxy;|" \
	/etc/nginx/nginx.conf >"$N/nginx.conf"
[ "$(id -u)" -eq 0 ] || sed -i '/^user /d' "$N/nginx.conf"
if ! grep -q "include $N/sites-enabled/" "$N/nginx.conf" ||
	! grep -q "^pid $N/nginx.pid;" "$N/nginx.conf"; then
	echo "Bail out! Debian's nginx.conf has changed shape"
	exit 1
fi
unlike "$(grep -nE 'listen +(\[::\]:)?(80|443)[ ;]|/etc/(nginx/wb|letsencrypt)|/var/(lib/wb|www)|:(8080|9200|5601);|r/s' "$N/sites-enabled/wb")" . \
	"every value the operator fills in was replaced for the test"

# nginx's workers drop root: let them read the test's files.
chmod 755 "$SCRATCH"
chmod -R a+rX "$SCRATCH/data" "$SCRATCH/www" "$SCRATCH/acme" "$SCRATCH/auth"

run nginx -t -c "$N/nginx.conf"
is "$RC" 0 "nginx -t accepts the site beside Debian's default"
unlike "$ERR" '\[(warn|error|crit|alert|emerg)\]' "nginx -t has nothing to warn about (no conflicting server name)"
# As shipped, on ports 80 and 443 (nginx -t binds them; in use is fine),
# once a certificate is where the site expects it.
if [ "$(id -u)" -ne 0 ]; then
	ok 0 "nginx -t on the site as shipped # SKIP ports 80 and 443 need root"
else
	mkdir -p "$N/shipped"
	cp /etc/nginx/sites-available/default "$N/shipped/default"
	sed -e "s|/etc/letsencrypt/live/$H/|$SCRATCH/tls/|" "$TOP/etc/nginx/wb.conf" >"$N/shipped/wb"
	sed -e "s|$N/sites-enabled/|$N/shipped/|" "$N/nginx.conf" >"$N/shipped.conf"
	run nginx -t -c "$N/shipped.conf"
	is "$RC $(printf '%s\n' "$ERR" | grep -cE '\[(warn|error|crit|alert|emerg)\]')" "0 0" \
		"nginx -t on the site as shipped, beside Debian's default site, without a warning"
fi
nginx -c "$N/nginx.conf" 2>"$N/start.err"
ok "$?" "nginx starts"
wait_for 10 test -s "$N/nginx.pid" || { echo "Bail out! no nginx pid"; exit 1; }
ngx_pid=$(cat "$N/nginx.pid")
# Bounded: the master and its workers are gone within seconds.
atexit "kill $ngx_pid 2>/dev/null; wait_for 10 sh -c '! kill -0 $ngx_pid'"
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$http/" ||
	{ echo "Bail out! nginx does not answer"; exit 1; }

S=https://$H:$https
P=http://$H:$http
c() {
	curl -s --cacert "$SCRATCH/tls/fullchain.pem" \
		--resolve "$H:$https:127.0.0.1" --resolve "$H:$http:127.0.0.1" "$@"
}
code() { c -o /dev/null -w '%{http_code}' "$@"; }
# get ARGS...: headers into $SCRATCH/h, body into $SCRATCH/b.
get() { c -D "$SCRATCH/h" -o "$SCRATCH/b" "$@"; }
# header NAME: its value in the last get (names are case-insensitive).
header() { tr -d '\r' <"$SCRATCH/h" | sed -n "s/^$1: //Ip"; }
A=ops:archive
E=ops:search
K=ops:dashboards

# Plain HTTP: redirected, but for the ACME challenge; other names are
# still Debian's default site.
get "$P/data/current/?x=1"
is "$(sed -n '1s/ *\r$//p' "$SCRATCH/h")" "HTTP/1.1 301 Moved Permanently" "HTTP is redirected"
is "$(header Location)" "https://$H/data/current/?x=1" "to the same path and query on HTTPS"
is "$(header Server)" "nginx" "no version in the Server header on HTTP"
is "$(code -X POST -d '{}' "$P/webhooks/github/receive")" 301 "a delivery over plain HTTP is redirected, not received"
is "$(c "$P/.well-known/acme-challenge/tok")" "token-body" "the ACME challenge is answered on plain HTTP"
is "$(c -H 'Host: elsewhere.example' "http://127.0.0.1:$http/")" "debian default" "other host names still reach Debian's default site"
is "$(c "http://127.0.0.1:$http/")" "debian default" "and so does a request by address"

# HTTPS: the certificate verifies for the server name; headers.
get "$S/"
is "$(sed -n '1s/ *\r$//p' "$SCRATCH/h")" "HTTP/2 404" "HTTPS (HTTP/2, verified certificate) answers 404 outside the four areas"
is "$(header Server)" "nginx" "no version in the Server header on HTTPS"
is "$(header Strict-Transport-Security)" "max-age=31536000" "HSTS, even on an error"
get -u "$A" "$S/data/current/42/issue.json"
is "$(header X-Content-Type-Options)" "nosniff" "X-Content-Type-Options"
is "$(header X-Frame-Options)" "SAMEORIGIN" "X-Frame-Options"
is "$(header Referrer-Policy)" "same-origin" "Referrer-Policy"
is "$(header Content-Security-Policy)" "default-src 'none'; frame-ancestors 'self'" "Content-Security-Policy"
is "$(header Strict-Transport-Security)" "max-age=31536000" "HSTS on a file"

# /data/: the archive.
is "$(code "$S/data/")" 401 "/data/ needs credentials"
is "$(code -u ops:wrong "$S/data/")" 401 "a wrong password is refused"
is "$(code -u "$E" "$S/data/")" 401 "Elasticsearch's password does not open the archive"
like "$(c -u "$A" "$S/data/current/")" 'href="42/"' "autoindex lists the archive"
get -u "$A" "$S/data/current/42/issue.json"
cmp -s "$SCRATCH/b" "$SCRATCH/data/current/42/issue.json"
ok "$?" "an archive file is served as it is"
is "$(header Content-Type)" "application/json" "as application/json"
is "$(header Content-Encoding)" "" "uncompressed to a client that does not ask"
get -u "$A" -H 'Accept-Encoding: gzip' "$S/data/current/42/issue.json"
is "$(header Content-Encoding)" "gzip" "JSON is gzip-encoded with Accept-Encoding: gzip"
is "$(header Vary)" "Accept-Encoding" "with Vary: Accept-Encoding"
gunzip -c <"$SCRATCH/b" | cmp -s - "$SCRATCH/data/current/42/issue.json"
ok "$?" "and decompresses to the file"
[ "$(wc -c <"$SCRATCH/b")" -lt "$(($(wc -c <"$SCRATCH/data/current/42/issue.json") / 4))" ]
ok "$?" "to less than a quarter of its size"
get -u "$A" -H 'Accept-Encoding: gzip' "$S/data/snapshots/latest.tar.gz"
is "$(header Content-Type)" "application/gzip" "a snapshot is application/gzip"
is "$(header Content-Encoding)" "" "and not compressed again"
cmp -s "$SCRATCH/b" "$SCRATCH/data/snapshots/20260101_0000.tar.gz"
ok "$?" "latest.tar.gz is the newest snapshot, as it is"
is "$(code -u "$A" -X POST -d x "$S/data/current/42/issue.json")" 405 "the archive is read-only"

# /webhooks/: the receiver's path only, POST only, rate and body limited.
get -X POST -H 'Content-Type: application/json' -H 'X-Hub-Signature-256: sha256=0a' \
	-d '{}' "$S/webhooks/github/receive?n=1"
is "$(sed -n '1s/ *\r$//p' "$SCRATCH/h")" "HTTP/2 202" "a delivery reaches the receiver and its answer comes back"
is "$(jq -r .path "$SCRATCH/b")" "/github/receive?n=1" "at the receiver's path (POST /github/receive)"
is "$(tail -n 1 "$SCRATCH/hook.log")" "POST /github/receive?n=1 2 - sha256=0a" "with its body and signature"
is "$(code "$S/webhooks/github/receive")" 403 "GET on the receiver's path is refused"
is "$(code "$S/webhooks/metrics")" 404 "the receiver's metrics are not published"
is "$(code "$S/webhooks/healthz")" 404 "nor its health check"
is "$(code -X POST -d '{}' "$S/webhooks/github/receive/x")" 404 "nor any other path"
truncate -s 26214400 "$SCRATCH/25m"
truncate -s 26214401 "$SCRATCH/25m+1"
truncate -s 27262976 "$SCRATCH/26m"
is "$(code --http1.1 -X POST -H 'Content-Type: application/json' --data-binary @"$SCRATCH/25m" "$S/webhooks/github/receive?n=25m")" 202 "a 25 MB delivery (GitHub's largest) is received"
is "$(code --http1.1 -X POST -H 'Content-Type: application/json' --data-binary @"$SCRATCH/25m+1" "$S/webhooks/github/receive?n=25m1")" 413 "one byte more is refused with 413"
is "$(code -X POST -H 'Content-Type: application/json' --data-binary @"$SCRATCH/26m" "$S/webhooks/github/receive?n=26m")" 413 "a 26 MB body is refused with 413"
is "$(code -X POST -d '{}' -H 'Content-Length: 26214401' "$S/webhooks/github/receive?n=cl")" 413 "so is a Content-Length above 25 MB"
rm -f "$SCRATCH/25m" "$SCRATCH/25m+1" "$SCRATCH/26m"
# A burst from another address: the first 1 + burst (100) pass, the rest 429.
set --
i=0
while [ $i -lt 110 ]; do
	set -- "$@" -o /dev/null "$S/webhooks/github/receive?burst"
	i=$((i + 1))
done
burst=$(c --interface 127.0.0.3 -X POST -d '{}' -w '%{http_code}\n' "$@" | uniq -c | awk '{printf "%s%sx%s", s, $1, $2; s=" "}')
is "$burst" "101x202 9x429" "a burst of 110 deliveries: 101 received, then 429"
is "$(grep -c 'burst' "$SCRATCH/hook.log")" 101 "the receiver saw exactly the 101"
is "$(code -X POST -d '{}' "$S/webhooks/github/receive?n=2")" 202 "another client is not limited by that burst"
is "$(grep -v burst "$SCRATCH/hook.log")" "POST /github/receive?n=1 2 - sha256=0a
POST /github/receive?n=25m 26214400 - -
POST /github/receive?n=2 2 - -" "nothing else reached the receiver"

# /elasticsearch/: read-only, its own password, which stops at nginx.
is "$(code "$S/elasticsearch/issues/_count")" 401 "/elasticsearch/ needs credentials"
is "$(code -u "$A" "$S/elasticsearch/issues/_count")" 401 "the archive's password does not open it"
is "$(code -u "$K" "$S/elasticsearch/issues/_count")" 401 "nor Kibana's"
is "$(code -u "$A" -X DELETE "$S/elasticsearch/issues")" 403 "a DELETE is refused before any password is asked"
get -u "$E" -H 'Accept-Encoding: gzip' "$S/elasticsearch/issues/_count"
is "$(sed -n '1s/ *\r$//p' "$SCRATCH/h")" "HTTP/2 200" "GET is passed"
is "$(gunzip -c <"$SCRATCH/b" | jq -r .path)" "/issues/_count" "without the /elasticsearch prefix"
is "$(header Content-Encoding)" "gzip" "Elasticsearch's JSON is gzip-encoded too"
is "$(code -u "$E" -I "$S/elasticsearch/issues")" 200 "HEAD is passed"
is "$(code -u "$E" "$S/elasticsearch/_cat/indices?v")" 200 "GET anywhere is passed"
is "$(code -u "$E" -X POST -d '{}' "$S/elasticsearch/issues/_search")" 200 "POST to INDEX/_search is passed"
is "$(code -u "$E" -X POST -d '{}' "$S/elasticsearch/_search?size=0")" 200 "POST to _search is passed"
is "$(code -u "$E" -X POST -d '{}' "$S/elasticsearch/issues,timelines/_count")" 200 "POST to INDEX,INDEX/_count is passed"
is "$(code -u "$E" -X POST -d '{}' "$S/elasticsearch/_msearch")" 200 "POST to _msearch is passed"
is "$(code -u "$E" -X POST -d '{}' "$S/elasticsearch/_all/_msearch")" 200 "POST to _all/_msearch is passed"
is "$(code -u "$E" -X DELETE "$S/elasticsearch/issues")" 403 "DELETE is refused"
is "$(code -u "$E" -X PUT -d '{}' "$S/elasticsearch/issues/_doc/1")" 403 "PUT is refused"
is "$(code -u "$E" -X POST -d '{}' "$S/elasticsearch/issues/_doc")" 403 "POST to _doc is refused"
is "$(code -u "$E" -X POST -d '{}' "$S/elasticsearch/_bulk")" 403 "POST to _bulk is refused"
is "$(code -u "$E" -X POST -d '{}' "$S/elasticsearch/issues/_delete_by_query?x=/_search")" 403 "POST to _delete_by_query is refused, whatever its query"
is "$(code -u "$E" --path-as-is -X POST -d '{}' "$S/elasticsearch/issues/_search/../_update_by_query")" 403 "a dot-dot path to _update_by_query is refused"
is "$(code -u "$E" -X POST -d '{}' "$S/elasticsearch/issues/%5Fdelete_by_query")" 403 "an escaped one too"
is "$(code -u "$E" -X POST -d '{}' "$S/elasticsearch/_search/scroll")" 403 "POST to another path under _search is refused"
is "$(code -u "$E" -X POST -d '{}' "$S/elasticsearch/_security/_search")" 403 "and under another API's name"
is "$(code -u "$E" -X PATCH -d '{}' "$S/elasticsearch/issues/_search")" 403 "PATCH even to _search is refused"
is "$(code -u "$E" -X DELETE "$S/elasticsearch/_search")" 403 "DELETE even to _search is refused"
is "$(code -u "$E" -X PUT -d '{}' "$S/elasticsearch/issues/_count")" 403 "PUT even to _count is refused"
is "$(code -u "$E" -X OPTIONS "$S/elasticsearch/issues")" 403 "OPTIONS is refused"
is "$(code -u "$E" -X POST -d '{}' "$S/elasticsearch/issues%3F/_search")" 403 "an index name with a ? in it is no search"
is "$(cat "$SCRATCH/es.log")" "GET /issues/_count 0 - -
HEAD /issues 0 - -
GET /_cat/indices?v 0 - -
POST /issues/_search 2 - -
POST /_search?size=0 2 - -
POST /issues,timelines/_count 2 - -
POST /_msearch 2 - -
POST /_all/_msearch 2 - -" "Elasticsearch saw the reads only, without the password"

# /kibana/: its own password, which stops at nginx too.
is "$(code "$S/kibana/app/home")" 401 "/kibana/ needs credentials"
is "$(code -u "$A" "$S/kibana/app/home")" 401 "the archive's password does not open it"
is "$(code -u "$E" "$S/kibana/app/home")" 401 "nor Elasticsearch's"
get -u "$K" "$S/kibana/app/home"
is "$(sed -n '1s/ *\r$//p' "$SCRATCH/h")" "HTTP/2 200" "Kibana answers with its password"
is "$(header Content-Security-Policy)" "" "Kibana's pages keep their own Content-Security-Policy"
is "$(code -u "$K" -X POST -d '{}' "$S/kibana/api/saved_objects/_find")" 200 "Kibana's API takes POST"
get "$S/kibana"
is "$(sed -n '1s/ *\r$//p' "$SCRATCH/h") $(header Location)" "HTTP/2 301 $S/kibana/" "/kibana is redirected to /kibana/"
is "$(cat "$SCRATCH/kibana.log")" "GET /kibana/app/home 0 - -
POST /kibana/api/saved_objects/_find 2 - -" "Kibana saw only those, at its base path, without the password"

unlike "$(grep -E '\[(crit|alert|emerg)\]' "$N/logs/error.log")" . "nginx logged nothing critical"
done_testing
