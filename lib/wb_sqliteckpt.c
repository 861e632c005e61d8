/* SPDX-License-Identifier: MPL-2.0 */
/* wb — checkpoints in a thread of their own (wb_sqliteckpt.h). */
#include <stdio.h>

#include "wb_sqliteckpt.h"

static void *
run(void *arg)
{
	struct wb_sqliteckpt *k = arg;
	unsigned long long target;

	pthread_mutex_lock(&k->lock);
	for (;;) {
		while (k->asked == k->served && !k->stop)
			pthread_cond_wait(&k->wake, &k->lock);
		if (k->stop)
			break;
		target = k->asked;
		pthread_mutex_unlock(&k->lock);
		/* A failure (the file busy, I/O) is left for the next one. */
		sqlite3_wal_checkpoint_v2(k->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
		pthread_mutex_lock(&k->lock);
		k->served = target;
		k->done++;
		pthread_cond_broadcast(&k->wake);
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

/* The writer's WAL hook: how many frames the -wal file holds now. */
static int
frames(void *arg, sqlite3 *db, const char *name, int n)
{
	(void)db;
	(void)name;
	((struct wb_sqliteckpt *)arg)->frames = n;
	return SQLITE_OK;
}

int
wb_sqliteckpt_start(struct wb_sqliteckpt *k, sqlite3 *writer,
    const char *path, long long restart_bytes, char *why, size_t whylen)
{
	sqlite3_stmt *st;

	*k = (struct wb_sqliteckpt){ 0 };
	if (sqlite3_open_v2(path, &k->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(why, whylen, "unable to open %s for checkpoints: %s",
		    path, k->db != NULL ? sqlite3_errmsg(k->db) : "out of memory");
		sqlite3_close(k->db);
		k->db = NULL;
		return -1;
	}
	sqlite3_exec(k->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	k->page_size = 4096;
	if (sqlite3_prepare_v2(writer, "PRAGMA page_size", -1, &st,
	    NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		k->page_size = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	k->restart_bytes = restart_bytes;
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->wake, NULL);
	if (pthread_create(&k->thread, NULL, run, k) != 0) {
		snprintf(why, whylen, "unable to start the checkpoint thread");
		pthread_mutex_destroy(&k->lock);
		pthread_cond_destroy(&k->wake);
		sqlite3_close(k->db);
		k->db = NULL;
		return -1;
	}
	k->running = 1;
	sqlite3_wal_hook(writer, frames, k);
	return 0;
}

void
wb_sqliteckpt_kick(struct wb_sqliteckpt *k)
{
	unsigned long long mine;

	if (!k->running)
		return;
	pthread_mutex_lock(&k->lock);
	mine = ++k->asked;
	pthread_cond_signal(&k->wake);
	/*
	 * A -wal file grown past restart_bytes: wait for this checkpoint,
	 * which copies every frame back, so that the next transaction
	 * writes the file again from its start.
	 */
	if (k->restart_bytes > 0 &&
	    (long long)k->frames * k->page_size >= k->restart_bytes) {
		k->waits++;
		while (k->served < mine && !k->stop)
			pthread_cond_wait(&k->wake, &k->lock);
	}
	pthread_mutex_unlock(&k->lock);
}

void
wb_sqliteckpt_stop(struct wb_sqliteckpt *k)
{
	if (!k->running)
		return;
	pthread_mutex_lock(&k->lock);
	k->stop = 1;
	pthread_cond_broadcast(&k->wake);
	pthread_mutex_unlock(&k->lock);
	pthread_join(k->thread, NULL);
	pthread_mutex_destroy(&k->lock);
	pthread_cond_destroy(&k->wake);
	sqlite3_close(k->db);
	k->running = 0;
}
