/* SPDX-License-Identifier: MPL-2.0 */
/* wb-list — list the issues of the repository updated since a time.
 *
 * Reads GET /repos/{WB_REPO}/issues (all states, oldest update first, 100
 * per request), skips pull requests and writes {"number":N,"issue":{...}}
 * for each issue, so that wb-fetch needs only the timelines. Pages are
 * asked by time, not by number: each request starts from the newest
 * update the previous page reached, so that an issue edited during the
 * run, which moves to the end of the listing, cannot push another one
 * back onto a page already read. Where more than a page shares one
 * second, those pages go by number, and that second is read again until
 * a pass over it is known to have missed nothing (see list()). --resume
 * starts from where the previous complete --resume run began (or the
 * newest "updated_at" it saw, if older), kept in Redis: the periodic
 * catch-up for webhooks that never arrived. With --queue it adds the
 * numbers to a queue itself, and a --resume run then moves the resume
 * point after every page whose numbers are queued, so that a backfill
 * stopped by any means goes on where it stopped.
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
#include "wb_queue.h"
#include "wb_record.h"
#include "wb_redis.h"
#include "wb_scan.h"
#include "wb_xalloc.h"

#define USAGE "wb-list [--queue QUEUE] --since ISO8601 | --all | " \
	"--resume [--since ISO8601 | --all]"
#define HELP \
	"Write {\"number\":N,\"issue\":{...}} for every issue (not pull request)\n" \
	"updated since a time, oldest update first.\n" \
	"  -a, --all             every issue of the repository (with --resume:\n" \
	"                        the first run, a backfill)\n" \
	"  -q, --queue QUEUE     add the numbers to QUEUE instead of writing\n" \
	"                        records; --resume then keeps its place per page\n" \
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

/* The resume point, kept in Redis, and the queue fed with --queue. */
struct place {
	struct wb_queue q;	/* its connection, when q.c != NULL */
	const char *queue;	/* --queue, or NULL: records on stdout */
	const char *key;	/* the resume point's key, or NULL */
	time_t point;		/* the point stored, or -1 */
	time_t ceiling;		/* never beyond: the run's start - margin */
	long batch[WB_QUEUE_BATCH_MAX];
	size_t n;
};

struct listing {
	struct place *place;
	unsigned long issues, pulls, bad, pages;
	time_t newest;		/* newest updated_at written, or -1 */
	time_t last;		/* newest updated_at of the page, or -1 */
	struct seen *seen;
	size_t nseen, cap;
	struct numbers here;	/* what the pages since 'since' listed of
				   [since, since+1] */
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

static void
numbers_add(struct numbers *s, long n)
{
	s->v = wb_xgrow(s->v, s->n, &s->cap, sizeof *s->v);
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

/* 1 when every number of 'a' is in 'b'. */
static int
numbers_within(struct numbers *a, struct numbers *b)
{
	for (size_t i = 0; i < a->n; i++)
		if (!numbers_has(b, a->v[i]))
			return 0;
	return 1;
}

/* 1 when (number, updated) was written already; else remembers it. */
static int
seen_before(struct listing *l, long number, time_t updated)
{
	for (size_t i = 0; i < l->nseen; i++)
		if (l->seen[i].number == number && l->seen[i].updated == updated)
			return 1;
	l->seen = wb_xgrow(l->seen, l->nseen, &l->cap, sizeof *l->seen);
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
	const char *updated;
	char why[128];
	int ok = jv_get_kind(issue) == JV_KIND_OBJECT &&
	    wb_record_number(num, number, why, sizeof why) == 0 &&
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

/* Queue the numbers put so far; exits 111 unless they are queued. */
static void
queue_flush(struct place *p)
{
	char why[512];

	if (p->n == 0)
		return;
	wb_queue_append_push(&p->q, p->queue, p->batch, p->n);
	if (wb_queue_push_reply(&p->q, why, sizeof why) < 0)
		wb_die(WB_EXIT_TEMP, "unable to queue into %s: %s", p->queue,
		    why);
	p->n = 0;
}

/* What was listed is out: flushed to stdout, or queued. */
static void
listing_flush(struct listing *l)
{
	if (l->place->queue != NULL)
		queue_flush(l->place);
	else
		wb_record_flush_or_die(stdout);
}

/*
 * Move the resume point forward to 't' (no further than the ceiling);
 * exits 111 if Redis fails.
 */
static void
point_store(struct place *p, time_t t)
{
	redisReply *reply;
	char when[32];

	if (t > p->ceiling)
		t = p->ceiling;
	if (t <= p->point)
		return;
	iso(t, when, sizeof when);
	reply = wb_redis_check_or_die(p->q.c, redisCommand(p->q.c, "SET %s %s",
	    p->key, when), "store the resume point");
	freeReplyObject(reply);
	p->point = t;
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
	l->issues++;
	if (l->place->queue != NULL) {
		if (l->place->n == WB_QUEUE_BATCH_MAX)
			queue_flush(l->place);
		l->place->batch[l->place->n++] = number;
		return;
	}
	rec.value = JV_OBJECT(jv_string("number"), jv_number(number),
	    jv_string("issue"), jv_copy(issue));
	wb_record_put_or_die(stdout, &rec);
	wb_record_free(&rec);
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
	switch (wb_github_get_or_die(gh, url, NULL, NULL, &r)) {
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
 * written yet, note its newest update in l->last and its items of
 * [since, since+1] in l->here.
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
			if (!seen_before(l, number, t))
				put(l, issue, number, t);
		}
		jv_free(issue);
	}
	jv_free(page);
	listing_flush(l);
}

/*
 * Read the items of [since, since+1] again, from the first page since
 * 'since' to the first item updated later, into 'pass'; write those not
 * written yet. Later items are left to the listing, which goes on from
 * the newest of them it has read: they were listed there, or were
 * updated since, and are at its end.
 */
static void
reread(struct wb_github *gh, const char *repo, time_t since,
    struct listing *l, struct numbers *pass)
{
	long page = 1;
	int more, past = 0;

	pass->n = 0;
	do {
		jv items = fetch(gh, repo, since, page++, l, &more);
		int n = jv_array_length(jv_copy(items));

		for (int i = 0; i < n; i++) {
			jv issue = jv_array_get(jv_copy(items), i);
			long number;
			time_t t;

			if (item(l, issue, i, &number, &t) < 0) {
				/* Reported. */
			} else if (t > since + 1) {
				past = 1;
			} else {
				numbers_add(pass, number);
				if (!seen_before(l, number, t))
					put(l, issue, number, t);
			}
			jv_free(issue);
		}
		jv_free(items);
	} while (more && !past);
	listing_flush(l);
}

/*
 * The pages since 'since' went by number, and l->here holds what they
 * listed of [since, since+1]. Read those again until a pass is known to
 * have missed nothing: when every item it listed is listed by the next
 * one too (see list()). Gives up after MAX_SECOND_PASSES passes.
 */
static void
settle(struct wb_github *gh, const char *repo, time_t since,
    struct listing *l)
{
	struct numbers prev = l->here, pass = { 0 }, tmp;
	char when[32];
	int passes = 1;

	for (;;) {
		if (passes == MAX_SECOND_PASSES) {
			iso(since + 1, when, sizeof when);
			wb_warn("the issues updated at %s kept moving during %d "
			    "passes over them: some may be missed; this run is "
			    "incomplete", when, passes);
			l->incomplete = 1;
			break;
		}
		reread(gh, repo, since, l, &pass);
		passes++;
		if (numbers_within(&prev, &pass))
			break;
		tmp = prev;
		prev = pass;
		pass = tmp;
	}
	free(pass.v);
	l->here = prev;
	l->here.n = 0;
}

static void
listing_free(struct listing *l)
{
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
 * request ask for the following page number with the same "since". There
 * an issue of that second that leaves its place (it is updated, so moves
 * to the end, or is transferred or deleted) moves every later one up one
 * place: the first of the next page slips onto the page just read, and
 * its updated_at, still in that second, is behind every later "since".
 * So that second is read again from its first page, and what no pass
 * listed is written, until a pass is known to have missed nothing: when
 * every item it listed is still there for the next pass. Indeed, the
 * first slip of a pass needs an item it had already listed to leave
 * (until then, the items before the next page are exactly those it
 * listed), and an item that left a past second cannot come back (updates
 * go forward in time). When nothing moves, the second pass shows it: a
 * second of more than a page costs its pages twice, and a run without
 * one no request more. A second that keeps moving is given up after
 * MAX_SECOND_PASSES: the run goes on and ends with 111.
 *
 * Waiting to see a moved issue listed again at its new time would spare
 * the second pass, but a transferred or deleted issue is never listed
 * again. An issue updated into the very second being read is updated
 * during the run, and the next --resume lists it, as any such. This
 * relies on GitHub keeping the order of equal times from one request to
 * the next, as paging by number itself does.
 */
static void
list(struct wb_github *gh, const char *repo, time_t since, struct listing *l)
{
	long page = 1;
	int more, past;

	do {
		take_page(l, fetch(gh, repo, since, page, l, &more), since);
		past = l->last - 1 > since;
		if ((past || !more) && page > 1)
			settle(gh, repo, since, l);
		if (past) {
			since = l->last - 1;
			page = 1;
			/*
			 * Every issue updated before 'since' is listed, and
			 * with --queue queued: a run stopped from here on
			 * goes on from here.
			 */
			if (l->place->queue != NULL && l->place->key != NULL &&
			    l->bad == 0 && !l->incomplete)
				point_store(l->place, since);
			seen_prune(l, since);
			l->here.n = 0;
		} else
			page++;
	} while (more);
}

/*
 * Read the resume point of p->key into p->point. With none yet, the
 * first run's starting point 'first' (0, the epoch, for --all; -1: none
 * given, exits 100) is stored at once, so that a run stopped before its
 * first page is done goes on from there: a backfill stays one, whatever
 * the archive holds by then.
 */
static void
point_load(struct place *p, time_t first)
{
	char when[32];

	redisReply *reply;

	reply = wb_redis_check_or_die(p->q.c, redisCommand(p->q.c, "GET %s", p->key),
	    "read the resume point");
	if (reply->type == REDIS_REPLY_STRING) {
		if (reply->len >= 32 || wb_scan_iso8601(reply->str,
		    &p->point) < 0)
			wb_die(WB_EXIT_USAGE, "%s holds no time: fix or delete it",
			    p->key);
	}
	freeReplyObject(reply);
	if (p->point >= 0)
		return;
	if (first < 0)
		wb_die(WB_EXIT_USAGE, "no resume point in %s yet: give --since "
		    "or --all for the first run", p->key);
	iso(first, when, sizeof when);
	reply = wb_redis_check_or_die(p->q.c, redisCommand(p->q.c, "SET %s %s NX",
	    p->key, when), "store the resume point");
	freeReplyObject(reply);
	p->point = first;
	if (first == 0)
		wb_info("no resume point in %s yet: listing every issue "
		    "(a backfill)", p->key);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "queue", required_argument, NULL, 'q' },
		{ "resume", no_argument, NULL, 'r' },
		{ "since", required_argument, NULL, 's' },
		WB_CLI_LONGOPTS
	};
	static struct place p = { .point = -1 };
	static struct listing l = { .place = &p, .newest = -1 };
	struct wb_config cfg;
	struct wb_github *gh;
	char key[256];
	time_t start = time(NULL), from = -1;
	int ch, all = 0, resume = 0, since = 0;

	wb_cli_start("wb-list");
	while ((ch = getopt_long(argc, argv, "ahq:rs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'q':
			wb_scan_queue_name_or_die(optarg);
			p.queue = optarg;
			break;
		case 'r':
			resume = 1;
			break;
		case 's':
			if (wb_scan_iso8601(optarg, &from) < 0)
				wb_die(WB_EXIT_USAGE, "--since is not "
				    "YYYY-MM-DDTHH:MM:SSZ: %s", optarg);
			since = 1;
			break;
		default:
			wb_cli_option(ch, USAGE, HELP);
		}
	}
	if (optind != argc || all + resume + since == 0 || all + since > 1)
		wb_dieusage(USAGE);
	wb_config_load_or_die(&cfg);
	gh = wb_github_new_or_die(&cfg, "wb-list");
	snprintf(key, sizeof key, "wb:list:{%s}:since", cfg.repo);
	if (resume || p.queue != NULL)
		wb_queue_connect_or_die(&p.q, cfg.redis);
	if (resume) {
		p.key = key;
		p.ceiling = start - RESUME_MARGIN;
		point_load(&p, all ? 0 : from);
		from = p.point;
	}

	list(gh, cfg.repo, from, &l);
	listing_flush(&l);
	wb_debug("%lu issues, %lu pull requests skipped, %lu bad; %lu requests",
	    l.issues, l.pulls, l.bad, wb_github_requests(gh));
	/*
	 * Only a complete run moves the resume point (or, with --queue, a
	 * run past a page), and only forward: to the newest update it saw,
	 * or, when that is later, to shortly before the run began, so that
	 * what changed during the run is listed again.
	 */
	if (resume && l.bad == 0 && !l.incomplete && l.newest >= 0)
		point_store(&p, l.newest);
	if (p.queue != NULL)
		wb_info("%lu queued into %s", l.issues, p.queue);
	listing_free(&l);
	if (p.q.c != NULL)
		wb_queue_close(&p.q);
	wb_github_free(gh);
	return wb_cli_end_or_die(l.incomplete ? WB_EXIT_TEMP :
	    l.bad > 0 ? WB_EXIT_REJECTED : WB_EXIT_OK);
}
