/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the search query over the SQLite database (wb_sqlitesearch.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_err.h"
#include "wb_sqlite.h"
#include "wb_sqliterank.h"
#include "wb_sqlitesearch.h"
#include "wb_xalloc.h"

int
wb_sqlitesearch_utf8(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + len;

	while (s < end) {
		unsigned c = *s++, n, min, cp;

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, min = 0x10000, cp = c & 0x07;
		else
			return 0;
		if ((size_t)(end - s) < n)
			return 0;
		for (; n > 0; n--, s++) {
			if ((*s & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (*s & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

/* Append the SQL text 'sql' to buf[cap] at *len (it always fits: the
 * buffer is sized for every clause at once). */
static void
add(char *buf, size_t cap, size_t *len, const char *sql)
{
	size_t n = strlen(sql);

	if (*len + n < cap) {
		memcpy(buf + *len, sql, n + 1);
		*len += n;
	}
}

/* Append the formatted SQL to buf[cap] at *len, as add(). */
static void __attribute__((format(printf, 4, 5)))
addf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	char piece[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(piece, sizeof piece, fmt, ap);
	va_end(ap);
	add(buf, cap, len, piece);
}

/* Step error of 'db' (rc from a step) into why, *code (as _step says). */
static int
step_error(sqlite3 *db, int rc, const struct wb_sqlitesearch *s, int *code,
    char *why, size_t whylen)
{
	if (rc == SQLITE_ERROR && s->query != NULL) {
		*code = WB_EXIT_USAGE;
		snprintf(why, whylen, "malformed query: %s", sqlite3_errmsg(db));
	} else {
		*code = rc == SQLITE_CORRUPT ? WB_EXIT_USAGE : WB_EXIT_TEMP;
		snprintf(why, whylen, "unable to search: %s", sqlite3_errmsg(db));
	}
	return -1;
}

/* Prepare 'sql' and bind the search's values (?1 query, ?2 limit, ...). */
static sqlite3_stmt *
prepare(sqlite3 *db, const char *sql, const struct wb_sqlitesearch *s,
    int *code, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int p = 2;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		*code = sqlite3_errcode(db) == SQLITE_ERROR ||
		    sqlite3_errcode(db) == SQLITE_CORRUPT ? WB_EXIT_USAGE :
		    WB_EXIT_TEMP;
		snprintf(why, whylen, "unable to search: %s%s",
		    sqlite3_errmsg(db), *code == WB_EXIT_USAGE ?
		    " (run wb-sqlite --rebuild)" : "");
		return NULL;
	}
	if (s->query != NULL)
		sqlite3_bind_text(st, 1, s->query, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, s->limit);
	if (s->state != NULL)
		sqlite3_bind_text(st, ++p, s->state, -1, SQLITE_STATIC);
	for (size_t k = 0; k < s->nlabels; k++)
		sqlite3_bind_text(st, ++p, s->labels[k], -1, SQLITE_STATIC);
	if (s->since != NULL)
		sqlite3_bind_text(st, ++p, s->since, -1, SQLITE_STATIC);
	if (s->until != NULL)
		sqlite3_bind_text(st, ++p, s->until, -1, SQLITE_STATIC);
	return st;
}

/* By score (lower is better, as FTS5's rank), then number. */
static int
by_rank(const void *a, const void *b)
{
	const struct wb_sqlitesearch_hit *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return (x->number > y->number) - (x->number < y->number);
}

/* Move hit i of the max-heap h[n] (worst on top) down to its place. */
static void
sift_down(struct wb_sqlitesearch_hit *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, w = i;
		struct wb_sqlitesearch_hit t;

		if (l < n && by_rank(&h[l], &h[w]) > 0)
			w = l;
		if (r < n && by_rank(&h[r], &h[w]) > 0)
			w = r;
		if (w == i)
			return;
		t = h[i];
		h[i] = h[w];
		h[w] = t;
		i = w;
	}
}

/*
 * Rank every match of 'rank' (rows: number, score) into s->top, best
 * first, at most s->limit of them kept (the best so far in a heap, the
 * worst of them on top: a match no better is dropped at once). Out of
 * memory exits 111.
 */
static int
rank_all(sqlite3_stmt *rank, struct wb_sqlitesearch *s, int *code, char *why,
    size_t whylen)
{
	size_t cap = 0, keep = s->limit >= 0 ? (size_t)s->limit : (size_t)-1;
	struct wb_sqlitesearch_hit hit;
	int rc;

	while ((rc = sqlite3_step(rank)) == SQLITE_ROW) {
		hit.number = sqlite3_column_int64(rank, 0);
		hit.rank = sqlite3_column_double(rank, 1);
		if (s->ntop == keep) {
			if (by_rank(&hit, &s->top[0]) < 0) {
				s->top[0] = hit;
				sift_down(s->top, s->ntop, 0);
			}
			continue;
		}
		s->top = wb_xgrow(s->top, s->ntop, &cap, sizeof *s->top);
		s->top[s->ntop++] = hit;
		if (s->ntop == keep)
			for (size_t i = keep / 2 + 1; i-- > 0;)
				sift_down(s->top, s->ntop, i);
	}
	if (rc != SQLITE_DONE)
		return step_error(sqlite3_db_handle(rank), rc, s, code, why,
		    whylen);
	if (s->ntop > 1)
		qsort(s->top, s->ntop, sizeof *s->top, by_rank);
	return 0;
}

sqlite3_stmt *
wb_sqlitesearch_prepare(sqlite3 *db, struct wb_sqlitesearch *s, int *code,
    char *why, size_t whylen)
{
	size_t cap = 2048 + s->nlabels * 160, len = 0, flen = 0;
	char sql[cap], filters[cap], from[160];
	int p = 2, filtered = s->state != NULL || s->nlabels > 0 ||
	    s->since != NULL || s->until != NULL;
	sqlite3_stmt *rank;

	s->top = NULL;
	s->ntop = s->next = 0;
	s->ranked = s->query != NULL && !s->count;
	/*
	 * The filters, their parameters numbered (?1 is the query, ?2 the
	 * limit), so that the window below can repeat them.
	 */
	filters[0] = '\0';
	if (s->state != NULL)
		addf(filters, cap, &flen, " AND i.state = ?%d", ++p);
	for (size_t k = 0; k < s->nlabels; k++)
		addf(filters, cap, &flen, " AND i.number IN (SELECT number FROM "
		    "issue_labels WHERE name = ?%d)", ++p);
	if (s->since != NULL)
		addf(filters, cap, &flen, " AND i.updated_at >= ?%d", ++p);
	if (s->until != NULL)
		addf(filters, cap, &flen, " AND i.updated_at < ?%d", ++p);
	/* Without filters, the ranking reads the full-text index alone. */
	snprintf(from, sizeof from, filtered ? WB_SQLITE_FTS " JOIN issues "
	    "AS i ON i.number = " WB_SQLITE_FTS ".rowid" : WB_SQLITE_FTS);

	if (s->query == NULL) {
		add(sql, cap, &len, s->count ? "SELECT count(*) FROM (SELECT "
		    "i.number FROM issues AS i WHERE 1" : "SELECT i.number, "
		    "i.title, i.state, i.updated_at, NULL FROM issues AS i "
		    "WHERE 1");
		add(sql, cap, &len, filters);
		add(sql, cap, &len, " ORDER BY i.updated_at DESC, i.number DESC "
		    "LIMIT ?2");
		if (s->count)
			add(sql, cap, &len, ")");
		return prepare(db, sql, s, code, why, whylen);
	}
	if (s->count) {
		/* Counting ranks nothing. */
		addf(sql, cap, &len, "SELECT count(*) FROM (SELECT "
		    WB_SQLITE_FTS ".rowid FROM %s WHERE " WB_SQLITE_FTS
		    " MATCH ?1", from);
		add(sql, cap, &len, filters);
		add(sql, cap, &len, " LIMIT ?2)");
		return prepare(db, sql, s, code, why, whylen);
	}

	/*
	 * Every match ranked, in the full-text index's order (wb_rank():
	 * bm25, the sizes read in one pass), the best kept; then each
	 * one's row and snippet (the costly part: each tokenizes the
	 * issue's text again), matching the query once more for each. One
	 * read transaction: the same database throughout.
	 */
	if (wb_sqliterank_register(db, why, whylen) < 0) {
		*code = WB_EXIT_TEMP;
		return NULL;
	}
	if (wb_sqlite_exec(db, "BEGIN", "unable to search", why, whylen) < 0) {
		*code = WB_EXIT_TEMP;
		return NULL;
	}
	addf(sql, cap, &len, "SELECT " WB_SQLITE_FTS ".rowid, wb_rank("
	    WB_SQLITE_FTS ", " WB_SQLITE_RANK_WEIGHTS ") FROM %s WHERE "
	    WB_SQLITE_FTS " MATCH ?1", from);
	add(sql, cap, &len, filters);
	/*
	 * The window: with a limit, only the 'window' most recent matches
	 * (the highest numbers) are ranked, found in the full-text index's
	 * order at no cost for ranking.
	 */
	if (s->limit >= 0 && s->window > 0) {
		addf(sql, cap, &len, " AND " WB_SQLITE_FTS ".rowid >= coalesce(("
		    "SELECT " WB_SQLITE_FTS ".rowid FROM %s WHERE " WB_SQLITE_FTS
		    " MATCH ?1", from);
		add(sql, cap, &len, filters);
		addf(sql, cap, &len, " ORDER BY " WB_SQLITE_FTS ".rowid DESC "
		    "LIMIT 1 OFFSET %lld), 0)", s->window - 1);
	}
	if ((rank = prepare(db, sql, s, code, why, whylen)) == NULL)
		return NULL;
	if (rank_all(rank, s, code, why, whylen) < 0) {
		sqlite3_finalize(rank);
		return NULL;
	}
	sqlite3_finalize(rank);
	return prepare(db, "SELECT i.number, i.title, i.state, i.updated_at, "
	    "snippet(" WB_SQLITE_FTS ", -1, '\xc2\xab', '\xc2\xbb', "
	    "'\xe2\x80\xa6', 12) FROM " WB_SQLITE_FTS " CROSS JOIN issues AS i "
	    "ON i.number = " WB_SQLITE_FTS ".rowid WHERE " WB_SQLITE_FTS
	    " MATCH ?1 AND " WB_SQLITE_FTS ".rowid = ?2", s, code, why, whylen);
}

int
wb_sqlitesearch_step(sqlite3_stmt *st, struct wb_sqlitesearch *s, int *code,
    char *why, size_t whylen)
{
	int rc;

	if (!s->ranked) {
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			return 1;
		if (rc == SQLITE_DONE)
			return 0;
		return step_error(sqlite3_db_handle(st), rc, s, code, why,
		    whylen);
	}
	while (s->next < s->ntop) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 2, s->top[s->next++].number);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			return 1;
		if (rc != SQLITE_DONE)
			return step_error(sqlite3_db_handle(st), rc, s, code,
			    why, whylen);
	}
	return 0;
}

void
wb_sqlitesearch_free(struct wb_sqlitesearch *s)
{
	free(s->top);
	s->top = NULL;
}
