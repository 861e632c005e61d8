/* SPDX-License-Identifier: MPL-2.0 */
/* wb-dequeue — hand out queued issue numbers, each under a lease.
 *
 * Emits {"number":N,"queue":Q,"claim":T} for every item of QUEUE idle for
 * at least the delay, claiming it for the lease time under its consumer
 * name: until the claim is acknowledged (wb-ack, wb-enqueue), the lease
 * expires, or the consumer dies and the next one of its name starts,
 * nobody else gets it. Blocks in Redis while nothing is ready; runs until
 * killed, --once, or its reader is gone.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb_cli.h"
#include "wb_clock.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_pipe.h"
#include "wb_queue.h"
#include "wb_record.h"
#include "wb_scan.h"

#define USAGE "wb-dequeue [--batch N] [--consumer NAME] [--delay S] [--lease S] [--max N] [--once] QUEUE"
#define HELP \
	"Claim items of QUEUE idle for the delay and write them as records.\n" \
	"  -b, --batch N      claim at most N items at a time (1..1000; default\n" \
	"                     100, 1000 with --once)\n" \
	"  -c, --consumer NAME  hold claims under NAME (default HOST:QUEUE, with\n" \
	"                     --once HOST:QUEUE:PID); takes back at once the claims\n" \
	"                     of a dead predecessor of that name\n" \
	"  -d, --delay S      inactivity delay in seconds (default WB_DELAY, 300)\n" \
	"  -l, --lease S      lease of a claim in seconds (default 600)\n" \
	"  -n, --max N        exit after N items\n" \
	"  -1, --once         exit once nothing is ready instead of waiting\n" \
	"See wb-dequeue(1).\n"

#define JOIN_RETRY_MS 200	/* how often to look whether a holder died */

static struct wb_queue q;
static const char *queue;
static long long last_beat;

static void __attribute__((noreturn))
reader_gone(void)
{
	wb_die(WB_EXIT_TEMP, "unable to hand out more of %s: standard "
	    "output's reader is gone", queue);
}

/* Renew the consumer's registration when it is due (claims renew it too). */
static void
beat(void)
{
	char why[512];

	if (wb_clock_ms() - last_beat < WB_QUEUE_BEAT_MS)
		return;
	if (wb_queue_beat(&q, queue, why, sizeof why) < 0)
		wb_die(WB_EXIT_TEMP, "%s", why);
	last_beat = wb_clock_ms();
}

/*
 * Wait until the next stage has read what we wrote into the pipe, so that
 * claims are not taken far ahead of the work: their leases would run out
 * while they sit in a buffer. Only pipes are waited on. A reader that dies
 * leaves its unread bytes counted, so its death is watched for too.
 */
static void
wait_drained(void)
{
	long long pause = 1;
	struct stat st;
	int unread;

	if (fstat(1, &st) < 0 || !S_ISFIFO(st.st_mode))
		return;
	while (ioctl(1, FIONREAD, &unread) == 0 && unread > 0) {
		if (wb_pipe_sleep(pause) < 0)
			reader_gone();
		beat();
		pause = wb_clock_backoff(pause, 64);
	}
}

static void
emit(const struct wb_claim *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (printf("{\"number\":%ld,\"queue\":\"%s\",\"claim\":\"%s\"}\n",
		    c->numbers[i], queue, c->token) < 0)
			wb_diesys(WB_EXIT_TEMP, "unable to write to standard output");
	wb_record_flush_or_die(stdout);
}

/* HOST:QUEUE, or HOST:QUEUE:PID for a one-off run. */
static void
default_consumer(char *name, size_t size, int once)
{
	char host[65] = "localhost";
	size_t n;

	if (gethostname(host, sizeof host - 1) < 0 || host[0] == '\0')
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	for (char *p = host; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.-", *p) == NULL)
			*p = '-';
	n = (size_t)snprintf(name, size, "%s:%s", host, queue);
	if (once && n < size)
		snprintf(name + n, size - n, ":%ld", (long)getpid());
}

/*
 * Become consumer 'name': wait while a live dequeuer holds it, then take
 * back the claims of the dead one.
 */
static void
join(const char *name, long long delay_ms)
{
	long long holder, taken;
	char why[512];
	int rc, warned = 0;

	while ((rc = wb_queue_join(&q, queue, name, delay_ms, &holder, &taken,
	    why, sizeof why)) == 1) {
		if (!warned)
			wb_warn("consumer %s of %s is held by a live dequeuer "
			    "(Redis client %lld); waiting for it to end", name,
			    queue, holder);
		warned = 1;
		if (wb_pipe_sleep(JOIN_RETRY_MS) < 0)
			reader_gone();
	}
	if (rc < 0)
		wb_die(WB_EXIT_TEMP, "unable to register as consumer %s of %s: %s",
		    name, queue, why);
	last_beat = wb_clock_ms();
	if (taken > 0)
		wb_info("consumer %s of %s took back %lld claims of its dead "
		    "predecessor", name, queue, taken);
}

static long long
seconds_option(const char *name, const char *arg)
{
	return (long long)(wb_cli_seconds_or_die(name, arg, 0) * 1000.0 + 0.5);
}

/* What the command line asks. */
struct opts {
	long long delay_ms, lease_ms;	/* delay_ms < 0: WB_DELAY's */
	unsigned long long batch, max;	/* batch 0: by --once */
	const char *consumer;		/* NULL: the default name */
	int once;
};

/* Read the options into *o; returns the queue's name. */
static const char *
options(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "batch", required_argument, NULL, 'b' },
		{ "consumer", required_argument, NULL, 'c' },
		{ "delay", required_argument, NULL, 'd' },
		{ "lease", required_argument, NULL, 'l' },
		{ "max", required_argument, NULL, 'n' },
		{ "once", no_argument, NULL, '1' },
		WB_CLI_LONGOPTS
	};
	char why[32];
	int ch;

	*o = (struct opts){ .delay_ms = -1, .lease_ms = 600000 };
	while ((ch = getopt_long(argc, argv, "1b:c:d:hl:n:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case '1':
			o->once = 1;
			break;
		case 'b':
			if (wb_scan_uint(optarg, strlen(optarg), 1,
			    WB_QUEUE_BATCH_MAX, &o->batch, why, sizeof why) < 0)
				wb_die(WB_EXIT_USAGE, "--batch is %s: %s", why,
				    optarg);
			break;
		case 'c':
			if (!wb_queue_consumer_ok(optarg))
				wb_die(WB_EXIT_USAGE, "bad consumer name (1 to %d "
				    "of A-Z a-z 0-9 _ . : @ -): %s",
				    WB_CONSUMER_MAX, optarg);
			o->consumer = optarg;
			break;
		case 'd':
			o->delay_ms = seconds_option("--delay", optarg);
			break;
		case 'l':
			o->lease_ms = seconds_option("--lease", optarg);
			if (o->lease_ms < 1000)
				wb_die(WB_EXIT_USAGE, "--lease must be at least 1 "
				    "second: %s", optarg);
			break;
		case 'n':
			if (wb_scan_uint(optarg, strlen(optarg), 1, 1ULL << 62,
			    &o->max, why, sizeof why) < 0)
				wb_die(WB_EXIT_USAGE, "--max is %s: %s", why, optarg);
			break;
		default:
			wb_cli_option(ch, USAGE, HELP);
		}
	}
	if (argc - optind != 1)
		wb_dieusage(USAGE);
	return argv[optind];
}

/*
 * Claim and emit until --max items are out, or (--once) nothing is ready;
 * else forever, waiting in Redis for new items.
 */
static void
serve(const struct opts *o, long long max_deliveries)
{
	static struct wb_claim claim;
	unsigned long long batch = o->batch, emitted = 0;
	long long wait_ms;
	char why[512];
	int rc;

	while (o->max == 0 || emitted < o->max) {
		if (wb_pipe_out_gone())
			reader_gone();
		if (o->max > 0 && o->max - emitted < batch)
			batch = o->max - emitted;
		if (wb_queue_claim(&q, queue, o->delay_ms, o->lease_ms,
		    max_deliveries, batch, &claim, why, sizeof why) < 0)
			wb_die(WB_EXIT_TEMP, "unable to claim from %s: %s", queue,
			    why);
		last_beat = wb_clock_ms();
		for (size_t i = 0; i < claim.nparked; i++)
			wb_warn("%ld of %s was handed out %lld times without "
			    "being acknowledged: parked as a dead letter",
			    claim.parked[i], queue, claim.parked_count[i]);
		if (claim.n > 0) {
			emit(&claim);
			emitted += claim.n;
			wait_drained();
			continue;
		}
		if (claim.wait_ms == 0)
			continue;
		if (o->once)
			break;
		/* Wake up in time to renew the registration. */
		wait_ms = claim.wait_ms;
		if (wait_ms < 0 || wait_ms > WB_QUEUE_BEAT_MS)
			wait_ms = WB_QUEUE_BEAT_MS;
		rc = wb_queue_wait(&q, queue, wait_ms, why, sizeof why);
		if (rc > 0)
			reader_gone();
		if (rc < 0)
			wb_die(WB_EXIT_TEMP, "%s", why);
	}
}

int
main(int argc, char **argv)
{
	struct wb_config cfg;
	struct opts o;
	char name[WB_CONSUMER_MAX + 1];

	wb_cli_start("wb-dequeue");
	queue = options(argc, argv, &o);
	wb_scan_queue_name_or_die(queue);
	wb_config_load_or_die(&cfg);
	/* Draining wants big batches; a pipeline, claims close to the work. */
	if (o.batch == 0)
		o.batch = o.once ? WB_QUEUE_BATCH_MAX : 100;
	if (o.delay_ms < 0)
		o.delay_ms = (long long)(cfg.delay * 1000.0 + 0.5);
	if (o.consumer == NULL)
		default_consumer(name, sizeof name, o.once);
	else
		snprintf(name, sizeof name, "%s", o.consumer);
	wb_queue_connect_or_die(&q, cfg.redis);
	join(name, o.delay_ms);
	serve(&o, cfg.max_deliveries);
	wb_queue_close(&q);
	return wb_cli_end_or_die(WB_EXIT_OK);
}
