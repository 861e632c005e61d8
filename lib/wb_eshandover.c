/* SPDX-License-Identifier: MPL-2.0 */
/* wb — two batches handed over between two threads. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "wb_err.h"
#include "wb_eshandover.h"

void
wb_eshandover_init(struct wb_eshandover *h, struct wb_esconn *es,
    struct wb_esissue *issues)
{
	h->fill = &h->batches[0];
	h->flight = NULL;
	h->es = es;
	h->issues = issues;
}

/* The sender thread: the batch in flight, until each document is done. */
static void *
sender_or_die(void *arg)
{
	struct wb_eshandover *h = arg;

	wb_esbatch_send_or_die(h->es, h->flight, h->issues);
	return NULL;
}

void
wb_eshandover_send_or_die(struct wb_eshandover *h)
{
	int e;

	if (h->fill->ndocs == 0)
		return;
	h->flight = h->fill;
	h->fill = h->fill == &h->batches[0] ? &h->batches[1] : &h->batches[0];
	if ((e = pthread_create(&h->sender, NULL, sender_or_die, h)) != 0) {
		errno = e;
		wb_diesys(WB_EXIT_TEMP, "unable to start the sender thread");
	}
}

void
wb_eshandover_wait(struct wb_eshandover *h)
{
	if (h->flight == NULL)
		return;
	/* Our own joinable thread, joined once: only a bug makes this fail. */
	if (pthread_join(h->sender, NULL) != 0)
		abort();
	wb_esbatch_done(h->flight, h->issues);
	h->flight = NULL;
}

unsigned long long
wb_eshandover_sent(const struct wb_eshandover *h)
{
	return h->batches[0].sent + h->batches[1].sent;
}

unsigned long long
wb_eshandover_requests(const struct wb_eshandover *h)
{
	return h->batches[0].requests + h->batches[1].requests;
}

void
wb_eshandover_free(struct wb_eshandover *h)
{
	wb_eshandover_wait(h);
	wb_esbatch_free(&h->batches[0]);
	wb_esbatch_free(&h->batches[1]);
}
