/* wb — checkpoints of the SQLite database in a thread of their own.
 *
 * In WAL mode a commit appends pages to the -wal file; a checkpoint later
 * copies them into the database file and syncs it. SQLite does that in
 * the committing thread, right after the commit, which then waits for
 * the copy and its fsync before it can index anything more. Here the
 * writer's automatic checkpoints are turned off and a second connection,
 * in a second thread, checkpoints after each commit (PASSIVE: it never
 * waits for readers nor blocks the writer), while the writer goes on.
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
	int due, stop, running;
	unsigned long long done;	/* checkpoints made */
};

/*
 * Turn off the automatic checkpoints of the writer 'writer' and start a
 * thread checkpointing the database at 'path' when kicked. Returns 0, or
 * -1 with why[whylen] set (then the writer's automatic checkpoints stay
 * on and nothing else is needed).
 */
int wb_sqliteckpt_start(struct wb_sqliteckpt *k, sqlite3 *writer,
    const char *path, char *why, size_t whylen);

/* A commit happened: checkpoint soon (does not wait). */
void wb_sqliteckpt_kick(struct wb_sqliteckpt *k);

/*
 * Stop the thread (after the checkpoint under way, if any) and close its
 * connection. Nothing when it was not started.
 */
void wb_sqliteckpt_stop(struct wb_sqliteckpt *k);

#endif
