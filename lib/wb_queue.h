/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the work queue in Redis (SPEC.md, "Queue semantics").
 *
 * Keys of queue Q, all with the hash tag {Q} so that one Redis Cluster
 * slot holds them (see wb-queue(1) for the layout):
 *   wb:{Q}:pending  sorted set, number -> last activity (ms), not claimed
 *   wb:{Q}:leases   sorted set, number -> lease expiry (ms), claimed
 *   wb:{Q}:again    sorted set, number -> activity (ms) of a number queued
 *                   again while it was claimed (a subset of leases)
 *   wb:{Q}:wake     list pushed on every enqueue, to wake a blocked dequeue
 *   wb:{Q}:deliveries  hash, number -> deliveries not acknowledged (a
 *                   lease expired; a dead consumer's probe of that one
 *                   number taken back)
 *   wb:{Q}:suspect  hash, number -> probe size: taken back from a dead
 *                   consumer, not acknowledged since (see wb_queue.c)
 *   wb:{Q}:probe:C  hash {t}: the token of consumer C's probe
 *   wb:{Q}:dead     sorted set, number -> time parked (ms): dead letters
 *   wb:{Q}:token    the last claim token given, so that each is unique
 *   wb:{Q}:held:C   sorted set of the tokens of consumer C's claims (their
 *                   numbers: leases scored by the token); expires with
 *                   its last lease
 *   wb:{Q}:consumer:C  hash {id, client}: the Redis connection of the
 *                   dequeuer registered as C; expires unless renewed
 *   wb:queues       set of the queue names ever used
 * Enqueueing is one script call per batch (a variadic ZADD into pending,
 * and for parked numbers their return). A number queued again while
 * claimed is in pending and leases at once until the claim script moves
 * it to again (see wb_queue.c). A claim's token is its lease expiry (made
 * unique in the queue), so acknowledging checks one score. All times are
 * the Redis server's clock (read once per connection), so clients' clocks
 * do not matter.
 *
 * A consumer is alive while the Redis connection it registered exists
 * (CLIENT LIST ID) and its registration is renewed; a dequeuer that
 * registers under the name of a dead one takes back its claims at once,
 * as suspects handed out in probes (claims of their own), not counted.
 */
#ifndef WB_QUEUE_H
#define WB_QUEUE_H

#include <stddef.h>
#include <time.h>

#include <hiredis/hiredis.h>

#define WB_QUEUE_BATCH_MAX 1000	/* numbers per script call */
#define WB_QUEUE_NAME_MAX 64	/* bytes of a queue name, without its NUL */
#define WB_CLAIM_MAX 24		/* bytes of a claim token, with its NUL */
#define WB_CONSUMER_MAX 160	/* bytes of a consumer name */
#define WB_QUEUE_TTL_MS 60000	/* a registration not renewed expires */
#define WB_QUEUE_BEAT_MS 10000	/* renew it at least this often */

struct wb_queue {
	redisContext *c;
	char claim_sha[41], ack_sha[41], push_sha[41];
	long long time0_ms;		/* the server's time at init */
	long long mono0_ms;		/* wb_clock_ms() as TIME was sent */
	/* Set by wb_queue_join(): */
	char consumer[WB_CONSUMER_MAX + 1];
	char client[96];		/* our connection's name, unique */
	long long id;			/* our connection's CLIENT ID */
};

/*
 * Load the queue scripts into the Redis behind 'c' (borrowed). Returns 0,
 * or -1 with a reason in 'why'.
 */
int wb_queue_init(struct wb_queue *q, redisContext *c, char *why,
    size_t whylen);

/*
 * wb_queue_init() in two halves, for an event loop: pipeline its
 * WB_QUEUE_INIT_REPLIES commands to 'c' (borrowed, kept in q->c), then
 * check each reply in order with wb_queue_init_reply(): 'r' (borrowed;
 * NULL: the connection failed, c->errstr says why) is reply number 'i'
 * (from 0); returns 0, or -1 with a reason in 'why'.
 */
#define WB_QUEUE_INIT_REPLIES 4
void wb_queue_append_init(struct wb_queue *q, redisContext *c);
int wb_queue_init_reply(struct wb_queue *q, int i, const redisReply *r,
    char *why, size_t whylen);

/* wb_redis_connect_or_die() then wb_queue_init(); any failure exits 111. */
void wb_queue_connect_or_die(struct wb_queue *q, const char *url);
/* Free the connection. */
void wb_queue_close(struct wb_queue *q);

/*
 * Pipeline the commands that add numbers[0..n) (n <= WB_QUEUE_BATCH_MAX)
 * to 'queue' with the server's current time as their activity time; read
 * their replies with wb_queue_push_reply(). A parked number (dead letter)
 * comes back, its delivery count reset.
 */
void wb_queue_append_push(struct wb_queue *q, const char *queue,
    const long *numbers, size_t n);
/* Returns 0 when the numbers are queued, or -1 with a reason in 'why'. */
int wb_queue_push_reply(struct wb_queue *q, char *why, size_t whylen);

/*
 * Pipeline the acknowledgement of claims[i] for numbers[i] in 'queue'
 * (n <= WB_QUEUE_BATCH_MAX). A number queued again after it was claimed
 * stays queued (no lost update). Its delivery count is reset.
 */
void wb_queue_append_ack(struct wb_queue *q, const char *queue,
    const long *numbers, const char *const *claims, size_t n);
/*
 * Read the reply of one wb_queue_append_ack(): stores in stale[] (room for
 * the n numbers acknowledged) the numbers whose claim was no longer
 * current (lease expired and claimed again) and returns how many, or -1
 * with a reason in 'why'.
 */
long wb_queue_ack_reply(struct wb_queue *q, long *stale, char *why,
    size_t whylen);

/*
 * A consumer name is 1..WB_CONSUMER_MAX of [A-Za-z0-9_.:@-]; returns 1
 * when 'name' is one.
 */
int wb_queue_consumer_ok(const char *name);

/*
 * Try once to become consumer 'name' of 'queue'. When the name's holder is
 * alive (its registered Redis connection still exists and its
 * registration has not expired), returns 1 and sets *holder to that
 * connection's CLIENT ID: nothing is changed, try again later. Otherwise
 * registers this connection under the name, makes the claims the name
 * held ready again at once (idle for 'delay_ms') as suspects, and returns
 * 0 with *taken set to how many. Returns -1 with a reason in 'why' on failure.
 */
int wb_queue_join(struct wb_queue *q, const char *queue, const char *name,
    long long delay_ms, long long *holder, long long *taken, char *why,
    size_t whylen);

/*
 * Renew the registration made by wb_queue_join(). Returns 0, or -1 with a
 * reason in 'why' (Redis lost, or the name was taken over: the
 * registration expired and another dequeuer took the name).
 */
int wb_queue_beat(struct wb_queue *q, const char *queue, char *why,
    size_t whylen);

struct wb_claim {
	char token[WB_CLAIM_MAX];	/* the claim token, "" if nothing */
	long numbers[WB_QUEUE_BATCH_MAX];
	size_t n;
	long long wait_ms;		/* when n == 0: ms until the next item
					   may be ready (0: try again at once),
					   -1 if the queue is empty */
	long parked[WB_QUEUE_BATCH_MAX];	/* parked by this claim */
	long long parked_count[WB_QUEUE_BATCH_MAX];	/* their deliveries */
	size_t nparked;
};

/*
 * Claim, under the consumer joined with wb_queue_join(), up to 'limit'
 * numbers of 'queue' idle for at least 'delay_ms', each with a lease of
 * 'lease_ms'; expired leases are released first. Suspects come in a
 * claim of their own, a probe, and while this consumer's probe is out
 * nothing is claimed (out->wait_ms says until when it lapses; an
 * acknowledgement wakes wb_queue_wait). A number already handed out
 * 'max_deliveries' times is parked (a dead letter) instead, and listed
 * in out->parked. Renews the registration. Returns 0, or -1 with a reason
 * in 'why' (also when the name was taken over).
 */
int wb_queue_claim(struct wb_queue *q, const char *queue, long long delay_ms,
    long long lease_ms, long long max_deliveries, size_t limit,
    struct wb_claim *out, char *why, size_t whylen);

/*
 * Block until something is queued in 'queue' or 'wait_ms' passes (wait_ms
 * < 0: no limit), watching standard output meanwhile (wb_pipe_wait()).
 * Returns 0; 1 as soon as standard output's reader is gone (the
 * connection then has a command in flight: only close it); or -1 with a
 * reason in 'why'.
 */
int wb_queue_wait(struct wb_queue *q, const char *queue, long long wait_ms,
    char *why, size_t whylen);

struct wb_queue_stats {
	long long queued;	/* numbers in the queue, claimed or not */
	long long ready;	/* not claimed, idle for the delay */
	long long waiting;	/* not claimed, active within the delay */
	long long claimed;	/* claimed, lease running or expired */
	long long expired;	/* claimed with the lease expired */
	long long again;	/* claimed and queued again since */
	long long dead;		/* parked: dead letters */
	long long oldest_ready_ms;	/* age of the oldest ready one, -1 if none */
	long long now_ms;	/* the server's time */
};

/* Fill 'st' for 'queue' given the dequeuer's 'delay_ms'; errors exit 111. */
void wb_queue_stats_or_die(struct wb_queue *q, const char *queue,
    long long delay_ms, struct wb_queue_stats *st);

/*
 * wb_queue_stats_or_die() in two halves, for an event loop: pipeline the
 * WB_QUEUE_STATS_REPLIES commands that read 'queue' as of the server's
 * time 'server_now_ms' (-1: as this connection reckons it from the time
 * read at init, without a round trip), which goes into st->now_ms; then
 * read their replies with wb_queue_stats_reply(), which fills the rest of
 * 'st' (the same one). Returns 0, or -1 with a reason in 'why' (every
 * reply read all the same, unless the connection is lost).
 */
#define WB_QUEUE_STATS_REPLIES 7
void wb_queue_append_stats(struct wb_queue *q, const char *queue,
    long long delay_ms, long long server_now_ms, struct wb_queue_stats *st);
int wb_queue_stats_reply(struct wb_queue *q, struct wb_queue_stats *st,
    char *why, size_t whylen);

/*
 * Remove every item of 'queue', parked ones and delivery counts included;
 * returns how many there were. Errors exit 111.
 */
long long wb_queue_purge_or_die(struct wb_queue *q, const char *queue);

/*
 * Call fn(number, deliveries, parked_ms, arg) for every parked number of
 * 'queue', in the order they were parked. Errors exit 111.
 */
void wb_queue_dead_or_die(struct wb_queue *q, const char *queue,
    void (*fn)(long number, long long deliveries, long long parked_ms,
    void *arg), void *arg);

/*
 * Put the parked numbers[0..n) of 'queue' back (n == 0: every parked
 * number), as if enqueued now, their delivery counts reset. Calls
 * missing(number, arg) for each of numbers[] that was not parked. Returns
 * how many were put back. Errors exit 111.
 */
long long wb_queue_retry_or_die(struct wb_queue *q, const char *queue,
    const long *numbers, size_t n, void (*missing)(long number, void *arg),
    void *arg);

/*
 * Call fn(number, state, time_ms, arg) for every item, unclaimed items in
 * activity order, then claimed ones by lease expiry, then parked ones;
 * state is "ready", "waiting", "claimed" or "dead" (time_ms: activity,
 * lease expiry, or when it was parked). Reads in
 * chunks, so a million items need little memory. Errors exit 111.
 */
void wb_queue_list_or_die(struct wb_queue *q, const char *queue,
    long long delay_ms,
    void (*fn)(long number, const char *state, long long time_ms, void *arg),
    void *arg);

/*
 * The names of the queues in use, as a reply whose elements are strings;
 * free it with freeReplyObject(). Errors exit 111.
 */
redisReply *wb_queue_names_or_die(struct wb_queue *q);

#endif
