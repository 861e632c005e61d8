/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the HTTP side of wb-hook: one libmicrohttpd daemon driven by its
 * owner's event loop.
 *
 * It answers POST /github/receive, GET/HEAD /healthz and GET/HEAD
 * /metrics (what a request means is decided in wb_webhook.c), buffers
 * bodies within the process's body budget (wb_hook_budget.c), hands each
 * request that needs Redis to a batcher (wb_hook_batcher.c) suspended, and
 * resumes it with the answer once settled. Deliveries are counted by
 * event and status in counters that every daemon of the process shares,
 * for /metrics. It keeps every connection in a list so that a client too slow
 * to send its headers (header_ms) or its body (6 times that) is cut off,
 * which libmicrohttpd's own timeout does not do for a client that sends
 * a byte now and then. Connections are limited to 512 in all and 128 per
 * address, shared out between the 'loops' daemons of a process; past
 * three quarters of that, each new connection closes the oldest one
 * that sends no request, and those idle for a second are closed. One
 * daemon per thread; nothing here is shared between threads but the
 * budget and the counters.
 */
#ifndef WB_HOOK_HTTP_H
#define WB_HOOK_HTTP_H

#include <microhttpd.h>

#include "wb_hook_batcher.h"
#include "wb_webhook.h"

/* Read by every daemon, set before they start. */
struct wb_hook_http_config {
	struct wb_hook_config hook;	/* what a delivery must be */
	long long header_ms;		/* time to send the headers */
	unsigned loops;			/* daemons sharing the limits */
};

struct wb_hook_conn;

struct wb_hook_http {
	const struct wb_hook_http_config *cfg;
	struct wb_hook_batcher *batcher;
	struct MHD_Daemon *daemon;
	struct MHD_Response *accepted;	/* the answer to nearly every request */
	int inflight;		/* requests begun, not completed */
	int stopping;		/* set by the owner: 1 finishing (answers close
				   their connection), 2 out of time */
	int resumed_some;	/* requests were resumed: run again at once */
	struct wb_hook_conn *conns;	/* every open connection, newest
					   first */
	struct wb_hook_conn *conns_tail;	/* the oldest */
	int nconns, limit;	/* open connections, and how many allowed */
	long long next_sweep;
};

/*
 * Start a daemon on the listening socket 'fd' (its own from then on),
 * with 'cfg' (borrowed, kept) and handing requests that need Redis to
 * 'batcher' (borrowed, kept; its items must be settled through
 * wb_hook_http_settled with 'h' as argument). Failure exits 111.
 */
void wb_hook_http_start_or_die(struct wb_hook_http *h,
    const struct wb_hook_http_config *cfg, int fd,
    struct wb_hook_batcher *batcher);

/* The batcher's 'settled' callback: resume the request with its answer. */
void wb_hook_http_settled(struct wb_hook_batch_item *item, void *h);

/* The daemon's epoll set, to watch for reading in the owner's. */
int wb_hook_http_fd(const struct wb_hook_http *h);

/* 'ms' or less: how long the owner may sleep before wb_hook_http_run(). */
long long wb_hook_http_wait_ms(const struct wb_hook_http *h, long long ms);

/* Every 250 ms at most: cut off the connections out of time. */
void wb_hook_http_sweep(struct wb_hook_http *h);

/* Serve what is ready: accept, read, answer. */
void wb_hook_http_run(struct wb_hook_http *h);

/*
 * Stop accepting (the listening socket is closed) and set stopping to 1;
 * requests in flight go on.
 */
void wb_hook_http_quiesce(struct wb_hook_http *h);

/* Stop the daemon, closing every connection; none may be suspended. */
void wb_hook_http_stop(struct wb_hook_http *h);

#endif
