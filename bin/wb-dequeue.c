/* wb-dequeue — hand out queued issue numbers, each under a lease.
 *
 * Emits {"number":N,"queue":Q,"claim":T} for every item of QUEUE idle for
 * at least the delay, claiming it for the lease time: until the claim is
 * acknowledged (wb-ack, wb-enqueue) or the lease expires, nobody else gets
 * it. Blocks in Redis while nothing is ready; runs until killed or --once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_queue.h"
#include "wb_record.h"
#include "wb_scan.h"

#define USAGE "wb-dequeue [--batch N] [--delay S] [--lease S] [--max N] [--once] QUEUE"
#define HELP \
	"Claim items of QUEUE idle for the delay and write them as records.\n" \
	"  -b, --batch N  claim at most N items at a time (1..1000; default 100,\n" \
	"                 1000 with --once)\n" \
	"  -d, --delay S  inactivity delay in seconds (default WB_DELAY, 300)\n" \
	"  -l, --lease S  lease of a claim in seconds (default 600)\n" \
	"  -n, --max N    exit after N items\n" \
	"  -1, --once     exit once nothing is ready instead of waiting\n" \
	"See wb-dequeue(1).\n"

/*
 * Wait until the next stage has read what we wrote into the pipe, so that
 * claims are not taken far ahead of the work: their leases would run out
 * while they sit in a buffer. Only pipes are waited on.
 */
static void
wait_drained(void)
{
	struct timespec pause = { 0, 500000 };
	struct stat st;
	int unread;

	if (fstat(1, &st) < 0 || !S_ISFIFO(st.st_mode))
		return;
	while (ioctl(1, FIONREAD, &unread) == 0 && unread > 0) {
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 50000000)
			pause.tv_nsec *= 2;
	}
}

static void
emit(const char *queue, const struct wb_claim *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (printf("{\"number\":%ld,\"queue\":\"%s\",\"claim\":\"%s\"}\n",
		    c->numbers[i], queue, c->token) < 0)
			wb_diesys(WB_EXIT_TEMP, "unable to write to standard output");
	wb_flush(stdout);
}

static long long
seconds_option(const char *name, const char *arg)
{
	double s;

	if (wb_scan_seconds(arg, &s) < 0)
		wb_die(WB_EXIT_USAGE, "%s is not a number of seconds: %s", name,
		    arg);
	return (long long)(s * 1000.0 + 0.5);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "batch", required_argument, NULL, 'b' },
		{ "delay", required_argument, NULL, 'd' },
		{ "lease", required_argument, NULL, 'l' },
		{ "max", required_argument, NULL, 'n' },
		{ "once", no_argument, NULL, '1' },
		WB_CLI_LONGOPTS
	};
	static struct wb_claim claim;
	long long delay_ms = -1, lease_ms = 600000;
	unsigned long long batch = 0, max = 0, emitted = 0;
	struct wb_config cfg;
	struct wb_queue q;
	const char *queue, *why;
	char err[512];
	int ch, once = 0;

	wb_cli_start("wb-dequeue");
	while ((ch = getopt_long(argc, argv, "1b:d:hl:n:", longopts, NULL)) != -1) {
		switch (ch) {
		case '1':
			once = 1;
			break;
		case 'b':
			if (wb_scan_uint(optarg, strlen(optarg), 1,
			    WB_QUEUE_BATCH_MAX, &batch, &why) < 0)
				wb_die(WB_EXIT_USAGE, "--batch is %s: %s", why,
				    optarg);
			break;
		case 'd':
			delay_ms = seconds_option("--delay", optarg);
			break;
		case 'h':
			wb_cli_help(USAGE, HELP);
		case 'l':
			lease_ms = seconds_option("--lease", optarg);
			if (lease_ms < 1000)
				wb_die(WB_EXIT_USAGE, "--lease must be at least 1 "
				    "second: %s", optarg);
			break;
		case 'n':
			if (wb_scan_uint(optarg, strlen(optarg), 1, 1ULL << 62,
			    &max, &why) < 0)
				wb_die(WB_EXIT_USAGE, "--max is %s: %s", why, optarg);
			break;
		case 'V':
			wb_cli_version();
		default:
			wb_dieusage(USAGE);
		}
	}
	argc -= optind, argv += optind;
	if (argc != 1)
		wb_dieusage(USAGE);
	queue = argv[0];
	wb_queue_name_require(queue);
	wb_config_load(&cfg);
	/* Draining wants big batches; a pipeline, claims close to the work. */
	if (batch == 0)
		batch = once ? WB_QUEUE_BATCH_MAX : 100;
	if (delay_ms < 0)
		delay_ms = (long long)(cfg.delay * 1000.0 + 0.5);
	wb_queue_connect(&q, cfg.redis);

	while (max == 0 || emitted < max) {
		if (max > 0 && max - emitted < batch)
			batch = max - emitted;
		if (wb_queue_claim(&q, queue, delay_ms, lease_ms, batch, &claim,
		    err, sizeof err) < 0)
			wb_die(WB_EXIT_TEMP, "unable to claim from %s: %s", queue,
			    err);
		if (claim.n > 0) {
			emit(queue, &claim);
			emitted += claim.n;
			wait_drained();
			continue;
		}
		if (once)
			break;
		if (wb_queue_wait(&q, queue, claim.wait_ms, err, sizeof err) < 0)
			wb_die(WB_EXIT_TEMP, "%s", err);
	}
	wb_queue_close(&q);
	return wb_cli_end(WB_EXIT_OK);
}
