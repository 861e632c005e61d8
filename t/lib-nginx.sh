# SPDX-License-Identifier: MPL-2.0
# start_nginx PORT DATA UPSTREAM: etc/nginx/wb.conf under a real nginx,
# its HTTPS server on 127.0.0.1:PORT (certificate self-signed for its
# server name), the archive DATA as /data/ behind basic auth (user ops,
# password sekret), the receiver, Elasticsearch and Kibana proxied to
# 127.0.0.1:UPSTREAM; stopped at exit. Sets NGINX_URL and NGINX_CURL (the
# curl options that reach it: --resolve and --cacert). Returns non-zero if
# nginx does not start. Sourced after t/lib.sh; POSIX sh. t/9002 tests the
# site itself, beside Debian's default site.
# shellcheck shell=sh
command -v nginx >/dev/null || PATH=$PATH:/usr/sbin

start_nginx() {
	_n=$SCRATCH/nginx
	_h=wb.example.org
	mkdir -p "$_n/logs" "$_n/tls" "$_n/auth" "$_n/www"
	for _a in data elasticsearch kibana; do
		printf 'ops:%s\n' "$(openssl passwd -6 sekret)" >"$_n/auth/$_a.htpasswd"
	done
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$_n/tls/privkey.pem" -out "$_n/tls/fullchain.pem" \
		-days 2 -subj "/CN=$_h" -addext "subjectAltName=DNS:$_h" \
		2>"$_n/openssl.err" || return 1
	# nginx's workers drop root: let them read the test's files.
	chmod 755 "$SCRATCH"
	chmod -R a+rX "$_n" "$2"
	sed -e "s|listen 80;|listen 127.0.0.1:$(free_port);|" \
		-e "s|listen 443 ssl|listen 127.0.0.1:$1 ssl|" \
		-e '/listen \[::\]:/d' \
		-e "s|/etc/letsencrypt/live/$_h/|$_n/tls/|" \
		-e "s|/etc/nginx/wb/|$_n/auth/|" \
		-e "s|/var/lib/wb/|$2/|" \
		-e "s|/var/www/html|$_n/www|" \
		-e "s|127.0.0.1:8080|127.0.0.1:$3|" \
		-e "s|127.0.0.1:9200|127.0.0.1:$3|" \
		-e "s|127.0.0.1:5601|127.0.0.1:$3|" \
		"$TOP/etc/nginx/wb.conf" >"$_n/site.conf"
	cat >"$_n/nginx.conf" <<EOC
daemon on;
pid $_n/nginx.pid;
error_log $_n/logs/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $_n/body;
	proxy_temp_path $_n/proxy;
	include /etc/nginx/mime.types;
	include $_n/site.conf;
}
EOC
	nginx -p "$_n" -c "$_n/nginx.conf" 2>"$_n/start.err" || return 1
	# shellcheck disable=SC2016 # expanded at exit
	atexit 'kill $(cat "$SCRATCH/nginx/nginx.pid") 2>/dev/null'
	NGINX_URL=https://$_h:$1
	NGINX_CURL="--resolve $_h:$1:127.0.0.1 --cacert $_n/tls/fullchain.pem"
	wait_for 10 test -s "$_n/nginx.pid" || return 1
	# shellcheck disable=SC2086 # options, split on purpose
	wait_for 10 curl -s -o /dev/null $NGINX_CURL "$NGINX_URL/"
}
