#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# scripts/exits (issue 14, the rule of lib/wb_err.h): every lib/ function
# that may exit says so in its name; on a small file of every case, it
# names each function that may exit unnamed, and only those: a call of
# wb_die, of an _or_die function, of a noreturn function (declared in the
# file or in a header beside it); an x function that exits otherwise than
# out of memory. Named, noreturn, x and main functions, calls of x
# functions, abort, and calls in comments and strings pass. And a hiredis
# append whose result is dropped (a command not queued would put every
# later reply out of step) is named with its line; checked appends, the
# wb_redis_xappend* wrappers, comments and strings pass.
. "${0%/*}/lib.sh"
plan 12

run "$TOP/scripts/exits"
is "$RC:$OUT:$ERR" "0::" \
	"lib/: every function that may exit says so in its name; no append dropped"
run sh -c 'cd "$1" && scripts/exits lib/*.c bin/*.c' sh "$TOP"
is "$(printf '%s\n' "$OUT" | grep -c 'result discarded')" 0 \
	"lib/ and bin/: no hiredis append drops its result"

D=$SCRATCH/lib
mkdir -p "$D"
cat >"$D/halt.h" <<'EOF'
/* An exit declared in a header, as wb_die. */
void halt(int code) __attribute__((noreturn));
EOF
cat >"$D/a.c" <<'EOF'
#include "halt.h"
#define DIE(x) exit(x)

static void __attribute__((noreturn))
stop(void)
{
	exit(111);
}

int
bad(int x)
{
	if (x < 0)
		wb_die(WB_EXIT_USAGE, "negative");
	return x;
}

int
checked_or_die(int x)
{
	if (x < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to go on");
	return x;
}

int
calls_named(int x)
{
	return checked_or_die(x);
}

void
calls_noreturn(int x)
{
	if (x)
		stop();
}

void
calls_header(void)
{
	halt(1);
}

void *
xgood(void *p)
{
	if (p == NULL)
		wb_diesys(WB_EXIT_TEMP, "unable to allocate");
	return p;
}

void *
wb_xbad(void *p)
{
	if (p == NULL)
		wb_die(WB_EXIT_USAGE, "no");
	return p;
}

char *
allocates(void)
{
	return xgood(wb_xmalloc(8));
}

void
quiet(void)
{
	/* exit(1) in a comment, wb_die() too */
	puts("exit(1); wb_die(111, \"x\")");
	if (pthread_join(t, NULL) != 0)
		abort();
}

int
main(void)
{
	exit(bad(1));
}
EOF

run "$TOP/scripts/exits" "$D/a.c"
is "$RC" 1 "exit 1 when a function may exit unnamed"
is "$OUT" "$D/a.c:11: bad: may exit (wb_die at line 14) but is not named *_or_die
$D/a.c:27: calls_named: may exit (checked_or_die at line 29) but is not named *_or_die
$D/a.c:33: calls_noreturn: may exit (stop at line 36) but is not named *_or_die
$D/a.c:40: calls_header: may exit (halt at line 42) but is not named *_or_die
$D/a.c:54: wb_xbad: an x function exits only when memory runs out, not by wb_die at line 57" \
	"each fault named by file, line, function and call; nothing else"
is "$ERR" "" "nothing on stderr"

# Each fault mended: nothing left to say.
sed -i 's/^bad(/bad_or_die(/; s/^calls_named(/calls_named_or_die(/;
	s/^calls_noreturn(/calls_noreturn_or_die(/; s/^calls_header(/calls_header_or_die(/;
	s/WB_EXIT_USAGE, "no"/WB_EXIT_TEMP, "unable to allocate"/' "$D/a.c"
run "$TOP/scripts/exits" "$D/a.c"
is "$RC:$OUT:$ERR" "0::" "once named, exit 0 and silent"

run "$TOP/scripts/exits" "$D/none.c"
is "$RC:$ERR" "111:exits: fatal: unable to read $D/none.c: No such file or directory" \
	"an unreadable file: exit 111, said"
run "$TOP/scripts/exits" -x
is "$RC:$ERR" "100:usage: exits [FILE...]" "an unknown option: usage, exit 100"

cat >"$D/b.c" <<'EOF'
int
pipeline(redisContext *c, int n, const char **argv, va_list ap)
{
	int rc;

	redisAppendCommand(c, "PING");
	redisAppendCommand(c, "SET %s %s",
	    argv[0], argv[1]);
	if (n)
		redisAppendCommandArgv(c, 1, argv, NULL);
	else
		(void)redisvAppendCommand(c, "GET %s", ap);
	switch (n) {
	case 1: redisAppendCommand(c, "PING");
	}
	if (redisAppendCommand(c, "PING") != REDIS_OK)
		abort();
	rc = redisvAppendCommand(c, "GET %s", ap);
	rc = n ? redisAppendCommand(c, "A") : redisAppendCommand(c, "B");
	wb_redis_xappend(c, "PING");
	/* redisAppendCommand(c, "PING"); in a comment */
	puts("redisAppendCommand(c, \"PING\");");
	return rc == REDIS_OK ? redisAppendCommand(c, "PING") : rc;
}
EOF
M="result discarded: a command not queued puts every later reply out of step; call"
run "$TOP/scripts/exits" "$D/b.c"
is "$RC" 1 "exit 1 when a hiredis append drops its result"
is "$OUT" "$D/b.c:6: redisAppendCommand: $M wb_redis_xappend
$D/b.c:7: redisAppendCommand: $M wb_redis_xappend
$D/b.c:10: redisAppendCommandArgv: $M wb_redis_xappend_argv
$D/b.c:12: redisvAppendCommand: $M wb_redis_xappendv
$D/b.c:14: redisAppendCommand: $M wb_redis_xappend" \
	"each dropped append named by file and line; checked ones pass"
is "$ERR" "" "nothing on stderr"

# Each one through its wrapper: nothing left to say.
sed -i 's/^\t\(case 1: \)\{0,1\}redisAppendCommand(/\t\1wb_redis_xappend(/;
	s/redisAppendCommandArgv(/wb_redis_xappend_argv(/;
	s/(void)redisvAppendCommand(/wb_redis_xappendv(/' "$D/b.c"
run "$TOP/scripts/exits" "$D/b.c"
is "$RC:$OUT:$ERR" "0::" "once wrapped, exit 0 and silent"
done_testing
