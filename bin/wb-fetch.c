/* SPDX-License-Identifier: MPL-2.0 */
/* wb-fetch — download issues and their timelines from GitHub.
 *
 * For each input record (or each number given as an argument) emits the
 * record plus "issue" and "timeline", or plus "gone": true when GitHub no
 * longer has the issue in this repository. Requests carry the ETags kept
 * next to the archive, so an unchanged issue costs only 304 answers, which
 * GitHub does not count against the rate limit; the new ETags travel in
 * the record's "etags" field to wb-write, which stores them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "wb_archive.h"
#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_github.h"
#include "wb_json.h"
#include "wb_metrics.h"
#include "wb_reader.h"
#include "wb_record.h"
#include "wb_scan.h"
#include "wb_timeline.h"
#include "wb_xalloc.h"

#define USAGE "wb-fetch [NUMBER ...]"
#define HELP \
	"Download each issue (numbers as arguments, or records on standard\n" \
	"input) and its timeline from GitHub; write records with \"issue\" and\n" \
	"\"timeline\", or \"gone\": true. See wb-fetch(1).\n"

struct fetcher {
	struct wb_config cfg;
	struct wb_github *gh;
	long long repo_id;		/* WB_REPO's id, once checked */
	size_t max_line;		/* the next stage's WB_MAX_LINE */
	char repo_etag[WB_ETAG_MAX];	/* of that check's answer */
	unsigned long fetched, gone, failed;
};

/*
 * Why a record failed, into why[whylen], for the one warning that reports
 * it. Returns -1.
 */
static int __attribute__((format(printf, 3, 4)))
fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static void __attribute__((noreturn))
die_moved(const struct fetcher *f)
{
	wb_die(WB_EXIT_USAGE, "repository %s has moved (renamed or "
	    "transferred); set WB_REPO to its new name", f->cfg.repo);
}

/*
 * Before taking a 404 or a redirect as "this issue is gone", make sure the
 * repository itself is there under its name: a wrong WB_REPO, a token that
 * lost access or a renamed repository would otherwise empty the archive.
 * Checked for every such answer, as the repository can change during a
 * run; the check is conditional on its last ETag, so a repeat is a 304,
 * which costs no rate limit.
 */
static int
check_repo(struct fetcher *f, char *why, size_t whylen)
{
	struct wb_github_result r;
	char url[1024];
	const char *name;
	double id;

	snprintf(url, sizeof url, "%s/repos/%s", wb_github_base(f->gh),
	    f->cfg.repo);
	switch (wb_github_get_or_die(f->gh, url, f->repo_etag[0] ?
	    f->repo_etag : NULL, NULL, &r)) {
	case WB_GH_OK:
		name = wb_json_string(r.value, "full_name");
		if (name == NULL || strcasecmp(name, f->cfg.repo) != 0 ||
		    wb_json_number(r.value, "id", &id) < 0 || id < 1 ||
		    id > 9007199254740992.0 || id != (double)(long long)id) {
			jv_free(r.value);
			wb_die(WB_EXIT_USAGE, "repository %s answers as another "
			    "one; is WB_REPO right?", f->cfg.repo);
		}
		jv_free(r.value);
		f->repo_id = (long long)id;
		snprintf(f->repo_etag, sizeof f->repo_etag, "%s", r.etag);
		return 0;
	case WB_GH_NOT_MODIFIED:
		if (f->repo_id == 0)
			return fail(why, whylen, "unable to check repository "
			    "%s: 304 to an unconditional request", f->cfg.repo);
		return 0;
	case WB_GH_MOVED:
		die_moved(f);
	case WB_GH_GONE:
		wb_die(WB_EXIT_USAGE, "repository %s not found: check WB_REPO "
		    "and the token's access", f->cfg.repo);
	case WB_GH_FATAL:
		wb_die(WB_EXIT_USAGE, "%s", r.why);
	default:
		jv_free(r.value);
		return fail(why, whylen, "unable to check repository %s: %s",
		    f->cfg.repo, r.why);
	}
}

/* The URLs of the pages read, so that a Link back to one is refused. */
struct visited {
	char **url;
	size_t n, cap;
};

/* 1 when 'url' was visited; else remembers it (0). */
static int
visited_add(struct visited *v, const char *url)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->url[i], url) == 0)
			return 1;
	v->url = wb_xgrow(v->url, v->n, &v->cap, sizeof *v->url);
	v->url[v->n++] = wb_xstrdup(url);
	return 0;
}

static void
visited_free(struct visited *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->url[i]);
	free(v->url);
	v->url = NULL;
	v->n = v->cap = 0;
}

#define MAX_REDIRECTS 5	/* hops followed to find where an issue went */

/*
 * Follow the redirect of issue 'number' to 'location' (under the base)
 * until a definite answer: a 200 issue, whose repository_url and number
 * say where it went (into moved[len]), or a 404 or 410 (deleted since:
 * moved ""). A redirect of the timeline is followed to the issue itself.
 * Returns 0, or -1 (the reason in why[whylen]) when nothing definite
 * came: a chain of redirects that ends nowhere (a loop, too long, off the
 * API), a 5xx or transport error that outlasted the retries, another
 * answer. The issue is then not taken as gone: a failure proves nothing.
 */
static int
follow(struct fetcher *f, long number, const char *location, char *moved,
    size_t len, char *why, size_t whylen)
{
	const char *base = wb_github_base(f->gh);
	struct wb_github_result to;
	struct visited seen = { 0 };
	char url[2048];
	size_t n;
	int rc = -1;

	snprintf(url, sizeof url, "%s/repos/%s/issues/%ld", base, f->cfg.repo,
	    number);
	visited_add(&seen, url);
	snprintf(url, sizeof url, "%s", location);
	n = strcspn(url, "?#");
	url[n] = '\0';
	if (n >= 9 && strcmp(url + n - 9, "/timeline") == 0)
		url[n - 9] = '\0';
	for (int hop = 0;; hop++) {
		if (hop == MAX_REDIRECTS) {
			rc = fail(why, whylen, "issue %ld: more than %d "
			    "redirects; not taken as gone", number,
			    MAX_REDIRECTS);
			break;
		}
		if (visited_add(&seen, url)) {
			rc = fail(why, whylen, "issue %ld: its redirects "
			    "loop; not taken as gone", number);
			break;
		}
		switch (wb_github_get_or_die(f->gh, url, NULL, NULL, &to)) {
		case WB_GH_OK:
			if (wb_github_moved_from_issue(base, to.value, moved,
			    len))
				rc = 0;
			else
				rc = fail(why, whylen, "issue %ld redirected "
				    "to what is not an issue; not taken as "
				    "gone", number);
			jv_free(to.value);
			goto out;
		case WB_GH_GONE:
			moved[0] = '\0';
			rc = 0;
			goto out;
		case WB_GH_MOVED:
			if (!wb_github_url_under(base, to.location)) {
				rc = fail(why, whylen, "issue %ld redirected "
				    "outside WB_GITHUB_API; not followed",
				    number);
				goto out;
			}
			snprintf(url, sizeof url, "%s", to.location);
			continue;
		case WB_GH_FATAL:
			wb_die(WB_EXIT_USAGE, "%s", to.why);
		default:
			jv_free(to.value);
			rc = fail(why, whylen, "issue %ld redirected, and "
			    "where it went did not answer: %s; not taken as "
			    "gone", number, to.why);
			goto out;
		}
	}
out:
	visited_free(&seen);
	return rc;
}

/*
 * Mark the record gone: after a 404 or 410, or a redirect followed to a
 * definite answer. Returns 1, or -1 when the answer cannot be trusted to
 * mean "gone".
 */
static int
gone(struct fetcher *f, struct wb_record *rec, const struct wb_github_result *r,
    char *why, size_t whylen)
{
	char moved[300] = "", self[300];

	/* Never taken on trust: the archive is not removed for it. */
	if (r->verdict == WB_GH_MOVED &&
	    !wb_github_url_under(wb_github_base(f->gh), r->location))
		return fail(why, whylen, "issue %ld redirected outside "
		    "WB_GITHUB_API; not followed", rec->number);
	/* A renamed repository redirects every issue: fatal there. */
	if (check_repo(f, why, whylen) < 0)
		return -1;
	if (r->verdict == WB_GH_MOVED) {
		if (wb_github_issue_url(wb_github_base(f->gh), r->location,
		    f->cfg.repo, f->repo_id, rec->number, "") == 1 ||
		    wb_github_issue_url(wb_github_base(f->gh), r->location,
		    f->cfg.repo, f->repo_id, rec->number, "/timeline") == 1)
			return fail(why, whylen, "issue %ld redirected to "
			    "itself; not taken as gone", rec->number);
		if (follow(f, rec->number, r->location, moved, sizeof moved,
		    why, whylen) < 0)
			return -1;
		/* Still here: the issue itself, not gone at all. */
		snprintf(self, sizeof self, "%s#%ld", f->cfg.repo, rec->number);
		if (strcasecmp(moved, self) == 0)
			return fail(why, whylen, "issue %ld redirected to "
			    "itself; not taken as gone", rec->number);
	}
	wb_record_del(rec, "issue");
	wb_record_del(rec, "timeline");
	wb_record_del(rec, "etags");
	wb_record_del(rec, "moved_to");
	wb_record_set(rec, "gone", jv_true());
	if (moved[0] != '\0')
		wb_record_set(rec, "moved_to", jv_string(moved));
	f->gone++;
	return 1;
}

/* An RFC 7231 date from an ISO 8601 "updated_at", for If-Modified-Since. */
static int
http_date(jv issue, char *buf, size_t len)
{
	const char *iso = wb_json_string(issue, "updated_at");
	struct tm tm;
	time_t t;

	if (iso == NULL || wb_scan_iso8601(iso, &t) < 0)
		return 0;
	gmtime_r(&t, &tm);
	return strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0;
}

/* 1 when 'v' is an object whose "number" is 'n'. */
static int
is_issue(jv v, long n)
{
	double d;

	return jv_get_kind(v) == JV_KIND_OBJECT &&
	    wb_json_number(v, "number", &d) == 0 && d == (double)n;
}

/*
 * The issue: from the record when wb-list put it there, else a GET,
 * conditional unless 'fresh'; *stored is set when the archived copy is
 * used (a 304). Returns 0 with *issue set, 1 when gone, -1 on failure.
 */
static int
get_issue(struct fetcher *f, struct wb_record *rec, const struct wb_etags *old,
    struct wb_etags *now, int fresh, jv *issue, int *stored, char *why,
    size_t whylen)
{
	jv given = wb_record_get(rec, "issue"), archived = jv_invalid();
	struct wb_github_result r;
	char url[1024], since[64];
	const char *cond_since = NULL;
	int tries = 0;

	if (jv_get_kind(given) == JV_KIND_OBJECT) {
		if (!is_issue(given, rec->number)) {
			jv_free(given);
			return fail(why, whylen, "\"issue\" is not issue %ld",
			    rec->number);
		}
		if (!wb_github_issue_ours(wb_github_base(f->gh), given,
		    f->cfg.repo)) {
			jv_free(given);
			return fail(why, whylen, "\"issue\" %ld is not of "
			    "repository %s (its repository_url)", rec->number,
			    f->cfg.repo);
		}
		*issue = given;
		return 0;
	}
	if (jv_is_valid(given)) {
		jv_free(given);
		return fail(why, whylen, "\"issue\" is not an object");
	}
	jv_free(given);
	*stored = 0;
	snprintf(url, sizeof url, "%s/repos/%s/issues/%ld",
	    wb_github_base(f->gh), f->cfg.repo, rec->number);
	if (fresh)
		tries = 1;	/* no condition */
	else if (old->issue[0] == '\0') {
		archived = wb_archive_read(f->cfg.data, rec->number, "issue.json");
		if (is_issue(archived, rec->number) &&
		    http_date(archived, since, sizeof since))
			cond_since = since;
	}
again:
	switch (wb_github_get_or_die(f->gh, url, tries == 0 && old->issue[0] ?
	    old->issue : NULL, tries == 0 ? cond_since : NULL, &r)) {
	case WB_GH_OK:
		jv_free(archived);
		if (!is_issue(r.value, rec->number)) {
			jv_free(r.value);
			return fail(why, whylen, "issue answer is not issue "
			    "%ld", rec->number);
		}
		if (!wb_github_issue_ours(wb_github_base(f->gh), r.value,
		    f->cfg.repo)) {
			jv_free(r.value);
			return fail(why, whylen, "issue %ld answers as an "
			    "issue of another repository than %s (its "
			    "repository_url)", rec->number, f->cfg.repo);
		}
		snprintf(now->issue, sizeof now->issue, "%s", r.etag);
		*issue = r.value;
		return 0;
	case WB_GH_NOT_MODIFIED:
		if (!jv_is_valid(archived))
			archived = wb_archive_read(f->cfg.data, rec->number,
			    "issue.json");
		/* (A 304 to an unconditional GET is never taken.) */
		if (!is_issue(archived, rec->number) || tries > 0) {
			/* The archived copy is unusable: ask for the full answer. */
			jv_free(archived);
			archived = jv_invalid();
			if (tries++ > 0)
				return fail(why, whylen, "304 to an "
				    "unconditional request");
			goto again;
		}
		snprintf(now->issue, sizeof now->issue, "%s",
		    r.etag[0] ? r.etag : old->issue);
		*issue = archived;
		*stored = 1;
		return 0;
	case WB_GH_GONE:
	case WB_GH_MOVED:
		jv_free(archived);
		return gone(f, rec, &r, why, whylen);
	case WB_GH_FATAL:
		wb_die(WB_EXIT_USAGE, "%s", r.why);
	default:
		jv_free(archived);
		return fail(why, whylen, "unable to get issue %ld: %s",
		    rec->number, r.why);
	}
}

/*
 * 0 when 'url', a next page of the timeline of issue 'number', stays on
 * that timeline of this repository (by name, or by its id, learned from
 * the repository itself the first time); else -1, the reason in
 * why[whylen]: the
 * events of another issue or repository would be stored as this one's.
 */
static int
next_ours(struct fetcher *f, long number, const char *url, char *why,
    size_t whylen)
{
	const char *base = wb_github_base(f->gh);
	int how = wb_github_issue_url(base, url, f->cfg.repo, f->repo_id, number,
	    "/timeline");

	if (how == 2) {
		if (check_repo(f, why, whylen) < 0)
			return -1;
		how = wb_github_issue_url(base, url, f->cfg.repo, f->repo_id,
		    number, "/timeline");
	}
	if (how != 1)
		return fail(why, whylen, "timeline of %ld: Link rel=\"next\" "
		    "leads out of this issue of %s; not followed", number,
		    f->cfg.repo);
	return 0;
}

/* The events of the archived timeline, as the stored pages count them. */
static size_t
etags_events(const struct wb_etags *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->npages; i++)
		n += (size_t)e->page[i].count;
	return n;
}

/* The URL of page 'page' (1: the first) of the timeline of 'number'. */
static void
timeline_url(const struct fetcher *f, long number, size_t page, char *url,
    size_t len)
{
	int n = snprintf(url, len, "%s/repos/%s/issues/%ld/timeline?"
	    "per_page=%d", wb_github_base(f->gh), f->cfg.repo, number,
	    WB_GITHUB_PER_PAGE);

	if (page > 1 && n >= 0 && (size_t)n < len)
		snprintf(url + n, len - (size_t)n, "&page=%zu", page);
}

/* The pages of one timeline being read: what get_timeline keeps. */
struct walk {
	struct fetcher *f;
	long number;
	struct wb_etags *old, *now;
	struct wb_timeline *tl;
	struct visited seen;		/* the URLs asked */
	struct wb_jscan_spans page;	/* the events of the last page */
	struct wb_jscan_spans archived;	/* those of the archived one */
	const char *atext;		/* the archived text, once read */
	char url[2048];			/* of page k */
	size_t k;			/* the page asked, from 0 */
	size_t offset;			/* archived events before k */
	size_t bytes;			/* of the pages that came whole */
	int restarted;
};

/*
 * Back to the first page, asked without conditions (a 304 the archive
 * could not serve); the issue's ETag, just obtained, stays.
 */
static void
walk_restart(struct walk *w)
{
	w->old->npages = 0;
	w->now->npages = 0;
	wb_timeline_free(w->tl);
	w->atext = NULL;
	w->offset = 0;
	w->bytes = 0;
	w->k = 0;
	visited_free(&w->seen);
	timeline_url(w->f, w->number, 1, w->url, sizeof w->url);
}

/*
 * Whether page k may be asked: at most WB_GITHUB_MAX_PAGES pages, never
 * the same page twice. Returns 0, or -1 with the reason in why[whylen].
 */
static int
walk_may_ask(struct walk *w, char *why, size_t whylen)
{
	if (w->k >= WB_GITHUB_MAX_PAGES)
		return fail(why, whylen, "timeline of %ld has over %d pages",
		    w->number, WB_GITHUB_MAX_PAGES);
	if (visited_add(&w->seen, w->url))
		return fail(why, whylen, "timeline of %ld: page %zu links back "
		    "to a page already read", w->number, w->k);
	return 0;
}

/*
 * Page k came whole (a 200, in r->body, taken): its events join the
 * timeline. Returns how many, or -1 with the reason in why[whylen].
 */
static int
walk_take_new(struct walk *w, struct wb_github_result *r, char *why,
    size_t whylen)
{
	char what[128] = "";
	const char *text = wb_timeline_take(w->tl, r->body, r->len, &w->page,
	    what, sizeof what);

	if (text == NULL || w->page.n > WB_GITHUB_PER_PAGE)
		return fail(why, whylen, "timeline page %zu of %ld is not an "
		    "array of at most %d events%s%s", w->k + 1, w->number,
		    WB_GITHUB_PER_PAGE, what[0] ? ": " : "", what);
	if ((w->bytes += r->len) > WB_GITHUB_MAX_RECORD)
		return fail(why, whylen, "timeline of %ld is larger than %lu "
		    "bytes", w->number, WB_GITHUB_MAX_RECORD);
	wb_timeline_add(w->tl, text, w->page.v, w->page.n);
	return (int)w->page.n;
}

/*
 * The archived timeline, read once, usable only when the stored pages add
 * up to it (counts that do not would drop events); NULL if not.
 */
static const char *
walk_archived(struct walk *w)
{
	char what[128];
	size_t len;
	char *t;
	const char *text;

	if (w->atext != NULL)
		return w->atext;
	if ((t = wb_archive_slurp(w->f->cfg.data, w->number, "timeline.json",
	    &len)) == NULL)
		return NULL;
	text = wb_timeline_take(w->tl, t, len, &w->archived, what, sizeof what);
	if (text != NULL && w->archived.n == etags_events(w->old))
		w->atext = text;
	return w->atext;
}

/*
 * Page k is unchanged (a 304): its events are taken from the archived
 * timeline. Returns how many, or -1 when the archive cannot give them.
 */
static int
walk_take_stored(struct walk *w)
{
	int count = w->k < w->old->npages ? w->old->page[w->k].count : -1;

	if (count < 0 || walk_archived(w) == NULL ||
	    w->archived.n < w->offset + (size_t)count)
		return -1;
	wb_timeline_add(w->tl, w->atext, w->archived.v + w->offset,
	    (size_t)count);
	return count;
}

/*
 * After page k, of 'count' events, answered 'r': keep its ETag, then find
 * the next page. Returns 1 when there is one (w->url, w->k moved on to
 * it), 0 after the last, -1 with the reason in why[whylen].
 */
static int
walk_next(struct walk *w, const struct wb_github_result *r, int count,
    char *why, size_t whylen)
{
	if (w->k < w->old->npages)
		w->offset += (size_t)w->old->page[w->k].count;
	/* Without an ETag for every page, none is worth keeping. */
	if (r->etag[0] == '\0' || w->now->npages != w->k ||
	    wb_etags_add(w->now, r->etag, count) < 0)
		w->now->npages = 0;
	if (r->next[0] != '\0') {
		if (next_ours(w->f, w->number, r->next, why, whylen) < 0)
			return -1;
		snprintf(w->url, sizeof w->url, "%s", r->next);
	} else if (r->verdict == WB_GH_NOT_MODIFIED &&
	    (w->k + 1 < w->old->npages || count == WB_GITHUB_PER_PAGE))
		/* A 304 need not carry Link: the stored pages tell. */
		timeline_url(w->f, w->number, w->k + 2, w->url, sizeof w->url);
	else
		return 0;
	w->k++;
	return 1;
}

/*
 * Every timeline page, conditional on the stored ETags; a 304 page is
 * taken from the archived timeline, and *changed is set when any page was
 * not. The pages are kept as text in *tl (checked, not parsed). At most
 * WB_GITHUB_MAX_PAGES pages and WB_GITHUB_MAX_RECORD bytes, and never the
 * same page twice. Returns 0, 1 when gone, -1 on failure with the reason
 * in why[whylen] (*tl is then to be freed all the same).
 */
static int
get_timeline(struct fetcher *f, struct wb_record *rec, struct wb_etags *old,
    struct wb_etags *now, struct wb_timeline *tl, int *changed, char *why,
    size_t whylen)
{
	struct walk w = { .f = f, .number = rec->number, .old = old,
	    .now = now, .tl = tl };
	struct wb_github_result r;
	int rc, count;

	*changed = 0;
	timeline_url(f, rec->number, 1, w.url, sizeof w.url);
	for (;;) {
		if ((rc = walk_may_ask(&w, why, whylen)) < 0)
			break;
		switch (wb_github_get_text_or_die(f->gh, w.url,
		    w.k < old->npages ? old->page[w.k].etag : NULL, NULL,
		    &r)) {
		case WB_GH_OK:
			if ((count = walk_take_new(&w, &r, why, whylen)) < 0) {
				rc = -1;
				goto out;
			}
			*changed = 1;
			break;
		case WB_GH_NOT_MODIFIED:
			if ((count = walk_take_stored(&w)) >= 0)
				break;
			if (w.restarted++) {
				rc = fail(why, whylen, "timeline of %ld: 304 "
				    "without a usable archive", rec->number);
				goto out;
			}
			walk_restart(&w);
			continue;
		case WB_GH_GONE:
		case WB_GH_MOVED:
			rc = w.k == 0 ? gone(f, rec, &r, why, whylen) :
			    fail(why, whylen, "timeline page %zu of %ld "
			    "vanished", w.k + 1, rec->number);
			goto out;
		case WB_GH_FATAL:
			wb_die(WB_EXIT_USAGE, "%s", r.why);
		default:
			rc = fail(why, whylen, "unable to get the timeline of "
			    "%ld: %s", rec->number, r.why);
			goto out;
		}
		if ((rc = walk_next(&w, &r, count, why, whylen)) <= 0)
			break;
	}
out:
	visited_free(&w.seen);
	wb_jscan_spans_free(&w.page);
	wb_jscan_spans_free(&w.archived);
	return rc;
}

/*
 * Fetch one record: 0 with its issue in the record and its timeline in
 * *tl, 1 when it is gone (marked in the record), -1 on failure.
 */
static int
fetch(struct fetcher *f, struct wb_record *rec, struct wb_timeline *tl,
    char *why, size_t whylen)
{
	struct wb_etags old, now;
	jv issue = jv_invalid();
	int rc, stored = 0, changed = 0;

	wb_archive_load_etags(f->cfg.data, rec->number, &old);
	wb_etags_init(&now);
	rc = get_issue(f, rec, &old, &now, 0, &issue, &stored, why, whylen);
	if (rc == 0) {
		rc = get_timeline(f, rec, &old, &now, tl, &changed, why,
		    whylen);
		if (rc != 0)
			jv_free(issue);
	}
	/*
	 * The archived issue holds the private title and body of its last
	 * substitution, no longer the placeholder that calls for one: when
	 * the timeline changed, they may have too, so the issue is asked
	 * again in full to substitute afresh.
	 */
	if (rc == 0 && stored && changed &&
	    wb_json_true(issue, "__WEBCOMPAT_PRIVATE_ISSUE__")) {
		jv_free(issue);
		issue = jv_invalid();
		rc = get_issue(f, rec, &old, &now, 1, &issue, &stored, why,
		    whylen);
	}
	if (rc == 0) {
		/* Events are parsed only for an issue that needs them. */
		if (wb_github_placeholder(issue, f->cfg.private_titles)) {
			jv events = wb_timeline_to_jv(tl);

			issue = wb_github_substitute(issue, events,
			    f->cfg.private_titles, f->cfg.private_repo);
			jv_free(events);
		}
		wb_record_del(rec, "gone");
		wb_record_del(rec, "moved_to");
		wb_record_del(rec, "timeline");
		wb_record_set(rec, "issue", issue);
		wb_record_set(rec, "etags", wb_etags_to_jv(&now));
		f->fetched++;
	}
	wb_etags_free(&old);
	wb_etags_free(&now);
	return rc;
}

static int
print_timeline(void *tl, int (*put)(void *, const char *, size_t), void *arg)
{
	return wb_timeline_print(tl, put, arg);
}

static void
process(struct fetcher *f, struct wb_record *rec)
{
	struct wb_timeline tl;
	char why[640];
	const char *key;
	size_t size;
	int rc;

	wb_timeline_init(&tl);
	if ((rc = fetch(f, rec, &tl, why, sizeof why)) < 0) {
		wb_warn("%s; not emitted", why);
		f->failed++;
		goto out;
	}
	key = rc == 0 ? "timeline" : NULL;
	/*
	 * A line the next stage would refuse is not written: that would lose
	 * the record there, in silence, claim after claim.
	 */
	if (wb_record_size_with(rec, key, print_timeline, &tl, &size) < 0) {
		wb_warn("unable to print the record of %ld; not emitted",
		    rec->number);
		f->failed++;
		goto out;
	}
	if (size > f->max_line) {
		wb_warn("the record of %ld is %zu bytes, more than WB_MAX_LINE "
		    "(%zu) allows; not emitted", rec->number, size, f->max_line);
		f->failed++;
		goto out;
	}
	wb_record_put_with_or_die(stdout, rec, key, print_timeline, &tl);
	wb_record_flush_or_die(stdout);
	wb_metrics_note_success(WB_METRICS_FETCH);
out:
	wb_timeline_free(&tl);
}

int
main(int argc, char **argv)
{
	static struct fetcher f;
	struct wb_reader in;
	struct wb_record rec;
	char why[32];
	int first, status = WB_EXIT_OK;

	wb_cli_start("wb-fetch");
	first = wb_cli_no_options_or_die(argc, argv, USAGE, HELP);
	argc -= first, argv += first;
	for (int i = 0; i < argc; i++)
		if (wb_scan_number(argv[i], &rec.number, why, sizeof why) < 0)
			wb_die(WB_EXIT_USAGE, "not an issue number (%s): %s", why,
			    argv[i]);
	wb_config_load_or_die(&f.cfg);
	f.max_line = wb_reader_max_line_or_die();
	f.gh = wb_github_new_or_die(&f.cfg, "wb-fetch");

	if (argc > 0) {
		for (int i = 0; i < argc; i++) {
			wb_scan_number(argv[i], &rec.number, why, sizeof why);
			rec.value = jv_null();
			process(&f, &rec);
			wb_record_free(&rec);
		}
	} else {
		wb_reader_init_or_die(&in, 0);
		while (wb_reader_next_or_die(&in, &rec)) {
			process(&f, &rec);
			wb_record_free(&rec);
		}
		status = wb_reader_status(&in);
		wb_reader_free(&in);
	}
	wb_debug("%lu fetched, %lu gone, %lu failed; %lu requests, %lu not "
	    "modified", f.fetched, f.gone, f.failed, wb_github_requests(f.gh),
	    wb_github_not_modified(f.gh));
	wb_github_free(f.gh);
	if (f.failed > 0)
		status = WB_EXIT_TEMP;
	return wb_cli_end_or_die(status);
}
