/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the serving threads of wb-hook.
 *
 * Each thread runs one epoll loop over its own HTTP daemon
 * (wb_hook_http.c) on its own listening socket (SO_REUSEPORT: the kernel
 * spreads the connections), its own Redis batcher (wb_hook_batcher.c) and the
 * stop event. A request that needs Redis is suspended, and the numbers of
 * all the requests suspended meanwhile go to Redis in one script call
 * while the loop goes on serving; its reply resumes them. No state is
 * shared between the loops but the configuration and the body budget.
 */
#ifndef WB_HOOK_LOOP_H
#define WB_HOOK_LOOP_H

#include <semaphore.h>
#include <sys/socket.h>

#include "wb_hook_http.h"

#define WB_HOOK_LOOPS_MAX 64
#define WB_HOOK_GRACE 10	/* seconds in-flight requests get to finish */

struct wb_hook_loop;

struct wb_hook_loops {
	/* Set by the caller, read by every loop. */
	struct wb_hook_http_config http;
	const char *redis_url;	/* WB_REDIS, borrowed */
	const char *queue;	/* where issue numbers go, borrowed */
	long long delay_ms;	/* WB_DELAY, for the metrics' ready items */
	unsigned n;		/* threads, 1..WB_HOOK_LOOPS_MAX */
	/* The rest is wb_hook_loops_start_or_die()'s. */
	int stop_fd;		/* eventfd: readable once stopping */
	sem_t started;
	struct wb_hook_loop *loop;
};

/*
 * Start l->n serving threads, each on a new listening socket on 'ss'
 * (see wb_listen_socket_or_die(); a port 0 becomes the one chosen), and
 * return once every one serves. 'spec' (borrowed) names the address in
 * messages. Signals meant for the caller must be blocked before: the
 * threads inherit the mask. Failure exits 111.
 */
void wb_hook_loops_start_or_die(struct wb_hook_loops *l,
    struct sockaddr_storage *ss, socklen_t len, const char *spec);

/*
 * Stop: every loop stops accepting, lets the requests in flight finish
 * for WB_HOOK_GRACE seconds, then answers 503 to those still waiting for
 * Redis and gives them one more second; returns once every thread ended.
 */
void wb_hook_loops_stop_or_die(struct wb_hook_loops *l);

#endif
