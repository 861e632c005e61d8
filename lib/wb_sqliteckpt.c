/* wb — checkpoints in a thread of their own (wb_sqliteckpt.h). */
#include <stdio.h>

#include "wb_sqliteckpt.h"

static void *
run(void *arg)
{
	struct wb_sqliteckpt *k = arg;

	pthread_mutex_lock(&k->lock);
	for (;;) {
		while (!k->due && !k->stop)
			pthread_cond_wait(&k->wake, &k->lock);
		if (k->stop)
			break;
		k->due = 0;
		pthread_mutex_unlock(&k->lock);
		/* A failure (the file busy, I/O) is left for the next one. */
		sqlite3_wal_checkpoint_v2(k->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
		pthread_mutex_lock(&k->lock);
		k->done++;
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

int
wb_sqliteckpt_start(struct wb_sqliteckpt *k, sqlite3 *writer,
    const char *path, char *why, size_t whylen)
{
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
	sqlite3_wal_autocheckpoint(writer, 0);
	return 0;
}

void
wb_sqliteckpt_kick(struct wb_sqliteckpt *k)
{
	if (!k->running)
		return;
	pthread_mutex_lock(&k->lock);
	k->due = 1;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->lock);
}

void
wb_sqliteckpt_stop(struct wb_sqliteckpt *k)
{
	if (!k->running)
		return;
	pthread_mutex_lock(&k->lock);
	k->stop = 1;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->lock);
	pthread_join(k->thread, NULL);
	pthread_mutex_destroy(&k->lock);
	pthread_cond_destroy(&k->wake);
	sqlite3_close(k->db);
	k->running = 0;
}
