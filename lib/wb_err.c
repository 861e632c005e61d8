/* SPDX-License-Identifier: MPL-2.0 */
/* wb — stderr messages: "prog: level: message", one line per event. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_clock.h"
#include "wb_err.h"

#define CAUSES 64		/* causes followed at once */
#define CAUSE_MAX 96		/* bytes of a cause kept */

const char *wb_prog = "wb";

static void
emit(const char *level, int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	char line[4096];
	int n;

	n = snprintf(line, sizeof line, "%s: %s: ", wb_prog, level);
	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	vsnprintf(line + n, sizeof line - n, fmt, ap);
	/* One event, one line: newlines inside a message would split it. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (with_errno)
		fprintf(stderr, "%s: %s\n", line, strerror(saved));
	else
		fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

/* The body of each variadic function below: emit() its arguments. */
#define EMIT(level, with_errno) do {				\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	emit(level, with_errno, fmt, ap);			\
	va_end(ap);						\
} while (0)

void
wb_die(int code, const char *fmt, ...)
{
	EMIT("fatal", 0);
	exit(code);
}

void
wb_diesys(int code, const char *fmt, ...)
{
	EMIT("fatal", 1);
	exit(code);
}

void
wb_warn(const char *fmt, ...)
{
	EMIT("warning", 0);
}

void
wb_warnsys(const char *fmt, ...)
{
	EMIT("warning", 1);
}

/* A cause of wb_warn_limited(): its interval and what it held back. */
struct cause {
	char text[CAUSE_MAX];
	long long since;	/* ms: its interval began (0: slot free) */
	unsigned printed;	/* lines printed since */
	unsigned long held;	/* warnings not printed since */
};

static struct cause causes[CAUSES];
static pthread_mutex_t causes_lock = PTHREAD_MUTEX_INITIALIZER;

/* The line that reports what 'c' held back; 'c' is then free. */
static void
report_held(struct cause *c, long long now)
{
	if (c->held > 0)
		wb_warn("not logged: %lu more warning%s like \"%s\" in the "
		    "last %lld s", c->held, c->held == 1 ? "" : "s", c->text,
		    (now - c->since + 999) / 1000);
	c->since = 0;
	c->printed = 0;
	c->held = 0;
}

void
wb_warn_limited(const char *cause, const char *fmt, ...)
{
	long long now = wb_clock_ms();
	struct cause *c = NULL, *oldest = &causes[0];
	char line[3000];
	va_list ap;

	pthread_mutex_lock(&causes_lock);
	for (int i = 0; i < CAUSES && c == NULL; i++) {
		if (causes[i].since != 0 &&
		    strncmp(causes[i].text, cause, CAUSE_MAX - 1) == 0)
			c = &causes[i];
		else if (causes[i].since < oldest->since)
			oldest = &causes[i];
	}
	if (c != NULL && now - c->since < WB_WARN_INTERVAL * 1000 &&
	    c->printed >= WB_WARN_BURST) {
		c->held++;
		pthread_mutex_unlock(&causes_lock);
		return;
	}
	if (c == NULL) {
		/* A new cause takes a free slot, or the oldest one's. */
		c = oldest;
		report_held(c, now);
		snprintf(c->text, sizeof c->text, "%s", cause);
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (c->held > 0)
		wb_warn("%s (and %lu more like it in the last %lld s, not "
		    "logged)", line, c->held, (now - c->since + 999) / 1000);
	else
		wb_warn("%s", line);
	if (c->since == 0 || now - c->since >= WB_WARN_INTERVAL * 1000) {
		c->since = now;	/* a new interval */
		c->printed = 0;
	}
	c->printed++;
	c->held = 0;
	pthread_mutex_unlock(&causes_lock);
}

void
wb_warn_flush(void)
{
	long long now = wb_clock_ms();

	pthread_mutex_lock(&causes_lock);
	for (int i = 0; i < CAUSES; i++)
		if (causes[i].since != 0 && causes[i].held > 0 &&
		    now - causes[i].since >= WB_WARN_INTERVAL * 1000)
			report_held(&causes[i], now);
	pthread_mutex_unlock(&causes_lock);
}

void
wb_info(const char *fmt, ...)
{
	EMIT("info", 0);
}

void
wb_debug(const char *fmt, ...)
{
	static int enabled = -1;

	if (enabled < 0) {
		const char *d = getenv("WB_DEBUG");
		enabled = d != NULL && *d != '\0';
	}
	if (!enabled)
		return;
	EMIT("debug", 0);
}

void
wb_dieusage(const char *usage)
{
	fprintf(stderr, "%s: usage: %s\n", wb_prog, usage);
	exit(WB_EXIT_USAGE);
}
