/* wb — the search query over the SQLite database (wb_sqlitesearch.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wb_err.h"
#include "wb_sqlite.h"
#include "wb_sqlitesearch.h"

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

sqlite3_stmt *
wb_sqlitesearch_prepare(sqlite3 *db, const struct wb_sqlitesearch *s,
    int *code, char *why, size_t whylen)
{
	size_t cap = 2048 + s->nlabels * 160, len = 0, flen = 0;
	char sql[cap], filters[cap], from[160];
	int p = 2, filtered = s->state != NULL || s->nlabels > 0 ||
	    s->since != NULL || s->until != NULL;
	sqlite3_stmt *st;

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

	/*
	 * Rank the matches, keep the best, and only then make their
	 * snippets (the costly part: each tokenizes the text again),
	 * matching the query once more for each row kept.
	 */
	if (s->count)
		add(sql, cap, &len, "SELECT count(*) FROM (");
	else if (s->query != NULL)
		add(sql, cap, &len, "SELECT i.number, i.title, i.state, "
		    "i.updated_at, snippet(" WB_SQLITE_FTS ", -1, '\xc2\xab', "
		    "'\xc2\xbb', '\xe2\x80\xa6', 12) FROM (");
	if (s->query != NULL) {
		addf(sql, cap, &len, "SELECT " WB_SQLITE_FTS ".rowid AS n, "
		    WB_SQLITE_FTS ".rank AS r FROM %s WHERE " WB_SQLITE_FTS
		    " MATCH ?1", from);
		add(sql, cap, &len, filters);
	} else {
		add(sql, cap, &len, "SELECT i.number, i.title, i.state, "
		    "i.updated_at, NULL FROM issues AS i WHERE 1");
		add(sql, cap, &len, filters);
	}
	/*
	 * The window: with a limit, only the 'window' most recent matches
	 * (the highest numbers) are ranked, found in the full-text index's
	 * order at no cost for ranking; bm25 then reads each one's sizes
	 * and positions, which for a word in every issue is most of the time.
	 */
	if (s->query != NULL && !s->count && s->limit >= 0 && s->window > 0) {
		addf(sql, cap, &len, " AND " WB_SQLITE_FTS ".rowid >= coalesce(("
		    "SELECT " WB_SQLITE_FTS ".rowid FROM %s WHERE " WB_SQLITE_FTS
		    " MATCH ?1", from);
		add(sql, cap, &len, filters);
		addf(sql, cap, &len, " ORDER BY " WB_SQLITE_FTS ".rowid DESC "
		    "LIMIT 1 OFFSET %lld), 0)", s->window - 1);
	}
	if (s->query != NULL)
		add(sql, cap, &len, " ORDER BY r, n");
	else
		add(sql, cap, &len, " ORDER BY i.updated_at DESC, i.number DESC");
	add(sql, cap, &len, " LIMIT ?2");
	if (s->count)
		add(sql, cap, &len, ")");
	else if (s->query != NULL)
		add(sql, cap, &len, ") AS top CROSS JOIN " WB_SQLITE_FTS " ON "
		    WB_SQLITE_FTS ".rowid = top.n AND " WB_SQLITE_FTS " MATCH ?1 "
		    "JOIN issues AS i ON i.number = top.n ORDER BY top.r, top.n");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		*code = sqlite3_errcode(db) == SQLITE_ERROR ||
		    sqlite3_errcode(db) == SQLITE_CORRUPT ? WB_EXIT_USAGE :
		    WB_EXIT_TEMP;
		snprintf(why, whylen, "unable to search: %s%s",
		    sqlite3_errmsg(db), *code == WB_EXIT_USAGE ?
		    " (run wb-sqlite --rebuild)" : "");
		return NULL;
	}
	p = 2;
	if (s->query != NULL)
		sqlite3_bind_text(st, 1, s->query, -1, SQLITE_STATIC);
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

int
wb_sqlitesearch_step(sqlite3_stmt *st, const struct wb_sqlitesearch *s,
    int *code, char *why, size_t whylen)
{
	sqlite3 *db = sqlite3_db_handle(st);
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_ERROR && s->query != NULL) {
		*code = WB_EXIT_USAGE;
		snprintf(why, whylen, "malformed query: %s", sqlite3_errmsg(db));
	} else {
		*code = rc == SQLITE_CORRUPT ? WB_EXIT_USAGE : WB_EXIT_TEMP;
		snprintf(why, whylen, "unable to search: %s", sqlite3_errmsg(db));
	}
	return -1;
}
