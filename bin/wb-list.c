/* wb-list — list the issues of the repository updated since a time.
 *
 * Pages through GET /repos/{WB_REPO}/issues (all states, oldest update
 * first, 100 per request), skips pull requests and writes
 * {"number":N,"issue":{...}} for each issue, so that wb-fetch needs only
 * the timelines. --resume starts from the newest "updated_at" that the
 * previous complete --resume run saw, kept in Redis: the periodic
 * catch-up for webhooks that never arrived.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_github.h"
#include "wb_json.h"
#include "wb_record.h"
#include "wb_redis.h"

#define USAGE "wb-list --since ISO8601 | --all | --resume [--since ISO8601]"
#define HELP \
	"Write {\"number\":N,\"issue\":{...}} for every issue (not pull request)\n" \
	"updated since a time, oldest update first.\n" \
	"  -a, --all             every issue of the repository\n" \
	"  -r, --resume          since the newest update the last --resume run saw\n" \
	"  -s, --since ISO8601   since this time, e.g. 2021-12-01T00:00:00Z\n" \
	"See wb-list(1).\n"

#define MAX_LIST_PAGES 100000

struct listing {
	unsigned long issues, pulls, bad;
	char newest[32];	/* newest updated_at seen, ISO 8601 */
};

/* 1 when 's' is exactly YYYY-MM-DDTHH:MM:SSZ and a real time. */
static int
iso_ok(const char *s)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	char again[32];
	time_t t;

	if (end == NULL || *end != '\0' || strlen(s) != 20 ||
	    (t = timegm(&tm)) == (time_t)-1)
		return 0;
	gmtime_r(&t, &tm);
	strftime(again, sizeof again, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return strcmp(again, s) == 0;
}

static int
has_key(jv obj, const char *key)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	int has = jv_is_valid(v);

	jv_free(v);
	return has;
}

/* Emit the issues of one page; returns -1 if the page is not a list. */
static int
emit_page(struct listing *l, jv page)
{
	int n;

	if (jv_get_kind(page) != JV_KIND_ARRAY)
		return -1;
	n = jv_array_length(jv_copy(page));
	for (int i = 0; i < n; i++) {
		jv issue = jv_array_get(jv_copy(page), i), num;
		struct wb_record rec;
		const char *updated, *why;

		num = jv_get_kind(issue) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(issue), jv_string("number")) :
		    jv_invalid();
		if (jv_get_kind(issue) != JV_KIND_OBJECT ||
		    wb_number_from_jv(num, &rec.number, &why) < 0 ||
		    (updated = wb_json_string(issue, "updated_at")) == NULL ||
		    !iso_ok(updated)) {
			wb_warn("listed item %d is not an issue with a number and "
			    "an updated_at; skipped", i + 1);
			l->bad++;
		} else if (has_key(issue, "pull_request")) {
			l->pulls++;
		} else {
			if (strcmp(updated, l->newest) > 0)
				snprintf(l->newest, sizeof l->newest, "%s", updated);
			rec.value = JV_OBJECT(jv_string("number"),
			    jv_number(rec.number), jv_string("issue"),
			    jv_copy(issue));
			wb_record_put(stdout, &rec);
			wb_record_free(&rec);
			l->issues++;
		}
		jv_free(num);
		jv_free(issue);
	}
	jv_free(page);
	wb_flush(stdout);
	return 0;
}

static void
list(struct wb_github *gh, const char *repo, const char *since,
    struct listing *l)
{
	struct wb_github_result r;
	char url[2048];
	size_t pages = 0;

	snprintf(url, sizeof url, "%s/repos/%s/issues?state=all&sort=updated&"
	    "direction=asc&per_page=%d%s%s", wb_github_base(gh), repo,
	    WB_GITHUB_PER_PAGE, since ? "&since=" : "", since ? since : "");
	do {
		if (++pages > MAX_LIST_PAGES)
			wb_die(WB_EXIT_TEMP, "more than %d pages; stopped",
			    MAX_LIST_PAGES);
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
		snprintf(url, sizeof url, "%s", r.next);
	} while (url[0] != '\0');
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
	static struct listing l;
	const char *since = NULL;
	struct wb_config cfg;
	struct wb_github *gh;
	redisContext *redis = NULL;
	redisReply *reply;
	char key[256], stored[32] = "";
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
			if (!iso_ok(optarg))
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
			if (reply->len >= sizeof stored || !iso_ok(reply->str))
				wb_die(WB_EXIT_USAGE, "%s holds no time: fix or "
				    "delete it", key);
			memcpy(stored, reply->str, reply->len + 1);
			since = stored;
		} else if (since == NULL)
			wb_die(WB_EXIT_USAGE, "no resume point in %s yet: give "
			    "--since for the first run", key);
		freeReplyObject(reply);
	}

	list(gh, cfg.repo, since, &l);
	wb_flush(stdout);
	wb_debug("%lu issues, %lu pull requests skipped, %lu bad; %lu requests",
	    l.issues, l.pulls, l.bad, wb_github_requests(gh));
	/* Only a complete run moves the resume point, and only forward. */
	if (resume && l.bad == 0 && l.newest[0] != '\0' &&
	    (since == NULL || strcmp(l.newest, since) > 0)) {
		reply = wb_redis_check(redis, redisCommand(redis, "SET %s %s",
		    key, l.newest), "store the resume point");
		freeReplyObject(reply);
	}
	if (redis != NULL)
		redisFree(redis);
	wb_github_free(gh);
	return wb_cli_end(l.bad > 0 ? WB_EXIT_REJECTED : WB_EXIT_OK);
}
