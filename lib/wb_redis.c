/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a Redis connection from a URL (WB_REDIS). */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "wb_err.h"
#include "wb_redis.h"
#include "wb_scan.h"

struct endpoint {
	char host[256];		/* host name, or socket path when unix */
	int unix_socket;
	int port;
	char password[256];
	char user[128];
	unsigned long long db;
};

/*
 * The credentials of a URL, user:password@ (or password@) before 'end':
 * copied into 'ep'; returns where the rest begins, or NULL with a reason.
 */
static const char *
parse_credentials(const char *p, const char *end, struct endpoint *ep,
    char *why, size_t whylen)
{
	const char *at = NULL, *colon, *pw;
	size_t ul, pl;

	/* Credentials end at the last '@' before the path. */
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at == NULL)
		return p;
	colon = memchr(p, ':', (size_t)(at - p));
	ul = colon != NULL ? (size_t)(colon - p) : 0;
	pl = colon != NULL ? (size_t)(at - colon - 1) : (size_t)(at - p);
	pw = colon != NULL ? colon + 1 : p;
	if (ul >= sizeof ep->user || pl >= sizeof ep->password) {
		snprintf(why, whylen, "WB_REDIS credentials are too long");
		return NULL;
	}
	memcpy(ep->user, p, ul);
	memcpy(ep->password, pw, pl);
	return at + 1;
}

/* The rest of a unix:// URL: /path[?db=N]. */
static int
parse_unix(const char *p, struct endpoint *ep, char *why, size_t whylen)
{
	size_t n = strcspn(p, "?");
	char bad[32];

	if (n == 0 || *p != '/' || n >= sizeof ep->host) {
		snprintf(why, whylen, "WB_REDIS has no absolute socket path");
		return -1;
	}
	memcpy(ep->host, p, n);
	p += n;
	if (*p == '?' && (strncmp(p, "?db=", 4) != 0 ||
	    wb_scan_uint(p + 4, strlen(p + 4), 0, 1000000, &ep->db, bad,
	    sizeof bad) < 0)) {
		snprintf(why, whylen, "WB_REDIS: bad query "
		    "(only ?db=N is understood)");
		return -1;
	}
	return 0;
}

/* The rest of a redis:// URL: host[:port][/db], the host maybe [IPv6]. */
static int
parse_tcp(const char *p, struct endpoint *ep, char *why, size_t whylen)
{
	size_t n = strcspn(p, ":/?");
	unsigned long long v;
	const char *rest;
	char bad[32];

	if (n == 0 || n >= sizeof ep->host) {
		snprintf(why, whylen, "WB_REDIS has no host");
		return -1;
	}
	/* An IPv6 literal is bracketed: redis://[::1]:6379/0. */
	if (*p == '[') {
		const char *rb = strchr(p, ']');
		if (rb == NULL || (size_t)(rb - p - 1) >= sizeof ep->host) {
			snprintf(why, whylen, "WB_REDIS: bad IPv6 host");
			return -1;
		}
		memcpy(ep->host, p + 1, (size_t)(rb - p - 1));
		rest = rb + 1;
	} else {
		memcpy(ep->host, p, n);
		rest = p + n;
	}
	if (*rest == ':') {
		size_t pn = strcspn(rest + 1, "/?");
		if (wb_scan_uint(rest + 1, pn, 1, 65535, &v, bad,
		    sizeof bad) < 0) {
			snprintf(why, whylen, "WB_REDIS: port is %s", bad);
			return -1;
		}
		ep->port = (int)v;
		rest += 1 + pn;
	}
	if (*rest == '/' && rest[1] != '\0') {
		if (wb_scan_uint(rest + 1, strlen(rest + 1), 0, 1000000,
		    &ep->db, bad, sizeof bad) < 0) {
			snprintf(why, whylen, "WB_REDIS: database is %s", bad);
			return -1;
		}
	} else if (*rest != '\0' && strcmp(rest, "/") != 0) {
		snprintf(why, whylen, "WB_REDIS: unexpected \"%s\"", rest);
		return -1;
	}
	return 0;
}

/* Split 'url' into 'ep'; returns 0, or -1 with a reason in 'why'. */
static int
parse_url(const char *url, struct endpoint *ep, char *why, size_t whylen)
{
	const char *p;

	memset(ep, 0, sizeof *ep);
	ep->port = 6379;
	if (strncmp(url, "redis://", 8) == 0)
		p = url + 8;
	else if (strncmp(url, "unix://", 7) == 0) {
		p = url + 7;
		ep->unix_socket = 1;
	} else {
		snprintf(why, whylen, "WB_REDIS is not a redis:// or unix:// URL");
		return -1;
	}
	p = parse_credentials(p, p + strcspn(p, ep->unix_socket ? "?" : "/?"),
	    ep, why, whylen);
	if (p == NULL)
		return -1;
	return ep->unix_socket ? parse_unix(p, ep, why, whylen) :
	    parse_tcp(p, ep, why, whylen);
}

redisContext *
wb_redis_open(const char *url, int timeout_ms, char *why, size_t whylen,
    int *permanent)
{
	return wb_redis_open_within(url, 5000, timeout_ms, why, whylen,
	    permanent);
}

/* 'ep' for messages: the socket path, or host:port. */
static void
name_endpoint(const struct endpoint *ep, char *where, size_t wherelen)
{
	if (ep->unix_socket)
		snprintf(where, wherelen, "%s", ep->host);
	else
		snprintf(where, wherelen, "%s:%d", ep->host, ep->port);
}

/*
 * A new context 'c' for 'ep' (NULL: out of memory) failed or not: returns
 * 0, or -1 with a reason in 'why' and 'c' freed.
 */
static int
check_connected(redisContext *c, const char *where, char *why, size_t whylen)
{
	if (c == NULL) {
		snprintf(why, whylen, "unable to connect to Redis at %s: "
		    "out of memory", where);
		return -1;
	}
	if (c->err) {
		snprintf(why, whylen, "unable to connect to Redis at %s: %s",
		    where, c->errstr);
		redisFree(c);
		return -1;
	}
	return 0;
}

/*
 * Pipeline the AUTH and SELECT that 'ep' needs; returns how many, or -1
 * with a reason in 'why' when out of memory.
 */
static int
append_setup(redisContext *c, const struct endpoint *ep, const char *where,
    char *why, size_t whylen)
{
	int n = 0, rc = REDIS_OK;

	if (ep->password[0] != '\0' && ep->user[0] != '\0')
		rc = redisAppendCommand(c, "AUTH %s %s", ep->user, ep->password);
	else if (ep->password[0] != '\0')
		rc = redisAppendCommand(c, "AUTH %s", ep->password);
	n += ep->password[0] != '\0';
	if (rc == REDIS_OK && ep->db != 0)
		rc = redisAppendCommand(c, "SELECT %llu", ep->db);
	n += ep->db != 0;
	if (rc == REDIS_OK)
		rc = redisAppendCommand(c, "CONFIG GET maxmemory-policy");
	n++;
	if (rc != REDIS_OK) {
		snprintf(why, whylen, "unable to connect to Redis at %s: "
		    "out of memory", where);
		return -1;
	}
	return n;
}

/*
 * The answer 'r' (borrowed, NULL: none) to CONFIG GET maxmemory-policy:
 * 0 for noeviction; WB_REDIS_EVICTS for another policy, a warning naming
 * it and the fix in 'why'; 1 when it says nothing (CONFIG refused or
 * renamed, as managed Redis services do), the warning in 'why'.
 */
static int
check_policy(const redisReply *r, const char *where, char *why,
    size_t whylen)
{
	const redisReply *v = r != NULL && r->type == REDIS_REPLY_ARRAY &&
	    r->elements == 2 ? r->element[1] : NULL;

	if (v != NULL && (v->type == REDIS_REPLY_STRING ||
	    v->type == REDIS_REPLY_STATUS)) {
		if (strcmp(v->str, "noeviction") == 0)
			return 0;
		snprintf(why, whylen, "Redis at %s evicts keys when full "
		    "(maxmemory-policy %.40s): queued work can vanish; set "
		    "maxmemory-policy noeviction", where, v->str);
		return WB_REDIS_EVICTS;
	}
	snprintf(why, whylen, "unable to check the maxmemory-policy of Redis "
	    "at %s (%.80s): it must be noeviction, or queued work can "
	    "vanish", where, r != NULL && r->type == REDIS_REPLY_ERROR ?
	    r->str : "no answer");
	return 1;
}

/* Warn about 'msg', a policy that could not be read, once per process. */
static void
warn_unchecked(const char *msg)
{
	static atomic_int warned;

	if (atomic_exchange(&warned, 1) == 0)
		wb_warn("%s", msg);
}

/* Check reply 'i' (borrowed, NULL: none) to what append_setup() sent. */
static int
check_setup(redisContext *c, const struct endpoint *ep, const char *where,
    int i, const redisReply *r, char *why, size_t whylen, int *permanent)
{
	int n = (ep->password[0] != '\0') + (ep->db != 0), rc;

	if (i == n && r != NULL) {
		*permanent = 0;
		if ((rc = check_policy(r, where, why, whylen)) == 1)
			warn_unchecked(why);
		return rc == 1 ? 0 : rc;
	}
	if (r != NULL && r->type != REDIS_REPLY_ERROR)
		return 0;
	if (i == n) {
		*permanent = 0;
		snprintf(why, whylen, "unable to connect to Redis at %s: %s",
		    where, c->errstr);
		return -1;
	}
	*permanent = r != NULL;
	if (i == 0 && ep->password[0] != '\0')
		snprintf(why, whylen, "Redis at %s refused the password: %s",
		    where, r != NULL ? r->str : c->errstr);
	else
		snprintf(why, whylen, "unable to select database %llu on "
		    "Redis at %s: %s", ep->db, where,
		    r != NULL ? r->str : c->errstr);
	return -1;
}

redisContext *
wb_redis_open_within(const char *url, int connect_ms, int timeout_ms,
    char *why, size_t whylen, int *permanent)
{
	struct timeval ctv = { connect_ms / 1000, (connect_ms % 1000) * 1000 };
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct endpoint ep;
	char where[300];
	redisContext *c;
	int n;

	*permanent = 1;
	if (parse_url(url, &ep, why, whylen) < 0)
		return NULL;
	*permanent = 0;
	name_endpoint(&ep, where, sizeof where);
	if (ep.unix_socket)
		c = redisConnectUnixWithTimeout(ep.host, ctv);
	else
		c = redisConnectWithTimeout(ep.host, ep.port, ctv);
	if (check_connected(c, where, why, whylen) < 0)
		return NULL;
	redisSetTimeout(c, tv);
	if ((n = append_setup(c, &ep, where, why, whylen)) < 0) {
		redisFree(c);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		void *r = NULL;
		int rc;

		if (redisGetReply(c, &r) != REDIS_OK)
			r = NULL;
		rc = check_setup(c, &ep, where, i, r, why, whylen, permanent);
		if (r != NULL)
			freeReplyObject(r);
		if (rc == WB_REDIS_EVICTS) {
			/* Every tool says so; wb-hook also refuses (its own
			 * connections are made by wb_redis_start()). */
			wb_warn("%s", why);
		} else if (rc < 0) {
			redisFree(c);
			return NULL;
		}
	}
	return c;
}

redisContext *
wb_redis_start(const char *url, char *where, size_t wherelen, int *replies,
    char *why, size_t whylen, int *permanent)
{
	struct endpoint ep;
	redisContext *c;

	*permanent = 1;
	if (parse_url(url, &ep, why, whylen) < 0)
		return NULL;
	*permanent = 0;
	name_endpoint(&ep, where, wherelen);
	if (ep.unix_socket)
		c = redisConnectUnixNonBlock(ep.host);
	else
		c = redisConnectNonBlock(ep.host, ep.port);
	if (check_connected(c, where, why, whylen) < 0)
		return NULL;
	if ((*replies = append_setup(c, &ep, where, why, whylen)) < 0) {
		redisFree(c);
		return NULL;
	}
	return c;
}

int
wb_redis_start_reply(redisContext *c, const char *url, int i,
    const redisReply *r, char *why, size_t whylen, int *permanent)
{
	struct endpoint ep;
	char where[300];

	if (parse_url(url, &ep, why, whylen) < 0)
		return -1;
	name_endpoint(&ep, where, sizeof where);
	return check_setup(c, &ep, where, i, r, why, whylen, permanent);
}

int
wb_redis_block(redisContext *c, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int fl = fcntl(c->fd, F_GETFL);

	if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return -1;
	c->flags |= REDIS_BLOCK;
	return redisSetTimeout(c, tv) == REDIS_OK ? 0 : -1;
}

redisContext *
wb_redis_connect_or_die(const char *url)
{
	char why[512];
	int permanent;
	redisContext *c = wb_redis_open(url, 30000, why, sizeof why, &permanent);

	if (c == NULL)
		wb_die(permanent ? WB_EXIT_USAGE : WB_EXIT_TEMP, "%s", why);
	return c;
}

/* What hiredis returned on queueing a command: exit 111 unless REDIS_OK. */
static void
xqueued(int rc)
{
	if (rc != REDIS_OK)
		wb_die(WB_EXIT_TEMP, "unable to queue a Redis command: out of "
		    "memory");
}

void
wb_redis_xappend(redisContext *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wb_redis_xappendv(c, fmt, ap);
	va_end(ap);
}

void
wb_redis_xappendv(redisContext *c, const char *fmt, va_list ap)
{
	xqueued(redisvAppendCommand(c, fmt, ap));
}

void
wb_redis_xappend_argv(redisContext *c, int argc, const char **argv,
    const size_t *argvlen)
{
	xqueued(redisAppendCommandArgv(c, argc, argv, argvlen));
}

redisReply *
wb_redis_check_or_die(redisContext *c, redisReply *reply, const char *what)
{
	if (reply == NULL)
		wb_die(WB_EXIT_TEMP, "unable to %s: Redis connection lost: %s",
		    what, c->errstr[0] ? c->errstr : "no reply");
	if (reply->type == REDIS_REPLY_ERROR)
		wb_die(WB_EXIT_TEMP, "unable to %s: Redis answered: %s", what,
		    reply->str);
	return reply;
}

