/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the HTTP side of wb-hook: one libmicrohttpd daemon. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wb_hook_budget.h"
#include "wb_clock.h"
#include "wb_err.h"
#include "wb_hook_http.h"
#include "wb_metrics.h"

#if MHD_VERSION >= 0x00097002
#define MHD_RESULT enum MHD_Result
#else
#define MHD_RESULT int
#endif

#define CONN_LIMIT WB_HOOK_BUDGET_CONNS	/* connections in all */
#define CONN_PER_IP 128		/* connections from one address */
#define IDLE_TIMEOUT 10		/* seconds without a byte: closed */
#define NEAR_LIMIT(n) ((n) * 3 / 4)	/* of the connections allowed: near
					   the limit, idle ones are closed */
#define NEAR_IDLE_MS 1000	/* then: no request within this, closed */
#define BODY_TIMES 6		/* a whole body gets 6 times header_ms */
#define SWEEP_MS 250		/* how often connections are checked */
#define FIRST_BUFFER 65536	/* a body's first buffer; it grows */
#define HEADER_MAX 16384	/* per connection: request line, headers and
				   read buffer; GitHub's headers take ~1.5 KB */

/* One request, from its headers to its answer. */
struct req {
	struct wb_hook_http *h;
	enum wb_hook_route route;
	int answered;
	struct wb_hook_request in;
	struct wb_hook_decision d;
	char *body;
	size_t cap;
	size_t declared;	/* Content-Length, 0 when absent */
	size_t reserved;	/* bytes of the body budget held (= cap) */
	int refused;		/* over the budget: the rest of the body is
				   read and dropped, then 503 */
	long long start;	/* ms: headers complete */
	struct wb_hook_conn *cs;	/* its connection, NULL once that closed */
	/* Suspended while Redis is asked; item.done once it answered. */
	struct MHD_Connection *conn;
	int waiting;
	struct wb_hook_batch_item item;
	struct wb_metrics m;	/* GET /metrics: the answer */
};

/*
 * A connection, from accept to close: when it began waiting for the
 * headers of its next request, and that request once they came. The
 * sweep shuts down the socket of one that is out of time (MHD's own
 * timeout only closes connections that send nothing at all).
 */
struct wb_hook_conn {
	int fd;
	unsigned slot;		/* its address's share of the body budget */
	long long since;	/* ms: accepted, or its last request ended */
	int shut;		/* shut down: MHD closes it next */
	struct req *r;		/* the request in progress, NULL: headers */
	struct wb_hook_conn *prev, *next;
};

/*============================ Deliveries counted ============================*/

/* The events a delivery is counted under; any other is "other". */
static const char *const events[] = { "issues", "issue_comment", "ping",
    "other" };
#define NEVENTS (sizeof events / sizeof events[0])
/* The statuses a delivery can get (wb_webhook.c, and here: 408, 503). */
static const int codes[] = { 200, 202, 400, 401, 408, 413, 503 };
#define NCODES (sizeof codes / sizeof codes[0])

/* Shared by every serving thread of the process. */
static atomic_ullong deliveries[NEVENTS][NCODES];

/* Count a delivery of the (sanitised) 'event' answered 'status'. */
static void
count_delivery(const char *event, int status)
{
	size_t e = 0, k = 0;

	while (e < NEVENTS - 1 && strcmp(events[e], event) != 0)
		e++;
	while (k < NCODES && codes[k] != status)
		k++;
	if (k < NCODES)
		atomic_fetch_add_explicit(&deliveries[e][k], 1,
		    memory_order_relaxed);
}

/* wb_hook_deliveries_total{event,code}: every pair counted so far. */
static void
render_deliveries(struct wb_metrics *m)
{
	wb_metrics_family(m, "wb_hook_deliveries_total", "counter",
	    "Deliveries to POST /github/receive by event (issues, "
	    "issue_comment, ping, other) and the HTTP status answered, since "
	    "wb-hook started.");
	for (size_t e = 0; e < NEVENTS; e++)
		for (size_t k = 0; k < NCODES; k++) {
			unsigned long long n = atomic_load_explicit(
			    &deliveries[e][k], memory_order_relaxed);
			char code[8];
			const char *labels[] = { "event", events[e], "code", code,
			    NULL };

			if (n == 0)
				continue;
			snprintf(code, sizeof code, "%d", codes[k]);
			wb_metrics_sample(m, labels, (double)n);
		}
}

/*============================ Requests ============================*/

/* Suspend the request of 'c' until Redis has answered for it. */
static void
hand_over(struct wb_hook_http *h, struct MHD_Connection *c, struct req *r)
{
	r->conn = c;
	r->waiting = 1;
	MHD_suspend_connection(c);
	r->item.number = r->route == WB_HOOK_RECEIVE ? r->d.number : 0;
	wb_hook_batcher_add(h->batcher, &r->item);
}

void
wb_hook_http_settled(struct wb_hook_batch_item *item, void *arg)
{
	struct wb_hook_http *h = arg;
	struct req *r = (struct req *)(void *)((char *)item -
	    offsetof(struct req, item));

	MHD_resume_connection(r->conn);
	h->resumed_some = 1;
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

/*
 * A response for 'status', its body 'text' (copied; NULL: the status's
 * own); NULL when out of memory.
 */
static struct MHD_Response *
make_response(int status, const char *text, const char *allow, int close)
{
	struct MHD_Response *resp;

	if (text == NULL)
		resp = MHD_create_response_from_buffer(
		    strlen(status_text(status)), (void *)status_text(status),
		    MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(strlen(text),
		    (void *)text, MHD_RESPMEM_MUST_COPY);
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

/* Answer 'status' with body 'text' (NULL: the status's own). */
static MHD_RESULT
reply_text(struct MHD_Connection *c, struct req *r, int status,
    const char *text, const char *allow)
{
	int close = r->h->stopping;
	struct MHD_Response *resp;
	MHD_RESULT ret;

	r->answered = 1;
	if (status == 202 && !close && r->h->accepted != NULL && text == NULL)
		return MHD_queue_response(c, 202, r->h->accepted);
	if ((resp = make_response(status, text, allow, close)) == NULL)
		return MHD_NO;
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static MHD_RESULT
reply(struct MHD_Connection *c, struct req *r, int status, const char *allow)
{
	return reply_text(c, r, status, NULL, allow);
}

/*
 * The one log line of a delivery. A refusal is a warning, at most one a
 * WB_WARN_INTERVAL per status and outcome (up to its first ':'), with a
 * count of those not logged: a client can repeat it at will.
 */
static void
log_delivery(const struct wb_hook_decision *d, int status, const char *outcome)
{
	void (*logf)(const char *, ...) = d->quiet ? wb_debug : wb_info;
	char num[24] = "-", cause[80];

	count_delivery(d->event, status);
	if (d->number > 0)
		snprintf(num, sizeof num, "%ld", d->number);
	if (status >= 400) {
		snprintf(cause, sizeof cause, "delivery %d %.*s", status,
		    (int)strcspn(outcome, ":"), outcome);
		wb_warn_limited(cause, "delivery %s event %s action %s number "
		    "%s: %d %s", d->delivery, d->event, d->action, num, status,
		    outcome);
		return;
	}
	logf("delivery %s event %s action %s number %s: %d %s", d->delivery,
	    d->event, d->action, num, status, outcome);
}

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Hold 'more' bytes of the body budget for 'r'; 0, or -1 when spent. */
static int
reserve(struct req *r, size_t more)
{
	if (wb_hook_budget_reserve(r->cs != NULL ? r->cs->slot : 0, more,
	    r->reserved + more) < 0)
		return -1;
	r->reserved += more;
	return 0;
}

/* Give back what reserve() held for 'r'. */
static void
release(struct req *r)
{
	wb_hook_budget_release(r->cs != NULL ? r->cs->slot : 0, r->reserved);
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
	case WB_HOOK_METRICS:
		wb_metrics_init(&r->m);
		r->item.metrics = &r->m;
		/* FALLTHROUGH */
	case WB_HOOK_HEALTH:
		hand_over(r->h, c, r);
		return MHD_YES;
	case WB_HOOK_RECEIVE:
		break;
	}
	r->in.event = header(c, "X-GitHub-Event");
	r->in.signature = header(c, "X-Hub-Signature-256");
	r->in.delivery = header(c, "X-GitHub-Delivery");
	r->in.content_length = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (wb_webhook_headers(&r->h->cfg->hook, &r->in, &r->d) != 0) {
		log_delivery(&r->d, r->d.status, r->d.outcome);
		return reply(c, r, r->d.status, NULL);
	}
	/* Checked by wb_webhook_headers(): at most WB_HOOK_BODY_MAX. Only
	 * bytes that arrive are held (gather()), never a promise. */
	if (r->in.content_length != NULL)
		r->declared = strtoul(r->in.content_length, NULL, 10);
	/* A large body that would not fit now is refused before it comes,
	 * which is when MHD can still answer. */
	if (r->declared > WB_HOOK_BUDGET_SMALL &&
	    !wb_hook_budget_fits(r->cs != NULL ? r->cs->slot : 0,
	    r->declared)) {
		r->refused = 1;
		log_delivery(&r->d, 503, "too many large bodies at once");
		return reply(c, r, 503, NULL);
	}
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
	if (r->answered || r->refused)
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
			/*
			 * MHD 0.9 cannot answer in the middle of a body: what
			 * was held is given back, the rest is read and
			 * dropped, and the 503 goes once it is all in (or the
			 * connection is cut when it is too slow).
			 */
			release(r);
			free(r->body);
			r->body = NULL;
			r->cap = 0;
			r->refused = 1;
			return MHD_YES;
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
	wb_webhook_decide(&r->h->cfg->hook, &r->in, &r->d);
	if (r->d.enqueue) {
		hand_over(r->h, c, r);
		return MHD_YES;
	}
	log_delivery(&r->d, r->d.status, r->d.outcome);
	return reply(c, r, r->d.status, NULL);
}

/*
 * The answer to GET /metrics once Redis answered: the shared families
 * (only wb_redis_up 0 when Redis failed: still a 200, so that the
 * deliveries, which say most when Redis is down, are scraped), then the
 * deliveries counted.
 */
static MHD_RESULT
reply_metrics(struct MHD_Connection *c, struct req *r)
{
	struct MHD_Response *resp;
	MHD_RESULT ret;

	if (r->item.failed) {
		wb_warn_limited("metrics", "metrics: wb_redis_up 0: %s",
		    r->item.why);
		wb_metrics_render(&r->m, 0, NULL, 0, NULL);
	}
	render_deliveries(&r->m);
	r->answered = 1;
	resp = MHD_create_response_from_buffer(r->m.len, r->m.text,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    WB_METRICS_CONTENT_TYPE);
	if (r->h->stopping)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Called again once Redis answered for the request. */
static MHD_RESULT
resumed(struct MHD_Connection *c, struct req *r)
{
	char outcome[300];

	if (!r->item.done)
		return MHD_YES;
	if (r->route == WB_HOOK_METRICS)
		return reply_metrics(c, r);
	if (r->route == WB_HOOK_HEALTH) {
		/* What a delivery would get now, and why. */
		if (!r->item.failed)
			return reply(c, r, 200, NULL);
		wb_warn_limited("healthz", "healthz: 503 %s", r->item.why);
		snprintf(outcome, sizeof outcome, "deliveries get 503: %s\n",
		    r->item.why);
		return reply_text(c, r, 503, outcome, NULL);
	}
	if (r->item.failed) {
		snprintf(outcome, sizeof outcome, "not queued: %s", r->item.why);
		log_delivery(&r->d, 503, outcome);
		return reply(c, r, 503, NULL);
	}
	log_delivery(&r->d, r->d.status, r->d.outcome);
	return reply(c, r, r->d.status, NULL);
}

/* MHD's access handler: the three phases of a request, then resumed. */
static MHD_RESULT
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data, size_t *size,
    void **req_cls)
{
	struct wb_hook_http *h = cls;
	struct req *r = *req_cls;

	(void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof *r)) == NULL)
			return MHD_NO;
		r->h = h;
		r->start = wb_clock_ms();
		r->cs = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_SOCKET_CONTEXT)->socket_context;
		if (r->cs != NULL)
			r->cs->r = r;
		*req_cls = r;
		h->inflight++;
		return begin(c, r, method, url);
	}
	if (r->waiting)
		return resumed(c, r);
	if (*size > 0)
		return gather(c, r, data, size);
	if (r->answered)
		return MHD_YES;
	if (r->refused) {
		log_delivery(&r->d, 503, "too many large bodies at once");
		return reply(c, r, 503, NULL);
	}
	return finish(c, r);
}

/* MHD_OPTION_NOTIFY_COMPLETED: free the request. */
static void
completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct wb_hook_http *h = cls;
	struct req *r = *req_cls;

	(void)c;
	if (r == NULL)
		return;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !r->answered &&
	    r->route == WB_HOOK_RECEIVE)
		wb_debug("delivery %s: connection ended before an answer (%d)",
		    r->d.delivery, (int)toe);
	release(r);
	wb_metrics_free(&r->m);
	if (r->cs != NULL) {
		r->cs->r = NULL;
		r->cs->since = wb_clock_ms();
	}
	free(r->body);
	free(r);
	*req_cls = NULL;
	h->inflight--;
}

/* The body budget slot the client address of 'c' counts against. */
static unsigned
addr_slot(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	return wb_hook_budget_slot(i != NULL ? i->client_addr : NULL);
}

/* Shut down 'k' (MHD closes it next), once. */
static void
cut(struct wb_hook_conn *k)
{
	if (!k->shut)
		shutdown(k->fd, SHUT_RDWR);
	k->shut = 1;
}

/*
 * Near the connection limit, a new connection makes room: the oldest one
 * that is not sending a request (idle, or still on its headers) other
 * than 'k' is closed, so that idle connections, however many, cannot
 * keep out those that come with a request.
 */
static void
make_room(struct wb_hook_http *h, struct wb_hook_conn *k)
{
	struct wb_hook_conn *old;

	if (h->nconns <= NEAR_LIMIT(h->limit))
		return;
	for (old = h->conns_tail; old != NULL; old = old->prev)
		if (old != k && old->r == NULL && !old->shut)
			break;
	if (old == NULL)
		return;
	wb_warn_limited("near the connection limit", "near the connection "
	    "limit (%d of %d): closing the connections that send no request",
	    h->nconns, h->limit);
	cut(old);
}

/* MHD_OPTION_NOTIFY_CONNECTION: keep 'conns' up to date. */
static void
notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct wb_hook_http *h = cls;
	struct wb_hook_conn *k = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((k = calloc(1, sizeof *k)) == NULL)
			return;	/* not tracked: MHD's idle timeout still holds */
		k->fd = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD)->connect_fd;
		k->slot = addr_slot(c);
		k->since = wb_clock_ms();
		if ((k->next = h->conns) != NULL)
			h->conns->prev = k;
		else
			h->conns_tail = k;
		h->conns = k;
		h->nconns++;
		*socket_context = k;
		make_room(h, k);
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
		h->conns = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	else
		h->conns_tail = k->prev;
	h->nconns--;
	free(k);
	*socket_context = NULL;
}

/*
 * Shut down the connections out of time: headers not complete within
 * header_ms of accept (or of the previous request's end), or a body not
 * complete within BODY_TIMES times that. MHD then closes them.
 */
void
wb_hook_http_sweep(struct wb_hook_http *h)
{
	long long now = wb_clock_ms(), header_ms = h->cfg->header_ms;
	long long idle_ms = header_ms;

	if (now < h->next_sweep)
		return;
	if (h->nconns > NEAR_LIMIT(h->limit) && idle_ms > NEAR_IDLE_MS)
		idle_ms = NEAR_IDLE_MS;
	for (struct wb_hook_conn *k = h->conns; k != NULL; k = k->next) {
		struct req *r = k->r;

		if (r == NULL && !k->shut && now - k->since > idle_ms) {
			wb_debug("closing a connection: no request headers "
			    "within %lld ms", idle_ms);
			cut(k);
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
	h->next_sweep = wb_clock_ms() + SWEEP_MS;
	wb_warn_flush();
}

/* 's' without its trailing newlines. */
static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512], cause[96];

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	chomp(msg);
	/* Its cause is its format: "Server reached connection limit" comes
	 * once per connection refused, thousands a second. */
	snprintf(cause, sizeof cause, "libmicrohttpd: %s", fmt);
	chomp(cause);
	wb_warn_limited(cause, "libmicrohttpd: %s", msg);
}

void
wb_hook_http_start_or_die(struct wb_hook_http *h,
    const struct wb_hook_http_config *cfg, int fd,
    struct wb_hook_batcher *batcher)
{
	unsigned n = cfg->loops;

	*h = (struct wb_hook_http){ .cfg = cfg, .batcher = batcher,
	    .limit = (int)((CONN_LIMIT + n - 1) / n) };
	h->accepted = make_response(202, NULL, NULL, 0);
	h->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (CONN_PER_IP + n - 1) / n,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MAX,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_conn, h,
	    MHD_OPTION_END);
	if (h->daemon == NULL)
		wb_die(WB_EXIT_TEMP, "unable to start the HTTP server");
}

int
wb_hook_http_fd(const struct wb_hook_http *h)
{
	return MHD_get_daemon_info(h->daemon,
	    MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
}

long long
wb_hook_http_wait_ms(const struct wb_hook_http *h, long long ms)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (h->resumed_some)
		return 0;
	if (MHD_get_timeout(h->daemon, &t) == MHD_YES && (long long)t < ms)
		ms = (long long)t;
	return ms;
}

void
wb_hook_http_run(struct wb_hook_http *h)
{
	MHD_run(h->daemon);
}

void
wb_hook_http_quiesce(struct wb_hook_http *h)
{
	MHD_socket fd;

	h->stopping = 1;
	fd = MHD_quiesce_daemon(h->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

void
wb_hook_http_stop(struct wb_hook_http *h)
{
	MHD_stop_daemon(h->daemon);
	if (h->accepted != NULL)
		MHD_destroy_response(h->accepted);
}
