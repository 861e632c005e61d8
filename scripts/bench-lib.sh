# SPDX-License-Identifier: MPL-2.0
# Helpers for scripts/bench.d/*.sh: sourced after setting nothing.
# Gives t/lib.sh's servers (start_redis, free_port, wait_for, SCRATCH) and:
#   measure RUNS CMD   run the shell command CMD RUNS times; sets MEDIAN
#                      (seconds) and PEAK_KB: the largest max RSS of the
#                      processes CMD runs under "$RSS" (GNU time), e.g.
#                      measure 5 'seq 1 1000 | $RSS wb-enqueue q'
#   BENCH_BEFORE       a shell command run before each run, untimed
#   row FIGURE VALUE REFERENCE RATIO   print one table row
#   median             the median of the numbers on standard input, one
#                      a line
# shellcheck shell=sh disable=SC2034
T_DIR=$(cd "$(dirname "$0")/../../t" && pwd)
# shellcheck source=SCRIPTDIR/../t/lib.sh
. "$T_DIR/lib.sh"

measure() {
	_b_runs=$1
	shift
	: >"$SCRATCH/.times"
	PEAK_KB=0
	_b_i=0
	while [ "$_b_i" -lt "$_b_runs" ]; do
		_b_i=$((_b_i + 1))
		[ -n "${BENCH_BEFORE:-}" ] && sh -c "$BENCH_BEFORE"
		_b_s=$(date +%s.%N)
		RSS="/usr/bin/time -a -o $SCRATCH/.rss -f %M" sh -c "$1"
		_b_e=$(date +%s.%N)
		echo "$_b_s $_b_e" | awk '{ printf "%.6f\n", $2 - $1 }' >>"$SCRATCH/.times"
		if [ -s "$SCRATCH/.rss" ]; then
			_b_kb=$(sort -n "$SCRATCH/.rss" | tail -n 1)
			[ "$_b_kb" -gt "$PEAK_KB" ] && PEAK_KB=$_b_kb
			: >"$SCRATCH/.rss"
		fi
	done
	MEDIAN=$(median <"$SCRATCH/.times")
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

row() {
	printf '%-58s %14s %14s %9s\n' "$1" "$2" "$3" "$4"
}

# ratio A B: A / B with two decimals.
ratio() {
	echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f\n", $1 / $2; else print "-" }'
}
