/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the serving threads of wb-hook. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "wb_clock.h"
#include "wb_err.h"
#include "wb_hook_loop.h"
#include "wb_listen.h"
#include "wb_xalloc.h"

struct wb_hook_loop {
	struct wb_hook_loops *all;
	pthread_t tid;
	int listen_fd;
	int ep;			/* the epoll set */
	struct wb_hook_http http;
	struct wb_hook_batcher batcher;
	long long stop_deadline;
};

static void
watch_or_die(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to watch file descriptor %d", fd);
}

/* How long the loop may sleep, in ms. */
static int
sleep_ms(const struct wb_hook_loop *l)
{
	long long now = wb_clock_ms();
	/* Without a timeout from MHD, wake each second all the same. */
	long long ms = wb_hook_http_wait_ms(&l->http, 1000);

	ms = wb_hook_batcher_wait_ms(&l->batcher, now, ms);
	if (l->http.stopping && l->stop_deadline - now < ms)
		ms = l->stop_deadline - now;
	return ms < 0 ? 0 : (int)ms;
}

/* The loop; returns once stopped and the requests in flight are done. */
static void
serve_or_die(struct wb_hook_loop *l)
{
	struct wb_hook_http *h = &l->http;
	struct wb_hook_batcher *b = &l->batcher;
	int stop_fd = l->all->stop_fd;
	struct epoll_event ev[16];
	int n;

	watch_or_die(l->ep, wb_hook_http_fd(h));
	watch_or_die(l->ep, stop_fd);
	for (;;) {
		n = epoll_wait(l->ep, ev, 16, sleep_ms(l));
		if (n < 0 && errno != EINTR)
			wb_diesys(WB_EXIT_TEMP, "unable to wait for events");
		h->resumed_some = 0;
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == wb_hook_batcher_fd(b))
				wb_hook_batcher_event(b);
			else if (ev[i].data.fd == stop_fd && !h->stopping) {
				/* Left readable for the other loops. */
				epoll_ctl(l->ep, EPOLL_CTL_DEL, stop_fd, NULL);
				wb_hook_http_quiesce(h);
				l->stop_deadline = wb_clock_ms() +
				    WB_HOOK_GRACE * 1000;
			}
		}
		wb_hook_batcher_expire(b, wb_clock_ms());
		wb_hook_http_sweep(h);
		wb_hook_http_run(h);
		wb_hook_batcher_send(b);
		if (h->stopping && h->inflight == 0 && wb_hook_batcher_idle(b))
			break;
		if (h->stopping && wb_clock_ms() >= l->stop_deadline) {
			/* Out of time: answer 503 to what still waits for
			 * Redis, and give that one more second. */
			wb_hook_batcher_fail(b, "shutting down");
			if (h->stopping == 2) {
				/* No connection may stay suspended when MHD
				 * stops: the ones just resumed get their 503. */
				wb_hook_http_run(h);
				break;
			}
			wb_warn("still %d requests in flight after %d s: "
			    "answering 503 to those waiting for Redis",
			    h->inflight, WB_HOOK_GRACE);
			h->stopping = 2;
			b->last_chance = 1;
			l->stop_deadline = wb_clock_ms() + 1000;
		}
	}
}

/* A serving thread: its daemon, its batcher, its loop. */
static void *
loop_main_or_die(void *arg)
{
	struct wb_hook_loop *l = arg;

	if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to set up the event loop");
	wb_hook_batcher_init(&l->batcher, l->all->redis_url, l->all->queue,
	    l->ep, wb_hook_http_settled, &l->http);
	l->batcher.delay_ms = l->all->delay_ms;
	wb_hook_http_start_or_die(&l->http, &l->all->http, l->listen_fd,
	    &l->batcher);
	sem_post(&l->all->started);
	serve_or_die(l);
	wb_hook_http_stop(&l->http);
	wb_hook_batcher_close(&l->batcher);
	close(l->ep);
	return NULL;
}

void
wb_hook_loops_start_or_die(struct wb_hook_loops *l,
    struct sockaddr_storage *ss, socklen_t len, const char *spec)
{
	l->http.loops = l->n;
	if ((l->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0 ||
	    sem_init(&l->started, 0, 0) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to set up the event loops");
	l->loop = wb_xcalloc(l->n, sizeof *l->loop);
	/* Also settles, before any thread starts, whether debug is on. */
	wb_debug("starting %u serving threads", l->n);
	for (unsigned i = 0; i < l->n; i++) {
		l->loop[i].all = l;
		l->loop[i].listen_fd = wb_listen_socket_or_die(ss, len, spec);
		if ((errno = pthread_create(&l->loop[i].tid, NULL,
		    loop_main_or_die, &l->loop[i])) != 0)
			wb_diesys(WB_EXIT_TEMP, "unable to start a thread");
	}
	for (unsigned i = 0; i < l->n; i++)
		while (sem_wait(&l->started) < 0)
			;
}

void
wb_hook_loops_stop_or_die(struct wb_hook_loops *l)
{
	if (eventfd_write(l->stop_fd, 1) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to stop the event loops");
	for (unsigned i = 0; i < l->n; i++)
		pthread_join(l->loop[i].tid, NULL);
	free(l->loop);
	l->loop = NULL;
}
