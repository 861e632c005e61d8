/* SPDX-License-Identifier: MPL-2.0 */
/* wb — two batches handed over between two threads.
 *
 * The caller fills one batch while a second thread sends the other to
 * Elasticsearch (wb_esbatch_send_or_die), so that reading the archive and
 * sending overlap. While a batch is in flight the caller touches neither
 * it, nor the connection, nor the order of the table of issues (it may
 * append issues and count their documents, which the sender does not
 * read).
 */
#ifndef WB_ESHANDOVER_H
#define WB_ESHANDOVER_H

#include <pthread.h>

#include "wb_esbatch.h"
#include "wb_esconn.h"

struct wb_eshandover {
	struct wb_esbatch batches[2];
	struct wb_esbatch *fill;	/* the batch the caller fills */
	struct wb_esbatch *flight;	/* the batch being sent, or NULL */
	struct wb_esconn *es;
	struct wb_esissue *issues;
	pthread_t sender;
};

/*
 * Set up 'h' to send on 'es' the documents of the issues of the table
 * 'issues' (both borrowed, for as long as 'h' is used).
 */
void wb_eshandover_init(struct wb_eshandover *h, struct wb_esconn *es,
    struct wb_esissue *issues);

/*
 * With nothing in flight: send h->fill in a new thread, if it holds any
 * document, and fill the other batch meanwhile. Exits 111 when the thread
 * cannot start; the thread exits as wb_esbatch_send_or_die does.
 */
void wb_eshandover_send_or_die(struct wb_eshandover *h);

/*
 * Wait until the batch in flight, if any, is sent, and mark its
 * documents done (wb_esbatch_done).
 */
void wb_eshandover_wait(struct wb_eshandover *h);

/* Documents sent, and requests made, so far. */
unsigned long long wb_eshandover_sent(const struct wb_eshandover *h);
unsigned long long wb_eshandover_requests(const struct wb_eshandover *h);

/* Wait for the batch in flight, then free both batches. */
void wb_eshandover_free(struct wb_eshandover *h);

#endif
