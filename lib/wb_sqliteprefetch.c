/* wb — the next issues' files read ahead (wb_sqliteprefetch.h). */
#include <openssl/sha.h>

#include "wb_err.h"
#include "wb_sqliteprefetch.h"

#define SLOT(p, k) (&(p)->slot[(k) % WB_SQLITEPREFETCH_SLOTS])

void
wb_sqliteprefetch_init(struct wb_sqliteprefetch *p, const char *data)
{
	*p = (struct wb_sqliteprefetch){ .data = data };
	if (pthread_mutex_init(&p->lock, NULL) != 0 ||
	    pthread_cond_init(&p->change, NULL) != 0)
		wb_die(WB_EXIT_TEMP, "unable to set up the reading thread");
}

static void *
run(void *arg)
{
	struct wb_sqliteprefetch *p = arg;
	char why[256];

	for (size_t k = 0; k < p->n; k++) {
		struct wb_sqliteprefetch_slot *s = SLOT(p, k);

		pthread_mutex_lock(&p->lock);
		while (s->ready)
			pthread_cond_wait(&p->change, &p->lock);
		pthread_mutex_unlock(&p->lock);
		/* The slot is this thread's until it is marked ready. */
		s->got = wb_esload_read(&s->load, p->data, p->numbers[k]);
		if (s->got > 0) {
			SHA256((const unsigned char *)s->load.ttext.p,
			    s->load.ttext.len, s->sha);
			s->checked = wb_esload_check(&s->load, p->data,
			    p->numbers[k]);
			/* Checked: this cannot fail. */
			if (s->checked > 0 && wb_sqliterows_read(&s->doc,
			    &s->load, why, sizeof why) < 0) {
				wb_warn("issue %ld: %s, skipped", p->numbers[k],
				    why);
				s->checked = -1;
			}
		}
		pthread_mutex_lock(&p->lock);
		s->ready = 1;
		pthread_cond_broadcast(&p->change);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

void
wb_sqliteprefetch_begin(struct wb_sqliteprefetch *p, const long *numbers,
    size_t n)
{
	p->numbers = numbers;
	p->n = n;
	for (size_t i = 0; i < WB_SQLITEPREFETCH_SLOTS; i++)
		p->slot[i].ready = 0;
	if (pthread_create(&p->thread, NULL, run, p) != 0)
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
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->change);
}
