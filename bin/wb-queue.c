/* SPDX-License-Identifier: MPL-2.0 */
/* wb-queue — the operator's view of the queues.
 *
 * length, list, purge, stats and dead (the parked numbers) of one queue,
 * or of every queue in use when none is named (purge and retry always
 * need a name); retry puts parked numbers back. Each answers in a few
 * Redis round trips whatever the size of the queue. stats --format
 * prometheus writes the metrics of lib/wb_metrics.c instead, for
 * node_exporter's textfile collector (scripts/wb-metrics).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_metrics.h"
#include "wb_queue.h"
#include "wb_redis.h"
#include "wb_scan.h"
#include "wb_xalloc.h"

#define USAGE "wb-queue [--delay S] [--format text | prometheus] length | list | purge | stats | dead | retry [QUEUE] [N ...]"
#define HELP \
	"  length [QUEUE]     number of items queued, claimed or not\n" \
	"  list [QUEUE]       one line per item: number, state, time (UTC)\n" \
	"  purge QUEUE        remove every item of QUEUE, parked ones too\n" \
	"  stats [QUEUE]      ready, waiting, claimed, oldest ready age, dead\n" \
	"  dead [QUEUE]       parked numbers: number, deliveries, time parked\n" \
	"  retry QUEUE [N...] put parked numbers (default: all) back\n" \
	"  -d, --delay S      the delay that makes an item ready (default WB_DELAY)\n" \
	"  -f, --format F     stats as text (default) or prometheus, for any\n" \
	"                     number of queues (default: every queue in use)\n" \
	"See wb-queue(1).\n"

/* Lines name their queue only when every queue is shown. */
static const char *prefix;

static void
print_item(long number, const char *state, long long ms, void *arg)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char when[32];

	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	(void)arg;
	if (printf("%s%ld\t%s\t%s\n", prefix, number, state, when) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to write to standard output");
}

static void
print_dead(long number, long long deliveries, long long ms, void *arg)
{
	char state[32];

	snprintf(state, sizeof state, "%lld", deliveries);
	print_item(number, state, ms, arg);
}

/* Set when a number named to retry was not parked. */
static int missed;

static void
not_parked(long number, void *arg)
{
	wb_warn("%ld is not parked in %s", number, (const char *)arg);
	missed = 1;
}

static void
one(struct wb_queue *q, const char *cmd, const char *queue, long long delay_ms,
    int named)
{
	struct wb_queue_stats st;
	char pre[80] = "";

	if (!named)
		snprintf(pre, sizeof pre, "%s\t", queue);
	prefix = pre;

	if (strcmp(cmd, "list") == 0) {
		wb_queue_list_or_die(q, queue, delay_ms, print_item, NULL);
		return;
	}
	if (strcmp(cmd, "purge") == 0) {
		printf("%lld\n", wb_queue_purge_or_die(q, queue));
		return;
	}
	if (strcmp(cmd, "dead") == 0) {
		wb_queue_dead_or_die(q, queue, print_dead, NULL);
		return;
	}
	wb_queue_stats_or_die(q, queue, delay_ms, &st);
	if (strcmp(cmd, "length") == 0)
		printf("%s%lld\n", pre, st.queued);
	else
		printf("%squeued %lld\tready %lld\twaiting %lld\tclaimed %lld"
		    "\texpired %lld\trequeued %lld\toldest_ready_s %lld"
		    "\tdead %lld\n", pre, st.queued, st.ready, st.waiting,
		    st.claimed, st.expired, st.again,
		    st.oldest_ready_ms < 0 ? -1 : st.oldest_ready_ms / 1000,
		    st.dead);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * stats --format prometheus of queues[0..n) (n == 0: every queue in use).
 * Unreachable Redis is an answer, not a failure: wb_redis_up 0, exit 0
 * (exit 100 after it when WB_REDIS itself is wrong: bad URL, password
 * refused). The text is printed only once complete, so a failure that
 * exits on the way (Redis lost) prints nothing.
 */
static void
prometheus(const struct wb_config *cfg, char **queues, size_t n,
    long long delay_ms)
{
	struct wb_metrics_queue *qs = NULL;
	struct wb_metrics_notes notes;
	struct wb_metrics m;
	struct wb_queue q;
	redisReply *names = NULL;
	redisContext *c;
	char err[512];
	int permanent, up = 0;

	wb_metrics_init(&m);
	wb_metrics_notes_parse(NULL, &notes);
	if ((c = wb_redis_open(cfg->redis, 10000, err, sizeof err,
	    &permanent)) == NULL) {
		if (!permanent)
			wb_warn("%s", err);
	} else if (wb_queue_init(&q, c, err, sizeof err) < 0) {
		wb_warn("%s", err);
		redisFree(c);
	} else {
		if (n == 0) {
			names = wb_queue_names_or_die(&q);
			queues = wb_xcalloc(names->elements + 1,
			    sizeof *queues);
			for (size_t i = 0; i < names->elements; i++)
				if (names->element[i]->type == REDIS_REPLY_STRING
				    && wb_scan_queue_name(names->element[i]->str))
					queues[n++] = names->element[i]->str;
			qsort(queues, n, sizeof *queues, by_name);
		}
		qs = wb_xcalloc(n + 1, sizeof *qs);
		for (size_t i = 0; i < n; i++) {
			qs[i].name = queues[i];
			wb_queue_stats_or_die(&q, queues[i], delay_ms,
			    &qs[i].st);
		}
		if (wb_metrics_notes_read(c, &notes, err, sizeof err) < 0)
			wb_die(WB_EXIT_TEMP, "%s", err);
		up = 1;
	}
	wb_metrics_render(&m, up, qs, n, &notes);
	if (fwrite(m.text, 1, m.len, stdout) != m.len)
		wb_diesys(WB_EXIT_TEMP, "unable to write to standard output");
	if (c == NULL && permanent)
		wb_die(WB_EXIT_USAGE, "%s", err);
	wb_metrics_free(&m);
	if (up) {
		wb_queue_close(&q);
		free(qs);
	}
	if (names != NULL) {
		free(queues);
		freeReplyObject(names);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		WB_CLI_LONGOPTS
	};
	static const char *const cmds[] = { "length", "list", "purge", "stats",
	    "dead", "retry" };
	static long *numbers;	/* static: reachable when a message exits */
	struct wb_config cfg;
	struct wb_queue q;
	const char *cmd, *delay = NULL;
	char why[32];
	size_t n = 0;
	double secs;
	int ch, known = 0, retry, prom = 0;

	wb_cli_start("wb-queue");
	while ((ch = getopt_long(argc, argv, "d:f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			delay = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "prometheus") == 0)
				prom = 1;
			else if (strcmp(optarg, "text") == 0)
				prom = 0;
			else
				wb_dieusage(USAGE);
			break;
		default:
			wb_cli_option(ch, USAGE, HELP);
		}
	}
	argc -= optind, argv += optind;
	if (argc < 1)
		wb_dieusage(USAGE);
	cmd = argv[0];
	retry = strcmp(cmd, "retry") == 0;
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		known |= strcmp(cmd, cmds[i]) == 0;
	if (!known || (!retry && !prom && argc > 2) || ((retry ||
	    strcmp(cmd, "purge") == 0) && argc < 2) ||
	    (prom && strcmp(cmd, "stats") != 0))
		wb_dieusage(USAGE);
	for (int i = 1; i < (prom ? argc : argc >= 2 ? 2 : 1); i++) {
		wb_scan_queue_name_or_die(argv[i]);
		for (int k = 1; k < i; k++)
			if (strcmp(argv[k], argv[i]) == 0)
				wb_die(WB_EXIT_USAGE, "queue %s named twice",
				    argv[i]);
	}
	numbers = wb_xcalloc((size_t)argc, sizeof *numbers);
	for (int i = 2; i < argc && !prom; i++) {
		if (wb_scan_number(argv[i], &numbers[n++], why, sizeof why) < 0) {
			free(numbers);	/* not a leak to report at exit */
			wb_die(WB_EXIT_USAGE, "not an issue number: %s: %s",
			    argv[i], why);
		}
	}
	wb_config_load_or_die(&cfg);
	secs = delay != NULL ? wb_cli_seconds_or_die("--delay", delay, 0) :
	    cfg.delay;
	if (prom) {
		prometheus(&cfg, argv + 1, (size_t)argc - 1,
		    (long long)(secs * 1000.0 + 0.5));
		free(numbers);
		return wb_cli_end_or_die(WB_EXIT_OK);
	}
	wb_queue_connect_or_die(&q, cfg.redis);

	if (retry) {
		printf("%lld\n", wb_queue_retry_or_die(&q, argv[1], numbers, n,
		    not_parked, argv[1]));
	} else if (argc == 2)
		one(&q, cmd, argv[1], (long long)(secs * 1000.0 + 0.5), 1);
	else {
		redisReply *names = wb_queue_names_or_die(&q);

		for (size_t i = 0; i < names->elements; i++)
			if (names->element[i]->type == REDIS_REPLY_STRING &&
			    wb_scan_queue_name(names->element[i]->str))
				one(&q, cmd, names->element[i]->str,
				    (long long)(secs * 1000.0 + 0.5), 0);
		freeReplyObject(names);
	}
	wb_queue_close(&q);
	free(numbers);
	return wb_cli_end_or_die(missed ? WB_EXIT_REJECTED : WB_EXIT_OK);
}
