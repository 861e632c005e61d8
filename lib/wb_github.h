/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the GitHub REST client: decisions, then the requests that use them.
 *
 * The first half decides from what an answer holds (status, a few header
 * values, the body) and from the time it is given: no I/O, no clock, no
 * randomness, so every rule is testable on its own. The second half sends
 * the requests, one at a time on one kept-alive connection, and applies
 * those decisions: retries with backoff, waits for the rate limit,
 * conditional requests.
 */
#ifndef WB_GITHUB_H
#define WB_GITHUB_H

#include <stddef.h>

#include <jv.h>

#include "wb_config.h"
#include "wb_etags.h"

#define WB_GITHUB_PER_PAGE 100
#define WB_GITHUB_MAX_BODY (32UL << 20)	/* bytes of one answer */
#define WB_GITHUB_MAX_PAGES 1000	/* pages of one listing */
#define WB_GITHUB_MAX_RECORD (256UL << 20)	/* bytes of all pages of one */
#define WB_GITHUB_ATTEMPTS 6		/* tries of one request */
#define WB_GITHUB_RATE_WAITS 20		/* rate-limit waits of one request */
#define WB_GITHUB_SECONDARY_WAIT 60	/* seconds, when GitHub says no more */

/* The ETags of an issue keep a page's count and as many pages. */
_Static_assert(WB_GITHUB_PER_PAGE == WB_ETAGS_PER_PAGE, "events per page");
_Static_assert(WB_GITHUB_MAX_PAGES == WB_ETAGS_MAX_PAGES, "pages");

/*============================ Decisions ============================*/

/*
 * From a Link header value (RFC 8288), copy the URL of the first link
 * whose rel lists "next" into url[len]. Returns 1 when there is one, 0
 * when there is none, -1 when the value is malformed or the URL does not
 * fit (a next page may then exist: not to be taken for the last one).
 */
int wb_github_link_next(const char *link, char *url, size_t len);

/* 1 when 'url' is 'base' itself or lies under it ('/' or '?' follows). */
int wb_github_url_under(const char *base, const char *url);

/* 1 when 's' is owner/name: two runs of [A-Za-z0-9._-] around one '/'. */
int wb_github_repo_ok(const char *s);

/*
 * The repository id of a 'location' under 'base' that points into
 * .../repositories/ID/ (where GitHub redirects a renamed repository).
 * Returns the id (1..2^53), or 0 for any other location.
 */
long long wb_github_location_repo_id(const char *base, const char *location);

/*
 * Whether 'url' names issue 'number' of this repository, then 'tail' (""
 * or "/timeline"), then nothing or a query: under 'base', by
 * /repos/OWNER/NAME ('repo', compared case-insensitively, as GitHub
 * does) or by /repositories/ID. Returns 1 when by that name, or by an ID
 * equal to 'repo_id'; 2 when by an ID while 'repo_id' is 0 (unknown: to
 * be learned, then asked again); 0 for anything else (never followed).
 */
int wb_github_issue_url(const char *base, const char *url, const char *repo,
    long long repo_id, long number, const char *tail);

/*
 * 1 when the repository_url of 'issue' (borrowed) is 'base'/repos/'repo'
 * (case-insensitively, as GitHub compares names), else 0.
 */
int wb_github_issue_ours(const char *base, jv issue, const char *repo);

/*
 * "owner/name#M" into moved[len] from an issue object's repository_url
 * (under 'base') and number (borrowed). Returns 1, or 0 if they are not
 * both present and valid.
 */
int wb_github_moved_from_issue(const char *base, jv issue, char *moved,
    size_t len);

/* What GitHub said about the rate limit: -1 where unknown. */
struct wb_github_limit {
	long long remaining;
	long long reset;	/* epoch seconds */
};

/*
 * Update 'l' from the X-RateLimit-Remaining and X-RateLimit-Reset values
 * of an answer (NULL when absent; invalid values are ignored).
 */
void wb_github_limit_update(struct wb_github_limit *l, const char *remaining,
    const char *reset);

/*
 * Seconds to wait before the next request at time 'now': 0 while budget
 * remains (or nothing is known), else until the reset, at most an hour.
 */
long long wb_github_limit_wait(const struct wb_github_limit *l, long long now);

enum wb_github_verdict {
	WB_GH_OK,		/* 2xx with a complete JSON body */
	WB_GH_NOT_MODIFIED,	/* 304: the stored copy is current */
	WB_GH_GONE,		/* 404, 410 */
	WB_GH_MOVED,		/* 301, 302, 307, 308 */
	WB_GH_RETRY,		/* transport error, 5xx, bad body: back off */
	WB_GH_RATE_WAIT,	/* a rate limit: wait *wait seconds, retry */
	WB_GH_FAIL,		/* fails for this request; no retry */
	WB_GH_FATAL		/* fails for every request (bad token) */
};

/* What arrived, as wb_github_decide() needs it. Strings may be NULL. */
struct wb_github_answer {
	int transport_error;	/* no complete answer arrived */
	int too_big;		/* the body was over the cap */
	int conditional;	/* If-None-Match or If-Modified-Since sent */
	long status;
	const char *remaining;	/* X-RateLimit-Remaining */
	const char *reset;	/* X-RateLimit-Reset */
	const char *retry_after;	/* Retry-After (seconds) */
	const char *body;
	size_t len;
	int raw;		/* the body is kept as text: see below */
};

/*
 * Decide what an answer means at time 'now'. For WB_GH_OK, *value gets
 * the parsed body (the caller owns it; a body that is not complete JSON
 * is WB_GH_RETRY instead); with a->raw, the body is not parsed but
 * checked: an array of objects (wb_jscan_array) or any other complete
 * JSON text (libjq: the caller then finds the shape wrong) is WB_GH_OK
 * with *value left as it was, anything else WB_GH_RETRY. For WB_GH_RATE_WAIT and WB_GH_RETRY, *wait is
 * the seconds the answer asks to wait (0 if it says nothing: back off).
 * why[whylen] gets a short reason for anything but WB_GH_OK and 304 (""
 * for those).
 * A 304 to a request that was not conditional is a bad answer: there is
 * no copy it could refer to (WB_GH_RETRY).
 */
enum wb_github_verdict wb_github_decide(const struct wb_github_answer *a,
    long long now, jv *value, double *wait, char *why, size_t whylen);

/*
 * Delay before retry number 'attempt' (0 for the first retry): 'base'
 * doubled per attempt, at most 60 s, scaled into [50%, 100%] by 'jitter'
 * in [0, 1).
 */
double wb_github_backoff(int attempt, double base, double jitter);

/*
 * The private substitution: when the title of 'issue' is exactly one of
 * 'titles' ('|'-separated), take title and body from the first
 * cross-referenced event of 'timeline' (borrowed) whose
 * source.issue.repository.name is 'private_repo' and add
 * "__WEBCOMPAT_PRIVATE_ISSUE__": true. Consumes 'issue'; returns it,
 * changed or not.
 */
jv wb_github_substitute(jv issue, jv timeline, const char *titles,
    const char *private_repo);

/* 1 when the title of 'issue' (borrowed) is one of 'titles'. */
int wb_github_placeholder(jv issue, const char *titles);

/*============================ Requests ============================*/

struct wb_github;

struct wb_github_result {
	enum wb_github_verdict verdict;	/* never RETRY nor RATE_WAIT */
	jv value;			/* WB_GH_OK: the body; else jv_null() */
	char *body;			/* wb_github_get_text_or_die, WB_GH_OK:
					   the body, NUL-terminated; free() */
	size_t len;			/* WB_GH_OK: bytes of the body */
	char etag[WB_ETAG_MAX];		/* the answer's ETag, "" if none */
	char next[2048];		/* Link rel="next" under the base, or "" */
	char location[2048];		/* Location of a redirect, or "" */
	char why[512];			/* for WB_GH_FAIL and WB_GH_FATAL */
};

/*
 * A client of the API at cfg->github_api for 'prog' (User-Agent
 * "prog/version"). Environment knobs: WB_FETCH_BACKOFF (first retry
 * delay in seconds, default 1), WB_FETCH_TIMEOUT (seconds per request,
 * default 60). A bad WB_GITHUB_API, WB_REPO or token, or a malformed
 * knob, exits 100; no HTTP client, 111. 'cfg' must outlive the client.
 */
struct wb_github *wb_github_new_or_die(const struct wb_config *cfg,
    const char *prog);
void wb_github_free(struct wb_github *gh);

/* The base URL, without a trailing '/'. */
const char *wb_github_base(const struct wb_github *gh);

/*
 * GET 'url' (which must lie under the base), with If-None-Match: 'etag'
 * or else If-Modified-Since: 'since' when non-NULL. Retries transport
 * errors, 5xx and bad bodies with backoff, waits out rate limits (logging
 * each wait once, with its end), then fills *r; free r->value. Returns
 * r->verdict. An answer whose Link header names a next page that cannot
 * be followed (malformed, cut short, too long, outside the base) is
 * WB_GH_FAIL: it must not pass for the last page. When the reader of
 * stdout dies during a wait, exits at once (wb_pipe_die): a stage.
 */
enum wb_github_verdict wb_github_get_or_die(struct wb_github *gh,
    const char *url, const char *etag, const char *since,
    struct wb_github_result *r);

/*
 * wb_github_get_or_die for a page of a list of objects, kept as text: for
 * WB_GH_OK, r->body holds the body (complete JSON; an array of objects
 * unless GitHub answered something else), r->value is jv_null().
 */
enum wb_github_verdict wb_github_get_text_or_die(struct wb_github *gh,
    const char *url, const char *etag, const char *since,
    struct wb_github_result *r);

/* Requests sent so far (each try counts), and those answered 304. */
unsigned long wb_github_requests(const struct wb_github *gh);
unsigned long wb_github_not_modified(const struct wb_github *gh);

#endif
