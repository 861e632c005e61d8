# start_nginx PORT DATA UPSTREAM: etc/nginx/wb.conf under a real nginx on
# 127.0.0.1:PORT, the archive DATA as /data/ behind basic auth (user ops,
# password sekret), /webhooks/ and /elasticsearch/ proxied to
# 127.0.0.1:UPSTREAM; stopped at exit. Returns non-zero if nginx does not
# start. Sourced after t/lib.sh; POSIX sh.
# shellcheck shell=sh
command -v nginx >/dev/null || PATH=$PATH:/usr/sbin

start_nginx() {
	mkdir -p "$SCRATCH/nginx/logs"
	printf 'ops:%s\n' "$(openssl passwd -apr1 sekret)" >"$SCRATCH/htpasswd"
	# nginx's workers drop root: let them read the test's files.
	chmod 755 "$SCRATCH"
	chmod 644 "$SCRATCH/htpasswd"
	sed -e "s|listen 80;|listen 127.0.0.1:$1;|" \
		-e "s|/srv/wb/data/|$2/|" \
		-e "s|/etc/nginx/wb.htpasswd|$SCRATCH/htpasswd|" \
		-e "s|server 127.0.0.1:8080;|server 127.0.0.1:$3;|" \
		-e "s|server 127.0.0.1:9200;|server 127.0.0.1:$3;|" \
		"$TOP/etc/nginx/wb.conf" >"$SCRATCH/nginx/site.conf"
	cat >"$SCRATCH/nginx/nginx.conf" <<EOC
daemon on;
pid $SCRATCH/nginx/nginx.pid;
error_log $SCRATCH/nginx/logs/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $SCRATCH/nginx/body;
	proxy_temp_path $SCRATCH/nginx/proxy;
	include /etc/nginx/mime.types;
	include $SCRATCH/nginx/site.conf;
}
EOC
	nginx -p "$SCRATCH/nginx" -c "$SCRATCH/nginx/nginx.conf" 2>"$SCRATCH/nginx/start.err" ||
		return 1
	# shellcheck disable=SC2016 # expanded at exit
	atexit 'kill $(cat "$SCRATCH/nginx/nginx.pid") 2>/dev/null'
	wait_for 10 test -s "$SCRATCH/nginx/nginx.pid" &&
		wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$1/"
}
