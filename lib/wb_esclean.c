/* SPDX-License-Identifier: MPL-2.0 */
/* wb — removing the documents that re-indexed issues no longer have. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "wb_clock.h"
#include "wb_err.h"
#include "wb_esclean.h"
#include "wb_xalloc.h"

#define RECENT_SLOTS (1 << 16)	/* issues remembered as recently indexed */
#define RECENT_MS 3000		/* beyond the 1 s refresh of our templates */

struct wb_esclean_recent {
	long number;
	long long at;
};

void
wb_esclean_init(struct wb_esclean *cl, struct wb_esconn *es)
{
	cl->es = es;
	cl->recent = wb_xcalloc(RECENT_SLOTS, sizeof *cl->recent);
}

void
wb_esclean_free(struct wb_esclean *cl)
{
	wb_es_buf_free(&cl->query);
	free(cl->recent);
	cl->recent = NULL;
}

/*
 * The slot of issue n in the table of recently indexed issues: its own, or
 * a free or expired one near its hash (probing at most 64 slots).
 */
static struct wb_esclean_recent *
recent_slot(struct wb_esclean *cl, long n, long long now, int *found)
{
	size_t h = ((unsigned long)n * 2654435761UL) & (RECENT_SLOTS - 1);
	struct wb_esclean_recent *spare = NULL;

	for (size_t i = 0; i < 64; i++) {
		struct wb_esclean_recent *r =
		    &cl->recent[(h + i) & (RECENT_SLOTS - 1)];

		if (r->number == n) {
			*found = now - r->at < RECENT_MS;
			return r;
		}
		if (spare == NULL && (r->number == 0 || now - r->at >= RECENT_MS))
			spare = r;
		if (r->number == 0)
			break;
	}
	*found = 0;
	return spare != NULL ? spare : &cl->recent[h];
}

/*
 * Stale documents cannot be removed, for now: a warning says so once,
 * and not again until they can be removed. The issues concerned are not
 * written out (their claims come back to be tried later) and the
 * pipeline goes on.
 */
static void
stuck(struct wb_esclean *cl, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (!cl->stuck)
		wb_warn("%s; stale documents not removed, their issues not "
		    "acknowledged until it works", why);
	else
		wb_debug("%s", why);
	cl->stuck = 1;
}

static void
unstuck(struct wb_esclean *cl)
{
	if (cl->stuck)
		wb_info("stale documents are removed again");
	cl->stuck = 0;
}

/*
 * Make every document indexed so far visible to searches. Returns 0, or
 * -1 when the server refused WB_ESCLEAN_TRIES times (it is retried for as
 * long as it is unreachable or answers 429 or 5xx, as an outage).
 */
static int
refresh_or_die(struct wb_esclean *cl)
{
	struct wb_http_response r;
	long wait = WB_ESCONN_BACKOFF_MIN_MS;
	char ex[256];

	for (int tries = 1;; tries++) {
		cl->refreshes++;
		wb_esconn_post_or_die(cl->es, cl->es->refresh_url,
		    WB_ESCONN_REFRESH, "application/json", "", 0, 0, &r);
		if (r.status == 200) {
			wb_http_response_free(&r);
			wb_esconn_recovered(cl->es);
			return 0;
		}
		wb_esconn_recovered(cl->es);
		wb_es_excerpt(r.body, r.len, ex, sizeof ex);
		wb_http_response_free(&r);
		if (tries == WB_ESCLEAN_TRIES) {
			stuck(cl, "_refresh refused %d times (HTTP %ld): %s",
			    WB_ESCLEAN_TRIES, r.status, ex);
			return -1;
		}
		wb_debug("_refresh refused (HTTP %ld): %s", r.status, ex);
		wait = wb_esconn_backoff_or_die(wait);
	}
}

/* Send the delete-by-query in cl->query until it is done or tried enough. */
static int
delete_by_query_or_die(struct wb_esclean *cl)
{
	struct wb_esconn *es = cl->es;
	struct wb_http_response r;
	long wait = WB_ESCONN_BACKOFF_MIN_MS, deleted;
	char why[512], ex[256];
	int got;

	for (int tries = 1;; tries++) {
		cl->dbqs++;
		wb_esconn_post_or_die(es, es->dbq_url, WB_ESCONN_DBQ,
		    "application/json", cl->query.p, cl->query.len,
		    WB_ESCONN_5XX, &r);
		got = wb_es_dbq_parse(r.body, r.len, &deleted, why, sizeof why);
		wb_es_excerpt(r.body, r.len, ex, sizeof ex);
		wb_http_response_free(&r);
		if (got == 0 && r.status == 200) {
			wb_esconn_recovered(es);
			unstuck(cl);
			cl->removed += (unsigned long long)deleted;
			return 0;
		}
		if (got < 0 && (r.status == 429 || r.status >= 500)) {
			/* Not an answer of the API: the server's trouble. */
			snprintf(why, sizeof why, "HTTP %ld: %s", r.status, ex);
			wb_esconn_outage(es, why);
			tries--;
		} else if (got < 0 && r.status != 200) {
			wb_esconn_recovered(es);
			stuck(cl, "_delete_by_query refused (HTTP %ld): %s",
			    r.status, ex);
			return -1;
		} else if (tries == WB_ESCLEAN_TRIES) {
			/* Failures, a timeout, an answer unlike the API's. */
			wb_esconn_recovered(es);
			stuck(cl, "_delete_by_query failed %d times (HTTP %ld): %s",
			    WB_ESCLEAN_TRIES, r.status, why);
			return -1;
		} else
			wb_debug("_delete_by_query failed (HTTP %ld): %s",
			    r.status, why);
		wait = wb_esconn_backoff_or_die(wait);
	}
}

/* Remove what issues[0..n) no longer have: one delete-by-query. */
static int
delete_stale_or_die(struct wb_esclean *cl, const struct wb_es_keep *issues,
    size_t n)
{
	struct wb_es_keep *keep = wb_xmalloc((n + 1) * sizeof *keep);
	long *gone = wb_xmalloc((n + 1) * sizeof *gone);
	size_t nkeep = 0, ngone = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (issues[i].nevents < 0)
			gone[ngone++] = issues[i].number;
		else
			keep[nkeep++] = issues[i];
	if (nkeep + ngone > 0) {
		if (wb_es_dbq_body(&cl->query, keep, nkeep, gone, ngone) < 0)
			wb_diesys(WB_EXIT_TEMP, "unable to allocate memory");
		if (cl->es == NULL)
			wb_debug("_delete_by_query %s", cl->query.p);
		else
			rc = delete_by_query_or_die(cl);
	}
	free(keep);
	free(gone);
	return rc;
}

int
wb_esclean_run_or_die(struct wb_esclean *cl, const struct wb_es_keep *issues,
    size_t n)
{
	long long now = wb_clock_ms();
	int rc, fresh = 0;

	for (size_t i = 0; i < n && !fresh; i++)
		recent_slot(cl, issues[i].number, now, &fresh);
	if (fresh && cl->es != NULL && refresh_or_die(cl) < 0)
		rc = -1;
	else
		rc = delete_stale_or_die(cl, issues, n);
	now = wb_clock_ms();
	for (size_t i = 0; i < n; i++) {
		struct wb_esclean_recent *r = recent_slot(cl, issues[i].number,
		    now, &fresh);

		r->number = issues[i].number;
		r->at = now;
	}
	return rc;
}
