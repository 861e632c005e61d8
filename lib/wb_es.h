/* SPDX-License-Identifier: MPL-2.0 */
/* wb — Elasticsearch documents and answers, apart from any I/O.
 *
 * What wb-bulk sends (bulk bodies, the delete-by-query that removes stale
 * events) and how it reads the answers (item by item), as functions of
 * their inputs so that they are tested directly. Index "issues" holds one
 * document per issue, _id "N"; index "timelines" one per event, _id "N-i"
 * for the i-th event (from 0) of the issue's timeline. Every document is
 * the object as archived plus "bug_number": N.
 */
#ifndef WB_ES_H
#define WB_ES_H

#include <stddef.h>

#include "wb_jscan.h"

#define WB_ES_ISSUES "issues"
#define WB_ES_TIMELINES "timelines"

/*
 * Query string of every _bulk request: the answer then carries only what
 * is checked, which makes it several times shorter to receive and parse
 * (not _index: with an alias it names the concrete index anyway).
 */
#define WB_ES_BULK_PARAMS \
	"filter_path=errors,items.*._id,items.*.status,items.*.error"
/* Query string of the delete-by-query (see wb_es_dbq_body). */
#define WB_ES_DBQ_PARAMS "conflicts=proceed&ignore_unavailable=true"

/* A growable byte buffer; zero-initialise it. */
struct wb_es_buf {
	char *p;
	size_t len, cap;
};

/* Make room for 'more' bytes after len (and a NUL). Returns 0, or -1. */
int wb_es_buf_reserve(struct wb_es_buf *b, size_t more);
void wb_es_buf_free(struct wb_es_buf *b);

/* The _id of the issue (pos -1) or of its event 'pos' into buf[32]. */
void wb_es_doc_id(long number, long pos, char *buf);

/*
 * Append to 'b' the bulk "index" action of the issue 'number' (pos -1) or
 * of its event 'pos', and its source line: the object text[span] with
 * "bug_number": N added as its last member, on one line. The text must
 * have been validated by wb_jscan (the span says how to copy it; an
 * object with a key "bug_number" of its own takes the slow path, through
 * libjq, and then holds N). Returns 0, or -1 with why[whylen] set and 'b'
 * unchanged.
 */
int wb_es_put_doc(struct wb_es_buf *b, long number, long pos,
    const char *text, const struct wb_jscan_span *span, char *why,
    size_t whylen);

enum { WB_ES_OK, WB_ES_RETRY, WB_ES_FAILED };

/* One document of a bulk request and, after wb_es_bulk_parse, its fate. */
struct wb_es_item {
	long number, pos;	/* in: which document (pos -1: the issue) */
	int outcome;		/* out: WB_ES_OK, WB_ES_RETRY (429, 5xx), WB_ES_FAILED */
	long status;		/* out: the item's HTTP status */
	char *reason;		/* out: for RETRY and FAILED, a new string; else NULL */
};

/*
 * Read the answer to a _bulk request of the n documents items[0..n) (sent
 * with WB_ES_BULK_PARAMS): each item must be an "index" result with the
 * document's _id, in the same order, and a status. Sets each item's outcome and returns 0;
 * or returns -1 with why[whylen] set when the answer is not what the API
 * documents (then no outcome is meaningful). Free the reasons with
 * wb_es_items_clear.
 */
int wb_es_bulk_parse(const char *body, size_t len, struct wb_es_item *items,
    size_t n, char *why, size_t whylen);
void wb_es_items_clear(struct wb_es_item *items, size_t n);

/* An issue re-indexed with 'nevents' events, whose other documents go. */
struct wb_es_keep {
	long number;
	long nevents;
};

/*
 * Set 'b' to the body of one _delete_by_query over both indices that
 * removes every document of the issues keep[0..nkeep) except "N" and
 * "N-0".."N-(nevents-1)", and every document of the issues
 * gone[0..ngone). Only bool, terms and ids queries are used. Returns 0,
 * or -1 (out of memory) with 'b' emptied.
 */
int wb_es_dbq_body(struct wb_es_buf *b, const struct wb_es_keep *keep,
    size_t nkeep, const long *gone, size_t ngone);

/*
 * Read the answer to a _delete_by_query (whatever its HTTP status): returns
 * 0 and sets *deleted when it completed without failures; 1 with why[whylen]
 * set when it is an answer of the API that reports failures or a timeout
 * (some documents may have been deleted); -1 with why[whylen] set when it
 * is not such an answer at all.
 */
int wb_es_dbq_parse(const char *body, size_t len, long *deleted, char *why,
    size_t whylen);

/*
 * Check the index template text[0..len) (an object with an
 * "index_patterns" array and a "template" object) and the template name
 * (1..64 of a-z 0-9 _ -). Returns 0, or -1 with why[whylen] set.
 */
int wb_es_template_check(const char *name, const char *text, size_t len,
    char *why, size_t whylen);

/*
 * Whether the answer body[0..len) to a request that acknowledges (such as
 * PUT _index_template) is {"acknowledged":true}: 1 if so, else 0 (the
 * reason is then wb_es_error_text's).
 */
int wb_es_acknowledged(const char *body, size_t len);

/*
 * The reason an error answer body[0..len) gives, as "type: reason" (with
 * the cause when there is one), into why[whylen]; an excerpt of the body
 * (wb_es_excerpt) when it holds no "error", "no reason given" when it is
 * empty.
 */
void wb_es_error_text(const char *body, size_t len, char *why, size_t whylen);

/*
 * An excerpt of the answer body[0..len) (NULL: empty) for a message into
 * dst[dstlen]: its first 200 bytes at most, control bytes as spaces.
 */
void wb_es_excerpt(const char *body, size_t len, char *dst, size_t dstlen);

#endif
