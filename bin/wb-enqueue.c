/* wb-enqueue — add issue numbers to a queue.
 *
 * Reads records (or takes numbers as arguments) and adds each number to
 * QUEUE, moving its activity time to now. A record that carries "queue"
 * and "claim" has that claim acknowledged once the add has succeeded, so
 * that a pipeline hands an item from one queue to the next without loss.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_queue.h"
#include "wb_record.h"
#include "wb_scan.h"

#define USAGE "wb-enqueue QUEUE [NUMBER ...]"
#define HELP \
	"Add issue numbers (arguments, or records on standard input) to QUEUE.\n" \
	"Input records carrying \"queue\" and \"claim\" have that claim\n" \
	"acknowledged once the numbers are queued. See wb-enqueue(1).\n"

/* One batch: the numbers to add, then the claims to acknowledge. */
struct batch {
	long numbers[WB_QUEUE_BATCH_MAX];
	size_t n;
	struct ack {
		char queue[65];
		long number;
		char claim[WB_CLAIM_MAX];
	} acks[WB_QUEUE_BATCH_MAX];
	size_t nacks;
};

struct progress {
	unsigned long long items, acked;
	struct timespec start, last;
	int tty;
};

static double
since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void
show(struct progress *p, int last)
{
	struct timespec now;
	double t;

	if (!p->tty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!last && since(&p->last, &now) < 0.25)
		return;
	p->last = now;
	t = since(&p->start, &now);
	fprintf(stderr, "\r%s: %llu items, %.0f/s%s", wb_prog, p->items,
	    t > 0 ? (double)p->items / t : 0.0, last ? "\n" : "");
}

/* Acknowledge the claims of a batch whose numbers are queued. */
static void
append_acks(struct wb_queue *q, const struct batch *b, size_t *nreplies)
{
	const char *claims[WB_QUEUE_BATCH_MAX];
	long numbers[WB_QUEUE_BATCH_MAX];
	size_t done = 0;

	/* One script call per source queue, in input order. */
	while (done < b->nacks) {
		const char *queue = b->acks[done].queue;
		size_t n = 0;

		for (size_t i = done; i < b->nacks &&
		    strcmp(b->acks[i].queue, queue) == 0; i++, n++) {
			numbers[n] = b->acks[i].number;
			claims[n] = b->acks[i].claim;
		}
		wb_queue_append_ack(q, queue, numbers, claims, n);
		(*nreplies)++;
		done += n;
	}
}

static void
read_acks(struct wb_queue *q, size_t nreplies)
{
	long stale[WB_QUEUE_BATCH_MAX];
	char err[512];

	for (size_t i = 0; i < nreplies; i++) {
		long n = wb_queue_ack_reply(q, stale, err, sizeof err);

		if (n < 0)
			wb_die(WB_EXIT_TEMP, "unable to acknowledge claims: %s", err);
		for (long j = 0; j < n; j++)
			wb_warn("claim of %ld was no longer current; it stays "
			    "queued", stale[j]);
	}
}

/*
 * Send batch *b together with the acknowledgements of the batch before it
 * (*prev), whose numbers are known to be queued: one round trip. Then *b
 * becomes the batch whose claims wait, and *b an empty one.
 */
static void
flush_batch(struct wb_queue *q, const char *queue, struct batch **b,
    struct batch **prev, struct progress *p)
{
	struct batch *t;
	char err[512];
	size_t nacks = 0;

	append_acks(q, *prev, &nacks);
	if ((*b)->n > 0)
		wb_queue_append_push(q, queue, (*b)->numbers, (*b)->n);
	read_acks(q, nacks);
	p->acked += (*prev)->nacks;
	if ((*b)->n > 0 && wb_queue_push_reply(q, err, sizeof err) < 0)
		wb_die(WB_EXIT_TEMP, "unable to queue into %s: %s", queue, err);
	p->items += (*b)->n;
	show(p, 0);
	t = *prev, *prev = *b, *b = t;
	(*b)->n = (*b)->nacks = 0;
}

/* Take the claim of 'rec', if it has one; returns -1 if it is malformed. */
static int
take_claim(const struct wb_record *rec, struct batch *b)
{
	struct ack *a = &b->acks[b->nacks];
	const char *why;
	int has = wb_record_claim(rec, a->queue, a->claim, &why);

	if (has > 0) {
		a->number = rec->number;
		b->nacks++;
	}
	return has < 0 ? -1 : 0;
}

struct pause {
	struct wb_queue *q;
	const char *queue;
	struct batch **b, **prev;
	struct progress *p;
};

/* Input paused: queue what is batched and acknowledge its claims now. */
static void
on_pause(void *arg)
{
	struct pause *z = arg;

	if ((*z->b)->n == 0 && (*z->prev)->nacks == 0)
		return;
	flush_batch(z->q, z->queue, z->b, z->prev, z->p);
	flush_batch(z->q, z->queue, z->b, z->prev, z->p);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { WB_CLI_LONGOPTS };
	static struct batch batches[2];
	struct batch *b = &batches[0], *prev = &batches[1];
	struct progress p = { 0 };
	struct wb_config cfg;
	struct wb_reader in;
	struct wb_record rec;
	struct wb_queue q;
	const char *queue, *why;
	int ch, status = WB_EXIT_OK;

	wb_cli_start("wb-enqueue");
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			wb_cli_help(USAGE, HELP);
		case 'V':
			wb_cli_version();
		default:
			wb_dieusage(USAGE);
		}
	}
	argc -= optind, argv += optind;
	if (argc < 1)
		wb_dieusage(USAGE);
	queue = argv[0];
	if (!wb_queue_name_ok(queue))
		wb_die(WB_EXIT_USAGE, "bad queue name (1 to 64 of A-Z a-z 0-9 _ . -): %s",
		    queue);
	for (int i = 1; i < argc; i++)
		if (wb_scan_number(argv[i], &rec.number, &why) < 0)
			wb_die(WB_EXIT_USAGE, "not an issue number: %s: %s",
			    argv[i], why);
	wb_config_load(&cfg);
	wb_queue_connect(&q, cfg.redis);
	p.tty = isatty(2);
	clock_gettime(CLOCK_MONOTONIC, &p.start);

	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			wb_scan_number(argv[i], &b->numbers[b->n++], &why);
			if (b->n == WB_QUEUE_BATCH_MAX)
				flush_batch(&q, queue, &b, &prev, &p);
		}
	} else {
		struct pause z = { &q, queue, &b, &prev, &p };

		wb_reader_init(&in, 0);
		in.idle_fn = on_pause;
		in.idle_arg = &z;
		while (wb_reader_next(&in, &rec)) {
			if (take_claim(&rec, b) < 0) {
				wb_warn("line %lu: \"queue\" or \"claim\" is "
				    "malformed; %ld queued, no claim "
				    "acknowledged", in.lineno, rec.number);
				in.rejected++;
			}
			b->numbers[b->n++] = rec.number;
			wb_record_free(&rec);
			if (b->n == WB_QUEUE_BATCH_MAX)
				flush_batch(&q, queue, &b, &prev, &p);
		}
		status = wb_reader_status(&in);
		wb_reader_free(&in);
	}
	flush_batch(&q, queue, &b, &prev, &p);
	flush_batch(&q, queue, &b, &prev, &p);	/* the last acknowledgements */
	show(&p, 1);
	wb_info("%llu queued into %s, %llu claims acknowledged", p.items,
	    queue, p.acked);
	wb_queue_close(&q);
	return wb_cli_end(status);
}
