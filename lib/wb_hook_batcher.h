/* SPDX-License-Identifier: MPL-2.0 */
/* wb — requests waiting for Redis, their issue numbers queued in
 * batches over one connection per event loop.
 *
 * A server hands over each request that needs Redis (wb_hook_batcher_add)
 * and goes on serving; the numbers of all the requests handed over
 * meanwhile go to Redis in one script call (at most one call at a time,
 * so replies need no matching), and each request is settled (the
 * 'settled' callback) once Redis confirmed, or failed, or did not answer
 * within WB_HOOK_BATCHER_TIMEOUT_MS. The connection is made when needed and
 * made again after it broke, without blocking (hiredis' non-blocking
 * connect, the set-up pipelined and its replies read as they come, a
 * Redis that may evict keys refused as if unreachable: see wb_redis.h); a
 * failed attempt that was slow is not repeated before a backoff (1 s,
 * doubling up to 16 s), the requests meanwhile fail at once with the
 * reason. Once set up, the connection is a blocking one with
 * WB_HOOK_BATCHER_TIMEOUT_MS per command: a batch is written at once, its
 * reply read once the socket is readable. A scrape (GET /metrics) is
 * read the same way. The socket is watched in the owner's epoll set: call
 * wb_hook_batcher_event() whenever wb_hook_batcher_fd() is ready. Not
 * thread-safe: one batcher per loop.
 */
#ifndef WB_HOOK_BATCHER_H
#define WB_HOOK_BATCHER_H

#include <stddef.h>

#include "wb_metrics.h"
#include "wb_queue.h"

#define WB_HOOK_BATCHER_TIMEOUT_MS 2000	/* a stuck Redis fails, not hangs */

/* A request waiting for Redis; the owner's, linked by the batcher. */
struct wb_hook_batch_item {
	long number;	/* to queue; 0: none, the request only asks
			   whether Redis would take one (/healthz: a
			   write that changes nothing, when only such
			   requests wait) */
	struct wb_metrics *metrics;	/* non-NULL: a scrape, not a write:
					   the shared families of every queue
					   in use and the notes are rendered
					   into it (wb_metrics_render) */
	int done;	/* set when settled */
	int failed;	/* then: 1 not done, the reason in 'why' */
	char why[256];
	struct wb_hook_batch_item *next;
};

struct wb_hook_batcher {
	const char *url;	/* WB_REDIS, borrowed */
	const char *queue;	/* the queue the numbers go to, borrowed */
	int ep;			/* the owner's epoll set */
	void (*settled)(struct wb_hook_batch_item *, void *);
	void *arg;
	int last_chance;	/* set by the owner: a batch that failed on a
				   connection that had worked is not sent
				   again on a new one */
	long long delay_ms;	/* set by the owner: the delay that makes an
				   item ready, for the metrics */
	/* The rest is the batcher's own. */
	struct wb_queue q;	/* q.c NULL: disconnected */
	int fd;			/* q.c's socket, watched in 'ep'; -1 */
	int connecting;		/* q.c is being set up: */
	int written;		/* the set-up commands are all sent */
	int setup_n, replies_n, got;	/* replies to AUTH and SELECT, to
					   the set-up in all, read so far */
	long long conn_at;	/* the attempt began */
	char where[300];	/* the Redis it is made to, for messages */
	int fresh;		/* connected, not answered on it yet */
	/* The next batch. */
	struct wb_hook_batch_item *queued, **queued_tail;
	struct wb_hook_batch_item *sent;	/* the batch Redis is answering */
	size_t sent_n;		/* numbers sent; 0: the write that changes
				   nothing */
	int sent_fresh;		/* sent on a connection made for it */
	int sent_phase;		/* what the batch in flight asks: 0 a write;
				   a scrape: 1 the queues in use and the
				   notes, then 2 the queues' statistics */
	redisReply *names;	/* a scrape's queues in use, */
	struct wb_metrics_queue *mq;	/* those named well, sorted, */
	size_t nmq;
	struct wb_metrics_notes notes;	/* and the notes */
	long long sent_at;
	long long retry_at, backoff_ms;	/* no attempt before retry_at */
	char retry_why[256];
};

/*
 * Set up 'b' to queue numbers into 'queue' of the Redis at 'url' (both
 * borrowed, kept), watching its socket in the epoll set 'ep', and to
 * call settled(item, arg) for each item once done. Connects nothing yet.
 */
void wb_hook_batcher_init(struct wb_hook_batcher *b, const char *url,
    const char *queue, int ep,
    void (*settled)(struct wb_hook_batch_item *, void *), void *arg);

/*
 * Check 'url' once at start: a wrong URL (or password, or database)
 * exits 100; an unreachable Redis is only warned about (the server
 * answers 503 until it is back).
 */
void wb_hook_batcher_probe_or_die(const char *url);

/* Append 'item' (borrowed until settled) to the next batch. */
void wb_hook_batcher_add(struct wb_hook_batcher *b,
    struct wb_hook_batch_item *item);

/*
 * When no batch is in flight and items wait: send the writes first, up
 * to WB_QUEUE_BATCH_MAX numbers (repeats sent once), or, when none
 * carries a number, a write to the queue that changes nothing (refused
 * as a delivery's would be: out of memory, read-only); when only scrapes
 * wait, all of them at once: the queues in use and the notes, then (a
 * second round trip) each queue's statistics, as wb-queue stats --format
 * prometheus reads them. When disconnected, begin connecting instead
 * (without waiting: the connection is made as its socket gets ready, see
 * wb_hook_batcher_event(), and the items are sent by the next call once it
 * is). A connection that fails, or is not made within
 * WB_HOOK_BATCHER_TIMEOUT_MS, settles every waiting item as failed.
 */
void wb_hook_batcher_send(struct wb_hook_batcher *b);

/* The socket to watch for reading, or -1 when disconnected. */
int wb_hook_batcher_fd(const struct wb_hook_batcher *b);

/*
 * Its socket is ready: go on with the connection being made, or read
 * Redis's answer and settle the batch, or, when nothing was asked (Redis
 * closed the connection), disconnect.
 */
void wb_hook_batcher_event(struct wb_hook_batcher *b);

/*
 * A connection not made, or a batch not answered, within
 * WB_HOOK_BATCHER_TIMEOUT_MS at 'now' (ms, monotonic) fails. A batch that
 * failed on a connection that had worked before is sent again once on a
 * new one; otherwise its items are settled as failed.
 */
void wb_hook_batcher_expire(struct wb_hook_batcher *b, long long now);

/* 'ms' or less: how long until the attempt or batch in flight times out. */
long long wb_hook_batcher_wait_ms(const struct wb_hook_batcher *b, long long now,
    long long ms);

/* 1 when nothing is in flight nor waiting. */
int wb_hook_batcher_idle(const struct wb_hook_batcher *b);

/*
 * Settle every item, in flight or waiting, as failed with 'why'; a batch
 * in flight also closes the connection.
 */
void wb_hook_batcher_fail(struct wb_hook_batcher *b, const char *why);

/* Close the connection; items still waiting stay unsettled. */
void wb_hook_batcher_close(struct wb_hook_batcher *b);

#endif
