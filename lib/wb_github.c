/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the GitHub REST client: decisions, then the requests that use them. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "wb_err.h"
#include "wb_github.h"
#include "wb_http.h"
#include "wb_jscan.h"
#include "wb_json.h"
#include "wb_metrics.h"
#include "wb_pipe.h"
#include "wb_scan.h"
#include "wb_xalloc.h"

#ifndef WB_VERSION
#define WB_VERSION "0.0.0"
#endif

/*============================ Decisions ============================*/

/* RFC 9110 token characters. */
static size_t
token_span(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789!#$%&'*+-.^_`|~");
}

/*
 * A link-param value at *pp (token or quoted-string, RFC 8288) into
 * val[len], unescaped; *pp moves past it. Returns 0, 1 when it did not
 * fit (val holds its beginning), -1 when malformed.
 */
static int
param_value(const char **pp, char *val, size_t len)
{
	const char *p = *pp;
	size_t n = 0;
	int over = 0;

	if (*p != '"') {
		size_t t = token_span(p);

		if (t == 0)
			return -1;
		over = t >= len;
		n = over ? len - 1 : t;
		memcpy(val, p, n);
		val[n] = '\0';
		*pp = p + t;
		return over;
	}
	for (p++; *p != '"'; p++) {
		if (*p == '\\')
			p++;
		if (*p == '\0')
			return -1;
		if (n + 1 < len)
			val[n++] = *p;
		else
			over = 1;
	}
	val[n] = '\0';
	*pp = p + 1;
	return over;
}

/* 1 when the space-separated relation types in 'rel' include "next". */
static int
rel_has_next(const char *rel)
{
	while (*rel != '\0') {
		size_t n = strcspn(rel, " \t");

		if (n == 4 && strncasecmp(rel, "next", 4) == 0)
			return 1;
		rel += n;
		rel += strspn(rel, " \t");
	}
	return 0;
}

int
wb_github_link_next(const char *link, char *url, size_t len)
{
	const char *p = link;

	if (link == NULL)
		return 0;
	/* Link = #link-value; link-value = "<" URI ">" *(OWS ";" OWS param) */
	for (;;) {
		const char *u, *ue;
		int next = 0, seen_rel = 0;

		p += strspn(p, " \t,");
		if (*p == '\0')
			return 0;
		if (*p != '<' || (ue = strchr(p + 1, '>')) == NULL)
			return -1;
		u = p + 1;
		p = ue + 1;
		for (;;) {
			char val[256];
			const char *name;
			size_t nlen;
			int over = 0;

			p += strspn(p, " \t");
			if (*p != ';')
				break;
			p++;
			p += strspn(p, " \t");
			name = p;
			if ((nlen = token_span(p)) == 0)
				return -1;
			p += nlen;
			p += strspn(p, " \t");
			val[0] = '\0';
			if (*p == '=') {
				p++;
				p += strspn(p, " \t");
				if ((over = param_value(&p, val, sizeof val)) < 0)
					return -1;
			}
			/* Only the first rel counts (RFC 8288, 3.3). */
			if (nlen == 3 && strncasecmp(name, "rel", 3) == 0 &&
			    !seen_rel++) {
				if (over)
					return -1;
				next = rel_has_next(val);
			}
		}
		if (*p != ',' && *p != '\0')
			return -1;
		if (next) {
			size_t ulen = (size_t)(ue - u);

			if (ulen == 0 || ulen >= len)
				return -1;
			memcpy(url, u, ulen);
			url[ulen] = '\0';
			return 1;
		}
	}
}

int
wb_github_url_under(const char *base, const char *url)
{
	size_t n = strlen(base);

	if (n == 0 || strncmp(url, base, n) != 0)
		return 0;
	return url[n] == '\0' || url[n] == '/' || url[n] == '?';
}

static size_t
name_span(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-");
}

int
wb_github_repo_ok(const char *s)
{
	size_t a = name_span(s), b;

	if (a == 0 || a > 100 || s[a] != '/' || strncmp(s, ".", a) == 0 ||
	    strncmp(s, "..", a) == 0)
		return 0;
	b = name_span(s + a + 1);
	return b > 0 && b <= 100 && s[a + 1 + b] == '\0' &&
	    strcmp(s + a + 1, ".") != 0 && strcmp(s + a + 1, "..") != 0;
}

/* "O/N#M" from "O/N" and the text of a number, checked. */
static int
format_moved(const char *repo, size_t rlen, const char *num, size_t nlen,
    char *moved, size_t len)
{
	unsigned long long m;
	char r[256];

	if (rlen >= sizeof r)
		return 0;
	memcpy(r, repo, rlen);
	r[rlen] = '\0';
	if (!wb_github_repo_ok(r) ||
	    wb_scan_uint(num, nlen, 1, WB_NUMBER_MAX, &m, NULL, 0) < 0)
		return 0;
	return snprintf(moved, len, "%s#%llu", r, m) < (int)len;
}

long long
wb_github_location_repo_id(const char *base, const char *location)
{
	unsigned long long id;
	const char *p;
	size_t n;

	if (!wb_github_url_under(base, location))
		return 0;
	p = location + strlen(base);
	if (strncmp(p, "/repositories/", 14) != 0)
		return 0;
	p += 14;
	n = strcspn(p, "/?#");
	if (wb_scan_uint(p, n, 1, 1ULL << 53, &id, NULL, 0) < 0)
		return 0;
	return (long long)id;
}

int
wb_github_issue_url(const char *base, const char *url, const char *repo,
    long long repo_id, long number, const char *tail)
{
	unsigned long long n;
	const char *p;
	size_t k, rlen = strlen(repo), tlen = strlen(tail);
	int how;

	if (!wb_github_url_under(base, url))
		return 0;
	p = url + strlen(base);
	if (strncmp(p, "/repos/", 7) == 0) {
		p += 7;
		if (rlen == 0 || strncasecmp(p, repo, rlen) != 0 || p[rlen] != '/')
			return 0;
		p += rlen;
		how = 1;
	} else {
		long long id = wb_github_location_repo_id(base, url);

		if (id == 0)
			return 0;
		if (repo_id != 0 && id != repo_id)
			return 0;
		p += 14 + strcspn(p + 14, "/?#");
		how = repo_id == 0 ? 2 : 1;
	}
	if (strncmp(p, "/issues/", 8) != 0)
		return 0;
	p += 8;
	k = strspn(p, "0123456789");
	if (wb_scan_uint(p, k, 1, WB_NUMBER_MAX, &n, NULL, 0) < 0 ||
	    (long)n != number)
		return 0;
	p += k;
	if (strncmp(p, tail, tlen) != 0 || (p[tlen] != '\0' && p[tlen] != '?'))
		return 0;
	return how;
}

int
wb_github_issue_ours(const char *base, jv issue, const char *repo)
{
	const char *url = wb_json_string(issue, "repository_url");
	size_t n = strlen(base);

	return url != NULL && strncmp(url, base, n) == 0 &&
	    strncmp(url + n, "/repos/", 7) == 0 &&
	    strcasecmp(url + n + 7, repo) == 0;
}

int
wb_github_moved_from_issue(const char *base, jv issue, char *moved,
    size_t len)
{
	const char *url = wb_json_string(issue, "repository_url");
	double num;
	char text[16];

	if (url == NULL || !wb_github_url_under(base, url) ||
	    strncmp(url + strlen(base), "/repos/", 7) != 0 ||
	    wb_json_number(issue, "number", &num) < 0 || num != floor(num) ||
	    num < 1 || num > WB_NUMBER_MAX)
		return 0;
	url += strlen(base) + 7;
	snprintf(text, sizeof text, "%.0f", num);
	return format_moved(url, strlen(url), text, strlen(text), moved, len);
}

/* A header value as a non-negative integer; -1 when absent or bad. */
static long long
header_uint(const char *v)
{
	unsigned long long n;

	if (v == NULL ||
	    wb_scan_uint(v, strlen(v), 0, 1ULL << 40, &n, NULL, 0) < 0)
		return -1;
	return (long long)n;
}

void
wb_github_limit_update(struct wb_github_limit *l, const char *remaining,
    const char *reset)
{
	long long r = header_uint(remaining), t = header_uint(reset);

	if (r >= 0)
		l->remaining = r;
	if (t >= 0)
		l->reset = t;
}

long long
wb_github_limit_wait(const struct wb_github_limit *l, long long now)
{
	if (l->remaining != 0 || l->reset < 0 || l->reset <= now)
		return 0;
	return l->reset - now > 3600 ? 3600 : l->reset - now;
}

/* A message field of a GitHub error body mentions 'what'. */
static int
body_says(const char *body, size_t len, const char *what)
{
	size_t n = strlen(what);

	for (size_t i = 0; body != NULL && i + n <= len; i++)
		if (strncasecmp(body + i, what, n) == 0)
			return 1;
	return 0;
}

/* The short reason 's' into why[whylen]. */
static void
reason(char *why, size_t whylen, const char *s)
{
	snprintf(why, whylen, "%s", s);
}

enum wb_github_verdict
wb_github_decide(const struct wb_github_answer *a, long long now, jv *value,
    double *wait, char *why, size_t whylen)
{
	long long retry = header_uint(a->retry_after);
	long long reset = header_uint(a->reset);

	*wait = 0;
	reason(why, whylen, "");
	if (a->too_big) {
		reason(why, whylen, "answer larger than the limit");
		return WB_GH_FAIL;
	}
	if (a->transport_error) {
		reason(why, whylen, "no complete answer");
		return WB_GH_RETRY;
	}
	if (a->status >= 200 && a->status < 300) {
		jv v;

		if (a->len == 0 || a->len > WB_GITHUB_MAX_BODY) {
			reason(why, whylen, "empty answer");
			return WB_GH_RETRY;
		}
		if (a->raw) {
			struct wb_jscan_spans spans = { 0 };
			char bad[128];
			int ok = wb_jscan_array(a->body, a->len, &spans, bad,
			    sizeof bad) == 0;

			wb_jscan_spans_free(&spans);
			if (ok)
				return WB_GH_OK;
		}
		v = jv_parse_sized(a->body, (int)a->len);
		if (!jv_is_valid(v)) {
			jv_free(v);
			reason(why, whylen, "answer is not complete JSON");
			return WB_GH_RETRY;
		}
		if (a->raw)
			jv_free(v);
		else
			*value = v;
		return WB_GH_OK;
	}
	switch (a->status) {
	case 304:
		if (!a->conditional) {
			reason(why, whylen, "304 to an unconditional request");
			return WB_GH_RETRY;
		}
		return WB_GH_NOT_MODIFIED;
	case 301: case 302: case 307: case 308:
		reason(why, whylen, "moved");
		return WB_GH_MOVED;
	case 404: case 410:
		reason(why, whylen, a->status == 404 ? "not found" : "gone");
		return WB_GH_GONE;
	case 401:
		reason(why, whylen, "GitHub refused the credentials");
		return WB_GH_FATAL;
	case 403: case 429:
		if (header_uint(a->remaining) == 0) {
			reason(why, whylen, "primary rate limit");
			*wait = retry >= 0 ? (double)retry :
			    reset > now ? (double)(reset - now) :
			    reset >= 0 ? 1 : WB_GITHUB_SECONDARY_WAIT;
			if (*wait > 3600)
				*wait = 3600;
			return WB_GH_RATE_WAIT;
		}
		if (retry >= 0 || a->status == 429 ||
		    body_says(a->body, a->len, "secondary rate limit") ||
		    body_says(a->body, a->len, "abuse")) {
			reason(why, whylen, "secondary rate limit");
			*wait = retry >= 0 ? (double)retry : WB_GITHUB_SECONDARY_WAIT;
			if (*wait > 3600)
				*wait = 3600;
			return WB_GH_RATE_WAIT;
		}
		reason(why, whylen, "forbidden");
		return WB_GH_FAIL;
	}
	if (a->status >= 500 && a->status < 600) {
		reason(why, whylen, "server error");
		if (retry >= 0)
			*wait = retry > 3600 ? 3600 : (double)retry;
		return WB_GH_RETRY;
	}
	reason(why, whylen, "unexpected status");
	return WB_GH_FAIL;
}

double
wb_github_backoff(int attempt, double base, double jitter)
{
	double d = base;

	for (int i = 0; i < attempt && d < 60; i++)
		d *= 2;
	if (d > 60)
		d = 60;
	return d * (0.5 + 0.5 * jitter);
}

/* 1 when 'title' is one of the '|'-separated 'titles'. */
static int
title_listed(const char *title, const char *titles)
{
	size_t n = strlen(title);

	while (*titles != '\0') {
		size_t m = strcspn(titles, "|");

		if (m == n && strncmp(titles, title, n) == 0)
			return 1;
		titles += m + (titles[m] == '|');
	}
	return 0;
}

int
wb_github_placeholder(jv issue, const char *titles)
{
	const char *title = wb_json_string(issue, "title");

	return title != NULL && title_listed(title, titles);
}

jv
wb_github_substitute(jv issue, jv timeline, const char *titles,
    const char *private_repo)
{
	int n;

	if (!wb_github_placeholder(issue, titles) ||
	    jv_get_kind(timeline) != JV_KIND_ARRAY)
		return issue;
	n = jv_array_length(jv_copy(timeline));
	for (int i = 0; i < n; i++) {
		jv ev = jv_array_get(jv_copy(timeline), i);
		const char *kind = wb_json_string(ev, "event");
		const char *repo;
		jv src, stitle, sbody;

		if (kind == NULL || strcmp(kind, "cross-referenced") != 0) {
			jv_free(ev);
			continue;
		}
		src = wb_json_path(ev, "source.issue");
		jv rn = wb_json_path(src, "repository.name");
		repo = jv_get_kind(rn) == JV_KIND_STRING ? jv_string_value(rn) : NULL;
		if (repo == NULL || strcmp(repo, private_repo) != 0) {
			jv_free(rn);
			jv_free(src);
			jv_free(ev);
			continue;
		}
		jv_free(rn);
		stitle = jv_object_get(jv_copy(src), jv_string("title"));
		sbody = jv_object_get(src, jv_string("body"));
		jv_free(ev);
		if (jv_get_kind(stitle) != JV_KIND_STRING) {
			/* Not usable: the issue stays as it is. */
			jv_free(stitle);
			jv_free(sbody);
			return issue;
		}
		if (jv_get_kind(sbody) != JV_KIND_STRING &&
		    jv_get_kind(sbody) != JV_KIND_NULL) {
			jv_free(sbody);
			sbody = jv_null();
		}
		issue = jv_object_set(issue, jv_string("title"), stitle);
		issue = jv_object_set(issue, jv_string("body"), sbody);
		return jv_object_set(issue,
		    jv_string("__WEBCOMPAT_PRIVATE_ISSUE__"), jv_true());
	}
	return issue;
}

/*============================ Requests ============================*/

struct wb_github {
	struct wb_http *http;
	char base[512];
	char *auth;		/* "Authorization: Bearer ..." or NULL */
	struct wb_github_limit limit;
	double backoff;
	unsigned long requests, not_modified;
};

static double
knob_or_die(const char *name, double dflt, double min)
{
	const char *v = getenv(name);
	double d;

	if (v == NULL || *v == '\0')
		return dflt;
	if (wb_scan_seconds(v, &d) < 0 || d < min)
		wb_die(WB_EXIT_USAGE, "%s is not a number of seconds (at least "
		    "%g): %s", name, min, v);
	return d;
}

struct wb_github *
wb_github_new_or_die(const struct wb_config *cfg, const char *prog)
{
	struct wb_github *gh = wb_xcalloc(1, sizeof *gh);
	char ua[128];
	size_t n;

	n = strlen(cfg->github_api);
	while (n > 0 && cfg->github_api[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof gh->base ||
	    (strncmp(cfg->github_api, "https://", 8) != 0 &&
	    strncmp(cfg->github_api, "http://", 7) != 0))
		wb_die(WB_EXIT_USAGE, "WB_GITHUB_API is not an http(s) URL");
	memcpy(gh->base, cfg->github_api, n);
	gh->base[n] = '\0';
	if (!wb_github_repo_ok(cfg->repo))
		wb_die(WB_EXIT_USAGE, "WB_REPO is not owner/name: %s", cfg->repo);
	if (cfg->github_token != NULL) {
		if (strpbrk(cfg->github_token, "\r\n") != NULL)
			wb_die(WB_EXIT_USAGE, "the GitHub token holds a line break");
		if (asprintf(&gh->auth, "Authorization: Bearer %s",
		    cfg->github_token) < 0)
			wb_diesys(WB_EXIT_TEMP, "unable to allocate");
	}
	gh->backoff = knob_or_die("WB_FETCH_BACKOFF", 1, 0.001);
	snprintf(ua, sizeof ua, "%s/%s", prog, WB_VERSION);
	gh->http = wb_http_new(ua, (long)(knob_or_die("WB_FETCH_TIMEOUT", 60, 0.1) *
	    1000));
	if (gh->http == NULL)
		wb_die(WB_EXIT_TEMP, "unable to start the HTTP client");
	gh->limit.remaining = gh->limit.reset = -1;
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	return gh;
}

void
wb_github_free(struct wb_github *gh)
{
	if (gh == NULL)
		return;
	wb_http_free(gh->http);
	if (gh->auth != NULL) {
		memset(gh->auth, 0, strlen(gh->auth));
		free(gh->auth);
	}
	free(gh);
}

const char *
wb_github_base(const struct wb_github *gh)
{
	return gh->base;
}

unsigned long
wb_github_requests(const struct wb_github *gh)
{
	return gh->requests;
}

unsigned long
wb_github_not_modified(const struct wb_github *gh)
{
	return gh->not_modified;
}

/* Wait 'seconds'; a stage whose reader dies meanwhile exits at once. */
static void
pause_for_or_die(double seconds)
{
	if (seconds > 0 && wb_pipe_sleep((long long)(seconds * 1000 + 0.5)) < 0)
		wb_pipe_die();
}

/* Log a wait once, with the UTC time it ends, then wait. */
static void
wait_logged_or_die(const char *what, double seconds)
{
	time_t end = time(NULL) + (time_t)ceil(seconds);
	struct tm tm;
	char when[32];

	gmtime_r(&end, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	wb_info("GitHub %s reached; waiting until %s", what, when);
	pause_for_or_die(seconds);
}

/* 1 when header 'name' is there and fits buf[len] whole, else 0. */
static int
header(const struct wb_http_response *resp, const char *name, char *buf,
    size_t len)
{
	return wb_http_header(resp, name, buf, len) == 1;
}

/*
 * The URL of the next page into r->next, or "" on the last page. Returns
 * NULL, or why the Link header cannot be trusted: a next page that is
 * named but cannot be followed must not pass for the last page.
 */
static const char *
next_page(const struct wb_github *gh, const struct wb_http_response *resp,
    struct wb_github_result *r)
{
	char link[8192];
	int rc;

	r->next[0] = '\0';
	switch (wb_http_header(resp, "Link", link, sizeof link)) {
	case 0:
		return NULL;
	case 1:
		break;
	default:
		return "Link header too long";
	}
	rc = wb_github_link_next(link, r->next, sizeof r->next);
	if (rc < 0 || (rc == 1 && !wb_github_url_under(gh->base, r->next))) {
		r->next[0] = '\0';
		return rc < 0 ? "Link header malformed, or its next URL too long" :
		    "Link rel=\"next\" outside WB_GITHUB_API";
	}
	return NULL;
}

/*
 * The headers of a request into headers[6] (NULL-terminated), with a
 * condition in cond[len]: If-None-Match: 'etag', or else
 * If-Modified-Since: 'since', when usable. Returns 1 when conditional.
 */
static int
request_headers(const struct wb_github *gh, const char *etag,
    const char *since, char *cond, size_t len, const char *headers[6])
{
	int h = 0, conditional = 0;

	headers[h++] = "Accept: application/vnd.github+json";
	headers[h++] = "X-GitHub-Api-Version: 2022-11-28";
	if (gh->auth != NULL)
		headers[h++] = gh->auth;
	if (etag != NULL && wb_etags_ok(etag)) {
		snprintf(cond, len, "If-None-Match: %s", etag);
		headers[h++] = cond;
		conditional = 1;
	} else if (since != NULL && strpbrk(since, "\r\n") == NULL &&
	    strlen(since) < 40) {
		snprintf(cond, len, "If-Modified-Since: %s", since);
		headers[h++] = cond;
		conditional = 1;
	}
	headers[h] = NULL;
	return conditional;
}

/* One request and its answer, as wb_github_decide() reads it. */
struct exchange {
	struct wb_http_response resp;
	struct wb_github_answer a;
	char remaining[32], reset[32], retry[32];	/* a's header values */
};

/*
 * Send one GET (after the wait the rate limit asks, if any) and fill *x
 * from its answer; what it says of the rate limit is noted.
 */
static void
exchange_or_die(struct wb_github *gh, const char *url,
    const char *const *headers, int conditional, int raw, struct exchange *x)
{
	long long pause = wb_github_limit_wait(&gh->limit, time(NULL));
	struct wb_github_answer *a = &x->a;

	if (pause > 0) {
		wait_logged_or_die("rate limit", (double)pause);
		gh->limit.remaining = -1;
	}
	gh->requests++;
	*a = (struct wb_github_answer){ 0 };
	a->transport_error = wb_http_request(gh->http, "GET", url, headers,
	    NULL, 0, WB_GITHUB_MAX_BODY, &x->resp) < 0;
	if (x->resp.reader_gone)
		wb_pipe_die();
	a->too_big = x->resp.too_big;
	a->conditional = conditional;
	a->status = x->resp.status;
	a->body = x->resp.body;
	a->len = x->resp.len;
	a->raw = raw;
	if (header(&x->resp, "X-RateLimit-Remaining", x->remaining,
	    sizeof x->remaining))
		a->remaining = x->remaining;
	if (header(&x->resp, "X-RateLimit-Reset", x->reset, sizeof x->reset))
		a->reset = x->reset;
	if (header(&x->resp, "Retry-After", x->retry, sizeof x->retry))
		a->retry_after = x->retry;
	if (!a->transport_error)
		wb_github_limit_update(&gh->limit, a->remaining, a->reset);
	if (!a->transport_error && a->remaining != NULL)
		wb_metrics_note_ratelimit(gh->limit.remaining, gh->limit.reset);
}

/*
 * After verdict 'v' on the answer in *x: when it is a retry (within
 * WB_GITHUB_ATTEMPTS tries, counted in *attempt) or a rate-limit wait
 * (within WB_GITHUB_RATE_WAITS, in *waits), free the answer, wait (the
 * backoff, or 'wait' if longer), and return 1: ask again. Else 0.
 */
static int
again_or_die(struct wb_github *gh, const char *url, struct exchange *x,
    enum wb_github_verdict v, const char *why, double wait, int *attempt,
    int *waits)
{
	if (v == WB_GH_RETRY && ++*attempt < WB_GITHUB_ATTEMPTS) {
		double d = wb_github_backoff(*attempt - 1, gh->backoff,
		    (double)random() / ((double)RAND_MAX + 1));
		char where[512];

		if (wait > d)
			d = wait;
		/* resp.error already names the URL, redacted. */
		wb_http_redact(url, where, sizeof where);
		if (x->a.transport_error)
			wb_debug("%s; retrying in %.3fs", x->resp.error, d);
		else
			wb_debug("%s: %s; retrying in %.3fs", where, why, d);
		wb_http_response_free(&x->resp);
		pause_for_or_die(d);
		return 1;
	}
	if (v == WB_GH_RATE_WAIT && ++*waits <= WB_GITHUB_RATE_WAITS) {
		wb_http_response_free(&x->resp);
		wait_logged_or_die(why, wait);
		gh->limit.remaining = -1;
		return 1;
	}
	return 0;
}

/*
 * The final verdict of a request whose last answer was 'v' after 'tries'
 * tries (or waits): a retry or a wait that never ended becomes
 * WB_GH_FAIL, and r->why says why it fails.
 */
static enum wb_github_verdict
final_verdict(const struct exchange *x, enum wb_github_verdict v,
    const char *why, int tries, struct wb_github_result *r)
{
	if (v == WB_GH_RETRY || v == WB_GH_RATE_WAIT) {
		snprintf(r->why, sizeof r->why, "%.400s (after %d tries)",
		    x->a.transport_error ? x->resp.error : why, tries);
		v = WB_GH_FAIL;
	} else if ((v == WB_GH_FAIL || v == WB_GH_FATAL) && x->a.status)
		snprintf(r->why, sizeof r->why, "%s: HTTP %ld", why,
		    x->a.status);
	else if (v == WB_GH_FAIL || v == WB_GH_FATAL)
		snprintf(r->why, sizeof r->why, "%s", why);
	if (v == WB_GH_FAIL && x->a.too_big)
		snprintf(r->why, sizeof r->why, "answer larger than %lu bytes",
		    WB_GITHUB_MAX_BODY);
	return v;
}

/*
 * Fill *r from the last answer, in *x, of verdict 'v' and parsed body
 * 'value' (consumed): its ETag, next page and Location; with 'raw', its
 * body is taken over. Frees the answer; returns the verdict, WB_GH_FAIL
 * when a next page is named that cannot be followed.
 */
static enum wb_github_verdict
settle(const struct wb_github *gh, struct exchange *x,
    enum wb_github_verdict v, jv value, int raw, struct wb_github_result *r)
{
	const char *bad;

	if (v == WB_GH_OK || v == WB_GH_NOT_MODIFIED) {
		/* An ETag cut short would never match: none then. */
		if (!header(&x->resp, "ETag", r->etag, sizeof r->etag) ||
		    !wb_etags_ok(r->etag))
			r->etag[0] = '\0';
		if ((bad = next_page(gh, &x->resp, r)) != NULL) {
			jv_free(value);
			value = jv_null();
			snprintf(r->why, sizeof r->why, "%s", bad);
			v = WB_GH_FAIL;
		}
	}
	if (v == WB_GH_MOVED && !header(&x->resp, "Location", r->location,
	    sizeof r->location))
		r->location[0] = '\0';
	r->value = value;
	r->len = v == WB_GH_OK ? x->a.len : 0;
	r->verdict = v;
	if (raw && v == WB_GH_OK) {
		r->body = x->resp.body;	/* taken over */
		x->resp.body = NULL;
	}
	wb_http_response_free(&x->resp);
	return v;
}

static enum wb_github_verdict
get_or_die(struct wb_github *gh, const char *url, const char *etag,
    const char *since, int raw, struct wb_github_result *r)
{
	char cond[WB_ETAG_MAX + 32];
	const char *headers[6];
	int attempt = 0, waits = 0, conditional;

	memset(r, 0, sizeof *r);
	r->value = jv_null();
	if (!wb_github_url_under(gh->base, url)) {
		snprintf(r->why, sizeof r->why, "URL outside the API");
		return r->verdict = WB_GH_FAIL;
	}
	conditional = request_headers(gh, etag, since, cond, sizeof cond,
	    headers);
	for (;;) {
		struct exchange x;
		enum wb_github_verdict v;
		char why[128];
		double wait;
		jv value = jv_null();

		exchange_or_die(gh, url, headers, conditional, raw, &x);
		v = wb_github_decide(&x.a, time(NULL), &value, &wait, why,
		    sizeof why);
		if (again_or_die(gh, url, &x, v, why, wait, &attempt, &waits))
			continue;
		v = final_verdict(&x, v, why, v == WB_GH_RETRY ? attempt :
		    waits, r);
		if (v == WB_GH_NOT_MODIFIED)
			gh->not_modified++;
		return settle(gh, &x, v, value, raw, r);
	}
}

enum wb_github_verdict
wb_github_get_or_die(struct wb_github *gh, const char *url,
    const char *etag, const char *since, struct wb_github_result *r)
{
	return get_or_die(gh, url, etag, since, 0, r);
}

enum wb_github_verdict
wb_github_get_text_or_die(struct wb_github *gh, const char *url,
    const char *etag, const char *since, struct wb_github_result *r)
{
	return get_or_die(gh, url, etag, since, 1, r);
}
