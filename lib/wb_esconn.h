/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a connection to Elasticsearch: the API's URLs, the credentials,
 * and POST requests retried through outages.
 *
 * One kept-alive HTTP client on WB_ES, with WB_ES_API_KEY sent as
 * "Authorization: ApiKey …" (or user:password@ in WB_ES). Messages name
 * the server without its password, and the API path, never the URL. An
 * outage (the server unreachable, or answering 429 or 5xx) gets one
 * warning when it starts and one line when it ends. Used by one thread
 * at a time.
 */
#ifndef WB_ESCONN_H
#define WB_ESCONN_H

#include <stddef.h>

#include "wb_es.h"
#include "wb_http.h"

/* The API paths, as messages name them. */
#define WB_ESCONN_BULK "/_bulk"
#define WB_ESCONN_DBQ "/" WB_ES_ISSUES "," WB_ES_TIMELINES "/_delete_by_query"
#define WB_ESCONN_REFRESH "/" WB_ES_ISSUES "," WB_ES_TIMELINES "/_refresh"

/* Pauses between tries, doubling from the first to the last. */
#define WB_ESCONN_BACKOFF_MIN_MS 50
#define WB_ESCONN_BACKOFF_MAX_MS 5000

struct wb_esconn {
	struct wb_http *http;
	const char *base;	/* WB_ES, borrowed; may hold a password */
	char *where;		/* WB_ES without its password */
	const char *auth;	/* the Authorization header, or NULL */
	char *bulk_url, *dbq_url, *refresh_url;
	int down;		/* an outage was reported, its end not yet */
	char authbuf[4200];
};

/*
 * Set up 'c' for the server at 'es' (kept, not copied) with the API key
 * 'api_key' (NULL: none). Dies 100 when the key holds a character that
 * is not base64's (it would break the header), 111 when the HTTP client
 * cannot start.
 */
void wb_esconn_open_or_die(struct wb_esconn *c, const char *es,
    const char *api_key);

/* Close the connection and free what 'c' holds. */
void wb_esconn_close(struct wb_esconn *c);

/* The URL of the API 'path' (may hold a query) on the server, a new string. */
char *wb_esconn_url(const struct wb_esconn *c, const char *path);

/* What wb_esconn_post_or_die hands back instead of retrying it. */
#define WB_ESCONN_TRANSPORT 1	/* a transport error: -1, no message */
#define WB_ESCONN_5XX 2		/* an answer 429 or 5xx: returns 0 */
#define WB_ESCONN_EXPECT 4	/* "Expect: 100-continue": the server may
				   answer (413) before the body is sent */

/*
 * POST body[0..len) of Content-Type 'type' to 'url' (the API 'path', for
 * messages) until an answer that is not a temporary failure comes back
 * into *r, and return 0 (free *r with wb_http_response_free). Transport
 * errors, and 429 and 5xx answers, are an outage: reported once, and
 * retried after a pause that grows. With WB_ESCONN_TRANSPORT in 'flags',
 * return -1 at the first transport error instead (without a message: the
 * caller decides what it means); with WB_ESCONN_5XX, return 429 and 5xx
 * answers too; with WB_ESCONN_EXPECT, send the body only once the server
 * agreed.
 * 401 and 403 (credentials) and 404 (no API there) exit 100; standard
 * output's reader gone during a pause exits 111 (wb_esconn_backoff_or_die).
 */
int wb_esconn_post_or_die(struct wb_esconn *c, const char *url,
    const char *path, const char *type, const char *body, size_t len, int flags,
    struct wb_http_response *r);

/* A temporary trouble with the server, 'what': one warning per outage. */
void wb_esconn_outage(struct wb_esconn *c, const char *what);

/* The server answered as it should: the end of an outage gets one line. */
void wb_esconn_recovered(struct wb_esconn *c);

/*
 * Pause 'ms' milliseconds; returns the next pause (doubled, bounded).
 * Exits 111 as soon as standard output's reader is gone (wb_pipe_die).
 */
long wb_esconn_backoff_or_die(long ms);

#endif
