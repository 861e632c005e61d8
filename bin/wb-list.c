/* wb-list — list the issues of the repository updated since a time.
 *
 * Reads GET /repos/{WB_REPO}/issues (all states, oldest update first, 100
 * per request), skips pull requests and writes {"number":N,"issue":{...}}
 * for each issue, so that wb-fetch needs only the timelines. Pages are
 * asked by time, not by number: each request starts from the newest
 * update the previous page reached, so that an issue edited during the
 * run, which moves to the end of the listing, cannot push another one
 * back onto a page already read. --resume starts from where the previous
 * complete --resume run began (or the newest "updated_at" it saw, if
 * older), kept in Redis: the periodic catch-up for webhooks that never
 * arrived.
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

/* An item already written, so that an overlap of two pages is not. */
struct seen {
	long number;
	time_t updated;
};

struct listing {
	unsigned long issues, pulls, bad;
	time_t newest;		/* newest updated_at seen, or -1 */
	time_t last;		/* newest updated_at of the page, or -1 */
	struct seen *seen;
	size_t nseen, cap;
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

/* 1 when (number, updated) was written already; else remembers it. */
static int
seen_before(struct listing *l, long number, time_t updated)
{
	for (size_t i = 0; i < l->nseen; i++)
		if (l->seen[i].number == number && l->seen[i].updated == updated)
			return 1;
	if (l->nseen == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct seen *p = realloc(l->seen, cap * sizeof *p);

		if (p == NULL)
			wb_diesys(WB_EXIT_TEMP, "unable to allocate");
		l->seen = p;
		l->cap = cap;
	}
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

/* Emit the issues of one page; returns -1 if the page is not a list. */
static int
emit_page(struct listing *l, jv page)
{
	int n;

	l->last = -1;
	if (jv_get_kind(page) != JV_KIND_ARRAY)
		return -1;
	n = jv_array_length(jv_copy(page));
	for (int i = 0; i < n; i++) {
		jv issue = jv_array_get(jv_copy(page), i), num;
		struct wb_record rec;
		const char *updated, *why;
		time_t t;

		num = jv_get_kind(issue) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(issue), jv_string("number")) :
		    jv_invalid();
		if (jv_get_kind(issue) != JV_KIND_OBJECT ||
		    wb_number_from_jv(num, &rec.number, &why) < 0 ||
		    (updated = wb_json_string(issue, "updated_at")) == NULL ||
		    wb_scan_iso8601(updated, &t) < 0) {
			wb_warn("listed item %d is not an issue with a number and "
			    "an updated_at; skipped", i + 1);
			l->bad++;
		} else {
			if (t > l->last)
				l->last = t;
			if (seen_before(l, rec.number, t)) {
				/* Listed by the previous page too. */
			} else if (has_key(issue, "pull_request")) {
				l->pulls++;
			} else {
				if (t > l->newest)
					l->newest = t;
				rec.value = JV_OBJECT(jv_string("number"),
				    jv_number(rec.number), jv_string("issue"),
				    jv_copy(issue));
				wb_record_put(stdout, &rec);
				wb_record_free(&rec);
				l->issues++;
			}
		}
		jv_free(num);
		jv_free(issue);
	}
	jv_free(page);
	wb_flush(stdout);
	return 0;
}

/*
 * Every page since 'since' (-1: all). Each request starts one second
 * before the newest update of the previous page (GitHub's "since" may be
 * inclusive or not; the overlap is not written twice); only when a whole
 * page shares that second does the next one go by page number instead.
 */
static void
list(struct wb_github *gh, const char *repo, time_t since, struct listing *l)
{
	struct wb_github_result r;
	char url[2048], when[32];
	size_t pages = 0;
	long page = 1;

	do {
		if (++pages > MAX_LIST_PAGES)
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
			if (emit_page(l, r.value) < 0)
				wb_die(WB_EXIT_TEMP, "page %zu of the listing is "
				    "not a list", pages);
			break;
		case WB_GH_GONE:
		case WB_GH_MOVED:
			wb_die(WB_EXIT_USAGE, "repository %s not found or moved "
			    "(HTTP %s): check WB_REPO", repo, r.why);
		case WB_GH_FATAL:
			wb_die(WB_EXIT_USAGE, "%s", r.why);
		default:
			jv_free(r.value);
			wb_die(WB_EXIT_TEMP, "unable to list page %zu: %s", pages,
			    r.why);
		}
		if (l->last - 1 > since) {
			since = l->last - 1;
			page = 1;
			seen_prune(l, since);
		} else
			page++;
	} while (r.next[0] != '\0');
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
	wb_debug("%lu issues, %lu pull requests skipped, %lu bad; %lu requests",
	    l.issues, l.pulls, l.bad, wb_github_requests(gh));
	/*
	 * Only a complete run moves the resume point, and only forward: to
	 * the newest update it saw, or, when that is later, to shortly before
	 * the run began, so that what changed during the run is listed again.
	 */
	to = l.newest < start - RESUME_MARGIN ? l.newest : start - RESUME_MARGIN;
	if (resume && l.bad == 0 && l.newest >= 0 && to > from) {
		iso(to, point, sizeof point);
		reply = wb_redis_check(redis, redisCommand(redis, "SET %s %s",
		    key, point), "store the resume point");
		freeReplyObject(reply);
	}
	free(l.seen);
	if (redis != NULL)
		redisFree(redis);
	wb_github_free(gh);
	return wb_cli_end(l.bad > 0 ? WB_EXIT_REJECTED : WB_EXIT_OK);
}
