/* SPDX-License-Identifier: MPL-2.0 */
/* wb — one issue's rows in the SQLite database (wb_sqliterows.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_jscan.h"
#include "wb_sqlite.h"
#include "wb_sqliterows.h"
#include "wb_xalloc.h"

/* What is read from issue.json, in this order. */
static const char *const issue_paths[] = { "title", "state", "created_at",
    "updated_at", "closed_at", "user.login", "milestone.title", "body" };
enum { I_TITLE, I_STATE, I_CREATED, I_UPDATED, I_CLOSED, I_AUTHOR,
    I_MILESTONE, I_BODY, I_N = WB_SQLITEROWS_ISSUE_VALUES };
static const char *const issue_more[] = { "labels",
    "__WEBCOMPAT_PRIVATE_ISSUE__" };
static const char *const event_paths[] = { "event", "created_at",
    "actor.login", "body" };
enum { E_EVENT, E_CREATED, E_ACTOR, E_BODY, E_N = WB_SQLITEROWS_EVENT_VALUES };
static const char *const fts_paths[] = { "title", "body" };
static const char *const name_path[] = { "name" };

#define FTS_COLS "rowid, title, body, comments"

int
wb_sqliterows_init(struct wb_sqliterows *w, sqlite3 *db, char *why,
    size_t whylen)
{
	static const struct {
		size_t off;
		const char *sql;
	} stmts[] = {
#define S(f, q) { offsetof(struct wb_sqliterows, f), q }
		S(get, "SELECT json, timeline_sha256 FROM issues "
		    "WHERE number = ?1"),
		S(get_comments, "SELECT json FROM timelines WHERE number = ?1 "
		    "AND event = 'commented' ORDER BY position"),
		S(put, "INSERT OR REPLACE INTO issues (number, json, title, "
		    "state, created_at, updated_at, closed_at, author, labels, "
		    "milestone, private, timeline_sha256) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
		S(del, "DELETE FROM issues WHERE number = ?1"),
		S(del_events, "DELETE FROM timelines WHERE number = ?1"),
		S(put_event, "INSERT INTO timelines (number, position, json, "
		    "event, created_at, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
		S(del_labels, "DELETE FROM issue_labels WHERE number = ?1"),
		S(put_label, "INSERT OR IGNORE INTO issue_labels (name, number) "
		    "VALUES (?1, ?2)"),
		S(fts_put, "INSERT INTO " WB_SQLITE_FTS " (" FTS_COLS ") "
		    "VALUES (?1, ?2, ?3, ?4)"),
		S(fts_del, "INSERT INTO " WB_SQLITE_FTS " (" WB_SQLITE_FTS ", "
		    FTS_COLS ") VALUES ('delete', ?1, ?2, ?3, ?4)"),
#undef S
	};

	*w = (struct wb_sqliterows){ .db = db };
	for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
		sqlite3_stmt **st = (sqlite3_stmt **)((char *)w + stmts[i].off);

		if (sqlite3_prepare_v3(db, stmts[i].sql, -1,
		    SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
			wb_sqlite_fail(db, "unable to prepare a statement", why,
			    whylen);
			wb_sqliterows_free(w);
			return -1;
		}
	}
	if (wb_sqlitetokens_init(&w->tokens, db, why, whylen) < 0) {
		wb_sqliterows_free(w);
		return -1;
	}
	return 0;
}

/* Run the bound statement 'st' to its end and reset it. */
static int
step(struct wb_sqliterows *w, sqlite3_stmt *st, long n, const char *what,
    char *why, size_t whylen)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		snprintf(why, whylen, "issue %ld: unable to %s: %s", n, what,
		    sqlite3_errmsg(w->db));
		return -1;
	}
	return 0;
}

static void
reserve(struct wb_es_buf *b, size_t more)
{
	b->p = wb_xgrow(b->p, b->len + more, &b->cap, 1);
}

/* Append the string value 'v' of 'text', unescaped, to 'b'. */
static void
append_string(struct wb_es_buf *b, const char *text,
    const struct wb_jscan_value *v)
{
	size_t n;

	reserve(b, v->len);
	wb_jscan_unescape(text + v->off, v->len, b->p + b->len, v->len, &n);
	b->len += n;
}

/*
 * Bind the string value 'v' of 'text' to parameter 'i' (NULL if it is
 * not a string): its bytes in place when it has no escape, else
 * unescaped into 'scratch' (which must live until the statement ran).
 */
static void
bind_string(sqlite3_stmt *st, int i, const char *text,
    const struct wb_jscan_value *v, struct wb_es_buf *scratch)
{
	if (v->kind != WB_JSCAN_STRING) {
		sqlite3_bind_null(st, i);
		return;
	}
	if (memchr(text + v->off, '\\', v->len) == NULL) {
		sqlite3_bind_text(st, i, text + v->off, (int)v->len, SQLITE_STATIC);
		return;
	}
	scratch->len = 0;
	append_string(scratch, text, v);
	sqlite3_bind_text(st, i, scratch->p, (int)scratch->len, SQLITE_TRANSIENT);
}

static void
bind_buf(sqlite3_stmt *st, int i, const struct wb_es_buf *b, int null)
{
	if (null)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, b->len ? b->p : "", (int)b->len,
		    SQLITE_STATIC);
}

/*
 * Add the body 'v' of a "commented" event of 'text' to the comments
 * being gathered (joined by newlines, as the view's group_concat does).
 */
static void
add_comment(struct wb_es_buf *comments, const char *text,
    const struct wb_jscan_value *v, int *ncomments)
{
	if (v->kind != WB_JSCAN_STRING)
		return;
	if ((*ncomments)++ > 0) {
		reserve(comments, 1);
		comments->p[comments->len++] = '\n';
	}
	append_string(comments, text, v);
}

/* Whether the string value 'v' of 'text' is, unescaped, "commented". */
static int
is_comment(struct wb_es_buf *field, const char *text,
    const struct wb_jscan_value *v)
{
	if (v->kind != WB_JSCAN_STRING)
		return 0;
	if (memchr(text + v->off, '\\', v->len) == NULL)
		return v->len == 9 && memcmp(text + v->off, "commented", 9) == 0;
	field->len = 0;
	append_string(field, text, v);
	return field->len == 9 && memcmp(field->p, "commented", 9) == 0;
}

/*
 * Feed the full-text index, with 'st' (fts_put or fts_del), the title
 * and body of the issue text 'itext' and the comments gathered in
 * 'comments' (ncomments of them); the issue's packed size follows.
 */
static int
fts(struct wb_sqliterows *w, sqlite3_stmt *st, long n, const char *itext,
    const struct wb_jscan_value *title, const struct wb_jscan_value *body,
    const struct wb_es_buf *comments, int ncomments, char *why,
    size_t whylen)
{
	w->title.len = w->body.len = 0;
	if (title->kind == WB_JSCAN_STRING)
		append_string(&w->title, itext, title);
	if (body->kind == WB_JSCAN_STRING)
		append_string(&w->body, itext, body);
	sqlite3_bind_int64(st, 1, n);
	bind_buf(st, 2, &w->title, title->kind != WB_JSCAN_STRING);
	bind_buf(st, 3, &w->body, body->kind != WB_JSCAN_STRING);
	bind_buf(st, 4, comments, ncomments == 0);
	if (step(w, st, n, "update the full-text index", why, whylen) < 0)
		return -1;
	return st == w->fts_put ? wb_sqlitetokens_added(&w->tokens, n, why,
	    whylen) : wb_sqlitetokens_removed(&w->tokens, n, why, whylen);
}

/*
 * Take the stored issue's words out of the full-text index: read again,
 * the same way, from the stored text 'old' and the stored events.
 */
static int
fts_remove(struct wb_sqliterows *w, long n, const char *old, size_t oldlen,
    char *why, size_t whylen)
{
	struct wb_jscan_value v[2], b;
	char e[128];
	int ncomments = 0, rc;

	if (wb_jscan_paths(old, oldlen, fts_paths, 2, v, e, sizeof e) < 0) {
		snprintf(why, whylen, "issue %ld: the stored issue is not JSON "
		    "(%s): run wb-sqlite --rebuild", n, e);
		return -1;
	}
	w->comments.len = 0;
	sqlite3_bind_int64(w->get_comments, 1, n);
	while ((rc = sqlite3_step(w->get_comments)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(w->get_comments, 0);
		size_t len = (size_t)sqlite3_column_bytes(w->get_comments, 0);

		if (t != NULL && wb_jscan_paths(t, len, &fts_paths[1], 1, &b, e,
		    sizeof e) == 0)
			add_comment(&w->comments, t, &b, &ncomments);
	}
	sqlite3_reset(w->get_comments);
	if (rc != SQLITE_DONE) {
		snprintf(why, whylen, "issue %ld: unable to read its events: %s",
		    n, sqlite3_errmsg(w->db));
		return -1;
	}
	return fts(w, w->fts_del, n, old, &v[0], &v[1], &w->comments, ncomments,
	    why, whylen);
}

/*
 * Look issue 'n' up: 1 when it is stored (then its json and
 * timeline_sha256 are columns 0 and 1 of w->get, until it is reset), 0
 * when not, -1 on error.
 */
static int
lookup(struct wb_sqliterows *w, long n, char *why, size_t whylen)
{
	int rc;

	sqlite3_bind_int64(w->get, 1, n);
	if ((rc = sqlite3_step(w->get)) == SQLITE_ROW)
		return 1;
	sqlite3_reset(w->get);
	if (rc == SQLITE_DONE)
		return 0;
	snprintf(why, whylen, "issue %ld: unable to read it: %s", n,
	    sqlite3_errmsg(w->db));
	return -1;
}

/* Remove the stored issue's words (it was looked up), then its rows. */
static int
clear(struct wb_sqliterows *w, long n, int stored, char *why, size_t whylen)
{
	int rc = 0;

	if (stored) {
		rc = fts_remove(w, n, (const char *)sqlite3_column_text(w->get, 0),
		    (size_t)sqlite3_column_bytes(w->get, 0), why, whylen);
		sqlite3_reset(w->get);
		if (rc < 0)
			return -1;
	}
	sqlite3_bind_int64(w->del_events, 1, n);
	sqlite3_bind_int64(w->del_labels, 1, n);
	if (step(w, w->del_events, n, "remove its events", why, whylen) < 0 ||
	    step(w, w->del_labels, n, "remove its labels", why, whylen) < 0)
		return -1;
	return 0;
}

/*
 * The "labels" value 'v' of 'text': the JSON array of their names into
 * w->labels (raw JSON strings, as they are written), their spans in
 * w->lspans. Returns 1 when it is an array of objects, else 0.
 */
static int
labels(struct wb_sqliterows *w, const char *text,
    const struct wb_jscan_value *v)
{
	struct wb_jscan_value name;
	char e[128];
	int first = 1;

	w->labels.len = 0;
	if (v->kind != WB_JSCAN_OTHER || text[v->off] != '[' ||
	    wb_jscan_array(text + v->off, v->len, &w->lspans, e, sizeof e) < 0)
		return 0;
	reserve(&w->labels, 2);
	w->labels.p[w->labels.len++] = '[';
	for (size_t i = 0; i < w->lspans.n; i++) {
		const char *s = text + v->off + w->lspans.v[i].off;

		if (wb_jscan_paths(s, w->lspans.v[i].len, name_path, 1, &name, e,
		    sizeof e) < 0 || name.kind != WB_JSCAN_STRING)
			continue;
		reserve(&w->labels, name.len + 3);
		if (!first)
			w->labels.p[w->labels.len++] = ',';
		first = 0;
		w->labels.p[w->labels.len++] = '"';
		memcpy(w->labels.p + w->labels.len, s + name.off, name.len);
		w->labels.len += name.len;
		w->labels.p[w->labels.len++] = '"';
	}
	w->labels.p[w->labels.len++] = ']';
	return 1;
}

/* Insert the label rows of the labels found by labels(). */
static int
put_labels(struct wb_sqliterows *w, long n, const char *text,
    const struct wb_jscan_value *v, char *why, size_t whylen)
{
	struct wb_jscan_value name;
	char e[128];

	for (size_t i = 0; i < w->lspans.n; i++) {
		const char *s = text + v->off + w->lspans.v[i].off;

		if (wb_jscan_paths(s, w->lspans.v[i].len, name_path, 1, &name, e,
		    sizeof e) < 0 || name.kind != WB_JSCAN_STRING)
			continue;
		bind_string(w->put_label, 1, s, &name, &w->field);
		sqlite3_bind_int64(w->put_label, 2, n);
		if (step(w, w->put_label, n, "store its labels", why, whylen) < 0)
			return -1;
	}
	return 0;
}

/* Insert the event rows, their values read into 'd'. */
static int
put_events(struct wb_sqliterows *w, long n, const struct wb_esload *ld,
    const struct wb_sqliterows_doc *d, char *why, size_t whylen)
{
	for (size_t i = 0; i < ld->spans.n; i++) {
		const char *t = ld->ttext.p + ld->spans.v[i].off;
		const struct wb_jscan_value *v = d->event + i * E_N;

		sqlite3_bind_int64(w->put_event, 1, n);
		sqlite3_bind_int64(w->put_event, 2, (sqlite3_int64)i);
		sqlite3_bind_text(w->put_event, 3, t, (int)ld->spans.v[i].len,
		    SQLITE_STATIC);
		bind_string(w->put_event, 4, t, &v[E_EVENT], &w->title);
		bind_string(w->put_event, 5, t, &v[E_CREATED], &w->body);
		bind_string(w->put_event, 6, t, &v[E_ACTOR], &w->labels);
		if (step(w, w->put_event, n, "store its events", why, whylen) < 0)
			return -1;
	}
	return 0;
}

int
wb_sqliterows_read(struct wb_sqliterows_doc *d, const struct wb_esload *ld,
    char *why, size_t whylen)
{
	const char *it = ld->itext.p;

	if (wb_jscan_paths(it, ld->itext.len, issue_paths, I_N, d->issue, why,
	    whylen) < 0 || wb_jscan_paths(it, ld->itext.len, issue_more, 2,
	    d->more, why, whylen) < 0)
		return -1;
	if (ld->spans.n > (d->cap / E_N)) {
		size_t cap = ld->spans.n * E_N * 2;

		d->event = wb_xrealloc(d->event, cap * sizeof *d->event);
		d->cap = cap;
	}
	d->comments.len = 0;
	d->ncomments = 0;
	for (size_t i = 0; i < ld->spans.n; i++) {
		const char *t = ld->ttext.p + ld->spans.v[i].off;
		struct wb_jscan_value *v = d->event + i * E_N;

		if (wb_jscan_paths(t, ld->spans.v[i].len, event_paths, E_N, v,
		    why, whylen) < 0)
			return -1;
		if (is_comment(&d->field, t, &v[E_EVENT]))
			add_comment(&d->comments, t, &v[E_BODY], &d->ncomments);
	}
	return 0;
}

void
wb_sqliterows_doc_free(struct wb_sqliterows_doc *d)
{
	free(d->event);
	wb_es_buf_free(&d->comments);
	wb_es_buf_free(&d->field);
	*d = (struct wb_sqliterows_doc){ 0 };
}

int
wb_sqliterows_stored(sqlite3_stmt *row, const struct wb_esload *ld,
    const unsigned char *sha)
{
	return (size_t)sqlite3_column_bytes(row, 0) == ld->itext.len &&
	    memcmp(sqlite3_column_blob(row, 0), ld->itext.p,
	    ld->itext.len) == 0 &&
	    sqlite3_column_bytes(row, 1) == 32 &&
	    memcmp(sqlite3_column_blob(row, 1), sha, 32) == 0;
}

int
wb_sqliterows_same(struct wb_sqliterows *w, long n, const struct wb_esload *ld,
    const unsigned char *sha, char *why, size_t whylen)
{
	int stored, same;

	memcpy(w->sha, sha, sizeof w->sha);
	if ((stored = lookup(w, n, why, whylen)) < 0)
		return -1;
	same = stored && wb_sqliterows_stored(w->get, ld, sha);
	sqlite3_reset(w->get);
	w->unchanged += same;
	return same;
}

int
wb_sqliterows_put(struct wb_sqliterows *w, long n, const struct wb_esload *ld,
    const struct wb_sqliterows_doc *d, char *why, size_t whylen)
{
	const struct wb_jscan_value *v = d->issue, *more = d->more;
	const char *it = ld->itext.p;
	sqlite3_stmt *put = w->put;
	int stored, has_labels;

	if ((stored = lookup(w, n, why, whylen)) < 0)
		return -1;
	if (clear(w, n, stored, why, whylen) < 0)
		return -1;
	has_labels = labels(w, it, &more[0]);
	sqlite3_bind_int64(put, 1, n);
	sqlite3_bind_text(put, 2, it, (int)ld->itext.len, SQLITE_STATIC);
	bind_string(put, 3, it, &v[I_TITLE], &w->title);
	bind_string(put, 4, it, &v[I_STATE], &w->field);
	bind_string(put, 5, it, &v[I_CREATED], &w->field);
	bind_string(put, 6, it, &v[I_UPDATED], &w->field);
	bind_string(put, 7, it, &v[I_CLOSED], &w->field);
	bind_string(put, 8, it, &v[I_AUTHOR], &w->field);
	bind_buf(put, 9, &w->labels, !has_labels);
	bind_string(put, 10, it, &v[I_MILESTONE], &w->field);
	sqlite3_bind_int(put, 11, more[1].kind == WB_JSCAN_OTHER &&
	    more[1].len == 4 && memcmp(it + more[1].off, "true", 4) == 0);
	sqlite3_bind_blob(put, 12, w->sha, sizeof w->sha, SQLITE_STATIC);
	if (step(w, put, n, "store it", why, whylen) < 0 ||
	    (has_labels && put_labels(w, n, it, &more[0], why, whylen) < 0) ||
	    put_events(w, n, ld, d, why, whylen) < 0 ||
	    fts(w, w->fts_put, n, it, &v[I_TITLE], &v[I_BODY], &d->comments,
	    d->ncomments, why, whylen) < 0)
		return -1;
	w->written++;
	return 0;
}

int
wb_sqliterows_remove(struct wb_sqliterows *w, long n, char *why,
    size_t whylen)
{
	int stored;

	if ((stored = lookup(w, n, why, whylen)) < 0)
		return -1;
	if (!stored)
		return 0;
	if (clear(w, n, 1, why, whylen) < 0)
		return -1;
	sqlite3_bind_int64(w->del, 1, n);
	if (step(w, w->del, n, "remove it", why, whylen) < 0)
		return -1;
	w->removed++;
	return 0;
}

int
wb_sqliterows_flush(struct wb_sqliterows *w, char *why, size_t whylen)
{
	return wb_sqlitetokens_write(&w->tokens, why, whylen);
}

void
wb_sqliterows_free(struct wb_sqliterows *w)
{
	sqlite3_stmt *all[] = { w->get, w->get_comments, w->put, w->del,
	    w->del_events, w->put_event, w->del_labels, w->put_label,
	    w->fts_put, w->fts_del };

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sqlite3_finalize(all[i]);
	wb_es_buf_free(&w->title);
	wb_es_buf_free(&w->body);
	wb_es_buf_free(&w->comments);
	wb_es_buf_free(&w->labels);
	wb_es_buf_free(&w->field);
	wb_jscan_spans_free(&w->lspans);
	wb_sqlitetokens_free(&w->tokens);
	*w = (struct wb_sqliterows){ 0 };
}
