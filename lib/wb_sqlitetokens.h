/* SPDX-License-Identifier: MPL-2.0 */
/* wb — each issue's size in the full-text index, packed: the tables
 * issue_tokens and issue_tokens_total.
 *
 * FTS5 keeps each row's size (its tokens, a varint per column) in
 * %_docsize, one B-tree row per issue, which bm25 reads for every match:
 * for a word in nearly every issue, most of a search's time.
 * issue_tokens holds the same sizes packed: its row 'chunk' is 1024
 * little-endian 32-bit integers, the total tokens (all columns) of issues
 * chunk * 1024 to chunk * 1024 + 1023, 0 where there is no issue; a
 * search reads a few dozen rows instead of thousands. issue_tokens_total
 * holds, in its one row, what they add up to: the rows of the index and
 * their tokens, which FTS5 reports itself (xRowCount, xColumnTotalSize).
 *
 * wb-sqlite keeps both equal to %_docsize in the transactions that change
 * the index (wb_sqlitetokens_added, _removed, _write), and checks them
 * against it whenever it opens the database (wb_sqlitetokens_check:
 * after an upgrade, they are filled there). A reader uses them only when
 * the totals are FTS5's own (wb_sqlitetokens_reader_open), so that a
 * database whose index was changed by anything else is read as FTS5
 * reads it.
 */
#ifndef WB_SQLITETOKENS_H
#define WB_SQLITETOKENS_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define WB_SQLITETOKENS_SHIFT 10	/* an issue's chunk: number >> 10 */
#define WB_SQLITETOKENS_CHUNK (1 << WB_SQLITETOKENS_SHIFT)	/* issues */
#define WB_SQLITETOKENS_BYTES (4 * WB_SQLITETOKENS_CHUNK)	/* a chunk's */

/*
 * The total of the first 'ncol' varints of a %_docsize blob 'p' of 'len'
 * bytes: the row's tokens, as FTS5's xColumnSize(-1) counts them.
 */
int wb_sqlitetokens_sum(const unsigned char *p, int len, int ncol);

/*
 * Make issue_tokens and issue_tokens_total equal to %_docsize, in the
 * write transaction the caller holds on 'db': one pass over %_docsize,
 * each chunk that differs written, each chunk of no issue removed, the
 * totals set. Returns 0, or -1 with why[whylen] set.
 */
int wb_sqlitetokens_check(sqlite3 *db, char *why, size_t whylen);

struct wb_sqlitetokens_chunk;

/* What a transaction changed, kept in memory until it is written. */
struct wb_sqlitetokens {
	sqlite3 *db;
	sqlite3_stmt *size, *get, *put, *get_total, *put_total;
	struct wb_sqlitetokens_chunk **chunk;	/* touched, by number */
	size_t n, cap;
	sqlite3_int64 issues, tokens;	/* the totals, as changed */
	int total;	/* -1: not read yet; 0: none (left alone); 1: read;
			 * 2: no longer known (removed at the write) */
};

/*
 * Prepare the statements on 'db' (borrowed, whose schema is ready).
 * Returns 0, or -1 with why[whylen] set.
 */
int wb_sqlitetokens_init(struct wb_sqlitetokens *t, sqlite3 *db, char *why,
    size_t whylen);

/*
 * Issue 'id' (>= 0) was just added to the full-text index: its size is
 * read from %_docsize and kept. Returns 0, or -1 with why[whylen] set.
 * Dies 111 out of memory.
 */
int wb_sqlitetokens_added(struct wb_sqlitetokens *t, sqlite3_int64 id,
    char *why, size_t whylen);

/* Issue 'id' (>= 0) was just removed from the full-text index; as above. */
int wb_sqlitetokens_removed(struct wb_sqlitetokens *t, sqlite3_int64 id,
    char *why, size_t whylen);

/*
 * Write what the transaction changed (each touched chunk once, and the
 * totals), before it commits. Returns 0, or -1 with why[whylen] set (the
 * transaction must then be rolled back). Either way nothing is kept.
 */
int wb_sqlitetokens_write(struct wb_sqlitetokens *t, char *why, size_t whylen);

void wb_sqlitetokens_free(struct wb_sqlitetokens *t);

/* Reading the sizes, chunk by chunk, in a read transaction. */
struct wb_sqlitetokens_reader {
	sqlite3_stmt *get;		/* a chunk by its number */
	sqlite3_int64 chunk;		/* the one 'p' is; -1: none */
	const unsigned char *p;		/* its sizes (get's column); NULL */
};

/*
 * Whether the packed sizes of 'db' can be read in place of %_docsize:
 * 1 when issue_tokens_total holds 'issues' rows and 'tokens' tokens, the
 * totals FTS5 reports (then 'r' is ready); 0 when not, or they are
 * absent, or SQLite failed ('r' holds nothing).
 */
int wb_sqlitetokens_reader_open(struct wb_sqlitetokens_reader *r,
    sqlite3 *db, sqlite3_int64 issues, sqlite3_int64 tokens);

/*
 * The size of issue 'id' (tokens, all columns); 0 when the table does not
 * say (no chunk, a malformed one, no issue there): then ask FTS5. Reading
 * ids in ascending order reads each chunk once.
 */
uint32_t wb_sqlitetokens_reader_get(struct wb_sqlitetokens_reader *r,
    sqlite3_int64 id);

void wb_sqlitetokens_reader_close(struct wb_sqlitetokens_reader *r);

#endif
