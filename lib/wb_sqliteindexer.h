/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the SQLite indexer: records in, their issues' rows committed, the
 * records out.
 *
 * Records wait in a batch, bounded in issues and by an idle time; then,
 * in one write transaction, each issue's archived files are read (by a
 * second thread, a few issues ahead: lib/wb_sqliteprefetch.c) and its
 * rows made equal to them
 * (lib/wb_sqliterows.c), a transaction being cut short once it holds
 * 'max_bytes' of JSON. Issues are written in the order of their numbers,
 * whatever the input's: rows then land next to each other, and FTS5,
 * which starts a new segment whenever a rowid is not above the last one,
 * makes one segment per transaction instead of hundreds. Once a
 * transaction has committed, the records whose issues are all committed
 * are written to stdout, in input order, so that what follows
 * acknowledges only what is durable. An issue whose directory is absent is removed; one whose
 * files cannot be read, or are not JSON of the right shape, gets a
 * warning on stderr and is skipped: not written out, its rows as they
 * were.
 */
#ifndef WB_SQLITEINDEXER_H
#define WB_SQLITEINDEXER_H

#include <stddef.h>

#include <sqlite3.h>

#include "wb_esload.h"
#include "wb_record.h"
#include "wb_sqliteckpt.h"
#include "wb_sqliteprefetch.h"
#include "wb_sqliterows.h"

struct wb_sqliteindexer {
	const char *data;		/* the archive root */
	sqlite3 *db;
	size_t max_issues, max_bytes;	/* of a batch, of a transaction */
	struct wb_record *recs;		/* the batch, in input order */
	int *ok;			/* recs[i] is to be written out */
	int *done;			/* recs[i]'s issue is committed */
	size_t *order;			/* recs by number: the writing order */
	long *numbers;			/* their numbers, in that order */
	size_t nrecs, cap;
	long long first_ms;		/* when recs[0] came */
	struct wb_sqliteprefetch ahead;	/* the files, read in a thread */
	struct wb_sqliterows rows;
	struct wb_sqliteckpt ckpt;	/* checkpoints after commits */
	int emit;			/* write records out (not --rebuild) */
	unsigned long long emitted, skipped, commits;
};

/*
 * Set up 'ix' to index the archive at 'data' into 'db' (both borrowed;
 * the schema ready), in batches of at most 'max_issues' issues and
 * transactions of about 'max_bytes' of JSON; 'emit': write the records
 * out once committed. 'path' (borrowed) is where 'db' is, for a thread
 * that checkpoints it (lib/wb_sqliteckpt.c); NULL: none (no WAL). Dies
 * 111 when the statements cannot be prepared.
 */
void wb_sqliteindexer_open_or_die(struct wb_sqliteindexer *ix, const char *data,
    sqlite3 *db, const char *path, size_t max_issues, size_t max_bytes,
    int emit);

/*
 * The functions below that take 'arg' take the indexer: they are those
 * of a struct wb_indexloop (lib/wb_indexloop.h).
 *
 * Take the record 'rec' (owned from then on) into the batch; index the
 * batch when it is full, or when its first record has waited 'idle_ms'.
 */
void wb_sqliteindexer_add_or_die(void *arg, struct wb_record *rec, int idle_ms);

/*
 * Index the batch: its transactions committed, its records written out
 * and flushed. A SQLite failure (the transaction rolled back, nothing of
 * it written out) dies 111; standard output's reader gone while the
 * database was busy dies 111 too, writing nothing.
 */
void wb_sqliteindexer_flush_or_die(void *arg);

/* wb_sqliteindexer_flush_or_die when the batch holds anything; 'arg' is 'ix'. */
void wb_sqliteindexer_idle_or_die(void *arg);

/*
 * After the last flush: say how many issues were not indexed (and, with
 * WB_DEBUG, what was done); returns how many.
 */
unsigned long long wb_sqliteindexer_report(void *arg);

/* Free what 'ix' holds, records of the batch included; not 'db'. */
void wb_sqliteindexer_free(struct wb_sqliteindexer *ix);

#endif
