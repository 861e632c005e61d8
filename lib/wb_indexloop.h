/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the main loop of an indexing filter (wb-bulk, wb-sqlite).
 *
 * Records are read from standard input and handed to an indexer that
 * batches them; a batch is flushed once input pauses for the idle time
 * (the reader's idle hook) and at the end of input; the indexer says
 * what it skipped, and the exit status follows: 0, or 1 when an input
 * line was rejected or an issue not indexed. The indexer is reached
 * through the functions below, 'ix' their first argument.
 */
#ifndef WB_INDEXLOOP_H
#define WB_INDEXLOOP_H

#include "wb_reader.h"
#include "wb_record.h"

struct wb_indexloop {
	void *ix;
	/* Take 'rec' (owned from then on); flush when due. */
	void (*add)(void *ix, struct wb_record *rec, int idle_ms);
	void (*idle)(void *ix);		/* flush, if anything is pending */
	void (*flush)(void *ix);	/* flush: everything done */
	/* After the last flush: say what was skipped; how many. */
	unsigned long long (*report)(void *ix);
	/* NULL, or called before each read, which it may wait for. */
	void (*wait)(const struct wb_reader *in, void *ix);
};

/*
 * Run 'l' over standard input, batches flushed after 'idle' seconds
 * without input. Returns the exit status (WB_EXIT_OK or
 * WB_EXIT_REJECTED). The indexer's own failures exit as it decides.
 */
int wb_indexloop_run_or_die(const struct wb_indexloop *l, double idle);

/* Say that 'skipped' issues were not indexed (nothing when 0). */
void wb_indexloop_said_skipped(unsigned long long skipped);

#endif
