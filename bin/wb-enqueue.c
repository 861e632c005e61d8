/* SPDX-License-Identifier: MPL-2.0 */
/* wb-enqueue — add issue numbers to a queue.
 *
 * Reads records (or takes numbers as arguments) and adds each number to
 * QUEUE, moving its activity time to now. A record that carries "queue"
 * and "claim" has that claim acknowledged once the add has succeeded, so
 * that a pipeline hands an item from one queue to the next without loss.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wb_cli.h"
#include "wb_clock.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_queue.h"
#include "wb_reader.h"
#include "wb_record.h"
#include "wb_scan.h"

#define USAGE "wb-enqueue QUEUE [NUMBER ...]"
#define HELP \
	"Add issue numbers (arguments, or records on standard input) to QUEUE.\n" \
	"Input records carrying \"queue\" and \"claim\" have that claim\n" \
	"acknowledged once the numbers are queued. See wb-enqueue(1).\n"

#define DEPTH 8		/* batches in flight before waiting for replies */

/* One batch: the numbers to add, then the claims to acknowledge. */
struct batch {
	long numbers[WB_QUEUE_BATCH_MAX];
	size_t n;
	struct ack {
		char queue[WB_QUEUE_NAME_MAX + 1];
		long number;
		char claim[WB_CLAIM_MAX];
	} acks[WB_QUEUE_BATCH_MAX];
	size_t nacks;
};

/* The batches: pool[0..sent) are in flight, pool[sent] is filling. */
struct sender {
	struct wb_queue *q;
	const char *queue;
	struct batch pool[DEPTH + 1];
	size_t sent;
	unsigned long long items, acked;
	long long start_ms, last_ms;	/* wb_clock_ms() */
	int tty;
};

/* The progress line, on a terminal only, at most four times a second. */
static void
show(struct sender *s, int last)
{
	long long now;
	double t;

	if (!s->tty)
		return;
	now = wb_clock_ms();
	if (!last && now - s->last_ms < 250)
		return;
	s->last_ms = now;
	t = (double)(now - s->start_ms) / 1000;
	fprintf(stderr, "\r%s: %llu items, %.0f/s%s", wb_prog, s->items,
	    t > 0 ? (double)s->items / t : 0.0, last ? "\n" : "");
}

/* Pipeline the acknowledgements of 'b': one script call per source queue. */
static size_t
append_acks(struct wb_queue *q, const struct batch *b)
{
	const char *claims[WB_QUEUE_BATCH_MAX];
	long numbers[WB_QUEUE_BATCH_MAX];
	size_t done = 0, calls = 0;

	while (done < b->nacks) {
		const char *queue = b->acks[done].queue;
		size_t n = 0;

		for (size_t i = done; i < b->nacks &&
		    strcmp(b->acks[i].queue, queue) == 0; i++, n++) {
			numbers[n] = b->acks[i].number;
			claims[n] = b->acks[i].claim;
		}
		wb_queue_append_ack(q, queue, numbers, claims, n);
		calls++;
		done += n;
	}
	return calls;
}

/*
 * Wait for every batch in flight to be queued; only then acknowledge
 * their claims (one more round trip, only when there are claims).
 */
static void
drain(struct sender *s)
{
	long stale[WB_QUEUE_BATCH_MAX];
	size_t calls = 0;
	char err[512];

	for (size_t i = 0; i < s->sent; i++) {
		if (wb_queue_push_reply(s->q, err, sizeof err) < 0)
			wb_die(WB_EXIT_TEMP, "unable to queue into %s: %s",
			    s->queue, err);
		s->items += s->pool[i].n;
	}
	for (size_t i = 0; i < s->sent; i++)
		calls += append_acks(s->q, &s->pool[i]);
	for (size_t i = 0; i < calls; i++) {
		long n = wb_queue_ack_reply(s->q, stale, err, sizeof err);

		if (n < 0)
			wb_die(WB_EXIT_TEMP, "unable to acknowledge claims: %s",
			    err);
		for (long j = 0; j < n; j++)
			wb_warn("claim of %ld was no longer current; it stays "
			    "queued", stale[j]);
	}
	for (size_t i = 0; i < s->sent; i++) {
		s->acked += s->pool[i].nacks;
		s->pool[i].n = s->pool[i].nacks = 0;
	}
	/* The batch being filled moves to the front of the pool. */
	if (s->sent > 0) {
		s->pool[0] = s->pool[s->sent];
		s->pool[s->sent].n = s->pool[s->sent].nacks = 0;
	}
	s->sent = 0;
	show(s, 0);
}

/* Send the batch being filled; wait for replies once DEPTH are in flight. */
static void
send_batch(struct sender *s)
{
	struct batch *b = &s->pool[s->sent];

	if (b->n == 0)
		return;
	wb_queue_append_push(s->q, s->queue, b->numbers, b->n);
	if (++s->sent == DEPTH)
		drain(s);
}

static void
add(struct sender *s, long number)
{
	struct batch *b = &s->pool[s->sent];

	b->numbers[b->n++] = number;
	if (b->n == WB_QUEUE_BATCH_MAX)
		send_batch(s);
}

/* Input paused, or ended: queue what is batched and acknowledge it now. */
static void
flush_all(void *arg)
{
	struct sender *s = arg;

	send_batch(s);
	drain(s);
}

/* Take the claim of 'rec', if it has one; returns -1 if it is malformed. */
static int
take_claim(struct sender *s, const struct wb_record *rec)
{
	struct batch *b = &s->pool[s->sent];
	struct ack *a = &b->acks[b->nacks];
	char why[128];
	int has = wb_record_claim(rec, a->queue, a->claim, why, sizeof why);

	if (has > 0) {
		a->number = rec->number;
		b->nacks++;
	}
	return has < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static struct sender s;
	struct wb_config cfg;
	struct wb_reader in;
	struct wb_record rec;
	struct wb_queue q;
	char why[32];
	int first, status = WB_EXIT_OK;
	long n;

	wb_cli_start("wb-enqueue");
	first = wb_cli_no_options_or_die(argc, argv, USAGE, HELP);
	argc -= first, argv += first;
	if (argc < 1)
		wb_dieusage(USAGE);
	s.queue = argv[0];
	wb_scan_queue_name_or_die(s.queue);
	for (int i = 1; i < argc; i++)
		if (wb_scan_number(argv[i], &n, why, sizeof why) < 0)
			wb_die(WB_EXIT_USAGE, "not an issue number: %s: %s",
			    argv[i], why);
	wb_config_load_or_die(&cfg);
	wb_queue_connect_or_die(&q, cfg.redis);
	s.q = &q;
	s.tty = isatty(2);
	s.start_ms = wb_clock_ms();

	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			wb_scan_number(argv[i], &n, why, sizeof why);
			add(&s, n);
		}
	} else {
		wb_reader_init_or_die(&in, 0);
		in.idle_fn = flush_all;
		in.idle_arg = &s;
		while (wb_reader_next_or_die(&in, &rec)) {
			if (take_claim(&s, &rec) < 0) {
				wb_warn("line %lu: \"queue\" or \"claim\" is "
				    "malformed; %ld queued, no claim "
				    "acknowledged", in.lineno, rec.number);
				in.rejected++;
			}
			add(&s, rec.number);
			wb_record_free(&rec);
		}
		status = wb_reader_status(&in);
		wb_reader_free(&in);
	}
	flush_all(&s);
	show(&s, 1);
	wb_info("%llu queued into %s, %llu claims acknowledged", s.items,
	    s.queue, s.acked);
	wb_queue_close(&q);
	return wb_cli_end_or_die(status);
}
