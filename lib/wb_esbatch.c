/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a batch of documents, and sending it to _bulk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_err.h"
#include "wb_esbatch.h"
#include "wb_xalloc.h"

static void wb_esbatch_refuse(struct wb_esissue *issues, size_t slot,
    long pos, const char *why);

int
wb_esbatch_add(struct wb_esbatch *bt, struct wb_esissue *issues, size_t slot,
    long pos, const char *text, const struct wb_jscan_span *span)
{
	struct wb_esdoc *d;
	size_t off = bt->body.len;
	char why[256];

	if (wb_es_put_doc(&bt->body, issues[slot].rec.number, pos, text, span,
	    why, sizeof why) < 0) {
		wb_esbatch_refuse(issues, slot, pos, why);
		return -1;
	}
	if (bt->ndocs == bt->capdocs) {
		size_t cap = bt->capdocs, cap2 = cap;

		bt->docs = wb_xgrow(bt->docs, bt->ndocs, &bt->capdocs,
		    sizeof *bt->docs);
		bt->items = wb_xgrow(bt->items, bt->ndocs, &cap,
		    sizeof *bt->items);
		bt->idx = wb_xgrow(bt->idx, bt->ndocs, &cap2, sizeof *bt->idx);
	}
	d = &bt->docs[bt->ndocs++];
	d->off = off;
	d->len = bt->body.len - off;
	d->slot = slot;
	d->pos = pos;
	issues[slot].unsent++;
	return 0;
}

/*
 * Say that the document of issues[slot] (pos -1) or of its event 'pos'
 * was refused for 'why', and mark its issue failed.
 */
static void
wb_esbatch_refuse(struct wb_esissue *issues, size_t slot, long pos,
    const char *why)
{
	char id[32];

	wb_es_doc_id(issues[slot].rec.number, pos, id);
	wb_warn("issue %ld: document %s refused: %s", issues[slot].rec.number,
	    id, why);
	issues[slot].failed = 1;
}

/* The documents idx[0..n) as one request body: in place when contiguous. */
static const char *
request_body(struct wb_esbatch *bt, const size_t *idx, size_t n, size_t *len)
{
	const struct wb_esdoc *first = &bt->docs[idx[0]];
	const struct wb_esdoc *last = &bt->docs[idx[n - 1]];

	if (idx[n - 1] - idx[0] == n - 1) {
		*len = last->off + last->len - first->off;
		return bt->body.p + first->off;
	}
	bt->scratch.len = 0;
	for (size_t i = 0; i < n; i++) {
		const struct wb_esdoc *d = &bt->docs[idx[i]];

		bt->scratch.p = wb_xgrow(bt->scratch.p, bt->scratch.len +
		    d->len, &bt->scratch.cap, 1);
		memcpy(bt->scratch.p + bt->scratch.len, bt->body.p + d->off,
		    d->len);
		bt->scratch.len += d->len;
	}
	*len = bt->scratch.len;
	return bt->scratch.p;
}

/*
 * The request of the documents idx[0..n) was refused whole with the
 * answer *r: one document alone is refused for its reason; of several,
 * each issue concerned is named, once.
 */
static void
refuse_all(struct wb_esbatch *bt, struct wb_esissue *issues, const size_t *idx,
    size_t n, const struct wb_http_response *r)
{
	char ex[512], why[600];

	if (r->status == 413)
		snprintf(ex, sizeof ex, "larger than the server's "
		    "http.max_content_length");
	else
		wb_es_error_text(r->body, r->len, ex, sizeof ex);
	snprintf(why, sizeof why, "HTTP %ld: %s", r->status, ex);
	if (n == 1) {
		wb_esbatch_refuse(issues, bt->docs[idx[0]].slot,
		    bt->docs[idx[0]].pos, why);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct wb_esissue *is = &issues[bt->docs[idx[i]].slot];

		if (!is->failed)
			wb_warn("issue %ld: bulk request refused: %s",
			    is->rec.number, why);
		is->failed = 1;
	}
}

/*
 * Send the documents idx[0..n) until each is in or refused for good:
 * items refused with 429 or 5xx go again after a pause; a request too
 * large for the server (413), or refused whole as malformed (400: the
 * fault of one document, which is thus isolated and named), is split in
 * two. So is a request of several documents that met a transport error:
 * a server refusing a body too large answers and closes without reading
 * it, and a client still sending often sees a reset instead of the 413.
 * Halving bounds this (a real outage costs one failed request per
 * halving). A request of one document that met a transport error goes
 * again with "Expect: 100-continue", so that the server can answer 413
 * before the body is sent; if it still fails, it is an outage.
 */
static void
send_docs_or_die(struct wb_esconn *es, struct wb_esbatch *bt,
    struct wb_esissue *issues, size_t *idx, size_t n)
{
	struct wb_http_response r;
	struct wb_es_item *items = bt->items;
	long wait = WB_ESCONN_BACKOFF_MIN_MS;
	char why[512];
	const char *body;
	size_t len, again;
	int got, expect = 0;

	while (n > 0) {
		body = request_body(bt, idx, n, &len);
		bt->requests++;
		got = wb_esconn_post_or_die(es, es->bulk_url, WB_ESCONN_BULK,
		    "application/x-ndjson", body, len, expect ?
		    WB_ESCONN_EXPECT : WB_ESCONN_TRANSPORT, &r);
		if (got < 0 && n == 1) {
			wb_http_response_free(&r);
			expect = 1;
			continue;
		}
		if (got < 0 || ((r.status == 413 || r.status == 400) && n > 1)) {
			wb_http_response_free(&r);
			send_docs_or_die(es, bt, issues, idx, n / 2);
			send_docs_or_die(es, bt, issues, idx + n / 2,
			    n - n / 2);
			return;
		}
		if (r.status != 200) {
			refuse_all(bt, issues, idx, n, &r);
			wb_http_response_free(&r);
			return;
		}
		for (size_t i = 0; i < n; i++) {
			items[i].number = issues[bt->docs[idx[i]].slot].rec.number;
			items[i].pos = bt->docs[idx[i]].pos;
		}
		if (wb_es_bulk_parse(r.body, r.len, items, n, why, sizeof why) < 0) {
			wb_http_response_free(&r);
			wb_esconn_outage(es, why);
			wait = wb_esconn_backoff_or_die(wait);
			continue;
		}
		wb_http_response_free(&r);
		wb_esconn_recovered(es);
		again = 0;
		for (size_t i = 0; i < n; i++) {
			const struct wb_esdoc *d = &bt->docs[idx[i]];

			if (items[i].outcome == WB_ES_OK)
				bt->sent++;
			else if (items[i].outcome == WB_ES_FAILED)
				wb_esbatch_refuse(issues, d->slot, d->pos,
				    items[i].reason);
			else {
				if (again == 0)
					wb_debug("document refused for now (%ld): "
					    "%s", items[i].status, items[i].reason);
				idx[again++] = idx[i];
			}
		}
		wb_es_items_clear(items, n);
		n = again;
		if (n > 0)
			wait = wb_esconn_backoff_or_die(wait);
	}
}

void
wb_esbatch_send_or_die(struct wb_esconn *es, struct wb_esbatch *bt,
    struct wb_esissue *issues)
{
	for (size_t i = 0; i < bt->ndocs; i++)
		bt->idx[i] = i;
	send_docs_or_die(es, bt, issues, bt->idx, bt->ndocs);
}

void
wb_esbatch_done(struct wb_esbatch *bt, struct wb_esissue *issues)
{
	for (size_t i = 0; i < bt->ndocs; i++)
		issues[bt->docs[i].slot].unsent--;
	bt->ndocs = 0;
	bt->body.len = 0;
}

void
wb_esbatch_free(struct wb_esbatch *bt)
{
	wb_es_buf_free(&bt->body);
	wb_es_buf_free(&bt->scratch);
	free(bt->docs);
	free(bt->items);
	free(bt->idx);
	memset(bt, 0, sizeof *bt);
}
