/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the SQLite indexer (wb_sqliteindexer.h). */
#include <stdlib.h>

#include "wb_clock.h"
#include "wb_err.h"
#include "wb_indexloop.h"
#include "wb_metrics.h"
#include "wb_sqlite.h"
#include "wb_sqliteindexer.h"
#include "wb_xalloc.h"

void
wb_sqliteindexer_open_or_die(struct wb_sqliteindexer *ix, const char *data,
    sqlite3 *db, const char *path, size_t max_issues, size_t max_bytes,
    int emit)
{
	char why[512];

	*ix = (struct wb_sqliteindexer){ .data = data, .db = db,
	    .max_issues = max_issues, .max_bytes = max_bytes, .emit = emit };
	wb_sqliteprefetch_init_or_die(&ix->ahead, data, path);
	if (wb_sqliterows_init(&ix->rows, db, why, sizeof why) < 0)
		wb_die(WB_EXIT_TEMP, "%s", why);
	/* The -wal file written again from its start every two transactions. */
	if (path != NULL && wb_sqliteckpt_start(&ix->ckpt, db, path,
	    2 * (long long)max_bytes, why, sizeof why) < 0)
		wb_warn("%s; checkpoints after commits instead", why);
}

/*
 * A failure of the database in a transaction: roll it back, so that
 * nothing of it goes out, and exit 111.
 */
static void __attribute__((noreturn))
rollback_and_die(struct wb_sqliteindexer *ix, const char *why)
{
	sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	if (wb_sqlite_out_gone())
		wb_die(WB_EXIT_TEMP, "standard output's reader is gone, "
		    "stopping");
	wb_die(WB_EXIT_TEMP, "%s", why);
}

/*
 * One transaction: the issues of order[k..] until the batch ends or
 * max_bytes of JSON are in; returns where it stopped. A failure of the
 * database exits 111 (rollback_and_die).
 */
static size_t
transaction_or_die(struct wb_sqliteindexer *ix, size_t k)
{
	size_t bytes = 0, i;
	char why[1024];
	int got, same;

	if (wb_sqlite_exec(ix->db, "BEGIN IMMEDIATE", "unable to begin a "
	    "transaction", why, sizeof why) < 0)
		rollback_and_die(ix, why);
	for (; k < ix->nrecs && bytes < ix->max_bytes; k++) {
		struct wb_sqliteprefetch_slot *s = wb_sqliteprefetch_take(&ix->ahead,
		    k);
		long n = ix->recs[i = ix->order[k]].number;

		ix->ok[i] = 0;
		if ((got = s->got) == 0) {
			if (wb_sqliterows_remove(&ix->rows, n, why, sizeof why) < 0)
				rollback_and_die(ix, why);
		} else if (got > 0 && (same = wb_sqliterows_same(&ix->rows, n,
		    &s->load, s->sha, why, sizeof why)) < 0)
			rollback_and_die(ix, why);
		else if (got > 0 && !same && (wb_sqliteprefetch_prepare(s,
		    ix->data, n), got = s->checked) > 0 &&
		    wb_sqliterows_put(&ix->rows, n, &s->load, &s->doc, why,
		    sizeof why) < 0)
			rollback_and_die(ix, why);
		if (got > 0)
			bytes += s->load.itext.len + s->load.ttext.len;
		wb_sqliteprefetch_done(&ix->ahead, k);
		if (got < 0) {
			ix->skipped++;
			continue;
		}
		ix->ok[i] = 1;
	}
	if (wb_sqliterows_flush(&ix->rows, why, sizeof why) < 0 ||
	    wb_sqlite_exec(ix->db, "COMMIT", "unable to commit", why,
	    sizeof why) < 0)
		rollback_and_die(ix, why);
	ix->commits++;
	wb_metrics_note_success(WB_METRICS_SQLITE);
	wb_sqliteckpt_kick(&ix->ckpt);
	return k;
}

static const struct wb_record *sorting;

/* By issue number, then input order (qsort is not stable). */
static int
by_number(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	long m = sorting[x].number, n = sorting[y].number;

	if (m != n)
		return m < n ? -1 : 1;
	return (x > y) - (x < y);
}

void
wb_sqliteindexer_flush_or_die(void *arg)
{
	struct wb_sqliteindexer *ix = arg;
	size_t k = 0, end, out = 0;

	if (ix->nrecs == 0)
		return;		/* nothing to do; the arrays may not exist */
	for (size_t i = 0; i < ix->nrecs; i++) {
		ix->order[i] = i;
		ix->done[i] = 0;
	}
	sorting = ix->recs;
	qsort(ix->order, ix->nrecs, sizeof *ix->order, by_number);
	for (size_t j = 0; j < ix->nrecs; j++)
		ix->numbers[j] = ix->recs[ix->order[j]].number;
	wb_sqliteprefetch_begin_or_die(&ix->ahead, ix->numbers, ix->nrecs);
	while (k < ix->nrecs) {
		end = transaction_or_die(ix, k);
		for (; k < end; k++)
			ix->done[ix->order[k]] = 1;
		for (; out < ix->nrecs && ix->done[out]; out++) {
			if (ix->emit && ix->ok[out]) {
				wb_record_put_or_die(stdout, &ix->recs[out]);
				ix->emitted++;
			}
			wb_record_free(&ix->recs[out]);
		}
		if (ix->emit)
			wb_record_flush_or_die(stdout);
	}
	wb_sqliteprefetch_end(&ix->ahead);
	ix->nrecs = 0;
}

void
wb_sqliteindexer_idle_or_die(void *arg)
{
	struct wb_sqliteindexer *ix = arg;

	if (ix->nrecs > 0)
		wb_sqliteindexer_flush_or_die(ix);
}

void
wb_sqliteindexer_add_or_die(void *arg, struct wb_record *rec, int idle_ms)
{
	struct wb_sqliteindexer *ix = arg;
	size_t cap = ix->cap, cap2 = ix->cap, cap3 = ix->cap, cap4 = ix->cap;

	ix->recs = wb_xgrow(ix->recs, ix->nrecs, &ix->cap, sizeof *ix->recs);
	ix->ok = wb_xgrow(ix->ok, ix->nrecs, &cap, sizeof *ix->ok);
	ix->done = wb_xgrow(ix->done, ix->nrecs, &cap2, sizeof *ix->done);
	ix->order = wb_xgrow(ix->order, ix->nrecs, &cap3, sizeof *ix->order);
	ix->numbers = wb_xgrow(ix->numbers, ix->nrecs, &cap4,
	    sizeof *ix->numbers);
	if (ix->nrecs == 0)
		ix->first_ms = wb_clock_ms();
	ix->recs[ix->nrecs++] = *rec;
	if (ix->nrecs >= ix->max_issues ||
	    wb_clock_ms() - ix->first_ms >= idle_ms)
		wb_sqliteindexer_flush_or_die(ix);
}

unsigned long long
wb_sqliteindexer_report(void *arg)
{
	const struct wb_sqliteindexer *ix = arg;

	wb_indexloop_said_skipped(ix->skipped);
	wb_debug("%llu issues written, %llu unchanged, %llu removed, "
	    "%llu transactions, %llu records written", ix->rows.written,
	    ix->rows.unchanged, ix->rows.removed, ix->commits, ix->emitted);
	return ix->skipped;
}

void
wb_sqliteindexer_free(struct wb_sqliteindexer *ix)
{
	for (size_t i = 0; i < ix->nrecs; i++)
		wb_record_free(&ix->recs[i]);
	free(ix->recs);
	free(ix->ok);
	free(ix->done);
	free(ix->order);
	free(ix->numbers);
	wb_sqliteprefetch_free(&ix->ahead);
	wb_sqliterows_free(&ix->rows);
	wb_sqliteckpt_stop(&ix->ckpt);
}
