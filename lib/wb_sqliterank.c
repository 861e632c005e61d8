/* SPDX-License-Identifier: MPL-2.0 */
/* wb — FTS5's bm25, computed the same way (wb_sqliterank.h). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_sqlite.h"
#include "wb_sqliterank.h"
#include "wb_sqlitetokens.h"

#define WB_SQLITERANK_STEPS 16	/* rows stepped over rather than searched */
#define WB_SQLITERANK_CHECKS 64	/* rows counted both ways, each query */

/* What one query needs, made at its first row (as bm25's own). */
struct rank {
	int nphrase, ncol;
	int raw;		/* position lists read directly (see below) */
	int checks;		/* rows still counted both ways */
	double avgdl;		/* tokens per row */
	double *idf, *freq;	/* by phrase */
	double *weight;		/* by column */
	struct wb_sqlitetokens_reader packed;	/* the sizes, packed */
	int use_packed;		/* they are those of the index */
	sqlite3 *db;
	sqlite3_stmt *sizes;	/* %_docsize from a rowid on, in order */
	int prepared;		/* 'sizes' was prepared (or tried) */
	sqlite3_int64 at;	/* the row 'sizes' is on; 0: none */
	int ntok;		/* that row's tokens, all columns */
	int done;		/* 'sizes' ran out */
};

static void
rank_free(void *arg)
{
	struct rank *r = arg;

	if (r == NULL)
		return;
	sqlite3_finalize(r->sizes);
	wb_sqlitetokens_reader_close(&r->packed);
	free(r->idf);
	free(r);
}

/* xQueryPhrase's callback: count the rows. */
static int
count_rows(const Fts5ExtensionApi *api, Fts5Context *f, void *arg)
{
	(void)api;
	(void)f;
	(*(sqlite3_int64 *)arg)++;
	return SQLITE_OK;
}

/*
 * The tokens of row 'id': read from the packed sizes when they are the
 * index's and hold it; else from 'sizes' moving forward when it can
 * (rows come in rowid order), else from FTS5 itself. -1 on error.
 */
static int
row_tokens(struct rank *r, const Fts5ExtensionApi *api, Fts5Context *f,
    sqlite3_int64 id, int *ntok)
{
	uint32_t n;

	/* A matching row has a token at least: 0 is "not said". */
	if (r->use_packed && (n = wb_sqlitetokens_reader_get(&r->packed,
	    id)) > 0 && n <= INT_MAX) {
		*ntok = (int)n;
		return 0;
	}
	/* Without it, each row's size is asked of FTS5 (as bm25 does). */
	if (!r->prepared) {
		r->prepared = 1;
		if (sqlite3_prepare_v2(r->db, "SELECT id, sz FROM "
		    WB_SQLITE_FTS "_docsize WHERE id >= ?1", -1, &r->sizes,
		    NULL) != SQLITE_OK) {
			sqlite3_finalize(r->sizes);
			r->sizes = NULL;
		}
	}
	/* Far ahead (a word in few issues), a search costs less than steps. */
	if (r->sizes != NULL && (r->at == 0 || id < r->at ||
	    id - r->at > WB_SQLITERANK_STEPS)) {
		sqlite3_reset(r->sizes);
		sqlite3_bind_int64(r->sizes, 1, id);
		r->at = 0;
		r->done = 0;
	}
	while (r->sizes != NULL && !r->done && r->at < id) {
		if (sqlite3_step(r->sizes) != SQLITE_ROW) {
			r->done = 1;
			break;
		}
		r->at = sqlite3_column_int64(r->sizes, 0);
		r->ntok = wb_sqlitetokens_sum(sqlite3_column_blob(r->sizes, 1),
		    sqlite3_column_bytes(r->sizes, 1), api->xColumnCount(f));
	}
	if (r->sizes != NULL && r->at == id) {
		*ntok = r->ntok;
		return 0;
	}
	return api->xColumnSize(f, -1, ntok) == SQLITE_OK ? 0 : -1;
}

/* What bm25 computes once per query: the mean size, each phrase's IDF. */
static struct rank *
rank_new(const Fts5ExtensionApi *api, Fts5Context *f, sqlite3 *db, int nval,
    sqlite3_value **val)
{
	sqlite3_int64 nrow = 0, ntoken = 0;
	struct rank *r;
	int n = api->xPhraseCount(f), ncol = api->xColumnCount(f);

	if ((r = calloc(1, sizeof *r)) == NULL || (r->idf = calloc((size_t)n *
	    2 + (size_t)ncol + 1, sizeof *r->idf)) == NULL) {
		free(r);
		return NULL;
	}
	r->nphrase = n;
	r->ncol = ncol;
	r->raw = 1;
	r->checks = WB_SQLITERANK_CHECKS;
	r->freq = r->idf + n;
	r->weight = r->freq + n;
	for (int c = 0; c < ncol; c++)
		r->weight[c] = nval > c ? sqlite3_value_double(val[c]) : 1.0;
	if (api->xRowCount(f, &nrow) != SQLITE_OK ||
	    api->xColumnTotalSize(f, -1, &ntoken) != SQLITE_OK)
		goto fail;
	r->avgdl = (double)ntoken / (double)nrow;
	for (int i = 0; i < n; i++) {
		sqlite3_int64 hit = 0;
		double idf;

		if (api->xQueryPhrase(f, i, &hit, count_rows) != SQLITE_OK)
			goto fail;
		idf = log((nrow - hit + 0.5) / (hit + 0.5));
		r->idf[i] = idf <= 0.0 ? 1e-6 : idf;
	}
	/* The packed sizes, if they add up to what FTS5 counts. */
	r->db = db;
	r->use_packed = wb_sqlitetokens_reader_open(&r->packed, db, nrow,
	    ntoken);
	return r;
fail:
	rank_free(r);
	return NULL;
}

/* Phrase i's instances in this row, each counted by its column's weight. */
static int
phrase_freq(struct rank *r, const Fts5ExtensionApi *api, Fts5Context *f,
    int i, double *freq)
{
	Fts5PhraseIter it;
	int ic, io;

	*freq = 0.0;
	if (api->xPhraseFirst(f, i, &it, &ic, &io) != SQLITE_OK)
		return -1;
	for (; ic >= 0; api->xPhraseNext(f, &it, &ic, &io))
		*freq += r->weight[ic];
	return 0;
}

/* One varint of a position list (at most 5 bytes before e), or -1. */
static long
poslist_varint(const unsigned char **a, const unsigned char *e)
{
	unsigned long v = 0;

	for (int k = 0; k < 5 && *a < e; k++) {
		unsigned char c = *(*a)++;

		v = v << 7 | (c & 0x7f);
		if (!(c & 0x80))
			return (long)v;
	}
	return -1;
}

/*
 * As phrase_freq, reading the rest of the position list that
 * xPhraseFirst leaves between it.a and it.b rather than calling
 * xPhraseNext for each instance (a third of the cost of a word in every
 * issue). The format is FTS5's (a varint per instance; 1 then the
 * column's number starts a column), the loop is xPhraseNext's; what it
 * cannot read is -1, and the caller asks xPhraseNext instead.
 */
static int
phrase_freq_raw(struct rank *r, const Fts5ExtensionApi *api,
    Fts5Context *f, int i, double *freq)
{
	Fts5PhraseIter it;
	int ic, io;
	double sum = 0.0;
	long v;

	if (api->xPhraseFirst(f, i, &it, &ic, &io) != SQLITE_OK)
		return -1;
	if (ic >= 0) {
		if (ic >= r->ncol)
			return -1;
		sum = r->weight[ic];
	}
	while (ic >= 0 && it.a < it.b) {
		if ((v = poslist_varint(&it.a, it.b)) == 1) {
			if ((v = poslist_varint(&it.a, it.b)) < 0 ||
			    v >= r->ncol)
				return -1;
			ic = (int)v;
			v = poslist_varint(&it.a, it.b);
		}
		if (v < 2)
			return -1;
		sum += r->weight[ic];
	}
	*freq = sum;
	return 0;
}

/*
 * The frequencies of every phrase in this row. The direct reading is
 * checked against xPhraseNext on a query's first rows, and given up for
 * the query at the first difference (an FTS5 that reads its lists
 * otherwise): the ranking stays FTS5's either way.
 */
static int
row_freqs(struct rank *r, const Fts5ExtensionApi *api, Fts5Context *f)
{
	for (int i = 0; i < r->nphrase; i++) {
		double check;

		if (!r->raw || phrase_freq_raw(r, api, f, i, &r->freq[i]) < 0) {
			if (phrase_freq(r, api, f, i, &r->freq[i]) < 0)
				return -1;
			continue;
		}
		if (r->checks > 0) {
			if (phrase_freq(r, api, f, i, &check) < 0)
				return -1;
			if (check != r->freq[i]) {
				r->raw = 0;
				r->freq[i] = check;
			}
		}
	}
	if (r->checks > 0)
		r->checks--;
	return 0;
}

/* wb_rank(fts, weight...): the row's bm25 score, as FTS5's bm25(). */
static void
wb_rank(const Fts5ExtensionApi *api, Fts5Context *f, sqlite3_context *ctx,
    int nval, sqlite3_value **val)
{
	const double k1 = 1.2, b = 0.75;
	struct rank *r = api->xGetAuxdata(f, 0);
	double score = 0.0, d;
	int ntok;

	if (r == NULL) {
		if ((r = rank_new(api, f, sqlite3_context_db_handle(ctx), nval,
		    val)) ==
		    NULL || api->xSetAuxdata(f, r, rank_free) != SQLITE_OK) {
			sqlite3_result_error(ctx, "unable to rank the matches",
			    -1);
			return;
		}
	}
	if (row_freqs(r, api, f) < 0)
		goto fail;
	if (row_tokens(r, api, f, api->xRowid(f), &ntok) < 0)
		goto fail;
	d = (double)ntok;
	for (int i = 0; i < r->nphrase; i++)
		score += r->idf[i] * ((r->freq[i] * (k1 + 1.0)) /
		    (r->freq[i] + k1 * (1 - b + b * d / r->avgdl)));
	sqlite3_result_double(ctx, -1.0 * score);
	return;
fail:
	sqlite3_result_error(ctx, "unable to rank the matches", -1);
}

int
wb_sqliterank_register(sqlite3 *db, char *why, size_t whylen)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) !=
	    SQLITE_OK)
		return wb_sqlite_fail(db, "unable to reach FTS5", why, whylen);
	sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (api == NULL || api->xCreateFunction(api, "wb_rank", NULL, wb_rank,
	    NULL) != SQLITE_OK) {
		snprintf(why, whylen, "unable to reach FTS5");
		return -1;
	}
	return 0;
}
