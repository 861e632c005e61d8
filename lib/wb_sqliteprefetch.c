/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the next issues' files read ahead (wb_sqliteprefetch.h). */
#include <openssl/sha.h>

#include "wb_err.h"
#include "wb_sqliteprefetch.h"

#define SLOT(p, k) (&(p)->slot[(k) % WB_SQLITEPREFETCH_SLOTS])

void
wb_sqliteprefetch_init_or_die(struct wb_sqliteprefetch *p, const char *data,
    const char *path)
{
	*p = (struct wb_sqliteprefetch){ .data = data };
	if (pthread_mutex_init(&p->lock, NULL) != 0 ||
	    pthread_cond_init(&p->change, NULL) != 0)
		wb_die(WB_EXIT_TEMP, "unable to set up the reading thread");
	/* Only a shortcut: without it, every issue is checked. */
	if (path != NULL && (sqlite3_open_v2(path, &p->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(p->db, "SELECT json, timeline_sha256 FROM "
	    "issues WHERE number = ?1", -1, SQLITE_PREPARE_PERSISTENT, &p->get,
	    NULL) != SQLITE_OK)) {
		sqlite3_close(p->db);
		p->db = NULL;
	}
	if (p->db != NULL)
		sqlite3_busy_timeout(p->db, 100);
}

/*
 * Whether the committed rows of issue n are those of the slot's files
 * (a failure of the lookup: no, and the files are checked).
 */
static int
stored(struct wb_sqliteprefetch *p, long n, struct wb_sqliteprefetch_slot *s)
{
	int same;

	if (p->db == NULL)
		return 0;
	sqlite3_bind_int64(p->get, 1, n);
	same = sqlite3_step(p->get) == SQLITE_ROW &&
	    wb_sqliterows_stored(p->get, &s->load, s->sha);
	sqlite3_reset(p->get);
	return same;
}

void
wb_sqliteprefetch_prepare(struct wb_sqliteprefetch_slot *s, const char *data,
    long number)
{
	char why[256];

	if (s->prepared)
		return;
	s->prepared = 1;
	s->checked = wb_esload_check(&s->load, data, number);
	/* Checked: this cannot fail. */
	if (s->checked > 0 && wb_sqliterows_read(&s->doc, &s->load, why,
	    sizeof why) < 0) {
		wb_warn("issue %ld: %s, skipped", number, why);
		s->checked = -1;
	}
}

static void *
run_or_die(void *arg)
{
	struct wb_sqliteprefetch *p = arg;

	for (size_t k = 0; k < p->n; k++) {
		struct wb_sqliteprefetch_slot *s = SLOT(p, k);

		pthread_mutex_lock(&p->lock);
		while (s->ready)
			pthread_cond_wait(&p->change, &p->lock);
		pthread_mutex_unlock(&p->lock);
		/* The slot is this thread's until it is marked ready. */
		s->got = wb_esload_read_or_die(&s->load, p->data,
		    p->numbers[k]);
		s->prepared = 0;
		if (s->got > 0) {
			SHA256((const unsigned char *)s->load.ttext.p,
			    s->load.ttext.len, s->sha);
			if (!stored(p, p->numbers[k], s))
				wb_sqliteprefetch_prepare(s, p->data,
				    p->numbers[k]);
		}
		pthread_mutex_lock(&p->lock);
		s->ready = 1;
		pthread_cond_broadcast(&p->change);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

void
wb_sqliteprefetch_begin_or_die(struct wb_sqliteprefetch *p, const long *numbers,
    size_t n)
{
	p->numbers = numbers;
	p->n = n;
	for (size_t i = 0; i < WB_SQLITEPREFETCH_SLOTS; i++)
		p->slot[i].ready = 0;
	if (pthread_create(&p->thread, NULL, run_or_die, p) != 0)
		wb_die(WB_EXIT_TEMP, "unable to start the reading thread");
	p->running = 1;
}

struct wb_sqliteprefetch_slot *
wb_sqliteprefetch_take(struct wb_sqliteprefetch *p, size_t k)
{
	struct wb_sqliteprefetch_slot *s = SLOT(p, k);

	pthread_mutex_lock(&p->lock);
	while (!s->ready)
		pthread_cond_wait(&p->change, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return s;
}

void
wb_sqliteprefetch_done(struct wb_sqliteprefetch *p, size_t k)
{
	pthread_mutex_lock(&p->lock);
	SLOT(p, k)->ready = 0;
	pthread_cond_broadcast(&p->change);
	pthread_mutex_unlock(&p->lock);
}

void
wb_sqliteprefetch_end(struct wb_sqliteprefetch *p)
{
	if (!p->running)
		return;
	pthread_join(p->thread, NULL);
	p->running = 0;
}

void
wb_sqliteprefetch_free(struct wb_sqliteprefetch *p)
{
	wb_sqliteprefetch_end(p);
	for (size_t i = 0; i < WB_SQLITEPREFETCH_SLOTS; i++) {
		wb_esload_free(&p->slot[i].load);
		wb_sqliterows_doc_free(&p->slot[i].doc);
	}
	sqlite3_finalize(p->get);
	sqlite3_close(p->db);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->change);
}
