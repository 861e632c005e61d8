/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the search query over the SQLite database: full text (FTS5 query
 * syntax, best matches first by bm25), filters on the columns.
 *
 * One statement made from the filters, every value a bound parameter:
 * nothing typed by a user is ever part of the SQL text. A query FTS5
 * cannot read (a syntax error, a column that does not exist) is told
 * apart from a failure of the database, so that the tool can say which.
 */
#ifndef WB_SQLITESEARCH_H
#define WB_SQLITESEARCH_H

#include <stddef.h>

#include <sqlite3.h>

#define WB_SQLITESEARCH_MAX_QUERY 65536	/* bytes of a query */
#define WB_SQLITESEARCH_WINDOW 0	/* the default window: every match */

struct wb_sqlitesearch {
	const char *query;		/* FTS5 query; NULL: filters alone */
	const char *state;		/* "open", "closed"; NULL: any */
	const char *const *labels;	/* every one of these labels */
	size_t nlabels;
	const char *since, *until;	/* updated_at >= since, < until; NULL */
	long long limit;		/* at most that many; -1: all */
	long long window;		/* with a limit, rank only this many of
					   the most recent matches; 0: all */
	int count;			/* one row: the number of matches */
	/* Set by wb_sqlitesearch_prepare, for _step (free: _free): */
	int ranked;			/* a query's matches, ranked here */
	struct wb_sqlitesearch_hit {
		long long number;
		double rank;		/* bm25: lower is better */
	} *top;				/* the best, best first */
	size_t ntop, next;
};

/*
 * Whether s[0..len) is valid UTF-8 (no overlong form, no surrogate,
 * nothing above U+10FFFF): 1 or 0.
 */
int wb_sqlitesearch_utf8(const char *s, size_t len);

/*
 * The statement of the search 's' on 'db' (a wb database opened with
 * wb_sqlite_open). Its rows: number, title, state, updated_at, snippet
 * (NULL without a query, the matched words between « and »); with
 * 'count', one row holding the number of matches. Issues with a query
 * come best match first, the others most recently updated first. With
 * a query, a limit and a window, the best are chosen among the 'window'
 * matches of the highest numbers (the most recent issues) that pass the
 * filters. With a query (and not 'count'), every match is ranked here,
 * by bm25 (lib/wb_sqliterank.c), in one read transaction, and the rows
 * are then read one by one by _step: a malformed query is said here.
 * Returns it, or NULL with why[whylen] set and *code 100 (the database
 * does not have wb's schema, the query is malformed) or 111.
 */
sqlite3_stmt *wb_sqlitesearch_prepare(sqlite3 *db, struct wb_sqlitesearch *s,
    int *code, char *why, size_t whylen);

/*
 * Step the search statement 'st': 1 for a row, 0 at the end, -1 with
 * why[whylen] set and *code 100 when the query is malformed ("malformed
 * query: ..."; only with a query), else 111 (or 100 for a corrupt
 * database).
 */
int wb_sqlitesearch_step(sqlite3_stmt *st, struct wb_sqlitesearch *s,
    int *code, char *why, size_t whylen);

/* Free what _prepare kept in 's'. */
void wb_sqlitesearch_free(struct wb_sqlitesearch *s);

#endif
