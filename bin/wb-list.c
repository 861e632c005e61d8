/* wb-list — list the issues of the repository updated since a time.
 *
 * Reads GET /repos/{WB_REPO}/issues (all states, oldest update first, 100
 * per request), skips pull requests and writes {"number":N,"issue":{...}}
 * for each issue, so that wb-fetch needs only the timelines. Pages are
 * asked by time, not by number: each request starts from the newest
 * update the previous page reached, so that an issue edited during the
 * run, which moves to the end of the listing, cannot push another one
 * back onto a page already read. Where more than a page shares one
 * second, those pages go by number, and that second is read again when
 * one of its issues moved meanwhile (see list()). --resume starts from
 * where the previous complete --resume run began (or the newest
 * "updated_at" it saw, if older), kept in Redis: the periodic catch-up
 * for webhooks that never arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_github.h"
#include "wb_json.h"
#include "wb_record.h"
#include "wb_redis.h"
#include "wb_scan.h"

#define USAGE "wb-list --since ISO8601 | --all | --resume [--since ISO8601]"
#define HELP \
	"Write {\"number\":N,\"issue\":{...}} for every issue (not pull request)\n" \
	"updated since a time, oldest update first.\n" \
	"  -a, --all             every issue of the repository\n" \
	"  -r, --resume          since the last --resume run began\n" \
	"  -s, --since ISO8601   since this time, e.g. 2021-12-01T00:00:00Z\n" \
	"See wb-list(1).\n"

#define MAX_LIST_PAGES 100000
/*
 * The resume point stays this far behind the start of the run: what
 * GitHub's listing shows late, or a clock ahead of GitHub's, is listed
 * again next time rather than lost.
 */
#define RESUME_MARGIN 300
/* Passes over one second whose issues keep moving, before giving up. */
#define MAX_SECOND_PASSES 5

/* An item already written, so that an overlap of two pages is not. */
struct seen {
	long number;
	time_t updated;
};

/* A set of issue numbers, sorted when asked. */
struct numbers {
	long *v;
	size_t n, cap;
	int sorted;
};

/*
 * A second whose items filled a whole page, so that its pages went by
 * number: the items updated at 'since' or the second after.
 */
struct second {
	time_t since;
	struct numbers read;	/* listed there by its latest pass */
	struct numbers known;	/* listed there by any pass */
	int passes;
	int moved;		/* one of 'read' was listed since, updated */
	int given_up;
};

struct listing {
	unsigned long issues, pulls, bad, pages;
	time_t newest;		/* newest updated_at written, or -1 */
	time_t last;		/* newest updated_at of the page, or -1 */
	struct seen *seen;
	size_t nseen, cap;
	struct numbers here;	/* the current pass's items of [since, since+1] */
	int here_moved;
	struct second *seconds;
	size_t nseconds;
	int incomplete;		/* a second was given up */
};

static void
iso(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
has_key(jv obj, const char *key)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	int has = jv_is_valid(v);

	jv_free(v);
	return has;
}

static void *
grow(void *p, size_t *cap, size_t size)
{
	size_t n = *cap ? *cap * 2 : 256;

	if ((p = realloc(p, n * size)) == NULL)
		wb_diesys(WB_EXIT_TEMP, "unable to allocate");
	*cap = n;
	return p;
}

static void
numbers_add(struct numbers *s, long n)
{
	if (s->n == s->cap)
		s->v = grow(s->v, &s->cap, sizeof *s->v);
	s->v[s->n++] = n;
	s->sorted = 0;
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static int
numbers_has(struct numbers *s, long n)
{
	if (s->n == 0)
		return 0;
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof *s->v, cmp_long);
		s->sorted = 1;
	}
	return bsearch(&n, s->v, s->n, sizeof *s->v, cmp_long) != NULL;
}

/* 1 when (number, updated) was written already; else remembers it. */
static int
seen_before(struct listing *l, long number, time_t updated)
{
	for (size_t i = 0; i < l->nseen; i++)
		if (l->seen[i].number == number && l->seen[i].updated == updated)
			return 1;
	if (l->nseen == l->cap)
		l->seen = grow(l->seen, &l->cap, sizeof *l->seen);
	l->seen[l->nseen].number = number;
	l->seen[l->nseen++].updated = updated;
	return 0;
}

/* Forget the items older than 'since': no later page can hold them. */
static void
seen_prune(struct listing *l, time_t since)
{
	size_t k = 0;

	for (size_t i = 0; i < l->nseen; i++)
		if (l->seen[i].updated >= since)
			l->seen[k++] = l->seen[i];
	l->nseen = k;
}

/*
 * The number and update time of listed item 'i' (borrowed); -1 (reported
 * and counted) when it is not an issue with both.
 */
static int
item(struct listing *l, jv issue, int i, long *number, time_t *t)
{
	jv num = jv_get_kind(issue) == JV_KIND_OBJECT ?
	    jv_object_get(jv_copy(issue), jv_string("number")) : jv_invalid();
	const char *updated, *why;
	int ok = jv_get_kind(issue) == JV_KIND_OBJECT &&
	    wb_number_from_jv(num, number, &why) == 0 &&
	    (updated = wb_json_string(issue, "updated_at")) != NULL &&
	    wb_scan_iso8601(updated, t) == 0;

	jv_free(num);
	if (ok)
		return 0;
	wb_warn("listed item %d is not an issue with a number and an "
	    "updated_at; skipped", i + 1);
	l->bad++;
	return -1;
}

/* Write a listed issue (borrowed), or count a pull request. */
static void
put(struct listing *l, jv issue, long number, time_t t)
{
	struct wb_record rec = { .number = number };

	if (has_key(issue, "pull_request")) {
		l->pulls++;
		return;
	}
	if (t > l->newest)
		l->newest = t;
	rec.value = JV_OBJECT(jv_string("number"), jv_number(number),
	    jv_string("issue"), jv_copy(issue));
	wb_record_put(stdout, &rec);
	wb_record_free(&rec);
	l->issues++;
}

/* Page 'page' of the listing since 'since' (-1: all); *more if not last. */
static jv
fetch(struct wb_github *gh, const char *repo, time_t since, long page,
    struct listing *l, int *more)
{
	struct wb_github_result r;
	char url[2048], when[32];

	if (++l->pages > MAX_LIST_PAGES)
		wb_die(WB_EXIT_TEMP, "more than %d pages; stopped",
		    MAX_LIST_PAGES);
	iso(since, when, sizeof when);
	snprintf(url, sizeof url, "%s/repos/%s/issues?state=all&"
	    "sort=updated&direction=asc&per_page=%d%s%s", wb_github_base(gh),
	    repo, WB_GITHUB_PER_PAGE, since >= 0 ? "&since=" : "",
	    since >= 0 ? when : "");
	if (page > 1)
		snprintf(url + strlen(url), sizeof url - strlen(url),
		    "&page=%ld", page);
	switch (wb_github_get(gh, url, NULL, NULL, &r)) {
	case WB_GH_OK:
		if (jv_get_kind(r.value) != JV_KIND_ARRAY)
			wb_die(WB_EXIT_TEMP, "page %lu of the listing is not a "
			    "list", l->pages);
		*more = r.next[0] != '\0';
		return r.value;
	case WB_GH_GONE:
	case WB_GH_MOVED:
		wb_die(WB_EXIT_USAGE, "repository %s not found or moved "
		    "(HTTP %s): check WB_REPO", repo, r.why);
	case WB_GH_FATAL:
		wb_die(WB_EXIT_USAGE, "%s", r.why);
	default:
		jv_free(r.value);
		wb_die(WB_EXIT_TEMP, "unable to list page %lu: %s", l->pages,
		    r.why);
	}
}

/*
 * A page of the listing since 'since' (consumed): write what was not
 * written yet, note its newest update in l->last, the items of [since,
 * since+1] in l->here, and whether an item of a second's latest pass
 * shows up updated since.
 */
static void
take_page(struct listing *l, jv page, time_t since)
{
	int n = jv_array_length(jv_copy(page));

	l->last = -1;
	for (int i = 0; i < n; i++) {
		jv issue = jv_array_get(jv_copy(page), i);
		long number;
		time_t t;

		if (item(l, issue, i, &number, &t) == 0) {
			if (t > l->last)
				l->last = t;
			if (t <= since + 1)
				numbers_add(&l->here, number);
			else if (numbers_has(&l->here, number))
				l->here_moved = 1;
			for (size_t k = 0; k < l->nseconds; k++) {
				struct second *s = &l->seconds[k];

				if (t > s->since + 1 && !s->given_up &&
				    numbers_has(&s->read, number))
					s->moved = 1;
			}
			if (!seen_before(l, number, t))
				put(l, issue, number, t);
		}
		jv_free(issue);
	}
	jv_free(page);
	wb_flush(stdout);
}

/* The pages since 'since' just went by number: keep that pass. */
static void
keep_second(struct listing *l, time_t since)
{
	struct second *s = NULL;
	struct numbers tmp;

	for (size_t k = 0; k < l->nseconds && s == NULL; k++)
		if (l->seconds[k].since == since)
			s = &l->seconds[k];
	if (s == NULL) {
		struct second *p = realloc(l->seconds,
		    (l->nseconds + 1) * sizeof *p);

		if (p == NULL)
			wb_diesys(WB_EXIT_TEMP, "unable to allocate");
		l->seconds = p;
		s = &p[l->nseconds++];
		memset(s, 0, sizeof *s);
		s->since = since;
	}
	for (size_t k = 0; k < l->here.n; k++)
		numbers_add(&s->known, l->here.v[k]);
	tmp = s->read;
	s->read = l->here;
	l->here = tmp;
	l->here.n = 0;
	s->passes++;
	s->moved = l->here_moved;
	l->here_moved = 0;
}

/*
 * Read second 's' again, from its first page to the first item updated
 * later, and write what no pass listed. What is listed after it was
 * listed before, or changed during the run and is listed when the run
 * goes on from where it ended.
 */
static void
repass(struct wb_github *gh, const char *repo, struct listing *l,
    struct second *s)
{
	long page = 1;
	int more, past = 0;

	s->read.n = 0;
	s->passes++;
	do {
		jv items = fetch(gh, repo, s->since, page++, l, &more);
		int n = jv_array_length(jv_copy(items));

		for (int i = 0; i < n; i++) {
			jv issue = jv_array_get(jv_copy(items), i);
			long number;
			time_t t;

			if (item(l, issue, i, &number, &t) < 0) {
				/* Reported. */
			} else if (t > s->since + 1) {
				past = 1;
			} else {
				numbers_add(&s->read, number);
				if (!numbers_has(&s->known, number)) {
					numbers_add(&s->known, number);
					if (!seen_before(l, number, t))
						put(l, issue, number, t);
				}
			}
			jv_free(issue);
		}
		jv_free(items);
	} while (more && !past);
	wb_flush(stdout);
}

/*
 * Read again every second one of whose issues moved after its latest
 * pass read it (see list()); give up on one after MAX_SECOND_PASSES.
 * Returns 1 if any was read again.
 */
static int
repair(struct wb_github *gh, const char *repo, struct listing *l)
{
	char when[32];
	int again = 0;

	for (size_t k = 0; k < l->nseconds; k++) {
		struct second *s = &l->seconds[k];

		if (!s->moved || s->given_up)
			continue;
		s->moved = 0;
		if (s->passes >= MAX_SECOND_PASSES) {
			iso(s->since + 1, when, sizeof when);
			wb_warn("the issues updated at %s kept moving during %d "
			    "passes over them: some may be missed; this run is "
			    "incomplete", when, s->passes);
			s->given_up = 1;
			l->incomplete = 1;
			continue;
		}
		repass(gh, repo, l, s);
		again = 1;
	}
	return again;
}

static void
listing_free(struct listing *l)
{
	for (size_t k = 0; k < l->nseconds; k++) {
		free(l->seconds[k].read.v);
		free(l->seconds[k].known.v);
	}
	free(l->seconds);
	free(l->here.v);
	free(l->seen);
}

/*
 * Every page since 'since' (-1: all). Each request starts one second
 * before the newest update of the previous page (GitHub's "since" may be
 * inclusive or not; the overlap is not written twice): an issue updated
 * during the run moves to the end of the listing, past what is asked.
 *
 * Only when a whole page shares that second (a bulk label edit, milestone
 * move or transfer updates hundreds of issues at once) must the next
 * request ask for the following page number with the same "since", and
 * there an issue of that second updated during the run moves every later
 * one up one place: the first of the next page slips onto the page just
 * read, and its updated_at, still in that second, is behind every later
 * "since". Such a move is seen, because the moved issue is listed again
 * at its new time: it was updated after its second's pass began, so it
 * is at the end of the listing, which the run reads to its last page.
 * So the second is read again only then (an ordinary run spends no more
 * requests), from page 1, writing what no pass listed; and since a pass
 * can be shifted too, the run then goes on from where it ended, to see
 * whether an issue that pass read has moved during it. A second only
 * loses issues (none can be updated into the past), so this ends; after
 * MAX_SECOND_PASSES it is given up, the run goes on, and ends with 111.
 * (This relies on GitHub keeping the order of equal times from one
 * request to the next, as page numbers themselves do.)
 */
static void
list(struct wb_github *gh, const char *repo, time_t since, struct listing *l)
{
	long page = 1;
	int more, past;

	for (;;) {
		take_page(l, fetch(gh, repo, since, page, l, &more), since);
		past = l->last - 1 > since;
		if (past || !more) {
			if (page > 1)
				keep_second(l, since);
			l->here.n = 0;
			l->here_moved = 0;
		}
		if (past) {
			since = l->last - 1;
			page = 1;
			seen_prune(l, since);
		} else
			page++;
		if (!more) {
			if (!repair(gh, repo, l))
				return;
			page = 1;
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "resume", no_argument, NULL, 'r' },
		{ "since", required_argument, NULL, 's' },
		WB_CLI_LONGOPTS
	};
	static struct listing l = { .newest = -1 };
	const char *since = NULL;
	struct wb_config cfg;
	struct wb_github *gh;
	redisContext *redis = NULL;
	redisReply *reply;
	char key[256], stored[32] = "", point[32];
	time_t start = time(NULL), from = -1, to;
	int ch, all = 0, resume = 0;

	wb_cli_start("wb-list");
	while ((ch = getopt_long(argc, argv, "ahrs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'h':
			wb_cli_help(USAGE, HELP);
		case 'r':
			resume = 1;
			break;
		case 's':
			if (wb_scan_iso8601(optarg, &from) < 0)
				wb_die(WB_EXIT_USAGE, "--since is not "
				    "YYYY-MM-DDTHH:MM:SSZ: %s", optarg);
			since = optarg;
			break;
		case 'V':
			wb_cli_version();
		default:
			wb_dieusage(USAGE);
		}
	}
	if (optind != argc || all + resume + (since != NULL) == 0 ||
	    (all && (resume || since != NULL)))
		wb_dieusage(USAGE);
	wb_config_load(&cfg);
	gh = wb_github_new(&cfg, "wb-list");
	snprintf(key, sizeof key, "wb:list:{%s}:since", cfg.repo);
	if (resume) {
		redis = wb_redis_connect(cfg.redis);
		reply = wb_redis_check(redis, redisCommand(redis, "GET %s", key),
		    "read the resume point");
		if (reply->type == REDIS_REPLY_STRING) {
			if (reply->len >= sizeof stored ||
			    wb_scan_iso8601(reply->str, &from) < 0)
				wb_die(WB_EXIT_USAGE, "%s holds no time: fix or "
				    "delete it", key);
			memcpy(stored, reply->str, reply->len + 1);
			since = stored;
		} else if (since == NULL)
			wb_die(WB_EXIT_USAGE, "no resume point in %s yet: give "
			    "--since for the first run", key);
		freeReplyObject(reply);
	}

	list(gh, cfg.repo, from, &l);
	wb_flush(stdout);
	wb_debug("%lu issues, %lu pull requests skipped, %lu bad; %lu requests; "
	    "%zu seconds listed by page number", l.issues, l.pulls, l.bad,
	    wb_github_requests(gh), l.nseconds);
	/*
	 * Only a complete run moves the resume point, and only forward: to
	 * the newest update it saw, or, when that is later, to shortly before
	 * the run began, so that what changed during the run is listed again.
	 */
	to = l.newest < start - RESUME_MARGIN ? l.newest : start - RESUME_MARGIN;
	if (resume && l.bad == 0 && !l.incomplete && l.newest >= 0 &&
	    to > from) {
		iso(to, point, sizeof point);
		reply = wb_redis_check(redis, redisCommand(redis, "SET %s %s",
		    key, point), "store the resume point");
		freeReplyObject(reply);
	}
	listing_free(&l);
	if (redis != NULL)
		redisFree(redis);
	wb_github_free(gh);
	return wb_cli_end(l.incomplete ? WB_EXIT_TEMP :
	    l.bad > 0 ? WB_EXIT_REJECTED : WB_EXIT_OK);
}
