/* SPDX-License-Identifier: MPL-2.0 */
/* wb — requests waiting for Redis, their numbers queued in batches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/epoll.h>

#include "wb_hook_batcher.h"
#include "wb_clock.h"
#include "wb_err.h"
#include "wb_redis.h"
#include "wb_scan.h"
#include "wb_xalloc.h"

#define SLOW_CONNECT_MS 50	/* a failed attempt this slow is backed off */
#define BACKOFF_MIN_MS 1000	/* from the next attempt, doubling */
#define BACKOFF_MAX_MS 16000

void
wb_hook_batcher_init(struct wb_hook_batcher *b, const char *url,
    const char *queue, int ep,
    void (*settled)(struct wb_hook_batch_item *, void *), void *arg)
{
	*b = (struct wb_hook_batcher){ .url = url, .queue = queue, .ep = ep,
	    .settled = settled, .arg = arg, .fd = -1 };
	b->queued_tail = &b->queued;
}

void
wb_hook_batcher_probe_or_die(const char *url)
{
	char why[512];
	int permanent;
	redisContext *c = wb_redis_open(url, WB_HOOK_BATCHER_TIMEOUT_MS, why,
	    sizeof why, &permanent);

	if (c != NULL)
		redisFree(c);
	else if (permanent)
		wb_die(WB_EXIT_USAGE, "%s", why);
	else
		wb_warn("%s; answering 503 until it is back", why);
}

void
wb_hook_batcher_add(struct wb_hook_batcher *b, struct wb_hook_batch_item *item)
{
	item->next = NULL;
	*b->queued_tail = item;
	b->queued_tail = &item->next;
}

/* Settle every item of 'list' with the outcome. */
static void
settle(struct wb_hook_batcher *b, struct wb_hook_batch_item *list, int failed,
    const char *why)
{
	while (list != NULL) {
		struct wb_hook_batch_item *it = list;

		list = it->next;
		it->failed = failed;
		if (failed)
			snprintf(it->why, sizeof it->why, "%s", why);
		it->done = 1;
		b->settled(it, b->arg);
	}
}

/* Fail every item waiting for the next batch. */
static void
fail_queued(struct wb_hook_batcher *b, const char *why)
{
	struct wb_hook_batch_item *all = b->queued;

	b->queued = NULL;
	b->queued_tail = &b->queued;
	settle(b, all, 1, why);
}

/* Forget what a scrape read so far. */
static void
scrape_reset(struct wb_hook_batcher *b)
{
	if (b->names != NULL)
		freeReplyObject(b->names);
	b->names = NULL;
	free(b->mq);
	b->mq = NULL;
	b->nmq = 0;
}

void
wb_hook_batcher_close(struct wb_hook_batcher *b)
{
	scrape_reset(b);
	if (b->fd >= 0)
		epoll_ctl(b->ep, EPOLL_CTL_DEL, b->fd, NULL);
	b->fd = -1;
	b->connecting = 0;
	wb_queue_close(&b->q);
}

/*
 * Watch the socket for 'events' (it is watched already when 'mod').
 * Returns 0, or -1 with the reason in why[whylen]: the connection is then
 * of no use, and the receiver goes on serving without it.
 */
static int
watch(struct wb_hook_batcher *b, unsigned events, int mod, char *why,
    size_t whylen)
{
	struct epoll_event ev = { .events = events, .data.fd = b->fd };

	if (epoll_ctl(b->ep, mod ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, b->fd,
	    &ev) < 0) {
		snprintf(why, whylen, "unable to watch the Redis connection: "
		    "%s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A connection attempt failed with 'why': if it failed slowly (an
 * address that does not answer, a frozen Redis), no other is made before
 * a backoff, during which items fail at once with the reason, so that
 * requests do not each wait 2 s in vain.
 */
static void
back_off(struct wb_hook_batcher *b, const char *why, int always)
{
	if (!always && wb_clock_ms() - b->conn_at < SLOW_CONNECT_MS)
		return;
	b->backoff_ms = b->backoff_ms == 0 ? BACKOFF_MIN_MS :
	    wb_clock_backoff(b->backoff_ms, BACKOFF_MAX_MS);
	b->retry_at = wb_clock_ms() + b->backoff_ms;
	snprintf(b->retry_why, sizeof b->retry_why, "%.200s (next attempt "
	    "in %lld ms)", why, b->backoff_ms);
}

/*
 * The attempt in progress failed with 'why': the waiting items fail. A
 * Redis that evicts keys is refused ('evicts'): it is asked again only
 * after the backoff, not once per request.
 */
static void
connect_failed(struct wb_hook_batcher *b, const char *why, int evicts)
{
	wb_hook_batcher_close(b);
	back_off(b, why, evicts);
	fail_queued(b, why);
}

/*
 * Begin a connection attempt without waiting: connect, and pipeline the
 * set-up (AUTH, SELECT, the queue's TIME and scripts); the socket is
 * watched until it is writable, then the replies are read as they come
 * (connecting()). Returns 0, or -1 with 'why' set when it failed at once.
 */
static int
start_connect(struct wb_hook_batcher *b, char *why, size_t whylen)
{
	redisContext *c;
	int permanent;

	wb_hook_batcher_close(b);
	if (wb_clock_ms() < b->retry_at) {
		snprintf(why, whylen, "%s", b->retry_why);
		return -1;
	}
	b->conn_at = wb_clock_ms();
	wb_debug("connecting to Redis");
	/* Resolving a host name, if WB_REDIS has one, still blocks. */
	c = wb_redis_start(b->url, b->where, sizeof b->where, &b->setup_n,
	    why, whylen, &permanent);
	if (c == NULL) {
		back_off(b, why, 0);
		return -1;
	}
	wb_queue_append_init(&b->q, c);
	b->replies_n = b->setup_n + WB_QUEUE_INIT_REPLIES;
	b->got = 0;
	b->written = 0;
	b->connecting = 1;
	b->fd = c->fd;
	if (watch(b, EPOLLOUT, 0, why, whylen) < 0) {
		wb_hook_batcher_close(b);
		back_off(b, why, 1);
		return -1;
	}
	return 0;
}

/* Check set-up reply 'i' ('r' borrowed, NULL: none); 0, or -1 and 'why'. */
static int
check_setup(struct wb_hook_batcher *b, int i, const redisReply *r, char *why,
    size_t whylen)
{
	int permanent;

	if (i < b->setup_n)
		return wb_redis_start_reply(b->q.c, b->url, i, r, why, whylen,
		    &permanent);
	return wb_queue_init_reply(&b->q, i - b->setup_n, r, why, whylen);
}

/* The socket of a connection attempt is ready: write, or read replies. */
static void
connecting(struct wb_hook_batcher *b)
{
	redisContext *c = b->q.c;
	socklen_t len = sizeof(int);
	int done = 0, lost, soerr = 0;
	char why[512];

	if (!b->written) {
		if (getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr != 0 || redisBufferWrite(c, &done) != REDIS_OK) {
			snprintf(why, sizeof why, "unable to connect to Redis at "
			    "%s: %s", b->where, soerr ? strerror(soerr) :
			    c->errstr);
			connect_failed(b, why, 0);
		} else if (done) {
			b->written = 1;
			if (watch(b, EPOLLIN, 1, why, sizeof why) < 0)
				connect_failed(b, why, 1);
		}
		return;
	}
	lost = redisBufferRead(c) != REDIS_OK;
	while (b->got < b->replies_n) {
		void *r = NULL;
		int rc;

		if (redisGetReply(c, &r) != REDIS_OK)
			lost = 1;
		if (r == NULL && !lost)
			return;		/* the rest later */
		rc = check_setup(b, b->got, r, why, sizeof why);
		if (r != NULL)
			freeReplyObject(r);
		if (rc < 0) {
			connect_failed(b, why, rc == WB_REDIS_EVICTS);
			return;
		}
		b->got++;
	}
	if (wb_redis_block(c, WB_HOOK_BATCHER_TIMEOUT_MS) < 0) {
		snprintf(why, sizeof why, "unable to set up the connection to "
		    "Redis at %s: %s", b->where, strerror(errno));
		connect_failed(b, why, 0);
		return;
	}
	b->connecting = 0;
	b->backoff_ms = 0;
	b->fresh = 1;
}

/*
 * The batch sent failed with 'why'. If it went over a connection that had
 * worked before (Redis restarted since), send it once more on a new one:
 * queueing a number twice is harmless. Otherwise its items fail.
 */
static void
batch_failed(struct wb_hook_batcher *b, const char *why)
{
	struct wb_hook_batch_item *it = b->sent, **tail = &it;

	wb_hook_batcher_close(b);
	b->sent = NULL;
	if (it == NULL)
		return;
	if (b->sent_fresh || b->last_chance) {
		settle(b, it, 1, why);
		return;
	}
	/* The failed batch goes back in front of the items that arrived
	 * meanwhile; the next wb_hook_batcher_send() sends it. */
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = b->queued;
	if (b->queued == NULL)
		b->queued_tail = tail;
	b->queued = it;
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Sort numbers[0..n) and drop repeats (a burst on one issue); new n. */
static size_t
unique(long *numbers, size_t n)
{
	size_t k = 0;

	qsort(numbers, n, sizeof *numbers, cmp_long);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || numbers[k - 1] != numbers[i])
			numbers[k++] = numbers[i];
	return k;
}

/*
 * Move out of the waiting list the scrapes ('scrapes' 1) or the other
 * items, these up to WB_QUEUE_BATCH_MAX numbers, which go to
 * numbers[0..*n); returns the items taken, in order.
 */
static struct wb_hook_batch_item *
take(struct wb_hook_batcher *b, int scrapes, long *numbers, size_t *n)
{
	struct wb_hook_batch_item *taken = NULL, **t = &taken, **p = &b->queued;

	*n = 0;
	while (*p != NULL) {
		struct wb_hook_batch_item *it = *p;

		if ((it->metrics != NULL) != scrapes || (it->metrics == NULL &&
		    it->number > 0 && *n == WB_QUEUE_BATCH_MAX)) {
			p = &it->next;
			continue;
		}
		if (it->metrics == NULL && it->number > 0)
			numbers[(*n)++] = it->number;
		*p = it->next;
		it->next = NULL;
		*t = it;
		t = &it->next;
	}
	b->queued_tail = p;
	return taken;
}

/* Write what was appended; 0, or -1 once the batch failed. */
static int
write_all(struct wb_hook_batcher *b)
{
	char why[256];
	int done = 0;

	while (!done)
		if (redisBufferWrite(b->q.c, &done) != REDIS_OK) {
			snprintf(why, sizeof why, "Redis connection lost: %s",
			    b->q.c->errstr);
			batch_failed(b, why);
			return -1;
		}
	return 0;
}

void
wb_hook_batcher_send(struct wb_hook_batcher *b)
{
	long numbers[WB_QUEUE_BATCH_MAX];
	char why[256];
	size_t n = 0;

	if (b->sent != NULL || b->queued == NULL || b->connecting)
		return;
	if (b->q.c == NULL) {
		/* Sent once connected: the next call after connecting(). */
		if (start_connect(b, why, sizeof why) < 0)
			fail_queued(b, why);
		return;
	}
	b->sent_phase = 0;
	if ((b->sent = take(b, 0, numbers, &n)) == NULL) {
		b->sent = take(b, 1, numbers, &n);
		b->sent_phase = 1;
	}
	b->sent_n = unique(numbers, n);
	b->sent_fresh = b->fresh;
	b->sent_at = wb_clock_ms();
	if (b->sent_phase == 1) {
		wb_debug("asking Redis for the metrics");
		wb_redis_xappend(b->q.c, "SMEMBERS wb:queues");
		wb_redis_xappend(b->q.c, "HGETALL %s", WB_METRICS_KEY);
	} else if (b->sent_n > 0) {
		wb_debug("asking Redis to queue %zu numbers", b->sent_n);
		wb_queue_append_push(&b->q, b->queue, numbers, b->sent_n);
	} else
		/*
		 * What a delivery would get, without its effect: a write
		 * to the queue's pending set (see wb_queue.h) that changes
		 * nothing (XX: only an existing member, and 0 is never one),
		 * refused as a delivery is when Redis is out of memory,
		 * read-only or forbids it.
		 */
		wb_redis_xappend(b->q.c, "ZADD wb:{%s}:pending XX 0 0",
		    b->queue);
	write_all(b);
}

int
wb_hook_batcher_fd(const struct wb_hook_batcher *b)
{
	return b->fd;
}

/*
 * The batch in flight is over. When Redis answered (the connection is
 * fine) its items are settled, as failed with 'why' unless it is NULL;
 * otherwise it failed with the connection (batch_failed()).
 */
static void
batch_over(struct wb_hook_batcher *b, int answered, const char *why)
{
	struct wb_hook_batch_item *done = b->sent;

	if (!answered) {
		batch_failed(b, why);
		return;
	}
	b->fresh = 0;
	b->sent = NULL;
	settle(b, done, why != NULL, why);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct wb_metrics_queue *)a)->name,
	    ((const struct wb_metrics_queue *)b)->name);
}

/*
 * The reply to a scrape's first round trip: keep the queues in use (named
 * well, sorted) and the notes, and ask for each queue's statistics. 0, or
 * -1 with 'why' set and '*answered' when Redis answered an error.
 */
static int
scrape_names(struct wb_hook_batcher *b, char *why, size_t whylen, int *answered)
{
	redisReply *r[2];

	for (int i = 0; i < 2; i++) {
		void *v = NULL;

		if (redisGetReply(b->q.c, &v) != REDIS_OK)
			v = NULL;
		r[i] = v;
	}
	*answered = r[0] != NULL && r[1] != NULL;
	if (r[0] == NULL || r[1] == NULL || r[0]->type != REDIS_REPLY_ARRAY ||
	    r[1]->type != REDIS_REPLY_ARRAY) {
		const redisReply *e = r[0] != NULL && r[0]->type ==
		    REDIS_REPLY_ERROR ? r[0] : r[1];

		snprintf(why, whylen, "unable to read the metrics: %s",
		    e != NULL && e->type == REDIS_REPLY_ERROR ? e->str :
		    b->q.c->errstr[0] ? b->q.c->errstr : "no reply");
		for (int i = 0; i < 2; i++)
			if (r[i] != NULL)
				freeReplyObject(r[i]);
		return -1;
	}
	wb_metrics_notes_parse(r[1], &b->notes);
	freeReplyObject(r[1]);
	b->names = r[0];
	b->mq = wb_xcalloc(r[0]->elements + 1, sizeof *b->mq);
	for (size_t i = 0; i < r[0]->elements; i++)
		if (r[0]->element[i]->type == REDIS_REPLY_STRING &&
		    wb_scan_queue_name(r[0]->element[i]->str))
			b->mq[b->nmq++].name = r[0]->element[i]->str;
	qsort(b->mq, b->nmq, sizeof *b->mq, by_name);
	for (size_t i = 0; i < b->nmq; i++)
		wb_queue_append_stats(&b->q, b->mq[i].name, b->delay_ms, -1,
		    &b->mq[i].st);
	return 0;
}

/* A scrape's reply came: go on to its second round trip, or settle it. */
static void
scrape_reply(struct wb_hook_batcher *b)
{
	char why[240];
	int answered = 0;

	if (b->sent_phase == 1) {
		if (scrape_names(b, why, sizeof why, &answered) < 0)
			goto failed;
		b->sent_phase = 2;
		b->sent_at = wb_clock_ms();
		if (b->nmq > 0) {
			write_all(b);
			return;
		}
	} else {
		char bad[200] = "", more[200];

		/* Every reply is read, to stay in step; the first error is
		 * the one told. */
		for (size_t i = 0; i < b->nmq; i++)
			if (wb_queue_stats_reply(&b->q, &b->mq[i].st,
			    bad[0] ? more : bad, sizeof bad) < 0 &&
			    b->q.c->err)
				break;	/* the connection is gone */
		if (bad[0]) {
			/* On an error from Redis too: the connection is
			 * made again, and the scrape asked once more. */
			snprintf(why, sizeof why, "unable to read queue "
			    "statistics: %s", bad);
			goto failed;
		}
	}
	for (struct wb_hook_batch_item *it = b->sent; it != NULL; it = it->next)
		wb_metrics_render(it->metrics, 1, b->mq, b->nmq, &b->notes);
	scrape_reset(b);
	batch_over(b, 1, NULL);
	return;
failed:
	scrape_reset(b);
	batch_over(b, answered, why);
}

void
wb_hook_batcher_event(struct wb_hook_batcher *b)
{
	char why[256];
	redisReply *r;
	void *v = NULL;

	if (b->connecting) {
		connecting(b);
		return;
	}
	if (b->sent == NULL) {
		/* Nothing asked: Redis closed or restarted. */
		wb_hook_batcher_close(b);
		return;
	}
	if (b->sent_phase > 0) {
		scrape_reply(b);
		return;
	}
	if (b->sent_n > 0) {
		if (wb_queue_push_reply(&b->q, why, sizeof why) < 0) {
			batch_failed(b, why);
			return;
		}
	} else {
		if (redisGetReply(b->q.c, &v) != REDIS_OK || v == NULL ||
		    ((redisReply *)v)->type != REDIS_REPLY_INTEGER) {
			int answered;

			r = v;
			answered = r != NULL && r->type == REDIS_REPLY_ERROR;
			snprintf(why, sizeof why, "Redis refuses writes: %s",
			    answered ? r->str : b->q.c->errstr[0] ?
			    b->q.c->errstr : "no reply");
			if (r != NULL)
				freeReplyObject(r);
			batch_over(b, answered, why);
			return;
		}
		freeReplyObject(v);
	}
	batch_over(b, 1, NULL);
}

void
wb_hook_batcher_expire(struct wb_hook_batcher *b, long long now)
{
	char why[400];

	if (b->connecting && now - b->conn_at >= WB_HOOK_BATCHER_TIMEOUT_MS) {
		snprintf(why, sizeof why, "unable to connect to Redis at %s: "
		    "no answer within 2 s", b->where);
		connect_failed(b, why, 0);
	}
	if (b->sent != NULL && now - b->sent_at >= WB_HOOK_BATCHER_TIMEOUT_MS)
		batch_failed(b, "Redis did not answer within 2 s");
}

long long
wb_hook_batcher_wait_ms(const struct wb_hook_batcher *b, long long now,
    long long ms)
{
	const long long t = WB_HOOK_BATCHER_TIMEOUT_MS;

	if (b->sent != NULL && b->sent_at + t - now < ms)
		ms = b->sent_at + t - now;
	if (b->connecting && b->conn_at + t - now < ms)
		ms = b->conn_at + t - now;
	return ms;
}

int
wb_hook_batcher_idle(const struct wb_hook_batcher *b)
{
	return b->sent == NULL && b->queued == NULL;
}

void
wb_hook_batcher_fail(struct wb_hook_batcher *b, const char *why)
{
	if (b->sent != NULL)
		batch_failed(b, why);
	fail_queued(b, why);
}
