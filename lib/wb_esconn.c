/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a connection to Elasticsearch: URLs, credentials, retried POSTs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_clock.h"
#include "wb_err.h"
#include "wb_esconn.h"
#include "wb_pipe.h"
#include "wb_xalloc.h"

char *
wb_esconn_url(const struct wb_esconn *c, const char *path)
{
	size_t n = strlen(c->base);
	char *u;

	while (n > 0 && c->base[n - 1] == '/')
		n--;
	u = wb_xmalloc(n + strlen(path) + 1);
	memcpy(u, c->base, n);
	strcpy(u + n, path);
	return u;
}

void
wb_esconn_open_or_die(struct wb_esconn *c, const char *es, const char *api_key)
{
	size_t wherelen = strlen(es) + 8;

	memset(c, 0, sizeof *c);
	c->base = es;
	c->http = wb_http_new("wb-bulk/" WB_VERSION, 120000);
	if (c->http == NULL)
		wb_die(WB_EXIT_TEMP, "unable to start the HTTP client");
	c->where = wb_xmalloc(wherelen);
	wb_http_redact(es, c->where, wherelen);
	c->bulk_url = wb_esconn_url(c, WB_ESCONN_BULK "?" WB_ES_BULK_PARAMS);
	c->dbq_url = wb_esconn_url(c, WB_ESCONN_DBQ "?" WB_ES_DBQ_PARAMS);
	c->refresh_url = wb_esconn_url(c, WB_ESCONN_REFRESH
	    "?ignore_unavailable=true");
	if (api_key != NULL) {
		size_t n = strlen(api_key);

		if (n > 4096 || strspn(api_key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/=_:.-") != n)
			wb_die(WB_EXIT_USAGE, "WB_ES_API_KEY is not an API key "
			    "(base64 characters only)");
		snprintf(c->authbuf, sizeof c->authbuf,
		    "Authorization: ApiKey %s", api_key);
		c->auth = c->authbuf;
	}
}

void
wb_esconn_close(struct wb_esconn *c)
{
	wb_http_free(c->http);
	free(c->where);
	free(c->bulk_url);
	free(c->dbq_url);
	free(c->refresh_url);
	c->http = NULL;
	c->where = c->bulk_url = c->dbq_url = c->refresh_url = NULL;
}

void
wb_esconn_outage(struct wb_esconn *c, const char *what)
{
	if (!c->down)
		wb_warn("Elasticsearch at %s: %s; retrying until it answers",
		    c->where, what);
	c->down = 1;
}

void
wb_esconn_recovered(struct wb_esconn *c)
{
	if (c->down)
		wb_info("Elasticsearch at %s answers again", c->where);
	c->down = 0;
}

long
wb_esconn_backoff_or_die(long ms)
{
	if (wb_pipe_sleep(ms) < 0)
		wb_pipe_die();
	return (long)wb_clock_backoff(ms, WB_ESCONN_BACKOFF_MAX_MS);
}

int
wb_esconn_post_or_die(struct wb_esconn *c, const char *url, const char *path,
    const char *type, const char *body, size_t len, int flags,
    struct wb_http_response *r)
{
	char ctype[64], ex[256], shown[4096];
	const char *headers[4] = { ctype, NULL, NULL, NULL }, **h = headers + 1;
	long wait = WB_ESCONN_BACKOFF_MIN_MS;
	size_t n;

	snprintf(ctype, sizeof ctype, "Content-Type: %s", type);
	if (flags & WB_ESCONN_EXPECT)
		*h++ = "Expect: 100-continue";
	*h = c->auth;
	wb_http_redact(url, shown, sizeof shown);
	n = strlen(shown);
	for (;;) {
		if (wb_http_request(c->http, "POST", url, headers, body, len,
		    64UL << 20, r) < 0) {
			if (r->reader_gone)
				wb_pipe_die();
			/* The error names the URL; the message has the server. */
			const char *e = strncmp(r->error, shown, n) == 0 &&
			    strncmp(r->error + n, ": ", 2) == 0 ?
			    r->error + n + 2 : r->error;

			if (flags & WB_ESCONN_TRANSPORT) {
				wb_debug("%s: %s", path,
				    e);
				return -1;
			}
			wb_esconn_outage(c, e);
		} else if (r->status == 401 || r->status == 403)
			wb_die(WB_EXIT_USAGE, "Elasticsearch at %s refuses our "
			    "credentials (HTTP %ld)", c->where, r->status);
		else if (r->status == 404)
			wb_die(WB_EXIT_USAGE, "no Elasticsearch API at %s (HTTP "
			    "404 for %s)", c->where, path);
		else if ((r->status == 429 || r->status >= 500) &&
		    !(flags & WB_ESCONN_5XX)) {
			wb_es_excerpt(r->body, r->len, ex, sizeof ex);
			snprintf(r->error, sizeof r->error, "HTTP %ld: %s",
			    r->status, ex);
			wb_esconn_outage(c, r->error);
		} else
			return 0;
		wb_http_response_free(r);
		wait = wb_esconn_backoff_or_die(wait);
	}
}
