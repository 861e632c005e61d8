/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the next issues' files read ahead, in a thread, while SQLite
 * writes the current one.
 *
 * For a list of issue numbers, a second thread reads each issue's files
 * (wb_esload_read_or_die), hashes timeline.json (SHA-256) and checks both
 * (wb_esload_check), reads the values the rows take from them
 * (wb_sqliterows_read), up to WB_SQLITEPREFETCH_SLOTS issues ahead of the
 * writer, which takes them in the list's order. That thread writes the
 * warnings of the reading (an unreadable or malformed file), in the
 * list's order. With a database to look in (read only, on a connection
 * of its own), an issue whose files are what it stores as committed is
 * only read and hashed: re-indexing an unchanged archive then costs no
 * checking; the writer, which decides, checks such an issue itself if it
 * finds it changed after all (written again in its own transaction).
 */
#ifndef WB_SQLITEPREFETCH_H
#define WB_SQLITEPREFETCH_H

#include <pthread.h>
#include <stddef.h>

#include <sqlite3.h>

#include "wb_esload.h"
#include "wb_sqliterows.h"

#define WB_SQLITEPREFETCH_SLOTS 4

/* One issue read ahead. */
struct wb_sqliteprefetch_slot {
	struct wb_esload load;	/* its files, kept from issue to issue */
	int got;		/* wb_esload_read_or_die's answer */
	int prepared;		/* when got is 1: checked and doc read */
	int checked;		/* when prepared: wb_esload_check's, and
				   wb_sqliterows_read's */
	struct wb_sqliterows_doc doc;	/* when checked is 1: the values */
	unsigned char sha[32];	/* when got is 1: of timeline.json */
	int ready;		/* read, not taken back yet */
};

struct wb_sqliteprefetch {
	const char *data;	/* the archive root */
	sqlite3 *db;		/* read only, to look in; NULL: none */
	sqlite3_stmt *get;	/* an issue's json and timeline_sha256 */
	const long *numbers;	/* the list being read, borrowed */
	size_t n;		/* its length */
	struct wb_sqliteprefetch_slot slot[WB_SQLITEPREFETCH_SLOTS];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t change;
	int running;
};

/*
 * Set up 'p' for the archive at 'data' (borrowed), looking in the
 * database at 'path' (NULL: none; one that cannot be opened is not
 * looked in). Dies 111 on failure.
 */
void wb_sqliteprefetch_init_or_die(struct wb_sqliteprefetch *p, const char *data,
    const char *path);

/*
 * Check the files of the slot 's' of issue 'number' and read their
 * values, if the reading thread did not (s->prepared); warnings as
 * there.
 */
void wb_sqliteprefetch_prepare(struct wb_sqliteprefetch_slot *s,
    const char *data, long number);

/*
 * Start reading the issues numbers[0..n) (borrowed until
 * wb_sqliteprefetch_end). Dies 111 when the thread cannot start.
 */
void wb_sqliteprefetch_begin_or_die(struct wb_sqliteprefetch *p,
    const long *numbers, size_t n);

/*
 * The issue numbers[k], once read: take them in order, k from 0, and
 * give each back with wb_sqliteprefetch_done before taking the
 * WB_SQLITEPREFETCH_SLOTS-th after it.
 */
struct wb_sqliteprefetch_slot *wb_sqliteprefetch_take(
    struct wb_sqliteprefetch *p, size_t k);
void wb_sqliteprefetch_done(struct wb_sqliteprefetch *p, size_t k);

/* Wait for the thread to finish the list (every issue taken back). */
void wb_sqliteprefetch_end(struct wb_sqliteprefetch *p);

void wb_sqliteprefetch_free(struct wb_sqliteprefetch *p);

#endif
