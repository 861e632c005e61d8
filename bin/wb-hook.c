/* wb-hook — receive GitHub webhooks and queue the issues they name.
 *
 * An HTTP server (libmicrohttpd, a pool of threads, and one thread that
 * talks to Redis for all of them) for POST /github/receive: a signed "issues" or
 * "issue_comment" delivery of WB_REPO queues its issue number into
 * "download" and is answered 202 once Redis confirmed it, 503 when Redis
 * is unreachable. What a request means is decided in lib/wb_webhook.c;
 * this file only serves.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_queue.h"
#include "wb_redis.h"
#include "wb_scan.h"
#include "wb_webhook.h"

#if MHD_VERSION >= 0x00097002
#define MHD_RESULT enum MHD_Result
#else
#define MHD_RESULT int
#endif

#define USAGE "wb-hook [-d FD] [-t THREADS]"
#define HELP \
	"Receive GitHub webhooks on WB_HOOK_LISTEN and queue issues into download.\n" \
	"  -d FD       write a newline to FD once listening (s6 readiness)\n" \
	"  -t THREADS  HTTP serving threads (default: the number of CPUs)\n" \
	"See wb-hook(1).\n"

#define QUEUE "download"
#define REDIS_TIMEOUT_MS 2000	/* a stuck Redis makes a 503, not a hang */
#define CONN_LIMIT 512		/* connections in all */
#define CONN_PER_IP 128		/* connections from one address */
#define IDLE_TIMEOUT 10		/* seconds without a byte: closed */
#define REQUEST_TIMEOUT 60	/* seconds to send a whole body */
#define SHUTDOWN_GRACE 10	/* seconds in-flight requests get on SIGTERM */
#define BODY_BUDGET (128ULL << 20)	/* bytes of bodies held at once */
#define HEADER_MAX 16384	/* per connection: request line, headers and
				   read buffer; GitHub's headers take ~1.5 KB */

/* One request, from its headers to its answer. */
struct req {
	enum wb_hook_route route;
	int answered;
	struct wb_hook_request in;
	struct wb_hook_decision d;
	char *body;
	size_t cap;
	size_t expect;		/* Content-Length up to 1 MB: the first buffer */
	size_t reserved;	/* bytes of BODY_BUDGET held */
	time_t start;
	/* Handed to the Redis thread: it sets 'failed' and 'err', then
	 * 'done', then resumes the connection. */
	struct MHD_Connection *conn;
	struct req *next;
	int waiting;
	atomic_int done;
	int failed;
	char err[256];
};

static struct wb_config cfg;
static struct wb_hook_config hook;
static atomic_int inflight;
static atomic_ullong buffered;	/* bytes of bodies reserved, all requests */
static atomic_int stopping;

/*
 * The Redis thread. Serving threads never wait for Redis: a request that
 * needs it is suspended and put on this list; the Redis thread takes
 * everything listed, queues all the numbers in one script call (one round
 * trip however many requests arrived meanwhile), then resumes each
 * request with the outcome. Health checks ride along as a PING.
 */
static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t list_cond = PTHREAD_COND_INITIALIZER;
static struct req *list_head, **list_tail = &list_head;
static int list_closed;
static struct wb_queue queue;	/* queue.c is NULL while disconnected */

/*
 * Suspend the request of 'c' until the Redis thread has dealt with it.
 * Returns 0, or -1 once the Redis thread is gone (shutting down).
 */
static int
hand_over(struct MHD_Connection *c, struct req *r)
{
	pthread_mutex_lock(&list_lock);
	if (list_closed) {
		pthread_mutex_unlock(&list_lock);
		return -1;
	}
	r->conn = c;
	r->waiting = 1;
	MHD_suspend_connection(c);
	r->next = NULL;
	*list_tail = r;
	list_tail = &r->next;
	pthread_cond_signal(&list_cond);
	pthread_mutex_unlock(&list_lock);
	return 0;
}

/* (Re)open the connection; returns 0, or -1 with 'err' set. */
static int
reconnect(char *err, size_t errlen)
{
	redisContext *c;
	int permanent;

	wb_queue_close(&queue);
	c = wb_redis_open(cfg.redis, REDIS_TIMEOUT_MS, err, errlen, &permanent);
	if (c == NULL)
		return -1;
	if (wb_queue_init(&queue, c, err, errlen) < 0) {
		wb_queue_close(&queue);
		return -1;
	}
	return 0;
}

/*
 * Queue numbers[0..n) into download, or PING when n is 0; returns 0 once
 * Redis confirmed, -1 with 'err' set. A connection that broke since its
 * last use (Redis restarted) is replaced and the command tried once more:
 * queueing a number twice is harmless.
 */
static int
redis_round(const long *numbers, size_t n, char *err, size_t errlen)
{
	int fresh = 0;
	redisReply *r;

	if (queue.c == NULL) {
		if (reconnect(err, errlen) < 0)
			return -1;
		fresh = 1;
	}
	for (;;) {
		if (n > 0) {
			wb_queue_append_push(&queue, QUEUE, numbers, n);
			if (wb_queue_push_reply(&queue, err, errlen) == 0)
				return 0;
		} else {
			r = redisCommand(queue.c, "PING");
			if (r != NULL && r->type == REDIS_REPLY_STATUS) {
				freeReplyObject(r);
				return 0;
			}
			snprintf(err, errlen, "Redis did not answer PING: %s",
			    r == NULL ? queue.c->errstr : "unexpected reply");
			if (r != NULL)
				freeReplyObject(r);
		}
		wb_queue_close(&queue);
		if (fresh || reconnect(err, errlen) < 0)
			return -1;
		fresh = 1;
	}
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Sort numbers[0..n) and drop repeats (a burst on one issue); new n. */
static size_t
unique(long *numbers, size_t n)
{
	size_t k = 0;

	qsort(numbers, n, sizeof *numbers, cmp_long);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || numbers[k - 1] != numbers[i])
			numbers[k++] = numbers[i];
	return k;
}

static void *
redis_thread(void *arg)
{
	static long numbers[WB_QUEUE_BATCH_MAX];
	struct req *batch, *r, **tail;
	char err[256];
	size_t n;
	int failed, health;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&list_lock);
		while (list_head == NULL && !list_closed)
			pthread_cond_wait(&list_cond, &list_lock);
		if (list_head == NULL) {
			pthread_mutex_unlock(&list_lock);
			break;
		}
		/* Take up to a batch of numbers; the rest waits its turn. */
		batch = list_head;
		n = 0;
		for (tail = &list_head; *tail != NULL && n < WB_QUEUE_BATCH_MAX;
		    tail = &(*tail)->next)
			if ((*tail)->route == WB_HOOK_RECEIVE)
				numbers[n++] = (*tail)->d.number;
		list_head = *tail;
		*tail = NULL;
		if (list_head == NULL)
			list_tail = &list_head;
		pthread_mutex_unlock(&list_lock);

		health = 0;
		for (r = batch; r != NULL; r = r->next)
			health |= r->route == WB_HOOK_HEALTH;
		n = unique(numbers, n);
		failed = n > 0 && redis_round(numbers, n, err, sizeof err) < 0;
		if (!failed && n == 0 && health)
			failed = redis_round(NULL, 0, err, sizeof err) < 0;
		while (batch != NULL) {
			r = batch;
			batch = r->next;
			r->failed = failed;
			if (failed)
				snprintf(r->err, sizeof r->err, "%s", err);
			atomic_store(&r->done, 1);
			MHD_resume_connection(r->conn);
		}
	}
	return NULL;
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "ok\n";
	case 202: return "accepted\n";
	case 400: return "bad request\n";
	case 401: return "bad signature\n";
	case 404: return "not found\n";
	case 405: return "method not allowed\n";
	case 413: return "payload too large\n";
	default: return "service unavailable\n";
	}
}

/* A response for 'status'; NULL when out of memory. */
static struct MHD_Response *
make_response(int status, const char *allow, int close)
{
	const char *text = status_text(status);
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	if (allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	return resp;
}

/* The answer to nearly every request, made once (MHD counts its users). */
static struct MHD_Response *accepted;

static MHD_RESULT
reply(struct MHD_Connection *c, struct req *r, int status, const char *allow)
{
	int close = atomic_load(&stopping);
	struct MHD_Response *resp;
	MHD_RESULT ret;

	if (r != NULL)
		r->answered = 1;
	if (status == 202 && !close && accepted != NULL)
		return MHD_queue_response(c, 202, accepted);
	if ((resp = make_response(status, allow, close)) == NULL)
		return MHD_NO;
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The one log line of a delivery. */
static void
log_delivery(const struct wb_hook_decision *d, int status, const char *outcome)
{
	void (*logf)(const char *, ...) = status >= 400 ? wb_warn :
	    d->quiet ? wb_debug : wb_info;
	char num[24] = "-";

	if (d->number > 0)
		snprintf(num, sizeof num, "%ld", d->number);
	logf("delivery %s event %s action %s number %s: %d %s", d->delivery,
	    d->event, d->action, num, status, outcome);
}

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/*
 * Hold 'more' bytes of BODY_BUDGET for 'r': a few deliveries of GitHub's
 * largest size fit, a flood of them does not exhaust memory. Returns 0,
 * or -1 when the budget is spent.
 */
static int
reserve(struct req *r, size_t more)
{
	if (atomic_fetch_add(&buffered, more) + more > BODY_BUDGET) {
		atomic_fetch_sub(&buffered, more);
		return -1;
	}
	r->reserved += more;
	return 0;
}

/* First call: route, and refuse what the headers alone condemn. */
static MHD_RESULT
begin(struct MHD_Connection *c, struct req *r, const char *method,
    const char *url)
{
	r->route = wb_webhook_route(method, url);
	switch (r->route) {
	case WB_HOOK_NOT_FOUND:
		return reply(c, r, 404, NULL);
	case WB_HOOK_BAD_METHOD:
		return reply(c, r, 405, strcmp(url, WB_HOOK_PATH) == 0 ? "POST" :
		    "GET, HEAD");
	case WB_HOOK_HEALTH:
		if (hand_over(c, r) == 0)
			return MHD_YES;
		return reply(c, r, 503, NULL);
	case WB_HOOK_RECEIVE:
		break;
	}
	r->in.event = header(c, "X-GitHub-Event");
	r->in.signature = header(c, "X-Hub-Signature-256");
	r->in.delivery = header(c, "X-GitHub-Delivery");
	r->in.content_length = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (wb_webhook_headers(&hook, &r->in, &r->d) != 0) {
		log_delivery(&r->d, r->d.status, r->d.outcome);
		return reply(c, r, r->d.status, NULL);
	}
	/* Checked by wb_webhook_headers(): at most WB_HOOK_BODY_MAX. */
	if (r->in.content_length != NULL) {
		r->expect = strtoul(r->in.content_length, NULL, 10);
		if (reserve(r, r->expect) < 0) {
			log_delivery(&r->d, 503, "too many large bodies at once");
			return reply(c, r, 503, NULL);
		}
	}
	if (r->expect > 1048576)
		r->expect = 1048576;	/* the first buffer; it grows */
	wb_debug("delivery %s event %s: reading the body", r->d.delivery,
	    r->d.event);
	return MHD_YES;
}

/* Later calls: gather the body, at most WB_HOOK_BODY_MAX bytes. */
static MHD_RESULT
gather(struct MHD_Connection *c, struct req *r, const char *data, size_t *size)
{
	size_t n = *size;

	*size = 0;
	if (r->answered)
		return MHD_YES;
	if (time(NULL) - r->start > REQUEST_TIMEOUT) {
		log_delivery(&r->d, 408, "body too slow, connection closed");
		return MHD_NO;
	}
	if (n > WB_HOOK_BODY_MAX - r->in.len) {
		/*
		 * Only a body without Content-Length gets here (a declared
		 * length over the cap was refused at once), and MHD 0.9
		 * cannot answer in the middle of a body: close instead.
		 */
		log_delivery(&r->d, 413, "body over 25 MB, connection closed");
		return MHD_NO;
	}
	if (r->in.len + n > r->reserved &&
	    reserve(r, r->in.len + n - r->reserved) < 0) {
		log_delivery(&r->d, 503, "too many large bodies at once, "
		    "connection closed");
		return MHD_NO;
	}
	if (r->in.len + n > r->cap) {
		size_t cap = r->cap ? r->cap : r->expect ? r->expect : 16384;
		char *p;

		while (cap < r->in.len + n)
			cap *= 2;
		if (cap > WB_HOOK_BODY_MAX)
			cap = WB_HOOK_BODY_MAX;
		if ((p = realloc(r->body, cap)) == NULL) {
			log_delivery(&r->d, 503, "out of memory");
			return reply(c, r, 503, NULL);
		}
		r->body = p;
		r->cap = cap;
	}
	memcpy(r->body + r->in.len, data, n);
	r->in.len += n;
	r->in.body = r->body;
	return MHD_YES;
}

/* Last call: decide, and hand a number to queue to the Redis thread. */
static MHD_RESULT
finish(struct MHD_Connection *c, struct req *r)
{
	if (r->in.body == NULL)
		r->in.body = "";
	wb_webhook_decide(&hook, &r->in, &r->d);
	if (r->d.enqueue) {
		if (hand_over(c, r) == 0)
			return MHD_YES;
		log_delivery(&r->d, 503, "not queued: shutting down");
		return reply(c, r, 503, NULL);
	}
	log_delivery(&r->d, r->d.status, r->d.outcome);
	return reply(c, r, r->d.status, NULL);
}

/* Called again once the Redis thread resumed the request. */
static MHD_RESULT
resumed(struct MHD_Connection *c, struct req *r)
{
	char outcome[300];

	if (!atomic_load(&r->done))
		return MHD_YES;
	if (r->route == WB_HOOK_HEALTH) {
		if (r->failed)
			wb_warn("healthz: %s", r->err);
		return reply(c, r, r->failed ? 503 : 200, NULL);
	}
	if (r->failed) {
		snprintf(outcome, sizeof outcome, "not queued: %s", r->err);
		log_delivery(&r->d, 503, outcome);
		return reply(c, r, 503, NULL);
	}
	log_delivery(&r->d, r->d.status, r->d.outcome);
	return reply(c, r, r->d.status, NULL);
}

static MHD_RESULT
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data, size_t *size,
    void **req_cls)
{
	struct req *r = *req_cls;

	(void)cls, (void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof *r)) == NULL)
			return MHD_NO;
		r->start = time(NULL);
		*req_cls = r;
		atomic_fetch_add(&inflight, 1);
		return begin(c, r, method, url);
	}
	if (r->waiting)
		return resumed(c, r);
	if (*size > 0)
		return gather(c, r, data, size);
	if (r->answered)
		return MHD_YES;
	return finish(c, r);
}

static void
completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *req_cls;

	(void)cls, (void)c;
	if (r == NULL)
		return;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !r->answered &&
	    r->route == WB_HOOK_RECEIVE)
		wb_debug("delivery %s: connection ended before an answer (%d)",
		    r->d.delivery, (int)toe);
	atomic_fetch_sub(&buffered, r->reserved);
	free(r->body);
	free(r);
	*req_cls = NULL;
	atomic_fetch_sub(&inflight, 1);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	wb_warn("libmicrohttpd: %s", msg);
}

/*
 * Bind and listen on 'spec', "host:port" or "[v6]:port" (an empty host is
 * every address). A malformed address exits 100, a failed bind 111.
 */
static int
listen_on(const char *spec, char *shown, size_t shownlen)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	    .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	char host[256], port[8], hs[NI_MAXHOST], ps[NI_MAXSERV];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	unsigned long long p;
	const char *colon, *why, *h = spec;
	size_t hl;
	int fd, one = 1, rc;

	if (*spec == '[') {
		const char *rb = strchr(spec, ']');
		colon = rb != NULL && rb[1] == ':' ? rb + 1 : NULL;
		h = spec + 1;
		hl = rb != NULL ? (size_t)(rb - h) : 0;
	} else {
		colon = strrchr(spec, ':');
		hl = colon != NULL ? (size_t)(colon - spec) : 0;
	}
	if (colon == NULL || hl >= sizeof host ||
	    wb_scan_uint(colon + 1, strlen(colon + 1), 0, 65535, &p, &why) < 0)
		wb_die(WB_EXIT_USAGE, "WB_HOOK_LISTEN is not host:port or "
		    "[v6]:port: %s", spec);
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, sizeof port, "%llu", p);
	if ((rc = getaddrinfo(hl ? host : NULL, port, &hints, &ai)) != 0)
		wb_die(rc == EAI_AGAIN ? WB_EXIT_TEMP : WB_EXIT_USAGE,
		    "unable to resolve WB_HOOK_LISTEN %s: %s", spec,
		    gai_strerror(rc));
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to create a socket for %s", spec);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 511) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to listen on %s", spec);
	freeaddrinfo(ai);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, hs, sizeof hs, ps, sizeof ps,
	    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(shown, shownlen, strchr(hs, ':') ? "[%s]:%s" : "%s:%s",
		    hs, ps);
	else
		snprintf(shown, shownlen, "%s", spec);
	return fd;
}

/* Check the Redis URL now: a wrong one is permanent, a down Redis is not. */
static void
check_redis(void)
{
	char err[512];
	int permanent;
	redisContext *c = wb_redis_open(cfg.redis, REDIS_TIMEOUT_MS, err,
	    sizeof err, &permanent);

	if (c != NULL)
		redisFree(c);
	else if (permanent)
		wb_die(WB_EXIT_USAGE, "%s", err);
	else
		wb_warn("%s; answering 503 until it is back", err);
}

static struct MHD_Daemon *
serve(int fd, unsigned threads)
{
	struct MHD_Daemon *d;

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONN_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MAX,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_END);
	if (d == NULL)
		wb_die(WB_EXIT_TEMP, "unable to start the HTTP server");
	return d;
}

/* After SIGTERM: stop accepting, let requests in flight finish, stop. */
static void
shut_down(struct MHD_Daemon *d, pthread_t redis)
{
	struct timespec tick = { 0, 10000000 };
	MHD_socket fd;
	int waited = 0;

	atomic_store(&stopping, 1);
	fd = MHD_quiesce_daemon(d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	while (atomic_load(&inflight) > 0 && waited++ < SHUTDOWN_GRACE * 100)
		nanosleep(&tick, NULL);
	pthread_mutex_lock(&list_lock);
	list_closed = 1;
	pthread_cond_signal(&list_cond);
	pthread_mutex_unlock(&list_lock);
	pthread_join(redis, NULL);
	MHD_stop_daemon(d);
	wb_queue_close(&queue);
	if (accepted != NULL)
		MHD_destroy_response(accepted);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { WB_CLI_LONGOPTS };
	unsigned long long v;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = cpus > 0 && cpus < 64 ? (unsigned)cpus : 2;
	struct MHD_Daemon *d;
	pthread_t redis;
	const char *why;
	char where[300];
	sigset_t stop;
	int ch, fd, notify = -1, sig;

	wb_cli_start("wb-hook");
	while ((ch = getopt_long(argc, argv, "d:ht:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (wb_scan_uint(optarg, strlen(optarg), 3, 1023, &v,
			    &why) < 0 || fcntl((int)v, F_GETFD) < 0)
				wb_die(WB_EXIT_USAGE, "-d needs an open file "
				    "descriptor 3 or more: %s", optarg);
			notify = (int)v;
			break;
		case 'h':
			wb_cli_help(USAGE, HELP);
		case 't':
			if (wb_scan_uint(optarg, strlen(optarg), 1, 64, &v,
			    &why) < 0)
				wb_die(WB_EXIT_USAGE, "-t is %s (1..64): %s", why,
				    optarg);
			threads = (unsigned)v;
			break;
		case 'V':
			wb_cli_version();
		default:
			wb_dieusage(USAGE);
		}
	}
	if (argc != optind)
		wb_dieusage(USAGE);
	wb_config_load(&cfg);
	hook.repo = cfg.repo;
	hook.secret = cfg.hook_secret;
	hook.secret_len = hook.secret != NULL ? strlen(hook.secret) : 0;
	if (hook.secret == NULL)
		wb_warn("WB_HOOK_SECRET is not set: deliveries are accepted "
		    "without a signature check");
	check_redis();
	fd = listen_on(cfg.hook_listen, where, sizeof where);

	/* Blocked in every thread MHD starts; only sigwait() takes them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if ((errno = pthread_create(&redis, NULL, redis_thread, NULL)) != 0)
		wb_diesys(WB_EXIT_TEMP, "unable to start a thread");
	accepted = make_response(202, NULL, 0);
	d = serve(fd, threads);
	wb_info("listening on %s, %u threads, queueing %s issues into %s",
	    where, threads, cfg.repo, QUEUE);
	if (notify >= 0) {
		if (write(notify, "\n", 1) != 1)
			wb_warnsys("unable to write the readiness notification");
		close(notify);
	}
	while (sigwait(&stop, &sig) != 0)
		;
	wb_info("signal %d: finishing requests in flight, then exiting", sig);
	shut_down(d, redis);
	return wb_cli_end(WB_EXIT_OK);
}
