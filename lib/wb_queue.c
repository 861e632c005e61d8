/* wb — the work queue in Redis: debounce, leases, no lost update.
 *
 * Every mutation is a Lua script, so each is atomic and costs one round
 * trip for up to WB_QUEUE_BATCH_MAX numbers. Each touches O(log N) per
 * number; nothing scans the key space.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "wb_err.h"
#include "wb_queue.h"
#include "wb_redis.h"

#define SCRIPT_NOW \
	"local t = redis.call('TIME')\n" \
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

/*
 * KEYS: pending leases again; ARGV: delay_ms lease_ms limit.
 * Returns {token, n...}, or {0, wait_ms} when nothing is ready. The token
 * of a claim is its lease expiry: a number is claimed again only after
 * its lease expired, so a later claim always has another token.
 *
 * Enqueueing is a plain ZADD to pending, so a number queued again while
 * it is claimed is in pending and in leases at once. Such a number must
 * not be handed out twice: when it comes up it moves to again, which
 * acknowledging the claim (or its expiry) moves back to pending. Moving
 * keeps the newer activity time of the two.
 */
static const char claim_lua[] =
	SCRIPT_NOW
	"local delay, lease = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
	"local ready = string.format('%d', now - delay)\n"
	"local function back(n, act)\n"
	"  local p = redis.call('ZSCORE', KEYS[1], n)\n"
	"  if not p or tonumber(p) < tonumber(act) then\n"
	"    redis.call('ZADD', KEYS[1], act, n)\n"
	"  end\n"
	"end\n"
	"local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now,"
	" 'LIMIT', 0, 1000)\n"
	"for _, n in ipairs(expired) do\n"
	"  redis.call('ZREM', KEYS[2], n)\n"
	"  local act = redis.call('ZSCORE', KEYS[3], n)\n"
	"  if act then\n"
	"    redis.call('ZREM', KEYS[3], n)\n"
	"  end\n"
	"  back(n, act or ready)\n"
	"end\n"
	"local claimed = redis.call('ZCARD', KEYS[2]) > 0\n"
	"local cand = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ready,"
	" 'LIMIT', 0, tonumber(ARGV[3]))\n"
	"local items, moved = {}, 0\n"
	"for _, n in ipairs(cand) do\n"
	"  if claimed and redis.call('ZSCORE', KEYS[2], n) then\n"
	"    redis.call('ZADD', KEYS[3], redis.call('ZSCORE', KEYS[1], n), n)\n"
	"    moved = moved + 1\n"
	"  else\n"
	"    items[#items + 1] = n\n"
	"  end\n"
	"end\n"
	"if #cand > 0 then redis.call('ZREM', KEYS[1], unpack(cand)) end\n"
	"if #items == 0 then\n"
	"  if moved > 0 then return {0, 1} end\n"
	"  local wait = -1\n"
	"  local p = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"
	"  if #p > 0 then wait = tonumber(p[2]) + delay - now end\n"
	"  local l = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')\n"
	"  if #l > 0 then\n"
	"    local w = tonumber(l[2]) - now\n"
	"    if wait < 0 or w < wait then wait = w end\n"
	"  end\n"
	"  if wait == 0 then wait = 1 end\n"
	"  return {0, wait}\n"
	"end\n"
	"local token = string.format('%d', now + lease)\n"
	"local zl = {}\n"
	"for i = 1, #items do\n"
	"  zl[2 * i - 1] = token\n"
	"  zl[2 * i] = items[i]\n"
	"end\n"
	"redis.call('ZADD', KEYS[2], unpack(zl))\n"
	"table.insert(items, 1, token)\n"
	"return items\n";

/*
 * KEYS: pending leases again wake; ARGV: n1 token1 n2 token2 ...
 * Returns the numbers whose claim was not the current one.
 */
static const char ack_lua[] =
	"local stale, moved = {}, false\n"
	"for i = 1, #ARGV, 2 do\n"
	"  local n = ARGV[i]\n"
	"  if redis.call('ZSCORE', KEYS[2], n) == ARGV[i + 1] then\n"
	"    redis.call('ZREM', KEYS[2], n)\n"
	"    local again = redis.call('ZSCORE', KEYS[3], n)\n"
	"    if again then\n"
	"      redis.call('ZREM', KEYS[3], n)\n"
	"      local p = redis.call('ZSCORE', KEYS[1], n)\n"
	"      if not p or tonumber(p) < tonumber(again) then\n"
	"        redis.call('ZADD', KEYS[1], again, n)\n"
	"      end\n"
	"      moved = true\n"
	"    end\n"
	"  else\n"
	"    stale[#stale + 1] = n\n"
	"  end\n"
	"end\n"
	"if moved then\n"
	"  redis.call('LPUSH', KEYS[4], 1)\n"
	"  redis.call('LTRIM', KEYS[4], 0, 0)\n"
	"end\n"
	"return stale\n";

enum key { PENDING, LEASES, AGAIN, WAKE, NKEYS };
static const char *const key_suffix[NKEYS] = {
	"pending", "leases", "again", "wake"
};

struct keys {
	char name[NKEYS][96];
};

static void
make_keys(struct keys *k, const char *queue)
{
	for (int i = 0; i < NKEYS; i++)
		snprintf(k->name[i], sizeof k->name[i], "wb:{%s}:%s", queue,
		    key_suffix[i]);
}

void
wb_queue_append_init(struct wb_queue *q, redisContext *c)
{
	q->c = c;
	/* Activity times are the server's clock, read once and then advanced
	 * by our monotonic clock: no clock skew, no round trip per batch. */
	redisAppendCommand(c, "TIME");
	redisAppendCommand(c, "SCRIPT LOAD %s", claim_lua);
	redisAppendCommand(c, "SCRIPT LOAD %s", ack_lua);
}

int
wb_queue_init_reply(struct wb_queue *q, int i, const redisReply *r,
    char *err, size_t errlen)
{
	const char *why = r == NULL ? q->c->errstr :
	    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply";

	if (i == 0) {
		if (r == NULL || r->type != REDIS_REPLY_ARRAY ||
		    r->elements != 2) {
			snprintf(err, errlen, "unable to read the Redis time: %s",
			    why);
			return -1;
		}
		q->time0_ms = strtoll(r->element[0]->str, NULL, 10) * 1000 +
		    strtoll(r->element[1]->str, NULL, 10) / 1000;
		clock_gettime(CLOCK_MONOTONIC, &q->mono0);
		return 0;
	}
	if (r == NULL || r->type != REDIS_REPLY_STRING || r->len != 40) {
		snprintf(err, errlen, "unable to load the queue scripts into "
		    "Redis: %s", why);
		return -1;
	}
	memcpy(i == 1 ? q->claim_sha : q->ack_sha, r->str, 41);
	return 0;
}

int
wb_queue_init(struct wb_queue *q, redisContext *c, char *err, size_t errlen)
{
	wb_queue_append_init(q, c);
	for (int i = 0; i < WB_QUEUE_INIT_REPLIES; i++) {
		void *r = NULL;
		int rc;

		if (redisGetReply(c, &r) != REDIS_OK)
			r = NULL;
		rc = wb_queue_init_reply(q, i, r, err, errlen);
		if (r != NULL)
			freeReplyObject(r);
		if (rc < 0)
			return -1;
	}
	return 0;
}

void
wb_queue_connect(struct wb_queue *q, const char *url)
{
	char err[512];

	if (wb_queue_init(q, wb_redis_connect(url), err, sizeof err) < 0)
		wb_die(WB_EXIT_TEMP, "%s", err);
}

void
wb_queue_close(struct wb_queue *q)
{
	if (q->c != NULL)
		redisFree(q->c);
	q->c = NULL;
}

/*
 * Append EVALSHA sha nkeys keys... then the 'nargs' strings of 'args'.
 */
static void
append_eval(struct wb_queue *q, const char *sha, const struct keys *k,
    const int *which, int nkeys, const char *const *args, size_t nargs)
{
	const char *argv[3 + NKEYS + 2 * WB_QUEUE_BATCH_MAX];
	size_t argl[3 + NKEYS + 2 * WB_QUEUE_BATCH_MAX];
	char nk[4];
	size_t argc = 0;

	snprintf(nk, sizeof nk, "%d", nkeys);
	argv[argc++] = "EVALSHA";
	argv[argc++] = sha;
	argv[argc++] = nk;
	for (int i = 0; i < nkeys; i++)
		argv[argc++] = k->name[which[i]];
	for (size_t i = 0; i < nargs; i++)
		argv[argc++] = args[i];
	for (size_t i = 0; i < argc; i++)
		argl[i] = strlen(argv[i]);
	if (redisAppendCommandArgv(q->c, (int)argc, argv, argl) != REDIS_OK)
		wb_die(WB_EXIT_TEMP, "unable to queue a Redis command: out of "
		    "memory");
}

static long long
now_ms(const struct wb_queue *q)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return q->time0_ms + (long long)(t.tv_sec - q->mono0.tv_sec) * 1000 +
	    (t.tv_nsec - q->mono0.tv_nsec) / 1000000;
}

void
wb_queue_append_push(struct wb_queue *q, const char *queue,
    const long *numbers, size_t n)
{
	const char *argv[2 + 2 * WB_QUEUE_BATCH_MAX];
	size_t argl[2 + 2 * WB_QUEUE_BATCH_MAX];
	char text[WB_QUEUE_BATCH_MAX][12], now[24];
	struct keys k;
	size_t argc = 0, nowlen;

	make_keys(&k, queue);
	nowlen = (size_t)snprintf(now, sizeof now, "%lld", now_ms(q));
	argv[argc] = "ZADD", argl[argc++] = 4;
	argv[argc] = k.name[PENDING], argl[argc++] = strlen(k.name[PENDING]);
	for (size_t i = 0; i < n; i++) {
		argv[argc] = now, argl[argc++] = nowlen;
		argl[argc] = (size_t)snprintf(text[i], sizeof text[i], "%ld",
		    numbers[i]);
		argv[argc++] = text[i];
	}
	if (redisAppendCommandArgv(q->c, (int)argc, argv, argl) != REDIS_OK)
		wb_die(WB_EXIT_TEMP, "unable to queue a Redis command: out of "
		    "memory");
	redisAppendCommand(q->c, "LPUSH %s 1", k.name[WAKE]);
	redisAppendCommand(q->c, "LTRIM %s 0 0", k.name[WAKE]);
	redisAppendCommand(q->c, "SADD wb:queues %s", queue);
}

/* Read one reply; returns it, or NULL with 'err' set (the reply freed). */
static redisReply *
next_reply(struct wb_queue *q, int type, char *err, size_t errlen)
{
	void *v = NULL;
	redisReply *r;

	if (redisGetReply(q->c, &v) != REDIS_OK || v == NULL) {
		snprintf(err, errlen, "Redis connection lost: %s",
		    q->c->errstr[0] ? q->c->errstr : "no reply");
		return NULL;
	}
	r = v;
	if (r->type != type) {
		snprintf(err, errlen, "Redis answered %s",
		    r->type == REDIS_REPLY_ERROR ? r->str : "an unexpected reply");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

int
wb_queue_push_reply(struct wb_queue *q, char *err, size_t errlen)
{
	static const int types[] = { REDIS_REPLY_INTEGER, REDIS_REPLY_INTEGER,
	    REDIS_REPLY_STATUS, REDIS_REPLY_INTEGER };
	int failed = 0;

	/* Read all four replies even after a failure, to stay in step. */
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		redisReply *r = next_reply(q, types[i], failed ? NULL : err,
		    failed ? 0 : errlen);

		if (r == NULL) {
			failed = 1;
			if (q->c->err)
				return -1;	/* connection lost: no more replies */
		} else
			freeReplyObject(r);
	}
	return failed ? -1 : 0;
}

void
wb_queue_append_ack(struct wb_queue *q, const char *queue,
    const long *numbers, const char *const *claims, size_t n)
{
	static const int which[] = { PENDING, LEASES, AGAIN, WAKE };
	char text[WB_QUEUE_BATCH_MAX][12];
	const char *args[2 * WB_QUEUE_BATCH_MAX];
	struct keys k;

	make_keys(&k, queue);
	for (size_t i = 0; i < n; i++) {
		snprintf(text[i], sizeof text[i], "%ld", numbers[i]);
		args[2 * i] = text[i];
		args[2 * i + 1] = claims[i];
	}
	append_eval(q, q->ack_sha, &k, which, 4, args, 2 * n);
}

long
wb_queue_ack_reply(struct wb_queue *q, long *stale, char *err, size_t errlen)
{
	redisReply *r = next_reply(q, REDIS_REPLY_ARRAY, err, errlen);
	long n = 0;

	if (r == NULL)
		return -1;
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			stale[n++] = strtol(r->element[i]->str, NULL, 10);
	freeReplyObject(r);
	return n;
}

int
wb_queue_claim(struct wb_queue *q, const char *queue, long long delay_ms,
    long long lease_ms, size_t limit, struct wb_claim *out, char *err,
    size_t errlen)
{
	static const int which[] = { PENDING, LEASES, AGAIN };
	char a[3][24];
	const char *args[3] = { a[0], a[1], a[2] };
	struct keys k;
	redisReply *r;

	if (limit > WB_QUEUE_BATCH_MAX)
		limit = WB_QUEUE_BATCH_MAX;
	snprintf(a[0], sizeof a[0], "%lld", delay_ms);
	snprintf(a[1], sizeof a[1], "%lld", lease_ms);
	snprintf(a[2], sizeof a[2], "%zu", limit);
	make_keys(&k, queue);
	append_eval(q, q->claim_sha, &k, which, 3, args, 3);
	r = next_reply(q, REDIS_REPLY_ARRAY, err, errlen);
	if (r == NULL)
		return -1;
	if (r->elements < 1 || (r->element[0]->type != REDIS_REPLY_INTEGER &&
	    r->element[0]->type != REDIS_REPLY_STRING)) {
		snprintf(err, errlen, "Redis answered an unexpected claim reply");
		freeReplyObject(r);
		return -1;
	}
	out->n = 0;
	out->token[0] = '\0';
	out->wait_ms = -1;
	if (r->element[0]->type == REDIS_REPLY_INTEGER) {
		if (r->elements > 1 && r->element[1]->type == REDIS_REPLY_INTEGER)
			out->wait_ms = r->element[1]->integer;
	} else {
		snprintf(out->token, sizeof out->token, "%s",
		    r->element[0]->str);
		for (size_t i = 1; i < r->elements && out->n < limit; i++)
			if (r->element[i]->type == REDIS_REPLY_STRING)
				out->numbers[out->n++] =
				    strtol(r->element[i]->str, NULL, 10);
	}
	freeReplyObject(r);
	return 0;
}

int
wb_queue_wait(struct wb_queue *q, const char *queue, long long wait_ms,
    char *err, size_t errlen)
{
	struct timeval none = { 0, 0 }, usual = { 30, 0 };
	struct keys k;
	redisReply *r;
	char secs[32];

	make_keys(&k, queue);
	if (wait_ms < 0)
		snprintf(secs, sizeof secs, "0");
	else
		snprintf(secs, sizeof secs, "%.3f",
		    (double)(wait_ms < 1 ? 1 : wait_ms) / 1000.0);
	redisSetTimeout(q->c, none);
	r = redisCommand(q->c, "BLPOP %s %s", k.name[WAKE], secs);
	redisSetTimeout(q->c, usual);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "unable to wait on Redis: %s",
		    r != NULL ? r->str : q->c->errstr);
		if (r != NULL)
			freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

static long long
integer(redisReply *r)
{
	long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;

	freeReplyObject(r);
	return v;
}

static long long
server_ms(struct wb_queue *q)
{
	redisReply *r = wb_redis_check(q->c, redisCommand(q->c, "TIME"),
	    "read the Redis time");
	long long ms = 0;

	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
		ms = strtoll(r->element[0]->str, NULL, 10) * 1000 +
		    strtoll(r->element[1]->str, NULL, 10) / 1000;
	freeReplyObject(r);
	return ms;
}

void
wb_queue_stats(struct wb_queue *q, const char *queue, long long delay_ms,
    struct wb_queue_stats *st)
{
	const char *what = "read queue statistics";
	redisContext *c = q->c;
	struct keys k;
	redisReply *r;
	char edge[24], now[24];

	make_keys(&k, queue);
	st->now_ms = server_ms(q);
	snprintf(edge, sizeof edge, "%lld", st->now_ms - delay_ms);
	snprintf(now, sizeof now, "%lld", st->now_ms);
	redisAppendCommand(c, "ZCARD %s", k.name[PENDING]);
	redisAppendCommand(c, "ZCOUNT %s -inf %s", k.name[PENDING], edge);
	redisAppendCommand(c, "ZCARD %s", k.name[LEASES]);
	redisAppendCommand(c, "ZCOUNT %s -inf %s", k.name[LEASES], now);
	redisAppendCommand(c, "ZCARD %s", k.name[AGAIN]);
	redisAppendCommand(c, "ZRANGE %s 0 0 WITHSCORES", k.name[PENDING]);
	st->waiting = integer(wb_redis_next(c, what));
	st->ready = integer(wb_redis_next(c, what));
	st->waiting -= st->ready;
	st->claimed = integer(wb_redis_next(c, what));
	st->expired = integer(wb_redis_next(c, what));
	st->again = integer(wb_redis_next(c, what));
	st->queued = st->ready + st->waiting + st->claimed;
	r = wb_redis_next(c, what);
	st->oldest_ready_ms = -1;
	if (st->ready > 0 && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
		st->oldest_ready_ms = st->now_ms -
		    (long long)strtod(r->element[1]->str, NULL);
	freeReplyObject(r);
}

long long
wb_queue_purge(struct wb_queue *q, const char *queue)
{
	const char *what = "purge the queue";
	redisContext *c = q->c;
	long long n;
	struct keys k;

	make_keys(&k, queue);
	redisAppendCommand(c, "MULTI");
	redisAppendCommand(c, "ZCARD %s", k.name[PENDING]);
	redisAppendCommand(c, "ZCARD %s", k.name[LEASES]);
	redisAppendCommand(c, "UNLINK %s %s %s %s", k.name[PENDING],
	    k.name[LEASES], k.name[AGAIN], k.name[WAKE]);
	redisAppendCommand(c, "EXEC");
	for (int i = 0; i < 4; i++)
		freeReplyObject(wb_redis_next(c, what));
	{
		redisReply *r = wb_redis_next(c, what);

		if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
			wb_die(WB_EXIT_TEMP, "unable to %s: unexpected reply",
			    what);
		n = r->element[0]->integer + r->element[1]->integer;
		freeReplyObject(r);
	}
	freeReplyObject(wb_redis_check(c, redisCommand(c,
	    "SREM wb:queues %s", queue), what));
	return n;
}

static void
list_set(struct wb_queue *q, const char *key, long long edge,
    const char *before, const char *after,
    void (*fn)(long, const char *, long long, void *), void *arg)
{
	const long long chunk = 10000;

	for (long long start = 0;; start += chunk) {
		redisReply *r = wb_redis_check(q->c, redisCommand(q->c,
		    "ZRANGE %s %lld %lld WITHSCORES", key, start,
		    start + chunk - 1), "list the queue");

		for (size_t i = 0; i + 1 < r->elements; i += 2) {
			long long t = (long long)strtod(r->element[i + 1]->str,
			    NULL);
			fn(strtol(r->element[i]->str, NULL, 10),
			    t <= edge ? before : after, t, arg);
		}
		if ((long long)r->elements < 2 * chunk) {
			freeReplyObject(r);
			return;
		}
		freeReplyObject(r);
	}
}

void
wb_queue_list(struct wb_queue *q, const char *queue, long long delay_ms,
    void (*fn)(long number, const char *state, long long time_ms, void *arg),
    void *arg)
{
	struct keys k;
	long long now = server_ms(q);

	make_keys(&k, queue);
	list_set(q, k.name[PENDING], now - delay_ms, "ready", "waiting", fn,
	    arg);
	list_set(q, k.name[LEASES], 0, "claimed", "claimed", fn, arg);
}

redisReply *
wb_queue_names(struct wb_queue *q)
{
	redisReply *r = wb_redis_check(q->c, redisCommand(q->c,
	    "SMEMBERS wb:queues"), "list the queues");

	if (r->type != REDIS_REPLY_ARRAY)
		wb_die(WB_EXIT_TEMP, "unable to list the queues: unexpected reply");
	return r;
}
