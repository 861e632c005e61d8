/* SPDX-License-Identifier: MPL-2.0 */
/* wb-hook — receive GitHub webhooks and queue the issues they name.
 *
 * An HTTP server for POST /github/receive: a signed "issues" or
 * "issue_comment" delivery of WB_REPO queues its issue number into
 * "download" and is answered 202 once Redis confirmed it, 503 when Redis
 * is unreachable; GET /healthz and GET /metrics (Prometheus text) are
 * for the operator. What a request means is decided in lib/wb_webhook.c;
 * the serving threads are lib/wb_hook_loop.c, each with its HTTP daemon
 * (lib/wb_hook_http.c) and its Redis batcher (lib/wb_hook_batcher.c). This
 * file reads the configuration, starts them and stops them on SIGTERM.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_hook_loop.h"
#include "wb_listen.h"
#include "wb_lsan.h"
#include "wb_scan.h"

#define USAGE "wb-hook [-d FD] [-t THREADS]"
#define HELP \
	"Receive GitHub webhooks on WB_HOOK_LISTEN and queue issues into download.\n" \
	"  -d FD       write a newline to FD once listening (s6 readiness)\n" \
	"  -t THREADS  serving threads, each with its own Redis connection\n" \
	"              (default: the number of CPUs)\n" \
	"See wb-hook(1).\n"

#define QUEUE "download"
#define HEADER_TIMEOUT 10	/* seconds to send the headers (default) */

/* WB_HOOK_HEADER_TIMEOUT in ms; exits 100 when malformed. */
static long long
header_timeout_ms(void)
{
	const char *env = getenv("WB_HOOK_HEADER_TIMEOUT");
	char why[32];
	unsigned long long v;

	if (env == NULL)
		return HEADER_TIMEOUT * 1000;
	if (wb_scan_uint(env, strlen(env), 1, 3600, &v, why, sizeof why) < 0)
		wb_die(WB_EXIT_USAGE, "WB_HOOK_HEADER_TIMEOUT is %s "
		    "(1..3600 seconds): %s", why, env);
	return (long long)v * 1000;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { WB_CLI_LONGOPTS };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct wb_hook_loops loops = { .queue = QUEUE };
	struct wb_hook_config *hook = &loops.http.hook;
	struct sockaddr_storage ss;
	struct wb_config cfg;
	unsigned long long v;
	char why[32];
	char where[300];
	sigset_t stop;
	socklen_t len;
	int ch, notify = -1, sig;

	wb_cli_start("wb-hook");
	loops.n = cpus > 0 && cpus <= WB_HOOK_LOOPS_MAX ? (unsigned)cpus : 2;
	while ((ch = getopt_long(argc, argv, "d:ht:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (wb_scan_uint(optarg, strlen(optarg), 3, 1023, &v,
			    why, sizeof why) < 0 || fcntl((int)v, F_GETFD) < 0)
				wb_die(WB_EXIT_USAGE, "-d needs an open file "
				    "descriptor 3 or more: %s", optarg);
			notify = (int)v;
			break;
		case 't':
			loops.n = (unsigned)wb_cli_uint_or_die("-t", optarg, 1,
			    WB_HOOK_LOOPS_MAX);
			break;
		default:
			wb_cli_option(ch, USAGE, HELP);
		}
	}
	if (argc != optind)
		wb_dieusage(USAGE);

	wb_config_load_or_die(&cfg);
	loops.http.header_ms = header_timeout_ms();
	loops.redis_url = cfg.redis;
	loops.delay_ms = (long long)(cfg.delay * 1000.0 + 0.5);
	hook->repo = cfg.repo;
	hook->secret = cfg.hook_secret;
	hook->secret_len = hook->secret != NULL ? strlen(hook->secret) : 0;
	if (hook->secret == NULL)
		wb_warn("WB_HOOK_SECRET is not set: deliveries are accepted "
		    "without a signature check");
	wb_hook_batcher_probe_or_die(cfg.redis);
	len = wb_listen_resolve_or_die("WB_HOOK_LISTEN", cfg.hook_listen, &ss);

	/* Blocked in every thread; only sigwait() below takes them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	wb_hook_loops_start_or_die(&loops, &ss, len, cfg.hook_listen);
	wb_listen_name(&ss, len, cfg.hook_listen, where, sizeof where);
	wb_info("listening on %s, %u threads, queueing %s issues into %s",
	    where, loops.n, cfg.repo, QUEUE);
	if (notify >= 0) {
		if (write(notify, "\n", 1) != 1)
			wb_warnsys("unable to write the readiness notification");
		close(notify);
	}

	while (sigwait(&stop, &sig) != 0)
		;
	wb_info("signal %d: finishing requests in flight, then exiting", sig);
	wb_hook_loops_stop_or_die(&loops);
	/* s6-supervise's SIGCONT may come while the heap is checked. */
	wb_lsan_exit_or_die(wb_cli_end_or_die(WB_EXIT_OK));
}
