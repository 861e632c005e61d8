/* wb-hook — receive GitHub webhooks and queue the issues they name.
 *
 * An HTTP server (libmicrohttpd) for POST /github/receive: a signed
 * "issues" or "issue_comment" delivery of WB_REPO queues its issue number
 * into "download" and is answered 202 once Redis confirmed it, 503 when
 * Redis is unreachable. What a request means is decided in
 * lib/wb_webhook.c; this file only serves.
 *
 * Each serving thread runs one epoll loop over its own libmicrohttpd
 * daemon (its own listening socket, SO_REUSEPORT), its own Redis
 * connection and the stop event: a request that needs Redis is
 * suspended, and the numbers of all the requests suspended meanwhile go
 * to Redis in one script call while the loop goes on serving; its reply
 * resumes them. No state is shared between the loops but the body budget.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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
	"  -t THREADS  serving threads, each with its own Redis connection\n" \
	"              (default: the number of CPUs)\n" \
	"See wb-hook(1).\n"

#define QUEUE "download"
#define REDIS_TIMEOUT_MS 2000	/* a stuck Redis makes a 503, not a hang */
#define SLOW_CONNECT_MS 50	/* a failed attempt this slow is backed off */
#define BACKOFF_MIN_MS 1000	/* from the next attempt, doubling */
#define BACKOFF_MAX_MS 16000
#define CONN_LIMIT 512		/* connections in all */
#define CONN_PER_IP 128		/* connections from one address */
#define IDLE_TIMEOUT 10		/* seconds without a byte: closed */
#define HEADER_TIMEOUT 10	/* seconds to send the headers (default) */
#define BODY_TIMES 6		/* a whole body gets 6 times as long */
#define SHUTDOWN_GRACE 10	/* seconds in-flight requests get on SIGTERM */
#define BODY_BUDGET (128ULL << 20)	/* bytes of bodies held at once */
#define ADDR_BUDGET (32ULL << 20)	/* of which from one address */
#define ADDR_SLOTS 1024			/* addresses are hashed into these */
#define FIRST_BUFFER 65536		/* a body's first buffer; it grows */
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
	size_t declared;	/* Content-Length, 0 when absent */
	size_t reserved;	/* bytes of BODY_BUDGET held (= cap) */
	long long start;	/* ms: headers complete */
	struct conn *cs;	/* its connection, NULL once that closed */
	/* Suspended while Redis is asked; 'done' once it answered. */
	struct MHD_Connection *conn;
	struct req *next;
	int waiting;
	int done;
	int failed;
	char err[256];
};

/*
 * A connection, from accept to close: when it began waiting for the
 * headers of its next request, and that request once they came. The loop
 * shuts down the socket of one that is out of time (MHD's own timeout
 * only closes connections that send nothing at all).
 */
struct conn {
	int fd;
	unsigned slot;		/* its address's share of the body budget */
	long long since;	/* ms: accepted, or its last request ended */
	struct req *r;		/* the request in progress, NULL: headers */
	struct conn *prev, *next;
};

/* Shared by the loops, set before they start. */
static struct wb_config cfg;
static struct wb_hook_config hook;
static unsigned nloops;
static int stop_fd = -1;	/* eventfd: readable once SIGTERM arrived */
static int stop_sig;
static atomic_ullong buffered;	/* bytes of bodies reserved, all loops */
static atomic_ullong addr_held[ADDR_SLOTS];	/* the same, per address */
static long long header_ms = HEADER_TIMEOUT * 1000;
static sem_t started;		/* posted by each loop once it serves */

/* Each loop's own state: one set per serving thread. */
static _Thread_local struct MHD_Daemon *daemon_;
static _Thread_local int inflight;	/* requests begun, not completed */
static _Thread_local int stopping;	/* 1 finishing, 2 out of time */
static _Thread_local long long stop_deadline;
static _Thread_local int ep = -1;	/* the epoll set */
static _Thread_local int resumed_some;	/* MHD must run again at once */
static _Thread_local struct conn *conns;	/* every open connection */
static _Thread_local long long next_sweep;

/*
 * Redis: requests waiting for the next batch, and the batch Redis is
 * answering (at most one at a time, so replies need no matching).
 */
static _Thread_local struct wb_queue queue;	/* .c NULL: disconnected */
static _Thread_local int redis_fd = -1;	/* queue.c's socket, watched */
static _Thread_local int fresh;		/* not answered on it yet */
static _Thread_local struct req *queued, **queued_tail;
static _Thread_local struct req *sent;
static _Thread_local size_t sent_n;	/* numbers sent; 0: a PING */
static _Thread_local int sent_fresh;	/* sent on a connection made for it */
static _Thread_local long long sent_at;
/* After a slow failed connection attempt: no other before retry_at, and
 * 503 at once with the reason meanwhile. */
static _Thread_local long long retry_at, backoff_ms;
static _Thread_local char retry_err[256];

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Suspend the request of 'c' until Redis has answered for it. */
static void
hand_over(struct MHD_Connection *c, struct req *r)
{
	r->conn = c;
	r->waiting = 1;
	MHD_suspend_connection(c);
	r->next = NULL;
	*queued_tail = r;
	queued_tail = &r->next;
}

/* Resume every request of 'list' with the outcome. */
static void
settle(struct req *list, int failed, const char *err)
{
	while (list != NULL) {
		struct req *r = list;

		list = r->next;
		r->failed = failed;
		if (failed)
			snprintf(r->err, sizeof r->err, "%s", err);
		r->done = 1;
		MHD_resume_connection(r->conn);
		resumed_some = 1;
	}
}

/* Answer 503 to every request waiting for the next batch. */
static void
fail_queued(const char *err)
{
	struct req *all = queued;

	queued = NULL;
	queued_tail = &queued;
	settle(all, 1, err);
}

static void
drop_redis(void)
{
	if (redis_fd >= 0)
		epoll_ctl(ep, EPOLL_CTL_DEL, redis_fd, NULL);
	redis_fd = -1;
	wb_queue_close(&queue);
}

/*
 * (Re)open the connection; returns 0, or -1 with 'err' set. It blocks
 * the loop, for REDIS_TIMEOUT_MS at most per step; an attempt that
 * failed slowly (an address that does not answer, a frozen Redis) is
 * not repeated before a backoff, so the loop mostly goes on serving.
 */
static int
reconnect(char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN };
	long long t0 = now_ms();
	redisContext *c;
	int permanent;

	drop_redis();
	if (t0 < retry_at) {
		snprintf(err, errlen, "%s", retry_err);
		return -1;
	}
	wb_debug("connecting to Redis");
	c = wb_redis_open_within(cfg.redis, REDIS_TIMEOUT_MS, REDIS_TIMEOUT_MS,
	    err, errlen, &permanent);
	if (c == NULL || wb_queue_init(&queue, c, err, errlen) < 0) {
		if (c != NULL)
			wb_queue_close(&queue);
		if (now_ms() - t0 >= SLOW_CONNECT_MS) {
			backoff_ms = backoff_ms == 0 ? BACKOFF_MIN_MS :
			    backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    backoff_ms * 2;
			retry_at = now_ms() + backoff_ms;
			snprintf(retry_err, sizeof retry_err, "%.200s (next attempt "
			    "in %lld ms)", err, backoff_ms);
		}
		return -1;
	}
	backoff_ms = 0;
	ev.data.fd = redis_fd = c->fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, redis_fd, &ev) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to watch the Redis connection");
	fresh = 1;
	return 0;
}

/*
 * The batch sent failed with 'err'. If it went over a connection that had
 * worked before (Redis restarted since), send it once more on a new one:
 * queueing a number twice is harmless. Otherwise its requests get 503.
 */
static void
batch_failed(const char *err)
{
	struct req *r = sent, **tail = &r;

	drop_redis();
	sent = NULL;
	if (r == NULL)
		return;
	if (sent_fresh || stopping == 2) {
		settle(r, 1, err);
		return;
	}
	/* The failed batch goes back in front of the requests that arrived
	 * meanwhile; the next pass of the loop sends it. */
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = queued;
	if (queued == NULL)
		queued_tail = tail;
	queued = r;
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

/*
 * Send the numbers of the waiting requests (up to a batch) in one script
 * call, or a PING when only health checks wait. The reply is read when
 * the socket is readable (redis_readable).
 */
static void
send_batch(void)
{
	long numbers[WB_QUEUE_BATCH_MAX];
	struct req **tail;
	char err[256];
	size_t n = 0;
	int done = 0;

	if (queue.c == NULL && reconnect(err, sizeof err) < 0) {
		fail_queued(err);
		return;
	}
	for (tail = &queued; *tail != NULL && n < WB_QUEUE_BATCH_MAX;
	    tail = &(*tail)->next)
		if ((*tail)->route == WB_HOOK_RECEIVE)
			numbers[n++] = (*tail)->d.number;
	sent = queued;
	queued = *tail;
	*tail = NULL;
	if (queued == NULL)
		queued_tail = &queued;
	sent_n = unique(numbers, n);
	sent_fresh = fresh;
	sent_at = now_ms();
	wb_debug("asking Redis to queue %zu numbers", sent_n);
	if (sent_n > 0)
		wb_queue_append_push(&queue, QUEUE, numbers, sent_n);
	else
		redisAppendCommand(queue.c, "PING");
	while (!done)
		if (redisBufferWrite(queue.c, &done) != REDIS_OK) {
			snprintf(err, sizeof err, "Redis connection lost: %s",
			    queue.c->errstr);
			batch_failed(err);
			return;
		}
}

/* Redis answered (or closed the connection). */
static void
redis_readable(void)
{
	struct req *done;
	char err[256];
	redisReply *r;
	void *v = NULL;

	if (sent == NULL) {
		/* Nothing asked: Redis closed or restarted. */
		drop_redis();
		return;
	}
	if (sent_n > 0) {
		if (wb_queue_push_reply(&queue, err, sizeof err) < 0) {
			batch_failed(err);
			return;
		}
	} else {
		if (redisGetReply(queue.c, &v) != REDIS_OK || v == NULL ||
		    ((redisReply *)v)->type != REDIS_REPLY_STATUS) {
			r = v;
			snprintf(err, sizeof err, "Redis did not answer PING: %s",
			    r != NULL && r->type == REDIS_REPLY_ERROR ? r->str :
			    queue.c->errstr[0] ? queue.c->errstr : "no reply");
			if (r != NULL)
				freeReplyObject(r);
			batch_failed(err);
			return;
		}
		freeReplyObject(v);
	}
	fresh = 0;
	done = sent;
	sent = NULL;
	settle(done, 0, NULL);
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
	int close = stopping;
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
 * Hold 'more' bytes of BODY_BUDGET, and of its address's ADDR_BUDGET, for
 * 'r', as its body arrives: a few deliveries of GitHub's largest size
 * fit, a flood of them does not exhaust memory, and one address cannot
 * take it all. Returns 0, or -1 when a budget is spent.
 */
static int
reserve(struct req *r, size_t more)
{
	atomic_ullong *mine = &addr_held[r->cs != NULL ? r->cs->slot : 0];

	if (atomic_fetch_add(&buffered, more) + more > BODY_BUDGET) {
		atomic_fetch_sub(&buffered, more);
		return -1;
	}
	if (atomic_fetch_add(mine, more) + more > ADDR_BUDGET) {
		atomic_fetch_sub(mine, more);
		atomic_fetch_sub(&buffered, more);
		return -1;
	}
	r->reserved += more;
	return 0;
}

/* Give back what reserve() held for 'r'. */
static void
release(struct req *r)
{
	atomic_fetch_sub(&buffered, r->reserved);
	atomic_fetch_sub(&addr_held[r->cs != NULL ? r->cs->slot : 0],
	    r->reserved);
	r->reserved = 0;
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
		hand_over(c, r);
		return MHD_YES;
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
	/* Checked by wb_webhook_headers(): at most WB_HOOK_BODY_MAX. Only
	 * bytes that arrive are held (gather()), never a promise. */
	if (r->in.content_length != NULL)
		r->declared = strtoul(r->in.content_length, NULL, 10);
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
	if (n > WB_HOOK_BODY_MAX - r->in.len) {
		/*
		 * Only a body without Content-Length gets here (a declared
		 * length over the cap was refused at once), and MHD 0.9
		 * cannot answer in the middle of a body: close instead.
		 */
		log_delivery(&r->d, 413, "body over 25 MB, connection closed");
		return MHD_NO;
	}
	if (r->in.len + n > r->cap) {
		size_t cap = r->cap ? r->cap : FIRST_BUFFER;
		size_t most = r->declared ? r->declared : WB_HOOK_BODY_MAX;
		char *p;

		while (cap < r->in.len + n)
			cap *= 2;
		if (cap > most)
			cap = most;
		if (cap < r->in.len + n)
			cap = r->in.len + n;
		if (reserve(r, cap - r->cap) < 0) {
			log_delivery(&r->d, 503, "too many large bodies at once, "
			    "connection closed");
			return MHD_NO;
		}
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

/* Last call: decide, and have the number queued. */
static MHD_RESULT
finish(struct MHD_Connection *c, struct req *r)
{
	if (r->in.body == NULL)
		r->in.body = "";
	wb_webhook_decide(&hook, &r->in, &r->d);
	if (r->d.enqueue) {
		hand_over(c, r);
		return MHD_YES;
	}
	log_delivery(&r->d, r->d.status, r->d.outcome);
	return reply(c, r, r->d.status, NULL);
}

/* Called again once Redis answered for the request. */
static MHD_RESULT
resumed(struct MHD_Connection *c, struct req *r)
{
	char outcome[300];

	if (!r->done)
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
		r->start = now_ms();
		r->cs = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_SOCKET_CONTEXT)->socket_context;
		if (r->cs != NULL)
			r->cs->r = r;
		*req_cls = r;
		inflight++;
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
	release(r);
	if (r->cs != NULL) {
		r->cs->r = NULL;
		r->cs->since = now_ms();
	}
	free(r->body);
	free(r);
	*req_cls = NULL;
	inflight--;
}

/* Which ADDR_SLOTS slot the client address of 'c' counts against. */
static unsigned
addr_slot(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = i != NULL ? i->client_addr : NULL;
	const unsigned char *p = NULL;
	size_t n = 0;
	uint32_t h = 2166136261u;	/* FNV-1a */

	if (sa != NULL && sa->sa_family == AF_INET) {
		p = (const unsigned char *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
		n = 4;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		p = (const unsigned char *)&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
		n = 16;
	}
	for (size_t k = 0; k < n; k++)
		h = (h ^ p[k]) * 16777619u;
	return h % ADDR_SLOTS;
}

/* MHD_OPTION_NOTIFY_CONNECTION: keep 'conns' up to date. */
static void
notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct conn *k = *socket_context;

	(void)cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((k = calloc(1, sizeof *k)) == NULL)
			return;	/* not tracked: MHD's idle timeout still holds */
		k->fd = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD)->connect_fd;
		k->slot = addr_slot(c);
		k->since = now_ms();
		if ((k->next = conns) != NULL)
			conns->prev = k;
		conns = k;
		*socket_context = k;
		return;
	}
	if (k == NULL)
		return;
	if (k->r != NULL) {
		release(k->r);	/* while its slot is known */
		k->r->cs = NULL;
	}
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		conns = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	free(k);
	*socket_context = NULL;
}

/*
 * Shut down the connections out of time: headers not complete within
 * header_ms of accept (or of the previous request's end), or a body not
 * complete within BODY_TIMES times that. MHD then closes them.
 */
static void
sweep(void)
{
	long long now = now_ms();

	for (struct conn *k = conns; k != NULL; k = k->next) {
		struct req *r = k->r;

		if (r == NULL && now - k->since > header_ms) {
			wb_debug("closing a connection: no request headers "
			    "within %lld s", header_ms / 1000);
			shutdown(k->fd, SHUT_RDWR);
			k->since = now;	/* once is enough */
		} else if (r != NULL && !r->waiting &&
		    now - r->start > BODY_TIMES * header_ms) {
			/* Also a body still trickling after an early answer
			 * (MHD reads it to the end). */
			if (!r->answered && r->route == WB_HOOK_RECEIVE)
				log_delivery(&r->d, 408, "body too slow, "
				    "connection closed");
			shutdown(k->fd, SHUT_RDWR);
			r->answered = 1;
		}
	}
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
 * Resolve 'spec', "host:port" or "[v6]:port" (an empty host is every
 * address), into 'ss'. A malformed address exits 100.
 */
static socklen_t
resolve(const char *spec, struct sockaddr_storage *ss)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	    .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	char host[256], port[8];
	unsigned long long p;
	const char *colon, *why, *h = spec;
	socklen_t len;
	size_t hl;
	int rc;

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
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return len;
}

/*
 * A listening socket on 'ss' (one per loop: SO_REUSEPORT lets the kernel
 * spread the connections). A port 0 becomes the one chosen, so that the
 * next sockets join it. A failed bind exits 111.
 */
static int
listen_on(struct sockaddr_storage *ss, socklen_t len, const char *spec)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to create a socket for %s", spec);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)ss, len) < 0 || listen(fd, 511) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to listen on %s", spec);
	getsockname(fd, (struct sockaddr *)ss, &len);
	return fd;
}

/* 'ss' as "host:port" or "[v6]:port" for messages. */
static void
show(const struct sockaddr_storage *ss, socklen_t len, char *out,
    size_t outlen)
{
	char hs[NI_MAXHOST], ps[NI_MAXSERV];

	if (getnameinfo((const struct sockaddr *)ss, len, hs, sizeof hs, ps,
	    sizeof ps, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(out, outlen, strchr(hs, ':') ? "[%s]:%s" : "%s:%s",
		    hs, ps);
	else
		snprintf(out, outlen, "%s", cfg.hook_listen);
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

/* After SIGTERM: stop accepting; the loop lets requests in flight finish. */
static void
begin_stop(void)
{
	MHD_socket fd;

	stopping = 1;
	stop_deadline = now_ms() + SHUTDOWN_GRACE * 1000;
	fd = MHD_quiesce_daemon(daemon_);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

static struct MHD_Daemon *
start_daemon(int fd)
{
	struct MHD_Daemon *d;

	d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (CONN_LIMIT + nloops - 1) / nloops,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (CONN_PER_IP + nloops - 1) / nloops,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MAX,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_conn, NULL,
	    MHD_OPTION_END);
	if (d == NULL)
		wb_die(WB_EXIT_TEMP, "unable to start the HTTP server");
	return d;
}

static void
watch(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to watch file descriptor %d", fd);
}

/* How long the loop may sleep, in ms. */
static int
sleep_ms(void)
{
	MHD_UNSIGNED_LONG_LONG t;
	long long ms = 1000, now = now_ms();

	if (resumed_some)
		return 0;
	/* Without a timeout from MHD, wake each second all the same. */
	if (MHD_get_timeout(daemon_, &t) == MHD_YES && (long long)t < ms)
		ms = (long long)t;
	if (sent != NULL && sent_at + REDIS_TIMEOUT_MS - now < ms)
		ms = sent_at + REDIS_TIMEOUT_MS - now;
	if (stopping && stop_deadline - now < ms)
		ms = stop_deadline - now;
	return ms < 0 ? 0 : (int)ms;
}

/* The loop; returns after SIGTERM once the requests in flight are done. */
static void
serve(void)
{
	struct epoll_event ev[16];
	int n;

	watch(MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd);
	watch(stop_fd);
	for (;;) {
		n = epoll_wait(ep, ev, 16, sleep_ms());
		if (n < 0 && errno != EINTR)
			wb_diesys(WB_EXIT_TEMP, "unable to wait for events");
		resumed_some = 0;
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == redis_fd)
				redis_readable();
			else if (ev[i].data.fd == stop_fd && !stopping) {
				/* Left readable for the other loops. */
				epoll_ctl(ep, EPOLL_CTL_DEL, stop_fd, NULL);
				begin_stop();
			}
		}
		if (sent != NULL && now_ms() - sent_at >= REDIS_TIMEOUT_MS)
			batch_failed("Redis did not answer within 2 s");
		if (now_ms() >= next_sweep) {
			sweep();
			next_sweep = now_ms() + 250;
		}
		MHD_run(daemon_);
		if (sent == NULL && queued != NULL)
			send_batch();
		if (stopping && inflight == 0 && sent == NULL && queued == NULL)
			break;
		if (stopping && now_ms() >= stop_deadline) {
			/* Out of time: answer 503 to what still waits for
			 * Redis, and give that one more second. */
			if (sent != NULL)
				batch_failed("shutting down");
			fail_queued("shutting down");
			if (stopping == 2) {
				/* No connection may stay suspended when MHD
				 * stops: the ones just resumed get their 503. */
				MHD_run(daemon_);
				break;
			}
			wb_warn("still %d requests in flight after %d s: "
			    "answering 503 to those waiting for Redis",
			    inflight, SHUTDOWN_GRACE);
			stopping = 2;
			stop_deadline = now_ms() + 1000;
		}
	}
}

/* A serving thread: its daemon on listening socket 'arg', its loop. */
static void *
loop_main(void *arg)
{
	queued_tail = &queued;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to set up the event loop");
	daemon_ = start_daemon((int)(intptr_t)arg);
	sem_post(&started);
	serve();
	MHD_stop_daemon(daemon_);
	drop_redis();
	close(ep);
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { WB_CLI_LONGOPTS };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct sockaddr_storage ss;
	unsigned long long v;
	pthread_t tid[64];
	const char *why, *env;
	char where[300];
	sigset_t stop;
	socklen_t len;
	int ch, notify = -1;

	wb_cli_start("wb-hook");
	nloops = cpus > 0 && cpus <= 64 ? (unsigned)cpus : 2;
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
			nloops = (unsigned)v;
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
	if ((env = getenv("WB_HOOK_HEADER_TIMEOUT")) != NULL) {
		if (wb_scan_uint(env, strlen(env), 1, 3600, &v, &why) < 0)
			wb_die(WB_EXIT_USAGE, "WB_HOOK_HEADER_TIMEOUT is %s "
			    "(1..3600 seconds): %s", why, env);
		header_ms = (long long)v * 1000;
	}
	hook.repo = cfg.repo;
	hook.secret = cfg.hook_secret;
	hook.secret_len = hook.secret != NULL ? strlen(hook.secret) : 0;
	if (hook.secret == NULL)
		wb_warn("WB_HOOK_SECRET is not set: deliveries are accepted "
		    "without a signature check");
	check_redis();
	len = resolve(cfg.hook_listen, &ss);

	/* Blocked in every thread; only sigwait() below takes them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if ((stop_fd = eventfd(0, EFD_CLOEXEC)) < 0 || sem_init(&started, 0, 0) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to set up the event loops");
	accepted = make_response(202, NULL, 0);
	/* Also settles, before any thread starts, whether debug is on. */
	wb_debug("starting %u serving threads", nloops);
	for (unsigned i = 0; i < nloops; i++) {
		int fd = listen_on(&ss, len, cfg.hook_listen);

		if ((errno = pthread_create(&tid[i], NULL, loop_main,
		    (void *)(intptr_t)fd)) != 0)
			wb_diesys(WB_EXIT_TEMP, "unable to start a thread");
	}
	for (unsigned i = 0; i < nloops; i++)
		while (sem_wait(&started) < 0)
			;
	show(&ss, len, where, sizeof where);
	wb_info("listening on %s, %u threads, queueing %s issues into %s",
	    where, nloops, cfg.repo, QUEUE);
	if (notify >= 0) {
		if (write(notify, "\n", 1) != 1)
			wb_warnsys("unable to write the readiness notification");
		close(notify);
	}
	while (sigwait(&stop, &stop_sig) != 0)
		;
	wb_info("signal %d: finishing requests in flight, then exiting",
	    stop_sig);
	if (eventfd_write(stop_fd, 1) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to stop the event loops");
	for (unsigned i = 0; i < nloops; i++)
		pthread_join(tid[i], NULL);
	if (accepted != NULL)
		MHD_destroy_response(accepted);
	return wb_cli_end(WB_EXIT_OK);
}
