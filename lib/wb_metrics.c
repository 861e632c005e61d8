/* SPDX-License-Identifier: MPL-2.0 */
/* wb — Prometheus text: the writer, the shared families, the notes. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wb_clock.h"
#include "wb_err.h"
#include "wb_metrics.h"
#include "wb_redis.h"
#include "wb_scan.h"
#include "wb_xalloc.h"

/*============================ Writer ============================*/

static void
put(struct wb_metrics *m, const char *s, size_t n)
{
	m->text = wb_xgrow(m->text, m->len + n, &m->cap, 1);
	memcpy(m->text + m->len, s, n);
	m->len += n;
	m->text[m->len] = '\0';
}

static void
put_str(struct wb_metrics *m, const char *s)
{
	put(m, s, strlen(s));
}

static void
putf(struct wb_metrics *m, const char *fmt, ...) WB_PRINTF(2, 3);

static void
putf(struct wb_metrics *m, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		put(m, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void
wb_metrics_init(struct wb_metrics *m)
{
	*m = (struct wb_metrics){ 0 };
	put(m, "", 0);
}

static void
forget_series(struct wb_metrics *m)
{
	for (size_t i = 0; i < m->nseries; i++)
		free(m->series[i]);
	m->nseries = 0;
}

void
wb_metrics_free(struct wb_metrics *m)
{
	forget_series(m);
	for (size_t i = 0; i < m->nfamilies; i++)
		free(m->families[i]);
	free(m->families);
	free(m->series);
	free(m->text);
	*m = (struct wb_metrics){ 0 };
}

static char *
copy(const char *s, size_t n)
{
	char *p = wb_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* 1 when 's' is a metric name (colons: 1) or a label name (0). */
static int
name_ok(const char *s, int colons)
{
	static const char first[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_";
	size_t n = strlen(s);

	if (n == 0 || n > WB_METRICS_NAME_MAX)
		return 0;
	if (strchr(first, s[0]) == NULL && !(colons && s[0] == ':'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (strchr(first, s[i]) == NULL && !(s[i] >= '0' && s[i] <= '9')
		    && !(colons && s[i] == ':'))
			return 0;
	return colons || strncmp(s, "__", 2) != 0;
}

static int
refuse(struct wb_metrics *m)
{
	m->refused++;
	return -1;
}

int
wb_metrics_family(struct wb_metrics *m, const char *name, const char *type,
    const char *help)
{
	/* Refused, it is no family: its samples must not join the last one. */
	m->family[0] = '\0';
	forget_series(m);
	if (!name_ok(name, 1) || (strcmp(type, "counter") != 0 &&
	    strcmp(type, "gauge") != 0 && strcmp(type, "untyped") != 0))
		return refuse(m);
	for (size_t i = 0; i < m->nfamilies; i++)
		if (strcmp(m->families[i], name) == 0)
			return refuse(m);
	m->families = wb_xgrow(m->families, m->nfamilies, &m->capfamilies,
	    sizeof *m->families);
	m->families[m->nfamilies++] = copy(name, strlen(name));
	snprintf(m->family, sizeof m->family, "%s", name);
	m->type = type;
	m->help = help;
	return 0;
}

/* The label set {a="x",b="y"} into *out (malloc'd), or -1 if invalid. */
static int
label_set(const char *const *labels, char **out)
{
	struct wb_metrics s;
	size_t n = 0;

	wb_metrics_init(&s);
	for (; labels != NULL && labels[n] != NULL; n += 2) {
		const char *v = labels[n + 1];

		if (v == NULL || !name_ok(labels[n], 0))
			goto bad;
		for (size_t k = 0; k < n; k += 2)
			if (strcmp(labels[k], labels[n]) == 0)
				goto bad;
		put_str(&s, n == 0 ? "{" : ",");
		put_str(&s, labels[n]);
		put_str(&s, "=\"");
		for (; *v; v++) {
			if (*v == '\\')
				put_str(&s, "\\\\");
			else if (*v == '"')
				put_str(&s, "\\\"");
			else if (*v == '\n')
				put_str(&s, "\\n");
			else if (*v >= 0x20 && *v < 0x7f)
				put(&s, v, 1);
			else
				goto bad;
		}
		put_str(&s, "\"");
	}
	if (n > 0)
		put_str(&s, "}");
	*out = s.text;
	return 0;
bad:
	wb_metrics_free(&s);
	return -1;
}

int
wb_metrics_sample(struct wb_metrics *m, const char *const *labels,
    double value)
{
	char *set;

	if (m->family[0] == '\0' || label_set(labels, &set) < 0)
		return refuse(m);
	for (size_t i = 0; i < m->nseries; i++)
		if (strcmp(m->series[i], set) == 0) {
			free(set);
			return refuse(m);
		}
	if (m->nseries == 0) {
		/* HELP escapes only '\\' and '\n'. */
		put_str(m, "# HELP ");
		put_str(m, m->family);
		put_str(m, " ");
		for (const char *h = m->help; *h; h++)
			if (*h == '\\')
				put_str(m, "\\\\");
			else if (*h == '\n')
				put_str(m, "\\n");
			else
				put(m, h, 1);
		put_str(m, "\n# TYPE ");
		put_str(m, m->family);
		put_str(m, " ");
		put_str(m, m->type);
		put_str(m, "\n");
	}
	m->series = wb_xgrow(m->series, m->nseries, &m->capseries,
	    sizeof *m->series);
	m->series[m->nseries++] = set;
	put_str(m, m->family);
	put_str(m, set);
	if (isnan(value))
		put_str(m, " NaN\n");
	else if (isinf(value))
		put_str(m, value > 0 ? " +Inf\n" : " -Inf\n");
	else if (value == floor(value) && fabs(value) < 9007199254740992.0)
		putf(m, " %.0f\n", value);
	else
		putf(m, " %.17g\n", value);
	return 0;
}

/*============================ Shared families ============================*/

static const char *const stages[WB_METRICS_STAGES] = { WB_METRICS_FETCH,
    WB_METRICS_BULK, WB_METRICS_SQLITE };

static long long
field_value(const redisReply *v)
{
	unsigned long long x;

	if (v->type != REDIS_REPLY_STRING || wb_scan_uint(v->str, v->len, 0,
	    (1ULL << 53), &x, NULL, 0) < 0)
		return -1;
	return (long long)x;
}

void
wb_metrics_notes_parse(const redisReply *r, struct wb_metrics_notes *n)
{
	n->remaining = n->reset = n->seen = -1;
	for (size_t s = 0; s < WB_METRICS_STAGES; s++)
		n->success[s] = -1;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i];
		char name[32];

		if (k->type != REDIS_REPLY_STRING || k->len >= sizeof name)
			continue;
		memcpy(name, k->str, k->len);
		name[k->len] = '\0';
		if (strcmp(name, "github:remaining") == 0)
			n->remaining = field_value(r->element[i + 1]);
		else if (strcmp(name, "github:reset") == 0)
			n->reset = field_value(r->element[i + 1]);
		else if (strcmp(name, "github:seen") == 0)
			n->seen = field_value(r->element[i + 1]);
		for (size_t s = 0; s < WB_METRICS_STAGES; s++)
			if (strncmp(name, stages[s], strlen(stages[s])) == 0 &&
			    strcmp(name + strlen(stages[s]), ":success") == 0)
				n->success[s] = field_value(r->element[i + 1]);
	}
}

int
wb_metrics_notes_read(redisContext *c, struct wb_metrics_notes *n, char *why,
    size_t whylen)
{
	redisReply *r = redisCommand(c, "HGETALL %s", WB_METRICS_KEY);

	wb_metrics_notes_parse(NULL, n);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		snprintf(why, whylen, "unable to read %s: %s", WB_METRICS_KEY,
		    r == NULL ? c->errstr : r->str);
		freeReplyObject(r);
		return -1;
	}
	wb_metrics_notes_parse(r, n);
	freeReplyObject(r);
	return 0;
}

enum { PENDING, LEASED, DEAD, READY, EXPIRED, OLDEST };

static long long
pick(const struct wb_queue_stats *st, int what)
{
	switch (what) {
	case PENDING:
		return st->ready + st->waiting;
	case LEASED:
		return st->claimed;
	case DEAD:
		return st->dead;
	case READY:
		return st->ready;
	case EXPIRED:
		return st->expired;
	default:
		return st->oldest_ready_ms < 0 ? 0 : st->oldest_ready_ms / 1000;
	}
}

/* One sample per queue of the value 'what', labelled with the queue. */
static void
per_queue(struct wb_metrics *m, const struct wb_metrics_queue *q, size_t nq,
    const char *state, int what)
{
	for (size_t i = 0; i < nq; i++) {
		const char *labels[] = { "queue", q[i].name, "state", state,
		    NULL };

		if (state == NULL)
			labels[2] = NULL;
		wb_metrics_sample(m, labels, (double)pick(&q[i].st, what));
	}
}

/* The rate-limit families: remaining, reset, seen. */
static const struct {
	const char *name, *help;
} github[] = {
	{ "wb_github_ratelimit_remaining", "GitHub API requests left in the "
	    "rate-limit window, as last seen." },
	{ "wb_github_ratelimit_reset_timestamp_seconds", "When the GitHub "
	    "rate-limit window resets (Unix time), as last seen." },
	{ "wb_github_ratelimit_seen_timestamp_seconds", "When the GitHub "
	    "rate-limit budget was last seen (Unix time)." },
};

int
wb_metrics_render(struct wb_metrics *m, int redis_up,
    const struct wb_metrics_queue *q, size_t nq,
    const struct wb_metrics_notes *n)
{
	int refused = m->refused;

	wb_metrics_family(m, "wb_redis_up", "gauge",
	    "1 when Redis answered, 0 when it could not be reached.");
	wb_metrics_sample(m, NULL, redis_up ? 1 : 0);
	if (!redis_up)
		return m->refused - refused;

	wb_metrics_family(m, "wb_queue_items", "gauge", "Items of the queue "
	    "by state: pending (not claimed), leased (claimed), dead (parked).");
	per_queue(m, q, nq, "pending", PENDING);
	per_queue(m, q, nq, "leased", LEASED);
	per_queue(m, q, nq, "dead", DEAD);
	wb_metrics_family(m, "wb_queue_ready_items", "gauge",
	    "Pending items idle for the delay: ready to be claimed.");
	per_queue(m, q, nq, NULL, READY);
	wb_metrics_family(m, "wb_queue_expired_leases", "gauge",
	    "Leased items whose lease has run out, not yet handed out again.");
	per_queue(m, q, nq, NULL, EXPIRED);
	wb_metrics_family(m, "wb_queue_oldest_ready_age_seconds", "gauge",
	    "Seconds since the last activity of the oldest ready item, 0 if "
	    "none is ready.");
	per_queue(m, q, nq, NULL, OLDEST);
	if (n == NULL)
		return m->refused - refused;

	for (size_t i = 0; i < sizeof github / sizeof github[0]; i++) {
		long long v = i == 0 ? n->remaining : i == 1 ? n->reset : n->seen;

		wb_metrics_family(m, github[i].name, "gauge", github[i].help);
		if (v >= 0)
			wb_metrics_sample(m, NULL, (double)v);
	}
	wb_metrics_family(m, "wb_last_success_timestamp_seconds", "gauge",
	    "When a stage last succeeded (Unix time): fetch downloaded an "
	    "issue, bulk or sqlite indexed a batch.");
	for (size_t s = 0; s < WB_METRICS_STAGES; s++) {
		const char *labels[] = { "stage", stages[s], NULL };

		if (n->success[s] >= 0)
			wb_metrics_sample(m, labels, (double)n->success[s]);
	}
	return m->refused - refused;
}

/*============================ Notes ============================*/

#define NOTE_EVERY_MS 1000	/* at most one HSET a second */
#define NOTE_TIMEOUT_MS 250	/* to connect, and for a command */
#define NOTE_RETRY_MS 30000	/* after a failure (and its warning), no
				   attempt for so long */

static struct {
	int started;		/* the first note was taken */
	const char *url;	/* WB_REDIS; NULL: notes are not kept */
	redisContext *c;
	long long last_ms, retry_ms;	/* wb_clock_ms() */
	/* What changed since the last HSET; -1: nothing. */
	long long remaining, reset, seen, success[WB_METRICS_STAGES];
} note;

static void
note_fail(const char *what, const char *why)
{
	wb_warn("unable to note metrics in Redis: %s: %s (next try in %ds)",
	    what, why, NOTE_RETRY_MS / 1000);
	if (note.c != NULL)
		redisFree(note.c);
	note.c = NULL;
	note.retry_ms = wb_clock_ms() + NOTE_RETRY_MS;
}

/* Send what changed, unless sent less than a second ago ('force': at exit). */
static void
note_flush(int force)
{
	const char *argv[2 + 2 * (3 + WB_METRICS_STAGES)];
	char vals[3 + WB_METRICS_STAGES][24], names[WB_METRICS_STAGES][32];
	long long *v[3 + WB_METRICS_STAGES];
	const char *fields[3 + WB_METRICS_STAGES];
	long long now = wb_clock_ms();
	int argc = 0;
	redisReply *r;

	if (note.url == NULL || (!force && now - note.last_ms < NOTE_EVERY_MS)
	    || now < note.retry_ms)
		return;
	v[0] = &note.remaining, fields[0] = "github:remaining";
	v[1] = &note.reset, fields[1] = "github:reset";
	v[2] = &note.seen, fields[2] = "github:seen";
	for (size_t s = 0; s < WB_METRICS_STAGES; s++) {
		snprintf(names[s], sizeof names[s], "%s:success", stages[s]);
		v[3 + s] = &note.success[s];
		fields[3 + s] = names[s];
	}
	argv[argc++] = "HSET";
	argv[argc++] = WB_METRICS_KEY;
	for (size_t i = 0; i < 3 + WB_METRICS_STAGES; i++) {
		if (*v[i] < 0)
			continue;
		snprintf(vals[i], sizeof vals[i], "%lld", *v[i]);
		argv[argc++] = fields[i];
		argv[argc++] = vals[i];
	}
	if (argc == 2)
		return;
	note.last_ms = now;
	if (note.c == NULL) {
		char why[512];
		int permanent;

		note.c = wb_redis_open_within(note.url, NOTE_TIMEOUT_MS,
		    NOTE_TIMEOUT_MS, why, sizeof why, &permanent);
		if (note.c == NULL) {
			note_fail("connect", why);
			return;
		}
	}
	r = redisCommandArgv(note.c, argc, argv, NULL);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		char why[256];

		snprintf(why, sizeof why, "%s", r == NULL ? note.c->errstr :
		    r->str);
		freeReplyObject(r);
		note_fail("HSET " WB_METRICS_KEY, why);
		return;
	}
	freeReplyObject(r);
	for (size_t i = 0; i < 3 + WB_METRICS_STAGES; i++)
		*v[i] = -1;
}

static void
note_at_exit(void)
{
	note_flush(1);
	if (note.c != NULL)
		redisFree(note.c);
	note.c = NULL;
}

/* At the first note: find WB_REDIS; 0 when notes are not kept. */
static int
note_start(void)
{
	const char *url;

	if (!note.started) {
		note.started = 1;
		note.remaining = note.reset = note.seen = -1;
		for (size_t s = 0; s < WB_METRICS_STAGES; s++)
			note.success[s] = -1;
		note.last_ms = wb_clock_ms() - NOTE_EVERY_MS;
		if ((url = getenv("WB_REDIS")) != NULL && *url != '\0') {
			note.url = url;
			atexit(note_at_exit);
		}
	}
	return note.url != NULL;
}

void
wb_metrics_note_success(const char *stage)
{
	if (!note_start())
		return;
	for (size_t s = 0; s < WB_METRICS_STAGES; s++)
		if (strcmp(stage, stages[s]) == 0)
			note.success[s] = (long long)time(NULL);
	note_flush(0);
}

void
wb_metrics_note_ratelimit(long long remaining, long long reset)
{
	if (remaining < 0 || !note_start())
		return;
	note.remaining = remaining;
	note.reset = reset;
	note.seen = (long long)time(NULL);
	note_flush(0);
}
