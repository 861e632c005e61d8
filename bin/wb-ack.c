/* SPDX-License-Identifier: MPL-2.0 */
/* wb-ack — acknowledge the claims of processed records.
 *
 * Reads records carrying "queue" and "claim" (as wb-dequeue wrote them and
 * the stages after it passed them through) and acknowledges each claim: the
 * item leaves its queue, unless it was queued again after it was claimed,
 * in which case it stays to be processed once more.
 */
#include <stdio.h>
#include <string.h>

#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_queue.h"
#include "wb_reader.h"
#include "wb_record.h"
#include "wb_scan.h"

#define USAGE "wb-ack"
#define HELP \
	"Acknowledge the \"queue\"/\"claim\" of every record on standard input.\n" \
	"See wb-ack(1).\n"

struct pending {
	struct wb_queue *q;
	char queue[WB_QUEUE_NAME_MAX + 1];
	long numbers[WB_QUEUE_BATCH_MAX];
	char claims[WB_QUEUE_BATCH_MAX][WB_CLAIM_MAX];
	size_t n;
	unsigned long long acked, stale;
};

/* Acknowledge what is gathered: one script call, one round trip. */
static void
send_acks(void *arg)
{
	struct pending *p = arg;
	const char *claims[WB_QUEUE_BATCH_MAX];
	long stale[WB_QUEUE_BATCH_MAX];
	char err[512];
	long n;

	if (p->n == 0)
		return;
	for (size_t i = 0; i < p->n; i++)
		claims[i] = p->claims[i];
	wb_queue_append_ack(p->q, p->queue, p->numbers, claims, p->n);
	n = wb_queue_ack_reply(p->q, stale, err, sizeof err);
	if (n < 0)
		wb_die(WB_EXIT_TEMP, "unable to acknowledge claims in %s: %s",
		    p->queue, err);
	for (long i = 0; i < n; i++)
		wb_warn("claim of %ld in %s was no longer current; it will be "
		    "processed again", stale[i], p->queue);
	p->acked += p->n - (size_t)n;
	p->stale += (size_t)n;
	p->n = 0;
}

/*
 * Gather the claim of 'rec'; returns -1 with the reason in why[whylen]
 * if it has none.
 */
static int
gather(struct pending *p, const struct wb_record *rec, char *why,
    size_t whylen)
{
	char queue[WB_QUEUE_NAME_MAX + 1], claim[WB_CLAIM_MAX];
	int has = wb_record_claim(rec, queue, claim, why, whylen);

	if (has == 0)
		snprintf(why, whylen, "no \"queue\" and \"claim\"");
	if (has <= 0)
		return -1;
	if (p->n > 0 && strcmp(p->queue, queue) != 0)
		send_acks(p);
	memcpy(p->queue, queue, sizeof queue);
	p->numbers[p->n] = rec->number;
	memcpy(p->claims[p->n], claim, sizeof claim);
	if (++p->n == WB_QUEUE_BATCH_MAX)
		send_acks(p);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct pending p;
	struct wb_config cfg;
	struct wb_reader in;
	struct wb_record rec;
	struct wb_queue q;
	char why[128];
	int status;

	wb_cli_start("wb-ack");
	if (wb_cli_no_options_or_die(argc, argv, USAGE, HELP) != argc)
		wb_dieusage(USAGE);
	wb_config_load_or_die(&cfg);
	wb_queue_connect_or_die(&q, cfg.redis);
	p.q = &q;

	wb_reader_init_or_die(&in, 0);
	in.idle_fn = send_acks;
	in.idle_arg = &p;
	while (wb_reader_next_or_die(&in, &rec)) {
		if (gather(&p, &rec, why, sizeof why) < 0) {
			wb_warn("line %lu: %s, skipped", in.lineno, why);
			in.rejected++;
		}
		wb_record_free(&rec);
	}
	send_acks(&p);
	status = wb_reader_status(&in);
	wb_reader_free(&in);
	wb_debug("%llu claims acknowledged, %llu no longer current", p.acked,
	    p.stale);
	wb_queue_close(&q);
	return wb_cli_end_or_die(status);
}
