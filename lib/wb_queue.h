/* wb — the work queue in Redis (SPEC.md, "Queue semantics").
 *
 * Keys of queue Q, all with the hash tag {Q} so that one Redis Cluster
 * slot holds them (see wb-queue(1) for the layout):
 *   wb:{Q}:pending  sorted set, number -> last activity (ms), not claimed
 *   wb:{Q}:leases   sorted set, number -> lease expiry (ms), claimed
 *   wb:{Q}:again    sorted set, number -> activity (ms) of a number queued
 *                   again while it was claimed (a subset of leases)
 *   wb:{Q}:wake     list pushed on every enqueue, to wake a blocked dequeue
 *   wb:queues       set of the queue names ever used
 * Enqueueing is one variadic ZADD into pending per batch. A number queued
 * again while claimed is in pending and leases at once until the claim
 * script moves it to again (see wb_queue.c). A claim's token is its lease
 * expiry, so acknowledging checks one score. All times are the Redis
 * server's clock (read once per connection), so clients' clocks do not
 * matter.
 */
#ifndef WB_QUEUE_H
#define WB_QUEUE_H

#include <stddef.h>
#include <time.h>

#include <hiredis/hiredis.h>

#define WB_QUEUE_BATCH_MAX 1000	/* numbers per script call */

struct wb_queue {
	redisContext *c;
	char claim_sha[41], ack_sha[41];
	long long time0_ms;		/* the server's time at init */
	struct timespec mono0;		/* our monotonic clock then */
};

/*
 * Load the queue scripts into the Redis behind 'c' (borrowed). Returns 0,
 * or -1 with a reason in 'err'.
 */
int wb_queue_init(struct wb_queue *q, redisContext *c, char *err,
    size_t errlen);

/*
 * wb_queue_init() in two halves, for an event loop: pipeline its
 * WB_QUEUE_INIT_REPLIES commands to 'c' (borrowed, kept in q->c), then
 * check each reply in order with wb_queue_init_reply(): 'r' (borrowed;
 * NULL: the connection failed, c->errstr says why) is reply number 'i'
 * (from 0); returns 0, or -1 with a reason in 'err'.
 */
#define WB_QUEUE_INIT_REPLIES 3
void wb_queue_append_init(struct wb_queue *q, redisContext *c);
int wb_queue_init_reply(struct wb_queue *q, int i, const redisReply *r,
    char *err, size_t errlen);

/* wb_redis_connect() then wb_queue_init(); any failure exits 111. */
void wb_queue_connect(struct wb_queue *q, const char *url);
/* Free the connection. */
void wb_queue_close(struct wb_queue *q);

/*
 * Pipeline the commands that add numbers[0..n) (n <= WB_QUEUE_BATCH_MAX)
 * to 'queue' with the server's current time as their activity time; read
 * their replies with wb_queue_push_reply().
 */
void wb_queue_append_push(struct wb_queue *q, const char *queue,
    const long *numbers, size_t n);
/* Returns 0 when the numbers are queued, or -1 with a reason in 'err'. */
int wb_queue_push_reply(struct wb_queue *q, char *err, size_t errlen);

/*
 * Pipeline the acknowledgement of claims[i] for numbers[i] in 'queue'
 * (n <= WB_QUEUE_BATCH_MAX). A number queued again after it was claimed
 * stays queued (no lost update).
 */
void wb_queue_append_ack(struct wb_queue *q, const char *queue,
    const long *numbers, const char *const *claims, size_t n);
/*
 * Read the reply of one wb_queue_append_ack(): stores in stale[] (room for
 * the n numbers acknowledged) the numbers whose claim was no longer
 * current (lease expired and claimed again) and returns how many, or -1
 * with a reason in 'err'.
 */
long wb_queue_ack_reply(struct wb_queue *q, long *stale, char *err,
    size_t errlen);

struct wb_claim {
	char token[24];			/* the claim token, "" if nothing */
	long numbers[WB_QUEUE_BATCH_MAX];
	size_t n;
	long long wait_ms;		/* when n == 0: ms until the next item
					   may be ready, -1 if the queue is empty */
};

/*
 * Claim up to 'limit' numbers of 'queue' idle for at least 'delay_ms',
 * each with a lease of 'lease_ms'; expired leases are released first.
 * Returns 0, or -1 with a reason in 'err'.
 */
int wb_queue_claim(struct wb_queue *q, const char *queue, long long delay_ms,
    long long lease_ms, size_t limit, struct wb_claim *out, char *err,
    size_t errlen);

/*
 * Block until something is queued in 'queue' or 'wait_ms' passes (wait_ms
 * < 0: no limit). Returns 0, or -1 with a reason in 'err'.
 */
int wb_queue_wait(struct wb_queue *q, const char *queue, long long wait_ms,
    char *err, size_t errlen);

struct wb_queue_stats {
	long long queued;	/* numbers in the queue, claimed or not */
	long long ready;	/* not claimed, idle for the delay */
	long long waiting;	/* not claimed, active within the delay */
	long long claimed;	/* claimed, lease running or expired */
	long long expired;	/* claimed with the lease expired */
	long long again;	/* claimed and queued again since */
	long long oldest_ready_ms;	/* age of the oldest ready one, -1 if none */
	long long now_ms;	/* the server's time */
};

/* Fill 'st' for 'queue' given the dequeuer's 'delay_ms'; errors exit 111. */
void wb_queue_stats(struct wb_queue *q, const char *queue, long long delay_ms,
    struct wb_queue_stats *st);

/* Remove every item of 'queue'; returns how many there were. Errors exit 111. */
long long wb_queue_purge(struct wb_queue *q, const char *queue);

/*
 * Call fn(number, state, time_ms, arg) for every item, unclaimed items in
 * activity order then claimed ones by lease expiry; state is "ready",
 * "waiting" or "claimed" (time_ms: activity, or lease expiry). Reads in
 * chunks, so a million items need little memory. Errors exit 111.
 */
void wb_queue_list(struct wb_queue *q, const char *queue, long long delay_ms,
    void (*fn)(long number, const char *state, long long time_ms, void *arg),
    void *arg);

/*
 * The names of the queues in use, as a reply whose elements are strings;
 * free it with freeReplyObject(). Errors exit 111.
 */
redisReply *wb_queue_names(struct wb_queue *q);

#endif
