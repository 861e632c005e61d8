/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the indexer: records in, documents into Elasticsearch, records out. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "wb_clock.h"
#include "wb_err.h"
#include "wb_esindexer.h"
#include "wb_indexloop.h"
#include "wb_metrics.h"
#include "wb_xalloc.h"

void
wb_esindexer_open_or_die(struct wb_esindexer *ix, const char *data,
    struct wb_esconn *es, size_t max_bytes, size_t max_docs)
{
	struct stat st;

	if (stat(data, &st) < 0 || !S_ISDIR(st.st_mode))
		wb_die(WB_EXIT_USAGE, "no archive at %s (WB_DATA)", data);
	*ix = (struct wb_esindexer){ .data = data, .es = es,
	    .max_bytes = max_bytes, .max_docs = max_docs };
	ix->issues = wb_xmalloc((WB_ESINDEXER_MAX_ISSUES + 1) *
	    sizeof *ix->issues);
	wb_eshandover_init(&ix->batches, es, ix->issues);
	wb_esclean_init(&ix->clean, es);
	ix->started_ms = wb_clock_ms();
}

/* Send the batch being filled: in flight while the next one fills. */
static void
take_off_or_die(struct wb_esindexer *ix)
{
	struct wb_esbatch *bt = ix->batches.fill;

	if (bt->ndocs == 0)
		return;
	if (ix->es != NULL) {
		wb_eshandover_send_or_die(&ix->batches);
		return;
	}
	if (fwrite(bt->body.p, 1, bt->body.len, stdout) != bt->body.len)
		wb_diesys(WB_EXIT_TEMP, "unable to write to standard output");
	bt->sent += bt->ndocs;
	wb_esbatch_done(bt, ix->issues);
}

/*
 * With nothing in flight: remove what the issues whose documents are all
 * done no longer have (one delete-by-query), write their records out and
 * forget them. The others (in the batch being filled, or still being
 * read) keep their order; the batch's documents follow them.
 */
static void
settle_or_die(struct wb_esindexer *ix)
{
	struct wb_es_keep *done = wb_xmalloc((ix->nissues + 1) * sizeof *done);
	size_t *moved = wb_xmalloc((ix->nissues + 1) * sizeof *moved);
	struct wb_esbatch *fill = ix->batches.fill;
	size_t ndone = 0, kept = 0;
	int cleaned;

	for (size_t i = 0; i < ix->nissues; i++)
		if (ix->issues[i].complete && ix->issues[i].unsent == 0) {
			done[ndone].number = ix->issues[i].rec.number;
			done[ndone++].nevents = ix->issues[i].nevents;
		}
	cleaned = ndone == 0 ||
	    wb_esclean_run_or_die(&ix->clean, done, ndone) == 0;
	for (size_t i = 0; i < ix->nissues; i++) {
		struct wb_esissue *is = &ix->issues[i];

		if (!is->complete || is->unsent > 0) {
			moved[i] = kept;
			ix->issues[kept++] = *is;
			continue;
		}
		if (is->failed || !cleaned) {
			if (!is->failed)
				wb_debug("issue %ld: stale documents not removed, "
				    "not acknowledged", is->rec.number);
			ix->skipped++;
		} else if (ix->es != NULL) {
			wb_record_put_or_die(stdout, &is->rec);
			ix->emitted++;
			wb_metrics_note_success(WB_METRICS_BULK);
		}
		wb_record_free(&is->rec);
	}
	for (size_t i = 0; i < fill->ndocs; i++)
		fill->docs[i].slot = moved[fill->docs[i].slot];
	free(done);
	free(moved);
	ix->nissues = kept;
	if (ix->es != NULL)
		wb_record_flush_or_die(stdout);
}

/* The batch being filled is full: send it, once the one before is done. */
static void
rotate_or_die(struct wb_esindexer *ix)
{
	wb_eshandover_wait(&ix->batches);
	settle_or_die(ix);
	take_off_or_die(ix);
	ix->started_ms = wb_clock_ms();
}

void
wb_esindexer_flush_or_die(struct wb_esindexer *ix)
{
	wb_eshandover_wait(&ix->batches);
	take_off_or_die(ix);
	wb_eshandover_wait(&ix->batches);
	settle_or_die(ix);
	ix->started_ms = wb_clock_ms();
}

void
wb_esindexer_idle_or_die(void *arg)
{
	struct wb_esindexer *ix = arg;

	if (ix->nissues > 0)
		wb_esindexer_flush_or_die(ix);
}

/* Add one document of the last issue, sending the batch first if full. */
static void
add_doc_or_die(struct wb_esindexer *ix, long pos, const char *text,
    const struct wb_jscan_span *span)
{
	struct wb_esbatch *bt = ix->batches.fill;

	if (bt->ndocs > 0 && (bt->ndocs >= ix->max_docs ||
	    bt->body.len + span->len + 100 > ix->max_bytes))
		rotate_or_die(ix);
	wb_esbatch_add(ix->batches.fill, ix->issues, ix->nissues - 1, pos, text,
	    span);
}

/* Take the record: read its issue and add its documents to the batch. */
static void
add_or_die(struct wb_esindexer *ix, struct wb_record *rec)
{
	struct wb_esload *ld = &ix->load;
	struct wb_esissue *is;
	int got;

	for (size_t i = 0; i < ix->nissues; i++)
		if (ix->issues[i].rec.number == rec->number) {
			/* The same issue twice: in order. */
			wb_esindexer_flush_or_die(ix);
			break;
		}
	if ((got = wb_esload_issue_or_die(ld, ix->data, rec->number)) < 0) {
		ix->skipped++;
		wb_record_free(rec);
		return;
	}
	if (ix->nissues == 0)
		ix->started_ms = wb_clock_ms();
	is = &ix->issues[ix->nissues++];
	is->rec = *rec;
	is->nevents = got ? (long)ld->spans.n : -1;
	is->complete = is->failed = 0;
	is->unsent = 0;
	if (got) {
		add_doc_or_die(ix, -1, ld->itext.p, &ld->ispan);
		for (size_t i = 0; i < ld->spans.n; i++)
			add_doc_or_die(ix, (long)i, ld->ttext.p,
			    &ld->spans.v[i]);
	}
	ix->issues[ix->nissues - 1].complete = 1;
}

void
wb_esindexer_add_or_die(struct wb_esindexer *ix, struct wb_record *rec,
    int idle_ms)
{
	const struct wb_esbatch *fill;
	long long waited;

	add_or_die(ix, rec);
	fill = ix->batches.fill;
	waited = wb_clock_ms() - ix->started_ms;
	if (ix->nissues >= WB_ESINDEXER_MAX_ISSUES)
		wb_esindexer_flush_or_die(ix);
	else if (fill->ndocs >= ix->max_docs || fill->body.len >= ix->max_bytes)
		rotate_or_die(ix);
	else if (ix->nissues > 0 && waited >= idle_ms)
		wb_esindexer_flush_or_die(ix);
}

unsigned long long
wb_esindexer_report(const struct wb_esindexer *ix)
{
	wb_indexloop_said_skipped(ix->skipped);
	wb_debug("%llu documents in %llu requests, %llu delete-by-query, "
	    "%llu refreshes, %llu removed, %llu records written",
	    wb_eshandover_sent(&ix->batches),
	    wb_eshandover_requests(&ix->batches), ix->clean.dbqs,
	    ix->clean.refreshes, ix->clean.removed, ix->emitted);
	return ix->skipped;
}

void
wb_esindexer_free(struct wb_esindexer *ix)
{
	wb_eshandover_free(&ix->batches);
	wb_esclean_free(&ix->clean);
	wb_esload_free(&ix->load);
	for (size_t i = 0; i < ix->nissues; i++)
		wb_record_free(&ix->issues[i].rec);
	free(ix->issues);
}
