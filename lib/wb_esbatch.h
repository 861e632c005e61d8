/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a batch of documents (one bulk request's worth), and sending it
 * to _bulk.
 *
 * A batch holds the NDJSON body of its documents (lib/wb_es.c makes each
 * one) and, for each, where it lies in the body and whose it is: an
 * entry of the caller's table of issues being indexed. Sending a batch
 * goes on until every document is in or refused for good: items refused
 * for now (429, 5xx) go again after a pause, and a request refused whole
 * is split to find and name the document at fault. A refused document
 * marks its issue failed, and a warning on stderr names the issue.
 */
#ifndef WB_ESBATCH_H
#define WB_ESBATCH_H

#include <stddef.h>

#include "wb_es.h"
#include "wb_esconn.h"
#include "wb_jscan.h"
#include "wb_record.h"

/* An issue being indexed, from its record until the record is written out. */
struct wb_esissue {
	struct wb_record rec;	/* what to write out once indexed */
	long nevents;		/* -1: gone, to be removed */
	int complete;		/* every document is in a batch (or sent) */
	int failed;		/* a document was refused for good */
	size_t unsent;		/* documents in a batch not sent yet */
};

/* A document of a batch. */
struct wb_esdoc {
	size_t off, len;	/* action and source lines in the body */
	size_t slot;		/* its issue, in the caller's table */
	long pos;		/* -1: the issue; else the event */
};

/* A batch; zero-initialise it. */
struct wb_esbatch {
	struct wb_es_buf body, scratch;
	struct wb_esdoc *docs;
	size_t ndocs, capdocs;
	struct wb_es_item *items;
	size_t *idx;
	unsigned long long sent, requests;	/* documents in, requests made */
};

/*
 * Add to 'bt' the document of issues[slot] (pos -1) or of its event
 * 'pos': the object text[span] (checked by wb_jscan) plus "bug_number",
 * and count it in the issue's 'unsent'. Returns 0; or -1 when it cannot
 * be made: the document is refused with a warning and the issue marked
 * failed. Dies 111 out of memory.
 */
int wb_esbatch_add(struct wb_esbatch *bt, struct wb_esissue *issues,
    size_t slot, long pos, const char *text, const struct wb_jscan_span *span);

/*
 * Send every document of 'bt' to the server of 'es' until each is in or
 * refused for good (with a warning, its issue marked failed in
 * 'issues'); an outage is waited out. Counts what it does in bt->sent
 * and bt->requests. Touches only 'bt', the issues of its documents and 'es':
 * it may run in a thread of its own while the caller fills another batch.
 * Exits as wb_esconn_post_or_die does.
 */
void wb_esbatch_send_or_die(struct wb_esconn *es, struct wb_esbatch *bt,
    struct wb_esissue *issues);

/*
 * The documents of 'bt' are done with (in, or refused): take
 * them off their issues' 'unsent' counts and empty the batch.
 */
void wb_esbatch_done(struct wb_esbatch *bt, struct wb_esissue *issues);

/* Free what 'bt' holds and zero it; it must not be in flight. */
void wb_esbatch_free(struct wb_esbatch *bt);

#endif
