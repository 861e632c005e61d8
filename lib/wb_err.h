/* SPDX-License-Identifier: MPL-2.0 */
/* wb — stderr messages in one grammar, one line per event; and how lib/
 * reports errors.
 *
 * Every message starts with the program name and a level word:
 * "wb-fetch: fatal: unable to connect to 127.0.0.1:6379: Connection refused".
 * s6-log adds the timestamps; nothing here does.
 *
 * The error convention of lib/, for every function:
 * - A function that can fail returns -1 (or NULL) and writes a one-line
 *   reason, without the program name or a level word, into
 *   'char *why, size_t whylen' given by its caller, which decides what to
 *   say and whether to exit. An object that keeps its own error, as
 *   hiredis' c->errstr (wb_http's response error), is the one other form.
 * - A function that may exit the process says so in its name: it ends in
 *   "_or_die" (wb_config_load_or_die), and so does any function that
 *   calls one without handling it. Never call one from a loop that must
 *   survive (the receiver's serving threads, a batch held back).
 * - The functions that always exit are marked noreturn, which says it:
 *   wb_die, wb_diesys, wb_dieusage, wb_pipe_die, wb_cli_help,
 *   wb_cli_option, wb_cli_version, and static ones named for it
 *   (wb_sqliteindexer's rollback_and_die). A function that calls one
 *   ends in "_or_die" as above.
 * - Out of memory has a name of its own, the x of git's xmalloc: the
 *   allocators wb_x* (wb_xalloc.h: wb_xmalloc, wb_xcalloc, wb_xrealloc,
 *   wb_xstrdup, wb_xgrow), the hiredis appends wb_redis_xappend,
 *   wb_redis_xappendv and wb_redis_xappend_argv (wb_redis.h, when
 *   hiredis cannot queue a command), and the static x* wrappers
 *   (wb_queue's xcommand and xappend_script; wb_pipe's xpoll) exit 111
 *   when memory runs out, and for nothing else. A caller of one need
 *   not carry the name: out of memory is not something a caller could
 *   handle differently. Where a failed allocation must not end the
 *   process (the receiver's serving threads), call malloc and handle
 *   NULL.
 * - abort() marks a bug, as assert() does: not an exit to name.
 * - scripts/exits checks these names, and that no hiredis append
 *   (redisAppendCommand...) drops its result (make lint,
 *   t/0004-exits.t).
 * - No other conventions: no err/errlen, no const char **why, no macro.
 */
#ifndef WB_ERR_H
#define WB_ERR_H

#include <stdarg.h>

/* Exit codes, the same for every tool (see wb(7)). */
enum {
	WB_EXIT_OK = 0,
	WB_EXIT_REJECTED = 1,	/* some input records were rejected */
	WB_EXIT_USAGE = 100,	/* wrong usage or permanent failure */
	WB_EXIT_TEMP = 111	/* temporary failure: retry later */
};

extern const char *wb_prog;

#define WB_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Print "prog: fatal: <message>" and exit with 'code'. */
void wb_die(int code, const char *fmt, ...) WB_PRINTF(2, 3) __attribute__((noreturn));
/* As wb_die, with ": strerror(errno)" appended. */
void wb_diesys(int code, const char *fmt, ...) WB_PRINTF(2, 3) __attribute__((noreturn));
void wb_warn(const char *fmt, ...) WB_PRINTF(1, 2);
void wb_warnsys(const char *fmt, ...) WB_PRINTF(1, 2);
void wb_info(const char *fmt, ...) WB_PRINTF(1, 2);
/*
 * As wb_warn, but at most WB_WARN_BURST lines per 'cause' (a short text
 * naming the kind of event, compared by content, e.g. "healthz") every
 * WB_WARN_INTERVAL seconds: the warnings past those are counted, not
 * printed, and the next line printed for that cause, or
 * wb_warn_flush(), says how many there were. For what a client can
 * repeat at will. Thread-safe.
 */
#define WB_WARN_INTERVAL 10
#define WB_WARN_BURST 10
void wb_warn_limited(const char *cause, const char *fmt, ...) WB_PRINTF(2, 3);
/*
 * Report the warnings wb_warn_limited() held back whose interval is
 * over, one line per cause. Call it now and then (wb-hook: each sweep).
 */
void wb_warn_flush(void);
/* Printed only when WB_DEBUG is set to a non-empty value. */
void wb_debug(const char *fmt, ...) WB_PRINTF(1, 2);
/* Print "prog: usage: <usage>" and exit 100. */
void wb_dieusage(const char *usage) __attribute__((noreturn));

#endif
