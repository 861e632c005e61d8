#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The configuration check of every service (wb-envcheck in its run
# script), under a real s6-svscan with the run scripts as shipped (only
# the env directory's path substituted, no user switch): a missing env
# directory (each of the five services), WB_DATA unset, WB_DATA relative,
# and a receiver listening beyond loopback without WB_HOOK_SECRET each
# take the service down for good (exit 100, ./finish answers 125: not
# restarted), with one line naming the fix in its log. A receiver on
# loopback without a secret, or beyond loopback with one, starts.
. "${0%/*}/lib.sh"
. "$T_DIR/lib-s6.sh"
plan 19
start_redis
unset WB_DATA WB_HOOK_SECRET WB_HOOK_LISTEN

# lay NAME SERVICE ENVDIR: the service SERVICE (as make builds it from s6/)
# as $SCAN/NAME reading ENVDIR.
lay() {
	cp -R "$WB_BUILD/s6/$2" "$SCAN/$1"
	rm -rf "$SCAN/$1/log"
	sed -e "s|/etc/wb/env|$3|" -e '/^s6-setuidgid /d' "$WB_BUILD/s6/$2/run" >"$SCAN/$1/run"
}
# envdir DIR VAR=VALUE...: an env directory holding PATH, WB_REDIS and these.
envdir() {
	_d=$1
	shift
	mkdir -p "$_d"
	printf '%s' "$WB_BUILD/bin:$TOP/scripts:/usr/lib/execline/bin:/usr/bin:/bin" >"$_d/PATH"
	printf '%s' "unix://$REDIS_SOCK" >"$_d/WB_REDIS"
	for _kv in "$@"; do printf '%s' "${_kv#*=}" >"$_d/${_kv%%=*}"; done
}
# gone NAME: down, not wanted up, the last exit 100.
gone() { [ "$(s6-svstat -o up,wantedup,exitcode "$SCAN/$1" 2>/dev/null)" = "false false 100" ]; }
said() { grep -cxF "$1" "$SVSCAN_LOG"; }

for s in wb-catchup wb-downloader wb-hook wb-indexer wb-metrics; do
	lay "nodir-$s" "$s" "$SCRATCH/absent"
done
envdir "$SCRATCH/e-unset"
lay data-unset wb-downloader "$SCRATCH/e-unset"
envdir "$SCRATCH/e-rel" WB_DATA=data
lay data-relative wb-indexer "$SCRATCH/e-rel"
P1=$(free_port)
envdir "$SCRATCH/e-open" "WB_DATA=$SCRATCH/data" "WB_HOOK_LISTEN=0.0.0.0:$P1"
lay hook-open wb-hook "$SCRATCH/e-open"
P2=$(free_port)
envdir "$SCRATCH/e-lo" "WB_DATA=$SCRATCH/data" "WB_HOOK_LISTEN=127.0.0.1:$P2"
lay hook-loopback wb-hook "$SCRATCH/e-lo"
P3=$(free_port)
envdir "$SCRATCH/e-signed" "WB_DATA=$SCRATCH/data" "WB_HOOK_LISTEN=0.0.0.0:$P3" WB_HOOK_SECRET=s3cret-9014
lay hook-signed wb-hook "$SCRATCH/e-signed"
svscan_start

for s in wb-catchup wb-downloader wb-hook wb-indexer wb-metrics; do
	wait_for 10 gone "nodir-$s"
	ok $? "$s without its env directory: down for good (exit 100, not restarted)"
done
is "$(said "wb-envcheck: fatal: unable to read the env directory $SCRATCH/absent: no such directory (make it with wb-setup, see wb-setup(8))")" 5 "each of the five says the env directory is missing and how to make it, once"
wait_for 10 gone data-unset
ok $? "WB_DATA unset: the downloader is down for good"
is "$(said "wb-envcheck: fatal: WB_DATA is not set: write the archive's absolute path into $SCRATCH/e-unset/WB_DATA")" 1 "WB_DATA unset: the fix named, once"
wait_for 10 gone data-relative
ok $? "WB_DATA relative: the indexer is down for good"
is "$(said "wb-envcheck: fatal: WB_DATA is not an absolute path: write one into $SCRATCH/e-rel/WB_DATA")" 1 "WB_DATA relative: the fix named, once"
wait_for 10 gone hook-open
ok $? "the receiver on 0.0.0.0 without a secret: down for good"
is "$(said "wb-envcheck: fatal: WB_HOOK_SECRET is not set and WB_HOOK_LISTEN is beyond loopback: write the webhook secret into $SCRATCH/e-open/WB_HOOK_SECRET, or listen on 127.0.0.1")" 1 "the receiver without a secret: the fix named, once"
run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P1/healthz"
is "$OUT" 000 "nothing listens on its port"

is "$(s6-svwait -U -t 10000 "$SCAN/hook-loopback"; echo $?)" 0 "the receiver on loopback without a secret starts and is ready"
is "$(s6-svwait -U -t 10000 "$SCAN/hook-signed"; echo $?)" 0 "the receiver beyond loopback with a secret starts and is ready"
is "$(s6-svstat -o up,wantedup "$SCAN/hook-signed")" "true true" "and stays up"
is "$(grep -c 'hook-loopback\|hook-signed\|e-lo\|e-signed\|s3cret' "$SVSCAN_LOG")" 0 "no complaint about the sound ones, the secret never printed"

# The check alone: usage, and the sound configuration chain-loads.
run env WB_DATA=/srv/wb "$TOP/scripts/wb-envcheck" "$SCRATCH/e-lo" echo chained
is "$RC:$OUT" "0:chained" "a sound configuration: the program is executed"
run "$TOP/scripts/wb-envcheck"
is "$RC:$ERR" "100:wb-envcheck: usage: wb-envcheck [-l] dir [prog...]" "no directory: usage, exit 100"
done_testing
