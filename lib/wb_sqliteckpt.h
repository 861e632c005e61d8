/* SPDX-License-Identifier: MPL-2.0 */
/* wb — checkpoints of the SQLite database in a thread of their own.
 *
 * In WAL mode a commit appends pages to the -wal file; a checkpoint later
 * copies them into the database file and syncs it. SQLite does that in
 * the committing thread, right after the commit, which then waits for
 * the copy and its fsync before it can index anything more. Here the
 * writer's automatic checkpoints are turned off and a second connection,
 * in a second thread, checkpoints after each commit (PASSIVE: it never
 * waits for readers nor blocks the writer), while the writer goes on.
 *
 * A writer that goes on at once keeps the -wal file from ever being
 * copied back whole, and SQLite starts writing it again from its start
 * only then: during a long indexing it would grow to the size of all
 * that was written (1.6 GB for 1.2 GB of JSON), every page a new one
 * for the kernel to allocate. So once it holds a given size
 * (wb-sqlite: two transactions' worth), the writer waits for the
 * checkpoint after its commit, and its next transaction overwrites the
 * file from its start, pages the kernel has cached (BENCHMARKS.md).
 */
#ifndef WB_SQLITECKPT_H
#define WB_SQLITECKPT_H

#include <pthread.h>
#include <stddef.h>

#include <sqlite3.h>

struct wb_sqliteckpt {
	sqlite3 *db;		/* the checkpointer's own connection */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop, running;
	unsigned long long asked, served;	/* checkpoints asked for, the
						   last one made */
	unsigned long long done, waits;	/* checkpoints made, waited for */
	int frames;			/* in the -wal file after the last
					   commit (the writer's WAL hook) */
	int page_size;
	long long restart_bytes;	/* of -wal file: wait for the checkpoint */
};

/*
 * Turn off the automatic checkpoints of the writer 'writer' and start a
 * thread checkpointing the database at 'path' when kicked, waited for
 * once the -wal file holds 'restart_bytes' (0: never). Returns 0, or
 * -1 with why[whylen] set (then the writer's automatic checkpoints stay
 * on and nothing else is needed).
 */
int wb_sqliteckpt_start(struct wb_sqliteckpt *k, sqlite3 *writer,
    const char *path, long long restart_bytes, char *why, size_t whylen);

/*
 * A commit happened: checkpoint soon; wait for it when the -wal file
 * holds restart_bytes or more (see above).
 */
void wb_sqliteckpt_kick(struct wb_sqliteckpt *k);

/*
 * Stop the thread (after the checkpoint under way, if any) and close its
 * connection. Nothing when it was not started.
 */
void wb_sqliteckpt_stop(struct wb_sqliteckpt *k);

#endif
