# SPDX-License-Identifier: MPL-2.0
# Helpers for tests that run wb's services under a real s6-svscan.
# Sourced after t/lib.sh; POSIX sh.
#
#   svc_env VAR...         write the named variables (and PATH, WB_DATA)
#                          into the envdir
#   svc_add NAME           lay out the service NAME (as make builds it from
#                          s6/, in $WB_BUILD/s6) in the scan dir, as scripts/run
#                          does (envdir, no user switch), without its logger:
#                          what it says goes to $SVSCAN_LOG
#   svscan_start           start s6-svscan on the scan dir (stopped at exit)
#   svc_pid NAME           the supervised pid, 0 when down
#   svc_stages NAME        "pid comm" of the supervised process's children
#   svc_procs NAME         pids of every process whose current directory
#                          is the service directory, s6-supervise's aside:
#                          every process of the service, whatever its parent
#   comm PID               a process's name ("" once it is gone or a zombie)
# shellcheck shell=sh disable=SC2034

SCAN=$SCRATCH/scan
SVC_ENV=$SCRATCH/env
SVSCAN_LOG=$SCRATCH/svscan.log
mkdir -p "$SCAN" "$SVC_ENV"
for _c in s6-svscan s6-svscanctl s6-svc s6-svstat execlineb; do
	command -v "$_c" >/dev/null || skip_all "$_c is not installed"
done

svc_env() {
	printf '%s' "$WB_BUILD/bin:$TOP/scripts:/usr/lib/execline/bin:/usr/bin:/bin" >"$SVC_ENV/PATH"
	# A service refuses to start without an absolute WB_DATA (wb-envcheck).
	printf '%s' "${WB_DATA:-$SCRATCH/data}" >"$SVC_ENV/WB_DATA"
	for _v in "$@"; do
		eval "printf '%s' \"\${$_v}\"" >"$SVC_ENV/$_v"
	done
}

# svc_add NAME [SED-EXPR]: SED-EXPR, if given, also edits the run script.
svc_add() {
	cp -R "$WB_BUILD/s6/$1" "$SCAN/$1"
	rm -rf "$SCAN/$1/log"
	sed -e "s|/etc/wb/env|$SVC_ENV|" -e '/^s6-setuidgid /d' \
		${2:+-e "$2"} "$WB_BUILD/s6/$1/run" >"$SCAN/$1/run"
}

svscan_start() {
	s6-svscan "$SCAN" >>"$SVSCAN_LOG" 2>&1 &
	SVSCAN_PID=$!
	atexit svscan_stop
}

svscan_stop() {
	s6-svscanctl -t "$SCAN" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $SVSCAN_PID" || kill -9 "$SVSCAN_PID" 2>/dev/null
	wait "$SVSCAN_PID" 2>/dev/null
	for _d in "$SCAN"/*/; do
		for _p in $(svc_procs "$(basename "$_d")"); do
			kill -9 "$_p" 2>/dev/null
		done
	done
}

svc_pid() {
	s6-svstat -o pid "$SCAN/$1" 2>/dev/null || echo 0
}

comm() {
	_s=
	read -r _s 2>/dev/null <"/proc/$1/stat" || return 0
	_f=${_s##*) }
	[ "${_f%% *}" != Z ] || return 0
	_s=${_s#*(}
	echo "${_s%%) *}"
}

svc_stages() {
	_r=$(svc_pid "$1")
	[ "$_r" -gt 0 ] || return 0
	for _st in /proc/[0-9]*/stat; do
		_l=
		read -r _l 2>/dev/null <"$_st" || continue
		_f=${_l##*) }
		# shellcheck disable=SC2086
		set -- $_f
		[ "$2" = "$_r" ] || continue
		_p=${_st#/proc/}
		_p=${_p%/stat}
		_c=$(comm "$_p")
		[ -n "$_c" ] && echo "$_p $_c"
	done
}

svc_procs() {
	_here=$(cd "$SCAN/$1" && pwd -P)
	find /proc -mindepth 2 -maxdepth 2 -name cwd -lname "$_here" 2>/dev/null |
	while read -r _cwd; do
		_p=${_cwd#/proc/}
		_p=${_p%/cwd}
		case $(comm "$_p") in '' | s6-supervise) continue ;; esac
		echo "$_p"
	done
}

# The kill -9 rounds of a pipeline service: S is the service's name,
# NSTAGES its number of stages.
#   stages_up              the service runs wb-pipeline and NSTAGES stages
#   sleeping               the service's run script is in its sleep
#   instance               "pid:comm" of the runner and of every stage
#   gone_within MS PID:COMM...   every one gone (or another program) in time
#   kill_round NAME BUSY   once BUSY (a command) succeeds, kill -9 the
#                          process NAME: three assertions
now_ms() { echo $(($(date +%s%N) / 1000000)); }

stages_up() { [ "$(svc_stages "$S" | wc -l)" = "$NSTAGES" ]; }
sleeping() { [ "$(comm "$(svc_pid "$S")")" = sleep ]; }

instance() {
	echo "$(svc_pid "$S"):wb-pipeline"
	svc_stages "$S" | tr ' ' :
}

gone_within() {
	_end=$(($(now_ms) + $1))
	shift
	while :; do
		_left=0
		for _pc in "$@"; do
			[ "$(comm "${_pc%%:*}")" = "${_pc#*:}" ] && _left=$((_left + 1))
		done
		[ "$_left" = 0 ] && return 0
		[ "$(now_ms)" -lt "$_end" ] || return 1
		sleep 0.02
	done
}

# A new instance runs, the one of $_old gone.
new_instance_up() { stages_up && [ "$(svc_pid "$S")" != "${_old%%:*}" ]; }

kill_round() {
	wait_for 10 stages_up || diag "no instance of $NSTAGES stages"
	wait_for 10 "$2" || diag "$S: not busy before the kill of $1"
	_old=$(instance)
	_victim=$(printf '%s\n' "$_old" | sed -n "s/:$1\$//p")
	kill -9 "${_victim:-0}"
	# shellcheck disable=SC2086
	gone_within 2000 $_old
	ok $? "kill -9 $1 (working): every process of the old instance is gone within 2 s"
	wait_for 10 new_instance_up
	ok $? "kill -9 $1: s6 runs a new instance of $NSTAGES stages"
	is "$(svc_procs "$S" | wc -l | tr -d ' ')" "$((NSTAGES + 1))" \
		"kill -9 $1: the service holds $((NSTAGES + 1)) processes, none more"
}

# no_procs: no process of the service $S is left.
no_procs() { [ -z "$(svc_procs "$S")" ]; }

# stop_round: s6-svc -d of $S while it works: three assertions.
stop_round() {
	_old=$(instance)
	s6-svc -d "$SCAN/$S"
	# shellcheck disable=SC2086
	gone_within 2000 $_old
	ok $? "s6-svc -d: every stage is gone within 2 s"
	wait_for 3 no_procs
	ok $? "s6-svc -d: no process of the service is left (./finish done)"
	is "$(s6-svstat -o up,wantedup "$SCAN/$S")" "false false" "s6 reports the service down"
}

# never_grows CMD...: what CMD prints (a count) does not grow for three
# seconds, the time a surviving process would have to show itself.
never_grows() {
	_first=$("$@")
	_end=$(($(date +%s) + 3))
	while [ "$(date +%s)" -lt "$_end" ]; do
		[ "$("$@")" -gt "$_first" ] && return 1
		sleep 0.1
	done
	return 0
}

# fail_round STAGE WHY: start $S once STAGE is set to exit 100 saying
# "STAGE: fatal: WHY...": it stays down, for good: four assertions.
_down_for_good() {
	[ "$(s6-svstat -o up,wantedup,exitcode "$SCAN/$S")" = "false false 100" ]
}
_fatal_lines() { grep -c "^$_stage: fatal: $_why" "$SVSCAN_LOG"; }
fail_round() {
	_stage=$1 _why=$2
	: >"$SVSCAN_LOG"
	s6-svc -u "$SCAN/$S"
	wait_for 10 _down_for_good
	ok $? "$1 exiting 100: the service is down, no longer wanted up (finish said 125)"
	# (Its neighbours may end first, seeing it gone: its exit is said then.)
	like "$(cat "$SVSCAN_LOG")" "^wb-pipeline: warning: $1 \(pid [0-9]+\) exited 100 \(a permanent failure\)(: stopping the pipeline)?\$" \
		"the runner says which stage failed for good"
	never_grows _fatal_lines
	is "$(_fatal_lines)" 1 "no restart loop: started once in three seconds"
	is "$(svc_procs "$S" | wc -l | tr -d ' ')" 0 "no orphan: no process of the service is left"
}
