/* wb — stderr messages: "prog: level: message", one line per event. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_err.h"

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

void
wb_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("fatal", 0, fmt, ap);
	va_end(ap);
	exit(code);
}

void
wb_diesys(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("fatal", 1, fmt, ap);
	va_end(ap);
	exit(code);
}

void
wb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("warning", 0, fmt, ap);
	va_end(ap);
}

void
wb_warnsys(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("warning", 1, fmt, ap);
	va_end(ap);
}

void
wb_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("info", 0, fmt, ap);
	va_end(ap);
}

void
wb_debug(const char *fmt, ...)
{
	static int enabled = -1;
	va_list ap;

	if (enabled < 0) {
		const char *d = getenv("WB_DEBUG");
		enabled = d != NULL && *d != '\0';
	}
	if (!enabled)
		return;
	va_start(ap, fmt);
	emit("debug", 0, fmt, ap);
	va_end(ap);
}

void
wb_dieusage(const char *usage)
{
	fprintf(stderr, "%s: usage: %s\n", wb_prog, usage);
	exit(WB_EXIT_USAGE);
}
