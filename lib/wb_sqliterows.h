/* SPDX-License-Identifier: MPL-2.0 */
/* wb — one issue's rows in the SQLite database: written from its archived
 * files, or removed.
 *
 * The row of "issues" holds the text of issue.json as read, each row of
 * "timelines" the text of one event as it lies in timeline.json; the
 * derived columns and the full-text values are read from that text with
 * lib/wb_jscan.c, not parsed into values, nor by SQLite's JSON functions.
 * An issue whose issue.json is the stored text and whose timeline.json
 * has the stored SHA-256 is left as it is: re-indexing an unchanged
 * archive only reads it. The full-text index keeps no text: its entries
 * are removed with the values read again from the stored text, the same
 * way, so that exactly what was added is taken away.
 */
#ifndef WB_SQLITEROWS_H
#define WB_SQLITEROWS_H

#include <stddef.h>

#include <sqlite3.h>

#include "wb_es.h"
#include "wb_esload.h"
#include "wb_sqlitetokens.h"

#define WB_SQLITEROWS_ISSUE_VALUES 8	/* read from issue.json */
#define WB_SQLITEROWS_EVENT_VALUES 4	/* read from each event */

/*
 * What wb_sqliterows_put takes from an issue's checked files, besides
 * their text: the values of the derived columns and the comments for the
 * full-text index. Made by wb_sqliterows_read, which touches no
 * database, so that the reading thread makes it
 * (lib/wb_sqliteprefetch.c) while the writer writes. Zero-initialise it;
 * reuse it from issue to issue.
 */
struct wb_sqliterows_doc {
	struct wb_jscan_value issue[WB_SQLITEROWS_ISSUE_VALUES];
	struct wb_jscan_value more[2];	/* labels, the private flag */
	struct wb_jscan_value *event;	/* WB_SQLITEROWS_EVENT_VALUES each */
	size_t cap;			/* of event, in values */
	struct wb_es_buf comments;	/* bodies of "commented" events, */
	int ncomments;			/* joined by newlines; how many */
	struct wb_es_buf field;		/* scratch */
};

/*
 * Read into 'd' the values of the files in 'ld' (checked by
 * wb_esload_check). Returns 0, or -1 with why[whylen] set (they were
 * not checked). Dies 111 out of memory.
 */
int wb_sqliterows_read(struct wb_sqliterows_doc *d, const struct wb_esload *ld,
    char *why, size_t whylen);

void wb_sqliterows_doc_free(struct wb_sqliterows_doc *d);

struct wb_sqliterows {
	sqlite3 *db;
	sqlite3_stmt *get, *get_comments, *put, *del, *del_events, *put_event,
	    *del_labels, *put_label, *fts_put, *fts_del;
	struct wb_es_buf title, body, comments, labels, field;	/* scratch */
	struct wb_jscan_spans lspans;
	struct wb_sqlitetokens tokens;	/* the sizes the index changes */
	unsigned char sha[32];		/* of the last timeline.json compared */
	unsigned long long written, unchanged, removed;	/* issues */
};

/*
 * Prepare the statements on 'db' (borrowed, whose schema is ready).
 * Returns 0, or -1 with why[whylen] set.
 */
int wb_sqliterows_init(struct wb_sqliterows *w, sqlite3 *db, char *why,
    size_t whylen);

/*
 * Whether 'row', a row of (issues.json, issues.timeline_sha256), is that
 * of the files in 'ld', 'sha' the SHA-256 (32 bytes) of its
 * timeline.json: 1 or 0.
 */
int wb_sqliterows_stored(sqlite3_stmt *row, const struct wb_esload *ld,
    const unsigned char *sha);

/*
 * Whether the rows of issue 'number' are already those of its files in
 * 'ld' (read by wb_esload_read_or_die, not necessarily checked: what was
 * stored was), 'sha' the SHA-256 of its timeline.json: 1 if so (counted
 * as unchanged), 0 if not, -1 with why[whylen] set when SQLite failed.
 * Call it before wb_sqliterows_put.
 */
int wb_sqliterows_same(struct wb_sqliterows *w, long number,
    const struct wb_esload *ld, const unsigned char *sha, char *why,
    size_t whylen);

/*
 * Make the rows of issue 'number' those of its files in 'ld' (checked by
 * wb_esload_check), whose values wb_sqliterows_read put in 'd', after
 * wb_sqliterows_same found that they differ. Returns
 * 0, or -1 with why[whylen] set when SQLite failed (the transaction must
 * then be rolled back). Dies 111 out of memory.
 */
int wb_sqliterows_put(struct wb_sqliterows *w, long number,
    const struct wb_esload *ld, const struct wb_sqliterows_doc *d, char *why,
    size_t whylen);

/* Remove every row of issue 'number'. Returns 0, or -1 as above. */
int wb_sqliterows_remove(struct wb_sqliterows *w, long number, char *why,
    size_t whylen);

/*
 * Write what the transaction's changes keep in memory until its end
 * (each issue's size in the index, packed: lib/wb_sqlitetokens.h); call
 * it just before COMMIT. Returns 0, or -1 as above.
 */
int wb_sqliterows_flush(struct wb_sqliterows *w, char *why, size_t whylen);

void wb_sqliterows_free(struct wb_sqliterows *w);

#endif
