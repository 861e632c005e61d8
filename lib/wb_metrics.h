/* SPDX-License-Identifier: MPL-2.0 */
/* wb — metrics in the Prometheus text exposition format (version 0.0.4).
 *
 * A writer that builds the text in memory, family after family, and
 * refuses what would make it invalid (a family given twice, a series
 * given twice, a bad name, a label value that is not printable ASCII);
 * the rendering of the families every view shares (Redis reachability,
 * the queues, the notes below), so that wb-queue and wb-hook show the
 * same names from one piece of code; and the notes themselves: what the
 * stages keep in Redis for those views (the GitHub rate-limit budget last
 * seen, when a stage last succeeded), written cheaply and never at the
 * cost of the stage. Only names, counts and times ever go into a metric:
 * never a secret, never an issue's text.
 */
#ifndef WB_METRICS_H
#define WB_METRICS_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "wb_queue.h"

/* The Content-Type of the text, for an HTTP answer. */
#define WB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#define WB_METRICS_NAME_MAX 100		/* bytes of a metric or label name */

struct wb_metrics {
	char *text;			/* the exposition so far, NUL-terminated */
	size_t len, cap;
	char **families;		/* the names given so far */
	size_t nfamilies, capfamilies;
	char **series;			/* the label sets of the current family */
	size_t nseries, capseries;
	char family[WB_METRICS_NAME_MAX + 1];	/* the current family */
	const char *type, *help;	/* its header, written with its first
					   sample (a family without samples
					   leaves no trace) */
	int refused;			/* calls refused: a bug of the caller */
};

/* An empty exposition. */
void wb_metrics_init(struct wb_metrics *m);
/* Free what 'm' holds; it may be initialised again. */
void wb_metrics_free(struct wb_metrics *m);

/*
 * Start the family 'name' ([a-zA-Z_:][a-zA-Z0-9_:]*) of 'type' (counter,
 * gauge or untyped) with the text 'help' (escaped here; borrowed until the
 * next family starts). Returns 0, or -1 (m->refused counted, and the
 * samples that follow are refused too) when the name or type is bad or
 * the name was given before: each family appears once, its samples
 * together.
 */
int wb_metrics_family(struct wb_metrics *m, const char *name, const char *type,
    const char *help);

/*
 * Add a sample of the current family: 'labels' is NULL or a
 * NULL-terminated list of name, value, name, value... (names
 * [a-zA-Z_][a-zA-Z0-9_]*, not starting "__", each once; values printable
 * ASCII, '\\' '"' and '\n' escaped here). A series is its label set, the
 * labels in the order given: the same set twice is refused. Integral
 * values print as integers, others with 17 significant digits, NaN and
 * infinities as the format spells them. Returns 0, or -1 (nothing
 * written, m->refused counted).
 */
int wb_metrics_sample(struct wb_metrics *m, const char *const *labels,
    double value);

/*============================ Shared families ============================*/

/* What a view knows of one queue, for wb_metrics_render(). */
struct wb_metrics_queue {
	const char *name;		/* a queue name (wb_scan_queue_name) */
	struct wb_queue_stats st;
};

/* The stages whose last success is noted (field "<stage>:success"). */
#define WB_METRICS_FETCH "fetch"	/* wb-fetch: an issue downloaded */
#define WB_METRICS_BULK "bulk"		/* wb-bulk: a batch indexed */
#define WB_METRICS_SQLITE "sqlite"	/* wb-sqlite: a batch committed */
#define WB_METRICS_STAGES 3

/*
 * The Redis hash of the notes, and its fields (Unix seconds unless said):
 *   github:remaining  requests left in the rate-limit window, last seen
 *   github:reset      when that window resets
 *   github:seen       when it was seen
 *   fetch:success, bulk:success, sqlite:success   a stage's last success
 */
#define WB_METRICS_KEY "wb:metrics"

/* The notes as read back; -1 where nothing (valid) is known. */
struct wb_metrics_notes {
	long long remaining, reset, seen;
	long long success[WB_METRICS_STAGES];	/* fetch, bulk, sqlite */
};

/*
 * Fill 'n' from 'r' (borrowed), the reply to "HGETALL wb:metrics" (any
 * other reply, or a field that is not a decimal integer, counts as
 * unknown). Unknown fields are ignored: nothing else of the hash can
 * reach a metric.
 */
void wb_metrics_notes_parse(const redisReply *r, struct wb_metrics_notes *n);

/*
 * Read the notes with one HGETALL on 'c' (borrowed, blocking). Returns 0,
 * or -1 with a reason in 'why' (the context is then unusable if c->err).
 */
int wb_metrics_notes_read(redisContext *c, struct wb_metrics_notes *n,
    char *why, size_t whylen);

/*
 * Render the shared families in 'm': wb_redis_up ('redis_up' 1 or 0);
 * when Redis is up, the queues q[0..nq) (every family over every queue)
 * and the notes 'n' (NULL: none). The names and meanings are in wb(7),
 * METRICS. Returns how many calls the writer refused (0, unless a queue
 * is named twice).
 */
int wb_metrics_render(struct wb_metrics *m, int redis_up,
    const struct wb_metrics_queue *q, size_t nq,
    const struct wb_metrics_notes *n);

/*============================ Notes ============================*/

/*
 * Note, for the metrics, that 'stage' (WB_METRICS_FETCH, ...) succeeded
 * now, or the rate-limit budget GitHub just announced ('remaining' < 0:
 * unknown, ignored). The notes go to the hash WB_METRICS_KEY of the Redis
 * named by WB_REDIS, on a connection of their own opened at the first
 * note; when WB_REDIS is unset or empty, nothing is done. One pipelined
 * HSET of what changed at most once a second (the rest at exit), with
 * 250 ms timeouts; after a failure, one warning and no new attempt
 * for 30 s. A note never fails nor stops the caller. Not
 * thread-safe: call from one thread.
 */
void wb_metrics_note_success(const char *stage);
void wb_metrics_note_ratelimit(long long remaining, long long reset);

#endif
