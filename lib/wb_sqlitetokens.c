/* SPDX-License-Identifier: MPL-2.0 */
/* wb — each issue's size in the full-text index, packed
 * (wb_sqlitetokens.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_err.h"
#include "wb_sqlite.h"
#include "wb_sqlitetokens.h"
#include "wb_xalloc.h"

#define MASK (WB_SQLITETOKENS_CHUNK - 1)
_Static_assert(WB_SQLITETOKENS_SHIFT == 10, "the chunks' SQL below");
#define DOCSIZE WB_SQLITE_FTS "_docsize"

struct wb_sqlitetokens_chunk {
	sqlite3_int64 n;
	uint32_t v[WB_SQLITETOKENS_CHUNK];
};

int
wb_sqlitetokens_sum(const unsigned char *p, int len, int ncol)
{
	int total = 0;

	for (int i = 0; i < len && ncol-- > 0;) {
		unsigned v = 0;
		int k = 0;

		/* Sizes fit in 32 bits: at most 5 bytes of 7 bits. */
		while (i < len && k < 5) {
			unsigned char c = p[i++];

			k++;
			v = v << 7 | (c & 0x7f);
			if (!(c & 0x80))
				break;
		}
		total += (int)v;
	}
	return total;
}

/* The sizes 'v' as stored: little-endian, 4 bytes each. */
static void
pack(const uint32_t *v, unsigned char *p)
{
	for (int i = 0; i < WB_SQLITETOKENS_CHUNK; i++, p += 4) {
		p[0] = (unsigned char)v[i];
		p[1] = (unsigned char)(v[i] >> 8);
		p[2] = (unsigned char)(v[i] >> 16);
		p[3] = (unsigned char)(v[i] >> 24);
	}
}

static uint32_t
unpack1(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Prepare 'sql' into *st; -1 with why set. */
static int
prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *why,
    size_t whylen)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	    NULL) != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return wb_sqlite_fail(db, "unable to prepare a statement", why,
		    whylen);
	}
	return 0;
}

/* Run the bound statement 'st' to its end and reset it; -1 on error. */
static int
run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const char get_sql[] =
    "SELECT sizes FROM issue_tokens WHERE chunk = ?1";
static const char put_sql[] =
    "INSERT OR REPLACE INTO issue_tokens (chunk, sizes) VALUES (?1, ?2)";
static const char get_total_sql[] =
    "SELECT issues, tokens FROM issue_tokens_total WHERE id = 1";

/*
 * Store chunk 'c' holding 'v' unless it is stored so already, with 'get'
 * and 'put'; 'buf' is scratch. -1 on error.
 */
static int
store_if_changed(sqlite3_stmt *get, sqlite3_stmt *put, sqlite3_int64 c,
    const uint32_t *v, unsigned char *buf)
{
	const void *old;
	int rc, same;

	pack(v, buf);
	sqlite3_bind_int64(get, 1, c);
	rc = sqlite3_step(get);
	same = rc == SQLITE_ROW && (old = sqlite3_column_blob(get, 0)) != NULL &&
	    sqlite3_column_bytes(get, 0) == WB_SQLITETOKENS_BYTES &&
	    memcmp(old, buf, WB_SQLITETOKENS_BYTES) == 0;
	sqlite3_reset(get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (same)
		return 0;
	sqlite3_bind_int64(put, 1, c);
	sqlite3_bind_blob(put, 2, buf, WB_SQLITETOKENS_BYTES, SQLITE_STATIC);
	return run(put);
}

/*
 * Store each chunk that %_docsize makes and that differs from the one
 * stored; count its rows and their tokens. -1 on error.
 */
static int
check_chunks(sqlite3 *db, sqlite3_int64 *issues, sqlite3_int64 *tokens)
{
	sqlite3_stmt *scan = NULL, *get = NULL, *put = NULL;
	unsigned char buf[WB_SQLITETOKENS_BYTES];
	uint32_t v[WB_SQLITETOKENS_CHUNK];
	sqlite3_int64 c = -1;
	int rc = SQLITE_ERROR;

	if (sqlite3_prepare_v2(db, "SELECT id, sz FROM " DOCSIZE " ORDER BY "
	    "id", -1, &scan, NULL) != SQLITE_OK || sqlite3_prepare_v2(db,
	    get_sql, -1, &get, NULL) != SQLITE_OK || sqlite3_prepare_v2(db,
	    put_sql, -1, &put, NULL) != SQLITE_OK)
		goto done;
	while ((rc = sqlite3_step(scan)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(scan, 0);
		const unsigned char *sz = sqlite3_column_blob(scan, 1);
		int n = wb_sqlitetokens_sum(sz, sqlite3_column_bytes(scan, 1),
		    WB_SQLITE_FTS_COLUMNS);

		++*issues;
		*tokens += n;
		if (id < 0)
			continue;	/* no issue's; asked of FTS5 */
		if (id >> WB_SQLITETOKENS_SHIFT != c) {
			if (c >= 0 && store_if_changed(get, put, c, v, buf) < 0)
				break;
			memset(v, 0, sizeof v);
			c = id >> WB_SQLITETOKENS_SHIFT;
		}
		v[id & MASK] = (uint32_t)n;
	}
	if (rc == SQLITE_DONE && c >= 0 && store_if_changed(get, put, c, v,
	    buf) < 0)
		rc = SQLITE_ERROR;
done:
	sqlite3_finalize(scan);
	sqlite3_finalize(get);
	sqlite3_finalize(put);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Whether issue_tokens_total holds 'issues' and 'tokens': 1 or 0; -1 on
 * error.
 */
static int
totals_are(sqlite3 *db, sqlite3_int64 issues, sqlite3_int64 tokens)
{
	sqlite3_stmt *st;
	int rc, same;

	if (sqlite3_prepare_v2(db, get_total_sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return -1;
	}
	rc = sqlite3_step(st);
	same = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == issues &&
	    sqlite3_column_int64(st, 1) == tokens;
	sqlite3_finalize(st);
	return rc != SQLITE_ROW && rc != SQLITE_DONE ? -1 : same;
}

/* Make the totals 'issues' and 'tokens' unless they are. -1 on error. */
static int
check_totals(sqlite3 *db, sqlite3_int64 issues, sqlite3_int64 tokens)
{
	sqlite3_stmt *st;
	int rc, same;

	if ((same = totals_are(db, issues, tokens)) != 0)
		return same < 0 ? -1 : 0;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO issue_tokens_total "
	    "(id, issues, tokens) VALUES (1, ?1, ?2)", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, issues);
	sqlite3_bind_int64(st, 2, tokens);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
wb_sqlitetokens_check(sqlite3 *db, char *why, size_t whylen)
{
	sqlite3_int64 issues = 0, tokens = 0;

	/* The chunks of no issue (left by removals, or anything else) go. */
	if (check_chunks(db, &issues, &tokens) < 0 || sqlite3_exec(db,
	    "DELETE FROM issue_tokens WHERE chunk < 0 OR NOT EXISTS (SELECT 1 "
	    "FROM " DOCSIZE " WHERE id BETWEEN chunk << 10 AND "
	    "(chunk << 10) + 1023)", NULL, NULL, NULL) != SQLITE_OK ||
	    check_totals(db, issues, tokens) < 0)
		return wb_sqlite_fail(db, "unable to check the issues' sizes",
		    why, whylen);
	return 0;
}

int
wb_sqlitetokens_init(struct wb_sqlitetokens *t, sqlite3 *db, char *why,
    size_t whylen)
{
	*t = (struct wb_sqlitetokens){ .db = db, .total = -1 };
	if (prepare(db, "SELECT sz FROM " DOCSIZE " WHERE id = ?1", &t->size,
	    why, whylen) < 0 || prepare(db, get_sql, &t->get, why, whylen) < 0 ||
	    prepare(db, put_sql, &t->put, why, whylen) < 0 ||
	    prepare(db, get_total_sql, &t->get_total, why, whylen) < 0 ||
	    prepare(db, "UPDATE issue_tokens_total SET issues = ?1, tokens = ?2 "
	    "WHERE id = 1", &t->put_total, why, whylen) < 0) {
		wb_sqlitetokens_free(t);
		return -1;
	}
	return 0;
}

/* The totals, read at the transaction's first change; -1 on error. */
static int
totals(struct wb_sqlitetokens *t, char *why, size_t whylen)
{
	int rc;

	if (t->total != -1)
		return 0;
	if ((rc = sqlite3_step(t->get_total)) == SQLITE_ROW) {
		t->issues = sqlite3_column_int64(t->get_total, 0);
		t->tokens = sqlite3_column_int64(t->get_total, 1);
		t->total = 1;
	} else
		t->total = 0;
	sqlite3_reset(t->get_total);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return wb_sqlite_fail(t->db, "unable to read the issues' sizes",
		    why, whylen);
	return 0;
}

/* The chunk of issue 'id' in memory, read at its first change; NULL. */
static struct wb_sqlitetokens_chunk *
touch(struct wb_sqlitetokens *t, sqlite3_int64 id, char *why, size_t whylen)
{
	sqlite3_int64 c = id >> WB_SQLITETOKENS_SHIFT;
	struct wb_sqlitetokens_chunk *k;
	const unsigned char *p;
	size_t lo = 0, hi = t->n;
	int rc;

	/* Issues come in ascending order: the last one, or a new last. */
	if (t->n > 0 && t->chunk[t->n - 1]->n <= c)
		lo = t->chunk[t->n - 1]->n == c ? t->n - 1 : t->n;
	else
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (t->chunk[mid]->n < c)
				lo = mid + 1;
			else
				hi = mid;
		}
	if (lo < t->n && t->chunk[lo]->n == c)
		return t->chunk[lo];
	k = wb_xmalloc(sizeof *k);
	k->n = c;
	sqlite3_bind_int64(t->get, 1, c);
	rc = sqlite3_step(t->get);
	if (rc == SQLITE_ROW && (p = sqlite3_column_blob(t->get, 0)) != NULL &&
	    sqlite3_column_bytes(t->get, 0) == WB_SQLITETOKENS_BYTES)
		for (int i = 0; i < WB_SQLITETOKENS_CHUNK; i++)
			k->v[i] = unpack1(p + 4 * i);
	else
		memset(k->v, 0, sizeof k->v);
	sqlite3_reset(t->get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(k);
		wb_sqlite_fail(t->db, "unable to read the issues' sizes", why,
		    whylen);
		return NULL;
	}
	t->chunk = wb_xgrow(t->chunk, t->n, &t->cap, sizeof *t->chunk);
	memmove(t->chunk + lo + 1, t->chunk + lo, (t->n - lo) *
	    sizeof *t->chunk);
	t->chunk[lo] = k;
	t->n++;
	return k;
}

int
wb_sqlitetokens_added(struct wb_sqlitetokens *t, sqlite3_int64 id, char *why,
    size_t whylen)
{
	struct wb_sqlitetokens_chunk *k;
	int rc, n = 0;

	if (totals(t, why, whylen) < 0)
		return -1;
	sqlite3_bind_int64(t->size, 1, id);
	if ((rc = sqlite3_step(t->size)) == SQLITE_ROW)
		n = wb_sqlitetokens_sum(sqlite3_column_blob(t->size, 0),
		    sqlite3_column_bytes(t->size, 0), WB_SQLITE_FTS_COLUMNS);
	sqlite3_reset(t->size);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return wb_sqlite_fail(t->db, "unable to read an issue's size",
		    why, whylen);
	/*
	 * No size (an index without them): the totals are taken away, and
	 * readers ask FTS5 until the next check.
	 */
	if (rc != SQLITE_ROW) {
		t->total = 2;
		return 0;
	}
	t->issues++;
	t->tokens += n;
	if (id < 0)
		return 0;	/* no issue's; asked of FTS5 */
	if ((k = touch(t, id, why, whylen)) == NULL)
		return -1;
	k->v[id & MASK] = (uint32_t)n;
	return 0;
}

int
wb_sqlitetokens_removed(struct wb_sqlitetokens *t, sqlite3_int64 id,
    char *why, size_t whylen)
{
	struct wb_sqlitetokens_chunk *k;

	if (totals(t, why, whylen) < 0)
		return -1;
	if (id < 0) {
		t->total = 2;	/* its size is not known here */
		return 0;
	}
	if ((k = touch(t, id, why, whylen)) == NULL)
		return -1;
	t->issues--;
	t->tokens -= k->v[id & MASK];
	k->v[id & MASK] = 0;
	return 0;
}

/* Forget what the transaction changed. */
static void
wb_sqlitetokens_forget(struct wb_sqlitetokens *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->chunk[i]);
	t->n = 0;
	t->total = -1;
}

int
wb_sqlitetokens_write(struct wb_sqlitetokens *t, char *why, size_t whylen)
{
	unsigned char buf[WB_SQLITETOKENS_BYTES];
	int rc = 0;

	for (size_t i = 0; i < t->n && rc == 0; i++) {
		pack(t->chunk[i]->v, buf);
		sqlite3_bind_int64(t->put, 1, t->chunk[i]->n);
		sqlite3_bind_blob(t->put, 2, buf, sizeof buf, SQLITE_STATIC);
		rc = run(t->put);
	}
	if (rc == 0 && t->total == 1) {
		sqlite3_bind_int64(t->put_total, 1, t->issues);
		sqlite3_bind_int64(t->put_total, 2, t->tokens);
		rc = run(t->put_total);
	} else if (rc == 0 && t->total == 2)
		rc = sqlite3_exec(t->db, "DELETE FROM issue_tokens_total", NULL,
		    NULL, NULL) == SQLITE_OK ? 0 : -1;
	wb_sqlitetokens_forget(t);
	if (rc < 0)
		return wb_sqlite_fail(t->db, "unable to write the issues' sizes",
		    why, whylen);
	return 0;
}


void
wb_sqlitetokens_free(struct wb_sqlitetokens *t)
{
	wb_sqlitetokens_forget(t);
	free(t->chunk);
	sqlite3_finalize(t->size);
	sqlite3_finalize(t->get);
	sqlite3_finalize(t->put);
	sqlite3_finalize(t->get_total);
	sqlite3_finalize(t->put_total);
	*t = (struct wb_sqlitetokens){ .total = -1 };
}

int
wb_sqlitetokens_reader_open(struct wb_sqlitetokens_reader *r, sqlite3 *db,
    sqlite3_int64 issues, sqlite3_int64 tokens)
{
	*r = (struct wb_sqlitetokens_reader){ .chunk = -1 };
	if (totals_are(db, issues, tokens) != 1 || sqlite3_prepare_v2(db, get_sql, -1, &r->get, NULL) !=
	    SQLITE_OK) {
		wb_sqlitetokens_reader_close(r);
		return 0;
	}
	return 1;
}

uint32_t
wb_sqlitetokens_reader_get(struct wb_sqlitetokens_reader *r, sqlite3_int64 id)
{
	if (id < 0 || r->get == NULL)
		return 0;
	if (id >> WB_SQLITETOKENS_SHIFT != r->chunk) {
		r->chunk = id >> WB_SQLITETOKENS_SHIFT;
		r->p = NULL;
		sqlite3_reset(r->get);
		sqlite3_bind_int64(r->get, 1, r->chunk);
		if (sqlite3_step(r->get) == SQLITE_ROW &&
		    (r->p = sqlite3_column_blob(r->get, 0)) != NULL &&
		    sqlite3_column_bytes(r->get, 0) != WB_SQLITETOKENS_BYTES)
			r->p = NULL;
	}
	return r->p != NULL ? unpack1(r->p + 4 * (id & MASK)) : 0;
}

void
wb_sqlitetokens_reader_close(struct wb_sqlitetokens_reader *r)
{
	sqlite3_finalize(r->get);
	*r = (struct wb_sqlitetokens_reader){ .chunk = -1 };
}
