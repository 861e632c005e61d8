/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the indexer: records in, their issues' documents into
 * Elasticsearch, the records out once that is done.
 *
 * For each record, the issue's archived files are read (lib/wb_esload.c)
 * and its documents added to a batch, bounded in bytes and documents; a
 * full batch is sent by a second thread while the next one fills
 * (lib/wb_eshandover.c). Once every document of an issue is done, one
 * delete-by-query per batch removes what the issues no longer have
 * (lib/wb_esclean.c), and the record is written to stdout, in input
 * order: only if every document is in and the stale ones are gone, so
 * that what follows acknowledges nothing that was not done. A gone issue
 * (no directory) has all its documents removed.
 */
#ifndef WB_ESINDEXER_H
#define WB_ESINDEXER_H

#include <stddef.h>
#include <time.h>

#include "wb_esbatch.h"
#include "wb_esclean.h"
#include "wb_esconn.h"
#include "wb_eshandover.h"
#include "wb_esload.h"
#include "wb_record.h"

#define WB_ESINDEXER_MAX_ISSUES 1000	/* of a batch (bounds the query) */

struct wb_esindexer {
	const char *data;		/* the archive root */
	size_t max_bytes, max_docs;	/* of a batch */
	struct wb_esconn *es;		/* NULL: a dry run */
	struct wb_esissue *issues;	/* of both batches, in input order */
	size_t nissues;
	long long started_ms;		/* when the first of them came */
	struct wb_eshandover batches;
	struct wb_esload load;
	struct wb_esclean clean;
	unsigned long long emitted, skipped;	/* records written, not */
};

/*
 * Set up 'ix' to index the issues of the archive at 'data' into the
 * server of 'es' (both borrowed), in batches of at most 'max_bytes' and
 * 'max_docs'. With 'es' NULL, a dry run: the bulk bodies are written to
 * stdout instead, and no record. Dies 100 when 'data' is not a
 * directory, 111 out of memory.
 */
void wb_esindexer_open_or_die(struct wb_esindexer *ix, const char *data,
    struct wb_esconn *es, size_t max_bytes, size_t max_docs);

/*
 * Take the record 'rec' (the indexer owns what it holds from then on):
 * its issue is read and its documents batched, or the issue is skipped
 * with a warning on stderr.
 * Then send what is due: a full batch; everything when the batches hold
 * WB_ESINDEXER_MAX_ISSUES issues, or when the first of them has waited
 * 'idle_ms'. An issue already pending is sent first, so that an issue's
 * records keep their order. Exits as wb_esbatch_send_or_die does, and 111
 * when standard output cannot be written (a dry run).
 */
void wb_esindexer_add_or_die(struct wb_esindexer *ix, struct wb_record *rec,
    int idle_ms);

/* Send everything and wait until it is done, records written out; exits
 * as wb_esindexer_add_or_die does. */
void wb_esindexer_flush_or_die(struct wb_esindexer *ix);

/* wb_esindexer_flush_or_die when anything is pending; 'arg': the indexer. */
void wb_esindexer_idle_or_die(void *arg);

/*
 * After the last flush: say how many issues were not indexed (and, with
 * WB_DEBUG, what was done), and return how many.
 */
unsigned long long wb_esindexer_report(const struct wb_esindexer *ix);

/*
 * Free what 'ix' holds, with the records of any issue still pending (not
 * written out); not the connection.
 */
void wb_esindexer_free(struct wb_esindexer *ix);

#endif
