/* SPDX-License-Identifier: MPL-2.0 */
/* wb — removing the documents that re-indexed issues no longer have.
 *
 * Documents are indexed first; then one _delete_by_query over both
 * indices removes, for the issues just indexed, the events beyond their
 * new timelines, and every document of the issues that are gone. A
 * delete-by-query sees only refreshed documents: when an issue was
 * indexed moments before (within the 1 s refresh interval of our
 * templates, with a margin), _refresh goes first, or its older documents
 * could escape. A refresh or delete-by-query that keeps failing is tried
 * a few times, then the stale documents stay and the caller holds the
 * issues back. A warning says so once, and not again until removing
 * works again.
 */
#ifndef WB_ESCLEAN_H
#define WB_ESCLEAN_H

#include "wb_es.h"
#include "wb_esconn.h"

#define WB_ESCLEAN_TRIES 3	/* of a refresh or delete-by-query refused */

struct wb_esclean_recent;

struct wb_esclean {
	struct wb_esconn *es;	/* NULL: a dry run, nothing sent */
	struct wb_es_buf query;
	struct wb_esclean_recent *recent;	/* issues indexed lately */
	int stuck;		/* stale documents cannot be removed */
	unsigned long long dbqs, refreshes, removed;	/* counts */
};

/*
 * Set up 'cl' to clean up on the server of 'es' (borrowed; NULL for a dry
 * run, where the query is only shown with WB_DEBUG). Dies 111 out of
 * memory.
 */
void wb_esclean_init(struct wb_esclean *cl, struct wb_esconn *es);

/*
 * The issues issues[0..n) are indexed, each with its 'nevents' events,
 * or gone (nevents < 0): remove what they no longer have, refreshing
 * first if one of them was indexed lately, and remember them as indexed
 * now. Returns 0 when that is done (or nothing was sent, in a dry run);
 * -1 when the stale documents could not be removed (one warning, not
 * repeated until removing works again). An outage is waited out. Exits as
 * wb_esconn_post_or_die does.
 */
int wb_esclean_run_or_die(struct wb_esclean *cl,
    const struct wb_es_keep *issues, size_t n);

/* Free what 'cl' holds (not its connection). */
void wb_esclean_free(struct wb_esclean *cl);

#endif
