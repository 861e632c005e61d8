/* wb — the next issues' files read ahead, in a thread, while SQLite
 * writes the current one.
 *
 * For a list of issue numbers, a second thread reads each issue's files
 * (wb_esload_read), hashes timeline.json (SHA-256) and checks both
 * (wb_esload_check), reads the values the rows take from them
 * (wb_sqliterows_read), up to WB_SQLITEPREFETCH_SLOTS issues ahead of the
 * writer, which takes them in the list's order. What the reading says
 * (an unreadable or malformed file) is said by that thread, in the
 * list's order.
 */
#ifndef WB_SQLITEPREFETCH_H
#define WB_SQLITEPREFETCH_H

#include <pthread.h>
#include <stddef.h>

#include "wb_esload.h"
#include "wb_sqliterows.h"

#define WB_SQLITEPREFETCH_SLOTS 4

/* One issue read ahead. */
struct wb_sqliteprefetch_slot {
	struct wb_esload load;	/* its files, kept from issue to issue */
	int got;		/* wb_esload_read's answer */
	int checked;		/* when got is 1: wb_esload_check's, and
				   wb_sqliterows_read's */
	struct wb_sqliterows_doc doc;	/* when checked is 1: the values */
	unsigned char sha[32];	/* when got is 1: of timeline.json */
	int ready;		/* read, not taken back yet */
};

struct wb_sqliteprefetch {
	const char *data;	/* the archive root */
	const long *numbers;	/* the list being read, borrowed */
	size_t n;		/* its length */
	struct wb_sqliteprefetch_slot slot[WB_SQLITEPREFETCH_SLOTS];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t change;
	int running;
};

/* Set up 'p' for the archive at 'data' (borrowed). Dies 111 on failure. */
void wb_sqliteprefetch_init(struct wb_sqliteprefetch *p, const char *data);

/*
 * Start reading the issues numbers[0..n) (borrowed until
 * wb_sqliteprefetch_end). Dies 111 when the thread cannot start.
 */
void wb_sqliteprefetch_begin(struct wb_sqliteprefetch *p,
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
