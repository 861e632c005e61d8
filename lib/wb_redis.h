/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a Redis connection from a URL (WB_REDIS).
 *
 * Accepted forms: redis://[[user]:password@]host[:port][/db] and
 * unix://[:password@]/path/to/redis.sock[?db=N]. Messages name the host
 * or socket, never the password.
 */
#ifndef WB_REDIS_H
#define WB_REDIS_H

#include <stdarg.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "wb_err.h"

/*
 * Every connection also asks CONFIG GET maxmemory-policy, pipelined with
 * its set-up: a Redis that evicts keys under memory pressure (any policy
 * but noeviction) silently drops queued items. A connection from
 * wb_redis_open() to such a Redis is warned about (one line naming the
 * policy and the fix), and so is one whose policy cannot be read (CONFIG
 * refused or renamed, as on managed Redis; once per process); one from
 * wb_redis_start() is refused (see wb_redis_start_reply()).
 *
 * Connect, authenticate and select the database named by 'url'. Returns a
 * context, or NULL with a reason in why[whylen].
 * *permanent is set to 1 when the URL itself is wrong (retrying will not
 * help), 0 otherwise. Commands time out after 'timeout_ms' (0: never).
 */
redisContext *wb_redis_open(const char *url, int timeout_ms, char *why,
    size_t whylen, int *permanent);

/*
 * As wb_redis_open, but the connection itself (not only each command)
 * is given at most 'connect_ms' (wb_redis_open gives it 5 s).
 */
redisContext *wb_redis_open_within(const char *url, int connect_ms,
    int timeout_ms, char *why, size_t whylen, int *permanent);

/*
 * Start connecting to 'url' without waiting, for an event loop: returns
 * at once a non-blocking context whose socket becomes writable once
 * connected (or refused: a write then fails), with the AUTH and SELECT
 * that 'url' asks for already pipelined; *replies is set to how many
 * replies they will get. Or NULL with a reason in 'why' and *permanent
 * as for wb_redis_open. 'where' (of 'wherelen' bytes) gets the socket or
 * host:port for messages, never the password. Check the replies with
 * wb_redis_start_reply(), then call wb_redis_block().
 */
redisContext *wb_redis_start(const char *url, char *where, size_t wherelen,
    int *replies, char *why, size_t whylen, int *permanent);

/*
 * Check 'r' (borrowed; NULL: the connection failed, c->errstr says why),
 * reply number 'i' (from 0) to what wb_redis_start() pipelined for 'url'.
 * Returns 0, or -1 with a reason in 'why' and *permanent set as for
 * wb_redis_open, or WB_REDIS_EVICTS with the reason in 'why' when Redis
 * may evict keys (its maxmemory-policy is not noeviction): nothing it
 * confirms is sure to be kept. A policy that cannot be read is warned
 * about once per process and is not a failure.
 */
#define WB_REDIS_EVICTS (-2)
int wb_redis_start_reply(redisContext *c, const char *url, int i,
    const redisReply *r, char *why, size_t whylen, int *permanent);

/*
 * Make a context from wb_redis_start(), once set up, a blocking one as
 * wb_redis_open() gives: every command then waits 'timeout_ms' at most.
 * Returns 0, or -1 (errno set).
 */
int wb_redis_block(redisContext *c, int timeout_ms);

/* As wb_redis_open, but exits 100 (bad URL) or 111 (unreachable). */
redisContext *wb_redis_connect_or_die(const char *url);

/*
 * Queue a command on 'c', as redisAppendCommand(), redisvAppendCommand()
 * and redisAppendCommandArgv() do, or exit 111 with "unable to queue a
 * Redis command: out of memory": hiredis fails to queue only when memory
 * runs out (or on a bad format, a bug). Never call those three and
 * discard what they return: a command not queued puts every later
 * redisGetReply() out of step, a reply taken for another command's
 * (scripts/exits reports it).
 */
void wb_redis_xappend(redisContext *c, const char *fmt, ...) WB_PRINTF(2, 3);
void wb_redis_xappendv(redisContext *c, const char *fmt, va_list ap)
    WB_PRINTF(2, 0);
void wb_redis_xappend_argv(redisContext *c, int argc, const char **argv,
    const size_t *argvlen);

/*
 * Check a reply: NULL (connection lost) or an error reply exits 111 with
 * a message naming 'what'; otherwise returns 'reply'.
 */
redisReply *wb_redis_check_or_die(redisContext *c, redisReply *reply,
    const char *what);

#endif
