/* wb-bulk — index archived issues into Elasticsearch with the bulk API.
 *
 * For each input record, reads $WB_DATA/current/N/issue.json and
 * timeline.json and indexes the issue into "issues" and every event into
 * "timelines", in batches; then one delete-by-query per batch removes the
 * documents those issues no longer have (and every document of an issue
 * whose directory is gone). A record is written out only once all of its
 * issue's documents are in, so the wb-ack after it acknowledges only what
 * was done. A batch is sent by a second thread while the next one is
 * read from the archive.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_es.h"
#include "wb_http.h"
#include "wb_jscan.h"
#include "wb_record.h"
#include "wb_scan.h"

#define USAGE "wb-bulk [--dry-run] [--batch-bytes N] [--batch-docs N] " \
	"[--idle S] [--install-templates DIR]"
#define HELP \
	"Index the archived issues of the input records into Elasticsearch.\n" \
	"  -n, --dry-run        write the bulk bodies to stdout, send nothing\n" \
	"  -b, --batch-bytes N  bytes of a bulk request (default 5000000)\n" \
	"  -c, --batch-docs N   documents of a bulk request (default 10000)\n" \
	"  -i, --idle S         send a batch once input pauses S seconds (1)\n" \
	"  -T, --install-templates DIR  install DIR/*.json as index templates\n" \
	"See wb-bulk(1).\n"

#define MAX_FILE (256UL << 20)	/* an archive file larger is refused */
#define MAX_ISSUES 1000		/* issues of a batch (bounds the query) */
#define RECENT_SLOTS (1 << 16)	/* issues remembered as recently indexed */
#define RECENT_MS 3000		/* beyond the 1 s refresh of our templates */
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 5000
#define TRIES 3			/* of a refresh or delete-by-query that fails */

/* The API paths, as messages name them (not the URL: it may hold a password). */
#define BULK_PATH "/_bulk"
#define DBQ_PATH "/" WB_ES_ISSUES "," WB_ES_TIMELINES "/_delete_by_query"
#define REFRESH_PATH "/" WB_ES_ISSUES "," WB_ES_TIMELINES "/_refresh"

struct issue {
	struct wb_record rec;	/* what to write out once indexed */
	long nevents;		/* -1: gone, to be removed */
	int complete;		/* every document is in a batch (or sent) */
	int failed;		/* a document was refused for good */
	size_t unsent;		/* documents in a batch not sent yet */
};

struct doc {
	size_t off, len;	/* action and source lines in the body */
	size_t slot;		/* its issue */
	long pos;		/* -1: the issue; else the event */
};

/* One bulk request's worth of documents, and what sending it needs. */
struct batch {
	struct wb_es_buf body, scratch;
	struct doc *docs;
	size_t ndocs, capdocs;
	struct wb_es_item *items;
	size_t *idx;
};

struct bulk {
	/* configuration */
	const char *data;
	size_t max_bytes, max_docs;
	int dry_run;
	struct wb_http *http;
	const char *base;
	char *bulk_url, *dbq_url, *where;
	const char *headers[3];
	/*
	 * The batch being filled, and the one being sent by the sender
	 * thread (NULL when none is): while it is, the main thread touches
	 * neither the HTTP client nor the order of issues[].
	 */
	struct batch batches[2], *fill, *flight;
	pthread_t sender;
	struct wb_es_buf query;
	struct issue *issues;	/* of both batches, in input order */
	size_t nissues;
	struct timespec started;
	/* reading the archive */
	struct wb_es_buf itext, ttext;
	struct wb_jscan_spans spans;
	char *refresh_url;
	/* issues indexed lately, whose documents a search may not see yet */
	struct recent {
		long number;
		long long at;
	} *recent;
	/* the state of the server, for messages */
	int down;
	int stuck;		/* stale documents cannot be removed */
	/* counts for the final message */
	unsigned long long sent_docs, requests, dbqs, refreshes, emitted, removed,
	    skipped;
};

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL)
		wb_diesys(WB_EXIT_TEMP, "unable to allocate memory");
	return p;
}

static long long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * The slot of issue n in the table of recently indexed issues: its own, or
 * a free or expired one near its hash (probing at most 64 slots).
 */
static struct recent *
recent_slot(struct bulk *b, long n, long long now, int *found)
{
	size_t h = ((unsigned long)n * 2654435761UL) & (RECENT_SLOTS - 1);
	struct recent *spare = NULL;

	for (size_t i = 0; i < 64; i++) {
		struct recent *r = &b->recent[(h + i) & (RECENT_SLOTS - 1)];

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
	return spare != NULL ? spare : &b->recent[h];
}

static void
pause_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static long
backoff(long ms)
{
	pause_ms(ms);
	return ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
}

/* A temporary trouble with the server: said once per outage. */
static void
outage(struct bulk *b, const char *what)
{
	if (!b->down)
		wb_warn("Elasticsearch at %s: %s; retrying until it answers",
		    b->where, what);
	b->down = 1;
}

static void
recovered(struct bulk *b)
{
	if (b->down)
		wb_info("Elasticsearch at %s answers again", b->where);
	b->down = 0;
}

/* Excerpt of an answer for a message: one line, at most 200 bytes. */
static void
excerpt(char *dst, size_t dstlen, const struct wb_http_response *r)
{
	size_t i, n = r->body != NULL ? r->len : 0;

	if (n > 200)
		n = 200;
	if (n > dstlen - 1)
		n = dstlen - 1;
	for (i = 0; i < n; i++)
		dst[i] = (unsigned char)r->body[i] < 0x20 ? ' ' : r->body[i];
	dst[i] = '\0';
}

/* What post() hands back instead of retrying it. */
#define POST_TRANSPORT 1	/* a transport error: returns -1, unsaid */
#define POST_5XX 2		/* an answer 429 or 5xx: returns 0 */

/*
 * POST body to url (the API 'path' of the base URL, for messages) until an
 * answer that is not a temporary failure comes back into *r, and return 0;
 * with POST_TRANSPORT in 'flags', return -1 at the first transport error
 * (not said: the caller splits the request, and a request of one document
 * says an outage); with POST_5XX, return 429 and 5xx answers too. 401,
 * 403 and 404 are fatal (configuration). Used by one thread at a time:
 * the sender while a batch is in flight, else main.
 */
static int
post(struct bulk *b, const char *url, const char *path, const char *type,
    const char *body, size_t len, int flags, struct wb_http_response *r)
{
	char ctype[64], ex[256], shown[4096];
	const char *headers[3] = { ctype, b->headers[0], NULL };
	long wait = BACKOFF_MIN_MS;
	size_t n;

	snprintf(ctype, sizeof ctype, "Content-Type: %s", type);
	wb_http_redact(url, shown, sizeof shown);
	n = strlen(shown);
	for (;;) {
		if (wb_http_request(b->http, "POST", url, headers, body, len,
		    64UL << 20, r) < 0) {
			/* The error names the URL; the message has the server. */
			const char *e = strncmp(r->error, shown, n) == 0 &&
			    strncmp(r->error + n, ": ", 2) == 0 ?
			    r->error + n + 2 : r->error;

			if (flags & POST_TRANSPORT) {
				wb_debug("%s: %s; sending smaller requests", path,
				    e);
				return -1;
			}
			outage(b, e);
		} else if (r->status == 401 || r->status == 403)
			wb_die(WB_EXIT_USAGE, "Elasticsearch at %s refuses our "
			    "credentials (HTTP %ld)", b->where, r->status);
		else if (r->status == 404)
			wb_die(WB_EXIT_USAGE, "no Elasticsearch API at %s (HTTP "
			    "404 for %s)", b->where, path);
		else if ((r->status == 429 || r->status >= 500) &&
		    !(flags & POST_5XX)) {
			excerpt(ex, sizeof ex, r);
			snprintf(r->error, sizeof r->error, "HTTP %ld: %s",
			    r->status, ex);
			outage(b, r->error);
		} else
			return 0;
		wb_http_response_free(r);
		wait = backoff(wait);
	}
}

/* The documents idx[0..n) as one request body: in place when contiguous. */
static const char *
request_body(struct batch *bt, const size_t *idx, size_t n, size_t *len)
{
	const struct doc *first = &bt->docs[idx[0]], *last = &bt->docs[idx[n - 1]];

	if (idx[n - 1] - idx[0] == n - 1) {
		*len = last->off + last->len - first->off;
		return bt->body.p + first->off;
	}
	bt->scratch.len = 0;
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = &bt->docs[idx[i]];

		if (wb_es_buf_reserve(&bt->scratch, d->len) < 0)
			wb_diesys(WB_EXIT_TEMP, "unable to allocate memory");
		memcpy(bt->scratch.p + bt->scratch.len, bt->body.p + d->off,
		    d->len);
		bt->scratch.len += d->len;
	}
	*len = bt->scratch.len;
	return bt->scratch.p;
}

static void
refuse(struct bulk *b, const struct doc *d, const char *why)
{
	char id[32];

	wb_es_doc_id(b->issues[d->slot].rec.number, d->pos, id);
	wb_warn("issue %ld: document %s refused: %s",
	    b->issues[d->slot].rec.number, id, why);
	b->issues[d->slot].failed = 1;
}

/*
 * The request of the documents idx[0..n) was refused whole with the
 * answer *r: one document alone is refused for its reason; of several,
 * each issue concerned is named, once.
 */
static void
refuse_all(struct bulk *b, struct batch *bt, const size_t *idx, size_t n,
    const struct wb_http_response *r)
{
	char ex[512], why[600];

	if (r->status == 413)
		snprintf(ex, sizeof ex, "larger than the server's "
		    "http.max_content_length");
	else
		wb_es_error_text(r->body, r->len, ex, sizeof ex);
	snprintf(why, sizeof why, "HTTP %ld: %s", r->status, ex);
	if (n == 1) {
		refuse(b, &bt->docs[idx[0]], why);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct issue *is = &b->issues[bt->docs[idx[i]].slot];

		if (!is->failed)
			wb_warn("issue %ld: bulk request refused: %s",
			    is->rec.number, why);
		is->failed = 1;
	}
}

/*
 * Send the documents idx[0..n) until each is in or refused for good:
 * items refused with 429 or 5xx go again after a pause; a request too
 * large for the server (413), or refused whole as malformed (400: the
 * fault of one document, which is thus isolated and named), is split in
 * two. So is a request of several documents that met a transport error:
 * a server refusing a body too large answers and closes without reading
 * it, and a client still sending often sees a reset instead of the 413.
 * Halving bounds this (a real outage costs one failed request per
 * halving), and a request of one document is retried as an outage.
 */
static void
send_docs(struct bulk *b, struct batch *bt, size_t *idx, size_t n)
{
	struct wb_http_response r;
	struct wb_es_item *items = bt->items;
	long wait = BACKOFF_MIN_MS;
	char why[512];
	const char *body;
	size_t len, again;

	while (n > 0) {
		body = request_body(bt, idx, n, &len);
		b->requests++;
		if (post(b, b->bulk_url, BULK_PATH, "application/x-ndjson", body,
		    len, n > 1 ? POST_TRANSPORT : 0, &r) < 0 ||
		    ((r.status == 413 || r.status == 400) && n > 1)) {
			wb_http_response_free(&r);
			send_docs(b, bt, idx, n / 2);
			send_docs(b, bt, idx + n / 2, n - n / 2);
			return;
		}
		if (r.status != 200) {
			refuse_all(b, bt, idx, n, &r);
			wb_http_response_free(&r);
			return;
		}
		for (size_t i = 0; i < n; i++) {
			items[i].number = b->issues[bt->docs[idx[i]].slot].rec.number;
			items[i].pos = bt->docs[idx[i]].pos;
		}
		if (wb_es_bulk_parse(r.body, r.len, items, n, why, sizeof why) < 0) {
			wb_http_response_free(&r);
			outage(b, why);
			wait = backoff(wait);
			continue;
		}
		wb_http_response_free(&r);
		recovered(b);
		again = 0;
		for (size_t i = 0; i < n; i++) {
			if (items[i].outcome == WB_ES_OK)
				b->sent_docs++;
			else if (items[i].outcome == WB_ES_FAILED)
				refuse(b, &bt->docs[idx[i]], items[i].reason);
			else {
				if (again == 0)
					wb_debug("document refused for now (%ld): "
					    "%s", items[i].status, items[i].reason);
				idx[again++] = idx[i];
			}
		}
		wb_es_items_clear(items, n);
		n = again;
		if (n > 0)
			wait = backoff(wait);
	}
}

/*
 * Stale documents cannot be removed, for now: said once until they can
 * again. The issues concerned are not written out (their claims come
 * back to be tried later) and the pipeline goes on.
 */
static void
stuck(struct bulk *b, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (!b->stuck)
		wb_warn("%s; stale documents not removed, their issues not "
		    "acknowledged until it works", why);
	else
		wb_debug("%s", why);
	b->stuck = 1;
}

static void
unstuck(struct bulk *b)
{
	if (b->stuck)
		wb_info("stale documents are removed again");
	b->stuck = 0;
}

/*
 * Make every document indexed so far visible to searches. Returns 0, or
 * -1 when the server refused TRIES times (it is retried for as long as it
 * is unreachable or answers 429 or 5xx, as an outage).
 */
static int
refresh(struct bulk *b)
{
	struct wb_http_response r;
	long wait = BACKOFF_MIN_MS;
	char ex[256];

	for (int tries = 1;; tries++) {
		b->refreshes++;
		post(b, b->refresh_url, REFRESH_PATH, "application/json", "", 0, 0,
		    &r);
		if (r.status == 200) {
			wb_http_response_free(&r);
			recovered(b);
			return 0;
		}
		recovered(b);
		excerpt(ex, sizeof ex, &r);
		wb_http_response_free(&r);
		if (tries == TRIES) {
			stuck(b, "_refresh refused %d times (HTTP %ld): %s",
			    TRIES, r.status, ex);
			return -1;
		}
		wb_debug("_refresh refused (HTTP %ld): %s", r.status, ex);
		wait = backoff(wait);
	}
}

/* Remove what the complete issues of the batch no longer have. */
static int
delete_stale(struct bulk *b)
{
	struct wb_es_keep *keep = xrealloc(NULL, (b->nissues + 1) * sizeof *keep);
	long *gone = xrealloc(NULL, (b->nissues + 1) * sizeof *gone), deleted;
	size_t nkeep = 0, ngone = 0;
	struct wb_http_response r;
	long wait = BACKOFF_MIN_MS;
	char why[512], ex[256];
	int rc = 0, got;

	for (size_t i = 0; i < b->nissues; i++) {
		const struct issue *is = &b->issues[i];

		if (!is->complete || is->unsent > 0)
			continue;
		if (is->nevents < 0)
			gone[ngone++] = is->rec.number;
		else {
			keep[nkeep].number = is->rec.number;
			keep[nkeep++].nevents = is->nevents;
		}
	}
	if (nkeep + ngone == 0)
		goto out;
	if (wb_es_dbq_body(&b->query, keep, nkeep, gone, ngone) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to allocate memory");
	if (b->dry_run) {
		wb_debug("_delete_by_query %s", b->query.p);
		goto out;
	}
	for (int tries = 1;; tries++) {
		b->dbqs++;
		post(b, b->dbq_url, DBQ_PATH, "application/json", b->query.p,
		    b->query.len, POST_5XX, &r);
		got = wb_es_dbq_parse(r.body, r.len, &deleted, why, sizeof why);
		excerpt(ex, sizeof ex, &r);
		wb_http_response_free(&r);
		if (got == 0 && r.status == 200) {
			recovered(b);
			unstuck(b);
			b->removed += (unsigned long long)deleted;
			break;
		}
		if (got < 0 && (r.status == 429 || r.status >= 500)) {
			/* Not an answer of the API: the server's trouble. */
			snprintf(why, sizeof why, "HTTP %ld: %s", r.status, ex);
			outage(b, why);
			tries--;
		} else if (got < 0 && r.status != 200) {
			recovered(b);
			stuck(b, "_delete_by_query refused (HTTP %ld): %s",
			    r.status, ex);
			rc = -1;
			break;
		} else if (tries == TRIES) {
			/* Failures, a timeout, an answer unlike the API's. */
			recovered(b);
			stuck(b, "_delete_by_query failed %d times (HTTP %ld): %s",
			    TRIES, r.status, why);
			rc = -1;
			break;
		} else
			wb_debug("_delete_by_query failed (HTTP %ld): %s",
			    r.status, why);
		wait = backoff(wait);
	}
out:
	free(keep);
	free(gone);
	return rc;
}

/* The sender thread: the batch in flight, until each document is done. */
static void *
sender(void *arg)
{
	struct bulk *b = arg;
	struct batch *bt = b->flight;

	for (size_t i = 0; i < bt->ndocs; i++)
		bt->idx[i] = i;
	send_docs(b, bt, bt->idx, bt->ndocs);
	return NULL;
}

/* The documents of bt are done with (in, or refused and reported). */
static void
done(struct bulk *b, struct batch *bt)
{
	for (size_t i = 0; i < bt->ndocs; i++)
		b->issues[bt->docs[i].slot].unsent--;
	bt->ndocs = 0;
	bt->body.len = 0;
}

/* Wait for the batch in flight, if any. */
static void
land(struct bulk *b)
{
	int e;

	if (b->flight == NULL)
		return;
	if ((e = pthread_join(b->sender, NULL)) != 0) {
		errno = e;
		wb_diesys(WB_EXIT_TEMP, "unable to wait for the sender thread");
	}
	done(b, b->flight);
	b->flight = NULL;
}

/* Send the batch being filled: in flight while the next one fills. */
static void
take_off(struct bulk *b)
{
	struct batch *bt = b->fill;
	int e;

	if (bt->ndocs == 0)
		return;
	if (b->dry_run) {
		if (fwrite(bt->body.p, 1, bt->body.len, stdout) != bt->body.len)
			wb_diesys(WB_EXIT_TEMP, "unable to write to standard "
			    "output");
		b->sent_docs += bt->ndocs;
		done(b, bt);
		return;
	}
	b->flight = bt;
	b->fill = bt == &b->batches[0] ? &b->batches[1] : &b->batches[0];
	if ((e = pthread_create(&b->sender, NULL, sender, b)) != 0) {
		errno = e;
		wb_diesys(WB_EXIT_TEMP, "unable to start the sender thread");
	}
}

/*
 * With nothing in flight: remove what the issues whose documents are all
 * done no longer have (one delete-by-query), write their records out and
 * forget them. The others (in the batch being filled, or still being
 * read) keep their order; the batch's documents follow them.
 */
static void
settle(struct bulk *b)
{
	long long now = now_ms();
	size_t kept = 0, *moved;
	int dbq_ok, fresh = 0;

	/*
	 * A delete-by-query sees only refreshed documents: if one of these
	 * issues was indexed moments ago, its older documents may not be
	 * visible yet, and would escape it. Refresh first, then.
	 */
	for (size_t i = 0; i < b->nissues && !fresh; i++)
		if (b->issues[i].complete && b->issues[i].unsent == 0)
			recent_slot(b, b->issues[i].rec.number, now, &fresh);
	if (fresh && !b->dry_run && refresh(b) < 0)
		dbq_ok = 0;
	else
		dbq_ok = delete_stale(b) == 0;
	now = now_ms();
	moved = xrealloc(NULL, (b->nissues + 1) * sizeof *moved);
	for (size_t i = 0; i < b->nissues; i++) {
		struct issue *is = &b->issues[i];
		struct recent *r;

		if (!is->complete || is->unsent > 0) {
			moved[i] = kept;
			b->issues[kept++] = *is;
			continue;
		}
		r = recent_slot(b, is->rec.number, now, &fresh);
		r->number = is->rec.number;
		r->at = now;
		if (is->failed || !dbq_ok) {
			if (!is->failed)
				wb_debug("issue %ld: stale documents not removed, "
				    "not acknowledged", is->rec.number);
			b->skipped++;
		} else if (!b->dry_run) {
			wb_record_put(stdout, &is->rec);
			b->emitted++;
		}
		wb_record_free(&is->rec);
	}
	for (size_t i = 0; i < b->fill->ndocs; i++)
		b->fill->docs[i].slot = moved[b->fill->docs[i].slot];
	free(moved);
	b->nissues = kept;
	if (!b->dry_run)
		wb_flush(stdout);
}

/* The batch being filled is full: send it, once the one before is done. */
static void
rotate(struct bulk *b)
{
	land(b);
	settle(b);
	take_off(b);
	clock_gettime(CLOCK_MONOTONIC, &b->started);
}

/* Send everything and wait until it is done. */
static void
flush(struct bulk *b)
{
	land(b);
	take_off(b);
	land(b);
	settle(b);
	clock_gettime(CLOCK_MONOTONIC, &b->started);
}

static void
on_idle(void *arg)
{
	struct bulk *b = arg;

	if (b->nissues > 0)
		flush(b);
}

/* Read the file at path into *buf; returns 0, or -1 with errno set. */
static int
slurp(const char *path, struct wb_es_buf *buf)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	buf->len = 0;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if ((size_t)st.st_size > MAX_FILE) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	if (wb_es_buf_reserve(buf, (size_t)st.st_size + 1) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to allocate memory");
	for (;;) {
		if (buf->cap - buf->len < 2 &&
		    wb_es_buf_reserve(buf, buf->cap) < 0)
			wb_diesys(WB_EXIT_TEMP, "unable to allocate memory");
		n = read(fd, buf->p + buf->len, buf->cap - buf->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || buf->len + (size_t)n > MAX_FILE)
			break;
		buf->len += (size_t)n;
	}
	if (n != 0) {
		if (n > 0)
			errno = EFBIG;
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Add one document of the last issue, sending the batch first if full. */
static void
add_doc(struct bulk *b, long pos, const char *text,
    const struct wb_jscan_span *span)
{
	struct batch *bt = b->fill;
	size_t slot = b->nissues - 1;
	struct doc *d;
	char why[256];
	size_t off;

	if (bt->ndocs > 0 && (bt->ndocs >= b->max_docs ||
	    bt->body.len + span->len + 100 > b->max_bytes)) {
		rotate(b);
		bt = b->fill;
		slot = b->nissues - 1;
	}
	off = bt->body.len;
	if (wb_es_put_doc(&bt->body, b->issues[slot].rec.number, pos, text, span,
	    why, sizeof why) < 0) {
		struct doc tmp = { .slot = slot, .pos = pos };

		refuse(b, &tmp, why);
		return;
	}
	if (bt->ndocs == bt->capdocs) {
		bt->capdocs = bt->capdocs ? bt->capdocs * 2 : 1024;
		bt->docs = xrealloc(bt->docs, bt->capdocs * sizeof *bt->docs);
		bt->items = xrealloc(bt->items, bt->capdocs * sizeof *bt->items);
		bt->idx = xrealloc(bt->idx, bt->capdocs * sizeof *bt->idx);
	}
	d = &bt->docs[bt->ndocs++];
	d->off = off;
	d->len = bt->body.len - off;
	d->slot = slot;
	d->pos = pos;
	b->issues[slot].unsent++;
}

/*
 * Read and check both files of issue N; returns 1 when they are good, 0
 * when the issue is gone (no directory), -1 when it must be skipped.
 */
static int
load(struct bulk *b, long n, struct wb_jscan_span *ispan)
{
	char path[4096], why[256];
	struct stat st;
	int len;

	len = snprintf(path, sizeof path, "%s/current/%ld/issue.json", b->data, n);
	if (len < 0 || (size_t)len + 8 >= sizeof path)
		wb_die(WB_EXIT_USAGE, "WB_DATA is too long");
	if (slurp(path, &b->itext) < 0) {
		int e = errno;

		path[len - sizeof "/issue.json" + 1] = '\0';
		if (e == ENOENT && stat(path, &st) < 0 && errno == ENOENT) {
			/*
			 * Gone, if the archive is there: without it (a fresh
			 * system, an unmounted disk) nothing can be told.
			 */
			snprintf(path, sizeof path, "%s/current", b->data);
			if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
				return 0;
			wb_warn("issue %ld: no archive at %s, skipped", n, path);
			return -1;
		}
		path[strlen(path)] = '/';
		errno = e;
		wb_warnsys("issue %ld: unable to read %s, skipped", n, path);
		return -1;
	}
	if (wb_jscan_object(b->itext.p, b->itext.len, ispan, why,
	    sizeof why) < 0) {
		wb_warn("issue %ld: %s is not a JSON object: %s, skipped", n,
		    path, why);
		return -1;
	}
	memcpy(path + len - sizeof "issue.json" + 1, "timeline.json", 14);
	if (slurp(path, &b->ttext) < 0) {
		wb_warnsys("issue %ld: unable to read %s, skipped", n, path);
		return -1;
	}
	if (wb_jscan_array(b->ttext.p, b->ttext.len, &b->spans, why,
	    sizeof why) < 0) {
		wb_warn("issue %ld: %s is not a JSON array of objects: %s, "
		    "skipped", n, path, why);
		return -1;
	}
	return 1;
}

/* Take the record: read its issue and add its documents to the batch. */
static void
add(struct bulk *b, struct wb_record *rec)
{
	struct wb_jscan_span ispan;
	struct issue *is;
	int got;

	for (size_t i = 0; i < b->nissues; i++)
		if (b->issues[i].rec.number == rec->number) {
			flush(b);	/* the same issue twice: in order */
			break;
		}
	if ((got = load(b, rec->number, &ispan)) < 0) {
		b->skipped++;
		wb_record_free(rec);
		return;
	}
	if (b->nissues == 0)
		clock_gettime(CLOCK_MONOTONIC, &b->started);
	is = &b->issues[b->nissues++];
	is->rec = *rec;
	is->nevents = got ? (long)b->spans.n : -1;
	is->complete = is->failed = 0;
	is->unsent = 0;
	if (got) {
		add_doc(b, -1, b->itext.p, &ispan);
		for (size_t i = 0; i < b->spans.n; i++)
			add_doc(b, (long)i, b->ttext.p, &b->spans.v[i]);
	}
	b->issues[b->nissues - 1].complete = 1;
}

static char *
url(const char *base, const char *path)
{
	size_t n = strlen(base);
	char *u;

	while (n > 0 && base[n - 1] == '/')
		n--;
	u = xrealloc(NULL, n + strlen(path) + 1);
	memcpy(u, base, n);
	strcpy(u + n, path);
	return u;
}

static void
connect_es(struct bulk *b, const struct wb_config *cfg)
{
	static char auth[4200];
	const char *key = cfg->es_api_key;

	b->base = cfg->es;
	b->http = wb_http_new("wb-bulk/" WB_VERSION, 120000);
	if (b->http == NULL)
		wb_die(WB_EXIT_TEMP, "unable to start the HTTP client");
	b->where = xrealloc(NULL, strlen(cfg->es) + 8);
	wb_http_redact(cfg->es, b->where, strlen(cfg->es) + 8);
	b->bulk_url = url(cfg->es, BULK_PATH "?" WB_ES_BULK_PARAMS);
	b->dbq_url = url(cfg->es, DBQ_PATH "?" WB_ES_DBQ_PARAMS);
	b->refresh_url = url(cfg->es, REFRESH_PATH "?ignore_unavailable=true");
	if (key != NULL) {
		size_t n = strlen(key);

		if (n > 4096 || strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/=_:.-") != n)
			wb_die(WB_EXIT_USAGE, "WB_ES_API_KEY is not an API key "
			    "(base64 characters only)");
		snprintf(auth, sizeof auth, "Authorization: ApiKey %s", key);
		b->headers[0] = auth;
	}
}

/* --install-templates: PUT every DIR/NAME.json as index template NAME. */
static int
install_templates(struct bulk *b, const char *dir)
{
	const char *headers[3] = { "Content-Type: application/json",
	    b->headers[0], NULL };
	struct wb_http_response r;
	struct dirent **names;
	char path[4096], name[128], why[512], *u;
	int n, count = 0;

	if ((n = scandir(dir, &names, NULL, alphasort)) < 0)
		wb_diesys(WB_EXIT_USAGE, "unable to list %s", dir);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);

		if (len <= 5 || len - 5 >= sizeof name ||
		    strcmp(names[i]->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(name, sizeof name, "%.*s", (int)(len - 5),
		    names[i]->d_name);
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		if (slurp(path, &b->itext) < 0)
			wb_diesys(WB_EXIT_USAGE, "unable to read %s", path);
		if (wb_es_template_check(name, b->itext.p, b->itext.len, why,
		    sizeof why) < 0)
			wb_die(WB_EXIT_USAGE, "%s: %s", path, why);
		snprintf(path, sizeof path, "/_index_template/%s", name);
		u = url(b->base, path);
		if (wb_http_request(b->http, "PUT", u, headers, b->itext.p,
		    b->itext.len, 1 << 20, &r) < 0)
			wb_die(WB_EXIT_TEMP, "unable to install template %s: %s",
			    name, r.error);
		free(u);
		if (r.status != 200 || wb_es_ack_parse(r.body, r.len, why,
		    sizeof why) < 0) {
			if (r.status != 200 && wb_es_ack_parse(r.body, r.len, why,
			    sizeof why) == 0)
				snprintf(why, sizeof why, "no reason given");
			wb_die(r.status == 401 || r.status == 403 ||
			    r.status < 500 ? WB_EXIT_USAGE : WB_EXIT_TEMP,
			    "unable to install template %s (HTTP %ld): %s", name,
			    r.status, why);
		}
		wb_http_response_free(&r);
		wb_info("installed index template %s", name);
		count++;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (count == 0)
		wb_die(WB_EXIT_USAGE, "no *.json template in %s", dir);
	return WB_EXIT_OK;
}

/* Check that the archive root is a directory; get ready to read it. */
static void
open_archive(struct bulk *b, const char *data)
{
	struct stat st;

	b->data = data;
	if (stat(data, &st) < 0 || !S_ISDIR(st.st_mode))
		wb_die(WB_EXIT_USAGE, "no archive at %s (WB_DATA)", data);
	b->issues = xrealloc(NULL, (MAX_ISSUES + 1) * sizeof *b->issues);
	b->fill = &b->batches[0];
	b->recent = calloc(RECENT_SLOTS, sizeof *b->recent);
	if (b->recent == NULL)
		wb_diesys(WB_EXIT_TEMP, "unable to allocate memory");
	clock_gettime(CLOCK_MONOTONIC, &b->started);
}

/*
 * After each record: send the batch when it is full, everything when the
 * batch holds MAX_ISSUES issues or its first one has waited idle_ms.
 */
static void
after_add(struct bulk *b, int idle_ms)
{
	long long waited = now_ms() - ((long long)b->started.tv_sec * 1000 +
	    b->started.tv_nsec / 1000000);

	if (b->nissues >= MAX_ISSUES)
		flush(b);
	else if (b->fill->ndocs >= b->max_docs ||
	    b->fill->body.len >= b->max_bytes)
		rotate(b);
	else if (b->nissues > 0 && waited >= idle_ms)
		flush(b);
}

static size_t
size_option(const char *name, const char *arg, unsigned long long min,
    unsigned long long max)
{
	unsigned long long v;
	const char *why;

	if (wb_scan_uint(arg, strlen(arg), min, max, &v, &why) < 0)
		wb_die(WB_EXIT_USAGE, "%s is %s (%llu..%llu): %s", name, why, min,
		    max, arg);
	return (size_t)v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "batch-bytes", required_argument, NULL, 'b' },
		{ "batch-docs", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "idle", required_argument, NULL, 'i' },
		{ "install-templates", required_argument, NULL, 'T' },
		WB_CLI_LONGOPTS
	};
	static struct bulk b = { .max_bytes = 5000000, .max_docs = 10000 };
	const char *templates = NULL;
	struct wb_config cfg;
	struct wb_reader in;
	struct wb_record rec;
	double idle = 1;
	int ch, status;

	wb_cli_start("wb-bulk");
	while ((ch = getopt_long(argc, argv, "T:b:c:hi:n", longopts, NULL)) != -1) {
		switch (ch) {
		case 'T':
			templates = optarg;
			break;
		case 'b':
			b.max_bytes = size_option("--batch-bytes", optarg, 1000,
			    1UL << 30);
			break;
		case 'c':
			b.max_docs = size_option("--batch-docs", optarg, 1, 1000000);
			break;
		case 'h':
			wb_cli_help(USAGE, HELP);
		case 'i':
			if (wb_scan_seconds(optarg, &idle) < 0 || idle > 3600)
				wb_die(WB_EXIT_USAGE, "--idle is not a number of "
				    "seconds (0..3600): %s", optarg);
			break;
		case 'n':
			b.dry_run = 1;
			break;
		case 'V':
			wb_cli_version();
		default:
			wb_dieusage(USAGE);
		}
	}
	if (optind != argc || (templates != NULL && b.dry_run))
		wb_dieusage(USAGE);
	wb_config_load(&cfg);
	if (!b.dry_run)
		connect_es(&b, &cfg);
	if (templates != NULL)
		return wb_cli_end(install_templates(&b, templates));
	open_archive(&b, cfg.data);

	wb_reader_init(&in, 0);
	in.idle_fn = on_idle;
	in.idle_arg = &b;
	in.idle_ms = (int)(idle * 1000 + 0.5);
	while (wb_reader_next(&in, &rec)) {
		add(&b, &rec);
		after_add(&b, in.idle_ms);
	}
	flush(&b);
	status = wb_reader_status(&in);
	wb_reader_free(&in);
	if (b.skipped > 0)
		wb_warn("%llu issue%s not indexed", b.skipped,
		    b.skipped == 1 ? " was" : "s were");
	wb_debug("%llu documents in %llu requests, %llu delete-by-query, "
	    "%llu refreshes, %llu removed, %llu records written", b.sent_docs,
	    b.requests, b.dbqs, b.refreshes, b.removed, b.emitted);
	return wb_cli_end(status != 0 || b.skipped > 0 ? WB_EXIT_REJECTED :
	    WB_EXIT_OK);
}
