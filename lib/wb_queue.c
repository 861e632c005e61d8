/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the work queue in Redis: debounce, leases, no lost update,
 * consumers that take back their dead predecessor's claims, dead letters.
 *
 * Every mutation is a Lua script, so each is atomic and costs one round
 * trip for up to WB_QUEUE_BATCH_MAX numbers. Each touches O(log N) per
 * number; nothing scans the key space.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

#include "wb_clock.h"
#include "wb_err.h"
#include "wb_pipe.h"
#include "wb_queue.h"
#include "wb_redis.h"

#define SCRIPT_NOW \
	"local t = redis.call('TIME')\n" \
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

/* Put n back in pending with activity 'act', unless it is there newer. */
#define SCRIPT_BACK \
	"local function back(pending, n, act)\n" \
	"  local p = redis.call('ZSCORE', pending, n)\n" \
	"  if not p or tonumber(p) < tonumber(act) then\n" \
	"    redis.call('ZADD', pending, act, n)\n" \
	"  end\n" \
	"end\n"

/*
 * When n was queued again during its claim (KEYS[3], again), put it back
 * in pending (KEYS[1]) with that activity, unless it is there newer.
 * Returns that activity, or nil.
 */
#define SCRIPT_AGAIN \
	SCRIPT_BACK \
	"local function again(n)\n" \
	"  local act = redis.call('ZSCORE', KEYS[3], n)\n" \
	"  if act then\n" \
	"    redis.call('ZREM', KEYS[3], n)\n" \
	"    back(KEYS[1], n, act)\n" \
	"  end\n" \
	"  return act\n" \
	"end\n"

/*
 * A claim of n lapsed (KEYS 1 to 4: pending leases again deliveries):
 * count the delivery if 'count', and make n ready again with activity
 * 'dflt', or the activity it was queued again with.
 */
#define SCRIPT_LAPSE \
	SCRIPT_AGAIN \
	"local function lapse(n, dflt, count)\n" \
	"  redis.call('ZREM', KEYS[2], n)\n" \
	"  if count then redis.call('HINCRBY', KEYS[4], n, 1) end\n" \
	"  if not again(n) then back(KEYS[1], n, dflt) end\n" \
	"end\n"

/*
 * KEYS: pending leases again deliveries dead held:C consumer:C token
 * suspect probe:C;
 * ARGV: delay_ms lease_ms limit max_deliveries client ttl_ms.
 * Returns {'claim', token, {n...}, parked} or {'wait', wait_ms, {},
 * parked}, parked being {n1, deliveries1, ...} and wait_ms 0 when more
 * may be ready at once; or {'lost'} when C is no longer registered to
 * this connection.
 *
 * The token of a claim is its lease expiry in ms, moved on by a
 * millisecond or two while another claim of the queue has that expiry or
 * it is the last token made (the token key keeps it): each claim, whoever
 * made it, has its own, so the numbers of a claim are those of leases
 * scored by its token, and held:C need only list C's tokens. It is never
 * raised to the last token: a short lease after a long one stays short.
 *
 * A delivery is counted when its claim lapses (lease expired, consumer
 * dead) rather than when it is made, so that a queue that never fails
 * writes no count at all.
 *
 * Enqueueing is a plain ZADD to pending, so a number queued again while
 * it is claimed is in pending and in leases at once. Such a number must
 * not be handed out twice: when it comes up it moves to again, which
 * acknowledging the claim (or its expiry) moves back to pending. Moving
 * keeps the newer activity time of the two.
 *
 * Suspects (numbers taken back from a dead consumer, see release_lua)
 * are handed out in a claim of their own, a probe, of at most the group
 * size the suspect hash gives the first of them; while C's probe has a
 * lease running C gets nothing else, so that if the pipeline dies now
 * the probe is all it held. The probe:C hash {t} keeps the probe's
 * token; acknowledging a suspect clears it and wakes the dequeuers.
 */
static const char claim_lua[] =
	SCRIPT_NOW SCRIPT_LAPSE
	"if redis.call('HGET', KEYS[7], 'client') ~= ARGV[5] then\n"
	"  return {'lost'}\n"
	"end\n"
	"redis.call('PEXPIRE', KEYS[7], ARGV[6])\n"
	"local delay, lease = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
	"local max = tonumber(ARGV[4])\n"
	"local ready = string.format('%d', now - delay)\n"
	"local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now,"
	" 'LIMIT', 0, 1000)\n"
	"for _, n in ipairs(expired) do\n"
	"  lapse(n, ready, true)\n"
	"end\n"
	"local suspects = redis.call('EXISTS', KEYS[9]) == 1\n"
	"if suspects then\n"
	"  local pt = redis.call('HGET', KEYS[10], 't')\n"
	"  if pt and redis.call('ZCOUNT', KEYS[2], pt, pt) > 0 then\n"
	"    local w = tonumber(pt) - now\n"
	"    if w < 1 then w = 1 end\n"
	"    return {'wait', w, {}, {}}\n"
	"  end\n"
	"end\n"
	"local claimed = redis.call('ZCARD', KEYS[2]) > 0\n"
	"local counted = redis.call('EXISTS', KEYS[4]) == 1\n"
	"local cand = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ready,"
	" 'LIMIT', 0, tonumber(ARGV[3]))\n"
	"local items, parked, moved, took, probe = {}, {}, 0, 0, 0\n"
	"for _, n in ipairs(cand) do\n"
	"  local s = suspects and redis.call('HGET', KEYS[9], n)\n"
	"  if s and #items > 0 and probe == 0 then break end\n"
	"  if not s and probe > 0 then break end\n"
	"  took = took + 1\n"
	"  local d = 0\n"
	"  if counted then d = tonumber(redis.call('HGET', KEYS[4], n) or 0) end\n"
	"  if claimed and redis.call('ZSCORE', KEYS[2], n) then\n"
	"    redis.call('ZADD', KEYS[3], redis.call('ZSCORE', KEYS[1], n), n)\n"
	"    moved = moved + 1\n"
	"  elseif d >= max then\n"
	"    redis.call('ZADD', KEYS[5], now, n)\n"
	"    if s then redis.call('HDEL', KEYS[9], n) end\n"
	"    parked[#parked + 1] = n\n"
	"    parked[#parked + 1] = d\n"
	"  else\n"
	"    items[#items + 1] = n\n"
	"    if s and probe == 0 then probe = tonumber(s) end\n"
	"    if probe > 0 and #items >= probe then break end\n"
	"  end\n"
	"end\n"
	"if took > 0 then redis.call('ZREM', KEYS[1], unpack(cand, 1, took)) end\n"
	"if #items == 0 then\n"
	"  if moved > 0 or #parked > 0 then return {'wait', 0, {}, parked} end\n"
	"  local wait = -1\n"
	"  local p = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"
	"  if #p > 0 then wait = tonumber(p[2]) + delay - now end\n"
	"  local l = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')\n"
	"  if #l > 0 then\n"
	"    local w = tonumber(l[2]) - now\n"
	"    if wait < 0 or w < wait then wait = w end\n"
	"  end\n"
	"  if wait == 0 then wait = 1 end\n"
	"  return {'wait', wait, {}, parked}\n"
	"end\n"
	"local token = now + lease\n"
	"local last = tonumber(redis.call('GET', KEYS[8]) or 0)\n"
	"while token == last or"
	" redis.call('ZCOUNT', KEYS[2], token, token) > 0 do\n"
	"  token = token + 1\n"
	"end\n"
	"token = string.format('%d', token)\n"
	"redis.call('SET', KEYS[8], token)\n"
	"local zl = {}\n"
	"for i = 1, #items do\n"
	"  zl[2 * i - 1] = token\n"
	"  zl[2 * i] = items[i]\n"
	"end\n"
	"redis.call('ZADD', KEYS[2], unpack(zl))\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)\n"
	"redis.call('ZADD', KEYS[6], token, token)\n"
	"redis.call('PEXPIREAT', KEYS[6], token)\n"
	"if probe > 0 then\n"
	"  redis.call('HSET', KEYS[10], 't', token)\n"
	"  redis.call('PEXPIREAT', KEYS[10], token)\n"
	"end\n"
	"return {'claim', token, items, parked}\n";

/*
 * KEYS: pending leases again wake deliveries suspect; ARGV: n1 token1 n2
 * token2 ... Returns the numbers whose claim was not the current one. A
 * suspect acknowledged is one no more, and wakes its dequeuer, which
 * waits for that to hand out more.
 */
static const char ack_lua[] =
	SCRIPT_AGAIN
	"local stale, done, moved = {}, {}, false\n"
	"for i = 1, #ARGV, 2 do\n"
	"  local n = ARGV[i]\n"
	"  if redis.call('ZSCORE', KEYS[2], n) == ARGV[i + 1] then\n"
	"    done[#done + 1] = n\n"
	"    if again(n) then moved = true end\n"
	"  else\n"
	"    stale[#stale + 1] = n\n"
	"  end\n"
	"end\n"
	"if #done > 0 then\n"
	"  redis.call('ZREM', KEYS[2], unpack(done))\n"
	"  redis.call('HDEL', KEYS[5], unpack(done))\n"
	"  if redis.call('EXISTS', KEYS[6]) == 1 and\n"
	"      redis.call('HDEL', KEYS[6], unpack(done)) > 0 then\n"
	"    moved = true\n"
	"  end\n"
	"end\n"
	"if moved then\n"
	"  redis.call('LPUSH', KEYS[4], 1)\n"
	"  redis.call('LTRIM', KEYS[4], 0, 0)\n"
	"end\n"
	"return stale\n";

/*
 * KEYS: pending dead deliveries wake; ARGV: activity_ms n1 n2 ...
 * A parked number comes back with its count reset. Returns how many.
 */
static const char push_lua[] =
	"local zl = {}\n"
	"local dead = redis.call('EXISTS', KEYS[2]) == 1\n"
	"for i = 2, #ARGV do\n"
	"  zl[2 * i - 3] = ARGV[1]\n"
	"  zl[2 * i - 2] = ARGV[i]\n"
	"  if dead and redis.call('ZREM', KEYS[2], ARGV[i]) == 1 then\n"
	"    redis.call('HDEL', KEYS[3], ARGV[i])\n"
	"  end\n"
	"end\n"
	"redis.call('ZADD', KEYS[1], unpack(zl))\n"
	"redis.call('LPUSH', KEYS[4], 1)\n"
	"redis.call('LTRIM', KEYS[4], 0, 0)\n"
	"return #ARGV - 1\n";

/*
 * KEYS: consumer:C; ARGV: expected-client id client ttl_ms.
 * Registers this connection as C if C's registration is still the
 * expected one ("" for none); returns 1, or 0 when it changed meanwhile.
 */
static const char register_lua[] =
	"if (redis.call('HGET', KEYS[1], 'client') or '') ~= ARGV[1] then\n"
	"  return 0\n"
	"end\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('HSET', KEYS[1], 'id', ARGV[2], 'client', ARGV[3])\n"
	"redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
	"return 1\n";

/* KEYS: consumer:C; ARGV: client ttl_ms. 1 when renewed, 0 if lost. */
static const char beat_lua[] =
	"if redis.call('HGET', KEYS[1], 'client') ~= ARGV[1] then\n"
	"  return 0\n"
	"end\n"
	"redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
	"return 1\n";

/*
 * KEYS: pending leases again deliveries held:C consumer:C suspect
 * probe:C; ARGV: client delay_ms.
 * Makes the claims of up to 100 of C's tokens ready again, ahead of the
 * ready items (a number queued again meanwhile keeps that activity time);
 * returns {tokens done, numbers moved}, or {-1, 0} when C is not
 * registered to this connection.
 *
 * A consumer that died is no proof against what it held: an operator,
 * the OOM killer or a crash of any stage kills the pipeline with a batch
 * or more in flight, all of it innocent but perhaps one. So what is taken
 * back is not counted but becomes suspect (the suspect hash: number ->
 * the size of the probe it may be handed out in, see claim_lua): the
 * numbers of C's ordinary claims in probes as large as a claim, those of
 * C's probe (all C held when it died) in probes half its size, so that a
 * number that kills its pipeline each time is alone in a probe after
 * log2(batch) deaths; only then, C's probe holding that one number, is a
 * delivery counted. Lease expiries are counted as always.
 */
static const char release_lua[] =
	SCRIPT_NOW SCRIPT_LAPSE
	"if redis.call('HGET', KEYS[6], 'client') ~= ARGV[1] then\n"
	"  return {-1, 0}\n"
	"end\n"
	"local first = now - tonumber(ARGV[2])\n"
	"local p = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"
	"if #p > 0 and tonumber(p[2]) <= first then first = tonumber(p[2]) - 1 end\n"
	"first = string.format('%d', first)\n"
	"local tokens = redis.call('ZRANGE', KEYS[5], 0, 99)\n"
	"local pt = redis.call('HGET', KEYS[8], 't')\n"
	"local moved = 0\n"
	"for _, t in ipairs(tokens) do\n"
	"  local nums = redis.call('ZRANGEBYSCORE', KEYS[2], t, t)\n"
	"  local g = 1000\n"
	"  if t == pt then g = math.ceil(#nums / 2) end\n"
	"  for _, n in ipairs(nums) do\n"
	"    lapse(n, first, t == pt and #nums == 1)\n"
	"    redis.call('HSET', KEYS[7], n, g)\n"
	"    moved = moved + 1\n"
	"  end\n"
	"end\n"
	"if #tokens > 0 then redis.call('ZREM', KEYS[5], unpack(tokens)) end\n"
	"if #tokens < 100 then redis.call('DEL', KEYS[8]) end\n"
	"return {#tokens, moved}\n";

/*
 * KEYS: pending dead deliveries wake; ARGV: n1 n2 ... (none: up to 1000
 * of the parked numbers). Puts parked numbers back, active now, their
 * count reset; returns {how many, {numbers that were not parked}}.
 */
static const char retry_lua[] =
	SCRIPT_NOW
	"local nums = ARGV\n"
	"if #ARGV == 0 then nums = redis.call('ZRANGE', KEYS[2], 0, 999) end\n"
	"local done, missing = 0, {}\n"
	"for _, n in ipairs(nums) do\n"
	"  if redis.call('ZREM', KEYS[2], n) == 1 then\n"
	"    redis.call('HDEL', KEYS[3], n)\n"
	"    redis.call('ZADD', KEYS[1], now, n)\n"
	"    done = done + 1\n"
	"  else\n"
	"    missing[#missing + 1] = n\n"
	"  end\n"
	"end\n"
	"if done > 0 then\n"
	"  redis.call('LPUSH', KEYS[4], 1)\n"
	"  redis.call('LTRIM', KEYS[4], 0, 0)\n"
	"end\n"
	"return {done, missing}\n";

/*
 * KEYS: pending leases again wake deliveries dead suspect. Removes them; returns
 * how many numbers they held (queued, claimed or parked). The consumers'
 * held sets expire with their last lease; the token key stays, so that
 * tokens stay unique.
 */
static const char purge_lua[] =
	"local n = redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2])"
	" + redis.call('ZCARD', KEYS[6])\n"
	"redis.call('UNLINK', unpack(KEYS))\n"
	"return n\n";

enum key {
	PENDING, LEASES, AGAIN, WAKE, DELIVERIES, DEAD, TOKEN, SUSPECT, HELD,
	CONSUMER, PROBE, NKEYS
};
static const char *const key_suffix[NKEYS] = {
	"pending", "leases", "again", "wake", "deliveries", "dead", "token",
	"suspect", "held:", "consumer:", "probe:"
};

struct keys {
	char name[NKEYS][256];
};

/* The keys of 'queue'; those of one consumer name 'consumer', if any. */
static void
make_keys(struct keys *k, const char *queue, const char *consumer)
{
	for (int i = 0; i < NKEYS; i++)
		snprintf(k->name[i], sizeof k->name[i], "wb:{%s}:%s%s", queue,
		    key_suffix[i], i >= HELD && consumer != NULL ? consumer : "");
}

/* The server's time in ms, from a reply to TIME of two elements. */
static long long
time_ms(const redisReply *r)
{
	return strtoll(r->element[0]->str, NULL, 10) * 1000 +
	    strtoll(r->element[1]->str, NULL, 10) / 1000;
}

void
wb_queue_append_init(struct wb_queue *q, redisContext *c)
{
	q->c = c;
	q->consumer[0] = q->client[0] = '\0';
	/* Activity times are the server's clock, read once and then advanced
	 * by our monotonic clock: no clock skew, no round trip per batch.
	 * Our clock is read before TIME is sent, so that a late reply never
	 * dates an activity before the server's time (only after it). */
	q->mono0_ms = wb_clock_ms();
	wb_redis_xappend(c, "TIME");
	wb_redis_xappend(c, "SCRIPT LOAD %s", claim_lua);
	wb_redis_xappend(c, "SCRIPT LOAD %s", ack_lua);
	wb_redis_xappend(c, "SCRIPT LOAD %s", push_lua);
}

int
wb_queue_init_reply(struct wb_queue *q, int i, const redisReply *r,
    char *why, size_t whylen)
{
	char *const sha[] = { q->claim_sha, q->ack_sha, q->push_sha };
	const char *said = r == NULL ? q->c->errstr :
	    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply";

	if (i == 0) {
		if (r == NULL || r->type != REDIS_REPLY_ARRAY ||
		    r->elements != 2) {
			snprintf(why, whylen, "unable to read the Redis time: %s",
			    said);
			return -1;
		}
		q->time0_ms = time_ms(r);
		return 0;
	}
	if (r == NULL || r->type != REDIS_REPLY_STRING || r->len != 40) {
		snprintf(why, whylen, "unable to load the queue scripts into "
		    "Redis: %s", said);
		return -1;
	}
	memcpy(sha[i - 1], r->str, 41);
	return 0;
}

int
wb_queue_init(struct wb_queue *q, redisContext *c, char *why, size_t whylen)
{
	wb_queue_append_init(q, c);
	for (int i = 0; i < WB_QUEUE_INIT_REPLIES; i++) {
		void *r = NULL;
		int rc;

		if (redisGetReply(c, &r) != REDIS_OK)
			r = NULL;
		rc = wb_queue_init_reply(q, i, r, why, whylen);
		if (r != NULL)
			freeReplyObject(r);
		if (rc < 0)
			return -1;
	}
	return 0;
}

void
wb_queue_connect_or_die(struct wb_queue *q, const char *url)
{
	char why[512];

	if (wb_queue_init(q, wb_redis_connect_or_die(url), why, sizeof why) < 0)
		wb_die(WB_EXIT_TEMP, "%s", why);
}

void
wb_queue_close(struct wb_queue *q)
{
	if (q->c != NULL)
		redisFree(q->c);
	q->c = NULL;
}

/*
 * Append 'cmd' (EVALSHA or EVAL) 'body' nkeys keys... then the 'nargs'
 * strings of 'args'; exits 111 when memory runs out, as
 * wb_redis_xappend_argv().
 */
static void
xappend_script(struct wb_queue *q, const char *cmd, const char *body,
    const struct keys *k, const int *which, int nkeys,
    const char *const *args, size_t nargs)
{
	const char *argv[3 + NKEYS + 2 * WB_QUEUE_BATCH_MAX + 2];
	size_t argl[3 + NKEYS + 2 * WB_QUEUE_BATCH_MAX + 2];
	char nk[4];
	size_t argc = 0;

	snprintf(nk, sizeof nk, "%d", nkeys);
	argv[argc++] = cmd;
	argv[argc++] = body;
	argv[argc++] = nk;
	for (int i = 0; i < nkeys; i++)
		argv[argc++] = k->name[which[i]];
	for (size_t i = 0; i < nargs; i++)
		argv[argc++] = args[i];
	for (size_t i = 0; i < argc; i++)
		argl[i] = strlen(argv[i]);
	wb_redis_xappend_argv(q->c, (int)argc, argv, argl);
}

static long long
now_ms(const struct wb_queue *q)
{
	return q->time0_ms + wb_clock_ms() - q->mono0_ms;
}

void
wb_queue_append_push(struct wb_queue *q, const char *queue,
    const long *numbers, size_t n)
{
	static const int which[] = { PENDING, DEAD, DELIVERIES, WAKE };
	char text[WB_QUEUE_BATCH_MAX][12], now[24];
	const char *args[1 + WB_QUEUE_BATCH_MAX];
	struct keys k;

	make_keys(&k, queue, NULL);
	snprintf(now, sizeof now, "%lld", now_ms(q));
	args[0] = now;
	for (size_t i = 0; i < n; i++) {
		snprintf(text[i], sizeof text[i], "%ld", numbers[i]);
		args[1 + i] = text[i];
	}
	xappend_script(q, "EVALSHA", q->push_sha, &k, which, 4, args, 1 + n);
	wb_redis_xappend(q->c, "SADD wb:queues %s", queue);
}

/* Read one reply; returns it, or NULL with 'why' set (the reply freed). */
static redisReply *
next_reply(struct wb_queue *q, int type, char *why, size_t whylen)
{
	void *v = NULL;
	redisReply *r;

	if (redisGetReply(q->c, &v) != REDIS_OK || v == NULL) {
		snprintf(why, whylen, "Redis connection lost: %s",
		    q->c->errstr[0] ? q->c->errstr : "no reply");
		return NULL;
	}
	r = v;
	if (r->type != type) {
		snprintf(why, whylen, "Redis answered %s",
		    r->type == REDIS_REPLY_ERROR ? r->str : "an unexpected reply");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

int
wb_queue_push_reply(struct wb_queue *q, char *why, size_t whylen)
{
	static const int types[] = { REDIS_REPLY_INTEGER, REDIS_REPLY_INTEGER };
	int failed = 0;

	/* Read both replies even after a failure, to stay in step. */
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		redisReply *r = next_reply(q, types[i], failed ? NULL : why,
		    failed ? 0 : whylen);

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
	static const int which[] = { PENDING, LEASES, AGAIN, WAKE, DELIVERIES,
	    SUSPECT };
	char text[WB_QUEUE_BATCH_MAX][12];
	const char *args[2 * WB_QUEUE_BATCH_MAX];
	struct keys k;

	make_keys(&k, queue, NULL);
	for (size_t i = 0; i < n; i++) {
		snprintf(text[i], sizeof text[i], "%ld", numbers[i]);
		args[2 * i] = text[i];
		args[2 * i + 1] = claims[i];
	}
	xappend_script(q, "EVALSHA", q->ack_sha, &k, which, 6, args, 2 * n);
}

long
wb_queue_ack_reply(struct wb_queue *q, long *stale, char *why, size_t whylen)
{
	redisReply *r = next_reply(q, REDIS_REPLY_ARRAY, why, whylen);
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
wb_queue_consumer_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= WB_CONSUMER_MAX && strspn(name,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "_.:@-") == n;
}

/* Run one script (EVAL) synchronously; the reply, or NULL and 'why'. */
static redisReply *
eval(struct wb_queue *q, const char *body, const struct keys *k,
    const int *which, int nkeys, const char *const *args, size_t nargs,
    int type, char *why, size_t whylen)
{
	xappend_script(q, "EVAL", body, k, which, nkeys, args, nargs);
	return next_reply(q, type, why, whylen);
}

/*
 * Run one command synchronously; the reply, or NULL and 'why'. Exits 111
 * when memory runs out, as xappend_script.
 */
static redisReply *
xcommand(struct wb_queue *q, int type, char *why, size_t whylen,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wb_redis_xappendv(q->c, fmt, ap);
	va_end(ap);
	return next_reply(q, type, why, whylen);
}

/* Name our connection uniquely: the name is what proves it is alive. */
static int
name_client(struct wb_queue *q, const char *queue, char *why, size_t whylen)
{
	unsigned char rnd[8];
	char hex[17];
	redisReply *r;

	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		snprintf(why, whylen, "unable to read random bytes: %s",
		    strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(q->client, sizeof q->client, "wb-dequeue:%s:%s", queue, hex);
	r = xcommand(q, REDIS_REPLY_STATUS, why, whylen, "CLIENT SETNAME %s",
	    q->client);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	r = xcommand(q, REDIS_REPLY_INTEGER, why, whylen, "CLIENT ID");
	if (r == NULL)
		return -1;
	q->id = r->integer;
	freeReplyObject(r);
	return 0;
}

/*
 * Is the connection 'id' named 'client' still open? 1 yes, 0 no, -1 with
 * 'why'. CLIENT cannot run in a script, hence this separate round trip;
 * the registration is then changed only if it is still the one seen.
 */
static int
client_alive(struct wb_queue *q, const char *id, const char *client,
    char *why, size_t whylen)
{
	char want[300];
	redisReply *r;
	int alive;

	r = xcommand(q, REDIS_REPLY_STRING, why, whylen, "CLIENT LIST ID %s", id);
	if (r == NULL)
		return -1;
	snprintf(want, sizeof want, " name=%s ", client);
	alive = strstr(r->str, want) != NULL;
	freeReplyObject(r);
	return alive;
}

int
wb_queue_join(struct wb_queue *q, const char *queue, const char *name,
    long long delay_ms, long long *holder, long long *taken, char *why,
    size_t whylen)
{
	static const int reg[] = { CONSUMER };
	static const int rel[] = { PENDING, LEASES, AGAIN, DELIVERIES, HELD,
	    CONSUMER, SUSPECT, PROBE };
	char id[24], ttl[24], delay[24];
	const char *args[4];
	struct keys k;
	redisReply *r;
	long long tokens;
	int registered = 0;

	if (q->client[0] == '\0' && name_client(q, queue, why, whylen) < 0)
		return -1;
	snprintf(q->consumer, sizeof q->consumer, "%s", name);
	make_keys(&k, queue, name);
	snprintf(id, sizeof id, "%lld", q->id);
	snprintf(ttl, sizeof ttl, "%d", WB_QUEUE_TTL_MS);
	while (!registered) {
		char seen[sizeof q->client] = "";

		r = xcommand(q, REDIS_REPLY_ARRAY, why, whylen,
		    "HMGET %s id client", k.name[CONSUMER]);
		if (r == NULL)
			return -1;
		if (r->elements == 2 &&
		    r->element[0]->type == REDIS_REPLY_STRING &&
		    r->element[1]->type == REDIS_REPLY_STRING) {
			int alive = client_alive(q, r->element[0]->str,
			    r->element[1]->str, why, whylen);

			if (alive != 0) {
				*holder = strtoll(r->element[0]->str, NULL, 10);
				freeReplyObject(r);
				return alive;
			}
			snprintf(seen, sizeof seen, "%s", r->element[1]->str);
		}
		freeReplyObject(r);
		args[0] = seen, args[1] = id, args[2] = q->client, args[3] = ttl;
		r = eval(q, register_lua, &k, reg, 1, args, 4,
		    REDIS_REPLY_INTEGER, why, whylen);
		if (r == NULL)
			return -1;
		registered = r->integer == 1;
		freeReplyObject(r);
	}

	/* Ours now: its predecessor's claims are ready again, in chunks. */
	snprintf(delay, sizeof delay, "%lld", delay_ms);
	args[0] = q->client, args[1] = delay;
	*taken = 0;
	do {
		r = eval(q, release_lua, &k, rel, 8, args, 2,
		    REDIS_REPLY_ARRAY, why, whylen);
		if (r == NULL)
			return -1;
		tokens = r->elements == 2 &&
		    r->element[0]->type == REDIS_REPLY_INTEGER &&
		    r->element[1]->type == REDIS_REPLY_INTEGER ?
		    r->element[0]->integer : -1;
		if (tokens > 0)
			*taken += r->element[1]->integer;
		freeReplyObject(r);
		if (tokens < 0) {
			snprintf(why, whylen, "consumer %s of %s was taken over "
			    "by another dequeuer", name, queue);
			return -1;
		}
	} while (tokens > 0);
	return 0;
}

int
wb_queue_beat(struct wb_queue *q, const char *queue, char *why, size_t whylen)
{
	static const int which[] = { CONSUMER };
	char ttl[24];
	const char *args[2] = { q->client, ttl };
	struct keys k;
	redisReply *r;
	long long ok;

	make_keys(&k, queue, q->consumer);
	snprintf(ttl, sizeof ttl, "%d", WB_QUEUE_TTL_MS);
	r = eval(q, beat_lua, &k, which, 1, args, 2, REDIS_REPLY_INTEGER, why,
	    whylen);
	if (r == NULL)
		return -1;
	ok = r->integer;
	freeReplyObject(r);
	if (ok != 1) {
		snprintf(why, whylen, "consumer %s of %s was taken over by "
		    "another dequeuer", q->consumer, queue);
		return -1;
	}
	return 0;
}

/* Fill 'out' from the claim script's reply 'r'; 0, or -1 with 'why'. */
static int
claim_reply(const struct wb_queue *q, const char *queue, redisReply *r,
    size_t limit, struct wb_claim *out, char *why, size_t whylen)
{
	redisReply *items, *parked;

	out->n = out->nparked = 0;
	out->token[0] = '\0';
	out->wait_ms = -1;
	if (r->elements >= 1 && r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "lost") == 0) {
		snprintf(why, whylen, "consumer %s of %s was taken over by "
		    "another dequeuer", q->consumer, queue);
		return -1;
	}
	if (r->elements != 4 || r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[2]->type != REDIS_REPLY_ARRAY ||
	    r->element[3]->type != REDIS_REPLY_ARRAY) {
		snprintf(why, whylen, "Redis answered an unexpected claim reply");
		return -1;
	}
	items = r->element[2];
	parked = r->element[3];
	if (strcmp(r->element[0]->str, "claim") == 0 &&
	    r->element[1]->type == REDIS_REPLY_STRING) {
		snprintf(out->token, sizeof out->token, "%s",
		    r->element[1]->str);
		for (size_t i = 0; i < items->elements && out->n < limit; i++)
			if (items->element[i]->type == REDIS_REPLY_STRING)
				out->numbers[out->n++] =
				    strtol(items->element[i]->str, NULL, 10);
	} else if (r->element[1]->type == REDIS_REPLY_INTEGER)
		out->wait_ms = r->element[1]->integer;
	for (size_t i = 0; i + 1 < parked->elements &&
	    out->nparked < WB_QUEUE_BATCH_MAX; i += 2) {
		if (parked->element[i]->type != REDIS_REPLY_STRING ||
		    parked->element[i + 1]->type != REDIS_REPLY_INTEGER)
			continue;
		out->parked[out->nparked] = strtol(parked->element[i]->str,
		    NULL, 10);
		out->parked_count[out->nparked++] =
		    parked->element[i + 1]->integer;
	}
	return 0;
}

int
wb_queue_claim(struct wb_queue *q, const char *queue, long long delay_ms,
    long long lease_ms, long long max_deliveries, size_t limit,
    struct wb_claim *out, char *why, size_t whylen)
{
	static const int which[] = { PENDING, LEASES, AGAIN, DELIVERIES, DEAD,
	    HELD, CONSUMER, TOKEN, SUSPECT, PROBE };
	char a[5][24];
	const char *args[6] = { a[0], a[1], a[2], a[3], q->client, a[4] };
	struct keys k;
	redisReply *r;
	int rc;

	if (limit > WB_QUEUE_BATCH_MAX)
		limit = WB_QUEUE_BATCH_MAX;
	snprintf(a[0], sizeof a[0], "%lld", delay_ms);
	snprintf(a[1], sizeof a[1], "%lld", lease_ms);
	snprintf(a[2], sizeof a[2], "%zu", limit);
	snprintf(a[3], sizeof a[3], "%lld", max_deliveries);
	snprintf(a[4], sizeof a[4], "%d", WB_QUEUE_TTL_MS);
	make_keys(&k, queue, q->consumer);
	xappend_script(q, "EVALSHA", q->claim_sha, &k, which, 10, args, 6);
	r = next_reply(q, REDIS_REPLY_ARRAY, why, whylen);
	if (r == NULL)
		return -1;
	rc = claim_reply(q, queue, r, limit, out, why, whylen);
	freeReplyObject(r);
	return rc;
}

int
wb_queue_wait(struct wb_queue *q, const char *queue, long long wait_ms,
    char *why, size_t whylen)
{
	struct keys k;
	redisReply *r;
	void *v = NULL;
	char secs[32];
	int done = 0, rc;

	make_keys(&k, queue, NULL);
	if (wait_ms < 0)
		snprintf(secs, sizeof secs, "0");
	else
		snprintf(secs, sizeof secs, "%.3f",
		    (double)(wait_ms < 1 ? 1 : wait_ms) / 1000.0);
	/* Sent, then waited for beside standard output: a reader that dies
	 * meanwhile is noticed at once, not at the next write. */
	wb_redis_xappend(q->c, "BLPOP %s %s", k.name[WAKE], secs);
	while (!done)
		if (redisBufferWrite(q->c, &done) != REDIS_OK) {
			snprintf(why, whylen, "unable to wait on Redis: %s",
			    q->c->errstr);
			return -1;
		}
	/* Redis answers after 'secs'; if it does not within a further 30 s,
	 * it is gone. */
	rc = wb_pipe_wait(q->c->fd, POLLIN, wait_ms < 0 ? -1 : wait_ms + 30000);
	if (rc < 0)
		return 1;
	if (rc == 0) {
		snprintf(why, whylen, "unable to wait on Redis: no answer");
		return -1;
	}
	if (redisGetReply(q->c, &v) != REDIS_OK || v == NULL) {
		snprintf(why, whylen, "unable to wait on Redis: %s",
		    q->c->errstr[0] ? q->c->errstr : "no reply");
		return -1;
	}
	r = v;
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, whylen, "unable to wait on Redis: %s", r->str);
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
server_ms_or_die(struct wb_queue *q)
{
	redisReply *r = wb_redis_check_or_die(q->c, redisCommand(q->c, "TIME"),
	    "read the Redis time");
	long long ms = 0;

	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
		ms = time_ms(r);
	freeReplyObject(r);
	return ms;
}

void
wb_queue_append_stats(struct wb_queue *q, const char *queue,
    long long delay_ms, long long server_now_ms, struct wb_queue_stats *st)
{
	redisContext *c = q->c;
	struct keys k;
	char edge[24], now[24];

	make_keys(&k, queue, NULL);
	st->now_ms = server_now_ms >= 0 ? server_now_ms : now_ms(q);
	snprintf(edge, sizeof edge, "%lld", st->now_ms - delay_ms);
	snprintf(now, sizeof now, "%lld", st->now_ms);
	wb_redis_xappend(c, "ZCARD %s", k.name[PENDING]);
	wb_redis_xappend(c, "ZCOUNT %s -inf %s", k.name[PENDING], edge);
	wb_redis_xappend(c, "ZCARD %s", k.name[LEASES]);
	wb_redis_xappend(c, "ZCOUNT %s -inf %s", k.name[LEASES], now);
	wb_redis_xappend(c, "ZCARD %s", k.name[AGAIN]);
	wb_redis_xappend(c, "ZCARD %s", k.name[DEAD]);
	wb_redis_xappend(c, "ZRANGE %s 0 0 WITHSCORES", k.name[PENDING]);
}

int
wb_queue_stats_reply(struct wb_queue *q, struct wb_queue_stats *st,
    char *why, size_t whylen)
{
	long long v[WB_QUEUE_STATS_REPLIES - 1];
	redisReply *r[WB_QUEUE_STATS_REPLIES];
	int failed = 0;

	/* Read every reply even after a failure, to stay in step. */
	for (int i = 0; i < WB_QUEUE_STATS_REPLIES; i++) {
		void *p = NULL;

		if (redisGetReply(q->c, &p) != REDIS_OK)
			p = NULL;
		r[i] = p;
		if (!failed && (r[i] == NULL ||
		    r[i]->type == REDIS_REPLY_ERROR)) {
			if (r[i] == NULL)
				snprintf(why, whylen, "Redis connection lost: "
				    "%s", q->c->errstr[0] ? q->c->errstr :
				    "no reply");
			else
				snprintf(why, whylen, "Redis answered: %s",
				    r[i]->str);
			failed = 1;
		}
		if (i < WB_QUEUE_STATS_REPLIES - 1)
			v[i] = r[i] != NULL && r[i]->type ==
			    REDIS_REPLY_INTEGER ? r[i]->integer : 0;
		if (r[i] == NULL)
			break;		/* the connection is gone */
	}
	if (!failed) {
		redisReply *oldest = r[WB_QUEUE_STATS_REPLIES - 1];

		st->ready = v[1];
		st->waiting = v[0] - st->ready;
		st->claimed = v[2];
		st->expired = v[3];
		st->again = v[4];
		st->dead = v[5];
		st->queued = st->ready + st->waiting + st->claimed;
		st->oldest_ready_ms = -1;
		if (st->ready > 0 && oldest->type == REDIS_REPLY_ARRAY &&
		    oldest->elements == 2)
			st->oldest_ready_ms = st->now_ms -
			    (long long)strtod(oldest->element[1]->str, NULL);
	}
	for (int i = 0; i < WB_QUEUE_STATS_REPLIES && r[i] != NULL; i++)
		freeReplyObject(r[i]);
	return failed ? -1 : 0;
}

void
wb_queue_stats_or_die(struct wb_queue *q, const char *queue, long long delay_ms,
    struct wb_queue_stats *st)
{
	char why[512];

	wb_queue_append_stats(q, queue, delay_ms, server_ms_or_die(q), st);
	if (wb_queue_stats_reply(q, st, why, sizeof why) < 0)
		wb_die(WB_EXIT_TEMP, "unable to read queue statistics: %s", why);
}

long long
wb_queue_purge_or_die(struct wb_queue *q, const char *queue)
{
	static const int which[] = { PENDING, LEASES, AGAIN, WAKE, DELIVERIES,
	    DEAD, SUSPECT };
	const char *what = "purge the queue";
	struct keys k;
	redisReply *r;
	char why[512];
	long long n;

	make_keys(&k, queue, NULL);
	r = eval(q, purge_lua, &k, which, 7, NULL, 0, REDIS_REPLY_INTEGER, why,
	    sizeof why);
	if (r == NULL)
		wb_die(WB_EXIT_TEMP, "unable to %s: %s", what, why);
	n = integer(r);
	freeReplyObject(wb_redis_check_or_die(q->c, redisCommand(q->c,
	    "SREM wb:queues %s", queue), what));
	return n;
}

static void
list_set_or_die(struct wb_queue *q, const char *key, long long edge,
    const char *before, const char *after,
    void (*fn)(long, const char *, long long, void *), void *arg)
{
	const long long chunk = 10000;

	for (long long start = 0;; start += chunk) {
		redisReply *r = wb_redis_check_or_die(q->c, redisCommand(q->c,
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
wb_queue_list_or_die(struct wb_queue *q, const char *queue, long long delay_ms,
    void (*fn)(long number, const char *state, long long time_ms, void *arg),
    void *arg)
{
	struct keys k;
	long long now = server_ms_or_die(q);

	make_keys(&k, queue, NULL);
	list_set_or_die(q, k.name[PENDING], now - delay_ms, "ready", "waiting",
	    fn, arg);
	list_set_or_die(q, k.name[LEASES], 0, "claimed", "claimed", fn, arg);
	list_set_or_die(q, k.name[DEAD], 0, "dead", "dead", fn, arg);
}

void
wb_queue_dead_or_die(struct wb_queue *q, const char *queue,
    void (*fn)(long number, long long deliveries, long long parked_ms,
    void *arg), void *arg)
{
	const char *what = "list the parked numbers";
	const long long chunk = 1000;
	const char *argv[2 + 1000];
	size_t argl[2 + 1000];
	struct keys k;

	make_keys(&k, queue, NULL);
	for (long long start = 0;; start += chunk) {
		redisReply *r = wb_redis_check_or_die(q->c, redisCommand(q->c,
		    "ZRANGE %s %lld %lld WITHSCORES", k.name[DEAD], start,
		    start + chunk - 1), what), *d;
		size_t n = r->elements / 2;

		if (n == 0) {
			freeReplyObject(r);
			return;
		}
		argv[0] = "HMGET", argv[1] = k.name[DELIVERIES];
		for (size_t i = 0; i < n; i++)
			argv[2 + i] = r->element[2 * i]->str;
		for (size_t i = 0; i < 2 + n; i++)
			argl[i] = strlen(argv[i]);
		d = wb_redis_check_or_die(q->c, redisCommandArgv(q->c,
		    (int)(2 + n), argv, argl), what);
		for (size_t i = 0; i < n; i++)
			fn(strtol(r->element[2 * i]->str, NULL, 10),
			    i < d->elements &&
			    d->element[i]->type == REDIS_REPLY_STRING ?
			    strtoll(d->element[i]->str, NULL, 10) : 0,
			    (long long)strtod(r->element[2 * i + 1]->str, NULL),
			    arg);
		freeReplyObject(d);
		freeReplyObject(r);
		if ((long long)n < chunk)
			return;
	}
}

long long
wb_queue_retry_or_die(struct wb_queue *q, const char *queue,
    const long *numbers, size_t n, void (*missing)(long number, void *arg),
    void *arg)
{
	static const int which[] = { PENDING, DEAD, DELIVERIES, WAKE };
	char text[WB_QUEUE_BATCH_MAX][12], why[512];
	const char *args[WB_QUEUE_BATCH_MAX];
	long long total = 0, done;
	size_t off = 0;
	struct keys k;

	make_keys(&k, queue, NULL);
	do {
		size_t m = n - off > WB_QUEUE_BATCH_MAX ? WB_QUEUE_BATCH_MAX :
		    n - off;
		redisReply *r;

		for (size_t i = 0; i < m; i++) {
			snprintf(text[i], sizeof text[i], "%ld", numbers[off + i]);
			args[i] = text[i];
		}
		r = eval(q, retry_lua, &k, which, 4, args, m,
		    REDIS_REPLY_ARRAY, why, sizeof why);
		if (r == NULL)
			wb_die(WB_EXIT_TEMP, "unable to put parked numbers back: "
			    "%s", why);
		done = r->elements == 2 &&
		    r->element[0]->type == REDIS_REPLY_INTEGER ?
		    r->element[0]->integer : 0;
		if (r->elements == 2 && r->element[1]->type == REDIS_REPLY_ARRAY)
			for (size_t i = 0; i < r->element[1]->elements; i++)
				missing(strtol(r->element[1]->element[i]->str,
				    NULL, 10), arg);
		freeReplyObject(r);
		total += done;
		off += m;
		/* All of them: until a call finds fewer than a chunk. */
	} while (n == 0 ? done == WB_QUEUE_BATCH_MAX : off < n);
	return total;
}

redisReply *
wb_queue_names_or_die(struct wb_queue *q)
{
	redisReply *r = wb_redis_check_or_die(q->c, redisCommand(q->c,
	    "SMEMBERS wb:queues"), "list the queues");

	if (r->type != REDIS_REPLY_ARRAY)
		wb_die(WB_EXIT_TEMP, "unable to list the queues: unexpected reply");
	return r;
}
